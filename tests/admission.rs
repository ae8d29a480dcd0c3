//! Admission against the real API server: what the CRD schemas (OpenAPI + CEL) refuse, with the
//! message a user sees, and what they accept. No operator runs here; only the API server judges.
//!
//! Each table case creates (or, for immutable fields, creates and then updates) one object in a
//! fresh namespace and asserts either success or a 422 whose message contains the expected
//! fragment. A table reports all of its failing cases at once.

mod support;

use std::fmt::Debug;

use ecs_operator::api::task_definition::OUTPUT_ONLY_FIELDS;
use ecs_operator::api::{
    EcsCapacityProvider, EcsCluster, EcsScheduledTask, EcsService, EcsTask, EcsTaskDefinition,
};
use k8s_openapi::{NamespaceResourceScope, api::core::v1::Namespace};
use kube::{
    Api, Client, Resource,
    api::{ApiResource, DeleteParams, DynamicObject, Patch, PatchParams, PostParams},
};
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use serde_json::{Value, json};

/// (what the case shows, spec or spec patch, `None` = accepted or `Some(fragment of the 422)`).
type Case = (&'static str, Value, Option<&'static str>);

/// In an update case, a JSON string equal to this is replaced by the object's `metadata.name`.
const OBJECT_NAME: &str = "<name>";

/// Admin client, CRDs installed, and a fresh namespace.
async fn setup(prefix: &str) -> (Client, String) {
    let client = support::kube_client().await;
    support::install_crds(&client).await;
    let namespace = support::test_namespace(&client, prefix).await;
    (client, namespace)
}

/// Deletes a test namespace once its test passed (a failed test leaves it for inspection).
async fn cleanup(client: &Client, namespace: &str) {
    let _ = Api::<Namespace>::all(client.clone())
        .delete(namespace, &DeleteParams::background())
        .await;
}

/// A typed object of kind `K` named `name` with `spec`, built the way a user's manifest is read.
fn object<K>(name: &str, spec: &Value) -> K
where
    K: Resource<DynamicType = ()> + DeserializeOwned,
{
    let manifest = json!({
        "apiVersion": K::api_version(&()),
        "kind": K::kind(&()),
        "metadata": {"name": name},
        "spec": spec,
    });
    serde_json::from_value(manifest)
        .unwrap_or_else(|e| panic!("{} {name} does not parse: {e}", K::kind(&())))
}

/// Whether `result` is the expected outcome: success, or a 422 whose message has `expect`.
fn verdict<T>(
    what: &str,
    result: Result<T, kube::Error>,
    expect: Option<&str>,
) -> Result<(), String> {
    match (result, expect) {
        (Ok(_), None) => Ok(()),
        (Ok(_), Some(fragment)) => Err(format!(
            "{what}: accepted, expected a 422 containing {fragment:?}"
        )),
        (Err(kube::Error::Api(status)), Some(fragment))
            if status.code == 422 && status.message.contains(fragment) =>
        {
            Ok(())
        }
        (Err(e), None) => Err(format!("{what}: refused, expected accepted: {e}")),
        (Err(e), Some(fragment)) => Err(format!(
            "{what}: expected a 422 containing {fragment:?}, got: {e}"
        )),
    }
}

/// Panics with every failed case of a table.
fn report(table: &str, total: usize, failures: Vec<String>) {
    assert!(
        failures.is_empty(),
        "{table}: {} of {total} cases failed:\n  {}",
        failures.len(),
        failures.join("\n  ")
    );
}

/// Creates one object per case (named `c<index>`) and checks the API server's answer.
async fn check_creates<K>(client: &Client, namespace: &str, table: &str, cases: Vec<Case>)
where
    K: Resource<DynamicType = (), Scope = NamespaceResourceScope>
        + Clone
        + Debug
        + Serialize
        + DeserializeOwned,
{
    let api: Api<K> = Api::namespaced(client.clone(), namespace);
    let total = cases.len();
    let mut failures = Vec::new();
    for (index, (what, spec, expect)) in cases.into_iter().enumerate() {
        let name = format!("c{index}");
        let result = api
            .create(&PostParams::default(), &object::<K>(&name, &spec))
            .await;
        if let Err(failure) = verdict(what, result, expect) {
            failures.push(failure);
        }
    }
    report(table, total, failures);
}

fn substitute_name(value: &mut Value, name: &str) {
    match value {
        Value::String(s) if s == OBJECT_NAME => *s = name.to_owned(),
        Value::Array(items) => items.iter_mut().for_each(|v| substitute_name(v, name)),
        Value::Object(map) => map.values_mut().for_each(|v| substitute_name(v, name)),
        _ => {}
    }
}

/// For each case, creates an object (named `u<index>-<unique>`) from `base` (which must be accepted), then
/// JSON-merge-patches its spec with the case's patch and checks the API server's answer.
async fn check_updates<K>(
    client: &Client,
    namespace: &str,
    table: &str,
    base: Value,
    cases: Vec<Case>,
) where
    K: Resource<DynamicType = (), Scope = NamespaceResourceScope>
        + Clone
        + Debug
        + Serialize
        + DeserializeOwned,
{
    let api: Api<K> = Api::namespaced(client.clone(), namespace);
    let total = cases.len();
    let mut failures = Vec::new();
    for (index, (what, mut patch, expect)) in cases.into_iter().enumerate() {
        let name = support::unique_name(&format!("u{index}"));
        let name = name.as_str();
        api.create(&PostParams::default(), &object::<K>(name, &base))
            .await
            .unwrap_or_else(|e| panic!("{table}: the base object is refused: {e}"));
        substitute_name(&mut patch, name);
        let result = api
            .patch(
                name,
                &PatchParams::default(),
                &Patch::Merge(json!({"spec": patch})),
            )
            .await;
        if let Err(failure) = verdict(what, result, expect) {
            failures.push(failure);
        }
    }
    report(table, total, failures);
}

// --- EcsTaskDefinition ---------------------------------------------------------------------------

/// A container with a memory limit (ECS needs one, or a reservation, without task memory).
fn container(name: &str, ports: Value) -> Value {
    json!({"name": name, "image": "public.ecr.aws/nginx/nginx:1.27", "memory": 256, "portMappings": ports})
}

/// `container` with the fields of `changes` set (`null` removes one).
fn container_with(name: &str, changes: Value) -> Value {
    with(container(name, json!([])), changes)
}

/// An EC2 bridge task definition without task size, with these containers.
fn ec2(list: Vec<Value>) -> Value {
    json!({"requiresCompatibilities": ["EC2"], "networkMode": "bridge", "containerDefinitions": list})
}

/// A Fargate task definition (256/512) with these containers.
fn fargate_with(list: Vec<Value>) -> Value {
    with(fargate("256", "512"), json!({"containerDefinitions": list}))
}

fn fargate(cpu: &str, memory: &str) -> Value {
    json!({
        "requiresCompatibilities": ["FARGATE"],
        "networkMode": "awsvpc",
        "cpu": cpu,
        "memory": memory,
        "containerDefinitions": [container("web", json!([{"containerPort": 8080}]))],
    })
}

/// `spec` with the top-level fields of `changes` set (`null` removes one).
fn with(mut spec: Value, changes: Value) -> Value {
    let map = spec.as_object_mut().expect("spec is an object");
    for (key, value) in changes.as_object().expect("changes is an object") {
        if value.is_null() {
            map.remove(key);
        } else {
            map.insert(key.clone(), value.clone());
        }
    }
    spec
}

fn containers(specs: Vec<Value>) -> Value {
    json!({"containerDefinitions": specs})
}

