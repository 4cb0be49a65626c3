//! Package group patterns and how packages match them, as the CodeArtifact
//! user guide's "Package group definition syntax and matching behavior"
//! defines them
//! (<https://docs.aws.amazon.com/codeartifact/latest/ug/package-group-definition-syntax-matching-behavior.html>):
//!
//! - A pattern is a package path (`/format/namespace/name`) cut short and
//!   ended by a suffix: `$` matches the full coordinate, `~` a prefix, `*`
//!   every value of the next component. Its six forms: `/*`, `/npm/*`,
//!   `/maven/com.anycompany~`, `/npm/space/*`, `/npm/space/anycompany-ui~`,
//!   `/maven/org.apache.logging.log4j/log4j-core$`.
//! - A format without namespaces has a blank namespace section
//!   (`/pypi//requests$`) and no other; Maven, generic and Swift must name
//!   the namespace when they name the package. The guide names Python and
//!   NuGet as formats without; the model's `namespace` documentation adds
//!   Ruby and Cargo.
//! - A word is `[\p{L}\p{N}][\p{L}\p{N}\p{M}]*`; a word boundary is where a
//!   word ends, at a non-word character (`.`, `-`, `_`) or the end. `~`
//!   follows a word character and matches on a word boundary:
//!   `/npm/space/foo~` matches `foo` and `foo-bar`, not `food`; after a
//!   non-word character, `*` is used instead.
//! - Matching is case sensitive (a strong match), but a variation of the
//!   pattern also matches (a weak match): letter case, and runs of `-`, `.`
//!   and `_`, which the guide folds to one `.`. Not modelled: confusable
//!   characters, which CodeArtifact also folds.
//! - A package is associated with the most specific matching group only:
//!   "the longest matching pattern", the one matching "a proper subset" of
//!   what the other matches ([`Pattern::rank`]).
//! - NuGet, Python and Swift names (and Swift namespaces) are matched in
//!   their normalised form (`names`), which a pattern must use.

use crate::wire;

wire::pattern!(WORD_START, r"[\p{L}\p{N}\p{M}][\s\S]*");
wire::pattern!(ENDS_IN_WORD, r"[\s\S]*[\p{L}\p{N}\p{M}]");

/// Formats whose packages have no namespace (the model's `namespace`
/// documentation: Python, NuGet, Ruby and Cargo).
const NO_NAMESPACE: [&str; 4] = ["pypi", "nuget", "ruby", "cargo"];
/// Formats whose group definitions name the namespace with the name.
const NAMESPACE_WITH_NAME: [&str; 3] = ["maven", "generic", "swift"];

/// The root group's pattern.
pub const ROOT: &str = "/*";

/// What a pattern asks of one component.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sel {
    /// `*`: every value.
    Any,
    /// `~`: values that start with this and have a word boundary after it.
    Prefix(String),
    /// `$` (for a name) or a namespace before `/…`: this value.
    Exact(String),
}

/// How a package matches a pattern: exactly, or by a variation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Strength {
    Weak,
    Strong,
}

impl Strength {
    /// The model's `PackageGroupAssociationType`.
    pub fn as_str(self) -> &'static str {
        match self {
            Strength::Weak => "WEAK",
            Strength::Strong => "STRONG",
        }
    }
}

/// A parsed pattern; `format` is `None` for the root group `/*`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    pub format: Option<String>,
    pub namespace: Sel,
    pub name: Sel,
}

/// `value` starts with `prefix` and a word ends there.
fn word_prefix(value: &str, prefix: &str) -> bool {
    value
        .strip_prefix(prefix)
        .is_some_and(|rest| !WORD_START.is_match(rest))
}

/// The form weak matching compares: casefolded, each run of `-`, `.` and
/// `_` one `.` (the guide's "Additional variations").
pub fn variation(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_run = false;
    for c in s.chars() {
        if matches!(c, '-' | '.' | '_') {
            if !in_run {
                out.push('.');
            }
            in_run = true;
        } else {
            out.extend(c.to_lowercase());
            in_run = false;
        }
    }
    out
}

impl Sel {
    fn matches(&self, value: &str) -> Option<Strength> {
        let (wanted, test): (&str, fn(&str, &str) -> bool) = match self {
            Sel::Any => return Some(Strength::Strong),
            Sel::Exact(p) => (p, |v, p| v == p),
            Sel::Prefix(p) => (p, word_prefix),
        };
        if test(value, wanted) {
            Some(Strength::Strong)
        } else if test(&variation(value), &variation(wanted)) {
            Some(Strength::Weak)
        } else {
            None
        }
    }

    /// Every value `other` matches, this matches too (strong matches).
    fn covers(&self, other: &Sel) -> bool {
        match (self, other) {
            (Sel::Any, _) => true,
            (Sel::Prefix(q), Sel::Prefix(p) | Sel::Exact(p)) => word_prefix(p, q),
            (Sel::Exact(q), Sel::Exact(p)) => q == p,
            _ => false,
        }
    }
}

