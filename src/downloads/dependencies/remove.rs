//! Versions' own items read 100 a `BatchGetItem`: to remove the edges of
//! the many versions a run deleted (only those found), and to tell whether
//! every present version of a backfill's part has its entry. And the
//! removal of one version's edges (a Deleted or Disposed state change).

use std::collections::{BTreeMap, HashMap};

use aws_sdk_dynamodb::types::{AttributeValue, DeleteRequest, KeysAndAttributes, WriteRequest};

use super::super::store::dynamodb_error;
use super::{DependencyTable, Dependent};
use crate::downloads::PackageKey;
use crate::request::CodeArtifactPackage;
use crate::retry::{QuotaClass, Retrier, Tried};

impl DependencyTable {
    /// Removes the edges of many versions of one package (deleted by this
    /// run): their own items read 100 a `BatchGetItem` (the most one call
    /// takes), then the edges found removed. Returns the first error.
    pub(crate) async fn remove_many(
        &self,
        dependents: &[Dependent],
        retrier: &Retrier,
    ) -> Tried<()> {
        let mut calls = 0;
        for chunk in dependents.chunks(100) {
            let found = self.batch_recorded(chunk, retrier).await;
            calls += found.calls;
            let found = match found.result {
                Ok(f) => f,
                Err(e) => return Tried::new(Err(e), calls),
            };
            // Their edges first, then their own items, so that an own item
            // never goes while an edge it lists may stay.
            let (mut edges, mut owns) = (Vec::new(), Vec::new());
            for d in chunk {
                let Some(depends_on) = found.get(&(d.own_partition(), d.version.clone())) else {
                    continue;
                };
                let sk = d.edge_sort_key();
                edges.extend(depends_on.iter().map(|pk| delete_request(pk, &sk)));
                owns.push(delete_request(&d.own_partition(), &d.version));
            }
            edges.extend(owns);
            let removed = self.batch_write(edges, retrier).await;
            calls += removed.calls;
            if let Err(e) = removed.result {
                return Tried::new(Err(e), calls);
            }
        }
        Tried::new(Ok(()), calls)
    }

    /// Whether every version of `present` (of the package under `key`, in
    /// `package`'s repository) has its entry: their own items read 100 a
    /// `BatchGetItem`.
    pub(crate) async fn all_indexed(
        &self,
        key: &PackageKey,
        package: &CodeArtifactPackage,
        present: &[String],
        retrier: &Retrier,
    ) -> Tried<bool> {
        let dependents: Vec<Dependent> = (present.iter())
            .map(|v| Dependent {
                key: key.clone(),
                repository: package.repository.clone(),
                version: v.clone(),
            })
            .collect();
        let mut calls = 0;
        for chunk in dependents.chunks(100) {
            let found = self.batch_recorded(chunk, retrier).await;
            calls += found.calls;
            match found.result {
                Ok(f) if f.len() == chunk.len() => {}
                Ok(_) => return Tried::new(Ok(false), calls),
                Err(e) => return Tried::new(Err(e), calls),
            }
        }
        Tried::new(Ok(true), calls)
    }

    /// Which of up to 100 dependents have an own item: `(packageKey,
    /// version)` → the partitions of its edges. Keys DynamoDB leaves unprocessed are asked again.
    async fn batch_recorded(
        &self,
        chunk: &[Dependent],
        retrier: &Retrier,
    ) -> Tried<BTreeMap<(String, String), Vec<String>>> {
        let mut keys: Vec<HashMap<String, AttributeValue>> = chunk
            .iter()
            .map(|d| Self::key(&d.own_partition(), &d.version))
            .collect();
        let (mut found, mut calls) = (BTreeMap::new(), 0);
        while !keys.is_empty() {
            let ask = KeysAndAttributes::builder()
                .set_keys(Some(std::mem::take(&mut keys)))
                .consistent_read(true)
                .build()
                .expect("keys are set");
            let ask = &ask;
            let got = retrier
                .run(QuotaClass::DownloadsRead, || async move {
                    self.client
                        .batch_get_item()
                        .request_items(&self.table, ask.clone())
                        .send()
                        .await
                        .map_err(|e| dynamodb_error("DynamoDB BatchGetItem", e))
                })
                .await;
            calls += got.calls;
            let got = match got.result {
                Ok(g) => g,
                Err(e) => return Tried::new(Err(e), calls),
            };
            for item in got
                .responses()
                .and_then(|r| r.get(&self.table))
                .into_iter()
                .flatten()
            {
                let text = |k: &str| item.get(k).and_then(|v| v.as_s().ok()).cloned();
                let depends_on = (item.get("dependsOn").and_then(|l| l.as_l().ok()))
                    .into_iter()
                    .flatten()
                    .filter_map(|v| v.as_s().ok().cloned())
                    .collect();
                if let (Some(pk), Some(v)) = (text("packageKey"), text("version")) {
                    found.insert((pk, v), depends_on);
                }
            }
            let left = got.unprocessed_keys().and_then(|u| u.get(&self.table));
            keys = left.map(|k| k.keys().to_vec()).unwrap_or_default();
        }
        Tried::new(Ok(found), calls)
    }

    /// Removes a version's edges and its own item: it was deleted or
    /// disposed. Harmless when there is nothing to remove.
    pub(crate) async fn remove(&self, dependent: &Dependent, retrier: &Retrier) -> Tried<()> {
        let before = self.recorded(dependent, retrier).await;
        let calls = before.calls;
        let partitions = match before.result {
            Ok(p) => p,
            Err(e) => return Tried::new(Err(e), calls),
        };
        let sk = dependent.edge_sort_key();
        let removed = self.delete_edges(&partitions, &sk, retrier).await;
        let calls = calls + removed.calls;
        if removed.result.is_err() || partitions.is_empty() {
            return Tried::new(removed.result, calls);
        }
        let own = self
            .delete(&dependent.own_partition(), &dependent.version, retrier)
            .await;
        Tried::new(own.result, calls + own.calls)
    }
}

/// A `BatchWriteItem` request deleting the item under `(pk, sk)`.
fn delete_request(pk: &str, sk: &str) -> WriteRequest {
    let delete = DeleteRequest::builder()
        .set_key(Some(DependencyTable::key(pk, sk)))
        .build()
        .expect("the key is set");
    WriteRequest::builder().delete_request(delete).build()
}
