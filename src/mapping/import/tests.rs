use serde_json::json;

use super::*;

/// DescribeTaskDefinition as ECS answers it for a Fargate definition registered with only
/// what a person writes (shape: aws-cli register-task-definition example output, and the
/// defaults of FACTS.md section 7).
fn described_task_definition() -> Value {
    json!({
        "taskDefinition": {
            "taskDefinitionArn": "arn:aws:ecs:us-east-1:123456789012:task-definition/web:7",
            "family": "web", "revision": 7, "status": "ACTIVE",
            "networkMode": "awsvpc", "cpu": "256", "memory": "512",
            "executionRoleArn": "arn:aws:iam::123456789012:role/ecsTaskExecutionRole",
            "requiresCompatibilities": ["FARGATE"], "compatibilities": ["EC2", "FARGATE"],
            "requiresAttributes": [{"name": "com.amazonaws.ecs.capability.logging-driver.awslogs"}],
            "placementConstraints": [], "volumes": [],
            "registeredAt": 1733318615.211, "registeredBy": "arn:aws:iam::123456789012:root",
            "containerDefinitions": [{
                "name": "web", "image": "nginx:1.27", "cpu": 0, "essential": true,
                "portMappings": [{"containerPort": 8080, "hostPort": 8080, "protocol": "tcp"}],
                "environment": [{"name": "Z", "value": "1"}, {"name": "A", "value": "2"}],
                "mountPoints": [], "volumesFrom": [], "systemControls": [],
                "healthCheck": {"command": ["CMD-SHELL", "true"], "interval": 30, "timeout": 5, "retries": 3}
            }]
        },
        "tags": [
            {"key": "team", "value": "web"},
            {"key": "aws:cloudformation:stack-name", "value": "x"},
            {"key": "ecs.operator.dev/spec-hash", "value": "abc"}
        ]
    })
}

#[test]
fn a_task_definition_reads_as_it_was_registered() {
    let spec = task_definition_spec(&described_task_definition()).unwrap();
    assert_eq!(
        serde_json::to_value(&spec).unwrap(),
        json!({
            "family": "web", "networkMode": "awsvpc", "cpu": "256", "memory": "512",
            "executionRoleArn": "arn:aws:iam::123456789012:role/ecsTaskExecutionRole",
            "requiresCompatibilities": ["FARGATE"],
            "containerDefinitions": [{
                "name": "web", "image": "nginx:1.27",
                "portMappings": [{"containerPort": 8080}],
                "environment": [{"name": "A", "value": "2"}, {"name": "Z", "value": "1"}],
                "healthCheck": {"command": ["CMD-SHELL", "true"]}
            }],
            "tags": [{"key": "team", "value": "web"}],
            "deletionPolicy": "Delete"
        })
    );
}

#[test]
fn an_explicit_value_that_is_not_ecs_default_is_kept() {
    let mut described = described_task_definition();
    let container = &mut described["taskDefinition"]["containerDefinitions"][0];
    container["essential"] = json!(false);
    container["cpu"] = json!(128);
    container["portMappings"][0]["protocol"] = json!("udp");
    let spec = serde_json::to_value(task_definition_spec(&described).unwrap()).unwrap();
    let container = &spec["containerDefinitions"][0];
    assert_eq!(container["essential"], json!(false));
    assert_eq!(container["cpu"], json!(128));
    assert_eq!(container["portMappings"][0]["protocol"], json!("udp"));
}

/// The real Fargate service of FACTS.md 7.1 (with 2026's additions).
fn described_service() -> Value {
    json!({
        "serviceArn": "arn:aws:ecs:eu-west-1:396913742200:service/tutorspace-cluster/tutorspace-service",
        "serviceName": "tutorspace-service",
        "clusterArn": "arn:aws:ecs:eu-west-1:396913742200:cluster/tutorspace-cluster",
        "loadBalancers": [{"targetGroupArn": "arn:aws:elasticloadbalancing:eu-west-1:396913742200:targetgroup/tutorspace-tg/795221176455e42b",
                           "containerName": "tutorspace-backend", "containerPort": 8000}],
        "serviceRegistries": [],
        "status": "ACTIVE", "desiredCount": 1, "runningCount": 0, "pendingCount": 0,
        "launchType": "FARGATE", "platformVersion": "LATEST", "platformFamily": "Linux",
        "taskDefinition": "arn:aws:ecs:eu-west-1:396913742200:task-definition/tutorspace-task:1",
        "deploymentConfiguration": {"deploymentCircuitBreaker": {"enable": false, "rollback": false},
                                    "maximumPercent": 200, "minimumHealthyPercent": 100,
                                    "strategy": "ROLLING", "bakeTimeInMinutes": 0},
        "deployments": [{"id": "ecs-svc/8010098638150428715", "status": "PRIMARY"}],
        "roleArn": "arn:aws:iam::396913742200:role/aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS",
        "events": [], "createdAt": 1733318615.211,
        "placementConstraints": [], "placementStrategy": [],
        "networkConfiguration": {"awsvpcConfiguration": {"subnets": ["subnet-1"],
            "securityGroups": ["sg-0e839c0e4df8f6f81"], "assignPublicIp": "ENABLED"}},
        "healthCheckGracePeriodSeconds": 0, "schedulingStrategy": "REPLICA",
        "deploymentController": {"type": "ECS"},
        "createdBy": "arn:aws:iam::396913742200:root",
        "enableECSManagedTags": false, "propagateTags": "NONE", "enableExecuteCommand": false,
        "availabilityZoneRebalancing": "ENABLED", "resourceManagementType": "CUSTOMER"
    })
}

