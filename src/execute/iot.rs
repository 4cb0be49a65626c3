//! IoT software package catalog: DeletePackageVersion per version
//! (concurrently, bounded by the retrier), UpdatePackage to clear the
//! default version, DeletePackage once no version remains, and
//! UpdatePackageVersion to deprecate. What is in use is read in
//! [`super::inuse`].

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use aws_sdk_iot::Client;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use futures::future::join_all;
use tokio::sync::OnceCell;

use super::inuse::{Indexing, JobIndex};
use super::{
    api_error, client_token, paginate, CallContext, Done, ItemOutcome, Listing, PackageService,
    Revisions,
};
use crate::error::DeleteError;
use crate::plan::{Item, Listed, Usage};
use crate::request::{Action, PackageRef, Request, Scope, Service, Target, Verb};
use crate::retry::QuotaClass;

/// IoT's ListPackageVersions page size limit.
const PAGE_SIZE: i32 = 100;

fn lock(state: &Mutex<PackageState>) -> std::sync::MutexGuard<'_, PackageState> {
    state.lock().expect("package state lock")
}

pub(super) fn not_found<E: ProvideErrorMetadata>(e: &SdkError<E, HttpResponse>) -> bool {
    e.code() == Some("ResourceNotFoundException")
}

#[derive(Clone, Debug)]
pub struct IotAdapter {
    pub(super) client: Client,
}

/// One version as ListPackageVersions shows it.
#[derive(Debug, Clone)]
struct VersionSummary {
    status: String,
    /// Seconds since the epoch.
    created: Option<f64>,
}

/// What GetPackage and the version listing tell about a package.
#[derive(Debug, Clone, Default)]
pub struct PackageState {
    default_version: Option<String>,
    versions: BTreeMap<String, VersionSummary>,
}

/// A package's state as read once: `None` when the package does not exist.
type Read = Option<Arc<Mutex<PackageState>>>;

/// What one invocation has read of IoT packages: at most one GetPackage and
/// one listing per package, shared by planning and deleting, and by every
/// request that names the package. Versions deleted since are taken out, so
/// the state stays what the service holds. A read that failed is not kept:
/// the next request tries again.
#[derive(Debug, Default)]
pub struct IotReads {
    packages: Mutex<HashMap<String, Arc<OnceCell<Read>>>>,
    /// Whether fleet indexing indexes `$package`.
    pub(super) indexing: OnceCell<Indexing>,
    /// The unfinished jobs' package versions.
    pub(super) jobs: OnceCell<Arc<JobIndex>>,
}

impl IotReads {
    fn cell(&self, package: &str) -> Arc<OnceCell<Read>> {
        self.packages
            .lock()
            .expect("reads lock")
            .entry(package.to_owned())
            .or_default()
            .clone()
    }
}

