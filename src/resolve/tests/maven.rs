//! Maven: ranges from the POM reference's "Dependency Version Requirement
//! Specification", ordering from its "Version Order Specification" and
//! maven-artifact's ComparableVersionTest.

use super::{needs, offer, resolve, unreadable, versions};
use crate::resolve::maven_version::MavenVersion;
use crate::resolve::Needs;
use crate::service::Format;

fn maven(req: &str, offered: &[&str]) -> Needs {
    resolve(Format::Maven, req, offered)
}

fn v(text: &str) -> MavenVersion {
    MavenVersion::parse(text)
}

#[test]
fn a_half_open_range_takes_the_newest_published_version_in_it() {
    let offered = ["0.9", "1.0", "1.5", "1.9.9!", "2.0"];
    assert_eq!(maven("[1.0,2.0)", &offered), versions(&["1.5"]));
}

#[test]
fn the_specification_ranges() {
    let offered = ["0.9", "1.0", "1.1", "1.2", "1.3"];
    assert_eq!(maven("(,1.0]", &offered), versions(&["1.0"]));
    assert_eq!(maven("[1.0,1.2]", &offered), versions(&["1.2"]));
    assert_eq!(maven("[1.0,1.2)", &offered), versions(&["1.1"]));
    assert_eq!(maven("[1.1,)", &offered), versions(&["1.3"]));
    assert_eq!(maven("(,1.0],[1.2,)", &offered), versions(&["1.3"]));
    // (,1.1),(1.1,) excludes 1.1
    assert_eq!(maven("(,1.1),(1.1,)", &["1.0", "1.1"]), versions(&["1.0"]));
    assert_eq!(
        maven("[1.0,1.2),(1.2,)", &["1.1", "1.2"]),
        versions(&["1.1"])
    );
    assert_eq!(maven("[ 1.0 , 1.2 ]", &offered), versions(&["1.2"]));
}

#[test]
fn a_range_to_2_0_includes_its_release_candidates() {
    // The specification's note: 2.0-rc1 < 2.0, so [1.0,2.0) holds it.
    assert_eq!(
        maven("[1.0,2.0)", &["1.5", "2.0-rc1", "2.0"]),
        versions(&["2.0-rc1"])
    );
}

#[test]
fn a_range_nobody_satisfies_needs_nothing() {
    assert_eq!(maven("[3.0,4.0)", &["1.0", "2.0"]), Needs::Nothing);
}

#[test]
fn a_bare_or_bracketed_version_is_exact_whatever_its_status() {
    let offered = ["1.2", "1.3.0!", "1.4"];
    assert_eq!(maven("1.3", &offered), versions(&["1.3.0"]));
    assert_eq!(maven("[1.3]", &offered), versions(&["1.3.0"]));
    assert_eq!(maven("1.5", &offered), Needs::Nothing);
    // Every offered string equal under Maven's order.
    assert_eq!(
        maven("1.3", &["1.3!", "1.3.0", "1.3-ga"]),
        versions(&["1.3", "1.3.0", "1.3-ga"])
    );
}

#[test]
fn meta_versions_take_the_newest() {
    let offered = ["1.0", "1.1", "1.2-SNAPSHOT", "1.3!"];
    assert_eq!(maven("LATEST", &offered), versions(&["1.2-SNAPSHOT"]));
    assert_eq!(maven("RELEASE", &offered), versions(&["1.1"]));
}

#[test]
fn the_project_version_is_the_dependents_own() {
    let offered = offer(&["2.0.0", "2.1.0!", "2.2.0"]);
    for req in ["${project.version}", "${version}"] {
        let n = needs(Format::Maven, Some("compile"), Some(req), "2.1.0", &offered);
        assert_eq!(n, versions(&["2.1.0"]), "{req}");
    }
}

#[test]
fn other_properties_and_managed_versions_are_unreadable() {
    let offered = offer(&["1.0"]);
    let read = |req| needs(Format::Maven, Some("compile"), req, "1.0", &offered);
    assert!(unreadable(&read(Some("${jackson.version}"))));
    assert!(unreadable(&read(Some("${project.version}-tests"))));
    assert!(unreadable(&read(Some(""))));
    assert!(unreadable(&read(Some("  "))));
    assert!(unreadable(&read(None)));
}

