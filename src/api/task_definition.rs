//! EcsTaskDefinition: an ECS task definition family. Every spec change registers a new revision;
//! old revisions are deregistered beyond `revisionHistoryLimit`.
//!
//! The spec mirrors the ECS RegisterTaskDefinition JSON, so the `containerDefinitions` of an
//! existing task definition paste in unchanged.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::core::{Message, Rule};
use kube::{CustomResource, KubeSchema};
use serde::{Deserialize, Serialize};

use super::common::{DeletionPolicy, KeyValuePair, Tag, empty_as_none, null_as_default};

/// How many revisions are kept when `revisionHistoryLimit` is not set.
pub const DEFAULT_REVISION_HISTORY_LIMIT: i32 = 10;

/// ECS allows at most this many containers in one task definition.
pub const MAX_CONTAINERS: usize = 10;

/// An ECS task definition family. Field names follow the ECS RegisterTaskDefinition API.
#[derive(CustomResource, KubeSchema, Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[kube(
    group = "ecs.operator.dev",
    version = "v1alpha1",
    kind = "EcsTaskDefinition",
    plural = "ecstaskdefinitions",
    shortname = "ecstd",
    category = "ecs",
    namespaced,
    status = "EcsTaskDefinitionStatus",
    printcolumn(name = "Ready", type_ = "string", json_path = r#".status.conditions[?(@.type=="Ready")].status"#),
    printcolumn(name = "Family", type_ = "string", json_path = ".status.family", description = "ECS task definition family"),
    printcolumn(name = "Revision", type_ = "integer", json_path = ".status.revision", description = "Newest revision registered for this spec"),
    printcolumn(name = "Age", type_ = "date", json_path = ".metadata.creationTimestamp"),
    // Immutable. family compares the effective ECS family, so spelling out the default
    // (metadata.name) is no change.
    validation = Rule::new("(has(self.spec.family) ? self.spec.family : self.metadata.name) == (has(oldSelf.spec.family) ? oldSelf.spec.family : oldSelf.metadata.name)").message("spec.family is immutable: ECS cannot rename a task definition family; create a new EcsTaskDefinition instead").field_path(".spec.family"),
    validation = Rule::new("!has(oldSelf.spec.region) && !has(self.spec.region) || has(oldSelf.spec.region) && has(self.spec.region) && self.spec.region == oldSelf.spec.region").message("spec.region is immutable: a task definition family cannot move between regions; create a new EcsTaskDefinition instead").field_path(".spec.region")
)]
#[x_kube(
    validation = fargate_network_mode_rule(),
    validation = fargate_size_required_rule(),
    validation = fargate_cpu_rule(),
    validation = fargate_memory_rule(),
    validation = unique_container_ports_rule(0),
    validation = unique_container_ports_rule(1),
    validation = unique_container_ports_rule(2),
    validation = unique_container_ports_rule(3),
    validation = unique_container_ports_rule(4),
    validation = unique_container_ports_rule(5),
    validation = unique_container_ports_rule(6),
    validation = unique_container_ports_rule(7),
    validation = unique_container_ports_rule(8),
    validation = unique_container_ports_rule(9),
    validation = container_memory_rule(),
    validation = awsvpc_host_port_rule(),
    validation = fargate_privileged_rule(),
    validation = fargate_log_driver_rule(),
    validation = fargate_awslogs_execution_role_rule(),
    validation = essential_container_rule()
)]
#[serde(rename_all = "camelCase")]
pub struct EcsTaskDefinitionSpec {
    /// Name of the task definition family. Defaults to metadata.name. Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = Rule::new("self.matches('^[a-zA-Z0-9_-]{1,255}$')").message("family may contain up to 255 letters, digits, hyphens and underscores"))]
    #[schemars(length(max = 255))]
    pub family: Option<String>,

    /// IAM role the containers of the task assume to call AWS APIs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_role_arn: Option<String>,

    /// IAM role the ECS agent uses to pull images, read secrets and write logs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution_role_arn: Option<String>,

    /// Docker networking mode: `awsvpc` (required by Fargate), `bridge`, `host` or `none`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[serde(deserialize_with = "empty_as_none")]
    #[schemars(extend("enum" = ["awsvpc", "bridge", "host", "none", ""], "type" = "string"))]
    pub network_mode: Option<String>,

