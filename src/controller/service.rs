//! EcsService controller: creates the ECS service, follows its task definition to the newest
//! revision the moment it is registered, reports Ready only when the rollout has completed, leaves
//! an omitted desiredCount to whoever scales the service, and mirrors ECS's service events.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_ecs::types::{SchedulingStrategy, Service};
use kube::api::Api;
use kube::runtime::controller::{Action, Controller};
use kube::runtime::events::EventType;
use kube::runtime::reflector::Store;
use kube::{Resource, ResourceExt};

use super::refs::{self, Refs, ResolvedTaskDefinition};
use super::{Applied, Cleanup, Context, Managed, drive};
use crate::api::{
    DeletionPolicy, EcsCluster, EcsService, EcsServiceStatus, RESTARTED_AT_ANNOTATION,
};
use crate::error::EcsErrorClass;
use crate::mapping::conditions::{self, Health};
use crate::mapping::service::{self as mapping, EventCursor, Rollout};
use crate::mapping::tags::{self, Ownership};
use crate::{Error, Result};

/// How often a rollout in progress is looked at.
const ROLLOUT_POLL: Duration = Duration::from_secs(10);
/// How often a failed deployment is looked at again (a new revision or spec change comes at once).
const FAILED_POLL: Duration = Duration::from_secs(60);
/// desiredCount at creation when the spec leaves it to an autoscaler.
const INITIAL_DESIRED_COUNT: i32 = 1;

super::object_status!(EcsServiceStatus);

impl Managed for EcsService {
    type Status = EcsServiceStatus;
    const KIND: &'static str = "EcsService";

    fn status(&self) -> Option<&EcsServiceStatus> {
        self.status.as_ref()
    }

    fn spec_region(&self) -> Option<&str> {
        self.spec.region.as_deref()
    }

    fn arn_in(status: &EcsServiceStatus) -> Option<&str> {
        status.service_arn.as_deref()
    }
}

/// Where the service lives (see [`refs::region_of`]).
fn region_of(ctx: &Context, obj: &EcsService, cluster: &str) -> Result<String> {
    refs::region_of(
        ctx,
        &obj.refs(),
        obj.spec.region.as_deref(),
        obj.managed_arn(),
        cluster,
    )
}

impl EcsService {
    /// What its references name.
    fn refs(&self) -> Refs<'_> {
        Refs {
            namespace: refs::namespace_of(self),
            cluster_ref: self.spec.cluster_ref.as_ref(),
            cluster: self.spec.cluster.as_deref(),
            task_definition_ref: self.spec.task_definition_ref.as_ref(),
            task_definition: self.spec.task_definition.as_deref(),
            what: "the service",
        }
    }

    /// The ECS service name: spec.serviceName, else metadata.name.
    pub fn ecs_name(&self) -> String {
        self.spec
            .service_name
            .clone()
            .unwrap_or_else(|| self.name_any())
    }
}

pub async fn reconcile(obj: Arc<EcsService>, ctx: Arc<Context>) -> Result<Action> {
    drive(obj, ctx, apply, cleanup).await
}

pub fn error_policy(obj: Arc<EcsService>, error: &Error, ctx: Arc<Context>) -> Action {
    super::backoff_on_error(obj.as_ref(), error, &ctx, EcsService::KIND)
}

/// The controller, with its watch relations: a service is reconciled when the task definition
/// or cluster it references changes revision or readiness — not at the next resync.
pub fn controller(
    api: Api<EcsService>,
    dependencies: refs::Dependencies,
) -> (Controller<EcsService>, Store<EcsService>) {
    refs::watched(
        api,
        dependencies,
        |s| s.spec.task_definition_ref.as_ref().map(|r| r.name.as_str()),
        |s| s.spec.cluster_ref.as_ref().map(|r| r.name.as_str()),
    )
}

/// Task definition ARNs that services of this operator run or roll out: never pruned.
pub fn task_definitions_in_use(ctx: &Context) -> HashSet<String> {
    ctx.services()
        .iter()
        .filter_map(|s| s.status.as_ref())
        .flat_map(|s| {
            s.task_definition_arn.iter().cloned().chain(
                s.deployments
                    .iter()
                    .filter_map(|d| d.task_definition.clone()),
            )
        })
        .collect()
}

