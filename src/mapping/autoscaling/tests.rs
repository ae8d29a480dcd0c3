use std::time::Duration;

use super::*;

fn cpu_70() -> TargetTrackingPolicy {
    TargetTrackingPolicy {
        policy_name: "cpu".into(),
        target_value: 70.0,
        predefined_metric_specification: Some(PredefinedMetricSpecification {
            predefined_metric_type: "ECSServiceAverageCPUUtilization".into(),
            resource_label: None,
        }),
        scale_in_cooldown: Some(300),
        scale_out_cooldown: Some(60),
        ..Default::default()
    }
}

fn classic() -> ServiceAutoscaling {
    ServiceAutoscaling {
        min_capacity: 2,
        max_capacity: 10,
        target_tracking: vec![cpu_70()],
        ..Default::default()
    }
}

const RID: &str = "service/apps/web";

fn target(min: i32, max: i32) -> aas::ScalableTarget {
    aas::ScalableTarget::builder()
        .service_namespace(NAMESPACE)
        .resource_id(RID)
        .scalable_dimension(DIMENSION)
        .min_capacity(min)
        .max_capacity(max)
        .role_arn("arn:aws:iam::123456789012:role/aws-service-role/ecs.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_ECSService")
        .creation_time(aws_smithy_types::DateTime::from_secs(0))
        .scalable_target_arn("arn:aws:application-autoscaling:us-east-1:123456789012:scalable-target/abc")
        .build()
        .unwrap()
}

/// A policy as DescribeScalingPolicies reports what PutScalingPolicy was sent.
fn read_back(put: &PutScalingPolicyInputBuilder, alarms: &[&str]) -> aas::ScalingPolicy {
    aas::ScalingPolicy::builder()
        .policy_arn(format!("arn:aws:autoscaling:us-east-1:123456789012:scalingPolicy:x:resource/ecs/{RID}:policyName/{}", put.get_policy_name().clone().unwrap()))
        .policy_name(put.get_policy_name().clone().unwrap())
        .service_namespace(NAMESPACE)
        .resource_id(RID)
        .scalable_dimension(DIMENSION)
        .policy_type(put.get_policy_type().clone().unwrap())
        .set_target_tracking_scaling_policy_configuration(put.get_target_tracking_scaling_policy_configuration().clone())
        .set_step_scaling_policy_configuration(put.get_step_scaling_policy_configuration().clone())
        .set_alarms(Some(
            alarms
                .iter()
                .map(|a| aas::Alarm::builder().alarm_name(*a).alarm_arn(format!("arn:aws:cloudwatch:us-east-1:123456789012:alarm:{a}")).build().unwrap())
                .collect(),
        ))
        .creation_time(aws_smithy_types::DateTime::from_secs(0))
        .build()
        .unwrap()
}

fn read_action(put: &PutScheduledActionInputBuilder) -> aas::ScheduledAction {
    aas::ScheduledAction::builder()
        .scheduled_action_name(put.get_scheduled_action_name().clone().unwrap())
        .scheduled_action_arn("arn:aws:autoscaling:us-east-1:123456789012:scheduledAction:x")
        .service_namespace(NAMESPACE)
        .schedule(put.get_schedule().clone().unwrap())
        .set_timezone(put.get_timezone().clone())
        .resource_id(RID)
        .set_scalable_target_action(put.get_scalable_target_action().clone())
        .creation_time(aws_smithy_types::DateTime::from_secs(0))
        .build()
        .unwrap()
}

/// What Application Auto Scaling holds once `plan` of `desired` was applied to nothing.
fn applied(desired: &ServiceAutoscaling) -> Current {
    let plan = plan(Some(desired), RID, &Current::default()).unwrap();
    let register = plan.register.expect("registers");
    Current {
        target: Some(target(
            register.get_min_capacity().unwrap(),
            register.get_max_capacity().unwrap(),
        )),
        policies: plan
            .put_policies
            .iter()
            .map(|p| read_back(p, &[]))
            .collect(),
        scheduled_actions: plan.put_scheduled_actions.iter().map(read_action).collect(),
    }
}

