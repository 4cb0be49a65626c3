//! Retention policies: the `policy` object of a request, its validation, and
//! the format-aware pre-release rules. The planner that applies a policy to a
//! listing is in [`crate::plan`].

use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

mod lines;
mod planned;
mod rule;

pub(crate) use lines::{release_line, LinePer};
pub(crate) use planned::{Expected, Planned};
pub use rule::KeepRule;

use crate::service::{Format, Service, Status, Verb};

/// The `policy` object as it travels.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RawPolicy {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) keep_latest: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) older_than_days: Option<f64>,
    #[serde(rename = "match", skip_serializing_if = "Option::is_none")]
    pub(crate) matches: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) exclude: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) statuses: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) prerelease: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) origin_types: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) unset_default_version: Option<bool>,
    /// `major`, `minor`, or a regex whose first group names the release
    /// line: `keepLatest` then keeps that many of every line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) keep_latest_per: Option<String>,
    /// IoT: keep versions installed on things or named by unfinished jobs
    /// (default true). Also accepted at the request's top level.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) protect_in_use: Option<bool>,
    /// CodeArtifact: keep the package's `defaultDisplayVersion` (npm's
    /// `latest`) (default true).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) protect_default_display_version: Option<bool>,
    /// What to do to the selected versions; also accepted at the request's
    /// top level.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) action: Option<String>,
    /// CodeArtifact: keep what a package manager read within this many days
    /// (fractions allowed), from the downloads table (`DOWNLOADS_TABLE`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) not_downloaded_for_days: Option<f64>,
    /// CodeArtifact: select only Archived versions archived at least this
    /// many days ago (fractions allowed), from the archive times recorded
    /// in the downloads table. A rule that keeps.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) archived_for_days: Option<f64>,
    /// CodeArtifact: keep what a present version of the domain depends on,
    /// from the index of dependencies in the function's table (opt-in).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) protect_dependencies: Option<bool>,
}

/// A regex that compares by its text.
#[derive(Debug, Clone)]
pub(crate) struct Pattern(pub Regex);

impl PartialEq for Pattern {
    fn eq(&self, other: &Self) -> bool {
        self.0.as_str() == other.0.as_str()
    }
}

impl Eq for Pattern {}

/// A validated policy. Candidates are the versions that pass every filter;
/// a candidate is deleted only if it is not among the `keep_latest` newest
/// candidates **and** (when set) is older than `older_than_days`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub(crate) keep_latest: u32,
    /// Whole seconds, so that the policy compares exactly.
    pub(crate) older_than_secs: Option<u64>,
    pub(crate) matches: Option<Pattern>,
    pub(crate) exclude: Option<Pattern>,
    pub(crate) statuses: Option<Vec<Status>>,
    pub(crate) prerelease: Option<bool>,
    pub(crate) origin_types: Option<Vec<String>>,
    /// `keepLatestPer`: `keep_latest` applies within each release line.
    pub(crate) per: Option<LinePer>,
    /// Keep CodeArtifact's `defaultDisplayVersion`.
    pub(crate) protect_display_version: bool,
    /// `notDownloadedForDays`, in whole seconds: keep what was read within.
    pub(crate) not_downloaded_for_secs: Option<u64>,
    /// `archivedForDays`, in whole seconds: only versions archived at
    /// least this long ago may go.
    pub(crate) archived_for_secs: Option<u64>,
    /// `protectDependencies`: keep what present versions of the domain
    /// need.
    pub(crate) protect_dependencies: bool,
}

/// A policy with the run's safety settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Retention {
    pub(crate) policy: Policy,
    pub(crate) raw: RawPolicy,
    pub max_deletions: Option<u32>,
    /// In thousandths, so that it compares exactly.
    pub(crate) max_fraction_milli: Option<u32>,
    /// A replay of a run's unfinished versions (`versions` beside `policy`):
    /// the whole package is listed and planned again, with every guard, and
    /// only these versions may go. A version the policy no longer selects is
    /// kept with the rule that keeps it now.
    pub only: Option<Vec<String>>,
    /// An `apply` of a reviewed plan: only `only` may go, and each only
    /// while its status and revision are still what the plan saw.
    pub(crate) planned: Option<Planned>,
    /// `planValidForDays`: how long a dry run's report may be applied.
    pub(crate) plan_valid_for_days: Option<f64>,
    /// `measureStorage`: the assets of what the run deletes (or plans to)
    /// are read and their bytes reported.
    pub(crate) measure_storage: bool,
}

/// Validation refuses NaN, so equality is total.
impl Eq for Retention {}

impl Retention {
    /// The same run, narrowed to `versions`.
    pub(crate) fn narrowed(&self, versions: &[String]) -> Retention {
        Retention {
            only: Some(versions.to_vec()),
            planned: self.planned.as_ref().map(|p| p.narrowed(versions)),
            ..self.clone()
        }
    }
}

