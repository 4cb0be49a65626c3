//! An explicit request (named versions, or the whole package): what is in
//! use refused (or, in a dry run, reported kept), the rest acted on.

use std::collections::HashMap;
use std::sync::Arc;

use super::{
    complete, CallContext, Done, Executed, Executor, ItemOutcome, PackageService, Revisions,
};
use crate::error::DeleteError;
use crate::plan::{self, Item, PackagePlan, Usage};
use crate::policy::KeepRule;
use crate::request::{Action, Request, Target, Verb};

impl Executor {
    /// Named versions (or the package): refused where in use, then acted
    /// on, or, in a dry run, reported.
    pub(super) async fn explicit(&self, request: &Request, cx: &CallContext<'_>) -> Executed {
        let (refused, attempts) = match self.in_use_refusals(request, cx).await {
            Ok(r) => r,
            Err((e, attempts)) => {
                let e = Arc::new(e);
                let outcomes = plan::items(request)
                    .into_iter()
                    .map(|i| ItemOutcome::failed(i, e.clone(), attempts))
                    .collect();
                return Executed::of(outcomes, None);
            }
        };
        let mut outcomes: Vec<ItemOutcome> = Vec::new();
        let mut keep = Vec::new();
        let mut rest = Vec::new();
        for item in plan::items(request) {
            match (refused.get(&item), request.dry_run) {
                (None, _) => rest.push(item),
                // A dry run reports what the real run would refuse.
                (Some(e), true) => {
                    let k = super::kept_instead(&item, e);
                    outcomes.push(ItemOutcome::kept(&k));
                    keep.push(k);
                }
                (Some(e), false) => outcomes.push(ItemOutcome::failed(item, e.clone(), attempts)),
            }
        }
        if request.dry_run {
            let plan = PackagePlan {
                package: request.target.package_label(),
                verb: request.verb,
                selected: rest.iter().map(Item::to_string).collect(),
                keep,
                ..PackagePlan::default()
            };
            outcomes.extend(
                rest.into_iter()
                    .map(|i| ItemOutcome::done(i, Done::Kept(KeepRule::DryRun), 0)),
            );
            return Executed::of(complete(request, outcomes), Some(plan));
        }
        if !rest.is_empty() {
            let narrowed = match &request.action {
                Action::Versions(_) => Request {
                    action: Action::Versions(rest.iter().map(Item::to_string).collect()),
                    ..request.clone()
                },
                _ => request.clone(),
            };
            outcomes.extend(self.apply(&narrowed, &Revisions::new(), cx).await);
        }
        Executed::of(complete(request, outcomes), None)
    }

    /// The items an IoT delete must not touch because they are (or may be)
    /// in use, each with its error. A read that fails fails every item.
    async fn in_use_refusals(
        &self,
        request: &Request,
        cx: &CallContext<'_>,
    ) -> Result<(HashMap<Item, Arc<DeleteError>>, u32), (DeleteError, u32)> {
        let Target::Iot {
            package,
            protect_in_use: true,
            ..
        } = &request.target
        else {
            return Ok((HashMap::new(), 0));
        };
        // A real run's explicit versions are checked by the adapter, each
        // beside its delete; a dry run reports them here.
        let checked_by_adapter = matches!(request.action, Action::Versions(_)) && !request.dry_run;
        if request.verb != Verb::Delete || checked_by_adapter {
            return Ok((HashMap::new(), 0));
        }
        let (versions, mut attempts) = match &request.action {
            Action::Versions(vs) => (vs.clone(), 0),
            _ => match self.iot.versions(&request.target, None, cx).await {
                (Ok(l), n) => (l.versions.into_iter().map(|v| v.name).collect(), n),
                (Err(e), n) => return Err((e, n)),
            },
        };
        let (usage, n) = self.iot.usage(package, &versions, cx).await;
        attempts += n;
        let usage = usage.map_err(|e| (e, attempts))?;
        let refusal = |version: &str, u: &Usage| match u {
            Usage::Unused => None,
            Usage::InUse(detail) => Some(DeleteError::InUse {
                package: package.clone(),
                version: version.to_owned(),
                detail: detail.clone(),
            }),
            Usage::Unknown(reason) => Some(DeleteError::InUseUnknown {
                package: package.clone(),
                version: version.to_owned(),
                reason: reason.clone(),
            }),
        };
        let mut refused = HashMap::new();
        for (v, u) in &usage {
            if let Some(e) = refusal(v, u) {
                let item = match request.action {
                    Action::Versions(_) => Item::Version(v.clone()),
                    _ => Item::Package,
                };
                refused.entry(item).or_insert_with(|| Arc::new(e));
            }
        }
        Ok((refused, attempts))
    }
}
