//! EcsTask controller: runs a task definition to completion with Job semantics. Each RunTask is
//! written ahead in status (`pendingRun`) and carries a clientToken derived from the uid and the
//! attempt, so a crash between RunTask and the status write that records its tasks starts
//! nothing twice: the repeated RunTask gets ECS's first answer. While tasks run, DescribeTasks
//! (100 per call) polls them; once the run finished, nothing is read from ECS.

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, DeleteParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::events::EventType;
use kube::runtime::reflector::Store;
use kube::{Resource, ResourceExt};

use super::refs::{self, Refs};
use super::{Applied, Cleanup, Context, Managed, drive};
use crate::api::task::{PendingRun, TaskRecord};
use crate::api::{DeletionPolicy, EcsTask, EcsTaskStatus};
use crate::error::EcsErrorClass;
use crate::mapping::conditions::{self, Health};
use crate::mapping::tags;
use crate::mapping::task::{self as mapping, Outcome, Plan};
use crate::{Error, Result};

/// How often running tasks are looked at (a rollout's poll is 10 s; a batch run is usually
/// shorter-lived, and one DescribeTasks covers 100 tasks).
const TASK_POLL: Duration = Duration::from_secs(5);

/// Job's conditions, besides Ready, Reconciling and Stalled.
pub const COMPLETE: &str = "Complete";
pub const FAILED: &str = "Failed";

impl crate::controller::ObjectStatus for EcsTaskStatus {
    fn conditions(&self) -> &[Condition] {
        &self.conditions
    }

    /// The kstatus triple, plus Complete or Failed (True, as a Job has them) once the run
    /// finished, each keeping its lastTransitionTime.
    fn set_conditions(&mut self, mut conditions: Vec<Condition>, generation: Option<i64>) {
        let job = match self.phase.as_deref() {
            Some(mapping::COMPLETE) => Some((
                COMPLETE,
                "Completed".to_string(),
                format!("{} task(s) succeeded", self.succeeded),
            )),
            Some(mapping::FAILED) => Some((
                FAILED,
                self.failure_reason
                    .clone()
                    .unwrap_or_else(|| "Failed".into()),
                self.failure_message.clone().unwrap_or_default(),
            )),
            _ => None,
        };
        if let Some((type_, reason, message)) = job {
            let since = conditions::find(&self.conditions, type_)
                .map(|c| c.last_transition_time.clone())
                .or_else(|| self.completion_time.clone())
                .unwrap_or(Time(Timestamp::now()));
            conditions.push(Condition {
                type_: type_.into(),
                status: "True".into(),
                reason,
                message,
                observed_generation: generation,
                last_transition_time: since,
            });
        }
        self.conditions = conditions;
        self.observed_generation = generation;
    }

    fn observed_generation(&self) -> Option<i64> {
        self.observed_generation
    }
}

impl Managed for EcsTask {
    type Status = EcsTaskStatus;
    const KIND: &'static str = "EcsTask";

    fn status(&self) -> Option<&EcsTaskStatus> {
        self.status.as_ref()
    }

    fn spec_region(&self) -> Option<&str> {
        self.spec.region.as_deref()
    }

    /// The first task's ARN: it names the region the run is in.
    fn arn_in(status: &EcsTaskStatus) -> Option<&str> {
        status
            .tasks
            .iter()
            .map(|t| t.task_arn.as_str())
            .find(|arn| !arn.is_empty())
    }
}

impl EcsTask {
    fn refs(&self) -> Refs<'_> {
        Refs {
            namespace: refs::namespace_of(self),
            cluster_ref: self.spec.cluster_ref.as_ref(),
            cluster: self.spec.cluster.as_deref(),
            task_definition_ref: self.spec.task_definition_ref.as_ref(),
            task_definition: self.spec.task_definition.as_deref(),
            what: "the EcsTask",
        }
    }
}

pub async fn reconcile(obj: Arc<EcsTask>, ctx: Arc<Context>) -> Result<Action> {
    drive(obj, ctx, apply, cleanup).await
}

pub fn error_policy(obj: Arc<EcsTask>, error: &Error, ctx: Arc<Context>) -> Action {
    super::backoff_on_error(obj.as_ref(), error, &ctx, EcsTask::KIND)
}

