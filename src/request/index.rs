//! `indexDependencies`: a backfill of the index of dependencies of one
//! CodeArtifact domain. The request names the domain; the function lists
//! every repository and package of it and fans out one part per package
//! (each with `backfill`, written by the function, never a caller). It
//! only reads the registry, so `ALLOWED_TARGETS` (what may change) does
//! not govern it.

use serde::{Deserialize, Serialize};

use super::checker::Checker;
use super::{CodeArtifactPackage, RawRequest, Target};

/// Which backfill a part belongs to and which part it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BackfillPart {
    /// The backfill's id (a UUID, given by the request that began it).
    pub(crate) id: String,
    /// The part's number, from 0.
    pub(crate) part: u64,
}

/// A validated backfill request, or one part of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexRequest {
    pub(crate) domain: String,
    pub(crate) domain_owner: Option<String>,
    /// A part: one package, and which part (none: the whole domain, to
    /// list and fan out).
    pub(crate) part: Option<(BackfillPart, CodeArtifactPackage)>,
    /// A part handed on: only these versions are left to index.
    pub(crate) versions: Option<Vec<String>>,
    pub(crate) attempt: u32,
    pub(crate) no_progress: u32,
}

impl IndexRequest {
    /// `dependencies of <domain>` or of one package.
    pub(crate) fn label(&self) -> String {
        match &self.part {
            Some((_, p)) => format!("dependencies of {p}"),
            None => format!("dependencies of domain {}", self.domain),
        }
    }

    /// The part of `package`, number `part` of backfill `id`.
    pub(crate) fn part(&self, id: &str, part: u64, package: CodeArtifactPackage) -> IndexRequest {
        IndexRequest {
            part: Some((
                BackfillPart {
                    id: id.to_owned(),
                    part,
                },
                package,
            )),
            versions: None,
            attempt: 1,
            no_progress: 0,
            ..self.clone()
        }
    }

    /// The wire form; `versions` narrows a part to what is left.
    pub(crate) fn to_raw(&self, versions: Option<&[String]>, attempt: Option<u32>) -> RawRequest {
        let mut raw = RawRequest {
            service: Some("codeartifact".into()),
            domain: Some(self.domain.clone()),
            domain_owner: self.domain_owner.clone(),
            index_dependencies: Some(true),
            attempt: attempt.or(Some(self.attempt)).filter(|a| *a > 1),
            no_progress: Some(self.no_progress).filter(|n| *n > 0),
            ..RawRequest::default()
        };
        if let Some((part, p)) = &self.part {
            raw.backfill = Some(part.clone());
            raw.repository = Some(p.repository.clone());
            raw.format = Some(p.format.as_str().to_owned());
            raw.namespace = p.namespace.clone();
            raw.package = Some(p.package.clone());
            raw.versions = versions.map(<[String]>::to_vec).or(self.versions.clone());
        }
        raw
    }
}

impl RawRequest {
    /// `indexDependencies: true`: the domain (and, on a part, its package);
    /// nothing that changes versions.
    pub(super) fn validate_index(&self, c: &mut Checker, attempt: u32) -> Option<IndexRequest> {
        if self.service.as_deref() != Some("codeartifact") {
            c.problems
                .push("`indexDependencies` indexes a CodeArtifact domain: `service` must be \"codeartifact\"".into());
        }
        for (field, given) in [
            ("policy", self.policy.is_some()),
            ("deletePackage", self.delete_package.is_some()),
            ("action", self.action.is_some()),
            ("apply", self.apply.is_some()),
            ("packagePrefix", self.package_prefix.is_some()),
            ("expectedStatus", self.expected_status.is_some()),
            ("maxDeletions", self.max_deletions.is_some()),
            ("dryRun", self.dry_run.is_some()),
            ("maxFraction", self.max_fraction.is_some()),
            ("planValidForDays", self.plan_valid_for_days.is_some()),
            ("protectInUse", self.protect_in_use.is_some()),
            ("unsetDefaultVersion", self.unset_default_version.is_some()),
            ("packageGroup", self.package_group.is_some()),
            ("measureStorage", self.measure_storage.is_some()),
        ] {
            if given {
                c.problems.push(format!(
                    "`{field}` cannot be combined with `indexDependencies` (a backfill only reads)"
                ));
            }
        }
        let part = match &self.backfill {
            Some(b) => self.backfill_package(c).map(|p| (b.clone(), p)),
            None => {
                let named = [
                    &self.repository,
                    &self.package,
                    &self.format,
                    &self.namespace,
                ];
                if named.iter().any(|f| f.is_some()) || self.versions.is_some() {
                    c.problems.push("`indexDependencies` indexes a whole domain: give `domain` (and `domainOwner`), not a repository, format, namespace, package or versions".into());
                }
                None
            }
        };
        let domain = c.required("domain", &self.domain)?;
        Some(IndexRequest {
            domain: domain.to_owned(),
            domain_owner: self.domain_owner.clone(),
            part,
            versions: self.versions.clone(),
            attempt,
            no_progress: self.no_progress.unwrap_or(0),
        })
    }

