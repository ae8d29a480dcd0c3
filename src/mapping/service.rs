//! EcsService spec to CreateService/UpdateService requests (here), drift between spec and what
//! DescribeServices reports (`drift`), readiness of the rollout, status facts and which ECS
//! service events still need mirroring (`rollout`), a reconcile's plan (`plan`) and why tasks
//! stop (`stopped_tasks`). Pure: no client, no I/O.

use std::collections::HashMap;

use aws_sdk_ecs::error::BuildError;
use aws_sdk_ecs::operation::create_service::{
    CreateServiceInput, builders::CreateServiceInputBuilder,
};
use aws_sdk_ecs::operation::update_service::{
    UpdateServiceInput, builders::UpdateServiceInputBuilder,
};
use aws_sdk_ecs::types::{self as ecs, DeploymentRolloutState, Service, ServiceEvent};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use sha2::{Digest, Sha256};

use crate::api::common::CapacityProviderStrategyItem;
use crate::api::service::{
    EcsServiceSpec, EcsServiceStatus, LoadBalancer, NetworkConfiguration, PlacementConstraint,
    PlacementStrategy, ServiceConnectConfiguration, ServiceDeploymentStatus, ServiceRegistry,
    ServiceVolumeConfiguration, VpcLatticeConfiguration,
};
use crate::{Error, Result};

/// Label key of the scale subresource's selector (`status.selector`).
pub const SELECTOR_LABEL: &str = "ecs.operator.dev/service";

/// At most this many ECS service events are mirrored per pass, the newest ones, so a new object
/// (or a lost cursor) does not replay the up to 100 events ECS keeps.
pub const MAX_MIRRORED_EVENTS: usize = 20;

const DAEMON: &str = "DAEMON";
const ECS_CONTROLLER: &str = "ECS";

pub mod deployment;
mod drift;
mod rollout;
mod strategy;

pub use drift::{changes_capacity_provider_strategy, drift, immutable_conflicts};
use drift::{same_task_definition, short_task_definition};
use rollout::failed_deployment;
pub use rollout::{
    EventCursor, Rollout, events_to_mirror, remember_failure, revision_to_deploy, rolled_back,
    rollout, selector, status_facts, task_definition_revision, vanished_deployment,
};
pub(crate) use strategy::deployment_configuration;

/// Checks the rules the CRD's CEL rules also enforce, for objects admitted before the CRD had
/// them (or by a server without them): ECS would reject such a request anyway, less clearly.
pub fn validate(spec: &EcsServiceSpec) -> Result<()> {
    if spec.cluster_ref.is_some() == spec.cluster.is_some() {
        return invalid("set exactly one of spec.clusterRef or spec.cluster");
    }
    if spec.task_definition_ref.is_some() == spec.task_definition.is_some() {
        return invalid("set exactly one of spec.taskDefinitionRef or spec.taskDefinition");
    }
    if spec.launch_type.is_some() && !spec.capacity_provider_strategy.is_empty() {
        return invalid(
            "ECS accepts either spec.launchType or spec.capacityProviderStrategy, not both",
        );
    }
    if let Some(count) = spec.desired_count {
        if count < 0 {
            return invalid("spec.desiredCount cannot be negative");
        }
        if is_daemon(spec) {
            return invalid("a DAEMON service takes no spec.desiredCount");
        }
    }
    Ok(())
}

/// The clientToken of a CreateService: the same for every attempt to create one incarnation of
/// the service (a retry after a crash between CreateService and the status write creates
/// nothing twice), new once the service this object created is gone (`previous_created_at`, the
/// createdAt status recorded of it), since ECS answers a remembered token with the service it
/// created even after that was deleted. 32 hex characters (ECS takes up to 36).
pub fn client_token(uid: &str, previous_created_at: Option<&str>) -> String {
    let digest = Sha256::digest(format!("{uid}/{}", previous_created_at.unwrap_or_default()));
    format!("{digest:x}")[..32].to_string()
}

