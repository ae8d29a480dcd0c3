//! EcsTask end to end on the emulator's control plane (tasks really go PROVISIONING → RUNNING →
//! STOPPED and exit with the code a container override's `ECS_EMULATOR_EXIT_CODE` sets): a run of
//! 10 that succeeds, a run that fails with its exit code, failed tasks retried up to
//! backoffLimit, the deadline stopping what runs, the TTL deleting a finished run, a crash between
//! RunTask and the status write starting nothing twice, and delete stopping running tasks (or
//! not, with Retain).

mod harness;
mod support;

use std::time::Duration;

use aws_sdk_ecs::types::{DesiredStatus, Task};
use ecs_operator::api::{EcsTask, EcsTaskDefinition};
use harness::{SeenEvent, TestOperator, condition, is_ready, manifest, setup, wait_for};
use kube::Client;
use kube::api::{Api, DeleteParams, PostParams};
use serde_json::json;

struct Fixture {
    client: Client,
    ns: String,
    cluster: String,
    tasks: Api<EcsTask>,
}

/// A namespace with an ECS cluster (made in ECS, named by `spec.cluster`) and a Fargate
/// EcsTaskDefinition "job" (container "app"), Ready.
async fn fixture(prefix: &str) -> (Fixture, TestOperator) {
    let (client, ns) = setup(prefix).await;
    let operator = TestOperator::start(&client, &ns).await;
    let cluster = support::unique_name("batch");
    support::ecs_client()
        .create_cluster()
        .cluster_name(&cluster)
        .send()
        .await
        .unwrap();
    let definitions = define(&client, &ns, "job").await;
    wait_for(&definitions, "job", "Ready", is_ready).await;
    let tasks = Api::namespaced(client.clone(), &ns);
    let fixture = Fixture {
        client,
        ns,
        cluster,
        tasks,
    };
    (fixture, operator)
}

/// Creates the Fargate EcsTaskDefinition `name` (container "app").
async fn define(client: &Client, ns: &str, name: &str) -> Api<EcsTaskDefinition> {
    let definitions: Api<EcsTaskDefinition> = Api::namespaced(client.clone(), ns);
    let definition: EcsTaskDefinition = manifest(json!({
        "apiVersion": "ecs.operator.dev/v1alpha1", "kind": "EcsTaskDefinition",
        "metadata": {"name": name},
        "spec": {
            "family": support::unique_name(name),
            "requiresCompatibilities": ["FARGATE"],
            "networkMode": "awsvpc",
            "cpu": "256",
            "memory": "512",
            "containerDefinitions": [{"name": "app", "image": "busybox", "essential": true}]
        }
    }));
    definitions
        .create(&PostParams::default(), &definition)
        .await
        .unwrap();
    definitions
}

/// Container overrides that make container "app" exit with `code` after `seconds` (ECS
/// seconds) of running; `None`: it runs until stopped.
fn exits(code: Option<i32>, seconds: u32) -> serde_json::Value {
    let mut environment = vec![json!({"name": "BATCH_ID", "value": "42"})];
    if let Some(code) = code {
        environment.push(json!({"name": "ECS_EMULATOR_EXIT_CODE", "value": code.to_string()}));
        environment.push(json!({"name": "ECS_EMULATOR_RUN_SECONDS", "value": seconds.to_string()}));
    }
    json!({"containerOverrides": [{"name": "app", "environment": environment}]})
}

impl Fixture {
    /// Creates EcsTask `name` running "job" on the cluster with `extra` merged into its spec.
    async fn run(&self, name: &str, extra: serde_json::Value) -> EcsTask {
        let (subnets, group) = harness::emulator_network();
        let mut spec = json!({
            "cluster": self.cluster,
            "taskDefinitionRef": {"name": "job"},
            "launchType": "FARGATE",
            "networkConfiguration": {"awsvpcConfiguration": {"subnets": subnets, "securityGroups": [group]}},
        });
        spec.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        let task: EcsTask = manifest(json!({
            "apiVersion": "ecs.operator.dev/v1alpha1", "kind": "EcsTask",
            "metadata": {"name": name}, "spec": spec
        }));
        self.tasks
            .create(&PostParams::default(), &task)
            .await
            .unwrap()
    }

