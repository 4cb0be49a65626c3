//! What the function learned of IoT jobs, kept in its table so that every
//! execution environment describes a job once between them: a job's
//! `destinationPackageVersions` never change after the job is created
//! (IoT API Reference, CreateJob; DescribeJob).
//!
//! One partition, [`JOBS_PARTITION`], one item per job (the sort key
//! `version`: the job id and its `createdAt`, since IoT lets a deleted
//! job's id be reused): `destinations` (a list of package-version ARNs, written
//! once: a conditional write that never replaces it) once it is known,
//! and before that, while some invocation describes the job,
//! `claimedUntil` (milliseconds since the epoch) and `claimedBy` (the
//! claiming invocation's token). A claim is taken with a conditional write
//! that succeeds only when the job is neither known nor claimed by someone
//! else now; a claim whose holder ran out of time lapses and is taken
//! again, and an unanswered claim's item expires after a day. Items expire (`expiresAt`) 30 days after
//! they were learned: a job still unfinished then is described once more.

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::Client;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use super::now_ms;
use super::store::{dynamodb_error, n, s};
use crate::retry::{QuotaClass, Retrier, Tried};

/// The table's `packageKey` of the jobs' items (the table is the stack's:
/// one account, one region, as IoT jobs are).
pub(crate) const JOBS_PARTITION: &str = "iot#jobs";
/// How long a job's item is kept after it was learned.
const KEEP_FOR: Duration = Duration::from_secs(30 * 86_400);
/// How long a claim's item is kept if it is never answered.
const CLAIM_KEPT: Duration = Duration::from_secs(86_400);

/// What the table holds of one job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum StoredJob {
    /// Its `destinationPackageVersions`.
    Known(Vec<String>),
    /// Someone describes it; the claim lapses at this time (ms).
    Claimed(i64),
}

/// The jobs' items of the table `DOWNLOADS_TABLE`.
#[derive(Debug, Clone)]
pub(crate) struct JobTable {
    client: Client,
    table: String,
}

fn item_key(key: &str) -> HashMap<String, AttributeValue> {
    HashMap::from([
        ("packageKey".to_owned(), s(JOBS_PARTITION)),
        ("version".to_owned(), s(key)),
    ])
}

/// An item as the table holds it, or `None` for one of neither kind.
fn stored(item: &HashMap<String, AttributeValue>) -> Option<StoredJob> {
    if let Some(list) = item.get("destinations").and_then(|v| v.as_l().ok()) {
        let arns = list.iter().filter_map(|a| a.as_s().ok().cloned()).collect();
        return Some(StoredJob::Known(arns));
    }
    let until = item.get("claimedUntil")?.as_n().ok()?.parse().ok()?;
    Some(StoredJob::Claimed(until))
}

impl JobTable {
    pub(crate) fn new(client: Client, table: String) -> Self {
        JobTable { client, table }
    }

    /// Every job the table holds (one paged Query), by job id.
    pub(crate) async fn read(&self, retrier: &Retrier) -> Tried<HashMap<String, StoredJob>> {
        let mut out = HashMap::new();
        let mut start = None;
        let mut calls = 0;
        loop {
            let Tried {
                result: page,
                calls: c,
            } = retrier
                .run(QuotaClass::DownloadsRead, || {
                    let start = start.clone();
                    async move {
                        self.client
                            .query()
                            .table_name(&self.table)
                            .key_condition_expression("packageKey = :pk")
                            .expression_attribute_values(":pk", s(JOBS_PARTITION))
                            .set_exclusive_start_key(start)
                            .send()
                            .await
                            .map_err(|e| dynamodb_error("DynamoDB Query", e))
                    }
                })
                .await;
            calls += c;
            let page = match page {
                Ok(p) => p,
                Err(e) => return Tried::new(Err(e), calls),
            };
            for item in page.items() {
                let id = item.get("version").and_then(|v| v.as_s().ok());
                if let (Some(id), Some(job)) = (id, stored(item)) {
                    out.insert(id.clone(), job);
                }
            }
            match page.last_evaluated_key() {
                Some(k) if !k.is_empty() => start = Some(k.clone()),
                _ => return Tried::new(Ok(out), calls),
            }
        }
    }

