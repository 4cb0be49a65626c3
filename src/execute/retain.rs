//! A policy request: list, plan, protect, then act on what the plan
//! selects (or, in a dry run, report it). A dry run makes the same reads as
//! a real run, so its plan is the one the real run would carry out.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::{CallContext, Done, Executed, Executor, ItemOutcome, Listing, Revisions};
use crate::downloads::{ArchiveTimes, Dependents, Downloads};
use crate::error::DeleteError;
use crate::plan::{self, DependencyGuard, Item, KeptVersion, PackagePlan, VersionBytes};
use crate::policy::{KeepRule, Retention};
use crate::request::{Action, InUseCheck, Request, Target, Verb};
use crate::retry::Tried;

impl Executor {
    /// List, plan, protect, then act on what the plan selects (unless a
    /// dry run).
    pub(super) async fn retain(
        &self,
        request: &Request,
        retention: &Retention,
        cx: &CallContext<'_>,
    ) -> Executed {
        // The table is read beside the listing.
        let (listing, reads) = tokio::join!(
            self.listing(request, retention, cx),
            self.table_reads(request, retention, cx)
        );
        let attempts = listing.calls;
        let listing = match listing.result {
            Ok(l) => l,
            Err(e) => return failed(request, e, attempts),
        };
        let Selection {
            selected,
            mut keep,
            absent,
            unreadable,
        } = select(request, retention, &listing, &reads);
        // A real run checks what is in use beside the deletes, twelve
        // versions a search (the adapter's overlap); a dry run reads it all
        // first, to report the plan the real run would carry out.
        let overlap = !request.dry_run && guards_in_use(request);
        let guarded = (self.guarded(request, retention, selected, (&mut keep, overlap), cx)).await;
        let (selected, storage) = match guarded.result {
            Ok(g) => g,
            Err(e) => return failed(request, e, attempts + guarded.calls),
        };
        let mut outcomes = absent_outcomes(absent, listing.missing);
        outcomes.extend(keep.iter().map(ItemOutcome::kept));
        let selected = match request.dry_run {
            true => {
                outcomes.extend(self.planned(request, &selected, cx).await);
                selected
            }
            false => {
                let run = (&listing, overlap);
                self.carry_out(request, run, selected, (&mut keep, &mut outcomes), cx)
                    .await
            }
        };
        Executed {
            outcomes,
            plan: Some(PackagePlan {
                package: request.target.package_label(),
                verb: request.verb,
                selected,
                keep,
                unreadable_requirements: unreadable,
                storage,
                ..PackagePlan::of_listing(&listing.versions)
            }),
            package_not_found: listing.missing,
        }
    }

    /// The selected versions protected (unless what is in use is checked
    /// beside the deletes: `overlap`), then, with `measureStorage`,
    /// measured: read before anything goes.
    async fn guarded(
        &self,
        request: &Request,
        retention: &Retention,
        selected: Vec<String>,
        (keep, overlap): (&mut Vec<KeptVersion>, bool),
        cx: &CallContext<'_>,
    ) -> Tried<(Vec<String>, BTreeMap<String, VersionBytes>)> {
        let protected = match overlap {
            true => Tried::free(selected),
            false => self.protect(request, selected, keep, cx).await,
        };
        let selected = match protected.result {
            Ok(s) => s,
            Err(e) => return Tried::new(Err(e), protected.calls),
        };
        let measured = self.measured(request, retention, &selected, cx).await;
        let calls = protected.calls + measured.calls;
        Tried::new(measured.result.map(|s| (selected, s)), calls)
    }

    /// What the policy's guards read from the table, all at once.
    async fn table_reads(
        &self,
        request: &Request,
        retention: &Retention,
        cx: &CallContext<'_>,
    ) -> TableReads {
        let (downloads, archives, dependents) = tokio::join!(
            self.downloads(request, retention, cx),
            self.archive_times(request, retention, cx),
            self.dependents(request, retention, cx)
        );
        TableReads {
            downloads,
            archives,
            dependents,
        }
    }

