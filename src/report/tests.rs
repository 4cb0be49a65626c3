use serde_json::{json, Value};

use super::verify::PlanBody;
use super::*;
use crate::account::{cap_plans, INLINE_PLAN_VERSIONS};
use crate::plan::{KeptVersion, PackagePlan};
use crate::policy::KeepRule;
use crate::request::{Action, PlanRefused, Service, Verb};

const NOW: i64 = 1_790_000_000_000;

fn row(version: &str, fate: &str, rule: Option<&str>, status: &str, revision: &str) -> VersionRow {
    VersionRow {
        version: version.into(),
        fate: fate.into(),
        rule: rule.map(Into::into),
        detail: None,
        status: Some(status.into()),
        revision: Some(revision.into()),
        published: None,
    }
}

fn plan(kind: Kind, expires_at_ms: i64) -> Report {
    let request: RawRequest = serde_json::from_value(json!({
        "service": "codeartifact", "domain": "acme", "repository": "npm-store",
        "format": "npm", "package": "web", "policy": {"keepLatest": 2},
        "maxDeletions": 10, "dryRun": true
    }))
    .unwrap();
    Report {
        kind,
        id: "p-1".into(),
        plan_id: Some("p-1".into()),
        created_at: crate::downloads::rfc3339(NOW),
        expires_at: Some(crate::downloads::rfc3339(expires_at_ms)),
        applies: None,
        service: "codeartifact".into(),
        source: "req-1".into(),
        request: serde_json::to_value(&request).unwrap(),
        packages: vec![PackageReport {
            package: "acme/npm-store/npm/web".into(),
            action: "delete".into(),
            request,
            versions: vec![
                row("1.3.0", "kept", Some("keepLatest"), "Published", "r13"),
                row("1.2.0", "kept", Some("keepLatest"), "Published", "r12"),
                row("1.1.0", "delete", None, "Published", "r11"),
                row("1.0.0", "delete", None, "Unlisted", "r10"),
            ],
        }],
    }
}

#[test]
fn a_plan_has_one_digest_as_bytes_and_as_json_in_any_layout() {
    let p = plan(Kind::Plan, NOW + 86_400_000);
    let bytes = p.canonical();
    let sha = sha256_hex(&bytes);
    let read = verify(PlanBody::Bytes(&bytes), &sha, Service::CodeArtifact, NOW).unwrap();
    assert_eq!(read, p);
    // Pretty-printed and re-read as a JSON value, as a reviewer pastes it.
    let pretty = serde_json::to_string_pretty(&p).unwrap();
    let inline: Value = serde_json::from_str(&pretty).unwrap();
    assert!(verify(PlanBody::Value(&inline), &sha, Service::CodeArtifact, NOW).is_ok());
}

#[test]
fn a_tampered_expired_or_foreign_plan_is_refused() {
    let p = plan(Kind::Plan, NOW + 1000);
    let sha = sha256_hex(&p.canonical());
    let mut tampered = serde_json::to_value(&p).unwrap();
    tampered["packages"][0]["versions"][0]["fate"] = json!("delete");
    assert!(matches!(
        verify(PlanBody::Value(&tampered), &sha, Service::CodeArtifact, NOW),
        Err(PlanRefused::Digest { .. })
    ));
    let later = NOW + 1000;
    assert!(matches!(
        verify(
            PlanBody::Bytes(&p.canonical()),
            &sha,
            Service::CodeArtifact,
            later
        ),
        Err(PlanRefused::Expired { .. })
    ));
    assert!(matches!(
        verify(PlanBody::Bytes(&p.canonical()), &sha, Service::Iot, NOW),
        Err(PlanRefused::WrongService { .. })
    ));
    let run = plan(Kind::Run, NOW + 1000);
    let run_sha = sha256_hex(&run.canonical());
    assert_eq!(
        verify(
            PlanBody::Bytes(&run.canonical()),
            &run_sha,
            Service::CodeArtifact,
            NOW
        ),
        Err(PlanRefused::NotAPlan("run".into()))
    );
    let junk = b"{\"kind\":\"plan\"}";
    assert!(matches!(
        verify(
            PlanBody::Bytes(junk),
            &sha256_hex(junk),
            Service::CodeArtifact,
            NOW
        ),
        Err(PlanRefused::Unreadable(_))
    ));
}

