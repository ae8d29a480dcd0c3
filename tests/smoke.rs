//! Proves that the local environment is the real thing: a real API server (CRDs, watches, RBAC),
//! a real controller manager (namespace deletion, garbage collection) and an ECS endpoint that
//! aws-sdk-ecs talks to.

mod support;

use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::{
    api::{
        authentication::v1::SelfSubjectReview,
        core::v1::{ConfigMap, Namespace},
    },
    apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition,
    apimachinery::pkg::apis::meta::v1::OwnerReference,
};
use kube::{
    Api, ResourceExt,
    api::{
        ApiResource, DeleteParams, DynamicObject, GroupVersionKind, ListParams, ObjectMeta, Patch,
        PatchParams, PostParams,
    },
    runtime::{
        WatchStreamExt,
        wait::{Condition, await_condition, conditions},
        watcher,
    },
};
use serde_json::json;

const WAIT: Duration = Duration::from_secs(60);

/// A small CRD of the smoke test's own, so this test does not depend on the operator's API.
fn widget_crd() -> CustomResourceDefinition {
    serde_json::from_value(json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.smoke.ecs.operator.dev"},
        "spec": {
            "group": "smoke.ecs.operator.dev",
            "scope": "Namespaced",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
            "versions": [{
                "name": "v1",
                "served": true,
                "storage": true,
                "schema": {"openAPIV3Schema": {
                    "type": "object",
                    "properties": {"spec": {
                        "type": "object",
                        "properties": {"size": {"type": "integer", "minimum": 1}},
                        "required": ["size"]
                    }}
                }}
            }]
        }
    }))
    .expect("valid CRD")
}

fn widget_resource() -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("smoke.ecs.operator.dev", "v1", "Widget"),
        "widgets",
    )
}

fn widget(name: &str, size: i64) -> DynamicObject {
    DynamicObject::new(name, &widget_resource()).data(json!({"spec": {"size": size}}))
}

#[tokio::test]
async fn api_server_is_the_pinned_kubernetes_version() {
    let env = support::env();
    let pinned = std::fs::read_to_string(support::repo_root().join("e2e/versions.env"))
        .expect("e2e/versions.env")
        .lines()
        .find_map(|l| l.strip_prefix("K8S_VERSION=").map(str::to_owned))
        .expect("K8S_VERSION in e2e/versions.env");
    let info = support::kube_client()
        .await
        .apiserver_version()
        .await
        .expect("GET /version");
    assert_eq!(info.git_version, pinned);
    assert_eq!(env.kubernetes_version, pinned);
}

#[tokio::test]
async fn custom_resource_is_created_and_watched_changing() {
    let client = support::kube_client().await;
    support::install_crd(&client, &widget_crd()).await;
    let ns = support::test_namespace(&client, "smoke-watch").await;
    let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), &ns, &widget_resource());

    // The schema is enforced: size must be >= 1.
    let err = api
        .create(&PostParams::default(), &widget("invalid", 0))
        .await
        .expect_err("size 0 violates the CRD schema");
    assert!(
        matches!(&err, kube::Error::Api(s) if s.code == 422),
        "expected 422 Invalid, got {err:?}"
    );

    let created = api
        .create(&PostParams::default(), &widget("w1", 1))
        .await
        .expect("create widget");
    assert_eq!(created.data["spec"]["size"], 1);

    // Watch first, then change the object: the watcher must report the new value.
    let stream = watcher(
        api.clone(),
        watcher::Config::default().fields("metadata.name=w1"),
    )
    .applied_objects()
    .boxed();
    let patcher = async {
        api.patch(
            "w1",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"size": 3}})),
        )
        .await
        .expect("patch widget")
    };
    let seen = async {
        let mut stream = stream;
        while let Some(obj) = stream.try_next().await.expect("watch stream") {
            if obj.data["spec"]["size"] == 3 {
                return obj;
            }
        }
        panic!("watch stream ended before the change was seen");
    };
    let (patched, seen) = tokio::time::timeout(WAIT, async { tokio::join!(patcher, seen) })
        .await
        .expect("the watcher saw the patch in time");
    assert_eq!(seen.resource_version(), patched.resource_version());
    assert_eq!(
        seen.metadata.generation,
        Some(2),
        "a spec change bumps the generation"
    );
}

