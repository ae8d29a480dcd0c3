//! The ECS access layer: one client per region, every call counted and its errors classified,
//! writes within ECS's token buckets ([`budget`]), and DescribeServices batched (10 per call).

mod autoscaling;
mod batch;
pub mod budget;
mod capacity_provider;
mod errors;
mod health;
pub mod raw;
pub mod revisions;

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_config::SdkConfig;
use aws_sdk_ecs::Client;
use aws_sdk_ecs::error::{ProvideErrorMetadata, SdkError};

pub use batch::{Clusters, Describe, Reader, Services};
use budget::{Budget, Permit};
pub use errors::{CALL_OUTCOMES, classify};
use health::RegionHealth;
use revisions::RevisionSweeps;

use crate::runtime::metrics::Metrics;
use crate::{Error, Result};

/// Shared by all controllers.
#[derive(Clone)]
pub struct Ecs {
    inner: Arc<Inner>,
}

struct Inner {
    base: SdkConfig,
    clients: Mutex<HashMap<String, Client>>,
    /// EventBridge Scheduler clients (EcsScheduledTask), by region.
    schedulers: Mutex<HashMap<String, aws_sdk_scheduler::Client>>,
    /// Application Auto Scaling clients (EcsService spec.autoscaling), by region.
    autoscalers: Mutex<HashMap<String, aws_sdk_applicationautoscaling::Client>>,
    budget: Budget,
    health: RegionHealth,
    metrics: Arc<Metrics>,
    services: Reader<Services>,
    clusters: Reader<Clusters>,
    revisions: RevisionSweeps,
}

impl Ecs {
    /// `resync` is the operator's resync period: how old an answer a steady object accepts, and
    /// so when a cached one is stale enough to ride along in a batch.
    pub fn new(base: SdkConfig, metrics: Arc<Metrics>, resync: Duration) -> Self {
        Ecs {
            inner: Arc::new(Inner {
                base,
                clients: Mutex::default(),
                schedulers: Mutex::default(),
                autoscalers: Mutex::default(),
                budget: Budget::default(),
                health: RegionHealth::default(),
                metrics,
                services: Reader::new(Duration::from_millis(25), resync),
                clusters: Reader::new(Duration::from_millis(25), resync),
                revisions: RevisionSweeps::default(),
            }),
        }
    }

    /// The region an object uses: its own `spec.region`, else the region of the ECS object it
    /// already manages (so changing the operator's region does not move existing objects), else
    /// the operator's.
    pub fn region(&self, spec_region: Option<&str>, managed_arn: Option<&str>) -> String {
        spec_region
            .or_else(|| managed_arn.and_then(arn_region))
            .map(str::to_string)
            .or_else(|| self.inner.base.region().map(|r| r.to_string()))
            .unwrap_or_else(|| "us-east-1".to_string())
    }

    pub fn client(&self, region: &str) -> Client {
        let mut clients = self.inner.clients.lock().expect("client cache poisoned");
        clients
            .entry(region.to_string())
            .or_insert_with(|| {
                let config = aws_sdk_ecs::config::Builder::from(&self.inner.base)
                    .region(aws_config::Region::new(region.to_string()))
                    .interceptor(health::AnswerSeen {
                        health: self.inner.health.clone(),
                        region: region.to_string(),
                    })
                    .build();
                Client::from_conf(config)
            })
            .clone()
    }

    /// The EventBridge Scheduler client of a region (endpoint from `AWS_ENDPOINT_URL_SCHEDULER`
    /// or `AWS_ENDPOINT_URL`, as for ECS). Its calls go through [`Ecs::call`] too: counted,
    /// classified, and failing fast while the region does not answer; the Scheduler's operations
    /// are not in ECS's token buckets, so they are not paced.
    pub fn scheduler(&self, region: &str) -> aws_sdk_scheduler::Client {
        let mut clients = self.inner.schedulers.lock().expect("client cache poisoned");
        clients
            .entry(region.to_string())
            .or_insert_with(|| {
                let config = aws_sdk_scheduler::config::Builder::from(&self.inner.base)
                    .region(aws_config::Region::new(region.to_string()))
                    .build();
                aws_sdk_scheduler::Client::from_conf(config)
            })
            .clone()
    }

