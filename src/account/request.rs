//! One executed request's outcomes, in steps: sort the outcomes; decide
//! what becomes of the retryable ones; write the dead letters and hand-ons.

use std::collections::BTreeMap;

use super::{
    hand_on_delay, narrow, Ctx, Disposition, Line, Outgoing, Progress, Reason, RequestResult,
    UnitAccount,
};
use crate::code::Code;
use crate::error::DeleteError;
use crate::execute::{Done, ItemOutcome};
use crate::plan::Item;
use crate::request::Job;

type Failed<'a> = (&'a ItemOutcome, &'a DeleteError);

/// A request's outcomes, sorted.
#[derive(Default)]
struct Sorted<'a> {
    done: Vec<(&'a ItemOutcome, &'a Done)>,
    permanent: Vec<Failed<'a>>,
    retryable: Vec<Failed<'a>>,
}

impl<'a> Sorted<'a> {
    fn of(outcomes: &'a [ItemOutcome]) -> Self {
        let mut s = Sorted::default();
        for o in outcomes {
            match &o.result {
                Ok(done) => s.done.push((o, done)),
                Err(e) if e.is_permanent() => s.permanent.push((o, e)),
                Err(e) => s.retryable.push((o, e)),
            }
        }
        s
    }
}

/// What becomes of the items that may yet succeed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fate {
    /// `MAX_ATTEMPTS` reached: dead-lettered as `RETRIES_EXHAUSTED`.
    Exhausted,
    /// Nowhere to hand them on (a direct invocation and no work queue):
    /// dead-lettered with their own code.
    DeadLetter,
    /// Re-enqueued on the work queue, `attempt` raised.
    HandOn,
    /// `NO_PROGRESS_LIMIT` invocations in a row made no progress on it:
    /// dead-lettered as `NO_PROGRESS`, never handed on forever.
    NoProgress,
    /// The SQS record goes back to its queue (no work queue, or FIFO).
    Redeliver,
}

fn fate(attempt: u32, cx: &Ctx) -> Fate {
    let has_work_queue = cx.settings.has_work_queue;
    if attempt >= cx.settings.max_attempts {
        Fate::Exhausted
    } else if !cx.sqs && !has_work_queue {
        Fate::DeadLetter
    } else if has_work_queue && !cx.fifo {
        Fate::HandOn
    } else {
        Fate::Redeliver
    }
}

/// Items failed alike: one dead letter (per 1,000 versions) per code.
struct Failure<'a> {
    code: Code,
    message: String,
    attempts: u32,
    items: Vec<&'a ItemOutcome>,
}

/// Groups failures by code; each group keeps its first error's message.
fn group<'a>(
    failed: &[Failed<'a>],
    code: impl Fn(&DeleteError) -> Code,
    message: impl Fn(&DeleteError) -> String,
) -> Vec<Failure<'a>> {
    let mut groups: BTreeMap<Code, Failure<'a>> = BTreeMap::new();
    for (o, e) in failed {
        let g = groups.entry(code(e)).or_insert_with(|| Failure {
            code: code(e),
            message: message(e),
            attempts: 0,
            items: Vec::new(),
        });
        g.attempts = g.attempts.max(o.attempts);
        g.items.push(o);
    }
    groups.into_values().collect()
}

/// Accounts for one executed request: a dry run's plan, a package not
/// found, a line per settled item, and the fate of the rest (dead letters,
/// hand-ons or redelivery); `progress` learns what moved.
pub(super) fn account_request(
    acc: &mut UnitAccount,
    progress: &mut Progress,
    rr: &RequestResult,
    cx: &Ctx,
) {
    let attempt = rr.request.attempt().saturating_add(cx.receives - 1);
    note_request(acc, rr);
    let sorted = Sorted::of(&rr.outcomes);
    for (o, done) in &sorted.done {
        let (disposition, reason) = disposition(done);
        acc.lines.push(line_for(rr, o, disposition, reason));
    }
    // Progress: something settled, or a fact learned and kept for the next
    // invocation. Reads whose answers end with the invocation are not.
    let settled = !sorted.done.is_empty() || !sorted.permanent.is_empty();
    progress.moved |= settled || rr.learned;
    let mut dead = group(&sorted.permanent, DeleteError::code, DeleteError::chain);
    if !sorted.retryable.is_empty() {
        dead.extend(account_retryable(
            acc,
            progress,
            rr,
            cx,
            &sorted.retryable,
            (attempt, settled),
        ));
    }
    for f in dead {
        dead_letter(acc, rr, f, cx);
    }
}

