//! The per-source paths of an invocation: an SQS batch (records run
//! together, or in order on a FIFO queue, each reported on its own) and a
//! direct invocation (one unit, answered with the summary).

use aws_lambda_events::sqs::SqsBatchResponse;
use futures::future::join_all;

use crate::retry::nth;

use super::output::{audit, log_summary};
use super::usage::Tally;
use super::{Handler, HandlerError, Invocation, Processed};
use crate::account::{Summary, UnitAccount};
use crate::decode::{Origin, Unit};
use crate::report::ReportInput;

impl Handler {
    pub(super) async fn handle_sqs(
        &self,
        units: Vec<Unit>,
        inv: &Invocation,
    ) -> (Processed, Vec<UnitAccount>) {
        let gated = self.claim_deliveries(units, inv).await;
        let mut units = gated.run;
        let tallies = self.record_reads(&mut units, inv).await;
        let fifo = units
            .iter()
            .any(|u| matches!(u.origin, Origin::Sqs { fifo: true, .. }));
        let ran = self.run_units(units, fifo, inv).await;
        let (mut accounts, inputs): (Vec<UnitAccount>, Vec<Vec<ReportInput>>) =
            ran.into_iter().unzip();
        for (acc, t) in accounts.iter_mut().zip(tallies) {
            apply_tally(acc, t);
        }
        self.send(&mut accounts, &inputs, fifo, inv).await;
        self.write_reports(&mut accounts, &inputs, &inv.request_id)
            .await;
        self.finish_deliveries(&gated.claimed, &accounts, inv).await;
        accounts.extend(gated.skipped);
        let mut response = SqsBatchResponse::default();
        let mut summary = Summary::default();
        for acc in &accounts {
            if acc.redeliver {
                response.add_failure(acc.source.clone());
            }
            audit(acc);
            summary.add(acc);
        }
        log_summary(&summary);
        let processed = Processed {
            response: serde_json::to_value(response).expect("batch response serializes"),
            summary,
            metrics: Vec::new(),
            lines: Vec::new(),
        };
        (processed, accounts)
    }

    /// The batch's records: together, or on a FIFO queue in order,
    /// stopping at the first that must be retried.
    async fn run_units(
        &self,
        units: Vec<Unit>,
        fifo: bool,
        inv: &Invocation,
    ) -> Vec<(UnitAccount, Vec<ReportInput>)> {
        if !fifo {
            // Progress before breadth: the first record's calls go first.
            return join_all(
                units
                    .into_iter()
                    .enumerate()
                    .map(|(i, u)| nth(i, self.run_unit(u, inv))),
            )
            .await;
        }
        let mut out = Vec::with_capacity(units.len());
        let mut stopped = false;
        for unit in units {
            let ran = if stopped {
                (UnitAccount::unstarted(&unit), Vec::new())
            } else {
                self.run_unit(unit, inv).await
            };
            stopped |= ran.0.redeliver;
            out.push(ran);
        }
        out
    }

    /// The records' parts of plans, then their messages. A part that
    /// could not be written is planned again; a record whose messages did
    /// not all get through goes back to SQS; on a FIFO queue, the records
    /// after one that goes back go back whole, unsent.
    async fn send(
        &self,
        accounts: &mut [UnitAccount],
        inputs: &[Vec<ReportInput>],
        fifo: bool,
        inv: &Invocation,
    ) {
        for i in self.write_parts(accounts, inputs, &inv.request_id).await {
            accounts[i].redeliver_whole();
        }
        if fifo {
            redeliver_after_first(accounts);
        }
        // `flush` names a record's dead-letter failure first, when it has one.
        for (i, queue, failure) in self.flush(accounts).await {
            tracing::error!(record = %accounts[i].source, %queue, error = %failure, "could not write the record's messages; SQS will redeliver it");
            if Some(&queue) == self.config.dead_letter_queue_url.as_ref() {
                accounts[i].redeliver_whole();
            } else {
                accounts[i].redeliver_unsent();
            }
        }
        if fifo {
            redeliver_after_first(accounts);
        }
    }

    pub(super) async fn handle_invocation(
        &self,
        unit: Unit,
        inv: &Invocation,
    ) -> Result<(Processed, Vec<UnitAccount>), HandlerError> {
        let mut units = [unit];
        let [tally] = <[Tally; 1]>::try_from(self.record_reads(&mut units, inv).await)
            .expect("one tally per unit");
        let [unit] = units;
        if let Some(e) = &tally.failed {
            return Err(HandlerError::Unrecorded {
                events: tally.events,
                first: e.clone(),
            });
        }
        let (acc, inputs) = self.run_unit(unit, inv).await;
        let mut accounts = vec![acc];
        apply_tally(&mut accounts[0], tally);
        let inputs = [inputs];
        if !self
            .write_parts(&mut accounts, &inputs, &inv.request_id)
            .await
            .is_empty()
        {
            // Failing, the invocation is retried whole; a part already
            // written stands, and the retry goes on from its end.
            return Err(HandlerError::PlanUnwritten {
                record: accounts[0].source.clone(),
            });
        }
        let failures = self.flush(&accounts).await;
        // Failing, the invocation is retried whole: its retry reports it.
        if failures.is_empty() {
            self.write_reports(&mut accounts, &inputs, &inv.request_id)
                .await;
        }
        audit(&accounts[0]);
        let mut summary = Summary::default();
        summary.add(&accounts[0]);
        log_summary(&summary);
        if let Some((_, queue, first)) = failures.first() {
            return Err(HandlerError::Unwritable {
                queue: queue.clone(),
                count: failures.len(),
                first: first.clone(),
            });
        }
        let processed = Processed {
            response: serde_json::to_value(&summary).expect("summary serializes"),
            summary,
            metrics: Vec::new(),
            lines: Vec::new(),
        };
        Ok((processed, accounts))
    }
}

/// On a FIFO queue, the records from the first that goes back to SQS on
/// go back whole: a group's order holds.
fn redeliver_after_first(accounts: &mut [UnitAccount]) {
    if let Some(first) = accounts.iter().position(|a| a.redeliver) {
        accounts[first..]
            .iter_mut()
            .for_each(UnitAccount::redeliver_whole);
    }
}

/// Puts a unit's download events in its account: counted, and, where their
/// write failed, the record returned to SQS whole.
fn apply_tally(acc: &mut UnitAccount, t: Tally) {
    acc.read_events = t.events;
    acc.metadata_reads = t.metadata;
    acc.versions_recorded = t.written;
    acc.archives_recorded = t.archives;
    acc.ignored.extend(t.ignored);
    if let Some(e) = t.failed {
        tracing::error!(record = %acc.source, error = %e.chain(), "the record's downloads could not be written; SQS will redeliver it");
        acc.redeliver_whole();
    }
}
