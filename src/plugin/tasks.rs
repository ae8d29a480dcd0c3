//! `kubectl ecs tasks NAME`: a service's running and recently stopped tasks (ECS keeps a stopped
//! task at least an hour), or an EcsTask's, with ECS's stop reason and the failed container's
//! exit code.

use std::time::Duration;

use aws_config::SdkConfig;
use aws_sdk_ecs::types::{DesiredStatus, Task};
use k8s_openapi::jiff::Timestamp;

use super::{Placement, Workload, age, table};
use crate::mapping::service::stopped_tasks;

pub async fn tasks(workload: &Workload, aws: &SdkConfig) -> Result<(), String> {
    let (tasks, _) = tasks_of(workload, aws).await?;
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

/// The tasks of a service (running, and stopped within the hour ECS keeps them: ListTasks for
/// each desired status) or of an EcsTask (those its status records), described (DescribeTasks,
/// 100 per call) and in [`order`]; and the region they run in.
pub(super) async fn tasks_of(
    workload: &Workload,
    aws: &SdkConfig,
) -> Result<(Vec<Task>, String), String> {
    let default_region = aws.region().map(|r| r.as_ref());
    let (placement, arns) = match workload {
        Workload::Service(service) => {
            let placement = Placement::of(service, default_region)?;
            let client = ecs_client(aws, &placement.region);
            let mut arns = Vec::new();
            for desired in [DesiredStatus::Running, DesiredStatus::Stopped] {
                let listed: Vec<String> = client
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
                arns.extend(listed);
            }
            (placement, arns)
        }
        Workload::Run(run) => Placement::of_run(run, default_region)?,
    };
    let client = ecs_client(aws, &placement.region);
    let mut tasks = Vec::new();
    for chunk in arns.chunks(100) {
        let described = client
            .describe_tasks()
            .cluster(&placement.cluster)
            .set_tasks(Some(chunk.to_vec()))
            .send()
            .await
            .map_err(|e| crate::ecs::sentence("DescribeTasks", e))?;
        tasks.extend(described.tasks.unwrap_or_default());
    }
    order(&mut tasks);
    Ok((tasks, placement.region))
}

/// Tasks not stopped yet first, newest first; then the stopped ones, most recently stopped
/// first.
pub(super) fn order(tasks: &mut [Task]) {
    tasks.sort_by_key(|t| {
        let stopped = t.last_status() == Some("STOPPED");
        let at = if stopped {
            t.stopped_at()
        } else {
            t.started_at().or(t.created_at())
        };
        (stopped, std::cmp::Reverse(at.map(|at| at.as_nanos())))
    });
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
    fn running_tasks_come_first_then_the_most_recently_stopped() {
        let task = |id: &str, status: &str, at: i64| {
            let builder = Task::builder().task_arn(id).last_status(status);
            if status == "STOPPED" {
                builder.stopped_at(DateTime::from_secs(at)).build()
            } else {
                builder.started_at(DateTime::from_secs(at)).build()
            }
        };
        let mut tasks = vec![
            task("old-stop", "STOPPED", 100),
            task("run-old", "RUNNING", 50),
            task("new-stop", "STOPPED", 300),
            task("leaving", "DEPROVISIONING", 200),
            task("run-new", "RUNNING", 250),
        ];
        order(&mut tasks);
        let ids: Vec<&str> = tasks.iter().map(|t| t.task_arn().unwrap()).collect();
        assert_eq!(
            ids,
            ["run-new", "leaving", "run-old", "new-stop", "old-stop"]
        );
    }

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
