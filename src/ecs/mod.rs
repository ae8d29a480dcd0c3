//! The ECS access layer: one client per region, every call counted and its errors classified,
//! writes paced to ECS's per-account rates, and DescribeServices batched (10 per call).

mod batch;
mod errors;
mod pacer;

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_config::SdkConfig;
use aws_sdk_ecs::Client;
use aws_sdk_ecs::error::{ProvideErrorMetadata, SdkError};

pub use batch::ServiceReader;
pub use errors::{CALL_OUTCOMES, classify};
use pacer::Pacer;

use crate::runtime::metrics::Metrics;
use crate::{Error, Result};

/// ECS write rates (sustained, per account and region) the operator stays under.
/// See "Request throttling for the Amazon ECS API" in the ECS developer guide.
const WRITE_RATES: &[(&str, f64)] = &[
    ("RegisterTaskDefinition", 1.0),
    ("DeregisterTaskDefinition", 1.0),
    ("DeleteTaskDefinitions", 1.0),
    ("CreateService", 5.0),
    ("UpdateService", 5.0),
    ("DeleteService", 5.0),
    ("CreateCluster", 1.0),
    ("UpdateCluster", 1.0),
    ("PutClusterCapacityProviders", 1.0),
    ("DeleteCluster", 1.0),
];

/// Shared by all controllers.
#[derive(Clone)]
pub struct Ecs {
    inner: Arc<Inner>,
}

struct Inner {
    base: SdkConfig,
    clients: Mutex<HashMap<String, Client>>,
    pacers: Mutex<HashMap<(String, &'static str), Arc<Pacer>>>,
    metrics: Arc<Metrics>,
    services: ServiceReader,
}

impl Ecs {
    pub fn new(base: SdkConfig, metrics: Arc<Metrics>) -> Self {
        Ecs {
            inner: Arc::new(Inner {
                base,
                clients: Mutex::default(),
                pacers: Mutex::default(),
                metrics,
                services: ServiceReader::new(Duration::from_millis(25)),
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
                    .build();
                Client::from_conf(config)
            })
            .clone()
    }

    /// Runs one ECS call: paced if it writes, counted by operation and outcome, its error
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
        if let Some(pacer) = self.pacer(region, operation) {
            pacer.wait().await;
        }
        let result = request.await.map_err(|e| errors::to_error(operation, e));
        let outcome = match &result {
            Ok(_) => CALL_OUTCOMES[0],
            Err(Error::Ecs { class, .. }) => errors::outcome_label(*class),
            Err(_) => "error",
        };
        self.inner.metrics.ecs_call(operation, outcome);
        result
    }

    /// Batched DescribeServices (see [`ServiceReader`]).
    pub async fn describe_service(
        &self,
        region: &str,
        cluster: &str,
        service: &str,
    ) -> Result<Option<aws_sdk_ecs::types::Service>> {
        self.inner
            .services
            .describe(self, region, cluster, service)
            .await
    }

    fn pacer(&self, region: &str, operation: &'static str) -> Option<Arc<Pacer>> {
        let rate = WRITE_RATES.iter().find(|(op, _)| *op == operation)?.1;
        let mut pacers = self.inner.pacers.lock().expect("pacer map poisoned");
        Some(
            pacers
                .entry((region.to_string(), operation))
                .or_insert_with(|| Arc::new(Pacer::per_second(rate)))
                .clone(),
        )
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
