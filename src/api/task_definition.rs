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

/// One container of the task, as in the ECS ContainerDefinition API type.
#[derive(KubeSchema, Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[x_kube(
    validation = memory_reservation_rule(),
    validation = health_check_range_rule("interval", HEALTH_CHECK_INTERVAL),
    validation = health_check_range_rule("timeout", HEALTH_CHECK_TIMEOUT),
    validation = health_check_range_rule("retries", HEALTH_CHECK_RETRIES),
    validation = health_check_range_rule("startPeriod", HEALTH_CHECK_START_PERIOD),
    validation = log_driver_rule()
)]
#[serde(rename_all = "camelCase")]
pub struct ContainerDefinition {
    /// Container name, unique in the task; other containers refer to it in links, dependsOn and
    /// volumesFrom.
    #[schemars(length(min = 1, max = 255), regex(pattern = r"^[a-zA-Z0-9_-]+$"))]
    pub name: String,

    /// Image reference: `repository:tag`, `repository@digest` or a full registry URL.
    pub image: String,

    /// Secret with the credentials of a private registry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repository_credentials: Option<RepositoryCredentials>,

    /// CPU units reserved for the container (1024 = one vCPU).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu: Option<i32>,

    /// Hard memory limit in MiB: the container is killed above it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<i32>,

    /// Soft memory limit in MiB, reserved for the container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_reservation: Option<i32>,

    /// Legacy links to other containers (`name` or `name:alias`); bridge network mode only.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[serde(deserialize_with = "null_as_default")]
    pub links: Vec<String>,

    /// Ports the container exposes. A containerPort/protocol pair may appear only once in the
    /// task.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[serde(deserialize_with = "null_as_default")]
    #[schemars(length(max = 100))]
    pub port_mappings: Vec<PortMapping>,

    /// When true (the ECS default), the task stops if this container stops.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub essential: Option<bool>,

    /// Restarts the container in place when it exits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restart_policy: Option<ContainerRestartPolicy>,

    /// Overrides the image's ENTRYPOINT.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[serde(deserialize_with = "null_as_default")]
    pub entry_point: Vec<String>,

    /// Overrides the image's CMD.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[serde(deserialize_with = "null_as_default")]
    pub command: Vec<String>,

    /// Environment variables, keyed by name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[serde(deserialize_with = "null_as_default")]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["name".into()]))]
    pub environment: Vec<KeyValuePair>,

    /// S3 objects with environment variables (`.env` files).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[serde(deserialize_with = "null_as_default")]
    pub environment_files: Vec<EnvironmentFile>,

    /// Volumes mounted into the container.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[serde(deserialize_with = "null_as_default")]
    pub mount_points: Vec<MountPoint>,

    /// Mounts all volumes of another container.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[serde(deserialize_with = "null_as_default")]
    pub volumes_from: Vec<VolumeFrom>,

    /// Linux-specific settings: capabilities, devices, init process, shared memory, tmpfs, swap.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub linux_parameters: Option<LinuxParameters>,

    /// Environment variables read from Secrets Manager or SSM Parameter Store, keyed by name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[serde(deserialize_with = "null_as_default")]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["name".into()]))]
    pub secrets: Vec<Secret>,

    /// Containers that must reach a condition before this one starts, keyed by containerName.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[serde(deserialize_with = "null_as_default")]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["containerName".into()]))]
    pub depends_on: Vec<ContainerDependency>,

    /// Seconds to wait for dependencies before giving up on starting this container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_timeout: Option<i32>,

    /// Seconds between SIGTERM and SIGKILL when the container is stopped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_timeout: Option<i32>,

    /// `enabled` (default) pins the image digest at deployment; `disabled` resolves the tag at
    /// each task start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[serde(deserialize_with = "empty_as_none")]
    #[schemars(extend("enum" = ["enabled", "disabled", ""], "type" = "string"))]
    pub version_consistency: Option<String>,

    /// Container hostname (not with awsvpc network mode).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,

    /// User (and group) the container runs as: `user`, `user:group`, `uid`, `uid:gid`, ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,

    /// Working directory of the command.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub working_directory: Option<String>,

    /// Disables networking inside the container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable_networking: Option<bool>,

    /// Gives the container root privileges on the host (not on Fargate).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub privileged: Option<bool>,

    /// Mounts the root filesystem read-only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub readonly_root_filesystem: Option<bool>,

    /// DNS servers of the container.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[serde(deserialize_with = "null_as_default")]
    pub dns_servers: Vec<String>,

    /// DNS search domains of the container.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[serde(deserialize_with = "null_as_default")]
    pub dns_search_domains: Vec<String>,

    /// Entries appended to /etc/hosts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[serde(deserialize_with = "null_as_default")]
    pub extra_hosts: Vec<HostEntry>,

    /// SELinux, AppArmor or credential spec labels for the container.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[serde(deserialize_with = "null_as_default")]
    pub docker_security_options: Vec<String>,

    /// Keeps stdin open (`docker run -i`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interactive: Option<bool>,

    /// Allocates a TTY (`docker run -t`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pseudo_terminal: Option<bool>,

    /// Docker labels of the container.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[serde(deserialize_with = "null_as_default")]
    pub docker_labels: BTreeMap<String, String>,

    /// Resource limits (ulimits), keyed by name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[serde(deserialize_with = "null_as_default")]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["name".into()]))]
    pub ulimits: Vec<Ulimit>,

    /// Where the container's logs go (awslogs, awsfirelens, splunk, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_configuration: Option<LogConfiguration>,

    /// Container health check; the container's health feeds the task's health.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_check: Option<HealthCheck>,

    /// Namespaced kernel parameters (sysctls).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[serde(deserialize_with = "null_as_default")]
    pub system_controls: Vec<SystemControl>,

    /// GPUs, Neuron devices or inference accelerators assigned to the container.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[serde(deserialize_with = "null_as_default")]
    pub resource_requirements: Vec<ResourceRequirement>,

