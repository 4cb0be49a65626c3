//! CodeArtifact: DeletePackageVersions and UpdatePackageVersionsStatus in
//! calls of at most 100 versions, and DeletePackage.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_codeartifact::operation::delete_package::DeletePackageError;
use aws_sdk_codeartifact::operation::delete_package_versions::DeletePackageVersionsError;
use aws_sdk_codeartifact::operation::describe_package_version::DescribePackageVersionError;
use aws_sdk_codeartifact::operation::list_package_versions::ListPackageVersionsError;
use aws_sdk_codeartifact::operation::list_packages::ListPackagesError;
use aws_sdk_codeartifact::operation::update_package_versions_status::UpdatePackageVersionsStatusError;
use aws_sdk_codeartifact::types::{
    PackageFormat, PackageVersionDescription, PackageVersionError, PackageVersionErrorCode,
    PackageVersionSortType, PackageVersionStatus, ResourceType,
};
use aws_sdk_codeartifact::Client;
use futures::future::join_all;

use super::{
    api_error, paginate, CallContext, Done, ItemOutcome, Listing, PackageService, Revisions,
};
use crate::error::DeleteError;
use crate::plan::{self, Item, Listed};
use crate::request::{
    Action, CodeArtifactPackage, Format, PackageRef, Request, Scope, Service, Target, Verb,
};
use crate::retry::QuotaClass;

/// Page size for the listings (the model's largest).
const PAGE_SIZE: i32 = 1000;

/// How often versions that CodeArtifact answered with `SKIPPED` are sent
/// again within one invocation before they are handed on.
const SKIPPED_ROUNDS: u32 = 3;

/// Reads the modelled `retryAfterSeconds` (the `Retry-After` header) of an
/// operation's ThrottlingException.
macro_rules! retry_after {
    ($err:expr, $op_error:ident) => {
        match $err.as_service_error() {
            Some($op_error::ThrottlingException(t)) => t
                .retry_after_seconds()
                .filter(|s| *s > 0)
                .map(|s| Duration::from_secs(s as u64)),
            _ => None,
        }
    };
}

/// Whether a ResourceNotFoundException names the package (or version): then
/// the thing to delete is already gone. A missing domain or repository is a
/// permanent error instead.
macro_rules! package_not_found {
    ($err:expr, $op_error:ident) => {
        matches!(
            $err.as_service_error(),
            Some($op_error::ResourceNotFoundException(e))
                if matches!(e.resource_type(), Some(ResourceType::Package | ResourceType::PackageVersion))
        )
    };
}

/// Sets the query members every package operation shares.
macro_rules! for_package {
    ($builder:expr, $pkg:expr) => {
        $builder
            .domain(&$pkg.domain)
            .set_domain_owner($pkg.domain_owner.clone())
            .repository(&$pkg.repository)
            .format(PackageFormat::from($pkg.format.as_str()))
            .set_namespace($pkg.namespace.clone())
            .package(&$pkg.package)
    };
}

/// An operation's error, with its `Retry-After`, as a [`DeleteError`].
macro_rules! ca_error {
    ($err:expr, $op_error:ident, $op:literal) => {{
        let hint = retry_after!($err, $op_error);
        api_error(Service::CodeArtifact, $op, $err, hint)
    }};
}

#[derive(Clone, Debug)]
pub struct CodeArtifactAdapter {
    client: Client,
}

impl CodeArtifactAdapter {
    pub fn new(client: Client) -> Self {
        CodeArtifactAdapter { client }
    }

    async fn delete_package(&self, pkg: &CodeArtifactPackage, cx: &CallContext<'_>) -> ItemOutcome {
        let (result, attempts) = cx
            .retrier
            .run(QuotaClass::CodeArtifactWrite, || async move {
                match for_package!(self.client.delete_package(), pkg).send().await {
                    Ok(_) => Ok(Done::Deleted),
                    Err(e) if package_not_found!(e, DeletePackageError) => Ok(Done::AlreadyAbsent),
                    Err(e) => Err(ca_error!(e, DeletePackageError, "DeletePackage")),
                }
            })
            .await;
        match result {
            // Not found at the first call: the package was never there. After
            // a retry, the first call may have deleted it.
            Ok(Done::AlreadyAbsent) if attempts == 1 => {
                ItemOutcome::package_not_found(Item::Package, attempts)
            }
            Ok(done) => ItemOutcome::done(Item::Package, done, attempts),
            Err(e) => ItemOutcome::failed(Item::Package, Arc::new(e), attempts),
        }
    }

