//! Prometheus metrics: reconciles per kind (count, duration, errors by label), objects per kind
//! and state (what to alert on), ECS API calls by operation and outcome (throttles included), and
//! leadership.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::AtomicI64;
use std::time::Instant;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabels {
    kind: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ErrorLabels {
    kind: &'static str,
    error: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ObjectLabels {
    kind: &'static str,
    state: &'static str,
}

/// The kinds, and the states an object can be in (from its conditions), for `ecs_operator_objects`.
const KINDS: [&str; 4] = ["EcsCluster", "EcsTaskDefinition", "EcsService", "EcsTask"];
pub const OBJECT_STATES: [&str; 4] = ["ready", "progressing", "retrying", "stalled"];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OperationLabels {
    operation: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CallLabels {
    operation: &'static str,
    outcome: &'static str,
}

pub struct Metrics {
    registry: Registry,
    reconciles: Family<KindLabels, Counter>,
    failures: Family<ErrorLabels, Counter>,
    duration: Family<KindLabels, Histogram>,
    ecs_calls: Family<CallLabels, Counter>,
    deferred: Family<OperationLabels, Counter>,
    leader: Gauge<i64, AtomicI64>,
    objects: Family<ObjectLabels, Gauge>,
    /// The state each object was last reported in, by kind and uid.
    states: Mutex<HashMap<(&'static str, String), &'static str>>,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("ecs_operator");
        let reconciles = Family::<KindLabels, Counter>::default();
        let failures = Family::<ErrorLabels, Counter>::default();
        let duration = Family::<KindLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.005, 2.0, 14))
        });
        let ecs_calls = Family::<CallLabels, Counter>::default();
        let deferred = Family::<OperationLabels, Counter>::default();
        let leader = Gauge::<i64, AtomicI64>::default();
        let objects = Family::<ObjectLabels, Gauge>::default();
        // Every series from the start, so that an alert on stalled objects sees 0, not nothing.
        for kind in KINDS {
            for state in OBJECT_STATES {
                let _ = objects.get_or_create(&ObjectLabels { kind, state });
            }
        }
        registry.register("reconcile", "Reconciles by kind", reconciles.clone());
        registry.register(
            "reconcile_errors",
            "Failed reconciles by kind and error label",
            failures.clone(),
        );
        registry.register(
            "reconcile_duration_seconds",
            "Reconcile duration by kind",
            duration.clone(),
        );
        registry.register(
            "ecs_api_calls",
            "ECS API calls by operation and outcome",
            ecs_calls.clone(),
        );
        registry.register(
            "ecs_requests_deferred",
            "ECS requests put off to a later reconcile because their token bucket was empty",
            deferred.clone(),
        );
        registry.register(
            "leader",
            "1 while this replica holds the leader lease",
            leader.clone(),
        );
        registry.register(
            "objects",
            "Objects by kind and state (ready, progressing, retrying, stalled), as last reconciled",
            objects.clone(),
        );
        Metrics {
            registry,
            reconciles,
            failures,
            duration,
            ecs_calls,
            deferred,
            leader,
            objects,
            states: Mutex::default(),
        }
    }
}