/// The CreateService request for `spec`. `desired_count` is what the service starts with
/// (spec.desiredCount, else 1); `tags` are the spec's plus the ownership tags; `client_token`
/// makes the call idempotent ([`client_token`]).
pub fn create_input(
    spec: &EcsServiceSpec,
    service_name: &str,
    cluster: &str,
    task_definition_arn: &str,
    desired_count: i32,
    tags: Vec<ecs::Tag>,
    client_token: &str,
) -> Result<CreateServiceInputBuilder> {
    validate(spec)?;
    // ECS places one task per instance for DAEMON services and rejects a count.
    let desired_count = (!is_daemon(spec)).then_some(desired_count);
    Ok(CreateServiceInput::builder()
        .cluster(cluster)
        .service_name(service_name)
        .task_definition(task_definition_arn)
        .set_desired_count(desired_count)
        .client_token(client_token)
        .set_launch_type(spec.launch_type.as_deref().map(ecs::LaunchType::from))
        .set_capacity_provider_strategy(non_empty(capacity_provider_strategy(
            &spec.capacity_provider_strategy,
        )?))
        .set_platform_version(spec.platform_version.clone())
        .set_network_configuration(
            spec.network_configuration
                .as_ref()
                .map(network_configuration)
                .transpose()?,
        )
        .set_load_balancers(non_empty(load_balancers(&spec.load_balancers)))
        .set_service_registries(non_empty(service_registries(&spec.service_registries)))
        .set_health_check_grace_period_seconds(spec.health_check_grace_period_seconds)
        .set_deployment_configuration(
            spec.deployment_configuration
                .as_ref()
                .map(deployment_configuration)
                .transpose()?,
        )
        .set_deployment_controller(
            spec.deployment_controller
                .as_ref()
                .map(|c| {
                    ecs::DeploymentController::builder()
                        .r#type(c.type_.as_str().into())
                        .build()
                })
                .transpose()
                .map_err(build_error("deploymentController"))?,
        )
        .set_placement_constraints(non_empty(placement_constraints(
            &spec.placement_constraints,
        )))
        .set_placement_strategy(non_empty(placement_strategy(&spec.placement_strategy)))
        .set_scheduling_strategy(
            spec.scheduling_strategy
                .as_deref()
                .map(ecs::SchedulingStrategy::from),
        )
        .set_enable_execute_command(spec.enable_execute_command)
        .set_enable_ecs_managed_tags(spec.enable_ecs_managed_tags)
        .set_propagate_tags(spec.propagate_tags.as_deref().map(ecs::PropagateTags::from))
        .set_service_connect_configuration(
            spec.service_connect_configuration
                .as_ref()
                .map(service_connect_configuration)
                .transpose()?,
        )
        .set_availability_zone_rebalancing(
            spec.availability_zone_rebalancing
                .as_deref()
                .map(ecs::AvailabilityZoneRebalancing::from),
        )
        .set_volume_configurations(non_empty(volume_configurations(
            &spec.volume_configurations,
        )?))
        .set_vpc_lattice_configurations(non_empty(vpc_lattice_configurations(
            &spec.vpc_lattice_configurations,
        )?))
        .set_role(spec.role.clone())
        .set_tags(non_empty(tags)))
}

