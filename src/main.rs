//! The `allomedia` command: parses the command line, loads configuration, calls `app`.

use std::io::Read;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use allomedia::adapters::http;
use allomedia::app;
use allomedia::config::Config;

#[derive(Parser)]
#[command(name = "allomedia", version, about = "Home-delivery backend")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the HTTP API (the default).
    Serve,
    /// Print the OpenAPI specification (YAML unless --json).
    Openapi {
        #[arg(long)]
        json: bool,
    },
    /// Create an active, verified manager; the password is read from standard input.
    CreateManager {
        #[arg(long)]
        name: String,
        #[arg(long)]
        email: String,
        /// Read the password from standard input (so it stays out of shell history and `ps`).
        #[arg(long, required = true)]
        password_stdin: bool,
    },
}

fn main() -> ExitCode {
    match Cli::parse().command.unwrap_or(Command::Serve) {
        Command::Openapi { json } => {
            print!(
                "{}",
                if json {
                    http::openapi_json()
                } else {
                    http::openapi_yaml()
                }
            );
            ExitCode::SUCCESS
        }
        Command::Serve => run(app::serve),
        Command::CreateManager { name, email, .. } => run(|config| async move {
            let password = read_password()?;
            app::create_manager(config, &name, &email, &password).await
        }),
    }
}

/// Loads the configuration, starts logging and the runtime, and runs `command` to its end.
fn run<F, Fut>(command: F) -> ExitCode
where
    F: FnOnce(Config) -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    // `.env` fills in what the environment does not set; a missing file is fine.
    let _ = dotenvy::dotenv();
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(error) => {
            eprintln!("configuration error: {error}");
            return ExitCode::from(2);
        }
    };
    app::init_tracing(config.log_format);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(command(config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// The first line of standard input, without its line ending.
fn read_password() -> anyhow::Result<String> {
    let mut input = String::new();
    std::io::stdin().read_to_string(&mut input)?;
    let password = input.lines().next().unwrap_or_default().to_owned();
    if password.is_empty() {
        anyhow::bail!("--password-stdin: no password on standard input");
    }
    Ok(password)
}
