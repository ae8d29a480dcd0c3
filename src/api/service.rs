//! EcsService: an ECS service running a task definition on a cluster. Field names follow the ECS
//! CreateService API, so an existing service definition pastes in unchanged.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use kube::{CustomResource, KubeSchema};
use serde::{Deserialize, Serialize};

mod autoscaling;
mod pre_deploy;
pub use autoscaling::{
    AutoscalingStatus, CustomizedMetricSpecification, MetricDimension,
    PredefinedMetricSpecification, ScalableTargetAction, ScalingPolicyStatus, ScheduledAction,
    ServiceAutoscaling, StepAdjustment, StepScalingPolicy, SuspendedState, TargetTrackingPolicy,
};
pub use pre_deploy::{PreDeployStatus, PreDeployTask};

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
    validation = Rule::new("!has(self.spec.autoscaling) || !has(self.spec.desiredCount)").message("spec.desiredCount and spec.autoscaling exclude each other: Application Auto Scaling owns the task count (the service starts within minCapacity..maxCapacity); remove desiredCount, or remove autoscaling to scale with kubectl scale, an HPA or KEDA").field_path(".spec.desiredCount"),
    validation = Rule::new("!has(self.spec.autoscaling) || !has(self.spec.schedulingStrategy) || self.spec.schedulingStrategy != 'DAEMON'").message("a DAEMON service runs one task per container instance and cannot be scaled: remove spec.autoscaling, or use schedulingStrategy REPLICA").field_path(".spec.autoscaling"),
    validation = Rule::new("!has(self.spec.schedulingStrategy) || self.spec.schedulingStrategy != 'DAEMON' || !has(self.spec.placementStrategy) || size(self.spec.placementStrategy) == 0").message("a DAEMON service cannot have a placementStrategy: remove spec.placementStrategy").field_path(".spec.placementStrategy"),
    validation = Rule::new("!has(self.spec.launchType) || self.spec.launchType != 'FARGATE' || !has(self.spec.schedulingStrategy) || self.spec.schedulingStrategy != 'DAEMON'").message("Fargate does not run DAEMON services: use schedulingStrategy REPLICA, or launchType EC2").field_path(".spec.schedulingStrategy"),
    validation = Rule::new("!has(self.spec.launchType) || self.spec.launchType != 'FARGATE' || (!has(self.spec.placementConstraints) || size(self.spec.placementConstraints) == 0) && (!has(self.spec.placementStrategy) || size(self.spec.placementStrategy) == 0)").message("Fargate does not support placementConstraints or placementStrategy: remove them, or use launchType EC2").field_path(".spec"),
    // Immutable: ECS cannot change these in place. serviceName and schedulingStrategy and
    // deploymentController compare their effective values, so spelling out a default is no change.
    validation = Rule::new("(has(self.spec.serviceName) ? self.spec.serviceName : self.metadata.name) == (has(oldSelf.spec.serviceName) ? oldSelf.spec.serviceName : oldSelf.metadata.name)").message("spec.serviceName is immutable: ECS cannot rename a service; create a new EcsService instead").field_path(".spec.serviceName"),
    validation = Rule::new("has(self.spec.cluster) == has(oldSelf.spec.cluster) && (!has(self.spec.cluster) || self.spec.cluster == oldSelf.spec.cluster) && has(self.spec.clusterRef) == has(oldSelf.spec.clusterRef) && (!has(self.spec.clusterRef) || self.spec.clusterRef.name == oldSelf.spec.clusterRef.name)").message("spec.cluster and spec.clusterRef are immutable: ECS cannot move a service to another cluster; create a new EcsService instead").field_path(".spec"),
    validation = Rule::new("has(self.spec.region) == has(oldSelf.spec.region) && (!has(self.spec.region) || self.spec.region == oldSelf.spec.region)").message("spec.region is immutable: an ECS service cannot move between regions").field_path(".spec.region"),
    validation = Rule::new("(has(self.spec.launchType) ? self.spec.launchType : '') == (has(oldSelf.spec.launchType) ? oldSelf.spec.launchType : '')").message("spec.launchType is immutable: ECS cannot change it in place; create a new EcsService instead").field_path(".spec.launchType"),
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

/// Network configuration of a service, as in the ECS API.
#[derive(schemars::JsonSchema, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NetworkConfiguration {
    /// Subnets and security groups of tasks using the `awsvpc` network mode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub awsvpc_configuration: Option<AwsVpcConfiguration>,
}

