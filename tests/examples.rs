//! The manifests in examples/ are what a new user starts from: applied together, the cluster and
//! the task definitions become Ready, the service is created on them and the batch run starts its
//! tasks (which, without an exit marker, run in the emulator until the run is deleted).

mod harness;
mod support;

use ecs_operator::api::{
    EcsCapacityProvider, EcsCluster, EcsScheduledTask, EcsService, EcsTask, EcsTaskDefinition,
};
use harness::{TestOperator, is_ready, setup, wait_for};
use kube::api::{Api, PostParams};
use serde::Deserialize;
use serde::de::DeserializeOwned;

/// Every document of every file in examples/, as JSON.
fn example_documents() -> Vec<serde_json::Value> {
    let dir = support::repo_root().join("examples");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .flat_map(|path| {
            let text = std::fs::read_to_string(path).unwrap();
            serde_yaml::Deserializer::from_str(&text)
                .map(|doc| {
                    serde_json::Value::deserialize(doc)
                        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

async fn create_all<K>(api: &Api<K>, documents: &[serde_json::Value], kind: &str) -> Vec<String>
where
    K: kube::Resource + Clone + DeserializeOwned + serde::Serialize + std::fmt::Debug,
{
    let mut names = Vec::new();
    for doc in documents.iter().filter(|d| d["kind"] == kind) {
        let obj: K =
            serde_json::from_value(doc.clone()).unwrap_or_else(|e| panic!("{kind} example: {e}"));
        let created = api
            .create(&PostParams::default(), &obj)
            .await
            .unwrap_or_else(|e| panic!("{kind} example: {e}"));
        names.push(created.meta().name.clone().unwrap());
    }
    names
}

#[tokio::test]
async fn the_examples_converge() {
    let (client, ns) = setup("examples").await;
    let operator = TestOperator::start(&client, &ns).await;
    let mut documents = example_documents();
    // The examples name placeholder subnets; the emulator knows only its default VPC's.
    documents
        .iter_mut()
        .filter(|d| d["kind"] == "EcsService" || d["kind"] == "EcsTask")
        .for_each(harness::use_emulator_network);
    // ECS names are unique per run, so parallel and repeated runs share no ECS object.
    for doc in &mut documents {
        let name = doc["metadata"]["name"].as_str().unwrap().to_string();
        let field = match doc["kind"].as_str() {
            Some("EcsCluster") => "clusterName",
            Some("EcsTaskDefinition") => "family",
            // A run has no ECS name of its own.
            Some("EcsTask") => continue,
            Some("EcsScheduledTask") => "scheduleName",
            Some("EcsCapacityProvider") => "name",
            _ => "serviceName",
        };
        doc["spec"][field] = serde_json::json!(support::unique_name(&name));
    }

    let clusters: Api<EcsCluster> = Api::namespaced(client.clone(), &ns);
    let definitions: Api<EcsTaskDefinition> = Api::namespaced(client.clone(), &ns);
    let services: Api<EcsService> = Api::namespaced(client.clone(), &ns);
    let cluster_names = create_all(&clusters, &documents, "EcsCluster").await;
    let definition_names = create_all(&definitions, &documents, "EcsTaskDefinition").await;
    let service_names = create_all(&services, &documents, "EcsService").await;
    let tasks: Api<EcsTask> = Api::namespaced(client.clone(), &ns);
    let task_names = create_all(&tasks, &documents, "EcsTask").await;
    let schedules: Api<EcsScheduledTask> = Api::namespaced(client.clone(), &ns);
    let schedule_names = create_all(&schedules, &documents, "EcsScheduledTask").await;
    let providers: Api<EcsCapacityProvider> = Api::namespaced(client.clone(), &ns);
    let provider_names = create_all(&providers, &documents, "EcsCapacityProvider").await;
    assert_eq!(
        (
            cluster_names.len(),
            definition_names.len(),
            service_names.len(),
            task_names.len(),
            schedule_names.len(),
            provider_names.len()
        ),
        (1, 4, 2, 1, 1, 1)
    );
    for name in &provider_names {
        let obj = wait_for(&providers, name, "Ready", is_ready).await;
        assert_eq!(obj.status.unwrap().status.as_deref(), Some("ACTIVE"));
    }

    for name in &cluster_names {
        wait_for(&clusters, name, "Ready", is_ready).await;
    }
    // The nightly schedule is in the Scheduler once its cluster and task definition are Ready.
    for name in &schedule_names {
        let obj = wait_for(&schedules, name, "Ready", is_ready).await;
        assert_eq!(obj.status.unwrap().state.as_deref(), Some("ENABLED"));
    }
    for name in &definition_names {
        let obj = wait_for(&definitions, name, "Ready", is_ready).await;
        assert!(obj.status.unwrap().task_definition_arn.is_some());
    }
    let web_arn = definitions
        .get("web")
        .await
        .unwrap()
        .status
        .unwrap()
        .task_definition_arn
        .unwrap();
    let service = wait_for(&services, "web", "Ready", is_ready).await;
    let status = service.status.unwrap();
    assert!(
        operator.readiness.is_ready(),
        "ready once the watches have synced"
    );
    let scrape = operator.metrics.render();
    assert!(
        scrape.contains(
            r#"ecs_operator_ecs_api_calls_total{operation="CreateService",outcome="success"} 2"#
        ),
        "{scrape}"
    );
    assert_eq!(
        status.task_definition_arn.as_deref(),
        Some(web_arn.as_str())
    );
    assert_eq!(
        status.desired_count,
        Some(1),
        "desiredCount left out starts at 1"
    );

    // The autoscaled web service: created with 2 tasks (its minCapacity), its scalable target
    // and CPU policy in Application Auto Scaling, with the policy's alarms in status.
    let autoscaled = wait_for(&services, "web-autoscaled", "Ready", |s: &EcsService| {
        is_ready(s) && s.status.as_ref().is_some_and(|st| st.autoscaling.is_some())
    })
    .await
    .status
    .unwrap();
    assert_eq!(autoscaled.desired_count, Some(2));
    let scaling = autoscaled.autoscaling.unwrap();
    assert_eq!(
        (scaling.min_capacity, scaling.max_capacity),
        (Some(2), Some(10))
    );
    assert_eq!(scaling.policies.len(), 1);
    assert_eq!(scaling.policies[0].policy_name, "cpu70");
    assert_eq!(
        scaling.policies[0].alarms.len(),
        2,
        "{:?}",
        scaling.policies
    );

    // The batch run starts its 10 tasks with one RunTask; deleting it stops them.
    let run = wait_for(
        &tasks,
        "report-2026-11",
        "10 tasks started",
        |t: &EcsTask| t.status.as_ref().is_some_and(|s| s.tasks.len() == 10),
    )
    .await;
    assert_eq!(run.status.unwrap().attempts, 1);
    tasks
        .delete("report-2026-11", &Default::default())
        .await
        .unwrap();
    harness::wait_gone(&tasks, "report-2026-11").await;
}
