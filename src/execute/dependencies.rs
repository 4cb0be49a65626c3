//! `protectDependencies` and the index it reads: who depends on a package
//! (read beside its listing, failing closed), and one version's entry in
//! the index made afresh from what CodeArtifact holds now.

use std::sync::Arc;

use futures::StreamExt;

use super::downloads::package_key;
use super::{CallContext, Done, Executor, ItemOutcome};
use crate::downloads::{DependencyTable, Dependent, Dependents, PackageKey};
use crate::plan::Item;
use crate::policy::Retention;
use crate::request::{CodeArtifactPackage, Request, Target};
use crate::retry::Tried;
use crate::service::Status;

/// What to run to build a domain's index, for the reasons that name it.
fn backfill_hint(package: &CodeArtifactPackage) -> String {
    let owner = package
        .domain_owner
        .as_deref()
        .map(|o| format!(",\"domainOwner\":\"{o}\""))
        .unwrap_or_default();
    format!(
        "index it with {{\"service\":\"codeartifact\",\"domain\":\"{}\"{owner},\"indexDependencies\":true}} and wait for it to finish",
        package.domain
    )
}

/// Whether a version in this status is present: it can be installed or
/// restored, so what it needs must stay.
fn present(status: &aws_sdk_codeartifact::types::PackageVersionStatus) -> bool {
    use aws_sdk_codeartifact::types::PackageVersionStatus as S;
    matches!(status, S::Published | S::Unlisted | S::Archived)
}

impl Executor {
    /// Who depends on the package, when its policy sets
    /// `protectDependencies`; `None` otherwise. Fails closed: no table, a
    /// domain whose index no backfill completed, or a read that fails
    /// gives [`Dependents::Unknown`], saying why and what to run. Calls:
    /// the domain's marker (once per warm execution environment once
    /// complete) and one paged `Query` of the package's edges, at once.
    pub(super) async fn dependents(
        &self,
        request: &Request,
        retention: &Retention,
        cx: &CallContext<'_>,
    ) -> Option<Dependents> {
        if !retention.policy.protect_dependencies {
            return None;
        }
        let Target::CodeArtifact { package, .. } = &request.target else {
            return None;
        };
        let hint = backfill_hint(package);
        let unknown = |why: String| Some(Dependents::Unknown(format!("{why}: {hint}")));
        let Some(table) = &self.dependencies else {
            return unknown("DOWNLOADS_TABLE is not set, so no index of dependencies is kept (deploy with RecordDownloads=true)".into());
        };
        let Some(key) = package_key(package, cx.account) else {
            return unknown("the domain owner is not known (name `domainOwner`)".into());
        };
        let (complete, edges) = tokio::join!(
            table.complete(&key, cx.retrier),
            table.edges(&key, cx.retrier)
        );
        match (complete.result, edges.result) {
            (Err(e), _) | (_, Err(e)) => unknown(format!(
                "the index of dependencies cannot be read ({})",
                e.chain()
            )),
            (Ok(false), _) => unknown(format!(
                "the index of dependencies of domain {} is not complete",
                package.domain
            )),
            (Ok(true), Ok(edges)) => Some(Dependents::Known(edges)),
        }
    }

    /// Makes one version's entry in the index afresh from CodeArtifact:
    /// present (Published, Unlisted, Archived), its declared dependencies
    /// are indexed; otherwise (deleted, disposed, unfinished, not there)
    /// its edges are removed. An event is only a hint, so duplicate and
    /// out-of-order events end the same. Returns the edges written.
    /// Without the table, nothing is done.
    pub(crate) async fn reindex(
        &self,
        package: &CodeArtifactPackage,
        dependent: &Dependent,
        cx: &CallContext<'_>,
    ) -> Tried<u64> {
        let Some(table) = &self.dependencies else {
            return Tried::free(0);
        };
        let status = self
            .codeartifact
            .status(package, &dependent.version, cx)
            .await;
        let mut calls = status.calls;
        let is_present = match status.result {
            Ok(s) => s.as_ref().is_some_and(present),
            Err(e) => return Tried::new(Err(e), calls),
        };
        let declared = match is_present {
            true => {
                let read = self
                    .codeartifact
                    .dependencies(package, &dependent.version, cx)
                    .await;
                calls += read.calls;
                match read.result {
                    Ok(d) => d,
                    Err(e) => return Tried::new(Err(e), calls),
                }
            }
            false => None,
        };
        let written = match declared {
            Some(declared) => table.index(dependent, &declared, (true, cx.retrier)).await,
            None => table.remove(dependent, cx.retrier).await.map(|()| 0),
        };
        written.after(calls)
    }

