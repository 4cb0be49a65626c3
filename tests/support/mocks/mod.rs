//! The mock-based tests' part of `support` (tests/handler/, bad_input.rs,
//! reads.rs, safety.rs): SDK clients mocked with aws-smithy-mocks, a
//! recording SQS, service errors, and a tiny IoT catalog (`iot.rs`).
//! Included beside `support`, as `mocks`, by the test binaries that use it:
//! packprune-cli's tests and the examples, which include `support` too,
//! do not link aws-smithy-mocks. Events, contexts and `invoke` are
//! `support`'s.
#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_sdk_sqs::operation::send_message_batch::SendMessageBatchOutput;
use aws_sdk_sqs::types::{BatchResultErrorEntry, SendMessageBatchResultEntry};
use aws_smithy_mocks::{mock, mock_client, Rule, RuleMode};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;
use packprune::testkit::account::Summary;
use packprune::testkit::handler::Processed;
use packprune::{Clients, Config, Handler};
use serde_json::{json, Value};

mod iot;
#[allow(unused_imports)] // not every test binary uses the IoT catalog
pub use iot::*;

pub const DLQ: &str = "https://sqs.us-east-1.amazonaws.com/111122223333/packprune-dlq";
pub const WORK: &str = "https://sqs.us-east-1.amazonaws.com/111122223333/packprune-work";

/// One message the handler sent to SQS.
#[derive(Debug, Clone)]
pub struct Sent {
    pub queue: String,
    pub body: Value,
    pub delay_seconds: Option<i32>,
}

/// Records every SendMessageBatch entry; entries whose body contains
/// `refuse` (when set) are answered in `Failed`.
#[derive(Clone, Default)]
pub struct Sqs {
    pub sent: Arc<Mutex<Vec<Sent>>>,
    pub refuse: Option<&'static str>,
}

impl Sqs {
    pub fn refusing(marker: &'static str) -> Self {
        Sqs {
            refuse: Some(marker),
            ..Sqs::default()
        }
    }

    pub fn rule(&self) -> Rule {
        let sent = self.sent.clone();
        let refuse = self.refuse;
        mock!(aws_sdk_sqs::Client::send_message_batch).then_compute_output(move |req| {
            let mut out = SendMessageBatchOutput::builder()
                .set_successful(Some(vec![]))
                .set_failed(Some(vec![]));
            assert!(
                req.entries().len() <= 10,
                "SendMessageBatch takes at most 10 entries"
            );
            for e in req.entries() {
                if refuse.is_some_and(|m| e.message_body().contains(m)) {
                    out = out.failed(
                        BatchResultErrorEntry::builder()
                            .id(e.id())
                            .code("KMS.AccessDeniedException")
                            .sender_fault(true)
                            .message("refused by the test")
                            .build()
                            .unwrap(),
                    );
                    continue;
                }
                sent.lock().unwrap().push(Sent {
                    queue: req.queue_url().unwrap().to_owned(),
                    body: serde_json::from_str(e.message_body()).expect("messages are JSON"),
                    delay_seconds: e.delay_seconds(),
                });
                out = out.successful(
                    SendMessageBatchResultEntry::builder()
                        .id(e.id())
                        .message_id(format!("sent-{}", e.id()))
                        .md5_of_message_body("0")
                        .build()
                        .unwrap(),
                );
            }
            out.build().unwrap()
        })
    }

    pub fn to(&self, queue: &str) -> Vec<Sent> {
        self.sent
            .lock()
            .unwrap()
            .iter()
            .filter(|s| s.queue == queue)
            .cloned()
            .collect()
    }

    pub fn dead_letters(&self) -> Vec<Value> {
        self.to(DLQ).into_iter().map(|s| s.body).collect()
    }

    pub fn hand_ons(&self) -> Vec<Sent> {
        self.to(WORK)
    }
}

