//! EventBridge events: what a custom envelope must carry (`EVENT_SOURCES`,
//! `EVENT_DETAIL_TYPES`), and CodeArtifact's own events, which ask for
//! `EVENT_POLICY` on the package they name.

use aws_sdk_codeartifact::types::PackageVersionStatus;
use serde_json::Value;

use super::{from_value, DecodeError, Decoded, Invalid};
use crate::request::RawRequest;

/// The detail-type of CodeArtifact's own package events.
pub(crate) const CODEARTIFACT_DETAIL_TYPE: &str = "CodeArtifact Package Version State Change";
/// The detail-type of CloudTrail's records on EventBridge (management
/// events; read-only ones reach a rule only in state
/// `ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS`).
pub(crate) const CLOUDTRAIL_DETAIL_TYPE: &str = "AWS API Call via CloudTrail";
/// The detail-type custom envelopes carry unless `EVENT_DETAIL_TYPES` says
/// otherwise.
pub(crate) const DEFAULT_DETAIL_TYPE: &str = "Package Cleanup Requested";

/// Which values of an EventBridge field are accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Accept {
    Any,
    OneOf(Vec<String>),
}

impl Accept {
    /// `*` for any; else a comma-separated list.
    pub fn parse(list: &str) -> Accept {
        if list.trim() == "*" {
            return Accept::Any;
        }
        Accept::OneOf(
            list.split(',')
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect(),
        )
    }

    fn admits(&self, value: Option<&str>) -> bool {
        match self {
            Accept::Any => true,
            Accept::OneOf(list) => value.is_some_and(|v| list.iter().any(|x| x == v)),
        }
    }
}

/// What EventBridge events may ask for: `EVENT_POLICY` for CodeArtifact's
/// own publish events, and the sources and detail-types a custom envelope
/// must carry (`EVENT_SOURCES`, `EVENT_DETAIL_TYPES`).
#[derive(Debug, Clone, PartialEq)]
pub struct EventRules {
    pub policy: Option<RawRequest>,
    pub sources: Accept,
    pub detail_types: Accept,
    /// `USAGE_QUEUE_ARN`: CodeArtifact's events from this queue keep the
    /// table current and never ask for `EVENT_POLICY` ([`super::changed`]).
    pub usage_queue: Option<String>,
}

impl Default for EventRules {
    /// Any source, the one documented detail-type, no event policy.
    fn default() -> Self {
        EventRules {
            policy: None,
            sources: Accept::Any,
            detail_types: Accept::OneOf(vec![DEFAULT_DETAIL_TYPE.to_owned()]),
            usage_queue: None,
        }
    }
}

impl EventRules {
    #[cfg(test)]
    pub(crate) fn with_policy(policy: RawRequest) -> Self {
        EventRules {
            policy: Some(policy),
            ..EventRules::default()
        }
    }
}

pub(super) fn from_envelope(envelope: &Value, events: &EventRules) -> Vec<Decoded> {
    let text = |k: &str| envelope.get(k).and_then(Value::as_str);
    if text("source") == Some("aws.codeartifact") {
        if text("detail-type") == Some(CLOUDTRAIL_DETAIL_TYPE) {
            return vec![from_cloudtrail(envelope)];
        }
        if text("detail-type") != Some(CODEARTIFACT_DETAIL_TYPE) {
            return vec![Decoded::Ignored(format!(
                "a CodeArtifact {:?} event: only {CODEARTIFACT_DETAIL_TYPE:?} triggers retention",
                text("detail-type").unwrap_or("?")
            ))];
        }
        return vec![from_native(envelope, events.policy.as_ref())];
    }
    let refused = |field, value: Option<&str>, var| {
        vec![Decoded::Invalid(Invalid {
            raw: envelope.to_string(),
            error: DecodeError::NotAccepted {
                field,
                value: value.unwrap_or("(none)").to_owned(),
                var,
            },
        })]
    };
    if !events.sources.admits(text("source")) {
        return refused("source", text("source"), "EVENT_SOURCES");
    }
    if !events.detail_types.admits(text("detail-type")) {
        return refused("detail-type", text("detail-type"), "EVENT_DETAIL_TYPES");
    }
    from_value(&envelope["detail"])
}

/// A CloudTrail record of a CodeArtifact call: a package manager's
/// `ReadFromRepository` is a download to record; any other call asks for
/// nothing.
fn from_cloudtrail(envelope: &Value) -> Decoded {
    let d = &envelope["detail"];
    let name = d.get("eventName").and_then(Value::as_str).unwrap_or("?");
    if name != crate::downloads::READ_EVENT_NAME {
        return Decoded::Ignored(format!(
            "a CloudTrail {name} record: only {} is recorded",
            crate::downloads::READ_EVENT_NAME
        ));
    }
    match crate::downloads::read(d) {
        Ok(read) => Decoded::Read(read),
        Err(e) => Decoded::Invalid(Invalid {
            raw: envelope.to_string(),
            error: DecodeError::ReadEvent(e),
        }),
    }
}

