//! Prints how long the pure steps of a reconcile take, per call: the spec hash that decides
//! whether to register a revision, the RegisterTaskDefinition request, the service drift and
//! readiness checks, and condition building. Figures, not assertions: `make bench`.

use std::hint::black_box;
use std::time::Instant;

use aws_sdk_ecs::types as ecs;
use ecs_operator::api::{EcsServiceSpec, EcsTaskDefinitionSpec};
use ecs_operator::mapping::conditions::Health;
use ecs_operator::mapping::{service, task_definition};

fn measure(name: &str, iterations: u32, mut f: impl FnMut()) {
    for _ in 0..iterations / 10 {
        f();
    }
    let start = Instant::now();
    for _ in 0..iterations {
        f();
    }
    let per_call = start.elapsed() / iterations;
    println!(
        "{name:<44} {:>10.2} µs/call  ({iterations} calls)",
        per_call.as_secs_f64() * 1e6
    );
}

fn task_definition_spec(containers: usize) -> EcsTaskDefinitionSpec {
    let container = |i: usize| {
        serde_json::json!({
            "name": format!("c{i}"),
            "image": format!("123456789012.dkr.ecr.us-east-1.amazonaws.com/app:{i}"),
            "essential": i == 0,
            "portMappings": [{"containerPort": 8000 + i, "protocol": "tcp"}],
            "environment": (0..20).map(|e| serde_json::json!({"name": format!("VAR_{e}"), "value": "x".repeat(40)})).collect::<Vec<_>>(),
            "secrets": [{"name": "DB", "valueFrom": "arn:aws:secretsmanager:us-east-1:123456789012:secret:db"}],
            "healthCheck": {"command": ["CMD-SHELL", "true"], "interval": 10},
            "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": "/ecs/app", "awslogs-region": "us-east-1", "awslogs-stream-prefix": "app"}}
        })
    };
    serde_json::from_value(serde_json::json!({
        "family": "bench",
        "requiresCompatibilities": ["FARGATE"],
        "networkMode": "awsvpc",
        "cpu": "1024",
        "memory": "2048",
        "containerDefinitions": (0..containers).map(container).collect::<Vec<_>>()
    }))
    .expect("valid spec")
}

fn service_spec() -> EcsServiceSpec {
    serde_json::from_value(serde_json::json!({
        "cluster": "prod",
        "taskDefinition": "arn:aws:ecs:us-east-1:123456789012:task-definition/web:7",
        "desiredCount": 3,
        "launchType": "FARGATE",
        "networkConfiguration": {"awsvpcConfiguration": {"subnets": ["subnet-1", "subnet-2"], "securityGroups": ["sg-1"]}},
        "deploymentConfiguration": {"maximumPercent": 200, "minimumHealthyPercent": 100,
            "deploymentCircuitBreaker": {"enable": true, "rollback": true}}
    }))
    .expect("valid spec")
}

fn described_service() -> ecs::Service {
    let td = "arn:aws:ecs:us-east-1:123456789012:task-definition/web:7";
    ecs::Service::builder()
        .service_name("web")
        .status("ACTIVE")
        .task_definition(td)
        .desired_count(3)
        .running_count(3)
        .launch_type(ecs::LaunchType::Fargate)
        .deployments(
            ecs::Deployment::builder()
                .id("ecs-svc/1")
                .status("PRIMARY")
                .task_definition(td)
                .desired_count(3)
                .running_count(3)
                .rollout_state(ecs::DeploymentRolloutState::Completed)
                .build(),
        )
        .build()
}

fn main() {
    println!("ecs-operator pure reconcile steps (debug builds are ~10x slower; use `cargo bench`)");
    for containers in [1, 10] {
        let spec = task_definition_spec(containers);
        measure(
            &format!("spec_hash, {containers} container(s)"),
            2_000,
            || {
                black_box(task_definition::spec_hash(black_box(&spec)));
            },
        );
        measure(
            &format!("register_input, {containers} container(s)"),
            2_000,
            || {
                black_box(
                    task_definition::register_input(black_box(&spec), "bench", vec![])
                        .unwrap()
                        .build()
                        .unwrap(),
                );
            },
        );
    }
    let spec = service_spec();
    let current = described_service();
    let td = "arn:aws:ecs:us-east-1:123456789012:task-definition/web:7";
    measure("service drift", 20_000, || {
        black_box(service::drift(black_box(&spec), td, black_box(&current)));
    });
    measure("service rollout (readiness)", 20_000, || {
        black_box(service::rollout(black_box(&current), td));
    });
    measure("conditions for a Ready object", 20_000, || {
        black_box(
            Health::Ready {
                message: "ok".into(),
            }
            .conditions(Some(1), &[], k8s_openapi::jiff::Timestamp::now()),
        );
    });
}
