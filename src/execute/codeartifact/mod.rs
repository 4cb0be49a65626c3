//! CodeArtifact: DeletePackageVersions and UpdatePackageVersionsStatus in
//! calls of at most 100 versions, and DeletePackage.
//!
//! Here: the adapter, the macros its calls share (written with full paths,
//! so they expand alike in every child) and its calls, each taking only
//! CodeArtifact's types.
//! The batched version calls are in [`batch`], the reads in [`read`].

use std::sync::Arc;

use aws_sdk_codeartifact::operation::delete_package::DeletePackageError;
use aws_sdk_codeartifact::operation::list_packages::ListPackagesError;
use aws_sdk_codeartifact::types::{PackageFormat, PackageVersionStatus};
use aws_sdk_codeartifact::Client;
use futures::future::join_all;

use super::{paginate, Act, CallContext, Done, ItemOutcome, Listing, Revisions};
use crate::plan::{self, Item};
use crate::request::{CodeArtifactPackage, Format, PackageRef, Status, Verb};
use crate::retry::QuotaClass;
use crate::retry::Tried;

/// Page size for the listings (the model's largest).
const PAGE_SIZE: i32 = 1000;

/// Reads the modelled `retryAfterSeconds` (the `Retry-After` header) of an
/// operation's ThrottlingException.
macro_rules! retry_after {
    ($err:expr, $op_error:ident) => {
        match $err.as_service_error() {
            Some($op_error::ThrottlingException(t)) => t
                .retry_after_seconds()
                .filter(|s| *s > 0)
                .map(|s| ::std::time::Duration::from_secs(s as u64)),
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
                if matches!(e.resource_type(), Some(::aws_sdk_codeartifact::types::ResourceType::Package | ::aws_sdk_codeartifact::types::ResourceType::PackageVersion))
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
            .format(::aws_sdk_codeartifact::types::PackageFormat::from(
                $pkg.format.as_str(),
            ))
            .set_namespace($pkg.namespace.clone())
            .package(&$pkg.package)
    };
}

/// An operation's error, with its `Retry-After`, as a [`DeleteError`].
macro_rules! ca_error {
    ($err:expr, $op_error:ident, $op:literal) => {{
        let hint = retry_after!($err, $op_error);
        $crate::execute::api_error($crate::request::Service::CodeArtifact, $op, $err, hint)
    }};
}

// After the macros: a `macro_rules!` macro is visible only below it.
mod assets;
mod batch;
mod depends;
mod groups;
mod read;
#[cfg(test)]
mod tests;

#[derive(Clone, Debug)]
pub(crate) struct CodeArtifactAdapter {
    client: Client,
}

impl CodeArtifactAdapter {
    pub(crate) fn new(client: Client) -> Self {
        CodeArtifactAdapter { client }
    }

    async fn delete_package(&self, pkg: &CodeArtifactPackage, cx: &CallContext<'_>) -> ItemOutcome {
        let Tried {
            result,
            calls: attempts,
        } = cx
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
}

/// A scope's ListPackages query: a repository, and the format, namespace
/// (exact) and name prefix it narrows to.
pub(crate) struct PackagesQuery<'a> {
    pub(crate) domain: &'a str,
    pub(crate) domain_owner: Option<&'a str>,
    pub(crate) repository: &'a str,
    pub(crate) format: Option<Format>,
    pub(crate) namespace: Option<&'a str>,
    pub(crate) prefix: Option<&'a str>,
}

impl CodeArtifactAdapter {
    /// How `verb` ended for `version`, read afresh with
    /// DescribePackageVersion (a call whose answer was lost may have
    /// acted): not found, or status `Deleted`, is gone (deleted, or absent
    /// for a status change); the verb's status is done; `None` otherwise.
    pub(crate) async fn settled(
        &self,
        pkg: &CodeArtifactPackage,
        version: &str,
        verb: Verb,
        cx: &CallContext<'_>,
    ) -> Tried<Option<Done>> {
        let read = self.describe(pkg, version, cx).await;
        read.map(|described| {
            let status = match described {
                Some(d) => d.status().cloned()?,
                None => PackageVersionStatus::Deleted,
            };
            match status {
                PackageVersionStatus::Deleted if verb == Verb::Delete => Some(Done::Deleted),
                PackageVersionStatus::Deleted => Some(Done::AlreadyAbsent),
                s if Some(Status::CodeArtifact(s.clone())) == verb.target_status() => {
                    Some(Done::applied(verb))
                }
                _ => None,
            }
        })
    }

    /// The listing carries no timestamps, but it is sorted newest first, so
    /// "published before the cut-off" is false then true along it: a binary
    /// search finds the boundary with O(log n) DescribePackageVersion calls.
    ///
    /// Every version of the package, newest first, marking which were
    /// published before `older_than` (seconds since the epoch). A package
    /// that does not exist lists empty, `missing`.
    pub(crate) async fn versions(
        &self,
        package: &CodeArtifactPackage,
        older_than: Option<f64>,
        cx: &CallContext<'_>,
    ) -> Tried<Listing> {
        let Tried {
            result: listed,
            calls: mut attempts,
        } = self.sorted_versions(package, cx).await;
        let mut versions = match listed {
            Ok(Some(v)) => v,
            Ok(None) => {
                let missing = Listing {
                    missing: true,
                    ..Listing::default()
                };
                return Tried::new(Ok(missing), attempts);
            }
            Err(e) => return Tried::new(Err(e), attempts),
        };
        if let Some(cutoff) = older_than {
            let (mut lo, mut hi) = (0usize, versions.len());
            while lo < hi {
                let mid = lo + (hi - lo) / 2;
                let Tried {
                    result: at,
                    calls: n,
                } = self.published_time(package, &versions[mid].name, cx).await;
                attempts += n;
                match at {
                    Ok(at) => {
                        versions[mid].published_ms = at.map(|t| (t * 1000.0) as i64);
                        match at.is_some_and(|t| t < cutoff) {
                            true => hi = mid,
                            false => lo = mid + 1,
                        }
                    }
                    Err(e) => return Tried::new(Err(e), attempts),
                }
            }
            for (i, v) in versions.iter_mut().enumerate() {
                v.old = Some(i >= lo);
            }
        }
        Tried::new(
            Ok(Listing {
                versions,
                default_version: None,
                missing: false,
            }),
            attempts,
        )
    }

    /// Every package of a scope (ListPackages).
    pub(crate) async fn packages(
        &self,
        query: PackagesQuery<'_>,
        cx: &CallContext<'_>,
    ) -> Tried<Vec<PackageRef>> {
        let PackagesQuery {
            domain,
            domain_owner,
            repository,
            format,
            namespace,
            prefix,
        } = query;
        let mut out = Vec::new();
        let Tried { result: listed, calls: attempts } = paginate(
            cx,
            QuotaClass::CodeArtifactList,
            |token| async move {
                self.client
                    .list_packages()
                    .domain(domain)
                    .set_domain_owner(domain_owner.map(str::to_owned))
                    .repository(repository)
                    .set_format(format.map(|f| PackageFormat::from(f.as_str())))
                    .set_namespace(namespace.map(str::to_owned))
                    .set_package_prefix(prefix.map(str::to_owned))
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
                    if namespace.is_some_and(|ns| p.namespace() != Some(ns)) {
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
        Tried::new(listed.map(|()| out), attempts)
    }

    /// Applies `how`'s verb (from its `expectedStatus`) to the versions
    /// (calls of at most 100, with the planned revisions), or deletes the
    /// whole package. One outcome per item it reached.
    pub(crate) async fn apply(
        &self,
        package: &CodeArtifactPackage,
        how: (Verb, Option<&PackageVersionStatus>),
        act: Act<'_>,
        revisions: &Revisions,
        cx: &CallContext<'_>,
    ) -> Vec<ItemOutcome> {
        match act {
            Act::DeletePackage => vec![self.delete_package(package, cx).await],
            Act::Versions(versions) => join_all(
                plan::batches(versions).map(|batch| self.batch(package, how, batch, revisions, cx)),
            )
            .await
            .into_iter()
            .flatten()
            .collect(),
        }
    }
}
