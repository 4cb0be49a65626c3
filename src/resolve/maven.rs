//! Maven: what a build resolves for one `<dependency>` (or `<parent>`)
//! version of a POM.
//!
//! The syntax is the POM reference's "Dependency Version Requirement
//! Specification", as maven-artifact's `VersionRange.createFromVersionSpec`
//! reads it: a bare version is a soft requirement (that version, unless
//! mediation picks another), `[1.3]` is hard, and ranges are intervals
//! (`[1.0,2.0)`, `(,1.0]`, `[1.5,)`) joined by commas into a union. A range
//! resolves to the newest version in it; versions compare by Maven's order
//! ([`MavenVersion`]). `LATEST` and `RELEASE` (Maven 2's meta-versions)
//! resolve too. Written by hand: no maintained crate reads these.

use super::maven_version::MavenVersion;
use super::{exact, pick, End, Needs, Offered};

/// What a Maven requirement (`versionRequirement`, trimmed) needs of
/// `offered`; `dependent_version` is what `${project.version}` means.
pub(super) fn needs(requirement: &str, dependent_version: &str, offered: &[Offered<'_>]) -> Needs {
    if requirement.is_empty() {
        return Needs::unreadable("no version: a parent POM or BOM manages it");
    }
    if requirement.contains("${") {
        return match requirement {
            "${project.version}" | "${version}" => exact_match(dependent_version, offered),
            _ => Needs::unreadable("a Maven property the POM defines"),
        };
    }
    if let Some(needs) = meta_version(requirement, offered) {
        return needs;
    }
    match spec(requirement) {
        Err(reason) => Needs::unreadable(reason),
        Ok(Spec::Soft(version)) => exact_match(version, offered),
        Ok(Spec::Ranges(ranges)) => match ranges.as_slice() {
            [Restriction::Exact(version)] => exact_match(version, offered),
            _ => pick(
                offered,
                End::Newest,
                |v| Some(MavenVersion::parse(v)),
                |v| ranges.iter().any(|r| r.contains(v)),
            ),
        },
    }
}

/// Maven 2's meta-versions, which Maven 3 still resolves from repository
/// metadata: `LATEST`, the newest version, and `RELEASE`, the newest that is
/// not a snapshot (Published ones, as for a range). None for anything else.
fn meta_version(requirement: &str, offered: &[Offered<'_>]) -> Option<Needs> {
    let release = match requirement {
        "LATEST" => false,
        "RELEASE" => true,
        _ => return None,
    };
    let candidates: Vec<Offered<'_>> = offered
        .iter()
        .filter(|o| !(release && o.version.to_ascii_uppercase().ends_with("SNAPSHOT")))
        .copied()
        .collect();
    let parse = |v: &str| Some(MavenVersion::parse(v));
    Some(pick(&candidates, End::Newest, parse, |_| true))
}

/// The offered versions equal to `version` in Maven's order, any status.
fn exact_match(version: &str, offered: &[Offered<'_>]) -> Needs {
    let wanted = MavenVersion::parse(version);
    exact(offered, version, |o| Some(MavenVersion::parse(o) == wanted))
}

/// A version specification, read.
#[derive(Debug)]
enum Spec<'a> {
    /// A bare version: a soft requirement.
    Soft(&'a str),
    /// Bracketed restrictions, any of which may hold.
    Ranges(Vec<Restriction>),
}

/// One bracketed restriction.
#[derive(Debug)]
enum Restriction {
    /// `[1.3]`.
    Exact(String),
    /// An interval; an absent bound is open.
    Between {
        /// The lower bound and whether it is included (`[`).
        lower: Option<(MavenVersion, bool)>,
        /// The upper bound and whether it is included (`]`).
        upper: Option<(MavenVersion, bool)>,
    },
}

impl Restriction {
    /// Whether `version` lies in it (`Restriction.containsVersion`).
    fn contains(&self, version: &MavenVersion) -> bool {
        match self {
            Restriction::Exact(v) => MavenVersion::parse(v) == *version,
            Restriction::Between { lower, upper } => {
                let above = lower.as_ref().is_none_or(|(l, inclusive)| {
                    if *inclusive {
                        version >= l
                    } else {
                        version > l
                    }
                });
                let below = upper.as_ref().is_none_or(|(u, inclusive)| {
                    if *inclusive {
                        version <= u
                    } else {
                        version < u
                    }
                });
                above && below
            }
        }
    }
}

/// Read a specification as `VersionRange.createFromVersionSpec` does:
/// restrictions while the text opens with `[` or `(`, each ended by the
/// first `]` or `)`, separated by commas; text left after them is an error,
/// text alone is a soft version.
fn spec(text: &str) -> Result<Spec<'_>, &'static str> {
    let mut rest = text.trim();
    let mut ranges = Vec::new();
    while rest.starts_with(['[', '(']) {
        let close = rest
            .find([']', ')'])
            .ok_or("an unclosed Maven version range")?;
        ranges.push(restriction(&rest[..=close])?);
        rest = rest[close + 1..].trim_start();
        rest = rest.strip_prefix(',').unwrap_or(rest).trim_start();
    }
    match (rest.is_empty(), ranges.is_empty()) {
        (_, true) => Ok(Spec::Soft(rest)),
        (true, false) => Ok(Spec::Ranges(ranges)),
        (false, false) => Err("not a valid Maven version range"),
    }
}

/// One restriction, brackets included (`Restriction` parsing in
/// `VersionRange.parseRestriction`).
fn restriction(text: &str) -> Result<Restriction, &'static str> {
    let lower_inclusive = text.starts_with('[');
    let upper_inclusive = text.ends_with(']');
    let inner = text.get(1..text.len() - 1).unwrap_or_default().trim();
    let Some((low, high)) = inner.split_once(',') else {
        return if lower_inclusive && upper_inclusive && !inner.is_empty() {
            Ok(Restriction::Exact(inner.to_owned()))
        } else {
            Err("a single Maven version in a range needs []")
        };
    };
    let (low, high) = (low.trim(), high.trim());
    if high.contains(',')
        || (low == high && !low.is_empty() && !(lower_inclusive && upper_inclusive))
    {
        return Err("not a valid Maven version range");
    }
    let bound = |v: &str, inclusive| (!v.is_empty()).then(|| (MavenVersion::parse(v), inclusive));
    let (lower, upper) = (bound(low, lower_inclusive), bound(high, upper_inclusive));
    if let (Some((l, _)), Some((u, _))) = (&lower, &upper) {
        if u < l {
            return Err("a Maven range whose bounds are out of order");
        }
    }
    Ok(Restriction::Between { lower, upper })
}