    /// Waits until the run's Job condition `type_` (Complete or Failed) is True.
    async fn finished(&self, name: &str, type_: &str) -> EcsTask {
        wait_for(&self.tasks, name, type_, |t: &EcsTask| {
            condition(t, type_).is_some_and(|c| c.status == "True")
                && t.status.as_ref().is_some_and(|s| s.active == 0)
        })
        .await
    }

    /// Every task ECS has of this run (by its startedBy), running or stopped.
    async fn ecs_tasks(&self, task: &EcsTask) -> Vec<Task> {
        let ecs = support::ecs_client();
        let started_by = ecs_operator::mapping::task::started_by(
            &task.spec,
            task.metadata.uid.as_deref().unwrap(),
        );
        let mut arns = Vec::new();
        for desired in [DesiredStatus::Running, DesiredStatus::Stopped] {
            let listed = ecs
                .list_tasks()
                .cluster(&self.cluster)
                .started_by(&started_by)
                .desired_status(desired)
                .send()
                .await
                .unwrap();
            arns.extend(listed.task_arns().to_vec());
        }
        if arns.is_empty() {
            return Vec::new();
        }
        ecs.describe_tasks()
            .cluster(&self.cluster)
            .set_tasks(Some(arns))
            .send()
            .await
            .unwrap()
            .tasks()
            .to_vec()
    }

    async fn events(&self, name: &str) -> Vec<SeenEvent> {
        harness::events::<EcsTask>(&self.client, &self.ns, name).await
    }

    async fn notes(&self, name: &str) -> Vec<String> {
        self.events(name)
            .await
            .into_iter()
            .map(|e| e.note)
            .collect()
    }
}

/// Runs kubectl with the admin kubeconfig in namespace `ns`.
fn kubectl(ns: &str, args: &[&str]) -> tokio::task::JoinHandle<std::process::Output> {
    let kubeconfig = support::env().kubeconfig.clone();
    let kubectl = support::kubectl_bin();
    let mut command = std::process::Command::new(kubectl);
    command
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(["-n", ns])
        .args(args);
    tokio::task::spawn_blocking(move || command.output().expect("kubectl runs"))
}

#[tokio::test]
async fn a_run_of_ten_succeeds_and_says_so() {
    let (f, _operator) = fixture("task-ok").await;
    f.run(
        "batch",
        json!({"count": 10, "overrides": exits(Some(0), 5)}),
    )
    .await;
    // `kubectl wait` as for a Job, from the moment the object exists.
    let wait = kubectl(
        &f.ns,
        &[
            "wait",
            "--for=condition=Complete",
            "ecst/batch",
            "--timeout=120s",
        ],
    );
    let done = f.finished("batch", "Complete").await;
    let waited = wait.await.unwrap();
    assert!(
        waited.status.success(),
        "{}",
        String::from_utf8_lossy(&waited.stderr)
    );
    let listed = kubectl(&f.ns, &["get", "ecst", "batch", "--no-headers"])
        .await
        .unwrap();
    let columns: Vec<String> = String::from_utf8_lossy(&listed.stdout)
        .split_whitespace()
        .map(str::to_string)
        .collect();
    assert_eq!(columns[..3], ["batch", "Complete", "10/10"], "{columns:?}");
    let status = done.status.clone().unwrap();
    assert_eq!(
        (
            status.succeeded,
            status.failed,
            status.active,
            status.attempts
        ),
        (10, 0, 0, 1)
    );
    assert_eq!(status.phase.as_deref(), Some("Complete"));
    assert_eq!(status.completions.as_deref(), Some("10/10"));
    assert!(
        status
            .cluster_arn
            .as_deref()
            .is_some_and(|a| a.starts_with("arn:aws:ecs:") && a.ends_with(&f.cluster)),
        "a cluster named by its name is recorded by its ARN: {:?}",
        status.cluster_arn
    );
    assert!(status.duration.is_some() && status.start_time.is_some());
    assert!(
        is_ready(&done),
        "Ready for kstatus: {:?}",
        status.conditions
    );
    assert_eq!(condition(&done, "Stalled").unwrap().status, "False");
    assert_eq!(status.tasks.len(), 10);
    for task in &status.tasks {
        assert_eq!(task.stop_code.as_deref(), Some("EssentialContainerExited"));
        assert_eq!(task.containers[0].exit_code, Some(0));
        assert!(task.started_at.is_some() && task.stopped_at.is_some());
    }
    // What ran is what the spec asked for: the override reached ECS.
    let ecs = f.ecs_tasks(&done).await;
    assert_eq!(ecs.len(), 10);
    let overrides = ecs[0].overrides().unwrap().container_overrides();
    assert!(
        overrides[0]
            .environment()
            .iter()
            .any(|e| e.name() == Some("BATCH_ID") && e.value() == Some("42"))
    );
    let notes = f.notes("batch").await;
    let revision = status.task_definition_arn.unwrap();
    assert_eq!(
        notes
            .iter()
            .filter(|n| *n == &format!("started 10 task(s) of {revision}"))
            .count(),
        1,
        "{notes:?}"
    );
    assert_eq!(
        notes
            .iter()
            .filter(|n| n.contains("container app exited with 0"))
            .count(),
        10,
        "one event per stopped task: {notes:?}"
    );
}