#[tokio::test]
async fn deleted_namespace_disappears_with_its_content() {
    let client = support::kube_client().await;
    support::install_crd(&client, &widget_crd()).await;
    let ns = support::test_namespace(&client, "smoke-nsdel").await;
    Api::<DynamicObject>::namespaced_with(client.clone(), &ns, &widget_resource())
        .create(&PostParams::default(), &widget("inside", 2))
        .await
        .expect("create widget");
    Api::<ConfigMap>::namespaced(client.clone(), &ns)
        .create(
            &PostParams::default(),
            &ConfigMap {
                metadata: ObjectMeta {
                    name: Some("inside".into()),
                    ..ObjectMeta::default()
                },
                ..ConfigMap::default()
            },
        )
        .await
        .expect("create configmap");

    let namespaces = Api::<Namespace>::all(client.clone());
    let uid = namespaces
        .get(&ns)
        .await
        .expect("namespace")
        .uid()
        .expect("uid");
    namespaces
        .delete(&ns, &DeleteParams::default())
        .await
        .expect("delete namespace");
    // Only the namespace controller (kube-controller-manager) empties and removes a namespace.
    tokio::time::timeout(
        WAIT,
        await_condition(namespaces.clone(), &ns, conditions::is_deleted(&uid)),
    )
    .await
    .expect("the namespace controller deleted the namespace in time")
    .expect("watch namespace");
    let err = namespaces.get(&ns).await.expect_err("namespace is gone");
    assert!(
        matches!(&err, kube::Error::Api(s) if s.is_not_found()),
        "{err:?}"
    );
}

