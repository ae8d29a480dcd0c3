//! Why a service's tasks stop: read while the service is not Ready, from its recently stopped
//! tasks (ListTasks desiredStatus=STOPPED, then DescribeTasks), summed up as distinct reasons for
//! the Ready message, one Warning event each, and `status.stoppedTasks`. Pure: no client.
//!
//! ECS keeps a stopped task describable for at least an hour ("Amazon ECS stopped task errors",
//! developer guide), so tasks of other revisions are still listed: only tasks of the revision
//! the service should run count (also once ECS rolled its deployment back and forgot it).

use aws_sdk_ecs::types::{DeploymentRolloutState, Service, Task};
use k8s_openapi::jiff::Timestamp;

use crate::api::service::{StoppedTaskReason, StoppedTasksStatus};

/// At most this many distinct reasons are kept in status, the most recent first.
pub const MAX_REASONS: usize = 5;

/// How often, at most, stopped tasks are read again while nothing suggests a new failure
/// (the deployments' failedTasks unchanged): tasks that stop after running do not count in
/// failedTasks. Also how long a deployment may take before its stopped tasks are looked at
/// without a failure counted.
pub const RECHECK_SECONDS: i64 = 60;

/// Whether to read the service's stopped tasks now. Never while it is Ready, nor during a
/// rollout that goes well (no failed task, younger than [`RECHECK_SECONDS`]); otherwise (also
/// when the operator judged the rollout `failed`) when the deployments' failedTasks changed
/// since the last read, or that read is older than [`RECHECK_SECONDS`].
pub fn should_read(
    ready: bool,
    failed: bool,
    service: &Service,
    previous: Option<&StoppedTasksStatus>,
    now: Timestamp,
) -> bool {
    let seconds_since = |at: Option<&str>| {
        at.and_then(|at| at.parse::<Timestamp>().ok())
            .map(|at| now.as_second() - at.as_second())
    };
    let primary_age = service
        .deployments()
        .first()
        .and_then(|d| d.created_at())
        .map(|at| now.as_second() - at.secs());
    let failing = failed
        || failed_tasks(service) > 0
        || service
            .deployments()
            .iter()
            .any(|d| d.rollout_state() == Some(&DeploymentRolloutState::Failed))
        || primary_age.is_some_and(|age| age >= RECHECK_SECONDS);
    if ready || !failing {
        return false;
    }
    previous.is_none_or(|previous| {
        failed_tasks(service) != previous.failed_tasks
            || seconds_since(previous.checked_at.as_deref())
                .is_none_or(|age| age >= RECHECK_SECONDS)
    })
}

/// failedTasks summed over the service's deployments.
pub fn failed_tasks(service: &Service) -> i32 {
    service.deployments().iter().map(|d| d.failed_tasks).sum()
}

/// The stopped tasks of `task_definition` (the revision the service should run, an ARN),
/// summed up: distinct reasons, most recently stopped first, with how many tasks share each.
/// `tasks` is DescribeTasks output in any order. When none of them counts any more, the reasons
/// known before are kept: they still say why the service is not Ready.
pub fn summarize(
    service: &Service,
    task_definition: &str,
    tasks: &[Task],
    previous: Option<&StoppedTasksStatus>,
    now: Timestamp,
) -> StoppedTasksStatus {
    let mut stopped: Vec<&Task> = tasks
        .iter()
        .filter(|t| t.last_status() == Some("STOPPED") && !scaled_in(t))
        .filter(|t| {
            t.task_definition_arn()
                .is_some_and(|arn| super::same_task_definition(arn, task_definition))
        })
        .collect();
    stopped.sort_by_key(|t| std::cmp::Reverse(t.stopped_at().map(|at| at.as_nanos())));
    let mut reasons: Vec<StoppedTaskReason> = Vec::new();
    for task in stopped {
        let reason = reason(task);
        match reasons.iter_mut().find(|r| r.reason == reason) {
            Some(known) => known.tasks += 1,
            None => reasons.push(StoppedTaskReason {
                reason,
                tasks: 1,
                last_task_arn: task.task_arn().map(str::to_string),
                stop_code: task.stop_code().map(|c| c.as_str().to_string()),
            }),
        }
    }
    reasons.truncate(MAX_REASONS);
    if reasons.is_empty()
        && let Some(previous) = of_revision(previous, task_definition)
    {
        reasons = previous.reasons.clone();
    }
    StoppedTasksStatus {
        task_definition: Some(task_definition.to_string()),
        checked_at: Some(now.to_string()),
        failed_tasks: failed_tasks(service),
        reasons,
    }
}

/// A task the service scheduler stopped because it had more than it wanted (a scale-in, the old
/// revision's tasks during a rollout): "Scaling activity initiated by (deployment ecs-svc/...)",
/// stop code ServiceSchedulerInitiated (ECS developer guide, "Amazon ECS stopped task error
/// messages"). Not a reason tasks fail.
fn scaled_in(task: &Task) -> bool {
    task.stopped_reason()
        .is_some_and(|r| r.starts_with("Scaling activity initiated by"))
}

