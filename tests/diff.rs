//! `ecs-operator diff` (the built binary) against the emulator: what a pull request would change
//! in ECS before it is applied, nothing once the operator applied it, a change itemized after,
//! from read-only calls only, and exit codes as `kubectl diff`.

mod harness;
mod support;

use std::io::Write;
use std::process::{Command, Stdio};

use ecs_operator::api::{EcsCapacityProvider, EcsCluster, EcsService, EcsTaskDefinition};
use harness::{TestOperator, is_ready, manifest, setup, wait_for};
use kube::api::{Api, PostParams};
use serde_json::{Value, json};

/// The names of one test's objects in ECS.
struct Names {
    ns: String,
    cluster: String,
    family: String,
    service: String,
}

impl Names {
    /// Names unique to this run, in namespace `ns`.
    fn new(ns: &str) -> Names {
        Names {
            ns: ns.to_string(),
            cluster: support::unique_name("apps"),
            family: support::unique_name("web"),
            service: support::unique_name("web"),
        }
    }
}

/// Creates the three objects of `documents` (cluster, task definition, service) in `ns`; the
/// services' API.
async fn apply(client: &kube::Client, ns: &str, documents: &[Value]) -> Api<EcsService> {
    let post = PostParams::default();
    let clusters: Api<EcsCluster> = Api::namespaced(client.clone(), ns);
    let definitions: Api<EcsTaskDefinition> = Api::namespaced(client.clone(), ns);
    let services: Api<EcsService> = Api::namespaced(client.clone(), ns);
    clusters
        .create(&post, &manifest(documents[0].clone()))
        .await
        .unwrap();
    definitions
        .create(&post, &manifest(documents[1].clone()))
        .await
        .unwrap();
    services
        .create(&post, &manifest(documents[2].clone()))
        .await
        .unwrap();
    services
}

/// The three manifests of an application, as a file would hold them.
fn documents(names: &Names, image: &str, count: i32) -> Vec<Value> {
    let (subnets, group) = harness::emulator_network();
    vec![
        json!({
            "apiVersion": "ecs.operator.dev/v1alpha1", "kind": "EcsCluster",
            "metadata": {"name": "apps"},
            "spec": {"clusterName": names.cluster, "capacityProviders": ["FARGATE"]}
        }),
        json!({
            "apiVersion": "ecs.operator.dev/v1alpha1", "kind": "EcsTaskDefinition",
            "metadata": {"name": "web"},
            "spec": {
                "family": names.family, "requiresCompatibilities": ["FARGATE"],
                "networkMode": "awsvpc", "cpu": "256", "memory": "512",
                "containerDefinitions": [{"name": "web", "image": image, "essential": true}]
            }
        }),
        json!({
            "apiVersion": "ecs.operator.dev/v1alpha1", "kind": "EcsService",
            "metadata": {"name": "web"},
            "spec": {
                "serviceName": names.service, "clusterRef": {"name": "apps"},
                "taskDefinitionRef": {"name": "web"}, "desiredCount": count,
                "launchType": "FARGATE",
                "networkConfiguration": {"awsvpcConfiguration": {
                    "subnets": subnets, "securityGroups": [group]}}
            }
        }),
    ]
}

/// YAML documents (JSON is YAML), as `kubectl` users write them.
fn file_text(documents: &[Value]) -> String {
    documents
        .iter()
        .map(|d| serde_yaml::to_string(d).unwrap())
        .collect::<Vec<_>>()
        .join("---\n")
}

