use serde_json::{json, Value};

use super::verify::PlanBody;
use super::*;
use crate::account::summary::{cap_plans, INLINE_PLAN_VERSIONS};
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
        bytes: None,
        shared: None,
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
        storage: None,
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
                v.bytes.map(|b| b.to_string()).unwrap_or_default(),
                v.shared.map(|s| s.to_string()).unwrap_or_default(),
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

#[test]
fn markdown_says_what_stays_by_rule_with_the_versions_and_caps_each_rule() {
    let mut p = plan(Kind::Plan, NOW + 1000);
    let versions = &mut p.packages[0].versions;
    let mut in_use = row("0.9.0", "kept", Some("IN_USE"), "Published", "r09");
    in_use.detail = Some("installed on 2 things".into());
    versions.push(in_use);
    for i in 0..(render::STAYS_SHOWN + 3) {
        versions.push(row(
            &format!("0.1.{i}"),
            "kept",
            Some("statuses"),
            "Archived",
            "r",
        ));
    }
    let md = markdown(&p, "abc", "plans/x/report.json");
    let stays = &md[md.find("What stays").expect("a what-stays section")..];
    assert!(
        stays.starts_with(&format!(
            "What stays ({}), and why:",
            3 + render::STAYS_SHOWN + 3
        )),
        "{stays}"
    );
    assert!(
        stays.contains("- kept by `keepLatest` (2):\n  - `1.3.0`\n  - `1.2.0`"),
        "{stays}"
    );
    assert!(
        stays.contains("- kept by `IN_USE` (1):\n  - `0.9.0`: installed on 2 things"),
        "{stays}"
    );
    assert!(stays.contains("- kept by `statuses` (203):"), "{stays}");
    assert!(
        stays.contains("  - … and 3 more (report.csv lists them all)"),
        "{stays}"
    );
    assert!(
        !stays.contains("`1.1.0`"),
        "what goes is not among what stays"
    );
    // A plan on a file is carried out by the CLI, one in S3 by a request.
    assert!(
        md.contains("packprune-cli apply plans/x/report.json --sha256 abc"),
        "{md}"
    );
    assert!(!md.contains("\"apply\""), "{md}");
}

#[test]
fn an_apply_of_an_inline_plan_shows_the_plan_by_its_id() {
    let mut p = plan(Kind::Apply, NOW + 1000);
    p.request = json!({"service": "codeartifact", "apply": {"plan": {"id": "p-0", "packages": [1, 2, 3]}, "sha256": "s"}});
    let md = markdown(&p, "abc", "s3://b/k/report.json");
    assert!(md.contains(r#""plan":"(plan p-0, inline)""#), "{md}");
    assert!(!md.contains("packages\":[1,2,3]"), "{md}");
}

#[test]
fn a_plan_holds_a_request_bound_to_it_only_as_it_listed_it() {
    let p = plan(Kind::Plan, NOW + 1000);
    let sha = sha256_hex(&p.canonical());
    let uri = Some("s3://bucket-b/k/report.json");
    let bound = requests(&p, &sha, false, uri).unwrap().remove(0);
    let Action::Retain(ret) = &bound.action else {
        panic!("a policy request")
    };
    assert_eq!(ret.planned.as_ref().unwrap().report.as_deref(), uri);
    assert_eq!(holds(&p, &sha, &bound), Ok(()));
    // Narrowed (a hand-on of some of its versions): still held.
    let narrowed = bound
        .to_raw(Some(&["1.0.0".into()]), Some(2))
        .validate()
        .unwrap();
    assert_eq!(holds(&p, &sha, &narrowed), Ok(()));
    // An expectation the plan does not have: refused.
    let mut forged = bound.clone();
    if let Action::Retain(r) = &mut forged.action {
        let planned = r.planned.as_mut().unwrap();
        planned.expect.get_mut("1.1.0").unwrap().revision = Some("r99".into());
    }
    assert!(
        matches!(holds(&p, &sha, &forged), Err(PlanRefused::Unbound { why, .. }) if why.contains("1.1.0"))
    );
    // Another policy: refused.
    let mut other = bound.to_raw(None, None);
    other.policy.as_mut().unwrap().keep_latest = Some(1);
    let other = other.validate().unwrap();
    assert!(matches!(
        holds(&p, &sha, &other),
        Err(PlanRefused::Unbound { .. })
    ));
}

#[test]
fn a_measured_report_adds_up_what_goes_and_leads_with_it() {
    let mut r = plan(Kind::Plan, NOW + 86_400_000);
    let sized = |v: &str, fate: &str, bytes: Option<u64>, shared: bool| VersionRow {
        bytes,
        shared: Some(shared),
        ..row(v, fate, None, "Published", "r")
    };
    r.packages[0].versions = vec![
        sized("1.0.0", "delete", Some(1000), true),
        sized("1.1.0", "delete", Some(2000), true),
        sized("1.2.0", "delete", Some(3000), false),
        sized("1.3.0", "delete", Some(4000), false),
        sized("1.3.1", "delete", None, false),
        // Kept versions were not measured; a measured one kept counts not.
        sized("1.4.0", "kept", Some(5000), false),
        row("1.5.0", "kept", Some("KEEP_LATEST"), "Published", "r"),
    ];
    let freed = Freed::of(&r.packages).unwrap();
    assert_eq!(
        (freed.bytes, freed.shared_bytes, freed.unknown_size_versions),
        (10_000, 3_000, 1)
    );
    r.storage = Some(freed);
    let md = markdown(&r, "abc", "s3://b/k");
    let first = md.lines().find(|l| l.starts_with("**")).unwrap();
    assert!(
        first.starts_with("**Would free 7,000 bytes (6.8 KiB).**"),
        "{md}"
    );
    assert!(md.find("**Would free").unwrap() < md.find("| service |").unwrap());
    assert!(
        md.contains("`1.0.0` (Published, 1,000 bytes, also in another repository)"),
        "{md}"
    );
    assert!(
        md.contains("whose size CodeArtifact did not give, counted in neither figure: 1."),
        "{md}"
    );
    let csv = String::from_utf8(csv(&r)).unwrap();
    assert!(csv.lines().next().unwrap().ends_with(",bytes,shared"));
    assert!(
        csv.contains("1.0.0,delete,,,Published,r,,1000,true"),
        "{csv}"
    );
    // Unmeasured, a report says nothing of storage.
    assert_eq!(Freed::of(&plan(Kind::Plan, NOW).packages), None);
    // It reads back as written (an apply verifies report.json).
    let back: Report = serde_json::from_slice(&r.canonical()).unwrap();
    assert_eq!(back, r);
}
