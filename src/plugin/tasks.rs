//! `kubectl ecs tasks SERVICE`: a service's running and recently stopped tasks (ECS keeps a
//! stopped task at least an hour), with ECS's stop reason and the failed container's exit code.

use std::time::Duration;

use aws_config::SdkConfig;
use aws_sdk_ecs::types::{DesiredStatus, Task};
use k8s_openapi::jiff::Timestamp;

use super::{Placement, age, table};
use crate::api::EcsService;
use crate::mapping::service::stopped_tasks;

pub async fn tasks(service: &EcsService, aws: &SdkConfig) -> Result<(), String> {
    let placement = Placement::of(service, aws.region().map(|r| r.as_ref()))?;
    let tasks = service_tasks(aws, &placement).await?;
    if tasks.is_empty() {
        crate::outln!("No tasks found.");
        return Ok(());
    }
    let now = Timestamp::now();
    let rows: Vec<Vec<String>> = tasks.iter().map(|t| row(t, now)).collect();
    crate::outln!(
        "{}",
        table::render(
            &["TASK", "STATUS", "REVISION", "STARTED", "STOPPED", "REASON"],
            &rows
        )
    );
    Ok(())
}

/// The service's running tasks, newest first, then its stopped ones, most recently stopped
/// first (ListTasks for each desired status, then DescribeTasks, 100 per call).
pub(super) async fn service_tasks(
    aws: &SdkConfig,
    placement: &Placement,
) -> Result<Vec<Task>, String> {
    let client = ecs_client(aws, &placement.region);
    let mut tasks = Vec::new();
    for desired in [DesiredStatus::Running, DesiredStatus::Stopped] {
        let arns: Vec<String> = client
            .list_tasks()
            .cluster(&placement.cluster)
            .service_name(&placement.service)
            .desired_status(desired)
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .map_err(|e| crate::ecs::sentence("ListTasks", e))?;
        for chunk in arns.chunks(100) {
            let described = client
                .describe_tasks()
                .cluster(&placement.cluster)
                .set_tasks(Some(chunk.to_vec()))
                .send()
                .await
                .map_err(|e| crate::ecs::sentence("DescribeTasks", e))?;
            let mut batch = described.tasks.unwrap_or_default();
            batch.sort_by_key(|t| {
                std::cmp::Reverse(
                    t.stopped_at()
                        .or(t.started_at())
                        .or(t.created_at())
                        .map(|at| at.as_nanos()),
                )
            });
            tasks.extend(batch);
        }
    }
    Ok(tasks)
}

pub(super) fn ecs_client(aws: &SdkConfig, region: &str) -> aws_sdk_ecs::Client {
    let config = aws_sdk_ecs::config::Builder::from(aws)
        .region(aws_config::Region::new(region.to_string()))
        .build();
    aws_sdk_ecs::Client::from_conf(config)
}

/// The ID of a task ARN (its last path segment).
pub(super) fn task_id(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

/// TASK, STATUS, REVISION, STARTED, STOPPED, REASON of one task.
fn row(task: &Task, now: Timestamp) -> Vec<String> {
    let ago = |at: Option<&aws_smithy_types::DateTime>| {
        at.map_or(String::new(), |at| {
            age(Duration::from_secs(
                (now.as_second() - at.secs()).max(0) as u64
            ))
        })
    };
    let stopped = task.last_status() == Some("STOPPED");
    vec![
        task_id(task.task_arn().unwrap_or_default()).to_string(),
        task.last_status().unwrap_or_default().to_string(),
        task_id(task.task_definition_arn().unwrap_or_default()).to_string(),
        ago(task.started_at()),
        ago(task.stopped_at()),
        if stopped {
            stopped_tasks::reason(task)
        } else {
            String::new()
        },
    ]
}

#[cfg(test)]
mod tests {
    use aws_sdk_ecs::types::Container;
    use aws_smithy_types::DateTime;

    use super::*;

    #[test]
    fn a_stopped_task_reads_with_its_reason_and_exit_code() {
        let now = Timestamp::from_second(1_800_000_000).unwrap();
        let task = Task::builder()
            .task_arn("arn:aws:ecs:us-east-1:123456789012:task/apps/0123abcd")
            .task_definition_arn("arn:aws:ecs:us-east-1:123456789012:task-definition/web:7")
            .last_status("STOPPED")
            .started_at(DateTime::from_secs(1_800_000_000 - 600))
            .stopped_at(DateTime::from_secs(1_800_000_000 - 30))
            .stopped_reason("Essential container in task exited")
            .containers(Container::builder().name("web").exit_code(1).build())
            .build();
        assert_eq!(
            row(&task, now),
            [
                "0123abcd",
                "STOPPED",
                "web:7",
                "10m",
                "30s",
                "Essential container in task exited (container web, exit 1)"
            ]
        );
    }
}
