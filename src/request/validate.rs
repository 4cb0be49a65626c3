//! A request's validation: every field against the service model's
//! constraints, every problem reported, each naming its field. The
//! CodeArtifact-specific members are checked in [`codeartifact`].

mod codeartifact;

use std::collections::BTreeSet;
use std::sync::LazyLock;

use regex::Regex;

use super::checker::Checker;
use super::*;
use crate::names;

static CA_NAME: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^[^#/\s]+$").expect("regex"));
static IOT_NAME: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[a-zA-Z0-9_.\-]+$").expect("regex"));

impl RawRequest {
    /// Like [`RawRequest::validate_job`], for a request that names one package.
    pub fn validate(&self) -> Result<Request, ValidationError> {
        match self.validate_job()? {
            Job::One(r) => Ok(r),
            Job::Many(_) | Job::Apply(_) => Err(ValidationError {
                problems: vec![
                    "`package` is required here (the request names many packages)".into(),
                ],
            }),
        }
    }

    /// Checks every field against the service model and returns the typed
    /// request, or every problem found.
    pub fn validate_job(&self) -> Result<Job, ValidationError> {
        let mut c = Checker {
            problems: Vec::new(),
            written: Written::default(),
        };
        let service = match self.service.as_deref() {
            Some("codeartifact") => Some(Service::CodeArtifact),
            Some("iot") => Some(Service::Iot),
            Some(other) => {
                c.problems.push(format!(
                    "`service` must be \"codeartifact\" or \"iot\", got {other:?}"
                ));
                None
            }
            None => {
                c.problems
                    .push("`service` is required (\"codeartifact\" or \"iot\")".into());
                None
            }
        };
        // The stored form of names and versions depends on the format
        // (checked, with its own problem, in `validate_repository`).
        let format = match service {
            Some(Service::CodeArtifact) => self.format.as_deref().and_then(Format::parse),
            _ => None,
        };
        let attempt = match self.attempt {
            Some(0) => {
                c.problems.push("`attempt` counts from 1".into());
                1
            }
            Some(n) => n,
            None => 1,
        };
        if let Some(apply) = self.apply.as_ref().filter(|a| a.names_a_plan()) {
            return match self.validate_apply(&mut c, service, apply) {
                Some(a) if c.problems.is_empty() => Ok(Job::Apply(a)),
                _ => Err(ValidationError {
                    problems: c.problems,
                }),
            };
        }
        self.validate_plan_validity(&mut c);
        let dry_run = self.dry_run.unwrap_or(false);
        let verb = self.validate_verb(&mut c, service);
        let protect_in_use = self.protect_in_use(&mut c, service);
        let retention = self.validate_retention(&mut c, service, verb);
        if self.policy.is_some() && self.package.is_none() {
            if self.versions.is_some() || self.delete_package.is_some() {
                c.problems
                    .push("give `policy`, `versions` or `deletePackage`, only one".into());
            }
            c.forbid(
                "apply",
                &self.apply,
                "with a scope: an apply's plan names its packages",
            );
            let scope = match service {
                Some(Service::CodeArtifact) => self.validate_codeartifact_scope(&mut c),
                Some(Service::Iot) => self.validate_iot_scope(&mut c),
                None => None,
            };
            if self.continues.is_some() && !dry_run {
                c.problems
                    .push("`continues` is allowed only on a scope's dry run".into());
            }
            return match (scope, retention) {
                (Some(scope), Some(retention)) if c.problems.is_empty() => {
                    Ok(Job::Many(ScopeRequest {
                        scope,
                        retention: Box::new(retention),
                        verb,
                        unset_default_version: self.unset_default(),
                        protect_in_use,
                        dry_run,
                        attempt,
                        no_progress: self.no_progress.unwrap_or(0),
                        continues: self.continues.clone(),
                    }))
                }
                _ => Err(ValidationError {
                    problems: c.problems,
                }),
            };
        }
        c.forbid(
            "packagePrefix",
            &self.package_prefix,
            "with `package` (give one or the other), nor without `policy`",
        );
        c.forbid(
            "continues",
            &self.continues,
            "with one package (it continues a scope's plan)",
        );
        let action = match retention {
            Some(mut r) => {
                c.forbid(
                    "expectedStatus",
                    &self.expected_status,
                    "with `policy` (use `policy.statuses`)",
                );
                if self.delete_package.is_some() {
                    c.problems
                        .push("give `policy` or `deletePackage`, not both".into());
                }
                // `versions` beside `policy`: a replay narrowed to them.
                r.only = self
                    .versions
                    .as_ref()
                    .and_then(|vs| self.validate_versions(&mut c, service, format, vs));
                // `apply` beside them: one package of a reviewed plan.
                r.planned = self
                    .apply
                    .as_ref()
                    .and_then(|a| self.validate_planned(&mut c, a));
                Some(Action::Retain(Box::new(r)))
            }
            None if self.policy.is_some() => None,
            None => {
                c.forbid(
                    "apply",
                    &self.apply,
                    "here: an apply of a plan gives `apply.report` or `apply.plan` (and no `apply.planId`), and `apply.planId` binds one package's `policy` and `versions` to a plan",
                );
                c.forbid("maxDeletions", &self.max_deletions, "without `policy`");
                c.forbid("maxFraction", &self.max_fraction, "without `policy`");
                self.validate_action(&mut c, service, format)
            }
        };
        if action == Some(Action::DeletePackage) && verb != Verb::Delete {
            c.problems.push(format!(
                "`deletePackage` deletes; it cannot be combined with `action: {verb}`"
            ));
        }
        let target = match service {
            Some(Service::CodeArtifact) => self.validate_codeartifact(&mut c),
            Some(Service::Iot) => self.validate_iot(&mut c, protect_in_use),
            None => None,
        };
        match (target, action) {
            (Some(target), Some(action)) if c.problems.is_empty() => Ok(Job::One(Request {
                target,
                action,
                verb,
                attempt,
                no_progress: self.no_progress.unwrap_or(0),
                dry_run,
                written: c.written,
            })),
            _ => Err(ValidationError {
                problems: c.problems,
            }),
        }
    }

    /// `unsetDefaultVersion`, at the request's top level or in its policy.
    fn unset_default(&self) -> bool {
        self.unset_default_version.unwrap_or(false)
            || self
                .policy
                .as_ref()
                .and_then(|p| p.unset_default_version)
                .unwrap_or(false)
    }

    /// A setting given at the top level, in `policy`, or both (then alike).
    fn either<T: PartialEq + Clone + std::fmt::Debug>(
        c: &mut Checker,
        field: &str,
        top: &Option<T>,
        inner: Option<&Option<T>>,
    ) -> Option<T> {
        match (top, inner.and_then(Option::as_ref)) {
            (Some(a), Some(b)) if a != b => {
                c.problems.push(format!(
                    "`{field}` is {a:?} but `policy.{field}` is {b:?}; give it once"
                ));
                None
            }
            (Some(a), _) => Some(a.clone()),
            (None, b) => b.cloned(),
        }
    }

    /// `action`, at the top level or in `policy`; `delete` when unset.
    fn validate_verb(&self, c: &mut Checker, service: Option<Service>) -> Verb {
        let inner = self.policy.as_ref().map(|p| &p.action);
        let Some(text) = Self::either(c, "action", &self.action, inner) else {
            return Verb::Delete;
        };
        let Some(verb) = Verb::parse(&text) else {
            c.problems.push(format!(
                "`action` must be one of {}, got {text:?}",
                Verb::ALL.map(Verb::as_str).join(", ")
            ));
            return Verb::Delete;
        };
        if let Some(s) = service.filter(|s| !verb.offered_by(*s)) {
            let offered: Vec<&str> = Verb::ALL
                .into_iter()
                .filter(|v| v.offered_by(s))
                .map(Verb::as_str)
                .collect();
            c.problems.push(format!(
                "`action: {verb}` is not offered by {s}; {s} offers {}",
                offered.join(", ")
            ));
        }
        verb
    }

    /// `protectInUse`, at the top level or in `policy`: IoT only, default on.
    fn protect_in_use(&self, c: &mut Checker, service: Option<Service>) -> bool {
        let inner = self.policy.as_ref().map(|p| &p.protect_in_use);
        let given = Self::either(c, "protectInUse", &self.protect_in_use, inner);
        if service == Some(Service::CodeArtifact) && self.protect_in_use.is_some() {
            c.problems.push(
                "`protectInUse` is an IoT setting (CodeArtifact has no record of installs)".into(),
            );
        }
        given.unwrap_or(true)
    }

    fn validate_retention(
        &self,
        c: &mut Checker,
        service: Option<Service>,
        verb: Verb,
    ) -> Option<Retention> {
        let raw = self.policy.as_ref()?;
        let policy = raw.validate(service?, verb, &mut c.problems);
        let max_fraction_milli = match self.max_fraction {
            Some(f) if f > 0.0 && f <= 1.0 => Some((f * 1000.0).round() as u32),
            Some(f) => {
                c.problems.push(format!(
                    "`maxFraction` must be above 0 and at most 1, got {f}"
                ));
                None
            }
            None => None,
        };
        Some(Retention {
            policy: policy?,
            raw: raw.clone(),
            max_deletions: self.max_deletions,
            max_fraction_milli,
            only: None,
            planned: None,
            plan_valid_for_days: self.plan_valid_for_days,
        })
    }

    fn validate_iot_scope(&self, c: &mut Checker) -> Option<Scope> {
        self.forbid_codeartifact_members(c);
        if let Some(p) = &self.package_prefix {
            c.check("packagePrefix", p, 1, 128, &IOT_NAME);
        }
        Some(Scope::Iot {
            prefix: self.package_prefix.clone(),
        })
    }

    fn validate_action(
        &self,
        c: &mut Checker,
        service: Option<Service>,
        format: Option<Format>,
    ) -> Option<Action> {
        match (&self.versions, self.delete_package) {
            (Some(_), Some(true)) => {
                c.problems
                    .push("give either `versions` or `deletePackage: true`, not both".into());
                None
            }
            (None, Some(true)) => Some(Action::DeletePackage),
            (None, _) => {
                c.problems
                    .push("`versions` (a list) or `deletePackage: true` is required".into());
                None
            }
            (Some(versions), _) => self
                .validate_versions(c, service, format, versions)
                .map(Action::Versions),
        }
    }

    /// A version list: not empty, every name valid, as CodeArtifact stores
    /// it (two spellings of one NuGet version are one), distinct in
    /// first-given order.
    fn validate_versions(
        &self,
        c: &mut Checker,
        service: Option<Service>,
        format: Option<Format>,
        versions: &[String],
    ) -> Option<Vec<String>> {
        if versions.is_empty() {
            c.problems
                .push("`versions` must name at least one version".into());
            return None;
        }
        let (min, max, pattern) = match service {
            Some(Service::Iot) => (1, 64, &*IOT_NAME),
            _ => (1, 255, &*CA_NAME),
        };
        let mut seen = BTreeSet::new();
        let mut distinct = Vec::with_capacity(versions.len());
        for (i, v) in versions.iter().enumerate() {
            let stored = format.map_or_else(|| v.clone(), |f| names::version(f, v));
            let field = format!("versions[{i}]");
            if c.check(&field, v, min, max, pattern)
                && c.check(&field, &stored, min, max, pattern)
                && seen.insert(stored.clone())
            {
                if stored != *v {
                    c.written.versions.insert(stored.clone(), v.clone());
                }
                distinct.push(stored);
            }
        }
        Some(distinct)
    }

    fn validate_iot(&self, c: &mut Checker, protect_in_use: bool) -> Option<Target> {
        let package = c.required("package", &self.package);
        self.forbid_codeartifact_members(c);
        if let Some(p) = package {
            c.check("package", p, 1, 128, &IOT_NAME);
        }
        Some(Target::Iot {
            package: package?.to_owned(),
            unset_default_version: self.unset_default(),
            protect_in_use,
        })
    }
}
