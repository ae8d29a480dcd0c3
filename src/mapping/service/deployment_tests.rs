//! Deployment strategies in requests and drift, readiness from the service deployment, and the
//! approval annotations.

use aws_sdk_ecs::types as ecs;
use serde_json::json;

use super::deployment::{
    Annotation, ApprovalAction, ReadContext, followed, needs_read, plan_approvals,
    revision_task_definition, with_service_deployment,
};
use super::tests::{TD7, TD8, minimal_spec, steady};
use super::{Rollout, create_input, drift, update_input};
use crate::api::EcsServiceSpec;
use crate::api::service::{ApprovalsStatus, CurrentServiceDeployment, HandledRequest, PendingHook};

const TG_BLUE: &str = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/blue/1";
const TG_GREEN: &str = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/green/2";
const SD_ARN: &str = "arn:aws:ecs:us-east-1:123456789012:service-deployment/main/web/Xy12";

/// A blue/green service behind an ALB, with a Lambda hook, a PAUSE hook, an EBS volume, a VPC
/// Lattice target group and a load balancer role, as a user writes it.
fn blue_green() -> EcsServiceSpec {
    let mut spec: EcsServiceSpec = serde_json::from_value(json!({
        "cluster": "main", "taskDefinition": "web",
        "role": "ecsServiceRole",
        "loadBalancers": [{
            "targetGroupArn": TG_BLUE, "containerName": "web", "containerPort": 80,
            "advancedConfiguration": {
                "alternateTargetGroupArn": TG_GREEN,
                "productionListenerRule": "arn:rule/prod", "testListenerRule": "arn:rule/test",
                "roleArn": "arn:aws:iam::123456789012:role/ecs-elb"
            }
        }],
        "deploymentConfiguration": {
            "strategy": "BLUE_GREEN", "bakeTimeInMinutes": 5,
            "lifecycleHooks": [
                {"hookTargetArn": "arn:aws:lambda:us-east-1:123456789012:function:smoke",
                 "roleArn": "arn:aws:iam::123456789012:role/hooks",
                 "lifecycleStages": ["POST_TEST_TRAFFIC_SHIFT"], "hookDetails": {"path": "/health", "tries": 3}},
                {"targetType": "PAUSE", "lifecycleStages": ["PRE_PRODUCTION_TRAFFIC_SHIFT"],
                 "timeoutConfiguration": {"timeoutInMinutes": 60, "action": "ROLLBACK"}}
            ]
        },
        "volumeConfigurations": [{"name": "data", "managedEBSVolume": {
            "roleArn": "arn:aws:iam::123456789012:role/ebs", "sizeInGiB": 20, "volumeType": "gp3"}}],
        "vpcLatticeConfigurations": [{"roleArn": "arn:aws:iam::123456789012:role/lattice",
            "targetGroupArn": "arn:lattice/tg", "portName": "http"}]
    }))
    .unwrap();
    spec.cluster_ref = minimal_spec().cluster_ref;
    spec.cluster = None;
    spec
}

