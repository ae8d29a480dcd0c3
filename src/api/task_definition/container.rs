//! The container definitions of a task definition, in ECS's shapes.

use super::*;

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
