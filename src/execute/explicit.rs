//! An explicit request (named versions, or the whole package): what is in
//! use refused, the rest acted on. A dry run reads what the real run would
//! find (the package's listing, what is in use) and plans only what
//! exists: an absent version is `alreadyAbsent`, a missing package
//! `packagesNotFound`, as the real run reports them.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use super::{complete, CallContext, Done, Executed, Executor, ItemOutcome, Listing, Revisions};
use crate::error::DeleteError;
use crate::plan::{self, Item, KeptVersion, PackagePlan, Usage};
use crate::policy::KeepRule;
use crate::request::{Action, InUseCheck, Request, Status, Target, Verb};
use crate::retry::Tried;

/// A dry run's named items against the package's listing: those the
/// listing does not hold (absent), those the real call would refuse for
/// their status (kept as `expectedStatus`), and the rest. Pure.
fn sort_named(request: &Request, listing: &Listing) -> (Vec<Item>, Vec<KeptVersion>, Vec<Item>) {
    let expected = match &request.target {
        Target::CodeArtifact {
            expected_status, ..
        } => expected_status.as_ref(),
        Target::Iot { .. } => None,
    };
    let (mut absent, mut keep, mut rest) = (Vec::new(), Vec::new(), Vec::new());
    for item in plan::items(request) {
        let Item::Version(v) = &item else {
            rest.push(item);
            continue;
        };
        match (listing.versions.iter().find(|l| &l.name == v), expected) {
            (None, _) => absent.push(item),
            (Some(l), Some(e)) if Status::CodeArtifact(e.clone()) != l.status => keep.push(KeptVersion {
                version: v.clone(),
                rule: KeepRule::ExpectedStatus,
                detail: Some(format!(
                    "its status is {}, not the expected {e}: the call would refuse it (MISMATCHED_STATUS)",
                    l.status
                )),
            }),
            (Some(_), _) => rest.push(item),
        }
    }
    (absent, keep, rest)
}

/// Every item of the request failed alike (its reads did).
fn failed_all(request: &Request, e: DeleteError, attempts: u32) -> Executed {
    let e = Arc::new(e);
    let outcomes = plan::items(request)
        .into_iter()
        .map(|i| ItemOutcome::failed(i, e.clone(), attempts))
        .collect();
    Executed::of(outcomes, None)
}

impl Executor {
    /// Named versions (or the package): refused where in use, then acted
    /// on, or, in a dry run, planned ([`Executor::explicit_dry`]).
    pub(super) async fn explicit(&self, request: &Request, cx: &CallContext<'_>) -> Executed {
        if request.dry_run {
            return self.explicit_dry(request, cx).await;
        }
        let Tried {
            result: refused,
            calls: attempts,
        } = self.in_use_refusals(request, cx).await;
        let refused = match refused {
            Ok(r) => r,
            Err(e) => return failed_all(request, e, attempts),
        };
        let mut outcomes: Vec<ItemOutcome> = Vec::new();
        let mut rest = Vec::new();
        for item in plan::items(request) {
            match refused.get(&item) {
                None => rest.push(item),
                Some(e) => outcomes.push(ItemOutcome::failed(item, e.clone(), attempts)),
            }
        }
        if !rest.is_empty() {
            let narrowed = match &request.action {
                Action::Versions(_) => Request {
                    action: Action::Versions(rest.iter().map(Item::to_string).collect()),
                    ..request.clone()
                },
                _ => request.clone(),
            };
            let mut acted = self.apply(&narrowed, &Revisions::new(), cx).await;
            self.note_in_use(request, &mut acted, cx).await;
            outcomes.extend(acted);
        }
        Executed::of(complete(request, outcomes), None)
    }

