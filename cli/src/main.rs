//! packprune-cli: see what a retention policy would do to your own
//! registry (`plan`, read calls only), then apply a reviewed plan exactly
//! (`apply`), from a laptop or CI, with the standard AWS credential chain.
//! docs/cli.md is its manual.

mod apply;
mod guard;
mod output;
mod plan;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// What a command can fail with before (or instead of) running.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("{path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Invalid(String),
    /// A plan refused before anything was done (exit status 1).
    #[error("plan refused, nothing done: {0}")]
    Refused(String),
    #[error(transparent)]
    Config(#[from] packprune::ConfigError),
    #[error("{path}: {source}")]
    Write {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

#[derive(Parser)]
#[command(name = "packprune-cli", version, about = "Plan packprune retention policies against your own registry (read calls only), and apply reviewed plans exactly.", long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Plans a request (a policy for one package, a repository or a prefix;
    /// or explicit versions) with read calls only: writes report.md,
    /// report.csv and report.json to DIR and prints the Markdown.
    Plan {
        /// The request: a JSON file (`-` for stdin), as the function takes it.
        request: PathBuf,
        /// Where the report goes (default: reports/<yyyy-mm-dd>/<plan id>/).
        #[arg(long)]
        out: Option<PathBuf>,
        #[command(flatten)]
        common: Common,
    },
    /// Applies a plan's report.json exactly, after checking its digest,
    /// expiry, the versions' revisions and every protection; asks first
    /// unless --yes.
    Apply {
        /// The plan's report.json: a file, or an s3:// URI.
        report: String,
        /// The SHA-256 the reviewer approved (as report.md gives it).
        #[arg(long)]
        sha256: String,
        /// Do not ask before acting.
        #[arg(long)]
        yes: bool,
        /// Where the apply's own report goes (default:
        /// reports/<yyyy-mm-dd>/<apply id>/).
        #[arg(long)]
        out: Option<PathBuf>,
        #[command(flatten)]
        common: Common,
    },
}

/// What both commands take.
#[derive(clap::Args)]
struct Common {
    /// The downloads table to read (default: DOWNLOADS_TABLE), for
    /// notDownloadedForDays and archivedForDays. Never written.
    #[arg(long)]
    table: Option<String>,
    /// The account that owns a CodeArtifact domain a request names without
    /// domainOwner (only the downloads table's reads need it).
    #[arg(long)]
    account: Option<String>,
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,aws_config=error")),
        )
        .init();
    let outcome = match Cli::parse().command {
        Command::Plan {
            request,
            out,
            common,
        } => plan::run(&request, out, common).await,
        Command::Apply {
            report,
            sha256,
            yes,
            out,
            common,
        } => apply::run(&report, &sha256, yes, out, common).await,
    };
    match outcome {
        Ok(code) => code,
        Err(e) => {
            eprintln!("packprune-cli: {}", packprune::error::chain(&e));
            match e {
                CliError::Refused(_) => ExitCode::from(1),
                _ => ExitCode::from(2),
            }
        }
    }
}
