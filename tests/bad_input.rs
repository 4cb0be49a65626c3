//! The bad-input matrix (issue 9): malformed and hostile inputs, each
//! delivered as an SQS record, as a direct invocation and as an EventBridge
//! detail where that makes sense. Each must be refused with a reason that
//! names what is wrong, with no package API call (the clients have no
//! rules: a call would fail, and an executed request would count items),
//! a dead letter (SQS, and direct when the payload is an object) or a clean
//! error (direct), and nothing in `batchItemFailures`.
//!
//! RELIABILITY.md reports the number of cases; `cargo test --test
//! bad_input -- --nocapture` prints it.

#[path = "support/mocks/mod.rs"]
mod mocks;
mod support;

use std::time::Duration;

use lambda_runtime::LambdaEvent;
use mocks::*;
use packprune::testkit::decode::Accept;
use serde_json::{json, Value};
use support::{context, invoke, sqs_event};

const MINUTE: Duration = Duration::from_secs(60);

/// What a case is.
enum Body {
    /// Raw text: only an SQS body can carry it.
    Text(String),
    /// A JSON value: an SQS body, a direct invocation and, for a request
    /// object, an EventBridge detail.
    Json(Value),
    /// An EventBridge envelope or CodeArtifact event: an SQS body and a
    /// direct invocation.
    Event(Value),
}

struct Case {
    name: String,
    body: Body,
    /// What the reason must contain, the field or the defect: one of these.
    names: &'static [&'static str],
}

fn ca() -> Value {
    json!({"service": "codeartifact", "domain": "acme", "repository": "releases",
           "format": "npm", "package": "web", "versions": ["1.0.0"]})
}

fn iot() -> Value {
    json!({"service": "iot", "package": "fw", "versions": ["1.0"]})
}

fn ca_policy() -> Value {
    json!({"service": "codeartifact", "domain": "acme", "repository": "releases",
           "format": "npm", "package": "web", "policy": {"olderThanDays": 30}})
}

fn policy() -> Value {
    json!({"service": "iot", "package": "fw", "policy": {"keepLatest": 2}})
}

fn with(mut base: Value, pointer: &str, value: Value) -> Value {
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    let target = if parent.is_empty() {
        &mut base
    } else {
        base.pointer_mut(parent).unwrap()
    };
    target[key] = value;
    base
}

fn without(mut base: Value, key: &str) -> Value {
    base.as_object_mut().unwrap().remove(key);
    base
}

fn native(detail: Value) -> Value {
    json!({"version": "0", "id": "e-1", "detail-type": "CodeArtifact Package Version State Change",
           "source": "aws.codeartifact", "account": "111122223333", "time": "2026-11-21T08:00:00Z",
           "region": "us-east-1", "resources": [], "detail": detail})
}

fn native_detail() -> Value {
    json!({"domainOwner": "111122223333", "domainName": "acme", "repositoryName": "releases",
           "packageFormat": "npm", "packageName": "web", "packageVersion": "1.0.1",
           "operationType": "Created", "packageVersionState": "Published"})
}

/// A CloudTrail `ReadFromRepository` record (a download), as the usage
/// queue receives it.
fn read() -> Value {
    packprune_emulator::cloudtrail::read_event(&packprune_emulator::cloudtrail::Download {
        domain_owner: "111122223333",
        domain: "acme",
        repository: "releases",
        format: "npm",
        namespace: None,
        namespace_field: false,
        package: "web",
        version: Some("1.0.0"),
        time: "2026-11-21T08:00:00Z",
        seq: 1,
    })
}

fn read_params(key: &str, value: Value) -> Value {
    with(read(), &format!("/detail/requestParameters/{key}"), value)
}

fn envelope(source: &str, detail_type: &str, detail: Value) -> Value {
    json!({"version": "0", "id": "e-2", "detail-type": detail_type, "source": source,
           "account": "111122223333", "time": "2026-11-21T08:00:00Z", "region": "us-east-1",
           "resources": [], "detail": detail})
}

fn nested(depth: usize) -> String {
    format!(
        "{{\"service\":\"iot\",\"package\":\"fw\",\"versions\":{}\"1\"{}}}",
        "[".repeat(depth),
        "]".repeat(depth)
    )
}