    /// FireLens log router configuration (for a fluentd or fluentbit sidecar).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub firelens_configuration: Option<FirelensConfiguration>,

    /// Credential specs (ARNs or file paths) for Active Directory authentication of Windows or
    /// Linux containers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[serde(deserialize_with = "null_as_default")]
    pub credential_specs: Vec<String>,
}

/// A container instance attribute, as DescribeTaskDefinition reports `requiresAttributes`.
#[derive(schemars::JsonSchema, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Attribute {
    /// Attribute name, such as `com.amazonaws.ecs.capability.logging-driver.awslogs`.
    pub name: String,

    /// Attribute value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,

    /// Type of the target the attribute belongs to (`container-instance`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_type: Option<String>,

    /// ID of that target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_id: Option<String>,
}

/// Credentials for a private registry.
#[derive(schemars::JsonSchema, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RepositoryCredentials {
    /// ARN or name of the Secrets Manager secret with the registry credentials.
    pub credentials_parameter: String,
}

/// A port the container exposes.
#[derive(schemars::JsonSchema, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PortMapping {
    /// Port the application listens on in the container. Use containerPortRange for a range.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container_port: Option<i32>,

    /// Port on the host; with awsvpc it equals containerPort, with bridge 0 picks a dynamic port.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_port: Option<i32>,

    /// `tcp` (default) or `udp`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[serde(deserialize_with = "empty_as_none")]
    #[schemars(extend("enum" = ["tcp", "udp", ""], "type" = "string"), length(max = 3))]
    pub protocol: Option<String>,

    /// Name of the mapping, used by Service Connect and load balancer settings of services.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,

    /// Application protocol for Service Connect: `http`, `http2` or `grpc`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[serde(deserialize_with = "empty_as_none")]
    #[schemars(extend("enum" = ["http", "http2", "grpc", ""], "type" = "string"))]
    pub app_protocol: Option<String>,

    /// Range of container ports, such as `"8000-8010"` (awsvpc, without containerPort).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container_port_range: Option<String>,
}

/// Container restart policy.
#[derive(schemars::JsonSchema, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContainerRestartPolicy {
    /// Whether the container is restarted in place when it exits.
    pub enabled: bool,

    /// Exit codes that do not trigger a restart (at most 50).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[serde(deserialize_with = "null_as_default")]
    pub ignored_exit_codes: Vec<i32>,

    /// Seconds (60 to 1800) the container must run before a restart is attempted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restart_attempt_period: Option<i32>,
}

/// An S3 object with environment variables.
#[derive(schemars::JsonSchema, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EnvironmentFile {
    /// ARN of the S3 object.
    pub value: String,

    /// File type; ECS knows `s3`.
    #[serde(rename = "type")]
    #[schemars(extend("enum" = ["s3"]))]
    pub type_: String,
}

/// A volume mounted into the container.
#[derive(schemars::JsonSchema, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MountPoint {
    /// Name of the volume (from `volumes`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_volume: Option<String>,

    /// Path in the container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container_path: Option<String>,

    /// Mounts the volume read-only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_only: Option<bool>,
}

/// Volumes of another container to mount.
#[derive(schemars::JsonSchema, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VolumeFrom {
    /// Name of the container whose volumes are mounted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_container: Option<String>,

    /// Mounts them read-only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_only: Option<bool>,
}

/// Linux-specific container settings.
#[derive(schemars::JsonSchema, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LinuxParameters {
    /// Linux capabilities added to or dropped from Docker's default set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capabilities: Option<KernelCapabilities>,

    /// Host devices exposed to the container (not on Fargate).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[serde(deserialize_with = "null_as_default")]
    pub devices: Vec<Device>,

    /// Runs an init process (PID 1) that forwards signals and reaps zombies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub init_process_enabled: Option<bool>,

    /// Size of /dev/shm in MiB (not on Fargate).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shared_memory_size: Option<i32>,

    /// tmpfs mounts (not on Fargate).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[serde(deserialize_with = "null_as_default")]
    pub tmpfs: Vec<Tmpfs>,

    /// Swap the container may use, in MiB; 0 disables swap (not on Fargate).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_swap: Option<i32>,

    /// Swappiness, 0 to 100 (default 60; not on Fargate).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub swappiness: Option<i32>,
}

/// Linux capabilities to add or drop.
#[derive(schemars::JsonSchema, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KernelCapabilities {
    /// Capabilities to add, such as `SYS_PTRACE` (Fargate accepts only SYS_PTRACE).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[serde(deserialize_with = "null_as_default")]
    pub add: Vec<String>,

    /// Capabilities to drop, such as `NET_RAW`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[serde(deserialize_with = "null_as_default")]
    pub drop: Vec<String>,
}

/// A host device exposed to the container.
#[derive(schemars::JsonSchema, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Device {
    /// Path of the device on the host.
    pub host_path: String,

    /// Path of the device in the container; defaults to hostPath.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container_path: Option<String>,

    /// Permissions: `read`, `write` and/or `mknod` (default all three).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[serde(deserialize_with = "null_as_default")]
    #[schemars(inner(regex(pattern = r"^(read|write|mknod)$")))]
    pub permissions: Vec<String>,
}

/// A tmpfs mount.
#[derive(schemars::JsonSchema, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Tmpfs {
    /// Path in the container.
    pub container_path: String,

    /// Size in MiB.
    pub size: i32,

    /// Mount options, such as `noexec` or `size=...`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[serde(deserialize_with = "null_as_default")]
    pub mount_options: Vec<String>,
}

/// An environment variable whose value comes from Secrets Manager or SSM Parameter Store.
#[derive(schemars::JsonSchema, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Secret {
    /// Name of the environment variable (or log option).
    pub name: String,

    /// ARN of the secret or parameter; a Secrets Manager ARN may end with
    /// `:json-key:version-stage:version-id`.
    pub value_from: String,
}

