//! The deletion request: the public JSON contract and its typed form. Its
//! validation against the service models' constraints is in [`validate`];
//! nothing reaches AWS without passing [`RawRequest::validate`].

mod apply;
mod checker;
mod index;
mod scope;
#[cfg(test)]
mod tests;
mod validate;

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::policy::{RawPolicy, Retention};
pub use crate::service::{Format, Service, Status, Verb};
pub use apply::RawApply;
pub(crate) use apply::{
    parse_rfc3339, ApplyRequest, PlanRefused, PlanSource, DEFAULT_PLAN_VALID_DAYS,
};
pub(crate) use index::{BackfillPart, IndexRequest};
pub(crate) use scope::{PackageRef, Scope, ScopeRequest};

/// The request as it travels: field names follow the AWS API member names.
/// Unknown fields are rejected, so a typo such as `verisons` never turns into
/// a different deletion than the one intended.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RawRequest {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) service: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) domain: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) domain_owner: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) repository: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) format: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) namespace: Option<String>,
    /// `null` is refused, not taken for "no package": a template that
    /// renders a missing name as `null` must not widen one package's
    /// deletion into a scope.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "not_null"
    )]
    pub(crate) package: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) versions: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) expected_status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) delete_package: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) unset_default_version: Option<bool>,
    /// With `policy` and no `package`: the packages whose names start so.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) package_prefix: Option<String>,
    /// With `policy` and no `package`: the packages CodeArtifact
    /// associates with this package group (`/npm/acme/*`) that the
    /// repository holds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) package_group: Option<String>,
    /// With `policy` (CodeArtifact, `delete`): read the assets of every
    /// version deleted (or planned) and report the bytes it frees.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) measure_storage: Option<bool>,
    /// A retention policy in place of `versions`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) policy: Option<RawPolicy>,
    /// Delete nothing; report the plan.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) dry_run: Option<bool>,
    /// `delete` (the default), `archive` or `unlist` (CodeArtifact),
    /// `deprecate` (IoT).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) action: Option<String>,
    /// IoT: refuse to delete versions in use (default true).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) protect_in_use: Option<bool>,
    /// With `policy`: the most versions one run deletes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) max_deletions: Option<u32>,
    /// With `policy`: skip a package whose plan would delete more than this
    /// share of its versions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) max_fraction: Option<f64>,
    /// Hand-on counter: 1 for a fresh request, raised each time unfinished
    /// work is re-enqueued.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) attempt: Option<u32>,
    /// Hand-on counter: the invocations in a row that made no progress on
    /// this work (absent: none). At `NO_PROGRESS_LIMIT` it is
    /// dead-lettered `NO_PROGRESS`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) no_progress: Option<u32>,
    /// Carry out a reviewed plan (see [`apply`]), or, beside `policy`, the
    /// plan one package of an apply is held to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) apply: Option<RawApply>,
    /// A dry run's report in S3 is a plan valid this many days (default 7).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) plan_valid_for_days: Option<f64>,
    /// Present on dead-letter messages. Accepted (and ignored) so that a
    /// dead-letter message can be redriven as it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) failure: Option<Value>,
    /// A scope's dry run that did not fit one invocation: the plan it
    /// continues, and the first of the scope's packages left to plan. Set
    /// by the function on the work queue, never by a caller.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) continues: Option<Continues>,
    /// Backfill the index of dependencies of `domain` (CodeArtifact).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) index_dependencies: Option<bool>,
    /// One part of a backfill. Set by the function on the work queue,
    /// never by a caller.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) backfill: Option<BackfillPart>,
}

/// The plan a scope's dry run continues (see [`crate::report::parts`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Continues {
    /// The plan's id (a UUID), given by its first part.
    pub(crate) plan_id: String,
    /// When its first part was made (RFC 3339): the plan's `createdAt`,
    /// and the day its objects are filed under.
    pub(crate) created_at: String,
    /// The index of the first package left to plan, in the order the
    /// first part listed the scope.
    pub(crate) from: usize,
}

/// Fields of the wire form that the function writes on its own messages
/// (hand-ons, dead letters, fan-out, continuations), never a caller:
/// error messages do not offer them.
pub(crate) const INTERNAL_FIELDS: [&str; 9] = [
    "backfill",
    "attempt",
    "noProgress",
    "failure",
    "continues",
    "planId",
    "expiresAt",
    "expect",
    "part",
];

/// A string that, when present, is not `null`.
fn not_null<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    String::deserialize(d).map(Some)
}

/// One CodeArtifact package, fully addressed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CodeArtifactPackage {
    pub(crate) domain: String,
    pub(crate) domain_owner: Option<String>,
    pub(crate) repository: String,
    pub(crate) format: Format,
    pub(crate) namespace: Option<String>,
    pub package: String,
}

