//! EcsScheduledTask: a task definition run on a schedule by Amazon EventBridge Scheduler
//! (CreateSchedule with an ECS RunTask templated target). The Scheduler, not the operator, starts
//! the runs, so they keep happening while the operator or the Kubernetes cluster is down.
//!
//! The schedule fields follow the Scheduler API (CreateSchedule, FlexibleTimeWindow:
//! <https://docs.aws.amazon.com/scheduler/latest/APIReference/API_CreateSchedule.html>); the run
//! fields are EcsTask's (ECS RunTask's names), mapped to the target's EcsParameters
//! (<https://docs.aws.amazon.com/scheduler/latest/APIReference/API_EcsParameters.html>).

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use kube::{CustomResource, KubeSchema};
use serde::{Deserialize, Serialize};

use super::common::{CapacityProviderStrategyItem, DeletionPolicy, LocalObjectReference, Tag};
use super::service::{NetworkConfiguration, PlacementConstraint, PlacementStrategy};
use super::task::TaskOverride;

/// A schedule of EventBridge Scheduler that runs an ECS task definition. `clusterRef`,
/// `taskDefinitionRef`, `suspend`, `deletionPolicy` and `region` are the operator's own; the
/// rest follow CreateSchedule and RunTask.
#[derive(CustomResource, KubeSchema, Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[kube(
    group = "ecs.operator.dev",
    version = "v1alpha1",
    kind = "EcsScheduledTask",
    plural = "ecsscheduledtasks",
    shortname = "ecsst",
    category = "ecs",
    namespaced,
    status = "EcsScheduledTaskStatus",
    doc = "An ECS task definition run on a schedule by Amazon EventBridge Scheduler (cron, rate or at), reconciled by ecs-operator. The Scheduler starts the runs, so they go on while the operator is down.",
    printcolumn(name = "Schedule", type_ = "string", json_path = ".spec.scheduleExpression", description = "cron(...), rate(...) or at(...)"),
    printcolumn(name = "State", type_ = "string", json_path = ".status.state", description = "ENABLED, or DISABLED while suspended"),
    printcolumn(name = "Ready", type_ = "string", json_path = ".status.conditions[?(@.type==\"Ready\")].status"),
    printcolumn(name = "Age", type_ = "date", json_path = ".metadata.creationTimestamp"),
    validation = Rule::new("has(self.spec.clusterRef) != has(self.spec.cluster)").message("set exactly one of spec.clusterRef (an EcsCluster in this namespace) or spec.cluster (name or ARN of an ECS cluster not managed here)").field_path(".spec"),
    validation = Rule::new("has(self.spec.taskDefinitionRef) != has(self.spec.taskDefinition)").message("set exactly one of spec.taskDefinitionRef (an EcsTaskDefinition in this namespace) or spec.taskDefinition (family, family:revision or ARN of a task definition not managed here)").field_path(".spec"),
    validation = Rule::new("!has(self.spec.launchType) || !has(self.spec.capacityProviderStrategy) || size(self.spec.capacityProviderStrategy) == 0").message("the Scheduler accepts either spec.launchType or spec.capacityProviderStrategy, not both: remove one of them").field_path(".spec.launchType"),
    // A schedule is addressed by group and name: another name is another schedule.
    validation = Rule::new("self.spec.scheduleName == oldSelf.spec.scheduleName || (!has(self.spec.scheduleName) && !has(oldSelf.spec.scheduleName))").message("spec.scheduleName is immutable: the Scheduler cannot rename a schedule; create a new object instead").field_path(".spec.scheduleName"),
    validation = Rule::new("(has(self.spec.groupName) ? self.spec.groupName : 'default') == (has(oldSelf.spec.groupName) ? oldSelf.spec.groupName : 'default')").message("spec.groupName is immutable: the Scheduler cannot move a schedule to another group; create a new object instead").field_path(".spec.groupName")
)]
#[serde(rename_all = "camelCase")]
pub struct EcsScheduledTaskSpec {
    /// Name of the schedule: 1 to 64 letters, digits, `-`, `_` and `.` (CreateSchedule `Name`).
    /// Defaults to `metadata.name`. Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 64))]
    #[x_kube(validation = Rule::new("self.matches('^[0-9a-zA-Z._-]+$')").message("scheduleName may contain letters, digits, '-', '_' and '.' (EventBridge Scheduler's Name)"))]
    pub schedule_name: Option<String>,

