//! The operator under test: started in-process against the local environment, scoped to one
//! test's namespace, and helpers to wait for what it writes back.
#![allow(dead_code)]

use std::time::Duration;

use ecs_operator::cli::RunArgs;
use ecs_operator::operator::Operator;
use ecs_operator::runtime::telemetry::LogFormat;
use k8s_openapi::api::events::v1::Event;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::api::{Api, ListParams};
use kube::{Client, Resource};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::support;

/// How long a test waits for the operator to converge.
pub const CONVERGE: Duration = Duration::from_secs(60);
/// The resync period of the operator under test: short, so drift tests do not wait long.
pub const TEST_RESYNC: Duration = Duration::from_secs(3);

/// One operator instance watching one namespace. Stopped on drop.
pub struct TestOperator {
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
    /// What `/readyz` answers from.
    pub readiness: ecs_operator::runtime::admin::Readiness,
    /// What `/metrics` renders.
    pub metrics: std::sync::Arc<ecs_operator::runtime::metrics::Metrics>,
    /// The access key it signs ECS calls with: the emulator counts its calls under it
    /// ([`support::emulator_calls`]).
    pub access_key: String,
    /// The runtime of an operator started by [`TestOperator::start_crashable`].
    runtime: Option<tokio::runtime::Runtime>,
}

impl TestOperator {
    pub async fn start(client: &Client, namespace: &str) -> TestOperator {
        Self::start_in_region(client, namespace, &support::env().region).await
    }

    /// An operator whose own region is `region` (`--region`).
    pub async fn start_in_region(client: &Client, namespace: &str, region: &str) -> TestOperator {
        // One access key per namespace: a restarted operator counts as the same caller.
        let access_key = format!("op-{namespace}");
        let aws = support::sdk_config_for(region, &access_key).await;
        Self::start_with(client, namespace, aws, access_key).await
    }

    async fn start_with(
        client: &Client,
        namespace: &str,
        aws: aws_config::SdkConfig,
        access_key: String,
    ) -> TestOperator {
        let args = test_args(namespace);
        if std::env::var_os("RUST_LOG").is_some() {
            ecs_operator::runtime::telemetry::init("info", LogFormat::Text);
        }
        let operator = Operator::new(client.clone(), aws, &args)
            .await
            .expect("operator starts");
        let (stop, shutdown) = watch::channel(false);
        let (readiness, metrics) = (operator.readiness.clone(), operator.metrics.clone());
        let task = tokio::spawn(async move { operator.run_controllers(&args, shutdown).await });
        TestOperator {
            stop,
            task: Some(task),
            readiness,
            metrics,
            access_key,
            runtime: None,
        }
    }

    /// Reconciles of `kind` so far (`ecs_operator_reconcile_total`).
    pub fn reconciles(&self, kind: &str) -> u64 {
        let prefix = format!(r#"ecs_operator_reconcile_total{{kind="{kind}"}} "#);
        self.metrics
            .render()
            .lines()
            .find_map(|l| l.strip_prefix(prefix.as_str()))
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or(0)
    }

    /// Waits until every one of `objects` objects of `kind` was reconciled `resyncs` more times.
    pub async fn resyncs(&self, kind: &str, objects: u64, resyncs: u64) {
        let target = self.reconciles(kind) + objects * resyncs;
        eventually(
            &format!("{resyncs} resyncs of every {kind}"),
            || async { self.reconciles(kind) },
            |n| *n >= target,
        )
        .await;
    }

    /// An operator on a runtime of its own, with its own Kubernetes and ECS clients, connections
    /// and tasks, which [`TestOperator::crash`] ends at once as `kill -9` ends a process.
    pub async fn start_crashable(namespace: &str) -> TestOperator {
        let access_key = format!("op-{namespace}");
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a runtime for the operator");
        let (started, ready) = tokio::sync::oneshot::channel();
        let (stop, shutdown) = watch::channel(false);
        let (namespace, key) = (namespace.to_string(), access_key.clone());
        let task = runtime.spawn(async move {
            let client = support::kube_client().await;
            let aws = support::sdk_config_for(&support::env().region, &key).await;
            let args = test_args(&namespace);
            let operator = Operator::new(client, aws, &args)
                .await
                .expect("operator starts");
            let _ = started.send((operator.readiness.clone(), operator.metrics.clone()));
            operator.run_controllers(&args, shutdown).await
        });
        let (readiness, metrics) = ready.await.expect("the operator started");
        TestOperator {
            stop,
            task: Some(task),
            readiness,
            metrics,
            access_key,
            runtime: Some(runtime),
        }
    }

    /// Ends an operator started by [`TestOperator::start_crashable`] at once: its runtime goes,
    /// and with it every reconcile wherever it is (an ECS call sent but not answered, a status
    /// write not made) and every connection; nothing shuts down gracefully.
    pub fn crash(mut self) {
        let runtime = self.runtime.take().expect("started by start_crashable");
        runtime.shutdown_background();
    }

    /// Stops it and waits until in-flight reconciles are done (a "restart" is stop + start).
    pub async fn stop(mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            let _ = tokio::time::timeout(Duration::from_secs(30), task).await;
        }
    }
}