#[tokio::test]
async fn a_run_waits_for_its_task_definition_and_starts_once_it_is_registered() {
    let (f, _operator) = fixture("task-dep").await;
    f.run(
        "later",
        json!({"taskDefinitionRef": {"name": "later"}, "overrides": exits(Some(0), 1)}),
    )
    .await;
    let waiting = wait_for(&f.tasks, "later", "DependencyNotReady", |t: &EcsTask| {
        condition(t, "Ready").is_some_and(|c| c.reason == "DependencyNotReady")
    })
    .await;
    assert_eq!(
        condition(&waiting, "Ready").unwrap().message,
        "EcsTaskDefinition later does not exist yet"
    );
    let since = std::time::Instant::now();
    define(&f.client, &f.ns, "later").await;
    f.finished("later", "Complete").await;
    // Woken by the watch on the task definition, not by the 30 s retry of DependencyNotReady.
    assert!(
        since.elapsed() < Duration::from_secs(25),
        "{:?}",
        since.elapsed()
    );
}

#[tokio::test]
async fn a_failing_run_fails_with_its_exit_code() {
    let (f, _operator) = fixture("task-fail").await;
    f.run("migrate", json!({"overrides": exits(Some(3), 2)}))
        .await;
    let done = f.finished("migrate", "Failed").await;
    let failed = condition(&done, "Failed").unwrap();
    assert_eq!(failed.reason, "BackoffLimitExceeded");
    assert!(
        failed.message.contains("container app exited with 3"),
        "{}",
        failed.message
    );
    let stalled = condition(&done, "Stalled").unwrap();
    assert_eq!(
        (stalled.status.as_str(), stalled.reason.as_str()),
        ("True", "BackoffLimitExceeded")
    );
    assert_eq!(condition(&done, "Ready").unwrap().status, "False");
    let status = done.status.unwrap();
    assert_eq!(
        (status.failed, status.succeeded, status.attempts),
        (1, 0, 1)
    );
    assert_eq!(status.phase.as_deref(), Some("Failed"));
    let events = f.events("migrate").await;
    assert!(
        events.iter().any(|e| e.type_ == "Warning"
            && e.reason == "TaskFailed"
            && e.note.contains("exited with 3")),
        "{events:?}"
    );
}

#[tokio::test]
async fn a_run_ecs_refuses_fails_at_once_with_ecs_words() {
    let (f, _operator) = fixture("task-refused").await;
    // EC2 tasks need a container instance; the cluster has none. The spec cannot change, so no
    // retry helps.
    f.run("nowhere", json!({"launchType": "EC2"})).await;
    let done = f.finished("nowhere", "Failed").await;
    let failed = condition(&done, "Failed").unwrap();
    assert_eq!(failed.reason, "InvalidParameterException");
    assert!(
        failed
            .message
            .contains("No Container Instances were found in your cluster."),
        "{}",
        failed.message
    );
    let status = done.status.unwrap();
    assert!(status.tasks.is_empty() && status.pending_run.is_none());
    assert!(harness::is_stalled(&f.tasks.get("nowhere").await.unwrap()));
}

