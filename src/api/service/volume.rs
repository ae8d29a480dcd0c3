//! Amazon EBS volumes ECS creates and attaches to each of a service's tasks, as in the ECS API
//! (ServiceVolumeConfiguration, ServiceManagedEBSVolumeConfiguration).

use kube::KubeSchema;
use serde::{Deserialize, Serialize};

use crate::api::common::{empty_as_none, null_as_default};
use crate::api::task::EbsTagSpecification;

/// A volume of the task definition (`configuredAtLaunch: true`) that ECS provides at launch.
#[derive(KubeSchema, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceVolumeConfiguration {
    /// Name of the volume, as in the task definition.
    #[schemars(length(min = 1, max = 255))]
    pub name: String,
    /// The EBS volume ECS creates for each task.
    #[serde(
        default,
        rename = "managedEBSVolume",
        skip_serializing_if = "Option::is_none"
    )]
    pub managed_ebs_volume: Option<ManagedEbsVolumeConfiguration>,
}

/// An EBS volume ECS creates for each task and deletes with it, as in the ECS API.
#[derive(KubeSchema, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("has(self.sizeInGiB) || has(self.snapshotId)").message("a managedEBSVolume needs sizeInGiB, or a snapshotId to size it from"))]
pub struct ManagedEbsVolumeConfiguration {
    /// ARN of the infrastructure IAM role ECS manages the volume with.
    pub role_arn: String,
    /// Size in GiB (gp2/gp3 1 to 16384, io1/io2 4 to 16384, st1/sc1 125 to 16384, standard 1 to
    /// 1024). Defaults to the snapshot's size.
    #[serde(default, rename = "sizeInGiB", skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = Rule::new("self >= 1 && self <= 16384").message("sizeInGiB is between 1 and 16384"))]
    pub size_in_gib: Option<i32>,
    /// gp2, gp3 (the default), io1, io2, sc1, st1 or standard.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[serde(deserialize_with = "empty_as_none")]
    #[schemars(extend("enum" = ["gp2", "gp3", "io1", "io2", "sc1", "st1", "standard", ""], "type" = "string"))]
    pub volume_type: Option<String>,
    /// Snapshot to create the volume from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot_id: Option<String>,
    /// Provisioned IOPS (gp3, io1, io2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iops: Option<i32>,
    /// Throughput in MiB/s (gp3 only, up to 1000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub throughput: Option<i32>,
    /// Encrypt the volume.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encrypted: Option<bool>,
    /// KMS key (ID, alias or ARN) that encrypts the volume.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kms_key_id: Option<String>,
    /// ext3, ext4 (the default) or xfs on Linux; NTFS on Windows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[serde(deserialize_with = "empty_as_none")]
    #[schemars(extend("enum" = ["ext3", "ext4", "xfs", "ntfs", ""], "type" = "string"))]
    pub filesystem_type: Option<String>,
    /// MiB/s at which a volume created from a snapshot is initialized (100 to 300).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume_initialization_rate: Option<i32>,
    /// Tags for the volumes ECS creates.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[serde(deserialize_with = "null_as_default")]
    pub tag_specifications: Vec<EbsTagSpecification>,
}
