use super::*;
use crate::api::{DeletionPolicy, Tag};
use serde_json::json;

/// `aws ecs describe-task-definition` output of a Fargate web app, pasted as is (the extra
/// read-only fields such as revision and status are ignored).
const FARGATE_WEB_APP: &str = r#"{
    "taskDefinitionArn": "arn:aws:ecs:eu-west-1:123456789012:task-definition/web:7",
    "family": "web",
    "taskRoleArn": "arn:aws:iam::123456789012:role/web-task",
    "executionRoleArn": "arn:aws:iam::123456789012:role/ecsTaskExecutionRole",
    "networkMode": "awsvpc",
    "revision": 7,
    "status": "ACTIVE",
    "requiresAttributes": [{"name": "com.amazonaws.ecs.capability.logging-driver.awslogs"}],
    "compatibilities": ["EC2", "FARGATE"],
    "requiresCompatibilities": ["FARGATE"],
    "cpu": "512",
    "memory": "1024",
    "runtimePlatform": {"cpuArchitecture": "ARM64", "operatingSystemFamily": "LINUX"},
    "containerDefinitions": [
        {
            "name": "web",
            "image": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/web:1.4.2",
            "cpu": 0,
            "portMappings": [
                {
                    "name": "web-8080-tcp",
                    "containerPort": 8080,
                    "hostPort": 8080,
                    "protocol": "tcp",
                    "appProtocol": "http"
                }
            ],
            "essential": true,
            "environment": [
                {"name": "RUST_LOG", "value": "info"},
                {"name": "PORT", "value": "8080"}
            ],
            "environmentFiles": [],
            "mountPoints": [],
            "volumesFrom": [],
            "secrets": [
                {
                    "name": "DATABASE_URL",
                    "valueFrom": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:web/db-AbCdEf:url::"
                },
                {
                    "name": "API_KEY",
                    "valueFrom": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:web/api-key-GhIjKl"
                }
            ],
            "ulimits": [],
            "logConfiguration": {
                "logDriver": "awslogs",
                "options": {
                    "awslogs-group": "/ecs/web",
                    "awslogs-create-group": "true",
                    "awslogs-region": "eu-west-1",
                    "awslogs-stream-prefix": "ecs"
                },
                "secretOptions": []
            },
            "healthCheck": {
                "command": ["CMD-SHELL", "curl -f http://localhost:8080/healthz || exit 1"],
                "interval": 30,
                "timeout": 5,
                "retries": 3,
                "startPeriod": 10
            },
            "systemControls": []
        }
    ],
    "volumes": [],
    "placementConstraints": [],
    "registeredAt": "2025-05-01T10:00:00.000Z",
    "registeredBy": "arn:aws:sts::123456789012:assumed-role/deployer/ci"
}"#;

