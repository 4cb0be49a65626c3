//! `ALLOWED_TARGETS`' `group:` entries, which take a read: a package is
//! admitted when CodeArtifact associates it with a granted group in its
//! repository (GetAssociatedPackageGroup), and a `packageGroup` scope of a
//! granted group admits every package it lists.

use std::sync::Arc;

use futures::future::join_all;

use super::run::Runner;
use crate::account::{Entry, RequestResult};
use crate::error::DeleteError;
use crate::execute::{CallContext, ItemOutcome};
use crate::plan::Item;
use crate::request::{Job, Request, Scope, ScopeRequest, Target};
use crate::retry::Tried;

impl Runner<'_> {
    /// The scope's package requests that `ALLOWED_TARGETS` admits, and how
    /// many it left out; a group read that failed, with the calls made.
    pub(super) async fn within_allowed(
        &self,
        scope: &ScopeRequest,
        requests: Vec<Request>,
        cx: &CallContext<'_>,
    ) -> Result<(Vec<Request>, usize), (DeleteError, u32)> {
        let Some(allowed) = self.config.allowed.as_ref() else {
            return Ok((requests, 0));
        };
        let (mut admitted, by_name): (Vec<Request>, Vec<Request>) = requests
            .into_iter()
            .partition(|r| allowed.permits(&r.target));
        let Scope::CodeArtifact {
            domain,
            repository,
            package_group,
            ..
        } = &scope.scope
        else {
            return Ok((admitted, by_name.len()));
        };
        let granted = allowed.groups_in(domain, repository);
        if package_group
            .as_deref()
            .is_some_and(|g| granted.contains(&g))
        {
            // Every package a granted group lists is associated with it.
            admitted.extend(by_name);
            return Ok((admitted, 0));
        }
        if granted.is_empty() {
            return Ok((admitted, by_name.len()));
        }
        // At most MAX_CONCURRENCY at once, as every call (the retrier's).
        let checked: Vec<Tried<bool>> = join_all(
            by_name
                .iter()
                .map(|r| self.group_admits(&r.target, &granted, cx)),
        )
        .await;
        let mut outside = 0;
        let mut calls = 0;
        for (r, t) in by_name.into_iter().zip(checked) {
            calls += t.calls;
            match t.result {
                Ok(true) => admitted.push(r),
                Ok(false) => outside += 1,
                Err(e) => return Err((e, calls)),
            }
        }
        Ok((admitted, outside))
    }

    /// The job, if `ALLOWED_TARGETS` admits it (by a pattern, or by a
    /// `group:` entry after a read); else the entry that refuses it
    /// (`NOT_PERMITTED`), or that fails it when the read failed (retried
    /// like any, never run unchecked).
    pub(super) async fn outside_allowed(
        &self,
        job: Job,
        cx: &CallContext<'_>,
    ) -> Result<Job, Entry> {
        let Some(reason) = self.not_permitted(&job) else {
            return Ok(job);
        };
        let Tried { result, calls } = self.admitted_by_group(&job, cx).await;
        match result {
            Ok(true) => Ok(job),
            Ok(false) => Err(Entry::NotPermitted { job, reason }),
            Err(e) => Err(unchecked(job, e, calls)),
        }
    }

    /// Whether a `group:` entry admits a job that no other entry does: one
    /// CodeArtifact package associated with a group granted in its
    /// repository.
    async fn admitted_by_group(&self, job: &Job, cx: &CallContext<'_>) -> Tried<bool> {
        let (Some(allowed), Job::One(r)) = (self.config.allowed.as_ref(), job) else {
            return Tried::free(false);
        };
        let Target::CodeArtifact { package, .. } = &r.target else {
            return Tried::free(false);
        };
        let granted = allowed.groups_in(&package.domain, &package.repository);
        self.group_admits(&r.target, &granted, cx).await
    }

    async fn group_admits(
        &self,
        target: &Target,
        granted: &[&str],
        cx: &CallContext<'_>,
    ) -> Tried<bool> {
        match target {
            Target::CodeArtifact { package, .. } if !granted.is_empty() => {
                self.executor.in_groups(package, granted, cx).await
            }
            _ => Tried::free(false),
        }
    }
}

/// A job whose `group:` admission could not be read: each of its items
/// failed with that read's error.
fn unchecked(job: Job, e: DeleteError, calls: u32) -> Entry {
    let e = Arc::new(e);
    let items = match &job {
        Job::One(r) => crate::plan::items(r),
        _ => vec![Item::Package],
    };
    Entry::Executed(Box::new(RequestResult {
        request: job,
        outcomes: items
            .into_iter()
            .map(|i| ItemOutcome::failed(i, e.clone(), calls))
            .collect(),
        plan: None,
        package_not_found: false,
        learned: false,
        edges_written: 0,
    }))
}
