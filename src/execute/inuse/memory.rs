//! What the usage checks learned that does not change, or changes rarely,
//! kept beyond one invocation: by a warm execution environment for its
//! next invocations, and, with the function's table, by every environment.
//!
//! - A job's `destinationPackageVersions`, by job id: they never change
//!   once the job exists. Only jobs not seen before are described; with the
//!   table, each by one invocation between them ([`JobTable`]'s claims).
//! - Fleet indexing's configuration, trusted for [`INDEXING_TRUST`].
//! - Which jobs are unfinished (ListJobs), trusted for [`LISTING_TRUST`]:
//!   an invocation already trusts its own listing for as long as it runs.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::future::join_all;
use rand::seq::SliceRandom;
use tokio::time::Instant;

use super::Indexing;
use crate::downloads::{now_ms, JobTable, StoredJob};
use crate::error::DeleteError;
use crate::retry::{QuotaClass, Retrier};

/// How long a fleet-indexing configuration, once read, is trusted.
pub const INDEXING_TRUST: Duration = Duration::from_secs(300);
/// How long a listing of the unfinished jobs, once read, is trusted.
pub const LISTING_TRUST: Duration = Duration::from_secs(60);
/// How long a claim on describing a job lasts at most.
const CLAIM_FOR: Duration = Duration::from_secs(30);
/// How often the table is read again while others describe the jobs.
const POLL: Duration = Duration::from_millis(500);

/// A job's package-version ARNs.
pub type Destinations = Arc<Vec<String>>;

/// What the usage checks learned, shared by the invocations of one
/// execution environment (and, through `table`, by all).
#[derive(Debug, Default)]
pub struct Memory {
    indexing: Mutex<Option<(Indexing, Instant)>>,
    listing: Mutex<Option<(Arc<Vec<String>>, Instant)>>,
    destinations: Mutex<HashMap<String, Destinations>>,
    table: Option<JobTable>,
}

fn fresh<T: Clone>(kept: &Mutex<Option<(T, Instant)>>, trust: Duration) -> Option<T> {
    let kept = kept.lock().expect("memory lock");
    kept.as_ref()
        .filter(|(_, at)| at.elapsed() < trust)
        .map(|(v, _)| v.clone())
}

impl Memory {
    /// A memory that shares what it learns through `table`, if any.
    pub fn new(table: Option<JobTable>) -> Self {
        Memory {
            table,
            ..Memory::default()
        }
    }

    pub fn indexing(&self) -> Option<Indexing> {
        fresh(&self.indexing, INDEXING_TRUST)
    }

    pub fn remember_indexing(&self, i: &Indexing) {
        *self.indexing.lock().expect("memory lock") = Some((i.clone(), Instant::now()));
    }

    pub fn listing(&self) -> Option<Arc<Vec<String>>> {
        fresh(&self.listing, LISTING_TRUST)
    }

    pub fn remember_listing(&self, ids: Arc<Vec<String>>) {
        *self.listing.lock().expect("memory lock") = Some((ids, Instant::now()));
    }

    fn known(&self, id: &str) -> Option<Destinations> {
        self.destinations
            .lock()
            .expect("memory lock")
            .get(id)
            .cloned()
    }

    fn remember(&self, id: &str, arns: Destinations) {
        self.destinations
            .lock()
            .expect("memory lock")
            .insert(id.to_owned(), arns);
    }

