//! CloudWatch embedded metric format (EMF): one JSON line per invocation
//! and service, written to stdout, from which CloudWatch Logs extracts the
//! metrics. Namespace `METRICS_NAMESPACE` (default `packprune`);
//! dimensions `FunctionName` and `Service`.
//!
//! A few lines of serde_json rather than a crate: the EMF crates on
//! crates.io record through a global `metrics` recorder or their own
//! entry types, and one document per service is all this needs.

use serde_json::{Map, Value};

use crate::account::Disposition;

mod figures;
pub(crate) use figures::documents;

/// Where the metrics go, read once at cold start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricsConfig {
    /// `METRICS_NAMESPACE`, default `packprune`.
    pub(crate) namespace: String,
    /// `AWS_LAMBDA_FUNCTION_NAME` (Lambda sets it), default `packprune`.
    pub(crate) function_name: String,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        MetricsConfig {
            namespace: "packprune".into(),
            function_name: "packprune".into(),
        }
    }
}

/// The counts that are always written, zero or not (alarms see zeros, not
/// missing data), in the order of docs/operating.md's table.
pub const COUNTS: [&str; 9] = [
    "Requested",
    "Deleted",
    "Archived",
    "Unlisted",
    "Deprecated",
    "AlreadyAbsent",
    "Kept",
    "DeadLettered",
    "HandedOn",
];

/// The usage queue's counts, written when a delivery carried download
/// events: events received, reads naming no version, versions written.
pub(crate) const DOWNLOAD_COUNTS: [&str; 3] = ["ReadEvents", "MetadataReads", "VersionsRecorded"];

/// The index of dependencies: versions indexed again (events, backfill
/// parts), edges written, and requirements `protectDependencies` could not
/// read; written when not zero.
pub(crate) const DEPENDENCY_COUNTS: [&str; 3] = [
    "DependentsIndexed",
    "DependencyEdgesWritten",
    "UnreadableRequirements",
];

/// `measureStorage`: the asset bytes of the versions deleted, and the part
/// of them another repository of the domain still holds (so not freed),
/// written when not zero.
pub(crate) const STORAGE_COUNTS: [&str; 2] = ["BytesDeleted", "BytesShared"];

/// Run reports written to `REPORTS_BUCKET`, and those that could not be,
/// written when there were any.
pub(crate) const REPORT_COUNTS: [&str; 2] = ["ReportsWritten", "ReportsUnwritten"];

/// Counts written with [`COUNTS`], zero or not: items still throttled at
/// the deadline, packages a request named that do not exist, and items
/// handed on that the invocation made no progress on.
pub(crate) const ALARM_COUNTS: [&str; 3] = [
    "ThrottledAtDeadline",
    "PackagesNotFound",
    "HandedOnWithoutProgress",
];

/// Every metric name the function writes, but the per-rule and per-code
/// ones (`Kept.<rule>`, `DeadLettered.<CODE>`): the counts, then `Calls`,
/// `Throttles` and `WriteRate` (Count/Second).
pub fn names() -> Vec<&'static str> {
    COUNTS
        .into_iter()
        .chain(ALARM_COUNTS)
        .chain(DOWNLOAD_COUNTS)
        .chain(REPORT_COUNTS)
        .chain(DEPENDENCY_COUNTS)
        .chain(STORAGE_COUNTS)
        .chain(["Calls", "Throttles", "WriteRate"])
        .collect()
}

/// The metric a disposition counts toward: its name in [`COUNTS`], which
/// lists them after `Requested` in the order `Disposition` declares them.
fn count_name(d: Disposition) -> &'static str {
    let index = match d {
        Disposition::Deleted => 1,
        Disposition::Archived => 2,
        Disposition::Unlisted => 3,
        Disposition::Deprecated => 4,
        Disposition::AlreadyAbsent => 5,
        Disposition::Kept => 6,
        Disposition::DeadLettered => 7,
        Disposition::HandedOn => 8,
        Disposition::Indexed => return "DependentsIndexed",
    };
    COUNTS[index]
}

/// The units the EMF specification allows.
const UNITS: [&str; 27] = [
    "Seconds",
    "Microseconds",
    "Milliseconds",
    "Bytes",
    "Kilobytes",
    "Megabytes",
    "Gigabytes",
    "Terabytes",
    "Bits",
    "Kilobits",
    "Megabits",
    "Gigabits",
    "Terabits",
    "Percent",
    "Count",
    "Bytes/Second",
    "Kilobytes/Second",
    "Megabytes/Second",
    "Gigabytes/Second",
    "Terabytes/Second",
    "Bits/Second",
    "Kilobits/Second",
    "Megabits/Second",
    "Gigabits/Second",
    "Terabits/Second",
    "Count/Second",
    "None",
];

