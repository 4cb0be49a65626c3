//! CodeArtifact's own "Package Version State Change" events as the usage
//! queue delivers them (the SQS queue `USAGE_QUEUE_ARN` names): they keep
//! the function's table current, and never ask for `EVENT_POLICY` (the
//! rule that invokes the function directly does that, so one publish never
//! runs a policy twice).
//!
//! - A change to `Archived` records its time (`archivedForDays`).
//! - Every `Created`, `Updated` and `Deleted` asks for the version's entry
//!   in the index of dependencies to be made again: whether it is present
//!   (Unfinished to Unlisted or Archived included) and what it declares are
//!   read afresh from CodeArtifact, so duplicate and out-of-order events are
//!   harmless (`../shared/aws-api-facts.md`, section L: events may arrive
//!   out of order).

use aws_sdk_codeartifact::types::PackageVersionStatus;
use serde_json::Value;

use super::events::{archived, NativeTarget, CODEARTIFACT_DETAIL_TYPE};
use super::{from_body, DecodeError, Decoded, EventRules, Invalid};
use crate::downloads::{Namespace, PackageKey};
use crate::request::CodeArtifactPackage;
use crate::service::Format;

/// A version whose entry in the index of dependencies may have changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Changed {
    pub(crate) package: CodeArtifactPackage,
    /// The package's key in the table (its domain owner known).
    pub(crate) key: PackageKey,
    /// The version, as stored.
    pub(crate) version: String,
}

/// A body of the usage queue: a CodeArtifact state-change event is decoded
/// here; anything else (CloudTrail's reads) as any body is.
pub(super) fn from_usage_body(body: &str, events: &EventRules) -> Vec<Decoded> {
    match serde_json::from_str::<Value>(body) {
        Ok(v)
            if v.get("source").and_then(Value::as_str) == Some("aws.codeartifact")
                && v.get("detail-type").and_then(Value::as_str)
                    == Some(CODEARTIFACT_DETAIL_TYPE) =>
        {
            state_change(&v)
        }
        _ => from_body(body, events),
    }
}

/// One state-change event from the usage queue.
fn state_change(envelope: &Value) -> Vec<Decoded> {
    let d = &envelope["detail"];
    if !d.is_object() {
        return vec![Decoded::Invalid(Invalid {
            raw: envelope.to_string(),
            error: DecodeError::NoDetail,
        })];
    }
    let text = |k: &str| d.get(k).and_then(Value::as_str);
    let op = text("operationType");
    // The event spells the state as the model's PackageVersionStatus does.
    let state = text("packageVersionState").map(PackageVersionStatus::from);
    let mut out = Vec::with_capacity(2);
    if state == Some(PackageVersionStatus::Archived) {
        out.push(archived(envelope, d));
    }
    if !matches!(op, Some("Created" | "Updated" | "Deleted")) {
        out.push(Decoded::Ignored(format!(
            "a CodeArtifact event with operationType {:?}: not a version's change",
            op.unwrap_or("(none)")
        )));
        return out;
    }
    out.push(match read(envelope, d) {
        Ok(c) => Decoded::Changed(c),
        Err(field) => Decoded::Invalid(Invalid {
            raw: envelope.to_string(),
            error: DecodeError::NativeEvent(field),
        }),
    });
    out
}

