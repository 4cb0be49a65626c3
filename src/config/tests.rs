//! The configuration's unit tests.

use super::*;
use std::collections::HashMap;

fn cfg(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let m: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Config::from_lookup(|k| m.get(k).cloned())
}

#[test]
fn defaults_apply_and_the_dead_letter_queue_is_required() {
    let c = cfg(&[(
        "DEAD_LETTER_QUEUE_URL",
        "http://localhost:5000/123456789012/dlq",
    )])
    .unwrap();
    assert_eq!(c.max_attempts, 8);
    assert_eq!(c.max_concurrency, 8);
    assert_eq!(c.work_queue_url, None);
    assert_eq!(c.deadline_margin, Duration::from_secs(3));
    assert_eq!(c.rates, Rates::default());
    assert_eq!(c.shared_by, 1);
    assert_eq!(c.allowed, None);
    assert_eq!(
        (c.downloads_table.as_deref(), c.downloads_ttl_days),
        (None, 400)
    );
    let err = cfg(&[]).unwrap_err();
    assert!(err
        .to_string()
        .starts_with("DEAD_LETTER_QUEUE_URL is required"));
}

#[test]
fn invalid_settings_name_their_variable() {
    let dlq = (
        "DEAD_LETTER_QUEUE_URL",
        "https://sqs.eu-west-1.amazonaws.com/1/dlq",
    );
    for (var, value) in [
        ("MAX_ATTEMPTS", "0"),
        ("MAX_ATTEMPTS", "eight"),
        ("MAX_CONCURRENCY", "1000"),
        ("WORK_QUEUE_URL", "work"),
        ("DEADLINE_MARGIN_MS", "-1"),
        ("RATE_LIMITS", "iot.write"),
        ("RATE_LIMITS", "iot.delete=5"),
        ("RATE_LIMITS", "iot.write=0"),
        ("RATE_LIMITS", "iot.write=fast"),
        ("EVENT_SOURCE_MAX_CONCURRENCY", "0"),
        ("ALLOWED_TARGETS", "s3:bucket/*"),
        ("ALLOWED_TARGETS", "iot:"),
        ("DOWNLOADS_TTL_DAYS", "0"),
    ] {
        let err = cfg(&[dlq, (var, value)]).unwrap_err();
        assert!(err.to_string().starts_with(var), "{err}");
    }
    let err = cfg(&[
        dlq,
        (
            "EVENT_POLICY",
            r#"{"policy":{"keepLatest":3},"package":"x"}"#,
        ),
    ])
    .unwrap_err();
    assert!(err.to_string().starts_with("EVENT_POLICY"), "{err}");
    let err = cfg(&[dlq, ("EVENT_POLICY", r#"{"policy":{}}"#)]).unwrap_err();
    assert!(err.to_string().contains("keepLatest"), "{err}");
    let ok = cfg(&[
        dlq,
        (
            "EVENT_POLICY",
            r#"{"policy":{"keepLatest":3},"maxDeletions":10}"#,
        ),
        ("DRY_RUN", "TRUE"),
    ])
    .unwrap();
    assert!(ok.dry_run && ok.events.policy.is_some());
    let ok = cfg(&[
        dlq,
        ("RATE_LIMITS", " iot.write=25, codeartifact.list=400 "),
        ("EVENT_SOURCE_MAX_CONCURRENCY", "3"),
    ])
    .unwrap();
    assert_eq!(ok.rates.get(QuotaClass::IotWrite), 25.0);
    assert_eq!(ok.rates.get(QuotaClass::CodeArtifactList), 400.0);
    assert_eq!(ok.rates.get(QuotaClass::IotRead), 10.0);
    assert_eq!(ok.shared_by, 3);
    let err = cfg(&[("DEAD_LETTER_QUEUE_URL", "dlq")]).unwrap_err();
    assert!(err
        .to_string()
        .starts_with("DEAD_LETTER_QUEUE_URL=\"dlq\" is invalid"));
}

#[test]
fn a_local_configuration_needs_no_queue_and_reads_only_its_variables() {
    let vars: HashMap<&str, &str> = HashMap::from([
        ("RATE_LIMITS", "codeartifact.list=50"),
        ("DOWNLOADS_TABLE", "downloads"),
        ("DRY_RUN", "true"),
        ("ALLOWED_TARGETS", "iot:fw-*"),
        ("REPORTS_BUCKET", "bucket"),
        (
            "WORK_QUEUE_URL",
            "https://sqs.eu-west-1.amazonaws.com/1/work",
        ),
    ]);
    let c = Config::local(|k| vars.get(k).map(|v| v.to_string())).unwrap();
    assert_eq!(c.rates.get(QuotaClass::CodeArtifactList), 50.0);
    assert_eq!(c.downloads_table.as_deref(), Some("downloads"));
    assert_eq!(c.dead_letter_queue_url, None);
    assert_eq!(c.work_queue_url, None);
    assert!(!c.dry_run, "it runs what it is given");
    assert_eq!(
        (c.allowed.as_ref(), c.reports_bucket.as_deref()),
        (None, None)
    );
    let err = Config::local(|k| (k == "RATE_LIMITS").then(|| "nope".to_owned())).unwrap_err();
    assert!(err.to_string().starts_with("RATE_LIMITS"), "{err}");
}