#[test]
fn the_classic_target_tracking_policy_registers_the_target_and_puts_one_policy() {
    let plan = plan(Some(&classic()), RID, &Current::default()).unwrap();
    let register = plan.register.as_ref().unwrap();
    assert_eq!(register.get_resource_id().as_deref(), Some(RID));
    assert_eq!(register.get_scalable_dimension(), &Some(DIMENSION));
    assert_eq!(
        (register.get_min_capacity(), register.get_max_capacity()),
        (&Some(2), &Some(10))
    );
    assert_eq!(plan.put_policies.len(), 1);
    let config = plan.put_policies[0]
        .get_target_tracking_scaling_policy_configuration()
        .clone()
        .unwrap();
    assert_eq!(config.target_value(), 70.0);
    assert_eq!(
        (config.scale_in_cooldown(), config.scale_out_cooldown()),
        (Some(300), Some(60))
    );
    assert_eq!(
        config
            .predefined_metric_specification()
            .unwrap()
            .predefined_metric_type(),
        &aas::MetricType::EcsServiceAverageCpuUtilization
    );
    assert_eq!(
        plan.changes,
        vec![
            "scalable target registered with capacity 2..10",
            "policy cpu created"
        ]
    );
}

#[test]
fn what_was_applied_plans_nothing_and_fields_left_out_are_not_compared() {
    let mut desired = classic();
    desired.target_tracking[0].scale_in_cooldown = None;
    desired.step_scaling.push(StepScalingPolicy {
        policy_name: "queue".into(),
        adjustment_type: "ChangeInCapacity".into(),
        step_adjustments: vec![StepAdjustment {
            metric_interval_lower_bound: Some(0.0),
            metric_interval_upper_bound: None,
            scaling_adjustment: 2,
        }],
        ..Default::default()
    });
    desired.scheduled_actions.push(ScheduledAction {
        scheduled_action_name: "night".into(),
        schedule: "cron(0 22 * * ? *)".into(),
        timezone: None,
        scalable_target_action: ScalableTargetAction {
            min_capacity: Some(1),
            max_capacity: Some(2),
        },
    });
    let mut current = applied(&desired);
    assert!(plan(Some(&desired), RID, &current).unwrap().is_empty());
    // Application Auto Scaling fills in a cooldown and a time zone the spec left out.
    let policy = &current.policies[0];
    let config = policy
        .target_tracking_scaling_policy_configuration()
        .unwrap()
        .clone();
    current.policies[0] = aas::ScalingPolicy::builder()
        .policy_arn(policy.policy_arn())
        .policy_name("cpu")
        .service_namespace(NAMESPACE)
        .resource_id(RID)
        .scalable_dimension(DIMENSION)
        .policy_type(aas::PolicyType::TargetTrackingScaling)
        .target_tracking_scaling_policy_configuration(
            aas::TargetTrackingScalingPolicyConfiguration::builder()
                .target_value(config.target_value())
                .set_predefined_metric_specification(
                    config.predefined_metric_specification().cloned(),
                )
                .scale_in_cooldown(300)
                .scale_out_cooldown(60)
                .disable_scale_in(false)
                .build()
                .unwrap(),
        )
        .creation_time(aws_smithy_types::DateTime::from_secs(0))
        .build()
        .unwrap();
    assert!(plan(Some(&desired), RID, &current).unwrap().is_empty());
}

#[test]
fn a_changed_target_value_range_and_schedule_are_put_again() {
    let current = applied(&classic());
    let mut desired = classic();
    desired.max_capacity = 20;
    desired.target_tracking[0].target_value = 50.0;
    let plan = plan(Some(&desired), RID, &current).unwrap();
    assert_eq!(
        plan.changes,
        vec![
            "scalable target capacity 2..20 (was 2..10)",
            "policy cpu updated"
        ]
    );
    assert_eq!(plan.put_policies.len(), 1);
    assert!(plan.delete_policies.is_empty() && !plan.deregister);
}