/// The controller, with its watch relations: a run waiting for its cluster or task definition
/// starts the moment they are ready, not at the next retry.
pub fn controller(
    api: Api<EcsTask>,
    dependencies: refs::Dependencies,
) -> (Controller<EcsTask>, Store<EcsTask>) {
    refs::watched(
        api,
        dependencies,
        |t| {
            let name = t.spec.task_definition_ref.as_ref().map(|r| r.name.as_str());
            name.filter(|_| waiting(t))
        },
        |t| {
            let name = t.spec.cluster_ref.as_ref().map(|r| r.name.as_str());
            name.filter(|_| waiting(t))
        },
    )
}

/// Whether the run has not resolved what it runs yet: once started, it is fixed.
fn waiting(task: &EcsTask) -> bool {
    task.status
        .as_ref()
        .is_none_or(|s| s.task_definition_arn.is_none())
}

/// Where the run happens, once resolved.
struct Place {
    region: String,
    cluster: String,
}

async fn apply(obj: Arc<EcsTask>, ctx: Arc<Context>) -> Result<Applied<EcsTaskStatus>> {
    mapping::validate(&obj.spec)?;
    let cached = obj.status.clone().unwrap_or_default();
    // A finished run reads nothing from ECS: only its TTL is left to keep.
    if mapping::finished(&cached) {
        return finish(&ctx, &obj, cached).await;
    }
    // What must happen once (a RunTask, an event per stopped task) is decided on the status as
    // the API server has it now, not on a cache that may lag this operator's last write.
    let api = super::api_for(&ctx.client, obj.as_ref());
    let mut status = super::read_status(&api, obj.as_ref())
        .await?
        .unwrap_or(cached);
    let place = resolve(&ctx, &obj, &mut status).await?;

    refresh(&ctx, &obj, &place, &mut status).await?;
    // One RunTask per reconcile at most: a retry of tasks that failed to be placed waits for the
    // next poll rather than hammering ECS.
    let mut ran = false;
    if let Some(pending) = status.pending_run.clone() {
        run(&ctx, &obj, &place, &mut status, &pending).await?;
        ran = true;
    }
    // Each step changes the status (tasks started, the failure or the completion recorded), so
    // a few passes settle it.
    for _ in 0..3 {
        mapping::summarize(&obj.spec, &mut status);
        match mapping::plan(&obj.spec, &status, Timestamp::now()) {
            Plan::Run(count) if status.failure_reason.is_none() && !ran => {
                ran = true;
                let pending = PendingRun {
                    attempt: status.attempts,
                    count,
                };
                status.pending_run = Some(pending.clone());
                status.start_time = status.start_time.or(Some(Time(Timestamp::now())));
                // Written ahead: a crash from here on repeats this very RunTask (same token).
                let old = obj.status.as_ref();
                super::write_status(&api, obj.as_ref(), old, &status).await?;
                run(&ctx, &obj, &place, &mut status, &pending).await?;
            }
            Plan::Fail {
                reason,
                message,
                stop,
            } if status.failure_reason.is_none() => {
                status.failure_reason = Some(reason.to_string());
                status.failure_message = Some(message);
                status.completion_time = Some(Time(Timestamp::now()));
                let why = format!(
                    "{reason}: stopped by EcsTask {}",
                    ctx.identity(obj.as_ref()).owner
                );
                stop_tasks(&ctx, &place, &stop, &why).await?;
                for task in status
                    .tasks
                    .iter_mut()
                    .filter(|t| stop.contains(&t.task_arn))
                {
                    task.desired_status = Some(mapping::STOPPED.into());
                }
            }
            Plan::Complete if status.completion_time.is_none() => {
                status.completion_time = Some(Time(Timestamp::now()));
                let note = format!(
                    "{} task(s) of {} succeeded",
                    status.succeeded,
                    status.task_definition_arn.as_deref().unwrap_or_default()
                );
                ctx.event(obj.as_ref(), EventType::Normal, "Completed", note)
                    .await;
            }
            _ => break,
        }
    }
    mapping::summarize(&obj.spec, &mut status);
    if mapping::finished(&status) {
        return finish(&ctx, &obj, status).await;
    }
    let deadline = mapping::deadline_in(&obj.spec, &status, Timestamp::now())
        .filter(|_| status.failure_reason.is_none());
    let poll = deadline.map_or(TASK_POLL, |left| {
        left.clamp(Duration::from_millis(200), TASK_POLL)
    });
    Ok(Applied {
        health: health(&obj, &status),
        status,
        requeue: Some(poll),
    })
}

