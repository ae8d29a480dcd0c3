//! `make bench-scale`: the operator at scale against the emulator with ECS's throttling on (its
//! real bursts and refills). For N = 100 and N = 1,000 task definitions and services on four
//! clusters, applied at once, it prints:
//! - convergence: the time until everything is Ready, next to the bound ECS's token buckets allow
//!   for that work; ECS calls by operation; throttled calls; throttling that reached a user (a
//!   Warning event);
//! - steady state: ECS reads per object per resync, and ECS writes per hour;
//! - the cost of a change: from a task definition edit to its service's UpdateService (p50, p99),
//!   and the time for one new revision to reach all N services, next to its bound;
//! - the operator's own cost: peak RSS and CPU seconds (it runs as its own process).
//!
//! Figures, not pass/fail. It resets the emulator: run it with the local environment to itself.
//! `BENCH_SIZES=100` runs one size only.

#[path = "../tests/support/mod.rs"]
mod support;

use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ecs_operator::api::{EcsCluster, EcsService, EcsTaskDefinition};
use futures::{StreamExt, stream};
use k8s_openapi::api::events::v1::Event;
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams};
use serde_json::{Value, json};

const CLUSTERS: usize = 4;
/// The operator's resync period in the benchmark (short, so that steady state shows in minutes).
const RESYNC: Duration = Duration::from_secs(30);
/// Task definition edits timed for the cost of a change.
const EDITS: usize = 20;

#[derive(Default)]
struct Figures {
    n: usize,
    converged: Duration,
    bound: Duration,
    alone: Duration,
    calls: BTreeMap<String, u64>,
    throttled: u64,
    throttling_seen: usize,
    reads_per_object_resync: f64,
    writes_per_hour: f64,
    change_p50: Duration,
    change_p99: Duration,
    fan_out: Duration,
    fan_out_bound: Duration,
    peak_rss_mib: f64,
    cpu_seconds: f64,
}

#[tokio::main]
async fn main() {
    support::install_crypto_provider();
    let sizes: Vec<usize> = std::env::var("BENCH_SIZES")
        .unwrap_or_else(|_| "100,1000".into())
        .split(',')
        .map(|n| n.trim().parse().expect("BENCH_SIZES: numbers"))
        .collect();
    let binary = support::repo_root().join("target/release/ecs-operator");
    assert!(
        binary.exists(),
        "build the operator first: cargo build --release --bin ecs-operator"
    );
    let mut all = Vec::new();
    for n in sizes {
        eprintln!("== N = {n}");
        all.push(run(n, &binary).await);
    }
    print_table(&all);
}

