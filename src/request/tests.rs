//! The request contract's tests.

use super::apply::ApplyPart;
use super::*;

fn raw(v: Value) -> RawRequest {
    serde_json::from_value(v).expect("deserializes")
}

#[test]
fn codeartifact_example_from_the_readme_is_valid() {
    let r = raw(serde_json::json!({"service":"codeartifact","domain":"acme","domainOwner":"111122223333","repository":"releases","format":"npm","namespace":"acme","package":"web","versions":["1.0.0","1.0.1"],"expectedStatus":"Unlisted"}))
        .validate()
        .expect("valid");
    assert_eq!(
        r.action,
        Action::Versions(vec!["1.0.0".into(), "1.0.1".into()])
    );
    assert_eq!(r.attempt, 1);
    assert_eq!(r.target.package_label(), "acme/releases/npm/acme/web");
}

#[test]
fn iot_example_is_valid_and_duplicates_collapse() {
    let r = raw(serde_json::json!({"service":"iot","package":"thermostat-fw","versions":["1.0.0","1.1.0","1.0.0"],"unsetDefaultVersion":true}))
        .validate()
        .expect("valid");
    assert_eq!(
        r.action,
        Action::Versions(vec!["1.0.0".into(), "1.1.0".into()])
    );
    assert_eq!(
        r.target,
        Target::Iot {
            package: "thermostat-fw".into(),
            unset_default_version: true,
            in_use: InUseCheck::Check,
        }
    );
}

#[test]
fn every_problem_is_reported_with_its_field() {
    let err = raw(serde_json::json!({"service":"codeartifact","domain":"Acme","domainOwner":"12","repository":"r","format":"maven","package":"a/b","versions":["ok", "bad version"],"expectedStatus":"Gone"}))
        .validate()
        .expect_err("invalid");
    let text = err.to_string();
    for field in [
        "`domain`",
        "`domainOwner`",
        "`repository`",
        "`package`",
        "`versions[1]`",
        "`namespace` is required for maven",
        "`expectedStatus`",
    ] {
        assert!(text.contains(field), "{field} missing from: {text}");
    }
    assert_eq!(err.problems.len(), 7, "{text}");
}

#[test]
fn iot_names_follow_the_iot_model() {
    let long = "v".repeat(65);
    let err = raw(
        serde_json::json!({"service":"iot","package":"fw pkg","versions":[long],"domain":"acme"}),
    )
    .validate()
    .expect_err("invalid");
    assert_eq!(err.problems.len(), 3, "{err}");
}

#[test]
fn action_must_be_exactly_one_of_versions_or_delete_package() {
    for v in [
        serde_json::json!({"service":"iot","package":"p"}),
        serde_json::json!({"service":"iot","package":"p","versions":[]}),
        serde_json::json!({"service":"iot","package":"p","versions":["1"],"deletePackage":true}),
        serde_json::json!({"service":"iot","package":"p","deletePackage":false}),
    ] {
        assert!(raw(v.clone()).validate().is_err(), "{v}");
    }
    let r = raw(serde_json::json!({"service":"iot","package":"p","deletePackage":true}))
        .validate()
        .expect("valid");
    assert_eq!(r.action, Action::DeletePackage);
}

#[test]
fn namespace_rules_follow_the_format() {
    let pypi = raw(
        serde_json::json!({"service":"codeartifact","domain":"acme","repository":"rr","format":"pypi","namespace":"x","package":"p","versions":["1"]}),
    );
    assert!(pypi
        .validate()
        .unwrap_err()
        .to_string()
        .contains("not allowed for pypi"));
    let npm = raw(
        serde_json::json!({"service":"codeartifact","domain":"acme","repository":"rr","format":"npm","package":"p","versions":["1"]}),
    );
    assert!(npm.validate().is_ok());
}

#[test]
fn unknown_fields_and_services_are_refused() {
    let typo: Result<RawRequest, _> =
        serde_json::from_value(serde_json::json!({"service":"iot","package":"p","verisons":["1"]}));
    assert!(typo.unwrap_err().to_string().contains("verisons"));
    let err = raw(serde_json::json!({"service":"ecr","package":"p","versions":["1"]}))
        .validate()
        .unwrap_err();
    assert!(err.to_string().contains("\"ecr\""));
}