async fn apply(obj: Arc<EcsService>, ctx: Arc<Context>) -> Result<Applied<EcsServiceStatus>> {
    mapping::validate(&obj.spec)?;
    let name = obj.ecs_name();
    let cluster = refs::resolve_cluster(&ctx, &obj.refs()).await?;
    let region = region_of(&ctx, &obj, &cluster)?;
    let ResolvedTaskDefinition {
        arn: task_definition,
        pending,
    } = refs::resolve_task_definition(&ctx, &obj.refs(), &region).await?;
    let identity = ctx.identity(obj.as_ref());
    let desired_tags = tags::desired_tags(&obj.spec.tags, &identity);
    let client = ctx.ecs.client(&region);
    let mut old_status = bookkeeping(&ctx, &obj).await?;
    let restarted_at = obj.annotations().get(RESTARTED_AT_ANNOTATION).cloned();
    let mut applied_generation = old_status.applied_generation;
    let mut last_restarted_at = old_status.last_restarted_at.clone();

    let max_age = read_freshness(&ctx, &obj, &old_status);
    let existing = match ctx
        .ecs
        .describe_service(&region, &cluster, &name, max_age)
        .await
    {
        Ok(service) => service.filter(|s| s.status() != Some("INACTIVE")),
        // spec.cluster names an ECS cluster not managed here: wait for it, as for a clusterRef.
        Err(Error::Ecs {
            class: EcsErrorClass::NotFound,
            ..
        }) => {
            return Err(Error::DependencyNotReady(format!(
                "ECS cluster {cluster} does not exist in {region}"
            )));
        }
        Err(error) => return Err(error),
    };
    let service = match existing {
        None => {
            let desired_count = obj.spec.desired_count.unwrap_or(INITIAL_DESIRED_COUNT);
            let token = mapping::client_token(
                obj.meta().uid.as_deref().unwrap_or_default(),
                old_status.created_at.as_deref(),
            );
            let input = mapping::create_input(
                &obj.spec,
                &name,
                &cluster,
                &task_definition,
                desired_count,
                tags::to_ecs(&desired_tags),
                &token,
            )?;
            let created = ctx
                .ecs
                .call(&region, "CreateService", input.send_with(&client))
                .await;
            ctx.ecs.invalidate_service(&region, &cluster, &name);
            let output = created.map_err(|error| match error {
                // ECS's answer when the name is taken: the service exists after all (an answer
                // read before it was created). Read it again rather than stall on it; the next
                // reconcile updates it, or reports whose it is.
                Error::Ecs { code, message, .. } if message.contains("not idempotent") => {
                    Error::Ecs {
                        operation: "CreateService",
                        code,
                        message: format!(
                            "an ECS service named {name} already exists; reading it again"
                        ),
                        class: EcsErrorClass::Transient,
                    }
                }
                other => other,
            })?;
            let again = if old_status.created_at.is_some() {
                " again (ECS reported the one this object had created as deleted)"
            } else {
                ""
            };
            ctx.event(
                obj.as_ref(),
                EventType::Normal,
                "Created",
                format!("created ECS service {name}{again} running {task_definition} with {desired_count} task(s)"),
            )
            .await;
            applied_generation = obj.meta().generation;
            // A new service deploys anyway: a restartedAt it was created with needs no extra deployment.
            last_restarted_at = restarted_at.clone();
            output
                .service
                .ok_or_else(|| Error::empty_response("CreateService"))?
        }
        Some(current) if current.status() == Some("DRAINING") => {
            return Ok(Applied {
                health: Health::progressing(
                    "Deleting",
                    format!("the ECS service {name} is DRAINING; waiting for it to go"),
                ),
                status: old_status,
                requeue: Some(ROLLOUT_POLL),
            });
        }
        Some(current) => {
            let what = format!("the ECS service {name} in cluster {cluster}");
            super::claim_existing(&ctx, obj.as_ref(), &tags::from_ecs(current.tags()), &what)
                .await?;
            let recovered = super::announce_recovered_creation(
                &ctx,
                obj.as_ref(),
                &tags::from_ecs(current.tags()),
                &format!(
                    "created ECS service {name} running {}",
                    current.task_definition().unwrap_or(&task_definition)
                ),
            )
            .await;
            if recovered {
                // CreateService carried the spec of its day; drift shows anything since.
                old_status.applied_generation = obj.meta().generation;
                applied_generation = obj.meta().generation;
            }
            // A rollback that finished between two looks leaves no FAILED deployment to see:
            // ECS's deployment history says whether the deployment failed, so that its revision
            // is not deployed again as if ECS had drifted (or, for a forced deployment of the
            // running revision, so that the failed restart is told).
            if old_status.failed_task_definition.as_deref() != Some(task_definition.as_str())
                && let Some(id) = mapping::vanished_deployment(
                    &old_status.deployments,
                    &current,
                    &task_definition,
                )
                && let Some(message) = rollback_of(
                    &ctx,
                    &region,
                    &cluster,
                    &name,
                    id,
                    &task_definition,
                    &current,
                )
                .await?
            {
                if current.task_definition() == Some(task_definition.as_str()) {
                    // A forced deployment of the running revision failed and ECS went back to
                    // the tasks it had: the spec's revision runs, but the restart did not happen.
                    ctx.event(
                        obj.as_ref(),
                        EventType::Warning,
                        "DeploymentFailed",
                        message,
                    )
                    .await;
                } else {
                    old_status.failed_task_definition = Some(task_definition.clone());
                    old_status.failure_message = Some(message);
                }
            }
            let target = Target {
                region: &region,
                cluster: &cluster,
                task_definition: &task_definition,
            };
            let updated = update(
                &ctx,
                &obj,
                &target,
                current,
                &desired_tags,
                &old_status,
                restarted_at.as_deref(),
            )
            .await?;
            if updated.sent_spec {
                applied_generation = obj.meta().generation;
            }
            if updated.restarted {
                last_restarted_at = restarted_at.clone();
            }
            updated.service
        }
    };

    let mut status = mapping::status_facts(&service);
    status.created_at = status.created_at.or(old_status.created_at.clone());
    status.selector = Some(mapping::selector(&obj.name_any()));
    status.last_restarted_at = last_restarted_at;
    status.applied_generation = applied_generation;
    status.conditions = old_status.conditions.clone();
    status.observed_generation = old_status.observed_generation;
    mirror_events(&ctx, &obj, &service, &old_status, &mut status).await;

    let rollout = mapping::remember_failure(
        mapping::rollout(&service, &task_definition),
        &service,
        &task_definition,
        old_status.failed_task_definition.as_deref(),
        old_status.failure_message.as_deref(),
    );
    (status.failed_task_definition, status.failure_message) = match &rollout {
        Rollout::Failed { message } => (Some(task_definition.clone()), Some(message.clone())),
        Rollout::Ready => (None, None),
        _ => (
            old_status.failed_task_definition.clone(),
            old_status.failure_message.clone(),
        ),
    };
    let (health, requeue) = match rollout {
        // The watch on the task definition wakes the service when the change is registered.
        Rollout::Ready if let Some(pending) = pending => {
            (Health::progressing("DependencyNotReady", pending), None)
        }
        Rollout::Ready => (
            Health::Ready {
                message: format!("ECS service {name} reached a steady state"),
            },
            None,
        ),
        Rollout::InProgress { message } => (
            Health::progressing("DeploymentInProgress", message),
            Some(ROLLOUT_POLL),
        ),
        Rollout::Failed { message } => (
            Health::stalled("DeploymentFailed", message),
            Some(FAILED_POLL),
        ),
        Rollout::NotActive { status } => (
            Health::progressing(
                "Updating",
                format!("ECS reports service {name} as {status}"),
            ),
            Some(ROLLOUT_POLL),
        ),
    };
    Ok(Applied {
        health,
        status,
        requeue,
    })
}

