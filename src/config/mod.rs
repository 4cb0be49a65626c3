//! Configuration: environment variables only, read once at cold start.

use crate::allow::AllowList;
use crate::decode::{Accept, EventRules};
use crate::metrics::MetricsConfig;
use std::time::Duration;

use crate::request::RawRequest;
use crate::retry::{QuotaClass, Rates};

/// A setting that stops the cold start, naming the variable.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("{var} is required: {hint}")]
    Missing {
        var: &'static str,
        hint: &'static str,
    },
    #[error("{var}={value:?} is invalid: {reason}")]
    Invalid {
        var: &'static str,
        value: String,
        reason: String,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// `DEAD_LETTER_QUEUE_URL`: where permanent failures go. Always set in
    /// Lambda ([`Config::from_env`] requires it); `None` only in a run with
    /// no queues ([`Config::local`], packprune-cli).
    pub dead_letter_queue_url: Option<String>,
    /// `WORK_QUEUE_URL`: where unfinished work is handed on.
    pub work_queue_url: Option<String>,
    /// `MAX_ATTEMPTS`: hand-ons before unfinished work is dead-lettered with
    /// `RETRIES_EXHAUSTED`.
    pub max_attempts: u32,
    /// `NO_PROGRESS_LIMIT`: invocations in a row that may make no progress
    /// on a hand-on before it is dead-lettered with `NO_PROGRESS`.
    pub no_progress_limit: u32,
    /// `MAX_CONCURRENCY`: API calls in flight at once per invocation.
    pub max_concurrency: usize,
    /// `DEADLINE_MARGIN_MS`: time kept back before the Lambda deadline for
    /// writing dead letters and hand-ons.
    pub deadline_margin: Duration,
    /// `DRY_RUN`: delete nothing, whatever the requests say; report plans.
    pub dry_run: bool,
    /// What EventBridge events may ask for. `EVENT_POLICY`: the policy
    /// (with `dryRun`, `maxDeletions`, `maxFraction`) applied to the package
    /// of each CodeArtifact publish event. `EVENT_SOURCES` and
    /// `EVENT_DETAIL_TYPES`: what a custom envelope must carry (`*` for any;
    /// by default any source, detail-type `Package Cleanup Requested`).
    pub events: EventRules,
    /// `RATE_LIMITS`: the account's quotas, calls per second per class, as
    /// `iot.write=25,codeartifact.write=100`; unnamed classes keep their
    /// defaults ([`QuotaClass::default_rate`]).
    pub rates: Rates,
    /// `EVENT_SOURCE_MAX_CONCURRENCY`: how many invocations share the
    /// quotas at once (the SQS event source's maximum concurrency). Each
    /// starts at its share and adapts from there.
    pub shared_by: u32,
    /// `ALLOWED_TARGETS`: the packages requests may name
    /// ([`AllowList`]); unset, whatever IAM allows.
    pub allowed: Option<AllowList>,
    /// `METRICS_NAMESPACE` and `AWS_LAMBDA_FUNCTION_NAME`: where the
    /// embedded-metric-format lines put their metrics.
    pub metrics: MetricsConfig,
    /// `DOWNLOADS_TABLE`: the DynamoDB table of downloads
    /// ([`crate::downloads`]). Unset: download events are ignored and a
    /// policy with `notDownloadedForDays` is refused.
    pub downloads_table: Option<String>,
    /// `DOWNLOADS_TTL_DAYS`: how long a read is kept (the table's TTL),
    /// default 400 days.
    pub downloads_ttl_days: u32,
    /// `REPORTS_BUCKET`: the S3 bucket of run reports ([`crate::report`]).
    /// Unset: no report is written; plans are read from wherever an apply
    /// names them.
    pub reports_bucket: Option<String>,
    /// `REPORTS_PREFIX`: the key prefix of reports, default `reports/`.
    pub reports_prefix: String,
}

