//! CloudTrail's `ReadFromRepository` record, as EventBridge delivers it
//! (detail-type `AWS API Call via CloudTrail`, the record in `detail`), to
//! one [`Read`].
//!
//! The CodeArtifact user guide's CloudTrail page shows one such record (an
//! unscoped npm tarball download): `eventTime`, `eventName`,
//! `requestParameters` with `domainName`, `domainOwner`, `repositoryName`,
//! `packageName`, `packageFormat`, `packageVersion`, and
//! `additionalEventData.requestUri`. Nothing documents a namespace field,
//! nor what a metadata request (no version) carries, so every field but the
//! domain's, the repository's, the format's and the time is optional here,
//! and a namespace that cannot be read is [`Namespace::Unknown`].

use serde::Deserialize;
use serde_json::Value;

use super::{Namespace, PackageKey, Read};
use crate::names;
use crate::service::Format;

/// CloudTrail's `eventName` for a package manager's read.
pub(crate) const READ_EVENT_NAME: &str = "ReadFromRepository";

/// Why a `ReadFromRepository` record cannot be recorded.
#[derive(Debug, thiserror::Error)]
pub enum ReadEventError {
    #[error("the CloudTrail record does not have the documented fields")]
    Shape(#[source] serde_path_to_error::Error<serde_json::Error>),
    #[error("`detail.eventTime` {0:?} is not an ISO 8601 time")]
    Time(String),
    #[error("`detail.requestParameters.packageFormat` {0:?} is not a CodeArtifact format")]
    Format(String),
    #[error("`detail.requestParameters.{0}` is empty")]
    Empty(&'static str),
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Record {
    event_time: String,
    request_parameters: Parameters,
    #[serde(default)]
    additional_event_data: Option<Additional>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Parameters {
    domain_name: String,
    domain_owner: String,
    repository_name: String,
    package_format: String,
    #[serde(default)]
    package_name: Option<String>,
    #[serde(default)]
    package_version: Option<String>,
    // Undocumented: read when present, never relied on.
    #[serde(default)]
    package_namespace: Option<String>,
    #[serde(default)]
    namespace: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Additional {
    #[serde(default)]
    request_uri: Option<String>,
}

/// One `ReadFromRepository` record (the EventBridge event's `detail`).
/// `Ok(None)`: a read that names no package (counted, not recorded).
pub(crate) fn read(detail: &Value) -> Result<Option<Read>, ReadEventError> {
    let r: Record = serde_path_to_error::deserialize(detail).map_err(ReadEventError::Shape)?;
    let at_ms = time::OffsetDateTime::parse(
        &r.event_time,
        &time::format_description::well_known::Rfc3339,
    )
    .map_err(|_| ReadEventError::Time(r.event_time.clone()))?
    .unix_timestamp_nanos()
        / 1_000_000;
    let p = r.request_parameters;
    for (field, value) in [
        ("domainName", &p.domain_name),
        ("domainOwner", &p.domain_owner),
        ("repositoryName", &p.repository_name),
    ] {
        if value.is_empty() {
            return Err(ReadEventError::Empty(field));
        }
    }
    let format = Format::parse(&p.package_format.to_ascii_lowercase())
        .ok_or_else(|| ReadEventError::Format(p.package_format.clone()))?;
    let Some(written) = p.package_name.filter(|n| !n.is_empty()) else {
        return Ok(None);
    };
    let uri = r.additional_event_data.and_then(|a| a.request_uri);
    let given = p
        .package_namespace
        .or(p.namespace)
        .filter(|n| !n.is_empty());
    let (namespace, package) = split(format, given, &written, uri.as_deref());
    Ok(Some(Read {
        key: PackageKey {
            domain_owner: p.domain_owner,
            domain: p.domain_name,
            format,
            namespace,
            package: names::name(format, &package),
        },
        repository: p.repository_name,
        version: p
            .package_version
            .filter(|v| !v.is_empty())
            .map(|v| names::version(format, &v)),
        at_ms: at_ms as i64,
    }))
}

/// The namespace and name of a read. A namespace the record names is
/// taken; an npm name `@scope/name` carries its scope; npm's request path
/// shows a scope as `/@scope/name/` (or `%40scope%2fname`), and a path
/// naming the package without one means none. Formats without namespaces
/// have none. Anything else cannot be told: [`Namespace::Unknown`], which
/// the policy side reads beside the exact key, keeping more.
fn split(
    format: Format,
    given: Option<String>,
    written: &str,
    uri: Option<&str>,
) -> (Namespace, String) {
    if let Some(ns) = given {
        return (
            Namespace::Named(names::namespace(format, &ns)),
            written.to_owned(),
        );
    }
    if !format.allows_namespace() {
        return (Namespace::None, written.to_owned());
    }
    if format == Format::Npm {
        if let Some((scope, name)) = written.strip_prefix('@').and_then(|s| s.split_once('/')) {
            return (Namespace::Named(scope.to_owned()), name.to_owned());
        }
        if let Some(uri) = uri {
            let lower = uri.to_ascii_lowercase();
            for (at, slash) in [("/@", "/"), ("/%40", "%2f")] {
                let pattern = format!("{slash}{}", written.to_ascii_lowercase());
                if let Some(start) = lower.find(at) {
                    let rest = &uri[start + at.len()..];
                    if let Some(end) = rest.to_ascii_lowercase().find(&pattern) {
                        return (Namespace::Named(rest[..end].to_owned()), written.to_owned());
                    }
                }
            }
            if !lower.contains("/@") && !lower.contains("%40") {
                return (Namespace::None, written.to_owned());
            }
        }
    }
    (Namespace::Unknown, written.to_owned())
}