/// The UpdateService request that brings the service to `spec`: every field ECS can change in
/// place. `desired_count` is sent only when Some (spec.desiredCount set), so an autoscaler keeps
/// the count otherwise.
///
/// With the CODE_DEPLOY or EXTERNAL deployment controller ECS changes only the count, health
/// check grace period, placement, managed tags and tag propagation (and, for CODE_DEPLOY, the
/// deployment configuration) through UpdateService; the rest goes through CodeDeploy or task sets,
/// so it is left out here and `drift` does not report it.
pub fn update_input(
    spec: &EcsServiceSpec,
    service_name: &str,
    cluster: &str,
    task_definition_arn: &str,
    desired_count: Option<i32>,
    force_new_deployment: bool,
) -> Result<UpdateServiceInputBuilder> {
    validate(spec)?;
    let controller = controller(spec);
    let ecs_controlled = controller == ECS_CONTROLLER;
    if force_new_deployment && !ecs_controlled {
        return invalid(&format!(
            "a forced new deployment (ecs.operator.dev/restartedAt) needs the ECS deployment controller; this service uses {controller}"
        ));
    }
    let mut input = UpdateServiceInput::builder()
        .cluster(cluster)
        .service(service_name)
        .set_desired_count(desired_count.filter(|_| !is_daemon(spec)))
        .set_health_check_grace_period_seconds(spec.health_check_grace_period_seconds)
        .set_placement_constraints(placement_update(
            spec,
            placement_constraints(&spec.placement_constraints),
        ))
        .set_placement_strategy(placement_update(
            spec,
            placement_strategy(&spec.placement_strategy),
        ))
        .set_enable_ecs_managed_tags(spec.enable_ecs_managed_tags)
        .set_propagate_tags(spec.propagate_tags.as_deref().map(ecs::PropagateTags::from));
    if controller != "EXTERNAL" {
        input = input.set_deployment_configuration(
            spec.deployment_configuration
                .as_ref()
                .map(deployment_configuration)
                .transpose()?,
        );
    }
    if ecs_controlled {
        input = input
            .task_definition(task_definition_arn)
            .set_capacity_provider_strategy(non_empty(capacity_provider_strategy(
                &spec.capacity_provider_strategy,
            )?))
            .set_network_configuration(
                spec.network_configuration
                    .as_ref()
                    .map(network_configuration)
                    .transpose()?,
            )
            .set_platform_version(spec.platform_version.clone())
            // Sent even when empty: an empty list is how UpdateService removes them.
            .set_load_balancers(Some(load_balancers(&spec.load_balancers)))
            .set_service_registries(Some(service_registries(&spec.service_registries)))
            .set_enable_execute_command(spec.enable_execute_command)
            .set_service_connect_configuration(
                spec.service_connect_configuration
                    .as_ref()
                    .map(service_connect_configuration)
                    .transpose()?,
            )
            .set_availability_zone_rebalancing(
                spec.availability_zone_rebalancing
                    .as_deref()
                    .map(ecs::AvailabilityZoneRebalancing::from),
            )
            // Sent only when set: any mention starts a new deployment. The plan sends an empty
            // list to remove them (`plan_update`).
            .set_volume_configurations(non_empty(volume_configurations(
                &spec.volume_configurations,
            )?))
            .set_vpc_lattice_configurations(non_empty(vpc_lattice_configurations(
                &spec.vpc_lattice_configurations,
            )?))
            .set_force_new_deployment(force_new_deployment.then_some(true));
    }
    Ok(input)
}

// --- spec to SDK types ---------------------------------------------------------------------------

pub(crate) fn capacity_provider_strategy(
    items: &[CapacityProviderStrategyItem],
) -> Result<Vec<ecs::CapacityProviderStrategyItem>> {
    items
        .iter()
        .map(|i| {
            ecs::CapacityProviderStrategyItem::builder()
                .capacity_provider(&i.capacity_provider)
                .set_weight(i.weight)
                .set_base(i.base)
                .build()
                .map_err(build_error("capacityProviderStrategy"))
        })
        .collect()
}

pub(crate) fn network_configuration(n: &NetworkConfiguration) -> Result<ecs::NetworkConfiguration> {
    let awsvpc = n
        .awsvpc_configuration
        .as_ref()
        .map(|a| {
            ecs::AwsVpcConfiguration::builder()
                .set_subnets(Some(a.subnets.clone()))
                .set_security_groups(non_empty(a.security_groups.clone()))
                .set_assign_public_ip(a.assign_public_ip.as_deref().map(ecs::AssignPublicIp::from))
                .build()
        })
        .transpose()
        .map_err(build_error("networkConfiguration.awsvpcConfiguration"))?;
    Ok(ecs::NetworkConfiguration::builder()
        .set_awsvpc_configuration(awsvpc)
        .build())
}

fn load_balancers(items: &[LoadBalancer]) -> Vec<ecs::LoadBalancer> {
    items
        .iter()
        .map(|l| {
            ecs::LoadBalancer::builder()
                .set_target_group_arn(l.target_group_arn.clone())
                .set_load_balancer_name(l.load_balancer_name.clone())
                .set_container_name(l.container_name.clone())
                .set_container_port(l.container_port)
                .set_advanced_configuration(l.advanced_configuration.as_ref().map(|a| {
                    ecs::AdvancedConfiguration::builder()
                        .alternate_target_group_arn(&a.alternate_target_group_arn)
                        .set_production_listener_rule(a.production_listener_rule.clone())
                        .set_test_listener_rule(a.test_listener_rule.clone())
                        .set_role_arn(a.role_arn.clone())
                        .build()
                }))
                .build()
        })
        .collect()
}

