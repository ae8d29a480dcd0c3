//! EcsService `spec.autoscaling` against the local environment: the scalable target, its
//! policies and scheduled actions created, changed and removed in Application Auto Scaling
//! (moto's, served by the emulator at the same endpoint); desiredCount changed by "the
//! autoscaler" (the emulator's scaling activity, as Application Auto Scaling would change it)
//! and never reverted over several resyncs; drift in a policy and in the target corrected;
//! delete deregistering the target (and Retain leaving it); the scale subresource refused while
//! Application Auto Scaling owns the count; switching between desiredCount and autoscaling in
//! one apply.
//!
//! The emulator runs no scaling policies itself: no test claims that CPU load scales a service.

mod harness;
mod support;

use aws_sdk_applicationautoscaling::types::{
    MetricType, PolicyType, PredefinedMetricSpecification, ScalableDimension, ServiceNamespace,
    TargetTrackingScalingPolicyConfiguration,
};
use aws_sdk_ecs::types::Service;
use ecs_operator::api::{AutoscalingStatus, EcsService};
use harness::{
    TestOperator, event_notes, eventually, is_ready, manifest, setup, wait_for, wait_for_event,
    wait_gone,
};
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use serde_json::json;

const DIMENSION: ScalableDimension = ScalableDimension::EcsServiceDesiredCount;

async fn autoscaling_client() -> aws_sdk_applicationautoscaling::Client {
    aws_sdk_applicationautoscaling::Client::new(&support::sdk_config().await)
}

/// The README's classic target tracking example: CPU at 70%, 2 to 10 tasks, cooldowns 300/60.
fn classic() -> serde_json::Value {
    json!({
        "minCapacity": 2,
        "maxCapacity": 10,
        "targetTracking": [{
            "policyName": "cpu70",
            "targetValue": 70,
            "predefinedMetricSpecification": {"predefinedMetricType": "ECSServiceAverageCPUUtilization"},
            "scaleInCooldown": 300,
            "scaleOutCooldown": 60
        }]
    })
}

/// An EC2 service on a cluster (with container instances) and task definition created directly
/// in the emulator, with `autoscaling` and `extra` spec fields.
async fn service_object(
    name: &str,
    autoscaling: serde_json::Value,
    extra: serde_json::Value,
) -> (EcsService, String) {
    let cluster = support::unique_name("as");
    support::ecs_client()
        .create_cluster()
        .cluster_name(&cluster)
        .send()
        .await
        .expect("create cluster");
    harness::add_container_instances(&cluster, 2);
    let family = support::unique_name("as");
    let definition = support::ecs_client()
        .register_task_definition()
        .family(&family)
        .container_definitions(
            aws_sdk_ecs::types::ContainerDefinition::builder()
                .name("web")
                .image("app:1")
                .memory(128)
                .build(),
        )
        .send()
        .await
        .expect("register task definition");
    let arn = definition
        .task_definition()
        .unwrap()
        .task_definition_arn()
        .unwrap()
        .to_string();
    let mut spec = json!({"cluster": cluster, "taskDefinition": arn, "autoscaling": autoscaling});
    if let serde_json::Value::Object(fields) = extra {
        spec.as_object_mut().unwrap().extend(fields);
    }
    let obj = manifest(json!({
        "apiVersion": "ecs.operator.dev/v1alpha1",
        "kind": "EcsService",
        "metadata": {"name": name},
        "spec": spec
    }));
    (obj, cluster)
}

async fn describe(cluster: &str, name: &str) -> Service {
    support::ecs_client()
        .describe_services()
        .cluster(cluster)
        .services(name)
        .send()
        .await
        .expect("describe services")
        .services()
        .first()
        .cloned()
        .expect("the service exists")
}

/// The scalable target's (min, max), None when none is registered.
async fn target_range(resource_id: &str) -> Option<(i32, i32)> {
    let answer = autoscaling_client()
        .await
        .describe_scalable_targets()
        .service_namespace(ServiceNamespace::Ecs)
        .resource_ids(resource_id)
        .send()
        .await
        .expect("describe scalable targets");
    answer
        .scalable_targets()
        .first()
        .map(|t| (t.min_capacity(), t.max_capacity()))
}

