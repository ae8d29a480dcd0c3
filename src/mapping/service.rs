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

/// The CreateService request for `spec`. `desired_count` is what the service starts with
/// (spec.desiredCount, else 1); `tags` are the spec's plus the ownership tags; `client_token` makes
/// the call idempotent (the object's uid).
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
        in_progress(format!(
            "deployment {id} of {} in progress: {} of {} tasks running, {} pending{}",
            short_task_definition(desired),
            primary.running_count,
            primary.desired_count,
            primary.pending_count,
            if primary.failed_tasks > 0 {
                format!(", {} failed to start", primary.failed_tasks)
            } else {
                String::new()
            },
        ))
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

/// InProgress when the service does not run desiredCount tasks yet.
fn counts(service: &Service) -> Option<Rollout> {
    (service.running_count != service.desired_count).then(|| {
        in_progress(format!(
            "{} of {} tasks running, {} pending",
            service.running_count, service.desired_count, service.pending_count
        ))
    })
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
/// operator remembers the failure (`failed`, from status) so that it neither reports progress nor
/// redeploys the broken revision on the next resync.
pub fn remember_failure(
    rollout: Rollout,
    service: &Service,
    desired: &str,
    failed: Option<&str>,
) -> Rollout {
    let rolled_back = failed == Some(desired) && service.task_definition() != Some(desired);
    match rollout {
        Rollout::InProgress { .. } | Rollout::Ready if rolled_back => Rollout::Failed {
            message: format!(
                "the deployment of {desired} failed and ECS rolled back to {}; register a new revision, or set \
                 ecs.operator.dev/restartedAt to try this one again",
                service.task_definition().unwrap_or("the previous revision")
            ),
        },
        other => other,
    }
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

fn capacity_provider_strategy(
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

fn network_configuration(n: &NetworkConfiguration) -> Result<ecs::NetworkConfiguration> {
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

fn placement_constraints(items: &[PlacementConstraint]) -> Vec<ecs::PlacementConstraint> {
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

fn placement_strategy(items: &[PlacementStrategy]) -> Vec<ecs::PlacementStrategy> {
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

fn non_empty<T>(items: Vec<T>) -> Option<Vec<T>> {
    (!items.is_empty()).then_some(items)
}

fn timestamp(t: &aws_smithy_types::DateTime) -> Option<Timestamp> {
    Timestamp::new(t.secs(), i32::try_from(t.subsec_nanos()).ok()?).ok()
}

fn invalid<T>(message: &str) -> Result<T> {
    Err(Error::InvalidSpec(message.to_owned()))
}

fn build_error(what: &'static str) -> impl Fn(BuildError) -> Error {
    move |e| Error::InvalidSpec(format!("{what}: {e}"))
}

#[cfg(test)]
mod tests {
    use aws_sdk_ecs::types::{
        AssignPublicIp, AvailabilityZoneRebalancing, Deployment, DeploymentControllerType,
        LaunchType, PlacementStrategyType, PropagateTags, SchedulingStrategy,
    };
    use aws_smithy_types::DateTime;

    use super::*;
    use crate::api::common::{LocalObjectReference, Tag};
    use crate::api::service::{
        AwsVpcConfiguration, DeploymentController, ServiceConnectClientAlias,
        ServiceConnectLogConfiguration, ServiceConnectSecret, ServiceConnectService,
    };

    const TD7: &str = "arn:aws:ecs:eu-west-1:123456789012:task-definition/web:7";
    const TD8: &str = "arn:aws:ecs:eu-west-1:123456789012:task-definition/web:8";
    const TG: &str =
        "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web/0123456789abcdef";
    const REGISTRY: &str = "arn:aws:servicediscovery:eu-west-1:123456789012:service/srv-abc";

    fn minimal_spec() -> EcsServiceSpec {
        EcsServiceSpec {
            cluster_ref: Some(LocalObjectReference {
                name: "main".into(),
            }),
            task_definition_ref: Some(LocalObjectReference { name: "web".into() }),
            ..Default::default()
        }
    }

    /// Every field set, as a Fargate service behind an ALB with Service Connect.
    fn full_spec() -> EcsServiceSpec {
        EcsServiceSpec {
            service_name: Some("web-svc".into()),
            desired_count: Some(3),
            capacity_provider_strategy: vec![
                CapacityProviderStrategyItem {
                    capacity_provider: "FARGATE".into(),
                    weight: Some(1),
                    base: Some(1),
                },
                CapacityProviderStrategyItem {
                    capacity_provider: "FARGATE_SPOT".into(),
                    weight: Some(3),
                    base: None,
                },
            ],
            platform_version: Some("1.4.0".into()),
            network_configuration: Some(NetworkConfiguration {
                awsvpc_configuration: Some(AwsVpcConfiguration {
                    subnets: vec!["subnet-a".into(), "subnet-b".into()],
                    security_groups: vec!["sg-1".into()],
                    assign_public_ip: Some("DISABLED".into()),
                }),
            }),
            load_balancers: vec![LoadBalancer {
                target_group_arn: Some(TG.into()),
                load_balancer_name: None,
                container_name: Some("web".into()),
                container_port: Some(8080),
            }],
            service_registries: vec![ServiceRegistry {
                registry_arn: Some(REGISTRY.into()),
                port: Some(8080),
                container_name: None,
                container_port: None,
            }],
            health_check_grace_period_seconds: Some(30),
            deployment_configuration: Some(DeploymentConfiguration {
                maximum_percent: Some(200),
                minimum_healthy_percent: Some(50),
                deployment_circuit_breaker: Some(DeploymentCircuitBreaker {
                    enable: true,
                    rollback: true,
                }),
                alarms: Some(DeploymentAlarms {
                    alarm_names: vec!["web-5xx".into()],
                    enable: true,
                    rollback: false,
                }),
            }),
            deployment_controller: Some(DeploymentController {
                type_: "ECS".into(),
            }),
            placement_constraints: vec![],
            placement_strategy: vec![],
            scheduling_strategy: Some("REPLICA".into()),
            enable_execute_command: Some(true),
            enable_ecs_managed_tags: Some(true),
            propagate_tags: Some("SERVICE".into()),
            service_connect_configuration: Some(ServiceConnectConfiguration {
                enabled: true,
                namespace: Some("internal".into()),
                services: vec![ServiceConnectService {
                    port_name: "http".into(),
                    discovery_name: Some("web".into()),
                    client_aliases: vec![ServiceConnectClientAlias {
                        port: 80,
                        dns_name: Some("web.internal".into()),
                    }],
                    ingress_port_override: Some(15000),
                }],
                log_configuration: Some(ServiceConnectLogConfiguration {
                    log_driver: "awslogs".into(),
                    options: [("awslogs-group".to_string(), "/ecs/web-sc".to_string())].into(),
                    secret_options: vec![ServiceConnectSecret {
                        name: "token".into(),
                        value_from: "arn:aws:ssm:eu-west-1:123456789012:parameter/token".into(),
                    }],
                }),
            }),
            availability_zone_rebalancing: Some("ENABLED".into()),
            tags: vec![Tag {
                key: "team".into(),
                value: "web".into(),
            }],
            ..minimal_spec()
        }
    }

    /// An EC2 service with placement rules.
    fn ec2_spec() -> EcsServiceSpec {
        EcsServiceSpec {
            launch_type: Some("EC2".into()),
            placement_constraints: vec![PlacementConstraint {
                type_: "memberOf".into(),
                expression: Some("attribute:ecs.instance-type =~ t3.*".into()),
            }],
            placement_strategy: vec![
                PlacementStrategy {
                    type_: "spread".into(),
                    field: Some("attribute:ecs.availability-zone".into()),
                },
                PlacementStrategy {
                    type_: "binpack".into(),
                    field: Some("memory".into()),
                },
            ],
            ..minimal_spec()
        }
    }

    fn owner_tags() -> Vec<ecs::Tag> {
        vec![
            ecs::Tag::builder().key("team").value("web").build(),
            ecs::Tag::builder()
                .key("ecs.operator.dev/owner")
                .value("default/web")
                .build(),
        ]
    }

    fn invalid_message(result: Result<impl std::fmt::Debug>) -> String {
        match result {
            Err(Error::InvalidSpec(message)) => message,
            other => panic!("expected InvalidSpec, got {other:?}"),
        }
    }

    fn at(secs: i64, millis: u32) -> DateTime {
        DateTime::from_secs_and_nanos(secs, millis * 1_000_000)
    }

    fn deployment(
        id: &str,
        status: &str,
        td: &str,
        state: Option<DeploymentRolloutState>,
        counts: (i32, i32, i32),
    ) -> Deployment {
        let (desired, running, pending) = counts;
        Deployment::builder()
            .id(id)
            .status(status)
            .task_definition(td)
            .desired_count(desired)
            .running_count(running)
            .pending_count(pending)
            .failed_tasks(0)
            .set_rollout_state(state.clone())
            .set_rollout_state_reason(state.map(|s| match s {
                DeploymentRolloutState::Completed => format!("ECS deployment {id} completed."),
                _ => format!("ECS deployment {id} in progress."),
            }))
            .created_at(at(1_700_000_000, 0))
            .updated_at(at(1_700_000_300, 250))
            .launch_type(LaunchType::Fargate)
            .platform_version("1.4.0")
            .build()
    }

    /// A service as DescribeServices returns it, in steady state on `td`.
    fn service(td: &str, deployments: Vec<Deployment>, counts: (i32, i32, i32)) -> Service {
        let (desired, running, pending) = counts;
        Service::builder()
            .service_arn("arn:aws:ecs:eu-west-1:123456789012:service/main/web-svc")
            .service_name("web-svc")
            .cluster_arn("arn:aws:ecs:eu-west-1:123456789012:cluster/main")
            .status("ACTIVE")
            .desired_count(desired)
            .running_count(running)
            .pending_count(pending)
            .task_definition(td)
            .set_deployments(Some(deployments))
            .scheduling_strategy(SchedulingStrategy::Replica)
            .deployment_controller(
                ecs::DeploymentController::builder()
                    .r#type(DeploymentControllerType::Ecs)
                    .build()
                    .unwrap(),
            )
            .build()
    }

    fn steady(td: &str, count: i32) -> Service {
        service(
            td,
            vec![deployment(
                "ecs-svc/1111",
                "PRIMARY",
                td,
                Some(DeploymentRolloutState::Completed),
                (count, count, 0),
            )],
            (count, count, 0),
        )
    }

    /// What real ECS reports for `full_spec()`: everything echoed, defaults filled in.
    fn ecs_view_of_full_spec() -> Service {
        let sc = service_connect_configuration(
            full_spec().service_connect_configuration.as_ref().unwrap(),
        )
        .unwrap();
        let mut primary = deployment(
            "ecs-svc/1111",
            "PRIMARY",
            TD8,
            Some(DeploymentRolloutState::Completed),
            (3, 3, 0),
        );
        primary.service_connect_configuration = Some(sc);
        let mut s = service(TD8, vec![primary], (3, 3, 0));
        s.capacity_provider_strategy = Some(vec![
            ecs::CapacityProviderStrategyItem::builder()
                .capacity_provider("FARGATE_SPOT")
                .weight(3)
                .base(0)
                .build()
                .unwrap(),
            ecs::CapacityProviderStrategyItem::builder()
                .capacity_provider("FARGATE")
                .weight(1)
                .base(1)
                .build()
                .unwrap(),
        ]);
        s.platform_version = Some("1.4.0".into());
        s.platform_family = Some("Linux".into());
        s.network_configuration = Some(
            ecs::NetworkConfiguration::builder()
                .awsvpc_configuration(
                    ecs::AwsVpcConfiguration::builder()
                        .subnets("subnet-b")
                        .subnets("subnet-a")
                        .security_groups("sg-1")
                        .assign_public_ip(AssignPublicIp::Disabled)
                        .build()
                        .unwrap(),
                )
                .build(),
        );
        s.load_balancers = Some(vec![
            ecs::LoadBalancer::builder()
                .target_group_arn(TG)
                .container_name("web")
                .container_port(8080)
                .build(),
        ]);
        s.service_registries = Some(vec![
            ecs::ServiceRegistry::builder()
                .registry_arn(REGISTRY)
                .port(8080)
                .build(),
        ]);
        s.health_check_grace_period_seconds = Some(30);
        s.deployment_configuration = Some(
            ecs::DeploymentConfiguration::builder()
                .maximum_percent(200)
                .minimum_healthy_percent(50)
                .deployment_circuit_breaker(
                    ecs::DeploymentCircuitBreaker::builder()
                        .enable(true)
                        .rollback(true)
                        .build(),
                )
                .alarms(
                    ecs::DeploymentAlarms::builder()
                        .alarm_names("web-5xx")
                        .enable(true)
                        .rollback(false)
                        .build()
                        .unwrap(),
                )
                .build(),
        );
        s.placement_constraints = Some(vec![]);
        s.placement_strategy = Some(vec![]);
        s.enable_execute_command = true;
        s.enable_ecs_managed_tags = true;
        s.propagate_tags = Some(PropagateTags::Service);
        s.availability_zone_rebalancing = Some(AvailabilityZoneRebalancing::Enabled);
        s
    }

    /// What the moto emulator reports for `full_spec()`: no deploymentConfiguration, capacity
    /// provider strategy, placement or grace period; the two flags absent (false in the SDK).
    fn emulator_view_of_full_spec() -> Service {
        let mut s = ecs_view_of_full_spec();
        s.capacity_provider_strategy = None;
        s.deployment_configuration = None;
        s.placement_constraints = None;
        s.placement_strategy = None;
        s.health_check_grace_period_seconds = None;
        s.enable_execute_command = false;
        s.enable_ecs_managed_tags = false;
        s.availability_zone_rebalancing = None;
        for d in s.deployments.iter_mut().flatten() {
            d.service_connect_configuration = None;
        }
        s
    }

    // --- validate / create_input ---

    #[test]
    fn create_input_maps_every_field() {
        let input = create_input(
            &full_spec(),
            "web-svc",
            "main",
            TD8,
            3,
            owner_tags(),
            "uid-1",
        )
        .unwrap()
        .build()
        .unwrap();
        assert_eq!(input.cluster(), Some("main"));
        assert_eq!(input.service_name(), Some("web-svc"));
        assert_eq!(input.task_definition(), Some(TD8));
        assert_eq!(input.desired_count(), Some(3));
        assert_eq!(input.client_token(), Some("uid-1"));
        assert_eq!(input.launch_type(), None);
        let cps = input.capacity_provider_strategy();
        assert_eq!(cps.len(), 2);
        assert_eq!(
            (cps[0].capacity_provider(), cps[0].weight(), cps[0].base()),
            ("FARGATE", 1, 1)
        );
        assert_eq!(
            (cps[1].capacity_provider(), cps[1].weight(), cps[1].base()),
            ("FARGATE_SPOT", 3, 0)
        );
        assert_eq!(input.platform_version(), Some("1.4.0"));
        let vpc = input
            .network_configuration()
            .unwrap()
            .awsvpc_configuration()
            .unwrap();
        assert_eq!(vpc.subnets(), ["subnet-a", "subnet-b"]);
        assert_eq!(vpc.security_groups(), ["sg-1"]);
        assert_eq!(vpc.assign_public_ip(), Some(&AssignPublicIp::Disabled));
        let lb = &input.load_balancers()[0];
        assert_eq!(
            (
                lb.target_group_arn(),
                lb.load_balancer_name(),
                lb.container_name(),
                lb.container_port()
            ),
            (Some(TG), None, Some("web"), Some(8080))
        );
        let registry = &input.service_registries()[0];
        assert_eq!(
            (registry.registry_arn(), registry.port()),
            (Some(REGISTRY), Some(8080))
        );
        assert_eq!(input.health_check_grace_period_seconds(), Some(30));
        let dc = input.deployment_configuration().unwrap();
        assert_eq!(
            (dc.maximum_percent(), dc.minimum_healthy_percent()),
            (Some(200), Some(50))
        );
        let cb = dc.deployment_circuit_breaker().unwrap();
        assert!(cb.enable() && cb.rollback());
        let alarms = dc.alarms().unwrap();
        assert_eq!(alarms.alarm_names(), ["web-5xx"]);
        assert!(alarms.enable() && !alarms.rollback());
        assert_eq!(
            input.deployment_controller().unwrap().r#type(),
            &DeploymentControllerType::Ecs
        );
        assert!(input.placement_constraints().is_empty() && input.placement_strategy().is_empty());
        assert_eq!(
            input.scheduling_strategy(),
            Some(&SchedulingStrategy::Replica)
        );
        assert_eq!(input.enable_execute_command(), Some(true));
        assert_eq!(input.enable_ecs_managed_tags(), Some(true));
        assert_eq!(input.propagate_tags(), Some(&PropagateTags::Service));
        let sc = input.service_connect_configuration().unwrap();
        assert!(sc.enabled());
        assert_eq!(sc.namespace(), Some("internal"));
        let svc = &sc.services()[0];
        assert_eq!(
            (
                svc.port_name(),
                svc.discovery_name(),
                svc.ingress_port_override()
            ),
            ("http", Some("web"), Some(15000))
        );
        assert_eq!(
            (
                svc.client_aliases()[0].port(),
                svc.client_aliases()[0].dns_name()
            ),
            (80, Some("web.internal"))
        );
        let log = sc.log_configuration().unwrap();
        assert_eq!(log.log_driver(), &ecs::LogDriver::Awslogs);
        assert_eq!(
            log.options()
                .unwrap()
                .get("awslogs-group")
                .map(String::as_str),
            Some("/ecs/web-sc")
        );
        assert_eq!(log.secret_options()[0].name(), "token");
        assert_eq!(
            input.availability_zone_rebalancing(),
            Some(&AvailabilityZoneRebalancing::Enabled)
        );
        assert_eq!(input.tags().len(), 2);
    }

    #[test]
    fn create_input_maps_launch_type_and_placement() {
        let input = create_input(
            &ec2_spec(),
            "web",
            "arn:aws:ecs:eu-west-1:1:cluster/x",
            TD8,
            1,
            vec![],
            "uid",
        )
        .unwrap()
        .build()
        .unwrap();
        assert_eq!(input.launch_type(), Some(&LaunchType::Ec2));
        assert_eq!(
            input.placement_constraints()[0].r#type(),
            Some(&ecs::PlacementConstraintType::MemberOf)
        );
        assert_eq!(
            input.placement_constraints()[0].expression(),
            Some("attribute:ecs.instance-type =~ t3.*")
        );
        let strategy: Vec<_> = input
            .placement_strategy()
            .iter()
            .map(|s| (s.r#type().cloned(), s.field()))
            .collect();
        assert_eq!(
            strategy,
            [
                (
                    Some(PlacementStrategyType::Spread),
                    Some("attribute:ecs.availability-zone")
                ),
                (Some(PlacementStrategyType::Binpack), Some("memory")),
            ]
        );
    }

    #[test]
    fn create_input_leaves_unset_fields_out() {
        let input = create_input(&minimal_spec(), "web", "main", TD8, 1, vec![], "uid")
            .unwrap()
            .build()
            .unwrap();
        assert_eq!(input.desired_count(), Some(1));
        assert_eq!(input.launch_type(), None);
        assert_eq!(input.capacity_provider_strategy, None);
        assert_eq!(input.network_configuration(), None);
        assert_eq!(input.load_balancers, None);
        assert_eq!(input.service_registries, None);
        assert_eq!(input.placement_strategy, None);
        assert_eq!(input.deployment_configuration(), None);
        assert_eq!(input.deployment_controller(), None);
        assert_eq!(input.enable_execute_command(), None);
        assert_eq!(input.propagate_tags(), None);
        assert_eq!(input.tags, None);
    }

    #[test]
    fn create_input_sends_no_count_for_daemon() {
        let spec = EcsServiceSpec {
            scheduling_strategy: Some("DAEMON".into()),
            launch_type: Some("EC2".into()),
            ..minimal_spec()
        };
        let input = create_input(&spec, "agent", "main", TD8, 1, vec![], "uid")
            .unwrap()
            .build()
            .unwrap();
        assert_eq!(input.desired_count(), None);
        assert_eq!(
            input.scheduling_strategy(),
            Some(&SchedulingStrategy::Daemon)
        );
    }

    #[test]
    fn invalid_specs_are_rejected_with_what_to_fix() {
        let both = EcsServiceSpec {
            launch_type: Some("FARGATE".into()),
            capacity_provider_strategy: vec![CapacityProviderStrategyItem {
                capacity_provider: "FARGATE".into(),
                ..Default::default()
            }],
            ..minimal_spec()
        };
        assert!(
            invalid_message(create_input(&both, "web", "main", TD8, 1, vec![], "uid"))
                .contains("launchType")
        );
        let daemon_count = EcsServiceSpec {
            scheduling_strategy: Some("DAEMON".into()),
            desired_count: Some(2),
            ..minimal_spec()
        };
        assert!(invalid_message(validate(&daemon_count)).contains("DAEMON"));
        let negative = EcsServiceSpec {
            desired_count: Some(-1),
            ..minimal_spec()
        };
        assert!(invalid_message(validate(&negative)).contains("negative"));
        let two_clusters = EcsServiceSpec {
            cluster: Some("other".into()),
            ..minimal_spec()
        };
        assert!(invalid_message(validate(&two_clusters)).contains("clusterRef"));
        let no_task_definition = EcsServiceSpec {
            task_definition_ref: None,
            ..minimal_spec()
        };
        assert!(invalid_message(validate(&no_task_definition)).contains("taskDefinition"));
        assert!(validate(&full_spec()).is_ok());
    }

    // --- update_input ---

    #[test]
    fn update_input_sends_every_field_ecs_changes_in_place() {
        let input = update_input(&full_spec(), "web-svc", "main", TD8, Some(5), true)
            .unwrap()
            .build()
            .unwrap();
        assert_eq!(input.cluster(), Some("main"));
        assert_eq!(input.service(), Some("web-svc"));
        assert_eq!(input.task_definition(), Some(TD8));
        assert_eq!(input.desired_count(), Some(5));
        assert_eq!(input.force_new_deployment(), Some(true));
        assert_eq!(input.capacity_provider_strategy().len(), 2);
        assert!(input.deployment_configuration().is_some());
        assert!(input.network_configuration().is_some());
        assert_eq!(input.load_balancers().len(), 1);
        assert_eq!(input.service_registries().len(), 1);
        assert_eq!(input.platform_version(), Some("1.4.0"));
        assert_eq!(input.health_check_grace_period_seconds(), Some(30));
        assert_eq!(input.enable_execute_command(), Some(true));
        assert_eq!(input.enable_ecs_managed_tags(), Some(true));
        assert_eq!(input.propagate_tags(), Some(&PropagateTags::Service));
        assert!(input.service_connect_configuration().unwrap().enabled());
        assert_eq!(
            input.availability_zone_rebalancing(),
            Some(&AvailabilityZoneRebalancing::Enabled)
        );
        // Fargate capacity: placement is not touched, not even cleared.
        assert_eq!(input.placement_constraints, None);
        assert_eq!(input.placement_strategy, None);
        // Immutable in ECS: never sent.
        assert_eq!(input.deployment_controller(), None);
    }

    #[test]
    fn update_input_leaves_the_count_to_its_owner() {
        let input = update_input(&minimal_spec(), "web", "main", TD8, None, false)
            .unwrap()
            .build()
            .unwrap();
        assert_eq!(input.desired_count(), None);
        assert_eq!(input.force_new_deployment(), None);
        // Empty lists remove load balancers and registries that left the spec.
        assert_eq!(input.load_balancers, Some(vec![]));
        assert_eq!(input.service_registries, Some(vec![]));
        assert_eq!(input.capacity_provider_strategy, None);
        assert_eq!(input.network_configuration(), None);

        let daemon = EcsServiceSpec {
            scheduling_strategy: Some("DAEMON".into()),
            launch_type: Some("EC2".into()),
            ..minimal_spec()
        };
        assert_eq!(
            update_input(&daemon, "agent", "main", TD8, Some(3), false)
                .unwrap()
                .get_desired_count()
                .as_ref(),
            None
        );
    }

    #[test]
    fn update_input_clears_placement_only_where_placement_exists() {
        let placement = |spec: &EcsServiceSpec| {
            let input = update_input(spec, "web", "main", TD8, None, false)
                .unwrap()
                .build()
                .unwrap();
            (
                input.placement_constraints.map(|v| v.len()),
                input.placement_strategy.map(|v| v.len()),
            )
        };
        assert_eq!(placement(&ec2_spec()), (Some(1), Some(2)));
        let ec2_without = EcsServiceSpec {
            placement_constraints: vec![],
            placement_strategy: vec![],
            ..ec2_spec()
        };
        assert_eq!(placement(&ec2_without), (Some(0), Some(0)));
        let asg = EcsServiceSpec {
            capacity_provider_strategy: vec![CapacityProviderStrategyItem {
                capacity_provider: "asg-cp".into(),
                ..Default::default()
            }],
            ..minimal_spec()
        };
        assert_eq!(placement(&asg), (Some(0), Some(0)));
        let fargate = EcsServiceSpec {
            launch_type: Some("FARGATE".into()),
            ..minimal_spec()
        };
        assert_eq!(placement(&fargate), (None, None));
        // Cluster default strategy: unknown capacity, leave placement alone.
        assert_eq!(placement(&minimal_spec()), (None, None));
    }

    #[test]
    fn update_input_for_code_deploy_sends_only_what_ecs_accepts() {
        let spec = EcsServiceSpec {
            deployment_controller: Some(DeploymentController {
                type_: "CODE_DEPLOY".into(),
            }),
            ..full_spec()
        };
        let input = update_input(&spec, "web-svc", "main", TD8, Some(4), false)
            .unwrap()
            .build()
            .unwrap();
        assert_eq!(input.desired_count(), Some(4));
        assert!(input.deployment_configuration().is_some());
        assert_eq!(input.health_check_grace_period_seconds(), Some(30));
        assert_eq!(input.propagate_tags(), Some(&PropagateTags::Service));
        assert_eq!(input.task_definition(), None);
        assert_eq!(input.network_configuration(), None);
        assert_eq!(input.load_balancers, None);
        assert_eq!(input.service_registries, None);
        assert_eq!(input.platform_version(), None);
        assert_eq!(input.capacity_provider_strategy, None);
        assert_eq!(input.service_connect_configuration(), None);

        let external = EcsServiceSpec {
            deployment_controller: Some(DeploymentController {
                type_: "EXTERNAL".into(),
            }),
            ..full_spec()
        };
        let input = update_input(&external, "web-svc", "main", TD8, None, false)
            .unwrap()
            .build()
            .unwrap();
        assert_eq!(input.deployment_configuration(), None);
        assert_eq!(input.task_definition(), None);

        assert!(
            invalid_message(update_input(&spec, "web-svc", "main", TD8, None, true))
                .contains("restartedAt")
        );
    }

    // --- drift ---

    #[test]
    fn no_drift_when_ecs_matches_the_spec() {
        assert_eq!(
            drift(&full_spec(), TD8, &ecs_view_of_full_spec()),
            Vec::<&str>::new()
        );
    }

    #[test]
    fn fields_ecs_does_not_return_are_not_drift() {
        assert_eq!(
            drift(&full_spec(), TD8, &emulator_view_of_full_spec()),
            Vec::<&str>::new()
        );
        let mut bare = steady(TD8, 1);
        bare.load_balancers = None;
        bare.service_registries = None;
        assert_eq!(drift(&full_spec(), TD8, &bare), ["desiredCount"]);
    }

    #[test]
    fn drift_names_each_changed_field() {
        let mut s = ecs_view_of_full_spec();
        s.task_definition = Some(TD7.into());
        s.desired_count = 1;
        s.capacity_provider_strategy.as_mut().unwrap()[0].weight = 1;
        s.platform_version = Some("1.3.0".into());
        s.network_configuration = Some(
            ecs::NetworkConfiguration::builder()
                .awsvpc_configuration(
                    ecs::AwsVpcConfiguration::builder()
                        .subnets("subnet-a")
                        .security_groups("sg-1")
                        .build()
                        .unwrap(),
                )
                .build(),
        );
        s.load_balancers.as_mut().unwrap()[0].container_port = Some(80);
        s.service_registries = Some(vec![]);
        s.health_check_grace_period_seconds = Some(0);
        s.deployment_configuration
            .as_mut()
            .unwrap()
            .minimum_healthy_percent = Some(100);
        s.enable_execute_command = true;
        s.propagate_tags = Some(PropagateTags::None);
        s.availability_zone_rebalancing = Some(AvailabilityZoneRebalancing::Disabled);
        s.deployments.as_mut().unwrap()[0].service_connect_configuration = Some(
            ecs::ServiceConnectConfiguration::builder()
                .enabled(false)
                .build(),
        );
        let spec = EcsServiceSpec {
            enable_execute_command: Some(false),
            ..full_spec()
        };
        assert_eq!(
            drift(&spec, TD8, &s),
            [
                "taskDefinition",
                "desiredCount",
                "capacityProviderStrategy",
                "platformVersion",
                "networkConfiguration",
                "loadBalancers",
                "serviceRegistries",
                "enableExecuteCommand",
                "serviceConnectConfiguration",
                "availabilityZoneRebalancing",
                "healthCheckGracePeriodSeconds",
                "deploymentConfiguration",
                "propagateTags",
            ]
        );
    }

    #[test]
    fn desired_count_is_drift_only_when_the_spec_sets_it() {
        let scaled = steady(TD8, 7);
        assert!(drift(&minimal_spec(), TD8, &scaled).is_empty());
        let pinned = EcsServiceSpec {
            desired_count: Some(2),
            ..minimal_spec()
        };
        assert_eq!(drift(&pinned, TD8, &scaled), ["desiredCount"]);
    }

    #[test]
    fn order_and_case_ecs_does_not_keep_are_not_drift() {
        let mut s = steady(TD8, 1);
        s.launch_type = Some(LaunchType::Ec2);
        s.placement_constraints = Some(vec![
            ecs::PlacementConstraint::builder()
                .r#type(ecs::PlacementConstraintType::MemberOf)
                .expression("attribute:ecs.instance-type =~ t3.*")
                .build(),
        ]);
        s.placement_strategy = Some(vec![
            ecs::PlacementStrategy::builder()
                .r#type(PlacementStrategyType::Spread)
                .field("attribute:ecs.availability-zone")
                .build(),
            ecs::PlacementStrategy::builder()
                .r#type(PlacementStrategyType::Binpack)
                .field("MEMORY")
                .build(),
        ]);
        s.load_balancers = Some(vec![]);
        s.service_registries = Some(vec![]);
        assert!(drift(&ec2_spec(), TD8, &s).is_empty());

        // Strategy order is precedence: a swap is drift.
        s.placement_strategy.as_mut().unwrap().reverse();
        assert_eq!(drift(&ec2_spec(), TD8, &s), ["placementStrategy"]);
    }

    #[test]
    fn entries_removed_from_the_spec_are_drift_where_update_removes_them() {
        let mut s = ecs_view_of_full_spec();
        let spec = EcsServiceSpec {
            load_balancers: vec![],
            service_registries: vec![],
            ..full_spec()
        };
        assert_eq!(
            drift(&spec, TD8, &s),
            ["loadBalancers", "serviceRegistries"]
        );

        // Placement left behind on an EC2 service is removed; on unknown capacity it is left alone.
        s.placement_strategy = Some(vec![
            ecs::PlacementStrategy::builder()
                .r#type(PlacementStrategyType::Random)
                .build(),
        ]);
        let ec2 = EcsServiceSpec {
            placement_constraints: vec![],
            placement_strategy: vec![],
            ..ec2_spec()
        };
        let mut ec2_service = steady(TD8, 1);
        ec2_service.placement_strategy = s.placement_strategy.clone();
        assert_eq!(drift(&ec2, TD8, &ec2_service), ["placementStrategy"]);
        assert!(drift(&minimal_spec(), TD8, &ec2_service).is_empty());
    }

    #[test]
    fn a_rolled_back_revision_is_not_drift() {
        let mut failed = deployment(
            "ecs-svc/2222",
            "ACTIVE",
            TD8,
            Some(DeploymentRolloutState::Failed),
            (0, 0, 0),
        );
        failed.rollout_state_reason =
            Some("ECS deployment circuit breaker: tasks failed to start.".into());
        let s = service(
            TD7,
            vec![
                deployment(
                    "ecs-svc/3333",
                    "PRIMARY",
                    TD7,
                    Some(DeploymentRolloutState::Completed),
                    (1, 1, 0),
                ),
                failed,
            ],
            (1, 1, 0),
        );
        assert!(drift(&minimal_spec(), TD8, &s).is_empty());
        // A newer revision is deployed as usual.
        let td9 = "arn:aws:ecs:eu-west-1:123456789012:task-definition/web:9";
        assert_eq!(drift(&minimal_spec(), td9, &s), ["taskDefinition"]);
    }

    #[test]
    fn a_task_definition_stored_as_family_revision_matches_its_arn() {
        let s = steady("web:8", 1);
        assert!(drift(&minimal_spec(), TD8, &s).is_empty());
        assert_eq!(drift(&minimal_spec(), TD7, &s), ["taskDefinition"]);
        // Two ARNs must match exactly (another account's web:8 is another task definition).
        let other = steady(
            "arn:aws:ecs:us-east-1:999999999999:task-definition/web:8",
            1,
        );
        assert_eq!(drift(&minimal_spec(), TD8, &other), ["taskDefinition"]);
    }

    #[test]
    fn code_deploy_drift_leaves_out_what_update_cannot_fix() {
        let spec = EcsServiceSpec {
            deployment_controller: Some(DeploymentController {
                type_: "CODE_DEPLOY".into(),
            }),
            ..full_spec()
        };
        let mut s = ecs_view_of_full_spec();
        s.task_definition = Some(TD7.into());
        s.load_balancers = Some(vec![]);
        s.health_check_grace_period_seconds = Some(10);
        assert_eq!(drift(&spec, TD8, &s), ["healthCheckGracePeriodSeconds"]);
    }

    #[test]
    fn immutable_conflicts_name_what_only_replacement_fixes() {
        let mut s = steady(TD8, 1);
        s.launch_type = Some(LaunchType::Fargate);
        assert!(immutable_conflicts(&minimal_spec(), &s).is_empty());
        assert_eq!(immutable_conflicts(&ec2_spec(), &s), ["launchType"]);
        let daemon = EcsServiceSpec {
            scheduling_strategy: Some("DAEMON".into()),
            deployment_controller: Some(DeploymentController {
                type_: "CODE_DEPLOY".into(),
            }),
            ..minimal_spec()
        };
        assert_eq!(
            immutable_conflicts(&daemon, &s),
            ["schedulingStrategy", "deploymentController"]
        );
    }

    // --- rollout ---

    #[test]
    fn steady_state_is_ready() {
        assert_eq!(rollout(&steady(TD8, 3), TD8), Rollout::Ready);
        assert_eq!(rollout(&steady(TD8, 0), TD8), Rollout::Ready);
    }

    #[test]
    fn a_rollout_in_progress_is_not_ready() {
        let s = service(
            TD8,
            vec![
                deployment(
                    "ecs-svc/2222",
                    "PRIMARY",
                    TD8,
                    Some(DeploymentRolloutState::InProgress),
                    (3, 1, 2),
                ),
                deployment(
                    "ecs-svc/1111",
                    "ACTIVE",
                    TD7,
                    Some(DeploymentRolloutState::Completed),
                    (3, 3, 0),
                ),
            ],
            (3, 4, 2),
        );
        let Rollout::InProgress { message } = rollout(&s, TD8) else {
            panic!("expected InProgress")
        };
        assert_eq!(
            message,
            "deployment ecs-svc/2222 of web:8 in progress: 1 of 3 tasks running, 2 pending"
        );
    }

    #[test]
    fn a_circuit_breaker_rollback_is_failed_with_the_ecs_reason() {
        let mut failed = deployment(
            "ecs-svc/2222",
            "ACTIVE",
            TD8,
            Some(DeploymentRolloutState::Failed),
            (0, 0, 0),
        );
        failed.rollout_state_reason =
            Some("ECS deployment circuit breaker: tasks failed to start.".into());
        failed.failed_tasks = 4;
        let s = service(
            TD7,
            vec![
                deployment(
                    "ecs-svc/3333",
                    "PRIMARY",
                    TD7,
                    Some(DeploymentRolloutState::InProgress),
                    (3, 3, 0),
                ),
                failed,
            ],
            (3, 3, 0),
        );
        assert_eq!(
            rollout(&s, TD8),
            Rollout::Failed {
                message: "deployment ecs-svc/2222 of web:8 failed: ECS deployment circuit \
                          breaker: tasks failed to start.; ECS rolled the service back to web:7"
                    .into()
            }
        );
    }

    #[test]
    fn a_failed_primary_without_rollback_is_failed() {
        let mut primary = deployment(
            "ecs-svc/2222",
            "PRIMARY",
            TD8,
            Some(DeploymentRolloutState::Failed),
            (3, 0, 0),
        );
        primary.rollout_state_reason =
            Some("ECS deployment circuit breaker: tasks failed to start.".into());
        let s = service(TD8, vec![primary], (3, 0, 0));
        let Rollout::Failed { message } = rollout(&s, TD8) else {
            panic!("expected Failed")
        };
        assert!(message.ends_with("tasks failed to start."), "{message}");
        assert!(!message.contains("rolled"));
    }

    #[test]
    fn an_old_failure_does_not_fail_a_new_revision() {
        let mut old = deployment(
            "ecs-svc/2222",
            "ACTIVE",
            TD7,
            Some(DeploymentRolloutState::Failed),
            (0, 0, 0),
        );
        old.rollout_state_reason =
            Some("ECS deployment circuit breaker: tasks failed to start.".into());
        let s = service(
            TD8,
            vec![
                deployment(
                    "ecs-svc/3333",
                    "PRIMARY",
                    TD8,
                    Some(DeploymentRolloutState::InProgress),
                    (2, 1, 1),
                ),
                old,
            ],
            (2, 1, 1),
        );
        assert!(matches!(rollout(&s, TD8), Rollout::InProgress { .. }));
    }

    #[test]
    fn fewer_running_than_desired_is_not_ready() {
        let mut s = steady(TD8, 3);
        s.running_count = 2;
        s.pending_count = 1;
        assert_eq!(
            rollout(&s, TD8),
            Rollout::InProgress {
                message: "2 of 3 tasks running, 1 pending".into()
            }
        );
    }

    #[test]
    fn a_draining_service_is_not_active() {
        let mut s = steady(TD8, 0);
        s.status = Some("DRAINING".into());
        assert_eq!(
            rollout(&s, TD8),
            Rollout::NotActive {
                status: "DRAINING".into()
            }
        );
        s.status = Some("INACTIVE".into());
        assert_eq!(
            rollout(&s, TD8),
            Rollout::NotActive {
                status: "INACTIVE".into()
            }
        );
    }

    #[test]
    fn a_primary_on_another_revision_is_waited_for() {
        let Rollout::InProgress { message } = rollout(&steady(TD7, 2), TD8) else {
            panic!("expected InProgress")
        };
        assert_eq!(
            message,
            "waiting for a deployment of web:8; the primary deployment runs web:7"
        );
    }

    #[test]
    fn without_a_rollout_state_one_complete_deployment_is_ready() {
        let one = service(
            TD8,
            vec![deployment("ecs-svc/1", "PRIMARY", TD8, None, (2, 2, 0))],
            (2, 2, 0),
        );
        assert_eq!(rollout(&one, TD8), Rollout::Ready);
        let two = service(
            TD8,
            vec![
                deployment("ecs-svc/2", "PRIMARY", TD8, None, (2, 2, 0)),
                deployment("ecs-svc/1", "ACTIVE", TD7, None, (2, 1, 0)),
            ],
            (2, 3, 0),
        );
        assert!(matches!(rollout(&two, TD8), Rollout::InProgress { .. }));
        let short = service(
            TD8,
            vec![deployment("ecs-svc/1", "PRIMARY", TD8, None, (2, 1, 1))],
            (2, 1, 1),
        );
        assert!(matches!(rollout(&short, TD8), Rollout::InProgress { .. }));
    }

    #[test]
    fn without_deployments_counts_and_task_definition_decide() {
        let mut s = service(TD8, vec![], (2, 2, 0));
        s.deployments = None;
        assert_eq!(rollout(&s, TD8), Rollout::Ready);
        assert!(matches!(rollout(&s, TD7), Rollout::InProgress { .. }));
        s.running_count = 1;
        assert!(matches!(rollout(&s, TD8), Rollout::InProgress { .. }));
        s.status = None;
        assert!(matches!(rollout(&s, TD8), Rollout::InProgress { .. }));
    }

    // --- status ---

    #[test]
    fn status_facts_carry_counts_deployments_and_revision() {
        let s = service(
            TD8,
            vec![
                deployment(
                    "ecs-svc/2222",
                    "PRIMARY",
                    TD8,
                    Some(DeploymentRolloutState::InProgress),
                    (3, 1, 2),
                ),
                deployment(
                    "ecs-svc/1111",
                    "ACTIVE",
                    TD7,
                    Some(DeploymentRolloutState::Completed),
                    (3, 3, 0),
                ),
            ],
            (3, 4, 2),
        );
        let status = status_facts(&s);
        assert_eq!(
            status.service_arn.as_deref(),
            Some("arn:aws:ecs:eu-west-1:123456789012:service/main/web-svc")
        );
        assert_eq!(status.service_name.as_deref(), Some("web-svc"));
        assert_eq!(
            status.cluster_arn.as_deref(),
            Some("arn:aws:ecs:eu-west-1:123456789012:cluster/main")
        );
        assert_eq!(status.status.as_deref(), Some("ACTIVE"));
        assert_eq!(
            (
                status.desired_count,
                status.running_count,
                status.pending_count
            ),
            (Some(3), Some(4), Some(2))
        );
        assert_eq!(status.replicas, Some(4));
        assert_eq!(status.task_definition_arn.as_deref(), Some(TD8));
        assert_eq!(status.task_definition_revision, Some(8));
        assert_eq!(status.deployments.len(), 2);
        let primary = &status.deployments[0];
        assert_eq!(primary.id.as_deref(), Some("ecs-svc/2222"));
        assert_eq!(primary.status.as_deref(), Some("PRIMARY"));
        assert_eq!(primary.rollout_state.as_deref(), Some("IN_PROGRESS"));
        assert_eq!(
            primary.rollout_state_reason.as_deref(),
            Some("ECS deployment ecs-svc/2222 in progress.")
        );
        assert_eq!(primary.task_definition.as_deref(), Some(TD8));
        assert_eq!(
            (
                primary.desired_count,
                primary.running_count,
                primary.pending_count,
                primary.failed_tasks
            ),
            (3, 1, 2, 0)
        );
        assert_eq!(
            primary.created_at,
            Some(Time(Timestamp::from_second(1_700_000_000).unwrap()))
        );
        assert_eq!(
            primary.updated_at.as_ref().map(|t| t.0.as_millisecond()),
            Some(1_700_000_300_250)
        );
        assert!(
            status.conditions.is_empty()
                && status.selector.is_none()
                && status.last_event_id.is_none()
        );
    }

    #[test]
    fn task_definition_revision_is_the_number_after_the_last_colon() {
        assert_eq!(task_definition_revision(TD8), Some(8));
        assert_eq!(task_definition_revision("web:12"), Some(12));
        assert_eq!(task_definition_revision("web"), None);
        assert_eq!(
            task_definition_revision("arn:aws:ecs:eu-west-1:123456789012:task-definition/web"),
            None
        );
    }

    #[test]
    fn selector_is_a_valid_label_selector() {
        assert_eq!(selector("web"), "ecs.operator.dev/service=web");
        let long = format!("{}-{}", "a".repeat(62), "b".repeat(20));
        assert_eq!(
            selector(&long),
            format!("ecs.operator.dev/service={}", "a".repeat(62))
        );
    }

    // --- events ---

    fn event(id: &str, secs: i64, millis: u32) -> ServiceEvent {
        ServiceEvent::builder()
            .id(id)
            .created_at(at(secs, millis))
            .message(format!("(service web-svc) event {id}"))
            .build()
    }

    /// `count` events one second apart, newest first as ECS returns them; ids e000 (oldest)...
    fn history(count: usize) -> Vec<ServiceEvent> {
        (0..count)
            .rev()
            .map(|i| event(&format!("e{i:03}"), 1_700_000_000 + i as i64, 0))
            .collect()
    }

    fn ids(events: &[&ServiceEvent]) -> Vec<String> {
        events.iter().map(|e| e.id().unwrap().to_owned()).collect()
    }

    #[test]
    fn a_fresh_object_mirrors_only_the_newest_events_oldest_first() {
        let events = history(100);
        let mirrored = events_to_mirror(&events, None);
        assert_eq!(mirrored.len(), MAX_MIRRORED_EVENTS);
        assert_eq!(mirrored.first().unwrap().id(), Some("e080"));
        assert_eq!(mirrored.last().unwrap().id(), Some("e099"));
    }

    #[test]
    fn only_events_newer_than_the_cursor_are_mirrored() {
        let events = history(10);
        let cursor = EventCursor::of(&events[3]).unwrap(); // e006
        assert_eq!(
            ids(&events_to_mirror(&events, Some(&cursor))),
            ["e007", "e008", "e009"]
        );
        let newest = EventCursor::of(&events[0]).unwrap();
        assert!(events_to_mirror(&events, Some(&newest)).is_empty());
    }

    #[test]
    fn events_at_the_same_instant_are_ordered_by_id() {
        let events = vec![
            event("c", 100, 5),
            event("a", 100, 5),
            event("b", 100, 5),
            event("z", 100, 4),
        ];
        assert_eq!(ids(&events_to_mirror(&events, None)), ["z", "a", "b", "c"]);
        let cursor = EventCursor::of(&events[1]).unwrap(); // a
        assert_eq!(ids(&events_to_mirror(&events, Some(&cursor))), ["b", "c"]);
        // Millisecond precision counts: 100.004 < 100.005.
        let cursor = EventCursor::of(&events[3]).unwrap();
        assert_eq!(
            ids(&events_to_mirror(&events, Some(&cursor))),
            ["a", "b", "c"]
        );
    }

    #[test]
    fn events_without_a_time_are_skipped() {
        let events = vec![
            ServiceEvent::builder().id("x").message("no time").build(),
            event("a", 100, 0),
        ];
        assert_eq!(ids(&events_to_mirror(&events, None)), ["a"]);
    }

    #[test]
    fn the_cursor_survives_a_round_trip_through_status() {
        let events = vec![
            event("b", 1_700_000_000, 123),
            event("a", 1_700_000_000, 122),
        ];
        let mirrored = events_to_mirror(&events, None);
        let mut status = EcsServiceStatus::default();
        EventCursor::of(mirrored.last().unwrap())
            .unwrap()
            .write_to(&mut status);
        assert_eq!(
            status.last_event_time.as_deref(),
            Some("2023-11-14T22:13:20.123Z")
        );
        assert_eq!(status.last_event_id.as_deref(), Some("b"));
        // Through JSON, as after an operator restart.
        let status: EcsServiceStatus =
            serde_json::from_value(serde_json::to_value(&status).unwrap()).unwrap();
        let cursor = EventCursor::from_status(&status).unwrap();
        assert!(events_to_mirror(&events, Some(&cursor)).is_empty());
        assert_eq!(EventCursor::from_status(&EcsServiceStatus::default()), None);
    }
}

#[cfg(test)]
mod remembered_failure_tests {
    use super::*;

    const OLD: &str = "arn:aws:ecs:us-east-1:123456789012:task-definition/web:7";
    const NEW: &str = "arn:aws:ecs:us-east-1:123456789012:task-definition/web:8";

    /// DescribeServices after a circuit-breaker rollback has finished: only the old revision's
    /// deployment is left, COMPLETED.
    fn rolled_back() -> Service {
        Service::builder()
            .status("ACTIVE")
            .task_definition(OLD)
            .desired_count(2)
            .running_count(2)
            .deployments(
                ecs::Deployment::builder()
                    .id("ecs-svc/2")
                    .status("PRIMARY")
                    .task_definition(OLD)
                    .desired_count(2)
                    .running_count(2)
                    .rollout_state(ecs::DeploymentRolloutState::Completed)
                    .build(),
            )
            .build()
    }

    #[test]
    fn a_finished_rollback_stays_failed() {
        let service = rolled_back();
        let now = rollout(&service, NEW);
        assert!(
            matches!(now, Rollout::InProgress { .. }),
            "without memory it looks in progress: {now:?}"
        );
        let Rollout::Failed { message } = remember_failure(now, &service, NEW, Some(NEW)) else {
            panic!("the failure is remembered")
        };
        assert!(
            message.contains("rolled back to") && message.contains(OLD),
            "{message}"
        );
    }

    #[test]
    fn updates_after_a_rollback_keep_the_revision_ecs_runs_unless_restarted() {
        // Scaling, drift, another field: the rolled-back revision is not sent again.
        assert_eq!(revision_to_deploy(NEW, Some(NEW), Some(OLD), false), OLD);
        // restartedAt changed: try it again.
        assert_eq!(revision_to_deploy(NEW, Some(NEW), Some(OLD), true), NEW);
        // A newer revision than the failed one, or no failure at all: the desired one.
        assert_eq!(revision_to_deploy(NEW, Some(OLD), Some(OLD), false), NEW);
        assert_eq!(revision_to_deploy(NEW, None, Some(OLD), false), NEW);
        // ECS names no revision (a brand-new service): the desired one.
        assert_eq!(revision_to_deploy(NEW, Some(NEW), None, false), NEW);
    }

    #[test]
    fn a_new_revision_or_a_forced_deployment_is_not_held_back() {
        let service = rolled_back();
        // Another revision than the one that failed: progress as usual.
        assert!(matches!(
            remember_failure(rollout(&service, NEW), &service, NEW, Some(OLD)),
            Rollout::InProgress { .. }
        ));
        // The failed revision deployed again (ECS now names it): progress as usual.
        let retried = Service::builder()
            .status("ACTIVE")
            .task_definition(NEW)
            .build();
        assert!(matches!(
            remember_failure(
                Rollout::InProgress {
                    message: String::new()
                },
                &retried,
                NEW,
                Some(NEW)
            ),
            Rollout::InProgress { .. }
        ));
    }
}
