//! RubyGems: what `gem install` / Bundler resolves for one gem dependency.
//!
//! Written by hand from RubyGems' own `Gem::Version` and `Gem::Requirement`
//! (no maintained Rust crate reads them; the ones found are parts of
//! audit tools). A requirement is constraints joined by commas, each an
//! optional operator (`=`, `!=`, `>`, `<`, `>=`, `<=`, `~>`; `=` when
//! absent) and a version; all must hold. `~> 1.2` means `>= 1.2, < 2`
//! and `~> 1.2.3` means `>= 1.2.3, < 1.3` (the pessimistic operator:
//! `v >= r && v.release < r.bump`). Versions compare segment by segment
//! (numbers numerically, strings lexically and before numbers, trailing
//! zeros ignored, a `-` read as `.pre.`); a version with a letter is a
//! pre-release, and pre-releases satisfy a requirement only when one of its
//! versions is itself a pre-release. The newest satisfying version wins.

use std::cmp::Ordering;

use super::{exact, pick, End, Needs, Offered};

/// What a RubyGems requirement (`versionRequirement`, trimmed) needs of
/// `offered`.
pub(super) fn needs(requirement: &str, offered: &[Offered<'_>]) -> Needs {
    let Some(constraints) = constraints(requirement) else {
        return Needs::unreadable("not a valid RubyGems requirement");
    };
    if let [(Op::Eq, version)] = constraints.as_slice() {
        let written = requirement.trim_start_matches('=').trim();
        return exact(offered, written, |o| {
            GemVersion::parse(o).map(|o| o == *version)
        });
    }
    let pre = constraints.iter().any(|(_, v)| v.prerelease);
    pick(offered, End::Newest, GemVersion::parse, |v| {
        (pre || !v.prerelease) && constraints.iter().all(|(op, r)| op.holds(v, r))
    })
}

/// A comparison operator of `Gem::Requirement::OPS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    /// `=`, also a constraint with no operator.
    Eq,
    /// `!=`.
    Ne,
    /// `>`.
    Gt,
    /// `<`.
    Lt,
    /// `>=`.
    Ge,
    /// `<=`.
    Le,
    /// `~>`.
    Pessimistic,
}

impl Op {
    /// Whether `v` satisfies `op r`.
    fn holds(self, v: &GemVersion, r: &GemVersion) -> bool {
        match self {
            Op::Eq => v == r,
            Op::Ne => v != r,
            Op::Gt => v > r,
            Op::Lt => v < r,
            Op::Ge => v >= r,
            Op::Le => v <= r,
            Op::Pessimistic => v >= r && v.release() < r.bump(),
        }
    }
}

/// The constraints of a requirement; an empty one is `>= 0`. None when a
/// constraint is not `Gem::Requirement::PATTERN`.
fn constraints(requirement: &str) -> Option<Vec<(Op, GemVersion)>> {
    if requirement.is_empty() {
        return Some(vec![(Op::Ge, GemVersion::parse("0")?)]);
    }
    let ops = [
        ("~>", Op::Pessimistic),
        (">=", Op::Ge),
        ("<=", Op::Le),
        ("!=", Op::Ne),
        ("=", Op::Eq),
        (">", Op::Gt),
        ("<", Op::Lt),
    ];
    requirement
        .split(',')
        .map(|part| {
            let part = part.trim();
            let (op, version) = ops
                .iter()
                .find_map(|(text, op)| part.strip_prefix(text).map(|v| (*op, v)))
                .unwrap_or((Op::Eq, part));
            GemVersion::parse(version.trim()).map(|v| (op, v))
        })
        .collect()
}

/// One segment of a version: a number or a run of letters.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    /// A run of digits.
    Number(u128),
    /// A run of letters.
    Letters(String),
}

/// A `Gem::Version`: its segments, and whether it is a pre-release.
#[derive(Debug, Clone)]
struct GemVersion {
    /// `Gem::Version#segments`: `1.2.b1` is `[1, 2, "b", 1]`.
    segments: Vec<Segment>,
    /// It has a letter (`Gem::Version#prerelease?`).
    prerelease: bool,
}

