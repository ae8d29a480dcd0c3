//! EcsCapacityProvider spec to ECS CreateCapacityProvider / UpdateCapacityProvider, what differs
//! between the spec and a described provider, and status and health from what ECS reports.
//!
//! UpdateCapacityProvider takes, for an Auto Scaling group provider, `managedScaling`,
//! `managedTerminationProtection` and `managedDraining` (`AutoScalingGroupProviderUpdate`); for
//! a Managed Instances provider, everything but the capacity option type
//! (`UpdateManagedInstancesProviderConfiguration`, `InstanceLaunchTemplateUpdate`). The rest is
//! immutable at admission (see the CEL rules of `api::capacity_provider`).

use std::collections::BTreeSet;
use std::time::Duration;

use aws_sdk_ecs::types as ecs;

use crate::api::capacity_provider::{
    AutoScalingGroupProvider, EcsCapacityProviderSpec, EcsCapacityProviderStatus,
    InstanceLaunchTemplate, InstanceRequirements, ManagedInstancesProvider, ManagedScaling,
};
use crate::mapping::conditions::Health;

/// ECS `ManagedScaling` from the spec's.
pub fn managed_scaling(spec: &ManagedScaling) -> ecs::ManagedScaling {
    ecs::ManagedScaling::builder()
        .set_status(spec.status.as_deref().map(Into::into))
        .set_target_capacity(spec.target_capacity)
        .set_minimum_scaling_step_size(spec.minimum_scaling_step_size)
        .set_maximum_scaling_step_size(spec.maximum_scaling_step_size)
        .set_instance_warmup_period(spec.instance_warmup_period)
        .build()
}

/// Sets what an Auto Scaling group provider and its update share (the builders differ).
macro_rules! managed_settings {
    ($builder:expr, $spec:expr) => {
        $builder
            .set_managed_scaling($spec.managed_scaling.as_ref().map(managed_scaling))
            .set_managed_termination_protection(
                $spec
                    .managed_termination_protection
                    .as_deref()
                    .map(Into::into),
            )
            .set_managed_draining($spec.managed_draining.as_deref().map(Into::into))
    };
}

/// CreateCapacityProvider's `autoScalingGroupProvider`.
pub fn auto_scaling_group_provider(
    spec: &AutoScalingGroupProvider,
) -> ecs::AutoScalingGroupProvider {
    let builder = ecs::AutoScalingGroupProvider::builder()
        .auto_scaling_group_arn(&spec.auto_scaling_group_arn);
    managed_settings!(builder, spec)
        .build()
        .expect("autoScalingGroupArn is required by the schema")
}

/// UpdateCapacityProvider's `autoScalingGroupProvider`: what ECS can change in place.
pub fn auto_scaling_group_update(
    spec: &AutoScalingGroupProvider,
) -> ecs::AutoScalingGroupProviderUpdate {
    managed_settings!(ecs::AutoScalingGroupProviderUpdate::builder(), spec).build()
}

fn strings<T: for<'a> From<&'a str>>(items: &[String]) -> Option<Vec<T>> {
    (!items.is_empty()).then(|| items.iter().map(|i| T::from(i.as_str())).collect())
}

fn plain(items: &[String]) -> Option<Vec<String>> {
    (!items.is_empty()).then(|| items.to_vec())
}

/// ECS `InstanceRequirementsRequest` from the spec's.
pub fn instance_requirements(spec: &InstanceRequirements) -> ecs::InstanceRequirementsRequest {
    ecs::InstanceRequirementsRequest::builder()
        .v_cpu_count(
            ecs::VCpuCountRangeRequest::builder()
                .min(spec.v_cpu_count.min)
                .set_max(spec.v_cpu_count.max)
                .build()
                .expect("min is required by the schema"),
        )
        .memory_mib(
            ecs::MemoryMiBRequest::builder()
                .min(spec.memory_mib.min)
                .set_max(spec.memory_mib.max)
                .build()
                .expect("min is required by the schema"),
        )
        .set_cpu_manufacturers(strings(&spec.cpu_manufacturers))
        .set_memory_gib_per_v_cpu(spec.memory_gib_per_v_cpu.as_ref().map(|r| {
            ecs::MemoryGiBPerVCpuRequest::builder()
                .set_min(r.min)
                .set_max(r.max)
                .build()
        }))
        .set_excluded_instance_types(plain(&spec.excluded_instance_types))
        .set_allowed_instance_types(plain(&spec.allowed_instance_types))
        .set_instance_generations(strings(&spec.instance_generations))
        .set_spot_max_price_percentage_over_lowest_price(
            spec.spot_max_price_percentage_over_lowest_price,
        )
        .set_on_demand_max_price_percentage_over_lowest_price(
            spec.on_demand_max_price_percentage_over_lowest_price,
        )
        .set_bare_metal(spec.bare_metal.as_deref().map(Into::into))
        .set_burstable_performance(spec.burstable_performance.as_deref().map(Into::into))
        .set_local_storage(spec.local_storage.as_deref().map(Into::into))
        .set_local_storage_types(strings(&spec.local_storage_types))
        .set_accelerator_types(strings(&spec.accelerator_types))
        .set_accelerator_count(spec.accelerator_count.as_ref().map(|r| {
            ecs::AcceleratorCountRequest::builder()
                .set_min(r.min)
                .set_max(r.max)
                .build()
        }))
        .set_accelerator_manufacturers(strings(&spec.accelerator_manufacturers))
        .build()
}

