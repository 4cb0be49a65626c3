//! The CodeArtifact side of a request's validation: the members that
//! address a repository, a scope within one, and a package as CodeArtifact
//! stores its name (see [`crate::names`]).

use std::sync::LazyLock;

use regex::Regex;

use super::CA_NAME;
use crate::names;
use crate::request::checker::Checker;
use crate::request::{CodeArtifactPackage, Format, RawRequest, Scope, Service, Status, Target};

static DOMAIN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[a-z][a-z0-9\-]{0,48}[a-z0-9]$").expect("regex"));
static ACCOUNT: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^[0-9]{12}$").expect("regex"));
static REPOSITORY: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[A-Za-z0-9][A-Za-z0-9._\-]{1,99}$").expect("regex"));

impl RawRequest {
    /// The members that address a CodeArtifact repository, and `format`
    /// and `namespace` (required for one package, optional for a scope).
    /// The namespace is returned as CodeArtifact stores it.
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
            if format_required
                && f.requires_namespace()
                && self.namespace.is_none()
                && !self.package.as_deref().is_some_and(|p| p.starts_with('@'))
            {
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

    /// `namespace` as stored, checked against the model.
    fn stored_namespace(&self, c: &mut Checker, format: Option<Format>) -> Option<String> {
        let ns = self.namespace.as_deref()?;
        let stored = format.map_or_else(|| ns.to_owned(), |f| names::namespace(f, ns));
        c.check("namespace", &stored, 1, 255, &CA_NAME)
            .then_some(stored)
    }

    /// An IoT request names none of CodeArtifact's members.
    pub(super) fn forbid_codeartifact_members(&self, c: &mut Checker) {
        let why = "for iot (it is a CodeArtifact field)";
        c.forbid("domain", &self.domain, why);
        c.forbid("domainOwner", &self.domain_owner, why);
        c.forbid("repository", &self.repository, why);
        c.forbid("format", &self.format, why);
        c.forbid("namespace", &self.namespace, why);
        c.forbid("expectedStatus", &self.expected_status, why);
        c.forbid("packageGroup", &self.package_group, why);
    }

    pub(super) fn validate_codeartifact_scope(&self, c: &mut Checker) -> Option<Scope> {
        let (domain, repository, format) = self.validate_repository(c, false);
        c.forbid(
            "expectedStatus",
            &self.expected_status,
            "with `policy` (use `policy.statuses`)",
        );
        let namespace = self.stored_namespace(c, format);
        // A prefix of a name normalises to a prefix of the stored name.
        let prefix = self.package_prefix.as_deref().map(|p| match format {
            Some(f) => names::name(f, p),
            None => p.to_owned(),
        });
        if let Some(p) = &prefix {
            c.check("packagePrefix", p, 1, 255, &CA_NAME);
        }
        let package_group = self.validate_package_group(c);
        Some(Scope::CodeArtifact {
            domain: domain?.to_owned(),
            domain_owner: self.domain_owner.clone(),
            repository: repository?.to_owned(),
            format,
            namespace,
            prefix,
            package_group,
        })
    }

    pub(in crate::request) fn validate_codeartifact(&self, c: &mut Checker) -> Option<Target> {
        let (domain, repository, format) = self.validate_repository(c, true);
        let package = c.required("package", &self.package);
        let package_as_written = package.unwrap_or_default();
        let namespace = self.namespace.as_deref();
        let stored = match (format, package) {
            (_, Some(p)) if !c.allowed_chars("package", p) => None,
            (Some(f), Some(p)) => match names::package(f, namespace, p) {
                Ok(stored) => Some(stored),
                Err(problem) => {
                    c.problems.push(problem);
                    None
                }
            },
            _ => None,
        };
        if let Some((ns, p)) = &stored {
            c.check("package", p, 1, 255, &CA_NAME);
            if let Some(ns) = ns {
                c.check("namespace", ns, 1, 255, &CA_NAME);
            }
        }
        let expected_status = match self.expected_status.as_deref() {
            None => None,
            Some(s) => match Status::parse(Service::CodeArtifact, s) {
                Some(Status::CodeArtifact(status)) => Some(status),
                _ => {
                    c.problems.push(format!(
                        "`expectedStatus` must be one of {}, got {s:?}",
                        Status::names(Service::CodeArtifact).join(", ")
                    ));
                    None
                }
            },
        };
        let (namespace, stored_package) = stored?;
        let package = CodeArtifactPackage {
            domain: domain?.to_owned(),
            domain_owner: self.domain_owner.clone(),
            repository: repository?.to_owned(),
            format: format?,
            namespace,
            package: stored_package,
        };
        let as_written = CodeArtifactPackage {
            namespace: self.namespace.clone(),
            package: package_as_written.to_owned(),
            ..package.clone()
        };
        if as_written != package {
            c.written.package = Some(as_written.to_string());
        }
        Some(Target::CodeArtifact {
            package,
            expected_status,
        })
    }
}