/// A container this container depends on.
#[derive(schemars::JsonSchema, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContainerDependency {
    /// Name of the other container.
    pub container_name: String,

    /// `START`, `COMPLETE`, `SUCCESS` or `HEALTHY`.
    #[schemars(extend("enum" = ["START", "COMPLETE", "SUCCESS", "HEALTHY"]))]
    pub condition: String,
}

/// An /etc/hosts entry.
#[derive(schemars::JsonSchema, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HostEntry {
    /// Hostname.
    pub hostname: String,

    /// IP address it resolves to.
    pub ip_address: String,
}

/// A resource limit.
#[derive(schemars::JsonSchema, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Ulimit {
    /// Limit name, such as `nofile` or `nproc`.
    #[schemars(extend("enum" = ["core", "cpu", "data", "fsize", "locks", "memlock", "msgqueue", "nice", "nofile", "nproc", "rss", "rtprio", "rttime", "sigpending", "stack"]))]
    pub name: String,

    /// Soft limit.
    pub soft_limit: i32,

    /// Hard limit.
    pub hard_limit: i32,
}

/// Log configuration of a container.
#[derive(schemars::JsonSchema, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogConfiguration {
    /// Log driver: `awslogs`, `awsfirelens`, `splunk`, `fluentd`, `gelf`, `json-file`,
    /// `journald`, `logentries` or `syslog` (Fargate: awslogs, splunk and awsfirelens).
    #[schemars(length(max = 32))]
    pub log_driver: String,

    /// Driver options, such as `awslogs-group`, `awslogs-region` and `awslogs-stream-prefix`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[serde(deserialize_with = "null_as_default")]
    pub options: BTreeMap<String, String>,

    /// Driver options whose values come from Secrets Manager or SSM Parameter Store.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[serde(deserialize_with = "null_as_default")]
    pub secret_options: Vec<Secret>,
}

/// Container health check.
#[derive(schemars::JsonSchema, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HealthCheck {
    /// Command, starting with `CMD` (exec) or `CMD-SHELL` (shell), for example
    /// `["CMD-SHELL", "curl -f http://localhost/ || exit 1"]`.
    pub command: Vec<String>,

    /// Seconds between checks (5 to 300, default 30).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<i32>,

    /// Seconds a check may take (2 to 60, default 5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<i32>,

    /// Failed checks before the container is unhealthy (1 to 10, default 3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retries: Option<i32>,

    /// Grace period in seconds (0 to 300) during which failures do not count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_period: Option<i32>,
}

/// A namespaced kernel parameter.
#[derive(schemars::JsonSchema, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SystemControl {
    /// Parameter name, such as `net.ipv4.tcp_keepalive_time`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,

    /// Parameter value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

/// A GPU, Neuron device or inference accelerator assignment.
#[derive(schemars::JsonSchema, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceRequirement {
    /// Amount: a number of GPUs (or `ALL`), `ALL` for NeuronDevice, or the deviceName of an
    /// inference accelerator. Omitted for a GPU with a sharingStrategy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,

    /// `GPU`, `NeuronDevice` or `InferenceAccelerator`.
    #[serde(rename = "type")]
    #[schemars(extend("enum" = ["GPU", "NeuronDevice", "InferenceAccelerator"]))]
    pub type_: String,

    /// How the container shares a GPU with other containers (GPU only; instead of value).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sharing_strategy: Option<SharingStrategy>,
}

/// GPU sharing strategy; set exactly one member.
#[derive(schemars::JsonSchema, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SharingStrategy {
    /// Share the GPU through NVIDIA Multi-Process Service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nvidia_mps: Option<NvidiaMpsAllocation>,
}

/// GPU memory and compute limits of a container sharing a GPU through NVIDIA MPS.
#[derive(schemars::JsonSchema, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NvidiaMpsAllocation {
    /// GPU memory for the container, in MiB.
    pub memory: i32,

    /// Highest share (percent) of the GPU's compute capacity the container may use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_compute_percent: Option<i32>,
}

/// FireLens configuration of a log router container.
#[derive(schemars::JsonSchema, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FirelensConfiguration {
    /// `fluentbit` or `fluentd`.
    #[serde(rename = "type")]
    #[schemars(extend("enum" = ["fluentbit", "fluentd"]))]
    pub type_: String,

    /// Options, such as `enable-ecs-log-metadata` or `config-file-type`/`config-file-value`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[serde(deserialize_with = "null_as_default")]
    pub options: BTreeMap<String, String>,
}

/// A data volume of the task. Set at most one of host, configuredAtLaunch,
/// dockerVolumeConfiguration, efsVolumeConfiguration, s3filesVolumeConfiguration and
/// fsxWindowsFileServerVolumeConfiguration; none is a Docker-managed (or Fargate task storage)
/// volume.
#[derive(schemars::JsonSchema, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Volume {
    /// Volume name, referenced by mountPoints[].sourceVolume.
    pub name: String,

    /// Bind mount of a host path (EC2) or task storage (when sourcePath is empty).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<HostVolumeProperties>,

    /// The volume is configured when a service or task is launched (EBS volumes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub configured_at_launch: Option<bool>,

    /// Docker volume (EC2 only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub docker_volume_configuration: Option<DockerVolumeConfiguration>,

    /// Amazon EFS file system.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub efs_volume_configuration: Option<EfsVolumeConfiguration>,

    /// Amazon S3 Files file system.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s3files_volume_configuration: Option<S3FilesVolumeConfiguration>,

    /// Amazon FSx for Windows File Server file system.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fsx_windows_file_server_volume_configuration:
        Option<FsxWindowsFileServerVolumeConfiguration>,
}

/// Bind mount of a host path.
#[derive(schemars::JsonSchema, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HostVolumeProperties {
    /// Path on the host; empty means a Docker-managed path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_path: Option<String>,
}

