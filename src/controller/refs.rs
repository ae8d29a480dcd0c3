//! What `clusterRef`/`cluster` and `taskDefinitionRef`/`taskDefinition` name, for every kind that
//! runs tasks (EcsService, EcsTask): the ECS cluster, the task definition revision and the region.

use std::hash::{DefaultHasher, Hash, Hasher};

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::api::Api;
use kube::runtime::controller::Controller;
use kube::runtime::reflector::{ObjectRef, Store};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Resource, ResourceExt};

use super::{Context, Managed};
use crate::api::{EcsCluster, EcsTaskDefinition, LocalObjectReference};
use crate::ecs::arn_region;
use crate::mapping::conditions;
use crate::{Error, Result};

/// The references of an object that runs tasks, and the namespace they are resolved in.
pub struct Refs<'a> {
    pub namespace: String,
    pub cluster_ref: Option<&'a LocalObjectReference>,
    pub cluster: Option<&'a str>,
    pub task_definition_ref: Option<&'a LocalObjectReference>,
    pub task_definition: Option<&'a str>,
    /// What runs there, for messages: "a service", "an EcsTask's tasks".
    pub what: &'static str,
}

/// " (Reason: message)" of a dependency's Ready condition when it is not True, for the message of
/// DependencyNotReady.
pub fn why_not_ready(conditions: Option<&[Condition]>) -> String {
    conditions
        .and_then(|c| conditions::find(c, conditions::READY))
        .filter(|c| c.status != "True")
        .map(|c| {
            if c.message.is_empty() {
                format!(" ({})", c.reason)
            } else {
                format!(" ({}: {})", c.reason, c.message)
            }
        })
        .unwrap_or_default()
}

/// The object a `clusterRef`/`taskDefinitionRef` names in `namespace`, with its name.
pub async fn referenced<K>(
    ctx: &Context,
    namespace: &str,
    reference: Option<&LocalObjectReference>,
) -> Result<(String, Option<K>)>
where
    K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()>
        + Clone
        + serde::de::DeserializeOwned
        + std::fmt::Debug,
{
    let name = reference.map(|r| r.name.clone()).unwrap_or_default();
    let api: Api<K> = Api::namespaced(ctx.client.clone(), namespace);
    let found = api.get_opt(&name).await?;
    Ok((name, found))
}

/// The ECS cluster (name or ARN) to run on: `cluster`, or the ARN of the EcsCluster once ECS
/// reports it ACTIVE. An EcsCluster that is only being updated (not Ready for its newest
/// generation) still hosts what runs there: it does not flap to DependencyNotReady.
pub async fn resolve_cluster(ctx: &Context, refs: &Refs<'_>) -> Result<String> {
    if let Some(cluster) = refs.cluster {
        return Ok(cluster.to_string());
    }
    let (name, cluster) = referenced::<EcsCluster>(ctx, &refs.namespace, refs.cluster_ref).await?;
    let Some(cluster) = cluster else {
        return Err(Error::DependencyNotReady(format!(
            "EcsCluster {name} does not exist yet"
        )));
    };
    let why = why_not_ready(cluster.status.as_ref().map(|s| &s.conditions[..]));
    cluster
        .status
        .filter(|s| s.status.as_deref() == Some("ACTIVE"))
        .and_then(|s| s.cluster_arn)
        .ok_or_else(|| {
            Error::DependencyNotReady(format!("EcsCluster {name} is not Ready yet{why}"))
        })
}

/// Where the object lives: `spec_region`, else its cluster's region (when the cluster is given
/// as an ARN, as a resolved clusterRef is), else as for every kind.
pub fn region_of(
    ctx: &Context,
    refs: &Refs<'_>,
    spec_region: Option<&str>,
    managed_arn: Option<&str>,
    cluster: &str,
) -> Result<String> {
    let cluster_region = arn_region(cluster);
    if let (Some(region), Some(cluster_region)) = (spec_region, cluster_region)
        && region != cluster_region
    {
        return Err(Error::InvalidSpec(format!(
            "spec.region is {region} but the cluster {cluster} is in {cluster_region}: {} runs \
             in its cluster's region (omit spec.region to follow it)",
            refs.what
        )));
    }
    Ok(ctx.ecs.region(spec_region.or(cluster_region), managed_arn))
}

/// The task definition to run.
pub struct ResolvedTaskDefinition {
    pub arn: String,
    /// Why the referenced EcsTaskDefinition's current spec is not that revision yet (a change
    /// waiting to be registered, or one ECS refused).
    pub pending: Option<String>,
}

