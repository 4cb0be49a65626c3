//! The Lambda handler: decode → execute → account → send, for every event
//! source.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_config::retry::RetryConfig;
use aws_config::SdkConfig;
use aws_lambda_events::sqs::SqsBatchResponse;
use futures::future::join_all;
use lambda_runtime::{Diagnostic, LambdaEvent};
use serde_json::Value;
use tokio::time::Instant;
use tracing::Instrument;

use crate::account::{
    self, Disposition, Entry, RequestResult, Settings, Summary, UnitAccount, UnitResult,
};
use crate::code::Code;
use crate::config::Config;
use crate::decode::{self, Decoded, Event, Origin, Unit, UnrecognisedEvent};
use crate::execute::{
    CallContext, CodeArtifactAdapter, Executor, IotAdapter, IotReads, ItemOutcome,
};
use crate::plan::Item;
use crate::queue::{Outbox, SendError};
use crate::request::{Action, Job, Request, ScopeRequest};
use crate::retry::{Pacers, Retrier, RetryPolicy};

/// The SDK clients, built once at cold start.
#[derive(Clone, Debug)]
pub struct Clients {
    pub codeartifact: aws_sdk_codeartifact::Client,
    pub iot: aws_sdk_iot::Client,
    pub sqs: aws_sdk_sqs::Client,
}

