//! Reading an IoT package's state: GetPackage and ListPackageVersions at
//! most once per invocation (kept in [`IotReads`](super::IotReads); when
//! starved, one read less than [`RECENT`] ago), and GetPackageVersion for
//! one version's status now.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use super::{IotAdapter, PackageState, Read, VersionSummary, PAGE_SIZE};
use crate::execute::{api_error, not_found, paginate, CallContext};
use crate::request::{Service, Status};
use crate::retry::QuotaClass;
use crate::retry::Tried;
use aws_sdk_iot::types::PackageVersionStatus as IotStatus;

/// How long a starved invocation trusts a package's state read by an
/// earlier invocation of the same execution environment.
pub(crate) const RECENT: std::time::Duration = std::time::Duration::from_secs(30);

impl IotAdapter {
    /// The package's state, read at most once per invocation: GetPackage,
    /// then every page of ListPackageVersions. `Ok(None)` when the package
    /// does not exist. Returns the calls made (0 when already read).
    ///
    /// Deleting explicit versions needs the listing as well as the default
    /// version: DeletePackageVersion is idempotent and answers 200 for a
    /// version that does not exist (its model has no ResourceNotFound), so
    /// only a read tells "already absent" from "deleted": the listing, and
    /// GetPackageVersion for a version it does not show. Listings are
    /// reads, a quota class of their own, and cost one call per 100
    /// versions, not one per version as GetPackageVersion would.
    pub(super) async fn state(&self, package: &str, cx: &CallContext<'_>) -> Tried<Read> {
        let mut calls = 0;
        let cell = cx.iot_reads.cell(package);
        let read = cell
            .get_or_try_init(|| async {
                let Tried {
                    result: read,
                    calls: n,
                } = self.read(package, cx).await;
                calls = n;
                let state = read?.map(|s| Arc::new(Mutex::new(s)));
                if let Some(s) = &state {
                    self.remember(package, s.clone());
                }
                Ok(state)
            })
            .await;
        Tried::new(read.cloned(), calls)
    }

    /// The state the deletes of explicit versions go by: this
    /// invocation's read ([`IotAdapter::state`]), or, when the IoT quota is
    /// starved, a state this execution environment read less than
    /// [`RECENT`] ago ([`IotAdapter::recently_read`]). A policy's plan and a
    /// package's deletion always go by [`IotAdapter::state`]: a stale
    /// listing could let a plan keep a version already gone and delete the
    /// last one left.
    ///
    /// Neither proves a version it does not show absent: listings page
    /// while others delete and publish, and whether a version just created
    /// shows at once is not documented. Only the environment's own answered
    /// deletes do ([`PackageState`]'s `gone`).
    pub(super) async fn state_for_deletes(
        &self,
        package: &str,
        cx: &CallContext<'_>,
    ) -> Tried<Read> {
        let fresh = cx.iot_reads.cell(package).get().is_some();
        if !fresh && cx.retrier.starved(Service::Iot) {
            if let Some(known) = self.recently_read(package) {
                return Tried::free(Some(known));
            }
        }
        self.state(package, cx).await
    }

    /// A package's state read by this execution environment less than
    /// [`RECENT`] ago, kept current by its own deletes. Used only when the
    /// IoT quota is starved: two reads per package per invocation would
    /// then take the tokens the deletes need. The cost: a version another
    /// environment deleted meanwhile is deleted again (IoT's
    /// DeletePackageVersion answers 200 for a version that is gone) and
    /// reported deleted by both.
    fn recently_read(&self, package: &str) -> Option<Arc<Mutex<PackageState>>> {
        let recent = self.recent.lock().expect("recent lock");
        recent
            .get(package)
            .filter(|(_, at)| at.elapsed() < RECENT)
            .map(|(s, _)| s.clone())
    }

    fn remember(&self, package: &str, state: Arc<Mutex<PackageState>>) {
        let mut recent = self.recent.lock().expect("recent lock");
        recent.retain(|_, (_, at)| at.elapsed() < RECENT);
        recent.insert(package.to_owned(), (state, tokio::time::Instant::now()));
    }

    /// GetPackage and the listing, sent together: a package's deletes wait
    /// for one read slot, not two in turn.
    async fn read(&self, package: &str, cx: &CallContext<'_>) -> Tried<Option<PackageState>> {
        let get = cx.retrier.run(QuotaClass::IotRead, || async move {
            match self.client.get_package().package_name(package).send().await {
                Ok(out) => Ok(Some(out.default_version_name().map(str::to_owned))),
                Err(e) if not_found(&e) => Ok(None),
                Err(e) => Err(api_error(Service::Iot, "GetPackage", e, None)),
            }
        });
        let (
            Tried {
                result: got,
                calls: got_calls,
            },
            Tried {
                result: listed,
                calls: list_calls,
            },
        ) = tokio::join!(get, self.list(package, cx));
        let calls = got_calls + list_calls;
        // GetPackage decides whether the package exists; the listing of a
        // missing one is not looked at, whatever it answered.
        let default_version = match got {
            Ok(Some(d)) => d,
            Ok(None) => return Tried::new(Ok(None), calls),
            Err(e) => return Tried::new(Err(e), calls),
        };
        let state = listed.map(|versions| {
            Some(PackageState {
                default_version,
                versions,
                gone: BTreeMap::new(),
            })
        });
        Tried::new(state, calls)
    }

    /// Every page of ListPackageVersions.
    async fn list(
        &self,
        package: &str,
        cx: &CallContext<'_>,
    ) -> Tried<BTreeMap<String, VersionSummary>> {
        let mut versions = BTreeMap::new();
        let Tried {
            result: listed,
            calls,
        } = paginate(
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
                        status: Status::Iot(status_of(s.status())),
                        created: s.creation_date().map(|d| d.as_secs_f64()),
                    };
                    s.version_name().map(|n| (n.to_owned(), summary))
                }));
                page.next_token().map(str::to_owned)
            },
        )
        .await;
        Tried::new(listed.map(|()| versions), calls)
    }
    /// GetPackageVersion: the version's status now, `None` when it does
    /// not exist.
    pub(super) async fn status(
        &self,
        package: &str,
        version: &str,
        cx: &CallContext<'_>,
    ) -> Tried<Option<Status>> {
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
                    Ok(out) => Ok(Some(Status::Iot(status_of(out.status())))),
                    Err(e) if not_found(&e) => Ok(None),
                    Err(e) => Err(api_error(Service::Iot, "GetPackageVersion", e, None)),
                }
            })
            .await
    }
}

/// A version's IoT status; the model makes it optional, and a version
/// without one has the SDK's unknown status (no policy status selects it).
fn status_of(status: Option<&IotStatus>) -> IotStatus {
    status.cloned().unwrap_or_else(|| IotStatus::from(""))
}
