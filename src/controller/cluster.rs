//! EcsCluster controller: creates the ECS cluster, keeps its settings, capacity providers and tags
//! as the spec says, and deletes it (once its services are gone) unless retained.

use std::sync::Arc;
use std::time::Duration;

use kube::ResourceExt;
use kube::api::Api;
use kube::runtime::controller::{Action, Controller};
use kube::runtime::events::EventType;
use kube::runtime::reflector::Store;
use kube::runtime::watcher;

use super::{Applied, Cleanup, Context, Managed, drive};
use crate::api::{DeletionPolicy, EcsCapacityProvider, EcsCluster, EcsClusterStatus};
use crate::error::EcsErrorClass;
use crate::mapping::cluster as mapping;
use crate::mapping::conditions::Health;
use crate::mapping::tags::{self, Ownership};
use crate::{Error, Result};

super::object_status!(EcsClusterStatus);

impl Managed for EcsCluster {
    type Status = EcsClusterStatus;
    const KIND: &'static str = "EcsCluster";

    fn status(&self) -> Option<&EcsClusterStatus> {
        self.status.as_ref()
    }

    fn spec_region(&self) -> Option<&str> {
        self.spec.region.as_deref()
    }

    fn arn_in(status: &EcsClusterStatus) -> Option<&str> {
        status.cluster_arn.as_deref()
    }
}

impl EcsCluster {
    /// The ECS cluster name: spec.clusterName, else metadata.name.
    pub fn ecs_name(&self) -> String {
        self.spec
            .cluster_name
            .clone()
            .unwrap_or_else(|| self.name_any())
    }
}

pub async fn reconcile(obj: Arc<EcsCluster>, ctx: Arc<Context>) -> Result<Action> {
    drive(obj, ctx, apply, cleanup).await
}

pub fn error_policy(obj: Arc<EcsCluster>, error: &Error, ctx: Arc<Context>) -> Action {
    super::backoff_on_error(obj.as_ref(), error, &ctx, EcsCluster::KIND)
}

/// The controller, ready to run; its store serves readiness.
/// The controller, with its watch relation: a cluster is reconciled when an
/// EcsCapacityProvider it references becomes Ready (or stops being), not at the next retry.
pub fn controller(
    api: Api<EcsCluster>,
    providers: Api<EcsCapacityProvider>,
    config: watcher::Config,
) -> (Controller<EcsCluster>, Store<EcsCluster>) {
    let (controller, store) = super::watched(api, config.clone());
    let controller =
        super::capacity_provider::watch_for_clusters(controller, store.clone(), providers, config);
    (controller, store)
}

