//! EcsService controller: creates the ECS service, follows its task definition to the newest
//! revision the moment it is registered, reports Ready only when the rollout has completed, leaves
//! an omitted desiredCount to whoever scales the service, and mirrors ECS's service events.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_ecs::types::{SchedulingStrategy, Service};
use kube::api::Api;
use kube::runtime::controller::{Action, Controller};
use kube::runtime::events::EventType;
use kube::runtime::reflector::Store;
use kube::{Resource, ResourceExt};

use super::refs::{self, Refs, ResolvedTaskDefinition};
use super::{Applied, Cleanup, Context, Managed, drive};
use crate::api::{
    DeletionPolicy, EcsCluster, EcsService, EcsServiceStatus, RESTARTED_AT_ANNOTATION,
};
use crate::error::EcsErrorClass;
use crate::mapping::conditions::{self, Health};
use crate::mapping::service::{self as mapping, Rollout, plan, stopped_tasks};
use crate::mapping::tags::{self, Ownership};
use crate::{Error, Result};

mod autoscaling;
mod deployment;
mod events;
mod pre_deploy;

/// How often a rollout in progress is looked at.
const ROLLOUT_POLL: Duration = Duration::from_secs(10);
/// How often a failed deployment is looked at again (a new revision or spec change comes at once).
const FAILED_POLL: Duration = Duration::from_secs(60);

super::object_status!(EcsServiceStatus);

impl Managed for EcsService {
    type Status = EcsServiceStatus;
    const KIND: &'static str = "EcsService";

    fn status(&self) -> Option<&EcsServiceStatus> {
        self.status.as_ref()
    }

    fn spec_region(&self) -> Option<&str> {
        self.spec.region.as_deref()
    }

    fn arn_in(status: &EcsServiceStatus) -> Option<&str> {
        status.service_arn.as_deref()
    }
}

/// Where the service lives (see [`refs::region_of`]).
fn region_of(ctx: &Context, obj: &EcsService, cluster: &str) -> Result<String> {
    refs::region_of(
        ctx,
        &obj.refs(),
        obj.spec.region.as_deref(),
        obj.managed_arn(),
        cluster,
    )
}

impl EcsService {
    /// What its references name.
    fn refs(&self) -> Refs<'_> {
        Refs {
            namespace: refs::namespace_of(self),
            cluster_ref: self.spec.cluster_ref.as_ref(),
            cluster: self.spec.cluster.as_deref(),
            task_definition_ref: self.spec.task_definition_ref.as_ref(),
            task_definition: self.spec.task_definition.as_deref(),
            what: "the service",
        }
    }

    /// The ECS service name: spec.serviceName, else metadata.name.
    pub fn ecs_name(&self) -> String {
        self.spec
            .service_name
            .clone()
            .unwrap_or_else(|| self.name_any())
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
    dependencies: refs::Dependencies,
) -> (Controller<EcsService>, Store<EcsService>) {
    refs::watched(
        api,
        dependencies,
        |s| s.spec.task_definition_ref.as_ref().map(|r| r.name.as_str()),
        |s| s.spec.cluster_ref.as_ref().map(|r| r.name.as_str()),
    )
}

/// Task definition ARNs that services of this operator run or roll out: never pruned.
pub fn task_definitions_in_use(ctx: &Context) -> HashSet<String> {
    ctx.services()
        .iter()
        .filter_map(|s| s.status.as_ref())
        .flat_map(|s| {
            s.task_definition_arn.iter().cloned().chain(
                s.deployments
                    .iter()
                    .filter_map(|d| d.task_definition.clone()),
            )
        })
        .collect()
}

