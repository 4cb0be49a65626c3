//! A policy for many packages: listed, then fanned out over the work queue
//! or run here in turn; or, for a dry run that writes reports, planned here
//! as one plan, in parts when the deadline comes first (the objects and
//! how the last part completes the plan: [`crate::report::parts`]).

use std::sync::Arc;

use futures::StreamExt;

use super::apply::unread;
use super::run::Runner;
use crate::account::{hand_on_delay, Entry, RequestResult};
use crate::decode::{DecodeError, Invalid};
use crate::execute::{CallContext, ItemOutcome};
use crate::plan::Item;
use crate::report::PlanPart;
use crate::request::{
    parse_rfc3339, Action, Continues, Job, PlanRefused, RawRequest, Request, ScopeRequest,
};
use crate::retry::Tried;

/// How many of a scope's packages a dry run plans at once (their calls
/// still share the pacers and `MAX_CONCURRENCY`).
const PLAN_PACKAGES_AT_ONCE: usize = 4;

impl Runner<'_> {
    /// A policy for many packages. With a work queue (and a standard
    /// queue's or no SQS record), more than one package fans out: one
    /// policy request per package on the work queue. Otherwise the packages
    /// run here, in turn, sharing `maxDeletions`; those the deadline leaves
    /// are handed on.
    pub(super) async fn run_scope(
        &self,
        scope: ScopeRequest,
        may_fan_out: bool,
        cx: &CallContext<'_>,
    ) -> Vec<Entry> {
        match self.scope_requests(&scope, cx).await {
            Ok(requests) => {
                self.run_packages(requests, may_fan_out, scope.retention.max_deletions, cx)
                    .await
            }
            Err(entry) => vec![entry],
        }
    }

    /// The scope's packages, one request each, those outside
    /// `ALLOWED_TARGETS` left out (and logged); a listing that failed is
    /// the scope's one failed item, and a package group that does not
    /// exist its one `alreadyAbsent` item, saying so.
    async fn scope_requests(
        &self,
        scope: &ScopeRequest,
        cx: &CallContext<'_>,
    ) -> Result<Vec<Request>, Entry> {
        let Tried {
            result: listed,
            calls: attempts,
        } = self.executor.packages(&scope.scope, cx).await;
        let packages = match listed {
            Ok(Some(packages)) => packages,
            Ok(None) => {
                tracing::warn!(scope = %scope.label(), "package group not found: nothing deleted");
                let outcome = ItemOutcome::group_not_found(attempts);
                return Err(scope_entry(scope, outcome, true));
            }
            Err(e) => {
                let outcome = ItemOutcome::failed(Item::Package, Arc::new(e), attempts);
                return Err(scope_entry(scope, outcome, false));
            }
        };
        tracing::info!(scope = %scope.label(), packages = packages.len(), "scope listed");
        let requests = packages.iter().map(|p| scope.for_package(p)).collect();
        let (requests, outside) =
            self.within_allowed(scope, requests, cx)
                .await
                .map_err(|(e, calls)| {
                    let outcome = ItemOutcome::failed(Item::Package, Arc::new(e), calls);
                    scope_entry(scope, outcome, false)
                })?;
        if outside > 0 {
            tracing::info!(scope = %scope.label(), skipped = outside, "packages of the scope outside ALLOWED_TARGETS are left alone");
        }
        Ok(requests)
    }

    /// A scope's dry run, as one plan: every package planned here, in
    /// order, until the deadline. If all fit, or no work queue could take
    /// the rest (then what is left ends as any unfinished work does), the
    /// entries are the plan's: one report. If not, this invocation made a
    /// part of the plan `plan_id` (or of the plan it continues): the
    /// packages planned in order from its first, and what plans the rest
    /// (sent once the part is written: [`super::reports::Writer::write_parts`]). A part
    /// that planned nothing hands the rest on with its attempt raised,
    /// after a backoff; at `MAX_ATTEMPTS`, the package it could not plan is
    /// dead-lettered, so that the plan always moves.
    pub(super) async fn plan_scope(
        &self,
        scope: ScopeRequest,
        plan_id: String,
        cx: &CallContext<'_>,
    ) -> (Vec<Entry>, Option<PlanPart>) {
        let now_ms = crate::downloads::now_ms();
        let (requests, from, plan_id, created_at_ms) = match &scope.continues {
            None => match self.scope_requests(&scope, cx).await {
                Ok(r) => (r, 0, plan_id, now_ms),
                Err(entry) => return (vec![entry], None),
            },
            Some(c) => match self.continued(&scope, c, now_ms).await {
                Ok((r, created_at_ms)) => (r, c.from, c.plan_id.clone(), created_at_ms),
                Err(entry) => return (vec![entry], None),
            },
        };
        let first = scope.continues.is_none();
        let in_parts = self.config.work_queue_url.is_some();
        let total = requests.len();
        let from = from.min(total);
        let (mut entries, settled) = self
            .plan_packages(&requests[from..], &scope, in_parts, cx)
            .await;
        if first && (settled == total || !in_parts) {
            return (entries, None);
        }
        let mut to = from + settled;
        let mut next = scope.clone();
        let mut delay_seconds = 0;
        if settled == 0 && from < total {
            if scope.attempt >= self.config.max_attempts {
                // Given up: accounted as it ended, so dead-lettered.
                to = from + 1;
            } else {
                next.attempt += 1;
                delay_seconds = hand_on_delay(scope.attempt, retry_after(&entries));
            }
        }
        if to > from {
            // It moved: the next part starts its attempts afresh.
            next.attempt = 1;
        }
        entries.truncate(to - from);
        tracing::info!(plan = %plan_id, from, to, total, "scope planned in part");
        let part = PlanPart {
            plan_id,
            created_at_ms,
            from,
            to,
            scope: first.then(|| requests.iter().map(|r| r.to_raw(None, None)).collect()),
            total,
            next: Some((Box::new(next), delay_seconds)),
            cap: scope.retention.max_deletions,
        };
        (entries, Some(part))
    }

    /// The packages of a scope's dry run, in order, until the deadline:
    /// their entries, and how many of them from the first are settled
    /// (nothing left to retry). With `stop_unsettled`, at most one
    /// unsettled entry follows them; without, every package has its entry.
    async fn plan_packages(
        &self,
        requests: &[Request],
        scope: &ScopeRequest,
        stop_unsettled: bool,
        cx: &CallContext<'_>,
    ) -> (Vec<Entry>, usize) {
        let requests = requests.iter().cloned().map(|mut r| {
            r.attempt = scope.attempt;
            r
        });
        let mut entries = Vec::new();
        if let Some(cap) = scope.retention.max_deletions {
            // A shared `maxDeletions` is counted package by package, in turn.
            let mut left = cap;
            for mut r in requests {
                if let Action::Retain(ret) = &mut r.action {
                    ret.max_deletions = Some(left);
                }
                let entry = self.run_request(r, cx).await;
                if let Entry::Executed(rr) = &entry {
                    let n = rr.plan.as_ref().map_or(0, |p| p.selected.len());
                    left = left.saturating_sub(n as u32);
                }
                let done = settled(&entry);
                entries.push(entry);
                if !done && stop_unsettled {
                    break;
                }
            }
        } else {
            let mut planned = futures::stream::iter(requests)
                .map(|r| self.run_request(r, cx))
                .buffered(PLAN_PACKAGES_AT_ONCE);
            while let Some(entry) = planned.next().await {
                let done = settled(&entry);
                entries.push(entry);
                if !done && stop_unsettled {
                    break;
                }
            }
        }
        let settled = entries.iter().take_while(|e| settled(e)).count();
        (entries, settled)
    }

    /// A later part's packages, from the plan's `scope.json` in the
    /// reports bucket, and when the plan was made. Refused (dead-lettered)
    /// when the plan is missing or has expired; a read that failed is the
    /// part's one failed item, retried like any.
    async fn continued(
        &self,
        scope: &ScopeRequest,
        c: &Continues,
        now_ms: i64,
    ) -> Result<(Vec<Request>, i64), Entry> {
        let job = || Job::Many(scope.clone());
        let refuse = |refused: PlanRefused| {
            Entry::Invalid(Invalid {
                raw: serde_json::to_string(&job().to_raw(None, None)).expect("request serializes"),
                error: DecodeError::PlanRefused(refused),
            })
        };
        let file = match self.reports.plan_scope(&c.created_at, &c.plan_id).await {
            Ok(Some(f)) => f,
            Ok(None) => {
                return Err(refuse(PlanRefused::Unreadable(format!(
                    "plan {}'s scope.json is not in the reports bucket",
                    c.plan_id
                ))))
            }
            Err(e) => return Err(unread(job(), scope.service(), e)),
        };
        match parse_rfc3339(&file.expires_at) {
            Some(at) if at > now_ms => {}
            _ => {
                return Err(refuse(PlanRefused::Expired {
                    plan_id: c.plan_id.clone(),
                    expires_at: file.expires_at.clone(),
                }))
            }
        }
        if let Err(why) = same_scope(scope, &file.request) {
            return Err(refuse(PlanRefused::Unreadable(format!(
                "the request continuing plan {} is not the plan's: {why}",
                c.plan_id
            ))));
        }
        let created_at_ms = parse_rfc3339(&file.created_at).unwrap_or(now_ms);
        let mut requests = Vec::with_capacity(file.packages.len());
        for raw in &file.packages {
            // Whatever scope.json says, a part only plans.
            let mut raw = raw.clone();
            raw.dry_run = Some(true);
            let r = raw.validate().map_err(|e| {
                refuse(PlanRefused::Package {
                    package: raw.package.clone().unwrap_or_default(),
                    problems: e.problems.join("; "),
                })
            })?;
            requests.push(r);
        }
        Ok((requests, created_at_ms))
    }
}

