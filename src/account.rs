//! Outcomes → dead letters, hand-ons, redelivery and the summary. Pure: the
//! handler sends what this module decides.
//!
//! Every item ends in exactly one [`Disposition`]:
//! - `Deleted` or `AlreadyAbsent`;
//! - `DeadLettered`: a permanent failure, or retries exhausted; one message
//!   per (request, code) on the dead-letter queue, itself a valid request;
//! - `HandedOn`: unfinished, re-enqueued on the work queue with `attempt`
//!   raised, or left to SQS to redeliver (the record is reported in
//!   `batchItemFailures`).

use std::collections::BTreeMap;
use std::time::SystemTime;

use serde::Serialize;
use serde_json::{json, Value};

use crate::decode::{Invalid, Origin};
use crate::error::DeleteError;
use crate::execute::{Done, ItemOutcome};
use crate::plan::{Item, PackagePlan};
use crate::request::{Job, Request, Service};

/// Versions per dead-letter or hand-on message, so that a message of 255
/// character versions stays far below SQS's 1 MiB.
pub const MAX_VERSIONS_PER_MESSAGE: usize = 1000;
/// SQS's largest `DelaySeconds`.
pub const MAX_DELAY_SECONDS: u32 = 900;

/// What became of one executed request.
#[derive(Debug)]
pub struct RequestResult {
    pub request: Job,
    pub outcomes: Vec<ItemOutcome>,
    /// The plan of a policy request or a dry run.
    pub plan: Option<PackagePlan>,
}

#[derive(Debug)]
pub enum Entry {
    Executed(Box<RequestResult>),
    Invalid(Invalid),
    /// A scope split into one policy request per package, for the work queue.
    FannedOut(Vec<Request>),
    /// An event that asks for nothing (a CodeArtifact event other than a
    /// publish, or one with no EVENT_POLICY configured).
    Ignored(String),
}

/// What became of one delivery.
#[derive(Debug)]
pub struct UnitResult {
    pub source: String,
    pub sender: Option<String>,
    pub origin: Origin,
    pub entries: Vec<Entry>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Disposition {
    Deleted,
    AlreadyAbsent,
    Kept,
    DeadLettered,
    HandedOn,
}

impl Disposition {
    pub fn as_str(self) -> &'static str {
        match self {
            Disposition::Deleted => "deleted",
            Disposition::AlreadyAbsent => "alreadyAbsent",
            Disposition::Kept => "kept",
            Disposition::DeadLettered => "deadLettered",
            Disposition::HandedOn => "handedOn",
        }
    }
}

/// One item's final line in the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub service: Service,
    pub package: String,
    pub item: Item,
    pub disposition: Disposition,
    pub code: Option<String>,
    pub attempts: u32,
}

/// A message to send to a queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    pub body: String,
    pub delay_seconds: Option<i32>,
}

#[derive(Debug, Clone, Copy)]
pub struct Settings {
    pub has_work_queue: bool,
    pub max_attempts: u32,
}

/// What the handler must do for one delivery.
#[derive(Debug, Default)]
pub struct UnitAccount {
    pub source: String,
    /// Who sent the delivery, when known (see [`crate::decode::Unit::sender`]).
    pub sender: Option<String>,
    pub dead_letters: Vec<Outgoing>,
    pub hand_ons: Vec<Outgoing>,
    /// The SQS record must be reported in `batchItemFailures`.
    pub redeliver: bool,
    pub lines: Vec<Line>,
    /// Reasons of the requests that did not decode.
    pub invalid: Vec<String>,
    /// Policy requests put on the work queue, one per package.
    pub fanned_out: u64,
    /// Why events were ignored.
    pub ignored: Vec<String>,
    /// Dry runs' plans.
    pub plans: Vec<PackagePlan>,
}

