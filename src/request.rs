//! The deletion request: the public JSON contract, and its validation against
//! the service models' constraints. Nothing reaches AWS without passing
//! [`RawRequest::validate`].

use std::collections::BTreeSet;
use std::fmt;
use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::policy::{RawPolicy, Retention};

/// The request as it travels: field names follow the AWS API member names.
/// Unknown fields are rejected, so a typo such as `verisons` never turns into
/// a different deletion than the one intended.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RawRequest {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain_owner: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repository: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub package: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub versions: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected_status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delete_package: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unset_default_version: Option<bool>,
    /// With `policy` and no `package`: the packages whose names start so.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub package_prefix: Option<String>,
    /// A retention policy in place of `versions`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy: Option<RawPolicy>,
    /// Delete nothing; report the plan.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dry_run: Option<bool>,
    /// With `policy`: the most versions one run deletes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_deletions: Option<u32>,
    /// With `policy`: skip a package whose plan would delete more than this
    /// share of its versions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_fraction: Option<f64>,
    /// Hand-on counter: 1 for a fresh request, raised each time unfinished
    /// work is re-enqueued.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attempt: Option<u32>,
    /// Present on dead-letter messages. Accepted (and ignored) so that a
    /// dead-letter message can be redriven as it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<Value>,
}

/// The services a request can address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Service {
    #[serde(rename = "codeartifact")]
    CodeArtifact,
    Iot,
}

impl Service {
    pub fn as_str(self) -> &'static str {
        match self {
            Service::CodeArtifact => "codeartifact",
            Service::Iot => "iot",
        }
    }
}

impl fmt::Display for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// CodeArtifact's PackageFormat enum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Format {
    Npm,
    Pypi,
    Maven,
    Nuget,
    Generic,
    Ruby,
    Swift,
    Cargo,
}

impl Format {
    pub const ALL: [Format; 8] = [
        Format::Npm,
        Format::Pypi,
        Format::Maven,
        Format::Nuget,
        Format::Generic,
        Format::Ruby,
        Format::Swift,
        Format::Cargo,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Format::Npm => "npm",
            Format::Pypi => "pypi",
            Format::Maven => "maven",
            Format::Nuget => "nuget",
            Format::Generic => "generic",
            Format::Ruby => "ruby",
            Format::Swift => "swift",
            Format::Cargo => "cargo",
        }
    }

    pub fn parse(s: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.as_str() == s)
    }

    /// maven, swift and generic packages always have a namespace.
    pub fn requires_namespace(self) -> bool {
        matches!(self, Format::Maven | Format::Swift | Format::Generic)
    }

    /// pypi, nuget, ruby and cargo packages never have one.
    pub fn allows_namespace(self) -> bool {
        matches!(
            self,
            Format::Npm | Format::Maven | Format::Swift | Format::Generic
        )
    }
}

/// CodeArtifact's PackageVersionStatus enum, as accepted by `expectedStatus`.
pub const VERSION_STATUSES: [&str; 6] = [
    "Published",
    "Unfinished",
    "Unlisted",
    "Archived",
    "Disposed",
    "Deleted",
];

/// One CodeArtifact package, fully addressed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CodeArtifactPackage {
    pub domain: String,
    pub domain_owner: Option<String>,
    pub repository: String,
    pub format: Format,
    pub namespace: Option<String>,
    pub package: String,
}

impl fmt::Display for CodeArtifactPackage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{}/{}/",
            self.domain,
            self.repository,
            self.format.as_str()
        )?;
        if let Some(ns) = &self.namespace {
            write!(f, "{ns}/")?;
        }
        f.write_str(&self.package)
    }
}

/// What a request addresses, per service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    CodeArtifact {
        package: CodeArtifactPackage,
        expected_status: Option<String>,
    },
    Iot {
        package: String,
        unset_default_version: bool,
    },
}

impl Target {
    pub fn service(&self) -> Service {
        match self {
            Target::CodeArtifact { .. } => Service::CodeArtifact,
            Target::Iot { .. } => Service::Iot,
        }
    }