impl fmt::Display for CodeArtifactPackage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{}/{}/",
            self.domain,
            self.repository,
            self.format.as_str()
        )?;
        if let Some(ns) = &self.namespace {
            write!(f, "{ns}/")?;
        }
        f.write_str(&self.package)
    }
}

/// What a request addresses, per service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    CodeArtifact {
        package: CodeArtifactPackage,
        /// `expectedStatus`, CodeArtifact's own enum.
        expected_status: Option<aws_sdk_codeartifact::types::PackageVersionStatus>,
    },
    Iot {
        package: String,
        unset_default_version: bool,
        /// Whether versions installed on things or named by unfinished jobs
        /// are looked for before they are deleted (`protectInUse`, default
        /// true).
        in_use: InUseCheck,
    },
}

/// Whether an IoT delete checks what is in use (`protectInUse`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InUseCheck {
    /// `protectInUse: false`: not checked.
    Off,
    /// Checked beside each twelve versions' deletes (the whole package:
    /// first).
    Check,
    /// Already checked, while a policy was planned: not read again. Sent
    /// on, it is checked again (`protectInUse: true`).
    Checked,
}

impl InUseCheck {
    /// `protectInUse` as validated.
    pub(crate) fn of(protect_in_use: bool) -> InUseCheck {
        match protect_in_use {
            true => InUseCheck::Check,
            false => InUseCheck::Off,
        }
    }
}

impl Target {
    pub(crate) fn service(&self) -> Service {
        match self {
            Target::CodeArtifact { .. } => Service::CodeArtifact,
            Target::Iot { .. } => Service::Iot,
        }
    }

    /// The package as it appears in logs and summaries.
    pub(crate) fn package_label(&self) -> String {
        match self {
            Target::CodeArtifact { package, .. } => package.to_string(),
            Target::Iot { package, .. } => package.clone(),
        }
    }
}

/// What to delete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// These versions, distinct, in the order first given.
    Versions(Vec<String>),
    /// The whole package.
    DeletePackage,
    /// The versions a retention policy selects.
    Retain(Box<Retention>),
}

/// What a request wrote where CodeArtifact stores another form (see
/// [`crate::names`]): kept for the audit line, never sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Written {
    /// The package label as written, when it differs from the stored one.
    pub package: Option<String>,
    /// Stored version → the version as first written, where they differ.
    pub(crate) versions: BTreeMap<String, String>,
}

/// A validated request: every field has passed the service model's checks,
/// and names and versions are in the form CodeArtifact stores.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub target: Target,
    pub action: Action,
    /// What is done to the versions: delete, archive, unlist, deprecate.
    pub(crate) verb: Verb,
    /// 1 for a fresh request; raised on each hand-on.
    pub(crate) attempt: u32,
    /// The invocations in a row that made no progress on it.
    pub(crate) no_progress: u32,
    /// Delete nothing; report what would be deleted.
    pub(crate) dry_run: bool,
    /// What the request wrote, where it differs from the stored form.
    pub(crate) written: Written,
}

impl Request {
    /// The wire form of this request, narrowed to `versions` when given, with
    /// `attempt` set (hand-on) or cleared (dead letter: a redrive starts over).
    pub fn to_raw(&self, versions: Option<&[String]>, attempt: Option<u32>) -> RawRequest {
        let mut raw = RawRequest {
            service: Some(self.target.service().as_str().to_owned()),
            attempt,
            ..RawRequest::default()
        };
        match &self.target {
            Target::CodeArtifact {
                package,
                expected_status,
            } => {
                raw.domain = Some(package.domain.clone());
                raw.domain_owner = package.domain_owner.clone();
                raw.repository = Some(package.repository.clone());
                raw.format = Some(package.format.as_str().to_owned());
                raw.namespace = package.namespace.clone();
                raw.package = Some(package.package.clone());
                raw.expected_status = expected_status.as_ref().map(|s| s.as_str().to_owned());
            }
            Target::Iot {
                package,
                unset_default_version,
                in_use,
            } => {
                raw.package = Some(package.clone());
                raw.unset_default_version = unset_default_version.then_some(true);
                raw.protect_in_use = (*in_use == InUseCheck::Off).then_some(false);
            }
        }
        raw.action = (self.verb != Verb::Delete).then(|| self.verb.as_str().to_owned());
        match (&self.action, versions) {
            // A policy's versions travel with the policy, so that a replay
            // checks again everything that made them deletable.
            (Action::Retain(r), Some(vs)) => raw.set_retention(&r.narrowed(vs)),
            (Action::Retain(r), None) => raw.set_retention(r),
            // Narrowed: the versions themselves.
            (_, Some(vs)) => raw.versions = Some(vs.to_vec()),
            (Action::Versions(vs), None) => raw.versions = Some(vs.clone()),
            (Action::DeletePackage, None) => raw.delete_package = Some(true),
        }
        raw.dry_run = self.dry_run.then_some(true);
        raw
    }
}

