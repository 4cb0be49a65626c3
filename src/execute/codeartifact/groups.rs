//! CodeArtifact's package groups, as a scope and as an allow-list entry
//! reads them: the packages associated with a group
//! (ListAssociatedPackages, never `preview`) and the group a package is
//! associated with (GetAssociatedPackageGroup). Both count against the
//! account's read quota; shapes from botocore's model (codeartifact
//! 2018-09-22).

use aws_sdk_codeartifact::operation::list_associated_packages::ListAssociatedPackagesError;
use aws_sdk_codeartifact::types::{PackageFormat, ResourceType};

use super::{CodeArtifactAdapter, PAGE_SIZE};
use crate::execute::{api_error, paginate, CallContext};
use crate::request::{CodeArtifactPackage, Format, PackageRef, Service};
use crate::retry::{QuotaClass, Tried};

/// Whether a ResourceNotFoundException of ListAssociatedPackages is the
/// group's: the model's `ResourceType` has no value for a package group,
/// so any answer but `domain` is taken for the group.
macro_rules! group_not_found {
    ($err:expr) => {
        matches!(
            $err.as_service_error(),
            Some(ListAssociatedPackagesError::ResourceNotFoundException(e))
                if e.resource_type() != Some(&ResourceType::Domain)
        )
    };
}

/// ListAssociatedPackages' error, as a [`crate::error::DeleteError`].
fn list_error(
    e: aws_sdk_codeartifact::error::SdkError<
        ListAssociatedPackagesError,
        aws_smithy_runtime_api::client::orchestrator::HttpResponse,
    >,
) -> crate::error::DeleteError {
    api_error(Service::CodeArtifact, "ListAssociatedPackages", e, None)
}

impl CodeArtifactAdapter {
    /// The packages CodeArtifact associates with the group `pattern` (a
    /// package belongs only to its most specific group), in every
    /// repository of the domain; `None` when no such group exists. Asked
    /// without `preview`, which would evaluate a pattern no group has.
    pub(crate) async fn associated_packages(
        &self,
        (domain, domain_owner): (&str, Option<&str>),
        pattern: &str,
        cx: &CallContext<'_>,
    ) -> Tried<Option<Vec<PackageRef>>> {
        let mut out = Vec::new();
        let mut missing = false;
        let listed = paginate(
            cx,
            QuotaClass::CodeArtifactRead,
            |token| async move {
                match self
                    .client
                    .list_associated_packages()
                    .domain(domain)
                    .set_domain_owner(domain_owner.map(str::to_owned))
                    .package_group(pattern)
                    .max_results(PAGE_SIZE)
                    .set_next_token(token)
                    .send()
                    .await
                {
                    Ok(page) => Ok(Some(page)),
                    Err(e) if group_not_found!(e) => Ok(None),
                    // The model lists no ThrottlingException here: a throttle
                    // is still told by its code, without a `Retry-After`.
                    Err(e) => Err(list_error(e)),
                }
            },
            |page| {
                let Some(page) = page else {
                    missing = true;
                    return None;
                };
                for p in page.packages() {
                    let format = p.format().and_then(|f| Format::parse(f.as_str()));
                    let (Some(format), Some(package)) = (format, p.package()) else {
                        tracing::warn!(package = ?p.package(), format = ?p.format(), "skipping an associated package of a format this function does not know");
                        continue;
                    };
                    out.push(PackageRef::CodeArtifact {
                        format,
                        namespace: p.namespace().map(str::to_owned),
                        package: package.to_owned(),
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

    /// The pattern of the group CodeArtifact associates `pkg` with (its
    /// most specific; the root group `/*` at the least).
    pub(crate) async fn associated_group(
        &self,
        pkg: &CodeArtifactPackage,
        cx: &CallContext<'_>,
    ) -> Tried<Option<String>> {
        cx.retrier
            .run(QuotaClass::CodeArtifactRead, || async move {
                self.client
                    .get_associated_package_group()
                    .domain(&pkg.domain)
                    .set_domain_owner(pkg.domain_owner.clone())
                    .format(PackageFormat::from(pkg.format.as_str()))
                    .set_namespace(pkg.namespace.clone())
                    .package(&pkg.package)
                    .send()
                    .await
                    .map(|out| out.package_group.and_then(|g| g.pattern))
                    .map_err(|e| {
                        api_error(Service::CodeArtifact, "GetAssociatedPackageGroup", e, None)
                    })
            })
            .await
    }
}
