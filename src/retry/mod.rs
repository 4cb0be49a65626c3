//! The one retry layer. The SDK's own retries are off for the package APIs
//! (see [`crate::handler::Clients`]); every wait happens here.
//!
//! - Every call first waits for its slot from its quota class's [`Pacer`]
//!   ([`pace`]): calls are paced to the quota, which adapts to throttling.
//! - A throttle (with CodeArtifact's `Retry-After` or without, as IoT sends
//!   it) tells the pacer, and the call is sent again at its next slot. It
//!   spends time, not attempts: only the cut-off bounds it.
//! - A transient error (5xx, timeout, connection, conflict) backs off only
//!   the call that saw it, with full jitter, and spends one of the call's
//!   attempts.
//! - Nothing sleeps past the cut-off (the Lambda deadline less a safety
//!   margin): the call returns [`DeleteError::OutOfTime`] and the work is
//!   handed on.

pub mod pace;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use rand::Rng;
use tokio::sync::Semaphore;
use tokio::time::Instant;

use crate::error::{DeleteError, ErrorClass};
pub use pace::{Pacer, Pacers, QuotaClass, Rates};

/// Error codes that mean "slow down", whatever the HTTP status (IoT sends its
/// ThrottlingException as a 400).
const THROTTLING_CODES: [&str; 5] = [
    "ThrottlingException",
    "Throttling",
    "TooManyRequestsException",
    "RequestThrottled",
    "SlowDown",
];

/// Classifies an SDK error. `hint` is the modelled `retryAfterSeconds` the
/// caller read from the operation's ThrottlingException, if any.
pub fn classify<E: ProvideErrorMetadata>(
    err: &SdkError<E, HttpResponse>,
    hint: Option<Duration>,
) -> (ErrorClass, String) {
    match err {
        SdkError::ConstructionFailure(_) => {
            (ErrorClass::Permanent, "RequestConstructionFailed".into())
        }
        SdkError::TimeoutError(_) => (ErrorClass::Transient, "Timeout".into()),
        SdkError::DispatchFailure(_) => (ErrorClass::Transient, "ConnectionError".into()),
        SdkError::ResponseError(_) => (ErrorClass::Transient, "ResponseError".into()),
        SdkError::ServiceError(ctx) => {
            let status = ctx.raw().status().as_u16();
            let code = ctx.err().code().map(str::to_owned);
            let class = match code.as_deref() {
                Some(c) if THROTTLING_CODES.contains(&c) => throttled(hint),
                _ if status == 429 => throttled(hint),
                Some("InternalServerException" | "ConflictException") => ErrorClass::Transient,
                _ if status >= 500 => ErrorClass::Transient,
                _ => ErrorClass::Permanent,
            };
            (class, code.unwrap_or_else(|| format!("HTTP{status}")))
        }
        _ => (ErrorClass::Transient, "Unknown".into()),
    }
}

fn throttled(hint: Option<Duration>) -> ErrorClass {
    match hint {
        Some(d) => ErrorClass::ThrottledWithHint(d),
        None => ErrorClass::Throttled,
    }
}

/// Limits of the retry layer.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Attempts per call, the first included.
    pub max_attempts: u32,
    /// First backoff step; doubles with each consecutive failure.
    pub base: Duration,
    /// Largest backoff step.
    pub cap: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 6,
            base: Duration::from_millis(200),
            cap: Duration::from_secs(20),
        }
    }
}

impl RetryPolicy {
    /// The upper bound of the backoff before the `n`th retry (n ≥ 1).
    fn ceiling(&self, n: u32) -> Duration {
        let factor = 1u32
            .checked_shl(n.saturating_sub(1).min(20))
            .unwrap_or(u32::MAX);
        self.base.saturating_mul(factor).min(self.cap)
    }

    /// Full jitter: uniformly random in [0, ceiling].
    pub fn full_jitter(&self, n: u32) -> Duration {
        let ceiling = self.ceiling(n);
        ceiling.mul_f64(rand::rng().random_range(0.0..=1.0))
    }
}

/// The retry layer of one invocation: the pacers, the concurrency limits and
/// the cut-off, shared by every task.
#[derive(Debug)]
pub struct Retrier {
    policy: RetryPolicy,
    cutoff: Instant,
    /// Calls in flight, per quota class: calls queued for one class's slots
    /// never hold back another class (reads waiting for their turn do not
    /// stall deletes whose package is already read).
    limiters: [Semaphore; 5],
    pacers: Arc<Pacers>,
}

