//! EcsTask: the spec as an ECS RunTask request, ECS tasks as status records, whether a task
//! succeeded, and the plan of a run (start tasks, wait, finish, or fail and stop the rest), with
//! Kubernetes Job semantics. No I/O.

use std::time::Duration;

use aws_sdk_ecs::operation::run_task::RunTaskInput;
use aws_sdk_ecs::operation::run_task::builders::RunTaskInputBuilder;
use aws_sdk_ecs::types as ecs;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use sha2::{Digest, Sha256};

use super::service::{
    build_error, capacity_provider_strategy, network_configuration, non_empty,
    placement_constraints, placement_strategy, timestamp,
};
use super::task_definition::key_value_pair;
use crate::api::task::{
    ContainerOverride, ContainerRecord, EbsTagSpecification, EcsTaskSpec, EcsTaskStatus,
    TaskOverride, TaskRecord, TaskVolumeConfiguration,
};
use crate::{Error, Result};

/// Tasks DescribeTasks takes per call (API reference: "up to 100 tasks").
pub const DESCRIBE_BATCH: usize = 100;
/// `backoffLimit` when omitted (see [`EcsTaskSpec::backoff_limit`] for why not Job's 6).
pub const DEFAULT_BACKOFF_LIMIT: i32 = 0;

pub const STOPPED: &str = "STOPPED";
/// ECS's stop code when an essential container exited (API reference, Task `stopCode`).
pub const ESSENTIAL_CONTAINER_EXITED: &str = "EssentialContainerExited";

/// Phases (`status.phase`).
pub const PENDING: &str = "Pending";
pub const RUNNING: &str = "Running";
pub const COMPLETE: &str = "Complete";
pub const FAILED: &str = "Failed";

/// Why a run failed (`status.failureReason`, the Stalled and Failed reasons).
pub const BACKOFF_LIMIT_EXCEEDED: &str = "BackoffLimitExceeded";
pub const DEADLINE_EXCEEDED: &str = "DeadlineExceeded";

/// Tasks the run needs to succeed: spec.count, default 1.
pub fn count(spec: &EcsTaskSpec) -> i32 {
    spec.count.unwrap_or(1)
}

/// Checks what the CRD's CEL rules also enforce (objects admitted before the CRD had them).
pub fn validate(spec: &EcsTaskSpec) -> Result<()> {
    let invalid = |m: &str| Err(Error::InvalidSpec(m.to_owned()));
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
    if !(1..=10).contains(&count(spec)) {
        return invalid("spec.count is between 1 and 10");
    }
    Ok(())
}

/// RunTask's clientToken for attempt `attempt` of the object with uid `uid`: the same for every
/// try of one attempt, so a RunTask repeated after a crash or a lost answer returns the tasks the
/// first one started ("Ensuring idempotency", ECS API reference: same token and parameters
/// return the original result; the token lives 24 hours or the tasks' lifetime plus an hour,
/// whichever is lower; up to 64 ASCII characters). 32 hex characters.
pub fn client_token(uid: &str, attempt: i32) -> String {
    let digest = Sha256::digest(format!("{uid}/run/{attempt}"));
    format!("{digest:x}")[..32].to_string()
}

/// ECS `startedBy` of the tasks: spec.startedBy, else `ecs-operator/` and the first 23
/// characters of the uid (36 in all, ECS's limit), so `aws ecs list-tasks --started-by` finds
/// one run's tasks.
pub fn started_by(spec: &EcsTaskSpec, uid: &str) -> String {
    spec.started_by
        .clone()
        .unwrap_or_else(|| format!("ecs-operator/{}", uid.chars().take(23).collect::<String>()))
}

