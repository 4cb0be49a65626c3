//! The rate controller: calls are paced to the API's quota, not fired and
//! bounced.
//!
//! One [`Pacer`] per quota class ([`QuotaClass`]), shared by every task of an
//! invocation (and kept by a warm execution environment, so the next
//! invocation starts from the rate the last one learned):
//!
//! - **Pacing.** Every call waits for its slot before it is sent. Slots are
//!   `1 / rate` apart and handed out first come, first served: the waiters
//!   queue on a fair lock and the one holding it sleeps until its slot, so
//!   they wake one by one, never as a herd.
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

use crate::request::Service;

/// Each success raises the rate by this fraction of the quota per second of
/// successes (10% a second).
pub const INCREASE_PER_SECOND: f64 = 0.10;
/// A throttle multiplies the rate by this, once per round.
pub const DECREASE: f64 = 0.8;
/// The rate never exceeds this many times the configured quota, so that a
/// raised account quota is found but a wrong one is not chased far.
pub const MAX_FACTOR: f64 = 2.0;
/// A throttle cuts the rate at most once in this long: the calls of
/// several invocations sharing one bucket arrive out of phase with its
/// tokens, and an empty bucket throttles some even below the quota; cutting
/// on each would spiral the rate down.
pub const ROUND: Duration = Duration::from_secs(1);
/// How long without a throttle before the rate grows by [`CALM_GROWTH`].
pub const CALM: Duration = Duration::from_secs(2);
/// In calm, each second of successes raises the rate by this fraction of
/// itself.
pub const CALM_GROWTH: f64 = 1.0;
/// The slowest pace, calls per second.
pub const MIN_RATE: f64 = 0.2;
/// After a quiet spell, this long's worth of calls at the current rate may
/// be sent at once: the services' quotas are token buckets holding (at the
/// least) a second's worth of tokens, and a run that waits for its slots
/// from the first call leaves them unspent.
pub const BURST: Duration = Duration::from_secs(1);

/// A quota the service enforces on a group of operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum QuotaClass {
    /// DeletePackageVersions, DeletePackage, UpdatePackageVersionsStatus:
    /// CodeArtifact's "write requests per second, one account".
    CodeArtifactWrite,
    /// ListPackageVersions, ListPackages.
    CodeArtifactList,
    /// DescribePackageVersion: "read requests per second, one account".
    CodeArtifactRead,
    /// DeletePackageVersion, DeletePackage, UpdatePackage.
    IotWrite,
    /// GetPackage, ListPackageVersions, ListPackages.
    IotRead,
}

impl QuotaClass {
    pub const ALL: [QuotaClass; 5] = [
        QuotaClass::CodeArtifactWrite,
        QuotaClass::CodeArtifactList,
        QuotaClass::CodeArtifactRead,
        QuotaClass::IotWrite,
        QuotaClass::IotRead,
    ];

    pub fn service(self) -> Service {
        match self {
            QuotaClass::CodeArtifactWrite
            | QuotaClass::CodeArtifactList
            | QuotaClass::CodeArtifactRead => Service::CodeArtifact,
            QuotaClass::IotWrite | QuotaClass::IotRead => Service::Iot,
        }
    }

    /// The class of the service's deletes and status changes.
    pub fn is_write(self) -> bool {
        matches!(self, QuotaClass::CodeArtifactWrite | QuotaClass::IotWrite)
    }

