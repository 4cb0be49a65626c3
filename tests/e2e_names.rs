//! Issue 15 end to end: the real SDK against the emulator (which normalises
//! names as CodeArtifact does) and moto's SQS. Names as CodeArtifact stores
//! them, packages that do not exist, SNS-wrapped bodies, a huge request of
//! absent versions, and names no registry allows. Needs the virtualenv
//! `make test` creates (see tests/e2e.rs).

mod support;

use std::time::Duration;

use packprune::testkit::account::{Disposition, Line};
use packprune::testkit::plan::Item;
use serde_json::{json, Value};
use support::*;

const LEFT: Duration = Duration::from_secs(60);

fn ca_seed() -> packprune_emulator::State {
    seed(
        json!({"codeartifact": {"domains": {"acme": {"repositories": {"releases": {"packages": [
            {"format": "npm", "namespace": "acme", "package": "web", "versions": [
                {"version": "1.0.0"}, {"version": "1.0.1"}, {"version": "1.0.2"}]},
            // Seeded as published: the emulator stores the normalised forms.
            {"format": "nuget", "package": "Acme.Logging", "versions": [
                {"version": "1.0.7+r3456"}, {"version": "2.01.0"}, {"version": "1.0.0.0"}, {"version": "3.0.0"}]},
            {"format": "pypi", "package": "Pigeon_CLI", "versions": [{"version": "0.1"}, {"version": "0.2"}]},
        ]}}}}}}),
    )
}

fn ca(package: &str, namespace: Option<&str>, format: &str, versions: &[&str]) -> Value {
    let mut r = json!({"service": "codeartifact", "domain": "acme", "repository": "releases",
                       "format": format, "package": package, "versions": versions});
    if let Some(ns) = namespace {
        r["namespace"] = json!(ns);
    }
    r
}

async fn handler(stack: &Stack, tag: &str) -> (packprune::Handler, Queues) {
    let queues = Queues::create(&stack.sqs().await, tag).await.unwrap();
    (in_process_handler(queues.config(&[])).await, queues)
}

fn line<'a>(lines: &'a [Line], version: &str) -> &'a Line {
    lines
        .iter()
        .find(|l| l.item == Item::Version(version.into()))
        .unwrap_or_else(|| panic!("no line for {version}: {lines:?}"))
}

#[tokio::test]
async fn npm_scopes_written_with_an_at_sign_delete_the_stored_version() {
    let Some((_g, stack, _)) = stack("npm_scopes", ca_seed()).await else {
        return;
    };
    let (h, _) = handler(stack, "npm").await;
    let a = invoke(&h, ca("web", Some("@acme"), "npm", &["1.0.0"]), LEFT).await;
    let b = invoke(&h, ca("@acme/web", None, "npm", &["1.0.1"]), LEFT).await;
    for out in [&a, &b] {
        assert_eq!(
            (out.summary.deleted, out.summary.already_absent),
            (1, 0),
            "{:?}",
            out.summary
        );
        assert_eq!(out.lines[0].package, "acme/releases/npm/acme/web");
    }
    // The audit line keeps what the request wrote beside the stored form.
    let written = a.lines[0].written.as_ref().expect("written differs");
    assert_eq!(written.package, "acme/releases/npm/@acme/web");
    assert_eq!(
        ca_versions(stack, "releases", "web").unwrap(),
        vec!["1.0.2"]
    );
}

#[tokio::test]
async fn nuget_and_pypi_names_and_versions_are_matched_as_stored() {
    let Some((_g, stack, _)) = stack("nuget_names", ca_seed()).await else {
        return;
    };
    let (h, _) = handler(stack, "nuget").await;
    let out = invoke(
        &h,
        ca("Acme.Logging", None, "nuget", &["1.0.7+r3456", "2.01.0"]),
        LEFT,
    )
    .await;
    let s = &out.summary;
    assert_eq!(
        (s.deleted, s.handed_on, s.already_absent),
        (2, 0, 0),
        "{s:?}"
    );
    let l = line(&out.lines, "2.1.0");
    assert_eq!(l.disposition, Disposition::Deleted);
    let w = l.written.as_ref().unwrap();
    assert_eq!(
        (w.package.as_str(), w.version.as_deref()),
        ("acme/releases/nuget/Acme.Logging", Some("2.01.0"))
    );
    // Two spellings of one version are one version.
    let out = invoke(
        &h,
        ca("acme.logging", None, "nuget", &["1.0.0", "1.0.0.0"]),
        LEFT,
    )
    .await;
    let s = &out.summary;
    assert_eq!((s.requested, s.deleted, s.handed_on), (1, 1, 0), "{s:?}");
    assert_eq!(
        ca_versions(stack, "releases", "acme.logging").unwrap(),
        vec!["3.0.0"]
    );
    // PEP 503: `pigeon.cli` reaches `pigeon-cli`.
    let out = invoke(&h, ca("pigeon.cli", None, "pypi", &["0.1"]), LEFT).await;
    assert_eq!(out.summary.deleted, 1, "{:?}", out.summary);
    assert_eq!(
        ca_versions(stack, "releases", "pigeon-cli").unwrap(),
        vec!["0.2"]
    );
}

