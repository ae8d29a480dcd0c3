//! EcsCluster spec to ECS CreateCluster / UpdateCluster / PutClusterCapacityProviders, and what
//! differs between the spec and a described cluster.

use std::collections::BTreeSet;

use aws_sdk_ecs::operation::create_cluster::{
    CreateClusterInput, builders::CreateClusterInputBuilder,
};
use aws_sdk_ecs::types as ecs;

use crate::api::cluster::{
    ClusterConfiguration, EcsClusterSpec, EcsClusterStatus, ResolvedNamespace,
};
use crate::api::common::CapacityProviderStrategyItem;

/// What must change on an existing cluster; each part is one ECS call.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClusterDrift {
    /// Settings, configuration or Service Connect defaults differ: UpdateCluster.
    pub update: Vec<&'static str>,
    /// Capacity providers or the default strategy differ: PutClusterCapacityProviders.
    pub capacity_providers: bool,
}

impl ClusterDrift {
    pub fn is_empty(&self) -> bool {
        self.update.is_empty() && !self.capacity_providers
    }

    /// Field names, for events and logs.
    pub fn fields(&self) -> Vec<&'static str> {
        let mut fields = self.update.clone();
        if self.capacity_providers {
            fields.push("capacityProviders");
        }
        fields
    }
}

pub fn create_input(
    spec: &EcsClusterSpec,
    name: &str,
    tags: Vec<ecs::Tag>,
) -> CreateClusterInputBuilder {
    let has_providers = !spec.capacity_providers.is_empty();
    CreateClusterInput::builder()
        .cluster_name(name)
        .set_tags(Some(tags))
        .set_settings(non_empty(settings(spec)))
        .set_configuration(spec.configuration.as_ref().map(configuration))
        .set_capacity_providers(has_providers.then(|| spec.capacity_providers.clone()))
        .set_default_capacity_provider_strategy(non_empty(strategy(
            &spec.default_capacity_provider_strategy,
        )))
        .set_service_connect_defaults(service_connect_defaults(spec))
}

/// The spec as ECS is to have it: `capacityProviders` with the providers `capacityProviderRefs`
/// resolved to (`resolved`, their ECS names). While some references wait (`waiting`), neither
/// providers nor default strategy are sent: the strategy may name a provider not resolved yet,
/// and ECS refuses a strategy whose providers the cluster does not have.
pub fn with_providers(spec: &EcsClusterSpec, resolved: &[String], waiting: bool) -> EcsClusterSpec {
    let mut spec = spec.clone();
    if waiting {
        spec.capacity_providers.clear();
        spec.default_capacity_provider_strategy.clear();
        return spec;
    }
    for name in resolved {
        if !spec.capacity_providers.contains(name) {
            spec.capacity_providers.push(name.clone());
        }
    }
    spec
}

pub fn settings(spec: &EcsClusterSpec) -> Vec<ecs::ClusterSetting> {
    spec.settings
        .iter()
        .map(|s| {
            ecs::ClusterSetting::builder()
                .name(s.name.as_str().into())
                .value(&s.value)
                .build()
        })
        .collect()
}

pub fn configuration(config: &ClusterConfiguration) -> ecs::ClusterConfiguration {
    let execute_command = config.execute_command_configuration.as_ref().map(|e| {
        ecs::ExecuteCommandConfiguration::builder()
            .set_kms_key_id(e.kms_key_id.clone())
            .set_logging(e.logging.as_deref().map(Into::into))
            .set_log_configuration(e.log_configuration.as_ref().map(|l| {
                ecs::ExecuteCommandLogConfiguration::builder()
                    .set_cloud_watch_log_group_name(l.cloud_watch_log_group_name.clone())
                    .set_cloud_watch_encryption_enabled(l.cloud_watch_encryption_enabled)
                    .set_s3_bucket_name(l.s3_bucket_name.clone())
                    .set_s3_encryption_enabled(l.s3_encryption_enabled)
                    .set_s3_key_prefix(l.s3_key_prefix.clone())
                    .build()
            }))
            .build()
    });
    let managed_storage = config.managed_storage_configuration.as_ref().map(|m| {
        ecs::ManagedStorageConfiguration::builder()
            .set_kms_key_id(m.kms_key_id.clone())
            .set_fargate_ephemeral_storage_kms_key_id(
                m.fargate_ephemeral_storage_kms_key_id.clone(),
            )
            .build()
    });
    ecs::ClusterConfiguration::builder()
        .set_execute_command_configuration(execute_command)
        .set_managed_storage_configuration(managed_storage)
        .build()
}

