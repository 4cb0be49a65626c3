//! Cold start: logging, configuration and clients once; then the runtime loop.
#![recursion_limit = "256"]

use std::sync::Arc;

use lambda_runtime::{run, service_fn, Error, LambdaEvent};
use packprune::{Clients, Config, Handler};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    packprune::telemetry::init();
    let config =
        Config::from_env().inspect_err(|e| tracing::error!(error = %e, "invalid configuration"))?;
    let sdk = packprune::sdk::sdk_config().await;
    let handler = Arc::new(Handler::new(Clients::from_sdk_config(&sdk), config));
    run(service_fn(move |event: LambdaEvent<Value>| {
        let handler = handler.clone();
        async move { handler.handle(event).await }
    }))
    .await
}
