//! The two CodeArtifact fields of issue 29: `packageGroup`, a scope named
//! by a package group's pattern, and `measureStorage`, which reads what a
//! run's deletes free.

use std::sync::LazyLock;

use regex::Regex;

use crate::request::checker::Checker;
use crate::request::{RawRequest, Service, Verb};

/// `PackageGroupPattern` in botocore's model (codeartifact 2018-09-22):
/// 2 to 520 characters, none a control character or white space.
static GROUP_PATTERN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[^\p{C}\s]+$").expect("regex"));

impl RawRequest {
    /// `packageGroup`: the model's `PackageGroupPattern`, and a pattern as
    /// the CodeArtifact User Guide writes them (from `/`, like
    /// `/npm/acme/*`). Allowed only where the request is a CodeArtifact
    /// scope (a policy without `package` or `packagePrefix`).
    pub(super) fn validate_package_group(&self, c: &mut Checker) -> Option<String> {
        let pattern = self.package_group.as_deref()?;
        c.forbid(
            "packagePrefix",
            &self.package_prefix,
            "with `packageGroup` (give one or the other)",
        );
        if !c.check("packageGroup", pattern, 2, 520, &GROUP_PATTERN) {
            return None;
        }
        if !pattern.starts_with('/') {
            c.problems.push(format!(
                "`packageGroup` is a package group's pattern, which starts with `/` (like `/npm/acme/*`), got {pattern:?}"
            ));
            return None;
        }
        Some(pattern.to_owned())
    }

    /// `measureStorage`: CodeArtifact only (IoT's catalog holds no
    /// assets), with `policy` (its versions are what is measured), and
    /// for deletes (an archived or unlisted version keeps its assets).
    pub(super) fn validate_measure_storage(
        &self,
        c: &mut Checker,
        service: Option<Service>,
        verb: Verb,
    ) -> bool {
        if self.measure_storage != Some(true) {
            return false;
        }
        if service == Some(Service::Iot) {
            c.problems.push(
                "`measureStorage` is a CodeArtifact setting: IoT software package versions have no assets in the catalog, so a delete frees no storage to count".into(),
            );
        }
        if self.policy.is_none() {
            c.problems.push(
                "`measureStorage` needs `policy`: it measures the versions a policy deletes or plans to".into(),
            );
        }
        if verb != Verb::Delete {
            c.problems.push(format!(
                "`measureStorage` counts what deletes free; `action: {verb}` keeps each version's assets"
            ));
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use crate::request::{Job, RawRequest, Scope};

    fn job(v: Value) -> Result<Job, String> {
        let raw: RawRequest = serde_json::from_value(v).map_err(|e| e.to_string())?;
        raw.validate_job().map_err(|e| e.to_string())
    }

    fn group(extra: Value) -> Value {
        let mut v = json!({"service": "codeartifact", "domain": "acme", "repository": "releases",
            "packageGroup": "/npm/acme/*", "policy": {"keepLatest": 2}});
        for (k, x) in extra.as_object().unwrap() {
            v[k] = x.clone();
        }
        v
    }

    #[test]
    fn a_group_is_a_scope_that_travels_whole() {
        let Ok(Job::Many(s)) = job(group(json!({"measureStorage": true}))) else {
            panic!("a scope")
        };
        assert!(
            matches!(&s.scope, Scope::CodeArtifact { package_group: Some(g), .. } if g == "/npm/acme/*")
        );
        assert_eq!(s.label(), "acme/releases/group:/npm/acme/*");
        assert!(s.retention.measure_storage);
        // What fans out and hands on is the same request.
        let raw = s.to_raw(Some(2));
        assert_eq!(raw.package_group.as_deref(), Some("/npm/acme/*"));
        assert_eq!(raw.measure_storage, Some(true));
        let Ok(Job::Many(again)) = raw.validate_job() else {
            panic!("a scope")
        };
        assert_eq!(again.scope, s.scope);
        // Each package's request measures too.
        let p = s.for_package(&crate::request::PackageRef::CodeArtifact {
            format: crate::request::Format::Npm,
            namespace: Some("acme".into()),
            package: "core".into(),
        });
        assert_eq!(p.to_raw(None, None).measure_storage, Some(true));
    }

    #[test]
    fn a_group_goes_only_where_a_scope_does() {
        for (extra, says) in [
            (
                json!({"package": "core", "format": "npm", "namespace": "acme"}),
                "`packageGroup` is not allowed with `package`",
            ),
            (
                json!({"packagePrefix": "co"}),
                "`packagePrefix` is not allowed with `packageGroup`",
            ),
            (json!({"packageGroup": "npm/acme/*"}), "starts with `/`"),
            (json!({"packageGroup": "/npm/acme /*"}), "packageGroup"),
            (
                json!({"service": "iot", "domain": null, "repository": null}),
                "`packageGroup` is not allowed for iot",
            ),
        ] {
            let mut v = group(extra);
            v.as_object_mut().unwrap().retain(|_, x| !x.is_null());
            let e = job(v).unwrap_err();
            assert!(e.contains(says), "{says:?} not in {e}");
        }
        let mut v = group(json!({}));
        v.as_object_mut().unwrap().remove("policy");
        v["versions"] = json!(["1.0.0"]);
        let e = job(v).unwrap_err();
        assert!(e.contains("packageGroup"), "{e}");
    }

    #[test]
    fn storage_is_measured_only_where_a_delete_frees_it() {
        let iot = json!({"service": "iot", "package": "fw", "policy": {"keepLatest": 2}, "measureStorage": true});
        assert!(job(iot)
            .unwrap_err()
            .contains("IoT software package versions have no assets"));
        let archive = group(json!({"measureStorage": true, "action": "archive"}));
        assert!(job(archive)
            .unwrap_err()
            .contains("`action: archive` keeps"));
        let explicit = json!({"service": "codeartifact", "domain": "acme", "repository": "r", "format": "pypi",
            "package": "p", "versions": ["1"], "measureStorage": true});
        assert!(job(explicit)
            .unwrap_err()
            .contains("`measureStorage` needs `policy`"));
        // A backfill only reads: neither field has a meaning there.
        for field in ["measureStorage", "packageGroup"] {
            let mut index =
                json!({"service": "codeartifact", "domain": "acme", "indexDependencies": true});
            index[field] = if field == "measureStorage" {
                json!(true)
            } else {
                json!("/npm/*")
            };
            let e = job(index).unwrap_err();
            assert!(
                e.contains(&format!(
                    "`{field}` cannot be combined with `indexDependencies`"
                )),
                "{e}"
            );
        }
        let off = group(json!({"measureStorage": false}));
        let Ok(Job::Many(s)) = job(off) else {
            panic!("a scope")
        };
        assert!(!s.retention.measure_storage);
    }
}
