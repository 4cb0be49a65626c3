//! Running an `apply`: the plan read (from S3, or inline) and checked
//! before any package call, then one request per package it lists, each
//! checked against `ALLOWED_TARGETS`, fanned out or run in turn like a
//! scope's.

use std::sync::Arc;
use std::time::SystemTime;

use super::Handler;
use crate::account::{Entry, RequestResult};
use crate::decode::{DecodeError, Invalid};
use crate::error::DeleteError;
use crate::execute::{CallContext, ItemOutcome};
use crate::plan::Item;
use crate::report::store::ReportError;
use crate::report::verify::PlanBody;
use crate::request::{ApplyRequest, Job, PlanRefused, PlanSource};

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
        for r in requests {
            let job = Job::One(r);
            match self.not_permitted(&job) {
                Some(reason) => entries.push(Entry::NotPermitted { job, reason }),
                None => match job {
                    Job::One(r) => permitted.push(r),
                    _ => unreachable!("an apply's packages are single requests"),
                },
            }
        }
        entries.extend(self.run_packages(permitted, may_fan_out, None, cx).await);
        entries
    }
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
