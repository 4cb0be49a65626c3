//! One plan per scope, end to end (in process, the emulator and moto's SQS
//! and S3): a dry run over a repository answers with one report and its
//! digest; one apply of it fans out in parts over the work queue, each
//! checking the plan again, and deletes what it lists across every
//! package; a scope too large for one invocation is planned in parts, the
//! last part completing the plan, and an apply before then is refused.
//! Needs the virtualenv `make test` creates (see tests/e2e.rs).

mod support;

use std::time::Duration;

use serde_json::{json, Value};
use support::reports::*;
use support::*;

const LEFT: Duration = Duration::from_secs(120);
const PACKAGES: [&str; 5] = ["api", "cli", "core", "ui", "web"];

/// `releases`: five npm packages of six versions each, 1.0.0 the oldest.
fn releases() -> packprune_emulator::State {
    let packages: Vec<Value> = PACKAGES
        .iter()
        .map(|name| {
            let versions: Vec<Value> = (0..6)
                .map(|i| json!({"version": format!("1.{i}.0"), "publishedDaysAgo": 60 - i}))
                .collect();
            json!({"format": "npm", "package": name, "versions": versions})
        })
        .collect();
    seed(
        json!({"codeartifact": {"domains": {"acme": {"repositories": {
            "releases": {"packages": packages}
        }}}}}),
    )
}

const SCOPE: &str = r#"{"service":"codeartifact","domain":"acme","repository":"releases","policy":{"keepLatest":2},"dryRun":true}"#;

async fn setup(stack: &Stack, tag: &str, extra: &[(&str, &str)]) -> (packprune::Handler, Queues) {
    let queues = Queues::create(&stack.sqs().await, tag).await.unwrap();
    let bucket = create_bucket(&format!("reports-{tag}")).await.unwrap();
    let mut vars = vec![("REPORTS_BUCKET", bucket.as_str())];
    vars.extend_from_slice(extra);
    let h = in_process_handler(queues.config(&vars)).await;
    (h, queues)
}