    /// One call of at most 100 versions: DeletePackageVersions, or
    /// UpdatePackageVersionsStatus to the verb's status (with the planned
    /// revisions). `None` when the package is gone.
    async fn call_batch(
        &self,
        pkg: &CodeArtifactPackage,
        verb: Verb,
        expected_status: Option<&str>,
        versions: &[String],
        revisions: &Revisions,
        cx: &CallContext<'_>,
    ) -> (Result<Option<Answer>, DeleteError>, u32) {
        let expected = expected_status.map(PackageVersionStatus::from);
        cx.retrier
            .run(QuotaClass::CodeArtifactWrite, || {
                let expected = expected.clone();
                async move {
                    match verb.target_status() {
                        None => match for_package!(self.client.delete_package_versions(), pkg)
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
                        },
                        Some(status) => {
                            let guard: HashMap<String, String> = versions
                                .iter()
                                .filter_map(|v| Some((v.clone(), revisions.get(v)?.clone())))
                                .collect();
                            match for_package!(self.client.update_package_versions_status(), pkg)
                                .set_versions(Some(versions.to_vec()))
                                .set_version_revisions((!guard.is_empty()).then_some(guard))
                                .set_expected_status(expected)
                                .target_status(PackageVersionStatus::from(status))
                                .send()
                                .await
                            {
                                Ok(out) => Ok(Some(Answer::of(
                                    out.successful_versions(),
                                    out.failed_versions(),
                                ))),
                                Err(e)
                                    if package_not_found!(e, UpdatePackageVersionsStatusError) =>
                                {
                                    Ok(None)
                                }
                                Err(e) => Err(ca_error!(
                                    e,
                                    UpdatePackageVersionsStatusError,
                                    "UpdatePackageVersionsStatus"
                                )),
                            }
                        }
                    }
                }
            })
            .await
    }

    /// One batch of at most 100 versions. Versions answered with `SKIPPED`
    /// (left alone because another version of the call failed) are sent
    /// again, a few rounds at most.
    async fn batch(
        &self,
        pkg: &CodeArtifactPackage,
        request: (Verb, Option<&str>),
        batch: &[String],
        revisions: &Revisions,
        cx: &CallContext<'_>,
    ) -> Vec<ItemOutcome> {
        let (verb, expected_status) = request;
        let mut outcomes = Vec::with_capacity(batch.len());
        let mut pending: Vec<String> = batch.to_vec();
        let mut spent = 0u32;
        for round in 1..=SKIPPED_ROUNDS {
            let (result, attempts) = self
                .call_batch(pkg, verb, expected_status, &pending, revisions, cx)
                .await;
            spent += attempts;
            let answer = match result {
                Err(e) => {
                    let e = Arc::new(e);
                    outcomes.extend(
                        pending
                            .drain(..)
                            .map(|v| ItemOutcome::failed(Item::Version(v), e.clone(), spent)),
                    );
                    break;
                }
                Ok(None) => {
                    // Not found at the first call: the package was never
                    // there (after a retry, the first call may have
                    // deleted its last versions).
                    let never_there = spent == 1;
                    outcomes.extend(pending.drain(..).map(|v| match never_there {
                        true => ItemOutcome::package_not_found(Item::Version(v), spent),
                        false => ItemOutcome::done(Item::Version(v), Done::AlreadyAbsent, spent),
                    }));
                    break;
                }
                Ok(Some(answer)) => answer,
            };
            let skipped = answer.sort(verb, std::mem::take(&mut pending), spent, &mut outcomes);
            if skipped.is_empty() {
                break;
            }
            if round == SKIPPED_ROUNDS || !cx.retrier.has_time() {
                outcomes.extend(skipped.into_iter().map(|(v, message)| {
                    ItemOutcome::failed(
                        Item::Version(v),
                        Arc::new(DeleteError::VersionRefused {
                            code: PackageVersionErrorCode::Skipped,
                            message,
                        }),
                        spent,
                    )
                }));
                break;
            }
            pending = skipped.into_iter().map(|(v, _)| v).collect();
        }
        outcomes
    }
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

