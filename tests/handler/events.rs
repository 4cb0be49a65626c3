//! Events: every sample in `events/` runs with its expected outcome; an
//! unrecognised event is a clear error.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_codeartifact::operation::delete_package::DeletePackageOutput;
use aws_sdk_codeartifact::operation::describe_package_version::DescribePackageVersionOutput;
use aws_sdk_codeartifact::operation::list_package_versions::ListPackageVersionsOutput as CaListVersionsOutput;
use aws_sdk_codeartifact::operation::list_packages::ListPackagesOutput as CaListPackagesOutput;
use aws_sdk_codeartifact::types::{
    PackageFormat, PackageSummary, PackageVersionDescription, PackageVersionStatus,
    PackageVersionSummary as CaVersionSummary,
};
use aws_smithy_mocks::mock;
use lambda_runtime::LambdaEvent;
use serde_json::json;

use crate::mocks::*;
use crate::support::{context, invoke, read_event};
use crate::{ca_deletes_all, MINUTE};

#[tokio::test(start_paused = true)]
async fn an_unrecognised_event_is_a_clear_error() {
    let sqs = Sqs::default();
    let h = handler(&[], &[], &sqs, config(true));
    let err = h
        .process(LambdaEvent::new(
            json!({"Records": [{"eventSource": "aws:s3"}]}),
            context(MINUTE),
        ))
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("received an object with keys [Records]"),
        "{err}"
    );
}

#[tokio::test(start_paused = true)]
async fn every_sample_event_runs_with_its_expected_outcome() {
    // (file, requested, deleted, invalid requests, ignored events). The
    // scheduled policies are dry runs: they keep everything they list.
    let expected: &[(&str, u64, u64, u64, u64)] = &[
        ("sqs-mixed-batch.json", 8, 8, 1, 0),
        ("sqs-fifo-batch.json", 2, 2, 0, 0),
        ("eventbridge-custom.json", 2, 2, 0, 0),
        ("scheduler-input.json", 4, 4, 0, 0),
        ("direct-iot.json", 1, 1, 0, 0),
        ("dead-letter-redrive.json", 1, 1, 0, 0),
        ("scheduled-codeartifact-policy.json", 30, 0, 0, 0),
        ("scheduled-iot-policy.json", 4, 0, 0, 0),
        ("codeartifact-publish-event.json", 0, 0, 0, 1),
    ];
    let mut on_disk: Vec<String> =
        std::fs::read_dir(format!("{}/events", env!("CARGO_MANIFEST_DIR")))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.ends_with(".json"))
            .collect();
    on_disk.sort();
    let mut listed: Vec<String> = expected.iter().map(|e| e.0.to_string()).collect();
    listed.sort();
    assert_eq!(
        on_disk, listed,
        "every file in events/ needs an expectation here"
    );

    for (file, requested, deleted, invalid, ignored) in expected {
        let world = IotWorld::with(&[
            ("thermostat-fw", Some("1.1.0"), &["1.0.0", "1.1.0", "1.2.0"]),
            ("sensor-fw", Some("0.2.0"), &["0.1.0", "0.2.0"]),
            (
                "gateway-fw",
                Some("3.1.0"),
                &["2.0.0", "2.1.0", "3.0.0", "3.1.0"],
            ),
        ]);
        let rules = world.rules();
        let calls = Arc::new(Mutex::new(Vec::new()));
        let ca = ca_deletes_all(calls.clone());
        let ca_pkg = mock!(aws_sdk_codeartifact::Client::delete_package)
            .then_output(|| DeletePackageOutput::builder().build());
        // A repository with one billing-svc package of 30 versions, one a
        // day, the newest 16 days old: 15 are older than 30 days.
        let ca_list = mock!(aws_sdk_codeartifact::Client::list_packages).then_output(|| {
            CaListPackagesOutput::builder()
                .packages(
                    PackageSummary::builder()
                        .format(PackageFormat::Maven)
                        .namespace("com.acme")
                        .package("billing-svc")
                        .build(),
                )
                .build()
        });
        let ca_versions =
            mock!(aws_sdk_codeartifact::Client::list_package_versions).then_output(|| {
                let mut out = CaListVersionsOutput::builder();
                for i in (0..30).rev() {
                    out = out.versions(
                        CaVersionSummary::builder()
                            .version(format!("2.{i}.0-SNAPSHOT"))
                            .status(PackageVersionStatus::Published)
                            .build()
                            .unwrap(),
                    );
                }
                out.build()
            });
        let ca_describe = mock!(aws_sdk_codeartifact::Client::describe_package_version)
            .then_compute_output(|req| {
                let i: f64 = req
                    .package_version()
                    .unwrap()
                    .split('.')
                    .nth(1)
                    .unwrap()
                    .parse()
                    .unwrap();
                let published =
                    std::time::SystemTime::now() - Duration::from_secs_f64((45.0 - i) * 86_400.0);
                DescribePackageVersionOutput::builder()
                    .package_version(
                        PackageVersionDescription::builder()
                            .published_time(published.into())
                            .build(),
                    )
                    .build()
            });
        let sqs = Sqs::default();
        let h = handler(
            &[&ca, &ca_pkg, &ca_list, &ca_versions, &ca_describe],
            &refs(&rules),
            &sqs,
            config(true),
        );
        let (resp, s) = invoke(&h, read_event(file), MINUTE).await.parts();
        assert_eq!(
            (s.requested, s.deleted, s.invalid_requests, s.ignored_events),
            (*requested, *deleted, *invalid, *ignored),
            "{file}: {s:?}"
        );
        assert_eq!(s.requested, s.deleted + s.kept, "{file}: nothing failed");
        if resp.get("batchItemFailures").is_some() {
            assert!(failures(&resp).is_empty(), "{file}");
        } else {
            assert_eq!(
                resp["deleted"], *deleted,
                "{file}: the summary is the result"
            );
        }
        if s.kept > 0 {
            let plans = resp["plans"]
                .as_array()
                .expect("a dry run returns its plan");
            assert!(!plans.is_empty(), "{file}");
            let deleted_in_plan = plans
                .iter()
                .map(|p| p["delete"].as_array().unwrap().len())
                .sum::<usize>();
            assert!(
                deleted_in_plan > 0,
                "{file}: the example plans some deletions"
            );
        }
        assert_eq!(sqs.dead_letters().len() as u64, *invalid, "{file}");
    }
}
