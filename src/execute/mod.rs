//! Executing validated requests: one adapter per service behind
//! [`PackageService`], every call through the shared [`Retrier`].

mod codeartifact;
mod iot;

use std::collections::HashMap;
use std::error::Error as StdError;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use futures::future::join_all;

pub use codeartifact::CodeArtifactAdapter;
pub use iot::{IotAdapter, IotReads};

use crate::error::DeleteError;
use crate::plan::{self, Item, KeptVersion, Listed, PackagePlan};
use crate::policy::{KeepRule, Retention};
use crate::request::{Action, PackageRef, Request, Scope, Service, Target};
use crate::retry::{classify, QuotaClass, Retrier};

/// How an item ended when it did not fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Done {
    Deleted,
    AlreadyAbsent,
    /// Kept by a rule (a policy's, or a dry run's).
    Kept(KeepRule),
}

/// One package's versions, as a policy needs them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Listing {
    pub versions: Vec<Listed>,
    /// The IoT package's default version.
    pub default_version: Option<String>,
}

/// What executing one request gave.
#[derive(Debug)]
pub struct Executed {
    pub outcomes: Vec<ItemOutcome>,
    /// For policy requests and dry runs: what was (or would be) deleted and
    /// what was kept.
    pub plan: Option<PackagePlan>,
}

/// What happened to one item.
#[derive(Debug, Clone)]
pub struct ItemOutcome {
    pub item: Item,
    pub result: Result<Done, Arc<DeleteError>>,
    /// Calls made for this item (including retries).
    pub attempts: u32,
}

impl ItemOutcome {
    pub fn done(item: Item, done: Done, attempts: u32) -> Self {
        ItemOutcome {
            item,
            result: Ok(done),
            attempts,
        }
    }

    pub fn failed(item: Item, error: Arc<DeleteError>, attempts: u32) -> Self {
        ItemOutcome {
            item,
            result: Err(error),
            attempts,
        }
    }
}

/// What every call of one invocation shares.
pub struct CallContext<'a> {
    pub retrier: &'a Retrier,
    /// What this invocation has read of IoT packages.
    pub iot_reads: &'a IotReads,
    /// The delivery's id (SQS message id, EventBridge event id or Lambda
    /// request id): idempotency tokens derive from it.
    pub source: &'a str,
}

/// One service's calls: deleting what a request names, and the listings a
/// policy needs.
pub trait PackageService {
    /// Deletes explicit versions or a whole package. Returns one outcome per
    /// item of [`plan::items`].
    fn delete(
        &self,
        request: &Request,
        cx: &CallContext<'_>,
    ) -> impl Future<Output = Vec<ItemOutcome>> + Send;

    /// Lists every version of the request's package, newest first, marking
    /// which were published before `older_than` (seconds since the epoch).
    /// A package that does not exist lists empty.
    fn versions(
        &self,
        target: &Target,
        older_than: Option<f64>,
        cx: &CallContext<'_>,
    ) -> impl Future<Output = (Result<Listing, DeleteError>, u32)> + Send;

    /// Whether `version` of the target's package is gone, read afresh (not
    /// from this invocation's listings): a delete whose answer was lost may
    /// have happened. False when the read says it exists or fails.
    fn gone(
        &self,
        target: &Target,
        version: &str,
        cx: &CallContext<'_>,
    ) -> impl Future<Output = (bool, u32)> + Send;

    /// Lists every package of a scope.
    fn packages(
        &self,
        scope: &Scope,
        cx: &CallContext<'_>,
    ) -> impl Future<Output = (Result<Vec<PackageRef>, DeleteError>, u32)> + Send;
}

/// Routes each request to its service's adapter.
#[derive(Clone, Debug)]
pub struct Executor {
    pub codeartifact: CodeArtifactAdapter,
    pub iot: IotAdapter,
}

impl Executor {
    /// Executes one request. Explicit requests get exactly one outcome per
    /// requested item, in request order; policy requests get one per listed
    /// version (or one for the package, if it could not be listed).
    pub async fn execute(&self, request: &Request, cx: &CallContext<'_>) -> Executed {
        if !cx.retrier.has_time() {
            return Executed {
                outcomes: complete(request, Vec::new()),
                plan: None,
            };
        }
        match &request.action {
            Action::Retain(retention) => self.retain(request, retention, cx).await,
            _ if request.dry_run => {
                let items = plan::items(request);
                let plan = PackagePlan {
                    package: request.target.package_label(),
                    delete: items.iter().map(Item::to_string).collect(),
                    keep: Vec::new(),
                };
                Executed {
                    outcomes: items
                        .into_iter()
                        .map(|i| ItemOutcome::done(i, Done::Kept(KeepRule::DryRun), 0))
                        .collect(),
                    plan: Some(plan),
                }
            }
            _ => Executed {
                outcomes: complete(request, self.delete(request, cx).await),
                plan: None,
            },
        }
    }

    /// Deletes, then reads again every version whose outcome is unknown.
    async fn delete(&self, request: &Request, cx: &CallContext<'_>) -> Vec<ItemOutcome> {
        let outcomes = match request.target.service() {
            Service::CodeArtifact => self.codeartifact.delete(request, cx).await,
            Service::Iot => self.iot.delete(request, cx).await,
        };
        join_all(
            outcomes
                .into_iter()
                .map(|o| self.recheck(&request.target, o, cx)),
        )
        .await
    }

    /// A version whose delete ended on errors that can strike after the
    /// service acted is read again before it is reported failed: gone means
    /// deleted (the answer was lost, not the work).
    async fn recheck(
        &self,
        target: &Target,
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
        let (gone, calls) = match target.service() {
            Service::CodeArtifact => self.codeartifact.gone(target, version, cx).await,
            Service::Iot => self.iot.gone(target, version, cx).await,
        };
        if !gone {
            return outcome;
        }
        tracing::info!(package = %target.package_label(), %version, "the delete's answer was lost; the version is gone");
        ItemOutcome::done(outcome.item, Done::Deleted, outcome.attempts + calls)
    }

