//! `spec.autoscaling` of an EcsService: read what Application Auto Scaling has for the service,
//! plan ([`mapping::plan`]) and apply, announce it, and report the target, the policies' ARNs and
//! their alarms in status. Removed from the spec, or the object deleted (unless Retain), the
//! scalable target is deregistered, and its policies and scheduled actions with it.

use k8s_openapi::jiff::Timestamp;
use kube::runtime::events::EventType;
use kube::{Resource, ResourceExt};

use crate::Result;
use crate::api::{AutoscalingStatus, EcsService};
use crate::controller::Context;
use crate::mapping::autoscaling as mapping;

/// Brings the scaling of service `name` in `cluster` in line with the spec; returns its status.
/// A service that has no autoscaling and never had (none in `old`) costs no call; one that has
/// is read on a spec change and once per resync ([`mapping::should_read`]).
/// `spec_changed`: the spec changed since the status was written (the event says Updated, not
/// DriftCorrected).
pub(super) async fn step(
    ctx: &Context,
    obj: &EcsService,
    (region, cluster, name): (&str, &str, &str),
    old: Option<&AutoscalingStatus>,
    spec_changed: bool,
) -> Result<Option<AutoscalingStatus>> {
    let desired = obj.spec.autoscaling.as_ref();
    if !mapping::should_read(desired, old, spec_changed, ctx.resync, Timestamp::now()) {
        return Ok(old.cloned());
    }
    let resource_id = mapping::resource_id(cluster, name);
    let current = ctx.ecs.read_autoscaling(region, &resource_id).await?;
    let plan = mapping::plan(desired, &resource_id, &current)?;
    if plan.is_empty() {
        return Ok(mapping::status(&resource_id, &current, Timestamp::now()));
    }
    let note = plan.summary(name);
    ctx.ecs
        .apply_autoscaling(region, &resource_id, plan)
        .await?;
    let reason = if spec_changed || old.is_none() {
        "Updated"
    } else {
        "DriftCorrected"
    };
    ctx.event(obj, EventType::Normal, reason, note).await;
    let current = ctx.ecs.read_autoscaling(region, &resource_id).await?;
    Ok(mapping::status(&resource_id, &current, Timestamp::now()))
}

/// Deregisters the service's scalable target before the service is deleted, so that
/// Application Auto Scaling does not scale it back up meanwhile. Only for a service that has (or
/// had) autoscaling; a target already gone is done.
pub(super) async fn release(
    ctx: &Context,
    obj: &EcsService,
    (region, cluster, name): (&str, &str, &str),
) -> Result<()> {
    let had = obj.status.as_ref().is_some_and(|s| s.autoscaling.is_some());
    if obj.spec.autoscaling.is_none() && !had {
        return Ok(());
    }
    tracing::debug!(
        object = %obj.name_any(),
        generation = ?obj.meta().generation,
        "deregistering the scalable target before deleting the service"
    );
    ctx.ecs
        .deregister_scalable_target(region, &mapping::resource_id(cluster, name))
        .await
}