fn task_definition_cases() -> Vec<Case> {
    let ten: Vec<Value> = (0..10)
        .map(|i| {
            let ports: Vec<Value> = (0..5)
                .map(|j| json!({"containerPort": 1000 + i * 100 + j}))
                .collect();
            container(&format!("c{i}"), json!(ports))
        })
        .collect();
    let mut ten_clashing = ten.clone();
    ten_clashing[9] = container("c9", json!([{"containerPort": 1000}]));
    let eleven: Vec<Value> = (0..11)
        .map(|i| container(&format!("c{i}"), json!([])))
        .collect();
    vec![
        // Fargate task sizes.
        ("Fargate 256/512", fargate("256", "512"), None),
        ("Fargate 256/2048", fargate("256", "2048"), None),
        ("Fargate 512/4096", fargate("512", "4096"), None),
        ("Fargate 1 vCPU/3 GB", fargate("1 vCPU", "3 GB"), None),
        ("Fargate .25 vCPU/0.5GB", fargate(".25 vCPU", "0.5GB"), None),
        ("Fargate 2048/16384", fargate("2048", "16384"), None),
        ("Fargate 4096/30720", fargate("4096", "30720"), None),
        ("Fargate 8192/20480", fargate("8192", "20480"), None),
        ("Fargate 16384/122880", fargate("16384", "122880"), None),
        (
            "Fargate 256/4096",
            fargate("256", "4096"),
            Some("a Fargate task with cpu 256 needs memory (MiB) of 512, 1024 or 2048, not 4096"),
        ),
        (
            "Fargate 512/5120",
            fargate("512", "5120"),
            Some("needs memory (MiB) of 1024, 2048, 3072 or 4096, not 5120"),
        ),
        (
            "Fargate 1024/1024",
            fargate("1024", "1024"),
            Some("needs memory (MiB) of 2048 to 8192 in steps of 1024, not 1024"),
        ),
        (
            "Fargate 2 vCPU/16896",
            fargate("2 vCPU", "16896"),
            Some(
                "a Fargate task with cpu 2 vCPU needs memory (MiB) of 4096 to 16384 in steps of 1024",
            ),
        ),
        (
            "Fargate 4096/31744",
            fargate("4096", "31744"),
            Some("8192 to 30720 in steps of 1024, not 31744"),
        ),
        (
            "Fargate 8192/18432",
            fargate("8192", "18432"),
            Some("16384 to 61440 in steps of 4096, not 18432"),
        ),
        (
            "Fargate 16 vCPU/36864",
            fargate("16 vCPU", "36864"),
            Some("32768 to 122880 in steps of 8192, not 36864"),
        ),
        (
            "Fargate cpu 300",
            fargate("300", "512"),
            Some("a Fargate task's cpu is 256, 512, 1024, 2048, 4096, 8192 or 16384 CPU units"),
        ),
        (
            "Fargate without cpu",
            with(fargate("256", "512"), json!({"cpu": null})),
            Some("requiresCompatibilities includes FARGATE, which needs task-level cpu and memory"),
        ),
        (
            "memory in Kubernetes units",
            fargate("256", "1Gi"),
            Some("memory is a number of MiB (\"2048\") or of GB (\"2 GB\")"),
        ),
        // Fargate networking.
        (
            "Fargate with bridge networking",
            with(fargate("256", "512"), json!({"networkMode": "bridge"})),
            Some(
                "requiresCompatibilities includes FARGATE, which only runs awsvpc tasks: set networkMode: awsvpc",
            ),
        ),
        (
            "Fargate with host networking",
            with(fargate("256", "512"), json!({"networkMode": "host"})),
            Some("set networkMode: awsvpc"),
        ),
        (
            "Fargate without networkMode",
            with(fargate("256", "512"), json!({"networkMode": null})),
            Some("set networkMode: awsvpc"),
        ),
        (
            "Fargate and EC2, 2 vCPU/4 GB",
            with(
                fargate("2 vCPU", "4 GB"),
                json!({"requiresCompatibilities": ["EC2", "FARGATE"]}),
            ),
            None,
        ),
        (
            "EC2 bridge without task size",
            json!({
                "requiresCompatibilities": ["EC2"],
                "networkMode": "bridge",
                "containerDefinitions": [container("web", json!([{"containerPort": 80, "hostPort": 0}]))],
            }),
            None,
        ),
        // Container count and names.
        ("ten containers", containers(ten), None),
        (
            "eleven containers",
            containers(eleven),
            Some("spec.containerDefinitions: Too many: 11: must have at most 10 items"),
        ),
        (
            "no container",
            containers(vec![]),
            Some("containerDefinitions needs at least one container"),
        ),
        (
            "duplicate container names",
            containers(vec![
                container("web", json!([])),
                container("web", json!([])),
            ]),
            Some("spec.containerDefinitions[1]: Duplicate value"),
        ),
        // Port/protocol pairs.
        (
            "same port twice in one container (protocol defaults to tcp)",
            containers(vec![container(
                "web",
                json!([{"containerPort": 8080}, {"containerPort": 8080, "protocol": "tcp"}]),
            )]),
            Some(
                "container web maps a containerPort/protocol pair that is mapped again in the task",
            ),
        ),
        (
            "same port in two containers",
            containers(vec![
                container("web", json!([{"containerPort": 8080}])),
                container(
                    "side",
                    json!([{"containerPort": 9000}, {"containerPort": 8080}]),
                ),
            ]),
            Some("container side maps a containerPort/protocol pair that is mapped again"),
        ),
        (
            "the tenth container clashes with the first",
            containers(ten_clashing),
            Some("container c9 maps a containerPort/protocol pair that is mapped again"),
        ),
        (
            "tcp and udp on the same port, one container",
            containers(vec![container(
                "dns",
                json!([{"containerPort": 53, "protocol": "udp"}, {"containerPort": 53, "protocol": "tcp"}]),
            )]),
            None,
        ),
        (
            "tcp and udp on the same port, two containers",
            containers(vec![
                container("web", json!([{"containerPort": 53, "protocol": "udp"}])),
                container("side", json!([{"containerPort": 53}])),
            ]),
            None,
        ),
        // What RegisterTaskDefinition refuses, named by container.
        (
            "awsvpc, hostPort 80 for containerPort 8080",
            fargate_with(vec![
                container("web", json!([{"containerPort": 8080, "hostPort": 8080}])),
                container("side", json!([{"containerPort": 8080, "hostPort": 80}])),
            ]),
            Some(
                "container side maps a hostPort to a different containerPort: with networkMode awsvpc each hostPort must equal its containerPort",
            ),
        ),
        (
            "awsvpc, hostPort equal to containerPort or left out",
            fargate_with(vec![container(
                "web",
                json!([{"containerPort": 8080, "hostPort": 8080}, {"containerPort": 9090}]),
            )]),
            None,
        ),
        (
            "bridge, hostPort 80 for containerPort 8080",
            ec2(vec![container(
                "web",
                json!([{"containerPort": 8080, "hostPort": 80}]),
            )]),
            None,
        ),
        (
            "no task memory, a container without memory or memoryReservation",
            ec2(vec![
                container("web", json!([])),
                container_with("side", json!({"memory": null})),
            ]),
            Some(
                "container side sets neither memory nor memoryReservation, and the task sets no memory: set one of them",
            ),
        ),
        (
            "no task memory, a container with only memoryReservation",
            ec2(vec![container_with(
                "web",
                json!({"memory": null, "memoryReservation": 128}),
            )]),
            None,
        ),
        (
            "task memory, containers without memory",
            fargate_with(vec![container_with("web", json!({"memory": null}))]),
            None,
        ),
        (
            "memoryReservation above memory",
            ec2(vec![container_with(
                "web",
                json!({"memory": 256, "memoryReservation": 512}),
            )]),
            Some(
                "container web reserves more memory (memoryReservation) than its limit (memory): memoryReservation must not exceed memory",
            ),
        ),
        (
            "memoryReservation equal to memory",
            ec2(vec![container_with(
                "web",
                json!({"memory": 256, "memoryReservation": 256}),
            )]),
            None,
        ),
        (
            "healthCheck at its bounds",
            ec2(vec![container_with(
                "web",
                json!({"healthCheck": {"command": ["CMD", "true"], "interval": 300, "timeout": 2, "retries": 10, "startPeriod": 0}}),
            )]),
            None,
        ),
        (
            "healthCheck interval 4",
            ec2(vec![container_with(
                "web",
                json!({"healthCheck": {"command": ["CMD", "true"], "interval": 4}}),
            )]),
            Some("container web has a healthCheck.interval ECS refuses: it accepts 5 to 300"),
        ),
        (
            "healthCheck timeout 61",
            ec2(vec![container_with(
                "web",
                json!({"healthCheck": {"command": ["CMD", "true"], "timeout": 61}}),
            )]),
            Some("container web has a healthCheck.timeout ECS refuses: it accepts 2 to 60"),
        ),
        (
            "healthCheck retries 0",
            ec2(vec![container_with(
                "web",
                json!({"healthCheck": {"command": ["CMD", "true"], "retries": 0}}),
            )]),
            Some("container web has a healthCheck.retries ECS refuses: it accepts 1 to 10"),
        ),
        (
            "healthCheck startPeriod 301",
            ec2(vec![container_with(
                "web",
                json!({"healthCheck": {"command": ["CMD", "true"], "startPeriod": 301}}),
            )]),
            Some("container web has a healthCheck.startPeriod ECS refuses: it accepts 0 to 300"),
        ),
        (
            "a log driver ECS does not know",
            ec2(vec![container_with(
                "web",
                json!({"logConfiguration": {"logDriver": "loki"}}),
            )]),
            Some(
                "container web uses the log driver loki, which ECS does not know: use one of awslogs, awsfirelens, fluentd, gelf, journald, json-file, logentries, splunk, syslog",
            ),
        ),
        (
            "a log driver Fargate does not take",
            fargate_with(vec![container_with(
                "web",
                json!({"logConfiguration": {"logDriver": "fluentd"}}),
            )]),
            Some(
                "container web uses a log driver Fargate does not take: use awslogs, splunk, awsfirelens",
            ),
        ),
        (
            "privileged on Fargate",
            fargate_with(vec![container_with("web", json!({"privileged": true}))]),
            Some(
                "container web is privileged, which Fargate does not allow: remove privileged, or FARGATE from requiresCompatibilities",
            ),
        ),
        (
            "privileged on EC2",
            ec2(vec![container_with("web", json!({"privileged": true}))]),
            None,
        ),
        (
            "awslogs on Fargate without executionRoleArn",
            fargate_with(vec![container_with(
                "web",
                json!({"logConfiguration": {"logDriver": "awslogs"}}),
            )]),
            Some(
                "container web logs with awslogs, which on Fargate needs an executionRoleArn: set one that may write to CloudWatch Logs",
            ),
        ),
        (
            "awslogs on Fargate with executionRoleArn",
            with(
                fargate_with(vec![container_with(
                    "web",
                    json!({"logConfiguration": {"logDriver": "awslogs"}}),
                )]),
                json!({"executionRoleArn": "arn:aws:iam::123456789012:role/ecsTaskExecutionRole"}),
            ),
            None,
        ),
        (
            "no essential container",
            ec2(vec![
                container_with("web", json!({"essential": false})),
                container_with("side", json!({"essential": false})),
            ]),
            Some(
                "no container is essential, and ECS needs at least one: set essential: true on the main container (it defaults to true)",
            ),
        ),
        (
            "essential left to its default",
            ec2(vec![
                container("web", json!([])),
                container_with("side", json!({"essential": false})),
            ]),
            None,
        ),
        // Tags.
        (
            "reserved tag key",
            with(
                fargate("256", "512"),
                json!({"tags": [{"key": "ecs.operator.dev/owner", "value": "someone/else"}]}),
            ),
            Some(
                "tag keys starting with ecs.operator.dev/ are reserved for the operator's ownership tags",
            ),
        ),
        (
            "ordinary tag key",
            with(
                fargate("256", "512"),
                json!({"tags": [{"key": "team", "value": "web"}]}),
            ),
            None,
        ),
    ]
}

