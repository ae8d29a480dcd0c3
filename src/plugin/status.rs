//! `kubectl ecs status`, `events` and `restart`: the Kubernetes side of the ECS objects.

use std::time::Duration;

use k8s_openapi::api::events::v1::Event;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use k8s_openapi::jiff::Timestamp;
use kube::api::ListParams;
use kube::core::NamespaceResourceScope;
use kube::{Api, Client, Resource, ResourceExt};
use serde::de::DeserializeOwned;

use super::{age, table};
use crate::api::{
    EcsCapacityProvider, EcsCapacityProviderStatus, EcsCluster, EcsClusterStatus, EcsScheduledTask,
    EcsScheduledTaskStatus, EcsService, EcsServiceStatus, EcsTask, EcsTaskDefinition,
    EcsTaskDefinitionStatus, EcsTaskStatus, RESTARTED_AT_ANNOTATION,
};
use crate::mapping::conditions::READY;

const KINDS: [&str; 6] = [
    "EcsCluster",
    "EcsTaskDefinition",
    "EcsService",
    "EcsTask",
    "EcsScheduledTask",
    "EcsCapacityProvider",
];

/// Every ECS object of `namespace` (None: all namespaces), one line each.
pub async fn status(client: &Client, namespace: Option<&str>) -> Result<(), String> {
    let clusters: Vec<EcsCluster> = list(client, namespace).await?;
    let definitions: Vec<EcsTaskDefinition> = list(client, namespace).await?;
    let services: Vec<EcsService> = list(client, namespace).await?;
    let runs: Vec<EcsTask> = list(client, namespace).await?;
    let schedules: Vec<EcsScheduledTask> = list(client, namespace).await?;
    let providers: Vec<EcsCapacityProvider> = list(client, namespace).await?;
    let mut rows = Vec::new();
    rows.extend(
        clusters
            .iter()
            .map(|c| row(c, c.status.as_ref().map(cluster_state))),
    );
    rows.extend(
        definitions
            .iter()
            .map(|d| row(d, d.status.as_ref().map(definition_state))),
    );
    rows.extend(
        services
            .iter()
            .map(|s| row(s, s.status.as_ref().map(service_state))),
    );
    rows.extend(
        runs.iter()
            .map(|t| row(t, t.status.as_ref().map(run_state))),
    );
    rows.extend(
        schedules
            .iter()
            .map(|s| row(s, s.status.as_ref().map(schedule_state))),
    );
    rows.extend(
        providers
            .iter()
            .map(|p| row(p, p.status.as_ref().map(provider_state))),
    );
    if rows.is_empty() {
        match namespace {
            Some(ns) => crate::outln!("No ECS objects found in namespace {ns}."),
            None => crate::outln!("No ECS objects found."),
        }
        return Ok(());
    }
    let mut header = vec!["KIND", "NAME", "READY", "REASON", "ECS", "MESSAGE"];
    if namespace.is_none() {
        header.insert(0, "NAMESPACE");
    } else {
        rows.iter_mut().for_each(|row| {
            row.remove(0);
        });
    }
    crate::outln!("{}", table::render(&header, &rows));
    Ok(())
}

async fn list<K>(client: &Client, namespace: Option<&str>) -> Result<Vec<K>, String>
where
    K: Resource<DynamicType = (), Scope = NamespaceResourceScope>
        + Clone
        + DeserializeOwned
        + std::fmt::Debug,
{
    let api: Api<K> = match namespace {
        Some(ns) => Api::namespaced(client.clone(), ns),
        None => Api::all(client.clone()),
    };
    api.list(&ListParams::default())
        .await
        .map(|list| list.items)
        .map_err(|e| format!("listing {}: {}", K::kind(&()), crate::cli::kube_message(&e)))
}