/// Docker volume settings.
#[derive(schemars::JsonSchema, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DockerVolumeConfiguration {
    /// `task` (removed with the task) or `shared` (persists).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[serde(deserialize_with = "empty_as_none")]
    #[schemars(extend("enum" = ["task", "shared", ""], "type" = "string"))]
    pub scope: Option<String>,

    /// Creates a shared volume that does not exist yet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub autoprovision: Option<bool>,

    /// Volume driver, such as `local`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub driver: Option<String>,

    /// Driver options.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[serde(deserialize_with = "null_as_default")]
    pub driver_opts: BTreeMap<String, String>,

    /// Docker labels of the volume.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[serde(deserialize_with = "null_as_default")]
    pub labels: BTreeMap<String, String>,
}

/// Amazon EFS volume settings.
#[derive(schemars::JsonSchema, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EfsVolumeConfiguration {
    /// EFS file system ID, such as `fs-0123456789abcdef0`.
    pub file_system_id: String,

    /// Directory of the file system to mount (default `/`; must be `/` with an access point).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root_directory: Option<String>,

    /// `ENABLED` or `DISABLED` (default); must be ENABLED with IAM authorization.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[serde(deserialize_with = "empty_as_none")]
    #[schemars(extend("enum" = ["ENABLED", "DISABLED", ""], "type" = "string"))]
    pub transit_encryption: Option<String>,

    /// Port of the encrypted NFS traffic between host and EFS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transit_encryption_port: Option<i32>,

    /// Access point and IAM authorization.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_config: Option<EfsAuthorizationConfig>,
}

/// EFS authorization settings.
#[derive(schemars::JsonSchema, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EfsAuthorizationConfig {
    /// EFS access point ID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_point_id: Option<String>,

    /// `ENABLED` mounts with the task's IAM role; `DISABLED` (default) does not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[serde(deserialize_with = "empty_as_none")]
    #[schemars(extend("enum" = ["ENABLED", "DISABLED", ""], "type" = "string"))]
    pub iam: Option<String>,
}

/// Amazon S3 Files volume settings (the task needs a task role).
#[derive(schemars::JsonSchema, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct S3FilesVolumeConfiguration {
    /// ARN of the S3 Files file system.
    pub file_system_arn: String,

    /// Directory of the file system to mount (default `/`; must be `/` with an access point).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root_directory: Option<String>,

    /// Port of the encrypted traffic between host and file system.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transit_encryption_port: Option<i32>,

    /// ARN of the S3 Files access point.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_point_arn: Option<String>,
}

/// Amazon FSx for Windows File Server volume settings.
#[derive(schemars::JsonSchema, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FsxWindowsFileServerVolumeConfiguration {
    /// FSx file system ID.
    pub file_system_id: String,

    /// Directory of the file system to mount.
    pub root_directory: String,

    /// Credentials to mount the share.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_config: Option<FsxWindowsFileServerAuthorizationConfig>,
}

/// FSx for Windows File Server credentials.
#[derive(schemars::JsonSchema, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FsxWindowsFileServerAuthorizationConfig {
    /// ARN of the Secrets Manager secret or SSM parameter with the domain credentials.
    pub credentials_parameter: String,

    /// Fully qualified domain name of the Active Directory.
    pub domain: String,
}

/// A task placement constraint (EC2 only).
#[derive(schemars::JsonSchema, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskDefinitionPlacementConstraint {
    /// Constraint type; ECS knows `memberOf`.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    #[serde(deserialize_with = "empty_as_none")]
    #[schemars(extend("enum" = ["memberOf", ""], "type" = "string"))]
    pub type_: Option<String>,

    /// Cluster query language expression, such as `attribute:ecs.availability-zone in [us-east-1a]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expression: Option<String>,
}

/// Ephemeral storage of a Fargate task.
#[derive(schemars::JsonSchema, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EphemeralStorage {
    /// Total ephemeral storage in GiB, 21 to 200.
    #[serde(rename = "sizeInGiB")]
    #[schemars(range(min = 21, max = 200))]
    pub size_in_gib: i32,
}

/// Platform the task runs on.
#[derive(schemars::JsonSchema, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RuntimePlatform {
    /// `X86_64` or `ARM64`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[serde(deserialize_with = "empty_as_none")]
    #[schemars(extend("enum" = ["X86_64", "ARM64", ""], "type" = "string"))]
    pub cpu_architecture: Option<String>,

    /// `LINUX` or a Windows Server family, such as `WINDOWS_SERVER_2022_CORE`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[serde(deserialize_with = "empty_as_none")]
    pub operating_system_family: Option<String>,
}

/// App Mesh proxy configuration.
#[derive(KubeSchema, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProxyConfiguration {
    /// Proxy type; ECS knows `APPMESH`.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    #[serde(deserialize_with = "empty_as_none")]
    #[schemars(extend("enum" = ["APPMESH", ""], "type" = "string"))]
    pub type_: Option<String>,

    /// Name of the container that runs the proxy.
    pub container_name: String,

    /// Proxy settings (IgnoredUID, ProxyIngressPort, AppPorts, ...), keyed by name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[serde(deserialize_with = "null_as_default")]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["name".into()]))]
    pub properties: Vec<KeyValuePair>,
}

/// An Elastic Inference accelerator.
#[derive(schemars::JsonSchema, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InferenceAccelerator {
    /// Name referenced by resourceRequirements of the containers.
    pub device_name: String,

    /// Accelerator type, such as `eia2.medium`.
    pub device_type: String,
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

// --- admission rules (CEL) ---------------------------------------------------------------------
//
// Kubernetes CEL has no variables in the versions we target, so the cpu/memory normalisation is
// spelled out in each rule; building the rules here keeps that readable and in one place.

/// ECS task cpu: CPU units ("1024") or vCPUs ("1 vCPU", ".25 vCPU").
const CPU_FORMAT: &str = "^([0-9]+|[0-9]*[.]?[0-9]+ ?[vV][cC][pP][uU])$";
/// ECS task memory: MiB ("2048") or GB ("2 GB", "0.5GB").
const MEMORY_FORMAT: &str = "^([0-9]+|[0-9]*[.]?[0-9]+ ?[gG][bB])$";

