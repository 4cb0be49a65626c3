//! CodeArtifact's batched version calls: DeletePackageVersions and
//! UpdatePackageVersionsStatus, at most 100 versions a call, with the
//! versions answered `SKIPPED` sent again.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use aws_sdk_codeartifact::operation::delete_package_versions::DeletePackageVersionsError;
use aws_sdk_codeartifact::operation::update_package_versions_status::UpdatePackageVersionsStatusError;
use aws_sdk_codeartifact::types::{
    PackageVersionError, PackageVersionErrorCode, PackageVersionStatus,
};

use super::CodeArtifactAdapter;
use crate::error::DeleteError;
use crate::execute::{CallContext, Done, ItemOutcome, Revisions};
use crate::plan::Item;
use crate::request::{CodeArtifactPackage, Status, Verb};
use crate::retry::QuotaClass;
use crate::retry::Tried;

/// How often versions that CodeArtifact answered with `SKIPPED` are sent
/// again within one invocation before they are handed on.
const SKIPPED_ROUNDS: u32 = 3;

impl CodeArtifactAdapter {
    /// One call of at most 100 versions: DeletePackageVersions, or
    /// UpdatePackageVersionsStatus to the verb's status (with the planned
    /// revisions). `None` when the package is gone.
    async fn call_batch(
        &self,
        pkg: &CodeArtifactPackage,
        verb: Verb,
        expected_status: Option<&PackageVersionStatus>,
        versions: &[String],
        revisions: &Revisions,
        cx: &CallContext<'_>,
    ) -> Tried<Option<Answer>> {
        let target = match verb.target_status() {
            None => None,
            Some(Status::CodeArtifact(status)) => Some(status),
            // Validation refuses `deprecate` for CodeArtifact (`Verb::offered_by`).
            Some(Status::Iot(_)) => unreachable!("an IoT status in a CodeArtifact call"),
        };
        cx.retrier
            .run(QuotaClass::CodeArtifactWrite, || {
                let (target, expected) = (target.clone(), expected_status.cloned());
                async move {
                    match target {
                        None => self.delete_versions(pkg, expected, versions).await,
                        Some(status) => {
                            let guard: HashMap<String, String> = versions
                                .iter()
                                .filter_map(|v| Some((v.clone(), revisions.get(v)?.clone())))
                                .collect();
                            let change = (status, expected, guard);
                            self.update_status(pkg, change, versions).await
                        }
                    }
                }
            })
            .await
    }

    /// DeletePackageVersions, once.
    async fn delete_versions(
        &self,
        pkg: &CodeArtifactPackage,
        expected: Option<PackageVersionStatus>,
        versions: &[String],
    ) -> Result<Option<Answer>, DeleteError> {
        match for_package!(self.client.delete_package_versions(), pkg)
            .set_versions(Some(versions.to_vec()))
            .set_expected_status(expected)
            .send()
            .await
        {
            Ok(out) => Ok(Some(Answer::of(
                out.successful_versions(),
                out.failed_versions(),
            ))),
            Err(e) if package_not_found!(e, DeletePackageVersionsError) => Ok(None),
            Err(e) => Err(ca_error!(
                e,
                DeletePackageVersionsError,
                "DeletePackageVersions"
            )),
        }
    }

    /// UpdatePackageVersionsStatus to `target`, from `expected`, guarded by
    /// the planned revisions, once.
    async fn update_status(
        &self,
        pkg: &CodeArtifactPackage,
        (target, expected, revisions): (
            PackageVersionStatus,
            Option<PackageVersionStatus>,
            HashMap<String, String>,
        ),
        versions: &[String],
    ) -> Result<Option<Answer>, DeleteError> {
        match for_package!(self.client.update_package_versions_status(), pkg)
            .set_versions(Some(versions.to_vec()))
            .set_version_revisions((!revisions.is_empty()).then_some(revisions))
            .set_expected_status(expected)
            .target_status(target)
            .send()
            .await
        {
            Ok(out) => Ok(Some(Answer::of(
                out.successful_versions(),
                out.failed_versions(),
            ))),
            Err(e) if package_not_found!(e, UpdatePackageVersionsStatusError) => Ok(None),
            Err(e) => Err(ca_error!(
                e,
                UpdatePackageVersionsStatusError,
                "UpdatePackageVersionsStatus"
            )),
        }
    }

