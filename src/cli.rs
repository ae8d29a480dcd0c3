//! The command line: run the controllers, diff manifests against ECS, print the CRDs, print
//! the version.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::runtime::leadership::MIN_LEASE_DURATION;
use crate::runtime::telemetry::LogFormat;

/// Writes a line of a command's output. A reader that went away (`| head`) ends the command
/// quietly, as it ends other command-line tools, instead of a panic.
pub fn output(line: impl std::fmt::Display) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    if let Err(error) = writeln!(out, "{line}") {
        if error.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("error: writing the output: {error}");
        std::process::exit(1);
    }
}

/// `println!` for a command's output, through [`output`].
#[macro_export]
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::cli::output(format_args!($($arg)*))
    };
}

/// An error of a one-shot command (diff, import, the kubectl plugin): the operator's own words
/// without "retrying", which only the operator does; a Kubernetes API refusal as its message.
pub fn one_shot(error: impl std::fmt::Display) -> String {
    error.to_string().trim_end_matches("; retrying").to_string()
}

/// A Kubernetes API error as a sentence: the API server's message (a 403's "... is forbidden:
/// ..."), not a debug dump of its Status.
pub fn kube_message(error: &kube::Error) -> String {
    match error {
        kube::Error::Api(status) => status.message.clone(),
        other => other.to_string(),
    }
}

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
    /// Print what the operator would do in ECS for these manifests (read-only); exit 1 when
    /// something would change, as `kubectl diff`.
    Diff(crate::diff::DiffArgs),
    /// Write existing ECS clusters, their services and task definitions as manifests (read-only).
    Import(crate::import::ImportArgs),
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
    #[arg(long, env = "LEASE_DURATION", default_value = "15s", value_parser = lease_duration)]
    pub lease_duration: Duration,
}

/// A resync period of at least a second: zero would requeue every Ready object at once, forever.
fn resync_period(value: &str) -> Result<Duration, String> {
    duration_of_at_least(value, Duration::from_secs(1), "the resync period")
}

/// A lease of whole seconds, long enough for a retried renewal (see runtime::leadership).
fn lease_duration(value: &str) -> Result<Duration, String> {
    let duration = duration_of_at_least(value, MIN_LEASE_DURATION, "the lease duration")?;
    if duration.subsec_nanos() != 0 {
        return Err(format!("{value}: the lease duration is whole seconds"));
    }
    Ok(duration)
}

fn duration_of_at_least(value: &str, minimum: Duration, what: &str) -> Result<Duration, String> {
    let duration = humantime::parse_duration(value).map_err(|e| e.to_string())?;
    if duration < minimum {
        return Err(format!(
            "{value} is too short: {what} is at least {}",
            humantime::format_duration(minimum)
        ));
    }
    Ok(duration)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_below_their_minimum_are_refused_with_the_minimum() {
        assert_eq!(resync_period("10m"), Ok(Duration::from_secs(600)));
        let error = resync_period("500ms").unwrap_err();
        assert!(error.contains("at least 1s"), "{error}");
        assert!(resync_period("0s").is_err());

        assert_eq!(lease_duration("15s"), Ok(Duration::from_secs(15)));
        let error = lease_duration("5s").unwrap_err();
        assert!(error.contains("at least 6s"), "{error}");
        assert!(
            lease_duration("6500ms")
                .unwrap_err()
                .contains("whole seconds")
        );
        assert!(lease_duration("soon").is_err());
    }
}