async fn run(n: usize, binary: &std::path::Path) -> Figures {
    let env = support::env();
    support::emulator_admin("POST", "reset", None);
    let client = support::kube_client().await;
    support::install_crds(&client).await;
    let ns = support::test_namespace(&client, &format!("bench-{n}")).await;
    let key = format!("bench-{ns}");
    support::emulator_admin(
        "POST",
        "throttling",
        Some(json!({"accessKey": key, "enabled": true})),
    );
    let (subnets, group) = network();
    let mut operator = Operator::start(binary, &ns, &key, env);

    // Apply everything at once.
    let clusters: Api<EcsCluster> = Api::namespaced(client.clone(), &ns);
    let definitions: Api<EcsTaskDefinition> = Api::namespaced(client.clone(), &ns);
    let services: Api<EcsService> = Api::namespaced(client.clone(), &ns);
    for c in 0..CLUSTERS {
        let cluster: EcsCluster = from(json!({
            "apiVersion": "ecs.operator.dev/v1alpha1", "kind": "EcsCluster",
            "metadata": {"name": format!("c{c}")},
            "spec": {"clusterName": format!("{ns}-c{c}"), "capacityProviders": ["FARGATE"]}
        }));
        clusters
            .create(&PostParams::default(), &cluster)
            .await
            .unwrap();
    }
    // One task definition and service alone first: how long one object's own work takes (its
    // ECS calls and its rollout, at the emulator's speed), which the bound adds to the wait
    // for ECS's buckets.
    let alone = {
        let started = Instant::now();
        definitions
            .create(
                &PostParams::default(),
                &definition("alone", &format!("{ns}-alone"), "nginx:1.27"),
            )
            .await
            .unwrap();
        services
            .create(
                &PostParams::default(),
                &service("alone", "c0", "alone", &subnets, &group),
            )
            .await
            .unwrap();
        wait_ready(&definitions, &services, 1, started).await;
        started.elapsed()
    };
    // Let the buckets fill again, then apply everything at once.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let start = Instant::now();
    stream::iter(0..n)
        .for_each_concurrent(32, |i| {
            let (definitions, services) = (definitions.clone(), services.clone());
            let (ns, subnets, group) = (ns.clone(), subnets.clone(), group.clone());
            async move {
                definitions
                    .create(
                        &PostParams::default(),
                        &definition(&format!("td{i}"), &format!("{ns}-td{i}"), "nginx:1.27"),
                    )
                    .await
                    .unwrap();
                let service = service(
                    &format!("s{i}"),
                    &format!("c{}", i % CLUSTERS),
                    &format!("td{i}"),
                    &subnets,
                    &group,
                );
                services
                    .create(&PostParams::default(), &service)
                    .await
                    .unwrap();
            }
        })
        .await;
    eprintln!(
        "   applied {} objects in {:.1}s",
        2 * n + CLUSTERS,
        start.elapsed().as_secs_f64()
    );
    wait_ready(&definitions, &services, n + 1, start).await;
    let converged = start.elapsed();
    let mut figures = Figures {
        n,
        converged,
        // ECS's buckets (RegisterTaskDefinition 20 then 1/s, CreateService 50 then 5/s), then
        // the last object's own work.
        bound: Duration::from_secs_f64(
            ((n as f64 - 20.0).max(0.0) / 1.0).max((n as f64 - 50.0).max(0.0) / 5.0),
        ) + alone,
        alone,
        calls: support::emulator_calls(&key).into_iter().collect(),
        ..Figures::default()
    };
    let report = support::emulator_admin("GET", &format!("calls?accessKey={key}"), None);
    figures.throttled = report["throttled"]
        .as_object()
        .map(|o| o.values().filter_map(Value::as_u64).sum())
        .unwrap_or(0);
    figures.throttling_seen = warnings(&client, &ns, "Throttl").await;
    eprintln!("   converged in {:.1}s", converged.as_secs_f64());

    // Steady state: two resyncs of everything.
    let before = support::emulator_calls(&key);
    let reconciles_before = operator.reconciles();
    let steady_start = Instant::now();
    let objects = (2 * (n + 1) + CLUSTERS) as u64;
    while operator.reconciles() < reconciles_before + 2 * objects {
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    let window = steady_start.elapsed();
    let after = support::emulator_calls(&key);
    let delta = |filter: &dyn Fn(&str) -> bool| -> u64 {
        after
            .iter()
            .filter(|(op, _)| filter(op))
            .map(|(op, count)| count - before.get(op).copied().unwrap_or(0))
            .sum()
    };
    let reads = delta(&|op| !support::ECS_WRITES.contains(&op));
    let writes = delta(&|op| support::ECS_WRITES.contains(&op));
    let resyncs = (operator.reconciles() - reconciles_before) as f64 / objects as f64;
    figures.reads_per_object_resync = reads as f64 / objects as f64 / resyncs;
    figures.writes_per_hour = writes as f64 * 3600.0 / window.as_secs_f64();
    eprintln!(
        "   steady: {reads} reads, {writes} writes over {:.1} resyncs in {:.0}s",
        resyncs,
        window.as_secs_f64()
    );

    // The cost of a change: EDITS task definitions edited one after another.
    let ecs = support::ecs_client();
    let mut latencies = Vec::new();
    for e in 0..EDITS.min(n) {
        let i = e * n / EDITS.min(n);
        // Seen from outside: polled every 20 ms, so within about 20 ms plus one call.
        let edited = Instant::now();
        set_image(&definitions, &format!("td{i}"), "nginx:1.28").await;
        loop {
            let service = ecs
                .describe_services()
                .cluster(format!("{ns}-c{}", i % CLUSTERS))
                .services(format!("s{i}"))
                .send()
                .await
                .unwrap()
                .services()[0]
                .clone();
            if service
                .task_definition()
                .is_some_and(|td| td.ends_with(":2"))
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        latencies.push(edited.elapsed());
    }
    latencies.sort();
    figures.change_p50 = latencies[latencies.len() / 2];
    figures.change_p99 = latencies[(latencies.len() * 99 / 100).min(latencies.len() - 1)];

    // One new revision for all N services: point every service at one task definition, let the
    // buckets refill, then edit it.
    definitions
        .create(
            &PostParams::default(),
            &definition("shared", &format!("{ns}-shared"), "nginx:1.27"),
        )
        .await
        .unwrap();
    stream::iter(0..n)
        .for_each_concurrent(32, |i| {
            let services = services.clone();
            async move {
                let patch = json!({"spec": {"taskDefinitionRef": {"name": "shared"}}});
                services
                    .patch(
                        &format!("s{i}"),
                        &PatchParams::default(),
                        &Patch::Merge(&patch),
                    )
                    .await
                    .unwrap();
            }
        })
        .await;
    wait_ready(&definitions, &services, n + 1, Instant::now()).await;
    tokio::time::sleep(Duration::from_secs(12)).await; // UpdateService's bucket refills (50 at 5/s)
    let edit_start = Instant::now();
    set_image(&definitions, "shared", "nginx:1.28").await;
    loop {
        let updated = updated_services(&ecs, &ns, n).await;
        if updated >= n {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    figures.fan_out = edit_start.elapsed();
    figures.fan_out_bound = Duration::from_secs_f64((n as f64 - 50.0).max(0.0) / 5.0);

    let (rss, cpu) = operator.cost();
    figures.peak_rss_mib = rss;
    figures.cpu_seconds = cpu;
    operator.stop();
    figures
}

/// Services of the run whose newest deployment runs the shared task definition's revision 2.
async fn updated_services(ecs: &aws_sdk_ecs::Client, ns: &str, n: usize) -> usize {
    let mut updated = 0;
    for c in 0..CLUSTERS {
        let names: Vec<String> = (0..n)
            .filter(|i| i % CLUSTERS == c)
            .map(|i| format!("s{i}"))
            .collect();
        for chunk in names.chunks(10) {
            let output = ecs
                .describe_services()
                .cluster(format!("{ns}-c{c}"))
                .set_services(Some(chunk.to_vec()))
                .send()
                .await
                .unwrap();
            updated += output
                .services()
                .iter()
                .filter(|s| {
                    s.task_definition()
                        .is_some_and(|td| td.ends_with("-shared:2"))
                })
                .count();
        }
    }
    updated
}

async fn wait_ready(
    definitions: &Api<EcsTaskDefinition>,
    services: &Api<EcsService>,
    n: usize,
    start: Instant,
) {
    let mut last = 0;
    loop {
        let ready_definitions = definitions
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .iter()
            .filter(|d| {
                ready(
                    &d.status
                        .as_ref()
                        .map(|s| s.conditions.clone())
                        .unwrap_or_default(),
                )
            })
            .count();
        let ready_services = services
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .iter()
            .filter(|s| {
                ready(
                    &s.status
                        .as_ref()
                        .map(|s| s.conditions.clone())
                        .unwrap_or_default(),
                )
            })
            .count();
        if ready_services >= n && ready_definitions >= n {
            return;
        }
        if start.elapsed().as_secs() >= last + 30 {
            last = start.elapsed().as_secs();
            eprintln!(
                "   {:>4}s: {ready_definitions} task definitions and {ready_services} services Ready",
                last
            );
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}

fn ready(conditions: &[k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition]) -> bool {
    conditions
        .iter()
        .any(|c| c.type_ == "Ready" && c.status == "True")
}

async fn warnings(client: &kube::Client, ns: &str, reason_part: &str) -> usize {
    let events: Api<Event> = Api::namespaced(client.clone(), ns);
    events
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .iter()
        .filter(|e| {
            e.type_.as_deref() == Some("Warning")
                && e.reason.as_deref().is_some_and(|r| r.contains(reason_part))
        })
        .count()
}

async fn set_image(definitions: &Api<EcsTaskDefinition>, name: &str, image: &str) {
    let patch: json_patch::Patch = serde_json::from_value(json!([
        {"op": "replace", "path": "/spec/containerDefinitions/0/image", "value": image}
    ]))
    .unwrap();
    definitions
        .patch(name, &PatchParams::default(), &Patch::Json::<()>(patch))
        .await
        .unwrap();
}

fn definition(name: &str, family: &str, image: &str) -> EcsTaskDefinition {
    from(json!({
        "apiVersion": "ecs.operator.dev/v1alpha1", "kind": "EcsTaskDefinition",
        "metadata": {"name": name},
        "spec": {
            "family": family, "requiresCompatibilities": ["FARGATE"], "networkMode": "awsvpc",
            "cpu": "256", "memory": "512",
            "containerDefinitions": [{"name": "web", "image": image, "portMappings": [{"containerPort": 80}]}]
        }
    }))
}

fn service(
    name: &str,
    cluster: &str,
    definition: &str,
    subnets: &[String],
    group: &str,
) -> EcsService {
    from(json!({
        "apiVersion": "ecs.operator.dev/v1alpha1", "kind": "EcsService",
        "metadata": {"name": name},
        "spec": {
            "serviceName": name,
            "clusterRef": {"name": cluster},
            "taskDefinitionRef": {"name": definition},
            "desiredCount": 1,
            "launchType": "FARGATE",
            "networkConfiguration": {"awsvpcConfiguration": {"subnets": subnets, "securityGroups": [group]}}
        }
    }))
}

fn from<K: serde::de::DeserializeOwned>(value: Value) -> K {
    serde_json::from_value(value).expect("a valid object")
}

/// The emulator's default VPC: subnets and security group (through EC2's query API).
fn network() -> (Vec<String>, String) {
    let query = |action: &str, tag: &str| -> Vec<String> {
        let env = support::env();
        let output = Command::new("curl")
            .args(["-sf", "-X", "POST", &format!("{}/", env.ecs_endpoint)])
            .args(["-H", "Authorization: AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/ec2/aws4_request, SignedHeaders=host, Signature=0"])
            .args(["-d", &format!("Action={action}&Version=2016-11-15")])
            .output()
            .expect("curl runs");
        let body = String::from_utf8_lossy(&output.stdout).to_string();
        body.split(&format!("<{tag}>"))
            .skip(1)
            .filter_map(|r| r.split('<').next())
            .map(str::to_string)
            .collect()
    };
    let mut subnets = query("DescribeSubnets", "subnetId");
    subnets.truncate(2);
    (
        subnets,
        query("DescribeSecurityGroups", "groupId").remove(0),
    )
}

/// The operator as its own process, so that its RSS and CPU are its own.
struct Operator {
    child: Child,
    admin: String,
}

impl Operator {
    fn start(binary: &std::path::Path, ns: &str, key: &str, env: &support::LocalEnv) -> Operator {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(binary)
            .args([
                "run",
                "--namespace",
                ns,
                "--log-format",
                "json",
                "--log-level",
                "warn",
            ])
            .args(["--resync-period", &format!("{}s", RESYNC.as_secs())])
            .args(["--admin-address", &format!("127.0.0.1:{port}")])
            .envs(&env.vars)
            .env("AWS_ACCESS_KEY_ID", key)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the operator starts");
        let admin = format!("http://127.0.0.1:{port}");
        for _ in 0..100 {
            if curl(&format!("{admin}/readyz")).is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        Operator { child, admin }
    }

    /// Reconciles of every kind so far (from /metrics).
    fn reconciles(&self) -> u64 {
        curl(&format!("{}/metrics", self.admin))
            .unwrap_or_default()
            .lines()
            .filter(|l| l.starts_with("ecs_operator_reconcile_total{"))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
            .sum()
    }

    /// Peak RSS (MiB) and CPU seconds so far, from /proc.
    fn cost(&self) -> (f64, f64) {
        let pid = self.child.id();
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        let peak_kib: f64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0.0);
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let fields: Vec<&str> = stat
            .rsplit_once(") ")
            .map(|(_, rest)| rest.split(' ').collect())
            .unwrap_or_default();
        // utime and stime are fields 14 and 15 of /proc/pid/stat (11 and 12 after the name).
        let ticks: f64 = fields
            .get(11)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
            + fields
                .get(12)
                .and_then(|v| v.parse::<f64>().ok())
                .unwrap_or(0.0);
        (peak_kib / 1024.0, ticks / 100.0)
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn curl(url: &str) -> Option<String> {
    let output = Command::new("curl")
        .args(["-sf", "--max-time", "5", url])
        .output()
        .ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).into_owned())
}

fn print_table(all: &[Figures]) {
    println!();
    println!(
        "| N | Ready after | bound (ECS buckets + one object alone) | throttled calls | throttling seen by users | reads / object / resync | writes / hour | change → UpdateService p50 / p99 | one revision to all N (bound) | peak RSS | CPU |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    for f in all {
        println!(
            "| {} | {:.0} s | {:.0} s ({:.0} s + {:.0} s) | {} | {} | {:.3} | {:.0} | {:.0} ms / {:.0} ms | {:.0} s ({:.0} s) | {:.0} MiB | {:.1} s |",
            f.n,
            f.converged.as_secs_f64(),
            f.bound.as_secs_f64(),
            (f.bound - f.alone).as_secs_f64(),
            f.alone.as_secs_f64(),
            f.throttled,
            f.throttling_seen,
            f.reads_per_object_resync,
            f.writes_per_hour,
            f.change_p50.as_secs_f64() * 1000.0,
            f.change_p99.as_secs_f64() * 1000.0,
            f.fan_out.as_secs_f64(),
            f.fan_out_bound.as_secs_f64(),
            f.peak_rss_mib,
            f.cpu_seconds,
        );
    }
    println!();
    for f in all {
        println!("N = {}: ECS calls until Ready: {:?}", f.n, f.calls);
    }
    if let [small, large] = all {
        println!(
            "from N = {} to {}: RSS x{:.1}, CPU x{:.1}",
            small.n,
            large.n,
            large.peak_rss_mib / small.peak_rss_mib,
            large.cpu_seconds / small.cpu_seconds
        );
    }
}
