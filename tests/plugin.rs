//! `kubectl ecs` (the built `kubectl-ecs` binary) against the local environment: status, a
//! service's tasks, their logs from CloudWatch Logs (moto's, behind the emulator), events and a
//! restart the operator acts on.

mod harness;
mod support;

use std::process::Command;

use ecs_operator::api::{EcsCluster, EcsService, EcsTaskDefinition};
use harness::{TestOperator, is_ready, manifest, setup, wait_for};
use kube::api::{Api, PostParams};
use serde_json::json;

/// Runs `kubectl-ecs ARGS -n NS`: exit code, stdout, stderr.
fn plugin(ns: &str, args: &[&str]) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_kubectl-ecs"))
        .args(args)
        .args(["-n", ns])
        .envs(&support::env().vars)
        .output()
        .expect("kubectl-ecs runs");
    // Shown with --nocapture: the README's sample output comes from here.
    eprintln!(
        "$ kubectl ecs {}\n{}{}",
        args.join(" "),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).to_string(),
        String::from_utf8_lossy(&output.stderr).to_string(),
    )
}

fn logs_client() -> aws_sdk_cloudwatchlogs::Client {
    let env = support::env();
    let config = aws_sdk_cloudwatchlogs::Config::builder()
        .behavior_version(aws_sdk_cloudwatchlogs::config::BehaviorVersion::latest())
        .region(aws_sdk_cloudwatchlogs::config::Region::new(
            env.region.clone(),
        ))
        .endpoint_url(&env.ecs_endpoint)
        .credentials_provider(aws_sdk_cloudwatchlogs::config::Credentials::new(
            &env.access_key_id,
            &env.secret_access_key,
            None,
            None,
            "tests",
        ))
        .build();
    aws_sdk_cloudwatchlogs::Client::from_conf(config)
}

