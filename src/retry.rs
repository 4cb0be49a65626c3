//! The one retry layer. The SDK's own retries are off for the package APIs
//! (see [`crate::handler::Clients`]); every wait happens here.
//!
//! - A throttle with a hint (CodeArtifact's `Retry-After`) holds back every
//!   call to that service until the hint has passed, plus a little jitter.
//! - A throttle without a hint (IoT) holds back every call to that service
//!   for an exponential backoff with full jitter, growing with consecutive
//!   throttles and reset by a success.
//! - A transient error (5xx, timeout, connection, conflict) backs off only
//!   the call that saw it.
//! - Nothing sleeps past the cut-off (the Lambda deadline less a safety
//!   margin): the call returns [`DeleteError::OutOfTime`] and the work is
//!   handed on.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use rand::Rng;
use tokio::sync::Semaphore;
use tokio::time::Instant;

use crate::error::{DeleteError, ErrorClass};
use crate::request::Service;

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

/// Jitter added on top of a `Retry-After` hint: up to a tenth of it, at most
/// one second, so that held-back callers do not all return at once.
pub fn hint_jitter(hint: Duration) -> Duration {
    let max = (hint / 10).min(Duration::from_secs(1));
    max.mul_f64(rand::rng().random_range(0.0..=1.0))
}

#[derive(Debug)]
struct GateState {
    not_before: Instant,
    consecutive_throttles: u32,
}

/// The throttle signal one service's calls share within an invocation.
#[derive(Debug)]
struct Gate {
    state: Mutex<GateState>,
}

impl Gate {
    fn new() -> Self {
        Gate {
            state: Mutex::new(GateState {
                not_before: Instant::now(),
                consecutive_throttles: 0,
            }),
        }
    }

    fn not_before(&self) -> Instant {
        self.state.lock().expect("gate lock").not_before
    }

    fn throttled(&self, hint: Option<Duration>, policy: &RetryPolicy) -> Instant {
        let mut s = self.state.lock().expect("gate lock");
        s.consecutive_throttles += 1;
        let wait = match hint {
            Some(h) => h + hint_jitter(h),
            None => policy.full_jitter(s.consecutive_throttles),
        };
        s.not_before = s.not_before.max(Instant::now() + wait);
        s.not_before
    }

    fn succeeded(&self) {
        self.state.lock().expect("gate lock").consecutive_throttles = 0;
    }
}

/// The retry layer of one invocation: per-service throttle gates, the
/// concurrency limit and the cut-off, shared by every task.
#[derive(Debug)]
pub struct Retrier {
    policy: RetryPolicy,
    cutoff: Instant,
    limiter: Semaphore,
    codeartifact: Gate,
    iot: Gate,
}

impl Retrier {
    pub fn new(policy: RetryPolicy, cutoff: Instant, concurrency: usize) -> Self {
        Retrier {
            policy,
            cutoff,
            limiter: Semaphore::new(concurrency.max(1)),
            codeartifact: Gate::new(),
            iot: Gate::new(),
        }
    }

    pub fn cutoff(&self) -> Instant {
        self.cutoff
    }

    /// Whether there is still time to start work.
    pub fn has_time(&self) -> bool {
        Instant::now() < self.cutoff
    }

    fn gate(&self, service: Service) -> &Gate {
        match service {
            Service::CodeArtifact => &self.codeartifact,
            Service::Iot => &self.iot,
        }
    }

