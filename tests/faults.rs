//! The fault suite: the operator (its real binary, as its own process) under crashes, a bad ECS,
//! a hung ECS, an API server restart, a leader failover under load, input ECS refuses, and a
//! second Kubernetes cluster sharing the ECS account. Each test bounds its time; each checks
//! that nothing is duplicated, lost or orphaned, by counting ECS's own calls and objects.

mod harness;
mod support;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use ecs_operator::api::{EcsCluster, EcsService, EcsTaskDefinition};
use futures::{StreamExt, stream};
use harness::{condition, eventually, is_ready, is_stalled, manifest, setup};
use kube::Client;
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams};
use serde_json::{Value, json};
use tokio::time::Instant;

/// How long a fault test waits for everything to converge.
const CONVERGE: Duration = Duration::from_secs(240);

// --- the operator as a process ----------------------------------------------------------------------

/// The operator binary, run against `env`'s Kubernetes (and `ecs_endpoint`'s ECS), for one
/// namespace, signing with `access_key`; its output goes to a file.
struct Process {
    child: Child,
    log: PathBuf,
    env: support::LocalEnv,
    namespace: String,
    access_key: String,
    ecs_endpoint: String,
    extra: Vec<String>,
}

impl Process {
    fn start(namespace: &str, access_key: &str, extra: &[&str]) -> Process {
        let env = support::env().clone();
        let endpoint = env.ecs_endpoint.clone();
        Self::start_on(env, &endpoint, namespace, access_key, extra)
    }

    fn start_on(
        env: support::LocalEnv,
        ecs_endpoint: &str,
        namespace: &str,
        access_key: &str,
        extra: &[&str],
    ) -> Process {
        let log = std::env::temp_dir().join(format!("{}.log", support::unique_name("operator")));
        let mut process = Process {
            child: Command::new("true").spawn().expect("true runs"),
            log,
            env,
            namespace: namespace.to_string(),
            access_key: access_key.to_string(),
            ecs_endpoint: ecs_endpoint.to_string(),
            extra: extra.iter().map(|s| s.to_string()).collect(),
        };
        process.spawn();
        process
    }

    fn spawn(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("log file");
        self.child = Command::new(env!("CARGO_BIN_EXE_ecs-operator"))
            .args([
                "run",
                "--namespace",
                &self.namespace,
                "--log-format",
                "text",
            ])
            .args(["--admin-address", "127.0.0.1:0"])
            // A short resync by default (so that the tests see drift and outages quickly),
            // unless the test sets its own.
            .args(if self.extra.iter().any(|a| a == "--resync-period") {
                &[][..]
            } else {
                &["--resync-period", "3s"][..]
            })
            .args(&self.extra)
            .envs(&self.env.vars)
            .env("AWS_ENDPOINT_URL_ECS", &self.ecs_endpoint)
            .env("AWS_ACCESS_KEY_ID", &self.access_key)
            .env(
                "LOG_LEVEL",
                std::env::var("FAULTS_LOG_LEVEL").unwrap_or_else(|_| "info".into()),
            )
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("the operator binary starts");
    }

    /// kill -9, then start again.
    fn crash_and_restart(&mut self) {
        self.kill();
        self.spawn();
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill();
    }
}

// --- fixtures -------------------------------------------------------------------------------------

fn cluster(name: &str, ecs_name: &str) -> EcsCluster {
    manifest(json!({
        "apiVersion": "ecs.operator.dev/v1alpha1", "kind": "EcsCluster",
        "metadata": {"name": name},
        "spec": {"clusterName": ecs_name, "capacityProviders": ["FARGATE"]}
    }))
}

fn definition(name: &str, family: &str, image: &str) -> EcsTaskDefinition {
    manifest(json!({
        "apiVersion": "ecs.operator.dev/v1alpha1", "kind": "EcsTaskDefinition",
        "metadata": {"name": name},
        "spec": {
            "family": family, "requiresCompatibilities": ["FARGATE"], "networkMode": "awsvpc",
            "cpu": "256", "memory": "512",
            "containerDefinitions": [{"name": "web", "image": image, "portMappings": [{"containerPort": 80}]}]
        }
    }))
}

