//! `kubectl ecs`: what on-call needs without leaving kubectl. Every object with its ECS state,
//! a service's tasks with why they stopped, their logs from CloudWatch Logs, the events of the
//! ECS kinds, and a restart. It reads the Kubernetes objects through the current kubeconfig
//! and ECS and CloudWatch Logs through the AWS default credential chain; only `restart`,
//! `approve` and `rollback` write (an annotation the operator acts on).

mod approval;
mod logs;
mod status;
mod table;
mod tasks;

use std::time::Duration;

use clap::{Parser, Subcommand};
use kube::{Api, Client};

use crate::api::{EcsService, EcsTask};

#[derive(Debug, Parser)]
#[command(
    name = "kubectl-ecs",
    version,
    about = "ECS clusters, task definitions and services of ecs-operator, from kubectl"
)]
pub struct Cli {
    /// Namespace (default: the kubeconfig context's).
    #[arg(short = 'n', long, global = true)]
    pub namespace: Option<String>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Every ECS object of the namespace with its ECS state and why it is not Ready.
    Status {
        /// Every namespace.
        #[arg(short = 'A', long)]
        all_namespaces: bool,
    },
    /// A service's (or an EcsTask's) running and recently stopped tasks, with stop reasons and
    /// exit codes.
    Tasks {
        /// The EcsService or EcsTask.
        name: String,
    },
    /// Logs of a service's tasks (or of one task) from CloudWatch Logs, through the awslogs
    /// options of its task definition.
    Logs(logs::LogsArgs),
    /// Events of the namespace's ECS objects (or of one), oldest first.
    Events {
        /// Only this object's (any ECS kind).
        name: Option<String>,
    },
    /// A new deployment of a service with the same revision (sets
    /// ecs.operator.dev/restartedAt, which the operator acts on once).
    Restart {
        /// The EcsService.
        service: String,
    },
    /// Continue a service deployment paused at a PAUSE lifecycle hook (sets
    /// ecs.operator.dev/approve to the hook's ID, which the operator acts on once).
    Approve {
        /// The EcsService.
        service: String,
    },
    /// Roll back a service's deployment in progress (sets ecs.operator.dev/rollback to the
    /// service deployment's ID, which the operator acts on once).
    Rollback {
        /// The EcsService.
        service: String,
    },
}

/// Runs one command.
pub async fn run(cli: Cli) -> Result<(), String> {
    let client = Client::try_default()
        .await
        .map_err(|e| format!("no Kubernetes cluster: {e}"))?;
    let namespace = cli
        .namespace
        .unwrap_or_else(|| client.default_namespace().to_string());
    match cli.command {
        Command::Status { all_namespaces } => {
            let scope = (!all_namespaces).then_some(namespace.as_str());
            status::status(&client, scope).await
        }
        Command::Events { name } => status::events(&client, &namespace, name.as_deref()).await,
        Command::Tasks { name } => {
            let workload = workload_named(&client, &namespace, &name).await?;
            tasks::tasks(&workload, &aws().await).await
        }
        Command::Logs(args) => logs::logs(&client, &namespace, args, &aws().await).await,
        Command::Restart { service } => status::restart(&client, &namespace, &service).await,
        Command::Approve { service } => approval::approve(&client, &namespace, &service).await,
        Command::Rollback { service } => approval::rollback(&client, &namespace, &service).await,
    }
}

async fn aws() -> aws_config::SdkConfig {
    crate::operator::aws_config(None).await
}

/// What runs tasks: a service, or a run.
pub enum Workload {
    Service(Box<EcsService>),
    Run(Box<EcsTask>),
}

/// The EcsService `name`, else the EcsTask `name`.
async fn workload_named(client: &Client, namespace: &str, name: &str) -> Result<Workload, String> {
    if let Ok(service) = service_named(client, namespace, name).await {
        return Ok(Workload::Service(Box::new(service)));
    }
    Api::<EcsTask>::namespaced(client.clone(), namespace)
        .get_opt(name)
        .await
        .map_err(|e| {
            format!(
                "reading EcsTask {namespace}/{name}: {}",
                crate::cli::kube_message(&e)
            )
        })?
        .map(|run| Workload::Run(Box::new(run)))
        .ok_or_else(|| format!("no EcsService or EcsTask {name} in namespace {namespace}"))
}

/// The EcsService `name`, with a message that says where it was looked for.
async fn service_named(client: &Client, namespace: &str, name: &str) -> Result<EcsService, String> {
    Api::<EcsService>::namespaced(client.clone(), namespace)
        .get_opt(name)
        .await
        .map_err(|e| {
            format!(
                "reading EcsService {namespace}/{name}: {}",
                crate::cli::kube_message(&e)
            )
        })?
        .ok_or_else(|| format!("EcsService {namespace}/{name} not found"))
}

/// Where a service runs in ECS, from what the operator recorded in its status.
struct Placement {
    region: String,
    cluster: String,
    service: String,
}

impl Placement {
    fn of(service: &EcsService, default_region: Option<&str>) -> Result<Placement, String> {
        let status = service.status.clone().unwrap_or_default();
        let arn = status.service_arn.as_deref().ok_or_else(|| {
            format!(
                "EcsService {} has no ECS service yet (see kubectl ecs status)",
                kube::ResourceExt::name_any(service)
            )
        })?;
        let region = crate::ecs::arn_region(arn)
            .or(default_region)
            .unwrap_or("us-east-1")
            .to_string();
        let cluster = status
            .cluster_arn
            .ok_or_else(|| "the status names no cluster".to_string())?;
        let service = status
            .service_name
            .unwrap_or_else(|| kube::ResourceExt::name_any(service));
        Ok(Placement {
            region,
            cluster,
            service,
        })
    }
}

impl Placement {
    /// Where an EcsTask's tasks run, and their ARNs, from its status.
    fn of_run(
        run: &EcsTask,
        default_region: Option<&str>,
    ) -> Result<(Placement, Vec<String>), String> {
        let status = run.status.clone().unwrap_or_default();
        let cluster = status.cluster_arn.clone().ok_or_else(|| {
            format!(
                "EcsTask {} has started no task yet (see kubectl ecs status)",
                kube::ResourceExt::name_any(run)
            )
        })?;
        let region = crate::ecs::arn_region(&cluster)
            .or(default_region)
            .unwrap_or("us-east-1")
            .to_string();
        let arns = status
            .tasks
            .iter()
            .map(|t| t.task_arn.clone())
            .filter(|arn| !arn.is_empty())
            .collect();
        let placement = Placement {
            region,
            cluster,
            service: String::new(),
        };
        Ok((placement, arns))
    }
}

/// An age as kubectl prints it: 45s, 12m, 3h, 2d.
fn age(elapsed: Duration) -> String {
    let secs = elapsed.as_secs();
    match secs {
        0..120 => format!("{secs}s"),
        120..7200 => format!("{}m", secs / 60),
        7200..172_800 => format!("{}h", secs / 3600),
        _ => format!("{}d", secs / 86_400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_as_kubectl_prints_them() {
        let ages: Vec<String> = [5, 130, 7300, 200_000]
            .into_iter()
            .map(|s| age(Duration::from_secs(s)))
            .collect();
        assert_eq!(ages, ["5s", "2m", "2h", "2d"]);
    }
}
