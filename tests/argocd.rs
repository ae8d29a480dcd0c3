//! The Argo CD health check in examples/argocd/argocd-cm.yaml, run by a real Lua 5.4 (Argo CD's
//! gopher-lua speaks 5.1; the script keeps to what both share) on fixtures and on objects the
//! operator wrote.

mod harness;
mod support;

use std::io::Write;
use std::process::{Command, Stdio};

use ecs_operator::api::{EcsCluster, EcsTaskDefinition};
use harness::{TestOperator, is_ready, manifest, setup, wait_for};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, PostParams};
use serde_json::{Value, json};

const KINDS: [&str; 6] = [
    "EcsCluster",
    "EcsTaskDefinition",
    "EcsService",
    "EcsTask",
    "EcsScheduledTask",
    "EcsCapacityProvider",
];

/// The ConfigMap, as a user applies it.
fn argocd_cm() -> Value {
    let path = support::repo_root().join("examples/argocd/argocd-cm.yaml");
    serde_yaml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The script, as Argo CD reads it from argocd-cm: the same for the six kinds.
fn health_script() -> String {
    let config = argocd_cm();
    let scripts: Vec<&str> = KINDS
        .iter()
        .map(|kind| {
            config["data"][format!("resource.customizations.health.ecs.operator.dev_{kind}")]
                .as_str()
                .unwrap_or_else(|| panic!("no health customization for {kind}"))
        })
        .collect();
    assert!(scripts.iter().all(|s| *s == scripts[0]));
    scripts[0].to_string()
}

/// A JSON value as a Lua table constructor (Argo CD hands the script the object this way).
fn lua(value: &Value) -> String {
    match value {
        Value::Null => "nil".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\"")),
        Value::Array(items) => format!(
            "{{{}}}",
            items.iter().map(lua).collect::<Vec<_>>().join(", ")
        ),
        Value::Object(fields) => format!(
            "{{{}}}",
            fields
                .iter()
                .map(|(k, v)| format!("[{}] = {}", lua(&Value::String(k.clone())), lua(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// (status, message) the health check gives `obj`.
fn health(obj: &Value) -> (String, String) {
    let program = format!(
        "obj = {}\nlocal hs = (function()\n{}\nend)()\nio.write(hs.status, \"\\n\", hs.message)",
        lua(obj),
        health_script()
    );
    let mut child = Command::new("lua5.4")
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("lua5.4 runs (Debian package lua5.4; .ci/run installs it)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(program.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout).unwrap();
    let (status, message) = text.split_once('\n').unwrap();
    (status.to_string(), message.to_string())
}

/// An EcsService at generation 2 as the operator reports it: Ready, Reconciling and Stalled
/// sharing one reason, with these statuses and messages.
fn service(reason: &str, statuses: [&str; 3], messages: [&str; 3]) -> Value {
    let conditions: Vec<Value> = ["Ready", "Reconciling", "Stalled"]
        .iter()
        .zip(statuses.iter().zip(messages))
        .map(|(type_, (status, message))| {
            json!({"type": type_, "status": status, "reason": reason, "message": message,
                   "observedGeneration": 2, "lastTransitionTime": "2026-11-22T10:00:00Z"})
        })
        .collect();
    json!({
        "apiVersion": "ecs.operator.dev/v1alpha1",
        "kind": "EcsService",
        "metadata": {"name": "web", "generation": 2},
        "status": {"observedGeneration": 2, "conditions": conditions}
    })
}

#[test]
fn health_follows_the_conditions_for_the_current_generation() {
    let fresh = json!({"kind": "EcsService", "metadata": {"name": "web", "generation": 1}});
    assert_eq!(health(&fresh).0, "Progressing");

    let ready = service(
        "Ready",
        ["True", "False", "False"],
        ["ECS service web reached a steady state", "", ""],
    );
    assert_eq!(
        health(&ready),
        (
            "Healthy".into(),
            "Ready: ECS service web reached a steady state".into()
        )
    );

    // Ready for generation 1 while the spec is at 2: the change is not rolled out yet.
    let mut stale = ready.clone();
    stale["metadata"]["generation"] = json!(3);
    assert_eq!(health(&stale).0, "Progressing");

    let rolling = service(
        "DeploymentInProgress",
        ["False", "True", "False"],
        ["1 of 3 tasks running", "", ""],
    );
    assert_eq!(
        health(&rolling),
        (
            "Progressing".into(),
            "DeploymentInProgress: 1 of 3 tasks running".into()
        )
    );

    let failed = service(
        "DeploymentFailed",
        ["False", "False", "True"],
        ["rolled back", "", "ECS rolled back to web:7"],
    );
    assert_eq!(
        health(&failed),
        (
            "Degraded".into(),
            "DeploymentFailed: ECS rolled back to web:7".into()
        )
    );
}

#[test]
fn a_deployment_paused_for_approval_is_suspended() {
    let paused = service(
        "AwaitingApproval",
        ["False", "True", "False"],
        [
            "service deployment abc is paused at POST_TEST_TRAFFIC_SHIFT awaiting approval",
            "",
            "",
        ],
    );
    assert_eq!(
        health(&paused),
        (
            "Suspended".into(),
            "AwaitingApproval: service deployment abc is paused at POST_TEST_TRAFFIC_SHIFT awaiting approval".into()
        )
    );
}

/// An EcsTask (a run) as the operator reports it: the kstatus triple with `reason`, plus the Job
/// condition `job` (Complete or Failed) when it finished.
fn run(reason: &str, statuses: [&str; 3], message: &str, job: Option<&str>) -> Value {
    let mut obj = service(reason, statuses, [message, "", message]);
    obj["kind"] = json!("EcsTask");
    if let Some(job) = job {
        let conditions = obj["status"]["conditions"].as_array_mut().unwrap();
        conditions.push(json!({"type": job, "status": "True", "reason": reason, "message": message,
                               "observedGeneration": 2, "lastTransitionTime": "2026-11-22T10:00:00Z"}));
    }
    obj
}

#[test]
fn a_run_is_healthy_when_complete_degraded_when_failed_progressing_while_running() {
    let running = run(
        "Running",
        ["False", "True", "False"],
        "3 of 10 task(s) succeeded, 7 running, 0 failed",
        None,
    );
    assert_eq!(
        health(&running),
        (
            "Progressing".into(),
            "Running: 3 of 10 task(s) succeeded, 7 running, 0 failed".into()
        )
    );
    let complete = run(
        "Ready",
        ["True", "False", "False"],
        "10 of 10 task(s) succeeded",
        Some("Complete"),
    );
    assert_eq!(health(&complete).0, "Healthy");
    let failed = run(
        "BackoffLimitExceeded",
        ["False", "False", "True"],
        "1 task(s) failed, more than the backoffLimit of 0",
        Some("Failed"),
    );
    assert_eq!(
        health(&failed),
        (
            "Degraded".into(),
            "BackoffLimitExceeded: 1 task(s) failed, more than the backoffLimit of 0".into()
        )
    );
}

#[tokio::test]
async fn the_config_map_is_accepted_by_the_api_server() {
    let (client, ns) = setup("argocd-cm").await;
    let mut config: ConfigMap = serde_json::from_value(argocd_cm()).unwrap();
    config.metadata.namespace = Some(ns.clone());
    let api: Api<ConfigMap> = Api::namespaced(client, &ns);
    api.create(
        &PostParams {
            dry_run: true,
            ..Default::default()
        },
        &config,
    )
    .await
    .expect("a valid ConfigMap (keys are [-._a-zA-Z0-9]+)");
}

#[tokio::test]
async fn objects_the_operator_wrote_read_as_healthy_or_degraded() {
    let (client, ns) = setup("argocd").await;
    let _operator = TestOperator::start(&client, &ns).await;

    let definitions: Api<EcsTaskDefinition> = Api::namespaced(client.clone(), &ns);
    let definition: EcsTaskDefinition = manifest(json!({
        "apiVersion": "ecs.operator.dev/v1alpha1",
        "kind": "EcsTaskDefinition",
        "metadata": {"name": "web"},
        "spec": {
            "family": support::unique_name("argocd"),
            "containerDefinitions": [{"name": "web", "image": "app:1", "memory": 128}]
        }
    }));
    definitions
        .create(&PostParams::default(), &definition)
        .await
        .unwrap();
    let ready = wait_for(&definitions, "web", "Ready", is_ready).await;
    assert_eq!(health(&serde_json::to_value(&ready).unwrap()).0, "Healthy");

    // A cluster that exists in ECS already, not adopted: Stalled, OwnershipConflict.
    let name = support::unique_name("taken");
    support::ecs_client()
        .create_cluster()
        .cluster_name(&name)
        .send()
        .await
        .unwrap();
    let clusters: Api<EcsCluster> = Api::namespaced(client.clone(), &ns);
    let cluster: EcsCluster = manifest(json!({
        "apiVersion": "ecs.operator.dev/v1alpha1",
        "kind": "EcsCluster",
        "metadata": {"name": "taken"},
        "spec": {"clusterName": name}
    }));
    clusters
        .create(&PostParams::default(), &cluster)
        .await
        .unwrap();
    let stalled = wait_for(&clusters, "taken", "Stalled", harness::is_stalled).await;
    let (status, message) = health(&serde_json::to_value(&stalled).unwrap());
    assert_eq!(status, "Degraded");
    assert!(message.starts_with("OwnershipConflict: "), "{message}");
}