#[test]
fn a_blue_green_spec_reaches_create_service_as_ecs_takes_it() {
    let input = create_input(&blue_green(), "web", "main", TD8, 2, vec![], "token")
        .unwrap()
        .build()
        .unwrap();
    let config = input.deployment_configuration().unwrap();
    assert_eq!(config.strategy(), Some(&ecs::DeploymentStrategy::BlueGreen));
    assert_eq!(config.bake_time_in_minutes(), Some(5));
    let hooks = config.lifecycle_hooks();
    assert_eq!(hooks.len(), 2);
    assert_eq!(hooks[0].target_type(), None, "AWS_LAMBDA is ECS's default");
    assert_eq!(
        hooks[0].hook_details(),
        Some(&aws_smithy_types::Document::Object(
            [
                ("path".to_string(), "/health".into()),
                (
                    "tries".to_string(),
                    aws_smithy_types::Number::PosInt(3).into()
                ),
            ]
            .into()
        ))
    );
    assert_eq!(
        hooks[1].target_type(),
        Some(&ecs::DeploymentLifecycleHookTargetType::Pause)
    );
    assert_eq!(
        hooks[1].lifecycle_stages(),
        [ecs::DeploymentLifecycleHookStage::PreProductionTrafficShift]
    );
    let timeout = hooks[1].timeout_configuration().unwrap();
    assert_eq!(
        (timeout.timeout_in_minutes(), timeout.action()),
        (
            Some(60),
            Some(&ecs::DeploymentLifecycleHookAction::Rollback)
        )
    );
    let advanced = input.load_balancers()[0].advanced_configuration().unwrap();
    assert_eq!(advanced.alternate_target_group_arn(), Some(TG_GREEN));
    assert_eq!(advanced.test_listener_rule(), Some("arn:rule/test"));
    let volume = &input.volume_configurations()[0];
    assert_eq!(volume.name(), "data");
    assert_eq!(volume.managed_ebs_volume().unwrap().size_in_gib(), Some(20));
    assert_eq!(input.vpc_lattice_configurations()[0].port_name(), "http");
    assert_eq!(input.role(), Some("ecsServiceRole"));

    let update = update_input(&blue_green(), "web", "main", TD8, None, false)
        .unwrap()
        .build()
        .unwrap();
    assert_eq!(
        update.deployment_configuration().unwrap().strategy(),
        Some(&ecs::DeploymentStrategy::BlueGreen)
    );
    assert_eq!(update.volume_configurations().len(), 1);
    // Without volumes nothing is mentioned: a mention starts a deployment.
    let plain = update_input(&minimal_spec(), "web", "main", TD8, None, false)
        .unwrap()
        .build()
        .unwrap();
    assert_eq!(plain.volume_configurations, None);
    assert_eq!(plain.vpc_lattice_configurations, None);
}

#[test]
fn a_rolling_spec_says_rolling_so_removing_a_strategy_goes_back() {
    let mut spec = blue_green();
    let config = spec.deployment_configuration.as_mut().unwrap();
    config.strategy = None;
    config.lifecycle_hooks.clear();
    spec.load_balancers[0].advanced_configuration = None;
    let input = update_input(&spec, "web", "main", TD8, None, false)
        .unwrap()
        .build()
        .unwrap();
    assert_eq!(
        input.deployment_configuration().unwrap().strategy(),
        Some(&ecs::DeploymentStrategy::Rolling)
    );
}

/// What DescribeServices reports for the blue/green service, after a deployment swapped the
/// target groups.
fn ecs_view(spec: &EcsServiceSpec, swapped: bool) -> ecs::Service {
    let input = create_input(spec, "web", "main", TD8, 2, vec![], "token")
        .unwrap()
        .build()
        .unwrap();
    let mut balancers = input.load_balancers().to_vec();
    if swapped {
        let advanced = balancers[0].advanced_configuration.as_mut().unwrap();
        advanced.alternate_target_group_arn = Some(TG_BLUE.into());
        balancers[0].target_group_arn = Some(TG_GREEN.into());
    }
    let mut service = steady(TD8, 2);
    service.load_balancers = Some(balancers);
    service.deployment_configuration = input.deployment_configuration().cloned();
    service
}

#[test]
fn swapped_target_groups_are_not_drift_but_a_changed_hook_is() {
    let spec = blue_green();
    assert!(drift(&spec, TD8, &ecs_view(&spec, false)).is_empty());
    assert!(
        drift(&spec, TD8, &ecs_view(&spec, true)).is_empty(),
        "a blue/green deployment leaves production on the alternate target group"
    );
    let mut changed = ecs_view(&spec, false);
    let config = changed.deployment_configuration.as_mut().unwrap();
    config.lifecycle_hooks.as_mut().unwrap()[1].lifecycle_stages =
        Some(vec![ecs::DeploymentLifecycleHookStage::PostScaleUp]);
    assert_eq!(drift(&spec, TD8, &changed), ["deploymentConfiguration"]);
    let mut rolling = ecs_view(&spec, false);
    rolling.deployment_configuration.as_mut().unwrap().strategy =
        Some(ecs::DeploymentStrategy::Rolling);
    assert_eq!(drift(&spec, TD8, &rolling), ["deploymentConfiguration"]);
}

