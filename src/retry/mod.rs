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
pub(crate) mod gate;
pub(crate) mod pace;
mod quota;
#[cfg(test)]
mod tests;
mod tried;

use std::future::Future;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use tokio::time::Instant;

use crate::error::{DeleteError, ErrorClass};
use crate::request::Service;
pub(crate) use classify::classify;
use gate::Gate;
pub(crate) use gate::{nth, Priority};
pub use pace::Pacers;
pub(crate) use quota::QuotaClass;
pub use quota::Rates;
pub use tried::Tried;

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
    pub(crate) fn full_jitter(&self, n: u32) -> Duration {
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
    limiters: [Gate; QuotaClass::ALL.len()],
    pacers: Arc<Pacers>,
    /// Requests under way at once, per service ([`Retrier::admit`]).
    requests: [Gate; 2],
    /// Per service, when its quota was starved as the invocation began
    /// ([`pace::Strain`]): its calls go one at a time, in priority order.
    one_at_a_time: [Option<Gate>; 2],
    /// This invocation's calls and throttles, per class.
    spent: [(AtomicU32, AtomicU32); QuotaClass::ALL.len()],
    started: Instant,
}

fn service_index(service: Service) -> usize {
    usize::from(service == Service::Iot)
}

/// What a call holds while it is sent.
struct Turn<'g> {
    single: Option<gate::Pass<'g>>,
    _room: gate::Pass<'g>,
}

/// Requests of a starved service under way at once in one invocation: the
/// second has its reads answered while the first waits on a throttle, and
/// its calls go only when the first has none waiting.
const STARVED_REQUESTS: usize = 2;

/// How long a starved service's throttled call waits (half to one and a
/// half times this) before it is sent again.
const STARVED_RETRY: Duration = Duration::from_millis(200);

/// Calls a request needs before its first version settles, at the least:
/// a read or two of the package, a check, the delete.
const CALLS_TO_SETTLE: f64 = 4.0;

/// The classes a request of `service` spends its calls in.
fn classes(service: Service) -> &'static [QuotaClass] {
    match service {
        Service::CodeArtifact => &[QuotaClass::CodeArtifactList, QuotaClass::CodeArtifactWrite],
        Service::Iot => &[
            QuotaClass::IotRead,
            QuotaClass::IotSearch,
            QuotaClass::IotWrite,
        ],
    }
}

/// How many requests of `service` may be under way at once: as many as
/// the slowest of its classes, at the rate the pacers have learned, can
/// bring to a first settled version before `budget` is spent (at least
/// one, at most `concurrency`). The rest wait their turn untouched.
pub(crate) fn requests_at_once(
    pacers: &Pacers,
    service: Service,
    budget: Duration,
    concurrency: usize,
) -> usize {
    let rate = classes(service)
        .iter()
        .map(|c| pacers.get(*c).rate())
        .fold(f64::INFINITY, f64::min);
    let fits = (rate * budget.as_secs_f64() / CALLS_TO_SETTLE).floor();
    (fits.max(1.0) as usize).min(concurrency.max(1))
}

impl Retrier {
    pub fn new(
        policy: RetryPolicy,
        cutoff: Instant,
        concurrency: usize,
        pacers: Arc<Pacers>,
    ) -> Self {
        let now = Instant::now();
        let budget = cutoff.saturating_duration_since(now);
        let starved = |s| pacers.strain(s).starved();
        let at_once = |s| match starved(s) {
            true => Gate::new(STARVED_REQUESTS),
            false => Gate::new(requests_at_once(&pacers, s, budget, concurrency)),
        };
        let single = |s| starved(s).then(|| Gate::new(1));
        Retrier {
            one_at_a_time: [single(Service::CodeArtifact), single(Service::Iot)],
            policy,
            cutoff,
            limiters: QuotaClass::ALL.map(|_| Gate::new(concurrency)),
            requests: [at_once(Service::CodeArtifact), at_once(Service::Iot)],
            spent: QuotaClass::ALL.map(|_| (AtomicU32::new(0), AtomicU32::new(0))),
            started: now,
            pacers,
        }
    }

