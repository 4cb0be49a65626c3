//! Running one delivery ([`Runner`]): its requests, each a single package,
//! a scope of many ([`super::scope`]) or an apply ([`super::apply`]), after
//! the `DRY_RUN` and `ALLOWED_TARGETS` checks; then its accounting, entry by
//! entry, and the reports its requests write.

use std::time::SystemTime;

use futures::future::join_all;
use tracing::Instrument;

use super::pipeline::UnitRun;
use super::{reports, Invocation};
use crate::account::{Accounting, Entry, RequestResult, Settings};
use crate::config::Config;
use crate::decode::{DecodeError, Decoded, Invalid, Origin, Unit};
use crate::execute::{learning, CallContext, Executed, Executor};
use crate::policy::Planned;
use crate::report::{report_id, Delivered, PackageRun, PlanPart, ReportStore};
use crate::request::PlanRefused;
use crate::request::{Action, Job, Request};
use crate::retry::nth;

/// What one decoded request gave: the report it writes, its entries, and
/// the part of a scope's plan it made.
struct Ran {
    delivered: Option<Delivered>,
    entries: Vec<Entry>,
    part: Option<PlanPart>,
}

impl Ran {
    /// Entries only: a request that writes no report and makes no part.
    fn entries(entries: Vec<Entry>) -> Self {
        Ran {
            delivered: None,
            entries,
            part: None,
        }
    }
}

/// What runs a delivery's requests: the adapters, the configuration, and
/// the reports bucket (plans read, scopes planned in parts).
pub(super) struct Runner<'h> {
    pub(super) executor: &'h Executor,
    pub(super) config: &'h Config,
    pub(super) reports: &'h ReportStore,
}

