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
    let Rollout::Failed { message } = remember_failure(now, &service, NEW, Some(NEW), None) else {
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
        remember_failure(rollout(&service, NEW), &service, NEW, Some(OLD), None),
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
            Some(NEW),
            None
        ),
        Rollout::InProgress { .. }
    ));
}

#[test]
fn a_remembered_failure_keeps_ecs_words() {
    let service = rolled_back();
    let said = "deployment ecs-svc/3 of web:8 failed: ECS deployment circuit breaker: tasks failed to start.";
    let Rollout::Failed { message } =
        remember_failure(rollout(&service, NEW), &service, NEW, Some(NEW), Some(said))
    else {
        panic!("the failure is remembered")
    };
    assert_eq!(message, said);
}

/// The deployment of NEW status last saw in progress (ecs-svc/3).
fn recorded() -> Vec<ServiceDeploymentStatus> {
    vec![ServiceDeploymentStatus {
        id: Some("ecs-svc/3".into()),
        status: Some("PRIMARY".into()),
        rollout_state: Some("IN_PROGRESS".into()),
        task_definition: Some(NEW.into()),
        ..Default::default()
    }]
}

#[test]
fn a_deployment_that_vanished_while_ecs_runs_another_revision_is_looked_up() {
    let service = rolled_back();
    assert_eq!(
        vanished_deployment(&recorded(), &service, NEW),
        Some("ecs-svc/3")
    );
    // ECS runs the desired revision under another deployment: a forced deployment that ECS may
    // have rolled back to the same revision; that is looked up too.
    let running_new = Service::builder()
        .status("ACTIVE")
        .task_definition(NEW)
        .build();
    assert_eq!(
        vanished_deployment(&recorded(), &running_new, NEW),
        Some("ecs-svc/3")
    );
    // ECS still lists the deployment: nothing to look up.
    let listed = Service::builder()
        .status("ACTIVE")
        .task_definition(OLD)
        .deployments(
            ecs::Deployment::builder()
                .id("ecs-svc/3")
                .task_definition(NEW)
                .build(),
        )
        .build();
    assert_eq!(vanished_deployment(&recorded(), &listed, NEW), None);
    // A completed deployment did not vanish by failing.
    let mut completed = recorded();
    completed[0].rollout_state = Some("COMPLETED".into());
    assert_eq!(vanished_deployment(&completed, &service, NEW), None);
}

fn brief(
    digits: &str,
    status: ecs::ServiceDeploymentStatus,
    reason: Option<&str>,
) -> ecs::ServiceDeploymentBrief {
    ecs::ServiceDeploymentBrief::builder()
        .target_service_revision_arn(format!(
            "arn:aws:ecs:us-east-1:123456789012:service-revision/apps/web/{digits}"
        ))
        .status(status)
        .set_status_reason(reason.map(str::to_owned))
        .build()
}

#[test]
fn the_deployment_history_tells_a_rollback_from_a_replacement() {
    use ecs::ServiceDeploymentStatus as S;
    let history = [
        brief("4", S::InProgress, None),
        brief(
            "3",
            S::RollbackSuccessful,
            Some("The deployment circuit breaker detected a failure."),
        ),
    ];
    let mut service = rolled_back();
    service.events = Some(vec![
        ServiceEvent::builder()
            .message(
                "(service web) (deployment ecs-svc/3) deployment failed: tasks failed to start.",
            )
            .build(),
    ]);
    let message = super::rolled_back(&history, "ecs-svc/3", NEW, &service).expect("rolled back");
    assert!(
        message.contains("web:8 failed: tasks failed to start and ECS rolled it back (ROLLBACK_SUCCESSFUL: The deployment circuit breaker detected a failure)")
            && message.contains("ECS runs web:7"),
        "{message}"
    );
    // Replaced by another deployment (someone changed the service): not a failure.
    assert_eq!(
        super::rolled_back(
            &[brief("3", S::Stopped, None)],
            "ecs-svc/3",
            NEW,
            &rolled_back()
        ),
        None
    );
    // Not in the history at all.
    assert_eq!(
        super::rolled_back(&history, "ecs-svc/9", NEW, &rolled_back()),
        None
    );
}
