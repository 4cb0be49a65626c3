//! NuGet's version order, written by hand: no Rust crate implements
//! NuGet.Versioning.
//!
//! From NuGet's "Package versioning" page and NuGet.Versioning's
//! `VersionComparer`: `Major.Minor[.Patch[.Revision]][-Label][+Metadata]`,
//! one to four numeric parts with missing parts zero (`1.0` = `1.0.0` =
//! `1.0.0.0`, leading zeros dropped); a version without a label sorts after
//! the same version with one; labels compare as SemVer 2 identifiers
//! (numeric ones numerically and before alphanumeric ones, alphanumeric ones
//! ordinally ignoring case, a longer list after its prefix); metadata is
//! ignored.

use std::cmp::Ordering;

/// A NuGet version: its four numeric parts and its pre-release label's
/// identifiers (empty for a stable version).
#[derive(Debug, Clone)]
pub(super) struct NuGetVersion {
    /// Major, minor, patch, revision (`1.2` is `[1, 2, 0, 0]`).
    pub(super) release: [u64; 4],
    /// The label's dot-separated identifiers (`beta.1` is `["beta", "1"]`).
    pub(super) label: Vec<String>,
}

impl NuGetVersion {
    /// Parse a version (`NuGetVersion.TryParse`); None when it is not one.
    pub(super) fn parse(text: &str) -> Option<NuGetVersion> {
        let text = text.trim();
        let text = text.split_once('+').map_or(text, |(v, _)| v);
        let (numbers, label) = match text.split_once('-') {
            Some((n, l)) => (n, Some(l)),
            None => (text, None),
        };
        let release = release(numbers)?;
        let label: Vec<String> = match label {
            None => Vec::new(),
            Some(l) => l.split('.').map(str::to_owned).collect(),
        };
        let valid = |id: &String| {
            !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        };
        label
            .iter()
            .all(valid)
            .then_some(NuGetVersion { release, label })
    }

    /// Whether it has a pre-release label.
    pub(super) fn is_prerelease(&self) -> bool {
        !self.label.is_empty()
    }

    /// Its label as written (`beta.1`), for a floating label's prefix.
    pub(super) fn label_text(&self) -> String {
        self.label.join(".")
    }
}

/// One to four numeric parts, missing ones zero; None otherwise.
pub(super) fn release(numbers: &str) -> Option<[u64; 4]> {
    let mut release = [0u64; 4];
    for (i, part) in numbers.split('.').enumerate() {
        let slot = release.get_mut(i)?;
        if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        *slot = part.parse().ok()?;
    }
    Some(release)
}

/// Two label identifiers (`VersionComparer.CompareRelease`).
fn compare_identifier(a: &str, b: &str) -> Ordering {
    match (a.parse::<u64>(), b.parse::<u64>()) {
        (Ok(x), Ok(y)) => x.cmp(&y),
        (Ok(_), Err(_)) => Ordering::Less,
        (Err(_), Ok(_)) => Ordering::Greater,
        (Err(_), Err(_)) => a.to_ascii_lowercase().cmp(&b.to_ascii_lowercase()),
    }
}

impl Ord for NuGetVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        self.release.cmp(&other.release).then_with(|| {
            match (self.label.is_empty(), other.label.is_empty()) {
                (true, true) => Ordering::Equal,
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                (false, false) => self
                    .label
                    .iter()
                    .zip(&other.label)
                    .map(|(a, b)| compare_identifier(a, b))
                    .find(|o| o.is_ne())
                    .unwrap_or_else(|| self.label.len().cmp(&other.label.len())),
            }
        })
    }
}

impl PartialOrd for NuGetVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for NuGetVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for NuGetVersion {}
