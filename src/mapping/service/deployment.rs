//! The service deployment (DescribeServiceDeployments) as status and readiness, and the
//! approval annotations as ECS requests: `ecs.operator.dev/approve=<hookId>` continues a PAUSE
//! hook (ContinueServiceDeployment CONTINUE), `ecs.operator.dev/rollback=<service deployment>`
//! rolls a deployment back (ContinueServiceDeployment ROLLBACK while a hook waits,
//! StopServiceDeployment ROLLBACK otherwise). Pure: no client.
//!
//! The values stay in Git (or wherever they were set): the operator never removes them, so Argo
//! CD and Flux keep an empty diff. Each value acts at most once (status.approvals records it),
//! and names one hook or one deployment, so a value left over from an earlier deployment can
//! never approve a later one.

use aws_sdk_ecs::types::{DeploymentLifecycleHookStatus, Service, ServiceDeployment};

use super::plan::Announcement;
use super::{Rollout, same_task_definition, short_task_definition, timestamp};
use crate::api::service::{ApprovalsStatus, CurrentServiceDeployment, HandledRequest, PendingHook};

/// The annotation whose value (a hook ID) continues that PAUSE hook.
pub const APPROVE_ANNOTATION: &str = "ecs.operator.dev/approve";
/// The annotation whose value (a service deployment ARN or ID) rolls that deployment back.
pub const ROLLBACK_ANNOTATION: &str = "ecs.operator.dev/rollback";

/// Service deployment statuses after which ECS does nothing more with the deployment.
const FINAL: &[&str] = &[
    "SUCCESSFUL",
    "STOPPED",
    "ROLLBACK_SUCCESSFUL",
    "ROLLBACK_FAILED",
];

/// The status record of `sd`. `task_definition` is the target revision's task definition, when
/// known (from DescribeServices, [`revision_task_definition`]).
pub fn current_service_deployment(sd: &ServiceDeployment) -> CurrentServiceDeployment {
    let pending = sd
        .lifecycle_hook_details()
        .iter()
        .find(|h| h.status() == Some(&DeploymentLifecycleHookStatus::AwaitingAction));
    let target = sd.target_service_revision();
    CurrentServiceDeployment {
        arn: sd.service_deployment_arn().unwrap_or_default().to_owned(),
        status: sd.status().map(|s| s.as_str().to_owned()),
        status_reason: sd.status_reason().map(str::to_owned),
        lifecycle_stage: sd.lifecycle_stage().map(|s| s.as_str().to_owned()),
        source_revisions: sd
            .source_service_revisions()
            .iter()
            .filter_map(|r| r.arn().map(str::to_owned))
            .collect(),
        target_revision: target.and_then(|t| t.arn().map(str::to_owned)),
        task_definition: None,
        production_traffic_weight: target.and_then(|t| t.requested_production_traffic_weight()),
        test_traffic_weight: target.and_then(|t| t.requested_test_traffic_weight()),
        pending_hook: pending.map(|h| PendingHook {
            hook_id: h.hook_id().unwrap_or_default().to_owned(),
            target_type: h.target_type().map(|t| t.as_str().to_owned()),
            status: h.status().map(|s| s.as_str().to_owned()),
            lifecycle_stage: sd.lifecycle_stage().map(|s| s.as_str().to_owned()),
            expires_at: h
                .expires_at()
                .and_then(timestamp)
                .map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()),
            timeout_action: h.timeout_action().map(|a| a.as_str().to_owned()),
        }),
    }
}

/// What a reconcile knows when it decides whether to read the service deployment.
#[derive(Clone, Copy, Debug, Default)]
pub struct ReadContext<'a> {
    /// DescribeServices' `currentServiceDeployment`.
    pub current_arn: &'a str,
    /// An approval annotation has a value not handled yet.
    pub approval_pending: bool,
    /// The service deploys with ROLLING (no stages, no hooks).
    pub rolling: bool,
    /// DescribeServices' deployments say the rollout is done.
    pub looks_done: bool,
}