fn network(spec: &InstanceLaunchTemplate) -> Option<ecs::ManagedInstancesNetworkConfiguration> {
    spec.network_configuration.as_ref().map(|n| {
        ecs::ManagedInstancesNetworkConfiguration::builder()
            .set_subnets(plain(&n.subnets))
            .set_security_groups(plain(&n.security_groups))
            .build()
    })
}

fn storage(spec: &InstanceLaunchTemplate) -> Option<ecs::ManagedInstancesStorageConfiguration> {
    spec.storage_configuration.as_ref().map(|s| {
        ecs::ManagedInstancesStorageConfiguration::builder()
            .set_storage_size_gib(s.storage_size_gib)
            .build()
    })
}

/// CreateCapacityProvider's `instanceLaunchTemplate`.
pub fn launch_template(spec: &InstanceLaunchTemplate) -> ecs::InstanceLaunchTemplate {
    ecs::InstanceLaunchTemplate::builder()
        .ec2_instance_profile_arn(&spec.ec2_instance_profile_arn)
        .set_network_configuration(network(spec))
        .set_storage_configuration(storage(spec))
        .set_monitoring(spec.monitoring.as_deref().map(Into::into))
        .set_capacity_option_type(spec.capacity_option_type.as_deref().map(Into::into))
        .set_instance_requirements(
            spec.instance_requirements
                .as_ref()
                .map(instance_requirements),
        )
        .build()
        .expect("ec2InstanceProfileArn is required by the schema")
}

/// CreateCapacityProvider's `managedInstancesProvider`.
pub fn managed_instances_create(
    spec: &ManagedInstancesProvider,
) -> ecs::CreateManagedInstancesProviderConfiguration {
    ecs::CreateManagedInstancesProviderConfiguration::builder()
        .infrastructure_role_arn(&spec.infrastructure_role_arn)
        .instance_launch_template(launch_template(&spec.instance_launch_template))
        .set_propagate_tags(spec.propagate_tags.as_deref().map(Into::into))
        .set_infrastructure_optimization(optimization(spec))
        .build()
        .expect("infrastructureRoleArn is required by the schema")
}

fn optimization(spec: &ManagedInstancesProvider) -> Option<ecs::InfrastructureOptimization> {
    spec.infrastructure_optimization.as_ref().map(|o| {
        ecs::InfrastructureOptimization::builder()
            .set_scale_in_after(o.scale_in_after)
            .build()
    })
}

/// UpdateCapacityProvider's `managedInstancesProvider`: all of it but the capacity option type,
/// which ECS cannot change.
pub fn managed_instances_update(
    spec: &ManagedInstancesProvider,
) -> ecs::UpdateManagedInstancesProviderConfiguration {
    let template = &spec.instance_launch_template;
    let update = ecs::InstanceLaunchTemplateUpdate::builder()
        .ec2_instance_profile_arn(&template.ec2_instance_profile_arn)
        .set_network_configuration(network(template))
        .set_storage_configuration(storage(template))
        .set_monitoring(template.monitoring.as_deref().map(Into::into))
        .set_instance_requirements(
            template
                .instance_requirements
                .as_ref()
                .map(instance_requirements),
        )
        .build();
    ecs::UpdateManagedInstancesProviderConfiguration::builder()
        .infrastructure_role_arn(&spec.infrastructure_role_arn)
        .instance_launch_template(update)
        .set_propagate_tags(spec.propagate_tags.as_deref().map(Into::into))
        .set_infrastructure_optimization(optimization(spec))
        .build()
        .expect("infrastructureRoleArn is required by the schema")
}