impl CodeArtifactAdapter {
    /// Every version, newest published first (`sortBy=PUBLISHED_TIME`).
    /// `Ok(None)` when the package does not exist.
    async fn sorted_versions(
        &self,
        pkg: &CodeArtifactPackage,
        cx: &CallContext<'_>,
    ) -> (Result<Option<Vec<Listed>>, DeleteError>, u32) {
        let mut out = Vec::new();
        let mut missing = false;
        let (listed, attempts) = paginate(
            cx,
            QuotaClass::CodeArtifactList,
            |token| async move {
                match for_package!(self.client.list_package_versions(), pkg)
                    .sort_by(PackageVersionSortType::PublishedTime)
                    .max_results(PAGE_SIZE)
                    .set_next_token(token)
                    .send()
                    .await
                {
                    Ok(page) => Ok(Some(page)),
                    Err(e) if package_not_found!(e, ListPackageVersionsError) => Ok(None),
                    Err(e) => Err(ca_error!(
                        e,
                        ListPackageVersionsError,
                        "ListPackageVersions"
                    )),
                }
            },
            |page| {
                let Some(page) = page else {
                    missing = true;
                    return None;
                };
                let display = page.default_display_version();
                for v in page.versions() {
                    out.push(Listed {
                        name: v.version().to_owned(),
                        status: v.status().as_str().to_owned(),
                        origin_type: v
                            .origin()
                            .and_then(|o| o.origin_type())
                            .map(|t| t.as_str().to_owned()),
                        rank: out.len(),
                        old: None,
                        revision: v.revision().map(str::to_owned),
                        display: display == Some(v.version()),
                    });
                }
                page.next_token().map(str::to_owned)
            },
        )
        .await;
        (listed.map(|()| (!missing).then_some(out)), attempts)
    }

    /// DescribePackageVersion: `None` when the version (or its package) is
    /// not there.
    async fn describe(
        &self,
        pkg: &CodeArtifactPackage,
        version: &str,
        cx: &CallContext<'_>,
    ) -> (Result<Option<PackageVersionDescription>, DeleteError>, u32) {
        cx.retrier
            .run(QuotaClass::CodeArtifactRead, || async move {
                match for_package!(self.client.describe_package_version(), pkg)
                    .package_version(version)
                    .send()
                    .await
                {
                    Ok(out) => Ok(out.package_version),
                    Err(e) if package_not_found!(e, DescribePackageVersionError) => Ok(None),
                    Err(e) => Err(ca_error!(
                        e,
                        DescribePackageVersionError,
                        "DescribePackageVersion"
                    )),
                }
            })
            .await
    }

    /// Whether a version was published before `cutoff`. An unknown time, or
    /// a version gone meanwhile, counts as not old.
    async fn published_before(
        &self,
        pkg: &CodeArtifactPackage,
        version: &str,
        cutoff: f64,
        cx: &CallContext<'_>,
    ) -> (Result<bool, DeleteError>, u32) {
        let (read, calls) = self.describe(pkg, version, cx).await;
        let old = read.map(|d| {
            d.and_then(|d| d.published_time)
                .is_some_and(|t| t.as_secs_f64() < cutoff)
        });
        (old, calls)
    }
}

impl PackageService for CodeArtifactAdapter {
    /// DescribePackageVersion: not found, or status `Deleted`, is gone
    /// (deleted, or absent for a status change); the verb's status is done.
    async fn settled(
        &self,
        target: &Target,
        version: &str,
        verb: Verb,
        cx: &CallContext<'_>,
    ) -> (Option<Done>, u32) {
        let Target::CodeArtifact { package: pkg, .. } = target else {
            return (None, 0);
        };
        let (read, calls) = self.describe(pkg, version, cx).await;
        let status = match read {
            Ok(Some(d)) => d.status().map(|s| s.as_str().to_owned()),
            Ok(None) => Some(PackageVersionStatus::Deleted.as_str().to_owned()),
            Err(_) => None,
        };
        let done = match status.as_deref() {
            Some("Deleted") if verb == Verb::Delete => Some(Done::Deleted),
            Some("Deleted") => Some(Done::AlreadyAbsent),
            Some(s) if Some(s) == verb.target_status() => Some(Done::applied(verb)),
            _ => None,
        };
        (done, calls)
    }