/// Whether DescribeServiceDeployments must be read: a deployment not recorded yet or not ended,
/// or an approval annotation not handled yet. A ROLLING deployment is followed through
/// DescribeServices while it runs and read once it looks done (Ready waits for SUCCESSFUL); a
/// finished deployment is never read again.
pub fn needs_read(at: &ReadContext, recorded: Option<&CurrentServiceDeployment>) -> bool {
    let ended = recorded.is_some_and(|r| r.arn == at.current_arn && is_final(r.status.as_deref()));
    let winding_down = recorded.is_some_and(|r| is_winding_down(r.status.as_deref()));
    at.approval_pending || !ended && (!at.rolling || at.looks_done || winding_down)
}

/// Whether `status` is a rollback or a stop ECS has yet to finish.
pub fn is_winding_down(status: Option<&str>) -> bool {
    matches!(
        status,
        Some("ROLLBACK_REQUESTED" | "ROLLBACK_IN_PROGRESS" | "STOP_REQUESTED")
    )
}

/// The task definition the service revision `revision` runs, from DescribeServices'
/// deployments: a revision ARN ends in the number of its deployment
/// (`.../service-revision/<cluster>/<service>/<digits>` for `ecs-svc/<digits>`). None when ECS
/// no longer lists that deployment.
pub fn revision_task_definition(service: &Service, revision: &str) -> Option<String> {
    let digits = revision.rsplit('/').next()?;
    service
        .deployments()
        .iter()
        .find(|d| d.id().and_then(|id| id.strip_prefix("ecs-svc/")) == Some(digits))
        .and_then(|d| d.task_definition().map(str::to_owned))
}

/// Which service deployment status records: the current one, unless the one followed before it
/// (`previous`, read again once it stopped being current) was rolled back: ECS may roll back by
/// starting a new deployment of the old revision, and the reason is the rolled-back one's.
pub fn followed(
    current: CurrentServiceDeployment,
    previous: Option<CurrentServiceDeployment>,
) -> CurrentServiceDeployment {
    match previous {
        Some(p)
            if p.status
                .as_deref()
                .is_some_and(|s| s.starts_with("ROLLBACK_")) =>
        {
            p
        }
        _ => current,
    }
}

