use aws_sdk_scheduler::types as sched;

use super::*;
use crate::mapping::tags::Ownership;

fn identity() -> OwnerIdentity {
    OwnerIdentity {
        owner: "jobs/nightly".into(),
        uid: "0b8c6f4e-1d2a-4c3b-9e8f-7a6b5c4d3e2f".into(),
        cluster_id: "c1".into(),
    }
}

fn resolved() -> Resolved {
    Resolved {
        cluster_arn: "arn:aws:ecs:eu-west-1:123456789012:cluster/apps".into(),
        task_definition_arn: "arn:aws:ecs:eu-west-1:123456789012:task-definition/report:3".into(),
    }
}

fn spec() -> EcsScheduledTaskSpec {
    serde_json::from_value(serde_json::json!({
        "scheduleExpression": "cron(0 2 * * ? *)",
        "scheduleExpressionTimezone": "Europe/Paris",
        "flexibleTimeWindow": {"mode": "FLEXIBLE", "maximumWindowInMinutes": 15},
        "roleArn": "arn:aws:iam::123456789012:role/scheduler-run-task",
        "cluster": "apps",
        "taskDefinition": "report",
        "count": 2,
        "launchType": "FARGATE",
        "networkConfiguration": {"awsvpcConfiguration": {
            "subnets": ["subnet-b", "subnet-a"], "securityGroups": ["sg-1"],
            "assignPublicIp": "DISABLED"}},
        "overrides": {"containerOverrides": [{"name": "report", "command": ["run", "--all"]}]},
        "tags": [{"key": "team", "value": "data"}],
        "propagateTags": "TASK_DEFINITION",
        "enableECSManagedTags": true,
        "group": "nightly"
    }))
    .unwrap()
}

/// What GetSchedule answers for a schedule written with `shape`.
fn as_written(shape: &Shape) -> GetScheduleOutput {
    GetScheduleOutput::builder()
        .arn("arn:aws:scheduler:eu-west-1:123456789012:schedule/default/nightly")
        .description(&shape.description)
        .schedule_expression(&shape.expression)
        .schedule_expression_timezone(&shape.timezone)
        .flexible_time_window(flexible_time_window(shape).unwrap())
        .state(sched::ScheduleState::from(shape.state.as_str()))
        .target(target(shape).unwrap())
        .creation_date(DateTime::from_secs(1_700_000_000))
        .build()
}

#[test]
fn the_spec_maps_to_an_ecs_run_task_target() {
    let shape = desired(&spec(), &resolved(), &identity()).unwrap();
    assert_eq!(shape.state, ENABLED);
    assert_eq!(shape.window, ("FLEXIBLE".into(), Some(15)));
    let target = target(&shape).unwrap();
    assert_eq!(target.arn, resolved().cluster_arn);
    let input: serde_json::Value = serde_json::from_str(target.input.as_deref().unwrap()).unwrap();
    assert_eq!(input["containerOverrides"][0]["command"][1], "--all");
    let ecs = target.ecs_parameters.unwrap();
    assert_eq!(ecs.task_definition_arn, resolved().task_definition_arn);
    assert_eq!(ecs.task_count, Some(2));
    assert_eq!(ecs.launch_type, Some(sched::LaunchType::Fargate));
    let vpc = ecs
        .network_configuration
        .unwrap()
        .awsvpc_configuration
        .unwrap();
    assert_eq!(vpc.subnets, ["subnet-a", "subnet-b"]);
    assert_eq!(vpc.assign_public_ip, Some(sched::AssignPublicIp::Disabled));
    let tags = ecs.tags.unwrap();
    assert!(
        tags.iter()
            .any(|t| t["key"] == "team" && t["value"] == "data")
    );
    assert!(
        tags.iter()
            .any(|t| t["key"] == OWNER_TAG && t["value"] == "jobs/nightly")
    );
    assert_eq!(ecs.enable_ecs_managed_tags, Some(true));
}

#[test]
fn a_schedule_as_written_reads_back_without_drift() {
    let shape = desired(&spec(), &resolved(), &identity()).unwrap();
    let output = as_written(&shape);
    assert_eq!(observed(&output), shape);
    assert!(drift(&shape, &observed(&output)).is_empty());
    let status = status(&output, &resolved());
    assert_eq!(status.state.as_deref(), Some(ENABLED));
    assert_eq!(status.cluster_arn, Some(resolved().cluster_arn));
    assert!(status.creation_date.is_some());
}