#[rustfmt::skip]
fn cases() -> Vec<Case> {
    let long = |n: usize| "a".repeat(n);
    let mut out: Vec<(String, Body, &'static [&'static str])> = vec![
        // Framing.
        ("empty body".into(), Body::Text(String::new()), &["not JSON"]),
        ("blank body".into(), Body::Text("   \n".into()), &["not JSON"]),
        ("truncated object".into(), Body::Text("{\"service\":\"iot\"".into()), &["not JSON"]),
        ("truncated array".into(), Body::Text("[1,".into()), &["not JSON"]),
        ("trailing garbage".into(), Body::Text(format!("{} x", iot())), &["not JSON"]),
        ("byte-order mark".into(), Body::Text(format!("\u{feff}{}", iot())), &["not JSON"]),
        ("NaN literal".into(), Body::Text("{\"service\":\"iot\",\"package\":\"fw\",\"versions\":[\"1\"],\"attempt\":NaN}".into()), &["not JSON"]),
        ("single quotes".into(), Body::Text("{'service':'iot'}".into()), &["not JSON"]),
        ("duplicate key".into(), Body::Text("{\"service\":\"iot\",\"package\":\"a\",\"package\":\"b\",\"versions\":[\"1\"]}".into()), &["duplicate key `package`"]),
        ("nesting 200 deep".into(), Body::Text(nested(200)), &["not JSON"]),
        ("nesting 100,000 deep".into(), Body::Text(nested(100_000)), &["not JSON"]),
        ("null".into(), Body::Json(Value::Null), &["null"]),
        ("true".into(), Body::Json(json!(true)), &["a boolean"]),
        ("number".into(), Body::Json(json!(42)), &["a number"]),
        ("string".into(), Body::Json(json!("delete everything")), &["a string"]),
        ("empty array".into(), Body::Json(json!([])), &["0 elements"]),
        ("empty object".into(), Body::Json(json!({})), &["`service` is required", "an empty object"]),
        ("array of numbers".into(), Body::Json(json!([1, 2])), &["a number"]),
        ("a version of 1.1 MB".into(), Body::Json(with(iot(), "/versions", json!(["a".repeat(1_100_000)]))), &["versions[0]"]),
        ("an unknown field of 1.1 MB".into(), Body::Json(with(iot(), "/padding", json!("a".repeat(1_100_000)))), &["padding"]),
        // Types.
        ("service a number".into(), Body::Json(with(ca(), "/service", json!(1))), &["service"]),
        ("service null".into(), Body::Json(with(ca(), "/service", Value::Null)), &["`service` is required"]),
        ("service s3".into(), Body::Json(with(ca(), "/service", json!("s3"))), &["`service` must be"]),
        ("service capitalised".into(), Body::Json(with(ca(), "/service", json!("CodeArtifact"))), &["`service` must be"]),
        ("domain a number".into(), Body::Json(with(ca(), "/domain", json!(5))), &["domain"]),
        ("domain an array".into(), Body::Json(with(ca(), "/domain", json!(["acme"]))), &["domain"]),
        ("versions a string".into(), Body::Json(with(iot(), "/versions", json!("1.0"))), &["versions"]),
        ("versions of numbers".into(), Body::Json(with(iot(), "/versions", json!([1]))), &["versions[0]"]),
        ("versions of null".into(), Body::Json(with(iot(), "/versions", json!([null]))), &["versions[0]"]),
        ("versions an object".into(), Body::Json(with(iot(), "/versions", json!({"1": true}))), &["versions"]),
        ("versions empty".into(), Body::Json(with(iot(), "/versions", json!([]))), &["`versions` must name at least one"]),
        ("deletePackage a string".into(), Body::Json(with(without(iot(), "versions"), "/deletePackage", json!("true"))), &["deletePackage"]),
        ("deletePackage with versions".into(), Body::Json(with(iot(), "/deletePackage", json!(true))), &["not both"]),
        ("dryRun a string".into(), Body::Json(with(iot(), "/dryRun", json!("yes"))), &["dryRun"]),
        ("attempt negative".into(), Body::Json(with(iot(), "/attempt", json!(-1))), &["attempt"]),
        ("attempt zero".into(), Body::Json(with(iot(), "/attempt", json!(0))), &["`attempt` counts from 1"]),
        ("attempt fractional".into(), Body::Json(with(iot(), "/attempt", json!(1.5))), &["attempt"]),
        ("attempt past u32".into(), Body::Json(with(iot(), "/attempt", json!(4_294_967_296u64))), &["attempt"]),
        ("unknown field".into(), Body::Json(with(iot(), "/verisons", json!(["1"]))), &["did you mean `versions`?"]),
        ("unknown policy field".into(), Body::Json(with(policy(), "/policy/keepLast", json!(3))), &["did you mean `keepLatest`?"]),
        // What only the function writes on its own messages.
        ("continues on one package".into(), Body::Json(with(with(policy(), "/dryRun", json!(true)), "/continues", json!({"planId": "p", "createdAt": "2026-12-06T00:00:00Z", "from": 1}))), &["`continues` is not allowed with one package"]),
        ("continues on a real scope".into(), Body::Json(with(without(policy(), "package"), "/continues", json!({"planId": "p", "createdAt": "2026-12-06T00:00:00Z", "from": 1}))), &["`continues` is allowed only on a scope's dry run"]),
        ("continues without from".into(), Body::Json(with(with(without(policy(), "package"), "/dryRun", json!(true)), "/continues", json!({"planId": "p", "createdAt": "2026-12-06T00:00:00Z"}))), &["from"]),
        ("continues from negative".into(), Body::Json(with(with(without(policy(), "package"), "/dryRun", json!(true)), "/continues", json!({"planId": "p", "createdAt": "2026-12-06T00:00:00Z", "from": -1}))), &["from"]),
        ("an apply's empty part".into(), Body::Json(json!({"service": "iot", "apply": {"report": "s3://bucket/k/report.json", "sha256": "a".repeat(64), "part": {"from": 3, "to": 3}}})), &["`apply.part` must name at least one request"]),
        ("an apply's part a string".into(), Body::Json(json!({"service": "iot", "apply": {"report": "s3://bucket/k/report.json", "sha256": "a".repeat(64), "part": "0-1"}})), &["part"]),
        ("an apply part beside planId".into(), Body::Json(json!({"service": "iot", "package": "fw", "policy": {"keepLatest": 2}, "versions": ["1.0"], "apply": {"planId": "p", "sha256": "a".repeat(64), "expiresAt": "2026-12-06T00:00:00Z", "expect": {"1.0": {"status": "PUBLISHED"}}, "part": {"from": 0, "to": 1}}})), &["`apply.part` is not allowed beside `apply.planId`"]),
        // Numbers at and past their limits.
        ("keepLatest zero".into(), Body::Json(with(policy(), "/policy/keepLatest", json!(0))), &["keepLatest"]),
        ("keepLatest negative".into(), Body::Json(with(policy(), "/policy/keepLatest", json!(-1))), &["keepLatest"]),
        ("keepLatest past u32".into(), Body::Json(with(policy(), "/policy/keepLatest", json!(1e10))), &["keepLatest"]),
        ("olderThanDays zero".into(), Body::Json(json!({"service": "iot", "package": "fw", "policy": {"olderThanDays": 0}})), &["olderThanDays"]),
        ("olderThanDays negative".into(), Body::Json(with(policy(), "/policy/olderThanDays", json!(-3))), &["olderThanDays"]),
        ("olderThanDays a string".into(), Body::Json(with(policy(), "/policy/olderThanDays", json!("30"))), &["olderThanDays"]),
        ("maxDeletions negative".into(), Body::Json(with(policy(), "/maxDeletions", json!(-5))), &["maxDeletions"]),
        ("maxDeletions past u32".into(), Body::Json(with(policy(), "/maxDeletions", json!(1e20))), &["maxDeletions"]),
        ("maxDeletions without policy".into(), Body::Json(with(iot(), "/maxDeletions", json!(5))), &["maxDeletions"]),
        ("maxFraction zero".into(), Body::Json(with(policy(), "/maxFraction", json!(0))), &["maxFraction"]),
        ("maxFraction over one".into(), Body::Json(with(policy(), "/maxFraction", json!(1.5))), &["maxFraction"]),
        ("maxFraction a string".into(), Body::Json(with(policy(), "/maxFraction", json!("half"))), &["maxFraction"]),
        ("policy a string".into(), Body::Json(with(policy(), "/policy", json!("keep 3"))), &["policy"]),
        ("policy with deletePackage".into(), Body::Json(with(policy(), "/deletePackage", json!(true))), &["deletePackage"]),
        ("statuses unknown".into(), Body::Json(with(policy(), "/policy/statuses", json!(["Gone"]))), &["statuses"]),
        // Regular expressions.
        ("match unbalanced".into(), Body::Json(with(policy(), "/policy/match", json!("(beta"))), &["match"]),
        ("exclude unbalanced".into(), Body::Json(with(policy(), "/policy/exclude", json!("[a-"))), &["exclude"]),
        ("match too big compiled".into(), Body::Json(with(policy(), "/policy/match", json!("(a{1000}){1000}"))), &["match"]),
        ("match too long".into(), Body::Json(with(policy(), "/policy/match", json!("a".repeat(5000)))), &["match"]),
        ("match look-around".into(), Body::Json(with(policy(), "/policy/match", json!("(?=x)"))), &["match"]),
        // Names: every pattern and length.
        ("domain too short".into(), Body::Json(with(ca(), "/domain", json!("a"))), &["domain"]),
        ("domain too long".into(), Body::Json(with(ca(), "/domain", json!(long(51)))), &["domain"]),
        ("domain upper case".into(), Body::Json(with(ca(), "/domain", json!("Acme"))), &["domain"]),
        ("domain underscore".into(), Body::Json(with(ca(), "/domain", json!("acme_corp"))), &["domain"]),
        ("domainOwner short".into(), Body::Json(with(ca(), "/domainOwner", json!("123"))), &["domainOwner"]),
        ("domainOwner letters".into(), Body::Json(with(ca(), "/domainOwner", json!("11112222333a"))), &["domainOwner"]),
        ("repository too short".into(), Body::Json(with(ca(), "/repository", json!("r"))), &["repository"]),
        ("repository too long".into(), Body::Json(with(ca(), "/repository", json!(long(101)))), &["repository"]),
        ("repository leading dash".into(), Body::Json(with(ca(), "/repository", json!("-rel"))), &["repository"]),
        ("format unknown".into(), Body::Json(with(ca(), "/format", json!("docker"))), &["format"]),
        ("format missing".into(), Body::Json(without(ca(), "format")), &["format"]),
        ("namespace for pypi".into(), Body::Json(with(with(ca(), "/format", json!("pypi")), "/namespace", json!("ns"))), &["namespace"]),
        ("maven without namespace".into(), Body::Json(with(ca(), "/format", json!("maven"))), &["namespace"]),
        ("namespace with a slash".into(), Body::Json(with(ca(), "/namespace", json!("a/b"))), &["namespace"]),
        ("package empty".into(), Body::Json(with(ca(), "/package", json!(""))), &["package"]),
        ("package too long".into(), Body::Json(with(ca(), "/package", json!(long(256)))), &["package"]),
        ("package with a slash".into(), Body::Json(with(ca(), "/package", json!("a/b"))), &["package"]),
        ("package with a hash".into(), Body::Json(with(ca(), "/package", json!("a#b"))), &["package"]),
        ("package with a space".into(), Body::Json(with(ca(), "/package", json!("a b"))), &["package"]),
        ("version too long".into(), Body::Json(with(ca(), "/versions", json!([long(256)]))), &["versions[0]"]),
        ("version with a hash".into(), Body::Json(with(ca(), "/versions", json!(["1", "1#0"]))), &["versions[1]"]),
        ("version with a newline".into(), Body::Json(with(ca(), "/versions", json!(["1\n0"]))), &["versions[0]"]),
        ("IoT package too long".into(), Body::Json(with(iot(), "/package", json!(long(129)))), &["package"]),
        ("IoT package with a slash".into(), Body::Json(with(iot(), "/package", json!("fw/1"))), &["package"]),
        ("IoT version too long".into(), Body::Json(with(iot(), "/versions", json!([long(65)]))), &["versions[0]"]),
        ("IoT version with a space".into(), Body::Json(with(iot(), "/versions", json!(["1 0"]))), &["versions[0]"]),
        ("expectedStatus unknown".into(), Body::Json(with(ca(), "/expectedStatus", json!("Gone"))), &["expectedStatus"]),
        ("expectedStatus with policy".into(), Body::Json(with(with(ca(), "/policy", json!({"keepLatest": 1})), "/expectedStatus", json!("Published"))), &["expectedStatus"]),
        ("unsetDefaultVersion on codeartifact".into(), Body::Json(with(ca(), "/unsetDefaultVersion", json!(true))), &["unsetDefaultVersion"]),
        ("packagePrefix with package".into(), Body::Json(with(policy(), "/packagePrefix", json!("fw"))), &["packagePrefix"]),
        ("scope with versions".into(), Body::Json(with(without(policy(), "package"), "/versions", json!(["1"]))), &["only one"]),
        ("scope without domain".into(), Body::Json(json!({"service": "codeartifact", "repository": "releases", "policy": {"keepLatest": 1}})), &["domain"]),
        // Envelopes.
        // An SQS body's SNS notification is unwrapped once: what it carries
        // gets every check (a direct invocation's is refused as such).
        ("SNS notification of an invalid request".into(), Body::Json(json!({"Type": "Notification", "MessageId": "m", "TopicArn": "arn:aws:sns:us-east-1:111122223333:t", "Message": with(iot(), "/package", json!("fw/1")).to_string()})), &["package", "SNS notification", "keys [Type, MessageId, TopicArn, Message]"]),
        ("SNS notification of an SNS notification".into(), Body::Json(json!({"Type": "Notification", "MessageId": "m", "TopicArn": "arn:aws:sns:us-east-1:111122223333:t", "Message": json!({"Type": "Notification", "MessageId": "n", "TopicArn": "arn:aws:sns:us-east-1:111122223333:t", "Message": iot().to_string()}).to_string()})), &["SNS notification", "keys [Type, MessageId, TopicArn, Message]"]),
        ("SNS notification whose Message is an object".into(), Body::Json(json!({"Type": "Notification", "MessageId": "m", "TopicArn": "arn:aws:sns:us-east-1:111122223333:t", "Message": iot()})), &["SNS notification", "keys [Type, MessageId, TopicArn, Message]"]),
        ("SNS notification of text".into(), Body::Json(json!({"Type": "Notification", "MessageId": "m", "TopicArn": "arn:aws:sns:us-east-1:111122223333:t", "Message": "delete fw 1.0"})), &["not JSON", "SNS notification", "keys [Type, MessageId, TopicArn, Message]"]),
        // Characters no registry allows, which the models' patterns let through.
        ("package with a NUL".into(), Body::Json(with(ca(), "/package", json!("we\u{0}b"))), &["`package` holds"]),
        ("package with a bidirectional override".into(), Body::Json(with(ca(), "/package", json!("web\u{202e}gpj"))), &["`package` holds"]),
        ("namespace with a control character".into(), Body::Json(with(ca(), "/namespace", json!("ac\u{7}me"))), &["`namespace` holds"]),
        ("version with a bidirectional isolate".into(), Body::Json(with(ca(), "/versions", json!(["1.0", "1.\u{2066}0"]))), &["`versions[1]` holds"]),
        ("version with an escape character".into(), Body::Json(with(ca(), "/versions", json!(["1\u{1b}[31m"]))), &["`versions[0]` holds"]),
        ("scope prefix with a control character".into(), Body::Json(json!({"service": "codeartifact", "domain": "acme", "repository": "releases", "packagePrefix": "w\u{1}", "policy": {"keepLatest": 1}})), &["`packagePrefix` holds"]),
        ("npm scope twice".into(), Body::Json(with(with(ca(), "/namespace", json!("acme")), "/package", json!("@acme/web"))), &["namespace"]),
        ("EventBridge wrong detail-type".into(), Body::Event(envelope("acme.release", "Delete Everything", iot())), &["detail-type"]),
        ("EventBridge wrong source".into(), Body::Event(envelope("evil.corp", "Package Cleanup Requested", iot())), &["source"]),
        ("EventBridge detail null".into(), Body::Event(envelope("acme.release", "Package Cleanup Requested", Value::Null)), &["null"]),
        ("EventBridge detail invalid".into(), Body::Event(envelope("acme.release", "Package Cleanup Requested", with(iot(), "/package", json!("fw/1")))), &["package"]),
        // Malformed native events.
        ("native packageName a number".into(), Body::Event(native(with(native_detail(), "/packageName", json!(5)))), &["packageName"]),
        ("native packageName null".into(), Body::Event(native(with(native_detail(), "/packageName", Value::Null))), &["packageName"]),
        ("native packageName an array".into(), Body::Event(native(with(native_detail(), "/packageName", json!(["web"])))), &["packageName"]),
        ("native packageName missing".into(), Body::Event(native(without(native_detail(), "packageName"))), &["packageName"]),
        ("native domainName empty".into(), Body::Event(native(with(native_detail(), "/domainName", json!("")))), &["domainName"]),
        ("native detail missing".into(), Body::Event(without(native(native_detail()), "detail")), &["`detail`"]),
        ("native packageFormat unknown".into(), Body::Event(native(with(native_detail(), "/packageFormat", json!("docker")))), &["format"]),
        // Downloads (CloudTrail ReadFromRepository records).
        ("download eventTime not a time".into(), Body::Event(with(read(), "/detail/eventTime", json!("last Tuesday"))), &["eventTime"]),
        ("download eventTime missing".into(), Body::Event(with(read(), "/detail", without(read()["detail"].clone(), "eventTime"))), &["eventTime"]),
        ("download requestParameters null".into(), Body::Event(with(read(), "/detail/requestParameters", Value::Null)), &["requestParameters"]),
        ("download domainOwner missing".into(), Body::Event(with(read(), "/detail/requestParameters", without(read()["detail"]["requestParameters"].clone(), "domainOwner"))), &["domainOwner"]),
        ("download repositoryName a number".into(), Body::Event(read_params("repositoryName", json!(7))), &["repositoryName"]),
        ("download packageFormat unknown".into(), Body::Event(read_params("packageFormat", json!("apt"))), &["packageFormat"]),
        ("download packageVersion an object".into(), Body::Event(read_params("packageVersion", json!({"v": 1}))), &["packageVersion"]),
        // notDownloadedForDays.
        ("notDownloadedForDays zero".into(), Body::Json(with(ca_policy(), "/policy/notDownloadedForDays", json!(0))), &["notDownloadedForDays"]),
        ("notDownloadedForDays negative".into(), Body::Json(with(ca_policy(), "/policy/notDownloadedForDays", json!(-1))), &["notDownloadedForDays"]),
        ("notDownloadedForDays past 36500".into(), Body::Json(with(ca_policy(), "/policy/notDownloadedForDays", json!(40_000))), &["notDownloadedForDays"]),
        ("notDownloadedForDays a string".into(), Body::Json(with(ca_policy(), "/policy/notDownloadedForDays", json!("30"))), &["notDownloadedForDays"]),
        ("notDownloadedForDays on IoT".into(), Body::Json(with(policy(), "/policy/notDownloadedForDays", json!(30))), &["notDownloadedForDays"]),
        ("notDownloadedForDays without DOWNLOADS_TABLE".into(), Body::Json(with(ca_policy(), "/policy/notDownloadedForDays", json!(30))), &["DOWNLOADS_TABLE"]),
        // measureStorage and packageGroup (issue 29).
        ("measureStorage a string".into(), Body::Json(with(ca_policy(), "/measureStorage", json!("yes"))), &["measureStorage"]),
        ("measureStorage on IoT".into(), Body::Json(with(policy(), "/measureStorage", json!(true))), &["measureStorage", "no assets"]),
        ("measureStorage with versions".into(), Body::Json(with(ca(), "/measureStorage", json!(true))), &["measureStorage", "policy"]),
        ("measureStorage with archive".into(), Body::Json(with(with(ca_policy(), "/measureStorage", json!(true)), "/action", json!("archive"))), &["measureStorage", "archive"]),
        ("packageGroup beside package".into(), Body::Json(with(ca_policy(), "/packageGroup", json!("/npm/acme/*"))), &["packageGroup"]),
        ("packageGroup not a pattern".into(), Body::Json(with(without(ca_policy(), "package"), "/packageGroup", json!("npm/acme/*"))), &["packageGroup", "/"]),
        ("packageGroup of 521 characters".into(), Body::Json(with(without(ca_policy(), "package"), "/packageGroup", json!(format!("/{}", "a".repeat(520))))), &["packageGroup"]),
        ("packageGroup holding a control character".into(), Body::Json(with(without(ca_policy(), "package"), "/packageGroup", json!("/npm/acme\u{1b}/*"))), &["packageGroup"]),
        ("packageGroup on IoT".into(), Body::Json(with(policy(), "/packageGroup", json!("/npm/*"))), &["packageGroup"]),
    ];
    out.drain(..)
        .map(|(name, body, names)| Case { name, body, names })
        .collect()
}