#[tokio::test]
async fn task_definition_create() {
    let (client, ns) = setup("adm-td").await;
    check_creates::<EcsTaskDefinition>(
        &client,
        &ns,
        "EcsTaskDefinition create",
        task_definition_cases(),
    )
    .await;
    cleanup(&client, &ns).await;
}

#[tokio::test]
async fn task_definition_immutable_fields() {
    let (client, ns) = setup("adm-td-upd").await;
    let named = with(
        fargate("256", "512"),
        json!({"family": "web-family", "region": "us-east-1"}),
    );
    check_updates::<EcsTaskDefinition>(
        &client,
        &ns,
        "EcsTaskDefinition update, family and region set",
        named,
        vec![
            (
                "family changed",
                json!({"family": "other"}),
                Some("spec.family: Invalid value: spec.family is immutable: ECS cannot rename a task definition family; create a new EcsTaskDefinition instead"),
            ),
            (
                "family removed",
                json!({"family": null}),
                Some("spec.family is immutable"),
            ),
            (
                "region changed",
                json!({"region": "eu-west-1"}),
                Some("spec.region is immutable: a task definition family cannot move between regions"),
            ),
            (
                "region removed",
                json!({"region": null}),
                Some("spec.region is immutable"),
            ),
            (
                "family and region unchanged",
                json!({"family": "web-family", "region": "us-east-1"}),
                None,
            ),
            (
                "task size changed",
                json!({"cpu": "512", "memory": "1024"}),
                None,
            ),
            (
                "image changed",
                json!({"containerDefinitions": [{"name": "web", "image": "nginx:1.28"}]}),
                None,
            ),
        ],
    )
    .await;
    check_updates::<EcsTaskDefinition>(
        &client,
        &ns,
        "EcsTaskDefinition update, family and region defaulted",
        fargate("256", "512"),
        vec![
            (
                "family set to another name",
                json!({"family": "other"}),
                Some("spec.family is immutable"),
            ),
            (
                "family spelled out as metadata.name (the same ECS family)",
                json!({"family": OBJECT_NAME}),
                None,
            ),
            (
                "region set",
                json!({"region": "us-east-1"}),
                Some("spec.region is immutable"),
            ),
        ],
    )
    .await;
    cleanup(&client, &ns).await;
}

// --- EcsCluster ------------------------------------------------------------------------------------

fn strategy(items: Value) -> Value {
    json!({
        "capacityProviders": ["FARGATE", "FARGATE_SPOT"],
        "defaultCapacityProviderStrategy": items,
    })
}

#[tokio::test]
async fn cluster_create() {
    let (client, ns) = setup("adm-cluster").await;
    let setting = |name: &str, value: &str| json!({"settings": [{"name": name, "value": value}]});
    check_creates::<EcsCluster>(
        &client,
        &ns,
        "EcsCluster create",
        vec![
            ("empty spec", json!({}), None),
            ("containerInsights enabled", setting("containerInsights", "enabled"), None),
            ("containerInsights enhanced", setting("containerInsights", "enhanced"), None),
            ("containerInsights disabled", setting("containerInsights", "disabled"), None),
            (
                "containerInsights on",
                setting("containerInsights", "on"),
                Some("spec.settings[0].value: Unsupported value: \"on\": supported values: \"enabled\", \"enhanced\", \"disabled\""),
            ),
            (
                "unknown setting",
                setting("containerInsight", "enabled"),
                Some("spec.settings[0].name: Unsupported value: \"containerInsight\""),
            ),
            (
                "weights 0 and 1000, base 100000",
                strategy(json!([
                    {"capacityProvider": "FARGATE", "weight": 0, "base": 100000},
                    {"capacityProvider": "FARGATE_SPOT", "weight": 1000},
                ])),
                None,
            ),
            (
                "weight 1001",
                strategy(json!([{"capacityProvider": "FARGATE", "weight": 1001}])),
                Some("weight is between 0 and 1000"),
            ),
            (
                "weight -1",
                strategy(json!([{"capacityProvider": "FARGATE", "weight": -1}])),
                Some("weight is between 0 and 1000"),
            ),
            (
                "two capacity providers with a base",
                strategy(json!([
                    {"capacityProvider": "FARGATE", "weight": 1, "base": 1},
                    {"capacityProvider": "FARGATE_SPOT", "weight": 1, "base": 2},
                ])),
                Some("only one defaultCapacityProviderStrategy entry may set a base greater than 0"),
            ),
            (
                "base 100001",
                strategy(json!([{"capacityProvider": "FARGATE", "base": 100001}])),
                Some("base is between 0 and 100000"),
            ),
            (
                "reserved tag key",
                json!({"tags": [{"key": "ecs.operator.dev/uid", "value": "x"}]}),
                Some("tag keys starting with ecs.operator.dev/ are reserved"),
            ),
            (
                "clusterName with a space",
                json!({"clusterName": "my cluster"}),
                Some("clusterName may contain up to 255 letters, digits, hyphens and underscores"),
            ),
        ],
    )
    .await;
    cleanup(&client, &ns).await;
}

#[tokio::test]
async fn cluster_immutable_fields() {
    let (client, ns) = setup("adm-cluster-upd").await;
    check_updates::<EcsCluster>(
        &client,
        &ns,
        "EcsCluster update, clusterName and region set",
        json!({"clusterName": "apps-prod", "region": "us-east-1"}),
        vec![
            (
                "clusterName changed",
                json!({"clusterName": "apps-staging"}),
                Some("spec.clusterName: Invalid value: spec.clusterName is immutable: ECS cannot rename a cluster; create a new EcsCluster instead"),
            ),
            (
                "clusterName removed",
                json!({"clusterName": null}),
                Some("spec.clusterName is immutable"),
            ),
            (
                "region changed",
                json!({"region": "eu-west-1"}),
                Some("spec.region: Invalid value: spec.region is immutable: an ECS cluster cannot move between regions"),
            ),
            (
                "region removed",
                json!({"region": null}),
                Some("spec.region is immutable"),
            ),
            (
                "settings and tags changed",
                json!({
                    "settings": [{"name": "containerInsights", "value": "enhanced"}],
                    "tags": [{"key": "team", "value": "platform"}],
                }),
                None,
            ),
        ],
    )
    .await;
    check_updates::<EcsCluster>(
        &client,
        &ns,
        "EcsCluster update, clusterName and region defaulted",
        json!({}),
        vec![
            (
                "clusterName set to another name",
                json!({"clusterName": "other"}),
                Some("spec.clusterName is immutable"),
            ),
            (
                "clusterName spelled out as metadata.name (the same ECS cluster)",
                json!({"clusterName": OBJECT_NAME}),
                None,
            ),
            (
                "region set",
                json!({"region": "us-east-1"}),
                Some("spec.region is immutable"),
            ),
        ],
    )
    .await;
    cleanup(&client, &ns).await;
}

// --- EcsCapacityProvider --------------------------------------------------------------------------

