//! Property-based fuzzing (issue 9), on stable Rust with proptest: arbitrary
//! JSON, and mutations of every file in `events/`, through the decoder,
//! validation and the planner.
//!
//! Properties:
//! - nothing panics;
//! - every input is accepted or refused with a reason;
//! - an accepted request re-serialises to an equivalent request;
//! - a request that names a package never plans a deletion outside it.
//!
//! `PROPTEST_CASES` sets the cases per property (default below);
//! RELIABILITY.md reports what CI runs.

use std::collections::BTreeSet;

use packprune::testkit::decode::{self, Decoded, Event, EventRules};
use packprune::testkit::plan::{self, Listed};
use packprune::testkit::request::{Action, Job, RawRequest, Target};
use proptest::prelude::*;
use proptest::test_runner::Config;
use serde_json::{json, Map, Value};

/// Cases per property in CI: 5 properties, 1,000 cases each by default.
const CASES: u32 = 1000;

fn config() -> Config {
    Config::with_cases(
        std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(CASES),
    )
}

const KEYS: &[&str] = &[
    "service",
    "domain",
    "domainOwner",
    "repository",
    "format",
    "namespace",
    "package",
    "versions",
    "expectedStatus",
    "deletePackage",
    "unsetDefaultVersion",
    "packagePrefix",
    "policy",
    "dryRun",
    "maxDeletions",
    "maxFraction",
    "attempt",
    "failure",
    "keepLatest",
    "olderThanDays",
    "match",
    "exclude",
    "statuses",
    "prerelease",
    "originTypes",
    "detail",
    "detail-type",
    "source",
    "Records",
    "body",
    "eventSource",
    "requestPayload",
    "packageName",
    "domainName",
    "repositoryName",
    "packageFormat",
    "operationType",
    "packageVersionState",
    "Type",
    "TopicArn",
    "Message",
];

const WORDS: &[&str] = &[
    "",
    "codeartifact",
    "iot",
    "npm",
    "maven",
    "pypi",
    "acme",
    "releases",
    "web",
    "fw",
    "1.0.0",
    "1.0-beta",
    "*",
    "a/b",
    "a#b",
    " ",
    "\u{0}",
    "Published",
    "Created",
    "aws.codeartifact",
    "aws:sqs",
    "Package Cleanup Requested",
    "Notification",
    "CodeArtifact Package Version State Change",
    "(",
    ".*",
    "-SNAPSHOT$",
];

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        (0u32..20).prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        prop::sample::select(WORDS).prop_map(Value::from),
        "\\PC{0,40}".prop_map(Value::from),
    ]
}

