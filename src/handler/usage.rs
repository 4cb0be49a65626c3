//! The usage queue's records: package managers' downloads (CloudTrail
//! `ReadFromRepository`), recorded a batch at a time in the downloads
//! table ([`crate::downloads`]). A write that fails fails exactly the
//! records whose reads it carried; SQS redelivers them, and the writes,
//! which only move times forward, are harmless to repeat.

use std::collections::BTreeMap;
use std::sync::Arc;

use futures::StreamExt;

use super::pipeline::Work;
use super::Invocation;
use crate::decode::{Changed, Decoded};
use crate::downloads::{Archived, Batch, Dependent, DownloadStore, Read};
use crate::error::DeleteError;
use crate::execute::{CallContext, Executor};
use crate::retry::Retrier;
use crate::retry::Tried;

/// What became of one unit's reads.
#[derive(Debug, Default)]
pub(super) struct Tally {
    /// Read events the unit carried.
    pub(crate) events: u64,
    /// Of those, reads that named no version (counted, not recorded).
    pub(crate) metadata: u64,
    /// Versions written whose first record in the batch is this unit.
    pub(crate) written: u64,
    /// Why its reads were not all written.
    pub(crate) failed: Option<Arc<DeleteError>>,
    /// Recording is off (`DOWNLOADS_TABLE` unset): why the events were
    /// ignored.
    pub(crate) ignored: Option<String>,
    /// Archive times recorded from CodeArtifact's state-change events.
    pub(crate) archives: u64,
    /// Versions whose entry in the index of dependencies was made again,
    /// and the edges written.
    pub(crate) indexed: u64,
    pub(crate) edges: u64,
}

/// Takes every read out of the units (leaving their requests) and records
/// them as one batch (with `store`, the downloads table): each unit's tally
/// says what became of its reads.
pub(super) async fn record_reads(executor: &Executor, work: &mut [Work], inv: &Invocation) {
    let (store, retrier) = (executor.downloads.as_deref(), &inv.retrier);
    let (reads, archived, changed) = take_reads(work);
    record_archived(store, archived, work, retrier).await;
    reindex(executor, changed, work, inv).await;
    if work.iter().all(|w| w.tally.events == 0) {
        return;
    }
    let Some(store) = store else {
        for t in work
            .iter_mut()
            .map(|w| &mut w.tally)
            .filter(|t| t.events > 0)
        {
            t.ignored = Some(format!(
                "{} download event(s): recording is off (DOWNLOADS_TABLE is not set)",
                t.events
            ));
        }
        return;
    };
    let batch = Batch::of(reads.iter().map(|(i, r)| (*i, r)));
    for (i, r) in &reads {
        if r.version.is_none() {
            work[*i].tally.metadata += 1;
        }
    }
    let recorded = store.record(&batch, retrier).await;
    for (i, e) in recorded.failed {
        work[i].tally.failed = Some(e);
    }
    let written = credit_written(&batch, work);
    tracing::info!(
        events = work.iter().map(|w| w.tally.events).sum::<u64>(),
        versions = batch.versions.len(),
        written,
        failed_records = work.iter().filter(|w| w.tally.failed.is_some()).count(),
        "downloads recorded"
    );
}

/// Records the archive times of CodeArtifact's state-change events. A
/// write that fails returns its record to SQS; without the table the
/// events are ignored, saying why.
async fn record_archived(
    store: Option<&DownloadStore>,
    archived: Vec<(usize, Archived)>,
    work: &mut [Work],
    retrier: &Retrier,
) {
    if archived.is_empty() {
        return;
    }
    let Some(store) = store else {
        for (i, a) in &archived {
            work[*i].tally.ignored = Some(format!(
                "{}@{} archived: archive times are not recorded (DOWNLOADS_TABLE is not set)",
                a.key.package, a.version
            ));
        }
        return;
    };
    let writes = archived.iter().map(|(i, a)| async move {
        let r = store
            .record_archived(&a.key, &a.repository, &a.version, a.at_ms, retrier)
            .await;
        (*i, a, r)
    });
    for (i, a, r) in futures::future::join_all(writes).await {
        match r {
            Ok(()) => {
                work[i].tally.archives += 1;
                tracing::info!(package_key = %a.key.partition(), repository = %a.repository, version = %a.version, archived_at = %crate::downloads::rfc3339(a.at_ms), "archive time recorded");
            }
            Err(e) => {
                work[i].tally.failed.get_or_insert_with(|| Arc::new(e));
            }
        }
    }
}

