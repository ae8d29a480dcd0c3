//! EcsService controller: creates the ECS service, follows its task definition to the newest
//! revision the moment it is registered, reports Ready only when the rollout has completed, leaves
//! an omitted desiredCount to whoever scales the service, and mirrors ECS's service events.

use std::collections::HashSet;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_ecs::types::Service;
use futures::StreamExt;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::api::Api;
use kube::runtime::controller::{Action, Controller};
use kube::runtime::events::EventType;
use kube::runtime::reflector::{self, ObjectRef, Store};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Resource, ResourceExt};

use super::{Applied, Cleanup, Context, Managed, ObjectStatus, drive, wants_adoption};
use crate::api::{
    DeletionPolicy, EcsCluster, EcsService, EcsServiceStatus, EcsTaskDefinition, RESTARTED_AT_ANNOTATION,
};
use crate::error::EcsErrorClass;
use crate::mapping::conditions::{self, Health};
use crate::mapping::service::{self as mapping, EventCursor, Rollout};
use crate::mapping::tags::{self, Ownership};
use crate::{Error, Result};

/// How often a rollout in progress is looked at.
const ROLLOUT_POLL: Duration = Duration::from_secs(10);
/// desiredCount at creation when the spec leaves it to an autoscaler.
const INITIAL_DESIRED_COUNT: i32 = 1;

impl ObjectStatus for EcsServiceStatus {
    fn conditions(&self) -> &[Condition] {
        &self.conditions
    }

    fn set_conditions(&mut self, conditions: Vec<Condition>, generation: Option<i64>) {
        self.conditions = conditions;
        self.observed_generation = generation;
    }

    fn observed_generation(&self) -> Option<i64> {
        self.observed_generation
    }
}

impl Managed for EcsService {
    type Status = EcsServiceStatus;
    const KIND: &'static str = "EcsService";

    fn status(&self) -> Option<&EcsServiceStatus> {
        self.status.as_ref()
    }
}

impl EcsService {
    /// The ECS service name: spec.serviceName, else metadata.name.
    pub fn ecs_name(&self) -> String {
        self.spec.service_name.clone().unwrap_or_else(|| self.name_any())
    }
}

pub async fn reconcile(obj: Arc<EcsService>, ctx: Arc<Context>) -> Result<Action> {
    drive(obj, ctx, apply, cleanup).await
}

pub fn error_policy(obj: Arc<EcsService>, error: &Error, ctx: Arc<Context>) -> Action {
    super::backoff_on_error(obj.as_ref(), error, &ctx, EcsService::KIND)
}

/// The controller, with its watch relations: a service is reconciled when the task definition
/// or cluster it references changes revision or readiness — not at the next resync.
pub fn controller(
    api: Api<EcsService>,
    definitions: Api<EcsTaskDefinition>,
    clusters: Api<EcsCluster>,
    config: watcher::Config,
) -> (Controller<EcsService>, Store<EcsService>) {
    let (reader, writer) = reflector::store();
    let stream = watcher(api, config.clone())
        .default_backoff()
        .reflect(writer)
        .applied_objects()
        .predicate_filter(super::relevant_change(), Default::default());

    let store = reader.clone();
    let definition_changes = watcher(definitions, config.clone())
        .default_backoff()
        .touched_objects()
        .predicate_filter(
            |td: &EcsTaskDefinition| Some(fingerprint((td.current_arn(), is_ready(td.status().map(|s| &s.conditions[..]))))),
            Default::default(),
        );
    let cluster_store = reader.clone();
    let cluster_changes = watcher(clusters, config)
        .default_backoff()
        .touched_objects()
        .predicate_filter(
            |c: &EcsCluster| Some(fingerprint(is_ready(c.status.as_ref().map(|s| &s.conditions[..])))),
            Default::default(),
        );

    let controller = Controller::for_stream(stream, reader.clone())
        .watches_stream(definition_changes, move |td: EcsTaskDefinition| {
            referencing(&store, &td, |s| s.spec.task_definition_ref.as_ref().map(|r| r.name.as_str()))
        })
        .watches_stream(cluster_changes, move |cluster: EcsCluster| {
            referencing(&cluster_store, &cluster, |s| s.spec.cluster_ref.as_ref().map(|r| r.name.as_str()))
        });
    (controller, reader)
}

