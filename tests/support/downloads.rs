//! The downloads table on moto's DynamoDB, created from `template.yaml`'s
//! `DownloadsTable` (the one definition of its key schema), and download
//! events as CloudTrail would send them.

use anyhow::{anyhow, Context, Result};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType,
    ScalarAttributeType,
};
use packprune_emulator::cloudtrail::{read_event, Download};
use serde_json::Value;

use super::ROOT;

/// A DynamoDB client for the stack (moto, through `AWS_ENDPOINT_URL_DYNAMODB`).
pub async fn dynamodb() -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::new(&packprune::sdk::sdk_config().await)
}

/// `template.yaml`'s `DownloadsTable` properties, as JSON.
fn table_properties() -> Result<Value> {
    let text = std::fs::read_to_string(format!("{ROOT}/template.yaml"))?;
    let doc: yaml_serde::Value = yaml_serde::from_str(&text)?;
    let props = doc["Resources"]["DownloadsTable"]["Properties"].clone();
    let json = serde_json::to_value(&props)?;
    json.is_object()
        .then_some(json)
        .ok_or_else(|| anyhow!("template.yaml has no Resources.DownloadsTable.Properties"))
}

/// Creates a downloads table named `name` with the template's key schema
/// and attribute definitions, on demand like the template's.
pub async fn create_downloads_table(name: &str) -> Result<String> {
    let props = table_properties()?;
    let client = dynamodb().await;
    let mut create = client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest);
    for a in props["AttributeDefinitions"]
        .as_array()
        .context("AttributeDefinitions")?
    {
        create = create.attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(a["AttributeName"].as_str().context("AttributeName")?)
                .attribute_type(ScalarAttributeType::from(
                    a["AttributeType"].as_str().context("AttributeType")?,
                ))
                .build()?,
        );
    }
    for k in props["KeySchema"].as_array().context("KeySchema")? {
        create = create.key_schema(
            KeySchemaElement::builder()
                .attribute_name(k["AttributeName"].as_str().context("AttributeName")?)
                .key_type(KeyType::from(k["KeyType"].as_str().context("KeyType")?))
                .build()?,
        );
    }
    create.send().await?;
    Ok(name.to_owned())
}

/// The time `days` ago, in RFC 3339.
pub fn days_ago(days: f64) -> String {
    let t = time::OffsetDateTime::now_utc() - time::Duration::seconds_f64(days * 86_400.0);
    t.replace_nanosecond(0)
        .unwrap()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

/// One npm download in the emulator's `acme` domain (owner 111122223333).
pub fn npm_read(
    repository: &str,
    scope: Option<&str>,
    package: &str,
    version: &str,
    time: &str,
    seq: u64,
) -> Value {
    read_event(&Download {
        domain_owner: "111122223333",
        domain: "acme",
        repository,
        format: "npm",
        namespace: scope,
        namespace_field: false,
        package,
        version: Some(version),
        time,
        seq,
    })
}

/// The latest read the table holds of one version (ms), if any.
pub async fn last_read(table: &str, package_key: &str, version: &str) -> Result<Option<i64>> {
    let out = dynamodb()
        .await
        .get_item()
        .table_name(table)
        .key("packageKey", AttributeValue::S(package_key.into()))
        .key("version", AttributeValue::S(version.into()))
        .consistent_read(true)
        .send()
        .await?;
    Ok(out
        .item()
        .and_then(|i| i.get("lastReadAt"))
        .and_then(|v| v.as_n().ok())
        .and_then(|n| n.parse().ok()))
}

/// Sets a domain's "recording since" marker, as if recording had begun
/// `days` ago.
pub async fn recording_since(table: &str, domain: &str, days: f64) -> Result<()> {
    let ms = (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
        - (days * 86_400_000.0) as i64;
    dynamodb()
        .await
        .put_item()
        .table_name(table)
        .item(
            "packageKey",
            AttributeValue::S(format!("domain#111122223333/{domain}")),
        )
        .item("version", AttributeValue::S("recordingSince".into()))
        .item("since", AttributeValue::N(ms.to_string()))
        .send()
        .await?;
    Ok(())
}

/// Moves every archive time under `partition` back by `days`, as if the
/// versions had been archived that much earlier. Returns how many.
pub async fn age_archive_times(table: &str, partition: &str, days: f64) -> Result<usize> {
    let client = dynamodb().await;
    let page = client
        .query()
        .table_name(table)
        .key_condition_expression("packageKey = :pk")
        .expression_attribute_values(":pk", AttributeValue::S(partition.to_owned()))
        .send()
        .await?;
    let shift = (days * 86_400_000.0) as i64;
    for item in page.items() {
        let at: i64 = item["archivedAt"]
            .as_n()
            .map_err(|_| anyhow!("archivedAt"))?
            .parse()?;
        client
            .update_item()
            .table_name(table)
            .key("packageKey", item["packageKey"].clone())
            .key("version", item["version"].clone())
            .update_expression("SET archivedAt = :t")
            .expression_attribute_values(":t", AttributeValue::N((at - shift).to_string()))
            .send()
            .await?;
    }
    Ok(page.items().len())
}
