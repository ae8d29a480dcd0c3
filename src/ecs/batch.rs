//! Describes in full batches: ECS describes up to 10 services of one cluster per DescribeServices
//! call, and up to 100 clusters per DescribeClusters call, and every reconcile needs a describe.
//!
//! Answers are kept per object. A reconcile says how old an answer it accepts (`max_age`: none
//! after a spec change, a rollout poll's period while a rollout runs, the resync period for a
//! steady object). When one needs a fresh answer, the call that fetches it is filled up with the
//! other objects of the same scope (a service's cluster; a cluster's region) whose answers are
//! older than half the resync period, stalest first, in as many full calls as they take. So a
//! resync of N services of a cluster costs about N/10 calls: the first reconcile that needs a
//! refresh refreshes them all, and the others find a fresh answer. Requests within a short window
//! also share a call.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_ecs::types::{Cluster, ClusterField, Service, ServiceField};
use futures::future::BoxFuture;
use tokio::sync::oneshot;
use tokio::time::Instant;

use super::Ecs;
use crate::error::EcsErrorClass;
use crate::{Error, Result};

/// One describe call of a kind of object.
pub trait Describe: Send + Sync + 'static {
    type Item: Clone + Send + Sync + 'static;
    const OPERATION: &'static str;
    /// ECS's limit of objects per call.
    const MAX_PER_CALL: usize;
    /// Describes `names` of `scope` in one call; the objects ECS knows.
    fn call<'a>(
        ecs: &'a Ecs,
        region: &'a str,
        scope: &'a str,
        names: Vec<String>,
    ) -> BoxFuture<'a, Result<Vec<Self::Item>>>;
    /// Whether `item` is the one requested as `name` (a name or an ARN).
    fn is(item: &Self::Item, name: &str) -> bool;
}

/// DescribeServices of one cluster, tags included.
pub struct Services;

impl Describe for Services {
    type Item = Service;
    const OPERATION: &'static str = "DescribeServices";
    const MAX_PER_CALL: usize = 10;

    fn call<'a>(
        ecs: &'a Ecs,
        region: &'a str,
        cluster: &'a str,
        names: Vec<String>,
    ) -> BoxFuture<'a, Result<Vec<Service>>> {
        Box::pin(async move {
            let request = ecs
                .client(region)
                .describe_services()
                .cluster(cluster)
                .set_services(Some(names))
                .include(ServiceField::Tags)
                .send();
            let output = ecs.call(region, Self::OPERATION, request).await?;
            Ok(output.services.unwrap_or_default())
        })
    }

    fn is(service: &Service, name: &str) -> bool {
        service.service_name() == Some(name) || service.service_arn() == Some(name)
    }
}

/// DescribeClusters with tags, settings and configuration; an INACTIVE cluster counts as gone.
pub struct Clusters;

impl Describe for Clusters {
    type Item = Cluster;
    const OPERATION: &'static str = "DescribeClusters";
    const MAX_PER_CALL: usize = 100;

    fn call<'a>(
        ecs: &'a Ecs,
        region: &'a str,
        _scope: &'a str,
        names: Vec<String>,
    ) -> BoxFuture<'a, Result<Vec<Cluster>>> {
        Box::pin(async move {
            let request = ecs
                .client(region)
                .describe_clusters()
                .set_clusters(Some(names))
                .include(ClusterField::Tags)
                .include(ClusterField::Settings)
                .include(ClusterField::Configurations)
                .send();
            let output = ecs.call(region, Self::OPERATION, request).await?;
            Ok(output
                .clusters
                .unwrap_or_default()
                .into_iter()
                .filter(|c| c.status() != Some("INACTIVE"))
                .collect())
        })
    }

    fn is(cluster: &Cluster, name: &str) -> bool {
        cluster.cluster_name() == Some(name) || cluster.cluster_arn() == Some(name)
    }
}

type Key = (String, String);
type Reply<T> = oneshot::Sender<Result<Option<T>, BatchError>>;

/// An ECS error shared by every request of a failed batch (or its deferral: nothing was sent).
#[derive(Clone, Debug)]
struct BatchError {
    code: String,
    message: String,
    class: EcsErrorClass,
    deferred: Option<Duration>,
}

/// What is known of one object of a scope.
struct Entry<T> {
    /// The last answer (None: ECS does not know the object) and when its call was sent: an
    /// answer is as old as its request.
    answer: Option<(Instant, Option<T>)>,
    /// When a reconcile last asked for it: an object nobody asks about any more is forgotten.
    asked: Option<Instant>,
    /// When the operator last changed it: an answer to a call sent before then is not kept
    /// (it may show the object as it was before the change).
    changed: Option<Instant>,
}

impl<T> Entry<T> {
    /// Keeps the answer to a call sent at `sent`, unless the operator changed the object since.
    fn record(&mut self, sent: Instant, found: Option<T>) {
        if self.changed.is_none_or(|changed| changed < sent) {
            self.answer = Some((sent, found));
        }
    }
}

