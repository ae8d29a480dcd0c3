//! The operator's promises about rollouts, shown end to end on the emulator's control plane
//! (tasks really start and stop, deployments progress, fail and roll back, ECS writes its own
//! service events): Ready means the rollout completed, and `kubectl wait` returns only then; a
//! new revision rolls out and Ready follows it; a revision whose tasks fail trips the circuit
//! breaker, leaves the service Stalled with ECS's reason and is not redeployed; ECS's events are
//! mirrored once each, also across a restart; a service deleted behind the operator's back is
//! created again, once; a service on its cluster's default capacity provider strategy is never
//! updated.

mod harness;
mod support;

use std::collections::BTreeMap;

use aws_sdk_ecs::types::Service;
use ecs_operator::api::{EcsCluster, EcsService, EcsTaskDefinition};
use harness::{
    TestOperator, condition, eventually, is_ready, is_stalled, manifest, setup, wait_for,
};
use kube::Client;
use kube::api::{Api, Patch, PatchParams, PostParams};
use serde_json::json;

// --- fixtures ------------------------------------------------------------------------------------

struct Fixture {
    client: Client,
    ns: String,
    operator: TestOperator,
    cluster: String,
    service: String,
    definitions: Api<EcsTaskDefinition>,
    services: Api<EcsService>,
}

/// A namespace with an operator, an EcsCluster "apps" and a Fargate EcsTaskDefinition "web"
/// running `image`, all Ready.
async fn fixture(prefix: &str, cluster_spec: serde_json::Value, image: &str) -> Fixture {
    let (client, ns) = setup(prefix).await;
    let operator = TestOperator::start(&client, &ns).await;
    let (cluster, family, service) = (
        support::unique_name("apps"),
        support::unique_name("web"),
        support::unique_name("web"),
    );
    let clusters: Api<EcsCluster> = Api::namespaced(client.clone(), &ns);
    let definitions: Api<EcsTaskDefinition> = Api::namespaced(client.clone(), &ns);
    let services: Api<EcsService> = Api::namespaced(client.clone(), &ns);
    let mut spec = cluster_spec;
    spec["clusterName"] = json!(cluster);
    clusters
        .create(
            &PostParams::default(),
            &manifest(json!({
                "apiVersion": "ecs.operator.dev/v1alpha1", "kind": "EcsCluster",
                "metadata": {"name": "apps"}, "spec": spec
            })),
        )
        .await
        .unwrap();
    definitions
        .create(&PostParams::default(), &definition("web", &family, image))
        .await
        .unwrap();
    wait_for(&clusters, "apps", "Ready", is_ready).await;
    wait_for(&definitions, "web", "Ready", is_ready).await;
    Fixture {
        client,
        ns,
        operator,
        cluster,
        service,
        definitions,
        services,
    }
}

fn definition(name: &str, family: &str, image: &str) -> EcsTaskDefinition {
    manifest(json!({
        "apiVersion": "ecs.operator.dev/v1alpha1", "kind": "EcsTaskDefinition",
        "metadata": {"name": name},
        "spec": {
            "family": family,
            "requiresCompatibilities": ["FARGATE"],
            "networkMode": "awsvpc",
            "cpu": "256",
            "memory": "512",
            "containerDefinitions": [{
                "name": "web", "image": image, "essential": true,
                "portMappings": [{"containerPort": 8080}]
            }]
        }
    }))
}

impl Fixture {
    /// Creates the EcsService "web" on "apps" and "web" with `spec` (the references, the ECS
    /// name and the emulator's network are filled in).
    async fn create_service(&self, mut spec: serde_json::Value) {
        spec["serviceName"] = json!(self.service);
        spec["clusterRef"] = json!({"name": "apps"});
        spec["taskDefinitionRef"] = json!({"name": "web"});
        let (subnets, group) = harness::emulator_network();
        spec["networkConfiguration"] =
            json!({"awsvpcConfiguration": {"subnets": subnets, "securityGroups": [group]}});
        let service: EcsService = manifest(json!({
            "apiVersion": "ecs.operator.dev/v1alpha1", "kind": "EcsService",
            "metadata": {"name": "web"}, "spec": spec
        }));
        self.services
            .create(&PostParams::default(), &service)
            .await
            .unwrap();
    }