/// Conditions of a run from its status.
fn health(obj: &EcsTask, status: &EcsTaskStatus) -> Health {
    let wanted = mapping::count(&obj.spec);
    match status.phase.as_deref() {
        Some(mapping::COMPLETE) => Health::Ready {
            message: format!("{} of {wanted} task(s) succeeded", status.succeeded),
        },
        Some(mapping::FAILED) => Health::stalled(
            status.failure_reason.clone().unwrap_or_default(),
            status.failure_message.clone().unwrap_or_default(),
        ),
        _ => Health::progressing(
            "Running",
            format!(
                "{} of {wanted} task(s) succeeded, {} running, {} failed",
                status.succeeded, status.active, status.failed
            ),
        ),
    }
}

/// A finished run: its conditions, and its deletion once ttlSecondsAfterFinished passed.
async fn finish(
    ctx: &Context,
    obj: &EcsTask,
    status: EcsTaskStatus,
) -> Result<Applied<EcsTaskStatus>> {
    let requeue = match mapping::ttl_in(&obj.spec, &status, Timestamp::now()) {
        Some(left) if left.is_zero() => {
            let api = super::api_for(&ctx.client, obj);
            match api.delete(&obj.name_any(), &DeleteParams::default()).await {
                Ok(_) => {}
                Err(kube::Error::Api(e)) if e.code == 404 => {}
                Err(e) => return Err(e.into()),
            }
            tracing::info!("deleted: ttlSecondsAfterFinished passed");
            None
        }
        Some(left) => Some(left),
        // Nothing to look at until the object changes.
        None => Some(Duration::from_secs(24 * 3600)),
    };
    Ok(Applied {
        health: health(obj, &status),
        status,
        requeue,
    })
}

/// The cluster, region and task definition of the run: resolved once, before the first RunTask,
/// and recorded; later reconciles use what was recorded (the run does not move).
async fn resolve(ctx: &Context, obj: &EcsTask, status: &mut EcsTaskStatus) -> Result<Place> {
    let refs = obj.refs();
    if let (Some(cluster), Some(_)) = (&status.cluster_arn, &status.task_definition_arn) {
        let region = refs::region_of(
            ctx,
            &refs,
            obj.spec.region.as_deref(),
            obj.managed_arn(),
            cluster,
        )?;
        return Ok(Place {
            region,
            cluster: cluster.clone(),
        });
    }
    let cluster = refs::resolve_cluster(ctx, &refs).await?;
    let region = refs::region_of(
        ctx,
        &refs,
        obj.spec.region.as_deref(),
        obj.managed_arn(),
        &cluster,
    )?;
    let resolved = refs::resolve_task_definition(ctx, &refs, &region).await?;
    // Which containers are essential decides whether a task succeeded.
    let client = ctx.ecs.client(&region);
    let request = client
        .describe_task_definition()
        .task_definition(&resolved.arn)
        .send();
    let described = ctx
        .ecs
        .call(&region, "DescribeTaskDefinition", request)
        .await?;
    let definition = described
        .task_definition
        .ok_or_else(|| Error::empty_response("DescribeTaskDefinition"))?;
    status.essential_containers = definition
        .container_definitions()
        .iter()
        .filter(|c| c.essential().unwrap_or(true))
        .filter_map(|c| c.name().map(str::to_string))
        .collect();
    status.task_definition_arn = definition
        .task_definition_arn
        .clone()
        .or(Some(resolved.arn));
    status.cluster_arn = Some(cluster.clone());
    Ok(Place { region, cluster })
}