impl Config {
    pub(crate) const DEFAULT_MAX_ATTEMPTS: u32 = 8;
    pub(crate) const DEFAULT_NO_PROGRESS_LIMIT: u32 = 5;
    pub(crate) const DEFAULT_MAX_CONCURRENCY: usize = 8;
    pub(crate) const DEFAULT_DEADLINE_MARGIN_MS: u64 = 3000;
    pub(crate) const DEFAULT_DOWNLOADS_TTL_DAYS: u32 = 400;

    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads settings through `lookup` (the environment, or a map in tests).
    /// `DEAD_LETTER_QUEUE_URL` is required.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        Self::read(lookup, true)
    }

    /// The variables a run with no queues, bucket or schedule reads
    /// ([`Config::local`]).
    pub(crate) const LOCAL_VARIABLES: [&'static str; 5] = [
        "RATE_LIMITS",
        "MAX_CONCURRENCY",
        "MAX_ATTEMPTS",
        "DOWNLOADS_TABLE",
        "DOWNLOADS_TTL_DAYS",
    ];

    /// The configuration of a run with no queues, no reports bucket and no
    /// `DRY_RUN` or `ALLOWED_TARGETS` (packprune-cli, which runs what it is
    /// given inline): only [`Config::LOCAL_VARIABLES`] are read through
    /// `lookup`; everything else keeps its default.
    pub fn local(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        Self::read(
            |k| {
                Self::LOCAL_VARIABLES
                    .contains(&k)
                    .then(|| lookup(k))
                    .flatten()
            },
            false,
        )
    }

    /// Reads every setting through `lookup` (values trimmed, empty ones
    /// unset); `queues` requires `DEAD_LETTER_QUEUE_URL`. Settings are
    /// checked in the order of [`Config`]'s fields: the first invalid one
    /// is the error.
    fn read(lookup: impl Fn(&str) -> Option<String>, queues: bool) -> Result<Self, ConfigError> {
        let get = |k: &str| trimmed(lookup(k));
        let (dead_letter_queue_url, work_queue_url) = queue_urls(&get, queues)?;
        Ok(Config {
            dead_letter_queue_url,
            work_queue_url,
            max_attempts: number(&get, "MAX_ATTEMPTS", Self::DEFAULT_MAX_ATTEMPTS, 1, 100)?,
            no_progress_limit: number(
                &get,
                "NO_PROGRESS_LIMIT",
                Self::DEFAULT_NO_PROGRESS_LIMIT,
                1,
                100,
            )?,
            max_concurrency: number(
                &get,
                "MAX_CONCURRENCY",
                Self::DEFAULT_MAX_CONCURRENCY,
                1,
                256,
            )?,
            deadline_margin: Duration::from_millis(number(
                &get,
                "DEADLINE_MARGIN_MS",
                Self::DEFAULT_DEADLINE_MARGIN_MS,
                0,
                600_000,
            )?),
            dry_run: dry_run(&get)?,
            events: event_rules(&get)?,
            rates: rate_limits(&get)?,
            shared_by: number(&get, "EVENT_SOURCE_MAX_CONCURRENCY", 1, 1, 1000)?,
            allowed: allowed_targets(&get)?,
            metrics: metrics_config(&get)?,
            downloads_table: get("DOWNLOADS_TABLE"),
            downloads_ttl_days: number(
                &get,
                "DOWNLOADS_TTL_DAYS",
                Self::DEFAULT_DOWNLOADS_TTL_DAYS,
                1,
                36_500,
            )?,
            reports_bucket: get("REPORTS_BUCKET"),
            reports_prefix: get("REPORTS_PREFIX").unwrap_or_else(|| "reports/".to_owned()),
        })
    }
}

/// A setting's value, trimmed; `None` when unset or empty.
fn trimmed(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

/// `DEAD_LETTER_QUEUE_URL` (required when `queues`) and `WORK_QUEUE_URL`,
/// each checked to be a URL.
fn queue_urls(
    get: &impl Fn(&str) -> Option<String>,
    queues: bool,
) -> Result<(Option<String>, Option<String>), ConfigError> {
    let dead_letter_queue_url = get("DEAD_LETTER_QUEUE_URL");
    if queues && dead_letter_queue_url.is_none() {
        return Err(ConfigError::Missing {
            var: "DEAD_LETTER_QUEUE_URL",
            hint: "the URL of the SQS queue that receives permanent failures",
        });
    }
    if let Some(u) = &dead_letter_queue_url {
        check_url("DEAD_LETTER_QUEUE_URL", u)?;
    }
    let work_queue_url = get("WORK_QUEUE_URL");
    if let Some(u) = &work_queue_url {
        check_url("WORK_QUEUE_URL", u)?;
    }
    Ok((dead_letter_queue_url, work_queue_url))
}

/// `DRY_RUN`: `true`, `1` or `yes`; `false`, `0`, `no` or unset (any case).
fn dry_run(get: &impl Fn(&str) -> Option<String>) -> Result<bool, ConfigError> {
    match get("DRY_RUN")
        .as_deref()
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        None | Some("false" | "0" | "no") => Ok(false),
        Some("true" | "1" | "yes") => Ok(true),
        Some(other) => Err(ConfigError::Invalid {
            var: "DRY_RUN",
            value: other.to_owned(),
            reason: "expected true or false".into(),
        }),
    }
}

/// `EVENT_POLICY`, `EVENT_SOURCES` and `EVENT_DETAIL_TYPES`: what
/// EventBridge events may ask for.
fn event_rules(get: &impl Fn(&str) -> Option<String>) -> Result<EventRules, ConfigError> {
    Ok(EventRules {
        policy: get("EVENT_POLICY").map(|v| event_policy(&v)).transpose()?,
        sources: get("EVENT_SOURCES").map_or(Accept::Any, |v| Accept::parse(&v)),
        detail_types: get("EVENT_DETAIL_TYPES")
            .map_or_else(|| EventRules::default().detail_types, |v| Accept::parse(&v)),
        usage_queue: get("USAGE_QUEUE_ARN"),
    })
}

