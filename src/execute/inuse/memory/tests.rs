//! What is learned once: described once per environment, gone jobs and
//! reused ids, bounded trust.

use super::*;
use crate::retry::Tried;
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
            Tried::new(
                Ok(Some(vec![format!(
                    "arn:aws:iot:us-east-1:1:package/fw/version/{id}"
                )])),
                1,
            )
        }
    };
    let r = retrier();
    let ids = |n: usize| {
        (0..n)
            .map(|i| JobRef::new(&format!("job-{i}"), Some(1_000)))
            .collect::<Vec<_>>()
    };
    let (
        Tried {
            result: known,
            calls,
        },
        learned,
    ) = memory.destinations(&ids(3), true, describe, &r).await;
    assert_eq!(known.unwrap().len(), 3);
    assert_eq!((calls, learned), (3, 3));
    let (
        Tried {
            result: known,
            calls,
        },
        learned,
    ) = memory.destinations(&ids(5), true, describe, &r).await;
    let known = known.unwrap();
    assert_eq!(known.len(), 5);
    assert_eq!((calls, learned), (2, 2), "only job-3 and job-4 are new");
    assert_eq!(described.load(Ordering::Relaxed), 5);
    assert_eq!(
        known[4].1[0],
        "arn:aws:iot:us-east-1:1:package/fw/version/job-4"
    );
}

/// A job deleted since it was listed names nothing and is not kept; a
/// job id used again by a new job (IoT allows it once the old one is
/// deleted) is a job not seen before.
#[tokio::test(start_paused = true)]
async fn a_gone_job_is_not_kept_and_a_reused_id_is_described_again() {
    let memory = Memory::default();
    let described = AtomicU32::new(0);
    let describe = |id: String| {
        let n = described.fetch_add(1, Ordering::Relaxed);
        async move {
            let arns =
                (n > 0).then(|| vec![format!("arn:aws:iot:us-east-1:1:package/fw/version/{id}")]);
            Tried::new(Ok(arns), 1)
        }
    };
    let r = retrier();
    let first = [JobRef::new("rollout", Some(1_000))];
    let (Tried { result: known, .. }, learned) =
        memory.destinations(&first, true, describe, &r).await;
    assert_eq!(
        (known.unwrap().len(), learned),
        (0, 0),
        "gone: names nothing"
    );
    let (Tried { result: known, .. }, learned) =
        memory.destinations(&first, true, describe, &r).await;
    assert_eq!((known.unwrap().len(), learned), (1, 1), "described again");
    let reused = [JobRef::new("rollout", Some(2_000))];
    let (Tried { result: known, .. }, learned) =
        memory.destinations(&reused, true, describe, &r).await;
    assert_eq!((known.unwrap().len(), learned), (1, 1));
    assert_eq!(described.load(Ordering::Relaxed), 3);
}

/// What is trusted for a while is trusted only for that while.
#[tokio::test(start_paused = true)]
async fn the_configuration_and_the_listing_are_trusted_for_a_bounded_time() {
    let memory = Memory::default();
    memory.remember_indexing(&Indexing::Package);
    memory.remember_listing(Arc::new(vec![JobRef::new("job-1", None)]));
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