/// The target's policies: (name, type, target value of a target tracking policy).
async fn policies(resource_id: &str) -> Vec<(String, String, Option<f64>)> {
    let answer = autoscaling_client()
        .await
        .describe_scaling_policies()
        .service_namespace(ServiceNamespace::Ecs)
        .resource_id(resource_id)
        .send()
        .await
        .expect("describe scaling policies");
    let mut found: Vec<_> = answer
        .scaling_policies()
        .iter()
        .map(|p| {
            (
                p.policy_name().to_string(),
                p.policy_type().as_str().to_string(),
                p.target_tracking_scaling_policy_configuration()
                    .map(|c| c.target_value()),
            )
        })
        .collect();
    found.sort_by(|a, b| a.0.cmp(&b.0));
    found
}

async fn scheduled_actions(resource_id: &str) -> Vec<String> {
    let answer = autoscaling_client()
        .await
        .describe_scheduled_actions()
        .service_namespace(ServiceNamespace::Ecs)
        .resource_id(resource_id)
        .send()
        .await
        .expect("describe scheduled actions");
    answer
        .scheduled_actions()
        .iter()
        .map(|a| a.scheduled_action_name().to_string())
        .collect()
}

fn scaling(obj: &EcsService) -> Option<AutoscalingStatus> {
    obj.status.as_ref().and_then(|s| s.autoscaling.clone())
}

