//! NuGet: cases from NuGet's "Package versioning" page (its version ranges
//! table, pre-release order and normalized versions) and the floating
//! versions of NuGet's "Support pre-release packages with floating
//! versions" specification.

use super::{needs, offer, resolve, unreadable, versions};
use crate::resolve::nuget_version::NuGetVersion;
use crate::resolve::Needs;
use crate::service::Format;

fn nuget(req: &str, offered: &[&str]) -> Needs {
    resolve(Format::Nuget, req, offered)
}

fn v(text: &str) -> NuGetVersion {
    NuGetVersion::parse(text).unwrap_or_else(|| panic!("{text} parses"))
}

#[test]
fn a_range_takes_the_lowest_applicable_version() {
    let offered = ["1.0.0", "1.1.0", "1.5.0", "2.0.0"];
    assert_eq!(nuget("[1.1.0, 2.0.0)", &offered), versions(&["1.1.0"]));
    assert_eq!(nuget("[1.1.0,2.0.0)", &offered), versions(&["1.1.0"]));
}

#[test]
fn a_bare_version_is_a_minimum() {
    // 1.0: x ≥ 1.0
    let offered = ["0.9.0", "1.0.0!", "1.1.0", "2.0.0"];
    assert_eq!(nuget("1.0", &offered), versions(&["1.1.0"]));
}

#[test]
fn the_version_ranges_table() {
    let offered = ["0.5.0", "1.0.0", "1.5.0", "2.0.0", "2.5.0"];
    // (1.0,): x > 1.0
    assert_eq!(nuget("(1.0,)", &offered), versions(&["1.5.0"]));
    // (,1.0]: x ≤ 1.0; (,1.0): x < 1.0
    assert_eq!(nuget("(,1.0]", &offered), versions(&["0.5.0"]));
    assert_eq!(nuget("(,1.0)", &offered), versions(&["0.5.0"]));
    // [1.0,2.0]: 1.0 ≤ x ≤ 2.0; (1.0,2.0): 1.0 < x < 2.0; [1.0,2.0)
    assert_eq!(nuget("[1.0,2.0]", &offered), versions(&["1.0.0"]));
    assert_eq!(nuget("(1.0,2.0)", &offered), versions(&["1.5.0"]));
    assert_eq!(nuget("(2.0,2.5]", &offered), versions(&["2.5.0"]));
    // (1.0): invalid
    assert!(unreadable(&nuget("(1.0)", &offered)));
}

#[test]
fn an_exact_range_keeps_it_whatever_its_status() {
    // [1.0]: x == 1.0
    let offered = ["0.9.0", "1.0.0!", "1.1.0"];
    assert_eq!(nuget("[1.0]", &offered), versions(&["1.0.0"]));
    assert_eq!(nuget("[1.2]", &offered), Needs::Nothing);
}

#[test]
fn ranges_include_prereleases() {
    // "Version ranges in PackageReference include pre-release versions."
    let offered = ["1.1.0-beta", "1.2.0"];
    assert_eq!(nuget("[1.0, 2.0)", &offered), versions(&["1.1.0-beta"]));
}

#[test]
fn no_version_takes_the_lowest() {
    assert_eq!(nuget("", &["2.0.0", "1.0.0"]), versions(&["1.0.0"]));
    let none = needs(
        Format::Nuget,
        None,
        None,
        "1.0",
        &offer(&["2.0.0", "1.0.0"]),
    );
    assert_eq!(none, versions(&["1.0.0"]));
}

#[test]
fn a_range_ignores_versions_that_are_not_published() {
    assert_eq!(
        nuget("[1.0,2.0)", &["1.0.0!", "1.2.0"]),
        versions(&["1.2.0"])
    );
}

