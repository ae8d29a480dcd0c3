//! Prometheus metrics: reconciles per kind (count, duration, errors by label), ECS API calls by
//! operation and outcome (throttles included), and leadership.

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
    leader: Gauge<i64, AtomicI64>,
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
        let leader = Gauge::<i64, AtomicI64>::default();
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
            "leader",
            "1 while this replica holds the leader lease",
            leader.clone(),
        );
        Metrics {
            registry,
            reconciles,
            failures,
            duration,
            ecs_calls,
            leader,
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

    pub fn ecs_calls(&self, operation: &'static str, outcome: &'static str) -> u64 {
        self.ecs_calls
            .get_or_create(&CallLabels { operation, outcome })
            .get()
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