#[tokio::test]
async fn failed_tasks_are_run_again_up_to_the_backoff_limit() {
    let (f, _operator) = fixture("task-retry").await;
    f.run(
        "flaky",
        json!({"backoffLimit": 2, "overrides": exits(Some(1), 1)}),
    )
    .await;
    let done = f.finished("flaky", "Failed").await;
    let status = done.status.clone().unwrap();
    // The first run and two retries, one task each, then no more.
    assert_eq!((status.failed, status.attempts), (3, 3));
    assert_eq!(
        status.tasks.iter().map(|t| t.attempt).collect::<Vec<_>>(),
        [0, 1, 2]
    );
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(f.ecs_tasks(&done).await.len(), 3, "no fourth task");
    let notes = f.notes("flaky").await;
    assert!(notes.iter().any(|n| n.ends_with("(retry 2)")), "{notes:?}");
}

#[tokio::test]
async fn the_deadline_stops_the_tasks_and_fails_the_run() {
    let (f, _operator) = fixture("task-deadline").await;
    f.run(
        "slow",
        json!({"count": 2, "activeDeadlineSeconds": 3, "overrides": exits(None, 0)}),
    )
    .await;
    let done = f.finished("slow", "Failed").await;
    assert_eq!(
        condition(&done, "Failed").unwrap().reason,
        "DeadlineExceeded"
    );
    let ecs = f.ecs_tasks(&done).await;
    assert_eq!(ecs.len(), 2);
    let owner = format!("{}/slow", f.ns);
    for task in ecs {
        assert_eq!(task.stop_code().map(|c| c.as_str()), Some("UserInitiated"));
        assert_eq!(
            task.stopped_reason(),
            Some(format!("DeadlineExceeded: stopped by EcsTask {owner}").as_str())
        );
    }
}

#[tokio::test]
async fn a_finished_run_deletes_itself_after_its_ttl() {
    let (f, _operator) = fixture("task-ttl").await;
    f.run(
        "once",
        json!({"ttlSecondsAfterFinished": 2, "overrides": exits(Some(0), 1)}),
    )
    .await;
    f.finished("once", "Complete").await;
    harness::wait_gone(&f.tasks, "once").await;
}

#[tokio::test]
async fn a_crash_between_run_task_and_the_status_write_starts_nothing_twice() {
    let (f, steady) = fixture("task-crash").await;
    // The fixture's operator registered the task definition; one that can be killed takes over.
    steady.stop().await;
    let operator = TestOperator::start_crashable(&f.ns).await;
    let key = operator.access_key.clone();
    // RunTask is answered 4 s late: the operator is killed while it waits, after ECS took the
    // request (the emulator starts the tasks once the delay is over).
    support::emulator_admin(
        "POST",
        "faults",
        Some(json!({"accessKey": key, "operation": "RunTask", "latency": 4.0})),
    );
    f.run("once", json!({"count": 3, "overrides": exits(Some(0), 5)}))
        .await;
    harness::eventually(
        "RunTask sent",
        || async {
            support::emulator_calls(&key)
                .get("RunTask")
                .copied()
                .unwrap_or(0)
        },
        |calls| *calls >= 1,
    )
    .await;
    operator.crash();
    let created = f.tasks.get("once").await.unwrap();
    assert!(
        created
            .status
            .as_ref()
            .and_then(|s| s.pending_run.as_ref())
            .is_some(),
        "the RunTask was written ahead"
    );
    assert!(created.status.as_ref().unwrap().tasks.is_empty());
    // ECS started the tasks after all.
    harness::eventually(
        "tasks in ECS",
        || async { f.ecs_tasks(&created).await.len() },
        |n| *n == 3,
    )
    .await;
    support::emulator_admin("DELETE", &format!("faults?accessKey={key}"), None);
    // Nobody recorded them: the crashed operator is gone.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let unrecorded = f.tasks.get("once").await.unwrap().status.unwrap();
    assert!(unrecorded.pending_run.is_some() && unrecorded.tasks.is_empty());

    let _restarted = TestOperator::start(&f.client, &f.ns).await;
    let done = f.finished("once", "Complete").await;
    let status = done.status.clone().unwrap();
    assert_eq!((status.succeeded, status.attempts), (3, 1));
    // The restarted operator sent the RunTask again, and ECS answered with the first tasks.
    assert_eq!(support::emulator_calls(&key).get("RunTask"), Some(&2));
    assert_eq!(f.ecs_tasks(&done).await.len(), 3, "no second run");
    let started = f
        .notes("once")
        .await
        .into_iter()
        .filter(|n| n.starts_with("started "))
        .count();
    assert_eq!(started, 1);
}

