//! The interceptor on every SDK client the CLI builds: it refuses, before
//! the request is serialized (so before it is signed or sent), every call that is not a read (unless
//! its service is one the command may change), and counts the calls for
//! the progress line.
//!
//! `plan` builds its clients with no writable service, so no call it makes
//! can change anything: not the registry, not the downloads table, not a
//! bucket. `apply` may change CodeArtifact and IoT, and still never writes
//! the downloads table.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeSerializationInterceptorContextRef, FinalizerInterceptorContextRef,
};
use aws_smithy_runtime_api::client::interceptors::{Intercept, SharedInterceptor};
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use indicatif::ProgressBar;

/// Operation name prefixes that only read (CodeArtifact's and IoT's
/// `List*`, `Describe*`, `Get*`, IoT's `SearchIndex`, DynamoDB's `Query`,
/// `Scan` and `BatchGetItem`, S3's `HeadObject`).
const READS: [&str; 7] = [
    "List", "Describe", "Get", "Search", "Query", "Scan", "BatchGet",
];

/// Whether the operation `name` only reads.
pub fn reads(name: &str) -> bool {
    READS.iter().any(|p| name.starts_with(p)) || name == "HeadObject"
}

/// A call refused because it would change something.
#[derive(Debug, thiserror::Error)]
#[error("packprune-cli refused {service} {operation}: this command makes read calls only{why}")]
pub struct Refused {
    pub service: String,
    pub operation: String,
    why: &'static str,
}

/// The calls made so far, by operation, and the progress line they feed.
#[derive(Debug)]
pub struct Guard {
    /// Services (as the SDK names them: `codeartifact`, `IoT`) whose writes
    /// are let through.
    writable: &'static [&'static str],
    calls: Mutex<BTreeMap<String, u64>>,
    progress: ProgressBar,
}

impl Guard {
    /// A guard letting writes through only to `writable`; `progress` shows
    /// the counts (hidden when stderr is not a terminal).
    pub fn new(writable: &'static [&'static str], progress: ProgressBar) -> Arc<Guard> {
        Arc::new(Guard {
            writable,
            calls: Mutex::new(BTreeMap::new()),
            progress,
        })
    }

    /// The guard as an SDK interceptor.
    pub fn interceptor(self: &Arc<Self>) -> SharedInterceptor {
        SharedInterceptor::new(Shared(self.clone()))
    }

    /// Clears the progress line.
    pub fn finish(&self) {
        self.progress.finish_and_clear();
    }

    /// Shows the progress line again (after a question, say).
    pub fn resume(&self) {
        self.progress.reset();
        self.progress
            .enable_steady_tick(std::time::Duration::from_millis(120));
    }

    /// Calls made, by operation.
    pub fn calls(&self) -> BTreeMap<String, u64> {
        self.calls.lock().expect("calls lock").clone()
    }

    fn admit(&self, meta: Option<&Metadata>) -> Result<(), Refused> {
        let Some(meta) = meta else {
            return Err(Refused {
                service: "?".into(),
                operation: "?".into(),
                why: " (the call names no operation)",
            });
        };
        let writable = self
            .writable
            .iter()
            .any(|s| s.eq_ignore_ascii_case(meta.service()));
        if reads(meta.name()) || writable {
            return Ok(());
        }
        Err(Refused {
            service: meta.service().to_owned(),
            operation: meta.name().to_owned(),
            why: match meta.service() {
                "DynamoDB" => " (it never writes the downloads table)",
                _ => "",
            },
        })
    }

    fn count(&self, meta: Option<&Metadata>) {
        let name = meta.map_or("?", Metadata::name).to_owned();
        let mut calls = self.calls.lock().expect("calls lock");
        *calls.entry(name).or_default() += 1;
        let total: u64 = calls.values().sum();
        let top: Vec<String> = calls.iter().map(|(op, n)| format!("{op} {n}")).collect();
        self.progress
            .set_message(format!("{total} calls: {}", top.join(", ")));
    }
}

#[derive(Debug)]
struct Shared(Arc<Guard>);

impl Intercept for Shared {
    fn name(&self) -> &'static str {
        "PackpruneCliGuard"
    }

    // The operation's metadata is in the bag from here on (not yet when
    // the execution starts); nothing has been serialized or sent.
    fn read_before_serialization(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.0.admit(cfg.load::<Metadata>()).map_err(Into::into)
    }

    fn read_after_execution(
        &self,
        _context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.0.count(cfg.load::<Metadata>());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_pass_and_writes_are_refused_unless_their_service_may_change() {
        let guard = Guard::new(&[], ProgressBar::hidden());
        for (op, service) in [
            ("ListPackageVersions", "codeartifact"),
            ("DescribePackageVersion", "codeartifact"),
            ("GetPackage", "IoT"),
            ("SearchIndex", "IoT"),
            ("Query", "DynamoDB"),
            ("GetObject", "S3"),
        ] {
            assert!(
                guard.admit(Some(&Metadata::new(op, service))).is_ok(),
                "{op}"
            );
        }
        for (op, service) in [
            ("DeletePackageVersions", "codeartifact"),
            ("UpdatePackageVersionsStatus", "codeartifact"),
            ("DeletePackage", "codeartifact"),
            ("DeletePackageVersion", "IoT"),
            ("UpdatePackage", "IoT"),
            ("UpdatePackageVersion", "IoT"),
            ("UpdateItem", "DynamoDB"),
            ("PutObject", "S3"),
            ("SendMessageBatch", "SQS"),
        ] {
            let e = guard.admit(Some(&Metadata::new(op, service))).unwrap_err();
            assert!(e.to_string().contains(op), "{e}");
        }
        assert!(guard.admit(None).is_err(), "a call without metadata");
        let apply = Guard::new(&["codeartifact", "iot"], ProgressBar::hidden());
        assert!(apply
            .admit(Some(&Metadata::new("DeletePackageVersion", "IoT")))
            .is_ok());
        let e = apply
            .admit(Some(&Metadata::new("UpdateItem", "DynamoDB")))
            .unwrap_err();
        assert!(
            e.to_string().contains("never writes the downloads table"),
            "{e}"
        );
    }

    #[tokio::test]
    async fn a_refused_call_never_reaches_the_wire() {
        use aws_smithy_http_client::test_util::capture_request;
        let guard = Guard::new(&[], ProgressBar::hidden());
        let client = |http| {
            let conf = aws_sdk_codeartifact::Config::builder()
                .with_test_defaults_v2()
                .http_client(http)
                .interceptor(Shared(guard.clone()))
                .build();
            aws_sdk_codeartifact::Client::from_conf(conf)
        };
        let (http, sent) = capture_request(None);
        let refused = client(http)
            .delete_package_versions()
            .domain("acme")
            .repository("r")
            .format(aws_sdk_codeartifact::types::PackageFormat::Npm)
            .package("web")
            .versions("1.0.0")
            .send()
            .await;
        let e = refused.unwrap_err();
        let why = packprune::error::chain(&e);
        assert!(
            why.contains("refused codeartifact DeletePackageVersions"),
            "{why}"
        );
        sent.expect_no_request();
        // A read goes through, and is counted.
        let (http, sent) = capture_request(None);
        let _ = client(http)
            .list_package_versions()
            .domain("acme")
            .repository("r")
            .format(aws_sdk_codeartifact::types::PackageFormat::Npm)
            .package("web")
            .send()
            .await;
        assert!(sent.expect_request().uri().contains("/v1/package/versions"));
        assert_eq!(guard.calls().get("ListPackageVersions"), Some(&1));
    }
}
