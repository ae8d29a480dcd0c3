//! EcsTask: one run of a task definition (ECS RunTask) with Kubernetes Job semantics: it runs
//! `count` tasks to completion, runs failed ones again up to `backoffLimit` times, gives up after
//! `activeDeadlineSeconds`, and can delete itself `ttlSecondsAfterFinished` after it finished.
//! Field names follow the ECS RunTask API, so an `aws ecs run-task --cli-input-json` document
//! pastes in unchanged (its `cluster`, `taskDefinition`, `count`, `overrides` ...).

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use kube::{CustomResource, KubeSchema};
use serde::{Deserialize, Serialize};

use super::common::{
    CapacityProviderStrategyItem, DeletionPolicy, KeyValuePair, LocalObjectReference, Tag,
};
use super::service::{NetworkConfiguration, PlacementConstraint, PlacementStrategy};
use super::task_definition::{EnvironmentFile, EphemeralStorage};

/// One run of an ECS task definition. Field names follow the ECS RunTask API; `clusterRef`,
/// `taskDefinitionRef`, `backoffLimit`, `activeDeadlineSeconds`, `ttlSecondsAfterFinished`,
/// `deletionPolicy` and `region` are the operator's own.
///
/// The spec is immutable: a run, once started, is what it is (as a Job's pod template). Create a
/// new EcsTask to run again.
#[derive(CustomResource, KubeSchema, Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[kube(
    group = "ecs.operator.dev",
    version = "v1alpha1",
    kind = "EcsTask",
    plural = "ecstasks",
    shortname = "ecst",
    category = "ecs",
    namespaced,
    status = "EcsTaskStatus",
    doc = "A run of an ECS task definition (RunTask) with Kubernetes Job semantics, reconciled by ecs-operator. Complete when every task succeeded, Failed past its backoffLimit or activeDeadlineSeconds.",
    printcolumn(name = "Status", type_ = "string", json_path = ".status.phase", description = "Pending, Running, Complete or Failed"),
    printcolumn(name = "Completions", type_ = "string", json_path = ".status.completions", description = "Succeeded tasks of count"),
    printcolumn(name = "Duration", type_ = "string", json_path = ".status.duration", description = "From the first task's start to the run's end, once finished"),
    printcolumn(name = "Age", type_ = "date", json_path = ".metadata.creationTimestamp"),
    validation = Rule::new("has(self.spec.clusterRef) != has(self.spec.cluster)").message("set exactly one of spec.clusterRef (an EcsCluster in this namespace) or spec.cluster (name or ARN of an ECS cluster not managed here)").field_path(".spec"),
    validation = Rule::new("has(self.spec.taskDefinitionRef) != has(self.spec.taskDefinition)").message("set exactly one of spec.taskDefinitionRef (an EcsTaskDefinition in this namespace) or spec.taskDefinition (family, family:revision or ARN of a task definition not managed here)").field_path(".spec"),
    validation = Rule::new("!has(self.spec.launchType) || !has(self.spec.capacityProviderStrategy) || size(self.spec.capacityProviderStrategy) == 0").message("ECS accepts either spec.launchType or spec.capacityProviderStrategy, not both: remove one of them").field_path(".spec.launchType"),
    // A run is not edited: ECS cannot change a task once started.
    validation = Rule::new("self.spec == oldSelf.spec").message("the spec of an EcsTask is immutable: a run cannot change once started; create a new EcsTask instead").field_path(".spec")
)]
#[serde(rename_all = "camelCase")]
pub struct EcsTaskSpec {
    /// The EcsCluster (same namespace) to run on. Exactly one of clusterRef and cluster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_ref: Option<LocalObjectReference>,

    /// Name or ARN of an ECS cluster not managed by this operator. Exactly one of clusterRef and
    /// cluster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 1024))]
    pub cluster: Option<String>,

    /// The EcsTaskDefinition (same namespace) to run: its newest registered revision when the
    /// run starts. Exactly one of taskDefinitionRef and taskDefinition.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_definition_ref: Option<LocalObjectReference>,

    /// A task definition not managed here: `family` (its newest ACTIVE revision),
    /// `family:revision` or a full ARN. Exactly one of taskDefinitionRef and taskDefinition.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 1024))]
    pub task_definition: Option<String>,

    /// Number of tasks to run to completion, 1 to 10 (RunTask's limit per call). Default 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = Rule::new("self >= 1 && self <= 10").message("count is between 1 and 10 (ECS RunTask starts at most 10 tasks per call)"))]
    pub count: Option<i32>,

