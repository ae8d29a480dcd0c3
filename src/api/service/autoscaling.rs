//! `spec.autoscaling` of an EcsService: the service's task count scaled by Application Auto
//! Scaling (a scalable target `service/<cluster>/<name>`, dimension `ecs:service:DesiredCount`),
//! with target tracking and step scaling policies and scheduled actions. Field names follow the
//! Application Auto Scaling API (RegisterScalableTarget, PutScalingPolicy, PutScheduledAction) in
//! camelCase.
//!
//! Limits are Application Auto Scaling's (user guide, "Quotas for Application Auto Scaling"):
//! 50 scaling policies per scalable target, step and target tracking together, and 200 scheduled
//! actions per scalable target, neither adjustable; names of 1 to 256 characters (API reference,
//! PutScalingPolicy PolicyName and PutScheduledAction ScheduledActionName).

use kube::KubeSchema;
use serde::{Deserialize, Serialize};

use crate::api::common::null_as_default;

/// How Application Auto Scaling scales the service. While it is set, Application Auto Scaling
/// owns `desiredCount`: the operator never writes it after creation.
#[derive(KubeSchema, Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[x_kube(
    validation = Rule::new("self.minCapacity <= self.maxCapacity").message("autoscaling.minCapacity cannot be greater than autoscaling.maxCapacity"),
    validation = Rule::new("(has(self.targetTracking) ? size(self.targetTracking) : 0) + (has(self.stepScaling) ? size(self.stepScaling) : 0) <= 50").message("Application Auto Scaling allows at most 50 scaling policies per scalable target (targetTracking and stepScaling together)"),
    validation = Rule::new("!has(self.targetTracking) || !has(self.stepScaling) || self.targetTracking.all(t, !self.stepScaling.exists(s, s.policyName == t.policyName))").message("a policyName is used by a targetTracking and a stepScaling policy: policy names of one service must differ")
)]
pub struct ServiceAutoscaling {
    /// The fewest tasks Application Auto Scaling scales in to (0 or more).
    #[x_kube(validation = Rule::new("self >= 0").message("autoscaling.minCapacity cannot be negative"))]
    pub min_capacity: i32,

    /// The most tasks Application Auto Scaling scales out to.
    #[x_kube(validation = Rule::new("self >= 0").message("autoscaling.maxCapacity cannot be negative"))]
    pub max_capacity: i32,

    /// Target tracking policies: keep a metric at a target value.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[serde(deserialize_with = "null_as_default")]
    #[schemars(length(max = 50))]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["policyName".into()]))]
    pub target_tracking: Vec<TargetTrackingPolicy>,

    /// Step scaling policies: adjust the count in steps when a CloudWatch alarm (your own, whose
    /// action is the policy's ARN in status) goes off.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[serde(deserialize_with = "null_as_default")]
    #[schemars(length(max = 50))]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["policyName".into()]))]
    pub step_scaling: Vec<StepScalingPolicy>,

    /// Scheduled changes of the capacity range (at most 200).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[serde(deserialize_with = "null_as_default")]
    #[schemars(length(max = 200))]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["scheduledActionName".into()]))]
    pub scheduled_actions: Vec<ScheduledAction>,

    /// Suspends scaling in, scaling out or scheduled scaling (all false when omitted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suspended_state: Option<SuspendedState>,
}

/// A target tracking scaling policy (PutScalingPolicy, PolicyType TargetTrackingScaling).
#[derive(KubeSchema, Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("has(self.predefinedMetricSpecification) != has(self.customizedMetricSpecification)").message("a targetTracking policy names exactly one of predefinedMetricSpecification and customizedMetricSpecification"))]
pub struct TargetTrackingPolicy {
    /// Name of the policy, unique among the service's policies.
    #[schemars(length(min = 1, max = 256))]
    pub policy_name: String,

    /// The metric's value to keep, for example 70 (percent CPU). Application Auto Scaling
    /// accepts 8.515920e-109 to 1.174271e+108.
    #[x_kube(validation = Rule::new("self >= 8.515920e-109 && self <= 1.174271e+108").message("targetValue must be greater than 0 (Application Auto Scaling accepts 8.515920e-109 to 1.174271e+108)"))]
    pub target_value: f64,

    /// A metric Application Auto Scaling knows for ECS services.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub predefined_metric_specification: Option<PredefinedMetricSpecification>,

    /// A CloudWatch metric of your own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customized_metric_specification: Option<CustomizedMetricSpecification>,

    /// Seconds after a scale-in before another scale-in may start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = Rule::new("self >= 0").message("scaleInCooldown cannot be negative"))]
    pub scale_in_cooldown: Option<i32>,

    /// Seconds after a scale-out before another scale-out may start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = Rule::new("self >= 0").message("scaleOutCooldown cannot be negative"))]
    pub scale_out_cooldown: Option<i32>,

    /// true: the policy only scales out (another policy or a person scales in).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable_scale_in: Option<bool>,
}

