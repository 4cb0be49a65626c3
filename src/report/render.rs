//! report.csv and report.md, from report.json's content. Pure.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::{Kind, Report};

/// The CSV columns, in order.
pub(crate) const CSV_HEADER: [&str; 10] = [
    "package",
    "version",
    "fate",
    "rule",
    "detail",
    "status",
    "revision",
    "published",
    "bytes",
    "shared",
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
                v.bytes.map(|b| b.to_string()).unwrap_or_default(),
                v.shared.map(|s| s.to_string()).unwrap_or_default(),
            ])
            .expect("write to memory");
        }
    }
    w.into_inner().expect("flush to memory")
}

/// report.md: what a reviewer reads in a pull request. The header names
/// the report and, for a plan, the digest to approve, how long it holds
/// and how to carry it out (`json_uri` is where report.json is: an
/// `s3://` URI gives the apply request, a file path the packprune-cli
/// command); per package, the counts by fate and rule, every version that
/// goes (or went), oldest first, then what stays, by rule, with the
/// versions.
pub fn markdown(report: &Report, sha256: &str, json_uri: &str) -> String {
    let mut md = String::new();
    let title = match report.kind {
        Kind::Plan => "Plan",
        Kind::Run => "Run report",
        Kind::Apply => "Apply report",
    };
    let _ = writeln!(md, "# packprune {title} `{}`\n", report.id);
    if let Some(f) = &report.storage {
        freed(&mut md, f, report.kind);
    }
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
    // An apply of a plan given inline shows the plan by its id, not whole.
    let mut request = report.request.clone();
    if let Some(plan) = request.pointer_mut("/apply/plan") {
        let id = plan.get("id").and_then(|v| v.as_str()).unwrap_or("?");
        *plan = serde_json::Value::from(format!("(plan {id}, inline)"));
    }
    let _ = writeln!(
        md,
        "\nRequest:\n\n```json\n{}\n```",
        serde_json::to_string(&request).unwrap_or_default()
    );
    if report.kind == Kind::Plan && json_uri.starts_with("s3://") {
        let _ = writeln!(
            md,
            "\nTo carry out exactly this plan, send:\n\n```json\n{}\n```",
            serde_json::json!({"service": report.service, "apply": {"report": json_uri, "sha256": sha256}})
        );
    } else if report.kind == Kind::Plan {
        let _ = writeln!(
            md,
            "\nTo carry out exactly this plan:\n\n```sh\npackprune-cli apply {json_uri} --sha256 {sha256}\n```"
        );
    }
    for p in &report.packages {
        package(&mut md, p, report.kind);
    }
    md
}

/// The lead of a report that measured storage: what it frees (or would).
fn freed(md: &mut String, f: &super::Freed, kind: Kind) {
    let verb = match kind {
        Kind::Plan => "Would free",
        Kind::Run | Kind::Apply => "Freed",
    };
    let freed = f.bytes - f.shared_bytes;
    let _ = writeln!(
        md,
        "**{verb} {} bytes ({}).** The versions that go hold {} bytes of assets; {} of them are also held by another repository of the domain, where they stay stored.",
        thousands(freed),
        human(freed),
        thousands(f.bytes),
        thousands(f.shared_bytes)
    );
    if f.unknown_size_versions > 0 {
        let _ = writeln!(
            md,
            "Versions with an asset whose size CodeArtifact did not give, counted in neither figure: {}.",
            f.unknown_size_versions
        );
    }
    md.push('\n');
}

/// `10000` as `10,000`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Bytes in binary units, one decimal (`6.8 KiB`).
fn human(n: u64) -> String {
    let units = ["bytes", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < units.len() {
        v /= 1024.0;
        u += 1;
    }
    match u {
        0 => format!("{n} bytes"),
        _ => format!("{v:.1} {}", units[u]),
    }
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
    for v in &going {
        let status = v.status.as_deref().unwrap_or("?");
        let when = v
            .published
            .as_ref()
            .map_or_else(String::new, |at| format!(", published {at}"));
        let detail = v
            .detail
            .as_ref()
            .map_or_else(String::new, |d| format!(": {d}"));
        let size = match (v.bytes, v.shared) {
            (Some(b), Some(true)) => {
                format!(", {} bytes, also in another repository", thousands(b))
            }
            (Some(b), _) => format!(", {} bytes", thousands(b)),
            (None, Some(_)) => ", size not given".to_owned(),
            (None, None) => String::new(),
        };
        let _ = writeln!(md, "- `{}` ({status}{when}{size}){detail}", v.version);
    }
    stays(md, p, gone);
}

/// The versions a report lists per group of what stays (and why) at most;
/// report.csv has them all.
pub(crate) const STAYS_SHOWN: usize = 200;

/// What stays, and why: every version whose fate is not among `gone`,
/// grouped by fate and rule, each group's versions listed (with their
/// details), at most [`STAYS_SHOWN`] a group.
fn stays(md: &mut String, p: &super::PackageReport, gone: &[&str]) {
    let mut groups: BTreeMap<(&str, &str), Vec<&super::VersionRow>> = BTreeMap::new();
    for v in p
        .versions
        .iter()
        .filter(|v| !gone.contains(&v.fate.as_str()))
    {
        let key = (v.fate.as_str(), v.rule.as_deref().unwrap_or(""));
        groups.entry(key).or_default().push(v);
    }
    let n: usize = groups.values().map(Vec::len).sum();
    if n == 0 {
        return;
    }
    let _ = writeln!(md, "\nWhat stays ({n}), and why:\n");
    for ((fate, rule), rows) in &groups {
        let why = match (*fate, *rule) {
            ("kept", "") => "kept".to_owned(),
            ("kept", rule) => format!("kept by `{rule}`"),
            (fate, "") => fate.to_owned(),
            (fate, code) => format!("{fate} `{code}`"),
        };
        let _ = writeln!(md, "- {why} ({}):", rows.len());
        for v in rows.iter().take(STAYS_SHOWN) {
            match &v.detail {
                Some(d) => {
                    let _ = writeln!(md, "  - `{}`: {d}", v.version);
                }
                None => {
                    let _ = writeln!(md, "  - `{}`", v.version);
                }
            }
        }
        if rows.len() > STAYS_SHOWN {
            let _ = writeln!(
                md,
                "  - … and {} more (report.csv lists them all)",
                rows.len() - STAYS_SHOWN
            );
        }
    }
}