/// Whether `want` is set and differs from what ECS has.
fn differs<T: PartialEq + ?Sized>(want: Option<&T>, have: Option<&T>) -> bool {
    want.is_some_and(|w| Some(w) != have)
}

fn set_of<T: AsRef<str>>(items: &[T]) -> BTreeSet<&str> {
    items.iter().map(AsRef::as_ref).collect()
}

/// Instance requirements compared as ECS keeps them: list order is not a difference.
fn requirements_differ(
    want: &ecs::InstanceRequirementsRequest,
    have: &ecs::InstanceRequirementsRequest,
) -> bool {
    fn lists(r: &ecs::InstanceRequirementsRequest) -> [BTreeSet<&str>; 7] {
        [
            r.cpu_manufacturers().iter().map(|m| m.as_str()).collect(),
            set_of(r.excluded_instance_types()),
            set_of(r.allowed_instance_types()),
            r.instance_generations()
                .iter()
                .map(|g| g.as_str())
                .collect(),
            r.local_storage_types().iter().map(|t| t.as_str()).collect(),
            r.accelerator_types().iter().map(|t| t.as_str()).collect(),
            r.accelerator_manufacturers()
                .iter()
                .map(|m| m.as_str())
                .collect(),
        ]
    }
    lists(want) != lists(have)
        || want.v_cpu_count() != have.v_cpu_count()
        || want.memory_mib() != have.memory_mib()
        || differs(want.memory_gib_per_v_cpu(), have.memory_gib_per_v_cpu())
        || differs(
            want.spot_max_price_percentage_over_lowest_price.as_ref(),
            have.spot_max_price_percentage_over_lowest_price.as_ref(),
        )
        || differs(
            want.on_demand_max_price_percentage_over_lowest_price
                .as_ref(),
            have.on_demand_max_price_percentage_over_lowest_price
                .as_ref(),
        )
        || differs(want.bare_metal(), have.bare_metal())
        || differs(want.burstable_performance(), have.burstable_performance())
        || differs(want.local_storage(), have.local_storage())
        || differs(want.accelerator_count(), have.accelerator_count())
}

/// The fields UpdateCapacityProvider must change, for events. Compares only what the spec sets:
/// ECS fills in defaults (managed scaling's 100 % target, 300 s warm-up ...) that are not drift.
pub fn drift(spec: &EcsCapacityProviderSpec, current: &ecs::CapacityProvider) -> Vec<&'static str> {
    let mut fields = Vec::new();
    if let Some(want) = &spec.auto_scaling_group_provider {
        let have = current.auto_scaling_group_provider();
        if let Some(scaling) = &want.managed_scaling {
            let have = have.and_then(|h| h.managed_scaling());
            let want = managed_scaling(scaling);
            let changed = differs(want.status(), have.and_then(|h| h.status()))
                || differs(
                    want.target_capacity.as_ref(),
                    have.and_then(|h| h.target_capacity.as_ref()),
                )
                || differs(
                    want.minimum_scaling_step_size.as_ref(),
                    have.and_then(|h| h.minimum_scaling_step_size.as_ref()),
                )
                || differs(
                    want.maximum_scaling_step_size.as_ref(),
                    have.and_then(|h| h.maximum_scaling_step_size.as_ref()),
                )
                || differs(
                    want.instance_warmup_period.as_ref(),
                    have.and_then(|h| h.instance_warmup_period.as_ref()),
                );
            if changed {
                fields.push("managedScaling");
            }
        }
        if differs(
            want.managed_termination_protection.as_deref(),
            have.and_then(|h| h.managed_termination_protection())
                .map(|p| p.as_str()),
        ) {
            fields.push("managedTerminationProtection");
        }
        if differs(
            want.managed_draining.as_deref(),
            have.and_then(|h| h.managed_draining()).map(|d| d.as_str()),
        ) {
            fields.push("managedDraining");
        }
    }
    if let Some(want) = &spec.managed_instances_provider {
        let have = current.managed_instances_provider();
        if differs(
            Some(want.infrastructure_role_arn.as_str()),
            have.and_then(|h| h.infrastructure_role_arn()),
        ) {
            fields.push("infrastructureRoleArn");
        }
        if differs(
            want.propagate_tags.as_deref(),
            have.and_then(|h| h.propagate_tags()).map(|p| p.as_str()),
        ) {
            fields.push("propagateTags");
        }
        if differs(
            optimization(want).as_ref(),
            have.and_then(|h| h.infrastructure_optimization()),
        ) {
            fields.push("infrastructureOptimization");
        }
        let have = have.and_then(|h| h.instance_launch_template());
        if launch_template_differs(&want.instance_launch_template, have) {
            fields.push("instanceLaunchTemplate");
        }
    }
    fields
}

