//! RubyGems: cases from `Gem::Requirement`'s pessimistic operator and
//! `Gem::Version`'s documented ordering.

use super::{resolve, unreadable, versions};
use crate::resolve::Needs;
use crate::service::Format;

fn ruby(req: &str, offered: &[&str]) -> Needs {
    resolve(Format::Ruby, req, offered)
}

#[test]
fn the_pessimistic_operator() {
    // ~> 1.2 is >= 1.2, < 2.0; ~> 1.2.3 is >= 1.2.3, < 1.3; ~> 1 is >= 1, < 2
    assert_eq!(
        ruby("~> 1.2", &["1.1", "1.2", "1.9.3", "2.0"]),
        versions(&["1.9.3"])
    );
    let offered = ["1.2.2", "1.2.3", "1.2.9", "1.3.0"];
    assert_eq!(ruby("~> 1.2.3", &offered), versions(&["1.2.9"]));
    assert_eq!(ruby("~>1.2.3", &offered), versions(&["1.2.9"]));
    assert_eq!(ruby("~> 1", &["0.9", "1.5", "2.0"]), versions(&["1.5"]));
    assert_eq!(ruby("~> 1.2.3", &["1.2.2"]), Needs::Nothing);
}

#[test]
fn comparison_constraints_all_hold() {
    let offered = ["0.9", "1.0", "1.3", "1.9", "2.0"];
    assert_eq!(ruby(">= 1.0, < 2", &offered), versions(&["1.9"]));
    assert_eq!(ruby("> 1.0, <= 1.3", &offered), versions(&["1.3"]));
    assert_eq!(ruby("!= 2.0", &offered), versions(&["1.9"]));
    assert_eq!(ruby("", &offered), versions(&["2.0"]));
}

#[test]
fn an_exact_requirement_keeps_it_whatever_its_status() {
    let offered = ["1.2.3!", "1.2.4"];
    assert_eq!(ruby("= 1.2.3", &offered), versions(&["1.2.3"]));
    assert_eq!(ruby("1.2.3", &offered), versions(&["1.2.3"]));
    // Gem::Version: trailing zeros do not count.
    assert_eq!(ruby("= 1.2.3.0", &offered), versions(&["1.2.3"]));
    assert_eq!(ruby("= 1.2.5", &offered), Needs::Nothing);
}

#[test]
fn prereleases_satisfy_only_a_prerelease_requirement() {
    let offered = ["1.5", "2.0.0.rc1", "2.0.0.rc2"];
    assert_eq!(ruby(">= 1.0", &offered), versions(&["1.5"]));
    assert_eq!(ruby(">= 2.0.0.rc1", &offered), versions(&["2.0.0.rc2"]));
    // `-` reads as `.pre.`: 2.0.0-rc.9 is 2.0.0.pre.rc.9, before 2.0.0.rc1.
    assert_eq!(
        ruby(">= 2.0.a", &["2.0.0.rc1", "2.0.0-rc.9"]),
        versions(&["2.0.0.rc1"])
    );
}

#[test]
fn a_range_ignores_versions_that_are_not_published() {
    assert_eq!(ruby("~> 1.0", &["1.0", "1.5!"]), versions(&["1.0"]));
}

#[test]
fn gem_version_ordering() {
    // Gem::Version: a letter makes a pre-release, before its release;
    // numbers compare numerically; 1.2.b1 is 1.2.b.1.
    let newest = |offered: &[&str]| ruby(">= 0.a", offered);
    assert_eq!(newest(&["1.0.a", "1.0", "1.0.b"]), versions(&["1.0"]));
    assert_eq!(newest(&["1.0.a", "1.0.b"]), versions(&["1.0.b"]));
    assert_eq!(newest(&["1.9", "1.10"]), versions(&["1.10"]));
    assert_eq!(newest(&["1.0.a.9", "1.0.a.10"]), versions(&["1.0.a.10"]));
    assert_eq!(ruby("= 1.2.b1", &["1.2.b.1"]), versions(&["1.2.b.1"]));
    assert_eq!(
        ruby("= 1.0.0-rc1", &["1.0.0.pre.rc1"]),
        versions(&["1.0.0.pre.rc1"])
    );
}

#[test]
fn an_invalid_requirement_is_unreadable() {
    for req in ["~> abc", ">= 1.0, ", "=> 1.0", "~>", "1..2"] {
        assert!(unreadable(&ruby(req, &["1.0"])), "{req}");
    }
}