async fn apply(obj: Arc<EcsService>, ctx: Arc<Context>) -> Result<Applied<EcsServiceStatus>> {
    mapping::validate(&obj.spec)?;
    crate::mapping::autoscaling::validate(&obj.spec)?;
    let name = obj.ecs_name();
    let cluster = refs::resolve_cluster(&ctx, &obj.refs()).await?;
    let region = region_of(&ctx, &obj, &cluster)?;
    let ResolvedTaskDefinition {
        arn: task_definition,
        pending,
    } = refs::resolve_task_definition(&ctx, &obj.refs(), &region).await?;
    let identity = ctx.identity(obj.as_ref());
    let desired_tags = tags::desired_tags(&obj.spec.tags, &identity);
    let client = ctx.ecs.client(&region);
    let mut old_status = bookkeeping(&ctx, &obj).await?;
    let restarted_at = obj.annotations().get(RESTARTED_AT_ANNOTATION).cloned();
    let mut applied_generation = old_status.applied_generation;
    let mut last_restarted_at = old_status.last_restarted_at.clone();
    let uid = obj.meta().uid.clone().unwrap_or_default();

    let max_age = read_freshness(&ctx, &obj, &old_status);
    let existing = match ctx
        .ecs
        .describe_service(&region, &cluster, &name, max_age)
        .await
    {
        Ok(service) => service.filter(|s| s.status() != Some("INACTIVE")),
        // spec.cluster names an ECS cluster not managed here: wait for it, as for a clusterRef.
        Err(Error::Ecs {
            class: EcsErrorClass::NotFound,
            ..
        }) => {
            return Err(Error::DependencyNotReady(format!(
                "ECS cluster {cluster} does not exist in {region}"
            )));
        }
        Err(error) => return Err(error),
    };
    // A new revision waits for its pre-deploy run: meanwhile the service keeps (or, new, waits
    // without) the revision it runs, and a restart waits with it.
    let running = existing
        .as_ref()
        .and_then(|s| s.task_definition())
        .map(str::to_string);
    let pre_deploy = pre_deploy::step(
        &ctx,
        &obj,
        (&region, &cluster),
        &task_definition,
        running.as_deref(),
        restarted_at.as_deref(),
        old_status.pre_deploy.as_ref(),
    )
    .await?;
    let held = pre_deploy.hold.is_some();
    if held && existing.is_none() {
        let (health, requeue) = pre_deploy.hold.expect("held");
        let mut status = old_status;
        status.pre_deploy = pre_deploy.record;
        return Ok(Applied {
            health,
            status,
            requeue,
        });
    }
    let deploying = match (&running, held) {
        (Some(running), true) => running.clone(),
        _ => task_definition.clone(),
    };
    let desired = plan::Desired {
        spec: &obj.spec,
        name: &name,
        cluster: &cluster,
        task_definition: &deploying,
        generation: obj.meta().generation,
        uid: &uid,
        restarted_at: if held {
            old_status.last_restarted_at.as_deref()
        } else {
            restarted_at.as_deref()
        },
        tags: &desired_tags,
    };

    let service = match existing {
        None => {
            let plan = plan::plan_create(&desired, old_status.created_at.as_deref())?;
            let created = ctx
                .ecs
                .call(&region, "CreateService", plan.input.send_with(&client))
                .await;
            ctx.ecs.invalidate_service(&region, &cluster, &name);
            let output = created.map_err(|error| match error {
                // ECS's answer when the name is taken: the service exists after all (an answer
                // read before it was created). Read it again rather than stall on it; the next
                // reconcile updates it, or reports whose it is.
                Error::Ecs { code, message, .. } if message.contains("not idempotent") => {
                    Error::Ecs {
                        operation: "CreateService",
                        code,
                        message: format!(
                            "an ECS service named {name} already exists; reading it again"
                        ),
                        class: EcsErrorClass::Transient,
                    }
                }
                other => other,
            })?;
            announce(&ctx, &obj, &plan.announcement).await;
            applied_generation = obj.meta().generation;
            // A new service deploys anyway: a restartedAt it was created with needs no extra deployment.
            last_restarted_at = restarted_at.clone();
            output
                .service
                .ok_or_else(|| Error::empty_response("CreateService"))?
        }
        Some(current) if current.status() == Some("DRAINING") => {
            return Ok(Applied {
                health: Health::progressing(
                    "Deleting",
                    format!("the ECS service {name} is DRAINING; waiting for it to go"),
                ),
                status: old_status,
                requeue: Some(ROLLOUT_POLL),
            });
        }
        Some(current) => {
            let what = format!("the ECS service {name} in cluster {cluster}");
            let adopted =
                super::claim_existing(&ctx, obj.as_ref(), &tags::from_ecs(current.tags()), &what)
                    .await?;
            let recovered = super::announce_recovered_creation(
                &ctx,
                obj.as_ref(),
                &tags::from_ecs(current.tags()),
                &format!(
                    "created ECS service {name} running {}",
                    current.task_definition().unwrap_or(&task_definition)
                ),
            )
            .await;
            if recovered || adopted {
                // CreateService carried the spec of its day (or the service ran as it was before
                // it was adopted): drift shows what differs, and only that is sent.
                old_status.applied_generation = obj.meta().generation;
                applied_generation = obj.meta().generation;
            }
            // A rollback that finished between two looks leaves no FAILED deployment to see:
            // ECS's deployment history says whether the deployment failed, so that its revision
            // is not deployed again as if ECS had drifted (or, for a forced deployment of the
            // running revision, so that the failed restart is told).
            if old_status.failed_task_definition.as_deref() != Some(task_definition.as_str())
                && let Some(id) = mapping::vanished_deployment(
                    &old_status.deployments,
                    &current,
                    &task_definition,
                )
                && let Some(message) = rollback_of(
                    &ctx,
                    &region,
                    &cluster,
                    &name,
                    id,
                    &task_definition,
                    &current,
                )
                .await?
            {
                if current.task_definition() == Some(task_definition.as_str()) {
                    // A forced deployment of the running revision failed and ECS went back to
                    // the tasks it had: the spec's revision runs, but the restart did not happen.
                    ctx.event(
                        obj.as_ref(),
                        EventType::Warning,
                        "DeploymentFailed",
                        message,
                    )
                    .await;
                } else {
                    old_status.failed_task_definition = Some(task_definition.clone());
                    old_status.failure_message = Some(message);
                }
            }
            let plan = plan::plan_update(&desired, &current, &old_status)?;
            let service = update(&ctx, &obj, (&region, &cluster), current, &plan).await?;
            if plan.sends_spec {
                applied_generation = obj.meta().generation;
            }
            if plan.restarts {
                last_restarted_at = restarted_at.clone();
            }
            service
        }
    };
    let task_definition = deploying;

    let mut status = mapping::status_facts(&service);
    status.created_at = status.created_at.or(old_status.created_at.clone());
    status.selector = Some(mapping::selector(&obj.name_any()));
    status.last_restarted_at = last_restarted_at;
    status.applied_generation = applied_generation;
    status.conditions = old_status.conditions.clone();
    status.observed_generation = old_status.observed_generation;
    status.pre_deploy = pre_deploy.record;
    status.autoscaling = autoscaling::step(
        &ctx,
        &obj,
        (&region, &cluster, &name),
        old_status.autoscaling.as_ref(),
        old_status.observed_generation != obj.meta().generation,
    )
    .await?;
    events::mirror_events(&ctx, &obj, &service, &old_status, &mut status).await;

    // Where the service deployment stands, and the approvals asked of it.
    let classic = mapping::remember_failure(
        mapping::rollout(&service, &task_definition),
        &service,
        &task_definition,
        old_status.failed_task_definition.as_deref(),
        old_status.failure_message.as_deref(),
    );
    let step = deployment::step(
        &ctx,
        &obj,
        &region,
        &service,
        &task_definition,
        classic,
        &old_status,
    )
    .await?;
    (status.service_deployment, status.approvals) = (step.record, step.approvals);
    let rollout = step.rollout;
    (status.failed_task_definition, status.failure_message) = match &rollout {
        Rollout::Failed { message } => (Some(task_definition.clone()), Some(message.clone())),
        Rollout::Ready => (None, None),
        _ => (
            old_status.failed_task_definition.clone(),
            old_status.failure_message.clone(),
        ),
    };
    let ready = matches!(rollout, Rollout::Ready) && pending.is_none();
    status.stopped_tasks = events::stopped_tasks(
        &ctx,
        &obj,
        (&region, &cluster, &name),
        &service,
        &task_definition,
        (ready, matches!(rollout, Rollout::Failed { .. })),
        old_status.stopped_tasks.as_ref(),
    )
    .await;
    // A rollout that does not finish says why its tasks stop (a failed one without counting
    // them, so that its message, once announced, stays).
    let with_why = |message: String, counted: bool| match status
        .stopped_tasks
        .as_ref()
        .and_then(|stopped| stopped_tasks::sentence(stopped, counted))
    {
        Some(why) => format!("{message}; {why}"),
        None => message,
    };
    let rolling_back = status
        .service_deployment
        .as_ref()
        .is_some_and(|sd| !mapping::deployment::is_final(sd.status.as_deref()));
    let (health, requeue) = match rollout {
        // The watch on the task definition wakes the service when the change is registered.
        Rollout::Ready if let Some(pending) = pending => {
            (Health::progressing("DependencyNotReady", pending), None)
        }
        Rollout::Ready => (
            Health::Ready {
                message: format!("ECS service {name} reached a steady state"),
            },
            None,
        ),
        Rollout::InProgress { message } => (
            Health::progressing("DeploymentInProgress", with_why(message, true)),
            Some(ROLLOUT_POLL),
        ),
        // Looked at soon while ECS still rolls back: the message follows it to the end.
        Rollout::Failed { message } => (
            Health::stalled("DeploymentFailed", with_why(message, false)),
            Some(if rolling_back {
                ROLLOUT_POLL
            } else {
                FAILED_POLL
            }),
        ),
        // Looked at as a rollout in progress: its timeout, or an approval given in the ECS
        // console, moves it on.
        Rollout::AwaitingApproval { message } => (
            Health::progressing("AwaitingApproval", message),
            Some(ROLLOUT_POLL),
        ),
        Rollout::NotActive { status } => (
            Health::progressing(
                "Updating",
                format!("ECS reports service {name} as {status}"),
            ),
            Some(ROLLOUT_POLL),
        ),
    };
    let (health, requeue) = pre_deploy.hold.unwrap_or((health, requeue));
    Ok(Applied {
        health,
        status,
        requeue,
    })
}