#[test]
fn to_raw_round_trips_and_narrows() {
    let original = raw(
        serde_json::json!({"service":"codeartifact","domain":"acme","repository":"releases","format":"maven","namespace":"com.acme","package":"svc","versions":["1","2","3"],"expectedStatus":"Published"}),
    );
    let req = original.validate().unwrap();
    assert_eq!(req.to_raw(None, None), original);
    let narrowed = req.to_raw(Some(&["2".to_string()]), Some(3));
    assert_eq!(narrowed.versions, Some(vec!["2".to_string()]));
    assert_eq!(narrowed.attempt, Some(3));
    assert_eq!(narrowed.validate().unwrap().attempt, 3);
}

#[test]
fn actions_and_in_use_protection_are_checked_per_service_and_travel() {
    let ok = |v: Value| raw(v).validate_job().unwrap_or_else(|e| panic!("{e}"));
    let bad = |v: Value| raw(v).validate_job().unwrap_err().to_string();
    let ca = serde_json::json!({"service":"codeartifact","domain":"acme","repository":"rr","format":"npm","package":"p"});
    let with = |base: &Value, extra: Value| {
        let mut b = base.clone();
        for (k, v) in extra.as_object().unwrap() {
            b[k] = v.clone();
        }
        b
    };
    let archive = ok(with(
        &ca,
        serde_json::json!({"action":"archive","policy":{"keepLatest":3}}),
    ));
    let Job::One(r) = &archive else { panic!() };
    assert_eq!(r.verb, Verb::Archive);
    // The round trip keeps the action (a hand-on archives, never deletes).
    assert_eq!(
        archive.to_raw(None, None).action.as_deref(),
        Some("archive")
    );
    assert_eq!(
        ok(serde_json::to_value(archive.to_raw(None, None)).unwrap()),
        archive
    );
    // In the policy, or at the top level alike.
    let Job::One(inner) = ok(with(
        &ca,
        serde_json::json!({"policy":{"keepLatest":3,"action":"archive"}}),
    )) else {
        panic!()
    };
    assert_eq!(inner.verb, Verb::Archive);
    assert!(bad(with(
        &ca,
        serde_json::json!({"action":"delete","policy":{"keepLatest":3,"action":"archive"}})
    ))
    .contains("give it once"));
    assert!(bad(with(
        &ca,
        serde_json::json!({"action":"deprecate","versions":["1"]})
    ))
    .contains("not offered by codeartifact"));
    assert!(bad(with(
        &ca,
        serde_json::json!({"action":"archive","deletePackage":true})
    ))
    .contains("deletePackage"));
    assert!(bad(with(
        &ca,
        serde_json::json!({"action":"shred","versions":["1"]})
    ))
    .contains("delete, archive, unlist, deprecate"));
    assert!(bad(with(
        &ca,
        serde_json::json!({"protectInUse":false,"versions":["1"]})
    ))
    .contains("IoT setting"));

    let iot = serde_json::json!({"service":"iot","package":"fw","versions":["1"]});
    let Job::One(r) = ok(iot.clone()) else {
        panic!()
    };
    assert!(
        matches!(
            r.target,
            Target::Iot {
                in_use: InUseCheck::Check,
                ..
            }
        ),
        "on by default"
    );
    let off = ok(with(&iot, serde_json::json!({"protectInUse":false})));
    assert_eq!(off.to_raw(None, None).protect_in_use, Some(false));
    assert!(bad(with(&iot, serde_json::json!({"action":"archive"}))).contains("not offered by iot"));
    let Job::One(r) = ok(with(&iot, serde_json::json!({"action":"deprecate"}))) else {
        panic!()
    };
    assert_eq!(r.verb, Verb::Deprecate);
    assert!(bad(serde_json::json!({"service":"iot","package":"fw","policy":{"keepLatest":1,"keepLatestPer":"^\\d+"}})).contains("capture group"));
    assert!(bad(serde_json::json!({"service":"iot","package":"fw","policy":{"olderThanDays":3,"keepLatestPer":"major"}})).contains("needs `keepLatest`"));
}

/// Found by the fuzzers on a fresh clone: `"package": null` beside a policy
/// must be refused, never read as "no package" and widened into a scope.
#[test]
fn a_null_package_is_refused_not_widened_into_a_scope() {
    let raw = serde_json::from_value::<RawRequest>(serde_json::json!({
        "service": "codeartifact", "domain": "acme", "repository": "releases",
        "format": "npm", "policy": {"keepLatest": 1}, "package": null}));
    assert!(raw.is_err(), "{raw:?}");
}

