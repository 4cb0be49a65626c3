//! npm: cases from node-semver's README (its range table) and npm's
//! package.json and npm-pick-manifest documentation.

use super::{needs, offer, resolve, unreadable, versions};
use crate::resolve::Needs;
use crate::service::Format;

fn npm(req: &str, offered: &[&str]) -> Needs {
    resolve(Format::Npm, req, offered)
}

#[test]
fn a_caret_range_takes_the_newest_satisfying_version() {
    // README: ^1.2.3 := >=1.2.3 <2.0.0-0
    let offered = ["1.3.0", "1.4.0", "1.9.2", "2.0.0"];
    assert_eq!(npm("^1.4.0", &offered), versions(&["1.9.2"]));
}

#[test]
fn latest_is_kept_beside_the_newest_when_it_satisfies() {
    let offered = ["1.0.0", "1.2.0^", "1.5.0", "2.0.0"];
    assert_eq!(npm("^1.0.0", &offered), versions(&["1.5.0", "1.2.0"]));
}

#[test]
fn latest_is_not_kept_when_it_does_not_satisfy() {
    let offered = ["1.0.0", "1.5.0", "2.0.0^"];
    assert_eq!(npm("^1.0.0", &offered), versions(&["1.5.0"]));
}

#[test]
fn latest_that_is_not_published_is_not_kept() {
    let offered = ["1.0.0", "1.2.0!^", "1.5.0"];
    assert_eq!(npm("^1.0.0", &offered), versions(&["1.5.0"]));
}

#[test]
fn a_star_range_keeps_latest_even_a_prerelease() {
    // npm-pick-manifest takes the `latest` tag for `*` unconditionally.
    let offered = ["1.5.0", "2.0.0-beta.1^"];
    assert_eq!(npm("*", &offered), versions(&["1.5.0", "2.0.0-beta.1"]));
    assert_eq!(npm("", &offered), versions(&["1.5.0", "2.0.0-beta.1"]));
}

#[test]
fn the_readme_range_forms() {
    let offered = [
        "0.9.0", "1.2.0", "1.2.9", "1.3.0", "1.4.9", "1.5.0", "2.0.0", "3.1.0",
    ];
    // ~1.2 := >=1.2.0 <1.3.0-0
    assert_eq!(npm("~1.2", &offered), versions(&["1.2.9"]));
    // 1.x := >=1.0.0 <2.0.0-0
    assert_eq!(npm("1.x", &offered), versions(&["1.5.0"]));
    assert_eq!(npm(">=1 <2", &offered), versions(&["1.5.0"]));
    // 1.2.3 - 1.4 := >=1.2.3 <1.5.0-0
    assert_eq!(npm("1.2.3 - 1.4", &offered), versions(&["1.4.9"]));
    assert_eq!(npm("<1.0.0 || >=3", &offered), versions(&["3.1.0"]));
    assert_eq!(npm("1.2", &offered), versions(&["1.2.9"]));
}

#[test]
fn prereleases_satisfy_only_a_range_naming_their_tuple() {
    // README: >1.2.3-alpha.3 allows 1.2.3-alpha.7, not 3.4.5-alpha.9.
    let offered = ["1.2.3-alpha.7", "3.4.5-alpha.9"];
    assert_eq!(
        npm(">1.2.3-alpha.3", &offered),
        versions(&["1.2.3-alpha.7"])
    );
    assert_eq!(
        npm("^1.2.0", &["1.2.0", "1.3.0-beta"]),
        versions(&["1.2.0"])
    );
}

#[test]
fn a_range_ignores_versions_that_are_not_published() {
    let offered = ["1.0.0", "1.4.0!", "1.5.0!"];
    assert_eq!(npm("^1.0.0", &offered), versions(&["1.0.0"]));
}

#[test]
fn unparsable_offered_versions_never_satisfy_a_range() {
    assert_eq!(npm("*", &["not-a-version", "1.0"]), Needs::Nothing);
}

#[test]
fn a_range_nobody_satisfies_needs_nothing() {
    assert_eq!(npm("^3.0.0", &["1.0.0", "2.0.0"]), Needs::Nothing);
}

#[test]
fn an_exact_version_keeps_it_whatever_its_status() {
    let offered = ["1.2.3!", "1.2.4"];
    for req in ["1.2.3", "=1.2.3", "v1.2.3", "= 1.2.3"] {
        assert_eq!(npm(req, &offered), versions(&["1.2.3"]), "{req}");
    }
    assert_eq!(npm("1.2.5", &offered), Needs::Nothing);
}

#[test]
fn dev_dependencies_keep_nothing() {
    let n = needs(
        Format::Npm,
        Some("dev"),
        Some("1.0.0"),
        "1",
        &offer(&["1.0.0"]),
    );
    assert_eq!(n, Needs::Nothing);
}

#[test]
fn dependencies_not_from_the_registry_need_nothing() {
    for req in [
        "git+https://github.com/a/b.git",
        "git://github.com/a/b.git#v1.0.0",
        "git+ssh://git@github.com:a/b.git",
        "github:a/b",
        "a/b",
        "a/b#semver:^1.0",
        "file:../local",
        "link:../local",
        "./local",
        "https://example.com/x-1.0.0.tgz",
        "x-1.0.0.tgz",
    ] {
        assert_eq!(npm(req, &["1.0.0"]), Needs::Nothing, "{req}");
    }
}

#[test]
fn the_latest_tag_means_the_latest_version() {
    assert_eq!(
        npm("latest", &["1.0.0", "1.1.0^", "2.0.0-rc.1"]),
        versions(&["1.1.0"])
    );
}

#[test]
fn other_tags_aliases_and_workspaces_are_unreadable() {
    for req in ["next", "beta", "npm:other@^1", "workspace:*", "catalog:"] {
        assert!(unreadable(&npm(req, &["1.0.0^"])), "{req}");
    }
}

#[test]
fn an_invalid_range_is_unreadable() {
    for req in [">>1", "=>1", "^^1", "1.2.3.4"] {
        assert!(unreadable(&npm(req, &["1.0.0"])), "{req}");
    }
}
