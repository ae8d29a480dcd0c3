//! EcsScheduledTask controller: keeps an EventBridge Scheduler schedule (ECS RunTask target) as
//! the spec says. GetSchedule, then CreateSchedule when it is missing (ClientToken from the uid)
//! or UpdateSchedule with the whole schedule when anything differs (a spec change, a new task
//! definition revision, or drift found at the resync); DeleteSchedule on delete unless Retain.
//!
//! Schedules have no tags (only schedule groups do): ownership is written into the schedule's
//! Description (see [`mapping::description`]) and judged like ECS tags.

use std::sync::Arc;

use aws_sdk_scheduler::operation::get_schedule::GetScheduleOutput;
use aws_sdk_scheduler::types::ScheduleState;
use kube::Resource;
use kube::api::Api;
use kube::runtime::controller::{Action, Controller};
use kube::runtime::events::EventType;
use kube::runtime::reflector::Store;

use super::refs::{self, Refs};
use super::{Applied, Cleanup, Context, Managed, drive};
use crate::api::{DeletionPolicy, EcsScheduledTask, EcsScheduledTaskStatus};
use crate::error::EcsErrorClass;
use crate::mapping::conditions::Health;
use crate::mapping::schedule::{self as mapping, Resolved, Shape};
use crate::mapping::tags::Ownership;
use crate::{Error, Result};

super::object_status!(EcsScheduledTaskStatus);

impl Managed for EcsScheduledTask {
    type Status = EcsScheduledTaskStatus;
    const KIND: &'static str = "EcsScheduledTask";

    fn status(&self) -> Option<&EcsScheduledTaskStatus> {
        self.status.as_ref()
    }

    fn spec_region(&self) -> Option<&str> {
        self.spec.region.as_deref()
    }

    fn arn_in(status: &EcsScheduledTaskStatus) -> Option<&str> {
        status.schedule_arn.as_deref()
    }
}

impl EcsScheduledTask {
    fn refs(&self) -> Refs<'_> {
        Refs {
            namespace: refs::namespace_of(self),
            cluster_ref: self.spec.cluster_ref.as_ref(),
            cluster: self.spec.cluster.as_deref(),
            task_definition_ref: self.spec.task_definition_ref.as_ref(),
            task_definition: self.spec.task_definition.as_deref(),
            what: "the schedule",
        }
    }

    /// The schedule's group and name.
    fn address(&self) -> (&str, &str) {
        (
            mapping::group_name(&self.spec),
            mapping::schedule_name(
                &self.spec,
                self.metadata.name.as_deref().unwrap_or_default(),
            ),
        )
    }
}

pub async fn reconcile(obj: Arc<EcsScheduledTask>, ctx: Arc<Context>) -> Result<Action> {
    drive(obj, ctx, apply, cleanup).await
}

pub fn error_policy(obj: Arc<EcsScheduledTask>, error: &Error, ctx: Arc<Context>) -> Action {
    super::backoff_on_error(obj.as_ref(), error, &ctx, EcsScheduledTask::KIND)
}

/// The controller, with its watch relations: a schedule follows its EcsTaskDefinition to each
/// new revision, and starts once its EcsCluster is ready, at once rather than at the resync.
pub fn controller(
    api: Api<EcsScheduledTask>,
    dependencies: refs::Dependencies,
) -> (Controller<EcsScheduledTask>, Store<EcsScheduledTask>) {
    refs::watched(
        api,
        dependencies,
        |s| s.spec.task_definition_ref.as_ref().map(|r| r.name.as_str()),
        |s| s.spec.cluster_ref.as_ref().map(|r| r.name.as_str()),
    )
}

