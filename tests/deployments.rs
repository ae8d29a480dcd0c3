//! Deployments the way ECS does them now, end to end on the emulator's control plane: blue/green
//! through its lifecycle stages, PAUSE hooks approved or rolled back from an annotation (as Git
//! or `kubectl annotate` sets it), a PAUSE timeout rolling back, a linear deployment step by
//! step, a stale approval doing nothing, the move from a launch type to a capacity provider
//! strategy, and every new field reaching ECS without a drift loop.

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
use serde_json::{Value, json};

const APPROVE: &str = "ecs.operator.dev/approve";
const ROLLBACK: &str = "ecs.operator.dev/rollback";

struct Fixture {
    client: Client,
    ns: String,
    operator: TestOperator,
    cluster: String,
    service: String,
    definitions: Api<EcsTaskDefinition>,
    services: Api<EcsService>,
}

/// A namespace with an operator, an EcsCluster "apps" (FARGATE) and a Fargate
/// EcsTaskDefinition "web", both Ready.
async fn fixture(prefix: &str) -> Fixture {
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
    clusters
        .create(
            &PostParams::default(),
            &manifest(json!({
                "apiVersion": "ecs.operator.dev/v1alpha1", "kind": "EcsCluster",
                "metadata": {"name": "apps"},
                "spec": {"clusterName": cluster, "capacityProviders": ["FARGATE", "FARGATE_SPOT"]}
            })),
        )
        .await
        .unwrap();
    definitions
        .create(&PostParams::default(), &definition(&family, "nginx:1.27"))
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

fn definition(family: &str, image: &str) -> EcsTaskDefinition {
    manifest(json!({
        "apiVersion": "ecs.operator.dev/v1alpha1", "kind": "EcsTaskDefinition",
        "metadata": {"name": "web"},
        "spec": {
            "family": family, "requiresCompatibilities": ["FARGATE"], "networkMode": "awsvpc",
            "cpu": "256", "memory": "512",
            "containerDefinitions": [{"name": "web", "image": image, "essential": true,
                                      "portMappings": [{"containerPort": 8080, "name": "http"}]}]
        }
    }))
}

impl Fixture {
    /// Creates the EcsService "web" with `spec` (references, ECS name and the emulator's
    /// network filled in) and waits for it to be Ready on its first revision.
    async fn create_ready_service(&self, mut spec: Value) -> EcsService {
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
        wait_for(&self.services, "web", "Ready", is_ready).await
    }

    /// Registers a new revision (a new image): the service starts a deployment of it.
    async fn set_image(&self, image: &str) {
        let patch = json!({"spec": {"containerDefinitions": [{
            "name": "web", "image": image, "essential": true,
            "portMappings": [{"containerPort": 8080, "name": "http"}]
        }]}});
        self.definitions
            .patch("web", &PatchParams::default(), &Patch::Merge(&patch))
            .await
            .unwrap();
    }

    /// Replaces the service's deploymentConfiguration (no new deployment: the revision stays).
    async fn set_deployment_configuration(&self, config: Value) {
        let patch = json!({"spec": {"deploymentConfiguration": config}});
        self.services
            .patch("web", &PatchParams::default(), &Patch::Merge(&patch))
            .await
            .unwrap();
        let generation = self.services.get("web").await.unwrap().metadata.generation;
        wait_for(&self.services, "web", "the configuration applied", |s| {
            s.status.as_ref().and_then(|s| s.applied_generation) == generation
        })
        .await;
    }

    /// Creates the service with `spec` (its first deployment has no hooks: ECS runs them for the
    /// first deployment too), then gives it `hooks`: the next revision's deployment runs them.
    async fn create_ready_service_with_hooks(&self, spec: Value, hooks: Value) {
        let mut config = spec["deploymentConfiguration"].clone();
        self.create_ready_service(spec).await;
        config["lifecycleHooks"] = hooks;
        self.set_deployment_configuration(config).await;
    }

    /// Sets an annotation, as `kubectl annotate` (or a commit Argo CD applies) does.
    async fn annotate(&self, key: &str, value: &str) {
        let patch = json!({"metadata": {"annotations": {key: value}}});
        self.services
            .patch("web", &PatchParams::default(), &Patch::Merge(&patch))
            .await
            .unwrap();
    }

    async fn ecs(&self) -> Service {
        support::describe_service(&self.cluster, &self.service).await
    }

    /// The service deployment ECS reports as current, as ECS describes it.
    async fn ecs_deployment(&self) -> aws_sdk_ecs::types::ServiceDeployment {
        let arn = self
            .ecs()
            .await
            .current_service_deployment()
            .unwrap()
            .to_string();
        support::ecs_client()
            .describe_service_deployments()
            .service_deployment_arns(arn)
            .send()
            .await
            .expect("describe service deployments")
            .service_deployments()[0]
            .clone()
    }

    /// ECS writes this test's operator made, by operation.
    fn writes(&self) -> BTreeMap<String, u64> {
        support::ecs_writes(&self.operator.access_key)
    }

    async fn events(&self, reason: &str) -> Vec<String> {
        harness::events::<EcsService>(&self.client, &self.ns, "web")
            .await
            .into_iter()
            .filter(|e| e.reason == reason)
            .map(|e| e.note)
            .collect()
    }
}

fn ready(obj: &EcsService) -> (String, String) {
    condition(obj, "Ready")
        .map(|c| (c.status, c.reason))
        .unwrap_or_default()
}

/// kstatus's reading of the conditions: Stalled=True is Failed, Reconciling=True InProgress,
/// Ready=True Current.
fn kstatus(obj: &EcsService) -> &'static str {
    let is = |t: &str| condition(obj, t).is_some_and(|c| c.status == "True");
    if is("Stalled") {
        "Failed"
    } else if is("Reconciling") {
        "InProgress"
    } else if is("Ready") {
        "Current"
    } else {
        "Unknown"
    }
}

