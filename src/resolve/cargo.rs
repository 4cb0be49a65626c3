//! Cargo: what `cargo` resolves for one dependency of a crate.
//!
//! The requirement is Cargo's ("Specifying Dependencies" in the Cargo
//! book), read by the `semver` crate's `VersionReq`, which implements
//! exactly Cargo's flavour: a bare `1.2` is `^1.2`, operators `^ ~ * = > >=
//! < <=`, comparators joined by commas; pre-releases match only a
//! comparator naming the same `major.minor.patch` with a pre-release. Cargo
//! takes the newest matching version; `=1.2.3` is an exact pin.

use semver::{Op, Version, VersionReq};

use super::{exact, pick, End, Needs, Offered};

/// What a Cargo requirement (`versionRequirement`, trimmed; empty read as
/// `*`) needs of `offered`.
pub(super) fn needs(requirement: &str, offered: &[Offered<'_>]) -> Needs {
    let text = if requirement.is_empty() {
        "*"
    } else {
        requirement
    };
    let Ok(req) = VersionReq::parse(text) else {
        return Needs::unreadable("not a valid Cargo version requirement");
    };
    if let [only] = req.comparators.as_slice() {
        if only.op == Op::Exact && only.minor.is_some() && only.patch.is_some() {
            let written = text.trim_start_matches('=').trim();
            return exact(offered, written, |o| parse(o).map(|v| req.matches(&v)));
        }
    }
    pick(offered, End::Newest, parse, |v| req.matches(v))
}

/// An offered version as Cargo reads it (SemVer 2).
fn parse(version: &str) -> Option<Version> {
    Version::parse(version).ok()
}