fn arbitrary_json() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(4, 48, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
            prop::collection::vec(
                (
                    prop_oneof![
                        3 => prop::sample::select(KEYS).prop_map(str::to_owned),
                        1 => "\\PC{0,12}",
                    ],
                    inner
                ),
                0..8
            )
            .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// Every value in `v` as a JSON pointer, `v` itself first.
fn pointers(v: &Value, at: String, out: &mut Vec<String>) {
    out.push(at.clone());
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                let k = k.replace('~', "~0").replace('/', "~1");
                pointers(x, format!("{at}/{k}"), out);
            }
        }
        Value::Array(xs) => {
            for (i, x) in xs.iter().enumerate() {
                pointers(x, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

#[derive(Debug, Clone)]
enum Mutation {
    Replace(Value),
    Remove,
    /// Inside a string that holds JSON (an SQS body): mutate that JSON.
    Inner(Box<Mutation>, usize),
    Truncate(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let base = prop_oneof![
        3 => arbitrary_json().prop_map(Mutation::Replace),
        1 => Just(Mutation::Remove),
        1 => (0usize..200).prop_map(Mutation::Truncate),
    ];
    base.prop_recursive(2, 4, 1, |inner| {
        (inner, any::<usize>()).prop_map(|(m, at)| Mutation::Inner(Box::new(m), at))
    })
}

/// Applies `m` at the `pick`th value of `v`.
fn mutate(v: &mut Value, m: &Mutation, pick: usize) {
    let mut all = Vec::new();
    pointers(v, String::new(), &mut all);
    let at = &all[pick % all.len()];
    match m {
        Mutation::Remove if !at.is_empty() => {
            let (parent, key) = at.rsplit_once('/').unwrap();
            match v.pointer_mut(parent) {
                Some(Value::Object(o)) => {
                    o.remove(&key.replace("~1", "/").replace("~0", "~"));
                }
                Some(Value::Array(a)) => {
                    a.remove(key.parse::<usize>().unwrap());
                }
                _ => {}
            }
        }
        Mutation::Remove => *v = Value::Null,
        Mutation::Replace(x) => *v.pointer_mut(at).unwrap() = x.clone(),
        Mutation::Truncate(n) => {
            if let Some(Value::String(s)) = v.pointer_mut(at) {
                let cut = s.char_indices().nth(*n).map_or(s.len(), |(i, _)| i);
                s.truncate(cut);
            }
        }
        Mutation::Inner(inner, pick) => {
            if let Some(Value::String(s)) = v.pointer_mut(at) {
                if let Ok(mut body) = serde_json::from_str::<Value>(s) {
                    mutate(&mut body, inner, *pick);
                    *s = body.to_string();
                }
            }
        }
    }
}

fn events() -> Vec<(String, Value)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/events");
    let mut out: Vec<(String, Value)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            (
                p.display().to_string(),
                serde_json::from_str(&text).unwrap(),
            )
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    assert!(out.len() >= 9, "every sample event is fuzzed");
    out
}

fn rules() -> EventRules {
    let policy: RawRequest =
        serde_json::from_value(json!({"service": "codeartifact", "policy": {"keepLatest": 3}}))
            .unwrap();
    EventRules {
        policy: Some(policy),
        ..EventRules::default()
    }
}

/// Decodes and checks every property that holds for any input. Returns how
/// many requests were accepted and refused.
fn check(event: Value) -> Result<(usize, usize), TestCaseError> {
    let units = match decode::decode(event, "req-1", &rules()) {
        Ok(Event::Sqs(units)) => units,
        Ok(Event::Invocation(unit)) => vec![unit],
        Err(e) => {
            prop_assert!(!e.to_string().is_empty());
            return Ok((0, 1));
        }
    };
    let (mut accepted, mut refused) = (0, 0);
    for unit in units {
        for d in unit.requests {
            match d {
                Decoded::Valid(job) => {
                    accepted += 1;
                    round_trips(&job)?
                }
                Decoded::Invalid(inv) => {
                    refused += 1;
                    prop_assert!(!inv.error.reason().is_empty())
                }
                Decoded::Ignored(why) => prop_assert!(!why.is_empty()),
                // A download names a domain, a repository and a time.
                Decoded::Read(Some(r)) => {
                    prop_assert!(!r.key.domain.is_empty() && !r.repository.is_empty())
                }
                Decoded::Read(None) => {}
                // An archive names its package, repository and version.
                Decoded::Archived(a) => prop_assert!(
                    !a.key.package.is_empty() && !a.repository.is_empty() && !a.version.is_empty()
                ),
                // Never decoded here: only the usage queue's records (with
                // USAGE_QUEUE_ARN) are state changes.
                Decoded::Changed(c) => prop_assert!(false, "{c:?}"),
            }
        }
    }
    Ok((accepted, refused))
}

/// An accepted request re-serialises, through its JSON text, to an
/// equivalent request.
fn round_trips(job: &Job) -> Result<(), TestCaseError> {
    let raw = job.to_raw(None, Some(job.attempt()));
    let text = serde_json::to_string(&raw).unwrap();
    let back: RawRequest = serde_json::from_str(&text).unwrap();
    let again = back
        .validate_job()
        .map_err(|e| TestCaseError::fail(format!("{text} no longer validates: {e}")))?;
    prop_assert_eq!(&again, job);
    Ok(())
}

fn package_of(target: &Target) -> &str {
    match target {
        Target::CodeArtifact { package, .. } => &package.package,
        Target::Iot { package, .. } => package,
    }
}

/// A random listing of the package: the planner must choose among it.
fn listing(names: &[String]) -> Vec<Listed> {
    names
        .iter()
        .enumerate()
        .map(|(rank, name)| {
            Listed::new(name.clone(), rank)
                .old(rank % 2 == 0)
                .display(rank == 0)
        })
        .collect()
}

/// A request that names a package: it decodes to that package or to a
/// refusal, never to a scope; and its plan stays within what it names.
fn stays_in_package(
    request: &Value,
    named: &Value,
    versions: &[String],
) -> Result<(), TestCaseError> {
    let units = match decode::decode(request.clone(), "req-1", &rules()) {
        Ok(Event::Sqs(units)) => units,
        Ok(Event::Invocation(unit)) => vec![unit],
        Err(_) => return Ok(()),
    };
    for d in units.into_iter().flat_map(|u| u.requests) {
        let Decoded::Valid(job) = d else { continue };
        let Job::One(r) = job else {
            return Err(TestCaseError::fail(format!(
                "{request} names package {named} but became a scope"
            )));
        };
        prop_assert_eq!(Some(package_of(&r.target)), named.as_str());
        let planned: BTreeSet<String> = match &r.action {
            Action::Versions(vs) => vs.iter().cloned().collect(),
            Action::DeletePackage => BTreeSet::new(),
            Action::Retain(ret) => {
                let l = listing(versions);
                let (delete, keep) = plan::retention(
                    plan::Package::iot(&l, None),
                    ret,
                    plan::Guards::default().max_deletions(ret.max_deletions),
                );
                let (delete, _, _) = match &ret.only {
                    Some(only) => plan::narrow(&l, delete, keep, only),
                    None => (delete, keep, Vec::new()),
                };
                delete.into_iter().collect()
            }
        };
        let allowed: BTreeSet<String> = match &r.action {
            Action::Versions(_) => planned.clone(),
            _ => versions.iter().cloned().collect(),
        };
        prop_assert!(planned.is_subset(&allowed));
    }
    Ok(())
}

fn request_naming_a_package() -> impl Strategy<Value = (Value, Value)> {
    let base = prop_oneof![
        Just(
            json!({"service": "codeartifact", "domain": "acme", "repository": "releases", "format": "npm"})
        ),
        Just(json!({"service": "iot"})),
    ];
    let package = prop_oneof![
        3 => prop::sample::select(WORDS).prop_map(Value::from),
        1 => arbitrary_json(),
    ];
    let extra = prop::collection::vec((prop::sample::select(KEYS), arbitrary_json()), 0..3);
    let what = prop_oneof![
        Just(json!({"policy": {"keepLatest": 1}})),
        Just(json!({"versions": ["1.0.0", "2"]})),
        Just(json!({"deletePackage": true})),
        Just(json!({"policy": {"olderThanDays": 1}, "versions": ["1.0.0"]})),
    ];
    (base, package, extra, what).prop_map(|(mut base, package, extra, what)| {
        let o = base.as_object_mut().unwrap();
        for (k, v) in extra {
            o.insert(k.to_owned(), v);
        }
        for (k, v) in what.as_object().unwrap() {
            o.insert(k.clone(), v.clone());
        }
        o.insert("package".into(), package.clone());
        (base, package)
    })
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn arbitrary_json_is_accepted_or_refused_with_a_reason(v in arbitrary_json()) {
        check(v.clone())?;
        // The same as an SQS body, and as an EventBridge detail.
        check(json!({"Records": [{"messageId": "m", "body": v.to_string(), "eventSource": "aws:sqs",
                                   "eventSourceARN": "arn:aws:sqs:us-east-1:111122223333:q"}]}))?;
        check(json!({"detail-type": "Package Cleanup Requested", "source": "acme", "detail": v}))?;
    }

    #[test]
    fn mutated_sample_events_are_accepted_or_refused_with_a_reason(
        which in any::<usize>(),
        mutations in prop::collection::vec((mutation(), any::<usize>()), 1..4),
    ) {
        let all = events();
        let (_, mut event) = all[which % all.len()].clone();
        for (m, pick) in &mutations {
            mutate(&mut event, m, *pick);
        }
        check(event)?;
    }

    #[test]
    fn mutated_bodies_of_sample_events_decode_or_are_refused(
        which in any::<usize>(),
        text in "\\PC{0,300}",
        cut in any::<usize>(),
    ) {
        // Raw text, not JSON, spliced into a record's body.
        let all = events();
        let (_, event) = all[which % all.len()].clone();
        let body = event.to_string();
        let at = body.char_indices().nth(cut % body.chars().count().max(1)).map_or(0, |(i, _)| i);
        let spliced = format!("{}{text}", &body[..at]);
        check(json!({"Records": [{"messageId": "m", "body": spliced, "eventSource": "aws:sqs",
                                   "eventSourceARN": "arn:aws:sqs:us-east-1:111122223333:q"}]}))?;
    }

    #[test]
    fn a_request_naming_a_package_never_plans_outside_it(
        (request, package) in request_naming_a_package(),
        versions in prop::collection::vec("[a-z0-9.]{1,6}", 0..20),
    ) {
        stays_in_package(&request, &package, &versions)?;
        let body = json!({"Records": [{"messageId": "m", "body": request.to_string(), "eventSource": "aws:sqs",
                                       "eventSourceARN": "arn:aws:sqs:us-east-1:111122223333:q"}]});
        stays_in_package(&body, &package, &versions)?;
    }

    #[test]
    fn a_codeartifact_event_naming_a_package_never_becomes_a_scope(
        package in prop_oneof![3 => prop::sample::select(WORDS).prop_map(Value::from), 1 => arbitrary_json()],
    ) {
        let event = json!({"version": "0", "id": "e", "detail-type": "CodeArtifact Package Version State Change",
            "source": "aws.codeartifact", "account": "111122223333", "detail": {
                "domainOwner": "111122223333", "domainName": "acme", "repositoryName": "releases",
                "packageFormat": "npm", "packageName": package.clone(), "packageVersion": "1",
                "operationType": "Created", "packageVersionState": "Published"}});
        stays_in_package(&event, &package, &[])?;
    }
}

/// The fuzzers are not vacuous: mutated sample events come out both
/// accepted (so the round trip is checked) and refused.
#[test]
fn mutations_of_the_sample_events_reach_acceptance_and_refusal() {
    // A fixed seed: the counts below are a property of the mutations, not
    // of the run's luck (a random seed once refused exactly 30).
    let mut runner = proptest::test_runner::TestRunner::new_with_rng(
        Config::with_cases(600),
        proptest::test_runner::TestRng::deterministic_rng(
            proptest::test_runner::RngAlgorithm::ChaCha,
        ),
    );
    let seen = std::cell::Cell::new((0, 0));
    runner
        .run(
            &(any::<usize>(), mutation(), any::<usize>()),
            |(which, m, pick)| {
                let all = events();
                let (_, mut event) = all[which % all.len()].clone();
                mutate(&mut event, &m, pick);
                let (a, r) = check(event)?;
                let (sa, sr) = seen.get();
                seen.set((sa + a, sr + r));
                Ok(())
            },
        )
        .unwrap();
    let (accepted, refused) = seen.get();
    assert!(
        accepted > 30 && refused > 30,
        "accepted {accepted}, refused {refused}"
    );
}