impl Runner<'_> {
    /// Executes every request of one delivery and accounts for it: its
    /// account, and the reports its requests write.
    pub(super) async fn run_unit(&self, unit: Unit, inv: &Invocation) -> UnitRun {
        let span = tracing::info_span!("record", source = %unit.source);
        async {
            let Unit {
                source,
                sender,
                origin,
                requests,
            } = unit;
            let cx = CallContext {
                retrier: &inv.retrier,
                iot_reads: &inv.iot_reads,
                domain_reads: &inv.domain_reads,
                source: &source,
                account: inv.account.as_deref(),
            };
            let fifo = matches!(origin, Origin::Sqs { fifo: true, .. });
            let ran = join_all(
                requests
                    .into_iter()
                    .enumerate()
                    .map(|(index, d)| nth(index, self.run_decoded(d, (index, fifo), inv, &cx))),
            )
            .await;
            self.account((&source, sender, origin), ran, inv)
        }
        .instrument(span)
        .await
    }

    /// Accounts for the requests `ran` of one delivery (its source, sender
    /// and origin), entry by entry, in order: the delivery's account, and
    /// the reports its requests write, each with its packages' lines.
    fn account(
        &self,
        unit: (&str, Option<String>, Origin),
        ran: Vec<Ran>,
        inv: &Invocation,
    ) -> UnitRun {
        let settings = self.settings(inv.retrier.spent());
        let mut accounting = Accounting::new(unit, &settings, SystemTime::now());
        let mut inputs = Vec::new();
        for (index, ran) in ran.into_iter().enumerate() {
            let reported = ran.delivered.is_some();
            let packages: Vec<PackageRun> = (ran.entries.iter())
                .filter_map(|e| {
                    let lines = accounting.add(e);
                    reported.then(|| reports::package_run(e, lines))?
                })
                .collect();
            let Some(delivered) = ran.delivered else {
                continue;
            };
            let nothing_ran = ran.entries.is_empty();
            inputs.extend(reports::input(
                (index, delivered),
                packages,
                ran.part,
                nothing_ran,
            ));
        }
        UnitRun::new(accounting.finish(), inputs)
    }

    /// The accounting's settings, `spent` saying what the invocation
    /// spent its time on so far.
    fn settings(&self, spent: String) -> Settings {
        Settings {
            has_work_queue: self.config.work_queue_url.is_some(),
            max_attempts: self.config.max_attempts,
            no_progress_limit: self.config.no_progress_limit,
            spent,
        }
    }

    /// One decoded request of a delivery (the `index`-th; `fifo` when its
    /// record is a FIFO queue's): the report it writes, its entries, and
    /// the part of a scope's plan it made, if any.
    async fn run_decoded(
        &self,
        d: Decoded,
        (index, fifo): (usize, bool),
        inv: &Invocation,
        cx: &CallContext<'_>,
    ) -> Ran {
        let mut job = match d {
            Decoded::Valid(job) => job,
            Decoded::Invalid(inv) => return Ran::entries(vec![Entry::Invalid(inv)]),
            Decoded::Ignored(why) => return Ran::entries(vec![Entry::Ignored(why)]),
            // Taken out and recorded before the requests run.
            Decoded::Read(_) | Decoded::Archived(_) | Decoded::Changed(_) => {
                return Ran::entries(Vec::new())
            }
        };
        // `DRY_RUN` plans everything but the apply of a plan the function
        // wrote to its own bucket, whose digest is checked where it enters
        // (or, for one package bound to it, against it before it acts).
        let reviewed = job.applies_a_reviewed_plan(self.config.reports_bucket.as_deref());
        if self.config.dry_run && !reviewed {
            job.force_dry_run();
        }
        let delivered = inv.reporting.then(|| reports::delivered(&job)).flatten();
        let job = match self.outside_allowed(job, cx).await {
            Ok(job) => job,
            Err(refused) => return Ran::entries(vec![refused]),
        };
        if let Some(invalid) = self.unsupported(&job) {
            return Ran::entries(vec![Entry::Invalid(invalid)]);
        }
        let (entries, part) = match job {
            Job::One(request) => match self.rebind(&request).await {
                Some(refused) => (vec![refused], None),
                None => (vec![self.run_request(request, cx).await], None),
            },
            Job::Many(scope) if scope.dry_run && inv.reporting => {
                let plan_id = report_id(&inv.request_id, cx.source, index);
                self.plan_scope(scope, plan_id, cx).await
            }
            Job::Many(scope) => (self.run_scope(scope, !fifo, cx).await, None),
            Job::Apply(apply) => (self.run_apply(apply, !fifo, cx).await, None),
            Job::Index(request) => (self.run_index(request, (index, !fifo), cx).await, None),
        };
        Ran {
            delivered,
            entries,
            part,
        }
    }

    /// Why `ALLOWED_TARGETS` refuses this job, if it does.
    pub(super) fn not_permitted(&self, job: &Job) -> Option<String> {
        let allowed = self.config.allowed.as_ref()?;
        let permitted = match job {
            Job::One(r) => allowed.permits(&r.target),
            Job::Many(s) => allowed.may_cover(&s.scope),
            // Each package of the plan is checked as it runs; a backfill
            // only reads.
            Job::Apply(_) | Job::Index(_) => return None,
        };
        (!permitted).then(|| {
            format!(
                "{} {} is outside ALLOWED_TARGETS ({allowed})",
                job.service(),
                job.label()
            )
        })
    }

    /// A job this configuration cannot serve: an expired plan, or a
    /// window (`notDownloadedForDays`, `archivedForDays`) without the
    /// downloads table or longer than its items are kept
    /// (`DOWNLOADS_TTL_DAYS`).
    pub(super) fn unsupported(&self, job: &Job) -> Option<Invalid> {
        let invalid = |error| {
            Some(Invalid {
                raw: serde_json::to_string(&job.to_raw(None, None)).expect("request serializes"),
                error,
            })
        };
        let retention = job.retention()?;
        if let Some(expired) = retention.planned.as_ref().and_then(expired) {
            return invalid(DecodeError::PlanRefused(expired));
        }
        let ttl_days = self.config.downloads_ttl_days;
        let policy = &retention.policy;
        for (field, secs, kept) in [
            ("archivedForDays", policy.archived_for_secs, "archive times"),
            (
                "notDownloadedForDays",
                policy.not_downloaded_for_secs,
                "reads",
            ),
        ] {
            let Some(secs) = secs else { continue };
            let why = if self.executor.downloads.is_none() {
                format!("`policy.{field}` needs the {kept} kept in the downloads table, and DOWNLOADS_TABLE is not set (deploy with RecordDownloads=true)")
            } else if secs > u64::from(ttl_days) * 86_400 {
                format!("`policy.{field}` is longer than DOWNLOADS_TTL_DAYS ({ttl_days}): {kept} older than that have expired from the table")
            } else {
                continue;
            };
            return invalid(DecodeError::Unsupported(why));
        }
        None
    }

    /// One package's request, once its turn comes ([`crate::retry::Retrier::admit`]):
    /// one the cut-off came before is handed on untouched.
    pub(super) async fn run_request(&self, request: Request, cx: &CallContext<'_>) -> Entry {
        let (executed, learned) = learning(async {
            match cx.retrier.admit(request.target.service()).await {
                Some(_turn) => self.executor.execute(&request, cx).await,
                None => Executed::not_started(&request),
            }
        })
        .await;
        let learned = learned > 0;
        Entry::Executed(Box::new(RequestResult {
            request: Job::One(request),
            outcomes: executed.outcomes,
            plan: executed.plan,
            package_not_found: executed.package_not_found,
            learned,
            edges_written: 0,
        }))
    }

    /// Many packages' requests: with a work queue (and `may_fan_out`: a
    /// standard queue's record, or no SQS record), more than one fans out,
    /// one request per package on the work queue; otherwise they run here
    /// in turn, sharing `max_deletions`.
    pub(super) async fn run_packages(
        &self,
        requests: Vec<Request>,
        may_fan_out: bool,
        max_deletions: Option<u32>,
        cx: &CallContext<'_>,
    ) -> Vec<Entry> {
        if may_fan_out && self.config.work_queue_url.is_some() && requests.len() > 1 {
            return vec![Entry::FannedOut(
                requests.into_iter().map(Job::One).collect(),
            )];
        }
        let mut left = max_deletions;
        let mut entries = Vec::with_capacity(requests.len());
        for mut request in requests {
            if let (Action::Retain(r), Some(n)) = (&mut request.action, left) {
                r.max_deletions = Some(n);
            }
            let entry = self.run_request(request, cx).await;
            if let (Entry::Executed(rr), Some(n)) = (&entry, left.as_mut()) {
                *n = n.saturating_sub(rr.plan.as_ref().map_or(0, |p| p.selected.len()) as u32);
            }
            entries.push(entry);
        }
        entries
    }
}

/// A package of an apply whose plan has expired (a late hand-on or redrive).
fn expired(planned: &Planned) -> Option<PlanRefused> {
    let now_ms = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis() as i64;
    (planned.expires_at_ms <= now_ms).then(|| PlanRefused::Expired {
        plan_id: planned.plan_id.clone(),
        expires_at: crate::downloads::rfc3339(planned.expires_at_ms),
    })
}
