//! Errors of the core. SDK errors are kept whole as `#[source]`; the error
//! code and message a dead-letter message carries are read from them at the
//! edge, never stored as strings in their place.

use std::error::Error as StdError;
use std::time::Duration;

use aws_sdk_codeartifact::types::PackageVersionErrorCode;

use crate::code::Code;
use crate::request::Service;

/// A boxed SDK error (`SdkError<OperationError, HttpResponse>`), kept whole.
pub(crate) type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// How the retry layer treats an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// Throttled, and the service said how long to wait (CodeArtifact's
    /// `Retry-After`).
    ThrottledWithHint(Duration),
    /// Throttled without a hint (IoT): exponential backoff with full jitter.
    Throttled,
    /// Worth another try after a backoff: 5xx, timeouts, connection errors,
    /// conflicts.
    Transient,
    /// Retrying cannot help: validation, access denied, missing domain, ...
    Permanent,
}

impl ErrorClass {
    pub(crate) fn is_permanent(self) -> bool {
        matches!(self, ErrorClass::Permanent)
    }

    pub(crate) fn retry_after(self) -> Option<Duration> {
        match self {
            ErrorClass::ThrottledWithHint(d) => Some(d),
            _ => None,
        }
    }
}

/// Why one item (a version, or a whole package) was not deleted.
#[derive(Debug, thiserror::Error)]
pub enum DeleteError {
    /// A whole API call failed; every item of that call shares this error.
    #[error("{service} {operation} failed with {code}")]
    Api {
        service: Service,
        operation: &'static str,
        code: String,
        class: ErrorClass,
        #[source]
        source: BoxError,
    },
    /// The call succeeded but the service refused this version (a
    /// `failedVersions` entry of DeletePackageVersions or
    /// UpdatePackageVersionsStatus).
    #[error("CodeArtifact refused the version with {code}: {message}")]
    VersionRefused {
        code: PackageVersionErrorCode,
        message: String,
    },
    /// The version is the IoT package's default and the request did not say
    /// `unsetDefaultVersion: true`.
    #[error("{version} is the default version of IoT package {package}; it is deleted only with \"unsetDefaultVersion\": true")]
    DefaultVersion { package: String, version: String },
    /// The IoT version is in use and `protectInUse` is on.
    #[error("{version} of IoT package {package} is in use ({detail}); it is deleted only with \"protectInUse\": false")]
    InUse {
        package: String,
        version: String,
        detail: String,
    },
    /// Whether the IoT version is in use cannot be known, and
    /// `protectInUse` is on: refused, failing closed.
    #[error("cannot tell whether {version} of IoT package {package} is in use ({reason}); it is deleted only with \"protectInUse\": false")]
    InUseUnknown {
        package: String,
        version: String,
        reason: String,
    },
    /// Retries stopped because the Lambda deadline is near.
    #[error("stopped before the Lambda deadline")]
    OutOfTime {
        #[source]
        last: Option<std::sync::Arc<DeleteError>>,
    },
    /// The per-call retry budget ran out on a retryable error.
    #[error("gave up after {attempts} attempts")]
    RetriesExhausted {
        attempts: u32,
        #[source]
        last: std::sync::Arc<DeleteError>,
    },
}

impl DeleteError {
    /// The code a dead-letter message carries.
    pub(crate) fn code(&self) -> Code {
        match self {
            DeleteError::Api { code, .. } => Code::Service(code.clone()),
            DeleteError::VersionRefused { code, .. } => Code::Refused(code.clone()),
            DeleteError::DefaultVersion { .. } => Code::DefaultVersion,
            DeleteError::InUse { .. } => Code::InUse,
            DeleteError::InUseUnknown { .. } => Code::InUseUnknown,
            DeleteError::OutOfTime { last: Some(last) } => last.code(),
            DeleteError::OutOfTime { last: None } => Code::Deadline,
            DeleteError::RetriesExhausted { last, .. } => last.code(),
        }
    }

    /// A refusal by in-use protection (`IN_USE` or `IN_USE_UNKNOWN`): a
    /// policy keeps such a version, an explicit request dead-letters it.
    pub(crate) fn is_in_use(&self) -> bool {
        matches!(
            self,
            DeleteError::InUse { .. } | DeleteError::InUseUnknown { .. }
        )
    }

    /// Whether this failure is final for the item (dead-letter) or worth
    /// another invocation (hand on).
    pub(crate) fn is_permanent(&self) -> bool {
        match self {
            DeleteError::Api { class, .. } => class.is_permanent(),
            DeleteError::VersionRefused { code, .. } => *code != PackageVersionErrorCode::Skipped,
            DeleteError::DefaultVersion { .. }
            | DeleteError::InUse { .. }
            | DeleteError::InUseUnknown { .. } => true,
            DeleteError::OutOfTime { .. } | DeleteError::RetriesExhausted { .. } => false,
        }
    }

    /// Whether the call may have done its work although no success came
    /// back: it ended on errors that can strike after the service acted (a
    /// 5xx, a dropped connection, a timeout).
    pub(crate) fn outcome_unknown(&self) -> bool {
        match self {
            DeleteError::Api { class, .. } => *class == ErrorClass::Transient,
            DeleteError::RetriesExhausted { last, .. } => last.outcome_unknown(),
            _ => false,
        }
    }

    /// Whether this retryable failure used up an attempt. Errors did (5xx,
    /// dropped connections); running out of time did not, nor did waiting
    /// for the quota: a hand-on for lack of time keeps its attempt number.
    pub(crate) fn spends_attempt(&self) -> bool {
        match self {
            DeleteError::OutOfTime { last } => last.as_ref().is_some_and(|l| l.outcome_unknown()),
            DeleteError::Api { class, .. } => !matches!(
                class,
                ErrorClass::Throttled | ErrorClass::ThrottledWithHint(_)
            ),
            _ => true,
        }
    }

    /// The service's `Retry-After`, if the last error carried one.
    pub(crate) fn retry_after(&self) -> Option<Duration> {
        match self {
            DeleteError::Api { class, .. } => class.retry_after(),
            DeleteError::OutOfTime { last: Some(l) } => l.retry_after(),
            DeleteError::RetriesExhausted { last, .. } => last.retry_after(),
            _ => None,
        }
    }

    /// The full message, with every cause, for a dead-letter message.
    pub(crate) fn chain(&self) -> String {
        chain(self)
    }
}

/// An error's message with every cause, each once.
pub fn chain(e: &(dyn StdError + 'static)) -> String {
    let mut out = e.to_string();
    let mut cur: Option<&(dyn StdError + 'static)> = e.source();
    while let Some(e) = cur {
        let s = e.to_string();
        if !out.contains(&s) {
            out.push_str(": ");
            out.push_str(&s);
        }
        cur = e.source();
    }
    out
}
