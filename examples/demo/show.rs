//! What the demo prints at the end: what remains (with each version's
//! status), and the metrics' totals per service.

use std::collections::BTreeMap;

use packprune_emulator::State;
use serde_json::Value;

use crate::support::LambdaWatch;

/// package label → (version, status), for everything in the emulator.
pub fn statuses(state: &State) -> BTreeMap<String, Vec<(String, String)>> {
    let mut out = BTreeMap::new();
    for (dname, d) in &state.codeartifact.domains {
        for (rname, r) in &d.repositories {
            for p in &r.packages {
                let ns = p
                    .namespace
                    .as_deref()
                    .map(|n| format!("{n}/"))
                    .unwrap_or_default();
                let label = format!(
                    "codeartifact {dname}/{rname}/{}/{ns}{}",
                    p.format, p.package
                );
                let versions = p
                    .versions
                    .iter()
                    .map(|v| (v.version.clone(), v.status.clone()))
                    .collect();
                out.insert(label, versions);
            }
        }
    }
    for (name, p) in &state.iot.packages {
        let label = match &p.default_version {
            Some(d) => format!("iot {name} (default {d})"),
            None => format!("iot {name}"),
        };
        let versions = p
            .versions
            .iter()
            .map(|(v, s)| (v.clone(), s.status.clone()))
            .collect();
        out.insert(label, versions);
    }
    out
}

/// Every package left, its versions counted by status, and the versions
/// whose status is not the published one named with it.
pub fn remains(state: &State) {
    println!("\n── what remains (by status; versions not published are named with theirs)");
    for line in remains_lines(state) {
        println!("{line}");
    }
}

/// The lines of [`remains`]: one per package.
fn remains_lines(state: &State) -> Vec<String> {
    let mut out = Vec::new();
    for (label, versions) in statuses(state) {
        let mut by: BTreeMap<&str, usize> = BTreeMap::new();
        for (_, s) in &versions {
            *by.entry(s.as_str()).or_default() += 1;
        }
        let counts: Vec<String> = by.iter().map(|(s, n)| format!("{n} {s}")).collect();
        let named: Vec<String> = versions
            .iter()
            .map(|(v, s)| match s.as_str() {
                "Published" | "PUBLISHED" => v.clone(),
                other => format!("{v} [{other}]"),
            })
            .collect();
        out.push(format!(
            "   {label:<55} {}: {}",
            counts.join(", "),
            crate::short(&named)
        ));
    }
    out
}

/// One dead letter: its code, what it names, and the event file it came
/// from (`sources`: delivery id → file), then its reason.
pub fn dead_letter(d: &Value, sources: &BTreeMap<String, String>) -> [String; 2] {
    let service = d["service"].as_str().unwrap_or("?");
    let what = match (d.get("package"), d.get("versions")) {
        (Some(p), Some(v)) => format!("{service} {} {v}", p.as_str().unwrap_or("?")),
        (Some(p), None) => format!("{service} {} (whole package)", p.as_str().unwrap_or("?")),
        _ => format!("raw body {}", d["rawBody"]),
    };
    let source = d["failure"]["source"].as_str().unwrap_or("?");
    let from = sources.get(source).map_or(source, String::as_str);
    [
        format!(
            "   {:<22} {what}  (from {from})",
            d["failure"]["code"].as_str().unwrap_or("?")
        ),
        format!(
            "   {:<22} ↳ {}",
            "",
            d["failure"]["message"].as_str().unwrap_or("")
        ),
    ]
}

/// The embedded-metric-format lines the function wrote, checked against
/// the EMF specification, and their totals per service: every outcome's
/// count, then every other metric that is not zero.
pub fn metrics(watch: &LambdaWatch) {
    let docs = crate::log_lines(watch, |v| v.get("_aws").is_some());
    let valid = docs
        .iter()
        .filter(|d| packprune::testkit::metrics::check(d).is_ok())
        .count();
    println!(
        "\n── metrics: {} EMF line(s), {valid} valid (namespace packprune, dimensions FunctionName, Service)",
        docs.len()
    );
    for row in metric_rows(&docs) {
        println!("{row}");
    }
}

