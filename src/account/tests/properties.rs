//! The accounting's properties: for any mix of outcomes, origins and
//! settings, every item has exactly one fate and the summary balances.

use super::*;
use crate::error::ErrorClass;
use crate::request::RawRequest;
use proptest::prelude::*;
use std::collections::BTreeSet;
use std::sync::Arc;

/// 0 deleted, 1 absent, 2 permanent (two codes), 3 throttled, 4 out of time.
fn outcome(kind: u8, code: u8) -> Result<Done, Arc<DeleteError>> {
    match kind {
        0 => Ok(Done::Deleted),
        1 => Ok(Done::AlreadyAbsent),
        2 => Err(Arc::new(DeleteError::VersionRefused {
            code: if code % 2 == 0 {
                "NOT_ALLOWED"
            } else {
                "MISMATCHED_STATUS"
            }
            .into(),
            message: "refused".into(),
        })),
        3 => Err(Arc::new(DeleteError::Api {
            service: Service::CodeArtifact,
            operation: "DeletePackageVersions",
            code: "ThrottlingException".into(),
            class: ErrorClass::Throttled,
            source: "slow".into(),
        })),
        _ => Err(Arc::new(DeleteError::OutOfTime { last: None })),
    }
}

fn origin() -> impl Strategy<Value = Origin> {
    prop_oneof![
        (any::<bool>(), 1u32..12).prop_map(|(fifo, receive_count)| Origin::Sqs {
            fifo,
            receive_count
        }),
        Just(Origin::EventBridge),
        Just(Origin::Direct),
    ]
}

fn versions_in(bodies: &[Outgoing]) -> Vec<String> {
    bodies
        .iter()
        .flat_map(|o| {
            let v: serde_json::Value = serde_json::from_str(&o.body).unwrap();
            v["versions"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s.as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        })
        .collect()
}

proptest! {
    #[test]
    fn every_item_has_exactly_one_fate_and_messages_carry_exactly_the_unfinished(
        kinds in prop::collection::vec((0u8..5, any::<u8>()), 1..60),
        origin in origin(),
        has_work_queue in any::<bool>(),
        max_attempts in 1u32..10,
        attempt in 1u32..10,
    ) {
        let versions: Vec<String> = (0..kinds.len()).map(|i| format!("1.0.{i}")).collect();
        let mut raw: RawRequest = serde_json::from_value(serde_json::json!({
            "service": "codeartifact", "domain": "acme", "repository": "releases",
            "format": "npm", "package": "web", "versions": versions})).unwrap();
        raw.attempt = Some(attempt);
        let request = raw.validate().unwrap();
        let outcomes: Vec<ItemOutcome> = versions.iter().zip(&kinds)
            .map(|(v, (k, c))| ItemOutcome { item: Item::Version(v.clone()), result: outcome(*k, *c), attempts: 1, detail: None })
            .collect();
        let unit = UnitResult { source: "m".into(), sender: None, origin, entries: vec![Entry::Executed(Box::new(RequestResult { request: Job::One(request), outcomes, plan: None, package_not_found: false, learned: false, edges_written: 0 }))] };
        let acc = account(&unit, &Settings { has_work_queue, max_attempts, no_progress_limit: 5, spent: String::new() }, SystemTime::UNIX_EPOCH);

        let mut s = Summary::default();
        s.add(&acc);
        prop_assert!(s.balanced());
        prop_assert_eq!(s.requested as usize, versions.len());
        let lined: BTreeSet<String> = acc.lines.iter().map(|l| l.item.to_string()).collect();
        prop_assert_eq!(lined.len(), versions.len(), "each item has one line");

        let by = |d: Disposition| -> BTreeSet<String> {
            acc.lines.iter().filter(|l| l.disposition == d).map(|l| l.item.to_string()).collect()
        };
        let dead: Vec<String> = versions_in(&acc.dead_letters);
        let handed: Vec<String> = versions_in(&acc.hand_ons);
        prop_assert_eq!(dead.iter().cloned().collect::<BTreeSet<_>>(), by(Disposition::DeadLettered));
        prop_assert_eq!(dead.len(), by(Disposition::DeadLettered).len(), "no version dead-lettered twice");
        if acc.redeliver {
            prop_assert!(matches!(origin, Origin::Sqs { .. }), "only SQS records are redelivered");
            prop_assert!(acc.dead_letters.is_empty() && acc.hand_ons.is_empty());
        } else {
            prop_assert_eq!(handed.iter().cloned().collect::<BTreeSet<_>>(), by(Disposition::HandedOn));
        }
        // Deleted and absent versions are never sent anywhere.
        for v in dead.iter().chain(&handed) {
            prop_assert!(!by(Disposition::Deleted).contains(v) && !by(Disposition::AlreadyAbsent).contains(v));
        }
        if matches!(origin, Origin::Sqs { fifo: true, .. }) {
            prop_assert!(acc.hand_ons.is_empty(), "FIFO work is never re-enqueued");
        }
    }
}
