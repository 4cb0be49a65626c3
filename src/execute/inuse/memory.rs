//! What the usage checks learned that does not change, or changes rarely,
//! kept beyond one invocation: by a warm execution environment for its
//! next invocations, and, with the function's table, by every environment.
//!
//! - A job's `destinationPackageVersions`, by job (its id and `createdAt`:
//!   IoT lets a deleted job's id be reused): they never change once the
//!   job exists. Only jobs not seen before are described; with the table,
//!   each by one invocation between them ([`JobTable`]'s claims).
//! - Fleet indexing's configuration, trusted for [`INDEXING_TRUST`].
//! - Which jobs are unfinished (ListJobs), trusted for [`LISTING_TRUST`]:
//!   an invocation already trusts its own listing for as long as it runs.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::future::join_all;
use rand::seq::SliceRandom;
use rand::Rng;
use tokio::time::Instant;

use super::Indexing;
use crate::downloads::{now_ms, JobTable, StoredJob};
use crate::error::DeleteError;
use crate::retry::{QuotaClass, Retrier, Tried};

/// How long a fleet-indexing configuration, once read, is trusted.
pub(crate) const INDEXING_TRUST: Duration = Duration::from_secs(300);
/// How long a listing of the unfinished jobs, once read, is trusted.
pub(crate) const LISTING_TRUST: Duration = Duration::from_secs(60);
/// How long a claim on describing a job lasts at most.
const CLAIM_FOR: Duration = Duration::from_secs(30);
/// How often the table is read again while others describe the jobs.
const POLL: Duration = Duration::from_millis(500);

/// A job's package-version ARNs.
pub(crate) type Destinations = Arc<Vec<String>>;

/// An unfinished job as ListJobs shows it: its id, and the key its
/// destinations are kept under (the id and `createdAt` in milliseconds:
/// IoT lets a deleted job's id be reused, DeleteJob).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct JobRef {
    pub(crate) id: String,
    pub(crate) key: String,
}

impl JobRef {
    pub(crate) fn new(id: &str, created_at_ms: Option<i64>) -> Self {
        JobRef {
            id: id.to_owned(),
            key: match created_at_ms {
                Some(ms) => format!("{id}@{ms}"),
                None => id.to_owned(),
            },
        }
    }
}

/// What describing a job gave, and the calls made: its destinations, or
/// `None` when it is gone (deleted since it was listed: it names nothing,
/// and nothing is kept of it).
pub(crate) type Described = Tried<Option<Vec<String>>>;

/// What the usage checks learned, shared by the invocations of one
/// execution environment (and, through `table`, by all).
#[derive(Debug, Default)]
pub(crate) struct Memory {
    indexing: Mutex<Option<(Indexing, Instant)>>,
    listing: Mutex<Option<(Arc<Vec<JobRef>>, Instant)>>,
    destinations: Mutex<HashMap<String, Destinations>>,
    table: Option<JobTable>,
}

fn fresh<T: Clone>(kept: &Mutex<Option<(T, Instant)>>, trust: Duration) -> Option<T> {
    let kept = kept.lock().expect("memory lock");
    kept.as_ref()
        .filter(|(_, at)| at.elapsed() < trust)
        .map(|(v, _)| v.clone())
}

/// What became of a claim.
enum Claim {
    Learned(Vec<String>),
    Gone,
    Taken,
}

/// Calls made and jobs learned, as a round goes.
#[derive(Default)]
struct Learning {
    calls: u32,
    learned: u32,
}

impl Memory {
    /// A memory that shares what it learns through `table`, if any.
    pub(crate) fn new(table: Option<JobTable>) -> Self {
        Memory {
            table,
            ..Memory::default()
        }
    }

    pub(crate) fn indexing(&self) -> Option<Indexing> {
        fresh(&self.indexing, INDEXING_TRUST)
    }

    pub(crate) fn remember_indexing(&self, i: &Indexing) {
        *self.indexing.lock().expect("memory lock") = Some((i.clone(), Instant::now()));
    }

    pub(crate) fn listing(&self) -> Option<Arc<Vec<JobRef>>> {
        fresh(&self.listing, LISTING_TRUST)
    }

    pub(crate) fn remember_listing(&self, jobs: Arc<Vec<JobRef>>) {
        *self.listing.lock().expect("memory lock") = Some((jobs, Instant::now()));
    }

    fn known(&self, key: &str) -> Option<Destinations> {
        self.destinations
            .lock()
            .expect("memory lock")
            .get(key)
            .cloned()
    }

    fn remember(&self, key: &str, arns: Destinations) {
        self.destinations
            .lock()
            .expect("memory lock")
            .insert(key.to_owned(), arns);
    }

    /// The destinations of every job of `jobs`, by job id: what is
    /// remembered, then what the table holds, then described (with
    /// `describe`, given the id) by this invocation; with the table and
    /// `writes`, only the jobs this invocation claims, waiting for the
    /// others' claims to be answered. A job gone since it was listed names
    /// nothing. Returns them with the calls made, and how many jobs this
    /// invocation learned (described and kept), whatever the result.
    pub(crate) async fn destinations<F, Fut>(
        &self,
        jobs: &[JobRef],
        writes: bool,
        describe: F,
        retrier: &Retrier,
    ) -> (Tried<Vec<(String, Destinations)>>, u32)
    where
        F: Fn(String) -> Fut,
        Fut: Future<Output = Described>,
    {
        let mut learning = Learning::default();
        let mut unknown: Vec<JobRef> = jobs
            .iter()
            .filter(|j| self.known(&j.key).is_none())
            .cloned()
            .collect();
        let result = match &self.table {
            None => {
                self.describe_all(&mut unknown, &describe, &mut learning)
                    .await
            }
            Some(table) => {
                self.share(
                    table,
                    &mut unknown,
                    (writes, &describe),
                    retrier,
                    &mut learning,
                )
                .await
            }
        };
        let out = result.map(|()| {
            jobs.iter()
                .filter_map(|j| self.known(&j.key).map(|d| (j.id.clone(), d)))
                .collect()
        });
        (Tried::new(out, learning.calls), learning.learned)
    }