/// Checks a document against the EMF specification's rules: `_aws` with
/// a numeric `Timestamp` and `CloudWatchMetrics`; each directive with a
/// `Namespace` (1–1024 characters), `Dimensions` (sets of at most 30 names,
/// each a string member of the root) and `Metrics` (at most 100, each with
/// a `Name` of 1–1024 characters naming a numeric member of the root, an
/// optional `Unit` from the list, an optional `StorageResolution` of 1 or
/// 60); no member the specification does not define.
pub fn check(doc: &Value) -> Result<(), String> {
    let root = doc.as_object().ok_or("the document is not an object")?;
    let aws = root
        .get("_aws")
        .and_then(Value::as_object)
        .ok_or("no `_aws` object")?;
    only(aws, &["Timestamp", "CloudWatchMetrics"], "_aws")?;
    if aws.get("Timestamp").is_none_or(|t| t.as_u64().is_none()) {
        return Err("`_aws.Timestamp` is not a whole number of milliseconds".into());
    }
    let directives = aws
        .get("CloudWatchMetrics")
        .and_then(Value::as_array)
        .ok_or("`_aws.CloudWatchMetrics` is not an array")?;
    for d in directives {
        let d = d.as_object().ok_or("a MetricDirective is not an object")?;
        only(
            d,
            &["Namespace", "Dimensions", "Metrics"],
            "MetricDirective",
        )?;
        let ns = d
            .get("Namespace")
            .and_then(Value::as_str)
            .ok_or("no `Namespace`")?;
        length("Namespace", ns)?;
        let sets = d
            .get("Dimensions")
            .and_then(Value::as_array)
            .ok_or("no `Dimensions`")?;
        for set in sets {
            dimension_set(root, set)?;
        }
        let metrics = d
            .get("Metrics")
            .and_then(Value::as_array)
            .ok_or("no `Metrics`")?;
        if metrics.len() > 100 {
            return Err("a MetricDirective has more than 100 metrics".into());
        }
        for m in metrics {
            metric(root, m)?;
        }
    }
    Ok(())
}

/// A DimensionSet: at most 30 names, each of a string member of the root
/// of 1–1024 characters.
fn dimension_set(root: &Map<String, Value>, set: &Value) -> Result<(), String> {
    let set = set.as_array().ok_or("a DimensionSet is not an array")?;
    if set.len() > 30 {
        return Err("a DimensionSet has more than 30 dimensions".into());
    }
    for name in set {
        let name = name.as_str().ok_or("a dimension name is not a string")?;
        let value = root.get(name).and_then(Value::as_str);
        if !value.is_some_and(|v| !v.is_empty() && v.chars().count() <= 1024) {
            return Err(format!(
                "dimension {name:?} has no string member of 1–1024 characters"
            ));
        }
    }
    Ok(())
}

fn metric(root: &Map<String, Value>, m: &Value) -> Result<(), String> {
    let m = m.as_object().ok_or("a MetricDefinition is not an object")?;
    only(
        m,
        &["Name", "Unit", "StorageResolution"],
        "MetricDefinition",
    )?;
    let name = m
        .get("Name")
        .and_then(Value::as_str)
        .ok_or("a metric has no `Name`")?;
    length("Name", name)?;
    if let Some(u) = m.get("Unit") {
        if !u.as_str().is_some_and(|u| UNITS.contains(&u)) {
            return Err(format!(
                "metric {name:?} has unit {u}, not one the specification lists"
            ));
        }
    }
    if let Some(r) = m.get("StorageResolution") {
        if !matches!(r.as_u64(), Some(1 | 60)) {
            return Err(format!(
                "metric {name:?} has StorageResolution {r}, not 1 or 60"
            ));
        }
    }
    let numeric = match root.get(name) {
        Some(Value::Number(_)) => true,
        Some(Value::Array(a)) => a.len() <= 100 && a.iter().all(Value::is_number),
        _ => false,
    };
    if !numeric {
        return Err(format!("metric {name:?} has no numeric member at the root"));
    }
    Ok(())
}

fn only(o: &Map<String, Value>, allowed: &[&str], what: &str) -> Result<(), String> {
    match o.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => Err(format!(
            "{what} has a member the specification does not define: {k:?}"
        )),
        None => Ok(()),
    }
}

fn length(what: &str, s: &str) -> Result<(), String> {
    match s.chars().count() {
        1..=1024 => Ok(()),
        n => Err(format!(
            "`{what}` is {n} characters long; 1 to 1024 are allowed"
        )),
    }
}

#[cfg(test)]
mod tests;
