//! The loop a user writes by hand: one call at a time, the SDK's standard
//! retries (3 attempts, exponential backoff with jitter, a retry quota), and
//! on an error that outlasts them, the same call again until it goes
//! through, so that nothing is left behind.

use anyhow::Result;
use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region};
use aws_sdk_codeartifact::types::PackageFormat;

use crate::workload::Victims;

async fn sdk(endpoint: &str) -> aws_config::SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .http_client(
            aws_smithy_http_client::Builder::new()
                .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
                    aws_smithy_http_client::tls::rustls_provider::CryptoMode::Ring,
                ))
                .build_https(),
        )
        .region(Region::new("us-east-1"))
        .credentials_provider(aws_sdk_iot::config::Credentials::new(
            "bench", "bench", None, None, "bench",
        ))
        .endpoint_url(endpoint)
        .retry_config(RetryConfig::standard())
        .load()
        .await
}

pub async fn delete_all(endpoint: &str, victims: &[Victims]) -> Result<()> {
    let conf = sdk(endpoint).await;
    let ca = aws_sdk_codeartifact::Client::new(&conf);
    let iot = aws_sdk_iot::Client::new(&conf);
    for v in victims {
        match v {
            Victims::Iot { package, versions } => {
                for version in versions {
                    while iot
                        .delete_package_version()
                        .package_name(package)
                        .version_name(version)
                        .send()
                        .await
                        .is_err()
                    {}
                }
            }
            Victims::CodeArtifact { package, versions } => {
                for chunk in versions.chunks(100) {
                    loop {
                        let sent = ca
                            .delete_package_versions()
                            .domain("acme")
                            .repository("releases")
                            .format(PackageFormat::Npm)
                            .package(package)
                            .set_versions(Some(chunk.to_vec()))
                            .send()
                            .await;
                        if sent.is_ok() {
                            break;
                        }
                    }
                }
            }
        }
    }
    Ok(())
}
