//! CodeArtifact's reads: the version listing, newest published first, and
//! DescribePackageVersion for one version.

use aws_sdk_codeartifact::operation::describe_package_version::DescribePackageVersionError;
use aws_sdk_codeartifact::operation::list_package_versions::ListPackageVersionsError;
use aws_sdk_codeartifact::types::{PackageVersionDescription, PackageVersionSortType};

use super::{CodeArtifactAdapter, PAGE_SIZE};
use crate::execute::{paginate, CallContext};
use crate::plan::Listed;
use crate::request::CodeArtifactPackage;
use crate::request::Status;
use crate::retry::QuotaClass;
use crate::retry::Tried;

impl CodeArtifactAdapter {
    /// Every version, newest published first (`sortBy=PUBLISHED_TIME`).
    /// `Ok(None)` when the package does not exist.
    pub(super) async fn sorted_versions(
        &self,
        pkg: &CodeArtifactPackage,
        cx: &CallContext<'_>,
    ) -> Tried<Option<Vec<Listed>>> {
        let mut out = Vec::new();
        let mut missing = false;
        let Tried {
            result: listed,
            calls: attempts,
        } = paginate(
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
                        status: Status::CodeArtifact(v.status().clone()),
                        origin_type: v
                            .origin()
                            .and_then(|o| o.origin_type())
                            .map(|t| t.as_str().to_owned()),
                        rank: out.len(),
                        old: None,
                        revision: v.revision().map(str::to_owned),
                        display: display == Some(v.version()),
                        published_ms: None,
                    });
                }
                page.next_token().map(str::to_owned)
            },
        )
        .await;
        Tried::new(listed.map(|()| (!missing).then_some(out)), attempts)
    }

    /// DescribePackageVersion: `None` when the version (or its package) is
    /// not there.
    pub(super) async fn describe(
        &self,
        pkg: &CodeArtifactPackage,
        version: &str,
        cx: &CallContext<'_>,
    ) -> Tried<Option<PackageVersionDescription>> {
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

    /// When a version was published (seconds since the epoch); `None` when
    /// the time is unknown or the version is gone meanwhile (then it counts
    /// as not old).
    pub(super) async fn published_time(
        &self,
        pkg: &CodeArtifactPackage,
        version: &str,
        cx: &CallContext<'_>,
    ) -> Tried<Option<f64>> {
        let Tried {
            result: read,
            calls,
        } = self.describe(pkg, version, cx).await;
        let at = read.map(|d| d.and_then(|d| d.published_time).map(|t| t.as_secs_f64()));
        Tried::new(at, calls)
    }
}