impl UnitAccount {
    /// A record left untouched (a FIFO batch stopped before it): every item
    /// is handed on by redelivery.
    pub fn unstarted(unit: &crate::decode::Unit) -> Self {
        let mut acc = UnitAccount {
            source: unit.source.clone(),
            sender: unit.sender.clone(),
            redeliver: true,
            ..UnitAccount::default()
        };
        for d in &unit.requests {
            if let crate::decode::Decoded::Valid(job) = d {
                let items = match job {
                    Job::One(r) => crate::plan::items(r),
                    Job::Many(_) => vec![Item::Package],
                };
                for item in items {
                    acc.lines.push(Line {
                        service: job.service(),
                        package: job.label(),
                        item,
                        disposition: Disposition::HandedOn,
                        code: None,
                        attempts: 0,
                    });
                }
            }
        }
        acc
    }

    /// Sends nothing for this record and lets SQS redeliver it whole: every
    /// item not finished is handed on by redelivery.
    pub fn redeliver_whole(&mut self) {
        self.redeliver = true;
        self.dead_letters.clear();
        self.hand_ons.clear();
        self.fanned_out = 0;
        for l in &mut self.lines {
            if l.disposition == Disposition::DeadLettered {
                l.disposition = Disposition::HandedOn;
            }
        }
    }
}

/// Backoff before a handed-on request runs again: 5 s doubling per attempt,
/// at most 900 s, and never shorter than the service's `Retry-After`.
pub fn hand_on_delay(attempt: u32, retry_after_secs: u64) -> u32 {
    let backoff = 5u64.saturating_mul(1u64 << attempt.saturating_sub(1).min(16));
    backoff.max(retry_after_secs).min(MAX_DELAY_SECONDS as u64) as u32
}

fn rfc3339(t: SystemTime) -> String {
    time::OffsetDateTime::from(t)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

struct Failure<'a> {
    code: String,
    message: String,
    attempts: u32,
    items: Vec<&'a ItemOutcome>,
}

