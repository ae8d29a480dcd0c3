//! A task that must succeed before each new revision of a service rolls out (a database
//! migration, say): run once per revision, from that revision, with the service's own launch
//! type, network and platform.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::KubeSchema;
use serde::{Deserialize, Serialize};

use crate::api::task::TaskOverride;

/// `spec.preDeploy` of an EcsService.
#[derive(KubeSchema, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PreDeployTask {
    /// RunTask overrides of the run, in ECS's shape: usually a container's command, for example
    /// `containerOverrides: [{name: web, command: ["./migrate"]}]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overrides: Option<TaskOverride>,

    /// Seconds the run may take; then it is stopped (StopTask) and counts as failed. Default
    /// 1800.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 86400))]
    pub timeout_seconds: Option<i64>,
}

/// Where the pre-deploy run of the revision to roll out stands.
#[derive(schemars::JsonSchema, Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PreDeployStatus {
    /// The revision (ARN) it ran for.
    pub task_definition: String,
    /// The `ecs.operator.dev/restartedAt` it ran under: a new one runs a failed revision again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restarted_at: Option<String>,
    /// Its task.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_arn: Option<String>,
    /// Running, Succeeded or Failed.
    pub state: String,
    /// Why it failed: ECS's stop reason and the exit codes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// When it was started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<Time>,
}