pub fn strategy(items: &[CapacityProviderStrategyItem]) -> Vec<ecs::CapacityProviderStrategyItem> {
    items
        .iter()
        .map(|i| {
            ecs::CapacityProviderStrategyItem::builder()
                .capacity_provider(&i.capacity_provider)
                .set_weight(i.weight)
                .set_base(i.base)
                .build()
                .expect("capacityProvider is required by the schema")
        })
        .collect()
}

pub fn service_connect_defaults(
    spec: &EcsClusterSpec,
) -> Option<ecs::ClusterServiceConnectDefaultsRequest> {
    spec.service_connect_defaults.as_ref().map(|d| {
        ecs::ClusterServiceConnectDefaultsRequest::builder()
            .namespace(&d.namespace)
            .build()
            .expect("namespace is required by the schema")
    })
}

/// Compares only what ECS returned: a section ECS leaves out is not drift.
/// `resolved` is the namespace record of the last status (see [`resolved_namespace`]).
pub fn drift(
    spec: &EcsClusterSpec,
    current: &ecs::Cluster,
    resolved: Option<&ResolvedNamespace>,
) -> ClusterDrift {
    let mut update = Vec::new();

    let current_settings = current.settings();
    let settings_differ = spec.settings.iter().any(|want| {
        current_settings
            .iter()
            .find(|s| s.name().map(|n| n.as_str()) == Some(want.name.as_str()))
            .is_some_and(|have| have.value() != Some(want.value.as_str()))
    });
    if settings_differ {
        update.push("settings");
    }

    if let (Some(want), Some(have)) = (&spec.configuration, current.configuration())
        && configuration_differs(want, have)
    {
        update.push("configuration");
    }

    if let Some(want) = &spec.service_connect_defaults {
        let matches = match current
            .service_connect_defaults()
            .and_then(|d| d.namespace())
        {
            None => false,
            // The spec gives the ARN (or ECS echoes the name).
            Some(have) if have == want.namespace => true,
            // The spec names it and ECS reports the ARN (`namespace/ns-...`, without the name):
            // it matches when it is the ARN that name resolved to last time.
            Some(have) => resolved.is_some_and(|r| r.name == want.namespace && r.arn == have),
        };
        if !matches {
            update.push("serviceConnectDefaults");
        }
    }

    let want_providers: BTreeSet<&str> =
        spec.capacity_providers.iter().map(String::as_str).collect();
    let have_providers: BTreeSet<&str> = current
        .capacity_providers()
        .iter()
        .map(String::as_str)
        .collect();
    let capacity_providers = want_providers != have_providers
        || normalized(&strategy(&spec.default_capacity_provider_strategy))
            != normalized(current.default_capacity_provider_strategy());

    ClusterDrift {
        update,
        capacity_providers,
    }
}