/// Puts a target tracking policy `name` on CPU at `target` from outside the operator.
async fn put_cpu_policy(resource_id: &str, name: &str, target: f64) {
    autoscaling_client()
        .await
        .put_scaling_policy()
        .policy_name(name)
        .service_namespace(ServiceNamespace::Ecs)
        .resource_id(resource_id)
        .scalable_dimension(DIMENSION)
        .policy_type(PolicyType::TargetTrackingScaling)
        .target_tracking_scaling_policy_configuration(
            TargetTrackingScalingPolicyConfiguration::builder()
                .target_value(target)
                .predefined_metric_specification(
                    PredefinedMetricSpecification::builder()
                        .predefined_metric_type(MetricType::EcsServiceAverageCpuUtilization)
                        .build()
                        .unwrap(),
                )
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("put scaling policy");
}

async fn merge(api: &Api<EcsService>, name: &str, patch: serde_json::Value) {
    api.patch(name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .expect("patch");
}

#[tokio::test]
async fn autoscaling_is_created_changed_and_removed() {
    let (client, ns) = setup("as-life").await;
    let _operator = TestOperator::start(&client, &ns).await;
    let api: Api<EcsService> = Api::namespaced(client.clone(), &ns);
    let mut autoscaling = classic();
    autoscaling["scheduledActions"] = json!([{
        "scheduledActionName": "night",
        "schedule": "cron(0 22 * * ? *)",
        "timezone": "Europe/Berlin",
        "scalableTargetAction": {"minCapacity": 1, "maxCapacity": 2}
    }]);
    let (obj, cluster) = service_object("web", autoscaling, json!({})).await;
    api.create(&PostParams::default(), &obj).await.unwrap();
    let resource_id = format!("service/{cluster}/web");

    // Created with 2 tasks (1 brought into 2..10), the target, the policy and the action.
    let obj = wait_for(&api, "web", "Ready with autoscaling in status", |o| {
        is_ready(o) && scaling(o).is_some()
    })
    .await;
    assert_eq!(describe(&cluster, "web").await.desired_count(), 2);
    assert_eq!(target_range(&resource_id).await, Some((2, 10)));
    assert_eq!(
        policies(&resource_id).await,
        vec![("cpu70".into(), "TargetTrackingScaling".into(), Some(70.0))]
    );
    assert_eq!(scheduled_actions(&resource_id).await, vec!["night"]);
    let status = scaling(&obj).unwrap();
    assert_eq!(status.resource_id, resource_id);
    assert!(
        status
            .scalable_target_arn
            .is_some_and(|a| a.contains(":scalable-target/"))
    );
    assert_eq!(
        (status.min_capacity, status.max_capacity),
        (Some(2), Some(10))
    );
    assert_eq!(status.scheduled_actions, vec!["night"]);
    let policy = &status.policies[0];
    assert_eq!(policy.policy_name, "cpu70");
    assert!(
        policy.policy_arn.ends_with(":policyName/cpu70"),
        "{}",
        policy.policy_arn
    );
    assert_eq!(policy.alarms.len(), 2, "{:?}", policy.alarms);
    assert!(
        policy
            .alarms
            .iter()
            .all(|a| a.starts_with(&format!("TargetTracking-{resource_id}-Alarm")))
    );
    let created = event_notes::<EcsService>(&client, &ns, "web", "Updated").await;
    assert!(
        created.iter().any(
            |n| n.contains("scalable target registered with capacity 2..10")
                && n.contains("policy cpu70 created")
                && n.contains("scheduled action night created")
        ),
        "{created:?}"
    );

    // Changed: a new range and target value, the scheduled action dropped, a step policy added.
    let mut changed = classic();
    changed["maxCapacity"] = json!(6);
    changed["targetTracking"][0]["targetValue"] = json!(50);
    changed["stepScaling"] = json!([{
        "policyName": "queue",
        "adjustmentType": "ChangeInCapacity",
        "stepAdjustments": [{"metricIntervalLowerBound": 0, "scalingAdjustment": 2}],
        "cooldown": 120
    }]);
    // A merge patch keeps what it does not name: null drops the scheduled actions.
    changed["scheduledActions"] = serde_json::Value::Null;
    merge(&api, "web", json!({"spec": {"autoscaling": changed}})).await;
    let obj = wait_for(&api, "web", "the change in status", |o| {
        scaling(o).is_some_and(|s| {
            s.max_capacity == Some(6) && s.policies.len() == 2 && s.scheduled_actions.is_empty()
        })
    })
    .await;
    assert_eq!(target_range(&resource_id).await, Some((2, 6)));
    assert_eq!(
        policies(&resource_id).await,
        vec![
            ("cpu70".into(), "TargetTrackingScaling".into(), Some(50.0)),
            ("queue".into(), "StepScaling".into(), None)
        ]
    );
    assert!(scheduled_actions(&resource_id).await.is_empty());
    let step = scaling(&obj)
        .unwrap()
        .policies
        .into_iter()
        .find(|p| p.policy_name == "queue")
        .unwrap();
    assert!(
        step.alarms.is_empty(),
        "a step policy's alarm is the user's own"
    );

    // Removed: the target is deregistered with its policies; the count stays where it was.
    merge(&api, "web", json!({"spec": {"autoscaling": null}})).await;
    wait_for(&api, "web", "no autoscaling in status", |o| {
        scaling(o).is_none()
    })
    .await;
    assert_eq!(target_range(&resource_id).await, None);
    assert!(policies(&resource_id).await.is_empty());
    assert_eq!(describe(&cluster, "web").await.desired_count(), 2);
    wait_for_event::<EcsService>(&client, &ns, "web", "Updated", |n| {
        n.contains("scalable target deregistered")
    })
    .await;

    api.delete("web", &DeleteParams::default()).await.unwrap();
    wait_gone(&api, "web").await;
}

#[tokio::test]
async fn the_autoscaler_owns_desired_count_and_the_operator_never_reverts_it() {
    let (client, ns) = setup("as-owner").await;
    let operator = TestOperator::start(&client, &ns).await;
    let api: Api<EcsService> = Api::namespaced(client.clone(), &ns);
    let mut autoscaling = classic();
    autoscaling["minCapacity"] = json!(1);
    autoscaling["maxCapacity"] = json!(5);
    let (obj, cluster) = service_object("web", autoscaling, json!({})).await;
    api.create(&PostParams::default(), &obj).await.unwrap();
    wait_for(&api, "web", "Ready", |o| {
        is_ready(o) && scaling(o).is_some()
    })
    .await;
    assert_eq!(describe(&cluster, "web").await.desired_count(), 1);

    // Application Auto Scaling scales the service out to 4.
    let scaled = support::emulator_admin(
        "POST",
        "scaling-activity",
        Some(
            json!({"cluster": cluster, "service": "web", "desiredCount": 4, "region": support::env().region}),
        ),
    );
    assert_eq!(scaled["desiredCount"], 4);
    let obj = wait_for(&api, "web", "Ready with 4 tasks", |o| {
        is_ready(o)
            && o.status
                .as_ref()
                .is_some_and(|s| s.desired_count == Some(4) && s.running_count == Some(4))
    })
    .await;
    assert!(
        obj.spec.desired_count.is_none(),
        "the operator never writes spec"
    );

    // Several resyncs: the count stays 4, no UpdateService, no drift correction. Application
    // Auto Scaling is read once per resync at most, not on every reconcile.
    let reads = || {
        operator
            .metrics
            .ecs_calls("DescribeScalableTargets", "success")
    };
    let (before, started) = (reads(), tokio::time::Instant::now());
    operator.resyncs("EcsService", 1, 3).await;
    let periods = started.elapsed().as_secs_f64() / harness::TEST_RESYNC.as_secs_f64();
    assert!(
        (reads() - before) as f64 <= periods.floor() + 1.0,
        "{} reads of the scalable target in {periods:.1} resync periods",
        reads() - before
    );
    assert_eq!(describe(&cluster, "web").await.desired_count(), 4);
    assert_eq!(operator.metrics.ecs_calls("UpdateService", "success"), 0);
    assert!(
        event_notes::<EcsService>(&client, &ns, "web", "DriftCorrected")
            .await
            .is_empty()
    );

    // A spec change (of the service and of its scaling) does not bring a count back either.
    merge(
        &api,
        "web",
        json!({"spec": {"healthCheckGracePeriodSeconds": 30, "autoscaling": {"maxCapacity": 8}}}),
    )
    .await;
    let resource_id = format!("service/{cluster}/web");
    eventually(
        "the new range",
        || target_range(&resource_id),
        |r| *r == Some((1, 8)),
    )
    .await;
    let ecs = eventually(
        "the spec change in ECS",
        || describe(&cluster, "web"),
        |s| s.health_check_grace_period_seconds() == Some(30),
    )
    .await;
    assert_eq!(ecs.desired_count(), 4);
    operator.resyncs("EcsService", 1, 2).await;
    assert_eq!(describe(&cluster, "web").await.desired_count(), 4);

    // The scale subresource is refused while Application Auto Scaling owns the count.
    let refused = api
        .patch_scale(
            "web",
            &PatchParams::default(),
            &Patch::Merge(&json!({"spec": {"replicas": 7}})),
        )
        .await
        .expect_err("scaling an autoscaled service through /scale is refused");
    assert!(
        refused
            .to_string()
            .contains("spec.desiredCount and spec.autoscaling exclude each other"),
        "{refused}"
    );

    // Delete deregisters the target first, then scales the service to 0 and deletes it.
    api.delete("web", &DeleteParams::default()).await.unwrap();
    wait_gone(&api, "web").await;
    assert_eq!(target_range(&resource_id).await, None);
    assert_eq!(describe(&cluster, "web").await.status(), Some("INACTIVE"));
}

#[tokio::test]
async fn drift_in_policies_and_the_target_is_corrected() {
    let (client, ns) = setup("as-drift").await;
    let _operator = TestOperator::start(&client, &ns).await;
    let api: Api<EcsService> = Api::namespaced(client.clone(), &ns);
    let (obj, cluster) = service_object("web", classic(), json!({})).await;
    api.create(&PostParams::default(), &obj).await.unwrap();
    wait_for(&api, "web", "Ready", |o| {
        is_ready(o) && scaling(o).is_some()
    })
    .await;
    let resource_id = format!("service/{cluster}/web");

    // Someone lowers the target value and adds a policy of their own in the console.
    put_cpu_policy(&resource_id, "cpu70", 20.0).await;
    put_cpu_policy(&resource_id, "by-hand", 40.0).await;
    eventually(
        "the policy corrected and the stray one deleted",
        || policies(&resource_id),
        |p| {
            *p == vec![(
                "cpu70".to_string(),
                "TargetTrackingScaling".to_string(),
                Some(70.0),
            )]
        },
    )
    .await;
    let notes = wait_for_event::<EcsService>(&client, &ns, "web", "DriftCorrected", |n| {
        n.contains("policy cpu70 updated") && n.contains("policy by-hand deleted")
    })
    .await;
    assert!(!notes.is_empty());

    // Someone narrows the range, then deregisters the target altogether.
    autoscaling_client()
        .await
        .register_scalable_target()
        .service_namespace(ServiceNamespace::Ecs)
        .resource_id(&resource_id)
        .scalable_dimension(DIMENSION)
        .min_capacity(1)
        .max_capacity(3)
        .send()
        .await
        .expect("register scalable target");
    eventually(
        "the range corrected",
        || target_range(&resource_id),
        |r| *r == Some((2, 10)),
    )
    .await;
    autoscaling_client()
        .await
        .deregister_scalable_target()
        .service_namespace(ServiceNamespace::Ecs)
        .resource_id(&resource_id)
        .scalable_dimension(DIMENSION)
        .send()
        .await
        .expect("deregister scalable target");
    eventually(
        "the target registered again",
        || target_range(&resource_id),
        |r| *r == Some((2, 10)),
    )
    .await;
    eventually(
        "its policy put again",
        || policies(&resource_id),
        |p| p.len() == 1 && p[0].2 == Some(70.0),
    )
    .await;

    // Back to a fixed count in one apply: desiredCount set, autoscaling removed.
    merge(
        &api,
        "web",
        json!({"spec": {"autoscaling": null, "desiredCount": 3}}),
    )
    .await;
    wait_for(&api, "web", "Ready with 3 tasks and no autoscaling", |o| {
        is_ready(o)
            && scaling(o).is_none()
            && o.status
                .as_ref()
                .is_some_and(|s| s.running_count == Some(3))
    })
    .await;
    assert_eq!(target_range(&resource_id).await, None);
    assert_eq!(describe(&cluster, "web").await.desired_count(), 3);

    // And to autoscaling again, with a minimum above the count: registering the target brings
    // the count into the range, as Application Auto Scaling does.
    let mut narrow = classic();
    narrow["minCapacity"] = json!(4);
    narrow["maxCapacity"] = json!(6);
    merge(
        &api,
        "web",
        json!({"spec": {"autoscaling": narrow, "desiredCount": null}}),
    )
    .await;
    wait_for(&api, "web", "Ready with 4 tasks, autoscaled", |o| {
        is_ready(o)
            && scaling(o).is_some()
            && o.status
                .as_ref()
                .is_some_and(|s| s.running_count == Some(4))
    })
    .await;
    assert_eq!(target_range(&resource_id).await, Some((4, 6)));
}

#[tokio::test]
async fn retain_leaves_the_scalable_target_with_the_service() {
    let (client, ns) = setup("as-retain").await;
    let _operator = TestOperator::start(&client, &ns).await;
    let api: Api<EcsService> = Api::namespaced(client.clone(), &ns);
    let (obj, cluster) =
        service_object("kept", classic(), json!({"deletionPolicy": "Retain"})).await;
    api.create(&PostParams::default(), &obj).await.unwrap();
    wait_for(&api, "kept", "Ready", |o| {
        is_ready(o) && scaling(o).is_some()
    })
    .await;
    api.delete("kept", &DeleteParams::default()).await.unwrap();
    wait_gone(&api, "kept").await;
    let resource_id = format!("service/{cluster}/kept");
    assert_eq!(target_range(&resource_id).await, Some((2, 10)));
    assert_eq!(policies(&resource_id).await.len(), 1);
    assert_eq!(describe(&cluster, "kept").await.desired_count(), 2);
}