impl<T> Default for Entry<T> {
    fn default() -> Self {
        Entry {
            answer: None,
            asked: None,
            changed: None,
        }
    }
}

struct ScopeState<T> {
    objects: HashMap<String, Entry<T>>,
    /// Requests of the open window, answered by its flush.
    waiting: Vec<(String, Reply<T>)>,
}

impl<T> Default for ScopeState<T> {
    fn default() -> Self {
        ScopeState {
            objects: HashMap::new(),
            waiting: Vec::new(),
        }
    }
}

/// Batched, cached describes of one kind (see the module doc).
pub struct Reader<D: Describe> {
    window: Duration,
    resync: Duration,
    state: Arc<Mutex<HashMap<Key, ScopeState<D::Item>>>>,
}

impl<D: Describe> Clone for Reader<D> {
    fn clone(&self) -> Self {
        Reader {
            window: self.window,
            resync: self.resync,
            state: self.state.clone(),
        }
    }
}

impl<D: Describe> Reader<D> {
    pub fn new(window: Duration, resync: Duration) -> Self {
        Reader {
            window,
            resync,
            state: Arc::default(),
        }
    }

    /// Describes one object of `scope`, from an answer at most `max_age` old; `None` when ECS
    /// does not know it.
    pub async fn describe(
        &self,
        ecs: &Ecs,
        region: &str,
        scope: &str,
        name: &str,
        max_age: Duration,
    ) -> Result<Option<D::Item>> {
        let (reply, answer) = oneshot::channel();
        let key = (region.to_string(), scope.to_string());
        let first = {
            let mut state = self.state.lock().expect("batch reader poisoned");
            let scope_state = state.entry(key.clone()).or_default();
            let entry = scope_state.objects.entry(name.to_string()).or_default();
            let now = Instant::now();
            entry.asked = Some(now);
            if let Some((at, cached)) = &entry.answer
                && now.duration_since(*at) <= max_age
            {
                return Ok(cached.clone());
            }
            scope_state.waiting.push((name.to_string(), reply));
            scope_state.waiting.len() == 1
        };
        if first {
            // The first request of a window flushes it; the rest only wait for their answer.
            let reader = self.clone();
            let ecs = ecs.clone();
            // The scope's flushes share one holder: a deferred refresh comes back to its slot.
            let holder = format!("{} {}/{}", D::OPERATION, key.0, key.1);
            tokio::spawn(super::budget::on_behalf_of(holder, async move {
                tokio::time::sleep(reader.window).await;
                reader.flush(&ecs, &key).await;
            }));
        }
        match answer.await {
            Ok(result) => result.map_err(|e| match e.deferred {
                Some(wait) => Error::Deferred {
                    operation: D::OPERATION,
                    wait,
                },
                None => Error::Ecs {
                    operation: D::OPERATION,
                    code: e.code,
                    message: e.message,
                    class: e.class,
                },
            }),
            Err(_) => Err(Error::Ecs {
                operation: D::OPERATION,
                code: "BatchDropped".into(),
                message: "the describe batch was dropped".into(),
                class: EcsErrorClass::Transient,
            }),
        }
    }

    /// Forgets the answer for an object the operator just changed, so that the next describe
    /// reads what ECS made of the change; an answer to a call already on its way is not kept
    /// either (it may predate the change).
    pub fn invalidate(&self, region: &str, scope: &str, name: &str) {
        let mut state = self.state.lock().expect("batch reader poisoned");
        let scope_state = state
            .entry((region.to_string(), scope.to_string()))
            .or_default();
        let entry = scope_state.objects.entry(name.to_string()).or_default();
        let now = Instant::now();
        entry.answer = None;
        entry.changed = Some(now);
        entry.asked = Some(now);
    }

    /// Answers the window's requests: the requested names, then the scope's stale ones, in
    /// full calls.
    async fn flush(&self, ecs: &Ecs, key: &Key) {
        let (waiting, names) = {
            let mut state = self.state.lock().expect("batch reader poisoned");
            let Some(scope_state) = state.get_mut(key) else {
                return;
            };
            let waiting = std::mem::take(&mut scope_state.waiting);
            let now = Instant::now();
            forget_unasked(scope_state, now, self.resync);
            let requested: Vec<String> = waiting.iter().map(|(name, _)| name.clone()).collect();
            let names = batch_names(&requested, scope_state, now, self.resync / 2);
            (waiting, names)
        };
        let mut replies: HashMap<String, Vec<Reply<D::Item>>> = HashMap::new();
        for (name, reply) in waiting {
            replies.entry(name).or_default().push(reply);
        }
        let (region, scope) = key;
        for chunk in names.chunks(D::MAX_PER_CALL) {
            let sent = Instant::now();
            match D::call(ecs, region, scope, chunk.to_vec()).await {
                Ok(items) => {
                    let mut state = self.state.lock().expect("batch reader poisoned");
                    let scope_state = state.entry(key.clone()).or_default();
                    for name in chunk {
                        let found = items.iter().find(|item| D::is(item, name)).cloned();
                        scope_state
                            .objects
                            .entry(name.clone())
                            .or_default()
                            .record(sent, found.clone());
                        for reply in replies.remove(name).unwrap_or_default() {
                            let _ = reply.send(Ok(found.clone()));
                        }
                    }
                }
                Err(error) => {
                    let shared = match error {
                        Error::Ecs {
                            code,
                            message,
                            class,
                            ..
                        } => BatchError {
                            code,
                            message,
                            class,
                            deferred: None,
                        },
                        Error::Deferred { wait, .. } => BatchError {
                            code: "Deferred".into(),
                            message: String::new(),
                            class: EcsErrorClass::Transient,
                            deferred: Some(wait),
                        },
                        other => BatchError {
                            code: other.label(),
                            message: other.to_string(),
                            class: EcsErrorClass::Transient,
                            deferred: None,
                        },
                    };
                    for name in chunk {
                        for reply in replies.remove(name).unwrap_or_default() {
                            let _ = reply.send(Err(shared.clone()));
                        }
                    }
                }
            }
        }
    }
}

