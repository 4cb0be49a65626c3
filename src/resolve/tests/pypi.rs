//! PyPI: cases from PEP 440's "Version specifiers" and "Handling of
//! pre-releases", and PEP 508's dependency specifiers.

use super::{resolve, unreadable, versions};
use crate::resolve::Needs;
use crate::service::Format;

fn pypi(req: &str, offered: &[&str]) -> Needs {
    resolve(Format::Pypi, req, offered)
}

#[test]
fn a_range_takes_the_newest_satisfying_version() {
    let offered = ["1.1", "1.2", "1.9.1", "2.0"];
    assert_eq!(pypi(">=1.2,<2", &offered), versions(&["1.9.1"]));
    assert_eq!(pypi(">= 1.2, < 2", &offered), versions(&["1.9.1"]));
}

#[test]
fn the_compatible_release_operator() {
    // PEP 440: ~= 2.2 is >= 2.2, == 2.*; ~= 1.4.5 is >= 1.4.5, == 1.4.*
    assert_eq!(
        pypi("~=1.4", &["1.3", "1.4", "1.9", "2.0"]),
        versions(&["1.9"])
    );
    let offered = ["1.4.4", "1.4.9", "1.5.0"];
    assert_eq!(pypi("~=1.4.5", &offered), versions(&["1.4.9"]));
}

#[test]
fn prefix_matching_and_exclusion() {
    let offered = ["1.2.0", "1.2.7", "1.3"];
    assert_eq!(pypi("==1.2.*", &offered), versions(&["1.2.7"]));
    assert_eq!(pypi("!=1.3", &offered), versions(&["1.2.7"]));
    assert_eq!(pypi("!=1.3.*,>=1", &["1.2", "1.3.5"]), versions(&["1.2"]));
}

#[test]
fn a_prerelease_is_excluded_unless_named() {
    assert_eq!(pypi(">=1.2,<2", &["1.5", "1.9rc1"]), versions(&["1.5"]));
    assert_eq!(
        pypi(">=1.9rc1,<2", &["1.5", "1.9rc1"]),
        versions(&["1.9rc1"])
    );
    // `!=` naming a pre-release does not let pre-releases in.
    assert_eq!(pypi("!=1.9rc1", &["1.5", "1.9rc2"]), versions(&["1.5"]));
}

#[test]
fn a_prerelease_is_taken_when_no_final_release_satisfies() {
    // (2.0b1 < 2, so >=2 does not hold it; 2.1.dev3 < 2.1b1.)
    let offered = ["1.5", "2.0b1", "2.1.dev3", "2.1b1"];
    assert_eq!(pypi(">=2", &offered), versions(&["2.1b1"]));
}

#[test]
fn a_leading_name_and_parentheses() {
    let offered = ["1.1", "1.5", "2.0"];
    for req in [
        "requests (>=1.2,<2)",
        "requests>=1.2,<2",
        "requests[security] >=1.2,<2",
        "(>=1.2,<2)",
    ] {
        assert_eq!(pypi(req, &offered), versions(&["1.5"]), "{req}");
    }
}

#[test]
fn environment_markers_are_stripped() {
    let offered = ["1.1", "1.5", "2.0"];
    for req in [
        ">=1.2,<2; python_version < \"3.8\"",
        "(>=1.2,<2) ; extra == 'socks'",
        "requests[socks] (>=1.2,<2) ; extra == \"socks\"",
    ] {
        assert_eq!(pypi(req, &offered), versions(&["1.5"]), "{req}");
    }
}

#[test]
fn no_specifier_takes_the_newest() {
    assert_eq!(pypi("", &["1.0", "2.0", "3.0a1"]), versions(&["2.0"]));
    assert_eq!(pypi("requests", &["1.0", "2.0"]), versions(&["2.0"]));
}

#[test]
fn an_exact_requirement_keeps_it_whatever_its_status() {
    let offered = ["1.2.3!", "1.2.4"];
    assert_eq!(pypi("==1.2.3", &offered), versions(&["1.2.3"]));
    assert_eq!(pypi("===1.2.3", &offered), versions(&["1.2.3"]));
    assert_eq!(pypi("1.2.3", &offered), versions(&["1.2.3"]));
    // PEP 440 pads with zeros: ==1.2 is 1.2.0; local labels are ignored.
    assert_eq!(
        pypi("==1.2", &["1.2.0!", "1.2.0+local", "1.3"]),
        versions(&["1.2.0", "1.2.0+local"])
    );
    assert_eq!(pypi("==1.2.5", &offered), Needs::Nothing);
}

#[test]
fn arbitrary_equality_compares_strings() {
    assert_eq!(
        pypi("===foobar", &["foobar!", "1.0"]),
        versions(&["foobar"])
    );
}

#[test]
fn a_range_ignores_versions_that_are_not_published() {
    assert_eq!(pypi(">=1", &["1.0", "1.5!", "2.0!"]), versions(&["1.0"]));
}

#[test]
fn a_url_requirement_needs_nothing() {
    assert_eq!(
        pypi("foo @ https://example.com/foo-1.0.whl", &["1.0"]),
        Needs::Nothing
    );
    assert_eq!(pypi("@ file:///tmp/foo.whl", &["1.0"]), Needs::Nothing);
}

#[test]
fn an_invalid_specifier_is_unreadable() {
    for req in [">=>1", "~=1", "foo (>=)", "=<1"] {
        assert!(unreadable(&pypi(req, &["1.0"])), "{req}");
    }
}
