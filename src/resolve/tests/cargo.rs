//! Cargo (the Cargo book's "Specifying Dependencies") and Swift (SwiftPM's
//! `Package.Dependency` requirements).

use super::{resolve, unreadable, versions};
use crate::resolve::Needs;
use crate::service::Format;

fn cargo(req: &str, offered: &[&str]) -> Needs {
    resolve(Format::Cargo, req, offered)
}

fn swift(req: &str, offered: &[&str]) -> Needs {
    resolve(Format::Swift, req, offered)
}

#[test]
fn a_bare_version_is_a_caret_requirement() {
    // 1.2.3 := >=1.2.3, <2.0.0; 1.2 := >=1.2.0, <2.0.0; 0.2.3 := >=0.2.3, <0.3.0
    let offered = ["1.2.2", "1.5.0", "2.0.0"];
    assert_eq!(cargo("1.2.3", &offered), versions(&["1.5.0"]));
    assert_eq!(cargo("1.2", &offered), versions(&["1.5.0"]));
    assert_eq!(cargo("^1.2", &offered), versions(&["1.5.0"]));
    assert_eq!(
        cargo("0.2.3", &["0.2.2", "0.2.9", "0.3.0"]),
        versions(&["0.2.9"])
    );
}

#[test]
fn tilde_wildcard_and_comparison_requirements() {
    let offered = ["1.1.0", "1.2.0", "1.2.7", "1.3.0", "1.5.0", "2.0.0"];
    // ~1.2 := >=1.2.0, <1.3.0
    assert_eq!(cargo("~1.2", &offered), versions(&["1.2.7"]));
    assert_eq!(cargo("1.*", &offered), versions(&["1.5.0"]));
    assert_eq!(cargo("*", &offered), versions(&["2.0.0"]));
    assert_eq!(cargo(">= 1.2.0, < 1.5", &offered), versions(&["1.3.0"]));
    assert_eq!(cargo("", &offered), versions(&["2.0.0"]));
}

#[test]
fn a_prerelease_matches_only_a_requirement_naming_it() {
    assert_eq!(
        cargo("^1.2", &["1.2.0", "1.3.0-alpha.1"]),
        versions(&["1.2.0"])
    );
    let offered = ["1.3.0-alpha.1", "1.3.0-alpha.2"];
    assert_eq!(
        cargo(">=1.3.0-alpha.1", &offered),
        versions(&["1.3.0-alpha.2"])
    );
}

#[test]
fn an_exact_requirement_keeps_a_yanked_version() {
    let offered = ["1.2.3!", "1.2.4"];
    assert_eq!(cargo("=1.2.3", &offered), versions(&["1.2.3"]));
    assert_eq!(cargo("=1.2.5", &offered), Needs::Nothing);
}

#[test]
fn a_range_ignores_versions_that_are_not_published() {
    assert_eq!(cargo("1", &["1.0.0", "1.1.0!"]), versions(&["1.0.0"]));
}

#[test]
fn an_invalid_cargo_requirement_is_unreadable() {
    for req in ["^^1", "1.2.3.4", "latest"] {
        assert!(unreadable(&cargo(req, &["1.0.0"])), "{req}");
    }
}

#[test]
fn swift_ranges_take_the_newest_version_in_them() {
    let offered = ["0.9.0", "1.0.0", "1.2.0", "1.9.1", "2.0.0", "2.0.0-beta.1"];
    assert_eq!(swift("1.0.0..<2.0.0", &offered), versions(&["1.9.1"]));
    assert_eq!(swift("1.0.0...1.2.0", &offered), versions(&["1.2.0"]));
    assert_eq!(swift("3.0.0..<4.0.0", &offered), Needs::Nothing);
}

#[test]
fn swift_prereleases_need_a_prerelease_bound() {
    let offered = ["1.5.0", "2.0.0-beta.1", "2.1.0-beta.1"];
    assert_eq!(swift("1.0.0..<3.0.0", &offered), versions(&["1.5.0"]));
    assert_eq!(
        swift("2.0.0-alpha..<3.0.0", &offered),
        versions(&["2.1.0-beta.1"])
    );
    // Never a pre-release of an unlabelled upper bound.
    assert_eq!(swift("1.0.0-alpha..<2.0.0", &offered), versions(&["1.5.0"]));
}

#[test]
fn a_swift_exact_version_keeps_it_whatever_its_status() {
    assert_eq!(swift("1.2.3", &["1.2.3!", "1.2.4"]), versions(&["1.2.3"]));
}

#[test]
fn other_swift_forms_are_unreadable() {
    for req in ["from: 1.0.0", "", "1.0", "branch: main", "1.0..<2.0"] {
        assert!(unreadable(&swift(req, &["1.0.0"])), "{req:?}");
    }
}