    /// A backfill's part: every present version of the package (or, handed
    /// on, those of `only` still present) indexed, each its own item
    /// (`Indexed`, or failed with its error). Returns the outcomes and the
    /// edges written; a listing that fails is the package's one failed
    /// item. Reads: the listing, then one ListPackageVersionDependencies a
    /// version (paged), sixteen versions at a time, paced in the read quota.
    pub(crate) async fn index_package(
        &self,
        (table, key): (&DependencyTable, &PackageKey),
        package: &CodeArtifactPackage,
        only: Option<&[String]>,
        cx: &CallContext<'_>,
    ) -> (Vec<ItemOutcome>, u64) {
        let listing = self.codeartifact.versions(package, None, cx).await;
        let versions: Vec<String> = match listing.result {
            Ok(l) => (l.versions.into_iter())
                .filter(|v| matches!(&v.status, Status::CodeArtifact(s) if present(s)))
                .map(|v| v.name)
                .filter(|v| only.is_none_or(|o| o.contains(v)))
                .collect(),
            Err(e) => {
                let failed = ItemOutcome::failed(Item::Package, Arc::new(e), listing.calls);
                return (vec![failed], 0);
            }
        };
        let runs = versions
            .into_iter()
            .map(|version| self.index_version((table, key), package, version, cx));
        let done: Vec<(String, Tried<u64>)> = futures::stream::iter(runs)
            .buffer_unordered(16)
            .collect()
            .await;
        let mut edges = 0;
        let outcomes = done
            .into_iter()
            .map(|(v, t)| match t.result {
                Ok(n) => {
                    edges += n;
                    ItemOutcome::done(Item::Version(v), Done::Indexed, t.calls)
                }
                Err(e) => ItemOutcome::failed(Item::Version(v), Arc::new(e), t.calls),
            })
            .collect();
        (outcomes, edges)
    }

    /// One present version of a backfill's package: its dependencies read
    /// and indexed. Returns the version and the edges written.
    async fn index_version(
        &self,
        (table, key): (&DependencyTable, &PackageKey),
        package: &CodeArtifactPackage,
        version: String,
        cx: &CallContext<'_>,
    ) -> (String, Tried<u64>) {
        let dependent = Dependent {
            key: key.clone(),
            repository: package.repository.clone(),
            version,
        };
        let read = self
            .codeartifact
            .dependencies(package, &dependent.version, cx)
            .await;
        let written = match read.result {
            Ok(Some(d)) => table.index(&dependent, &d, (false, cx.retrier)).await,
            // Gone since the listing: nothing to index.
            Ok(None) => Tried::free(0),
            Err(e) => Tried::new(Err(e), 0),
        };
        (dependent.version, written.after(read.calls))
    }

    /// Removes the edges of versions this run deleted (their Deleted
    /// events remove them too, later). Without the table, nothing. A
    /// failure is logged: the events remove them.
    pub(super) async fn forget(
        &self,
        package: &CodeArtifactPackage,
        versions: Vec<String>,
        cx: &CallContext<'_>,
    ) {
        let (Some(table), Some(key)) = (&self.dependencies, package_key(package, cx.account))
        else {
            return;
        };
        if versions.is_empty() {
            return;
        }
        let dependents: Vec<Dependent> = versions
            .into_iter()
            .map(|version| Dependent {
                key: key.clone(),
                repository: package.repository.clone(),
                version,
            })
            .collect();
        if let Err(e) = table.remove_many(&dependents, cx.retrier).await.result {
            tracing::warn!(package = %package, error = %e.chain(), "the edges of deleted versions were not removed; their Deleted events remove them");
        }
    }
}