/// What a valid request asks for: one package, or a scope of many.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Job {
    One(Request),
    Many(ScopeRequest),
    /// A reviewed plan to carry out: read, checked, then one request per
    /// package.
    Apply(ApplyRequest),
    /// A backfill of a domain's index of dependencies, or one part of it.
    Index(IndexRequest),
}

impl Job {
    pub(crate) fn service(&self) -> Service {
        match self {
            Job::One(r) => r.target.service(),
            Job::Many(s) => s.service(),
            Job::Apply(a) => a.service,
            Job::Index(_) => Service::CodeArtifact,
        }
    }

    pub(crate) fn label(&self) -> String {
        match self {
            Job::One(r) => r.target.package_label(),
            Job::Many(s) => s.label(),
            Job::Apply(a) => a.label(),
            Job::Index(i) => i.label(),
        }
    }

    pub fn attempt(&self) -> u32 {
        match self {
            Job::One(r) => r.attempt,
            Job::Many(s) => s.attempt,
            Job::Apply(a) => a.attempt,
            Job::Index(i) => i.attempt,
        }
    }

    /// The invocations in a row that made no progress on it.
    pub(crate) fn no_progress(&self) -> u32 {
        match self {
            Job::One(r) => r.no_progress,
            Job::Many(s) => s.no_progress,
            Job::Apply(a) => a.no_progress,
            Job::Index(i) => i.no_progress,
        }
    }

    /// The retention policy it runs, if it runs one.
    pub fn retention(&self) -> Option<&Retention> {
        match self {
            Job::One(r) => match &r.action {
                Action::Retain(ret) => Some(ret),
                _ => None,
            },
            Job::Many(s) => Some(&s.retention),
            Job::Apply(_) | Job::Index(_) => None,
        }
    }

    /// Whether it carries out a plan the function itself wrote to its
    /// reports bucket (`reports_bucket`), which `DRY_RUN` lets act: an
    /// `apply` of a plan in that bucket (its digest checked where it
    /// enters), or one package bound to such a plan (checked against it
    /// before it acts, [`crate::report::holds`]). A plan given inline, or
    /// in another bucket, is not one the function made: with `DRY_RUN` it
    /// is planned, not applied.
    pub(crate) fn applies_a_reviewed_plan(&self, reports_bucket: Option<&str>) -> bool {
        let Some(own) = reports_bucket else {
            return false;
        };
        let in_own = |uri: &str| {
            uri.strip_prefix("s3://")
                .and_then(|rest| rest.split_once('/'))
                .is_some_and(|(bucket, _)| bucket == own)
        };
        match self {
            Job::Apply(a) => {
                matches!(&a.source, PlanSource::Report { bucket, .. } if bucket == own)
            }
            Job::One(r) => matches!(&r.action, Action::Retain(ret)
                if ret.planned.as_ref().and_then(|p| p.report.as_deref()).is_some_and(in_own)),
            Job::Many(_) | Job::Index(_) => false,
        }
    }

    /// Makes it a dry run (the `DRY_RUN` override).
    pub fn force_dry_run(&mut self) {
        match self {
            Job::One(r) => r.dry_run = true,
            Job::Many(s) => s.dry_run = true,
            Job::Apply(a) => a.dry_run = true,
            // A backfill only reads.
            Job::Index(_) => {}
        }
    }

    /// See [`Request::to_raw`]; a scope is never narrowed.
    pub fn to_raw(&self, versions: Option<&[String]>, attempt: Option<u32>) -> RawRequest {
        match self {
            Job::One(r) => r.to_raw(versions, attempt),
            Job::Many(s) => s.to_raw(attempt),
            Job::Apply(a) => a.to_raw(attempt),
            Job::Index(i) => i.to_raw(versions, attempt),
        }
    }
}

/// Every reason a request was refused, each naming its field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid request: {}", .problems.join("; "))]
pub struct ValidationError {
    pub(crate) problems: Vec<String>,
}

impl RawRequest {
    /// The request that applies a reviewed plan of `service`.
    pub fn applying(service: Service, apply: RawApply) -> RawRequest {
        RawRequest {
            service: Some(service.as_str().to_owned()),
            apply: Some(apply),
            ..RawRequest::default()
        }
    }
}

impl RawRequest {
    /// Writes a policy and its run's settings (caps, a replay's versions).
    pub(crate) fn set_retention(&mut self, r: &Retention) {
        self.policy = Some(r.raw.clone());
        self.max_deletions = r.max_deletions;
        self.max_fraction = r.max_fraction_milli.map(|m| f64::from(m) / 1000.0);
        self.versions = r.only.clone();
        self.apply = r.planned.as_ref().map(crate::policy::Planned::to_raw);
        self.plan_valid_for_days = r.plan_valid_for_days;
        self.measure_storage = r.measure_storage.then_some(true);
    }
}
