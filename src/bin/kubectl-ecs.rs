//! `kubectl ecs`: the kubectl plugin (a binary named `kubectl-ecs` on the PATH).

use std::process::ExitCode;

use clap::Parser;
use ecs_operator::plugin::Cli;

#[tokio::main]
async fn main() -> ExitCode {
    ecs_operator::operator::install_crypto_provider();
    match ecs_operator::plugin::run(Cli::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}
