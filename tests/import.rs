//! `ecs-operator import` (the built binary) round trip: an ECS cluster, a task definition and
//! two services made outside the operator are imported as manifests, applied, adopted without a
//! new revision or a deployment (nor a change to the Application Auto Scaling of the one that
//! has it), and then cost no ECS write over several resyncs; `diff` on the imported manifests
//! finds nothing to change.

mod harness;
mod support;

use std::process::Command;

use aws_sdk_applicationautoscaling::types::{
    MetricType, PolicyType, PredefinedMetricSpecification, ScalableDimension, ServiceNamespace,
    TargetTrackingScalingPolicyConfiguration,
};
use aws_sdk_ecs::types::{
    AwsVpcConfiguration, CapacityProviderStrategyItem, ContainerDefinition,
    DeploymentCircuitBreaker, DeploymentConfiguration, KeyValuePair, LaunchType,
    NetworkConfiguration, NetworkMode, PortMapping, Tag,
};
use ecs_operator::api::{EcsCluster, EcsService, EcsTaskDefinition};
use harness::{TestOperator, is_ready, setup, wait_for};
use kube::api::{Api, ListParams, PostParams};
use serde::Deserialize;
use serde_json::Value;

/// Runs the operator binary with `args` under access key `key`: exit code and stdout.
fn operator_binary(key: &str, args: &[&str]) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_ecs-operator"))
        .args(args)
        .envs(&support::env().vars)
        .env("AWS_ACCESS_KEY_ID", key)
        .output()
        .expect("the operator binary runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).to_string(),
        String::from_utf8_lossy(&output.stderr).to_string(),
    )
}

