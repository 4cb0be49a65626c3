//! Deleting: calls of at most 100 versions, every `failedVersions` code,
//! whole packages (CodeArtifact and IoT), the IoT default version, and IoT
//! client tokens stable across redeliveries.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use aws_sdk_codeartifact::operation::delete_package::DeletePackageOutput;
use aws_sdk_codeartifact::operation::delete_package_versions::DeletePackageVersionsOutput;
use aws_sdk_codeartifact::types::{
    PackageVersionError, PackageVersionErrorCode, PackageVersionStatus,
    SuccessfulPackageVersionInfo,
};
use aws_smithy_mocks::mock;
use serde_json::{json, Value};

use crate::mocks::*;
use crate::support::{invoke, sqs_event};
use crate::{ca_deletes_all, MINUTE};

#[tokio::test(start_paused = true)]
async fn versions_are_deleted_in_calls_of_at_most_one_hundred() {
    let calls = Arc::new(Mutex::new(Vec::new()));
    let ca = ca_deletes_all(calls.clone());
    let sqs = Sqs::default();
    let h = handler(&[&ca], &[], &sqs, config(true));
    let versions: Vec<String> = (0..250).map(|i| format!("1.0.{i}")).collect();
    let refs: Vec<&str> = versions.iter().map(String::as_str).collect();
    let (resp, summary) = invoke(&h, sqs_event(&[("m1", ca_request(&refs))], false), MINUTE)
        .await
        .parts();
    assert!(failures(&resp).is_empty());
    let calls = calls.lock().unwrap().clone();
    assert_eq!(
        calls
            .iter()
            .map(Vec::len)
            .collect::<Vec<_>>()
            .iter()
            .sum::<usize>(),
        250
    );
    assert_eq!(calls.len(), 3);
    assert!(calls.iter().all(|c| c.len() <= 100));
    let mut all: Vec<String> = calls.concat();
    all.sort();
    let mut expected = versions.clone();
    expected.sort();
    assert_eq!(all, expected);
    assert_eq!((summary.requested, summary.deleted), (250, 250));
    assert!(sqs.sent.lock().unwrap().is_empty());
}

#[tokio::test(start_paused = true)]
async fn every_failed_versions_code_has_its_outcome() {
    let calls = Arc::new(Mutex::new(Vec::<Vec<String>>::new()));
    let seen = calls.clone();
    let ca = mock!(aws_sdk_codeartifact::Client::delete_package_versions).then_compute_output(
        move |req| {
            seen.lock().unwrap().push(req.versions().to_vec());
            let mut out = DeletePackageVersionsOutput::builder();
            for v in req.versions() {
                let code = match v.as_str() {
                    "gone" => Some(PackageVersionErrorCode::NotFound),
                    // SKIPPED once: the second call deletes it.
                    "skipped" if seen.lock().unwrap().len() == 1 => {
                        Some(PackageVersionErrorCode::Skipped)
                    }
                    "status" => Some(PackageVersionErrorCode::MismatchedStatus),
                    "allowed" => Some(PackageVersionErrorCode::NotAllowed),
                    "exists" => Some(PackageVersionErrorCode::AlreadyExists),
                    "revision" => Some(PackageVersionErrorCode::MismatchedRevision),
                    _ => None,
                };
                out = match code {
                    Some(c) => out.failed_versions(
                        v,
                        PackageVersionError::builder()
                            .error_code(c)
                            .error_message(format!("{v} refused"))
                            .build(),
                    ),
                    None => out.successful_versions(
                        v,
                        SuccessfulPackageVersionInfo::builder()
                            .status(PackageVersionStatus::Deleted)
                            .build(),
                    ),
                };
            }
            out.build()
        },
    );
    let sqs = Sqs::default();
    let h = handler(&[&ca], &[], &sqs, config(true));
    let mut req = ca_request(&[
        "ok", "gone", "skipped", "status", "allowed", "exists", "revision",
    ]);
    req["expectedStatus"] = json!("Unlisted");
    let (resp, s) = invoke(&h, sqs_event(&[("m1", req)], false), MINUTE)
        .await
        .parts();
    assert!(failures(&resp).is_empty());
    assert_eq!(
        calls.lock().unwrap()[1],
        vec!["skipped".to_string()],
        "SKIPPED is sent again alone"
    );
    assert_eq!(
        (s.deleted, s.already_absent, s.dead_lettered, s.handed_on),
        (2, 1, 4, 0)
    );
    let dlq = sqs.dead_letters();
    let codes: BTreeMap<String, Value> = dlq
        .iter()
        .map(|m| {
            (
                m["failure"]["code"].as_str().unwrap().to_owned(),
                m["versions"].clone(),
            )
        })
        .collect();
    assert_eq!(
        codes,
        BTreeMap::from([
            ("ALREADY_EXISTS".into(), json!(["exists"])),
            ("MISMATCHED_REVISION".into(), json!(["revision"])),
            ("MISMATCHED_STATUS".into(), json!(["status"])),
            ("NOT_ALLOWED".into(), json!(["allowed"])),
        ])
    );
    assert!(dlq
        .iter()
        .all(|m| m["expectedStatus"] == "Unlisted" && m["failure"]["source"] == "m1"));
}

