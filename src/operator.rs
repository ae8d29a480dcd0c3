//! Assembles the running operator: clients, context, the controllers, the admin server,
//! and shutdown.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use aws_config::SdkConfig;
use futures::future::join_all;
use kube::api::Api;
use kube::runtime::watcher;
use tokio::sync::watch;

use crate::api::{
    EcsCapacityProvider, EcsCluster, EcsScheduledTask, EcsService, EcsTask, EcsTaskDefinition,
};
use crate::cli::RunArgs;
use crate::controller::{self, Context};
use crate::ecs::Ecs;
use crate::runtime::admin::{self, Readiness};
use crate::runtime::leadership;
use crate::runtime::metrics::Metrics;
use crate::{Error, Result};

/// Installs the one rustls crypto provider that both kube and the AWS SDK use.
pub fn install_crypto_provider() {
    // Err means it is installed already (tests install it more than once).
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}

/// The AWS configuration from the default chain (env, profile, IRSA, Pod Identity, IMDS), with
/// the region overridden when asked. The endpoint comes from AWS_ENDPOINT_URL_ECS if set.
pub async fn aws_config(region: Option<String>) -> SdkConfig {
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
    if let Some(region) = region {
        loader = loader.region(aws_config::Region::new(region));
    }
    // Without these the SDK only bounds connecting: a half-open connection would hang a
    // reconcile (and a whole DescribeServices batch), or a one-shot command, forever. ECS answers in well under a second;
    // a call unanswered for 5 s makes the region suspect anyway (`ecs::health`).
    let timeouts = aws_config::timeout::TimeoutConfig::builder()
        .connect_timeout(std::time::Duration::from_secs(3))
        .operation_attempt_timeout(std::time::Duration::from_secs(10))
        .operation_timeout(std::time::Duration::from_secs(30))
        .build();
    loader.timeout_config(timeouts).load().await
}

/// A running operator's handles.
pub struct Operator {
    pub ctx: Arc<Context>,
    pub readiness: Readiness,
    pub metrics: Arc<Metrics>,
}

impl Operator {
    pub async fn new(client: kube::Client, aws: SdkConfig, args: &RunArgs) -> Result<Operator> {
        let metrics = Arc::new(Metrics::default());
        let ecs = Ecs::new(aws, metrics.clone(), args.resync_period);
        let cluster_id = controller::cluster_id(&client).await?;
        let ctx = Arc::new(Context::new(
            client,
            ecs,
            metrics.clone(),
            cluster_id,
            args.resync_period,
        ));
        Ok(Operator {
            ctx,
            readiness: Readiness::default(),
            metrics,
        })
    }

