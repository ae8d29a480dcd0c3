//! The service deployment of an EcsService (DescribeServiceDeployments, while it runs) and the
//! approval annotations (ContinueServiceDeployment, StopServiceDeployment). What to ask and what it means
//! is [`crate::mapping::service::deployment`]'s.

use aws_sdk_ecs::types::{DeploymentLifecycleHookAction, Service, StopServiceDeploymentStopType};
use kube::ResourceExt;
use kube::runtime::events::EventType;

use super::super::Context;
use crate::api::EcsService;
use crate::api::service::{ApprovalsStatus, CurrentServiceDeployment, EcsServiceStatus, ROLLING};
use crate::error::EcsErrorClass;
use crate::mapping::service::Rollout;
use crate::mapping::service::deployment::{
    self as mapping, APPROVE_ANNOTATION, ApprovalAction, ROLLBACK_ANNOTATION,
};
use crate::{Error, Result};

/// What the service deployment step leaves: status.serviceDeployment and status.approvals, and
/// the rollout judged by the service deployment as well.
pub(super) struct Step {
    pub record: Option<CurrentServiceDeployment>,
    pub approvals: Option<ApprovalsStatus>,
    pub rollout: Rollout,
}

/// Reads the service deployment when due, acts on new approval annotations (then reads it again,
/// so that another hook waiting at the same time shows at once), announces a pause once, and
/// judges `classic` (the rollout as DescribeServices tells it) by the service deployment.
pub(super) async fn step(
    ctx: &Context,
    obj: &EcsService,
    region: &str,
    service: &Service,
    task_definition: &str,
    classic: Rollout,
    old: &EcsServiceStatus,
) -> Result<Step> {
    let (namespace, name) = (obj.namespace().unwrap_or_default(), obj.name_any());
    let target = (namespace.as_str(), name.as_str());
    let at = mapping::ReadContext {
        approval_pending: approval_pending(obj, old.approvals.as_ref()),
        rolling: obj
            .spec
            .deployment_configuration
            .as_ref()
            .is_none_or(|c| c.strategy() == ROLLING),
        looks_done: matches!(classic, Rollout::Ready),
        ..Default::default()
    };
    let mut seen = read(ctx, region, service, old.service_deployment.as_ref(), at).await?;
    let mut record = seen.record.take();
    let approved = approve(ctx, obj, region, old.approvals.as_ref(), &mut record).await?;
    if approved.acted {
        let again = mapping::ReadContext {
            approval_pending: true,
            ..at
        };
        seen = read(ctx, region, service, record.as_ref(), again).await?;
        record = seen.record.take();
    }
    announce_pause(
        ctx,
        obj,
        record.as_ref(),
        old.service_deployment.as_ref(),
        target,
    )
    .await;
    let rollout = match mapping::with_service_deployment(
        classic,
        record.as_ref().filter(|_| seen.fresh),
        task_definition,
        target,
    ) {
        Rollout::Ready if let Some(why) = &seen.failed => Rollout::InProgress {
            message: format!(
                "the rollout looks done; its service deployment could not be read yet: {why}"
            ),
        },
        rollout => rollout,
    };
    Ok(Step {
        record,
        approvals: approved.approvals,
        rollout,
    })
}

/// The service deployment to record in status and the one to judge the rollout by.
struct Read {
    /// status.serviceDeployment.
    pub record: Option<CurrentServiceDeployment>,
    /// Read in this reconcile, or recorded for the deployment that is still current: a
    /// record of an older deployment says nothing about the current one.
    pub fresh: bool,
    /// Why a read that was due failed (throttled, 5xx): the rollout cannot be called done yet,
    /// and is looked at again at the rollout poll rather than after an error's backoff.
    pub failed: Option<String>,
}

