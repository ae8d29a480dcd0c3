use super::*;
use crate::api::capacity_provider::{
    IntRange, ManagedInstancesNetworkConfiguration, ManagedInstancesStorageConfiguration,
};

fn asg_spec() -> EcsCapacityProviderSpec {
    EcsCapacityProviderSpec {
        auto_scaling_group_provider: Some(AutoScalingGroupProvider {
            auto_scaling_group_arn: "arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:1:autoScalingGroupName/web".into(),
            managed_scaling: Some(ManagedScaling {
                status: Some("ENABLED".into()),
                target_capacity: Some(90),
                ..Default::default()
            }),
            managed_termination_protection: Some("DISABLED".into()),
            managed_draining: None,
        }),
        ..Default::default()
    }
}

fn mi_spec() -> EcsCapacityProviderSpec {
    EcsCapacityProviderSpec {
        cluster: Some("apps".into()),
        managed_instances_provider: Some(ManagedInstancesProvider {
            infrastructure_role_arn: "arn:aws:iam::123456789012:role/ecsInfrastructureRole".into(),
            instance_launch_template: InstanceLaunchTemplate {
                ec2_instance_profile_arn: "arn:aws:iam::123456789012:instance-profile/ecsInstance"
                    .into(),
                network_configuration: Some(ManagedInstancesNetworkConfiguration {
                    subnets: vec!["subnet-a".into(), "subnet-b".into()],
                    security_groups: vec!["sg-1".into()],
                }),
                storage_configuration: Some(ManagedInstancesStorageConfiguration {
                    storage_size_gib: Some(50),
                }),
                monitoring: Some("BASIC".into()),
                capacity_option_type: Some("SPOT".into()),
                instance_requirements: Some(InstanceRequirements {
                    v_cpu_count: IntRange {
                        min: 2,
                        max: Some(8),
                    },
                    memory_mib: IntRange {
                        min: 4096,
                        max: None,
                    },
                    cpu_manufacturers: vec!["intel".into(), "amd".into()],
                    ..Default::default()
                }),
            },
            propagate_tags: Some("CAPACITY_PROVIDER".into()),
            infrastructure_optimization: None,
        }),
        ..Default::default()
    }
}

/// A provider as ECS describes what `spec` created, with the defaults ECS fills in
/// (ManagedScaling: 300 s warm-up, step sizes 1 and 10000, as the API reference gives them).
fn described(spec: &EcsCapacityProviderSpec) -> ecs::CapacityProvider {
    let asg = spec.auto_scaling_group_provider.as_ref().map(|a| {
        let mut provider = auto_scaling_group_provider(a);
        let scaling = provider
            .managed_scaling
            .take()
            .unwrap_or_else(|| managed_scaling(&Default::default()));
        provider.managed_scaling = Some(
            ecs::ManagedScaling::builder()
                .status(
                    scaling
                        .status
                        .unwrap_or(ecs::ManagedScalingStatus::Disabled),
                )
                .target_capacity(scaling.target_capacity.unwrap_or(100))
                .minimum_scaling_step_size(scaling.minimum_scaling_step_size.unwrap_or(1))
                .maximum_scaling_step_size(scaling.maximum_scaling_step_size.unwrap_or(10000))
                .instance_warmup_period(scaling.instance_warmup_period.unwrap_or(300))
                .build(),
        );
        provider
    });
    let mi = spec.managed_instances_provider.as_ref().map(|m| {
        let created = managed_instances_create(m);
        // ECS keeps lists in its own order.
        let mut template = created.instance_launch_template.clone().unwrap();
        if let Some(network) = template.network_configuration.as_mut() {
            network.subnets.as_mut().unwrap().reverse();
        }
        if let Some(r) = template.instance_requirements.as_mut() {
            r.cpu_manufacturers.as_mut().unwrap().reverse();
        }
        ecs::ManagedInstancesProvider::builder()
            .infrastructure_role_arn(created.infrastructure_role_arn())
            .instance_launch_template(template)
            .set_propagate_tags(created.propagate_tags().cloned())
            .build()
    });
    ecs::CapacityProvider::builder()
        .capacity_provider_arn("arn:aws:ecs:us-east-1:123456789012:capacity-provider/web")
        .name("web")
        .status(ecs::CapacityProviderStatus::Active)
        .set_auto_scaling_group_provider(asg)
        .set_managed_instances_provider(mi)
        .build()
}

