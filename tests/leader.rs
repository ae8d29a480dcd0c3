//! High availability: two operator processes share one API server; only the Lease holder
//! reconciles; when it is killed the other takes over within the lease duration; a replica
//! stopped with SIGTERM releases the Lease.

mod harness;
mod support;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ecs_operator::api::EcsCluster;
use harness::{eventually, is_ready, manifest, setup, wait_for};
use k8s_openapi::api::coordination::v1::Lease;
use kube::api::{Api, PostParams};
use serde_json::json;

const LEASE: &str = "ecs-operator-test";
const LEASE_DURATION: Duration = Duration::from_secs(4);

fn replica(name: &str, namespace: &str) -> Child {
    Command::new(env!("CARGO_BIN_EXE_ecs-operator"))
        .args([
            "run",
            "--leader-election",
            "--log-format",
            "text",
            "--admin-address",
            "127.0.0.1:0",
        ])
        .args([
            "--namespace",
            namespace,
            "--lease-namespace",
            namespace,
            "--lease-name",
            LEASE,
        ])
        .args([
            "--lease-duration",
            &format!("{}s", LEASE_DURATION.as_secs()),
            "--resync-period",
            "5s",
        ])
        .envs(&support::env().vars)
        .env("POD_NAME", name)
        .env("LOG_LEVEL", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the operator binary starts")
}

async fn holder(leases: &Api<Lease>) -> Option<String> {
    leases
        .get_opt(LEASE)
        .await
        .ok()
        .flatten()?
        .spec?
        .holder_identity
        .filter(|h| !h.is_empty())
}

fn cluster(name: &str) -> EcsCluster {
    manifest(json!({
        "apiVersion": "ecs.operator.dev/v1alpha1",
        "kind": "EcsCluster",
        "metadata": {"name": name},
        "spec": {"clusterName": support::unique_name(name)}
    }))
}

fn terminate(child: &Child) {
    // SIGTERM, as the kubelet does.
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
}

#[tokio::test]
async fn a_standby_takes_over_when_the_leader_dies() {
    let (client, ns) = setup("leader").await;
    let leases: Api<Lease> = Api::namespaced(client.clone(), &ns);
    let clusters: Api<EcsCluster> = Api::namespaced(client.clone(), &ns);

    let mut first = replica("replica-a", &ns);
    eventually(
        "replica-a leads",
        || holder(&leases),
        |h| h.as_deref() == Some("replica-a"),
    )
    .await;
    let mut second = replica("replica-b", &ns);

    clusters
        .create(&PostParams::default(), &cluster("before"))
        .await
        .unwrap();
    wait_for(
        &clusters,
        "before",
        "Ready (reconciled by the leader)",
        is_ready,
    )
    .await;
    // The standby did not take the Lease meanwhile.
    assert_eq!(holder(&leases).await.as_deref(), Some("replica-a"));

    first.kill().expect("kill the leader");
    let _ = first.wait();
    let killed = Instant::now();
    eventually(
        "replica-b leads",
        || holder(&leases),
        |h| h.as_deref() == Some("replica-b"),
    )
    .await;
    let takeover = killed.elapsed();
    println!("takeover after the leader died: {takeover:?} (lease duration {LEASE_DURATION:?})");
    assert!(takeover < LEASE_DURATION * 3, "took over in {takeover:?}");

    clusters
        .create(&PostParams::default(), &cluster("after"))
        .await
        .unwrap();
    wait_for(
        &clusters,
        "after",
        "Ready (reconciled by the new leader)",
        is_ready,
    )
    .await;

    terminate(&second);
    let status = tokio::task::spawn_blocking(move || second.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(
        status.success(),
        "a graceful shutdown exits 0, got {status}"
    );
    eventually("the Lease released", || holder(&leases), Option::is_none).await;
}
