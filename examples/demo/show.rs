//! What the demo prints at the end: what remains (with each version's
//! status), and the metrics' totals per service.

use std::collections::BTreeMap;

use packprune_emulator::State;

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
        println!(
            "   {label:<55} {}: {}",
            counts.join(", "),
            crate::short(&named)
        );
    }
}

/// The embedded-metric-format lines the function wrote, checked against
/// the EMF specification, and their totals per service: every outcome's
/// count, then every other metric that is not zero.
pub fn metrics(watch: &LambdaWatch) {
    let docs = crate::log_lines(watch, |v| v.get("_aws").is_some());
    let valid = docs
        .iter()
        .filter(|d| packprune::metrics::check(d).is_ok())
        .count();
    println!(
        "\n── metrics: {} EMF line(s), {valid} valid (namespace packprune, dimensions FunctionName, Service)",
        docs.len()
    );
    let mut totals: BTreeMap<String, BTreeMap<String, f64>> = BTreeMap::new();
    for d in &docs {
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
    for (service, t) in totals {
        let outcomes = packprune::metrics::COUNTS
            .iter()
            .map(|n| format!("{n} {}", t.get(*n).copied().unwrap_or(0.0)));
        let others = t
            .iter()
            .filter(|(n, v)| !packprune::metrics::COUNTS.contains(&n.as_str()) && **v != 0.0)
            .map(|(n, v)| match v.fract() == 0.0 {
                true => format!("{n} {v}"),
                false => format!("{n} {v:.2}"),
            });
        let all: Vec<String> = outcomes.chain(others).collect();
        println!("   {service:<13} {}", all.join(" "));
    }
}
