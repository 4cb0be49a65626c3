//! Maven's version order, written by hand: no maintained crate implements
//! it (`mvn_version`, the one found, has had one release, in 2021).
//!
//! This is Maven 3's `org.apache.maven.artifact.versioning.ComparableVersion`
//! (the algorithm of maven-artifact 3.x), as the POM reference's "Version
//! Order Specification" describes it: a version splits into tokens at `.`,
//! `-` and digit/letter transitions (a transition or `-` opens a sub-list);
//! trailing "null" tokens (`0`, `""`, `final`, `ga`, `release`) are trimmed
//! from each list; tokens compare numbers numerically and qualifiers as
//! `alpha` = `a` < `beta` = `b` < `milestone` = `m` < `rc` = `cr` <
//! `snapshot` < `""` = `final` = `ga` = `release` < `sp` < any other,
//! lexically (`a`, `b`, `m` stand for alpha, beta, milestone only when a
//! digit follows). The tests take their cases from that specification and
//! from ComparableVersionTest.

use std::cmp::Ordering;

/// A version as Maven orders it: the parsed items of its string. Every
/// string parses (Maven's never fails).
#[derive(Debug, Clone)]
pub(super) struct MavenVersion {
    items: Vec<Item>,
}

/// One token of a version, or a sub-list opened by `-` or a transition.
#[derive(Debug, Clone)]
enum Item {
    /// A number: its digits without leading zeros (any length, as
    /// BigIntegerItem).
    Int(String),
    /// A qualifier, lower case, aliases applied (`ga`, `final`, `release`
    /// are `""`; `cr` is `rc`).
    Str(String),
    /// A sub-list.
    List(Vec<Item>),
}

/// The well-known qualifiers, in order; any other sorts after them.
const QUALIFIERS: [&str; 7] = ["alpha", "beta", "milestone", "rc", "snapshot", "", "sp"];

/// Where a qualifier sorts: its index among [`QUALIFIERS`], or after them,
/// lexically among the others (ComparableVersion's `comparableQualifier`).
fn rank(qualifier: &str) -> (usize, &str) {
    match QUALIFIERS.iter().position(|q| *q == qualifier) {
        Some(i) => (i, ""),
        None => (QUALIFIERS.len(), qualifier),
    }
}

/// The rank of no qualifier (a release).
const RELEASE: (usize, &str) = (5, "");

impl Item {
    /// A qualifier item; `followed_by_digit` turns `a`, `b`, `m` into
    /// alpha, beta, milestone (StringItem's constructor).
    fn qualifier(text: &str, followed_by_digit: bool) -> Item {
        let text = match (followed_by_digit, text) {
            (true, "a") => "alpha",
            (true, "b") => "beta",
            (true, "m") => "milestone",
            (_, "ga" | "final" | "release") => "",
            (_, "cr") => "rc",
            (_, other) => other,
        };
        Item::Str(text.to_owned())
    }

    /// A token: a number when `digits`, else a qualifier (`parseItem`).
    fn token(text: &str, digits: bool) -> Item {
        if digits {
            Item::Int(text.trim_start_matches('0').to_owned())
        } else {
            Item::qualifier(text, false)
        }
    }

    /// Whether trimming drops it: `0`, `""`, an empty list.
    fn is_null(&self) -> bool {
        match self {
            Item::Int(n) => n.is_empty(),
            Item::Str(s) => s.is_empty(),
            Item::List(l) => l.is_empty(),
        }
    }

    /// This item against another, or against padding (`None`).
    fn compare(&self, other: Option<&Item>) -> Ordering {
        use Item::{Int, List, Str};
        match (self, other) {
            (Int(n), None) => (!n.is_empty()).cmp(&false),
            (Str(s), None) => rank(s).cmp(&RELEASE),
            (List(l), None) => l.first().map_or(Ordering::Equal, |f| f.compare(None)),
            (Int(a), Some(Int(b))) => a.len().cmp(&b.len()).then_with(|| a.cmp(b)),
            (Int(_), Some(_)) | (List(_), Some(Str(_))) => Ordering::Greater,
            (Str(_), Some(Int(_) | List(_))) | (List(_), Some(Int(_))) => Ordering::Less,
            (Str(a), Some(Str(b))) => rank(a).cmp(&rank(b)),
            (List(a), Some(List(b))) => compare_lists(a, b),
        }
    }
}

/// Two lists, item by item, the shorter padded with nulls.
fn compare_lists(a: &[Item], b: &[Item]) -> Ordering {
    for i in 0..a.len().max(b.len()) {
        let result = match (a.get(i), b.get(i)) {
            (Some(l), r) => l.compare(r),
            (None, Some(r)) => r.compare(None).reverse(),
            (None, None) => Ordering::Equal,
        };
        if result != Ordering::Equal {
            return result;
        }
    }
    Ordering::Equal
}

/// Drop a list's trailing nulls, looking through sub-lists (ListItem's
/// `normalize`).
fn normalize(list: &mut Vec<Item>) {
    let mut i = list.len();
    while i > 0 {
        i -= 1;
        if list[i].is_null() {
            list.remove(i);
        } else if !matches!(list[i], Item::List(_)) {
            break;
        }
    }
}

impl MavenVersion {
    /// Parse as ComparableVersion's `parseVersion` does. The lists opened
    /// by `-` and transitions nest, each the last item of the one before,
    /// so they are kept as a stack of levels and folded at the end, the
    /// deepest normalized first.
    pub(super) fn parse(version: &str) -> MavenVersion {
        let chars: Vec<char> = version.to_lowercase().chars().collect();
        let token = |from: usize, to: usize| chars[from..to].iter().collect::<String>();
        let mut levels: Vec<Vec<Item>> = vec![Vec::new()];
        let mut digits = false;
        let mut start = 0;
        for (i, &c) in chars.iter().enumerate() {
            let item = if c == '.' || c == '-' {
                let item = if i == start {
                    Item::Int(String::new())
                } else {
                    Item::token(&token(start, i), digits)
                };
                start = i + 1;
                Some((item, c == '-'))
            } else if c.is_ascii_digit() != digits && i > start {
                let item = if digits {
                    Item::token(&token(start, i), true)
                } else {
                    Item::qualifier(&token(start, i), true)
                };
                start = i;
                Some((item, true))
            } else {
                None
            };
            if let Some((item, opens)) = item {
                if let Some(level) = levels.last_mut() {
                    level.push(item);
                }
                if opens {
                    levels.push(Vec::new());
                }
            }
            if c != '.' && c != '-' {
                digits = c.is_ascii_digit();
            }
        }
        if chars.len() > start {
            let item = Item::token(&token(start, chars.len()), digits);
            if let Some(level) = levels.last_mut() {
                level.push(item);
            }
        }
        let mut child: Option<Vec<Item>> = None;
        while let Some(mut level) = levels.pop() {
            level.extend(child.take().map(Item::List));
            normalize(&mut level);
            child = Some(level);
        }
        MavenVersion {
            items: child.unwrap_or_default(),
        }
    }
}

impl PartialEq for MavenVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for MavenVersion {}

impl PartialOrd for MavenVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for MavenVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        compare_lists(&self.items, &other.items)
    }
}