    /// Launch types the task definition is validated against: `EC2`, `FARGATE`, `EXTERNAL` or
    /// `MANAGED_INSTANCES`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[serde(deserialize_with = "null_as_default")]
    #[x_kube(
        merge_strategy = ListMerge::Set,
        validation = Rule::new("self.all(c, c in ['EC2', 'FARGATE', 'EXTERNAL', 'MANAGED_INSTANCES'])").message("requiresCompatibilities may contain EC2, FARGATE, EXTERNAL and MANAGED_INSTANCES")
    )]
    #[schemars(length(max = 4), inner(length(max = 32)))]
    pub requires_compatibilities: Vec<String>,

    /// Task-level CPU, as in ECS: CPU units (`"1024"`) or vCPUs (`"1 vCPU"`). Required by
    /// Fargate, which accepts 256, 512, 1024, 2048, 4096, 8192 or 16384.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = Rule::new(format!("self.matches('{CPU_FORMAT}')")).message("cpu is a number of CPU units (\"1024\") or of vCPUs (\"1 vCPU\")"))]
    #[schemars(length(max = 16))]
    pub cpu: Option<String>,

    /// Task-level memory, as in ECS: MiB (`"2048"`) or GB (`"2 GB"`). Required by Fargate,
    /// whose valid values depend on cpu.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = Rule::new(format!("self.matches('{MEMORY_FORMAT}')")).message("memory is a number of MiB (\"2048\") or of GB (\"2 GB\")"))]
    #[schemars(length(max = 16))]
    pub memory: Option<String>,

    /// The containers of the task (1 to 10, the ECS limit), keyed by name, in the ECS container
    /// definition format: the `containerDefinitions` of an existing task definition paste in
    /// unchanged.
    // maxItems rather than a CEL rule enforces the limit: it bounds the cost of the rules over
    // containers, and the apiserver skips CEL rules once the schema check has failed.
    #[x_kube(
        merge_strategy = ListMerge::Map(vec!["name".into()]),
        validation = Rule::new("size(self) >= 1").message("containerDefinitions needs at least one container")
    )]
    #[schemars(length(max = MAX_CONTAINERS))]
    pub container_definitions: Vec<ContainerDefinition>,

    /// Data volumes the containers can mount, keyed by name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[serde(deserialize_with = "null_as_default")]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["name".into()]))]
    pub volumes: Vec<Volume>,

    /// Placement constraints for tasks on EC2 container instances (not supported by Fargate).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[serde(deserialize_with = "null_as_default")]
    pub placement_constraints: Vec<TaskDefinitionPlacementConstraint>,

    /// Process namespace: `host` or `task`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[serde(deserialize_with = "empty_as_none")]
    #[schemars(extend("enum" = ["host", "task", ""], "type" = "string"))]
    pub pid_mode: Option<String>,

    /// IPC namespace: `host`, `task` or `none`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[serde(deserialize_with = "empty_as_none")]
    #[schemars(extend("enum" = ["host", "task", "none", ""], "type" = "string"))]
    pub ipc_mode: Option<String>,

    /// App Mesh proxy configuration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy_configuration: Option<ProxyConfiguration>,

    /// Elastic Inference accelerators, keyed by deviceName.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[serde(deserialize_with = "null_as_default")]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["deviceName".into()]))]
    pub inference_accelerators: Vec<InferenceAccelerator>,

    /// Ephemeral storage of Fargate tasks, beyond the default 20 GiB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ephemeral_storage: Option<EphemeralStorage>,

    /// CPU architecture and operating system the task runs on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime_platform: Option<RuntimePlatform>,

    /// Allows fault injection (AWS FIS) into the task's containers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_fault_injection: Option<bool>,

    /// Tags of each revision, keyed by key (at most 46: ECS allows 50 per resource and the
    /// operator adds its 4 `ecs.operator.dev/*` tags). Changing tags alone does not register a
    /// new revision.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[serde(deserialize_with = "null_as_default")]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["key".into()]))]
    #[schemars(length(max = 46))]
    pub tags: Vec<Tag>,

    /// How many revisions this object registered stay ACTIVE (at least 1, default 10). Older
    /// ones are deregistered, except revisions a service still uses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub revision_history_limit: Option<i32>,

    /// Delete (default) deregisters and deletes this object's revisions with the object; Retain
    /// leaves them.
    #[serde(default)]
    pub deletion_policy: DeletionPolicy,

    /// AWS region of the family. Defaults to the operator's region when first
    /// reconciled; it stays there even if the operator's region changes later. Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 64))]
    pub region: Option<String>,

    // --- output only --------------------------------------------------------------------------
    // What `aws ecs describe-task-definition` returns besides the definition itself. Accepted so
    // that its output pastes under spec unchanged, and ignored: never sent to ECS, not part of
    // the spec hash, never drift (see OUTPUT_ONLY_FIELDS).
    /// Output only, ignored: ARN of the revision the definition was copied from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_definition_arn: Option<String>,

    /// Output only, ignored: revision number the definition was copied from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<i64>,

    /// Output only, ignored: ECS status of the revision copied (`ACTIVE`, `INACTIVE`,
    /// `DELETE_IN_PROGRESS`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,

    /// Output only, ignored: container instance attributes ECS derived from the definition.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[serde(deserialize_with = "null_as_default")]
    pub requires_attributes: Vec<Attribute>,

    /// Output only, ignored: launch types ECS validated the definition against.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[serde(deserialize_with = "null_as_default")]
    pub compatibilities: Vec<String>,

    /// Output only, ignored: when the revision was registered (ISO 8601 from the AWS CLI v2,
    /// epoch seconds from the API).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-kubernetes-preserve-unknown-fields" = true))]
    pub registered_at: Option<serde_json::Value>,

    /// Output only, ignored: principal that registered the revision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registered_by: Option<String>,

    /// Output only, ignored: when the revision was deregistered (ISO 8601 or epoch seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-kubernetes-preserve-unknown-fields" = true))]
    pub deregistered_at: Option<serde_json::Value>,
}

