//! The plans of an EcsService reconcile: which requests, which events.

use std::collections::BTreeMap;

use aws_sdk_ecs::types::Service;

use super::plan::{Announcement, Desired, UpdatePlan, describe_drift, plan_create, plan_update};
use super::tests::{TD7, TD8, ecs_view_of_full_spec, full_spec, invalid_message};
use crate::api::{EcsServiceSpec, EcsServiceStatus};
use crate::mapping::tags;

/// The tags ECS reports for `service`: taken as the desired ones, the tags are in line.
fn current_tags(service: &Service) -> BTreeMap<String, String> {
    tags::from_ecs(service.tags())
}

fn desired<'a>(
    spec: &'a EcsServiceSpec,
    tags: &'a BTreeMap<String, String>,
    generation: i64,
    restarted_at: Option<&'a str>,
) -> Desired<'a> {
    Desired {
        spec,
        name: "web-svc",
        cluster: "main",
        task_definition: TD8,
        generation: Some(generation),
        uid: "uid-1",
        restarted_at,
        tags,
    }
}

/// The status of a service whose generation `applied` was sent, last seen running TD8.
fn applied(applied: i64) -> EcsServiceStatus {
    EcsServiceStatus {
        applied_generation: Some(applied),
        task_definition_arn: Some(TD8.into()),
        ..Default::default()
    }
}

fn notes(plan: &UpdatePlan) -> Vec<(&str, &str)> {
    plan.announcements
        .iter()
        .map(|a| (a.reason, a.note.as_str()))
        .collect()
}

#[test]
fn a_service_in_line_with_its_spec_costs_nothing() {
    let (spec, current) = (full_spec(), ecs_view_of_full_spec());
    let tags = current_tags(&current);
    let plan = plan_update(&desired(&spec, &tags, 2, None), &current, &applied(2)).unwrap();
    assert!(plan.update.is_none() && plan.tags.is_empty() && plan.tags_announcement.is_none());
    assert!(plan.drift.is_empty() && plan.announcements.is_empty());
    assert!(!plan.sends_spec && !plan.restarts);
}

#[test]
fn a_spec_change_is_sent_once_and_announced_with_its_generation() {
    let mut spec = full_spec();
    spec.desired_count = Some(5);
    let current = ecs_view_of_full_spec();
    let tags = current_tags(&current);
    let plan = plan_update(&desired(&spec, &tags, 3, None), &current, &applied(2)).unwrap();
    let input = plan
        .update
        .as_ref()
        .expect("an UpdateService")
        .clone()
        .build()
        .unwrap();
    assert_eq!(input.desired_count(), Some(5));
    assert!(plan.sends_spec);
    assert_eq!(plan.drift, ["desiredCount"]);
    assert_eq!(
        notes(&plan),
        [(
            "Updated",
            "updated ECS service web-svc to generation 3 of the spec: desiredCount"
        )]
    );
}

#[test]
fn a_revision_changed_behind_the_operators_back_is_set_back_as_drift() {
    let spec = full_spec();
    let mut current = ecs_view_of_full_spec();
    current.task_definition = Some(TD7.into());
    let tags = current_tags(&current);
    let plan = plan_update(&desired(&spec, &tags, 2, None), &current, &applied(2)).unwrap();
    assert!(plan.update.is_some() && !plan.sends_spec);
    assert_eq!(
        notes(&plan),
        [(
            "DriftCorrected",
            format!("corrected drift in ECS service web-svc: taskDefinition was {TD7}, set back to {TD8}").as_str()
        )]
    );
}