/// NAMESPACE, KIND, NAME, READY, REASON, ECS, MESSAGE of one object.
fn row<K>(obj: &K, state: Option<(String, &[Condition])>) -> Vec<String>
where
    K: Resource<DynamicType = ()>,
{
    let (ecs, conditions) = state.unwrap_or_default();
    let ready = conditions.iter().find(|c| c.type_ == READY);
    vec![
        obj.namespace().unwrap_or_default(),
        K::kind(&()).to_string(),
        obj.name_any(),
        ready.map_or("Unknown".into(), |c| c.status.clone()),
        ready.map_or(String::new(), |c| c.reason.clone()),
        ecs,
        ready
            .filter(|c| c.status != "True")
            .map_or(String::new(), |c| c.message.clone()),
    ]
}

/// "apps ACTIVE, 3 services, 5 running tasks".
fn cluster_state(status: &EcsClusterStatus) -> (String, &[Condition]) {
    let mut ecs = status.cluster_name.clone().unwrap_or_default();
    if let Some(state) = &status.status {
        ecs.push_str(&format!(" {state}"));
    }
    if let (Some(services), Some(running)) =
        (status.active_services_count, status.running_tasks_count)
    {
        ecs.push_str(&format!(", {services} services, {running} running tasks"));
    }
    (ecs, &status.conditions)
}

/// "web:7".
fn definition_state(status: &EcsTaskDefinitionStatus) -> (String, &[Condition]) {
    let ecs = match (&status.family, status.revision) {
        (Some(family), Some(revision)) => format!("{family}:{revision}"),
        _ => String::new(),
    };
    (ecs, &status.conditions)
}

/// "web 2/2 running, web:7" (and the primary deployment's rollout state while not COMPLETED,
/// and the range Application Auto Scaling scales it in: ", autoscaled 2..10").
fn service_state(status: &EcsServiceStatus) -> (String, &[Condition]) {
    let mut ecs = status.service_name.clone().unwrap_or_default();
    if let (Some(running), Some(desired)) = (status.running_count, status.desired_count) {
        ecs.push_str(&format!(" {running}/{desired} running"));
    }
    if let Some(arn) = &status.task_definition_arn {
        let short = arn.rsplit('/').next().unwrap_or(arn);
        ecs.push_str(&format!(", {short}"));
    }
    if let Some(state) = status
        .deployments
        .first()
        .and_then(|d| d.rollout_state.as_deref())
        .filter(|s| *s != "COMPLETED")
    {
        ecs.push_str(&format!(" ({state})"));
    }
    if let Some(scaling) = &status.autoscaling
        && let (Some(min), Some(max)) = (scaling.min_capacity, scaling.max_capacity)
    {
        ecs.push_str(&format!(", autoscaled {min}..{max}"));
    }
    (ecs, &status.conditions)
}

/// "Complete 10/10, report:3".
fn run_state(status: &EcsTaskStatus) -> (String, &[Condition]) {
    let parts: Vec<&str> = [status.phase.as_deref(), status.completions.as_deref()]
        .into_iter()
        .flatten()
        .collect();
    let mut ecs = parts.join(" ");
    if let Some(arn) = &status.task_definition_arn {
        ecs.push_str(&format!(", {}", arn.rsplit('/').next().unwrap_or(arn)));
    }
    (ecs, &status.conditions)
}

/// "ENABLED, report:3".
fn schedule_state(status: &EcsScheduledTaskStatus) -> (String, &[Condition]) {
    let mut ecs = status.state.clone().unwrap_or_default();
    if let Some(arn) = &status.task_definition_arn {
        ecs.push_str(&format!(", {}", arn.rsplit('/').next().unwrap_or(arn)));
    }
    (ecs, &status.conditions)
}

/// "ACTIVE, UPDATE_COMPLETE".
fn provider_state(status: &EcsCapacityProviderStatus) -> (String, &[Condition]) {
    let ecs: Vec<&str> = [status.status.as_deref(), status.update_status.as_deref()]
        .into_iter()
        .flatten()
        .collect();
    (ecs.join(", "), &status.conditions)
}

