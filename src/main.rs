use std::process::ExitCode;

use clap::Parser;
use ecs_operator::cli::{Cli, Command};

#[tokio::main]
async fn main() -> ExitCode {
    ecs_operator::operator::install_crypto_provider();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(args) => ecs_operator::operator::run(args)
            .await
            .map_err(|e| e.to_string()),
        Command::Crds { output_dir } => {
            ecs_operator::api::write_crds(output_dir.as_deref()).map_err(|e| e.to_string())
        }
        Command::Diff(args) => {
            return match ecs_operator::diff::run(args).await {
                Ok(code) => ExitCode::from(code),
                Err(error) => {
                    eprintln!("error: {error}");
                    ExitCode::from(2)
                }
            };
        }
        Command::Import(args) => ecs_operator::import::run(args).await,
        Command::Version => {
            println!("ecs-operator {}", env!("CARGO_PKG_VERSION"));
            Ok(())
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}
