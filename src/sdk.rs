//! The AWS SDK configuration, loaded once at cold start with the one HTTPS
//! client this function links: hyper 1 and rustls 0.23 with ring (see the
//! note in `Cargo.toml`). Region, credentials and the standard
//! `AWS_ENDPOINT_URL_*` overrides come from the environment as usual.

use std::sync::atomic::{AtomicBool, Ordering};

use aws_config::{BehaviorVersion, SdkConfig};
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::runtime_components::{
    RuntimeComponents, RuntimeComponentsBuilder,
};
use aws_smithy_runtime_api::shared::IntoShared;
use aws_smithy_types::config_bag::ConfigBag;

/// The HTTPS client every SDK client shares: aws-smithy-http-client's hyper
/// client with rustls and ring, trusting the platform's root certificates,
/// its connectors cached by timeout settings. See [`ValidatedOnce`] for why
/// it is wrapped.
pub(crate) fn https_client() -> SharedHttpClient {
    ValidatedOnce::new(
        aws_smithy_http_client::Builder::new()
            .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
            .build_https(),
    )
    .into_shared()
}

/// Loads the SDK configuration from the environment.
pub async fn sdk_config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .http_client(https_client())
        .load()
        .await
}

/// One HTTP client shared by several SDK clients, validated once.
///
/// aws-smithy-http-client (1.5, `client.rs`, `validate_base_client_config`)
/// builds a whole TLS connector each time an SDK client is constructed on it,
/// so that the root certificates are read at start rather than on the first
/// request, and then drops that connector: each build makes a rustls root
/// store from every platform certificate (about 290 on the bench machine).
/// The function constructs five SDK clients (CodeArtifact, IoT, SQS,
/// DynamoDB, S3) on one HTTP client, which made five stores at cold start.
/// This wrapper lets validations through until one passes, which reads the
/// certificates once (the library keeps them for the process), and skips the
/// rest. In aws-smithy-http-client 1.5 that validation ignores its arguments
/// and always passes; check again when upgrading it. The connectors
/// themselves are built as before, once per timeout setting at its first
/// request, and shared by every SDK client.
#[derive(Debug)]
pub struct ValidatedOnce {
    inner: SharedHttpClient,
    validated: AtomicBool,
}

impl ValidatedOnce {
    /// Wraps `inner`; nothing is validated until an SDK client asks.
    pub(crate) fn new(inner: SharedHttpClient) -> Self {
        ValidatedOnce {
            inner,
            validated: AtomicBool::new(false),
        }
    }
}

impl HttpClient for ValidatedOnce {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        self.inner.http_connector(settings, components)
    }

    fn validate_base_client_config(
        &self,
        runtime_components: &RuntimeComponentsBuilder,
        cfg: &ConfigBag,
    ) -> Result<(), BoxError> {
        if self.validated.load(Ordering::Acquire) {
            return Ok(());
        }
        // Marked only once it has passed: a failed validation fails each
        // client built after it too.
        let validated = self
            .inner
            .validate_base_client_config(runtime_components, cfg);
        if validated.is_ok() {
            self.validated.store(true, Ordering::Release);
        }
        validated
    }

    fn validate_final_config(
        &self,
        runtime_components: &RuntimeComponents,
        cfg: &ConfigBag,
    ) -> Result<(), BoxError> {
        self.inner.validate_final_config(runtime_components, cfg)
    }

    fn connector_metadata(
        &self,
    ) -> Option<aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata> {
        self.inner.connector_metadata()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;
    use std::sync::Arc;

    use aws_config::Region;

    use super::*;

    /// Counts the validations it is asked for; never asked for a connector.
    #[derive(Debug, Default)]
    struct Counting(Arc<AtomicUsize>);

    impl HttpClient for Counting {
        fn http_connector(
            &self,
            _: &HttpConnectorSettings,
            _: &RuntimeComponents,
        ) -> SharedHttpConnector {
            unreachable!("no request is sent in this test")
        }

        fn validate_base_client_config(
            &self,
            _: &RuntimeComponentsBuilder,
            _: &ConfigBag,
        ) -> Result<(), BoxError> {
            self.0.fetch_add(1, Ordering::SeqCst);
            Ok(())
        }
    }

    #[test]
    fn five_sdk_clients_on_one_http_client_validate_it_once() {
        let count = Arc::new(AtomicUsize::new(0));
        let once = ValidatedOnce::new(SharedHttpClient::new(Counting(count.clone())));
        let sdk = SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("eu-west-1"))
            .http_client(SharedHttpClient::new(once))
            .build();
        // The function's five clients, as `Clients::from_sdk_config` builds them.
        let _ = aws_sdk_codeartifact::Client::new(&sdk);
        let _ = aws_sdk_iot::Client::new(&sdk);
        let _ = aws_sdk_sqs::Client::new(&sdk);
        let _ = aws_sdk_dynamodb::Client::new(&sdk);
        let _ = aws_sdk_s3::Client::new(&sdk);
        assert_eq!(count.load(Ordering::SeqCst), 1);
        // Without the wrapper, each client validates the HTTP client again.
        let bare = Arc::new(AtomicUsize::new(0));
        let sdk = sdk
            .into_builder()
            .http_client(SharedHttpClient::new(Counting(bare.clone())))
            .build();
        let _ = aws_sdk_sqs::Client::new(&sdk);
        let _ = aws_sdk_s3::Client::new(&sdk);
        assert_eq!(bare.load(Ordering::SeqCst), 2);
    }
}