/// CEL: the task cpu in CPU units. Only valid where `self.cpu` matches CPU_FORMAT.
const CEL_CPU_UNITS: &str = "(self.cpu.matches('^[0-9]+$') ? int(self.cpu) : int(double(self.cpu.lowerAscii().replace('vcpu', '').trim()) * 1024.0))";

/// CEL: the task memory in MiB. Only valid where `self.memory` matches MEMORY_FORMAT.
const CEL_MEMORY_MIB: &str = "(self.memory.matches('^[0-9]+$') ? int(self.memory) : int(double(self.memory.lowerAscii().replace('gb', '').trim()) * 1024.0))";

/// CEL: the spec requires Fargate compatibility.
const CEL_REQUIRES_FARGATE: &str =
    "has(self.requiresCompatibilities) && 'FARGATE' in self.requiresCompatibilities";

/// CEL: Fargate task whose cpu and memory are set and well-formed, so they can be converted.
fn cel_fargate_sized() -> String {
    format!(
        "{CEL_REQUIRES_FARGATE} && has(self.cpu) && has(self.memory) && self.cpu.matches('{CPU_FORMAT}') && self.memory.matches('{MEMORY_FORMAT}')"
    )
}

/// Memory (MiB) Fargate accepts for one task cpu size.
enum FargateMemory {
    OneOf(&'static [i64]),
    Steps { min: i64, max: i64, step: i64 },
}

/// The Fargate task sizes: cpu units and the memory allowed with them.
const FARGATE_SIZES: [(i64, FargateMemory); 7] = [
    (256, FargateMemory::OneOf(&[512, 1024, 2048])),
    (512, FargateMemory::OneOf(&[1024, 2048, 3072, 4096])),
    (
        1024,
        FargateMemory::Steps {
            min: 2048,
            max: 8192,
            step: 1024,
        },
    ),
    (
        2048,
        FargateMemory::Steps {
            min: 4096,
            max: 16384,
            step: 1024,
        },
    ),
    (
        4096,
        FargateMemory::Steps {
            min: 8192,
            max: 30720,
            step: 1024,
        },
    ),
    (
        8192,
        FargateMemory::Steps {
            min: 16384,
            max: 61440,
            step: 4096,
        },
    ),
    (
        16384,
        FargateMemory::Steps {
            min: 32768,
            max: 122880,
            step: 8192,
        },
    ),
];

impl FargateMemory {
    fn cel_condition(&self, memory: &str) -> String {
        match self {
            FargateMemory::OneOf(values) => {
                let list: Vec<String> = values.iter().map(i64::to_string).collect();
                format!("{memory} in [{}]", list.join(", "))
            }
            FargateMemory::Steps { min, max, step } => {
                format!("{memory} >= {min} && {memory} <= {max} && {memory} % {step} == 0")
            }
        }
    }

