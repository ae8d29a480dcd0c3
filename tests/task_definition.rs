//! EcsTaskDefinition against the local environment: revisions registered exactly when the spec
//! changes (also across restarts), history pruning, Retain, delete, ownership and drift.

mod harness;
mod support;

use ecs_operator::api::{EcsTaskDefinition, OWNER_TAG, SPEC_HASH_TAG};
use harness::{
    TestOperator, condition, ecs_tags, eventually, is_ready, manifest, setup, wait_for, wait_gone,
};
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use serde_json::json;

fn web(name: &str, family: &str, image: &str, extra: serde_json::Value) -> EcsTaskDefinition {
    let mut spec = json!({
        "family": family,
        "requiresCompatibilities": ["FARGATE"],
        "networkMode": "awsvpc",
        "cpu": "256",
        "memory": "512",
        "containerDefinitions": [{
            "name": "web",
            "image": image,
            "essential": true,
            "portMappings": [{"containerPort": 8080, "protocol": "tcp"}],
            "environment": [{"name": "MODE", "value": "production"}]
        }],
        "tags": [{"key": "team", "value": "web"}]
    });
    spec.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    manifest(json!({
        "apiVersion": "ecs.operator.dev/v1alpha1",
        "kind": "EcsTaskDefinition",
        "metadata": {"name": name},
        "spec": spec
    }))
}

/// ACTIVE revisions of a family, oldest first.
async fn active_revisions(family: &str) -> Vec<String> {
    let output = support::ecs_client()
        .list_task_definitions()
        .family_prefix(family)
        .status(aws_sdk_ecs::types::TaskDefinitionStatus::Active)
        .send()
        .await
        .expect("list task definitions");
    let mut arns: Vec<String> = output.task_definition_arns().to_vec();
    arns.sort_by_key(|arn| arn.rsplit(':').next().and_then(|r| r.parse::<i32>().ok()));
    arns
}

fn revision_of(obj: &EcsTaskDefinition) -> Option<i32> {
    obj.status.as_ref()?.revision
}