/// Fields of DescribeTaskDefinition's `taskDefinition` that ECS sets itself: accepted in the
/// spec so that its output pastes unchanged, and ignored (ECS API reference, TaskDefinition:
/// taskDefinitionArn, revision, status, requiresAttributes, compatibilities, registeredAt,
/// registeredBy and deregisteredAt are not RegisterTaskDefinition parameters).
pub const OUTPUT_ONLY_FIELDS: [&str; 8] = [
    "taskDefinitionArn",
    "revision",
    "status",
    "requiresAttributes",
    "compatibilities",
    "registeredAt",
    "registeredBy",
    "deregisteredAt",
];

impl EcsTaskDefinitionSpec {
    /// The output-only fields (OUTPUT_ONLY_FIELDS) this spec carries, in that order.
    pub fn output_only_fields(&self) -> Vec<&'static str> {
        let value = serde_json::to_value(self).unwrap_or_default();
        OUTPUT_ONLY_FIELDS
            .into_iter()
            .filter(|field| value.get(field).is_some())
            .collect()
    }

    /// The ECS family: `family`, else the object's name.
    pub fn family_or<'a>(&'a self, object_name: &'a str) -> &'a str {
        self.family.as_deref().unwrap_or(object_name)
    }

    /// How many revisions to keep ACTIVE.
    pub fn revision_history_limit_or_default(&self) -> usize {
        let limit = self
            .revision_history_limit
            .unwrap_or(DEFAULT_REVISION_HISTORY_LIMIT);
        // The schema enforces >= 1; clamp anyway so a bad stored value never prunes everything.
        usize::try_from(limit.max(1)).unwrap_or(1)
    }
}

/// What ECS reports about the family and the revision in use.
#[derive(schemars::JsonSchema, Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EcsTaskDefinitionStatus {
    /// The generation this status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,

    /// Ready, Reconciling and Stalled.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[serde(deserialize_with = "null_as_default")]
    #[schemars(extend("x-kubernetes-list-type" = "map", "x-kubernetes-list-map-keys" = ["type"]))]
    pub conditions: Vec<Condition>,

    /// ECS task definition family.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family: Option<String>,

    /// Revision registered for the current spec.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<i32>,

    /// ARN of that revision (`arn:aws:ecs:<region>:<account>:task-definition/<family>:<revision>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_definition_arn: Option<String>,

    /// Hash of the spec that revision was registered from (also its `ecs.operator.dev/spec-hash`
    /// tag).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec_hash: Option<String>,
}

mod container;
mod rules;
mod volume;

pub use container::*;
use rules::*;
pub use rules::{FARGATE_LOG_DRIVERS, LOG_DRIVERS};
pub use volume::*;

#[cfg(test)]
mod tests;
