//! An `apply`'s checks, before any package call: the digest the reviewer
//! approved, a dry run's plan, not expired, the request's service; then
//! one request per package, narrowed to the versions the plan lists under
//! its action and bound to what it saw of them. Pure.

use serde_json::Value;

use super::{sha256_hex, Kind, Report};
use crate::policy::{Expected, Planned};
use crate::request::{parse_rfc3339, Action, PlanRefused, Request, Service};

/// A plan as it came: report.json's bytes (from S3), or its JSON inline.
#[derive(Debug, Clone, Copy)]
pub enum PlanBody<'a> {
    Bytes(&'a [u8]),
    Value(&'a Value),
}

/// The plan, if `approved` is its digest (SHA-256 of report.json as
/// written, which is its RFC 8785 canonical form), it is a dry run's, it is
/// for `service` and it has not expired at `now_ms`.
pub fn verify(
    body: PlanBody<'_>,
    approved: &str,
    service: Service,
    now_ms: i64,
) -> Result<Report, PlanRefused> {
    let actual = match body {
        PlanBody::Bytes(b) => sha256_hex(b),
        PlanBody::Value(v) => {
            sha256_hex(&serde_jcs::to_vec(v).map_err(|e| PlanRefused::Unreadable(e.to_string()))?)
        }
    };
    if actual != approved {
        return Err(PlanRefused::Digest {
            approved: approved.to_owned(),
            actual,
        });
    }
    let report: Report = match body {
        PlanBody::Bytes(b) => serde_json::from_slice(b),
        PlanBody::Value(v) => serde_json::from_value(v.clone()),
    }
    .map_err(|e| PlanRefused::Unreadable(e.to_string()))?;
    if report.kind != Kind::Plan {
        return Err(PlanRefused::NotAPlan(report.kind.as_str().to_owned()));
    }
    if report.service != service.as_str() {
        return Err(PlanRefused::WrongService {
            plan: report.service.clone(),
            request: service.as_str().to_owned(),
        });
    }
    let expires_at = report.expires_at.clone().unwrap_or_default();
    match parse_rfc3339(&expires_at) {
        Some(at) if at > now_ms => Ok(report),
        Some(_) => Err(PlanRefused::Expired {
            plan_id: report.id.clone(),
            expires_at,
        }),
        None => Err(PlanRefused::Unreadable(format!(
            "`expiresAt` {expires_at:?} is not an RFC 3339 time"
        ))),
    }
}

/// One request per package with versions the plan lists under its action:
/// the package's own request from the plan, narrowed to those versions
/// (`versions`), with `apply` binding each to the status and revision the
/// plan saw (and, when the plan is in S3, to its `report` URI), uncapped
/// (the plan already counted), and a dry run if `dry_run`. Every request
/// passes validation, or the whole plan is refused.
pub fn requests(
    report: &Report,
    sha256: &str,
    dry_run: bool,
    source: Option<&str>,
) -> Result<Vec<Request>, PlanRefused> {
    let expires_at_ms = report
        .expires_at
        .as_deref()
        .and_then(parse_rfc3339)
        .unwrap_or_default();
    let mut out = Vec::new();
    for p in &report.packages {
        let mut expect = std::collections::BTreeMap::new();
        let mut versions = Vec::new();
        for v in p.versions.iter().filter(|v| v.fate == p.action) {
            let Some(status) = v.status.clone() else {
                return Err(PlanRefused::Package {
                    package: p.package.clone(),
                    problems: format!("version {:?} has no status", v.version),
                });
            };
            let seen = Expected {
                status,
                revision: v.revision.clone(),
                published: v.published.clone(),
            };
            expect.insert(v.version.clone(), seen);
            versions.push(v.version.clone());
        }
        if versions.is_empty() {
            continue;
        }
        let planned = Planned {
            plan_id: report.id.clone(),
            sha256: sha256.to_owned(),
            expires_at_ms,
            expect,
            report: source.map(str::to_owned),
        };
        let mut raw = p.request.clone();
        raw.versions = Some(versions);
        raw.apply = Some(planned.to_raw());
        raw.dry_run = dry_run.then_some(true);
        raw.max_deletions = None;
        raw.plan_valid_for_days = None;
        raw.attempt = None;
        raw.failure = None;
        raw.continues = None;
        out.push(raw.validate().map_err(|e| PlanRefused::Package {
            package: p.package.clone(),
            problems: e.problems.join("; "),
        })?);
    }
    Ok(out)
}

/// Whether the plan `report` holds `request`, one package bound to it (an
/// apply's hand-on or dead letter): the same package, action and policy,
/// and every version it names listed under the action with the status,
/// revision and time it expects. What `DRY_RUN` checks before such a
/// request acts.
pub(crate) fn holds(report: &Report, sha256: &str, request: &Request) -> Result<(), PlanRefused> {
    let Action::Retain(bound) = &request.action else {
        return Err(unbound(request, report, "binds only policy requests"));
    };
    let Some(planned) = &bound.planned else {
        return Err(unbound(request, report, "it is not bound to"));
    };
    let label = request.target.package_label();
    let held = requests(report, sha256, false, planned.report.as_deref())?
        .into_iter()
        .filter(|r| r.target.package_label() == label && r.verb == request.verb)
        .find_map(|r| match r.action {
            Action::Retain(ret) if ret.raw == bound.raw => ret.planned,
            _ => None,
        });
    let Some(held) = held else {
        return Err(unbound(
            request,
            report,
            "does not list this package, action and policy",
        ));
    };
    match planned
        .expect
        .iter()
        .find(|(v, e)| held.expect.get(*v) != Some(*e))
    {
        Some((v, _)) => Err(unbound(
            request,
            report,
            &format!("does not list version {v:?} as the request expects it"),
        )),
        None => Ok(()),
    }
}

fn unbound(request: &Request, report: &Report, why: &str) -> PlanRefused {
    PlanRefused::Unbound {
        package: request.target.package_label(),
        plan_id: report.id.clone(),
        why: why.to_owned(),
    }
}