fn asg_provider() -> Value {
    json!({"autoScalingGroupProvider": {
        "autoScalingGroupArn": "arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:1:autoScalingGroupName/web",
        "managedScaling": {"status": "ENABLED", "targetCapacity": 90},
        "managedTerminationProtection": "DISABLED"
    }})
}

fn managed_instances_provider() -> Value {
    json!({"cluster": "apps", "managedInstancesProvider": {
        "infrastructureRoleArn": "arn:aws:iam::123456789012:role/ecsInfrastructureRole",
        "instanceLaunchTemplate": {
            "ec2InstanceProfileArn": "arn:aws:iam::123456789012:instance-profile/ecsInstanceRole",
            "networkConfiguration": {"subnets": ["subnet-1"]},
            "capacityOptionType": "SPOT",
            "instanceRequirements": {"vCpuCount": {"min": 2, "max": 8}, "memoryMiB": {"min": 4096}}
        },
        "propagateTags": "CAPACITY_PROVIDER"
    }})
}

#[tokio::test]
async fn capacity_provider_create() {
    let (client, ns) = setup("adm-cp").await;
    let mut both = asg_provider();
    both.as_object_mut()
        .unwrap()
        .extend(managed_instances_provider().as_object().unwrap().clone());
    check_creates::<EcsCapacityProvider>(
        &client,
        &ns,
        "EcsCapacityProvider create",
        vec![
            ("an Auto Scaling group provider", asg_provider(), None),
            ("a Managed Instances provider", managed_instances_provider(), None),
            (
                "neither kind",
                json!({"tags": []}),
                Some("set exactly one of spec.autoScalingGroupProvider and spec.managedInstancesProvider"),
            ),
            ("both kinds", both, Some("set exactly one of")),
            (
                "Managed Instances without a cluster",
                with(managed_instances_provider(), json!({"cluster": null})),
                Some("spec.cluster is required with managedInstancesProvider"),
            ),
            (
                "an Auto Scaling group provider with a cluster",
                with(asg_provider(), json!({"cluster": "apps"})),
                Some("spec.cluster is only for managedInstancesProvider"),
            ),
            (
                "a name ECS reserves",
                with(asg_provider(), json!({"name": "ecs-web"})),
                Some("cannot start with aws, ecs or fargate"),
            ),
            (
                "targetCapacity over 100",
                json!({"autoScalingGroupProvider": {"autoScalingGroupArn": "web", "managedScaling": {"targetCapacity": 101}}}),
                Some("100"),
            ),
            (
                "minimum step above maximum",
                json!({"autoScalingGroupProvider": {"autoScalingGroupArn": "web", "managedScaling": {"minimumScalingStepSize": 5, "maximumScalingStepSize": 2}}}),
                Some("minimumScalingStepSize cannot exceed maximumScalingStepSize"),
            ),
            (
                "managedDraining not ENABLED or DISABLED",
                json!({"autoScalingGroupProvider": {"autoScalingGroupArn": "web", "managedDraining": "ON"}}),
                Some("supported values: \"ENABLED\", \"DISABLED\""),
            ),
        ],
    )
    .await;
    cleanup(&client, &ns).await;
}

#[tokio::test]
async fn capacity_provider_immutable_fields() {
    let (client, ns) = setup("adm-cp-upd").await;
    check_updates::<EcsCapacityProvider>(
        &client,
        &ns,
        "EcsCapacityProvider update, Auto Scaling group",
        asg_provider(),
        vec![
            (
                "managed scaling, termination protection and draining changed (UpdateCapacityProvider)",
                json!({"autoScalingGroupProvider": {"managedScaling": {"targetCapacity": 75}, "managedTerminationProtection": "ENABLED", "managedDraining": "ENABLED"}}),
                None,
            ),
            (
                "autoScalingGroupArn changed",
                json!({"autoScalingGroupProvider": {"autoScalingGroupArn": "other"}}),
                Some("autoScalingGroupArn is immutable: UpdateCapacityProvider cannot change the Auto Scaling group"),
            ),
            (
                "name changed",
                json!({"name": "other"}),
                Some("spec.name is immutable: ECS cannot rename a capacity provider"),
            ),
            (
                "turned into a Managed Instances provider",
                json!({
                    "autoScalingGroupProvider": null,
                    "managedInstancesProvider": managed_instances_provider()["managedInstancesProvider"]
                }),
                Some("the kind of capacity provider is immutable"),
            ),
        ],
    )
    .await;
    check_updates::<EcsCapacityProvider>(
        &client,
        &ns,
        "EcsCapacityProvider update, Managed Instances",
        managed_instances_provider(),
        vec![
            (
                "role, network, requirements and tag propagation changed",
                json!({"managedInstancesProvider": {
                    "infrastructureRoleArn": "arn:aws:iam::123456789012:role/other",
                    "instanceLaunchTemplate": {"networkConfiguration": {"subnets": ["subnet-2"]}, "instanceRequirements": {"vCpuCount": {"min": 4}}},
                    "propagateTags": "NONE"
                }}),
                None,
            ),
            (
                "capacityOptionType changed",
                json!({"managedInstancesProvider": {"instanceLaunchTemplate": {"capacityOptionType": "ON_DEMAND"}}}),
                Some("capacityOptionType is immutable"),
            ),
            (
                "cluster changed",
                json!({"cluster": "other"}),
                Some("spec.cluster is immutable: a capacity provider cannot move to another cluster"),
            ),
        ],
    )
    .await;
    cleanup(&client, &ns).await;
}

// --- EcsService ------------------------------------------------------------------------------------

fn service() -> Value {
    json!({
        "clusterRef": {"name": "apps"},
        "taskDefinitionRef": {"name": "web"},
        "desiredCount": 2,
        "launchType": "FARGATE",
        "networkConfiguration": {"awsvpcConfiguration": {"subnets": ["subnet-1"]}},
    })
}

/// `service()` deploying with `deployment` (a deploymentConfiguration), behind a load balancer
/// with an advancedConfiguration.
fn deploying(deployment: Value) -> Value {
    with(
        service(),
        json!({
            "loadBalancers": [{
                "targetGroupArn": "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/blue/1",
                "containerName": "web", "containerPort": 80,
                "advancedConfiguration": {
                    "alternateTargetGroupArn": "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/green/2",
                    "productionListenerRule": "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener-rule/app/web/1/2/3",
                    "roleArn": "arn:aws:iam::123456789012:role/ecs-elb"
                }
            }],
            "deploymentConfiguration": deployment,
        }),
    )
}

fn pause(stages: Value) -> Value {
    json!({"targetType": "PAUSE", "lifecycleStages": stages})
}

