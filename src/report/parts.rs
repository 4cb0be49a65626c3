//! A plan made in parts: a scope's dry run that one invocation cannot plan
//! whole is planned over several, and becomes one plan, one report.json
//! and one digest. Pure: the S3 edge is [`super::store`].
//!
//! The objects, under the plan's directory (`<prefix><yyyy-mm-dd>/<planId>/`,
//! where report.json will be):
//!
//! - `scope.json` ([`ScopeFile`]): written once, by the first part: the
//!   plan's envelope (id, `createdAt`, `expiresAt`, service, source, the
//!   request) and the scope's package requests, in the order the parts
//!   cover them;
//! - `part-<from>.json` ([`PartFile`]): the packages `from..to`, planned.
//!   Each is written only if absent (S3's conditional write,
//!   `If-None-Match: *`): the first write of a part wins, so a redelivered
//!   or duplicated part changes nothing;
//! - report.json, report.csv and report.md: written by whichever part
//!   finds, once its own part is written, that the parts from 0 tile the
//!   whole scope ([`assemble`]). The parts are immutable and the envelope
//!   fixed, so the report is the same bytes whoever assembles it, and
//!   assembling twice is harmless.
//!
//! Until then there is no report.json, and an apply of the plan is refused
//! as incomplete. Parts need not be made in order (any set of ranges that
//! tiles the scope completes it), so work that fans out over the queue can
//! complete a plan the same way.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Kind, PackageReport, Report};
use crate::request::RawRequest;

/// `scope.json`: what every part of the plan shares.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct ScopeFile {
    pub(crate) plan_id: String,
    pub(crate) created_at: String,
    pub(crate) expires_at: String,
    pub(crate) service: String,
    /// The delivery the first part came in.
    pub(crate) source: String,
    /// The scope's request as delivered.
    pub(crate) request: Value,
    /// One request per package of the scope, in the order of the parts.
    pub(crate) packages: Vec<RawRequest>,
}

/// `part-<from>.json`: the packages `from..to` of the scope, planned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PartFile {
    pub(crate) from: usize,
    pub(crate) to: usize,
    pub(crate) packages: Vec<PackageReport>,
}

impl PartFile {
    /// How many versions the part's packages list under their action.
    pub(crate) fn selected(&self) -> usize {
        self.packages
            .iter()
            .map(|p| p.versions.iter().filter(|v| v.fate == p.action).count())
            .sum()
    }
}

/// The name of the part starting at `from`, zero-padded so that the
/// objects list in order.
pub(crate) fn part_name(from: usize) -> String {
    format!("part-{from:07}.json")
}

impl ScopeFile {
    /// The envelope of a plan's first part, from that part's report.
    pub(crate) fn of(first: &Report, packages: Vec<RawRequest>) -> ScopeFile {
        ScopeFile {
            plan_id: first.id.clone(),
            created_at: first.created_at.clone(),
            expires_at: first.expires_at.clone().unwrap_or_default(),
            service: first.service.clone(),
            source: first.source.clone(),
            request: first.request.clone(),
            packages,
        }
    }
}

/// The plan, if `parts` (in order from 0) tile the whole scope: the
/// envelope of `scope` and every part's packages, in order. `None` while
/// a part is missing.
pub(crate) fn assemble(scope: &ScopeFile, parts: &[PartFile]) -> Option<Report> {
    let mut at = 0;
    let mut packages = Vec::new();
    for p in parts {
        if p.from != at || p.to <= p.from {
            return None;
        }
        packages.extend(p.packages.iter().cloned());
        at = p.to;
    }
    (at == scope.packages.len()).then(|| Report {
        kind: Kind::Plan,
        id: scope.plan_id.clone(),
        plan_id: Some(scope.plan_id.clone()),
        created_at: scope.created_at.clone(),
        expires_at: Some(scope.expires_at.clone()),
        applies: None,
        service: scope.service.clone(),
        source: scope.source.clone(),
        request: scope.request.clone(),
        storage: super::Freed::of(&packages),
        packages,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(n: usize) -> ScopeFile {
        ScopeFile {
            plan_id: "p".into(),
            created_at: "2026-12-06T00:00:00Z".into(),
            expires_at: "2026-12-13T00:00:00Z".into(),
            service: "codeartifact".into(),
            source: "req-1".into(),
            request: serde_json::json!({"service": "codeartifact"}),
            packages: vec![RawRequest::default(); n],
        }
    }

    fn part(from: usize, to: usize) -> PartFile {
        let packages = (from..to)
            .map(|i| PackageReport {
                package: format!("pkg-{i}"),
                action: "delete".into(),
                request: RawRequest::default(),
                versions: Vec::new(),
            })
            .collect();
        PartFile { from, to, packages }
    }

    #[test]
    fn parts_that_tile_the_scope_assemble_in_order_and_a_gap_does_not() {
        let s = scope(5);
        let r = assemble(&s, &[part(0, 2), part(2, 3), part(3, 5)]).unwrap();
        let names: Vec<&str> = r.packages.iter().map(|p| p.package.as_str()).collect();
        assert_eq!(names, ["pkg-0", "pkg-1", "pkg-2", "pkg-3", "pkg-4"]);
        assert_eq!((r.kind, r.plan_id.as_deref()), (Kind::Plan, Some("p")));
        assert!(assemble(&s, &[part(0, 2), part(3, 5)]).is_none());
        assert!(assemble(&s, &[part(0, 2), part(2, 4)]).is_none());
        assert!(assemble(&s, &[part(0, 2), part(1, 5)]).is_none());
    }

    #[test]
    fn part_names_sort_as_their_starts() {
        assert!(part_name(9) < part_name(10));
        assert_eq!(part_name(37), "part-0000037.json");
    }
}
