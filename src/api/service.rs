//! EcsService: an ECS service running a task definition on a cluster. Field names follow the ECS
//! CreateService API, so an existing service definition pastes in unchanged.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use kube::{CustomResource, KubeSchema};
use serde::{Deserialize, Serialize};

mod autoscaling;
mod connect;
mod deployment;
mod network;
mod pre_deploy;
mod volume;
pub use autoscaling::{
    AutoscalingStatus, CustomizedMetricSpecification, MetricDimension,
    PredefinedMetricSpecification, ScalableTargetAction, ScalingPolicyStatus, ScheduledAction,
    ServiceAutoscaling, StepAdjustment, StepScalingPolicy, SuspendedState, TargetTrackingPolicy,
};
pub use connect::*;
pub use deployment::*;
pub use network::*;
pub use pre_deploy::{PreDeployStatus, PreDeployTask};
pub use volume::*;

use super::common::{
    CapacityProviderStrategyItem, DeletionPolicy, LocalObjectReference, Tag, empty_as_none,
    null_as_default,
};

/// An ECS service. Field names follow the ECS CreateService API; `clusterRef`,
/// `taskDefinitionRef`, `deletionPolicy` and `region` are the operator's own.
///
/// `desiredCount` is optional: when omitted, the service starts with 1 task and whoever scales it
/// afterwards (Application Auto Scaling, or an HPA/KEDA through the scale subresource, which
/// writes `spec.desiredCount`) owns the count.
#[derive(CustomResource, KubeSchema, Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[kube(
    group = "ecs.operator.dev",
    version = "v1alpha1",
    kind = "EcsService",
    plural = "ecsservices",
    shortname = "ecss",
    category = "ecs",
    namespaced,
    status = "EcsServiceStatus",
    doc = "An ECS service running a task definition on a cluster, reconciled by ecs-operator. Ready means the rollout reached steady state.",
    scale(
        spec_replicas_path = ".spec.desiredCount",
        status_replicas_path = ".status.replicas",
        label_selector_path = ".status.selector"
    ),
    printcolumn(name = "Ready", type_ = "string", json_path = r#".status.conditions[?(@.type=="Ready")].status"#),
    printcolumn(name = "Reason", type_ = "string", json_path = r#".status.conditions[?(@.type=="Ready")].reason"#, description = "Why the service is (not) Ready: DeploymentInProgress, AwaitingApproval, DeploymentFailed, ..."),
    printcolumn(name = "Desired", type_ = "integer", json_path = ".status.desiredCount", description = "Desired task count reported by ECS"),
    printcolumn(name = "Running", type_ = "integer", json_path = ".status.runningCount", description = "Running task count reported by ECS"),
    printcolumn(name = "Revision", type_ = "integer", json_path = ".status.taskDefinitionRevision", description = "Revision of the task definition the service runs"),
    printcolumn(name = "Age", type_ = "date", json_path = ".metadata.creationTimestamp"),
    // Pairs: exactly one way to name the cluster and the task definition.
    validation = Rule::new("has(self.spec.clusterRef) != has(self.spec.cluster)").message("set exactly one of spec.clusterRef (an EcsCluster in this namespace) or spec.cluster (name or ARN of an ECS cluster not managed here)").field_path(".spec"),
    validation = Rule::new("has(self.spec.taskDefinitionRef) != has(self.spec.taskDefinition)").message("set exactly one of spec.taskDefinitionRef (an EcsTaskDefinition in this namespace) or spec.taskDefinition (family, family:revision or ARN of a task definition not managed here)").field_path(".spec"),
    validation = Rule::new("!has(self.spec.launchType) || self.spec.launchType == '' || !has(self.spec.capacityProviderStrategy) || size(self.spec.capacityProviderStrategy) == 0").message("ECS accepts either spec.launchType or spec.capacityProviderStrategy, not both: remove one of them").field_path(".spec.launchType"),
    validation = Rule::new("!has(self.spec.schedulingStrategy) || self.spec.schedulingStrategy != 'DAEMON' || !has(self.spec.desiredCount)").message("a DAEMON service runs one task per container instance: remove spec.desiredCount (and do not scale it), or use schedulingStrategy REPLICA").field_path(".spec.desiredCount"),
    // Application Auto Scaling owns the count while spec.autoscaling is set (see README "Scaling").
    validation = Rule::new("!has(self.spec.autoscaling) || !has(self.spec.desiredCount)").message("spec.desiredCount and spec.autoscaling exclude each other: Application Auto Scaling owns the task count (the service starts within minCapacity..maxCapacity); remove desiredCount (one set by kubectl scale, an HPA or KEDA is not in your manifest: kubectl patch ecss NAME --type json -p '[{\"op\":\"remove\",\"path\":\"/spec/desiredCount\"}]'), or remove autoscaling to scale with kubectl scale, an HPA or KEDA").field_path(".spec.desiredCount"),
    validation = Rule::new("!has(self.spec.autoscaling) || !has(self.spec.schedulingStrategy) || self.spec.schedulingStrategy != 'DAEMON'").message("a DAEMON service runs one task per container instance and cannot be scaled: remove spec.autoscaling, or use schedulingStrategy REPLICA").field_path(".spec.autoscaling"),
    validation = Rule::new("!has(self.spec.schedulingStrategy) || self.spec.schedulingStrategy != 'DAEMON' || !has(self.spec.placementStrategy) || size(self.spec.placementStrategy) == 0").message("a DAEMON service cannot have a placementStrategy: remove spec.placementStrategy").field_path(".spec.placementStrategy"),
    validation = Rule::new("!has(self.spec.launchType) || self.spec.launchType != 'FARGATE' || !has(self.spec.schedulingStrategy) || self.spec.schedulingStrategy != 'DAEMON'").message("Fargate does not run DAEMON services: use schedulingStrategy REPLICA, or launchType EC2").field_path(".spec.schedulingStrategy"),
    validation = Rule::new("!has(self.spec.launchType) || self.spec.launchType != 'FARGATE' || (!has(self.spec.placementConstraints) || size(self.spec.placementConstraints) == 0) && (!has(self.spec.placementStrategy) || size(self.spec.placementStrategy) == 0)").message("Fargate does not support placementConstraints or placementStrategy: remove them, or use launchType EC2").field_path(".spec"),
    // Immutable: ECS cannot change these in place. serviceName and schedulingStrategy and
    // deploymentController compare their effective values, so spelling out a default is no change.
    validation = Rule::new("(has(self.spec.serviceName) ? self.spec.serviceName : self.metadata.name) == (has(oldSelf.spec.serviceName) ? oldSelf.spec.serviceName : oldSelf.metadata.name)").message("spec.serviceName is immutable: ECS cannot rename a service; create a new EcsService instead").field_path(".spec.serviceName"),
    validation = Rule::new("has(self.spec.cluster) == has(oldSelf.spec.cluster) && (!has(self.spec.cluster) || self.spec.cluster == oldSelf.spec.cluster) && has(self.spec.clusterRef) == has(oldSelf.spec.clusterRef) && (!has(self.spec.clusterRef) || self.spec.clusterRef.name == oldSelf.spec.clusterRef.name)").message("spec.cluster and spec.clusterRef are immutable: ECS cannot move a service to another cluster; create a new EcsService instead").field_path(".spec"),
    validation = Rule::new("has(self.spec.region) == has(oldSelf.spec.region) && (!has(self.spec.region) || self.spec.region == oldSelf.spec.region)").message("spec.region is immutable: an ECS service cannot move between regions").field_path(".spec.region"),
    // A launch type may give way to a capacity provider strategy (one UpdateService, a new
    // deployment); UpdateService has no launchType, so nothing else changes it.
    validation = Rule::new("(has(self.spec.launchType) ? self.spec.launchType : '') == (has(oldSelf.spec.launchType) ? oldSelf.spec.launchType : '') || (has(self.spec.launchType) ? self.spec.launchType : '') == '' && has(self.spec.capacityProviderStrategy) && size(self.spec.capacityProviderStrategy) > 0").message("spec.launchType cannot be set or changed on an existing service (UpdateService has no launchType): ECS can only move a service from a launch type to a capacityProviderStrategy; create a new EcsService instead").field_path(".spec.launchType"),
    validation = Rule::new("!has(self.spec.deploymentConfiguration) || !has(self.spec.deploymentConfiguration.strategy) || self.spec.deploymentConfiguration.strategy in ['', 'ROLLING'] || !has(self.spec.loadBalancers) || self.spec.loadBalancers.all(l, has(l.advancedConfiguration))").message("a BLUE_GREEN, LINEAR or CANARY deployment shifts traffic between two target groups: give each loadBalancers entry an advancedConfiguration with its alternateTargetGroupArn").field_path(".spec.loadBalancers"),
    validation = Rule::new("!has(self.spec.deploymentConfiguration) || !has(self.spec.deploymentConfiguration.strategy) || self.spec.deploymentConfiguration.strategy in ['', 'ROLLING'] || !has(self.spec.deploymentController) || self.spec.deploymentController.type == 'ECS'").message("deployment strategies other than ROLLING need the ECS deployment controller").field_path(".spec.deploymentConfiguration.strategy"),
    validation = Rule::new("(has(self.spec.role) ? self.spec.role : '') == (has(oldSelf.spec.role) ? oldSelf.spec.role : '')").message("spec.role is immutable: ECS sets it at creation only; create a new EcsService instead").field_path(".spec.role"),
    validation = Rule::new("(has(self.spec.schedulingStrategy) && self.spec.schedulingStrategy != '' ? self.spec.schedulingStrategy : 'REPLICA') == (has(oldSelf.spec.schedulingStrategy) && oldSelf.spec.schedulingStrategy != '' ? oldSelf.spec.schedulingStrategy : 'REPLICA')").message("spec.schedulingStrategy is immutable: ECS cannot change it in place; create a new EcsService instead").field_path(".spec.schedulingStrategy"),
    validation = Rule::new("(has(self.spec.deploymentController) ? self.spec.deploymentController.type : 'ECS') == (has(oldSelf.spec.deploymentController) ? oldSelf.spec.deploymentController.type : 'ECS')").message("spec.deploymentController is immutable: ECS cannot change it in place; create a new EcsService instead").field_path(".spec.deploymentController")
)]
#[serde(rename_all = "camelCase")]
pub struct EcsServiceSpec {
    /// Name of the ECS service, unique within its cluster. Defaults to metadata.name. Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 255))]
    #[x_kube(validation = Rule::new("self.matches('^[a-zA-Z0-9_-]{1,255}$')").message("serviceName may contain up to 255 letters, digits, hyphens and underscores"))]
    pub service_name: Option<String>,