#[test]
fn defaults_the_scheduler_fills_in_are_not_drift() {
    let mut spec = spec();
    spec.schedule_expression_timezone = None;
    spec.flexible_time_window = None;
    spec.count = None;
    let shape = desired(&spec, &resolved(), &identity()).unwrap();
    assert_eq!((shape.timezone.as_str(), shape.target.task_count), (UTC, 1));
    let mut output = as_written(&shape);
    output.schedule_expression_timezone = None;
    assert!(drift(&shape, &observed(&output)).is_empty());
}

#[test]
fn changes_behind_the_operators_back_are_named() {
    let shape = desired(&spec(), &resolved(), &identity()).unwrap();
    let mut changed = shape.clone();
    changed.expression = "rate(1 hour)".into();
    changed.state = DISABLED.into();
    changed.target.task_definition_arn.push('0');
    changed.target.input = Some(serde_json::json!({}));
    assert_eq!(
        drift(&shape, &observed(&as_written(&changed))),
        [
            "scheduleExpression",
            "suspend",
            "overrides",
            "taskDefinition"
        ]
    );
}

#[test]
fn suspend_disables_the_schedule() {
    let mut spec = spec();
    spec.suspend = Some(true);
    assert_eq!(
        desired(&spec, &resolved(), &identity()).unwrap().state,
        DISABLED
    );
}

#[test]
fn the_description_carries_ownership() {
    let me = identity();
    let written = description(&me);
    assert!(written.len() <= 512);
    assert_eq!(me.judge(&owner_tags(Some(&written))), Ownership::Ours);
    assert_eq!(
        me.judge(&owner_tags(Some("nightly report"))),
        Ownership::Unowned
    );
    assert_eq!(me.judge(&owner_tags(None)), Ownership::Unowned);
    let other = OwnerIdentity {
        uid: "another".into(),
        ..identity()
    };
    assert!(matches!(
        me.judge(&owner_tags(Some(&description(&other)))),
        Ownership::Retained { .. }
    ));
}

#[test]
fn names_and_tokens() {
    let mut spec = spec();
    assert_eq!(schedule_name(&spec, "nightly"), "nightly");
    assert_eq!(group_name(&spec), DEFAULT_GROUP);
    spec.schedule_name = Some("report-2am".into());
    assert_eq!(schedule_name(&spec, "nightly"), "report-2am");
    let token = client_token(&identity().uid);
    assert_eq!(token, identity().uid);
    assert!(token.len() <= 64);
}

#[test]
fn dates_and_capacity_providers_round_trip() {
    let mut spec = spec();
    spec.launch_type = None;
    spec.start_date = Some(Time("2026-12-01T00:00:00Z".parse().unwrap()));
    spec.end_date = Some(Time("2027-01-01T00:00:00Z".parse().unwrap()));
    spec.capacity_provider_strategy = vec![crate::api::CapacityProviderStrategyItem {
        capacity_provider: "FARGATE_SPOT".into(),
        weight: Some(1),
        base: None,
    }];
    let shape = desired(&spec, &resolved(), &identity()).unwrap();
    assert_eq!(shape.start_date, Some(1_796_083_200));
    let mut output = as_written(&shape);
    output.start_date = date(shape.start_date);
    output.end_date = date(shape.end_date);
    // The Scheduler reports the base it defaulted (0): not drift.
    assert_eq!(
        observed(&output).target.capacity_provider_strategy,
        [("FARGATE_SPOT".to_string(), Some(1), Some(0))]
    );
    assert!(drift(&shape, &observed(&output)).is_empty());
    output.end_date = None;
    assert_eq!(drift(&shape, &observed(&output)), ["endDate"]);
}

#[test]
fn the_schedule_status_recorded_is_known_by_its_arn_and_creation_date() {
    let arn = "arn:aws:scheduler:us-east-1:123456789012:schedule/default/nightly";
    let output = |created: i64| {
        GetScheduleOutput::builder()
            .arn(arn)
            .creation_date(DateTime::from_secs(created))
            .build()
    };
    let recorded = status(&output(1_800_000_000), &resolved());
    assert!(is_recorded(&output(1_800_000_000), Some(&recorded)));
    // Deleted and made again under the name: another schedule.
    assert!(!is_recorded(&output(1_800_000_600), Some(&recorded)));
    assert!(!is_recorded(&output(1_800_000_000), None));
}