fn launch_template_differs(
    want: &InstanceLaunchTemplate,
    have: Option<&ecs::InstanceLaunchTemplate>,
) -> bool {
    let Some(have) = have else {
        return true;
    };
    let network_differs = want.network_configuration.as_ref().is_some_and(|n| {
        let have = have.network_configuration();
        set_of(&n.subnets) != set_of(have.map(|h| h.subnets()).unwrap_or_default())
            || set_of(&n.security_groups)
                != set_of(have.map(|h| h.security_groups()).unwrap_or_default())
    });
    let requirements_differ = want.instance_requirements.as_ref().is_some_and(|r| {
        have.instance_requirements()
            .is_none_or(|h| requirements_differ(&instance_requirements(r), h))
    });
    want.ec2_instance_profile_arn != have.ec2_instance_profile_arn
        || network_differs
        || differs(storage(want).as_ref(), have.storage_configuration())
        || differs(
            want.monitoring.as_deref(),
            have.monitoring().map(|m| m.as_str()),
        )
        || requirements_differ
}

/// Whether to send UpdateCapacityProvider for drift `fields`, given ECS's `update_status` and
/// whether status already describes this generation (`observed`). ECS takes one update at a
/// time: a change waits for the one in progress. An update ECS failed is not sent again for the
/// same generation (it would fail again, every few seconds): a spec change tries again.
pub fn should_update(
    fields: &[&str],
    update_status: Option<&ecs::CapacityProviderUpdateStatus>,
    observed: bool,
) -> bool {
    use ecs::CapacityProviderUpdateStatus as Update;
    !fields.is_empty()
        && match update_status {
            Some(Update::UpdateInProgress) => false,
            Some(Update::UpdateFailed) => !observed,
            _ => true,
        }
}

/// The ECS facts of the status.
pub fn status(current: &ecs::CapacityProvider) -> EcsCapacityProviderStatus {
    EcsCapacityProviderStatus {
        capacity_provider_arn: current.capacity_provider_arn().map(Into::into),
        name: current.name().map(Into::into),
        status: current.status().map(|s| s.as_str().to_string()),
        update_status: current.update_status().map(|s| s.as_str().to_string()),
        update_status_reason: current.update_status_reason().map(Into::into),
        ..Default::default()
    }
}

/// Health from what ECS reports, and when to look again: an update in progress is polled, a
/// failed one stalls until the spec changes (ECS's reason in the message).
pub fn health(what: &str, current: &ecs::CapacityProvider) -> (Health, Option<Duration>) {
    let reason = current.update_status_reason().unwrap_or("no reason given");
    match (
        current.status().map(|s| s.as_str()),
        current.update_status().map(|s| s.as_str()),
    ) {
        (Some("INACTIVE"), _) => (
            Health::stalled(
                "CapacityProviderInactive",
                format!("ECS reports {what} as INACTIVE (deleted)"),
            ),
            None,
        ),
        (_, Some("UPDATE_IN_PROGRESS")) => (
            Health::progressing("Updating", format!("ECS is updating {what}")),
            Some(Duration::from_secs(10)),
        ),
        (_, Some("UPDATE_FAILED")) => (
            Health::stalled(
                "UpdateFailed",
                format!("ECS could not update {what}: {reason}"),
            ),
            None,
        ),
        _ => (
            Health::Ready {
                message: format!("{what} is ACTIVE"),
            },
            None,
        ),
    }
}

/// Why ECS did not delete the provider, from DeleteCapacityProvider's answer: ECS answers a
/// provider still associated with a cluster with updateStatus DELETE_FAILED and a reason
/// ("The capacity provider cannot be deleted because it is associated with cluster: X. Remove
/// the capacity provider from the cluster and try again.", hashicorp/terraform-provider-aws
/// PR #48156; ekristen/aws-nuke PR #542), not with an error.
pub fn delete_refused(answer: &ecs::CapacityProvider) -> Option<String> {
    (answer.update_status() == Some(&ecs::CapacityProviderUpdateStatus::DeleteFailed)).then(|| {
        answer
            .update_status_reason()
            .unwrap_or("ECS reports DELETE_FAILED")
            .to_string()
    })
}

#[cfg(test)]
#[path = "capacity_provider/tests.rs"]
mod tests;
