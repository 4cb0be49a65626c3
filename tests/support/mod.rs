//! What the integration tests share, one module tree, included by every
//! test binary as `support` (and, through `#[path]`, by
//! `cli/tests/cli.rs` and the examples `make demo` and `make local` run).
//!
//! The local AWS stack for end-to-end runs: the emulator (CodeArtifact
//! and IoT), moto's SQS, DynamoDB and S3 servers, and `cargo lambda
//! watch`. Endpoints are redirected only through the standard
//! `AWS_ENDPOINT_URL_*` variables.
//!
//! - `process`: the virtualenv's tools, free ports, supervised children
//! - `stack`: moto, the stack and its variables, queues, the shared stack
//! - `watch`: the function under `cargo lambda watch`
//! - `in_process`: the function in-process, contexts, `invoke`
//! - `events`: the sample events and SQS events built from bodies
//! - `sqs`: SQS played as Lambda's event source
//! - `downloads`, `proxy`, `reports`, `template`: the downloads table, a
//!   proxy that fails chosen writes, run reports, `template.yaml`
//!
//! Two parts are included beside this one rather than inside it, by the
//! test binaries that need them: `mocks/` (clients over SDK-level mocks,
//! aws-smithy-mocks, which packprune-cli's tests do not link), included as
//! `mocks`, and `chaos/` (the chaos suites' harness), included as `harness`.
#![allow(dead_code)]

use std::sync::atomic::AtomicU32;

pub mod downloads;
pub mod proxy;
pub mod reports;
pub mod template;

mod events;
mod in_process;
mod process;
mod sqs;
mod stack;
mod watch;

// Each includer uses a part of these.
#[allow(unused_imports)]
pub use self::{events::*, in_process::*, process::*, sqs::*, stack::*, watch::*};

/// The workspace's root (`.cargo/config.toml` sets it for every package,
/// so packprune-cli's tests, which include this module, find it too).
pub const ROOT: &str = match option_env!("PACKPRUNE_ROOT") {
    Some(root) => root,
    None => env!("CARGO_MANIFEST_DIR"),
};

/// Queue names, request ids and invoke files of one's own in this process.
static QUEUE_SEQ: AtomicU32 = AtomicU32::new(0);
