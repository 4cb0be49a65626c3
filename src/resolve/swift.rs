//! Swift: what SwiftPM resolves for one package dependency.
//!
//! CodeArtifact documents no form for a Swift `versionRequirement`; this
//! reads the forms of SwiftPM's `Package.Dependency` requirements as
//! written in a manifest: a half-open range `1.0.0..<2.0.0`
//! (`from:`/`upToNextMajor` spell one), a closed range `1.0.0...1.2.0`, and
//! an exact version `1.2.3`. Anything else is unreadable. Versions are
//! SemVer 2 (SwiftPM's `Version`), read by the `semver` crate, build
//! metadata ignored. A range takes the newest version in it; a pre-release
//! is in it only when a bound has a pre-release label and it is not a
//! pre-release of an unlabelled upper bound (SwiftPM's
//! `Range<Version>.contains(version:)`).

use semver::{BuildMetadata, Version};

use super::{exact, pick, End, Needs, Offered};

/// What a Swift requirement (`versionRequirement`, trimmed) needs of
/// `offered`.
pub(super) fn needs(requirement: &str, offered: &[Offered<'_>]) -> Needs {
    const UNREADABLE: &str = "not a Swift version requirement this resolver reads";
    let (lower, upper, closed) = if let Some((l, u)) = requirement.split_once("..<") {
        (l, u, false)
    } else if let Some((l, u)) = requirement.split_once("...") {
        (l, u, true)
    } else {
        return match parse(requirement) {
            Some(wanted) => exact(offered, requirement, |o| parse(o).map(|o| o == wanted)),
            None => Needs::unreadable(UNREADABLE),
        };
    };
    let (Some(lower), Some(upper)) = (parse(lower), parse(upper)) else {
        return Needs::unreadable(UNREADABLE);
    };
    pick(offered, End::Newest, parse, |v| {
        let inside = *v >= lower && if closed { *v <= upper } else { *v < upper };
        inside && (v.pre.is_empty() || prerelease_allowed(v, &lower, &upper))
    })
}

/// SwiftPM's rule for a pre-release `v` in `lower..<upper`: only when a
/// bound has a pre-release label, and never `2.0.0-alpha` below `2.0.0`.
fn prerelease_allowed(v: &Version, lower: &Version, upper: &Version) -> bool {
    if lower.pre.is_empty() && upper.pre.is_empty() {
        return false;
    }
    let same_release = (v.major, v.minor, v.patch) == (upper.major, upper.minor, upper.patch);
    !(upper.pre.is_empty() && same_release)
}

/// A version as SwiftPM compares it: SemVer 2, build metadata dropped.
fn parse(version: &str) -> Option<Version> {
    let mut version = Version::parse(version.trim()).ok()?;
    version.build = BuildMetadata::EMPTY;
    Some(version)
}
