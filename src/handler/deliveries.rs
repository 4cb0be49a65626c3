//! A standard queue's message delivered twice is worked on once: each
//! delivery claims its message in the table first
//! ([`crate::downloads::DeliveryTable`]), and gives the claim up or marks
//! the message handled when it ends.

use futures::future::join_all;
use futures::StreamExt;

use super::pipeline::{UnitRun, Work};
use super::Invocation;
use crate::account::UnitAccount;
use crate::decode::{Decoded, Origin, Unit};
use crate::downloads::{Claim, DeliveryTable, Finish};

/// Claims ended at once at the end of an invocation.
const FINISHING_AT_ONCE: usize = 16;
/// Ending claims stops this long before the deadline (ms).
const FINISH_BEFORE_DEADLINE_MS: i64 = 200;

/// A batch's records sorted by their claims.
pub(super) struct Gated {
    /// The records to work on, each saying whether this invocation claimed
    /// its message.
    pub(super) run: Vec<Work>,
    /// The accounts of the records not worked on: handled by an earlier
    /// delivery (acknowledged), or held by another invocation now (back to
    /// SQS untouched).
    pub(super) skipped: Vec<UnitAccount>,
}

/// Whether a record is claimed: a standard queue's (a FIFO queue processes
/// a message once already) that asks for work (download events are
/// recorded forward-only: a second recording changes nothing).
fn claimed(unit: &Unit) -> bool {
    matches!(unit.origin, Origin::Sqs { fifo: false, .. })
        && unit.requests.iter().any(|d| matches!(d, Decoded::Valid(_)))
}

/// Claims the records' messages (with `DOWNLOADS_TABLE`, `table`). A
/// claim the table could not answer lets its record run: a copy worked on
/// twice is what happens without the table, and every delete is still read
/// and checked first.
pub(super) async fn claim(
    table: Option<&DeliveryTable>,
    units: Vec<Unit>,
    inv: &Invocation,
) -> Gated {
    let Some(table) = table else {
        return Gated {
            run: units.into_iter().map(|u| Work::new(u, false)).collect(),
            skipped: Vec::new(),
        };
    };
    let owner = (inv.request_id.as_str(), inv.deadline_ms);
    let claims = join_all(units.into_iter().map(|u| async move {
        if !claimed(&u) {
            return (u, None);
        }
        let claim = table.claim(&u.source, owner, &inv.retrier).await.result;
        (u, Some(claim))
    }))
    .await;
    let mut gated = Gated {
        run: Vec::new(),
        skipped: Vec::new(),
    };
    let mut taken: Vec<String> = Vec::new();
    for (unit, claim) in claims {
        // The same message twice in one batch: the first copy's
        // outcome is the message's (its id in `batchItemFailures` or not).
        if claim.is_some() && taken.contains(&unit.source) {
            gated.skipped.push(UnitAccount::handled_earlier(&unit));
            continue;
        }
        match claim {
            None => gated.run.push(Work::new(unit, false)),
            Some(Ok(Claim::Taken)) => {
                taken.push(unit.source.clone());
                gated.run.push(Work::new(unit, true));
            }
            Some(Ok(Claim::Handled)) => {
                tracing::info!(record = %unit.source, "the message was handled by an earlier delivery; acknowledged without work");
                gated.skipped.push(UnitAccount::handled_earlier(&unit));
            }
            Some(Ok(Claim::Held)) => {
                tracing::info!(record = %unit.source, "another invocation works on the message now; SQS will deliver it again");
                gated.skipped.push(UnitAccount::unstarted(&unit));
            }
            Some(Err(e)) => {
                tracing::warn!(record = %unit.source, error = %e.chain(), "the message could not be claimed in the table; worked on unclaimed");
                gated.run.push(Work::new(unit, false));
            }
        }
    }
    gated
}

/// Ends this invocation's claims: a record going back to SQS gives its
/// claim up, every other is marked handled.
pub(super) async fn finish(table: Option<&DeliveryTable>, runs: &[UnitRun], inv: &Invocation) {
    let Some(table) = table else {
        return;
    };
    let calls: Vec<_> = runs
        .iter()
        .filter(|r| r.claimed)
        .map(|r| async move {
            let (id, back) = (&r.account.source, r.account.redeliver);
            let how = if back { Finish::Released } else { Finish::Handled };
            if let Err(e) = table.finish(id, &inv.request_id, how).await {
                tracing::warn!(record = %id, error = %e.chain(), "the message's claim could not be ended; it lapses at the invocation's deadline");
            }
        })
        .collect();
    let finishing = futures::stream::iter(calls)
        .buffer_unordered(FINISHING_AT_ONCE)
        .collect::<Vec<()>>();
    // Within the deadline's margin: what is left then lapses with the
    // claims, at the deadline.
    let left = inv.deadline_ms - crate::downloads::now_ms() - FINISH_BEFORE_DEADLINE_MS;
    let left = std::time::Duration::from_millis(left.max(0) as u64);
    if tokio::time::timeout(left, finishing).await.is_err() {
        tracing::warn!("claims left unended at the deadline; they lapse with it");
    }
}
