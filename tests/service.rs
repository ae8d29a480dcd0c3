//! EcsService against the local environment: lifecycle with the spec round-tripping to ECS, a new
//! task definition revision followed through the watch relation, dependency waiting, adoption and
//! ownership conflicts, Retain, the scale subresource, the restart annotation, desiredCount left
//! to others, drift, delete, and the cluster waiting for its services.
//!
//! What the emulator (moto) cannot show, and is unit-tested from real ECS response shapes in
//! `mapping::service` instead: rollouts that progress or fail (moto never advances or replaces a
//! deployment: UpdateService keeps the old one as PRIMARY), ECS service events (moto never records
//! any, so mirroring them cannot be observed here), clientToken idempotency (moto ignores it).

mod harness;
mod support;

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_ecs::types::{ContainerDefinition, Service, ServiceField};
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

const TARGET_GROUP: &str =
    "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/0123456789abcdef";
const OTHER_TARGET_GROUP: &str =
    "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web2/fedcba9876543210";
const REGISTRY: &str =
    "arn:aws:servicediscovery:us-east-1:123456789012:service/srv-0123456789abcdef";

// --- an operator with a long resync, and metrics ---------------------------------------------

/// The operator in-process like `harness::TestOperator`, but with a resync period far longer than
/// the test: whatever it does within the test was triggered by a watch.
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

