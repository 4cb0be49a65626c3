//! Tests of the resolver, one file a format, cases from each format's
//! specification. Here: shared helpers, dependency types, the generic
//! format, and the properties every answer has.

mod cargo;
mod maven;
mod npm;
mod nuget;
mod pypi;
mod ruby;

use proptest::prelude::*;

use super::{needs, Needs, Offered};
use crate::service::Format;

/// Offered versions from a compact list: a trailing `!` marks a version
/// that is not Published (Unlisted, Archived…), a trailing `^` the
/// package's `latest` (defaultDisplayVersion); `!^` both.
pub(super) fn offer<'a>(specs: &[&'a str]) -> Vec<Offered<'a>> {
    specs
        .iter()
        .map(|s| {
            let latest = s.ends_with('^');
            let s = s.trim_end_matches('^');
            Offered {
                version: s.trim_end_matches('!'),
                published: !s.ends_with('!'),
                latest,
            }
        })
        .collect()
}

/// What `requirement` needs of `offered` (see [`offer`]), with no
/// dependency type and a dependent at version `9.9.9`.
pub(super) fn resolve(format: Format, requirement: &str, offered: &[&str]) -> Needs {
    needs(format, None, Some(requirement), "9.9.9", &offer(offered))
}

/// `Needs::Versions` of these strings.
pub(super) fn versions(v: &[&str]) -> Needs {
    Needs::Versions(v.iter().map(|s| (*s).to_owned()).collect())
}

/// Whether the answer is `Unreadable` (with a reason).
pub(super) fn unreadable(needs: &Needs) -> bool {
    matches!(needs, Needs::Unreadable(reason) if !reason.is_empty())
}

#[test]
fn types_a_consumer_does_not_install_keep_nothing() {
    let offered = offer(&["1.0.0", "1.2.0"]);
    let kind = |format, kind, req| needs(format, Some(kind), Some(req), "1.0", &offered);
    assert_eq!(kind(Format::Npm, "dev", "^1.0.0"), Needs::Nothing);
    assert_eq!(kind(Format::Maven, "test", "[1.0,2.0)"), Needs::Nothing);
    assert_eq!(kind(Format::Maven, "system", "1.0.0"), Needs::Nothing);
}

#[test]
fn every_other_type_keeps_unknown_ones_too() {
    let offered = offer(&["1.0.0", "1.2.0"]);
    let kind = |format, kind: Option<&str>, req| needs(format, kind, Some(req), "1.0", &offered);
    for t in ["regular", "peer", "optional", "bundled"] {
        assert_eq!(
            kind(Format::Npm, Some(t), "^1.0.0"),
            versions(&["1.2.0"]),
            "{t}"
        );
    }
    for t in [
        "compile", "runtime", "provided", "parent", "optional", "import",
    ] {
        assert_eq!(
            kind(Format::Maven, Some(t), "[1.0,2.0)"),
            versions(&["1.2.0"]),
            "{t}"
        );
    }
    assert_eq!(
        kind(Format::Pypi, Some("Requires-Dist"), ">=1"),
        versions(&["1.2.0"])
    );
    assert_eq!(kind(Format::Nuget, None, "[1.0.0]"), versions(&["1.0.0"]));
    assert_eq!(
        kind(Format::Ruby, Some("runtime"), "~> 1.0"),
        versions(&["1.2.0"])
    );
    assert_eq!(
        kind(Format::Cargo, Some("normal"), "1"),
        versions(&["1.2.0"])
    );
}

#[test]
fn generic_packages_have_no_resolver() {
    for req in ["1.0.0", "", "^1"] {
        assert!(
            unreadable(&resolve(Format::Generic, req, &["1.0.0"])),
            "{req:?}"
        );
    }
    let none = needs(Format::Generic, None, None, "1.0", &offer(&["1.0.0"]));
    assert!(unreadable(&none));
}

