//! The command line: run the controllers, print the CRDs, print the version.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::runtime::telemetry::LogFormat;

#[derive(Debug, Parser)]
#[command(
    name = "ecs-operator",
    version,
    about = "Runs AWS ECS clusters, task definitions and services from Kubernetes"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the controllers (the default in a cluster).
    Run(RunArgs),
    /// Print the CustomResourceDefinitions as YAML, or write one file per kind.
    Crds {
        /// Write `<plural>.ecs.operator.dev.yaml` files into this folder instead of stdout.
        #[arg(long)]
        output_dir: Option<PathBuf>,
    },
    /// Print the version.
    Version,
}

#[derive(Clone, Debug, Args)]
pub struct RunArgs {
    /// Namespaces to watch (repeat or comma-separate); all namespaces when omitted.
    #[arg(long = "namespace", env = "WATCH_NAMESPACES", value_delimiter = ',')]
    pub namespaces: Vec<String>,

    /// How often Ready objects are compared with ECS to correct drift.
    #[arg(long, env = "RESYNC_PERIOD", default_value = "10m", value_parser = resync_period)]
    pub resync_period: Duration,

    /// Objects of one kind reconciled at the same time.
    #[arg(long, env = "CONCURRENCY", default_value_t = 4)]
    pub concurrency: u16,

    /// AWS region when an object sets none (else the AWS_REGION / profile default).
    #[arg(long, env = "ECS_OPERATOR_REGION")]
    pub region: Option<String>,

    /// Address of the admin server (/livez, /readyz, /metrics).
    #[arg(long, env = "ADMIN_ADDRESS", default_value = "0.0.0.0:8080")]
    pub admin_address: SocketAddr,

    /// Log filter, for example `info` or `ecs_operator=debug,info`.
    #[arg(long, env = "LOG_LEVEL", default_value = "info")]
    pub log_level: String,

    /// Log format.
    #[arg(long, env = "LOG_FORMAT", value_enum, default_value = "json")]
    pub log_format: LogFormat,

    /// Reconcile only while holding the leader Lease, so that several replicas can run.
    #[arg(long, env = "LEADER_ELECTION", default_value_t = false)]
    pub leader_election: bool,

    /// Name of the coordination.k8s.io Lease used for leader election.
    #[arg(long, env = "LEASE_NAME", default_value = "ecs-operator")]
    pub lease_name: String,

    /// Namespace of the Lease (the operator's own namespace in a cluster).
    #[arg(long, env = "LEASE_NAMESPACE", default_value = "default")]
    pub lease_namespace: String,

    /// How long a lease is valid without renewal: a dead leader is replaced within this time.
    #[arg(long, env = "LEASE_DURATION", default_value = "15s", value_parser = humantime::parse_duration)]
    pub lease_duration: Duration,
}

/// A resync period of at least a second: zero would requeue every Ready object at once, forever.
fn resync_period(value: &str) -> Result<Duration, String> {
    let period = humantime::parse_duration(value).map_err(|e| e.to_string())?;
    if period < Duration::from_secs(1) {
        return Err(format!(
            "{value} is too short: the resync period is at least 1s"
        ));
    }
    Ok(period)
}
