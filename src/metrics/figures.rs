//! The documents of one invocation: its accounts' lines and counts, and
//! its pacers' calls, added up per service ([`Figures`]), each service's
//! figures then written as one EMF document.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use super::{
    count_name, MetricsConfig, ALARM_COUNTS, COUNTS, DEPENDENCY_COUNTS, DOWNLOAD_COUNTS,
    REPORT_COUNTS, STORAGE_COUNTS,
};
use crate::account::{Disposition, Line, Reason, UnitAccount};
use crate::code::Code;
use crate::retry::pace::PaceStats;
use crate::service::Service;

/// One service's figures for one invocation.
#[derive(Debug, Default)]
struct Figures {
    counts: BTreeMap<String, f64>,
    calls: u64,
    throttles: u64,
    rate: Option<f64>,
}

/// The pacers' calls and throttles of this invocation (`after` less
/// `before`), and their rates now.
fn add_pacing(by: &mut BTreeMap<Service, Figures>, before: &[PaceStats], after: &[PaceStats]) {
    for a in after {
        let b = before.iter().find(|b| b.class == a.class);
        let calls = a.calls - b.map_or(0, |b| b.calls);
        let throttles = a.throttles - b.map_or(0, |b| b.throttles);
        let f = by.entry(a.class.service()).or_default();
        f.calls += calls;
        f.throttles += throttles;
        if a.class.is_write() {
            f.rate = Some(a.rate);
        }
    }
}

/// One EMF document per service this invocation touched.
pub(crate) fn documents(
    config: &MetricsConfig,
    accounts: &[UnitAccount],
    pacing: (&[PaceStats], &[PaceStats]),
    timestamp_ms: u64,
) -> Vec<Value> {
    let mut by: BTreeMap<Service, Figures> = BTreeMap::new();
    for l in accounts.iter().flat_map(|a| &a.lines) {
        count_line(by.entry(l.service).or_default(), l);
    }
    for (service, n) in accounts.iter().flat_map(|a| &a.handed_on_without_progress) {
        add(&mut by, *service, "HandedOnWithoutProgress", *n as f64);
    }
    for (service, ..) in accounts.iter().flat_map(|a| &a.packages_not_found) {
        add(&mut by, *service, "PackagesNotFound", 1.0);
    }
    add_downloads(&mut by, accounts);
    add_reports(&mut by, accounts);
    add_pacing(&mut by, pacing.0, pacing.1);
    by.into_iter()
        .filter(|(_, f)| !f.counts.is_empty() || f.calls > 0)
        .map(|(service, f)| document(config, service, f, timestamp_ms))
        .collect()
}

/// Adds `n` to a service's count `name`.
fn add(by: &mut BTreeMap<Service, Figures>, service: Service, name: &str, n: f64) {
    *by.entry(service)
        .or_default()
        .counts
        .entry(name.into())
        .or_default() += n;
}

/// Counts one line: `Requested`, its disposition's count, the rule or code
/// it was kept or dead-lettered by, and whether it was still throttled.
fn count_line(f: &mut Figures, l: &Line) {
    // What a delete freed, measured before it went (`measureStorage`); a
    // size not given adds nothing (nor writes the metric).
    if let (Disposition::Deleted, Some(b)) = (l.disposition, l.storage) {
        if let Some(bytes) = b.bytes {
            *f.counts.entry(STORAGE_COUNTS[0].into()).or_default() += bytes as f64;
            if b.shared {
                *f.counts.entry(STORAGE_COUNTS[1].into()).or_default() += bytes as f64;
            }
        }
    }
    let mut bump = |name: String| *f.counts.entry(name).or_default() += 1.0;
    bump("Requested".into());
    bump(count_name(l.disposition).into());
    match (l.disposition, &l.code) {
        (Disposition::Kept, Some(r)) => bump(format!("Kept.{r}")),
        (Disposition::DeadLettered, Some(r)) => bump(format!("DeadLettered.{r}")),
        _ => {}
    }
    // Handed on (or dead-lettered) still throttled when time ran out:
    // the deadline went on waiting for the quota.
    if matches!(
        l.disposition,
        Disposition::HandedOn | Disposition::DeadLettered
    ) && matches!(&l.code, Some(Reason::Code(Code::Service(c))) if c == "ThrottlingException")
    {
        bump("ThrottledAtDeadline".into());
    }
}

