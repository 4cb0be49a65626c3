//! `measureStorage`: what the versions a policy selected free when
//! deleted. Before any delete, each selected version's assets are read
//! (ListPackageVersionAssets), and each other repository of the domain
//! (ListRepositoriesInDomain, once per domain per invocation) is listed
//! once for the package (ListPackageVersions): a version another
//! repository holds shares its assets, which stay stored. For `S`
//! selected versions in a domain of `R` repositories, a package costs `S`
//! asset listings and `R - 1` version listings (more pages only past
//! 1,000 assets or versions), whatever `S` is; asking each other
//! repository about each version would cost `S × (R - 1)`.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use futures::future::join_all;
use tokio::sync::OnceCell;

use super::{CallContext, Executor};
use crate::plan::VersionBytes;
use crate::policy::Retention;
use crate::request::{CodeArtifactPackage, Request, Target};
use crate::retry::Tried;

/// A domain's name and owner (as the request gave it).
type DomainKey = (String, Option<String>);

/// What an invocation has read of its domains: their repositories,
/// listed once per domain (and owner) however many packages need them. A
/// listing that failed is not kept: the next request tries again.
#[derive(Debug, Default)]
pub(crate) struct DomainReads {
    repositories: Mutex<HashMap<DomainKey, Arc<OnceCell<Vec<String>>>>>,
}

impl DomainReads {
    fn cell(&self, pkg: &CodeArtifactPackage) -> Arc<OnceCell<Vec<String>>> {
        let key = (pkg.domain.clone(), pkg.domain_owner.clone());
        self.repositories
            .lock()
            .expect("domain reads lock")
            .entry(key)
            .or_default()
            .clone()
    }
}

impl Executor {
    /// With `measureStorage`, what a CodeArtifact policy's selected
    /// versions free ([`Executor::measure`]); nothing measured without.
    pub(super) async fn measured(
        &self,
        request: &Request,
        retention: &Retention,
        selected: &[String],
        cx: &CallContext<'_>,
    ) -> Tried<BTreeMap<String, VersionBytes>> {
        match &request.target {
            Target::CodeArtifact { package, .. } if retention.measure_storage => {
                self.measure(package, selected, cx).await
            }
            _ => Tried::free(BTreeMap::new()),
        }
    }

    /// The bytes of each version of `selected` and whether another
    /// repository of the domain holds it. A version gone meanwhile is of
    /// unknown size. A read that fails fails the measurement, so the
    /// package fails as a listing that failed would (retried, then handed
    /// on): a reported figure is never a guess.
    pub(super) async fn measure(
        &self,
        pkg: &CodeArtifactPackage,
        selected: &[String],
        cx: &CallContext<'_>,
    ) -> Tried<BTreeMap<String, VersionBytes>> {
        if selected.is_empty() {
            return Tried::free(BTreeMap::new());
        }
        // Both at once; at most MAX_CONCURRENCY calls at once, as every
        // call (the retrier's).
        let (elsewhere, sizes) = tokio::join!(
            self.held_elsewhere(pkg, cx),
            join_all(
                selected
                    .iter()
                    .map(|v| self.codeartifact.asset_bytes(pkg, v, cx)),
            )
        );
        let calls = elsewhere.calls + sizes.iter().map(|t| t.calls).sum::<u32>();
        let elsewhere = match elsewhere.result {
            Ok(e) => e,
            Err(e) => return Tried::new(Err(e), calls),
        };
        let mut out = BTreeMap::new();
        for (v, read) in selected.iter().zip(sizes) {
            let bytes = match read.result {
                Ok(Some(a)) if a.unsized_assets == 0 => Some(a.bytes),
                Ok(_) => None,
                Err(e) => return Tried::new(Err(e), calls),
            };
            let shared = elsewhere.contains(v);
            out.insert(v.clone(), VersionBytes { bytes, shared });
        }
        Tried::new(Ok(out), calls)
    }

    /// The versions of `pkg` that the domain's other repositories hold
    /// (listed as the policy's own listing is: every status, the model's
    /// default, of which Disposed and Deleted hold no assets).
    async fn held_elsewhere(
        &self,
        pkg: &CodeArtifactPackage,
        cx: &CallContext<'_>,
    ) -> Tried<BTreeSet<String>> {
        let mut listed = 0;
        let cell = cx.domain_reads.cell(pkg);
        let repositories = cell
            .get_or_try_init(|| async {
                let Tried { result, calls } = self
                    .codeartifact
                    .repositories(&pkg.domain, pkg.domain_owner.as_deref(), cx)
                    .await;
                listed = calls;
                result
            })
            .await;
        let repositories = match repositories {
            Ok(r) => r,
            Err(e) => return Tried::new(Err(e), listed),
        };
        let others: Vec<CodeArtifactPackage> = (repositories.iter())
            .filter(|r| **r != pkg.repository)
            .map(|r| CodeArtifactPackage {
                repository: r.clone(),
                ..pkg.clone()
            })
            .collect();
        let held: Vec<Tried<BTreeSet<String>>> = join_all(
            others
                .iter()
                .map(|other| self.codeartifact.held_versions(other, cx)),
        )
        .await;
        let calls = listed + held.iter().map(|t| t.calls).sum::<u32>();
        let mut all = BTreeSet::new();
        for t in held {
            match t.result {
                Ok(versions) => all.extend(versions),
                Err(e) => return Tried::new(Err(e), calls),
            }
        }
        Tried::new(Ok(all), calls)
    }
}