    /// EC2, FARGATE, EXTERNAL or MANAGED_INSTANCES. Omit it to use capacityProviderStrategy or
    /// the cluster's default strategy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("enum" = ["EC2", "FARGATE", "EXTERNAL", "MANAGED_INSTANCES"]))]
    pub launch_type: Option<String>,

    /// Capacity providers to place the tasks with, instead of a launchType.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 20))]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["capacityProvider".into()]))]
    pub capacity_provider_strategy: Vec<CapacityProviderStrategyItem>,

    /// Fargate platform version, for example `LATEST` or `1.4.0`. Fargate only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform_version: Option<String>,

    /// Subnets, security groups and public IP of `awsvpc` tasks (required for Fargate).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_configuration: Option<NetworkConfiguration>,

    /// What this run changes of the task definition: container commands, environment, sizes,
    /// roles (RunTask `overrides`).
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

    /// Amazon EBS volumes created for each task, for task definition volumes marked
    /// `configuredAtLaunch` (RunTask `volumeConfigurations`; ECS takes one).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 1))]
    pub volume_configurations: Vec<TaskVolumeConfiguration>,

    /// Task group name (ECS default: `family:<family>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 255))]
    pub group: Option<String>,

    /// ECS `startedBy`: up to 36 letters, digits, `-`, `/` and `_` (RunTask API reference);
    /// ListTasks filters on it. Default:
    /// `ecs-operator/<first 23 characters of the object's uid>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 36))]
    #[x_kube(validation = Rule::new("self.matches('^[a-zA-Z0-9/_-]{1,36}$')").message("startedBy may contain up to 36 letters, digits, hyphens, slashes and underscores"))]
    pub started_by: Option<String>,

    /// Tags of the tasks. The operator adds its three ownership tags (`ecs.operator.dev/*`),
    /// which is why at most 47 of ECS's 50 are left.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 47))]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["key".into()]))]
    pub tags: Vec<Tag>,

    /// Copy the TASK_DEFINITION's tags to the tasks, or NONE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("enum" = ["TASK_DEFINITION", "NONE"]))]
    pub propagate_tags: Option<String>,

    /// Allow ECS Exec (`aws ecs execute-command`) into the tasks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_execute_command: Option<bool>,

    /// Let ECS tag the tasks with the cluster name.
    #[serde(
        default,
        rename = "enableECSManagedTags",
        skip_serializing_if = "Option::is_none"
    )]
    pub enable_ecs_managed_tags: Option<bool>,

    /// How many failed tasks are replaced by a new one, in all, before the run is Failed
    /// (reason BackoffLimitExceeded). Default 0, unlike a Job's 6: an ECS task is billed per
    /// run and is often a migration or a batch step whose side effects are not safe to repeat
    /// unasked, so a failure stops the run unless retries are asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = Rule::new("self >= 0 && self <= 100").message("backoffLimit is between 0 and 100"))]
    pub backoff_limit: Option<i32>,

    /// Seconds from the start of the run after which its tasks are stopped (StopTask) and the run
    /// is Failed, reason DeadlineExceeded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = Rule::new("self >= 1").message("activeDeadlineSeconds is at least 1"))]
    pub active_deadline_seconds: Option<i64>,

    /// Seconds after the run finished (Complete or Failed) when the EcsTask deletes itself.
    /// Omitted: it stays.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = Rule::new("self >= 0").message("ttlSecondsAfterFinished cannot be negative"))]
    pub ttl_seconds_after_finished: Option<i32>,

    /// Delete (default) stops the tasks still running when this object is deleted; Retain leaves
    /// them running.
    #[serde(default)]
    pub deletion_policy: DeletionPolicy,

    /// AWS region of the run. Defaults to the cluster's (an ARN) or the operator's region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 64))]
    pub region: Option<String>,
}

/// RunTask `overrides`, as in the ECS API.
#[derive(KubeSchema, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskOverride {
    /// Per-container overrides, by container name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 10))]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["name".into()]))]
    pub container_overrides: Vec<ContainerOverride>,
    /// Task CPU units (or vCPU, for example `1 vCPU`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu: Option<String>,
    /// Task memory in MiB (or GB, for example `2 GB`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<String>,
    /// IAM role the containers assume (needs iam:PassRole for the operator).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_role_arn: Option<String>,
    /// IAM role ECS pulls images and writes logs with (needs iam:PassRole for the operator).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution_role_arn: Option<String>,
    /// Fargate ephemeral storage of the task.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ephemeral_storage: Option<EphemeralStorage>,
}

