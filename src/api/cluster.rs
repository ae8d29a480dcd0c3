//! EcsCluster: an ECS cluster with its settings, capacity providers and defaults.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::{CustomResource, KubeSchema};
use serde::{Deserialize, Serialize};

use super::common::{
    CapacityProviderStrategyItem, DeletionPolicy, LocalObjectReference, Tag, empty_as_none,
    null_as_default,
};

/// An ECS cluster. Field names follow the ECS CreateCluster API.
#[derive(CustomResource, KubeSchema, Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[kube(
    group = "ecs.operator.dev",
    version = "v1alpha1",
    kind = "EcsCluster",
    plural = "ecsclusters",
    shortname = "ecsc",
    category = "ecs",
    namespaced,
    status = "EcsClusterStatus",
    printcolumn(name = "Ready", type_ = "string", json_path = r#".status.conditions[?(@.type=="Ready")].status"#),
    printcolumn(name = "Status", type_ = "string", json_path = ".status.status", description = "ECS cluster status"),
    printcolumn(name = "Services", type_ = "integer", json_path = ".status.activeServicesCount"),
    printcolumn(name = "Running", type_ = "integer", json_path = ".status.runningTasksCount"),
    printcolumn(name = "Age", type_ = "date", json_path = ".metadata.creationTimestamp"),
    // Immutable. clusterName compares the effective ECS name, so spelling out the default
    // (metadata.name) is no change.
    validation = Rule::new("(has(self.spec.clusterName) ? self.spec.clusterName : self.metadata.name) == (has(oldSelf.spec.clusterName) ? oldSelf.spec.clusterName : oldSelf.metadata.name)").message("spec.clusterName is immutable: ECS cannot rename a cluster; create a new EcsCluster instead").field_path(".spec.clusterName"),
    validation = Rule::new("!has(oldSelf.spec.region) && !has(self.spec.region) || has(oldSelf.spec.region) && has(self.spec.region) && self.spec.region == oldSelf.spec.region").message("spec.region is immutable: an ECS cluster cannot move between regions").field_path(".spec.region")
)]
#[serde(rename_all = "camelCase")]
pub struct EcsClusterSpec {
    /// Name of the ECS cluster. Defaults to metadata.name. Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 255))]
    #[x_kube(validation = Rule::new("self.matches('^[a-zA-Z0-9_-]{1,255}$')").message("clusterName may contain up to 255 letters, digits, hyphens and underscores"))]
    pub cluster_name: Option<String>,

    /// Cluster settings, such as `containerInsights` (enabled, enhanced or disabled).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[serde(deserialize_with = "null_as_default")]
    #[schemars(length(max = 1))]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["name".into()]))]
    pub settings: Vec<ClusterSetting>,

    /// Capacity providers associated with the cluster (FARGATE, FARGATE_SPOT or Auto Scaling
    /// group providers).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[serde(deserialize_with = "null_as_default")]
    #[x_kube(merge_strategy = ListMerge::Set)]
    pub capacity_providers: Vec<String>,

    /// EcsCapacityProviders in this namespace whose capacity providers the cluster uses, beside
    /// `capacityProviders`. The cluster waits (DependencyNotReady) until each is Ready, then
    /// associates them by their ECS name (their `status.name`), which a strategy names too.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[serde(deserialize_with = "null_as_default")]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["name".into()]))]
    pub capacity_provider_refs: Vec<LocalObjectReference>,

