//! `spec.autoscaling` of an EcsService against Application Auto Scaling, pure: the scalable
//! target `service/<cluster>/<service>` (dimension `ecs:service:DesiredCount`), its policies and
//! scheduled actions as the spec asks for them, what differs from what Application Auto Scaling
//! reports ([`plan`]), and the status. The controller reads, plans and applies; `ecs-operator
//! diff` can print the same plan.
//!
//! The operator owns the whole scaling configuration of a service it owns: policies and
//! scheduled actions of its target that the spec does not list are deleted. A field the spec
//! leaves out (a cooldown, disableScaleIn, a time zone) is Application Auto Scaling's default
//! and not compared.

use aws_sdk_applicationautoscaling::operation::put_scaling_policy::builders::PutScalingPolicyInputBuilder;
use aws_sdk_applicationautoscaling::operation::put_scheduled_action::builders::PutScheduledActionInputBuilder;
use aws_sdk_applicationautoscaling::operation::register_scalable_target::builders::RegisterScalableTargetInputBuilder;
use std::time::Duration;

use aws_sdk_applicationautoscaling::types as aas;
use k8s_openapi::jiff::Timestamp;

use super::service::build_error;
use crate::Result;
use crate::api::{
    AutoscalingStatus, EcsServiceSpec, ServiceAutoscaling,
    service::{
        CustomizedMetricSpecification, MetricDimension, PredefinedMetricSpecification,
        ScalableTargetAction, ScalingPolicyStatus, ScheduledAction, StepAdjustment,
        StepScalingPolicy, SuspendedState, TargetTrackingPolicy,
    },
};

/// The scalable dimension of an ECS service: its desired task count.
pub const DIMENSION: aas::ScalableDimension = aas::ScalableDimension::EcsServiceDesiredCount;
/// The service namespace of ECS in Application Auto Scaling.
pub const NAMESPACE: aas::ServiceNamespace = aas::ServiceNamespace::Ecs;

/// The resource ID of a service's scalable target: `service/<cluster name>/<service name>`
/// (RegisterScalableTarget ResourceId). `cluster` may be a name or an ARN.
pub fn resource_id(cluster: &str, service: &str) -> String {
    let cluster = cluster.rsplit('/').next().unwrap_or(cluster);
    format!("service/{cluster}/{service}")
}

/// The count CreateService starts an autoscaled service with: 1 (the operator's default)
/// brought into minCapacity..maxCapacity, as RegisterScalableTarget would bring it ("it changes
/// the resource's current capacity to a value that is inside of this range"). None without
/// autoscaling.
pub fn initial_count(spec: &EcsServiceSpec) -> Option<i32> {
    spec.autoscaling
        .as_ref()
        .map(|a| 1.max(a.min_capacity).min(a.max_capacity))
}

/// Refuses what admission refuses, for objects admitted by an older CRD: desiredCount next to
/// autoscaling, min above max.
pub fn validate(spec: &EcsServiceSpec) -> Result<()> {
    let Some(autoscaling) = &spec.autoscaling else {
        return Ok(());
    };
    if spec.desired_count.is_some() {
        return Err(crate::Error::InvalidSpec(
            "spec.desiredCount and spec.autoscaling exclude each other: Application Auto Scaling owns the task count; remove desiredCount".into(),
        ));
    }
    if autoscaling.min_capacity > autoscaling.max_capacity {
        return Err(crate::Error::InvalidSpec(
            "autoscaling.minCapacity cannot be greater than autoscaling.maxCapacity".into(),
        ));
    }
    Ok(())
}

/// What Application Auto Scaling reports for a service: its scalable target (None: not
/// registered), the target's scaling policies and its scheduled actions.
#[derive(Clone, Debug, Default)]
pub struct Current {
    pub target: Option<aas::ScalableTarget>,
    pub policies: Vec<aas::ScalingPolicy>,
    pub scheduled_actions: Vec<aas::ScheduledAction>,
}