impl Retrier {
    pub fn new(
        policy: RetryPolicy,
        cutoff: Instant,
        concurrency: usize,
        pacers: Arc<Pacers>,
    ) -> Self {
        Retrier {
            policy,
            cutoff,
            limiters: QuotaClass::ALL.map(|_| Semaphore::new(concurrency.max(1))),
            pacers,
        }
    }

    pub fn cutoff(&self) -> Instant {
        self.cutoff
    }

    /// Whether there is still time to start work.
    pub fn has_time(&self) -> bool {
        Instant::now() < self.cutoff
    }

    pub fn pacers(&self) -> &Pacers {
        &self.pacers
    }

    /// Runs `call` until it succeeds, fails permanently, exhausts the retry
    /// budget on transient errors or runs into the cut-off. Returns the
    /// result and the number of calls made.
    pub async fn run<T, F, Fut>(
        &self,
        class: QuotaClass,
        mut call: F,
    ) -> (Result<T, DeleteError>, u32)
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, DeleteError>>,
    {
        let pacer = self.pacers.get(class);
        let mut calls = 0u32;
        let mut failures = 0u32;
        let mut last: Option<Arc<DeleteError>> = None;
        let mut own_wait_until = Instant::now();
        loop {
            // This call's own backoff, then room among the class's calls in
            // flight, then the class's next slot (so the slot is not spent
            // waiting for room).
            if own_wait_until >= self.cutoff {
                return (Err(DeleteError::OutOfTime { last }), calls);
            }
            tokio::time::sleep_until(own_wait_until).await;
            let permit = self.limiters[class.index()]
                .acquire()
                .await
                .expect("semaphore never closed");
            let Some(sent) = pacer.slot(self.cutoff).await else {
                return (Err(DeleteError::OutOfTime { last }), calls);
            };
            calls += 1;
            let outcome = tokio::time::timeout_at(self.cutoff, call()).await;
            drop(permit);
            let err = match outcome {
                Err(_elapsed) => return (Err(DeleteError::OutOfTime { last }), calls),
                Ok(Ok(value)) => {
                    pacer.succeeded();
                    return (Ok(value), calls);
                }
                Ok(Err(err)) => err,
            };
            let kind = match &err {
                DeleteError::Api { class, .. } => *class,
                _ => ErrorClass::Permanent,
            };
            match kind {
                ErrorClass::Permanent => return (Err(err), calls),
                ErrorClass::ThrottledWithHint(hint) => pacer.throttled(sent, Some(hint)),
                ErrorClass::Throttled => pacer.throttled(sent, None),
                ErrorClass::Transient => {
                    failures += 1;
                    own_wait_until = Instant::now() + self.policy.full_jitter(failures);
                }
            }
            tracing::debug!(%class, code = %err.code(), calls, failures, "retryable error");
            if failures >= self.policy.max_attempts {
                return (
                    Err(DeleteError::RetriesExhausted {
                        attempts: failures,
                        last: Arc::new(err),
                    }),
                    calls,
                );
            }
            last = Some(Arc::new(err));
        }
    }
}

#[cfg(test)]
mod tests {
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
        let (second, n) = r
            .run(QuotaClass::CodeArtifactWrite, || {
                calls.lock().unwrap().push(Instant::now());
                async { Ok::<_, DeleteError>(()) }
            })
            .await;
        assert!(second.is_ok());
        assert_eq!(n, 1);
        let (first, n) = first.await.unwrap();
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
        let (ok, _) = r
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
        let (write, _) = r
            .run(QuotaClass::IotWrite, || async {
                Ok::<_, DeleteError>(Instant::now())
            })
            .await;
        assert!(write.unwrap() - start < Duration::from_millis(10));
        for read in reads {
            assert!(read.await.unwrap().0.is_ok());
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
        let (res, calls) = r
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
        let (res, calls) = r
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
        let (res, calls) = r
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
        let (res, calls) = r
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
        let (res, calls) = r
            .run(QuotaClass::IotRead, || async {
                tokio::time::sleep(Duration::from_secs(30)).await;
                Ok::<_, DeleteError>(())
            })
            .await;
        assert_eq!(calls, 1);
        assert!(matches!(res, Err(DeleteError::OutOfTime { last: None })));
        assert_eq!(Instant::now() - start, Duration::from_secs(2));
    }
}
