//! Whether IoT package versions are in use: installed on things, as fleet
//! indexing reports the reserved named shadow `$package`, or named by a job
//! that is not finished. Read-only calls, all through the retrier.
//!
//! - GetIndexingConfiguration, at most once per invocation and once in
//!   [`memory::INDEXING_TRUST`] per execution environment: without
//!   `$package` indexed, a search silently finds nothing, so an empty
//!   answer proves nothing and the usage is unknown (the caller fails
//!   closed).
//! - ListJobs (`IN_PROGRESS`, then `SCHEDULED`), at most once per
//!   invocation and once in [`memory::LISTING_TRUST`] per environment, and
//!   DescribeJob only for jobs not seen before ([`memory`]): the jobs'
//!   `destinationPackageVersions`.
//! - SearchIndex on `AWS_Things`, one per version asked about:
//!   `shadow.name.$package.reported.<package>.version:"<version>"`.
//!
//! This module holds what the answers mean (pure, tested here) and the
//! per-invocation caches; [`reader`] makes the calls.

mod memory;
mod reader;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use aws_sdk_iot::types::{NamedShadowIndexingMode, ThingIndexingMode};
use tokio::sync::OnceCell;

pub(crate) use memory::{Described, JobRef, Memory};
pub(crate) use reader::{InUseReader, MOST_TERMS};

use crate::plan::Usage;

tokio::task_local! {
    static LEARNED_HERE: std::cell::Cell<u32>;
}

/// Runs `fut` (one request), also returning how many facts its own calls
/// learned and kept for the next invocation (jobs described, a
/// configuration read): its progress, though nothing of it settled. A
/// request that only waited for what another learned learned nothing.
pub(crate) async fn learning<F: std::future::Future>(fut: F) -> (F::Output, u32) {
    LEARNED_HERE
        .scope(std::cell::Cell::new(0), async {
            let out = fut.await;
            (out, LEARNED_HERE.with(std::cell::Cell::get))
        })
        .await
}

/// The reserved named shadow the software package catalog reports in.
const PACKAGE_SHADOW: &str = "$package";

/// Whether fleet indexing indexes `$package`; if not, why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Indexing {
    Package,
    Missing(String),
}

/// Unfinished jobs by the (package, version) they deploy.
pub(crate) type JobIndex = BTreeMap<(String, String), BTreeSet<String>>;

/// What one invocation has read once for every usage check: the fleet
/// index's configuration and the unfinished jobs. A read that failed is not
/// kept: the next check tries again.
#[derive(Debug, Default)]
pub(crate) struct UsageReads {
    /// Whether fleet indexing indexes `$package`.
    indexing: OnceCell<Indexing>,
    /// The unfinished jobs' package versions.
    jobs: OnceCell<Arc<JobIndex>>,
    /// What outlives the invocation.
    memory: Arc<Memory>,
    /// Whether what is learned is written to the table (not by
    /// packprune-cli).
    writes: bool,
}

impl UsageReads {
    pub(crate) fn new(memory: Arc<Memory>, writes: bool) -> Self {
        UsageReads {
            memory,
            writes,
            ..UsageReads::default()
        }
    }

    /// Facts learned and kept for the next invocation, credited to the
    /// request whose calls learned them ([`learning`]).
    fn learn(&self, n: u32) {
        let _ = LEARNED_HERE.try_with(|c| c.set(c.get() + n));
    }
}

/// The (package, version) a package-version ARN names:
/// `arn:aws:iot:<region>:<account>:package/<name>/version/<version>`.
pub(crate) fn package_version_of(arn: &str) -> Option<(String, String)> {
    let resource = arn.splitn(6, ':').nth(5)?;
    let rest = resource.strip_prefix("package/")?;
    let (name, version) = rest.split_once("/version/")?;
    (!name.is_empty() && !version.is_empty() && !version.contains('/'))
        .then(|| (name.to_owned(), version.to_owned()))
}

/// The fleet-indexing query for things that report `version` of `package`,
/// or why none can be written: a field path is split at dots, so a package
/// name holding one cannot be addressed.
pub(crate) fn installed_query(package: &str, version: &str) -> Result<String, String> {
    if package.contains('.') {
        return Err(format!(
            "the package name {package:?} holds a dot, which a fleet-indexing field path cannot hold"
        ));
    }
    // IoT version names are [a-zA-Z0-9_.-]+: quoting keeps a `-` from
    // reading as an exclusion.
    Ok(format!(
        "shadow.name.{PACKAGE_SHADOW}.reported.{package}.version:\"{version}\""
    ))
}

