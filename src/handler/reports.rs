//! The reports door: which delivered requests write a run report, what
//! each is made of, and writing them ([`Writer`]): parts of plans before
//! the unit's messages are sent, reports once they are (so that every
//! line's fate is final).

use std::ops::Range;
use std::time::SystemTime;

use futures::future::join_all;

use super::pipeline::UnitRun;
use crate::account::{Entry, Outgoing, PlanInProgress, ReportLinks, UnitAccount};
use crate::report::parts::{PartFile, ScopeFile};
use crate::report::store::{PartWritten, ReportError};
use crate::report::{Applies, Delivered, PackageRun, PlanPart, ReportInput, ReportStore};
use crate::request::{Action, Continues, Job, Service, DEFAULT_PLAN_VALID_DAYS};

/// The request that plans a scope's plan on from `to`, the end of the
/// part that stands (which selected `selected` versions), for the work
/// queue.
fn continuation(
    part: &PlanPart,
    scope: &ScopeFile,
    to: usize,
    selected: usize,
) -> Option<Outgoing> {
    let (next, delay_seconds) = part.next.as_ref()?;
    let mut next = next.as_ref().clone();
    // What the part that stands selected, whichever part wrote it.
    if let Some(cap) = part.cap {
        next.retention.max_deletions = Some(cap.saturating_sub(selected as u32));
    }
    next.continues = Some(Continues {
        plan_id: scope.plan_id.clone(),
        created_at: scope.created_at.clone(),
        from: to,
    });
    let raw = next.to_raw(Some(next.attempt));
    Some(Outgoing {
        body: serde_json::to_string(&raw).expect("request serializes"),
        delay_seconds: Some(*delay_seconds as i32),
    })
}

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
        Job::Index(_) => return None,
    };
    Some(Delivered {
        raw: job.to_raw(None, None),
        service: job.service(),
        dry_run,
        apply,
        valid_days: valid_days.unwrap_or(DEFAULT_PLAN_VALID_DAYS),
        scope: matches!(job, Job::Many(_)),
    })
}

/// The report of a delivered request (the `index`-th of its delivery),
/// if it writes one: the packages it ran here, with their lines, and the
/// part of a scope's plan it made, if it made one. `nothing_ran` when the
/// request had no entry at all.
pub(super) fn input(
    (index, delivered): (usize, Delivered),
    packages: Vec<PackageRun>,
    part: Option<PlanPart>,
    nothing_ran: bool,
) -> Option<ReportInput> {
    // A part writes its scope and its range even with no package of its
    // own (a first part that planned nothing yet); a scope's dry run that
    // found no package to plan is a plan of nothing, digest and all; an
    // apply of a plan with nothing to apply says so.
    let empty_plan = nothing_ran && ((delivered.scope && delivered.dry_run) || delivered.apply);
    (!packages.is_empty() || part.is_some() || empty_plan).then_some(ReportInput {
        index,
        delivered,
        packages,
        part,
    })
}

/// A package an entry ran (its lines `lines` in the unit's account), if it
/// names one.
pub(super) fn package_run(entry: &Entry, lines: Range<usize>) -> Option<PackageRun> {
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

/// Writes the units' reports and parts of plans to the reports bucket.
pub(super) struct Writer<'h> {
    pub(super) reports: &'h ReportStore,
    /// The Lambda request id (reports are named after it).
    pub(super) request_id: &'h str,
}

