//! EcsScheduledTask: the schedule EventBridge Scheduler should hold, read back from GetSchedule in
//! the same shape, what differs, and status. Pure: the controller does the calls.
//!
//! Sources: CreateSchedule, UpdateSchedule, Target, EcsParameters and FlexibleTimeWindow in the
//! EventBridge Scheduler API reference
//! (<https://docs.aws.amazon.com/scheduler/latest/APIReference/>). UpdateSchedule replaces the
//! whole schedule ("any values you do not specify are set to their defaults"), so every write
//! sends the whole [`Shape`].

use std::collections::{BTreeMap, HashMap};

use aws_sdk_scheduler::operation::get_schedule::GetScheduleOutput;
use aws_sdk_scheduler::types as sched;
use aws_smithy_types::DateTime;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;

use crate::api::{
    CLUSTER_ID_TAG, EcsScheduledTaskSpec, EcsScheduledTaskStatus, OWNER_TAG, UID_TAG,
};
use crate::mapping::tags::{self, OwnerIdentity};
use crate::{Error, Result};

/// The group of a schedule whose spec names none (the Scheduler's own default group).
pub const DEFAULT_GROUP: &str = "default";
/// The Scheduler's time zone when none is given.
pub const UTC: &str = "UTC";
/// Scheduler `State` values.
pub const ENABLED: &str = "ENABLED";
pub const DISABLED: &str = "DISABLED";
/// The start of the Description of a schedule this operator writes.
const DESCRIPTION_PREFIX: &str = "Managed by ecs-operator;";

/// The schedule's address: group and name.
pub fn group_name(spec: &EcsScheduledTaskSpec) -> &str {
    spec.group_name.as_deref().unwrap_or(DEFAULT_GROUP)
}

/// `spec.scheduleName`, else `metadata.name`.
pub fn schedule_name<'a>(spec: &'a EcsScheduledTaskSpec, name: &'a str) -> &'a str {
    spec.schedule_name.as_deref().unwrap_or(name)
}

/// CreateSchedule's ClientToken (1 to 64 of `[a-zA-Z0-9-_]`, "Ensuring idempotency"): the uid, so
/// a create repeated after a crash is the same request.
pub fn client_token(uid: &str) -> String {
    uid.chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .take(64)
        .collect()
}

/// The Scheduler has tags on schedule groups only, not on schedules: a schedule this operator
/// writes carries the ownership tags in its Description (at most 512 characters), as
/// `Managed by ecs-operator; ecs.operator.dev/owner=<ns>/<name> ecs.operator.dev/uid=<uid>
/// ecs.operator.dev/cluster-id=<uid>`.
pub fn description(identity: &OwnerIdentity) -> String {
    format!(
        "{DESCRIPTION_PREFIX} {OWNER_TAG}={} {UID_TAG}={} {CLUSTER_ID_TAG}={}",
        identity.owner, identity.uid, identity.cluster_id
    )
}

/// The ownership tags a Description carries (none for a schedule written by anyone else), to be
/// judged as ECS tags are ([`OwnerIdentity::judge`]).
pub fn owner_tags(description: Option<&str>) -> BTreeMap<String, String> {
    let Some(rest) = description.and_then(|d| d.strip_prefix(DESCRIPTION_PREFIX)) else {
        return BTreeMap::new();
    };
    rest.split_whitespace()
        .filter_map(|pair| pair.split_once('='))
        .filter(|(key, _)| [OWNER_TAG, UID_TAG, CLUSTER_ID_TAG].contains(key))
        .map(|(key, value)| (key.to_string(), value.to_string()))
        .collect()
}

/// What the run resolves to: the cluster ARN (Target `Arn`) and the task definition revision.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Resolved {
    pub cluster_arn: String,
    pub task_definition_arn: String,
}

