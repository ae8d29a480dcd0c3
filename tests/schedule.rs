//! EcsScheduledTask end to end, against the Scheduler of the emulator's moto: a schedule created
//! as the spec says (expression, time zone, the ECS RunTask target with the task definition
//! revision), updated, suspended, following a new revision of its EcsTaskDefinition, a change
//! behind the operator's back set back, deleted (or kept, with Retain), a schedule of someone
//! else's left alone until the adopt annotation asks for it, and admission refusing an expression the Scheduler would not take.

mod harness;
mod support;

use aws_sdk_scheduler::operation::get_schedule::GetScheduleOutput;
use aws_sdk_scheduler::types::{FlexibleTimeWindow, FlexibleTimeWindowMode, ScheduleState, Target};
use ecs_operator::api::{EcsScheduledTask, EcsTaskDefinition};
use harness::{
    TestOperator, condition, eventually, is_ready, manifest, setup, wait_for, wait_for_event,
    wait_gone,
};
use kube::Client;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use serde_json::json;

const ROLE: &str = "arn:aws:iam::123456789012:role/scheduler-run-task";

async fn scheduler() -> aws_sdk_scheduler::Client {
    aws_sdk_scheduler::Client::new(&support::sdk_config().await)
}

/// The schedule `name` of the default group, or None once it is gone.
async fn schedule(name: &str) -> Option<GetScheduleOutput> {
    let answer = scheduler().await.get_schedule().name(name).send().await;
    match answer {
        Ok(output) => Some(output),
        Err(error)
            if error
                .as_service_error()
                .is_some_and(|e| e.is_resource_not_found_exception()) =>
        {
            None
        }
        Err(error) => panic!("GetSchedule {name}: {error:?}"),
    }
}

/// Waits until the schedule `name` passes `check`.
async fn schedule_where(
    name: &str,
    what: &str,
    check: impl Fn(&GetScheduleOutput) -> bool,
) -> GetScheduleOutput {
    eventually(what, || schedule(name), |s| s.as_ref().is_some_and(&check))
        .await
        .unwrap()
}

fn task_definition_arn(schedule: &GetScheduleOutput) -> &str {
    let ecs = schedule
        .target
        .as_ref()
        .and_then(|t| t.ecs_parameters.as_ref());
    ecs.map_or("", |e| e.task_definition_arn.as_str())
}

/// A namespace with an ECS cluster (made in ECS) and a Ready Fargate EcsTaskDefinition "job".
async fn fixture(prefix: &str) -> (Client, String, String, TestOperator) {
    let (client, ns) = setup(prefix).await;
    let operator = TestOperator::start(&client, &ns).await;
    let cluster = support::unique_name("sched");
    support::ecs_client()
        .create_cluster()
        .cluster_name(&cluster)
        .send()
        .await
        .unwrap();
    let definitions: Api<EcsTaskDefinition> = Api::namespaced(client.clone(), &ns);
    let definition: EcsTaskDefinition = manifest(json!({
        "apiVersion": "ecs.operator.dev/v1alpha1", "kind": "EcsTaskDefinition",
        "metadata": {"name": "job"},
        "spec": {
            "family": support::unique_name("job"),
            "requiresCompatibilities": ["FARGATE"],
            "networkMode": "awsvpc", "cpu": "256", "memory": "512",
            "containerDefinitions": [{"name": "app", "image": "busybox:1", "essential": true}]
        }
    }));
    definitions
        .create(&PostParams::default(), &definition)
        .await
        .unwrap();
    wait_for(&definitions, "job", "Ready", is_ready).await;
    (client, ns, cluster, operator)
}

/// An EcsScheduledTask "nightly" of EcsTaskDefinition "job" on `cluster`, with `extra` merged in.
fn nightly(schedule_name: &str, cluster: &str, extra: serde_json::Value) -> EcsScheduledTask {
    let mut spec = json!({
        "scheduleName": schedule_name,
        "scheduleExpression": "cron(0 2 * * ? *)",
        "scheduleExpressionTimezone": "Europe/Paris",
        "roleArn": ROLE,
        "cluster": cluster,
        "taskDefinitionRef": {"name": "job"},
        "launchType": "FARGATE",
        "networkConfiguration": {"awsvpcConfiguration": {"subnets": ["subnet-0a1b2c3d"], "assignPublicIp": "DISABLED"}},
        "overrides": {"containerOverrides": [{"name": "app", "command": ["report", "--nightly"]}]}
    });
    if let (Some(spec), Some(extra)) = (spec.as_object_mut(), extra.as_object()) {
        spec.extend(extra.clone());
    }
    manifest(json!({
        "apiVersion": "ecs.operator.dev/v1alpha1", "kind": "EcsScheduledTask",
        "metadata": {"name": "nightly"},
        "spec": spec
    }))
}