/// Compares only what the spec sets: ECS fills in defaults for the rest, which is not drift.
fn configuration_differs(want: &ClusterConfiguration, have: &ecs::ClusterConfiguration) -> bool {
    fn differs<T: PartialEq + ?Sized>(want: Option<&T>, have: Option<&T>) -> bool {
        want.is_some_and(|w| Some(w) != have)
    }
    let exec = have.execute_command_configuration();
    let log = exec.and_then(|e| e.log_configuration());
    let storage = have.managed_storage_configuration();
    let exec_differs = want
        .execute_command_configuration
        .as_ref()
        .is_some_and(|w| {
            differs(w.kms_key_id.as_deref(), exec.and_then(|e| e.kms_key_id()))
                || differs(
                    w.logging.as_deref(),
                    exec.and_then(|e| e.logging()).map(|l| l.as_str()),
                )
                || w.log_configuration.as_ref().is_some_and(|l| {
                    differs(
                        l.cloud_watch_log_group_name.as_deref(),
                        log.and_then(|h| h.cloud_watch_log_group_name()),
                    ) || differs(
                        l.s3_bucket_name.as_deref(),
                        log.and_then(|h| h.s3_bucket_name()),
                    ) || differs(
                        l.s3_key_prefix.as_deref(),
                        log.and_then(|h| h.s3_key_prefix()),
                    ) || differs(
                        l.cloud_watch_encryption_enabled.as_ref(),
                        log.map(|h| &h.cloud_watch_encryption_enabled),
                    ) || differs(
                        l.s3_encryption_enabled.as_ref(),
                        log.map(|h| &h.s3_encryption_enabled),
                    )
                })
        });
    let storage_differs = want
        .managed_storage_configuration
        .as_ref()
        .is_some_and(|w| {
            differs(
                w.kms_key_id.as_deref(),
                storage.and_then(|s| s.kms_key_id()),
            ) || differs(
                w.fargate_ephemeral_storage_kms_key_id.as_deref(),
                storage.and_then(|s| s.fargate_ephemeral_storage_kms_key_id()),
            )
        });
    exec_differs || storage_differs
}

/// Strategy entries in a comparable form: ECS reports unset weight/base as 0.
fn normalized(items: &[ecs::CapacityProviderStrategyItem]) -> BTreeSet<(String, i32, i32)> {
    items
        .iter()
        .map(|i| (i.capacity_provider().to_string(), i.weight(), i.base()))
        .collect()
}

/// The ECS facts of the status.
pub fn status_facts(cluster: &ecs::Cluster) -> EcsClusterStatus {
    EcsClusterStatus {
        cluster_arn: cluster.cluster_arn().map(Into::into),
        cluster_name: cluster.cluster_name().map(Into::into),
        status: cluster.status().map(Into::into),
        active_services_count: Some(cluster.active_services_count()),
        running_tasks_count: Some(cluster.running_tasks_count()),
        pending_tasks_count: Some(cluster.pending_tasks_count()),
        registered_container_instances_count: Some(cluster.registered_container_instances_count()),
        ..Default::default()
    }
}

/// The record of what the spec's Service Connect namespace resolved to, from a cluster that
/// matches the spec (described after creating or updating it).
pub fn resolved_namespace(
    spec: &EcsClusterSpec,
    cluster: &ecs::Cluster,
) -> Option<ResolvedNamespace> {
    let name = &spec.service_connect_defaults.as_ref()?.namespace;
    let arn = cluster.service_connect_defaults()?.namespace()?;
    Some(ResolvedNamespace {
        name: name.clone(),
        arn: arn.to_string(),
    })
}

