//! The problem collector of a request's validation: each check that fails
//! adds a problem naming its field, and the collector keeps what the request
//! wrote where CodeArtifact stores another form.

use regex::Regex;

use super::Written;

pub(super) struct Checker {
    pub(super) problems: Vec<String>,
    /// What the request wrote where CodeArtifact stores another form.
    pub(super) written: Written,
}

impl Checker {
    pub(super) fn check(
        &mut self,
        field: &str,
        value: &str,
        min: usize,
        max: usize,
        pattern: &Regex,
    ) -> bool {
        let len = value.chars().count();
        if !self.allowed_chars(field, value) {
            false
        } else if len < min || len > max {
            self.problems.push(format!(
                "`{field}` must be {min} to {max} characters long, got {len}"
            ));
            false
        } else if !pattern.is_match(value) {
            self.problems.push(format!(
                "`{field}` {value:?} does not match {}",
                pattern.as_str()
            ));
            false
        } else {
            true
        }
    }

    /// Whether `value` is free of the characters no registry allows; if
    /// not, the problem names the field.
    pub(super) fn allowed_chars(&mut self, field: &str, value: &str) -> bool {
        let Some(ch) = crate::names::forbidden_char(value) else {
            return true;
        };
        self.problems.push(format!(
            "`{field}` holds {ch:?} (U+{:04X}), a control or bidirectional formatting character no registry allows",
            ch as u32
        ));
        false
    }

    pub(super) fn required<'a>(
        &mut self,
        field: &str,
        value: &'a Option<String>,
    ) -> Option<&'a str> {
        if value.is_none() {
            self.problems.push(format!("`{field}` is required"));
        }
        value.as_deref()
    }

    pub(super) fn forbid<T>(&mut self, field: &str, value: &Option<T>, why: &str) {
        if value.is_some() {
            self.problems
                .push(format!("`{field}` is not allowed {why}"));
        }
    }
}