/// Sends the RunTask of `pending` (again, after a crash: the same clientToken gets ECS's first
/// answer) and records its tasks; the Started event names how many and the revision. ECS refusing
/// the request (ClientException, InvalidParameterException ...) fails the run at once, the AWS
/// code as its reason: the spec cannot change, so no retry can help. Throttling, 5xx, timeouts
/// and access denied (IAM can be fixed) are retried as always.
async fn run(
    ctx: &Context,
    obj: &EcsTask,
    place: &Place,
    status: &mut EcsTaskStatus,
    pending: &PendingRun,
) -> Result<()> {
    let uid = obj.meta().uid.clone().unwrap_or_default();
    let identity = ctx.identity(obj);
    let task_definition = status.task_definition_arn.clone().unwrap_or_default();
    let input = mapping::run_task_input(
        &obj.spec,
        &place.cluster,
        &task_definition,
        pending.count,
        &mapping::started_by(&obj.spec, &uid),
        tags::to_ecs(&tags::desired_tags(&obj.spec.tags, &identity)),
        &mapping::client_token(&uid, pending.attempt),
    )?;
    let client = ctx.ecs.client(&place.region);
    let output = match ctx
        .ecs
        .call(&place.region, "RunTask", input.send_with(&client))
        .await
    {
        Ok(output) => output,
        Err(
            error @ Error::Ecs {
                class: EcsErrorClass::Invalid,
                ..
            },
        ) => {
            status.failure_reason = Some(error.label());
            status.failure_message = Some(error.to_string());
            status.completion_time = Some(Time(Timestamp::now()));
            status.pending_run = None;
            return Ok(());
        }
        // spec.cluster names an ECS cluster not there (yet): wait for it, as a service does.
        Err(Error::Ecs {
            class: EcsErrorClass::NotFound,
            ..
        }) => {
            return Err(Error::DependencyNotReady(format!(
                "ECS cluster {} does not exist in {}",
                place.cluster, place.region
            )));
        }
        Err(error) => return Err(error),
    };
    let known: Vec<String> = status.tasks.iter().map(|t| t.task_arn.clone()).collect();
    let started: Vec<TaskRecord> = output
        .tasks()
        .iter()
        .map(|t| mapping::record(t, pending.attempt))
        .filter(|t| !known.contains(&t.task_arn))
        .collect();
    let unplaced: Vec<TaskRecord> = output
        .failures()
        .iter()
        .map(|f| mapping::unplaced(f.arn(), f.reason(), f.detail(), pending.attempt))
        .collect();
    let mut note = format!("started {} task(s) of {task_definition}", started.len());
    if pending.attempt > 0 {
        note.push_str(&format!(" (retry {})", pending.attempt));
    }
    if !unplaced.is_empty() {
        note.push_str(&format!("; {} could not be placed", unplaced.len()));
    }
    let type_ = if unplaced.is_empty() {
        EventType::Normal
    } else {
        EventType::Warning
    };
    ctx.event(obj, type_, "Started", note).await;
    // A cluster named by its name is recorded by the ARN ECS answers with.
    if let Some(arn) = output.tasks().iter().find_map(|t| t.cluster_arn()) {
        status.cluster_arn = Some(arn.to_string());
    }
    status.tasks.extend(started);
    status.tasks.extend(unplaced);
    status.attempts = pending.attempt + 1;
    status.pending_run = None;
    Ok(())
}

/// DescribeTasks (100 per call) of the recorded tasks that have not stopped yet, with an event
/// for each that stopped since the last look (Warning when it failed).
async fn refresh(
    ctx: &Context,
    obj: &EcsTask,
    place: &Place,
    status: &mut EcsTaskStatus,
) -> Result<()> {
    let open: Vec<String> = status
        .tasks
        .iter()
        .filter(|t| t.last_status.as_deref() != Some(mapping::STOPPED))
        .map(|t| t.task_arn.clone())
        .collect();
    let client = ctx.ecs.client(&place.region);
    for batch in open.chunks(mapping::DESCRIBE_BATCH) {
        let request = client
            .describe_tasks()
            .cluster(&place.cluster)
            .set_tasks(Some(batch.to_vec()))
            .send();
        let output = ctx
            .ecs
            .call(&place.region, "DescribeTasks", request)
            .await?;
        let mut stopped = Vec::new();
        for known in status.tasks.iter_mut() {
            let fresh = output
                .tasks()
                .iter()
                .find(|t| t.task_arn() == Some(known.task_arn.as_str()));
            let gone = output
                .failures()
                .iter()
                .find(|f| f.arn() == Some(known.task_arn.as_str()));
            if let Some(task) = fresh {
                *known = mapping::record(task, known.attempt);
            } else if let Some(failure) = gone {
                // Stopped tasks stay describable about an hour: this one ended unseen.
                known.last_status = Some(mapping::STOPPED.into());
                known.stopped_reason = Some(format!(
                    "ECS no longer reports the task ({})",
                    failure.reason().unwrap_or("MISSING")
                ));
            } else {
                continue;
            }
            if known.last_status.as_deref() == Some(mapping::STOPPED) {
                stopped.push(known.clone());
            }
        }
        for task in &stopped {
            announce_stop(ctx, obj, task, &status.essential_containers).await;
        }
    }
    Ok(())
}

