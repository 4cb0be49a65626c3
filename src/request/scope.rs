//! Scoped policy requests: a policy for every package of a repository (or of
//! the IoT catalog), or for those whose names start with a prefix, and how
//! such a scope turns into one request per package it holds.

use super::{
    Action, CodeArtifactPackage, Continues, Format, InUseCheck, RawRequest, Request, Service,
    Target, Verb, Written,
};
use crate::policy::Retention;

/// The packages a scoped policy request covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Scope {
    CodeArtifact {
        domain: String,
        domain_owner: Option<String>,
        repository: String,
        format: Option<Format>,
        namespace: Option<String>,
        prefix: Option<String>,
        /// `packageGroup`: a package group's pattern; the scope is the
        /// packages CodeArtifact associates with that group (its most
        /// specific) that the repository holds.
        package_group: Option<String>,
    },
    Iot {
        prefix: Option<String>,
    },
}

/// One package a scope listing found.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum PackageRef {
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
    pub(crate) scope: Scope,
    pub(crate) retention: Box<Retention>,
    pub(crate) verb: Verb,
    pub(crate) unset_default_version: bool,
    pub(crate) protect_in_use: bool,
    pub(crate) dry_run: bool,
    pub(crate) attempt: u32,
    /// The invocations in a row that made no progress on it.
    pub(crate) no_progress: u32,
    /// A dry run's plan continued from an earlier invocation.
    pub(crate) continues: Option<Continues>,
}

impl ScopeRequest {
    pub(crate) fn service(&self) -> Service {
        match self.scope {
            Scope::CodeArtifact { .. } => Service::CodeArtifact,
            Scope::Iot { .. } => Service::Iot,
        }
    }

    pub(crate) fn label(&self) -> String {
        match &self.scope {
            Scope::CodeArtifact {
                domain,
                repository,
                format,
                namespace,
                prefix,
                package_group,
                ..
            } => {
                let mut l = format!("{domain}/{repository}/");
                if let Some(g) = package_group {
                    // `acme/releases/group:/npm/acme/*`, narrowed as given.
                    l.push_str("group:");
                    l.push_str(g);
                    if let Some(f) = format {
                        l.push_str(&format!(" ({}", f.as_str()));
                        if let Some(ns) = namespace {
                            l.push('/');
                            l.push_str(ns);
                        }
                        l.push(')');
                    }
                    return l;
                }
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

    pub(crate) fn to_raw(&self, attempt: Option<u32>) -> RawRequest {
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
                package_group,
            } => {
                raw.package_group = package_group.clone();
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
                raw.protect_in_use = (!self.protect_in_use).then_some(false);
            }
        }
        raw.action = (self.verb != Verb::Delete).then(|| self.verb.as_str().to_owned());
        raw.set_retention(&self.retention);
        raw.continues = self.continues.clone();
        raw
    }

    /// The same policy for one package the scope holds.
    pub(crate) fn for_package(&self, p: &PackageRef) -> Request {
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
                in_use: InUseCheck::of(self.protect_in_use),
            },
        };
        Request {
            target,
            action: Action::Retain(self.retention.clone()),
            verb: self.verb,
            attempt: self.attempt,
            no_progress: 0,
            dry_run: self.dry_run,
            written: Written::default(),
        }
    }
}
