//! The policy path's pure parts: what the planner is given.

use super::*;
use crate::plan::Listed;
use crate::request::{Job, RawRequest};

/// An IoT policy request on `fw`, with or without `unsetDefaultVersion`.
fn request(unset: bool) -> Request {
    let raw: RawRequest = serde_json::from_value(serde_json::json!({
        "service": "iot", "package": "fw", "unsetDefaultVersion": unset,
        "policy": {"keepLatest": 1}
    }))
    .expect("a request");
    match raw.validate_job().expect("valid") {
        Job::One(r) => r,
        other => panic!("one package: {other:?}"),
    }
}

/// The IoT default version is the planner's to keep unless the request
/// unsets it: then it may go like any other version.
#[test]
fn the_default_version_stays_unless_the_request_unsets_it() {
    let listing = Listing {
        versions: vec![
            Listed::new("3", 0),
            Listed::new("2", 1),
            Listed::new("1", 2),
        ],
        default_version: Some("2".into()),
        missing: false,
    };
    for (unset, selected, default_kept) in [(false, vec!["1"], true), (true, vec!["1", "2"], false)]
    {
        let request = request(unset);
        let Action::Retain(retention) = &request.action else {
            panic!("a policy")
        };
        let reads = TableReads {
            downloads: None,
            archives: None,
            dependents: None,
        };
        let Selection {
            selected: go, keep, ..
        } = select(&request, retention, &listing, &reads);
        assert_eq!(go, selected, "unsetDefaultVersion {unset}");
        let kept = keep.iter().any(|k| k.rule == KeepRule::DefaultVersion);
        assert_eq!(kept, default_kept, "unsetDefaultVersion {unset}");
    }
}
