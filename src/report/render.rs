//! report.csv and report.md, from report.json's content. Pure.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::{Kind, Report};

/// The CSV columns, in order.
pub const CSV_HEADER: [&str; 8] = [
    "package",
    "version",
    "fate",
    "rule",
    "detail",
    "status",
    "revision",
    "published",
];

/// report.csv: a header row, then one row per version (RFC 4180, via the
/// `csv` crate), in report.json's order.
pub fn csv(report: &Report) -> Vec<u8> {
    let mut w = ::csv::Writer::from_writer(Vec::new());
    w.write_record(CSV_HEADER).expect("write to memory");
    for p in &report.packages {
        for v in &p.versions {
            let opt = |o: &Option<String>| o.clone().unwrap_or_default();
            w.write_record([
                p.package.clone(),
                v.version.clone(),
                v.fate.clone(),
                opt(&v.rule),
                opt(&v.detail),
                opt(&v.status),
                opt(&v.revision),
                opt(&v.published),
            ])
            .expect("write to memory");
        }
    }
    w.into_inner().expect("flush to memory")
}

/// report.md: what a reviewer reads in a pull request. The header names
/// the report and, for a plan, the digest to approve, how long it
/// holds and the apply request that carries it out (`json_uri` is where
/// report.json is); per package, the counts by fate and rule, then every version
/// that goes (or went), oldest first.
pub fn markdown(report: &Report, sha256: &str, json_uri: &str) -> String {
    let mut md = String::new();
    let title = match report.kind {
        Kind::Plan => "Plan",
        Kind::Run => "Run report",
        Kind::Apply => "Apply report",
    };
    let _ = writeln!(md, "# packprune {title} `{}`\n", report.id);
    let _ = writeln!(md, "| | |\n|---|---|");
    let _ = writeln!(md, "| service | {} |", report.service);
    let _ = writeln!(md, "| created | {} |", report.created_at);
    if let Some(at) = &report.expires_at {
        let _ = writeln!(md, "| expires | {at} |");
    }
    if let Some(a) = &report.applies {
        let _ = writeln!(
            md,
            "| applies plan | `{}` (sha256 `{}`) |",
            a.plan_id, a.sha256
        );
    }
    let _ = writeln!(md, "| sha256 of report.json | `{sha256}` |");
    let _ = writeln!(md, "| source | {} |", report.source);
    let _ = writeln!(
        md,
        "\nRequest:\n\n```json\n{}\n```",
        serde_json::to_string(&report.request).unwrap_or_default()
    );
    if report.kind == Kind::Plan {
        let _ = writeln!(
            md,
            "\nTo carry out exactly this plan, send:\n\n```json\n{}\n```",
            serde_json::json!({"service": report.service, "apply": {"report": json_uri, "sha256": sha256}})
        );
    }
    for p in &report.packages {
        package(&mut md, p, report.kind);
    }
    md
}

fn package(md: &mut String, p: &super::PackageReport, kind: Kind) {
    let _ = writeln!(md, "\n## {}\n", p.package);
    let mut counts: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    for v in &p.versions {
        *counts
            .entry((v.fate.as_str(), v.rule.as_deref().unwrap_or("")))
            .or_default() += 1;
    }
    let _ = writeln!(md, "| fate | rule | versions |\n|---|---|---:|");
    for ((fate, rule), n) in &counts {
        let _ = writeln!(md, "| {fate} | {rule} | {n} |");
    }
    // A dry-run apply's versions that would go have the action as fate.
    let gone: &[&str] = match kind {
        Kind::Plan => &[p.action.as_str()],
        _ => &[
            "deleted",
            "archived",
            "unlisted",
            "deprecated",
            p.action.as_str(),
        ],
    };
    let going: Vec<&super::VersionRow> = p
        .versions
        .iter()
        .filter(|v| gone.contains(&v.fate.as_str()))
        .collect();
    let heading = match kind {
        Kind::Plan => format!("To {}", p.action),
        _ => "Done".to_owned(),
    };
    let _ = writeln!(md, "\n{heading} ({}):\n", going.len());
    for v in going {
        let status = v.status.as_deref().unwrap_or("?");
        match &v.published {
            Some(at) => {
                let _ = writeln!(md, "- `{}` ({status}, published {at})", v.version);
            }
            None => {
                let _ = writeln!(md, "- `{}` ({status})", v.version);
            }
        }
    }
}
