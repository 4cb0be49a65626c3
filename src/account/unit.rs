//! One delivery's accounting, an entry at a time ([`Accounting`]), or
//! all at once ([`account`]).

use std::time::SystemTime;

use super::{refuse, request, rfc3339, Ctx, Entry, Progress, Settings, UnitAccount, UnitResult};
use crate::decode::Origin;

/// Decides the fate of every item of one delivery.
pub fn account(unit: &UnitResult, settings: &Settings, now: SystemTime) -> UnitAccount {
    let mut accounting = Accounting::new(
        (&unit.source, unit.sender.clone(), unit.origin),
        settings,
        now,
    );
    for entry in &unit.entries {
        accounting.add(entry);
    }
    accounting.finish()
}

/// One delivery's accounting, an entry at a time: each entry's lines are
/// known as it is accounted (what a run report is made of).
pub(crate) struct Accounting<'a> {
    cx: Ctx<'a>,
    acc: UnitAccount,
    progress: Progress,
}

impl<'a> Accounting<'a> {
    /// The accounting of the delivery `source` (with its sender and
    /// origin), at `now`.
    pub(crate) fn new(
        (source, sender, origin): (&'a str, Option<String>, Origin),
        settings: &'a Settings,
        now: SystemTime,
    ) -> Self {
        let (sqs, fifo, receives) = match origin {
            Origin::Sqs {
                fifo,
                receive_count,
            } => (true, fifo, attempts_received(fifo, receive_count)),
            _ => (false, false, 1),
        };
        Accounting {
            cx: Ctx {
                settings,
                source,
                time: rfc3339(now),
                sqs,
                fifo,
                receives,
            },
            acc: UnitAccount {
                source: source.to_owned(),
                sender,
                ..UnitAccount::default()
            },
            progress: Progress::default(),
        }
    }

    /// Accounts for one entry; returns where its lines are in the
    /// account's (see [`crate::report::PackageRun`]).
    pub(crate) fn add(&mut self, entry: &Entry) -> std::ops::Range<usize> {
        let (acc, cx) = (&mut self.acc, &self.cx);
        let start = acc.lines.len();
        self.progress.moved |= !matches!(entry, Entry::Executed(_));
        match entry {
            Entry::Ignored(why) => acc.ignored.push(why.clone()),
            Entry::FannedOut(jobs) => refuse::fan_out(acc, jobs),
            Entry::Invalid(inv) => refuse::refuse_invalid(acc, inv, cx),
            Entry::NotPermitted { job, reason } => {
                refuse::refuse_not_permitted(acc, job, reason, cx)
            }
            Entry::Executed(rr) => request::account_request(acc, &mut self.progress, rr, cx),
        }
        start..acc.lines.len()
    }

    /// The delivery's account, every entry added.
    pub(crate) fn finish(self) -> UnitAccount {
        let Accounting {
            cx,
            mut acc,
            progress,
        } = self;
        // An SQS record where nothing got anywhere, on errors that spend an
        // attempt, goes back to SQS whole rather than as a new message: SQS's
        // receive count and redrive policy apply. One that only lacked time or
        // quota is handed on with its attempt: a receive would count as an
        // attempt, and throttling alone must never exhaust them.
        let stalled = progress.waiting && !progress.moved && progress.spent;
        if cx.sqs && (acc.redeliver || stalled) {
            acc.redeliver_whole();
        }
        acc
    }
}

/// How many of an SQS record's receives count as attempts. On a standard
/// queue, every receive ran the record, but for one that found its message
/// held by another invocation ([`crate::downloads::Claim::Held`]): that
/// receive counts too. It happens only while another invocation works on
/// the same message, which then either settles it (the copy is
/// acknowledged without work) or gives it up to be redelivered, one receive
/// more than without the claim. On a FIFO queue, SQS also counts the
/// receives in which the record was held back unstarted behind a failing
/// record of its group, and nothing in the record tells those apart; so none
/// count, and a FIFO record is retried until its queue's redrive policy
/// (`maxReceiveCount`) moves it.
fn attempts_received(fifo: bool, receive_count: u32) -> u32 {
    if fifo {
        1
    } else {
        receive_count.max(1)
    }
}
