//! What an invocation leaves behind: the dead letters and hand-ons sent to
//! their queues, the audit trail (one line per item) and the summary line.

use std::sync::Arc;

use futures::future::join_all;

use super::Handler;
use crate::account::{Disposition, Summary, UnitAccount};
use crate::code::Code;
use crate::queue::SendError;

impl Handler {
    /// Sends every dead letter and hand-on, both queues at once; returns
    /// the accounts whose messages did not all get through, each with its
    /// first error.
    pub(super) async fn flush(
        &self,
        accounts: &[UnitAccount],
    ) -> Vec<(usize, String, Arc<SendError>)> {
        let queues = [
            (self.config.dead_letter_queue_url.as_ref(), true),
            (self.config.work_queue_url.as_ref(), false),
        ];
        let sent = join_all(queues.into_iter().map(|(queue, dead)| async move {
            let mut owners = Vec::new();
            let mut messages = Vec::new();
            for (i, acc) in accounts.iter().enumerate() {
                let list: Vec<&crate::account::Outgoing> = if dead {
                    acc.dead_letters.iter().collect()
                } else {
                    acc.hand_ons.iter().chain(&acc.continuations).collect()
                };
                owners.extend(std::iter::repeat_n(i, list.len()));
                messages.extend(list.into_iter().cloned());
            }
            if messages.is_empty() {
                return Vec::new();
            }
            let (queue, results) = match queue {
                Some(q) => (q.clone(), self.outbox.send(q, &messages).await),
                // Accounting hands on only with a work queue, and the
                // Lambda's configuration always has a dead-letter queue;
                // should that ever change, the records fail rather than
                // lose work.
                None => {
                    let e = Arc::new(SendError::NoQueue);
                    let var = if dead {
                        "DEAD_LETTER_QUEUE_URL"
                    } else {
                        "WORK_QUEUE_URL"
                    };
                    (
                        format!("{var} (unset)"),
                        messages.iter().map(|_| Err(e.clone())).collect(),
                    )
                }
            };
            owners
                .into_iter()
                .zip(results)
                .filter_map(|(owner, r)| r.err().map(|e| (owner, queue.clone(), e)))
                .collect::<Vec<_>>()
        }))
        .await;
        let mut failed: Vec<(usize, String, Arc<SendError>)> = Vec::new();
        for (owner, queue, e) in sent.into_iter().flatten() {
            if !failed.iter().any(|(i, _, _)| *i == owner) {
                failed.push((owner, queue, e));
            }
        }
        failed
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
            "version outcome"
        );
    }
    for (service, package) in &acc.packages_not_found {
        tracing::warn!(source = %acc.source, %service, %package, detail = crate::execute::PACKAGE_NOT_FOUND, "package not found: the request names a package that does not exist");
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