/// A container's RunTask override, as in the ECS API.
#[derive(KubeSchema, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContainerOverride {
    /// Name of the container in the task definition.
    pub name: String,
    /// Replaces the container's command.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<Vec<String>>,
    /// Variables added to (or replacing those of) the container's environment.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["name".into()]))]
    pub environment: Vec<KeyValuePair>,
    /// S3 files of environment variables added to the container's.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub environment_files: Vec<EnvironmentFile>,
    /// CPU units of the container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu: Option<i32>,
    /// Hard memory limit of the container, MiB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<i32>,
    /// Soft memory limit of the container, MiB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_reservation: Option<i32>,
    /// GPUs of the container.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resource_requirements: Vec<OverrideResourceRequirement>,
}

/// A volume configured at launch, as in the ECS API (`TaskVolumeConfiguration`).
#[derive(KubeSchema, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskVolumeConfiguration {
    /// Name of the task definition volume (one with `configuredAtLaunch: true`).
    pub name: String,
    /// The EBS volume ECS creates and attaches to each task.
    #[serde(rename = "managedEBSVolume")]
    pub managed_ebs_volume: ManagedEbsVolume,
}

/// An EBS volume ECS creates for a task, as in the ECS API
/// (`TaskManagedEBSVolumeConfiguration`). Sizes in GiB, IOPS and throughput (MiB/s) as EBS takes
/// them for the volume type.
#[derive(KubeSchema, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ManagedEbsVolume {
    /// Infrastructure role ECS manages the volume with (needs iam:PassRole for the operator).
    pub role_arn: String,
    /// gp2, gp3 (EBS's default), io1, io2, st1, sc1 or standard.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume_type: Option<String>,
    /// Size in GiB; required unless snapshotId is given.
    #[serde(default, rename = "sizeInGiB", skip_serializing_if = "Option::is_none")]
    pub size_in_gib: Option<i32>,
    /// Snapshot the volume is created from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot_id: Option<String>,
    /// MiB/s at which a snapshot's blocks are fetched when the volume is created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume_initialization_rate: Option<i32>,
    /// Provisioned IOPS (gp3, io1, io2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iops: Option<i32>,
    /// Throughput in MiB/s (gp3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub throughput: Option<i32>,
    /// Encrypt the volume.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encrypted: Option<bool>,
    /// KMS key of an encrypted volume.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kms_key_id: Option<String>,
    /// ext3, ext4, xfs (Linux) or ntfs (Windows).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("enum" = ["ext3", "ext4", "xfs", "ntfs"]))]
    pub filesystem_type: Option<String>,
    /// Whether the volume is deleted when the task stops (ECS's default: deleted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub termination_policy: Option<EbsTerminationPolicy>,
    /// Tags of the volume.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 1))]
    pub tag_specifications: Vec<EbsTagSpecification>,
}

/// What happens to a task's EBS volume when the task stops.
#[derive(schemars::JsonSchema, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EbsTerminationPolicy {
    pub delete_on_termination: bool,
}

/// Tags of an EBS volume ECS creates, as in the ECS API.
#[derive(KubeSchema, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EbsTagSpecification {
    /// Always `volume`.
    #[schemars(extend("enum" = ["volume"]))]
    pub resource_type: String,
    /// The tags.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 50))]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["key".into()]))]
    pub tags: Vec<Tag>,
    /// Copy the TASK_DEFINITION's (or SERVICE's) tags to the volume, or NONE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("enum" = ["TASK_DEFINITION", "SERVICE", "NONE"]))]
    pub propagate_tags: Option<String>,
}

/// A GPU (or other device) requirement of a container override, as in the ECS API.
#[derive(schemars::JsonSchema, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OverrideResourceRequirement {
    /// `GPU` or `InferenceAccelerator`.
    #[serde(rename = "type")]
    #[schemars(extend("enum" = ["GPU", "InferenceAccelerator"]))]
    pub type_: String,
    /// Number of GPUs, or the deviceName of an accelerator.
    pub value: String,
}

/// What ECS reports of the run.
#[derive(schemars::JsonSchema, Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EcsTaskStatus {
    /// The generation this status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// Ready, Reconciling, Stalled (kstatus) and, once finished, Complete or Failed (as a Job).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    /// Pending (nothing started yet), Running, Complete or Failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,
    /// `<succeeded>/<count>`, for the printer column.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completions: Option<String>,
    /// From startTime to completionTime, once finished (`1m30s`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<String>,
    /// ARN of the cluster the tasks run on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_arn: Option<String>,
    /// ARN of the task definition revision the tasks run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_definition_arn: Option<String>,
    /// Containers of that revision that are essential: a task succeeded when each of them exited 0.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub essential_containers: Vec<String>,
    /// Tasks not stopped yet.
    #[serde(default)]
    pub active: i32,
    /// Tasks that succeeded.
    #[serde(default)]
    pub succeeded: i32,
    /// Tasks that failed.
    #[serde(default)]
    pub failed: i32,
    /// RunTask calls recorded (the first run and each retry): the next one is attempt number
    /// `attempts`, counting from 0.
    #[serde(default)]
    pub attempts: i32,
    /// A RunTask about to be sent (written before it is): after a crash it is sent again with the
    /// same clientToken, so ECS answers with the tasks it started, not new ones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_run: Option<PendingRun>,
    /// When the first RunTask was sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<Time>,
    /// When the run finished (Complete or Failed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion_time: Option<Time>,
    /// Why the run failed (BackoffLimitExceeded, DeadlineExceeded, or an ECS refusal), once it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_reason: Option<String>,
    /// The failure in words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_message: Option<String>,
    /// Every task started, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tasks: Vec<TaskRecord>,
}