#[test]
fn parent_keeps_and_test_keeps_nothing() {
    let offered = offer(&["1.0", "1.1"]);
    let kind = |t| needs(Format::Maven, Some(t), Some("1.1"), "1.0", &offered);
    assert_eq!(kind("parent"), versions(&["1.1"]));
    assert_eq!(kind("test"), Needs::Nothing);
}

#[test]
fn invalid_ranges_are_unreadable() {
    for req in [
        "[1.0,2.0",
        "(1.0)",
        "[1.0)",
        "[2.0,1.0]",
        "[1.0,2.0),x",
        "(1.0,1.0)",
        "[1,2,3]",
    ] {
        assert!(unreadable(&maven(req, &["1.0"])), "{req}");
    }
}

#[test]
fn the_brief_orderings() {
    assert!(v("1.0") < v("1.0.1"));
    let chain = ["1.0-alpha", "1.0-beta", "1.0-SNAPSHOT", "1.0", "1.0-sp"];
    assert_ascending(&chain);
    assert!(v("1") == v("1.0") && v("1.0") == v("1.0.0"));
    let qualifiers = [
        "1-alpha",
        "1-beta",
        "1-milestone",
        "1-rc",
        "1-snapshot",
        "1",
        "1-sp",
    ];
    assert_ascending(&qualifiers);
    assert_eq!(v("1-rc"), v("1-cr"));
    for same in ["1-ga", "1-final", "1-release", "1.GA"] {
        assert_eq!(v(same), v("1"), "{same}");
    }
}

#[test]
fn the_specification_end_result_examples() {
    assert!(v("1") < v("1.1"));
    assert_ascending(&["1-snapshot", "1", "1-sp"]);
    assert!(v("1-foo2") < v("1-foo10"));
    assert!(v("1-foo") < v("1-1") && v("1-1") < v("1.1"));
    for same in ["1.ga", "1-ga", "1-0", "1.0", "1"] {
        assert_eq!(v(same), v("1"), "{same}");
    }
    assert!(v("1-sp") > v("1-ga"));
    assert!(v("1-sp.1") > v("1-ga.1"));
    assert!(v("1-sp-1") < v("1-ga-1"));
    assert_eq!(v("1-a1"), v("1-alpha-1"));
    assert_eq!(v("1.0-alpha1"), v("1.0-ALPHA1"));
    assert!(v("1.7") > v("1.K"));
    assert!(v("5.zebra") > v("5.aardvark"));
}

#[test]
fn comparable_version_test_orders() {
    // ComparableVersionTest's VERSIONS_QUALIFIER and VERSIONS_NUMBER.
    assert_ascending(&[
        "1-alpha2snapshot",
        "1-alpha2",
        "1-alpha-123",
        "1-beta-2",
        "1-beta123",
        "1-m2",
        "1-m11",
        "1-rc",
        "1-cr2",
        "1-rc123",
        "1-SNAPSHOT",
        "1",
        "1-sp",
        "1-sp2",
        "1-sp123",
        "1-abc",
        "1-def",
        "1-pom-1",
        "1-1-snapshot",
        "1-1",
        "1-2",
        "1-123",
    ]);
    assert_ascending(&[
        "2.0", "2-1", "2.0.a", "2.0.0.a", "2.0.2", "2.0.123", "2.1.0", "2.1-a", "2.1b", "2.1-c",
        "2.1-1", "2.1.0.1", "2.2", "2.123", "11.a2", "11.a11", "11.b2", "11.b11", "11.m2",
        "11.m11", "11", "11.a", "11b", "11c", "11m",
    ]);
    for (a, b) in [
        ("1", "1.0.0"),
        ("1", "1-0"),
        ("1.0", "1.0-0"),
        ("1a", "1-a"),
        ("1a", "1.0.0-a"),
        ("1x", "1.0-x"),
        ("1ga", "1"),
        ("1final", "1"),
        ("1cr", "1rc"),
        ("1a1", "1-alpha-1"),
        ("1b2", "1-beta-2"),
        ("1m3", "1-milestone-3"),
        ("1X", "1x"),
        ("1A", "1a"),
    ] {
        assert_eq!(v(a), v(b), "{a} = {b}");
    }
    assert!(v("1.0.0.12345678901234567890") > v("1.0.0.9999999999"));
}

/// Each version sorts strictly before every later one.
fn assert_ascending(list: &[&str]) {
    for (i, a) in list.iter().enumerate() {
        for b in &list[i + 1..] {
            assert!(v(a) < v(b), "{a} < {b}");
            assert!(v(b) > v(a), "{b} > {a}");
        }
    }
}
