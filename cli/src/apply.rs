//! `packprune-cli apply REPORT --sha256 DIGEST [--yes] [--out DIR]`: a
//! reviewed plan carried out exactly, inline, with every check the
//! Lambda's apply makes (digest, kind, expiry, service; then per version
//! its status and revision, and every protection).

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use packprune::report::verify::PlanBody;
use packprune::{Disposition, Line};
use packprune::{RawApply, RawRequest, Service};
use serde_json::Value;

use crate::output::{self, BUDGET};
use crate::{CliError, Common};

/// Applies the plan at `report` (a file or an `s3://` URI) if `sha256` is
/// its digest. Exit status 0 when every version the plan lists under its
/// action was done (or was already absent); 1 when any was not (each
/// printed with why) or the plan was refused or not confirmed.
pub async fn run(
    report: &str,
    sha256: &str,
    yes: bool,
    out: Option<PathBuf>,
    common: Common,
) -> Result<ExitCode, CliError> {
    output::free(out.as_deref())?;
    let (handler, guard, clients) = output::handler(&common, &["codeartifact", "IoT"]).await?;
    let (plan, from_s3) = read_plan(report, &clients.s3).await?;
    let service = plan
        .get("service")
        .and_then(Value::as_str)
        .and_then(Service::parse)
        .ok_or_else(|| {
            CliError::Invalid(format!("{report} is not a packprune plan (no `service`)"))
        })?;
    let now_ms = packprune::now_ms();
    let checked = packprune::report::verify(PlanBody::Value(&plan), sha256, service, now_ms);
    let reviewed = match checked {
        Ok(r) => r,
        Err(refused) => {
            guard.finish();
            eprintln!("packprune-cli: plan refused, nothing done: {refused}");
            return Ok(ExitCode::from(1));
        }
    };
    guard.finish();
    show(&reviewed);
    if !yes && !confirmed()? {
        eprintln!("not confirmed: nothing done");
        return Ok(ExitCode::from(1));
    }
    let apply = match from_s3 {
        true => RawApply::of_report(report, sha256),
        false => RawApply::inline(plan, sha256),
    };
    let raw = RawRequest::applying(service, apply);
    let job = raw
        .validate_job()
        .map_err(|e| CliError::Invalid(e.to_string()))?;
    guard.resume();
    let inline = handler
        .run_inline(job, &output::request_id(), BUDGET, common.account.clone())
        .await;
    guard.finish();
    output::report_run(&inline, &guard);
    if let Some(report) = &inline.report {
        let (dir, _, md) = output::write_report(report, out)?;
        println!("{md}");
        eprintln!("apply report written to {}/", dir.display());
    }
    let not_done: Vec<&Line> = inline.lines.iter().filter(|l| !done(l)).collect();
    for l in &not_done {
        eprintln!(
            "not done: {} {} {} {}: {}",
            l.package,
            l.item,
            l.disposition.as_str(),
            l.code.as_ref().map(ToString::to_string).unwrap_or_default(),
            l.detail.as_deref().unwrap_or("")
        );
    }
    let refused = inline.summary.invalid_requests > 0;
    Ok(match not_done.is_empty() && !refused {
        true => ExitCode::SUCCESS,
        false => ExitCode::from(1),
    })
}

/// Whether a line of an apply is done: the action applied, or nothing
/// left to apply it to.
fn done(l: &Line) -> bool {
    matches!(
        l.disposition,
        Disposition::Deleted
            | Disposition::Archived
            | Disposition::Unlisted
            | Disposition::Deprecated
            | Disposition::AlreadyAbsent
    )
}

/// The plan's JSON, from a file or from S3 (a read), and whether it came
/// from S3.
async fn read_plan(report: &str, s3: &aws_sdk_s3::Client) -> Result<(Value, bool), CliError> {
    let invalid = |why: String| CliError::Invalid(format!("{report}: {why}"));
    let bytes = match report.strip_prefix("s3://").and_then(|r| r.split_once('/')) {
        Some((bucket, key)) => {
            let out = match s3.get_object().bucket(bucket).key(key).send().await {
                Ok(out) => out,
                Err(e) if still_in_parts(s3, bucket, key, &e).await => {
                    return Err(CliError::Refused(format!(
                        "{report} is not written yet: the plan's scope is still being planned in parts (its scope.json is there); apply it once report.json appears"
                    )))
                }
                Err(e) => return Err(invalid(packprune::error::chain(&e))),
            };
            let body = out
                .body
                .collect()
                .await
                .map_err(|e| invalid(e.to_string()))?;
            body.into_bytes().to_vec()
        }
        None => output::read(std::path::Path::new(report))?,
    };
    let plan = serde_json::from_slice(&bytes).map_err(|e| invalid(format!("not JSON: {e}")))?;
    Ok((plan, report.starts_with("s3://")))
}

/// Whether `e`, reading a plan's report.json, is because the plan is still
/// being made in parts: no such key, and a scope.json beside it.
async fn still_in_parts<E: aws_smithy_types::error::metadata::ProvideErrorMetadata>(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
    e: &E,
) -> bool {
    if e.code() != Some("NoSuchKey") {
        return false;
    }
    let scope = format!("{}scope.json", key.trim_end_matches("report.json"));
    s3.head_object()
        .bucket(bucket)
        .key(scope)
        .send()
        .await
        .is_ok()
}

/// What the plan will do, package by package, on stderr.
fn show(plan: &packprune::report::Report) {
    eprintln!(
        "plan {} ({}, created {}, expires {}):",
        plan.id,
        plan.service,
        plan.created_at,
        plan.expires_at.as_deref().unwrap_or("?")
    );
    let mut total = 0;
    for p in &plan.packages {
        let going: Vec<&str> = p
            .versions
            .iter()
            .filter(|v| v.fate == p.action)
            .map(|v| v.version.as_str())
            .collect();
        if going.is_empty() {
            continue;
        }
        total += going.len();
        eprintln!(
            "  {} {} version(s) of {}: {}",
            p.action,
            going.len(),
            p.package,
            going.join(", ")
        );
    }
    eprintln!("{total} version(s) in all; each acts only if it is still as the plan saw it.");
}

/// Asks on the terminal (or reads a line from stdin): `y` or `yes` goes on.
fn confirmed() -> Result<bool, CliError> {
    if std::io::stdin().is_terminal() {
        eprint!("Apply this plan? [y/N] ");
        let _ = std::io::stderr().flush();
    }
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|source| CliError::Read {
            path: "stdin".into(),
            source,
        })?;
    Ok(matches!(
        line.trim().to_ascii_lowercase().as_str(),
        "y" | "yes"
    ))
}
