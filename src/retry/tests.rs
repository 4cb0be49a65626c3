//! The retry layer's unit tests: backoff, throttles, the cut-off and the
//! per-class concurrency limits of [`Retrier`].

use super::*;
use crate::request::Service;
use std::sync::Mutex;

fn api(class: ErrorClass) -> DeleteError {
    DeleteError::Api {
        service: Service::CodeArtifact,
        operation: "DeletePackageVersions",
        code: "X".into(),
        class,
        source: "boom".into(),
    }
}

fn retrier(policy: RetryPolicy, within: Duration, concurrency: usize) -> Retrier {
    Retrier::new(
        policy,
        Instant::now() + within,
        concurrency,
        Arc::new(Pacers::new(&Rates::default(), 1)),
    )
}

#[test]
fn backoff_ceiling_doubles_and_caps() {
    let p = RetryPolicy::default();
    assert_eq!(p.ceiling(1), Duration::from_millis(200));
    assert_eq!(p.ceiling(2), Duration::from_millis(400));
    assert_eq!(p.ceiling(8), Duration::from_millis(20_000));
    assert_eq!(p.ceiling(500), Duration::from_secs(20));
    for n in 1..10 {
        assert!(p.full_jitter(n) <= p.ceiling(n));
    }
}

#[tokio::test(start_paused = true)]
async fn a_hint_holds_back_every_call_of_that_class() {
    let start = Instant::now();
    let r = Arc::new(retrier(RetryPolicy::default(), Duration::from_secs(60), 4));
    let calls = Arc::new(Mutex::new(Vec::new()));
    let first = {
        let (r, calls) = (r.clone(), calls.clone());
        tokio::spawn(async move {
            let mut n = 0;
            r.run(QuotaClass::CodeArtifactWrite, || {
                n += 1;
                calls.lock().unwrap().push(Instant::now());
                let n = n;
                async move {
                    if n == 1 {
                        Err(api(ErrorClass::ThrottledWithHint(Duration::from_secs(5))))
                    } else {
                        Ok(())
                    }
                }
            })
            .await
        })
    };
    tokio::time::sleep(Duration::from_millis(10)).await;
    // A second call starting after the throttle waits for the hint too.
    let Tried {
        result: second,
        calls: n,
    } = r
        .run(QuotaClass::CodeArtifactWrite, || {
            calls.lock().unwrap().push(Instant::now());
            async { Ok::<_, DeleteError>(()) }
        })
        .await;
    assert!(second.is_ok());
    assert_eq!(n, 1);
    let Tried {
        result: first,
        calls: n,
    } = first.await.unwrap();
    assert!(first.is_ok());
    assert_eq!(n, 2);
    let calls = calls.lock().unwrap().clone();
    assert_eq!(calls.len(), 3);
    for later in &calls[1..] {
        assert!(
            *later - start >= Duration::from_secs(5),
            "{:?}",
            *later - start
        );
    }
    // Another class is not held back by this one's hint.
    let t = Instant::now();
    let Tried {
        result: ok,
        calls: _,
    } = r
        .run(QuotaClass::CodeArtifactList, || async {
            Ok::<_, DeleteError>(())
        })
        .await;
    assert!(ok.is_ok());
    assert_eq!(Instant::now(), t);
}