/// Services in the same namespace whose reference names `target`.
fn referencing<K: Resource>(
    services: &Store<EcsService>,
    target: &K,
    reference: impl Fn(&EcsService) -> Option<&str>,
) -> Vec<ObjectRef<EcsService>> {
    let namespace = target.meta().namespace.as_deref();
    let name = target.meta().name.as_deref();
    services
        .state()
        .iter()
        .filter(|s| s.namespace().as_deref() == namespace && reference(s) == name)
        .map(|s| ObjectRef::from_obj(s.as_ref()))
        .collect()
}

fn fingerprint(value: impl Hash) -> u64 {
    let mut hasher = DefaultHasher::new();
    value.hash(&mut hasher);
    hasher.finish()
}

fn is_ready(conditions: Option<&[Condition]>) -> bool {
    conditions
        .and_then(|c| conditions::find(c, conditions::READY))
        .is_some_and(|c| c.status == "True")
}

pub async fn run(
    ctx: Arc<Context>,
    controller: Controller<EcsService>,
    concurrency: u16,
    shutdown: impl Future<Output = ()> + Send + Sync + 'static,
) {
    controller
        .with_config(kube::runtime::controller::Config::default().concurrency(concurrency))
        .graceful_shutdown_on(shutdown)
        .run(reconcile, error_policy, ctx)
        .for_each(|_| async {})
        .await;
}

/// Task definition ARNs that services of this operator run or roll out: never pruned.
pub fn task_definitions_in_use(ctx: &Context) -> HashSet<String> {
    ctx.services()
        .iter()
        .filter_map(|s| s.status.as_ref())
        .flat_map(|s| {
            s.task_definition_arn.iter().cloned().chain(s.deployments.iter().filter_map(|d| d.task_definition.clone()))
        })
        .collect()
}

/// The ECS cluster (name or ARN) the service runs on, once its EcsCluster is Ready.
async fn resolve_cluster(ctx: &Context, obj: &EcsService) -> Result<String> {
    if let Some(cluster) = &obj.spec.cluster {
        return Ok(cluster.clone());
    }
    let name = obj.spec.cluster_ref.as_ref().map(|r| r.name.clone()).unwrap_or_default();
    let api: Api<EcsCluster> = Api::namespaced(ctx.client.clone(), &obj.namespace().unwrap_or_default());
    match api.get_opt(&name).await? {
        None => Err(Error::DependencyNotReady(format!("EcsCluster {name} does not exist yet"))),
        Some(cluster) if !super::cluster::is_ready(&cluster) => {
            Err(Error::DependencyNotReady(format!("EcsCluster {name} is not Ready yet")))
        }
        Some(cluster) => Ok(cluster.status.and_then(|s| s.cluster_arn).unwrap_or_else(|| name.clone())),
    }
}

/// The task definition ARN the service should run: the newest revision of its
/// EcsTaskDefinition, or what spec.taskDefinition names (a bare family follows its latest).
async fn resolve_task_definition(ctx: &Context, obj: &EcsService, region: &str) -> Result<String> {
    if let Some(reference) = &obj.spec.task_definition {
        if reference.starts_with("arn:") {
            return Ok(reference.clone());
        }
        let client = ctx.ecs.client(region);
        let output = ctx
            .ecs
            .call(region, "DescribeTaskDefinition", client.describe_task_definition().task_definition(reference).send())
            .await?;
        return output
            .task_definition
            .and_then(|t| t.task_definition_arn)
            .ok_or_else(|| Error::InvalidSpec(format!("task definition {reference} not found")));
    }
    let name = obj.spec.task_definition_ref.as_ref().map(|r| r.name.clone()).unwrap_or_default();
    let api: Api<EcsTaskDefinition> = Api::namespaced(ctx.client.clone(), &obj.namespace().unwrap_or_default());
    let Some(definition) = api.get_opt(&name).await? else {
        return Err(Error::DependencyNotReady(format!("EcsTaskDefinition {name} does not exist yet")));
    };
    let ready_now = definition.status.as_ref().is_some_and(|s| {
        s.observed_generation == definition.meta().generation && is_ready(Some(&s.conditions))
    });
    match definition.current_arn() {
        Some(arn) if ready_now => Ok(arn.to_string()),
        _ => Err(Error::DependencyNotReady(format!("EcsTaskDefinition {name} has no Ready revision yet"))),
    }
}

