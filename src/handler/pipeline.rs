//! One path for every unit, whatever brought it: an SQS batch's records
//! (run together, or in order on a FIFO queue) and a direct invocation's
//! one unit take the same steps, and differ only in how the invocation
//! answers ([`Reply`]): claims, download events, the requests run and
//! accounted, parts of plans, messages, reports, the audit and the summary.

use futures::future::join_all;
use serde_json::Value;

use super::output::{self, audit, log_summary, Unsent};
use super::reply::Reply;
use super::reports::Writer;
use super::usage::{self, Tally};
use super::{deliveries, Handler, HandlerError, Invocation};
use crate::account::{Summary, UnitAccount};
use crate::decode::{Origin, Unit};
use crate::report::ReportInput;
use crate::retry::nth;

/// A unit to run: whether this invocation claimed its message, and what
/// became of its download events.
pub(super) struct Work {
    pub(super) unit: Unit,
    pub(super) claimed: bool,
    pub(super) tally: Tally,
}

impl Work {
    /// A unit whose download events are not recorded yet.
    pub(super) fn new(unit: Unit, claimed: bool) -> Self {
        Work {
            unit,
            claimed,
            tally: Tally::default(),
        }
    }
}

/// One unit run: its account (its tally in it), the reports its requests
/// write, and what of it did not get out.
pub(super) struct UnitRun {
    pub(super) account: UnitAccount,
    pub(super) reports: Vec<ReportInput>,
    /// This invocation claimed its message ([`deliveries`]).
    pub(super) claimed: bool,
    /// A part of a plan it made could not be written.
    pub(super) part_unwritten: bool,
    /// Its first message that did not get through.
    pub(super) unsent: Option<Unsent>,
}

impl UnitRun {
    /// A unit run, its messages not sent yet.
    pub(super) fn new(account: UnitAccount, reports: Vec<ReportInput>) -> Self {
        UnitRun {
            account,
            reports,
            claimed: false,
            part_unwritten: false,
            unsent: None,
        }
    }

    /// Puts the unit's download events in its account: counted, and, where
    /// their write failed, the record returned to SQS whole.
    fn tally(&mut self, t: Tally) {
        let acc = &mut self.account;
        acc.read_events = t.events;
        acc.metadata_reads = t.metadata;
        acc.versions_recorded = t.written;
        acc.archives_recorded = t.archives;
        acc.dependents_indexed += t.indexed;
        acc.dependency_edges_written += t.edges;
        acc.ignored.extend(t.ignored);
        if let Some(e) = t.failed {
            tracing::error!(record = %acc.source, error = %e.chain(), "the record's downloads could not be written; SQS will redeliver it");
            acc.redeliver_whole();
        }
    }
}

/// What an invocation's units came to: its response, the summary, and
/// every unit's account.
pub(super) struct Answered {
    pub(super) response: Value,
    pub(super) summary: Summary,
    pub(super) accounts: Vec<UnitAccount>,
}

/// One invocation's units, from their claims to the summary.
pub(super) struct Pipeline<'h> {
    pub(super) handler: &'h Handler,
    pub(super) inv: &'h Invocation,
    pub(super) reply: Reply,
}

impl Pipeline<'_> {
    /// Runs the units, sends what they leave, writes their reports, and
    /// answers.
    pub(super) async fn run(&self, units: Vec<Unit>) -> Result<Answered, HandlerError> {
        let (h, inv) = (self.handler, self.inv);
        let gated = deliveries::claim(h.deliveries.as_ref(), units, inv).await;
        let mut work = gated.run;
        usage::record_reads(&h.executor, &mut work, inv).await;
        self.reply.unrecorded(&work)?;
        let fifo = (work.iter()).any(|w| matches!(w.unit.origin, Origin::Sqs { fifo: true, .. }));
        let mut runs = self.run_units(work, fifo).await;
        self.send(&mut runs, fifo).await?;
        if self.reply.writes_reports(&runs) {
            self.writer().write_reports(&mut runs).await;
        }
        deliveries::finish(h.deliveries.as_ref(), &runs, inv).await;
        let unsent = Reply::unsent(&runs);
        let mut accounts: Vec<UnitAccount> = runs.into_iter().map(|r| r.account).collect();
        accounts.extend(gated.skipped);
        let mut summary = Summary::default();
        for acc in &accounts {
            audit(acc);
            summary.add(acc);
        }
        log_summary(&summary);
        let response = self.reply.answer(&accounts, &summary, unsent, &h.config)?;
        Ok(Answered {
            response,
            summary,
            accounts,
        })
    }

    /// The units: together, or on a FIFO queue in order, stopping at the
    /// first that must be retried (those after it are left unstarted).
    async fn run_units(&self, work: Vec<Work>, fifo: bool) -> Vec<UnitRun> {
        let runner = self.handler.runner();
        let inv = self.inv;
        if !fifo {
            return join_all(work.into_iter().enumerate().map(|(i, w)| {
                let runner = &runner;
                let run = async move {
                    let mut run = runner.run_unit(w.unit, inv).await;
                    run.claimed = w.claimed;
                    run.tally(w.tally);
                    run
                };
                async move {
                    match self.reply {
                        // Progress before breadth: the first record's
                        // calls go first.
                        Reply::Batch => nth(i, run).await,
                        // One unit: its requests are the first rank (the
                        // priorities have four).
                        Reply::Summary => run.await,
                    }
                }
            }))
            .await;
        }
        let mut out = Vec::with_capacity(work.len());
        let mut stopped = false;
        for w in work {
            let mut run = if stopped {
                UnitRun::new(UnitAccount::unstarted(&w.unit), Vec::new())
            } else {
                runner.run_unit(w.unit, inv).await
            };
            // What stops the batch is the run, not its download events.
            stopped |= run.account.redeliver;
            run.claimed = w.claimed;
            run.tally(w.tally);
            out.push(run);
        }
        out
    }

    /// The units' parts of plans, then their messages. A part that could
    /// not be written is planned again; a unit whose messages did not all
    /// get through goes back (how: [`Reply`]); on a FIFO queue, the
    /// records after one that goes back go back whole, unsent.
    async fn send(&self, runs: &mut [UnitRun], fifo: bool) -> Result<(), HandlerError> {
        self.writer().write_parts(runs).await;
        self.reply.parts_unwritten(runs)?;
        if fifo {
            redeliver_after_first(runs);
        }
        let h = self.handler;
        output::flush(&h.outbox, &h.config, runs).await;
        self.reply.redeliver_unsent(runs, &h.config);
        if fifo {
            redeliver_after_first(runs);
        }
        Ok(())
    }

    fn writer(&self) -> Writer<'_> {
        Writer {
            reports: &self.handler.reports,
            request_id: &self.inv.request_id,
        }
    }
}

/// On a FIFO queue, the records from the first that goes back to SQS on
/// go back whole: a group's order holds.
fn redeliver_after_first(runs: &mut [UnitRun]) {
    let first = (runs.iter().position(|r| r.account.redeliver)).unwrap_or(runs.len());
    for run in runs.iter_mut().skip(first) {
        run.account.redeliver_whole();
    }
}
