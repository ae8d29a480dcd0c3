//! Where a service's tasks are reached: their network, load balancers (with the blue/green
//! advanced configuration), Cloud Map registries and VPC Lattice target groups, as in the ECS API.

use kube::KubeSchema;
use serde::{Deserialize, Serialize};

use crate::api::common::{empty_as_none, null_as_default};

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
#[x_kube(
    validation = Rule::new("has(self.targetGroupArn) != has(self.loadBalancerName)").message("a loadBalancers entry names either a targetGroupArn (ALB/NLB) or a loadBalancerName (Classic Load Balancer), exactly one"),
    validation = Rule::new("!has(self.advancedConfiguration) || has(self.targetGroupArn)").message("advancedConfiguration (blue/green traffic shifting) needs a targetGroupArn; Classic Load Balancers do not support it")
)]
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
    /// The second target group and the listener rules ECS switches between in a BLUE_GREEN,
    /// LINEAR or CANARY deployment (required for those strategies).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub advanced_configuration: Option<AdvancedConfiguration>,
}

/// Traffic shifting of a load balancer in blue/green, linear and canary deployments, as in the
/// ECS API (AdvancedConfiguration).
#[derive(KubeSchema, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AdvancedConfiguration {
    /// ARN of the alternate target group: the new revision's tasks register there first.
    pub alternate_target_group_arn: String,
    /// ARN of the listener rule (ALB) or listener (NLB) that routes production traffic.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub production_listener_rule: Option<String>,
    /// ARN of the listener rule (ALB) or listener (NLB) that routes test traffic, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_listener_rule: Option<String>,
    /// ARN of the IAM role ECS changes the listeners with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
}

/// A VPC Lattice target group of the service, as in the ECS API (VpcLatticeConfiguration).
#[derive(KubeSchema, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VpcLatticeConfiguration {
    /// ARN of the IAM role ECS registers tasks in the target group with.
    pub role_arn: String,
    /// ARN of the VPC Lattice target group.
    pub target_group_arn: String,
    /// Name of the task definition's port mapping that receives the traffic.
    pub port_name: String,
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