impl IotAdapter {
    pub fn new(client: Client) -> Self {
        IotAdapter { client }
    }

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
    async fn state(&self, package: &str, cx: &CallContext<'_>) -> (Result<Read, DeleteError>, u32) {
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

    async fn unset_default(
        &self,
        package: &str,
        state: &Mutex<PackageState>,
        cx: &CallContext<'_>,
    ) -> (Result<(), DeleteError>, u32) {
        let token = client_token(cx.source, "UpdatePackage", package, "");
        let (result, calls) = cx
            .retrier
            .run(QuotaClass::IotWrite, || {
                let token = token.clone();
                async move {
                    self.client
                        .update_package()
                        .package_name(package)
                        .unset_default_version(true)
                        .client_token(token)
                        .send()
                        .await
                        .map(|_| ())
                        .map_err(|e| api_error(Service::Iot, "UpdatePackage", e, None))
                }
            })
            .await;
        if result.is_ok() {
            lock(state).default_version = None;
        }
        (result, calls)
    }

    async fn delete_version(
        &self,
        package: &str,
        version: &str,
        state: &Mutex<PackageState>,
        cx: &CallContext<'_>,
    ) -> ItemOutcome {
        let token = client_token(cx.source, "DeletePackageVersion", package, version);
        let (result, attempts) = cx
            .retrier
            .run(QuotaClass::IotWrite, || {
                let token = token.clone();
                async move {
                    match self
                        .client
                        .delete_package_version()
                        .package_name(package)
                        .version_name(version)
                        .client_token(token)
                        .send()
                        .await
                    {
                        Ok(_) => Ok(Done::Deleted),
                        Err(e) if not_found(&e) => Ok(Done::AlreadyAbsent),
                        Err(e) => Err(api_error(Service::Iot, "DeletePackageVersion", e, None)),
                    }
                }
            })
            .await;
        let item = Item::Version(version.to_owned());
        match result {
            Ok(done) => {
                lock(state).versions.remove(version);
                ItemOutcome::done(item, done, attempts)
            }
            Err(e) => ItemOutcome::failed(item, Arc::new(e), attempts),
        }
    }

    /// GetPackageVersion: the version's status now, `None` when it does
    /// not exist.
    async fn status(
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

    /// UpdatePackageVersion with `action: DEPRECATE`, one version.
    async fn deprecate(&self, package: &str, version: &str, cx: &CallContext<'_>) -> ItemOutcome {
        let token = client_token(cx.source, "UpdatePackageVersion", package, version);
        let (result, attempts) = cx
            .retrier
            .run(QuotaClass::IotWrite, || {
                let token = token.clone();
                async move {
                    match self
                        .client
                        .update_package_version()
                        .package_name(package)
                        .version_name(version)
                        .action(aws_sdk_iot::types::PackageVersionAction::Deprecate)
                        .client_token(token)
                        .send()
                        .await
                    {
                        Ok(_) => Ok(Done::Deprecated),
                        Err(e) if not_found(&e) => Ok(Done::AlreadyAbsent),
                        Err(e) => Err(api_error(Service::Iot, "UpdatePackageVersion", e, None)),
                    }
                }
            })
            .await;
        let item = Item::Version(version.to_owned());
        match result {
            Ok(done) => ItemOutcome::done(item, done, attempts),
            Err(e) => ItemOutcome::failed(item, Arc::new(e), attempts),
        }
    }

    /// One requested version, start to end: a version the listing did not
    /// show is read first (a listing is not proof of absence: it pages
    /// while others delete and publish); then, with `protect`, whether it
    /// is in use; then the delete. Each version goes to its delete as soon
    /// as its own reads are back, so reads and deletes overlap and a run cut
    /// short by the deadline has settled what it read. Reads spent: at most
    /// one GetPackageVersion and one SearchIndex per version (retries of a
    /// throttled call aside).
    ///
    /// The unlisted read stays: DeletePackageVersion is idempotent and
    /// answers 200 for a version that does not exist, so without the read a
    /// version that was never there would cost a search and a delete, and
    /// "already absent" would need a second listing; one read settles it.
    async fn delete_one(
        &self,
        package: &str,
        (version, listed): (&str, bool),
        protect: bool,
        state: &Mutex<PackageState>,
        cx: &CallContext<'_>,
    ) -> ItemOutcome {
        let item = || Item::Version(version.to_owned());
        let mut spent = 0;
        if !listed {
            match self.status(package, version, cx).await {
                (Ok(None), n) => return ItemOutcome::done(item(), Done::AlreadyAbsent, n),
                (Ok(Some(_)), n) => spent += n,
                (Err(e), n) => return ItemOutcome::failed(item(), Arc::new(e), n),
            }
        }
        if protect {
            let (usage, n) = self.usage(package, &[version.to_owned()], cx).await;
            spent += n;
            let refusal = match usage.map(|mut u| u.remove(version)) {
                Err(e) => Some(e),
                Ok(None | Some(Usage::Unused)) => None,
                Ok(Some(Usage::InUse(detail))) => Some(DeleteError::InUse {
                    package: package.to_owned(),
                    version: version.to_owned(),
                    detail,
                }),
                Ok(Some(Usage::Unknown(reason))) => Some(DeleteError::InUseUnknown {
                    package: package.to_owned(),
                    version: version.to_owned(),
                    reason,
                }),
            };
            if let Some(e) = refusal {
                return ItemOutcome::failed(item(), Arc::new(e), spent);
            }
        }
        let mut o = self.delete_version(package, version, state, cx).await;
        o.attempts += spent;
        o
    }

    async fn delete_versions(
        &self,
        package: &str,
        versions: &[String],
        (unset_default_version, protect): (bool, bool),
        cx: &CallContext<'_>,
    ) -> Vec<ItemOutcome> {
        let (state, attempts) = self.state(package, cx).await;
        let state = match state {
            Ok(Some(s)) => s,
            Ok(None) => {
                return versions
                    .iter()
                    .map(|v| ItemOutcome::package_not_found(Item::Version(v.clone()), attempts))
                    .collect()
            }
            Err(e) => {
                let e = Arc::new(e);
                return versions
                    .iter()
                    .map(|v| ItemOutcome::failed(Item::Version(v.clone()), e.clone(), attempts))
                    .collect();
            }
        };
        let (listed, default_version) = {
            let st = lock(&state);
            let listed: Vec<bool> = versions
                .iter()
                .map(|v| st.versions.contains_key(v))
                .collect();
            (listed, st.default_version.clone())
        };
        let mut outcomes = Vec::with_capacity(versions.len());
        let mut to_delete = Vec::new();
        for (v, listed) in versions.iter().zip(listed) {
            if default_version.as_deref() != Some(v.as_str()) {
                to_delete.push((v.as_str(), listed));
            } else if !unset_default_version {
                outcomes.push(ItemOutcome::failed(
                    Item::Version(v.clone()),
                    Arc::new(DeleteError::DefaultVersion {
                        package: package.to_owned(),
                        version: v.clone(),
                    }),
                    attempts,
                ));
            } else {
                match self.unset_default(package, &state, cx).await {
                    (Ok(()), _) => to_delete.push((v.as_str(), listed)),
                    (Err(e), n) => outcomes.push(ItemOutcome::failed(
                        Item::Version(v.clone()),
                        Arc::new(e),
                        attempts + n,
                    )),
                }
            }
        }
        outcomes.extend(
            join_all(
                to_delete
                    .into_iter()
                    .map(|v| self.delete_one(package, v, protect, &state, cx)),
            )
            .await,
        );
        outcomes
    }

    /// The whole package: clear the default (only when allowed), delete every
    /// version, then the package. One outcome, for the package item.
    async fn delete_package(
        &self,
        package: &str,
        unset_default_version: bool,
        cx: &CallContext<'_>,
    ) -> ItemOutcome {
        let fail = |e: DeleteError, n| ItemOutcome::failed(Item::Package, Arc::new(e), n);
        let (state, mut attempts) = self.state(package, cx).await;
        let state = match state {
            Ok(Some(s)) => s,
            Ok(None) => return ItemOutcome::package_not_found(Item::Package, attempts),
            Err(e) => return fail(e, attempts),
        };
        let (default_version, versions) = {
            let st = lock(&state);
            let versions: Vec<String> = st.versions.keys().cloned().collect();
            (st.default_version.clone(), versions)
        };
        if let Some(default) = &default_version {
            if !unset_default_version {
                return fail(
                    DeleteError::DefaultVersion {
                        package: package.to_owned(),
                        version: default.clone(),
                    },
                    attempts,
                );
            }
            let (r, n) = self.unset_default(package, &state, cx).await;
            attempts += n;
            if let Err(e) = r {
                return fail(e, attempts);
            }
        }
        let deleted = join_all(
            versions
                .iter()
                .map(|v| self.delete_version(package, v, &state, cx)),
        )
        .await;
        let mut first_failure: Option<Arc<DeleteError>> = None;
        for o in deleted {
            attempts += o.attempts;
            match o.result {
                Ok(done) => tracing::info!(
                    service = "iot", package, version = %o.item, outcome = ?done,
                    "version deleted with its package"
                ),
                // A permanent failure outranks a retryable one: it is the
                // reason the package cannot go.
                Err(e) => {
                    if first_failure
                        .as_ref()
                        .is_none_or(|f| !f.is_permanent() && e.is_permanent())
                    {
                        first_failure = Some(e);
                    }
                }
            }
        }
        if let Some(e) = first_failure {
            return ItemOutcome::failed(Item::Package, e, attempts);
        }
        let token = client_token(cx.source, "DeletePackage", package, "");
        let (r, n) = cx
            .retrier
            .run(QuotaClass::IotWrite, || {
                let token = token.clone();
                async move {
                    match self
                        .client
                        .delete_package()
                        .package_name(package)
                        .client_token(token)
                        .send()
                        .await
                    {
                        Ok(_) => Ok(Done::Deleted),
                        Err(e) if not_found(&e) => Ok(Done::AlreadyAbsent),
                        Err(e) => Err(api_error(Service::Iot, "DeletePackage", e, None)),
                    }
                }
            })
            .await;
        attempts += n;
        match r {
            Ok(_) => ItemOutcome::done(Item::Package, Done::Deleted, attempts),
            Err(e) => fail(e, attempts),
        }
    }
}

impl PackageService for IotAdapter {
    /// GetPackageVersion: not found is gone (deleted, or absent for
    /// another action); `DEPRECATED` is deprecated.
    async fn settled(
        &self,
        target: &Target,
        version: &str,
        verb: Verb,
        cx: &CallContext<'_>,
    ) -> (Option<Done>, u32) {
        let Target::Iot { package, .. } = target else {
            return (None, 0);
        };
        let (read, calls) = self.status(package, version, cx).await;
        let done = match read {
            Ok(None) => {
                // What this invocation read of the package follows the service.
                if let Some(Some(state)) = cx.iot_reads.cell(package).get() {
                    lock(state).versions.remove(version);
                }
                Some(match verb {
                    Verb::Delete => Done::Deleted,
                    _ => Done::AlreadyAbsent,
                })
            }
            Ok(Some(status)) if Some(status.as_str()) == verb.target_status() => {
                Some(Done::applied(verb))
            }
            _ => None,
        };
        (done, calls)
    }

    async fn versions(
        &self,
        target: &Target,
        older_than: Option<f64>,
        cx: &CallContext<'_>,
    ) -> (Result<Listing, DeleteError>, u32) {
        let Target::Iot { package, .. } = target else {
            return (Ok(Listing::default()), 0);
        };
        let (state, attempts) = self.state(package, cx).await;
        let state = match state {
            Ok(Some(s)) => lock(&s).clone(),
            Ok(None) => {
                let missing = Listing {
                    missing: true,
                    ..Listing::default()
                };
                return (Ok(missing), attempts);
            }
            Err(e) => return (Err(e), attempts),
        };
        // Newest first by creation date; the listing's order is undocumented.
        let mut by_age: Vec<(&String, &VersionSummary)> = state.versions.iter().collect();
        by_age.sort_by(|a, b| {
            b.1.created
                .partial_cmp(&a.1.created)
                .unwrap_or(std::cmp::Ordering::Equal)
                .then_with(|| a.0.cmp(b.0))
        });
        let versions = by_age
            .into_iter()
            .enumerate()
            .map(|(rank, (name, v))| Listed {
                name: name.clone(),
                status: v.status.clone(),
                origin_type: None,
                rank,
                old: older_than.map(|cut| v.created.is_some_and(|c| c < cut)),
                revision: None,
                display: false,
            })
            .collect();
        (
            Ok(Listing {
                versions,
                default_version: state.default_version,
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
        let Scope::Iot { prefix } = scope else {
            return (Ok(Vec::new()), 0);
        };
        let mut out = Vec::new();
        let (listed, attempts) = paginate(
            cx,
            QuotaClass::IotRead,
            |token| async move {
                self.client
                    .list_packages()
                    .max_results(PAGE_SIZE)
                    .set_next_token(token)
                    .send()
                    .await
                    .map_err(|e| api_error(Service::Iot, "ListPackages", e, None))
            },
            |page| {
                out.extend(
                    page.package_summaries()
                        .iter()
                        .filter_map(|p| p.package_name())
                        .filter(|name| prefix.as_deref().is_none_or(|pre| name.starts_with(pre)))
                        .map(|name| PackageRef::Iot {
                            package: name.to_owned(),
                        }),
                );
                page.next_token().map(str::to_owned)
            },
        )
        .await;
        (listed.map(|()| out), attempts)
    }

    async fn apply(
        &self,
        request: &Request,
        _revisions: &Revisions,
        cx: &CallContext<'_>,
    ) -> Vec<ItemOutcome> {
        let Target::Iot {
            package,
            unset_default_version,
            protect_in_use,
        } = &request.target
        else {
            return Vec::new();
        };
        match &request.action {
            Action::Versions(versions) if request.verb == Verb::Deprecate => {
                join_all(versions.iter().map(|v| self.deprecate(package, v, cx))).await
            }
            Action::Versions(versions) => {
                // What is in use is checked here, version by version, beside
                // the deletes (a policy's versions were checked when planned,
                // and come without `protect_in_use`).
                let protect = *protect_in_use && request.verb == Verb::Delete;
                self.delete_versions(package, versions, (*unset_default_version, protect), cx)
                    .await
            }
            Action::DeletePackage => {
                vec![
                    self.delete_package(package, *unset_default_version, cx)
                        .await,
                ]
            }
            // The executor plans policies and sends the selected versions here.
            Action::Retain(_) => Vec::new(),
        }
    }
}