impl Drop for TestOperator {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        // A runtime may not be dropped where blocking is not allowed (inside a test's runtime).
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// The arguments of an operator under test: it watches `namespace` only.
fn test_args(namespace: &str) -> RunArgs {
    RunArgs {
        namespaces: vec![namespace.to_string()],
        resync_period: TEST_RESYNC,
        concurrency: 4,
        region: None,
        admin_address: "127.0.0.1:0".parse().unwrap(),
        log_level: "info".into(),
        log_format: LogFormat::Text,
        leader_election: false,
        lease_name: "ecs-operator".into(),
        lease_namespace: namespace.to_string(),
        lease_duration: Duration::from_secs(15),
    }
}

/// A condition of any of the kinds, read through its JSON.
pub fn condition<K: Serialize>(obj: &K, type_: &str) -> Option<Condition> {
    let value = serde_json::to_value(obj).ok()?;
    let conditions = value.pointer("/status/conditions")?.as_array()?.clone();
    conditions
        .into_iter()
        .filter_map(|c| serde_json::from_value::<Condition>(c).ok())
        .find(|c| c.type_ == type_)
}

/// Ready=True for the object's current generation.
pub fn is_ready<K: Serialize + Resource>(obj: &K) -> bool {
    condition(obj, "Ready")
        .is_some_and(|c| c.status == "True" && c.observed_generation == obj.meta().generation)
}

/// Stalled=True (whatever the generation).
pub fn is_stalled<K: Serialize>(obj: &K) -> bool {
    condition(obj, "Stalled").is_some_and(|c| c.status == "True")
}

/// Tags an ECS resource directly in the emulator, behind the operator's back.
pub async fn tag_in_ecs(arn: &str, tags: &[(&str, &str)]) {
    let tags = tags
        .iter()
        .map(|(key, value)| {
            aws_sdk_ecs::types::Tag::builder()
                .key(*key)
                .value(*value)
                .build()
        })
        .collect();
    support::ecs_client()
        .tag_resource()
        .resource_arn(arn)
        .set_tags(Some(tags))
        .send()
        .await
        .expect("tag the ECS resource");
}

/// Polls the object until `check` holds, or panics with the last state seen.
pub async fn wait_for<K>(api: &Api<K>, name: &str, what: &str, check: impl Fn(&K) -> bool) -> K
where
    K: Resource + Clone + DeserializeOwned + std::fmt::Debug + Serialize,
{
    let deadline = tokio::time::Instant::now() + CONVERGE;
    let mut last = None;
    while tokio::time::Instant::now() < deadline {
        if let Ok(obj) = api.get(name).await {
            if check(&obj) {
                return obj;
            }
            last = Some(obj);
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    panic!(
        "{name}: not {what} within {CONVERGE:?}; last seen status: {}",
        last.and_then(|o| serde_json::to_value(o).ok())
            .and_then(|v| v.get("status").cloned())
            .unwrap_or_default()
    );
}

/// Polls until `check` holds for a value produced by `probe` (ECS state, events...).
pub async fn eventually<T: std::fmt::Debug, F, Fut>(
    what: &str,
    probe: F,
    check: impl Fn(&T) -> bool,
) -> T
where
    F: Fn() -> Fut,
    Fut: Future<Output = T>,
{
    let deadline = tokio::time::Instant::now() + CONVERGE;
    loop {
        let value = probe().await;
        if check(&value) {
            return value;
        }
        if tokio::time::Instant::now() > deadline {
            panic!("not {what} within {CONVERGE:?}; last: {value:?}");
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Waits until the object is gone from the API server (its finalizer removed).
pub async fn wait_gone<K>(api: &Api<K>, name: &str)
where
    K: Resource + Clone + DeserializeOwned + std::fmt::Debug,
{
    let deadline = tokio::time::Instant::now() + CONVERGE;
    while tokio::time::Instant::now() < deadline {
        if matches!(api.get_opt(name).await, Ok(None)) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    panic!("{name} still exists after {CONVERGE:?}");
}

/// An Event as a test reads it (`count` > 1 when the recorder folded repeats into a series, which
/// keeps the first note).
#[derive(Debug)]
pub struct SeenEvent {
    pub type_: String,
    pub reason: String,
    pub note: String,
    pub count: i32,
}

/// The events on the `K` named `name` in `namespace`.
pub async fn events<K: Resource<DynamicType = ()>>(
    client: &Client,
    namespace: &str,
    name: &str,
) -> Vec<SeenEvent> {
    let api: Api<Event> = Api::namespaced(client.clone(), namespace);
    let list = api.list(&ListParams::default()).await.expect("list events");
    list.items
        .into_iter()
        .filter(|e| {
            e.regarding.as_ref().is_some_and(|r| {
                r.kind.as_deref() == Some(&*K::kind(&())) && r.name.as_deref() == Some(name)
            })
        })
        .map(|e| SeenEvent {
            count: e.series.as_ref().map_or(1, |s| s.count),
            type_: e.type_.unwrap_or_default(),
            reason: e.reason.unwrap_or_default(),
            note: e.note.unwrap_or_default(),
        })
        .collect()
}

/// The reasons of the events on the `K` named `name`.
pub async fn event_reasons<K: Resource<DynamicType = ()>>(
    client: &Client,
    namespace: &str,
    name: &str,
) -> Vec<String> {
    let events = events::<K>(client, namespace, name).await;
    events.into_iter().map(|e| e.reason).collect()
}

/// The notes of the events of `reason` on the `K` named `name`.
pub async fn event_notes<K: Resource<DynamicType = ()>>(
    client: &Client,
    namespace: &str,
    name: &str,
    reason: &str,
) -> Vec<String> {
    let events = events::<K>(client, namespace, name).await;
    events
        .into_iter()
        .filter(|e| e.reason == reason)
        .map(|e| e.note)
        .collect()
}

/// Waits for an event of `reason` whose note passes `check`, and returns the notes of that reason.
/// Needed after seeing a change in ECS: the event follows the ECS call that made the change.
/// (A change seen in the object's status or its deletion needs no wait: events go out first.)
pub async fn wait_for_event<K: Resource<DynamicType = ()>>(
    client: &Client,
    namespace: &str,
    name: &str,
    reason: &str,
    check: impl Fn(&str) -> bool,
) -> Vec<String> {
    eventually(
        &format!("a {reason} event on {name}"),
        || event_notes::<K>(client, namespace, name, reason),
        |notes| notes.iter().any(|n| check(n)),
    )
    .await
}

/// The tags of an ECS resource, as a map.
pub async fn ecs_tags(arn: &str) -> std::collections::BTreeMap<String, String> {
    let output = support::ecs_client()
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .expect("list tags");
    output
        .tags()
        .iter()
        .map(|t| {
            (
                t.key().unwrap_or_default().to_string(),
                t.value().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// Admin client, CRDs installed, and a fresh namespace.
pub async fn setup(prefix: &str) -> (Client, String) {
    let client = support::kube_client().await;
    support::install_crds(&client).await;
    let namespace = support::test_namespace(&client, prefix).await;
    (client, namespace)
}

/// Parses a YAML/JSON manifest into a typed object.
pub fn manifest<K: DeserializeOwned>(value: serde_json::Value) -> K {
    serde_json::from_value(value).expect("valid manifest")
}

/// Calls an AWS query-protocol API (EC2, ELBv2) of the emulator's moto with curl (the tests have
/// no SDK for those; moto does not check signatures) and returns the XML answer.
pub fn aws_query(service: &str, version: &str, action: &str, params: &[(&str, &str)]) -> String {
    aws_query_in(&support::env().region, service, version, action, params)
}

/// [`aws_query`] in another region.
pub fn aws_query_in(
    region: &str,
    service: &str,
    version: &str,
    action: &str,
    params: &[(&str, &str)],
) -> String {
    let env = support::env();
    let mut form = format!("Action={action}&Version={version}");
    for (key, value) in params {
        form.push_str(&format!("&{key}={value}"));
    }
    let output = std::process::Command::new("curl")
        .args(["-sS", "--fail-with-body", "--max-time", "10", "-X", "POST"])
        .arg(format!("{}/", env.ecs_endpoint))
        .args(["-H", "Content-Type: application/x-www-form-urlencoded"])
        .arg("-H")
        .arg(format!(
            "Authorization: AWS4-HMAC-SHA256 Credential={}/20260101/{region}/{service}/aws4_request, SignedHeaders=host, Signature=0",
            env.access_key_id
        ))
        .args(["--data", &form])
        .output()
        .expect("curl runs");
    let body = String::from_utf8_lossy(&output.stdout).to_string();
    assert!(output.status.success(), "{service} {action}: {body}");
    body
}

/// Every `<tag>value</tag>` of an XML answer, in order.
pub fn xml_values(xml: &str, tag: &str) -> Vec<String> {
    let open = format!("<{tag}>");
    xml.split(&open)
        .skip(1)
        .filter_map(|rest| rest.split('<').next())
        .map(str::to_string)
        .collect()
}

/// The default VPC's subnets and security group in the ECS emulator's EC2 backend (ECS checks
/// that awsvpc subnets and security groups exist): (subnet ids, security group id).
pub fn emulator_network() -> (Vec<String>, String) {
    emulator_network_in(&support::env().region)
}

/// [`emulator_network`] of another region.
pub fn emulator_network_in(region: &str) -> (Vec<String>, String) {
    let ec2 = |action: &str| aws_query_in(region, "ec2", "2016-11-15", action, &[]);
    let mut subnets = xml_values(&ec2("DescribeSubnets"), "subnetId");
    subnets.truncate(2);
    let group = xml_values(&ec2("DescribeSecurityGroups"), "groupId")
        .into_iter()
        .next()
        .expect("a default security group");
    assert!(!subnets.is_empty(), "the emulator has default subnets");
    (subnets, group)
}

/// `count` target groups behind an Application Load Balancer in the emulator's default VPC, one
/// HTTP listener each (ECS refuses a target group without a load balancer: "The target group with
/// targetGroupArn ... does not have an associated load balancer."), each with a deregistration
/// delay of `delay_seconds`: the emulator drains a load-balanced task for that long, as ELB does
/// (the default, 300 s, would make every test that stops such a task wait 30 s). Their ARNs.
pub fn load_balanced_target_groups(count: usize, delay_seconds: u32) -> Vec<String> {
    let elb = |action: &str, params: &[(&str, &str)]| {
        aws_query("elasticloadbalancing", "2015-12-01", action, params)
    };
    let (subnets, group) = emulator_network();
    let name = support::unique_name("lb");
    let mut params = vec![
        ("Name", name.as_str()),
        ("Type", "application"),
        ("SecurityGroups.member.1", group.as_str()),
    ];
    let keys: Vec<String> = (1..=subnets.len())
        .map(|i| format!("Subnets.member.{i}"))
        .collect();
    params.extend(
        keys.iter()
            .map(String::as_str)
            .zip(subnets.iter().map(String::as_str)),
    );
    let load_balancer = xml_values(&elb("CreateLoadBalancer", &params), "LoadBalancerArn")
        .into_iter()
        .next()
        .expect("a load balancer ARN");
    (0..count)
        .map(|i| {
            let target_group = target_group(&support::unique_name("tg"), delay_seconds);
            let port = (80 + i).to_string();
            elb(
                "CreateListener",
                &[
                    ("LoadBalancerArn", load_balancer.as_str()),
                    ("Protocol", "HTTP"),
                    ("Port", port.as_str()),
                    ("DefaultActions.member.1.Type", "forward"),
                    (
                        "DefaultActions.member.1.TargetGroupArn",
                        target_group.as_str(),
                    ),
                ],
            );
            target_group
        })
        .collect()
}

/// A target group (type ip, in the default VPC) with the given deregistration delay; its ARN.
fn target_group(name: &str, delay_seconds: u32) -> String {
    let vpc = xml_values(
        &aws_query("ec2", "2016-11-15", "DescribeVpcs", &[]),
        "vpcId",
    )
    .into_iter()
    .next()
    .expect("a default VPC");
    let created = aws_query(
        "elasticloadbalancing",
        "2015-12-01",
        "CreateTargetGroup",
        &[
            ("Name", name),
            ("Protocol", "HTTP"),
            ("Port", "8080"),
            ("VpcId", &vpc),
            ("TargetType", "ip"),
        ],
    );
    let arn = xml_values(&created, "TargetGroupArn")
        .into_iter()
        .next()
        .expect("a target group ARN");
    let delay = delay_seconds.to_string();
    aws_query(
        "elasticloadbalancing",
        "2015-12-01",
        "ModifyTargetGroupAttributes",
        &[
            ("TargetGroupArn", &arn),
            (
                "Attributes.member.1.Key",
                "deregistration_delay.timeout_seconds",
            ),
            ("Attributes.member.1.Value", &delay),
        ],
    );
    arn
}

/// Registers `count` EC2 container instances with an ECS cluster in the emulator, so that EC2
/// tasks can be placed there (as an Auto Scaling group's instances would join it).
pub fn add_container_instances(cluster: &str, count: u32) {
    support::emulator_admin(
        "POST",
        "container-instances",
        Some(
            serde_json::json!({"cluster": cluster, "count": count, "region": support::env().region}),
        ),
    );
}

/// Points an EcsService manifest's awsvpc configuration at the emulator's default VPC.
pub fn use_emulator_network(service: &mut serde_json::Value) {
    let (subnets, group) = emulator_network();
    if let Some(awsvpc) = service.pointer_mut("/spec/networkConfiguration/awsvpcConfiguration") {
        awsvpc["subnets"] = serde_json::json!(subnets);
        awsvpc["securityGroups"] = serde_json::json!([group]);
    }
}