#[test]
fn an_apply_names_only_the_planned_versions_bound_to_what_the_plan_saw() {
    let p = plan(Kind::Plan, NOW + 1000);
    let sha = sha256_hex(&p.canonical());
    let applied = requests(&p, &sha, false, None).unwrap();
    assert_eq!(applied.len(), 1);
    let r = &applied[0];
    assert!(!r.dry_run);
    assert_eq!(r.verb, Verb::Delete);
    let Action::Retain(ret) = &r.action else {
        panic!("a policy request")
    };
    assert_eq!(
        ret.only.as_deref(),
        Some(&["1.1.0".into(), "1.0.0".into()][..])
    );
    assert_eq!(ret.max_deletions, None, "the plan already counted");
    let planned = ret.planned.as_ref().unwrap();
    assert_eq!(planned.plan_id, "p-1");
    assert_eq!(planned.sha256, sha);
    assert_eq!(planned.expect["1.0.0"].status, "Unlisted");
    assert_eq!(planned.expect["1.1.0"].revision.as_deref(), Some("r11"));
    // Its wire form (a hand-on) reads back as the same request.
    let again = r.to_raw(None, Some(2)).validate().unwrap();
    assert_eq!(again.action, r.action);
    assert!(requests(&p, &sha, true, None).unwrap()[0].dry_run);
}

#[test]
fn csv_and_markdown_say_what_the_json_says() {
    let p = plan(Kind::Plan, NOW + 1000);
    let sha = sha256_hex(&p.canonical());
    let csv_bytes = csv(&p);
    let mut reader = ::csv::Reader::from_reader(&csv_bytes[..]);
    let rows: Vec<Vec<String>> = reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect();
    let expected: Vec<Vec<String>> = p.packages[0]
        .versions
        .iter()
        .map(|v| {
            let o = |x: &Option<String>| x.clone().unwrap_or_default();
            vec![
                p.packages[0].package.clone(),
                v.version.clone(),
                v.fate.clone(),
                o(&v.rule),
                o(&v.detail),
                o(&v.status),
                o(&v.revision),
                o(&v.published),
            ]
        })
        .collect();
    assert_eq!(rows, expected);
    let md = markdown(&p, &sha, "s3://b/r/report.json");
    assert!(md.contains(r#""report":"s3://b/r/report.json""#), "{md}");
    assert!(md.contains(&sha));
    assert!(md.contains("| kept | keepLatest | 2 |"), "{md}");
    assert!(md.contains("| delete |  | 2 |"), "{md}");
    assert!(md.contains("To delete (2):\n\n- `1.1.0` (Published)\n- `1.0.0` (Unlisted)"));
}

#[test]
fn inline_plans_are_capped_and_say_so() {
    let big = |n: usize| PackagePlan {
        package: "p".into(),
        verb: Verb::Delete,
        selected: (0..n).map(|i| format!("1.{i}")).collect(),
        keep: vec![KeptVersion::new("9.9".into(), KeepRule::KeepLatest)],
        ..PackagePlan::default()
    };
    let mut small = vec![big(10)];
    assert!(!cap_plans(&mut small, INLINE_PLAN_VERSIONS));
    assert_eq!(small[0].truncated, None);
    let mut plans = vec![big(INLINE_PLAN_VERSIONS - 5), big(50)];
    assert!(cap_plans(&mut plans, INLINE_PLAN_VERSIONS));
    let shown: usize = plans.iter().map(|p| p.selected.len() + p.keep.len()).sum();
    assert_eq!(shown, INLINE_PLAN_VERSIONS);
    assert_eq!(plans[0].truncated, None);
    assert_eq!(plans[1].truncated, Some((50, 1)));
    let json = serde_json::to_value(&plans[1]).unwrap();
    assert_eq!(json["truncated"], json!({"delete": 50, "keep": 1}));
}