/// Every optional section the spec knows, with values ECS would accept.
const EVERYTHING: &str = r#"{
    "family": "everything",
    "networkMode": "bridge",
    "requiresCompatibilities": ["EC2"],
    "cpu": "1 vCPU",
    "memory": "2 GB",
    "pidMode": "task",
    "ipcMode": "none",
    "enableFaultInjection": true,
    "ephemeralStorage": {"sizeInGiB": 50},
    "runtimePlatform": {"cpuArchitecture": "X86_64", "operatingSystemFamily": "LINUX"},
    "placementConstraints": [{"type": "memberOf", "expression": "attribute:ecs.instance-type =~ t3.*"}],
    "inferenceAccelerators": [{"deviceName": "eia", "deviceType": "eia2.medium"}],
    "proxyConfiguration": {
        "type": "APPMESH",
        "containerName": "envoy",
        "properties": [{"name": "IgnoredUID", "value": "1337"}, {"name": "ProxyIngressPort", "value": "15000"}]
    },
    "volumes": [
        {"name": "scratch", "host": {"sourcePath": "/mnt/scratch"}},
        {"name": "ebs", "configuredAtLaunch": true},
        {
            "name": "docker",
            "dockerVolumeConfiguration": {
                "scope": "shared",
                "autoprovision": true,
                "driver": "local",
                "driverOpts": {"type": "nfs"},
                "labels": {"team": "web"}
            }
        },
        {
            "name": "efs",
            "efsVolumeConfiguration": {
                "fileSystemId": "fs-0123456789abcdef0",
                "rootDirectory": "/",
                "transitEncryption": "ENABLED",
                "transitEncryptionPort": 2049,
                "authorizationConfig": {"accessPointId": "fsap-0123456789abcdef0", "iam": "ENABLED"}
            }
        },
        {
            "name": "s3files",
            "s3filesVolumeConfiguration": {
                "fileSystemArn": "arn:aws:s3files:eu-west-1:123456789012:file-system/fs-1",
                "rootDirectory": "/data",
                "transitEncryptionPort": 2050,
                "accessPointArn": "arn:aws:s3files:eu-west-1:123456789012:access-point/ap-1"
            }
        },
        {
            "name": "fsx",
            "fsxWindowsFileServerVolumeConfiguration": {
                "fileSystemId": "fs-0fedcba9876543210",
                "rootDirectory": "\\share",
                "authorizationConfig": {
                    "credentialsParameter": "arn:aws:ssm:eu-west-1:123456789012:parameter/fsx-creds",
                    "domain": "corp.example.com"
                }
            }
        }
    ],
    "containerDefinitions": [
        {
            "name": "app",
            "image": "registry.example.com/app:2",
            "repositoryCredentials": {"credentialsParameter": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:registry"},
            "cpu": 512,
            "memory": 1024,
            "memoryReservation": 512,
            "links": ["envoy:proxy"],
            "portMappings": [
                {"containerPort": 8080, "hostPort": 0, "protocol": "tcp"},
                {"containerPort": 8125, "protocol": "udp"},
                {"containerPortRange": "9000-9010", "appProtocol": "grpc"}
            ],
            "essential": true,
            "restartPolicy": {"enabled": true, "ignoredExitCodes": [0, 143], "restartAttemptPeriod": 300},
            "entryPoint": ["/bin/sh", "-c"],
            "command": ["exec /app --serve"],
            "environment": [{"name": "MODE", "value": "full"}],
            "environmentFiles": [{"value": "arn:aws:s3:::config-bucket/app.env", "type": "s3"}],
            "mountPoints": [{"sourceVolume": "efs", "containerPath": "/data", "readOnly": true}],
            "volumesFrom": [{"sourceContainer": "envoy", "readOnly": false}],
            "linuxParameters": {
                "capabilities": {"add": ["SYS_PTRACE"], "drop": ["NET_RAW"]},
                "devices": [{"hostPath": "/dev/fuse", "containerPath": "/dev/fuse", "permissions": ["read", "write"]}],
                "initProcessEnabled": true,
                "sharedMemorySize": 256,
                "tmpfs": [{"containerPath": "/tmp", "size": 64, "mountOptions": ["noexec"]}],
                "maxSwap": 1024,
                "swappiness": 10
            },
            "secrets": [{"name": "TOKEN", "valueFrom": "arn:aws:ssm:eu-west-1:123456789012:parameter/token"}],
            "dependsOn": [{"containerName": "envoy", "condition": "HEALTHY"}],
            "startTimeout": 120,
            "stopTimeout": 30,
            "versionConsistency": "disabled",
            "hostname": "app",
            "user": "1000:1000",
            "workingDirectory": "/srv",
            "disableNetworking": false,
            "privileged": false,
            "readonlyRootFilesystem": true,
            "dnsServers": ["10.0.0.2"],
            "dnsSearchDomains": ["corp.example.com"],
            "extraHosts": [{"hostname": "db", "ipAddress": "10.0.0.10"}],
            "dockerSecurityOptions": ["no-new-privileges"],
            "interactive": true,
            "pseudoTerminal": true,
            "dockerLabels": {"com.example.team": "web"},
            "ulimits": [{"name": "nofile", "softLimit": 65536, "hardLimit": 65536}],
            "logConfiguration": {
                "logDriver": "splunk",
                "options": {"splunk-url": "https://splunk.example.com"},
                "secretOptions": [{"name": "splunk-token", "valueFrom": "arn:aws:ssm:eu-west-1:123456789012:parameter/splunk"}]
            },
            "healthCheck": {"command": ["CMD", "/app", "--health"]},
            "systemControls": [{"namespace": "net.core.somaxconn", "value": "1024"}],
            "resourceRequirements": [
                {"type": "GPU", "sharingStrategy": {"nvidiaMps": {"memory": 4096, "maxComputePercent": 50}}},
                {"value": "eia", "type": "InferenceAccelerator"}
            ],
            "credentialSpecs": ["credentialspecdomainless:arn:aws:s3:::bucket/spec.json"]
        },
        {
            "name": "envoy",
            "image": "public.ecr.aws/appmesh/aws-appmesh-envoy:v1.29",
            "essential": true,
            "firelensConfiguration": {"type": "fluentbit", "options": {"enable-ecs-log-metadata": "true"}}
        }
    ]
}"#;

fn spec(json: &str) -> EcsTaskDefinitionSpec {
    serde_json::from_str(json).expect("the test spec deserializes")
}

fn ecs_tag(key: &str, value: &str) -> ecs::Tag {
    ecs::Tag::builder().key(key).value(value).build()
}