async fn apply(obj: Arc<EcsService>, ctx: Arc<Context>) -> Result<Applied<EcsServiceStatus>> {
    mapping::validate(&obj.spec)?;
    let name = obj.ecs_name();
    let region = ctx.ecs.region(obj.spec.region.as_deref());
    let cluster = resolve_cluster(&ctx, &obj).await?;
    let task_definition = resolve_task_definition(&ctx, &obj, &region).await?;
    let identity = ctx.identity(obj.as_ref());
    let desired_tags = tags::desired_tags(&obj.spec.tags, &identity);
    let client = ctx.ecs.client(&region);
    let old_status = obj.status.clone().unwrap_or_default();
    let restarted_at = obj.annotations().get(RESTARTED_AT_ANNOTATION).cloned();

    let existing = ctx.ecs.describe_service(&region, &cluster, &name).await?.filter(|s| s.status() != Some("INACTIVE"));
    let service = match existing {
        None => {
            let desired_count = obj.spec.desired_count.unwrap_or(INITIAL_DESIRED_COUNT);
            let input = mapping::create_input(
                &obj.spec,
                &name,
                &cluster,
                &task_definition,
                desired_count,
                tags::to_ecs(&desired_tags),
                obj.meta().uid.as_deref().unwrap_or_default(),
            )?;
            let output = ctx.ecs.call(&region, "CreateService", create_request(&client, input).send()).await?;
            ctx.event(
                obj.as_ref(),
                EventType::Normal,
                "Created",
                format!("created ECS service {name} running {task_definition} with {desired_count} task(s)"),
            )
            .await;
            output.service.ok_or_else(|| Error::empty_response("CreateService"))?
        }
        Some(current) if current.status() == Some("DRAINING") => {
            return Ok(Applied {
                health: Health::progressing("Deleting", format!("the ECS service {name} is DRAINING; waiting for it to go")),
                status: old_status,
                requeue: Some(ROLLOUT_POLL),
            });
        }
        Some(current) => {
            match identity.judge(&tags::from_ecs(current.tags())) {
                Ownership::Ours => {}
                Ownership::Unowned if wants_adoption(obj.as_ref()) => {
                    ctx.event(obj.as_ref(), EventType::Normal, "Adopted", format!("adopted the existing ECS service {name}"))
                        .await;
                }
                Ownership::Unowned => {
                    return Err(Error::OwnershipConflict(format!(
                        "an ECS service named {name} already exists in cluster {cluster} and was not created by this \
                         object; annotate it with ecs.operator.dev/adopt=\"true\" to manage it"
                    )));
                }
                Ownership::Foreign { owner } => {
                    return Err(Error::OwnershipConflict(format!(
                        "the ECS service {name} in cluster {cluster} belongs to {owner}; it is left alone"
                    )));
                }
            }
            update(&ctx, &obj, &region, &cluster, &task_definition, current, &desired_tags, restarted_at.as_deref()).await?
        }
    };

    let mut status = mapping::status_facts(&service);
    status.selector = Some(mapping::selector(&obj.name_any()));
    status.last_restarted_at = restarted_at.or(old_status.last_restarted_at.clone());
    status.conditions = old_status.conditions.clone();
    status.observed_generation = old_status.observed_generation;
    mirror_events(&ctx, &obj, &service, &old_status, &mut status).await;

    let (health, requeue) = match mapping::rollout(&service, &task_definition) {
        Rollout::Ready => (Health::Ready { message: format!("ECS service {name} reached a steady state") }, None),
        Rollout::InProgress { message } => (Health::progressing("DeploymentInProgress", message), Some(ROLLOUT_POLL)),
        Rollout::Failed { message } => {
            if !matches!(conditions::find(&old_status.conditions, conditions::STALLED), Some(c) if c.status == "True" && c.reason == "DeploymentFailed")
            {
                tracing::info!(service = %name, %message, "deployment failed");
            }
            (Health::stalled("DeploymentFailed", message), Some(Duration::from_secs(60)))
        }
        Rollout::NotActive { status } => (
            Health::progressing("Updating", format!("ECS reports service {name} as {status}")),
            Some(ROLLOUT_POLL),
        ),
    };
    Ok(Applied { health, status, requeue })
}

