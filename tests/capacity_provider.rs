//! EcsCapacityProvider against the local environment: created, attached to an EcsCluster by
//! reference and used by a service's strategy; updated in place; deleted together with its
//! cluster (the provider waits for the cluster); a provider ECS refuses to delete while a
//! cluster outside the operator uses it; a Managed Instances provider; adoption.

mod harness;
mod support;

use aws_sdk_ecs::types::{CapacityProvider, CapacityProviderField};
use ecs_operator::api::{
    ADOPT_ANNOTATION, EcsCapacityProvider, EcsCluster, EcsService, OWNER_TAG, UID_TAG,
};
use harness::{
    TestOperator, condition, ecs_tags, event_reasons, eventually, is_ready, manifest, setup,
    wait_for, wait_gone,
};
use kube::ResourceExt;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use serde_json::{Value, json};

const ASG: &str =
    "arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:6d9f9a6e:autoScalingGroupName/";

/// The provider as ECS describes it (with tags), if it exists; `cluster` for a Managed
/// Instances provider.
async fn describe(name: &str, cluster: Option<&str>) -> Option<CapacityProvider> {
    support::ecs_client()
        .describe_capacity_providers()
        .capacity_providers(name)
        .set_cluster(cluster.map(Into::into))
        .include(CapacityProviderField::Tags)
        .send()
        .await
        .expect("describe capacity providers")
        .capacity_providers()
        .first()
        .cloned()
}

/// The capacity providers ECS reports for the cluster, sorted.
async fn attached_to(cluster: &str) -> Vec<String> {
    let output = support::ecs_client()
        .describe_clusters()
        .clusters(cluster)
        .send()
        .await
        .expect("describe clusters");
    let mut providers = output.clusters()[0].capacity_providers().to_vec();
    providers.sort();
    providers
}

/// The managed scaling target capacity ECS reports for an Auto Scaling group provider.
async fn target_capacity(name: &str) -> Option<i32> {
    let provider = describe(name, None).await.expect("the provider exists");
    provider
        .auto_scaling_group_provider()
        .and_then(|p| p.managed_scaling())
        .and_then(|s| s.target_capacity())
}

fn provider(name: &str, spec: Value) -> EcsCapacityProvider {
    manifest(json!({
        "apiVersion": "ecs.operator.dev/v1alpha1",
        "kind": "EcsCapacityProvider",
        "metadata": {"name": name},
        "spec": spec
    }))
}

/// Creates the Auto Scaling group provider `name` (with a unique ECS name) and waits until it is
/// Ready; its ECS name.
async fn create_ready(providers: &Api<EcsCapacityProvider>, name: &str) -> String {
    let ecs_name = support::unique_name(name);
    providers
        .create(&PostParams::default(), &provider(name, asg_spec(&ecs_name)))
        .await
        .unwrap();
    wait_for(providers, name, "Ready", is_ready).await;
    ecs_name
}

fn asg_spec(ecs_name: &str) -> Value {
    json!({
        "name": ecs_name,
        "autoScalingGroupProvider": {
            "autoScalingGroupArn": format!("{ASG}{ecs_name}"),
            "managedScaling": {"status": "ENABLED", "targetCapacity": 90},
            "managedTerminationProtection": "DISABLED"
        },
        "tags": [{"key": "team", "value": "platform"}]
    })
}

/// Waits until the Ready condition of `name` has `reason`; its message.
async fn wait_for_reason<K>(api: &Api<K>, name: &str, reason: &str) -> String
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + serde::Serialize + std::fmt::Debug,
{
    let obj = wait_for(api, name, reason, |o| reason_and_message(o).0 == reason).await;
    reason_and_message(&obj).1
}

fn reason_and_message<K: serde::Serialize>(obj: &K) -> (String, String) {
    condition(obj, "Ready")
        .map(|ready| (ready.reason, ready.message))
        .unwrap_or_default()
}