/// The Failed message when ECS's deployment history (ListServiceDeployments, newest first) shows
/// deployment `id` rolled back; see [`mapping::rolled_back`].
async fn rollback_of(
    ctx: &Context,
    region: &str,
    cluster: &str,
    name: &str,
    id: &str,
    desired: &str,
    current: &Service,
) -> Result<Option<String>> {
    let client = ctx.ecs.client(region);
    let request = client
        .list_service_deployments()
        .cluster(cluster)
        .service(name)
        .max_results(20)
        .send();
    let history = ctx
        .ecs
        .call(region, "ListServiceDeployments", request)
        .await?;
    Ok(mapping::rolled_back(
        history.service_deployments(),
        id,
        desired,
        current,
    ))
}

/// The status as the API server has it now, for what must happen exactly once (sending a spec
/// change, a forced deployment, mirroring an ECS event). The cache a reconcile starts from can
/// lag behind this operator's own last status write (a reconcile queued while the previous one
/// ran): decisions taken from it would repeat those actions, and writing its bookkeeping back
/// would undo them.
async fn bookkeeping(ctx: &Context, obj: &EcsService) -> Result<EcsServiceStatus> {
    let api = super::api_for(&ctx.client, obj);
    let fresh = super::read_status(&api, obj).await?;
    Ok(fresh.or_else(|| obj.status.clone()).unwrap_or_default())
}

