//! The pre-deploy task of an EcsService (`spec.preDeploy`): whether a reconcile may roll the new
//! revision out, must start its run, look at the run, or hold the service on the revision it
//! runs. Pure: no client. The run itself is an ECS task like an EcsTask's: its request and its
//! success are [`crate::mapping::task`]'s.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use sha2::{Digest, Sha256};

use super::same_task_definition;
use crate::api::task::TaskRecord;
use crate::api::{EcsServiceSpec, EcsTaskSpec, PreDeployStatus, PreDeployTask};
use crate::mapping::task::{self as task_mapping, Outcome};

/// How long a run may take when `timeoutSeconds` is not set.
pub const DEFAULT_TIMEOUT_SECONDS: i64 = 1800;

pub const RUNNING: &str = "Running";
pub const SUCCEEDED: &str = "Succeeded";
pub const FAILED: &str = "Failed";

/// What the pre-deploy step asks of a reconcile.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Gate {
    /// Nothing to run, or the revision's run succeeded: roll it out.
    Proceed,
    /// Start the revision's run (RunTask, idempotent through `client_token`).
    Run { client_token: String },
    /// The run goes on: look at its task.
    Check { task_arn: String },
    /// The run failed: stay on the revision the service runs.
    Failed { message: String },
}

/// The gate for rolling out `desired` (a revision ARN) on a service that runs `running` (None:
/// it does not exist yet, and its first revision runs the task too), under the
/// `restartedAt` annotation `restarted_at`, given the last run recorded in status.
pub fn gate(
    pre_deploy: Option<&PreDeployTask>,
    desired: &str,
    running: Option<&str>,
    restarted_at: Option<&str>,
    recorded: Option<&PreDeployStatus>,
    uid: &str,
) -> Gate {
    if pre_deploy.is_none() || running.is_some_and(|r| same_task_definition(r, desired)) {
        return Gate::Proceed;
    }
    let run = || Gate::Run {
        client_token: client_token(uid, desired, restarted_at),
    };
    let Some(recorded) = recorded.filter(|r| same_task_definition(&r.task_definition, desired))
    else {
        return run();
    };
    match recorded.state.as_str() {
        SUCCEEDED => Gate::Proceed,
        RUNNING => match &recorded.task_arn {
            Some(task_arn) => Gate::Check {
                task_arn: task_arn.clone(),
            },
            None => run(),
        },
        // A new restartedAt asks for another try.
        _ if recorded.restarted_at.as_deref() != restarted_at => run(),
        _ => Gate::Failed {
            message: failure(recorded),
        },
    }
}

/// The Stalled message of a failed run.
pub fn failure(recorded: &PreDeployStatus) -> String {
    format!(
        "the pre-deploy task of {} failed: {}; the service stays on the revision it runs until \
         the next revision or a new ecs.operator.dev/restartedAt",
        short(&recorded.task_definition),
        recorded.message.as_deref().unwrap_or("no reason given")
    )
}

/// The Reconciling message while a run goes on.
pub fn waiting(recorded: &PreDeployStatus) -> String {
    let task = recorded
        .task_arn
        .as_deref()
        .map(|arn| format!(" (task {})", arn.rsplit('/').next().unwrap_or(arn)))
        .unwrap_or_default();
    format!(
        "running the pre-deploy task of {}{task} before rolling it out",
        short(&recorded.task_definition)
    )
}

/// The clientToken of one run: the same for every attempt to start the run of one revision
/// under one restartedAt, so a crash between RunTask and the status write starts nothing twice.
pub fn client_token(uid: &str, desired: &str, restarted_at: Option<&str>) -> String {
    let digest = Sha256::digest(format!(
        "{uid}/pre-deploy/{desired}/{}",
        restarted_at.unwrap_or_default()
    ));
    format!("{digest:x}")[..32].to_string()
}

/// The run as an EcsTask spec (its RunTask is built the same way): one task of `desired` on
/// `cluster` with the service's launch type or capacity provider strategy, platform version,
/// network and placement, and the pre-deploy overrides.
pub fn run_spec(
    service: &EcsServiceSpec,
    pre_deploy: &PreDeployTask,
    cluster: &str,
    desired: &str,
) -> EcsTaskSpec {
    EcsTaskSpec {
        cluster: Some(cluster.to_string()),
        task_definition: Some(desired.to_string()),
        count: Some(1),
        launch_type: service.launch_type.clone(),
        capacity_provider_strategy: service.capacity_provider_strategy.clone(),
        platform_version: service.platform_version.clone(),
        network_configuration: service.network_configuration.clone(),
        overrides: pre_deploy.overrides.clone(),
        placement_constraints: service.placement_constraints.clone(),
        placement_strategy: service.placement_strategy.clone(),
        enable_ecs_managed_tags: service.enable_ecs_managed_tags,
        ..EcsTaskSpec::default()
    }
}

/// The record of a run just started.
pub fn started(
    desired: &str,
    restarted_at: Option<&str>,
    task_arn: &str,
    now: Timestamp,
) -> PreDeployStatus {
    PreDeployStatus {
        task_definition: desired.to_string(),
        restarted_at: restarted_at.map(str::to_string),
        task_arn: Some(task_arn.to_string()),
        state: RUNNING.into(),
        message: None,
        started_at: Some(Time(now)),
    }
}