/// The deployment's ID: the last segment of its ARN.
pub fn deployment_id(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

/// The rollout, told by the service deployment as well as by DescribeServices' deployments:
/// Ready only once the service deployment SUCCEEDED; a hook awaiting action is
/// AwaitingApproval; a service deployment of `desired` rolled back or stopped is Failed with
/// ECS's reason. `target` is the EcsService (namespace, name), for the approval instructions.
pub fn with_service_deployment(
    rollout: Rollout,
    sd: Option<&CurrentServiceDeployment>,
    desired: &str,
    target: (&str, &str),
) -> Rollout {
    let Some(sd) = sd else { return rollout };
    let id = deployment_id(&sd.arn);
    let status = sd.status.as_deref().unwrap_or("PENDING");
    let for_desired = sd
        .task_definition
        .as_deref()
        .is_none_or(|td| same_task_definition(td, desired));
    let told = |status: &str| {
        let reason = sd
            .status_reason
            .as_deref()
            .map(|r| format!(": {}", r.trim_end_matches('.')))
            .unwrap_or_default();
        format!("service deployment {id} {status}{reason}")
    };
    let rolled_back_or_stopped = !matches!(status, "PENDING" | "IN_PROGRESS" | "SUCCESSFUL");
    match rollout {
        // The classic deployment says it failed; the service deployment says why, in more words
        // (which hook, which stage).
        Rollout::Failed { message }
            if for_desired && rolled_back_or_stopped && !message.contains(id) =>
        {
            return Rollout::Failed {
                message: format!("{}; {}", message.trim_end_matches('.'), told(status)),
            };
        }
        Rollout::Failed { .. } | Rollout::NotActive { .. } => return rollout,
        _ => {}
    }
    let stage = stage_words(sd);
    match status {
        "SUCCESSFUL" => rollout,
        "PENDING" | "IN_PROGRESS" => match &sd.pending_hook {
            Some(hook) => Rollout::AwaitingApproval {
                message: awaiting_message(target, sd, hook),
            },
            None => {
                let ecs_says = format!(
                    "service deployment {id} {}{stage}",
                    status.to_lowercase().replace('_', " ")
                );
                match rollout {
                    Rollout::InProgress { message } => Rollout::InProgress {
                        message: format!("{message}; {ecs_says}"),
                    },
                    _ => Rollout::InProgress { message: ecs_says },
                }
            }
        },
        _ if !for_desired => rollout,
        _ => {
            let revision = sd
                .task_definition
                .as_deref()
                .map(short_task_definition)
                .unwrap_or(desired);
            Rollout::Failed {
                message: format!(
                    "{} (it rolled out {revision}); register a new revision, or set ecs.operator.dev/restartedAt to \
                     try this one again",
                    told(status)
                ),
            }
        }
    }
}

/// ", at stage PRODUCTION_TRAFFIC_SHIFT, 30% of production traffic" (what ECS reports).
fn stage_words(sd: &CurrentServiceDeployment) -> String {
    let mut words = String::new();
    if let Some(stage) = &sd.lifecycle_stage {
        words.push_str(&format!(", at stage {stage}"));
    }
    if let Some(weight) = sd.production_traffic_weight {
        words.push_str(&format!(", {weight}% of production traffic"));
    }
    words
}

/// How to approve or roll back deployment `sd` paused at `hook`, as one sentence. `target` is
/// the EcsService (namespace, name). ECS reports the deployment's stage, not the hook's own (a
/// PRE_PRODUCTION_TRAFFIC_SHIFT hook waits during PRODUCTION_TRAFFIC_SHIFT).
pub fn awaiting_message(
    (namespace, name): (&str, &str),
    sd: &CurrentServiceDeployment,
    hook: &PendingHook,
) -> String {
    let id = deployment_id(&sd.arn);
    let timeout = match (&hook.expires_at, &hook.timeout_action) {
        (Some(at), Some(action)) => format!("; ECS will {} at {at}", action.to_lowercase()),
        _ => String::new(),
    };
    let stage = stage_words(sd);
    format!(
        "service deployment {id} is paused awaiting approval{stage}{timeout}: approve with `kubectl ecs approve \
         {name} -n {namespace}` (or `kubectl annotate --overwrite ecss {name} -n {namespace} \
         {APPROVE_ANNOTATION}={}`), or roll back with `kubectl ecs rollback {name} -n {namespace}` \
         ({ROLLBACK_ANNOTATION}={id})",
        hook.hook_id
    )
}

/// What an approval annotation asks of ECS.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ApprovalAction {
    /// ContinueServiceDeployment CONTINUE.
    Continue { arn: String, hook_id: String },
    /// ContinueServiceDeployment ROLLBACK (a hook is waiting).
    RollbackAtHook { arn: String, hook_id: String },
    /// StopServiceDeployment ROLLBACK.
    Stop { arn: String },
}

/// Which annotation a step handles.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Annotation {
    Approve,
    Rollback,
}

/// One annotation value to handle: the request (None when it names nothing it can act on), what
/// to record, and the event that tells it (Normal when acting, Warning when ignored).
#[derive(Clone, Debug, PartialEq)]
pub struct ApprovalStep {
    pub annotation: Annotation,
    pub value: String,
    pub action: Option<ApprovalAction>,
    pub outcome: String,
    pub announcement: Announcement,
    pub warning: bool,
}

