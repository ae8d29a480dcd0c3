//! What an EcsService tells its users besides its conditions and the events of the operator's
//! own changes: ECS's service events mirrored once each, and why the service's tasks stop.

use aws_sdk_ecs::types::{DesiredStatus, Service, Task};
use k8s_openapi::jiff::Timestamp;
use kube::runtime::events::EventType;

use super::super::Context;
use crate::Result;
use crate::api::{EcsService, EcsServiceStatus, StoppedTasksStatus};
use crate::mapping::service::{self as mapping, EventCursor, stopped_tasks};

/// Publishes ECS's own service events that are newer than the cursor in status, once each,
/// and moves the cursor forward in `status`.
pub(super) async fn mirror_events(
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

/// Why the service's tasks stop, while it is not Ready: read when
/// [`stopped_tasks::should_read`] says so, each new reason announced once as a `TaskStopped`
/// Warning; kept while the service runs that revision. A failed read keeps what was known: the reasons
/// only add to a message, and are read again at the next poll.
pub(super) async fn stopped_tasks(
    ctx: &Context,
    obj: &EcsService,
    target: (&str, &str, &str),
    service: &Service,
    task_definition: &str,
    (ready, failed): (bool, bool),
    previous: Option<&StoppedTasksStatus>,
) -> Option<StoppedTasksStatus> {
    // Kept while the revision stays: a crash-looping service is Ready now and then, and its
    // reasons must not be told again each time.
    let previous = stopped_tasks::of_revision(previous, task_definition);
    if ready {
        return previous.filter(|p| !p.reasons.is_empty()).cloned();
    }
    let now = Timestamp::now();
    if !stopped_tasks::should_read(ready, failed, service, previous, now) {
        return previous.cloned();
    }
    let (region, cluster, name) = target;
    let tasks = match read_stopped_tasks(ctx, region, cluster, name).await {
        Ok(tasks) => tasks,
        Err(error) => {
            tracing::debug!(%error, "could not read the service's stopped tasks");
            return previous.cloned();
        }
    };
    let summary = stopped_tasks::summarize(service, task_definition, &tasks, previous, now);
    for reason in stopped_tasks::new_reasons(previous, &summary) {
        let message = format!("a task of ECS service {name} stopped: {}", reason.reason);
        ctx.event(obj, EventType::Warning, "TaskStopped", message)
            .await;
    }
    Some(summary)
}

/// The service's stopped tasks ECS still lists (the newest 100: one ListTasks, one
/// DescribeTasks, which takes up to 100).
async fn read_stopped_tasks(
    ctx: &Context,
    region: &str,
    cluster: &str,
    name: &str,
) -> Result<Vec<Task>> {
    let client = ctx.ecs.client(region);
    let listed = ctx
        .ecs
        .call(
            region,
            "ListTasks",
            client
                .list_tasks()
                .cluster(cluster)
                .service_name(name)
                .desired_status(DesiredStatus::Stopped)
                .max_results(100)
                .send(),
        )
        .await?;
    let arns = listed.task_arns.unwrap_or_default();
    if arns.is_empty() {
        return Ok(Vec::new());
    }
    let described = ctx
        .ecs
        .call(
            region,
            "DescribeTasks",
            client
                .describe_tasks()
                .cluster(cluster)
                .set_tasks(Some(arns))
                .send(),
        )
        .await?;
    Ok(described.tasks.unwrap_or_default())
}
