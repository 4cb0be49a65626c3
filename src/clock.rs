//! Time as the function counts it: milliseconds since the epoch, shown in
//! RFC 3339. Pure but for [`now_ms`], which reads the clock.

/// Milliseconds in a day.
pub(crate) const DAY_MS: i64 = 86_400_000;

/// Now, in milliseconds since the epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis() as i64
}

/// Milliseconds since the epoch in RFC 3339 (UTC).
pub(crate) fn rfc3339(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| ms.to_string())
}
