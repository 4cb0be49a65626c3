//! IoT software package catalog: DeletePackageVersion per version
//! (concurrently, bounded by the retrier), UpdatePackage to clear the
//! default version, DeletePackage once no version remains, and
//! UpdatePackageVersion to deprecate. What is in use is read in
//! [`super::inuse`].
//!
//! Here: the adapter, what one invocation has read ([`IotReads`]) and the
//! calls, each taking only IoT's types. The package reads are in [`reads`], the deletes
//! and deprecations in [`delete`].

mod delete;
mod reads;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use aws_sdk_iot::Client;
use futures::future::join_all;
use tokio::sync::OnceCell;

use super::inuse::{InUseReader, Memory, UsageReads};
use super::{api_error, paginate, Act, CallContext, Done, ItemOutcome, Listing};
use crate::error::DeleteError;
use crate::plan::{Listed, Usage};
use crate::request::{InUseCheck, PackageRef, Service, Status, Verb};
use crate::retry::QuotaClass;
use crate::retry::Tried;

/// IoT's ListPackageVersions page size limit.
const PAGE_SIZE: i32 = 100;

fn lock(state: &Mutex<PackageState>) -> std::sync::MutexGuard<'_, PackageState> {
    state.lock().expect("package state lock")
}

#[derive(Clone, Debug)]
pub(crate) struct IotAdapter {
    client: Client,
    /// Packages' states as the execution environment last read them, for
    /// invocations whose IoT quota is starved ([`reads`]).
    recent: Arc<Mutex<HashMap<String, Recent>>>,
}

/// A package's state as an execution environment read it, and when.
type Recent = (Arc<Mutex<PackageState>>, tokio::time::Instant);

/// One version as ListPackageVersions shows it.
#[derive(Debug, Clone)]
struct VersionSummary {
    status: Status,
    /// Seconds since the epoch.
    created: Option<f64>,
}

/// What GetPackage and the version listing tell about a package.
#[derive(Debug, Clone, Default)]
pub(crate) struct PackageState {
    default_version: Option<String>,
    versions: BTreeMap<String, VersionSummary>,
    /// Versions deleted since the listing, as the deletes' answers said,
    /// and when: the only versions the state proves absent, to invocations
    /// under way when the answer came (a version deleted before an
    /// invocation began may have been published again since).
    gone: BTreeMap<String, tokio::time::Instant>,
}

/// A package's state as read once: `None` when the package does not exist.
type Read = Option<Arc<Mutex<PackageState>>>;

/// What one invocation has read of IoT packages: at most one GetPackage and
/// one listing per package, shared by planning and deleting, and by every
/// request that names the package. Versions deleted since are taken out, so
/// the state stays what the service holds. A read that failed is not kept:
/// the next request tries again.
#[derive(Debug, Default)]
pub(crate) struct IotReads {
    packages: Mutex<HashMap<String, Arc<OnceCell<Read>>>>,
    /// Whether fleet indexing indexes `$package`, and the unfinished jobs'
    /// package versions.
    usage: UsageReads,
}

impl IotReads {
    /// An invocation's reads, keeping what outlives it in `memory`
    /// (written to the table, if it has one, only with `writes`).
    pub(crate) fn new(memory: Arc<Memory>, writes: bool) -> Self {
        IotReads {
            packages: Mutex::default(),
            usage: UsageReads::new(memory, writes),
        }
    }

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
    pub(crate) fn new(client: Client) -> Self {
        IotAdapter {
            client,
            recent: Arc::default(),
        }
    }

    /// The usage of each of `versions` of `package`. A failed read fails
    /// the whole answer: a protection that could not look is no protection.
    /// What is read once per invocation is kept in [`IotReads`].
    pub(crate) async fn usage(
        &self,
        package: &str,
        versions: &[String],
        cx: &CallContext<'_>,
    ) -> Tried<BTreeMap<String, Usage>> {
        InUseReader::new(&self.client)
            .usage(package, versions, &cx.iot_reads.usage, cx)
            .await
    }
}

impl IotAdapter {
    /// How `verb` ended for `version`, read afresh with GetPackageVersion
    /// (a call whose answer was lost may have acted): not found is gone
    /// (deleted, or absent for another action); `DEPRECATED` is
    /// deprecated; `None` otherwise.
    pub(crate) async fn settled(
        &self,
        package: &str,
        version: &str,
        verb: Verb,
        cx: &CallContext<'_>,
    ) -> Tried<Option<Done>> {
        let read = self.status(package, version, cx).await;
        read.map(|status| match status {
            None => {
                // What this invocation read of the package follows the service.
                if let Some(Some(state)) = cx.iot_reads.cell(package).get() {
                    lock(state).versions.remove(version);
                }
                Some(match verb {
                    Verb::Delete => Done::Deleted,
                    _ => Done::AlreadyAbsent,
                })
            }
            Some(status) if Some(&status) == verb.target_status().as_ref() => {
                Some(Done::applied(verb))
            }
            Some(_) => None,
        })
    }

