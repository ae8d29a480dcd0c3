//! How ECS deploys a service: rolling update limits, circuit breaker and alarms, the
//! deployment strategy (ROLLING, BLUE_GREEN, LINEAR, CANARY) with its bake times and lifecycle
//! hooks, and the deployment controller, as in the ECS API.

use kube::KubeSchema;
use serde::{Deserialize, Serialize};

use crate::api::common::{empty_as_none, null_as_default};

/// Deployment parameters, as in the ECS API (DeploymentConfiguration).
#[derive(KubeSchema, Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[x_kube(
    // "Both methods [the circuit breaker and alarms] only support rolling update deployment and
    // blue/green deployment types" (developer guide, "How the Amazon ECS deployment circuit
    // breaker detects failures").
    validation = Rule::new("!has(self.deploymentCircuitBreaker) || !self.deploymentCircuitBreaker.enable || !has(self.strategy) || self.strategy in ['', 'ROLLING', 'BLUE_GREEN']").message("the deployment circuit breaker works only with strategy ROLLING or BLUE_GREEN: remove deploymentCircuitBreaker (alarms and lifecycle hooks roll back LINEAR and CANARY deployments)"),
    validation = Rule::new("!has(self.linearConfiguration) || (has(self.strategy) && self.strategy == 'LINEAR')").message("linearConfiguration applies only to strategy LINEAR"),
    validation = Rule::new("!has(self.canaryConfiguration) || (has(self.strategy) && self.strategy == 'CANARY')").message("canaryConfiguration applies only to strategy CANARY"),
    validation = Rule::new("!has(self.lifecycleHooks) || self.lifecycleHooks.filter(h, has(h.targetType) && h.targetType == 'PAUSE').size() <= 10").message("ECS allows at most 10 PAUSE lifecycle hooks per service"),
    validation = Rule::new("!has(self.lifecycleHooks) || self.lifecycleHooks.filter(h, !has(h.targetType) || h.targetType != 'PAUSE').size() <= 10").message("ECS allows at most 10 AWS_LAMBDA lifecycle hooks per service")
)]
pub struct DeploymentConfiguration {
    /// Upper limit of running tasks during a deployment, in percent of desiredCount (ECS default
    /// 200).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = Rule::new("self >= 0").message("maximumPercent cannot be negative"))]
    pub maximum_percent: Option<i32>,
    /// Lower limit of healthy tasks during a deployment, in percent of desiredCount (0 to 100;
    /// ECS default 100).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = Rule::new("self >= 0 && self <= 100").message("minimumHealthyPercent is between 0 and 100"))]
    pub minimum_healthy_percent: Option<i32>,
    /// Stop (and optionally roll back) a deployment whose tasks keep failing to start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment_circuit_breaker: Option<DeploymentCircuitBreaker>,
    /// Stop (and optionally roll back) a deployment when CloudWatch alarms go off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alarms: Option<DeploymentAlarms>,
    /// How ECS shifts to a new revision: ROLLING (the default: replace tasks in batches),
    /// BLUE_GREEN (start the new revision in full, test it, then swap all traffic), LINEAR (shift
    /// production traffic in equal steps) or CANARY (a share first, then the rest). BLUE_GREEN,
    /// LINEAR and CANARY need the ECS deployment controller and, with a load balancer, its
    /// `advancedConfiguration`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[serde(deserialize_with = "empty_as_none")]
    #[schemars(extend("enum" = ["ROLLING", "BLUE_GREEN", "LINEAR", "CANARY", ""], "type" = "string"))]
    pub strategy: Option<String>,
    /// Minutes both revisions keep running after all production traffic moved to the new one,
    /// before the old one stops (a rollback is instant meanwhile). 0 to 1440; not for ROLLING.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = Rule::new("self >= 0 && self <= 1440").message("bakeTimeInMinutes is between 0 and 1440"))]
    pub bake_time_in_minutes: Option<i32>,
    /// Steps of a LINEAR deployment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub linear_configuration: Option<LinearConfiguration>,
    /// The canary step of a CANARY deployment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub canary_configuration: Option<CanaryConfiguration>,
    /// Lambda functions to run, or pauses awaiting approval, at stages of a BLUE_GREEN, LINEAR or
    /// CANARY deployment. At most 10 of each kind.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[serde(deserialize_with = "null_as_default")]
    #[schemars(length(max = 20))]
    pub lifecycle_hooks: Vec<DeploymentLifecycleHook>,
}