    /// The package as it appears in logs and summaries.
    pub fn package_label(&self) -> String {
        match self {
            Target::CodeArtifact { package, .. } => package.to_string(),
            Target::Iot { package, .. } => package.clone(),
        }
    }
}

/// What to delete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// These versions, distinct, in the order first given.
    Versions(Vec<String>),
    /// The whole package.
    DeletePackage,
    /// The versions a retention policy selects.
    Retain(Box<Retention>),
}

/// A validated request: every field has passed the service model's checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub target: Target,
    pub action: Action,
    /// 1 for a fresh request; raised on each hand-on.
    pub attempt: u32,
    /// Delete nothing; report what would be deleted.
    pub dry_run: bool,
}

impl Request {
    /// The wire form of this request, narrowed to `versions` when given, with
    /// `attempt` set (hand-on) or cleared (dead letter: a redrive starts over).
    pub fn to_raw(&self, versions: Option<&[String]>, attempt: Option<u32>) -> RawRequest {
        let mut raw = RawRequest {
            service: Some(self.target.service().as_str().to_owned()),
            attempt,
            ..RawRequest::default()
        };
        match &self.target {
            Target::CodeArtifact {
                package,
                expected_status,
            } => {
                raw.domain = Some(package.domain.clone());
                raw.domain_owner = package.domain_owner.clone();
                raw.repository = Some(package.repository.clone());
                raw.format = Some(package.format.as_str().to_owned());
                raw.namespace = package.namespace.clone();
                raw.package = Some(package.package.clone());
                raw.expected_status = expected_status.clone();
            }
            Target::Iot {
                package,
                unset_default_version,
            } => {
                raw.package = Some(package.clone());
                raw.unset_default_version = unset_default_version.then_some(true);
            }
        }
        match (&self.action, versions) {
            // A policy's versions travel with the policy, so that a replay
            // checks again everything that made them deletable.
            (Action::Retain(r), Some(vs)) => r.narrowed(vs).write_raw(&mut raw),
            (Action::Retain(r), None) => r.write_raw(&mut raw),
            // Narrowed: the versions themselves.
            (_, Some(vs)) => raw.versions = Some(vs.to_vec()),
            (Action::Versions(vs), None) => raw.versions = Some(vs.clone()),
            (Action::DeletePackage, None) => raw.delete_package = Some(true),
        }
        raw.dry_run = self.dry_run.then_some(true);
        raw
    }
}

/// The packages a scoped policy request covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    CodeArtifact {
        domain: String,
        domain_owner: Option<String>,
        repository: String,
        format: Option<Format>,
        namespace: Option<String>,
        prefix: Option<String>,
    },
    Iot {
        prefix: Option<String>,
    },
}

/// One package a scope listing found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PackageRef {
    CodeArtifact {
        format: Format,
        namespace: Option<String>,
        package: String,
    },
    Iot {
        package: String,
    },
}

/// A policy request for many packages: every package of a repository (or
/// of the IoT catalog), or those whose names start with a prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopeRequest {
    pub scope: Scope,
    pub retention: Box<Retention>,
    pub unset_default_version: bool,
    pub dry_run: bool,
    pub attempt: u32,
}

impl ScopeRequest {
    pub fn service(&self) -> Service {
        match self.scope {
            Scope::CodeArtifact { .. } => Service::CodeArtifact,
            Scope::Iot { .. } => Service::Iot,
        }
    }

    pub fn label(&self) -> String {
        match &self.scope {
            Scope::CodeArtifact {
                domain,
                repository,
                format,
                namespace,
                prefix,
                ..
            } => {
                let mut l = format!("{domain}/{repository}/");
                l.push_str(format.map_or("*", Format::as_str));
                if let Some(ns) = namespace {
                    l.push('/');
                    l.push_str(ns);
                }
                l.push('/');
                l.push_str(prefix.as_deref().unwrap_or(""));
                l.push('*');
                l
            }
            Scope::Iot { prefix } => format!("{}*", prefix.as_deref().unwrap_or("")),
        }
    }

