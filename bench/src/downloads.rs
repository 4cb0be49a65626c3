//! Download-aware retention: the recording path (100,000 CloudTrail
//! `ReadFromRepository` events in batches of 10,000 through one function
//! process into the downloads table, on moto's DynamoDB behind a counting
//! proxy) and what `notDownloadedForDays` costs a policy over the scope
//! workload's 1,000 packages.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType,
    ScalarAttributeType,
};
use packprune_emulator::cloudtrail::{read_event, Download};
use rand::{Rng, SeedableRng};
use serde_json::json;

use crate::proxy;
use crate::run::peak_rss_kib;
use crate::runtime_api::EventSource;
use crate::{function_env, spawn_function, workload, ROOT, TIMEOUT};

pub const EVENTS: usize = 100_000;
pub const BATCH: usize = 10_000;
pub(crate) const TABLE: &str = "packprune-downloads";

/// What the two runs measured.
#[derive(Debug)]
pub struct Report {
    pub invocations: u64,
    pub wall: f64,
    pub versions: usize,
    pub updates: u64,
    pub peak_rss_kib: Option<u64>,
    pub scope_wall: f64,
    pub scope_packages: usize,
    pub queries: u64,
    pub get_items: u64,
    pub kept_recently: usize,
}

/// moto's server from the virtualenv, on a free port.
pub(crate) fn moto() -> Result<(tokio::process::Child, String)> {
    let venv = std::env::var("PACKPRUNE_VENV").unwrap_or_else(|_| format!("{ROOT}/.venv"));
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let child = tokio::process::Command::new(Path::new(&venv).join("bin/moto_server"))
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .context("starting moto_server (make venv installs it)")?;
    Ok((child, format!("http://127.0.0.1:{port}")))
}

pub(crate) async fn dynamodb(endpoint: &str) -> aws_sdk_dynamodb::Client {
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url(endpoint)
        // aws-config without its default features brings no HTTP client.
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "bench", "bench", None, None, "bench",
        ))
        .load()
        .await;
    aws_sdk_dynamodb::Client::new(&sdk)
}

/// The table, with `template.yaml`'s key schema.
pub(crate) async fn create_table(client: &aws_sdk_dynamodb::Client) -> Result<()> {
    let text = std::fs::read_to_string(format!("{ROOT}/template.yaml"))?;
    let doc: yaml_serde::Value = yaml_serde::from_str(&text)?;
    let props = serde_json::to_value(&doc["Resources"]["DownloadsTable"]["Properties"])?;
    let mut create = client
        .create_table()
        .table_name(TABLE)
        .billing_mode(BillingMode::PayPerRequest);
    for a in props["AttributeDefinitions"]
        .as_array()
        .context("AttributeDefinitions")?
    {
        create = create.attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(a["AttributeName"].as_str().unwrap_or_default())
                .attribute_type(ScalarAttributeType::from(
                    a["AttributeType"].as_str().unwrap_or_default(),
                ))
                .build()?,
        );
    }
    for k in props["KeySchema"].as_array().context("KeySchema")? {
        create = create.key_schema(
            KeySchemaElement::builder()
                .attribute_name(k["AttributeName"].as_str().unwrap_or_default())
                .key_type(KeyType::from(k["KeyType"].as_str().unwrap_or_default()))
                .build()?,
        );
    }
    create.send().await?;
    Ok(())
}

