//! From a validated request to the items it names and the calls that will
//! delete them. Pure: no I/O.

use std::fmt;

use crate::request::{Action, Request};

/// DeletePackageVersions takes at most 100 versions per call (the model's
/// PackageVersionList limit).
pub const MAX_VERSIONS_PER_CALL: usize = 100;

/// The unit the accounting counts: one requested version, or the package
/// itself for `deletePackage`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Item {
    Version(String),
    Package,
}

impl fmt::Display for Item {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Item::Version(v) => f.write_str(v),
            Item::Package => f.write_str("*"),
        }
    }
}

/// Every item a request names, each exactly once.
pub fn items(request: &Request) -> Vec<Item> {
    match &request.action {
        Action::Versions(vs) => vs.iter().cloned().map(Item::Version).collect(),
        Action::DeletePackage => vec![Item::Package],
    }
}

/// Versions split into DeletePackageVersions calls.
pub fn batches(versions: &[String]) -> std::slice::Chunks<'_, String> {
    versions.chunks(MAX_VERSIONS_PER_CALL)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_hold_at_most_one_hundred_and_keep_every_version() {
        for n in [1usize, 99, 100, 101, 250] {
            let vs: Vec<String> = (0..n).map(|i| i.to_string()).collect();
            let chunks: Vec<_> = batches(&vs).collect();
            assert_eq!(chunks.len(), n.div_ceil(100));
            assert!(chunks.iter().all(|c| c.len() <= 100 && !c.is_empty()));
            assert_eq!(chunks.concat(), vs);
        }
    }
}
