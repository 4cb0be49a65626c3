//! The per-invocation counts: every unit's account added up, with the
//! invariant that every requested item has exactly one fate.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{Disposition, UnitAccount};
use crate::plan::{PackagePlan, StorageTotals};

/// Where a run report was written ([`crate::report`]): `s3://` URIs, and
/// the digest an `apply` names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportLinks {
    pub json: String,
    pub(crate) csv: String,
    pub(crate) markdown: String,
    /// Lowercase hex SHA-256 of report.json.
    pub sha256: String,
    /// The plan's id, when the report is a plan.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) plan_id: Option<String>,
    /// The service of the request it reports (for the metrics).
    #[serde(skip)]
    pub(crate) service: crate::request::Service,
}

/// A scope's plan made in parts, not complete at the end of this
/// invocation: the work queue plans the rest, and the last part writes
/// report.json at `report`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlanInProgress {
    pub(crate) plan_id: String,
    /// Where the plan's report.json appears once complete (`s3://`).
    pub report: String,
    /// The scope's packages planned so far (from the first), and in all.
    pub packages_planned: u64,
    pub(crate) packages: u64,
}

/// How many missing packages a summary names at most.
pub(crate) const MISSING_PACKAGES_SHOWN: usize = 100;

/// How many versions the inline `plans` of a response or summary line
/// show at most, across packages (selected and kept): beyond, each plan
/// is cut and says `truncated`, and the report in S3 has them all. About
/// 100 KB of JSON, far below Lambda's 6 MB response limit.
pub(crate) const INLINE_PLAN_VERSIONS: usize = 1_000;

/// Per-invocation counts. `requested` always equals the sum of the
/// outcomes (deleted, archived, unlisted, deprecated, already absent, kept,
/// dead-lettered, handed on).
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub requested: u64,
    pub deleted: u64,
    pub archived: u64,
    pub(crate) unlisted: u64,
    pub deprecated: u64,
    pub already_absent: u64,
    pub kept: u64,
    pub dead_lettered: u64,
    pub handed_on: u64,
    /// Versions a backfill's parts indexed (`indexDependencies`).
    #[serde(skip_serializing_if = "is_zero")]
    pub indexed: u64,
    pub invalid_requests: u64,
    pub dead_letter_messages: u64,
    pub hand_on_messages: u64,
    /// Items handed on that this invocation made no progress on (their
    /// `noProgress` rose): a queue that only spins shows here, and in the
    /// EMF metric `HandedOnWithoutProgress`.
    #[serde(skip_serializing_if = "is_zero")]
    pub handed_on_without_progress: u64,
    pub records_redelivered: u64,
    /// Records whose message an earlier delivery handled (SQS delivered it
    /// twice), acknowledged without work (with `DOWNLOADS_TABLE`).
    #[serde(skip_serializing_if = "is_zero")]
    pub handled_earlier: u64,
    pub packages_fanned_out: u64,
    pub ignored_events: u64,
    /// Requests (and policies) naming a package that does not exist: a
    /// typo shows here, and in the EMF metric `PackagesNotFound`.
    pub packages_not_found: u64,
    /// Those packages, named as the audit log names them (at most
    /// [`MISSING_PACKAGES_SHOWN`]; `packagesNotFound` counts them all).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub missing_packages: Vec<String>,
    /// Download events received (usage queue), reads among them that named
    /// no version, and versions whose latest read was written.
    #[serde(skip_serializing_if = "is_zero")]
    pub read_events: u64,
    #[serde(skip_serializing_if = "is_zero")]
    pub(crate) metadata_reads: u64,
    #[serde(skip_serializing_if = "is_zero")]
    pub versions_recorded: u64,
    /// Archive times recorded from CodeArtifact's state-change events.
    #[serde(skip_serializing_if = "is_zero")]
    pub archives_recorded: u64,
    /// Versions whose entry in the index of dependencies was made again
    /// from state-change events (usage queue), and the edges written
    /// (events and a backfill's parts).
    #[serde(skip_serializing_if = "is_zero")]
    pub dependents_indexed: u64,
    #[serde(skip_serializing_if = "is_zero")]
    pub dependency_edges_written: u64,
    /// Requirements `protectDependencies` could not read (each kept every
    /// candidate of the package it names).
    #[serde(skip_serializing_if = "is_zero")]
    pub unreadable_requirements: u64,
    /// `measureStorage`: the asset bytes of the versions deleted (a dry
    /// run: planned), and the part of them another repository of the
    /// domain still holds (`bytes - sharedBytes` is what was freed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storage: Option<StorageTotals>,
    /// Of those versions, the ones whose size CodeArtifact did not give
    /// (counted in neither figure).
    #[serde(skip_serializing_if = "is_zero")]
    pub unknown_size_versions: u64,
    /// Run reports written (with `REPORTS_BUCKET`), and those that could
    /// not be.
    #[serde(skip_serializing_if = "is_zero")]
    pub reports_written: u64,
    #[serde(skip_serializing_if = "is_zero")]
    pub(crate) reports_unwritten: u64,
    /// The report, when the invocation wrote exactly one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report: Option<ReportLinks>,
    /// The reports, when it wrote more than one.
    #[serde(skip_serializing_if = "many")]
    pub reports: Vec<ReportLinks>,
    /// Plans of scopes still being made in parts.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub plans_in_progress: Vec<PlanInProgress>,
    /// Requests sent to the work queue to plan the rest of those plans
    /// (not hand-ons: nothing of them was left unfinished).
    #[serde(skip_serializing_if = "is_zero")]
    pub(crate) plan_continuations: u64,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub invalid: Vec<String>,
    /// Dry runs: per package, what would be deleted and what is kept by
    /// which rule; at most [`INLINE_PLAN_VERSIONS`] versions in all.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub plans: Vec<PackagePlan>,
    /// Dry runs: what would change, by action (`{"delete": 29}`), over
    /// every plan, whether or not `plans` was cut.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub planned: BTreeMap<String, u64>,
    /// The plans were cut to [`INLINE_PLAN_VERSIONS`].
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub(crate) plans_truncated: bool,
}

