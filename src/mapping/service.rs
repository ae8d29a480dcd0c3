//! EcsService spec to CreateService/UpdateService requests, drift between spec and what
//! DescribeServices reports, readiness of the rollout, status facts, and which ECS service events
//! still need mirroring. Pure: no client, no I/O.

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
    DeploymentAlarms, DeploymentCircuitBreaker, DeploymentConfiguration, EcsServiceSpec,
    EcsServiceStatus, LoadBalancer, NetworkConfiguration, PlacementConstraint, PlacementStrategy,
    ServiceConnectConfiguration, ServiceDeploymentStatus, ServiceRegistry,
};
use crate::{Error, Result};

/// Label key of the scale subresource's selector (`status.selector`).
pub const SELECTOR_LABEL: &str = "ecs.operator.dev/service";

/// At most this many ECS service events are mirrored per pass, the newest ones, so a new object
/// (or a lost cursor) does not replay the up to 100 events ECS keeps.
pub const MAX_MIRRORED_EVENTS: usize = 20;

const DAEMON: &str = "DAEMON";
const ECS_CONTROLLER: &str = "ECS";

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
            .set_force_new_deployment(force_new_deployment.then_some(true));
    }
    Ok(input)
}

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

/// Where the rollout of the desired task definition stands, from DescribeServices.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Rollout {
    /// The primary deployment runs the desired task definition, has completed, and the service
    /// runs desiredCount tasks.
    Ready,
    /// Not there yet; the message says what ECS is doing.
    InProgress { message: String },
    /// A deployment of the desired task definition failed (and ECS may have rolled back):
    /// retrying the same revision will not help.
    Failed { message: String },
    /// The service is DRAINING or INACTIVE (being deleted, or deleted outside the operator).
    NotActive { status: String },
}

/// Readiness of `service` (one DescribeServices entry) for `desired_task_definition_arn`.
pub fn rollout(service: &Service, desired_task_definition_arn: &str) -> Rollout {
    match service.status.as_deref() {
        Some("ACTIVE") => {}
        Some(status) => {
            return Rollout::NotActive {
                status: status.to_owned(),
            };
        }
        None => return in_progress("ECS has not reported the service status yet".into()),
    }
    let deployments = service.deployments();
    let desired = desired_task_definition_arn;
    let primary = deployments
        .iter()
        .find(|d| d.status.as_deref() == Some("PRIMARY"));

    // A failed deployment of the desired revision is final, whether ECS rolled back (the primary
    // then runs an older revision) or not (the primary is the failed one).
    if let Some(failed) = failed_deployment(service, desired) {
        let mut message = format!(
            "deployment {} of {} failed: {}",
            failed.id.as_deref().unwrap_or("?"),
            short_task_definition(desired),
            failed
                .rollout_state_reason
                .as_deref()
                .unwrap_or("no reason given"),
        );
        if let Some(td) = primary
            .and_then(|p| p.task_definition.as_deref())
            .filter(|td| !same_task_definition(td, desired))
        {
            message.push_str(&format!(
                "; ECS rolled the service back to {}",
                short_task_definition(td)
            ));
        }
        return Rollout::Failed { message };
    }

    let Some(primary) = primary else {
        // No deployments: the CODE_DEPLOY and EXTERNAL controllers work with task sets. Judge by
        // the service's task definition and counts.
        if let Some(td) = service
            .task_definition
            .as_deref()
            .filter(|td| !same_task_definition(td, desired))
        {
            return in_progress(format!(
                "the service runs {}, waiting for {}",
                short_task_definition(td),
                short_task_definition(desired)
            ));
        }
        return counts(service).unwrap_or(Rollout::Ready);
    };

    let primary_td = primary.task_definition.as_deref().unwrap_or("?");
    if !same_task_definition(primary_td, desired) {
        return in_progress(format!(
            "waiting for a deployment of {}; the primary deployment runs {}",
            short_task_definition(desired),
            short_task_definition(primary_td)
        ));
    }
    let id = primary.id.as_deref().unwrap_or("?");
    let progress = || {
        let message = format!(
            "deployment {id} of {} in progress: {} of {} tasks running, {} pending{}",
            short_task_definition(desired),
            primary.running_count,
            // A deployment ECS has just created reports 0 desired until its scheduler has run:
            // the service's count is what it works toward.
            if primary.desired_count == 0 {
                service.desired_count
            } else {
                primary.desired_count
            },
            primary.pending_count,
            if primary.failed_tasks > 0 {
                format!(", {} failed to start", primary.failed_tasks)
            } else {
                String::new()
            },
        );
        in_progress(with_problem(message, service, primary.created_at()))
    };
    match &primary.rollout_state {
        Some(DeploymentRolloutState::Completed) => {}
        Some(DeploymentRolloutState::Failed) => {
            return Rollout::Failed {
                message: format!(
                    "deployment {id} failed: {}",
                    primary
                        .rollout_state_reason
                        .as_deref()
                        .unwrap_or("no reason given")
                ),
            };
        }
        Some(DeploymentRolloutState::InProgress) => return progress(),
        // Older services and deployments without a circuit breaker may omit the rollout state:
        // steady when the primary is the only deployment and runs all its tasks.
        _ => {
            if deployments.len() > 1 || primary.running_count != primary.desired_count {
                return progress();
            }
        }
    }
    counts(service).unwrap_or(Rollout::Ready)
}