/// CodeArtifact's "Package Version State Change": on a publish, the
/// configured policy for that one package. Anything else (deletions, our
/// own included, status changes, asset updates) asks for nothing.
fn from_native(envelope: &Value, event_policy: Option<&RawRequest>) -> Decoded {
    let d = &envelope["detail"];
    if !d.is_object() {
        return Decoded::Invalid(Invalid {
            raw: envelope.to_string(),
            error: DecodeError::NoDetail,
        });
    }
    let text = |k: &str| d.get(k).and_then(Value::as_str).map(str::to_owned);
    let (op, state) = (text("operationType"), text("packageVersionState"));
    let what = format!(
        "CodeArtifact {} {} event for {}@{}",
        op.as_deref().unwrap_or("?"),
        state.as_deref().unwrap_or("?"),
        text("packageName").as_deref().unwrap_or("?"),
        text("packageVersion").as_deref().unwrap_or("?"),
    );
    // The event spells the version's state as the model's
    // PackageVersionStatus does.
    let state = state.as_deref().map(PackageVersionStatus::from);
    if state == Some(PackageVersionStatus::Archived) {
        return archived(envelope, d);
    }
    let publish = matches!(op.as_deref(), Some("Created" | "Updated"))
        && state == Some(PackageVersionStatus::Published);
    if !publish {
        return Decoded::Ignored(format!("{what}: only a publish triggers retention"));
    }
    let Some(template) = event_policy else {
        return Decoded::Ignored(format!("{what}: no EVENT_POLICY is configured"));
    };
    let named = match NativeTarget::read(d) {
        Ok(t) => t,
        Err(field) => {
            return Decoded::Invalid(Invalid {
                raw: envelope.to_string(),
                error: DecodeError::NativeEvent(field),
            })
        }
    };
    let mut raw = template.clone();
    raw.service = Some("codeartifact".into());
    raw.domain = Some(named.domain);
    raw.domain_owner = named.domain_owner;
    raw.repository = Some(named.repository);
    raw.format = Some(named.format);
    raw.namespace = named.namespace;
    raw.package = Some(named.package);
    match raw.validate_job() {
        Ok(job) => Decoded::Valid(job),
        Err(e) => Decoded::Invalid(Invalid {
            raw: envelope.to_string(),
            error: DecodeError::Invalid(e),
        }),
    }
}

/// A version archived, by anyone: its time, to record. The event's `time`
/// is when it was archived; without one, now (later, so it keeps longer).
pub(super) fn archived(envelope: &Value, d: &Value) -> Decoded {
    let invalid = |field| {
        Decoded::Invalid(Invalid {
            raw: envelope.to_string(),
            error: DecodeError::NativeEvent(field),
        })
    };
    let named = match NativeTarget::read(d) {
        Ok(t) => t,
        Err(field) => return invalid(field),
    };
    let Some(format) = crate::service::Format::parse(&named.format) else {
        return invalid("packageFormat");
    };
    let version = match d.get("packageVersion") {
        Some(Value::String(v)) if !v.is_empty() => v,
        _ => return invalid("packageVersion"),
    };
    let owner = named.domain_owner.or_else(|| {
        envelope
            .get("account")
            .and_then(Value::as_str)
            .map(str::to_owned)
    });
    let Some(domain_owner) = owner else {
        return invalid("domainOwner");
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis() as i64;
    let at_ms = envelope
        .get("time")
        .and_then(Value::as_str)
        .and_then(crate::request::parse_rfc3339)
        .unwrap_or(now);
    Decoded::Archived(crate::downloads::Archived {
        key: crate::downloads::PackageKey {
            domain_owner,
            domain: named.domain,
            format,
            namespace: named
                .namespace
                .map(|ns| crate::names::namespace(format, &ns))
                .map_or(
                    crate::downloads::Namespace::None,
                    crate::downloads::Namespace::Named,
                ),
            package: crate::names::name(format, &named.package),
        },
        repository: named.repository,
        version: crate::names::version(format, version),
        at_ms,
    })
}

/// The package a native CodeArtifact event names. Every field that names
/// it must be a string: a missing or mistyped `packageName` (a number,
/// `null`, an array) must never leave the request without a package, which
/// would widen it into a scope over the whole repository.
pub(super) struct NativeTarget {
    pub(super) domain: String,
    pub(super) domain_owner: Option<String>,
    pub(super) repository: String,
    pub(super) format: String,
    pub(super) namespace: Option<String>,
    pub(super) package: String,
}

impl NativeTarget {
    pub(super) fn read(d: &Value) -> Result<NativeTarget, &'static str> {
        let required = |k: &'static str| match d.get(k) {
            Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
            _ => Err(k),
        };
        // Optional, but when present a string: `null` (no namespace) is how
        // CodeArtifact sends a package without one.
        let optional = |k: &'static str| match d.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok((!s.is_empty()).then(|| s.clone())),
            Some(_) => Err(k),
        };
        Ok(NativeTarget {
            domain: required("domainName")?,
            domain_owner: optional("domainOwner")?,
            repository: required("repositoryName")?,
            format: required("packageFormat")?,
            namespace: optional("packageNamespace")?,
            package: required("packageName")?,
        })
    }
}