impl Metrics {
    /// Starts timing a reconcile; the measure is recorded when the guard drops.
    pub fn reconcile(&self, kind: &'static str) -> ReconcileTimer<'_> {
        self.reconciles.get_or_create(&KindLabels { kind }).inc();
        ReconcileTimer {
            metrics: self,
            kind,
            start: Instant::now(),
        }
    }

    pub fn reconcile_failure(&self, kind: &'static str, error: &crate::Error) {
        self.failures
            .get_or_create(&ErrorLabels {
                kind,
                error: error.label(),
            })
            .inc();
    }

    pub fn ecs_call(&self, operation: &'static str, outcome: &'static str) {
        self.ecs_calls
            .get_or_create(&CallLabels { operation, outcome })
            .inc();
    }

    /// A request put off because its ECS token bucket was empty ([`crate::ecs::budget`]).
    pub fn request_deferred(&self, operation: &'static str) {
        self.deferred
            .get_or_create(&OperationLabels { operation })
            .inc();
    }

    pub fn ecs_calls(&self, operation: &'static str, outcome: &'static str) -> u64 {
        self.ecs_calls
            .get_or_create(&CallLabels { operation, outcome })
            .get()
    }

    /// Records the state an object was reconciled into (one of [`OBJECT_STATES`]); None once it
    /// is gone.
    pub fn object_state(&self, kind: &'static str, uid: &str, state: Option<&'static str>) {
        let mut states = self.states.lock().expect("object states poisoned");
        let key = (kind, uid.to_string());
        let previous = match state {
            Some(state) => states.insert(key, state),
            None => states.remove(&key),
        };
        if previous == state {
            return;
        }
        if let Some(previous) = previous {
            self.objects
                .get_or_create(&ObjectLabels {
                    kind,
                    state: previous,
                })
                .dec();
        }
        if let Some(state) = state {
            self.objects
                .get_or_create(&ObjectLabels { kind, state })
                .inc();
        }
    }

    /// Forgets the objects `live` no longer knows (deleted without a last reconcile, say when
    /// their finalizer was removed by hand).
    pub fn retain_objects(&self, live: impl Fn(&'static str, &str) -> bool) {
        let mut states = self.states.lock().expect("object states poisoned");
        states.retain(|(kind, uid), state| {
            let keep = live(kind, uid);
            if !keep {
                self.objects
                    .get_or_create(&ObjectLabels { kind, state })
                    .dec();
            }
            keep
        });
    }

    pub fn set_leader(&self, leader: bool) {
        self.leader.set(i64::from(leader));
    }

    /// Text exposition format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)
            .expect("writing to a String cannot fail");
        out
    }
}

pub struct ReconcileTimer<'a> {
    metrics: &'a Metrics,
    kind: &'static str,
    start: Instant,
}

impl Drop for ReconcileTimer<'_> {
    fn drop(&mut self) {
        let seconds = self.start.elapsed().as_secs_f64();
        self.metrics
            .duration
            .get_or_create(&KindLabels { kind: self.kind })
            .observe(seconds);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_are_counted_in_the_state_they_were_last_reconciled_into() {
        let metrics = Metrics::default();
        let count = |state: &str| {
            let line = format!(r#"ecs_operator_objects{{kind="EcsService",state="{state}"}} "#);
            let text = metrics.render();
            let value = text.lines().find_map(|l| l.strip_prefix(line.as_str()));
            value
                .unwrap_or_else(|| panic!("no {line} in {text}"))
                .to_string()
        };
        assert_eq!(count("stalled"), "0", "every series exists from the start");
        metrics.object_state("EcsService", "a", Some("progressing"));
        metrics.object_state("EcsService", "b", Some("progressing"));
        metrics.object_state("EcsService", "a", Some("ready"));
        metrics.object_state("EcsService", "a", Some("ready"));
        metrics.object_state("EcsService", "b", Some("stalled"));
        assert_eq!(
            [count("ready"), count("progressing"), count("stalled")],
            ["1", "0", "1"]
        );
        metrics.object_state("EcsService", "b", None);
        metrics.object_state("EcsService", "never-seen", None);
        assert_eq!([count("ready"), count("stalled")], ["1", "0"]);
        // Gone from the caches without a last reconcile.
        metrics.retain_objects(|_, uid| uid != "a");
        assert_eq!(count("ready"), "0");
    }

    #[test]
    fn renders_reconciles_calls_and_leadership() {
        let metrics = Metrics::default();
        drop(metrics.reconcile("EcsCluster"));
        metrics.reconcile_failure("EcsCluster", &crate::Error::InvalidSpec("x".into()));
        metrics.ecs_call("DescribeServices", "throttled");
        metrics.set_leader(true);
        let text = metrics.render();
        assert!(
            text.contains(r#"ecs_operator_reconcile_total{kind="EcsCluster"} 1"#),
            "{text}"
        );
        assert!(text.contains(
            r#"ecs_operator_reconcile_errors_total{kind="EcsCluster",error="InvalidSpec"} 1"#
        ));
        assert!(text.contains(r#"ecs_operator_ecs_api_calls_total{operation="DescribeServices",outcome="throttled"} 1"#));
        assert!(
            text.contains("ecs_operator_reconcile_duration_seconds_count{kind=\"EcsCluster\"} 1")
        );
        assert!(text.contains("ecs_operator_leader 1"));
    }
}
