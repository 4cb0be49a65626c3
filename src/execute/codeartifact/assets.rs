//! CodeArtifact's reads for `measureStorage`: a version's assets
//! (ListPackageVersionAssets, its own 200 a second) and which versions of a
//! package another repository of the domain holds (ListPackageVersions, the
//! list class), from botocore's model (codeartifact 2018-09-22).

use std::collections::BTreeSet;

use aws_sdk_codeartifact::operation::list_package_version_assets::ListPackageVersionAssetsError;
use aws_sdk_codeartifact::types::PackageVersionStatus;

use super::CodeArtifactAdapter;
use crate::execute::{paginate, CallContext};
use crate::request::{CodeArtifactPackage, Status};
use crate::retry::{QuotaClass, Tried};

/// ListPackageVersionAssets' largest page (the model's
/// `ListPackageVersionAssetsMaxResults`, 1 to 1,000).
const ASSETS_PAGE_SIZE: i32 = 1000;

/// A version's assets, added up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct AssetBytes {
    /// The sizes given, in bytes.
    pub(crate) bytes: u64,
    /// Assets whose `size` the answer left out (the model's
    /// `LongOptional`): then `bytes` is not the version's size.
    pub(crate) unsized_assets: u32,
}

impl CodeArtifactAdapter {
    /// Every asset of `version`, its sizes summed (paged by `nextToken`);
    /// `None` when the version (or its package) is not in the repository.
    pub(crate) async fn asset_bytes(
        &self,
        pkg: &CodeArtifactPackage,
        version: &str,
        cx: &CallContext<'_>,
    ) -> Tried<Option<AssetBytes>> {
        let mut sum = AssetBytes {
            bytes: 0,
            unsized_assets: 0,
        };
        let mut missing = false;
        let listed = paginate(
            cx,
            QuotaClass::CodeArtifactAssets,
            |token| async move {
                match for_package!(self.client.list_package_version_assets(), pkg)
                    .package_version(version)
                    .max_results(ASSETS_PAGE_SIZE)
                    .set_next_token(token)
                    .send()
                    .await
                {
                    Ok(page) => Ok(Some(page)),
                    Err(e) if package_not_found!(e, ListPackageVersionAssetsError) => Ok(None),
                    Err(e) => Err(ca_error!(
                        e,
                        ListPackageVersionAssetsError,
                        "ListPackageVersionAssets"
                    )),
                }
            },
            |page| {
                let Some(page) = page else {
                    missing = true;
                    return None;
                };
                for a in page.assets() {
                    match a.size().and_then(|s| u64::try_from(s).ok()) {
                        Some(s) => sum.bytes += s,
                        None => sum.unsized_assets += 1,
                    }
                }
                page.next_token().map(str::to_owned)
            },
        )
        .await;
        Tried::new(
            listed.result.map(|()| (!missing).then_some(sum)),
            listed.calls,
        )
    }

    /// The versions of `pkg` its repository holds: every status but
    /// Disposed and Deleted (those hold no assets). Empty when the
    /// repository does not have the package.
    pub(crate) async fn held_versions(
        &self,
        pkg: &CodeArtifactPackage,
        cx: &CallContext<'_>,
    ) -> Tried<BTreeSet<String>> {
        let listed = self.sorted_versions(pkg, cx).await;
        listed.map(|versions| {
            versions
                .unwrap_or_default()
                .into_iter()
                .filter(|v| {
                    !matches!(
                        &v.status,
                        Status::CodeArtifact(
                            PackageVersionStatus::Disposed | PackageVersionStatus::Deleted
                        )
                    )
                })
                .map(|v| v.name)
                .collect()
        })
    }
}
