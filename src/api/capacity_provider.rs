//! EcsCapacityProvider: an ECS capacity provider, backed by an Auto Scaling group or by ECS
//! Managed Instances. Field names follow the ECS CreateCapacityProvider API (aws-sdk-ecs 1.157:
//! `AutoScalingGroupProvider`, `ManagedScaling`, `CreateManagedInstancesProviderConfiguration`,
//! `InstanceLaunchTemplate`, `InstanceRequirementsRequest`), so a definition pastes in.
//!
//! What UpdateCapacityProvider can change is updated in place; the rest is immutable at
//! admission (the Auto Scaling group, the kind of provider, the cluster of a Managed Instances
//! provider, its capacity option type).

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::{CustomResource, KubeSchema};
use serde::{Deserialize, Serialize};

use super::common::{DeletionPolicy, Tag, null_as_default};

/// An ECS capacity provider. Exactly one of `autoScalingGroupProvider` and
/// `managedInstancesProvider`.
#[derive(CustomResource, KubeSchema, Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[kube(
    group = "ecs.operator.dev",
    version = "v1alpha1",
    kind = "EcsCapacityProvider",
    plural = "ecscapacityproviders",
    shortname = "ecscp",
    category = "ecs",
    namespaced,
    status = "EcsCapacityProviderStatus",
    printcolumn(name = "Ready", type_ = "string", json_path = r#".status.conditions[?(@.type=="Ready")].status"#),
    printcolumn(name = "Status", type_ = "string", json_path = ".status.status", description = "ECS capacity provider status"),
    printcolumn(name = "Update", type_ = "string", json_path = ".status.updateStatus", description = "ECS update status"),
    printcolumn(name = "Age", type_ = "date", json_path = ".metadata.creationTimestamp"),
    validation = Rule::new("has(self.spec.autoScalingGroupProvider) != has(self.spec.managedInstancesProvider)").message("set exactly one of spec.autoScalingGroupProvider and spec.managedInstancesProvider"),
    validation = Rule::new("!has(self.spec.managedInstancesProvider) || has(self.spec.cluster)").message("spec.cluster is required with managedInstancesProvider: ECS Managed Instances providers belong to one cluster").field_path(".spec.cluster"),
    validation = Rule::new("!has(self.spec.autoScalingGroupProvider) || !has(self.spec.cluster)").message("spec.cluster is only for managedInstancesProvider: an Auto Scaling group provider is associated with clusters through their capacityProviders").field_path(".spec.cluster"),
    validation = Rule::new("(has(self.spec.name) ? self.spec.name : self.metadata.name) == (has(oldSelf.spec.name) ? oldSelf.spec.name : oldSelf.metadata.name)").message("spec.name is immutable: ECS cannot rename a capacity provider; create a new EcsCapacityProvider instead").field_path(".spec.name"),
    validation = Rule::new("(has(self.spec.name) ? self.spec.name : self.metadata.name).matches('^[a-zA-Z0-9_-]{1,255}$') && !(has(self.spec.name) ? self.spec.name : self.metadata.name).lowerAscii().matches('^(aws|ecs|fargate)')").message("the capacity provider name (spec.name, else metadata.name) may contain up to 255 letters, digits, hyphens and underscores and cannot start with aws, ecs or fargate").field_path(".spec.name"),
    validation = Rule::new("has(self.spec.autoScalingGroupProvider) == has(oldSelf.spec.autoScalingGroupProvider)").message("the kind of capacity provider is immutable: ECS cannot turn an Auto Scaling group provider into a Managed Instances provider or back; create a new EcsCapacityProvider instead"),
    validation = Rule::new("!has(self.spec.autoScalingGroupProvider) || !has(oldSelf.spec.autoScalingGroupProvider) || self.spec.autoScalingGroupProvider.autoScalingGroupArn == oldSelf.spec.autoScalingGroupProvider.autoScalingGroupArn").message("autoScalingGroupArn is immutable: UpdateCapacityProvider cannot change the Auto Scaling group").field_path(".spec.autoScalingGroupProvider.autoScalingGroupArn"),
    validation = Rule::new("has(self.spec.cluster) == has(oldSelf.spec.cluster) && (!has(self.spec.cluster) || self.spec.cluster == oldSelf.spec.cluster)").message("spec.cluster is immutable: a capacity provider cannot move to another cluster").field_path(".spec.cluster"),
    validation = Rule::new("!has(self.spec.managedInstancesProvider) || !has(oldSelf.spec.managedInstancesProvider) || (has(self.spec.managedInstancesProvider.instanceLaunchTemplate.capacityOptionType) ? self.spec.managedInstancesProvider.instanceLaunchTemplate.capacityOptionType : 'ON_DEMAND') == (has(oldSelf.spec.managedInstancesProvider.instanceLaunchTemplate.capacityOptionType) ? oldSelf.spec.managedInstancesProvider.instanceLaunchTemplate.capacityOptionType : 'ON_DEMAND')").message("capacityOptionType is immutable: UpdateCapacityProvider cannot change it").field_path(".spec.managedInstancesProvider.instanceLaunchTemplate.capacityOptionType"),
    validation = Rule::new("!has(oldSelf.spec.region) && !has(self.spec.region) || has(oldSelf.spec.region) && has(self.spec.region) && self.spec.region == oldSelf.spec.region").message("spec.region is immutable: a capacity provider cannot move between regions").field_path(".spec.region")
)]
#[serde(rename_all = "camelCase")]
pub struct EcsCapacityProviderSpec {
    /// Name of the ECS capacity provider. Defaults to metadata.name. Immutable. ECS: up to 255
    /// letters, digits, hyphens and underscores, not starting with `aws`, `ecs` or `fargate`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 255))]
    pub name: Option<String>,