#[test]
fn an_apply_names_its_plan_and_nothing_else() {
    let sha = "ab".repeat(32);
    let job = raw(serde_json::json!({"service": "iot", "apply": {"report": "s3://my-reports/reports/2026-11-30/p/report.json", "sha256": sha}, "dryRun": true}))
        .validate_job()
        .expect("valid");
    let Job::Apply(a) = &job else {
        panic!("an apply: {job:?}")
    };
    assert_eq!(
        a.source,
        PlanSource::Report {
            bucket: "my-reports".into(),
            key: "reports/2026-11-30/p/report.json".into()
        }
    );
    assert!(a.dry_run);
    // A hand-on of it reads back as itself.
    assert_eq!(
        job.to_raw(None, Some(2)).validate_job().unwrap().attempt(),
        2
    );
    for (bad, says) in [
        (
            serde_json::json!({"service": "codeartifact", "apply": {"report": "s3://b/k", "sha256": sha}}),
            "`apply.report` must be",
        ),
        (
            serde_json::json!({"service": "codeartifact", "apply": {"report": "s3://bucket/k", "sha256": "ABC"}}),
            "64 lowercase",
        ),
        (
            serde_json::json!({"service": "codeartifact", "apply": {"report": "s3://bucket/k", "plan": {}, "sha256": sha}}),
            "not both",
        ),
        (
            serde_json::json!({"service": "codeartifact", "apply": {"plan": [], "sha256": sha}}),
            "JSON object",
        ),
        (
            serde_json::json!({"service": "codeartifact", "package": "web", "apply": {"report": "s3://bucket/k", "sha256": sha}}),
            "takes only `service`",
        ),
        (
            serde_json::json!({"service": "codeartifact", "apply": {"report": "s3://bucket/k", "sha256": sha, "planId": "x"}}),
            "`apply.planId` binds one package's `policy`",
        ),
        (
            serde_json::json!({"service": "codeartifact", "domain": "acme", "repository": "r", "format": "npm", "package": "web", "versions": ["1.0"], "apply": {"planId": "p"}}),
            "`apply.planId` binds one package's `policy`",
        ),
        (
            serde_json::json!({"service": "codeartifact", "domain": "acme", "repository": "r", "format": "npm", "package": "web", "policy": {"keepLatest": 1}, "versions": ["1.0"], "apply": {"planId": "p", "sha256": sha, "expiresAt": "soon", "expect": {}}}),
            "not an RFC 3339 time",
        ),
        (
            serde_json::json!({"service": "codeartifact", "domain": "acme", "repository": "r", "format": "npm", "package": "web", "policy": {"keepLatest": 1}, "versions": ["1.0"], "apply": {"planId": "p", "sha256": sha, "expiresAt": "2026-12-01T00:00:00Z", "expect": {}}}),
            "which `apply.expect` does not",
        ),
        (
            serde_json::json!({"service": "codeartifact", "domain": "acme", "repository": "r", "format": "npm", "package": "web", "versions": ["1.0"], "planValidForDays": 3}),
            "only with `policy`",
        ),
        (
            serde_json::json!({"service": "codeartifact", "domain": "acme", "repository": "r", "format": "npm", "package": "web", "policy": {"keepLatest": 1}, "planValidForDays": 0}),
            "above 0",
        ),
    ] {
        let err = raw(bad.clone()).validate_job().expect_err(&bad.to_string());
        assert!(
            err.problems.iter().any(|p| p.contains(says)),
            "{bad}: {:?}",
            err.problems
        );
    }
}

