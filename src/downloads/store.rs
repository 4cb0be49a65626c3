//! The downloads table in DynamoDB: a batch's reads written with updates
//! that only move a time forward, and a package's reads read back with one
//! paged `Query`. Every call goes through the retry layer ([`Retrier`]),
//! in the quota classes `downloads.write` and `downloads.read`; the client
//! is built with the SDK's retries off.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::Client;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use futures::future::BoxFuture;
use futures::stream::{self, StreamExt};

use super::{rfc3339, Batch, Latest, PackageKey};
use crate::error::DeleteError;
use crate::retry::{classify, QuotaClass, Retrier, Tried};
use crate::service::Service;

/// The marker item's sort key.
const RECORDING_SINCE: &str = "recordingSince";

/// The downloads table, `DOWNLOADS_TABLE`.
#[derive(Debug)]
pub(crate) struct DownloadStore {
    client: Client,
    table: String,
    /// How long a read is kept (the table's TTL attribute `expiresAt`).
    ttl: Duration,
    /// Domains' markers once seen: a marker never changes once written.
    since: Mutex<HashMap<String, i64>>,
}

/// What writing one batch came to.
#[derive(Debug, Default)]
pub(crate) struct Recorded {
    /// The batch's records whose reads did not all get written, each with
    /// the first error.
    pub(crate) failed: Vec<(usize, Arc<DeleteError>)>,
}

/// One write: its result, and the read it carried (whose records fail
/// with it).
type Written<'a> = (Result<(), DeleteError>, &'a Latest);

pub(super) fn dynamodb_error<E>(
    operation: &'static str,
    e: SdkError<E, HttpResponse>,
) -> DeleteError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let (class, code) = classify(&e, None);
    DeleteError::Api {
        service: Service::CodeArtifact,
        operation,
        code,
        class,
        source: Box::new(e),
    }
}

/// A conditional update that only moves a time forward: a failed
/// condition means a later time is already there, which is success.
fn forward_only<T>(
    sent: Result<T, SdkError<UpdateItemError, HttpResponse>>,
) -> Result<(), DeleteError> {
    match sent {
        Ok(_) => Ok(()),
        Err(e) if e.code() == Some("ConditionalCheckFailedException") => Ok(()),
        Err(e) => Err(dynamodb_error("DynamoDB UpdateItem", e)),
    }
}

/// A string attribute.
pub(super) fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

