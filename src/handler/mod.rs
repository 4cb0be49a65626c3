//! The Lambda handler: decode → execute → account → send, for every event
//! source. `impl Handler` is here alone; each other file is one job of
//! the one path every unit takes ([`pipeline`]).

mod allowed;
mod apply;
mod clients;
mod deliveries;
mod index;
mod local;
mod output;
mod pipeline;
mod reply;
mod reports;
mod run;
mod scope;
mod usage;

pub use clients::Clients;
pub use local::Inline;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use lambda_runtime::{Diagnostic, LambdaEvent};
use serde_json::Value;
use tokio::time::Instant;

use crate::account::Summary;
use crate::config::Config;
use crate::decode::{self, Decoded, Event, Origin, Unit, UnrecognisedEvent};
use crate::downloads::{DeliveryTable, DependencyTable, DownloadStore, JobTable};
use crate::execute::{CodeArtifactAdapter, Executor, IotAdapter, IotReads, Memory};
use crate::queue::{Outbox, SendError};
use crate::report::ReportStore;
use crate::request::Job;
use crate::retry::{Pacers, Retrier, RetryPolicy};

use pipeline::Pipeline;
use reply::Reply;
use run::Runner;

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
    #[error("{events} download event(s) could not be written to the downloads table; the invocation fails so that Lambda retries it")]
    Unrecorded {
        events: u64,
        #[source]
        first: Arc<crate::error::DeleteError>,
    },
    #[error("a part of a scope's plan ({record}) could not be written to the reports bucket; the invocation fails so that Lambda retries it (a part already written stands)")]
    PlanUnwritten { record: String },
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
                HandlerError::Unrecorded { .. } => "DownloadsUnwritable".into(),
                HandlerError::PlanUnwritten { .. } => "ReportsUnwritable".into(),
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
    reports: ReportStore,
    config: Config,
    retry: RetryPolicy,
    pacers: Arc<Pacers>,
    /// What the usage checks learned, kept for the next invocations (and,
    /// with `DOWNLOADS_TABLE`, shared through the table).
    memory: Arc<Memory>,
    /// With `DOWNLOADS_TABLE`: the SQS messages handled, so that a message
    /// delivered twice is worked on once.
    deliveries: Option<DeliveryTable>,
}

/// What the tasks of one invocation share.
struct Invocation {
    retrier: Retrier,
    iot_reads: IotReads,
    domain_reads: crate::execute::DomainReads,
    /// The function's account, from its ARN
    /// (`arn:aws:lambda:<region>:<account>:function:<name>`).
    account: Option<String>,
    /// The Lambda request id (run reports are named after it).
    request_id: String,
    /// Whether requests write run reports (to the reports bucket, or,
    /// run inline, to the caller).
    reporting: bool,
    /// When Lambda ends the invocation (ms since the epoch): how long its
    /// claims on SQS messages last ([`deliveries`]).
    deadline_ms: i64,
}

/// Lambda's longest timeout, assumed when the runtime gives no real deadline.
pub(crate) const MAX_LAMBDA_TIMEOUT: Duration = Duration::from_secs(900);

