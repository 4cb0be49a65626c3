//! The services, and CodeArtifact's enums, as the service models name them.

use std::fmt;

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

/// CodeArtifact's PackageVersionStatus enum, as accepted by `expectedStatus`.
pub(crate) const VERSION_STATUSES: [&str; 6] = [
    "Published",
    "Unfinished",
    "Unlisted",
    "Archived",
    "Disposed",
    "Deleted",
];

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
    pub(crate) fn target_status(self) -> Option<&'static str> {
        match self {
            Verb::Delete => None,
            Verb::Archive => Some("Archived"),
            Verb::Unlist => Some("Unlisted"),
            Verb::Deprecate => Some("DEPRECATED"),
        }
    }

    /// The statuses a policy selects from when it names none: the versions
    /// the action can still change. Delete selects from every status.
    pub(crate) fn default_statuses(self) -> Option<&'static [&'static str]> {
        match self {
            Verb::Delete => None,
            Verb::Archive => Some(&["Published", "Unlisted"]),
            Verb::Unlist => Some(&["Published"]),
            Verb::Deprecate => Some(&["PUBLISHED"]),
        }
    }
}

impl fmt::Display for Verb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
