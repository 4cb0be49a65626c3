//! A request's validation: every field against the service model's
//! constraints, every problem reported, each naming its field. The
//! CodeArtifact-specific members are checked in [`codeartifact`].

mod codeartifact;
mod group;
mod iot;

use std::collections::BTreeSet;
use std::sync::LazyLock;

use regex::Regex;

use super::checker::Checker;
use super::*;
use crate::names;

static CA_NAME: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^[^#/\s]+$").expect("regex"));
static IOT_NAME: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[a-zA-Z0-9_.\-]+$").expect("regex"));

/// A request's shape, decided before its fields are checked.
enum Shape<'a> {
    /// An apply of a reviewed plan.
    Apply(&'a RawApply),
    /// A backfill of the index of dependencies (`indexDependencies`).
    Index,
    /// A policy over many packages.
    Scope,
    /// One package.
    One,
}

/// What every shape but an apply checks first.
struct Common {
    service: Option<Service>,
    verb: Verb,
    attempt: u32,
    dry_run: bool,
    protect_in_use: bool,
}

impl RawRequest {
    /// Like [`RawRequest::validate_job`], for a request that names one package.
    pub fn validate(&self) -> Result<Request, ValidationError> {
        match self.validate_job()? {
            Job::One(r) => Ok(r),
            Job::Many(_) | Job::Apply(_) | Job::Index(_) => Err(ValidationError {
                problems: vec![
                    "`package` is required here (the request names many packages)".into(),
                ],
            }),
        }
    }

    /// Checks every field against the service model and returns the typed
    /// request, or every problem found. The request's shape (an apply, a
    /// scope, one package) is decided first, from which fields it gives;
    /// each shape is then checked on its own.
    pub fn validate_job(&self) -> Result<Job, ValidationError> {
        let mut c = Checker {
            problems: Vec::new(),
            written: Written::default(),
        };
        let service = self.validate_service(&mut c);
        let attempt = self.validate_attempt(&mut c);
        let job = match self.shape() {
            Shape::Apply(apply) => self.validate_apply(&mut c, service, apply).map(Job::Apply),
            Shape::Index => self.validate_index(&mut c, attempt).map(Job::Index),
            shape => {
                self.validate_plan_validity(&mut c);
                let verb = self.validate_verb(&mut c, service);
                let common = Common {
                    service,
                    verb,
                    attempt,
                    dry_run: self.dry_run.unwrap_or(false),
                    protect_in_use: self.protect_in_use(&mut c, service),
                };
                let retention = self.validate_retention(&mut c, service, verb);
                match shape {
                    Shape::Scope => self
                        .validate_scope(&mut c, &common, retention)
                        .map(Job::Many),
                    _ => self.validate_one(&mut c, &common, retention).map(Job::One),
                }
            }
        };
        match job {
            Some(job) if c.problems.is_empty() => Ok(job),
            _ => Err(ValidationError {
                problems: c.problems,
            }),
        }
    }

    /// What the request is, from the fields it gives: an apply of a plan
    /// (`apply` naming one), a scope (`policy` without `package`), or one
    /// package.
    fn shape(&self) -> Shape<'_> {
        if self.index_dependencies == Some(true) {
            return Shape::Index;
        }
        if let Some(apply) = self.apply.as_ref().filter(|a| a.names_a_plan()) {
            return Shape::Apply(apply);
        }
        match self.policy.is_some() && self.package.is_none() {
            true => Shape::Scope,
            false => Shape::One,
        }
    }

    /// `service`: "codeartifact" or "iot".
    fn validate_service(&self, c: &mut Checker) -> Option<Service> {
        match self.service.as_deref() {
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
        }
    }

    /// `attempt`, from 1 (the default).
    fn validate_attempt(&self, c: &mut Checker) -> u32 {
        match self.attempt {
            Some(0) => {
                c.problems.push("`attempt` counts from 1".into());
                1
            }
            Some(n) => n,
            None => 1,
        }
    }

    /// A scope: a policy over the packages a prefix (or a repository, or
    /// an IoT catalog) holds.
    fn validate_scope(
        &self,
        c: &mut Checker,
        common: &Common,
        retention: Option<Retention>,
    ) -> Option<ScopeRequest> {
        if self.versions.is_some() || self.delete_package.is_some() {
            c.problems
                .push("give `policy`, `versions` or `deletePackage`, only one".into());
        }
        c.forbid(
            "apply",
            &self.apply,
            "with a scope: an apply's plan names its packages",
        );
        let scope = match common.service {
            Some(Service::CodeArtifact) => self.validate_codeartifact_scope(c),
            Some(Service::Iot) => self.validate_iot_scope(c),
            None => None,
        };
        if self.continues.is_some() && !common.dry_run {
            c.problems
                .push("`continues` is allowed only on a scope's dry run".into());
        }
        Some(ScopeRequest {
            scope: scope?,
            retention: Box::new(retention?),
            verb: common.verb,
            unset_default_version: self.unset_default(),
            protect_in_use: common.protect_in_use,
            dry_run: common.dry_run,
            attempt: common.attempt,
            no_progress: self.no_progress.unwrap_or(0),
            continues: self.continues.clone(),
        })
    }

    /// One package: named versions, a policy, or the whole package.
    fn validate_one(
        &self,
        c: &mut Checker,
        common: &Common,
        retention: Option<Retention>,
    ) -> Option<Request> {
        let service = common.service;
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
        c.forbid(
            "packageGroup",
            &self.package_group,
            "with `package` (give one or the other), nor without `policy`",
        );
        let action = match retention {
            Some(r) => Some(self.validate_retain(c, service, r)),
            None if self.policy.is_some() => None,
            None => self.validate_named(c, service),
        };
        let verb = common.verb;
        if action == Some(Action::DeletePackage) && verb != Verb::Delete {
            c.problems.push(format!(
                "`deletePackage` deletes; it cannot be combined with `action: {verb}`"
            ));
        }
        let target = match service {
            Some(Service::CodeArtifact) => self.validate_codeartifact(c),
            Some(Service::Iot) => self.validate_iot(c, common.protect_in_use),
            None => None,
        };
        Some(Request {
            target: target?,
            action: action?,
            verb,
            attempt: common.attempt,
            no_progress: self.no_progress.unwrap_or(0),
            dry_run: common.dry_run,
            written: std::mem::take(&mut c.written),
        })
    }

    /// One package's policy, with the `versions` a replay narrows it to and
    /// the reviewed plan an `apply.planId` binds it to.
    fn validate_retain(
        &self,
        c: &mut Checker,
        service: Option<Service>,
        mut r: Retention,
    ) -> Action {
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
            .and_then(|vs| self.validate_versions(c, service, self.format(service), vs));
        // `apply` beside them: one package of a reviewed plan.
        r.planned = self
            .apply
            .as_ref()
            .and_then(|a| self.validate_planned(c, a));
        Action::Retain(Box::new(r))
    }

    /// One package's named versions, or the package itself.
    fn validate_named(&self, c: &mut Checker, service: Option<Service>) -> Option<Action> {
        c.forbid(
            "apply",
            &self.apply,
            "here: an apply of a plan gives `apply.report` or `apply.plan` (and no `apply.planId`), and `apply.planId` binds one package's `policy` and `versions` to a plan",
        );
        c.forbid("maxDeletions", &self.max_deletions, "without `policy`");
        c.forbid("maxFraction", &self.max_fraction, "without `policy`");
        self.validate_action(c, service, self.format(service))
    }

    /// The CodeArtifact format, which decides the stored form of names and
    /// versions (checked, with its own problem, in `validate_repository`).
    fn format(&self, service: Option<Service>) -> Option<Format> {
        match service {
            Some(Service::CodeArtifact) => self.format.as_deref().and_then(Format::parse),
            _ => None,
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
        let Some(raw) = self.policy.as_ref() else {
            self.validate_measure_storage(c, service, verb);
            return None;
        };
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
            measure_storage: self.validate_measure_storage(c, service, verb),
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
}