/// The service deployment ECS reports as current for `service`, read when
/// [`mapping::needs_read`] says so; `recorded` is status.serviceDeployment.
async fn read(
    ctx: &Context,
    region: &str,
    service: &Service,
    recorded: Option<&CurrentServiceDeployment>,
    at: mapping::ReadContext<'_>,
) -> Result<Read> {
    let kept = |recorded: Option<&CurrentServiceDeployment>| Read {
        fresh: recorded
            .is_some_and(|r| Some(r.arn.as_str()) == service.current_service_deployment()),
        record: recorded.cloned(),
        failed: None,
    };
    let Some(arn) = service.current_service_deployment() else {
        return Ok(kept(recorded));
    };
    if !mapping::needs_read(
        &mapping::ReadContext {
            current_arn: arn,
            ..at
        },
        recorded,
    ) {
        return Ok(kept(recorded));
    }
    // A deployment followed until now that is no longer current is read once more: ECS may
    // have rolled it back by starting another (the rollback's reason is on the first).
    let previous = recorded.filter(|r| r.arn != arn && !mapping::is_final(r.status.as_deref()));
    let client = ctx.ecs.client(region);
    let request = client
        .describe_service_deployments()
        .set_service_deployment_arns(Some(
            std::iter::once(arn.to_owned())
                .chain(previous.map(|p| p.arn.clone()))
                .collect(),
        ))
        .send();
    let output = match ctx
        .ecs
        .call(region, "DescribeServiceDeployments", request)
        .await
    {
        Ok(output) => output,
        Err(
            error @ Error::Ecs {
                class: EcsErrorClass::Throttled | EcsErrorClass::Transient,
                ..
            },
        ) => {
            return Ok(Read {
                failed: Some(error.to_string()),
                ..kept(recorded)
            });
        }
        Err(error) => return Err(error),
    };
    let described = |arn: &str| {
        output
            .service_deployments()
            .iter()
            .find(|sd| sd.service_deployment_arn() == Some(arn))
            .map(mapping::current_service_deployment)
    };
    let Some(current) = described(arn) else {
        return Ok(kept(recorded));
    };
    let previous = previous.and_then(|p| {
        described(&p.arn).map(|mut d| {
            d.task_definition = p.task_definition.clone();
            d
        })
    });
    let mut followed = mapping::followed(current, previous);
    // The revision's task definition does not change: kept from the first look, when
    // DescribeServices still lists the revision's deployment.
    followed.task_definition = recorded
        .filter(|r| r.arn == followed.arn)
        .and_then(|r| r.task_definition.clone())
        .or(followed.task_definition)
        .or_else(|| {
            followed
                .target_revision
                .as_deref()
                .and_then(|revision| mapping::revision_task_definition(service, revision))
        });
    Ok(Read {
        record: Some(followed),
        fresh: true,
        failed: None,
    })
}

/// Whether an approval annotation has a value not handled yet.
fn approval_pending(obj: &EcsService, recorded: Option<&ApprovalsStatus>) -> bool {
    let handled = |value: Option<&String>, done: Option<&String>| {
        value.is_none_or(|v| v.trim().is_empty() || Some(v.trim()) == done.map(String::as_str))
    };
    let recorded = recorded.cloned().unwrap_or_default();
    let annotations = obj.metadata.annotations.as_ref();
    let value = |key: &str| annotations.and_then(|a| a.get(key));
    !handled(
        value(APPROVE_ANNOTATION),
        recorded.approve.as_ref().map(|h| &h.value),
    ) || !handled(
        value(ROLLBACK_ANNOTATION),
        recorded.rollback.as_ref().map(|h| &h.value),
    )
}

