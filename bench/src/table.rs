//! The function's table (`DOWNLOADS_TABLE`) in a run: on the bench's
//! DynamoDB stand-in (`dynamodb/`, the headline figures), or on moto's
//! DynamoDB (Python, reported as such) behind the tests' pass-through proxy,
//! which counts the function's calls. Either way the bench reads and
//! writes items beside the function without being counted.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use anyhow::{bail, Context, Result};
use aws_sdk_dynamodb::types::{AttributeValue, PutRequest, WriteRequest};
use serde_json::{Map, Value};

use crate::downloads::{self, TABLE};
use crate::dynamodb::{Item, StandIn, DEFAULT_LATENCY};
use crate::proxy::FaultProxy;

/// Which DynamoDB answers the function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    StandIn,
    Moto,
}

impl Kind {
    /// How the report names it.
    pub fn label(self) -> String {
        match self {
            Kind::StandIn => format!(
                "the bench's stand-in ({} ms a call)",
                DEFAULT_LATENCY.as_millis()
            ),
            Kind::Moto => "moto's DynamoDB (Python)".to_owned(),
        }
    }
}

/// The function's environment for a table at `url`.
pub fn env(url: &str) -> Vec<(String, String)> {
    vec![
        ("AWS_ENDPOINT_URL_DYNAMODB".into(), url.to_owned()),
        ("DOWNLOADS_TABLE".into(), TABLE.into()),
    ]
}

pub enum Table {
    StandIn(Arc<StandIn>),
    Moto(Box<Moto>),
}

/// moto's server, the proxy in front of it, and the bench's own client.
pub struct Moto {
    server: tokio::process::Child,
    proxy: FaultProxy,
    /// Straight to moto: the bench's reads and writes are not counted.
    client: aws_sdk_dynamodb::Client,
    /// The proxy's counts at the last reset.
    base: Mutex<BTreeMap<String, u64>>,
}

impl Table {
    pub async fn start(kind: Kind) -> Result<Table> {
        Ok(match kind {
            Kind::StandIn => Table::StandIn(StandIn::start(TABLE, DEFAULT_LATENCY).await?),
            Kind::Moto => {
                let (server, url) = downloads::moto_with_table().await?;
                Table::Moto(Box::new(Moto {
                    server,
                    proxy: FaultProxy::start(&url),
                    client: downloads::dynamodb(&url).await,
                    base: Mutex::default(),
                }))
            }
        })
    }

    /// moto's resident set now (KiB); none for the stand-in.
    pub fn server_rss_kib(&self) -> Option<u64> {
        let Table::Moto(m) = self else {
            return None;
        };
        let status = std::fs::read_to_string(format!("/proc/{}/status", m.server.id()?)).ok()?;
        let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
        line.split_whitespace().nth(1)?.parse().ok()
    }

    /// The function's environment.
    pub fn env(&self) -> Vec<(String, String)> {
        match self {
            Table::StandIn(s) => env(&s.url),
            Table::Moto(m) => env(&m.proxy.url),
        }
    }

    /// The function's calls by operation since the last reset.
    pub fn calls(&self) -> BTreeMap<String, u64> {
        match self {
            Table::StandIn(s) => s.calls(),
            Table::Moto(m) => {
                let base = m.base.lock().expect("base");
                let mut now = m.proxy.calls();
                for (op, n) in now.iter_mut() {
                    *n -= base.get(op).copied().unwrap_or(0);
                }
                now.retain(|_, n| *n > 0);
                now
            }
        }
    }

    pub fn reset_calls(&self) {
        match self {
            Table::StandIn(s) => s.reset_calls(),
            Table::Moto(m) => *m.base.lock().expect("base") = m.proxy.calls(),
        }
    }

    /// Keeps the stand-in's call log (arrival, operation, status) in
    /// `target/bench/<run>.dynamodb.json`, for a closer look at a run.
    pub fn keep_log(&self, run: &str) {
        if let Table::StandIn(s) = self {
            let path = std::path::Path::new(crate::ROOT).join(format!(
                "target/bench/{}.dynamodb.json",
                crate::run::file_name(run)
            ));
            if let Ok(json) = serde_json::to_vec(&s.log()) {
                let _ = std::fs::write(path, json);
            }
        }
    }

