//! The IoT adapter alone, against the SDK's mocks: the default version,
//! deprecation, and a lost answer settled by a read.

use aws_config::retry::RetryConfig;
use aws_sdk_iot::operation::delete_package_version::DeletePackageVersionOutput;
use aws_sdk_iot::operation::get_package::GetPackageOutput;
use aws_sdk_iot::operation::get_package_version::{
    GetPackageVersionError, GetPackageVersionOutput,
};
use aws_sdk_iot::operation::list_package_versions::ListPackageVersionsOutput;
use aws_sdk_iot::operation::update_package::UpdatePackageOutput;
use aws_sdk_iot::operation::update_package_version::UpdatePackageVersionOutput;
use aws_sdk_iot::types::error::ResourceNotFoundException;
use aws_sdk_iot::types::{PackageVersionAction, PackageVersionStatus, PackageVersionSummary};
use aws_smithy_mocks::{mock, mock_client, Rule, RuleMode};
use aws_smithy_types::error::ErrorMetadata;

use super::*;
use crate::error::DeleteError;
use crate::execute::testing::with_cx;
use crate::plan::Item;

fn adapter(rules: &[&Rule]) -> IotAdapter {
    IotAdapter::new(mock_client!(aws_sdk_iot, RuleMode::MatchAny, rules, |c| c
        .retry_config(RetryConfig::disabled())))
}

/// The package `fw`: versions 1.0 and 2.0, 2.0 the default.
fn catalog() -> (Rule, Rule) {
    let get = mock!(aws_sdk_iot::Client::get_package).then_output(|| {
        GetPackageOutput::builder()
            .package_name("fw")
            .default_version_name("2.0")
            .build()
    });
    let list = mock!(aws_sdk_iot::Client::list_package_versions).then_output(|| {
        let summary = |v: &str| {
            PackageVersionSummary::builder()
                .package_name("fw")
                .version_name(v)
                .status(PackageVersionStatus::Published)
                .build()
        };
        ListPackageVersionsOutput::builder()
            .package_version_summaries(summary("1.0"))
            .package_version_summaries(summary("2.0"))
            .build()
    });
    (get, list)
}

#[tokio::test]
async fn the_default_version_is_deleted_only_when_the_request_unsets_it() {
    let (get, list) = catalog();
    let unset = mock!(aws_sdk_iot::Client::update_package)
        .match_requests(|r| r.unset_default_version() == Some(true))
        .then_output(|| UpdatePackageOutput::builder().build());
    let delete = mock!(aws_sdk_iot::Client::delete_package_version)
        .then_output(|| DeletePackageVersionOutput::builder().build());
    let iot = adapter(&[&get, &list, &unset, &delete]);
    let versions = vec!["2.0".to_owned()];
    let kept = with_cx(async |cx| {
        let how = (Verb::Delete, false, InUseCheck::Off);
        iot.apply("fw", how, Act::Versions(&versions), cx).await
    })
    .await;
    assert!(matches!(
        kept[0].result.as_ref().map_err(|e| e.as_ref()),
        Err(DeleteError::DefaultVersion { version, .. }) if version == "2.0"
    ));
    assert_eq!((unset.num_calls(), delete.num_calls()), (0, 0));
    let deleted = with_cx(async |cx| {
        let how = (Verb::Delete, true, InUseCheck::Off);
        iot.apply("fw", how, Act::Versions(&versions), cx).await
    })
    .await;
    assert_eq!(deleted[0].item, Item::Version("2.0".into()));
    assert_eq!(deleted[0].result.as_ref().unwrap(), &Done::Deleted);
    assert_eq!((unset.num_calls(), delete.num_calls()), (1, 1));
}

#[tokio::test]
async fn deprecate_sends_the_deprecate_action_for_each_version() {
    let deprecate = mock!(aws_sdk_iot::Client::update_package_version)
        .match_requests(|r| r.action() == Some(&PackageVersionAction::Deprecate))
        .then_output(|| UpdatePackageVersionOutput::builder().build());
    let iot = adapter(&[&deprecate]);
    let versions = vec!["1.0".to_owned(), "1.1".to_owned()];
    let outcomes = with_cx(async |cx| {
        let how = (Verb::Deprecate, false, InUseCheck::Check);
        iot.apply("fw", how, Act::Versions(&versions), cx).await
    })
    .await;
    assert_eq!(deprecate.num_calls(), 2);
    assert!(outcomes
        .iter()
        .all(|o| o.result.as_ref().ok() == Some(&Done::Deprecated)));
}

#[tokio::test]
async fn a_lost_answer_is_settled_by_reading_the_version_again() {
    let gone = mock!(aws_sdk_iot::Client::get_package_version)
        .match_requests(|r| r.version_name() == Some("1.0"))
        .then_error(|| {
            GetPackageVersionError::ResourceNotFoundException(
                ResourceNotFoundException::builder()
                    .message("gone")
                    .meta(
                        ErrorMetadata::builder()
                            .code("ResourceNotFoundException")
                            .build(),
                    )
                    .build(),
            )
        });
    let deprecated = mock!(aws_sdk_iot::Client::get_package_version)
        .match_requests(|r| r.version_name() == Some("2.0"))
        .then_output(|| {
            GetPackageVersionOutput::builder()
                .status(PackageVersionStatus::Deprecated)
                .build()
        });
    let iot = adapter(&[&gone, &deprecated]);
    let (deleted, deprecated_now, not_deleted) = with_cx(async |cx| {
        (
            iot.settled("fw", "1.0", Verb::Delete, cx).await,
            iot.settled("fw", "2.0", Verb::Deprecate, cx).await,
            iot.settled("fw", "2.0", Verb::Delete, cx).await,
        )
    })
    .await;
    assert_eq!(deleted.result.unwrap(), Some(Done::Deleted));
    assert_eq!(deprecated_now.result.unwrap(), Some(Done::Deprecated));
    assert_eq!(not_deleted.result.unwrap(), None, "still there");
}
