//! Failure codes: the `failure.code` of a dead letter and the `code` of an
//! audit line. Typed here; spelled out only when written.

use std::fmt;

use aws_sdk_codeartifact::types::PackageVersionErrorCode;
use serde::{Serialize, Serializer};

/// Why an item was dead-lettered or handed on.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Code {
    /// The request did not decode or validate.
    InvalidRequest,
    /// The request names a package outside `ALLOWED_TARGETS`.
    NotPermitted,
    /// The item was still failing after `MAX_ATTEMPTS` attempts.
    RetriesExhausted,
    /// An IoT default version, without `unsetDefaultVersion: true`.
    DefaultVersion,
    /// An IoT version installed on things or named by an unfinished job,
    /// with `protectInUse` on.
    InUse,
    /// Whether the IoT version is in use cannot be known (fleet indexing
    /// does not index `$package`), with `protectInUse` on.
    InUseUnknown,
    /// The invocation ran out of time before the item was tried.
    Deadline,
    /// `NO_PROGRESS_LIMIT` invocations in a row made no progress on the
    /// item (none settled anything of its request, nor learned what it
    /// waits for): dead-lettered rather than handed on again.
    NoProgress,
    /// CodeArtifact refused this version (a DeletePackageVersions
    /// `failedVersions` entry): `NOT_ALLOWED`, `MISMATCHED_STATUS`, …
    Refused(PackageVersionErrorCode),
    /// The service's own error name, as the SDK read it from the response
    /// (`ThrottlingException`, `AccessDeniedException`, …): an open set.
    Service(String),
}

impl Code {
    /// A `failedVersions` entry's code; one without a code is `UNKNOWN`.
    #[cfg(test)]
    pub(crate) fn refused(code: Option<&PackageVersionErrorCode>) -> Code {
        Code::Refused(code.cloned().unwrap_or_else(|| "UNKNOWN".into()))
    }

    pub(crate) fn as_str(&self) -> &str {
        match self {
            Code::InvalidRequest => "INVALID_REQUEST",
            Code::NotPermitted => "NOT_PERMITTED",
            Code::RetriesExhausted => "RETRIES_EXHAUSTED",
            Code::DefaultVersion => "DEFAULT_VERSION",
            Code::InUse => "IN_USE",
            Code::InUseUnknown => "IN_USE_UNKNOWN",
            Code::Deadline => "DEADLINE",
            Code::NoProgress => "NO_PROGRESS",
            Code::Refused(c) => c.as_str(),
            Code::Service(c) => c,
        }
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Code {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_written_as_the_readme_lists_them() {
        assert_eq!(Code::NotPermitted.to_string(), "NOT_PERMITTED");
        assert_eq!(
            serde_json::to_string(&Code::RetriesExhausted).unwrap(),
            "\"RETRIES_EXHAUSTED\""
        );
        let refused = Code::refused(Some(&PackageVersionErrorCode::NotAllowed));
        assert_eq!(refused.as_str(), "NOT_ALLOWED");
        assert_eq!(Code::refused(None).as_str(), "UNKNOWN");
    }
}
