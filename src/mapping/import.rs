//! ECS's answers (as JSON) to manifests a person would write: `ecs-operator import`. Fields
//! ECS reports but does not take (ARNs, counts, timestamps) are dropped, and so are the values
//! ECS fills in when a request leaves them out, each default from the table of the emulator's
//! FACTS.md ("Response shapes: defaults ECS fills in") and the ECS API reference, so that the
//! manifest reads as what was asked for. Every spec then goes through its typed kind, which
//! drops what the kind does not declare. Pure: no client.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use crate::api::task_definition::OUTPUT_ONLY_FIELDS;
use crate::api::{ADOPT_ANNOTATION, EcsClusterSpec, EcsServiceSpec, EcsTaskDefinitionSpec};
use crate::{Error, Result};

/// Where imported objects go: their namespace, and the region they were imported from (written
/// into every spec, so that applying them acts there whatever the operator's own region).
pub struct Target<'a> {
    pub namespace: &'a str,
    pub region: Option<&'a str>,
}

/// Object names of one kind, kept unique: ECS names that map to a name already taken ("web_api"
/// and "web-api" both read "web-api") get "-2", "-3", ... so that no object replaces another.
#[derive(Default)]
pub struct Names {
    taken: std::collections::BTreeSet<String>,
}

impl Names {
    /// The object name for `ecs_name`, not taken before.
    pub fn claim(&mut self, ecs_name: &str) -> String {
        let base = object_name(ecs_name);
        let mut name = base.clone();
        let mut n = 2;
        while !self.taken.insert(name.clone()) {
            let suffix = format!("-{n}");
            let mut stem = base.clone();
            stem.truncate(63 - suffix.len());
            name = format!("{}{suffix}", stem.trim_end_matches('-'));
            n += 1;
        }
        name
    }
}

/// A Kubernetes object name for an ECS name: lower case, `-` for what a DNS label does not
/// take, at most 63 characters ("web_API" → "web-api").
pub fn object_name(ecs_name: &str) -> String {
    let mut name: String = ecs_name
        .chars()
        .map(|c| match c.to_ascii_lowercase() {
            c @ ('a'..='z' | '0'..='9') => c,
            _ => '-',
        })
        .collect();
    name.truncate(63);
    let name = name.trim_matches('-').to_string();
    if name.is_empty() { "ecs".into() } else { name }
}

/// The spec of a task definition revision, from DescribeTaskDefinition's
/// `{"taskDefinition": ..., "tags": ...}`. Also what adoption compares a spec with: an imported
/// spec is the spec of the revision it came from.
pub fn task_definition_spec(described: &Value) -> Result<EcsTaskDefinitionSpec> {
    let mut spec = described["taskDefinition"].clone();
    let fields = object(&mut spec);
    for field in OUTPUT_ONLY_FIELDS {
        fields.remove(field);
    }
    let network_mode = fields
        .get("networkMode")
        .and_then(Value::as_str)
        .unwrap_or("bridge")
        .to_string();
    if let Some(Value::Array(containers)) = fields.get_mut("containerDefinitions") {
        for container in containers {
            strip_container(container, &network_mode);
        }
    }
    if let Some(Value::Array(volumes)) = fields.get_mut("volumes") {
        for volume in volumes {
            let volume = object(volume);
            remove_if(volume, "configuredAtLaunch", &json!(false));
            if let Some(efs) = volume.get_mut("efsVolumeConfiguration") {
                remove_if(object(efs), "rootDirectory", &json!("/"));
            }
        }
    }
    fields.insert("tags".into(), user_tags(&described["tags"]));
    typed(spec, "task definition")
}

