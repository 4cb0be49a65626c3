//! The reports bucket (`REPORTS_BUCKET`): each report is written as three
//! objects under `<prefix><yyyy-mm-dd>/<id>/` (report.json, report.csv,
//! report.md), and a plan is read back for an apply. S3 calls keep the
//! SDK's standard retries: they are not the package APIs whose quotas
//! [`crate::retry`] paces.

use aws_sdk_s3::primitives::ByteStream;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use super::parts::{self, PartFile, ScopeFile};
use super::{csv, markdown, sha256_hex, Report};
use crate::account::ReportLinks;
use crate::error::BoxError;

/// A report that could not be written, or a plan that could not be read.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ReportError {
    #[error("S3 {operation} of s3://{bucket}/{key} failed with {code}")]
    S3 {
        operation: &'static str,
        bucket: String,
        key: String,
        code: String,
        class: crate::error::ErrorClass,
        #[source]
        source: BoxError,
    },
}

/// The reports bucket's client.
#[derive(Debug, Clone)]
pub(crate) struct ReportStore {
    client: aws_sdk_s3::Client,
    /// `REPORTS_BUCKET`; unset, no report is written (plans are still read).
    bucket: Option<String>,
    /// `REPORTS_PREFIX`, default `reports/`.
    prefix: String,
}

impl ReportStore {
    pub(crate) fn new(client: aws_sdk_s3::Client, bucket: Option<String>, prefix: String) -> Self {
        ReportStore {
            client,
            bucket,
            prefix,
        }
    }

    /// Whether reports are written.
    pub(crate) fn writes(&self) -> bool {
        self.bucket.is_some()
    }

    /// The directory of a report made at `created_at` (RFC 3339) with id
    /// `id`: `<prefix><yyyy-mm-dd>/<id>/`.
    pub(crate) fn dir(&self, created_at: &str, id: &str) -> String {
        let day = created_at.get(..10).unwrap_or("undated");
        format!("{}{day}/{id}/", self.prefix)
    }

    /// Where a report's report.json is (or, for a plan in parts, will be).
    pub(crate) fn json_uri(&self, created_at: &str, id: &str) -> Option<String> {
        let bucket = self.bucket.as_deref()?;
        Some(format!(
            "s3://{bucket}/{}report.json",
            self.dir(created_at, id)
        ))
    }

    /// Writes the report's three objects; `None` without a bucket. A
    /// plan's report.json is written once: the first complete plan at its
    /// address stands (a retried invocation, or the last part of a plan
    /// made in parts, may plan it again), and the links, digest and the
    /// CSV and Markdown are the stored plan's.
    pub(crate) async fn put(
        &self,
        report: &Report,
        service: crate::request::Service,
    ) -> Option<Result<ReportLinks, ReportError>> {
        let bucket = self.bucket.as_deref()?;
        Some(self.put_in(bucket, report, service).await)
    }

    async fn put_in(
        &self,
        bucket: &str,
        report: &Report,
        service: crate::request::Service,
    ) -> Result<ReportLinks, ReportError> {
        let dir = self.dir(&report.created_at, &report.id);
        let json_key = format!("{dir}report.json");
        let mut json = report.canonical();
        let mut stored = None;
        if report.kind == super::Kind::Plan {
            if !self.put_once(bucket, &json_key, json.clone()).await? {
                json = self.get(bucket, &json_key).await?;
                let r: Report = serde_json::from_slice(&json).map_err(|e| ReportError::S3 {
                    operation: "GetObject",
                    bucket: bucket.to_owned(),
                    key: json_key.clone(),
                    code: "NotAPlan".into(),
                    class: crate::error::ErrorClass::Permanent,
                    source: Box::new(e),
                })?;
                stored = Some(r);
            }
        } else {
            self.put_object(bucket, &json_key, "application/json", json.clone())
                .await?;
        }
        let report = stored.as_ref().unwrap_or(report);
        let sha256 = sha256_hex(&json);
        let json_uri = format!("s3://{bucket}/{json_key}");
        let others = [
            ("report.csv", "text/csv; charset=utf-8", csv(report)),
            (
                "report.md",
                "text/markdown; charset=utf-8",
                markdown(report, &sha256, &json_uri).into_bytes(),
            ),
        ];
        let puts = others.into_iter().map(|(name, content_type, body)| {
            let key = format!("{dir}{name}");
            async move {
                self.put_object(bucket, &key, content_type, body).await?;
                Ok::<String, ReportError>(format!("s3://{bucket}/{key}"))
            }
        });
        let [csv, markdown] = <[String; 2]>::try_from(futures::future::try_join_all(puts).await?)
            .expect("two objects");
        Ok(ReportLinks {
            json: json_uri,
            csv,
            markdown,
            sha256,
            plan_id: report.plan_id.clone(),
            service,
        })
    }