/// A schedule, as far as the operator writes it, with everything a comparison needs normalized
/// (sets sorted, the Scheduler's defaults filled in, dates in whole seconds).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Shape {
    pub description: String,
    pub expression: String,
    /// IANA zone; UTC when none was given.
    pub timezone: String,
    /// OFF or FLEXIBLE, and the window in minutes for FLEXIBLE.
    pub window: (String, Option<i32>),
    /// ENABLED or DISABLED.
    pub state: String,
    /// Unix seconds.
    pub start_date: Option<i64>,
    pub end_date: Option<i64>,
    pub target: TargetShape,
}

/// The target of a [`Shape`]: ECS RunTask on a cluster, with the Scheduler's EcsParameters.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TargetShape {
    /// The cluster ARN.
    pub arn: String,
    pub role_arn: String,
    /// RunTask `overrides`, as JSON (the target's Input).
    pub input: Option<serde_json::Value>,
    pub task_definition_arn: String,
    pub task_count: i32,
    pub launch_type: Option<String>,
    /// (capacityProvider, weight, base), in the spec's order.
    pub capacity_provider_strategy: Vec<(String, Option<i32>, Option<i32>)>,
    pub platform_version: Option<String>,
    /// (subnets, security groups, assignPublicIp), sets sorted.
    pub network: Option<(Vec<String>, Vec<String>, Option<String>)>,
    /// (type, expression).
    pub placement_constraints: Vec<(String, Option<String>)>,
    /// (type, field).
    pub placement_strategy: Vec<(String, Option<String>)>,
    pub group: Option<String>,
    pub propagate_tags: Option<String>,
    pub tags: BTreeMap<String, String>,
    pub enable_ecs_managed_tags: bool,
    pub enable_execute_command: bool,
}

/// The schedule the spec describes.
pub fn desired(
    spec: &EcsScheduledTaskSpec,
    resolved: &Resolved,
    identity: &OwnerIdentity,
) -> Result<Shape> {
    let input = spec
        .overrides
        .as_ref()
        .map(serde_json::to_value)
        .transpose()?;
    let window = spec.flexible_time_window.as_ref().map_or_else(
        || ("OFF".to_string(), None),
        |w| (w.mode.clone(), w.maximum_window_in_minutes),
    );
    let seconds = |t: &Option<Time>| t.as_ref().map(|t| t.0.as_second());
    Ok(Shape {
        description: description(identity),
        expression: spec.schedule_expression.clone(),
        timezone: spec
            .schedule_expression_timezone
            .clone()
            .unwrap_or_else(|| UTC.into()),
        window,
        state: if spec.suspend == Some(true) {
            DISABLED
        } else {
            ENABLED
        }
        .into(),
        start_date: seconds(&spec.start_date),
        end_date: seconds(&spec.end_date),
        target: TargetShape {
            arn: resolved.cluster_arn.clone(),
            role_arn: spec.role_arn.clone(),
            input,
            task_definition_arn: resolved.task_definition_arn.clone(),
            task_count: spec.count.unwrap_or(1),
            launch_type: spec.launch_type.clone(),
            capacity_provider_strategy: spec
                .capacity_provider_strategy
                .iter()
                .map(|c| (c.capacity_provider.clone(), c.weight, c.base))
                .collect(),
            platform_version: spec.platform_version.clone(),
            network: spec
                .network_configuration
                .as_ref()
                .and_then(|n| n.awsvpc_configuration.as_ref())
                .map(|v| {
                    network(
                        v.subnets.clone(),
                        v.security_groups.clone(),
                        v.assign_public_ip.clone(),
                    )
                }),
            placement_constraints: spec
                .placement_constraints
                .iter()
                .map(|c| (c.type_.clone(), c.expression.clone()))
                .collect(),
            placement_strategy: spec
                .placement_strategy
                .iter()
                .map(|s| (s.type_.clone(), s.field.clone()))
                .collect(),
            group: spec.group.clone(),
            propagate_tags: spec.propagate_tags.clone(),
            tags: tags::desired_tags(&spec.tags, identity),
            enable_ecs_managed_tags: spec.enable_ecs_managed_tags.unwrap_or(false),
            enable_execute_command: spec.enable_execute_command.unwrap_or(false),
        },
    })
}

