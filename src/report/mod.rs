//! Run reports: what a policy run did (or, dry, would do) to every version,
//! as JSON for machines, CSV for spreadsheets and Markdown for a reviewer.
//! A dry run's report is a plan, which an `apply` request carries out
//! exactly ([`verify`]). Building, rendering and checking are pure; the S3
//! edge is [`store`].
//!
//! report.json is written in the canonical form of RFC 8785 (JSON
//! Canonicalization Scheme, via `serde_jcs`), so its SHA-256 is the same
//! whether it is read from S3 as bytes or pasted into a request as a JSON
//! object and canonicalized again.

mod build;
pub(crate) mod parts;
mod render;
pub(crate) mod store;
#[cfg(test)]
mod tests;
pub mod verify;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::request::RawRequest;

pub(crate) use build::{report_id, Delivered, PackageRun, PlanPart, ReportInput};
pub use render::{csv, markdown};
pub(crate) use store::ReportStore;
pub(crate) use verify::holds;
pub use verify::{requests, verify};

/// What a report records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Kind {
    /// A dry run: a plan, which an `apply` may carry out until `expiresAt`.
    Plan,
    /// A policy run that acted.
    Run,
    /// An `apply` of a plan (`applies` names it).
    Apply,
}

impl Kind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Kind::Plan => "plan",
            Kind::Run => "run",
            Kind::Apply => "apply",
        }
    }
}

/// The plan an apply carried out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Applies {
    pub plan_id: String,
    pub sha256: String,
}

/// report.json. Times are RFC 3339 (UTC).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Report {
    pub kind: Kind,
    /// The report's id: for a plan, its `planId`.
    pub id: String,
    /// A plan's `planId` (the same as `id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan_id: Option<String>,
    pub created_at: String,
    /// A plan is applied only before this time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applies: Option<Applies>,
    /// `codeartifact` or `iot`.
    pub service: String,
    /// The delivery it came in (SQS message id, EventBridge event id or
    /// Lambda request id).
    pub(crate) source: String,
    /// The request as delivered.
    pub request: Value,
    /// `measureStorage`: what the versions that go (or went) hold
    /// ([`Freed::of`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage: Option<Freed>,
    pub packages: Vec<PackageReport>,
}

/// The asset bytes of a report's versions that go (a plan's
/// `delete`) or went (`deleted`), as measured before: all of them, the
/// part another repository of the domain still holds (not freed), and
/// how many versions had a size CodeArtifact did not give.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Freed {
    /// The asset bytes of the versions that go (or went).
    pub bytes: u64,
    /// The part of `bytes` another repository of the domain still holds.
    pub shared_bytes: u64,
    /// Those versions with an asset of no size (in neither figure).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub unknown_size_versions: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl Freed {
    /// Over the rows measured whose fate is a delete; `None` when no row
    /// was measured.
    pub(crate) fn of(packages: &[PackageReport]) -> Option<Freed> {
        let mut freed: Option<Freed> = None;
        let rows = packages.iter().flat_map(|p| &p.versions);
        for v in rows.filter(|v| v.fate == "delete" || v.fate == "deleted") {
            let Some(shared) = v.shared else { continue };
            let f = freed.get_or_insert_default();
            match v.bytes {
                Some(b) => {
                    f.bytes += b;
                    f.shared_bytes += if shared { b } else { 0 };
                }
                None => f.unknown_size_versions += 1,
            }
        }
        freed
    }
}

/// One package of a report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PackageReport {
    /// The package as logs name it (`domain/repository/format/[namespace/]name`
    /// for CodeArtifact).
    pub package: String,
    /// `delete`, `archive`, `unlist` or `deprecate`.
    pub action: String,
    /// This package's own request: what an apply runs again, narrowed.
    pub(crate) request: RawRequest,
    pub versions: Vec<VersionRow>,
}

/// One version's fate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VersionRow {
    pub version: String,
    /// In a plan, the action (`delete`, `archive`, ...) for a version that
    /// would go, else `kept`; in a run, the outcome (`deleted`, `kept`,
    /// `alreadyAbsent`, `deadLettered`, `handedOn`, ...).
    pub fate: String,
    /// The rule that kept it, or the code it was dead-lettered with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The status the listing showed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// CodeArtifact's revision the listing showed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<String>,
    /// When it was published (IoT: created), RFC 3339, where the function
    /// knows it (see [`crate::plan::Listed::published_ms`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published: Option<String>,
    /// `measureStorage`: its assets' bytes (absent when a size was not
    /// given, or not measured).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes: Option<u64>,
    /// `measureStorage`: another repository of the domain holds it, so its
    /// bytes stay stored (absent when not measured).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shared: Option<bool>,
}

impl Report {
    /// report.json: the RFC 8785 canonical form.
    pub fn canonical(&self) -> Vec<u8> {
        serde_jcs::to_vec(self).expect("a report serializes")
    }
}

/// Lowercase hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}
