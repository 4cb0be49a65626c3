//! The reports bucket on moto's S3 (`AWS_ENDPOINT_URL_S3`, path-style, as
//! the function addresses it), and reading reports back.

use anyhow::{anyhow, Context, Result};
use packprune::report::Report;
use serde_json::Value;

/// An S3 client for the stack, built as the function builds its own.
pub async fn s3() -> aws_sdk_s3::Client {
    let sdk = packprune::sdk::sdk_config().await;
    packprune::Clients::from_sdk_config(&sdk).s3
}

/// Creates a bucket of one's own.
pub async fn create_bucket(name: &str) -> Result<String> {
    s3().await.create_bucket().bucket(name).send().await?;
    Ok(name.to_owned())
}

/// Creates the bucket as `template.yaml`'s `ReportsBucket` defines it:
/// default encryption, public access blocked, objects owned by the bucket
/// owner, and the lifecycle rule that expires reports (`ReportsExpiryDays`
/// at its default).
pub async fn create_bucket_from_template(name: &str) -> Result<String> {
    use super::template::{properties, text};
    use aws_sdk_s3::types::{
        BucketLifecycleConfiguration, ExpirationStatus, LifecycleExpiration, LifecycleRule,
        LifecycleRuleFilter, ObjectOwnership, OwnershipControls, OwnershipControlsRule,
        PublicAccessBlockConfiguration, ServerSideEncryption, ServerSideEncryptionByDefault,
        ServerSideEncryptionConfiguration, ServerSideEncryptionRule,
    };
    let props = properties("ReportsBucket")?;
    let client = s3().await;
    client.create_bucket().bucket(name).send().await?;
    let sse = &props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
        ["ServerSideEncryptionByDefault"]["SSEAlgorithm"];
    let rule = ServerSideEncryptionRule::builder()
        .apply_server_side_encryption_by_default(
            ServerSideEncryptionByDefault::builder()
                .sse_algorithm(ServerSideEncryption::from(text(sse)?.as_str()))
                .build()?,
        )
        .build();
    client
        .put_bucket_encryption()
        .bucket(name)
        .server_side_encryption_configuration(
            ServerSideEncryptionConfiguration::builder()
                .rules(rule)
                .build()?,
        )
        .send()
        .await?;
    let block = &props["PublicAccessBlockConfiguration"];
    let flag = |k: &str| block[k].as_bool().unwrap_or(false);
    client
        .put_public_access_block()
        .bucket(name)
        .public_access_block_configuration(
            PublicAccessBlockConfiguration::builder()
                .block_public_acls(flag("BlockPublicAcls"))
                .block_public_policy(flag("BlockPublicPolicy"))
                .ignore_public_acls(flag("IgnorePublicAcls"))
                .restrict_public_buckets(flag("RestrictPublicBuckets"))
                .build(),
        )
        .send()
        .await?;
    let owner = &props["OwnershipControls"]["Rules"][0]["ObjectOwnership"];
    client
        .put_bucket_ownership_controls()
        .bucket(name)
        .ownership_controls(
            OwnershipControls::builder()
                .rules(
                    OwnershipControlsRule::builder()
                        .object_ownership(ObjectOwnership::from(text(owner)?.as_str()))
                        .build()?,
                )
                .build()?,
        )
        .send()
        .await?;
    let mut lifecycle = BucketLifecycleConfiguration::builder();
    for r in props["LifecycleConfiguration"]["Rules"]
        .as_array()
        .context("LifecycleConfiguration.Rules")?
    {
        lifecycle = lifecycle.rules(
            LifecycleRule::builder()
                .id(text(&r["Id"])?)
                .status(ExpirationStatus::from(text(&r["Status"])?.as_str()))
                .filter(
                    LifecycleRuleFilter::builder()
                        .prefix(text(&r["Prefix"])?)
                        .build(),
                )
                .expiration(
                    LifecycleExpiration::builder()
                        .days(text(&r["ExpirationInDays"])?.parse()?)
                        .build(),
                )
                .build()?,
        );
    }
    client
        .put_bucket_lifecycle_configuration()
        .bucket(name)
        .lifecycle_configuration(lifecycle.build()?)
        .send()
        .await?;
    Ok(name.to_owned())
}

/// `(bucket, key)` of an `s3://` URI.
pub fn split(uri: &str) -> Result<(String, String)> {
    let rest = uri
        .strip_prefix("s3://")
        .ok_or_else(|| anyhow!("not an s3:// URI: {uri}"))?;
    let (b, k) = rest.split_once('/').context("no key")?;
    Ok((b.to_owned(), k.to_owned()))
}

/// The object's bytes.
pub async fn get(uri: &str) -> Result<Vec<u8>> {
    let (bucket, key) = split(uri)?;
    let out = s3()
        .await
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await?;
    Ok(out.body.collect().await?.into_bytes().to_vec())
}

/// Writes an object (a tampered copy of a report, say).
pub async fn put(uri: &str, body: Vec<u8>) -> Result<()> {
    let (bucket, key) = split(uri)?;
    s3().await
        .put_object()
        .bucket(bucket)
        .key(key)
        .body(body.into())
        .send()
        .await?;
    Ok(())
}

/// The response's (or summary's) one report: its links.
pub fn links(summary: &Value) -> Result<(String, String, String, String)> {
    let r = &summary["report"];
    let s = |f: &str| {
        r[f].as_str()
            .map(str::to_owned)
            .ok_or_else(|| anyhow!("no report.{f} in {summary}"))
    };
    Ok((s("json")?, s("csv")?, s("markdown")?, s("sha256")?))
}

/// report.json, parsed.
pub async fn report(uri: &str) -> Result<Report> {
    Ok(serde_json::from_slice(&get(uri).await?)?)
}

/// The versions a report lists with `fate`, per package, in its order.
pub fn with_fate(report: &Report, fate: &str) -> Vec<String> {
    report
        .packages
        .iter()
        .flat_map(|p| &p.versions)
        .filter(|v| v.fate == fate)
        .map(|v| v.version.clone())
        .collect()
}