/// A predefined metric of an ECS service.
#[derive(KubeSchema, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("(self.predefinedMetricType == 'ALBRequestCountPerTarget') == has(self.resourceLabel)").message("ALBRequestCountPerTarget needs a resourceLabel (app/<load-balancer>/<id>/targetgroup/<target-group>/<id>); the other metrics take none"))]
pub struct PredefinedMetricSpecification {
    /// ECSServiceAverageCPUUtilization, ECSServiceAverageMemoryUtilization or
    /// ALBRequestCountPerTarget.
    #[schemars(extend("enum" = ["ECSServiceAverageCPUUtilization", "ECSServiceAverageMemoryUtilization", "ALBRequestCountPerTarget"]))]
    pub predefined_metric_type: String,

    /// For ALBRequestCountPerTarget: the load balancer and target group, as
    /// `app/<load-balancer-name>/<load-balancer-id>/targetgroup/<target-group-name>/<target-group-id>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 1023))]
    pub resource_label: Option<String>,
}

/// A CloudWatch metric to track, as in the Application Auto Scaling API.
#[derive(KubeSchema, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomizedMetricSpecification {
    /// Name of the metric.
    pub metric_name: String,
    /// Namespace of the metric.
    pub namespace: String,
    /// Dimensions of the metric, as published.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[serde(deserialize_with = "null_as_default")]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["name".into()]))]
    pub dimensions: Vec<MetricDimension>,
    /// Average, Minimum, Maximum, SampleCount or Sum.
    #[schemars(extend("enum" = ["Average", "Minimum", "Maximum", "SampleCount", "Sum"]))]
    pub statistic: String,
    /// Unit of the metric, as published (optional).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
}

/// A metric dimension.
#[derive(schemars::JsonSchema, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetricDimension {
    /// Dimension name.
    pub name: String,
    /// Dimension value.
    pub value: String,
}

/// A step scaling policy (PutScalingPolicy, PolicyType StepScaling). Its alarm is yours: point a
/// CloudWatch alarm's action at the policy ARN in status.
#[derive(KubeSchema, Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StepScalingPolicy {
    /// Name of the policy, unique among the service's policies.
    #[schemars(length(min = 1, max = 256))]
    pub policy_name: String,
    /// How scalingAdjustment counts: ChangeInCapacity, ExactCapacity or PercentChangeInCapacity.
    #[schemars(extend("enum" = ["ChangeInCapacity", "ExactCapacity", "PercentChangeInCapacity"]))]
    pub adjustment_type: String,
    /// The steps, by how far the metric is from the alarm's threshold.
    #[schemars(length(min = 1))]
    #[x_kube(merge_strategy = ListMerge::Atomic)]
    pub step_adjustments: Vec<StepAdjustment>,
    /// Seconds after a scaling activity in which earlier triggers still count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = Rule::new("self >= 0").message("cooldown cannot be negative"))]
    pub cooldown: Option<i32>,
    /// Average, Minimum or Maximum (Application Auto Scaling's default: Average).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("enum" = ["Average", "Minimum", "Maximum"]))]
    pub metric_aggregation_type: Option<String>,
    /// With PercentChangeInCapacity: the least number of tasks a step changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_adjustment_magnitude: Option<i32>,
}

/// One step of a step scaling policy: bounds relative to the alarm's threshold (omitted: no
/// bound) and the adjustment.
#[derive(schemars::JsonSchema, Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StepAdjustment {
    /// Lower bound (inclusive) of the metric's distance from the threshold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric_interval_lower_bound: Option<f64>,
    /// Upper bound (exclusive) of the metric's distance from the threshold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric_interval_upper_bound: Option<f64>,
    /// Tasks to add (negative: remove), or percent, or the exact count, per adjustmentType.
    pub scaling_adjustment: i32,
}

/// A scheduled change of the capacity range (PutScheduledAction).
#[derive(KubeSchema, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("has(self.scalableTargetAction.minCapacity) || has(self.scalableTargetAction.maxCapacity)").message("a scheduled action sets scalableTargetAction.minCapacity, maxCapacity or both"))]
pub struct ScheduledAction {
    /// Name of the action: 1 to 256 characters, no ':', '/' or '|'.
    #[schemars(length(min = 1, max = 256))]
    #[x_kube(validation = Rule::new("!self.matches('[:/|]')").message("scheduledActionName cannot contain ':', '/' or '|'"))]
    pub scheduled_action_name: String,
    /// When: `at(yyyy-mm-ddThh:mm:ss)`, `rate(value unit)` or `cron(fields)`.
    #[schemars(length(min = 1, max = 1600))]
    #[x_kube(validation = Rule::new("self.matches('^(at|rate|cron)\\\\(.+\\\\)$')").message("schedule is at(yyyy-mm-ddThh:mm:ss), rate(value unit) or cron(fields)"))]
    pub schedule: String,
    /// IANA time zone of the schedule, for example `Europe/Berlin` (default UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 1600))]
    pub timezone: Option<String>,
    /// The capacity range the action sets.
    pub scalable_target_action: ScalableTargetAction,
}