    /// A dry run's selected versions: kept as `DRY_RUN`, with what is in
    /// use noted.
    async fn planned(
        &self,
        request: &Request,
        selected: &[String],
        cx: &CallContext<'_>,
    ) -> Vec<ItemOutcome> {
        let mut planned: Vec<ItemOutcome> = selected
            .iter()
            .map(|v| ItemOutcome::done(Item::Version(v.clone()), Done::Kept(KeepRule::DryRun), 0))
            .collect();
        self.note_in_use(request, &mut planned, cx).await;
        planned
    }

    /// A real run acts on the selected versions; a version found in use
    /// beside its delete is kept by the policy instead. Returns the
    /// versions still selected.
    async fn carry_out(
        &self,
        request: &Request,
        (listing, overlap): (&Listing, bool),
        mut selected: Vec<String>,
        (keep, outcomes): (&mut Vec<KeptVersion>, &mut Vec<ItemOutcome>),
        cx: &CallContext<'_>,
    ) -> Vec<String> {
        if selected.is_empty() {
            return selected;
        }
        let mut acted = self.act(request, listing, &selected, cx, overlap).await;
        self.note_in_use(request, &mut acted, cx).await;
        for o in acted {
            match &o.result {
                Err(e) if e.is_in_use() => {
                    let k = super::kept_instead(&o.item, e);
                    selected.retain(|v| *v != k.version);
                    outcomes.push(ItemOutcome::kept(&k));
                    keep.push(k);
                }
                _ => outcomes.push(o),
            }
        }
        selected
    }

    /// The plan's selected versions, acted on as an explicit request: with
    /// `overlap`, the adapter checks what is in use beside each delete;
    /// without, the check is done (or not asked for).
    async fn act(
        &self,
        request: &Request,
        listing: &Listing,
        selected: &[String],
        cx: &CallContext<'_>,
        overlap: bool,
    ) -> Vec<ItemOutcome> {
        let explicit = Request {
            action: Action::Versions(selected.to_vec()),
            dry_run: false,
            target: match overlap {
                true => request.target.clone(),
                false => checked(&request.target),
            },
            ..request.clone()
        };
        // A status change applies only to the revision that was planned.
        let revisions: Revisions = listing
            .versions
            .iter()
            .filter(|l| request.verb != Verb::Delete && selected.contains(&l.name))
            .filter_map(|l| Some((l.name.clone(), l.revision.clone()?)))
            .collect();
        super::complete(&explicit, self.apply(&explicit, &revisions, cx).await)
    }

    /// The package's listing, with ages against `olderThanDays`.
    async fn listing(
        &self,
        request: &Request,
        retention: &Retention,
        cx: &CallContext<'_>,
    ) -> Tried<Listing> {
        let older_than = retention.policy.older_than_secs.map(|s| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default()
                .as_secs_f64()
                - s as f64
        });
        match &request.target {
            Target::CodeArtifact { package, .. } => {
                self.codeartifact.versions(package, older_than, cx).await
            }
            Target::Iot { package, .. } => self.iot.versions(package, older_than, cx).await,
        }
    }

    /// IoT deletes with `protectInUse`: the selected versions in use (or
    /// that may be) are kept instead, saying where. Only the selected
    /// versions are looked up, twelve a search (more only where one finds
    /// things).
    async fn protect(
        &self,
        request: &Request,
        selected: Vec<String>,
        keep: &mut Vec<KeptVersion>,
        cx: &CallContext<'_>,
    ) -> Tried<Vec<String>> {
        let Target::Iot { package, .. } = &request.target else {
            return Tried::free(selected);
        };
        if !guards_in_use(request) || selected.is_empty() {
            return Tried::free(selected);
        }
        self.iot
            .usage(package, &selected, cx)
            .await
            .map(|usage| plan::protect(selected, keep, &usage))
    }
}

/// Whether the request deletes IoT versions with `protectInUse`.
fn guards_in_use(request: &Request) -> bool {
    matches!(
        request.target,
        Target::Iot {
            in_use: InUseCheck::Check,
            ..
        }
    ) && request.verb == Verb::Delete
}