/// Combines what the reads found about one version.
pub(crate) fn usage_of(
    things: Result<(usize, bool), String>,
    jobs: Option<&BTreeSet<String>>,
) -> Usage {
    let mut places = Vec::new();
    match &things {
        Ok((0, _)) | Err(_) => {}
        Ok((n, more)) => places.push(format!(
            "installed on {}{n} thing{}",
            if *more { "at least " } else { "" },
            if *n == 1 && !more { "" } else { "s" }
        )),
    }
    if let Some(jobs) = jobs.filter(|j| !j.is_empty()) {
        let ids: Vec<&str> = jobs.iter().map(String::as_str).collect();
        places.push(format!("named by unfinished job {}", ids.join(", ")));
    }
    match things {
        _ if !places.is_empty() => Usage::InUse(places.join("; ")),
        Err(why) => Usage::Unknown(why),
        Ok(_) => Usage::Unused,
    }
}

/// What GetIndexingConfiguration says of `$package`.
fn indexing_of(config: Option<&aws_sdk_iot::types::ThingIndexingConfiguration>) -> Indexing {
    let Some(c) = config else {
        return Indexing::Missing("fleet indexing reports no thing indexing configuration".into());
    };
    if *c.thing_indexing_mode() == ThingIndexingMode::Off {
        return Indexing::Missing("fleet indexing is off (thingIndexingMode OFF)".into());
    }
    if c.named_shadow_indexing_mode() != Some(&NamedShadowIndexingMode::On) {
        return Indexing::Missing(
            "fleet indexing does not index named shadows (namedShadowIndexingMode is not ON)"
                .into(),
        );
    }
    let names = c
        .filter()
        .map(|f| f.named_shadow_names())
        .unwrap_or_default();
    if !names.iter().any(|n| n == PACKAGE_SHADOW) {
        return Indexing::Missing(
            "fleet indexing does not index the named shadow $package (filter.namedShadowNames)"
                .into(),
        );
    }
    Indexing::Package
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_version_arns_are_read() {
        assert_eq!(
            package_version_of("arn:aws:iot:us-east-1:111122223333:package/fw/version/1.2.0"),
            Some(("fw".into(), "1.2.0".into()))
        );
        assert_eq!(
            package_version_of("arn:aws:iot:us-east-1:1:package/fw"),
            None
        );
        assert_eq!(package_version_of("arn:aws:iot:us-east-1:1:thing/fw"), None);
        assert_eq!(package_version_of("nonsense"), None);
    }

    #[test]
    fn queries_quote_the_version_and_refuse_dotted_packages() {
        assert_eq!(
            installed_query("fw", "1.0-rc1").unwrap(),
            "shadow.name.$package.reported.fw.version:\"1.0-rc1\""
        );
        assert!(installed_query("my.fw", "1").unwrap_err().contains("dot"));
    }

    #[test]
    fn usage_says_where_and_fails_closed() {
        let jobs: BTreeSet<String> = ["rollout-7".to_owned()].into();
        assert_eq!(usage_of(Ok((0, false)), None), Usage::Unused);
        assert_eq!(
            usage_of(Ok((3, false)), None),
            Usage::InUse("installed on 3 things".into())
        );
        assert_eq!(
            usage_of(Ok((100, true)), Some(&jobs)),
            Usage::InUse(
                "installed on at least 100 things; named by unfinished job rollout-7".into()
            )
        );
        // A job proves use even when the index cannot be read.
        assert!(matches!(
            usage_of(Err("off".into()), Some(&jobs)),
            Usage::InUse(_)
        ));
        assert_eq!(
            usage_of(Err("off".into()), None),
            Usage::Unknown("off".into())
        );
    }

    #[test]
    fn only_an_indexed_package_shadow_counts() {
        use aws_sdk_iot::types::{IndexingFilter, ThingIndexingConfiguration};
        let config =
            |mode: ThingIndexingMode, named: Option<NamedShadowIndexingMode>, names: &[&str]| {
                let mut f = IndexingFilter::builder();
                for n in names {
                    f = f.named_shadow_names(*n);
                }
                ThingIndexingConfiguration::builder()
                    .thing_indexing_mode(mode)
                    .set_named_shadow_indexing_mode(named)
                    .filter(f.build())
                    .build()
                    .unwrap()
            };
        let on = Some(NamedShadowIndexingMode::On);
        let ok = config(
            ThingIndexingMode::RegistryAndShadow,
            on.clone(),
            &["$package"],
        );
        assert_eq!(indexing_of(Some(&ok)), Indexing::Package);
        for c in [
            config(ThingIndexingMode::Off, on.clone(), &["$package"]),
            config(ThingIndexingMode::Registry, None, &["$package"]),
            config(ThingIndexingMode::Registry, on, &["other"]),
        ] {
            assert!(
                matches!(indexing_of(Some(&c)), Indexing::Missing(_)),
                "{c:?}"
            );
        }
        assert!(matches!(indexing_of(None), Indexing::Missing(_)));
    }
}
