//! EcsTaskDefinition: the spec as an ECS RegisterTaskDefinition request, the spec hash that tells
//! whether the newest revision still matches the spec, and which old revisions to deregister.

use std::collections::{BTreeMap, HashMap, HashSet};

use aws_sdk_ecs::error::BuildError;
use aws_sdk_ecs::operation::register_task_definition::RegisterTaskDefinitionInput;
use aws_sdk_ecs::operation::register_task_definition::builders::RegisterTaskDefinitionInputBuilder;
use aws_sdk_ecs::types as ecs;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::Error;
use crate::api::KeyValuePair;
use crate::api::task_definition::{
    ContainerDefinition, EcsTaskDefinitionSpec, LinuxParameters, LogConfiguration,
    OUTPUT_ONLY_FIELDS, PortMapping, Secret, SharingStrategy, Volume,
};

/// Spec fields that do not shape the registered definition: tags are applied to revisions
/// without registering a new one, the rest only steer the operator. The output-only fields
/// (OUTPUT_ONLY_FIELDS) are not hashed either.
const UNHASHED_FIELDS: [&str; 4] = ["tags", "deletionPolicy", "revisionHistoryLimit", "region"];

/// Hex SHA-256 of the parts of the spec that make up the ECS task definition. Equal hashes mean
/// no new revision is needed. Object keys are sorted before hashing, so neither the field order
/// of the types nor the key order of maps matter; list order does (ECS keeps it).
pub fn spec_hash(spec: &EcsTaskDefinitionSpec) -> String {
    let mut value =
        serde_json::to_value(spec).expect("a task definition spec always serializes to JSON");
    if let Value::Object(fields) = &mut value {
        for field in UNHASHED_FIELDS.iter().chain(&OUTPUT_ONLY_FIELDS) {
            fields.remove(*field);
        }
    }
    let mut canonical = String::new();
    write_canonical_json(&value, &mut canonical);
    format!("{:x}", Sha256::digest(canonical.as_bytes()))
}

