//! The pacer's unit tests: slots, bursts, the additive increase, calm
//! growth, the multiplicative decrease and `Retry-After` holds.

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
    p.throttled(Instant::now() - Duration::from_secs(5), None, true);
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
        p.throttled(sent, None, true);
    }
    assert!((p.rate() - 8.0).abs() < 1e-9, "{}", p.rate());
    // A call sent after the cut but within the round does not cut again;
    // one a round later does.
    tokio::time::advance(Duration::from_millis(5)).await;
    p.throttled(Instant::now(), None, true);
    assert!((p.rate() - 8.0).abs() < 1e-9, "{}", p.rate());
    tokio::time::advance(ROUND).await;
    p.throttled(Instant::now(), None, true);
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
    p.throttled(Instant::now(), None, true);
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
    p.throttled(start, Some(Duration::from_secs(2)), true);
    let at = p.slot(start + Duration::from_secs(60)).await.unwrap();
    assert_eq!(at - start, Duration::from_secs(2));
    // A slot at or past the cut-off is refused at once, without waiting.
    p.throttled(Instant::now(), Some(Duration::from_secs(30)), true);
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