/// The calls that bring Application Auto Scaling in line, in order: register (or update) the
/// target, delete policies and scheduled actions the spec no longer lists, put those that are
/// missing or differ; or deregister the target (which deletes its policies and scheduled
/// actions too) when the spec no longer asks for autoscaling.
#[derive(Debug, Default)]
pub struct Plan {
    pub register: Option<RegisterScalableTargetInputBuilder>,
    pub delete_policies: Vec<String>,
    pub put_policies: Vec<PutScalingPolicyInputBuilder>,
    pub delete_scheduled_actions: Vec<String>,
    pub put_scheduled_actions: Vec<PutScheduledActionInputBuilder>,
    pub deregister: bool,
    /// What changes, one phrase each ("scalable target 2..10 (was 1..4)", "policy cpu
    /// created"), for the event and for diff.
    pub changes: Vec<String>,
}

impl Plan {
    /// Nothing to do.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// The plan as one line, for the event and for diff: "Application Auto Scaling of ECS
    /// service web: scalable target registered with capacity 2..10; policy cpu70 created".
    pub fn summary(&self, service: &str) -> String {
        format!(
            "Application Auto Scaling of ECS service {service}: {}",
            self.changes.join("; ")
        )
    }
}

/// Plans the calls that make `current` what `desired` asks (None: no autoscaling; a registered
/// target is deregistered). Errors: InvalidSpec for a request the SDK cannot build.
pub fn plan(
    desired: Option<&ServiceAutoscaling>,
    resource_id: &str,
    current: &Current,
) -> Result<Plan> {
    let mut plan = Plan::default();
    let Some(desired) = desired else {
        if current.target.is_some() {
            plan.deregister = true;
            plan.changes.push(
                "scalable target deregistered (with its policies and scheduled actions)".into(),
            );
        }
        return Ok(plan);
    };
    plan_target(desired, resource_id, current, &mut plan);
    plan_policies(desired, resource_id, current, &mut plan)?;
    plan_scheduled_actions(desired, resource_id, current, &mut plan);
    Ok(plan)
}

fn plan_target(
    desired: &ServiceAutoscaling,
    resource_id: &str,
    current: &Current,
    plan: &mut Plan,
) {
    let suspended = desired.suspended_state.clone().unwrap_or_default();
    let change = match &current.target {
        None => Some(format!(
            "scalable target registered with capacity {}..{}",
            desired.min_capacity, desired.max_capacity
        )),
        Some(target) => {
            let mut what = Vec::new();
            if (target.min_capacity(), target.max_capacity())
                != (desired.min_capacity, desired.max_capacity)
            {
                what.push(format!(
                    "capacity {}..{} (was {}..{})",
                    desired.min_capacity,
                    desired.max_capacity,
                    target.min_capacity(),
                    target.max_capacity()
                ));
            }
            if suspended_of(target.suspended_state()) != suspended {
                what.push("suspendedState".to_string());
            }
            (!what.is_empty()).then(|| format!("scalable target {}", what.join(", ")))
        }
    };
    if let Some(change) = change {
        plan.changes.push(change);
        plan.register = Some(
            aws_sdk_applicationautoscaling::operation::register_scalable_target::RegisterScalableTargetInput::builder()
                .service_namespace(NAMESPACE)
                .resource_id(resource_id)
                .scalable_dimension(DIMENSION)
                .min_capacity(desired.min_capacity)
                .max_capacity(desired.max_capacity)
                .suspended_state(
                    aas::SuspendedState::builder()
                        .dynamic_scaling_in_suspended(suspended.dynamic_scaling_in_suspended)
                        .dynamic_scaling_out_suspended(suspended.dynamic_scaling_out_suspended)
                        .scheduled_scaling_suspended(suspended.scheduled_scaling_suspended)
                        .build(),
                ),
        );
    }
}

/// A missing SuspendedState (moto answers null) reads as nothing suspended.
fn suspended_of(state: Option<&aas::SuspendedState>) -> SuspendedState {
    state.map_or_else(SuspendedState::default, |s| SuspendedState {
        dynamic_scaling_in_suspended: s.dynamic_scaling_in_suspended().unwrap_or(false),
        dynamic_scaling_out_suspended: s.dynamic_scaling_out_suspended().unwrap_or(false),
        scheduled_scaling_suspended: s.scheduled_scaling_suspended().unwrap_or(false),
    })
}

