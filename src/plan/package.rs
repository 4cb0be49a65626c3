//! A package's plan as the function writes it: what the action applies to,
//! what is kept and why.

use std::collections::{BTreeMap, BTreeSet};

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use crate::clock::rfc3339;
use crate::policy::{Expected, KeepRule};
use crate::request::Verb;

/// What a policy does to one package. Written as
/// `{"package", "action", "<action>": [versions], "keep": [...]}`, so that
/// a plan says `"archive": [...]` where it archives.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PackagePlan {
    pub(crate) package: String,
    pub(crate) verb: Verb,
    /// The versions the action applies to, oldest first.
    pub selected: Vec<String>,
    /// Every other version, with the rule that kept it, newest first.
    pub(crate) keep: Vec<KeptVersion>,
    /// Version → its status and revision as the listing showed them (for
    /// run reports; not part of the inline plan).
    pub(crate) listed: BTreeMap<String, Expected>,
    /// Cut to fit a response: the full counts (`selected`, `keep`).
    pub(crate) truncated: Option<(usize, usize)>,
    /// Version → when it was published (IoT: created), in milliseconds,
    /// where the function knows it: written as `published`, RFC 3339.
    pub(crate) published: BTreeMap<String, i64>,
    /// `measureStorage`: version → its assets' bytes and whether another
    /// repository holds it, for the versions selected; written as
    /// `storage`.
    pub(crate) storage: BTreeMap<String, super::VersionBytes>,
    /// Requirements on the package `protectDependencies` could not read
    /// (each kept every candidate): counted, not written.
    pub(crate) unreadable_requirements: u32,
}

impl Serialize for PackagePlan {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("package", &self.package)?;
        m.serialize_entry("action", &self.verb)?;
        m.serialize_entry(self.verb.as_str(), &self.selected)?;
        m.serialize_entry("keep", &self.keep)?;
        // A cut plan shows the times of the versions it shows.
        let shown: Option<BTreeSet<&String>> = self.truncated.map(|_| {
            self.selected
                .iter()
                .chain(self.keep.iter().map(|k| &k.version))
                .collect()
        });
        let published: BTreeMap<&String, String> = self
            .published
            .iter()
            .filter(|(v, _)| shown.as_ref().is_none_or(|s| s.contains(v)))
            .map(|(v, ms)| (v, rfc3339(*ms)))
            .collect();
        if !published.is_empty() {
            m.serialize_entry("published", &published)?;
        }
        let storage: BTreeMap<&String, &super::VersionBytes> = self
            .storage
            .iter()
            .filter(|(v, _)| shown.as_ref().is_none_or(|s| s.contains(v)))
            .collect();
        if !storage.is_empty() {
            m.serialize_entry("storage", &storage)?;
        }
        if let Some((selected, keep)) = self.truncated {
            m.serialize_entry(
                "truncated",
                &serde_json::json!({ self.verb.as_str(): selected, "keep": keep }),
            )?;
        }
        m.end()
    }
}

impl PackagePlan {
    /// A plan with what a listing shows: each version's status and
    /// revision (`listed`) and, where known, its publish time
    /// (`published`). The caller sets the rest.
    pub(crate) fn of_listing(listing: &[super::Listed]) -> PackagePlan {
        PackagePlan {
            listed: listing
                .iter()
                .map(|l| {
                    let seen = Expected {
                        status: l.status.to_string(),
                        revision: l.revision.clone(),
                        published: None,
                    };
                    (l.name.clone(), seen)
                })
                .collect(),
            published: listing
                .iter()
                .filter_map(|l| Some((l.name.clone(), l.published_ms?)))
                .collect(),
            ..PackagePlan::default()
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeptVersion {
    pub(crate) version: String,
    pub(crate) rule: KeepRule,
    /// Where a version in use is used, or why that is unknown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) detail: Option<String>,
}

impl KeptVersion {
    pub(crate) fn new(version: String, rule: KeepRule) -> Self {
        KeptVersion {
            version,
            rule,
            detail: None,
        }
    }
}
