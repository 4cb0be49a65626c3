//! NuGet: what a restore resolves for one `<dependency version="…">` of a
//! .nuspec.
//!
//! From NuGet's "Package versioning" page ("Version ranges" table) and
//! NuGet.Versioning's `VersionRange` and `FloatRange`, written by hand (no
//! Rust crate reads them): `1.0` means `≥ 1.0`; `[1.0]` is exact;
//! intervals `[1.0,2.0)`, `(1.0,)`, `(,1.0]`; `(1.0)` is invalid. A range
//! resolves to the lowest applicable version ("Dependency resolution":
//! lowest applicable version), pre-releases included. A floating version
//! (`*`, `1.*`, `1.2.*-*`, `1.0.0-beta*`) resolves to the highest version
//! it matches, else to the lowest above its minimum (`VersionRange.IsBetter`).
//! No version at all: the lowest version (NuGet 3.x and later).

use super::nuget_version::{release, NuGetVersion};
use super::{exact, pick, End, Needs, Offered};

/// What a NuGet requirement (`versionRequirement`, trimmed) needs of
/// `offered`.
pub(super) fn needs(requirement: &str, offered: &[Offered<'_>]) -> Needs {
    if requirement.contains('*') {
        return match floating(requirement) {
            Some(float) => resolve_float(&float, offered),
            None => Needs::unreadable("a NuGet floating version this resolver does not read"),
        };
    }
    let range = if requirement.is_empty() {
        Ok(Range::default())
    } else if requirement.starts_with(['[', '(']) {
        interval(requirement)
    } else {
        NuGetVersion::parse(requirement)
            .map(Range::at_least)
            .ok_or(())
    };
    match range {
        Err(()) => Needs::unreadable("not a valid NuGet version range"),
        Ok(Range {
            exact: true,
            min: Some((version, _)),
            ..
        }) => {
            let written = requirement.trim_matches(['[', ']']).trim();
            exact(offered, written, |o| {
                NuGetVersion::parse(o).map(|o| o == version)
            })
        }
        Ok(range) => pick(offered, End::Lowest, NuGetVersion::parse, |v| {
            range.contains(v)
        }),
    }
}

/// An interval; an absent bound is open.
#[derive(Debug, Default)]
struct Range {
    /// The minimum and whether it is included.
    min: Option<(NuGetVersion, bool)>,
    /// The maximum and whether it is included.
    max: Option<(NuGetVersion, bool)>,
    /// Written `[1.0]`.
    exact: bool,
}

impl Range {
    /// `≥ version`: a bare version.
    fn at_least(version: NuGetVersion) -> Range {
        Range {
            min: Some((version, true)),
            ..Range::default()
        }
    }

    /// Whether `version` lies in it.
    fn contains(&self, version: &NuGetVersion) -> bool {
        let above = self
            .min
            .as_ref()
            .is_none_or(|(m, incl)| version > m || (*incl && version == m));
        let below = self
            .max
            .as_ref()
            .is_none_or(|(m, incl)| version < m || (*incl && version == m));
        above && below
    }
}

/// A bracketed interval (`VersionRange.TryParse`); `Err` when invalid.
fn interval(text: &str) -> Result<Range, ()> {
    let min_inclusive = text.starts_with('[');
    let max_inclusive = match text.chars().last() {
        Some(']') => true,
        Some(')') => false,
        _ => return Err(()),
    };
    let inner = text.get(1..text.len() - 1).ok_or(())?.trim();
    let bound = |v: &str, inclusive| -> Result<Option<(NuGetVersion, bool)>, ()> {
        if v.is_empty() {
            return Ok(None);
        }
        NuGetVersion::parse(v)
            .map(|v| Some((v, inclusive)))
            .ok_or(())
    };
    let Some((low, high)) = inner.split_once(',') else {
        // Only `[1.0]` holds a single version.
        return match (min_inclusive && max_inclusive, bound(inner, true)?) {
            (true, Some(v)) => Ok(Range {
                exact: true,
                ..Range::at_least(v.0)
            }),
            _ => Err(()),
        };
    };
    if high.contains(',') {
        return Err(());
    }
    let range = Range {
        min: bound(low.trim(), min_inclusive)?,
        max: bound(high.trim(), max_inclusive)?,
        exact: false,
    };
    match (&range.min, &range.max) {
        (Some((l, _)), Some((h, _))) if h < l => Err(()),
        _ => Ok(range),
    }
}

/// A floating version, read as `FloatRange.TryParse` reads one.
#[derive(Debug)]
struct Float {
    /// Its numeric parts, `*` as 0: the minimum of its range.
    min: [u64; 4],
    /// How many leading parts a match shares with `min` (0 for `*`, 1 for
    /// `1.*`, …, 4 for `1.0.0-beta*`).
    fixed: usize,
    /// For a pre-release float, the label prefix a pre-release must start
    /// with (`""` for `-*`); None when only stable versions match.
    label: Option<String>,
}

impl Float {
    /// Whether `version` matches (`FloatRange.Satisfies`): the same fixed
    /// parts, and stable or (for a pre-release float) labelled with the
    /// prefix, ignoring case.
    fn matches(&self, version: &NuGetVersion) -> bool {
        let parts = version.release.get(..self.fixed) == self.min.get(..self.fixed);
        let label = !version.is_prerelease()
            || self.label.as_ref().is_some_and(|prefix| {
                let text = version.label_text().to_ascii_lowercase();
                text.starts_with(&prefix.to_ascii_lowercase())
            });
        parts && label
    }
}

/// Read `*`, `*-*`, `1.*`, `1.2.*-*`, `1.2.*-rc*`, `1.0.0-beta*`; None for
/// any other form with a `*` (a float inside brackets among them).
fn floating(text: &str) -> Option<Float> {
    let (numbers, label) = match text.split_once('-') {
        Some((n, l)) => (n, Some(l)),
        None => (text, None),
    };
    let label = match label {
        None => None,
        Some(l) => Some(l.strip_suffix('*').filter(|p| !p.contains('*'))?.to_owned()),
    };
    if let Some(fixed_parts) = numbers.strip_suffix('*') {
        let fixed_parts = match fixed_parts {
            "" => "",
            dotted => dotted.strip_suffix('.')?,
        };
        let fixed = if fixed_parts.is_empty() {
            0
        } else {
            fixed_parts.split('.').count()
        };
        let min = if fixed == 0 {
            [0; 4]
        } else {
            release(fixed_parts)?
        };
        return (fixed < 4).then_some(Float { min, fixed, label });
    }
    // `1.0.0-beta*`: the whole release fixed, the label floating.
    let min = release(numbers)?;
    label.map(|label| Float {
        min,
        fixed: 4,
        label: Some(label),
    })
}

/// The highest offered version a float matches, else the lowest above its
/// minimum (Published versions only).
fn resolve_float(float: &Float, offered: &[Offered<'_>]) -> Needs {
    let highest = pick(offered, End::Newest, NuGetVersion::parse, |v| {
        float.matches(v)
    });
    if highest != Needs::Nothing {
        return highest;
    }
    let min = NuGetVersion {
        release: float.min,
        label: Vec::new(),
    };
    pick(offered, End::Lowest, NuGetVersion::parse, |v| *v >= min)
}
