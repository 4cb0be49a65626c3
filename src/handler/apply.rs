//! Running an `apply`: the plan read (from S3, or inline) and checked
//! before any package call, then one request per package it lists, each
//! checked against `ALLOWED_TARGETS`, fanned out or run in turn like a
//! scope's.

use std::sync::Arc;
use std::time::SystemTime;

use super::Handler;
use crate::account::MAX_VERSIONS_PER_MESSAGE;
use crate::account::{Entry, RequestResult};
use crate::decode::{DecodeError, Invalid};
use crate::error::DeleteError;
use crate::execute::{CallContext, ItemOutcome};
use crate::plan::Item;
use crate::report::store::ReportError;
use crate::report::verify::PlanBody;
use crate::request::{Action, ApplyRequest, Job, PlanRefused, PlanSource, Request};

impl Handler {
    pub(super) async fn run_apply(
        &self,
        apply: ApplyRequest,
        may_fan_out: bool,
        cx: &CallContext<'_>,
    ) -> Vec<Entry> {
        let body = match &apply.source {
            PlanSource::Inline(v) => Ok(v.clone()),
            PlanSource::Report { bucket, key } => match self.reports.get(bucket, key).await {
                Ok(bytes) => Err(bytes),
                Err(e) => return vec![unread(apply, e)],
            },
        };
        let now_ms = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis() as i64;
        let plan_body = match &body {
            Ok(v) => PlanBody::Value(v),
            Err(bytes) => PlanBody::Bytes(bytes),
        };
        let checked = crate::report::verify(plan_body, &apply.sha256, apply.service, now_ms)
            .and_then(|report| crate::report::requests(&report, &apply.sha256, apply.dry_run));
        let requests = match checked {
            Ok(r) => r,
            Err(refused) => return vec![refuse(&apply, refused)],
        };
        tracing::info!(plan = %apply.label(), packages = requests.len(), "plan checked");
        let mut entries = Vec::new();
        let mut permitted = Vec::with_capacity(requests.len());
        for r in requests.into_iter().flat_map(chunks) {
            let job = Job::One(r);
            if let Some(reason) = self.not_permitted(&job) {
                entries.push(Entry::NotPermitted { job, reason });
            } else if let Some(invalid) = self.unsupported(&job) {
                entries.push(Entry::Invalid(invalid));
            } else if let Job::One(r) = job {
                permitted.push(r);
            }
        }
        entries.extend(self.run_packages(permitted, may_fan_out, None, cx).await);
        entries
    }
}

/// A package's request cut into requests of at most
/// [`MAX_VERSIONS_PER_MESSAGE`] planned versions each (with their
/// expectations), so that each fits one SQS message when fanned out,
/// dead-lettered or handed on.
fn chunks(request: Request) -> Vec<Request> {
    let only = match &request.action {
        Action::Retain(r) => r.only.clone().unwrap_or_default(),
        _ => return vec![request],
    };
    if only.len() <= MAX_VERSIONS_PER_MESSAGE {
        return vec![request];
    }
    only.chunks(MAX_VERSIONS_PER_MESSAGE)
        .map(|part| {
            let mut r = request.clone();
            if let Action::Retain(ret) = &mut r.action {
                **ret = ret.narrowed(part);
            }
            r
        })
        .collect()
}

/// The plan refused: dead-lettered as an invalid request, with the reason.
fn refuse(apply: &ApplyRequest, refused: PlanRefused) -> Entry {
    tracing::warn!(plan = %apply.label(), reason = %refused, "plan refused");
    Entry::Invalid(Invalid {
        raw: serde_json::to_string(&apply.to_raw(None)).expect("request serializes"),
        error: DecodeError::PlanRefused(refused),
    })
}

/// The plan could not be read: the apply fails as one item, handed on or
/// dead-lettered by its error like any listing's.
fn unread(apply: ApplyRequest, e: ReportError) -> Entry {
    let ReportError::S3 {
        operation,
        code,
        class,
        ..
    } = &e;
    let err = DeleteError::Api {
        service: apply.service,
        operation,
        code: code.clone(),
        class: *class,
        source: Box::new(e),
    };
    Entry::Executed(Box::new(RequestResult {
        request: Job::Apply(apply),
        outcomes: vec![ItemOutcome::failed(Item::Package, Arc::new(err), 1)],
        plan: None,
        package_not_found: false,
    }))
}
