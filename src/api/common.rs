//! Types shared by the kinds.

use kube::KubeSchema;
use serde::{Deserialize, Serialize};

/// What happens to the ECS object when the Kubernetes object is deleted.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
pub enum DeletionPolicy {
    /// Remove the ECS object (the default).
    #[default]
    Delete,
    /// Leave the ECS object, with its tags, in place.
    Retain,
}

/// An ECS resource tag, as in the ECS API (`key`/`value`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, KubeSchema)]
pub struct Tag {
    /// Tag key, up to 128 characters. Keys starting with `ecs.operator.dev/` are reserved.
    #[schemars(length(min = 1, max = 128))]
    #[x_kube(validation = Rule::new("!self.startsWith('ecs.operator.dev/')").message("tag keys starting with ecs.operator.dev/ are reserved for the operator's ownership tags"))]
    pub key: String,
    /// Tag value, up to 256 characters.
    #[serde(default)]
    #[schemars(length(max = 256))]
    pub value: String,
}

/// A reference to an object of this operator in the same namespace.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct LocalObjectReference {
    /// `metadata.name` of the referenced object.
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
}

/// A `name`/`value` pair (environment variables, docker labels, options), as in the ECS API.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct KeyValuePair {
    /// The name; unique within its list.
    pub name: String,
    /// The value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

/// One entry of a capacity provider strategy, as in the ECS API.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, KubeSchema)]
#[serde(rename_all = "camelCase")]
pub struct CapacityProviderStrategyItem {
    /// Capacity provider name, for example FARGATE or FARGATE_SPOT.
    pub capacity_provider: String,
    /// Relative share of tasks placed with this provider (0 to 1000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = Rule::new("self >= 0 && self <= 1000").message("weight is between 0 and 1000"))]
    pub weight: Option<i32>,
    /// Minimum number of tasks placed with this provider (0 to 100000); only one entry may set it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = Rule::new("self >= 0 && self <= 100000").message("base is between 0 and 100000"))]
    pub base: Option<i32>,
}

/// Deserializes `null` as the type's default (an empty list or map), as the API server does:
/// it prunes null fields before storing an object, so null and absent mean the same.
pub(crate) fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// Deserializes an optional ECS enum value, reading `""` as unset. Definitions exported by
/// Go-based tools write unset enums as empty strings (`"ipcMode": ""`); ECS treats an omitted
/// enum as unset, so the operator sends nothing and hashes nothing for them either.
///
/// The schema of such a field lists `""` among its values and says `type: string` outright
/// (`extend("enum" = [..., ""], "type" = "string")`), so that it is not `nullable`: the API
/// server checks a nullable field's null against the enum and refuses it, while it drops the
/// null of a field that is not nullable before validating.
pub(crate) fn empty_as_none<'de, D>(deserializer: D) -> Result<Option<String>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    Ok(Option::<String>::deserialize(deserializer)?.filter(|value| !value.is_empty()))
}