    /// Lists a scope's packages.
    pub async fn packages(
        &self,
        scope: &Scope,
        cx: &CallContext<'_>,
    ) -> (Result<Vec<PackageRef>, DeleteError>, u32) {
        match scope {
            Scope::CodeArtifact { .. } => self.codeartifact.packages(scope, cx).await,
            Scope::Iot { .. } => self.iot.packages(scope, cx).await,
        }
    }

    /// List, plan, then delete what the plan selects (unless a dry run).
    async fn retain(
        &self,
        request: &Request,
        retention: &Retention,
        cx: &CallContext<'_>,
    ) -> Executed {
        let older_than = retention.policy.older_than_secs.map(|s| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default()
                .as_secs_f64()
                - s as f64
        });
        let (listing, attempts) = match request.target.service() {
            Service::CodeArtifact => {
                self.codeartifact
                    .versions(&request.target, older_than, cx)
                    .await
            }
            Service::Iot => self.iot.versions(&request.target, older_than, cx).await,
        };
        let listing = match listing {
            Ok(l) => l,
            Err(e) => {
                let e = Arc::new(e);
                return Executed {
                    outcomes: plan::items(request)
                        .into_iter()
                        .map(|item| ItemOutcome::failed(item, e.clone(), attempts))
                        .collect(),
                    plan: None,
                };
            }
        };
        let (format, unset_default) = match &request.target {
            Target::CodeArtifact { package, .. } => (Some(package.format), false),
            Target::Iot {
                unset_default_version,
                ..
            } => (None, *unset_default_version),
        };
        let (delete, keep) = plan::retention(
            &listing.versions,
            listing.default_version.as_deref(),
            retention,
            format,
            unset_default,
            retention.max_deletions,
        );
        let (delete, keep, absent) = match &retention.only {
            Some(only) => plan::narrow(&listing.versions, delete, keep, only),
            None => (delete, keep, Vec::new()),
        };
        let mut outcomes: Vec<ItemOutcome> = absent
            .into_iter()
            .map(|v| ItemOutcome::done(Item::Version(v), Done::AlreadyAbsent, 0))
            .collect();
        outcomes.extend(keep.iter().map(|k: &KeptVersion| {
            ItemOutcome::done(Item::Version(k.version.clone()), Done::Kept(k.rule), 0)
        }));
        if request.dry_run {
            outcomes.extend(delete.iter().map(|v| {
                ItemOutcome::done(Item::Version(v.clone()), Done::Kept(KeepRule::DryRun), 0)
            }));
        } else if !delete.is_empty() {
            let explicit = Request {
                target: request.target.clone(),
                action: Action::Versions(delete.clone()),
                attempt: request.attempt,
                dry_run: false,
            };
            outcomes.extend(complete(&explicit, self.delete(&explicit, cx).await));
        }
        Executed {
            outcomes,
            plan: Some(PackagePlan {
                package: request.target.package_label(),
                delete,
                keep,
            }),
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

/// Pages through a listing. `call` fetches the page after a token (each
/// page through the retrier); `take` consumes a page and returns the next
/// token. Returns the attempts made.
pub(crate) async fn paginate<P, F, Fut>(
    cx: &CallContext<'_>,
    class: QuotaClass,
    mut call: F,
    mut take: impl FnMut(P) -> Option<String>,
) -> (Result<(), DeleteError>, u32)
where
    F: FnMut(Option<String>) -> Fut,
    Fut: Future<Output = Result<P, DeleteError>>,
{
    let mut token: Option<String> = None;
    let mut attempts = 0;
    loop {
        let (page, n) = cx.retrier.run(class, || call(token.clone())).await;
        attempts += n;
        match page.map(&mut take) {
            Err(e) => return (Err(e), attempts),
            Ok(Some(next)) if !next.is_empty() => token = Some(next),
            Ok(_) => return (Ok(()), attempts),
        }
    }
}

/// Wraps an SDK error, keeping it whole as the source.
pub(crate) fn api_error<E>(
    service: Service,
    operation: &'static str,
    err: SdkError<E, HttpResponse>,
    hint: Option<Duration>,
) -> DeleteError
where
    E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
{
    let (class, code) = classify(&err, hint);
    DeleteError::Api {
        service,
        operation,
        code,
        class,
        source: Box::new(err),
    }
}

/// A deterministic idempotency token: the same delivery, operation and
/// resource always give the same UUID (v5), so a retried call is recognised
/// as the same call.
pub fn client_token(source: &str, operation: &str, package: &str, version: &str) -> String {
    const NAMESPACE: uuid::Uuid = uuid::Uuid::from_u128(0x6f1c_2a8e_5b7d_4c3a_9e21_7d0b_4f6a_1c55);
    uuid::Uuid::new_v5(
        &NAMESPACE,
        format!("{source}\u{1f}{operation}\u{1f}{package}\u{1f}{version}").as_bytes(),
    )
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_tokens_are_deterministic_and_fit_the_model() {
        let a = client_token("msg-1", "DeletePackageVersion", "fw", "1.0");
        assert_eq!(
            a,
            client_token("msg-1", "DeletePackageVersion", "fw", "1.0")
        );
        assert_ne!(
            a,
            client_token("msg-2", "DeletePackageVersion", "fw", "1.0")
        );
        assert_ne!(
            a,
            client_token("msg-1", "DeletePackageVersion", "fw", "1.1")
        );
        assert!((36..=64).contains(&a.len()));
    }
}