    /// Runs the controllers until `shutdown` resolves, then lets in-flight reconciles finish.
    pub async fn run_controllers(&self, args: &RunArgs, shutdown: watch::Receiver<bool>) {
        let scopes: Vec<Option<String>> = if args.namespaces.is_empty() {
            vec![None]
        } else {
            args.namespaces.iter().cloned().map(Some).collect()
        };
        let client = self.ctx.client.clone();
        let mut runs = Vec::new();
        let mut stores_ready = Vec::new();
        let mut live: Vec<LiveObjects> = Vec::new();
        for namespace in scopes {
            let config = watcher::Config::default();
            let (clusters, cluster_store) = controller::cluster::controller(
                scoped(&client, &namespace),
                scoped::<EcsCapacityProvider>(&client, &namespace),
                config.clone(),
            );
            let (providers, provider_store) = controller::capacity_provider::controller(
                scoped(&client, &namespace),
                config.clone(),
            );
            let (definitions, definition_store) = controller::task_definition::controller(
                scoped(&client, &namespace),
                config.clone(),
            );
            let dependencies = || controller::refs::Dependencies {
                definitions: scoped::<EcsTaskDefinition>(&client, &namespace),
                clusters: scoped::<EcsCluster>(&client, &namespace),
                config: config.clone(),
            };
            let (services, service_store) = controller::service::controller(
                scoped::<EcsService>(&client, &namespace),
                dependencies(),
            );
            let (tasks, task_store) = controller::task::controller(
                scoped::<EcsTask>(&client, &namespace),
                dependencies(),
            );
            let (schedules, schedule_store) = controller::schedule::controller(
                scoped::<EcsScheduledTask>(&client, &namespace),
                dependencies(),
            );
            self.ctx.add_service_store(service_store.clone());
            live.push(live_objects(cluster_store.clone()));
            live.push(live_objects(definition_store.clone()));
            live.push(live_objects(service_store.clone()));
            live.push(live_objects(task_store.clone()));
            live.push(live_objects(schedule_store.clone()));
            live.push(live_objects(provider_store.clone()));
            stores_ready.push(async move {
                synced(&cluster_store).await;
                synced(&definition_store).await;
                synced(&service_store).await;
                synced(&task_store).await;
                synced(&schedule_store).await;
                synced(&provider_store).await;
            });
            let concurrency = args.concurrency;
            runs.push(tokio::spawn(controller::run(
                self.ctx.clone(),
                clusters,
                concurrency,
                signal(&shutdown),
                controller::cluster::reconcile,
                controller::cluster::error_policy,
            )));
            runs.push(tokio::spawn(controller::run(
                self.ctx.clone(),
                definitions,
                concurrency,
                signal(&shutdown),
                controller::task_definition::reconcile,
                controller::task_definition::error_policy,
            )));
            runs.push(tokio::spawn(controller::run(
                self.ctx.clone(),
                services,
                concurrency,
                signal(&shutdown),
                controller::service::reconcile,
                controller::service::error_policy,
            )));
            runs.push(tokio::spawn(controller::run(
                self.ctx.clone(),
                tasks,
                concurrency,
                signal(&shutdown),
                controller::task::reconcile,
                controller::task::error_policy,
            )));
            runs.push(tokio::spawn(controller::run(
                self.ctx.clone(),
                schedules,
                concurrency,
                signal(&shutdown),
                controller::schedule::reconcile,
                controller::schedule::error_policy,
            )));
            runs.push(tokio::spawn(controller::run(
                self.ctx.clone(),
                providers,
                concurrency,
                signal(&shutdown),
                controller::capacity_provider::reconcile,
                controller::capacity_provider::error_policy,
            )));
        }
        let readiness = self.readiness.clone();
        let metrics = self.metrics.clone();
        let mut stop = shutdown.clone();
        tokio::spawn(async move {
            join_all(stores_ready).await;
            tracing::info!("initial sync done: ready");
            readiness.set_ready();
            // An object deleted without a last reconcile (its finalizer removed by hand) leaves
            // the caches but would stay in the object counts.
            let mut every_minute = tokio::time::interval(Duration::from_secs(60));
            loop {
                tokio::select! {
                    _ = every_minute.tick() => {
                        let known: HashSet<(&'static str, String)> =
                            live.iter().flat_map(|objects| objects()).collect();
                        metrics.retain_objects(|kind, uid| known.contains(&(kind, uid.to_string())));
                    }
                    _ = stop.wait_for(|stop| *stop) => break,
                }
            }
        });
        join_all(runs).await;
    }
}

/// The (kind, uid) of every object a cache holds.
type LiveObjects = Box<dyn Fn() -> Vec<(&'static str, String)> + Send + Sync>;

fn live_objects<K: controller::Managed>(store: kube::runtime::reflector::Store<K>) -> LiveObjects {
    Box::new(move || {
        store
            .state()
            .iter()
            .filter_map(|obj| Some((K::KIND, obj.meta().uid.clone()?)))
            .collect()
    })
}

/// Waits for a store's initial list. The store's readiness signal wakes only one waiter (the
/// controller also waits on it), so a second waiter polls it again now and then.
async fn synced<K>(store: &kube::runtime::reflector::Store<K>)
where
    K: kube::runtime::reflector::Lookup + Clone + 'static,
    K::DynamicType: Eq + std::hash::Hash + Clone,
{
    while tokio::time::timeout(
        std::time::Duration::from_millis(200),
        store.wait_until_ready(),
    )
    .await
    .is_err()
    {}
}

fn scoped<K>(client: &kube::Client, namespace: &Option<String>) -> Api<K>
where
    K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()>,
{
    match namespace {
        Some(ns) => Api::namespaced(client.clone(), ns),
        None => Api::all(client.clone()),
    }
}

/// A future that resolves when shutdown is signalled.
fn signal(shutdown: &watch::Receiver<bool>) -> impl Future<Output = ()> + Send + Sync + 'static {
    let mut receiver = shutdown.clone();
    async move {
        let _ = receiver.wait_for(|stop| *stop).await;
    }
}

/// `ecs-operator run`: everything, until SIGTERM or Ctrl-C.
pub async fn run(args: RunArgs) -> Result<()> {
    crate::runtime::telemetry::init(&args.log_level, args.log_format);
    let client = kube::Client::try_default()
        .await
        .map_err(crate::Error::from)?;
    let aws = aws_config(args.region.clone()).await;
    if aws.region().is_none() {
        tracing::warn!(
            "no AWS region configured (--region, AWS_REGION or a profile): objects without spec.region go to us-east-1"
        );
    }
    let operator = Operator::new(client.clone(), aws, &args).await?;
    let (stop, shutdown) = watch::channel(false);

    let admin_shutdown = signal(&shutdown);
    let router = admin::router(operator.metrics.clone(), operator.readiness.clone());
    let listener = admin::bind(args.admin_address).await?;
    let admin = tokio::spawn(async move { admin::serve(listener, router, admin_shutdown).await });

    tokio::spawn(async move {
        wait_for_termination().await;
        tracing::info!("shutting down");
        let _ = stop.send(true);
    });
    tracing::info!(version = env!("CARGO_PKG_VERSION"), namespaces = ?args.namespaces, "starting");
    let result = if args.leader_election {
        run_as_elected_leader(&operator, client, &args, shutdown).await
    } else {
        operator.metrics.set_leader(true);
        operator.run_controllers(&args, shutdown).await;
        Ok(())
    };
    let _ = admin.await;
    result
}

/// Reconciles only while this replica holds the Lease. A standby replica is ready (it serves
/// health and metrics) and waits; when the leader dies or stops renewing, another replica takes
/// the Lease within its duration. On SIGTERM the leader stops its controllers and releases the
/// Lease at once. A leader that loses the Lease exits at once, without finishing in-flight work,
/// so that it restarts with fresh caches as a standby.
async fn run_as_elected_leader(
    operator: &Operator,
    client: kube::Client,
    args: &RunArgs,
    mut shutdown: watch::Receiver<bool>,
) -> Result<()> {
    let identity = std::env::var("POD_NAME").unwrap_or_else(|_| {
        format!(
            "{}-{}",
            std::env::var("HOSTNAME").unwrap_or_else(|_| "ecs-operator".into()),
            std::process::id()
        )
    });
    let duration = args.lease_duration.as_secs();
    let leases = Api::namespaced(client.clone(), &args.lease_namespace);
    let manager = kube_lease_manager::LeaseManagerBuilder::new(client, &args.lease_name)
        .with_namespace(&args.lease_namespace)
        .with_identity(&identity)
        .with_duration(duration)
        .with_grace(leadership::grace_seconds(duration))
        // One field manager per replica: taking a free Lease is an apply without force, which
        // conflicts (and so fails for all but one) only between different managers.
        .with_field_manager(format!("{}-{identity}", crate::api::FIELD_MANAGER))
        .build()
        .await
        .map_err(|e| Error::LeaderElection(e.to_string()))?;
    let (mut is_leader, lease_task) = manager.watch().await;
    operator.readiness.set_ready();
    tracing::info!(%identity, lease = %args.lease_name, "waiting for the leader lease");

    let release = |is_leader: watch::Receiver<bool>, lease_task: tokio::task::JoinHandle<_>| async move {
        // Closing the channel makes the lease task release the Lease.
        drop(is_leader);
        let _ = tokio::time::timeout(std::time::Duration::from_secs(5), lease_task).await;
    };

    let stopped = tokio::select! {
        _ = is_leader.wait_for(|leader| *leader) => false,
        _ = shutdown.wait_for(|stop| *stop) => true,
    };
    if stopped {
        release(is_leader, lease_task).await;
        return Ok(());
    }
    tracing::info!(%identity, "acquired the leader lease: starting controllers");
    operator.metrics.set_leader(true);

    // Watches leadership until the controllers have stopped, in-flight reconciles included.
    let mut watch_leadership = is_leader.clone();
    let lapsed = leadership::lapsed(
        leases,
        args.lease_name.clone(),
        identity.clone(),
        Duration::from_secs(duration),
    );
    let guard = tokio::spawn(async move {
        let reason = tokio::select! {
            _ = watch_leadership.wait_for(|leader| !*leader) => "the lease manager lost the Lease".to_string(),
            reason = lapsed => reason,
        };
        // Another replica may already hold the Lease: stop at once rather than let in-flight
        // reconciles finish beside the new leader.
        tracing::error!(%reason, "lost the leader lease; exiting to restart as a standby");
        std::process::exit(1);
    });
    operator.run_controllers(args, shutdown).await;
    guard.abort();
    operator.metrics.set_leader(false);
    release(is_leader, lease_task).await;
    Ok(())
}

async fn wait_for_termination() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("installing the SIGTERM handler");
        tokio::select! {
            _ = ctrl_c => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}
