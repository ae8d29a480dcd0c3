//! Whether a reconcile of an EcsTaskDefinition registers a new revision, and why: computed from
//! the family's newest ACTIVE revision (its ownership and spec-hash tags). The controller acts
//! on it; `ecs-operator diff` prints it. Pure: no client.

use std::collections::BTreeMap;

use aws_sdk_ecs::types::{ContainerDefinition, TaskDefinition};

use crate::Result;
use crate::api::task_definition::EcsTaskDefinitionSpec;
use crate::mapping::tags::{self, Ownership};

/// Why a new revision is registered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Registration {
    /// The family has no ACTIVE revision and this object registered none before.
    Created,
    /// This object's spec changed since its newest revision.
    Updated,
    /// The newest revision is not this object's although it registered one before: someone
    /// registered or deregistered behind its back, and the spec wins.
    DriftCorrected,
    /// A family created outside the operator (or retained by an earlier object), taken over
    /// with the adopt annotation.
    Adopted,
}

impl Registration {
    /// The reason of the Normal event that announces the registration.
    pub fn reason(self) -> &'static str {
        match self {
            Registration::Created => "Created",
            Registration::Updated => "Updated",
            Registration::DriftCorrected => "DriftCorrected",
            Registration::Adopted => "Adopted",
        }
    }

    /// Why, as `ecs-operator diff` says it.
    pub fn describe(self) -> &'static str {
        match self {
            Registration::Created => "the family has no ACTIVE revision",
            Registration::Updated => "the spec changed",
            Registration::DriftCorrected => "the newest revision is not the spec's",
            Registration::Adopted => "adopts the family",
        }
    }

    /// The note of the RevisionRegistered event for revision `arn` of `family`.
    pub fn note(self, family: &str, arn: &str) -> String {
        match self {
            Registration::Adopted => format!("adopted family {family} and registered {arn}"),
            Registration::DriftCorrected => {
                format!("the newest revision of {family} did not match the spec; registered {arn}")
            }
            Registration::Created | Registration::Updated => format!("registered {arn}"),
        }
    }
}

/// What is known of the family's newest ACTIVE revision: whose it is, and whether its spec-hash
/// tag is this spec's.
pub struct Newest {
    pub ownership: Ownership,
    pub same_spec: bool,
}

/// Whether to register a revision (None: the newest is this object's, from this spec).
/// `managed_before`: this object recorded a revision earlier; `adopt`: it carries the adopt
/// annotation; `what` names the family in a refusal.
///
/// Errors: the refusal (an ownership conflict) when the newest revision is someone else's and
/// may not be taken over.
pub fn registration(
    newest: Option<Newest>,
    managed_before: bool,
    adopt: bool,
    what: &str,
) -> Result<Option<Registration>, String> {
    let Some(newest) = newest else {
        return Ok(Some(if managed_before {
            Registration::DriftCorrected
        } else {
            Registration::Created
        }));
    };
    Ok(match newest.ownership {
        Ownership::Ours if newest.same_spec => None,
        Ownership::Ours => Some(Registration::Updated),
        // A revision registered behind the operator's back is drift: the spec wins.
        Ownership::Unowned if managed_before => Some(Registration::DriftCorrected),
        ownership => {
            tags::claim(ownership, adopt, what)?;
            Some(Registration::Adopted)
        }
    })
}

/// Whether a revision ECS describes (`described`: DescribeTaskDefinition's JSON) is what `spec`
/// registers as family `family`: both read the way `ecs-operator import` reads ECS's answer, so
/// that the values ECS fills in (a container's `cpu: 0`, `essential: true`, derived host ports,
/// ...) and the fields only ECS sets count the same whether a spec leaves them out (written by
/// hand, or imported) or carries them (pasted from describe output). Adopting a family whose
/// newest revision is what the spec describes then registers nothing.
pub fn describes(
    spec: &EcsTaskDefinitionSpec,
    family: &str,
    described: &serde_json::Value,
) -> bool {
    let read = |definition: serde_json::Value| {
        crate::mapping::import::task_definition_spec(&serde_json::json!({
            "taskDefinition": definition
        }))
        .map(|spec| super::spec_hash(&spec))
        .ok()
    };
    let Ok(mut wanted) = serde_json::to_value(spec) else {
        return false;
    };
    wanted["family"] = family.into();
    let (want, have) = (read(wanted), read(described["taskDefinition"].clone()));
    want.is_some() && want == have
}

