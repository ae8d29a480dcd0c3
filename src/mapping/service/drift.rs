//! Drift: the spec fields where what DescribeServices reports differs, among those UpdateService
//! can correct, and the immutable ones that differ. A field ECS did not return is not drift.
//! Pure: no client, no I/O.

use super::strategy::deployment_configuration_drift;
use super::*;

/// Names (spec field names) of the fields where what ECS reports differs from `spec`, among those
/// `update_input` can correct. A field ECS did not return is not drift; desiredCount counts only
/// when the spec sets it. Immutable fields are `immutable_conflicts`' business.
pub fn drift(
    spec: &EcsServiceSpec,
    desired_task_definition_arn: &str,
    current: &Service,
) -> Vec<&'static str> {
    let mut drifted = Vec::new();
    let mut check = |name: &'static str, differs: bool| {
        if differs {
            drifted.push(name);
        }
    };
    let ecs_controlled = controller(spec) == ECS_CONTROLLER;

    if ecs_controlled {
        // A revision ECS rolled back from is not drift: deploying it again would fail again
        // (`rollout` reports it Failed until the desired revision changes).
        check(
            "taskDefinition",
            current
                .task_definition
                .as_deref()
                .is_some_and(|td| !same_task_definition(td, desired_task_definition_arn))
                && failed_deployment(current, desired_task_definition_arn).is_none(),
        );
    }
    check(
        "desiredCount",
        spec.desired_count
            .is_some_and(|n| !is_daemon(spec) && n != current.desired_count),
    );
    if ecs_controlled {
        check(
            "capacityProviderStrategy",
            !spec.capacity_provider_strategy.is_empty()
                && current
                    .capacity_provider_strategy
                    .as_ref()
                    .is_some_and(|cur| {
                        !cur.is_empty()
                            && sorted(cur.iter().map(ecs_capacity_key))
                                != sorted(
                                    spec.capacity_provider_strategy
                                        .iter()
                                        .map(spec_capacity_key),
                                )
                    }),
        );
        check(
            "platformVersion",
            differs_if_both(
                spec.platform_version.as_deref(),
                current.platform_version.as_deref(),
            ),
        );
        check(
            "networkConfiguration",
            network_drift(
                spec.network_configuration.as_ref(),
                current.network_configuration.as_ref(),
            ),
        );
        check(
            "loadBalancers",
            current.load_balancers.as_ref().is_some_and(|cur| {
                sorted(cur.iter().map(ecs_load_balancer_key))
                    != sorted(spec.load_balancers.iter().map(spec_load_balancer_key))
            }),
        );
        check(
            "serviceRegistries",
            current.service_registries.as_ref().is_some_and(|cur| {
                sorted(cur.iter().map(ecs_registry_key))
                    != sorted(spec.service_registries.iter().map(spec_registry_key))
            }),
        );
        // ECS always reports both flags, but the SDK turns an absent flag into false (the
        // emulator omits them); only a true that the spec turns off is certain drift.
        check(
            "enableExecuteCommand",
            spec.enable_execute_command == Some(false) && current.enable_execute_command,
        );
        check(
            "serviceConnectConfiguration",
            service_connect_drift(spec.service_connect_configuration.as_ref(), current),
        );
        // Reported per deployment, as Service Connect: compare names and target groups, when
        // ECS reports them (an absent list is not drift).
        let primary = current
            .deployments()
            .iter()
            .find(|d| d.status.as_deref() == Some("PRIMARY"));
        check(
            "volumeConfigurations",
            primary
                .and_then(|p| p.volume_configurations.as_ref())
                .is_some_and(|cur| {
                    sorted(cur.iter().map(|v| v.name.clone()))
                        != sorted(spec.volume_configurations.iter().map(|v| v.name.clone()))
                }),
        );
        check(
            "vpcLatticeConfigurations",
            primary
                .and_then(|p| p.vpc_lattice_configurations.as_ref())
                .is_some_and(|cur| {
                    sorted(
                        cur.iter()
                            .map(|v| (v.target_group_arn.clone(), v.port_name.clone())),
                    ) != sorted(
                        spec.vpc_lattice_configurations
                            .iter()
                            .map(|v| (v.target_group_arn.clone(), v.port_name.clone())),
                    )
                }),
        );
        check(
            "availabilityZoneRebalancing",
            differs_if_both(
                spec.availability_zone_rebalancing.as_deref(),
                current
                    .availability_zone_rebalancing
                    .as_ref()
                    .map(|v| v.as_str()),
            ),
        );
    }
    check(
        "healthCheckGracePeriodSeconds",
        differs_if_both(
            spec.health_check_grace_period_seconds,
            current.health_check_grace_period_seconds,
        ),
    );
    if controller(spec) != "EXTERNAL" {
        check(
            "deploymentConfiguration",
            deployment_configuration_drift(
                spec.deployment_configuration.as_ref(),
                current.deployment_configuration.as_ref(),
            ),
        );
    }
    let placement_compared = |spec_empty: bool| !spec_empty || placement_clearable(spec);
    check(
        "placementConstraints",
        placement_compared(spec.placement_constraints.is_empty())
            && current.placement_constraints.as_ref().is_some_and(|cur| {
                sorted(cur.iter().map(|c| {
                    (
                        c.r#type.as_ref().map(|t| t.as_str().to_owned()),
                        c.expression.clone(),
                    )
                })) != sorted(
                    spec.placement_constraints
                        .iter()
                        .map(|c| (Some(c.type_.clone()), c.expression.clone())),
                )
            }),
    );
    check(
        "placementStrategy",
        placement_compared(spec.placement_strategy.is_empty())
            && current.placement_strategy.as_ref().is_some_and(|cur| {
                // Order is precedence; the field's case is not (ECS may echo MEMORY for memory).
                let cur: Vec<_> = cur
                    .iter()
                    .map(|s| {
                        (
                            s.r#type.as_ref().map(|t| t.as_str().to_owned()),
                            s.field.as_deref().map(str::to_lowercase),
                        )
                    })
                    .collect();
                let want: Vec<_> = spec
                    .placement_strategy
                    .iter()
                    .map(|s| {
                        (
                            Some(s.type_.clone()),
                            s.field.as_deref().map(str::to_lowercase),
                        )
                    })
                    .collect();
                cur != want
            }),
    );
    check(
        "enableECSManagedTags",
        spec.enable_ecs_managed_tags == Some(false) && current.enable_ecs_managed_tags,
    );
    check(
        "propagateTags",
        differs_if_both(
            spec.propagate_tags.as_deref(),
            current.propagate_tags.as_ref().map(|v| v.as_str()),
        ),
    );
    drifted
}