/// What the request itself tells: a dry run's plan, kept; a package that
/// does not exist, counted.
fn note_request(acc: &mut UnitAccount, rr: &RequestResult) {
    acc.dependency_edges_written += rr.edges_written;
    if let Some(plan) = &rr.plan {
        acc.unreadable_requirements += u64::from(plan.unreadable_requirements);
    }
    if let (Job::One(r), Some(plan)) = (&rr.request, &rr.plan) {
        if r.dry_run {
            acc.plans.push(plan.clone());
        }
    }
    if rr.package_not_found {
        // A scope's one outcome is its package group's.
        let detail = match &rr.request {
            Job::Many(_) => crate::execute::PACKAGE_GROUP_NOT_FOUND,
            _ => crate::execute::PACKAGE_NOT_FOUND,
        };
        acc.packages_not_found
            .push((rr.request.service(), rr.request.label(), detail));
    }
}

/// A settled item's line: what was done to it, and the rule that kept it.
fn disposition(done: &Done) -> (Disposition, Option<Reason>) {
    match done {
        Done::Deleted => (Disposition::Deleted, None),
        Done::Archived => (Disposition::Archived, None),
        Done::Unlisted => (Disposition::Unlisted, None),
        Done::Deprecated => (Disposition::Deprecated, None),
        Done::AlreadyAbsent => (Disposition::AlreadyAbsent, None),
        Done::Kept(rule) => (Disposition::Kept, Some(Reason::Rule(*rule))),
        Done::Indexed => (Disposition::Indexed, None),
    }
}

/// Decides the [`Fate`] of the items that may yet succeed, notes it in
/// `progress`, and hands them on or marks the record for redelivery; returns
/// those to dead-letter instead.
fn account_retryable<'a>(
    acc: &mut UnitAccount,
    progress: &mut Progress,
    rr: &RequestResult,
    cx: &Ctx,
    retryable: &[Failed<'a>],
    (attempt, settled): (u32, bool),
) -> Vec<Failure<'a>> {
    let stalls = stalls(rr, settled);
    let mut fate = fate(attempt, cx);
    if fate == Fate::HandOn && stalls >= cx.settings.no_progress_limit {
        fate = Fate::NoProgress;
    }
    progress.moved |= matches!(fate, Fate::Exhausted | Fate::DeadLetter | Fate::NoProgress);
    progress.waiting |= matches!(fate, Fate::HandOn | Fate::Redeliver);
    progress.spent |= retryable.iter().any(|(_, e)| e.spends_attempt());
    match fate {
        Fate::Exhausted => {
            let max = cx.settings.max_attempts;
            group(
                retryable,
                |_| Code::RetriesExhausted,
                |e| {
                    format!(
                        "gave up after attempt {attempt} of {max}; last error: {}",
                        e.chain()
                    )
                },
            )
        }
        Fate::DeadLetter => group(retryable, DeleteError::code, DeleteError::chain),
        Fate::NoProgress => group(
            retryable,
            |_| Code::NoProgress,
            |e| {
                format!(
                    "no progress in {stalls} invocations in a row (NO_PROGRESS_LIMIT {}); the last spent its time on: {}; last error: {}",
                    cx.settings.no_progress_limit,
                    cx.settings.spent,
                    e.chain()
                )
            },
        ),
        Fate::HandOn | Fate::Redeliver => {
            pass_on(acc, rr, retryable, fate, (attempt, settled, stalls));
            Vec::new()
        }
    }
}

/// The retryable items' lines say handed on; then they are re-enqueued
/// ([`Fate::HandOn`], counted when handed on without progress) or their
/// record goes back to its queue ([`Fate::Redeliver`]).
fn pass_on(
    acc: &mut UnitAccount,
    rr: &RequestResult,
    retryable: &[Failed],
    fate: Fate,
    (attempt, settled, stalls): (u32, bool, u32),
) {
    for (o, e) in retryable {
        let reason = Some(Reason::Code(e.code()));
        acc.lines
            .push(line_for(rr, o, Disposition::HandedOn, reason));
    }
    if fate == Fate::HandOn {
        if stalls > rr.request.no_progress() {
            acc.handed_on_without_progress
                .push((rr.request.service(), retryable.len() as u64));
        }
        hand_on(acc, rr, retryable, (attempt, settled, stalls));
    } else {
        acc.redeliver = true;
    }
}