fn deployment_cases() -> Vec<Case> {
    let lambda = json!({
        "hookTargetArn": "arn:aws:lambda:us-east-1:123456789012:function:smoke",
        "roleArn": "arn:aws:iam::123456789012:role/hooks",
        "lifecycleStages": ["TEST_TRAFFIC_SHIFT", "POST_TEST_TRAFFIC_SHIFT"],
        "hookDetails": {"path": "/health", "expect": [200, 204]},
    });
    vec![
        (
            "blue/green with a bake time, a Lambda hook and a PAUSE hook",
            deploying(json!({
                "strategy": "BLUE_GREEN", "bakeTimeInMinutes": 10,
                "lifecycleHooks": [lambda, pause(json!(["POST_TEST_TRAFFIC_SHIFT"]))],
            })),
            None,
        ),
        (
            "linear in 10% steps",
            deploying(
                json!({"strategy": "LINEAR", "linearConfiguration": {"stepPercent": 10.0, "stepBakeTimeInMinutes": 2}}),
            ),
            None,
        ),
        (
            "canary of 5%",
            deploying(
                json!({"strategy": "CANARY", "canaryConfiguration": {"canaryPercent": 5.0, "canaryBakeTimeInMinutes": 10}}),
            ),
            None,
        ),
        (
            "circuit breaker with BLUE_GREEN",
            deploying(
                json!({"strategy": "BLUE_GREEN", "deploymentCircuitBreaker": {"enable": true, "rollback": true}}),
            ),
            None,
        ),
        (
            "circuit breaker with LINEAR",
            deploying(
                json!({"strategy": "LINEAR", "deploymentCircuitBreaker": {"enable": true, "rollback": true}}),
            ),
            Some("the deployment circuit breaker works only with strategy ROLLING or BLUE_GREEN"),
        ),
        (
            "circuit breaker with CANARY",
            deploying(
                json!({"strategy": "CANARY", "deploymentCircuitBreaker": {"enable": true, "rollback": false}}),
            ),
            Some("the deployment circuit breaker works only with strategy ROLLING or BLUE_GREEN"),
        ),
        (
            "circuit breaker turned off with LINEAR",
            deploying(
                json!({"strategy": "LINEAR", "deploymentCircuitBreaker": {"enable": false, "rollback": false}}),
            ),
            None,
        ),
        (
            "PAUSE at TEST_TRAFFIC_SHIFT",
            deploying(
                json!({"strategy": "BLUE_GREEN", "lifecycleHooks": [pause(json!(["TEST_TRAFFIC_SHIFT"]))]}),
            ),
            Some("a PAUSE hook cannot run at TEST_TRAFFIC_SHIFT or PRODUCTION_TRAFFIC_SHIFT"),
        ),
        (
            "PAUSE at PRODUCTION_TRAFFIC_SHIFT",
            deploying(
                json!({"strategy": "LINEAR", "lifecycleHooks": [pause(json!(["PRODUCTION_TRAFFIC_SHIFT"]))]}),
            ),
            Some("a PAUSE hook cannot run at TEST_TRAFFIC_SHIFT or PRODUCTION_TRAFFIC_SHIFT"),
        ),
        (
            "11 PAUSE hooks",
            deploying(json!({"strategy": "BLUE_GREEN",
                "lifecycleHooks": vec![pause(json!(["POST_SCALE_UP"])); 11]})),
            Some("ECS allows at most 10 PAUSE lifecycle hooks per service"),
        ),
        (
            "11 Lambda hooks",
            deploying(
                json!({"strategy": "BLUE_GREEN", "lifecycleHooks": vec![lambda.clone(); 11]}),
            ),
            Some("ECS allows at most 10 AWS_LAMBDA lifecycle hooks per service"),
        ),
        (
            "a Lambda hook without its role",
            deploying(json!({"strategy": "BLUE_GREEN", "lifecycleHooks": [{
                "hookTargetArn": "arn:aws:lambda:us-east-1:123456789012:function:smoke",
                "lifecycleStages": ["POST_SCALE_UP"]}]})),
            Some("an AWS_LAMBDA hook needs hookTargetArn (the Lambda function) and roleArn"),
        ),
        (
            "a hook at no stage",
            deploying(json!({"strategy": "BLUE_GREEN", "lifecycleHooks": [pause(json!([]))]})),
            Some("lifecycleStages"),
        ),
        (
            "linear step of 2%",
            deploying(json!({"strategy": "LINEAR", "linearConfiguration": {"stepPercent": 2.0}})),
            Some("linearConfiguration.stepPercent is a multiple of 0.1 between 3.0 and 100.0"),
        ),
        (
            "linear step of 3.05%",
            deploying(json!({"strategy": "LINEAR", "linearConfiguration": {"stepPercent": 3.05}})),
            Some("linearConfiguration.stepPercent is a multiple of 0.1 between 3.0 and 100.0"),
        ),
        (
            "linear step of 3.1%",
            deploying(json!({"strategy": "LINEAR", "linearConfiguration": {"stepPercent": 3.1}})),
            None,
        ),
        (
            "canary of 0.3%",
            deploying(json!({"strategy": "CANARY", "canaryConfiguration": {"canaryPercent": 0.3}})),
            None,
        ),
        (
            "a pause of 15 days",
            deploying(
                json!({"strategy": "BLUE_GREEN", "lifecycleHooks": [{"targetType": "PAUSE",
                "lifecycleStages": ["POST_SCALE_UP"], "timeoutConfiguration": {"timeoutInMinutes": 21600}}]}),
            ),
            Some("timeoutInMinutes is between 1 and 20160 (14 days)"),
        ),
        (
            "canary of 0%",
            deploying(json!({"strategy": "CANARY", "canaryConfiguration": {"canaryPercent": 0.0}})),
            Some("canaryConfiguration.canaryPercent is a multiple of 0.1 between 0.1 and 100.0"),
        ),
        (
            "linearConfiguration on a CANARY deployment",
            deploying(json!({"strategy": "CANARY", "linearConfiguration": {"stepPercent": 10.0}})),
            Some("linearConfiguration applies only to strategy LINEAR"),
        ),
        (
            "bake time of two days",
            deploying(json!({"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 2880})),
            Some("bakeTimeInMinutes is between 0 and 1440"),
        ),
        (
            "blue/green without an alternate target group",
            with(
                service(),
                json!({"loadBalancers": [{"targetGroupArn": "arn:tg", "containerName": "web", "containerPort": 80}],
                       "deploymentConfiguration": {"strategy": "BLUE_GREEN"}}),
            ),
            Some(
                "a BLUE_GREEN, LINEAR or CANARY deployment shifts traffic between two target groups",
            ),
        ),
        (
            "blue/green with the CODE_DEPLOY controller",
            with(
                service(),
                json!({"deploymentController": {"type": "CODE_DEPLOY"},
                       "deploymentConfiguration": {"strategy": "BLUE_GREEN"}}),
            ),
            Some("deployment strategies other than ROLLING need the ECS deployment controller"),
        ),
        (
            "an EBS volume, a VPC Lattice target group and Service Connect test traffic",
            with(
                service(),
                json!({
                    "volumeConfigurations": [{"name": "data", "managedEBSVolume": {
                        "roleArn": "arn:aws:iam::123456789012:role/ebs", "sizeInGiB": 20}}],
                    "vpcLatticeConfigurations": [{"roleArn": "arn:aws:iam::123456789012:role/lattice",
                        "targetGroupArn": "arn:aws:vpc-lattice:us-east-1:123456789012:targetgroup/tg-1", "portName": "http"}],
                    "serviceConnectConfiguration": {"enabled": true,
                        "accessLogConfiguration": {"format": "JSON"},
                        "services": [{"portName": "http", "clientAliases": [{"port": 80,
                            "testTrafficRules": {"header": {"name": "x-canary", "value": {"exact": "1"}}}}]}]},
                }),
            ),
            None,
        ),
        (
            "an EBS volume of no size",
            with(
                service(),
                json!({"volumeConfigurations": [{"name": "data", "managedEBSVolume": {
                    "roleArn": "arn:aws:iam::123456789012:role/ebs"}}]}),
            ),
            Some("a managedEBSVolume needs sizeInGiB, or a snapshotId to size it from"),
        ),
    ]
}

#[tokio::test]
async fn service_deployment_create() {
    let (client, ns) = setup("adm-svc-dep").await;
    check_creates::<EcsService>(&client, &ns, "EcsService deployments", deployment_cases()).await;
    cleanup(&client, &ns).await;
}

#[tokio::test]
async fn service_capacity_provider_strategy_stays() {
    let (client, ns) = setup("adm-svc-cps").await;
    check_updates::<EcsService>(
        &client,
        &ns,
        "EcsService on capacity providers",
        with(
            service(),
            json!({"launchType": null, "capacityProviderStrategy": [{"capacityProvider": "FARGATE", "weight": 1}]}),
        ),
        vec![(
            "capacity provider strategy replaced by a launch type",
            json!({"launchType": "FARGATE", "capacityProviderStrategy": null}),
            Some("ECS can only move a service from a launch type to a capacityProviderStrategy"),
        )],
    )
    .await;
    cleanup(&client, &ns).await;
}

/// A service scaled by Application Auto Scaling: the README's classic example (CPU at 70%,
/// 2 to 10 tasks, cooldowns 300/60), with `autoscaling` fields merged in.
fn autoscaled(autoscaling: Value) -> Value {
    let classic = json!({
        "minCapacity": 2,
        "maxCapacity": 10,
        "targetTracking": [{
            "policyName": "cpu",
            "targetValue": 70,
            "predefinedMetricSpecification": {"predefinedMetricType": "ECSServiceAverageCPUUtilization"},
            "scaleInCooldown": 300,
            "scaleOutCooldown": 60,
        }],
    });
    with(
        service(),
        json!({"desiredCount": null, "autoscaling": with(classic, autoscaling)}),
    )
}

/// `count` target tracking policies on CPU, named cpu-0, cpu-1, ...
fn cpu_policies(count: usize) -> Vec<Value> {
    (0..count)
        .map(|i| json!({"policyName": format!("cpu-{i}"), "targetValue": 50, "predefinedMetricSpecification": {"predefinedMetricType": "ECSServiceAverageCPUUtilization"}}))
        .collect()
}

/// `count` step scaling policies, named step-0, step-1, ...
fn step_policies(count: usize) -> Vec<Value> {
    (0..count)
        .map(|i| json!({"policyName": format!("step-{i}"), "adjustmentType": "ChangeInCapacity", "stepAdjustments": [{"metricIntervalLowerBound": 0, "scalingAdjustment": 1}]}))
        .collect()
}

fn service_cases() -> Vec<Case> {
    let ec2_daemon = with(
        service(),
        json!({"launchType": "EC2", "schedulingStrategy": "DAEMON", "desiredCount": null}),
    );
    let providers = |items: Value| {
        with(
            service(),
            json!({"launchType": null, "capacityProviderStrategy": items}),
        )
    };
    vec![
        ("clusterRef and taskDefinitionRef", service(), None),
        (
            "cluster and taskDefinition not managed here",
            with(
                service(),
                json!({"clusterRef": null, "cluster": "prod", "taskDefinitionRef": null, "taskDefinition": "web:3"}),
            ),
            None,
        ),
        (
            "both clusterRef and cluster",
            with(service(), json!({"cluster": "prod"})),
            Some(
                "set exactly one of spec.clusterRef (an EcsCluster in this namespace) or spec.cluster",
            ),
        ),
        (
            "neither clusterRef nor cluster",
            with(service(), json!({"clusterRef": null})),
            Some("set exactly one of spec.clusterRef"),
        ),
        (
            "both taskDefinitionRef and taskDefinition",
            with(service(), json!({"taskDefinition": "web:3"})),
            Some(
                "set exactly one of spec.taskDefinitionRef (an EcsTaskDefinition in this namespace) or spec.taskDefinition",
            ),
        ),
        (
            "neither taskDefinitionRef nor taskDefinition",
            with(service(), json!({"taskDefinitionRef": null})),
            Some("set exactly one of spec.taskDefinitionRef"),
        ),
        (
            "launchType and capacityProviderStrategy",
            with(
                service(),
                json!({"capacityProviderStrategy": [{"capacityProvider": "FARGATE_SPOT", "weight": 1}]}),
            ),
            Some("ECS accepts either spec.launchType or spec.capacityProviderStrategy, not both"),
        ),
        (
            "capacityProviderStrategy alone",
            providers(json!([
                {"capacityProvider": "FARGATE", "weight": 1, "base": 1},
                {"capacityProvider": "FARGATE_SPOT", "weight": 4},
            ])),
            None,
        ),
        (
            "capacity provider weight 1001",
            providers(json!([{"capacityProvider": "FARGATE", "weight": 1001}])),
            Some("weight is between 0 and 1000"),
        ),
        (
            "capacity provider weight -1",
            providers(json!([{"capacityProvider": "FARGATE", "weight": -1}])),
            Some("weight is between 0 and 1000"),
        ),
        (
            "capacity provider weights 0 and 1000",
            providers(json!([
                {"capacityProvider": "FARGATE", "weight": 0},
                {"capacityProvider": "FARGATE_SPOT", "weight": 1000},
            ])),
            None,
        ),
        (
            "two capacity providers with a base",
            providers(json!([
                {"capacityProvider": "FARGATE", "weight": 1, "base": 1},
                {"capacityProvider": "FARGATE_SPOT", "weight": 1, "base": 2},
            ])),
            Some("only one capacityProviderStrategy entry may set a base greater than 0"),
        ),
        ("EC2 DAEMON without desiredCount", ec2_daemon.clone(), None),
        (
            "DAEMON with desiredCount",
            with(ec2_daemon, json!({"desiredCount": 1})),
            Some("a DAEMON service runs one task per container instance: remove spec.desiredCount"),
        ),
        (
            "Fargate DAEMON",
            with(
                service(),
                json!({"schedulingStrategy": "DAEMON", "desiredCount": null}),
            ),
            Some("Fargate does not run DAEMON services"),
        ),
        (
            "negative desiredCount",
            with(service(), json!({"desiredCount": -1})),
            Some("desiredCount cannot be negative"),
        ),
        (
            "desiredCount 0",
            with(service(), json!({"desiredCount": 0})),
            None,
        ),
        (
            "desiredCount omitted",
            with(service(), json!({"desiredCount": null})),
            None,
        ),
        (
            "the classic target tracking autoscaling without desiredCount",
            autoscaled(json!({})),
            None,
        ),
        (
            "autoscaling next to desiredCount",
            with(autoscaled(json!({})), json!({"desiredCount": 3})),
            Some("spec.desiredCount and spec.autoscaling exclude each other"),
        ),
        (
            "autoscaling minCapacity above maxCapacity",
            autoscaled(json!({"minCapacity": 11})),
            Some("autoscaling.minCapacity cannot be greater than autoscaling.maxCapacity"),
        ),
        (
            "autoscaling negative minCapacity",
            autoscaled(json!({"minCapacity": -1})),
            Some("autoscaling.minCapacity cannot be negative"),
        ),
        (
            "autoscaling of a DAEMON service",
            with(
                with(
                    service(),
                    json!({"launchType": "EC2", "schedulingStrategy": "DAEMON", "desiredCount": null}),
                ),
                json!({"autoscaling": {"minCapacity": 1, "maxCapacity": 2}}),
            ),
            Some("a DAEMON service runs one task per container instance and cannot be scaled"),
        ),
        (
            "51 scaling policies",
            autoscaled(
                json!({"targetTracking": cpu_policies(26), "stepScaling": step_policies(25)}),
            ),
            Some("Application Auto Scaling allows at most 50 scaling policies per scalable target"),
        ),
        (
            "50 scaling policies",
            autoscaled(
                json!({"targetTracking": cpu_policies(25), "stepScaling": step_policies(25)}),
            ),
            None,
        ),
        (
            "201 scheduled actions",
            autoscaled(
                json!({"scheduledActions": (0..201).map(|i| json!({"scheduledActionName": format!("a{i}"), "schedule": "rate(1 day)", "scalableTargetAction": {"minCapacity": 1}})).collect::<Vec<_>>()}),
            ),
            Some("must have at most 200 items"),
        ),
        (
            "a policy name used twice",
            autoscaled(
                json!({"stepScaling": step_policies(1), "targetTracking": [{"policyName": "step-0", "targetValue": 50, "predefinedMetricSpecification": {"predefinedMetricType": "ECSServiceAverageMemoryUtilization"}}]}),
            ),
            Some("policy names of one service must differ"),
        ),
        (
            "targetValue 0",
            autoscaled(
                json!({"targetTracking": [{"policyName": "cpu", "targetValue": 0, "predefinedMetricSpecification": {"predefinedMetricType": "ECSServiceAverageCPUUtilization"}}]}),
            ),
            Some("targetValue must be greater than 0"),
        ),
        (
            "ALBRequestCountPerTarget without a resourceLabel",
            autoscaled(
                json!({"targetTracking": [{"policyName": "req", "targetValue": 1000, "predefinedMetricSpecification": {"predefinedMetricType": "ALBRequestCountPerTarget"}}]}),
            ),
            Some("ALBRequestCountPerTarget needs a resourceLabel"),
        ),
        (
            "ALBRequestCountPerTarget with its resourceLabel",
            autoscaled(
                json!({"targetTracking": [{"policyName": "req", "targetValue": 1000, "predefinedMetricSpecification": {"predefinedMetricType": "ALBRequestCountPerTarget", "resourceLabel": "app/web/50dc6c495c0c9188/targetgroup/web/943f017f100becff"}}]}),
            ),
            None,
        ),
        (
            "a policy with both a predefined and a customized metric",
            autoscaled(
                json!({"targetTracking": [{"policyName": "cpu", "targetValue": 50, "predefinedMetricSpecification": {"predefinedMetricType": "ECSServiceAverageCPUUtilization"}, "customizedMetricSpecification": {"metricName": "Backlog", "namespace": "App", "statistic": "Average"}}]}),
            ),
            Some(
                "names exactly one of predefinedMetricSpecification and customizedMetricSpecification",
            ),
        ),
        (
            "an unknown predefined metric",
            autoscaled(
                json!({"targetTracking": [{"policyName": "cpu", "targetValue": 50, "predefinedMetricSpecification": {"predefinedMetricType": "DynamoDBReadCapacityUtilization"}}]}),
            ),
            Some("Unsupported value: \"DynamoDBReadCapacityUtilization\""),
        ),
        (
            "a scheduled action with a bad schedule",
            autoscaled(
                json!({"scheduledActions": [{"scheduledActionName": "night", "schedule": "0 22 * * *", "scalableTargetAction": {"minCapacity": 1}}]}),
            ),
            Some("schedule is at(yyyy-mm-ddThh:mm:ss), rate(value unit) or cron(fields)"),
        ),
        (
            "a scheduled action name with a slash",
            autoscaled(
                json!({"scheduledActions": [{"scheduledActionName": "a/b", "schedule": "rate(1 day)", "scalableTargetAction": {"minCapacity": 1}}]}),
            ),
            Some("scheduledActionName cannot contain ':', '/' or '|'"),
        ),
        (
            "a scheduled action that sets nothing",
            autoscaled(
                json!({"scheduledActions": [{"scheduledActionName": "night", "schedule": "rate(1 day)", "scalableTargetAction": {}}]}),
            ),
            Some("a scheduled action sets scalableTargetAction.minCapacity, maxCapacity or both"),
        ),
        (
            "a scheduled action with min above max",
            autoscaled(
                json!({"scheduledActions": [{"scheduledActionName": "night", "schedule": "cron(0 22 * * ? *)", "timezone": "Europe/Berlin", "scalableTargetAction": {"minCapacity": 5, "maxCapacity": 1}}]}),
            ),
            Some("scalableTargetAction.minCapacity cannot be greater than its maxCapacity"),
        ),
        (
            "Fargate with a placement constraint",
            with(
                service(),
                json!({"placementConstraints": [{"type": "distinctInstance"}]}),
            ),
            Some("Fargate does not support placementConstraints or placementStrategy"),
        ),
        (
            "reserved tag key",
            with(
                service(),
                json!({"tags": [{"key": "ecs.operator.dev/cluster-id", "value": "x"}]}),
            ),
            Some("tag keys starting with ecs.operator.dev/ are reserved"),
        ),
    ]
}

#[tokio::test]
async fn service_create() {
    let (client, ns) = setup("adm-svc").await;
    check_creates::<EcsService>(&client, &ns, "EcsService create", service_cases()).await;
    cleanup(&client, &ns).await;
}

#[tokio::test]
async fn service_immutable_fields() {
    let (client, ns) = setup("adm-svc-upd").await;
    check_updates::<EcsService>(
        &client,
        &ns,
        "EcsService update",
        with(service(), json!({"region": "us-east-1"})),
        vec![
            (
                "serviceName set to another name",
                json!({"serviceName": "other"}),
                Some("spec.serviceName is immutable: ECS cannot rename a service; create a new EcsService instead"),
            ),
            (
                "serviceName spelled out as metadata.name",
                json!({"serviceName": OBJECT_NAME}),
                None,
            ),
            (
                "clusterRef renamed",
                json!({"clusterRef": {"name": "other"}}),
                Some("spec.cluster and spec.clusterRef are immutable: ECS cannot move a service to another cluster"),
            ),
            (
                "clusterRef replaced by cluster",
                json!({"clusterRef": null, "cluster": "apps"}),
                Some("spec.cluster and spec.clusterRef are immutable"),
            ),
            (
                "region changed",
                json!({"region": "eu-west-1"}),
                Some("spec.region is immutable: an ECS service cannot move between regions"),
            ),
            (
                "region removed",
                json!({"region": null}),
                Some("spec.region is immutable"),
            ),
            (
                "launchType changed",
                json!({"launchType": "EC2"}),
                Some("spec.launchType cannot be set or changed on an existing service (UpdateService has no launchType): ECS can only move a service from a launch type to a capacityProviderStrategy"),
            ),
            (
                "launchType replaced by a capacity provider strategy",
                json!({"launchType": null, "capacityProviderStrategy": [{"capacityProvider": "FARGATE", "weight": 1}]}),
                None,
            ),
            (
                "launchType removed without a capacity provider strategy",
                json!({"launchType": null}),
                Some("spec.launchType cannot be set or changed on an existing service"),
            ),
            (
                "role set after creation",
                json!({"role": "ecsServiceRole"}),
                Some("spec.role is immutable: ECS sets it at creation only"),
            ),
            (
                "schedulingStrategy DAEMON",
                json!({"schedulingStrategy": "DAEMON", "desiredCount": null}),
                Some("spec.schedulingStrategy is immutable: ECS cannot change it in place"),
            ),
            (
                "schedulingStrategy REPLICA spelled out",
                json!({"schedulingStrategy": "REPLICA"}),
                None,
            ),
            (
                "deploymentController CODE_DEPLOY",
                json!({"deploymentController": {"type": "CODE_DEPLOY"}}),
                Some("spec.deploymentController is immutable"),
            ),
            (
                "deploymentController ECS spelled out",
                json!({"deploymentController": {"type": "ECS"}}),
                None,
            ),
            (
                "desiredCount, task definition and tags changed",
                json!({
                    "desiredCount": 5,
                    "taskDefinitionRef": null,
                    "taskDefinition": "web:7",
                    "tags": [{"key": "team", "value": "web"}],
                }),
                None,
            ),
        ],
    )
    .await;
    check_updates::<EcsService>(
        &client,
        &ns,
        "EcsService update, serviceName and cluster set",
        with(
            service(),
            json!({"serviceName": "web-prod", "clusterRef": null, "cluster": "prod"}),
        ),
        vec![
            (
                "serviceName changed",
                json!({"serviceName": "web-staging"}),
                Some("spec.serviceName is immutable"),
            ),
            (
                "serviceName removed",
                json!({"serviceName": null}),
                Some("spec.serviceName is immutable"),
            ),
            (
                "cluster changed",
                json!({"cluster": "staging"}),
                Some("spec.cluster and spec.clusterRef are immutable"),
            ),
            (
                "cluster replaced by clusterRef",
                json!({"cluster": null, "clusterRef": {"name": "prod"}}),
                Some("spec.cluster and spec.clusterRef are immutable"),
            ),
        ],
    )
    .await;
    cleanup(&client, &ns).await;
}

// --- Every kind ----------------------------------------------------------------------------------

/// Values a typed struct cannot hold reach the API server through a DynamicObject.
#[tokio::test]
async fn wrong_types_are_refused_by_the_schema() {
    let (client, ns) = setup("adm-types").await;
    let cases: Vec<(&str, ApiResource, Value, &str)> = vec![
        (
            "task cpu as a number (ECS JSON has a string)",
            ApiResource::erase::<EcsTaskDefinition>(&()),
            with(fargate("256", "512"), json!({"cpu": 256})),
            "spec.cpu: Invalid value: \"integer\": spec.cpu in body must be of type string",
        ),
        (
            "desiredCount as a string",
            ApiResource::erase::<EcsService>(&()),
            with(service(), json!({"desiredCount": "two"})),
            "spec.desiredCount in body must be of type integer",
        ),
        (
            "capacity provider weight as a string",
            ApiResource::erase::<EcsCluster>(&()),
            strategy(json!([{"capacityProvider": "FARGATE", "weight": "1"}])),
            "must be of type integer",
        ),
    ];
    let total = cases.len();
    let mut failures = Vec::new();
    for (index, (what, resource, spec, expect)) in cases.into_iter().enumerate() {
        let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), &ns, &resource);
        let mut object = DynamicObject::new(&format!("t{index}"), &resource);
        object.data = json!({"spec": spec});
        let result = api.create(&PostParams::default(), &object).await;
        if let Err(failure) = verdict(what, result, Some(expect)) {
            failures.push(failure);
        }
    }
    report("wrong types", total, failures);
    cleanup(&client, &ns).await;
}

/// Definitions as tools export them reach the API server untouched (a typed struct would drop
/// their empty strings): accepted, and stored as written; an empty enum counts as unset in the
/// rules too.
#[tokio::test]
async fn exported_definitions_are_accepted_as_written() {
    let (client, ns) = setup("adm-paste").await;
    let fixture = support::repo_root().join("tests/fixtures/describe-task-definition.json");
    let described: Value = serde_json::from_str(&std::fs::read_to_string(&fixture).unwrap())
        .expect("the fixture is JSON");
    let pasted = described["taskDefinition"].clone();
    let task_definitions = ApiResource::erase::<EcsTaskDefinition>(&());
    let services = ApiResource::erase::<EcsService>(&());
    let cases: Vec<(&str, &ApiResource, Value, Option<&str>)> = vec![
        (
            "aws ecs describe-task-definition output under spec",
            &task_definitions,
            pasted.clone(),
            None,
        ),
        (
            "registeredAt as epoch seconds (API, CLI v1)",
            &task_definitions,
            with(
                pasted.clone(),
                json!({"registeredAt": 1760434371.604, "deregisteredAt": 1760434400.0, "status": "INACTIVE"}),
            ),
            None,
        ),
        (
            "empty strings for unset enums (Go-based exporters)",
            &task_definitions,
            with(
                fargate_with(vec![container_with(
                    "web",
                    json!({"versionConsistency": "", "portMappings": [{"containerPort": 8080, "protocol": "", "appProtocol": ""}]}),
                )]),
                json!({"ipcMode": "", "pidMode": "", "runtimePlatform": {"cpuArchitecture": "", "operatingSystemFamily": ""}}),
            ),
            None,
        ),
        (
            "null for absent fields",
            &task_definitions,
            // Written out: `with` would drop the nulls.
            json!({
                "requiresCompatibilities": ["EC2"], "volumes": null, "cpu": null, "ipcMode": null,
                "containerDefinitions": [{
                    "name": "web", "image": "nginx", "memory": 256, "essential": null,
                    "portMappings": null, "environment": null, "healthCheck": null
                }]
            }),
            None,
        ),
        (
            "a service with empty enums and a capacity provider strategy",
            &services,
            with(
                service(),
                json!({"launchType": "", "schedulingStrategy": "", "propagateTags": "",
                       "capacityProviderStrategy": [{"capacityProvider": "FARGATE", "weight": 1}],
                       "networkConfiguration": {"awsvpcConfiguration": {"subnets": ["subnet-1"], "assignPublicIp": ""}}}),
            ),
            None,
        ),
        (
            "a port mapped twice, once with an empty protocol (tcp)",
            &task_definitions,
            ec2(vec![container(
                "web",
                json!([{"containerPort": 8080, "protocol": "tcp"}, {"containerPort": 8080, "protocol": ""}]),
            )]),
            Some(
                "container web maps a containerPort/protocol pair that is mapped again in the task",
            ),
        ),
    ];
    let total = cases.len();
    let mut failures = Vec::new();
    for (index, (what, resource, spec, expect)) in cases.into_iter().enumerate() {
        let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), &ns, resource);
        let mut object = DynamicObject::new(&format!("e{index}"), resource);
        object.data = json!({"spec": spec});
        if let Err(failure) = verdict(
            what,
            api.create(&PostParams::default(), &object).await,
            expect,
        ) {
            failures.push(failure);
        }
    }
    report("exported definitions", total, failures);

    // Stored as pasted (not pruned), and read by the operator without the output-only fields.
    let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), &ns, &task_definitions);
    let stored = api.get("e0").await.unwrap();
    assert_eq!(stored.data["spec"]["registeredBy"], pasted["registeredBy"]);
    assert_eq!(stored.data["spec"]["revision"], json!(14));
    let typed: EcsTaskDefinition = Api::namespaced(client.clone(), &ns)
        .get("e0")
        .await
        .unwrap();
    assert_eq!(typed.spec.output_only_fields(), OUTPUT_ONLY_FIELDS[..7]);
    // Nullable fields keep their null in storage; the operator reads null as absent.
    let stored = api.get("e3").await.unwrap();
    let container = &stored.data["spec"]["containerDefinitions"][0];
    assert_eq!(
        container.get("essential"),
        Some(&Value::Null),
        "{container}"
    );
    let typed: EcsTaskDefinition = Api::namespaced(client.clone(), &ns)
        .get("e3")
        .await
        .unwrap();
    assert_eq!(typed.spec.container_definitions[0].essential, None);

    // An empty launchType is no launchType: removing it is no change of an immutable field.
    let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), &ns, &services);
    let patch =
        Patch::Merge(json!({"spec": {"launchType": null, "schedulingStrategy": "REPLICA"}}));
    if let Err(failure) = verdict(
        "launchType \"\" removed, schedulingStrategy \"\" spelled REPLICA",
        api.patch("e4", &PatchParams::default(), &patch).await,
        None,
    ) {
        panic!("{failure}");
    }
    cleanup(&client, &ns).await;
}

