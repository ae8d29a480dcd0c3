//! EcsService against the local environment: lifecycle with the spec round-tripping to ECS, a new
//! task definition revision followed through the watch relation, dependency waiting, adoption and
//! ownership conflicts, Retain, the scale subresource, the restart annotation, desiredCount left
//! to others, drift, delete, and the cluster waiting for its services.
//!
//! The emulator runs ECS's control plane: tasks start and stop, deployments progress within
//! maximumPercent/minimumHealthyPercent and complete only once the new tasks run and the old ones
//! drained, DeleteService goes DRAINING then INACTIVE, DeleteCluster is refused while services
//! remain, and ECS writes its service events. So Ready is checked for what it promises (the
//! primary deployment COMPLETED, runningCount == desiredCount), spec changes, new revisions and
//! forced deployments are followed until ECS completes them, and ECS's events are seen mirrored
//! (a task ECS cannot place comes through as a Warning). Services are set up as ECS demands:
//! awsvpc (Fargate) services name their subnets, EC2 services run in clusters with container
//! instances, load-balanced services use target groups behind a load balancer (with a short
//! deregistration delay), service registries exist in Cloud Map.
//!
//! Left to other tests: circuit breaker failures, rollbacks, clientToken idempotency and event
//! mirroring across restarts (`tests/rollout.rs`). What the emulator does not model (CPU and
//! memory of container instances, placement constraints and strategies beyond "an instance is
//! registered", ECS's real timing) is not claimed here.

mod harness;
mod support;

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_ecs::types::{Compatibility, ContainerDefinition, NetworkMode, Service, ServiceField};
use clap::Parser;
use ecs_operator::api::{
    ADOPT_ANNOTATION, CLUSTER_ID_TAG, EcsCluster, EcsService, EcsTaskDefinition, FINALIZER,
    OWNER_TAG, RESTARTED_AT_ANNOTATION, UID_TAG,
};
use ecs_operator::cli::{Cli, Command};
use ecs_operator::operator::Operator;
use ecs_operator::runtime::metrics::Metrics;
use harness::{
    SeenEvent, TEST_RESYNC, TestOperator, condition, ecs_tags, eventually, is_ready, manifest,
    setup, wait_for, wait_gone,
};
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use kube::{Client, ResourceExt};
use serde_json::json;
use tokio::sync::watch;
use tokio::time::Instant;

/// Deregistration delay of the tests' target groups (ECS seconds): ELB's default, 300 s, would
/// make every task stop wait 30 s at the emulator's speed.
const DEREGISTRATION_DELAY: u32 = 5;

// --- an operator with a long resync, and metrics ---------------------------------------------

/// The operator in-process like `harness::TestOperator`, but with a resync period far longer than
/// the test: whatever it does within the test was triggered by a watch (or a rollout poll).
struct LongResyncOperator {
    metrics: Arc<Metrics>,
    stop: watch::Sender<bool>,
}

impl LongResyncOperator {
    async fn start(client: &Client, namespace: &str) -> LongResyncOperator {
        let cli = Cli::try_parse_from([
            "ecs-operator",
            "run",
            "--namespace",
            namespace,
            "--resync-period",
            "10m",
            "--admin-address",
            "127.0.0.1:0",
            "--log-format",
            "text",
            "--lease-namespace",
            namespace,
        ])
        .expect("valid run arguments");
        let Command::Run(args) = cli.command else {
            unreachable!("parsed the run command")
        };
        if std::env::var_os("RUST_LOG").is_some() {
            ecs_operator::runtime::telemetry::init("info", args.log_format);
        }
        let operator = Operator::new(client.clone(), support::sdk_config().await, &args)
            .await
            .expect("operator starts");
        let metrics = operator.metrics.clone();
        let (stop, shutdown) = watch::channel(false);
        tokio::spawn(async move { operator.run_controllers(&args, shutdown).await });
        LongResyncOperator { metrics, stop }
    }
}

impl Drop for LongResyncOperator {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

/// Successful UpdateService calls of an operator so far.
fn update_calls(metrics: &Metrics) -> u64 {
    metrics.ecs_calls("UpdateService", "success")
}

/// Reconciles of objects of `kind` by an operator so far.
fn reconciles(metrics: &Metrics, kind: &str) -> u64 {
    let prefix = format!(r#"ecs_operator_reconcile_total{{kind="{kind}"}} "#);
    metrics
        .render()
        .lines()
        .find_map(|l| l.strip_prefix(prefix.as_str()))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0)
}

/// Waits until the operator has reconciled objects of `kind` `more` more times: a wait on work
/// done (a resync, a retry), not on a clock. How long it took.
async fn more_reconciles(metrics: &Metrics, kind: &str, more: u64) -> Duration {
    let started = Instant::now();
    let target = reconciles(metrics, kind) + more;
    eventually(
        &format!("{more} more reconciles of {kind}"),
        || async { reconciles(metrics, kind) },
        |n| *n >= target,
    )
    .await;
    started.elapsed()
}

// --- fixtures ------------------------------------------------------------------------------------

fn cluster_object(name: &str, ecs_name: &str) -> EcsCluster {
    manifest(json!({
        "apiVersion": "ecs.operator.dev/v1alpha1",
        "kind": "EcsCluster",
        "metadata": {"name": name},
        "spec": {"clusterName": ecs_name, "capacityProviders": ["FARGATE"]}
    }))
}

fn task_definition_object(name: &str, family: &str, image: &str) -> EcsTaskDefinition {
    manifest(json!({
        "apiVersion": "ecs.operator.dev/v1alpha1",
        "kind": "EcsTaskDefinition",
        "metadata": {"name": name},
        "spec": {
            "family": family,
            "requiresCompatibilities": ["FARGATE"],
            "networkMode": "awsvpc",
            "cpu": "256",
            "memory": "512",
            "containerDefinitions": [{
                "name": "web",
                "image": image,
                "essential": true,
                "portMappings": [{"containerPort": 8080, "protocol": "tcp"}]
            }]
        }
    }))
}

fn service_object(name: &str, spec: serde_json::Value) -> EcsService {
    manifest(json!({
        "apiVersion": "ecs.operator.dev/v1alpha1",
        "kind": "EcsService",
        "metadata": {"name": name},
        "spec": spec
    }))
}

/// The networkConfiguration of an awsvpc service in the emulator's default VPC (ECS refuses an
/// awsvpc task definition without one).
fn awsvpc_network() -> serde_json::Value {
    let (subnets, group) = harness::emulator_network();
    json!({"awsvpcConfiguration": {"subnets": subnets, "securityGroups": [group]}})
}

/// A Fargate service's spec on `cluster_field` (`{"cluster": ...}` or `{"clusterRef": ...}`) and
/// `task_definition_field`, with `extra` fields merged in.
fn fargate_spec(
    cluster_field: serde_json::Value,
    task_definition_field: serde_json::Value,
    extra: serde_json::Value,
) -> serde_json::Value {
    let mut spec = json!({"launchType": "FARGATE", "networkConfiguration": awsvpc_network()});
    for part in [cluster_field, task_definition_field, extra] {
        if let serde_json::Value::Object(fields) = part {
            spec.as_object_mut().expect("an object").extend(fields);
        }
    }
    spec
}

/// An ECS cluster created directly in the emulator (not managed here), with the FARGATE capacity
/// provider (as the console creates one) and `instances` EC2 container instances (an Auto Scaling
/// group's) for EC2 tasks.
async fn ecs_cluster(prefix: &str, instances: u32) -> String {
    let name = support::unique_name(prefix);
    support::ecs_client()
        .create_cluster()
        .cluster_name(&name)
        .capacity_providers("FARGATE")
        .send()
        .await
        .expect("create cluster");
    if instances > 0 {
        harness::add_container_instances(&name, instances);
    }
    name
}

/// An EC2 task definition registered directly in the emulator; its ARN.
async fn ecs_task_definition(prefix: &str, image: &str) -> String {
    let output = support::ecs_client()
        .register_task_definition()
        .family(support::unique_name(prefix))
        .container_definitions(
            ContainerDefinition::builder()
                .name("web")
                .image(image)
                .memory(128)
                .build(),
        )
        .send()
        .await
        .expect("register task definition");
    output
        .task_definition()
        .and_then(|t| t.task_definition_arn())
        .expect("an ARN")
        .to_string()
}

/// A Fargate task definition registered directly in the emulator; its ARN.
async fn fargate_task_definition(prefix: &str, image: &str) -> String {
    let output = support::ecs_client()
        .register_task_definition()
        .family(support::unique_name(prefix))
        .requires_compatibilities(Compatibility::Fargate)
        .network_mode(NetworkMode::Awsvpc)
        .cpu("256")
        .memory("512")
        .container_definitions(
            ContainerDefinition::builder()
                .name("web")
                .image(image)
                .essential(true)
                .build(),
        )
        .send()
        .await
        .expect("register task definition");
    output
        .task_definition()
        .and_then(|t| t.task_definition_arn())
        .expect("an ARN")
        .to_string()
}

/// The service as ECS describes it (whatever its status), None when ECS does not know it.
async fn describe(cluster: &str, name: &str) -> Option<Service> {
    let result = support::ecs_client()
        .describe_services()
        .cluster(cluster)
        .services(name)
        .include(ServiceField::Tags)
        .send()
        .await;
    match result {
        Ok(output) => output.services().first().cloned(),
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_cluster_not_found_exception()) =>
        {
            None
        }
        Err(e) => panic!("describe services: {e:?}"),
    }
}

