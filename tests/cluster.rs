//! EcsCluster against the local environment: lifecycle, updates, drift, tags, Retain, adoption
//! and ownership conflicts.

mod harness;
mod support;

use ecs_operator::api::{ADOPT_ANNOTATION, CLUSTER_ID_TAG, EcsCluster, OWNER_TAG, UID_TAG};
use harness::{
    TestOperator, condition, ecs_tags, eventually, is_ready, manifest, setup, wait_for, wait_gone,
};
use kube::ResourceExt;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use serde_json::json;

async fn describe(name: &str) -> Option<aws_sdk_ecs::types::Cluster> {
    let output = support::ecs_client()
        .describe_clusters()
        .clusters(name)
        .include(aws_sdk_ecs::types::ClusterField::Tags)
        .include(aws_sdk_ecs::types::ClusterField::Settings)
        .send()
        .await
        .expect("describe clusters");
    output
        .clusters()
        .iter()
        .find(|c| c.status() != Some("INACTIVE"))
        .cloned()
}

fn cluster(name: &str, ecs_name: &str, extra: serde_json::Value) -> EcsCluster {
    let mut spec = json!({
        "clusterName": ecs_name,
        "settings": [{"name": "containerInsights", "value": "enabled"}],
        "capacityProviders": ["FARGATE", "FARGATE_SPOT"],
        "defaultCapacityProviderStrategy": [
            {"capacityProvider": "FARGATE", "weight": 1, "base": 1},
            {"capacityProvider": "FARGATE_SPOT", "weight": 4}
        ],
        "tags": [{"key": "team", "value": "platform"}]
    });
    spec.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    manifest(json!({
        "apiVersion": "ecs.operator.dev/v1alpha1",
        "kind": "EcsCluster",
        "metadata": {"name": name},
        "spec": spec
    }))
}