    /// The ECS cluster (name) a Managed Instances provider belongs to (CreateCapacityProvider
    /// `cluster`); required with managedInstancesProvider, not allowed with
    /// autoScalingGroupProvider. The cluster must exist: the provider waits for it. Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 255))]
    pub cluster: Option<String>,

    /// Capacity from an Auto Scaling group of EC2 instances.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_scaling_group_provider: Option<AutoScalingGroupProvider>,

    /// Capacity from ECS Managed Instances: ECS launches and manages the instances.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub managed_instances_provider: Option<ManagedInstancesProvider>,

    /// Tags of the capacity provider. The operator adds its ownership tags (`ecs.operator.dev/*`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[serde(deserialize_with = "null_as_default")]
    #[schemars(length(max = 47))]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["key".into()]))]
    pub tags: Vec<Tag>,

    /// Delete (default) removes the capacity provider with this object, once no cluster uses
    /// it; Retain leaves it.
    #[serde(default)]
    pub deletion_policy: DeletionPolicy,

    /// AWS region. Defaults to the operator's region when first reconciled. Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 64))]
    pub region: Option<String>,
}

/// `ENABLED` or `DISABLED`.
fn enabled_disabled(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
    let _ = generator;
    schemars::json_schema!({"type": "string", "enum": ["ENABLED", "DISABLED"]})
}

/// The Auto Scaling group settings (ECS `AutoScalingGroupProvider`).
#[derive(KubeSchema, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AutoScalingGroupProvider {
    /// ARN (or name) of the Auto Scaling group. Immutable.
    #[schemars(length(min = 1, max = 1600))]
    pub auto_scaling_group_arn: String,
    /// Managed scaling: ECS scales the group to reach the target capacity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub managed_scaling: Option<ManagedScaling>,
    /// `ENABLED` keeps instances that run tasks from being terminated on scale-in (needs
    /// managed scaling and the group's instance scale-in protection).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "enabled_disabled")]
    pub managed_termination_protection: Option<String>,
    /// `ENABLED` lets ECS drain instances before the group terminates them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "enabled_disabled")]
    pub managed_draining: Option<String>,
}