    pub fn to_raw(&self, attempt: Option<u32>) -> RawRequest {
        let mut raw = RawRequest {
            service: Some(self.service().as_str().to_owned()),
            attempt,
            dry_run: self.dry_run.then_some(true),
            ..RawRequest::default()
        };
        match &self.scope {
            Scope::CodeArtifact {
                domain,
                domain_owner,
                repository,
                format,
                namespace,
                prefix,
            } => {
                raw.domain = Some(domain.clone());
                raw.domain_owner = domain_owner.clone();
                raw.repository = Some(repository.clone());
                raw.format = format.map(|f| f.as_str().to_owned());
                raw.namespace = namespace.clone();
                raw.package_prefix = prefix.clone();
            }
            Scope::Iot { prefix } => {
                raw.package_prefix = prefix.clone();
                raw.unset_default_version = self.unset_default_version.then_some(true);
            }
        }
        self.retention.write_raw(&mut raw);
        raw
    }

    /// The same policy for one package the scope holds.
    pub fn for_package(&self, p: &PackageRef) -> Request {
        let target = match (&self.scope, p) {
            (
                Scope::CodeArtifact {
                    domain,
                    domain_owner,
                    repository,
                    ..
                },
                PackageRef::CodeArtifact {
                    format,
                    namespace,
                    package,
                },
            ) => Target::CodeArtifact {
                package: CodeArtifactPackage {
                    domain: domain.clone(),
                    domain_owner: domain_owner.clone(),
                    repository: repository.clone(),
                    format: *format,
                    namespace: namespace.clone(),
                    package: package.clone(),
                },
                expected_status: None,
            },
            (_, PackageRef::Iot { package })
            | (Scope::Iot { .. }, PackageRef::CodeArtifact { package, .. }) => Target::Iot {
                package: package.clone(),
                unset_default_version: self.unset_default_version,
            },
        };
        Request {
            target,
            action: Action::Retain(self.retention.clone()),
            attempt: self.attempt,
            dry_run: self.dry_run,
        }
    }
}

/// What a valid request asks for: one package, or a scope of many.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Job {
    One(Request),
    Many(ScopeRequest),
}

impl Job {
    pub fn service(&self) -> Service {
        match self {
            Job::One(r) => r.target.service(),
            Job::Many(s) => s.service(),
        }
    }

    pub fn label(&self) -> String {
        match self {
            Job::One(r) => r.target.package_label(),
            Job::Many(s) => s.label(),
        }
    }

    pub fn attempt(&self) -> u32 {
        match self {
            Job::One(r) => r.attempt,
            Job::Many(s) => s.attempt,
        }
    }

    /// Makes it a dry run (the `DRY_RUN` override).
    pub fn force_dry_run(&mut self) {
        match self {
            Job::One(r) => r.dry_run = true,
            Job::Many(s) => s.dry_run = true,
        }
    }

    /// See [`Request::to_raw`]; a scope is never narrowed.
    pub fn to_raw(&self, versions: Option<&[String]>, attempt: Option<u32>) -> RawRequest {
        match self {
            Job::One(r) => r.to_raw(versions, attempt),
            Job::Many(s) => s.to_raw(attempt),
        }
    }
}

/// Every reason a request was refused, each naming its field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid request: {}", .problems.join("; "))]
pub struct ValidationError {
    pub problems: Vec<String>,
}

static DOMAIN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[a-z][a-z0-9\-]{0,48}[a-z0-9]$").expect("regex"));
static ACCOUNT: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^[0-9]{12}$").expect("regex"));
static REPOSITORY: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[A-Za-z0-9][A-Za-z0-9._\-]{1,99}$").expect("regex"));
static CA_NAME: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^[^#/\s]+$").expect("regex"));
static IOT_NAME: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[a-zA-Z0-9_.\-]+$").expect("regex"));

struct Checker {
    problems: Vec<String>,
}

impl Checker {
    fn check(&mut self, field: &str, value: &str, min: usize, max: usize, pattern: &Regex) -> bool {
        let len = value.chars().count();
        if len < min || len > max {
            self.problems.push(format!(
                "`{field}` must be {min} to {max} characters long, got {len}"
            ));
            false
        } else if !pattern.is_match(value) {
            self.problems.push(format!(
                "`{field}` {value:?} does not match {}",
                pattern.as_str()
            ));
            false
        } else {
            true
        }
    }

    fn required<'a>(&mut self, field: &str, value: &'a Option<String>) -> Option<&'a str> {
        if value.is_none() {
            self.problems.push(format!("`{field}` is required"));
        }
        value.as_deref()
    }

    fn forbid<T>(&mut self, field: &str, value: &Option<T>, why: &str) {
        if value.is_some() {
            self.problems
                .push(format!("`{field}` is not allowed {why}"));
        }
    }
}