/// A deployment of `task_definition` whose rollout FAILED, if ECS still lists one.
fn failed_deployment<'a>(
    service: &'a Service,
    task_definition: &str,
) -> Option<&'a ecs::Deployment> {
    service.deployments().iter().find(|d| {
        d.rollout_state == Some(DeploymentRolloutState::Failed)
            && d.task_definition
                .as_deref()
                .is_some_and(|td| same_task_definition(td, task_definition))
    })
}

/// InProgress when the service does not run desiredCount tasks yet (or still runs more).
fn counts(service: &Service) -> Option<Rollout> {
    let (running, desired) = (service.running_count, service.desired_count);
    (running != desired).then(|| {
        let message = if running > desired {
            format!("scaling in: {running} tasks running, {desired} desired")
        } else {
            format!(
                "{running} of {desired} tasks running, {} pending",
                service.pending_count
            )
        };
        in_progress(with_problem(message, service, None))
    })
}

/// Service event messages that say why a rollout does not progress.
const PROBLEMS: &[&str] = &[
    "was unable to place a task",
    "is unable to consistently start tasks",
    "because of the service deployment configuration",
    "failed container health checks",
    "is unhealthy in",
];

/// `message`, with ECS's newest event that explains a stuck rollout (one newer than `since`,
/// when given) appended: the answer to "why is it not progressing?" in the condition itself.
fn with_problem(
    message: String,
    service: &Service,
    since: Option<&aws_smithy_types::DateTime>,
) -> String {
    // ECS lists its events newest first.
    let problem = service.events().iter().find(|e| {
        let newer = match (since, e.created_at()) {
            (Some(since), Some(at)) => at.secs() >= since.secs(),
            _ => true,
        };
        newer
            && e.message()
                .is_some_and(|m| PROBLEMS.iter().any(|p| m.contains(p)))
    });
    match problem.and_then(|e| e.message()) {
        Some(text) => format!("{message}; ECS: {text}"),
        None => message,
    }
}

fn in_progress(message: String) -> Rollout {
    Rollout::InProgress { message }
}

/// The ECS facts of the status: ARNs, ECS status, counts, task definition and deployments. The
/// caller adds conditions, observedGeneration, selector and the event and restart bookkeeping.
pub fn status_facts(service: &Service) -> EcsServiceStatus {
    let primary_td = service
        .deployments()
        .iter()
        .find(|d| d.status.as_deref() == Some("PRIMARY"))
        .and_then(|d| d.task_definition.clone());
    let task_definition_arn = service.task_definition.clone().or(primary_td);
    EcsServiceStatus {
        service_arn: service.service_arn.clone(),
        service_name: service.service_name.clone(),
        cluster_arn: service.cluster_arn.clone(),
        status: service.status.clone(),
        desired_count: Some(service.desired_count),
        running_count: Some(service.running_count),
        pending_count: Some(service.pending_count),
        replicas: Some(service.running_count),
        task_definition_revision: task_definition_arn
            .as_deref()
            .and_then(task_definition_revision),
        task_definition_arn,
        deployments: service
            .deployments()
            .iter()
            .map(deployment_status)
            .collect(),
        created_at: service
            .created_at
            .as_ref()
            .and_then(timestamp)
            .map(|t| t.to_string()),
        ..EcsServiceStatus::default()
    }
}