/// The schedule `group/name` in `region`, or None when the Scheduler does not have it.
async fn get(
    ctx: &Context,
    region: &str,
    (group, name): (&str, &str),
) -> Result<Option<GetScheduleOutput>> {
    let request = ctx
        .ecs
        .scheduler(region)
        .get_schedule()
        .group_name(group)
        .name(name)
        .send();
    match ctx.ecs.call(region, "GetSchedule", request).await {
        Ok(output) => Ok(Some(output)),
        Err(Error::Ecs {
            class: EcsErrorClass::NotFound,
            ..
        }) => Ok(None),
        Err(error) => Err(error),
    }
}

/// The cluster's ARN (the target's `Arn`): a name is looked up with DescribeClusters.
async fn cluster_arn(
    ctx: &Context,
    obj: &EcsScheduledTask,
    region: &str,
    cluster: &str,
) -> Result<String> {
    if cluster.starts_with("arn:") {
        return Ok(cluster.to_string());
    }
    let max_age = super::read_max_age(ctx, obj, ctx.resync);
    ctx.ecs
        .describe_cluster(region, cluster, max_age)
        .await?
        .and_then(|c| c.cluster_arn)
        .ok_or_else(|| {
            Error::DependencyNotReady(format!("ECS cluster {cluster} does not exist in {region}"))
        })
}

async fn apply(
    obj: Arc<EcsScheduledTask>,
    ctx: Arc<Context>,
) -> Result<Applied<EcsScheduledTaskStatus>> {
    let refs = obj.refs();
    let cluster = refs::resolve_cluster(&ctx, &refs).await?;
    let region = refs::region_of(
        &ctx,
        &refs,
        obj.spec.region.as_deref(),
        obj.managed_arn(),
        &cluster,
    )?;
    let cluster_arn = cluster_arn(&ctx, &obj, &region, &cluster).await?;
    let definition = refs::resolve_task_definition(&ctx, &refs, &region).await?;
    let resolved = Resolved {
        cluster_arn,
        task_definition_arn: definition.arn,
    };
    let identity = ctx.identity(obj.as_ref());
    let desired = mapping::desired(&obj.spec, &resolved, &identity)?;
    let address = obj.address();
    let what = format!("the schedule {}/{} in {region}", address.0, address.1);

    let output = match get(&ctx, &region, address).await? {
        None => {
            create(&ctx, &obj, &region, address, &desired).await?;
            ctx.event(
                obj.as_ref(),
                EventType::Normal,
                "Created",
                format!("created {what}"),
            )
            .await;
            get(&ctx, &region, address).await?
        }
        Some(existing) => {
            let owner = owner(&ctx, &obj, &existing);
            super::claim_existing(&ctx, obj.as_ref(), &owner, &what).await?;
            let fields = mapping::drift(&desired, &mapping::observed(&existing));
            if fields.is_empty() {
                Some(existing)
            } else {
                update(&ctx, &region, address, &desired).await?;
                let recorded = obj
                    .status
                    .as_ref()
                    .and_then(|s| s.task_definition_arn.as_deref());
                if fields == ["taskDefinition"]
                    && recorded.is_some_and(|r| r != resolved.task_definition_arn)
                {
                    // Following a new revision of its task definition is the object's own
                    // change, not a correction of one made behind its back.
                    let note = format!(
                        "{what} now runs {} (was {})",
                        resolved.task_definition_arn,
                        recorded.unwrap_or_default()
                    );
                    ctx.event(obj.as_ref(), EventType::Normal, "Updated", note)
                        .await;
                } else {
                    super::announce_changes(&ctx, obj.as_ref(), &what, &fields).await;
                }
                get(&ctx, &region, address).await?
            }
        }
    };
    let output = output.ok_or_else(|| Error::empty_response("GetSchedule"))?;
    let status = mapping::status(&output, &resolved);
    let health = match definition.pending {
        Some(pending) => Health::progressing("DependencyNotReady", pending),
        None => Health::Ready {
            message: match output.state {
                Some(ScheduleState::Disabled) => format!("{what} is in place, suspended"),
                _ => format!("{what} is in place"),
            },
        },
    };
    Ok(Applied {
        health,
        status,
        requeue: None,
    })
}