const ORIGIN_TYPES: [&str; 3] = ["INTERNAL", "EXTERNAL", "UNKNOWN"];
/// Longest accepted regex, and the compiled size limit, against hostile input.
const MAX_PATTERN_LEN: usize = 1024;

fn pattern(field: &str, text: &Option<String>, problems: &mut Vec<String>) -> Option<Pattern> {
    let text = text.as_ref()?;
    if text.len() > MAX_PATTERN_LEN {
        problems.push(format!(
            "`policy.{field}` is longer than {MAX_PATTERN_LEN} characters"
        ));
        return None;
    }
    match regex::RegexBuilder::new(text).size_limit(1 << 20).build() {
        Ok(r) => Some(Pattern(r)),
        Err(e) => {
            problems.push(format!("`policy.{field}` is not a valid regex: {e}"));
            None
        }
    }
}

impl RawPolicy {
    /// Validates the policy for a service and the request's action;
    /// problems are appended.
    pub fn validate(
        &self,
        service: Service,
        verb: Verb,
        problems: &mut Vec<String>,
    ) -> Option<Policy> {
        let before = problems.len();
        let keeps_by_count = self.check_keeps(problems);
        let matches = pattern("match", &self.matches, problems);
        let exclude = pattern("exclude", &self.exclude, problems);
        let statuses = self.statuses(service, verb, problems);
        self.check_service_members(service, problems);
        self.check_windows(service, verb, problems);
        if service == Service::Iot && self.protect_default_display_version.is_some() {
            problems.push("`policy.protectDefaultDisplayVersion` is a CodeArtifact setting".into());
        }
        let per = self.line_per(keeps_by_count, problems);
        let secs = |days: Option<f64>| days.map(|d| (d * 86_400.0).round() as u64);
        (problems.len() == before).then(|| Policy {
            keep_latest: self.keep_latest.unwrap_or(0),
            older_than_secs: secs(self.older_than_days),
            matches,
            exclude,
            statuses,
            prerelease: self.prerelease,
            origin_types: self.origin_types.clone(),
            per,
            protect_display_version: self.protect_default_display_version != Some(false),
            not_downloaded_for_secs: secs(self.not_downloaded_for_days),
            archived_for_secs: secs(self.archived_for_days),
            protect_dependencies: self.protect_dependencies == Some(true),
        })
    }

    /// A policy must keep something: `keepLatest` above 0, `olderThanDays`
    /// above 0 (and at most 36500) or `archivedForDays`. Returns whether it
    /// keeps by count.
    fn check_keeps(&self, problems: &mut Vec<String>) -> bool {
        // `keepLatest: 0` keeps no candidate by count and `olderThanDays: 0`
        // none by age: unset or zero, both, is a policy that keeps nothing.
        let keeps_by_count = self.keep_latest.is_some_and(|n| n > 0);
        let keeps_by_age = self.older_than_days.is_some_and(|d| d != 0.0);
        let keeps_by_archive = self.archived_for_days.is_some();
        if !keeps_by_count && !keeps_by_age && !keeps_by_archive {
            problems.push(format!(
                "`policy` must set `keepLatest` above 0, `olderThanDays` above 0 or `archivedForDays`: a policy that keeps nothing is refused (got keepLatest {}, olderThanDays {})",
                self.keep_latest.map_or("unset".to_owned(), |n| n.to_string()),
                self.older_than_days.map_or("unset".to_owned(), |d| d.to_string()),
            ));
        }
        if let Some(d) = self.older_than_days {
            if !(0.0..=36_500.0).contains(&d) || d.is_nan() {
                problems.push(format!(
                    "`policy.olderThanDays` must be from 0 to 36500, got {d}"
                ));
            }
        }
        keeps_by_count
    }

    /// `statuses`, each the service's own; the action's default when unset.
    fn statuses(
        &self,
        service: Service,
        verb: Verb,
        problems: &mut Vec<String>,
    ) -> Option<Vec<Status>> {
        let allowed = Status::names(service);
        for s in self.statuses.iter().flatten() {
            if Status::parse(service, s).is_none() {
                problems.push(format!(
                    "`policy.statuses` holds {s:?}; {service} statuses are {}",
                    allowed.join(", ")
                ));
            }
        }
        if self.statuses.as_ref().is_some_and(Vec::is_empty) {
            problems.push("`policy.statuses` must name at least one status".into());
        }
        match &self.statuses {
            Some(named) => Some(
                named
                    .iter()
                    .filter_map(|s| Status::parse(service, s))
                    .collect(),
            ),
            None => verb.default_statuses(),
        }
    }

