//! The function in-process: a handler built as `main` builds it, Lambda
//! contexts, and one invocation that checks the accounting invariant.

use std::sync::atomic::Ordering;
use std::time::Duration;

use lambda_runtime::LambdaEvent;
use packprune::{Clients, Config, Handler};
use serde_json::Value;

use super::QUEUE_SEQ;

/// The function in-process, built as `main` builds it: clients from the
/// loaded SDK config (SDK retries off for the package APIs).
pub async fn in_process_handler(config: Config) -> Handler {
    let sdk = packprune::sdk::sdk_config().await;
    Handler::new(Clients::from_sdk_config(&sdk), config)
}

/// A Lambda context whose deadline is `left` from now.
pub fn context(left: Duration) -> lambda_runtime::Context {
    let mut ctx = lambda_runtime::Context::default();
    ctx.request_id = format!("local-{}", QUEUE_SEQ.fetch_add(1, Ordering::SeqCst));
    // The emulator's account, as a deployed function's ARN carries its own.
    ctx.invoked_function_arn = "arn:aws:lambda:us-east-1:111122223333:function:packprune".into();
    ctx.deadline = (std::time::SystemTime::now() + left)
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    ctx
}

/// Invokes the handler; every invocation checks the accounting invariant.
pub async fn invoke(
    handler: &packprune::Handler,
    event: Value,
    left: Duration,
) -> packprune::testkit::handler::Processed {
    let out = handler
        .process(LambdaEvent::new(event, context(left)))
        .await
        .expect("the invocation succeeds");
    assert!(
        out.summary.balanced(),
        "accounting invariant broken: {:?}",
        out.summary
    );
    out
}
