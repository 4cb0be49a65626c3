//! A backfill's progress in the function's table, and the domain's
//! "index complete" marker it writes at the end (see [`super::dependencies`]
//! for the items). A backfill is fanned out in parts, one per package; as
//! with a scope's plan made in parts ([`crate::report::parts`]), each part
//! is an item written once (the first write wins, so a redelivered part
//! changes nothing), keyed by its package (not its place in a listing that
//! may change), and whichever part finds them all done writes the marker,
//! which is harmless to write twice. There is no shared counter to update,
//! so parts finishing at once never conflict.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::Select;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use super::dependencies::DependencyTable;
use super::store::{dynamodb_error, n, s};
use crate::retry::{QuotaClass, Retrier, Tried};

/// The domain marker's sort key.
pub(crate) const INDEXED: &str = "dependenciesIndexed";
/// The backfill's count item's sort key.
const PARTS: &str = "parts";
/// The prefix of a part's item's sort key: `part#<repository>/<format>/<namespace>/<package>`.
const PART: &str = "part#";

/// One backfill of a domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Backfill {
    pub(crate) domain_owner: String,
    pub(crate) domain: String,
    /// The backfill's id (a UUID, given by the request that began it).
    pub(crate) id: String,
}

impl Backfill {
    /// `domain#<domainOwner>/<domain>`: the domain's marker partition (as
    /// [`super::PackageKey::domain_partition`]).
    fn domain_partition(&self) -> String {
        format!("domain#{}/{}", self.domain_owner, self.domain)
    }

    /// The backfill's own partition: its count and its parts.
    fn partition(&self) -> String {
        format!("backfill#{}/{}/{}", self.domain_owner, self.domain, self.id)
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
                    .update_expression("SET #total = if_not_exists(#total, :t)")
                    .expression_attribute_names("#total", "total")
                    .expression_attribute_values(":t", n(total as i64))
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

    /// Records the part of `package` done (a conditional put: the first
    /// write wins, so a redelivered part changes nothing), then counts the
    /// parts done (a strongly consistent `Query`, `Select=COUNT`) and, if
    /// they reach the total, marks the domain's index complete. Of two
    /// parts finishing at once, the later count sees both. Returns whether
    /// the index is complete.
    pub(crate) async fn part_done(
        &self,
        backfill: &Backfill,
        package: &str,
        retrier: &Retrier,
    ) -> Tried<bool> {
        let pk = backfill.partition();
        let recorded = self.record_part(&pk, package, retrier).await;
        let mut calls = recorded.calls;
        if let Err(e) = recorded.result {
            return Tried::new(Err(e), calls);
        }
        let (total, done) = tokio::join!(
            self.get(&pk, PARTS, retrier),
            self.count_parts(&pk, retrier)
        );
        calls += total.calls + done.calls;
        let total = total.result.map(|item| {
            let n = item.as_ref().and_then(|i| i.get("total"));
            n.and_then(|v| v.as_n().ok())
                .and_then(|v| v.parse::<u64>().ok())
        });
        let complete = match (total, done.result) {
            (Err(e), _) | (_, Err(e)) => return Tried::new(Err(e), calls),
            (Ok(total), Ok(done)) => total.is_some_and(|t| done >= t),
        };
        if !complete {
            return Tried::new(Ok(false), calls);
        }
        let marked = self.mark_complete(backfill, retrier).await;
        Tried::new(marked.result.map(|()| true), calls + marked.calls)
    }

    /// Writes the part's item if absent.
    async fn record_part(&self, pk: &str, package: &str, retrier: &Retrier) -> Tried<()> {
        let item = HashMap::from([
            ("packageKey".to_owned(), s(pk)),
            ("version".to_owned(), s(format!("{PART}{package}"))),
        ]);
        let item = &item;
        retrier
            .run(QuotaClass::DownloadsWrite, || async move {
                let sent = self
                    .client()
                    .put_item()
                    .table_name(self.table())
                    .set_item(Some(item.clone()))
                    .condition_expression("attribute_not_exists(packageKey)")
                    .send()
                    .await;
                match sent {
                    Ok(_) => Ok(()),
                    // Recorded before: the first write won.
                    Err(e) if e.code() == Some("ConditionalCheckFailedException") => Ok(()),
                    Err(e) => Err(dynamodb_error("DynamoDB PutItem", e)),
                }
            })
            .await
    }

    /// How many parts are recorded done: a paged, strongly consistent
    /// `Query` that counts (`Select=COUNT`) the `part#` items.
    async fn count_parts(&self, pk: &str, retrier: &Retrier) -> Tried<u64> {
        let (mut count, mut calls, mut start) = (0u64, 0, None);
        loop {
            let page = retrier
                .run(QuotaClass::DownloadsRead, || {
                    let start = start.clone();
                    async move {
                        self.client()
                            .query()
                            .table_name(self.table())
                            .key_condition_expression("packageKey = :pk AND begins_with(#v, :part)")
                            .expression_attribute_names("#v", "version")
                            .expression_attribute_values(":pk", s(pk))
                            .expression_attribute_values(":part", s(PART))
                            .select(Select::Count)
                            .consistent_read(true)
                            .set_exclusive_start_key(start)
                            .send()
                            .await
                            .map_err(|e| dynamodb_error("DynamoDB Query", e))
                    }
                })
                .await;
            calls += page.calls;
            let page = match page.result {
                Ok(p) => p,
                Err(e) => return Tried::new(Err(e), calls),
            };
            count += page.count().max(0) as u64;
            match page.last_evaluated_key() {
                Some(k) if !k.is_empty() => start = Some(k.clone()),
                _ => return Tried::new(Ok(count), calls),
            }
        }
    }

    /// Writes the domain's marker (the time it was first written stays).
    async fn mark_complete(&self, backfill: &Backfill, retrier: &Retrier) -> Tried<()> {
        let pk = &backfill.domain_partition();
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