fn sd(status: &str, stage: Option<&str>, hook: Option<&str>) -> CurrentServiceDeployment {
    CurrentServiceDeployment {
        arn: SD_ARN.into(),
        status: Some(status.into()),
        status_reason: Some(
            "Service deployment rolled back because the lifecycle hook timed out.".into(),
        ),
        lifecycle_stage: stage.map(Into::into),
        task_definition: Some(TD8.into()),
        production_traffic_weight: Some(30.0),
        pending_hook: hook.map(|id| PendingHook {
            hook_id: id.into(),
            target_type: Some("PAUSE".into()),
            status: Some("AWAITING_ACTION".into()),
            lifecycle_stage: stage.map(Into::into),
            expires_at: Some("2026-11-30T10:00:00Z".into()),
            timeout_action: Some("ROLLBACK".into()),
        }),
        ..Default::default()
    }
}

#[test]
fn ready_waits_for_the_service_deployment_to_succeed() {
    let successful = sd("SUCCESSFUL", None, None);
    assert_eq!(
        with_service_deployment(Rollout::Ready, Some(&successful), TD8, ("apps", "web")),
        Rollout::Ready
    );
    assert_eq!(
        with_service_deployment(Rollout::Ready, None, TD8, ("apps", "web")),
        Rollout::Ready
    );
    let baking = sd("IN_PROGRESS", Some("PRODUCTION_TRAFFIC_SHIFT"), None);
    assert_eq!(
        with_service_deployment(Rollout::Ready, Some(&baking), TD8, ("apps", "web")),
        Rollout::InProgress {
            message: "service deployment Xy12 in progress, at stage PRODUCTION_TRAFFIC_SHIFT, 30% of production traffic".into()
        }
    );
}

#[test]
fn a_paused_deployment_awaits_approval_and_says_how_to_give_it() {
    // ECS reports the deployment's stage while a PRE_PRODUCTION_TRAFFIC_SHIFT hook waits.
    let paused = sd(
        "IN_PROGRESS",
        Some("PRODUCTION_TRAFFIC_SHIFT"),
        Some("hook-1"),
    );
    let Rollout::AwaitingApproval { message } = with_service_deployment(
        Rollout::InProgress {
            message: "x".into(),
        },
        Some(&paused),
        TD8,
        ("apps", "web"),
    ) else {
        panic!("not awaiting approval");
    };
    assert_eq!(
        message,
        "service deployment Xy12 is paused awaiting approval, at stage PRODUCTION_TRAFFIC_SHIFT, 30% of production \
         traffic; ECS will rollback at 2026-11-30T10:00:00Z: approve with `kubectl ecs approve web -n apps` (or \
         `kubectl annotate --overwrite ecss web -n apps ecs.operator.dev/approve=hook-1`), or roll back with \
         `kubectl ecs rollback web -n apps` (ecs.operator.dev/rollback=Xy12)"
    );
}