/// What a new revision changes against `current` (the family's newest), as a reviewer reads
/// it: "cpu 256 → 512", "containerDefinitions[web].image nginx:1.27 → nginx:1.28",
/// "containerDefinitions[worker] added". Only what the spec sets is compared (ECS fills in
/// defaults for the rest), and the fields people change most are itemized; the rest reads
/// "other fields of the spec" when nothing itemized differs. The decision to register is
/// [`registration`]'s (by spec hash), never this list's.
pub fn changes(spec: &EcsTaskDefinitionSpec, current: &TaskDefinition) -> Result<Vec<String>> {
    let desired = super::register_input(spec, "diff", Vec::new())?;
    let mut changes = Vec::new();
    compare(
        &mut changes,
        "cpu".into(),
        desired.get_cpu().clone(),
        current.cpu().map(str::to_string),
    );
    compare(
        &mut changes,
        "memory".into(),
        desired.get_memory().clone(),
        current.memory().map(str::to_string),
    );
    compare(
        &mut changes,
        "networkMode".into(),
        desired
            .get_network_mode()
            .as_ref()
            .map(|m| m.as_str().to_string()),
        current.network_mode().map(|m| m.as_str().to_string()),
    );
    compare(
        &mut changes,
        "taskRoleArn".into(),
        desired.get_task_role_arn().clone(),
        current.task_role_arn().map(str::to_string),
    );
    compare(
        &mut changes,
        "executionRoleArn".into(),
        desired.get_execution_role_arn().clone(),
        current.execution_role_arn().map(str::to_string),
    );
    let wanted = desired
        .get_container_definitions()
        .clone()
        .unwrap_or_default();
    for want in &wanted {
        let name = want.name().unwrap_or_default();
        let field = |f: &str| format!("containerDefinitions[{name}].{f}");
        let Some(have) = current
            .container_definitions()
            .iter()
            .find(|c| c.name() == want.name())
        else {
            changes.push(format!("containerDefinitions[{name}] added"));
            continue;
        };
        compare(
            &mut changes,
            field("image"),
            want.image().map(str::to_string),
            have.image().map(str::to_string),
        );
        compare(
            &mut changes,
            field("cpu"),
            Some(want.cpu).filter(|c| *c != 0).map(|c| c.to_string()),
            Some(have.cpu.to_string()),
        );
        compare(
            &mut changes,
            field("memory"),
            want.memory.map(|m| m.to_string()),
            have.memory.map(|m| m.to_string()),
        );
        compare(
            &mut changes,
            field("memoryReservation"),
            want.memory_reservation.map(|m| m.to_string()),
            have.memory_reservation.map(|m| m.to_string()),
        );
        compare(
            &mut changes,
            field("essential"),
            want.essential.map(|e| e.to_string()),
            have.essential.map(|e| e.to_string()),
        );
        compare(
            &mut changes,
            field("command"),
            joined(want.command()),
            joined(have.command()),
        );
        compare(
            &mut changes,
            field("entryPoint"),
            joined(want.entry_point()),
            joined(have.entry_point()),
        );
        let (want_env, have_env) = (environment(want), environment(have));
        for (key, value) in &want_env {
            compare(
                &mut changes,
                field(&format!("environment.{key}")),
                Some(value.clone()),
                have_env.get(key).cloned(),
            );
        }
        for key in have_env.keys().filter(|k| !want_env.contains_key(*k)) {
            changes.push(format!("{} removed", field(&format!("environment.{key}"))));
        }
    }
    for have in current.container_definitions() {
        if !wanted.iter().any(|w| w.name() == have.name()) {
            changes.push(format!(
                "containerDefinitions[{}] removed",
                have.name().unwrap_or_default()
            ));
        }
    }
    Ok(changes)
}

/// Notes `field` when the spec sets it (`want`) and ECS has another value.
fn compare(changes: &mut Vec<String>, field: String, want: Option<String>, have: Option<String>) {
    if want.is_some() && want != have {
        changes.push(format!("{field} {} → {}", shown(have), shown(want)));
    }
}

fn shown(value: Option<String>) -> String {
    value.unwrap_or_else(|| "unset".into())
}

fn joined(items: &[String]) -> Option<String> {
    (!items.is_empty()).then(|| format!("[{}]", items.join(" ")))
}

fn environment(container: &ContainerDefinition) -> BTreeMap<String, String> {
    container
        .environment()
        .iter()
        .filter_map(|pair| Some((pair.name()?.to_string(), pair.value()?.to_string())))
        .collect()
}

#[cfg(test)]
mod tests {
    use aws_sdk_ecs::types::KeyValuePair;

    use super::*;