/// A container as DescribeTaskDefinition reports it, back to what was registered: `cpu` 0,
/// `essential` true, port mappings' `tcp` and the host port ECS derives (the container port in
/// awsvpc and host mode, 0 in bridge mode), the health check's interval 30, timeout 5 and
/// retries 3; environment variables sorted by name (ECS does not keep their order).
fn strip_container(container: &mut Value, network_mode: &str) {
    let container = object(container);
    remove_if(container, "cpu", &json!(0));
    remove_if(container, "essential", &json!(true));
    if let Some(Value::Array(mappings)) = container.get_mut("portMappings") {
        for mapping in mappings {
            let mapping = object(mapping);
            remove_if(mapping, "protocol", &json!("tcp"));
            let derived = match network_mode {
                "awsvpc" | "host" => mapping.get("containerPort").cloned(),
                _ => Some(json!(0)),
            };
            if let Some(derived) = derived {
                remove_if(mapping, "hostPort", &derived);
            }
        }
    }
    if let Some(check) = container.get_mut("healthCheck") {
        let check = object(check);
        remove_if(check, "interval", &json!(30));
        remove_if(check, "timeout", &json!(5));
        remove_if(check, "retries", &json!(3));
    }
    if let Some(Value::Array(environment)) = container.get_mut("environment") {
        environment.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
    }
}