impl DeploymentConfiguration {
    /// The strategy, ROLLING when unset.
    pub fn strategy(&self) -> &str {
        self.strategy.as_deref().unwrap_or(ROLLING)
    }
}

/// ECS's default deployment strategy.
pub const ROLLING: &str = "ROLLING";

/// A LINEAR deployment's steps, as in the ECS API (LinearConfiguration).
#[derive(KubeSchema, Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LinearConfiguration {
    /// Percent of production traffic each step shifts: 3.0 to 100.0 in steps of 0.1 (ECS
    /// default 10.0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = Rule::new("self >= 3.0 && self <= 100.0 && self * 10.0 - double(int(self * 10.0 + 0.5)) < 0.000001 && self * 10.0 - double(int(self * 10.0 + 0.5)) > -0.000001").message("linearConfiguration.stepPercent is a multiple of 0.1 between 3.0 and 100.0"))]
    pub step_percent: Option<f64>,
    /// Minutes to wait between steps: 0 to 1440 (ECS default 6).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = Rule::new("self >= 0 && self <= 1440").message("linearConfiguration.stepBakeTimeInMinutes is between 0 and 1440"))]
    pub step_bake_time_in_minutes: Option<i32>,
}

/// A CANARY deployment's first step, as in the ECS API (CanaryConfiguration).
#[derive(KubeSchema, Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CanaryConfiguration {
    /// Percent of production traffic the canary gets: 0.1 to 100.0 in steps of 0.1 (ECS
    /// default 5.0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = Rule::new("self >= 0.1 && self <= 100.0 && self * 10.0 - double(int(self * 10.0 + 0.5)) < 0.000001 && self * 10.0 - double(int(self * 10.0 + 0.5)) > -0.000001").message("canaryConfiguration.canaryPercent is a multiple of 0.1 between 0.1 and 100.0"))]
    pub canary_percent: Option<f64>,
    /// Minutes the canary runs before the rest of the traffic shifts: 0 to 1440 (ECS default
    /// 10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = Rule::new("self >= 0 && self <= 1440").message("canaryConfiguration.canaryBakeTimeInMinutes is between 0 and 1440"))]
    pub canary_bake_time_in_minutes: Option<i32>,
}