/// The RunTask request of one attempt: `count` tasks of `task_definition` on `cluster`, tagged
/// `tags` (the spec's and the ownership tags), idempotent through `client_token`.
pub fn run_task_input(
    spec: &EcsTaskSpec,
    cluster: &str,
    task_definition: &str,
    count: i32,
    started_by: &str,
    tags: Vec<ecs::Tag>,
    client_token: &str,
) -> Result<RunTaskInputBuilder> {
    validate(spec)?;
    Ok(RunTaskInput::builder()
        .cluster(cluster)
        .task_definition(task_definition)
        .count(count)
        .client_token(client_token)
        .started_by(started_by)
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
        .set_overrides(spec.overrides.as_ref().map(overrides).transpose()?)
        .set_placement_constraints(non_empty(placement_constraints(
            &spec.placement_constraints,
        )))
        .set_placement_strategy(non_empty(placement_strategy(&spec.placement_strategy)))
        .set_group(spec.group.clone())
        .set_enable_execute_command(spec.enable_execute_command)
        .set_enable_ecs_managed_tags(spec.enable_ecs_managed_tags)
        .set_propagate_tags(spec.propagate_tags.as_deref().map(ecs::PropagateTags::from))
        .set_volume_configurations(non_empty(
            spec.volume_configurations
                .iter()
                .map(volume_configuration)
                .collect::<Result<Vec<_>>>()?,
        ))
        .set_tags(non_empty(tags)))
}

/// `tagSpecifications` of a managed EBS volume (RunTask and CreateService/UpdateService).
pub(crate) fn ebs_tag_specifications(
    specs: &[EbsTagSpecification],
) -> Result<Vec<ecs::EbsTagSpecification>> {
    specs
        .iter()
        .map(|t| {
            ecs::EbsTagSpecification::builder()
                .resource_type(t.resource_type.as_str().into())
                .set_tags(non_empty(
                    t.tags
                        .iter()
                        .map(|tag| ecs::Tag::builder().key(&tag.key).value(&tag.value).build())
                        .collect(),
                ))
                .set_propagate_tags(t.propagate_tags.as_deref().map(ecs::PropagateTags::from))
                .build()
                .map_err(build_error(
                    "volumeConfigurations.managedEBSVolume.tagSpecifications",
                ))
        })
        .collect()
}

fn volume_configuration(v: &TaskVolumeConfiguration) -> Result<ecs::TaskVolumeConfiguration> {
    let ebs = &v.managed_ebs_volume;
    let tag_specifications = ebs_tag_specifications(&ebs.tag_specifications)?;
    let termination = ebs
        .termination_policy
        .as_ref()
        .map(|p| {
            ecs::TaskManagedEbsVolumeTerminationPolicy::builder()
                .delete_on_termination(p.delete_on_termination)
                .build()
        })
        .transpose()
        .map_err(build_error(
            "volumeConfigurations.managedEBSVolume.terminationPolicy",
        ))?;
    let managed = ecs::TaskManagedEbsVolumeConfiguration::builder()
        .role_arn(&ebs.role_arn)
        .set_volume_type(ebs.volume_type.clone())
        .set_size_in_gib(ebs.size_in_gib)
        .set_snapshot_id(ebs.snapshot_id.clone())
        .set_volume_initialization_rate(ebs.volume_initialization_rate)
        .set_iops(ebs.iops)
        .set_throughput(ebs.throughput)
        .set_encrypted(ebs.encrypted)
        .set_kms_key_id(ebs.kms_key_id.clone())
        .set_filesystem_type(
            ebs.filesystem_type
                .as_deref()
                .map(ecs::TaskFilesystemType::from),
        )
        .set_termination_policy(termination)
        .set_tag_specifications(non_empty(tag_specifications))
        .build()
        .map_err(build_error("volumeConfigurations.managedEBSVolume"))?;
    ecs::TaskVolumeConfiguration::builder()
        .name(&v.name)
        .managed_ebs_volume(managed)
        .build()
        .map_err(build_error("volumeConfigurations"))
}

fn overrides(o: &TaskOverride) -> Result<ecs::TaskOverride> {
    Ok(ecs::TaskOverride::builder()
        .set_container_overrides(non_empty(
            o.container_overrides
                .iter()
                .map(container_override)
                .collect::<Result<Vec<_>>>()?,
        ))
        .set_cpu(o.cpu.clone())
        .set_memory(o.memory.clone())
        .set_task_role_arn(o.task_role_arn.clone())
        .set_execution_role_arn(o.execution_role_arn.clone())
        .set_ephemeral_storage(o.ephemeral_storage.as_ref().map(|e| {
            ecs::EphemeralStorage::builder()
                .size_in_gib(e.size_in_gib)
                .build()
        }))
        .build())
}

