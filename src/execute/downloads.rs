//! `notDownloadedForDays`: a CodeArtifact package's reads from the downloads
//! table, read beside its listing, and whether recording covers the window.

use std::collections::HashMap;

use super::{CallContext, Executor};
use crate::downloads::{assess, Downloads, Namespace, PackageKey};
use crate::error::DeleteError;
use crate::policy::Retention;
use crate::request::{CodeArtifactPackage, Request, Target};
use crate::retry::Tried;

pub(super) use crate::downloads::now_ms;

fn unreadable(e: &DeleteError) -> Downloads {
    Downloads::Unknown(format!("the downloads table cannot be read: {}", e.chain()))
}

impl Executor {
    /// The package's reads and the window, when its policy sets
    /// `notDownloadedForDays`; `None` otherwise. Fails closed: a read that
    /// fails, a domain owner that is not known, or recording younger than
    /// the window gives [`Downloads::Unknown`]. Calls: the domain's marker
    /// (once per warm execution environment once it exists) and one paged
    /// `Query` per key: the package's own, and, for formats with
    /// namespaces, the key of reads whose record named none. All at once.
    pub(super) async fn downloads(
        &self,
        request: &Request,
        retention: &Retention,
        cx: &CallContext<'_>,
    ) -> Option<(Downloads, i64)> {
        let window_ms = retention.policy.not_downloaded_for_secs? as i64 * 1000;
        let Target::CodeArtifact { package, .. } = &request.target else {
            return None;
        };
        let Some(store) = &self.downloads else {
            let why = "DOWNLOADS_TABLE is not set, so downloads are not recorded".to_owned();
            return Some((Downloads::Unknown(why), window_ms));
        };
        let Some(key) = package_key(package, cx.account) else {
            let why = "the domain owner is not known: name `domainOwner`".to_owned();
            return Some((Downloads::Unknown(why), window_ms));
        };
        let unknown = key.unknown_namespace();
        let with_unknown = package.format.allows_namespace();
        let (since, own, other) = tokio::join!(
            store.recording_since(&key, cx.retrier),
            store.reads(&key, cx.retrier),
            async {
                match with_unknown {
                    true => store.reads(&unknown, cx.retrier).await,
                    false => Tried::free(HashMap::new()),
                }
            }
        );
        let verdict = match (since.result, own.result, other.result) {
            (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => unreadable(&e),
            (Ok(since), Ok(mut reads), Ok(other)) => {
                for (v, at) in other {
                    let e = reads.entry(v).or_insert(at);
                    *e = (*e).max(at);
                }
                assess(since, reads, now_ms(), window_ms)
            }
        };
        Some((verdict, window_ms))
    }
}

/// The downloads table's key of a CodeArtifact package: its domain owner
/// is the request's `domainOwner`, else the function's account.
pub(crate) fn package_key(
    package: &CodeArtifactPackage,
    account: Option<&str>,
) -> Option<PackageKey> {
    let owner = package.domain_owner.as_deref().or(account)?;
    Some(PackageKey {
        domain_owner: owner.to_owned(),
        domain: package.domain.clone(),
        format: package.format,
        namespace: package
            .namespace
            .clone()
            .map_or(Namespace::None, Namespace::Named),
        package: package.package.clone(),
    })
}
