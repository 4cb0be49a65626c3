//! The package group operations, called directly.

use super::*;

fn req(query: &[(&str, &str)]) -> Req {
    Req::of_query("GET", query)
}

fn seeded() -> State {
    let npm = |ns: Option<&str>, name: &str| json!({"format": "npm", "namespace": ns, "package": name, "versions": [{"version": "1.0.0"}]});
    let seed = json!({"codeartifact": {"domains": {"acme": {
        "packageGroups": [{"pattern": "/npm/acme/ui~", "description": "UI kits"}, {"pattern": "/npm/acme/*", "createdTime": 1000}],
        "repositories": {
            "a": {"packages": [npm(Some("acme"), "core"), npm(Some("acme"), "ui-kit"), npm(Some("other"), "x")]},
            "b": {"packages": [npm(Some("acme"), "core"), npm(Some("acme"), "cli"),
                {"format": "pypi", "package": "Acme_Tools", "versions": [{"version": "1"}]}]}}}}}});
    State::from_seed(&seed.to_string()).unwrap()
}

fn names(out: &Value) -> Vec<&str> {
    out["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["package"].as_str().unwrap())
        .collect()
}

#[test]
fn a_group_lists_the_domains_packages_it_is_the_most_specific_match_of() {
    let mut s = seeded();
    let acme = list_associated(
        &mut s,
        &req(&[("domain", "acme"), ("package-group", "/npm/acme/*")]),
    )
    .unwrap();
    assert_eq!(names(&acme), ["cli", "core"]);
    assert_eq!(
        acme["packages"][0],
        json!({"format": "npm", "namespace": "acme", "package": "cli", "associationType": "STRONG"})
    );
    let ui = list_associated(
        &mut s,
        &req(&[("domain", "acme"), ("package-group", "/npm/acme/ui~")]),
    )
    .unwrap();
    assert_eq!(names(&ui), ["ui-kit"]);
    let root =
        list_associated(&mut s, &req(&[("domain", "acme"), ("package-group", "/*")])).unwrap();
    assert_eq!(names(&root), ["x", "acme-tools"]);
    let e = list_associated(
        &mut s,
        &req(&[("domain", "acme"), ("package-group", "/npm/*")]),
    )
    .unwrap_err();
    assert_eq!((e.status, e.code), (404, "ResourceNotFoundException"));
    let preview = [
        ("domain", "acme"),
        ("package-group", "/npm/*"),
        ("preview", "true"),
    ];
    assert_eq!(
        names(&list_associated(&mut s, &req(&preview)).unwrap()),
        ["x"]
    );
    let preview = [
        ("domain", "acme"),
        ("package-group", "/npm/acme/c~"),
        ("preview", "true"),
    ];
    assert_eq!(
        names(&list_associated(&mut s, &req(&preview)).unwrap()),
        Vec::<&str>::new()
    );
    for bad in ["/npm/acme", "x", "/npm/acme/ui-~"] {
        let e = list_associated(&mut s, &req(&[("domain", "acme"), ("package-group", bad)]))
            .unwrap_err();
        assert_eq!(e.code, "ValidationException", "{bad}");
    }
}

#[test]
fn a_package_gets_its_most_specific_group_described() {
    let mut s = seeded();
    let get = |s: &mut State, q: &[(&str, &str)]| get_associated(s, &req(q)).unwrap();
    let ui = get(
        &mut s,
        &[
            ("domain", "acme"),
            ("format", "npm"),
            ("namespace", "acme"),
            ("package", "ui-kit"),
        ],
    );
    let g = &ui["packageGroup"];
    assert_eq!(
        (g["pattern"].as_str(), ui["associationType"].as_str()),
        (Some("/npm/acme/ui~"), Some("STRONG"))
    );
    assert_eq!(
        g["arn"],
        "arn:aws:codeartifact:us-east-1:111122223333:package-group/acme/npm/acme/ui~"
    );
    assert_eq!(
        g["parent"],
        json!({"pattern": "/npm/acme/*",
        "arn": "arn:aws:codeartifact:us-east-1:111122223333:package-group/acme/npm/acme/%2a"})
    );
    assert_eq!(g["description"], "UI kits");
    assert_eq!(
        g["originConfiguration"]["restrictions"]["PUBLISH"]["mode"],
        "INHERIT"
    );
    let weak = get(
        &mut s,
        &[
            ("domain", "acme"),
            ("format", "npm"),
            ("namespace", "acme"),
            ("package", "UI_Kit"),
        ],
    );
    assert_eq!(
        (
            weak["packageGroup"]["pattern"].as_str(),
            weak["associationType"].as_str()
        ),
        (Some("/npm/acme/ui~"), Some("WEAK"))
    );
    let root = get(
        &mut s,
        &[
            ("domain", "acme"),
            ("format", "npm"),
            ("namespace", "other"),
            ("package", "x"),
        ],
    );
    assert_eq!(root["packageGroup"]["pattern"], "/*");
    assert!(root["packageGroup"].get("parent").is_none());
    assert_eq!(
        root["packageGroup"]["originConfiguration"]["restrictions"]["PUBLISH"]["mode"],
        "ALLOW"
    );
    let missing =
        get_associated(&mut s, &req(&[("domain", "acme"), ("package", "x")])).unwrap_err();
    assert_eq!(missing.code, "ValidationException");
}

#[test]
fn lists_groups_by_pattern_with_a_prefix_and_pages() {
    let mut s = seeded();
    let patterns = |out: &Value| -> Vec<String> {
        out["packageGroups"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g["pattern"].as_str().unwrap().to_owned())
            .collect()
    };
    let all = list(&mut s, &req(&[("domain", "acme")])).unwrap();
    assert_eq!(patterns(&all), ["/*", "/npm/acme/*", "/npm/acme/ui~"]);
    assert_eq!(all["packageGroups"][1]["createdTime"], json!(1000.0));
    let first = list(&mut s, &req(&[("domain", "acme"), ("max-results", "2")])).unwrap();
    let token = first["nextToken"].as_str().unwrap().to_owned();
    let second = list(
        &mut s,
        &req(&[
            ("domain", "acme"),
            ("max-results", "2"),
            ("next-token", &token),
        ]),
    )
    .unwrap();
    assert_eq!(patterns(&second), ["/npm/acme/ui~"]);
    let prefixed = list(
        &mut s,
        &req(&[("domain", "acme"), ("prefix", "/npm/acme/u")]),
    )
    .unwrap();
    assert_eq!(patterns(&prefixed), ["/npm/acme/ui~"]);
    assert_eq!(
        list(&mut s, &req(&[("domain", "acme"), ("max-results", "0")]))
            .unwrap_err()
            .code,
        "ValidationException"
    );
    assert_eq!(
        list(&mut s, &req(&[("domain", "nope")])).unwrap_err().code,
        "ResourceNotFoundException"
    );
}

#[test]
fn seeded_groups_are_checked() {
    let group = |p: &str| PackageGroup {
        pattern: p.into(),
        description: None,
        contact_info: None,
        created_time: None,
    };
    assert!(check(&[group("/npm/*"), group("/*")]).is_ok());
    assert!(check(&[group("/npm/*"), group("/npm/*")]).is_err());
    assert!(check(&[group("/npm/acme")]).is_err());
    assert!(State::from_seed(
        r#"{"codeartifact":{"domains":{"d":{"packageGroups":[{"pattern":"npm"}]}}}}"#
    )
    .is_err());
}