/// An application made the way a team made it before the operator: with the SDK.
async fn existing_application(cluster: &str, family: &str, services: [&str; 2]) {
    let ecs = support::ecs_client();
    ecs.create_cluster()
        .cluster_name(cluster)
        .capacity_providers("FARGATE")
        .default_capacity_provider_strategy(
            CapacityProviderStrategyItem::builder()
                .capacity_provider("FARGATE")
                .weight(1)
                .build()
                .unwrap(),
        )
        .tags(Tag::builder().key("team").value("shop").build())
        .send()
        .await
        .unwrap();
    ecs.register_task_definition()
        .family(family)
        .network_mode(NetworkMode::Awsvpc)
        .requires_compatibilities(aws_sdk_ecs::types::Compatibility::Fargate)
        .cpu("256")
        .memory("512")
        .container_definitions(
            ContainerDefinition::builder()
                .name("web")
                .image("nginx:1.27")
                .port_mappings(PortMapping::builder().container_port(8080).build())
                .environment(KeyValuePair::builder().name("MODE").value("live").build())
                .environment(KeyValuePair::builder().name("LEVEL").value("info").build())
                .build(),
        )
        .send()
        .await
        .unwrap();
    let (subnets, group) = harness::emulator_network();
    let network = NetworkConfiguration::builder()
        .awsvpc_configuration(
            AwsVpcConfiguration::builder()
                .set_subnets(Some(subnets))
                .security_groups(group)
                .build()
                .unwrap(),
        )
        .build();
    for (i, name) in services.iter().enumerate() {
        let mut request = ecs
            .create_service()
            .cluster(cluster)
            .service_name(*name)
            .task_definition(family)
            .desired_count(2)
            .network_configuration(network.clone());
        // One on FARGATE explicitly, with a circuit breaker; one on the cluster's default.
        if i == 0 {
            request = request
                .launch_type(LaunchType::Fargate)
                .deployment_configuration(
                    DeploymentConfiguration::builder()
                        .deployment_circuit_breaker(
                            DeploymentCircuitBreaker::builder()
                                .enable(true)
                                .rollback(true)
                                .build(),
                        )
                        .build(),
                );
        }
        request.send().await.unwrap();
    }
    // The first one scaled by Application Auto Scaling: 1 to 4 tasks, CPU at 60%.
    let scaling = aws_sdk_applicationautoscaling::Client::new(&support::sdk_config().await);
    let resource_id = format!("service/{cluster}/{}", services[0]);
    scaling
        .register_scalable_target()
        .service_namespace(ServiceNamespace::Ecs)
        .resource_id(&resource_id)
        .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
        .min_capacity(1)
        .max_capacity(4)
        .send()
        .await
        .unwrap();
    scaling
        .put_scaling_policy()
        .policy_name("cpu60")
        .service_namespace(ServiceNamespace::Ecs)
        .resource_id(&resource_id)
        .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
        .policy_type(PolicyType::TargetTrackingScaling)
        .target_tracking_scaling_policy_configuration(
            TargetTrackingScalingPolicyConfiguration::builder()
                .target_value(60.0)
                .predefined_metric_specification(
                    PredefinedMetricSpecification::builder()
                        .predefined_metric_type(MetricType::EcsServiceAverageCpuUtilization)
                        .build()
                        .unwrap(),
                )
                .scale_out_cooldown(60)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn imported_manifests_are_adopted_as_they_are_and_then_cost_nothing() {
    let (client, ns) = setup("import").await;
    let (cluster, family) = (support::unique_name("shop"), support::unique_name("web"));
    let services = [support::unique_name("web"), support::unique_name("api")];
    existing_application(&cluster, &family, [&services[0], &services[1]]).await;

    let key = format!("import-{ns}");
    let (code, out, err) = operator_binary(&key, &["import", "--cluster", &cluster, "-n", &ns]);
    assert_eq!(code, 0, "{err}");
    let manifests: Vec<Value> = serde_yaml::Deserializer::from_str(&out)
        .map(|doc| Value::deserialize(doc).unwrap())
        .collect();
    let kinds: Vec<&str> = manifests
        .iter()
        .map(|m| m["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "EcsCluster",
            "EcsTaskDefinition",
            "EcsService",
            "EcsService"
        ],
        "{out}"
    );
    // As a person writes them: references, no ECS defaults, no count, adopted and retained.
    let by_service = |name: &str| {
        manifests
            .iter()
            .find(|m| m["spec"]["serviceName"] == name)
            .unwrap_or_else(|| panic!("no manifest of {name}: {out}"))
    };
    let (web, api) = (by_service(&services[0]), by_service(&services[1]));
    assert_eq!(
        web["metadata"]["annotations"]["ecs.operator.dev/adopt"],
        "true"
    );
    assert_eq!(
        web["spec"]["clusterRef"]["name"],
        manifests[0]["metadata"]["name"]
    );
    assert_eq!(
        web["spec"]["taskDefinitionRef"]["name"],
        manifests[1]["metadata"]["name"]
    );
    assert_eq!(web["spec"]["deletionPolicy"], "Retain");
    assert!(web["spec"].get("desiredCount").is_none(), "{out}");
    assert!(web["spec"].get("platformVersion").is_none(), "{out}");
    assert_eq!(
        web["spec"]["deploymentConfiguration"],
        serde_json::json!({"deploymentCircuitBreaker": {"enable": true, "rollback": true}})
    );
    // Its Application Auto Scaling as spec.autoscaling; the other has none.
    assert_eq!(
        web["spec"]["autoscaling"],
        serde_json::json!({"minCapacity": 1, "maxCapacity": 4, "targetTracking": [{
            "policyName": "cpu60", "targetValue": 60.0, "scaleOutCooldown": 60,
            "predefinedMetricSpecification": {"predefinedMetricType": "ECSServiceAverageCPUUtilization"}}]}),
        "{out}"
    );
    assert!(api["spec"].get("autoscaling").is_none(), "{out}");
    assert!(
        api["spec"].get("capacityProviderStrategy").is_none(),
        "{out}"
    );
    assert!(
        api["spec"].get("deploymentConfiguration").is_none(),
        "{out}"
    );
    let container = &manifests[1]["spec"]["containerDefinitions"][0];
    assert_eq!(
        container["portMappings"],
        serde_json::json!([{"containerPort": 8080}])
    );
    assert!(
        container.get("cpu").is_none() && container.get("essential").is_none(),
        "{out}"
    );

    // Before applying, diff says what adopting does: tags, nothing registered or updated.
    let file = std::env::temp_dir().join(format!("{}.yaml", support::unique_name("import")));
    std::fs::write(&file, &out).unwrap();
    let (code, diffed, err) = operator_binary(
        &key,
        &["diff", "-f", &file.display().to_string(), "-n", &ns],
    );
    assert_eq!(code, 1, "{diffed}{err}");
    let lines: Vec<&str> = diffed.lines().collect();
    assert_eq!(lines.len(), 4, "{diffed}");
    assert!(lines.iter().all(|l| l.contains(": adopts ")), "{diffed}");
    assert!(
        lines[1].ends_with(":1 as it is: tags it as this object's, registers nothing"),
        "{diffed}"
    );

    // Applied: everything adopted and Ready, with no new revision and no deployment.
    let operator = TestOperator::start(&client, &ns).await;
    let post = PostParams::default();
    for manifest in &manifests {
        match manifest["kind"].as_str().unwrap() {
            "EcsCluster" => {
                let object: EcsCluster = serde_json::from_value(manifest.clone()).unwrap();
                Api::<EcsCluster>::namespaced(client.clone(), &ns)
                    .create(&post, &object)
                    .await
                    .unwrap();
            }
            "EcsTaskDefinition" => {
                let object: EcsTaskDefinition = serde_json::from_value(manifest.clone()).unwrap();
                Api::<EcsTaskDefinition>::namespaced(client.clone(), &ns)
                    .create(&post, &object)
                    .await
                    .unwrap();
            }
            _ => {
                let object: EcsService = serde_json::from_value(manifest.clone()).unwrap();
                Api::<EcsService>::namespaced(client.clone(), &ns)
                    .create(&post, &object)
                    .await
                    .unwrap();
            }
        }
    }
    let service_api: Api<EcsService> = Api::namespaced(client.clone(), &ns);
    for manifest in &manifests[2..] {
        let name = manifest["metadata"]["name"].as_str().unwrap();
        wait_for(&service_api, name, "Ready", is_ready).await;
    }
    let definitions: Api<EcsTaskDefinition> = Api::namespaced(client.clone(), &ns);
    let definition = definitions
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .remove(0);
    assert!(is_ready(&definition));
    assert_eq!(
        definition.status.unwrap().revision,
        Some(1),
        "adopted as it was"
    );
    let calls = support::emulator_calls(&operator.access_key);
    assert_eq!(calls.get("RegisterTaskDefinition"), None, "{calls:?}");
    assert_eq!(calls.get("UpdateService"), None, "{calls:?}");
    let scaling_writes = || {
        [
            "RegisterScalableTarget",
            "PutScalingPolicy",
            "DeleteScalingPolicy",
            "DeregisterScalableTarget",
        ]
        .map(|op| operator.metrics.ecs_calls(op, "success"))
        .iter()
        .sum::<u64>()
    };
    assert_eq!(scaling_writes(), 0, "the scaling was adopted as it is");
    for service in &services {
        let described = support::ecs_client()
            .describe_services()
            .cluster(&cluster)
            .services(service)
            .send()
            .await
            .unwrap();
        assert_eq!(
            described.services()[0].deployments().len(),
            1,
            "{service} was not redeployed"
        );
    }

    // Then several resyncs cost no write.
    let writes = |calls: &std::collections::HashMap<String, u64>| -> u64 {
        calls
            .iter()
            .filter(|(op, _)| support::ECS_WRITES.contains(&op.as_str()))
            .map(|(_, n)| n)
            .sum()
    };
    let before = writes(&support::emulator_calls(&operator.access_key));
    operator.resyncs("EcsService", 2, 3).await;
    operator.resyncs("EcsTaskDefinition", 1, 3).await;
    assert_eq!(
        writes(&support::emulator_calls(&operator.access_key)),
        before
    );
    assert_eq!(scaling_writes(), 0);

    // And a diff of the imported manifests finds nothing to change.
    let (code, out, err) = operator_binary(
        &key,
        &["diff", "-f", &file.display().to_string(), "-n", &ns],
    );
    let _ = std::fs::remove_file(&file);
    assert_eq!(code, 0, "{out}{err}");
}