/// Decides the fate of every item of one delivery.
pub fn account(unit: &UnitResult, settings: &Settings, now: SystemTime) -> UnitAccount {
    let time = rfc3339(now);
    let mut acc = UnitAccount {
        source: unit.source.clone(),
        sender: unit.sender.clone(),
        ..UnitAccount::default()
    };
    let (is_sqs, fifo, receive_count) = match unit.origin {
        Origin::Sqs {
            fifo,
            receive_count,
        } => (true, fifo, attempts_received(fifo, receive_count)),
        _ => (false, false, 1),
    };
    let mut progress = false;
    let mut waiting = false;
    for entry in &unit.entries {
        let rr = match entry {
            Entry::Ignored(why) => {
                progress = true;
                acc.ignored.push(why.clone());
                continue;
            }
            Entry::FannedOut(requests) => {
                progress = true;
                acc.fanned_out += requests.len() as u64;
                acc.hand_ons.extend(requests.iter().map(|r| Outgoing {
                    body: serde_json::to_string(&r.to_raw(None, None)).expect("request serializes"),
                    delay_seconds: None,
                }));
                continue;
            }
            Entry::Invalid(inv) => {
                progress = true;
                let reason = inv.error.reason();
                let mut body = crate::raw_body::fields(&inv.raw);
                body.insert(
                    "failure".into(),
                    json!({"code": "INVALID_REQUEST", "message": crate::raw_body::message(&reason), "attempts": 0,
                           "source": unit.source, "time": time}),
                );
                let body = Value::Object(body);
                acc.dead_letters.push(Outgoing {
                    body: body.to_string(),
                    delay_seconds: None,
                });
                acc.invalid.push(reason);
                continue;
            }
            Entry::Executed(rr) => rr,
        };
        let service = rr.request.service();
        let package = rr.request.label();
        let attempt = rr.request.attempt().saturating_add(receive_count - 1);
        if let (Job::One(r), Some(plan)) = (&rr.request, &rr.plan) {
            if r.dry_run {
                acc.plans.push(plan.clone());
            }
        }
        let mut permanent: BTreeMap<String, Failure> = BTreeMap::new();
        let mut retryable: Vec<(&ItemOutcome, &DeleteError)> = Vec::new();
        for o in &rr.outcomes {
            let line = |disposition, code| line_for(service, &package, o, disposition, code);
            match &o.result {
                Ok(done) => {
                    progress = true;
                    acc.lines.push(match done {
                        Done::Deleted => line(Disposition::Deleted, None),
                        Done::AlreadyAbsent => line(Disposition::AlreadyAbsent, None),
                        Done::Kept(rule) => line(Disposition::Kept, Some(rule.as_str().to_owned())),
                    });
                }
                Err(e) if e.is_permanent() => {
                    progress = true;
                    acc.lines
                        .push(line(Disposition::DeadLettered, Some(e.code())));
                    let f = permanent.entry(e.code()).or_insert_with(|| Failure {
                        code: e.code(),
                        message: e.chain(),
                        attempts: 0,
                        items: Vec::new(),
                    });
                    f.attempts = f.attempts.max(o.attempts);
                    f.items.push(o);
                }
                Err(e) => retryable.push((o, e)),
            }
        }
        let mut dead: Vec<Failure> = permanent.into_values().collect();
        if !retryable.is_empty() {
            let exhausted = attempt >= settings.max_attempts;
            let code_of = |e: &DeleteError| {
                if exhausted {
                    "RETRIES_EXHAUSTED".to_owned()
                } else {
                    e.code()
                }
            };
            let hand_on = !exhausted && settings.has_work_queue && !fifo;
            if exhausted || (!is_sqs && !settings.has_work_queue) {
                // Dead-letter, grouped by the code of the last error.
                progress = true;
                let mut groups: BTreeMap<String, Failure> = BTreeMap::new();
                for (o, e) in &retryable {
                    let code = code_of(e);
                    let g = groups.entry(code.clone()).or_insert_with(|| Failure {
                        code,
                        message: if exhausted {
                            format!(
                                "gave up after attempt {attempt} of {}; last error: {}",
                                settings.max_attempts,
                                e.chain()
                            )
                        } else {
                            e.chain()
                        },
                        attempts: 0,
                        items: Vec::new(),
                    });
                    g.attempts = g.attempts.max(o.attempts);
                    g.items.push(o);
                }
                for g in groups.into_values() {
                    for o in &g.items {
                        acc.lines.push(line_for(
                            service,
                            &package,
                            o,
                            Disposition::DeadLettered,
                            Some(g.code.clone()),
                        ));
                    }
                    dead.push(g);
                }
            } else {
                waiting = true;
                for (o, e) in &retryable {
                    acc.lines.push(line_for(
                        service,
                        &package,
                        o,
                        Disposition::HandedOn,
                        Some(e.code()),
                    ));
                }
                if hand_on {
                    let retry_after = retryable
                        .iter()
                        .filter_map(|(_, e)| e.retry_after())
                        .max()
                        .map_or(0, |d| d.as_secs_f64().ceil() as u64);
                    let cut_short = retryable
                        .iter()
                        .all(|(_, e)| matches!(e, DeleteError::OutOfTime { last: None }));
                    let delay = if cut_short {
                        0
                    } else {
                        hand_on_delay(attempt, retry_after)
                    };
                    // Only errors spend an attempt, not a lack of time.
                    let next = if retryable.iter().any(|(_, e)| e.spends_attempt()) {
                        attempt + 1
                    } else {
                        attempt
                    };
                    let items: Vec<&ItemOutcome> = retryable.iter().map(|(o, _)| *o).collect();
                    for chunk in narrow(&items) {
                        let raw = rr.request.to_raw(chunk.as_deref(), Some(next));
                        acc.hand_ons.push(Outgoing {
                            body: serde_json::to_string(&raw).expect("request serializes"),
                            delay_seconds: Some(delay as i32),
                        });
                    }
                } else {
                    // SQS without a usable work queue (none, or FIFO):
                    // the record goes back to its queue.
                    acc.redeliver = true;
                }
            }
        }
        for f in dead {
            for chunk in narrow(&f.items) {
                let mut raw = rr.request.to_raw(chunk.as_deref(), None);
                raw.failure = Some(json!({
                    "code": f.code, "message": f.message, "attempts": f.attempts,
                    "source": unit.source, "time": time,
                }));
                acc.dead_letters.push(Outgoing {
                    body: serde_json::to_string(&raw).expect("request serializes"),
                    delay_seconds: None,
                });
            }
        }
    }
    // An SQS record where nothing got anywhere goes back to SQS whole rather
    // than as a new message: SQS's receive count and redrive policy apply.
    if is_sqs && (acc.redeliver || (waiting && !progress)) {
        acc.redeliver_whole();
    }
    acc
}

