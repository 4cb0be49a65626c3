//! What an `apply` holds a package to: the reviewed plan's identity and,
//! per version it listed under its action, the status and revision the
//! plan saw. Written beside the policy in an apply's per-package requests,
//! hand-ons and dead letters, so that every replay stays bound to the plan.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One planned version as the plan's listing showed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Expected {
    /// CodeArtifact's or IoT's version status (`Published`, `Archived`, ...).
    pub(crate) status: String,
    /// CodeArtifact's `revision` (ListPackageVersions' PackageVersionSummary);
    /// IoT versions have none, so their status alone is compared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) revision: Option<String>,
    /// When it was published (IoT: created), RFC 3339, where the plan knew
    /// it: a version deleted and published (created) again under the same
    /// name has another time, which is how an IoT version shows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) published: Option<String>,
}

/// A reviewed plan, bound to one package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    /// The plan's `planId`.
    pub(crate) plan_id: String,
    /// The SHA-256 the reviewer approved (hex of the canonical report.json).
    pub(crate) sha256: String,
    /// When the plan stops being applied (milliseconds since the epoch).
    pub(crate) expires_at_ms: i64,
    /// Version → what the plan saw, for every version it listed under its
    /// action.
    pub(crate) expect: BTreeMap<String, Expected>,
    /// Where the plan is (`s3://<bucket>/<key>` of its report.json), when
    /// the apply read it from S3: with `DRY_RUN`, a request bound to a plan
    /// runs only once that plan is read again and its digest checked.
    pub(crate) report: Option<String>,
}

impl Planned {
    /// The same plan, its expectations narrowed to `versions` (a hand-on's).
    pub(crate) fn narrowed(&self, versions: &[String]) -> Planned {
        Planned {
            expect: self
                .expect
                .iter()
                .filter(|(v, _)| versions.contains(v))
                .map(|(v, e)| (v.clone(), e.clone()))
                .collect(),
            ..self.clone()
        }
    }
}