/// 100,000 reads of the scope workload's packages over the last 60 days:
/// package popularity falls off as 1/rank, newer versions are read more.
/// Returns the events' bodies and how many versions were read within 30
/// days.
fn events() -> (Vec<String>, usize) {
    let mut rng = rand::rngs::StdRng::seed_from_u64(17);
    let versions: Vec<String> = (0..12).map(|i| format!("1.0.{i}")).collect();
    let weights: Vec<f64> = (1..=1000).map(|r| 1.0 / r as f64).collect();
    let total: f64 = weights.iter().sum();
    let now = time::OffsetDateTime::now_utc();
    let mut recent = std::collections::BTreeSet::new();
    let mut out = Vec::with_capacity(EVENTS);
    for seq in 0..EVENTS {
        let mut pick = rng.random_range(0.0..total);
        let p = weights.iter().position(|w| {
            pick -= w;
            pick <= 0.0
        });
        let package = format!("lib-{:04}", p.unwrap_or(999));
        let version = &versions[11 - (rng.random_range(0.0f64..1.0).powi(3) * 12.0) as usize % 12];
        // None within half a day of the window's edge, which moves while
        // the run lasts.
        let mut days: f64 = rng.random_range(0.0..60.0);
        if (29.5..30.5).contains(&days) {
            days += 1.0;
        }
        // Within the window, and a candidate: keepLatest 2 keeps 1.0.10 and
        // 1.0.11; the candidates are 1.0.0 to 1.0.9.
        if days < 30.0 && version.len() == 5 {
            recent.insert((package.clone(), version.clone()));
        }
        let t = (now - time::Duration::seconds_f64(days * 86_400.0))
            .replace_nanosecond(0)
            .ok()
            .and_then(|t| {
                t.format(&time::format_description::well_known::Rfc3339)
                    .ok()
            });
        let d = Download {
            domain_owner: "111122223333",
            domain: "acme",
            repository: "releases",
            format: "npm",
            namespace: None,
            namespace_field: false,
            package: &package,
            version: Some(version),
            time: t.as_deref().unwrap_or_default(),
            seq: seq as u64,
        };
        out.push(read_event(&d).to_string());
    }
    (out, recent.len())
}

