//! Outcomes → dead letters, hand-ons, redelivery and the summary. Pure: the
//! handler sends what this module decides.
//!
//! Every item ends in exactly one [`Disposition`]:
//! - `Deleted`, `Archived`, `Unlisted`, `Deprecated` or `AlreadyAbsent`;
//! - `Kept`, by a rule that the line names;
//! - `DeadLettered`: a permanent failure, or retries exhausted; one message
//!   per (request, code) on the dead-letter queue, itself a valid request;
//! - `HandedOn`: unfinished, re-enqueued on the work queue with `attempt`
//!   raised, or left to SQS to redeliver (the record is reported in
//!   `batchItemFailures`).

mod refuse;
mod request;
pub(crate) mod summary;
#[cfg(test)]
mod tests;
mod unit;

use std::time::SystemTime;

use serde::Serialize;
use serde_json::{json, Value};

use crate::code::Code;
use crate::decode::{Invalid, Origin};
use crate::execute::ItemOutcome;
use crate::plan::{Item, PackagePlan};
use crate::policy::KeepRule;
use crate::request::{Job, Service};
pub use summary::Summary;
pub(crate) use summary::{PlanInProgress, ReportLinks};
pub use unit::account;
pub(crate) use unit::Accounting;

/// Versions per dead-letter or hand-on message, so that a message of 255
/// character versions stays far below SQS's 1 MiB.
pub(crate) const MAX_VERSIONS_PER_MESSAGE: usize = 1000;
/// SQS's largest `DelaySeconds`.
pub(crate) const MAX_DELAY_SECONDS: u32 = 900;

/// What became of one executed request.
#[derive(Debug)]
pub struct RequestResult {
    pub request: Job,
    pub outcomes: Vec<ItemOutcome>,
    /// The plan of a policy request or a dry run.
    pub plan: Option<PackagePlan>,
    /// The request's package does not exist.
    pub package_not_found: bool,
    /// The invocation learned and kept facts this request waits for (an
    /// IoT request's jobs or indexing configuration): progress, though
    /// nothing of it settled.
    pub learned: bool,
    /// A backfill's part: the edges of the index it wrote.
    pub edges_written: u64,
}

#[derive(Debug)]
pub enum Entry {
    Executed(Box<RequestResult>),
    Invalid(Invalid),
    /// Work split for the work queue: a scope's packages, one policy
    /// request each, or an apply's parts.
    FannedOut(Vec<Job>),
    /// An event that asks for nothing (a CodeArtifact event other than a
    /// publish, or one with no EVENT_POLICY configured).
    Ignored(String),
    /// A request outside `ALLOWED_TARGETS`, refused before any call.
    NotPermitted {
        job: Job,
        reason: String,
    },
}

/// What became of one delivery.
#[derive(Debug)]
pub struct UnitResult {
    pub source: String,
    pub sender: Option<String>,
    pub origin: Origin,
    pub entries: Vec<Entry>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Disposition {
    Deleted,
    Archived,
    Unlisted,
    Deprecated,
    AlreadyAbsent,
    Kept,
    DeadLettered,
    HandedOn,
    /// Its entry in the index of dependencies was made (a backfill).
    Indexed,
}

impl Disposition {
    pub fn as_str(self) -> &'static str {
        match self {
            Disposition::Deleted => "deleted",
            Disposition::Archived => "archived",
            Disposition::Unlisted => "unlisted",
            Disposition::Deprecated => "deprecated",
            Disposition::AlreadyAbsent => "alreadyAbsent",
            Disposition::Kept => "kept",
            Disposition::DeadLettered => "deadLettered",
            Disposition::HandedOn => "handedOn",
            Disposition::Indexed => "indexed",
        }
    }
}

/// One item's final line in the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub(crate) service: Service,
    pub package: String,
    pub item: Item,
    pub disposition: Disposition,
    pub code: Option<Reason>,
    pub(crate) attempts: u32,
    /// Where a version kept as in use is used, why that is unknown, that
    /// the package was not found, or why an item was dead-lettered (its
    /// dead letter's `failure.message`).
    pub detail: Option<String>,
    /// The package and version as the request wrote them, where they
    /// differ from the stored form in `package` and `item`.
    pub written: Option<Written>,
    /// `measureStorage`: the version's assets as measured before it went.
    pub storage: Option<crate::plan::VersionBytes>,
}