    /// The destinations of every job of `ids`: what is remembered, then
    /// what the table holds, then described (with `describe`) by this
    /// invocation; with the table and `writes`, only the jobs this
    /// invocation claims, waiting for the others' claims to be answered.
    /// Returns them, the calls made, and how many jobs this invocation
    /// learned (described and kept).
    pub async fn destinations<F, Fut>(
        &self,
        ids: &[String],
        writes: bool,
        describe: F,
        retrier: &Retrier,
    ) -> (Result<Vec<(String, Destinations)>, DeleteError>, u32, u32)
    where
        F: Fn(String) -> Fut,
        Fut: Future<Output = (Result<Vec<String>, DeleteError>, u32)>,
    {
        let mut learning = Learning::default();
        let mut unknown: Vec<String> = ids
            .iter()
            .filter(|id| self.known(id).is_none())
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
            ids.iter()
                .filter_map(|id| self.known(id).map(|d| (id.clone(), d)))
                .collect()
        });
        (out, learning.calls, learning.learned)
    }

    /// Describes every job of `unknown`, remembering each.
    async fn describe_all<F, Fut>(
        &self,
        unknown: &mut Vec<String>,
        describe: &F,
        learning: &mut Learning,
    ) -> Result<(), DeleteError>
    where
        F: Fn(String) -> Fut,
        Fut: Future<Output = (Result<Vec<String>, DeleteError>, u32)>,
    {
        let described = join_all(unknown.iter().map(|id| describe(id.clone()))).await;
        for (id, (arns, n)) in unknown.drain(..).zip(described) {
            learning.calls += n;
            self.remember(&id, Arc::new(arns?));
            learning.learned += 1;
        }
        Ok(())
    }

    /// The table's round: read what it holds; describe what no one has
    /// claimed (claiming a chunk at a time, in an order of its own so that
    /// invocations spread over the jobs); wait while others describe the
    /// rest. Never past the cut-off.
    async fn share<F, Fut>(
        &self,
        table: &JobTable,
        unknown: &mut Vec<String>,
        (writes, describe): (bool, &F),
        retrier: &Retrier,
        learning: &mut Learning,
    ) -> Result<(), DeleteError>
    where
        F: Fn(String) -> Fut,
        Fut: Future<Output = (Result<Vec<String>, DeleteError>, u32)>,
    {
        unknown.shuffle(&mut rand::rng());
        while !unknown.is_empty() {
            let (stored, n) = table.read(retrier).await;
            learning.calls += n;
            let stored = stored?;
            unknown.retain(|id| match stored.get(id) {
                Some(StoredJob::Known(arns)) => {
                    self.remember(id, Arc::new(arns.clone()));
                    false
                }
                _ => true,
            });
            if !writes {
                // packprune-cli reads what is stored, never writes it.
                return self.describe_all(unknown, describe, learning).await;
            }
            let now = now_ms();
            let open: Vec<String> = unknown
                .iter()
                .filter(|id| !matches!(stored.get(*id), Some(StoredJob::Claimed(t)) if *t > now))
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
            let claimed = join_all(open.iter().map(|id| async move {
                match table.claim(id, until, retrier).await {
                    (Ok(true), c) => {
                        let (arns, d) = describe(id.clone()).await;
                        let arns = match arns {
                            Ok(a) => a,
                            Err(e) => return (Err(e), c + d),
                        };
                        let (stored, s) = table.store(id, &arns, retrier).await;
                        (stored.map(|()| Some(arns)), c + d + s)
                    }
                    (Ok(false), c) => (Ok(None), c),
                    (Err(e), c) => (Err(e), c),
                }
            }))
            .await;
            for (id, (arns, n)) in open.iter().zip(claimed) {
                learning.calls += n;
                if let Some(arns) = arns? {
                    self.remember(id, Arc::new(arns));
                    learning.learned += 1;
                    unknown.retain(|u| u != id);
                }
            }
        }
        Ok(())
    }
}

/// Calls made and jobs learned, as a round goes.
#[derive(Default)]
struct Learning {
    calls: u32,
    learned: u32,
}

/// How many jobs to claim at once: about two seconds of DescribeJob at
/// the pace learned, so that a claim is answered well before it lapses and
/// other invocations take the rest.
fn chunk(retrier: &Retrier) -> usize {
    let rate = retrier.pacers().get(QuotaClass::IotDescribeJob).rate();
    ((rate * 2.0).ceil() as usize).clamp(1, 50)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::retry::{Pacers, Rates, RetryPolicy};
    use std::sync::atomic::{AtomicU32, Ordering};

    fn retrier() -> Retrier {
        Retrier::new(
            RetryPolicy::default(),
            Instant::now() + Duration::from_secs(60),
            8,
            Arc::new(Pacers::new(&Rates::default(), 1)),
        )
    }

    /// Issue 26: a job is described once per execution environment; the
    /// next invocations describe only jobs not seen before.
    #[tokio::test(start_paused = true)]
    async fn only_jobs_not_seen_before_are_described() {
        let memory = Memory::default();
        let described = AtomicU32::new(0);
        let describe = |id: String| {
            described.fetch_add(1, Ordering::Relaxed);
            async move {
                (
                    Ok(vec![format!(
                        "arn:aws:iot:us-east-1:1:package/fw/version/{id}"
                    )]),
                    1,
                )
            }
        };
        let r = retrier();
        let ids = |n: usize| (0..n).map(|i| format!("job-{i}")).collect::<Vec<_>>();
        let (known, calls, learned) = memory.destinations(&ids(3), true, describe, &r).await;
        assert_eq!(known.unwrap().len(), 3);
        assert_eq!((calls, learned), (3, 3));
        let (known, calls, learned) = memory.destinations(&ids(5), true, describe, &r).await;
        let known = known.unwrap();
        assert_eq!(known.len(), 5);
        assert_eq!((calls, learned), (2, 2), "only job-3 and job-4 are new");
        assert_eq!(described.load(Ordering::Relaxed), 5);
        assert_eq!(
            known[4].1[0],
            "arn:aws:iot:us-east-1:1:package/fw/version/job-4"
        );
    }

    /// What is trusted for a while is trusted only for that while.
    #[tokio::test(start_paused = true)]
    async fn the_configuration_and_the_listing_are_trusted_for_a_bounded_time() {
        let memory = Memory::default();
        memory.remember_indexing(&Indexing::Package);
        memory.remember_listing(Arc::new(vec!["job-1".into()]));
        tokio::time::advance(LISTING_TRUST - Duration::from_secs(1)).await;
        assert!(memory.listing().is_some() && memory.indexing().is_some());
        tokio::time::advance(Duration::from_secs(2)).await;
        assert!(memory.listing().is_none(), "the listing is read again");
        assert!(memory.indexing().is_some());
        tokio::time::advance(INDEXING_TRUST).await;
        assert!(
            memory.indexing().is_none(),
            "the configuration is read again"
        );
    }
}