fn deployment_status(d: &ecs::Deployment) -> ServiceDeploymentStatus {
    ServiceDeploymentStatus {
        id: d.id.clone(),
        status: d.status.clone(),
        rollout_state: d.rollout_state.as_ref().map(|s| s.as_str().to_owned()),
        rollout_state_reason: d.rollout_state_reason.clone(),
        task_definition: d.task_definition.clone(),
        desired_count: d.desired_count,
        running_count: d.running_count,
        pending_count: d.pending_count,
        failed_tasks: d.failed_tasks,
        created_at: d.created_at.as_ref().and_then(timestamp).map(Time),
        updated_at: d.updated_at.as_ref().and_then(timestamp).map(Time),
    }
}

/// Keeps a failed rollout failed. Once ECS has rolled back, the failed deployment leaves its list
/// and `rollout` alone would report the desired revision as merely not rolled out yet; the
/// operator remembers the failure (`failed` and its `message`, from status) so that it neither
/// reports progress nor redeploys the broken revision on the next resync.
pub fn remember_failure(
    rollout: Rollout,
    service: &Service,
    desired: &str,
    failed: Option<&str>,
    message: Option<&str>,
) -> Rollout {
    let rolled_back = failed == Some(desired) && service.task_definition() != Some(desired);
    match rollout {
        Rollout::InProgress { .. } | Rollout::Ready if rolled_back => Rollout::Failed {
            message: message.map(str::to_owned).unwrap_or_else(|| {
                format!(
                    "the deployment of {desired} failed and ECS rolled back to {}; register a new revision, or set \
                     ecs.operator.dev/restartedAt to try this one again",
                    service.task_definition().unwrap_or("the previous revision")
                )
            }),
        },
        other => other,
    }
}

/// A deployment of `desired` that status last recorded in progress and ECS no longer lists: it
/// ended without completing, and only ECS's deployment history ([`rolled_back`]) tells whether
/// ECS rolled it back (its circuit breaker, or a stop request; to an older revision, or to the
/// same one when it was a forced deployment) or a newer deployment replaced it. None in every
/// other case, so the history is read rarely.
pub fn vanished_deployment<'a>(
    recorded: &'a [ServiceDeploymentStatus],
    current: &Service,
    desired: &str,
) -> Option<&'a str> {
    recorded
        .iter()
        .filter(|d| d.rollout_state.as_deref() == Some("IN_PROGRESS"))
        .filter(|d| {
            d.task_definition
                .as_deref()
                .is_some_and(|td| same_task_definition(td, desired))
        })
        .filter_map(|d| d.id.as_deref())
        .find(|id| !current.deployments().iter().any(|d| d.id() == Some(*id)))
}