#[test]
fn policies_and_actions_the_spec_drops_are_deleted() {
    let mut before = classic();
    before.scheduled_actions.push(ScheduledAction {
        scheduled_action_name: "night".into(),
        schedule: "cron(0 22 * * ? *)".into(),
        timezone: Some("Europe/Berlin".into()),
        scalable_target_action: ScalableTargetAction {
            min_capacity: Some(0),
            max_capacity: None,
        },
    });
    let current = applied(&before);
    let mut desired = classic();
    desired.target_tracking.clear();
    let plan = plan(Some(&desired), RID, &current).unwrap();
    assert_eq!(plan.delete_policies, vec!["cpu"]);
    assert_eq!(plan.delete_scheduled_actions, vec!["night"]);
    assert!(plan.register.is_none() && plan.put_policies.is_empty());
}

#[test]
fn no_autoscaling_deregisters_a_registered_target_and_nothing_else() {
    let current = applied(&classic());
    let plan_ = plan(None, RID, &current).unwrap();
    assert!(plan_.deregister);
    assert!(plan_.put_policies.is_empty() && plan_.delete_policies.is_empty());
    assert!(plan(None, RID, &Current::default()).unwrap().is_empty());
}

#[test]
fn suspending_scale_in_registers_the_target_again() {
    let current = applied(&classic());
    let mut desired = classic();
    desired.suspended_state = Some(SuspendedState {
        dynamic_scaling_in_suspended: true,
        ..Default::default()
    });
    let plan = plan(Some(&desired), RID, &current).unwrap();
    assert_eq!(plan.changes, vec!["scalable target suspendedState"]);
    let state = plan
        .register
        .unwrap()
        .get_suspended_state()
        .clone()
        .unwrap();
    assert_eq!(state.dynamic_scaling_in_suspended(), Some(true));
    assert_eq!(state.scheduled_scaling_suspended(), Some(false));
}

#[test]
fn status_lists_the_target_the_policies_arns_and_their_alarms_in_name_order() {
    let plan = plan(Some(&classic()), RID, &Current::default()).unwrap();
    let current = Current {
        target: Some(target(2, 10)),
        policies: vec![read_back(
            &plan.put_policies[0],
            &[
                "TargetTracking-service/apps/web-AlarmLow-2",
                "TargetTracking-service/apps/web-AlarmHigh-1",
            ],
        )],
        scheduled_actions: Vec::new(),
    };
    let status = status(RID, &current, Timestamp::now()).unwrap();
    assert_eq!(status.resource_id, RID);
    assert_eq!(
        (status.min_capacity, status.max_capacity),
        (Some(2), Some(10))
    );
    assert!(
        status
            .scalable_target_arn
            .unwrap()
            .contains(":scalable-target/")
    );
    assert_eq!(status.policies[0].policy_type, "TargetTrackingScaling");
    assert!(status.policies[0].policy_arn.ends_with("policyName/cpu"));
    assert_eq!(
        status.policies[0].alarms,
        vec![
            "TargetTracking-service/apps/web-AlarmHigh-1",
            "TargetTracking-service/apps/web-AlarmLow-2"
        ]
    );
    assert!(super::status(RID, &Current::default(), Timestamp::now()).is_none());
}

#[test]
fn the_initial_count_is_one_brought_into_the_range() {
    let spec = |min, max| EcsServiceSpec {
        autoscaling: Some(ServiceAutoscaling {
            min_capacity: min,
            max_capacity: max,
            ..Default::default()
        }),
        ..Default::default()
    };
    assert_eq!(initial_count(&spec(2, 10)), Some(2));
    assert_eq!(initial_count(&spec(0, 10)), Some(1));
    assert_eq!(initial_count(&spec(0, 0)), Some(0));
    assert_eq!(initial_count(&EcsServiceSpec::default()), None);
}