async fn describe_active(cluster: &str, name: &str) -> Service {
    let service = describe(cluster, name)
        .await
        .expect("the ECS service exists");
    assert_eq!(service.status(), Some("ACTIVE"));
    service
}

/// ECS reports the rollout done: one deployment, COMPLETED, and all desired tasks running.
fn completed(service: &Service) -> bool {
    let deployments = service.deployments();
    deployments.len() == 1
        && deployments[0].rollout_state().map(|s| s.as_str()) == Some("COMPLETED")
        && service.running_count() == service.desired_count()
}

/// The id of the ECS service's primary deployment.
fn primary_id(service: &Service) -> String {
    service
        .deployments()
        .iter()
        .find(|d| d.status() == Some("PRIMARY"))
        .and_then(|d| d.id())
        .expect("a primary deployment")
        .to_string()
}

/// What Ready promises, read from the status that says Ready: the primary deployment, the only
/// one, COMPLETED, and runningCount == desiredCount.
fn assert_rolled_out(obj: &EcsService) {
    assert!(is_ready(obj));
    let status = status_of(obj);
    assert_eq!(status.deployments.len(), 1, "{:?}", status.deployments);
    let primary = &status.deployments[0];
    assert_eq!(primary.status.as_deref(), Some("PRIMARY"));
    assert_eq!(primary.rollout_state.as_deref(), Some("COMPLETED"));
    assert_eq!(primary.running_count, primary.desired_count);
    assert_eq!(status.running_count, status.desired_count);
    assert_eq!(status.replicas, status.running_count);
}

/// Waits for Ready and checks what Ready promises.
async fn wait_rolled_out(api: &Api<EcsService>, name: &str) -> EcsService {
    let obj = wait_for(api, name, "Ready", is_ready).await;
    assert_rolled_out(&obj);
    obj
}

/// The id of the primary deployment the status reports.
fn status_primary_id(obj: &EcsService) -> Option<String> {
    status_of(obj)
        .deployments
        .iter()
        .find(|d| d.status.as_deref() == Some("PRIMARY"))
        .and_then(|d| d.id.clone())
}

/// Sets desiredCount (and optionally the task definition) in ECS, behind the operator's back.
async fn change_in_ecs(
    cluster: &str,
    name: &str,
    desired: Option<i32>,
    task_definition: Option<&str>,
) {
    support::ecs_client()
        .update_service()
        .cluster(cluster)
        .service(name)
        .set_desired_count(desired)
        .set_task_definition(task_definition.map(str::to_string))
        .send()
        .await
        .expect("update service in ECS");
}

/// A Cloud Map service in the emulator (moto's Cloud Map, through its JSON API with curl: the
/// tests have no SDK for it), for a service registry. Its ARN.
fn cloud_map_service(name: &str) -> String {
    let env = support::env();
    let output = std::process::Command::new("curl")
        .args(["-sS", "--fail-with-body", "--max-time", "10", "-X", "POST"])
        .arg(format!("{}/", env.ecs_endpoint))
        .args(["-H", "Content-Type: application/x-amz-json-1.1"])
        .args([
            "-H",
            "X-Amz-Target: Route53AutoNaming_v20170314.CreateService",
        ])
        .arg("-H")
        .arg(format!(
            "Authorization: AWS4-HMAC-SHA256 Credential={}/20260101/{}/servicediscovery/aws4_request, SignedHeaders=host, Signature=0",
            env.access_key_id, env.region
        ))
        .args(["--data", &json!({"Name": name}).to_string()])
        .output()
        .expect("curl runs");
    let body = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "Cloud Map CreateService: {body}");
    let answer: serde_json::Value = serde_json::from_str(&body).expect("a JSON answer");
    answer["Service"]["Arn"]
        .as_str()
        .expect("a Cloud Map service ARN")
        .to_string()
}

fn ready_reason(obj: &EcsService) -> String {
    condition(obj, "Ready")
        .map(|c| c.reason)
        .unwrap_or_default()
}

fn status_of(obj: &EcsService) -> ecs_operator::api::EcsServiceStatus {
    obj.status.clone().unwrap_or_default()
}

async fn warnings(client: &Client, ns: &str, name: &str) -> Vec<SeenEvent> {
    let events = harness::events::<EcsService>(client, ns, name).await;
    events
        .into_iter()
        .filter(|e| e.type_ == "Warning")
        .collect()
}

async fn notes_with_reason(client: &Client, ns: &str, name: &str, reason: &str) -> Vec<String> {
    harness::event_notes::<EcsService>(client, ns, name, reason).await
}

/// How many times an event of `reason` was published on the EcsService.
async fn occurrences(client: &Client, ns: &str, name: &str, reason: &str) -> i32 {
    let events = harness::events::<EcsService>(client, ns, name).await;
    events
        .iter()
        .filter(|e| e.reason == reason)
        .map(|e| e.count)
        .sum()
}

async fn reasons(client: &Client, ns: &str, name: &str) -> Vec<String> {
    harness::event_reasons::<EcsService>(client, ns, name).await
}