fn many(r: &[ReportLinks]) -> bool {
    r.len() < 2
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl Summary {
    pub(crate) fn add(&mut self, acc: &UnitAccount) {
        for l in &acc.lines {
            self.requested += 1;
            *match l.disposition {
                Disposition::Deleted => &mut self.deleted,
                Disposition::Archived => &mut self.archived,
                Disposition::Unlisted => &mut self.unlisted,
                Disposition::Deprecated => &mut self.deprecated,
                Disposition::AlreadyAbsent => &mut self.already_absent,
                Disposition::Kept => &mut self.kept,
                Disposition::DeadLettered => &mut self.dead_lettered,
                Disposition::HandedOn => &mut self.handed_on,
                Disposition::Indexed => &mut self.indexed,
            } += 1;
        }
        self.add_storage(acc);
        self.invalid_requests += acc.invalid.len() as u64;
        self.invalid.extend(acc.invalid.iter().cloned());
        self.dead_letter_messages += acc.dead_letters.len() as u64;
        self.hand_on_messages += acc.hand_ons.len() as u64;
        self.handed_on_without_progress += acc
            .handed_on_without_progress
            .iter()
            .map(|(_, n)| n)
            .sum::<u64>();
        self.plan_continuations += acc.continuations.len() as u64;
        self.plans_in_progress
            .extend(acc.plans_in_progress.iter().cloned());
        self.records_redelivered += u64::from(acc.redeliver);
        self.handled_earlier += u64::from(acc.handled_earlier);
        self.packages_fanned_out += acc.fanned_out;
        self.ignored_events += acc.ignored.len() as u64;
        self.packages_not_found += acc.packages_not_found.len() as u64;
        for (_, package, _) in &acc.packages_not_found {
            if self.missing_packages.len() < MISSING_PACKAGES_SHOWN
                && !self.missing_packages.contains(package)
            {
                self.missing_packages.push(package.clone());
            }
        }
        self.read_events += acc.read_events;
        self.metadata_reads += acc.metadata_reads;
        self.versions_recorded += acc.versions_recorded;
        self.archives_recorded += acc.archives_recorded;
        self.dependents_indexed += acc.dependents_indexed;
        self.dependency_edges_written += acc.dependency_edges_written;
        self.unreadable_requirements += acc.unreadable_requirements;
        for p in &acc.plans {
            let n = p
                .truncated
                .map_or(p.selected.len(), |(selected, _)| selected);
            *self.planned.entry(p.verb.as_str().to_owned()).or_default() += n as u64;
        }
        self.plans.extend(acc.plans.iter().cloned());
        self.plans_truncated |= cap_plans(&mut self.plans, INLINE_PLAN_VERSIONS);
        self.reports_written += acc.reports.len() as u64;
        self.reports_unwritten += acc.reports_unwritten.len() as u64;
        self.reports.extend(acc.reports.iter().cloned());
        self.report = (self.reports.len() == 1).then(|| self.reports[0].clone());
    }

    /// `measureStorage`: what the lines' deletes (or planned deletes) hold.
    fn add_storage(&mut self, acc: &UnitAccount) {
        for v in acc.lines.iter().filter_map(super::Line::freeing) {
            self.storage.get_or_insert_default().add(v);
        }
        self.unknown_size_versions = self.storage.map_or(0, |s| s.unknown_size_versions);
    }

    /// The accounting invariant: every requested item has exactly one fate.
    pub fn balanced(&self) -> bool {
        self.requested
            == self.deleted
                + self.archived
                + self.unlisted
                + self.deprecated
                + self.already_absent
                + self.kept
                + self.dead_lettered
                + self.handed_on
                + self.indexed
    }
}

/// Cuts `plans` to `limit` versions in all (each plan's selected, then
/// kept, in order), marking each plan cut with its full counts. Returns
/// whether anything was cut.
pub(crate) fn cap_plans(plans: &mut [PackagePlan], limit: usize) -> bool {
    let mut left = limit;
    let mut cut = false;
    for p in plans {
        let counts = (p.selected.len(), p.keep.len());
        let selected = p.selected.len().min(left);
        left -= selected;
        let keep = p.keep.len().min(left);
        left -= keep;
        if selected < counts.0 || keep < counts.1 {
            p.selected.truncate(selected);
            p.keep.truncate(keep);
            p.truncated = Some(p.truncated.unwrap_or(counts));
            cut = true;
        }
    }
    cut
}
