//! The request contract's tests.

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
            protect_in_use: true,
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
