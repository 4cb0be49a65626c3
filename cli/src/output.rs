//! What both commands share: the function's pipeline, built on guarded
//! clients; a run's report written to a directory; what is printed.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use indicatif::ProgressBar;
use packprune::report::Report;
use packprune::{Clients, Config, Handler};

use crate::guard::Guard;
use crate::{CliError, Common};

/// How long a command may run (what the Lambda deadline bounds in Lambda).
pub const BUDGET: Duration = Duration::from_secs(12 * 3600);

/// The pipeline on clients whose writes only `writable` services take
/// (see [`Guard`]), configured from the environment's
/// [`Config::LOCAL_VARIABLES`] and `--table`.
pub async fn handler(
    common: &Common,
    writable: &'static [&'static str],
) -> Result<(Handler, Arc<Guard>, Clients), CliError> {
    let table = common.table.clone();
    let config = Config::local(|k| match (k, &table) {
        ("DOWNLOADS_TABLE", Some(t)) => Some(t.clone()),
        _ => std::env::var(k).ok(),
    })?;
    let progress = ProgressBar::new_spinner();
    progress.enable_steady_tick(Duration::from_millis(120));
    let guard = Guard::new(writable, progress);
    let sdk = packprune::sdk::sdk_config().await;
    preflight(&sdk).await?;
    let clients = Clients::with_interceptors(&sdk, &[guard.interceptor()]);
    Ok((Handler::new(clients.clone(), config), guard, clients))
}

/// A region, and credentials from the standard chain (environment,
/// profiles, SSO, roles), before any call: without them every call would
/// fail its retries one by one.
async fn preflight(sdk: &aws_config::SdkConfig) -> Result<(), CliError> {
    use aws_credential_types::provider::ProvideCredentials as _;
    if sdk.region().is_none() {
        return Err(CliError::Invalid(
            "no AWS region: set AWS_REGION, or a region in your profile (AWS_PROFILE)".into(),
        ));
    }
    let Some(provider) = sdk.credentials_provider() else {
        return Err(CliError::Invalid("no AWS credentials provider".into()));
    };
    provider
        .provide_credentials()
        .await
        .map(|_| ())
        .map_err(|e| {
            CliError::Invalid(format!(
                "no AWS credentials (environment, profile, SSO or role): {}",
                packprune::error::chain(&e)
            ))
        })
}

/// An id for this run's report: the time and the process.
pub fn request_id() -> String {
    format!("cli-{}-{}", packprune::now_ms(), std::process::id())
}

/// Refuses, before any call, an `--out` that already holds a report.
pub fn free(out: Option<&Path>) -> Result<(), CliError> {
    match out.map(|dir| dir.join("report.json")) {
        Some(json) if json.exists() => Err(CliError::Invalid(format!(
            "{} exists: give another --out, or none (a report is never overwritten)",
            json.display()
        ))),
        _ => Ok(()),
    }
}

/// A report written as the Lambda writes it to S3: report.json (RFC 8785,
/// so its SHA-256 is the digest), report.csv and report.md, in `out` or
/// `reports/<yyyy-mm-dd>/<id>/`. An existing report.json is never
/// overwritten. Returns the directory, the digest and the Markdown.
pub fn write_report(
    report: &Report,
    out: Option<PathBuf>,
) -> Result<(PathBuf, String, String), CliError> {
    let day = report.created_at.get(..10).unwrap_or("undated");
    let dir = out.unwrap_or_else(|| Path::new("reports").join(day).join(&report.id));
    let json_path = dir.join("report.json");
    if json_path.exists() {
        return Err(CliError::Invalid(format!(
            "{} exists: give another --out (a report is never overwritten)",
            json_path.display()
        )));
    }
    std::fs::create_dir_all(&dir).map_err(|source| CliError::Write {
        path: dir.display().to_string(),
        source,
    })?;
    let json = report.canonical();
    let sha256 = packprune::report::sha256_hex(&json);
    let md = packprune::report::markdown(report, &sha256, &json_path.display().to_string());
    for (name, body) in [
        ("report.json", json),
        ("report.csv", packprune::report::csv(report)),
        ("report.md", md.clone().into_bytes()),
    ] {
        let path = dir.join(name);
        std::fs::write(&path, body).map_err(|source| CliError::Write {
            path: path.display().to_string(),
            source,
        })?;
    }
    Ok((dir, sha256, md))
}

/// Reads a file, or stdin for `-`.
pub fn read(path: &Path) -> Result<Vec<u8>, CliError> {
    let read = match path.to_str() {
        Some("-") => {
            let mut buf = Vec::new();
            std::io::Read::read_to_end(&mut std::io::stdin(), &mut buf).map(|_| buf)
        }
        _ => std::fs::read(path),
    };
    read.map_err(|source| CliError::Read {
        path: path.display().to_string(),
        source,
    })
}

/// The summary and the calls made, on stderr; what could not be done,
/// each with its reason (the dead letter the Lambda would have sent).
pub fn report_run(inline: &packprune::Inline, guard: &Guard) {
    let calls: u64 = guard.calls().values().sum();
    // The plans are in the report; the counts are what is shown here.
    let mut summary = inline.summary.clone();
    summary.plans.clear();
    eprintln!(
        "summary: {}",
        serde_json::to_string(&summary).unwrap_or_default()
    );
    eprintln!("calls: {calls} {:?}", guard.calls());
    for body in &inline.dead_letters {
        eprintln!("not done: {body}");
    }
}
