//! `indexDependencies`: a backfill of a domain's index of dependencies.
//! The whole domain is listed (every repository, every package) and fanned
//! out over the work queue, one part per package (or, without a work
//! queue or on a FIFO record, run here in turn); each part indexes its
//! package's present versions, then records itself done, and the part that
//! finds every part done marks the domain's index complete
//! ([`crate::downloads::Backfill`]).

use std::sync::Arc;

use super::run::Runner;
use crate::account::{Entry, RequestResult};
use crate::decode::{DecodeError, Invalid};
use crate::downloads::{Backfill, DependencyTable, PackageKey};
use crate::execute::{package_key, CallContext, ItemOutcome, PackagesQuery};
use crate::plan::Item;
use crate::request::{CodeArtifactPackage, IndexRequest, Job, PackageRef};
use crate::retry::Tried;

impl Runner<'_> {
    /// A backfill (the `index`-th request of its delivery), or one part.
    pub(super) async fn run_index(
        &self,
        request: IndexRequest,
        (index, may_fan_out): (usize, bool),
        cx: &CallContext<'_>,
    ) -> Vec<Entry> {
        let table = match &self.executor.dependencies {
            Some(t) => t.clone(),
            None => return vec![unsupported(&request, "`indexDependencies` keeps the index in the function's table, and DOWNLOADS_TABLE is not set (deploy with RecordDownloads=true)")],
        };
        let owner = request.domain_owner.as_deref().or(cx.account);
        let Some(owner) = owner else {
            return vec![unsupported(
                &request,
                "the domain owner is not known: name `domainOwner`",
            )];
        };
        let backfill = |id: &str| Backfill {
            domain_owner: owner.to_owned(),
            domain: request.domain.clone(),
            id: id.to_owned(),
        };
        match request.part.clone() {
            Some((part, package)) => {
                let b = backfill(&part.id);
                vec![self.run_part(&table, &b, &package, request, cx).await]
            }
            None => {
                let id = uuid::Uuid::new_v5(
                    &uuid::Uuid::NAMESPACE_OID,
                    format!("packprune/backfill/{}/{index}", cx.source).as_bytes(),
                )
                .to_string();
                self.begin_backfill(&table, &backfill(&id), request, may_fan_out, cx)
                    .await
            }
        }
    }

    /// Lists the domain, records how many parts the backfill has, then
    /// fans them out (or runs them here).
    async fn begin_backfill(
        &self,
        table: &DependencyTable,
        backfill: &Backfill,
        request: IndexRequest,
        may_fan_out: bool,
        cx: &CallContext<'_>,
    ) -> Vec<Entry> {
        let listed = self.domain_packages(&request, cx).await;
        let calls = listed.calls;
        let packages = match listed.result {
            Ok(p) => p,
            Err(e) => return vec![failed(request, Arc::new(e), calls)],
        };
        tracing::info!(domain = %request.domain, packages = packages.len(), backfill = %backfill.id, "backfill of the index of dependencies begun");
        let begun = table
            .begin(backfill, packages.len() as u64, cx.retrier)
            .await;
        if let Err(e) = begun.result {
            return vec![failed(request, Arc::new(e), calls + begun.calls)];
        }
        let parts: Vec<IndexRequest> = (packages.into_iter().enumerate())
            .map(|(n, p)| request.part(&backfill.id, n as u64, p))
            .collect();
        if may_fan_out && self.config.work_queue_url.is_some() && parts.len() > 1 {
            return vec![Entry::FannedOut(
                parts.into_iter().map(Job::Index).collect(),
            )];
        }
        let mut entries = Vec::with_capacity(parts.len());
        for part in parts {
            let Some((_, package)) = part.part.clone() else {
                continue;
            };
            entries.push(self.run_part(table, backfill, &package, part, cx).await);
        }
        entries
    }

    /// Every package of every repository of the domain.
    async fn domain_packages(
        &self,
        request: &IndexRequest,
        cx: &CallContext<'_>,
    ) -> Tried<Vec<CodeArtifactPackage>> {
        let owner = request.domain_owner.as_deref();
        let codeartifact = &self.executor.codeartifact;
        let repositories = codeartifact.repositories(&request.domain, owner, cx).await;
        let mut calls = repositories.calls;
        let repositories = match repositories.result {
            Ok(r) => r,
            Err(e) => return Tried::new(Err(e), calls),
        };
        let mut out = Vec::new();
        for repository in repositories {
            let query = PackagesQuery {
                domain: &request.domain,
                domain_owner: owner,
                repository: &repository,
                format: None,
                namespace: None,
                prefix: None,
            };
            let listed = codeartifact.packages(query, cx).await;
            calls += listed.calls;
            let packages = match listed.result {
                Ok(p) => p,
                Err(e) => return Tried::new(Err(e), calls),
            };
            out.extend(packages.into_iter().filter_map(|p| match p {
                PackageRef::CodeArtifact {
                    format,
                    namespace,
                    package,
                } => Some(CodeArtifactPackage {
                    domain: request.domain.clone(),
                    domain_owner: request.domain_owner.clone(),
                    repository: repository.clone(),
                    format,
                    namespace,
                    package,
                }),
                PackageRef::Iot { .. } => None,
            }));
        }
        Tried::new(Ok(out), calls)
    }

    /// One part: its package's present versions indexed; once all are,
    /// the part recorded done (and, the last, the domain complete).
    async fn run_part(
        &self,
        table: &DependencyTable,
        backfill: &Backfill,
        package: &CodeArtifactPackage,
        request: IndexRequest,
        cx: &CallContext<'_>,
    ) -> Entry {
        let Some(key): Option<PackageKey> = package_key(package, cx.account) else {
            return unsupported(
                &request,
                "the domain owner is not known: name `domainOwner`",
            );
        };
        let only = request.versions.as_deref();
        let run = self
            .executor
            .index_package((table, &key), package, only, cx)
            .await;
        let (mut outcomes, edges) = (run.outcomes, run.edges);
        // A hand-on of some of the part's versions completes the part only
        // if every present version has its entry (others may wait in other
        // messages of the same part).
        let whole = match only {
            None => true,
            Some(_) => {
                let all = table
                    .all_indexed(&key, package, &run.present, cx.retrier)
                    .await;
                all.result.unwrap_or_else(|e| {
                    outcomes.push(ItemOutcome::failed(Item::Package, Arc::new(e), all.calls));
                    false
                })
            }
        };
        if whole && outcomes.iter().all(|o| o.result.is_ok()) {
            let done = table
                .part_done(backfill, &part_key(package), cx.retrier)
                .await;
            match done.result {
                Ok(true) => {
                    tracing::info!(domain = %package.domain, backfill = %backfill.id, "the index of dependencies is complete")
                }
                Ok(false) => {}
                // The part's versions are indexed; it is redone, harmlessly.
                Err(e) => {
                    outcomes.push(ItemOutcome::failed(Item::Package, Arc::new(e), done.calls))
                }
            }
        }
        tracing::info!(package = %package, edges, "backfill part indexed");
        Entry::Executed(Box::new(RequestResult {
            request: Job::Index(request),
            outcomes,
            plan: None,
            package_not_found: false,
            learned: false,
            edges_written: edges,
        }))
    }
}

/// A part's key in the backfill: its package, wherever a listing put it.
fn part_key(p: &CodeArtifactPackage) -> String {
    let ns = p.namespace.as_deref().unwrap_or("");
    format!("{}/{}/{ns}/{}", p.repository, p.format.as_str(), p.package)
}

/// The request fails as one item with `e`, after `calls` calls.
fn failed(request: IndexRequest, e: Arc<crate::error::DeleteError>, calls: u32) -> Entry {
    Entry::Executed(Box::new(RequestResult {
        request: Job::Index(request),
        outcomes: vec![ItemOutcome::failed(Item::Package, e, calls)],
        plan: None,
        package_not_found: false,
        learned: false,
        edges_written: 0,
    }))
}

/// A backfill this configuration cannot serve: refused with the reason.
fn unsupported(request: &IndexRequest, why: &str) -> Entry {
    Entry::Invalid(Invalid {
        raw: serde_json::to_string(&request.to_raw(None, None)).expect("request serializes"),
        error: DecodeError::Unsupported(why.to_owned()),
    })
}