    /// The name used in `RATE_LIMITS` and in metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            QuotaClass::CodeArtifactWrite => "codeartifact.write",
            QuotaClass::CodeArtifactList => "codeartifact.list",
            QuotaClass::CodeArtifactRead => "codeartifact.read",
            QuotaClass::IotWrite => "iot.write",
            QuotaClass::IotRead => "iot.read",
        }
    }

    pub fn parse(s: &str) -> Option<QuotaClass> {
        QuotaClass::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// The default quota, calls per second per account. CodeArtifact's are
    /// the published defaults (100 writes, 200 list calls, 800 reads). IoT
    /// publishes no rate for the software package catalog's APIs; 10 a
    /// second is a safe guess, to be raised in `RATE_LIMITS` where the
    /// account's Service Quotas say more.
    pub fn default_rate(self) -> f64 {
        match self {
            QuotaClass::CodeArtifactWrite => 100.0,
            QuotaClass::CodeArtifactList => 200.0,
            QuotaClass::CodeArtifactRead => 800.0,
            QuotaClass::IotWrite | QuotaClass::IotRead => 10.0,
        }
    }

    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

impl std::fmt::Display for QuotaClass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The quotas (calls per second, per account) of every class.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rates([f64; 5]);

impl Default for Rates {
    fn default() -> Self {
        Rates(QuotaClass::ALL.map(QuotaClass::default_rate))
    }
}

impl Rates {
    pub fn get(&self, class: QuotaClass) -> f64 {
        self.0[class.index()]
    }

    pub fn set(&mut self, class: QuotaClass, rate: f64) {
        self.0[class.index()] = rate;
    }
}

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
pub struct Pacer {
    class: QuotaClass,
    control: Mutex<Control>,
    /// The next free slot. A fair (FIFO) lock: its holder sleeps until its
    /// slot, the others queue behind it.
    next_slot: tokio::sync::Mutex<Instant>,
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
    pub fn new(class: QuotaClass, quota: f64, shared_by: u32) -> Self {
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
            next_slot: tokio::sync::Mutex::new(now),
            calls: AtomicU64::new(0),
            throttles: AtomicU64::new(0),
        }
    }

    fn control(&self) -> std::sync::MutexGuard<'_, Control> {
        self.control.lock().expect("pacer lock")
    }

    pub fn rate(&self) -> f64 {
        self.control().rate
    }

    pub fn stats(&self) -> PaceStats {
        PaceStats {
            class: self.class,
            rate: self.rate(),
            calls: self.calls.load(Ordering::Relaxed),
            throttles: self.throttles.load(Ordering::Relaxed),
        }
    }

    /// Waits for this call's slot. Returns the instant it may be sent, or
    /// `None` (without waiting) when that slot lies at or past `cutoff`.
    pub async fn slot(&self, cutoff: Instant) -> Option<Instant> {
        let mut next = self.next_slot.lock().await;
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
            let due = (*next).max(floor);
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
            *next = due.max(at) + gap;
            self.calls.fetch_add(1, Ordering::Relaxed);
            return Some(at);
        }
    }

    /// A call succeeded: additive increase, or calm growth. Either is
    /// spread over the successes of a second (there are `rate` of them).
    pub fn succeeded(&self) {
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
    /// per round, and a hold for a `Retry-After`.
    pub fn throttled(&self, sent: Instant, retry_after: Option<Duration>) {
        self.throttles.fetch_add(1, Ordering::Relaxed);
        let mut c = self.control();
        let now = Instant::now();
        c.last_throttle = now;
        if sent >= c.last_cut && now - c.last_cut >= ROUND {
            c.rate = (c.rate * DECREASE).max(MIN_RATE);
            c.last_cut = now;
        }
        c.credit_floor = c.credit_floor.max(now + BURST);
        if let Some(wait) = retry_after {
            c.hold_until = c.hold_until.max(now + wait);
        }
    }
}

/// One pacer per quota class, shared by every task.
#[derive(Debug)]
pub struct Pacers([Pacer; 5]);

impl Pacers {
    /// Pacers for `rates`, each starting at its share when `shared_by`
    /// invocations run at once.
    pub fn new(rates: &Rates, shared_by: u32) -> Self {
        Pacers(QuotaClass::ALL.map(|c| Pacer::new(c, rates.get(c), shared_by)))
    }

    pub fn get(&self, class: QuotaClass) -> &Pacer {
        &self.0[class.index()]
    }