impl Writer<'_> {
    /// Writes every unit's parts of plans made in parts
    /// ([`crate::report::parts`]), before the unit's messages are sent (so,
    /// unlike a report, a part's row may say `deadLettered` for a package
    /// given up whose dead letter's send then fails: the record is then
    /// retried, and gives the package up again), and
    /// only then makes the request that plans the rest, from where the
    /// part written ends (a part already written by a retry stands, and
    /// the plan goes on from its end). Each account learns the plan's links
    /// when its part completed the plan, or its progress. A unit whose part
    /// could not be written makes no continuation, and is marked
    /// ([`UnitRun::part_unwritten`]) for the caller to have it retried whole.
    pub(super) async fn write_parts(&self, runs: &mut [UnitRun]) {
        let now_ms = crate::downloads::now_ms();
        join_all(runs.iter_mut().map(|run| async move {
            let acc = &run.account;
            let written = join_all(run.reports.iter().filter_map(|input| {
                let part = input.part.as_ref()?;
                Some(async move { (part, self.write_part(acc, input, part, now_ms).await) })
            }))
            .await;
            for (part, r) in written {
                if !self.learn_part(&mut run.account, part, r) {
                    run.part_unwritten = true;
                }
            }
        }))
        .await;
    }

    /// Writes one input's part of its plan: its packages' rows and, for a
    /// plan's first part, the scope.
    async fn write_part(
        &self,
        acc: &UnitAccount,
        input: &ReportInput,
        part: &PlanPart,
        now_ms: i64,
    ) -> Result<PartWritten, ReportError> {
        let report = input.report(&acc.lines, &acc.source, self.request_id, now_ms);
        let scope = ScopeFile::of(&report, part.scope.clone().unwrap_or_default());
        let file = PartFile {
            from: part.from,
            to: part.to,
            packages: report.packages,
        };
        let service = input.delivered.service;
        let first = part.scope.is_some();
        self.reports.put_part(&scope, first, &file, service).await
    }

    /// What the account learns of its part written: the plan's links when
    /// it completed the plan; or the plan's progress and the request that
    /// plans the rest. `false` when the part could not be written.
    fn learn_part(
        &self,
        acc: &mut UnitAccount,
        part: &PlanPart,
        written: Result<PartWritten, ReportError>,
    ) -> bool {
        match written {
            Ok(PartWritten::Complete(links)) => {
                tracing::info!(record = %acc.source, plan = %part.plan_id, report = %links.json, sha256 = %links.sha256, "the last part completed the plan");
                acc.reports.push(links);
            }
            Ok(PartWritten::Pending {
                scope,
                to,
                selected,
            }) => {
                acc.plans_in_progress.push(PlanInProgress {
                    plan_id: scope.plan_id.clone(),
                    report: self
                        .reports
                        .json_uri(&scope.created_at, &scope.plan_id)
                        .unwrap_or_default(),
                    packages_planned: to as u64,
                    packages: scope.packages.len() as u64,
                });
                acc.continuations
                    .extend(continuation(part, &scope, to, selected));
            }
            Err(e) => {
                tracing::error!(record = %acc.source, plan = %part.plan_id, error = %crate::error::chain(&e), "a part of the plan could not be written; it is planned again");
                return false;
            }
        }
        true
    }

    /// Writes every unit's reports (but parts of plans, which
    /// [`Writer::write_parts`] wrote), all at once; each account learns
    /// its links (or how many could not be written: the run stands, the
    /// error is logged).
    pub(super) async fn write_reports(&self, runs: &mut [UnitRun]) {
        let now_ms = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis() as i64;
        join_all(runs.iter_mut().map(|run| async move {
            let acc = &run.account;
            let reports = run.reports.iter().filter(|i| i.part.is_none());
            let written = join_all(reports.map(|input| async move {
                let report = input.report(&acc.lines, &acc.source, self.request_id, now_ms);
                let service = input.delivered.service;
                (service, self.reports.put(&report, service).await)
            }))
            .await;
            for (service, r) in written {
                self.learn_report(&mut run.account, service, r);
            }
        }))
        .await;
    }

    /// What the account learns of its report written: its links, or that
    /// it could not be written (the run stands, the error is logged).
    fn learn_report(
        &self,
        acc: &mut UnitAccount,
        service: Service,
        written: Option<Result<ReportLinks, ReportError>>,
    ) {
        match written {
            None => {}
            Some(Ok(links)) => {
                tracing::info!(record = %acc.source, report = %links.json, sha256 = %links.sha256, "run report written");
                acc.reports.push(links);
            }
            Some(Err(e)) => {
                tracing::error!(record = %acc.source, error = %crate::error::chain(&e), "the run report could not be written");
                acc.reports_unwritten.push(service);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::{RawRequest, ScopeRequest};

    #[test]
    fn a_continuation_goes_on_from_the_part_that_stands_and_counts_its_selections() {
        let scope = |cap: u32| -> ScopeRequest {
            let raw: RawRequest = serde_json::from_value(serde_json::json!({
                "service": "iot", "policy": {"keepLatest": 1}, "maxDeletions": cap, "dryRun": true
            }))
            .unwrap();
            match raw.validate_job().unwrap() {
                Job::Many(s) => s,
                _ => unreachable!(),
            }
        };
        let part = PlanPart {
            plan_id: "p".into(),
            created_at_ms: 0,
            from: 3,
            to: 5,
            scope: None,
            total: 9,
            // What this attempt would have left: not what counts.
            next: Some((Box::new(scope(8)), 7)),
            cap: Some(10),
        };
        let file = ScopeFile {
            plan_id: "p".into(),
            created_at: "2026-12-06T00:00:00Z".into(),
            expires_at: "2026-12-13T00:00:00Z".into(),
            service: "iot".into(),
            source: "s".into(),
            request: serde_json::Value::Null,
            packages: Vec::new(),
        };
        let out = continuation(&part, &file, 6, 4).unwrap();
        let body: serde_json::Value = serde_json::from_str(&out.body).unwrap();
        assert_eq!(
            body["continues"]["from"], 6,
            "from the end of the part that stands"
        );
        assert_eq!(body["maxDeletions"], 6, "10 less the 4 it selected");
        assert_eq!(out.delay_seconds, Some(7));
    }
}