/// What the table told a policy run: each guard's reads, when its policy
/// field asks for them.
struct TableReads {
    downloads: Option<(Downloads, i64)>,
    archives: Option<(ArchiveTimes, i64)>,
    dependents: Option<Dependents>,
}

/// A policy's plan of a listing.
struct Selection {
    selected: Vec<String>,
    keep: Vec<KeptVersion>,
    /// Versions `only` names that the listing does not hold.
    absent: Vec<String>,
    /// Requirements on the package that could not be read.
    unreadable: u32,
}

/// The policy's plan of a listing, with the guards the table's reads make.
fn select(
    request: &Request,
    retention: &Retention,
    listing: &Listing,
    reads: &TableReads,
) -> Selection {
    let guards = guards(reads.downloads.as_ref(), reads.archives.as_ref());
    let mut dependency_guard = None;
    let package = match &request.target {
        Target::CodeArtifact { package, .. } => {
            dependency_guard = (reads.dependents.as_ref())
                .map(|d| DependencyGuard::of(d, &listing.versions, package.format));
            plan::Package::codeartifact(&listing.versions, package.format)
        }
        Target::Iot {
            unset_default_version,
            ..
        } => {
            let default = listing.default_version.as_deref();
            plan::Package::iot(
                &listing.versions,
                default.filter(|_| !unset_default_version),
            )
        }
    };
    let guards = plan::Guards {
        dependencies: dependency_guard.as_ref(),
        ..guards.max_deletions(retention.max_deletions)
    };
    let (selected, keep) = plan::retention(package, retention, guards);
    let unreadable = dependency_guard.as_ref().map_or(0, |g| g.unreadable);
    let Some(only) = &retention.only else {
        return Selection {
            selected,
            keep,
            absent: Vec::new(),
            unreadable,
        };
    };
    let (selected, keep, absent) = plan::narrow(&listing.versions, selected, keep, only);
    let (selected, keep) = match &retention.planned {
        Some(planned) => plan::hold_to(&listing.versions, planned, selected, keep),
        None => (selected, keep),
    };
    Selection {
        selected,
        keep,
        absent,
        unreadable,
    }
}

/// The target of a plan's selected versions: what is in use was read while
/// planning ([`Executor::protect`]), so the adapter does not read it again.
fn checked(target: &Target) -> Target {
    match target {
        Target::Iot {
            package,
            unset_default_version,
            in_use,
        } => Target::Iot {
            package: package.clone(),
            unset_default_version: *unset_default_version,
            in_use: match in_use {
                InUseCheck::Off => InUseCheck::Off,
                _ => InUseCheck::Checked,
            },
        },
        other => other.clone(),
    }
}

/// Every item of the request failed with `e`, after `attempts` calls.
fn failed(request: &Request, e: DeleteError, attempts: u32) -> Executed {
    let e = Arc::new(e);
    Executed::of(
        plan::items(request)
            .into_iter()
            .map(|item| ItemOutcome::failed(item, e.clone(), attempts))
            .collect(),
        None,
    )
}

/// The planner's guards from what the table told: downloads and archive
/// times, each with its window (milliseconds).
fn guards<'a>(
    downloads: Option<&'a (Downloads, i64)>,
    archives: Option<&'a (ArchiveTimes, i64)>,
) -> plan::Guards<'a> {
    let now_ms = super::downloads::now_ms();
    plan::Guards {
        max_deletions: None,
        dependencies: None,
        downloads: downloads.map(|(d, window_ms)| plan::DownloadGuard {
            downloads: d,
            now_ms,
            window_ms: *window_ms,
        }),
        archives: archives.map(|(t, window_ms)| plan::ArchiveGuard {
            times: t,
            now_ms,
            window_ms: *window_ms,
        }),
    }
}

/// Named versions the listing does not hold: already absent, or the
/// package is not found.
fn absent_outcomes(absent: Vec<String>, missing: bool) -> Vec<ItemOutcome> {
    absent
        .into_iter()
        .map(|v| match missing {
            true => ItemOutcome::package_not_found(Item::Version(v), 0),
            false => ItemOutcome::done(Item::Version(v), Done::AlreadyAbsent, 0),
        })
        .collect()
}

#[cfg(test)]
mod tests;
