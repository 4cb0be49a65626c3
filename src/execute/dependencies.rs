//! `protectDependencies` and the index it reads: who depends on a package
//! (read beside its listing, failing closed), and one version's entry in
//! the index made afresh from what CodeArtifact holds now.

use std::sync::Arc;

use futures::StreamExt;

use super::downloads::package_key;
use super::{CallContext, Done, Executor, ItemOutcome};
use crate::downloads::{DependencyTable, Dependent, Dependents, PackageKey, Write};
use crate::error::{DeleteError, ErrorClass};
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
        // CodeArtifact sends its state-change events to the domain owner's
        // account (and the repository administrator's): a function in
        // another account never hears of a new dependent.
        if cx.account.is_some_and(|a| a != key.domain_owner) {
            return unknown(format!(
                "domain {} is owned by account {}, and CodeArtifact's events, which keep the index current, reach only that account: deploy the function there",
                package.domain, key.domain_owner
            ));
        }
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
        let first = self.is_present(package, dependent, cx).await;
        let calls = first.calls;
        match first.result {
            Err(e) => return Tried::new(Err(e), calls),
            Ok(true) => {
                return self
                    .index_present(table, package, dependent, cx)
                    .await
                    .after(calls)
            }
            Ok(false) => {}
        }
        let removed = table.remove(dependent, cx.retrier).await.after(calls);
        if removed.result.is_err() {
            return removed.map(|()| 0);
        }
        // A publish of the same version may have raced the removal: read
        // again, and index it if it is back.
        let again = self
            .is_present(package, dependent, cx)
            .await
            .after(removed.calls);
        match again.result {
            Err(e) => Tried::new(Err(e), again.calls),
            Ok(true) => {
                (self.index_present(table, package, dependent, cx).await).after(again.calls)
            }
            Ok(false) => Tried::new(Ok(0), again.calls),
        }
    }

    /// Whether the version is present now (DescribePackageVersion).
    async fn is_present(
        &self,
        package: &CodeArtifactPackage,
        dependent: &Dependent,
        cx: &CallContext<'_>,
    ) -> Tried<bool> {
        let status = self
            .codeartifact
            .status(package, &dependent.version, cx)
            .await;
        status.map(|s| s.as_ref().is_some_and(present))
    }

    /// Indexes a version CodeArtifact just called present. Its
    /// dependencies not found then is a race (or a read not yet
    /// consistent), not an absence: a transient error, so that the event is
    /// delivered again rather than the version left without its edges.
    async fn index_present(
        &self,
        table: &DependencyTable,
        package: &CodeArtifactPackage,
        dependent: &Dependent,
        cx: &CallContext<'_>,
    ) -> Tried<u64> {
        let read = (self.codeartifact)
            .dependencies(package, &dependent.version, cx)
            .await;
        match read.result {
            Ok(Some(d)) => {
                (table.index(dependent, &d, (Write::Again, cx.retrier)).await).after(read.calls)
            }
            Ok(None) => Tried::new(Err(not_found_while_present(dependent)), read.calls),
            Err(e) => Tried::new(Err(e), read.calls),
        }
    }

    /// A backfill's part: every present version of the package (or, handed
    /// on, those of `only`) indexed, each its own item (`Indexed`; gone
    /// since, `AlreadyAbsent`; or failed with its error). A listing that
    /// fails is the package's one failed item. Reads: the listing, then one
    /// ListPackageVersionDependencies a version (paged), sixteen versions at
    /// a time, paced in the read quota.
    pub(crate) async fn index_package(
        &self,
        (table, key): (&DependencyTable, &PackageKey),
        package: &CodeArtifactPackage,
        only: Option<&[String]>,
        cx: &CallContext<'_>,
    ) -> PartRun {
        let listing = self.codeartifact.versions(package, None, cx).await;
        let present: Vec<String> = match listing.result {
            Ok(l) => (l.versions.into_iter())
                .filter(|v| matches!(&v.status, Status::CodeArtifact(s) if present(s)))
                .map(|v| v.name)
                .collect(),
            Err(e) => {
                let failed = ItemOutcome::failed(Item::Package, Arc::new(e), listing.calls);
                return PartRun::of(vec![failed], Vec::new());
            }
        };
        let (chosen, mut outcomes) = choose(&present, only);
        let runs = chosen
            .into_iter()
            .map(|version| self.index_version((table, key), package, version, cx));
        let done: Vec<(String, Tried<Option<u64>>)> = futures::stream::iter(runs)
            .buffer_unordered(16)
            .collect()
            .await;
        let mut run = PartRun::of(Vec::new(), present);
        for (v, t) in done {
            let item = Item::Version(v);
            outcomes.push(match t.result {
                Ok(Some(n)) => {
                    run.edges += n;
                    ItemOutcome::done(item, Done::Indexed, t.calls)
                }
                Ok(None) => ItemOutcome::done(item, Done::AlreadyAbsent, t.calls),
                Err(e) => ItemOutcome::failed(item, Arc::new(e), t.calls),
            });
        }
        run.outcomes = outcomes;
        run
    }

    /// One present version of a backfill's package: its dependencies read
    /// and indexed. Returns the version and the edges written.
    async fn index_version(
        &self,
        (table, key): (&DependencyTable, &PackageKey),
        package: &CodeArtifactPackage,
        version: String,
        cx: &CallContext<'_>,
    ) -> (String, Tried<Option<u64>>) {
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
            Ok(Some(d)) => (table
                .index(&dependent, &d, (Write::Backfill, cx.retrier))
                .await)
                .map(Some),
            // Gone since the listing: nothing to index.
            Ok(None) => Tried::free(None),
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

/// A present version whose dependencies are not found: transient.
fn not_found_while_present(dependent: &Dependent) -> DeleteError {
    DeleteError::Api {
        service: crate::service::Service::CodeArtifact,
        operation: "ListPackageVersionDependencies",
        code: "ResourceNotFoundException".into(),
        class: ErrorClass::Transient,
        source: format!(
            "{} is present (DescribePackageVersion) but its dependencies are not found",
            dependent.label()
        )
        .into(),
    }
}

/// What a backfill's part came to.
#[derive(Debug)]
pub(crate) struct PartRun {
    /// One per version indexed (or gone, or failed); the package's, when
    /// its listing failed.
    pub(crate) outcomes: Vec<ItemOutcome>,
    /// Edges written.
    pub(crate) edges: u64,
    /// Every present version the listing showed.
    pub(crate) present: Vec<String>,
}

impl PartRun {
    fn of(outcomes: Vec<ItemOutcome>, present: Vec<String>) -> PartRun {
        PartRun {
            outcomes,
            edges: 0,
            present,
        }
    }
}

/// The present versions a part indexes (all, or those `only` names), and
/// an `AlreadyAbsent` outcome for each named version no longer present.
/// Pure.
fn choose(present: &[String], only: Option<&[String]>) -> (Vec<String>, Vec<ItemOutcome>) {
    let Some(only) = only else {
        return (present.to_vec(), Vec::new());
    };
    let (chosen, gone): (Vec<&String>, Vec<&String>) =
        only.iter().partition(|v| present.contains(v));
    let gone = gone
        .into_iter()
        .map(|v| ItemOutcome::done(Item::Version(v.clone()), Done::AlreadyAbsent, 0))
        .collect();
    (chosen.into_iter().cloned().collect(), gone)
}