/// The spec of a cluster, from one of DescribeClusters' `clusters` (with settings,
/// configurations and tags).
pub fn cluster_spec(cluster: &Value) -> Result<EcsClusterSpec> {
    let mut spec = Map::new();
    copy(
        cluster,
        &mut spec,
        &[
            "clusterName",
            "capacityProviders",
            "defaultCapacityProviderStrategy",
        ],
    );
    // containerInsights "disabled" is every cluster's setting unless asked otherwise.
    let settings: Vec<Value> = cluster["settings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|s| !(s["name"] == "containerInsights" && s["value"] == "disabled"))
        .cloned()
        .collect();
    spec.insert("settings".into(), Value::Array(settings));
    let mut configuration = cluster["configuration"].clone();
    if let Some(exec) = configuration.get_mut("executeCommandConfiguration") {
        remove_if(object(exec), "logging", &json!("DEFAULT"));
    }
    spec.insert("configuration".into(), configuration);
    if let Some(namespace) = cluster["serviceConnectDefaults"]["namespace"].as_str() {
        spec.insert(
            "serviceConnectDefaults".into(),
            json!({"namespace": namespace}),
        );
    }
    spec.insert("tags".into(), user_tags(&cluster["tags"]));
    typed(Value::Object(spec), "cluster")
}

/// The spec of a service, from one of DescribeServices' `services` (with tags), on the
/// EcsCluster `cluster_ref` (whose default capacity provider strategy a service on it reports as
/// its own: left out again) and following the EcsTaskDefinition `task_definition_ref`.
/// desiredCount is left out: whoever scales the service keeps owning the count.
pub fn service_spec(
    service: &Value,
    cluster_default_strategy: &Value,
    cluster_ref: &str,
    task_definition_ref: &str,
) -> Result<EcsServiceSpec> {
    let mut spec = Map::new();
    copy(
        service,
        &mut spec,
        &[
            "serviceName",
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
            "availabilityZoneRebalancing",
        ],
    );
    spec.insert("clusterRef".into(), json!({"name": cluster_ref}));
    spec.insert(
        "taskDefinitionRef".into(),
        json!({"name": task_definition_ref}),
    );
    if spec
        .get("capacityProviderStrategy")
        .is_some_and(|strategy| same_strategy(strategy, cluster_default_strategy))
    {
        spec.remove("capacityProviderStrategy");
    }
    let daemon = service["schedulingStrategy"] == "DAEMON";
    remove_if(&mut spec, "platformVersion", &json!("LATEST"));
    remove_if(&mut spec, "healthCheckGracePeriodSeconds", &json!(0));
    remove_if(&mut spec, "deploymentController", &json!({"type": "ECS"}));
    remove_if(&mut spec, "schedulingStrategy", &json!("REPLICA"));
    remove_if(&mut spec, "enableExecuteCommand", &json!(false));
    remove_if(&mut spec, "enableECSManagedTags", &json!(false));
    remove_if(&mut spec, "propagateTags", &json!("NONE"));
    remove_if(&mut spec, "availabilityZoneRebalancing", &json!("ENABLED"));
    if let Some(network) = spec.get_mut("networkConfiguration")
        && let Some(awsvpc) = network.get_mut("awsvpcConfiguration")
    {
        remove_if(object(awsvpc), "assignPublicIp", &json!("DISABLED"));
    }
    if let Some(config) = spec.get_mut("deploymentConfiguration") {
        let config = object(config);
        let (maximum, minimum) = if daemon { (100, 0) } else { (200, 100) };
        remove_if(config, "maximumPercent", &json!(maximum));
        remove_if(config, "minimumHealthyPercent", &json!(minimum));
        remove_if(
            config,
            "deploymentCircuitBreaker",
            &json!({"enable": false, "rollback": false}),
        );
        remove_if(config, "strategy", &json!("ROLLING"));
        remove_if(config, "bakeTimeInMinutes", &json!(0));
    }
    spec.insert("tags".into(), user_tags(&service["tags"]));
    typed(Value::Object(spec), "service")
}

/// The manifest of an imported object: the adopt annotation (the operator takes the ECS
/// object over instead of refusing it) and `deletionPolicy: Retain` (deleting the Kubernetes
/// object leaves what ran before the operator in place; set Delete to have it removed).
pub fn manifest<K>(name: &str, target: &Target, spec: impl serde::Serialize) -> Result<Value>
where
    K: kube::Resource<DynamicType = ()>,
{
    let mut spec = serde_json::to_value(spec).map_err(Error::Serialization)?;
    object(&mut spec).insert("deletionPolicy".into(), json!("Retain"));
    if let Some(region) = target.region {
        object(&mut spec).insert("region".into(), json!(region));
    }
    let mut manifest = json!({
        "apiVersion": K::api_version(&()),
        "kind": K::kind(&()),
        "metadata": {
            "name": name,
            "namespace": target.namespace,
            "annotations": {ADOPT_ANNOTATION: "true"},
        },
        "spec": spec,
    });
    prune(&mut manifest);
    Ok(manifest)
}

/// Tags a person set: neither AWS's (`aws:`) nor the operator's own (`ecs.operator.dev/`).
fn user_tags(tags: &Value) -> Value {
    Value::Array(
        tags.as_array()
            .into_iter()
            .flatten()
            .filter(|t| {
                let key = t["key"].as_str().unwrap_or_default();
                !key.starts_with("aws:") && !key.starts_with("ecs.operator.dev/")
            })
            .cloned()
            .collect(),
    )
}

/// Whether two capacity provider strategies are the same set (ECS reports a base or weight of 0
/// that was never set, so those count as unset).
fn same_strategy(a: &Value, b: &Value) -> bool {
    let normalized = |v: &Value| -> BTreeMap<String, (i64, i64)> {
        v.as_array()
            .into_iter()
            .flatten()
            .map(|item| {
                (
                    item["capacityProvider"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string(),
                    (
                        item["base"].as_i64().unwrap_or(0),
                        item["weight"].as_i64().unwrap_or(0),
                    ),
                )
            })
            .collect()
    };
    !a.is_null() && normalized(a) == normalized(b)
}

fn copy(from: &Value, to: &mut Map<String, Value>, fields: &[&str]) {
    for field in fields {
        if let Some(value) = from.get(*field) {
            to.insert(field.to_string(), value.clone());
        }
    }
}

fn object(value: &mut Value) -> &mut Map<String, Value> {
    if !value.is_object() {
        *value = Value::Object(Map::new());
    }
    value.as_object_mut().expect("made an object above")
}

fn remove_if(fields: &mut Map<String, Value>, key: &str, default: &Value) {
    if fields.get(key) == Some(default) {
        fields.remove(key);
    }
}

/// Drops nulls, empty lists and empty objects, recursively: a manifest leaves them out.
fn prune(value: &mut Value) {
    match value {
        Value::Object(fields) => {
            fields.values_mut().for_each(prune);
            fields.retain(|_, v| !is_empty(v));
        }
        Value::Array(items) => items.iter_mut().for_each(prune),
        _ => {}
    }
}

fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Array(items) => items.is_empty(),
        Value::Object(fields) => fields.is_empty(),
        _ => false,
    }
}

/// `value` as the typed spec of a kind: what the kind does not declare is dropped.
fn typed<T: serde::de::DeserializeOwned>(mut value: Value, what: &str) -> Result<T> {
    prune(&mut value);
    serde_json::from_value(value).map_err(|e| {
        Error::InvalidSpec(format!(
            "the {what} ECS described does not fit the kind: {e}"
        ))
    })
}

#[cfg(test)]
mod tests;
