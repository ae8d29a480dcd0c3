//! The volumes of a task definition, and the task-level settings beside them, in ECS's shapes.

use super::*;

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
