//! Acting on an IoT package: UpdatePackage to clear the default version,
//! DeletePackageVersion per version (concurrently, bounded by the
//! retrier), DeletePackage once no version remains, and
//! UpdatePackageVersion to deprecate.

use std::sync::{Arc, Mutex};

use futures::future::join_all;
use tokio::time::Instant;

use super::{lock, refusal, Checked, IotAdapter, PackageState};
use crate::error::DeleteError;
use crate::execute::inuse::MOST_TERMS;
use crate::execute::{api_error, client_token, not_found, CallContext, Done, ItemOutcome};
use crate::plan::Item;
use crate::request::Service;
use crate::retry::{nth, QuotaClass, Tried};

impl IotAdapter {
    async fn unset_default(
        &self,
        package: &str,
        state: &Mutex<PackageState>,
        cx: &CallContext<'_>,
    ) -> Tried<()> {
        let token = client_token(cx.source, "UpdatePackage", package, "");
        let Tried { result, calls } = cx
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
        Tried::new(result, calls)
    }

    async fn delete_version(
        &self,
        package: &str,
        version: &str,
        state: &Mutex<PackageState>,
        cx: &CallContext<'_>,
    ) -> ItemOutcome {
        let token = client_token(cx.source, "DeletePackageVersion", package, version);
        let Tried {
            result,
            calls: attempts,
        } = cx
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
                let mut st = lock(state);
                st.versions.remove(version);
                st.gone
                    .insert(version.to_owned(), tokio::time::Instant::now());
                drop(st);
                ItemOutcome::done(item, done, attempts)
            }
            Err(e) => ItemOutcome::failed(item, Arc::new(e), attempts),
        }
    }
    /// UpdatePackageVersion with `action: DEPRECATE`, one version.
    pub(super) async fn deprecate(
        &self,
        package: &str,
        version: &str,
        cx: &CallContext<'_>,
    ) -> ItemOutcome {
        let token = client_token(cx.source, "UpdatePackageVersion", package, version);
        let Tried {
            result,
            calls: attempts,
        } = cx
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

    /// One requested version after its package's reads: a version the
    /// listing did not show, and cannot prove absent, is read first; then,
    /// unless `usage` (its twelve's search) refuses it, the delete. Each
    /// version goes to its delete as soon as its reads are back, so a run
    /// cut short by the deadline has settled what it read.
    ///
    /// The unlisted read stays: DeletePackageVersion is idempotent and
    /// answers 200 for a version that does not exist, so without the read a
    /// version that was never there would be reported deleted.
    async fn delete_one(
        &self,
        package: &str,
        (version, listed): (&str, bool),
        usage: Option<&Checked>,
        state: &Mutex<PackageState>,
        cx: &CallContext<'_>,
    ) -> ItemOutcome {
        let item = || Item::Version(version.to_owned());
        let mut spent = 0;
        if !listed {
            match self.status(package, version, cx).await {
                Tried {
                    result: Ok(None),
                    calls: n,
                } => return ItemOutcome::done(item(), Done::AlreadyAbsent, n),
                Tried {
                    result: Ok(Some(_)),
                    calls: n,
                } => spent += n,
                Tried {
                    result: Err(e),
                    calls: n,
                } => return ItemOutcome::failed(item(), Arc::new(e), n),
            }
        }
        if let Some(Tried {
            result: usage,
            calls: n,
        }) = usage
        {
            spent += n;
            if let Some(e) = refusal(package, version, usage) {
                return ItemOutcome::failed(item(), e, spent);
            }
        }
        let mut o = self.delete_version(package, version, state, cx).await;
        o.attempts += spent;
        o
    }

    /// Explicit versions of one package. The package's state is read once
    /// ([`IotAdapter::state_for_deletes`]); a version whose delete the
    /// execution environment saw answered is settled without a call. With `protect`, what is in use is
    /// read twelve versions at a time (one SearchIndex), each twelve's
    /// before its deletes.
    pub(super) async fn delete_versions(
        &self,
        package: &str,
        versions: &[String],
        (unset_default_version, protect): (bool, bool),
        cx: &CallContext<'_>,
    ) -> Vec<ItemOutcome> {
        let Tried {
            result: state,
            calls: attempts,
        } = self.state_for_deletes(package, cx).await;
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
        let (listed, default_version) = seen(&state, versions, cx.retrier.started());
        let mut outcomes = Vec::with_capacity(versions.len());
        let mut to_delete = Vec::new();
        for (v, (listed, gone)) in versions.iter().zip(listed) {
            let refused = match default_version.as_deref() == Some(v.as_str()) {
                _ if !listed && gone => Some(ItemOutcome::done(
                    Item::Version(v.clone()),
                    Done::AlreadyAbsent,
                    attempts,
                )),
                false => None,
                true => {
                    let item = Item::Version(v.clone());
                    let unset = unset_default_version;
                    let cleared = self.default_cleared(item, (package, v), unset, &state, cx);
                    cleared.await.err().map(|o| o.after(attempts))
                }
            };
            match refused {
                Some(o) => outcomes.push(o),
                None => to_delete.push((v.as_str(), listed)),
            }
        }
        outcomes.extend(
            self.delete_by_twelves(package, &to_delete, protect, &state, cx)
                .await,
        );
        outcomes
    }

    /// The package's default version `v`, cleared before `item` is deleted
    /// when the request allows it (`unsetDefaultVersion`): the calls that
    /// took; otherwise, or if clearing fails, `item`'s outcome.
    async fn default_cleared(
        &self,
        item: Item,
        (package, v): (&str, &str),
        unset_default_version: bool,
        state: &Mutex<PackageState>,
        cx: &CallContext<'_>,
    ) -> Result<u32, ItemOutcome> {
        if !unset_default_version {
            let e = DeleteError::DefaultVersion {
                package: package.to_owned(),
                version: v.to_owned(),
            };
            return Err(ItemOutcome::failed(item, Arc::new(e), 0));
        }
        match self.unset_default(package, state, cx).await {
            Tried {
                result: Ok(()),
                calls,
            } => Ok(calls),
            Tried {
                result: Err(e),
                calls,
            } => Err(ItemOutcome::failed(item, Arc::new(e), calls)),
        }
    }

    /// Progress before breadth: twelve versions at a time (one search),
    /// the first twelve's searches and deletes before the next's. Each
    /// version is `(name, listed)`.
    async fn delete_by_twelves(
        &self,
        package: &str,
        versions: &[(&str, bool)],
        protect: bool,
        state: &Mutex<PackageState>,
        cx: &CallContext<'_>,
    ) -> Vec<ItemOutcome> {
        let groups = join_all(versions.chunks(MOST_TERMS).enumerate().map(|(k, group)| {
            nth(k, async move {
                let usage = match protect {
                    false => None,
                    true => {
                        let asked: Vec<String> =
                            group.iter().map(|(v, _)| (*v).to_owned()).collect();
                        Some(self.usage(package, &asked, cx).await.map_err(Arc::new))
                    }
                };
                // The search's calls count once, on the group's first
                // version.
                let unshared = usage.as_ref().map(|u| Tried::new(u.result.clone(), 0));
                join_all(group.iter().enumerate().map(|(i, v)| {
                    let usage = if i == 0 { &usage } else { &unshared };
                    nth(i, self.delete_one(package, *v, usage.as_ref(), state, cx))
                }))
                .await
            })
        }))
        .await;
        groups.into_iter().flatten().collect()
    }

    /// The whole package: clear the default (only when allowed), delete every
    /// version, then the package. One outcome, for the package item.
    pub(super) async fn delete_package(
        &self,
        package: &str,
        unset_default_version: bool,
        cx: &CallContext<'_>,
    ) -> ItemOutcome {
        let fail = |e: DeleteError, n| ItemOutcome::failed(Item::Package, Arc::new(e), n);
        let Tried {
            result: state,
            calls: mut attempts,
        } = self.state(package, cx).await;
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
            let unset = unset_default_version;
            let cleared =
                self.default_cleared(Item::Package, (package, default), unset, &state, cx);
            match cleared.await {
                Ok(calls) => attempts += calls,
                Err(o) => return o.after(attempts),
            }
        }
        let deleted = join_all(
            versions
                .iter()
                .map(|v| self.delete_version(package, v, &state, cx)),
        )
        .await;
        let blocked = blocking_failure(package, deleted);
        attempts += blocked.calls;
        if let Err(e) = blocked.result {
            return ItemOutcome::failed(Item::Package, e, attempts);
        }
        let Tried {
            result: r,
            calls: n,
        } = self.delete_empty_package(package, cx).await;
        attempts += n;
        match r {
            Ok(_) => ItemOutcome::done(Item::Package, Done::Deleted, attempts),
            Err(e) => fail(e, attempts),
        }
    }

    /// DeletePackage, once no version remains.
    async fn delete_empty_package(&self, package: &str, cx: &CallContext<'_>) -> Tried<Done> {
        let token = client_token(cx.source, "DeletePackage", package, "");
        cx.retrier
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
            .await
    }
}

/// The failure that keeps a package from going, if any of its versions'
/// deletes failed (`Err`), with the calls the deletes made.
fn blocking_failure(package: &str, deleted: Vec<ItemOutcome>) -> Tried<(), Arc<DeleteError>> {
    let mut attempts = 0;
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
    Tried::new(first_failure.map_or(Ok(()), Err), attempts)
}

/// For each version: whether the package's state lists it, and whether a
/// delete this execution environment saw answered (since `started`)
/// removed it; and the package's default version.
fn seen(
    state: &Mutex<PackageState>,
    versions: &[String],
    started: Instant,
) -> (Vec<(bool, bool)>, Option<String>) {
    let st = lock(state);
    let listed = versions
        .iter()
        .map(|v| {
            let gone = st.gone.get(v).is_some_and(|at| *at >= started);
            (st.versions.contains_key(v), gone)
        })
        .collect();
    (listed, st.default_version.clone())
}