fn container_override(c: &ContainerOverride) -> Result<ecs::ContainerOverride> {
    let files = c
        .environment_files
        .iter()
        .map(|f| {
            ecs::EnvironmentFile::builder()
                .value(&f.value)
                .r#type(f.type_.as_str().into())
                .build()
                .map_err(build_error("overrides.containerOverrides.environmentFiles"))
        })
        .collect::<Result<Vec<_>>>()?;
    let resources = c
        .resource_requirements
        .iter()
        .map(|r| {
            ecs::ResourceRequirement::builder()
                .value(&r.value)
                .r#type(r.type_.as_str().into())
                .build()
                .map_err(build_error(
                    "overrides.containerOverrides.resourceRequirements",
                ))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(ecs::ContainerOverride::builder()
        .name(&c.name)
        .set_command(c.command.clone())
        .set_environment(non_empty(
            c.environment.iter().map(key_value_pair).collect(),
        ))
        .set_environment_files(non_empty(files))
        .set_cpu(c.cpu)
        .set_memory(c.memory)
        .set_memory_reservation(c.memory_reservation)
        .set_resource_requirements(non_empty(resources))
        .build())
}

/// A task as ECS reports it (DescribeTasks, RunTask), started by attempt `attempt`.
pub fn record(task: &ecs::Task, attempt: i32) -> TaskRecord {
    let time = |t: Option<&aws_smithy_types::DateTime>| t.and_then(timestamp).map(Time);
    TaskRecord {
        task_arn: task.task_arn().unwrap_or_default().to_string(),
        attempt,
        last_status: task.last_status().map(str::to_string),
        desired_status: task.desired_status().map(str::to_string),
        started_at: time(task.started_at()),
        stopped_at: time(task.stopped_at()),
        stop_code: task.stop_code().map(|c| c.as_str().to_string()),
        stopped_reason: task.stopped_reason().map(str::to_string),
        containers: task
            .containers()
            .iter()
            .map(|c| ContainerRecord {
                name: c.name().unwrap_or_default().to_string(),
                exit_code: c.exit_code(),
                reason: c.reason().map(str::to_string),
            })
            .collect(),
    }
}

/// A task RunTask could not place (its `failures`: "RESOURCE:MEMORY", "AGENT" ...), recorded as
/// a task that failed to start, so that backoffLimit counts it like any other failure (Step
/// Functions' `ecs:runTask.sync` fails on a non-empty `failures` too: "Run Amazon ECS or Fargate
/// tasks with Step Functions").
pub fn unplaced(
    arn: Option<&str>,
    reason: Option<&str>,
    detail: Option<&str>,
    attempt: i32,
) -> TaskRecord {
    let reason = match (reason, detail) {
        (Some(r), Some(d)) => format!("RunTask could not place the task: {r} ({d})"),
        (Some(r), None) => format!("RunTask could not place the task: {r}"),
        _ => "RunTask could not place the task".to_string(),
    };
    TaskRecord {
        task_arn: arn.unwrap_or_default().to_string(),
        attempt,
        last_status: Some(STOPPED.into()),
        desired_status: Some(STOPPED.into()),
        stop_code: Some("TaskFailedToStart".into()),
        stopped_reason: Some(reason),
        ..TaskRecord::default()
    }
}

/// Where a task stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Active,
    Succeeded,
    Failed,
}

/// Whether a task succeeded. ECS judges no success itself: it stops a task when an essential
/// container exits ("If the essential parameter of a container is marked as true, and that
/// container fails or stops for any reason, all other containers that are part of the task are
/// stopped", task definition parameters, `essential`), with stop code EssentialContainerExited,
/// and records each container's exit code (AWS re:Post, "Why is my Amazon ECS task stopped?":
/// identify the exit code with DescribeTasks). So a task succeeded when it stopped that way and
/// every essential container (`essential`: their names, from the task definition; empty when
/// unknown, then every container) exited 0. A container without an exit code did not succeed: a
/// task whose image could not be pulled has none (the trap of kayac/ecspresso#534, which read it
/// as success). A task stopped by anyone else (UserInitiated, SpotInterruption,
/// TaskFailedToStart ...) failed.
pub fn outcome(task: &TaskRecord, essential: &[String]) -> Outcome {
    if task.last_status.as_deref() != Some(STOPPED) {
        return Outcome::Active;
    }
    let judged: Vec<&ContainerRecord> = task
        .containers
        .iter()
        .filter(|c| essential.is_empty() || essential.contains(&c.name))
        .collect();
    let exited_zero = !judged.is_empty() && judged.iter().all(|c| c.exit_code == Some(0));
    if task.stop_code.as_deref() == Some(ESSENTIAL_CONTAINER_EXITED) && exited_zero {
        Outcome::Succeeded
    } else {
        Outcome::Failed
    }
}

/// (active, succeeded, failed) of `tasks`.
pub fn counts(tasks: &[TaskRecord], essential: &[String]) -> (i32, i32, i32) {
    tasks
        .iter()
        .fold((0, 0, 0), |(a, s, f), t| match outcome(t, essential) {
            Outcome::Active => (a + 1, s, f),
            Outcome::Succeeded => (a, s + 1, f),
            Outcome::Failed => (a, s, f + 1),
        })
}

/// What the run does next.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Plan {
    /// Start this many tasks (the first run, or replacements of failed tasks).
    Run(i32),
    /// Tasks are running: look again later.
    Wait,
    /// Every task needed succeeded.
    Complete,
    /// The run failed: stop the tasks still running (their ARNs), with this reason and message.
    Fail {
        reason: &'static str,
        message: String,
        stop: Vec<String>,
    },
}

