//! Writing a present version's entry: an edge on each package it declares,
//! and its own item listing them, in an order that never loses track of an
//! edge.

use std::collections::{BTreeMap, HashMap};

use aws_sdk_dynamodb::types::{AttributeValue, PutRequest, WriteRequest};

use super::super::store::{dynamodb_error, s};
use super::{edges_partition, Declared, DependencyTable, Dependent};
use crate::downloads::{Namespace, PackageKey};
use crate::retry::{QuotaClass, Retrier, Tried};

/// How a version's entry is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Write {
    /// A backfill's: the edges it declares are put, and its own item; what
    /// it declared before is not read (a version's metadata is fixed once
    /// published; a change comes as an event, written [`Write::Again`]).
    Backfill,
    /// An event's: what it declared before is read first, and the edges it
    /// no longer declares are removed.
    Again,
}

/// The edges a dependent's declarations make: per package depended on,
/// the requirements on it. Pure.
pub(super) fn grouped<'d>(
    dependent: &Dependent,
    declared: &'d [Declared],
) -> BTreeMap<String, Vec<&'d Declared>> {
    let mut out: BTreeMap<String, Vec<&Declared>> = BTreeMap::new();
    for d in declared {
        let key = PackageKey {
            namespace: d
                .namespace
                .clone()
                .map_or(Namespace::None, Namespace::Named),
            package: d.package.clone(),
            ..dependent.key.clone()
        };
        out.entry(edges_partition(&key)).or_default().push(d);
    }
    out
}

pub(super) fn requirement_item(d: &Declared) -> AttributeValue {
    let mut m = HashMap::new();
    if let Some(t) = &d.dependency_type {
        m.insert("dependencyType".to_owned(), s(t));
    }
    if let Some(r) = &d.requirement {
        m.insert("versionRequirement".to_owned(), s(r));
    }
    AttributeValue::M(m)
}

/// How many times what `BatchWriteItem` leaves unprocessed is sent again.
const UNPROCESSED_ROUNDS: usize = 8;

/// Items `BatchWriteItem` still left unprocessed: transient (DynamoDB
/// leaves items when a partition is busy).
fn unprocessed(n: usize) -> crate::error::DeleteError {
    crate::error::DeleteError::Api {
        service: crate::service::Service::CodeArtifact,
        operation: "DynamoDB BatchWriteItem",
        code: "UnprocessedItems".into(),
        class: crate::error::ErrorClass::Transient,
        source: format!("{n} item(s) still unprocessed after {UNPROCESSED_ROUNDS} rounds").into(),
    }
}

/// The edge of `dependent` on the package whose edges are under `pk`.
fn edge_item(
    dependent: &Dependent,
    pk: &str,
    reqs: &[&Declared],
) -> HashMap<String, AttributeValue> {
    HashMap::from([
        ("packageKey".to_owned(), s(pk)),
        ("version".to_owned(), s(dependent.edge_sort_key())),
        ("dependent".to_owned(), s(dependent.label())),
        ("dependentVersion".to_owned(), s(&dependent.version)),
        (
            "requirements".to_owned(),
            AttributeValue::L(reqs.iter().map(|d| requirement_item(d)).collect()),
        ),
    ])
}

/// A dependent's own item: the partitions of its edges.
fn own_item(dependent: &Dependent, partitions: &[&String]) -> HashMap<String, AttributeValue> {
    HashMap::from([
        ("packageKey".to_owned(), s(dependent.own_partition())),
        ("version".to_owned(), s(&dependent.version)),
        (
            "dependsOn".to_owned(),
            AttributeValue::L(partitions.iter().map(|p| s(p.as_str())).collect()),
        ),
    ])
}