/// Events of the namespace's ECS objects (or of `name`), oldest first.
pub async fn events(client: &Client, namespace: &str, name: Option<&str>) -> Result<(), String> {
    let api: Api<Event> = Api::namespaced(client.clone(), namespace);
    let mut events: Vec<Event> = api
        .list(&ListParams::default())
        .await
        .map_err(|e| format!("listing events: {}", crate::cli::kube_message(&e)))?
        .items
        .into_iter()
        .filter(|e| {
            e.regarding.as_ref().is_some_and(|r| {
                KINDS.contains(&r.kind.as_deref().unwrap_or_default())
                    && name.is_none_or(|n| r.name.as_deref() == Some(n))
            })
        })
        .collect();
    events.sort_by_key(last_seen);
    if events.is_empty() {
        match name {
            Some(name) => crate::outln!("No events found for {name} in namespace {namespace}."),
            None => crate::outln!("No events found in namespace {namespace}."),
        }
        return Ok(());
    }
    let now = Timestamp::now();
    let rows: Vec<Vec<String>> = events
        .iter()
        .map(|e| {
            let regarding = e.regarding.clone().unwrap_or_default();
            let ago = last_seen(e).map_or(String::new(), |at| {
                age(Duration::from_secs(
                    (now.as_second() - at.as_second()).max(0) as u64,
                ))
            });
            vec![
                ago,
                e.type_.clone().unwrap_or_default(),
                e.reason.clone().unwrap_or_default(),
                format!(
                    "{}/{}",
                    regarding.kind.unwrap_or_default(),
                    regarding.name.unwrap_or_default()
                ),
                e.note.clone().unwrap_or_default(),
            ]
        })
        .collect();
    crate::outln!(
        "{}",
        table::render(&["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"], &rows)
    );
    Ok(())
}

fn last_seen(event: &Event) -> Option<Timestamp> {
    event
        .series
        .as_ref()
        .map(|s| s.last_observed_time.0)
        .or_else(|| event.event_time.as_ref().map(|t| t.0))
        .or_else(|| event.deprecated_last_timestamp.as_ref().map(|t| t.0))
}

/// Sets ecs.operator.dev/restartedAt to now: the operator forces one new deployment.
pub async fn restart(client: &Client, namespace: &str, name: &str) -> Result<(), String> {
    let now = Timestamp::now().to_string();
    super::approval::annotate(client, namespace, name, RESTARTED_AT_ANNOTATION, &now).await?;
    crate::outln!("ecsservice.ecs.operator.dev/{name} restarted ({RESTARTED_AT_ANNOTATION}={now})");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::service::ServiceDeploymentStatus;

    #[test]
    fn a_service_reads_as_its_counts_revision_and_rollout() {
        let status = EcsServiceStatus {
            service_name: Some("web".into()),
            running_count: Some(1),
            desired_count: Some(2),
            task_definition_arn: Some(
                "arn:aws:ecs:us-east-1:123456789012:task-definition/web:7".into(),
            ),
            deployments: vec![ServiceDeploymentStatus {
                rollout_state: Some("IN_PROGRESS".into()),
                ..Default::default()
            }],
            ..Default::default()
        };
        assert_eq!(
            service_state(&status).0,
            "web 1/2 running, web:7 (IN_PROGRESS)"
        );
        let autoscaled = EcsServiceStatus {
            autoscaling: Some(crate::api::AutoscalingStatus {
                min_capacity: Some(2),
                max_capacity: Some(10),
                ..Default::default()
            }),
            ..status
        };
        assert_eq!(
            service_state(&autoscaled).0,
            "web 1/2 running, web:7 (IN_PROGRESS), autoscaled 2..10"
        );
        let cluster = EcsClusterStatus {
            cluster_name: Some("apps".into()),
            status: Some("ACTIVE".into()),
            active_services_count: Some(3),
            running_tasks_count: Some(5),
            ..Default::default()
        };
        assert_eq!(
            cluster_state(&cluster).0,
            "apps ACTIVE, 3 services, 5 running tasks"
        );
    }
}