fn left(stack: &Stack) -> usize {
    PACKAGES
        .iter()
        .map(|p| ca_versions(stack, "releases", p).unwrap().len())
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dry_run_over_a_repository_is_one_plan_and_one_apply_deletes_it_all() {
    let Some((_g, stack, _)) = stack("scope_one_plan", releases()).await else {
        return;
    };
    let (h, queues) = setup(stack, "oneplan", &[]).await;
    let sqs = stack.sqs().await;
    let scope: Value = serde_json::from_str(SCOPE).unwrap();
    let dry = invoke(&h, scope, LEFT).await;
    assert_eq!(dry.summary.packages_fanned_out, 0, "{:?}", dry.summary);
    assert_eq!(dry.summary.hand_on_messages, 0, "{:?}", dry.summary);
    assert_eq!(dry.summary.reports_written, 1, "{:?}", dry.summary);
    assert_eq!(dry.summary.planned, [("delete".to_owned(), 20)].into());
    let (json_uri, _, _, sha) = links(&dry.response).unwrap();
    let plan = report(&json_uri).await.unwrap();
    let names: Vec<&str> = plan.packages.iter().map(|p| p.package.as_str()).collect();
    assert_eq!(names.len(), 5, "{names:?}");
    assert_eq!(with_fate(&plan, "delete").len(), 20);
    assert_eq!(depth(&sqs, &queues.work).await.unwrap(), 0);
    assert_eq!(left(stack), 30, "a plan changes nothing");

    let apply = json!({"service": "codeartifact", "apply": {"report": json_uri, "sha256": sha}});
    let out = invoke(&h, apply, LEFT).await;
    assert_eq!(
        out.summary.packages_fanned_out, 5,
        "one part per package: {:?}",
        out.summary
    );
    let parts = drain(&sqs, &queues.work, &h, Duration::from_secs(60))
        .await
        .unwrap();
    let deleted: u64 = parts.iter().map(|s| s.deleted).sum();
    assert_eq!(deleted, 20);
    assert_eq!(left(stack), 10, "keepLatest 2 of each of five packages");
    for p in PACKAGES {
        assert_eq!(
            ca_versions(stack, "releases", p).unwrap(),
            ["1.4.0", "1.5.0"],
            "{p}"
        );
    }
    // A part names the plan and its digest, and checks them again: with
    // another digest, it is refused before any call.
    let mut part: Value = serde_json::from_str(&format!(
        r#"{{"service":"codeartifact","apply":{{"report":"{json_uri}","sha256":"{}","part":{{"from":0,"to":1}}}}}}"#,
        "0".repeat(64)
    ))
    .unwrap();
    stack.emulator.shared.clear_calls();
    let out = invoke(&h, part.clone(), LEFT).await;
    assert_eq!(out.summary.invalid_requests, 1, "{:?}", out.summary);
    assert!(stack.emulator.shared.calls().is_empty());
    part["apply"]["part"] = json!({"from": 4, "to": 9});
    part["apply"]["sha256"] = json!(sha);
    let out = invoke(&h, part, LEFT).await;
    assert!(
        out.summary.invalid[0].contains("out of range"),
        "{:?}",
        out.summary.invalid
    );
    // A scope with nothing to plan is a plan of nothing, with its digest.
    let mut none: Value = serde_json::from_str(SCOPE).unwrap();
    none["packagePrefix"] = json!("zzz");
    let empty = invoke(&h, none, LEFT).await;
    let (empty_uri, _, _, empty_sha) = links(&empty.response).unwrap();
    let empty_plan = report(&empty_uri).await.unwrap();
    assert!(empty_plan.packages.is_empty());
    assert_eq!(
        packprune::report::sha256_hex(&get(&empty_uri).await.unwrap()),
        empty_sha
    );
    // Applied, it says it did nothing, in a report of its own.
    let apply =
        json!({"service": "codeartifact", "apply": {"report": empty_uri, "sha256": empty_sha}});
    let nothing = invoke(&h, apply, LEFT).await;
    assert_eq!(nothing.summary.requested, 0);
    let (applied_uri, _, _, _) = links(&nothing.response).unwrap();
    let applied = report(&applied_uri).await.unwrap();
    assert_eq!(
        (applied.kind, applied.packages.len()),
        (packprune::report::Kind::Apply, 0)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_inline_plan_fans_out_as_requests_bound_to_it_not_copies_of_it() {
    let Some((_g, stack, _)) = stack("scope_inline_apply", releases()).await else {
        return;
    };
    let (h, queues) = setup(stack, "inlineapply", &[]).await;
    let sqs = stack.sqs().await;
    let dry = invoke(&h, serde_json::from_str(SCOPE).unwrap(), LEFT).await;
    let (json_uri, _, _, sha) = links(&dry.response).unwrap();
    let plan: Value = serde_json::from_slice(&get(&json_uri).await.unwrap()).unwrap();
    let apply = json!({"service": "codeartifact", "apply": {"plan": plan, "sha256": sha}});
    let out = invoke(&h, apply, LEFT).await;
    assert_eq!(out.summary.packages_fanned_out, 5, "{:?}", out.summary);
    let sent = take_all(&sqs, &queues.work).await.unwrap();
    assert_eq!(sent.len(), 5);
    for body in &sent {
        assert!(
            body["apply"]["planId"].is_string(),
            "bound to the plan: {body}"
        );
        assert!(
            body["apply"].get("plan").is_none(),
            "not a copy of the plan: {body}"
        );
        sqs.send_message()
            .queue_url(&queues.work)
            .message_body(body.to_string())
            .send()
            .await
            .unwrap();
    }
    drain(&sqs, &queues.work, &h, Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(left(stack), 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plan_once_written_stands_whoever_plans_it_again() {
    let Some((_g, stack, _)) = stack("scope_retry_changed", releases()).await else {
        return;
    };
    let mut state = releases();
    state.faults = serde_json::from_value(json!({
        "codeartifact:ListPackageVersions": {"latencyMs": 400}
    }))
    .unwrap();
    stack.emulator.shared.set_state(state.clone());
    let (h, queues) = setup(
        stack,
        "retrychanged",
        &[("MAX_CONCURRENCY", "1"), ("DEADLINE_MARGIN_MS", "0")],
    )
    .await;
    let sqs = stack.sqs().await;
    // The same invocation twice (an asynchronous invocation's retry keeps
    // its request id, so its plan's id): between them, a package published
    // first in the listing's order.
    let run = |left: Duration| {
        let mut ctx = context(left);
        ctx.request_id = "retried-request".into();
        h.process(lambda_runtime::LambdaEvent::new(
            serde_json::from_str(SCOPE).unwrap(),
            ctx,
        ))
    };
    let first = run(Duration::from_millis(1_000)).await.unwrap();
    let progress = first
        .summary
        .plans_in_progress
        .first()
        .unwrap_or_else(|| panic!("{:?}", first.summary));
    let planned = progress.packages_planned;
    let mut changed = state;
    let versions: Vec<Value> = (0..3)
        .map(|i| json!({"version": format!("0.{i}.0"), "publishedDaysAgo": 90 - i}))
        .collect();
    let new: packprune_emulator::state::CaPackage =
        serde_json::from_value(json!({"format": "npm", "package": "aaa", "versions": versions}))
            .unwrap();
    let repo = changed
        .codeartifact
        .domains
        .get_mut("acme")
        .unwrap()
        .repositories
        .get_mut("releases")
        .unwrap();
    repo.packages.push(new);
    stack.emulator.shared.set_state(changed);
    // The retry plans the whole scope as it lists it now: the first
    // complete plan written at the plan's address stands, and the first
    // attempt's parts, completed on the work queue, find it there.
    let again = run(LEFT).await.unwrap();
    let written = again
        .summary
        .report
        .clone()
        .expect("the retry's whole plan");
    assert_eq!(written.json, progress.report);
    let rest = drain(&sqs, &queues.work, &h, Duration::from_secs(120))
        .await
        .unwrap();
    for s in &rest {
        for r in s.reports.iter().chain(&s.report) {
            assert_eq!(
                (&r.json, &r.sha256),
                (&written.json, &written.sha256),
                "one plan, one digest"
            );
        }
    }
    let bytes = get(&progress.report).await.unwrap();
    assert_eq!(packprune::report::sha256_hex(&bytes), written.sha256);
    let plan = report(&progress.report).await.unwrap();
    let mut names: Vec<&str> = plan
        .packages
        .iter()
        .map(|p| p.package.rsplit('/').next().unwrap())
        .collect();
    assert!(
        names.len() == 6 && names.contains(&"aaa"),
        "the scope as the retry listed it: {names:?}"
    );
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), 6, "each package once");
    assert!(planned < 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scope_too_large_for_one_invocation_is_planned_in_parts_and_completed_by_the_last() {
    let Some((_g, stack, _)) = stack("scope_in_parts", releases()).await else {
        return;
    };
    // Each listing takes 400 ms and calls go one at a time: an invocation
    // with a second to spare plans two or three of the five packages.
    let mut state = releases();
    state.faults = serde_json::from_value(json!({
        "codeartifact:ListPackageVersions": {"latencyMs": 400}
    }))
    .unwrap();
    stack.emulator.shared.set_state(state);
    let (h, queues) = setup(
        stack,
        "inparts",
        &[("MAX_CONCURRENCY", "1"), ("DEADLINE_MARGIN_MS", "0")],
    )
    .await;
    let sqs = stack.sqs().await;
    let scope: Value = serde_json::from_str(SCOPE).unwrap();
    let first = invoke(&h, scope, Duration::from_millis(1_000)).await;
    let progress = first.response["plansInProgress"][0].clone();
    let planned = progress["packagesPlanned"].as_u64().unwrap();
    assert!((1..5).contains(&planned), "{}", first.response);
    assert_eq!(progress["packages"], json!(5));
    assert_eq!(
        first.summary.reports_written, 0,
        "no report until the plan is whole"
    );
    let json_uri = progress["report"].as_str().unwrap().to_owned();
    assert!(get(&json_uri).await.is_err(), "no report.json yet");
    // An apply of a plan still being made is refused, saying so.
    let early =
        json!({"service": "codeartifact", "apply": {"report": json_uri, "sha256": "0".repeat(64)}});
    let out = invoke(&h, early, LEFT).await;
    assert!(
        out.summary.invalid[0].contains("is not complete yet"),
        "{:?}",
        out.summary.invalid
    );
    // The request that plans the rest, delivered twice: once cut short,
    // once with time to plan everything. The part the first wrote stands,
    // and the second goes on from its end, not its own.
    let got = receive(&sqs, &queues.work, 1).await.unwrap();
    assert_eq!(got.len(), 1, "one continuation");
    let record = sqs_record(&queues.work, &got[0]);
    sqs.delete_message()
        .queue_url(&queues.work)
        .receipt_handle(got[0].receipt_handle().unwrap())
        .send()
        .await
        .unwrap();
    let short = invoke(
        &h,
        json!({"Records": [record.clone()]}),
        Duration::from_millis(900),
    )
    .await;
    assert_eq!(
        short.summary.plans_in_progress.len(),
        1,
        "{:?}",
        short.summary
    );
    // Its continuation lost (as if its send had failed, the record coming
    // back): only the second delivery's can carry the plan on.
    for m in receive(&sqs, &queues.work, 10).await.unwrap() {
        sqs.delete_message()
            .queue_url(&queues.work)
            .receipt_handle(m.receipt_handle().unwrap())
            .send()
            .await
            .unwrap();
    }
    let again = invoke(&h, json!({"Records": [record]}), LEFT).await;
    assert_eq!(
        again.summary.plans_in_progress.len(),
        1,
        "the part written first stands: {:?}",
        again.summary
    );
    assert!(get(&json_uri).await.is_err(), "still no report.json");
    // The work queue plans the rest; the last part writes the plan.
    let rest = drain(&sqs, &queues.work, &h, Duration::from_secs(120))
        .await
        .unwrap();
    // Whoever reaches the end writes the plan (one invocation may run
    // more than one part that does: each writes the same bytes).
    let done: Vec<_> = rest
        .iter()
        .flat_map(|s| s.reports.iter().chain(&s.report))
        .collect();
    assert!(!done.is_empty(), "the last part's report: {rest:?}");
    assert!(
        done.iter().all(|r| r.json == json_uri),
        "the plan is where the first part said"
    );
    assert!(
        done.iter().all(|r| r.sha256 == done[0].sha256),
        "one plan, one digest"
    );
    let done = done[0].clone();
    let bytes = get(&json_uri).await.unwrap();
    assert_eq!(packprune::report::sha256_hex(&bytes), done.sha256);
    let plan = report(&json_uri).await.unwrap();
    let mut names: Vec<String> = plan.packages.iter().map(|p| p.package.clone()).collect();
    assert_eq!(names.len(), 5, "each package once: {names:?}");
    names.sort();
    names.dedup();
    assert_eq!(names.len(), 5, "{names:?}");
    assert_eq!(with_fate(&plan, "delete").len(), 20);
    assert_eq!(plan.plan_id.as_deref(), Some(plan.id.as_str()));
    assert_eq!(left(stack), 30);
    // Applied (the latency off), it deletes what it lists.
    stack.emulator.shared.set_faults(Default::default());
    let apply =
        json!({"service": "codeartifact", "apply": {"report": json_uri, "sha256": done.sha256}});
    invoke(&h, apply, LEFT).await;
    drain(&sqs, &queues.work, &h, Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(left(stack), 10);
}
