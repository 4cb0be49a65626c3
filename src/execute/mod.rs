//! Executing validated requests: one adapter per service, each taking only
//! its own service's types ([`Act`] says what to do), every call through
//! the shared [`Retrier`].
//! Policies are listed, planned and protected in [`retain`].

mod archives;
mod calls;
mod codeartifact;
mod dependencies;
mod downloads;
pub(crate) use downloads::package_key;
mod explicit;
mod groups;
mod inuse;
mod iot;
mod retain;
mod storage;
#[cfg(test)]
mod testing;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use futures::future::join_all;

pub(crate) use calls::client_token;
use calls::not_found;
pub(crate) use calls::{api_error, paginate};
pub(crate) use codeartifact::{CodeArtifactAdapter, PackagesQuery};
pub(crate) use inuse::{learning, Memory};
pub(crate) use iot::{IotAdapter, IotReads};
pub(crate) use storage::DomainReads;

use crate::error::DeleteError;
use crate::plan::{self, Item, KeptVersion, Listed, PackagePlan};
use crate::policy::KeepRule;
use crate::request::{Action, PackageRef, Request, Scope, Target, Verb};
use crate::retry::Retrier;
use crate::retry::Tried;

/// How an item ended when it did not fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Done {
    Deleted,
    AlreadyAbsent,
    Archived,
    Unlisted,
    Deprecated,
    /// Kept by a rule (a policy's, a protection's, or a dry run's).
    Kept(KeepRule),
    /// Its entry in the index of dependencies was made (a backfill).
    Indexed,
}

impl Done {
    /// What a successful action did.
    pub(crate) fn applied(verb: Verb) -> Done {
        match verb {
            Verb::Delete => Done::Deleted,
            Verb::Archive => Done::Archived,
            Verb::Unlist => Done::Unlisted,
            Verb::Deprecate => Done::Deprecated,
        }
    }
}

/// The `detail` of a version reported `alreadyAbsent` because its whole
/// package (or namespace) does not exist: a typo in a request is visible,
/// and counted in `packagesNotFound`.
pub(crate) const PACKAGE_NOT_FOUND: &str = "package not found";

/// The `detail` of a `packageGroup` scope whose group does not exist: it
/// deletes nothing, and counts in `packagesNotFound`.
pub(crate) const PACKAGE_GROUP_NOT_FOUND: &str = "package group not found";

/// One package's versions, as a policy needs them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Listing {
    pub(crate) versions: Vec<Listed>,
    /// The IoT package's default version.
    pub(crate) default_version: Option<String>,
    /// The package does not exist (the listing is empty for that reason).
    pub(crate) missing: bool,
}

/// What executing one request gave.
#[derive(Debug)]
pub(crate) struct Executed {
    pub(crate) outcomes: Vec<ItemOutcome>,
    /// For policy requests and dry runs: what was (or would be) changed and
    /// what was kept.
    pub(crate) plan: Option<PackagePlan>,
    /// The request's package does not exist.
    pub(crate) package_not_found: bool,
}

impl Executed {
    /// A request the cut-off came before: every item out of time, no call
    /// made.
    pub(crate) fn not_started(request: &Request) -> Self {
        let late = Arc::new(DeleteError::OutOfTime { last: None });
        let outcomes = plan::items(request)
            .into_iter()
            .map(|item| ItemOutcome::failed(item, late.clone(), 0))
            .collect();
        Executed::of(outcomes, None)
    }

    /// The outcomes (and plan) of a request; the package counts as not
    /// found when an outcome says so.
    pub(crate) fn of(outcomes: Vec<ItemOutcome>, plan: Option<PackagePlan>) -> Self {
        let package_not_found = outcomes.iter().any(|o| {
            matches!(
                o.detail.as_deref(),
                Some(PACKAGE_NOT_FOUND | PACKAGE_GROUP_NOT_FOUND)
            )
        });
        Executed {
            outcomes,
            plan,
            package_not_found,
        }
    }
}

/// What happened to one item.
#[derive(Debug, Clone)]
pub struct ItemOutcome {
    pub item: Item,
    pub result: Result<Done, Arc<DeleteError>>,
    /// Calls made for this item (including retries).
    pub attempts: u32,
    /// Where a kept version is in use (or why that is unknown).
    pub detail: Option<String>,
}

impl ItemOutcome {
    /// The same outcome, with `earlier` calls made before it counted in.
    pub(crate) fn after(mut self, earlier: u32) -> Self {
        self.attempts += earlier;
        self
    }