/// Handles the approval annotations' new values against `sd`: each acts (or is told ignored)
/// once, and is recorded in the returned approvals. After an action `sd` no longer shows the
/// hook as pending (ECS has it now). Transient ECS errors propagate (the value is handled on
/// retry); ECS refusing the request is recorded and told as a Warning.
async fn approve(
    ctx: &Context,
    obj: &EcsService,
    region: &str,
    recorded: Option<&ApprovalsStatus>,
    sd: &mut Option<CurrentServiceDeployment>,
) -> Result<Approved> {
    let annotations = obj.metadata.annotations.clone().unwrap_or_default();
    let steps = mapping::plan_approvals(
        annotations.get(APPROVE_ANNOTATION).map(String::as_str),
        annotations.get(ROLLBACK_ANNOTATION).map(String::as_str),
        recorded,
        sd.as_ref(),
    );
    if steps.is_empty() {
        return Ok(Approved {
            approvals: recorded.cloned(),
            acted: false,
        });
    }
    let mut acted = false;
    let mut approvals = recorded.cloned().unwrap_or_default();
    let client = ctx.ecs.client(region);
    for step in steps {
        let result = match &step.action {
            None => Ok(()),
            Some(
                action @ (ApprovalAction::Continue { arn, hook_id }
                | ApprovalAction::RollbackAtHook { arn, hook_id }),
            ) => {
                let hook_action = match action {
                    ApprovalAction::Continue { .. } => DeploymentLifecycleHookAction::Continue,
                    _ => DeploymentLifecycleHookAction::Rollback,
                };
                let request = client
                    .continue_service_deployment()
                    .service_deployment_arn(arn)
                    .hook_id(hook_id)
                    .action(hook_action)
                    .send();
                ctx.ecs
                    .call(region, "ContinueServiceDeployment", request)
                    .await
                    .map(|_| ())
            }
            Some(ApprovalAction::Stop { arn }) => {
                let request = client
                    .stop_service_deployment()
                    .service_deployment_arn(arn)
                    .stop_type(StopServiceDeploymentStopType::Rollback)
                    .send();
                ctx.ecs
                    .call(region, "StopServiceDeployment", request)
                    .await
                    .map(|_| ())
            }
        };
        let (outcome, note, kind) = match result {
            Ok(()) => (
                step.outcome.clone(),
                step.announcement.note.clone(),
                if step.warning {
                    EventType::Warning
                } else {
                    EventType::Normal
                },
            ),
            Err(Error::Ecs {
                class: EcsErrorClass::Invalid | EcsErrorClass::NotFound,
                message,
                ..
            }) => {
                let outcome = format!("ECS refused it: {message}");
                let key = match step.annotation {
                    mapping::Annotation::Approve => APPROVE_ANNOTATION,
                    mapping::Annotation::Rollback => ROLLBACK_ANNOTATION,
                };
                (
                    outcome.clone(),
                    format!("{key}={}: {outcome}", step.value),
                    EventType::Warning,
                )
            }
            Err(other) => return Err(other),
        };
        let reason = if kind == EventType::Warning && !step.warning {
            "ApprovalRefused"
        } else {
            step.announcement.reason
        };
        ctx.event(obj, kind, reason, note).await;
        if step.action.is_some()
            && let Some(current) = sd.as_mut()
        {
            current.pending_hook = None;
            acted = true;
        }
        mapping::record(&mut approvals, &step, outcome);
    }
    Ok(Approved {
        approvals: Some(approvals),
        acted,
    })
}

/// The approvals handled, and whether a request went to ECS.
struct Approved {
    pub approvals: Option<ApprovalsStatus>,
    pub acted: bool,
}

/// Tells, once per hook, that a deployment waits for approval and how to give it.
async fn announce_pause(
    ctx: &Context,
    obj: &EcsService,
    sd: Option<&CurrentServiceDeployment>,
    recorded: Option<&CurrentServiceDeployment>,
    target: (&str, &str),
) {
    let Some((sd, hook)) = sd.and_then(|sd| sd.pending_hook.as_ref().map(|h| (sd, h))) else {
        return;
    };
    let told = recorded
        .and_then(|r| r.pending_hook.as_ref())
        .is_some_and(|h| h.hook_id == hook.hook_id);
    if !told {
        let message = mapping::awaiting_message(target, sd, hook);
        ctx.event(obj, EventType::Normal, "AwaitingApproval", message)
            .await;
    }
}