/// A number attribute.
pub(super) fn n(v: i64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

impl DownloadStore {
    pub(crate) fn new(client: Client, table: String, ttl: Duration) -> Self {
        DownloadStore {
            client,
            table,
            ttl,
            since: Mutex::new(HashMap::new()),
        }
    }

    /// Writes a batch: each version's latest read, moved forward only
    /// (`lastReadAt < :t`; a failed condition means a later read is already
    /// there), and each domain's marker, set once. Up to the retrier's
    /// concurrency at a time.
    pub(crate) async fn record(&self, batch: &Batch, retrier: &Retrier) -> Recorded {
        // Boxed one by one: futures made by a closure over borrowed items
        // trip the compiler's check that the handler's future is Send.
        let mut calls: Vec<BoxFuture<'_, Written<'_>>> =
            Vec::with_capacity(batch.versions.len() + batch.domains.len());
        for ((key, version), latest) in &batch.versions {
            calls.push(Box::pin(async move {
                let r = self
                    .put_read(&key.partition(), version, latest, retrier)
                    .await;
                (r, latest)
            }));
        }
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis() as i64;
        for (pk, latest) in &batch.domains {
            let since = super::recording_since(latest.at_ms, now);
            calls.push(Box::pin(async move {
                (self.put_marker(pk, since, retrier).await, latest)
            }));
        }
        let results: Vec<Written<'_>> = stream::iter(calls).buffer_unordered(64).collect().await;
        let mut out = Recorded::default();
        let mut failed: BTreeSet<usize> = BTreeSet::new();
        for (r, latest) in results {
            if let Err(e) = r {
                let e = Arc::new(e);
                for &rec in &latest.records {
                    if failed.insert(rec) {
                        out.failed.push((rec, e.clone()));
                    }
                }
            }
        }
        out
    }

    async fn put_read(
        &self,
        pk: &str,
        sk: &str,
        latest: &Latest,
        retrier: &Retrier,
    ) -> Result<(), DeleteError> {
        let expires = latest.at_ms / 1000 + self.ttl.as_secs() as i64;
        let Tried {
            result: r,
            calls: _,
        } = retrier
            .run(QuotaClass::DownloadsWrite, || async move {
                let sent = self
                    .client
                    .update_item()
                    .table_name(&self.table)
                    .key("packageKey", s(pk))
                    .key("version", s(sk))
                    .update_expression(
                        "SET lastReadAt = :t, lastReadTime = :iso, #repo = :repo, expiresAt = :exp",
                    )
                    .condition_expression("attribute_not_exists(lastReadAt) OR lastReadAt < :t")
                    .expression_attribute_names("#repo", "repository")
                    .expression_attribute_values(":t", n(latest.at_ms))
                    .expression_attribute_values(":iso", s(rfc3339(latest.at_ms)))
                    .expression_attribute_values(":repo", s(&latest.repository))
                    .expression_attribute_values(":exp", n(expires))
                    .send()
                    .await;
                forward_only(sent)
            })
            .await;
        r
    }

    async fn put_marker(&self, pk: &str, at_ms: i64, retrier: &Retrier) -> Result<(), DeleteError> {
        let Tried {
            result: r,
            calls: _,
        } = retrier
            .run(QuotaClass::DownloadsWrite, || async move {
                self.client
                    .update_item()
                    .table_name(&self.table)
                    .key("packageKey", s(pk))
                    .key("version", s(RECORDING_SINCE))
                    .update_expression("SET since = if_not_exists(since, :t)")
                    .expression_attribute_values(":t", n(at_ms))
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| dynamodb_error("DynamoDB UpdateItem", e))
            })
            .await;
        r
    }

    /// When recording began for the package's domain (ms), if it has.
    pub(crate) async fn recording_since(
        &self,
        key: &PackageKey,
        retrier: &Retrier,
    ) -> Tried<Option<i64>> {
        let pk = key.domain_partition();
        if let Some(&t) = self.since.lock().expect("lock").get(&pk) {
            return Tried::free(Some(t));
        }
        let pk_ref = &pk;
        let Tried { result: r, calls } = retrier
            .run(QuotaClass::DownloadsRead, || async move {
                self.client
                    .get_item()
                    .table_name(&self.table)
                    .key("packageKey", s(pk_ref))
                    .key("version", s(RECORDING_SINCE))
                    .send()
                    .await
                    .map_err(|e| dynamodb_error("DynamoDB GetItem", e))
            })
            .await;
        let since = r.map(|out| {
            out.item()
                .and_then(|i| i.get("since"))
                .and_then(|v| v.as_n().ok())
                .and_then(|v| v.parse::<i64>().ok())
        });
        if let Ok(Some(t)) = since {
            self.since.lock().expect("lock").insert(pk, t);
        }
        Tried::new(since, calls)
    }

    /// Every read of the package under `key`: version → latest read (ms).
    /// One `Query`, paged.
    pub(crate) async fn reads(
        &self,
        key: &PackageKey,
        retrier: &Retrier,
    ) -> Tried<HashMap<String, i64>> {
        self.times(key.partition(), "lastReadAt", retrier).await
    }

    /// Every archive time recorded for the package in `repository`:
    /// version → when it was last archived (ms). One `Query`, paged.
    pub(crate) async fn archive_times(
        &self,
        key: &PackageKey,
        repository: &str,
        retrier: &Retrier,
    ) -> Tried<HashMap<String, i64>> {
        let pk = super::archive_partition(key, repository);
        self.times(pk, "archivedAt", retrier).await
    }

    /// Records that `version` was archived at `at_ms`, moved forward only
    /// (a later archive, after a restore, replaces an earlier one).
    pub(crate) async fn record_archived(
        &self,
        key: &PackageKey,
        repository: &str,
        version: &str,
        at_ms: i64,
        retrier: &Retrier,
    ) -> Result<(), DeleteError> {
        let pk = super::archive_partition(key, repository);
        let expires = at_ms / 1000 + self.ttl.as_secs() as i64;
        let (pk, sk) = (&pk, version);
        let Tried {
            result: r,
            calls: _,
        } = retrier
            .run(QuotaClass::DownloadsWrite, || async move {
                let sent = self
                    .client
                    .update_item()
                    .table_name(&self.table)
                    .key("packageKey", s(pk))
                    .key("version", s(sk))
                    .update_expression("SET archivedAt = :t, archivedTime = :iso, expiresAt = :exp")
                    .condition_expression("attribute_not_exists(archivedAt) OR archivedAt < :t")
                    .expression_attribute_values(":t", n(at_ms))
                    .expression_attribute_values(":iso", s(rfc3339(at_ms)))
                    .expression_attribute_values(":exp", n(expires))
                    .send()
                    .await;
                forward_only(sent)
            })
            .await;
        r
    }

    /// version → the latest `attr` (ms) of the items under `pk`.
    async fn times(
        &self,
        pk: String,
        attr: &'static str,
        retrier: &Retrier,
    ) -> Tried<HashMap<String, i64>> {
        let mut out = HashMap::new();
        let mut start: Option<HashMap<String, AttributeValue>> = None;
        let mut calls = 0;
        loop {
            let Tried {
                result: r,
                calls: n,
            } = retrier
                .run(QuotaClass::DownloadsRead, || {
                    let start = start.clone();
                    let pk = pk.clone();
                    async move {
                        self.client
                            .query()
                            .table_name(&self.table)
                            .key_condition_expression("packageKey = :pk")
                            .projection_expression(format!("#v, {attr}"))
                            .expression_attribute_names("#v", "version")
                            .expression_attribute_values(":pk", s(pk))
                            .set_exclusive_start_key(start)
                            .send()
                            .await
                            .map_err(|e| dynamodb_error("DynamoDB Query", e))
                    }
                })
                .await;
            calls += n;
            let page = match r {
                Ok(p) => p,
                Err(e) => return Tried::new(Err(e), calls),
            };
            for item in page.items() {
                let version = item.get("version").and_then(|v| v.as_s().ok());
                let at = item
                    .get(attr)
                    .and_then(|v| v.as_n().ok())
                    .and_then(|v| v.parse::<i64>().ok());
                if let (Some(v), Some(at)) = (version, at) {
                    let e = out.entry(v.clone()).or_insert(at);
                    *e = (*e).max(at);
                }
            }
            match page.last_evaluated_key() {
                Some(k) if !k.is_empty() => start = Some(k.clone()),
                _ => return Tried::new(Ok(out), calls),
            }
        }
    }
}
