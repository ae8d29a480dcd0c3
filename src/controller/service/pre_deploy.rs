//! The pre-deploy run of an EcsService's new revision (`spec.preDeploy`): started with RunTask,
//! looked at with DescribeTasks, stopped with StopTask past its timeout. What to do is
//! [`crate::mapping::service::pre_deploy`]'s.

use std::time::Duration;

use k8s_openapi::jiff::Timestamp;
use kube::runtime::events::EventType;

use super::super::Context;
use crate::api::{EcsService, PreDeployStatus};
use crate::mapping::conditions::Health;
use crate::mapping::service::pre_deploy::{self, FAILED, Gate, SUCCEEDED};
use crate::mapping::tags;
use crate::mapping::task as task_mapping;
use crate::{Error, Result};

/// How often a run that goes on is looked at.
const POLL: Duration = Duration::from_secs(5);

/// Where the step leaves a reconcile: the run's record for status, and the health that holds
/// the rollout on the running revision while the run goes on or after it failed (None: roll out).
pub(super) struct Step {
    pub record: Option<PreDeployStatus>,
    pub hold: Option<(Health, Option<Duration>)>,
}

/// Runs the step for rolling out `desired` on a service that runs `running`.
pub(super) async fn step(
    ctx: &Context,
    obj: &EcsService,
    (region, cluster): (&str, &str),
    desired: &str,
    running: Option<&str>,
    restarted_at: Option<&str>,
    recorded: Option<&PreDeployStatus>,
) -> Result<Step> {
    let recorded = recorded.cloned();
    let Some(spec) = obj.spec.pre_deploy.as_ref() else {
        return Ok(Step {
            record: None,
            hold: None,
        });
    };
    let uid = obj.metadata.uid.clone().unwrap_or_default();
    let gate = pre_deploy::gate(
        Some(spec),
        desired,
        running,
        restarted_at,
        recorded.as_ref(),
        &uid,
    );
    let record = match gate {
        Gate::Proceed => {
            return Ok(Step {
                record: recorded,
                hold: None,
            });
        }
        Gate::Failed { message } => {
            return Ok(Step {
                record: recorded,
                hold: Some((Health::stalled("PreDeployFailed", message), None)),
            });
        }
        Gate::Run { client_token } => {
            let task_arn = run(ctx, obj, (region, cluster), desired, &client_token).await?;
            let record = pre_deploy::started(desired, restarted_at, &task_arn, Timestamp::now());
            ctx.event(
                obj,
                EventType::Normal,
                "PreDeployStarted",
                pre_deploy::waiting(&record).replacen("running", "started", 1),
            )
            .await;
            record
        }
        Gate::Check { task_arn } => {
            let recorded = recorded.expect("a run to check is recorded");
            let task = describe(ctx, (region, cluster), &task_arn).await?;
            let timeout = spec
                .timeout_seconds
                .unwrap_or(pre_deploy::DEFAULT_TIMEOUT_SECONDS);
            let judged = pre_deploy::judged(&recorded, task.as_ref(), timeout, Timestamp::now());
            if judged.state == FAILED
                && task
                    .as_ref()
                    .is_some_and(|t| t.last_status.as_deref() != Some("STOPPED"))
            {
                stop(ctx, (region, cluster), &task_arn, obj).await?;
            }
            judged
        }
    };
    let hold = match record.state.as_str() {
        SUCCEEDED => {
            ctx.event(
                obj,
                EventType::Normal,
                "PreDeploySucceeded",
                format!(
                    "the pre-deploy task of {} succeeded; rolling it out",
                    desired.rsplit('/').next().unwrap_or(desired)
                ),
            )
            .await;
            None
        }
        // The Stalled condition's Warning tells it, once.
        FAILED => Some((
            Health::stalled("PreDeployFailed", pre_deploy::failure(&record)),
            None,
        )),
        _ => Some((
            Health::progressing("PreDeployRunning", pre_deploy::waiting(&record)),
            Some(POLL),
        )),
    };
    Ok(Step {
        record: Some(record),
        hold,
    })
}

/// RunTask of the run; its task's ARN. A task ECS could not place is a failed run.
async fn run(
    ctx: &Context,
    obj: &EcsService,
    (region, cluster): (&str, &str),
    desired: &str,
    client_token: &str,
) -> Result<String> {
    let spec = obj.spec.pre_deploy.as_ref().expect("a pre-deploy spec");
    let run_spec = pre_deploy::run_spec(&obj.spec, spec, cluster, desired);
    let identity = ctx.identity(obj);
    let input = task_mapping::run_task_input(
        &run_spec,
        cluster,
        desired,
        1,
        "ecs-operator/pre-deploy",
        tags::to_ecs(&tags::desired_tags(&[], &identity)),
        client_token,
    )?;
    let client = ctx.ecs.client(region);
    let output = ctx
        .ecs
        .call(region, "RunTask", input.send_with(&client))
        .await?;
    if let Some(task) = output.tasks().first() {
        return Ok(task.task_arn().unwrap_or_default().to_string());
    }
    let failure = output.failures().first();
    Err(Error::Ecs {
        operation: "RunTask",
        code: "TaskNotPlaced".into(),
        message: format!(
            "the pre-deploy task could not be placed: {}",
            failure
                .and_then(|f| f.reason())
                .unwrap_or("no reason given")
        ),
        class: crate::error::EcsErrorClass::Transient,
    })
}

/// The run's task as ECS reports it (None: ECS no longer knows it).
async fn describe(
    ctx: &Context,
    (region, cluster): (&str, &str),
    task_arn: &str,
) -> Result<Option<crate::api::task::TaskRecord>> {
    let client = ctx.ecs.client(region);
    let output = ctx
        .ecs
        .call(
            region,
            "DescribeTasks",
            client
                .describe_tasks()
                .cluster(cluster)
                .tasks(task_arn)
                .send(),
        )
        .await?;
    Ok(output.tasks().first().map(|t| task_mapping::record(t, 1)))
}

/// StopTask of a run past its timeout.
async fn stop(
    ctx: &Context,
    (region, cluster): (&str, &str),
    task_arn: &str,
    obj: &EcsService,
) -> Result<()> {
    let client = ctx.ecs.client(region);
    let reason = format!(
        "pre-deploy task of EcsService {}/{} timed out",
        obj.metadata.namespace.as_deref().unwrap_or_default(),
        obj.metadata.name.as_deref().unwrap_or_default()
    );
    ctx.ecs
        .call(
            region,
            "StopTask",
            client
                .stop_task()
                .cluster(cluster)
                .task(task_arn)
                .reason(reason)
                .send(),
        )
        .await?;
    Ok(())
}