    pub fn stats(&self) -> Vec<PaceStats> {
        self.0.iter().map(Pacer::stats).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `n` tasks asking `p` for a slot at once: their slots, from `start`,
    /// sorted, and whether they woke in turn.
    async fn ask(p: &std::sync::Arc<Pacer>, n: usize) -> (Vec<Duration>, bool) {
        let start = Instant::now();
        let far = start + Duration::from_secs(60);
        let order = std::sync::Arc::new(Mutex::new(Vec::new()));
        let tasks: Vec<_> = (0..n)
            .map(|i| {
                let (p, order) = (p.clone(), order.clone());
                tokio::spawn(async move {
                    let at = p.slot(far).await.unwrap();
                    order.lock().unwrap().push((i, Instant::now()));
                    at
                })
            })
            .collect();
        let mut slots = Vec::new();
        for t in tasks {
            slots.push(t.await.unwrap() - start);
        }
        slots.sort();
        let woken = order.lock().unwrap().clone();
        let in_turn = woken.windows(2).all(|w| w[1].1 >= w[0].1);
        (slots, in_turn)
    }

    fn ms(v: &[u64]) -> Vec<Duration> {
        v.iter().map(|&m| Duration::from_millis(m)).collect()
    }

    #[tokio::test(start_paused = true)]
    async fn a_seconds_burst_then_slots_paced_first_come_first_served() {
        let p = std::sync::Arc::new(Pacer::new(QuotaClass::IotWrite, 10.0, 1));
        let (slots, in_turn) = ask(&p, 14).await;
        // A second's worth (and the one due now) at once, then 100 ms apart.
        let mut want = vec![0; 11];
        want.extend([100, 200, 300]);
        assert_eq!(slots, ms(&want));
        assert!(in_turn);
        assert_eq!(p.stats().calls, 14);
        // Busy, the pacer has no credit left: the next calls keep the pace.
        let (slots, _) = ask(&p, 2).await;
        assert_eq!(slots, ms(&[100, 200]));
    }

    #[tokio::test(start_paused = true)]
    async fn a_throttle_clears_the_burst_credit() {
        let p = std::sync::Arc::new(Pacer::new(QuotaClass::IotWrite, 10.0, 1));
        tokio::time::advance(Duration::from_secs(5)).await;
        p.throttled(Instant::now() - Duration::from_secs(5), None);
        // Cut to 8/s, and no burst: one slot now, then 125 ms apart.
        let (slots, in_turn) = ask(&p, 4).await;
        assert_eq!(slots, ms(&[0, 125, 250, 375]));
        assert!(in_turn);
        // After a quiet spell the credit is back.
        tokio::time::advance(Duration::from_secs(3)).await;
        let (slots, _) = ask(&p, 4).await;
        assert_eq!(slots, ms(&[0, 0, 0, 0]));
    }

    #[tokio::test(start_paused = true)]
    async fn a_burst_of_throttles_cuts_the_rate_once() {
        let p = Pacer::new(QuotaClass::IotWrite, 10.0, 1);
        let sent = Instant::now();
        tokio::time::advance(Duration::from_millis(5)).await;
        for _ in 0..8 {
            p.throttled(sent, None);
        }
        assert!((p.rate() - 8.0).abs() < 1e-9, "{}", p.rate());
        // A call sent after the cut but within the round does not cut again;
        // one a round later does.
        tokio::time::advance(Duration::from_millis(5)).await;
        p.throttled(Instant::now(), None);
        assert!((p.rate() - 8.0).abs() < 1e-9, "{}", p.rate());
        tokio::time::advance(ROUND).await;
        p.throttled(Instant::now(), None);
        assert!((p.rate() - 6.4).abs() < 1e-9, "{}", p.rate());
        assert_eq!(p.stats().throttles, 10);
    }

    #[tokio::test(start_paused = true)]
    async fn a_share_grows_by_a_tenth_of_the_whole_quota_a_second() {
        // A third of a 30/s quota: 10/s, growing by 3/s a second.
        let p = Pacer::new(QuotaClass::IotWrite, 30.0, 3);
        assert_eq!(p.rate(), 10.0);
        for _ in 0..10 {
            p.succeeded();
        }
        assert!((12.5..13.1).contains(&p.rate()), "{}", p.rate());
    }

    #[tokio::test(start_paused = true)]
    async fn successes_raise_the_rate_by_a_tenth_of_the_quota_a_second() {
        let p = Pacer::new(QuotaClass::IotWrite, 10.0, 1);
        // Ten successes at 10/s are a second's worth: about +1/s.
        for _ in 0..10 {
            p.succeeded();
        }
        assert!((p.rate() - 11.0).abs() < 0.05, "{}", p.rate());
        for _ in 0..10_000 {
            p.succeeded();
        }
        assert_eq!(p.rate(), 20.0, "capped at twice the quota");
    }

    #[tokio::test(start_paused = true)]
    async fn in_calm_the_rate_doubles_in_a_second_until_a_throttle() {
        // A third of a 30/s quota, alone now: no throttle for the calm spell.
        let p = Pacer::new(QuotaClass::IotWrite, 30.0, 3);
        tokio::time::advance(CALM).await;
        // A second's successes at 10/s: +10/s, not the additive +3/s.
        for _ in 0..10 {
            p.succeeded();
        }
        assert!((p.rate() - 20.0).abs() < 1e-9, "{}", p.rate());
        // A throttle cuts, and growth is additive again: about +3/s over
        // the next second's (some 17) successes, not +16/s.
        p.throttled(Instant::now(), None);
        assert!((p.rate() - 16.0).abs() < 1e-9, "{}", p.rate());
        for _ in 0..17 {
            p.succeeded();
        }
        assert!((18.5..19.1).contains(&p.rate()), "{}", p.rate());
    }

    #[tokio::test(start_paused = true)]
    async fn retry_after_holds_the_class_and_the_cutoff_is_respected() {
        let p = Pacer::new(QuotaClass::CodeArtifactWrite, 100.0, 1);
        let start = Instant::now();
        p.throttled(start, Some(Duration::from_secs(2)));
        let at = p.slot(start + Duration::from_secs(60)).await.unwrap();
        assert_eq!(at - start, Duration::from_secs(2));
        // A slot at or past the cut-off is refused at once, without waiting.
        p.throttled(Instant::now(), Some(Duration::from_secs(30)));
        let before = Instant::now();
        assert_eq!(p.slot(before + Duration::from_secs(10)).await, None);
        assert_eq!(Instant::now(), before);
    }

    #[test]
    fn the_start_is_the_fair_share_of_the_quota() {
        let rates = Rates::default();
        let pacers = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap()
            .block_on(async { Pacers::new(&rates, 4) });
        assert_eq!(pacers.get(QuotaClass::CodeArtifactWrite).rate(), 25.0);
        assert_eq!(pacers.get(QuotaClass::CodeArtifactList).rate(), 50.0);
        assert_eq!(pacers.get(QuotaClass::IotWrite).rate(), 2.5);
        for c in QuotaClass::ALL {
            assert_eq!(QuotaClass::parse(c.as_str()), Some(c));
        }
    }
}