/// Whether the UpdateService for `spec` changes the service's capacity provider strategy, or moves
/// it from a launch type to one: ECS then requires `forceNewDeployment` ("When switching from
/// launch type to capacity provider strategy on an existing service, or making a change to a
/// capacity provider strategy on a service that is already using one, you must force a new
/// deployment.").
pub fn changes_capacity_provider_strategy(spec: &EcsServiceSpec, current: &Service) -> bool {
    controller(spec) == ECS_CONTROLLER
        && !spec.capacity_provider_strategy.is_empty()
        && (current.launch_type.is_some()
            || current
                .capacity_provider_strategy
                .as_ref()
                .is_none_or(|cur| {
                    sorted(cur.iter().map(ecs_capacity_key))
                        != sorted(
                            spec.capacity_provider_strategy
                                .iter()
                                .map(spec_capacity_key),
                        )
                }))
}

/// Spec fields ECS cannot change in place (launchType, schedulingStrategy, deploymentController)
/// whose value in ECS differs from the spec: an adopted service that does not match, or a change
/// made outside the operator. Only replacing the service resolves it.
pub fn immutable_conflicts(spec: &EcsServiceSpec, current: &Service) -> Vec<&'static str> {
    let mut conflicts = Vec::new();
    if differs_if_both(
        spec.launch_type.as_deref(),
        current.launch_type.as_ref().map(|v| v.as_str()),
    ) {
        conflicts.push("launchType");
    }
    let scheduling = spec.scheduling_strategy.as_deref().unwrap_or("REPLICA");
    if current
        .scheduling_strategy
        .as_ref()
        .is_some_and(|s| s.as_str() != scheduling)
    {
        conflicts.push("schedulingStrategy");
    }
    if current
        .deployment_controller
        .as_ref()
        .is_some_and(|c| c.r#type.as_str() != controller(spec))
    {
        conflicts.push("deploymentController");
    }
    conflicts
}

type CapacityKey = (String, i32, i32);
/// (target groups, load balancer name, container name, port). With an advancedConfiguration the
/// two target groups are a pair in either order: a blue/green deployment leaves production on the
/// one that was the alternate. The listener rules and role are sent with the spec, not compared
/// (ECS may fill in what the spec leaves out).
type LoadBalancerKey = (Vec<String>, Option<String>, Option<String>, Option<i32>);
type RegistryKey = (Option<String>, Option<i32>, Option<String>, Option<i32>);