    /// The members only one service has: `originTypes` (CodeArtifact's),
    /// `unsetDefaultVersion` and `protectInUse` (IoT's).
    fn check_service_members(&self, service: Service, problems: &mut Vec<String>) {
        match (service, &self.origin_types) {
            (Service::Iot, Some(_)) => {
                problems.push("`policy.originTypes` is a CodeArtifact setting".into())
            }
            (_, Some(types)) => {
                for t in types {
                    if !ORIGIN_TYPES.contains(&t.as_str()) {
                        problems.push(format!(
                            "`policy.originTypes` holds {t:?}; origin types are {}",
                            ORIGIN_TYPES.join(", ")
                        ));
                    }
                }
            }
            _ => {}
        }
        if service == Service::CodeArtifact && self.unset_default_version.is_some() {
            problems.push("`policy.unsetDefaultVersion` is an IoT setting".into());
        }
        if service == Service::Iot && self.protect_dependencies.is_some() {
            problems.push(
                "`policy.protectDependencies` is a CodeArtifact setting (IoT has `protectInUse`)"
                    .into(),
            );
        }
        if service == Service::CodeArtifact && self.protect_in_use.is_some() {
            problems.push("`policy.protectInUse` is an IoT setting".into());
        }
    }

    /// CodeArtifact's windows: `notDownloadedForDays` and
    /// `archivedForDays` (which only deletes), above 0 and at most 36500.
    fn check_windows(&self, service: Service, verb: Verb, problems: &mut Vec<String>) {
        if let Some(d) = self.not_downloaded_for_days {
            if service == Service::Iot {
                problems.push("`policy.notDownloadedForDays` is a CodeArtifact setting (IoT has `protectInUse`)".into());
            } else if !(d > 0.0 && d <= 36_500.0) {
                problems.push(format!(
                    "`policy.notDownloadedForDays` must be above 0 and at most 36500, got {d}"
                ));
            }
        }
        if let Some(d) = self.archived_for_days {
            if service == Service::Iot {
                problems.push("`policy.archivedForDays` is a CodeArtifact setting (IoT versions are not archived)".into());
            } else if !(d > 0.0 && d <= 36_500.0) {
                problems.push(format!(
                    "`policy.archivedForDays` must be above 0 and at most 36500, got {d}"
                ));
            } else if verb != Verb::Delete {
                problems.push(format!(
                    "`policy.archivedForDays` selects Archived versions to delete; it cannot be combined with `action: {verb}`"
                ));
            }
        }
    }

    /// `keepLatestPer`, which needs `keepLatest` above 0.
    fn line_per(&self, keeps_by_count: bool, problems: &mut Vec<String>) -> Option<LinePer> {
        self.keep_latest_per.as_ref().and_then(|text| {
            if !keeps_by_count {
                problems.push("`policy.keepLatestPer` needs `keepLatest` above 0: it keeps that many of every release line".into());
            }
            LinePer::parse(text, || pattern("keepLatestPer", &self.keep_latest_per, problems))
                .map_err(|e| {
                    if !e.is_empty() {
                        problems.push(e)
                    }
                })
                .ok()
        })
    }
}

static SEMVER_PRE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^v?\d+(\.\d+)*-[0-9A-Za-z.\-]+$").expect("regex"));
static PEP440_PRE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^v?\d+(\.\d+)*[-_.]?(a|b|c|rc|alpha|beta|pre|preview)[-_.]?\d*([-_.]?(post|rev|r)[-_.]?\d*)?([-_.]?dev[-_.]?\d*)?(\+.*)?$|(?i)[-_.]?dev[-_.]?\d*(\+.*)?$")
        .expect("regex")
});
static MAVEN_PRE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(-SNAPSHOT$|[-.](alpha|a|beta|b|milestone|m|rc|cr|preview|pre|dev|ea)([-.]?\d+)?([-.]|$))").expect("regex")
});
static HAS_LETTER: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"[A-Za-z]").expect("regex"));

/// Whether a version is a pre-release by its format's own rules.
/// - npm, cargo, nuget, swift, generic and IoT: semver (`1.2.0-rc.1`; build
///   metadata after `+` is ignored).
/// - pypi: PEP 440 (`1.0a1`, `1.0b2`, `1.0rc1`, `1.0.dev3`).
/// - maven: `-SNAPSHOT` and the qualifiers alpha, beta, milestone, rc, cr
///   (`1.0-alpha-1`, `2.0.0-M1`, `1.0-RC2`).
/// - ruby: RubyGems, any letter (`1.0.0.pre`, `2.0.0.rc1`).
pub(crate) fn is_prerelease(format: Option<Format>, version: &str) -> bool {
    let core = version.split('+').next().unwrap_or(version);
    match format {
        Some(Format::Pypi) => PEP440_PRE.is_match(version),
        Some(Format::Maven) => MAVEN_PRE.is_match(version),
        Some(Format::Ruby) => HAS_LETTER.is_match(version),
        _ => SEMVER_PRE.is_match(core),
    }
}

#[cfg(test)]
mod tests;
