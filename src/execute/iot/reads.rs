//! Reading an IoT package's state: GetPackage and ListPackageVersions at
//! most once per invocation (kept in [`IotReads`](super::IotReads)), and
//! GetPackageVersion for one version's status now.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use super::{IotAdapter, PackageState, Read, VersionSummary, PAGE_SIZE};
use crate::error::DeleteError;
use crate::execute::{api_error, not_found, paginate, CallContext};
use crate::request::Service;
use crate::retry::QuotaClass;

impl IotAdapter {
    /// The package's state, read at most once per invocation: GetPackage,
    /// then every page of ListPackageVersions. `Ok(None)` when the package
    /// does not exist. Returns the calls made (0 when already read).
    ///
    /// Deleting explicit versions needs the listing as well as the default
    /// version: DeletePackageVersion is idempotent and answers 200 for a
    /// version that does not exist (its model has no ResourceNotFound), so
    /// only the listing tells "already absent" from "deleted". Listings are
    /// reads, a quota class of their own, and cost one call per 100
    /// versions, not one per version as GetPackageVersion would.
    pub(super) async fn state(
        &self,
        package: &str,
        cx: &CallContext<'_>,
    ) -> (Result<Read, DeleteError>, u32) {
        let cell = cx.iot_reads.cell(package);
        let mut calls = 0;
        let read = cell
            .get_or_try_init(|| async {
                let (read, n) = self.read(package, cx).await;
                calls = n;
                read.map(|s| s.map(|s| Arc::new(Mutex::new(s))))
            })
            .await;
        (read.cloned(), calls)
    }

    /// GetPackage and the listing, sent together: a package's deletes wait
    /// for one read slot, not two in turn.
    async fn read(
        &self,
        package: &str,
        cx: &CallContext<'_>,
    ) -> (Result<Option<PackageState>, DeleteError>, u32) {
        let get = cx.retrier.run(QuotaClass::IotRead, || async move {
            match self.client.get_package().package_name(package).send().await {
                Ok(out) => Ok(Some(out.default_version_name().map(str::to_owned))),
                Err(e) if not_found(&e) => Ok(None),
                Err(e) => Err(api_error(Service::Iot, "GetPackage", e, None)),
            }
        });
        let ((got, got_calls), (listed, list_calls)) = tokio::join!(get, self.list(package, cx));
        let calls = got_calls + list_calls;
        // GetPackage decides whether the package exists; the listing of a
        // missing one is not looked at, whatever it answered.
        let default_version = match got {
            Ok(Some(d)) => d,
            Ok(None) => return (Ok(None), calls),
            Err(e) => return (Err(e), calls),
        };
        let state = listed.map(|versions| {
            Some(PackageState {
                default_version,
                versions,
            })
        });
        (state, calls)
    }

    /// Every page of ListPackageVersions.
    async fn list(
        &self,
        package: &str,
        cx: &CallContext<'_>,
    ) -> (Result<BTreeMap<String, VersionSummary>, DeleteError>, u32) {
        let mut versions = BTreeMap::new();
        let (listed, calls) = paginate(
            cx,
            QuotaClass::IotRead,
            |token| async move {
                self.client
                    .list_package_versions()
                    .package_name(package)
                    .max_results(PAGE_SIZE)
                    .set_next_token(token)
                    .send()
                    .await
                    .map_err(|e| api_error(Service::Iot, "ListPackageVersions", e, None))
            },
            |page| {
                versions.extend(page.package_version_summaries().iter().filter_map(|s| {
                    let summary = VersionSummary {
                        status: s
                            .status()
                            .map(|st| st.as_str().to_owned())
                            .unwrap_or_default(),
                        created: s.creation_date().map(|d| d.as_secs_f64()),
                    };
                    s.version_name().map(|n| (n.to_owned(), summary))
                }));
                page.next_token().map(str::to_owned)
            },
        )
        .await;
        (listed.map(|()| versions), calls)
    }
    /// GetPackageVersion: the version's status now, `None` when it does
    /// not exist.
    pub(super) async fn status(
        &self,
        package: &str,
        version: &str,
        cx: &CallContext<'_>,
    ) -> (Result<Option<String>, DeleteError>, u32) {
        cx.retrier
            .run(QuotaClass::IotRead, || async move {
                match self
                    .client
                    .get_package_version()
                    .package_name(package)
                    .version_name(version)
                    .send()
                    .await
                {
                    Ok(out) => Ok(Some(
                        out.status()
                            .map(|s| s.as_str().to_owned())
                            .unwrap_or_default(),
                    )),
                    Err(e) if not_found(&e) => Ok(None),
                    Err(e) => Err(api_error(Service::Iot, "GetPackageVersion", e, None)),
                }
            })
            .await
    }
}