/// The handler with an event policy (so that CodeArtifact's events are
/// read) and only the `acme.release` source accepted.
fn strict_handler(sqs: &Sqs) -> packprune::Handler {
    let mut c = config(true);
    c.events.sources = Accept::parse("acme.release");
    let raw: packprune::testkit::request::RawRequest =
        serde_json::from_value(json!({"service": "codeartifact", "policy": {"keepLatest": 5}}))
            .unwrap();
    c.events.policy = Some(raw);
    handler(&[], &[], sqs, c)
}

async fn as_sqs_record(case: &Case, text: &str) -> Result<(), String> {
    let sqs = Sqs::default();
    let h = strict_handler(&sqs);
    let (resp, s) = invoke(&h, sqs_event(&[("m", json!(text))], false), MINUTE)
        .await
        .parts();
    if !failures(&resp).is_empty() {
        return Err("reported in batchItemFailures".into());
    }
    if s.requested != 0 {
        return Err(format!("{} items were executed", s.requested));
    }
    let dlq = sqs.dead_letters();
    let reason = dlq
        .first()
        .and_then(|m| m["failure"]["message"].as_str())
        .ok_or("no dead letter")?;
    if dlq
        .iter()
        .any(|m| m["failure"]["code"] != "INVALID_REQUEST")
    {
        return Err(format!("dead letters: {dlq:?}"));
    }
    named(case, reason)
}

