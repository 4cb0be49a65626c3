//! Package names, namespaces and versions as CodeArtifact stores them, and
//! how it reads them in API requests. Sources, one user guide page each:
//!
//! - "Python package name normalization": the name is lowercased and every
//!   run of `.`, `-`, `_` becomes one `-` (PEP 503); versions are not
//!   normalised. Unlike the other pages, it says "the normalized name must be
//!   used in CodeArtifact CLI or API requests": requests are not normalised.
//! - "NuGet package name, version, and asset name normalization": names are
//!   lowercased; versions are normalised as NuGet does. "CodeArtifact
//!   performs normalization on the package name and version inputs" of API
//!   requests.
//! - "Swift package name and namespace normalization": name and namespace
//!   lowercased; versions are not normalised. Inputs are normalised.
//!
//! npm, maven, generic, ruby and cargo: the guide documents no
//! normalisation, so their names and versions are left as written.
//!
//! Answers carry the stored (normalised) form; DescribePackageVersion's
//! `displayName` keeps the name as published.

use crate::state::CaPackage;

/// A package name as CodeArtifact stores it.
pub fn name(format: &str, name: &str) -> String {
    match format {
        "pypi" => pep503(name),
        "nuget" | "swift" => name.to_lowercase(),
        // npm, maven, generic, ruby, cargo: no documented normalisation.
        _ => name.to_owned(),
    }
}

/// A namespace as CodeArtifact stores it: Swift's lowercased, every other
/// format's as written (no documented normalisation).
pub fn namespace(format: &str, namespace: &str) -> String {
    match format {
        "swift" => namespace.to_lowercase(),
        _ => namespace.to_owned(),
    }
}

/// A version as CodeArtifact stores it: NuGet's normalised
/// ([`nuget_version`]), every other format's as written (Python and Swift
/// document that versions are not normalised; the others document nothing).
pub fn version(format: &str, version: &str) -> String {
    match format {
        "nuget" => nuget_version(version),
        _ => version.to_owned(),
    }
}

/// A package name given in an API request, as CodeArtifact looks it up:
/// NuGet's and Swift's normalised, Python's as written (its page: "the
/// normalized name must be used in CodeArtifact CLI or API requests", so
/// `pigeon.cli` finds nothing where `pigeon-cli` is stored).
pub fn name_input(format: &str, given: &str) -> String {
    match format {
        "pypi" => given.to_owned(),
        _ => name(format, given),
    }
}

/// ListPackages' `packagePrefix`, as it is matched against stored names.
// Undocumented: the guide says nothing of prefixes. With a format given, the
// emulator normalises the prefix as that format's names in requests (NuGet
// and Swift lowercased, which keeps a prefix a prefix); without one, it is
// matched as written.
pub fn prefix_input(format: Option<&str>, prefix: &str) -> String {
    format.map_or_else(|| prefix.to_owned(), |f| name_input(f, prefix))
}

/// PEP 503's normalised name: lowercase, every run of `.`, `-`, `_` one `-`.
pub fn pep503(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut in_run = false;
    for c in name.chars() {
        if matches!(c, '.' | '-' | '_') {
            if !in_run {
                out.push('-');
            }
            in_run = true;
        } else {
            out.extend(c.to_lowercase());
            in_run = false;
        }
    }
    out
}

/// A NuGet version normalised as the NuGet page lists, quoting NuGet's
/// "Normalized version numbers": SemVer build metadata (`+…`) removed,
/// leading zeroes removed from each numeric part (`1.01.1` → `1.1.1`), and a
/// zero fourth part omitted (`1.0.0.0` → `1.0.0`). A prerelease label
/// (`-beta`) is kept as written.
pub fn nuget_version(version: &str) -> String {
    // Undocumented: a version whose numeric part is not 1 to 4 dot-separated
    // numbers (or whose label or build metadata is empty) is not NuGet's
    // numeric form; NuGet would refuse it, the emulator leaves it as written.
    let (core, build) = match version.split_once('+') {
        Some((core, build)) => (core, Some(build)),
        None => (version, None),
    };
    let (numbers, label) = match core.split_once('-') {
        Some((numbers, label)) => (numbers, Some(label)),
        None => (core, None),
    };
    let parts: Vec<&str> = numbers.split('.').collect();
    let numeric = |p: &&str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    if parts.len() > 4
        || !parts.iter().all(numeric)
        || label.is_some_and(str::is_empty)
        || build.is_some_and(str::is_empty)
    {
        return version.to_owned();
    }
    let mut parts: Vec<&str> = parts
        .iter()
        .map(|p| match p.trim_start_matches('0') {
            "" => "0",
            t => t,
        })
        .collect();
    if parts.len() == 4 && parts[3] == "0" {
        parts.pop();
    }
    let mut out = parts.join(".");
    if let Some(label) = label {
        out.push('-');
        out.push_str(label);
    }
    out
}

/// Keeps the first of `items` with each key, in order.
pub fn dedup_by_key<T, K: Eq + std::hash::Hash>(items: &mut Vec<T>, key: impl Fn(&T) -> K) {
    let mut seen = std::collections::HashSet::with_capacity(items.len());
    items.retain(|item| seen.insert(key(item)));
}