/// Compact JSON with object keys in byte order, independent of serde_json's map implementation.
fn write_canonical_json(value: &Value, out: &mut String) {
    match value {
        Value::Object(fields) => {
            let mut keys: Vec<&String> = fields.keys().collect();
            keys.sort();
            out.push('{');
            for (index, key) in keys.into_iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                write_canonical_json(&fields[key], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                write_canonical_json(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

/// The RegisterTaskDefinition request for the spec. `family` is the resolved family name and
/// `tags` the complete tag set of the revision (the spec's tags merged with the operator's).
pub fn register_input(
    spec: &EcsTaskDefinitionSpec,
    family: &str,
    tags: Vec<ecs::Tag>,
) -> Result<RegisterTaskDefinitionInputBuilder, Error> {
    if family.is_empty() {
        return Err(Error::InvalidSpec(
            "the task definition family is empty".into(),
        ));
    }
    if spec.container_definitions.is_empty() {
        return Err(Error::InvalidSpec(
            "containerDefinitions needs at least one container".into(),
        ));
    }
    let container_definitions = spec
        .container_definitions
        .iter()
        .map(container_definition)
        .collect::<Result<Vec<_>, _>>()?;
    let volumes = spec
        .volumes
        .iter()
        .map(volume)
        .collect::<Result<Vec<_>, _>>()?;
    let placement_constraints = spec
        .placement_constraints
        .iter()
        .map(|constraint| {
            ecs::TaskDefinitionPlacementConstraint::builder()
                .set_type(
                    constraint
                        .type_
                        .as_deref()
                        .map(ecs::TaskDefinitionPlacementConstraintType::from),
                )
                .set_expression(constraint.expression.clone())
                .build()
        })
        .collect();
    let proxy_configuration = spec
        .proxy_configuration
        .as_ref()
        .map(|proxy| {
            ecs::ProxyConfiguration::builder()
                .set_type(
                    proxy
                        .type_
                        .as_deref()
                        .map(ecs::ProxyConfigurationType::from),
                )
                .container_name(&proxy.container_name)
                .set_properties(non_empty(
                    proxy.properties.iter().map(key_value_pair).collect(),
                ))
                .build()
                .map_err(|error| invalid("proxyConfiguration", error))
        })
        .transpose()?;
    let builder = RegisterTaskDefinitionInput::builder()
        .family(family)
        .set_task_role_arn(spec.task_role_arn.clone())
        .set_execution_role_arn(spec.execution_role_arn.clone())
        .set_network_mode(spec.network_mode.as_deref().map(ecs::NetworkMode::from))
        .set_container_definitions(Some(container_definitions))
        .set_volumes(non_empty(volumes))
        .set_placement_constraints(non_empty(placement_constraints))
        .set_requires_compatibilities(non_empty(
            spec.requires_compatibilities
                .iter()
                .map(|c| ecs::Compatibility::from(c.as_str()))
                .collect(),
        ))
        .set_cpu(spec.cpu.clone())
        .set_memory(spec.memory.clone())
        .set_tags(non_empty(tags))
        .set_pid_mode(spec.pid_mode.as_deref().map(ecs::PidMode::from))
        .set_ipc_mode(spec.ipc_mode.as_deref().map(ecs::IpcMode::from))
        .set_proxy_configuration(proxy_configuration)
        .set_ephemeral_storage(spec.ephemeral_storage.as_ref().map(|storage| {
            ecs::EphemeralStorage::builder()
                .size_in_gib(storage.size_in_gib)
                .build()
        }))
        .set_runtime_platform(spec.runtime_platform.as_ref().map(|platform| {
            ecs::RuntimePlatform::builder()
                .set_cpu_architecture(
                    platform
                        .cpu_architecture
                        .as_deref()
                        .map(ecs::CpuArchitecture::from),
                )
                .set_operating_system_family(
                    platform
                        .operating_system_family
                        .as_deref()
                        .map(ecs::OsFamily::from),
                )
                .build()
        }))
        .set_enable_fault_injection(spec.enable_fault_injection);
    with_inference_accelerators(builder, spec)
}

/// Elastic Inference is retired and the SDK marks it deprecated, but it is still part of the
/// API: accelerators are sent as written and ECS judges them.
#[allow(deprecated)]
fn with_inference_accelerators(
    builder: RegisterTaskDefinitionInputBuilder,
    spec: &EcsTaskDefinitionSpec,
) -> Result<RegisterTaskDefinitionInputBuilder, Error> {
    let accelerators = spec
        .inference_accelerators
        .iter()
        .map(|accelerator| {
            ecs::InferenceAccelerator::builder()
                .device_name(&accelerator.device_name)
                .device_type(&accelerator.device_type)
                .build()
                .map_err(|error| {
                    invalid(
                        &format!("inferenceAccelerators[{}]", accelerator.device_name),
                        error,
                    )
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(builder.set_inference_accelerators(non_empty(accelerators)))
}

fn container_definition(
    container: &ContainerDefinition,
) -> Result<ecs::ContainerDefinition, Error> {
    let context = format!("containerDefinitions[{}]", container.name);
    let at = |field: &str| format!("{context}.{field}");

    let repository_credentials = container
        .repository_credentials
        .as_ref()
        .map(|credentials| {
            ecs::RepositoryCredentials::builder()
                .credentials_parameter(&credentials.credentials_parameter)
                .build()
                .map_err(|error| invalid(&at("repositoryCredentials"), error))
        })
        .transpose()?;
    let restart_policy = container
        .restart_policy
        .as_ref()
        .map(|policy| {
            ecs::ContainerRestartPolicy::builder()
                .enabled(policy.enabled)
                .set_ignored_exit_codes(non_empty(policy.ignored_exit_codes.clone()))
                .set_restart_attempt_period(policy.restart_attempt_period)
                .build()
                .map_err(|error| invalid(&at("restartPolicy"), error))
        })
        .transpose()?;
    let environment_files = container
        .environment_files
        .iter()
        .map(|file| {
            ecs::EnvironmentFile::builder()
                .value(&file.value)
                .r#type(ecs::EnvironmentFileType::from(file.type_.as_str()))
                .build()
                .map_err(|error| invalid(&at("environmentFiles"), error))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mount_points = container
        .mount_points
        .iter()
        .map(|mount| {
            ecs::MountPoint::builder()
                .set_source_volume(mount.source_volume.clone())
                .set_container_path(mount.container_path.clone())
                .set_read_only(mount.read_only)
                .build()
        })
        .collect();
    let volumes_from = container
        .volumes_from
        .iter()
        .map(|from| {
            ecs::VolumeFrom::builder()
                .set_source_container(from.source_container.clone())
                .set_read_only(from.read_only)
                .build()
        })
        .collect();
    let linux_parameters = container
        .linux_parameters
        .as_ref()
        .map(|parameters| linux_parameters(parameters, &at("linuxParameters")))
        .transpose()?;
    let secrets = secrets(&container.secrets, &at("secrets"))?;
    let depends_on = container
        .depends_on
        .iter()
        .map(|dependency| {
            ecs::ContainerDependency::builder()
                .container_name(&dependency.container_name)
                .condition(ecs::ContainerCondition::from(dependency.condition.as_str()))
                .build()
                .map_err(|error| invalid(&at("dependsOn"), error))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let extra_hosts = container
        .extra_hosts
        .iter()
        .map(|host| {
            ecs::HostEntry::builder()
                .hostname(&host.hostname)
                .ip_address(&host.ip_address)
                .build()
                .map_err(|error| invalid(&at("extraHosts"), error))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let ulimits = container
        .ulimits
        .iter()
        .map(|ulimit| {
            ecs::Ulimit::builder()
                .name(ecs::UlimitName::from(ulimit.name.as_str()))
                .soft_limit(ulimit.soft_limit)
                .hard_limit(ulimit.hard_limit)
                .build()
                .map_err(|error| invalid(&at("ulimits"), error))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let log_configuration = container
        .log_configuration
        .as_ref()
        .map(|logs| log_configuration(logs, &at("logConfiguration")))
        .transpose()?;
    let health_check = container
        .health_check
        .as_ref()
        .map(|check| {
            ecs::HealthCheck::builder()
                .set_command(Some(check.command.clone()))
                .set_interval(check.interval)
                .set_timeout(check.timeout)
                .set_retries(check.retries)
                .set_start_period(check.start_period)
                .build()
                .map_err(|error| invalid(&at("healthCheck"), error))
        })
        .transpose()?;
    let system_controls = container
        .system_controls
        .iter()
        .map(|control| {
            ecs::SystemControl::builder()
                .set_namespace(control.namespace.clone())
                .set_value(control.value.clone())
                .build()
        })
        .collect();
    let resource_requirements = container
        .resource_requirements
        .iter()
        .map(|requirement| {
            let context = at("resourceRequirements");
            let sharing_strategy = requirement
                .sharing_strategy
                .as_ref()
                .map(|strategy| sharing_strategy(strategy, &context))
                .transpose()?;
            ecs::ResourceRequirement::builder()
                .set_value(requirement.value.clone())
                .r#type(ecs::ResourceType::from(requirement.type_.as_str()))
                .set_sharing_strategy(sharing_strategy)
                .build()
                .map_err(|error| invalid(&context, error))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let firelens_configuration = container
        .firelens_configuration
        .as_ref()
        .map(|firelens| {
            ecs::FirelensConfiguration::builder()
                .r#type(ecs::FirelensConfigurationType::from(
                    firelens.type_.as_str(),
                ))
                .set_options(string_map(&firelens.options))
                .build()
                .map_err(|error| invalid(&at("firelensConfiguration"), error))
        })
        .transpose()?;

    Ok(ecs::ContainerDefinition::builder()
        .name(&container.name)
        .image(&container.image)
        .set_repository_credentials(repository_credentials)
        .set_cpu(container.cpu)
        .set_memory(container.memory)
        .set_memory_reservation(container.memory_reservation)
        .set_links(non_empty(container.links.clone()))
        .set_port_mappings(non_empty(
            container.port_mappings.iter().map(port_mapping).collect(),
        ))
        .set_essential(container.essential)
        .set_restart_policy(restart_policy)
        .set_entry_point(non_empty(container.entry_point.clone()))
        .set_command(non_empty(container.command.clone()))
        .set_environment(non_empty(
            container.environment.iter().map(key_value_pair).collect(),
        ))
        .set_environment_files(non_empty(environment_files))
        .set_mount_points(non_empty(mount_points))
        .set_volumes_from(non_empty(volumes_from))
        .set_linux_parameters(linux_parameters)
        .set_secrets(non_empty(secrets))
        .set_depends_on(non_empty(depends_on))
        .set_start_timeout(container.start_timeout)
        .set_stop_timeout(container.stop_timeout)
        .set_version_consistency(
            container
                .version_consistency
                .as_deref()
                .map(ecs::VersionConsistency::from),
        )
        .set_hostname(container.hostname.clone())
        .set_user(container.user.clone())
        .set_working_directory(container.working_directory.clone())
        .set_disable_networking(container.disable_networking)
        .set_privileged(container.privileged)
        .set_readonly_root_filesystem(container.readonly_root_filesystem)
        .set_dns_servers(non_empty(container.dns_servers.clone()))
        .set_dns_search_domains(non_empty(container.dns_search_domains.clone()))
        .set_extra_hosts(non_empty(extra_hosts))
        .set_docker_security_options(non_empty(container.docker_security_options.clone()))
        .set_interactive(container.interactive)
        .set_pseudo_terminal(container.pseudo_terminal)
        .set_docker_labels(string_map(&container.docker_labels))
        .set_ulimits(non_empty(ulimits))
        .set_log_configuration(log_configuration)
        .set_health_check(health_check)
        .set_system_controls(non_empty(system_controls))
        .set_resource_requirements(non_empty(resource_requirements))
        .set_firelens_configuration(firelens_configuration)
        .set_credential_specs(non_empty(container.credential_specs.clone()))
        .build())
}

fn sharing_strategy(
    strategy: &SharingStrategy,
    context: &str,
) -> Result<ecs::SharingStrategy, Error> {
    // A union in ECS: exactly one member is sent.
    match &strategy.nvidia_mps {
        Some(mps) => ecs::NvidiaMpsAllocation::builder()
            .memory(mps.memory)
            .set_max_compute_percent(mps.max_compute_percent)
            .build()
            .map(ecs::SharingStrategy::NvidiaMps)
            .map_err(|error| invalid(&format!("{context}.sharingStrategy.nvidiaMps"), error)),
        None => Err(Error::InvalidSpec(format!(
            "{context}.sharingStrategy: set nvidiaMps"
        ))),
    }
}

fn port_mapping(mapping: &PortMapping) -> ecs::PortMapping {
    ecs::PortMapping::builder()
        .set_container_port(mapping.container_port)
        .set_host_port(mapping.host_port)
        .set_protocol(
            mapping
                .protocol
                .as_deref()
                .map(ecs::TransportProtocol::from),
        )
        .set_name(mapping.name.clone())
        .set_app_protocol(
            mapping
                .app_protocol
                .as_deref()
                .map(ecs::ApplicationProtocol::from),
        )
        .set_container_port_range(mapping.container_port_range.clone())
        .build()
}

fn linux_parameters(
    parameters: &LinuxParameters,
    context: &str,
) -> Result<ecs::LinuxParameters, Error> {
    let devices = parameters
        .devices
        .iter()
        .map(|device| {
            ecs::Device::builder()
                .host_path(&device.host_path)
                .set_container_path(device.container_path.clone())
                .set_permissions(non_empty(
                    device
                        .permissions
                        .iter()
                        .map(|p| ecs::DeviceCgroupPermission::from(p.as_str()))
                        .collect(),
                ))
                .build()
                .map_err(|error| invalid(&format!("{context}.devices"), error))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let tmpfs = parameters
        .tmpfs
        .iter()
        .map(|tmpfs| {
            ecs::Tmpfs::builder()
                .container_path(&tmpfs.container_path)
                .size(tmpfs.size)
                .set_mount_options(non_empty(tmpfs.mount_options.clone()))
                .build()
                .map_err(|error| invalid(&format!("{context}.tmpfs"), error))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(ecs::LinuxParameters::builder()
        .set_capabilities(parameters.capabilities.as_ref().map(|capabilities| {
            ecs::KernelCapabilities::builder()
                .set_add(non_empty(capabilities.add.clone()))
                .set_drop(non_empty(capabilities.drop.clone()))
                .build()
        }))
        .set_devices(non_empty(devices))
        .set_init_process_enabled(parameters.init_process_enabled)
        .set_shared_memory_size(parameters.shared_memory_size)
        .set_tmpfs(non_empty(tmpfs))
        .set_max_swap(parameters.max_swap)
        .set_swappiness(parameters.swappiness)
        .build())
}

fn log_configuration(
    logs: &LogConfiguration,
    context: &str,
) -> Result<ecs::LogConfiguration, Error> {
    ecs::LogConfiguration::builder()
        .log_driver(ecs::LogDriver::from(logs.log_driver.as_str()))
        .set_options(string_map(&logs.options))
        .set_secret_options(non_empty(secrets(
            &logs.secret_options,
            &format!("{context}.secretOptions"),
        )?))
        .build()
        .map_err(|error| invalid(context, error))
}

fn secrets(secrets: &[Secret], context: &str) -> Result<Vec<ecs::Secret>, Error> {
    secrets
        .iter()
        .map(|secret| {
            ecs::Secret::builder()
                .name(&secret.name)
                .value_from(&secret.value_from)
                .build()
                .map_err(|error| invalid(&format!("{context}[{}]", secret.name), error))
        })
        .collect()
}

fn volume(volume: &Volume) -> Result<ecs::Volume, Error> {
    let context = format!("volumes[{}]", volume.name);
    let efs = volume
        .efs_volume_configuration
        .as_ref()
        .map(|efs| {
            ecs::EfsVolumeConfiguration::builder()
                .file_system_id(&efs.file_system_id)
                .set_root_directory(efs.root_directory.clone())
                .set_transit_encryption(
                    efs.transit_encryption
                        .as_deref()
                        .map(ecs::EfsTransitEncryption::from),
                )
                .set_transit_encryption_port(efs.transit_encryption_port)
                .set_authorization_config(efs.authorization_config.as_ref().map(|authorization| {
                    ecs::EfsAuthorizationConfig::builder()
                        .set_access_point_id(authorization.access_point_id.clone())
                        .set_iam(
                            authorization
                                .iam
                                .as_deref()
                                .map(ecs::EfsAuthorizationConfigIam::from),
                        )
                        .build()
                }))
                .build()
                .map_err(|error| invalid(&format!("{context}.efsVolumeConfiguration"), error))
        })
        .transpose()?;
    let s3files = volume
        .s3files_volume_configuration
        .as_ref()
        .map(|s3files| {
            ecs::S3FilesVolumeConfiguration::builder()
                .file_system_arn(&s3files.file_system_arn)
                .set_root_directory(s3files.root_directory.clone())
                .set_transit_encryption_port(s3files.transit_encryption_port)
                .set_access_point_arn(s3files.access_point_arn.clone())
                .build()
                .map_err(|error| invalid(&format!("{context}.s3filesVolumeConfiguration"), error))
        })
        .transpose()?;
    let fsx = volume
        .fsx_windows_file_server_volume_configuration
        .as_ref()
        .map(|fsx| {
            let fsx_context = format!("{context}.fsxWindowsFileServerVolumeConfiguration");
            let authorization = fsx
                .authorization_config
                .as_ref()
                .map(|authorization| {
                    ecs::FSxWindowsFileServerAuthorizationConfig::builder()
                        .credentials_parameter(&authorization.credentials_parameter)
                        .domain(&authorization.domain)
                        .build()
                        .map_err(|error| {
                            invalid(&format!("{fsx_context}.authorizationConfig"), error)
                        })
                })
                .transpose()?;
            ecs::FSxWindowsFileServerVolumeConfiguration::builder()
                .file_system_id(&fsx.file_system_id)
                .root_directory(&fsx.root_directory)
                .set_authorization_config(authorization)
                .build()
                .map_err(|error| invalid(&fsx_context, error))
        })
        .transpose()?;

    Ok(ecs::Volume::builder()
        .name(&volume.name)
        .set_host(volume.host.as_ref().map(|host| {
            ecs::HostVolumeProperties::builder()
                .set_source_path(host.source_path.clone())
                .build()
        }))
        .set_configured_at_launch(volume.configured_at_launch)
        .set_docker_volume_configuration(volume.docker_volume_configuration.as_ref().map(
            |docker| {
                ecs::DockerVolumeConfiguration::builder()
                    .set_scope(docker.scope.as_deref().map(ecs::Scope::from))
                    .set_autoprovision(docker.autoprovision)
                    .set_driver(docker.driver.clone())
                    .set_driver_opts(string_map(&docker.driver_opts))
                    .set_labels(string_map(&docker.labels))
                    .build()
            },
        ))
        .set_efs_volume_configuration(efs)
        .set_s3files_volume_configuration(s3files)
        .set_fsx_windows_file_server_volume_configuration(fsx)
        .build())
}

pub(crate) fn key_value_pair(pair: &KeyValuePair) -> ecs::KeyValuePair {
    ecs::KeyValuePair::builder()
        .name(&pair.name)
        .set_value(pair.value.clone())
        .build()
}

/// ECS treats an empty list like an absent one; sending none keeps requests minimal.
fn non_empty<T>(items: Vec<T>) -> Option<Vec<T>> {
    (!items.is_empty()).then_some(items)
}

fn string_map(map: &BTreeMap<String, String>) -> Option<HashMap<String, String>> {
    (!map.is_empty()).then(|| {
        map.iter()
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect()
    })
}

fn invalid(context: &str, error: BuildError) -> Error {
    Error::InvalidSpec(format!("{context}: {error}"))
}

/// ARNs of the revisions to deregister, oldest first. `owned` are the (revision, ARN) pairs of
/// the ACTIVE revisions this object registered. Kept: the newest `limit` revisions, the current
/// one and every revision in `in_use` (by services), which may name a revision by ARN or by
/// `family:revision`.
pub fn revisions_to_prune(
    owned: &[(i32, String)],
    limit: usize,
    in_use: &HashSet<String>,
    current_arn: &str,
) -> Vec<String> {
    let mut newest_first: Vec<&(i32, String)> = owned.iter().collect();
    newest_first.sort_by_key(|(revision, _)| std::cmp::Reverse(*revision));
    let mut seen = HashSet::new();
    let mut prune: Vec<&(i32, String)> = newest_first
        .into_iter()
        .filter(|(_, arn)| seen.insert(arn.as_str()))
        .skip(limit)
        .filter(|(_, arn)| arn != current_arn && !is_in_use(arn, in_use))
        .collect();
    prune.sort_by_key(|(revision, _)| *revision);
    prune.into_iter().map(|(_, arn)| arn.clone()).collect()
}

fn is_in_use(arn: &str, in_use: &HashSet<String>) -> bool {
    // arn:aws:ecs:<region>:<account>:task-definition/<family>:<revision>
    let family_revision = arn.rsplit_once("task-definition/").map(|(_, rest)| rest);
    in_use.contains(arn) || family_revision.is_some_and(|name| in_use.contains(name))
}

pub mod plan;

#[cfg(test)]
mod tests;