/// How many of an SQS record's receives count as attempts. On a standard
/// queue, every receive ran the record. On a FIFO queue, SQS also counts the
/// receives in which the record was held back unstarted behind a failing
/// record of its group, and nothing in the record tells those apart; so none
/// count, and a FIFO record is retried until its queue's redrive policy
/// (`maxReceiveCount`) moves it.
fn attempts_received(fifo: bool, receive_count: u32) -> u32 {
    if fifo {
        1
    } else {
        receive_count.max(1)
    }
}

fn line_for(
    service: Service,
    package: &str,
    o: &ItemOutcome,
    disposition: Disposition,
    code: Option<String>,
) -> Line {
    Line {
        service,
        package: package.to_owned(),
        item: o.item.clone(),
        disposition,
        code,
        attempts: o.attempts,
    }
}

/// The `versions` of the messages carrying these items: `None` for the
/// package item (the message stays `deletePackage: true`).
fn narrow(items: &[&ItemOutcome]) -> Vec<Option<Vec<String>>> {
    let versions: Vec<String> = items
        .iter()
        .filter_map(|o| match &o.item {
            Item::Version(v) => Some(v.clone()),
            Item::Package => None,
        })
        .collect();
    let mut out: Vec<Option<Vec<String>>> = versions
        .chunks(MAX_VERSIONS_PER_MESSAGE)
        .map(|c| Some(c.to_vec()))
        .collect();
    if items.iter().any(|o| o.item == Item::Package) {
        out.push(None);
    }
    out
}

/// Per-invocation counts. `requested` always equals the sum of the five
/// outcomes.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub requested: u64,
    pub deleted: u64,
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
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub invalid: Vec<String>,
    /// Dry runs: per package, what would be deleted and what is kept by which rule.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub plans: Vec<PackagePlan>,
}

