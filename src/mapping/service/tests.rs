use aws_sdk_ecs::types::{
    AssignPublicIp, AvailabilityZoneRebalancing, Deployment, DeploymentControllerType, LaunchType,
    PlacementStrategyType, PropagateTags, SchedulingStrategy,
};
use aws_smithy_types::DateTime;

use super::*;
use crate::api::common::{LocalObjectReference, Tag};
use crate::api::service::{
    AwsVpcConfiguration, DeploymentAlarms, DeploymentCircuitBreaker, DeploymentConfiguration,
    DeploymentController, ServiceConnectClientAlias, ServiceConnectLogConfiguration,
    ServiceConnectSecret, ServiceConnectService,
};

pub(super) const TD7: &str = "arn:aws:ecs:eu-west-1:123456789012:task-definition/web:7";
pub(super) const TD8: &str = "arn:aws:ecs:eu-west-1:123456789012:task-definition/web:8";
const TG: &str =
    "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web/0123456789abcdef";
const REGISTRY: &str = "arn:aws:servicediscovery:eu-west-1:123456789012:service/srv-abc";

pub(super) fn minimal_spec() -> EcsServiceSpec {
    EcsServiceSpec {
        cluster_ref: Some(LocalObjectReference {
            name: "main".into(),
        }),
        task_definition_ref: Some(LocalObjectReference { name: "web".into() }),
        ..Default::default()
    }
}

/// Every field set, as a Fargate service behind an ALB with Service Connect.
pub(super) fn full_spec() -> EcsServiceSpec {
    EcsServiceSpec {
        service_name: Some("web-svc".into()),
        desired_count: Some(3),
        capacity_provider_strategy: vec![
            CapacityProviderStrategyItem {
                capacity_provider: "FARGATE".into(),
                weight: Some(1),
                base: Some(1),
            },
            CapacityProviderStrategyItem {
                capacity_provider: "FARGATE_SPOT".into(),
                weight: Some(3),
                base: None,
            },
        ],
        platform_version: Some("1.4.0".into()),
        network_configuration: Some(NetworkConfiguration {
            awsvpc_configuration: Some(AwsVpcConfiguration {
                subnets: vec!["subnet-a".into(), "subnet-b".into()],
                security_groups: vec!["sg-1".into()],
                assign_public_ip: Some("DISABLED".into()),
            }),
        }),
        load_balancers: vec![LoadBalancer {
            target_group_arn: Some(TG.into()),
            load_balancer_name: None,
            container_name: Some("web".into()),
            container_port: Some(8080),
            advanced_configuration: None,
        }],
        service_registries: vec![ServiceRegistry {
            registry_arn: Some(REGISTRY.into()),
            port: Some(8080),
            container_name: None,
            container_port: None,
        }],
        health_check_grace_period_seconds: Some(30),
        deployment_configuration: Some(DeploymentConfiguration {
            maximum_percent: Some(200),
            minimum_healthy_percent: Some(50),
            deployment_circuit_breaker: Some(DeploymentCircuitBreaker {
                enable: true,
                rollback: true,
            }),
            alarms: Some(DeploymentAlarms {
                alarm_names: vec!["web-5xx".into()],
                enable: true,
                rollback: false,
            }),
            ..Default::default()
        }),
        deployment_controller: Some(DeploymentController {
            type_: "ECS".into(),
        }),
        placement_constraints: vec![],
        placement_strategy: vec![],
        scheduling_strategy: Some("REPLICA".into()),
        enable_execute_command: Some(true),
        enable_ecs_managed_tags: Some(true),
        propagate_tags: Some("SERVICE".into()),
        service_connect_configuration: Some(ServiceConnectConfiguration {
            enabled: true,
            namespace: Some("internal".into()),
            services: vec![ServiceConnectService {
                port_name: "http".into(),
                discovery_name: Some("web".into()),
                client_aliases: vec![ServiceConnectClientAlias {
                    port: 80,
                    dns_name: Some("web.internal".into()),
                    test_traffic_rules: None,
                }],
                ingress_port_override: Some(15000),
                tls: None,
            }],
            log_configuration: Some(ServiceConnectLogConfiguration {
                log_driver: "awslogs".into(),
                options: [("awslogs-group".to_string(), "/ecs/web-sc".to_string())].into(),
                secret_options: vec![ServiceConnectSecret {
                    name: "token".into(),
                    value_from: "arn:aws:ssm:eu-west-1:123456789012:parameter/token".into(),
                }],
            }),
            access_log_configuration: None,
        }),
        availability_zone_rebalancing: Some("ENABLED".into()),
        tags: vec![Tag {
            key: "team".into(),
            value: "web".into(),
        }],
        ..minimal_spec()
    }
}

/// An EC2 service with placement rules.
fn ec2_spec() -> EcsServiceSpec {
    EcsServiceSpec {
        launch_type: Some("EC2".into()),
        placement_constraints: vec![PlacementConstraint {
            type_: "memberOf".into(),
            expression: Some("attribute:ecs.instance-type =~ t3.*".into()),
        }],
        placement_strategy: vec![
            PlacementStrategy {
                type_: "spread".into(),
                field: Some("attribute:ecs.availability-zone".into()),
            },
            PlacementStrategy {
                type_: "binpack".into(),
                field: Some("memory".into()),
            },
        ],
        ..minimal_spec()
    }
}

fn owner_tags() -> Vec<ecs::Tag> {
    vec![
        ecs::Tag::builder().key("team").value("web").build(),
        ecs::Tag::builder()
            .key("ecs.operator.dev/owner")
            .value("default/web")
            .build(),
    ]
}

pub(super) fn invalid_message(result: Result<impl std::fmt::Debug>) -> String {
    match result {
        Err(Error::InvalidSpec(message)) => message,
        other => panic!("expected InvalidSpec, got {other:?}"),
    }
}

fn at(secs: i64, millis: u32) -> DateTime {
    DateTime::from_secs_and_nanos(secs, millis * 1_000_000)
}