#[test]
fn a_failed_revision_is_not_deployed_again_until_restarted() {
    let spec = full_spec();
    let mut current = ecs_view_of_full_spec();
    current.task_definition = Some(TD7.into());
    let tags = current_tags(&current);
    let failed = EcsServiceStatus {
        failed_task_definition: Some(TD8.into()),
        ..applied(2)
    };
    let plan = plan_update(&desired(&spec, &tags, 2, None), &current, &failed).unwrap();
    assert!(plan.update.is_none(), "{:?}", plan.drift);

    let restart = Some("2026-11-30T00:00:00Z");
    let plan = plan_update(&desired(&spec, &tags, 2, restart), &current, &failed).unwrap();
    let input = plan.update.as_ref().unwrap().clone().build().unwrap();
    assert_eq!(input.task_definition(), Some(TD8));
    assert_eq!(input.force_new_deployment(), Some(true));
    assert!(plan.restarts);
    assert_eq!(
        plan.announcements.last(),
        Some(&Announcement {
            reason: "Updated",
            note: "forced a new deployment of ECS service web-svc \
                   (ecs.operator.dev/restartedAt=2026-11-30T00:00:00Z)"
                .into()
        })
    );
}

#[test]
fn tags_added_behind_the_operators_back_are_removed_first_and_told() {
    let spec = full_spec();
    let mut current = ecs_view_of_full_spec();
    let tags = current_tags(&current);
    current.tags = Some(vec![
        aws_sdk_ecs::types::Tag::builder()
            .key("added-by-hand")
            .value("x")
            .build(),
    ]);
    let plan = plan_update(&desired(&spec, &tags, 2, None), &current, &applied(2)).unwrap();
    assert_eq!(plan.tags.remove, ["added-by-hand"]);
    assert_eq!(
        plan.tags_announcement,
        Some(Announcement {
            reason: "DriftCorrected",
            note: "set the tags of ECS service web-svc; removed added-by-hand".into()
        })
    );
    assert!(plan.update.is_none());
}

#[test]
fn an_immutable_field_that_differs_is_refused_with_what_to_do() {
    let mut spec = full_spec();
    spec.scheduling_strategy = Some("DAEMON".into());
    let current = ecs_view_of_full_spec();
    let tags = current_tags(&current);
    let message = invalid_message(plan_update(
        &desired(&spec, &tags, 2, None),
        &current,
        &applied(2),
    ));
    assert!(
        message.contains("which ECS cannot change in place"),
        "{message}"
    );
}

#[test]
fn a_service_is_created_again_under_a_new_token_once_ecs_deleted_it() {
    let spec = full_spec();
    let tags = BTreeMap::new();
    let first = plan_create(&desired(&spec, &tags, 1, None), None).unwrap();
    assert_eq!(first.desired_count, 3);
    assert_eq!(
        first.announcement.note,
        format!("created ECS service web-svc running {TD8} with 3 task(s)")
    );
    let again = plan_create(
        &desired(&spec, &tags, 1, None),
        Some("2026-11-30T01:00:00Z"),
    )
    .unwrap();
    assert!(again.announcement.note.contains(" again (ECS reported"));
    let token = |plan: &super::plan::CreatePlan| plan.input.get_client_token().clone();
    assert_ne!(token(&first), token(&again));
}

#[test]
fn drift_reads_as_the_value_before_and_after() {
    let mut spec = full_spec();
    spec.desired_count = Some(5);
    let mut current = ecs_view_of_full_spec();
    current.task_definition = Some(TD7.into());
    let described: Vec<String> = ["desiredCount", "taskDefinition", "networkConfiguration"]
        .iter()
        .map(|field| describe_drift(field, &spec, TD8, &current))
        .collect();
    assert_eq!(
        described,
        [
            "desiredCount 3 → 5",
            "taskDefinition web:7 → web:8",
            "networkConfiguration"
        ]
    );
}

#[test]
fn volumes_the_spec_dropped_are_removed_with_an_empty_list_and_not_mentioned_otherwise() {
    let spec = full_spec();
    let mut current = ecs_view_of_full_spec();
    let volume = aws_sdk_ecs::types::ServiceVolumeConfiguration::builder()
        .name("scratch")
        .build()
        .unwrap();
    current.deployments.as_mut().unwrap()[0].volume_configurations = Some(vec![volume]);
    let tags = current_tags(&current);
    let plan = plan_update(&desired(&spec, &tags, 1, None), &current, &applied(1)).unwrap();
    assert_eq!(plan.drift, ["volumeConfigurations"]);
    let input = plan.update.unwrap().build().unwrap();
    assert_eq!(input.volume_configurations, Some(vec![]));
    assert_eq!(input.vpc_lattice_configurations, None);
}