/// The Failed message when ECS's deployment history (ListServiceDeployments, newest first) shows
/// deployment `id` rolled back; see [`mapping::rolled_back`].
async fn rollback_of(
    ctx: &Context,
    region: &str,
    cluster: &str,
    name: &str,
    id: &str,
    desired: &str,
    current: &Service,
) -> Result<Option<String>> {
    let client = ctx.ecs.client(region);
    let request = client
        .list_service_deployments()
        .cluster(cluster)
        .service(name)
        .max_results(20)
        .send();
    let history = ctx
        .ecs
        .call(region, "ListServiceDeployments", request)
        .await?;
    Ok(mapping::rolled_back(
        history.service_deployments(),
        id,
        desired,
        current,
    ))
}

/// The status as the API server has it now, for what must happen exactly once (sending a spec
/// change, a forced deployment, mirroring an ECS event). The cache a reconcile starts from can
/// lag behind this operator's own last status write (a reconcile queued while the previous one
/// ran): decisions taken from it would repeat those actions, and writing its bookkeeping back
/// would undo them.
async fn bookkeeping(ctx: &Context, obj: &EcsService) -> Result<EcsServiceStatus> {
    let api = super::api_for(&ctx.client, obj);
    let fresh = super::read_status(&api, obj).await?;
    Ok(fresh.or_else(|| obj.status.clone()).unwrap_or_default())
}

