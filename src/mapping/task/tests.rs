use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use serde_json::json;

use super::*;
use crate::api::task::{ContainerRecord, EcsTaskSpec, EcsTaskStatus, TaskRecord};

fn spec(value: serde_json::Value) -> EcsTaskSpec {
    let mut base = json!({"cluster": "apps", "taskDefinition": "job:3"});
    base.as_object_mut()
        .unwrap()
        .extend(value.as_object().unwrap().clone());
    serde_json::from_value(base).unwrap()
}

fn at(seconds: i64) -> Timestamp {
    Timestamp::from_second(seconds).unwrap()
}

fn task(
    id: &str,
    last: &str,
    stop_code: Option<&str>,
    exits: &[(&str, Option<i32>)],
) -> TaskRecord {
    TaskRecord {
        task_arn: format!("arn:aws:ecs:us-east-1:123456789012:task/apps/{id}"),
        last_status: Some(last.into()),
        desired_status: Some(if last == STOPPED { STOPPED } else { "RUNNING" }.into()),
        stop_code: stop_code.map(str::to_string),
        stopped_reason: stop_code.map(|_| "Essential container in task exited".to_string()),
        containers: exits
            .iter()
            .map(|(name, code)| ContainerRecord {
                name: name.to_string(),
                exit_code: *code,
                reason: None,
            })
            .collect(),
        ..TaskRecord::default()
    }
}

fn ok(id: &str) -> TaskRecord {
    task(
        id,
        STOPPED,
        Some(ESSENTIAL_CONTAINER_EXITED),
        &[("app", Some(0))],
    )
}

fn failed(id: &str, code: i32) -> TaskRecord {
    task(
        id,
        STOPPED,
        Some(ESSENTIAL_CONTAINER_EXITED),
        &[("app", Some(code))],
    )
}

fn running(id: &str) -> TaskRecord {
    task(id, "RUNNING", None, &[("app", None)])
}

fn status(tasks: Vec<TaskRecord>) -> EcsTaskStatus {
    EcsTaskStatus {
        tasks,
        essential_containers: vec!["app".into()],
        start_time: Some(Time(at(1000))),
        ..EcsTaskStatus::default()
    }
}

#[test]
fn a_task_succeeds_when_every_essential_container_exited_zero() {
    let essential = vec!["app".to_string()];
    assert_eq!(outcome(&ok("a"), &essential), Outcome::Succeeded);
    assert_eq!(outcome(&failed("a", 3), &essential), Outcome::Failed);
    assert_eq!(outcome(&running("a"), &essential), Outcome::Active);
    // A sidecar that is not essential may exit as it likes (SIGTERM: 143).
    let with_sidecar = task(
        "b",
        STOPPED,
        Some(ESSENTIAL_CONTAINER_EXITED),
        &[("app", Some(0)), ("log-router", Some(143))],
    );
    assert_eq!(outcome(&with_sidecar, &essential), Outcome::Succeeded);
    assert_eq!(outcome(&with_sidecar, &[]), Outcome::Failed);
    // Stopped by someone else, or never started: failed, whatever the exit codes.
    let stopped = task("c", STOPPED, Some("UserInitiated"), &[("app", Some(0))]);
    assert_eq!(outcome(&stopped, &essential), Outcome::Failed);
    let unpulled = task("d", STOPPED, Some("TaskFailedToStart"), &[("app", None)]);
    assert_eq!(outcome(&unpulled, &essential), Outcome::Failed);
}

#[test]
fn a_run_starts_count_tasks_then_waits_then_completes() {
    let spec = spec(json!({"count": 3}));
    assert_eq!(plan(&spec, &status(vec![]), at(1001)), Plan::Run(3));
    let mut s = status(vec![running("a"), ok("b"), running("c")]);
    assert_eq!(plan(&spec, &s, at(1001)), Plan::Wait);
    s.tasks = vec![ok("a"), ok("b"), ok("c")];
    assert_eq!(plan(&spec, &s, at(1001)), Plan::Complete);
    summarize(&spec, &mut s);
    assert_eq!(s.phase.as_deref(), Some(COMPLETE));
    assert_eq!(s.completions.as_deref(), Some("3/3"));
    assert_eq!((s.active, s.succeeded, s.failed), (0, 3, 0));
}