/// One task's reason as a person reads it: ECS's stoppedReason, then the first container that
/// failed, with its exit code and its own reason where it adds to the task's:
/// "Essential container in task exited (container web, exit 1)",
/// "CannotPullContainerError: ... (container web)".
pub fn reason(task: &Task) -> String {
    let stopped = task.stopped_reason().unwrap_or("stopped");
    let failed = task
        .containers()
        .iter()
        .find(|c| c.exit_code.is_some_and(|code| code != 0) || c.reason().is_some());
    let Some(container) = failed else {
        return stopped.to_string();
    };
    let mut detail = format!("container {}", container.name().unwrap_or("?"));
    if let Some(code) = container.exit_code {
        detail.push_str(&format!(", exit {code}"));
    }
    if let Some(own) = container.reason().filter(|r| !stopped.contains(r)) {
        detail.push_str(&format!(": {own}"));
    }
    format!("{stopped} ({detail})")
}

/// The clause the Ready message ends with: "3 tasks stopped: <the most recent reason>", or
/// None when no task of the current deployments stopped. Without `counted` ("tasks stopped:
/// <reason>") it stays the same while more tasks stop for that reason: a Stalled message that
/// changed would be announced again.
pub fn sentence(status: &StoppedTasksStatus, counted: bool) -> Option<String> {
    let first = status.reasons.first()?;
    let tasks = match first.tasks {
        _ if !counted => "tasks".to_string(),
        1 => "1 task".to_string(),
        n => format!("{n} tasks"),
    };
    Some(format!("{tasks} stopped: {}", first.reason))
}

/// The reasons of `now` not in `previous` (of the same revision): each is announced once, as a
/// Warning event.
pub fn new_reasons<'a>(
    previous: Option<&StoppedTasksStatus>,
    now: &'a StoppedTasksStatus,
) -> Vec<&'a StoppedTaskReason> {
    let previous = of_revision(previous, now.task_definition.as_deref().unwrap_or_default());
    now.reasons
        .iter()
        .filter(|r| previous.is_none_or(|p| p.reasons.iter().all(|old| old.reason != r.reason)))
        .collect()
}

/// `previous`, if it is of revision `task_definition`: what is known of another revision's tasks
/// says nothing of this one's.
pub fn of_revision<'a>(
    previous: Option<&'a StoppedTasksStatus>,
    task_definition: &str,
) -> Option<&'a StoppedTasksStatus> {
    previous.filter(|p| p.task_definition.as_deref() == Some(task_definition))
}

#[cfg(test)]
mod tests {
    use aws_sdk_ecs::types::{Container, Deployment, TaskStopCode};
    use aws_smithy_types::DateTime;

    use super::*;

    fn service(failed: i32) -> Service {
        Service::builder()
            .deployments(
                Deployment::builder()
                    .id("ecs-svc/1")
                    .failed_tasks(failed)
                    .build(),
            )
            .build()
    }

    const REVISION_2: &str = "arn:aws:ecs:us-east-1:123456789012:task-definition/web:2";

    fn task(id: &str, revision: &str, stopped_at: i64, reason: &str, exit: Option<i32>) -> Task {
        Task::builder()
            .task_arn(format!("arn:aws:ecs:us-east-1:123456789012:task/c/{id}"))
            .task_definition_arn(revision)
            .last_status("STOPPED")
            .stopped_at(DateTime::from_secs(stopped_at))
            .stopped_reason(reason)
            .stop_code(TaskStopCode::EssentialContainerExited)
            .containers(Container::builder().name("web").set_exit_code(exit).build())
            .build()
    }

    fn now() -> Timestamp {
        Timestamp::from_second(1_800_000_000).unwrap()
    }

    #[test]
    fn distinct_reasons_most_recent_first_counted_and_only_the_revision_to_run() {
        let tasks = [
            task(
                "a",
                REVISION_2,
                100,
                "Essential container in task exited",
                Some(1),
            ),
            task(
                "b",
                REVISION_2,
                300,
                "Essential container in task exited",
                Some(1),
            ),
            task(
                "c",
                REVISION_2,
                200,
                "Task failed ELB health checks in (target-group x)",
                None,
            ),
            // Another revision's: an earlier incident, or the old tasks scaled in.
            task(
                "d",
                "arn:aws:ecs:us-east-1:123456789012:task-definition/web:1",
                400,
                "Scaling activity initiated by (deployment ecs-svc/1)",
                Some(0),
            ),
        ];
        let status = summarize(&service(3), REVISION_2, &tasks, None, now());
        let reasons: Vec<(&str, i32)> = status
            .reasons
            .iter()
            .map(|r| (r.reason.as_str(), r.tasks))
            .collect();
        assert_eq!(
            reasons,
            [
                (
                    "Essential container in task exited (container web, exit 1)",
                    2
                ),
                ("Task failed ELB health checks in (target-group x)", 1),
            ]
        );
        assert_eq!(status.failed_tasks, 3);
        assert_eq!(
            sentence(&status, true).as_deref(),
            Some("2 tasks stopped: Essential container in task exited (container web, exit 1)")
        );
        assert_eq!(
            status.reasons[0].last_task_arn.as_deref(),
            Some("arn:aws:ecs:us-east-1:123456789012:task/c/b")
        );
    }