    /// Runs one ECS call: only with a token of its bucket (a read may wait a moment for one;
    /// otherwise `Error::Deferred`, without calling ECS); none while the region does not answer but one probe (else the
    /// probe's error at once, see [`health`]); counted by operation and outcome, its error
    /// classified into the operator's Error.
    pub async fn call<T, E, F>(
        &self,
        region: &str,
        operation: &'static str,
        request: F,
    ) -> Result<T>
    where
        F: Future<Output = Result<T, SdkError<E, aws_sdk_ecs::config::http::HttpResponse>>>,
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        loop {
            match self.inner.budget.permit(region, operation) {
                Permit::Go => break,
                Permit::Wait(wait) => tokio::time::sleep(wait).await,
                Permit::Defer(wait) => {
                    tracing::debug!(
                        region,
                        operation,
                        ?wait,
                        "deferred: the request budget is spent"
                    );
                    self.inner.metrics.request_deferred(operation);
                    return Err(Error::Deferred { operation, wait });
                }
            }
        }
        let admitted = self.inner.health.admit(region, operation)?;
        let mut request = std::pin::pin!(request);
        // Every SUSPECT_AFTER, a call still waiting asks whether to go on (see `health`).
        let result = loop {
            match tokio::time::timeout(health::SUSPECT_AFTER, &mut request).await {
                Ok(result) => break result.map_err(|e| errors::to_error(operation, e)),
                Err(_) => admitted.still_waiting(operation)?,
            }
        };
        admitted.finish(match &result {
            Err(Error::Ecs { code, message, .. }) if errors::unreachable(code) => {
                Some((code.clone(), message.clone()))
            }
            _ => None,
        });
        let outcome = match &result {
            Ok(_) => CALL_OUTCOMES[0],
            Err(Error::Ecs { class, .. }) => errors::outcome_label(*class),
            Err(_) => "error",
        };
        self.inner.metrics.ecs_call(operation, outcome);
        result
    }

    /// Batched, cached DescribeServices: an answer at most `max_age` old (see [`Reader`]).
    pub async fn describe_service(
        &self,
        region: &str,
        cluster: &str,
        service: &str,
        max_age: Duration,
    ) -> Result<Option<aws_sdk_ecs::types::Service>> {
        self.inner
            .services
            .describe(self, region, cluster, service, max_age)
            .await
    }

    /// Forgets the cached answer for a service this operator just changed.
    pub fn invalidate_service(&self, region: &str, cluster: &str, service: &str) {
        self.inner.services.invalidate(region, cluster, service);
    }

    /// Batched, cached DescribeClusters of a region (tags, settings, configuration): an answer
    /// at most `max_age` old; None for a cluster ECS does not know or reports INACTIVE.
    pub async fn describe_cluster(
        &self,
        region: &str,
        cluster: &str,
        max_age: Duration,
    ) -> Result<Option<aws_sdk_ecs::types::Cluster>> {
        self.inner
            .clusters
            .describe(self, region, "", cluster, max_age)
            .await
    }

    /// The newest ACTIVE revision ARN of a task definition family, from a sweep of the region's
    /// revisions at most `max_age` old, when a sweep pays (see [`revisions`]).
    pub async fn newest_revision(
        &self,
        region: &str,
        family: &str,
        max_age: Duration,
    ) -> Result<Option<Option<String>>> {
        self.inner
            .revisions
            .newest(self, region, family, max_age)
            .await
    }

    /// Records the revision this operator just registered for `family`.
    pub async fn record_revision(&self, region: &str, family: &str, arn: &str) {
        self.inner.revisions.record(region, family, Some(arn)).await;
    }

    /// The revision ARN `task_definition` names (a family: its newest ACTIVE revision,
    /// `family:revision`, or an ARN, returned as it is), through DescribeTaskDefinition.
    ///
    /// Errors: InvalidSpec when ECS knows no such task definition.
    pub async fn task_definition_arn(&self, region: &str, task_definition: &str) -> Result<String> {
        if task_definition.starts_with("arn:") {
            return Ok(task_definition.to_string());
        }
        let output = self
            .call(
                region,
                "DescribeTaskDefinition",
                self.client(region)
                    .describe_task_definition()
                    .task_definition(task_definition)
                    .send(),
            )
            .await?;
        output
            .task_definition
            .and_then(|t| t.task_definition_arn)
            .ok_or_else(|| {
                Error::InvalidSpec(format!("task definition {task_definition} not found"))
            })
    }

    /// DescribeTaskDefinition of `task_definition` (a family, `family:revision` or an ARN),
    /// tags included, as ECS's JSON: `{"taskDefinition": {...}, "tags": [...]}`.
    pub async fn describe_task_definition_json(
        &self,
        region: &str,
        task_definition: &str,
    ) -> Result<serde_json::Value> {
        let raw = raw::RawJson::default();
        let request = self
            .client(region)
            .describe_task_definition()
            .task_definition(task_definition)
            .include(aws_sdk_ecs::types::TaskDefinitionField::Tags)
            .customize()
            .config_override(aws_sdk_ecs::config::Builder::default().interceptor(raw.clone()))
            .send();
        self.call(region, "DescribeTaskDefinition", request).await?;
        raw.json()
            .ok_or_else(|| Error::empty_response("DescribeTaskDefinition"))
    }

    /// Forgets the cached answer for a cluster this operator just changed.
    pub fn invalidate_cluster(&self, region: &str, cluster: &str) {
        self.inner.clusters.invalidate(region, "", cluster);
    }
}