fn plan_policies(
    desired: &ServiceAutoscaling,
    resource_id: &str,
    current: &Current,
    plan: &mut Plan,
) -> Result<()> {
    let wanted = |name: &str| {
        desired
            .target_tracking
            .iter()
            .any(|p| p.policy_name == name)
            || desired.step_scaling.iter().any(|p| p.policy_name == name)
    };
    for policy in &current.policies {
        if !wanted(policy.policy_name()) {
            plan.delete_policies.push(policy.policy_name().to_string());
            plan.changes
                .push(format!("policy {} deleted", policy.policy_name()));
        }
    }
    let find = |name: &str| current.policies.iter().find(|p| p.policy_name() == name);
    for policy in &desired.target_tracking {
        let existing = find(&policy.policy_name);
        let same = existing
            .and_then(|p| p.target_tracking_scaling_policy_configuration())
            .and_then(read_target_tracking)
            .is_some_and(|read| target_tracking_matches(policy, &read));
        if !same {
            plan.changes
                .push(policy_change(&policy.policy_name, existing.is_some()));
            plan.put_policies
                .push(put_target_tracking(policy, resource_id)?);
        }
    }
    for policy in &desired.step_scaling {
        let existing = find(&policy.policy_name);
        let same = existing
            .and_then(|p| p.step_scaling_policy_configuration())
            .is_some_and(|read| step_scaling_matches(policy, read));
        if !same {
            plan.changes
                .push(policy_change(&policy.policy_name, existing.is_some()));
            plan.put_policies
                .push(put_step_scaling(policy, resource_id)?);
        }
    }
    Ok(())
}

fn policy_change(name: &str, existed: bool) -> String {
    if existed {
        format!("policy {name} updated")
    } else {
        format!("policy {name} created")
    }
}

/// A field the spec leaves out is not compared.
fn same_if_set<T: PartialEq>(spec: Option<T>, read: Option<T>) -> bool {
    spec.is_none() || spec == read
}

/// A target tracking configuration as read, in the spec's terms (None: a shape the spec cannot
/// express, such as metric math, which the spec then replaces).
fn read_target_tracking(
    config: &aas::TargetTrackingScalingPolicyConfiguration,
) -> Option<TargetTrackingPolicy> {
    let predefined =
        config
            .predefined_metric_specification()
            .map(|m| PredefinedMetricSpecification {
                predefined_metric_type: m.predefined_metric_type().as_str().to_string(),
                resource_label: m.resource_label().map(str::to_string),
            });
    let customized = match config.customized_metric_specification() {
        Some(m) if !m.metrics().is_empty() => return None,
        Some(m) => Some(CustomizedMetricSpecification {
            metric_name: m.metric_name().unwrap_or_default().to_string(),
            namespace: m.namespace().unwrap_or_default().to_string(),
            dimensions: m
                .dimensions()
                .iter()
                .map(|d| MetricDimension {
                    name: d.name().to_string(),
                    value: d.value().to_string(),
                })
                .collect(),
            statistic: m
                .statistic()
                .map(|s| s.as_str().to_string())
                .unwrap_or_default(),
            unit: m.unit().map(str::to_string),
        }),
        None => None,
    };
    Some(TargetTrackingPolicy {
        policy_name: String::new(),
        target_value: config.target_value(),
        predefined_metric_specification: predefined,
        customized_metric_specification: customized,
        scale_in_cooldown: config.scale_in_cooldown(),
        scale_out_cooldown: config.scale_out_cooldown(),
        disable_scale_in: config.disable_scale_in(),
    })
}

fn target_tracking_matches(spec: &TargetTrackingPolicy, read: &TargetTrackingPolicy) -> bool {
    let sorted = |m: &Option<CustomizedMetricSpecification>| {
        m.clone().map(|mut m| {
            m.dimensions
                .sort_by(|a, b| (&a.name, &a.value).cmp(&(&b.name, &b.value)));
            m
        })
    };
    spec.target_value == read.target_value
        && spec.predefined_metric_specification == read.predefined_metric_specification
        && sorted(&spec.customized_metric_specification)
            == sorted(&read.customized_metric_specification)
        && same_if_set(spec.scale_in_cooldown, read.scale_in_cooldown)
        && same_if_set(spec.scale_out_cooldown, read.scale_out_cooldown)
        // disableScaleIn left out is false, and so is one Application Auto Scaling leaves out.
        && spec.disable_scale_in.unwrap_or(false) == read.disable_scale_in.unwrap_or(false)
}