    /// Schedule group of the schedule (1 to 64 characters); the group must exist. Default:
    /// the account's `default` group. Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 64))]
    #[x_kube(validation = Rule::new("self.matches('^[0-9a-zA-Z._-]+$')").message("groupName may contain letters, digits, '-', '_' and '.' (EventBridge Scheduler's GroupName)"))]
    pub group_name: Option<String>,

    /// When the task runs, 1 to 256 characters (CreateSchedule `ScheduleExpression`):
    /// `cron(minutes hours day-of-month month day-of-week year)`, `rate(value unit)` (unit
    /// minute(s), hour(s) or day(s)) or `at(yyyy-mm-ddThh:mm:ss)` for one run.
    #[schemars(length(min = 1, max = 256))]
    #[x_kube(validation = Rule::new("self.startsWith('cron(') || self.startsWith('rate(') || self.startsWith('at(')").message("scheduleExpression is cron(...), rate(...) or at(...), as EventBridge Scheduler takes it"))]
    pub schedule_expression: String,

    /// IANA time zone of a cron or at expression, 1 to 50 characters (for example
    /// `Europe/Paris`). Default: UTC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 50))]
    pub schedule_expression_timezone: Option<String>,

    /// A window after each scheduled time in which the Scheduler may start the run, to spread
    /// load. Default: OFF (at the scheduled time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flexible_time_window: Option<FlexibleTimeWindow>,

    /// True pauses the schedule (Scheduler `State` DISABLED), as `suspend` pauses a CronJob;
    /// false or omitted: ENABLED.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suspend: Option<bool>,

    /// The IAM role EventBridge Scheduler assumes to call ecs:RunTask (and iam:PassRole for the
    /// task's roles); it must trust `scheduler.amazonaws.com` (Target `RoleArn`). The operator
    /// needs iam:PassRole on it.
    #[schemars(length(min = 1, max = 1600))]
    #[x_kube(validation = Rule::new("self.matches('^arn:aws(-[a-z]+)?:iam::[0-9]{12}:role/.+$')").message("roleArn is an IAM role ARN (arn:aws:iam::<account>:role/<name>)"))]
    pub role_arn: String,

    /// The schedule first runs on or after this time (CreateSchedule `StartDate`; RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_date: Option<Time>,

    /// The schedule runs no more after this time (CreateSchedule `EndDate`; RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_date: Option<Time>,

    /// The EcsCluster (same namespace) to run on. Exactly one of clusterRef and cluster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_ref: Option<LocalObjectReference>,

    /// Name or ARN of an ECS cluster not managed by this operator. Exactly one of clusterRef and
    /// cluster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 1024))]
    pub cluster: Option<String>,

    /// The EcsTaskDefinition (same namespace) to run: its newest registered revision, followed
    /// as new ones are registered. Exactly one of taskDefinitionRef and taskDefinition.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_definition_ref: Option<LocalObjectReference>,

    /// A task definition not managed here: `family` (its newest ACTIVE revision when the
    /// schedule is written), `family:revision` or a full ARN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 1600))]
    pub task_definition: Option<String>,

    /// Tasks started per run, 1 to 10 (EcsParameters `TaskCount`). Default 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = Rule::new("self >= 1 && self <= 10").message("count is between 1 and 10 (EventBridge Scheduler's TaskCount)"))]
    pub count: Option<i32>,

    /// EC2, FARGATE or EXTERNAL (EcsParameters `LaunchType`). Omit it to use
    /// capacityProviderStrategy or the cluster's default strategy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("enum" = ["EC2", "FARGATE", "EXTERNAL"]))]
    pub launch_type: Option<String>,

    /// Capacity providers to place the tasks with, instead of a launchType (at most 6).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 6))]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["capacityProvider".into()]))]
    pub capacity_provider_strategy: Vec<CapacityProviderStrategyItem>,

    /// Fargate platform version, for example `LATEST` or `1.4.0`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 64))]
    pub platform_version: Option<String>,