    fn description(&self) -> String {
        match self {
            FargateMemory::OneOf(values) => {
                let (last, rest) = values
                    .split_last()
                    .expect("FARGATE_SIZES lists are not empty");
                let rest: Vec<String> = rest.iter().map(i64::to_string).collect();
                format!("{} or {last}", rest.join(", "))
            }
            FargateMemory::Steps { min, max, step } => format!("{min} to {max} in steps of {step}"),
        }
    }
}

fn fargate_network_mode_rule() -> Rule {
    Rule::new(format!(
        "!({CEL_REQUIRES_FARGATE}) || has(self.networkMode) && self.networkMode == 'awsvpc'"
    ))
    .field_path(".networkMode")
    .message("requiresCompatibilities includes FARGATE, which only runs awsvpc tasks: set networkMode: awsvpc")
}

fn fargate_size_required_rule() -> Rule {
    Rule::new(format!("!({CEL_REQUIRES_FARGATE}) || has(self.cpu) && has(self.memory)")).message(
        "requiresCompatibilities includes FARGATE, which needs task-level cpu and memory: set both, for example cpu: \"256\" and memory: \"512\"",
    )
}

fn fargate_cpu_rule() -> Rule {
    let cpus: Vec<String> = FARGATE_SIZES
        .iter()
        .map(|(cpu, _)| cpu.to_string())
        .collect();
    Rule::new(format!("!({}) || {} in [{}]", cel_fargate_sized(), CEL_CPU_UNITS, cpus.join(", ")))
        .field_path(".cpu")
        .message("a Fargate task's cpu is 256, 512, 1024, 2048, 4096, 8192 or 16384 CPU units (.25, .5, 1, 2, 4, 8 or 16 vCPU)")
}

fn fargate_memory_rule() -> Rule {
    let cpu = CEL_CPU_UNITS;
    let memory = CEL_MEMORY_MIB;
    // Nested conditionals: an unknown cpu passes here (fargate_cpu_rule reports it).
    let mut valid = "true".to_string();
    let mut allowed = "'(see cpu)'".to_string();
    for (units, memory_range) in FARGATE_SIZES.iter().rev() {
        valid = format!(
            "({cpu} == {units} ? ({}) : {valid})",
            memory_range.cel_condition(memory)
        );
        allowed = format!(
            "({cpu} == {units} ? '{}' : {allowed})",
            memory_range.description()
        );
    }
    Rule::new(format!("!({}) || {valid}", cel_fargate_sized()))
        .field_path(".memory")
        .message(Message::Expression(format!(
            "'a Fargate task with cpu ' + self.cpu + ' needs memory (MiB) of ' + {allowed} + ', not ' + self.memory"
        )))
}

/// Container `index`'s port mappings clash with no other mapping of the task. One rule per
/// container index: a single rule over all containers would compare up to 1000 mappings with
/// 1000 and exceed the apiserver's CEL cost budget; per container it stays well inside.
fn unique_container_ports_rule(index: usize) -> Rule {
    let container = format!("self.containerDefinitions[{index}]");
    // A mapping without containerPort uses containerPortRange, which ECS checks itself. An
    // empty protocol is unset, so tcp.
    let same_port = "has(q.containerPort) && q.containerPort == p.containerPort && (has(q.protocol) && q.protocol != '' ? q.protocol : 'tcp') == (has(p.protocol) && p.protocol != '' ? p.protocol : 'tcp')";
    let clashes = format!(
        "{container}.portMappings.filter(q, {same_port}).size() > 1 || \
         self.containerDefinitions.filter(d, has(d.portMappings) && d.portMappings.exists(q, {same_port})).size() > 1"
    );
    Rule::new(format!(
        "size(self.containerDefinitions) <= {index} || !has({container}.portMappings) || \
         !{container}.portMappings.exists(p, has(p.containerPort) && ({clashes}))"
    ))
    .field_path(".containerDefinitions")
    // Only the name: the apiserver cannot bound the cost of string(int), so no port number.
    .message(Message::Expression(format!(
        "'container ' + {container}.name + ' maps a containerPort/protocol pair that is mapped again in the task (protocol defaults to tcp): map each pair only once'"
    )))
}

// Rules for what RegisterTaskDefinition refuses, so that a definition ECS would refuse is
// refused at apply time with the container's name, rather than after a round trip as a Stalled
// condition. Each names ECS's own words and where they come from; the emulator
// (e2e/ecs-emulator, shapes.validate_task_definition) refuses the same with those words.
//
// The messages name the container but not the numbers: the apiserver cannot bound the cost of
// string(int), and a container found with filter() loses its name's maxLength, so the name of
// the first offending container is picked by index, in nested conditionals.

/// CEL: the name of the first container for which `bad` holds, `bad` being an expression over
/// the container `$c`. Only valid where some container is bad.
fn first_container_name(bad: &str) -> String {
    (0..MAX_CONTAINERS)
        .rev()
        .fold("''".to_string(), |otherwise, index| {
            let container = format!("self.containerDefinitions[{index}]");
            format!(
                "(size(self.containerDefinitions) > {index} && {} ? {container}.name : {otherwise})",
                bad.replace("$c", &container)
            )
        })
}

/// A spec rule: where `applies` holds, no container may be `bad` (an expression over `$c`);
/// the message is "container NAME " followed by `what` (a CEL string literal's content: no `'`).
fn no_container_rule(applies: &str, bad: &str, field_path: &str, what: &str) -> Rule {
    Rule::new(format!(
        "!({applies}) || !self.containerDefinitions.exists(c, {})",
        bad.replace("$c", "c")
    ))
    .field_path(field_path)
    .message(Message::Expression(format!(
        "'container ' + {} + ' {what}'",
        first_container_name(bad)
    )))
}

/// ECS: "When networkMode=awsvpc, the host ports and container ports in port mappings must
/// match." (ClientException; pulumi/pulumi-awsx#935; task definition parameters, portMappings:
/// with awsvpc "the hostPort can either be left blank or set to the same value as the
/// containerPort").
fn awsvpc_host_port_rule() -> Rule {
    no_container_rule(
        "has(self.networkMode) && self.networkMode == 'awsvpc'",
        "has($c.portMappings) && $c.portMappings.exists(p, has(p.hostPort) && has(p.containerPort) && p.hostPort != p.containerPort)",
        ".containerDefinitions",
        "maps a hostPort to a different containerPort: with networkMode awsvpc each hostPort must equal its containerPort (or be left out)",
    )
}

/// ECS: "Invalid setting for container 'NAME'. At least one of 'memory' or 'memoryReservation'
/// must be specified." when the task sets no memory (ClientException; sil-org/ecs-deploy#59;
/// task definition parameters, memory: a container needs memory or memoryReservation unless
/// the task sets memory).
fn container_memory_rule() -> Rule {
    no_container_rule(
        "!has(self.memory)",
        "!has($c.memory) && !has($c.memoryReservation)",
        ".containerDefinitions",
        "sets neither memory nor memoryReservation, and the task sets no memory: set one of them",
    )
}

/// Fargate runs no privileged containers (task definition parameters, privileged: "This
/// parameter is not supported for Windows containers or tasks run on Fargate";
/// aws/containers-roadmap#1000). ECS's own message for it was not found.
fn fargate_privileged_rule() -> Rule {
    no_container_rule(
        CEL_REQUIRES_FARGATE,
        "has($c.privileged) && $c.privileged",
        ".containerDefinitions",
        "is privileged, which Fargate does not allow: remove privileged, or FARGATE from requiresCompatibilities",
    )
}

/// ECS: "Fargate requires task definition to have execution role ARN to support log driver
/// awslogs." (ClientException; virtual-kubelet/virtual-kubelet#193; task definition
/// parameters, executionRoleArn).
fn fargate_awslogs_execution_role_rule() -> Rule {
    no_container_rule(
        &format!(
            "{CEL_REQUIRES_FARGATE} && (!has(self.executionRoleArn) || self.executionRoleArn == '')"
        ),
        "has($c.logConfiguration) && $c.logConfiguration.logDriver == 'awslogs'",
        ".executionRoleArn",
        "logs with awslogs, which on Fargate needs an executionRoleArn: set one that may write to CloudWatch Logs",
    )
}

/// ECS: "Task definition doesn't have any essential container." (ClientException;
/// eagletmt/hako PR #68; task definition parameters, essential: "All tasks must have at least
/// one essential container").
fn essential_container_rule() -> Rule {
    Rule::new(
        "size(self.containerDefinitions) == 0 || self.containerDefinitions.exists(c, !has(c.essential) || c.essential)",
    )
    .field_path(".containerDefinitions")
    .message("no container is essential, and ECS needs at least one: set essential: true on the main container (it defaults to true)")
}

/// ECS: "Invalid setting for container 'NAME'. 'memory' must be greater than or equal to
/// 'memoryReservation'." (e2e/ecs-emulator/FACTS.md section 8; task definition parameters,
/// memoryReservation: memory "must be greater than memoryReservation" when both are set).
fn memory_reservation_rule() -> Rule {
    Rule::new("!has(self.memory) || !has(self.memoryReservation) || self.memoryReservation <= self.memory")
        .field_path(".memoryReservation")
        .message(Message::Expression(
            "'container ' + self.name + ' reserves more memory (memoryReservation) than its limit (memory): memoryReservation must not exceed memory'".into(),
        ))
}

/// Health check bounds (seconds; retries: a count), from the task definition parameters,
/// healthCheck: interval "between 5 and 300 seconds", timeout "between 2 and 60 seconds",
/// retries "between 1 and 10", startPeriod "between 0 and 300 seconds" (also
/// AWS::ECS::TaskDefinition HealthCheck).
const HEALTH_CHECK_INTERVAL: (i32, i32) = (5, 300);
const HEALTH_CHECK_TIMEOUT: (i32, i32) = (2, 60);
const HEALTH_CHECK_RETRIES: (i32, i32) = (1, 10);
const HEALTH_CHECK_START_PERIOD: (i32, i32) = (0, 300);

fn health_check_range_rule(field: &str, (min, max): (i32, i32)) -> Rule {
    let value = format!("self.healthCheck.{field}");
    Rule::new(format!(
        "!has(self.healthCheck) || !has({value}) || {value} >= {min} && {value} <= {max}"
    ))
    .field_path(format!(".healthCheck.{field}"))
    .message(Message::Expression(format!(
        "'container ' + self.name + ' has a healthCheck.{field} ECS refuses: it accepts {min} to {max}'"
    )))
}

/// The log drivers ECS knows (ECS API reference, LogConfiguration.logDriver: "awslogs, fluentd,
/// gelf, json-file, journald, logentries, syslog, splunk, and awsfirelens"); ECS refuses others.
pub const LOG_DRIVERS: [&str; 9] = [
    "awslogs",
    "awsfirelens",
    "fluentd",
    "gelf",
    "journald",
    "json-file",
    "logentries",
    "splunk",
    "syslog",
];

/// The log drivers Fargate takes (ECS API reference, LogConfiguration.logDriver: "For tasks on
/// Fargate, the supported log drivers are awslogs, splunk, and awsfirelens"; ECS answers others
/// with "<driver> is not a valid log driver. Must be one of [awslogs,splunk,awsfirelens]",
/// kayac/ecspresso#364).
pub const FARGATE_LOG_DRIVERS: [&str; 3] = ["awslogs", "splunk", "awsfirelens"];

fn fargate_log_driver_rule() -> Rule {
    let drivers: Vec<String> = FARGATE_LOG_DRIVERS
        .iter()
        .map(|d| format!("'{d}'"))
        .collect();
    no_container_rule(
        CEL_REQUIRES_FARGATE,
        &format!(
            "has($c.logConfiguration) && !($c.logConfiguration.logDriver in [{}])",
            drivers.join(", ")
        ),
        ".containerDefinitions",
        &format!(
            "uses a log driver Fargate does not take: use {}",
            FARGATE_LOG_DRIVERS.join(", ")
        ),
    )
}

fn log_driver_rule() -> Rule {
    let drivers: Vec<String> = LOG_DRIVERS.iter().map(|d| format!("'{d}'")).collect();
    Rule::new(format!(
        "!has(self.logConfiguration) || self.logConfiguration.logDriver in [{}]",
        drivers.join(", ")
    ))
    .field_path(".logConfiguration.logDriver")
    .message(Message::Expression(format!(
        "'container ' + self.name + ' uses the log driver ' + self.logConfiguration.logDriver + ', which ECS does not know: use one of {}'",
        LOG_DRIVERS.join(", ")
    )))
}

#[cfg(test)]
mod tests {
    use kube::CustomResourceExt;
    use serde_json::{Value, json};