/// `RATE_LIMITS` ([`rates`]); unset, every class at its default.
fn rate_limits(get: &impl Fn(&str) -> Option<String>) -> Result<Rates, ConfigError> {
    Ok(get("RATE_LIMITS")
        .map(|v| rates(&v))
        .transpose()?
        .unwrap_or_default())
}

/// `ALLOWED_TARGETS`: the packages requests may name; unset, `None`.
fn allowed_targets(
    get: &impl Fn(&str) -> Option<String>,
) -> Result<Option<AllowList>, ConfigError> {
    get("ALLOWED_TARGETS")
        .map(|v| {
            AllowList::parse(&v).map_err(|reason| ConfigError::Invalid {
                var: "ALLOWED_TARGETS",
                value: v.clone(),
                reason,
            })
        })
        .transpose()
}

/// `METRICS_NAMESPACE` (1 to 255 characters, CloudWatch's limit) and the
/// function's name, each defaulting to `packprune`.
fn metrics_config(get: &impl Fn(&str) -> Option<String>) -> Result<MetricsConfig, ConfigError> {
    let mut m = MetricsConfig::default();
    if let Some(ns) = get("METRICS_NAMESPACE") {
        if ns.is_empty() || ns.chars().count() > 255 || ns.starts_with(':') {
            return Err(ConfigError::Invalid {
                var: "METRICS_NAMESPACE",
                value: ns,
                reason: "a CloudWatch namespace is 1 to 255 characters and does not start with ':'"
                    .into(),
            });
        }
        m.namespace = ns;
    }
    if let Some(f) = get("AWS_LAMBDA_FUNCTION_NAME").filter(|f| !f.is_empty()) {
        m.function_name = f;
    }
    Ok(m)
}

/// `EVENT_POLICY` holds `policy` and, optionally, `action`, `dryRun`,
/// `maxDeletions` and `maxFraction`; the event supplies the package.
fn event_policy(value: &str) -> Result<RawRequest, ConfigError> {
    let invalid = |reason: String| ConfigError::Invalid {
        var: "EVENT_POLICY",
        value: value.to_owned(),
        reason,
    };
    let template: RawRequest =
        serde_json::from_str(value).map_err(|e| invalid(format!("not a request fragment: {e}")))?;
    let allowed = RawRequest {
        policy: template.policy.clone(),
        dry_run: template.dry_run,
        max_deletions: template.max_deletions,
        max_fraction: template.max_fraction,
        action: template.action.clone(),
        ..RawRequest::default()
    };
    if template != allowed || template.policy.is_none() {
        return Err(invalid("give `policy` and, optionally, `action`, `dryRun`, `maxDeletions` and `maxFraction`; the event names the package".into()));
    }
    let mut sample = template.clone();
    sample.service = Some("codeartifact".into());
    sample.domain = Some("example".into());
    sample.repository = Some("example".into());
    sample.format = Some("npm".into());
    sample.package = Some("example".into());
    sample.validate_job().map_err(|e| invalid(e.to_string()))?;
    Ok(template)
}

/// `RATE_LIMITS`: `class=rate` pairs separated by commas.
fn rates(value: &str) -> Result<Rates, ConfigError> {
    let invalid = |reason: String| ConfigError::Invalid {
        var: "RATE_LIMITS",
        value: value.to_owned(),
        reason,
    };
    let names = QuotaClass::ALL.map(QuotaClass::as_str).join(", ");
    let mut rates = Rates::default();
    for pair in value.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (name, rate) = pair
            .split_once('=')
            .ok_or_else(|| invalid(format!("{pair:?} is not class=rate")))?;
        let class = QuotaClass::parse(name.trim())
            .ok_or_else(|| invalid(format!("{name:?} is not one of {names}")))?;
        let rate: f64 = rate
            .trim()
            .parse()
            .ok()
            .filter(|r: &f64| r.is_finite() && (0.2..=10_000.0).contains(r))
            .ok_or_else(|| {
                invalid(format!(
                    "{rate:?} is not a rate from 0.2 to 10000 calls a second"
                ))
            })?;
        rates.set(class, rate);
    }
    Ok(rates)
}

fn check_url(var: &'static str, value: &str) -> Result<(), ConfigError> {
    if value.starts_with("https://") || value.starts_with("http://") {
        Ok(())
    } else {
        Err(ConfigError::Invalid {
            var,
            value: value.to_owned(),
            reason:
                "expected a queue URL such as https://sqs.us-east-1.amazonaws.com/111122223333/name"
                    .into(),
        })
    }
}

fn number<T>(
    get: &impl Fn(&str) -> Option<String>,
    var: &'static str,
    default: T,
    min: T,
    max: T,
) -> Result<T, ConfigError>
where
    T: std::str::FromStr + PartialOrd + std::fmt::Display + Copy,
{
    let Some(raw) = get(var) else {
        return Ok(default);
    };
    match raw.parse::<T>() {
        Ok(n) if n >= min && n <= max => Ok(n),
        _ => Err(ConfigError::Invalid {
            var,
            value: raw,
            reason: format!("expected a whole number from {min} to {max}"),
        }),
    }
}

#[cfg(test)]
mod tests;
