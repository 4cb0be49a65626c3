//! The index of who depends on what, for `protectDependencies`, in the
//! function's table. CodeArtifact's `ListPackageVersionDependencies` gives a
//! version's direct dependencies as its metadata declares them
//! (`../shared/aws-api-facts.md`, section M); nothing in CodeArtifact gives
//! the reverse, so the function keeps it. Items carry no `expiresAt`: an
//! edge must not expire while its dependent is present.
//!
//! - An edge: `packageKey` `depends#<domainOwner>/<domain>/<format>/<namespace>/<package>`
//!   (the package depended on, stored forms, per domain like reads: a
//!   dependent in any repository protects the package wherever it is
//!   cleaned); `version` `<repository>/<namespace>/<package>/<version>` (the
//!   dependent; names hold no `/`); `dependent` (S, a label),
//!   `dependentVersion` (S) and `requirements` (L of M: `dependencyType`,
//!   `versionRequirement`, each as returned).
//! - A dependent's own item: `packageKey`
//!   `dependent#<domainOwner>/<domain>/<repository>/<format>/<namespace>/<package>`,
//!   `version` the version, `dependsOn` (L of S: its edges' `packageKey`s),
//!   so that its edges can be removed once it is deleted or disposed.
//! - A domain's marker: `packageKey` `domain#<domainOwner>/<domain>`,
//!   `version` `dependenciesIndexed`, `at` (N, ms): a backfill covered every
//!   package of the domain. Written once a backfill's parts are all done.
//! - A backfill's progress: `packageKey` `backfill#<domainOwner>/<domain>/<id>`;
//!   `version` `parts` (`total`, N; `done`, N) and one item per part done
//!   (`part-<n>`), each written once (a conditional put in one transaction
//!   with the count), so that a redelivered part never counts twice.
//!
//! Every call goes through the retrier's `DownloadsRead` and
//! `DownloadsWrite` quota classes. Writes are idempotent: an edge is put
//! whole, a removal deletes what is there.

use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;

use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::Client;

use super::store::{dynamodb_error, s};
use super::{Namespace, PackageKey};
use crate::error::DeleteError;
use crate::plan::Edge;
use crate::retry::{QuotaClass, Retrier, Tried};

use super::backfill::INDEXED;

/// One dependency a version declares, as `ListPackageVersionDependencies`
/// returns it, its names in stored form.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Declared {
    pub(crate) namespace: Option<String>,
    pub(crate) package: String,
    pub(crate) dependency_type: Option<String>,
    pub(crate) requirement: Option<String>,
}

/// A version that may depend on others: a package of a domain (its key),
/// in one repository.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Dependent {
    pub(crate) key: PackageKey,
    pub(crate) repository: String,
    pub(crate) version: String,
}

impl Dependent {
    /// How a detail names it: `@acme/ui@3.1.0 in apps`.
    pub(crate) fn label(&self) -> String {
        let name = match (&self.key.namespace, self.key.format.as_str()) {
            (Namespace::Named(ns), "npm") => format!("@{ns}/{}", self.key.package),
            (Namespace::Named(ns), "maven") => format!("{ns}:{}", self.key.package),
            (Namespace::Named(ns), _) => format!("{ns}/{}", self.key.package),
            _ => self.key.package.clone(),
        };
        format!("{name}@{} in {}", self.version, self.repository)
    }

    fn own_partition(&self) -> String {
        format!(
            "dependent#{}/{}/{}/{}/{}/{}",
            self.key.domain_owner,
            self.key.domain,
            self.repository,
            self.key.format.as_str(),
            ns(&self.key.namespace),
            self.key.package
        )
    }

    /// Its sort key on the edges of what it depends on.
    fn edge_sort_key(&self) -> String {
        format!(
            "{}/{}/{}/{}",
            self.repository,
            ns(&self.key.namespace),
            self.key.package,
            self.version
        )
    }
}

fn ns(namespace: &Namespace) -> &str {
    match namespace {
        Namespace::None => "",
        Namespace::Named(n) => n,
        Namespace::Unknown => "*",
    }
}

/// The `packageKey` of the edges on the package under `key`.
pub(crate) fn edges_partition(key: &PackageKey) -> String {
    format!(
        "depends#{}/{}/{}/{}/{}",
        key.domain_owner,
        key.domain,
        key.format.as_str(),
        ns(&key.namespace),
        key.package
    )
}

/// One edge item as the planner reads it.
fn edges_of(item: &HashMap<String, AttributeValue>) -> Option<Vec<Edge>> {
    let text = |m: &HashMap<String, AttributeValue>, k: &str| {
        m.get(k).and_then(|v| v.as_s().ok()).cloned()
    };
    let dependent = text(item, "dependent")?;
    let version = text(item, "dependentVersion")?;
    let reqs = item.get("requirements")?.as_l().ok()?;
    reqs.iter()
        .map(|r| {
            let m = r.as_m().ok()?;
            Some(Edge {
                dependent: dependent.clone(),
                dependent_version: version.clone(),
                dependency_type: text(m, "dependencyType"),
                requirement: text(m, "versionRequirement"),
            })
        })
        .collect()
}

/// An edge item that does not read as one: the index cannot be trusted.
fn malformed(pk: &str, item: &HashMap<String, AttributeValue>) -> DeleteError {
    let sk = item.get("version").and_then(|v| v.as_s().ok());
    DeleteError::Api {
        service: crate::service::Service::CodeArtifact,
        operation: "DynamoDB Query",
        code: "MalformedEdge".into(),
        class: crate::error::ErrorClass::Permanent,
        source: format!("the edge {pk} {sk:?} lacks dependent, dependentVersion or requirements")
            .into(),
    }
}