#[tokio::test]
async fn a_package_that_does_not_exist_is_reported_not_found() {
    let mut state = ca_seed();
    state.iot = seed(json!({"iot": {"packages": {"fw": {"versions": {"1.0": {}}}}}})).iot;
    let Some((_g, stack, _)) = stack("not_found", state).await else {
        return;
    };
    let (h, _) = handler(stack, "notfound").await;
    // A typo: the version stays alreadyAbsent (replays stay idempotent),
    // but the line says why and the summary counts it.
    let out = invoke(&h, ca("wbe", Some("acme"), "npm", &["1.0.0"]), LEFT).await;
    assert_eq!(
        (out.summary.already_absent, out.summary.packages_not_found),
        (1, 1),
        "{:?}",
        out.summary
    );
    assert_eq!(out.lines[0].detail.as_deref(), Some("package not found"));
    assert!(
        out.metrics
            .iter()
            .any(|m| m["Service"] == "codeartifact" && m["PackagesNotFound"] == 1.0),
        "{:?}",
        out.metrics
    );
    // A policy on a package that does not exist says so too.
    let policy = json!({"service": "codeartifact", "domain": "acme", "repository": "releases",
                        "format": "npm", "namespace": "acme", "package": "wbe",
                        "policy": {"keepLatest": 1}});
    let out = invoke(&h, policy, LEFT).await;
    assert_eq!(
        (out.summary.requested, out.summary.packages_not_found),
        (0, 1),
        "{:?}",
        out.summary
    );
    // And for IoT, explicit and by policy.
    let out = invoke(
        &h,
        json!({"service": "iot", "package": "fw-typo", "versions": ["1.0"]}),
        LEFT,
    )
    .await;
    assert_eq!(out.summary.packages_not_found, 1, "{:?}", out.summary);
    assert_eq!(out.lines[0].detail.as_deref(), Some("package not found"));
    let out = invoke(
        &h,
        json!({"service": "iot", "package": "fw-typo", "policy": {"keepLatest": 1}}),
        LEFT,
    )
    .await;
    assert_eq!(out.summary.packages_not_found, 1, "{:?}", out.summary);
    // A version missing from a package that exists is absent, not "not found".
    let out = invoke(
        &h,
        json!({"service": "iot", "package": "fw", "versions": ["9.9"], "protectInUse": false}),
        LEFT,
    )
    .await;
    assert_eq!(
        (out.summary.already_absent, out.summary.packages_not_found),
        (1, 0),
        "{:?}",
        out.summary
    );
}

#[tokio::test]
async fn an_sns_wrapped_body_runs_beside_a_raw_one_and_junk_fails_alone() {
    let Some((_g, stack, _)) = stack("sns_wrapped", ca_seed()).await else {
        return;
    };
    let (h, queues) = handler(stack, "sns").await;
    let sns = json!({"Type": "Notification", "MessageId": "5e0f-1",
        "TopicArn": "arn:aws:sns:us-east-1:123456789012:cleanup",
        "Message": ca("web", Some("acme"), "npm", &["1.0.0"]).to_string(),
        "Timestamp": "2026-11-30T08:00:00.000Z", "SignatureVersion": "1",
        "Signature": "c2ln", "SigningCertURL": "https://sns.us-east-1.amazonaws.com/cert.pem",
        "UnsubscribeURL": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe"});
    let event = fresh_sqs_event(&[
        json!(sns.to_string()),
        ca("web", Some("acme"), "npm", &["1.0.1"]),
        json!("{\"Type\": \"Notification\", \"TopicArn\": \"t\", \"Message\": 5}"),
    ]);
    let out = invoke(&h, event, LEFT).await;
    assert_eq!(out.response, json!({"batchItemFailures": []}));
    assert_eq!(
        (out.summary.deleted, out.summary.invalid_requests),
        (2, 1),
        "{:?}",
        out.summary
    );
    assert_eq!(
        ca_versions(stack, "releases", "web").unwrap(),
        vec!["1.0.2"]
    );
    let dead = take_all(&stack.sqs().await, &queues.dead_letter)
        .await
        .unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0]["failure"]["code"], "INVALID_REQUEST");
}