/// The next step of a run whose status is `status`, at `now`. Job semantics: done when `count`
/// tasks succeeded; failed once more than `backoffLimit` tasks failed, or when
/// `activeDeadlineSeconds` passed since the start; else every task that failed is replaced.
pub fn plan(spec: &EcsTaskSpec, status: &EcsTaskStatus, now: Timestamp) -> Plan {
    let essential = &status.essential_containers;
    let (active, succeeded, failed) = counts(&status.tasks, essential);
    let wanted = count(spec);
    if succeeded >= wanted {
        return Plan::Complete;
    }
    let running = || {
        status
            .tasks
            .iter()
            .filter(|t| {
                outcome(t, essential) == Outcome::Active
                    && t.desired_status.as_deref() != Some(STOPPED)
            })
            .map(|t| t.task_arn.clone())
            .collect()
    };
    let limit = spec.backoff_limit.unwrap_or(DEFAULT_BACKOFF_LIMIT);
    if failed > limit {
        return Plan::Fail {
            reason: BACKOFF_LIMIT_EXCEEDED,
            message: format!(
                "{failed} task(s) failed, more than the backoffLimit of {limit}{}",
                last_failure(status)
                    .map(|f| format!("; last: {f}"))
                    .unwrap_or_default()
            ),
            stop: running(),
        };
    }
    if let Some(deadline) = deadline_in(spec, status, now)
        && deadline.is_zero()
    {
        return Plan::Fail {
            reason: DEADLINE_EXCEEDED,
            message: format!(
                "the run was active longer than activeDeadlineSeconds ({} s)",
                spec.active_deadline_seconds.unwrap_or_default()
            ),
            stop: running(),
        };
    }
    let missing = wanted - succeeded - active;
    if missing > 0 {
        Plan::Run(missing)
    } else {
        Plan::Wait
    }
}