/// The names one flush describes: every requested one, then the cluster's other services whose
/// answer is older than `stale` (or missing), stalest first, up to the end of the last call.
fn batch_names<T>(
    requested: &[String],
    scope: &ScopeState<T>,
    now: Instant,
    stale: Duration,
) -> Vec<String> {
    let mut names = unique(requested.iter().cloned());
    let mut others: Vec<(Option<Instant>, &String)> = scope
        .objects
        .iter()
        .filter(|(name, _)| !names.contains(name))
        .filter_map(|(name, entry)| match &entry.answer {
            None => Some((None, name)),
            Some((at, _)) if now.duration_since(*at) > stale => Some((Some(*at), name)),
            Some(_) => None,
        })
        .collect();
    others.sort();
    for (_, name) in others {
        names.push(name.clone());
    }
    names
}

/// Drops objects no reconcile asked about for two resync periods (deleted objects).
fn forget_unasked<T>(scope: &mut ScopeState<T>, now: Instant, resync: Duration) {
    scope.objects.retain(|_, entry| {
        entry
            .asked
            .is_some_and(|asked| now.duration_since(asked) <= resync * 2)
    });
}

fn unique(names: impl Iterator<Item = String>) -> Vec<String> {
    let mut seen = Vec::new();
    for name in names {
        if !seen.contains(&name) {
            seen.push(name);
        }
    }
    seen
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(entries: &[(&str, Option<u64>)], now: Instant) -> ScopeState<()> {
        let mut cluster = ScopeState::default();
        for (name, age) in entries {
            cluster.objects.insert(
                name.to_string(),
                Entry {
                    answer: age.map(|age| (now - Duration::from_secs(age), None)),
                    asked: Some(now),
                    changed: None,
                },
            );
        }
        cluster
    }

    #[tokio::test(start_paused = true)]
    async fn a_refresh_takes_along_the_clusters_stale_services_stalest_first() {
        let now = Instant::now() + Duration::from_secs(3600);
        let cluster = state(
            &[
                ("web", Some(400)),
                ("api", Some(590)),
                ("fresh", Some(10)),
                ("new", None),
                ("old", Some(300)),
            ],
            now,
        );
        let names = batch_names(&["web".into()], &cluster, now, Duration::from_secs(200));
        // The requested one first, then never described, then the stalest; the fresh one waits.
        assert_eq!(names, ["web", "new", "api", "old"]);
    }

    #[tokio::test(start_paused = true)]
    async fn nothing_else_is_described_while_the_cluster_is_fresh() {
        let now = Instant::now() + Duration::from_secs(3600);
        let cluster = state(&[("a", Some(5)), ("b", Some(50))], now);
        let names = batch_names(
            &["a".into(), "a".into()],
            &cluster,
            now,
            Duration::from_secs(300),
        );
        assert_eq!(names, ["a"]);
    }

    #[tokio::test(start_paused = true)]
    async fn services_nobody_asks_about_are_forgotten() {
        let now = Instant::now() + Duration::from_secs(3600);
        let mut cluster = state(&[("kept", Some(5))], now);
        cluster.objects.insert(
            "deleted".into(),
            Entry {
                answer: None,
                asked: Some(now - Duration::from_secs(1300)),
                changed: None,
            },
        );
        forget_unasked(&mut cluster, now, Duration::from_secs(600));
        assert_eq!(cluster.objects.keys().collect::<Vec<_>>(), ["kept"]);
    }

    #[tokio::test(start_paused = true)]
    async fn an_answer_sent_before_the_operators_change_is_not_kept() {
        // A refresh sent before a CreateService and answered after it says "no such service":
        // kept, the next reconcile would create the service a second time.
        let sent = Instant::now();
        let mut entry: Entry<&str> = Entry {
            changed: Some(sent + Duration::from_millis(5)),
            ..Entry::default()
        };
        entry.record(sent, None);
        assert!(entry.answer.is_none());
        let later = sent + Duration::from_millis(10);
        entry.record(later, Some("web"));
        assert_eq!(entry.answer, Some((later, Some("web"))));
    }
}