#[test]
fn failed_tasks_are_replaced_up_to_the_backoff_limit() {
    let spec2 = spec(json!({"count": 2, "backoffLimit": 2}));
    let s = status(vec![failed("a", 1), ok("b")]);
    assert_eq!(plan(&spec2, &s, at(1001)), Plan::Run(1));
    let s = status(vec![failed("a", 1), ok("b"), failed("c", 1)]);
    assert_eq!(plan(&spec2, &s, at(1001)), Plan::Run(1));
    let s = status(vec![
        failed("a", 1),
        ok("b"),
        failed("c", 1),
        failed("d", 7),
    ]);
    let Plan::Fail {
        reason, message, ..
    } = plan(&spec2, &s, at(1001))
    else {
        panic!("fails past the limit")
    };
    assert_eq!(reason, BACKOFF_LIMIT_EXCEEDED);
    assert_eq!(
        message,
        "3 task(s) failed, more than the backoffLimit of 2; last: task d stopped: Essential \
         container in task exited (container app exited with 7)"
    );
}

#[test]
fn the_default_backoff_limit_fails_at_the_first_failure_and_stops_the_rest() {
    let spec = spec(json!({"count": 3}));
    let s = status(vec![failed("a", 2), running("b"), ok("c")]);
    let Plan::Fail { reason, stop, .. } = plan(&spec, &s, at(1001)) else {
        panic!("no retries by default")
    };
    assert_eq!(reason, BACKOFF_LIMIT_EXCEEDED);
    assert_eq!(stop, vec![running("b").task_arn]);
}

#[test]
fn the_deadline_fails_the_run_and_stops_what_runs() {
    let spec = spec(json!({"activeDeadlineSeconds": 60}));
    let s = status(vec![running("a")]);
    assert_eq!(
        deadline_in(&spec, &s, at(1030)),
        Some(Duration::from_secs(30))
    );
    assert_eq!(plan(&spec, &s, at(1030)), Plan::Wait);
    let Plan::Fail { reason, stop, .. } = plan(&spec, &s, at(1060)) else {
        panic!("past the deadline")
    };
    assert_eq!((reason, stop.len()), (DEADLINE_EXCEEDED, 1));
    // A task already being stopped is not stopped again.
    let mut stopping = running("a");
    stopping.desired_status = Some(STOPPED.into());
    let Plan::Fail { stop, .. } = plan(&spec, &status(vec![stopping]), at(1100)) else {
        panic!("past the deadline")
    };
    assert!(stop.is_empty());
}

#[test]
fn ttl_counts_from_completion() {
    let spec = spec(json!({"ttlSecondsAfterFinished": 30}));
    let mut s = status(vec![ok("a")]);
    assert_eq!(ttl_in(&spec, &s, at(2000)), None);
    s.completion_time = Some(Time(at(2000)));
    assert_eq!(ttl_in(&spec, &s, at(2010)), Some(Duration::from_secs(20)));
    assert_eq!(ttl_in(&spec, &s, at(2100)), Some(Duration::ZERO));
}

#[test]
fn client_tokens_differ_per_attempt_and_fit_ecs() {
    let first = client_token("0b6f0f5e-2f7a-4c55-9d8e-6c0f3a1b2c3d", 0);
    assert_eq!(
        first,
        client_token("0b6f0f5e-2f7a-4c55-9d8e-6c0f3a1b2c3d", 0)
    );
    assert_ne!(
        first,
        client_token("0b6f0f5e-2f7a-4c55-9d8e-6c0f3a1b2c3d", 1)
    );
    assert_ne!(first, client_token("another-uid", 0));
    assert!(first.len() <= 64 && first.bytes().all(|b| (33..=126).contains(&b)));
}

#[test]
fn started_by_fits_ecs_limit() {
    let uid = "0b6f0f5e-2f7a-4c55-9d8e-6c0f3a1b2c3d";
    let by = started_by(&spec(json!({})), uid);
    assert_eq!(by, "ecs-operator/0b6f0f5e-2f7a-4c55-9d8e");
    assert!(by.len() <= 36);
    assert_eq!(
        started_by(&spec(json!({"startedBy": "batch-7"})), uid),
        "batch-7"
    );
}

