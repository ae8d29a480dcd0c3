//! DescribeServices batching: ECS describes up to 10 services of one cluster per call, and every
//! service reconcile needs a describe. Requests that arrive within a short window for the same
//! region and cluster share calls, so a resync of N services costs about N/10 calls, not N.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_ecs::types::{Service, ServiceField};
use tokio::sync::oneshot;

use super::Ecs;
use crate::error::EcsErrorClass;
use crate::{Error, Result};

/// ECS's limit of services per DescribeServices call.
pub const MAX_PER_CALL: usize = 10;

type Key = (String, String);
type Reply = oneshot::Sender<Result<Option<Service>, BatchError>>;
/// Requests waiting for the next call, per region and cluster.
type Pending = Arc<Mutex<HashMap<Key, Vec<(String, Reply)>>>>;

/// An ECS error shared by every request of a failed batch.
#[derive(Clone, Debug)]
struct BatchError {
    code: String,
    message: String,
    class: EcsErrorClass,
}

#[derive(Clone)]
pub struct ServiceReader {
    window: Duration,
    pending: Pending,
}

impl ServiceReader {
    pub fn new(window: Duration) -> Self {
        ServiceReader {
            window,
            pending: Arc::default(),
        }
    }

    /// Describes one service (with tags); `None` when ECS does not know it.
    pub async fn describe(
        &self,
        ecs: &Ecs,
        region: &str,
        cluster: &str,
        service: &str,
    ) -> Result<Option<Service>> {
        let (reply, answer) = oneshot::channel();
        let key = (region.to_string(), cluster.to_string());
        let first = {
            let mut pending = self.pending.lock().expect("batch map poisoned");
            let waiting = pending.entry(key.clone()).or_default();
            waiting.push((service.to_string(), reply));
            waiting.len() == 1
        };
        if first {
            // The first request of a window flushes it; the rest only wait for their answer.
            let reader = self.clone();
            let ecs = ecs.clone();
            tokio::spawn(async move {
                tokio::time::sleep(reader.window).await;
                let batch = reader
                    .pending
                    .lock()
                    .expect("batch map poisoned")
                    .remove(&key)
                    .unwrap_or_default();
                flush(&ecs, &key, batch).await;
            });
        }
        match answer.await {
            Ok(result) => result.map_err(|e| Error::Ecs {
                operation: "DescribeServices",
                code: e.code,
                message: e.message,
                class: e.class,
            }),
            Err(_) => Err(Error::Ecs {
                operation: "DescribeServices",
                code: "BatchDropped".into(),
                message: "the describe batch was dropped".into(),
                class: EcsErrorClass::Transient,
            }),
        }
    }
}

async fn flush(ecs: &Ecs, (region, cluster): &Key, batch: Vec<(String, Reply)>) {
    let client = ecs.client(region);
    let mut batch = batch;
    while !batch.is_empty() {
        let rest = batch.split_off(batch.len().min(MAX_PER_CALL));
        let chunk = std::mem::replace(&mut batch, rest);
        let names: Vec<String> = unique(chunk.iter().map(|(name, _)| name.clone()));
        let result = ecs
            .call(
                region,
                "DescribeServices",
                client
                    .describe_services()
                    .cluster(cluster)
                    .set_services(Some(names))
                    .include(ServiceField::Tags)
                    .send(),
            )
            .await;
        match result {
            Ok(output) => {
                for (name, reply) in chunk {
                    let found = output
                        .services()
                        .iter()
                        .find(|s| matches_name(s, &name))
                        .cloned();
                    let _ = reply.send(Ok(found));
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
                    },
                    other => BatchError {
                        code: other.label(),
                        message: other.to_string(),
                        class: EcsErrorClass::Transient,
                    },
                };
                for (_, reply) in chunk {
                    let _ = reply.send(Err(shared.clone()));
                }
            }
        }
    }
}

/// A request may name a service or give its ARN.
fn matches_name(service: &Service, name: &str) -> bool {
    service.service_name() == Some(name) || service.service_arn() == Some(name)
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