/// A repository's seeded packages in the stored form: names, namespaces and
/// versions normalised, `displayName` the name as seeded.
// Undocumented: two seeded spellings of one package (or of one version) are
// one, as CodeArtifact stores one; the first seeded keeps its display name,
// status and times, and the versions of later spellings are added to it.
pub fn normalize_packages(packages: &mut Vec<CaPackage>) {
    let mut stored: Vec<CaPackage> = Vec::with_capacity(packages.len());
    for mut p in packages.drain(..) {
        p.display_name.get_or_insert_with(|| p.package.clone());
        p.package = name(&p.format, &p.package);
        p.namespace = p.namespace.map(|ns| namespace(&p.format, &ns));
        p.default_display_version = p.default_display_version.map(|v| version(&p.format, &v));
        for v in &mut p.versions {
            v.version = version(&p.format, &v.version);
        }
        match stored
            .iter_mut()
            .find(|q| q.is(&p.format, p.namespace.as_deref(), &p.package))
        {
            Some(first) => {
                first.versions.append(&mut p.versions);
                if first.default_display_version.is_none() {
                    first.default_display_version = p.default_display_version;
                }
            }
            None => stored.push(p),
        }
    }
    for p in &mut stored {
        dedup_by_key(&mut p.versions, |v| v.version.clone());
    }
    *packages = stored;
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
            ("1.0.0.1", "1.0.0.1"),
            ("10.0.0", "10.0.0"),
            ("1.02.0-Beta.01+sha.1", "1.2.0-Beta.01"),
            // Not NuGet's numeric form: as written.
            ("not-a-version", "not-a-version"),
            ("1.2.3.4.5", "1.2.3.4.5"),
            ("1..2", "1..2"),
            ("1.0-", "1.0-"),
            ("1.0+", "1.0+"),
            ("v1.0", "v1.0"),
        ] {
            assert_eq!(nuget_version(given), stored, "{given}");
        }
    }

    #[test]
    fn names_and_namespaces_normalise_per_format() {
        assert_eq!(name("pypi", "Pigeon_CLI"), "pigeon-cli");
        assert_eq!(name("pypi", "pigeon.cli"), "pigeon-cli");
        assert_eq!(name("pypi", "Pigeon._-CLI_"), "pigeon-cli-");
        assert_eq!(name("nuget", "Newtonsoft.JSON"), "newtonsoft.json");
        assert_eq!(name("swift", "MyPackage"), "mypackage");
        assert_eq!(namespace("swift", "MyScope"), "myscope");
        for format in ["npm", "maven", "generic", "ruby", "cargo"] {
            assert_eq!(name(format, "My_Pkg.X"), "My_Pkg.X", "{format}");
            assert_eq!(namespace(format, "Com.Acme"), "Com.Acme", "{format}");
            assert_eq!(version(format, "1.0.0.0"), "1.0.0.0", "{format}");
        }
        assert_eq!(namespace("nuget", "X"), "X");
        assert_eq!(version("pypi", "1.0.0.0"), "1.0.0.0");
        assert_eq!(version("swift", "1.0.0+b"), "1.0.0+b");
        assert_eq!(version("nuget", "1.0.0.0"), "1.0.0");
    }

    #[test]
    fn requests_are_normalised_except_python_names() {
        assert_eq!(name_input("nuget", "Acme.Logging"), "acme.logging");
        assert_eq!(name_input("swift", "MyPackage"), "mypackage");
        assert_eq!(name_input("pypi", "pigeon.cli"), "pigeon.cli");
        assert_eq!(name_input("npm", "Web"), "Web");
        assert_eq!(prefix_input(Some("nuget"), "Acme."), "acme.");
        assert_eq!(prefix_input(Some("pypi"), "Pigeon_"), "Pigeon_");
        assert_eq!(prefix_input(None, "Acme"), "Acme");
    }

    #[test]
    fn a_seed_is_stored_normalised() {
        let s = crate::state::State::from_seed(
            r#"{"codeartifact":{"domains":{"acme":{"repositories":{"r":{"packages":[
                {"format":"nuget","package":"Acme.Logging","defaultDisplayVersion":"2.01.0","versions":[
                    {"version":"1.0.0.0","status":"Archived"},{"version":"2.01.0"},{"version":"1.0.0"}]},
                {"format":"nuget","package":"ACME.LOGGING","versions":[{"version":"3.0"},{"version":"2.1.0"}]},
                {"format":"pypi","package":"Pigeon_CLI","versions":[{"version":"1.0.0.0"}]},
                {"format":"swift","namespace":"MyScope","package":"MyPackage","versions":[{"version":"1.0.0+b"}]},
                {"format":"npm","namespace":"Acme","package":"Web","versions":[{"version":"1.0.0"}]}]}}}}}}"#,
        )
        .unwrap();
        let packages = &s.codeartifact.domains["acme"].repositories["r"].packages;
        let got: Vec<(Option<&str>, &str, &str, Vec<&str>)> = packages
            .iter()
            .map(|p| {
                let versions = p.versions.iter().map(|v| v.version.as_str()).collect();
                let display = p.display_name.as_deref().unwrap();
                (
                    p.namespace.as_deref(),
                    p.package.as_str(),
                    display,
                    versions,
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (
                    None,
                    "acme.logging",
                    "Acme.Logging",
                    vec!["1.0.0", "2.1.0", "3.0"]
                ),
                (None, "pigeon-cli", "Pigeon_CLI", vec!["1.0.0.0"]),
                (Some("myscope"), "mypackage", "MyPackage", vec!["1.0.0+b"]),
                (Some("Acme"), "Web", "Web", vec!["1.0.0"]),
            ]
        );
        let nuget = &packages[0];
        assert_eq!(
            nuget.versions[0].status, "Archived",
            "the first seeded wins"
        );
        assert_eq!(nuget.default_display_version.as_deref(), Some("2.1.0"));
        let rev = nuget.versions[0].revision.as_deref();
        assert_eq!(
            rev,
            Some(crate::state::revision("acme.logging", "1.0.0").as_str())
        );
    }

    #[test]
    fn dedup_keeps_the_first_of_each_key() {
        let mut v = vec![("a", 1), ("b", 2), ("a", 3)];
        dedup_by_key(&mut v, |x| x.0);
        assert_eq!(v, [("a", 1), ("b", 2)]);
    }
}
