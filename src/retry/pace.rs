//! The rate controller: calls are paced to the API's quota, not fired and
//! bounced.
//!
//! One [`Pacer`] per quota class ([`QuotaClass`]), shared by every task of an
//! invocation (and kept by a warm execution environment, so the next
//! invocation starts from the rate the last one learned):
//!
//! - **Pacing.** Every call waits for its slot before it is sent. Slots are
//!   `1 / rate` apart and handed out in [`Priority`] order (first come,
//!   first served among equals): the waiters queue on a [`Gate`] of one
//!   place and the one holding it sleeps until its slot, so they wake one
//!   by one, never as a herd, and the first request's calls go first.
//! - **Burst.** After a quiet spell, up to [`BURST`] worth of slots may go at
//!   once (a GCRA tolerance), as the services' token buckets allow; the
//!   first throttle clears what is left of it.
//! - **Additive increase.** Each success raises the rate by
//!   [`INCREASE_PER_SECOND`] of the configured quota (not of this
//!   invocation's share) per second of successful calls, up to
//!   [`MAX_FACTOR`] times the quota.
//! - **Calm growth.** Once no call of the class has been throttled for
//!   [`CALM`], successes raise the rate by [`CALM_GROWTH`] of itself a
//!   second instead: an invocation left alone when the others finish finds
//!   the whole quota in a second or two, not in many. (Sending over the
//!   quota costs throttled calls, not deletions a second: the service's
//!   bucket runs dry either way. Sending under it wastes its tokens.)
//! - **Multiplicative decrease.** A throttle cuts the rate by
//!   [`DECREASE`], at most once per [`ROUND`]: throttles of calls sent
//!   before the last cut were answered to the old rate, and an emptied
//!   bucket throttles a few calls even below the quota for a while; cutting
//!   on each would spiral the rate down.
//! - **Hold.** A `Retry-After` (CodeArtifact) holds the whole class until it
//!   has passed.
//!
//! A throttle spends time, not attempts: the retry layer sends the call again
//! at its next slot, and only the deadline bounds it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use super::gate::{Gate, Priority};
use super::quota::{QuotaClass, Rates};
use crate::request::Service;

#[cfg(test)]
mod tests;

/// Each success raises the rate by this fraction of the quota per second of
/// successes (10% a second).
pub(crate) const INCREASE_PER_SECOND: f64 = 0.10;
/// A throttle multiplies the rate by this, once per round.
pub(crate) const DECREASE: f64 = 0.8;
/// The rate never exceeds this many times the configured quota, so that a
/// raised account quota is found but a wrong one is not chased far.
pub(crate) const MAX_FACTOR: f64 = 2.0;
/// A throttle cuts the rate at most once in this long: the calls of
/// several invocations sharing one bucket arrive out of phase with its
/// tokens, and an empty bucket throttles some even below the quota; cutting
/// on each would spiral the rate down.
pub(crate) const ROUND: Duration = Duration::from_secs(1);
/// How long without a throttle before the rate grows by [`CALM_GROWTH`].
pub(crate) const CALM: Duration = Duration::from_secs(2);
/// In calm, each second of successes raises the rate by this fraction of
/// itself.
pub(crate) const CALM_GROWTH: f64 = 1.0;
/// The slowest pace, calls per second.
pub(crate) const MIN_RATE: f64 = 0.2;
/// After a quiet spell, this long's worth of calls at the current rate may
/// be sent at once: the services' quotas are token buckets holding (at the
/// least) a second's worth of tokens, and a run that waits for its slots
/// from the first call leaves them unspent.
pub(crate) const BURST: Duration = Duration::from_secs(1);

#[derive(Debug)]
struct Control {
    rate: f64,
    /// The configured quota (not this invocation's share): the unit of the
    /// additive increase.
    quota: f64,
    max: f64,
    /// When the rate was last cut; throttles of calls sent before it do not
    /// cut again.
    last_cut: Instant,
    /// When a call of this class was last throttled (or the pacer made).
    last_throttle: Instant,
    /// No call of this class is sent before this (a `Retry-After`).
    hold_until: Instant,
    /// The next slot is never earlier than this less [`BURST`]: a throttle
    /// moves it to `BURST` past its arrival, so that no burst credit
    /// outlives the throttle.
    credit_floor: Instant,
}

/// The pace of one quota class.
#[derive(Debug)]
pub(crate) struct Pacer {
    class: QuotaClass,
    control: Mutex<Control>,
    /// Who waits for the next slot: its holder sleeps until its slot, the
    /// others queue behind it in priority order.
    turn: Gate,
    /// The next free slot.
    next_slot: Mutex<Instant>,
    calls: AtomicU64,
    throttles: AtomicU64,
}

/// What a pacer has seen, for metrics and the benchmark.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PaceStats {
    pub class: QuotaClass,
    pub rate: f64,
    pub calls: u64,
    pub throttles: u64,
}

impl Pacer {
    /// A pacer for `quota` calls per second, of which this invocation's
    /// fair share is `quota / shared_by`.
    pub(crate) fn new(class: QuotaClass, quota: f64, shared_by: u32) -> Self {
        let quota = quota.max(MIN_RATE);
        let start = (quota / f64::from(shared_by.max(1))).max(MIN_RATE);
        let now = Instant::now();
        Pacer {
            class,
            control: Mutex::new(Control {
                rate: start,
                quota,
                max: quota * MAX_FACTOR,
                last_cut: now.checked_sub(ROUND).unwrap_or(now),
                last_throttle: now,
                hold_until: now,
                credit_floor: now,
            }),
            turn: Gate::new(1),
            next_slot: Mutex::new(now),
            calls: AtomicU64::new(0),
            throttles: AtomicU64::new(0),
        }
    }

