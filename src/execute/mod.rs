//! Executing validated requests: one adapter per service behind
//! [`PackageService`], every call through the shared [`Retrier`].

mod codeartifact;
mod iot;

use std::collections::HashMap;
use std::error::Error as StdError;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

pub use codeartifact::CodeArtifactAdapter;
pub use iot::IotAdapter;

use crate::error::DeleteError;
use crate::plan::{self, Item};
use crate::request::{Request, Service};
use crate::retry::{classify, Retrier};

/// How an item ended when it did not fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Done {
    Deleted,
    AlreadyAbsent,
}

/// What happened to one item.
#[derive(Debug, Clone)]
pub struct ItemOutcome {
    pub item: Item,
    pub result: Result<Done, Arc<DeleteError>>,
    /// Calls made for this item (including retries).
    pub attempts: u32,
}

impl ItemOutcome {
    pub fn done(item: Item, done: Done, attempts: u32) -> Self {
        ItemOutcome {
            item,
            result: Ok(done),
            attempts,
        }
    }

    pub fn failed(item: Item, error: Arc<DeleteError>, attempts: u32) -> Self {
        ItemOutcome {
            item,
            result: Err(error),
            attempts,
        }
    }
}

/// What every call of one invocation shares.
pub struct CallContext<'a> {
    pub retrier: &'a Retrier,
    /// The delivery's id (SQS message id, EventBridge event id or Lambda
    /// request id): idempotency tokens derive from it.
    pub source: &'a str,
}

/// One service's way of deleting what a request names.
pub trait PackageService {
    /// Returns one outcome per item of [`plan::items`].
    fn delete(
        &self,
        request: &Request,
        cx: &CallContext<'_>,
    ) -> impl Future<Output = Vec<ItemOutcome>> + Send;
}

/// Routes each request to its service's adapter.
#[derive(Clone, Debug)]
pub struct Executor {
    pub codeartifact: CodeArtifactAdapter,
    pub iot: IotAdapter,
}

impl Executor {
    /// Executes one request. Whatever the adapter does, the result holds
    /// exactly one outcome per requested item, in request order.
    pub async fn execute(&self, request: &Request, cx: &CallContext<'_>) -> Vec<ItemOutcome> {
        let outcomes = if !cx.retrier.has_time() {
            Vec::new()
        } else {
            match request.target.service() {
                Service::CodeArtifact => self.codeartifact.delete(request, cx).await,
                Service::Iot => self.iot.delete(request, cx).await,
            }
        };
        let mut by_item: HashMap<Item, ItemOutcome> =
            outcomes.into_iter().map(|o| (o.item.clone(), o)).collect();
        let out_of_time = Arc::new(DeleteError::OutOfTime { last: None });
        plan::items(request)
            .into_iter()
            .map(|item| {
                by_item
                    .remove(&item)
                    .unwrap_or_else(|| ItemOutcome::failed(item, out_of_time.clone(), 0))
            })
            .collect()
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

/// A deterministic idempotency token: the same delivery, operation and
/// resource always give the same UUID (v5), so a retried call is recognised
/// as the same call.
pub fn client_token(source: &str, operation: &str, package: &str, version: &str) -> String {
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