/// The Failed message for deployment `id` when ECS's service deployment history
/// (ListServiceDeployments) shows it rolled back, None otherwise. A service deployment names the
/// classic deployment through its target service revision, whose ARN ends in the deployment's
/// number (`.../service-revision/<cluster>/<service>/<digits>` for `ecs-svc/<digits>`).
pub fn rolled_back(
    history: &[ecs::ServiceDeploymentBrief],
    id: &str,
    desired: &str,
    current: &Service,
) -> Option<String> {
    let digits = id.strip_prefix("ecs-svc/")?;
    let brief = history.iter().find(|b| {
        b.target_service_revision_arn()
            .is_some_and(|arn| arn.rsplit('/').next() == Some(digits))
    })?;
    let status = brief.status()?.as_str();
    if !status.starts_with("ROLLBACK_") {
        return None;
    }
    let reason = brief
        .status_reason()
        .map(|r| format!(": {}", r.trim_end_matches('.')))
        .unwrap_or_default();
    // ECS's own words for the failure, from the service's events, when it still lists them.
    let said = current
        .events()
        .iter()
        .filter_map(|e| e.message())
        .find(|m| m.contains(&format!("(deployment {id}) deployment failed")))
        .and_then(|m| m.split_once("deployment failed: "))
        .map(|(_, why)| format!(": {}", why.trim_end_matches('.')))
        .unwrap_or_default();
    Some(format!(
        "deployment {id} of {} failed{said} and ECS rolled it back ({status}{reason}); ECS runs {}; register a \
         new revision, or set ecs.operator.dev/restartedAt to try this one again",
        short_task_definition(desired),
        current
            .task_definition()
            .map(short_task_definition)
            .unwrap_or("the previous revision"),
    ))
}

/// The revision an UpdateService sends. A revision ECS rolled back (`failed`) is deployed again
/// only on a restart (`restartedAt` changed); any other update (an autoscaler scaling, drift, a
/// change of another field) keeps the revision ECS runs, so a broken revision is not redeployed
/// in a loop. A new revision is not `failed`, so it always goes out.
pub fn revision_to_deploy<'a>(
    desired: &'a str,
    failed: Option<&str>,
    running: Option<&'a str>,
    restart: bool,
) -> &'a str {
    match running {
        Some(running) if failed == Some(desired) && !restart => running,
        _ => desired,
    }
}

/// The revision of a task definition ARN or `family:revision` (the number after the last colon).
pub fn task_definition_revision(task_definition: &str) -> Option<i64> {
    task_definition.rsplit_once(':')?.1.parse().ok()
}

/// `status.selector` for the object `name`: a valid label selector even for names longer than a
/// label value may be.
pub fn selector(name: &str) -> String {
    let mut value: String = name.chars().take(63).collect();
    while value.ends_with(['-', '.', '_']) {
        value.pop();
    }
    format!("{SELECTOR_LABEL}={value}")
}

/// The newest ECS service event already mirrored: its creation time and ID.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventCursor {
    pub time: Timestamp,
    pub id: String,
}

impl EventCursor {
    /// The cursor of `event`; None when ECS gave it no creation time.
    pub fn of(event: &ServiceEvent) -> Option<Self> {
        Some(Self {
            time: timestamp(event.created_at.as_ref()?)?,
            id: event.id.clone().unwrap_or_default(),
        })
    }

    /// The cursor kept in `status` (lastEventTime, lastEventId).
    pub fn from_status(status: &EcsServiceStatus) -> Option<Self> {
        Some(Self {
            time: status.last_event_time.as_deref()?.parse().ok()?,
            id: status.last_event_id.clone().unwrap_or_default(),
        })
    }

    /// Writes the cursor into `status`, with full sub-second precision.
    pub fn write_to(&self, status: &mut EcsServiceStatus) {
        status.last_event_time = Some(self.time.to_string());
        status.last_event_id = Some(self.id.clone());
    }

    fn is_before(&self, time: Timestamp, id: &str) -> bool {
        (self.time, self.id.as_str()) < (time, id)
    }
}

/// The events of `events` (DescribeServices order, newest first) newer than `cursor`, oldest
/// first, at most the MAX_MIRRORED_EVENTS newest of them. Events at the same instant are ordered
/// by ID, so the cursor stays exact across restarts. Events without a creation time are skipped.
pub fn events_to_mirror<'a>(
    events: &'a [ServiceEvent],
    cursor: Option<&EventCursor>,
) -> Vec<&'a ServiceEvent> {
    let mut newer: Vec<(Timestamp, &str, &ServiceEvent)> = events
        .iter()
        .filter_map(|e| {
            Some((
                timestamp(e.created_at.as_ref()?)?,
                e.id.as_deref().unwrap_or(""),
                e,
            ))
        })
        .filter(|(time, id, _)| cursor.is_none_or(|c| c.is_before(*time, id)))
        .collect();
    newer.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
    newer.dedup_by(|a, b| (a.0, a.1) == (b.0, b.1));
    let skip = newer.len().saturating_sub(MAX_MIRRORED_EVENTS);
    newer.into_iter().skip(skip).map(|(_, _, e)| e).collect()
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
                .build()
        })
        .collect()
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