/// Where the service lives and what it should run.
struct Target<'a> {
    region: &'a str,
    cluster: &'a str,
    task_definition: &'a str,
}

/// What `update` did.
struct Updated {
    service: Service,
    /// UpdateService carried this generation's spec.
    sent_spec: bool,
    /// UpdateService forced the new deployment restartedAt asked for.
    restarted: bool,
}

/// Brings an existing service in line: its tags first (they record ownership), then one
/// UpdateService when the spec changed since it was last sent, ECS drifted from it (the task
/// definition included: a new revision of the EcsTaskDefinition is drift too), or restartedAt
/// asks for a new deployment.
async fn update(
    ctx: &Context,
    obj: &EcsService,
    target: &Target<'_>,
    current: Service,
    desired_tags: &BTreeMap<String, String>,
    old_status: &EcsServiceStatus,
    restarted_at: Option<&str>,
) -> Result<Updated> {
    let name = obj.ecs_name();
    let generation = obj.meta().generation;
    let conflicts = mapping::immutable_conflicts(&obj.spec, &current);
    if !conflicts.is_empty() {
        return Err(Error::InvalidSpec(format!(
            "ECS service {name} differs from the spec in {}, which ECS cannot change in place; \
             delete and recreate the service (or align the spec)",
            conflicts.join(", ")
        )));
    }

    let spec_changed = old_status.applied_generation != generation;
    let changes = tags::tag_changes(&tags::from_ecs(current.tags()), desired_tags);
    if !changes.is_empty() {
        let arn = current.service_arn().unwrap_or_default();
        ctx.ecs
            .apply_tag_changes(target.region, arn, &changes)
            .await?;
        ctx.ecs
            .invalidate_service(target.region, target.cluster, &name);
        // Announced now: a later write of this reconcile may be deferred or fail.
        let reason = if spec_changed {
            "Updated"
        } else {
            "DriftCorrected"
        };
        let mut note = format!("set the tags of ECS service {name}");
        if !changes.set.is_empty() {
            note.push_str(&format!(
                "; set {}",
                changes.set.keys().cloned().collect::<Vec<_>>().join(", ")
            ));
        }
        if !changes.remove.is_empty() {
            note.push_str(&format!("; removed {}", changes.remove.join(", ")));
        }
        ctx.event(obj, EventType::Normal, reason, note).await;
    }

    let restart = restarted_at.is_some() && restarted_at != old_status.last_restarted_at.as_deref();
    let task_definition = mapping::revision_to_deploy(
        target.task_definition,
        old_status.failed_task_definition.as_deref(),
        current.task_definition(),
        restart,
    );
    let drift = mapping::drift(&obj.spec, task_definition, &current);

    let mut service = current.clone();
    if spec_changed || !drift.is_empty() || restart {
        let force = restart || mapping::changes_capacity_provider_strategy(&obj.spec, &current);
        let input = mapping::update_input(
            &obj.spec,
            &name,
            target.cluster,
            task_definition,
            obj.spec.desired_count,
            force,
        )?;
        let client = ctx.ecs.client(target.region);
        let output = ctx
            .ecs
            .call(target.region, "UpdateService", input.send_with(&client))
            .await?;
        ctx.ecs
            .invalidate_service(target.region, target.cluster, &name);
        service = output.service.unwrap_or(current.clone());
        announce(
            ctx,
            obj,
            &name,
            task_definition,
            &current,
            old_status,
            &drift,
            spec_changed,
        )
        .await;
        if restart {
            let note = format!(
                "forced a new deployment of ECS service {name} ({RESTARTED_AT_ANNOTATION}={})",
                restarted_at.unwrap_or_default()
            );
            ctx.event(obj, EventType::Normal, "Updated", note).await;
        }
    }
    // UpdateService answers without tags; the next describe reads them again.
    Ok(Updated {
        service,
        sent_spec: spec_changed,
        restarted: restart,
    })
}