    /// A dry run of named versions (or the package): the package listed as
    /// the real run's settling reads it; each named version planned if it
    /// is there, `alreadyAbsent` if not, kept as `expectedStatus` if its
    /// status is not the one the request expects (the real call would
    /// refuse it), and, for an IoT delete, kept if in use; the whole
    /// request `packagesNotFound` if the package is not there.
    async fn explicit_dry(&self, request: &Request, cx: &CallContext<'_>) -> Executed {
        let Tried {
            result: listing,
            calls: attempts,
        } = match &request.target {
            Target::CodeArtifact { package, .. } => {
                self.codeartifact.versions(package, None, cx).await
            }
            Target::Iot { package, .. } => self.iot.versions(package, None, cx).await,
        };
        let listing = match listing {
            Ok(l) => l,
            Err(e) => return failed_all(request, e, attempts),
        };
        if listing.missing {
            let outcomes = plan::items(request)
                .into_iter()
                .map(|i| ItemOutcome::package_not_found(i, attempts))
                .collect();
            return Executed::of(outcomes, None);
        }
        let (absent, mut keep, rest) = sort_named(request, &listing);
        let mut outcomes: Vec<ItemOutcome> = absent
            .into_iter()
            .map(|i| ItemOutcome::done(i, Done::AlreadyAbsent, attempts))
            .collect();
        outcomes.extend(keep.iter().map(ItemOutcome::kept));
        let dry = self.in_use_dry(request, &listing, rest, cx).await;
        let (rest, in_use) = match dry.result {
            Ok(r) => r,
            Err(e) => return failed_all(request, e, attempts + dry.calls),
        };
        outcomes.extend(in_use.iter().map(ItemOutcome::kept));
        keep.extend(in_use);
        let mut planned: Vec<ItemOutcome> = rest
            .iter()
            .map(|i| ItemOutcome::done(i.clone(), Done::Kept(KeepRule::DryRun), 0))
            .collect();
        self.note_in_use(request, &mut planned, cx).await;
        outcomes.extend(planned);
        let plan = PackagePlan {
            package: request.target.package_label(),
            verb: request.verb,
            selected: rest.iter().map(Item::to_string).collect(),
            keep,
            ..PackagePlan::of_listing(&listing.versions)
        };
        Executed::of(complete(request, outcomes), Some(plan))
    }

    /// A dry run's IoT delete with `protectInUse`: of `items`, those in use
    /// (or that may be) are kept instead, saying where; for
    /// `deletePackage`, the package is kept if any version is. Returns the
    /// rest and what is kept.
    async fn in_use_dry(
        &self,
        request: &Request,
        listing: &Listing,
        items: Vec<Item>,
        cx: &CallContext<'_>,
    ) -> Tried<(Vec<Item>, Vec<KeptVersion>)> {
        let Target::Iot {
            package,
            in_use: InUseCheck::Check,
            ..
        } = &request.target
        else {
            return Tried::free((items, Vec::new()));
        };
        if request.verb != Verb::Delete || items.is_empty() {
            return Tried::free((items, Vec::new()));
        }
        let versions: Vec<String> = match &request.action {
            Action::DeletePackage => listing.versions.iter().map(|l| l.name.clone()).collect(),
            _ => items.iter().map(Item::to_string).collect(),
        };
        let read = self.iot.usage(package, &versions, cx).await;
        read.map(|usage| in_use_kept(items, &usage))
    }
}

/// A dry run's items split by what is in use: the rest, and those kept
/// (`IN_USE`, `IN_USE_UNKNOWN`), saying where.
fn in_use_kept(items: Vec<Item>, usage: &BTreeMap<String, Usage>) -> (Vec<Item>, Vec<KeptVersion>) {
    let mut rest = Vec::with_capacity(items.len());
    let mut keep = Vec::new();
    for item in items {
        let found = match &item {
            Item::Version(v) => usage.get(v).map(|u| (v.clone(), u)),
            Item::Package => usage
                .iter()
                .find(|(_, u)| !matches!(u, Usage::Unused))
                .map(|(v, u)| (v.clone(), u)),
        };
        let (rule, detail) = match found {
            Some((v, Usage::InUse(d))) => (KeepRule::InUse, format!("{v}: {d}")),
            Some((v, Usage::Unknown(d))) => (KeepRule::InUseUnknown, format!("{v}: {d}")),
            _ => {
                rest.push(item);
                continue;
            }
        };
        let detail = match item {
            Item::Version(_) => detail
                .split_once(": ")
                .map_or(detail.clone(), |(_, d)| d.to_owned()),
            Item::Package => detail,
        };
        keep.push(KeptVersion {
            version: item.to_string(),
            rule,
            detail: Some(detail),
        });
    }
    (rest, keep)
}