async fn announce_stop(ctx: &Context, obj: &EcsTask, task: &TaskRecord, essential: &[String]) {
    let summary = mapping::stop_summary(task, essential);
    if mapping::outcome(task, essential) == Outcome::Succeeded {
        ctx.event(obj, EventType::Normal, "TaskStopped", summary)
            .await;
    } else {
        ctx.event(obj, EventType::Warning, "TaskFailed", summary)
            .await;
    }
}

/// StopTask for each of `arns`, with `reason` (ECS records it as the task's stoppedReason, stop
/// code UserInitiated). A task ECS no longer knows is done.
async fn stop_tasks(ctx: &Context, place: &Place, arns: &[String], reason: &str) -> Result<()> {
    let client = ctx.ecs.client(&place.region);
    for arn in arns.iter().filter(|a| !a.is_empty()) {
        let request = client
            .stop_task()
            .cluster(&place.cluster)
            .task(arn)
            .reason(reason)
            .send();
        match ctx.ecs.call(&place.region, "StopTask", request).await {
            Ok(_) => {}
            Err(Error::Ecs { message, .. }) if message.contains("not found") => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Stops what still runs (unless deletionPolicy is Retain). A RunTask written ahead but not
/// recorded may have started tasks this object does not know: those are found by startedBy.
async fn cleanup(obj: Arc<EcsTask>, ctx: Arc<Context>) -> Result<Cleanup> {
    let status =
        match super::read_status(&super::api_for(&ctx.client, obj.as_ref()), obj.as_ref()).await? {
            Some(status) => status,
            None => obj.status.clone().unwrap_or_default(),
        };
    let running: Vec<String> = status
        .tasks
        .iter()
        .filter(|t| {
            t.last_status.as_deref() != Some(mapping::STOPPED)
                && t.desired_status.as_deref() != Some(mapping::STOPPED)
        })
        .map(|t| t.task_arn.clone())
        .collect();
    if obj.spec.deletion_policy == DeletionPolicy::Retain {
        return Ok(Cleanup::Done(format!(
            "left {} running task(s) in place (deletionPolicy Retain)",
            running.len()
        )));
    }
    let Some(cluster) = status.cluster_arn.clone() else {
        return Ok(Cleanup::Done("no task was started".into()));
    };
    let region = refs::region_of(
        &ctx,
        &obj.refs(),
        obj.spec.region.as_deref(),
        obj.managed_arn(),
        &cluster,
    )?;
    let place = Place { region, cluster };
    let mut running = running;
    if status.pending_run.is_some() {
        running.extend(unrecorded(&ctx, &obj, &place).await?);
    }
    let reason = format!("deleted with EcsTask {}", ctx.identity(obj.as_ref()).owner);
    stop_tasks(&ctx, &place, &running, &reason).await?;
    Ok(Cleanup::Done(if running.is_empty() {
        "no task was running".to_string()
    } else {
        format!("stopped {} running task(s)", running.len())
    }))
}

/// Running tasks of this object's startedBy (ListTasks), for a RunTask not recorded.
async fn unrecorded(ctx: &Context, obj: &EcsTask, place: &Place) -> Result<Vec<String>> {
    let uid = obj.meta().uid.clone().unwrap_or_default();
    let client = ctx.ecs.client(&place.region);
    let request = client
        .list_tasks()
        .cluster(&place.cluster)
        .started_by(mapping::started_by(&obj.spec, &uid))
        .send();
    let output = ctx.ecs.call(&place.region, "ListTasks", request).await?;
    Ok(output.task_arns().to_vec())
}
