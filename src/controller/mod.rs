//! The controllers, one module per kind, and what they share: the context, the finalizer and
//! status plumbing, events, and backoff.

pub mod capacity_provider;
pub mod cluster;
pub mod refs;
pub mod schedule;
pub mod service;
pub mod task;
pub mod task_definition;

use std::collections::{BTreeMap, HashMap};
use std::fmt::Debug;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::NamespaceResourceScope;
use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::events::{Event, EventType, Recorder, Reporter};
use kube::runtime::predicates;
use kube::runtime::reflector;
use kube::runtime::utils::Predicate;
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Resource, ResourceExt};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::json;

use kube::runtime::reflector::Store;

use crate::api::{ADOPT_ANNOTATION, EcsService, FIELD_MANAGER, FINALIZER};
use crate::ecs::Ecs;
use crate::mapping::conditions::{self, Health};
use crate::mapping::tags::{self, Claim, OwnerIdentity};
use crate::runtime::metrics::Metrics;
use crate::{Error, Result};

/// Everything a reconcile needs, shared by all controllers.
pub struct Context {
    pub client: kube::Client,
    pub ecs: Ecs,
    pub metrics: Arc<Metrics>,
    /// Who publishes the events (the pod name tells replicas apart).
    pub reporter: Reporter,
    /// uid of the kube-system namespace: tells two Kubernetes clusters apart in ECS tags.
    pub cluster_id: String,
    /// How often a Ready object is compared with ECS to correct drift.
    pub resync: Duration,
    failures: Mutex<HashMap<String, u32>>,
    /// The EcsService caches (one per watched namespace scope): which revisions are in use.
    services: Mutex<Vec<Store<EcsService>>>,
}

impl Context {
    pub fn new(
        client: kube::Client,
        ecs: Ecs,
        metrics: Arc<Metrics>,
        cluster_id: String,
        resync: Duration,
    ) -> Self {
        let reporter = Reporter {
            controller: "ecs-operator".into(),
            instance: std::env::var("POD_NAME").ok(),
        };
        Context {
            reporter,
            client,
            ecs,
            metrics,
            cluster_id,
            resync,
            failures: Mutex::default(),
            services: Mutex::default(),
        }
    }

    pub fn add_service_store(&self, store: Store<EcsService>) {
        self.services
            .lock()
            .expect("service stores poisoned")
            .push(store);
    }

    /// Whether every EcsService cache has done its initial list: until then, which revisions are
    /// in use is unknown.
    pub fn service_stores_ready(&self) -> bool {
        use futures::FutureExt;
        let stores = self.services.lock().expect("service stores poisoned");
        !stores.is_empty()
            && stores.iter().all(|s| {
                s.wait_until_ready()
                    .now_or_never()
                    .is_some_and(|r| r.is_ok())
            })
    }

    /// Every EcsService known to the caches.
    pub fn services(&self) -> Vec<Arc<EcsService>> {
        self.services
            .lock()
            .expect("service stores poisoned")
            .iter()
            .flat_map(|s| s.state())
            .collect()
    }

    /// Where `obj` lives in AWS (see [`Ecs::region`]).
    pub fn region<K: Managed>(&self, obj: &K) -> String {
        self.ecs.region(obj.spec_region(), obj.managed_arn())
    }

    pub fn identity<K: Resource>(&self, obj: &K) -> OwnerIdentity {
        OwnerIdentity {
            owner: format!(
                "{}/{}",
                obj.meta().namespace.as_deref().unwrap_or_default(),
                obj.name_any()
            ),
            uid: obj.meta().uid.clone().unwrap_or_default(),
            cluster_id: self.cluster_id.clone(),
        }
    }

    /// Publishes an event on `obj`; a failure to publish is logged, never fatal.
    pub async fn event<K: Resource<DynamicType = ()>>(
        &self,
        obj: &K,
        type_: EventType,
        reason: &str,
        note: String,
    ) {
        let event = Event {
            type_,
            reason: reason.chars().take(128).collect(),
            note: Some(note.chars().take(1024).collect()),
            action: "Reconcile".into(),
            secondary: None,
        };
        // A Recorder folds events of the same reason on one object into a series that keeps the
        // first note; each of ours says something new, so each gets its own Event.
        let recorder = Recorder::new(self.client.clone(), self.reporter.clone());
        if let Err(error) = recorder.publish(&event, &obj.object_ref(&())).await {
            tracing::warn!(%error, object = %obj.name_any(), "could not publish event");
        }
    }