    /// The capacity provider strategy services use when they name neither a launch type nor a
    /// strategy. Each provider must be listed in capacityProviders.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[serde(deserialize_with = "null_as_default")]
    #[schemars(length(max = 20))]
    #[x_kube(
        merge_strategy = ListMerge::Map(vec!["capacityProvider".into()]),
        validation = Rule::new("self.filter(i, has(i.base) && i.base > 0).size() <= 1").message("only one defaultCapacityProviderStrategy entry may set a base greater than 0")
    )]
    pub default_capacity_provider_strategy: Vec<CapacityProviderStrategyItem>,

    /// Execute command (ECS Exec) and managed storage configuration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub configuration: Option<ClusterConfiguration>,

    /// Default Service Connect namespace for services of this cluster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_connect_defaults: Option<ClusterServiceConnectDefaults>,

    /// Tags of the ECS cluster. The operator adds its ownership tags (`ecs.operator.dev/*`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[serde(deserialize_with = "null_as_default")]
    #[schemars(length(max = 47))]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["key".into()]))]
    pub tags: Vec<Tag>,

    /// Delete (default) removes the ECS cluster with this object; Retain leaves it.
    #[serde(default)]
    pub deletion_policy: DeletionPolicy,

    /// AWS region of the cluster. Defaults to the operator's region when first
    /// reconciled; it stays there even if the operator's region changes later. Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 64))]
    pub region: Option<String>,
}

/// A cluster setting.
#[derive(KubeSchema, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterSetting {
    /// Setting name; ECS knows `containerInsights`.
    #[schemars(extend("enum" = ["containerInsights"]))]
    pub name: String,
    /// `enabled`, `enhanced` or `disabled`.
    #[schemars(extend("enum" = ["enabled", "enhanced", "disabled"]))]
    pub value: String,
}

/// Cluster configuration.
#[derive(schemars::JsonSchema, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterConfiguration {
    /// How ECS Exec sessions are encrypted and logged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execute_command_configuration: Option<ExecuteCommandConfiguration>,
    /// KMS keys for Fargate ephemeral storage and managed storage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub managed_storage_configuration: Option<ManagedStorageConfiguration>,
}

/// ECS Exec configuration.
#[derive(schemars::JsonSchema, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecuteCommandConfiguration {
    /// KMS key that encrypts the data between the client and the container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kms_key_id: Option<String>,
    /// `NONE`, `DEFAULT` (the task's awslogs configuration) or `OVERRIDE` (logConfiguration).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[serde(deserialize_with = "empty_as_none")]
    #[schemars(extend("enum" = ["NONE", "DEFAULT", "OVERRIDE", ""], "type" = "string"))]
    pub logging: Option<String>,
    /// Where ECS Exec output goes when logging is OVERRIDE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_configuration: Option<ExecuteCommandLogConfiguration>,
}

/// ECS Exec log destinations.
#[derive(schemars::JsonSchema, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecuteCommandLogConfiguration {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloud_watch_log_group_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloud_watch_encryption_enabled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s3_bucket_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s3_encryption_enabled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s3_key_prefix: Option<String>,
}

/// Managed storage encryption.
#[derive(schemars::JsonSchema, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ManagedStorageConfiguration {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kms_key_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fargate_ephemeral_storage_kms_key_id: Option<String>,
}

/// Service Connect defaults.
#[derive(schemars::JsonSchema, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterServiceConnectDefaults {
    /// Cloud Map namespace name or ARN.
    pub namespace: String,
}

/// What ECS reports about the cluster.
#[derive(schemars::JsonSchema, Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EcsClusterStatus {
    /// The generation this status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// Ready, Reconciling and Stalled.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[serde(deserialize_with = "null_as_default")]
    #[schemars(extend("x-kubernetes-list-type" = "map", "x-kubernetes-list-map-keys" = ["type"]))]
    pub conditions: Vec<Condition>,
    /// ARN of the ECS cluster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_arn: Option<String>,
    /// Name of the ECS cluster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_name: Option<String>,
    /// ECS status: ACTIVE, PROVISIONING, DEPROVISIONING, FAILED or INACTIVE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active_services_count: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub running_tasks_count: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_tasks_count: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registered_container_instances_count: Option<i32>,
    /// The Service Connect default namespace as the spec names it, and the ARN ECS resolved it
    /// to. ECS reports only the ARN, so a namespace named by name is compared through this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_connect_namespace: Option<ResolvedNamespace>,
}

/// A Cloud Map namespace as the spec names it and as ECS reports it.
#[derive(schemars::JsonSchema, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResolvedNamespace {
    /// The namespace as spec.serviceConnectDefaults.namespace names it (name or ARN).
    pub name: String,
    /// Its ARN, as DescribeClusters reports it.
    pub arn: String,
}
