//! Running an `apply`: the plan read (from S3, or inline) and checked
//! before any package call, then one request per package it lists, each
//! checked against `ALLOWED_TARGETS`, run in turn, or, where a work queue
//! takes them, fanned out in parts that each read and check the plan again.
//! And, with `DRY_RUN`, one package bound to a plan checked against it.

use std::sync::Arc;

use futures::future::join_all;

use super::run::Runner;
use crate::account::MAX_VERSIONS_PER_MESSAGE;
use crate::account::{Entry, RequestResult};
use crate::decode::{DecodeError, Invalid};
use crate::error::DeleteError;
use crate::execute::{CallContext, ItemOutcome};
use crate::plan::Item;
use crate::report::store::ReportError;
use crate::report::verify::PlanBody;
use crate::report::Report;
use crate::request::{Action, ApplyRequest, Job, PlanRefused, PlanSource, Request, Service};

impl Runner<'_> {
    /// The plan read and checked, then its package requests (a part's
    /// only): run here, or fanned out one part per request.
    pub(super) async fn run_apply(
        &self,
        apply: ApplyRequest,
        may_fan_out: bool,
        cx: &CallContext<'_>,
    ) -> Vec<Entry> {
        let (first, chosen) = match self.planned_requests(&apply).await {
            Ok(c) => c,
            Err(entry) => return vec![entry],
        };
        tracing::info!(plan = %apply.label(), requests = chosen.len(), "plan checked");
        let (mut entries, permitted) = self.permitted(first, chosen, cx).await;
        let fan_out = apply.part.is_none()
            && may_fan_out
            && self.config.work_queue_url.is_some()
            && permitted.len() > 1;
        if fan_out {
            entries.push(Entry::FannedOut(fan_out_jobs(&apply, permitted)));
            return entries;
        }
        let permitted = permitted.into_iter().map(|(_, r)| r).collect();
        entries.extend(self.run_packages(permitted, false, None, cx).await);
        entries
    }

    /// The plan's package requests, each cut to fit a message, and of
    /// those the apply's part (all, without one) with the index of its
    /// first; or the entry that refuses the plan or fails reading it.
    async fn planned_requests(&self, apply: &ApplyRequest) -> Result<(usize, Vec<Request>), Entry> {
        let report = self.read_plan(apply).await?;
        let source = apply.report_uri();
        let requests =
            match crate::report::requests(&report, &apply.sha256, apply.dry_run, source.as_deref())
            {
                Ok(r) => r.into_iter().flat_map(chunks).collect::<Vec<_>>(),
                Err(refused) => return Err(refuse(apply, refused)),
            };
        match apply.part {
            Some(p) if p.to <= requests.len() => Ok((p.from, requests[p.from..p.to].to_vec())),
            Some(p) => {
                let refused = PlanRefused::PartOutOfRange {
                    from: p.from,
                    to: p.to,
                    requests: requests.len(),
                };
                Err(refuse(apply, refused))
            }
            None => Ok((0, requests)),
        }
    }

    /// Checks each chosen request against `ALLOWED_TARGETS` (a `group:`
    /// entry with a read, all at once) and what the function supports: the entries of those refused, and those
    /// permitted with their index in the plan (`first` is the first's).
    async fn permitted(
        &self,
        first: usize,
        chosen: Vec<Request>,
        cx: &CallContext<'_>,
    ) -> (Vec<Entry>, Vec<(usize, Request)>) {
        let mut entries = Vec::new();
        let mut permitted = Vec::with_capacity(chosen.len());
        let checked = join_all(
            chosen
                .into_iter()
                .map(|r| self.outside_allowed(Job::One(r), cx)),
        )
        .await;
        for (i, checked) in checked.into_iter().enumerate() {
            let job = match checked {
                Ok(job) => job,
                Err(refused) => {
                    entries.push(refused);
                    continue;
                }
            };
            if let Some(invalid) = self.unsupported(&job) {
                entries.push(Entry::Invalid(invalid));
            } else if let Job::One(r) = job {
                permitted.push((first + i, r));
            }
        }
        (entries, permitted)
    }

    /// The plan, read and checked against the approved digest, its kind,
    /// expiry and service; or the entry that refuses it (dead-lettered),
    /// or that fails reading it (retried like any failed read). A plan
    /// still being made in parts is refused as incomplete.
    async fn read_plan(&self, apply: &ApplyRequest) -> Result<Report, Entry> {
        let now_ms = crate::downloads::now_ms();
        let checked = match &apply.source {
            PlanSource::Inline(v) => {
                crate::report::verify(PlanBody::Value(v), &apply.sha256, apply.service, now_ms)
            }
            PlanSource::Report { bucket, key } => match self.reports.get(bucket, key).await {
                Ok(bytes) => crate::report::verify(
                    PlanBody::Bytes(&bytes),
                    &apply.sha256,
                    apply.service,
                    now_ms,
                ),
                Err(e) if self.in_parts(&e, bucket, key).await => Err(PlanRefused::Incomplete {
                    plan_id: plan_id_of(key),
                    detail: "its scope is still being planned in parts".into(),
                }),
                Err(e) => return Err(unread(Job::Apply(apply.clone()), apply.service, e)),
            },
        };
        checked.map_err(|refused| refuse(apply, refused))
    }

    /// Whether `e`, reading a plan's report.json, is because the plan is
    /// still being made in parts (no report.json yet, a scope.json beside
    /// where it will be).
    async fn in_parts(&self, e: &ReportError, bucket: &str, key: &str) -> bool {
        let ReportError::S3 { code, .. } = e;
        code == "NoSuchKey" && self.reports.in_parts(bucket, key).await.unwrap_or(false)
    }

    /// With `DRY_RUN`, one package bound to a plan in S3 (an apply's
    /// hand-on or dead letter) acts only if that plan, read again, still
    /// has the approved digest and holds the package as the request
    /// expects it ([`crate::report::holds`]). `Some` refuses it (or fails
    /// the read, to be retried); `None` lets it run.
    pub(super) async fn rebind(&self, request: &Request) -> Option<Entry> {
        if !self.config.dry_run || request.dry_run {
            return None;
        }
        let Action::Retain(retention) = &request.action else {
            return None;
        };
        let planned = retention.planned.as_ref()?;
        let uri = planned.report.as_deref()?;
        let service = request.target.service();
        let refuse = |refused: PlanRefused| {
            Entry::Invalid(Invalid {
                raw: serde_json::to_string(&request.to_raw(None, None))
                    .expect("request serializes"),
                error: DecodeError::PlanRefused(refused),
            })
        };
        let Some((bucket, key)) = uri.strip_prefix("s3://").and_then(|r| r.split_once('/')) else {
            return Some(refuse(PlanRefused::Unreadable(format!(
                "{uri:?} is not an s3:// URI"
            ))));
        };
        let bytes = match self.reports.get(bucket, key).await {
            Ok(b) => b,
            Err(e) => return Some(unread(Job::One(request.clone()), service, e)),
        };
        let now_ms = crate::downloads::now_ms();
        crate::report::verify(PlanBody::Bytes(&bytes), &planned.sha256, service, now_ms)
            .and_then(|plan| crate::report::holds(&plan, &planned.sha256, request))
            .err()
            .map(refuse)
    }
}