async fn as_direct(case: &Case, payload: Value) -> Result<(), String> {
    let sqs = Sqs::default();
    let h = strict_handler(&sqs);
    match h.process(LambdaEvent::new(payload, context(MINUTE))).await {
        Err(e) => named(case, &e.to_string()),
        Ok(out) => {
            if out.summary.requested != 0 {
                return Err(format!("{} items were executed", out.summary.requested));
            }
            let dlq = sqs.dead_letters();
            let reason = dlq
                .first()
                .and_then(|m| m["failure"]["message"].as_str())
                .ok_or("neither an error nor a dead letter")?;
            named(case, reason)
        }
    }
}

fn named(case: &Case, reason: &str) -> Result<(), String> {
    if case.names.iter().any(|n| reason.contains(n)) {
        Ok(())
    } else {
        Err(format!(
            "the reason does not name {:?}: {}",
            case.names,
            &reason[..reason.len().min(400)]
        ))
    }
}

#[tokio::test(start_paused = true)]
async fn every_bad_input_is_refused_with_its_reason_before_any_call() {
    let cases = cases();
    let mut problems = Vec::new();
    let mut deliveries = 0;
    for case in &cases {
        let mut results = Vec::new();
        match &case.body {
            Body::Text(text) => results.push(("sqs", as_sqs_record(case, text).await)),
            Body::Json(v) | Body::Event(v) => {
                results.push(("sqs", as_sqs_record(case, &v.to_string()).await));
                results.push(("direct", as_direct(case, v.clone()).await));
                if matches!(case.body, Body::Json(_)) && v.is_object() {
                    let event = envelope("acme.release", "Package Cleanup Requested", v.clone());
                    results.push(("eventbridge", as_direct(case, event).await));
                }
            }
        }
        for (path, r) in results {
            deliveries += 1;
            if let Err(e) = r {
                problems.push(format!("{} ({path}): {e}", case.name));
            }
        }
    }
    println!(
        "bad-input matrix: {} inputs, {deliveries} deliveries",
        cases.len()
    );
    assert!(cases.len() >= 60, "{} cases", cases.len());
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
