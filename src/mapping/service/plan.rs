//! What a reconcile of an EcsService does in ECS, computed from what it read: the requests in
//! order and the events that announce them. The controller applies a plan; `ecs-operator diff`
//! prints one. Pure: no client.

use std::collections::BTreeMap;

use aws_sdk_ecs::operation::create_service::builders::CreateServiceInputBuilder;
use aws_sdk_ecs::operation::update_service::builders::UpdateServiceInputBuilder;
use aws_sdk_ecs::types::Service;

use super::{
    changes_capacity_provider_strategy, client_token, create_input, drift, immutable_conflicts,
    revision_to_deploy, short_task_definition, update_input,
};
use crate::api::{EcsServiceSpec, EcsServiceStatus, RESTARTED_AT_ANNOTATION};
use crate::mapping::tags::{self, TagChanges};
use crate::{Error, Result};

/// A Normal event that announces a change once it is made: its reason (`Created`, `Updated`,
/// `DriftCorrected`) and its note.
#[derive(Clone, Debug, PartialEq)]
pub struct Announcement {
    pub reason: &'static str,
    pub note: String,
}

impl Announcement {
    pub(crate) fn new(reason: &'static str, note: String) -> Self {
        Announcement { reason, note }
    }
}

/// What the spec asks of the ECS service, resolved: its ECS name and cluster, the task
/// definition revision ARN it should run, the object's generation and uid, the
/// `ecs.operator.dev/restartedAt` annotation, and its tags with the ownership tags.
pub struct Desired<'a> {
    pub spec: &'a EcsServiceSpec,
    pub name: &'a str,
    pub cluster: &'a str,
    pub task_definition: &'a str,
    pub generation: Option<i64>,
    pub uid: &'a str,
    pub restarted_at: Option<&'a str>,
    pub tags: &'a BTreeMap<String, String>,
}

/// CreateService for a service ECS does not have (or reports INACTIVE).
#[derive(Debug)]
pub struct CreatePlan {
    pub input: CreateServiceInputBuilder,
    /// The count the service starts with: spec.desiredCount, else 1 (with autoscaling: 1
    /// brought into minCapacity..maxCapacity).
    pub desired_count: i32,
    pub announcement: Announcement,
}

/// An existing service brought in line: its tags first (they record ownership), then one
/// UpdateService or none.
#[derive(Debug)]
pub struct UpdatePlan {
    pub tags: TagChanges,
    /// Announces the tag changes (none when there are none).
    pub tags_announcement: Option<Announcement>,
    /// None: nothing to update.
    pub update: Option<UpdateServiceInputBuilder>,
    /// The spec fields ECS reports otherwise (taskDefinition included).
    pub drift: Vec<&'static str>,
    /// Announce the UpdateService.
    pub announcements: Vec<Announcement>,
    /// UpdateService carries this generation's spec.
    pub sends_spec: bool,
    /// UpdateService forces the new deployment restartedAt asks for.
    pub restarts: bool,
}

/// desiredCount at creation when the spec leaves it to an autoscaler.
pub const INITIAL_DESIRED_COUNT: i32 = 1;

/// CreateService. `previous_created_at` is status.createdAt: a service this object created
/// before and ECS since reported deleted is created again under a new clientToken.
pub fn plan_create(desired: &Desired, previous_created_at: Option<&str>) -> Result<CreatePlan> {
    let desired_count = desired
        .spec
        .desired_count
        .or_else(|| crate::mapping::autoscaling::initial_count(desired.spec))
        .unwrap_or(INITIAL_DESIRED_COUNT);
    let token = client_token(desired.uid, previous_created_at);
    let input = create_input(
        desired.spec,
        desired.name,
        desired.cluster,
        desired.task_definition,
        desired_count,
        tags::to_ecs(desired.tags),
        &token,
    )?;
    let again = if previous_created_at.is_some() {
        " again (ECS reported the one this object had created as deleted)"
    } else {
        ""
    };
    let note = format!(
        "created ECS service {}{again} running {} with {desired_count} task(s)",
        desired.name, desired.task_definition
    );
    Ok(CreatePlan {
        input,
        desired_count,
        announcement: Announcement::new("Created", note),
    })
}