impl Summary {
    pub fn add(&mut self, acc: &UnitAccount) {
        for l in &acc.lines {
            self.requested += 1;
            *match l.disposition {
                Disposition::Deleted => &mut self.deleted,
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
        self.plans.extend(acc.plans.iter().cloned());
    }

    /// The accounting invariant: every requested item has exactly one fate.
    pub fn balanced(&self) -> bool {
        self.requested
            == self.deleted + self.already_absent + self.kept + self.dead_lettered + self.handed_on
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorClass;
    use crate::request::RawRequest;
    use std::sync::Arc;

    fn request(versions: &[&str], attempt: u32) -> Request {
        let mut r: RawRequest = serde_json::from_value(json!({
            "service": "codeartifact", "domain": "acme", "repository": "releases",
            "format": "npm", "package": "web", "versions": versions}))
        .unwrap();
        r.attempt = Some(attempt);
        r.validate().unwrap()
    }

    fn api(class: ErrorClass, code: &str) -> Arc<DeleteError> {
        Arc::new(DeleteError::Api {
            service: Service::CodeArtifact,
            operation: "DeletePackageVersions",
            code: code.into(),
            class,
            source: "cause".into(),
        })
    }

    fn unit(
        origin: Origin,
        request: Request,
        results: Vec<Result<Done, Arc<DeleteError>>>,
    ) -> UnitResult {
        let outcomes = crate::plan::items(&request)
            .into_iter()
            .zip(results)
            .map(|(item, result)| ItemOutcome {
                item,
                result,
                attempts: 1,
            })
            .collect();
        UnitResult {
            source: "m-1".into(),
            sender: None,
            origin,
            entries: vec![Entry::Executed(Box::new(RequestResult {
                request: Job::One(request),
                outcomes,
                plan: None,
            }))],
        }
    }

    const SQS: Origin = Origin::Sqs {
        fifo: false,
        receive_count: 1,
    };
    const WQ: Settings = Settings {
        has_work_queue: true,
        max_attempts: 8,
    };

    fn summary(acc: &UnitAccount) -> Summary {
        let mut s = Summary::default();
        s.add(acc);
        assert!(s.balanced(), "{s:?}");
        s
    }

    #[test]
    fn permanent_failures_group_by_code_into_replayable_requests() {
        let u = unit(
            SQS,
            request(&["1", "2", "3", "4"], 1),
            vec![
                Ok(Done::Deleted),
                Err(Arc::new(DeleteError::VersionRefused {
                    code: "MISMATCHED_STATUS".into(),
                    message: "m".into(),
                })),
                Err(Arc::new(DeleteError::VersionRefused {
                    code: "MISMATCHED_STATUS".into(),
                    message: "m".into(),
                })),
                Err(Arc::new(DeleteError::VersionRefused {
                    code: "NOT_ALLOWED".into(),
                    message: "n".into(),
                })),
            ],
        );
        let acc = account(&u, &WQ, SystemTime::UNIX_EPOCH);
        assert_eq!(acc.dead_letters.len(), 2);
        assert!(acc.hand_ons.is_empty() && !acc.redeliver);
        let first: serde_json::Value = serde_json::from_str(&acc.dead_letters[0].body).unwrap();
        assert_eq!(first["versions"], json!(["2", "3"]));
        assert_eq!(first["failure"]["code"], "MISMATCHED_STATUS");
        assert_eq!(first["failure"]["source"], "m-1");
        assert_eq!(first["failure"]["time"], "1970-01-01T00:00:00Z");
        assert!(first.get("attempt").is_none());
        let s = summary(&acc);
        assert_eq!((s.deleted, s.dead_lettered), (1, 3));
    }

    fn partial(error: Arc<DeleteError>) -> UnitAccount {
        let u = unit(
            Origin::Sqs {
                fifo: false,
                receive_count: 2,
            },
            request(&["1", "2"], 3),
            vec![Ok(Done::AlreadyAbsent), Err(error)],
        );
        account(&u, &WQ, SystemTime::UNIX_EPOCH)
    }

    #[test]
    fn partial_progress_is_handed_on_with_a_raised_attempt() {
        let acc = partial(api(ErrorClass::Transient, "InternalServerException"));
        assert_eq!(acc.hand_ons.len(), 1);
        let body: serde_json::Value = serde_json::from_str(&acc.hand_ons[0].body).unwrap();
        assert_eq!(body["versions"], json!(["2"]));
        assert_eq!(
            body["attempt"], 5,
            "attempt 3, second receive → 4 done, next is 5"
        );
        assert_eq!(summary(&acc).handed_on, 1);
    }

    /// Issue 9, item 3: waiting for the quota or running out of time is not
    /// a failed attempt.
    #[test]
    fn a_throttle_or_a_lack_of_time_keeps_the_attempt_number() {
        let throttled = api(
            ErrorClass::ThrottledWithHint(std::time::Duration::from_secs(120)),
            "ThrottlingException",
        );
        let out_of_time = Arc::new(DeleteError::OutOfTime {
            last: Some(api(ErrorClass::Throttled, "ThrottlingException")),
        });
        for error in [throttled, out_of_time] {
            let acc = partial(error);
            let body: serde_json::Value = serde_json::from_str(&acc.hand_ons[0].body).unwrap();
            assert_eq!(body["attempt"], 4, "attempt 3, second receive: still 4");
        }
        // Out of time with a 5xx as the last answer did spend one.
        let unknown = Arc::new(DeleteError::OutOfTime {
            last: Some(api(ErrorClass::Transient, "InternalServerException")),
        });
        let body: serde_json::Value =
            serde_json::from_str(&partial(unknown).hand_ons[0].body).unwrap();
        assert_eq!(body["attempt"], 5);
    }

    #[test]
    fn no_progress_on_sqs_means_redelivery_not_a_new_message() {
        let u = unit(
            SQS,
            request(&["1"], 1),
            vec![Err(api(ErrorClass::Transient, "InternalServerException"))],
        );
        let acc = account(&u, &WQ, SystemTime::UNIX_EPOCH);
        assert!(acc.redeliver && acc.hand_ons.is_empty() && acc.dead_letters.is_empty());
        assert_eq!(summary(&acc).handed_on, 1);
    }

    #[test]
    fn exhausted_attempts_are_dead_lettered() {
        let u = unit(
            Origin::Sqs {
                fifo: false,
                receive_count: 8,
            },
            request(&["1"], 1),
            vec![Err(api(ErrorClass::Transient, "InternalServerException"))],
        );
        let acc = account(&u, &WQ, SystemTime::UNIX_EPOCH);
        assert!(!acc.redeliver);
        let body: serde_json::Value = serde_json::from_str(&acc.dead_letters[0].body).unwrap();
        assert_eq!(body["failure"]["code"], "RETRIES_EXHAUSTED");
        assert!(body["failure"]["message"]
            .as_str()
            .unwrap()
            .contains("InternalServerException"));
        assert_eq!(summary(&acc).dead_lettered, 1);
    }

    #[test]
    fn a_fifo_receive_count_is_not_an_attempt_count() {
        // Issue 9, item 4: this record may have waited unstarted behind a
        // failing one for all eight receives.
        let u = unit(
            Origin::Sqs {
                fifo: true,
                receive_count: 8,
            },
            request(&["1"], 1),
            vec![Err(api(ErrorClass::Throttled, "ThrottlingException"))],
        );
        let acc = account(&u, &WQ, SystemTime::UNIX_EPOCH);
        assert!(acc.redeliver && acc.dead_letters.is_empty());
        assert_eq!(summary(&acc).handed_on, 1);
    }

    #[test]
    fn direct_invocations_without_a_work_queue_dead_letter_with_the_last_code() {
        let u = unit(
            Origin::Direct,
            request(&["1", "2"], 1),
            vec![
                Ok(Done::Deleted),
                Err(api(ErrorClass::Throttled, "ThrottlingException")),
            ],
        );
        let acc = account(
            &u,
            &Settings {
                has_work_queue: false,
                max_attempts: 8,
            },
            SystemTime::UNIX_EPOCH,
        );
        let body: serde_json::Value = serde_json::from_str(&acc.dead_letters[0].body).unwrap();
        assert_eq!(body["failure"]["code"], "ThrottlingException");
        assert_eq!(body["versions"], json!(["2"]));
        let s = summary(&acc);
        assert_eq!((s.deleted, s.dead_lettered), (1, 1));
    }

    #[test]
    fn fifo_records_are_redelivered_whole() {
        let u = unit(
            Origin::Sqs {
                fifo: true,
                receive_count: 1,
            },
            request(&["1", "2", "3"], 1),
            vec![
                Ok(Done::Deleted),
                Err(Arc::new(DeleteError::VersionRefused {
                    code: "NOT_ALLOWED".into(),
                    message: "n".into(),
                })),
                Err(Arc::new(DeleteError::OutOfTime { last: None })),
            ],
        );
        let acc = account(&u, &WQ, SystemTime::UNIX_EPOCH);
        assert!(acc.redeliver && acc.dead_letters.is_empty() && acc.hand_ons.is_empty());
        let s = summary(&acc);
        assert_eq!((s.deleted, s.handed_on), (1, 2));
    }

    #[test]
    fn delays_grow_and_respect_retry_after_and_the_sqs_limit() {
        assert_eq!(hand_on_delay(1, 0), 5);
        assert_eq!(hand_on_delay(3, 0), 20);
        assert_eq!(hand_on_delay(2, 60), 60);
        assert_eq!(hand_on_delay(30, 0), 900);
        assert_eq!(hand_on_delay(1, 5000), 900);
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use crate::error::ErrorClass;
    use crate::request::RawRequest;
    use proptest::prelude::*;
    use std::collections::BTreeSet;
    use std::sync::Arc;

    /// 0 deleted, 1 absent, 2 permanent (two codes), 3 throttled, 4 out of time.
    fn outcome(kind: u8, code: u8) -> Result<Done, Arc<DeleteError>> {
        match kind {
            0 => Ok(Done::Deleted),
            1 => Ok(Done::AlreadyAbsent),
            2 => Err(Arc::new(DeleteError::VersionRefused {
                code: if code % 2 == 0 {
                    "NOT_ALLOWED"
                } else {
                    "MISMATCHED_STATUS"
                }
                .into(),
                message: "refused".into(),
            })),
            3 => Err(Arc::new(DeleteError::Api {
                service: Service::CodeArtifact,
                operation: "DeletePackageVersions",
                code: "ThrottlingException".into(),
                class: ErrorClass::Throttled,
                source: "slow".into(),
            })),
            _ => Err(Arc::new(DeleteError::OutOfTime { last: None })),
        }
    }

    fn origin() -> impl Strategy<Value = Origin> {
        prop_oneof![
            (any::<bool>(), 1u32..12).prop_map(|(fifo, receive_count)| Origin::Sqs {
                fifo,
                receive_count
            }),
            Just(Origin::EventBridge),
            Just(Origin::Direct),
        ]
    }

    fn versions_in(bodies: &[Outgoing]) -> Vec<String> {
        bodies
            .iter()
            .flat_map(|o| {
                let v: serde_json::Value = serde_json::from_str(&o.body).unwrap();
                v["versions"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|s| s.as_str().unwrap().to_owned())
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    proptest! {
        #[test]
        fn every_item_has_exactly_one_fate_and_messages_carry_exactly_the_unfinished(
            kinds in prop::collection::vec((0u8..5, any::<u8>()), 1..60),
            origin in origin(),
            has_work_queue in any::<bool>(),
            max_attempts in 1u32..10,
            attempt in 1u32..10,
        ) {
            let versions: Vec<String> = (0..kinds.len()).map(|i| format!("1.0.{i}")).collect();
            let mut raw: RawRequest = serde_json::from_value(serde_json::json!({
                "service": "codeartifact", "domain": "acme", "repository": "releases",
                "format": "npm", "package": "web", "versions": versions})).unwrap();
            raw.attempt = Some(attempt);
            let request = raw.validate().unwrap();
            let outcomes: Vec<ItemOutcome> = versions.iter().zip(&kinds)
                .map(|(v, (k, c))| ItemOutcome { item: Item::Version(v.clone()), result: outcome(*k, *c), attempts: 1 })
                .collect();
            let unit = UnitResult { source: "m".into(), sender: None, origin, entries: vec![Entry::Executed(Box::new(RequestResult { request: Job::One(request), outcomes, plan: None }))] };
            let acc = account(&unit, &Settings { has_work_queue, max_attempts }, SystemTime::UNIX_EPOCH);

            let mut s = Summary::default();
            s.add(&acc);
            prop_assert!(s.balanced());
            prop_assert_eq!(s.requested as usize, versions.len());
            let lined: BTreeSet<String> = acc.lines.iter().map(|l| l.item.to_string()).collect();
            prop_assert_eq!(lined.len(), versions.len(), "each item has one line");

            let by = |d: Disposition| -> BTreeSet<String> {
                acc.lines.iter().filter(|l| l.disposition == d).map(|l| l.item.to_string()).collect()
            };
            let dead: Vec<String> = versions_in(&acc.dead_letters);
            let handed: Vec<String> = versions_in(&acc.hand_ons);
            prop_assert_eq!(dead.iter().cloned().collect::<BTreeSet<_>>(), by(Disposition::DeadLettered));
            prop_assert_eq!(dead.len(), by(Disposition::DeadLettered).len(), "no version dead-lettered twice");
            if acc.redeliver {
                prop_assert!(matches!(origin, Origin::Sqs { .. }), "only SQS records are redelivered");
                prop_assert!(acc.dead_letters.is_empty() && acc.hand_ons.is_empty());
            } else {
                prop_assert_eq!(handed.iter().cloned().collect::<BTreeSet<_>>(), by(Disposition::HandedOn));
            }
            // Deleted and absent versions are never sent anywhere.
            for v in dead.iter().chain(&handed) {
                prop_assert!(!by(Disposition::Deleted).contains(v) && !by(Disposition::AlreadyAbsent).contains(v));
            }
            if matches!(origin, Origin::Sqs { fifo: true, .. }) {
                prop_assert!(acc.hand_ons.is_empty(), "FIFO work is never re-enqueued");
            }
        }
    }
}