    /// Subnets, security groups and public IP of `awsvpc` tasks (required for Fargate).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_configuration: Option<NetworkConfiguration>,

    /// What each run changes of the task definition, as RunTask `overrides`; sent as the
    /// target's `Input` (JSON).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overrides: Option<TaskOverride>,

    /// Rules that restrict which container instances the tasks are placed on (EC2 only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 10))]
    pub placement_constraints: Vec<PlacementConstraint>,

    /// How the tasks are spread over container instances (EC2 only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 5))]
    pub placement_strategy: Vec<PlacementStrategy>,

    /// Task group name, 1 to 255 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 255))]
    pub group: Option<String>,

    /// Tags of the tasks each run starts. The operator adds its three ownership tags, so at
    /// most 47 of the 50 are left.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 47))]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["key".into()]))]
    pub tags: Vec<Tag>,

    /// TASK_DEFINITION copies the task definition's tags to the tasks (the only value the
    /// Scheduler takes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("enum" = ["TASK_DEFINITION"]))]
    pub propagate_tags: Option<String>,

    /// Allow ECS Exec into the tasks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_execute_command: Option<bool>,

    /// Let ECS tag the tasks with the cluster name.
    #[serde(
        default,
        rename = "enableECSManagedTags",
        skip_serializing_if = "Option::is_none"
    )]
    pub enable_ecs_managed_tags: Option<bool>,

    /// Delete (default) deletes the schedule with this object; Retain leaves it running.
    #[serde(default)]
    pub deletion_policy: DeletionPolicy,

    /// AWS region of the schedule. Defaults to the cluster's (an ARN) or the operator's region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 64))]
    pub region: Option<String>,
}

/// When in a window after the scheduled time a run may start (Scheduler `FlexibleTimeWindow`).
#[derive(KubeSchema, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("self.mode == 'FLEXIBLE' ? has(self.maximumWindowInMinutes) : !has(self.maximumWindowInMinutes)").message("mode FLEXIBLE needs maximumWindowInMinutes; OFF takes none"))]
pub struct FlexibleTimeWindow {
    /// OFF (run at the scheduled time) or FLEXIBLE.
    #[schemars(extend("enum" = ["OFF", "FLEXIBLE"]))]
    pub mode: String,
    /// Width of the window, 1 to 1440 minutes (FLEXIBLE only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = Rule::new("self >= 1 && self <= 1440").message("maximumWindowInMinutes is between 1 and 1440"))]
    pub maximum_window_in_minutes: Option<i32>,
}

/// What EventBridge Scheduler reports of the schedule.
#[derive(schemars::JsonSchema, Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EcsScheduledTaskStatus {
    /// The generation this status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// Ready, Reconciling and Stalled.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    /// ARN of the schedule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule_arn: Option<String>,
    /// ENABLED or DISABLED, as the Scheduler reports it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// ARN of the task definition revision the schedule runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_definition_arn: Option<String>,
    /// ARN of the cluster the schedule runs on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_arn: Option<String>,
    /// When the schedule was created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creation_date: Option<Time>,
    /// When the schedule was last changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modification_date: Option<Time>,
}

#[cfg(test)]
mod tests {
    use kube::CustomResourceExt;

    use super::*;

    #[test]
    fn crd_names_and_the_expression_rule() {
        let crd = EcsScheduledTask::crd();
        assert_eq!(
            crd.metadata.name.as_deref(),
            Some("ecsscheduledtasks.ecs.operator.dev")
        );
        assert_eq!(crd.spec.names.short_names, Some(vec!["ecsst".to_string()]));
        assert_eq!(crd.spec.names.categories, Some(vec!["ecs".to_string()]));
        let schema = serde_json::to_value(&crd.spec.versions[0].schema).unwrap();
        let spec = &schema["openAPIV3Schema"]["properties"]["spec"];
        let rules = spec["properties"]["scheduleExpression"].to_string();
        assert!(rules.contains("self.startsWith('cron(')"), "{rules}");
        let required = spec["required"].to_string();
        assert!(required.contains("roleArn") && required.contains("scheduleExpression"));
    }
}