/// A deployment lifecycle hook, as in the ECS API (DeploymentLifecycleHook): a Lambda function
/// ECS invokes at the stages named, or (PAUSE) a pause until someone continues or rolls back
/// the deployment (`ecs.operator.dev/approve`, `ecs.operator.dev/rollback`) or the timeout acts.
#[derive(KubeSchema, Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[x_kube(
    validation = Rule::new("!has(self.targetType) || self.targetType != 'PAUSE' || !self.lifecycleStages.exists(s, s == 'TEST_TRAFFIC_SHIFT' || s == 'PRODUCTION_TRAFFIC_SHIFT')").message("a PAUSE hook cannot run at TEST_TRAFFIC_SHIFT or PRODUCTION_TRAFFIC_SHIFT: pause before (PRE_PRODUCTION_TRAFFIC_SHIFT) or after (POST_TEST_TRAFFIC_SHIFT) a traffic shift instead"),
    validation = Rule::new("has(self.targetType) && self.targetType == 'PAUSE' || has(self.hookTargetArn) && has(self.roleArn)").message("an AWS_LAMBDA hook needs hookTargetArn (the Lambda function) and roleArn (the role ECS invokes it with)"),
    validation = Rule::new("!has(self.targetType) || self.targetType != 'PAUSE' || !has(self.hookTargetArn)").message("a PAUSE hook has no hookTargetArn: remove it, or use targetType AWS_LAMBDA")
)]
pub struct DeploymentLifecycleHook {
    /// AWS_LAMBDA (the default: invoke hookTargetArn) or PAUSE (wait for approval).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[serde(deserialize_with = "empty_as_none")]
    #[schemars(extend("enum" = ["AWS_LAMBDA", "PAUSE", ""], "type" = "string"))]
    pub target_type: Option<String>,
    /// ARN of the Lambda function (AWS_LAMBDA only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hook_target_arn: Option<String>,
    /// ARN of the IAM role ECS invokes the Lambda function with (AWS_LAMBDA only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
    /// The stages the hook runs at: RECONCILE_SERVICE, PRE_SCALE_UP, POST_SCALE_UP,
    /// TEST_TRAFFIC_SHIFT, POST_TEST_TRAFFIC_SHIFT, PRE_PRODUCTION_TRAFFIC_SHIFT,
    /// PRODUCTION_TRAFFIC_SHIFT, POST_PRODUCTION_TRAFFIC_SHIFT.
    #[schemars(length(min = 1, max = 8))]
    #[x_kube(merge_strategy = ListMerge::Set)]
    pub lifecycle_stages: Vec<LifecycleStage>,
    /// Parameters ECS passes to the Lambda function on each invocation (any JSON).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-kubernetes-preserve-unknown-fields" = true))]
    pub hook_details: Option<serde_json::Value>,
    /// How long ECS waits for the hook, and what it does then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_configuration: Option<HookTimeoutConfiguration>,
}

/// A stage of a service deployment a lifecycle hook can run at.
#[derive(
    schemars::JsonSchema, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum LifecycleStage {
    ReconcileService,
    PreScaleUp,
    PostScaleUp,
    TestTrafficShift,
    PostTestTrafficShift,
    PreProductionTrafficShift,
    ProductionTrafficShift,
    PostProductionTrafficShift,
}

impl LifecycleStage {
    /// ECS's name of the stage.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::ReconcileService => "RECONCILE_SERVICE",
            Self::PreScaleUp => "PRE_SCALE_UP",
            Self::PostScaleUp => "POST_SCALE_UP",
            Self::TestTrafficShift => "TEST_TRAFFIC_SHIFT",
            Self::PostTestTrafficShift => "POST_TEST_TRAFFIC_SHIFT",
            Self::PreProductionTrafficShift => "PRE_PRODUCTION_TRAFFIC_SHIFT",
            Self::ProductionTrafficShift => "PRODUCTION_TRAFFIC_SHIFT",
            Self::PostProductionTrafficShift => "POST_PRODUCTION_TRAFFIC_SHIFT",
        }
    }
}

/// How long ECS waits for a lifecycle hook, as in the ECS API
/// (DeploymentLifecycleHookTimeoutConfiguration).
#[derive(KubeSchema, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HookTimeoutConfiguration {
    /// Minutes before the timeout action: 1 to 20160 (ECS default 1440, a day).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = Rule::new("self >= 1 && self <= 20160").message("timeoutInMinutes is between 1 and 20160 (14 days)"))]
    pub timeout_in_minutes: Option<i32>,
    /// CONTINUE or ROLLBACK when the hook times out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[serde(deserialize_with = "empty_as_none")]
    #[schemars(extend("enum" = ["CONTINUE", "ROLLBACK", ""], "type" = "string"))]
    pub action: Option<String>,
}

/// The deployment circuit breaker, as in the ECS API.
#[derive(schemars::JsonSchema, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeploymentCircuitBreaker {
    /// Turn the circuit breaker on.
    pub enable: bool,
    /// Roll back to the last completed deployment when the circuit breaker trips.
    pub rollback: bool,
}