/// The minimum and maximum a scheduled action sets.
#[derive(KubeSchema, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("!has(self.minCapacity) || !has(self.maxCapacity) || self.minCapacity <= self.maxCapacity").message("scalableTargetAction.minCapacity cannot be greater than its maxCapacity"))]
pub struct ScalableTargetAction {
    /// New minimum capacity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = Rule::new("self >= 0").message("minCapacity cannot be negative"))]
    pub min_capacity: Option<i32>,
    /// New maximum capacity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = Rule::new("self >= 0").message("maxCapacity cannot be negative"))]
    pub max_capacity: Option<i32>,
}

/// Scaling activities to suspend (RegisterScalableTarget SuspendedState).
#[derive(schemars::JsonSchema, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SuspendedState {
    /// No scale-in by policies.
    #[serde(default)]
    pub dynamic_scaling_in_suspended: bool,
    /// No scale-out by policies.
    #[serde(default)]
    pub dynamic_scaling_out_suspended: bool,
    /// No scheduled actions run.
    #[serde(default)]
    pub scheduled_scaling_suspended: bool,
}

/// What Application Auto Scaling reports of the service's scaling.
#[derive(schemars::JsonSchema, Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AutoscalingStatus {
    /// ARN of the scalable target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scalable_target_arn: Option<String>,
    /// Its resource ID, `service/<cluster>/<service>`.
    pub resource_id: String,
    /// The range Application Auto Scaling scales in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_capacity: Option<i32>,
    /// The range Application Auto Scaling scales in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_capacity: Option<i32>,
    /// The scaling policies, by name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[serde(deserialize_with = "null_as_default")]
    #[schemars(extend("x-kubernetes-list-type" = "atomic"))]
    pub policies: Vec<ScalingPolicyStatus>,
    /// Names of the scheduled actions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[serde(deserialize_with = "null_as_default")]
    #[schemars(extend("x-kubernetes-list-type" = "atomic"))]
    pub scheduled_actions: Vec<String>,
    /// When the operator last read them (RFC 3339): Application Auto Scaling is read again on a
    /// spec change and once per resync, not on every rollout poll.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("format" = "date-time"))]
    pub checked_at: Option<String>,
}

/// A scaling policy as Application Auto Scaling reports it.
#[derive(schemars::JsonSchema, Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScalingPolicyStatus {
    /// Name of the policy.
    pub policy_name: String,
    /// TargetTrackingScaling or StepScaling.
    pub policy_type: String,
    /// ARN of the policy (a step scaling alarm's action).
    pub policy_arn: String,
    /// Names of the CloudWatch alarms Application Auto Scaling made for it (target tracking).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[serde(deserialize_with = "null_as_default")]
    pub alarms: Vec<String>,
}

#[cfg(test)]
mod tests {
    use kube::CustomResourceExt;
    use serde_json::{Value, json};

    use crate::api::EcsService;

    fn autoscaling_schema() -> Value {
        let crd = serde_json::to_value(EcsService::crd()).unwrap();
        crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]
            ["autoscaling"]
            .clone()
    }

    #[test]
    fn policies_and_actions_are_keyed_by_name_within_the_quotas() {
        let props = autoscaling_schema()["properties"].clone();
        for (list, key, max) in [
            ("targetTracking", "policyName", 50),
            ("stepScaling", "policyName", 50),
            ("scheduledActions", "scheduledActionName", 200),
        ] {
            assert_eq!(props[list]["x-kubernetes-list-type"], "map", "{list}");
            assert_eq!(
                props[list]["x-kubernetes-list-map-keys"],
                json!([key]),
                "{list}"
            );
            assert_eq!(props[list]["maxItems"], max, "{list}");
        }
        let required = autoscaling_schema()["required"].clone();
        assert_eq!(required, json!(["maxCapacity", "minCapacity"]));
    }

    #[test]
    fn the_field_names_are_application_auto_scalings() {
        let tracking = &autoscaling_schema()["properties"]["targetTracking"]["items"]["properties"];
        for name in [
            "policyName",
            "targetValue",
            "predefinedMetricSpecification",
            "customizedMetricSpecification",
            "scaleInCooldown",
            "scaleOutCooldown",
            "disableScaleIn",
        ] {
            assert!(tracking[name]["description"].is_string(), "{name}");
        }
        let metric = &tracking["predefinedMetricSpecification"]["properties"];
        assert_eq!(
            metric["predefinedMetricType"]["enum"],
            json!([
                "ECSServiceAverageCPUUtilization",
                "ECSServiceAverageMemoryUtilization",
                "ALBRequestCountPerTarget"
            ])
        );
        let suspended = &autoscaling_schema()["properties"]["suspendedState"]["properties"];
        assert!(suspended["dynamicScalingInSuspended"].is_object());
    }
}