/// The events of one UpdateService: Updated for a spec change or a new revision to roll out,
/// DriftCorrected for what changed in ECS behind the operator's back.
#[allow(clippy::too_many_arguments)]
async fn announce(
    ctx: &Context,
    obj: &EcsService,
    name: &str,
    task_definition: &str,
    current: &Service,
    old_status: &EcsServiceStatus,
    drift: &[&str],
    spec_changed: bool,
) {
    if drift.contains(&"taskDefinition") {
        let was = current.task_definition().unwrap_or("?");
        // The service ran the desired revision at the last look: someone changed it in ECS.
        if !spec_changed && old_status.task_definition_arn.as_deref() == Some(task_definition) {
            let note = format!(
                "corrected drift in ECS service {name}: taskDefinition was {was}, set back to {task_definition}"
            );
            ctx.event(obj, EventType::Normal, "DriftCorrected", note)
                .await;
        } else {
            let note = format!("ECS service {name} now rolls out {task_definition} (was {was})");
            ctx.event(obj, EventType::Normal, "Updated", note).await;
        }
    }
    let other: Vec<&str> = drift
        .iter()
        .copied()
        .filter(|f| *f != "taskDefinition")
        .collect();
    if spec_changed {
        let generation = obj.meta().generation.unwrap_or_default();
        let mut note = format!("updated ECS service {name} to generation {generation} of the spec");
        if !other.is_empty() {
            note.push_str(&format!(": {}", other.join(", ")));
        }
        ctx.event(obj, EventType::Normal, "Updated", note).await;
    } else if !other.is_empty() {
        let note = format!(
            "corrected drift in ECS service {name}: {}",
            other.join(", ")
        );
        ctx.event(obj, EventType::Normal, "DriftCorrected", note)
            .await;
    }
}

/// Publishes ECS's own service events that are newer than the cursor in status, once each,
/// and moves the cursor forward in `status`.
async fn mirror_events(
    ctx: &Context,
    obj: &EcsService,
    service: &Service,
    old: &EcsServiceStatus,
    status: &mut EcsServiceStatus,
) {
    let cursor = EventCursor::from_status(old);
    let fresh = mapping::events_to_mirror(service.events(), cursor.as_ref());
    for event in &fresh {
        let message = event.message().unwrap_or_default();
        let trouble = ["unable to", "failed", "error", "unhealthy"]
            .iter()
            .any(|w| message.contains(w));
        let (type_, reason) = if trouble {
            (EventType::Warning, "EcsServiceProblem")
        } else {
            (EventType::Normal, "EcsServiceEvent")
        };
        ctx.event(obj, type_, reason, message.to_string()).await;
    }
    match fresh
        .last()
        .and_then(|newest| EventCursor::of(newest))
        .or(cursor)
    {
        Some(cursor) => cursor.write_to(status),
        None => (status.last_event_time, status.last_event_id) = (None, None),
    }
}

/// How old a DescribeServices answer this reconcile may use (see `ecs::ServiceReader`): a fresh
/// one when something asks for an action (a new generation, a first visit, a new restartedAt),
/// one rollout poll old while the service is not Ready, one resync period old when it is.
fn read_freshness(ctx: &Context, obj: &EcsService, old: &EcsServiceStatus) -> Duration {
    let restart_pending =
        obj.annotations().get(RESTARTED_AT_ANNOTATION) != old.last_restarted_at.as_ref();
    if restart_pending || old.conditions.is_empty() {
        Duration::ZERO
    } else {
        super::read_max_age(ctx, obj, ROLLOUT_POLL)
    }
}