    /// The EcsCluster (same namespace) the service runs on. Exactly one of clusterRef and
    /// cluster. Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_ref: Option<LocalObjectReference>,

    /// Name or ARN of an ECS cluster not managed by this operator. Exactly one of clusterRef and
    /// cluster. Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 1024))]
    pub cluster: Option<String>,

    /// The EcsTaskDefinition (same namespace) to run; the service follows its newest revision.
    /// Exactly one of taskDefinitionRef and taskDefinition.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_definition_ref: Option<LocalObjectReference>,

    /// A task definition not managed by this operator: `family` (its newest ACTIVE revision),
    /// `family:revision` or a full ARN. Exactly one of taskDefinitionRef and taskDefinition.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 1024))]
    pub task_definition: Option<String>,

    /// Number of tasks to keep running. Omitted: 1 at creation, afterwards owned by whoever scales
    /// the service (Application Auto Scaling, ...) and never reverted. Set: enforced, and
    /// writable through the scale subresource (`kubectl scale`, HPA, KEDA). Not allowed for DAEMON
    /// nor with `autoscaling` (Application Auto Scaling owns the count then).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = Rule::new("self >= 0").message("desiredCount cannot be negative"))]
    pub desired_count: Option<i32>,

    /// EC2, FARGATE, EXTERNAL or MANAGED_INSTANCES. Omit it to use capacityProviderStrategy or the
    /// cluster's default strategy. Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[serde(deserialize_with = "empty_as_none")]
    #[schemars(extend("enum" = ["EC2", "FARGATE", "EXTERNAL", "MANAGED_INSTANCES", ""], "type" = "string"))]
    pub launch_type: Option<String>,