#[test]
fn floating_versions_take_the_highest_match() {
    // The floating resolution cases of NuGet's specification.
    let offered = ["1.1.0", "1.1.1", "1.2.0", "1.3.0-alpha"];
    assert_eq!(nuget("*", &offered), versions(&["1.2.0"]));
    let offered = ["1.1.0", "1.1.1", "1.1.2-alpha", "1.2.0-alpha"];
    assert_eq!(nuget("1.1.*", &offered), versions(&["1.1.1"]));
    let offered = ["1.1.0", "1.1.1", "1.1.2-alpha", "1.3.0-beta"];
    assert_eq!(nuget("*-*", &offered), versions(&["1.3.0-beta"]));
    let offered = ["1.1.0", "1.1.1", "1.1.2-alpha", "1.1.2-beta", "1.2.0-beta"];
    assert_eq!(nuget("1.1.*-*", &offered), versions(&["1.1.2-beta"]));
    let offered = [
        "5.1.0",
        "5.2.0",
        "5.4.0",
        "5.5.0-preview.1",
        "5.5.0-preview.3",
    ];
    assert_eq!(nuget("5.*", &offered), versions(&["5.4.0"]));
    assert_eq!(
        nuget("5.*-preview*", &offered),
        versions(&["5.5.0-preview.3"])
    );
    let offered = ["1.0.0-alpha", "1.0.0-beta.1", "1.0.0-beta.2", "1.0.1"];
    assert_eq!(nuget("1.0.0-beta*", &offered), versions(&["1.0.0-beta.2"]));
}

#[test]
fn a_float_nothing_matches_takes_the_lowest_above_its_minimum() {
    assert_eq!(
        nuget("1.*", &["0.9.0", "2.1.0", "2.0.0"]),
        versions(&["2.0.0"])
    );
}

#[test]
fn unsupported_floats_are_unreadable() {
    for req in ["[1.*, 2.0)", "1.*.3", "1.2*", "1.*-beta", "1.2.3.4.*"] {
        assert!(unreadable(&nuget(req, &["1.0.0"])), "{req}");
    }
}

#[test]
fn invalid_ranges_are_unreadable() {
    for req in [
        "[1.0",
        "[2.0,1.0]",
        "[1.0,2.0,3.0]",
        "abc",
        "1.0.0.0.0",
        "[]",
    ] {
        assert!(unreadable(&nuget(req, &["1.0.0"])), "{req}");
    }
}

#[test]
fn prerelease_order() {
    // "Package versioning": chosen in this order, newest first.
    let newest_first = [
        "1.0.1",
        "1.0.1-zzz",
        "1.0.1-rc",
        "1.0.1-open",
        "1.0.1-beta",
        "1.0.1-alpha2",
        "1.0.1-alpha",
        "1.0.1-aaa",
    ];
    for (i, a) in newest_first.iter().enumerate() {
        for b in &newest_first[i + 1..] {
            assert!(v(a) > v(b), "{a} > {b}");
        }
    }
    // SemVer 2: numeric identifiers numerically, before alphanumeric ones.
    assert!(v("1.0.0-beta.2") < v("1.0.0-beta.11"));
    assert!(v("1.0.0-1") < v("1.0.0-alpha"));
    assert!(v("1.0.0-alpha") < v("1.0.0-alpha.1"));
}

#[test]
fn normalized_versions_are_equal() {
    for (a, b) in [
        ("1.0", "1.0.0"),
        ("1.0.0", "1.0.0.0"),
        ("1.00", "1.0"),
        ("1.01.1", "1.1.1"),
        ("1.00.0.1", "1.0.0.1"),
        ("1.0.0-BETA", "1.0.0-beta"),
        ("1.0.0+abc", "1.0.0"),
    ] {
        assert_eq!(v(a), v(b), "{a} = {b}");
    }
    assert!(v("1.0.0.1") > v("1.0.0"));
    assert_eq!(
        nuget("[1.0]", &["1.0.0.0!", "1.0.0", "1.0.1"]),
        versions(&["1.0.0.0", "1.0.0"])
    );
}