fn network(
    mut subnets: Vec<String>,
    mut security_groups: Vec<String>,
    assign_public_ip: Option<String>,
) -> (Vec<String>, Vec<String>, Option<String>) {
    subnets.sort();
    security_groups.sort();
    (subnets, security_groups, assign_public_ip)
}

/// The schedule as GetSchedule reports it, in the shape of [`desired`].
pub fn observed(output: &GetScheduleOutput) -> Shape {
    let target = output.target.as_ref();
    let ecs = target.and_then(|t| t.ecs_parameters.as_ref());
    let vpc = ecs
        .and_then(|e| e.network_configuration.as_ref())
        .and_then(|n| n.awsvpc_configuration.as_ref());
    Shape {
        description: output.description.clone().unwrap_or_default(),
        expression: output.schedule_expression.clone().unwrap_or_default(),
        timezone: output
            .schedule_expression_timezone
            .clone()
            .unwrap_or_else(|| UTC.into()),
        window: output.flexible_time_window.as_ref().map_or_else(
            || ("OFF".to_string(), None),
            |w| (w.mode.as_str().to_string(), w.maximum_window_in_minutes),
        ),
        state: output
            .state
            .as_ref()
            .map_or(ENABLED, |s| s.as_str())
            .to_string(),
        start_date: output.start_date.map(|d| d.secs()),
        end_date: output.end_date.map(|d| d.secs()),
        target: TargetShape {
            arn: target.map(|t| t.arn.clone()).unwrap_or_default(),
            role_arn: target.map(|t| t.role_arn.clone()).unwrap_or_default(),
            // Text that is not JSON stays text, and so differs from any overrides.
            input: target.and_then(|t| t.input.as_deref()).map(|input| {
                serde_json::from_str(input)
                    .unwrap_or_else(|_| serde_json::Value::String(input.into()))
            }),
            task_definition_arn: ecs
                .map(|e| e.task_definition_arn.clone())
                .unwrap_or_default(),
            task_count: ecs.and_then(|e| e.task_count).unwrap_or(1),
            launch_type: ecs
                .and_then(|e| e.launch_type.as_ref())
                .map(|l| l.as_str().to_string()),
            capacity_provider_strategy: ecs
                .and_then(|e| e.capacity_provider_strategy.as_ref())
                .into_iter()
                .flatten()
                .map(|c| (c.capacity_provider.clone(), Some(c.weight), Some(c.base)))
                .collect(),
            platform_version: ecs.and_then(|e| e.platform_version.clone()),
            network: vpc.map(|v| {
                network(
                    v.subnets.clone(),
                    v.security_groups.clone().unwrap_or_default(),
                    v.assign_public_ip.as_ref().map(|a| a.as_str().to_string()),
                )
            }),
            placement_constraints: ecs
                .and_then(|e| e.placement_constraints.as_ref())
                .into_iter()
                .flatten()
                .map(|c| {
                    let type_ = c.r#type.as_ref().map(|t| t.as_str().to_string());
                    (type_.unwrap_or_default(), c.expression.clone())
                })
                .collect(),
            placement_strategy: ecs
                .and_then(|e| e.placement_strategy.as_ref())
                .into_iter()
                .flatten()
                .map(|s| {
                    let type_ = s.r#type.as_ref().map(|t| t.as_str().to_string());
                    (type_.unwrap_or_default(), s.field.clone())
                })
                .collect(),
            group: ecs.and_then(|e| e.group.clone()),
            propagate_tags: ecs
                .and_then(|e| e.propagate_tags.as_ref())
                .map(|p| p.as_str().to_string()),
            tags: ecs
                .and_then(|e| e.tags.as_ref())
                .into_iter()
                .flatten()
                .filter_map(|tag| Some((tag.get("key")?.clone(), tag.get("value")?.clone())))
                .collect(),
            enable_ecs_managed_tags: ecs.and_then(|e| e.enable_ecs_managed_tags) == Some(true),
            enable_execute_command: ecs.and_then(|e| e.enable_execute_command) == Some(true),
        },
    }
}