/// The version an event names, in stored forms; the field at fault
/// otherwise.
fn read(envelope: &Value, d: &Value) -> Result<Changed, &'static str> {
    let named = NativeTarget::read(d)?;
    let format = Format::parse(&named.format).ok_or("packageFormat")?;
    let version = match d.get("packageVersion") {
        Some(Value::String(v)) if !v.is_empty() => crate::names::version(format, v),
        _ => return Err("packageVersion"),
    };
    let owner = named.domain_owner.clone().or_else(|| {
        let account = envelope.get("account").and_then(Value::as_str);
        account.map(str::to_owned)
    });
    let domain_owner = owner.ok_or("domainOwner")?;
    let namespace = (named.namespace.as_deref()).map(|ns| crate::names::namespace(format, ns));
    let package = crate::names::name(format, &named.package);
    Ok(Changed {
        key: PackageKey {
            domain_owner: domain_owner.clone(),
            domain: named.domain.clone(),
            format,
            namespace: namespace.clone().map_or(Namespace::None, Namespace::Named),
            package: package.clone(),
        },
        package: CodeArtifactPackage {
            domain: named.domain,
            domain_owner: Some(domain_owner),
            repository: named.repository,
            format,
            namespace,
            package,
        },
        version,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(op: &str, state: &str, metadata: bool) -> String {
        serde_json::json!({"version": "0", "id": "e-1", "detail-type": CODEARTIFACT_DETAIL_TYPE,
            "source": "aws.codeartifact", "account": "111122223333", "time": "2026-12-01T00:00:00Z",
            "detail": {"domainName": "acme", "domainOwner": "111122223333", "repositoryName": "apps",
                "packageFormat": "npm", "packageNamespace": "acme", "packageName": "ui",
                "packageVersion": "3.2.0", "packageVersionState": state, "operationType": op,
                "sequenceNumber": 3, "changes": {"assetsAdded": 0, "assetsRemoved": 0,
                "assetsUpdated": 0, "metadataUpdated": metadata, "statusChanged": !metadata}}})
        .to_string()
    }

    /// What asks for a version's entry again, and what does not; none asks
    /// for `EVENT_POLICY`, even with one configured.
    #[test]
    fn the_usage_queue_indexes_and_never_runs_the_event_policy() {
        let rules = EventRules::with_policy(
            serde_json::from_value(serde_json::json!({"policy": {"keepLatest": 1}})).unwrap(),
        );
        for (op, state, metadata, reindex) in [
            ("Created", "Published", true, true),
            ("Created", "Unfinished", false, true),
            ("Updated", "Published", false, true),
            ("Updated", "Unlisted", true, true),
            ("Updated", "Unlisted", false, true),
            ("Updated", "Disposed", false, true),
            ("Deleted", "Deleted", false, true),
            ("Renamed", "Published", false, false),
        ] {
            let decoded = from_usage_body(&event(op, state, metadata), &rules);
            match (&decoded[..], reindex) {
                ([Decoded::Changed(c)], true) => {
                    assert_eq!(c.package.to_string(), "acme/apps/npm/acme/ui");
                    assert_eq!(c.version, "3.2.0");
                }
                ([Decoded::Ignored(_)], false) => {}
                (other, _) => panic!("{op} {state}: {other:?}"),
            }
        }
        // Unfinished to Archived: present now, so indexed, and its time kept.
        let archived = from_usage_body(&event("Updated", "Archived", false), &rules);
        assert!(
            matches!(&archived[..], [Decoded::Archived(_), Decoded::Changed(_)]),
            "{archived:?}"
        );
    }

    fn field() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        prop_oneof![
            3 => prop::sample::select(vec!["Created", "Updated", "Deleted", "Published", "Archived", "Unlisted", "Disposed", "npm", "pypi", "ui", "apps", "acme", ""])
                .prop_map(Value::from),
            1 => Just(Value::Null),
            1 => any::<i64>().prop_map(Value::from),
            1 => Just(serde_json::json!({"a": [1]})),
        ]
    }

    proptest::proptest! {
        /// Whatever a state-change event on the usage queue holds, it never
        /// runs a policy, and a version to index is fully named.
        #[test]
        fn a_usage_event_never_runs_a_policy(
            op in field(), state in field(), format in field(), package in field(),
            version in field(), repository in field(), namespace in field(),
        ) {
            let rules = EventRules::with_policy(
                serde_json::from_value(serde_json::json!({"policy": {"keepLatest": 1}})).unwrap(),
            );
            let body = serde_json::json!({"detail-type": CODEARTIFACT_DETAIL_TYPE, "source": "aws.codeartifact",
                "account": "111122223333", "detail": {"domainName": "acme", "repositoryName": repository,
                "packageFormat": format, "packageNamespace": namespace, "packageName": package,
                "packageVersion": version, "packageVersionState": state, "operationType": op}});
            for d in from_usage_body(&body.to_string(), &rules) {
                proptest::prop_assert!(!matches!(d, Decoded::Valid(_)), "{d:?}");
                if let Decoded::Changed(c) = d {
                    proptest::prop_assert!(!c.package.package.is_empty() && !c.package.repository.is_empty() && !c.version.is_empty());
                }
            }
        }
    }
}