#[tokio::test]
async fn kubectl_ecs_shows_status_tasks_logs_and_events_and_restarts() {
    let (client, ns) = setup("plugin").await;
    let _operator = TestOperator::start(&client, &ns).await;
    let (cluster, family, service) = (
        support::unique_name("apps"),
        support::unique_name("web"),
        support::unique_name("web"),
    );
    let group = format!("/ecs/{family}");
    let (subnets, security_group) = harness::emulator_network();
    let post = PostParams::default();
    Api::<EcsCluster>::namespaced(client.clone(), &ns)
        .create(
            &post,
            &manifest(json!({
                "apiVersion": "ecs.operator.dev/v1alpha1", "kind": "EcsCluster",
                "metadata": {"name": "apps"},
                "spec": {"clusterName": cluster, "capacityProviders": ["FARGATE"]}
            })),
        )
        .await
        .unwrap();
    Api::<EcsTaskDefinition>::namespaced(client.clone(), &ns)
        .create(
            &post,
            &manifest(json!({
                "apiVersion": "ecs.operator.dev/v1alpha1", "kind": "EcsTaskDefinition",
                "metadata": {"name": "web"},
                "spec": {
                    "family": family, "requiresCompatibilities": ["FARGATE"],
                    "networkMode": "awsvpc", "cpu": "256", "memory": "512",
                    "executionRoleArn": "arn:aws:iam::123456789012:role/ecsTaskExecutionRole",
                    "containerDefinitions": [{
                        "name": "web", "image": "nginx:1.27", "essential": true,
                        "logConfiguration": {"logDriver": "awslogs", "options": {
                            "awslogs-group": group, "awslogs-region": support::env().region,
                            "awslogs-stream-prefix": "ecs"}}
                    }]
                }
            })),
        )
        .await
        .unwrap();
    let services: Api<EcsService> = Api::namespaced(client.clone(), &ns);
    services
        .create(
            &post,
            &manifest(json!({
                "apiVersion": "ecs.operator.dev/v1alpha1", "kind": "EcsService",
                "metadata": {"name": "web"},
                "spec": {
                    "serviceName": service, "clusterRef": {"name": "apps"},
                    "taskDefinitionRef": {"name": "web"}, "desiredCount": 2,
                    "launchType": "FARGATE",
                    "networkConfiguration": {"awsvpcConfiguration": {
                        "subnets": subnets, "securityGroups": [security_group]}}
                }
            })),
        )
        .await
        .unwrap();
    wait_for(&services, "web", "Ready", is_ready).await;

    // status: one line per object, the service with its counts and revision.
    let (code, out, err) = plugin(&ns, &["status"]);
    assert_eq!(code, 0, "{err}");
    let lines: Vec<Vec<&str>> = out
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(
        lines[0],
        ["KIND", "NAME", "READY", "REASON", "ECS", "MESSAGE"]
    );
    assert!(
        lines.iter().any(|l| l.len() >= 6
            && l[..6] == ["EcsCluster", "apps", "True", "Ready", &cluster, "ACTIVE,"][..]),
        "{out}"
    );
    let revision = format!("{family}:1");
    assert!(
        lines.contains(&vec![
            "EcsService",
            "web",
            "True",
            "Ready",
            &service,
            "2/2",
            "running,",
            &revision
        ]),
        "{out}"
    );
    assert!(
        lines.contains(&vec![
            "EcsTaskDefinition",
            "web",
            "True",
            "Ready",
            &revision
        ]),
        "{out}"
    );

    // tasks: the two running tasks of revision 1.
    let (code, out, err) = plugin(&ns, &["tasks", "web"]);
    assert_eq!(code, 0, "{err}");
    let running: Vec<&str> = out
        .lines()
        .skip(1)
        .filter(|l| l.split_whitespace().nth(1) == Some("RUNNING"))
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    assert_eq!(running.len(), 2, "{out}");
    assert!(out.contains(&revision), "{out}");

    // logs: what the tasks wrote to their awslogs streams (`ecs/web/<task ID>`).
    let logs = logs_client();
    logs.create_log_group()
        .log_group_name(&group)
        .send()
        .await
        .unwrap();
    for (i, task) in running.iter().enumerate() {
        let stream = format!("ecs/web/{task}");
        logs.create_log_stream()
            .log_group_name(&group)
            .log_stream_name(&stream)
            .send()
            .await
            .unwrap();
        logs.put_log_events()
            .log_group_name(&group)
            .log_stream_name(&stream)
            .log_events(
                aws_sdk_cloudwatchlogs::types::InputLogEvent::builder()
                    .timestamp(k8s_openapi::jiff::Timestamp::now().as_millisecond() + i as i64)
                    .message(format!("hello from task {i}"))
                    .build()
                    .unwrap(),
            )
            .send()
            .await
            .unwrap();
    }
    let (code, out, err) = plugin(&ns, &["logs", "web"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        [
            format!("[{}/web] hello from task 0", running[0]),
            format!("[{}/web] hello from task 1", running[1]),
        ]
    );
    let (code, out, err) = plugin(&ns, &["logs", running[1], "-c", "web"]);
    assert_eq!((code, out.as_str()), (0, "hello from task 1\n"), "{err}");

    // restart: the operator forces one new deployment.
    let (code, out, err) = plugin(&ns, &["restart", "web"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with("ecsservice.ecs.operator.dev/web restarted"),
        "{out}"
    );
    harness::wait_for_event::<EcsService>(&client, &ns, "web", "Updated", |note| {
        note.contains("forced a new deployment")
    })
    .await;

    // events: the ECS objects' events, the restart among them.
    let (code, out, err) = plugin(&ns, &["events"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("LAST SEEN"), "{out}");
    assert!(out.contains("EcsService/web"), "{out}");
    assert!(out.contains("forced a new deployment"), "{out}");

    // A name that is not there: a sentence, exit 1.
    let (code, _, err) = plugin(&ns, &["tasks", "nothing"]);
    assert_eq!(code, 1);
    assert_eq!(
        err.trim(),
        format!("error: no EcsService or EcsTask nothing in namespace {ns}")
    );
}
