//! The rollout as ECS reports it: whether the service is Ready, in progress or failed (and
//! why), the status facts, the failures remembered across looks, and which ECS service events
//! still need mirroring. Pure: no client, no I/O.

use super::*;

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
    /// A lifecycle hook holds the deployment until someone approves or rolls it back (or its
    /// timeout acts); the message says how.
    AwaitingApproval { message: String },
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
pub(super) fn failed_deployment<'a>(
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