/// One row per service: every outcome metric (zero too), then the others
/// that are not zero.
fn metric_rows(docs: &[Value]) -> Vec<String> {
    let mut totals: BTreeMap<String, BTreeMap<String, f64>> = BTreeMap::new();
    for d in docs {
        let service = d["Service"].as_str().unwrap_or("?").to_owned();
        let names = d["_aws"]["CloudWatchMetrics"][0]["Metrics"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|m| m["Name"].as_str());
        for name in names {
            *totals
                .entry(service.clone())
                .or_default()
                .entry(name.to_owned())
                .or_default() += d[name].as_f64().unwrap_or(0.0);
        }
    }
    let mut rows = Vec::new();
    for (service, t) in totals {
        let outcomes = packprune::testkit::metrics::COUNTS
            .iter()
            .map(|n| format!("{n} {}", t.get(*n).copied().unwrap_or(0.0)));
        let others = t
            .iter()
            .filter(|(n, v)| {
                !packprune::testkit::metrics::COUNTS.contains(&n.as_str()) && **v != 0.0
            })
            .map(|(n, v)| match v.fract() == 0.0 {
                true => format!("{n} {v}"),
                false => format!("{n} {v:.2}"),
            });
        let all: Vec<String> = outcomes.chain(others).collect();
        rows.push(format!("   {service:<13} {}", all.join(" ")));
    }
    rows
}

/// Issue 19, item 5: what the demo prints names each dead letter's event,
/// each version's status, and every outcome that has a metric.
#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn each_dead_letter_names_the_event_it_came_from() {
        let sources = BTreeMap::from([
            ("id-1".to_owned(), "events/a.json".to_owned()),
            ("id-2".to_owned(), "events/b.json".to_owned()),
        ]);
        let letter = |source: &str| {
            json!({"service": "codeartifact", "package": "web", "versions": ["1.0.1"],
                   "failure": {"code": "NOT_ALLOWED", "message": "m", "source": source}})
        };
        let [a, reason] = dead_letter(&letter("id-1"), &sources);
        let [b, _] = dead_letter(&letter("id-2"), &sources);
        assert!(a.contains("(from events/a.json)"), "{a}");
        assert!(b.contains("(from events/b.json)"), "{b}");
        assert!(reason.ends_with("↳ m"), "{reason}");
        let [unknown, _] = dead_letter(&letter("id-9"), &sources);
        assert!(unknown.contains("(from id-9)"), "{unknown}");
    }

    #[test]
    fn what_remains_shows_each_versions_status() {
        let state = crate::support::seed(json!({"codeartifact": {"domains": {"acme": {
            "repositories": {"releases": {"packages": [{"format": "npm", "namespace": "acme",
            "package": "web", "versions": [{"version": "1.0.0", "status": "Archived"},
            {"version": "2.0.0"}]}]}}}}}}));
        let lines = remains_lines(&state);
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert!(lines[0].contains("1 Archived, 1 Published"), "{}", lines[0]);
        assert!(lines[0].contains("1.0.0 [Archived], 2.0.0"), "{}", lines[0]);
    }

    #[test]
    fn every_outcome_with_a_metric_has_a_column() {
        let doc = json!({"Service": "iot", "Deprecated": 2.0, "Calls": 5.0, "Throttles": 0.0,
            "_aws": {"CloudWatchMetrics": [{"Metrics": [{"Name": "Deprecated"},
            {"Name": "Calls"}, {"Name": "Throttles"}]}]}});
        let rows = metric_rows(&[doc.clone(), doc]);
        assert_eq!(rows.len(), 1, "{rows:?}");
        for n in packprune::testkit::metrics::COUNTS {
            assert!(rows[0].contains(&format!("{n} ")), "{n} in {}", rows[0]);
        }
        assert!(rows[0].contains("Deprecated 4"), "{}", rows[0]);
        assert!(
            rows[0].contains("Calls 10") && !rows[0].contains("Throttles"),
            "{}",
            rows[0]
        );
    }
}