    /// Exponential backoff per object for transient errors: 5s, 10s, 20s ... up to 5 minutes.
    fn backoff(&self, key: &str, error: &Error) -> Duration {
        let mut failures = self.failures.lock().expect("backoff map poisoned");
        let count = failures.entry(key.to_string()).or_insert(0);
        *count = count.saturating_add(1);
        let exponential = Duration::from_secs(5).saturating_mul(1 << (*count - 1).min(6));
        let delay = exponential
            .max(error.requeue_after())
            .min(Duration::from_secs(300));
        // Spread retries (0.8x to 1.2x): objects that failed together, throttled by one burst,
        // must not come back in lockstep and be throttled together again.
        delay.mul_f64(0.8 + 0.4 * fastrand::f64())
    }

    /// Failures in a row of the object with backoff key `key` so far.
    fn failures_of(&self, key: &str) -> u32 {
        self.failures
            .lock()
            .expect("backoff map poisoned")
            .get(key)
            .copied()
            .unwrap_or(0)
    }

    fn succeeded(&self, key: &str) {
        self.failures
            .lock()
            .expect("backoff map poisoned")
            .remove(key);
    }
}

/// Reads the uid of kube-system, the identity of this Kubernetes cluster.
pub async fn cluster_id(client: &kube::Client) -> Result<String> {
    let namespace = Api::<Namespace>::all(client.clone())
        .get("kube-system")
        .await?;
    Ok(namespace.metadata.uid.unwrap_or_default())
}

/// Which changes of a watched object start a reconcile: the spec (generation), annotations
/// (adopt, restartedAt), finalizers and deletion, not the operator's own status writes.
pub fn relevant_change<K: Resource>() -> impl Predicate<K> + Clone {
    predicates::generation
        .combine(predicates::annotations)
        .combine(predicates::finalizers)
}

/// Lets `obj` manage an existing ECS object (`what`, tagged `tags`) per the ownership rules, with an
/// Adopted event when it takes the object over (true then); OwnershipConflict otherwise.
pub async fn claim_existing<K: Managed>(
    ctx: &Context,
    obj: &K,
    tags: &BTreeMap<String, String>,
    what: &str,
) -> Result<bool> {
    let ownership = ctx.identity(obj).judge(tags);
    let adopted = tags::claim(ownership, wants_adoption(obj), what)
        .map_err(Error::OwnershipConflict)?
        == Claim::Adopt;
    if adopted {
        ctx.event(obj, EventType::Normal, "Adopted", format!("adopted {what}"))
            .await;
    }
    Ok(adopted)
}

/// An ECS object tagged as this object's that status never recorded: this object created it and
/// stopped (a crash, a restart) before recording it. Publishes the Created event then (`note`,
/// said to be recorded after a restart), once, as the status write that follows records it; true
/// when it did.
pub async fn announce_recovered_creation<K: Managed>(
    ctx: &Context,
    obj: &K,
    tags: &BTreeMap<String, String>,
    note: &str,
) -> bool {
    if obj.managed_arn().is_some() || ctx.identity(obj).judge(tags) != tags::Ownership::Ours {
        return false;
    }
    // The cache can lag this operator's own last status write: only a fresh read tells.
    let fresh = read_status(&api_for(&ctx.client, obj), obj).await;
    if !matches!(fresh, Ok(Some(ref status)) if managed_arn_of::<K>(status).is_none()) {
        return false;
    }
    let note = format!("{note} (recorded after a restart)");
    ctx.event(obj, EventType::Normal, "Created", note).await;
    true
}

pub fn wants_adoption<K: Resource>(obj: &K) -> bool {
    obj.annotations()
        .get(ADOPT_ANNOTATION)
        .is_some_and(|v| v == "true")
}

pub fn has_finalizer<K: Resource>(obj: &K) -> bool {
    obj.finalizers().iter().any(|f| f == FINALIZER)
}