fn service(name: &str, ecs_name: &str, definition: &str, extra: Value) -> EcsService {
    let (subnets, group) = harness::emulator_network();
    let mut spec = json!({
        "serviceName": ecs_name,
        "clusterRef": {"name": "apps"},
        "taskDefinitionRef": {"name": definition},
        "desiredCount": 1,
        "launchType": "FARGATE",
        "networkConfiguration": {"awsvpcConfiguration": {"subnets": subnets, "securityGroups": [group]}}
    });
    if let (Some(spec), Some(extra)) = (spec.as_object_mut(), extra.as_object()) {
        spec.extend(extra.clone());
    }
    manifest(json!({
        "apiVersion": "ecs.operator.dev/v1alpha1", "kind": "EcsService",
        "metadata": {"name": name}, "spec": spec
    }))
}

/// `definitions` task definitions (`td<i>`) and `services` services (`s<i>`, service i on task
/// definition i mod `definitions`) on one EcsCluster "apps", all created at once. Returns the ECS
/// cluster's name and the families' prefix (family i is `<prefix>-td<i>`).
async fn create_fleet(
    client: &Client,
    ns: &str,
    definitions: usize,
    services: usize,
) -> (String, String) {
    let cluster_name = support::unique_name("apps");
    let clusters: Api<EcsCluster> = Api::namespaced(client.clone(), ns);
    clusters
        .create(&PostParams::default(), &cluster("apps", &cluster_name))
        .await
        .unwrap();
    let prefix = support::unique_name("f");
    let definitions_api: Api<EcsTaskDefinition> = Api::namespaced(client.clone(), ns);
    stream::iter(0..definitions)
        .for_each_concurrent(16, |i| {
            let (api, family) = (definitions_api.clone(), format!("{prefix}-td{i}"));
            async move {
                api.create(
                    &PostParams::default(),
                    &definition(&format!("td{i}"), &family, "nginx:1.27"),
                )
                .await
                .unwrap();
            }
        })
        .await;
    let services_api: Api<EcsService> = Api::namespaced(client.clone(), ns);
    stream::iter(0..services)
        .for_each_concurrent(16, |i| {
            let api = services_api.clone();
            let on = format!("td{}", i % definitions);
            async move {
                api.create(
                    &PostParams::default(),
                    &service(&format!("s{i}"), &format!("s{i}"), &on, json!({})),
                )
                .await
                .unwrap();
            }
        })
        .await;
    (cluster_name, prefix)
}

