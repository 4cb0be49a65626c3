//! Error classification: which SDK errors are throttles (with or without
//! a `Retry-After` hint), which are transient and which are permanent.

use std::time::Duration;

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use crate::error::ErrorClass;

/// Error codes that mean "slow down", whatever the HTTP status (IoT sends its
/// ThrottlingException as a 400; so does DynamoDB its
/// ProvisionedThroughputExceededException and RequestLimitExceeded, per its
/// API reference's "Common errors").
const THROTTLING_CODES: [&str; 7] = [
    "ThrottlingException",
    "Throttling",
    "TooManyRequestsException",
    "RequestThrottled",
    "SlowDown",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
];

/// Classifies an SDK error. `hint` is the modelled `retryAfterSeconds` the
/// caller read from the operation's ThrottlingException, if any.
pub(crate) fn classify<E: ProvideErrorMetadata>(
    err: &SdkError<E, HttpResponse>,
    hint: Option<Duration>,
) -> (ErrorClass, String) {
    match err {
        SdkError::ConstructionFailure(_) => {
            (ErrorClass::Permanent, "RequestConstructionFailed".into())
        }
        SdkError::TimeoutError(_) => (ErrorClass::Transient, "Timeout".into()),
        SdkError::DispatchFailure(_) => (ErrorClass::Transient, "ConnectionError".into()),
        SdkError::ResponseError(_) => (ErrorClass::Transient, "ResponseError".into()),
        SdkError::ServiceError(ctx) => {
            let status = ctx.raw().status().as_u16();
            let code = ctx.err().code().map(str::to_owned);
            let class = match code.as_deref() {
                Some(c) if THROTTLING_CODES.contains(&c) => throttled(hint),
                _ if status == 429 => throttled(hint),
                Some("InternalServerException" | "ConflictException") => ErrorClass::Transient,
                _ if status >= 500 => ErrorClass::Transient,
                _ => ErrorClass::Permanent,
            };
            (class, code.unwrap_or_else(|| format!("HTTP{status}")))
        }
        _ => (ErrorClass::Transient, "Unknown".into()),
    }
}

fn throttled(hint: Option<Duration>) -> ErrorClass {
    match hint {
        Some(d) => ErrorClass::ThrottledWithHint(d),
        None => ErrorClass::Throttled,
    }
}