/// The invocations in a row that made no progress on a request, this one
/// included: none once something of it settled or it learned what it
/// waits for; one more when it made calls and nothing came of them; as
/// many as before when it was not started (the invocation's time went to
/// the requests before it, which come first).
fn stalls(rr: &RequestResult, settled: bool) -> u32 {
    let touched = rr.outcomes.iter().any(|o| o.attempts > 0);
    match (settled || rr.learned, touched) {
        (true, _) => 0,
        (false, true) => rr.request.no_progress().saturating_add(1),
        (false, false) => rr.request.no_progress(),
    }
}

/// Re-enqueues the retryable items, after a backoff unless the deadline
/// alone stopped them; `stalls` is carried as `noProgress`.
fn hand_on(
    acc: &mut UnitAccount,
    rr: &RequestResult,
    retryable: &[Failed],
    (attempt, settled, stalls): (u32, bool, u32),
) {
    let retry_after = retryable
        .iter()
        .filter_map(|(_, e)| e.retry_after())
        .max()
        .map_or(0, |d| d.as_secs_f64().ceil() as u64);
    let cut_short = retryable
        .iter()
        .all(|(_, e)| matches!(e, DeleteError::OutOfTime { last: None }));
    // Cut short after settling some: the rest runs at once. Cut short with
    // nothing settled (only reads done): backoff, so that a deadline too
    // short for any delete cannot spin; doubling with each invocation in a
    // row that made no progress on it, so that work starved of its quota
    // leaves the quota to the work that can use it.
    let delay = if cut_short && settled {
        0
    } else {
        hand_on_delay(attempt.saturating_add(stalls), retry_after)
    };
    // Only errors spend an attempt, not a lack of time nor the quota.
    let next = if retryable.iter().any(|(_, e)| e.spends_attempt()) {
        attempt + 1
    } else {
        attempt
    };
    let items: Vec<&ItemOutcome> = retryable.iter().map(|(o, _)| *o).collect();
    for chunk in narrow(&items) {
        let mut raw = rr.request.to_raw(chunk.as_deref(), Some(next));
        raw.no_progress = (stalls > 0).then_some(stalls);
        acc.hand_ons.push(Outgoing {
            body: serde_json::to_string(&raw).expect("request serializes"),
            delay_seconds: Some(delay as i32),
        });
    }
}

/// One line per item, and the messages: each the request narrowed to its
/// items, with the failure.
fn dead_letter(acc: &mut UnitAccount, rr: &RequestResult, f: Failure, cx: &Ctx) {
    // The audit line says why, as the dead letter does, unless the item
    // already has its own detail (where a version is in use).
    let why = crate::raw_body::message(&f.message);
    for o in &f.items {
        let reason = Some(Reason::Code(f.code.clone()));
        let mut line = line_for(rr, o, Disposition::DeadLettered, reason);
        if line.detail.is_none() && !why.is_empty() {
            line.detail = Some(why.clone());
        }
        acc.lines.push(line);
    }
    for chunk in narrow(&f.items) {
        let mut raw = rr.request.to_raw(chunk.as_deref(), None);
        raw.failure = Some(cx.failure(&f.code, &f.message, f.attempts));
        acc.dead_letters.push(Outgoing {
            body: serde_json::to_string(&raw).expect("request serializes"),
            delay_seconds: None,
        });
    }
}

fn line_for(
    rr: &RequestResult,
    o: &ItemOutcome,
    disposition: Disposition,
    code: Option<Reason>,
) -> Line {
    Line {
        service: rr.request.service(),
        package: rr.request.label(),
        item: o.item.clone(),
        disposition,
        code,
        attempts: o.attempts,
        detail: o.detail.clone(),
        written: super::Written::of(&rr.request, &o.item),
        storage: match &o.item {
            Item::Version(v) => rr.plan.as_ref().and_then(|p| p.storage.get(v)).copied(),
            Item::Package => None,
        },
    }
}
