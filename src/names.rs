//! Names and versions as CodeArtifact stores them, and the characters no
//! registry allows.
//!
//! CodeArtifact normalises some formats' names (and NuGet's versions) before
//! it stores them, normalises API inputs the same way, and answers with the
//! normalised form (listings, the keys of `successfulVersions` and
//! `failedVersions`, events, ARNs). A request is normalised here, once, at
//! validation, so that every later comparison (answers, listings, replays,
//! duplicates, the allow-list) is between stored forms. Sources, one user
//! guide page per format:
//! - "Python package name normalization": lowercase, and every run of `.`,
//!   `-`, `_` becomes one `-` (PEP 503). Versions are not normalised.
//! - "NuGet package name, version, and asset name normalization": names
//!   lowercase; versions as NuGet normalises them (leading zeroes removed, a
//!   zero fourth part dropped, SemVer build metadata dropped).
//! - "Swift package name and namespace normalization": name and namespace
//!   lowercase. Versions are not normalised.
//! - npm: the namespace is the scope **without** `@` (the model's
//!   `namespace` documentation); `@scope/name` is how npm users write it.
//! - maven, generic, ruby, cargo: the guide documents no normalisation, so
//!   names are left as written.

use std::sync::LazyLock;

use regex::Regex;

use crate::service::Format;

/// PEP 503: a run of `-`, `_` or `.`.
static PEP503_SEPARATORS: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"[-_.]+").expect("regex"));

/// A package's namespace and name as CodeArtifact stores them.
///
/// npm: `namespace: "@acme"` is the scope `acme`; `package: "@acme/web"`
/// with no namespace is scope `acme`, package `web`. Errors: a problem
/// naming the field (`package` holding a scope beside `namespace`, or an
/// empty scope).
pub(crate) fn package(
    format: Format,
    namespace: Option<&str>,
    package: &str,
) -> Result<(Option<String>, String), String> {
    let (namespace, package) = match format {
        Format::Npm => npm(namespace, package)?,
        _ => (namespace.map(str::to_owned), package.to_owned()),
    };
    Ok((
        namespace.map(|ns| self::namespace(format, &ns)),
        name(format, &package),
    ))
}

/// The npm scope written with `@`, in `namespace` or in `package`.
fn npm(namespace: Option<&str>, package: &str) -> Result<(Option<String>, String), String> {
    let scoped = package
        .strip_prefix('@')
        .map(|rest| rest.split_once('/').unwrap_or((rest, "")));
    match (namespace, scoped) {
        (None, Some((scope, name))) if !scope.is_empty() && !name.is_empty() => {
            Ok((Some(scope.to_owned()), name.to_owned()))
        }
        (None, Some(_)) => Err(format!(
            "`package` {package:?} is not an npm scoped name (`@scope/name`); give the scope in `namespace` without `@` and the name in `package`"
        )),
        (Some(_), Some(_)) => Err(format!(
            "`package` {package:?} holds an npm scope beside `namespace`; give the scope once, in `namespace` (without `@`)"
        )),
        (ns, None) => Ok((ns.map(str::to_owned), package.to_owned())),
    }
}

/// A namespace as stored: npm's without `@`, Swift's lowercase.
pub(crate) fn namespace(format: Format, namespace: &str) -> String {
    match format {
        Format::Npm => namespace.strip_prefix('@').unwrap_or(namespace).to_owned(),
        Format::Swift => namespace.to_lowercase(),
        _ => namespace.to_owned(),
    }
}

/// A package name as stored (also used for `packagePrefix`: a prefix of a
/// name normalises to a prefix of the stored name for these rules).
pub(crate) fn name(format: Format, name: &str) -> String {
    match format {
        Format::Pypi => PEP503_SEPARATORS.replace_all(name, "-").to_lowercase(),
        Format::Nuget | Format::Swift => name.to_lowercase(),
        _ => name.to_owned(),
    }
}

/// A version as stored: NuGet's normalised form, every other format's as
/// written.
pub(crate) fn version(format: Format, version: &str) -> String {
    match format {
        Format::Nuget => nuget_version(version),
        _ => version.to_owned(),
    }
}