/// The usage queue's [`DOWNLOAD_COUNTS`] and the index's
/// [`super::DEPENDENCY_COUNTS`], under CodeArtifact, when not zero.
fn add_downloads(by: &mut BTreeMap<Service, Figures>, accounts: &[UnitAccount]) {
    for (name, n) in [
        (
            "ReadEvents",
            accounts.iter().map(|a| a.read_events).sum::<u64>(),
        ),
        (
            "MetadataReads",
            accounts.iter().map(|a| a.metadata_reads).sum(),
        ),
        (
            "VersionsRecorded",
            accounts.iter().map(|a| a.versions_recorded).sum(),
        ),
        (
            "DependentsIndexed",
            accounts.iter().map(|a| a.dependents_indexed).sum(),
        ),
        (
            "DependencyEdgesWritten",
            accounts.iter().map(|a| a.dependency_edges_written).sum(),
        ),
        (
            "UnreadableRequirements",
            accounts.iter().map(|a| a.unreadable_requirements).sum(),
        ),
    ] {
        if n > 0 {
            add(by, Service::CodeArtifact, name, n as f64);
        }
    }
}

/// The [`REPORT_COUNTS`]: each report written, or not, under its service.
fn add_reports(by: &mut BTreeMap<Service, Figures>, accounts: &[UnitAccount]) {
    for a in accounts {
        let written = a.reports.iter().map(|r| (r.service, "ReportsWritten"));
        let unwritten = a.reports_unwritten.iter().map(|s| (*s, "ReportsUnwritten"));
        for (service, name) in written.chain(unwritten) {
            add(by, service, name, 1.0);
        }
    }
}

fn document(config: &MetricsConfig, service: Service, f: Figures, timestamp_ms: u64) -> Value {
    let mut root = Map::new();
    let mut metrics = Vec::new();
    let mut put = |root: &mut Map<String, Value>, name: &str, value: f64, unit: &str| {
        root.insert(name.to_owned(), json!(value));
        metrics.push(json!({"Name": name, "Unit": unit}));
    };
    for name in COUNTS.into_iter().chain(ALARM_COUNTS) {
        put(
            &mut root,
            name,
            f.counts.get(name).copied().unwrap_or(0.0),
            "Count",
        );
    }
    for (name, n) in f.counts.iter().filter(|(k, _)| k.contains('.')) {
        put(&mut root, name, *n, "Count");
    }
    for name in DOWNLOAD_COUNTS
        .into_iter()
        .chain(REPORT_COUNTS)
        .chain(DEPENDENCY_COUNTS)
    {
        if let Some(n) = f.counts.get(name) {
            put(&mut root, name, *n, "Count");
        }
    }
    for name in STORAGE_COUNTS {
        if let Some(n) = f.counts.get(name) {
            put(&mut root, name, *n, "Bytes");
        }
    }
    put(&mut root, "Calls", f.calls as f64, "Count");
    put(&mut root, "Throttles", f.throttles as f64, "Count");
    if let Some(rate) = f.rate {
        put(
            &mut root,
            "WriteRate",
            (rate * 100.0).round() / 100.0,
            "Count/Second",
        );
    }
    root.insert("Service".into(), json!(service.as_str()));
    root.insert("FunctionName".into(), json!(config.function_name));
    root.insert(
        "_aws".into(),
        json!({
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": config.namespace,
                "Dimensions": [["FunctionName", "Service"]],
                "Metrics": metrics,
            }],
        }),
    );
    Value::Object(root)
}