/// A step scaling configuration as read, in the spec's terms.
fn read_step_scaling(name: &str, read: &aas::StepScalingPolicyConfiguration) -> StepScalingPolicy {
    StepScalingPolicy {
        policy_name: name.to_string(),
        adjustment_type: read
            .adjustment_type()
            .map(|t| t.as_str().to_string())
            .unwrap_or_default(),
        step_adjustments: read
            .step_adjustments()
            .iter()
            .map(|s| StepAdjustment {
                metric_interval_lower_bound: s.metric_interval_lower_bound(),
                metric_interval_upper_bound: s.metric_interval_upper_bound(),
                scaling_adjustment: s.scaling_adjustment(),
            })
            .collect(),
        cooldown: read.cooldown(),
        metric_aggregation_type: read
            .metric_aggregation_type()
            .map(|t| t.as_str().to_string()),
        min_adjustment_magnitude: read.min_adjustment_magnitude(),
    }
}

fn step_scaling_matches(
    spec: &StepScalingPolicy,
    read: &aas::StepScalingPolicyConfiguration,
) -> bool {
    let read = read_step_scaling(&spec.policy_name, read);
    spec.adjustment_type == read.adjustment_type
        && spec.step_adjustments == read.step_adjustments
        && same_if_set(spec.cooldown, read.cooldown)
        && same_if_set(
            spec.metric_aggregation_type.as_deref(),
            read.metric_aggregation_type.as_deref(),
        )
        && same_if_set(spec.min_adjustment_magnitude, read.min_adjustment_magnitude)
}

fn put_policy(
    name: &str,
    resource_id: &str,
    policy_type: aas::PolicyType,
) -> PutScalingPolicyInputBuilder {
    aws_sdk_applicationautoscaling::operation::put_scaling_policy::PutScalingPolicyInput::builder()
        .policy_name(name)
        .service_namespace(NAMESPACE)
        .resource_id(resource_id)
        .scalable_dimension(DIMENSION)
        .policy_type(policy_type)
}

/// PutScalingPolicy of a target tracking policy.
pub fn put_target_tracking(
    policy: &TargetTrackingPolicy,
    resource_id: &str,
) -> Result<PutScalingPolicyInputBuilder> {
    let mut config = aas::TargetTrackingScalingPolicyConfiguration::builder()
        .target_value(policy.target_value)
        .set_scale_in_cooldown(policy.scale_in_cooldown)
        .set_scale_out_cooldown(policy.scale_out_cooldown)
        .set_disable_scale_in(policy.disable_scale_in);
    if let Some(m) = &policy.predefined_metric_specification {
        config = config.predefined_metric_specification(
            aas::PredefinedMetricSpecification::builder()
                .predefined_metric_type(aas::MetricType::from(m.predefined_metric_type.as_str()))
                .set_resource_label(m.resource_label.clone())
                .build()
                .map_err(build_error("predefinedMetricSpecification"))?,
        );
    }
    if let Some(m) = &policy.customized_metric_specification {
        let dimensions = m
            .dimensions
            .iter()
            .map(|d| {
                aas::MetricDimension::builder()
                    .name(&d.name)
                    .value(&d.value)
                    .build()
                    .map_err(build_error("customizedMetricSpecification.dimensions"))
            })
            .collect::<Result<Vec<_>>>()?;
        config = config.customized_metric_specification(
            aas::CustomizedMetricSpecification::builder()
                .metric_name(&m.metric_name)
                .namespace(&m.namespace)
                .set_dimensions((!dimensions.is_empty()).then_some(dimensions))
                .statistic(aas::MetricStatistic::from(m.statistic.as_str()))
                .set_unit(m.unit.clone())
                .build(),
        );
    }
    let config = config.build().map_err(build_error("targetTracking"))?;
    Ok(put_policy(
        &policy.policy_name,
        resource_id,
        aas::PolicyType::TargetTrackingScaling,
    )
    .target_tracking_scaling_policy_configuration(config))
}