#[tokio::test]
async fn a_provider_referenced_by_a_cluster_and_used_by_a_service() {
    let (client, ns) = setup("cp-life").await;
    let _operator = TestOperator::start(&client, &ns).await;
    let providers: Api<EcsCapacityProvider> = Api::namespaced(client.clone(), &ns);
    let clusters: Api<EcsCluster> = Api::namespaced(client.clone(), &ns);
    let services: Api<EcsService> = Api::namespaced(client.clone(), &ns);
    let provider_name = support::unique_name("ec2");
    let cluster_name = support::unique_name("apps");

    // The cluster comes first: it waits for the provider it references.
    let cluster: EcsCluster = manifest(json!({
        "apiVersion": "ecs.operator.dev/v1alpha1",
        "kind": "EcsCluster",
        "metadata": {"name": "apps"},
        "spec": {
            "clusterName": cluster_name,
            "capacityProviders": ["FARGATE"],
            "capacityProviderRefs": [{"name": "ec2"}],
            "defaultCapacityProviderStrategy": [{"capacityProvider": provider_name, "weight": 1}]
        }
    }));
    clusters
        .create(&PostParams::default(), &cluster)
        .await
        .unwrap();
    let waiting = wait_for_reason(&clusters, "apps", "DependencyNotReady").await;
    assert!(
        waiting.contains("EcsCapacityProvider ec2 does not exist yet"),
        "{waiting}"
    );

    providers
        .create(
            &PostParams::default(),
            &provider("ec2", asg_spec(&provider_name)),
        )
        .await
        .unwrap();
    let obj = wait_for(&providers, "ec2", "Ready", is_ready).await;
    let status = obj.status.clone().unwrap();
    assert_eq!(status.name.as_deref(), Some(provider_name.as_str()));
    assert_eq!(status.status.as_deref(), Some("ACTIVE"));
    let ecs = describe(&provider_name, None)
        .await
        .expect("created in ECS");
    assert_eq!(
        status.capacity_provider_arn.as_deref(),
        ecs.capacity_provider_arn()
    );
    assert_eq!(target_capacity(&provider_name).await, Some(90));
    let tags = ecs_tags(ecs.capacity_provider_arn().unwrap()).await;
    assert_eq!(tags["team"], "platform");
    assert_eq!(tags[OWNER_TAG], format!("{ns}/ec2"));
    assert_eq!(tags[UID_TAG], obj.uid().unwrap());

    // The provider's readiness wakes the cluster (a watch, not its 30 s retry).
    wait_for(&clusters, "apps", "Ready", is_ready).await;
    let attached = attached_to(&cluster_name).await;
    let mut expected = vec!["FARGATE".to_string(), provider_name.clone()];
    expected.sort();
    assert_eq!(attached, expected);

    // A service places its tasks with the provider.
    let family = support::unique_name("web");
    support::ecs_client()
        .register_task_definition()
        .family(&family)
        .container_definitions(
            aws_sdk_ecs::types::ContainerDefinition::builder()
                .name("web")
                .image("nginx:1.27")
                .memory(128)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let service: EcsService = manifest(json!({
        "apiVersion": "ecs.operator.dev/v1alpha1",
        "kind": "EcsService",
        "metadata": {"name": "web"},
        "spec": {
            "clusterRef": {"name": "apps"},
            "taskDefinition": family,
            "desiredCount": 1,
            "capacityProviderStrategy": [{"capacityProvider": provider_name, "weight": 1}]
        }
    }));
    services
        .create(&PostParams::default(), &service)
        .await
        .unwrap();
    wait_for(&services, "web", "Ready", is_ready).await;

    // Updated in place: UpdateCapacityProvider, UPDATE_IN_PROGRESS, then Ready again.
    let patch = json!({"spec": {"autoScalingGroupProvider": {
        "managedScaling": {"targetCapacity": 75},
        "managedDraining": "ENABLED"
    }}});
    providers
        .patch("ec2", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .unwrap();
    let ecs = eventually(
        "targetCapacity 75 in ECS",
        || describe(&provider_name, None),
        |p| {
            p.as_ref().is_some_and(|p| {
                let asg = p.auto_scaling_group_provider().unwrap();
                asg.managed_scaling().unwrap().target_capacity() == Some(75)
                    && asg.managed_draining().map(|d| d.as_str()) == Some("ENABLED")
            })
        },
    )
    .await
    .unwrap();
    assert_eq!(
        ecs.capacity_provider_arn(),
        status.capacity_provider_arn.as_deref(),
        "the same provider, changed in place"
    );
    wait_for(&providers, "ec2", "Ready after the update", |p| {
        is_ready(p)
            && p.status.as_ref().and_then(|s| s.update_status.as_deref()) == Some("UPDATE_COMPLETE")
    })
    .await;
    assert!(
        event_reasons::<EcsCapacityProvider>(&client, &ns, "ec2")
            .await
            .contains(&"Updated".to_string())
    );

    // All three deleted at once: the provider waits until the cluster no longer uses it.
    for result in [
        providers
            .delete("ec2", &DeleteParams::default())
            .await
            .map(|_| ()),
        clusters
            .delete("apps", &DeleteParams::default())
            .await
            .map(|_| ()),
        services
            .delete("web", &DeleteParams::default())
            .await
            .map(|_| ()),
    ] {
        result.unwrap();
    }
    let waiting = wait_for_reason(&providers, "ec2", "Deleting").await;
    assert_eq!(
        waiting,
        format!("waiting for EcsCluster apps to stop using the capacity provider {provider_name}")
    );
    wait_gone(&services, "web").await;
    wait_gone(&clusters, "apps").await;
    wait_gone(&providers, "ec2").await;
    assert!(
        describe(&provider_name, None).await.is_none(),
        "deleted in ECS"
    );
}

#[tokio::test]
async fn a_cluster_outside_the_operator_holds_the_delete_back() {
    let (client, ns) = setup("cp-held").await;
    let _operator = TestOperator::start(&client, &ns).await;
    let providers: Api<EcsCapacityProvider> = Api::namespaced(client.clone(), &ns);
    let provider_name = create_ready(&providers, "held").await;
    let cluster_name = support::unique_name("outside");
    let ecs = support::ecs_client();
    ecs.create_cluster()
        .cluster_name(&cluster_name)
        .capacity_providers(&provider_name)
        .send()
        .await
        .unwrap();

    providers
        .delete("held", &DeleteParams::default())
        .await
        .unwrap();
    // ECS answers DELETE_FAILED with its reason; the operator waits and says so.
    let waiting = wait_for_reason(&providers, "held", "Deleting").await;
    assert_eq!(
        waiting,
        format!(
            "waiting before deleting the capacity provider {provider_name}: The capacity provider \
             cannot be deleted because it is associated with cluster: {cluster_name}. Remove the \
             capacity provider from the cluster and try again."
        )
    );
    assert!(describe(&provider_name, None).await.is_some());

    ecs.put_cluster_capacity_providers()
        .cluster(&cluster_name)
        .set_capacity_providers(Some(vec![]))
        .set_default_capacity_provider_strategy(Some(vec![]))
        .send()
        .await
        .unwrap();
    wait_gone(&providers, "held").await;
    assert!(describe(&provider_name, None).await.is_none());
}

#[tokio::test]
async fn a_managed_instances_provider_in_its_cluster() {
    let (client, ns) = setup("cp-mi").await;
    let _operator = TestOperator::start(&client, &ns).await;
    let providers: Api<EcsCapacityProvider> = Api::namespaced(client.clone(), &ns);
    let cluster_name = support::unique_name("mi");
    let provider_name = support::unique_name("mi");
    let spec = json!({
        "name": provider_name,
        "cluster": cluster_name,
        "managedInstancesProvider": {
            "infrastructureRoleArn": "arn:aws:iam::123456789012:role/ecsInfrastructureRole",
            "instanceLaunchTemplate": {
                "ec2InstanceProfileArn": "arn:aws:iam::123456789012:instance-profile/ecsInstanceRole",
                "networkConfiguration": {"subnets": ["subnet-1", "subnet-2"], "securityGroups": ["sg-1"]},
                "storageConfiguration": {"storageSizeGiB": 50},
                "capacityOptionType": "SPOT",
                "instanceRequirements": {"vCpuCount": {"min": 2, "max": 8}, "memoryMiB": {"min": 4096}}
            },
            "propagateTags": "CAPACITY_PROVIDER"
        }
    });
    providers
        .create(&PostParams::default(), &provider("mi", spec))
        .await
        .unwrap();
    // Its cluster does not exist yet: it waits for it.
    let waiting = wait_for_reason(&providers, "mi", "DependencyNotReady").await;
    assert_eq!(
        waiting,
        format!("ECS cluster {cluster_name} does not exist yet in us-east-1")
    );
    // Its EcsCluster creates the ECS cluster at once, then waits for the provider it references.
    let clusters: Api<EcsCluster> = Api::namespaced(client.clone(), &ns);
    let cluster: EcsCluster = manifest(json!({
        "apiVersion": "ecs.operator.dev/v1alpha1",
        "kind": "EcsCluster",
        "metadata": {"name": "mi"},
        "spec": {"clusterName": cluster_name, "capacityProviderRefs": [{"name": "mi"}]}
    }));
    clusters
        .create(&PostParams::default(), &cluster)
        .await
        .unwrap();
    wait_for(&providers, "mi", "Ready", is_ready).await;
    wait_for(&clusters, "mi", "Ready", is_ready).await;
    assert_eq!(
        attached_to(&cluster_name).await,
        std::slice::from_ref(&provider_name)
    );
    let ecs = describe(&provider_name, Some(&cluster_name))
        .await
        .expect("created in its cluster");
    let template = ecs
        .managed_instances_provider()
        .unwrap()
        .instance_launch_template()
        .unwrap();
    assert_eq!(
        template.storage_configuration().unwrap().storage_size_gib(),
        Some(50)
    );

    let patch = json!({"spec": {"managedInstancesProvider": {
        "instanceLaunchTemplate": {"storageConfiguration": {"storageSizeGiB": 100}},
        "propagateTags": "NONE"
    }}});
    providers
        .patch("mi", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .unwrap();
    let ecs = eventually(
        "storage 100 GiB in ECS",
        || describe(&provider_name, Some(&cluster_name)),
        |p| {
            p.as_ref().is_some_and(|p| {
                let mi = p.managed_instances_provider().unwrap();
                mi.propagate_tags().map(|t| t.as_str()) == Some("NONE")
                    && mi
                        .instance_launch_template()
                        .and_then(|t| t.storage_configuration())
                        .and_then(|s| s.storage_size_gib())
                        == Some(100)
            })
        },
    )
    .await
    .unwrap();
    let template = ecs
        .managed_instances_provider()
        .unwrap()
        .instance_launch_template()
        .unwrap();
    assert_eq!(
        template.capacity_option_type().map(|c| c.as_str()),
        Some("SPOT")
    );

    // Both deleted at once: ECS deletes no cluster while a provider is scoped to it, so here the
    // provider goes first and the cluster waits for it.
    providers
        .delete("mi", &DeleteParams::default())
        .await
        .unwrap();
    clusters
        .delete("mi", &DeleteParams::default())
        .await
        .unwrap();
    wait_gone(&providers, "mi").await;
    wait_gone(&clusters, "mi").await;
    assert!(
        describe(&provider_name, Some(&cluster_name))
            .await
            .is_none()
    );
}

#[tokio::test]
async fn an_untagged_provider_is_adopted_only_when_asked() {
    let (client, ns) = setup("cp-adopt").await;
    let _operator = TestOperator::start(&client, &ns).await;
    let providers: Api<EcsCapacityProvider> = Api::namespaced(client.clone(), &ns);
    let provider_name = support::unique_name("found");
    support::ecs_client()
        .create_capacity_provider()
        .name(&provider_name)
        .auto_scaling_group_provider(
            aws_sdk_ecs::types::AutoScalingGroupProvider::builder()
                .auto_scaling_group_arn(format!("{ASG}{provider_name}"))
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    providers
        .create(
            &PostParams::default(),
            &provider("found", asg_spec(&provider_name)),
        )
        .await
        .unwrap();
    let conflict = wait_for(&providers, "found", "Stalled", harness::is_stalled).await;
    assert_eq!(reason_and_message(&conflict).0, "OwnershipConflict");

    let patch = json!({"metadata": {"annotations": {ADOPT_ANNOTATION: "true"}}});
    providers
        .patch("found", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .unwrap();
    let adopted = wait_for(&providers, "found", "Ready", is_ready).await;
    let arn = adopted.status.unwrap().capacity_provider_arn.unwrap();
    let tags = eventually(
        "ownership tags written",
        || ecs_tags(&arn),
        |t| t.contains_key(OWNER_TAG),
    )
    .await;
    assert_eq!(tags[OWNER_TAG], format!("{ns}/found"));
    // The spec's managed scaling reached ECS too (drift of an adopted provider).
    assert_eq!(target_capacity(&provider_name).await, Some(90));

    // Retain leaves it in ECS.
    let patch = json!({"spec": {"deletionPolicy": "Retain"}});
    providers
        .patch("found", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .unwrap();
    wait_for(&providers, "found", "Retain observed", |p| {
        p.status.as_ref().and_then(|s| s.observed_generation) == p.metadata.generation
    })
    .await;
    providers
        .delete("found", &DeleteParams::default())
        .await
        .unwrap();
    wait_gone(&providers, "found").await;
    assert!(describe(&provider_name, None).await.is_some(), "retained");
}

#[tokio::test]
async fn a_failed_update_stalls_and_is_not_sent_again_until_the_spec_changes() {
    let (client, ns) = setup("cp-fail").await;
    let operator = TestOperator::start(&client, &ns).await;
    let providers: Api<EcsCapacityProvider> = Api::namespaced(client.clone(), &ns);
    let provider_name = create_ready(&providers, "fails").await;

    // ECS fails the next updates of this provider (the emulator's admin API).
    let reason = "The Auto Scaling group could not be updated.";
    support::emulator_admin(
        "POST",
        "capacity-provider-failures",
        Some(json!({"name": provider_name, "reason": reason})),
    );
    let target = |capacity: i32| json!({"spec": {"autoScalingGroupProvider": {"managedScaling": {"targetCapacity": capacity}}}});
    providers
        .patch("fails", &PatchParams::default(), &Patch::Merge(&target(50)))
        .await
        .unwrap();
    let stalled = wait_for(&providers, "fails", "Stalled", harness::is_stalled).await;
    assert_eq!(
        reason_and_message(&stalled),
        (
            "UpdateFailed".to_string(),
            format!(
                "ECS could not update the capacity provider {provider_name} in {}: {reason}",
                support::env().region
            )
        )
    );
    let updates = || {
        support::emulator_calls(&operator.access_key)
            .get("UpdateCapacityProvider")
            .copied()
            .unwrap_or(0)
    };
    let sent = updates();
    operator.resyncs("EcsCapacityProvider", 1, 3).await;
    assert_eq!(updates(), sent, "the failed update is not sent again");
    let warnings = event_reasons::<EcsCapacityProvider>(&client, &ns, "fails").await;
    assert_eq!(
        warnings.iter().filter(|r| *r == "UpdateFailed").count(),
        1,
        "{warnings:?}"
    );

    // A spec change tries again.
    support::emulator_admin("DELETE", "capacity-provider-failures", None);
    providers
        .patch("fails", &PatchParams::default(), &Patch::Merge(&target(60)))
        .await
        .unwrap();
    wait_for(&providers, "fails", "Ready with the change", |p| {
        is_ready(p)
            && p.status.as_ref().and_then(|s| s.update_status.as_deref()) == Some("UPDATE_COMPLETE")
    })
    .await;
    assert_eq!(target_capacity(&provider_name).await, Some(60));
}
