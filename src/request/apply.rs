//! `apply`: a request to carry out a reviewed plan exactly, and the form
//! an apply takes for one package (beside its policy, in its hand-ons and
//! dead letters).
//!
//! - `{"service", "apply": {"report": "s3://bucket/key", "sha256"}}`, or
//!   `"plan": {…}` (the report's JSON) in place of `report`: the plan is
//!   read, checked against the digest, and split into one request per
//!   package ([`ApplyRequest`]);
//!   A plan of several packages fans out in parts: the same request with
//!   `"part": {"from", "to"}`, which reads and checks the plan again and
//!   runs only the plan's package requests `from..to` ([`ApplyPart`]);
//! - `{"service", <package>, "policy", "versions", "apply": {"planId",
//!   "sha256", "expiresAt", "expect": {version: {status, revision}}}}`, and
//!   `report` where the plan is in S3: one package of an apply
//!   ([`Planned`]).

use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::checker::Checker;
use super::{RawRequest, Service};
use crate::policy::{Expected, Planned};

static SHA256: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^[0-9a-f]{64}$").expect("regex"));

/// How long a plan is valid by default (`planValidForDays`).
pub(crate) const DEFAULT_PLAN_VALID_DAYS: f64 = 7.0;
/// The longest `planValidForDays`.
pub(crate) const MAX_PLAN_VALID_DAYS: f64 = 365.0;

/// The `apply` object as it travels.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RawApply {
    /// `s3://<bucket>/<key>` of a dry run's report.json.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) report: Option<String>,
    /// A dry run's report.json, inline (for small plans).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) plan: Option<Value>,
    /// The digest the reviewer approved: lowercase hex SHA-256 of the
    /// report's canonical JSON (RFC 8785), which is report.json as written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) sha256: Option<String>,
    /// One package of an apply: the plan's `planId`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) plan_id: Option<String>,
    /// One package of an apply: the plan's `expiresAt` (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) expires_at: Option<String>,
    /// One package of an apply: per version, what the plan saw.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) expect: Option<BTreeMap<String, Expected>>,
    /// A part of a fanned-out apply: the plan's package requests
    /// `from..to` (0-based, `to` exclusive, in the order
    /// [`crate::report::requests`] gives them).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) part: Option<ApplyPart>,
}

/// Which of a plan's package requests an apply part runs: `from..to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApplyPart {
    pub(crate) from: usize,
    pub(crate) to: usize,
}

/// Where the plan to apply is.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum PlanSource {
    /// An S3 object: `s3://<bucket>/<key>`.
    Report { bucket: String, key: String },
    /// The report's JSON, in the request.
    Inline(Value),
}

/// A valid request to apply a reviewed plan.
#[derive(Debug, Clone, PartialEq)]
pub struct ApplyRequest {
    pub(crate) service: Service,
    pub(crate) source: PlanSource,
    /// Lowercase hex, 64 characters.
    pub(crate) sha256: String,
    /// A fanned-out part: only these of the plan's package requests.
    pub(crate) part: Option<ApplyPart>,
    pub(crate) dry_run: bool,
    pub(crate) attempt: u32,
    /// The invocations in a row that made no progress on it.
    pub(crate) no_progress: u32,
}

impl Eq for ApplyRequest {}

impl ApplyRequest {
    /// The plan, as logs name it: its S3 URI, or "inline plan <digest>".
    pub(crate) fn label(&self) -> String {
        let plan = match &self.source {
            PlanSource::Report { bucket, key } => format!("s3://{bucket}/{key}"),
            PlanSource::Inline(_) => format!("inline plan {}", &self.sha256[..12]),
        };
        match self.part {
            Some(p) => format!("{plan} (part {}..{})", p.from, p.to),
            None => plan,
        }
    }

    /// The plan's S3 URI, when it is in S3.
    pub(crate) fn report_uri(&self) -> Option<String> {
        match &self.source {
            PlanSource::Report { bucket, key } => Some(format!("s3://{bucket}/{key}")),
            PlanSource::Inline(_) => None,
        }
    }

    /// The same apply, for the plan's package requests `from..to`.
    pub(crate) fn part(&self, from: usize, to: usize) -> ApplyRequest {
        ApplyRequest {
            part: Some(ApplyPart { from, to }),
            ..self.clone()
        }
    }