    async fn set_image(&self, image: &str) {
        let patch = json!({"spec": {"containerDefinitions": [{
            "name": "web", "image": image, "essential": true, "portMappings": [{"containerPort": 8080}]
        }]}});
        self.definitions
            .patch("web", &PatchParams::default(), &Patch::Merge(&patch))
            .await
            .unwrap();
    }

    /// The ECS service as ECS describes it now.
    async fn ecs(&self) -> Service {
        support::describe_service(&self.cluster, &self.service).await
    }

    /// ECS calls this test's operator made, by operation.
    fn calls(&self) -> BTreeMap<String, u64> {
        support::emulator_calls(&self.operator.access_key)
            .into_iter()
            .collect()
    }

    /// Waits until the operator has reconciled every object of `kind` at least `resyncs` more
    /// times (each resync period visits every object): a wait on work done, not on a clock.
    async fn resyncs(&self, kind: &str, objects: u64, resyncs: u64) {
        let start = reconciles(&self.operator, kind);
        let metrics = self.operator.metrics.clone();
        let kind = kind.to_string();
        let target = start + objects * resyncs;
        eventually(
            &format!("{resyncs} resyncs of every {kind}"),
            || {
                let metrics = metrics.clone();
                let kind = kind.clone();
                async move { reconciles_of(&metrics, &kind) }
            },
            |n| *n >= target,
        )
        .await;
    }
}

fn reconciles(operator: &TestOperator, kind: &str) -> u64 {
    reconciles_of(&operator.metrics, kind)
}

fn reconciles_of(metrics: &ecs_operator::runtime::metrics::Metrics, kind: &str) -> u64 {
    let prefix = format!(r#"ecs_operator_reconcile_total{{kind="{kind}"}} "#);
    metrics
        .render()
        .lines()
        .find_map(|l| l.strip_prefix(prefix.as_str()))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0)
}

fn ready(obj: &EcsService) -> (String, String) {
    condition(obj, "Ready")
        .map(|c| (c.status, c.reason))
        .unwrap_or_default()
}

fn completed(service: &Service) -> bool {
    let deployments = service.deployments();
    deployments.len() == 1
        && deployments[0].rollout_state().map(|s| s.as_str()) == Some("COMPLETED")
        && service.running_count() == service.desired_count()
}

/// ECS's own service events, oldest first.
fn ecs_messages(service: &Service) -> Vec<String> {
    let mut messages: Vec<String> = service
        .events()
        .iter()
        .filter_map(|e| e.message().map(str::to_string))
        .collect();
    messages.reverse();
    messages
}

/// The notes of the mirrored ECS events on the EcsService, with how often each was published.
async fn mirrored(client: &Client, ns: &str) -> BTreeMap<String, i32> {
    let mut seen = BTreeMap::new();
    for event in harness::events::<EcsService>(client, ns, "web").await {
        if event.reason == "EcsServiceEvent" || event.reason == "EcsServiceProblem" {
            *seen.entry(event.note).or_insert(0) += event.count;
        }
    }
    seen
}

/// Each of ECS's events is published exactly as often as ECS wrote it.
async fn assert_mirrored_once_each(client: &Client, ns: &str, service: &Service) {
    let mut expected: BTreeMap<String, i32> = BTreeMap::new();
    for message in ecs_messages(service) {
        *expected.entry(message).or_insert(0) += 1;
    }
    assert_eq!(mirrored(client, ns).await, expected);
}

// --- tests ---------------------------------------------------------------------------------------