/// Brings `current` in line: one UpdateService when the spec changed since it was last sent
/// (`old.appliedGeneration`), ECS drifted from it (a new revision of the EcsTaskDefinition is
/// drift too), or restartedAt asks for a new deployment. A revision whose deployment failed is
/// not deployed again until it changes or restartedAt asks ([`revision_to_deploy`]).
///
/// Errors: InvalidSpec when an immutable field differs (ECS cannot change it in place).
pub fn plan_update(
    desired: &Desired,
    current: &Service,
    old: &EcsServiceStatus,
) -> Result<UpdatePlan> {
    let name = desired.name;
    let conflicts = immutable_conflicts(desired.spec, current);
    if !conflicts.is_empty() {
        return Err(Error::InvalidSpec(format!(
            "ECS service {name} differs from the spec in {}, which ECS cannot change in place; \
             delete and recreate the service (or align the spec)",
            conflicts.join(", ")
        )));
    }
    let sends_spec = old.applied_generation != desired.generation;
    let changes = tags::tag_changes(&tags::from_ecs(current.tags()), desired.tags);
    let tags_announcement = (!changes.is_empty()).then(|| {
        let note = format!("set the tags of ECS service {name}; {}", changes.summary());
        Announcement::new(reason(sends_spec), note)
    });

    let restarts =
        desired.restarted_at.is_some() && desired.restarted_at != old.last_restarted_at.as_deref();
    let task_definition = revision_to_deploy(
        desired.task_definition,
        old.failed_task_definition.as_deref(),
        current.task_definition(),
        restarts,
    );
    let drift = drift(desired.spec, task_definition, current);
    let (update, announcements) = if sends_spec || !drift.is_empty() || restarts {
        let force = restarts || changes_capacity_provider_strategy(desired.spec, current);
        let mut input = update_input(
            desired.spec,
            name,
            desired.cluster,
            task_definition,
            desired.spec.desired_count,
            force,
        )?;
        // Volumes and VPC Lattice target groups the spec no longer has: an empty list removes
        // them (one is sent only then, as any mention starts a deployment).
        if drift.contains(&"volumeConfigurations") && desired.spec.volume_configurations.is_empty()
        {
            input = input.set_volume_configurations(Some(Vec::new()));
        }
        if drift.contains(&"vpcLatticeConfigurations")
            && desired.spec.vpc_lattice_configurations.is_empty()
        {
            input = input.set_vpc_lattice_configurations(Some(Vec::new()));
        }
        let mut announcements = announce_update(
            name,
            task_definition,
            current,
            old,
            &drift,
            sends_spec,
            desired.generation,
        );
        if restarts {
            announcements.push(Announcement::new(
                "Updated",
                format!(
                    "forced a new deployment of ECS service {name} ({RESTARTED_AT_ANNOTATION}={})",
                    desired.restarted_at.unwrap_or_default()
                ),
            ));
        }
        (Some(input), announcements)
    } else {
        (None, Vec::new())
    };
    Ok(UpdatePlan {
        tags: changes,
        tags_announcement,
        update,
        drift,
        announcements,
        sends_spec,
        restarts,
    })
}

/// `Updated` for a change of the spec, `DriftCorrected` for a change made behind its back.
fn reason(spec_changed: bool) -> &'static str {
    if spec_changed {
        "Updated"
    } else {
        "DriftCorrected"
    }
}

/// The events of an UpdateService: the revision it rolls out (drift when the service ran the
/// desired revision at the last look, so someone changed it in ECS), then the other fields.
fn announce_update(
    name: &str,
    task_definition: &str,
    current: &Service,
    old: &EcsServiceStatus,
    drift: &[&str],
    spec_changed: bool,
    generation: Option<i64>,
) -> Vec<Announcement> {
    let mut announcements = Vec::new();
    if drift.contains(&"taskDefinition") {
        let was = current.task_definition().unwrap_or("?");
        if !spec_changed && old.task_definition_arn.as_deref() == Some(task_definition) {
            announcements.push(Announcement::new(
                "DriftCorrected",
                format!(
                    "corrected drift in ECS service {name}: taskDefinition was {was}, set back to {task_definition}"
                ),
            ));
        } else {
            announcements.push(Announcement::new(
                "Updated",
                format!("ECS service {name} now rolls out {task_definition} (was {was})"),
            ));
        }
    }
    let other: Vec<&str> = drift
        .iter()
        .copied()
        .filter(|f| *f != "taskDefinition")
        .collect();
    if spec_changed {
        let mut note = format!(
            "updated ECS service {name} to generation {} of the spec",
            generation.unwrap_or_default()
        );
        if !other.is_empty() {
            note.push_str(&format!(": {}", other.join(", ")));
        }
        announcements.push(Announcement::new("Updated", note));
    } else if !other.is_empty() {
        announcements.push(Announcement::new(
            "DriftCorrected",
            format!(
                "corrected drift in ECS service {name}: {}",
                other.join(", ")
            ),
        ));
    }
    announcements
}

/// One drifted field as a reviewer reads it: "desiredCount 2 → 4", "taskDefinition web:7 →
/// web:8"; a field whose value does not fit on a line is named alone ("networkConfiguration").
/// `task_definition` is the revision the plan deploys.
pub fn describe_drift(
    field: &str,
    spec: &EcsServiceSpec,
    task_definition: &str,
    current: &Service,
) -> String {
    fn shown<T: std::fmt::Display>(value: Option<T>) -> String {
        value.map_or_else(|| "unset".to_string(), |v| v.to_string())
    }
    let change = match field {
        "taskDefinition" => Some((
            shown(current.task_definition().map(short_task_definition)),
            short_task_definition(task_definition).to_string(),
        )),
        "desiredCount" => Some((current.desired_count.to_string(), shown(spec.desired_count))),
        "platformVersion" => Some((
            shown(current.platform_version()),
            shown(spec.platform_version.as_deref()),
        )),
        "healthCheckGracePeriodSeconds" => Some((
            shown(current.health_check_grace_period_seconds),
            shown(spec.health_check_grace_period_seconds),
        )),
        "enableExecuteCommand" => Some((
            current.enable_execute_command.to_string(),
            shown(spec.enable_execute_command),
        )),
        "availabilityZoneRebalancing" => Some((
            shown(current.availability_zone_rebalancing().map(|v| v.as_str())),
            shown(spec.availability_zone_rebalancing.as_deref()),
        )),
        "propagateTags" => Some((
            shown(current.propagate_tags().map(|v| v.as_str())),
            shown(spec.propagate_tags.as_deref()),
        )),
        _ => None,
    };
    match change {
        Some((was, will)) => format!("{field} {was} → {will}"),
        None => field.to_string(),
    }
}