    /// Every version of the package, newest first by creation date, marking
    /// which were created before `older_than` (seconds since the epoch). A
    /// package that does not exist lists empty, `missing`.
    pub(crate) async fn versions(
        &self,
        package: &str,
        older_than: Option<f64>,
        cx: &CallContext<'_>,
    ) -> Tried<Listing> {
        let Tried {
            result: state,
            calls: attempts,
        } = self.state(package, cx).await;
        match state {
            Ok(Some(s)) => Tried::new(Ok(listing_of(&lock(&s), older_than)), attempts),
            Ok(None) => {
                let missing = Listing {
                    missing: true,
                    ..Listing::default()
                };
                Tried::new(Ok(missing), attempts)
            }
            Err(e) => Tried::new(Err(e), attempts),
        }
    }

    /// Every package of the catalog whose name starts with `prefix`
    /// (ListPackages).
    pub(crate) async fn packages(
        &self,
        prefix: Option<&str>,
        cx: &CallContext<'_>,
    ) -> Tried<Vec<PackageRef>> {
        let mut out = Vec::new();
        let Tried {
            result: listed,
            calls: attempts,
        } = paginate(
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
                        .filter(|name| prefix.is_none_or(|pre| name.starts_with(pre)))
                        .map(|name| PackageRef::Iot {
                            package: name.to_owned(),
                        }),
                );
                page.next_token().map(str::to_owned)
            },
        )
        .await;
        Tried::new(listed.map(|()| out), attempts)
    }

    /// Applies `how`'s verb to the versions (deprecates, or deletes with
    /// the default version cleared when `unsetDefaultVersion` allows it),
    /// or deletes the whole package. One outcome per item it reached.
    pub(crate) async fn apply(
        &self,
        package: &str,
        (verb, unset_default_version, in_use): (Verb, bool, InUseCheck),
        act: Act<'_>,
        cx: &CallContext<'_>,
    ) -> Vec<ItemOutcome> {
        match act {
            Act::Versions(versions) if verb == Verb::Deprecate => {
                join_all(versions.iter().map(|v| self.deprecate(package, v, cx))).await
            }
            Act::Versions(versions) => {
                // What is in use is checked here, twelve versions a search,
                // each twelve before its deletes (a policy's selected
                // versions come `Checked`).
                let protect = in_use == InUseCheck::Check && verb == Verb::Delete;
                self.delete_versions(package, versions, (unset_default_version, protect), cx)
                    .await
            }
            Act::DeletePackage => {
                vec![
                    self.delete_package(package, unset_default_version, cx)
                        .await,
                ]
            }
        }
    }
}

/// A package's state as a policy sees it: newest first by creation date
/// (the listing's order is undocumented), with ages against `older_than`.
fn listing_of(state: &PackageState, older_than: Option<f64>) -> Listing {
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
            published_ms: v.created.map(|c| (c * 1000.0) as i64),
        })
        .collect();
    Listing {
        versions,
        default_version: state.default_version.clone(),
        missing: false,
    }
}

/// What the in-use check answered for a request's versions, and the calls
/// it made.
pub(super) type Checked = Tried<BTreeMap<String, Usage>, Arc<DeleteError>>;

/// Why `version` may not be deleted, by what the in-use check answered.
pub(super) fn refusal(
    package: &str,
    version: &str,
    usage: &Result<BTreeMap<String, Usage>, Arc<DeleteError>>,
) -> Option<Arc<DeleteError>> {
    let refused = |e| Some(Arc::new(e));
    match usage.as_ref().map(|u| u.get(version)) {
        Err(e) => Some(e.clone()),
        Ok(Some(Usage::Unused)) => None,
        // Not asked about: no answer is no protection.
        Ok(None) => refused(DeleteError::InUseUnknown {
            package: package.to_owned(),
            version: version.to_owned(),
            reason: "its use was not read".to_owned(),
        }),
        Ok(Some(Usage::InUse(detail))) => refused(DeleteError::InUse {
            package: package.to_owned(),
            version: version.to_owned(),
            detail: detail.clone(),
        }),
        Ok(Some(Usage::Unknown(reason))) => refused(DeleteError::InUseUnknown {
            package: package.to_owned(),
            version: version.to_owned(),
            reason: reason.clone(),
        }),
    }
}