async fn apply(obj: Arc<EcsCluster>, ctx: Arc<Context>) -> Result<Applied<EcsClusterStatus>> {
    let name = obj.ecs_name();
    let region = ctx.region(obj.as_ref());
    let client = ctx.ecs.client(&region);
    let identity = ctx.identity(obj.as_ref());
    let desired_tags = tags::desired_tags(&obj.spec.tags, &identity);

    // The providers named by reference join the plain names once Ready; until then the cluster
    // is created (a Managed Instances provider needs it) without providers or strategy.
    let providers = super::capacity_provider::resolve_refs(&ctx, &obj).await?;
    let spec = mapping::with_providers(&obj.spec, &providers.names, providers.waiting.is_some());
    let max_age = super::read_max_age(&ctx, obj.as_ref(), Duration::from_secs(10));
    let (cluster, created) = match ctx.ecs.describe_cluster(&region, &name, max_age).await? {
        None => {
            let input = mapping::create_input(&spec, &name, tags::to_ecs(&desired_tags));
            let output = ctx
                .ecs
                .call(&region, "CreateCluster", input.send_with(&client))
                .await?;
            ctx.ecs.invalidate_cluster(&region, &name);
            ctx.event(
                obj.as_ref(),
                EventType::Normal,
                "Created",
                format!("created ECS cluster {name} in {region}"),
            )
            .await;
            let cluster = output
                .cluster
                .ok_or_else(|| Error::empty_response("CreateCluster"))?;
            (cluster, true)
        }
        Some(cluster) => {
            let what = format!("the ECS cluster {name} in {region}");
            super::claim_existing(&ctx, obj.as_ref(), &tags::from_ecs(cluster.tags()), &what)
                .await?;
            super::announce_recovered_creation(
                &ctx,
                obj.as_ref(),
                &tags::from_ecs(cluster.tags()),
                &format!("created ECS cluster {name} in {region}"),
            )
            .await;
            (cluster, false)
        }
    };
    let arn = cluster.cluster_arn().unwrap_or_default().to_string();

    let mut changed = false;
    let resolved = obj
        .status
        .as_ref()
        .and_then(|s| s.service_connect_namespace.clone());
    let mut drift = mapping::drift(&spec, &cluster, resolved.as_ref());
    if drift.update.contains(&"serviceConnectDefaults") {
        // The record may be in our own last status write, which the cache can lag behind.
        let api = super::api_for(&ctx.client, obj.as_ref());
        let fresh = super::read_status(&api, obj.as_ref()).await?;
        let resolved = fresh.and_then(|s| s.service_connect_namespace);
        drift = mapping::drift(&spec, &cluster, resolved.as_ref());
    }
    if !created && !drift.update.is_empty() {
        ctx.ecs
            .call(
                &region,
                "UpdateCluster",
                client
                    .update_cluster()
                    .cluster(&name)
                    .set_settings(Some(mapping::settings(&obj.spec)).filter(|s| !s.is_empty()))
                    .set_configuration(obj.spec.configuration.as_ref().map(mapping::configuration))
                    .set_service_connect_defaults(mapping::service_connect_defaults(&obj.spec))
                    .send(),
            )
            .await?;
        // Each change is announced once it is made: a later write may be deferred or fail.
        changed = true;
        ctx.ecs.invalidate_cluster(&region, &name);
        super::announce_changes(
            &ctx,
            obj.as_ref(),
            &format!("ECS cluster {name}"),
            &drift.update,
        )
        .await;
    }
    if !created && drift.capacity_providers && providers.waiting.is_none() {
        ctx.ecs
            .call(
                &region,
                "PutClusterCapacityProviders",
                client
                    .put_cluster_capacity_providers()
                    .cluster(&name)
                    .set_capacity_providers(Some(spec.capacity_providers.clone()))
                    .set_default_capacity_provider_strategy(Some(mapping::strategy(
                        &spec.default_capacity_provider_strategy,
                    )))
                    .send(),
            )
            .await?;
        changed = true;
        ctx.ecs.invalidate_cluster(&region, &name);
        let what = format!("ECS cluster {name}");
        super::announce_changes(&ctx, obj.as_ref(), &what, &["capacityProviders"]).await;
    }

    let tag_changes = tags::tag_changes(&tags::from_ecs(cluster.tags()), &desired_tags);
    if !created && !tag_changes.is_empty() {
        ctx.ecs
            .apply_tag_changes(&region, &arn, &tag_changes)
            .await?;
        changed = true;
        ctx.ecs.invalidate_cluster(&region, &name);
        super::announce_changes(
            &ctx,
            obj.as_ref(),
            &format!("ECS cluster {name}"),
            &["tags"],
        )
        .await;
    }

    let cluster = if changed {
        ctx.ecs
            .describe_cluster(&region, &name, Duration::ZERO)
            .await?
            .unwrap_or(cluster)
    } else {
        cluster
    };
    let mut status = mapping::status_facts(&cluster);
    status.service_connect_namespace = mapping::resolved_namespace(&obj.spec, &cluster);
    status.conditions = obj
        .status
        .as_ref()
        .map(|s| s.conditions.clone())
        .unwrap_or_default();
    let (health, requeue) = match cluster.status() {
        Some("ACTIVE") if providers.waiting.is_some() => (
            Health::progressing(
                "DependencyNotReady",
                format!(
                    "ECS cluster {name} is ACTIVE; its capacity providers wait: {}",
                    providers.waiting.unwrap_or_default()
                ),
            ),
            Some(Duration::from_secs(30)),
        ),
        Some("ACTIVE") => (
            Health::Ready {
                message: format!("ECS cluster {name} is ACTIVE"),
            },
            None,
        ),
        Some("FAILED") => (
            Health::stalled(
                "ClusterFailed",
                format!("ECS reports cluster {name} as FAILED"),
            ),
            None,
        ),
        other => (
            Health::progressing(
                if created { "Creating" } else { "Provisioning" },
                format!("ECS cluster {name} is {}", other.unwrap_or("being created")),
            ),
            Some(Duration::from_secs(10)),
        ),
    };
    Ok(Applied {
        health,
        status,
        requeue,
    })
}