    use super::*;

    fn schema() -> Value {
        let crd = serde_json::to_value(EcsTaskDefinition::crd()).unwrap();
        crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"].clone()
    }

    fn rules(schema: &Value) -> Vec<String> {
        schema["x-kubernetes-validations"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|rule| rule["rule"].as_str().unwrap().to_string())
            .collect()
    }

    #[test]
    fn crd_names_and_columns() {
        let crd = EcsTaskDefinition::crd();
        assert_eq!(
            crd.metadata.name.as_deref(),
            Some("ecstaskdefinitions.ecs.operator.dev")
        );
        assert_eq!(crd.spec.names.short_names, Some(vec!["ecstd".to_string()]));
        assert_eq!(crd.spec.names.categories, Some(vec!["ecs".to_string()]));
        assert_eq!(crd.spec.scope, "Namespaced");
        let version = &crd.spec.versions[0];
        assert!(version.subresources.as_ref().unwrap().status.is_some());
        let columns: Vec<&str> = version
            .additional_printer_columns
            .iter()
            .flatten()
            .map(|column| column.name.as_str())
            .collect();
        assert_eq!(columns, ["Ready", "Family", "Revision", "Age"]);
    }

    #[test]
    fn family_and_region_are_immutable() {
        let root_rules = rules(&schema());
        assert!(
            root_rules
                .iter()
                .any(|rule| rule.contains("self.spec.family : self.metadata.name) == (has(oldSelf.spec.family) ? oldSelf.spec.family : oldSelf.metadata.name)"))
        );
        assert!(
            root_rules
                .iter()
                .any(|rule| rule.contains("self.spec.region == oldSelf.spec.region"))
        );
    }

    #[test]
    fn every_container_index_has_a_port_uniqueness_rule() {
        let spec_rules = rules(&schema()["properties"]["spec"]);
        for index in 0..MAX_CONTAINERS {
            let guard = format!("size(self.containerDefinitions) <= {index} ||");
            assert!(
                spec_rules.iter().any(|rule| rule.starts_with(&guard)),
                "no port rule for container {index}"
            );
        }
        let guard = format!("size(self.containerDefinitions) <= {MAX_CONTAINERS} ||");
        assert!(!spec_rules.iter().any(|rule| rule.starts_with(&guard)));
    }