    /// The listing carries no timestamps, but it is sorted newest first, so
    /// "published before the cut-off" is false then true along it: a binary
    /// search finds the boundary with O(log n) DescribePackageVersion calls.
    async fn versions(
        &self,
        target: &Target,
        older_than: Option<f64>,
        cx: &CallContext<'_>,
    ) -> (Result<Listing, DeleteError>, u32) {
        let Target::CodeArtifact { package, .. } = target else {
            return (Ok(Listing::default()), 0);
        };
        let (listed, mut attempts) = self.sorted_versions(package, cx).await;
        let mut versions = match listed {
            Ok(Some(v)) => v,
            Ok(None) => {
                let missing = Listing {
                    missing: true,
                    ..Listing::default()
                };
                return (Ok(missing), attempts);
            }
            Err(e) => return (Err(e), attempts),
        };
        if let Some(cutoff) = older_than {
            let (mut lo, mut hi) = (0usize, versions.len());
            while lo < hi {
                let mid = lo + (hi - lo) / 2;
                let (old, n) = self
                    .published_before(package, &versions[mid].name, cutoff, cx)
                    .await;
                attempts += n;
                match old {
                    Ok(true) => hi = mid,
                    Ok(false) => lo = mid + 1,
                    Err(e) => return (Err(e), attempts),
                }
            }
            for (i, v) in versions.iter_mut().enumerate() {
                v.old = Some(i >= lo);
            }
        }
        (
            Ok(Listing {
                versions,
                default_version: None,
                missing: false,
            }),
            attempts,
        )
    }

    async fn packages(
        &self,
        scope: &Scope,
        cx: &CallContext<'_>,
    ) -> (Result<Vec<PackageRef>, DeleteError>, u32) {
        let Scope::CodeArtifact {
            domain,
            domain_owner,
            repository,
            format,
            namespace,
            prefix,
        } = scope
        else {
            return (Ok(Vec::new()), 0);
        };
        let mut out = Vec::new();
        let (listed, attempts) = paginate(
            cx,
            QuotaClass::CodeArtifactList,
            |token| async move {
                self.client
                    .list_packages()
                    .domain(domain)
                    .set_domain_owner(domain_owner.clone())
                    .repository(repository)
                    .set_format(format.map(|f| PackageFormat::from(f.as_str())))
                    .set_namespace(namespace.clone())
                    .set_package_prefix(prefix.clone())
                    .max_results(PAGE_SIZE)
                    .set_next_token(token)
                    .send()
                    .await
                    .map_err(|e| ca_error!(e, ListPackagesError, "ListPackages"))
            },
            |page| {
                for p in page.packages() {
                    let (Some(f), Some(name)) = (p.format().and_then(|f| Format::parse(f.as_str())), p.package()) else {
                        tracing::warn!(package = ?p.package(), format = ?p.format(), "skipping a package of a format this function does not know");
                        continue;
                    };
                    // ListPackages' `namespace` matches by prefix; a scope names one namespace exactly.
                    if namespace.as_ref().is_some_and(|ns| p.namespace() != Some(ns.as_str())) {
                        continue;
                    }
                    out.push(PackageRef::CodeArtifact {
                        format: f,
                        namespace: p.namespace().map(str::to_owned),
                        package: name.to_owned(),
                    });
                }
                page.next_token().map(str::to_owned)
            },
        )
        .await;
        (listed.map(|()| out), attempts)
    }

    async fn apply(
        &self,
        request: &Request,
        revisions: &Revisions,
        cx: &CallContext<'_>,
    ) -> Vec<ItemOutcome> {
        let Target::CodeArtifact {
            package,
            expected_status,
        } = &request.target
        else {
            return Vec::new();
        };
        let how = (request.verb, expected_status.as_deref());
        match &request.action {
            Action::DeletePackage => vec![self.delete_package(package, cx).await],
            // The executor plans policies and sends the selected versions here.
            Action::Retain(_) => Vec::new(),
            Action::Versions(versions) => join_all(
                plan::batches(versions).map(|batch| self.batch(package, how, batch, revisions, cx)),
            )
            .await
            .into_iter()
            .flatten()
            .collect(),
        }
    }
}