/// Every manifest in examples/ is accepted as it is written (and reads into its typed kind).
#[tokio::test]
async fn examples_are_accepted() {
    let (client, ns) = setup("adm-examples").await;
    let dir = support::repo_root().join("examples");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| {
            path.extension()
                .is_some_and(|ext| ext == "yaml" || ext == "yml")
        })
        .collect();
    files.sort();
    let mut kinds = std::collections::BTreeSet::new();
    let mut failures = Vec::new();
    let mut total = 0;
    for file in &files {
        let text = std::fs::read_to_string(file).expect("example is readable");
        for document in serde_yaml::Deserializer::from_str(&text) {
            let value = Value::deserialize(document)
                .unwrap_or_else(|e| panic!("{} is not valid YAML: {e}", file.display()));
            if value.is_null() {
                continue;
            }
            total += 1;
            let kind = value["kind"].as_str().unwrap_or_default().to_owned();
            let what = format!("{} {}", file.display(), value["metadata"]["name"]);
            let resource = match kind.as_str() {
                "EcsCluster" => typed_resource::<EcsCluster>(&value),
                "EcsTaskDefinition" => typed_resource::<EcsTaskDefinition>(&value),
                "EcsService" => typed_resource::<EcsService>(&value),
                "EcsTask" => typed_resource::<EcsTask>(&value),
                "EcsScheduledTask" => typed_resource::<EcsScheduledTask>(&value),
                "EcsCapacityProvider" => typed_resource::<EcsCapacityProvider>(&value),
                other => panic!("{what}: unexpected kind {other:?}"),
            };
            let resource = match resource {
                Ok(resource) => resource,
                Err(e) => {
                    failures.push(format!("{what}: does not read into {kind}: {e}"));
                    continue;
                }
            };
            kinds.insert(kind);
            let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), &ns, &resource);
            let object: DynamicObject =
                serde_json::from_value(value).expect("a manifest is a DynamicObject");
            if let Err(failure) = verdict(
                &what,
                api.create(&PostParams::default(), &object).await,
                None,
            ) {
                failures.push(failure);
            }
        }
    }
    report("examples", total, failures);
    assert_eq!(
        kinds.into_iter().collect::<Vec<_>>(),
        [
            "EcsCapacityProvider",
            "EcsCluster",
            "EcsScheduledTask",
            "EcsService",
            "EcsTask",
            "EcsTaskDefinition"
        ],
        "the examples show every kind"
    );
    cleanup(&client, &ns).await;
}