async fn annotate(api: &Api<EcsService>, name: &str, key: &str, value: &str) {
    let patch = json!({"metadata": {"annotations": {key: value}}});
    api.patch(name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .expect("annotate");
}

// --- tests ---------------------------------------------------------------------------------------

#[tokio::test]
async fn lifecycle_round_trips_the_spec_and_delete_scales_down_then_lets_the_cluster_go() {
    let (client, ns) = setup("svc-life").await;
    let operator = TestOperator::start(&client, &ns).await;
    let clusters: Api<EcsCluster> = Api::namespaced(client.clone(), &ns);
    let definitions: Api<EcsTaskDefinition> = Api::namespaced(client.clone(), &ns);
    let api: Api<EcsService> = Api::namespaced(client.clone(), &ns);
    let (cluster_name, family, service_name) = (
        support::unique_name("prod"),
        support::unique_name("web"),
        support::unique_name("web"),
    );
    let (subnets, security_group) = harness::emulator_network();
    let [target_group, other_target_group]: [String; 2] =
        harness::load_balanced_target_groups(2, DEREGISTRATION_DELAY)
            .try_into()
            .expect("two target groups");
    let registry = cloud_map_service(&support::unique_name("web"));

    clusters
        .create(
            &PostParams::default(),
            &cluster_object("prod", &cluster_name),
        )
        .await
        .unwrap();
    definitions
        .create(
            &PostParams::default(),
            &task_definition_object("app", &family, "nginx:1.27"),
        )
        .await
        .unwrap();
    let spec = json!({
        "serviceName": service_name,
        "clusterRef": {"name": "prod"},
        "taskDefinitionRef": {"name": "app"},
        "desiredCount": 1,
        "launchType": "FARGATE",
        "platformVersion": "1.4.0",
        "networkConfiguration": {"awsvpcConfiguration": {
            "subnets": subnets, "securityGroups": [security_group], "assignPublicIp": "DISABLED"
        }},
        "loadBalancers": [{"targetGroupArn": target_group, "containerName": "web", "containerPort": 8080}],
        "serviceRegistries": [{"registryArn": registry}],
        "healthCheckGracePeriodSeconds": 30,
        "deploymentConfiguration": {
            "maximumPercent": 200,
            "minimumHealthyPercent": 100,
            "deploymentCircuitBreaker": {"enable": true, "rollback": true}
        },
        "deploymentController": {"type": "ECS"},
        "schedulingStrategy": "REPLICA",
        "enableExecuteCommand": true,
        "enableECSManagedTags": true,
        "propagateTags": "SERVICE",
        "availabilityZoneRebalancing": "ENABLED",
        "tags": [{"key": "team", "value": "web"}]
    });
    api.create(&PostParams::default(), &service_object("web", spec))
        .await
        .unwrap();

    // Ready: ACTIVE, the primary deployment COMPLETED with runningCount == desiredCount.
    let obj = wait_rolled_out(&api, "web").await;
    let td = wait_for(&definitions, "app", "Ready", is_ready).await;
    let td_arn = td.status.unwrap().task_definition_arn.unwrap();
    let status = status_of(&obj);
    assert!(obj.finalizers().contains(&FINALIZER.to_string()));
    assert_eq!(condition(&obj, "Reconciling").unwrap().status, "False");
    assert_eq!(condition(&obj, "Stalled").unwrap().status, "False");
    assert_eq!(status.status.as_deref(), Some("ACTIVE"));
    assert_eq!(status.service_name.as_deref(), Some(service_name.as_str()));
    assert_eq!(status.task_definition_arn.as_deref(), Some(td_arn.as_str()));
    assert_eq!(status.task_definition_revision, Some(1));
    assert_eq!(status.desired_count, Some(1));
    assert_eq!(status.running_count, Some(1));
    assert_eq!(status.replicas, Some(1));
    assert_eq!(
        status.selector.as_deref(),
        Some("ecs.operator.dev/service=web")
    );
    let first_deployment = status_primary_id(&obj).unwrap();
    assert!(
        reasons(&client, &ns, "web")
            .await
            .contains(&"Created".to_string())
    );
    // ECS's own events of the rollout, mirrored (they go out before the status that says Ready).
    let mirrored = notes_with_reason(&client, &ns, "web", "EcsServiceEvent").await;
    for expected in [
        format!("(service {service_name}) (deployment {first_deployment}) deployment completed."),
        format!("(service {service_name}) has reached a steady state."),
    ] {
        assert!(mirrored.contains(&expected), "{expected} in {mirrored:?}");
    }

    // What CreateService sent, as ECS reports it.
    let ecs = describe_active(&cluster_name, &service_name).await;
    assert!(completed(&ecs), "{:?}", ecs.deployments());
    assert_eq!(primary_id(&ecs), first_deployment);
    assert_eq!(status.service_arn.as_deref(), ecs.service_arn());
    assert!(
        ecs.cluster_arn()
            .unwrap()
            .ends_with(&format!("cluster/{cluster_name}"))
    );
    assert_eq!(ecs.task_definition(), Some(td_arn.as_str()));
    assert_eq!(ecs.desired_count(), 1);
    assert_eq!(ecs.running_count(), 1);
    assert_eq!(ecs.launch_type().map(|l| l.as_str()), Some("FARGATE"));
    assert_eq!(ecs.platform_version(), Some("1.4.0"));
    let vpc = ecs
        .network_configuration()
        .and_then(|n| n.awsvpc_configuration())
        .expect("awsvpc configuration");
    assert_eq!(vpc.subnets(), subnets.as_slice());
    assert_eq!(vpc.security_groups(), std::slice::from_ref(&security_group));
    assert_eq!(vpc.assign_public_ip().map(|a| a.as_str()), Some("DISABLED"));
    let lb = &ecs.load_balancers()[0];
    assert_eq!(
        (
            lb.target_group_arn(),
            lb.container_name(),
            lb.container_port()
        ),
        (Some(target_group.as_str()), Some("web"), Some(8080))
    );
    assert_eq!(
        ecs.service_registries()[0].registry_arn(),
        Some(registry.as_str())
    );
    assert_eq!(ecs.health_check_grace_period_seconds(), Some(30));
    assert_eq!(
        ecs.scheduling_strategy().map(|s| s.as_str()),
        Some("REPLICA")
    );
    assert_eq!(
        ecs.deployment_controller().map(|c| c.r#type().as_str()),
        Some("ECS")
    );
    assert_eq!(ecs.propagate_tags().map(|p| p.as_str()), Some("SERVICE"));
    let tags = ecs_tags(ecs.service_arn().unwrap()).await;
    assert_eq!(tags["team"], "web");
    assert_eq!(tags[OWNER_TAG], format!("{ns}/web"));
    assert_eq!(tags[UID_TAG], obj.uid().unwrap());
    assert!(tags.contains_key(CLUSTER_ID_TAG));
    assert_eq!(update_calls(&operator.metrics), 0, "nothing to correct");

    // A spec change goes through one UpdateService. The new network and load balancer need a new
    // deployment, which ECS rolls out within the new deployment configuration (desired 1, 200 %
    // and 50 %: one new task starts, then the old one stops and drains).
    let patch = json!({"spec": {
        "healthCheckGracePeriodSeconds": 60,
        "deploymentConfiguration": {"maximumPercent": 200, "minimumHealthyPercent": 50},
        "networkConfiguration": {"awsvpcConfiguration": {"assignPublicIp": "ENABLED"}},
        "loadBalancers": [{"targetGroupArn": other_target_group, "containerName": "web", "containerPort": 8080}],
        "propagateTags": "TASK_DEFINITION",
        "tags": [{"key": "team", "value": "payments"}, {"key": "tier", "value": "gold"}]
    }});
    api.patch("web", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .unwrap();
    let ecs = eventually(
        "the spec change in ECS",
        || describe(&cluster_name, &service_name),
        |s| {
            s.as_ref()
                .is_some_and(|s| s.health_check_grace_period_seconds() == Some(60))
        },
    )
    .await
    .unwrap();
    let deployment = ecs
        .deployment_configuration()
        .expect("deploymentConfiguration");
    assert_eq!(
        (
            deployment.maximum_percent(),
            deployment.minimum_healthy_percent()
        ),
        (Some(200), Some(50))
    );
    let breaker = deployment
        .deployment_circuit_breaker()
        .expect("circuit breaker kept");
    assert!(breaker.enable() && breaker.rollback());
    assert_eq!(
        ecs.load_balancers()[0].target_group_arn(),
        Some(other_target_group.as_str())
    );
    let vpc = ecs
        .network_configuration()
        .and_then(|n| n.awsvpc_configuration())
        .unwrap();
    assert_eq!(vpc.assign_public_ip().map(|a| a.as_str()), Some("ENABLED"));
    assert_eq!(vpc.subnets(), subnets.as_slice());
    assert_eq!(
        ecs.propagate_tags().map(|p| p.as_str()),
        Some("TASK_DEFINITION")
    );
    assert!(ecs.enable_execute_command());
    assert!(ecs.enable_ecs_managed_tags());
    assert_eq!(
        ecs.availability_zone_rebalancing().map(|a| a.as_str()),
        Some("ENABLED")
    );
    assert_eq!(ecs.platform_version(), Some("1.4.0"));
    assert_eq!(ecs.desired_count(), 1);
    let tags = ecs_tags(ecs.service_arn().unwrap()).await;
    assert_eq!(
        (tags["team"].as_str(), tags["tier"].as_str()),
        ("payments", "gold")
    );

    // Ready for generation 2 only once ECS completed the new deployment.
    let obj = wait_for(&api, "web", "Ready for generation 2", is_ready).await;
    assert_rolled_out(&obj);
    let second_deployment = status_primary_id(&obj).unwrap();
    assert_ne!(second_deployment, first_deployment, "a new deployment");
    assert_eq!(status_of(&obj).applied_generation, obj.metadata.generation);
    let ecs = describe_active(&cluster_name, &service_name).await;
    assert!(completed(&ecs), "{:?}", ecs.deployments());
    assert_eq!(primary_id(&ecs), second_deployment);
    let primary_vpc = ecs.deployments()[0]
        .network_configuration()
        .and_then(|n| n.awsvpc_configuration())
        .expect("the deployment's network");
    assert_eq!(
        primary_vpc.assign_public_ip().map(|a| a.as_str()),
        Some("ENABLED")
    );
    let updated = notes_with_reason(&client, &ns, "web", "Updated").await;
    assert!(
        updated
            .iter()
            .any(|n| n.contains("generation 2") && n.contains("loadBalancers")),
        "{updated:?}"
    );
    assert_eq!(
        update_calls(&operator.metrics),
        1,
        "one UpdateService for the change, none while the rollout was polled"
    );
    assert!(warnings(&client, &ns, "web").await.is_empty());

    // Delete: scaled to 0 first (ECS refuses DeleteService above 0 without force), then deleted.
    // ECS answers DRAINING; the object waits, and goes once ECS reports the service INACTIVE
    // (its tasks stopped).
    api.delete("web", &DeleteParams::default()).await.unwrap();
    let obj = wait_for(&api, "web", "waiting for INACTIVE", |o| {
        condition(o, "Ready").is_some_and(|c| {
            c.reason == "Deleting" && c.message.contains("waiting until ECS reports it INACTIVE")
        })
    })
    .await;
    assert!(obj.finalizers().contains(&FINALIZER.to_string()));
    wait_gone(&api, "web").await;
    let gone = describe(&cluster_name, &service_name)
        .await
        .expect("ECS still describes a deleted service, INACTIVE");
    assert_eq!(gone.status(), Some("INACTIVE"));
    assert_eq!(gone.desired_count(), 0);
    assert_eq!(gone.running_count(), 0);
    let deleted = notes_with_reason(&client, &ns, "web", "Deleted").await;

    // With the service gone, the cluster's delete proceeds.
    clusters
        .delete("prod", &DeleteParams::default())
        .await
        .unwrap();
    definitions
        .delete("app", &DeleteParams::default())
        .await
        .unwrap();
    wait_gone(&clusters, "prod").await;
    wait_gone(&definitions, "app").await;
    let output = support::ecs_client()
        .describe_clusters()
        .clusters(&cluster_name)
        .send()
        .await
        .unwrap();
    assert_eq!(output.clusters()[0].status(), Some("INACTIVE"));

    // The Deleted event says what the operator did.
    assert!(
        deleted
            .iter()
            .any(|n| n.contains("scaled ECS service") && n.contains("deleted")),
        "{deleted:?}"
    );
}

#[tokio::test]
async fn a_new_revision_is_followed_within_seconds_through_the_watch_not_the_resync() {
    let (client, ns) = setup("svc-follow").await;
    // A resync far longer than the test: whatever moves the service now is the watch relation.
    let operator = LongResyncOperator::start(&client, &ns).await;
    let clusters: Api<EcsCluster> = Api::namespaced(client.clone(), &ns);
    let definitions: Api<EcsTaskDefinition> = Api::namespaced(client.clone(), &ns);
    let api: Api<EcsService> = Api::namespaced(client.clone(), &ns);
    let (cluster_name, family) = (support::unique_name("prod"), support::unique_name("web"));
    clusters
        .create(
            &PostParams::default(),
            &cluster_object("prod", &cluster_name),
        )
        .await
        .unwrap();
    definitions
        .create(
            &PostParams::default(),
            &task_definition_object("app", &family, "app:1"),
        )
        .await
        .unwrap();
    let spec = fargate_spec(
        json!({"clusterRef": {"name": "prod"}}),
        json!({"taskDefinitionRef": {"name": "app"}}),
        json!({}),
    );
    api.create(&PostParams::default(), &service_object("web", spec))
        .await
        .unwrap();
    let obj = wait_rolled_out(&api, "web").await;
    assert_eq!(status_of(&obj).task_definition_revision, Some(1));
    let first_deployment = status_primary_id(&obj).unwrap();
    let service_name = obj.name_any();
    assert_eq!(
        update_calls(&operator.metrics),
        0,
        "nothing to update after CreateService"
    );

    // A new image: the EcsTaskDefinition registers revision 2, and the service moves to it.
    let started = Instant::now();
    let patch = json!({"spec": {"containerDefinitions": [{"name": "web", "image": "app:2"}]}});
    definitions
        .patch("app", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .unwrap();
    let ecs = eventually(
        "the ECS service on revision 2",
        || describe(&cluster_name, &service_name),
        |s| {
            s.as_ref().is_some_and(|s| {
                s.task_definition()
                    .is_some_and(|td| td.ends_with(&format!("{family}:2")))
            })
        },
    )
    .await
    .unwrap();
    let moved_after = started.elapsed();
    assert!(
        moved_after < Duration::from_secs(15),
        "moved after {moved_after:?}; the resync is 10 minutes"
    );
    let revision_2 = ecs.task_definition().unwrap().to_string();

    // Status follows at once, and honestly reports the rollout in progress until ECS completes it.
    let obj = wait_for(&api, "web", "reporting the rollout of revision 2", |o| {
        status_of(o).task_definition_arn.as_deref() == Some(revision_2.as_str())
            && ready_reason(o) == "DeploymentInProgress"
    })
    .await;
    assert_eq!(status_of(&obj).task_definition_revision, Some(2));
    let ready = condition(&obj, "Ready").unwrap();
    assert_eq!(ready.status, "False", "{ready:?}");
    assert!(
        ready.message.contains(&format!("{family}:2")),
        "{}",
        ready.message
    );
    assert_eq!(condition(&obj, "Reconciling").unwrap().status, "True");
    let updated = notes_with_reason(&client, &ns, "web", "Updated").await;
    assert!(
        updated
            .iter()
            .any(|n| n.contains("now rolls out") && n.contains(&revision_2)),
        "{updated:?}"
    );

    // ECS completes the new deployment (the old task stopped), and only then is it Ready: with
    // one UpdateService for the move, and no more while the rollout was polled.
    let obj = wait_rolled_out(&api, "web").await;
    assert_eq!(status_of(&obj).task_definition_revision, Some(2));
    let second_deployment = status_primary_id(&obj).unwrap();
    assert_ne!(second_deployment, first_deployment);
    let ecs = describe_active(&cluster_name, &service_name).await;
    assert!(completed(&ecs), "{:?}", ecs.deployments());
    assert_eq!(primary_id(&ecs), second_deployment);
    assert_eq!(ecs.task_definition(), Some(revision_2.as_str()));
    assert_eq!(
        ecs.deployments()[0].task_definition(),
        Some(revision_2.as_str())
    );
    assert_eq!(update_calls(&operator.metrics), 1);
}

#[tokio::test]
async fn a_task_definition_change_ecs_refuses_keeps_the_service_on_its_revision_but_not_ready() {
    let (client, ns) = setup("svc-refused").await;
    // The watch relation, not a resync, tells the service.
    let _operator = LongResyncOperator::start(&client, &ns).await;
    let definitions: Api<EcsTaskDefinition> = Api::namespaced(client.clone(), &ns);
    let api: Api<EcsService> = Api::namespaced(client.clone(), &ns);
    let cluster = ecs_cluster("refused", 0).await;
    let family = support::unique_name("refused");
    definitions
        .create(
            &PostParams::default(),
            &task_definition_object("app", &family, "app:1"),
        )
        .await
        .unwrap();
    let spec = fargate_spec(
        json!({"cluster": cluster}),
        json!({"taskDefinitionRef": {"name": "app"}}),
        json!({"desiredCount": 1}),
    );
    api.create(&PostParams::default(), &service_object("web", spec))
        .await
        .unwrap();
    let obj = wait_rolled_out(&api, "web").await;
    let revision_1 = status_of(&obj).task_definition_arn.unwrap();

    // A change ECS refuses (Fargate supports only pidMode "task").
    let patch = json!({"spec": {"pidMode": "host"}});
    definitions
        .patch("app", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .unwrap();
    wait_for(&definitions, "app", "Stalled", harness::is_stalled).await;
    // At once on the spec change, then with the task definition's problem once it is known.
    let obj = wait_for(&api, "web", "DependencyNotReady naming the problem", |o| {
        condition(o, "Ready").is_some_and(|c| {
            c.reason == "DependencyNotReady"
                && c.message
                    .contains("EcsTaskDefinition app has a change not registered yet")
                && c.message.contains("pidMode")
        })
    })
    .await;
    assert_eq!(
        status_of(&obj).task_definition_arn,
        Some(revision_1.clone())
    );
    let ecs = describe_active(&cluster, "web").await;
    assert_eq!(
        ecs.task_definition(),
        Some(revision_1.as_str()),
        "the service keeps running the last registered revision"
    );
    assert!(completed(&ecs), "and its tasks: {:?}", ecs.deployments());

    // Fixed: the next revision is registered and the service rolls out to it.
    let patch = json!({"spec": {"pidMode": "task"}});
    definitions
        .patch("app", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .unwrap();
    wait_for(&api, "web", "on revision 2", |o| {
        status_of(o).task_definition_revision == Some(2)
    })
    .await;
    let obj = wait_rolled_out(&api, "web").await;
    assert_eq!(status_of(&obj).task_definition_revision, Some(2));
    assert!(completed(&describe_active(&cluster, "web").await));
}

#[tokio::test]
async fn dependencies_are_awaited_without_warnings_and_followed_the_moment_they_are_ready() {
    let (client, ns) = setup("svc-deps").await;
    let operator = TestOperator::start(&client, &ns).await;
    let clusters: Api<EcsCluster> = Api::namespaced(client.clone(), &ns);
    let definitions: Api<EcsTaskDefinition> = Api::namespaced(client.clone(), &ns);
    let api: Api<EcsService> = Api::namespaced(client.clone(), &ns);
    let (cluster_name, family) = (support::unique_name("later"), support::unique_name("later"));

    // The service first, its cluster and task definition not there yet.
    let spec = fargate_spec(
        json!({"clusterRef": {"name": "prod"}}),
        json!({"taskDefinitionRef": {"name": "app"}}),
        json!({"desiredCount": 1}),
    );
    api.create(&PostParams::default(), &service_object("web", spec))
        .await
        .unwrap();
    let obj = wait_for(&api, "web", "DependencyNotReady", |o| {
        ready_reason(o) == "DependencyNotReady"
    })
    .await;
    let ready = condition(&obj, "Ready").unwrap();
    assert_eq!(ready.status, "False");
    assert!(
        ready.message.contains("EcsCluster prod"),
        "{}",
        ready.message
    );
    assert_eq!(condition(&obj, "Reconciling").unwrap().status, "True");
    assert_eq!(condition(&obj, "Stalled").unwrap().status, "False");

    // The task definition arrives: still waiting, for the cluster. (A reconcile after the task
    // definition is Ready, prompted by an annotation, shows it.)
    definitions
        .create(
            &PostParams::default(),
            &task_definition_object("app", &family, "app:1"),
        )
        .await
        .unwrap();
    wait_for(&definitions, "app", "Ready", is_ready).await;
    let before = reconciles(&operator.metrics, "EcsService");
    annotate(&api, "web", "test.ecs.operator.dev/poke", "1").await;
    eventually(
        "a reconcile of the service",
        || async { reconciles(&operator.metrics, "EcsService") },
        |n| *n > before,
    )
    .await;
    let obj = wait_for(&api, "web", "still DependencyNotReady", |o| {
        ready_reason(o) == "DependencyNotReady"
    })
    .await;
    assert!(
        condition(&obj, "Ready")
            .unwrap()
            .message
            .contains("EcsCluster prod")
    );
    assert!(describe(&cluster_name, "web").await.is_none());

    // The cluster arrives: the service is created at once (the retry of a waiting service is 30 s
    // away, so this is the watch on EcsCluster), and is Ready once ECS has rolled it out.
    clusters
        .create(
            &PostParams::default(),
            &cluster_object("prod", &cluster_name),
        )
        .await
        .unwrap();
    wait_for(&clusters, "prod", "Ready", is_ready).await;
    let cluster_ready = Instant::now();
    eventually(
        "the ECS service created",
        || describe(&cluster_name, "web"),
        |s| s.is_some(),
    )
    .await;
    let waited = cluster_ready.elapsed();
    assert!(
        waited < Duration::from_secs(10),
        "created {waited:?} after the cluster"
    );
    let obj = wait_rolled_out(&api, "web").await;
    assert!(
        status_of(&obj)
            .task_definition_arn
            .unwrap()
            .ends_with(&format!("{family}:1"))
    );
    assert!(completed(&describe_active(&cluster_name, "web").await));

    // Waiting was not an error: not a single Warning event.
    let warnings = warnings(&client, &ns, "web").await;
    assert!(warnings.is_empty(), "{warnings:?}");
}

#[tokio::test]
async fn an_ecs_cluster_named_directly_is_awaited_until_it_exists() {
    let (client, ns) = setup("svc-extcluster").await;
    let _operator = TestOperator::start(&client, &ns).await;
    let api: Api<EcsService> = Api::namespaced(client.clone(), &ns);
    let cluster = support::unique_name("external");
    let task_definition = ecs_task_definition("external", "app:1").await;
    let spec = json!({"cluster": cluster, "taskDefinition": task_definition, "desiredCount": 1});
    api.create(&PostParams::default(), &service_object("web", spec))
        .await
        .unwrap();
    let obj = wait_for(&api, "web", "DependencyNotReady", |o| {
        ready_reason(o) == "DependencyNotReady"
    })
    .await;
    let message = condition(&obj, "Ready").unwrap().message;
    assert!(
        message.contains(&cluster) && message.contains("does not exist"),
        "{message}"
    );
    assert_eq!(condition(&obj, "Stalled").unwrap().status, "False");
    // Waiting is not an error.
    let seen = warnings(&client, &ns, "web").await;
    assert!(seen.is_empty(), "{seen:?}");

    // Another team creates it, still without EC2 capacity: the service is created at the next
    // retry (30 s for a dependency), but ECS cannot place its task. Not Ready, and ECS's event
    // comes through as a Warning.
    support::ecs_client()
        .create_cluster()
        .cluster_name(&cluster)
        .send()
        .await
        .unwrap();
    let notes =
        harness::wait_for_event::<EcsService>(&client, &ns, "web", "EcsServiceProblem", |n| {
            n.contains("was unable to place a task")
        })
        .await;
    assert!(
        notes
            .iter()
            .any(|n| n.contains("No Container Instances were found in your cluster")),
        "{notes:?}"
    );
    let obj = wait_for(&api, "web", "DeploymentInProgress", |o| {
        ready_reason(o) == "DeploymentInProgress"
    })
    .await;
    assert!(!is_ready(&obj));
    assert_eq!(condition(&obj, "Stalled").unwrap().status, "False");
    assert_eq!(status_of(&obj).running_count, Some(0));

    // Its instances join: the task is placed and the service is Ready.
    harness::add_container_instances(&cluster, 1);
    wait_rolled_out(&api, "web").await;
    assert!(completed(&describe_active(&cluster, "web").await));
    let seen = warnings(&client, &ns, "web").await;
    assert!(
        seen.iter().all(|e| e.reason == "EcsServiceProblem"
            && e.note.contains("was unable to place a task")
            && e.count == 1),
        "only the placement problem, once: {seen:?}"
    );
}

#[tokio::test]
async fn deleting_a_task_definition_a_service_runs_deregisters_but_does_not_delete_its_revision() {
    let (client, ns) = setup("svc-tdgone").await;
    let _operator = TestOperator::start(&client, &ns).await;
    let definitions: Api<EcsTaskDefinition> = Api::namespaced(client.clone(), &ns);
    let api: Api<EcsService> = Api::namespaced(client.clone(), &ns);
    let cluster = ecs_cluster("tdgone", 0).await;
    let family = support::unique_name("tdgone");
    definitions
        .create(
            &PostParams::default(),
            &task_definition_object("app", &family, "app:1"),
        )
        .await
        .unwrap();
    let spec = fargate_spec(
        json!({"cluster": cluster}),
        json!({"taskDefinitionRef": {"name": "app"}}),
        json!({"desiredCount": 1}),
    );
    api.create(&PostParams::default(), &service_object("web", spec))
        .await
        .unwrap();
    let obj = wait_rolled_out(&api, "web").await;
    let revision = status_of(&obj).task_definition_arn.unwrap();

    definitions
        .delete("app", &DeleteParams::default())
        .await
        .unwrap();
    wait_gone(&definitions, "app").await;
    // Deleted revisions cannot be deployed again (a forced deployment, a rollback); this one
    // is only deregistered, and the service keeps running it.
    let described = support::ecs_client()
        .describe_task_definition()
        .task_definition(&revision)
        .send()
        .await
        .expect("the revision still exists")
        .task_definition
        .unwrap();
    assert_eq!(described.status().map(|s| s.as_str()), Some("INACTIVE"));
    let ecs = describe_active(&cluster, "web").await;
    assert_eq!(ecs.task_definition(), Some(revision.as_str()));
    assert!(completed(&ecs), "still running: {:?}", ecs.deployments());
    let deleted = harness::event_notes::<EcsTaskDefinition>(&client, &ns, "app", "Deleted").await;
    assert!(
        deleted
            .iter()
            .any(|n| n.contains("still used by a service")),
        "{deleted:?}"
    );
}

#[tokio::test]
async fn a_service_lives_in_the_region_of_its_cluster() {
    let (client, ns) = setup("svc-region").await;
    let _operator = TestOperator::start(&client, &ns).await;
    let clusters: Api<EcsCluster> = Api::namespaced(client.clone(), &ns);
    let definitions: Api<EcsTaskDefinition> = Api::namespaced(client.clone(), &ns);
    let api: Api<EcsService> = Api::namespaced(client.clone(), &ns);
    let home = &support::env().region;
    let other = if home == "eu-central-1" {
        "us-west-2"
    } else {
        "eu-central-1"
    };

    // The cluster and the task definition say where they live; the service does not (its
    // subnets are of course the other region's).
    let mut cluster = cluster_object("prod", &support::unique_name("far"));
    cluster.spec.region = Some(other.to_string());
    clusters
        .create(&PostParams::default(), &cluster)
        .await
        .unwrap();
    let mut definition = task_definition_object("app", &support::unique_name("far"), "app:1");
    definition.spec.region = Some(other.to_string());
    definitions
        .create(&PostParams::default(), &definition)
        .await
        .unwrap();
    let (subnets, group) = harness::emulator_network_in(other);
    let spec = json!({
        "clusterRef": {"name": "prod"},
        "taskDefinitionRef": {"name": "app"},
        "desiredCount": 1,
        "launchType": "FARGATE",
        "networkConfiguration": {"awsvpcConfiguration": {"subnets": subnets, "securityGroups": [group]}}
    });
    api.create(&PostParams::default(), &service_object("web", spec))
        .await
        .unwrap();
    let obj = wait_rolled_out(&api, "web").await;
    let arn = status_of(&obj).service_arn.unwrap();
    assert!(arn.contains(&format!(":{other}:")), "{arn}");

    // A service that names another region than its cluster's is refused, not left waiting.
    let spec = json!({"clusterRef": {"name": "prod"}, "taskDefinitionRef": {"name": "app"}, "region": home});
    api.create(&PostParams::default(), &service_object("astray", spec))
        .await
        .unwrap();
    let astray = wait_for(&api, "astray", "Stalled", harness::is_stalled).await;
    let stalled = condition(&astray, "Stalled").unwrap();
    assert_eq!(stalled.reason, "InvalidSpec");
    assert!(stalled.message.contains(other), "{}", stalled.message);
    api.delete("astray", &DeleteParams::default())
        .await
        .unwrap();
    wait_gone(&api, "astray").await;

    api.delete("web", &DeleteParams::default()).await.unwrap();
    wait_gone(&api, "web").await;
    let cluster_arn = status_of(&obj).cluster_arn.unwrap();
    let left = support::ecs_client_in(other)
        .describe_services()
        .cluster(&cluster_arn)
        .services("web")
        .send()
        .await
        .unwrap();
    let left = left
        .services()
        .first()
        .expect("ECS still lists the deleted service");
    assert_eq!(left.status(), Some("INACTIVE"));
}

#[tokio::test]
async fn existing_services_are_adopted_only_when_asked_and_never_taken_from_another_owner() {
    let (client, ns) = setup("svc-own").await;
    let _operator = TestOperator::start(&client, &ns).await;
    let api: Api<EcsService> = Api::namespaced(client.clone(), &ns);
    let cluster = ecs_cluster("legacy", 1).await;
    let task_definition = ecs_task_definition("legacy", "legacy:1").await;
    let service_name = support::unique_name("legacy");
    support::ecs_client()
        .create_service()
        .cluster(&cluster)
        .service_name(&service_name)
        .task_definition(&task_definition)
        .desired_count(1)
        .send()
        .await
        .unwrap();
    let arn = describe_active(&cluster, &service_name)
        .await
        .service_arn()
        .unwrap()
        .to_string();
    let spec = json!({"serviceName": service_name, "cluster": cluster, "taskDefinition": task_definition, "desiredCount": 1});

    // Not adopted unless asked.
    api.create(
        &PostParams::default(),
        &service_object("legacy", spec.clone()),
    )
    .await
    .unwrap();
    let obj = wait_for(&api, "legacy", "Stalled", harness::is_stalled).await;
    let stalled = condition(&obj, "Stalled").unwrap();
    assert_eq!(stalled.reason, "OwnershipConflict");
    assert!(
        stalled.message.contains(ADOPT_ANNOTATION),
        "{}",
        stalled.message
    );
    assert_eq!(ready_reason(&obj), "OwnershipConflict");
    let warnings = warnings(&client, &ns, "legacy").await;
    assert!(
        warnings.iter().any(|e| e.reason == "OwnershipConflict"),
        "{warnings:?}"
    );
    assert!(
        !ecs_tags(&arn).await.contains_key(OWNER_TAG),
        "nothing touched before adoption"
    );

    // Adopted when asked: tagged as ours, and Ready (its deployment completed).
    annotate(&api, "legacy", ADOPT_ANNOTATION, "true").await;
    let obj = wait_for(&api, "legacy", "Ready after adoption", is_ready).await;
    assert_rolled_out(&obj);
    let tags = ecs_tags(&arn).await;
    assert_eq!(tags[OWNER_TAG], format!("{ns}/legacy"));
    assert_eq!(tags[UID_TAG], obj.uid().unwrap());
    assert!(
        reasons(&client, &ns, "legacy")
            .await
            .contains(&"Adopted".to_string())
    );

    // Another object naming the same service never gets it, adopt annotation or not.
    let mut thief = service_object("thief", spec);
    thief.metadata.annotations = Some([(ADOPT_ANNOTATION.to_string(), "true".to_string())].into());
    api.create(&PostParams::default(), &thief).await.unwrap();
    let obj = wait_for(&api, "thief", "Stalled", harness::is_stalled).await;
    let stalled = condition(&obj, "Stalled").unwrap();
    assert_eq!(stalled.reason, "OwnershipConflict");
    assert!(
        stalled.message.contains(&format!("{ns}/legacy")),
        "{}",
        stalled.message
    );
    assert_eq!(
        ecs_tags(&arn).await[OWNER_TAG],
        format!("{ns}/legacy"),
        "the owner did not change"
    );

    // Deleting the thief leaves the service alone; deleting the owner deletes it.
    api.delete("thief", &DeleteParams::default()).await.unwrap();
    wait_gone(&api, "thief").await;
    let ecs = describe_active(&cluster, &service_name).await;
    assert_eq!(ecs.desired_count(), 1);
    assert!(completed(&ecs), "still running: {:?}", ecs.deployments());
    api.delete("legacy", &DeleteParams::default())
        .await
        .unwrap();
    wait_gone(&api, "legacy").await;
    assert_eq!(
        describe(&cluster, &service_name).await.unwrap().status(),
        Some("INACTIVE")
    );
}

#[tokio::test]
async fn retain_leaves_the_ecs_service_running() {
    let (client, ns) = setup("svc-retain").await;
    let _operator = TestOperator::start(&client, &ns).await;
    let api: Api<EcsService> = Api::namespaced(client.clone(), &ns);
    let cluster = ecs_cluster("kept", 1).await;
    let task_definition = ecs_task_definition("kept", "app:1").await;
    let spec = json!({"cluster": cluster, "taskDefinition": task_definition, "desiredCount": 1, "deletionPolicy": "Retain"});
    api.create(&PostParams::default(), &service_object("kept", spec))
        .await
        .unwrap();
    wait_rolled_out(&api, "kept").await;

    api.delete("kept", &DeleteParams::default()).await.unwrap();
    wait_gone(&api, "kept").await;
    let ecs = describe_active(&cluster, "kept").await;
    assert_eq!(ecs.desired_count(), 1, "not scaled down");
    assert!(
        completed(&ecs),
        "its task still runs: {:?}",
        ecs.deployments()
    );
    assert_eq!(
        ecs_tags(ecs.service_arn().unwrap()).await[OWNER_TAG],
        format!("{ns}/kept"),
        "tags retained too"
    );
    let deleted = notes_with_reason(&client, &ns, "kept", "Deleted").await;
    assert!(deleted.iter().any(|n| n.contains("Retain")), "{deleted:?}");
}

#[tokio::test]
async fn the_scale_subresource_changes_desired_count() {
    let (client, ns) = setup("svc-scale").await;
    let operator = TestOperator::start(&client, &ns).await;
    let api: Api<EcsService> = Api::namespaced(client.clone(), &ns);
    // Three instances: distinctInstance places one task per instance.
    let cluster = ecs_cluster("scale", 3).await;
    let task_definition = ecs_task_definition("scale", "app:1").await;
    // EC2 with placement rules, which ECS echoes as given.
    let spec = json!({
        "cluster": cluster,
        "taskDefinition": task_definition,
        "desiredCount": 1,
        "launchType": "EC2",
        "placementConstraints": [{"type": "distinctInstance"}],
        "placementStrategy": [{"type": "spread", "field": "attribute:ecs.availability-zone"}, {"type": "binpack", "field": "memory"}]
    });
    api.create(&PostParams::default(), &service_object("web", spec))
        .await
        .unwrap();
    let obj = wait_rolled_out(&api, "web").await;
    let deployment = status_primary_id(&obj).unwrap();

    // `kubectl scale ecss web --replicas=3`.
    let patch = json!({"spec": {"replicas": 3}});
    api.patch_scale("web", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .unwrap();
    eventually(
        "desiredCount 3 in ECS",
        || describe(&cluster, "web"),
        |s| s.as_ref().is_some_and(|s| s.desired_count() == 3),
    )
    .await;
    // Ready again once ECS runs the three tasks: scaling is no new deployment.
    let obj = wait_for(&api, "web", "Ready with 3 replicas", |o| {
        is_ready(o) && status_of(o).replicas == Some(3)
    })
    .await;
    assert_rolled_out(&obj);
    assert_eq!(status_primary_id(&obj), Some(deployment.clone()));
    assert_eq!(obj.spec.desired_count, Some(3));
    assert_eq!(status_of(&obj).desired_count, Some(3));
    assert_eq!(status_of(&obj).running_count, Some(3));
    let scale = api.get_scale("web").await.unwrap();
    assert_eq!(scale.spec.and_then(|s| s.replicas), Some(3));
    let scale_status = scale.status.unwrap();
    assert_eq!(scale_status.replicas, 3);
    assert_eq!(
        scale_status.selector.as_deref(),
        Some("ecs.operator.dev/service=web")
    );

    let ecs = describe_active(&cluster, "web").await;
    assert!(completed(&ecs), "{:?}", ecs.deployments());
    assert_eq!(primary_id(&ecs), deployment);
    let constraints: Vec<_> = ecs
        .placement_constraints()
        .iter()
        .map(|c| c.r#type().map(|t| t.as_str().to_string()))
        .collect();
    assert_eq!(constraints, [Some("distinctInstance".to_string())]);
    let strategy: Vec<_> = ecs
        .placement_strategy()
        .iter()
        .map(|s| {
            (
                s.r#type().map(|t| t.as_str().to_string()),
                s.field().map(str::to_string),
            )
        })
        .collect();
    assert_eq!(
        strategy,
        [
            (
                Some("spread".to_string()),
                Some("attribute:ecs.availability-zone".to_string())
            ),
            (Some("binpack".to_string()), Some("memory".to_string()))
        ]
    );
    let updated = notes_with_reason(&client, &ns, "web", "Updated").await;
    assert!(
        updated.iter().any(|n| n.contains("desiredCount")),
        "{updated:?}"
    );
    assert_eq!(update_calls(&operator.metrics), 1, "one UpdateService");
}

#[tokio::test]
async fn the_restart_annotation_forces_exactly_one_deployment_per_change() {
    let (client, ns) = setup("svc-restart").await;
    let operator = TestOperator::start(&client, &ns).await;
    let api: Api<EcsService> = Api::namespaced(client.clone(), &ns);
    let cluster = ecs_cluster("restart", 1).await;
    let task_definition = ecs_task_definition("restart", "app:1").await;
    let spec = json!({"cluster": cluster, "taskDefinition": task_definition, "desiredCount": 1});
    api.create(&PostParams::default(), &service_object("web", spec))
        .await
        .unwrap();
    let obj = wait_rolled_out(&api, "web").await;
    let first = status_primary_id(&obj).unwrap();
    assert_eq!(primary_id(&describe_active(&cluster, "web").await), first);
    assert_eq!(update_calls(&operator.metrics), 0);

    // `kubectl rollout restart` for ECS: a forced deployment, with a new id, that replaces the
    // task and completes; Ready follows it.
    annotate(&api, "web", RESTARTED_AT_ANNOTATION, "2025-01-01T10:00:00Z").await;
    let restarted = |at: &'static str, before: String| {
        move |o: &EcsService| {
            status_of(o).last_restarted_at.as_deref() == Some(at)
                && is_ready(o)
                && status_primary_id(o).is_some_and(|id| id != before)
        }
    };
    let obj = wait_for(
        &api,
        "web",
        "Ready on the forced deployment",
        restarted("2025-01-01T10:00:00Z", first.clone()),
    )
    .await;
    assert_rolled_out(&obj);
    let second = status_primary_id(&obj).unwrap();
    let ecs = describe_active(&cluster, "web").await;
    assert!(completed(&ecs), "{:?}", ecs.deployments());
    assert_eq!(primary_id(&ecs), second);
    assert_eq!(ecs.task_definition(), Some(task_definition.as_str()));

    // Resyncs do not restart it again.
    more_reconciles(&operator.metrics, "EcsService", 3).await;
    assert_eq!(primary_id(&describe_active(&cluster, "web").await), second);
    assert_eq!(update_calls(&operator.metrics), 1);
    let updated = notes_with_reason(&client, &ns, "web", "Updated").await;
    assert!(
        updated[0].contains("forced a new deployment"),
        "{updated:?}"
    );
    assert_eq!(occurrences(&client, &ns, "web", "Updated").await, 1);

    // A new value: one more.
    annotate(&api, "web", RESTARTED_AT_ANNOTATION, "2025-01-02T10:00:00Z").await;
    let obj = wait_for(
        &api,
        "web",
        "Ready on the second forced deployment",
        restarted("2025-01-02T10:00:00Z", second.clone()),
    )
    .await;
    assert_rolled_out(&obj);
    let third = status_primary_id(&obj).unwrap();
    more_reconciles(&operator.metrics, "EcsService", 2).await;
    assert_eq!(primary_id(&describe_active(&cluster, "web").await), third);
    assert_eq!(update_calls(&operator.metrics), 2);
    eventually(
        "two Updated events",
        || occurrences(&client, &ns, "web", "Updated"),
        |n| *n == 2,
    )
    .await;
}

#[tokio::test]
async fn an_omitted_desired_count_is_left_to_whoever_scales_the_service() {
    let (client, ns) = setup("svc-auto").await;
    let operator = TestOperator::start(&client, &ns).await;
    let api: Api<EcsService> = Api::namespaced(client.clone(), &ns);
    let cluster = ecs_cluster("auto", 2).await;
    let task_definition = ecs_task_definition("auto", "app:1").await;
    let spec = json!({"cluster": cluster, "taskDefinition": task_definition});
    api.create(&PostParams::default(), &service_object("web", spec))
        .await
        .unwrap();
    wait_rolled_out(&api, "web").await;
    assert_eq!(
        describe_active(&cluster, "web").await.desired_count(),
        1,
        "1 at creation"
    );

    // An autoscaler scales it in ECS; resyncs leave that alone, and status reports it, Ready once
    // the 4 tasks run.
    change_in_ecs(&cluster, "web", Some(4), None).await;
    let obj = wait_for(&api, "web", "Ready with 4 tasks", |o| {
        is_ready(o) && status_of(o).desired_count == Some(4)
    })
    .await;
    assert_rolled_out(&obj);
    assert_eq!(status_of(&obj).running_count, Some(4));
    // Steady state costs one reconcile (and one batched describe) per resync, no more: three
    // reconciles take at least two resync periods.
    let took = more_reconciles(&operator.metrics, "EcsService", 3).await;
    assert!(
        took >= TEST_RESYNC * 2 && took <= TEST_RESYNC * 4 + Duration::from_secs(5),
        "3 reconciles in {took:?} with a {TEST_RESYNC:?} resync"
    );
    assert_eq!(describe_active(&cluster, "web").await.desired_count(), 4);
    assert_eq!(update_calls(&operator.metrics), 0);
    assert!(
        notes_with_reason(&client, &ns, "web", "DriftCorrected")
            .await
            .is_empty()
    );

    // A spec change to something else does not bring the count back either.
    let patch = json!({"spec": {"healthCheckGracePeriodSeconds": 90}});
    api.patch("web", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .unwrap();
    let ecs = eventually(
        "the spec change in ECS",
        || describe(&cluster, "web"),
        |s| {
            s.as_ref()
                .is_some_and(|s| s.health_check_grace_period_seconds() == Some(90))
        },
    )
    .await
    .unwrap();
    assert_eq!(ecs.desired_count(), 4);
    let obj = wait_rolled_out(&api, "web").await;
    assert_eq!(status_of(&obj).running_count, Some(4));
    assert_eq!(update_calls(&operator.metrics), 1);
}

#[tokio::test]
async fn drift_in_ecs_is_corrected() {
    let (client, ns) = setup("svc-drift").await;
    let _operator = TestOperator::start(&client, &ns).await;
    let api: Api<EcsService> = Api::namespaced(client.clone(), &ns);
    let cluster = ecs_cluster("drift", 0).await;
    let task_definition = fargate_task_definition("drift", "app:1").await;
    let spec = json!({
        "cluster": cluster,
        "taskDefinition": task_definition,
        "desiredCount": 1,
        "capacityProviderStrategy": [{"capacityProvider": "FARGATE", "weight": 1, "base": 1}],
        "networkConfiguration": awsvpc_network(),
        "tags": [{"key": "team", "value": "web"}]
    });
    api.create(&PostParams::default(), &service_object("web", spec))
        .await
        .unwrap();
    wait_rolled_out(&api, "web").await;
    let ecs = describe_active(&cluster, "web").await;
    let arn = ecs.service_arn().unwrap().to_string();
    let strategy = |s: &Service| -> Vec<(String, i32, i32)> {
        s.capacity_provider_strategy()
            .iter()
            .map(|i| (i.capacity_provider().to_string(), i.weight(), i.base()))
            .collect()
    };
    assert_eq!(strategy(&ecs), [("FARGATE".to_string(), 1, 1)]);

    // desiredCount, set in the spec, is enforced.
    change_in_ecs(&cluster, "web", Some(3), None).await;
    let ecs = eventually(
        "desiredCount back to 1",
        || describe(&cluster, "web"),
        |s| s.as_ref().is_some_and(|s| s.desired_count() == 1),
    )
    .await
    .unwrap();
    harness::wait_for_event::<EcsService>(&client, &ns, "web", "DriftCorrected", |n| {
        n.contains("desiredCount")
    })
    .await;
    // The correcting UpdateService carried the whole spec: the capacity strategy is unchanged.
    assert_eq!(strategy(&ecs), [("FARGATE".to_string(), 1, 1)]);

    // The task definition, changed by hand, is set back.
    let other = fargate_task_definition("intruder", "hotfix:1").await;
    change_in_ecs(&cluster, "web", None, Some(&other)).await;
    eventually(
        "the task definition set back",
        || describe(&cluster, "web"),
        |s| {
            s.as_ref()
                .is_some_and(|s| s.task_definition() == Some(task_definition.as_str()))
        },
    )
    .await;
    // One event per correction.
    eventually(
        "a second DriftCorrected event",
        || occurrences(&client, &ns, "web", "DriftCorrected"),
        |n| *n == 2,
    )
    .await;

    // Tags too: a changed value and a stray tag.
    harness::tag_in_ecs(&arn, &[("team", "intruder"), ("stray", "x")]).await;
    let tags = eventually(
        "tags corrected",
        || ecs_tags(&arn),
        |t| t.get("team").map(String::as_str) == Some("web") && !t.contains_key("stray"),
    )
    .await;
    assert_eq!(tags[OWNER_TAG], format!("{ns}/web"));
    eventually(
        "a third DriftCorrected event",
        || occurrences(&client, &ns, "web", "DriftCorrected"),
        |n| *n == 3,
    )
    .await;

    // Ready once ECS has rolled the service back out on its own revision.
    let obj = wait_for(&api, "web", "Ready on its own revision", |o| {
        is_ready(o) && status_of(o).task_definition_arn.as_deref() == Some(task_definition.as_str())
    })
    .await;
    assert_rolled_out(&obj);
    let ecs = describe_active(&cluster, "web").await;
    assert!(completed(&ecs), "{:?}", ecs.deployments());
    assert_eq!(
        ecs.deployments()[0].task_definition(),
        Some(task_definition.as_str())
    );
    assert!(warnings(&client, &ns, "web").await.is_empty());
}

/// ECS counts a cluster's active services and refuses DeleteCluster while there are some: the
/// operator waits for the EcsServices that run there, says so, and does not hammer ECS with a
/// delete it would refuse (no Warning).
#[tokio::test]
async fn a_cluster_delete_waits_for_its_services() {
    let (client, ns) = setup("svc-cluster-wait").await;
    let operator = TestOperator::start(&client, &ns).await;
    let clusters: Api<EcsCluster> = Api::namespaced(client.clone(), &ns);
    let definitions: Api<EcsTaskDefinition> = Api::namespaced(client.clone(), &ns);
    let api: Api<EcsService> = Api::namespaced(client.clone(), &ns);
    let (cluster_name, family) = (support::unique_name("prod"), support::unique_name("web"));
    clusters
        .create(
            &PostParams::default(),
            &cluster_object("prod", &cluster_name),
        )
        .await
        .unwrap();
    definitions
        .create(
            &PostParams::default(),
            &task_definition_object("app", &family, "app:1"),
        )
        .await
        .unwrap();
    let spec = fargate_spec(
        json!({"clusterRef": {"name": "prod"}}),
        json!({"taskDefinitionRef": {"name": "app"}}),
        json!({"desiredCount": 1}),
    );
    api.create(&PostParams::default(), &service_object("web", spec))
        .await
        .unwrap();
    wait_rolled_out(&api, "web").await;

    clusters
        .delete("prod", &DeleteParams::default())
        .await
        .unwrap();
    let obj = wait_for(&clusters, "prod", "waiting for its service", |c| {
        condition(c, "Ready").is_some_and(|r| r.reason == "Deleting" && r.message.contains("web"))
    })
    .await;
    assert!(obj.metadata.deletion_timestamp.is_some());
    // It looks again, and still waits.
    more_reconciles(&operator.metrics, "EcsCluster", 1).await;
    assert!(
        clusters.get_opt("prod").await.unwrap().is_some(),
        "the cluster waits"
    );
    let ecs = support::ecs_client()
        .describe_clusters()
        .clusters(&cluster_name)
        .send()
        .await
        .unwrap();
    assert_eq!(ecs.clusters()[0].status(), Some("ACTIVE"));
    assert_eq!(ecs.clusters()[0].active_services_count(), 1);
    let cluster_warnings: Vec<_> = harness::events::<EcsCluster>(&client, &ns, "prod")
        .await
        .into_iter()
        .filter(|e| e.type_ == "Warning")
        .collect();
    assert!(cluster_warnings.is_empty(), "{cluster_warnings:?}");

    api.delete("web", &DeleteParams::default()).await.unwrap();
    wait_gone(&api, "web").await;
    wait_gone(&clusters, "prod").await;
    let ecs = support::ecs_client()
        .describe_clusters()
        .clusters(&cluster_name)
        .send()
        .await
        .unwrap();
    assert_eq!(ecs.clusters()[0].status(), Some("INACTIVE"));
}