#[tokio::test]
async fn lifecycle_create_update_delete() {
    let (client, ns) = setup("cluster-life").await;
    let operator = TestOperator::start(&client, &ns).await;
    let ready_clusters = || {
        let text = operator.metrics.render();
        let line = r#"ecs_operator_objects{kind="EcsCluster",state="ready"} "#;
        text.lines()
            .find_map(|l| l.strip_prefix(line))
            .map(str::to_string)
    };
    let api: Api<EcsCluster> = Api::namespaced(client.clone(), &ns);
    let ecs_name = support::unique_name("prod");
    api.create(
        &PostParams::default(),
        &cluster("prod", &ecs_name, json!({})),
    )
    .await
    .unwrap();

    let obj = wait_for(&api, "prod", "Ready", is_ready).await;
    let status = obj.status.clone().unwrap();
    assert_eq!(status.status.as_deref(), Some("ACTIVE"));
    assert_eq!(status.cluster_name.as_deref(), Some(ecs_name.as_str()));
    assert!(
        obj.finalizers()
            .contains(&"ecs.operator.dev/cleanup".to_string())
    );
    assert_eq!(condition(&obj, "Reconciling").unwrap().status, "False");
    assert_eq!(condition(&obj, "Stalled").unwrap().status, "False");

    let ecs = describe(&ecs_name).await.expect("the ECS cluster exists");
    let mut providers = ecs.capacity_providers().to_vec();
    providers.sort();
    assert_eq!(providers, ["FARGATE", "FARGATE_SPOT"]);
    let tags = ecs_tags(ecs.cluster_arn().unwrap()).await;
    assert_eq!(tags["team"], "platform");
    assert_eq!(tags[OWNER_TAG], format!("{ns}/prod"));
    assert_eq!(tags[UID_TAG], obj.uid().unwrap());
    assert!(tags.contains_key(CLUSTER_ID_TAG));

    // A spec change reaches ECS: capacity providers and tags.
    let patch = json!({"spec": {
        "capacityProviders": ["FARGATE"],
        "defaultCapacityProviderStrategy": [{"capacityProvider": "FARGATE", "weight": 1}],
        "tags": [{"key": "team", "value": "payments"}, {"key": "tier", "value": "gold"}]
    }});
    api.patch("prod", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .unwrap();
    let ecs = eventually(
        "capacity providers updated",
        || describe(&ecs_name),
        |c| {
            c.as_ref()
                .is_some_and(|c| c.capacity_providers() == ["FARGATE"])
        },
    )
    .await
    .unwrap();
    let tags = eventually(
        "tags updated",
        || ecs_tags(ecs.cluster_arn().unwrap()),
        |t| t.get("team").map(String::as_str) == Some("payments"),
    )
    .await;
    assert_eq!(tags["tier"], "gold");
    wait_for(&api, "prod", "Ready again", is_ready).await;
    assert!(
        harness::event_reasons::<EcsCluster>(&client, &ns, "prod")
            .await
            .contains(&"Updated".to_string())
    );
    // What an alert on ecs_operator_objects sees (this operator watches only this namespace).
    assert_eq!(ready_clusters().as_deref(), Some("1"));

    api.delete("prod", &DeleteParams::default()).await.unwrap();
    wait_gone(&api, "prod").await;
    assert_eq!(ready_clusters().as_deref(), Some("0"));
    assert!(
        describe(&ecs_name).await.is_none(),
        "the ECS cluster was deleted"
    );
}

#[tokio::test]
async fn drift_in_ecs_is_corrected() {
    let (client, ns) = setup("cluster-drift").await;
    let _operator = TestOperator::start(&client, &ns).await;
    let api: Api<EcsCluster> = Api::namespaced(client.clone(), &ns);
    let ecs_name = support::unique_name("drift");
    api.create(
        &PostParams::default(),
        &cluster("drift", &ecs_name, json!({})),
    )
    .await
    .unwrap();
    wait_for(&api, "drift", "Ready", is_ready).await;
    let arn = describe(&ecs_name)
        .await
        .unwrap()
        .cluster_arn()
        .unwrap()
        .to_string();

    // Behind the operator's back: drop a capacity provider, change a tag, add a stray one.
    let ecs = support::ecs_client();
    ecs.put_cluster_capacity_providers()
        .cluster(&ecs_name)
        .capacity_providers("FARGATE")
        .set_default_capacity_provider_strategy(Some(vec![]))
        .send()
        .await
        .unwrap();
    harness::tag_in_ecs(&arn, &[("team", "intruder"), ("stray", "x")]).await;

    let fixed = eventually(
        "drift corrected",
        || describe(&ecs_name),
        |c| {
            c.as_ref()
                .is_some_and(|c| c.capacity_providers().len() == 2)
        },
    )
    .await
    .unwrap();
    assert_eq!(fixed.default_capacity_provider_strategy().len(), 2);
    let tags = eventually(
        "tags corrected",
        || ecs_tags(&arn),
        |t| t.get("team").map(String::as_str) == Some("platform") && !t.contains_key("stray"),
    )
    .await;
    assert_eq!(tags[OWNER_TAG], format!("{ns}/drift"));
    harness::wait_for_event::<EcsCluster>(&client, &ns, "drift", "DriftCorrected", |_| true).await;
}

#[tokio::test]
async fn retain_leaves_the_ecs_cluster_and_a_successor_takes_it_over_when_asked() {
    let (client, ns) = setup("cluster-retain").await;
    let _operator = TestOperator::start(&client, &ns).await;
    let api: Api<EcsCluster> = Api::namespaced(client.clone(), &ns);
    let ecs_name = support::unique_name("kept");
    api.create(
        &PostParams::default(),
        &cluster("kept", &ecs_name, json!({"deletionPolicy": "Retain"})),
    )
    .await
    .unwrap();
    wait_for(&api, "kept", "Ready", is_ready).await;
    api.delete("kept", &DeleteParams::default()).await.unwrap();
    wait_gone(&api, "kept").await;
    let ecs = describe(&ecs_name)
        .await
        .expect("the ECS cluster is retained");
    assert_eq!(ecs.status(), Some("ACTIVE"));
    assert!(
        ecs_tags(ecs.cluster_arn().unwrap())
            .await
            .contains_key(OWNER_TAG),
        "tags are retained too"
    );
    let old_uid = ecs_tags(ecs.cluster_arn().unwrap()).await[UID_TAG].clone();

    // Re-created under the same name (a GitOps re-sync, a moved manifest): the retained cluster
    // is recognised as its predecessor's, and taken over only when asked.
    api.create(
        &PostParams::default(),
        &cluster("kept", &ecs_name, json!({})),
    )
    .await
    .unwrap();
    let obj = wait_for(&api, "kept", "Stalled", harness::is_stalled).await;
    let stalled = condition(&obj, "Stalled").unwrap();
    assert_eq!(stalled.reason, "OwnershipConflict");
    assert!(
        stalled.message.contains("retained") && stalled.message.contains(&old_uid),
        "{}",
        stalled.message
    );
    let patch = json!({"metadata": {"annotations": {ADOPT_ANNOTATION: "true"}}});
    api.patch("kept", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .unwrap();
    let obj = wait_for(&api, "kept", "Ready after the take-over", is_ready).await;
    let tags = ecs_tags(ecs.cluster_arn().unwrap()).await;
    assert_eq!(tags[UID_TAG], obj.uid().unwrap());
    assert_eq!(tags[OWNER_TAG], format!("{ns}/kept"));
}

#[tokio::test]
async fn existing_clusters_are_adopted_only_when_asked_and_never_taken_from_another_owner() {
    let (client, ns) = setup("cluster-own").await;
    let _operator = TestOperator::start(&client, &ns).await;
    let api: Api<EcsCluster> = Api::namespaced(client.clone(), &ns);
    let ecs = support::ecs_client();

    // Created outside the operator.
    let outside = support::unique_name("outside");
    ecs.create_cluster()
        .cluster_name(&outside)
        .send()
        .await
        .unwrap();
    api.create(
        &PostParams::default(),
        &cluster("outside", &outside, json!({})),
    )
    .await
    .unwrap();
    let obj = wait_for(&api, "outside", "Stalled", harness::is_stalled).await;
    let stalled = condition(&obj, "Stalled").unwrap();
    assert_eq!(stalled.reason, "OwnershipConflict");
    assert!(
        stalled.message.contains(ADOPT_ANNOTATION),
        "{}",
        stalled.message
    );
    assert!(
        harness::events::<EcsCluster>(&client, &ns, "outside")
            .await
            .iter()
            .any(|e| e.type_ == "Warning" && e.reason == "OwnershipConflict")
    );
    let arn = describe(&outside)
        .await
        .unwrap()
        .cluster_arn()
        .unwrap()
        .to_string();
    assert!(
        !ecs_tags(&arn).await.contains_key(OWNER_TAG),
        "nothing was touched before adoption"
    );

    // Adopt it.
    let patch = json!({"metadata": {"annotations": {ADOPT_ANNOTATION: "true"}}});
    api.patch("outside", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .unwrap();
    wait_for(&api, "outside", "Ready after adoption", is_ready).await;
    assert_eq!(ecs_tags(&arn).await[OWNER_TAG], format!("{ns}/outside"));
    assert!(
        harness::event_reasons::<EcsCluster>(&client, &ns, "outside")
            .await
            .contains(&"Adopted".to_string())
    );

    // A second object naming the same ECS cluster is never given it, adopt or not.
    let mut thief = cluster("thief", &outside, json!({}));
    thief.metadata.annotations = Some([(ADOPT_ANNOTATION.to_string(), "true".to_string())].into());
    api.create(&PostParams::default(), &thief).await.unwrap();
    let obj = wait_for(&api, "thief", "Stalled", harness::is_stalled).await;
    assert!(
        condition(&obj, "Stalled")
            .unwrap()
            .message
            .contains(&format!("{ns}/outside"))
    );
    assert_eq!(
        ecs_tags(&arn).await[OWNER_TAG],
        format!("{ns}/outside"),
        "the owner did not change"
    );

    // Deleting the thief leaves the cluster alone.
    api.delete("thief", &DeleteParams::default()).await.unwrap();
    wait_gone(&api, "thief").await;
    assert!(describe(&outside).await.is_some());
}

#[tokio::test]
async fn an_object_stays_in_its_region_when_the_operators_region_changes() {
    let (client, ns) = setup("cluster-region").await;
    let operator = TestOperator::start(&client, &ns).await;
    let api: Api<EcsCluster> = Api::namespaced(client.clone(), &ns);
    let ecs_name = support::unique_name("home");
    api.create(
        &PostParams::default(),
        &cluster("home", &ecs_name, json!({})),
    )
    .await
    .unwrap();
    let obj = wait_for(&api, "home", "Ready", is_ready).await;
    let arn = obj.status.unwrap().cluster_arn.unwrap();
    let home = &support::env().region;
    assert!(arn.contains(&format!(":{home}:")), "{arn}");

    // The operator is redeployed with another default region (say, a Helm value changed).
    operator.stop().await;
    let other = if home == "eu-central-1" {
        "us-west-2"
    } else {
        "eu-central-1"
    };
    let _operator = TestOperator::start_in_region(&client, &ns, other).await;

    // Changes still reach the cluster where it lives; nothing appears in the other region.
    let patch = json!({"spec": {"tags": [{"key": "team", "value": "moved"}]}});
    api.patch("home", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .unwrap();
    wait_for(&api, "home", "Ready for generation 2", is_ready).await;
    assert_eq!(ecs_tags(&arn).await["team"], "moved");
    let elsewhere = support::ecs_client_in(other)
        .describe_clusters()
        .clusters(&ecs_name)
        .send()
        .await
        .unwrap();
    assert!(
        elsewhere
            .clusters()
            .iter()
            .all(|c| c.status() == Some("INACTIVE")),
        "{elsewhere:?}"
    );

    // And delete removes it there.
    api.delete("home", &DeleteParams::default()).await.unwrap();
    wait_gone(&api, "home").await;
    assert!(describe(&ecs_name).await.is_none(), "deleted in {home}");
}