/// Subnets, security groups and public IP of `awsvpc` tasks.
#[derive(KubeSchema, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AwsVpcConfiguration {
    /// IDs of the subnets tasks are placed in (1 to 16), all in the same VPC.
    #[schemars(length(min = 1, max = 16))]
    #[x_kube(merge_strategy = ListMerge::Set)]
    pub subnets: Vec<String>,
    /// IDs of the security groups of the tasks (up to 5). Empty: the VPC's default group.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[serde(deserialize_with = "null_as_default")]
    #[schemars(length(max = 5))]
    #[x_kube(merge_strategy = ListMerge::Set)]
    pub security_groups: Vec<String>,
    /// ENABLED gives each task a public IP (Fargate in a public subnet); DISABLED is the default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[serde(deserialize_with = "empty_as_none")]
    #[schemars(extend("enum" = ["ENABLED", "DISABLED", ""], "type" = "string"))]
    pub assign_public_ip: Option<String>,
}

/// A load balancer target of the service, as in the ECS API.
#[derive(KubeSchema, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("has(self.targetGroupArn) != has(self.loadBalancerName)").message("a loadBalancers entry names either a targetGroupArn (ALB/NLB) or a loadBalancerName (Classic Load Balancer), exactly one"))]
pub struct LoadBalancer {
    /// ARN of the target group (Application or Network Load Balancer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_group_arn: Option<String>,
    /// Name of a Classic Load Balancer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load_balancer_name: Option<String>,
    /// Container (as named in the task definition) that receives the traffic.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container_name: Option<String>,
    /// Container port that receives the traffic.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = Rule::new("self >= 1 && self <= 65535").message("containerPort is between 1 and 65535"))]
    pub container_port: Option<i32>,
}

/// A Cloud Map service discovery registry of the service, as in the ECS API.
#[derive(schemars::JsonSchema, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceRegistry {
    /// ARN of the Cloud Map service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registry_arn: Option<String>,
    /// Port for SRV records, when the task uses the `awsvpc` network mode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<i32>,
    /// Container whose port goes into SRV records (`bridge`/`host` network modes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container_name: Option<String>,
    /// Container port that goes into SRV records (`bridge`/`host` network modes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container_port: Option<i32>,
}

/// Deployment parameters, as in the ECS API.
#[derive(KubeSchema, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentConfiguration {
    /// Upper limit of running tasks during a deployment, in percent of desiredCount (ECS default
    /// 200).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = Rule::new("self >= 0").message("maximumPercent cannot be negative"))]
    pub maximum_percent: Option<i32>,
    /// Lower limit of healthy tasks during a deployment, in percent of desiredCount (0 to 100;
    /// ECS default 100).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = Rule::new("self >= 0 && self <= 100").message("minimumHealthyPercent is between 0 and 100"))]
    pub minimum_healthy_percent: Option<i32>,
    /// Stop (and optionally roll back) a deployment whose tasks keep failing to start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment_circuit_breaker: Option<DeploymentCircuitBreaker>,
    /// Stop (and optionally roll back) a deployment when CloudWatch alarms go off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alarms: Option<DeploymentAlarms>,
}

/// The deployment circuit breaker, as in the ECS API.
#[derive(schemars::JsonSchema, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeploymentCircuitBreaker {
    /// Turn the circuit breaker on.
    pub enable: bool,
    /// Roll back to the last completed deployment when the circuit breaker trips.
    pub rollback: bool,
}

/// CloudWatch alarms that fail a deployment, as in the ECS API.
#[derive(KubeSchema, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentAlarms {
    /// Names of the CloudWatch alarms to watch.
    #[serde(default)]
    #[x_kube(merge_strategy = ListMerge::Set)]
    pub alarm_names: Vec<String>,
    /// Watch the alarms during deployments.
    pub enable: bool,
    /// Roll back when an alarm goes off.
    pub rollback: bool,
}

/// The deployment controller, as in the ECS API.
#[derive(schemars::JsonSchema, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeploymentController {
    /// ECS (rolling update), CODE_DEPLOY (blue/green by CodeDeploy) or EXTERNAL (task sets).
    #[serde(rename = "type")]
    #[schemars(extend("enum" = ["ECS", "CODE_DEPLOY", "EXTERNAL"]))]
    pub type_: String,
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

/// Service Connect configuration, as in the ECS API.
#[derive(KubeSchema, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceConnectConfiguration {
    /// Turn Service Connect on for this service.
    pub enabled: bool,
    /// Cloud Map namespace name or ARN. Defaults to the cluster's Service Connect namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Endpoints this service offers to the namespace. Empty: a client-only service.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[serde(deserialize_with = "null_as_default")]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["portName".into()]))]
    pub services: Vec<ServiceConnectService>,
    /// Where the Service Connect proxy writes its logs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_configuration: Option<ServiceConnectLogConfiguration>,
}