/// Managed scaling of an Auto Scaling group provider (ECS `ManagedScaling`).
#[derive(KubeSchema, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("!has(self.minimumScalingStepSize) || !has(self.maximumScalingStepSize) || self.minimumScalingStepSize <= self.maximumScalingStepSize").message("minimumScalingStepSize cannot exceed maximumScalingStepSize"))]
pub struct ManagedScaling {
    /// `ENABLED` or `DISABLED` (ECS's default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "enabled_disabled")]
    pub status: Option<String>,
    /// Target utilization of the group, percent (1 to 100; ECS's default 100).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 100))]
    pub target_capacity: Option<i32>,
    /// Fewest instances added or removed at once (1 to 10000; default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 10000))]
    pub minimum_scaling_step_size: Option<i32>,
    /// Most instances added or removed at once (1 to 10000; default 10000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 10000))]
    pub maximum_scaling_step_size: Option<i32>,
    /// Seconds a new instance takes to count toward the group's metrics (0 to 10000; default 300).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 10000))]
    pub instance_warmup_period: Option<i32>,
}

/// An ECS Managed Instances provider (ECS `CreateManagedInstancesProviderConfiguration`).
#[derive(KubeSchema, Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ManagedInstancesProvider {
    /// The infrastructure role ECS assumes to launch and manage the instances.
    #[schemars(length(min = 1, max = 2048))]
    pub infrastructure_role_arn: String,
    /// How ECS launches the instances.
    pub instance_launch_template: InstanceLaunchTemplate,
    /// `CAPACITY_PROVIDER` puts the provider's tags on the instances; `NONE` (default) does not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("enum" = ["CAPACITY_PROVIDER", "NONE"]))]
    pub propagate_tags: Option<String>,
    /// How long ECS waits before it optimizes idle or underused instances.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub infrastructure_optimization: Option<InfrastructureOptimization>,
}

/// ECS `InfrastructureOptimization`.
#[derive(KubeSchema, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InfrastructureOptimization {
    /// Seconds to wait before optimizing instances: -1 (never), 0 to 3600.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = -1, max = 3600))]
    pub scale_in_after: Option<i32>,
}

/// ECS `InstanceLaunchTemplate`.
#[derive(KubeSchema, Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InstanceLaunchTemplate {
    /// The instance profile ECS gives the instances.
    #[schemars(length(min = 1, max = 2048))]
    pub ec2_instance_profile_arn: String,
    /// Subnets and security groups of the instances.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_configuration: Option<ManagedInstancesNetworkConfiguration>,
    /// The instances' data volume.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_configuration: Option<ManagedInstancesStorageConfiguration>,
    /// CloudWatch monitoring: `BASIC` (default) or `DETAILED`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("enum" = ["BASIC", "DETAILED"]))]
    pub monitoring: Option<String>,
    /// `ON_DEMAND` (default), `SPOT` or `RESERVED`. Immutable: UpdateCapacityProvider cannot
    /// change it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("enum" = ["ON_DEMAND", "SPOT", "RESERVED"]))]
    pub capacity_option_type: Option<String>,
    /// Attributes the instance types must have; ECS picks matching types.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_requirements: Option<InstanceRequirements>,
}

/// ECS `ManagedInstancesNetworkConfiguration`.
#[derive(KubeSchema, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ManagedInstancesNetworkConfiguration {
    /// Subnet ids.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[serde(deserialize_with = "null_as_default")]
    #[x_kube(merge_strategy = ListMerge::Set)]
    pub subnets: Vec<String>,
    /// Security group ids.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[serde(deserialize_with = "null_as_default")]
    #[x_kube(merge_strategy = ListMerge::Set)]
    pub security_groups: Vec<String>,
}

/// ECS `ManagedInstancesStorageConfiguration`.
#[derive(KubeSchema, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManagedInstancesStorageConfiguration {
    /// Size of the data volume, GiB.
    #[serde(
        rename = "storageSizeGiB",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(range(min = 1, max = 16384))]
    pub storage_size_gib: Option<i32>,
}

/// An inclusive integer range (`min`, optional `max`), as ECS's `VCpuCountRangeRequest` and
/// `MemoryMiBRequest`.
#[derive(KubeSchema, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[x_kube(validation = Rule::new("!has(self.max) || self.min <= self.max").message("min cannot exceed max"))]
pub struct IntRange {
    /// Lower bound.
    #[schemars(range(min = 0))]
    pub min: i32,
    /// Upper bound; none when omitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub max: Option<i32>,
}