fn volume_configurations(
    items: &[ServiceVolumeConfiguration],
) -> Result<Vec<ecs::ServiceVolumeConfiguration>> {
    items
        .iter()
        .map(|v| {
            let ebs = v
                .managed_ebs_volume
                .as_ref()
                .map(|e| -> Result<_> {
                    let tags = super::task::ebs_tag_specifications(&e.tag_specifications)?;
                    ecs::ServiceManagedEbsVolumeConfiguration::builder()
                        .role_arn(&e.role_arn)
                        .set_size_in_gib(e.size_in_gib)
                        .set_volume_type(e.volume_type.clone())
                        .set_snapshot_id(e.snapshot_id.clone())
                        .set_iops(e.iops)
                        .set_throughput(e.throughput)
                        .set_encrypted(e.encrypted)
                        .set_kms_key_id(e.kms_key_id.clone())
                        .set_filesystem_type(e.filesystem_type.as_deref().map(Into::into))
                        .set_volume_initialization_rate(e.volume_initialization_rate)
                        .set_tag_specifications(non_empty(tags))
                        .build()
                        .map_err(build_error("volumeConfigurations.managedEBSVolume"))
                })
                .transpose()?;
            ecs::ServiceVolumeConfiguration::builder()
                .name(&v.name)
                .set_managed_ebs_volume(ebs)
                .build()
                .map_err(build_error("volumeConfigurations"))
        })
        .collect()
}

