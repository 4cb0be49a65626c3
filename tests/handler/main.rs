//! The handler end to end over SDK-level mocks (aws-smithy-mocks): every
//! branch of decoding, deleting, retrying, dead-lettering and handing on.
//! Every invocation asserts the accounting invariant (see `support::invoke`).
//!
//! One test binary, a module per concern:
//! - `deletes`: calls of at most 100, every `failedVersions` code, whole
//!   packages, IoT default versions and client tokens
//! - `retries`: throttling (Retry-After, or backing off without it),
//!   transient and permanent errors, attempts exhausted
//! - `dead_letters`: round trips through the decoder, unwritable
//!   dead-letter queues, poison records
//! - `hand_on`: work handed on when time runs out, redelivery without a
//!   work queue, FIFO batches
//! - `events`: every sample in `events/`, an unrecognised event

#[path = "../support/mocks/mod.rs"]
mod mocks;
#[path = "../support/mod.rs"]
mod support;

mod dead_letters;
mod deletes;
mod events;
mod hand_on;
mod retries;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_codeartifact::operation::delete_package_versions::DeletePackageVersionsOutput;
use aws_sdk_codeartifact::types::{PackageVersionStatus, SuccessfulPackageVersionInfo};
use aws_smithy_mocks::{mock, Rule};

const MINUTE: Duration = Duration::from_secs(60);

fn deleted(versions: &[String]) -> DeletePackageVersionsOutput {
    let mut out = DeletePackageVersionsOutput::builder();
    for v in versions {
        out = out.successful_versions(
            v,
            SuccessfulPackageVersionInfo::builder()
                .status(PackageVersionStatus::Deleted)
                .revision("rev")
                .build(),
        );
    }
    out.build()
}

/// CodeArtifact deletes whatever it is asked to, recording each call's versions.
fn ca_deletes_all(calls: Arc<Mutex<Vec<Vec<String>>>>) -> Rule {
    mock!(aws_sdk_codeartifact::Client::delete_package_versions).then_compute_output(move |req| {
        calls.lock().unwrap().push(req.versions().to_vec());
        deleted(req.versions())
    })
}
