//! What a dead letter keeps of a body that could not be read as a request.
//!
//! SQS takes at most 1 MiB a message, and JSON escaping can grow a body up
//! to six times (`\u0000`). A dead letter that does not fit cannot be sent,
//! and its record would be redelivered until the redrive policy moves it,
//! with no reason attached. So a body whose escaped form is over
//! [`MAX_ESCAPED`] is cut: a prefix, its size and its SHA-256 are kept.

use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

/// The largest `rawBody`, escaped as a JSON string, kept whole.
pub(crate) const MAX_ESCAPED: usize = 256 * 1024;
/// The largest prefix of a cut body, escaped.
pub(crate) const PREFIX_ESCAPED: usize = 64 * 1024;

/// The longest failure message a dead letter carries, escaped.
pub(crate) const MAX_MESSAGE_ESCAPED: usize = 64 * 1024;

/// `message`, cut to [`MAX_MESSAGE_ESCAPED`] when it is longer (a reason
/// may quote every one of a thousand refused names).
pub(crate) fn message(message: &str) -> String {
    if escaped_len(message) <= MAX_MESSAGE_ESCAPED {
        return message.to_owned();
    }
    format!(
        "{}… (cut; {} bytes in all)",
        prefix(message, MAX_MESSAGE_ESCAPED),
        message.len()
    )
}

/// The fields that stand for `raw` in a dead letter: `rawBody` when it fits,
/// else `rawBodyPrefix`, `rawBodyBytes` and `rawBodySha256`.
pub(crate) fn fields(raw: &str) -> Map<String, Value> {
    let mut out = Map::new();
    if escaped_len(raw) <= MAX_ESCAPED {
        out.insert("rawBody".into(), json!(raw));
        return out;
    }
    out.insert("rawBodyPrefix".into(), json!(prefix(raw, PREFIX_ESCAPED)));
    out.insert("rawBodyBytes".into(), json!(raw.len()));
    out.insert(
        "rawBodySha256".into(),
        json!(hex::encode(Sha256::digest(raw.as_bytes()))),
    );
    out
}

/// The length of `c` escaped inside a JSON string.
fn escaped_char_len(c: char) -> usize {
    match c {
        '"' | '\\' | '\n' | '\r' | '\t' | '\u{08}' | '\u{0C}' => 2,
        c if (c as u32) < 0x20 => 6,
        c => c.len_utf8(),
    }
}

fn escaped_len(s: &str) -> usize {
    s.chars().map(escaped_char_len).sum()
}

/// The longest prefix of `s`, on a character boundary, whose escaped form
/// is at most `limit` bytes.
fn prefix(s: &str, limit: usize) -> &str {
    let mut used = 0;
    for (i, c) in s.char_indices() {
        used += escaped_char_len(c);
        if used > limit {
            return &s[..i];
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_small_body_is_kept_whole() {
        let f = fields("{\"service\": 3}");
        assert_eq!(f["rawBody"], "{\"service\": 3}");
        assert_eq!(f.len(), 1);
    }

    #[test]
    fn escaping_is_measured_as_serde_json_writes_it() {
        let s = "a\"\\\n\u{1}é🦀\t";
        assert_eq!(escaped_len(s) + 2, serde_json::to_string(s).unwrap().len());
    }

    #[test]
    fn a_body_that_escapes_past_the_limit_is_cut_with_its_size_and_digest() {
        // 200 KB of control characters escape to 1.2 MB.
        let raw = "\u{1}".repeat(200_000) + "tail";
        let f = fields(&raw);
        assert!(f.get("rawBody").is_none());
        assert_eq!(f["rawBodyBytes"], 200_004);
        let digest = f["rawBodySha256"].as_str().unwrap();
        assert_eq!(digest.len(), 64);
        assert_eq!(digest, hex::encode(Sha256::digest(raw.as_bytes())));
        let prefix = f["rawBodyPrefix"].as_str().unwrap();
        assert!(raw.starts_with(prefix));
        let written = serde_json::to_string(&Value::Object(f)).unwrap();
        assert!(written.len() < PREFIX_ESCAPED + 200, "{}", written.len());
    }

    #[test]
    fn a_long_message_is_cut_and_says_so() {
        assert_eq!(message("short"), "short");
        let long = "x".repeat(MAX_MESSAGE_ESCAPED + 1);
        let cut = message(&long);
        assert!(cut.starts_with(&long[..MAX_MESSAGE_ESCAPED]));
        assert!(cut.ends_with(&format!("(cut; {} bytes in all)", long.len())));
    }

    #[test]
    fn the_cut_falls_on_a_character_boundary() {
        let raw = "é".repeat(MAX_ESCAPED);
        let p = prefix(&raw, PREFIX_ESCAPED + 1);
        assert_eq!(p.len(), PREFIX_ESCAPED);
    }
}