/// Applies an update plan to `current`: the tags, then the UpdateService, each announced as
/// soon as it is made (a later write of this reconcile may be deferred or fail). Returns the
/// service as UpdateService answered it (without tags: the next describe reads them again).
async fn update(
    ctx: &Context,
    obj: &EcsService,
    (region, cluster): (&str, &str),
    current: Service,
    plan: &plan::UpdatePlan,
) -> Result<Service> {
    let name = obj.ecs_name();
    if let Some(announcement) = &plan.tags_announcement {
        let arn = current.service_arn().unwrap_or_default();
        ctx.ecs.apply_tag_changes(region, arn, &plan.tags).await?;
        ctx.ecs.invalidate_service(region, cluster, &name);
        announce(ctx, obj, announcement).await;
    }
    let Some(input) = &plan.update else {
        return Ok(current);
    };
    let client = ctx.ecs.client(region);
    let output = ctx
        .ecs
        .call(region, "UpdateService", input.clone().send_with(&client))
        .await?;
    ctx.ecs.invalidate_service(region, cluster, &name);
    for announcement in &plan.announcements {
        announce(ctx, obj, announcement).await;
    }
    Ok(output.service.unwrap_or(current))
}

/// Publishes a planned Normal event.
async fn announce(ctx: &Context, obj: &EcsService, announcement: &plan::Announcement) {
    ctx.event(
        obj,
        EventType::Normal,
        announcement.reason,
        announcement.note.clone(),
    )
    .await;
}

/// How old a DescribeServices answer this reconcile may use (see `ecs::ServiceReader`): a fresh
/// one when something asks for an action (a new generation, a first visit, a new restartedAt),
/// one rollout poll old while the service is not Ready, one resync period old when it is.
fn read_freshness(ctx: &Context, obj: &EcsService, old: &EcsServiceStatus) -> Duration {
    let restart_pending =
        obj.annotations().get(RESTARTED_AT_ANNOTATION) != old.last_restarted_at.as_ref();
    if restart_pending || old.conditions.is_empty() {
        Duration::ZERO
    } else {
        super::read_max_age(ctx, obj, ROLLOUT_POLL)
    }
}