    /// Capacity providers to place tasks with, instead of a launchType. Empty: the cluster's
    /// default strategy.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[serde(deserialize_with = "null_as_default")]
    #[schemars(length(max = 20))]
    #[x_kube(
        merge_strategy = ListMerge::Map(vec!["capacityProvider".into()]),
        validation = Rule::new("self.filter(i, has(i.base) && i.base > 0).size() <= 1").message("only one capacityProviderStrategy entry may set a base greater than 0")
    )]
    pub capacity_provider_strategy: Vec<CapacityProviderStrategyItem>,

    /// Fargate platform version, for example `LATEST` or `1.4.0`. Fargate only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform_version: Option<String>,

    /// Subnets, security groups and public IP of tasks that use the `awsvpc` network mode
    /// (required for Fargate).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_configuration: Option<NetworkConfiguration>,

    /// Load balancer target groups (or Classic Load Balancers) that tasks register with.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[serde(deserialize_with = "null_as_default")]
    #[schemars(length(max = 5))]
    pub load_balancers: Vec<LoadBalancer>,

    /// Cloud Map service discovery registry of the service (ECS allows one).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[serde(deserialize_with = "null_as_default")]
    #[schemars(length(max = 1))]
    pub service_registries: Vec<ServiceRegistry>,

    /// Seconds ECS ignores failing load balancer and container health checks after a task starts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = Rule::new("self >= 0").message("healthCheckGracePeriodSeconds cannot be negative"))]
    pub health_check_grace_period_seconds: Option<i32>,

    /// How many tasks run during a deployment, and when a deployment is rolled back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment_configuration: Option<DeploymentConfiguration>,

    /// Who runs deployments: ECS (rolling update, the default), CODE_DEPLOY or EXTERNAL.
    /// Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment_controller: Option<DeploymentController>,

    /// Rules that restrict which container instances tasks are placed on (EC2 only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[serde(deserialize_with = "null_as_default")]
    #[schemars(length(max = 10))]
    pub placement_constraints: Vec<PlacementConstraint>,

    /// How tasks are spread over container instances, in order of precedence (EC2 only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[serde(deserialize_with = "null_as_default")]
    #[schemars(length(max = 5))]
    pub placement_strategy: Vec<PlacementStrategy>,

    /// REPLICA (the default: desiredCount tasks) or DAEMON (one task per container instance).
    /// Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[serde(deserialize_with = "empty_as_none")]
    #[schemars(extend("enum" = ["REPLICA", "DAEMON", ""], "type" = "string"))]
    pub scheduling_strategy: Option<String>,

    /// Allow ECS Exec (`aws ecs execute-command`) into the service's tasks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_execute_command: Option<bool>,

    /// Let ECS tag tasks with the cluster and service names.
    #[serde(
        default,
        rename = "enableECSManagedTags",
        skip_serializing_if = "Option::is_none"
    )]
    pub enable_ecs_managed_tags: Option<bool>,

    /// Copy tags to tasks from the TASK_DEFINITION or the SERVICE, or NONE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[serde(deserialize_with = "empty_as_none")]
    #[schemars(extend("enum" = ["TASK_DEFINITION", "SERVICE", "NONE", ""], "type" = "string"))]
    pub propagate_tags: Option<String>,

    /// Service Connect: the names and ports other services in the namespace reach this one by.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_connect_configuration: Option<ServiceConnectConfiguration>,

    /// ENABLED lets ECS move tasks to rebalance them over Availability Zones; DISABLED.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[serde(deserialize_with = "empty_as_none")]
    #[schemars(extend("enum" = ["ENABLED", "DISABLED", ""], "type" = "string"))]
    pub availability_zone_rebalancing: Option<String>,

    /// EBS volumes ECS creates for each task, for task definition volumes marked
    /// `configuredAtLaunch` (ECS allows one).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[serde(deserialize_with = "null_as_default")]
    #[schemars(length(max = 1))]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["name".into()]))]
    pub volume_configurations: Vec<ServiceVolumeConfiguration>,

    /// VPC Lattice target groups the tasks register with.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[serde(deserialize_with = "null_as_default")]
    #[schemars(length(max = 5))]
    pub vpc_lattice_configurations: Vec<VpcLatticeConfiguration>,

    /// IAM role (name or ARN) ECS calls the load balancer with, for a service with load balancers
    /// whose task definition does not use the awsvpc network mode (CreateService `role`; ECS
    /// otherwise uses its service-linked role). Set at creation only: UpdateService cannot change
    /// it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,

    /// A task that must succeed before each new revision rolls out (a database migration): run
    /// from that revision with these overrides, once per revision. Until it succeeds the service
    /// stays on the revision it runs; a failure is Stalled with the task's reason and exit code
    /// until the next revision or a new `ecs.operator.dev/restartedAt`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pre_deploy: Option<PreDeployTask>,

    /// Scale the task count with Application Auto Scaling: a capacity range, target tracking and
    /// step scaling policies, scheduled actions. While set, Application Auto Scaling owns the
    /// count (desiredCount is refused); removing it deregisters the scalable target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub autoscaling: Option<ServiceAutoscaling>,

    /// Tags of the ECS service. The operator adds its three ownership tags (`ecs.operator.dev/*`),
    /// which is why at most 47 of ECS's 50 are left.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[serde(deserialize_with = "null_as_default")]
    #[schemars(length(max = 47))]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["key".into()]))]
    pub tags: Vec<Tag>,

    /// Delete (default) scales the ECS service to 0 and deletes it with this object; Retain leaves
    /// it running.
    #[serde(default)]
    pub deletion_policy: DeletionPolicy,

    /// AWS region of the service. Defaults to the operator's region when first
    /// reconciled; it stays there even if the operator's region changes later. Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 64))]
    pub region: Option<String>,
}