/// The scope's own entry: one outcome for the whole scope.
fn scope_entry(scope: &ScopeRequest, outcome: ItemOutcome, not_found: bool) -> Entry {
    Entry::Executed(Box::new(RequestResult {
        request: Job::Many(scope.clone()),
        outcomes: vec![outcome],
        plan: None,
        package_not_found: not_found,
        learned: false,
        edges_written: 0,
    }))
}

/// Whether a continuation asks for the scope and policy the plan's first
/// part was given (its `maxDeletions` what is left of the plan's, so at
/// most the plan's).
fn same_scope(scope: &ScopeRequest, planned: &serde_json::Value) -> Result<(), String> {
    let planned: RawRequest = serde_json::from_value(planned.clone())
        .map_err(|e| format!("scope.json's request: {e}"))?;
    let mut given = scope.to_raw(None);
    given.continues = None;
    let cap = |r: &RawRequest| r.max_deletions.unwrap_or(u32::MAX);
    if cap(&given) > cap(&planned) {
        return Err(format!(
            "its maxDeletions {} is above the plan's {}",
            cap(&given),
            cap(&planned)
        ));
    }
    given.max_deletions = planned.max_deletions;
    match given == planned {
        true => Ok(()),
        false => Err("another scope or policy".into()),
    }
}

/// Whether nothing of a planned package is left to retry.
fn settled(entry: &Entry) -> bool {
    match entry {
        Entry::Executed(rr) => rr.outcomes.iter().all(|o| {
            o.result
                .as_ref()
                .map_or_else(|e| e.is_permanent(), |_| true)
        }),
        _ => true,
    }
}

/// The longest `Retry-After` among the entries' failures, in seconds.
fn retry_after(entries: &[Entry]) -> u64 {
    entries
        .iter()
        .filter_map(|e| match e {
            Entry::Executed(rr) => Some(rr.outcomes.iter()),
            _ => None,
        })
        .flatten()
        .filter_map(|o| o.result.as_ref().err()?.retry_after())
        .max()
        .map_or(0, |d| d.as_secs_f64().ceil() as u64)
}