/// Runs `ecs-operator diff` on `text`, from a file or (`stdin`) from standard input; its exit
/// code and output.
fn diff(names: &Names, text: &str, stdin: bool) -> (i32, String) {
    let file = std::env::temp_dir().join(format!("{}.yaml", support::unique_name("diff")));
    std::fs::write(&file, text).unwrap();
    let path = if stdin {
        "-".to_string()
    } else {
        file.display().to_string()
    };
    let mut child = Command::new(env!("CARGO_BIN_EXE_ecs-operator"))
        .args(["diff", "-f", &path, "-n", &names.ns])
        .envs(&support::env().vars)
        .env("AWS_ACCESS_KEY_ID", diff_key(names))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the operator binary runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(if stdin { text.as_bytes() } else { b"" })
        .unwrap();
    let output = child.wait_with_output().unwrap();
    let _ = std::fs::remove_file(&file);
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.is_empty(), "diff wrote to stderr: {stderr}");
    (output.status.code().unwrap_or(-1), stdout)
}

fn diff_key(names: &Names) -> String {
    format!("diff-{}", names.ns)
}

#[tokio::test]
async fn a_diff_shows_what_would_change_before_and_nothing_after_applying() {
    let (client, ns) = setup("diff").await;
    let names = Names::new(&ns);
    let (cluster, family, service) = (&names.cluster, &names.family, &names.service);
    let original = documents(&names, "nginx:1.27", 2);

    // Before: everything is created, exit 1.
    let (code, out) = diff(&names, &file_text(&original), false);
    assert_eq!(code, 1, "{out}");
    let expected = [
        format!(
            "EcsCluster {ns}/apps: creates ECS cluster {cluster} in {}",
            support::env().region
        ),
        format!(
            "EcsTaskDefinition {ns}/web: registers {family}:1: the family has no ACTIVE revision"
        ),
        format!(
            "EcsService {ns}/web: creates ECS service {service} in cluster {cluster} running \
             {family}:1 with 2 task(s)"
        ),
    ];
    assert_eq!(out.lines().collect::<Vec<_>>(), expected);

    // Applied: no change, exit 0.
    let _operator = TestOperator::start(&client, &ns).await;
    let services = apply(&client, &ns, &original).await;
    wait_for(&services, "web", "Ready", is_ready).await;
    let (code, out) = diff(&names, &file_text(&original), false);
    assert_eq!(code, 0, "{out}");
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        [
            format!("EcsCluster {ns}/apps: no change (ECS cluster {cluster} matches the spec)"),
            format!("EcsTaskDefinition {ns}/web: no change ({family}:1 matches the spec)"),
            format!(
                "EcsService {ns}/web: no change (ECS service {service} matches the spec on revision 1)"
            ),
        ]
    );

    // A pull request changes the image and the count: each change itemized, from stdin too.
    let changed = file_text(&documents(&names, "nginx:1.28", 4));
    let (code, out) = diff(&names, &changed, true);
    assert_eq!(code, 1, "{out}");
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        [
            format!("EcsCluster {ns}/apps: no change (ECS cluster {cluster} matches the spec)"),
            format!("EcsTaskDefinition {ns}/web: registers {family}:2: the spec changed"),
            "    containerDefinitions[web].image nginx:1.27 → nginx:1.28".to_string(),
            format!(
                "EcsService {ns}/web: UpdateService {service}: taskDefinition {family}:1 → \
                 {family}:2, desiredCount 2 → 4"
            ),
        ]
    );
    assert_eq!(
        diff(&names, &changed, false).1,
        out,
        "a file reads as stdin"
    );

    // Only reads: the diff's calls hold no write.
    let calls = support::emulator_calls(&diff_key(&names));
    assert!(calls.contains_key("DescribeServices"), "{calls:?}");
    let writes: Vec<&String> = calls
        .keys()
        .filter(|op| support::ECS_WRITES.contains(&op.as_str()))
        .collect();
    assert!(writes.is_empty(), "the diff wrote: {writes:?}");
}