#[tokio::test(start_paused = true)]
async fn codeartifact_delete_package_and_missing_packages() {
    let ca_ok = mock!(aws_sdk_codeartifact::Client::delete_package)
        .match_requests(|r| r.package() == Some("legacy-tool"))
        .then_output(|| DeletePackageOutput::builder().build());
    let ca_gone = mock!(aws_sdk_codeartifact::Client::delete_package)
        .match_requests(|r| r.package() == Some("gone"))
        .then_http_response(|| {
            http_error(
                404,
                "ResourceNotFoundException",
                json!({"message": "no package", "resourceId": "gone", "resourceType": "package"}),
                &[],
            )
        });
    let no_repo = mock!(aws_sdk_codeartifact::Client::delete_package_versions)
        .then_http_response(|| http_error(404, "ResourceNotFoundException", json!({"message": "no repository", "resourceId": "releases", "resourceType": "repository"}), &[]));
    let sqs = Sqs::default();
    let h = handler(&[&ca_ok, &ca_gone, &no_repo], &[], &sqs, config(true));
    let pkg = |p: &str| json!({"service":"codeartifact","domain":"acme","repository":"releases","format":"pypi","package":p,"deletePackage":true});
    let (_, s) = invoke(
        &h,
        json!([pkg("legacy-tool"), pkg("gone"), ca_request(&["1", "2"])]),
        MINUTE,
    )
    .await
    .parts();
    assert_eq!((s.deleted, s.already_absent, s.dead_lettered), (1, 1, 2));
    let dlq = sqs.dead_letters();
    assert_eq!(dlq.len(), 1);
    assert_eq!(dlq[0]["failure"]["code"], "ResourceNotFoundException");
    assert_eq!(dlq[0]["versions"], json!(["1", "2"]));
    assert_eq!(ca_ok.num_calls(), 1);
}