#[test]
fn pasted_fargate_task_definition_maps_to_the_register_request() {
    let spec = spec(FARGATE_WEB_APP);
    let tags = vec![
        ecs_tag("ecs.operator.dev/owner", "shop/web"),
        ecs_tag("team", "web"),
    ];

    let input = register_input(&spec, "web", tags.clone())
        .unwrap()
        .build()
        .unwrap();

    assert_eq!(input.family(), Some("web"));
    assert_eq!(
        input.task_role_arn(),
        Some("arn:aws:iam::123456789012:role/web-task")
    );
    assert_eq!(
        input.execution_role_arn(),
        Some("arn:aws:iam::123456789012:role/ecsTaskExecutionRole")
    );
    assert_eq!(input.network_mode(), Some(&ecs::NetworkMode::Awsvpc));
    assert_eq!(
        input.requires_compatibilities(),
        [ecs::Compatibility::Fargate]
    );
    assert_eq!(input.cpu(), Some("512"));
    assert_eq!(input.memory(), Some("1024"));
    assert_eq!(input.tags(), tags.as_slice());
    let platform = input.runtime_platform().unwrap();
    assert_eq!(
        platform.cpu_architecture(),
        Some(&ecs::CpuArchitecture::Arm64)
    );
    assert_eq!(
        platform.operating_system_family(),
        Some(&ecs::OsFamily::Linux)
    );
    // Empty lists in the paste are not sent.
    assert!(input.volumes.is_none());
    assert!(input.placement_constraints.is_none());

    let [web] = input.container_definitions() else {
        panic!("one container expected")
    };
    assert_eq!(web.name(), Some("web"));
    assert_eq!(
        web.image(),
        Some("123456789012.dkr.ecr.eu-west-1.amazonaws.com/web:1.4.2")
    );
    assert_eq!(web.cpu(), 0);
    assert_eq!(web.essential(), Some(true));
    let [port] = web.port_mappings() else {
        panic!("one port mapping expected")
    };
    assert_eq!(port.container_port(), Some(8080));
    assert_eq!(port.host_port(), Some(8080));
    assert_eq!(port.protocol(), Some(&ecs::TransportProtocol::Tcp));
    assert_eq!(port.name(), Some("web-8080-tcp"));
    assert_eq!(port.app_protocol(), Some(&ecs::ApplicationProtocol::Http));
    let environment: Vec<(Option<&str>, Option<&str>)> = web
        .environment()
        .iter()
        .map(|pair| (pair.name(), pair.value()))
        .collect();
    assert_eq!(
        environment,
        [
            (Some("RUST_LOG"), Some("info")),
            (Some("PORT"), Some("8080"))
        ]
    );
    let secrets: Vec<(&str, &str)> = web
        .secrets()
        .iter()
        .map(|s| (s.name(), s.value_from()))
        .collect();
    assert_eq!(
        secrets,
        [
            (
                "DATABASE_URL",
                "arn:aws:secretsmanager:eu-west-1:123456789012:secret:web/db-AbCdEf:url::"
            ),
            (
                "API_KEY",
                "arn:aws:secretsmanager:eu-west-1:123456789012:secret:web/api-key-GhIjKl"
            ),
        ]
    );
    assert!(web.environment_files.is_none() && web.mount_points.is_none() && web.ulimits.is_none());

    let logs = web.log_configuration().unwrap();
    assert_eq!(logs.log_driver(), &ecs::LogDriver::Awslogs);
    let options = logs.options().unwrap();
    assert_eq!(options.len(), 4);
    assert_eq!(options["awslogs-group"], "/ecs/web");
    assert_eq!(options["awslogs-stream-prefix"], "ecs");
    assert!(logs.secret_options.is_none());

    let health = web.health_check().unwrap();
    assert_eq!(
        health.command(),
        [
            "CMD-SHELL",
            "curl -f http://localhost:8080/healthz || exit 1"
        ]
    );
    assert_eq!(
        (
            health.interval(),
            health.timeout(),
            health.retries(),
            health.start_period()
        ),
        (Some(30), Some(5), Some(3), Some(10))
    );
}

