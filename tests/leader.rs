//! High availability: two operator processes share one API server; only the Lease holder
//! reconciles; when it is killed the other takes over within the lease duration; a replica
//! stopped with SIGTERM releases the Lease.

mod harness;
mod support;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ecs_operator::api::EcsCluster;
use harness::{eventually, is_ready, manifest, setup, wait_for};
use k8s_openapi::api::coordination::v1::Lease;
use kube::api::{Api, PostParams};
use kube::config::Kubeconfig;
use serde_json::json;
use tokio::io::copy_bidirectional;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::AbortHandle;

const LEASE: &str = "ecs-operator-test";
const LEASE_DURATION: Duration = Duration::from_secs(8);

fn replica(name: &str, namespace: &str) -> Replica {
    replica_with(name, namespace, None)
}

/// A replica reaching the API server through `kubeconfig` if given.
fn replica_with(name: &str, namespace: &str, kubeconfig: Option<&Path>) -> Replica {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ecs-operator"));
    command
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
        .stderr(Stdio::inherit());
    if let Some(kubeconfig) = kubeconfig {
        command.env("KUBECONFIG", kubeconfig);
    }
    Replica(command.spawn().expect("the operator binary starts"))
}

/// An operator process, killed when dropped so that a failing test leaves none behind.
struct Replica(Child);

impl std::ops::Deref for Replica {
    type Target = Child;
    fn deref(&self) -> &Child {
        &self.0
    }
}

impl std::ops::DerefMut for Replica {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.0
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(None)) {
            let _ = self.0.kill();
        }
        let _ = self.0.wait();
    }
}

/// A TCP relay in front of the API server that can be cut: a network partition for one replica.
struct Relay {
    address: SocketAddr,
    tasks: Arc<Mutex<Vec<AbortHandle>>>,
}

impl Relay {
    async fn to(target: SocketAddr) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let tasks = Arc::new(Mutex::new(Vec::new()));
        let connections = tasks.clone();
        let accept = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let relay = tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(target).await {
                        let _ = copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                connections.lock().unwrap().push(relay.abort_handle());
            }
        });
        tasks.lock().unwrap().push(accept.abort_handle());
        Relay { address, tasks }
    }

    /// Refuses new connections and drops the open ones.
    fn cut(&self) {
        for task in self.tasks.lock().unwrap().drain(..) {
            task.abort();
        }
    }
}

/// A copy of the admin kubeconfig that reaches the API server through `relay` (the server
/// certificate is for 127.0.0.1, so TLS still verifies); removed when dropped, as it holds the
/// admin credentials.
struct RelayedKubeconfig(PathBuf);

impl RelayedKubeconfig {
    fn through(relay: &Relay, server: &str) -> RelayedKubeconfig {
        let original = std::fs::read_to_string(&support::env().kubeconfig).unwrap();
        let relayed = original.replace(server, &format!("https://{}", relay.address));
        assert_ne!(relayed, original, "the kubeconfig names {server}");
        let kubeconfig = &support::env().kubeconfig;
        let path =
            kubeconfig.with_file_name(format!("{}.kubeconfig", support::unique_name("relay")));
        std::fs::write(&path, relayed).unwrap();
        RelayedKubeconfig(path)
    }
}

impl Drop for RelayedKubeconfig {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn api_server() -> (String, SocketAddr) {
    let kubeconfig = Kubeconfig::read_from(&support::env().kubeconfig).unwrap();
    let server = kubeconfig.clusters[0]
        .cluster
        .as_ref()
        .and_then(|c| c.server.clone())
        .unwrap();
    let address = server.trim_start_matches("https://").parse().unwrap();
    (server, address)
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

/// Creates an EcsCluster and waits until the current leader has made it Ready.
async fn leader_reconciles(clusters: &Api<EcsCluster>, name: &str) {
    clusters
        .create(&PostParams::default(), &cluster(name))
        .await
        .unwrap();
    wait_for(clusters, name, "Ready (reconciled by the leader)", is_ready).await;
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

    leader_reconciles(&clusters, "before").await;
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

    leader_reconciles(&clusters, "after").await;

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

#[tokio::test]
async fn a_leader_cut_off_from_the_api_server_stops_before_a_standby_takes_over() {
    let (client, ns) = setup("partition").await;
    let leases: Api<Lease> = Api::namespaced(client.clone(), &ns);
    let clusters: Api<EcsCluster> = Api::namespaced(client.clone(), &ns);

    let (server, address) = api_server();
    let relay = Relay::to(address).await;
    let kubeconfig = RelayedKubeconfig::through(&relay, &server);
    let mut first = replica_with("replica-a", &ns, Some(&kubeconfig.0));
    eventually(
        "replica-a leads",
        || holder(&leases),
        |h| h.as_deref() == Some("replica-a"),
    )
    .await;
    let mut second = replica("replica-b", &ns);
    leader_reconciles(&clusters, "before").await;

    // The partition: replica-a can no longer renew, and is never told that it lost the Lease.
    relay.cut();
    let cut = Instant::now();
    let (mut exited, mut taken_over) = (None, None);
    while (exited.is_none() || taken_over.is_none()) && cut.elapsed() < harness::CONVERGE {
        // The takeover first: when both happen between two looks, the check below fails.
        if taken_over.is_none() && holder(&leases).await.as_deref() == Some("replica-b") {
            taken_over = Some(cut.elapsed());
        }
        if exited.is_none()
            && let Some(status) = first.try_wait().unwrap()
        {
            exited = Some((cut.elapsed(), status));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (exited, status) = exited.expect("the partitioned leader exits");
    let taken_over = taken_over.expect("the standby takes over");
    println!(
        "after the partition: the leader stopped at {exited:?}, the standby led at {taken_over:?}"
    );
    assert!(
        !status.success(),
        "stepping down is a failure exit, got {status}"
    );
    assert!(
        exited < taken_over,
        "never two leaders: stopped at {exited:?}, taken over at {taken_over:?}"
    );

    leader_reconciles(&clusters, "after").await;
    terminate(&second);
    let _ = tokio::task::spawn_blocking(move || second.wait()).await;
}