#[test]
fn no_offered_version_needs_nothing() {
    assert_eq!(resolve(Format::Npm, "^1.0.0", &[]), Needs::Nothing);
    assert_eq!(resolve(Format::Maven, "1.0", &[]), Needs::Nothing);
    assert_eq!(resolve(Format::Nuget, "1.0", &[]), Needs::Nothing);
}

/// Requirements that are ranges (no exact pin), with their format.
const RANGES: &[(Format, &str)] = &[
    (Format::Npm, "^1.0.0"),
    (Format::Npm, "*"),
    (Format::Npm, ">=1.0.0 <3 || 4.x"),
    (Format::Pypi, ">=1.0,<3"),
    (Format::Pypi, "~=1.1"),
    (Format::Maven, "[1.0,2.0)"),
    (Format::Maven, "(,3.0],[4.0,)"),
    (Format::Nuget, "1.0"),
    (Format::Nuget, "1.*"),
    (Format::Nuget, "*-*"),
    (Format::Ruby, "~> 1.0"),
    (Format::Ruby, ">= 0"),
    (Format::Cargo, "1"),
    (Format::Cargo, ">=0.1, <3"),
    (Format::Swift, "1.0.0..<3.0.0"),
];

/// Any requirement: the ranges, exact pins, and text that is neither.
const ANY: &[&str] = &[
    "1.0.0",
    "=1.0.0",
    "[1.0.0]",
    "==1.0.0",
    "= 1.0.0",
    "latest",
    "next",
    "",
    "${project.version}",
    "git+https://x/y.git",
    "npm:x@1",
    "1.*-*",
    "(1.0)",
    "~>",
    "[2.0,1.0]",
    "===1.0.0",
];

/// Versions to offer: valid in some formats, garbage in all.
const POOL: &[&str] = &[
    "1.0.0",
    "1.0",
    "1.1.0",
    "1.1.0-beta.1",
    "1.1.0rc1",
    "2.0.0",
    "2.0.0-SNAPSHOT",
    "2.5",
    "3.0.0.1",
    "4.0.0+build",
    "0.1.0",
    "1.0.0.0",
    "x",
    "",
];

/// Offered versions drawn from [`POOL`] with random flags.
fn offered_strategy() -> impl Strategy<Value = Vec<(usize, bool, bool)>> {
    prop::collection::vec((0..POOL.len(), any::<bool>(), any::<bool>()), 0..8)
}

/// The offered versions an index list names.
fn build(drawn: &[(usize, bool, bool)]) -> Vec<Offered<'static>> {
    drawn
        .iter()
        .map(|&(i, published, latest)| Offered {
            version: POOL[i],
            published,
            latest,
        })
        .collect()
}

proptest! {
    #[test]
    fn answers_name_only_offered_versions_once(
        drawn in offered_strategy(),
        format in 0..Format::ALL.len(),
        req in prop_oneof![
            (0..ANY.len()).prop_map(|i| ANY[i].to_owned()),
            (0..RANGES.len()).prop_map(|i| RANGES[i].1.to_owned()),
            "[ -~]{0,12}",
        ],
    ) {
        let offered = build(&drawn);
        let answer = needs(Format::ALL[format], None, Some(&req), "1.0.0", &offered);
        if let Needs::Versions(v) = answer {
            prop_assert!(!v.is_empty());
            for (i, version) in v.iter().enumerate() {
                prop_assert!(offered.iter().any(|o| o.version == version));
                prop_assert!(!v[..i].contains(version), "duplicate {}", version);
            }
        }
    }

    #[test]
    fn a_range_selects_only_published_versions(
        drawn in offered_strategy(),
        range in 0..RANGES.len(),
    ) {
        let offered = build(&drawn);
        let (format, req) = RANGES[range];
        if let Needs::Versions(v) = needs(format, None, Some(req), "1.0.0", &offered) {
            for version in &v {
                let published = offered.iter().any(|o| o.version == version && o.published);
                prop_assert!(published, "{:?} {} chose {}", format, req, version);
            }
        }
    }
}