#[tokio::test]
async fn ready_means_the_rollout_completed_and_kubectl_wait_returns_only_then() {
    let f = fixture(
        "roll-ready",
        json!({"capacityProviders": ["FARGATE"]}),
        "nginx:1.27",
    )
    .await;
    f.create_service(json!({"desiredCount": 3, "launchType": "FARGATE"}))
        .await;

    // `kubectl wait` from the moment the object exists.
    let kubeconfig = support::env().kubeconfig.clone();
    let kubectl = support::kubectl_bin();
    let ns = f.ns.clone();
    let wait = tokio::task::spawn_blocking(move || {
        std::process::Command::new(kubectl)
            .arg("--kubeconfig")
            .arg(kubeconfig)
            .args(["wait", "--for=condition=Ready", "ecss/web", "-n", &ns])
            .args(["--timeout=120s"])
            .output()
            .expect("kubectl runs")
    });

    // The rollout takes several seconds: the operator reports it in progress meanwhile.
    let in_progress = wait_for(&f.services, "web", "DeploymentInProgress", |s| {
        ready(s) == ("False".to_string(), "DeploymentInProgress".to_string())
    })
    .await;
    let message = condition(&in_progress, "Ready").unwrap().message;
    assert!(message.contains("running"), "{message}");
    assert!(!completed(&f.ecs().await));

    let output = wait.await.unwrap();
    assert!(
        output.status.success(),
        "kubectl wait: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    // kubectl wait returned: ECS has finished the rollout.
    let service = f.ecs().await;
    assert!(completed(&service), "{service:?}");
    assert_eq!((service.running_count(), service.desired_count()), (3, 3));
    let obj = f.services.get("web").await.unwrap();
    let status = obj.status.unwrap();
    assert_eq!(status.running_count, Some(3));
    assert_eq!(
        status.deployments[0].rollout_state.as_deref(),
        Some("COMPLETED")
    );
}

#[tokio::test]
async fn a_new_revision_rolls_out_and_ready_follows_it() {
    let f = fixture(
        "roll-rev",
        json!({"capacityProviders": ["FARGATE"]}),
        "nginx:1.27",
    )
    .await;
    f.create_service(json!({"desiredCount": 2, "launchType": "FARGATE"}))
        .await;
    wait_for(&f.services, "web", "Ready", is_ready).await;

    f.set_image("nginx:1.28").await;
    let td = wait_for(&f.definitions, "web", "revision 2", |td| {
        td.status.as_ref().and_then(|s| s.revision) == Some(2)
    })
    .await;
    let revision_2 = td.status.unwrap().task_definition_arn.unwrap();
    // Not Ready while ECS rolls the new revision out, Ready once it has.
    wait_for(&f.services, "web", "not Ready during the rollout", |s| {
        !is_ready(s)
    })
    .await;
    let obj = wait_for(&f.services, "web", "Ready on revision 2", |s| {
        is_ready(s) && s.status.as_ref().and_then(|st| st.task_definition_revision) == Some(2)
    })
    .await;
    assert_eq!(
        obj.status.unwrap().task_definition_arn.as_deref(),
        Some(revision_2.as_str())
    );
    let service = f.ecs().await;
    assert!(completed(&service));
    assert_eq!(
        service.deployments()[0].task_definition(),
        Some(revision_2.as_str())
    );
    // Every task ECS runs now is of the new revision.
    let ecs = support::ecs_client();
    let running = ecs
        .list_tasks()
        .cluster(&f.cluster)
        .service_name(&f.service)
        .send()
        .await
        .unwrap();
    let tasks = ecs
        .describe_tasks()
        .cluster(&f.cluster)
        .set_tasks(Some(running.task_arns().to_vec()))
        .send()
        .await
        .unwrap();
    assert_eq!(tasks.tasks().len(), 2);
    assert!(
        tasks
            .tasks()
            .iter()
            .all(|t| t.task_definition_arn() == Some(revision_2.as_str()))
    );
}

#[tokio::test]
async fn a_failing_revision_trips_the_circuit_breaker_and_is_not_redeployed() {
    let f = fixture(
        "roll-fail",
        json!({"capacityProviders": ["FARGATE"]}),
        "nginx:1.27",
    )
    .await;
    f.create_service(json!({
        "desiredCount": 2,
        "launchType": "FARGATE",
        "deploymentConfiguration": {"deploymentCircuitBreaker": {"enable": true, "rollback": true}}
    }))
    .await;
    let first = wait_for(&f.services, "web", "Ready", is_ready).await;
    let revision_1 = first.status.unwrap().task_definition_arn.unwrap();

    // A registry that cannot resolve: every task of revision 2 fails to pull its image.
    f.set_image("registry.invalid/web:broken").await;
    let stalled = wait_for(&f.services, "web", "Stalled", is_stalled).await;
    let ready_condition = condition(&stalled, "Ready").unwrap();
    assert_eq!(ready_condition.reason, "DeploymentFailed");
    // ECS's words: the FAILED deployment's reason when the operator saw it, or the rolled-back
    // service deployment's when the rollback finished between two looks.
    assert!(
        ready_condition.message.contains("circuit breaker")
            && ready_condition.message.contains(":2 failed"),
        "{}",
        ready_condition.message
    );
    // Why: the stopped tasks' reason, read while the service was not Ready.
    assert!(
        ready_condition
            .message
            .contains("tasks stopped: CannotPullContainerError"),
        "{}",
        ready_condition.message
    );
    let warnings =
        harness::event_notes::<EcsService>(&f.client, &f.ns, "web", "DeploymentFailed").await;
    assert_eq!(warnings.len(), 1, "{warnings:?}");

    // ECS rolled back to revision 1; the operator does not deploy revision 2 again.
    let rolled_back = eventually(
        "the rollback completed",
        || f.ecs(),
        |s| completed(s) && s.task_definition() == Some(revision_1.as_str()),
    )
    .await;
    let updates = f.calls().get("UpdateService").copied().unwrap_or(0);
    // A Stalled service is looked at once a minute; annotations make it reconcile at once.
    for nudge in 0..3 {
        let before = reconciles(&f.operator, "EcsService");
        let patch = json!({"metadata": {"annotations": {"test.ecs.operator.dev/nudge": nudge.to_string()}}});
        f.services
            .patch("web", &PatchParams::default(), &Patch::Merge(&patch))
            .await
            .unwrap();
        let metrics = f.operator.metrics.clone();
        eventually(
            "a reconcile",
            || {
                let metrics = metrics.clone();
                async move { reconciles_of(&metrics, "EcsService") }
            },
            |n| *n > before,
        )
        .await;
    }
    assert_eq!(
        f.calls().get("UpdateService").copied().unwrap_or(0),
        updates
    );
    let now = f.ecs().await;
    assert_eq!(now.task_definition(), Some(revision_1.as_str()));
    assert_eq!(now.deployments()[0].id(), rolled_back.deployments()[0].id());
    assert!(is_stalled(&f.services.get("web").await.unwrap()));

    // The next revision rolls out.
    f.set_image("nginx:1.29").await;
    let fixed = wait_for(&f.services, "web", "Ready on revision 3", |s| {
        is_ready(s) && s.status.as_ref().and_then(|st| st.task_definition_revision) == Some(3)
    })
    .await;
    assert!(!is_stalled(&fixed));
    assert!(completed(&f.ecs().await));
}

#[tokio::test]
async fn a_service_whose_tasks_stop_says_why_once() {
    let f = fixture(
        "roll-why",
        json!({"capacityProviders": ["FARGATE"]}),
        "nginx:1.27",
    )
    .await;
    f.create_service(json!({"desiredCount": 2, "launchType": "FARGATE"}))
        .await;
    wait_for(&f.services, "web", "Ready", is_ready).await;
    assert!(
        f.services
            .get("web")
            .await
            .unwrap()
            .status
            .unwrap()
            .stopped_tasks
            .is_none(),
        "a Ready service reads no stopped tasks"
    );

    // Revision 2's container exits with 3 before it runs: no circuit breaker, so the rollout
    // goes on trying, and the service says why it does not finish.
    let patch = json!({"spec": {"containerDefinitions": [{
        "name": "web", "image": "nginx:1.28", "essential": true,
        "portMappings": [{"containerPort": 8080}],
        "environment": [{"name": "ECS_EMULATOR_EXIT_CODE", "value": "3"}]
    }]}});
    f.definitions
        .patch("web", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .unwrap();
    let why = "Essential container in task exited (container web, exit 3)";
    let failing = wait_for(&f.services, "web", "the reason in Ready", |s| {
        condition(s, "Ready").is_some_and(|c| c.message.contains(&format!("stopped: {why}")))
    })
    .await;
    let status = failing.status.unwrap();
    let stopped = status.stopped_tasks.unwrap();
    assert_eq!(stopped.reasons[0].reason, why);
    assert_eq!(
        stopped.reasons[0].stop_code.as_deref(),
        Some("EssentialContainerExited")
    );
    assert!(!is_ready(&f.services.get("web").await.unwrap()));

    // More tasks stop for the same reason; it is told once.
    let counted = stopped.reasons[0].tasks;
    wait_for(&f.services, "web", "more stopped tasks counted", |s| {
        s.status
            .as_ref()
            .and_then(|st| st.stopped_tasks.as_ref())
            .is_some_and(|st| st.reasons[0].tasks > counted)
    })
    .await;
    let warnings = harness::event_notes::<EcsService>(&f.client, &f.ns, "web", "TaskStopped").await;
    assert_eq!(
        warnings,
        [format!(
            "a task of ECS service {} stopped: {why}",
            f.service
        )]
    );

    // Fixed: Ready again, and the reasons are gone.
    f.set_image("nginx:1.29").await;
    let fixed = wait_for(&f.services, "web", "Ready on revision 3", |s| {
        is_ready(s) && s.status.as_ref().and_then(|st| st.task_definition_revision) == Some(3)
    })
    .await;
    assert!(fixed.status.unwrap().stopped_tasks.is_none());
}

/// Sets the image of EcsTaskDefinition "web" (a new revision) and the exit code of the
/// service's pre-deploy run (the emulator's `ECS_EMULATOR_EXIT_CODE` in its override).
async fn next_revision_with_pre_deploy_exit(f: &Fixture, image: &str, exit: &str) {
    let patch = json!({"spec": {"preDeploy": {"overrides": {"containerOverrides": [{
        "name": "web", "command": ["./migrate"],
        "environment": [{"name": "ECS_EMULATOR_EXIT_CODE", "value": exit}]
    }]}}}});
    f.services
        .patch("web", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .unwrap();
    f.set_image(image).await;
}

#[tokio::test]
async fn a_pre_deploy_task_runs_once_per_revision_and_a_failure_holds_the_rollout() {
    let f = fixture(
        "roll-migrate",
        json!({"capacityProviders": ["FARGATE"]}),
        "nginx:1.27",
    )
    .await;
    f.create_service(json!({
        "desiredCount": 1, "launchType": "FARGATE",
        "preDeploy": {"overrides": {"containerOverrides": [{
            "name": "web", "command": ["./migrate"],
            "environment": [{"name": "ECS_EMULATOR_EXIT_CODE", "value": "0"}]
        }]}}
    }))
    .await;
    // The first revision's run succeeds before the service is created.
    let ready = wait_for(&f.services, "web", "Ready", is_ready).await;
    let recorded = ready.status.unwrap().pre_deploy.unwrap();
    assert_eq!(recorded.state, "Succeeded");
    assert!(recorded.task_definition.ends_with(":1"));
    assert_eq!(f.calls().get("RunTask"), Some(&1));

    // A new revision: its own run, then the rollout.
    next_revision_with_pre_deploy_exit(&f, "nginx:1.28", "0").await;
    wait_for(&f.services, "web", "Ready on revision 2", |s| {
        is_ready(s) && s.status.as_ref().and_then(|st| st.task_definition_revision) == Some(2)
    })
    .await;
    assert_eq!(f.calls().get("RunTask"), Some(&2), "once per revision");

    // Its run fails: the service stays on revision 2, Stalled with the task's exit code.
    next_revision_with_pre_deploy_exit(&f, "nginx:1.29", "3").await;
    let stalled = wait_for(&f.services, "web", "Stalled", is_stalled).await;
    let ready = condition(&stalled, "Ready").unwrap();
    assert_eq!(ready.reason, "PreDeployFailed");
    assert!(
        ready.message.contains("the pre-deploy task of ")
            && ready.message.contains("exited with 3"),
        "{}",
        ready.message
    );
    assert!(f.ecs().await.task_definition().unwrap().ends_with(":2"));
    let warnings =
        harness::event_notes::<EcsService>(&f.client, &f.ns, "web", "PreDeployFailed").await;
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    let runs = f.calls().get("RunTask").copied();
    f.resyncs("EcsService", 1, 2).await;
    assert_eq!(
        f.calls().get("RunTask").copied(),
        runs,
        "a failed run is not retried"
    );

    // The next revision, with a fixed migration, rolls out.
    next_revision_with_pre_deploy_exit(&f, "nginx:1.30", "0").await;
    wait_for(&f.services, "web", "Ready on revision 4", |s| {
        is_ready(s) && s.status.as_ref().and_then(|st| st.task_definition_revision) == Some(4)
    })
    .await;
}

#[tokio::test]
async fn ecs_service_events_are_mirrored_once_each_also_across_a_restart() {
    let mut f = fixture(
        "roll-events",
        json!({"capacityProviders": ["FARGATE"]}),
        "nginx:1.27",
    )
    .await;
    f.create_service(json!({"desiredCount": 2, "launchType": "FARGATE"}))
        .await;
    wait_for(&f.services, "web", "Ready", is_ready).await;
    let service = f.ecs().await;
    let messages = ecs_messages(&service);
    assert!(messages[0].contains("has started 2 tasks"), "{messages:?}");
    assert!(
        messages
            .last()
            .unwrap()
            .ends_with("has reached a steady state."),
        "{messages:?}"
    );
    harness::wait_for_event::<EcsService>(
        &f.client,
        &f.ns,
        "web",
        "EcsServiceEvent",
        |note: &str| note.contains("has reached a steady state"),
    )
    .await;
    assert_mirrored_once_each(&f.client, &f.ns, &service).await;

    // While the operator is down, ECS deploys again (someone forced a deployment); back up, the
    // operator publishes what it missed, and nothing twice.
    std::mem::replace(
        &mut f.operator,
        TestOperator::start(&f.client, &support::unique_name("idle")).await,
    )
    .stop()
    .await;
    support::ecs_client()
        .update_service()
        .cluster(&f.cluster)
        .service(&f.service)
        .force_new_deployment(true)
        .send()
        .await
        .unwrap();
    let redeployed = eventually(
        "the forced deployment completed",
        || f.ecs(),
        |s| completed(s) && s.events().len() > service.events().len() + 2,
    )
    .await;
    f.operator = TestOperator::start(&f.client, &f.ns).await;
    eventually(
        "the missed events mirrored",
        || mirrored(&f.client, &f.ns),
        |seen| seen.values().sum::<i32>() == redeployed.events().len() as i32,
    )
    .await;
    f.resyncs("EcsService", 1, 2).await;
    assert_mirrored_once_each(&f.client, &f.ns, &f.ecs().await).await;
}

#[tokio::test]
async fn a_service_deleted_behind_the_operators_back_is_created_again_once() {
    let f = fixture(
        "roll-gone",
        json!({"capacityProviders": ["FARGATE"]}),
        "nginx:1.27",
    )
    .await;
    f.create_service(json!({"desiredCount": 1, "launchType": "FARGATE"}))
        .await;
    let before = wait_for(&f.services, "web", "Ready", is_ready).await;
    let created_at = before.status.unwrap().created_at.unwrap();

    let ecs = support::ecs_client();
    ecs.delete_service()
        .cluster(&f.cluster)
        .service(&f.service)
        .force(true)
        .send()
        .await
        .unwrap();
    harness::wait_for_event::<EcsService>(&f.client, &f.ns, "web", "Created", |note: &str| {
        note.contains("again")
    })
    .await;
    let again = wait_for(&f.services, "web", "Ready on a new service", |s| {
        is_ready(s)
            && s.status.as_ref().and_then(|st| st.created_at.as_deref())
                != Some(created_at.as_str())
    })
    .await;
    assert_eq!(again.status.unwrap().status.as_deref(), Some("ACTIVE"));
    assert!(completed(&f.ecs().await));
    f.resyncs("EcsService", 1, 2).await;
    assert_eq!(f.calls().get("CreateService"), Some(&2));
    let created = harness::event_notes::<EcsService>(&f.client, &f.ns, "web", "Created").await;
    assert_eq!(created.len(), 2, "{created:?}");
}

#[tokio::test]
async fn a_service_on_the_clusters_default_capacity_provider_strategy_is_never_updated() {
    let f = fixture(
        "roll-default",
        json!({
            "capacityProviders": ["FARGATE", "FARGATE_SPOT"],
            "defaultCapacityProviderStrategy": [
                {"capacityProvider": "FARGATE", "base": 1, "weight": 1},
                {"capacityProvider": "FARGATE_SPOT", "weight": 3}
            ]
        }),
        "nginx:1.27",
    )
    .await;
    f.create_service(json!({"desiredCount": 2})).await;
    wait_for(&f.services, "web", "Ready", is_ready).await;
    let service = f.ecs().await;
    assert_eq!(service.launch_type(), None);
    assert_eq!(service.capacity_provider_strategy().len(), 2);
    f.resyncs("EcsService", 1, 3).await;
    let calls = f.calls();
    assert_eq!(calls.get("UpdateService"), None, "{calls:?}");
    assert_eq!(
        support::ecs_writes(&f.operator.access_key).get("CreateService"),
        Some(&1)
    );
    assert!(is_ready(&f.services.get("web").await.unwrap()));
}