#[test]
fn a_rolled_back_deployment_of_the_desired_revision_is_failed_with_the_ecs_reason() {
    let rolled_back = sd("ROLLBACK_SUCCESSFUL", None, None);
    let Rollout::Failed { message } =
        with_service_deployment(Rollout::Ready, Some(&rolled_back), TD8, ("apps", "web"))
    else {
        panic!("not failed");
    };
    assert_eq!(
        message,
        "service deployment Xy12 ROLLBACK_SUCCESSFUL: Service deployment rolled back because the lifecycle \
         hook timed out (it rolled out web:8); register a new revision, or set ecs.operator.dev/restartedAt to try \
         this one again"
    );
    // When the classic deployment already failed, the service deployment adds its reason, once.
    let classic = Rollout::Failed {
        message: "deployment ecs-svc/1 of web:8 failed: ECS deployment hook execution failure(s) detected."
            .into(),
    };
    let Rollout::Failed { message } =
        with_service_deployment(classic, Some(&rolled_back), TD8, ("apps", "web"))
    else {
        panic!("not failed");
    };
    assert_eq!(
        message,
        "deployment ecs-svc/1 of web:8 failed: ECS deployment hook execution failure(s) detected; service \
         deployment Xy12 ROLLBACK_SUCCESSFUL: Service deployment rolled back because the lifecycle hook timed out"
    );
    let again = Rollout::Failed {
        message: message.clone(),
    };
    assert_eq!(
        with_service_deployment(again, Some(&rolled_back), TD8, ("apps", "web")),
        Rollout::Failed { message }
    );
    // One of another revision says nothing about the desired one.
    assert_eq!(
        with_service_deployment(Rollout::Ready, Some(&rolled_back), TD7, ("apps", "web")),
        Rollout::Ready
    );
}

#[test]
fn a_finished_deployment_is_not_read_again_and_a_rolling_one_once_it_looks_done() {
    let at = |approval_pending, rolling, looks_done| ReadContext {
        current_arn: SD_ARN,
        approval_pending,
        rolling,
        looks_done,
    };
    let done = sd("SUCCESSFUL", None, None);
    assert!(!needs_read(&at(false, false, false), Some(&done)));
    assert!(
        needs_read(&at(true, false, false), Some(&done)),
        "an approval to handle"
    );
    let other = ReadContext {
        current_arn: "arn:other",
        ..at(false, false, true)
    };
    assert!(needs_read(&other, Some(&done)), "a new deployment");
    let running = sd("IN_PROGRESS", None, None);
    assert!(
        needs_read(&at(false, false, false), Some(&running)),
        "a blue/green deployment"
    );
    assert!(
        !needs_read(&at(false, true, false), Some(&running)),
        "a rolling one in progress"
    );
    assert!(
        needs_read(&at(false, true, true), Some(&running)),
        "a rolling one that looks done"
    );
    assert!(needs_read(&at(false, false, false), None));
    let rolling_back = sd("ROLLBACK_IN_PROGRESS", None, None);
    assert!(
        needs_read(&at(false, true, false), Some(&rolling_back)),
        "followed to its end"
    );
}

#[test]
fn a_revision_runs_the_task_definition_of_its_deployment() {
    let service = steady(TD8, 2);
    let digits = service.deployments()[0]
        .id()
        .unwrap()
        .trim_start_matches("ecs-svc/")
        .to_string();
    let revision =
        format!("arn:aws:ecs:eu-west-1:123456789012:service-revision/main/web-svc/{digits}");
    assert_eq!(
        revision_task_definition(&service, &revision),
        Some(TD8.into())
    );
    assert_eq!(
        revision_task_definition(&service, "arn:x/service-revision/main/web-svc/42"),
        None
    );
}

#[test]
fn approve_continues_the_hook_it_names_once() {
    let paused = sd(
        "IN_PROGRESS",
        Some("POST_TEST_TRAFFIC_SHIFT"),
        Some("hook-1"),
    );
    let steps = plan_approvals(Some("hook-1"), None, None, Some(&paused));
    assert_eq!(steps.len(), 1);
    assert_eq!(
        steps[0].action,
        Some(ApprovalAction::Continue {
            arn: SD_ARN.into(),
            hook_id: "hook-1".into()
        })
    );
    assert_eq!(steps[0].announcement.reason, "Approved");
    assert!(!steps[0].warning);
    let handled = ApprovalsStatus {
        approve: Some(HandledRequest {
            value: "hook-1".into(),
            outcome: steps[0].outcome.clone(),
        }),
        rollback: None,
    };
    assert!(plan_approvals(Some("hook-1"), None, Some(&handled), Some(&paused)).is_empty());
}