    /// Claims the job under `key` for `owner` until `until` (ms):
    /// `Ok(false)` when it is known already or claimed by someone else now.
    /// The owner's own claim is taken again: a claim whose answer was lost
    /// (the connection dropped after the write) is not someone else's.
    pub(crate) async fn claim(
        &self,
        key: &str,
        (owner, until): (&str, i64),
        retrier: &Retrier,
    ) -> Tried<bool> {
        retrier
            .run(QuotaClass::DownloadsWrite, || async move {
                let sent = self
                    .client
                    .update_item()
                    .table_name(&self.table)
                    .set_key(Some(item_key(key)))
                    .update_expression(
                        "SET claimedUntil = :until, claimedBy = :me, expiresAt = :exp",
                    )
                    .condition_expression(
                        "attribute_not_exists(destinations) AND \
                         (attribute_not_exists(claimedUntil) OR claimedUntil < :now OR claimedBy = :me)",
                    )
                    .expression_attribute_values(":until", n(until))
                    .expression_attribute_values(":me", s(owner))
                    .expression_attribute_values(":now", n(now_ms()))
                    // A claim never answered goes with the table's TTL.
                    .expression_attribute_values(":exp", n(now_ms() / 1000 + CLAIM_KEPT.as_secs() as i64))
                    .send()
                    .await;
                match sent {
                    Ok(_) => Ok(true),
                    Err(e) if e.code() == Some("ConditionalCheckFailedException") => Ok(false),
                    Err(e) => Err(dynamodb_error("DynamoDB UpdateItem", e)),
                }
            })
            .await
    }

    /// Stores a job's destinations, once: a job already stored keeps what
    /// it holds (they are the same: they never change).
    pub(crate) async fn store(
        &self,
        key: &str,
        destinations: &[String],
        retrier: &Retrier,
    ) -> Tried<()> {
        let list = AttributeValue::L(destinations.iter().map(|a| s(a.as_str())).collect());
        let now = now_ms();
        retrier
            .run(QuotaClass::DownloadsWrite, || {
                let list = list.clone();
                async move {
                    let sent = self
                        .client
                        .update_item()
                        .table_name(&self.table)
                        .set_key(Some(item_key(key)))
                        .update_expression(
                            "SET destinations = :d, learnedAt = :now, expiresAt = :exp REMOVE claimedUntil, claimedBy",
                        )
                        .condition_expression("attribute_not_exists(destinations)")
                        .expression_attribute_values(":d", list)
                        .expression_attribute_values(":now", n(now))
                        .expression_attribute_values(
                            ":exp",
                            n(now / 1000 + KEEP_FOR.as_secs() as i64),
                        )
                        .send()
                        .await;
                    match sent {
                        Ok(_) => Ok(()),
                        Err(e) if e.code() == Some("ConditionalCheckFailedException") => Ok(()),
                        Err(e) => Err(dynamodb_error("DynamoDB UpdateItem", e)),
                    }
                }
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_item_is_known_claimed_or_neither() {
        let known = HashMap::from([(
            "destinations".to_owned(),
            AttributeValue::L(vec![s("arn:aws:iot:us-east-1:1:package/fw/version/1")]),
        )]);
        assert_eq!(
            stored(&known),
            Some(StoredJob::Known(vec![
                "arn:aws:iot:us-east-1:1:package/fw/version/1".into()
            ]))
        );
        let empty = HashMap::from([("destinations".to_owned(), AttributeValue::L(vec![]))]);
        assert_eq!(stored(&empty), Some(StoredJob::Known(vec![])));
        let claimed = HashMap::from([("claimedUntil".to_owned(), n(42))]);
        assert_eq!(stored(&claimed), Some(StoredJob::Claimed(42)));
        assert_eq!(stored(&HashMap::new()), None);
    }
}
