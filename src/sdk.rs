//! The AWS SDK configuration, loaded once at cold start with the one HTTPS
//! client this function links: hyper 1 and rustls 0.23 with ring (see the
//! note in `Cargo.toml`). Region, credentials and the standard
//! `AWS_ENDPOINT_URL_*` overrides come from the environment as usual.

use aws_config::{BehaviorVersion, SdkConfig};
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};

/// The HTTPS client every SDK client shares.
pub fn https_client() -> aws_smithy_runtime_api::client::http::SharedHttpClient {
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
        .build_https()
}

/// Loads the SDK configuration from the environment.
pub async fn sdk_config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .http_client(https_client())
        .load()
        .await
}
