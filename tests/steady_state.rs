//! Nothing is written to ECS while nothing changed: every example and a set of real-world
//! definitions (tests/fixtures/real-world.yaml) are applied, reach Ready, and then three resyncs
//! against the emulator's ECS-shaped answers (defaults filled in, environment reordered, roles
//! expanded, LATEST resolved, ...) cost zero ECS writes and zero new revisions. Also: an ECS that
//! answers with a proxy's HTML page is reported in one short sentence that does not change from
//! one retry to the next.

mod harness;
mod support;

use std::collections::BTreeMap;

use ecs_operator::api::{EcsCapacityProvider, EcsCluster, EcsService, EcsTaskDefinition};
use harness::{TestOperator, condition, eventually, is_ready, setup, wait_for};
use kube::Client;
use kube::api::{Api, PostParams};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

/// Every document of a YAML file, as JSON.
fn documents(path: &std::path::Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap();
    serde_yaml::Deserializer::from_str(&text)
        .map(|doc| Value::deserialize(doc).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
        .collect()
}

/// The examples and the real-world fixtures, with unique ECS names and the emulator's network
/// and target group in place of the placeholders.
fn manifests() -> Vec<Value> {
    let root = support::repo_root();
    let mut files: Vec<_> = std::fs::read_dir(root.join("examples"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files.push(root.join("tests/fixtures/real-world.yaml"));
    // A run is no steady state: EcsTask examples are left to tests/examples.rs.
    let mut docs: Vec<Value> = files
        .iter()
        .flat_map(|f| documents(f))
        .filter(|d| d["kind"] != "EcsTask")
        .collect();
    let target_group = harness::load_balanced_target_groups(1, 5).remove(0);
    for doc in &mut docs {
        let name = doc["metadata"]["name"].as_str().unwrap().to_string();
        let field = match doc["kind"].as_str() {
            Some("EcsCluster") => "clusterName",
            Some("EcsTaskDefinition") => "family",
            Some("EcsCapacityProvider") => "name",
            _ => "serviceName",
        };
        doc["spec"][field] = json!(support::unique_name(&name));
        if doc["kind"] == "EcsService" {
            harness::use_emulator_network(doc);
            if let Some(balancers) = doc
                .pointer_mut("/spec/loadBalancers")
                .and_then(Value::as_array_mut)
            {
                for balancer in balancers {
                    balancer["targetGroupArn"] = json!(target_group);
                }
            }
        }
    }
    docs
}

async fn create_all<K>(api: &Api<K>, docs: &[Value], kind: &str) -> Vec<String>
where
    K: kube::Resource + Clone + DeserializeOwned + serde::Serialize + std::fmt::Debug,
{
    let mut names = Vec::new();
    for doc in docs.iter().filter(|d| d["kind"] == kind) {
        let obj: K = serde_json::from_value(doc.clone()).unwrap_or_else(|e| panic!("{kind}: {e}"));
        api.create(&PostParams::default(), &obj)
            .await
            .unwrap_or_else(|e| panic!("{kind} {:?}: {e}", doc["metadata"]["name"]));
        names.push(doc["metadata"]["name"].as_str().unwrap().to_string());
    }
    names
}

fn reconciles(operator: &TestOperator, kind: &str) -> u64 {
    let prefix = format!(r#"ecs_operator_reconcile_total{{kind="{kind}"}} "#);
    operator
        .metrics
        .render()
        .lines()
        .find_map(|l| l.strip_prefix(prefix.as_str()))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0)
}

/// Reasons of the Normal events in the namespace that say the operator changed something.
async fn change_events(client: &Client, ns: &str) -> Vec<String> {
    let events: Api<k8s_openapi::api::events::v1::Event> = Api::namespaced(client.clone(), ns);
    events
        .list(&Default::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .filter(|e| {
            matches!(
                e.reason.as_deref(),
                Some("Created" | "Updated" | "DriftCorrected" | "RevisionRegistered")
            )
        })
        .map(|e| {
            format!(
                "{}: {}",
                e.reason.unwrap_or_default(),
                e.note.unwrap_or_default()
            )
        })
        .collect()
}

#[tokio::test]
async fn resyncs_of_the_examples_and_real_world_definitions_write_nothing() {
    let (client, ns) = setup("steady").await;
    let operator = TestOperator::start(&client, &ns).await;
    let docs = manifests();
    let clusters: Api<EcsCluster> = Api::namespaced(client.clone(), &ns);
    let definitions: Api<EcsTaskDefinition> = Api::namespaced(client.clone(), &ns);
    let services: Api<EcsService> = Api::namespaced(client.clone(), &ns);
    let cluster_names = create_all(&clusters, &docs, "EcsCluster").await;
    let definition_names = create_all(&definitions, &docs, "EcsTaskDefinition").await;
    let service_names = create_all(&services, &docs, "EcsService").await;
    let providers: Api<EcsCapacityProvider> = Api::namespaced(client.clone(), &ns);
    let provider_names = create_all(&providers, &docs, "EcsCapacityProvider").await;
    for name in &provider_names {
        wait_for(&providers, name, "Ready", is_ready).await;
    }
    // EC2 capacity for the EC2 service (a DAEMON: one task per instance).
    for name in &cluster_names {
        let cluster = wait_for(&clusters, name, "Ready", is_ready).await;
        harness::add_container_instances(
            cluster.status.unwrap().cluster_name.as_deref().unwrap(),
            2,
        );
    }
    for name in &definition_names {
        wait_for(&definitions, name, "Ready", is_ready).await;
    }
    for name in &service_names {
        wait_for(&services, name, "Ready", is_ready).await;
    }
    let revisions: BTreeMap<String, Option<i32>> = definitions
        .list(&Default::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|d| (d.metadata.name.unwrap(), d.status.and_then(|s| s.revision)))
        .collect();
    let before = support::emulator_calls(&operator.access_key);
    let events_before = change_events(&client, &ns).await.len();

    let reconciles_before: u64 = [
        "EcsCluster",
        "EcsTaskDefinition",
        "EcsService",
        "EcsCapacityProvider",
    ]
    .iter()
    .map(|kind| reconciles(&operator, kind))
    .sum();
    // Three resyncs: every object reconciled three more times.
    let kinds = [
        ("EcsCluster", cluster_names.len() as u64),
        ("EcsTaskDefinition", definition_names.len() as u64),
        ("EcsService", service_names.len() as u64),
        ("EcsCapacityProvider", provider_names.len() as u64),
    ];
    for (kind, objects) in kinds {
        let target = reconciles(&operator, kind) + 3 * objects;
        eventually(
            &format!("three resyncs of every {kind}"),
            || async { reconciles(&operator, kind) },
            |n| *n >= target,
        )
        .await;
    }

    let after = support::emulator_calls(&operator.access_key);
    let delta: BTreeMap<&str, u64> = after
        .iter()
        .map(|(op, n)| (op.as_str(), n - before.get(op).copied().unwrap_or(0)))
        .filter(|(_, n)| *n > 0)
        .collect();
    let writes: BTreeMap<&str, u64> = delta
        .iter()
        .filter(|(op, _)| support::ECS_WRITES.contains(op))
        .map(|(op, n)| (*op, *n))
        .collect();
    assert!(
        writes.is_empty(),
        "writes while nothing changed: {writes:?} (all calls: {delta:?})"
    );
    let now: BTreeMap<String, Option<i32>> = definitions
        .list(&Default::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|d| (d.metadata.name.unwrap(), d.status.and_then(|s| s.revision)))
        .collect();
    assert_eq!(now, revisions, "no new revision");
    let events = change_events(&client, &ns).await;
    assert_eq!(
        events.len(),
        events_before,
        "{:?}",
        &events[events_before..]
    );
    for name in &service_names {
        assert!(is_ready(&services.get(name).await.unwrap()), "{name}");
    }
    let reconciled: u64 = kinds
        .iter()
        .map(|(kind, _)| reconciles(&operator, kind))
        .sum::<u64>()
        - reconciles_before;
    println!(
        "reads over {reconciled} reconciles (at least three resyncs of every object): {delta:?} \
         ({:.2} calls per reconcile)",
        delta.values().sum::<u64>() as f64 / reconciled as f64
    );
}

#[tokio::test]
async fn a_proxy_error_page_reads_as_one_stable_sentence() {
    let (client, ns) = setup("steady-proxy").await;
    let operator = TestOperator::start(&client, &ns).await;
    // Every CreateCluster of this operator meets a proxy's 502 page.
    support::emulator_admin(
        "POST",
        "faults",
        Some(
            json!({"accessKey": operator.access_key, "operation": "CreateCluster", "errorRate": 1.0, "errorBody": "html"}),
        ),
    );
    let clusters: Api<EcsCluster> = Api::namespaced(client.clone(), &ns);
    let cluster: EcsCluster = harness::manifest(json!({
        "apiVersion": "ecs.operator.dev/v1alpha1", "kind": "EcsCluster",
        "metadata": {"name": "apps"},
        "spec": {"clusterName": support::unique_name("apps")}
    }));
    clusters
        .create(&PostParams::default(), &cluster)
        .await
        .unwrap();
    let expected = "ECS CreateCluster failed: HTTP 502 Bad Gateway; retrying";
    let first = wait_for(&clusters, "apps", "the proxy's error", |c| {
        condition(c, "Ready").is_some_and(|r| r.message == expected)
    })
    .await;
    assert_eq!(condition(&first, "Ready").unwrap().reason, "HttpError502");
    let version = first.metadata.resource_version.clone();
    // More attempts fail the same way: the status is not rewritten, one Warning is published.
    let attempts = |n: u64| {
        let key = operator.access_key.clone();
        async move {
            support::emulator_admin("GET", &format!("calls?accessKey={key}"), None)["faulted"]
                ["CreateCluster"]
                .as_u64()
                .unwrap_or(0)
                >= n
        }
    };
    eventually("two more attempts", || attempts(3), |done| *done).await;
    let later = clusters.get("apps").await.unwrap();
    assert_eq!(
        later.metadata.resource_version, version,
        "the status was rewritten"
    );
    let warnings = harness::event_notes::<EcsCluster>(&client, &ns, "apps", "HttpError502").await;
    assert_eq!(warnings, vec![expected.to_string()]);

    // ECS answers again: the cluster is created.
    support::emulator_admin(
        "DELETE",
        &format!("faults?accessKey={}", operator.access_key),
        None,
    );
    wait_for(&clusters, "apps", "Ready", is_ready).await;
}