async fn patch_spec<K>(api: &Api<K>, name: &str, spec: serde_json::Value)
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    api.patch(
        name,
        &PatchParams::default(),
        &Patch::Merge(&json!({"spec": spec})),
    )
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_schedule_follows_its_spec_its_task_definition_and_is_set_back() {
    let (client, ns, cluster, operator) = fixture("sched").await;
    let name = support::unique_name("nightly");
    let api: Api<EcsScheduledTask> = Api::namespaced(client.clone(), &ns);
    api.create(&PostParams::default(), &nightly(&name, &cluster, json!({})))
        .await
        .unwrap();
    let ready = wait_for(&api, "nightly", "Ready", is_ready).await;
    let status = ready.status.clone().unwrap();

    // In the Scheduler as the spec says.
    let written = schedule(&name).await.expect("the schedule exists");
    assert_eq!(
        written.schedule_expression.as_deref(),
        Some("cron(0 2 * * ? *)")
    );
    assert_eq!(
        written.schedule_expression_timezone.as_deref(),
        Some("Europe/Paris")
    );
    assert_eq!(written.state, Some(ScheduleState::Enabled));
    assert_eq!(written.arn, status.schedule_arn);
    let target = written.target.clone().unwrap();
    assert!(
        target.arn.ends_with(&format!(":cluster/{cluster}")),
        "{}",
        target.arn
    );
    assert_eq!(Some(target.arn.clone()), status.cluster_arn);
    assert_eq!(target.role_arn, ROLE);
    let input: serde_json::Value = serde_json::from_str(target.input.as_deref().unwrap()).unwrap();
    assert_eq!(input["containerOverrides"][0]["command"][1], "--nightly");
    let ecs = target.ecs_parameters.unwrap();
    let definitions: Api<EcsTaskDefinition> = Api::namespaced(client.clone(), &ns);
    let first = definitions
        .get("job")
        .await
        .unwrap()
        .current_arn()
        .unwrap()
        .to_string();
    assert_eq!(ecs.task_definition_arn, first);
    assert_eq!(status.task_definition_arn.as_deref(), Some(first.as_str()));
    assert_eq!(ecs.task_count, Some(1));
    assert_eq!(
        ecs.launch_type.as_ref().map(|l| l.as_str()),
        Some("FARGATE")
    );
    let description = written.description.unwrap_or_default();
    assert!(
        description.contains(&format!("ecs.operator.dev/owner={ns}/nightly")),
        "{description}"
    );
    wait_for_event::<EcsScheduledTask>(&client, &ns, "nightly", "Created", |n| n.contains(&name))
        .await;

    // A new expression.
    patch_spec(
        &api,
        "nightly",
        json!({"scheduleExpression": "rate(6 hours)"}),
    )
    .await;
    schedule_where(&name, "the new expression", |s| {
        s.schedule_expression.as_deref() == Some("rate(6 hours)")
    })
    .await;
    wait_for_event::<EcsScheduledTask>(&client, &ns, "nightly", "Updated", |n| {
        n.contains("scheduleExpression")
    })
    .await;

    // Suspended, and back.
    patch_spec(&api, "nightly", json!({"suspend": true})).await;
    schedule_where(&name, "the schedule DISABLED", |s| {
        s.state == Some(ScheduleState::Disabled)
    })
    .await;
    wait_for(&api, "nightly", "state DISABLED", |s| {
        s.status.as_ref().and_then(|s| s.state.as_deref()) == Some("DISABLED") && is_ready(s)
    })
    .await;
    patch_spec(&api, "nightly", json!({"suspend": false})).await;
    schedule_where(&name, "the schedule ENABLED", |s| {
        s.state == Some(ScheduleState::Enabled)
    })
    .await;

    // A new revision of the task definition is followed.
    patch_spec(
        &definitions,
        "job",
        json!({"containerDefinitions": [{"name": "app", "image": "busybox:2", "essential": true}]}),
    )
    .await;
    let second = eventually(
        "a second revision",
        || async {
            definitions
                .get("job")
                .await
                .unwrap()
                .current_arn()
                .map(str::to_string)
        },
        |arn| arn.as_deref().is_some_and(|arn| arn != first),
    )
    .await
    .unwrap();
    schedule_where(&name, "the second revision", |s| {
        task_definition_arn(s) == second
    })
    .await;
    // Told as the object's own change, not as drift.
    wait_for_event::<EcsScheduledTask>(&client, &ns, "nightly", "Updated", |n| {
        n.contains(&format!("now runs {second}"))
    })
    .await;
    wait_for(&api, "nightly", "the second revision in status", |s| {
        s.status
            .as_ref()
            .and_then(|s| s.task_definition_arn.as_deref())
            == Some(second.as_str())
    })
    .await;

    // Changed behind the operator's back: set back at the resync.
    let current = schedule(&name).await.unwrap();
    scheduler()
        .await
        .update_schedule()
        .name(&name)
        .schedule_expression("rate(1 minute)")
        .flexible_time_window(
            FlexibleTimeWindow::builder()
                .mode(FlexibleTimeWindowMode::Off)
                .build()
                .unwrap(),
        )
        .set_description(current.description.clone())
        .set_schedule_expression_timezone(current.schedule_expression_timezone.clone())
        .set_state(current.state.clone())
        .target(current.target.clone().unwrap())
        .send()
        .await
        .unwrap();
    schedule_where(&name, "the expression set back", |s| {
        s.schedule_expression.as_deref() == Some("rate(6 hours)")
    })
    .await;
    wait_for_event::<EcsScheduledTask>(&client, &ns, "nightly", "DriftCorrected", |n| {
        n.contains("scheduleExpression")
    })
    .await;

    // Deleted with the object.
    api.delete("nightly", &DeleteParams::default())
        .await
        .unwrap();
    wait_gone(&api, "nightly").await;
    assert!(schedule(&name).await.is_none(), "the schedule is deleted");
    operator.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn retain_keeps_the_schedule_and_a_foreign_one_is_left_alone_unless_adopted() {
    let (client, ns, cluster, operator) = fixture("sched-retain").await;
    let api: Api<EcsScheduledTask> = Api::namespaced(client.clone(), &ns);

    // Retain: the schedule outlives the object.
    let kept = support::unique_name("kept");
    api.create(
        &PostParams::default(),
        &nightly(&kept, &cluster, json!({"deletionPolicy": "Retain"})),
    )
    .await
    .unwrap();
    wait_for(&api, "nightly", "Ready", is_ready).await;
    api.delete("nightly", &DeleteParams::default())
        .await
        .unwrap();
    wait_gone(&api, "nightly").await;
    assert!(schedule(&kept).await.is_some(), "Retain keeps the schedule");

    // A schedule made by someone else: OwnershipConflict, and it is not touched.
    let foreign = support::unique_name("foreign");
    let cluster_arn = format!(
        "arn:aws:ecs:{}:123456789012:cluster/{cluster}",
        support::env().region
    );
    let target = Target::builder()
        .arn(cluster_arn)
        .role_arn(ROLE)
        .build()
        .unwrap();
    scheduler()
        .await
        .create_schedule()
        .name(&foreign)
        .schedule_expression("rate(1 day)")
        .description("made by hand")
        .flexible_time_window(
            FlexibleTimeWindow::builder()
                .mode(FlexibleTimeWindowMode::Off)
                .build()
                .unwrap(),
        )
        .target(target)
        .send()
        .await
        .unwrap();
    api.create(
        &PostParams::default(),
        &nightly(&foreign, &cluster, json!({})),
    )
    .await
    .unwrap();
    let stalled = wait_for(&api, "nightly", "Stalled", |s| {
        condition(s, "Stalled").is_some_and(|c| c.status == "True")
    })
    .await;
    assert_eq!(
        condition(&stalled, "Stalled").unwrap().reason,
        "OwnershipConflict"
    );
    let untouched = schedule(&foreign).await.unwrap();
    assert_eq!(
        untouched.schedule_expression.as_deref(),
        Some("rate(1 day)")
    );
    // Asked to adopt it, the object takes it over and writes its spec (and ownership) into it.
    let adopt = json!({"metadata": {"annotations": {"ecs.operator.dev/adopt": "true"}}});
    api.patch("nightly", &PatchParams::default(), &Patch::Merge(&adopt))
        .await
        .unwrap();
    wait_for(&api, "nightly", "Ready", is_ready).await;
    let adopted = schedule(&foreign).await.unwrap();
    assert_eq!(
        adopted.schedule_expression.as_deref(),
        Some("cron(0 2 * * ? *)")
    );
    let description = adopted.description.unwrap_or_default();
    assert!(
        description.contains(&format!("ecs.operator.dev/owner={ns}/nightly")),
        "{description}"
    );
    wait_for_event::<EcsScheduledTask>(&client, &ns, "nightly", "Adopted", |_| true).await;
    api.delete("nightly", &DeleteParams::default())
        .await
        .unwrap();
    wait_gone(&api, "nightly").await;
    assert!(
        schedule(&foreign).await.is_none(),
        "an adopted schedule is deleted with its object"
    );
    operator.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn admission_refuses_an_expression_the_scheduler_would_not_take() {
    let (client, ns) = setup("sched-admission").await;
    let api: Api<EcsScheduledTask> = Api::namespaced(client.clone(), &ns);
    let bad = nightly(
        "bad",
        "apps",
        json!({"scheduleExpression": "every day at 2"}),
    );
    let error = api.create(&PostParams::default(), &bad).await.unwrap_err();
    assert!(
        error
            .to_string()
            .contains("scheduleExpression is cron(...), rate(...) or at(...)"),
        "{error}"
    );
}