/// A task placement constraint, as in the ECS API.
#[derive(KubeSchema, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[x_kube(validation = Rule::new("self.type == 'memberOf' ? has(self.expression) : !has(self.expression)").message("a memberOf constraint needs an expression; a distinctInstance constraint takes none"))]
pub struct PlacementConstraint {
    /// distinctInstance (each task on a different instance) or memberOf (instances matching
    /// expression).
    #[serde(rename = "type")]
    #[schemars(extend("enum" = ["distinctInstance", "memberOf"]))]
    pub type_: String,
    /// Cluster query language expression, for memberOf.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expression: Option<String>,
}

/// A task placement strategy rule, as in the ECS API.
#[derive(KubeSchema, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[x_kube(validation = Rule::new("self.type == 'random' ? !has(self.field) : has(self.field)").message("spread and binpack need a field (for example instanceId, attribute:ecs.availability-zone, cpu or memory); random takes none"))]
pub struct PlacementStrategy {
    /// random, spread or binpack.
    #[serde(rename = "type")]
    #[schemars(extend("enum" = ["random", "spread", "binpack"]))]
    pub type_: String,
    /// What to spread over (instanceId, host or an attribute) or binpack on (cpu or memory).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// What ECS reports about the service.
#[derive(schemars::JsonSchema, Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EcsServiceStatus {
    /// The generation this status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// Ready, Reconciling and Stalled.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[serde(deserialize_with = "null_as_default")]
    #[schemars(extend("x-kubernetes-list-type" = "map", "x-kubernetes-list-map-keys" = ["type"]))]
    pub conditions: Vec<Condition>,
    /// ARN of the ECS service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_arn: Option<String>,
    /// Name of the ECS service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_name: Option<String>,
    /// ARN of the cluster the service runs on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_arn: Option<String>,
    /// ECS status: ACTIVE, DRAINING or INACTIVE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Desired task count reported by ECS (whoever set it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub desired_count: Option<i32>,
    /// Tasks in the RUNNING state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub running_count: Option<i32>,
    /// Tasks in the PENDING state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_count: Option<i32>,
    /// Same as runningCount; the scale subresource reads it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replicas: Option<i32>,
    /// Label selector string for the scale subresource (`ecs.operator.dev/service=<name>`), so an
    /// HPA or KEDA can target the service. No pods carry it: ECS tasks are not pods.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selector: Option<String>,
    /// ARN of the task definition revision the service runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_definition_arn: Option<String>,
    /// Revision number of that task definition.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_definition_revision: Option<i64>,
    /// The service's deployments, newest first, as ECS reports them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[serde(deserialize_with = "null_as_default")]
    #[schemars(extend("x-kubernetes-list-type" = "atomic"))]
    pub deployments: Vec<ServiceDeploymentStatus>,
    /// Value of the `ecs.operator.dev/restartedAt` annotation already acted on with a forced
    /// deployment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_restarted_at: Option<String>,
    /// The generation whose spec was last sent to ECS (CreateService or UpdateService). A spec
    /// change is sent once, even when a failure was reported for that generation in between.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applied_generation: Option<i64>,
    /// A task definition whose deployment failed (or was rolled back by the circuit breaker).
    /// It is not deployed again until the spec, the revision or restartedAt changes, so a rolled
    /// back service does not redeploy a broken revision in a loop.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed_task_definition: Option<String>,
    /// What ECS said of that failure, kept for the Ready message once ECS no longer lists the
    /// failed deployment (a rolled-back deployment leaves the list when it has drained).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_message: Option<String>,
    /// Creation time of the newest ECS service event already mirrored as a Kubernetes Event, RFC
    /// 3339 with sub-second precision (metav1.Time would round to seconds and break the cursor).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("format" = "date-time"))]
    pub last_event_time: Option<String>,
    /// ID of that ECS service event; breaks ties between events created at the same instant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_event_id: Option<String>,
    /// When ECS created the service this object manages (RFC 3339). A service deleted outside
    /// the operator is created again under a new clientToken derived from it, since ECS answers
    /// a token it remembers with the service that token created, even once that is INACTIVE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("format" = "date-time"))]
    pub created_at: Option<String>,
    /// Why the service's tasks of the revision it should run stopped lately: read while the
    /// service is not Ready, kept (so each reason is told once, also when a crash-looping service
    /// is Ready now and then) until the service should run another revision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped_tasks: Option<StoppedTasksStatus>,
    /// The pre-deploy run of the revision to roll out (`spec.preDeploy`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pre_deploy: Option<PreDeployStatus>,
    /// The service deployment ECS carries out (or carried out last), from
    /// DescribeServiceDeployments: where a rollout stands, and any hook awaiting approval.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_deployment: Option<CurrentServiceDeployment>,
    /// The `ecs.operator.dev/approve` and `ecs.operator.dev/rollback` values already acted on
    /// (each acts at most once).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approvals: Option<ApprovalsStatus>,
    /// The service's Application Auto Scaling target, policies and alarms (`spec.autoscaling`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub autoscaling: Option<AutoscalingStatus>,
}