#[tokio::test(start_paused = true)]
async fn the_iot_default_version_is_kept_unless_unset_is_asked_for() {
    let world = IotWorld::with(&[("fw", Some("2"), &["1", "2", "3"])]);
    let rules = world.rules();
    let sqs = Sqs::default();
    let h = handler(&[], &refs(&rules), &sqs, config(true));

    let (_, s) = invoke(
        &h,
        json!({"service":"iot","package":"fw","versions":["1","2"]}),
        MINUTE,
    )
    .await
    .parts();
    assert_eq!((s.deleted, s.dead_lettered), (1, 1));
    assert_eq!(world.versions("fw").unwrap(), vec!["2", "3"]);
    assert_eq!(
        world.default_of("fw").as_deref(),
        Some("2"),
        "nothing changed"
    );
    assert!(!world
        .calls
        .lock()
        .unwrap()
        .contains(&"UpdatePackage".to_string()));
    let dlq = sqs.dead_letters();
    assert_eq!(dlq.len(), 1);
    assert_eq!(dlq[0]["failure"]["code"], "DEFAULT_VERSION");
    assert_eq!(dlq[0]["versions"], json!(["2"]));

    let (_, s) = invoke(
        &h,
        json!({"service":"iot","package":"fw","versions":["2"],"unsetDefaultVersion":true}),
        MINUTE,
    )
    .await
    .parts();
    assert_eq!(s.deleted, 1);
    assert_eq!(world.versions("fw").unwrap(), vec!["3"]);
    let calls = world.calls.lock().unwrap().clone();
    let update = calls
        .iter()
        .position(|c| c == "UpdatePackage")
        .expect("UpdatePackage ran");
    let delete = calls
        .iter()
        .position(|c| c == "DeletePackageVersion 2")
        .expect("the version was deleted");
    assert!(update < delete, "the default is cleared first: {calls:?}");
}

#[tokio::test(start_paused = true)]
async fn iot_client_tokens_are_the_same_for_a_redelivered_message() {
    let world = IotWorld::with(&[("fw", None, &["1", "2"])]);
    let rules = world.rules();
    let sqs = Sqs::default();
    let h = handler(&[], &refs(&rules), &sqs, config(true));
    let event = sqs_event(
        &[(
            "m-42",
            json!({"service":"iot","package":"fw","versions":["1"]}),
        )],
        false,
    );
    invoke(&h, event.clone(), MINUTE).await;
    world
        .packages
        .lock()
        .unwrap()
        .get_mut("fw")
        .unwrap()
        .1
        .insert("1".into());
    invoke(&h, event, MINUTE).await;
    let tokens = world.tokens.lock().unwrap().clone();
    assert_eq!(tokens.len(), 2);
    assert_eq!(tokens[0], tokens[1]);
    assert_eq!(tokens[0].len(), 36);
}

#[tokio::test(start_paused = true)]
async fn iot_delete_package_pages_through_versions_then_deletes_the_package() {
    let versions: Vec<String> = (0..230).map(|i| format!("0.{i}")).collect();
    let vrefs: Vec<&str> = versions.iter().map(String::as_str).collect();
    let world = IotWorld::with(&[("fw", Some("0.7"), &vrefs), ("kept", Some("1"), &["1"])]);
    let rules = world.rules();
    let sqs = Sqs::default();
    let h = handler(&[], &refs(&rules), &sqs, config(true));

    // Without unsetDefaultVersion nothing is touched.
    let (_, s) = invoke(
        &h,
        json!({"service":"iot","package":"kept","deletePackage":true}),
        MINUTE,
    )
    .await
    .parts();
    assert_eq!(s.dead_lettered, 1);
    assert_eq!(world.versions("kept").unwrap(), vec!["1"]);
    assert_eq!(sqs.dead_letters()[0]["failure"]["code"], "DEFAULT_VERSION");
    assert_eq!(sqs.dead_letters()[0]["deletePackage"], true);

    let (resp, s) = invoke(
        &h,
        json!({"service":"iot","package":"fw","deletePackage":true,"unsetDefaultVersion":true}),
        MINUTE,
    )
    .await
    .parts();
    assert_eq!((s.requested, s.deleted), (1, 1), "{resp}");
    assert_eq!(world.versions("fw"), None);
    let calls = world.calls.lock().unwrap().clone();
    assert_eq!(
        calls.iter().filter(|c| *c == "ListPackageVersions").count(),
        3 + 1
    );
    assert_eq!(
        calls
            .iter()
            .filter(|c| c.starts_with("DeletePackageVersion"))
            .count(),
        230
    );

    // A redelivery finds nothing left: already absent, not a failure.
    let (_, s) = invoke(
        &h,
        json!({"service":"iot","package":"fw","deletePackage":true,"unsetDefaultVersion":true}),
        MINUTE,
    )
    .await
    .parts();
    assert_eq!(s.already_absent, 1);
}