    pub(crate) fn done(item: Item, done: Done, attempts: u32) -> Self {
        ItemOutcome {
            item,
            result: Ok(done),
            attempts,
            detail: None,
        }
    }

    pub(crate) fn failed(item: Item, error: Arc<DeleteError>, attempts: u32) -> Self {
        ItemOutcome {
            item,
            result: Err(error),
            attempts,
            detail: None,
        }
    }

    /// An item whose package does not exist: absent, saying so.
    pub(crate) fn package_not_found(item: Item, attempts: u32) -> Self {
        ItemOutcome {
            detail: Some(PACKAGE_NOT_FOUND.to_owned()),
            ..ItemOutcome::done(item, Done::AlreadyAbsent, attempts)
        }
    }

    /// A scope whose package group does not exist: absent, saying so.
    pub(crate) fn group_not_found(attempts: u32) -> Self {
        ItemOutcome {
            detail: Some(PACKAGE_GROUP_NOT_FOUND.to_owned()),
            ..ItemOutcome::done(Item::Package, Done::AlreadyAbsent, attempts)
        }
    }

    /// A version a plan kept.
    pub(crate) fn kept(k: &KeptVersion) -> Self {
        ItemOutcome {
            detail: k.detail.clone(),
            ..ItemOutcome::done(Item::Version(k.version.clone()), Done::Kept(k.rule), 0)
        }
    }
}

/// What every call of one invocation shares.
pub(crate) struct CallContext<'a> {
    pub(crate) retrier: &'a Retrier,
    /// What this invocation has read of IoT packages, the fleet index's
    /// configuration and the unfinished jobs.
    pub(crate) iot_reads: &'a IotReads,
    /// What this invocation has read of CodeArtifact domains.
    pub(crate) domain_reads: &'a DomainReads,
    /// The delivery's id (SQS message id, EventBridge event id or Lambda
    /// request id): idempotency tokens derive from it.
    pub(crate) source: &'a str,
    /// The function's own account (from its ARN): the domain owner of a
    /// CodeArtifact request that names none.
    pub(crate) account: Option<&'a str>,
}

/// CodeArtifact revisions by version: a status change of a planned version
/// applies only if the version is still what was planned.
pub(crate) type Revisions = BTreeMap<String, String>;

/// What an adapter is asked to do to one package: a request's action once
/// the executor has planned its policy (a policy reaches an adapter as the
/// versions it selected).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Act<'a> {
    /// The request's verb, on these versions.
    Versions(&'a [String]),
    /// Delete the whole package.
    DeletePackage,
}

impl<'a> Act<'a> {
    /// The act of a request's action; `None` for a policy, which the
    /// executor plans first.
    fn of(action: &'a Action) -> Option<Act<'a>> {
        match action {
            Action::Versions(versions) => Some(Act::Versions(versions)),
            Action::DeletePackage => Some(Act::DeletePackage),
            Action::Retain(_) => None,
        }
    }
}

/// Routes each request to its service's adapter.
#[derive(Clone, Debug)]
pub(crate) struct Executor {
    pub(crate) codeartifact: CodeArtifactAdapter,
    pub(crate) iot: IotAdapter,
    /// The downloads table (`DOWNLOADS_TABLE`), for `notDownloadedForDays`.
    pub(crate) downloads: Option<Arc<crate::downloads::DownloadStore>>,
    /// The index of dependencies (the same table), for
    /// `protectDependencies`.
    pub(crate) dependencies: Option<Arc<crate::downloads::DependencyTable>>,
}

impl Executor {
    /// Executes one request. Explicit requests get exactly one outcome per
    /// requested item, in request order; policy requests get one per listed
    /// version (or one for the package, if it could not be listed).
    pub(crate) async fn execute(&self, request: &Request, cx: &CallContext<'_>) -> Executed {
        if !cx.retrier.has_time() {
            return Executed::of(complete(request, Vec::new()), None);
        }
        match &request.action {
            Action::Retain(retention) => self.retain(request, retention, cx).await,
            _ => self.explicit(request, cx).await,
        }
    }