impl RawRequest {
    /// Like [`RawRequest::validate_job`], for a request that names one package.
    pub fn validate(&self) -> Result<Request, ValidationError> {
        match self.validate_job()? {
            Job::One(r) => Ok(r),
            Job::Many(_) => Err(ValidationError {
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
        let attempt = match self.attempt {
            Some(0) => {
                c.problems.push("`attempt` counts from 1".into());
                1
            }
            Some(n) => n,
            None => 1,
        };
        let dry_run = self.dry_run.unwrap_or(false);
        let retention = self.validate_retention(&mut c, service);
        if self.policy.is_some() && self.package.is_none() {
            if self.versions.is_some() || self.delete_package.is_some() {
                c.problems
                    .push("give `policy`, `versions` or `deletePackage`, only one".into());
            }
            let scope = match service {
                Some(Service::CodeArtifact) => self.validate_codeartifact_scope(&mut c),
                Some(Service::Iot) => self.validate_iot_scope(&mut c),
                None => None,
            };
            return match (scope, retention) {
                (Some(scope), Some(retention)) if c.problems.is_empty() => {
                    Ok(Job::Many(ScopeRequest {
                        scope,
                        retention: Box::new(retention),
                        unset_default_version: self.unset_default(),
                        dry_run,
                        attempt,
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
                    .and_then(|vs| self.validate_versions(&mut c, service, vs));
                Some(Action::Retain(Box::new(r)))
            }
            None if self.policy.is_some() => None,
            None => {
                c.forbid("maxDeletions", &self.max_deletions, "without `policy`");
                c.forbid("maxFraction", &self.max_fraction, "without `policy`");
                self.validate_action(&mut c, service)
            }
        };
        let target = match service {
            Some(Service::CodeArtifact) => self.validate_codeartifact(&mut c),
            Some(Service::Iot) => self.validate_iot(&mut c),
            None => None,
        };
        match (target, action) {
            (Some(target), Some(action)) if c.problems.is_empty() => Ok(Job::One(Request {
                target,
                action,
                attempt,
                dry_run,
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

    fn validate_retention(&self, c: &mut Checker, service: Option<Service>) -> Option<Retention> {
        let raw = self.policy.as_ref()?;
        let policy = raw.validate(service?, &mut c.problems);
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
        })
    }

    /// The members that address a CodeArtifact repository, and `format`
    /// and `namespace` (required for one package, optional for a scope).
    fn validate_repository<'a>(
        &'a self,
        c: &mut Checker,
        format_required: bool,
    ) -> (Option<&'a str>, Option<&'a str>, Option<Format>) {
        let domain = c.required("domain", &self.domain);
        let repository = c.required("repository", &self.repository);
        let format = if format_required {
            c.required("format", &self.format)
        } else {
            self.format.as_deref()
        };
        c.forbid(
            "unsetDefaultVersion",
            &self.unset_default_version,
            "for codeartifact (it is an IoT setting)",
        );
        if let Some(d) = domain {
            c.check("domain", d, 2, 50, &DOMAIN);
        }
        if let Some(o) = &self.domain_owner {
            c.check("domainOwner", o, 12, 12, &ACCOUNT);
        }
        if let Some(r) = repository {
            c.check("repository", r, 2, 100, &REPOSITORY);
        }
        if let Some(ns) = &self.namespace {
            c.check("namespace", ns, 1, 255, &CA_NAME);
        }
        let format = format.and_then(|f| {
            let parsed = Format::parse(f);
            if parsed.is_none() {
                c.problems.push(format!(
                    "`format` must be one of {}, got {f:?}",
                    Format::ALL.map(Format::as_str).join(", ")
                ));
            }
            parsed
        });
        if let Some(f) = format {
            if format_required && f.requires_namespace() && self.namespace.is_none() {
                c.problems.push(format!(
                    "`namespace` is required for {} packages",
                    f.as_str()
                ));
            }
            if !f.allows_namespace() && self.namespace.is_some() {
                c.problems.push(format!(
                    "`namespace` is not allowed for {} packages (they have none)",
                    f.as_str()
                ));
            }
        }
        (domain, repository, format)
    }

    /// An IoT request names none of CodeArtifact's members.
    fn forbid_codeartifact_members(&self, c: &mut Checker) {
        let why = "for iot (it is a CodeArtifact field)";
        c.forbid("domain", &self.domain, why);
        c.forbid("domainOwner", &self.domain_owner, why);
        c.forbid("repository", &self.repository, why);
        c.forbid("format", &self.format, why);
        c.forbid("namespace", &self.namespace, why);
        c.forbid("expectedStatus", &self.expected_status, why);
    }

    fn validate_codeartifact_scope(&self, c: &mut Checker) -> Option<Scope> {
        let (domain, repository, format) = self.validate_repository(c, false);
        c.forbid(
            "expectedStatus",
            &self.expected_status,
            "with `policy` (use `policy.statuses`)",
        );
        if let Some(p) = &self.package_prefix {
            c.check("packagePrefix", p, 1, 255, &CA_NAME);
        }
        Some(Scope::CodeArtifact {
            domain: domain?.to_owned(),
            domain_owner: self.domain_owner.clone(),
            repository: repository?.to_owned(),
            format,
            namespace: self.namespace.clone(),
            prefix: self.package_prefix.clone(),
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

    fn validate_action(&self, c: &mut Checker, service: Option<Service>) -> Option<Action> {
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
                .validate_versions(c, service, versions)
                .map(Action::Versions),
        }
    }

    /// A version list: not empty, every name valid, distinct in first-given order.
    fn validate_versions(
        &self,
        c: &mut Checker,
        service: Option<Service>,
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
            if c.check(&format!("versions[{i}]"), v, min, max, pattern) && seen.insert(v.as_str()) {
                distinct.push(v.clone());
            }
        }
        Some(distinct)
    }

    fn validate_codeartifact(&self, c: &mut Checker) -> Option<Target> {
        let (domain, repository, format) = self.validate_repository(c, true);
        let package = c.required("package", &self.package);
        if let Some(p) = package {
            c.check("package", p, 1, 255, &CA_NAME);
        }
        if let Some(s) = &self.expected_status {
            if !VERSION_STATUSES.contains(&s.as_str()) {
                c.problems.push(format!(
                    "`expectedStatus` must be one of {}, got {s:?}",
                    VERSION_STATUSES.join(", ")
                ));
            }
        }
        Some(Target::CodeArtifact {
            package: CodeArtifactPackage {
                domain: domain?.to_owned(),
                domain_owner: self.domain_owner.clone(),
                repository: repository?.to_owned(),
                format: format?,
                namespace: self.namespace.clone(),
                package: package?.to_owned(),
            },
            expected_status: self.expected_status.clone(),
        })
    }

    fn validate_iot(&self, c: &mut Checker) -> Option<Target> {
        let package = c.required("package", &self.package);
        self.forbid_codeartifact_members(c);
        if let Some(p) = package {
            c.check("package", p, 1, 128, &IOT_NAME);
        }
        Some(Target::Iot {
            package: package?.to_owned(),
            unset_default_version: self.unset_default(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(v: Value) -> RawRequest {
        serde_json::from_value(v).expect("deserializes")
    }

    #[test]
    fn codeartifact_example_from_the_readme_is_valid() {
        let r = raw(serde_json::json!({"service":"codeartifact","domain":"acme","domainOwner":"111122223333","repository":"releases","format":"npm","namespace":"acme","package":"web","versions":["1.0.0","1.0.1"],"expectedStatus":"Unlisted"}))
            .validate()
            .expect("valid");
        assert_eq!(
            r.action,
            Action::Versions(vec!["1.0.0".into(), "1.0.1".into()])
        );
        assert_eq!(r.attempt, 1);
        assert_eq!(r.target.package_label(), "acme/releases/npm/acme/web");
    }

    #[test]
    fn iot_example_is_valid_and_duplicates_collapse() {
        let r = raw(serde_json::json!({"service":"iot","package":"thermostat-fw","versions":["1.0.0","1.1.0","1.0.0"],"unsetDefaultVersion":true}))
            .validate()
            .expect("valid");
        assert_eq!(
            r.action,
            Action::Versions(vec!["1.0.0".into(), "1.1.0".into()])
        );
        assert_eq!(
            r.target,
            Target::Iot {
                package: "thermostat-fw".into(),
                unset_default_version: true
            }
        );
    }

    #[test]
    fn every_problem_is_reported_with_its_field() {
        let err = raw(serde_json::json!({"service":"codeartifact","domain":"Acme","domainOwner":"12","repository":"r","format":"maven","package":"a/b","versions":["ok", "bad version"],"expectedStatus":"Gone"}))
            .validate()
            .expect_err("invalid");
        let text = err.to_string();
        for field in [
            "`domain`",
            "`domainOwner`",
            "`repository`",
            "`package`",
            "`versions[1]`",
            "`namespace` is required for maven",
            "`expectedStatus`",
        ] {
            assert!(text.contains(field), "{field} missing from: {text}");
        }
        assert_eq!(err.problems.len(), 7, "{text}");
    }

    #[test]
    fn iot_names_follow_the_iot_model() {
        let long = "v".repeat(65);
        let err = raw(serde_json::json!({"service":"iot","package":"fw pkg","versions":[long],"domain":"acme"}))
            .validate()
            .expect_err("invalid");
        assert_eq!(err.problems.len(), 3, "{err}");
    }

    #[test]
    fn action_must_be_exactly_one_of_versions_or_delete_package() {
        for v in [
            serde_json::json!({"service":"iot","package":"p"}),
            serde_json::json!({"service":"iot","package":"p","versions":[]}),
            serde_json::json!({"service":"iot","package":"p","versions":["1"],"deletePackage":true}),
            serde_json::json!({"service":"iot","package":"p","deletePackage":false}),
        ] {
            assert!(raw(v.clone()).validate().is_err(), "{v}");
        }
        let r = raw(serde_json::json!({"service":"iot","package":"p","deletePackage":true}))
            .validate()
            .expect("valid");
        assert_eq!(r.action, Action::DeletePackage);
    }

    #[test]
    fn namespace_rules_follow_the_format() {
        let pypi = raw(
            serde_json::json!({"service":"codeartifact","domain":"acme","repository":"rr","format":"pypi","namespace":"x","package":"p","versions":["1"]}),
        );
        assert!(pypi
            .validate()
            .unwrap_err()
            .to_string()
            .contains("not allowed for pypi"));
        let npm = raw(
            serde_json::json!({"service":"codeartifact","domain":"acme","repository":"rr","format":"npm","package":"p","versions":["1"]}),
        );
        assert!(npm.validate().is_ok());
    }

    #[test]
    fn unknown_fields_and_services_are_refused() {
        let typo: Result<RawRequest, _> = serde_json::from_value(
            serde_json::json!({"service":"iot","package":"p","verisons":["1"]}),
        );
        assert!(typo.unwrap_err().to_string().contains("verisons"));
        let err = raw(serde_json::json!({"service":"ecr","package":"p","versions":["1"]}))
            .validate()
            .unwrap_err();
        assert!(err.to_string().contains("\"ecr\""));
    }

    #[test]
    fn to_raw_round_trips_and_narrows() {
        let original = raw(
            serde_json::json!({"service":"codeartifact","domain":"acme","repository":"releases","format":"maven","namespace":"com.acme","package":"svc","versions":["1","2","3"],"expectedStatus":"Published"}),
        );
        let req = original.validate().unwrap();
        assert_eq!(req.to_raw(None, None), original);
        let narrowed = req.to_raw(Some(&["2".to_string()]), Some(3));
        assert_eq!(narrowed.versions, Some(vec!["2".to_string()]));
        assert_eq!(narrowed.attempt, Some(3));
        assert_eq!(narrowed.validate().unwrap().attempt, 3);
    }
}