async fn cleanup(obj: Arc<EcsCluster>, ctx: Arc<Context>) -> Result<Cleanup> {
    let name = obj.ecs_name();
    if obj.spec.deletion_policy == DeletionPolicy::Retain {
        return Ok(Cleanup::Done(format!(
            "retained ECS cluster {name} (deletionPolicy Retain)"
        )));
    }
    let region = ctx.region(obj.as_ref());
    let Some(cluster) = ctx
        .ecs
        .describe_cluster(&region, &name, Duration::ZERO)
        .await?
    else {
        return Ok(Cleanup::Done(format!(
            "ECS cluster {name} was already gone"
        )));
    };
    if ctx
        .identity(obj.as_ref())
        .judge(&tags::from_ecs(cluster.tags()))
        != Ownership::Ours
    {
        return Ok(Cleanup::Done(format!(
            "left ECS cluster {name} in place: this object does not own it"
        )));
    }
    // EcsServices of this cluster go first (ECS may not count a service being created yet).
    let mut services: Vec<String> = ctx
        .services()
        .iter()
        .filter(|s| {
            s.namespace() == obj.namespace()
                && s.spec
                    .cluster_ref
                    .as_ref()
                    .is_some_and(|r| r.name == obj.name_any())
        })
        .map(|s| s.name_any())
        .collect();
    if !services.is_empty() {
        services.sort();
        return Ok(Cleanup::Waiting(format!(
            "waiting for EcsService {} to be deleted first: it runs on ECS cluster {name}",
            services.join(", ")
        )));
    }
    if cluster.active_services_count() > 0 {
        let client = ctx.ecs.client(&region);
        let services = ctx
            .ecs
            .call(
                &region,
                "ListServices",
                client.list_services().cluster(&name).max_results(10).send(),
            )
            .await?;
        // The first page names enough of them for a condition message.
        let mut names: Vec<String> = services
            .service_arns()
            .iter()
            .map(|arn| arn.rsplit('/').next().unwrap_or(arn).to_string())
            .collect();
        let count = cluster.active_services_count().max(names.len() as i32);
        let more = count - names.len() as i32;
        if more > 0 {
            names.push(format!("and {more} more"));
        }
        return Ok(Cleanup::Waiting(format!(
            "waiting for {count} service(s) to be deleted from ECS cluster {name} first: {}",
            names.join(", ")
        )));
    }
    let client = ctx.ecs.client(&region);
    match ctx
        .ecs
        .call(
            &region,
            "DeleteCluster",
            client.delete_cluster().cluster(&name).send(),
        )
        .await
    {
        Ok(_) => Ok(Cleanup::Done(format!("deleted ECS cluster {name}"))),
        Err(Error::Ecs {
            class: EcsErrorClass::NotFound,
            ..
        }) => Ok(Cleanup::Done(format!(
            "ECS cluster {name} was already gone"
        ))),
        // Services, tasks or container instances remain, or Managed Instances capacity
        // providers scoped to the cluster ("The Cluster cannot be deleted while Cluster Scoped
        // Capacity Providers are attached to the cluster", a ClientException): ECS refuses until
        // they are gone.
        Err(Error::Ecs { code, message, .. })
            if code.starts_with("ClusterContains")
                || (code == "ClientException"
                    && message.contains("Capacity Providers are attached")) =>
        {
            Ok(Cleanup::Waiting(format!(
                "waiting before deleting ECS cluster {name}: {message}"
            )))
        }
        Err(e) => Err(e),
    }
}