#[test]
fn every_optional_section_maps() {
    let input = register_input(&spec(EVERYTHING), "everything", vec![])
        .unwrap()
        .build()
        .unwrap();

    assert!(input.tags.is_none());
    assert_eq!(input.network_mode(), Some(&ecs::NetworkMode::Bridge));
    assert_eq!(input.requires_compatibilities(), [ecs::Compatibility::Ec2]);
    assert_eq!(
        (input.cpu(), input.memory()),
        (Some("1 vCPU"), Some("2 GB"))
    );
    assert_eq!(input.pid_mode(), Some(&ecs::PidMode::Task));
    assert_eq!(input.ipc_mode(), Some(&ecs::IpcMode::None));
    assert_eq!(input.enable_fault_injection(), Some(true));
    assert_eq!(input.ephemeral_storage().unwrap().size_in_gib(), 50);
    let [constraint] = input.placement_constraints() else {
        panic!()
    };
    assert_eq!(
        constraint.r#type(),
        Some(&ecs::TaskDefinitionPlacementConstraintType::MemberOf)
    );
    assert_eq!(
        constraint.expression(),
        Some("attribute:ecs.instance-type =~ t3.*")
    );

    let proxy = input.proxy_configuration().unwrap();
    assert_eq!(proxy.r#type(), Some(&ecs::ProxyConfigurationType::Appmesh));
    assert_eq!(proxy.container_name(), "envoy");
    let properties: Vec<_> = proxy
        .properties()
        .iter()
        .map(|p| (p.name().unwrap(), p.value().unwrap()))
        .collect();
    assert_eq!(
        properties,
        [("IgnoredUID", "1337"), ("ProxyIngressPort", "15000")]
    );

    let volumes = input.volumes();
    let names: Vec<_> = volumes.iter().map(|v| v.name().unwrap()).collect();
    assert_eq!(names, ["scratch", "ebs", "docker", "efs", "s3files", "fsx"]);
    assert_eq!(
        volumes[0].host().unwrap().source_path(),
        Some("/mnt/scratch")
    );
    assert_eq!(volumes[1].configured_at_launch(), Some(true));
    let docker = volumes[2].docker_volume_configuration().unwrap();
    assert_eq!(docker.scope(), Some(&ecs::Scope::Shared));
    assert_eq!(docker.autoprovision(), Some(true));
    assert_eq!(docker.driver(), Some("local"));
    assert_eq!(docker.driver_opts().unwrap()["type"], "nfs");
    assert_eq!(docker.labels().unwrap()["team"], "web");
    let efs = volumes[3].efs_volume_configuration().unwrap();
    assert_eq!(efs.file_system_id(), "fs-0123456789abcdef0");
    assert_eq!(efs.root_directory(), Some("/"));
    assert_eq!(
        efs.transit_encryption(),
        Some(&ecs::EfsTransitEncryption::Enabled)
    );
    assert_eq!(efs.transit_encryption_port(), Some(2049));
    let efs_authorization = efs.authorization_config().unwrap();
    assert_eq!(
        efs_authorization.access_point_id(),
        Some("fsap-0123456789abcdef0")
    );
    assert_eq!(
        efs_authorization.iam(),
        Some(&ecs::EfsAuthorizationConfigIam::Enabled)
    );
    let s3files = volumes[4].s3files_volume_configuration().unwrap();
    assert_eq!(
        s3files.file_system_arn(),
        "arn:aws:s3files:eu-west-1:123456789012:file-system/fs-1"
    );
    assert_eq!(s3files.root_directory(), Some("/data"));
    assert_eq!(s3files.transit_encryption_port(), Some(2050));
    assert_eq!(
        s3files.access_point_arn(),
        Some("arn:aws:s3files:eu-west-1:123456789012:access-point/ap-1")
    );
    let fsx = volumes[5]
        .fsx_windows_file_server_volume_configuration()
        .unwrap();
    assert_eq!(
        (fsx.file_system_id(), fsx.root_directory()),
        ("fs-0fedcba9876543210", "\\share")
    );
    let fsx_authorization = fsx.authorization_config().unwrap();
    assert_eq!(
        fsx_authorization.credentials_parameter(),
        "arn:aws:ssm:eu-west-1:123456789012:parameter/fsx-creds"
    );
    assert_eq!(fsx_authorization.domain(), "corp.example.com");

    let [app, envoy] = input.container_definitions() else {
        panic!("two containers expected")
    };
    assert_eq!(
        app.repository_credentials()
            .unwrap()
            .credentials_parameter(),
        "arn:aws:secretsmanager:eu-west-1:123456789012:secret:registry"
    );
    assert_eq!(
        (app.cpu(), app.memory(), app.memory_reservation()),
        (512, Some(1024), Some(512))
    );
    assert_eq!(app.links(), ["envoy:proxy"]);
    let ports = app.port_mappings();
    assert_eq!(ports.len(), 3);
    assert_eq!(
        (ports[0].container_port(), ports[0].host_port()),
        (Some(8080), Some(0))
    );
    assert_eq!(ports[1].protocol(), Some(&ecs::TransportProtocol::Udp));
    assert_eq!(ports[2].container_port(), None);
    assert_eq!(ports[2].container_port_range(), Some("9000-9010"));
    assert_eq!(
        ports[2].app_protocol(),
        Some(&ecs::ApplicationProtocol::Grpc)
    );
    let restart = app.restart_policy().unwrap();
    assert!(restart.enabled());
    assert_eq!(restart.ignored_exit_codes(), [0, 143]);
    assert_eq!(restart.restart_attempt_period(), Some(300));
    assert_eq!(app.entry_point(), ["/bin/sh", "-c"]);
    assert_eq!(app.command(), ["exec /app --serve"]);
    assert_eq!(app.environment()[0].name(), Some("MODE"));
    let [env_file] = app.environment_files() else {
        panic!()
    };
    assert_eq!(env_file.value(), "arn:aws:s3:::config-bucket/app.env");
    assert_eq!(env_file.r#type(), &ecs::EnvironmentFileType::S3);
    let [mount] = app.mount_points() else {
        panic!()
    };
    assert_eq!(
        (
            mount.source_volume(),
            mount.container_path(),
            mount.read_only()
        ),
        (Some("efs"), Some("/data"), Some(true))
    );
    let [from] = app.volumes_from() else { panic!() };
    assert_eq!(
        (from.source_container(), from.read_only()),
        (Some("envoy"), Some(false))
    );

    let linux = app.linux_parameters().unwrap();
    let capabilities = linux.capabilities().unwrap();
    assert_eq!(
        (capabilities.add(), capabilities.drop()),
        (
            &["SYS_PTRACE".to_string()][..],
            &["NET_RAW".to_string()][..]
        )
    );
    let [device] = linux.devices() else { panic!() };
    assert_eq!(
        (device.host_path(), device.container_path()),
        ("/dev/fuse", Some("/dev/fuse"))
    );
    assert_eq!(
        device.permissions(),
        [
            ecs::DeviceCgroupPermission::Read,
            ecs::DeviceCgroupPermission::Write
        ]
    );
    assert_eq!(linux.init_process_enabled(), Some(true));
    assert_eq!(linux.shared_memory_size(), Some(256));
    let [tmpfs] = linux.tmpfs() else { panic!() };
    assert_eq!(
        (tmpfs.container_path(), tmpfs.size(), tmpfs.mount_options()),
        ("/tmp", 64, &["noexec".to_string()][..])
    );
    assert_eq!(
        (linux.max_swap(), linux.swappiness()),
        (Some(1024), Some(10))
    );

    assert_eq!(
        app.secrets()[0].value_from(),
        "arn:aws:ssm:eu-west-1:123456789012:parameter/token"
    );
    let [dependency] = app.depends_on() else {
        panic!()
    };
    assert_eq!(dependency.container_name(), "envoy");
    assert_eq!(dependency.condition(), &ecs::ContainerCondition::Healthy);
    assert_eq!(
        (app.start_timeout(), app.stop_timeout()),
        (Some(120), Some(30))
    );
    assert_eq!(
        app.version_consistency(),
        Some(&ecs::VersionConsistency::Disabled)
    );
    assert_eq!(
        (app.hostname(), app.user(), app.working_directory()),
        (Some("app"), Some("1000:1000"), Some("/srv"))
    );
    assert_eq!(
        (
            app.disable_networking(),
            app.privileged(),
            app.readonly_root_filesystem()
        ),
        (Some(false), Some(false), Some(true))
    );
    assert_eq!(app.dns_servers(), ["10.0.0.2"]);
    assert_eq!(app.dns_search_domains(), ["corp.example.com"]);
    let [host] = app.extra_hosts() else { panic!() };
    assert_eq!((host.hostname(), host.ip_address()), ("db", "10.0.0.10"));
    assert_eq!(app.docker_security_options(), ["no-new-privileges"]);
    assert_eq!(
        (app.interactive(), app.pseudo_terminal()),
        (Some(true), Some(true))
    );
    assert_eq!(app.docker_labels().unwrap()["com.example.team"], "web");
    let [ulimit] = app.ulimits() else { panic!() };
    assert_eq!(
        (ulimit.name(), ulimit.soft_limit(), ulimit.hard_limit()),
        (&ecs::UlimitName::Nofile, 65536, 65536)
    );
    let logs = app.log_configuration().unwrap();
    assert_eq!(logs.log_driver(), &ecs::LogDriver::Splunk);
    assert_eq!(logs.secret_options()[0].name(), "splunk-token");
    let health = app.health_check().unwrap();
    assert_eq!(health.command(), ["CMD", "/app", "--health"]);
    assert_eq!(health.interval(), None);
    let [control] = app.system_controls() else {
        panic!()
    };
    assert_eq!(
        (control.namespace(), control.value()),
        (Some("net.core.somaxconn"), Some("1024"))
    );
    let [gpu, accelerator] = app.resource_requirements() else {
        panic!("two resource requirements expected")
    };
    assert_eq!(gpu.r#type(), &ecs::ResourceType::Gpu);
    let mps = gpu.sharing_strategy().unwrap().as_nvidia_mps().unwrap();
    assert_eq!((mps.memory(), mps.max_compute_percent()), (4096, Some(50)));
    assert_eq!(
        accelerator.r#type(),
        &ecs::ResourceType::InferenceAccelerator
    );
    assert_eq!(accelerator.value(), "eia");
    assert_eq!(
        app.credential_specs(),
        ["credentialspecdomainless:arn:aws:s3:::bucket/spec.json"]
    );

    let firelens = envoy.firelens_configuration().unwrap();
    assert_eq!(
        firelens.r#type(),
        &ecs::FirelensConfigurationType::Fluentbit
    );
    assert_eq!(
        firelens.options().unwrap()["enable-ecs-log-metadata"],
        "true"
    );
    // Fields the spec leaves out stay unset rather than defaulted.
    assert_eq!(
        (
            envoy.memory(),
            envoy.linux_parameters(),
            envoy.health_check()
        ),
        (None, None, None)
    );
    assert!(envoy.port_mappings.is_none() && envoy.docker_labels.is_none());
}

#[test]
#[allow(deprecated)] // Elastic Inference: still part of the API, see with_inference_accelerators.
fn inference_accelerators_map() {
    let input = register_input(&spec(EVERYTHING), "everything", vec![])
        .unwrap()
        .build()
        .unwrap();
    let [accelerator] = input.inference_accelerators() else {
        panic!("one accelerator expected")
    };
    assert_eq!(
        (accelerator.device_name(), accelerator.device_type()),
        ("eia", "eia2.medium")
    );
}

#[test]
fn a_sharing_strategy_without_a_member_is_invalid() {
    let mut spec = spec(EVERYTHING);
    spec.container_definitions[0].resource_requirements[0].sharing_strategy =
        Some(SharingStrategy::default());
    let Err(Error::InvalidSpec(message)) = register_input(&spec, "everything", vec![]) else {
        panic!("InvalidSpec expected")
    };
    assert!(
        message.contains("containerDefinitions[app].resourceRequirements"),
        "{message}"
    );
}

#[test]
fn values_ecs_adds_later_pass_through_as_unknown_enum_values() {
    let mut spec = spec(FARGATE_WEB_APP);
    spec.network_mode = Some("future-mode".into());
    spec.container_definitions[0]
        .log_configuration
        .as_mut()
        .unwrap()
        .log_driver = "newdriver".into();

    let input = register_input(&spec, "web", vec![])
        .unwrap()
        .build()
        .unwrap();

    assert_eq!(input.network_mode().unwrap().as_str(), "future-mode");
    let logs = input.container_definitions()[0]
        .log_configuration()
        .unwrap();
    assert_eq!(logs.log_driver().as_str(), "newdriver");
}

#[test]
fn a_spec_ecs_cannot_take_is_invalid() {
    let mut no_containers = spec(FARGATE_WEB_APP);
    no_containers.container_definitions.clear();
    assert!(matches!(
        register_input(&no_containers, "web", vec![]),
        Err(Error::InvalidSpec(_))
    ));
    assert!(matches!(
        register_input(&spec(FARGATE_WEB_APP), "", vec![]),
        Err(Error::InvalidSpec(_))
    ));
}

#[test]
fn hash_is_sha256_of_the_canonical_spec() {
    let minimal = spec(
        r#"{"containerDefinitions": [{"name": "web", "image": "nginx"}], "deletionPolicy": "Retain"}"#,
    );
    // Pinned: a different hash for the same spec would register a new revision of every
    // family after an operator upgrade.
    // printf '%s' '{"containerDefinitions":[{"image":"nginx","name":"web"}]}' | sha256sum
    assert_eq!(
        spec_hash(&minimal),
        "88b100686345e14ecf4c8536311423932166d792c536ef20a4235fe067af3252"
    );
}

#[test]
fn hash_ignores_key_order() {
    let reordered = r#"{
        "memory": "1024",
        "containerDefinitions": [
            {
                "logConfiguration": {
                    "options": {
                        "awslogs-stream-prefix": "ecs",
                        "awslogs-region": "eu-west-1",
                        "awslogs-create-group": "true",
                        "awslogs-group": "/ecs/web"
                    },
                    "logDriver": "awslogs"
                },
                "healthCheck": {
                    "startPeriod": 10, "retries": 3, "timeout": 5, "interval": 30,
                    "command": ["CMD-SHELL", "curl -f http://localhost:8080/healthz || exit 1"]
                },
                "secrets": [
                    {"valueFrom": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:web/db-AbCdEf:url::", "name": "DATABASE_URL"},
                    {"valueFrom": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:web/api-key-GhIjKl", "name": "API_KEY"}
                ],
                "environment": [{"value": "info", "name": "RUST_LOG"}, {"value": "8080", "name": "PORT"}],
                "essential": true,
                "portMappings": [
                    {"appProtocol": "http", "protocol": "tcp", "hostPort": 8080, "containerPort": 8080, "name": "web-8080-tcp"}
                ],
                "cpu": 0,
                "image": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/web:1.4.2",
                "name": "web"
            }
        ],
        "runtimePlatform": {"operatingSystemFamily": "LINUX", "cpuArchitecture": "ARM64"},
        "cpu": "512",
        "requiresCompatibilities": ["FARGATE"],
        "networkMode": "awsvpc",
        "executionRoleArn": "arn:aws:iam::123456789012:role/ecsTaskExecutionRole",
        "taskRoleArn": "arn:aws:iam::123456789012:role/web-task",
        "family": "web"
    }"#;
    assert_eq!(
        spec_hash(&spec(reordered)),
        spec_hash(&spec(FARGATE_WEB_APP))
    );
}

#[test]
fn hash_ignores_operator_only_fields_and_tags() {
    let base = spec(FARGATE_WEB_APP);
    let mut changed = base.clone();
    changed.tags = vec![Tag {
        key: "team".into(),
        value: "web".into(),
    }];
    changed.deletion_policy = DeletionPolicy::Retain;
    changed.revision_history_limit = Some(3);
    changed.region = Some("us-east-1".into());
    assert_eq!(spec_hash(&changed), spec_hash(&base));
}

#[test]
fn hash_changes_with_what_ecs_registers() {
    let base = spec(FARGATE_WEB_APP);
    let base_hash = spec_hash(&base);

    let mut new_image = base.clone();
    new_image.container_definitions[0].image =
        "123456789012.dkr.ecr.eu-west-1.amazonaws.com/web:1.4.3".into();
    assert_ne!(spec_hash(&new_image), base_hash);

    let mut new_secret = base.clone();
    new_secret.container_definitions[0].secrets[0]
        .value_from
        .push_str("v2");
    assert_ne!(spec_hash(&new_secret), base_hash);

    let mut bigger = base.clone();
    bigger.memory = Some("2048".into());
    assert_ne!(spec_hash(&bigger), base_hash);
}

#[test]
fn hash_is_hex_sha256() {
    let hash = spec_hash(&spec(EVERYTHING));
    assert_eq!(hash.len(), 64);
    assert!(
        hash.bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    );
}

fn revisions(numbers: &[i32]) -> Vec<(i32, String)> {
    numbers.iter().map(|&n| (n, arn(n))).collect()
}

fn arn(revision: i32) -> String {
    format!("arn:aws:ecs:eu-west-1:123456789012:task-definition/web:{revision}")
}

#[test]
fn prunes_beyond_the_limit_oldest_first() {
    let owned = revisions(&[4, 1, 6, 3, 5, 2]);
    let pruned = revisions_to_prune(&owned, 3, &HashSet::new(), &arn(6));
    assert_eq!(pruned, [arn(1), arn(2), arn(3)]);
}

#[test]
fn keeps_everything_within_the_limit() {
    let owned = revisions(&[1, 2, 3]);
    assert!(revisions_to_prune(&owned, 10, &HashSet::new(), &arn(3)).is_empty());
    assert!(revisions_to_prune(&owned, 3, &HashSet::new(), &arn(3)).is_empty());
    assert!(revisions_to_prune(&[], 1, &HashSet::new(), "").is_empty());
}

#[test]
fn keeps_revisions_services_use() {
    let owned = revisions(&[1, 2, 3, 4, 5]);
    // Services may name a revision by ARN or by family:revision.
    let in_use = HashSet::from([arn(1), "web:3".to_string()]);
    let pruned = revisions_to_prune(&owned, 1, &in_use, &arn(5));
    assert_eq!(pruned, [arn(2), arn(4)]);
}

#[test]
fn keeps_the_current_revision_even_when_older_than_the_limit() {
    // The spec went back to what revision 2 holds, so revision 2 is current again.
    let owned = revisions(&[1, 2, 3, 4]);
    let pruned = revisions_to_prune(&owned, 1, &HashSet::new(), &arn(2));
    assert_eq!(pruned, [arn(1), arn(3)]);
}

#[test]
fn a_revision_listed_twice_is_pruned_once() {
    let owned = [(1, arn(1)), (1, arn(1)), (2, arn(2)), (3, arn(3))];
    assert_eq!(
        revisions_to_prune(&owned, 2, &HashSet::new(), &arn(3)),
        [arn(1)]
    );
}

/// FARGATE_WEB_APP without what describe-task-definition adds (the definition as written).
fn fargate_web_app_as_written() -> EcsTaskDefinitionSpec {
    let mut value: Value = serde_json::from_str(FARGATE_WEB_APP).unwrap();
    let fields = value.as_object_mut().unwrap();
    for field in OUTPUT_ONLY_FIELDS {
        fields.remove(field);
    }
    serde_json::from_value(value).unwrap()
}

fn request(spec: &EcsTaskDefinitionSpec) -> RegisterTaskDefinitionInput {
    register_input(spec, "web", vec![])
        .unwrap()
        .build()
        .unwrap()
}

#[test]
fn output_only_fields_are_accepted_and_ignored() {
    let pasted = spec(FARGATE_WEB_APP);
    let written = fargate_web_app_as_written();
    assert_eq!(
        pasted.output_only_fields(),
        // All but deregisteredAt, which an ACTIVE revision does not have.
        OUTPUT_ONLY_FIELDS[..7]
    );
    assert_eq!(pasted.revision, Some(7));
    assert!(written.output_only_fields().is_empty());
    // Not sent to ECS, not part of the hash (so a pasted definition registers once, and is
    // never drift).
    assert_eq!(request(&pasted), request(&written));
    assert_eq!(spec_hash(&pasted), spec_hash(&written));
}

#[test]
fn timestamps_paste_in_either_form() {
    // The AWS CLI v2 prints ISO 8601; the API (and CLI v1) epoch seconds.
    for registered_at in [
        json!("2025-05-01T10:00:00.000000+00:00"),
        json!(1746093600.123),
    ] {
        let mut value: Value = serde_json::from_str(FARGATE_WEB_APP).unwrap();
        value["registeredAt"] = registered_at.clone();
        value["deregisteredAt"] = registered_at;
        let pasted: EcsTaskDefinitionSpec = serde_json::from_value(value).unwrap();
        assert_eq!(spec_hash(&pasted), spec_hash(&fargate_web_app_as_written()));
    }
}

#[test]
fn empty_enum_strings_are_unset() {
    // As Go-based exporters write unset enums.
    let exported = spec(
        r#"{
            "networkMode": "", "pidMode": "", "ipcMode": "",
            "runtimePlatform": {"cpuArchitecture": "", "operatingSystemFamily": ""},
            "proxyConfiguration": {"type": "", "containerName": "envoy"},
            "placementConstraints": [{"type": "", "expression": "attribute:ecs.os-type == linux"}],
            "volumes": [
                {"name": "d", "dockerVolumeConfiguration": {"scope": ""}},
                {"name": "e", "efsVolumeConfiguration": {"fileSystemId": "fs-1", "transitEncryption": "",
                                                         "authorizationConfig": {"iam": ""}}}
            ],
            "containerDefinitions": [{
                "name": "web", "image": "nginx", "memory": 512, "versionConsistency": "",
                "portMappings": [{"containerPort": 80, "protocol": "", "appProtocol": ""}]
            }]
        }"#,
    );
    let written = spec(
        r#"{
            "runtimePlatform": {},
            "proxyConfiguration": {"containerName": "envoy"},
            "placementConstraints": [{"expression": "attribute:ecs.os-type == linux"}],
            "volumes": [
                {"name": "d", "dockerVolumeConfiguration": {}},
                {"name": "e", "efsVolumeConfiguration": {"fileSystemId": "fs-1", "authorizationConfig": {}}}
            ],
            "containerDefinitions": [{
                "name": "web", "image": "nginx", "memory": 512,
                "portMappings": [{"containerPort": 80}]
            }]
        }"#,
    );
    assert_eq!(exported, written);
    assert_eq!(spec_hash(&exported), spec_hash(&written));
    let sent = request(&exported);
    assert_eq!(sent.network_mode(), None);
    assert_eq!(sent.ipc_mode(), None);
    assert_eq!(sent.pid_mode(), None);
    let mapping = &sent.container_definitions()[0].port_mappings()[0];
    assert_eq!((mapping.protocol(), mapping.app_protocol()), (None, None));
}

#[test]
fn null_is_absent() {
    let with_nulls = spec(
        r#"{
            "family": null, "networkMode": null, "cpu": null, "volumes": null, "tags": null,
            "placementConstraints": null, "requiresCompatibilities": null, "revision": null,
            "requiresAttributes": null, "registeredAt": null,
            "containerDefinitions": [{
                "name": "web", "image": "nginx", "memory": 512, "essential": null,
                "portMappings": null, "environment": null, "dockerLabels": null,
                "logConfiguration": {"logDriver": "awslogs", "options": null, "secretOptions": null},
                "linuxParameters": {"capabilities": {"add": null, "drop": ["NET_RAW"]}, "tmpfs": null}
            }]
        }"#,
    );
    let without = spec(
        r#"{
            "containerDefinitions": [{
                "name": "web", "image": "nginx", "memory": 512,
                "logConfiguration": {"logDriver": "awslogs"},
                "linuxParameters": {"capabilities": {"drop": ["NET_RAW"]}}
            }]
        }"#,
    );
    assert_eq!(with_nulls, without);
    assert_eq!(spec_hash(&with_nulls), spec_hash(&without));
    assert_eq!(request(&with_nulls), request(&without));
}