/// The approval annotations' values not handled yet (`recorded`), against the current service
/// deployment `sd`: at most one step per annotation.
pub fn plan_approvals(
    approve: Option<&str>,
    rollback: Option<&str>,
    recorded: Option<&ApprovalsStatus>,
    sd: Option<&CurrentServiceDeployment>,
) -> Vec<ApprovalStep> {
    let handled = |h: Option<&HandledRequest>, value: &str| h.is_some_and(|h| h.value == value);
    let recorded = recorded.cloned().unwrap_or_default();
    let in_progress =
        sd.filter(|sd| matches!(sd.status.as_deref(), Some("PENDING" | "IN_PROGRESS")));
    // A rollback goes first, and wins over an approval given at the same time: the safe choice.
    let mut steps: Vec<ApprovalStep> = Vec::new();
    if let Some(value) = rollback.map(str::trim).filter(|v| !v.is_empty())
        && !handled(recorded.rollback.as_ref(), value)
    {
        let named = in_progress.filter(|sd| sd.arn == value || deployment_id(&sd.arn) == value);
        steps.push(match named {
            Some(sd) => {
                let id = deployment_id(&sd.arn);
                let (action, how) = match sd.pending_hook.as_ref() {
                    Some(hook) => (
                        ApprovalAction::RollbackAtHook {
                            arn: sd.arn.clone(),
                            hook_id: hook.hook_id.clone(),
                        },
                        format!("at its paused hook {}", hook.hook_id),
                    ),
                    None => (
                        ApprovalAction::Stop {
                            arn: sd.arn.clone(),
                        },
                        "with StopServiceDeployment".to_owned(),
                    ),
                };
                let outcome = format!("asked ECS to roll back service deployment {id} {how}");
                ApprovalStep {
                    annotation: Annotation::Rollback,
                    value: value.to_owned(),
                    action: Some(action),
                    announcement: Announcement::new(
                        "RollbackRequested",
                        format!("{ROLLBACK_ANNOTATION}={value}: {outcome}"),
                    ),
                    outcome,
                    warning: false,
                }
            }
            None => ignored(
                Annotation::Rollback,
                value,
                format!(
                    "not sent: {value} names no service deployment in progress (rolled back or finished already, \
                     or not this service's)"
                ),
            ),
        });
    }
    if let Some(value) = approve.map(str::trim).filter(|v| !v.is_empty())
        && !handled(recorded.approve.as_ref(), value)
    {
        let rolling_back = steps.iter().any(|s: &ApprovalStep| s.action.is_some());
        let hook = in_progress.filter(|_| !rolling_back).and_then(|sd| {
            sd.pending_hook
                .as_ref()
                .filter(|h| h.hook_id == value)
                .map(|h| (sd, h))
        });
        steps.push(match hook {
            Some((sd, hook)) => {
                let id = deployment_id(&sd.arn);
                let stage = hook.lifecycle_stage.as_deref().unwrap_or("its stage");
                let outcome = format!("continued service deployment {id} at {stage} (hook {value})");
                ApprovalStep {
                    annotation: Annotation::Approve,
                    value: value.to_owned(),
                    action: Some(ApprovalAction::Continue {
                        arn: sd.arn.clone(),
                        hook_id: value.to_owned(),
                    }),
                    announcement: Announcement::new("Approved", format!("{APPROVE_ANNOTATION}={value}: {outcome}")),
                    outcome,
                    warning: false,
                }
            }
            None if rolling_back => ignored(
                Annotation::Approve,
                value,
                format!("not sent: {ROLLBACK_ANNOTATION} rolls the deployment back"),
            ),
            None => ignored(Annotation::Approve, value, format!(
                "not sent: hook {value} does not await approval in the current service deployment (continued \
                 already, or not this deployment's)"
            )),
        });
    }
    steps
}

fn ignored(annotation: Annotation, value: &str, outcome: String) -> ApprovalStep {
    let key = match annotation {
        Annotation::Approve => APPROVE_ANNOTATION,
        Annotation::Rollback => ROLLBACK_ANNOTATION,
    };
    ApprovalStep {
        annotation,
        value: value.to_owned(),
        action: None,
        announcement: Announcement::new("ApprovalIgnored", format!("{key}={value}: {outcome}")),
        outcome,
        warning: true,
    }
}

/// Records handled `step` in `approvals`.
pub fn record(approvals: &mut ApprovalsStatus, step: &ApprovalStep, outcome: String) {
    let handled = Some(HandledRequest {
        value: step.value.clone(),
        outcome,
    });
    match step.annotation {
        Annotation::Approve => approvals.approve = handled,
        Annotation::Rollback => approvals.rollback = handled,
    }
}

/// Whether `status` is a service deployment status ECS has finished with.
pub fn is_final(status: Option<&str>) -> bool {
    status.is_some_and(|s| FINAL.contains(&s))
}