impl GemVersion {
    /// Parse as `Gem::Version.new` does: `Gem::Version::VERSION_PATTERN`
    /// (`1.2.3`, `1.2.3.pre1`, `1.2.3-rc.1`), `-` read as `.pre.`.
    fn parse(text: &str) -> Option<GemVersion> {
        let text = text.trim();
        let (release, label) = text
            .split_once('-')
            .map_or((text, None), |(r, l)| (r, Some(l)));
        let mut release_parts = release.split('.');
        let first_numeric = release_parts.next()?.bytes().all(|b| b.is_ascii_digit());
        let alnum = |p: &str, extra: bool| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_alphanumeric() || (extra && c == '-'))
        };
        let valid = first_numeric
            && !release.starts_with('.')
            && release.split('.').all(|p| alnum(p, false))
            && label.is_none_or(|l| l.split('.').all(|p| alnum(p, true)));
        if !valid {
            return None;
        }
        let normal = text.replace('-', ".pre.");
        let mut segments = Vec::new();
        let mut rest = normal.as_str();
        while let Some(start) = rest.find(|c: char| c.is_ascii_alphanumeric()) {
            rest = &rest[start..];
            let digits = rest.starts_with(|c: char| c.is_ascii_digit());
            let end = rest
                .find(|c: char| !c.is_ascii_alphanumeric() || c.is_ascii_digit() != digits)
                .unwrap_or(rest.len());
            segments.push(match digits {
                true => Segment::Number(rest[..end].parse().ok()?),
                false => Segment::Letters(rest[..end].to_owned()),
            });
            rest = &rest[end..];
        }
        let prerelease = normal.chars().any(|c| c.is_ascii_alphabetic());
        Some(GemVersion {
            segments,
            prerelease,
        })
    }

    /// The segments before the first string (`Gem::Version#release`).
    fn release(&self) -> GemVersion {
        let numbers = self
            .segments
            .iter()
            .take_while(|s| matches!(s, Segment::Number(_)));
        GemVersion {
            segments: numbers.cloned().collect(),
            prerelease: false,
        }
    }

    /// `Gem::Version#bump`: strings dropped, the last number dropped if
    /// more than one is left, then the last one incremented.
    fn bump(&self) -> GemVersion {
        let mut segments = self.release().segments;
        if segments.len() > 1 {
            segments.pop();
        }
        if let Some(Segment::Number(n)) = segments.last_mut() {
            *n = n.saturating_add(1);
        }
        GemVersion {
            segments,
            prerelease: false,
        }
    }

    /// `Gem::Version#canonical_segments`: trailing zeros dropped from the
    /// numeric part and from the part from the first string on.
    fn canonical(&self) -> Vec<&Segment> {
        let split = self
            .segments
            .iter()
            .position(|s| matches!(s, Segment::Letters(_)))
            .unwrap_or(self.segments.len());
        let (numbers, strings) = self.segments.split_at(split);
        let keep = |part: &[Segment]| {
            part.iter()
                .rposition(|s| *s != Segment::Number(0))
                .map_or(0, |i| i + 1)
        };
        let (n, s) = (keep(numbers), keep(strings));
        numbers[..n].iter().chain(&strings[..s]).collect()
    }
}

impl Ord for GemVersion {
    /// `Gem::Version#<=>`.
    fn cmp(&self, other: &Self) -> Ordering {
        let (left, right) = (self.canonical(), other.canonical());
        let zero = Segment::Number(0);
        for i in 0..left.len().max(right.len()) {
            let l = left.get(i).copied().unwrap_or(&zero);
            let r = right.get(i).copied().unwrap_or(&zero);
            let order = match (l, r) {
                (Segment::Number(a), Segment::Number(b)) => a.cmp(b),
                (Segment::Letters(a), Segment::Letters(b)) => a.cmp(b),
                (Segment::Letters(_), Segment::Number(_)) => Ordering::Less,
                (Segment::Number(_), Segment::Letters(_)) => Ordering::Greater,
            };
            if order != Ordering::Equal {
                return order;
            }
        }
        Ordering::Equal
    }
}

impl PartialOrd for GemVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for GemVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for GemVersion {}
