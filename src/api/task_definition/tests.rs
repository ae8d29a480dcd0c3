use kube::CustomResourceExt;
use serde_json::{Value, json};

use super::*;

fn schema() -> Value {
    let crd = serde_json::to_value(EcsTaskDefinition::crd()).unwrap();
    crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"].clone()
}

fn rules(schema: &Value) -> Vec<String> {
    schema["x-kubernetes-validations"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|rule| rule["rule"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn crd_names_and_columns() {
    let crd = EcsTaskDefinition::crd();
    assert_eq!(
        crd.metadata.name.as_deref(),
        Some("ecstaskdefinitions.ecs.operator.dev")
    );
    assert_eq!(crd.spec.names.short_names, Some(vec!["ecstd".to_string()]));
    assert_eq!(crd.spec.names.categories, Some(vec!["ecs".to_string()]));
    assert_eq!(crd.spec.scope, "Namespaced");
    let version = &crd.spec.versions[0];
    assert!(version.subresources.as_ref().unwrap().status.is_some());
    let columns: Vec<&str> = version
        .additional_printer_columns
        .iter()
        .flatten()
        .map(|column| column.name.as_str())
        .collect();
    assert_eq!(columns, ["Ready", "Family", "Revision", "Age"]);
}

#[test]
fn family_and_region_are_immutable() {
    let root_rules = rules(&schema());
    assert!(
        root_rules
            .iter()
            .any(|rule| rule.contains("self.spec.family : self.metadata.name) == (has(oldSelf.spec.family) ? oldSelf.spec.family : oldSelf.metadata.name)"))
    );
    assert!(
        root_rules
            .iter()
            .any(|rule| rule.contains("self.spec.region == oldSelf.spec.region"))
    );
}

#[test]
fn every_container_index_has_a_port_uniqueness_rule() {
    let spec_rules = rules(&schema()["properties"]["spec"]);
    for index in 0..MAX_CONTAINERS {
        let guard = format!("size(self.containerDefinitions) <= {index} ||");
        assert!(
            spec_rules.iter().any(|rule| rule.starts_with(&guard)),
            "no port rule for container {index}"
        );
    }
    let guard = format!("size(self.containerDefinitions) <= {MAX_CONTAINERS} ||");
    assert!(!spec_rules.iter().any(|rule| rule.starts_with(&guard)));
}

#[test]
fn lists_used_by_rules_are_bounded_and_keyed_lists_are_maps() {
    let spec = &schema()["properties"]["spec"];
    let containers = &spec["properties"]["containerDefinitions"];
    assert_eq!(containers["maxItems"], json!(MAX_CONTAINERS));
    assert_eq!(containers["x-kubernetes-list-type"], "map");
    assert_eq!(containers["x-kubernetes-list-map-keys"], json!(["name"]));
    let container = &containers["items"]["properties"];
    assert_eq!(container["portMappings"]["maxItems"], json!(100));
    assert_eq!(
        container["portMappings"]["items"]["properties"]["protocol"]["maxLength"],
        json!(3)
    );
    for (list, key) in [
        ("environment", "name"),
        ("secrets", "name"),
        ("dependsOn", "containerName"),
        ("ulimits", "name"),
    ] {
        assert_eq!(container[list]["x-kubernetes-list-type"], "map", "{list}");
        assert_eq!(
            container[list]["x-kubernetes-list-map-keys"],
            json!([key]),
            "{list}"
        );
    }
    assert_eq!(
        spec["properties"]["requiresCompatibilities"]["maxItems"],
        json!(4)
    );
    assert_eq!(
        spec["properties"]["requiresCompatibilities"]["x-kubernetes-list-type"],
        "set"
    );
    assert_eq!(
        spec["properties"]["tags"]["x-kubernetes-list-map-keys"],
        json!(["key"])
    );
    for string in ["cpu", "memory", "family", "region"] {
        assert!(
            spec["properties"][string]["maxLength"].is_number(),
            "{string}"
        );
    }
}

#[test]
fn fargate_memory_message_names_the_valid_values() {
    let rule = serde_json::to_value(fargate_memory_rule()).unwrap();
    let message = rule["messageExpression"].as_str().unwrap();
    assert!(message.contains("'512, 1024 or 2048'"), "{message}");
    assert!(message.contains("'1024, 2048, 3072 or 4096'"), "{message}");
    assert!(
        message.contains("'32768 to 122880 in steps of 8192'"),
        "{message}"
    );
    for (_, memory) in &FARGATE_SIZES {
        if let FargateMemory::Steps { min, max, step } = memory {
            assert_eq!(
                (min % step, max % step),
                (0, 0),
                "the CEL check relies on multiples of step"
            );
        }
    }
}

#[test]
fn ecs_json_names_round_trip() {
    let spec = json!({
        "containerDefinitions": [{
            "name": "app",
            "image": "nginx",
            "environmentFiles": [{"value": "arn:aws:s3:::b/app.env", "type": "s3"}],
            "resourceRequirements": [{"type": "GPU", "sharingStrategy": {"nvidiaMps": {"memory": 1024}}}],
            "firelensConfiguration": {"type": "fluentbit"},
            "readonlyRootFilesystem": true
        }],
        "ephemeralStorage": {"sizeInGiB": 30},
        "placementConstraints": [{"type": "memberOf", "expression": "attribute:ecs.os-type == linux"}],
        "proxyConfiguration": {"type": "APPMESH", "containerName": "envoy"},
        "volumes": [{"name": "s3", "s3filesVolumeConfiguration": {"fileSystemArn": "arn:fs"}},
                    {"name": "fsx", "fsxWindowsFileServerVolumeConfiguration": {"fileSystemId": "fs-1", "rootDirectory": "\\share"}}],
        "deletionPolicy": "Delete"
    });
    let parsed: EcsTaskDefinitionSpec = serde_json::from_value(spec.clone()).unwrap();
    assert_eq!(parsed.ephemeral_storage.as_ref().unwrap().size_in_gib, 30);
    assert_eq!(serde_json::to_value(&parsed).unwrap(), spec);
}

#[test]
fn describe_output_fields_are_declared_and_optional_enums_take_empty_and_null() {
    let spec = &schema()["properties"]["spec"]["properties"];
    for field in OUTPUT_ONLY_FIELDS {
        assert!(spec.get(field).is_some(), "spec.{field} is not declared");
    }
    assert_eq!(
        spec["registeredAt"]["x-kubernetes-preserve-unknown-fields"],
        json!(true)
    );
    for optional_enum in ["networkMode", "pidMode", "ipcMode"] {
        let values = spec[optional_enum]["enum"].as_array().unwrap();
        assert!(values.contains(&json!("")), "{optional_enum}");
        // Not nullable, so that the API server drops a null instead of refusing it.
        assert_eq!(spec[optional_enum].get("nullable"), None, "{optional_enum}");
    }
}

#[test]
fn a_rule_over_containers_names_the_first_bad_one_by_index() {
    let name = first_container_name("$c.privileged");
    for index in 0..MAX_CONTAINERS {
        assert!(name.contains(&format!(
            "size(self.containerDefinitions) > {index} && self.containerDefinitions[{index}].privileged ? self.containerDefinitions[{index}].name"
        )));
    }
    assert!(!name.contains(&format!("[{MAX_CONTAINERS}]")));
    let rule = serde_json::to_value(fargate_privileged_rule()).unwrap();
    assert!(
        rule["rule"]
            .as_str()
            .unwrap()
            .ends_with("!self.containerDefinitions.exists(c, has(c.privileged) && c.privileged)")
    );
}

#[test]
fn defaults_for_family_and_history() {
    let mut spec = EcsTaskDefinitionSpec::default();
    assert_eq!(spec.family_or("web"), "web");
    assert_eq!(spec.revision_history_limit_or_default(), 10);
    spec.family = Some("shop-web".into());
    spec.revision_history_limit = Some(0);
    assert_eq!(spec.family_or("web"), "shop-web");
    assert_eq!(spec.revision_history_limit_or_default(), 1);
}
