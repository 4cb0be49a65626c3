//! CodeArtifact: DeletePackageVersions and UpdatePackageVersionsStatus in
//! calls of at most 100 versions, and DeletePackage.
//!
//! Here: the adapter, the macros its calls share (written with full paths,
//! so they expand alike in every child) and the [`PackageService`] impl.
//! The batched version calls are in [`batch`], the reads in [`read`].

use std::sync::Arc;

use aws_sdk_codeartifact::operation::delete_package::DeletePackageError;
use aws_sdk_codeartifact::operation::list_packages::ListPackagesError;
use aws_sdk_codeartifact::types::{PackageFormat, PackageVersionStatus};
use aws_sdk_codeartifact::Client;
use futures::future::join_all;

use super::{paginate, CallContext, Done, ItemOutcome, Listing, PackageService, Revisions};
use crate::plan::{self, Item};
use crate::request::{
    Action, CodeArtifactPackage, Format, PackageRef, Request, Scope, Status, Target, Verb,
};
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
mod batch;
mod read;

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
        let Tried {
            result: read,
            calls,
        } = self.describe(pkg, version, cx).await;
        let status = match read {
            Ok(Some(d)) => d.status().cloned(),
            Ok(None) => Some(PackageVersionStatus::Deleted),
            Err(_) => None,
        };
        let done = match status {
            Some(PackageVersionStatus::Deleted) if verb == Verb::Delete => Some(Done::Deleted),
            Some(PackageVersionStatus::Deleted) => Some(Done::AlreadyAbsent),
            Some(s) if Some(Status::CodeArtifact(s.clone())) == verb.target_status() => {
                Some(Done::applied(verb))
            }
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
    ) -> Tried<Listing> {
        let Target::CodeArtifact { package, .. } = target else {
            return Tried::free(Listing::default());
        };
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

    async fn packages(&self, scope: &Scope, cx: &CallContext<'_>) -> Tried<Vec<PackageRef>> {
        let Scope::CodeArtifact {
            domain,
            domain_owner,
            repository,
            format,
            namespace,
            prefix,
        } = scope
        else {
            return Tried::free(Vec::new());
        };
        let mut out = Vec::new();
        let Tried { result: listed, calls: attempts } = paginate(
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
        Tried::new(listed.map(|()| out), attempts)
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
        let how = (request.verb, expected_status.as_ref());
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