/// The recently stopped tasks of a service's current deployments (ListTasks and DescribeTasks).
#[derive(schemars::JsonSchema, Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoppedTasksStatus {
    /// The revision (ARN) whose tasks these are: the one the service should run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_definition: Option<String>,
    /// When the operator last read them (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("format" = "date-time"))]
    pub checked_at: Option<String>,
    /// The deployments' failedTasks summed at that read: a change means new failures.
    #[serde(default)]
    pub failed_tasks: i32,
    /// Distinct reasons, the most recent first, at most 5.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reasons: Vec<StoppedTaskReason>,
}

/// One reason tasks stopped for, and how many did.
#[derive(schemars::JsonSchema, Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoppedTaskReason {
    /// ECS's stoppedReason, then the failed container with its exit code, for example
    /// "Essential container in task exited (container web, exit 1)".
    pub reason: String,
    /// Stopped tasks with this reason.
    pub tasks: i32,
    /// ARN of the most recent of them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_task_arn: Option<String>,
    /// ECS's stopCode of that task (TaskFailedToStart, EssentialContainerExited, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_code: Option<String>,
}

/// One deployment of the service, as ECS reports it.
#[derive(schemars::JsonSchema, Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceDeploymentStatus {
    /// Deployment ID (`ecs-svc/...`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// PRIMARY (the newest), ACTIVE (being replaced) or INACTIVE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// IN_PROGRESS, COMPLETED or FAILED.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollout_state: Option<String>,
    /// Why the deployment is in its rollout state, for example the circuit breaker's message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollout_state_reason: Option<String>,
    /// ARN of the task definition the deployment runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_definition: Option<String>,
    /// Tasks the deployment should run.
    #[serde(default)]
    pub desired_count: i32,
    /// Tasks of the deployment in the RUNNING state.
    #[serde(default)]
    pub running_count: i32,
    /// Tasks of the deployment in the PENDING state.
    #[serde(default)]
    pub pending_count: i32,
    /// Tasks of the deployment that failed to start.
    #[serde(default)]
    pub failed_tasks: i32,
    /// When ECS created the deployment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<Time>,
    /// When ECS last updated the deployment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<Time>,
}

#[cfg(test)]
mod tests;