    /// One object, its SHA-256 in its metadata.
    async fn put_object(
        &self,
        bucket: &str,
        key: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> Result<(), ReportError> {
        self.client
            .put_object()
            .bucket(bucket)
            .key(key)
            .content_type(content_type)
            .metadata("sha256", sha256_hex(&body))
            .body(ByteStream::from(body))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| s3_error(e, "PutObject", bucket, key))
    }

    /// Writes one part of a plan made in parts (and, for the first,
    /// `scope.json`), each only if absent: a part already written (by a
    /// retried or duplicated part) stands, and the plan goes on from its
    /// end, not this one's. So does one whose first part listed the scope
    /// again and found it changed since `scope.json` was written (its part
    /// would not fit). The parts form a chain, each written before the
    /// request that plans on from its end is sent; so the part that
    /// reaches the end of the scope knows every part before it is written,
    /// reads them and writes the plan's report. See [`parts`].
    pub(crate) async fn put_part(
        &self,
        scope: &ScopeFile,
        first: bool,
        part: &PartFile,
        service: crate::request::Service,
    ) -> Result<PartWritten, ReportError> {
        let Some(bucket) = self.bucket.as_deref() else {
            return Err(no_bucket(&scope.plan_id));
        };
        let dir = self.dir(&scope.created_at, &scope.plan_id);
        let (stored, fits) = self.stored_scope(bucket, &dir, scope, first).await?;
        let kept = match self.part(bucket, &dir, part.from).await? {
            Some(there) => Some(there),
            // A part that planned nothing, or that does not fit, writes
            // nothing: the range stays free for the part that plans it.
            None if !fits || part.to <= part.from => None,
            None => Some(self.stand(bucket, &dir, part).await?),
        };
        let (to, selected) = kept
            .as_ref()
            .map_or((part.from, 0), |p| (p.to, p.selected()));
        if to < stored.packages.len() {
            return Ok(PartWritten::Pending {
                scope: stored,
                to,
                selected,
            });
        }
        let report = self.assemble(bucket, &dir, &stored).await?;
        self.put_in(bucket, &report, service)
            .await
            .map(PartWritten::Complete)
    }

    /// The plan's `scope.json` as stored (the first part writes it, once),
    /// and whether this part fits it: a retried first part whose listing
    /// found the scope changed does not.
    async fn stored_scope(
        &self,
        bucket: &str,
        dir: &str,
        scope: &ScopeFile,
        first: bool,
    ) -> Result<(ScopeFile, bool), ReportError> {
        let key = format!("{dir}scope.json");
        let body = serde_json::to_vec(scope).expect("scope.json serializes");
        if first && self.put_once(bucket, &key, body).await? {
            return Ok((scope.clone(), true));
        }
        let stored = self
            .scope(bucket, dir)
            .await?
            .ok_or_else(|| missing(bucket, &key))?;
        let fits = !first || stored.packages == scope.packages;
        Ok((stored, fits))
    }

    /// Writes `part` if no part starts where it does; the part that stands.
    async fn stand(
        &self,
        bucket: &str,
        dir: &str,
        part: &PartFile,
    ) -> Result<PartFile, ReportError> {
        let key = format!("{dir}{}", parts::part_name(part.from));
        let body = serde_json::to_vec(part).expect("a part serializes");
        if self.put_once(bucket, &key, body).await? {
            return Ok(part.clone());
        }
        self.part(bucket, dir, part.from)
            .await?
            .ok_or_else(|| missing(bucket, &key))
    }

    /// Every part, from 0 to the end of the scope, into the plan.
    async fn assemble(
        &self,
        bucket: &str,
        dir: &str,
        stored: &ScopeFile,
    ) -> Result<Report, ReportError> {
        let mut found = Vec::new();
        let mut from = 0;
        while from < stored.packages.len() {
            match self.part(bucket, dir, from).await? {
                Some(p) if p.to > from => {
                    from = p.to;
                    found.push(p);
                }
                _ => break,
            }
        }
        parts::assemble(stored, &found)
            .ok_or_else(|| missing(bucket, &format!("{dir}{}", parts::part_name(from))))
    }

    /// `scope.json` of the plan in `dir`, if written.
    async fn scope(&self, bucket: &str, dir: &str) -> Result<Option<ScopeFile>, ReportError> {
        self.get_json(bucket, &format!("{dir}scope.json")).await
    }

    async fn part(
        &self,
        bucket: &str,
        dir: &str,
        from: usize,
    ) -> Result<Option<PartFile>, ReportError> {
        self.get_json(bucket, &format!("{dir}{}", parts::part_name(from)))
            .await
    }

    /// The scope of the plan `plan_id` made at `created_at`, from the
    /// function's own bucket: what a later part plans.
    pub(crate) async fn plan_scope(
        &self,
        created_at: &str,
        plan_id: &str,
    ) -> Result<Option<ScopeFile>, ReportError> {
        let Some(bucket) = self.bucket.as_deref() else {
            return Ok(None);
        };
        self.scope(bucket, &self.dir(created_at, plan_id)).await
    }