/// The plan id in a plan's report.json key (`…/<planId>/report.json`).
fn plan_id_of(key: &str) -> String {
    key.trim_end_matches("report.json")
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or(key)
        .to_owned()
}

/// The jobs a fanned-out apply becomes. A plan in S3 fans out in parts
/// that read it again; one given inline, as the package requests bound to
/// it (each part would carry the whole plan).
fn fan_out_jobs(apply: &ApplyRequest, permitted: Vec<(usize, Request)>) -> Vec<Job> {
    match &apply.source {
        PlanSource::Report { .. } => permitted
            .into_iter()
            .map(|(i, _)| Job::Apply(apply.part(i, i + 1)))
            .collect(),
        PlanSource::Inline(_) => permitted.into_iter().map(|(_, r)| Job::One(r)).collect(),
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

/// An object of the reports bucket could not be read: the job fails as
/// one item, handed on or dead-lettered by its error like any listing's.
pub(super) fn unread(job: Job, service: Service, e: ReportError) -> Entry {
    let ReportError::S3 {
        operation,
        code,
        class,
        ..
    } = &e;
    let err = DeleteError::Api {
        service,
        operation,
        code: code.clone(),
        class: *class,
        source: Box::new(e),
    };
    Entry::Executed(Box::new(RequestResult {
        request: job,
        outcomes: vec![ItemOutcome::failed(Item::Package, Arc::new(err), 1)],
        plan: None,
        package_not_found: false,
        learned: false,
        edges_written: 0,
    }))
}