    /// The wire form, with `attempt` (a hand-on) or without (a dead letter).
    pub(crate) fn to_raw(&self, attempt: Option<u32>) -> RawRequest {
        let (report, plan) = match &self.source {
            PlanSource::Report { .. } => (self.report_uri(), None),
            PlanSource::Inline(v) => (None, Some(v.clone())),
        };
        RawRequest {
            service: Some(self.service.as_str().to_owned()),
            apply: Some(RawApply {
                report,
                plan,
                sha256: Some(self.sha256.clone()),
                part: self.part,
                ..RawApply::default()
            }),
            dry_run: self.dry_run.then_some(true),
            attempt,
            ..RawRequest::default()
        }
    }
}

impl Planned {
    /// The wire form beside a package's policy.
    pub(crate) fn to_raw(&self) -> RawApply {
        RawApply {
            plan_id: Some(self.plan_id.clone()),
            sha256: Some(self.sha256.clone()),
            expires_at: Some(crate::clock::rfc3339(self.expires_at_ms)),
            expect: Some(self.expect.clone()),
            report: self.report.clone(),
            ..RawApply::default()
        }
    }
}

impl RawApply {
    /// Whether this names a plan to read (the request form), rather than
    /// binding one package to a plan (which names its `planId`).
    /// An apply of the reviewed plan whose report.json is at `report`
    /// (`s3://<bucket>/<key>`), approved with `sha256`.
    pub fn of_report(report: &str, sha256: &str) -> RawApply {
        RawApply {
            report: Some(report.to_owned()),
            sha256: Some(sha256.to_owned()),
            ..RawApply::default()
        }
    }

    /// An apply of a reviewed plan given inline (its report.json),
    /// approved with `sha256`.
    pub fn inline(plan: Value, sha256: &str) -> RawApply {
        RawApply {
            plan: Some(plan),
            sha256: Some(sha256.to_owned()),
            ..RawApply::default()
        }
    }

    pub(crate) fn names_a_plan(&self) -> bool {
        (self.report.is_some() || self.plan.is_some()) && self.plan_id.is_none()
    }
}

impl RawRequest {
    /// The request form: `apply` with `report` or `plan`, and nothing but
    /// `service`, `dryRun` and `attempt` beside it.
    pub(super) fn validate_apply(
        &self,
        c: &mut Checker,
        service: Option<Service>,
        apply: &RawApply,
    ) -> Option<ApplyRequest> {
        let beside = RawRequest {
            service: None,
            apply: None,
            dry_run: None,
            attempt: None,
            no_progress: None,
            failure: None,
            ..self.clone()
        };
        if beside != RawRequest::default() {
            c.problems.push("`apply` takes only `service`, `dryRun` and `attempt` beside it: the plan names the packages, versions and policy".into());
        }
        for (field, given) in [
            ("apply.planId", apply.plan_id.is_some()),
            ("apply.expiresAt", apply.expires_at.is_some()),
            ("apply.expect", apply.expect.is_some()),
        ] {
            if given {
                c.problems.push(format!(
                    "`{field}` is not allowed with `apply.report` or `apply.plan`"
                ));
            }
        }
        let source = match (&apply.report, &apply.plan) {
            (Some(_), Some(_)) => {
                c.problems
                    .push("give `apply.report` or `apply.plan`, not both".into());
                None
            }
            (Some(uri), None) => s3_uri(c, uri),
            (None, Some(plan)) if plan.is_object() => Some(PlanSource::Inline(plan.clone())),
            (None, _) => {
                c.problems
                    .push("`apply.plan` must be a report's JSON object".into());
                None
            }
        };
        let sha256 = self.sha256(c, apply);
        if let Some(p) = apply.part.filter(|p| p.from >= p.to) {
            c.problems.push(format!(
                "`apply.part` must name at least one request: from {} to {}",
                p.from, p.to
            ));
        }
        Some(ApplyRequest {
            service: service?,
            source: source?,
            sha256: sha256?,
            part: apply.part,
            dry_run: self.dry_run.unwrap_or(false),
            attempt: self.attempt.unwrap_or(1).max(1),
            no_progress: self.no_progress.unwrap_or(0),
        })
    }