/// Sets on a CreateSchedule or UpdateSchedule request everything a [`Shape`] holds: the two
/// take the same fields, and UpdateSchedule resets what it is not given.
macro_rules! whole_schedule {
    ($request:expr, $group:expr, $name:expr, $shape:expr) => {
        $request
            .group_name($group)
            .name($name)
            .description(&$shape.description)
            .schedule_expression(&$shape.expression)
            .schedule_expression_timezone(&$shape.timezone)
            .flexible_time_window(mapping::flexible_time_window($shape)?)
            .state(ScheduleState::from($shape.state.as_str()))
            .set_start_date(mapping::date($shape.start_date))
            .set_end_date(mapping::date($shape.end_date))
            .target(mapping::target($shape)?)
    };
}

/// CreateSchedule, with the uid as ClientToken: repeated after a crash, it is the same request.
async fn create(
    ctx: &Context,
    obj: &EcsScheduledTask,
    region: &str,
    (group, name): (&str, &str),
    shape: &Shape,
) -> Result<()> {
    let uid = obj.meta().uid.as_deref().unwrap_or_default();
    let request = ctx.ecs.scheduler(region).create_schedule();
    let request =
        whole_schedule!(request, group, name, shape).client_token(mapping::client_token(uid));
    ctx.ecs
        .call(region, "CreateSchedule", request.send())
        .await?;
    Ok(())
}

/// UpdateSchedule replaces the whole schedule: everything is sent.
async fn update(
    ctx: &Context,
    region: &str,
    (group, name): (&str, &str),
    shape: &Shape,
) -> Result<()> {
    let request = ctx.ecs.scheduler(region).update_schedule();
    let request = whole_schedule!(request, group, name, shape);
    ctx.ecs
        .call(region, "UpdateSchedule", request.send())
        .await?;
    Ok(())
}

/// DeleteSchedule, unless Retain, or the schedule is gone or not this object's.
/// Whose the schedule is, as ownership tags: its description's marker. UpdateSchedule replaces
/// the description too, so a hand edit can wipe the marker: the schedule this object's status
/// recorded (same ARN and creation date) is still its own then, and the marker is written back.
fn owner(
    ctx: &Context,
    obj: &EcsScheduledTask,
    existing: &aws_sdk_scheduler::operation::get_schedule::GetScheduleOutput,
) -> std::collections::BTreeMap<String, String> {
    let owner = mapping::owner_tags(existing.description.as_deref());
    if owner.is_empty() && mapping::is_recorded(existing, obj.status.as_ref()) {
        return crate::mapping::tags::desired_tags(&[], &ctx.identity(obj));
    }
    owner
}

async fn cleanup(obj: Arc<EcsScheduledTask>, ctx: Arc<Context>) -> Result<Cleanup> {
    let (group, name) = obj.address();
    if obj.spec.deletion_policy == DeletionPolicy::Retain {
        return Ok(Cleanup::Done(format!(
            "retained the schedule {group}/{name} (deletionPolicy Retain)"
        )));
    }
    let region = ctx.region(obj.as_ref());
    let Some(existing) = get(&ctx, &region, (group, name)).await? else {
        return Ok(Cleanup::Done(format!(
            "the schedule {group}/{name} is gone"
        )));
    };
    let owner = owner(&ctx, &obj, &existing);
    if ctx.identity(obj.as_ref()).judge(&owner) != Ownership::Ours {
        return Ok(Cleanup::Done(format!(
            "left the schedule {group}/{name} alone: it is not this object's"
        )));
    }
    let request = ctx
        .ecs
        .scheduler(&region)
        .delete_schedule()
        .group_name(group)
        .name(name)
        .send();
    match ctx.ecs.call(&region, "DeleteSchedule", request).await {
        Ok(_)
        | Err(Error::Ecs {
            class: EcsErrorClass::NotFound,
            ..
        }) => Ok(Cleanup::Done(format!(
            "deleted the schedule {group}/{name}"
        ))),
        Err(error) => Err(error),
    }
}