fn spec_capacity_key(i: &CapacityProviderStrategyItem) -> CapacityKey {
    // ECS reports omitted weight and base as 0.
    (
        i.capacity_provider.clone(),
        i.weight.unwrap_or(0),
        i.base.unwrap_or(0),
    )
}

fn ecs_capacity_key(i: &ecs::CapacityProviderStrategyItem) -> CapacityKey {
    (i.capacity_provider.clone(), i.weight, i.base)
}

fn spec_load_balancer_key(l: &LoadBalancer) -> LoadBalancerKey {
    let alternate = l
        .advanced_configuration
        .as_ref()
        .map(|a| &a.alternate_target_group_arn);
    (
        sorted(l.target_group_arn.iter().chain(alternate).cloned()),
        l.load_balancer_name.clone(),
        l.container_name.clone(),
        l.container_port,
    )
}

fn ecs_load_balancer_key(l: &ecs::LoadBalancer) -> LoadBalancerKey {
    let alternate = l
        .advanced_configuration()
        .and_then(|a| a.alternate_target_group_arn());
    (
        sorted(
            l.target_group_arn()
                .into_iter()
                .chain(alternate)
                .map(str::to_owned),
        ),
        l.load_balancer_name.clone(),
        l.container_name.clone(),
        l.container_port,
    )
}

fn spec_registry_key(r: &ServiceRegistry) -> RegistryKey {
    (
        r.registry_arn.clone(),
        r.port,
        r.container_name.clone(),
        r.container_port,
    )
}

fn ecs_registry_key(r: &ecs::ServiceRegistry) -> RegistryKey {
    (
        r.registry_arn.clone(),
        r.port,
        r.container_name.clone(),
        r.container_port,
    )
}

fn network_drift(
    spec: Option<&NetworkConfiguration>,
    current: Option<&ecs::NetworkConfiguration>,
) -> bool {
    let (Some(want), Some(cur)) = (
        spec.and_then(|n| n.awsvpc_configuration.as_ref()),
        current.and_then(|n| n.awsvpc_configuration.as_ref()),
    ) else {
        return false;
    };
    let public_ip = cur.assign_public_ip.as_ref().map(|v| v.as_str());
    sorted(want.subnets.iter()) != sorted(cur.subnets.iter())
        // Omitted security groups mean the VPC default, which ECS then reports.
        || !want.security_groups.is_empty()
            && sorted(want.security_groups.iter()) != sorted(cur.security_groups().iter())
        || differs_if_both(want.assign_public_ip.as_deref(), public_ip)
}

/// DescribeServices reports Service Connect per deployment: compare with the primary's. Only
/// `enabled` and the port names, which ECS echoes as given (it may resolve the namespace to an ARN).
fn service_connect_drift(spec: Option<&ServiceConnectConfiguration>, current: &Service) -> bool {
    let Some(want) = spec else { return false };
    let Some(cur) = current
        .deployments()
        .iter()
        .find(|d| d.status.as_deref() == Some("PRIMARY"))
        .and_then(|d| d.service_connect_configuration.as_ref())
    else {
        return false;
    };
    want.enabled != cur.enabled
        || want.enabled
            && sorted(want.services.iter().map(|s| s.port_name.clone()))
                != sorted(cur.services().iter().map(|s| s.port_name.clone()))
}

pub(super) fn differs_if_both<T: PartialEq>(want: Option<T>, current: Option<T>) -> bool {
    matches!((want, current), (Some(a), Some(b)) if a != b)
}

pub(super) fn sorted<T: Ord>(items: impl Iterator<Item = T>) -> Vec<T> {
    let mut items: Vec<T> = items.collect();
    items.sort();
    items
}

/// True when both name the same task definition; one side may be an ARN and the other
/// `family:revision` (ECS may store what it was given).
pub(super) fn same_task_definition(a: &str, b: &str) -> bool {
    let is_arn = |td: &str| td.starts_with("arn:");
    a == b || is_arn(a) != is_arn(b) && short_task_definition(a) == short_task_definition(b)
}

/// `family:revision` of a task definition ARN; anything else unchanged.
pub(super) fn short_task_definition(task_definition: &str) -> &str {
    task_definition
        .split_once(":task-definition/")
        .map_or(task_definition, |(_, short)| short)
}