/// NuGet's normalised version ("Normalized version numbers", NuGet docs, as
/// the CodeArtifact guide quotes them): build metadata (`+…`) dropped,
/// leading zeroes removed from each numeric part, and a zero fourth part
/// dropped. A release label (`-beta.01`) is kept as written. A version whose
/// numeric part is not 1 to 4 dot-separated numbers is not a NuGet version
/// and is left as written (NuGet would refuse it).
///
/// No maintained Rust crate implements NuGet's versioning (searched
/// crates.io), so the three documented rules are written here.
pub(crate) fn nuget_version(version: &str) -> String {
    let without_build = version.split_once('+').map_or(version, |(v, _)| v);
    let (numbers, label) = match without_build.split_once('-') {
        Some((n, l)) => (n, Some(l)),
        None => (without_build, None),
    };
    let parts: Vec<&str> = numbers.split('.').collect();
    let numeric = |p: &&str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    if parts.is_empty() || parts.len() > 4 || !parts.iter().all(numeric) {
        return version.to_owned();
    }
    let mut parts: Vec<String> = parts
        .iter()
        .map(|p| {
            let t = p.trim_start_matches('0');
            if t.is_empty() { "0" } else { t }.to_owned()
        })
        .collect();
    if parts.len() == 4 && parts[3] == "0" {
        parts.pop();
    }
    let mut out = parts.join(".");
    if let Some(l) = label {
        out.push('-');
        out.push_str(l);
    }
    out
}

/// The first character of `text` that no package registry allows in a name:
/// a control character (NUL, C0, DEL, C1) or an invisible bidirectional
/// formatting character (U+061C, U+200E, U+200F, U+202A to U+202E, U+2066
/// to U+2069), which would make a name display as another. The models'
/// patterns (`[^#/\s]+`) let these through.
pub(crate) fn forbidden_char(text: &str) -> Option<char> {
    text.chars().find(|c| {
        c.is_control()
            || matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nuget_versions_normalise_as_the_guide_lists() {
        for (given, stored) in [
            ("1.00", "1.0"),
            ("1.01.1", "1.1.1"),
            ("1.00.0.1", "1.0.0.1"),
            ("1.0.0.0", "1.0.0"),
            ("1.0.01.0", "1.0.1"),
            ("1.0.7+r3456", "1.0.7"),
            ("2.01.0", "2.1.0"),
            ("12.0.03.0", "12.0.3"),
            ("1.0.0-beta.01+build", "1.0.0-beta.01"),
            ("1.0.0.1", "1.0.0.1"),
            ("not-a-version", "not-a-version"),
            ("1.2.3.4.5", "1.2.3.4.5"),
        ] {
            assert_eq!(nuget_version(given), stored, "{given}");
        }
    }

    #[test]
    fn names_normalise_per_format() {
        assert_eq!(name(Format::Pypi, "Pigeon_CLI"), "pigeon-cli");
        assert_eq!(name(Format::Pypi, "pigeon.__-cli"), "pigeon-cli");
        assert_eq!(name(Format::Nuget, "Newtonsoft.JSON"), "newtonsoft.json");
        assert_eq!(name(Format::Swift, "MyPackage"), "mypackage");
        assert_eq!(namespace(Format::Swift, "MyScope"), "myscope");
        assert_eq!(name(Format::Maven, "Svc_Core"), "Svc_Core");
        assert_eq!(name(Format::Npm, "JSONStream"), "JSONStream");
        assert_eq!(version(Format::Pypi, "1.0.0.0"), "1.0.0.0");
        assert_eq!(version(Format::Nuget, "1.0.0.0"), "1.0.0");
    }

    #[test]
    fn npm_scopes_are_stored_without_the_at_sign() {
        let ok = |ns: Option<&str>, p: &str| package(Format::Npm, ns, p).unwrap();
        assert_eq!(
            ok(Some("@acme"), "web"),
            (Some("acme".into()), "web".into())
        );
        assert_eq!(ok(None, "@acme/web"), (Some("acme".into()), "web".into()));
        assert_eq!(ok(Some("acme"), "web"), (Some("acme".into()), "web".into()));
        assert_eq!(ok(None, "web"), (None, "web".into()));
        let refused = package(Format::Npm, Some("acme"), "@acme/web").unwrap_err();
        assert!(refused.contains("`namespace`"), "{refused}");
        assert!(package(Format::Npm, None, "@/web").is_err());
        assert!(package(Format::Npm, None, "@acme").is_err());
    }

    #[test]
    fn control_and_bidirectional_characters_are_found() {
        assert_eq!(forbidden_char("web"), None);
        assert_eq!(forbidden_char("wé-b_1.0"), None);
        assert_eq!(forbidden_char("we\0b"), Some('\0'));
        assert_eq!(forbidden_char("web\u{7f}"), Some('\u{7f}'));
        assert_eq!(forbidden_char("1.0\u{202E}0.1"), Some('\u{202E}'));
        assert_eq!(forbidden_char("\u{2066}x"), Some('\u{2066}'));
        assert_eq!(forbidden_char("x\u{9f}"), Some('\u{9f}'));
    }
}