/// The index's items of the table `DOWNLOADS_TABLE`.
#[derive(Debug)]
pub(crate) struct DependencyTable {
    client: Client,
    table: String,
    /// Domains whose index is known complete: a marker is never removed.
    complete: Mutex<BTreeSet<String>>,
}

impl DependencyTable {
    pub(crate) fn new(client: Client, table: String) -> Self {
        DependencyTable {
            client,
            table,
            complete: Mutex::new(BTreeSet::new()),
        }
    }

    pub(super) fn client(&self) -> &Client {
        &self.client
    }

    pub(super) fn table(&self) -> &str {
        &self.table
    }

    fn key(pk: &str, sk: &str) -> HashMap<String, AttributeValue> {
        HashMap::from([
            ("packageKey".to_owned(), s(pk)),
            ("version".to_owned(), s(sk)),
        ])
    }

    /// Whether a backfill completed the index of the package's domain
    /// (one GetItem, none once seen by this execution environment).
    pub(crate) async fn complete(&self, key: &PackageKey, retrier: &Retrier) -> Tried<bool> {
        let pk = key.domain_partition();
        if self.complete.lock().expect("lock").contains(&pk) {
            return Tried::free(true);
        }
        let got = self.get(&pk, INDEXED, retrier).await;
        let done = got.map(|item| item.is_some_and(|i| i.contains_key("at")));
        if matches!(done.result, Ok(true)) {
            self.complete.lock().expect("lock").insert(pk);
        }
        done
    }

    pub(super) async fn get(
        &self,
        pk: &str,
        sk: &str,
        retrier: &Retrier,
    ) -> Tried<Option<HashMap<String, AttributeValue>>> {
        retrier
            .run(QuotaClass::DownloadsRead, || async move {
                self.client
                    .get_item()
                    .table_name(&self.table)
                    .set_key(Some(Self::key(pk, sk)))
                    .consistent_read(true)
                    .send()
                    .await
                    .map(|o| o.item)
                    .map_err(|e| dynamodb_error("DynamoDB GetItem", e))
            })
            .await
    }

    /// Every edge on the package under `key`: one `Query`, paged.
    pub(crate) async fn edges(&self, key: &PackageKey, retrier: &Retrier) -> Tried<Vec<Edge>> {
        let pk = edges_partition(key);
        let mut out = Vec::new();
        let mut start: Option<HashMap<String, AttributeValue>> = None;
        let mut calls = 0;
        loop {
            let page = retrier
                .run(QuotaClass::DownloadsRead, || {
                    let (start, pk) = (start.clone(), pk.clone());
                    async move {
                        self.client
                            .query()
                            .table_name(&self.table)
                            .key_condition_expression("packageKey = :pk")
                            .expression_attribute_values(":pk", s(pk))
                            .consistent_read(true)
                            .set_exclusive_start_key(start)
                            .send()
                            .await
                            .map_err(|e| dynamodb_error("DynamoDB Query", e))
                    }
                })
                .await;
            calls += page.calls;
            let page = match page.result {
                Ok(p) => p,
                Err(e) => return Tried::new(Err(e), calls),
            };
            for item in page.items() {
                match edges_of(item) {
                    Some(edges) => out.extend(edges),
                    // Fail closed: an edge it cannot read might need anything.
                    None => return Tried::new(Err(malformed(&pk, item)), calls),
                }
            }
            match page.last_evaluated_key() {
                Some(k) if !k.is_empty() => start = Some(k.clone()),
                _ => return Tried::new(Ok(out), calls),
            }
        }
    }

    async fn put(&self, item: HashMap<String, AttributeValue>, retrier: &Retrier) -> Tried<()> {
        let item = &item;
        retrier
            .run(QuotaClass::DownloadsWrite, || async move {
                self.client
                    .put_item()
                    .table_name(&self.table)
                    .set_item(Some(item.clone()))
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| dynamodb_error("DynamoDB PutItem", e))
            })
            .await
    }

    async fn delete(&self, pk: &str, sk: &str, retrier: &Retrier) -> Tried<()> {
        retrier
            .run(QuotaClass::DownloadsWrite, || async move {
                self.client
                    .delete_item()
                    .table_name(&self.table)
                    .set_key(Some(Self::key(pk, sk)))
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| dynamodb_error("DynamoDB DeleteItem", e))
            })
            .await
    }

    /// The edges' partitions a dependent's own item lists.
    async fn recorded(&self, dependent: &Dependent, retrier: &Retrier) -> Tried<Vec<String>> {
        let got = self
            .get(&dependent.own_partition(), &dependent.version, retrier)
            .await;
        got.map(|item| {
            let list = item.as_ref().and_then(|i| i.get("dependsOn"));
            list.and_then(|l| l.as_l().ok())
                .into_iter()
                .flatten()
                .filter_map(|v| v.as_s().ok().cloned())
                .collect()
        })
    }

    async fn delete_edges(&self, partitions: &[String], sk: &str, retrier: &Retrier) -> Tried<()> {
        let deletes = partitions.iter().map(|pk| self.delete(pk, sk, retrier));
        let done = futures::future::join_all(deletes).await;
        let calls = done.iter().map(|t| t.calls).sum();
        let first = done.into_iter().find_map(|t| t.result.err());
        Tried::new(first.map_or(Ok(()), Err), calls)
    }
}

mod remove;
mod write;

pub(crate) use write::Write;
#[cfg(test)]
mod tests;
