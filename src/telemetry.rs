//! Logging: tracing-subscriber, JSON in Lambda, honouring Lambda's
//! `AWS_LAMBDA_LOG_FORMAT` and `AWS_LAMBDA_LOG_LEVEL`.

use tracing_subscriber::EnvFilter;

/// Maps Lambda's log levels (TRACE, DEBUG, INFO, WARN, ERROR, FATAL) to a
/// tracing filter directive.
pub(crate) fn level_directive(lambda_level: &str) -> &'static str {
    match lambda_level.to_ascii_uppercase().as_str() {
        "TRACE" => "trace",
        "DEBUG" => "debug",
        "WARN" => "warn",
        "ERROR" | "FATAL" => "error",
        _ => "info",
    }
}

/// Installs the global subscriber. JSON unless `AWS_LAMBDA_LOG_FORMAT` says
/// `Text`; outside Lambda (no `AWS_LAMBDA_FUNCTION_NAME`) text is the default.
/// The level comes from `AWS_LAMBDA_LOG_LEVEL`, else `RUST_LOG`, else info.
pub fn init() {
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let filter = match env("AWS_LAMBDA_LOG_LEVEL") {
        Some(level) => EnvFilter::new(level_directive(&level)),
        None => EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
    };
    let json = match env("AWS_LAMBDA_LOG_FORMAT") {
        Some(f) => !f.eq_ignore_ascii_case("text"),
        None => env("AWS_LAMBDA_FUNCTION_NAME").is_some(),
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false);
    if json {
        builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .init();
    } else {
        builder.init();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lambda_levels_map_to_tracing_levels() {
        assert_eq!(level_directive("FATAL"), "error");
        assert_eq!(level_directive("debug"), "debug");
        assert_eq!(level_directive("bogus"), "info");
    }
}
