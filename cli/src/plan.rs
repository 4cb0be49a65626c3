//! `packprune-cli plan REQUEST.json [--out DIR]`: the request planned as a
//! dry run of the function plans it, on clients that refuse every write.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use packprune::Job;
use packprune::{from_body, Decoded, EventRules};

use crate::output::{self, BUDGET};
use crate::{CliError, Common};

/// Plans the request in `path`; writes its report (a policy's) to `out`
/// and prints the Markdown, or prints the summary (explicit versions,
/// which make no report). Exit status 1 when some of it could not be
/// planned (each printed with its reason).
pub async fn run(path: &Path, out: Option<PathBuf>, common: Common) -> Result<ExitCode, CliError> {
    let bytes = output::read(path)?;
    let text = String::from_utf8_lossy(&bytes);
    let mut job = one_job(&text)?;
    if matches!(job, Job::Apply(_)) {
        return Err(CliError::Invalid(
            "the request is an apply: to carry out a plan, use `packprune-cli apply REPORT --sha256 DIGEST`".into(),
        ));
    }
    job.force_dry_run();
    output::free(out.as_deref())?;
    let (handler, guard, _) = output::handler(&common, &[]).await?;
    let inline = handler
        .run_inline(job, &output::request_id(), BUDGET, common.account.clone())
        .await;
    guard.finish();
    output::report_run(&inline, &guard);
    match &inline.report {
        Some(report) => {
            let (dir, sha256, md) = output::write_report(report, out)?;
            println!("{md}");
            eprintln!(
                "plan written to {}/ (report.md, report.csv, report.json); sha256 {sha256}",
                dir.display()
            );
        }
        None => println!(
            "{}",
            serde_json::to_string_pretty(&inline.summary).unwrap_or_default()
        ),
    }
    Ok(match inline.dead_letters.is_empty() {
        true => ExitCode::SUCCESS,
        false => ExitCode::from(1),
    })
}

/// The one request a file holds (a bare request, or an EventBridge event
/// or Scheduler input around one), validated as the function validates it.
fn one_job(text: &str) -> Result<Job, CliError> {
    let mut decoded = from_body(text, &EventRules::default());
    if decoded.len() != 1 {
        return Err(CliError::Invalid(format!(
            "give one request, not {}",
            decoded.len()
        )));
    }
    match decoded.remove(0) {
        Decoded::Valid(job) => Ok(job),
        Decoded::Invalid(inv) => Err(CliError::Invalid(inv.error.reason())),
        Decoded::Ignored(why) => Err(CliError::Invalid(why)),
        Decoded::Read(_) | Decoded::Archived(_) | Decoded::Changed(_) => Err(CliError::Invalid(
            "the file is a CodeArtifact event, not a request".into(),
        )),
    }
}
