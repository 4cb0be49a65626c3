//! The SDK clients, built once at cold start.

use aws_config::retry::RetryConfig;
use aws_config::SdkConfig;
use aws_smithy_runtime_api::client::interceptors::SharedInterceptor;

/// The SDK clients, built once at cold start.
#[derive(Clone, Debug)]
pub struct Clients {
    pub codeartifact: aws_sdk_codeartifact::Client,
    pub iot: aws_sdk_iot::Client,
    pub sqs: aws_sdk_sqs::Client,
    /// The downloads table's client (used only with `DOWNLOADS_TABLE`).
    pub dynamodb: aws_sdk_dynamodb::Client,
    /// The reports bucket's client (reports with `REPORTS_BUCKET`; plans).
    pub s3: aws_sdk_s3::Client,
}

impl Clients {
    /// Builds the clients from a loaded SDK config (region, credentials and
    /// the standard `AWS_ENDPOINT_URL_*` overrides). The package APIs get
    /// the SDK's retries turned off: [`crate::retry`] owns every wait (so
    /// does the downloads table's).
    pub fn from_sdk_config(sdk: &SdkConfig) -> Self {
        Self::with_interceptors(sdk, &[])
    }

    /// [`Clients::from_sdk_config`], each client also running
    /// `interceptors` around every call (packprune-cli's: refuse every
    /// call that is not a read, count calls for its progress line).
    pub fn with_interceptors(sdk: &SdkConfig, interceptors: &[SharedInterceptor]) -> Self {
        macro_rules! build {
            ($builder:expr) => {{
                let mut b = $builder;
                for i in interceptors {
                    b.push_interceptor(i.clone());
                }
                b.build()
            }};
        }
        Clients {
            codeartifact: aws_sdk_codeartifact::Client::from_conf(build!(
                aws_sdk_codeartifact::config::Builder::from(sdk)
                    .retry_config(RetryConfig::disabled())
            )),
            iot: aws_sdk_iot::Client::from_conf(build!(
                aws_sdk_iot::config::Builder::from(sdk).retry_config(RetryConfig::disabled())
            )),
            sqs: aws_sdk_sqs::Client::from_conf(build!(aws_sdk_sqs::config::Builder::from(sdk))),
            // Its calls go through the retry layer too.
            dynamodb: aws_sdk_dynamodb::Client::from_conf(build!(
                aws_sdk_dynamodb::config::Builder::from(sdk).retry_config(RetryConfig::disabled())
            )),
            s3: aws_sdk_s3::Client::from_conf(build!(
                aws_sdk_s3::config::Builder::from(sdk).force_path_style(endpoint_overridden())
            )),
        }
    }
}

/// Whether an endpoint is set for S3 (`AWS_ENDPOINT_URL_S3` or
/// `AWS_ENDPOINT_URL`): then buckets are addressed by path, as local
/// stand-ins such as moto's server need.
fn endpoint_overridden() -> bool {
    ["AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"]
        .iter()
        .any(|v| std::env::var_os(v).is_some_and(|u| !u.is_empty()))
}