/// A namespace or name as a pattern writes it: the model's
/// `PackageNamespace`/`PackageName` characters (`[^#/\s]`), at most 255.
// Undocumented: that the suffix characters `*`, `~` and `$` cannot appear
// inside a component; the emulator refuses them.
fn component(s: &str, blank_allowed: bool) -> Result<String, String> {
    let bad = s
        .chars()
        .any(|c| c.is_whitespace() || matches!(c, '#' | '/' | '*' | '~' | '$'));
    if bad || s.chars().count() > 255 || (s.is_empty() && !blank_allowed) {
        return Err(format!("{s:?} is not a namespace or package name"));
    }
    Ok(s.to_owned())
}

/// A `~` prefix: a component that ends in a word character.
fn prefix(s: &str) -> Result<Sel, String> {
    let p = component(s, false)?;
    if !ENDS_IN_WORD.is_match(&p) {
        return Err(format!(
            "{s:?} does not end in a word character; `~` follows a word character, `*` a non-word one"
        ));
    }
    Ok(Sel::Prefix(p))
}

impl Pattern {
    pub fn root() -> Pattern {
        Pattern {
            format: None,
            namespace: Sel::Any,
            name: Sel::Any,
        }
    }

    /// Parses a pattern; the error says why it is not one.
    pub fn parse(s: &str) -> Result<Pattern, String> {
        Self::parse_parts(s).map_err(|why| format!("{s:?} is not a package group pattern: {why}"))
    }

    fn parse_parts(s: &str) -> Result<Pattern, String> {
        if s == ROOT {
            return Ok(Pattern::root());
        }
        let Some(rest) = s.strip_prefix('/') else {
            return Err("a pattern starts with `/`".into());
        };
        let parts: Vec<&str> = rest.split('/').collect();
        let (format, tail) = parts.split_first().expect("split yields one part");
        // Undocumented: a format written otherwise than the model's enum
        // (`/NPM/*`) is refused.
        if !wire::FORMATS.contains(format) {
            return Err(format!("{format:?} is not a package format"));
        }
        let (namespace, name) = match tail {
            ["*"] => (Sel::Any, Sel::Any),
            [ns] => match ns.strip_suffix('~') {
                Some(p) => (prefix(p)?, Sel::Any),
                None => return Err("end the namespace with `~`, or add `/*`".into()),
            },
            // Undocumented: a blank namespace with `*` (`/npm//*`, every
            // unscoped npm package); the guide shows it only with a name.
            [ns, "*"] => (Sel::Exact(component(ns, true)?), Sel::Any),
            [ns, last] => {
                let name = if let Some(p) = last.strip_suffix('~') {
                    prefix(p)?
                } else if let Some(n) = last.strip_suffix('$') {
                    Sel::Exact(component(n, false)?)
                } else {
                    return Err("end the name with `$` or `~`".into());
                };
                (Sel::Exact(component(ns, true)?), name)
            }
            _ => return Err("a pattern has a format, a namespace and a name at most".into()),
        };
        let blank = namespace == Sel::Exact(String::new());
        if NO_NAMESPACE.contains(format) && !blank && namespace != Sel::Any {
            return Err(format!(
                "{format} packages have no namespace: leave it blank (`/{format}//…`)"
            ));
        }
        if NAMESPACE_WITH_NAME.contains(format) && blank && name != Sel::Any {
            return Err(format!(
                "{format} patterns that name a package name its namespace"
            ));
        }
        Ok(Pattern {
            format: Some((*format).to_owned()),
            namespace,
            name,
        })
    }

    /// How a package (as stored: normalised) matches, if it does. A match
    /// is weak if any component matches only by a variation.
    pub fn matches(&self, format: &str, namespace: Option<&str>, name: &str) -> Option<Strength> {
        let Some(f) = &self.format else {
            return Some(Strength::Strong);
        };
        if f != format {
            return None;
        }
        let ns = self.namespace.matches(namespace.unwrap_or_default())?;
        Some(ns.min(self.name.matches(name)?))
    }

    /// Every package `other` matches, this matches too: the hierarchy in
    /// which a group's parent is the most specific group covering it.
    pub fn covers(&self, other: &Pattern) -> bool {
        match (&self.format, &other.format) {
            (None, _) => true,
            // A pattern without a namespace or with a namespace prefix has
            // `Any` for its name.
            (Some(f), Some(g)) if f == g => {
                self.namespace.covers(&other.namespace) && self.name.covers(&other.name)
            }
            _ => false,
        }
    }