async fn cleanup(obj: Arc<EcsService>, ctx: Arc<Context>) -> Result<Cleanup> {
    let name = obj.ecs_name();
    if obj.spec.deletion_policy == DeletionPolicy::Retain {
        return Ok(Cleanup::Done(format!(
            "retained ECS service {name} (deletionPolicy Retain)"
        )));
    }
    // The cluster the service was created on, as recorded; the EcsCluster may be gone already.
    let recorded = obj.status.as_ref().and_then(|s| s.cluster_arn.clone());
    let cluster = match recorded.or_else(|| obj.spec.cluster.clone()) {
        Some(cluster) => cluster,
        None => {
            // The EcsCluster may be going too; its ECS name is all that is needed.
            match refs::referenced::<EcsCluster>(
                &ctx,
                &refs::namespace_of(obj.as_ref()),
                obj.spec.cluster_ref.as_ref(),
            )
            .await?
            {
                (_, Some(cluster)) => cluster.ecs_name(),
                (reference, None) => reference,
            }
        }
    };
    let region = match region_of(&ctx, &obj, &cluster) {
        Ok(region) => region,
        // A region that disagrees with the cluster's never got a service created.
        Err(_) if obj.managed_arn().is_none() => {
            return Ok(Cleanup::Done(format!(
                "no ECS service {name} was created (spec.region and the cluster's disagree)"
            )));
        }
        Err(_) => ctx.region(obj.as_ref()),
    };
    let service = match ctx
        .ecs
        .describe_service(&region, &cluster, &name, Duration::ZERO)
        .await
    {
        Ok(service) => service,
        // The cluster is gone, and the service with it.
        Err(Error::Ecs {
            class: EcsErrorClass::NotFound,
            ..
        }) => None,
        Err(e) => return Err(e),
    };
    let Some(service) = service.filter(|s| s.status() != Some("INACTIVE")) else {
        // Gone after this object's own DeleteService (its Ready condition says it waited for
        // ECS to finish), or gone before.
        let deleting = obj
            .status
            .as_ref()
            .and_then(|s| conditions::find(&s.conditions, conditions::READY))
            .is_some_and(|c| c.reason == "Deleting");
        return Ok(Cleanup::Done(if deleting {
            format!("scaled ECS service {name} to 0 and deleted it")
        } else {
            format!("ECS service {name} is gone")
        }));
    };
    if ctx
        .identity(obj.as_ref())
        .judge(&tags::from_ecs(service.tags()))
        != Ownership::Ours
    {
        return Ok(Cleanup::Done(format!(
            "left ECS service {name} in place: this object does not own it"
        )));
    }
    if service.status() == Some("DRAINING") {
        return Ok(Cleanup::Waiting(format!(
            "waiting for ECS service {name} to finish draining"
        )));
    }
    // Before the count goes to 0: Application Auto Scaling would scale it back up.
    autoscaling::release(&ctx, &obj, (&region, &cluster, &name)).await?;
    let client = ctx.ecs.client(&region);
    // A REPLICA service must be scaled to 0 before DeleteService (short of forcing it); a DAEMON
    // service has no count to set.
    let daemon = service.scheduling_strategy() == Some(&SchedulingStrategy::Daemon);
    if !daemon && service.desired_count() > 0 {
        let request = client
            .update_service()
            .cluster(&cluster)
            .service(&name)
            .desired_count(0)
            .send();
        ctx.ecs.call(&region, "UpdateService", request).await?;
    }
    let deleted = match ctx
        .ecs
        .call(
            &region,
            "DeleteService",
            client
                .delete_service()
                .cluster(&cluster)
                .service(&name)
                .send(),
        )
        .await
    {
        Ok(output) => output.service,
        Err(Error::Ecs {
            class: EcsErrorClass::NotFound,
            ..
        }) => None,
        Err(e) => return Err(e),
    };
    match deleted.as_ref().and_then(|s| s.status()) {
        Some("INACTIVE") | None => Ok(Cleanup::Done(format!(
            "scaled ECS service {name} to 0 and deleted it"
        ))),
        Some(status) => Ok(Cleanup::Waiting(format!(
            "scaled ECS service {name} to 0 and deleted it; waiting until ECS reports it INACTIVE (now {status})"
        ))),
    }
}