async fn set_image(api: &Api<EcsTaskDefinition>, name: &str, image: &str) {
    let patch = json!({"spec": {"containerDefinitions": [{"name": "web", "image": image}]}});
    api.patch(name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_spec_change_registers_exactly_one_revision_and_a_restart_none() {
    let (client, ns) = setup("td-rev").await;
    let operator = TestOperator::start(&client, &ns).await;
    let api: Api<EcsTaskDefinition> = Api::namespaced(client.clone(), &ns);
    let family = support::unique_name("web");
    api.create(
        &PostParams::default(),
        &web("web", &family, "nginx:1.27", json!({})),
    )
    .await
    .unwrap();

    let obj = wait_for(&api, "web", "Ready", is_ready).await;
    let status = obj.status.clone().unwrap();
    assert_eq!(status.family.as_deref(), Some(family.as_str()));
    assert_eq!(status.revision, Some(1));
    let first_arn = status.task_definition_arn.clone().unwrap();
    assert!(
        first_arn.ends_with(&format!("task-definition/{family}:1")),
        "{first_arn}"
    );
    let tags = ecs_tags(&first_arn).await;
    assert_eq!(tags[OWNER_TAG], format!("{ns}/web"));
    assert_eq!(tags["team"], "web");
    assert_eq!(tags.get(SPEC_HASH_TAG), status.spec_hash.as_ref());

    // What ECS registered is what the spec says.
    let described = support::ecs_client()
        .describe_task_definition()
        .task_definition(&first_arn)
        .send()
        .await
        .unwrap();
    let definition = described.task_definition().unwrap();
    assert_eq!(definition.cpu(), Some("256"));
    assert_eq!(
        definition.container_definitions()[0].image(),
        Some("nginx:1.27")
    );
    assert_eq!(
        definition.container_definitions()[0].port_mappings()[0].container_port(),
        Some(8080)
    );

    set_image(&api, "web", "nginx:1.28").await;
    let obj = wait_for(&api, "web", "on revision 2", |o| {
        is_ready(o) && revision_of(o) == Some(2)
    })
    .await;
    assert!(
        harness::event_reasons::<EcsTaskDefinition>(&client, &ns, "web")
            .await
            .contains(&"RevisionRegistered".to_string())
    );
    let second_arn = obj.status.unwrap().task_definition_arn.unwrap();

    // Nothing changes for a while: no new revision, through resyncs (3 s) and a restart.
    tokio::time::sleep(harness::TEST_RESYNC * 2).await;
    operator.stop().await;
    let _operator = TestOperator::start(&client, &ns).await;
    tokio::time::sleep(harness::TEST_RESYNC * 2).await;
    let obj = wait_for(&api, "web", "Ready after restart", is_ready).await;
    assert_eq!(
        obj.status.unwrap().task_definition_arn.as_deref(),
        Some(second_arn.as_str())
    );
    assert_eq!(
        active_revisions(&family).await.len(),
        2,
        "exactly one revision per spec change"
    );
}

#[tokio::test]
async fn a_crash_between_register_and_status_write_registers_nothing_new() {
    let (client, ns) = setup("td-crash").await;
    let api: Api<EcsTaskDefinition> = Api::namespaced(client.clone(), &ns);
    let family = support::unique_name("crash");
    api.create(
        &PostParams::default(),
        &web("web", &family, "nginx:1.27", json!({})),
    )
    .await
    .unwrap();
    {
        let operator = TestOperator::start(&client, &ns).await;
        wait_for(&api, "web", "Ready", is_ready).await;
        operator.stop().await;
    }
    // Lose the status, as if the operator died right after RegisterTaskDefinition.
    let patch = json!({"status": null});
    api.patch_status("web", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .unwrap();
    let _operator = TestOperator::start(&client, &ns).await;
    let obj = wait_for(&api, "web", "Ready again", is_ready).await;
    assert_eq!(revision_of(&obj), Some(1));
    assert_eq!(active_revisions(&family).await.len(), 1);
}

#[tokio::test]
async fn revisions_beyond_the_history_limit_are_deregistered() {
    let (client, ns) = setup("td-prune").await;
    let _operator = TestOperator::start(&client, &ns).await;
    let api: Api<EcsTaskDefinition> = Api::namespaced(client.clone(), &ns);
    let family = support::unique_name("prune");
    api.create(
        &PostParams::default(),
        &web("web", &family, "app:1", json!({"revisionHistoryLimit": 2})),
    )
    .await
    .unwrap();
    wait_for(&api, "web", "Ready", is_ready).await;
    for version in 2..=4 {
        set_image(&api, "web", &format!("app:{version}")).await;
        wait_for(&api, "web", "on the new revision", |o| {
            is_ready(o) && revision_of(o) == Some(version)
        })
        .await;
    }
    let active = eventually(
        "pruned to 2",
        || active_revisions(&family),
        |a| a.len() == 2,
    )
    .await;
    assert!(
        active[0].ends_with(":3") && active[1].ends_with(":4"),
        "{active:?}"
    );
    harness::wait_for_event::<EcsTaskDefinition>(
        &client,
        &ns,
        "web",
        "RevisionDeregistered",
        |n| n.contains(":1"),
    )
    .await;
}

#[tokio::test]
async fn delete_deregisters_every_revision_and_retain_keeps_them() {
    let (client, ns) = setup("td-delete").await;
    let _operator = TestOperator::start(&client, &ns).await;
    let api: Api<EcsTaskDefinition> = Api::namespaced(client.clone(), &ns);

    let gone = support::unique_name("gone");
    api.create(
        &PostParams::default(),
        &web("gone", &gone, "app:1", json!({})),
    )
    .await
    .unwrap();
    wait_for(&api, "gone", "Ready", is_ready).await;
    set_image(&api, "gone", "app:2").await;
    wait_for(&api, "gone", "on revision 2", |o| {
        is_ready(o) && revision_of(o) == Some(2)
    })
    .await;

    let kept = support::unique_name("kept");
    api.create(
        &PostParams::default(),
        &web("kept", &kept, "app:1", json!({"deletionPolicy": "Retain"})),
    )
    .await
    .unwrap();
    wait_for(&api, "kept", "Ready", is_ready).await;

    api.delete("gone", &DeleteParams::default()).await.unwrap();
    api.delete("kept", &DeleteParams::default()).await.unwrap();
    wait_gone(&api, "gone").await;
    wait_gone(&api, "kept").await;
    assert!(
        active_revisions(&gone).await.is_empty(),
        "all revisions deregistered"
    );
    assert_eq!(
        active_revisions(&kept).await.len(),
        1,
        "Retain keeps the revision"
    );
}

#[tokio::test]
async fn a_family_registered_elsewhere_is_adopted_only_when_asked() {
    let (client, ns) = setup("td-own").await;
    let _operator = TestOperator::start(&client, &ns).await;
    let api: Api<EcsTaskDefinition> = Api::namespaced(client.clone(), &ns);
    let family = support::unique_name("legacy");
    support::ecs_client()
        .register_task_definition()
        .family(&family)
        .container_definitions(
            aws_sdk_ecs::types::ContainerDefinition::builder()
                .name("web")
                .image("legacy:1")
                .memory(512)
                .build(),
        )
        .send()
        .await
        .unwrap();

    api.create(
        &PostParams::default(),
        &web("legacy", &family, "app:1", json!({})),
    )
    .await
    .unwrap();
    let obj = wait_for(&api, "legacy", "Stalled", harness::is_stalled).await;
    assert_eq!(
        condition(&obj, "Ready").unwrap().reason,
        "OwnershipConflict"
    );
    assert_eq!(
        active_revisions(&family).await.len(),
        1,
        "nothing registered without adoption"
    );

    let patch = json!({"metadata": {"annotations": {"ecs.operator.dev/adopt": "true"}}});
    api.patch("legacy", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .unwrap();
    let obj = wait_for(&api, "legacy", "Ready after adoption", is_ready).await;
    assert_eq!(revision_of(&obj), Some(2));
    let reasons = harness::event_reasons::<EcsTaskDefinition>(&client, &ns, "legacy").await;
    assert!(reasons.contains(&"Adopted".to_string()), "{reasons:?}");
}

#[tokio::test]
async fn a_revision_registered_behind_the_operators_back_is_drift() {
    let (client, ns) = setup("td-drift").await;
    let _operator = TestOperator::start(&client, &ns).await;
    let api: Api<EcsTaskDefinition> = Api::namespaced(client.clone(), &ns);
    let family = support::unique_name("drift");
    api.create(
        &PostParams::default(),
        &web("web", &family, "app:1", json!({})),
    )
    .await
    .unwrap();
    wait_for(&api, "web", "Ready", is_ready).await;

    // Someone registers revision 2 by hand; the spec wins with revision 3.
    support::ecs_client()
        .register_task_definition()
        .family(&family)
        .container_definitions(
            aws_sdk_ecs::types::ContainerDefinition::builder()
                .name("web")
                .image("hotfix:1")
                .memory(512)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let obj = wait_for(&api, "web", "back on a revision of its own", |o| {
        is_ready(o) && revision_of(o) == Some(3)
    })
    .await;
    let arn = obj.status.unwrap().task_definition_arn.unwrap();
    let described = support::ecs_client()
        .describe_task_definition()
        .task_definition(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(
        described.task_definition().unwrap().container_definitions()[0].image(),
        Some("app:1")
    );
}

/// `aws ecs describe-task-definition` output (tests/fixtures), its `taskDefinition` pasted under
/// spec as it is: accepted, registered once as revision 1 of this family, Ready, with an event
/// naming the fields ignored; a change of those fields alone registers nothing.
#[tokio::test]
async fn a_pasted_describe_output_registers_and_is_ready() {
    let (client, ns) = setup("td-paste").await;
    let operator = TestOperator::start(&client, &ns).await;
    let api: Api<EcsTaskDefinition> = Api::namespaced(client.clone(), &ns);
    let fixture = support::repo_root().join("tests/fixtures/describe-task-definition.json");
    let described: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&fixture).unwrap()).unwrap();
    let mut spec = described["taskDefinition"].clone();
    let family = support::unique_name("orders-api");
    spec["family"] = json!(family);
    api.create(
        &PostParams::default(),
        &manifest(json!({
            "apiVersion": "ecs.operator.dev/v1alpha1",
            "kind": "EcsTaskDefinition",
            "metadata": {"name": "orders-api"},
            "spec": spec
        })),
    )
    .await
    .unwrap();

    let obj = wait_for(&api, "orders-api", "Ready", is_ready).await;
    assert_eq!(
        revision_of(&obj),
        Some(1),
        "the pasted revision 14 is not sent"
    );
    let ready = condition(&obj, "Ready").unwrap().message;
    assert!(
        ready.ends_with("matches the spec (ignored, as ECS sets them: taskDefinitionArn, revision, status, requiresAttributes, compatibilities, registeredAt, registeredBy)"),
        "{ready}"
    );
    let arn = obj.status.unwrap().task_definition_arn.unwrap();
    let registered = support::ecs_client()
        .describe_task_definition()
        .task_definition(&arn)
        .send()
        .await
        .unwrap();
    let definition = registered.task_definition().unwrap();
    assert_eq!(
        (definition.cpu(), definition.memory()),
        (Some("1024"), Some("2048"))
    );
    let names: Vec<&str> = definition
        .container_definitions()
        .iter()
        .filter_map(|c| c.name())
        .collect();
    assert_eq!(names, ["orders-api", "log-router"]);
    assert_ne!(definition.registered_by(), spec["registeredBy"].as_str());
    assert!(
        harness::event_reasons::<EcsTaskDefinition>(&client, &ns, "orders-api")
            .await
            .contains(&"OutputFieldsIgnored".to_string())
    );

    // Pasting the output of a later revision changes only output-only fields: no new revision.
    let patch =
        json!({"spec": {"revision": 15, "registeredAt": "2026-10-15T08:00:00.000000+00:00"}});
    let patched = api
        .patch("orders-api", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .unwrap();
    let generation = patched.metadata.generation;
    wait_for(&api, "orders-api", "Ready for the new generation", |o| {
        is_ready(o) && o.status.as_ref().and_then(|s| s.observed_generation) == generation
    })
    .await;
    assert_eq!(active_revisions(&family).await, [arn]);
    operator.stop().await;
}