#[tokio::test]
async fn a_name_holding_a_control_character_is_refused_before_any_call() {
    let Some((_g, stack, _)) = stack("control_chars", ca_seed()).await else {
        return;
    };
    let (h, _) = handler(stack, "ctl").await;
    for request in [
        ca("we\u{0}b", Some("acme"), "npm", &["1.0.0"]),
        ca("web", Some("acme"), "npm", &["1.0.0\u{202e}"]),
        json!({"service": "iot", "package": "fw", "versions": ["1.0\u{7}"]}),
    ] {
        let out = invoke(&h, request, LEFT).await;
        assert_eq!(
            (out.summary.requested, out.summary.invalid_requests),
            (0, 1)
        );
        assert!(
            out.summary.invalid[0].contains("holds")
                || out.summary.invalid[0].contains("versions[0]"),
            "{:?}",
            out.summary.invalid
        );
    }
    assert!(stack.emulator.shared.calls().is_empty(), "no call was made");
}

/// How many versions one received message names.
fn versions_in(m: &aws_sdk_sqs::types::Message) -> usize {
    let body: Value = serde_json::from_str(m.body().unwrap()).unwrap();
    body["versions"].as_array().map_or(0, Vec::len)
}

/// The versions still owed after one invocation, of `owing` before it:
/// it settles some as absent and hands on the rest; none may go elsewhere.
fn owed(s: &packprune::testkit::account::Summary, owing: u64) -> u64 {
    eprintln!(
        "owing {owing}: requested {} absent {} handed on {} in {} messages, dead-lettered {}",
        s.requested, s.already_absent, s.handed_on, s.hand_on_messages, s.dead_lettered
    );
    assert_eq!(s.dead_lettered, 0, "{s:?}");
    assert_eq!(s.requested, s.already_absent + s.handed_on, "{s:?}");
    owing
        .checked_sub(s.already_absent)
        .expect("no version is settled twice")
}

/// 15,600 versions of 64 characters: a 1 MiB body, the most SQS carries.
fn huge_iot_request() -> Value {
    let versions: Vec<String> = (0..15_600).map(|i| format!("{i:0>60}.404")).collect();
    let body = json!({"service": "iot", "package": "fw", "versions": versions});
    assert!(body.to_string().len() > 1_040_000, "about 1 MiB");
    assert!(body.to_string().len() <= 1_048_576, "fits SQS");
    body
}

#[tokio::test]
async fn a_huge_request_of_absent_versions_finishes_across_invocations() {
    let state = seed(
        json!({"iot": {"packages": {"fw": {"versions": {"1.0": {}, "1.1": {}}}},
                                    "things": {"boiler-7": {"fw": "1.1"}}}}),
    );
    let Some((_g, stack, _)) = stack("huge_absent", state).await else {
        return;
    };
    let sqs = stack.sqs().await;
    let queues = Queues::create(&sqs, "huge").await.unwrap();
    let config = queues.config(&[
        ("RATE_LIMITS", "iot.read=2000,iot.search=2000"),
        ("MAX_CONCURRENCY", "64"),
        ("DEADLINE_MARGIN_MS", "500"),
    ]);
    let h = in_process_handler(config).await;
    // Short deadlines: no invocation can read every version.
    let left = Duration::from_secs(4);
    let first = invoke(&h, fresh_sqs_event(&[huge_iot_request()]), left).await;
    assert_eq!(
        first.response,
        json!({"batchItemFailures": []}),
        "never back whole"
    );
    let mut invocations = 1;
    // Versions not yet settled: they must all be on the work queue.
    let mut owing = owed(&first.summary, 15_600);
    let mut idle_since = std::time::Instant::now();
    while owing > 0 {
        assert!(invocations < 200, "the hand-ons do not converge");
        let batch = receive(&sqs, &queues.work, 10).await.unwrap();
        if batch.is_empty() {
            // Hand-ons may wait out a backoff of a few seconds; a queue
            // empty for longer while versions are owed has lost them.
            let queued = depth(&sqs, &queues.work).await.unwrap();
            assert!(
                queued > 0 || idle_since.elapsed() < Duration::from_secs(30),
                "{owing} versions owed, but the work queue is empty"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
            continue;
        }
        let records: Vec<Value> = batch.iter().map(|m| sqs_record(&queues.work, m)).collect();
        let given: u64 = batch.iter().map(versions_in).sum::<usize>() as u64;
        let out = invoke(&h, json!({ "Records": records }), left).await;
        assert_eq!(out.summary.requested, given, "{:?}", out.summary);
        assert_eq!(
            out.response,
            json!({"batchItemFailures": []}),
            "never back whole"
        );
        owing = owed(&out.summary, owing);
        for m in &batch {
            sqs.delete_message()
                .queue_url(&queues.work)
                .receipt_handle(m.receipt_handle().unwrap())
                .send()
                .await
                .unwrap();
        }
        invocations += 1;
        idle_since = std::time::Instant::now();
    }
    println!("15,600 absent versions: {invocations} invocations");
    assert!(invocations > 1, "it took more than one invocation");
    assert_eq!(depth(&sqs, &queues.work).await.unwrap(), 0, "nothing left");
    assert_eq!(depth(&sqs, &queues.dead_letter).await.unwrap(), 0);
    assert_eq!(iot_versions(stack, "fw").unwrap().1, vec!["1.0", "1.1"]);
}