fn non_empty<T>(items: Vec<T>) -> Option<Vec<T>> {
    (!items.is_empty()).then_some(items)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::cluster::{
        ClusterServiceConnectDefaults, ClusterSetting, ExecuteCommandConfiguration,
    };

    fn spec() -> EcsClusterSpec {
        serde_json::from_value(serde_json::json!({
            "settings": [{"name": "containerInsights", "value": "enabled"}],
            "capacityProviders": ["FARGATE", "FARGATE_SPOT"],
            "defaultCapacityProviderStrategy": [
                {"capacityProvider": "FARGATE", "weight": 1, "base": 1},
                {"capacityProvider": "FARGATE_SPOT", "weight": 4}
            ],
            "configuration": {"executeCommandConfiguration": {"logging": "DEFAULT"}},
            "serviceConnectDefaults": {"namespace": "internal"},
            "tags": [{"key": "team", "value": "web"}]
        }))
        .unwrap()
    }

    /// What ECS resolves the namespace `internal` to: the ARN carries its id, not its name.
    const NAMESPACE_ARN: &str =
        "arn:aws:servicediscovery:us-east-1:123456789012:namespace/ns-6zc4xbzw3vpkfj4n";

    fn resolved() -> ResolvedNamespace {
        resolved_namespace(&spec(), &described()).unwrap()
    }

    /// What DescribeClusters returns for a cluster created from `spec()`.
    fn described() -> ecs::Cluster {
        let s = spec();
        ecs::Cluster::builder()
            .cluster_arn("arn:aws:ecs:us-east-1:123456789012:cluster/prod")
            .cluster_name("prod")
            .status("ACTIVE")
            .set_settings(Some(settings(&s)))
            .set_configuration(s.configuration.as_ref().map(configuration))
            .capacity_providers("FARGATE_SPOT")
            .capacity_providers("FARGATE")
            .default_capacity_provider_strategy(
                ecs::CapacityProviderStrategyItem::builder()
                    .capacity_provider("FARGATE_SPOT")
                    .weight(4)
                    .base(0)
                    .build()
                    .unwrap(),
            )
            .default_capacity_provider_strategy(
                ecs::CapacityProviderStrategyItem::builder()
                    .capacity_provider("FARGATE")
                    .weight(1)
                    .base(1)
                    .build()
                    .unwrap(),
            )
            .service_connect_defaults(
                ecs::ClusterServiceConnectDefaults::builder()
                    .namespace(NAMESPACE_ARN)
                    .build(),
            )
            .active_services_count(2)
            .running_tasks_count(5)
            .build()
    }

    #[test]
    fn create_input_carries_every_field() {
        let input = create_input(
            &spec(),
            "prod",
            vec![ecs::Tag::builder().key("team").value("web").build()],
        )
        .build()
        .unwrap();
        assert_eq!(input.cluster_name(), Some("prod"));
        assert_eq!(
            input.settings()[0].name(),
            Some(&ecs::ClusterSettingName::ContainerInsights)
        );
        assert_eq!(input.settings()[0].value(), Some("enabled"));
        assert_eq!(input.capacity_providers(), ["FARGATE", "FARGATE_SPOT"]);
        assert_eq!(input.default_capacity_provider_strategy()[1].weight(), 4);
        assert_eq!(
            input
                .configuration()
                .and_then(|c| c.execute_command_configuration())
                .and_then(|e| e.logging()),
            Some(&ecs::ExecuteCommandLogging::Default)
        );
        assert_eq!(
            input.service_connect_defaults().map(|d| d.namespace()),
            Some("internal")
        );
        assert_eq!(input.tags().len(), 1);
    }

    #[test]
    fn an_empty_spec_sends_nothing_optional() {
        let input = create_input(&EcsClusterSpec::default(), "bare", vec![])
            .build()
            .unwrap();
        assert!(input.settings.is_none() && input.capacity_providers.is_none());
        assert!(
            input.default_capacity_provider_strategy.is_none() && input.configuration().is_none()
        );
    }

    #[test]
    fn a_cluster_as_created_has_no_drift() {
        let d = drift(&spec(), &described(), Some(&resolved()));
        assert!(d.is_empty(), "{d:?}");
    }

    #[test]
    fn sections_ecs_does_not_return_are_not_drift() {
        let bare = ecs::Cluster::builder()
            .capacity_providers("FARGATE")
            .capacity_providers("FARGATE_SPOT")
            .set_default_capacity_provider_strategy(Some(strategy(
                &spec().default_capacity_provider_strategy,
            )))
            .service_connect_defaults(
                ecs::ClusterServiceConnectDefaults::builder()
                    .namespace("internal")
                    .build(),
            )
            .build();
        assert!(drift(&spec(), &bare, None).is_empty());
    }

    #[test]
    fn a_namespace_named_by_name_is_compared_through_what_it_resolved_to() {
        assert_eq!(
            resolved(),
            ResolvedNamespace {
                name: "internal".into(),
                arn: NAMESPACE_ARN.into()
            }
        );
        // Without the record (say, just adopted), the name cannot be matched: updated once.
        assert_eq!(
            drift(&spec(), &described(), None).update,
            ["serviceConnectDefaults"]
        );
        // Changed in ECS to another namespace.
        let mut moved = described();
        moved.service_connect_defaults = Some(
            ecs::ClusterServiceConnectDefaults::builder()
                .namespace("arn:aws:servicediscovery:us-east-1:123456789012:namespace/ns-other")
                .build(),
        );
        assert_eq!(
            drift(&spec(), &moved, Some(&resolved())).update,
            ["serviceConnectDefaults"]
        );
        // The spec gives the ARN itself.
        let mut by_arn = spec();
        by_arn.service_connect_defaults = Some(ClusterServiceConnectDefaults {
            namespace: NAMESPACE_ARN.into(),
        });
        assert!(drift(&by_arn, &described(), None).is_empty());
    }

    #[test]
    fn changed_settings_and_configuration_need_update_cluster() {
        let mut s = spec();
        s.settings = vec![ClusterSetting {
            name: "containerInsights".into(),
            value: "disabled".into(),
        }];
        s.configuration = Some(ClusterConfiguration {
            execute_command_configuration: Some(ExecuteCommandConfiguration {
                logging: Some("NONE".into()),
                ..Default::default()
            }),
            ..Default::default()
        });
        s.service_connect_defaults = Some(ClusterServiceConnectDefaults {
            namespace: "other".into(),
        });
        let d = drift(&s, &described(), Some(&resolved()));
        assert_eq!(
            d.update,
            vec!["settings", "configuration", "serviceConnectDefaults"]
        );
        assert!(!d.capacity_providers);
    }

    #[test]
    fn changed_capacity_providers_or_strategy_need_put_capacity_providers() {
        let mut s = spec();
        s.capacity_providers.pop();
        assert!(drift(&s, &described(), Some(&resolved())).capacity_providers);

        let mut s = spec();
        s.default_capacity_provider_strategy[1].weight = Some(2);
        let d = drift(&s, &described(), Some(&resolved()));
        assert!(d.capacity_providers && d.update.is_empty());
        assert_eq!(d.fields(), vec!["capacityProviders"]);
    }

    #[test]
    fn configuration_defaults_filled_in_by_ecs_are_not_drift() {
        let mut current = described();
        current.configuration = Some(
            ecs::ClusterConfiguration::builder()
                .execute_command_configuration(
                    ecs::ExecuteCommandConfiguration::builder()
                        .logging(ecs::ExecuteCommandLogging::Default)
                        .kms_key_id("arn:aws:kms:us-east-1:123456789012:key/filled-in")
                        .build(),
                )
                .build(),
        );
        assert!(drift(&spec(), &current, Some(&resolved())).is_empty());
    }

    #[test]
    fn referenced_providers_join_the_plain_names_unless_some_wait() {
        let mut spec = spec();
        spec.capacity_providers = vec!["FARGATE".into()];
        spec.default_capacity_provider_strategy = vec![CapacityProviderStrategyItem {
            capacity_provider: "ec2-web".into(),
            weight: Some(1),
            base: None,
        }];
        let resolved = ["ec2-web".to_string(), "FARGATE".to_string()];
        let ready = with_providers(&spec, &resolved, false);
        assert_eq!(ready.capacity_providers, ["FARGATE", "ec2-web"]);
        assert_eq!(
            ready.default_capacity_provider_strategy,
            spec.default_capacity_provider_strategy
        );
        let waiting = with_providers(&spec, &resolved[..1], true);
        assert!(waiting.capacity_providers.is_empty());
        assert!(waiting.default_capacity_provider_strategy.is_empty());
        assert_eq!(
            waiting.settings, spec.settings,
            "the rest of the spec is sent as it is"
        );
    }

    #[test]
    fn status_carries_the_ecs_facts() {
        let status = status_facts(&described());
        assert_eq!(status.status.as_deref(), Some("ACTIVE"));
        assert_eq!(status.active_services_count, Some(2));
        assert_eq!(status.running_tasks_count, Some(5));
        assert_eq!(status.cluster_name.as_deref(), Some("prod"));
    }
}