fn deployment(
    id: &str,
    status: &str,
    td: &str,
    state: Option<DeploymentRolloutState>,
    counts: (i32, i32, i32),
) -> Deployment {
    let (desired, running, pending) = counts;
    Deployment::builder()
        .id(id)
        .status(status)
        .task_definition(td)
        .desired_count(desired)
        .running_count(running)
        .pending_count(pending)
        .failed_tasks(0)
        .set_rollout_state(state.clone())
        .set_rollout_state_reason(state.map(|s| match s {
            DeploymentRolloutState::Completed => format!("ECS deployment {id} completed."),
            _ => format!("ECS deployment {id} in progress."),
        }))
        .created_at(at(1_700_000_000, 0))
        .updated_at(at(1_700_000_300, 250))
        .launch_type(LaunchType::Fargate)
        .platform_version("1.4.0")
        .build()
}

/// A service as DescribeServices returns it, in steady state on `td`.
fn service(td: &str, deployments: Vec<Deployment>, counts: (i32, i32, i32)) -> Service {
    let (desired, running, pending) = counts;
    Service::builder()
        .service_arn("arn:aws:ecs:eu-west-1:123456789012:service/main/web-svc")
        .service_name("web-svc")
        .cluster_arn("arn:aws:ecs:eu-west-1:123456789012:cluster/main")
        .status("ACTIVE")
        .desired_count(desired)
        .running_count(running)
        .pending_count(pending)
        .task_definition(td)
        .set_deployments(Some(deployments))
        .scheduling_strategy(SchedulingStrategy::Replica)
        .deployment_controller(
            ecs::DeploymentController::builder()
                .r#type(DeploymentControllerType::Ecs)
                .build()
                .unwrap(),
        )
        .build()
}

pub(super) fn steady(td: &str, count: i32) -> Service {
    service(
        td,
        vec![deployment(
            "ecs-svc/1111",
            "PRIMARY",
            td,
            Some(DeploymentRolloutState::Completed),
            (count, count, 0),
        )],
        (count, count, 0),
    )
}

/// What real ECS reports for `full_spec()`: everything echoed, defaults filled in.
pub(super) fn ecs_view_of_full_spec() -> Service {
    let sc =
        service_connect_configuration(full_spec().service_connect_configuration.as_ref().unwrap())
            .unwrap();
    let mut primary = deployment(
        "ecs-svc/1111",
        "PRIMARY",
        TD8,
        Some(DeploymentRolloutState::Completed),
        (3, 3, 0),
    );
    primary.service_connect_configuration = Some(sc);
    let mut s = service(TD8, vec![primary], (3, 3, 0));
    s.capacity_provider_strategy = Some(vec![
        ecs::CapacityProviderStrategyItem::builder()
            .capacity_provider("FARGATE_SPOT")
            .weight(3)
            .base(0)
            .build()
            .unwrap(),
        ecs::CapacityProviderStrategyItem::builder()
            .capacity_provider("FARGATE")
            .weight(1)
            .base(1)
            .build()
            .unwrap(),
    ]);
    s.platform_version = Some("1.4.0".into());
    s.platform_family = Some("Linux".into());
    s.network_configuration = Some(
        ecs::NetworkConfiguration::builder()
            .awsvpc_configuration(
                ecs::AwsVpcConfiguration::builder()
                    .subnets("subnet-b")
                    .subnets("subnet-a")
                    .security_groups("sg-1")
                    .assign_public_ip(AssignPublicIp::Disabled)
                    .build()
                    .unwrap(),
            )
            .build(),
    );
    s.load_balancers = Some(vec![
        ecs::LoadBalancer::builder()
            .target_group_arn(TG)
            .container_name("web")
            .container_port(8080)
            .build(),
    ]);
    s.service_registries = Some(vec![
        ecs::ServiceRegistry::builder()
            .registry_arn(REGISTRY)
            .port(8080)
            .build(),
    ]);
    s.health_check_grace_period_seconds = Some(30);
    s.deployment_configuration = Some(
        ecs::DeploymentConfiguration::builder()
            .maximum_percent(200)
            .minimum_healthy_percent(50)
            .deployment_circuit_breaker(
                ecs::DeploymentCircuitBreaker::builder()
                    .enable(true)
                    .rollback(true)
                    .build(),
            )
            .alarms(
                ecs::DeploymentAlarms::builder()
                    .alarm_names("web-5xx")
                    .enable(true)
                    .rollback(false)
                    .build()
                    .unwrap(),
            )
            .build(),
    );
    s.placement_constraints = Some(vec![]);
    s.placement_strategy = Some(vec![]);
    s.enable_execute_command = true;
    s.enable_ecs_managed_tags = true;
    s.propagate_tags = Some(PropagateTags::Service);
    s.availability_zone_rebalancing = Some(AvailabilityZoneRebalancing::Enabled);
    s
}

/// What the moto emulator reports for `full_spec()`: no deploymentConfiguration, capacity
/// provider strategy, placement or grace period; the two flags absent (false in the SDK).
fn emulator_view_of_full_spec() -> Service {
    let mut s = ecs_view_of_full_spec();
    s.capacity_provider_strategy = None;
    s.deployment_configuration = None;
    s.placement_constraints = None;
    s.placement_strategy = None;
    s.health_check_grace_period_seconds = None;
    s.enable_execute_command = false;
    s.enable_ecs_managed_tags = false;
    s.availability_zone_rebalancing = None;
    for d in s.deployments.iter_mut().flatten() {
        d.service_connect_configuration = None;
    }
    s
}

// --- validate / create_input ---