    /// Runs `call` until it succeeds, fails permanently, exhausts the retry
    /// budget or runs into the cut-off. Returns the result and the number of
    /// attempts made.
    pub async fn run<T, F, Fut>(
        &self,
        service: Service,
        mut call: F,
    ) -> (Result<T, DeleteError>, u32)
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, DeleteError>>,
    {
        let gate = self.gate(service);
        let mut attempts = 0u32;
        let mut last: Option<Arc<DeleteError>> = None;
        let mut own_wait_until = Instant::now();
        loop {
            // Wait for the shared throttle gate and this call's own backoff,
            // then for a concurrency slot; re-check the gate after the slot,
            // as another call may have been throttled meanwhile.
            let permit = loop {
                let ready_at = gate.not_before().max(own_wait_until);
                if ready_at >= self.cutoff {
                    return (Err(DeleteError::OutOfTime { last }), attempts);
                }
                tokio::time::sleep_until(ready_at).await;
                let permit = self
                    .limiter
                    .acquire()
                    .await
                    .expect("semaphore never closed");
                if gate.not_before() <= Instant::now() {
                    break permit;
                }
            };
            attempts += 1;
            let outcome = tokio::time::timeout_at(self.cutoff, call()).await;
            drop(permit);
            let err = match outcome {
                Err(_elapsed) => return (Err(DeleteError::OutOfTime { last }), attempts),
                Ok(Ok(value)) => {
                    gate.succeeded();
                    return (Ok(value), attempts);
                }
                Ok(Err(err)) => err,
            };
            let class = match &err {
                DeleteError::Api { class, .. } => *class,
                _ => ErrorClass::Permanent,
            };
            match class {
                ErrorClass::Permanent => return (Err(err), attempts),
                ErrorClass::ThrottledWithHint(hint) => {
                    gate.throttled(Some(hint), &self.policy);
                }
                ErrorClass::Throttled => {
                    gate.throttled(None, &self.policy);
                }
                ErrorClass::Transient => {
                    own_wait_until = Instant::now() + self.policy.full_jitter(attempts);
                }
            }
            tracing::debug!(%service, code = %err.code(), attempts, "retryable error");
            if attempts >= self.policy.max_attempts {
                return (
                    Err(DeleteError::RetriesExhausted {
                        attempts,
                        last: Arc::new(err),
                    }),
                    attempts,
                );
            }
            last = Some(Arc::new(err));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(class: ErrorClass) -> DeleteError {
        DeleteError::Api {
            service: Service::CodeArtifact,
            operation: "DeletePackageVersions",
            code: "X".into(),
            class,
            source: "boom".into(),
        }
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

    #[test]
    fn hint_jitter_is_small() {
        for _ in 0..100 {
            assert!(hint_jitter(Duration::from_secs(3)) <= Duration::from_millis(300));
            assert!(hint_jitter(Duration::from_secs(60)) <= Duration::from_secs(1));
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_hint_holds_back_every_call_to_that_service() {
        let start = Instant::now();
        let r = Arc::new(Retrier::new(
            RetryPolicy::default(),
            start + Duration::from_secs(60),
            4,
        ));
        let calls = Arc::new(Mutex::new(Vec::new()));
        let first = {
            let (r, calls) = (r.clone(), calls.clone());
            tokio::spawn(async move {
                let mut n = 0;
                r.run(Service::CodeArtifact, || {
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
        // A second task starting after the throttle waits for the hint too.
        let (second, attempts) = r
            .run(Service::CodeArtifact, || {
                calls.lock().unwrap().push(Instant::now());
                async { Ok::<_, DeleteError>(()) }
            })
            .await;
        assert!(second.is_ok());
        assert_eq!(attempts, 1);
        let (first, attempts) = first.await.unwrap();
        assert!(first.is_ok());
        assert_eq!(attempts, 2);
        let calls = calls.lock().unwrap().clone();
        assert_eq!(calls.len(), 3);
        for later in &calls[1..] {
            assert!(
                *later - start >= Duration::from_secs(5),
                "{:?}",
                *later - start
            );
        }
        // IoT is not held back by CodeArtifact's throttle.
        let t = Instant::now();
        let (ok, _) = r
            .run(Service::Iot, || async { Ok::<_, DeleteError>(()) })
            .await;
        assert!(ok.is_ok());
        assert_eq!(Instant::now(), t);
    }

    #[tokio::test(start_paused = true)]
    async fn never_sleeps_past_the_cutoff() {
        let start = Instant::now();
        let r = Retrier::new(RetryPolicy::default(), start + Duration::from_secs(3), 1);
        let (res, attempts) = r
            .run(Service::CodeArtifact, || async {
                Err::<(), _>(api(ErrorClass::ThrottledWithHint(Duration::from_secs(10))))
            })
            .await;
        assert_eq!(attempts, 1);
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
        let r = Retrier::new(
            RetryPolicy {
                max_attempts: 3,
                ..RetryPolicy::default()
            },
            Instant::now() + Duration::from_secs(600),
            1,
        );
        let (res, attempts) = r
            .run(Service::Iot, || async {
                Err::<(), _>(api(ErrorClass::Transient))
            })
            .await;
        assert_eq!(attempts, 3);
        assert!(matches!(
            res,
            Err(DeleteError::RetriesExhausted { attempts: 3, .. })
        ));
        assert!(!res.unwrap_err().is_permanent());
        let (res, attempts) = r
            .run(Service::Iot, || async {
                Err::<(), _>(api(ErrorClass::Permanent))
            })
            .await;
        assert_eq!(attempts, 1);
        assert!(res.unwrap_err().is_permanent());
    }

    #[tokio::test(start_paused = true)]
    async fn a_call_running_into_the_cutoff_is_cut_short() {
        let start = Instant::now();
        let r = Retrier::new(RetryPolicy::default(), start + Duration::from_secs(2), 1);
        let (res, attempts) = r
            .run(Service::Iot, || async {
                tokio::time::sleep(Duration::from_secs(30)).await;
                Ok::<_, DeleteError>(())
            })
            .await;
        assert_eq!(attempts, 1);
        assert!(matches!(res, Err(DeleteError::OutOfTime { last: None })));
        assert_eq!(Instant::now() - start, Duration::from_secs(2));
    }
}