    /// The package form: `apply` with `planId`, `sha256`, `expiresAt` and
    /// `expect`, beside `policy` and `versions` (each of them expected).
    pub(super) fn validate_planned(&self, c: &mut Checker, apply: &RawApply) -> Option<Planned> {
        let sha256 = self.sha256(c, apply);
        c.forbid(
            "apply.plan",
            &apply.plan,
            "beside `apply.planId` (a package bound to a plan names it by id)",
        );
        c.forbid(
            "apply.part",
            &apply.part,
            "beside `apply.planId` (a part is a whole apply's)",
        );
        let report = apply
            .report
            .as_deref()
            .and_then(|uri| s3_uri(c, uri).map(|_| uri.to_owned()));
        let plan_id = c
            .required("apply.planId", &apply.plan_id)
            .map(str::to_owned);
        let expires_at_ms = c
            .required("apply.expiresAt", &apply.expires_at)
            .and_then(|t| match parse_rfc3339(t) {
                Some(ms) => Some(ms),
                None => {
                    c.problems
                        .push(format!("`apply.expiresAt` {t:?} is not an RFC 3339 time"));
                    None
                }
            });
        let Some(expect) = &apply.expect else {
            c.problems.push("`apply.expect` is required".into());
            return None;
        };
        match &self.versions {
            None => c
                .problems
                .push("`versions` is required with `apply.expect`".into()),
            Some(vs) => {
                if let Some(v) = vs.iter().find(|v| !expect.contains_key(*v)) {
                    c.problems.push(format!(
                        "`versions` names {v:?}, which `apply.expect` does not"
                    ));
                }
            }
        }
        Some(Planned {
            plan_id: plan_id?,
            sha256: sha256?,
            expires_at_ms: expires_at_ms?,
            expect: expect.clone(),
            report,
        })
    }

    /// `planValidForDays`: with `policy`, above 0 and at most 365.
    pub(super) fn validate_plan_validity(&self, c: &mut Checker) {
        match self.plan_valid_for_days {
            Some(_) if self.policy.is_none() => c
                .problems
                .push("`planValidForDays` is allowed only with `policy` (a dry run's plan)".into()),
            Some(d) if !(d > 0.0 && d <= MAX_PLAN_VALID_DAYS) => c.problems.push(format!(
                "`planValidForDays` must be above 0 and at most {MAX_PLAN_VALID_DAYS}, got {d}"
            )),
            _ => {}
        }
    }

    fn sha256(&self, c: &mut Checker, apply: &RawApply) -> Option<String> {
        let sha = c.required("apply.sha256", &apply.sha256)?;
        if SHA256.is_match(sha) {
            Some(sha.to_owned())
        } else {
            c.problems.push(
                "`apply.sha256` must be 64 lowercase hexadecimal characters (the SHA-256 of report.json)"
                    .into(),
            );
            None
        }
    }
}

/// `s3://<bucket>/<key>`, with a bucket name S3 allows (3 to 63 characters
/// of lowercase letters, digits, dots and hyphens: the S3 User Guide's
/// "Bucket naming rules").
fn s3_uri(c: &mut Checker, uri: &str) -> Option<PlanSource> {
    static BUCKET: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"^[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]$").expect("regex"));
    let parsed = uri
        .strip_prefix("s3://")
        .and_then(|rest| rest.split_once('/'))
        .filter(|(bucket, key)| BUCKET.is_match(bucket) && !key.is_empty());
    match parsed {
        Some((bucket, key)) => Some(PlanSource::Report {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
        }),
        None => {
            c.problems.push(format!(
                "`apply.report` must be s3://<bucket>/<key>, got {uri:?}"
            ));
            None
        }
    }
}

/// An RFC 3339 time as milliseconds since the epoch.
pub(crate) fn parse_rfc3339(t: &str) -> Option<i64> {
    let at = time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).ok()?;
    i64::try_from(at.unix_timestamp_nanos() / 1_000_000).ok()
}

/// Why a plan is not applied. Each is found before any package call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanRefused {
    #[error("the plan is not a packprune report: {0}")]
    Unreadable(String),
    #[error("the plan's SHA-256 is {actual}, not the approved {approved}: it changed since it was reviewed")]
    Digest { approved: String, actual: String },
    #[error("the report is a {0} report, not a dry run's plan: only a plan can be applied")]
    NotAPlan(String),
    #[error("plan {plan_id} expired at {expires_at}")]
    Expired { plan_id: String, expires_at: String },
    #[error("the plan is for {plan}, but the request's `service` is {request}")]
    WrongService { plan: String, request: String },
    #[error("the plan's request for {package} is not valid: {problems}")]
    Package { package: String, problems: String },
    #[error("plan {plan_id} is not complete yet: {detail}. Apply it once its report.json is written (the last part writes it)")]
    Incomplete { plan_id: String, detail: String },
    #[error(
        "part {from}..{to} of the plan is out of range: the plan has {requests} package request(s)"
    )]
    PartOutOfRange {
        from: usize,
        to: usize,
        requests: usize,
    },
    #[error("the request for {package} is bound to plan {plan_id}, which {why}")]
    Unbound {
        package: String,
        plan_id: String,
        why: String,
    },
}
