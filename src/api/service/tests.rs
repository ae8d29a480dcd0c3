use kube::CustomResourceExt;
use serde_json::{Value, json};

use super::*;

fn crd() -> Value {
    serde_json::to_value(EcsService::crd()).unwrap()
}

fn spec_schema() -> Value {
    crd()["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"].clone()
}

#[test]
fn crd_names_and_subresources() {
    let crd = crd();
    assert_eq!(crd["metadata"]["name"], "ecsservices.ecs.operator.dev");
    assert_eq!(crd["spec"]["scope"], "Namespaced");
    assert_eq!(crd["spec"]["names"]["shortNames"], json!(["ecss"]));
    assert_eq!(crd["spec"]["names"]["categories"], json!(["ecs"]));
    let version = &crd["spec"]["versions"][0];
    assert_eq!(version["subresources"]["status"], json!({}));
    assert_eq!(
        version["subresources"]["scale"],
        json!({
            "specReplicasPath": ".spec.desiredCount",
            "statusReplicasPath": ".status.replicas",
            "labelSelectorPath": ".status.selector",
        })
    );
    let columns: Vec<&str> = version["additionalPrinterColumns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        columns,
        ["Ready", "Reason", "Desired", "Running", "Revision", "Age"]
    );
}

#[test]
fn keyed_lists_are_list_maps_and_rule_lists_are_bounded() {
    let spec = spec_schema();
    let props = &spec["properties"];
    assert_eq!(props["tags"]["x-kubernetes-list-type"], "map");
    assert_eq!(props["tags"]["x-kubernetes-list-map-keys"], json!(["key"]));
    assert_eq!(props["tags"]["maxItems"], 47);
    assert_eq!(
        props["capacityProviderStrategy"]["x-kubernetes-list-map-keys"],
        json!(["capacityProvider"])
    );
    assert_eq!(props["capacityProviderStrategy"]["maxItems"], 20);
    assert_eq!(props["placementStrategy"]["maxItems"], 5);
    assert_eq!(props["placementConstraints"]["maxItems"], 10);
    assert_eq!(props["loadBalancers"]["maxItems"], 5);
    let vpc = &props["networkConfiguration"]["properties"]["awsvpcConfiguration"];
    assert_eq!(
        vpc["properties"]["subnets"]["x-kubernetes-list-type"],
        "set"
    );
    assert_eq!(vpc["required"], json!(["subnets"]));
    let services = &props["serviceConnectConfiguration"]["properties"]["services"];
    assert_eq!(services["x-kubernetes-list-map-keys"], json!(["portName"]));
    assert_eq!(props["serviceName"]["maxLength"], 255);
}

#[test]
fn empty_enum_strings_and_nulls_are_unset() {
    // Go-based exporters write unset enums as "" (and some tools write null).
    let exported: EcsServiceSpec = serde_json::from_value(json!({
        "cluster": "apps", "taskDefinition": "web",
        "launchType": "", "schedulingStrategy": "", "propagateTags": "",
        "availabilityZoneRebalancing": "",
        "networkConfiguration": {"awsvpcConfiguration": {"subnets": ["subnet-1"], "assignPublicIp": ""}},
        "loadBalancers": null, "placementConstraints": null, "tags": null, "platformVersion": null
    }))
    .unwrap();
    let written: EcsServiceSpec = serde_json::from_value(json!({
        "cluster": "apps", "taskDefinition": "web",
        "networkConfiguration": {"awsvpcConfiguration": {"subnets": ["subnet-1"]}}
    }))
    .unwrap();
    assert_eq!(exported, written);
    let enums = &spec_schema()["properties"];
    assert!(
        enums["launchType"]["enum"]
            .as_array()
            .unwrap()
            .contains(&json!(""))
    );
}

#[test]
fn field_names_follow_the_ecs_api() {
    let props = spec_schema()["properties"].clone();
    for name in [
        "serviceName",
        "clusterRef",
        "cluster",
        "taskDefinitionRef",
        "taskDefinition",
        "desiredCount",
        "launchType",
        "capacityProviderStrategy",
        "platformVersion",
        "networkConfiguration",
        "loadBalancers",
        "serviceRegistries",
        "healthCheckGracePeriodSeconds",
        "deploymentConfiguration",
        "deploymentController",
        "placementConstraints",
        "placementStrategy",
        "schedulingStrategy",
        "enableExecuteCommand",
        "enableECSManagedTags",
        "propagateTags",
        "serviceConnectConfiguration",
        "availabilityZoneRebalancing",
        "volumeConfigurations",
        "vpcLatticeConfigurations",
        "role",
        "autoscaling",
        "preDeploy",
        "tags",
        "deletionPolicy",
        "region",
    ] {
        assert!(props.get(name).is_some(), "spec.{name} missing");
        assert!(
            props[name].get("description").is_some(),
            "spec.{name} has no description"
        );
    }
    assert_eq!(props.as_object().unwrap().len(), 31);
}

#[test]
fn cel_rules_are_on_the_root_with_messages() {
    let root = crd()["spec"]["versions"][0]["schema"]["openAPIV3Schema"].clone();
    let rules = root["x-kubernetes-validations"].as_array().unwrap();
    assert_eq!(rules.len(), 18);
    assert!(
        rules
            .iter()
            .all(|r| r["message"].as_str().is_some_and(|m| !m.is_empty()))
    );
    let transition = rules
        .iter()
        .filter(|r| r["rule"].as_str().unwrap().contains("oldSelf"))
        .count();
    assert_eq!(transition, 7);
}

#[test]
fn an_ecs_service_definition_pastes_in() {
    let spec: EcsServiceSpec = serde_json::from_value(json!({
        "cluster": "prod",
        "taskDefinition": "web:3",
        "desiredCount": 2,
        "launchType": "FARGATE",
        "networkConfiguration": {"awsvpcConfiguration": {"subnets": ["subnet-1"], "assignPublicIp": "ENABLED"}},
        "loadBalancers": [{"targetGroupArn": "arn:tg", "containerName": "web", "containerPort": 80}],
        "deploymentConfiguration": {"deploymentCircuitBreaker": {"enable": true, "rollback": true}},
        "deploymentController": {"type": "ECS"},
        "placementConstraints": [{"type": "distinctInstance"}],
        "enableECSManagedTags": true,
        "serviceConnectConfiguration": {"enabled": true, "services": [{"portName": "http", "clientAliases": [{"port": 80}]}]},
    }))
    .unwrap();
    assert_eq!(spec.enable_ecs_managed_tags, Some(true));
    assert_eq!(spec.deployment_controller.as_ref().unwrap().type_, "ECS");
    assert_eq!(spec.deletion_policy, DeletionPolicy::Delete);
    let back = serde_json::to_value(&spec).unwrap();
    assert_eq!(back["enableECSManagedTags"], true);
    assert_eq!(
        back["placementConstraints"],
        json!([{"type": "distinctInstance"}])
    );
    assert!(back.get("tags").is_none() && back.get("serviceName").is_none());
}
