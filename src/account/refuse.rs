//! Entries that run nothing: a scope fanned out to the work queue, and
//! requests refused before any call (invalid, or outside `ALLOWED_TARGETS`),
//! with the untried lines such a job leaves.

use serde_json::Value;

use super::{Ctx, Disposition, Line, Outgoing, Reason, UnitAccount, Written};
use crate::code::Code;
use crate::decode::Invalid;
use crate::plan::Item;
use crate::request::Job;

/// Work for the work queue: one policy request per package of a scope,
/// or one part of an apply each.
pub(super) fn fan_out(acc: &mut UnitAccount, jobs: &[Job]) {
    acc.fanned_out += jobs.len() as u64;
    acc.hand_ons.extend(jobs.iter().map(|j| Outgoing {
        body: serde_json::to_string(&j.to_raw(None, None)).expect("request serializes"),
        delay_seconds: None,
    }));
}

/// A request that did not decode: its raw text (cut to fit) and the reason.
pub(super) fn refuse_invalid(acc: &mut UnitAccount, inv: &Invalid, cx: &Ctx) {
    let reason = inv.error.reason();
    let mut body = crate::raw_body::fields(&inv.raw);
    let message = crate::raw_body::message(&reason);
    body.insert(
        "failure".into(),
        cx.failure(&Code::InvalidRequest, &message, 0),
    );
    acc.dead_letters.push(Outgoing {
        body: Value::Object(body).to_string(),
        delay_seconds: None,
    });
    acc.invalid.push(reason);
}

/// A request outside `ALLOWED_TARGETS`: every item is dead-lettered,
/// untried, in one message that is the request itself.
pub(super) fn refuse_not_permitted(acc: &mut UnitAccount, job: &Job, reason: &str, cx: &Ctx) {
    let code = Some(Reason::Code(Code::NotPermitted));
    acc.lines.extend(
        untried(job, Disposition::DeadLettered, code)
            .into_iter()
            .map(|l| Line {
                detail: Some(reason.to_owned()),
                ..l
            }),
    );
    let mut raw = job.to_raw(None, None);
    raw.failure = Some(cx.failure(&Code::NotPermitted, reason, 0));
    acc.dead_letters.push(Outgoing {
        body: serde_json::to_string(&raw).expect("request serializes"),
        delay_seconds: None,
    });
}

/// One line per item a job names, none of them tried.
pub(super) fn untried(job: &Job, disposition: Disposition, code: Option<Reason>) -> Vec<Line> {
    let items = match job {
        Job::One(r) => crate::plan::items(r),
        Job::Many(_) | Job::Apply(_) | Job::Index(_) => vec![Item::Package],
    };
    items
        .into_iter()
        .map(|item| Line {
            service: job.service(),
            package: job.label(),
            written: Written::of(job, &item),
            storage: None,
            item,
            disposition,
            code: code.clone(),
            attempts: 0,
            detail: None,
        })
        .collect()
}
