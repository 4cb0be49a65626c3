//! `archivedForDays`: a CodeArtifact package's archive times from the
//! downloads table, read beside its listing; and the archive times of what
//! the function archives, recorded as it archives them.

use futures::future::join_all;

use super::downloads::{now_ms, package_key};
use super::{CallContext, Done, Executor, ItemOutcome};
use crate::downloads::ArchiveTimes;
use crate::plan::Item;
use crate::policy::Retention;
use crate::request::{Request, Target, Verb};

impl Executor {
    /// The package's archive times and the window, when its policy sets
    /// `archivedForDays`; `None` otherwise. Fails closed: a read that
    /// fails, or a domain owner that is not known, gives
    /// [`ArchiveTimes::Unknown`]. One paged `Query`.
    pub(super) async fn archive_times(
        &self,
        request: &Request,
        retention: &Retention,
        cx: &CallContext<'_>,
    ) -> Option<(ArchiveTimes, i64)> {
        let window_ms = retention.policy.archived_for_secs? as i64 * 1000;
        let Target::CodeArtifact { package, .. } = &request.target else {
            return None;
        };
        let unknown = |why: String| Some((ArchiveTimes::Unknown(why), window_ms));
        let Some(store) = &self.downloads else {
            return unknown("DOWNLOADS_TABLE is not set, so archive times are not recorded".into());
        };
        let Some(key) = package_key(package, cx.account) else {
            return unknown("the domain owner is not known: name `domainOwner`".into());
        };
        match store
            .archive_times(&key, &package.repository, cx.retrier)
            .await
            .result
        {
            Ok(times) => Some((ArchiveTimes::Known(times), window_ms)),
            Err(e) => unknown(format!("the downloads table cannot be read: {}", e.chain())),
        }
    }

    /// Records when each version in `outcomes` that this run archived was
    /// archived (CodeArtifact, with the downloads table). A time that
    /// cannot be written is said in the version's detail: `archivedForDays`
    /// will keep it as `ARCHIVE_TIME_UNKNOWN`.
    pub(super) async fn record_archives(
        &self,
        request: &Request,
        outcomes: &mut [ItemOutcome],
        cx: &CallContext<'_>,
    ) {
        let (Some(store), Verb::Archive) = (&self.downloads, request.verb) else {
            return;
        };
        let Target::CodeArtifact { package, .. } = &request.target else {
            return;
        };
        let Some(key) = package_key(package, cx.account) else {
            for o in outcomes.iter_mut() {
                if matches!(o.result, Ok(Done::Archived)) {
                    o.detail = Some("archived, but its archive time could not be recorded: the domain owner is not known (name `domainOwner`); archivedForDays keeps it as ARCHIVE_TIME_UNKNOWN".into());
                }
            }
            return;
        };
        let at = now_ms();
        let writes = outcomes.iter_mut().filter_map(|o| match (&o.item, &o.result) {
            (Item::Version(v), Ok(Done::Archived)) => {
                let v = v.clone();
                let key = &key;
                Some(async move {
                    let r = store
                        .record_archived(key, &package.repository, &v, at, cx.retrier)
                        .await;
                    if let Err(e) = r {
                        tracing::error!(package = %package, version = %v, error = %e.chain(), "the archive time could not be recorded");
                        o.detail = Some(format!(
                            "archived, but its archive time could not be recorded ({}): archivedForDays keeps it as ARCHIVE_TIME_UNKNOWN",
                            e.chain()
                        ));
                    }
                })
            }
            _ => None,
        });
        join_all(writes).await;
    }
}
