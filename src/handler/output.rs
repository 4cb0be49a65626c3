//! What an invocation leaves behind: the dead letters and hand-ons sent to
//! their queues, the audit trail (one line per item) and the summary line.

use std::sync::Arc;

use futures::future::join_all;

use super::pipeline::UnitRun;
use crate::account::{Disposition, Outgoing, Summary, UnitAccount};
use crate::code::Code;
use crate::config::Config;
use crate::queue::{Outbox, SendError};

/// The function's two queues.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Queue {
    /// `DEAD_LETTER_QUEUE_URL`: the dead letters.
    DeadLetter,
    /// `WORK_QUEUE_URL`: the hand-ons and the plans' continuations.
    Work,
}

impl Queue {
    /// The queue's URL, if configured.
    fn url(self, config: &Config) -> Option<&String> {
        match self {
            Queue::DeadLetter => config.dead_letter_queue_url.as_ref(),
            Queue::Work => config.work_queue_url.as_ref(),
        }
    }

    /// The queue as logs and errors name it: its URL, or its variable,
    /// unset.
    pub(super) fn name(self, config: &Config) -> String {
        match (self.url(config), self) {
            (Some(url), _) => url.clone(),
            (None, Queue::DeadLetter) => "DEAD_LETTER_QUEUE_URL (unset)".into(),
            (None, Queue::Work) => "WORK_QUEUE_URL (unset)".into(),
        }
    }

    /// A unit's messages for this queue.
    fn messages(self, acc: &UnitAccount) -> Vec<&Outgoing> {
        match self {
            Queue::DeadLetter => acc.dead_letters.iter().collect(),
            Queue::Work => acc.hand_ons.iter().chain(&acc.continuations).collect(),
        }
    }
}

/// A unit's first message that did not get through, and its queue.
#[derive(Debug, Clone)]
pub(super) struct Unsent {
    pub(super) queue: Queue,
    pub(super) error: Arc<SendError>,
}

/// Sends every dead letter and hand-on, both queues at once; each unit
/// whose messages did not all get through learns its first error
/// ([`UnitRun::unsent`]), a dead letter's first.
pub(super) async fn flush(outbox: &Outbox, config: &Config, runs: &mut [UnitRun]) {
    let sent = join_all([Queue::DeadLetter, Queue::Work].map(|queue| {
        let messages: Vec<Outgoing> = (runs.iter())
            .flat_map(|r| queue.messages(&r.account))
            .cloned()
            .collect();
        async move { (queue, send(outbox, config, queue, messages).await) }
    }))
    .await;
    // Dead letters first: a unit's dead-letter failure is named first.
    for (queue, results) in sent {
        let mut results = results.into_iter();
        for run in runs.iter_mut() {
            let n = queue.messages(&run.account).len();
            let mine: Vec<_> = results.by_ref().take(n).collect();
            let failed = mine.into_iter().find_map(Result::err);
            if let (None, Some(error)) = (&run.unsent, failed) {
                run.unsent = Some(Unsent { queue, error });
            }
        }
    }
}

/// Sends `messages` to `queue`: one result each, in order.
async fn send(
    outbox: &Outbox,
    config: &Config,
    queue: Queue,
    messages: Vec<Outgoing>,
) -> Vec<crate::queue::Sent> {
    if messages.is_empty() {
        return Vec::new();
    }
    match queue.url(config) {
        Some(url) => outbox.send(url, &messages).await,
        // Accounting hands on only with a work queue, and the Lambda's
        // configuration always has a dead-letter queue; should that ever
        // change, the records fail rather than lose work.
        None => {
            let e = Arc::new(SendError::NoQueue);
            messages.iter().map(|_| Err(e.clone())).collect()
        }
    }
}

/// One structured line per item: the audit trail.
pub(super) fn audit(acc: &UnitAccount) {
    for l in &acc.lines {
        tracing::info!(
            source = %acc.source,
            sender = acc.sender.as_deref().unwrap_or(""),
            service = %l.service,
            package = %l.package,
            version = %l.item,
            outcome = l.disposition.as_str(),
            code = %l.code.as_ref().map(ToString::to_string).unwrap_or_default(),
            detail = l.detail.as_deref().unwrap_or(""),
            written_package = l.written.as_ref().map_or("", |w| w.package.as_str()),
            written_version = l.written.as_ref().and_then(|w| w.version.as_deref()).unwrap_or(""),
            attempts = l.attempts,
            bytes = l.storage.and_then(|b| b.bytes),
            shared = l.storage.map(|b| b.shared),
            "version outcome"
        );
    }
    for (service, package, detail) in &acc.packages_not_found {
        tracing::warn!(source = %acc.source, %service, %package, detail, "not found: the request names a package or package group that does not exist");
    }
    for reason in &acc.invalid {
        tracing::warn!(source = %acc.source, outcome = Disposition::DeadLettered.as_str(), code = %Code::InvalidRequest, detail = %reason, reason = %reason, "invalid request");
    }
}

pub(super) fn log_summary(s: &Summary) {
    tracing::info!(
        requested = s.requested,
        deleted = s.deleted,
        archived = s.archived,
        unlisted = s.unlisted,
        deprecated = s.deprecated,
        already_absent = s.already_absent,
        kept = s.kept,
        dead_lettered = s.dead_lettered,
        handed_on = s.handed_on,
        invalid_requests = s.invalid_requests,
        dead_letter_messages = s.dead_letter_messages,
        hand_on_messages = s.hand_on_messages,
        plan_continuations = s.plan_continuations,
        records_redelivered = s.records_redelivered,
        packages_not_found = s.packages_not_found,
        planned = %serde_json::to_string(&s.planned).unwrap_or_default(),
        storage_bytes = s.storage.map(|t| t.bytes),
        shared_bytes = s.storage.map(|t| t.shared_bytes),
        unknown_size_versions = s.unknown_size_versions,
        reports_written = s.reports_written,
        reports_unwritten = s.reports_unwritten,
        report = %report_field(s),
        balanced = s.balanced(),
        "invocation summary"
    );
}

/// The summary line's `report`: the report's links as JSON (all of them,
/// as an array, when the invocation wrote several), or empty.
fn report_field(s: &Summary) -> String {
    match (&s.report, s.reports.len()) {
        (Some(r), _) => serde_json::to_string(r).unwrap_or_default(),
        (None, 0) => String::new(),
        (None, _) => serde_json::to_string(&s.reports).unwrap_or_default(),
    }
}