/// PutScalingPolicy of a step scaling policy.
pub fn put_step_scaling(
    policy: &StepScalingPolicy,
    resource_id: &str,
) -> Result<PutScalingPolicyInputBuilder> {
    let steps = policy
        .step_adjustments
        .iter()
        .map(|s| {
            aas::StepAdjustment::builder()
                .set_metric_interval_lower_bound(s.metric_interval_lower_bound)
                .set_metric_interval_upper_bound(s.metric_interval_upper_bound)
                .scaling_adjustment(s.scaling_adjustment)
                .build()
                .map_err(build_error("stepScaling.stepAdjustments"))
        })
        .collect::<Result<Vec<_>>>()?;
    let config = aas::StepScalingPolicyConfiguration::builder()
        .adjustment_type(aas::AdjustmentType::from(policy.adjustment_type.as_str()))
        .set_step_adjustments(Some(steps))
        .set_cooldown(policy.cooldown)
        .set_metric_aggregation_type(
            policy
                .metric_aggregation_type
                .as_deref()
                .map(aas::MetricAggregationType::from),
        )
        .set_min_adjustment_magnitude(policy.min_adjustment_magnitude)
        .build();
    Ok(put_policy(
        &policy.policy_name,
        resource_id,
        aas::PolicyType::StepScaling,
    )
    .step_scaling_policy_configuration(config))
}

fn plan_scheduled_actions(
    desired: &ServiceAutoscaling,
    resource_id: &str,
    current: &Current,
    plan: &mut Plan,
) {
    for action in &current.scheduled_actions {
        let name = action.scheduled_action_name();
        if !desired
            .scheduled_actions
            .iter()
            .any(|a| a.scheduled_action_name == name)
        {
            plan.delete_scheduled_actions.push(name.to_string());
            plan.changes
                .push(format!("scheduled action {name} deleted"));
        }
    }
    for action in &desired.scheduled_actions {
        let existing = current
            .scheduled_actions
            .iter()
            .find(|a| a.scheduled_action_name() == action.scheduled_action_name);
        if existing.is_some_and(|read| scheduled_action_matches(action, read)) {
            continue;
        }
        let verb = if existing.is_some() {
            "updated"
        } else {
            "created"
        };
        plan.changes.push(format!(
            "scheduled action {} {verb}",
            action.scheduled_action_name
        ));
        plan.put_scheduled_actions
            .push(put_scheduled_action(action, resource_id));
    }
}

fn scheduled_action_matches(spec: &ScheduledAction, read: &aas::ScheduledAction) -> bool {
    let range = read.scalable_target_action().map(|r| ScalableTargetAction {
        min_capacity: r.min_capacity(),
        max_capacity: r.max_capacity(),
    });
    spec.schedule == read.schedule()
        && same_if_set(spec.timezone.as_deref(), read.timezone())
        && Some(&spec.scalable_target_action) == range.as_ref()
}

/// PutScheduledAction of one scheduled action.
pub fn put_scheduled_action(
    action: &ScheduledAction,
    resource_id: &str,
) -> PutScheduledActionInputBuilder {
    aws_sdk_applicationautoscaling::operation::put_scheduled_action::PutScheduledActionInput::builder()
        .service_namespace(NAMESPACE)
        .resource_id(resource_id)
        .scalable_dimension(DIMENSION)
        .scheduled_action_name(&action.scheduled_action_name)
        .schedule(&action.schedule)
        .set_timezone(action.timezone.clone())
        .scalable_target_action(
            aas::ScalableTargetAction::builder()
                .set_min_capacity(action.scalable_target_action.min_capacity)
                .set_max_capacity(action.scalable_target_action.max_capacity)
                .build(),
        )
}