#[test]
fn a_service_reads_as_what_was_asked_for() {
    let spec = service_spec(
        &described_service(),
        &Value::Null,
        "tutorspace-cluster",
        "tutorspace-task",
    )
    .unwrap();
    assert_eq!(
        serde_json::to_value(&spec).unwrap(),
        json!({
            "serviceName": "tutorspace-service",
            "clusterRef": {"name": "tutorspace-cluster"},
            "taskDefinitionRef": {"name": "tutorspace-task"},
            "launchType": "FARGATE",
            "networkConfiguration": {"awsvpcConfiguration": {"subnets": ["subnet-1"],
                "securityGroups": ["sg-0e839c0e4df8f6f81"], "assignPublicIp": "ENABLED"}},
            "loadBalancers": [{"targetGroupArn": "arn:aws:elasticloadbalancing:eu-west-1:396913742200:targetgroup/tutorspace-tg/795221176455e42b",
                               "containerName": "tutorspace-backend", "containerPort": 8000}],
            "deletionPolicy": "Delete"
        })
    );
}

#[test]
fn a_service_on_its_clusters_default_strategy_names_none() {
    let mut service = described_service();
    service.as_object_mut().unwrap().remove("launchType");
    service["capacityProviderStrategy"] =
        json!([{"capacityProvider": "FARGATE", "base": 0, "weight": 1}]);
    let default = json!([{"capacityProvider": "FARGATE", "weight": 1}]);
    let spec = service_spec(&service, &default, "c", "t").unwrap();
    assert!(spec.capacity_provider_strategy.is_empty());
    let other = json!([{"capacityProvider": "FARGATE_SPOT", "weight": 1}]);
    let spec = service_spec(&service, &other, "c", "t").unwrap();
    assert_eq!(spec.capacity_provider_strategy.len(), 1);
}

#[test]
fn a_cluster_reads_without_ecs_defaults() {
    let cluster = json!({
        "clusterArn": "arn:aws:ecs:us-east-1:123456789012:cluster/apps", "clusterName": "apps",
        "status": "ACTIVE", "registeredContainerInstancesCount": 0, "runningTasksCount": 3,
        "capacityProviders": ["FARGATE", "FARGATE_SPOT"],
        "defaultCapacityProviderStrategy": [{"capacityProvider": "FARGATE", "weight": 1, "base": 0}],
        "settings": [{"name": "containerInsights", "value": "disabled"}],
        "configuration": {"executeCommandConfiguration": {"logging": "DEFAULT"}},
        "tags": [{"key": "team", "value": "platform"}]
    });
    let spec = serde_json::to_value(cluster_spec(&cluster).unwrap()).unwrap();
    assert_eq!(spec["clusterName"], "apps");
    assert_eq!(
        spec["capacityProviders"],
        json!(["FARGATE", "FARGATE_SPOT"])
    );
    assert!(spec.get("settings").is_none(), "{spec}");
    assert!(spec.get("configuration").is_none(), "{spec}");
    assert_eq!(spec["tags"], json!([{"key": "team", "value": "platform"}]));
}

#[test]
fn a_manifest_adopts_retains_and_leaves_out_what_is_empty() {
    let spec = task_definition_spec(&described_task_definition()).unwrap();
    let target = Target {
        namespace: "shop",
        region: Some("eu-west-1"),
    };
    let manifest =
        manifest::<crate::api::EcsTaskDefinition>(&object_name("web"), &target, &spec).unwrap();
    assert_eq!(manifest["apiVersion"], "ecs.operator.dev/v1alpha1");
    assert_eq!(manifest["kind"], "EcsTaskDefinition");
    assert_eq!(
        manifest["metadata"],
        json!({"name": "web", "namespace": "shop",
               "annotations": {"ecs.operator.dev/adopt": "true"}})
    );
    assert_eq!(manifest["spec"]["deletionPolicy"], "Retain");
    assert_eq!(manifest["spec"]["region"], "eu-west-1");
}

#[test]
fn ecs_names_that_read_alike_get_names_of_their_own() {
    let mut names = Names::default();
    let claimed: Vec<String> = ["dup_x", "dup-x", "DUP.X", "web"]
        .iter()
        .map(|n| names.claim(n))
        .collect();
    assert_eq!(claimed, ["dup-x", "dup-x-2", "dup-x-3", "web"]);
    let long = "a".repeat(70);
    assert_eq!(names.claim(&long).len(), 63);
    assert_eq!(names.claim(&long), format!("{}-2", "a".repeat(61)));
}

#[test]
fn ecs_names_become_object_names() {
    assert_eq!(object_name("web_API.v2"), "web-api-v2");
    assert_eq!(object_name("_x_"), "x");
    assert_eq!(object_name(&"a".repeat(80)).len(), 63);
}
