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

mod classify;
pub mod pace;
mod quota;
#[cfg(test)]
mod tests;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use tokio::sync::Semaphore;
use tokio::time::Instant;

use crate::error::{DeleteError, ErrorClass};
pub use classify::classify;
pub use pace::{Pacer, Pacers};
pub use quota::{QuotaClass, Rates};

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
    limiters: [Semaphore; QuotaClass::ALL.len()],
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