#[tokio::test]
async fn a_reference_found_nowhere_cannot_be_compared() {
    let (_client, ns) = setup("diff-ref").await;
    let names = Names::new(&ns);
    let mut service = documents(&names, "nginx:1.27", 1)[2].clone();
    service["spec"]["clusterRef"]["name"] = json!("elsewhere");
    let (code, out) = diff(&names, &file_text(&[service]), false);
    assert_eq!(code, 2, "{out}");
    assert_eq!(
        out.trim(),
        format!(
            "EcsService {ns}/web: could not compare: EcsCluster {ns}/elsewhere is neither in the \
             files nor readable in the Kubernetes cluster"
        )
    );
}

#[tokio::test]
async fn other_kinds_are_told_and_a_missing_cluster_is_waited_for() {
    let (_client, ns) = setup("diff-kinds").await;
    let names = Names::new(&ns);
    let mut service = documents(&names, "nginx:1.27", 1)[2].clone();
    service["spec"]
        .as_object_mut()
        .unwrap()
        .remove("clusterRef");
    service["spec"]["cluster"] = json!("nowhere");
    service["spec"]
        .as_object_mut()
        .unwrap()
        .remove("taskDefinitionRef");
    service["spec"]["taskDefinition"] =
        json!("arn:aws:ecs:us-east-1:123456789012:task-definition/x:1");
    let run = json!({"apiVersion": "ecs.operator.dev/v1alpha1", "kind": "EcsTask",
                     "metadata": {"name": "once"}, "spec": {}});
    let typo = json!({"apiVersion": "ecs.operator.dev/v1alpha1", "kind": "EcsServce",
                      "metadata": {"name": "typo"}, "spec": {}});
    let (code, out) = diff(&names, &file_text(&[service, run, typo]), false);
    assert_eq!(code, 2, "{out}");
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        [
            format!(
                "EcsService {ns}/web: no change (waits for ECS cluster nowhere, which does not exist in {})",
                support::env().region
            ),
            format!(
                "EcsTask {ns}/once: skipped (an EcsTask runs its tasks once, when it is created; \
                 diff does not plan runs)"
            ),
            format!(
                "EcsServce {ns}/typo: could not compare: \"EcsServce\" is not a kind of this operator"
            ),
        ]
    );
}

#[tokio::test]
async fn a_diff_shows_autoscaling_changes_too() {
    let (client, ns) = setup("diff-as").await;
    let names = Names::new(&ns);
    let (cluster, family, service) = (&names.cluster, &names.family, &names.service);
    let autoscaled = |target: f64| {
        let mut documents = documents(&names, "nginx:1.27", 1);
        let spec = documents[2]["spec"].as_object_mut().unwrap();
        spec.remove("desiredCount");
        spec.insert(
            "autoscaling".into(),
            json!({"minCapacity": 2, "maxCapacity": 10, "targetTracking": [{
                "policyName": "cpu70", "targetValue": target,
                "predefinedMetricSpecification": {"predefinedMetricType": "ECSServiceAverageCPUUtilization"},
                "scaleInCooldown": 300, "scaleOutCooldown": 60}]}),
        );
        documents
    };
    let original = autoscaled(70.0);

    // Before: the service is created with 2 tasks, and its scaling with it.
    let (code, out) = diff(&names, &file_text(&original), false);
    assert_eq!(code, 1, "{out}");
    assert_eq!(
        out.lines().skip(2).collect::<Vec<_>>(),
        [
            format!(
                "EcsService {ns}/web: creates ECS service {service} in cluster {cluster} running \
                 {family}:1 with 2 task(s)"
            ),
            format!(
                "    Application Auto Scaling of ECS service {service}: scalable target registered \
                 with capacity 2..10; policy cpu70 created"
            ),
        ]
    );

    // Applied: no change.
    let _operator = TestOperator::start(&client, &ns).await;
    let services = apply(&client, &ns, &original).await;
    wait_for(
        &services,
        "web",
        "Ready with its scaling",
        |s: &EcsService| {
            is_ready(s) && s.status.as_ref().is_some_and(|st| st.autoscaling.is_some())
        },
    )
    .await;
    let (code, out) = diff(&names, &file_text(&original), false);
    assert_eq!(code, 0, "{out}");
    assert_eq!(
        out.lines().nth(2),
        Some(format!("EcsService {ns}/web: no change (ECS service {service} matches the spec on revision 1)").as_str())
    );

    // A pull request lowers the target value: the policy is updated, nothing else.
    let (code, out) = diff(&names, &file_text(&autoscaled(50.0)), false);
    assert_eq!(code, 1, "{out}");
    assert_eq!(
        out.lines().skip(2).collect::<Vec<_>>(),
        [format!(
            "EcsService {ns}/web: Application Auto Scaling of ECS service {service}: policy cpu70 updated"
        )]
    );
}