impl Executor {
    /// An IoT deprecation with `protectInUse` deprecates what is in use all
    /// the same: deprecating removes nothing, jobs can still deploy the
    /// version, and operators deprecate what devices run to say "move off
    /// it". Each deprecated (or, dry, planned) version in use says so in
    /// its detail (`in use: installed on 2 things`); one whose use cannot
    /// be read says that. Returns the calls made.
    pub(super) async fn note_in_use(
        &self,
        request: &Request,
        outcomes: &mut [ItemOutcome],
        cx: &CallContext<'_>,
    ) -> u32 {
        let Target::Iot {
            package,
            in_use: InUseCheck::Check,
            ..
        } = &request.target
        else {
            return 0;
        };
        let noted = |o: &ItemOutcome| {
            matches!(
                o.result,
                Ok(Done::Deprecated | Done::Kept(KeepRule::DryRun))
            )
        };
        let versions: Vec<String> = outcomes
            .iter()
            .filter(|o| noted(o))
            .map(|o| o.item.to_string())
            .collect();
        if request.verb != Verb::Deprecate || versions.is_empty() {
            return 0;
        }
        let Tried {
            result: usage,
            calls: n,
        } = self.iot.usage(package, &versions, cx).await;
        for o in outcomes.iter_mut().filter(|o| noted(o)) {
            let version = o.item.to_string();
            o.detail = match &usage {
                Err(e) => Some(format!(
                    "whether it is in use could not be read: {}",
                    e.chain()
                )),
                Ok(u) => match u.get(&version) {
                    Some(Usage::InUse(d)) => Some(format!("in use: {d}")),
                    Some(Usage::Unknown(d)) => {
                        Some(format!("whether it is in use is unknown: {d}"))
                    }
                    _ => o.detail.take(),
                },
            };
        }
        n
    }

    /// The items an IoT delete must not touch because they are (or may be)
    /// in use, each with its error. A read that fails fails every item.
    async fn in_use_refusals(
        &self,
        request: &Request,
        cx: &CallContext<'_>,
    ) -> Tried<HashMap<Item, Arc<DeleteError>>> {
        let Target::Iot {
            package,
            in_use: InUseCheck::Check,
            ..
        } = &request.target
        else {
            return Tried::free(HashMap::new());
        };
        // Explicit versions are checked by the adapter, each beside its
        // delete; the whole package is checked here, first.
        if request.verb != Verb::Delete || matches!(request.action, Action::Versions(_)) {
            return Tried::free(HashMap::new());
        }
        let listed = self.iot.versions(package, None, cx).await;
        listed
            .and(|l| async move {
                let versions: Vec<String> = l.versions.into_iter().map(|v| v.name).collect();
                let usage = self.iot.usage(package, &versions, cx).await;
                usage.map(|usage| package_refusal(package, usage))
            })
            .await
    }
}

/// The whole package's delete is refused by its first version in use (or
/// whose use is unknown), with that version's error.
fn package_refusal(
    package: &str,
    usage: BTreeMap<String, Usage>,
) -> HashMap<Item, Arc<DeleteError>> {
    let names: Vec<String> = usage.keys().cloned().collect();
    let usage = Ok(usage);
    names
        .iter()
        .find_map(|v| super::iot::refusal(package, v, &usage))
        .map(|e| HashMap::from([(Item::Package, e)]))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Listed;
    use crate::request::RawRequest;

    fn listed(name: &str, status: &str) -> Listed {
        Listed::new(name, 0)
            .status(Status::named(status).expect("a status"))
            .revision(format!("rev-{name}"))
    }

    #[test]
    fn a_dry_run_sorts_named_versions_as_the_real_call_would_answer_them() {
        let request: RawRequest = serde_json::from_value(serde_json::json!({
            "service": "codeartifact", "domain": "acme", "repository": "rel", "format": "npm",
            "package": "web", "versions": ["1.0.0", "1.1.0", "9.9.9"], "expectedStatus": "Unlisted"
        }))
        .unwrap();
        let request = request.validate().unwrap();
        let listing = Listing {
            versions: vec![listed("1.0.0", "Unlisted"), listed("1.1.0", "Published")],
            ..Listing::default()
        };
        let (absent, keep, rest) = sort_named(&request, &listing);
        assert_eq!(absent, [Item::Version("9.9.9".into())]);
        assert_eq!(rest, [Item::Version("1.0.0".into())]);
        assert_eq!(keep.len(), 1);
        assert_eq!(
            (keep[0].version.as_str(), keep[0].rule),
            ("1.1.0", KeepRule::ExpectedStatus)
        );
        assert!(keep[0]
            .detail
            .as_deref()
            .unwrap()
            .contains("its status is Published, not the expected Unlisted"));
        // Without `expectedStatus`, every listed version is planned.
        let mut any = request.clone();
        if let Target::CodeArtifact {
            expected_status, ..
        } = &mut any.target
        {
            *expected_status = None;
        }
        let (_, keep, rest) = sort_named(&any, &listing);
        assert!(keep.is_empty());
        assert_eq!(rest.len(), 2);
    }
}
