//! The per-invocation counts: every unit's account added up, with the
//! invariant that every requested item has exactly one fate.

use serde::Serialize;

use super::{Disposition, UnitAccount};
use crate::plan::PackagePlan;

/// Per-invocation counts. `requested` always equals the sum of the
/// outcomes (deleted, archived, unlisted, deprecated, already absent, kept,
/// dead-lettered, handed on).
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub requested: u64,
    pub deleted: u64,
    pub archived: u64,
    pub unlisted: u64,
    pub deprecated: u64,
    pub already_absent: u64,
    pub kept: u64,
    pub dead_lettered: u64,
    pub handed_on: u64,
    pub invalid_requests: u64,
    pub dead_letter_messages: u64,
    pub hand_on_messages: u64,
    pub records_redelivered: u64,
    pub packages_fanned_out: u64,
    pub ignored_events: u64,
    /// Requests (and policies) naming a package that does not exist: a
    /// typo shows here, and in the EMF metric `PackagesNotFound`.
    pub packages_not_found: u64,
    /// Download events received (usage queue), reads among them that named
    /// no version, and versions whose latest read was written.
    #[serde(skip_serializing_if = "is_zero")]
    pub read_events: u64,
    #[serde(skip_serializing_if = "is_zero")]
    pub metadata_reads: u64,
    #[serde(skip_serializing_if = "is_zero")]
    pub versions_recorded: u64,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub invalid: Vec<String>,
    /// Dry runs: per package, what would be deleted and what is kept by which rule.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub plans: Vec<PackagePlan>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl Summary {
    pub fn add(&mut self, acc: &UnitAccount) {
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
            } += 1;
        }
        self.invalid_requests += acc.invalid.len() as u64;
        self.invalid.extend(acc.invalid.iter().cloned());
        self.dead_letter_messages += acc.dead_letters.len() as u64;
        self.hand_on_messages += acc.hand_ons.len() as u64;
        self.records_redelivered += u64::from(acc.redeliver);
        self.packages_fanned_out += acc.fanned_out;
        self.ignored_events += acc.ignored.len() as u64;
        self.packages_not_found += acc.packages_not_found.len() as u64;
        self.read_events += acc.read_events;
        self.metadata_reads += acc.metadata_reads;
        self.versions_recorded += acc.versions_recorded;
        self.plans.extend(acc.plans.iter().cloned());
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
    }
}