#[tokio::test]
async fn a_capacity_provider_and_the_cluster_that_references_it() {
    let (client, ns) = setup("diff-cp").await;
    let names = Names {
        ns: ns.clone(),
        cluster: support::unique_name("apps"),
        family: String::new(),
        service: String::new(),
    };
    let provider_name = support::unique_name("ec2");
    let documents = |target: i32| {
        vec![
            json!({
                "apiVersion": "ecs.operator.dev/v1alpha1", "kind": "EcsCapacityProvider",
                "metadata": {"name": "ec2"},
                "spec": {"name": provider_name, "autoScalingGroupProvider": {
                    "autoScalingGroupArn": format!("arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:1:autoScalingGroupName/{provider_name}"),
                    "managedScaling": {"status": "ENABLED", "targetCapacity": target}
                }}
            }),
            json!({
                "apiVersion": "ecs.operator.dev/v1alpha1", "kind": "EcsCluster",
                "metadata": {"name": "apps"},
                "spec": {"clusterName": names.cluster, "capacityProviders": ["FARGATE"],
                         "capacityProviderRefs": [{"name": "ec2"}]}
            }),
        ]
    };
    let region = &support::env().region;
    let (code, out) = diff(&names, &file_text(&documents(90)), false);
    assert_eq!(code, 1, "{out}");
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        [
            format!(
                "EcsCapacityProvider {ns}/ec2: creates capacity provider {provider_name} in {region}"
            ),
            format!(
                "EcsCluster {ns}/apps: creates ECS cluster {} in {region}",
                names.cluster
            ),
        ]
    );

    // Applied: the cluster has the referenced provider, as the spec says.
    let _operator = TestOperator::start(&client, &ns).await;
    let providers: Api<EcsCapacityProvider> = Api::namespaced(client.clone(), &ns);
    let clusters: Api<EcsCluster> = Api::namespaced(client.clone(), &ns);
    let post = PostParams::default();
    providers
        .create(&post, &manifest(documents(90)[0].clone()))
        .await
        .unwrap();
    clusters
        .create(&post, &manifest(documents(90)[1].clone()))
        .await
        .unwrap();
    wait_for(&clusters, "apps", "Ready", is_ready).await;
    let (code, out) = diff(&names, &file_text(&documents(90)), false);
    assert_eq!(code, 0, "{out}");
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        [
            format!(
                "EcsCapacityProvider {ns}/ec2: no change (capacity provider {provider_name} matches the spec)"
            ),
            format!(
                "EcsCluster {ns}/apps: no change (ECS cluster {} matches the spec)",
                names.cluster
            ),
        ]
    );

    // A change ECS makes in place.
    let (code, out) = diff(&names, &file_text(&documents(75)), false);
    assert_eq!(code, 1, "{out}");
    assert_eq!(
        out.lines().next(),
        Some(format!("EcsCapacityProvider {ns}/ec2: UpdateCapacityProvider {provider_name}: managedScaling").as_str())
    );
    let calls = support::emulator_calls(&diff_key(&names));
    assert!(calls.contains_key("DescribeCapacityProviders"), "{calls:?}");
    assert!(
        calls
            .keys()
            .all(|op| !support::ECS_WRITES.contains(&op.as_str())),
        "the diff wrote: {calls:?}"
    );
}