#[tokio::test]
async fn garbage_collector_deletes_dependents() {
    let client = support::kube_client().await;
    let ns = support::test_namespace(&client, "smoke-gc").await;
    let api = Api::<ConfigMap>::namespaced(client.clone(), &ns);
    let config_map = |name: &str, owner: Option<&ConfigMap>| ConfigMap {
        metadata: ObjectMeta {
            name: Some(name.into()),
            owner_references: owner.map(|o| {
                vec![OwnerReference {
                    api_version: "v1".into(),
                    kind: "ConfigMap".into(),
                    name: o.name_any(),
                    uid: o.uid().expect("owner uid"),
                    ..OwnerReference::default()
                }]
            }),
            ..ObjectMeta::default()
        },
        ..ConfigMap::default()
    };
    let owner = api
        .create(&PostParams::default(), &config_map("owner", None))
        .await
        .expect("create owner");
    let dependent = api
        .create(
            &PostParams::default(),
            &config_map("dependent", Some(&owner)),
        )
        .await
        .expect("create dependent");
    api.delete("owner", &DeleteParams::background())
        .await
        .expect("delete owner");
    tokio::time::timeout(
        WAIT,
        await_condition(
            api.clone(),
            "dependent",
            conditions::is_deleted(&dependent.uid().unwrap()),
        ),
    )
    .await
    .expect("the garbage collector deleted the dependent in time")
    .expect("watch dependent");
    let left = api.list(&ListParams::default()).await.expect("list");
    assert!(
        left.items
            .iter()
            .all(|cm| cm.name_any() != "dependent" && cm.name_any() != "owner"),
        "left over: {:?}",
        left.items
            .iter()
            .map(ResourceExt::name_any)
            .collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn unprivileged_identity_is_authenticated_but_denied() {
    let client = support::unprivileged_kube_client().await;

    // Authenticated as itself, not anonymous.
    let review = Api::<SelfSubjectReview>::all(client.clone())
        .create(&PostParams::default(), &SelfSubjectReview::default())
        .await
        .expect("every authenticated user may review itself");
    let user = review.status.and_then(|s| s.user_info).expect("user info");
    assert_eq!(user.username.as_deref(), Some("e2e-unprivileged"));
    assert!(
        user.groups
            .unwrap_or_default()
            .iter()
            .all(|g| g != "system:masters"),
        "the unprivileged identity must not be a cluster admin"
    );

    // RBAC grants it nothing.
    let err = Api::<Namespace>::all(client.clone())
        .list(&ListParams::default())
        .await
        .expect_err("listing namespaces is denied");
    assert!(
        matches!(&err, kube::Error::Api(s) if s.is_forbidden()),
        "expected 403, got {err:?}"
    );
    let err = Api::<ConfigMap>::namespaced(client, "default")
        .create(&PostParams::default(), &ConfigMap::default())
        .await
        .expect_err("creating in default is denied");
    assert!(
        matches!(&err, kube::Error::Api(s) if s.code == 403),
        "expected 403, got {err:?}"
    );
}

#[tokio::test]
async fn operator_crds_install_and_are_served() {
    let client = support::kube_client().await;
    support::install_crds(&client).await;
    let crds = Api::<CustomResourceDefinition>::all(client.clone());
    for crd in ecs_operator::api::crds() {
        let name = crd.name_any();
        let stored = crds.get(&name).await.expect("CRD stored");
        assert!(
            conditions::is_crd_established().matches_object(Some(&stored)),
            "{name}"
        );
        // The new kind is served: an empty list in a fresh namespace.
        let version = &crd.spec.versions[0].name;
        let resource = ApiResource::from_gvk_with_plural(
            &GroupVersionKind::gvk(&crd.spec.group, version, &crd.spec.names.kind),
            &crd.spec.names.plural,
        );
        let list = Api::<DynamicObject>::namespaced_with(client.clone(), "default", &resource)
            .list(&ListParams::default())
            .await
            .unwrap_or_else(|e| panic!("list {name}: {e}"));
        assert!(
            list.items.is_empty()
                || list
                    .items
                    .iter()
                    .all(|o| o.metadata.namespace.as_deref() == Some("default"))
        );
    }
}

#[tokio::test]
async fn ecs_round_trip_against_the_emulator() {
    let ecs = support::ecs_client();
    let name = support::unique_name("smoke-cluster");
    let created = ecs
        .create_cluster()
        .cluster_name(&name)
        .tags(
            aws_sdk_ecs::types::Tag::builder()
                .key("ecs.operator.dev/owner")
                .value("smoke/test")
                .build(),
        )
        .send()
        .await
        .expect("CreateCluster")
        .cluster
        .expect("cluster in response");
    let arn = created.cluster_arn.clone().expect("cluster ARN");
    assert_eq!(created.cluster_name.as_deref(), Some(name.as_str()));
    assert!(arn.ends_with(&format!(":cluster/{name}")), "{arn}");

    let listed = ecs.list_clusters().send().await.expect("ListClusters");
    assert!(
        listed.cluster_arns().contains(&arn),
        "{arn} not in {:?}",
        listed.cluster_arns()
    );

    let described = ecs
        .describe_clusters()
        .clusters(&name)
        .include(aws_sdk_ecs::types::ClusterField::Tags)
        .send()
        .await
        .expect("DescribeClusters");
    let cluster = &described.clusters()[0];
    assert_eq!(cluster.status.as_deref(), Some("ACTIVE"));
    assert_eq!(cluster.cluster_arn.as_deref(), Some(arn.as_str()));
    assert!(
        cluster
            .tags()
            .iter()
            .any(|t| t.key() == Some("ecs.operator.dev/owner") && t.value() == Some("smoke/test")),
        "tags: {:?}",
        cluster.tags()
    );

    // The operator's SDK configuration reaches the same emulator.
    let via_sdk_config = aws_sdk_ecs::Client::new(&support::sdk_config().await);
    let again = via_sdk_config
        .describe_clusters()
        .clusters(&arn)
        .send()
        .await
        .expect("DescribeClusters through sdk_config()");
    assert_eq!(
        again.clusters()[0].cluster_name.as_deref(),
        Some(name.as_str())
    );

    let deleted = ecs
        .delete_cluster()
        .cluster(&arn)
        .send()
        .await
        .expect("DeleteCluster")
        .cluster
        .expect("cluster in response");
    assert_eq!(deleted.status.as_deref(), Some("INACTIVE"));
    let described = ecs
        .describe_clusters()
        .clusters(&arn)
        .send()
        .await
        .expect("DescribeClusters after delete");
    assert_eq!(described.clusters()[0].status.as_deref(), Some("INACTIVE"));
}
