use super::*;

const OLD: &str = "arn:aws:ecs:us-east-1:123456789012:task-definition/web:7";
const NEW: &str = "arn:aws:ecs:us-east-1:123456789012:task-definition/web:8";

/// DescribeServices after a circuit-breaker rollback has finished: only the old revision's
/// deployment is left, COMPLETED.
fn rolled_back() -> Service {
    Service::builder()
        .status("ACTIVE")
        .task_definition(OLD)
        .desired_count(2)
        .running_count(2)
        .deployments(
            ecs::Deployment::builder()
                .id("ecs-svc/2")
                .status("PRIMARY")
                .task_definition(OLD)
                .desired_count(2)
                .running_count(2)
                .rollout_state(ecs::DeploymentRolloutState::Completed)
                .build(),
        )
        .build()
}

#[test]
fn a_finished_rollback_stays_failed() {
    let service = rolled_back();
    let now = rollout(&service, NEW);
    assert!(
        matches!(now, Rollout::InProgress { .. }),
        "without memory it looks in progress: {now:?}"
    );
    let Rollout::Failed { message } = remember_failure(now, &service, NEW, Some(NEW)) else {
        panic!("the failure is remembered")
    };
    assert!(
        message.contains("rolled back to") && message.contains(OLD),
        "{message}"
    );
}

#[test]
fn updates_after_a_rollback_keep_the_revision_ecs_runs_unless_restarted() {
    // Scaling, drift, another field: the rolled-back revision is not sent again.
    assert_eq!(revision_to_deploy(NEW, Some(NEW), Some(OLD), false), OLD);
    // restartedAt changed: try it again.
    assert_eq!(revision_to_deploy(NEW, Some(NEW), Some(OLD), true), NEW);
    // A newer revision than the failed one, or no failure at all: the desired one.
    assert_eq!(revision_to_deploy(NEW, Some(OLD), Some(OLD), false), NEW);
    assert_eq!(revision_to_deploy(NEW, None, Some(OLD), false), NEW);
    // ECS names no revision (a brand-new service): the desired one.
    assert_eq!(revision_to_deploy(NEW, Some(NEW), None, false), NEW);
}

#[test]
fn a_new_revision_or_a_forced_deployment_is_not_held_back() {
    let service = rolled_back();
    // Another revision than the one that failed: progress as usual.
    assert!(matches!(
        remember_failure(rollout(&service, NEW), &service, NEW, Some(OLD)),
        Rollout::InProgress { .. }
    ));
    // The failed revision deployed again (ECS now names it): progress as usual.
    let retried = Service::builder()
        .status("ACTIVE")
        .task_definition(NEW)
        .build();
    assert!(matches!(
        remember_failure(
            Rollout::InProgress {
                message: String::new()
            },
            &retried,
            NEW,
            Some(NEW)
        ),
        Rollout::InProgress { .. }
    ));
}