#[tokio::test(start_paused = true)]
async fn calls_queued_for_one_class_do_not_hold_back_another() {
    // Two calls in flight per class; IoT reads paced at 10 a second.
    let r = Arc::new(retrier(RetryPolicy::default(), Duration::from_secs(60), 2));
    let start = Instant::now();
    let reads: Vec<_> = (0..20)
        .map(|_| {
            let r = r.clone();
            tokio::spawn(async move {
                r.run(QuotaClass::IotRead, || async { Ok::<_, DeleteError>(()) })
                    .await
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(1)).await;
    // The reads fill the read class's room and queue for its slots; a
    // write still goes at once.
    let Tried {
        result: write,
        calls: _,
    } = r
        .run(QuotaClass::IotWrite, || async {
            Ok::<_, DeleteError>(Instant::now())
        })
        .await;
    assert!(write.unwrap() - start < Duration::from_millis(10));
    for read in reads {
        assert!(read.await.unwrap().result.is_ok());
    }
    // The reads kept their own pace: a second's burst, then nine slots
    // about a tenth of a second apart (a little less as the rate grows
    // with each success).
    assert!(Instant::now() - start >= Duration::from_millis(700));
}

#[tokio::test(start_paused = true)]
async fn throttles_spend_time_not_attempts() {
    let policy = RetryPolicy {
        max_attempts: 2,
        ..RetryPolicy::default()
    };
    let r = retrier(policy, Duration::from_secs(600), 1);
    let mut n = 0;
    let Tried { result: res, calls } = r
        .run(QuotaClass::IotWrite, || {
            n += 1;
            let n = n;
            async move {
                if n <= 25 {
                    Err(api(ErrorClass::Throttled))
                } else {
                    Ok(())
                }
            }
        })
        .await;
    assert!(res.is_ok(), "{res:?}");
    assert_eq!(calls, 26);
    // The pacer slowed down, once per round.
    let stats = r.pacers().get(QuotaClass::IotWrite).stats();
    assert_eq!(stats.throttles, 25);
    assert!(stats.rate < 10.0, "{}", stats.rate);
}

#[tokio::test(start_paused = true)]
async fn never_sleeps_past_the_cutoff() {
    let start = Instant::now();
    let r = retrier(RetryPolicy::default(), Duration::from_secs(3), 1);
    let Tried { result: res, calls } = r
        .run(QuotaClass::CodeArtifactWrite, || async {
            Err::<(), _>(api(ErrorClass::ThrottledWithHint(Duration::from_secs(10))))
        })
        .await;
    assert_eq!(calls, 1);
    match res {
        Err(DeleteError::OutOfTime { last: Some(last) }) => {
            assert_eq!(last.retry_after(), Some(Duration::from_secs(10)))
        }
        other => panic!("expected OutOfTime, got {other:?}"),
    }
    assert!(Instant::now() - start < Duration::from_secs(3));
}

#[tokio::test(start_paused = true)]
async fn transient_errors_exhaust_the_budget_and_permanent_ones_stop_at_once() {
    let policy = RetryPolicy {
        max_attempts: 3,
        ..RetryPolicy::default()
    };
    let r = retrier(policy, Duration::from_secs(600), 1);
    let Tried { result: res, calls } = r
        .run(QuotaClass::IotWrite, || async {
            Err::<(), _>(api(ErrorClass::Transient))
        })
        .await;
    assert_eq!(calls, 3);
    assert!(matches!(
        res,
        Err(DeleteError::RetriesExhausted { attempts: 3, .. })
    ));
    assert!(!res.unwrap_err().is_permanent());
    let Tried { result: res, calls } = r
        .run(QuotaClass::IotWrite, || async {
            Err::<(), _>(api(ErrorClass::Permanent))
        })
        .await;
    assert_eq!(calls, 1);
    assert!(res.unwrap_err().is_permanent());
}

#[tokio::test(start_paused = true)]
async fn a_call_running_into_the_cutoff_is_cut_short() {
    let start = Instant::now();
    let r = retrier(RetryPolicy::default(), Duration::from_secs(2), 1);
    let Tried { result: res, calls } = r
        .run(QuotaClass::IotRead, || async {
            tokio::time::sleep(Duration::from_secs(30)).await;
            Ok::<_, DeleteError>(())
        })
        .await;
    assert_eq!(calls, 1);
    assert!(matches!(res, Err(DeleteError::OutOfTime { last: None })));
    assert_eq!(Instant::now() - start, Duration::from_secs(2));
}

/// Issue 26: as many requests at once as the slowest class of the service,
/// at the pace learned, can bring to a first delete before the deadline;
/// at least one, at most the concurrency.
#[test]
fn requests_start_as_many_at_once_as_the_pace_can_finish() {
    let pacers = Pacers::new(&Rates::default(), 1);
    let budget = Duration::from_secs(300);
    assert_eq!(requests_at_once(&pacers, Service::Iot, budget, 8), 8);
    // IoT's reads at 10/s, 4.5 s to work in: 10 × 4.5 / 4 calls = 11.
    let short = Duration::from_millis(4500);
    assert_eq!(requests_at_once(&pacers, Service::Iot, short, 64), 11);
    let mut rates = Rates::default();
    rates.set(QuotaClass::IotWrite, 0.5);
    let slow = Pacers::new(&rates, 1);
    assert_eq!(requests_at_once(&slow, Service::Iot, short, 64), 1);
    assert_eq!(
        requests_at_once(&slow, Service::CodeArtifact, short, 64),
        64,
        "one service's pace is not another's"
    );
}

/// Issue 26: once most of a service's calls are throttled, an invocation
/// sends them one at a time, the first in priority order first, and a
/// throttle no longer cuts the class's rate.
#[tokio::test(start_paused = true)]
async fn a_starved_service_sends_one_call_at_a_time_first_things_first() {
    let pacers = Arc::new(Pacers::new(&Rates::default(), 1));
    for _ in 0..20 {
        pacers.strain(Service::Iot).record(true);
    }
    assert!(pacers.strain(Service::Iot).starved());
    assert!(!pacers.strain(Service::CodeArtifact).starved());
    let r = Arc::new(Retrier::new(
        RetryPolicy::default(),
        Instant::now() + Duration::from_secs(60),
        8,
        pacers.clone(),
    ));
    let in_flight = Arc::new(Mutex::new((0u32, 0u32)));
    let order = Arc::new(Mutex::new(Vec::new()));
    let tasks: Vec<_> = (0..4usize)
        .rev()
        .map(|i| {
            let (r, in_flight, order) = (r.clone(), in_flight.clone(), order.clone());
            tokio::spawn(nth(i, async move {
                r.run(QuotaClass::IotSearch, || {
                    let (in_flight, order) = (in_flight.clone(), order.clone());
                    async move {
                        {
                            let mut f = in_flight.lock().unwrap();
                            f.0 += 1;
                            f.1 = f.1.max(f.0);
                        }
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        order.lock().unwrap().push(i);
                        in_flight.lock().unwrap().0 -= 1;
                        Ok::<_, DeleteError>(())
                    }
                })
                .await
            }))
        })
        .collect();
    for t in tasks {
        assert!(t.await.unwrap().result.is_ok());
    }
    assert_eq!(in_flight.lock().unwrap().1, 1, "one call at a time");
    let order = order.lock().unwrap().clone();
    assert_eq!(&order[1..], [0, 1, 2], "then in priority order: {order:?}");
    let rate = pacers.get(QuotaClass::IotWrite).rate();
    let r2 = Retrier::new(
        RetryPolicy::default(),
        Instant::now() + Duration::from_secs(60),
        8,
        pacers.clone(),
    );
    let Tried {
        result: _,
        calls: _,
    } = r2
        .run(QuotaClass::IotWrite, {
            let mut n = 0;
            move || {
                n += 1;
                let first = n == 1;
                async move {
                    match first {
                        true => Err(api(ErrorClass::Throttled)),
                        false => Ok(()),
                    }
                }
            }
        })
        .await;
    assert!(
        pacers.get(QuotaClass::IotWrite).rate() >= rate,
        "a throttle one call at a time cuts nothing"
    );
}