fn awaiting_approval(obj: &EcsService) -> bool {
    ready(obj) == ("False".into(), "AwaitingApproval".into())
}

/// The hook the service's deployment waits at, from status.
fn pending_hook(obj: &EcsService) -> String {
    obj.status
        .as_ref()
        .and_then(|s| s.service_deployment.as_ref())
        .and_then(|sd| sd.pending_hook.as_ref())
        .map(|h| h.hook_id.clone())
        .expect("a pending hook in status")
}

fn revision(obj: &EcsService) -> Option<i64> {
    obj.status.as_ref().and_then(|s| s.task_definition_revision)
}

/// A blue/green service; `pause` gives it a PAUSE hook at `stage` timing out after `timeout`
/// minutes with `action`.
fn blue_green() -> Value {
    json!({
        "desiredCount": 2,
        "launchType": "FARGATE",
        "deploymentConfiguration": {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 0}
    })
}

fn pause(stage: &str, timeout: i32, action: &str) -> Value {
    json!([{"targetType": "PAUSE", "lifecycleStages": [stage],
            "timeoutConfiguration": {"timeoutInMinutes": timeout, "action": action}}])
}

// --- tests ---------------------------------------------------------------------------------------

#[tokio::test]
async fn blue_green_goes_through_its_stages_and_is_ready_only_once_successful() {
    let f = fixture("dep-bg").await;
    f.create_ready_service(json!({
        "desiredCount": 2,
        "launchType": "FARGATE",
        "deploymentConfiguration": {
            "strategy": "BLUE_GREEN", "bakeTimeInMinutes": 3,
            "lifecycleHooks": [{
                "hookTargetArn": "arn:aws:lambda:us-east-1:123456789012:function:smoke",
                "roleArn": "arn:aws:iam::123456789012:role/ecs-hooks",
                "lifecycleStages": ["POST_SCALE_UP", "POST_TEST_TRAFFIC_SHIFT"]
            }]
        }
    }))
    .await;
    f.set_image("nginx:1.28").await;

    // The bake time holds the deployment with all production traffic on green: the operator
    // reports it in progress, at its stage.
    let baking = wait_for(&f.services, "web", "baking", |s| {
        s.status
            .as_ref()
            .and_then(|s| s.service_deployment.as_ref())
            .is_some_and(|sd| sd.lifecycle_stage.as_deref() == Some("BAKE_TIME"))
    })
    .await;
    assert_eq!(ready(&baking).0, "False");
    assert_eq!(kstatus(&baking), "InProgress");
    let sd = baking.status.unwrap().service_deployment.unwrap();
    assert_eq!(sd.production_traffic_weight, Some(100.0));

    let done = wait_for(&f.services, "web", "Ready on revision 2", |s| {
        is_ready(s) && revision(s) == Some(2)
    })
    .await;
    // Ready only once ECS says the service deployment succeeded, every hook with it.
    let ecs = f.ecs_deployment().await;
    assert_eq!(ecs.status().map(|s| s.as_str()), Some("SUCCESSFUL"));
    assert!(
        ecs.lifecycle_hook_details()
            .iter()
            .all(|h| h.status().map(|s| s.as_str()) == Some("SUCCEEDED")),
        "{ecs:?}"
    );
    let recorded = done.status.unwrap().service_deployment.unwrap();
    assert_eq!(recorded.status.as_deref(), Some("SUCCESSFUL"));
    assert_eq!(
        recorded
            .task_definition
            .as_deref()
            .map(|td| td.ends_with(":2")),
        Some(true)
    );
}

