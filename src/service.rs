//! The services, CodeArtifact's enums, and both services' version statuses,
//! as the service models name them.

use std::fmt;

use aws_sdk_codeartifact::types::PackageVersionStatus as CodeArtifactStatus;
use aws_sdk_iot::types::PackageVersionStatus as IotStatus;
use serde::Serialize;

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

    /// `codeartifact` or `iot`, as a request's `service` names it.
    pub fn parse(s: &str) -> Option<Service> {
        [Service::CodeArtifact, Service::Iot]
            .into_iter()
            .find(|v| v.as_str() == s)
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
    pub(crate) const ALL: [Format; 8] = [
        Format::Npm,
        Format::Pypi,
        Format::Maven,
        Format::Nuget,
        Format::Generic,
        Format::Ruby,
        Format::Swift,
        Format::Cargo,
    ];

    pub(crate) fn as_str(self) -> &'static str {
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

    pub(crate) fn parse(s: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.as_str() == s)
    }

    /// maven, swift and generic packages always have a namespace.
    pub(crate) fn requires_namespace(self) -> bool {
        matches!(self, Format::Maven | Format::Swift | Format::Generic)
    }

    /// pypi, nuget, ruby and cargo packages never have one.
    pub(crate) fn allows_namespace(self) -> bool {
        matches!(
            self,
            Format::Npm | Format::Maven | Format::Swift | Format::Generic
        )
    }
}

/// A version's status, in its own service's enum: CodeArtifact's
/// `PackageVersionStatus` (Published, Unfinished, Unlisted, Archived,
/// Disposed, Deleted) or IoT's (DRAFT, PUBLISHED, DEPRECATED), both from the
/// SDK. Strings become statuses only where the wire or a request carries
/// them ([`Status::parse`]) and go back with [`Status::as_str`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Status {
    CodeArtifact(CodeArtifactStatus),
    Iot(IotStatus),
}

impl Status {
    /// CodeArtifact's Published, the status a listing's versions mostly have.
    pub(crate) const PUBLISHED: Status = Status::CodeArtifact(CodeArtifactStatus::Published);
    /// CodeArtifact's Archived.
    pub(crate) const ARCHIVED: Status = Status::CodeArtifact(CodeArtifactStatus::Archived);

    /// A status of `service`, spelled as its model spells it; `None` for
    /// any other string (the SDK's `Unknown` is never made here).
    pub fn parse(service: Service, s: &str) -> Option<Status> {
        Status::names(service).contains(&s).then(|| match service {
            Service::CodeArtifact => Status::CodeArtifact(CodeArtifactStatus::from(s)),
            Service::Iot => Status::Iot(IotStatus::from(s)),
        })
    }

    /// A status of either service, spelled as its model spells it (the
    /// two models share no spelling: `Published`, `PUBLISHED`). For
    /// tests' listings.
    #[cfg(test)]
    pub(crate) fn named(s: &str) -> Option<Status> {
        Status::parse(Service::CodeArtifact, s).or_else(|| Status::parse(Service::Iot, s))
    }

    /// Every status `service` has, as its model spells them, in the
    /// model's order. The set is the model's, not the SDK's `values()`: an
    /// SDK that learns a status does not widen what a request may name.
    pub(crate) fn names(service: Service) -> Vec<&'static str> {
        match service {
            Service::CodeArtifact => [
                CodeArtifactStatus::Published,
                CodeArtifactStatus::Unfinished,
                CodeArtifactStatus::Unlisted,
                CodeArtifactStatus::Archived,
                CodeArtifactStatus::Disposed,
                CodeArtifactStatus::Deleted,
            ]
            .iter()
            .map(|s| s.as_str())
            .collect(),
            Service::Iot => [
                IotStatus::Draft,
                IotStatus::Published,
                IotStatus::Deprecated,
            ]
            .iter()
            .map(|s| s.as_str())
            .collect(),
        }
    }

    /// The status as its service spells it.
    pub(crate) fn as_str(&self) -> &str {
        match self {
            Status::CodeArtifact(s) => s.as_str(),
            Status::Iot(s) => s.as_str(),
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a request does to the versions it selects: the `action` field.
/// Only `delete` cannot be undone.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verb {
    /// DeletePackageVersions (CodeArtifact), DeletePackageVersion (IoT).
    #[default]
    Delete,
    /// CodeArtifact UpdatePackageVersionsStatus to `Archived`: not
    /// installable, restorable.
    Archive,
    /// CodeArtifact UpdatePackageVersionsStatus to `Unlisted`: installable,
    /// hidden from listings.
    Unlist,
    /// IoT UpdatePackageVersion with `action: DEPRECATE`.
    Deprecate,
}

impl Verb {
    pub(crate) const ALL: [Verb; 4] = [Verb::Delete, Verb::Archive, Verb::Unlist, Verb::Deprecate];

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Verb::Delete => "delete",
            Verb::Archive => "archive",
            Verb::Unlist => "unlist",
            Verb::Deprecate => "deprecate",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<Verb> {
        Verb::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// Whether the service offers this action.
    pub(crate) fn offered_by(self, service: Service) -> bool {
        match self {
            Verb::Delete => true,
            Verb::Archive | Verb::Unlist => service == Service::CodeArtifact,
            Verb::Deprecate => service == Service::Iot,
        }
    }

    /// The status a version has once the action is done (`None` for delete).
    pub(crate) fn target_status(self) -> Option<Status> {
        match self {
            Verb::Delete => None,
            Verb::Archive => Some(Status::ARCHIVED),
            Verb::Unlist => Some(Status::CodeArtifact(CodeArtifactStatus::Unlisted)),
            Verb::Deprecate => Some(Status::Iot(IotStatus::Deprecated)),
        }
    }

    /// The statuses a policy selects from when it names none: the versions
    /// the action can still change. Delete selects from every status.
    pub(crate) fn default_statuses(self) -> Option<Vec<Status>> {
        match self {
            Verb::Delete => None,
            Verb::Archive => Some(vec![
                Status::PUBLISHED,
                Status::CodeArtifact(CodeArtifactStatus::Unlisted),
            ]),
            Verb::Unlist => Some(vec![Status::PUBLISHED]),
            Verb::Deprecate => Some(vec![Status::Iot(IotStatus::Published)]),
        }
    }
}

impl fmt::Display for Verb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
