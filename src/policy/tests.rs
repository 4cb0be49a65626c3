use super::*;

#[test]
fn prereleases_follow_each_format() {
    let cases: &[(Option<Format>, &str, bool)] = &[
        (Some(Format::Npm), "1.2.0-rc.1", true),
        (Some(Format::Npm), "1.2.0", false),
        (Some(Format::Npm), "1.2.0+build.5", false),
        (Some(Format::Cargo), "0.3.0-alpha.2", true),
        (Some(Format::Nuget), "6.0.0-preview.7", true),
        (Some(Format::Pypi), "1.0a1", true),
        (Some(Format::Pypi), "2.1.0rc2", true),
        (Some(Format::Pypi), "1.0.dev3", true),
        (Some(Format::Pypi), "0.4.0rc1", true),
        (Some(Format::Pypi), "1.0.post1", false),
        (Some(Format::Pypi), "1.0", false),
        (Some(Format::Maven), "2.4.0-SNAPSHOT", true),
        (Some(Format::Maven), "1.0-alpha-1", true),
        (Some(Format::Maven), "2.0.0-M1", true),
        (Some(Format::Maven), "1.0-RC2", true),
        (Some(Format::Maven), "1.0.0", false),
        (Some(Format::Maven), "1.0.Final", false),
        (Some(Format::Ruby), "1.0.0.pre", true),
        (Some(Format::Ruby), "1.0.0", false),
        (None, "1.3.0-rc1", true),
        (None, "1.3.0", false),
    ];
    for (f, v, pre) in cases {
        assert_eq!(is_prerelease(*f, v), *pre, "{f:?} {v}");
    }
}

#[test]
fn a_policy_that_keeps_nothing_is_refused() {
    let mut p = Vec::new();
    assert!(RawPolicy::default()
        .validate(Service::CodeArtifact, Verb::Delete, &mut p)
        .is_none());
    assert!(p[0].contains("keepLatest"));
    // Zero is no better than unset (issue 9, item 7).
    for (keep, days) in [(Some(0), None), (None, Some(0.0)), (Some(0), Some(0.0))] {
        let mut p = Vec::new();
        let zero = RawPolicy {
            keep_latest: keep,
            older_than_days: days,
            ..RawPolicy::default()
        };
        assert!(
            zero.validate(Service::Iot, Verb::Delete, &mut p).is_none(),
            "{keep:?} {days:?}"
        );
        assert!(p[0].contains("keeps nothing"), "{p:?}");
    }
    for (keep, days) in [(Some(0), Some(30.0)), (Some(3), Some(0.0))] {
        let mut p = Vec::new();
        let some = RawPolicy {
            keep_latest: keep,
            older_than_days: days,
            ..RawPolicy::default()
        };
        assert!(
            some.validate(Service::Iot, Verb::Delete, &mut p).is_some(),
            "{p:?}"
        );
    }
    let mut p = Vec::new();
    let bad = RawPolicy {
        keep_latest: Some(1),
        matches: Some("(".into()),
        statuses: Some(vec!["PUBLISHED".into()]),
        origin_types: Some(vec!["INTERNAL".into()]),
        ..RawPolicy::default()
    };
    assert!(bad.validate(Service::Iot, Verb::Delete, &mut p).is_none());
    assert_eq!(p.len(), 2, "{p:?}");
    let mut p = Vec::new();
    assert!(bad
        .validate(Service::CodeArtifact, Verb::Delete, &mut p)
        .is_none());
    assert_eq!(p.len(), 2, "{p:?}");
}

/// `protectDependencies` is CodeArtifact's: an IoT policy naming it is
/// refused, naming the field.
#[test]
fn protect_dependencies_is_a_codeartifact_setting() {
    let raw = RawPolicy {
        keep_latest: Some(1),
        protect_dependencies: Some(true),
        ..Default::default()
    };
    let mut problems = Vec::new();
    assert!(raw
        .validate(Service::Iot, Verb::Delete, &mut problems)
        .is_none());
    assert!(
        problems.iter().any(|p| p.contains("protectDependencies")),
        "{problems:?}"
    );
    let mut problems = Vec::new();
    let policy = raw.validate(Service::CodeArtifact, Verb::Delete, &mut problems);
    assert!(
        policy.is_some_and(|p| p.protect_dependencies),
        "{problems:?}"
    );
}