async fn cleanup(obj: Arc<EcsService>, ctx: Arc<Context>) -> Result<Cleanup> {
    let name = obj.ecs_name();
    if obj.spec.deletion_policy == DeletionPolicy::Retain {
        return Ok(Cleanup::Done(format!(
            "retained ECS service {name} (deletionPolicy Retain)"
        )));
    }
    // The cluster the service was created on, as recorded; the EcsCluster may be gone already.
    let recorded = obj.status.as_ref().and_then(|s| s.cluster_arn.clone());
    let cluster = match recorded.or_else(|| obj.spec.cluster.clone()) {
        Some(cluster) => cluster,
        None => {
            // The EcsCluster may be going too; its ECS name is all that is needed.
            match refs::referenced::<EcsCluster>(
                &ctx,
                &refs::namespace_of(obj.as_ref()),
                obj.spec.cluster_ref.as_ref(),
            )
            .await?
            {
                (_, Some(cluster)) => cluster.ecs_name(),
                (reference, None) => reference,
            }
        }
    };
    let region = match region_of(&ctx, &obj, &cluster) {
        Ok(region) => region,
        // A region that disagrees with the cluster's never got a service created.
        Err(_) if obj.managed_arn().is_none() => {
            return Ok(Cleanup::Done(format!(
                "no ECS service {name} was created (spec.region and the cluster's disagree)"
            )));
        }
        Err(_) => ctx.region(obj.as_ref()),
    };
    let service = match ctx
        .ecs
        .describe_service(&region, &cluster, &name, Duration::ZERO)
        .await
    {
        Ok(service) => service,
        // The cluster is gone, and the service with it.
        Err(Error::Ecs {
            class: EcsErrorClass::NotFound,
            ..
        }) => None,
        Err(e) => return Err(e),
    };
    let Some(service) = service.filter(|s| s.status() != Some("INACTIVE")) else {
        // Gone after this object's own DeleteService (its Ready condition says it waited for
        // ECS to finish), or gone before.
        let deleting = obj
            .status
            .as_ref()
            .and_then(|s| conditions::find(&s.conditions, conditions::READY))
            .is_some_and(|c| c.reason == "Deleting");
        return Ok(Cleanup::Done(if deleting {
            format!("scaled ECS service {name} to 0 and deleted it")
        } else {
            format!("ECS service {name} is gone")
        }));
    };
    if ctx
        .identity(obj.as_ref())
        .judge(&tags::from_ecs(service.tags()))
        != Ownership::Ours
    {
        return Ok(Cleanup::Done(format!(
            "left ECS service {name} in place: this object does not own it"
        )));
    }
    if service.status() == Some("DRAINING") {
        return Ok(Cleanup::Waiting(format!(
            "waiting for ECS service {name} to finish draining"
        )));
    }
    let client = ctx.ecs.client(&region);
    // A REPLICA service must be scaled to 0 before DeleteService (short of forcing it); a DAEMON
    // service has no count to set.
    let daemon = service.scheduling_strategy() == Some(&SchedulingStrategy::Daemon);
    if !daemon && service.desired_count() > 0 {
        let request = client
            .update_service()
            .cluster(&cluster)
            .service(&name)
            .desired_count(0)
            .send();
        ctx.ecs.call(&region, "UpdateService", request).await?;
    }
    let deleted = match ctx
        .ecs
        .call(
            &region,
            "DeleteService",
            client
                .delete_service()
                .cluster(&cluster)
                .service(&name)
                .send(),
        )
        .await
    {
        Ok(output) => output.service,
        Err(Error::Ecs {
            class: EcsErrorClass::NotFound,
            ..
        }) => None,
        Err(e) => return Err(e),
    };
    match deleted.as_ref().and_then(|s| s.status()) {
        Some("INACTIVE") | None => Ok(Cleanup::Done(format!(
            "scaled ECS service {name} to 0 and deleted it"
        ))),
        Some(status) => Ok(Cleanup::Waiting(format!(
            "scaled ECS service {name} to 0 and deleted it; waiting until ECS reports it INACTIVE (now {status})"
        ))),
    }
}