/// The newest revision registered for the referenced EcsTaskDefinition, or what
/// `taskDefinition` names (a bare family follows its latest).
///
/// A revision, once registered, is used even while the EcsTaskDefinition works on its next one
/// (or cannot register it): `pending` says so.
pub async fn resolve_task_definition(
    ctx: &Context,
    refs: &Refs<'_>,
    region: &str,
) -> Result<ResolvedTaskDefinition> {
    if let Some(reference) = refs.task_definition {
        let arn = ctx.ecs.task_definition_arn(region, reference).await?;
        return Ok(ResolvedTaskDefinition { arn, pending: None });
    }
    let (name, definition) =
        referenced::<EcsTaskDefinition>(ctx, &refs.namespace, refs.task_definition_ref).await?;
    let Some(definition) = definition else {
        return Err(Error::DependencyNotReady(format!(
            "EcsTaskDefinition {name} does not exist yet"
        )));
    };
    let arn = definition
        .current_arn()
        .map(str::to_string)
        .ok_or_else(|| {
            Error::DependencyNotReady(format!(
                "EcsTaskDefinition {name} has no registered revision yet"
            ))
        })?;
    let pending = (!definition.registers_current_spec()).then(|| {
        let why = why_not_ready(definition.status.as_ref().map(|s| &s.conditions[..]));
        format!(
            "EcsTaskDefinition {name} has a change not registered yet{why}; {} runs {arn} meanwhile",
            refs.what
        )
    });
    Ok(ResolvedTaskDefinition { arn, pending })
}

/// The namespace of an object (references resolve there).
pub fn namespace_of<K: kube::Resource>(obj: &K) -> String {
    obj.namespace().unwrap_or_default()
}

/// The kinds an object that runs tasks depends on, watched for the changes that matter to it.
pub struct Dependencies {
    pub definitions: Api<EcsTaskDefinition>,
    pub clusters: Api<EcsCluster>,
    pub config: watcher::Config,
}

/// The main watch of a kind that runs tasks, with its watch relations: an object is reconciled
/// when the EcsTaskDefinition (`definition_ref`) or EcsCluster (`cluster_ref`) it names changes
/// revision or readiness, not at the next resync or retry. A reference fn returning None opts the
/// object out (an EcsTask that already started).
pub fn watched<K: Managed>(
    api: Api<K>,
    dependencies: Dependencies,
    definition_ref: fn(&K) -> Option<&str>,
    cluster_ref: fn(&K) -> Option<&str>,
) -> (Controller<K>, Store<K>) {
    let Dependencies {
        definitions,
        clusters,
        config,
    } = dependencies;
    let (controller, store) = super::watched(api, config.clone());
    let definition_changes = watcher(definitions, config.clone())
        .default_backoff()
        .touched_objects()
        .predicate_filter(
            |td: &EcsTaskDefinition| {
                // The generation too: a service stops reporting Ready the moment its task
                // definition's spec changes, not only once the new revision is registered.
                Some(fingerprint((
                    td.current_arn(),
                    td.metadata.generation,
                    is_ready(td.status.as_ref().map(|s| &s.conditions[..])),
                )))
            },
            Default::default(),
        );
    let cluster_changes = watcher(clusters, config)
        .default_backoff()
        .touched_objects()
        .predicate_filter(
            |c: &EcsCluster| {
                let status = c.status.as_ref();
                Some(fingerprint((
                    status.and_then(|s| s.cluster_arn.as_deref()),
                    status.and_then(|s| s.status.as_deref()),
                    is_ready(status.map(|s| &s.conditions[..])),
                )))
            },
            Default::default(),
        );
    let (definition_store, cluster_store) = (store.clone(), store.clone());
    let controller = controller
        .watches_stream(definition_changes, move |td: EcsTaskDefinition| {
            referencing(&definition_store, &td, definition_ref)
        })
        .watches_stream(cluster_changes, move |cluster: EcsCluster| {
            referencing(&cluster_store, &cluster, cluster_ref)
        });
    (controller, store)
}

/// Objects in the same namespace whose reference names `target`.
fn referencing<K: Managed, T: Resource>(
    store: &Store<K>,
    target: &T,
    reference: fn(&K) -> Option<&str>,
) -> Vec<ObjectRef<K>> {
    let namespace = target.meta().namespace.as_deref();
    let name = target.meta().name.as_deref();
    store
        .state()
        .iter()
        .filter(|s| s.namespace().as_deref() == namespace && reference(s) == name)
        .map(|s| ObjectRef::from_obj(s.as_ref()))
        .collect()
}

pub(super) fn fingerprint(value: impl Hash) -> u64 {
    let mut hasher = DefaultHasher::new();
    value.hash(&mut hasher);
    hasher.finish()
}

pub(super) fn is_ready(conditions: Option<&[Condition]>) -> bool {
    conditions
        .and_then(|c| conditions::find(c, conditions::READY))
        .is_some_and(|c| c.status == "True")
}