/// A RunTask about to be sent (see [`EcsTaskStatus::pending_run`]).
#[derive(schemars::JsonSchema, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PendingRun {
    /// Attempt number (0 for the first run); the clientToken derives from it.
    pub attempt: i32,
    /// Number of tasks it starts.
    pub count: i32,
}

/// One ECS task of the run, as DescribeTasks last reported it.
#[derive(schemars::JsonSchema, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskRecord {
    pub task_arn: String,
    /// The attempt that started it (0: the first run).
    #[serde(default)]
    pub attempt: i32,
    /// PROVISIONING, PENDING, ACTIVATING, RUNNING, DEACTIVATING, STOPPING, DEPROVISIONING or
    /// STOPPED.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_status: Option<String>,
    /// RUNNING, or STOPPED once something stops it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub desired_status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<Time>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped_at: Option<Time>,
    /// EssentialContainerExited, TaskFailedToStart, UserInitiated, ServiceSchedulerInitiated,
    /// SpotInterruption, TerminationNotice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped_reason: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub containers: Vec<ContainerRecord>,
}

/// A container of a task: how it exited.
#[derive(schemars::JsonSchema, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContainerRecord {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    /// ECS's reason for a container that stopped abnormally (CannotPullContainerError ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[cfg(test)]
mod tests {
    use kube::CustomResourceExt;

    use super::*;

    #[test]
    fn crd_names_columns_and_the_immutable_spec() {
        let crd = EcsTask::crd();
        assert_eq!(
            crd.metadata.name.as_deref(),
            Some("ecstasks.ecs.operator.dev")
        );
        assert_eq!(crd.spec.names.short_names, Some(vec!["ecst".to_string()]));
        assert_eq!(crd.spec.names.categories, Some(vec!["ecs".to_string()]));
        let version = &crd.spec.versions[0];
        assert!(version.subresources.as_ref().unwrap().status.is_some());
        let columns: Vec<(&str, &str)> = version
            .additional_printer_columns
            .iter()
            .flatten()
            .map(|c| (c.name.as_str(), c.json_path.as_str()))
            .collect();
        assert_eq!(
            columns,
            [
                ("Status", ".status.phase"),
                ("Completions", ".status.completions"),
                ("Duration", ".status.duration"),
                ("Age", ".metadata.creationTimestamp")
            ]
        );
        let schema = serde_json::to_value(&version.schema).unwrap();
        let rules = schema["openAPIV3Schema"]["x-kubernetes-validations"].to_string();
        assert!(rules.contains("self.spec == oldSelf.spec"), "{rules}");
    }

    #[test]
    fn a_run_task_document_reads_as_a_spec() {
        // The shape of `aws ecs run-task --cli-input-json`, with the operator's own fields.
        let spec: EcsTaskSpec = serde_json::from_value(serde_json::json!({
            "cluster": "apps",
            "taskDefinition": "report:3",
            "count": 10,
            "launchType": "FARGATE",
            "networkConfiguration": {"awsvpcConfiguration": {"subnets": ["subnet-1"], "assignPublicIp": "DISABLED"}},
            "overrides": {"containerOverrides": [{"name": "report", "environment": [{"name": "BATCH_ID", "value": "7"}]}]},
            "enableECSManagedTags": true,
            "propagateTags": "TASK_DEFINITION",
            "startedBy": "nightly",
            "backoffLimit": 1
        }))
        .unwrap();
        assert_eq!(spec.count, Some(10));
        assert_eq!(spec.enable_ecs_managed_tags, Some(true));
        let back = serde_json::to_value(&spec).unwrap();
        assert_eq!(back["enableECSManagedTags"], true);
        assert_eq!(
            back["overrides"]["containerOverrides"][0]["environment"][0]["name"],
            "BATCH_ID"
        );
    }
}