/// CloudWatch alarms that fail a deployment, as in the ECS API.
#[derive(KubeSchema, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentAlarms {
    /// Names of the CloudWatch alarms to watch.
    #[serde(default)]
    #[x_kube(merge_strategy = ListMerge::Set)]
    pub alarm_names: Vec<String>,
    /// Watch the alarms during deployments.
    pub enable: bool,
    /// Roll back when an alarm goes off.
    pub rollback: bool,
}

/// The deployment controller, as in the ECS API.
#[derive(schemars::JsonSchema, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeploymentController {
    /// ECS (rolling update), CODE_DEPLOY (blue/green by CodeDeploy) or EXTERNAL (task sets).
    #[serde(rename = "type")]
    #[schemars(extend("enum" = ["ECS", "CODE_DEPLOY", "EXTERNAL"]))]
    pub type_: String,
}

/// The service deployment ECS carries out, or carried out last, as DescribeServiceDeployments
/// reports it (ServiceDeployment).
#[derive(schemars::JsonSchema, Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CurrentServiceDeployment {
    /// ARN of the service deployment
    /// (`arn:aws:ecs:<region>:<account>:service-deployment/<cluster>/<service>/<id>`).
    pub arn: String,
    /// PENDING, IN_PROGRESS, SUCCESSFUL, STOPPED, STOP_REQUESTED, ROLLBACK_REQUESTED,
    /// ROLLBACK_IN_PROGRESS, ROLLBACK_SUCCESSFUL or ROLLBACK_FAILED.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// ECS's reason for that status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_reason: Option<String>,
    /// The stage a BLUE_GREEN, LINEAR or CANARY deployment is in (PRE_SCALE_UP, SCALE_UP,
    /// TEST_TRAFFIC_SHIFT, PRODUCTION_TRAFFIC_SHIFT, BAKE_TIME, CLEAN_UP, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifecycle_stage: Option<String>,
    /// ARNs of the service revisions it replaces.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub source_revisions: Vec<String>,
    /// ARN of the service revision it rolls out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_revision: Option<String>,
    /// The task definition that revision runs (from the deployment DescribeServices lists for it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_definition: Option<String>,
    /// Percent of production traffic ECS routes to the target revision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub production_traffic_weight: Option<f64>,
    /// Percent of test traffic ECS routes to the target revision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_traffic_weight: Option<f64>,
    /// A lifecycle hook awaiting approval (a PAUSE hook): continue it with
    /// `ecs.operator.dev/approve=<hookId>`, or roll back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_hook: Option<PendingHook>,
}

/// A lifecycle hook that holds a deployment until someone acts (DeploymentLifecycleHookDetail).
#[derive(schemars::JsonSchema, Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PendingHook {
    /// ECS's ID of the hook in this deployment: the value of `ecs.operator.dev/approve`.
    pub hook_id: String,
    /// PAUSE (or AWS_LAMBDA).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_type: Option<String>,
    /// AWAITING_ACTION while it waits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// The stage it holds the deployment at.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifecycle_stage: Option<String>,
    /// When ECS takes the timeout action (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("format" = "date-time"))]
    pub expires_at: Option<String>,
    /// CONTINUE or ROLLBACK: what ECS does at expiresAt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_action: Option<String>,
}

/// The approval annotations already acted on.
#[derive(schemars::JsonSchema, Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApprovalsStatus {
    /// The last `ecs.operator.dev/approve` value handled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approve: Option<HandledRequest>,
    /// The last `ecs.operator.dev/rollback` value handled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollback: Option<HandledRequest>,
}

/// An annotation value the operator handled, and what came of it.
#[derive(schemars::JsonSchema, Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HandledRequest {
    /// The annotation's value.
    pub value: String,
    /// What the operator did, for example "continued hook ... of service deployment ..." or
    /// "ignored: no hook ... awaits approval".
    pub outcome: String,
}
