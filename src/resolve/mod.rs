//! Dependency protection's resolver: which versions of a depended-on package
//! one dependency needs, read as the format's own client reads it.
//!
//! The input is one `PackageDependency` of CodeArtifact's
//! `ListPackageVersionDependencies` (its `dependencyType` and
//! `versionRequirement`, in the format's own syntax) and the versions of the
//! depended-on package in the repository being cleaned. The answer
//! ([`Needs`]) is what a consumer's client would install today: the newest
//! satisfying version for most formats, npm's `latest` beside it, NuGet's
//! lowest applicable version. Pure: no I/O, no clock.
//!
//! One file a format: [`npm`], [`pypi`], [`maven`] (ordering in
//! [`maven_version`]), [`nuget`] (ordering in [`nuget_version`]), [`ruby`],
//! [`cargo`], [`swift`]. Shared here: the dependency types that install
//! nothing, and the two ways a requirement selects ([`pick`], [`exact`]).

mod cargo;
mod maven;
mod maven_version;
mod npm;
mod nuget;
mod nuget_version;
mod pypi;
mod ruby;
mod swift;
#[cfg(test)]
mod tests;

use crate::service::Format;

/// One version of the package depended on, in the repository being cleaned,
/// as its listing shows it (stored, normalised form).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Offered<'a> {
    pub(crate) version: &'a str,
    /// Its status is Published (only Published versions satisfy a range).
    pub(crate) published: bool,
    /// It is the package's defaultDisplayVersion (npm's `latest` dist-tag).
    pub(crate) latest: bool,
}

/// What one requirement needs of the versions offered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Needs {
    /// Nothing: a dependency type a consumer does not install, a requirement
    /// that is not a registry dependency (URL, git, file path), or no offered
    /// version satisfies it.
    Nothing,
    /// These versions (as offered, i.e. the offered strings), de-duplicated.
    Versions(Vec<String>),
    /// The requirement cannot be read: the caller keeps every candidate of
    /// the package. The reason (short, user-facing, quoting nothing: the
    /// caller quotes the requirement).
    Unreadable(String),
}

impl Needs {
    /// `Versions` of these offered strings in their order, each once;
    /// `Nothing` when there are none.
    fn of<'a>(versions: impl IntoIterator<Item = &'a str>) -> Needs {
        let mut out: Vec<String> = Vec::new();
        for v in versions {
            if !out.iter().any(|o| o == v) {
                out.push(v.to_owned());
            }
        }
        if out.is_empty() {
            Needs::Nothing
        } else {
            Needs::Versions(out)
        }
    }

    /// `Unreadable` with this reason.
    fn unreadable(reason: &str) -> Needs {
        Needs::Unreadable(reason.to_owned())
    }
}

/// What one dependency needs of `offered`, the versions of the package it
/// depends on. `format`: the dependent's format (both packages share it).
/// `dependency_type`: as returned (None for NuGet). `requirement`:
/// `versionRequirement` as returned (may be None/empty). `dependent_version`:
/// the dependent's own version (Maven `${project.version}`). Pure.
pub(crate) fn needs(
    format: Format,
    dependency_type: Option<&str>,
    requirement: Option<&str>,
    dependent_version: &str,
    offered: &[Offered<'_>],
) -> Needs {
    if !installed(format, dependency_type) {
        return Needs::Nothing;
    }
    let requirement = requirement.map(str::trim).unwrap_or_default();
    match format {
        Format::Npm => npm::needs(requirement, offered),
        Format::Pypi => pypi::needs(requirement, offered),
        Format::Maven => maven::needs(requirement, dependent_version, offered),
        Format::Nuget => nuget::needs(requirement, offered),
        Format::Ruby => ruby::needs(requirement, offered),
        Format::Cargo => cargo::needs(requirement, offered),
        Format::Swift => swift::needs(requirement, offered),
        Format::Generic => Needs::unreadable("generic packages have no version resolver"),
    }
}

/// Whether a consumer installs a dependency of this type. The types are
/// CodeArtifact's (API reference, `PackageDependency.dependencyType`): npm
/// `regular`, `dev`, `peer`, `optional`; Maven `compile`, `runtime`,
/// `provided`, `parent`, `optional`, `test`, `system`; PyPI
/// `Requires-Dist`; none for NuGet. A consumer installs neither npm's
/// devDependencies (npm docs, package.json) nor Maven's test- and
/// system-scoped ones (Maven's "Introduction to the Dependency Mechanism":
/// neither is transitive, and system ones never come from a repository).
/// Any other type, unknown ones included, is installed.
fn installed(format: Format, dependency_type: Option<&str>) -> bool {
    let Some(kind) = dependency_type.map(str::trim) else {
        return true;
    };
    let skipped: &[&str] = match format {
        Format::Npm => &["dev"],
        Format::Maven => &["test", "system"],
        _ => &[],
    };
    !skipped.iter().any(|s| s.eq_ignore_ascii_case(kind))
}

/// Which end of the satisfying versions a client installs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    /// The newest (npm, PyPI, Maven, RubyGems, Cargo, SwiftPM, NuGet floats).
    Newest,
    /// The lowest (NuGet's "lowest applicable version").
    Lowest,
}

/// The offered versions a range selects: among the Published versions that
/// `parse` reads and `satisfies` accepts, those at `end` of the format's
/// order (every offered string equal to it under the format, in offered
/// order). Unparsable versions never satisfy a range.
fn pick<V: Ord>(
    offered: &[Offered<'_>],
    end: End,
    parse: impl Fn(&str) -> Option<V>,
    satisfies: impl Fn(&V) -> bool,
) -> Needs {
    let matching: Vec<(&str, V)> = offered
        .iter()
        .filter(|o| o.published)
        .filter_map(|o| parse(o.version).map(|v| (o.version, v)))
        .filter(|(_, v)| satisfies(v))
        .collect();
    let best = match end {
        End::Newest => matching.iter().map(|(_, v)| v).max(),
        End::Lowest => matching.iter().map(|(_, v)| v).min(),
    };
    let Some(best) = best else {
        return Needs::Nothing;
    };
    Needs::of(matching.iter().filter(|(_, v)| v == best).map(|(s, _)| *s))
}

/// The offered versions an exact requirement names, whatever their status
/// (an exact pin installs an Unlisted or Archived version too): those
/// `equal` accepts, or, where the format cannot read them, whose string is
/// `wanted` itself.
fn exact(offered: &[Offered<'_>], wanted: &str, equal: impl Fn(&str) -> Option<bool>) -> Needs {
    Needs::of(
        offered
            .iter()
            .filter(|o| equal(o.version).unwrap_or(o.version == wanted))
            .map(|o| o.version),
    )
}