#[test]
fn desired_count_next_to_autoscaling_is_invalid() {
    let mut spec = EcsServiceSpec {
        autoscaling: Some(classic()),
        desired_count: Some(3),
        ..Default::default()
    };
    let error = validate(&spec).unwrap_err().to_string();
    assert!(error.contains("exclude each other"), "{error}");
    spec.desired_count = None;
    validate(&spec).unwrap();
}

#[test]
fn the_resource_id_uses_the_cluster_name_of_an_arn() {
    assert_eq!(
        resource_id("arn:aws:ecs:us-east-1:123456789012:cluster/apps", "web"),
        "service/apps/web"
    );
    assert_eq!(resource_id("apps", "web"), "service/apps/web");
}

#[test]
fn application_auto_scaling_is_read_on_a_change_and_once_per_resync() {
    let resync = Duration::from_secs(600);
    let now: Timestamp = "2026-11-30T08:00:00Z".parse().unwrap();
    let read_at = |at: &str| AutoscalingStatus {
        resource_id: RID.into(),
        checked_at: Some(at.into()),
        ..Default::default()
    };
    let desired = classic();
    // Never had autoscaling: no call; asked for it: read.
    assert!(!should_read(None, None, false, resync, now));
    assert!(should_read(Some(&desired), None, false, resync, now));
    // Read a minute ago: not on a rollout poll, but on a spec change or a removal.
    let recent = read_at("2026-11-30T07:59:00Z");
    assert!(!should_read(
        Some(&desired),
        Some(&recent),
        false,
        resync,
        now
    ));
    assert!(should_read(
        Some(&desired),
        Some(&recent),
        true,
        resync,
        now
    ));
    assert!(should_read(None, Some(&recent), false, resync, now));
    // A resync period after the last read: drift is looked for.
    let old = read_at("2026-11-30T07:50:00Z");
    assert!(should_read(Some(&desired), Some(&old), false, resync, now));
    let unknown = AutoscalingStatus {
        resource_id: RID.into(),
        ..Default::default()
    };
    assert!(should_read(
        Some(&desired),
        Some(&unknown),
        false,
        resync,
        now
    ));
}

#[test]
fn import_reads_back_what_the_spec_put() {
    let mut desired = classic();
    desired.target_tracking.push(TargetTrackingPolicy {
        policy_name: "backlog".into(),
        target_value: 100.0,
        customized_metric_specification: Some(CustomizedMetricSpecification {
            metric_name: "BacklogPerTask".into(),
            namespace: "Shop".into(),
            dimensions: vec![MetricDimension {
                name: "Queue".into(),
                value: "orders".into(),
            }],
            statistic: "Average".into(),
            unit: None,
        }),
        disable_scale_in: Some(true),
        ..Default::default()
    });
    desired.step_scaling.push(StepScalingPolicy {
        policy_name: "queue".into(),
        adjustment_type: "ExactCapacity".into(),
        step_adjustments: vec![StepAdjustment {
            metric_interval_lower_bound: None,
            metric_interval_upper_bound: Some(0.0),
            scaling_adjustment: 3,
        }],
        cooldown: Some(120),
        metric_aggregation_type: Some("Maximum".into()),
        min_adjustment_magnitude: None,
    });
    desired.scheduled_actions.push(ScheduledAction {
        scheduled_action_name: "night".into(),
        schedule: "cron(0 22 * * ? *)".into(),
        timezone: Some("Europe/Berlin".into()),
        scalable_target_action: ScalableTargetAction {
            min_capacity: Some(1),
            max_capacity: Some(2),
        },
    });
    let (read, left_out) = spec_of(&applied(&desired));
    assert_eq!(read, Some(desired));
    assert!(left_out.is_empty(), "{left_out:?}");
    assert_eq!(spec_of(&Current::default()), (None, Vec::new()));
}
