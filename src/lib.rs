//! packprune: an AWS Lambda function that deletes software package versions
//! from AWS CodeArtifact and the AWS IoT software package catalog.
//!
//! The pipeline reads in module order (docs/layout.md draws it):
//! `decode` (events → requests) → `request` (validation) → `plan` (requests →
//! items and calls) → `execute` (one adapter per service, retried by `retry`)
//! → `account` (outcomes → dead letters, hand-ons, batch response, summary) →
//! `queue`, `metrics`, `report`. `handler` wires them together.
//!
//! The public surface is what the crate's callers need:
//! - the Lambda's `main`: [`Handler`], [`Clients`], [`Config`],
//!   [`sdk::sdk_config`], [`telemetry::init`];
//! - packprune-cli: the same, plus [`Inline`] (one request run with no
//!   queues), the request contract ([`RawRequest`], [`RawApply`], [`Job`],
//!   [`Service`]), [`from_body`], and [`report`] (reports, their digest and
//!   an apply's checks);
//! - tests, benches and examples: [`testkit`], which names the inner parts
//!   they reach into. It is not a stable interface.

// No function over 60 lines (clippy.toml's threshold); tests may be longer.
#![cfg_attr(not(test), warn(clippy::too_many_lines))]

mod account;
mod allow;
mod clock;
mod code;
mod config;
mod decode;
mod downloads;
pub mod error;
mod execute;
mod handler;
mod metrics;
mod names;
mod plan;
mod policy;
mod queue;
mod raw_body;
pub mod report;
mod request;
// Dependency protection's resolver: the planner does not call it yet (it
// lands before the listing of dependencies that feeds it), so its items are
// unused outside its tests until then.
#[allow(dead_code)]
mod resolve;
mod retry;
pub mod sdk;
mod service;
pub mod telemetry;
pub mod testkit;

pub use account::{Disposition, Line, Summary};
pub use config::{Config, ConfigError};
pub use decode::{from_body, Decoded, EventRules};
pub use downloads::now_ms;
pub use handler::{Clients, Handler, HandlerError, Inline, Processed};
pub use request::{Job, RawApply, RawRequest, Service};