/// Waits until `definitions` EcsTaskDefinitions and `services` EcsServices of the namespace are
/// Ready.
async fn all_ready(client: &Client, ns: &str, definitions: usize, services: usize) {
    let definitions_api: Api<EcsTaskDefinition> = Api::namespaced(client.clone(), ns);
    let services_api: Api<EcsService> = Api::namespaced(client.clone(), ns);
    let deadline = Instant::now() + CONVERGE;
    loop {
        let definitions_now = definitions_api
            .list(&ListParams::default())
            .await
            .map(|l| l.items)
            .unwrap_or_default();
        let services_now = services_api
            .list(&ListParams::default())
            .await
            .map(|l| l.items)
            .unwrap_or_default();
        let ready_definitions = definitions_now.iter().filter(|d| is_ready(*d)).count();
        let ready_services = services_now.iter().filter(|s| is_ready(*s)).count();
        if ready_definitions >= definitions && ready_services >= services {
            return;
        }
        if Instant::now() > deadline {
            let waiting: Vec<String> = services_now
                .iter()
                .filter(|s| !is_ready(*s))
                .take(5)
                .map(|s| {
                    format!(
                        "{}: {:?}",
                        s.metadata.name.clone().unwrap_or_default(),
                        condition(s, "Ready").map(|c| c.message)
                    )
                })
                .collect();
            panic!(
                "not converged within {CONVERGE:?}: {ready_definitions}/{definitions} task definitions and \
                 {ready_services}/{services} services Ready; waiting: {waiting:#?}"
            );
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

fn throttle(access_key: &str) {
    support::emulator_admin(
        "POST",
        "throttling",
        Some(json!({"accessKey": access_key, "enabled": true})),
    );
}

/// The writes ECS carried out for `access_key`, by operation: calls received, less those the
/// emulator refused unprocessed (throttled, or failed by an injected fault).
fn writes(access_key: &str) -> BTreeMap<String, u64> {
    let report = support::emulator_admin("GET", &format!("calls?accessKey={access_key}"), None);
    let count = |group: &str, op: &str| report[group][op].as_u64().unwrap_or(0);
    support::ECS_WRITES
        .iter()
        .map(|op| {
            (
                op.to_string(),
                count("calls", op) - count("throttled", op) - count("faulted", op),
            )
        })
        .filter(|(_, n)| *n > 0)
        .collect()
}

async fn set_image(client: &Client, ns: &str, name: &str, image: &str) {
    let patch: json_patch::Patch = serde_json::from_value(json!([
        {"op": "replace", "path": "/spec/containerDefinitions/0/image", "value": image}
    ]))
    .unwrap();
    Api::<EcsTaskDefinition>::namespaced(client.clone(), ns)
        .patch(name, &PatchParams::default(), &Patch::Json::<()>(patch))
        .await
        .unwrap();
}

/// How many events of `reason` each object of the namespace got (by involved object name).
async fn events_by_object(client: &Client, ns: &str, reason: &str) -> BTreeMap<String, i32> {
    let events: Api<k8s_openapi::api::events::v1::Event> = Api::namespaced(client.clone(), ns);
    let mut counts = BTreeMap::new();
    for event in events.list(&ListParams::default()).await.unwrap().items {
        if event.reason.as_deref() == Some(reason) {
            let name = event.regarding.and_then(|r| r.name).unwrap_or_default();
            *counts.entry(name).or_insert(0) += event.series.map(|s| s.count).unwrap_or(1);
        }
    }
    counts
}

// --- tests ----------------------------------------------------------------------------------------

#[tokio::test]
async fn a_crash_at_any_moment_duplicates_nothing_and_loses_nothing() {
    let (client, ns) = setup("fault-crash").await;
    let key = format!("op-{ns}");
    throttle(&key);
    let mut operator = Process::start(&ns, &key, &[]);
    let n = 50;
    let (cluster_name, prefix) = create_fleet(&client, &ns, n, n).await;
    // kill -9 at random moments while the fleet is created, then while 10 task definitions change.
    let mut kills = 0;
    for round in 0..8 {
        if round == 4 {
            for i in 0..10 {
                set_image(&client, &ns, &format!("td{i}"), "nginx:1.28").await;
            }
        }
        tokio::time::sleep(Duration::from_millis(500 + fastrand::u64(0..2500))).await;
        operator.crash_and_restart();
        kills += 1;
    }
    all_ready(&client, &ns, n, n).await;

    // Exactly the writes the changes need, counted against ECS's own records: one revision per
    // spec (a task definition changed before its first registration has one), one service per
    // object, and an UpdateService only for a service that had to move to a new revision.
    let ecs = support::ecs_client();
    let done = writes(&key);
    assert_eq!(done.get("CreateCluster"), Some(&1), "{done:?}");
    assert_eq!(done.get("CreateService"), Some(&(n as u64)), "{done:?}");
    let mut revisions = 0;
    for i in 0..n {
        let family = format!("{prefix}-td{i}");
        let arns: Vec<String> = ecs
            .list_task_definitions()
            .family_prefix(&family)
            .send()
            .await
            .unwrap()
            .task_definition_arns()
            .iter()
            .filter(|arn| arn.contains(&format!("/{family}:")))
            .cloned()
            .collect();
        let mut specs = std::collections::BTreeSet::new();
        for arn in &arns {
            let described = ecs
                .describe_task_definition()
                .task_definition(arn)
                .include(aws_sdk_ecs::types::TaskDefinitionField::Tags)
                .send()
                .await
                .unwrap();
            let hash = described
                .tags()
                .iter()
                .find(|t| t.key() == Some("ecs.operator.dev/spec-hash"))
                .and_then(|t| t.value())
                .unwrap_or_default()
                .to_string();
            assert!(
                specs.insert(hash),
                "{family}: two revisions of one spec: {arns:?}"
            );
        }
        let most = if i < 10 { 2 } else { 1 };
        assert!((1..=most).contains(&arns.len()), "{family}: {arns:?}");
        revisions += arns.len() as u64;
    }
    assert_eq!(
        done.get("RegisterTaskDefinition"),
        Some(&revisions),
        "{done:?}"
    );
    let mut moved = 0;
    for i in 0..n {
        let deployments = ecs
            .list_service_deployments()
            .cluster(&cluster_name)
            .service(format!("s{i}"))
            .send()
            .await
            .unwrap()
            .service_deployments()
            .len();
        assert!(
            deployments == 1 || (i < 10 && deployments == 2),
            "s{i}: {deployments} deployments"
        );
        moved += deployments as u64 - 1;
    }
    assert_eq!(
        done.get("UpdateService").copied().unwrap_or(0),
        moved,
        "{done:?}"
    );
    // Nothing orphaned: ECS runs exactly the services the namespace declares.
    let ecs = support::ecs_client();
    let mut listed = Vec::new();
    let mut token = None;
    loop {
        let page = ecs
            .list_services()
            .cluster(&cluster_name)
            .max_results(100)
            .set_next_token(token)
            .send()
            .await
            .unwrap();
        listed.extend(
            page.service_arns()
                .iter()
                .map(|a| a.rsplit('/').next().unwrap().to_string()),
        );
        token = page.next_token;
        if token.is_none() {
            break;
        }
    }
    listed.sort();
    let mut declared: Vec<String> = (0..n).map(|i| format!("s{i}")).collect();
    declared.sort();
    assert_eq!(listed, declared);
    // Every piece of work done is announced, also when the process died right after it: one
    // Created per service, one RevisionRegistered per revision (a kill between an event and the
    // status write that records it may repeat one: at most one per kill).
    let created = events_by_object(&client, &ns, "Created").await;
    let registered = events_by_object(&client, &ns, "RevisionRegistered").await;
    let mut repeated = 0;
    for i in 0..n {
        let c = created.get(&format!("s{i}")).copied().unwrap_or(0);
        assert!(c >= 1, "no Created for s{i}: {created:?}");
        repeated += c - 1;
        let r = registered.get(&format!("td{i}")).copied().unwrap_or(0);
        assert!(r >= 1, "no RevisionRegistered for td{i}: {registered:?}");
        repeated += (r - if i < 10 { 2 } else { 1 }).max(0);
    }
    assert!(
        repeated <= kills,
        "{repeated} events repeated over {kills} kills"
    );
    assert!(
        !operator.output().contains("panicked"),
        "{}",
        operator.output()
    );
}

#[tokio::test]
async fn a_bad_ecs_slows_convergence_but_breaks_nothing() {
    let (client, ns) = setup("fault-bad").await;
    let key = format!("op-{ns}");
    // While 200 services converge, ECS throttles 30% of calls, fails 10% with a 5xx (as JSON,
    // and as a proxy's HTML page), adds 2 s to every call and resets 5% of connections.
    for rule in [
        json!({"accessKey": key, "throttleRate": 0.3, "latency": 2.0}),
        json!({"accessKey": key, "errorRate": 0.05}),
        json!({"accessKey": key, "errorRate": 0.05, "errorBody": "html"}),
        json!({"accessKey": key, "resetRate": 0.05}),
    ] {
        support::emulator_admin("POST", "faults", Some(rule));
    }
    // Many services Ready: a resync as short as the other tests' would keep every worker busy
    // re-reading them through a 2 s latency.
    let operator = Process::start(
        &ns,
        &key,
        &["--concurrency", "32", "--resync-period", "60s"],
    );
    let (definitions, services) = (5, 200);
    create_fleet(&client, &ns, definitions, services).await;
    // Meanwhile, the messages people see stay short, one line, and free of the SDK's dumps.
    let services_api: Api<EcsService> = Api::namespaced(client.clone(), &ns);
    let watch = tokio::spawn({
        let services_api = services_api.clone();
        async move {
            let mut seen = std::collections::BTreeSet::new();
            for _ in 0..60 {
                for s in services_api
                    .list(&ListParams::default())
                    .await
                    .map(|l| l.items)
                    .unwrap_or_default()
                {
                    if let Some(c) = condition(&s, "Ready") {
                        seen.insert(c.message);
                    }
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            seen
        }
    });
    all_ready(&client, &ns, definitions, services).await;
    support::emulator_admin("DELETE", &format!("faults?accessKey={key}"), None);
    let messages = watch.await.unwrap();
    assert!(messages.len() > 1, "{messages:?}");
    for message in messages {
        assert!(message.len() < 400 && !message.contains('\n'), "{message}");
        for leak in [
            "Response {",
            "x-amzn-RequestId",
            "Date:",
            "<html",
            "os error",
            "dispatch failure",
        ] {
            assert!(!message.contains(leak), "{message}");
        }
    }
    // Nothing duplicated: one service per object, whatever the retries.
    let done = writes(&key);
    assert_eq!(
        done.get("CreateService"),
        Some(&(services as u64)),
        "{done:?}"
    );
    assert_eq!(
        done.get("RegisterTaskDefinition"),
        Some(&(definitions as u64)),
        "{done:?}"
    );
    // Calls stay bounded: retries back off instead of hammering a failing ECS (about ten calls
    // per object through a rollout; five times that allows for every retry).
    let calls: u64 = support::emulator_calls(&key).values().sum();
    let objects = (definitions + services + 1) as u64;
    assert!(calls < 50 * objects, "{calls} calls for {objects} objects");
    assert!(
        !operator.output().contains("panicked"),
        "{}",
        operator.output()
    );
}

#[tokio::test]
async fn a_hung_ecs_shows_on_every_object_and_holds_no_worker() {
    let (client, ns) = setup("fault-hang").await;
    let key = format!("op-{ns}");
    let operator = Process::start(&ns, &key, &[]);
    let n = 10;
    create_fleet(&client, &ns, n, n).await;
    all_ready(&client, &ns, n, n).await;

    // Every call hangs. Within a resync (3 s here) plus the moment a call needs to be suspect
    // (5 s) and a reconcile or two, every object shows it, although only four workers run.
    support::emulator_admin(
        "POST",
        "faults",
        Some(json!({"accessKey": key, "hang": true})),
    );
    let started = Instant::now();
    let services: Api<EcsService> = Api::namespaced(client.clone(), &ns);
    let definitions: Api<EcsTaskDefinition> = Api::namespaced(client.clone(), &ns);
    let not_showing = eventually(
        "every object to show that ECS does not answer",
        || async {
            let mut not_showing = Vec::new();
            let says = |c: Option<k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition>| {
                c.is_some_and(|c| c.message.contains("no answer from ECS"))
            };
            for s in services.list(&ListParams::default()).await.unwrap().items {
                if !says(condition(&s, "Ready")) {
                    not_showing.push(format!(
                        "{}: {:?}",
                        s.metadata.name.clone().unwrap_or_default(),
                        condition(&s, "Ready").map(|c| c.message)
                    ));
                }
            }
            for d in definitions
                .list(&ListParams::default())
                .await
                .unwrap()
                .items
            {
                if !says(condition(&d, "Ready")) {
                    not_showing.push(format!(
                        "{}: {:?}",
                        d.metadata.name.clone().unwrap_or_default(),
                        condition(&d, "Ready").map(|c| c.message)
                    ));
                }
            }
            not_showing
        },
        |not_showing| not_showing.is_empty(),
    )
    .await;
    assert!(not_showing.is_empty(), "{not_showing:?}");
    let took = started.elapsed();
    assert!(took < Duration::from_secs(45), "took {took:?}");

    support::emulator_admin("DELETE", &format!("faults?accessKey={key}"), None);
    all_ready(&client, &ns, n, n).await;
    assert!(
        !operator.output().contains("panicked"),
        "{}",
        operator.output()
    );
}

#[tokio::test]
async fn an_api_server_restart_loses_nothing() {
    let own = support::OwnEnv::start("fault-apiserver");
    let client = own.kube_client().await;
    support::install_crds(&client).await;
    let ns = support::test_namespace(&client, "fault-apiserver").await;
    let key = format!("op-{ns}");
    let endpoint = own.env.ecs_endpoint.clone();
    let operator = Process::start_on(own.env.clone(), &endpoint, &ns, &key, &[]);
    let definitions: Api<EcsTaskDefinition> = Api::namespaced(client.clone(), &ns);
    definitions
        .create(
            &PostParams::default(),
            &definition("web", &support::unique_name("web"), "nginx:1.27"),
        )
        .await
        .unwrap();
    harness::wait_for(&definitions, "web", "Ready", is_ready).await;

    // The API server goes away and comes back on its own address, with its own data.
    own.local_env(&["restart", "kube-apiserver"]);
    // A change made after it is back is acted on, by the same operator process.
    set_image(&client, &ns, "web", "nginx:1.28").await;
    let changed = harness::wait_for(&definitions, "web", "revision 2", |d| {
        d.status.as_ref().and_then(|s| s.revision) == Some(2) && is_ready(d)
    })
    .await;
    assert_eq!(changed.status.unwrap().revision, Some(2));
    let own_calls =
        support::emulator_admin_at(&endpoint, "GET", &format!("calls?accessKey={key}"), None);
    assert_eq!(own_calls["calls"]["RegisterTaskDefinition"], 2);
    assert!(
        !operator.output().contains("panicked"),
        "{}",
        operator.output()
    );
}

#[tokio::test]
async fn a_leader_failover_under_load_writes_nothing_twice() {
    let (client, ns) = setup("fault-leader").await;
    let key = format!("op-{ns}");
    throttle(&key);
    let election = [
        "--leader-election",
        "--lease-name",
        "faults",
        "--lease-namespace",
        &ns,
        "--lease-duration",
        "6s",
    ];
    let mut first = Process::start(&ns, &key, &election);
    let n = 30;
    create_fleet(&client, &ns, n, n).await;
    all_ready(&client, &ns, n, n).await;
    let mut second = Process::start(&ns, &key, &election);
    // Twenty changes, and the leader dies while they are worked on.
    for i in 0..20 {
        set_image(&client, &ns, &format!("td{i}"), "nginx:1.28").await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    first.kill();
    all_ready(&client, &ns, n, n).await;
    let services: Api<EcsService> = Api::namespaced(client.clone(), &ns);
    eventually(
        "every service on its new revision",
        || async {
            services
                .list(&ListParams::default())
                .await
                .unwrap()
                .items
                .iter()
                .filter(|s| s.status.as_ref().and_then(|st| st.task_definition_revision) == Some(2))
                .count()
        },
        |updated| *updated == 20,
    )
    .await;
    let done = writes(&key);
    assert_eq!(
        done.get("RegisterTaskDefinition"),
        Some(&(n as u64 + 20)),
        "{done:?}"
    );
    assert_eq!(done.get("UpdateService"), Some(&20), "{done:?}");
    assert_eq!(done.get("CreateService"), Some(&(n as u64)), "{done:?}");
    second.kill();
}

/// Input that passes admission but ECS refuses: Stalled with ECS's words, one Warning, and no
/// hot loop (the object is not reconciled again and again).
#[tokio::test]
async fn input_ecs_refuses_stalls_once_without_a_hot_loop() {
    let (client, ns) = setup("fault-input").await;
    let key = format!("op-{ns}");
    let operator = Process::start(&ns, &key, &[]);
    let clusters: Api<EcsCluster> = Api::namespaced(client.clone(), &ns);
    clusters
        .create(
            &PostParams::default(),
            &cluster("apps", &support::unique_name("apps")),
        )
        .await
        .unwrap();
    let definitions: Api<EcsTaskDefinition> = Api::namespaced(client.clone(), &ns);
    definitions
        .create(
            &PostParams::default(),
            &definition("web", &support::unique_name("web"), "nginx:1.27"),
        )
        .await
        .unwrap();
    let (subnets, _) = harness::emulator_network();
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "no-subnet",
            json!({"networkConfiguration": {"awsvpcConfiguration": {"subnets": ["subnet-0000000000000dead"]}}}),
            "does not exist",
        ),
        (
            "no-group",
            json!({"networkConfiguration": {"awsvpcConfiguration": {"subnets": subnets, "securityGroups": ["sg-0000000000000dead"]}}}),
            "security group",
        ),
        (
            "no-balancer",
            json!({"loadBalancers": [{"targetGroupArn": "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/nope/0000000000000000", "containerName": "web", "containerPort": 80}]}),
            "does not have an associated load balancer",
        ),
        (
            "foreign-provider",
            json!({"launchType": null, "capacityProviderStrategy": [{"capacityProvider": "SOMEONE_ELSES", "weight": 1}]}),
            "not associated with the cluster",
        ),
        (
            "public-ip-on-ec2",
            json!({"launchType": "EC2", "networkConfiguration": {"awsvpcConfiguration": {"subnets": subnets, "assignPublicIp": "ENABLED"}}}),
            "Assign public IP is not supported",
        ),
    ];
    let services: Api<EcsService> = Api::namespaced(client.clone(), &ns);
    for (name, extra, _) in &cases {
        services
            .create(
                &PostParams::default(),
                &service(name, name, "web", extra.clone()),
            )
            .await
            .unwrap();
    }
    for (name, _, words) in &cases {
        let stalled = harness::wait_for(&services, name, "Stalled", is_stalled).await;
        let message = condition(&stalled, "Ready").unwrap().message;
        assert!(message.contains(words), "{name}: {message}");
    }
    // A while later: still one Warning each, and no CreateService retried faster than a slow
    // backoff would.
    let calls_before = support::emulator_calls(&key)
        .get("CreateService")
        .copied()
        .unwrap_or(0);
    tokio::time::sleep(Duration::from_secs(15)).await;
    let calls_after = support::emulator_calls(&key)
        .get("CreateService")
        .copied()
        .unwrap_or(0);
    assert!(
        calls_after - calls_before <= cases.len() as u64,
        "CreateService retried {} times in 15 s",
        calls_after - calls_before
    );
    for (name, _, _) in &cases {
        let events = harness::events::<EcsService>(&client, &ns, name).await;
        let warnings: i32 = events
            .iter()
            .filter(|e| e.type_ == "Warning")
            .map(|e| e.count)
            .sum();
        assert_eq!(
            warnings,
            1,
            "{name}: {:?}",
            events
                .iter()
                .map(|e| (&e.reason, &e.note, e.count))
                .collect::<Vec<_>>()
        );
    }
    assert!(!operator.output().contains("panicked"));
}

#[tokio::test]
async fn two_kubernetes_clusters_sharing_an_account_never_touch_each_others_objects() {
    // This cluster's operator and a second cluster's (its own control plane, so its own
    // identity), both on the shared emulator.
    let (client, ns) = setup("fault-owners").await;
    let key = format!("op-{ns}");
    let _ours = Process::start(&ns, &key, &[]);
    let other_env = support::OwnEnv::start("fault-owners");
    let other = other_env.kube_client().await;
    support::install_crds(&other).await;
    let other_ns = support::test_namespace(&other, "fault-owners").await;
    let other_key = format!("op-other-{other_ns}");
    let shared_ecs = support::env().ecs_endpoint.clone();
    let theirs = Process::start_on(
        other_env.env.clone(),
        &shared_ecs,
        &other_ns,
        &other_key,
        &[],
    );

    // Both declare the same ECS cluster; ours is first.
    let ecs_name = support::unique_name("shared");
    let our_clusters: Api<EcsCluster> = Api::namespaced(client.clone(), &ns);
    our_clusters
        .create(&PostParams::default(), &cluster("apps", &ecs_name))
        .await
        .unwrap();
    harness::wait_for(&our_clusters, "apps", "Ready", is_ready).await;
    let their_clusters: Api<EcsCluster> = Api::namespaced(other.clone(), &other_ns);
    // Even with the adopt annotation: another cluster's object is never taken.
    let mut adopting = cluster("apps", &ecs_name);
    adopting.metadata.annotations = Some(
        [(
            ecs_operator::api::ADOPT_ANNOTATION.to_string(),
            "true".to_string(),
        )]
        .into(),
    );
    their_clusters
        .create(&PostParams::default(), &adopting)
        .await
        .unwrap();
    let refused = harness::wait_for(&their_clusters, "apps", "Stalled", is_stalled).await;
    assert_eq!(
        condition(&refused, "Ready").unwrap().reason,
        "OwnershipConflict"
    );
    // Deleting theirs leaves ours in ECS; they never wrote to it.
    their_clusters
        .delete("apps", &Default::default())
        .await
        .unwrap();
    harness::wait_gone(&their_clusters, "apps").await;
    let still = support::ecs_client()
        .describe_clusters()
        .clusters(&ecs_name)
        .send()
        .await
        .unwrap();
    assert_eq!(still.clusters()[0].status(), Some("ACTIVE"));
    assert_eq!(writes(&other_key), BTreeMap::new());
    assert!(!theirs.output().contains("panicked"));
}

#[tokio::test]
async fn text_logs_written_to_a_file_have_no_colour() {
    let (_client, ns) = setup("fault-logs").await;
    let operator = Process::start(&ns, &format!("op-{ns}"), &[]);
    let output = eventually(
        "the operator's first log lines",
        || async { operator.output() },
        |text| text.contains("initial sync done"),
    )
    .await;
    assert!(
        !output.contains('\u{1b}'),
        "escape codes in a log file: {output:?}"
    );
}
