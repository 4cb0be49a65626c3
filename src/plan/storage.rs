//! What deleting a version frees (`measureStorage`), and the totals of a
//! run. Pure. CodeArtifact stores assets once per domain: a version that
//! another repository of the domain still holds frees nothing when one
//! repository deletes it (`../shared/aws-api-facts.md`, section M).

use serde::Serialize;

/// One version's assets, as measured before it was deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VersionBytes {
    /// The sum of its assets' `size`, in bytes; `None` when an asset's size
    /// was not given (the model's `size` is optional): unknown, never 0.
    pub bytes: Option<u64>,
    /// Another repository of the domain holds the same version (any status
    /// but Disposed or Deleted): its bytes stay stored.
    pub shared: bool,
}

/// A run's storage: the bytes of the versions deleted (or planned), the
/// part of them another repository still holds, and how many versions
/// had a size not given.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StorageTotals {
    /// The asset bytes of the versions counted.
    pub bytes: u64,
    /// The part of `bytes` another repository of the domain still holds.
    pub shared_bytes: u64,
    /// Versions counted with an asset of no size (in neither figure);
    /// the summary writes it as `unknownSizeVersions`.
    #[serde(skip)]
    pub unknown_size_versions: u64,
}

impl StorageTotals {
    /// Counts one version.
    pub(crate) fn add(&mut self, v: &VersionBytes) {
        match v.bytes {
            Some(b) => {
                self.bytes += b;
                if v.shared {
                    self.shared_bytes += b;
                }
            }
            None => self.unknown_size_versions += 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn unknown_sizes_are_counted_apart_never_as_zero() {
        let mut t = StorageTotals::default();
        t.add(&VersionBytes {
            bytes: Some(1000),
            shared: true,
        });
        t.add(&VersionBytes {
            bytes: None,
            shared: true,
        });
        t.add(&VersionBytes {
            bytes: Some(4000),
            shared: false,
        });
        assert_eq!(
            (t.bytes, t.shared_bytes, t.unknown_size_versions),
            (5000, 1000, 1)
        );
    }

    proptest! {
        #[test]
        fn shared_never_exceeds_the_whole(vs in proptest::collection::vec((proptest::option::of(0u64..1 << 40), any::<bool>()), 0..50)) {
            let mut t = StorageTotals::default();
            for (bytes, shared) in &vs {
                t.add(&VersionBytes { bytes: *bytes, shared: *shared });
            }
            prop_assert!(t.shared_bytes <= t.bytes);
            prop_assert_eq!(t.unknown_size_versions as usize, vs.iter().filter(|v| v.0.is_none()).count());
            prop_assert_eq!(t.bytes, vs.iter().filter_map(|v| v.0).sum::<u64>());
        }
    }
}
