//! What every adapter's calls share: paging, error wrapping, the IoT
//! not-found test, idempotency tokens.

use std::error::Error as StdError;
use std::future::Future;
use std::time::Duration;

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use super::CallContext;
use crate::error::DeleteError;
use crate::request::Service;
use crate::retry::{classify, QuotaClass, Tried};

/// Pages through a listing. `call` fetches the page after a token (each
/// page through the retrier); `take` consumes a page and returns the next
/// token. Returns the attempts made.
pub(crate) async fn paginate<P, F, Fut>(
    cx: &CallContext<'_>,
    class: QuotaClass,
    mut call: F,
    mut take: impl FnMut(P) -> Option<String>,
) -> Tried<()>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: Future<Output = Result<P, DeleteError>>,
{
    let mut token: Option<String> = None;
    let mut attempts = 0;
    loop {
        let Tried {
            result: page,
            calls: n,
        } = cx.retrier.run(class, || call(token.clone())).await;
        attempts += n;
        match page.map(&mut take) {
            Err(e) => return Tried::new(Err(e), attempts),
            Ok(Some(next)) if !next.is_empty() => token = Some(next),
            Ok(_) => return Tried::new(Ok(()), attempts),
        }
    }
}

/// Wraps an SDK error, keeping it whole as the source.
pub(crate) fn api_error<E>(
    service: Service,
    operation: &'static str,
    err: SdkError<E, HttpResponse>,
    hint: Option<Duration>,
) -> DeleteError
where
    E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
{
    let (class, code) = classify(&err, hint);
    DeleteError::Api {
        service,
        operation,
        code,
        class,
        source: Box::new(err),
    }
}

/// Whether an IoT call answered ResourceNotFoundException.
pub(super) fn not_found<E: ProvideErrorMetadata>(e: &SdkError<E, HttpResponse>) -> bool {
    e.code() == Some("ResourceNotFoundException")
}

/// A deterministic idempotency token: the same delivery, operation and
/// resource always give the same UUID (v5), so a retried call is recognised
/// as the same call.
pub(crate) fn client_token(source: &str, operation: &str, package: &str, version: &str) -> String {
    const NAMESPACE: uuid::Uuid = uuid::Uuid::from_u128(0x6f1c_2a8e_5b7d_4c3a_9e21_7d0b_4f6a_1c55);
    uuid::Uuid::new_v5(
        &NAMESPACE,
        format!("{source}\u{1f}{operation}\u{1f}{package}\u{1f}{version}").as_bytes(),
    )
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_tokens_are_deterministic_and_fit_the_model() {
        let a = client_token("msg-1", "DeletePackageVersion", "fw", "1.0");
        assert_eq!(
            a,
            client_token("msg-1", "DeletePackageVersion", "fw", "1.0")
        );
        assert_ne!(
            a,
            client_token("msg-2", "DeletePackageVersion", "fw", "1.0")
        );
        assert_ne!(
            a,
            client_token("msg-1", "DeletePackageVersion", "fw", "1.1")
        );
        assert!((36..=64).contains(&a.len()));
    }
}