#[test]
fn the_auto_scaling_group_provider_carries_every_field() {
    let spec = asg_spec();
    let provider = auto_scaling_group_provider(spec.auto_scaling_group_provider.as_ref().unwrap());
    assert!(
        provider
            .auto_scaling_group_arn()
            .ends_with("autoScalingGroupName/web")
    );
    let scaling = provider.managed_scaling().unwrap();
    assert_eq!(scaling.status(), Some(&ecs::ManagedScalingStatus::Enabled));
    assert_eq!(scaling.target_capacity(), Some(90));
    assert_eq!(
        scaling.instance_warmup_period(),
        None,
        "unset stays unset: ECS's default applies"
    );
    assert_eq!(
        provider.managed_termination_protection(),
        Some(&ecs::ManagedTerminationProtection::Disabled)
    );
    assert_eq!(provider.managed_draining(), None);

    let update = auto_scaling_group_update(spec.auto_scaling_group_provider.as_ref().unwrap());
    assert_eq!(update.managed_scaling(), provider.managed_scaling());
    assert_eq!(
        update.managed_termination_protection(),
        provider.managed_termination_protection()
    );
}

#[test]
fn the_managed_instances_provider_carries_every_field() {
    let spec = mi_spec();
    let created = managed_instances_create(spec.managed_instances_provider.as_ref().unwrap());
    assert!(
        created
            .infrastructure_role_arn()
            .ends_with("role/ecsInfrastructureRole")
    );
    assert_eq!(
        created.propagate_tags(),
        Some(&ecs::PropagateMiTags::CapacityProvider)
    );
    let template = created.instance_launch_template().unwrap();
    assert!(
        template
            .ec2_instance_profile_arn()
            .ends_with("instance-profile/ecsInstance")
    );
    assert_eq!(
        template.network_configuration().unwrap().subnets(),
        ["subnet-a", "subnet-b"]
    );
    assert_eq!(
        template.storage_configuration().unwrap().storage_size_gib(),
        Some(50)
    );
    assert_eq!(
        template.monitoring(),
        Some(&ecs::ManagedInstancesMonitoringOptions::Basic)
    );
    assert_eq!(
        template.capacity_option_type(),
        Some(&ecs::CapacityOptionType::Spot)
    );
    let requirements = template.instance_requirements().unwrap();
    assert_eq!(requirements.v_cpu_count().unwrap().min(), 2);
    assert_eq!(requirements.v_cpu_count().unwrap().max(), Some(8));
    assert_eq!(requirements.memory_mib().unwrap().max(), None);
    assert_eq!(
        requirements.cpu_manufacturers(),
        [ecs::CpuManufacturer::Intel, ecs::CpuManufacturer::Amd]
    );
    assert!(
        requirements.excluded_instance_types().is_empty(),
        "empty lists are not sent"
    );
}

#[test]
fn the_update_of_a_managed_instances_provider_sends_all_but_the_capacity_option_type() {
    let spec = mi_spec();
    let update = managed_instances_update(spec.managed_instances_provider.as_ref().unwrap());
    let template = update.instance_launch_template().unwrap();
    assert!(
        template
            .ec2_instance_profile_arn()
            .unwrap()
            .ends_with("ecsInstance")
    );
    assert_eq!(
        template.storage_configuration().unwrap().storage_size_gib(),
        Some(50)
    );
    assert!(template.instance_requirements().is_some());
    assert_eq!(
        update.propagate_tags(),
        Some(&ecs::PropagateMiTags::CapacityProvider)
    );
}

#[test]
fn a_provider_as_created_has_no_drift_despite_defaults_and_list_order() {
    for spec in [asg_spec(), mi_spec()] {
        assert_eq!(drift(&spec, &described(&spec)), Vec::<&str>::new());
    }
}