#[test]
fn a_stale_approval_does_nothing_and_says_so_once() {
    // The value approved an earlier deployment's hook; the new deployment waits at hook-2.
    let paused = sd(
        "IN_PROGRESS",
        Some("POST_TEST_TRAFFIC_SHIFT"),
        Some("hook-2"),
    );
    let steps = plan_approvals(Some("hook-1"), None, None, Some(&paused));
    assert_eq!(steps[0].action, None);
    assert!(steps[0].warning);
    assert_eq!(steps[0].announcement.reason, "ApprovalIgnored");
    assert_eq!(
        steps[0].outcome,
        "not sent: hook hook-1 does not await approval in the current service deployment (continued already, or \
         not this deployment's)"
    );
    let running = sd("IN_PROGRESS", None, None);
    assert_eq!(
        plan_approvals(Some(" "), None, None, Some(&running)),
        vec![]
    );
}

#[test]
fn rollback_acts_at_the_paused_hook_or_stops_the_deployment() {
    let paused = sd(
        "IN_PROGRESS",
        Some("POST_TEST_TRAFFIC_SHIFT"),
        Some("hook-1"),
    );
    let steps = plan_approvals(None, Some("Xy12"), None, Some(&paused));
    assert_eq!(steps[0].annotation, Annotation::Rollback);
    assert_eq!(
        steps[0].action,
        Some(ApprovalAction::RollbackAtHook {
            arn: SD_ARN.into(),
            hook_id: "hook-1".into()
        })
    );
    let shifting = sd("IN_PROGRESS", Some("PRODUCTION_TRAFFIC_SHIFT"), None);
    let steps = plan_approvals(None, Some(SD_ARN), None, Some(&shifting));
    assert_eq!(
        steps[0].action,
        Some(ApprovalAction::Stop { arn: SD_ARN.into() })
    );
    assert_eq!(steps[0].announcement.reason, "RollbackRequested");
    let done = sd("SUCCESSFUL", None, None);
    let steps = plan_approvals(None, Some("Xy12"), None, Some(&done));
    assert_eq!(
        steps[0].action, None,
        "a finished deployment is not rolled back"
    );
}

#[test]
fn a_deployment_rolled_back_by_a_new_one_is_still_the_one_followed() {
    let rollback = CurrentServiceDeployment {
        arn: "arn:aws:ecs:us-east-1:123456789012:service-deployment/main/web/Rb99".into(),
        status: Some("SUCCESSFUL".into()),
        task_definition: Some(TD7.into()),
        ..Default::default()
    };
    let rolled_back = sd("ROLLBACK_SUCCESSFUL", None, None);
    assert_eq!(
        followed(rollback.clone(), Some(rolled_back.clone())),
        rolled_back
    );
    // One replaced by a newer deployment (STOPPED) gives way to it.
    let stopped = sd("STOPPED", None, None);
    assert_eq!(followed(rollback.clone(), Some(stopped)), rollback);
    assert_eq!(followed(rollback.clone(), None), rollback);
}

#[test]
fn a_rollback_given_with_an_approval_wins() {
    let paused = sd(
        "IN_PROGRESS",
        Some("POST_TEST_TRAFFIC_SHIFT"),
        Some("hook-1"),
    );
    let steps = plan_approvals(Some("hook-1"), Some("Xy12"), None, Some(&paused));
    assert_eq!(steps.len(), 2);
    assert_eq!(steps[0].annotation, Annotation::Rollback);
    assert_eq!(
        steps[0].action,
        Some(ApprovalAction::RollbackAtHook {
            arn: SD_ARN.into(),
            hook_id: "hook-1".into()
        })
    );
    assert_eq!(steps[1].annotation, Annotation::Approve);
    assert_eq!(steps[1].action, None);
    assert_eq!(
        steps[1].outcome,
        "not sent: ecs.operator.dev/rollback rolls the deployment back"
    );
}