/// The ApiResource of `K`, once `value` has proven to read into `K`.
fn typed_resource<K>(value: &Value) -> Result<ApiResource, serde_json::Error>
where
    K: Resource<DynamicType = ()> + DeserializeOwned,
{
    serde_json::from_value::<K>(value.clone())?;
    Ok(ApiResource::erase::<K>(&()))
}

/// Two appliers own different environment variables of the same container and the API server
/// merges them (containers and environment are list-maps keyed by name); reordering containers
/// is no conflict, while taking over another applier's value is.
#[tokio::test]
async fn server_side_apply_merges_keyed_lists() {
    let (client, ns) = setup("adm-ssa").await;
    let api: Api<EcsTaskDefinition> = Api::namespaced(client.clone(), &ns);
    let manifest = |spec: Value| {
        json!({
            "apiVersion": "ecs.operator.dev/v1alpha1",
            "kind": "EcsTaskDefinition",
            "metadata": {"name": "shared"},
            "spec": spec,
        })
    };
    let apply = |manager: &'static str, spec: Value| {
        let api = api.clone();
        let body = manifest(spec);
        async move {
            api.patch("shared", &PatchParams::apply(manager), &Patch::Apply(&body))
                .await
        }
    };
    let web = |env: Value| json!({"name": "web", "image": "nginx:1.27", "environment": env});
    let log = json!({"name": "log", "image": "fluent-bit:3"});
    let env_of = |td: &EcsTaskDefinition, container: &str| -> Vec<(String, Option<String>)> {
        td.spec
            .container_definitions
            .iter()
            .find(|c| c.name == container)
            .unwrap_or_else(|| panic!("container {container} is gone"))
            .environment
            .iter()
            .map(|e| (e.name.clone(), e.value.clone()))
            .collect()
    };
    let pair = |name: &str, value: &str| (name.to_owned(), Some(value.to_owned()));

    // The team owning the task definition applies it with one variable.
    let base = |a: &str, order_log_first: bool| {
        let mut list = vec![web(json!([{"name": "A", "value": a}])), log.clone()];
        if order_log_first {
            list.reverse();
        }
        fargate_with_containers(list)
    };
    apply("team-a", base("1", false))
        .await
        .expect("team-a creates the task definition");

    // A second applier adds its own variable to the same container, without force.
    let td = apply(
        "team-b",
        json!({"containerDefinitions": [{"name": "web", "environment": [{"name": "B", "value": "2"}]}]}),
    )
    .await
    .expect("team-b owns another entry of the same list: no conflict");
    assert_eq!(env_of(&td, "web"), [pair("A", "1"), pair("B", "2")]);

    // The first applier reorders the containers and changes its own variable: no conflict, and the
    // second applier's variable stays.
    let td = apply("team-a", base("3", true))
        .await
        .expect("reordering containers is no conflict");
    let mut env = env_of(&td, "web");
    env.sort();
    assert_eq!(env, [pair("A", "3"), pair("B", "2")]);
    assert_eq!(td.spec.container_definitions.len(), 2);

    // A third applier states the same containers in yet another order: shared ownership, no
    // conflict (an atomic list in another order would be a different value).
    apply(
        "team-c",
        json!({"containerDefinitions": [
            {"name": "web", "image": "nginx:1.27"},
            {"name": "log", "image": "fluent-bit:3"},
        ]}),
    )
    .await
    .expect("the same containers in another order are no conflict");

    // Taking over another applier's value is a conflict.
    match apply(
        "team-b",
        json!({"containerDefinitions": [{"name": "web", "environment": [
            {"name": "A", "value": "9"}, {"name": "B", "value": "2"},
        ]}]}),
    )
    .await
    {
        Err(kube::Error::Api(status)) => {
            assert_eq!(status.code, 409, "{status:?}");
            assert!(status.message.contains("team-a"), "{}", status.message);
        }
        other => panic!("team-b changing team-a's variable must conflict, got {other:?}"),
    }
    let td = api.get("shared").await.expect("get");
    let mut env = env_of(&td, "web");
    env.sort();
    assert_eq!(env, [pair("A", "3"), pair("B", "2")]);
    cleanup(&client, &ns).await;
}

fn fargate_with_containers(list: Vec<Value>) -> Value {
    with(fargate("256", "512"), json!({"containerDefinitions": list}))
}