    /// Waits for the turn of a request of `service` (in priority order):
    /// `None` when the cut-off came first, and the request was not started.
    pub(crate) async fn admit(&self, service: Service) -> Option<gate::Pass<'_>> {
        let gate = &self.requests[service_index(service)];
        tokio::time::timeout_at(self.cutoff, gate.pass(Priority::current()))
            .await
            .ok()
    }

    /// When the invocation began.
    pub(crate) fn started(&self) -> Instant {
        self.started
    }

    /// Whether `service`'s quota was starved as the invocation began (its
    /// calls go one at a time: [`pace::Strain`]).
    pub(crate) fn starved(&self, service: Service) -> bool {
        self.one_at_a_time[service_index(service)].is_some()
    }

    /// What this invocation spent its time on, for a `NO_PROGRESS` dead
    /// letter: the classes with the most calls, their throttles, and the
    /// time it had ("iot.read 14 calls, 11 throttled; iot.search 3 calls,
    /// 3 throttled; 4.5 s").
    pub(crate) fn spent(&self) -> String {
        let mut used: Vec<(QuotaClass, u32, u32)> = QuotaClass::ALL
            .iter()
            .map(|c| {
                let (calls, throttles) = &self.spent[c.index()];
                (
                    *c,
                    calls.load(Ordering::Relaxed),
                    throttles.load(Ordering::Relaxed),
                )
            })
            .filter(|(_, calls, _)| *calls > 0)
            .collect();
        used.sort_by_key(|(_, calls, throttles)| std::cmp::Reverse((*throttles, *calls)));
        let mut parts: Vec<String> = used
            .iter()
            .take(3)
            .map(|(c, calls, throttles)| format!("{c} {calls} calls, {throttles} throttled"))
            .collect();
        if parts.is_empty() {
            parts.push("no call made".into());
        }
        let budget = self.cutoff.saturating_duration_since(self.started);
        format!(
            "{}; {:.1} s to work in",
            parts.join("; "),
            budget.as_secs_f64()
        )
    }

    pub(crate) fn cutoff(&self) -> Instant {
        self.cutoff
    }

    /// Whether there is still time to start work.
    pub(crate) fn has_time(&self) -> bool {
        Instant::now() < self.cutoff
    }

    pub(crate) fn pacers(&self) -> &Pacers {
        &self.pacers
    }

    /// Waits for this call's turn to be sent: in a starved service, the
    /// invocation's one place, in priority order; then room among the
    /// class's calls in flight; then the class's next slot (so the slot is
    /// not spent waiting for room). A starved service's calls, one at a
    /// time, skip the slot: the rates of classes that share one bucket mean
    /// nothing. A throttled call of a starved service keeps its place
    /// (`held`) while it waits to be sent again, so that the calls after it
    /// wait too. `None`: the cut-off came first.
    async fn turn<'s>(
        &'s self,
        class: QuotaClass,
        held: Option<gate::Pass<'s>>,
        again: bool,
    ) -> Option<(Turn<'s>, Instant)> {
        let gate = self.one_at_a_time[service_index(class.service())]
            .as_ref()
            .filter(|_| !class.is_table());
        let single = match (gate, held) {
            (_, Some(pass)) => Some(pass),
            (Some(gate), None) => Some(
                tokio::time::timeout_at(self.cutoff, gate.pass(Priority::current()))
                    .await
                    .ok()?,
            ),
            (None, None) => None,
        };
        let pacer = self.pacers.get(class);
        let paced = async {
            let room = self.limiters[class.index()].pass(Priority::current()).await;
            match single {
                Some(_) if Instant::now() < self.cutoff => Some((room, pacer.unpaced())),
                Some(_) => None,
                None => Some((room, pacer.slot(self.cutoff).await?)),
            }
        };
        // Throttled and sent again (outside starvation): behind the calls
        // already waiting.
        let (room, sent) = match again && single.is_none() {
            true => gate::behind_all(paced).await?,
            false => paced.await?,
        };
        let (calls, _) = &self.spent[class.index()];
        calls.fetch_add(1, Ordering::Relaxed);
        Some((
            Turn {
                single,
                _room: room,
            },
            sent,
        ))
    }

    /// What a throttle does: the pacer slows (unless the service is
    /// starved: then this call waits a moment of its own, and the hint).
    fn throttled(&self, class: QuotaClass, sent: Instant, hint: Option<Duration>) -> Instant {
        let (_, throttles) = &self.spent[class.index()];
        throttles.fetch_add(1, Ordering::Relaxed);
        let starved =
            self.one_at_a_time[service_index(class.service())].is_some() && !class.is_table();
        self.pacers.get(class).throttled(sent, hint, !starved);
        match starved {
            true => {
                Instant::now()
                    + STARVED_RETRY.mul_f64(rand::rng().random_range(0.5..=1.5))
                    + hint.unwrap_or_default()
            }
            false => Instant::now(),
        }
    }

    /// When a call that failed with an error of `kind` may go again
    /// (`None`: never); a transient failure spends one of `failures`.
    fn next_try(
        &self,
        class: QuotaClass,
        kind: ErrorClass,
        sent: Instant,
        failures: &mut u32,
    ) -> Option<Instant> {
        Some(match kind {
            ErrorClass::Permanent => return None,
            ErrorClass::ThrottledWithHint(hint) => self.throttled(class, sent, Some(hint)),
            ErrorClass::Throttled => self.throttled(class, sent, None),
            ErrorClass::Transient => {
                *failures += 1;
                Instant::now() + self.policy.full_jitter(*failures)
            }
        })
    }

    /// Runs `call` until it succeeds, fails permanently, exhausts the retry
    /// budget on transient errors or runs into the cut-off. Returns the
    /// result and the number of calls made.
    pub(crate) async fn run<T, F, Fut>(&self, class: QuotaClass, mut call: F) -> Tried<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, DeleteError>>,
    {
        let strain = self.pacers.strain(class.service());
        let mut calls = 0u32;
        let mut failures = 0u32;
        let mut last: Option<Arc<DeleteError>> = None;
        let mut own_wait_until = Instant::now();
        let mut held = None;
        let mut again = false;
        loop {
            // This call's own backoff, then its turn.
            if own_wait_until >= self.cutoff {
                return Tried::new(Err(DeleteError::OutOfTime { last }), calls);
            }
            tokio::time::sleep_until(own_wait_until).await;
            let Some((turn, sent)) = self.turn(class, held.take(), again).await else {
                return Tried::new(Err(DeleteError::OutOfTime { last }), calls);
            };
            calls += 1;
            let outcome = tokio::time::timeout_at(self.cutoff, call()).await;
            let Turn { single, _room } = turn;
            drop(_room);
            let err = match outcome {
                Err(_elapsed) => return Tried::new(Err(DeleteError::OutOfTime { last }), calls),
                Ok(Ok(value)) => {
                    self.pacers.get(class).succeeded();
                    if !class.is_table() {
                        strain.record(false);
                    }
                    return Tried::new(Ok(value), calls);
                }
                Ok(Err(err)) => err,
            };
            let kind = class_of(&err);
            again = matches!(
                kind,
                ErrorClass::ThrottledWithHint(_) | ErrorClass::Throttled
            );
            if !class.is_table() {
                strain.record(again);
            }
            if again {
                held = single;
            }
            own_wait_until = match self.next_try(class, kind, sent, &mut failures) {
                Some(at) => at,
                None => return Tried::new(Err(err), calls),
            };
            tracing::debug!(%class, code = %err.code(), calls, failures, "retryable error");
            if failures >= self.policy.max_attempts {
                let last = Arc::new(err);
                return Tried::new(Err(exhausted(failures, last)), calls);
            }
            last = Some(Arc::new(err));
        }
    }
}

/// How the retry layer treats an error: an API error by its class, any
/// other as permanent.
fn class_of(err: &DeleteError) -> ErrorClass {
    match err {
        DeleteError::Api { class, .. } => *class,
        _ => ErrorClass::Permanent,
    }
}

/// The error of a call whose transient failures used up its attempts.
fn exhausted(attempts: u32, last: Arc<DeleteError>) -> DeleteError {
    DeleteError::RetriesExhausted { attempts, last }
}