    /// Describes every job of `unknown`, remembering each; the first error
    /// after every answer is kept.
    async fn describe_all<F, Fut>(
        &self,
        unknown: &mut Vec<JobRef>,
        describe: &F,
        learning: &mut Learning,
    ) -> Result<(), DeleteError>
    where
        F: Fn(String) -> Fut,
        Fut: Future<Output = Described>,
    {
        let described = join_all(unknown.iter().map(|j| describe(j.id.clone()))).await;
        let mut first_error = None;
        for (
            job,
            Tried {
                result: arns,
                calls: n,
            },
        ) in unknown.drain(..).zip(described)
        {
            learning.calls += n;
            match arns {
                Ok(Some(arns)) => {
                    self.remember(&job.key, Arc::new(arns));
                    learning.learned += 1;
                }
                Ok(None) => {}
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    /// The table's rounds: read what it holds; describe what no one has
    /// claimed (claiming a chunk at a time, in an order of its own so that
    /// invocations spread over the jobs); wait while others describe the
    /// rest. Never past the cut-off.
    async fn share<F, Fut>(
        &self,
        table: &JobTable,
        unknown: &mut Vec<JobRef>,
        (writes, describe): (bool, &F),
        retrier: &Retrier,
        learning: &mut Learning,
    ) -> Result<(), DeleteError>
    where
        F: Fn(String) -> Fut,
        Fut: Future<Output = Described>,
    {
        unknown.shuffle(&mut rand::rng());
        let owner = format!("{:016x}", rand::rng().random::<u64>());
        while !unknown.is_empty() {
            let Tried {
                result: stored,
                calls: n,
            } = table.read(retrier).await;
            learning.calls += n;
            let stored = stored?;
            unknown.retain(|j| match stored.get(&j.key) {
                Some(StoredJob::Known(arns)) => {
                    self.remember(&j.key, Arc::new(arns.clone()));
                    false
                }
                _ => true,
            });
            if !writes {
                // packprune-cli reads what is stored, never writes it.
                return self.describe_all(unknown, describe, learning).await;
            }
            let now = now_ms();
            let open: Vec<JobRef> = unknown
                .iter()
                .filter(|j| !matches!(stored.get(&j.key), Some(StoredJob::Claimed(t)) if *t > now))
                .take(chunk(retrier))
                .cloned()
                .collect();
            if open.is_empty() {
                if Instant::now() + POLL >= retrier.cutoff() {
                    return Err(DeleteError::OutOfTime { last: None });
                }
                tokio::time::sleep(POLL).await;
                continue;
            }
            let left = retrier.cutoff().saturating_duration_since(Instant::now());
            let until = now + CLAIM_FOR.min(left).as_millis() as i64;
            let claims = (table, owner.as_str(), until, describe, retrier);
            let claimed = join_all(open.iter().map(|j| claim_and_describe(j, claims))).await;
            self.settle_claims(&open, claimed, unknown, learning)?;
        }
        Ok(())
    }

    /// Keeps what a round's claims learned; the first error after every
    /// answer is kept.
    fn settle_claims(
        &self,
        open: &[JobRef],
        claimed: Vec<Tried<Claim>>,
        unknown: &mut Vec<JobRef>,
        learning: &mut Learning,
    ) -> Result<(), DeleteError> {
        let mut first_error = None;
        for (
            job,
            Tried {
                result: claim,
                calls: n,
            },
        ) in open.iter().zip(claimed)
        {
            learning.calls += n;
            match claim {
                Ok(Claim::Learned(arns)) => {
                    self.remember(&job.key, Arc::new(arns));
                    learning.learned += 1;
                    unknown.retain(|u| u != job);
                }
                // Deleted since it was listed: it names nothing now.
                Ok(Claim::Gone) => unknown.retain(|u| u != job),
                Ok(Claim::Taken) => {}
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}

/// Claims one job, and if the claim is this invocation's, describes it and
/// stores what it names.
async fn claim_and_describe<F, Fut>(
    job: &JobRef,
    (table, owner, until, describe, retrier): (&JobTable, &str, i64, &F, &Retrier),
) -> Tried<Claim>
where
    F: Fn(String) -> Fut,
    Fut: Future<Output = Described>,
{
    let claimed = table.claim(&job.key, (owner, until), retrier).await;
    claimed
        .and(|ours| async move {
            if !ours {
                return Tried::free(Claim::Taken);
            }
            describe(job.id.clone())
                .await
                .and(|arns| async move {
                    match arns {
                        Some(arns) => {
                            let stored = table.store(&job.key, &arns, retrier).await;
                            stored.map(|()| Claim::Learned(arns))
                        }
                        None => Tried::free(Claim::Gone),
                    }
                })
                .await
        })
        .await
}

/// How many jobs to claim at once: about two seconds of DescribeJob at
/// the pace learned, so that a claim is answered well before it lapses and
/// other invocations take the rest.
fn chunk(retrier: &Retrier) -> usize {
    let rate = retrier.pacers().get(QuotaClass::IotDescribeJob).rate();
    ((rate * 2.0).ceil() as usize).clamp(1, 50)
}

#[cfg(test)]
mod tests;
