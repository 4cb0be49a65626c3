//! CodeArtifact's reads for the index of dependencies: a version's direct
//! dependencies (ListPackageVersionDependencies) and a domain's
//! repositories (ListRepositoriesInDomain). Both count against the
//! account's read quota (`../shared/aws-api-facts.md`, section J).

use aws_sdk_codeartifact::operation::list_package_version_dependencies::ListPackageVersionDependenciesError;
use aws_sdk_codeartifact::operation::list_repositories_in_domain::ListRepositoriesInDomainError;
use aws_sdk_codeartifact::types::PackageVersionStatus;

use super::{CodeArtifactAdapter, PAGE_SIZE};
use crate::downloads::Declared;
use crate::execute::{paginate, CallContext};
use crate::names;
use crate::request::{CodeArtifactPackage, Format};
use crate::retry::{QuotaClass, Tried};

impl CodeArtifactAdapter {
    /// The dependencies `version` declares, names in stored form; `None`
    /// when the version (or its package) is not in the repository (also
    /// when it exists only upstream: the service answers
    /// ResourceNotFoundException then). Paged by `nextToken`.
    pub(crate) async fn dependencies(
        &self,
        pkg: &CodeArtifactPackage,
        version: &str,
        cx: &CallContext<'_>,
    ) -> Tried<Option<Vec<Declared>>> {
        let mut out = Vec::new();
        let mut missing = false;
        let format = pkg.format;
        let listed = paginate(
            cx,
            QuotaClass::CodeArtifactRead,
            |token| async move {
                let sent = for_package!(self.client.list_package_version_dependencies(), pkg)
                    .package_version(version)
                    .set_next_token(token)
                    .send()
                    .await;
                match sent {
                    Ok(page) => Ok(Some(page)),
                    Err(e) if package_not_found!(e, ListPackageVersionDependenciesError) => {
                        Ok(None)
                    }
                    Err(e) => Err(ca_error!(
                        e,
                        ListPackageVersionDependenciesError,
                        "ListPackageVersionDependencies"
                    )),
                }
            },
            |page| {
                let Some(page) = page else {
                    missing = true;
                    return None;
                };
                for d in page.dependencies() {
                    let Some(package) = d.package() else { continue };
                    let (namespace, package) = stored(format, d.namespace(), package);
                    out.push(Declared {
                        namespace,
                        package,
                        dependency_type: d.dependency_type().map(str::to_owned),
                        requirement: d.version_requirement().map(str::to_owned),
                    });
                }
                page.next_token().map(str::to_owned)
            },
        )
        .await;
        Tried::new(
            listed.result.map(|()| (!missing).then_some(out)),
            listed.calls,
        )
    }

    /// A version's status now (DescribePackageVersion); `None` when it is
    /// not there.
    pub(crate) async fn status(
        &self,
        pkg: &CodeArtifactPackage,
        version: &str,
        cx: &CallContext<'_>,
    ) -> Tried<Option<PackageVersionStatus>> {
        let described = self.describe(pkg, version, cx).await;
        described.map(|d| d.and_then(|d| d.status().cloned()))
    }

    /// Every repository of a domain, by name.
    pub(crate) async fn repositories(
        &self,
        domain: &str,
        domain_owner: Option<&str>,
        cx: &CallContext<'_>,
    ) -> Tried<Vec<String>> {
        let mut out = Vec::new();
        let listed = paginate(
            cx,
            QuotaClass::CodeArtifactRead,
            |token| async move {
                self.client
                    .list_repositories_in_domain()
                    .domain(domain)
                    .set_domain_owner(domain_owner.map(str::to_owned))
                    .max_results(PAGE_SIZE)
                    .set_next_token(token)
                    .send()
                    .await
                    .map_err(|e| {
                        ca_error!(e, ListRepositoriesInDomainError, "ListRepositoriesInDomain")
                    })
            },
            |page| {
                out.extend(
                    page.repositories()
                        .iter()
                        .filter_map(|r| r.name().map(str::to_owned)),
                );
                page.next_token().map(str::to_owned)
            },
        )
        .await;
        Tried::new(listed.result.map(|()| out), listed.calls)
    }
}

/// A dependency's namespace and name as CodeArtifact stores them (an npm
/// `@scope/name` given whole is split, as a request's is), so that its
/// edges are keyed as a policy on that package reads them.
fn stored(format: Format, namespace: Option<&str>, package: &str) -> (Option<String>, String) {
    names::package(format, namespace, package).unwrap_or_else(|_| {
        let ns = namespace.map(|ns| names::namespace(format, ns));
        (ns, names::name(format, package))
    })
}

#[cfg(test)]
#[test]
fn a_scoped_npm_name_is_keyed_as_stored() {
    assert_eq!(
        stored(Format::Npm, None, "@acme/core"),
        (Some("acme".into()), "core".into())
    );
    assert_eq!(
        stored(Format::Npm, Some("@acme"), "core"),
        (Some("acme".into()), "core".into())
    );
    assert_eq!(
        stored(Format::Pypi, None, "Acme_Models"),
        (None, "acme-models".into())
    );
}