/// Brings an existing service in line: UpdateService when the spec changed or ECS drifted
/// (the task definition included), a forced deployment when restartedAt changed, and tags.
#[allow(clippy::too_many_arguments)]
async fn update(
    ctx: &Context,
    obj: &EcsService,
    region: &str,
    cluster: &str,
    task_definition: &str,
    current: Service,
    desired_tags: &std::collections::BTreeMap<String, String>,
    restarted_at: Option<&str>,
) -> Result<Service> {
    let name = obj.ecs_name();
    let old_status = obj.status.clone().unwrap_or_default();
    let spec_changed = old_status.observed_generation != obj.meta().generation;
    let drift = mapping::drift(&obj.spec, task_definition, &current);
    let restart = restarted_at.is_some() && restarted_at != old_status.last_restarted_at.as_deref();

    let conflicts = mapping::immutable_conflicts(&obj.spec, &current);
    if !conflicts.is_empty() {
        return Err(Error::InvalidSpec(format!(
            "ECS service {name} differs from the spec in {}, which ECS cannot change in place; \
             delete and recreate the service (or align the spec)",
            conflicts.join(", ")
        )));
    }
    let mut service = current.clone();
    if spec_changed || !drift.is_empty() || restart {
        let input = mapping::update_input(&obj.spec, &name, cluster, task_definition, obj.spec.desired_count, restart)?;
        let output = ctx.ecs.call(region, "UpdateService", update_request(&ctx.ecs.client(region), input).send()).await?;
        service = output.service.unwrap_or(current.clone());
        if current.task_definition() != Some(task_definition) {
            ctx.event(obj, EventType::Normal, "Updated", format!("ECS service {name} now rolls out {task_definition}"))
                .await;
        }
        if restart {
            ctx.event(
                obj,
                EventType::Normal,
                "Updated",
                format!("forced a new deployment of ECS service {name} ({RESTARTED_AT_ANNOTATION}={})", restarted_at.unwrap_or_default()),
            )
            .await;
        }
        let other: Vec<&str> = drift.iter().copied().filter(|f| *f != "taskDefinition").collect();
        if !other.is_empty() {
            super::announce_changes(ctx, obj, &format!("ECS service {name}"), &other).await;
        }
    }

    let changes = tags::tag_changes(&tags::from_ecs(current.tags()), desired_tags);
    if !changes.is_empty() {
        let arn = current.service_arn().unwrap_or_default();
        ctx.ecs.apply_tag_changes(region, arn, &changes).await?;
        super::announce_changes(ctx, obj, &format!("tags of ECS service {name}"), &["tags"]).await;
    }
    // UpdateService answers without tags; keep the ones now set for the next comparison.
    Ok(service)
}

/// Publishes ECS's own service events that are newer than the cursor in status, once each,
/// and moves the cursor forward in `status`.
async fn mirror_events(ctx: &Context, obj: &EcsService, service: &Service, old: &EcsServiceStatus, status: &mut EcsServiceStatus) {
    let cursor = EventCursor::from_status(old);
    let fresh = mapping::events_to_mirror(service.events(), cursor.as_ref());
    for event in &fresh {
        let message = event.message().unwrap_or_default();
        let trouble = ["unable to", "failed", "error", "unhealthy"].iter().any(|w| message.contains(w));
        let (type_, reason) =
            if trouble { (EventType::Warning, "EcsServiceProblem") } else { (EventType::Normal, "EcsServiceEvent") };
        ctx.event(obj, type_, reason, message.to_string()).await;
    }
    match fresh.last().and_then(|newest| EventCursor::of(newest)).or(cursor) {
        Some(cursor) => cursor.write_to(status),
        None => (status.last_event_time, status.last_event_id) = (None, None),
    }
}

fn create_request(
    client: &aws_sdk_ecs::Client,
    input: aws_sdk_ecs::operation::create_service::CreateServiceInput,
) -> aws_sdk_ecs::operation::create_service::builders::CreateServiceFluentBuilder {
    client
        .create_service()
        .set_cluster(input.cluster)
        .set_service_name(input.service_name)
        .set_task_definition(input.task_definition)
        .set_availability_zone_rebalancing(input.availability_zone_rebalancing)
        .set_load_balancers(input.load_balancers)
        .set_service_registries(input.service_registries)
        .set_desired_count(input.desired_count)
        .set_client_token(input.client_token)
        .set_launch_type(input.launch_type)
        .set_capacity_provider_strategy(input.capacity_provider_strategy)
        .set_platform_version(input.platform_version)
        .set_deployment_configuration(input.deployment_configuration)
        .set_placement_constraints(input.placement_constraints)
        .set_placement_strategy(input.placement_strategy)
        .set_network_configuration(input.network_configuration)
        .set_health_check_grace_period_seconds(input.health_check_grace_period_seconds)
        .set_scheduling_strategy(input.scheduling_strategy)
        .set_deployment_controller(input.deployment_controller)
        .set_tags(input.tags)
        .set_enable_ecs_managed_tags(input.enable_ecs_managed_tags)
        .set_propagate_tags(input.propagate_tags)
        .set_enable_execute_command(input.enable_execute_command)
        .set_service_connect_configuration(input.service_connect_configuration)
}