impl Ecs {
    /// Tags and untags an ECS resource so its tags become the desired ones.
    pub async fn apply_tag_changes(
        &self,
        region: &str,
        arn: &str,
        changes: &crate::mapping::tags::TagChanges,
    ) -> Result<()> {
        let client = self.client(region);
        if !changes.set.is_empty() {
            let tags = crate::mapping::tags::to_ecs(&changes.set);
            self.call(
                region,
                "TagResource",
                client
                    .tag_resource()
                    .resource_arn(arn)
                    .set_tags(Some(tags))
                    .send(),
            )
            .await?;
        }
        if !changes.remove.is_empty() {
            self.call(
                region,
                "UntagResource",
                client
                    .untag_resource()
                    .resource_arn(arn)
                    .set_tag_keys(Some(changes.remove.clone()))
                    .send(),
            )
            .await?;
        }
        Ok(())
    }
}

/// The region field of an ARN (`arn:partition:service:region:account:resource`).
pub fn arn_region(arn: &str) -> Option<&str> {
    match arn.split(':').collect::<Vec<_>>()[..] {
        ["arn", _, _, region, _, ..] if !region.is_empty() => Some(region),
        _ => None,
    }
}

/// The one sentence a failed AWS call reads as (see [`Error::Ecs`]), for one-shot commands (the
/// kubectl plugin, import): "ECS ListTasks failed: HTTP 503 Service Unavailable" and the like.
pub fn sentence<E>(
    operation: &'static str,
    error: SdkError<E, aws_sdk_ecs::config::http::HttpResponse>,
) -> String
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    crate::cli::one_shot(errors::to_error(operation, error))
}

#[cfg(test)]
mod tests {
    use super::arn_region;

    #[test]
    fn reads_the_region_of_an_arn() {
        assert_eq!(
            arn_region("arn:aws:ecs:eu-west-1:123456789012:cluster/web"),
            Some("eu-west-1")
        );
        assert_eq!(
            arn_region("arn:aws-cn:ecs:cn-north-1:123456789012:task-definition/web:3"),
            Some("cn-north-1")
        );
        assert_eq!(arn_region("arn:aws:iam::123456789012:role/x"), None);
        assert_eq!(arn_region("web"), None);
        assert_eq!(arn_region(""), None);
    }
}