/// The record after looking at the run's task (None: ECS no longer knows it, which counts as a
/// failure): Succeeded when every container exited 0 as an EcsTask judges it, Failed with ECS's
/// reason and the exit codes, or still Running (Failed once past `timeout_seconds`, which the
/// controller then stops).
pub fn judged(
    recorded: &PreDeployStatus,
    task: Option<&TaskRecord>,
    timeout_seconds: i64,
    now: Timestamp,
) -> PreDeployStatus {
    let mut next = recorded.clone();
    let Some(task) = task else {
        next.state = FAILED.into();
        next.message = Some("ECS no longer knows its task".into());
        return next;
    };
    match task_mapping::outcome(task, &[]) {
        Outcome::Succeeded => next.state = SUCCEEDED.into(),
        Outcome::Failed => {
            next.state = FAILED.into();
            next.message = Some(task_mapping::stop_summary(task, &[]));
        }
        Outcome::Active if timed_out(recorded, timeout_seconds, now) => {
            next.state = FAILED.into();
            next.message = Some(format!("it did not finish within {timeout_seconds} s"));
        }
        Outcome::Active => {}
    }
    next
}

fn timed_out(recorded: &PreDeployStatus, timeout_seconds: i64, now: Timestamp) -> bool {
    recorded
        .started_at
        .as_ref()
        .is_some_and(|at| now.as_second() - at.0.as_second() >= timeout_seconds)
}

fn short(task_definition: &str) -> &str {
    task_definition
        .rsplit('/')
        .next()
        .unwrap_or(task_definition)
}

#[cfg(test)]
mod tests {
    use crate::api::task::ContainerRecord;

    use super::*;

    const TD7: &str = "arn:aws:ecs:us-east-1:123456789012:task-definition/web:7";
    const TD8: &str = "arn:aws:ecs:us-east-1:123456789012:task-definition/web:8";

    fn now() -> Timestamp {
        Timestamp::from_second(1_800_000_000).unwrap()
    }

    fn recorded(state: &str) -> PreDeployStatus {
        PreDeployStatus {
            state: state.into(),
            message: Some("task abc stopped: Essential container in task exited (container web exited with 3)".into()),
            ..started(TD8, None, "arn:aws:ecs:us-east-1:123456789012:task/apps/abc", now())
        }
    }

    #[test]
    fn a_new_revision_waits_for_its_run_and_the_running_one_never_does() {
        let task = PreDeployTask::default();
        let gate = |running, recorded: Option<&PreDeployStatus>, restarted| {
            super::gate(Some(&task), TD8, running, restarted, recorded, "uid-1")
        };
        assert_eq!(
            super::gate(None, TD8, Some(TD7), None, None, "uid-1"),
            Gate::Proceed
        );
        assert_eq!(gate(Some(TD8), None, None), Gate::Proceed);
        let first = gate(Some(TD7), None, None);
        assert!(matches!(first, Gate::Run { .. }));
        assert_eq!(
            first,
            gate(None, None, None),
            "a new service runs it too, same token"
        );
        assert!(matches!(
            gate(Some(TD7), Some(&recorded(RUNNING)), None),
            Gate::Check { .. }
        ));
        assert_eq!(
            gate(Some(TD7), Some(&recorded(SUCCEEDED)), None),
            Gate::Proceed
        );
        let Gate::Failed { message } = gate(Some(TD7), Some(&recorded(FAILED)), None) else {
            panic!("a failed run holds the service");
        };
        assert!(message.starts_with("the pre-deploy task of web:8 failed: task abc stopped"));
        // A new restartedAt tries again, under another token.
        let again = gate(
            Some(TD7),
            Some(&recorded(FAILED)),
            Some("2026-11-30T00:00:00Z"),
        );
        assert!(matches!(again, Gate::Run { .. }));
        assert_ne!(again, first);
        // A run of an older revision says nothing about this one.
        let older = PreDeployStatus {
            task_definition: TD7.into(),
            ..recorded(SUCCEEDED)
        };
        assert_eq!(gate(Some(TD7), Some(&older), None), first);
    }

    #[test]
    fn a_run_succeeds_when_its_containers_exit_zero_and_fails_with_its_exit_code() {
        let task = |exit: i32| TaskRecord {
            task_arn: "arn:aws:ecs:us-east-1:123456789012:task/apps/abc".into(),
            last_status: Some("STOPPED".into()),
            stop_code: Some("EssentialContainerExited".into()),
            stopped_reason: Some("Essential container in task exited".into()),
            containers: vec![ContainerRecord {
                name: "web".into(),
                exit_code: Some(exit),
                reason: None,
            }],
            ..TaskRecord::default()
        };
        let running = recorded(RUNNING);
        assert_eq!(
            judged(&running, Some(&task(0)), 600, now()).state,
            SUCCEEDED
        );
        let failed = judged(&running, Some(&task(3)), 600, now());
        assert_eq!(failed.state, FAILED);
        assert_eq!(
            failed.message.as_deref(),
            Some(
                "task abc stopped: Essential container in task exited (container web exited with 3)"
            )
        );
        let active = TaskRecord {
            last_status: Some("RUNNING".into()),
            ..task(0)
        };
        assert_eq!(judged(&running, Some(&active), 600, now()).state, RUNNING);
        let later = Timestamp::from_second(now().as_second() + 600).unwrap();
        let late = judged(&running, Some(&active), 600, later);
        assert_eq!(
            (late.state.as_str(), late.message.as_deref()),
            (FAILED, Some("it did not finish within 600 s"))
        );
        assert_eq!(judged(&running, None, 600, now()).state, FAILED);
    }
}
