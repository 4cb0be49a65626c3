//! Duplicate keys in JSON text. `serde_json` keeps the last of two equal
//! keys silently; a request that says `"package"` twice is ambiguous, and a
//! deletion request must not be guessed at. And unknown fields, explained.

use std::collections::HashSet;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

/// Walks any JSON value and fails at the first object with a key twice.
struct NoDuplicates;

impl<'de> DeserializeSeed<'de> for NoDuplicates {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for NoDuplicates {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(NoDuplicates)?.is_some() {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen = HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            if !seen.insert(key.clone()) {
                return Err(de::Error::custom(format!("duplicate key `{key}`")));
            }
            map.next_value_seed(NoDuplicates)?;
        }
        Ok(())
    }
}

/// Fails when some object in `text` has a key twice. Text that is not JSON
/// passes: parsing reports that with its own reason.
pub(crate) fn no_duplicate_keys(text: &str) -> Result<(), serde_json::Error> {
    let mut d = serde_json::Deserializer::from_str(text);
    match NoDuplicates.deserialize(&mut d) {
        Err(e) if e.is_data() => Err(e),
        _ => Ok(()),
    }
}

/// serde's unknown-field error (`unknown field `x`, expected one of `a`,
/// `b`` , as `serde::de::Error::unknown_field` writes it), explained for a
/// caller: the closest field by Jaro-Winkler similarity ("did you mean"),
/// and the fields a caller may write there, without those only the
/// function writes ([`crate::request::INTERNAL_FIELDS`]). `None` for any
/// other error.
pub(crate) fn unknown_field(message: &str) -> Option<String> {
    let rest = message.strip_prefix("unknown field `")?;
    let (name, rest) = rest.split_once('`')?;
    let public: Vec<&str> = rest
        .split('`')
        .skip(1)
        .step_by(2)
        .filter(|f| !crate::request::INTERNAL_FIELDS.contains(f))
        .collect();
    let guess = public
        .iter()
        .map(|f| {
            (
                strsim::jaro_winkler(&name.to_lowercase(), &f.to_lowercase()),
                *f,
            )
        })
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map_or_else(String::new, |(_, f)| format!(": did you mean `{f}`?"));
    let fields = match public.is_empty() {
        true => "none".to_owned(),
        false => public.join(", "),
    };
    Some(format!(
        "unknown field `{name}`{guess} (the fields here: {fields})"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_field_says_what_was_meant_and_offers_only_public_fields() {
        let err = serde_json::from_str::<crate::request::RawRequest>(
            r#"{"service":"iot","package":"a","verisons":["1"]}"#,
        )
        .unwrap_err();
        let explained = unknown_field(&err.to_string()).unwrap();
        assert!(
            explained.starts_with("unknown field `verisons`: did you mean `versions`?"),
            "{explained}"
        );
        assert!(
            explained.contains("deletePackage") && explained.contains("planValidForDays"),
            "{explained}"
        );
        for internal in crate::request::INTERNAL_FIELDS {
            assert!(
                !explained.contains(&format!(" {internal},"))
                    && !explained.contains(&format!(" {internal})")),
                "{internal} offered: {explained}"
            );
        }
        let err =
            serde_json::from_str::<crate::policy::RawPolicy>(r#"{"keepLatst":3}"#).unwrap_err();
        let explained = unknown_field(&err.to_string()).unwrap();
        assert!(
            explained.contains("did you mean `keepLatest`?"),
            "{explained}"
        );
        let far = serde_json::from_str::<crate::policy::RawPolicy>(r#"{"zzz":3}"#).unwrap_err();
        let explained = unknown_field(&far.to_string()).unwrap();
        assert!(!explained.contains("did you mean"), "{explained}");
        assert_eq!(unknown_field("invalid type: string, expected u32"), None);
    }

    #[test]
    fn a_key_twice_at_any_depth_is_found_and_named() {
        let e = no_duplicate_keys(r#"{"service":"iot","package":"a","package":"b"}"#).unwrap_err();
        assert!(e.to_string().contains("duplicate key `package`"), "{e}");
        let nested = r#"[{"service":"iot","policy":{"keepLatest":1,"keepLatest":0}}]"#;
        assert!(no_duplicate_keys(nested).is_err());
    }

    #[test]
    fn equal_keys_in_different_objects_and_non_json_pass() {
        assert!(no_duplicate_keys(r#"[{"a":1},{"a":2,"b":{"a":3}}]"#).is_ok());
        assert!(no_duplicate_keys("{oops").is_ok());
        assert!(no_duplicate_keys("").is_ok());
    }
}