/// Adds the finalizer, guarded by the resourceVersion so that a concurrent change is not lost.
pub async fn add_finalizer<K>(api: &Api<K>, obj: &K) -> Result<()>
where
    K: Resource + Clone + DeserializeOwned + Debug,
{
    let patch = if obj.finalizers().is_empty() {
        json!([
            {"op": "test", "path": "/metadata/resourceVersion", "value": obj.resource_version()},
            {"op": "add", "path": "/metadata/finalizers", "value": [FINALIZER]}
        ])
    } else {
        json!([
            {"op": "test", "path": "/metadata/resourceVersion", "value": obj.resource_version()},
            {"op": "add", "path": "/metadata/finalizers/-", "value": FINALIZER}
        ])
    };
    let patch: json_patch::Patch = serde_json::from_value(patch)?;
    api.patch(
        &obj.name_any(),
        &PatchParams::default(),
        &Patch::Json::<()>(patch),
    )
    .await?;
    Ok(())
}

/// Removes the finalizer once cleanup is done.
pub async fn remove_finalizer<K>(api: &Api<K>, obj: &K) -> Result<()>
where
    K: Resource + Clone + DeserializeOwned + Debug,
{
    let Some(index) = obj.finalizers().iter().position(|f| f == FINALIZER) else {
        return Ok(());
    };
    let patch: json_patch::Patch = serde_json::from_value(json!([
        {"op": "test", "path": format!("/metadata/finalizers/{index}"), "value": FINALIZER},
        {"op": "remove", "path": format!("/metadata/finalizers/{index}")}
    ]))?;
    match api
        .patch(
            &obj.name_any(),
            &PatchParams::default(),
            &Patch::Json::<()>(patch),
        )
        .await
    {
        Ok(_) => Ok(()),
        // Already gone: nothing holds it any more.
        Err(kube::Error::Api(status)) if status.code == 404 => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Writes the whole status by server-side apply under the operator's field manager. Skipped
/// when nothing changed, so a steady object costs no writes.
pub async fn write_status<K, S>(api: &Api<K>, obj: &K, old: Option<&S>, new: &S) -> Result<()>
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug,
    S: Serialize + PartialEq,
{
    if old == Some(new) {
        return Ok(());
    }
    let patch = json!({
        "apiVersion": K::api_version(&()),
        "kind": K::kind(&()),
        "status": new,
    });
    let params = PatchParams::apply(FIELD_MANAGER).force();
    api.patch_status(&obj.name_any(), &params, &Patch::Apply(patch))
        .await?;
    Ok(())
}

/// The namespaced API of an object's kind.
pub fn api_for<K>(client: &kube::Client, obj: &K) -> Api<K>
where
    K: Resource<Scope = NamespaceResourceScope, DynamicType = ()>,
{
    Api::namespaced(
        client.clone(),
        obj.meta().namespace.as_deref().unwrap_or("default"),
    )
}

/// What a failed reconcile means for the conditions: Stalled when only a change can help,
/// Progressing while waiting on a dependency, Retrying for transient failures. The message is the
/// error's Display, which for ECS errors is one short sentence that is the same on every attempt
/// ("ECS CreateService failed: HTTP 500 Internal Server Error; retrying"), so a retry of the same
/// failure neither rewrites status nor publishes another event.
pub fn health_from_error(error: &Error) -> Health {
    let error = error.inner();
    let message = error.to_string();
    match error {
        Error::DependencyNotReady(message) => {
            Health::progressing("DependencyNotReady", message.clone())
        }
        e if e.is_stalled() => Health::stalled(e.label(), message),
        e => Health::Retrying {
            reason: e.label(),
            message,
        },
    }
}

/// What `error_policy` does for every kind: count it and back off per object.
pub fn backoff_on_error<K: Resource>(
    obj: &K,
    error: &Error,
    ctx: &Context,
    kind: &'static str,
) -> Action {
    ctx.metrics.reconcile_failure(kind, error);
    let delay = ctx.backoff(&backoff_key(obj), error);
    tracing::warn!(kind, object = %obj.name_any(), error = %error, retry_in = ?delay, "reconcile failed");
    Action::requeue(delay)
}

/// Called after every successful reconcile: resets the object's backoff.
pub fn reset_backoff<K: Resource>(obj: &K, ctx: &Context) {
    ctx.succeeded(&backoff_key(obj));
}

/// The key of an object's failure count.
fn backoff_key<K: Resource>(obj: &K) -> String {
    obj.meta().uid.clone().unwrap_or_else(|| obj.name_any())
}

/// Conditions for `health`, and whether they differ from the previous Ready condition (reason or
/// message): a Warning event is published only then, so retries do not spam.
pub fn next_conditions(
    health: &Health,
    generation: Option<i64>,
    previous: &[k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition],
) -> (
    Vec<k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition>,
    bool,
) {
    let next = health.conditions(generation, previous, Timestamp::now());
    let changed = match (
        conditions::find(previous, conditions::READY),
        conditions::find(&next, conditions::READY),
    ) {
        (Some(old), Some(new)) => old.reason != new.reason || old.message != new.message,
        _ => true,
    };
    (next, changed)
}

/// The status every kind carries besides its ECS facts.
pub trait ObjectStatus: Serialize + PartialEq + Clone + Default + Send + Sync {
    fn conditions(&self) -> &[k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition];
    fn set_conditions(
        &mut self,
        conditions: Vec<k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition>,
        generation: Option<i64>,
    );
    fn observed_generation(&self) -> Option<i64>;
}

/// Implements [`ObjectStatus`] for a status struct with `conditions` and `observed_generation`.
macro_rules! object_status {
    ($status:ty) => {
        impl $crate::controller::ObjectStatus for $status {
            fn conditions(&self) -> &[k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition] {
                &self.conditions
            }

            fn set_conditions(
                &mut self,
                conditions: Vec<k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition>,
                generation: Option<i64>,
            ) {
                self.conditions = conditions;
                self.observed_generation = generation;
            }

            fn observed_generation(&self) -> Option<i64> {
                self.observed_generation
            }
        }
    };
}
pub(crate) use object_status;

/// A kind this operator reconciles.
/// The ECS ARN a status records (see [`Managed::managed_arn`]).
fn managed_arn_of<K: Managed>(status: &K::Status) -> Option<String> {
    K::arn_in(status).map(str::to_string)
}

pub trait Managed:
    Resource<DynamicType = (), Scope = NamespaceResourceScope>
    + Clone
    + DeserializeOwned
    + Debug
    + Send
    + Sync
    + 'static
{
    type Status: ObjectStatus;
    const KIND: &'static str;
    fn status(&self) -> Option<&Self::Status>;
    fn spec_region(&self) -> Option<&str>;
    /// The ARN of the ECS object this object manages, as status last recorded it.
    fn managed_arn(&self) -> Option<&str> {
        Self::arn_in(self.status()?)
    }
    /// The ARN a status of this kind records.
    fn arn_in(status: &Self::Status) -> Option<&str>;
}

/// How old an ECS answer a reconcile of `obj` may use (see `ecs::Reader`): a fresh one after a
/// spec change or on a first visit, `poll` old while the object is not Ready, one resync period
/// old when it is (a steady object's resync is then served by its scope's batch refresh).
pub fn read_max_age<K: Managed>(ctx: &Context, obj: &K, poll: Duration) -> Duration {
    let Some(status) = obj.status() else {
        return Duration::ZERO;
    };
    let ready = conditions::find(status.conditions(), conditions::READY)
        .is_some_and(|c| c.status == "True");
    if status.observed_generation() != obj.meta().generation || status.conditions().is_empty() {
        Duration::ZERO
    } else if ready {
        ctx.resync
    } else {
        poll
    }
}

/// The result of bringing ECS in line with the spec.
pub struct Applied<S> {
    pub health: Health,
    /// The status with fresh ECS facts; the driver fills in the conditions.
    pub status: S,
    /// When to look again; the resync period when None.
    pub requeue: Option<Duration>,
}

/// The result of a cleanup attempt.
pub enum Cleanup {
    /// Nothing is left to do; the note goes into the Deleted event.
    Done(String),
    /// Something must go first (services of a cluster, a service draining); said in Ready's message.
    Waiting(String),
}

/// The shape every reconcile shares (Stackable-style pipeline around the kind's own steps):
/// finalizer, first-visit conditions, apply or cleanup, then status, events and requeue.
pub async fn drive<K, A, AF, C, CF>(
    obj: Arc<K>,
    ctx: Arc<Context>,
    apply: A,
    cleanup: C,
) -> Result<Action>
where
    K: Managed,
    A: FnOnce(Arc<K>, Arc<Context>) -> AF,
    AF: Future<Output = Result<Applied<K::Status>>>,
    C: FnOnce(Arc<K>, Arc<Context>) -> CF,
    CF: Future<Output = Result<Cleanup>>,
{
    let _timer = ctx.metrics.reconcile(K::KIND);
    let api = api_for(&ctx.client, obj.as_ref());
    let generation = obj.meta().generation;
    let old = obj.status();
    let previous = old.map(|s| s.conditions().to_vec()).unwrap_or_default();

    if obj.meta().deletion_timestamp.is_some() {
        if !has_finalizer(obj.as_ref()) {
            return Ok(Action::await_change());
        }
        return match cleanup(obj.clone(), ctx.clone()).await {
            Err(Error::Deferred { wait, .. }) => Ok(Action::requeue(wait)),
            Ok(Cleanup::Done(note)) => {
                // Events go out before the change that reveals them (here: the object vanishing),
                // so whoever sees the change also finds the event.
                ctx.event(obj.as_ref(), EventType::Normal, "Deleted", note)
                    .await;
                if let Some(uid) = obj.meta().uid.as_deref() {
                    ctx.metrics.object_state(K::KIND, uid, None);
                }
                remove_finalizer(&api, obj.as_ref()).await?;
                reset_backoff(obj.as_ref(), &ctx);
                Ok(Action::await_change())
            }
            Ok(Cleanup::Waiting(message)) => {
                let health = Health::progressing("Deleting", message);
                let fresh = fresh_status(&api, obj.as_ref()).await;
                let base = fresh.as_ref().or(old);
                let status = base.cloned().unwrap_or_default();
                report(&ctx, &api, obj.as_ref(), base, status, &health, &previous).await?;
                Ok(Action::requeue(Duration::from_secs(10)))
            }
            Err(error) => fail(&ctx, &api, obj.as_ref(), old, &previous, error).await,
        };
    }

    if !has_finalizer(obj.as_ref()) {
        add_finalizer(&api, obj.as_ref()).await?;
    }
    // The cache may lag behind our own last write: only a fresh read tells a first visit.
    let first_visit = old.is_none_or(|s| s.conditions().is_empty())
        && api
            .get_opt(&obj.name_any())
            .await?
            .is_none_or(|fresh| fresh.status().is_none_or(|s| s.conditions().is_empty()));
    if first_visit {
        let mut first = K::Status::default();
        first.set_conditions(
            conditions::initial_conditions(generation, &[], Timestamp::now()),
            generation,
        );
        write_status(&api, obj.as_ref(), old, &first).await?;
    }

    match apply(obj.clone(), ctx.clone()).await {
        // Nothing was sent: come back when the write's token is due, status untouched.
        Err(Error::Deferred { wait, .. }) => Ok(Action::requeue(wait)),
        Ok(applied) => {
            report(
                &ctx,
                &api,
                obj.as_ref(),
                old,
                applied.status,
                &applied.health,
                &previous,
            )
            .await?;
            reset_backoff(obj.as_ref(), &ctx);
            Ok(Action::requeue(applied.requeue.unwrap_or(ctx.resync)))
        }
        Err(error) => fail(&ctx, &api, obj.as_ref(), old, &previous, error).await,
    }
}

/// Writes status for `health`, with a Warning event when a failure is new.
async fn report<K: Managed>(
    ctx: &Context,
    api: &Api<K>,
    obj: &K,
    old: Option<&K::Status>,
    mut status: K::Status,
    health: &Health,
    previous: &[k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition],
) -> Result<()> {
    let generation = obj.meta().generation;
    if let Some(uid) = obj.meta().uid.as_deref() {
        ctx.metrics.object_state(K::KIND, uid, Some(health.state()));
    }
    let (next, changed) = next_conditions(health, generation, previous);
    status.set_conditions(next, generation);
    // The event first: whoever sees the condition also finds its event.
    if changed
        && let Health::Stalled { reason, message }
        | Health::Retrying { reason, message }
        | Health::CheckFailed { reason, message } = health
    {
        ctx.event(obj, EventType::Warning, reason, message.clone())
            .await;
    }
    write_status(api, obj, old, &status).await
}

/// A failed apply or cleanup: conditions and event, then either a slow retry (Stalled: only a
/// change helps, and a spec change triggers at once) or the error, for per-object backoff.
async fn fail<K: Managed>(
    ctx: &Context,
    api: &Api<K>,
    obj: &K,
    old: Option<&K::Status>,
    previous: &[k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition],
    error: Error,
) -> Result<Action> {
    // Keep what the last successful reconcile wrote: the cache may not have it yet.
    let fresh = fresh_status(api, obj).await;
    let base = fresh.as_ref().or(old);
    let status = base.cloned().unwrap_or_default();
    // Whether the failure is new is judged on the fresh conditions too: a reconcile that runs
    // before the cache has this operator's last write would otherwise announce it again.
    let previous = fresh.as_ref().map_or(previous, |s| s.conditions());
    let health = conditions::tolerate(
        health_from_error(&error),
        previous,
        obj.meta().generation,
        ctx.failures_of(&backoff_key(obj)),
    );
    if let Err(write_error) = report(ctx, api, obj, base, status, &health, previous).await {
        tracing::warn!(error = %write_error, "could not write status after a failure");
    }
    match &health {
        Health::Stalled { .. } => {
            ctx.metrics.reconcile_failure(K::KIND, &error);
            Ok(Action::requeue(error.requeue_after()))
        }
        Health::Progressing { .. } => Ok(Action::requeue(error.requeue_after())),
        _ => Err(error),
    }
}

/// The object's status as the API server has it now (the watch cache may lag this operator's own
/// last status write); None when the object or its status is gone.
pub async fn read_status<K: Managed>(api: &Api<K>, obj: &K) -> Result<Option<K::Status>> {
    // A GET of the object itself: the chart grants only patch on /status.
    let fresh = api.get_opt(&obj.name_any()).await?;
    Ok(fresh.and_then(|fresh| fresh.status().cloned()))
}

/// [`read_status`] where a failed read falls back to the cached status.
async fn fresh_status<K: Managed>(api: &Api<K>, obj: &K) -> Option<K::Status> {
    read_status(api, obj).await.unwrap_or_else(|error| {
        tracing::debug!(%error, "could not read the status afresh; using the cached one");
        None
    })
}

/// An Updated event when the spec changed since the last reconcile, DriftCorrected when ECS was
/// changed behind the operator's back.
pub async fn announce_changes<K: Managed>(ctx: &Context, obj: &K, what: &str, fields: &[&str]) {
    let spec_changed =
        obj.status().and_then(ObjectStatus::observed_generation) != obj.meta().generation;
    let (reason, verb) = if spec_changed {
        ("Updated", "updated")
    } else {
        ("DriftCorrected", "corrected drift in")
    };
    ctx.event(
        obj,
        EventType::Normal,
        reason,
        format!("{verb} {what}: {}", fields.join(", ")),
    )
    .await;
}

/// The main watch of a kind: cached in a store (for readiness and cross-references) and
/// filtered to the changes worth a reconcile.
pub fn watched<K: Managed>(api: Api<K>, config: watcher::Config) -> (Controller<K>, Store<K>) {
    let (reader, writer) = reflector::store();
    let stream = watcher(api, config)
        .default_backoff()
        .reflect(writer)
        .applied_objects()
        .predicate_filter(relevant_change(), Default::default());
    (Controller::for_stream(stream, reader.clone()), reader)
}

/// Runs a kind's controller until shutdown, letting in-flight reconciles finish.
pub async fn run<K, R, RF, E>(
    ctx: Arc<Context>,
    controller: Controller<K>,
    concurrency: u16,
    shutdown: impl Future<Output = ()> + Send + Sync + 'static,
    reconcile: R,
    error_policy: E,
) where
    K: Managed,
    R: FnMut(Arc<K>, Arc<Context>) -> RF,
    RF: Future<Output = Result<Action>> + Send + 'static,
    E: Fn(Arc<K>, &Error, Arc<Context>) -> Action,
{
    let mut reconcile = reconcile;
    // Every log line of a reconcile names its object.
    let reconcile = move |obj: Arc<K>, ctx: Arc<Context>| {
        let object = format!(
            "{}/{}/{}",
            K::KIND,
            obj.namespace().unwrap_or_default(),
            obj.name_any()
        );
        let span = tracing::info_span!("reconcile", %object);
        // Its deferred ECS requests hold one slot, however often it is reconciled meanwhile.
        let work = crate::ecs::budget::on_behalf_of(object, reconcile(obj, ctx));
        tracing::Instrument::instrument(work, span)
    };
    controller
        .with_config(kube::runtime::controller::Config::default().concurrency(concurrency))
        .graceful_shutdown_on(shutdown)
        .run(reconcile, error_policy, ctx)
        .for_each(|result| async move {
            if let Err(error) = result {
                tracing::debug!(kind = K::KIND, %error, "reconcile ended with an error");
            }
        })
        .await;
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use aws_sdk_ecs::config::http::HttpResponse;
    use aws_sdk_ecs::error::{ConnectorError, ErrorMetadata, SdkError};
    use aws_sdk_ecs::operation::register_task_definition::RegisterTaskDefinitionError;
    use aws_smithy_types::body::SdkBody;

    use super::*;

    type Failure = SdkError<RegisterTaskDefinitionError, HttpResponse>;

    /// The Error `Ecs::call` makes of an SDK failure (no request is sent).
    async fn through_ecs(failure: Failure) -> Error {
        let ecs = Ecs::new(
            aws_config::SdkConfig::builder().build(),
            Arc::new(Metrics::default()),
            Duration::from_secs(600),
        );
        // A read, so that no write pacing delays the test.
        ecs.call("us-east-1", "DescribeTaskDefinition", async {
            Err::<(), _>(failure)
        })
        .await
        .unwrap_err()
    }

    fn response(status: u16, body: &'static str, attempt: u32) -> HttpResponse {
        let mut response = HttpResponse::new(status.try_into().unwrap(), SdkBody::from(body));
        let headers = response.headers_mut();
        headers.insert("Date", format!("Mon, 02 Mar 2026 10:00:0{attempt} GMT"));
        headers.insert("x-amzn-RequestId", format!("request-{attempt}"));
        response
    }

    fn html_500(attempt: u32) -> Failure {
        let parse = std::io::Error::other("malformed JSON error body: unexpected token '<'");
        let page = "<html><body><h1>500 Internal Server Error</h1></body></html>";
        SdkError::response_error(parse, response(500, page, attempt))
    }

    fn coded(status: u16, code: &str, message: &str, attempt: u32) -> Failure {
        let meta = ErrorMetadata::builder()
            .code(code)
            .message(message)
            .custom("request_id", format!("request-{attempt}"))
            .build();
        SdkError::service_error(
            RegisterTaskDefinitionError::generic(meta),
            response(status, "{}", attempt),
        )
    }

    fn refused() -> Failure {
        let io = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        SdkError::dispatch_failure(ConnectorError::io(io.into()))
    }

    fn timeout() -> Failure {
        SdkError::timeout_error("operation attempt timeout (single attempt) occurred after 3.1s")
    }

    /// Each failure twice, as two attempts would see it: the same Health both times.
    async fn health_twice(failure: impl Fn(u32) -> Failure) -> Health {
        let first = health_from_error(&through_ecs(failure(1)).await);
        let second = health_from_error(&through_ecs(failure(2)).await);
        assert_eq!(first, second);
        first
    }

    fn retrying(reason: &str, message: &str) -> Health {
        Health::Retrying {
            reason: reason.into(),
            message: message.into(),
        }
    }

    #[tokio::test]
    async fn retried_failures_read_the_same_on_every_attempt() {
        assert_eq!(
            health_twice(html_500).await,
            retrying(
                "HttpError500",
                "ECS DescribeTaskDefinition failed: HTTP 500 Internal Server Error; retrying"
            )
        );
        assert_eq!(
            health_twice(|n| coded(400, "ThrottlingException", "Rate exceeded", n)).await,
            retrying(
                "ThrottlingException",
                "ECS DescribeTaskDefinition failed: ECS throttled the request (Rate exceeded); \
                 retrying"
            )
        );
        assert_eq!(
            health_twice(|_| timeout()).await,
            retrying(
                "Timeout",
                "ECS DescribeTaskDefinition failed: no answer from ECS within the timeout; \
                 retrying"
            )
        );
        assert_eq!(
            health_twice(|_| refused()).await,
            retrying(
                "DispatchFailure",
                "ECS DescribeTaskDefinition failed: could not reach the ECS endpoint \
                 (connection refused); retrying"
            )
        );
    }

    #[tokio::test]
    async fn refusals_stall_with_ecs_code_and_message() {
        let message = "Invalid 'cpu' setting for task.";
        assert_eq!(
            health_twice(|n| coded(400, "ClientException", message, n)).await,
            Health::stalled(
                "ClientException",
                "ECS DescribeTaskDefinition refused the request: ClientException: \
                 Invalid 'cpu' setting for task."
            )
        );
    }

    #[tokio::test]
    async fn a_finalizer_wrapper_does_not_change_the_message() {
        let inner = through_ecs(html_500(1)).await;
        let plain = health_from_error(&inner);
        let wrapped = Error::Finalizer(Box::new(kube::runtime::finalizer::Error::CleanupFailed(
            inner,
        )));
        assert_eq!(health_from_error(&wrapped), plain);
    }
}
