//! An `apply`'s plan: the policy's plan of today's listing, narrowed to
//! the versions a reviewed plan listed, then held to what that plan saw.
//! Pure.

use super::{KeptVersion, Listed};
use crate::policy::{KeepRule, Planned};

/// Holds a narrowed plan (see [`super::narrow`]) to a reviewed one:
///
/// - a version kept by a protection ([`KeepRule::protects`]) stays kept by it;
/// - a version whose status or revision differs from what the plan saw is
///   kept as `PLAN_STALE`, the detail saying what changed;
/// - a version the policy now keeps by any other rule is kept as
///   `PLAN_STALE`, the detail naming that rule;
/// - a version the plan did not list is never selected.
///
/// Returns what may still go and what is kept.
pub(crate) fn hold_to(
    listing: &[Listed],
    planned: &Planned,
    selected: Vec<String>,
    keep: Vec<KeptVersion>,
) -> (Vec<String>, Vec<KeptVersion>) {
    let stale = |version: String, detail: String| KeptVersion {
        version,
        rule: KeepRule::PlanStale,
        detail: Some(detail),
    };
    let mut out_keep: Vec<KeptVersion> = Vec::with_capacity(keep.len());
    for k in keep {
        if k.rule.protects() {
            out_keep.push(k);
        } else if let Some(change) = changed(listing, planned, &k.version) {
            out_keep.push(stale(k.version, change));
        } else {
            let why = format!(
                "the policy no longer selects it ({}) since plan {}",
                k.rule.as_str(),
                planned.plan_id
            );
            out_keep.push(stale(k.version, why));
        }
    }
    let mut out_selected = Vec::with_capacity(selected.len());
    for v in selected {
        match changed(listing, planned, &v) {
            Some(change) => out_keep.push(stale(v, change)),
            None => out_selected.push(v),
        }
    }
    (out_selected, out_keep)
}

/// What differs between the listing and the plan for `version`, if
/// anything (a version the plan did not list always differs).
fn changed(listing: &[Listed], planned: &Planned, version: &str) -> Option<String> {
    let Some(expected) = planned.expect.get(version) else {
        return Some(format!("plan {} does not list it", planned.plan_id));
    };
    let listed = listing.iter().find(|l| l.name == version)?;
    let show = |r: &Option<String>| r.clone().unwrap_or_else(|| "none".to_owned());
    if listed.status.as_str() != expected.status {
        Some(format!(
            "status was {} in plan {}, now {}",
            expected.status, planned.plan_id, listed.status
        ))
    } else if listed.revision != expected.revision {
        Some(format!(
            "revision was {} in plan {}, now {} (republished or changed)",
            show(&expected.revision),
            planned.plan_id,
            show(&listed.revision)
        ))
    } else {
        let now = listed.published_ms;
        let then = expected
            .published
            .as_deref()
            .and_then(crate::request::parse_rfc3339);
        match (then, now) {
            (Some(then), Some(now)) if then != now => Some(format!(
                "published (created) {} in plan {}, now {}: deleted and published again",
                crate::clock::rfc3339(then),
                planned.plan_id,
                crate::clock::rfc3339(now)
            )),
            _ => None,
        }
    }
}