/// A Service Connect endpoint, as in the ECS API.
#[derive(KubeSchema, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceConnectService {
    /// Name of a port mapping in the task definition.
    pub port_name: String,
    /// Name registered in Cloud Map. Defaults to portName.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discovery_name: Option<String>,
    /// Names and ports clients use. Empty: the discovery name and container port.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[serde(deserialize_with = "null_as_default")]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["port".into()]))]
    pub client_aliases: Vec<ServiceConnectClientAlias>,
    /// Port the Service Connect proxy listens on. Defaults to the container port.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = Rule::new("self >= 1 && self <= 65535").message("ingressPortOverride is between 1 and 65535"))]
    pub ingress_port_override: Option<i32>,
}

/// A Service Connect client alias, as in the ECS API.
#[derive(KubeSchema, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceConnectClientAlias {
    /// Port clients connect to.
    #[x_kube(validation = Rule::new("self >= 1 && self <= 65535").message("port is between 1 and 65535"))]
    pub port: i32,
    /// DNS name clients use. Defaults to `<discoveryName>.<namespace>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dns_name: Option<String>,
}

/// Log configuration of the Service Connect proxy, as in the ECS API (`logConfiguration`).
#[derive(KubeSchema, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceConnectLogConfiguration {
    /// awslogs, awsfirelens, fluentd, gelf, journald, json-file, splunk or syslog.
    #[schemars(extend("enum" = ["awslogs", "awsfirelens", "fluentd", "gelf", "journald", "json-file", "splunk", "syslog"]))]
    pub log_driver: String,
    /// Options of the log driver, for example `awslogs-group`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[serde(deserialize_with = "null_as_default")]
    pub options: BTreeMap<String, String>,
    /// Log driver options read from Secrets Manager or SSM Parameter Store.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[serde(deserialize_with = "null_as_default")]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["name".into()]))]
    pub secret_options: Vec<ServiceConnectSecret>,
}

/// A secret log driver option, as in the ECS API (`name`/`valueFrom`).
#[derive(schemars::JsonSchema, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceConnectSecret {
    /// Option name.
    pub name: String,
    /// ARN of the Secrets Manager secret or SSM parameter.
    pub value_from: String,
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
mod tests {
    use kube::CustomResourceExt;
    use serde_json::{Value, json};

    use super::*;

    fn crd() -> Value {
        serde_json::to_value(EcsService::crd()).unwrap()
    }

    fn spec_schema() -> Value {
        crd()["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"].clone()
    }

