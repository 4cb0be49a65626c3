//! A report from what an invocation ran: the delivered request, and per
//! package its own request, its plan and its audit lines. Pure.

use std::ops::Range;

use super::{Applies, Kind, PackageReport, Report, VersionRow};
use crate::account::{Disposition, Line, Reason};
use crate::downloads::{rfc3339, DAY_MS};
use crate::plan::PackagePlan;
use crate::policy::KeepRule;
use crate::request::{RawRequest, Service, DEFAULT_PLAN_VALID_DAYS};

/// A delivered request that writes a report (a policy, a scope or an
/// apply).
#[derive(Debug, Clone)]
pub(crate) struct Delivered {
    /// As delivered (`dryRun` set where `DRY_RUN` forced it).
    pub(crate) raw: RawRequest,
    pub(crate) service: Service,
    pub(crate) dry_run: bool,
    /// An `apply` (the request form, or one package of one).
    pub(crate) apply: bool,
    /// `planValidForDays`, or the default.
    pub(crate) valid_days: f64,
    /// A scope (many packages): its dry run is one plan, even of nothing.
    pub(crate) scope: bool,
}

/// One package the delivered request ran in this invocation.
#[derive(Debug, Clone)]
pub(crate) struct PackageRun {
    /// The package's own request (`Request::to_raw`, not narrowed).
    pub(crate) request: RawRequest,
    pub(crate) plan: Option<PackagePlan>,
    /// Its lines in the unit's account.
    pub(crate) lines: Range<usize>,
    /// The plan it applied, if an apply.
    pub(crate) applies: Option<Applies>,
}

/// What one report is made of.
#[derive(Debug, Clone)]
pub(crate) struct ReportInput {
    /// The request's place in its delivery (0 for the first).
    pub(crate) index: usize,
    pub(crate) delivered: Delivered,
    pub(crate) packages: Vec<PackageRun>,
    /// A part of a scope's plan made in parts ([`super::parts`]): then the
    /// report is that part's, filed under the plan.
    pub(crate) part: Option<PlanPart>,
}

/// Which part of which plan a scope's dry run made in this invocation.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PlanPart {
    /// The plan's id (its first part's report id).
    pub(crate) plan_id: String,
    /// When the first part was made, milliseconds since the epoch.
    pub(crate) created_at_ms: i64,
    /// The scope's packages this part planned: `from..to`.
    pub(crate) from: usize,
    pub(crate) to: usize,
    /// The scope's package requests, in order: given by the first part,
    /// which writes them to `scope.json`.
    pub(crate) scope: Option<Vec<RawRequest>>,
    /// How many packages the scope holds.
    pub(crate) total: usize,
    /// The scope's request that plans on from where the part ends (its
    /// `continues` set once the part is written), and after how many
    /// seconds.
    pub(crate) next: Option<(Box<crate::request::ScopeRequest>, u32)>,
    /// A shared `maxDeletions`, as it stood when the part began.
    pub(crate) cap: Option<u32>,
}

/// The id of the report of the request at `index` of the delivery
/// `source` in Lambda request `request_id`: the same for a retried
/// invocation, so that it writes the same keys again.
pub(crate) fn report_id(request_id: &str, source: &str, index: usize) -> String {
    uuid::Uuid::new_v5(
        &uuid::Uuid::NAMESPACE_OID,
        format!("packprune/{request_id}/{source}/{index}").as_bytes(),
    )
    .to_string()
}

impl Delivered {
    /// The report's `expiresAt`, for a plan made at `now_ms`.
    fn expires_at_ms(&self, now_ms: i64) -> i64 {
        let days = if self.valid_days > 0.0 {
            self.valid_days
        } else {
            DEFAULT_PLAN_VALID_DAYS
        };
        now_ms + (days * DAY_MS as f64) as i64
    }
}

impl ReportInput {
    /// The report of `lines` (the unit's audit lines, after its messages
    /// were sent). `request_id` and `source` make the id: a retried
    /// invocation writes the same keys again.
    pub(crate) fn report(
        &self,
        lines: &[Line],
        source: &str,
        request_id: &str,
        now_ms: i64,
    ) -> Report {
        let d = &self.delivered;
        let kind = match (d.apply, d.dry_run) {
            (true, _) => Kind::Apply,
            (false, true) => Kind::Plan,
            (false, false) => Kind::Run,
        };
        // A later part of a plan belongs to the plan its first part made.
        let (id, made_ms) = match &self.part {
            Some(p) => (p.plan_id.clone(), p.created_at_ms),
            None => (report_id(request_id, source, self.index), now_ms),
        };
        let mut raw = d.raw.clone();
        raw.dry_run = d.dry_run.then_some(true);
        raw.continues = None;
        Report {
            kind,
            plan_id: (kind == Kind::Plan).then(|| id.clone()),
            id,
            created_at: rfc3339(made_ms),
            expires_at: (kind == Kind::Plan).then(|| rfc3339(d.expires_at_ms(made_ms))),
            applies: self.packages.iter().find_map(|p| p.applies.clone()),
            service: d.service.as_str().to_owned(),
            source: source.to_owned(),
            request: serde_json::to_value(&raw).expect("request serializes"),
            storage: None,
            packages: self
                .packages
                .iter()
                .map(|p| package(p, lines.get(p.lines.clone()).unwrap_or_default()))
                .collect(),
        }
        .with_storage()
    }
}

fn package(run: &PackageRun, lines: &[Line]) -> PackageReport {
    let action = run.plan.as_ref().map_or_else(
        || {
            run.request
                .action
                .clone()
                .unwrap_or_else(|| "delete".into())
        },
        |p| p.verb.as_str().to_owned(),
    );
    let package = match (&run.plan, lines.first()) {
        (Some(p), _) => p.package.clone(),
        (None, Some(l)) => l.package.clone(),
        (None, None) => String::new(),
    };
    let mut request = run.request.clone();
    request.dry_run = None;
    request.attempt = None;
    PackageReport {
        versions: lines.iter().map(|l| row(run, l, &action)).collect(),
        package,
        action,
        request,
    }
}

fn row(run: &PackageRun, l: &Line, action: &str) -> VersionRow {
    let version = l.item.to_string();
    let seen = run.plan.as_ref().and_then(|p| p.listed.get(&version));
    let would_go =
        l.disposition == Disposition::Kept && l.code == Some(Reason::Rule(KeepRule::DryRun));
    VersionRow {
        fate: match would_go {
            true => action.to_owned(),
            false => l.disposition.as_str().to_owned(),
        },
        rule: (!would_go)
            .then(|| l.code.as_ref().map(ToString::to_string))
            .flatten(),
        detail: l.detail.clone(),
        status: seen.map(|s| s.status.clone()),
        revision: seen.and_then(|s| s.revision.clone()),
        published: run
            .plan
            .as_ref()
            .and_then(|p| p.published.get(&version))
            .map(|ms| rfc3339(*ms)),
        bytes: l.storage.and_then(|b| b.bytes),
        shared: l.storage.map(|b| b.shared),
        version,
    }
}

impl Report {
    /// The report with its `storage` added up from its rows.
    fn with_storage(mut self) -> Report {
        self.storage = super::Freed::of(&self.packages);
        self
    }
}