    /// Specificity: of two patterns that match one package, the one with
    /// the greater rank matches a subset of what the other matches. More
    /// components fixed first, then the longer prefix ("the longest
    /// matching pattern").
    pub fn rank(&self) -> (u8, usize) {
        match (&self.format, &self.namespace, &self.name) {
            (None, ..) => (0, 0),
            (_, Sel::Any, _) => (1, 0),
            (_, Sel::Prefix(p), _) => (2, p.chars().count()),
            (_, Sel::Exact(_), Sel::Any) => (3, 0),
            (_, Sel::Exact(_), Sel::Prefix(p)) => (4, p.chars().count()),
            (_, Sel::Exact(_), Sel::Exact(_)) => (5, 0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Pattern {
        Pattern::parse(s).unwrap()
    }

    #[test]
    fn parses_the_guides_six_forms_and_refuses_the_rest() {
        for ok in [
            "/*",
            "/npm/*",
            "/maven/com.anycompany~",
            "/npm/space/*",
            "/npm/space/anycompany-ui~",
            "/maven/org.apache.logging.log4j/log4j-core$",
            "/pypi//requests$",
            "/npm//react$",
            "/nuget//*",
            "/maven//*",
        ] {
            assert!(Pattern::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "*",
            "/",
            "/**",
            "/npm",
            "/npm/",
            "/jar/*",
            "/NPM/*",
            "/npm/acme",
            "/npm/acme-~",
            "/npm/acme/ui-~",
            "/npm/acme/ui",
            "/npm/acme/*/*",
            "/npm/acme/ui$/x",
            "/npm/a*b/*",
            "/npm/acme/$",
            "/pypi/acme/*",
            "/pypi/acme~",
            "/maven//log4j-core$",
            "/swift//x~",
        ] {
            assert!(Pattern::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_prefix_matches_on_a_word_boundary() {
        let foo = p("/npm/space/foo~");
        for (name, hit) in [
            ("foo", true),
            ("foo-bar", true),
            ("foo.bar", true),
            ("foo_bar", true),
            ("food", false),
            ("foot", false),
            ("fo", false),
            ("foo1", false),
            ("fooé", false),
            ("foo\u{301}", false),
        ] {
            assert_eq!(
                foo.matches("npm", Some("space"), name).is_some(),
                hit,
                "{name}"
            );
        }
        assert!(foo.matches("npm", None, "foo").is_none());
        assert!(foo.matches("pypi", Some("space"), "foo").is_none());
        let ns = p("/maven/com.acme~");
        assert!(ns.matches("maven", Some("com.acme"), "x").is_some());
        assert!(ns
            .matches("maven", Some("com.acme.payments"), "x")
            .is_some());
        assert!(ns.matches("maven", Some("com.acmecorp"), "x").is_none());
    }

    #[test]
    fn variations_match_weakly() {
        let exact = p("/npm//AsyncStorage$");
        assert_eq!(
            exact.matches("npm", None, "AsyncStorage"),
            Some(Strength::Strong)
        );
        assert_eq!(
            exact.matches("npm", None, "asyncstorage"),
            Some(Strength::Weak)
        );
        assert_eq!(exact.matches("npm", Some("x"), "AsyncStorage"), None);
        let dashed = p("/npm//foo-bar$");
        for weak in ["foo.bar", "foo..bar", "foo_bar", "Foo-Bar"] {
            assert_eq!(
                dashed.matches("npm", None, weak),
                Some(Strength::Weak),
                "{weak}"
            );
        }
        assert_eq!(dashed.matches("npm", None, "foobar"), None);
        let prefix = p("/npm/acme/ui~");
        assert_eq!(
            prefix.matches("npm", Some("acme"), "UI_kit"),
            Some(Strength::Weak)
        );
        assert_eq!(
            prefix.matches("npm", Some("Acme"), "ui-kit"),
            Some(Strength::Weak)
        );
        assert_eq!(
            prefix.matches("npm", Some("acme"), "ui-kit"),
            Some(Strength::Strong)
        );
    }

    #[test]
    fn the_more_specific_pattern_ranks_higher_and_is_covered() {
        let order = [
            "/*",
            "/npm/*",
            "/npm/acme~",
            "/npm/acme/*",
            "/npm/acme/ui~",
            "/npm/acme/ui-kit~",
            "/npm/acme/ui-kit$",
        ];
        for pair in order.windows(2) {
            let (general, specific) = (p(pair[0]), p(pair[1]));
            assert!(general.rank() < specific.rank(), "{pair:?}");
            assert!(general.covers(&specific), "{pair:?}");
            assert!(!specific.covers(&general), "{pair:?}");
        }
        let (com, acme) = (p("/maven/com~"), p("/maven/com.acme~"));
        assert!(com.rank() < acme.rank() && com.covers(&acme) && !acme.covers(&com));
        assert!(!p("/npm/ac~").covers(&p("/npm/acme~")));
        assert!(!p("/npm/acme~").covers(&p("/npm/acmecorp/*")));
        assert!(!p("/npm/acme/*").covers(&p("/npm/other/*")));
        assert!(!p("/npm/*").covers(&p("/pypi/*")));
        assert!(!p("/npm/acme/ui~").covers(&p("/npm/acme/uikit$")));
    }
}