impl Line {
    /// What it frees, if it counts in a run's storage: a version deleted,
    /// or one a dry run would delete.
    pub(crate) fn freeing(&self) -> Option<&crate::plan::VersionBytes> {
        let counts = matches!(
            (self.disposition, &self.code),
            (Disposition::Deleted, _) | (Disposition::Kept, Some(Reason::Rule(KeepRule::DryRun)))
        );
        self.storage.as_ref().filter(|_| counts)
    }
}

/// A package and version as a request wrote them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub package: String,
    pub version: Option<String>,
}

impl Written {
    /// What `request` wrote for `item`, if it differs from the stored form.
    pub(crate) fn of(job: &Job, item: &Item) -> Option<Written> {
        let Job::One(r) = job else { return None };
        let version = match item {
            Item::Version(v) => r.written.versions.get(v).cloned(),
            Item::Package => None,
        };
        if r.written.package.is_none() && version.is_none() {
            return None;
        }
        Some(Written {
            package: r.written.package.clone().unwrap_or_else(|| job.label()),
            version: version.or_else(|| match item {
                Item::Version(v) => Some(v.clone()),
                Item::Package => None,
            }),
        })
    }
}

/// Why an item was kept, dead-lettered or handed on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    Rule(KeepRule),
    Code(Code),
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Reason::Rule(r) => f.write_str(r.as_str()),
            Reason::Code(c) => f.write_str(c.as_str()),
        }
    }
}

/// A message to send to a queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Outgoing {
    pub(crate) body: String,
    pub(crate) delay_seconds: Option<i32>,
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub has_work_queue: bool,
    pub max_attempts: u32,
    /// `NO_PROGRESS_LIMIT`.
    pub no_progress_limit: u32,
    /// What the invocation spent its time on, for a `NO_PROGRESS` dead
    /// letter ([`crate::retry::Retrier::spent`]).
    pub spent: String,
}

/// What the handler must do for one delivery.
#[derive(Debug, Default)]
pub struct UnitAccount {
    /// Items handed on that this invocation made no progress on, by
    /// service (EMF `HandedOnWithoutProgress`).
    pub(crate) handed_on_without_progress: Vec<(Service, u64)>,
    pub(crate) source: String,
    /// Who sent the delivery, when known (see [`crate::decode::Unit::sender`]).
    pub(crate) sender: Option<String>,
    pub(crate) dead_letters: Vec<Outgoing>,
    pub(crate) hand_ons: Vec<Outgoing>,
    /// The requests that plan the rest of a scope's plan, made once this
    /// unit's part of the plan is written, and sent with the hand-ons.
    pub(crate) continuations: Vec<Outgoing>,
    /// The SQS record must be reported in `batchItemFailures`.
    pub(crate) redeliver: bool,
    pub(crate) lines: Vec<Line>,
    /// Reasons of the requests that did not decode.
    pub(crate) invalid: Vec<String>,
    /// Policy requests put on the work queue, one per package.
    pub(crate) fanned_out: u64,
    /// Why events were ignored.
    pub(crate) ignored: Vec<String>,
    /// Dry runs' plans.
    pub(crate) plans: Vec<PackagePlan>,
    /// The run reports written for this unit's requests.
    pub(crate) reports: Vec<ReportLinks>,
    /// Plans of scopes made in parts, not yet complete.
    pub(crate) plans_in_progress: Vec<PlanInProgress>,
    /// Archive times recorded from CodeArtifact's state-change events.
    pub(crate) archives_recorded: u64,
    /// Run reports that could not be written, by service.
    pub(crate) reports_unwritten: Vec<Service>,
    /// The packages requests named that do not exist, by service.
    pub(crate) packages_not_found: Vec<(Service, String, &'static str)>,
    /// Download events (CloudTrail `ReadFromRepository`) the delivery
    /// carried; of those, reads naming no version; and the versions whose
    /// latest read it wrote ([`crate::downloads`]).
    pub(crate) read_events: u64,
    pub(crate) metadata_reads: u64,
    pub(crate) versions_recorded: u64,
    /// Versions whose entry in the index of dependencies state-change
    /// events made again (a backfill's parts have `indexed` lines), and the
    /// edges written (events and a backfill's parts).
    pub(crate) dependents_indexed: u64,
    pub(crate) dependency_edges_written: u64,
    /// Requirements a `protectDependencies` plan could not read (each kept
    /// every candidate of its package).
    pub(crate) unreadable_requirements: u64,
    /// The record's message was handled by an earlier delivery of it (SQS
    /// delivered it twice): acknowledged without work.
    pub(crate) handled_earlier: bool,
}

impl UnitAccount {
    /// A record whose message an earlier delivery handled: nothing of it
    /// is requested again, and SQS deletes it.
    pub(crate) fn handled_earlier(unit: &crate::decode::Unit) -> Self {
        UnitAccount {
            source: unit.source.clone(),
            sender: unit.sender.clone(),
            handled_earlier: true,
            ..UnitAccount::default()
        }
    }