#[test]
fn the_run_task_request_carries_the_spec_in_ecs_shapes() {
    let spec = spec(json!({
        "count": 10,
        "launchType": "FARGATE",
        "networkConfiguration": {"awsvpcConfiguration": {"subnets": ["subnet-1"]}},
        "overrides": {
            "containerOverrides": [{
                "name": "app",
                "command": ["run", "--batch"],
                "environment": [{"name": "BATCH_ID", "value": "42"}],
                "memory": 512
            }],
            "cpu": "1024",
            "ephemeralStorage": {"sizeInGiB": 30}
        },
        "group": "nightly",
        "enableExecuteCommand": true
    }));
    let input = run_task_input(
        &spec,
        "apps",
        "arn:aws:ecs:us-east-1:123456789012:task-definition/job:3",
        10,
        "batch-7",
        vec![],
        "token",
    )
    .unwrap()
    .build()
    .unwrap();
    assert_eq!(input.count(), Some(10));
    assert_eq!(input.client_token(), Some("token"));
    assert_eq!(input.started_by(), Some("batch-7"));
    assert_eq!(input.launch_type().map(|l| l.as_str()), Some("FARGATE"));
    assert_eq!(input.group(), Some("nightly"));
    let overrides = input.overrides().unwrap();
    assert_eq!(overrides.cpu(), Some("1024"));
    assert_eq!(overrides.ephemeral_storage().unwrap().size_in_gib(), 30);
    let container = &overrides.container_overrides()[0];
    assert_eq!(container.command(), ["run", "--batch"]);
    assert_eq!(container.environment()[0].value(), Some("42"));
    assert_eq!(container.memory(), Some(512));
    assert!(input.tags().is_empty());
}

#[test]
fn unplaced_tasks_count_as_failures() {
    let record = unplaced(None, Some("RESOURCE:MEMORY"), None, 0);
    assert_eq!(outcome(&record, &["app".into()]), Outcome::Failed);
    assert_eq!(
        record.stopped_reason.as_deref(),
        Some("RunTask could not place the task: RESOURCE:MEMORY")
    );
    assert_eq!(
        stop_summary(&record, &[]),
        "a task stopped: RunTask could not place the task: RESOURCE:MEMORY"
    );
}

#[test]
fn durations_read_as_kubectl_prints_them() {
    assert_eq!(duration(at(0), at(42)), "42s");
    assert_eq!(duration(at(0), at(90)), "1m30s");
    assert_eq!(duration(at(0), at(7500)), "2h5m");
}

#[test]
fn a_finished_run_is_one_with_nothing_left_running() {
    let spec = spec(json!({"count": 2}));
    let mut s = status(vec![failed("a", 1), running("b")]);
    s.failure_reason = Some(BACKOFF_LIMIT_EXCEEDED.into());
    summarize(&spec, &mut s);
    assert_eq!(s.phase.as_deref(), Some(FAILED));
    assert!(!finished(&s), "b still stops");
    s.tasks[1] = failed("b", 143);
    summarize(&spec, &mut s);
    assert!(finished(&s));
    assert_eq!(s.completions.as_deref(), Some("0/2"));
}

#[test]
fn validation_matches_the_crd_rules() {
    assert!(validate(&spec(json!({}))).is_ok());
    assert!(validate(&spec(json!({"count": 11}))).is_err());
    assert!(validate(&spec(json!({"clusterRef": {"name": "apps"}}))).is_err());
    assert!(
        validate(&spec(json!({
            "launchType": "FARGATE",
            "capacityProviderStrategy": [{"capacityProvider": "FARGATE"}]
        })))
        .is_err()
    );
}

#[test]
fn volumes_configured_at_launch_map_to_ecs_shapes() {
    let spec = spec(json!({
        "volumeConfigurations": [{
            "name": "scratch",
            "managedEBSVolume": {
                "roleArn": "arn:aws:iam::123456789012:role/ecsInfrastructureRole",
                "volumeType": "gp3",
                "sizeInGiB": 100,
                "throughput": 250,
                "filesystemType": "xfs",
                "terminationPolicy": {"deleteOnTermination": false},
                "tagSpecifications": [{"resourceType": "volume", "tags": [{"key": "team", "value": "data"}]}]
            }
        }]
    }));
    let input = run_task_input(&spec, "apps", "job:3", 1, "by", vec![], "t")
        .unwrap()
        .build()
        .unwrap();
    let volume = &input.volume_configurations()[0];
    assert_eq!(volume.name(), "scratch");
    let ebs = volume.managed_ebs_volume().unwrap();
    assert_eq!(
        ebs.role_arn(),
        "arn:aws:iam::123456789012:role/ecsInfrastructureRole"
    );
    assert_eq!(
        (ebs.size_in_gib(), ebs.throughput()),
        (Some(100), Some(250))
    );
    assert_eq!(ebs.filesystem_type().map(|f| f.as_str()), Some("xfs"));
    assert!(!ebs.termination_policy().unwrap().delete_on_termination());
    assert_eq!(ebs.tag_specifications()[0].tags()[0].key(), Some("team"));
}
