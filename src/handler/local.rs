//! One request run inline, with no queue and no bucket: what packprune-cli
//! runs. The same pipeline as a direct invocation (validation, the
//! planner, the adapters, the accounting), with nothing sent anywhere:
//! what the Lambda would send to its queues is returned, and the run's
//! report is built for the caller to write.

use std::time::Duration;

use tokio::time::Instant;

use super::{Handler, Invocation};
use crate::account::{Line, Summary};
use crate::decode::{Decoded, Origin, Unit};
use crate::execute::IotReads;
use crate::report::Report;
use crate::request::Job;
use crate::retry::Retrier;

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

impl Handler {
    /// Runs `job` inline. `budget` bounds how long it may take (what the
    /// Lambda deadline bounds in Lambda); `request_id` names its report.
    /// `account` is the caller's account, the domain owner of a request
    /// that names none (only the downloads table's reads need it).
    ///
    /// With no work queue, nothing is handed on or fanned out: a scope and
    /// an apply run every package in turn, and what still fails is
    /// dead-lettered with its code ([`Inline::dead_letters`]).
    pub async fn run_inline(
        &self,
        job: Job,
        request_id: &str,
        budget: Duration,
        account: Option<String>,
    ) -> Inline {
        let inv = Invocation {
            retrier: Retrier::new(
                self.retry,
                Instant::now() + budget,
                self.config.max_concurrency,
                self.pacers.clone(),
            ),
            // packprune-cli reads what the function learned, never writes it.
            iot_reads: IotReads::new(self.memory.clone(), false),
            account,
            request_id: request_id.to_owned(),
            reporting: true,
            deadline_ms: crate::downloads::now_ms() + budget.as_millis() as i64,
        };
        let unit = Unit {
            source: request_id.to_owned(),
            sender: None,
            origin: Origin::Direct,
            requests: vec![Decoded::Valid(job)],
        };
        let (acc, inputs) = self.run_unit(unit, &inv).await;
        let now_ms = crate::downloads::now_ms();
        let report = inputs
            .first()
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
