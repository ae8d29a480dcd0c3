//! EcsCapacityProvider controller: DescribeCapacityProviders, then CreateCapacityProvider when
//! it is missing, UpdateCapacityProvider when what ECS can change in place differs (a spec change
//! or drift), tags as for every kind; DeleteCapacityProvider on delete unless Retain, once no
//! EcsCluster uses the provider and ECS no longer answers DELETE_FAILED for it.

use std::sync::Arc;

use kube::ResourceExt;
use kube::api::{Api, ListParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::events::EventType;
use kube::runtime::reflector::Store;
use kube::runtime::watcher;

use super::{Applied, Cleanup, Context, Managed, drive};
use crate::api::{DeletionPolicy, EcsCapacityProvider, EcsCapacityProviderStatus, EcsCluster};
use crate::error::EcsErrorClass;
use crate::mapping::capacity_provider as mapping;
use crate::mapping::tags::{self, Ownership};
use crate::{Error, Result};

super::object_status!(EcsCapacityProviderStatus);

impl Managed for EcsCapacityProvider {
    type Status = EcsCapacityProviderStatus;
    const KIND: &'static str = "EcsCapacityProvider";

    fn status(&self) -> Option<&EcsCapacityProviderStatus> {
        self.status.as_ref()
    }

    fn spec_region(&self) -> Option<&str> {
        self.spec.region.as_deref()
    }

    fn arn_in(status: &EcsCapacityProviderStatus) -> Option<&str> {
        status.capacity_provider_arn.as_deref()
    }
}

impl EcsCapacityProvider {
    /// The ECS capacity provider name: spec.name, else metadata.name.
    pub fn ecs_name(&self) -> String {
        self.spec.name.clone().unwrap_or_else(|| self.name_any())
    }

    /// The name clusters and strategies use, once ECS reports the provider ACTIVE.
    pub fn active_name(&self) -> Option<&str> {
        self.status
            .as_ref()
            .filter(|s| s.status.as_deref() == Some("ACTIVE"))
            .and_then(|s| s.name.as_deref())
    }
}

/// CreateCapacityProvider and UpdateCapacityProvider take the same fields (name, cluster, one
/// of the two providers), each in its own shape: `asg` and `managed` make them from the spec.
macro_rules! provider_request {
    ($request:expr, $obj:expr, $asg:path, $managed:path) => {
        $request
            .name($obj.ecs_name())
            .set_cluster($obj.spec.cluster.clone())
            .set_auto_scaling_group_provider(
                $obj.spec.auto_scaling_group_provider.as_ref().map($asg),
            )
            .set_managed_instances_provider(
                $obj.spec.managed_instances_provider.as_ref().map($managed),
            )
    };
}

pub async fn reconcile(obj: Arc<EcsCapacityProvider>, ctx: Arc<Context>) -> Result<Action> {
    drive(obj, ctx, apply, cleanup).await
}

pub fn error_policy(obj: Arc<EcsCapacityProvider>, error: &Error, ctx: Arc<Context>) -> Action {
    super::backoff_on_error(obj.as_ref(), error, &ctx, EcsCapacityProvider::KIND)
}

/// The controller, ready to run; its store serves readiness.
pub fn controller(
    api: Api<EcsCapacityProvider>,
    config: watcher::Config,
) -> (Controller<EcsCapacityProvider>, Store<EcsCapacityProvider>) {
    super::watched(api, config)
}

async fn apply(
    obj: Arc<EcsCapacityProvider>,
    ctx: Arc<Context>,
) -> Result<Applied<EcsCapacityProviderStatus>> {
    let name = obj.ecs_name();
    let region = ctx.region(obj.as_ref());
    let cluster = obj.spec.cluster.as_deref();
    let what = format!("the capacity provider {name} in {region}");
    let identity = ctx.identity(obj.as_ref());
    let desired_tags = tags::desired_tags(&obj.spec.tags, &identity);
    let client = ctx.ecs.client(&region);

    let current = match ctx
        .ecs
        .describe_capacity_provider(&region, &name, cluster)
        .await?
    {
        None => {
            let request = provider_request!(
                client.create_capacity_provider(),
                obj,
                mapping::auto_scaling_group_provider,
                mapping::managed_instances_create
            )
            .set_tags(Some(tags::to_ecs(&desired_tags)))
            .send();
            let created = match ctx
                .ecs
                .call(&region, "CreateCapacityProvider", request)
                .await
            {
                Ok(output) => output,
                // A Managed Instances provider needs its cluster: wait for it.
                Err(Error::Ecs { code, .. }) if code == "ClusterNotFoundException" => {
                    return Err(Error::DependencyNotReady(format!(
                        "ECS cluster {} does not exist yet in {region}",
                        cluster.unwrap_or_default()
                    )));
                }
                Err(error) => return Err(error),
            };
            ctx.event(
                obj.as_ref(),
                EventType::Normal,
                "Created",
                format!("created {what}"),
            )
            .await;
            created
                .capacity_provider
                .ok_or_else(|| Error::empty_response("CreateCapacityProvider"))?
        }
        Some(current) => {
            let have_tags = tags::from_ecs(current.tags());
            super::claim_existing(&ctx, obj.as_ref(), &have_tags, &what).await?;
            super::announce_recovered_creation(
                &ctx,
                obj.as_ref(),
                &have_tags,
                &format!("created {what}"),
            )
            .await;
            let mut current = current;
            let fields = mapping::drift(&obj.spec, &current);
            let observed =
                obj.status.as_ref().and_then(|s| s.observed_generation) == obj.metadata.generation;
            if mapping::should_update(&fields, current.update_status(), observed) {
                let request = provider_request!(
                    client.update_capacity_provider(),
                    obj,
                    mapping::auto_scaling_group_update,
                    mapping::managed_instances_update
                )
                .send();
                let output = ctx
                    .ecs
                    .call(&region, "UpdateCapacityProvider", request)
                    .await?;
                super::announce_changes(&ctx, obj.as_ref(), &what, &fields).await;
                if let Some(updated) = output.capacity_provider {
                    // The answer has no tags: keep the described ones.
                    let tags = current.tags.take();
                    current = updated;
                    current.tags = tags;
                }
            }
            let changes = tags::tag_changes(&have_tags, &desired_tags);
            if !changes.is_empty() {
                let arn = current.capacity_provider_arn().unwrap_or_default();
                ctx.ecs.apply_tag_changes(&region, arn, &changes).await?;
                super::announce_changes(&ctx, obj.as_ref(), &what, &["tags"]).await;
            }
            current
        }
    };

    let mut status = mapping::status(&current);
    status.conditions = obj
        .status
        .as_ref()
        .map(|s| s.conditions.clone())
        .unwrap_or_default();
    let (health, requeue) = mapping::health(&what, &current);
    Ok(Applied {
        health,
        status,
        requeue,
    })
}

/// EcsServices in the namespace whose capacityProviderStrategy names this provider.
fn services_using(ctx: &Context, obj: &EcsCapacityProvider) -> Vec<String> {
    let namespace = obj.namespace();
    let name = obj.ecs_name();
    let mut users: Vec<String> = ctx
        .services()
        .iter()
        .filter(|s| s.namespace() == namespace)
        .filter(|s| {
            s.spec
                .capacity_provider_strategy
                .iter()
                .any(|item| item.capacity_provider == name)
        })
        .map(|s| s.name_any())
        .collect();
    users.sort();
    users
}

/// EcsClusters in the namespace that use this provider, by reference or by its ECS name. For a
/// Managed Instances provider, not those being deleted: ECS deletes no cluster while providers
/// scoped to it remain ("The Cluster cannot be deleted while Cluster Scoped Capacity Providers
/// are attached to the cluster", hashicorp/terraform-provider-aws PR #45794), so the provider
/// goes first there.
async fn clusters_using(ctx: &Context, obj: &EcsCapacityProvider) -> Result<Vec<String>> {
    let namespace = obj.namespace().unwrap_or_default();
    let api: Api<EcsCluster> = Api::namespaced(ctx.client.clone(), &namespace);
    let name = obj.ecs_name();
    let mut users: Vec<String> = api
        .list(&ListParams::default())
        .await?
        .items
        .iter()
        .filter(|c| {
            c.spec
                .capacity_provider_refs
                .iter()
                .any(|r| r.name == obj.name_any())
                || c.spec.capacity_providers.contains(&name)
        })
        .filter(|c| obj.spec.cluster.is_none() || c.metadata.deletion_timestamp.is_none())
        .map(|c| c.name_any())
        .collect();
    users.sort();
    Ok(users)
}

async fn cleanup(obj: Arc<EcsCapacityProvider>, ctx: Arc<Context>) -> Result<Cleanup> {
    let name = obj.ecs_name();
    if obj.spec.deletion_policy == DeletionPolicy::Retain {
        return Ok(Cleanup::Done(format!(
            "retained the capacity provider {name} (deletionPolicy Retain)"
        )));
    }
    let region = ctx.region(obj.as_ref());
    let cluster = obj.spec.cluster.as_deref();
    let Some(current) = ctx
        .ecs
        .describe_capacity_provider(&region, &name, cluster)
        .await?
    else {
        return Ok(Cleanup::Done(format!(
            "the capacity provider {name} was already gone"
        )));
    };
    if ctx
        .identity(obj.as_ref())
        .judge(&tags::from_ecs(current.tags()))
        != Ownership::Ours
    {
        return Ok(Cleanup::Done(format!(
            "left the capacity provider {name} in place: this object does not own it"
        )));
    }
    // ECS deletes only a provider no cluster uses: the EcsClusters that name it go first (or
    // drop it), which costs no ECS call while they do.
    let users = clusters_using(&ctx, &obj).await?;
    if !users.is_empty() {
        return Ok(Cleanup::Waiting(format!(
            "waiting for EcsCluster {} to stop using the capacity provider {name}",
            users.join(", ")
        )));
    }
    // "Prior to a capacity provider being deleted, the capacity provider must be removed from
    // the capacity provider strategy from all services" (DeleteCapacityProvider API reference).
    let services = services_using(&ctx, &obj);
    if !services.is_empty() {
        return Ok(Cleanup::Waiting(format!(
            "waiting for EcsService {} to stop using the capacity provider {name} in its capacityProviderStrategy",
            services.join(", ")
        )));
    }
    let request = ctx
        .ecs
        .client(&region)
        .delete_capacity_provider()
        .capacity_provider(&name)
        .set_cluster(cluster.map(Into::into))
        .send();
    match ctx
        .ecs
        .call(&region, "DeleteCapacityProvider", request)
        .await
    {
        Ok(output) => match output
            .capacity_provider
            .as_ref()
            .and_then(mapping::delete_refused)
        {
            // Associated with a cluster this operator does not manage: ECS says which.
            Some(reason) => Ok(Cleanup::Waiting(format!(
                "waiting before deleting the capacity provider {name}: {reason}"
            ))),
            None => Ok(Cleanup::Done(format!(
                "deleted the capacity provider {name}"
            ))),
        },
        Err(Error::Ecs {
            class: EcsErrorClass::NotFound,
            ..
        }) => Ok(Cleanup::Done(format!(
            "the capacity provider {name} was already gone"
        ))),
        // Services still place tasks with it (ResourceInUseException, or a ClientException
        // naming the services or cluster that use it): wait, as for a cluster in use.
        Err(Error::Ecs { code, message, .. })
            if code == "ResourceInUseException"
                || (code == "ClientException"
                    && (message.contains("associated") || message.contains("in use"))) =>
        {
            Ok(Cleanup::Waiting(format!(
                "waiting before deleting the capacity provider {name}: {message}"
            )))
        }
        Err(error) => Err(error),
    }
}

/// The capacity providers an EcsCluster names by `capacityProviderRefs`, resolved to their ECS
/// names, and what it waits for when some are not Ready yet.
pub struct ResolvedProviders {
    /// ECS names of the referenced providers that are ACTIVE.
    pub names: Vec<String>,
    /// "EcsCapacityProvider x is not Ready yet (...)" for those that are not; None when all are.
    pub waiting: Option<String>,
}

/// Resolves `cluster`'s capacityProviderRefs in its namespace.
pub async fn resolve_refs(ctx: &Context, cluster: &EcsCluster) -> Result<ResolvedProviders> {
    let namespace = cluster.namespace().unwrap_or_default();
    let mut names = Vec::new();
    let mut waiting = Vec::new();
    for reference in &cluster.spec.capacity_provider_refs {
        let (name, provider) =
            super::refs::referenced::<EcsCapacityProvider>(ctx, &namespace, Some(reference))
                .await?;
        match provider {
            None => waiting.push(format!("EcsCapacityProvider {name} does not exist yet")),
            Some(provider) => match provider.active_name() {
                Some(ecs_name) => names.push(ecs_name.to_string()),
                None => {
                    let why = super::refs::why_not_ready(
                        provider.status.as_ref().map(|s| &s.conditions[..]),
                    );
                    waiting.push(format!("EcsCapacityProvider {name} is not Ready yet{why}"));
                }
            },
        }
    }
    Ok(ResolvedProviders {
        names,
        waiting: (!waiting.is_empty()).then(|| waiting.join("; ")),
    })
}

/// The EcsClusters to reconcile when an EcsCapacityProvider changes name, status or readiness:
/// those in its namespace that reference it.
pub fn watch_for_clusters(
    controller: Controller<EcsCluster>,
    clusters: Store<EcsCluster>,
    providers: Api<EcsCapacityProvider>,
    config: watcher::Config,
) -> Controller<EcsCluster> {
    use kube::runtime::WatchStreamExt;
    use kube::runtime::reflector::ObjectRef;
    let changes = watcher(providers, config)
        .default_backoff()
        .touched_objects()
        .predicate_filter(
            |p: &EcsCapacityProvider| {
                let status = p.status.as_ref();
                Some(super::refs::fingerprint((
                    status.and_then(|s| s.name.as_deref()),
                    status.and_then(|s| s.status.as_deref()),
                    super::refs::is_ready(status.map(|s| &s.conditions[..])),
                )))
            },
            Default::default(),
        );
    controller.watches_stream(changes, move |provider: EcsCapacityProvider| {
        let namespace = provider.namespace();
        let name = provider.name_any();
        clusters
            .state()
            .iter()
            .filter(|c| {
                c.namespace() == namespace
                    && c.spec.capacity_provider_refs.iter().any(|r| r.name == name)
            })
            .map(|c| ObjectRef::from_obj(c.as_ref()))
            .collect::<Vec<_>>()
    })
}