/// `spec.autoscaling` as Application Auto Scaling has it (for `ecs-operator import`): None
/// without a scalable target. Policies the spec cannot express (predictive scaling, metric math)
/// are left out and named in the second value; so are the scheduled actions' start and end
/// times, which the spec does not hold.
pub fn spec_of(current: &Current) -> (Option<ServiceAutoscaling>, Vec<String>) {
    let Some(target) = &current.target else {
        return (None, Vec::new());
    };
    let mut left_out = Vec::new();
    let mut spec = ServiceAutoscaling {
        min_capacity: target.min_capacity(),
        max_capacity: target.max_capacity(),
        ..Default::default()
    };
    for policy in &current.policies {
        let name = policy.policy_name().to_string();
        if let Some(config) = policy.target_tracking_scaling_policy_configuration()
            && let Some(read) = read_target_tracking(config)
        {
            spec.target_tracking.push(TargetTrackingPolicy {
                policy_name: name,
                ..read
            });
        } else if let Some(config) = policy.step_scaling_policy_configuration() {
            spec.step_scaling.push(read_step_scaling(&name, config));
        } else {
            left_out.push(format!("policy {name}"));
        }
    }
    for action in &current.scheduled_actions {
        let name = action.scheduled_action_name();
        if action.start_time().is_some() || action.end_time().is_some() {
            left_out.push(format!("the start and end time of scheduled action {name}"));
        }
        let range = action.scalable_target_action();
        spec.scheduled_actions.push(ScheduledAction {
            scheduled_action_name: name.to_string(),
            schedule: action.schedule().to_string(),
            timezone: action.timezone().map(str::to_string),
            scalable_target_action: ScalableTargetAction {
                min_capacity: range.and_then(|r| r.min_capacity()),
                max_capacity: range.and_then(|r| r.max_capacity()),
            },
        });
    }
    let suspended = suspended_of(target.suspended_state());
    spec.suspended_state = (suspended != SuspendedState::default()).then_some(suspended);
    (Some(spec), left_out)
}

/// Whether a reconcile reads Application Auto Scaling: on a spec change, when autoscaling was
/// added or removed since the last read, and once `resync` after the last read (drift); not on
/// the reconciles in between (rollout polls, watch events), which keep the status they have.
/// Application Auto Scaling has its own request limits per account and Region, and asks
/// callers to make "only necessary calls".
pub fn should_read(
    desired: Option<&ServiceAutoscaling>,
    old: Option<&AutoscalingStatus>,
    spec_changed: bool,
    resync: Duration,
    now: Timestamp,
) -> bool {
    let Some(old) = old else {
        return desired.is_some();
    };
    let checked = old
        .checked_at
        .as_deref()
        .and_then(|at| at.parse::<Timestamp>().ok());
    let due = checked.is_none_or(|at| {
        // A second's slack: the resync that follows a read comes a resync period after it.
        now.as_second() - at.as_second() + 1 >= resync.as_secs() as i64
    });
    spec_changed || desired.is_none() || due
}

/// The status of what Application Auto Scaling reports (None: no target registered), read at
/// `now`. Policies and scheduled actions in name order, so a reread does not reorder status.
pub fn status(resource_id: &str, current: &Current, now: Timestamp) -> Option<AutoscalingStatus> {
    let target = current.target.as_ref()?;
    let mut policies: Vec<ScalingPolicyStatus> = current
        .policies
        .iter()
        .map(|p| {
            let mut alarms: Vec<String> = p
                .alarms()
                .iter()
                .map(|a| a.alarm_name().to_string())
                .collect();
            alarms.sort();
            ScalingPolicyStatus {
                policy_name: p.policy_name().to_string(),
                policy_type: p.policy_type().as_str().to_string(),
                policy_arn: p.policy_arn().to_string(),
                alarms,
            }
        })
        .collect();
    policies.sort_by(|a, b| a.policy_name.cmp(&b.policy_name));
    let mut scheduled_actions: Vec<String> = current
        .scheduled_actions
        .iter()
        .map(|a| a.scheduled_action_name().to_string())
        .collect();
    scheduled_actions.sort();
    Some(AutoscalingStatus {
        scalable_target_arn: target.scalable_target_arn().map(str::to_string),
        resource_id: resource_id.to_string(),
        min_capacity: Some(target.min_capacity()),
        max_capacity: Some(target.max_capacity()),
        policies,
        scheduled_actions,
        checked_at: Some(now.to_string()),
    })
}

#[cfg(test)]
mod tests;