    /// A part's package, checked as any package is.
    fn backfill_package(&self, c: &mut Checker) -> Option<CodeArtifactPackage> {
        match self.validate_codeartifact(c)? {
            Target::CodeArtifact { package, .. } => Some(package),
            Target::Iot { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Job, RawRequest};
    use serde_json::json;

    fn job(v: serde_json::Value) -> Result<Job, Vec<String>> {
        let raw: RawRequest = serde_json::from_value(v).map_err(|e| vec![e.to_string()])?;
        raw.validate_job().map_err(|e| e.problems)
    }

    /// A backfill names a CodeArtifact domain and nothing that changes
    /// versions; each refusal names its field.
    #[test]
    fn a_backfill_names_a_domain_and_only_reads() {
        let ok =
            job(json!({"service": "codeartifact", "domain": "acme", "indexDependencies": true}));
        assert!(
            matches!(ok, Ok(Job::Index(ref i)) if i.domain == "acme" && i.part.is_none()),
            "{ok:?}"
        );
        for (extra, field) in [
            (json!({"service": "iot"}), "service"),
            (json!({"policy": {"keepLatest": 1}}), "policy"),
            (json!({"dryRun": true}), "dryRun"),
            (json!({"repository": "releases"}), "repository"),
        ] {
            let mut r =
                json!({"service": "codeartifact", "domain": "acme", "indexDependencies": true});
            r.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            let problems = job(r).expect_err(field);
            assert!(
                problems.iter().any(|p| p.contains(field)),
                "{field}: {problems:?}"
            );
        }
        let missing = job(json!({"service": "codeartifact", "indexDependencies": true}));
        assert!(missing.is_err_and(|p| p.iter().any(|p| p.contains("domain"))));
    }

    /// A part, as the function writes it on the work queue and hands it
    /// on, validates back to itself (names as stored).
    #[test]
    fn a_part_round_trips() {
        let Ok(Job::Index(whole)) =
            job(json!({"service": "codeartifact", "domain": "acme", "indexDependencies": true}))
        else {
            panic!("valid")
        };
        let Ok(Job::One(one)) = job(
            json!({"service": "codeartifact", "domain": "acme", "repository": "apps",
            "format": "npm", "namespace": "@acme", "package": "ui", "versions": ["1.0.0"]}),
        ) else {
            panic!("valid")
        };
        let super::super::Target::CodeArtifact { package, .. } = one.target else {
            panic!("codeartifact")
        };
        let part = whole.part("b-1", 7, package);
        let versions = ["3.1.0".to_owned()];
        let raw = part.to_raw(Some(&versions), Some(2));
        let again = raw.validate_job().expect("valid");
        let Job::Index(again) = again else {
            panic!("{again:?}")
        };
        assert_eq!(again.part, part.part);
        assert_eq!(again.versions.as_deref(), Some(&versions[..]));
        assert_eq!(again.attempt, 2);
    }
}