/// Both runs: the events through one function process with batches of
/// 10,000; then the scope's policy with `notDownloadedForDays: 30`.
/// moto's server with the function's table created in it.
pub(crate) async fn moto_with_table() -> Result<(tokio::process::Child, String)> {
    let (child, moto_url) = moto()?;
    let client = dynamodb(&moto_url).await;
    let ready = Instant::now() + Duration::from_secs(60);
    while let Err(e) = create_table(&client).await {
        if Instant::now() > ready {
            bail!("moto's DynamoDB did not answer within 60 s: {e:?}");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Ok((child, moto_url))
}

pub async fn run() -> Result<Report> {
    let (_moto, moto_url) = moto_with_table().await?;
    let proxy = proxy::FaultProxy::start(&moto_url);
    let client = dynamodb(&moto_url).await;
    // Recording began 60 days ago: the events span that (a first batch alone
    // dates the marker from its writing, less 15 minutes).
    let since = (time::OffsetDateTime::now_utc().unix_timestamp() - 60 * 86_400) * 1000;
    client
        .put_item()
        .table_name(TABLE)
        .item(
            "packageKey",
            AttributeValue::S("domain#111122223333/acme".into()),
        )
        .item("version", AttributeValue::S("recordingSince".into()))
        .item("since", AttributeValue::N(since.to_string()))
        .send()
        .await?;
    let (bodies, recent) = events();
    let w = workload::scope();
    // The scope workload's quotas, as in its runs above.
    let emulator = crate::emulator_for(&w)?;
    let logs = Path::new(ROOT).join("target/bench");
    std::fs::create_dir_all(&logs)?;
    let env = |source: &EventSource| {
        let mut env = function_env(&emulator.url(), source, 1);
        env.push(("DOWNLOADS_TABLE".into(), TABLE.into()));
        env.push(("AWS_ENDPOINT_URL_DYNAMODB".into(), proxy.url.clone()));
        env
    };
    // Recording.
    let source = EventSource::start_with_batch(TIMEOUT, BATCH).await?;
    let mut child = spawn_function(&env(&source), &logs.join("downloads-record.log"))?;
    while source.first_poll().is_none() {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let start = Instant::now();
    source.send(bodies);
    let delivered = tokio::time::timeout(Duration::from_secs(900), source.drained())
        .await
        .context("recording did not finish within 15 minutes")?;
    let wall = start.elapsed().as_secs_f64();
    let peak = child.id().and_then(peak_rss_kib);
    let _ = child.kill().await;
    if delivered.redelivered + delivered.errors > 0 {
        bail!(
            "recording redelivered {} records; see target/bench/downloads-record.log",
            delivered.redelivered + delivered.errors
        );
    }
    let recorded = proxy.calls();
    let updates = recorded.get("UpdateItem").copied().unwrap_or(0);
    let versions = {
        let text = std::fs::read_to_string(logs.join("downloads-record.log"))?;
        text.lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter(|v| v["message"] == "downloads recorded")
            .map(|v| v["versions"].as_u64().unwrap_or(0) as usize)
            .sum()
    };
    // The policy over the scope.
    let source = EventSource::start(TIMEOUT).await?;
    let mut child = spawn_function(&env(&source), &logs.join("downloads-scope.log"))?;
    while source.first_poll().is_none() {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let mut req: serde_json::Value = serde_json::from_str(&w.messages[0])?;
    req["policy"] = json!({"keepLatest": 2, "notDownloadedForDays": 30});
    let start = Instant::now();
    source.send([req.to_string()]);
    tokio::time::timeout(Duration::from_secs(900), source.drained())
        .await
        .context("the scope did not finish within 15 minutes")?;
    let scope_wall = start.elapsed().as_secs_f64();
    let _ = child.kill().await;
    let calls = proxy.calls();
    let state = emulator.shared.state();
    let remaining: usize = state.codeartifact.domains["acme"].repositories["releases"]
        .packages
        .iter()
        .map(|p| p.versions.len())
        .sum();
    let kept_recently = remaining - 2 * 1000;
    if kept_recently != recent {
        bail!("the policy kept {kept_recently} versions beyond keepLatest; {recent} were read within 30 days");
    }
    Ok(Report {
        invocations: delivered.invocations,
        wall,
        versions,
        updates,
        peak_rss_kib: peak,
        scope_wall,
        scope_packages: 1000,
        queries: calls.get("Query").copied().unwrap_or(0)
            - recorded.get("Query").copied().unwrap_or(0),
        get_items: calls.get("GetItem").copied().unwrap_or(0)
            - recorded.get("GetItem").copied().unwrap_or(0),
        kept_recently,
    })
}

/// The report's section.
pub fn render(s: &mut String, r: &Report) -> std::fmt::Result {
    writeln!(s, "## Download-aware retention\n")?;
    writeln!(s, "{EVENTS} CloudTrail `ReadFromRepository` events (the emulator's generator, built from the CodeArtifact guide's example record) of the scope workload's 1,000 npm packages over 60 days, popularity falling as 1/rank, sent to one function process in batches of {BATCH} (the usage queue's largest batch); the table is moto's DynamoDB behind a pass-through proxy that counts calls. Then the scope workload's policy with `notDownloadedForDays: 30` (`keepLatest: 2`), fanned out one package per message as above.\n")?;
    writeln!(s, "| what | figure |\n|---|---|")?;
    writeln!(s, "| invocations | {} |", r.invocations)?;
    writeln!(
        s,
        "| events recorded per second, per invocation | {:.0} ({:.1} s for {EVENTS}) |",
        EVENTS as f64 / r.wall,
        r.wall
    )?;
    writeln!(
        s,
        "| versions written (latest read per version per batch) | {} |",
        r.versions
    )?;
    writeln!(
        s,
        "| DynamoDB writes (UpdateItem, markers included) per event | {:.3} ({} writes) |",
        r.updates as f64 / EVENTS as f64,
        r.updates
    )?;
    if let Some(kib) = r.peak_rss_kib {
        writeln!(
            s,
            "| peak RSS, recording | {:.1} MiB |",
            kib as f64 / 1024.0
        )?;
    }
    writeln!(
        s,
        "| policy over {} packages: time | {:.1} s |",
        r.scope_packages, r.scope_wall
    )?;
    writeln!(
        s,
        "| Query calls per package | {:.2} ({} calls) |",
        r.queries as f64 / r.scope_packages as f64,
        r.queries
    )?;
    writeln!(
        s,
        "| GetItem calls (recording-since markers) | {} |",
        r.get_items
    )?;
    writeln!(
        s,
        "| versions kept as `RECENTLY_DOWNLOADED` | {} (every candidate read within 30 days) |\n",
        r.kept_recently
    )?;
    writeln!(
        s,
        "The same scope without `notDownloadedForDays` takes about 10 s above; the difference is the {} Queries and {} GetItems to moto's DynamoDB (one Python process). Recording likewise writes to moto, one UpdateItem per version per batch. Neither was profiled further, nor measured against DynamoDB itself. The recording's memory is one invocation holding a batch of {BATCH} events.\n",
        r.queries, r.get_items
    )?;
    Ok(())
}