fn update_request(
    client: &aws_sdk_ecs::Client,
    input: aws_sdk_ecs::operation::update_service::UpdateServiceInput,
) -> aws_sdk_ecs::operation::update_service::builders::UpdateServiceFluentBuilder {
    client
        .update_service()
        .set_cluster(input.cluster)
        .set_service(input.service)
        .set_desired_count(input.desired_count)
        .set_task_definition(input.task_definition)
        .set_capacity_provider_strategy(input.capacity_provider_strategy)
        .set_deployment_configuration(input.deployment_configuration)
        .set_availability_zone_rebalancing(input.availability_zone_rebalancing)
        .set_network_configuration(input.network_configuration)
        .set_placement_constraints(input.placement_constraints)
        .set_placement_strategy(input.placement_strategy)
        .set_platform_version(input.platform_version)
        .set_force_new_deployment(input.force_new_deployment)
        .set_health_check_grace_period_seconds(input.health_check_grace_period_seconds)
        .set_enable_execute_command(input.enable_execute_command)
        .set_enable_ecs_managed_tags(input.enable_ecs_managed_tags)
        .set_load_balancers(input.load_balancers)
        .set_propagate_tags(input.propagate_tags)
        .set_service_registries(input.service_registries)
        .set_service_connect_configuration(input.service_connect_configuration)
}

async fn cleanup(obj: Arc<EcsService>, ctx: Arc<Context>) -> Result<Cleanup> {
    let name = obj.ecs_name();
    if obj.spec.deletion_policy == DeletionPolicy::Retain {
        return Ok(Cleanup::Done(format!("retained ECS service {name} (deletionPolicy Retain)")));
    }
    let region = ctx.ecs.region(obj.spec.region.as_deref());
    let cluster = match &obj.spec.cluster {
        Some(cluster) => cluster.clone(),
        None => {
            // The EcsCluster may be going too; its ECS name is all that is needed.
            let reference = obj.spec.cluster_ref.as_ref().map(|r| r.name.clone()).unwrap_or_default();
            let api: Api<EcsCluster> = Api::namespaced(ctx.client.clone(), &obj.namespace().unwrap_or_default());
            match api.get_opt(&reference).await? {
                Some(cluster) => cluster.ecs_name(),
                None => reference,
            }
        }
    };
    let service = match ctx.ecs.describe_service(&region, &cluster, &name).await {
        Ok(service) => service,
        Err(Error::Ecs { class: EcsErrorClass::NotFound, .. }) => None,
        Err(e) => return Err(e),
    };
    let Some(service) = service.filter(|s| s.status() != Some("INACTIVE")) else {
        return Ok(Cleanup::Done(format!("ECS service {name} is gone")));
    };
    if ctx.identity(obj.as_ref()).judge(&tags::from_ecs(service.tags())) != Ownership::Ours {
        return Ok(Cleanup::Done(format!("left ECS service {name} in place: this object does not own it")));
    }
    if service.status() == Some("DRAINING") {
        return Ok(Cleanup::Waiting(format!("waiting for ECS service {name} to finish draining")));
    }
    let client = ctx.ecs.client(&region);
    if service.desired_count() > 0 {
        let request = client.update_service().cluster(&cluster).service(&name).desired_count(0).send();
        ctx.ecs.call(&region, "UpdateService", request).await?;
    }
    match ctx.ecs.call(&region, "DeleteService", client.delete_service().cluster(&cluster).service(&name).send()).await {
        Ok(_) | Err(Error::Ecs { class: EcsErrorClass::NotFound, .. }) => {}
        Err(e) => return Err(e),
    }
    Ok(Cleanup::Waiting(format!("deleted ECS service {name}; waiting until ECS reports it INACTIVE")))
}