/// The instant to stop starting work: the deadline less the margin.
///
/// Lambda always sends a deadline in the future. One that lies more than an
/// hour in the past is no deadline at all (`cargo lambda watch` sends 600000
/// ms after the epoch): then Lambda's longest timeout is assumed.
pub(crate) fn cutoff(deadline: SystemTime, margin: Duration) -> Instant {
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
        let jobs = config
            .downloads_table
            .as_ref()
            .map(|table| JobTable::new(clients.dynamodb.clone(), table.clone()));
        Handler {
            memory: Arc::new(Memory::new(jobs)),
            deliveries: config
                .downloads_table
                .as_ref()
                .map(|table| DeliveryTable::new(clients.dynamodb.clone(), table.clone())),
            executor: Executor {
                codeartifact: CodeArtifactAdapter::new(clients.codeartifact),
                iot: IotAdapter::new(clients.iot),
                dependencies: config.downloads_table.as_ref().map(|table| {
                    Arc::new(DependencyTable::new(
                        clients.dynamodb.clone(),
                        table.clone(),
                    ))
                }),
                downloads: config.downloads_table.as_ref().map(|table| {
                    Arc::new(DownloadStore::new(
                        clients.dynamodb,
                        table.clone(),
                        Duration::from_secs(u64::from(config.downloads_ttl_days) * 86_400),
                    ))
                }),
            },
            outbox: Outbox::new(clients.sqs),
            reports: ReportStore::new(
                clients.s3,
                config.reports_bucket.clone(),
                config.reports_prefix.clone(),
            ),
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
        let stop = cutoff(ctx.deadline(), self.config.deadline_margin);
        let inv = Invocation {
            deadline_ms: crate::downloads::now_ms()
                + (stop.saturating_duration_since(Instant::now()) + self.config.deadline_margin)
                    .as_millis() as i64,
            retrier: Retrier::new(
                self.retry,
                stop,
                self.config.max_concurrency,
                self.pacers.clone(),
            ),
            iot_reads: IotReads::new(self.memory.clone(), true),
            domain_reads: Default::default(),
            request_id: ctx.request_id.clone(),
            reporting: self.reports.writes(),
            account: ctx
                .invoked_function_arn
                .split(':')
                .nth(4)
                .filter(|a| a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit()))
                .map(str::to_owned),
        };
        let (units, reply) = match decode::decode(payload, &ctx.request_id, &self.config.events)? {
            Event::Sqs(units) => (units, Reply::Batch),
            Event::Invocation(unit) => (vec![unit], Reply::Summary),
        };
        let pipeline = Pipeline {
            handler: self,
            inv: &inv,
            reply,
        };
        let answered = pipeline.run(units).await?;
        let now_ms = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis() as u64;
        let metrics = crate::metrics::documents(
            &self.config.metrics,
            &answered.accounts,
            (&pacing, &self.pacers.stats()),
            now_ms,
        );
        Ok(Processed {
            response: answered.response,
            summary: answered.summary,
            metrics,
            lines: answered
                .accounts
                .iter()
                .flat_map(|a| a.lines.clone())
                .collect(),
        })
    }

    /// Runs `job` inline. `budget` bounds how long it may take (what the
    /// Lambda deadline bounds in Lambda); `request_id` names its report.
    /// `account` is the caller's account, the domain owner of a request
    /// that names none (only the downloads table's reads need it).
    ///
    /// With no work queue, nothing is handed on or fanned out: a scope and
    /// an apply run every package in turn, and what still fails is
    /// dead-lettered with its code ([`Inline::dead_letters`]).
    pub async fn run_inline(
        &self,
        job: Job,
        request_id: &str,
        budget: Duration,
        account: Option<String>,
    ) -> Inline {
        let inv = Invocation {
            retrier: Retrier::new(
                self.retry,
                Instant::now() + budget,
                self.config.max_concurrency,
                self.pacers.clone(),
            ),
            // packprune-cli reads what the function learned, never writes it.
            iot_reads: IotReads::new(self.memory.clone(), false),
            domain_reads: Default::default(),
            account,
            request_id: request_id.to_owned(),
            reporting: true,
            deadline_ms: crate::downloads::now_ms() + budget.as_millis() as i64,
        };
        let unit = Unit {
            source: request_id.to_owned(),
            sender: None,
            origin: Origin::Direct,
            requests: vec![Decoded::Valid(job)],
        };
        Inline::of(self.runner().run_unit(unit, &inv).await, request_id)
    }

    /// What runs a delivery's requests.
    fn runner(&self) -> Runner<'_> {
        Runner {
            executor: &self.executor,
            config: &self.config,
            reports: &self.reports,
        }
    }
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