/// An optional integer range, as ECS's `AcceleratorCountRequest`.
#[derive(KubeSchema, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OptionalIntRange {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub min: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub max: Option<i32>,
}

/// A range of GiB per vCPU (ECS `MemoryGiBPerVCpuRequest`).
#[derive(KubeSchema, Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FloatRange {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
}

/// `included`, `excluded` or `required`.
fn inclusion(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
    let _ = generator;
    schemars::json_schema!({"type": "string", "enum": ["included", "excluded", "required"]})
}

/// Attribute-based instance type selection (ECS `InstanceRequirementsRequest`; the fields most
/// used, with ECS's names).
#[derive(KubeSchema, Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InstanceRequirements {
    /// vCPUs per instance.
    pub v_cpu_count: IntRange,
    /// Memory per instance, MiB.
    #[serde(rename = "memoryMiB")]
    pub memory_mib: IntRange,
    /// `intel`, `amd`, `amazon-web-services`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[serde(deserialize_with = "null_as_default")]
    #[x_kube(merge_strategy = ListMerge::Set)]
    pub cpu_manufacturers: Vec<String>,
    /// Memory per vCPU, GiB.
    #[serde(
        rename = "memoryGiBPerVCpu",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub memory_gib_per_v_cpu: Option<FloatRange>,
    /// Instance types never used (wildcards allowed: `m5.*`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[serde(deserialize_with = "null_as_default")]
    #[x_kube(merge_strategy = ListMerge::Set)]
    pub excluded_instance_types: Vec<String>,
    /// Only these instance types (wildcards allowed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[serde(deserialize_with = "null_as_default")]
    #[x_kube(merge_strategy = ListMerge::Set)]
    pub allowed_instance_types: Vec<String>,
    /// `current`, `previous`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[serde(deserialize_with = "null_as_default")]
    #[x_kube(merge_strategy = ListMerge::Set)]
    pub instance_generations: Vec<String>,
    /// Spot price limit, percent over the cheapest On-Demand type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub spot_max_price_percentage_over_lowest_price: Option<i32>,
    /// On-Demand price limit, percent over the cheapest type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub on_demand_max_price_percentage_over_lowest_price: Option<i32>,
    /// Bare metal types: `included`, `excluded`, `required`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "inclusion")]
    pub bare_metal: Option<String>,
    /// Burstable (T) types: `included`, `excluded`, `required`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "inclusion")]
    pub burstable_performance: Option<String>,
    /// Types with instance store: `included`, `excluded`, `required`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "inclusion")]
    pub local_storage: Option<String>,
    /// `hdd`, `ssd`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[serde(deserialize_with = "null_as_default")]
    #[x_kube(merge_strategy = ListMerge::Set)]
    pub local_storage_types: Vec<String>,
    /// `gpu`, `fpga`, `inference`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[serde(deserialize_with = "null_as_default")]
    #[x_kube(merge_strategy = ListMerge::Set)]
    pub accelerator_types: Vec<String>,
    /// Accelerators per instance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accelerator_count: Option<OptionalIntRange>,
    /// `nvidia`, `amd`, `amazon-web-services`, `xilinx`, `habana`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[serde(deserialize_with = "null_as_default")]
    #[x_kube(merge_strategy = ListMerge::Set)]
    pub accelerator_manufacturers: Vec<String>,
}

/// What ECS reports about the capacity provider.
#[derive(schemars::JsonSchema, Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EcsCapacityProviderStatus {
    /// The generation this status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// Ready, Reconciling and Stalled.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[serde(deserialize_with = "null_as_default")]
    #[schemars(extend("x-kubernetes-list-type" = "map", "x-kubernetes-list-map-keys" = ["type"]))]
    pub conditions: Vec<Condition>,
    /// ARN of the capacity provider.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity_provider_arn: Option<String>,
    /// Name of the capacity provider: what a cluster's capacityProviders and a service's
    /// capacityProviderStrategy name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// ECS status: ACTIVE or INACTIVE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// ECS update status: UPDATE_IN_PROGRESS, UPDATE_COMPLETE, UPDATE_FAILED, DELETE_FAILED, ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_status: Option<String>,
    /// Why, as ECS words it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_status_reason: Option<String>,
}