#[test]
fn changed_updatable_fields_are_drift() {
    let spec = asg_spec();
    let current = described(&spec);
    let mut changed = spec.clone();
    let asg = changed.auto_scaling_group_provider.as_mut().unwrap();
    asg.managed_scaling.as_mut().unwrap().target_capacity = Some(75);
    asg.managed_draining = Some("ENABLED".into());
    assert_eq!(
        drift(&changed, &current),
        ["managedScaling", "managedDraining"]
    );

    let spec = mi_spec();
    let current = described(&spec);
    let mut changed = spec.clone();
    let mi = changed.managed_instances_provider.as_mut().unwrap();
    mi.propagate_tags = Some("NONE".into());
    mi.instance_launch_template
        .instance_requirements
        .as_mut()
        .unwrap()
        .v_cpu_count
        .max = Some(16);
    assert_eq!(
        drift(&changed, &current),
        ["propagateTags", "instanceLaunchTemplate"]
    );
    let mut changed = spec.clone();
    let template = &mut changed
        .managed_instances_provider
        .as_mut()
        .unwrap()
        .instance_launch_template;
    template
        .network_configuration
        .as_mut()
        .unwrap()
        .security_groups
        .push("sg-2".into());
    assert_eq!(drift(&changed, &current), ["instanceLaunchTemplate"]);
}

#[test]
fn status_and_health_follow_the_update_status() {
    let spec = asg_spec();
    let current = described(&spec);
    let status = status(&current);
    assert_eq!(status.name.as_deref(), Some("web"));
    assert_eq!(status.status.as_deref(), Some("ACTIVE"));
    assert_eq!(
        status.capacity_provider_arn.as_deref(),
        Some("arn:aws:ecs:us-east-1:123456789012:capacity-provider/web")
    );
    let what = "the capacity provider web";
    assert_eq!(
        health(what, &current),
        (
            Health::Ready {
                message: "the capacity provider web is ACTIVE".into()
            },
            None
        )
    );

    let with = |update: ecs::CapacityProviderUpdateStatus, reason: &str| {
        let mut provider = current.clone();
        provider.update_status = Some(update);
        provider.update_status_reason = Some(reason.into());
        provider
    };
    let (updating, requeue) = health(
        what,
        &with(ecs::CapacityProviderUpdateStatus::UpdateInProgress, ""),
    );
    assert_eq!(
        updating,
        Health::progressing("Updating", "ECS is updating the capacity provider web")
    );
    assert!(requeue.is_some(), "an update in progress is polled");
    let (failed, _) = health(
        what,
        &with(
            ecs::CapacityProviderUpdateStatus::UpdateFailed,
            "The Auto Scaling group was not found.",
        ),
    );
    assert_eq!(
        failed,
        Health::stalled(
            "UpdateFailed",
            "ECS could not update the capacity provider web: The Auto Scaling group was not found."
        )
    );
    let (done, _) = health(
        what,
        &with(ecs::CapacityProviderUpdateStatus::UpdateComplete, ""),
    );
    assert!(matches!(done, Health::Ready { .. }));
}

#[test]
fn a_delete_failed_answer_says_why() {
    let spec = asg_spec();
    let mut answer = described(&spec);
    assert_eq!(delete_refused(&answer), None);
    let reason = "The capacity provider cannot be deleted because it is associated with cluster: apps. Remove the capacity provider from the cluster and try again.";
    answer.update_status = Some(ecs::CapacityProviderUpdateStatus::DeleteFailed);
    answer.update_status_reason = Some(reason.into());
    assert_eq!(delete_refused(&answer).as_deref(), Some(reason));
}

#[test]
fn an_update_waits_for_the_one_in_progress_and_a_failed_one_for_a_spec_change() {
    use ecs::CapacityProviderUpdateStatus as Update;
    let drift = ["managedScaling"];
    assert!(should_update(&drift, None, true));
    assert!(should_update(&drift, Some(&Update::UpdateComplete), true));
    assert!(!should_update(&[], None, false), "nothing to change");
    assert!(!should_update(
        &drift,
        Some(&Update::UpdateInProgress),
        false
    ));
    assert!(
        !should_update(&drift, Some(&Update::UpdateFailed), true),
        "the same generation failed already"
    );
    assert!(
        should_update(&drift, Some(&Update::UpdateFailed), false),
        "a new generation"
    );
}
