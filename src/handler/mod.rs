//! The Lambda handler: decode → execute → account → send, for every event
//! source.

mod apply;
mod deliveries;
mod local;
mod output;
mod reports;
mod run;
mod scope;
mod sources;
mod usage;

pub use local::Inline;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_config::retry::RetryConfig;
use aws_config::SdkConfig;
use aws_smithy_runtime_api::client::interceptors::SharedInterceptor;
use lambda_runtime::{Diagnostic, LambdaEvent};
use serde_json::Value;
use tokio::time::Instant;

use crate::account::{Settings, Summary};
use crate::config::Config;
use crate::decode::{self, Event, UnrecognisedEvent};
use crate::downloads::{DeliveryTable, DownloadStore, JobTable};
use crate::execute::{CodeArtifactAdapter, Executor, IotAdapter, IotReads, Memory};
use crate::queue::{Outbox, SendError};
use crate::report::ReportStore;
use crate::retry::{Pacers, Retrier, RetryPolicy};

/// The SDK clients, built once at cold start.
#[derive(Clone, Debug)]
pub struct Clients {
    pub codeartifact: aws_sdk_codeartifact::Client,
    pub iot: aws_sdk_iot::Client,
    pub sqs: aws_sdk_sqs::Client,
    /// The downloads table's client (used only with `DOWNLOADS_TABLE`).
    pub dynamodb: aws_sdk_dynamodb::Client,
    /// The reports bucket's client (reports with `REPORTS_BUCKET`; plans).
    pub s3: aws_sdk_s3::Client,
}

impl Clients {
    /// Builds the clients from a loaded SDK config (region, credentials and
    /// the standard `AWS_ENDPOINT_URL_*` overrides). The package APIs get
    /// the SDK's retries turned off: [`crate::retry`] owns every wait (so
    /// does the downloads table's).
    pub fn from_sdk_config(sdk: &SdkConfig) -> Self {
        Self::with_interceptors(sdk, &[])
    }

    /// [`Clients::from_sdk_config`], each client also running
    /// `interceptors` around every call (packprune-cli's: refuse every
    /// call that is not a read, count calls for its progress line).
    pub fn with_interceptors(sdk: &SdkConfig, interceptors: &[SharedInterceptor]) -> Self {
        macro_rules! build {
            ($builder:expr) => {{
                let mut b = $builder;
                for i in interceptors {
                    b.push_interceptor(i.clone());
                }
                b.build()
            }};
        }
        Clients {
            codeartifact: aws_sdk_codeartifact::Client::from_conf(build!(
                aws_sdk_codeartifact::config::Builder::from(sdk)
                    .retry_config(RetryConfig::disabled())
            )),
            iot: aws_sdk_iot::Client::from_conf(build!(
                aws_sdk_iot::config::Builder::from(sdk).retry_config(RetryConfig::disabled())
            )),
            sqs: aws_sdk_sqs::Client::from_conf(build!(aws_sdk_sqs::config::Builder::from(sdk))),
            // Its calls go through the retry layer too.
            dynamodb: aws_sdk_dynamodb::Client::from_conf(build!(
                aws_sdk_dynamodb::config::Builder::from(sdk).retry_config(RetryConfig::disabled())
            )),
            s3: aws_sdk_s3::Client::from_conf(build!(
                aws_sdk_s3::config::Builder::from(sdk).force_path_style(endpoint_overridden())
            )),
        }
    }
}

/// Whether an endpoint is set for S3 (`AWS_ENDPOINT_URL_S3` or
/// `AWS_ENDPOINT_URL`): then buckets are addressed by path, as local
/// stand-ins such as moto's server need.
fn endpoint_overridden() -> bool {
    ["AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"]
        .iter()
        .any(|v| std::env::var_os(v).is_some_and(|u| !u.is_empty()))
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
            request_id: ctx.request_id.clone(),
            reporting: self.reports.writes(),
            account: ctx
                .invoked_function_arn
                .split(':')
                .nth(4)
                .filter(|a| a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit()))
                .map(str::to_owned),
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