fn deployment_configuration(d: &DeploymentConfiguration) -> Result<ecs::DeploymentConfiguration> {
    let alarms = d
        .alarms
        .as_ref()
        .map(|a| {
            ecs::DeploymentAlarms::builder()
                .set_alarm_names(Some(a.alarm_names.clone()))
                .enable(a.enable)
                .rollback(a.rollback)
                .build()
        })
        .transpose()
        .map_err(build_error("deploymentConfiguration.alarms"))?;
    Ok(ecs::DeploymentConfiguration::builder()
        .set_maximum_percent(d.maximum_percent)
        .set_minimum_healthy_percent(d.minimum_healthy_percent)
        .set_deployment_circuit_breaker(d.deployment_circuit_breaker.as_ref().map(|c| {
            ecs::DeploymentCircuitBreaker::builder()
                .enable(c.enable)
                .rollback(c.rollback)
                .build()
        }))
        .set_alarms(alarms)
        .build())
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

// --- comparisons ---------------------------------------------------------------------------------

type CapacityKey = (String, i32, i32);
type LoadBalancerKey = (Option<String>, Option<String>, Option<String>, Option<i32>);
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
    (
        l.target_group_arn.clone(),
        l.load_balancer_name.clone(),
        l.container_name.clone(),
        l.container_port,
    )
}

fn ecs_load_balancer_key(l: &ecs::LoadBalancer) -> LoadBalancerKey {
    (
        l.target_group_arn.clone(),
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

fn deployment_configuration_drift(
    spec: Option<&DeploymentConfiguration>,
    current: Option<&ecs::DeploymentConfiguration>,
) -> bool {
    let (Some(want), Some(cur)) = (spec, current) else {
        return false;
    };
    let circuit_breaker = |a: &DeploymentCircuitBreaker| (a.enable, a.rollback);
    let alarms =
        |a: &DeploymentAlarms| (a.enable, a.rollback, sorted(a.alarm_names.iter().cloned()));
    differs_if_both(want.maximum_percent, cur.maximum_percent)
        || differs_if_both(want.minimum_healthy_percent, cur.minimum_healthy_percent)
        || differs_if_both(
            want.deployment_circuit_breaker
                .as_ref()
                .map(circuit_breaker),
            cur.deployment_circuit_breaker
                .as_ref()
                .map(|b| (b.enable, b.rollback)),
        )
        || differs_if_both(
            want.alarms.as_ref().map(alarms),
            cur.alarms
                .as_ref()
                .map(|a| (a.enable, a.rollback, sorted(a.alarm_names.iter().cloned()))),
        )
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

fn differs_if_both<T: PartialEq>(want: Option<T>, current: Option<T>) -> bool {
    matches!((want, current), (Some(a), Some(b)) if a != b)
}

fn sorted<T: Ord>(items: impl Iterator<Item = T>) -> Vec<T> {
    let mut items: Vec<T> = items.collect();
    items.sort();
    items
}

/// True when both name the same task definition; one side may be an ARN and the other
/// `family:revision` (ECS may store what it was given).
fn same_task_definition(a: &str, b: &str) -> bool {
    let is_arn = |td: &str| td.starts_with("arn:");
    a == b || is_arn(a) != is_arn(b) && short_task_definition(a) == short_task_definition(b)
}

/// `family:revision` of a task definition ARN; anything else unchanged.
fn short_task_definition(task_definition: &str) -> &str {
    task_definition
        .split_once(":task-definition/")
        .map_or(task_definition, |(_, short)| short)
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
pub mod stopped_tasks;

#[cfg(test)]
mod tests;

#[cfg(test)]
mod plan_tests;

#[cfg(test)]
mod remembered_failure_tests;
