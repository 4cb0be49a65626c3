//! A backfill's progress in the function's table, and the domain's
//! "index complete" marker it writes at the end (see [`super::dependencies`]
//! for the items). A backfill is fanned out in parts, one per package; as
//! with a scope's plan made in parts ([`crate::report::parts`]), each part
//! is recorded once (the first write wins, so a redelivered part changes
//! nothing), and whichever part finds them all done writes the marker,
//! which is harmless to write twice.

use std::collections::HashMap;

use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{Put, TransactWriteItem, Update};

use super::dependencies::DependencyTable;
use super::store::{dynamodb_error, n, s};
use crate::retry::{QuotaClass, Retrier, Tried};

/// The domain marker's sort key.
pub(crate) const INDEXED: &str = "dependenciesIndexed";
/// The backfill's count item's sort key.
const PARTS: &str = "parts";

/// One backfill of a domain: its id and how many parts it has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Backfill {
    /// `domain#<domainOwner>/<domain>`: the domain's marker partition.
    pub(crate) domain_partition: String,
    /// The backfill's id (a UUID, given by the request that began it).
    pub(crate) id: String,
}

impl Backfill {
    fn partition(&self) -> String {
        let domain = self
            .domain_partition
            .strip_prefix("domain#")
            .unwrap_or(&self.domain_partition);
        format!("backfill#{domain}/{}", self.id)
    }
}

impl DependencyTable {
    /// Records that `backfill` has `total` parts (written once: a
    /// redelivered start changes nothing). A backfill of no part marks the
    /// domain complete at once.
    pub(crate) async fn begin(
        &self,
        backfill: &Backfill,
        total: u64,
        retrier: &Retrier,
    ) -> Tried<()> {
        let pk = backfill.partition();
        let pk = &pk;
        let begun = retrier
            .run(QuotaClass::DownloadsWrite, || async move {
                let sent = self
                    .client()
                    .update_item()
                    .table_name(self.table())
                    .key("packageKey", s(pk))
                    .key("version", s(PARTS))
                    .update_expression(
                        "SET #total = if_not_exists(#total, :t), done = if_not_exists(done, :z)",
                    )
                    .expression_attribute_names("#total", "total")
                    .expression_attribute_values(":t", n(total as i64))
                    .expression_attribute_values(":z", n(0))
                    .send()
                    .await;
                sent.map(|_| ())
                    .map_err(|e| dynamodb_error("DynamoDB UpdateItem", e))
            })
            .await;
        if total > 0 || begun.result.is_err() {
            return begun;
        }
        let marked = self.mark_complete(backfill, retrier).await;
        Tried::new(marked.result, begun.calls + marked.calls)
    }

    /// Records part `part` done (once: the part's item and the count in one
    /// transaction that fails if the part was recorded before), then, if
    /// every part is done, marks the domain's index complete. Returns
    /// whether it is complete.
    pub(crate) async fn part_done(
        &self,
        backfill: &Backfill,
        part: u64,
        retrier: &Retrier,
    ) -> Tried<bool> {
        let pk = backfill.partition();
        let recorded = self.record_part(&pk, part, retrier).await;
        let mut calls = recorded.calls;
        if let Err(e) = recorded.result {
            return Tried::new(Err(e), calls);
        }
        let count = self.get(&pk, PARTS, retrier).await;
        calls += count.calls;
        let count = match count.result {
            Ok(item) => item.unwrap_or_default(),
            Err(e) => return Tried::new(Err(e), calls),
        };
        let number = |k: &str| {
            count
                .get(k)
                .and_then(|v| v.as_n().ok())
                .and_then(|v| v.parse::<u64>().ok())
        };
        let complete = matches!((number("done"), number("total")), (Some(d), Some(t)) if d >= t);
        if !complete {
            return Tried::new(Ok(false), calls);
        }
        let marked = self.mark_complete(backfill, retrier).await;
        Tried::new(marked.result.map(|()| true), calls + marked.calls)
    }

    async fn record_part(&self, pk: &str, part: u64, retrier: &Retrier) -> Tried<()> {
        retrier
            .run(QuotaClass::DownloadsWrite, || async move {
                let put = Put::builder()
                    .table_name(self.table())
                    .set_item(Some(HashMap::from([
                        ("packageKey".to_owned(), s(pk)),
                        ("version".to_owned(), s(format!("part-{part:07}"))),
                    ])))
                    .condition_expression("attribute_not_exists(packageKey)")
                    .build()
                    .expect("table, item and condition are set");
                let count = Update::builder()
                    .table_name(self.table())
                    .set_key(Some(HashMap::from([
                        ("packageKey".to_owned(), s(pk)),
                        ("version".to_owned(), s(PARTS)),
                    ])))
                    .update_expression("ADD done :one")
                    .expression_attribute_values(":one", n(1))
                    .build()
                    .expect("table, key and expression are set");
                let sent = self
                    .client()
                    .transact_write_items()
                    .transact_items(TransactWriteItem::builder().put(put).build())
                    .transact_items(TransactWriteItem::builder().update(count).build())
                    .send()
                    .await;
                match sent {
                    Ok(_) => Ok(()),
                    // The part was recorded before: already counted.
                    Err(e) if already(e.as_service_error()) => Ok(()),
                    Err(e) => Err(dynamodb_error("DynamoDB TransactWriteItems", e)),
                }
            })
            .await
    }

    /// Writes the domain's marker (the time it was first written stays).
    async fn mark_complete(&self, backfill: &Backfill, retrier: &Retrier) -> Tried<()> {
        let pk = &backfill.domain_partition;
        let now = crate::clock::now_ms();
        retrier
            .run(QuotaClass::DownloadsWrite, || async move {
                self.client()
                    .update_item()
                    .table_name(self.table())
                    .key("packageKey", s(pk))
                    .key("version", s(INDEXED))
                    .update_expression("SET #at = if_not_exists(#at, :t)")
                    .expression_attribute_names("#at", "at")
                    .expression_attribute_values(":t", n(now))
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| dynamodb_error("DynamoDB UpdateItem", e))
            })
            .await
    }
}

/// Whether a cancelled transaction was cancelled by the part's condition
/// (the part was recorded before): its first cancellation reason, the
/// part's put, is `ConditionalCheckFailed` (DynamoDB API Reference,
/// TransactWriteItems, CancellationReasons: one per item, in order).
fn already(e: Option<&TransactWriteItemsError>) -> bool {
    let Some(TransactWriteItemsError::TransactionCanceledException(t)) = e else {
        return false;
    };
    t.cancellation_reasons().first().and_then(|r| r.code()) == Some("ConditionalCheckFailed")
}
