//! How an invocation answers, the one thing in which an SQS batch and a
//! direct invocation differ: what fails of an SQS record goes back to SQS,
//! record by record, in the batch response; what fails of a direct
//! invocation fails it, for Lambda to retry it whole, and it answers with
//! the summary.

use aws_lambda_events::sqs::SqsBatchResponse;
use serde_json::Value;

use super::output::{Queue, Unsent};
use super::pipeline::{UnitRun, Work};
use super::HandlerError;
use crate::account::{Summary, UnitAccount};
use crate::config::Config;

/// How an invocation answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Reply {
    /// An SQS event: the `SqsBatchResponse`.
    Batch,
    /// A direct invocation (EventBridge, or a request): the summary.
    Summary,
}

/// The units whose messages did not all get through: the first's failure,
/// and how many.
pub(super) type Unsents = Option<(Unsent, usize)>;

impl Reply {
    /// A direct invocation whose download events could not all be written
    /// fails before running anything; an SQS record runs, and goes back
    /// whole ([`UnitRun`]'s tally).
    pub(super) fn unrecorded(self, work: &[Work]) -> Result<(), HandlerError> {
        let failed = (work.iter()).find_map(|w| Some((w.tally.events, w.tally.failed.clone()?)));
        match (self, failed) {
            (Reply::Summary, Some((events, first))) => {
                Err(HandlerError::Unrecorded { events, first })
            }
            _ => Ok(()),
        }
    }

    /// A unit whose part of a plan could not be written goes back to SQS
    /// whole; a direct invocation fails, to be retried whole (a part already
    /// written stands, and the retry goes on from its end).
    pub(super) fn parts_unwritten(self, runs: &mut [UnitRun]) -> Result<(), HandlerError> {
        for run in runs.iter_mut().filter(|r| r.part_unwritten) {
            match self {
                Reply::Batch => run.account.redeliver_whole(),
                Reply::Summary => {
                    return Err(HandlerError::PlanUnwritten {
                        record: run.account.source.clone(),
                    })
                }
            }
        }
        Ok(())
    }

    /// An SQS record whose messages did not all get through goes back:
    /// whole when its dead letters failed, otherwise for what was not sent.
    /// A direct invocation fails once it has logged its summary
    /// ([`Reply::answer`]).
    pub(super) fn redeliver_unsent(self, runs: &mut [UnitRun], config: &Config) {
        if self == Reply::Summary {
            return;
        }
        for run in runs.iter_mut() {
            let Some(unsent) = &run.unsent else { continue };
            let acc = &mut run.account;
            tracing::error!(record = %acc.source, queue = %unsent.queue.name(config), error = %unsent.error, "could not write the record's messages; SQS will redeliver it");
            match unsent.queue {
                Queue::DeadLetter => acc.redeliver_whole(),
                Queue::Work => acc.redeliver_unsent(),
            }
        }
    }

    /// Whether the run reports are written: an SQS batch's always; a direct
    /// invocation's only when all its messages got through (failing, it is
    /// retried whole, and its retry reports it).
    pub(super) fn writes_reports(self, runs: &[UnitRun]) -> bool {
        self == Reply::Batch || runs.iter().all(|r| r.unsent.is_none())
    }

    /// The units whose messages did not all get through.
    pub(super) fn unsent(runs: &[UnitRun]) -> Unsents {
        let mut unsent = runs.iter().filter_map(|r| r.unsent.clone());
        let first = unsent.next()?;
        Some((first, 1 + unsent.count()))
    }

    /// The answer: the batch response (the records that go back to SQS),
    /// or the summary; or, for a direct invocation whose messages did not
    /// all get through, the error that has Lambda retry it.
    pub(super) fn answer(
        self,
        accounts: &[UnitAccount],
        summary: &Summary,
        unsent: Unsents,
        config: &Config,
    ) -> Result<Value, HandlerError> {
        match (self, unsent) {
            (Reply::Batch, _) => {
                let mut response = SqsBatchResponse::default();
                for acc in accounts.iter().filter(|a| a.redeliver) {
                    response.add_failure(acc.source.clone());
                }
                Ok(serde_json::to_value(response).expect("batch response serializes"))
            }
            (Reply::Summary, Some((first, count))) => Err(HandlerError::Unwritable {
                queue: first.queue.name(config),
                count,
                first: first.error,
            }),
            (Reply::Summary, None) => {
                Ok(serde_json::to_value(summary).expect("summary serializes"))
            }
        }
    }
}