    fn control(&self) -> std::sync::MutexGuard<'_, Control> {
        self.control.lock().expect("pacer lock")
    }

    pub(crate) fn rate(&self) -> f64 {
        self.control().rate
    }

    pub(crate) fn stats(&self) -> PaceStats {
        PaceStats {
            class: self.class,
            rate: self.rate(),
            calls: self.calls.load(Ordering::Relaxed),
            throttles: self.throttles.load(Ordering::Relaxed),
        }
    }

    /// Waits for this call's slot. Returns the instant it may be sent, or
    /// `None` (without waiting) when that slot lies at or past `cutoff`.
    pub(crate) async fn slot(&self, cutoff: Instant) -> Option<Instant> {
        let _turn = self.turn.pass(Priority::current()).await;
        let mut next = *self.next_slot.lock().expect("slot lock");
        loop {
            let (hold, gap, floor) = {
                let c = self.control();
                (
                    c.hold_until,
                    Duration::from_secs_f64(1.0 / c.rate),
                    c.credit_floor,
                )
            };
            // GCRA: the theoretical slot, less the burst tolerance.
            let due = next.max(floor);
            let earliest = due.checked_sub(BURST).unwrap_or(due);
            let at = Instant::now().max(earliest).max(hold);
            if at >= cutoff {
                return None;
            }
            tokio::time::sleep_until(at).await;
            // A throttle may have set a hold while this one slept.
            if self.control().hold_until > at {
                continue;
            }
            next = due.max(at) + gap;
            *self.next_slot.lock().expect("slot lock") = next;
            self.calls.fetch_add(1, Ordering::Relaxed);
            return Some(at);
        }
    }

    /// A call sent now outside the pace (a starved service's, one at a
    /// time: [`Strain`]), counted as any other.
    pub(crate) fn unpaced(&self) -> Instant {
        self.calls.fetch_add(1, Ordering::Relaxed);
        Instant::now()
    }

    /// A call succeeded: additive increase, or calm growth. Either is
    /// spread over the successes of a second (there are `rate` of them).
    pub(crate) fn succeeded(&self) {
        let mut c = self.control();
        let additive = INCREASE_PER_SECOND * c.quota;
        let per_second = if Instant::now() - c.last_throttle >= CALM {
            additive.max(CALM_GROWTH * c.rate)
        } else {
            additive
        };
        c.rate = (c.rate + per_second / c.rate).min(c.max);
    }

    /// A call sent at `sent` was throttled: multiplicative decrease, once
    /// per round (unless `cut` is false: see [`Strain`]), and a hold for a
    /// `Retry-After`.
    pub(crate) fn throttled(&self, sent: Instant, retry_after: Option<Duration>, cut: bool) {
        self.throttles.fetch_add(1, Ordering::Relaxed);
        let mut c = self.control();
        let now = Instant::now();
        c.last_throttle = now;
        if cut && sent >= c.last_cut && now - c.last_cut >= ROUND {
            c.rate = (c.rate * DECREASE).max(MIN_RATE);
            c.last_cut = now;
        }
        c.credit_floor = c.credit_floor.max(now + BURST);
        if let Some(wait) = retry_after {
            c.hold_until = c.hold_until.max(now + wait);
        }
    }
}

/// How strained a service's quota is: the share of its recent calls that
/// were throttled, over all its classes (an exponentially weighted mean,
/// each call weighing [`STRAIN_WEIGHT`]).
///
/// Per-class pacing assumes each class has a quota of its own. Where one
/// bucket serves them all (as a service may share one across its APIs, or
/// other callers drain it), each class sees throttles it did not cause,
/// and a class that calls rarely (the deletes) is cut to nothing while the
/// reads take the tokens. Past [`STARVED`], an invocation stops trusting
/// the classes' rates: it sends the service's calls one at a time, in
/// priority order, the first request's next call first, and a throttle no
/// longer cuts a class's rate (one call at a time cannot be what overloads
/// the service).
#[derive(Debug, Default)]
pub(crate) struct Strain(Mutex<f64>);

/// Each call's weight in [`Strain`].
pub(crate) const STRAIN_WEIGHT: f64 = 0.1;
/// The strain past which an invocation goes one call at a time.
pub(crate) const STARVED: f64 = 0.5;

impl Strain {
    pub(crate) fn record(&self, throttled: bool) {
        let mut s = self.0.lock().expect("strain lock");
        *s = *s * (1.0 - STRAIN_WEIGHT) + if throttled { STRAIN_WEIGHT } else { 0.0 };
    }

    pub(crate) fn starved(&self) -> bool {
        *self.0.lock().expect("strain lock") > STARVED
    }
}

/// One pacer per quota class, shared by every task, and each service's
/// [`Strain`].
#[derive(Debug)]
pub struct Pacers([Pacer; QuotaClass::ALL.len()], [Strain; 2]);

impl Pacers {
    /// Pacers for `rates`, each starting at its share when `shared_by`
    /// invocations run at once.
    pub fn new(rates: &Rates, shared_by: u32) -> Self {
        Pacers(
            QuotaClass::ALL.map(|c| Pacer::new(c, rates.get(c), shared_by)),
            Default::default(),
        )
    }

    pub(crate) fn get(&self, class: QuotaClass) -> &Pacer {
        &self.0[class.index()]
    }

    /// The strain on `service`'s quota.
    pub(crate) fn strain(&self, service: Service) -> &Strain {
        &self.1[usize::from(service == Service::Iot)]
    }

    pub(crate) fn stats(&self) -> Vec<PaceStats> {
        self.0.iter().map(Pacer::stats).collect()
    }
}