/// EcsService reconciles of an operator so far.
fn service_reconciles(metrics: &Metrics) -> u64 {
    let text = metrics.render();
    text.lines()
        .find_map(|l| l.strip_prefix(r#"ecs_operator_reconcile_total{kind="EcsService"} "#))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0)
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

/// An ECS cluster created directly in the emulator (not managed here).
async fn ecs_cluster(prefix: &str) -> String {
    let name = support::unique_name(prefix);
    support::ecs_client()
        .create_cluster()
        .cluster_name(&name)
        .send()
        .await
        .expect("create cluster");
    name
}

/// A task definition registered directly in the emulator; its ARN.
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

/// A default subnet and security group of the emulator's EC2 (moto checks that an awsvpc
/// configuration names existing ones). Read through EC2's query API, which moto serves on the same
/// endpoint: the tests have no EC2 SDK.
async fn default_network() -> (String, String) {
    let subnets = ec2_query("DescribeSubnets").await;
    let groups = ec2_query("DescribeSecurityGroups").await;
    (
        xml_value(&subnets, "subnetId"),
        xml_value(&groups, "groupId"),
    )
}

async fn ec2_query(action: &str) -> String {
    let env = support::env();
    let output = tokio::process::Command::new("curl")
        .args(["-sS", "--fail", "--max-time", "10", "-X", "POST"])
        .arg(format!("{}/", env.ecs_endpoint))
        .args(["-H", "Content-Type: application/x-www-form-urlencoded"])
        .arg("-H")
        .arg(format!(
            "Authorization: AWS4-HMAC-SHA256 Credential={}/20250101/{}/ec2/aws4_request, SignedHeaders=host, Signature=0",
            env.access_key_id, env.region
        ))
        .arg("--data")
        .arg(format!("Action={action}&Version=2016-11-15"))
        .output()
        .await
        .expect("curl runs");
    assert!(
        output.status.success(),
        "EC2 {action}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn xml_value(xml: &str, tag: &str) -> String {
    let open = format!("<{tag}>");
    let start = xml
        .find(&open)
        .unwrap_or_else(|| panic!("no <{tag}> in {xml}"))
        + open.len();
    let end = start + xml[start..].find('<').expect("closing tag");
    xml[start..end].to_string()
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
    let _operator = TestOperator::start(&client, &ns).await;
    let clusters: Api<EcsCluster> = Api::namespaced(client.clone(), &ns);
    let definitions: Api<EcsTaskDefinition> = Api::namespaced(client.clone(), &ns);
    let api: Api<EcsService> = Api::namespaced(client.clone(), &ns);
    let (cluster_name, family, service_name) = (
        support::unique_name("prod"),
        support::unique_name("web"),
        support::unique_name("web"),
    );
    let (subnet, security_group) = default_network().await;

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
            "subnets": [subnet], "securityGroups": [security_group], "assignPublicIp": "DISABLED"
        }},
        "loadBalancers": [{"targetGroupArn": TARGET_GROUP, "containerName": "web", "containerPort": 8080}],
        "serviceRegistries": [{"registryArn": REGISTRY}],
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
    let obj = wait_for(&api, "web", "Ready", is_ready).await;
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
    assert_eq!(
        status.running_count,
        Some(1)
    );
    assert_eq!(status.replicas, Some(1));
    assert_eq!(
        status.selector.as_deref(),
        Some("ecs.operator.dev/service=web")
    );
    assert_eq!(status.deployments.len(), 1);
    assert_eq!(status.deployments[0].status.as_deref(), Some("PRIMARY"));
    assert_eq!(
        status.deployments[0].rollout_state.as_deref(),
        Some("COMPLETED")
    );
    assert!(
        reasons(&client, &ns, "web")
            .await
            .contains(&"Created".to_string())
    );

    // What CreateService sent, as far as moto echoes it.
    let ecs = describe_active(&cluster_name, &service_name).await;
    assert_eq!(status.service_arn.as_deref(), ecs.service_arn());
    assert!(
        ecs.cluster_arn()
            .unwrap()
            .ends_with(&format!("cluster/{cluster_name}"))
    );
    assert_eq!(ecs.task_definition(), Some(td_arn.as_str()));
    assert_eq!(ecs.desired_count(), 1);
    assert_eq!(ecs.launch_type().map(|l| l.as_str()), Some("FARGATE"));
    assert_eq!(ecs.platform_version(), Some("1.4.0"));
    let vpc = ecs
        .network_configuration()
        .and_then(|n| n.awsvpc_configuration())
        .expect("awsvpc configuration");
    assert_eq!(vpc.subnets(), std::slice::from_ref(&subnet));
    assert_eq!(vpc.security_groups(), std::slice::from_ref(&security_group));
    assert_eq!(vpc.assign_public_ip().map(|a| a.as_str()), Some("DISABLED"));
    let lb = &ecs.load_balancers()[0];
    assert_eq!(
        (
            lb.target_group_arn(),
            lb.container_name(),
            lb.container_port()
        ),
        (Some(TARGET_GROUP), Some("web"), Some(8080))
    );
    assert_eq!(ecs.service_registries()[0].registry_arn(), Some(REGISTRY));
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

    // A spec change goes through UpdateService; moto echoes what UpdateService sent.
    let patch = json!({"spec": {
        "healthCheckGracePeriodSeconds": 60,
        "deploymentConfiguration": {"maximumPercent": 150, "minimumHealthyPercent": 50},
        "networkConfiguration": {"awsvpcConfiguration": {"assignPublicIp": "ENABLED"}},
        "loadBalancers": [{"targetGroupArn": OTHER_TARGET_GROUP, "containerName": "web", "containerPort": 8080}],
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
        .expect("deploymentConfiguration echoed after UpdateService");
    assert_eq!(
        (
            deployment.maximum_percent(),
            deployment.minimum_healthy_percent()
        ),
        (Some(150), Some(50))
    );
    let breaker = deployment
        .deployment_circuit_breaker()
        .expect("circuit breaker kept");
    assert!(breaker.enable() && breaker.rollback());
    assert_eq!(
        ecs.load_balancers()[0].target_group_arn(),
        Some(OTHER_TARGET_GROUP)
    );
    let vpc = ecs
        .network_configuration()
        .and_then(|n| n.awsvpc_configuration())
        .unwrap();
    assert_eq!(vpc.assign_public_ip().map(|a| a.as_str()), Some("ENABLED"));
    assert_eq!(vpc.subnets(), [subnet]);
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
    let obj = wait_for(&api, "web", "Ready for generation 2", is_ready).await;
    assert_eq!(status_of(&obj).applied_generation, obj.metadata.generation);
    let updated = notes_with_reason(&client, &ns, "web", "Updated").await;
    assert!(
        updated
            .iter()
            .any(|n| n.contains("generation 2") && n.contains("loadBalancers")),
        "{updated:?}"
    );
    assert!(warnings(&client, &ns, "web").await.is_empty());

    // Delete: scaled to 0 first (moto refuses DeleteService above 0 without force), then deleted;
    // the object goes once ECS reports it INACTIVE.
    api.delete("web", &DeleteParams::default()).await.unwrap();
    wait_gone(&api, "web").await;
    let gone = describe(&cluster_name, &service_name)
        .await
        .expect("moto keeps INACTIVE services");
    assert_eq!(gone.status(), Some("INACTIVE"));
    assert_eq!(gone.desired_count(), 0);
    let deleted = notes_with_reason(&client, &ns, "web", "Deleted").await;
    assert!(
        deleted
            .iter()
            .any(|n| n.contains("scaled ECS service") && n.contains("deleted")),
        "{deleted:?}"
    );

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
    let spec = json!({"clusterRef": {"name": "prod"}, "taskDefinitionRef": {"name": "app"}});
    api.create(&PostParams::default(), &service_object("web", spec))
        .await
        .unwrap();
    let obj = wait_for(&api, "web", "Ready", is_ready).await;
    assert_eq!(status_of(&obj).task_definition_revision, Some(1));
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

    // Status follows. moto keeps the old deployment PRIMARY forever (it never starts a new one), so
    // the rollout honestly stays in progress: Ready=False, DeploymentInProgress, Reconciling=True.
    let obj = wait_for(&api, "web", "reporting revision 2", |o| {
        status_of(o).task_definition_arn.as_deref() == Some(revision_2.as_str())
    })
    .await;
    assert_eq!(status_of(&obj).task_definition_revision, Some(2));
    let ready = condition(&obj, "Ready").unwrap();
    assert_eq!(
        (ready.status.as_str(), ready.reason.as_str()),
        ("False", "DeploymentInProgress"),
        "{ready:?}"
    );
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

    // One UpdateService for the move, and no more while the rollout is polled.
    tokio::time::sleep(Duration::from_secs(12)).await;
    assert_eq!(update_calls(&operator.metrics), 1);
    assert_eq!(
        describe_active(&cluster_name, &service_name)
            .await
            .task_definition(),
        Some(revision_2.as_str())
    );
}

#[tokio::test]
async fn a_task_definition_change_ecs_refuses_keeps_the_service_on_its_revision_but_not_ready() {
    let (client, ns) = setup("svc-refused").await;
    // The watch relation, not a resync, tells the service.
    let _operator = LongResyncOperator::start(&client, &ns).await;
    let definitions: Api<EcsTaskDefinition> = Api::namespaced(client.clone(), &ns);
    let api: Api<EcsService> = Api::namespaced(client.clone(), &ns);
    let cluster = ecs_cluster("refused").await;
    let family = support::unique_name("refused");
    definitions
        .create(
            &PostParams::default(),
            &task_definition_object("app", &family, "app:1"),
        )
        .await
        .unwrap();
    let spec = json!({"cluster": cluster, "taskDefinitionRef": {"name": "app"}, "desiredCount": 1});
    api.create(&PostParams::default(), &service_object("web", spec))
        .await
        .unwrap();
    let obj = wait_for(&api, "web", "Ready", is_ready).await;
    let revision_1 = status_of(&obj).task_definition_arn.unwrap();

    // A change ECS refuses (Fargate supports only pidMode "task"; moto says so too).
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
    assert_eq!(
        describe_active(&cluster, "web").await.task_definition(),
        Some(revision_1.as_str()),
        "the service keeps running the last registered revision"
    );

    // Fixed: the next revision is registered and the service moves to it.
    let patch = json!({"spec": {"pidMode": "task"}});
    definitions
        .patch("app", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .unwrap();
    wait_for(&api, "web", "on revision 2", |o| {
        status_of(o).task_definition_revision == Some(2)
    })
    .await;
}

#[tokio::test]
async fn dependencies_are_awaited_without_warnings_and_followed_the_moment_they_are_ready() {
    let (client, ns) = setup("svc-deps").await;
    let _operator = TestOperator::start(&client, &ns).await;
    let clusters: Api<EcsCluster> = Api::namespaced(client.clone(), &ns);
    let definitions: Api<EcsTaskDefinition> = Api::namespaced(client.clone(), &ns);
    let api: Api<EcsService> = Api::namespaced(client.clone(), &ns);
    let (cluster_name, family) = (support::unique_name("later"), support::unique_name("later"));

    // The service first, its cluster and task definition not there yet.
    let spec = json!({"clusterRef": {"name": "prod"}, "taskDefinitionRef": {"name": "app"}, "desiredCount": 1});
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

    // The task definition arrives: still waiting, for the cluster.
    definitions
        .create(
            &PostParams::default(),
            &task_definition_object("app", &family, "app:1"),
        )
        .await
        .unwrap();
    wait_for(&definitions, "app", "Ready", is_ready).await;
    tokio::time::sleep(TEST_RESYNC * 2).await;
    let obj = api.get("web").await.unwrap();
    assert_eq!(ready_reason(&obj), "DependencyNotReady");
    assert!(
        condition(&obj, "Ready")
            .unwrap()
            .message
            .contains("EcsCluster prod")
    );

    // The cluster arrives: the service is created at once (the retry of a waiting service is 30 s
    // away, so this is the watch on EcsCluster).
    clusters
        .create(
            &PostParams::default(),
            &cluster_object("prod", &cluster_name),
        )
        .await
        .unwrap();
    wait_for(&clusters, "prod", "Ready", is_ready).await;
    let cluster_ready = Instant::now();
    let obj = wait_for(&api, "web", "Ready", is_ready).await;
    let waited = cluster_ready.elapsed();
    assert!(
        waited < Duration::from_secs(15),
        "Ready {waited:?} after the cluster"
    );
    assert!(
        status_of(&obj)
            .task_definition_arn
            .unwrap()
            .ends_with(&format!("{family}:1"))
    );
    describe_active(&cluster_name, "web").await;

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

    // Another team creates it: the service follows at the next retry (30 s for a dependency).
    support::ecs_client()
        .create_cluster()
        .cluster_name(&cluster)
        .send()
        .await
        .unwrap();
    wait_for(&api, "web", "Ready", is_ready).await;
    describe_active(&cluster, "web").await;
    let warnings = warnings(&client, &ns, "web").await;
    assert!(warnings.is_empty(), "{warnings:?}");
}

#[tokio::test]
async fn deleting_a_task_definition_a_service_runs_deregisters_but_does_not_delete_its_revision() {
    let (client, ns) = setup("svc-tdgone").await;
    let _operator = TestOperator::start(&client, &ns).await;
    let definitions: Api<EcsTaskDefinition> = Api::namespaced(client.clone(), &ns);
    let api: Api<EcsService> = Api::namespaced(client.clone(), &ns);
    let cluster = ecs_cluster("tdgone").await;
    let family = support::unique_name("tdgone");
    definitions
        .create(
            &PostParams::default(),
            &task_definition_object("app", &family, "app:1"),
        )
        .await
        .unwrap();
    let spec = json!({"cluster": cluster, "taskDefinitionRef": {"name": "app"}, "desiredCount": 1});
    api.create(&PostParams::default(), &service_object("web", spec))
        .await
        .unwrap();
    let obj = wait_for(&api, "web", "Ready", is_ready).await;
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
    assert_eq!(
        describe_active(&cluster, "web").await.task_definition(),
        Some(revision.as_str())
    );
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

    // The cluster and the task definition say where they live; the service does not.
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
    let spec = json!({"clusterRef": {"name": "prod"}, "taskDefinitionRef": {"name": "app"}, "desiredCount": 1});
    api.create(&PostParams::default(), &service_object("web", spec))
        .await
        .unwrap();
    let obj = wait_for(&api, "web", "Ready", is_ready).await;
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
    let cluster = ecs_cluster("legacy").await;
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

    // Adopted when asked: tagged as ours, and Ready.
    annotate(&api, "legacy", ADOPT_ANNOTATION, "true").await;
    let obj = wait_for(&api, "legacy", "Ready after adoption", is_ready).await;
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
    assert_eq!(
        describe_active(&cluster, &service_name)
            .await
            .desired_count(),
        1
    );
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
    let cluster = ecs_cluster("kept").await;
    let task_definition = ecs_task_definition("kept", "app:1").await;
    let spec = json!({"cluster": cluster, "taskDefinition": task_definition, "desiredCount": 1, "deletionPolicy": "Retain"});
    api.create(&PostParams::default(), &service_object("kept", spec))
        .await
        .unwrap();
    wait_for(&api, "kept", "Ready", is_ready).await;

    api.delete("kept", &DeleteParams::default()).await.unwrap();
    wait_gone(&api, "kept").await;
    let ecs = describe_active(&cluster, "kept").await;
    assert_eq!(ecs.desired_count(), 1, "not scaled down");
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
    let _operator = TestOperator::start(&client, &ns).await;
    let api: Api<EcsService> = Api::namespaced(client.clone(), &ns);
    let cluster = ecs_cluster("scale").await;
    let task_definition = ecs_task_definition("scale", "app:1").await;
    // EC2 with placement rules: moto echoes placement once UpdateService has sent it.
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
    wait_for(&api, "web", "Ready", is_ready).await;

    // `kubectl scale ecss web --replicas=3`.
    let patch = json!({"spec": {"replicas": 3}});
    api.patch_scale("web", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .unwrap();
    let ecs = eventually(
        "desiredCount 3 in ECS",
        || describe(&cluster, "web"),
        |s| s.as_ref().is_some_and(|s| s.desired_count() == 3),
    )
    .await
    .unwrap();
    let obj = wait_for(&api, "web", "Ready with 3 replicas", |o| {
        is_ready(o) && status_of(o).replicas == Some(3)
    })
    .await;
    assert_eq!(obj.spec.desired_count, Some(3));
    assert_eq!(status_of(&obj).desired_count, Some(3));
    let scale = api.get_scale("web").await.unwrap();
    assert_eq!(scale.spec.and_then(|s| s.replicas), Some(3));
    let scale_status = scale.status.unwrap();
    assert_eq!(scale_status.replicas, 3);
    assert_eq!(
        scale_status.selector.as_deref(),
        Some("ecs.operator.dev/service=web")
    );

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
}

#[tokio::test]
async fn the_restart_annotation_forces_exactly_one_deployment_per_change() {
    let (client, ns) = setup("svc-restart").await;
    let operator = TestOperator::start(&client, &ns).await;
    let api: Api<EcsService> = Api::namespaced(client.clone(), &ns);
    let cluster = ecs_cluster("restart").await;
    let task_definition = ecs_task_definition("restart", "app:1").await;
    let spec = json!({"cluster": cluster, "taskDefinition": task_definition, "desiredCount": 1});
    api.create(&PostParams::default(), &service_object("web", spec))
        .await
        .unwrap();
    wait_for(&api, "web", "Ready", is_ready).await;
    let deployment_id = |s: &Option<Service>| {
        s.as_ref()
            .and_then(|s| s.deployments().first())
            .and_then(|d| d.id())
            .map(str::to_string)
    };
    let first = deployment_id(&describe(&cluster, "web").await).unwrap();
    assert_eq!(update_calls(&operator.metrics), 0);

    // `kubectl rollout restart` for ECS: moto gives the deployment a new id on forceNewDeployment.
    annotate(&api, "web", RESTARTED_AT_ANNOTATION, "2025-01-01T10:00:00Z").await;
    let second = eventually(
        "a forced deployment",
        || describe(&cluster, "web"),
        |s| deployment_id(s).is_some_and(|id| id != first),
    )
    .await;
    let second = deployment_id(&second).unwrap();
    let obj = wait_for(&api, "web", "recorded", |o| {
        status_of(o).last_restarted_at.as_deref() == Some("2025-01-01T10:00:00Z")
    })
    .await;
    assert!(is_ready(&obj));

    // Resyncs do not restart it again.
    tokio::time::sleep(TEST_RESYNC * 3 + Duration::from_secs(1)).await;
    assert_eq!(
        deployment_id(&describe(&cluster, "web").await).unwrap(),
        second
    );
    assert_eq!(update_calls(&operator.metrics), 1);
    let updated = notes_with_reason(&client, &ns, "web", "Updated").await;
    assert!(
        updated[0].contains("forced a new deployment"),
        "{updated:?}"
    );
    assert_eq!(occurrences(&client, &ns, "web", "Updated").await, 1);

    // A new value: one more.
    annotate(&api, "web", RESTARTED_AT_ANNOTATION, "2025-01-02T10:00:00Z").await;
    eventually(
        "a second forced deployment",
        || describe(&cluster, "web"),
        |s| deployment_id(s).is_some_and(|id| id != second),
    )
    .await;
    tokio::time::sleep(TEST_RESYNC * 2).await;
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
    let cluster = ecs_cluster("auto").await;
    let task_definition = ecs_task_definition("auto", "app:1").await;
    let spec = json!({"cluster": cluster, "taskDefinition": task_definition});
    api.create(&PostParams::default(), &service_object("web", spec))
        .await
        .unwrap();
    wait_for(&api, "web", "Ready", is_ready).await;
    assert_eq!(
        describe_active(&cluster, "web").await.desired_count(),
        1,
        "1 at creation"
    );

    // An autoscaler scales it in ECS; resyncs leave that alone, and status reports it.
    change_in_ecs(&cluster, "web", Some(4), None).await;
    wait_for(&api, "web", "reporting 4 tasks", |o| {
        is_ready(o) && status_of(o).desired_count == Some(4)
    })
    .await;
    let reconciles_before = service_reconciles(&operator.metrics);
    tokio::time::sleep(TEST_RESYNC * 3 + Duration::from_secs(1)).await;
    assert_eq!(describe_active(&cluster, "web").await.desired_count(), 4);
    assert_eq!(update_calls(&operator.metrics), 0);
    // Steady state costs one reconcile (and one batched describe) per resync, no more.
    let reconciles = service_reconciles(&operator.metrics) - reconciles_before;
    assert!(
        (2..=5).contains(&reconciles),
        "{reconciles} reconciles in 10 s with a 3 s resync"
    );
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
    wait_for(&api, "web", "Ready", is_ready).await;
    assert_eq!(update_calls(&operator.metrics), 1);
}

#[tokio::test]
async fn drift_in_ecs_is_corrected() {
    let (client, ns) = setup("svc-drift").await;
    let _operator = TestOperator::start(&client, &ns).await;
    let api: Api<EcsService> = Api::namespaced(client.clone(), &ns);
    let cluster = ecs_cluster("drift").await;
    let task_definition = ecs_task_definition("drift", "app:1").await;
    let spec = json!({
        "cluster": cluster,
        "taskDefinition": task_definition,
        "desiredCount": 1,
        "capacityProviderStrategy": [{"capacityProvider": "FARGATE", "weight": 1, "base": 1}],
        "tags": [{"key": "team", "value": "web"}]
    });
    api.create(&PostParams::default(), &service_object("web", spec))
        .await
        .unwrap();
    wait_for(&api, "web", "Ready", is_ready).await;
    let arn = describe_active(&cluster, "web")
        .await
        .service_arn()
        .unwrap()
        .to_string();

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
    // The correcting UpdateService carried the whole spec: moto now echoes the capacity strategy.
    let strategy: Vec<_> = ecs
        .capacity_provider_strategy()
        .iter()
        .map(|i| (i.capacity_provider(), i.weight(), i.base()))
        .collect();
    assert_eq!(strategy, [("FARGATE", 1, 1)]);

    // The task definition, changed by hand, is set back.
    let other = ecs_task_definition("intruder", "hotfix:1").await;
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
    // One event per correction. (The event recorder folds a repeated reason into the first
    // event's series, so this one's note is not visible while that series lasts.)
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
    let obj = wait_for(&api, "web", "Ready", is_ready).await;
    assert_eq!(
        status_of(&obj).task_definition_arn.as_deref(),
        Some(task_definition.as_str())
    );
    assert!(warnings(&client, &ns, "web").await.is_empty());
}

/// moto keeps a cluster's activeServicesCount at 0 and DeleteCluster never refuses, so only a
/// cluster controller that also looks at the EcsServices referencing it (or lists and describes
/// the cluster's services) can pass this against the emulator.
#[tokio::test]
async fn a_cluster_delete_waits_for_its_services() {
    let (client, ns) = setup("svc-cluster-wait").await;
    let _operator = TestOperator::start(&client, &ns).await;
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
    let spec = json!({"clusterRef": {"name": "prod"}, "taskDefinitionRef": {"name": "app"}, "desiredCount": 1});
    api.create(&PostParams::default(), &service_object("web", spec))
        .await
        .unwrap();
    wait_for(&api, "web", "Ready", is_ready).await;

    clusters
        .delete("prod", &DeleteParams::default())
        .await
        .unwrap();
    let obj = wait_for(&clusters, "prod", "waiting for its service", |c| {
        condition(c, "Ready").is_some_and(|r| r.reason == "Deleting" && r.message.contains("web"))
    })
    .await;
    assert!(obj.metadata.deletion_timestamp.is_some());
    tokio::time::sleep(TEST_RESYNC * 2).await;
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