    /// A record left untouched (a FIFO batch stopped before it): every item
    /// is handed on by redelivery.
    pub(crate) fn unstarted(unit: &crate::decode::Unit) -> Self {
        let mut acc = UnitAccount {
            source: unit.source.clone(),
            sender: unit.sender.clone(),
            redeliver: true,
            ..UnitAccount::default()
        };
        for d in &unit.requests {
            if let crate::decode::Decoded::Valid(job) = d {
                acc.lines
                    .extend(refuse::untried(job, Disposition::HandedOn, None));
            }
        }
        acc
    }

    /// Its dead letters got through and its hand-ons did not: the
    /// dead-lettered items stay so (their messages are in the queue, so the
    /// summary says what happened), and SQS redelivers the record for the
    /// rest. A redelivery may dead-letter an item again; then the queue and
    /// the summaries both count it twice.
    pub(crate) fn redeliver_unsent(&mut self) {
        self.redeliver = true;
        self.hand_ons.clear();
        self.continuations.clear();
        self.fanned_out = 0;
    }

    /// Sends nothing for this record and lets SQS redeliver it whole: every
    /// item not finished is handed on by redelivery.
    pub(crate) fn redeliver_whole(&mut self) {
        self.redeliver = true;
        self.dead_letters.clear();
        self.hand_ons.clear();
        self.continuations.clear();
        self.fanned_out = 0;
        for l in &mut self.lines {
            if l.disposition == Disposition::DeadLettered {
                l.disposition = Disposition::HandedOn;
            }
        }
    }
}

/// Backoff before a handed-on request runs again: 5 s doubling per attempt,
/// at most 900 s, and never shorter than the service's `Retry-After`.
pub(crate) fn hand_on_delay(attempt: u32, retry_after_secs: u64) -> u32 {
    let backoff = 5u64.saturating_mul(1u64 << attempt.saturating_sub(1).min(16));
    backoff.max(retry_after_secs).min(MAX_DELAY_SECONDS as u64) as u32
}

fn rfc3339(t: SystemTime) -> String {
    time::OffsetDateTime::from(t)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// What the accounting needs to know of one delivery.
struct Ctx<'a> {
    settings: &'a Settings,
    source: &'a str,
    time: String,
    sqs: bool,
    fifo: bool,
    /// Receives that count as attempts (see [`attempts_received`]).
    receives: u32,
}

impl Ctx<'_> {
    /// The `failure` member of a dead letter.
    fn failure(&self, code: &Code, message: &str, attempts: u32) -> Value {
        json!({"code": code, "message": message, "attempts": attempts,
               "source": self.source, "time": self.time})
    }
}

/// Whether anything of a delivery got anywhere, whether some of it waits,
/// and whether what waits failed on errors that spend an attempt (not
/// merely the deadline or the quota).
#[derive(Default)]
struct Progress {
    moved: bool,
    waiting: bool,
    spent: bool,
}

/// The `versions` of the messages carrying these items: `None` for the
/// package item (the message stays `deletePackage: true`).
fn narrow(items: &[&ItemOutcome]) -> Vec<Option<Vec<String>>> {
    let versions: Vec<String> = items
        .iter()
        .filter_map(|o| match &o.item {
            Item::Version(v) => Some(v.clone()),
            Item::Package => None,
        })
        .collect();
    let mut out: Vec<Option<Vec<String>>> = versions
        .chunks(MAX_VERSIONS_PER_MESSAGE)
        .map(|c| Some(c.to_vec()))
        .collect();
    if items.iter().any(|o| o.item == Item::Package) {
        out.push(None);
    }
    out
}