impl DependencyTable {
    /// Indexes a present version: an edge on each package it declares
    /// (put whole), its own item, then, with [`Write::Again`], the removal
    /// of edges it no longer declares. Returns the edges written.
    pub(crate) async fn index(
        &self,
        dependent: &Dependent,
        declared: &[Declared],
        (write, retrier): (Write, &Retrier),
    ) -> Tried<u64> {
        let before = match write {
            Write::Again => self.recorded(dependent, retrier).await,
            // Edges, then its own item, in as few calls as BatchWriteItem
            // allows (25 items a call).
            Write::Backfill => return self.index_fresh(dependent, declared, retrier).await,
        };
        let mut calls = before.calls;
        let before = match before.result {
            Ok(b) => b,
            Err(e) => return Tried::new(Err(e), calls),
        };
        let groups = grouped(dependent, declared);
        let stale: Vec<String> = (before.iter())
            .filter(|p| !groups.contains_key(*p))
            .cloned()
            .collect();
        // Its own item lists every edge that may exist at each step, so no
        // edge is ever left that a later removal cannot find: the union
        // first (when edges will be removed), then the edges, then the
        // stale ones removed, then the new list.
        let all: Vec<&String> = groups.keys().chain(&stale).collect();
        if !stale.is_empty() {
            let union = self.put(own_item(dependent, &all), retrier).await;
            calls += union.calls;
            if let Err(e) = union.result {
                return Tried::new(Err(e), calls);
            }
        }
        let written = self.put_edges(dependent, &groups, retrier).await;
        calls += written.calls;
        if let Err(e) = written.result {
            return Tried::new(Err(e), calls);
        }
        let removed = self
            .delete_edges(&stale, &dependent.edge_sort_key(), retrier)
            .await;
        calls += removed.calls;
        if let Err(e) = removed.result {
            return Tried::new(Err(e), calls);
        }
        let new: Vec<&String> = groups.keys().collect();
        let put = self.put(own_item(dependent, &new), retrier).await;
        Tried::new(put.result.map(|()| groups.len() as u64), calls + put.calls)
    }

    /// A backfill's entry: the edges, then the version's own item, 25 items
    /// a `BatchWriteItem` (in that order, so that its own item never lists
    /// an edge not yet written).
    async fn index_fresh(
        &self,
        dependent: &Dependent,
        declared: &[Declared],
        retrier: &Retrier,
    ) -> Tried<u64> {
        let groups = grouped(dependent, declared);
        let mut items: Vec<HashMap<String, AttributeValue>> = groups
            .iter()
            .map(|(pk, reqs)| edge_item(dependent, pk, reqs))
            .collect();
        let partitions: Vec<&String> = groups.keys().collect();
        items.push(own_item(dependent, &partitions));
        let puts = items
            .into_iter()
            .map(|item| {
                let put = PutRequest::builder().set_item(Some(item)).build();
                WriteRequest::builder()
                    .put_request(put.expect("the item is set"))
                    .build()
            })
            .collect();
        let written = self.batch_write(puts, retrier).await;
        written.map(|()| groups.len() as u64)
    }

    /// Writes `requests` in order, 25 a `BatchWriteItem` (the most one call
    /// takes); what DynamoDB leaves unprocessed is sent again (a few times,
    /// then the call fails, transient).
    pub(super) async fn batch_write(
        &self,
        requests: Vec<WriteRequest>,
        retrier: &Retrier,
    ) -> Tried<()> {
        let mut calls = 0;
        for chunk in requests.chunks(25) {
            let mut left = chunk.to_vec();
            for _ in 0..UNPROCESSED_ROUNDS {
                let sent = self
                    .batch_write_once(std::mem::take(&mut left), retrier)
                    .await;
                calls += sent.calls;
                match sent.result {
                    Ok(unprocessed) => left = unprocessed,
                    Err(e) => return Tried::new(Err(e), calls),
                }
                if left.is_empty() {
                    break;
                }
            }
            if !left.is_empty() {
                return Tried::new(Err(unprocessed(left.len())), calls);
            }
        }
        Tried::new(Ok(()), calls)
    }

    /// One `BatchWriteItem`: what DynamoDB left unprocessed.
    async fn batch_write_once(
        &self,
        requests: Vec<WriteRequest>,
        retrier: &Retrier,
    ) -> Tried<Vec<WriteRequest>> {
        let requests = &requests;
        let table = self.table();
        retrier
            .run(QuotaClass::DownloadsWrite, || async move {
                let sent = self
                    .client()
                    .batch_write_item()
                    .request_items(table, requests.clone())
                    .send()
                    .await
                    .map_err(|e| dynamodb_error("DynamoDB BatchWriteItem", e))?;
                let left = sent.unprocessed_items().and_then(|u| u.get(table));
                Ok(left.cloned().unwrap_or_default())
            })
            .await
    }

    /// One edge per package depended on, put whole, all at once.
    async fn put_edges(
        &self,
        dependent: &Dependent,
        groups: &BTreeMap<String, Vec<&Declared>>,
        retrier: &Retrier,
    ) -> Tried<()> {
        let puts =
            (groups.iter()).map(|(pk, reqs)| self.put(edge_item(dependent, pk, reqs), retrier));
        let written = futures::future::join_all(puts).await;
        let calls = written.iter().map(|t| t.calls).sum();
        let first = written.into_iter().find_map(|t| t.result.err());
        Tried::new(first.map_or(Ok(()), Err), calls)
    }
}