/// The fields of `observed` that differ from `desired`, by their spec names; empty when the
/// schedule is as the spec says. A capacity provider's weight or base the spec leaves out is
/// whatever the Scheduler reports (its default, 0).
pub fn drift(desired: &Shape, observed: &Shape) -> Vec<&'static str> {
    let (d, o) = (&desired.target, &observed.target);
    let strategy_matches = d.capacity_provider_strategy.len() == o.capacity_provider_strategy.len()
        && d.capacity_provider_strategy
            .iter()
            .zip(&o.capacity_provider_strategy)
            .all(|((dn, dw, db), (on, ow, ob))| {
                dn == on
                    && (dw.is_none() || dw == ow || (*dw == Some(0) && ow.is_none()))
                    && (db.is_none() || db == ob || (*db == Some(0) && ob.is_none()))
            });
    [
        (
            "description (ownership)",
            desired.description == observed.description,
        ),
        (
            "scheduleExpression",
            desired.expression == observed.expression,
        ),
        (
            "scheduleExpressionTimezone",
            desired.timezone == observed.timezone,
        ),
        ("flexibleTimeWindow", desired.window == observed.window),
        ("suspend", desired.state == observed.state),
        ("startDate", desired.start_date == observed.start_date),
        ("endDate", desired.end_date == observed.end_date),
        ("cluster", d.arn == o.arn),
        ("roleArn", d.role_arn == o.role_arn),
        ("overrides", d.input == o.input),
        (
            "taskDefinition",
            d.task_definition_arn == o.task_definition_arn,
        ),
        ("count", d.task_count == o.task_count),
        ("launchType", d.launch_type == o.launch_type),
        ("capacityProviderStrategy", strategy_matches),
        ("platformVersion", d.platform_version == o.platform_version),
        ("networkConfiguration", d.network == o.network),
        (
            "placementConstraints",
            d.placement_constraints == o.placement_constraints,
        ),
        (
            "placementStrategy",
            d.placement_strategy == o.placement_strategy,
        ),
        ("group", d.group == o.group),
        ("propagateTags", d.propagate_tags == o.propagate_tags),
        ("tags", d.tags == o.tags),
        (
            "enableECSManagedTags",
            d.enable_ecs_managed_tags == o.enable_ecs_managed_tags,
        ),
        (
            "enableExecuteCommand",
            d.enable_execute_command == o.enable_execute_command,
        ),
    ]
    .into_iter()
    .filter(|(_, same)| !same)
    .map(|(field, _)| field)
    .collect()
}

fn invalid(error: aws_smithy_types::error::operation::BuildError) -> Error {
    Error::InvalidSpec(format!("incomplete schedule: {error}"))
}

/// The Scheduler's FlexibleTimeWindow of a shape.
pub fn flexible_time_window(shape: &Shape) -> Result<sched::FlexibleTimeWindow> {
    sched::FlexibleTimeWindow::builder()
        .mode(sched::FlexibleTimeWindowMode::from(shape.window.0.as_str()))
        .set_maximum_window_in_minutes(shape.window.1)
        .build()
        .map_err(invalid)
}

