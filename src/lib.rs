//! packprune: an AWS Lambda function that deletes software package versions
//! from AWS CodeArtifact and the AWS IoT software package catalog.
//!
//! The pipeline reads in module order:
//! [`decode`] (events → requests) → [`plan`] (requests → items and calls) →
//! [`execute`] (one adapter per service, retried by [`retry`]) →
//! [`account`] (outcomes → dead letters, hand-ons, batch response, summary).
//! [`handler`] wires them together; [`queue`] is the SQS edge.

pub mod account;
pub mod allow;
pub mod code;
pub mod config;
pub mod decode;
pub mod downloads;
pub mod error;
pub mod execute;
pub mod handler;
pub mod metrics;
pub mod names;
pub mod plan;
pub mod policy;
pub mod queue;
pub mod raw_body;
pub mod report;
pub mod request;
pub mod retry;
pub mod sdk;
pub mod service;
pub mod telemetry;

pub use config::Config;
pub use handler::{Clients, Handler};