fn vpc_lattice_configurations(
    items: &[VpcLatticeConfiguration],
) -> Result<Vec<ecs::VpcLatticeConfiguration>> {
    items
        .iter()
        .map(|v| {
            ecs::VpcLatticeConfiguration::builder()
                .role_arn(&v.role_arn)
                .target_group_arn(&v.target_group_arn)
                .port_name(&v.port_name)
                .build()
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(build_error("vpcLatticeConfigurations"))
}

fn service_registries(items: &[ServiceRegistry]) -> Vec<ecs::ServiceRegistry> {
    items
        .iter()
        .map(|r| {
            ecs::ServiceRegistry::builder()
                .set_registry_arn(r.registry_arn.clone())
                .set_port(r.port)
                .set_container_name(r.container_name.clone())
                .set_container_port(r.container_port)
                .build()
        })
        .collect()
}

pub(crate) fn placement_constraints(
    items: &[PlacementConstraint],
) -> Vec<ecs::PlacementConstraint> {
    items
        .iter()
        .map(|c| {
            ecs::PlacementConstraint::builder()
                .r#type(c.type_.as_str().into())
                .set_expression(c.expression.clone())
                .build()
        })
        .collect()
}

pub(crate) fn placement_strategy(items: &[PlacementStrategy]) -> Vec<ecs::PlacementStrategy> {
    items
        .iter()
        .map(|s| {
            ecs::PlacementStrategy::builder()
                .r#type(s.type_.as_str().into())
                .set_field(s.field.clone())
                .build()
        })
        .collect()
}

fn service_connect_configuration(
    sc: &ServiceConnectConfiguration,
) -> Result<ecs::ServiceConnectConfiguration> {
    let services = sc
        .services
        .iter()
        .map(|s| {
            let aliases = s
                .client_aliases
                .iter()
                .map(|a| {
                    ecs::ServiceConnectClientAlias::builder()
                        .port(a.port)
                        .set_dns_name(a.dns_name.clone())
                        .set_test_traffic_rules(
                            a.test_traffic_rules
                                .as_ref()
                                .map(test_traffic_rules)
                                .transpose()?,
                        )
                        .build()
                })
                .collect::<Result<Vec<_>, _>>()
                .map_err(build_error(
                    "serviceConnectConfiguration.services.clientAliases",
                ))?;
            ecs::ServiceConnectService::builder()
                .port_name(&s.port_name)
                .set_discovery_name(s.discovery_name.clone())
                .set_client_aliases(non_empty(aliases))
                .set_ingress_port_override(s.ingress_port_override)
                .set_tls(s.tls.as_ref().map(|t| {
                    ecs::ServiceConnectTlsConfiguration::builder()
                        .issuer_certificate_authority(
                            ecs::ServiceConnectTlsCertificateAuthority::builder()
                                .aws_pca_authority_arn(
                                    &t.issuer_certificate_authority.aws_pca_authority_arn,
                                )
                                .build(),
                        )
                        .set_kms_key(t.kms_key.clone())
                        .set_role_arn(t.role_arn.clone())
                        .build()
                }))
                .build()
                .map_err(build_error("serviceConnectConfiguration.services"))
        })
        .collect::<Result<Vec<_>>>()?;
    let log_configuration = sc
        .log_configuration
        .as_ref()
        .map(|l| {
            let secrets = l
                .secret_options
                .iter()
                .map(|s| {
                    ecs::Secret::builder()
                        .name(&s.name)
                        .value_from(&s.value_from)
                        .build()
                })
                .collect::<Result<Vec<_>, _>>()?;
            ecs::LogConfiguration::builder()
                .log_driver(l.log_driver.as_str().into())
                .set_options((!l.options.is_empty()).then(|| {
                    l.options
                        .iter()
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect::<HashMap<_, _>>()
                }))
                .set_secret_options(non_empty(secrets))
                .build()
        })
        .transpose()
        .map_err(build_error("serviceConnectConfiguration.logConfiguration"))?;
    Ok(ecs::ServiceConnectConfiguration::builder()
        .enabled(sc.enabled)
        .set_namespace(sc.namespace.clone())
        .set_services(non_empty(services))
        .set_log_configuration(log_configuration)
        .set_access_log_configuration(
            sc.access_log_configuration
                .as_ref()
                .map(|a| {
                    ecs::ServiceConnectAccessLogConfiguration::builder()
                        .format(a.format.as_str().into())
                        .set_include_query_parameters(
                            a.include_query_parameters.as_deref().map(Into::into),
                        )
                        .build()
                })
                .transpose()
                .map_err(build_error(
                    "serviceConnectConfiguration.accessLogConfiguration",
                ))?,
        )
        .build())
}

fn test_traffic_rules(
    rules: &crate::api::service::ServiceConnectTestTrafficRules,
) -> Result<ecs::ServiceConnectTestTrafficRules, BuildError> {
    let header = ecs::ServiceConnectTestTrafficHeaderRules::builder()
        .name(&rules.header.name)
        .set_value(
            rules
                .header
                .value
                .as_ref()
                .map(|v| {
                    ecs::ServiceConnectTestTrafficHeaderMatchRules::builder()
                        .exact(&v.exact)
                        .build()
                })
                .transpose()?,
        )
        .build()?;
    Ok(ecs::ServiceConnectTestTrafficRules::builder()
        .header(header)
        .build())
}

/// Placement lists for UpdateService: the spec's when it has some; an empty list (which removes
/// them in ECS) only when the service certainly does not run on Fargate, which rejects placement
/// parameters; otherwise left alone.
fn placement_update<T>(spec: &EcsServiceSpec, items: Vec<T>) -> Option<Vec<T>> {
    (!items.is_empty() || placement_clearable(spec)).then_some(items)
}

/// True when the spec pins the service to capacity that supports placement (not Fargate), so an
/// empty placement list may be sent to clear placement in ECS.
fn placement_clearable(spec: &EcsServiceSpec) -> bool {
    match spec.launch_type.as_deref() {
        Some(launch_type) => matches!(launch_type, "EC2" | "EXTERNAL"),
        None => {
            !spec.capacity_provider_strategy.is_empty()
                && spec
                    .capacity_provider_strategy
                    .iter()
                    .all(|i| !i.capacity_provider.starts_with("FARGATE"))
        }
    }
}

// --- small helpers -------------------------------------------------------------------------------

fn controller(spec: &EcsServiceSpec) -> &str {
    spec.deployment_controller
        .as_ref()
        .map_or(ECS_CONTROLLER, |c| c.type_.as_str())
}

fn is_daemon(spec: &EcsServiceSpec) -> bool {
    spec.scheduling_strategy.as_deref() == Some(DAEMON)
}

pub(crate) fn non_empty<T>(items: Vec<T>) -> Option<Vec<T>> {
    (!items.is_empty()).then_some(items)
}

pub(crate) fn timestamp(t: &aws_smithy_types::DateTime) -> Option<Timestamp> {
    Timestamp::new(t.secs(), i32::try_from(t.subsec_nanos()).ok()?).ok()
}

fn invalid<T>(message: &str) -> Result<T> {
    Err(Error::InvalidSpec(message.to_owned()))
}

pub(crate) fn build_error(what: &'static str) -> impl Fn(BuildError) -> Error {
    move |e| Error::InvalidSpec(format!("{what}: {e}"))
}

pub mod plan;
pub mod pre_deploy;
pub mod stopped_tasks;

#[cfg(test)]
mod tests;

#[cfg(test)]
mod plan_tests;

#[cfg(test)]
mod remembered_failure_tests;

#[cfg(test)]
mod deployment_tests;