/// The Scheduler's Target of a shape: ECS RunTask on the cluster, the overrides as Input, the
/// tags as EcsParameters wants them (a list of `{"key": k, "value": v}` maps, which the
/// Scheduler passes to RunTask's `tags`).
pub fn target(shape: &Shape) -> Result<sched::Target> {
    let t = &shape.target;
    let strategy = t
        .capacity_provider_strategy
        .iter()
        .map(|(name, weight, base)| {
            sched::CapacityProviderStrategyItem::builder()
                .capacity_provider(name)
                .weight(weight.unwrap_or(0))
                .base(base.unwrap_or(0))
                .build()
                .map_err(invalid)
        })
        .collect::<Result<Vec<_>>>()?;
    let network = t
        .network
        .as_ref()
        .map(|(subnets, groups, public_ip)| {
            let vpc = sched::AwsVpcConfiguration::builder()
                .set_subnets(Some(subnets.clone()))
                .set_security_groups((!groups.is_empty()).then(|| groups.clone()))
                .set_assign_public_ip(public_ip.as_deref().map(sched::AssignPublicIp::from))
                .build()
                .map_err(invalid)?;
            Ok::<_, Error>(
                sched::NetworkConfiguration::builder()
                    .awsvpc_configuration(vpc)
                    .build(),
            )
        })
        .transpose()?;
    let tags: Vec<HashMap<String, String>> = t
        .tags
        .iter()
        .map(|(k, v)| HashMap::from([("key".into(), k.clone()), ("value".into(), v.clone())]))
        .collect();
    let ecs = sched::EcsParameters::builder()
        .task_definition_arn(&t.task_definition_arn)
        .task_count(t.task_count)
        .set_launch_type(t.launch_type.as_deref().map(sched::LaunchType::from))
        .set_capacity_provider_strategy((!strategy.is_empty()).then_some(strategy))
        .set_platform_version(t.platform_version.clone())
        .set_network_configuration(network)
        .set_placement_constraints((!t.placement_constraints.is_empty()).then(|| {
            t.placement_constraints
                .iter()
                .map(|(type_, expression)| {
                    sched::PlacementConstraint::builder()
                        .r#type(sched::PlacementConstraintType::from(type_.as_str()))
                        .set_expression(expression.clone())
                        .build()
                })
                .collect()
        }))
        .set_placement_strategy((!t.placement_strategy.is_empty()).then(|| {
            t.placement_strategy
                .iter()
                .map(|(type_, field)| {
                    sched::PlacementStrategy::builder()
                        .r#type(sched::PlacementStrategyType::from(type_.as_str()))
                        .set_field(field.clone())
                        .build()
                })
                .collect()
        }))
        .set_group(t.group.clone())
        .set_propagate_tags(t.propagate_tags.as_deref().map(sched::PropagateTags::from))
        .set_tags((!tags.is_empty()).then_some(tags))
        .enable_ecs_managed_tags(t.enable_ecs_managed_tags)
        .enable_execute_command(t.enable_execute_command)
        .build()
        .map_err(invalid)?;
    sched::Target::builder()
        .arn(&t.arn)
        .role_arn(&t.role_arn)
        .set_input(t.input.as_ref().map(|i| i.to_string()))
        .ecs_parameters(ecs)
        .build()
        .map_err(invalid)
}

/// A shape's dates, as the SDK takes them.
pub fn date(seconds: Option<i64>) -> Option<DateTime> {
    seconds.map(DateTime::from_secs)
}

/// Whether `output` is the very schedule `recorded` (this object's status) describes: the same
/// ARN, created at the same second. A schedule deleted and made again under the name has the
/// same ARN but another creation date.
pub fn is_recorded(output: &GetScheduleOutput, recorded: Option<&EcsScheduledTaskStatus>) -> bool {
    let Some(recorded) = recorded else {
        return false;
    };
    let created = output.creation_date.as_ref().map(|d| d.secs());
    recorded.schedule_arn.is_some()
        && recorded.schedule_arn == output.arn
        && created.is_some()
        && recorded.creation_date.as_ref().map(|t| t.0.as_second()) == created
}

/// Status from the schedule GetSchedule (or the write) reported.
pub fn status(output: &GetScheduleOutput, resolved: &Resolved) -> EcsScheduledTaskStatus {
    let time = |d: Option<&DateTime>| {
        d.and_then(|d| Timestamp::from_second(d.secs()).ok())
            .map(Time)
    };
    EcsScheduledTaskStatus {
        schedule_arn: output.arn.clone(),
        state: output.state.as_ref().map(|s| s.as_str().to_string()),
        task_definition_arn: Some(resolved.task_definition_arn.clone()),
        cluster_arn: Some(resolved.cluster_arn.clone()),
        creation_date: time(output.creation_date.as_ref()),
        last_modification_date: time(output.last_modification_date.as_ref()),
        ..Default::default()
    }
}

#[cfg(test)]
#[path = "schedule/tests.rs"]
mod tests;