    #[test]
    fn lists_used_by_rules_are_bounded_and_keyed_lists_are_maps() {
        let spec = &schema()["properties"]["spec"];
        let containers = &spec["properties"]["containerDefinitions"];
        assert_eq!(containers["maxItems"], json!(MAX_CONTAINERS));
        assert_eq!(containers["x-kubernetes-list-type"], "map");
        assert_eq!(containers["x-kubernetes-list-map-keys"], json!(["name"]));
        let container = &containers["items"]["properties"];
        assert_eq!(container["portMappings"]["maxItems"], json!(100));
        assert_eq!(
            container["portMappings"]["items"]["properties"]["protocol"]["maxLength"],
            json!(3)
        );
        for (list, key) in [
            ("environment", "name"),
            ("secrets", "name"),
            ("dependsOn", "containerName"),
            ("ulimits", "name"),
        ] {
            assert_eq!(container[list]["x-kubernetes-list-type"], "map", "{list}");
            assert_eq!(
                container[list]["x-kubernetes-list-map-keys"],
                json!([key]),
                "{list}"
            );
        }
        assert_eq!(
            spec["properties"]["requiresCompatibilities"]["maxItems"],
            json!(4)
        );
        assert_eq!(
            spec["properties"]["requiresCompatibilities"]["x-kubernetes-list-type"],
            "set"
        );
        assert_eq!(
            spec["properties"]["tags"]["x-kubernetes-list-map-keys"],
            json!(["key"])
        );
        for string in ["cpu", "memory", "family", "region"] {
            assert!(
                spec["properties"][string]["maxLength"].is_number(),
                "{string}"
            );
        }
    }

    #[test]
    fn fargate_memory_message_names_the_valid_values() {
        let rule = serde_json::to_value(fargate_memory_rule()).unwrap();
        let message = rule["messageExpression"].as_str().unwrap();
        assert!(message.contains("'512, 1024 or 2048'"), "{message}");
        assert!(message.contains("'1024, 2048, 3072 or 4096'"), "{message}");
        assert!(
            message.contains("'32768 to 122880 in steps of 8192'"),
            "{message}"
        );
        for (_, memory) in &FARGATE_SIZES {
            if let FargateMemory::Steps { min, max, step } = memory {
                assert_eq!(
                    (min % step, max % step),
                    (0, 0),
                    "the CEL check relies on multiples of step"
                );
            }
        }
    }

    #[test]
    fn ecs_json_names_round_trip() {
        let spec = json!({
            "containerDefinitions": [{
                "name": "app",
                "image": "nginx",
                "environmentFiles": [{"value": "arn:aws:s3:::b/app.env", "type": "s3"}],
                "resourceRequirements": [{"type": "GPU", "sharingStrategy": {"nvidiaMps": {"memory": 1024}}}],
                "firelensConfiguration": {"type": "fluentbit"},
                "readonlyRootFilesystem": true
            }],
            "ephemeralStorage": {"sizeInGiB": 30},
            "placementConstraints": [{"type": "memberOf", "expression": "attribute:ecs.os-type == linux"}],
            "proxyConfiguration": {"type": "APPMESH", "containerName": "envoy"},
            "volumes": [{"name": "s3", "s3filesVolumeConfiguration": {"fileSystemArn": "arn:fs"}},
                        {"name": "fsx", "fsxWindowsFileServerVolumeConfiguration": {"fileSystemId": "fs-1", "rootDirectory": "\\share"}}],
            "deletionPolicy": "Delete"
        });
        let parsed: EcsTaskDefinitionSpec = serde_json::from_value(spec.clone()).unwrap();
        assert_eq!(parsed.ephemeral_storage.as_ref().unwrap().size_in_gib, 30);
        assert_eq!(serde_json::to_value(&parsed).unwrap(), spec);
    }

    #[test]
    fn describe_output_fields_are_declared_and_optional_enums_take_empty_and_null() {
        let spec = &schema()["properties"]["spec"]["properties"];
        for field in OUTPUT_ONLY_FIELDS {
            assert!(spec.get(field).is_some(), "spec.{field} is not declared");
        }
        assert_eq!(
            spec["registeredAt"]["x-kubernetes-preserve-unknown-fields"],
            json!(true)
        );
        for optional_enum in ["networkMode", "pidMode", "ipcMode"] {
            let values = spec[optional_enum]["enum"].as_array().unwrap();
            assert!(values.contains(&json!("")), "{optional_enum}");
            // Not nullable, so that the API server drops a null instead of refusing it.
            assert_eq!(spec[optional_enum].get("nullable"), None, "{optional_enum}");
        }
    }

    #[test]
    fn a_rule_over_containers_names_the_first_bad_one_by_index() {
        let name = first_container_name("$c.privileged");
        for index in 0..MAX_CONTAINERS {
            assert!(name.contains(&format!(
                "size(self.containerDefinitions) > {index} && self.containerDefinitions[{index}].privileged ? self.containerDefinitions[{index}].name"
            )));
        }
        assert!(!name.contains(&format!("[{MAX_CONTAINERS}]")));
        let rule = serde_json::to_value(fargate_privileged_rule()).unwrap();
        assert!(
            rule["rule"].as_str().unwrap().ends_with(
                "!self.containerDefinitions.exists(c, has(c.privileged) && c.privileged)"
            )
        );
    }

    #[test]
    fn defaults_for_family_and_history() {
        let mut spec = EcsTaskDefinitionSpec::default();
        assert_eq!(spec.family_or("web"), "web");
        assert_eq!(spec.revision_history_limit_or_default(), 10);
        spec.family = Some("shop-web".into());
        spec.revision_history_limit = Some(0);
        assert_eq!(spec.family_or("web"), "shop-web");
        assert_eq!(spec.revision_history_limit_or_default(), 1);
    }
}