#[test]
fn continuations_parts_and_bindings_are_checked_where_they_belong() {
    let sha = "a".repeat(64);
    let scope = serde_json::json!({"service": "codeartifact", "domain": "acme", "repository": "rel",
        "policy": {"keepLatest": 1}, "dryRun": true,
        "continues": {"planId": "p", "createdAt": "2026-12-06T00:00:00Z", "from": 3}});
    let Job::Many(s) = raw(scope.clone()).validate_job().unwrap() else {
        panic!("a scope's continuation is a scope")
    };
    assert_eq!(s.continues.as_ref().map(|c| c.from), Some(3));
    assert_eq!(
        serde_json::to_value(s.to_raw(None)).unwrap()["continues"],
        scope["continues"]
    );
    let job = Job::Many(s);
    assert!(!job.applies_a_reviewed_plan(Some("bucket")));
    let apply = serde_json::json!({"service": "codeartifact",
        "apply": {"report": "s3://bucket/k/report.json", "sha256": sha, "part": {"from": 1, "to": 2}}});
    let Ok(Job::Apply(a)) = raw(apply).validate_job() else {
        panic!("an apply's part is an apply")
    };
    assert_eq!(a.part, Some(ApplyPart { from: 1, to: 2 }));
    let apply = Job::Apply(a);
    assert!(apply.applies_a_reviewed_plan(Some("bucket")));
    assert!(
        !apply.applies_a_reviewed_plan(Some("another")),
        "a plan the function did not write"
    );
    assert!(!apply.applies_a_reviewed_plan(None));
    let inline = raw(serde_json::json!({"service": "codeartifact", "apply": {"plan": {"kind": "plan"}, "sha256": sha}}))
        .validate_job()
        .unwrap();
    assert!(
        !inline.applies_a_reviewed_plan(Some("bucket")),
        "an inline plan may be anyone's"
    );
    assert!(
        !apply.applies_a_reviewed_plan(Some("another")),
        "a plan the function did not write"
    );
    assert!(!apply.applies_a_reviewed_plan(None));
    let inline = raw(serde_json::json!({"service": "codeartifact", "apply": {"plan": {"kind": "plan"}, "sha256": sha}}))
        .validate_job()
        .unwrap();
    assert!(
        !inline.applies_a_reviewed_plan(Some("bucket")),
        "an inline plan may be anyone's"
    );
    for (bad, says) in [
        (
            serde_json::json!({"service": "codeartifact", "domain": "acme", "repository": "rel", "policy": {"keepLatest": 1},
                "continues": {"planId": "p", "createdAt": "2026-12-06T00:00:00Z", "from": 3}}),
            "only on a scope's dry run",
        ),
        (
            serde_json::json!({"service": "codeartifact", "domain": "acme", "repository": "rel", "format": "npm", "package": "web",
                "policy": {"keepLatest": 1}, "dryRun": true,
                "continues": {"planId": "p", "createdAt": "2026-12-06T00:00:00Z", "from": 3}}),
            "`continues` is not allowed with one package",
        ),
        (
            serde_json::json!({"service": "codeartifact", "apply": {"report": "s3://bucket/k", "sha256": sha, "part": {"from": 2, "to": 2}}}),
            "at least one request",
        ),
        (
            serde_json::json!({"service": "codeartifact", "domain": "acme", "repository": "rel", "format": "npm", "package": "web",
                "policy": {"keepLatest": 1}, "versions": ["1.0"],
                "apply": {"planId": "p", "sha256": sha, "expiresAt": "2026-12-01T00:00:00Z", "expect": {"1.0": {"status": "Published"}}, "report": "not-s3"}}),
            "`apply.report` must be s3://",
        ),
        (
            serde_json::json!({"service": "codeartifact", "domain": "acme", "repository": "rel", "format": "npm", "package": "web",
                "policy": {"keepLatest": 1}, "versions": ["1.0"],
                "apply": {"planId": "p", "sha256": sha, "expiresAt": "2026-12-01T00:00:00Z", "expect": {"1.0": {"status": "Published"}}, "plan": {}}}),
            "`apply.plan` is not allowed beside `apply.planId`",
        ),
    ] {
        let err = raw(bad.clone()).validate_job().expect_err(&bad.to_string());
        assert!(
            err.problems.iter().any(|p| p.contains(says)),
            "{bad}: {:?}",
            err.problems
        );
    }
    // Bound to a plan in S3: DRY_RUN lets it act once the plan holds it.
    let bound = serde_json::json!({"service": "codeartifact", "domain": "acme", "repository": "rel", "format": "npm", "package": "web",
        "policy": {"keepLatest": 1}, "versions": ["1.0"],
        "apply": {"planId": "p", "sha256": sha, "expiresAt": "2026-12-01T00:00:00Z", "expect": {"1.0": {"status": "Published"}}}});
    let unbound = raw(bound.clone()).validate_job().unwrap();
    assert!(
        !unbound.applies_a_reviewed_plan(Some("bucket")),
        "no report to check it against"
    );
    let mut with_report = bound;
    with_report["apply"]["report"] = serde_json::json!("s3://bucket/k/report.json");
    let with_report = raw(with_report).validate_job().unwrap();
    assert!(with_report.applies_a_reviewed_plan(Some("bucket")));
    assert!(!with_report.applies_a_reviewed_plan(Some("other-bucket")));
}