/// One version's entry made again: the records that named it, the event,
/// and the edges written.
async fn reindex_one(
    executor: &Executor,
    c: Changed,
    records: Vec<usize>,
    cx: &CallContext<'_>,
) -> (Vec<usize>, Changed, Tried<u64>) {
    let dependent = Dependent {
        key: c.key.clone(),
        repository: c.package.repository.clone(),
        version: c.version.clone(),
    };
    let done = executor.reindex(&c.package, &dependent, cx).await;
    (records, c, done)
}

/// Events taken out of the units, each with its unit's index.
type Taken<T> = Vec<(usize, T)>;

/// Takes the reads, archive and state-change events out of the units'
/// requests, each with its unit's index; tallies the read events, and
/// those that named no version.
fn take_reads(work: &mut [Work]) -> (Taken<Read>, Taken<Archived>, Taken<Changed>) {
    let mut reads: Taken<Read> = Vec::new();
    let mut archived: Taken<Archived> = Vec::new();
    let mut changed: Taken<Changed> = Vec::new();
    for (i, Work { unit, tally, .. }) in work.iter_mut().enumerate() {
        unit.requests.retain_mut(|d| match d {
            Decoded::Archived(a) => {
                archived.push((i, a.clone()));
                false
            }
            Decoded::Changed(c) => {
                changed.push((i, c.clone()));
                false
            }
            Decoded::Read(r) => {
                tally.events += 1;
                match r.take() {
                    Some(read) => reads.push((i, read)),
                    None => tally.metadata += 1,
                }
                false
            }
            _ => true,
        });
    }
    (reads, archived, changed)
}

/// Makes again the entry in the index of each version a state-change
/// event names, reading CodeArtifact (paced in its read quota). A version
/// that fails returns its record to SQS; without the table the events are
/// ignored, saying why.
async fn reindex(
    executor: &Executor,
    changed: Taken<Changed>,
    work: &mut [Work],
    inv: &Invocation,
) {
    if changed.is_empty() {
        return;
    }
    if executor.dependencies.is_none() {
        for (i, c) in &changed {
            work[*i].tally.ignored = Some(format!(
                "{}@{} changed: the index of dependencies is not kept (DOWNLOADS_TABLE is not set)",
                c.package, c.version
            ));
        }
        return;
    }
    let cx = &CallContext {
        retrier: &inv.retrier,
        iot_reads: &inv.iot_reads,
        domain_reads: &inv.domain_reads,
        source: "usage",
        account: inv.account.as_deref(),
    };
    // One read per version however many events name it (a batch may hold
    // duplicates); every record that named it shares the result.
    let mut by_version: BTreeMap<(String, String), Vec<usize>> = BTreeMap::new();
    for (i, c) in &changed {
        let k = (c.package.to_string(), c.version.clone());
        by_version.entry(k).or_default().push(*i);
    }
    let firsts: Vec<(Changed, Vec<usize>)> = by_version
        .into_values()
        .filter_map(|records| {
            let first = changed.iter().find(|(i, _)| *i == records[0])?;
            Some((first.1.clone(), records))
        })
        .collect();
    let runs = (firsts.into_iter()).map(|(c, records)| reindex_one(executor, c, records, cx));
    let done: Vec<_> = futures::stream::iter(runs)
        .buffer_unordered(16)
        .collect()
        .await;
    for (records, c, done) in done {
        match done.result {
            Ok(edges) => {
                work[records[0]].tally.indexed += 1;
                work[records[0]].tally.edges += edges;
                tracing::info!(package = %c.package, version = %c.version, edges, "dependencies indexed");
            }
            Err(e) => {
                let e = Arc::new(e);
                for i in records {
                    work[i].tally.failed.get_or_insert_with(|| e.clone());
                }
            }
        }
    }
}

/// Credits each version the batch wrote (none of its records failed) to
/// the unit of its first record, logging it; returns how many were written.
fn credit_written(batch: &Batch, work: &mut [Work]) -> u64 {
    let mut written = 0;
    for ((key, version), latest) in &batch.versions {
        if latest
            .records
            .iter()
            .any(|&i| work[i].tally.failed.is_some())
        {
            continue;
        }
        written += 1;
        if let Some(&first) = latest.records.first() {
            work[first].tally.written += 1;
        }
        // One line per version and batch: what "most downloaded" sums.
        tracing::info!(
            package_key = %key.partition(),
            version = %version,
            repository = %latest.repository,
            last_read = %crate::downloads::rfc3339(latest.at_ms),
            reads = latest.records.len(),
            "download recorded"
        );
    }
    written
}
