//! The reports door: which delivered requests write a run report, what
//! each is made of, and writing them once the unit's messages are sent
//! (so that every line's fate is final).

use std::ops::Range;
use std::time::SystemTime;

use futures::future::join_all;

use super::Handler;
use crate::account::{Entry, UnitAccount};
use crate::report::{Applies, Delivered, PackageRun, ReportInput};
use crate::request::{Action, Job, DEFAULT_PLAN_VALID_DAYS};

/// The report a delivered job writes, if it writes one: a policy (one
/// package or a scope), or an apply.
pub(super) fn delivered(job: &Job) -> Option<Delivered> {
    let (dry_run, apply, valid_days) = match job {
        Job::One(r) => match &r.action {
            Action::Retain(ret) => (r.dry_run, ret.planned.is_some(), ret.plan_valid_for_days),
            _ => return None,
        },
        Job::Many(s) => (s.dry_run, false, s.retention.plan_valid_for_days),
        Job::Apply(a) => (a.dry_run, true, None),
    };
    Some(Delivered {
        raw: job.to_raw(None, None),
        service: job.service(),
        dry_run,
        apply,
        valid_days: valid_days.unwrap_or(DEFAULT_PLAN_VALID_DAYS),
    })
}

/// Per delivered request that writes a report: the packages it ran here
/// (its entries that name one package), with their lines.
pub(super) fn inputs(
    delivered: Vec<(Option<Delivered>, Range<usize>)>,
    entries: &[Entry],
    entry_lines: &[Range<usize>],
) -> Vec<ReportInput> {
    let mut out = Vec::new();
    for (index, (d, range)) in delivered.into_iter().enumerate() {
        let Some(delivered) = d else { continue };
        let packages: Vec<PackageRun> = range
            .filter_map(|i| package_run(&entries[i], entry_lines.get(i)?.clone()))
            .collect();
        if !packages.is_empty() {
            out.push(ReportInput {
                index,
                delivered,
                packages,
            });
        }
    }
    out
}

fn package_run(entry: &Entry, lines: Range<usize>) -> Option<PackageRun> {
    let (job, plan) = match entry {
        Entry::Executed(rr) => (&rr.request, rr.plan.clone()),
        Entry::NotPermitted { job, .. } => (job, None),
        _ => return None,
    };
    let Job::One(r) = job else { return None };
    let applies = match &r.action {
        Action::Retain(ret) => ret.planned.as_ref().map(|p| Applies {
            plan_id: p.plan_id.clone(),
            sha256: p.sha256.clone(),
        }),
        _ => None,
    };
    Some(PackageRun {
        request: r.to_raw(None, None),
        plan,
        lines,
        applies,
    })
}

impl Handler {
    /// Writes every unit's reports, all at once; each account learns its
    /// links (or how many could not be written: the run stands, the error
    /// is logged).
    pub(super) async fn write_reports(
        &self,
        accounts: &mut [UnitAccount],
        inputs: &[Vec<ReportInput>],
        request_id: &str,
    ) {
        let now_ms = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis() as i64;
        let written = join_all(accounts.iter().zip(inputs).map(|(acc, ins)| {
            join_all(ins.iter().map(move |input| async move {
                let report = input.report(&acc.lines, &acc.source, request_id, now_ms);
                let service = input.delivered.service;
                (service, self.reports.put(&report, service).await)
            }))
        }))
        .await;
        for (acc, results) in accounts.iter_mut().zip(written) {
            for (service, r) in results {
                let Some(r) = r else { continue };
                match r {
                    Ok(links) => {
                        tracing::info!(record = %acc.source, report = %links.json, sha256 = %links.sha256, "run report written");
                        acc.reports.push(links);
                    }
                    Err(e) => {
                        tracing::error!(record = %acc.source, error = %crate::error::chain(&e), "the run report could not be written");
                        acc.reports_unwritten.push(service);
                    }
                }
            }
        }
    }
}
