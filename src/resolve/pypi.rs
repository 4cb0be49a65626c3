//! PyPI: what pip installs for one `Requires-Dist` entry.
//!
//! A `Requires-Dist` value is a PEP 508 dependency specifier
//! (`name [extras] (specifiers) ; markers`, or `name @ url`); the
//! `versionRequirement` may carry all of it or only the specifiers, with or
//! without the parentheses and the markers. Markers are dropped: the
//! dependency may be installed, so it keeps. Specifiers are PEP 440's, read
//! by `pep440_rs`; the rest of PEP 508's grammar (a name, extras, `@ url`)
//! is read here by hand, because `pep508_rs` 0.9.2 panics on some invalid
//! names (an `expect` in its name parser, reached by `1.*-*`).
//! pip installs the newest satisfying version; pre-releases follow PEP 440's
//! "Handling of pre-releases": excluded unless a specifier names one, or
//! unless no final release satisfies.

use std::str::FromStr;

use pep440_rs::{Operator, Version, VersionSpecifier, VersionSpecifiers};

use super::{exact, pick, End, Needs, Offered};

/// What a PyPI requirement (`versionRequirement`, trimmed) needs of
/// `offered`.
pub(super) fn needs(requirement: &str, offered: &[Offered<'_>]) -> Needs {
    if let Some(wanted) = requirement.strip_prefix("===") {
        // Arbitrary equality: a string comparison (PEP 440), whatever status.
        let wanted = wanted.split(';').next().unwrap_or_default().trim();
        return exact(offered, wanted, |o| Some(o.eq_ignore_ascii_case(wanted)));
    }
    let specifiers = match specifiers(requirement) {
        Ok(Some(s)) => s,
        Ok(None) => return Needs::Nothing,
        Err(reason) => return Needs::unreadable(reason),
    };
    if let [only] = &*specifiers {
        if *only.operator() == Operator::Equal {
            let wanted = only.version().to_string();
            return exact(offered, &wanted, |o| parse(o).map(|v| only.contains(&v)));
        }
    }
    // pypa/packaging's `Specifier.prereleases`: any operator but `!=` that
    // names a pre-release lets pre-releases in.
    let named_pre = specifiers.iter().any(|s| {
        s.any_prerelease() && !matches!(s.operator(), Operator::NotEqual | Operator::NotEqualStar)
    });
    let finals = pick(offered, End::Newest, parse, |v| {
        specifiers.contains(v) && (named_pre || !v.any_prerelease())
    });
    if finals != Needs::Nothing || named_pre {
        return finals;
    }
    // PEP 440: pre-releases are accepted where no final release satisfies.
    pick(offered, End::Newest, parse, |v| specifiers.contains(v))
}

/// An offered version as PEP 440 reads it.
fn parse(version: &str) -> Option<Version> {
    Version::from_str(version).ok()
}

/// The specifiers of a requirement: `Ok(None)` for a URL requirement (not
/// from the index), empty for any version, `Err` with a reason when it
/// cannot be read. Markers (after `;`) are dropped, then tried in turn:
/// bare specifiers (`>=1.2,<2`, in parentheses or not), a bare version
/// (taken as `==`), then PEP 508's `name [extras] specifiers` or
/// `name [extras] @ url`.
fn specifiers(requirement: &str) -> Result<Option<VersionSpecifiers>, &'static str> {
    const INVALID: &str = "not a valid PEP 508 requirement";
    let text = requirement.split(';').next().unwrap_or_default().trim();
    if let Some(specifiers) = bare(text) {
        return Ok(Some(specifiers));
    }
    if let Ok(version) = Version::from_str(text) {
        return Ok(Some(VersionSpecifiers::from_iter([
            VersionSpecifier::equals_version(version),
        ])));
    }
    // PEP 508: a name is letters and digits, with `.`, `-`, `_` inside.
    let name_end = text
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_')))
        .unwrap_or(text.len());
    let name = &text[..name_end];
    let alnum_ends = name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric());
    let mut rest = text[name_end..].trim_start();
    if !name.is_empty() && !alnum_ends {
        return Err(INVALID);
    }
    if let Some(extras) = rest.strip_prefix('[') {
        rest = extras.split_once(']').ok_or(INVALID)?.1.trim_start();
    }
    if rest.starts_with('@') {
        return Ok(None);
    }
    bare(rest).map(Some).ok_or(INVALID)
}

/// PEP 440 specifiers, in parentheses or not (`(>=1.2,<2)`); empty is any
/// version.
fn bare(text: &str) -> Option<VersionSpecifiers> {
    let inner = text
        .strip_prefix('(')
        .and_then(|s| s.strip_suffix(')'))
        .unwrap_or(text);
    VersionSpecifiers::from_str(inner.trim()).ok()
}