    /// Fails if the stand-in refused a request it does not implement: the
    /// run's figures would not be the function's.
    pub fn check(&self) -> Result<()> {
        if let Table::StandIn(s) = self {
            let refused = s.refused();
            if !refused.is_empty() {
                bail!(
                    "the DynamoDB stand-in refused {} request(s) it does not implement; first: {}",
                    refused.len(),
                    refused[0]
                );
            }
        }
        Ok(())
    }

    /// Writes items directly (BatchWriteItem to moto, 25 a call).
    pub async fn load(&self, items: Vec<Item>) -> Result<()> {
        let client = match self {
            Table::StandIn(s) => {
                s.load(items);
                return Ok(());
            }
            Table::Moto(m) => &m.client,
        };
        for chunk in items.chunks(25) {
            let mut writes = chunk
                .iter()
                .map(|i| {
                    let put = PutRequest::builder()
                        .set_item(Some(to_sdk_item(i)?))
                        .build()?;
                    Ok(WriteRequest::builder().put_request(put).build())
                })
                .collect::<Result<Vec<_>>>()?;
            while !writes.is_empty() {
                let out = client
                    .batch_write_item()
                    .request_items(TABLE, writes)
                    .send()
                    .await
                    .context("BatchWriteItem to moto")?;
                writes = out
                    .unprocessed_items()
                    .and_then(|u| u.get(TABLE))
                    .cloned()
                    .unwrap_or_default();
            }
        }
        Ok(())
    }

    /// The item under a key.
    pub async fn get(&self, pk: &str, sk: &str) -> Result<Option<Item>> {
        let client = match self {
            Table::StandIn(s) => return Ok(s.get(pk, sk)),
            Table::Moto(m) => &m.client,
        };
        let out = client
            .get_item()
            .table_name(TABLE)
            .key("packageKey", AttributeValue::S(pk.to_owned()))
            .key("version", AttributeValue::S(sk.to_owned()))
            .consistent_read(true)
            .send()
            .await?;
        out.item().map(from_sdk_item).transpose()
    }

    /// Every item (a paged Scan of moto's table).
    pub async fn items(&self) -> Result<Vec<Item>> {
        let client = match self {
            Table::StandIn(s) => return Ok(s.items()),
            Table::Moto(m) => &m.client,
        };
        let (mut out, mut start) = (Vec::new(), None);
        loop {
            let page = client
                .scan()
                .table_name(TABLE)
                .set_exclusive_start_key(start)
                .send()
                .await?;
            for i in page.items() {
                out.push(from_sdk_item(i)?);
            }
            match page.last_evaluated_key() {
                Some(k) if !k.is_empty() => start = Some(k.clone()),
                _ => return Ok(out),
            }
        }
    }
}

fn to_sdk(v: &Value) -> Result<AttributeValue> {
    let (ty, inner) = v
        .as_object()
        .and_then(|m| m.iter().next())
        .context("an attribute value")?;
    Ok(match (ty.as_str(), inner) {
        ("S", Value::String(s)) => AttributeValue::S(s.clone()),
        ("N", Value::String(n)) => AttributeValue::N(n.clone()),
        ("L", Value::Array(l)) => AttributeValue::L(l.iter().map(to_sdk).collect::<Result<_>>()?),
        ("M", Value::Object(m)) => AttributeValue::M(to_sdk_item(m)?),
        _ => bail!("the bench converts S, N, L and M only, not {v}"),
    })
}

fn to_sdk_item(item: &Item) -> Result<HashMap<String, AttributeValue>> {
    item.iter()
        .map(|(k, v)| Ok((k.clone(), to_sdk(v)?)))
        .collect()
}

fn from_sdk(v: &AttributeValue) -> Result<Value> {
    Ok(match v {
        AttributeValue::S(s) => serde_json::json!({ "S": s }),
        AttributeValue::N(n) => serde_json::json!({ "N": n }),
        AttributeValue::L(l) => {
            serde_json::json!({ "L": l.iter().map(from_sdk).collect::<Result<Vec<_>>>()? })
        }
        AttributeValue::M(m) => serde_json::json!({ "M": from_sdk_item(m)? }),
        other => bail!("the bench converts S, N, L and M only, not {other:?}"),
    })
}

fn from_sdk_item(item: &HashMap<String, AttributeValue>) -> Result<Item> {
    item.iter()
        .map(|(k, v)| Ok((k.clone(), from_sdk(v)?)))
        .collect::<Result<Map<String, Value>>>()
}