#[test]
fn create_input_maps_every_field() {
    let input = create_input(
        &full_spec(),
        "web-svc",
        "main",
        TD8,
        3,
        owner_tags(),
        "uid-1",
    )
    .unwrap()
    .build()
    .unwrap();
    assert_eq!(input.cluster(), Some("main"));
    assert_eq!(input.service_name(), Some("web-svc"));
    assert_eq!(input.task_definition(), Some(TD8));
    assert_eq!(input.desired_count(), Some(3));
    assert_eq!(input.client_token(), Some("uid-1"));
    assert_eq!(input.launch_type(), None);
    let cps = input.capacity_provider_strategy();
    assert_eq!(cps.len(), 2);
    assert_eq!(
        (cps[0].capacity_provider(), cps[0].weight(), cps[0].base()),
        ("FARGATE", 1, 1)
    );
    assert_eq!(
        (cps[1].capacity_provider(), cps[1].weight(), cps[1].base()),
        ("FARGATE_SPOT", 3, 0)
    );
    assert_eq!(input.platform_version(), Some("1.4.0"));
    let vpc = input
        .network_configuration()
        .unwrap()
        .awsvpc_configuration()
        .unwrap();
    assert_eq!(vpc.subnets(), ["subnet-a", "subnet-b"]);
    assert_eq!(vpc.security_groups(), ["sg-1"]);
    assert_eq!(vpc.assign_public_ip(), Some(&AssignPublicIp::Disabled));
    let lb = &input.load_balancers()[0];
    assert_eq!(
        (
            lb.target_group_arn(),
            lb.load_balancer_name(),
            lb.container_name(),
            lb.container_port()
        ),
        (Some(TG), None, Some("web"), Some(8080))
    );
    let registry = &input.service_registries()[0];
    assert_eq!(
        (registry.registry_arn(), registry.port()),
        (Some(REGISTRY), Some(8080))
    );
    assert_eq!(input.health_check_grace_period_seconds(), Some(30));
    let dc = input.deployment_configuration().unwrap();
    assert_eq!(
        (dc.maximum_percent(), dc.minimum_healthy_percent()),
        (Some(200), Some(50))
    );
    let cb = dc.deployment_circuit_breaker().unwrap();
    assert!(cb.enable() && cb.rollback());
    let alarms = dc.alarms().unwrap();
    assert_eq!(alarms.alarm_names(), ["web-5xx"]);
    assert!(alarms.enable() && !alarms.rollback());
    assert_eq!(
        input.deployment_controller().unwrap().r#type(),
        &DeploymentControllerType::Ecs
    );
    assert!(input.placement_constraints().is_empty() && input.placement_strategy().is_empty());
    assert_eq!(
        input.scheduling_strategy(),
        Some(&SchedulingStrategy::Replica)
    );
    assert_eq!(input.enable_execute_command(), Some(true));
    assert_eq!(input.enable_ecs_managed_tags(), Some(true));
    assert_eq!(input.propagate_tags(), Some(&PropagateTags::Service));
    let sc = input.service_connect_configuration().unwrap();
    assert!(sc.enabled());
    assert_eq!(sc.namespace(), Some("internal"));
    let svc = &sc.services()[0];
    assert_eq!(
        (
            svc.port_name(),
            svc.discovery_name(),
            svc.ingress_port_override()
        ),
        ("http", Some("web"), Some(15000))
    );
    assert_eq!(
        (
            svc.client_aliases()[0].port(),
            svc.client_aliases()[0].dns_name()
        ),
        (80, Some("web.internal"))
    );
    let log = sc.log_configuration().unwrap();
    assert_eq!(log.log_driver(), &ecs::LogDriver::Awslogs);
    assert_eq!(
        log.options()
            .unwrap()
            .get("awslogs-group")
            .map(String::as_str),
        Some("/ecs/web-sc")
    );
    assert_eq!(log.secret_options()[0].name(), "token");
    assert_eq!(
        input.availability_zone_rebalancing(),
        Some(&AvailabilityZoneRebalancing::Enabled)
    );
    assert_eq!(input.tags().len(), 2);
}

