//! The CodeArtifact adapter alone, against the SDK's mocks: what each call
//! sends and how each answer becomes an outcome.

use std::sync::{Arc, Mutex};

use aws_config::retry::RetryConfig;
use aws_sdk_codeartifact::operation::delete_package_versions::DeletePackageVersionsOutput;
use aws_sdk_codeartifact::operation::describe_package_version::{
    DescribePackageVersionError, DescribePackageVersionOutput,
};
use aws_sdk_codeartifact::operation::update_package_versions_status::UpdatePackageVersionsStatusOutput;
use aws_sdk_codeartifact::types::error::ResourceNotFoundException;
use aws_sdk_codeartifact::types::{
    PackageVersionDescription, PackageVersionError, PackageVersionErrorCode, ResourceType,
    SuccessfulPackageVersionInfo,
};
use aws_smithy_mocks::{mock, mock_client, Rule, RuleMode};

use super::*;
use crate::execute::testing::with_cx;

fn adapter(rules: &[&Rule]) -> CodeArtifactAdapter {
    CodeArtifactAdapter::new(mock_client!(
        aws_sdk_codeartifact,
        RuleMode::MatchAny,
        rules,
        |c| c.retry_config(RetryConfig::disabled())
    ))
}

fn package() -> CodeArtifactPackage {
    CodeArtifactPackage {
        domain: "acme".into(),
        domain_owner: None,
        repository: "releases".into(),
        format: Format::Npm,
        namespace: Some("acme".into()),
        package: "web".into(),
    }
}

#[tokio::test]
async fn versions_go_in_calls_of_at_most_one_hundred_and_each_answer_is_its_outcome() {
    let sizes = Arc::new(Mutex::new(Vec::new()));
    let seen = sizes.clone();
    let delete = mock!(aws_sdk_codeartifact::Client::delete_package_versions)
        .match_requests(|r| r.namespace() == Some("acme") && r.format().is_some())
        .then_compute_output(move |r| {
            seen.lock().unwrap().push(r.versions().len());
            let mut out = DeletePackageVersionsOutput::builder();
            for v in r.versions() {
                out = match v.as_str() {
                    "1.0.7" => out.failed_versions(
                        v,
                        PackageVersionError::builder()
                            .error_code(PackageVersionErrorCode::NotAllowed)
                            .error_message("no")
                            .build(),
                    ),
                    _ => {
                        out.successful_versions(v, SuccessfulPackageVersionInfo::builder().build())
                    }
                };
            }
            out.build()
        });
    let ca = adapter(&[&delete]);
    let versions: Vec<String> = (0..150).map(|i| format!("1.0.{i}")).collect();
    let how = (Verb::Delete, None);
    let outcomes = with_cx(async |cx| {
        let act = Act::Versions(&versions);
        ca.apply(&package(), how, act, &Revisions::new(), cx).await
    })
    .await;
    let mut sizes = sizes.lock().unwrap().clone();
    sizes.sort();
    assert_eq!(sizes, vec![50, 100]);
    assert_eq!(outcomes.len(), 150);
    let refused: Vec<_> = outcomes.iter().filter(|o| o.result.is_err()).collect();
    assert_eq!(refused.len(), 1);
    assert_eq!(refused[0].item, Item::Version("1.0.7".into()));
    assert!(outcomes
        .iter()
        .filter(|o| o.result.is_ok())
        .all(|o| o.result.as_ref().unwrap() == &Done::Deleted && o.attempts == 1));
}

#[tokio::test]
async fn a_status_change_sends_the_target_status_and_the_planned_revisions() {
    let update = mock!(aws_sdk_codeartifact::Client::update_package_versions_status)
        .match_requests(|r| {
            r.target_status() == Some(&PackageVersionStatus::Archived)
                && r.version_revisions()
                    .is_some_and(|m| m.get("1.0.0").map(String::as_str) == Some("rev-1"))
        })
        .then_output(|| {
            UpdatePackageVersionsStatusOutput::builder()
                .successful_versions("1.0.0", SuccessfulPackageVersionInfo::builder().build())
                .build()
        });
    let ca = adapter(&[&update]);
    let versions = vec!["1.0.0".to_owned()];
    let revisions = Revisions::from([("1.0.0".to_owned(), "rev-1".to_owned())]);
    let outcomes = with_cx(async |cx| {
        let how = (Verb::Archive, None);
        ca.apply(&package(), how, Act::Versions(&versions), &revisions, cx)
            .await
    })
    .await;
    assert_eq!(update.num_calls(), 1);
    assert_eq!(outcomes[0].result.as_ref().unwrap(), &Done::Archived);
}

#[tokio::test]
async fn a_lost_answer_is_settled_by_reading_the_version_again() {
    let gone = mock!(aws_sdk_codeartifact::Client::describe_package_version)
        .match_requests(|r| r.package_version() == Some("1.0.0"))
        .then_error(|| {
            DescribePackageVersionError::ResourceNotFoundException(
                ResourceNotFoundException::builder()
                    .message("no such version")
                    .resource_type(ResourceType::PackageVersion)
                    .build()
                    .expect("a message"),
            )
        });
    let archived = mock!(aws_sdk_codeartifact::Client::describe_package_version)
        .match_requests(|r| r.package_version() == Some("2.0.0"))
        .then_output(|| {
            DescribePackageVersionOutput::builder()
                .package_version(
                    PackageVersionDescription::builder()
                        .version("2.0.0")
                        .status(PackageVersionStatus::Archived)
                        .build(),
                )
                .build()
        });
    let ca = adapter(&[&gone, &archived]);
    let pkg = package();
    let (deleted, unlisted, archived_now) = with_cx(async |cx| {
        (
            ca.settled(&pkg, "1.0.0", Verb::Delete, cx).await,
            ca.settled(&pkg, "2.0.0", Verb::Unlist, cx).await,
            ca.settled(&pkg, "2.0.0", Verb::Archive, cx).await,
        )
    })
    .await;
    assert_eq!(deleted.result.unwrap(), Some(Done::Deleted));
    assert_eq!(deleted.calls, 1);
    assert_eq!(unlisted.result.unwrap(), None, "Archived is not Unlisted");
    assert_eq!(archived_now.result.unwrap(), Some(Done::Archived));
}
