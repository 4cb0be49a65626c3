//! Release lines for `keepLatestPer`: `keepLatest` applies within each line
//! rather than across the package. A line is read from the version the same
//! format-aware way pre-release detection reads it.

use std::sync::LazyLock;

use regex::Regex;

use super::Pattern;
use crate::service::Format;

/// How versions group into release lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum LinePer {
    /// `1.4.2` and `1.9.0-rc.1` are line `1`.
    Major,
    /// `1.4.2` and `1.4.0-rc.1` are line `1.4`; `2` is line `2.0`.
    Minor,
    /// The regex's first capture group names the line.
    Pattern(Pattern),
}

impl LinePer {
    /// `major`, `minor`, or a regex with at least one capture group.
    pub(crate) fn parse(
        text: &str,
        pattern: impl FnOnce() -> Option<Pattern>,
    ) -> Result<LinePer, String> {
        match text {
            "major" => Ok(LinePer::Major),
            "minor" => Ok(LinePer::Minor),
            _ => {
                let p = pattern().ok_or_else(String::new)?;
                if p.0.captures_len() < 2 {
                    return Err(format!(
                        "`policy.keepLatestPer` is \"major\", \"minor\" or a regex whose first capture group names the line; {text:?} has no capture group"
                    ));
                }
                Ok(LinePer::Pattern(p))
            }
        }
    }
}

/// An optional `v`, a PEP 440 epoch (`1!`), then up to two numbers.
static LEADING: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[vV]?(?:(\d+)!)?(\d+)(?:\.(\d+))?").expect("regex"));

/// The release line of `version`, or `None` when it has none (no leading
/// number, or the regex does not match): such a version is a line of its
/// own, so `keepLatest` keeps it.
pub(crate) fn release_line(per: &LinePer, format: Option<Format>, version: &str) -> Option<String> {
    let number = |m: Option<regex::Match<'_>>| {
        m.map_or(0, |m| m.as_str().parse::<u64>().unwrap_or(u64::MAX))
    };
    match per {
        LinePer::Pattern(p) => p.0.captures(version)?.get(1).map(|m| m.as_str().to_owned()),
        LinePer::Major | LinePer::Minor => {
            let c = LEADING.captures(version)?;
            // Only PEP 440 has epochs; elsewhere `1!2` is not a version line.
            let epoch = match (format, c.get(1)) {
                (Some(Format::Pypi), Some(e)) => format!("{}!", number(Some(e))),
                (_, Some(_)) => return None,
                (_, None) => String::new(),
            };
            let major = number(c.get(2));
            Some(match per {
                LinePer::Major => format!("{epoch}{major}"),
                _ => format!("{epoch}{major}.{}", number(c.get(3))),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_follow_each_format() {
        let minor = LinePer::Minor;
        let cases: &[(Option<Format>, &str, Option<&str>)] = &[
            (Some(Format::Npm), "1.4.2", Some("1.4")),
            (Some(Format::Npm), "v1.4.0-rc.1", Some("1.4")),
            (Some(Format::Npm), "2", Some("2.0")),
            (Some(Format::Maven), "2.0.0-M1", Some("2.0")),
            (Some(Format::Maven), "1.10-SNAPSHOT", Some("1.10")),
            (Some(Format::Pypi), "1!2.3.4", Some("1!2.3")),
            (Some(Format::Pypi), "2.3rc1", Some("2.3")),
            (Some(Format::Ruby), "3.1.0.pre", Some("3.1")),
            (Some(Format::Npm), "01.4.2", Some("1.4")),
            (Some(Format::Npm), "latest", None),
            (Some(Format::Npm), "1!2.3", None),
            (None, "fw-1.2", None),
        ];
        for (f, v, line) in cases {
            assert_eq!(release_line(&minor, *f, v).as_deref(), *line, "{f:?} {v}");
        }
        assert_eq!(
            release_line(&LinePer::Major, None, "1.4.2").as_deref(),
            Some("1")
        );
        let p = LinePer::Pattern(Pattern(Regex::new(r"^(\w+)-").unwrap()));
        assert_eq!(release_line(&p, None, "fw-1.2").as_deref(), Some("fw"));
        assert_eq!(release_line(&p, None, "1.2"), None);
    }

    #[test]
    fn a_pattern_needs_a_capture_group() {
        let no_group = || Some(Pattern(Regex::new(r"^\d+").unwrap()));
        assert!(LinePer::parse(r"^\d+", no_group)
            .unwrap_err()
            .contains("capture group"));
        assert_eq!(LinePer::parse("major", || None), Ok(LinePer::Major));
    }
}