    #[test]
    fn a_containers_own_reason_is_added_once() {
        let pull = "CannotPullContainerError: pull image manifest has been retried 7 time(s)";
        let task = Task::builder()
            .stopped_reason(pull)
            .containers(Container::builder().name("web").reason(pull).build())
            .build();
        assert_eq!(reason(&task), format!("{pull} (container web)"));
        let oom = Task::builder()
            .stopped_reason("Essential container in task exited")
            .containers(
                Container::builder()
                    .name("app")
                    .exit_code(137)
                    .reason("OutOfMemoryError: Container killed due to memory usage")
                    .build(),
            )
            .build();
        assert_eq!(
            reason(&oom),
            "Essential container in task exited (container app, exit 137: OutOfMemoryError: \
             Container killed due to memory usage)"
        );
    }

    #[test]
    fn read_only_while_not_ready_and_when_something_changed_or_a_minute_passed() {
        let checked = StoppedTasksStatus {
            task_definition: Some(REVISION_2.into()),
            checked_at: Some(now().to_string()),
            failed_tasks: 2,
            reasons: vec![],
        };
        assert!(!should_read(true, false, &service(5), None, now()));
        // A rollout going well is not looked into.
        assert!(!should_read(false, false, &service(0), None, now()));
        assert!(should_read(false, false, &service(1), None, now()));
        let slow = Service::builder()
            .deployments(
                Deployment::builder()
                    .id("ecs-svc/1")
                    .created_at(DateTime::from_secs(now().as_second() - RECHECK_SECONDS))
                    .build(),
            )
            .build();
        assert!(should_read(false, false, &slow, None, now()));
        // Rolled back and forgotten by ECS: the operator still knows it failed.
        assert!(should_read(false, true, &service(0), None, now()));
        assert!(!should_read(
            false,
            false,
            &service(2),
            Some(&checked),
            now()
        ));
        assert!(should_read(
            false,
            false,
            &service(3),
            Some(&checked),
            now()
        ));
        let later = Timestamp::from_second(now().as_second() + RECHECK_SECONDS).unwrap();
        assert!(should_read(
            false,
            false,
            &service(2),
            Some(&checked),
            later
        ));
    }

    #[test]
    fn each_reason_is_announced_once() {
        let tasks = [task(
            "a",
            REVISION_2,
            100,
            "Essential container in task exited",
            Some(1),
        )];
        let first = summarize(&service(1), REVISION_2, &tasks, None, now());
        assert_eq!(new_reasons(None, &first).len(), 1);
        assert!(new_reasons(Some(&first), &first).is_empty());
        // Nothing of the revision listed any more: what was known stays.
        let later = summarize(&service(0), REVISION_2, &[], Some(&first), now());
        assert_eq!(later.reasons, first.reasons);
        // Another revision starts afresh: its reasons are told again.
        let next = "arn:aws:ecs:us-east-1:123456789012:task-definition/web:3";
        let other = summarize(&service(0), next, &[], Some(&first), now());
        assert!(other.reasons.is_empty());
        let again = [task(
            "c",
            next,
            200,
            "Essential container in task exited",
            Some(1),
        )];
        let third = summarize(&service(1), next, &again, Some(&first), now());
        assert_eq!(new_reasons(Some(&first), &third).len(), 1);
        assert_eq!(sentence(&StoppedTasksStatus::default(), true), None);
        assert_eq!(
            sentence(&first, false).as_deref(),
            Some("tasks stopped: Essential container in task exited (container web, exit 1)")
        );
    }

    #[test]
    fn a_scale_in_is_not_a_reason_tasks_stop() {
        let tasks = [
            task(
                "a",
                REVISION_2,
                100,
                "Scaling activity initiated by (deployment ecs-svc/1)",
                Some(0),
            ),
            task(
                "b",
                REVISION_2,
                50,
                "Essential container in task exited",
                Some(0),
            ),
        ];
        let status = summarize(&service(1), REVISION_2, &tasks, None, now());
        let reasons: Vec<&str> = status.reasons.iter().map(|r| r.reason.as_str()).collect();
        // An exit 0 names no container.
        assert_eq!(reasons, ["Essential container in task exited"]);
    }
}
