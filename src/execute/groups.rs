//! Package groups: the packages of a group that a repository holds (a
//! `packageGroup` scope), and the group a package belongs to (an
//! allow-list's `group:` entry).

use std::collections::HashSet;

use super::codeartifact::PackagesQuery;
use super::{CallContext, Executor};
use crate::request::{CodeArtifactPackage, PackageRef};
use crate::retry::Tried;

impl Executor {
    /// The packages CodeArtifact associates with the group `pattern`
    /// (ListAssociatedPackages: the domain's, each in its most specific
    /// group only) that the query's repository holds (ListPackages,
    /// narrowed to the query's format and namespace), in the repository's
    /// order. Those the repository does not hold are left out quietly.
    /// `None` when no such group exists: then the repository is not
    /// listed.
    pub(super) async fn group_packages(
        &self,
        query: PackagesQuery<'_>,
        pattern: &str,
        cx: &CallContext<'_>,
    ) -> Tried<Option<Vec<PackageRef>>> {
        let domain = (query.domain, query.domain_owner);
        let associated = self
            .codeartifact
            .associated_packages(domain, pattern, cx)
            .await;
        let mut calls = associated.calls;
        let associated: HashSet<PackageRef> = match associated.result {
            Ok(Some(a)) => a.into_iter().collect(),
            Ok(None) => return Tried::new(Ok(None), calls),
            Err(e) => return Tried::new(Err(e), calls),
        };
        let held = self.codeartifact.packages(query, cx).await;
        calls += held.calls;
        let held = held.result.map(|packages| {
            Some(
                packages
                    .into_iter()
                    .filter(|p| associated.contains(p))
                    .collect(),
            )
        });
        Tried::new(held, calls)
    }

    /// Whether CodeArtifact associates `pkg` with one of `patterns` (its
    /// most specific group: GetAssociatedPackageGroup).
    pub(crate) async fn in_groups(
        &self,
        pkg: &CodeArtifactPackage,
        patterns: &[&str],
        cx: &CallContext<'_>,
    ) -> Tried<bool> {
        let group = self.codeartifact.associated_group(pkg, cx).await;
        group.map(|g| g.is_some_and(|g| patterns.contains(&g.as_str())))
    }
}
