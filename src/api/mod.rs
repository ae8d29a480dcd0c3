//! The custom resources of `ecs.operator.dev/v1alpha1`: their specs mirror the ECS API JSON so an
//! existing definition pastes in unchanged; their statuses carry what ECS reports.

pub mod capacity_provider;
pub mod cluster;
pub mod common;
pub mod schedule;
pub mod service;
pub mod task;
pub mod task_definition;

pub use capacity_provider::{
    EcsCapacityProvider, EcsCapacityProviderSpec, EcsCapacityProviderStatus,
};
pub use cluster::{EcsCluster, EcsClusterSpec, EcsClusterStatus};
pub use common::{
    CapacityProviderStrategyItem, DeletionPolicy, KeyValuePair, LocalObjectReference, Tag,
};
pub use schedule::{EcsScheduledTask, EcsScheduledTaskSpec, EcsScheduledTaskStatus};
pub use service::{
    AutoscalingStatus, EcsService, EcsServiceSpec, EcsServiceStatus, PreDeployStatus,
    PreDeployTask, ServiceAutoscaling, StoppedTasksStatus,
};
pub use task::{EcsTask, EcsTaskSpec, EcsTaskStatus};
pub use task_definition::{EcsTaskDefinition, EcsTaskDefinitionSpec, EcsTaskDefinitionStatus};

/// API group of every kind here.
pub const GROUP: &str = "ecs.operator.dev";

/// Finalizer that holds an object until its ECS counterpart is cleaned up (or retained).
pub const FINALIZER: &str = "ecs.operator.dev/cleanup";
/// Annotation that allows taking over an existing, untagged ECS object of the same name.
pub const ADOPT_ANNOTATION: &str = "ecs.operator.dev/adopt";
/// Annotation whose change forces a new deployment of a service (`kubectl rollout restart` for ECS).
pub const RESTARTED_AT_ANNOTATION: &str = "ecs.operator.dev/restartedAt";

/// ECS tag: `<namespace>/<name>` of the owning object.
pub const OWNER_TAG: &str = "ecs.operator.dev/owner";
/// ECS tag: uid of the owning object.
pub const UID_TAG: &str = "ecs.operator.dev/uid";
/// ECS tag: uid of the kube-system namespace, which tells two Kubernetes clusters apart.
pub const CLUSTER_ID_TAG: &str = "ecs.operator.dev/cluster-id";
/// ECS tag on task definition revisions: hash of the spec that registered the revision.
pub const SPEC_HASH_TAG: &str = "ecs.operator.dev/spec-hash";

/// Field manager for everything the operator writes (status only).
pub const FIELD_MANAGER: &str = "ecs-operator";

/// All CustomResourceDefinitions, in the order they are printed and installed.
pub fn crds()
-> Vec<k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition>
{
    use kube::CustomResourceExt;
    vec![
        EcsCluster::crd(),
        EcsTaskDefinition::crd(),
        EcsService::crd(),
        EcsTask::crd(),
        EcsScheduledTask::crd(),
        EcsCapacityProvider::crd(),
    ]
}

/// Writes the CRDs as YAML: one file per kind into `dir`, or one multi-document stream to stdout.
/// `yaml` with the plain scalars YAML 1.1 reads as booleans (`OFF`, `on`, `yes`, `N`, ...)
/// quoted. serde_yaml writes YAML 1.2, where they are strings, but kubectl and the API server
/// read YAML 1.1: an unquoted `- OFF` in an enum became `false` there.
pub fn yaml_1_1_safe(yaml: &str) -> String {
    const BOOLEANS: [&str; 22] = [
        "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "true", "True", "TRUE", "false",
        "False", "FALSE", "on", "On", "ON", "off", "Off", "OFF",
    ];
    let mut out = String::with_capacity(yaml.len());
    for line in yaml.lines() {
        let value_at = line
            .trim_start()
            .strip_prefix("- ")
            .map(|rest| line.len() - rest.len())
            .or_else(|| line.find(": ").map(|i| i + 2));
        match value_at {
            // serde_yaml writes real booleans as true/false: only those in an enum's list or a
            // default of a string field can be these words, and they are strings.
            Some(at)
                if BOOLEANS.contains(&&line[at..]) && !matches!(&line[at..], "true" | "false") =>
            {
                out.push_str(&line[..at]);
                out.push_str(&format!("'{}'", &line[at..]));
            }
            _ => out.push_str(line),
        }
        out.push('\n');
    }
    out
}

pub fn write_crds(dir: Option<&std::path::Path>) -> std::io::Result<()> {
    use std::io::Write;
    let to_yaml = |crd| {
        serde_yaml::to_string(&crd)
            .map(|yaml| yaml_1_1_safe(&yaml))
            .map_err(std::io::Error::other)
    };
    match dir {
        Some(dir) => {
            std::fs::create_dir_all(dir)?;
            for crd in crds() {
                let file = dir.join(format!(
                    "{}.yaml",
                    crd.metadata.name.clone().unwrap_or_default()
                ));
                std::fs::write(file, to_yaml(crd)?)?;
            }
        }
        None => {
            let mut out = std::io::stdout().lock();
            for crd in crds() {
                writeln!(out, "---\n{}", to_yaml(crd)?.trim_end())?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_yaml_1_1_reads_as_booleans_are_quoted() {
        let yaml = "enum:\n- OFF\n- FLEXIBLE\nserved: true\nmode: on\nname: offline\n";
        assert_eq!(
            yaml_1_1_safe(yaml),
            "enum:\n- 'OFF'\n- FLEXIBLE\nserved: true\nmode: 'on'\nname: offline\n"
        );
    }
}