    fn newest(ownership: Ownership, same_spec: bool) -> Option<Newest> {
        Some(Newest {
            ownership,
            same_spec,
        })
    }

    #[test]
    fn a_revision_is_registered_only_when_the_newest_is_not_this_spec() {
        let what = "the task definition family web in us-east-1";
        assert_eq!(
            registration(None, false, false, what),
            Ok(Some(Registration::Created))
        );
        assert_eq!(
            registration(None, true, false, what),
            Ok(Some(Registration::DriftCorrected))
        );
        assert_eq!(
            registration(newest(Ownership::Ours, true), true, false, what),
            Ok(None)
        );
        assert_eq!(
            registration(newest(Ownership::Ours, false), true, false, what),
            Ok(Some(Registration::Updated))
        );
        assert_eq!(
            registration(newest(Ownership::Unowned, false), true, false, what),
            Ok(Some(Registration::DriftCorrected))
        );
        assert_eq!(
            registration(newest(Ownership::Unowned, false), false, true, what),
            Ok(Some(Registration::Adopted))
        );
    }

    #[test]
    fn someone_elses_family_is_refused_with_what_to_do() {
        let refused = registration(
            newest(Ownership::Unowned, false),
            false,
            false,
            "the task definition family web in us-east-1",
        )
        .unwrap_err();
        assert!(refused.contains("ecs.operator.dev/adopt"), "{refused}");
        let foreign = Ownership::Foreign {
            owner: "other/web".into(),
        };
        assert!(registration(newest(foreign, true), false, true, "web").is_err());
    }

    #[test]
    fn changes_name_the_container_and_the_values() {
        let spec: EcsTaskDefinitionSpec = serde_json::from_value(serde_json::json!({
            "family": "web", "cpu": "512", "memory": "1024",
            "requiresCompatibilities": ["FARGATE"], "networkMode": "awsvpc",
            "containerDefinitions": [
                {"name": "web", "image": "nginx:1.28", "essential": true,
                 "environment": [{"name": "MODE", "value": "blue"}]},
                {"name": "worker", "image": "worker:1"}
            ]
        }))
        .unwrap();
        let current = TaskDefinition::builder()
            .cpu("256")
            .memory("1024")
            .network_mode(aws_sdk_ecs::types::NetworkMode::Awsvpc)
            .container_definitions(
                ContainerDefinition::builder()
                    .name("web")
                    .image("nginx:1.27")
                    .essential(true)
                    .environment(KeyValuePair::builder().name("MODE").value("green").build())
                    .environment(KeyValuePair::builder().name("OLD").value("1").build())
                    .build(),
            )
            .container_definitions(ContainerDefinition::builder().name("sidecar").build())
            .build();
        assert_eq!(
            changes(&spec, &current).unwrap(),
            [
                "cpu 256 → 512",
                "containerDefinitions[web].image nginx:1.27 → nginx:1.28",
                "containerDefinitions[web].environment.MODE green → blue",
                "containerDefinitions[web].environment.OLD removed",
                "containerDefinitions[worker] added",
                "containerDefinitions[sidecar] removed",
            ]
        );
    }

    #[test]
    fn a_revision_is_described_by_a_spec_with_or_without_what_ecs_fills_in() {
        let described = serde_json::json!({"taskDefinition": {
            "taskDefinitionArn": "arn:aws:ecs:us-east-1:123456789012:task-definition/web:1",
            "family": "web", "revision": 1, "status": "ACTIVE", "networkMode": "awsvpc",
            "containerDefinitions": [{
                "name": "web", "image": "nginx:1.27", "cpu": 0, "essential": true, "memory": 512,
                "portMappings": [{"containerPort": 80, "hostPort": 80, "protocol": "tcp"}],
                "environment": [], "mountPoints": [], "volumesFrom": [], "systemControls": []
            }]
        }});
        let by_hand: EcsTaskDefinitionSpec = serde_json::from_value(serde_json::json!({
            "networkMode": "awsvpc",
            "containerDefinitions": [{"name": "web", "image": "nginx:1.27", "memory": 512,
                                      "portMappings": [{"containerPort": 80}]}]
        }))
        .unwrap();
        assert!(describes(&by_hand, "web", &described));
        let pasted: EcsTaskDefinitionSpec =
            serde_json::from_value(described["taskDefinition"].clone()).unwrap();
        assert!(describes(&pasted, "web", &described));
        let mut other = by_hand.clone();
        other.container_definitions[0].image = "nginx:1.28".into();
        assert!(!describes(&other, "web", &described));
        assert!(!describes(&by_hand, "api", &described));
    }
}