#[tokio::test]
async fn a_paused_deployment_is_approved_through_the_annotation_once() {
    let f = fixture("dep-pause").await;
    f.create_ready_service_with_hooks(
        blue_green(),
        pause("POST_TEST_TRAFFIC_SHIFT", 60, "ROLLBACK"),
    )
    .await;
    f.set_image("nginx:1.28").await;

    let paused = wait_for(&f.services, "web", "awaiting approval", awaiting_approval).await;
    assert_eq!(kstatus(&paused), "InProgress");
    let hook = pending_hook(&paused);
    let told = f.events("AwaitingApproval").await;
    assert_eq!(told.len(), 1, "{told:?}");
    assert!(
        told[0].contains(&format!("{APPROVE}={hook}")),
        "the event says how to approve: {}",
        told[0]
    );

    // A value that names no waiting hook does nothing, and says so once.
    f.annotate(APPROVE, "ecs-pause-not-this-one").await;
    harness::wait_for_event::<EcsService>(&f.client, &f.ns, "web", "ApprovalIgnored", |_| true)
        .await;
    f.operator.resyncs("EcsService", 1, 2).await;
    let still = f.services.get("web").await.unwrap();
    assert!(awaiting_approval(&still), "{:?}", still.status);
    assert_eq!(
        f.ecs_deployment().await.status().map(|s| s.as_str()),
        Some("IN_PROGRESS")
    );

    f.annotate(APPROVE, &hook).await;
    let done = wait_for(&f.services, "web", "Ready on revision 2", |s| {
        is_ready(s) && revision(s) == Some(2)
    })
    .await;
    let approvals = done.status.unwrap().approvals.unwrap();
    assert_eq!(approvals.approve.unwrap().value, hook);
    assert_eq!(f.events("Approved").await.len(), 1);
    assert_eq!(f.writes().get("ContinueServiceDeployment"), Some(&1));

    // The value stays (as it does in Git): the next deployment waits for its own approval.
    f.set_image("nginx:1.29").await;
    let next = wait_for(
        &f.services,
        "web",
        "the next deployment awaiting approval",
        |s| awaiting_approval(s) && pending_hook(s) != hook,
    )
    .await;
    assert!(revision(&next) == Some(3), "{:?}", next.status);
    f.operator.resyncs("EcsService", 1, 2).await;
    assert!(awaiting_approval(&f.services.get("web").await.unwrap()));
    assert_eq!(f.writes().get("ContinueServiceDeployment"), Some(&1));

    // `kubectl ecs approve` reads the waiting hook from status and sets the annotation.
    let (code, out, err) = kubectl_ecs(&f.ns, &["approve", "web"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains(&pending_hook(&next)), "{out}");
    wait_for(&f.services, "web", "Ready on revision 3", |s| {
        is_ready(s) && revision(s) == Some(3)
    })
    .await;
    assert_eq!(f.writes().get("ContinueServiceDeployment"), Some(&2));
    let (code, _, err) = kubectl_ecs(&f.ns, &["approve", "web"]);
    assert_eq!(
        (code, err.trim()),
        (
            1,
            "error: EcsService web has no deployment awaiting approval"
        )
    );
}

/// Runs `kubectl-ecs ARGS -n NS`: exit code, stdout, stderr.
fn kubectl_ecs(ns: &str, args: &[&str]) -> (i32, String, String) {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_kubectl-ecs"))
        .args(args)
        .args(["-n", ns])
        .envs(&support::env().vars)
        .output()
        .expect("kubectl-ecs runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).to_string(),
        String::from_utf8_lossy(&output.stderr).to_string(),
    )
}

#[tokio::test]
async fn a_pause_that_times_out_rolls_back_and_the_service_is_stalled() {
    let f = fixture("dep-timeout").await;
    f.create_ready_service_with_hooks(blue_green(), pause("POST_SCALE_UP", 1, "ROLLBACK"))
        .await;
    f.set_image("nginx:1.28").await;
    // Stalled with ECS's reasons: the classic deployment's, then the service deployment's.
    let stalled = wait_for(
        &f.services,
        "web",
        "Stalled, saying the hook timed out",
        |s| is_stalled(s) && condition(s, "Ready").is_some_and(|c| c.message.contains("timed out")),
    )
    .await;
    let message = condition(&stalled, "Ready").unwrap().message;
    assert!(message.contains("ROLLBACK_"), "{message}");
    assert_eq!(kstatus(&stalled), "Failed");
    assert_eq!(
        condition(&stalled, "Stalled").unwrap().reason,
        "DeploymentFailed"
    );
    // ECS runs the first revision again, and the operator does not deploy the second again.
    let updates = f.writes().get("UpdateService").copied();
    // A Stalled service is looked at again rarely: an annotation wakes it, three times.
    for poke in 0..3 {
        let before = f.operator.reconciles("EcsService");
        f.annotate("example.com/poke", &poke.to_string()).await;
        eventually(
            "a reconcile",
            || async { f.operator.reconciles("EcsService") },
            |n| *n > before,
        )
        .await;
    }
    assert_eq!(f.writes().get("UpdateService").copied(), updates);
    assert!(f.ecs().await.task_definition().unwrap().ends_with(":1"));
}

#[tokio::test]
async fn a_rollback_committed_to_git_rolls_the_paused_deployment_back() {
    let f = fixture("dep-rollback").await;
    f.create_ready_service_with_hooks(
        blue_green(),
        pause("POST_TEST_TRAFFIC_SHIFT", 60, "CONTINUE"),
    )
    .await;
    f.set_image("nginx:1.28").await;
    let paused = wait_for(&f.services, "web", "awaiting approval", awaiting_approval).await;
    let arn = paused.status.unwrap().service_deployment.unwrap().arn;
    let id = arn.rsplit('/').next().unwrap();

    f.annotate(ROLLBACK, id).await;
    let stalled = wait_for(&f.services, "web", "Stalled", is_stalled).await;
    let message = condition(&stalled, "Ready").unwrap().message;
    assert!(message.contains("ROLLBACK_"), "{message}");
    assert_eq!(f.events("RollbackRequested").await.len(), 1);
    assert!(f.ecs().await.task_definition().unwrap().ends_with(":1"));
    assert_eq!(
        stalled
            .status
            .unwrap()
            .approvals
            .unwrap()
            .rollback
            .unwrap()
            .value,
        id
    );
}

#[tokio::test]
async fn a_linear_deployment_steps_through_its_traffic_shifts() {
    let f = fixture("dep-linear").await;
    // A PAUSE before each production traffic shift holds every step for the test to see.
    f.create_ready_service_with_hooks(
        json!({
            "desiredCount": 1,
            "launchType": "FARGATE",
            "deploymentConfiguration": {
                "strategy": "LINEAR", "bakeTimeInMinutes": 0,
                "linearConfiguration": {"stepPercent": 34.0, "stepBakeTimeInMinutes": 0}
            }
        }),
        json!([{"targetType": "PAUSE", "lifecycleStages": ["PRE_PRODUCTION_TRAFFIC_SHIFT"]}]),
    )
    .await;
    f.set_image("nginx:1.28").await;

    let mut weights = Vec::new();
    let mut approved = Vec::new();
    for step in 0..3 {
        let paused = wait_for(
            &f.services,
            "web",
            &format!("paused before step {step}"),
            |s| awaiting_approval(s) && !approved.contains(&pending_hook(s)),
        )
        .await;
        let sd = paused
            .status
            .as_ref()
            .unwrap()
            .service_deployment
            .clone()
            .unwrap();
        weights.push(sd.production_traffic_weight.unwrap_or(0.0));
        let hook = pending_hook(&paused);
        f.annotate(APPROVE, &hook).await;
        approved.push(hook);
    }
    assert_eq!(weights, [0.0, 34.0, 68.0]);
    let done = wait_for(&f.services, "web", "Ready on revision 2", |s| {
        is_ready(s) && revision(s) == Some(2)
    })
    .await;
    assert_eq!(
        done.status
            .unwrap()
            .service_deployment
            .unwrap()
            .production_traffic_weight,
        Some(100.0)
    );
    assert_eq!(f.writes().get("ContinueServiceDeployment"), Some(&3));
}

#[tokio::test]
async fn a_launch_type_gives_way_to_a_capacity_provider_strategy_in_place() {
    let f = fixture("dep-cps").await;
    f.create_ready_service(json!({"desiredCount": 1, "launchType": "FARGATE"}))
        .await;
    let before = f.writes();
    let patch = json!({"spec": {"launchType": null,
        "capacityProviderStrategy": [{"capacityProvider": "FARGATE_SPOT", "weight": 1}]}});
    f.services
        .patch("web", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .unwrap();
    wait_for(&f.services, "web", "Ready on the strategy", |s| {
        is_ready(s) && s.status.as_ref().and_then(|s| s.observed_generation) == Some(2)
    })
    .await;
    let after = f.writes();
    assert_eq!(
        after.get("UpdateService").copied().unwrap_or(0)
            - before.get("UpdateService").copied().unwrap_or(0),
        1,
        "one UpdateService"
    );
    assert_eq!(after.get("CreateService"), before.get("CreateService"));
    let ecs = f.ecs().await;
    assert_eq!(ecs.launch_type(), None);
    assert_eq!(
        ecs.capacity_provider_strategy()[0].capacity_provider(),
        "FARGATE_SPOT"
    );
    assert_eq!(ecs.deployments().len(), 1, "the new deployment completed");
}

#[tokio::test]
async fn every_new_field_reaches_ecs_and_settles() {
    let f = fixture("dep-fields").await;
    let groups = harness::load_balanced_target_groups(2, 0);
    let ready = f
        .create_ready_service(json!({
            "desiredCount": 1,
            "launchType": "FARGATE",
            "loadBalancers": [{
                "targetGroupArn": groups[0], "containerName": "web", "containerPort": 8080,
                "advancedConfiguration": {
                    "alternateTargetGroupArn": groups[1],
                    "productionListenerRule": "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener-rule/app/web/1/2/3",
                    "testListenerRule": "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener-rule/app/web/1/2/4",
                    "roleArn": "arn:aws:iam::123456789012:role/ecs-elb"
                }
            }],
            "deploymentConfiguration": {
                "strategy": "CANARY", "bakeTimeInMinutes": 0,
                "canaryConfiguration": {"canaryPercent": 10.0, "canaryBakeTimeInMinutes": 0},
                "lifecycleHooks": [{
                    "hookTargetArn": "arn:aws:lambda:us-east-1:123456789012:function:smoke",
                    "roleArn": "arn:aws:iam::123456789012:role/ecs-hooks",
                    "lifecycleStages": ["POST_TEST_TRAFFIC_SHIFT"],
                    "hookDetails": {"path": "/health"},
                    "timeoutConfiguration": {"timeoutInMinutes": 30, "action": "ROLLBACK"}
                }]
            },
            "volumeConfigurations": [{"name": "scratch", "managedEBSVolume": {
                "roleArn": "arn:aws:iam::123456789012:role/ecs-ebs", "sizeInGiB": 20, "volumeType": "gp3"}}],
            "vpcLatticeConfigurations": [{"roleArn": "arn:aws:iam::123456789012:role/ecs-lattice",
                "targetGroupArn": "arn:aws:vpc-lattice:us-east-1:123456789012:targetgroup/tg-0123456789abcdef0",
                "portName": "http"}]
        }))
        .await;
    let ecs = f.ecs().await;
    let config = ecs.deployment_configuration().unwrap();
    assert_eq!(config.strategy().map(|s| s.as_str()), Some("CANARY"));
    assert_eq!(
        config
            .canary_configuration()
            .and_then(|c| c.canary_percent()),
        Some(10.0)
    );
    let hook = &config.lifecycle_hooks()[0];
    assert_eq!(
        hook.hook_target_arn(),
        Some("arn:aws:lambda:us-east-1:123456789012:function:smoke")
    );
    assert!(hook.hook_details().is_some());
    let advanced = ecs.load_balancers()[0].advanced_configuration().unwrap();
    assert_eq!(
        advanced.alternate_target_group_arn(),
        Some(groups[1].as_str())
    );
    let primary = &ecs.deployments()[0];
    assert_eq!(primary.volume_configurations()[0].name(), "scratch");
    assert_eq!(primary.vpc_lattice_configurations()[0].port_name(), "http");
    assert!(ready.status.unwrap().service_deployment.is_some());

    // Nothing drifts: no write over several resyncs.
    let before = f.writes();
    f.operator.resyncs("EcsService", 1, 3).await;
    assert_eq!(f.writes(), before);
}

#[tokio::test]
async fn an_ec2_service_behind_a_load_balancer_takes_its_role() {
    let f = fixture("dep-role").await;
    harness::add_container_instances(&f.cluster, 1);
    let family = support::unique_name("bridge");
    let definitions: Api<EcsTaskDefinition> = Api::namespaced(f.client.clone(), &f.ns);
    definitions
        .create(
            &PostParams::default(),
            &manifest(json!({
                "apiVersion": "ecs.operator.dev/v1alpha1", "kind": "EcsTaskDefinition",
                "metadata": {"name": "bridge"},
                "spec": {"family": family, "requiresCompatibilities": ["EC2"], "networkMode": "bridge",
                         "containerDefinitions": [{"name": "web", "image": "nginx:1.27", "memory": 128,
                             "essential": true, "portMappings": [{"containerPort": 80, "hostPort": 0}]}]}
            })),
        )
        .await
        .unwrap();
    wait_for(&definitions, "bridge", "Ready", is_ready).await;
    let groups = harness::load_balanced_target_groups(1, 0);
    let service: EcsService = manifest(json!({
        "apiVersion": "ecs.operator.dev/v1alpha1", "kind": "EcsService",
        "metadata": {"name": "web"},
        "spec": {
            "serviceName": f.service, "clusterRef": {"name": "apps"},
            "taskDefinitionRef": {"name": "bridge"}, "launchType": "EC2", "desiredCount": 1,
            "role": "ecsServiceRole",
            "loadBalancers": [{"targetGroupArn": groups[0], "containerName": "web", "containerPort": 80}]
        }
    }));
    f.services
        .create(&PostParams::default(), &service)
        .await
        .unwrap();
    wait_for(&f.services, "web", "Ready", is_ready).await;
    let role = eventually("the role in ECS", || f.ecs(), |s| s.role_arn().is_some()).await;
    assert!(
        role.role_arn().unwrap().ends_with("ecsServiceRole"),
        "{:?}",
        role.role_arn()
    );
}

#[tokio::test]
async fn two_hooks_waiting_at_once_are_approved_one_after_the_other() {
    let f = fixture("dep-two").await;
    let hooks = json!([
        {"targetType": "PAUSE", "lifecycleStages": ["POST_SCALE_UP"]},
        {"targetType": "PAUSE", "lifecycleStages": ["POST_SCALE_UP"]}
    ]);
    f.create_ready_service_with_hooks(blue_green(), hooks).await;
    f.set_image("nginx:1.28").await;
    let first =
        pending_hook(&wait_for(&f.services, "web", "awaiting approval", awaiting_approval).await);
    f.annotate(APPROVE, &first).await;
    // The other hook shows as soon as the first is continued.
    let second = wait_for(
        &f.services,
        "web",
        "the second hook awaiting approval",
        |s| awaiting_approval(s) && pending_hook(s) != first,
    )
    .await;
    f.annotate(APPROVE, &pending_hook(&second)).await;
    wait_for(&f.services, "web", "Ready on revision 2", |s| {
        is_ready(s) && revision(s) == Some(2)
    })
    .await;
    assert_eq!(f.writes().get("ContinueServiceDeployment"), Some(&2));
    assert_eq!(f.events("Approved").await.len(), 2);
}
