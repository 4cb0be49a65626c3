//! CodeArtifact's ListPackageVersionDependencies, answered from the
//! `dependencies` a seeded version declares: what CodeArtifact extracts
//! from the version's metadata file (npm's `package.json`, Maven's POM,
//! Python's `Requires-Dist`, NuGet's `.nuspec`), as written there.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::scope::{package_version, scope};
use crate::state::State;
use crate::wire::{self, optional, ApiError, Req, Service};

const S: Service = Service::CodeArtifact;

/// Dependencies per page. Undocumented: the operation takes no
/// `maxResults` and the API reference names no page size; 100 is the
/// emulator's choice, so that a client follows `nextToken`.
pub const PAGE_SIZE: usize = 100;

/// One declared dependency (the model's `PackageDependency`), in a seed:
/// `{"namespace": "acme", "package": "core", "dependencyType": "regular",
/// "versionRequirement": "^1.4.0"}`. `namespace` is absent for formats
/// without one (Python, NuGet) and for an unscoped npm package;
/// `dependencyType` is absent for NuGet (the model: "never set for NuGet
/// packages"). Names and requirements are answered as seeded: the
/// metadata's spelling, not normalised (undocumented).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Dependency {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub package: String,
    /// npm: `regular`, `dev`, `peer`, `optional`; Maven: `optional`,
    /// `parent`, `compile`, `runtime`, `test`, `system`, `provided`; Python:
    /// `Requires-Dist`; NuGet: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dependency_type: Option<String>,
    /// A version or a range, in the format's syntax: `^1.4.0`, `[1.0,2.0)`,
    /// `>=1.2,<2`.
    pub version_requirement: String,
}

/// `POST /v1/package/version/dependencies`: the version's direct
/// dependencies, in the order seeded, [`PAGE_SIZE`] at a time.
pub fn list(state: &mut State, req: &Req) -> Result<Value, ApiError> {
    let sc = scope(req, true)?;
    let token = optional(S, &wire::NEXT_TOKEN, req.q("next-token"))?;
    let offset = wire::offset_of(S, token)?;
    let (pkg, v) = package_version(state, &sc, req)?;
    let (page, next) = wire::page(&v.dependencies, offset, PAGE_SIZE);
    let dependencies: Vec<Value> = page
        .iter()
        .map(|d| serde_json::to_value(d).expect("a dependency serializes"))
        .collect();
    Ok(wire::version_page(
        pkg,
        v,
        ("dependencies", dependencies),
        next,
    ))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn req(query: &[(&str, &str)]) -> Req {
        Req::of_query("POST", query)
    }

    fn seeded() -> State {
        let deps: Vec<Value> = (0..PAGE_SIZE + 1)
            .map(|i| json!({"package": format!("dep-{i}"), "versionRequirement": "*"}))
            .collect();
        let seed = json!({"codeartifact": {"domains": {"acme": {"repositories": {"apps": {"packages": [
            {"format": "npm", "namespace": "acme", "package": "ui", "versions": [
                {"version": "3.1.0", "dependencies": [
                    {"namespace": "acme", "package": "core", "dependencyType": "regular", "versionRequirement": "^1.4.0"}]},
                {"version": "4.0.0", "dependencies": deps}]},
            {"format": "nuget", "package": "Acme.Telemetry", "versions": [
                {"version": "1.00.0", "dependencies": [
                    {"package": "Acme.Primitives", "versionRequirement": "[1.1.0, 2.0.0)"}]}]}]}}}}}});
        State::from_seed(&seed.to_string()).unwrap()
    }

    #[test]
    fn answers_the_seeded_dependencies_with_the_version_revision() {
        let mut s = seeded();
        let q = [
            ("domain", "acme"),
            ("repository", "apps"),
            ("format", "npm"),
            ("namespace", "acme"),
            ("package", "ui"),
            ("version", "3.1.0"),
        ];
        let out = list(&mut s, &req(&q)).unwrap();
        assert_eq!(
            out["dependencies"],
            json!([{"namespace": "acme", "package": "core", "dependencyType": "regular", "versionRequirement": "^1.4.0"}])
        );
        assert_eq!(
            (out["namespace"].as_str(), out["version"].as_str()),
            (Some("acme"), Some("3.1.0"))
        );
        let rev = crate::state::revision("ui", "3.1.0");
        assert_eq!(out["versionRevision"].as_str(), Some(rev.as_str()));
        assert!(out.get("nextToken").is_none());
    }

    #[test]
    fn pages_past_the_page_size() {
        let mut s = seeded();
        let mut q = vec![
            ("domain", "acme"),
            ("repository", "apps"),
            ("format", "npm"),
            ("namespace", "acme"),
            ("package", "ui"),
            ("version", "4.0.0"),
        ];
        let first = list(&mut s, &req(&q)).unwrap();
        assert_eq!(first["dependencies"].as_array().unwrap().len(), PAGE_SIZE);
        let token = first["nextToken"].as_str().unwrap().to_owned();
        q.push(("next-token", &token));
        let second = list(&mut s, &req(&q)).unwrap();
        assert_eq!(
            second["dependencies"],
            json!([{"package": format!("dep-{PAGE_SIZE}"), "versionRequirement": "*"}])
        );
        assert!(second.get("nextToken").is_none());
    }

    #[test]
    fn finds_versions_as_describe_does_and_names_what_is_missing() {
        let mut s = seeded();
        // NuGet: name and version normalised on input; no namespace, no type.
        let q = [
            ("domain", "acme"),
            ("repository", "apps"),
            ("format", "nuget"),
            ("package", "ACME.Telemetry"),
            ("version", "1.0.0.0"),
        ];
        let out = list(&mut s, &req(&q)).unwrap();
        assert_eq!(
            (out["package"].as_str(), out["version"].as_str()),
            (Some("acme.telemetry"), Some("1.0.0"))
        );
        assert!(out.get("namespace").is_none());
        assert_eq!(
            out["dependencies"][0],
            json!({"package": "Acme.Primitives", "versionRequirement": "[1.1.0, 2.0.0)"})
        );
        for (q, kind) in [
            (
                vec![
                    ("domain", "acme"),
                    ("repository", "apps"),
                    ("format", "npm"),
                    ("namespace", "acme"),
                    ("package", "ui"),
                    ("version", "9.9.9"),
                ],
                "package-version",
            ),
            (
                vec![
                    ("domain", "acme"),
                    ("repository", "apps"),
                    ("format", "npm"),
                    ("package", "ui"),
                    ("version", "3.1.0"),
                ],
                "package",
            ),
            (
                vec![
                    ("domain", "acme"),
                    ("repository", "libs"),
                    ("format", "npm"),
                    ("package", "ui"),
                    ("version", "3.1.0"),
                ],
                "repository",
            ),
            (
                vec![
                    ("domain", "other"),
                    ("repository", "apps"),
                    ("format", "npm"),
                    ("package", "ui"),
                    ("version", "3.1.0"),
                ],
                "domain",
            ),
        ] {
            let e = list(&mut s, &req(&q)).unwrap_err();
            assert_eq!((e.status, e.code), (404, "ResourceNotFoundException"));
            assert!(
                e.members.contains(&("resourceType", json!(kind))),
                "{kind}: {e:?}"
            );
        }
        let no_version = [
            ("domain", "acme"),
            ("repository", "apps"),
            ("format", "npm"),
            ("package", "ui"),
        ];
        assert_eq!(
            list(&mut s, &req(&no_version)).unwrap_err().code,
            "ValidationException"
        );
    }
}