    /// Acts, then reads again every version whose outcome is unknown.
    async fn apply(
        &self,
        request: &Request,
        revisions: &Revisions,
        cx: &CallContext<'_>,
    ) -> Vec<ItemOutcome> {
        let Some(act) = Act::of(&request.action) else {
            return Vec::new();
        };
        let outcomes = match &request.target {
            Target::CodeArtifact {
                package,
                expected_status,
            } => {
                let how = (request.verb, expected_status.as_ref());
                self.codeartifact
                    .apply(package, how, act, revisions, cx)
                    .await
            }
            Target::Iot {
                package,
                unset_default_version,
                in_use,
            } => {
                let how = (request.verb, *unset_default_version, *in_use);
                self.iot.apply(package, how, act, cx).await
            }
        };
        let mut outcomes = join_all(
            outcomes
                .into_iter()
                .map(|o| self.recheck(&request.target, request.verb, o, cx)),
        )
        .await;
        self.record_archives(request, &mut outcomes, cx).await;
        if let Target::CodeArtifact { package, .. } = &request.target {
            let deleted = outcomes.iter().filter_map(|o| match (&o.item, &o.result) {
                (Item::Version(v), Ok(Done::Deleted)) => Some(v.clone()),
                _ => None,
            });
            self.forget(package, deleted.collect(), cx).await;
        }
        outcomes
    }

    /// A version whose call ended on errors that can strike after the
    /// service acted is read again before it is reported failed: if the
    /// read shows the action done, it was (the answer was lost, not the
    /// work).
    async fn recheck(
        &self,
        target: &Target,
        verb: Verb,
        outcome: ItemOutcome,
        cx: &CallContext<'_>,
    ) -> ItemOutcome {
        let Item::Version(version) = &outcome.item else {
            return outcome;
        };
        match &outcome.result {
            Err(e) if e.outcome_unknown() => {}
            _ => return outcome,
        }
        let Tried {
            result: settled,
            calls,
        } = match target {
            Target::CodeArtifact { package, .. } => {
                self.codeartifact.settled(package, version, verb, cx).await
            }
            Target::Iot { package, .. } => self.iot.settled(package, version, verb, cx).await,
        };
        // A read that fails settles nothing.
        let Ok(Some(done)) = settled else {
            return outcome;
        };
        tracing::info!(package = %target.package_label(), %version, action = %verb, "the call's answer was lost; the read shows it done");
        ItemOutcome::done(outcome.item, done, outcome.attempts + calls)
    }

    /// Lists a scope's packages; `None` when the scope is a package group
    /// that does not exist.
    pub(crate) async fn packages(
        &self,
        scope: &Scope,
        cx: &CallContext<'_>,
    ) -> Tried<Option<Vec<PackageRef>>> {
        match scope {
            Scope::CodeArtifact {
                domain,
                domain_owner,
                repository,
                format,
                namespace,
                prefix,
                package_group,
            } => {
                let query = codeartifact::PackagesQuery {
                    domain,
                    domain_owner: domain_owner.as_deref(),
                    repository,
                    format: *format,
                    namespace: namespace.as_deref(),
                    prefix: prefix.as_deref(),
                };
                match package_group {
                    Some(pattern) => self.group_packages(query, pattern, cx).await,
                    None => self.codeartifact.packages(query, cx).await.map(Some),
                }
            }
            Scope::Iot { prefix } => self.iot.packages(prefix.as_deref(), cx).await.map(Some),
        }
    }
}

/// Exactly one outcome per item of an explicit request, in request order;
/// an item the adapter did not reach is out of time.
fn complete(request: &Request, outcomes: Vec<ItemOutcome>) -> Vec<ItemOutcome> {
    let mut by_item: HashMap<Item, ItemOutcome> =
        outcomes.into_iter().map(|o| (o.item.clone(), o)).collect();
    let out_of_time = Arc::new(DeleteError::OutOfTime { last: None });
    plan::items(request)
        .into_iter()
        .map(|item| {
            by_item
                .remove(&item)
                .unwrap_or_else(|| ItemOutcome::failed(item, out_of_time.clone(), 0))
        })
        .collect()
}

/// What a dry run reports for an item the real run would refuse as in use.
fn kept_instead(item: &Item, e: &DeleteError) -> KeptVersion {
    let (rule, detail) = match e {
        DeleteError::InUse { detail, .. } => (KeepRule::InUse, detail.clone()),
        DeleteError::InUseUnknown { reason, .. } => (KeepRule::InUseUnknown, reason.clone()),
        other => (KeepRule::InUse, other.to_string()),
    };
    KeptVersion {
        version: item.to_string(),
        rule,
        detail: Some(detail),
    }
}
