//! Assembles the running operator: clients, context, the three controllers, the admin server,
//! and shutdown.

use std::sync::Arc;

use aws_config::SdkConfig;
use futures::future::join_all;
use kube::api::Api;
use kube::runtime::watcher;
use tokio::sync::watch;

use crate::api::{EcsCluster, EcsService, EcsTaskDefinition};
use crate::cli::RunArgs;
use crate::controller::{self, Context};
use crate::ecs::Ecs;
use crate::runtime::admin::{self, Readiness};
use crate::runtime::metrics::Metrics;
use crate::Result;

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
    loader.load().await
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
        let ecs = Ecs::new(aws, metrics.clone());
        let cluster_id = controller::cluster_id(&client).await?;
        let ctx = Arc::new(Context::new(client, ecs, metrics.clone(), cluster_id, args.resync_period));
        Ok(Operator { ctx, readiness: Readiness::default(), metrics })
    }

    /// Runs the controllers until `shutdown` resolves, then lets in-flight reconciles finish.
    pub async fn run_controllers(&self, args: &RunArgs, mut shutdown: watch::Receiver<bool>) {
        let scopes: Vec<Option<String>> =
            if args.namespaces.is_empty() { vec![None] } else { args.namespaces.iter().cloned().map(Some).collect() };
        let client = self.ctx.client.clone();
        let mut runs = Vec::new();
        let mut stores_ready = Vec::new();
        for namespace in scopes {
            let config = watcher::Config::default();
            let (clusters, cluster_store) = controller::cluster::controller(scoped(&client, &namespace), config.clone());
            let (definitions, definition_store) =
                controller::task_definition::controller(scoped(&client, &namespace), config.clone());
            let (services, service_store) = controller::service::controller(
                scoped::<EcsService>(&client, &namespace),
                scoped::<EcsTaskDefinition>(&client, &namespace),
                scoped::<EcsCluster>(&client, &namespace),
                config.clone(),
            );
            self.ctx.add_service_store(service_store.clone());
            stores_ready.push(async move {
                let _ = cluster_store.wait_until_ready().await;
                let _ = definition_store.wait_until_ready().await;
                let _ = service_store.wait_until_ready().await;
            });
            let concurrency = args.concurrency;
            runs.push(tokio::spawn(controller::cluster::run(self.ctx.clone(), clusters, concurrency, signal(&shutdown))));
            runs.push(tokio::spawn(controller::task_definition::run(
                self.ctx.clone(),
                definitions,
                concurrency,
                signal(&shutdown),
            )));
            runs.push(tokio::spawn(controller::service::run(self.ctx.clone(), services, concurrency, signal(&shutdown))));
        }
        let readiness = self.readiness.clone();
        tokio::spawn(async move {
            join_all(stores_ready).await;
            tracing::info!("initial sync done: ready");
            readiness.set_ready();
        });
        join_all(runs).await;
        let _ = shutdown.changed().await;
    }
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
    let client = kube::Client::try_default().await.map_err(crate::Error::from)?;
    let aws = aws_config(args.region.clone()).await;
    let operator = Operator::new(client, aws, &args).await?;
    let (stop, shutdown) = watch::channel(false);

    let admin_shutdown = signal(&shutdown);
    let router = admin::router(operator.metrics.clone(), operator.readiness.clone());
    let admin_address = args.admin_address;
    let admin = tokio::spawn(async move { admin::serve(admin_address, router, admin_shutdown).await });

    tokio::spawn(async move {
        wait_for_termination().await;
        tracing::info!("shutting down");
        let _ = stop.send(true);
    });
    tracing::info!(version = env!("CARGO_PKG_VERSION"), namespaces = ?args.namespaces, "starting controllers");
    operator.run_controllers(&args, shutdown).await;
    let _ = admin.await;
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
