//! One request run inline, with no queue and no bucket: what packprune-cli
//! runs. The same pipeline as a direct invocation (validation, the
//! planner, the adapters, the accounting), with nothing sent anywhere:
//! what the Lambda would send to its queues is returned, and the run's
//! report is built for the caller to write.

use super::pipeline::UnitRun;
use crate::account::{Line, Summary};
use crate::report::Report;

/// What an inline run gave.
#[derive(Debug)]
pub struct Inline {
    /// The counts, as a direct invocation answers them.
    pub summary: Summary,
    /// One audit line per item.
    pub lines: Vec<Line>,
    /// The run's report: a dry run's plan, a policy run's or an apply's
    /// report (explicit versions write none). Built, not written.
    pub report: Option<Report>,
    /// What the Lambda would have dead-lettered: each message a replayable
    /// request with its `failure` (code, message, attempts).
    pub dead_letters: Vec<String>,
}

impl Inline {
    /// What the inline run of request `request_id` gave: its report built,
    /// not written.
    pub(super) fn of(run: UnitRun, request_id: &str) -> Self {
        let acc = run.account;
        let now_ms = crate::downloads::now_ms();
        let report = (run.reports.first())
            .map(|input| input.report(&acc.lines, &acc.source, request_id, now_ms));
        let mut summary = Summary::default();
        summary.add(&acc);
        Inline {
            summary,
            lines: acc.lines.clone(),
            report,
            dead_letters: acc.dead_letters.iter().map(|o| o.body.clone()).collect(),
        }
    }
}
