//! The reports bucket (`REPORTS_BUCKET`): each report is written as three
//! objects under `<prefix><yyyy-mm-dd>/<id>/` (report.json, report.csv,
//! report.md), and a plan is read back for an apply. S3 calls keep the
//! SDK's standard retries: they are not the package APIs whose quotas
//! [`crate::retry`] paces.

use aws_sdk_s3::primitives::ByteStream;

use super::{csv, markdown, sha256_hex, Report};
use crate::account::ReportLinks;
use crate::error::BoxError;

/// A report that could not be written, or a plan that could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
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
pub struct ReportStore {
    client: aws_sdk_s3::Client,
    /// `REPORTS_BUCKET`; unset, no report is written (plans are still read).
    bucket: Option<String>,
    /// `REPORTS_PREFIX`, default `reports/`.
    prefix: String,
}

impl ReportStore {
    pub fn new(client: aws_sdk_s3::Client, bucket: Option<String>, prefix: String) -> Self {
        ReportStore {
            client,
            bucket,
            prefix,
        }
    }

    /// Whether reports are written.
    pub fn writes(&self) -> bool {
        self.bucket.is_some()
    }

    /// Writes the report's three objects; `None` without a bucket.
    pub async fn put(
        &self,
        report: &Report,
        service: crate::request::Service,
    ) -> Option<Result<ReportLinks, ReportError>> {
        let bucket = self.bucket.as_deref()?;
        let json = report.canonical();
        let sha256 = sha256_hex(&json);
        let day = report.created_at.get(..10).unwrap_or("undated");
        let dir = format!("{}{day}/{}/", self.prefix, report.id);
        let objects = [
            ("report.json", "application/json", json),
            ("report.csv", "text/csv; charset=utf-8", csv(report)),
            (
                "report.md",
                "text/markdown; charset=utf-8",
                markdown(report, &sha256, &format!("s3://{bucket}/{dir}report.json")).into_bytes(),
            ),
        ];
        let puts = objects.into_iter().map(|(name, content_type, body)| {
            let key = format!("{dir}{name}");
            async move {
                self.client
                    .put_object()
                    .bucket(bucket)
                    .key(&key)
                    .content_type(content_type)
                    .metadata("sha256", sha256_hex(&body))
                    .body(ByteStream::from(body))
                    .send()
                    .await
                    .map_err(|e| s3_error(e, "PutObject", bucket, &key))?;
                Ok::<String, ReportError>(format!("s3://{bucket}/{key}"))
            }
        });
        let written = futures::future::try_join_all(puts).await;
        Some(written.map(|uris| {
            let [json, csv, markdown] = <[String; 3]>::try_from(uris).expect("three objects");
            ReportLinks {
                json,
                csv,
                markdown,
                sha256,
                plan_id: report.plan_id.clone(),
                service,
            }
        }))
    }

    /// The object's bytes (a plan's report.json).
    pub async fn get(&self, bucket: &str, key: &str) -> Result<Vec<u8>, ReportError> {
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