/// Time left until activeDeadlineSeconds passes (zero once it has); None without a deadline or
/// before the run started.
pub fn deadline_in(spec: &EcsTaskSpec, status: &EcsTaskStatus, now: Timestamp) -> Option<Duration> {
    let seconds = spec.active_deadline_seconds?;
    let start = status.start_time.as_ref()?.0;
    let end = start.as_second().saturating_add(seconds);
    Some(Duration::from_secs(
        u64::try_from(end - now.as_second()).unwrap_or(0),
    ))
}

/// Time left until a finished run's ttlSecondsAfterFinished passes (zero once it has); None
/// without a TTL or before the run finished.
pub fn ttl_in(spec: &EcsTaskSpec, status: &EcsTaskStatus, now: Timestamp) -> Option<Duration> {
    let ttl = i64::from(spec.ttl_seconds_after_finished?);
    let done = status.completion_time.as_ref()?.0;
    let end = done.as_second().saturating_add(ttl);
    Some(Duration::from_secs(
        u64::try_from(end - now.as_second()).unwrap_or(0),
    ))
}

/// The stop of the most recent failed task, in words.
fn last_failure(status: &EcsTaskStatus) -> Option<String> {
    status
        .tasks
        .iter()
        .rev()
        .find(|t| outcome(t, &status.essential_containers) == Outcome::Failed)
        .map(|t| stop_summary(t, &status.essential_containers))
}

/// How a stopped task ended, for its event and messages: "task 1a2b… stopped: Essential
/// container in task exited (container app exited with 3)".
pub fn stop_summary(task: &TaskRecord, essential: &[String]) -> String {
    let id = task.task_arn.rsplit('/').next().unwrap_or_default();
    let reason = task
        .stopped_reason
        .as_deref()
        .or(task.stop_code.as_deref())
        .unwrap_or("no reason given");
    let exits: Vec<String> = task
        .containers
        .iter()
        .filter(|c| essential.is_empty() || essential.contains(&c.name))
        .map(|c| match (c.exit_code, c.reason.as_deref()) {
            (Some(code), _) => format!("container {} exited with {code}", c.name),
            (None, Some(why)) => format!("container {}: {why}", c.name),
            (None, None) => format!("container {} has no exit code", c.name),
        })
        .collect();
    let task = if id.is_empty() {
        "a task".to_string()
    } else {
        format!("task {id}")
    };
    if exits.is_empty() {
        format!("{task} stopped: {reason}")
    } else {
        format!("{task} stopped: {reason} ({})", exits.join(", "))
    }
}

/// `1m30s`, `2h5m`, `42s`: kubectl's style for a Job's duration.
pub fn duration(from: Timestamp, to: Timestamp) -> String {
    let seconds = (to.as_second() - from.as_second()).max(0);
    let (h, m, s) = (seconds / 3600, seconds % 3600 / 60, seconds % 60);
    match (h, m) {
        (0, 0) => format!("{s}s"),
        (0, _) => format!("{m}m{s}s"),
        _ => format!("{h}h{m}m"),
    }
}

/// The phase, counts and completions of `status` for `spec`, from its tasks and failure.
pub fn summarize(spec: &EcsTaskSpec, status: &mut EcsTaskStatus) {
    let (active, succeeded, failed) = counts(&status.tasks, &status.essential_containers);
    (status.active, status.succeeded, status.failed) = (active, succeeded, failed);
    status.completions = Some(format!("{succeeded}/{}", count(spec)));
    status.phase = Some(
        if status.failure_reason.is_some() {
            FAILED
        } else if succeeded >= count(spec) {
            COMPLETE
        } else if status.tasks.is_empty() {
            PENDING
        } else {
            RUNNING
        }
        .to_string(),
    );
    status.duration = match (&status.start_time, &status.completion_time) {
        (Some(start), Some(end)) => Some(duration(start.0, end.0)),
        _ => None,
    };
}

/// Whether the run is over (Complete or Failed) and nothing of it still runs: nothing is read
/// from ECS any more.
pub fn finished(status: &EcsTaskStatus) -> bool {
    matches!(status.phase.as_deref(), Some(COMPLETE | FAILED))
        && status.active == 0
        && status.pending_run.is_none()
}

#[cfg(test)]
mod tests;