    /// Whether the plan whose report.json is `key` is a plan still being
    /// made in parts (its `scope.json` is there).
    pub(crate) async fn in_parts(&self, bucket: &str, key: &str) -> Result<bool, ReportError> {
        let dir = key.strip_suffix("report.json").unwrap_or(key);
        Ok(self
            .get_optional(bucket, &format!("{dir}scope.json"))
            .await?
            .is_some())
    }

    async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        bucket: &str,
        key: &str,
    ) -> Result<Option<T>, ReportError> {
        let Some(bytes) = self.get_optional(bucket, key).await? else {
            return Ok(None);
        };
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| ReportError::S3 {
                operation: "GetObject",
                bucket: bucket.to_owned(),
                key: key.to_owned(),
                code: "NotAPlanPart".into(),
                class: crate::error::ErrorClass::Permanent,
                source: Box::new(e),
            })
    }

    /// The object's bytes, `None` when there is no such key.
    async fn get_optional(&self, bucket: &str, key: &str) -> Result<Option<Vec<u8>>, ReportError> {
        match self.get(bucket, key).await {
            Ok(bytes) => Ok(Some(bytes)),
            Err(ReportError::S3 { code, .. }) if code == "NoSuchKey" => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Writes an object only if the key is free (`If-None-Match: *`); an
    /// object already there is kept as it is. Whether this call wrote it.
    async fn put_once(&self, bucket: &str, key: &str, body: Vec<u8>) -> Result<bool, ReportError> {
        let put = self
            .client
            .put_object()
            .bucket(bucket)
            .key(key)
            .content_type("application/json")
            .metadata("sha256", sha256_hex(&body))
            .if_none_match("*")
            .body(ByteStream::from(body))
            .send()
            .await;
        match put {
            Ok(_) => Ok(true),
            // Already written (S3 answers 412). A concurrent write
            // (409, ConditionalRequestConflict) is an error: whether it will
            // land is not known yet, so the part is retried.
            Err(e) if e.code() == Some("PreconditionFailed") => Ok(false),
            Err(e) => Err(s3_error(e, "PutObject", bucket, key)),
        }
    }

    /// The object's bytes (a plan's report.json).
    pub(crate) async fn get(&self, bucket: &str, key: &str) -> Result<Vec<u8>, ReportError> {
        let out = self
            .client
            .get_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| s3_error(e, "GetObject", bucket, key))?;
        let body = out.body.collect().await.map_err(|e| ReportError::S3 {
            operation: "GetObject",
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            code: "ResponseBody".into(),
            class: crate::error::ErrorClass::Transient,
            source: Box::new(e),
        })?;
        Ok(body.into_bytes().to_vec())
    }
}

/// What writing a part of a plan made in parts gave.
#[derive(Debug)]
pub(crate) enum PartWritten {
    /// The part reached the end of the scope: the plan's report is written.
    Complete(ReportLinks),
    /// The scope's packages `0..to` are planned; the rest is left to plan,
    /// from `to`. `scope` is the plan's `scope.json` as stored; `selected`,
    /// how many versions the part that stands selected (what a shared
    /// `maxDeletions` has left is counted from it).
    Pending {
        scope: ScopeFile,
        to: usize,
        selected: usize,
    },
}

/// An object of a plan made in parts that should be there and is not.
fn missing(bucket: &str, key: &str) -> ReportError {
    ReportError::S3 {
        operation: "GetObject",
        bucket: bucket.to_owned(),
        key: key.to_owned(),
        code: "NoSuchKey".into(),
        class: crate::error::ErrorClass::Permanent,
        source: format!("s3://{bucket}/{key} is missing: the plan cannot be completed").into(),
    }
}

/// A plan in parts with no bucket to write it to (never, in Lambda: a
/// scope is planned in parts only where reports are written).
fn no_bucket(plan_id: &str) -> ReportError {
    ReportError::S3 {
        operation: "PutObject",
        bucket: String::new(),
        key: plan_id.to_owned(),
        code: "NoReportsBucket".into(),
        class: crate::error::ErrorClass::Permanent,
        source: "REPORTS_BUCKET is not set".into(),
    }
}

fn s3_error<E>(
    e: aws_smithy_runtime_api::client::result::SdkError<
        E,
        aws_smithy_runtime_api::client::orchestrator::HttpResponse,
    >,
    operation: &'static str,
    bucket: &str,
    key: &str,
) -> ReportError
where
    E: aws_smithy_types::error::metadata::ProvideErrorMetadata
        + std::error::Error
        + Send
        + Sync
        + 'static,
{
    let (class, code) = crate::retry::classify(&e, None);
    ReportError::S3 {
        operation,
        bucket: bucket.to_owned(),
        key: key.to_owned(),
        code,
        class,
        source: Box::new(e),
    }
}