pub fn config(work_queue: bool) -> Config {
    Config {
        dead_letter_queue_url: Some(DLQ.into()),
        work_queue_url: work_queue.then(|| WORK.to_owned()),
        max_attempts: 8,
        no_progress_limit: 5,
        max_concurrency: 4,
        deadline_margin: Duration::from_secs(2),
        dry_run: false,
        events: packprune::testkit::decode::EventRules::default(),
        rates: packprune::testkit::retry::Rates::default(),
        shared_by: 1,
        allowed: None,
        metrics: packprune::testkit::metrics::MetricsConfig::default(),
        downloads_table: None,
        downloads_ttl_days: 400,
        reports_bucket: None,
        reports_prefix: "reports/".into(),
    }
}

/// A handler whose clients answer from the given rules (SDK retries off, as
/// in production).
pub fn handler(ca: &[&Rule], iot: &[&Rule], sqs: &Sqs, config: Config) -> Handler {
    let no_retry = RetryConfig::disabled();
    let sqs_rule = sqs.rule();
    let clients = Clients {
        codeartifact: mock_client!(aws_sdk_codeartifact, RuleMode::MatchAny, ca, |c| c
            .retry_config(RetryConfig::disabled())),
        iot: mock_client!(aws_sdk_iot, RuleMode::MatchAny, iot, |c| c
            .retry_config(RetryConfig::disabled())),
        sqs: mock_client!(aws_sdk_sqs, RuleMode::MatchAny, [&sqs_rule], |c| c
            .retry_config(no_retry.clone())),
        // No downloads table: these tests leave DOWNLOADS_TABLE unset.
        dynamodb: aws_sdk_dynamodb::Client::from_conf(
            aws_sdk_dynamodb::Config::builder()
                .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
                .region(aws_sdk_dynamodb::config::Region::new("us-east-1"))
                .build(),
        ),
        // No reports bucket: these tests leave REPORTS_BUCKET unset.
        s3: aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::Config::builder()
                .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
                .region(aws_sdk_s3::config::Region::new("us-east-1"))
                .build(),
        ),
    };
    Handler::new(clients, config)
}

/// An invocation's response and summary, as a mock-based test reads them
/// (`let (resp, s) = invoke(..).await.parts();`).
pub trait Parts {
    fn parts(self) -> (Value, Summary);
}

impl Parts for Processed {
    fn parts(self) -> (Value, Summary) {
        (self.response, self.summary)
    }
}

pub fn failures(response: &Value) -> Vec<String> {
    response["batchItemFailures"]
        .as_array()
        .expect("a batch response")
        .iter()
        .map(|f| f["itemIdentifier"].as_str().unwrap().to_owned())
        .collect()
}

/// A rest-json error response as the services send it.
pub fn http_error(
    status: u16,
    code: &'static str,
    body: Value,
    headers: &[(&'static str, &'static str)],
) -> HttpResponse {
    let mut r = HttpResponse::new(
        StatusCode::try_from(status).unwrap(),
        SdkBody::from(body.to_string()),
    );
    r.headers_mut().insert("x-amzn-ErrorType", code);
    r.headers_mut().insert("content-type", "application/json");
    for (k, v) in headers {
        r.headers_mut().insert(*k, *v);
    }
    r
}

pub fn ca_request(versions: &[&str]) -> Value {
    json!({"service":"codeartifact","domain":"acme","domainOwner":"111122223333","repository":"releases",
           "format":"npm","namespace":"acme","package":"web","versions":versions})
}

/// DescribePackageVersion answering that the version is there, published:
/// a delete whose answer was lost did not happen.
pub fn ca_version_still_there() -> Rule {
    use aws_sdk_codeartifact::operation::describe_package_version::DescribePackageVersionOutput;
    use aws_sdk_codeartifact::types::{PackageVersionDescription, PackageVersionStatus};
    mock!(aws_sdk_codeartifact::Client::describe_package_version).then_output(|| {
        DescribePackageVersionOutput::builder()
            .package_version(
                PackageVersionDescription::builder()
                    .status(PackageVersionStatus::Published)
                    .build(),
            )
            .build()
    })
}