    /// One batch of at most 100 versions. Versions answered with `SKIPPED`
    /// (left alone because another version of the call failed) are sent
    /// again, a few rounds at most.
    pub(super) async fn batch(
        &self,
        pkg: &CodeArtifactPackage,
        request: (Verb, Option<&PackageVersionStatus>),
        batch: &[String],
        revisions: &Revisions,
        cx: &CallContext<'_>,
    ) -> Vec<ItemOutcome> {
        let (verb, expected_status) = request;
        let mut outcomes = Vec::with_capacity(batch.len());
        let mut pending: Vec<String> = batch.to_vec();
        let mut spent = 0u32;
        for round in 1..=SKIPPED_ROUNDS {
            let Tried {
                result,
                calls: attempts,
            } = self
                .call_batch(pkg, verb, expected_status, &pending, revisions, cx)
                .await;
            spent += attempts;
            let answer = match result {
                Ok(Some(answer)) => answer,
                other => {
                    let ended = other.map(|_| ());
                    outcomes.extend(unanswered(std::mem::take(&mut pending), ended, spent));
                    break;
                }
            };
            let skipped = answer.sort(verb, std::mem::take(&mut pending), spent, &mut outcomes);
            if skipped.is_empty() {
                break;
            }
            if round == SKIPPED_ROUNDS || !cx.retrier.has_time() {
                outcomes.extend(skipped.into_iter().map(|(v, message)| {
                    let e = DeleteError::VersionRefused {
                        code: PackageVersionErrorCode::Skipped,
                        message,
                    };
                    ItemOutcome::failed(Item::Version(v), Arc::new(e), spent)
                }));
                break;
            }
            pending = skipped.into_iter().map(|(v, _)| v).collect();
        }
        outcomes
    }
}

/// The pending versions of a call that got no answer: failed with its
/// error, or, when the package was not found (`Ok`), not found if this was
/// the first call (after a retry, the first call may have deleted its last
/// versions: then they are already absent).
fn unanswered(
    pending: Vec<String>,
    ended: Result<(), DeleteError>,
    spent: u32,
) -> Vec<ItemOutcome> {
    let e = match ended {
        Ok(()) => {
            let never_there = spent == 1;
            return pending
                .into_iter()
                .map(|v| match never_there {
                    true => ItemOutcome::package_not_found(Item::Version(v), spent),
                    false => ItemOutcome::done(Item::Version(v), Done::AlreadyAbsent, spent),
                })
                .collect();
        }
        Err(e) => Arc::new(e),
    };
    pending
        .into_iter()
        .map(|v| ItemOutcome::failed(Item::Version(v), e.clone(), spent))
        .collect()
}

/// What DeletePackageVersions and UpdatePackageVersionsStatus answer alike:
/// the versions that succeeded and those that failed, with their codes.
struct Answer {
    succeeded: HashSet<String>,
    failed: HashMap<String, PackageVersionError>,
}

impl Answer {
    fn of<T>(
        succeeded: Option<&HashMap<String, T>>,
        failed: Option<&HashMap<String, PackageVersionError>>,
    ) -> Answer {
        Answer {
            succeeded: succeeded
                .map(|m| m.keys().cloned().collect())
                .unwrap_or_default(),
            failed: failed.cloned().unwrap_or_default(),
        }
    }

    /// Each version's outcome; returns those to send again (`SKIPPED`, or
    /// in neither map), with the message.
    fn sort(
        &self,
        verb: Verb,
        pending: Vec<String>,
        spent: u32,
        outcomes: &mut Vec<ItemOutcome>,
    ) -> Vec<(String, String)> {
        let mut again = Vec::new();
        for v in pending {
            if self.succeeded.contains(&v) {
                outcomes.push(ItemOutcome::done(
                    Item::Version(v),
                    Done::applied(verb),
                    spent,
                ));
                continue;
            }
            let Some(err) = self.failed.get(&v) else {
                // Not accounted for by the service: try again, like SKIPPED.
                again.push((
                    v,
                    "the response named neither success nor failure".to_owned(),
                ));
                continue;
            };
            let message = err.error_message().unwrap_or_default().to_owned();
            match err.error_code() {
                Some(PackageVersionErrorCode::NotFound) => outcomes.push(ItemOutcome::done(
                    Item::Version(v),
                    Done::AlreadyAbsent,
                    spent,
                )),
                Some(PackageVersionErrorCode::Skipped) => again.push((v, message)),
                // NOT_ALLOWED, MISMATCHED_STATUS, MISMATCHED_REVISION (the
                // version changed since it was planned), ALREADY_EXISTS, and
                // codes this build does not know: refused, dead-lettered.
                code => outcomes.push(ItemOutcome::failed(
                    Item::Version(v),
                    Arc::new(DeleteError::VersionRefused {
                        code: code.cloned().unwrap_or_else(|| "UNKNOWN".into()),
                        message,
                    }),
                    spent,
                )),
            }
        }
        again
    }
}