#[test]
fn create_input_maps_launch_type_and_placement() {
    let input = create_input(
        &ec2_spec(),
        "web",
        "arn:aws:ecs:eu-west-1:1:cluster/x",
        TD8,
        1,
        vec![],
        "uid",
    )
    .unwrap()
    .build()
    .unwrap();
    assert_eq!(input.launch_type(), Some(&LaunchType::Ec2));
    assert_eq!(
        input.placement_constraints()[0].r#type(),
        Some(&ecs::PlacementConstraintType::MemberOf)
    );
    assert_eq!(
        input.placement_constraints()[0].expression(),
        Some("attribute:ecs.instance-type =~ t3.*")
    );
    let strategy: Vec<_> = input
        .placement_strategy()
        .iter()
        .map(|s| (s.r#type().cloned(), s.field()))
        .collect();
    assert_eq!(
        strategy,
        [
            (
                Some(PlacementStrategyType::Spread),
                Some("attribute:ecs.availability-zone")
            ),
            (Some(PlacementStrategyType::Binpack), Some("memory")),
        ]
    );
}

#[test]
fn create_input_leaves_unset_fields_out() {
    let input = create_input(&minimal_spec(), "web", "main", TD8, 1, vec![], "uid")
        .unwrap()
        .build()
        .unwrap();
    assert_eq!(input.desired_count(), Some(1));
    assert_eq!(input.launch_type(), None);
    assert_eq!(input.capacity_provider_strategy, None);
    assert_eq!(input.network_configuration(), None);
    assert_eq!(input.load_balancers, None);
    assert_eq!(input.service_registries, None);
    assert_eq!(input.placement_strategy, None);
    assert_eq!(input.deployment_configuration(), None);
    assert_eq!(input.deployment_controller(), None);
    assert_eq!(input.enable_execute_command(), None);
    assert_eq!(input.propagate_tags(), None);
    assert_eq!(input.tags, None);
}

#[test]
fn create_input_sends_no_count_for_daemon() {
    let spec = EcsServiceSpec {
        scheduling_strategy: Some("DAEMON".into()),
        launch_type: Some("EC2".into()),
        ..minimal_spec()
    };
    let input = create_input(&spec, "agent", "main", TD8, 1, vec![], "uid")
        .unwrap()
        .build()
        .unwrap();
    assert_eq!(input.desired_count(), None);
    assert_eq!(
        input.scheduling_strategy(),
        Some(&SchedulingStrategy::Daemon)
    );
}

#[test]
fn invalid_specs_are_rejected_with_what_to_fix() {
    let both = EcsServiceSpec {
        launch_type: Some("FARGATE".into()),
        capacity_provider_strategy: vec![CapacityProviderStrategyItem {
            capacity_provider: "FARGATE".into(),
            ..Default::default()
        }],
        ..minimal_spec()
    };
    assert!(
        invalid_message(create_input(&both, "web", "main", TD8, 1, vec![], "uid"))
            .contains("launchType")
    );
    let daemon_count = EcsServiceSpec {
        scheduling_strategy: Some("DAEMON".into()),
        desired_count: Some(2),
        ..minimal_spec()
    };
    assert!(invalid_message(validate(&daemon_count)).contains("DAEMON"));
    let negative = EcsServiceSpec {
        desired_count: Some(-1),
        ..minimal_spec()
    };
    assert!(invalid_message(validate(&negative)).contains("negative"));
    let two_clusters = EcsServiceSpec {
        cluster: Some("other".into()),
        ..minimal_spec()
    };
    assert!(invalid_message(validate(&two_clusters)).contains("clusterRef"));
    let no_task_definition = EcsServiceSpec {
        task_definition_ref: None,
        ..minimal_spec()
    };
    assert!(invalid_message(validate(&no_task_definition)).contains("taskDefinition"));
    assert!(validate(&full_spec()).is_ok());
}

// --- update_input ---

#[test]
fn update_input_sends_every_field_ecs_changes_in_place() {
    let input = update_input(&full_spec(), "web-svc", "main", TD8, Some(5), true)
        .unwrap()
        .build()
        .unwrap();
    assert_eq!(input.cluster(), Some("main"));
    assert_eq!(input.service(), Some("web-svc"));
    assert_eq!(input.task_definition(), Some(TD8));
    assert_eq!(input.desired_count(), Some(5));
    assert_eq!(input.force_new_deployment(), Some(true));
    assert_eq!(input.capacity_provider_strategy().len(), 2);
    assert!(input.deployment_configuration().is_some());
    assert!(input.network_configuration().is_some());
    assert_eq!(input.load_balancers().len(), 1);
    assert_eq!(input.service_registries().len(), 1);
    assert_eq!(input.platform_version(), Some("1.4.0"));
    assert_eq!(input.health_check_grace_period_seconds(), Some(30));
    assert_eq!(input.enable_execute_command(), Some(true));
    assert_eq!(input.enable_ecs_managed_tags(), Some(true));
    assert_eq!(input.propagate_tags(), Some(&PropagateTags::Service));
    assert!(input.service_connect_configuration().unwrap().enabled());
    assert_eq!(
        input.availability_zone_rebalancing(),
        Some(&AvailabilityZoneRebalancing::Enabled)
    );
    // Fargate capacity: placement is not touched, not even cleared.
    assert_eq!(input.placement_constraints, None);
    assert_eq!(input.placement_strategy, None);
    // Immutable in ECS: never sent.
    assert_eq!(input.deployment_controller(), None);
}

#[test]
fn update_input_leaves_the_count_to_its_owner() {
    let input = update_input(&minimal_spec(), "web", "main", TD8, None, false)
        .unwrap()
        .build()
        .unwrap();
    assert_eq!(input.desired_count(), None);
    assert_eq!(input.force_new_deployment(), None);
    // Empty lists remove load balancers and registries that left the spec.
    assert_eq!(input.load_balancers, Some(vec![]));
    assert_eq!(input.service_registries, Some(vec![]));
    assert_eq!(input.capacity_provider_strategy, None);
    assert_eq!(input.network_configuration(), None);

    let daemon = EcsServiceSpec {
        scheduling_strategy: Some("DAEMON".into()),
        launch_type: Some("EC2".into()),
        ..minimal_spec()
    };
    assert_eq!(
        update_input(&daemon, "agent", "main", TD8, Some(3), false)
            .unwrap()
            .get_desired_count()
            .as_ref(),
        None
    );
}

#[test]
fn update_input_clears_placement_only_where_placement_exists() {
    let placement = |spec: &EcsServiceSpec| {
        let input = update_input(spec, "web", "main", TD8, None, false)
            .unwrap()
            .build()
            .unwrap();
        (
            input.placement_constraints.map(|v| v.len()),
            input.placement_strategy.map(|v| v.len()),
        )
    };
    assert_eq!(placement(&ec2_spec()), (Some(1), Some(2)));
    let ec2_without = EcsServiceSpec {
        placement_constraints: vec![],
        placement_strategy: vec![],
        ..ec2_spec()
    };
    assert_eq!(placement(&ec2_without), (Some(0), Some(0)));
    let asg = EcsServiceSpec {
        capacity_provider_strategy: vec![CapacityProviderStrategyItem {
            capacity_provider: "asg-cp".into(),
            ..Default::default()
        }],
        ..minimal_spec()
    };
    assert_eq!(placement(&asg), (Some(0), Some(0)));
    let fargate = EcsServiceSpec {
        launch_type: Some("FARGATE".into()),
        ..minimal_spec()
    };
    assert_eq!(placement(&fargate), (None, None));
    // Cluster default strategy: unknown capacity, leave placement alone.
    assert_eq!(placement(&minimal_spec()), (None, None));
}

#[test]
fn update_input_for_code_deploy_sends_only_what_ecs_accepts() {
    let spec = EcsServiceSpec {
        deployment_controller: Some(DeploymentController {
            type_: "CODE_DEPLOY".into(),
        }),
        ..full_spec()
    };
    let input = update_input(&spec, "web-svc", "main", TD8, Some(4), false)
        .unwrap()
        .build()
        .unwrap();
    assert_eq!(input.desired_count(), Some(4));
    assert!(input.deployment_configuration().is_some());
    assert_eq!(input.health_check_grace_period_seconds(), Some(30));
    assert_eq!(input.propagate_tags(), Some(&PropagateTags::Service));
    assert_eq!(input.task_definition(), None);
    assert_eq!(input.network_configuration(), None);
    assert_eq!(input.load_balancers, None);
    assert_eq!(input.service_registries, None);
    assert_eq!(input.platform_version(), None);
    assert_eq!(input.capacity_provider_strategy, None);
    assert_eq!(input.service_connect_configuration(), None);

    let external = EcsServiceSpec {
        deployment_controller: Some(DeploymentController {
            type_: "EXTERNAL".into(),
        }),
        ..full_spec()
    };
    let input = update_input(&external, "web-svc", "main", TD8, None, false)
        .unwrap()
        .build()
        .unwrap();
    assert_eq!(input.deployment_configuration(), None);
    assert_eq!(input.task_definition(), None);

    assert!(
        invalid_message(update_input(&spec, "web-svc", "main", TD8, None, true))
            .contains("restartedAt")
    );
}

// --- drift ---

#[test]
fn no_drift_when_ecs_matches_the_spec() {
    assert_eq!(
        drift(&full_spec(), TD8, &ecs_view_of_full_spec()),
        Vec::<&str>::new()
    );
}

#[test]
fn fields_ecs_does_not_return_are_not_drift() {
    assert_eq!(
        drift(&full_spec(), TD8, &emulator_view_of_full_spec()),
        Vec::<&str>::new()
    );
    let mut bare = steady(TD8, 1);
    bare.load_balancers = None;
    bare.service_registries = None;
    assert_eq!(drift(&full_spec(), TD8, &bare), ["desiredCount"]);
}

#[test]
fn drift_names_each_changed_field() {
    let mut s = ecs_view_of_full_spec();
    s.task_definition = Some(TD7.into());
    s.desired_count = 1;
    s.capacity_provider_strategy.as_mut().unwrap()[0].weight = 1;
    s.platform_version = Some("1.3.0".into());
    s.network_configuration = Some(
        ecs::NetworkConfiguration::builder()
            .awsvpc_configuration(
                ecs::AwsVpcConfiguration::builder()
                    .subnets("subnet-a")
                    .security_groups("sg-1")
                    .build()
                    .unwrap(),
            )
            .build(),
    );
    s.load_balancers.as_mut().unwrap()[0].container_port = Some(80);
    s.service_registries = Some(vec![]);
    s.health_check_grace_period_seconds = Some(0);
    s.deployment_configuration
        .as_mut()
        .unwrap()
        .minimum_healthy_percent = Some(100);
    s.enable_execute_command = true;
    s.propagate_tags = Some(PropagateTags::None);
    s.availability_zone_rebalancing = Some(AvailabilityZoneRebalancing::Disabled);
    s.deployments.as_mut().unwrap()[0].service_connect_configuration = Some(
        ecs::ServiceConnectConfiguration::builder()
            .enabled(false)
            .build(),
    );
    let spec = EcsServiceSpec {
        enable_execute_command: Some(false),
        ..full_spec()
    };
    assert_eq!(
        drift(&spec, TD8, &s),
        [
            "taskDefinition",
            "desiredCount",
            "capacityProviderStrategy",
            "platformVersion",
            "networkConfiguration",
            "loadBalancers",
            "serviceRegistries",
            "enableExecuteCommand",
            "serviceConnectConfiguration",
            "availabilityZoneRebalancing",
            "healthCheckGracePeriodSeconds",
            "deploymentConfiguration",
            "propagateTags",
        ]
    );
}

#[test]
fn desired_count_is_drift_only_when_the_spec_sets_it() {
    let scaled = steady(TD8, 7);
    assert!(drift(&minimal_spec(), TD8, &scaled).is_empty());
    let pinned = EcsServiceSpec {
        desired_count: Some(2),
        ..minimal_spec()
    };
    assert_eq!(drift(&pinned, TD8, &scaled), ["desiredCount"]);
}

#[test]
fn order_and_case_ecs_does_not_keep_are_not_drift() {
    let mut s = steady(TD8, 1);
    s.launch_type = Some(LaunchType::Ec2);
    s.placement_constraints = Some(vec![
        ecs::PlacementConstraint::builder()
            .r#type(ecs::PlacementConstraintType::MemberOf)
            .expression("attribute:ecs.instance-type =~ t3.*")
            .build(),
    ]);
    s.placement_strategy = Some(vec![
        ecs::PlacementStrategy::builder()
            .r#type(PlacementStrategyType::Spread)
            .field("attribute:ecs.availability-zone")
            .build(),
        ecs::PlacementStrategy::builder()
            .r#type(PlacementStrategyType::Binpack)
            .field("MEMORY")
            .build(),
    ]);
    s.load_balancers = Some(vec![]);
    s.service_registries = Some(vec![]);
    assert!(drift(&ec2_spec(), TD8, &s).is_empty());

    // Strategy order is precedence: a swap is drift.
    s.placement_strategy.as_mut().unwrap().reverse();
    assert_eq!(drift(&ec2_spec(), TD8, &s), ["placementStrategy"]);
}

#[test]
fn entries_removed_from_the_spec_are_drift_where_update_removes_them() {
    let mut s = ecs_view_of_full_spec();
    let spec = EcsServiceSpec {
        load_balancers: vec![],
        service_registries: vec![],
        ..full_spec()
    };
    assert_eq!(
        drift(&spec, TD8, &s),
        ["loadBalancers", "serviceRegistries"]
    );

    // Placement left behind on an EC2 service is removed; on unknown capacity it is left alone.
    s.placement_strategy = Some(vec![
        ecs::PlacementStrategy::builder()
            .r#type(PlacementStrategyType::Random)
            .build(),
    ]);
    let ec2 = EcsServiceSpec {
        placement_constraints: vec![],
        placement_strategy: vec![],
        ..ec2_spec()
    };
    let mut ec2_service = steady(TD8, 1);
    ec2_service.placement_strategy = s.placement_strategy.clone();
    assert_eq!(drift(&ec2, TD8, &ec2_service), ["placementStrategy"]);
    assert!(drift(&minimal_spec(), TD8, &ec2_service).is_empty());
}

#[test]
fn a_rolled_back_revision_is_not_drift() {
    let mut failed = deployment(
        "ecs-svc/2222",
        "ACTIVE",
        TD8,
        Some(DeploymentRolloutState::Failed),
        (0, 0, 0),
    );
    failed.rollout_state_reason =
        Some("ECS deployment circuit breaker: tasks failed to start.".into());
    let s = service(
        TD7,
        vec![
            deployment(
                "ecs-svc/3333",
                "PRIMARY",
                TD7,
                Some(DeploymentRolloutState::Completed),
                (1, 1, 0),
            ),
            failed,
        ],
        (1, 1, 0),
    );
    assert!(drift(&minimal_spec(), TD8, &s).is_empty());
    // A newer revision is deployed as usual.
    let td9 = "arn:aws:ecs:eu-west-1:123456789012:task-definition/web:9";
    assert_eq!(drift(&minimal_spec(), td9, &s), ["taskDefinition"]);
}

#[test]
fn a_task_definition_stored_as_family_revision_matches_its_arn() {
    let s = steady("web:8", 1);
    assert!(drift(&minimal_spec(), TD8, &s).is_empty());
    assert_eq!(drift(&minimal_spec(), TD7, &s), ["taskDefinition"]);
    // Two ARNs must match exactly (another account's web:8 is another task definition).
    let other = steady(
        "arn:aws:ecs:us-east-1:999999999999:task-definition/web:8",
        1,
    );
    assert_eq!(drift(&minimal_spec(), TD8, &other), ["taskDefinition"]);
}

#[test]
fn code_deploy_drift_leaves_out_what_update_cannot_fix() {
    let spec = EcsServiceSpec {
        deployment_controller: Some(DeploymentController {
            type_: "CODE_DEPLOY".into(),
        }),
        ..full_spec()
    };
    let mut s = ecs_view_of_full_spec();
    s.task_definition = Some(TD7.into());
    s.load_balancers = Some(vec![]);
    s.health_check_grace_period_seconds = Some(10);
    assert_eq!(drift(&spec, TD8, &s), ["healthCheckGracePeriodSeconds"]);
}

#[test]
fn immutable_conflicts_name_what_only_replacement_fixes() {
    let mut s = steady(TD8, 1);
    s.launch_type = Some(LaunchType::Fargate);
    assert!(immutable_conflicts(&minimal_spec(), &s).is_empty());
    assert_eq!(immutable_conflicts(&ec2_spec(), &s), ["launchType"]);
    let daemon = EcsServiceSpec {
        scheduling_strategy: Some("DAEMON".into()),
        deployment_controller: Some(DeploymentController {
            type_: "CODE_DEPLOY".into(),
        }),
        ..minimal_spec()
    };
    assert_eq!(
        immutable_conflicts(&daemon, &s),
        ["schedulingStrategy", "deploymentController"]
    );
}

// --- rollout ---

#[test]
fn steady_state_is_ready() {
    assert_eq!(rollout(&steady(TD8, 3), TD8), Rollout::Ready);
    assert_eq!(rollout(&steady(TD8, 0), TD8), Rollout::Ready);
}

#[test]
fn a_rollout_in_progress_is_not_ready() {
    let s = service(
        TD8,
        vec![
            deployment(
                "ecs-svc/2222",
                "PRIMARY",
                TD8,
                Some(DeploymentRolloutState::InProgress),
                (3, 1, 2),
            ),
            deployment(
                "ecs-svc/1111",
                "ACTIVE",
                TD7,
                Some(DeploymentRolloutState::Completed),
                (3, 3, 0),
            ),
        ],
        (3, 4, 2),
    );
    let Rollout::InProgress { message } = rollout(&s, TD8) else {
        panic!("expected InProgress")
    };
    assert_eq!(
        message,
        "deployment ecs-svc/2222 of web:8 in progress: 1 of 3 tasks running, 2 pending"
    );
}

#[test]
fn a_circuit_breaker_rollback_is_failed_with_the_ecs_reason() {
    let mut failed = deployment(
        "ecs-svc/2222",
        "ACTIVE",
        TD8,
        Some(DeploymentRolloutState::Failed),
        (0, 0, 0),
    );
    failed.rollout_state_reason =
        Some("ECS deployment circuit breaker: tasks failed to start.".into());
    failed.failed_tasks = 4;
    let s = service(
        TD7,
        vec![
            deployment(
                "ecs-svc/3333",
                "PRIMARY",
                TD7,
                Some(DeploymentRolloutState::InProgress),
                (3, 3, 0),
            ),
            failed,
        ],
        (3, 3, 0),
    );
    assert_eq!(
        rollout(&s, TD8),
        Rollout::Failed {
            message: "deployment ecs-svc/2222 of web:8 failed: ECS deployment circuit \
                      breaker: tasks failed to start.; ECS rolled the service back to web:7"
                .into()
        }
    );
}

#[test]
fn a_failed_primary_without_rollback_is_failed() {
    let mut primary = deployment(
        "ecs-svc/2222",
        "PRIMARY",
        TD8,
        Some(DeploymentRolloutState::Failed),
        (3, 0, 0),
    );
    primary.rollout_state_reason =
        Some("ECS deployment circuit breaker: tasks failed to start.".into());
    let s = service(TD8, vec![primary], (3, 0, 0));
    let Rollout::Failed { message } = rollout(&s, TD8) else {
        panic!("expected Failed")
    };
    assert!(message.ends_with("tasks failed to start."), "{message}");
    assert!(!message.contains("rolled"));
}

#[test]
fn an_old_failure_does_not_fail_a_new_revision() {
    let mut old = deployment(
        "ecs-svc/2222",
        "ACTIVE",
        TD7,
        Some(DeploymentRolloutState::Failed),
        (0, 0, 0),
    );
    old.rollout_state_reason =
        Some("ECS deployment circuit breaker: tasks failed to start.".into());
    let s = service(
        TD8,
        vec![
            deployment(
                "ecs-svc/3333",
                "PRIMARY",
                TD8,
                Some(DeploymentRolloutState::InProgress),
                (2, 1, 1),
            ),
            old,
        ],
        (2, 1, 1),
    );
    assert!(matches!(rollout(&s, TD8), Rollout::InProgress { .. }));
}

#[test]
fn fewer_running_than_desired_is_not_ready() {
    let mut s = steady(TD8, 3);
    s.running_count = 2;
    s.pending_count = 1;
    assert_eq!(
        rollout(&s, TD8),
        Rollout::InProgress {
            message: "2 of 3 tasks running, 1 pending".into()
        }
    );
}

#[test]
fn a_draining_service_is_not_active() {
    let mut s = steady(TD8, 0);
    s.status = Some("DRAINING".into());
    assert_eq!(
        rollout(&s, TD8),
        Rollout::NotActive {
            status: "DRAINING".into()
        }
    );
    s.status = Some("INACTIVE".into());
    assert_eq!(
        rollout(&s, TD8),
        Rollout::NotActive {
            status: "INACTIVE".into()
        }
    );
}

#[test]
fn a_primary_on_another_revision_is_waited_for() {
    let Rollout::InProgress { message } = rollout(&steady(TD7, 2), TD8) else {
        panic!("expected InProgress")
    };
    assert_eq!(
        message,
        "waiting for a deployment of web:8; the primary deployment runs web:7"
    );
}

#[test]
fn without_a_rollout_state_one_complete_deployment_is_ready() {
    let one = service(
        TD8,
        vec![deployment("ecs-svc/1", "PRIMARY", TD8, None, (2, 2, 0))],
        (2, 2, 0),
    );
    assert_eq!(rollout(&one, TD8), Rollout::Ready);
    let two = service(
        TD8,
        vec![
            deployment("ecs-svc/2", "PRIMARY", TD8, None, (2, 2, 0)),
            deployment("ecs-svc/1", "ACTIVE", TD7, None, (2, 1, 0)),
        ],
        (2, 3, 0),
    );
    assert!(matches!(rollout(&two, TD8), Rollout::InProgress { .. }));
    let short = service(
        TD8,
        vec![deployment("ecs-svc/1", "PRIMARY", TD8, None, (2, 1, 1))],
        (2, 1, 1),
    );
    assert!(matches!(rollout(&short, TD8), Rollout::InProgress { .. }));
}

#[test]
fn without_deployments_counts_and_task_definition_decide() {
    let mut s = service(TD8, vec![], (2, 2, 0));
    s.deployments = None;
    assert_eq!(rollout(&s, TD8), Rollout::Ready);
    assert!(matches!(rollout(&s, TD7), Rollout::InProgress { .. }));
    s.running_count = 1;
    assert!(matches!(rollout(&s, TD8), Rollout::InProgress { .. }));
    s.status = None;
    assert!(matches!(rollout(&s, TD8), Rollout::InProgress { .. }));
}

// --- status ---

#[test]
fn status_facts_carry_counts_deployments_and_revision() {
    let s = service(
        TD8,
        vec![
            deployment(
                "ecs-svc/2222",
                "PRIMARY",
                TD8,
                Some(DeploymentRolloutState::InProgress),
                (3, 1, 2),
            ),
            deployment(
                "ecs-svc/1111",
                "ACTIVE",
                TD7,
                Some(DeploymentRolloutState::Completed),
                (3, 3, 0),
            ),
        ],
        (3, 4, 2),
    );
    let status = status_facts(&s);
    assert_eq!(
        status.service_arn.as_deref(),
        Some("arn:aws:ecs:eu-west-1:123456789012:service/main/web-svc")
    );
    assert_eq!(status.service_name.as_deref(), Some("web-svc"));
    assert_eq!(
        status.cluster_arn.as_deref(),
        Some("arn:aws:ecs:eu-west-1:123456789012:cluster/main")
    );
    assert_eq!(status.status.as_deref(), Some("ACTIVE"));
    assert_eq!(
        (
            status.desired_count,
            status.running_count,
            status.pending_count
        ),
        (Some(3), Some(4), Some(2))
    );
    assert_eq!(status.replicas, Some(4));
    assert_eq!(status.task_definition_arn.as_deref(), Some(TD8));
    assert_eq!(status.task_definition_revision, Some(8));
    assert_eq!(status.deployments.len(), 2);
    let primary = &status.deployments[0];
    assert_eq!(primary.id.as_deref(), Some("ecs-svc/2222"));
    assert_eq!(primary.status.as_deref(), Some("PRIMARY"));
    assert_eq!(primary.rollout_state.as_deref(), Some("IN_PROGRESS"));
    assert_eq!(
        primary.rollout_state_reason.as_deref(),
        Some("ECS deployment ecs-svc/2222 in progress.")
    );
    assert_eq!(primary.task_definition.as_deref(), Some(TD8));
    assert_eq!(
        (
            primary.desired_count,
            primary.running_count,
            primary.pending_count,
            primary.failed_tasks
        ),
        (3, 1, 2, 0)
    );
    assert_eq!(
        primary.created_at,
        Some(Time(Timestamp::from_second(1_700_000_000).unwrap()))
    );
    assert_eq!(
        primary.updated_at.as_ref().map(|t| t.0.as_millisecond()),
        Some(1_700_000_300_250)
    );
    assert!(
        status.conditions.is_empty() && status.selector.is_none() && status.last_event_id.is_none()
    );
}

#[test]
fn task_definition_revision_is_the_number_after_the_last_colon() {
    assert_eq!(task_definition_revision(TD8), Some(8));
    assert_eq!(task_definition_revision("web:12"), Some(12));
    assert_eq!(task_definition_revision("web"), None);
    assert_eq!(
        task_definition_revision("arn:aws:ecs:eu-west-1:123456789012:task-definition/web"),
        None
    );
}

#[test]
fn selector_is_a_valid_label_selector() {
    assert_eq!(selector("web"), "ecs.operator.dev/service=web");
    let long = format!("{}-{}", "a".repeat(62), "b".repeat(20));
    assert_eq!(
        selector(&long),
        format!("ecs.operator.dev/service={}", "a".repeat(62))
    );
}

// --- events ---

fn event(id: &str, secs: i64, millis: u32) -> ServiceEvent {
    ServiceEvent::builder()
        .id(id)
        .created_at(at(secs, millis))
        .message(format!("(service web-svc) event {id}"))
        .build()
}

/// `count` events one second apart, newest first as ECS returns them; ids e000 (oldest)...
fn history(count: usize) -> Vec<ServiceEvent> {
    (0..count)
        .rev()
        .map(|i| event(&format!("e{i:03}"), 1_700_000_000 + i as i64, 0))
        .collect()
}

fn ids(events: &[&ServiceEvent]) -> Vec<String> {
    events.iter().map(|e| e.id().unwrap().to_owned()).collect()
}

#[test]
fn a_fresh_object_mirrors_only_the_newest_events_oldest_first() {
    let events = history(100);
    let mirrored = events_to_mirror(&events, None);
    assert_eq!(mirrored.len(), MAX_MIRRORED_EVENTS);
    assert_eq!(mirrored.first().unwrap().id(), Some("e080"));
    assert_eq!(mirrored.last().unwrap().id(), Some("e099"));
}

#[test]
fn only_events_newer_than_the_cursor_are_mirrored() {
    let events = history(10);
    let cursor = EventCursor::of(&events[3]).unwrap(); // e006
    assert_eq!(
        ids(&events_to_mirror(&events, Some(&cursor))),
        ["e007", "e008", "e009"]
    );
    let newest = EventCursor::of(&events[0]).unwrap();
    assert!(events_to_mirror(&events, Some(&newest)).is_empty());
}

#[test]
fn events_at_the_same_instant_are_ordered_by_id() {
    let events = vec![
        event("c", 100, 5),
        event("a", 100, 5),
        event("b", 100, 5),
        event("z", 100, 4),
    ];
    assert_eq!(ids(&events_to_mirror(&events, None)), ["z", "a", "b", "c"]);
    let cursor = EventCursor::of(&events[1]).unwrap(); // a
    assert_eq!(ids(&events_to_mirror(&events, Some(&cursor))), ["b", "c"]);
    // Millisecond precision counts: 100.004 < 100.005.
    let cursor = EventCursor::of(&events[3]).unwrap();
    assert_eq!(
        ids(&events_to_mirror(&events, Some(&cursor))),
        ["a", "b", "c"]
    );
}

#[test]
fn events_without_a_time_are_skipped() {
    let events = vec![
        ServiceEvent::builder().id("x").message("no time").build(),
        event("a", 100, 0),
    ];
    assert_eq!(ids(&events_to_mirror(&events, None)), ["a"]);
}

#[test]
fn the_cursor_survives_a_round_trip_through_status() {
    let events = vec![
        event("b", 1_700_000_000, 123),
        event("a", 1_700_000_000, 122),
    ];
    let mirrored = events_to_mirror(&events, None);
    let mut status = EcsServiceStatus::default();
    EventCursor::of(mirrored.last().unwrap())
        .unwrap()
        .write_to(&mut status);
    assert_eq!(
        status.last_event_time.as_deref(),
        Some("2023-11-14T22:13:20.123Z")
    );
    assert_eq!(status.last_event_id.as_deref(), Some("b"));
    // Through JSON, as after an operator restart.
    let status: EcsServiceStatus =
        serde_json::from_value(serde_json::to_value(&status).unwrap()).unwrap();
    let cursor = EventCursor::from_status(&status).unwrap();
    assert!(events_to_mirror(&events, Some(&cursor)).is_empty());
    assert_eq!(EventCursor::from_status(&EcsServiceStatus::default()), None);
}

#[test]
fn client_token_is_stable_per_incarnation_and_fits_ecs() {
    let uid = "0f1c2d3e-4a5b-6c7d-8e9f-0a1b2c3d4e5f";
    let first = client_token(uid, None);
    assert_eq!(first, client_token(uid, None), "a retry reuses the token");
    assert_eq!(first.len(), 32);
    assert!(first.chars().all(|c| c.is_ascii_hexdigit()));
    let again = client_token(uid, Some("2026-11-30T01:00:00.123Z"));
    assert_ne!(again, first, "a service created again gets a new token");
    assert_ne!(client_token("another-uid", None), first);
}

#[test]
fn a_new_capacity_provider_strategy_forces_a_deployment() {
    let spec = EcsServiceSpec {
        capacity_provider_strategy: vec![CapacityProviderStrategyItem {
            capacity_provider: "FARGATE_SPOT".into(),
            weight: Some(1),
            base: None,
        }],
        ..EcsServiceSpec::default()
    };
    let on_launch_type = Service::builder()
        .launch_type(ecs::LaunchType::Fargate)
        .build();
    assert!(changes_capacity_provider_strategy(&spec, &on_launch_type));
    let same = Service::builder()
        .capacity_provider_strategy(
            ecs::CapacityProviderStrategyItem::builder()
                .capacity_provider("FARGATE_SPOT")
                .weight(1)
                .base(0)
                .build()
                .unwrap(),
        )
        .build();
    assert!(!changes_capacity_provider_strategy(&spec, &same));
    let other = Service::builder()
        .capacity_provider_strategy(
            ecs::CapacityProviderStrategyItem::builder()
                .capacity_provider("FARGATE")
                .weight(1)
                .build()
                .unwrap(),
        )
        .build();
    assert!(changes_capacity_provider_strategy(&spec, &other));
    // No strategy in the spec: nothing is sent, nothing forced.
    assert!(!changes_capacity_provider_strategy(
        &EcsServiceSpec::default(),
        &on_launch_type
    ));
}