#[tokio::test]
async fn delete_stops_running_tasks_unless_retained() {
    let (f, _operator) = fixture("task-delete").await;
    f.run("server", json!({"count": 2, "overrides": exits(None, 0)}))
        .await;
    f.run(
        "kept",
        json!({"deletionPolicy": "Retain", "overrides": exits(None, 0)}),
    )
    .await;
    for name in ["server", "kept"] {
        wait_for(&f.tasks, name, "tasks running", |t: &EcsTask| {
            t.status.as_ref().is_some_and(|s| {
                !s.tasks.is_empty()
                    && s.tasks
                        .iter()
                        .all(|t| t.last_status.as_deref() == Some("RUNNING"))
            })
        })
        .await;
    }
    let (server, kept) = (
        f.tasks.get("server").await.unwrap(),
        f.tasks.get("kept").await.unwrap(),
    );
    for name in ["server", "kept"] {
        f.tasks
            .delete(name, &DeleteParams::default())
            .await
            .unwrap();
        harness::wait_gone(&f.tasks, name).await;
    }
    let stopped = f.ecs_tasks(&server).await;
    assert_eq!(stopped.len(), 2);
    let reason = format!("deleted with EcsTask {}/server", f.ns);
    for task in &stopped {
        assert_eq!(task.desired_status(), Some("STOPPED"));
        assert_eq!(task.stopped_reason(), Some(reason.as_str()));
    }
    let left = f.ecs_tasks(&kept).await;
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].desired_status(), Some("RUNNING"));
}

/// Admission: a run's spec cannot change once created, count is 1 to 10, and the references
/// come in pairs, each with a message that says what to do.
#[tokio::test]
async fn admission_keeps_a_run_as_it_was_created() {
    let (client, ns) = setup("task-adm").await;
    let tasks: Api<EcsTask> = Api::namespaced(client.clone(), &ns);
    let create = |name: &str, spec: serde_json::Value| {
        let tasks = tasks.clone();
        let task: EcsTask = manifest(json!({
            "apiVersion": "ecs.operator.dev/v1alpha1", "kind": "EcsTask",
            "metadata": {"name": name}, "spec": spec
        }));
        async move { tasks.create(&PostParams::default(), &task).await }
    };
    let refused = |result: Result<EcsTask, kube::Error>, fragment: &str| match result {
        Err(kube::Error::Api(status)) if status.code == 422 => {
            assert!(status.message.contains(fragment), "{}", status.message)
        }
        other => panic!("expected a 422 containing {fragment:?}, got {other:?}"),
    };
    refused(
        create(
            "c0",
            json!({"cluster": "apps", "taskDefinition": "job", "count": 11}),
        )
        .await,
        "count is between 1 and 10",
    );
    refused(
        create("c1", json!({"taskDefinition": "job"})).await,
        "set exactly one of spec.clusterRef",
    );
    refused(
        create(
            "c2",
            json!({"cluster": "apps", "taskDefinition": "job", "startedBy": "a b"}),
        )
        .await,
        "startedBy may contain up to 36 letters",
    );
    create(
        "run",
        json!({"cluster": "apps", "taskDefinition": "job", "count": 2}),
    )
    .await
    .unwrap();
    create(
        "with-volume",
        json!({"cluster": "apps", "taskDefinition": "job", "volumeConfigurations": [{
            "name": "scratch",
            "managedEBSVolume": {"roleArn": "arn:aws:iam::123456789012:role/ecsInfrastructureRole",
                                 "sizeInGiB": 50, "filesystemType": "xfs",
                                 "terminationPolicy": {"deleteOnTermination": true}}
        }]}),
    )
    .await
    .unwrap();
    let patched = tasks
        .patch(
            "run",
            &kube::api::PatchParams::default(),
            &kube::api::Patch::Merge(json!({"spec": {"count": 3}})),
        )
        .await;
    refused(
        patched,
        "the spec of an EcsTask is immutable: a run cannot change once started; create a new EcsTask instead",
    );
}