    #[test]
    fn crd_names_and_subresources() {
        let crd = crd();
        assert_eq!(crd["metadata"]["name"], "ecsservices.ecs.operator.dev");
        assert_eq!(crd["spec"]["scope"], "Namespaced");
        assert_eq!(crd["spec"]["names"]["shortNames"], json!(["ecss"]));
        assert_eq!(crd["spec"]["names"]["categories"], json!(["ecs"]));
        let version = &crd["spec"]["versions"][0];
        assert_eq!(version["subresources"]["status"], json!({}));
        assert_eq!(
            version["subresources"]["scale"],
            json!({
                "specReplicasPath": ".spec.desiredCount",
                "statusReplicasPath": ".status.replicas",
                "labelSelectorPath": ".status.selector",
            })
        );
        let columns: Vec<&str> = version["additionalPrinterColumns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        assert_eq!(columns, ["Ready", "Desired", "Running", "Revision", "Age"]);
    }

    #[test]
    fn keyed_lists_are_list_maps_and_rule_lists_are_bounded() {
        let spec = spec_schema();
        let props = &spec["properties"];
        assert_eq!(props["tags"]["x-kubernetes-list-type"], "map");
        assert_eq!(props["tags"]["x-kubernetes-list-map-keys"], json!(["key"]));
        assert_eq!(props["tags"]["maxItems"], 47);
        assert_eq!(
            props["capacityProviderStrategy"]["x-kubernetes-list-map-keys"],
            json!(["capacityProvider"])
        );
        assert_eq!(props["capacityProviderStrategy"]["maxItems"], 20);
        assert_eq!(props["placementStrategy"]["maxItems"], 5);
        assert_eq!(props["placementConstraints"]["maxItems"], 10);
        assert_eq!(props["loadBalancers"]["maxItems"], 5);
        let vpc = &props["networkConfiguration"]["properties"]["awsvpcConfiguration"];
        assert_eq!(
            vpc["properties"]["subnets"]["x-kubernetes-list-type"],
            "set"
        );
        assert_eq!(vpc["required"], json!(["subnets"]));
        let services = &props["serviceConnectConfiguration"]["properties"]["services"];
        assert_eq!(services["x-kubernetes-list-map-keys"], json!(["portName"]));
        assert_eq!(props["serviceName"]["maxLength"], 255);
    }

    #[test]
    fn empty_enum_strings_and_nulls_are_unset() {
        // Go-based exporters write unset enums as "" (and some tools write null).
        let exported: EcsServiceSpec = serde_json::from_value(json!({
            "cluster": "apps", "taskDefinition": "web",
            "launchType": "", "schedulingStrategy": "", "propagateTags": "",
            "availabilityZoneRebalancing": "",
            "networkConfiguration": {"awsvpcConfiguration": {"subnets": ["subnet-1"], "assignPublicIp": ""}},
            "loadBalancers": null, "placementConstraints": null, "tags": null, "platformVersion": null
        }))
        .unwrap();
        let written: EcsServiceSpec = serde_json::from_value(json!({
            "cluster": "apps", "taskDefinition": "web",
            "networkConfiguration": {"awsvpcConfiguration": {"subnets": ["subnet-1"]}}
        }))
        .unwrap();
        assert_eq!(exported, written);
        let enums = &spec_schema()["properties"];
        assert!(
            enums["launchType"]["enum"]
                .as_array()
                .unwrap()
                .contains(&json!(""))
        );
    }

    #[test]
    fn field_names_follow_the_ecs_api() {
        let props = spec_schema()["properties"].clone();
        for name in [
            "serviceName",
            "clusterRef",
            "cluster",
            "taskDefinitionRef",
            "taskDefinition",
            "desiredCount",
            "launchType",
            "capacityProviderStrategy",
            "platformVersion",
            "networkConfiguration",
            "loadBalancers",
            "serviceRegistries",
            "healthCheckGracePeriodSeconds",
            "deploymentConfiguration",
            "deploymentController",
            "placementConstraints",
            "placementStrategy",
            "schedulingStrategy",
            "enableExecuteCommand",
            "enableECSManagedTags",
            "propagateTags",
            "serviceConnectConfiguration",
            "availabilityZoneRebalancing",
            "preDeploy",
            "autoscaling",
            "tags",
            "deletionPolicy",
            "region",
        ] {
            assert!(props.get(name).is_some(), "spec.{name} missing");
            assert!(
                props[name].get("description").is_some(),
                "spec.{name} has no description"
            );
        }
        assert_eq!(props.as_object().unwrap().len(), 28);
    }

    #[test]
    fn cel_rules_are_on_the_root_with_messages() {
        let root = crd()["spec"]["versions"][0]["schema"]["openAPIV3Schema"].clone();
        let rules = root["x-kubernetes-validations"].as_array().unwrap();
        assert_eq!(rules.len(), 15);
        assert!(
            rules
                .iter()
                .all(|r| r["message"].as_str().is_some_and(|m| !m.is_empty()))
        );
        let transition = rules
            .iter()
            .filter(|r| r["rule"].as_str().unwrap().contains("oldSelf"))
            .count();
        assert_eq!(transition, 6);
    }

    #[test]
    fn an_ecs_service_definition_pastes_in() {
        let spec: EcsServiceSpec = serde_json::from_value(json!({
            "cluster": "prod",
            "taskDefinition": "web:3",
            "desiredCount": 2,
            "launchType": "FARGATE",
            "networkConfiguration": {"awsvpcConfiguration": {"subnets": ["subnet-1"], "assignPublicIp": "ENABLED"}},
            "loadBalancers": [{"targetGroupArn": "arn:tg", "containerName": "web", "containerPort": 80}],
            "deploymentConfiguration": {"deploymentCircuitBreaker": {"enable": true, "rollback": true}},
            "deploymentController": {"type": "ECS"},
            "placementConstraints": [{"type": "distinctInstance"}],
            "enableECSManagedTags": true,
            "serviceConnectConfiguration": {"enabled": true, "services": [{"portName": "http", "clientAliases": [{"port": 80}]}]},
        }))
        .unwrap();
        assert_eq!(spec.enable_ecs_managed_tags, Some(true));
        assert_eq!(spec.deployment_controller.as_ref().unwrap().type_, "ECS");
        assert_eq!(spec.deletion_policy, DeletionPolicy::Delete);
        let back = serde_json::to_value(&spec).unwrap();
        assert_eq!(back["enableECSManagedTags"], true);
        assert_eq!(
            back["placementConstraints"],
            json!([{"type": "distinctInstance"}])
        );
        assert!(back.get("tags").is_none() && back.get("serviceName").is_none());
    }
}