impl Clients {
    /// Builds the clients from a loaded SDK config (region, credentials and
    /// the standard `AWS_ENDPOINT_URL_*` overrides). The package APIs get
    /// the SDK's retries turned off: [`crate::retry`] owns every wait.
    pub fn from_sdk_config(sdk: &SdkConfig) -> Self {
        Clients {
            codeartifact: aws_sdk_codeartifact::Client::from_conf(
                aws_sdk_codeartifact::config::Builder::from(sdk)
                    .retry_config(RetryConfig::disabled())
                    .build(),
            ),
            iot: aws_sdk_iot::Client::from_conf(
                aws_sdk_iot::config::Builder::from(sdk)
                    .retry_config(RetryConfig::disabled())
                    .build(),
            ),
            sqs: aws_sdk_sqs::Client::new(sdk),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    #[error(transparent)]
    Unrecognised(#[from] UnrecognisedEvent),
    #[error("{count} message(s) could not be written to {queue}; the invocation fails so that Lambda retries it")]
    Unwritable {
        queue: String,
        count: usize,
        #[source]
        first: Arc<SendError>,
    },
}

impl From<HandlerError> for Diagnostic {
    fn from(e: HandlerError) -> Diagnostic {
        let mut message = e.to_string();
        let mut cur = std::error::Error::source(&e);
        while let Some(s) = cur {
            message.push_str(": ");
            message.push_str(&s.to_string());
            cur = s.source();
        }
        Diagnostic {
            error_type: match e {
                HandlerError::Unrecognised(_) => "UnrecognisedEvent".into(),
                HandlerError::Unwritable { .. } => "QueueUnwritable".into(),
            },
            error_message: message,
        }
    }
}

/// An invocation's response, its accounting and its metrics.
#[derive(Debug)]
pub struct Processed {
    pub response: Value,
    pub summary: Summary,
    /// Embedded-metric-format documents, one per service touched.
    pub metrics: Vec<Value>,
    /// The audit lines written, one per item (what the log's "version
    /// outcome" lines say).
    pub lines: Vec<crate::account::Line>,
}

/// The handler: clients, configuration and the pacers, built once. A warm
/// execution environment runs one invocation at a time, and the next one
/// starts at the rates the last one learned.
#[derive(Debug)]
pub struct Handler {
    executor: Executor,
    outbox: Outbox,
    config: Config,
    retry: RetryPolicy,
    pacers: Arc<Pacers>,
}

/// What the tasks of one invocation share.
struct Invocation {
    retrier: Retrier,
    iot_reads: IotReads,
}

/// Lambda's longest timeout, assumed when the runtime gives no real deadline.
pub const MAX_LAMBDA_TIMEOUT: Duration = Duration::from_secs(900);

/// The instant to stop starting work: the deadline less the margin.
///
/// Lambda always sends a deadline in the future. One that lies more than an
/// hour in the past is no deadline at all (`cargo lambda watch` sends 600000
/// ms after the epoch): then Lambda's longest timeout is assumed.
pub fn cutoff(deadline: SystemTime, margin: Duration) -> Instant {
    let now = SystemTime::now();
    let left = match deadline.duration_since(now) {
        Ok(left) => left,
        Err(e) if e.duration() > Duration::from_secs(3600) => {
            tracing::warn!(
                deadline_ms = deadline
                    .duration_since(SystemTime::UNIX_EPOCH)
                    .unwrap_or_default()
                    .as_millis() as u64,
                assumed_seconds = MAX_LAMBDA_TIMEOUT.as_secs(),
                "the runtime's deadline is long past; assuming Lambda's longest timeout"
            );
            MAX_LAMBDA_TIMEOUT
        }
        Err(_) => Duration::ZERO,
    };
    Instant::now() + left.saturating_sub(margin)
}

impl Handler {
    pub fn new(clients: Clients, config: Config) -> Self {
        Handler {
            executor: Executor {
                codeartifact: CodeArtifactAdapter::new(clients.codeartifact),
                iot: IotAdapter::new(clients.iot),
            },
            outbox: Outbox::new(clients.sqs),
            pacers: Arc::new(Pacers::new(&config.rates, config.shared_by)),
            config,
            retry: RetryPolicy::default(),
        }
    }

    /// The pacers' rates, calls and throttles so far.
    pub fn pace_stats(&self) -> Vec<crate::retry::pace::PaceStats> {
        self.pacers.stats()
    }

    /// Replaces the retry policy (tests use a smaller budget).
    pub fn with_retry_policy(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    fn settings(&self) -> Settings {
        Settings {
            has_work_queue: self.config.work_queue_url.is_some(),
            max_attempts: self.config.max_attempts,
        }
    }

    /// Handles one invocation. SQS events get an `SqsBatchResponse`; every
    /// other source gets the [`Summary`]. The metrics go to stdout, one
    /// line each, where CloudWatch Logs extracts them.
    pub async fn handle(&self, event: LambdaEvent<Value>) -> Result<Value, HandlerError> {
        let processed = self.process(event).await?;
        for doc in &processed.metrics {
            println!("{doc}");
        }
        Ok(processed.response)
    }

    /// Like [`Handler::handle`], also returning the summary of an SQS batch
    /// (which Lambda's response format has no room for).
    pub async fn process(&self, event: LambdaEvent<Value>) -> Result<Processed, HandlerError> {
        let (payload, ctx) = event.into_parts();
        let pacing = self.pacers.stats();
        let inv = Invocation {
            retrier: Retrier::new(
                self.retry,
                cutoff(ctx.deadline(), self.config.deadline_margin),
                self.config.max_concurrency,
                self.pacers.clone(),
            ),
            iot_reads: IotReads::default(),
        };
        let (processed, accounts) =
            match decode::decode(payload, &ctx.request_id, &self.config.events)? {
                Event::Sqs(units) => self.handle_sqs(units, &inv).await,
                Event::Invocation(unit) => self.handle_invocation(unit, &inv).await?,
            };
        let now_ms = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis() as u64;
        let metrics = crate::metrics::documents(
            &self.config.metrics,
            &accounts,
            (&pacing, &self.pacers.stats()),
            now_ms,
        );
        Ok(Processed {
            metrics,
            lines: accounts.iter().flat_map(|a| a.lines.clone()).collect(),
            ..processed
        })
    }

    async fn handle_sqs(
        &self,
        units: Vec<Unit>,
        inv: &Invocation,
    ) -> (Processed, Vec<UnitAccount>) {
        let fifo = units
            .iter()
            .any(|u| matches!(u.origin, Origin::Sqs { fifo: true, .. }));
        let mut accounts: Vec<UnitAccount> = if fifo {
            // In order; at the first record that must be retried, stop.
            let mut out = Vec::with_capacity(units.len());
            let mut stopped = false;
            for unit in units {
                let acc = if stopped {
                    UnitAccount::unstarted(&unit)
                } else {
                    self.run_unit(unit, inv).await
                };
                stopped |= acc.redeliver;
                out.push(acc);
            }
            out
        } else {
            join_all(units.into_iter().map(|u| self.run_unit(u, inv))).await
        };
        for (i, queue, failure) in self.flush(&accounts).await {
            tracing::error!(record = %accounts[i].source, %queue, error = %failure, "could not write the record's messages; SQS will redeliver it");
            accounts[i].redeliver_whole();
        }
        if fifo {
            if let Some(first) = accounts.iter().position(|a| a.redeliver) {
                accounts[first..]
                    .iter_mut()
                    .for_each(UnitAccount::redeliver_whole);
            }
        }
        let mut response = SqsBatchResponse::default();
        let mut summary = Summary::default();
        for acc in &accounts {
            if acc.redeliver {
                response.add_failure(acc.source.clone());
            }
            audit(acc);
            summary.add(acc);
        }
        log_summary(&summary);
        let processed = Processed {
            response: serde_json::to_value(response).expect("batch response serializes"),
            summary,
            metrics: Vec::new(),
            lines: Vec::new(),
        };
        (processed, accounts)
    }

    async fn handle_invocation(
        &self,
        unit: Unit,
        inv: &Invocation,
    ) -> Result<(Processed, Vec<UnitAccount>), HandlerError> {
        let accounts = vec![self.run_unit(unit, inv).await];
        let failures = self.flush(&accounts).await;
        audit(&accounts[0]);
        let mut summary = Summary::default();
        summary.add(&accounts[0]);
        log_summary(&summary);
        if let Some((_, queue, first)) = failures.first() {
            return Err(HandlerError::Unwritable {
                queue: queue.clone(),
                count: failures.len(),
                first: first.clone(),
            });
        }
        let processed = Processed {
            response: serde_json::to_value(&summary).expect("summary serializes"),
            summary,
            metrics: Vec::new(),
            lines: Vec::new(),
        };
        Ok((processed, accounts))
    }

    /// Executes every request of one delivery and accounts for it.
    async fn run_unit(&self, unit: Unit, inv: &Invocation) -> UnitAccount {
        let span = tracing::info_span!("record", source = %unit.source);
        async {
            let cx = CallContext {
                retrier: &inv.retrier,
                iot_reads: &inv.iot_reads,
                source: &unit.source,
            };
            let fifo = matches!(unit.origin, Origin::Sqs { fifo: true, .. });
            let entries = join_all(unit.requests.into_iter().map(|d| async {
                match d {
                    Decoded::Valid(mut job) => {
                        if self.config.dry_run {
                            job.force_dry_run();
                        }
                        if let Some(reason) = self.not_permitted(&job) {
                            return vec![Entry::NotPermitted { job, reason }];
                        }
                        match job {
                            Job::One(request) => vec![self.run_request(request, &cx).await],
                            Job::Many(scope) => self.run_scope(scope, !fifo, &cx).await,
                        }
                    }
                    Decoded::Invalid(inv) => vec![Entry::Invalid(inv)],
                    Decoded::Ignored(why) => vec![Entry::Ignored(why)],
                }
            }))
            .await;
            let result = UnitResult {
                source: unit.source.clone(),
                sender: unit.sender.clone(),
                origin: unit.origin,
                entries: entries.into_iter().flatten().collect(),
            };
            account::account(&result, &self.settings(), SystemTime::now())
        }
        .instrument(span)
        .await
    }

    /// Why `ALLOWED_TARGETS` refuses this job, if it does.
    fn not_permitted(&self, job: &Job) -> Option<String> {
        let allowed = self.config.allowed.as_ref()?;
        let permitted = match job {
            Job::One(r) => allowed.permits(&r.target),
            Job::Many(s) => allowed.may_cover(&s.scope),
        };
        (!permitted).then(|| {
            format!(
                "{} {} is outside ALLOWED_TARGETS ({allowed})",
                job.service(),
                job.label()
            )
        })
    }

    async fn run_request(&self, request: Request, cx: &CallContext<'_>) -> Entry {
        let executed = self.executor.execute(&request, cx).await;
        Entry::Executed(Box::new(RequestResult {
            request: Job::One(request),
            outcomes: executed.outcomes,
            plan: executed.plan,
            package_not_found: executed.package_not_found,
        }))
    }

    /// A policy for many packages. With a work queue (and a standard queue's
    /// or no SQS record), more than one package fans out: one policy request
    /// per package on the work queue. Otherwise the packages run here, in
    /// turn, sharing `maxDeletions`; those the deadline leaves are handed on.
    async fn run_scope(
        &self,
        scope: ScopeRequest,
        may_fan_out: bool,
        cx: &CallContext<'_>,
    ) -> Vec<Entry> {
        let (listed, attempts) = self.executor.packages(&scope.scope, cx).await;
        let packages = match listed {
            Ok(p) => p,
            Err(e) => {
                return vec![Entry::Executed(Box::new(RequestResult {
                    request: Job::Many(scope),
                    outcomes: vec![ItemOutcome::failed(Item::Package, Arc::new(e), attempts)],
                    plan: None,
                    package_not_found: false,
                }))]
            }
        };
        tracing::info!(scope = %scope.label(), packages = packages.len(), "scope listed");
        let (requests, outside): (Vec<Request>, Vec<Request>) = packages
            .iter()
            .map(|p| scope.for_package(p))
            .partition(|r| {
                self.config
                    .allowed
                    .as_ref()
                    .is_none_or(|a| a.permits(&r.target))
            });
        if !outside.is_empty() {
            tracing::info!(scope = %scope.label(), skipped = outside.len(), "packages of the scope outside ALLOWED_TARGETS are left alone");
        }
        if may_fan_out && self.config.work_queue_url.is_some() && requests.len() > 1 {
            return vec![Entry::FannedOut(requests)];
        }
        let mut left = scope.retention.max_deletions;
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

    /// Sends every dead letter and hand-on, both queues at once; returns
    /// the accounts whose messages did not all get through, each with its
    /// first error.
    async fn flush(&self, accounts: &[UnitAccount]) -> Vec<(usize, String, Arc<SendError>)> {
        let queues = [
            (Some(&self.config.dead_letter_queue_url), true),
            (self.config.work_queue_url.as_ref(), false),
        ];
        let sent = join_all(queues.into_iter().map(|(queue, dead)| async move {
            let mut owners = Vec::new();
            let mut messages = Vec::new();
            for (i, acc) in accounts.iter().enumerate() {
                let list = if dead {
                    &acc.dead_letters
                } else {
                    &acc.hand_ons
                };
                owners.extend(std::iter::repeat_n(i, list.len()));
                messages.extend(list.iter().cloned());
            }
            if messages.is_empty() {
                return Vec::new();
            }
            let (queue, results) = match queue {
                Some(q) => (q.clone(), self.outbox.send(q, &messages).await),
                // Accounting hands on only with a work queue; should that
                // ever change, the records fail rather than lose work.
                None => {
                    let e = Arc::new(SendError::NoQueue);
                    (
                        "WORK_QUEUE_URL (unset)".to_owned(),
                        messages.iter().map(|_| Err(e.clone())).collect(),
                    )
                }
            };
            owners
                .into_iter()
                .zip(results)
                .filter_map(|(owner, r)| r.err().map(|e| (owner, queue.clone(), e)))
                .collect::<Vec<_>>()
        }))
        .await;
        let mut failed: Vec<(usize, String, Arc<SendError>)> = Vec::new();
        for (owner, queue, e) in sent.into_iter().flatten() {
            if !failed.iter().any(|(i, _, _)| *i == owner) {
                failed.push((owner, queue, e));
            }
        }
        failed
    }
}

/// One structured line per item: the audit trail.
fn audit(acc: &UnitAccount) {
    for l in &acc.lines {
        tracing::info!(
            source = %acc.source,
            sender = acc.sender.as_deref().unwrap_or(""),
            service = %l.service,
            package = %l.package,
            version = %l.item,
            outcome = l.disposition.as_str(),
            code = %l.code.as_ref().map(ToString::to_string).unwrap_or_default(),
            detail = l.detail.as_deref().unwrap_or(""),
            written_package = l.written.as_ref().map_or("", |w| w.package.as_str()),
            written_version = l.written.as_ref().and_then(|w| w.version.as_deref()).unwrap_or(""),
            attempts = l.attempts,
            "version outcome"
        );
    }
    for (service, package) in &acc.packages_not_found {
        tracing::warn!(source = %acc.source, %service, %package, detail = crate::execute::PACKAGE_NOT_FOUND, "package not found: the request names a package that does not exist");
    }
    for reason in &acc.invalid {
        tracing::warn!(source = %acc.source, outcome = Disposition::DeadLettered.as_str(), code = %Code::InvalidRequest, reason = %reason, "invalid request");
    }
}

fn log_summary(s: &Summary) {
    tracing::info!(
        requested = s.requested,
        deleted = s.deleted,
        archived = s.archived,
        unlisted = s.unlisted,
        deprecated = s.deprecated,
        already_absent = s.already_absent,
        kept = s.kept,
        dead_lettered = s.dead_lettered,
        handed_on = s.handed_on,
        invalid_requests = s.invalid_requests,
        dead_letter_messages = s.dead_letter_messages,
        hand_on_messages = s.hand_on_messages,
        records_redelivered = s.records_redelivered,
        packages_not_found = s.packages_not_found,
        balanced = s.balanced(),
        "invocation summary"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn the_cutoff_keeps_the_margin_and_ignores_bogus_deadlines() {
        let margin = Duration::from_secs(3);
        let now = Instant::now();
        let real = cutoff(SystemTime::now() + Duration::from_secs(60), margin);
        assert!(real - now <= Duration::from_secs(57) && real - now > Duration::from_secs(56));
        assert_eq!(
            cutoff(SystemTime::now() + Duration::from_secs(2), margin),
            now
        );
        assert_eq!(
            cutoff(SystemTime::now() - Duration::from_secs(5), margin),
            now
        );
        let bogus = cutoff(
            SystemTime::UNIX_EPOCH + Duration::from_millis(600_000),
            margin,
        );
        assert_eq!(bogus - now, MAX_LAMBDA_TIMEOUT - margin);
    }
}
