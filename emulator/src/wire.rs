//! rest-json on the wire: requests as the SDKs send them, responses and
//! modelled errors as the services answer them, and the models' input
//! constraints.

use std::sync::LazyLock;

use bytes::Bytes;
use regex::Regex;
use serde_json::{json, Map, Value};

/// Which service an operation belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    CodeArtifact,
    Iot,
}

impl Service {
    pub fn as_str(self) -> &'static str {
        match self {
            Service::CodeArtifact => "codeartifact",
            Service::Iot => "iot",
        }
    }
}

/// A decoded HTTP request.
#[derive(Debug)]
pub struct Req {
    pub method: String,
    /// Percent-decoded path segments.
    pub segments: Vec<String>,
    pub query: Vec<(String, String)>,
    pub body: Bytes,
}

impl Req {
    /// A request with only a method and a query string (the operations'
    /// unit tests call them so).
    pub fn of_query(method: &str, query: &[(&str, &str)]) -> Req {
        Req {
            method: method.into(),
            segments: vec![],
            query: query
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            body: Default::default(),
        }
    }

    pub fn q(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The JSON body (an empty body is an empty object).
    pub fn json(&self, service: Service) -> Result<Map<String, Value>, ApiError> {
        if self.body.is_empty() {
            return Ok(Map::new());
        }
        match serde_json::from_slice::<Value>(&self.body) {
            Ok(Value::Object(m)) => Ok(m),
            Ok(_) | Err(_) => Err(ApiError::validation(
                service,
                "Could not parse the request body as a JSON object".into(),
            )),
        }
    }
}

/// A response: status, extra headers and a JSON body.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: Value,
}

impl Resp {
    pub fn ok(body: Value) -> Self {
        Resp {
            status: 200,
            headers: Vec::new(),
            body,
        }
    }
}

/// A modelled error: status code, `x-amzn-ErrorType`, body members.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
    /// Modelled members besides `message`.
    pub members: Vec<(&'static str, Value)>,
    pub retry_after: Option<u32>,
}

impl ApiError {
    pub fn new(status: u16, code: &'static str, message: String) -> Self {
        ApiError {
            status,
            code,
            message,
            members: Vec::new(),
            retry_after: None,
        }
    }

    pub fn member(mut self, k: &'static str, v: impl Into<Value>) -> Self {
        self.members.push((k, v.into()));
        self
    }

    pub fn validation(service: Service, message: String) -> Self {
        let e = ApiError::new(400, "ValidationException", message);
        match service {
            Service::CodeArtifact => e.member("reason", "FIELD_VALIDATION_FAILED"),
            Service::Iot => e,
        }
    }

    /// CodeArtifact's ResourceNotFoundException names the resource.
    pub fn ca_not_found(resource_type: &str, id: &str) -> Self {
        ApiError::new(
            404,
            "ResourceNotFoundException",
            format!("{resource_type} {id} not found"),
        )
        .member("resourceId", id)
        .member("resourceType", resource_type)
    }

    pub fn iot_not_found(what: String) -> Self {
        ApiError::new(404, "ResourceNotFoundException", what)
    }

    /// CodeArtifact: 429 with `Retry-After`; IoT: 400 without a hint.
    pub fn throttling(service: Service, retry_after: u32) -> Self {
        match service {
            Service::CodeArtifact => ApiError {
                retry_after: Some(retry_after),
                ..ApiError::new(429, "ThrottlingException", "Rate exceeded".into())
            },
            Service::Iot => ApiError::new(400, "ThrottlingException", "Rate exceeded".into()),
        }
    }

    pub fn internal() -> Self {
        ApiError::new(
            500,
            "InternalServerException",
            "An internal error occurred (injected by the emulator)".into(),
        )
    }

    pub fn into_resp(self) -> Resp {
        let mut body: Map<String, Value> = self
            .members
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
        body.insert("message".into(), Value::String(self.message));
        let mut headers = vec![("x-amzn-ErrorType", self.code.to_owned())];
        if let Some(n) = self.retry_after {
            headers.push(("Retry-After", n.to_string()));
        }
        Resp {
            status: self.status,
            headers,
            body: Value::Object(body),
        }
    }
}

/// One member's constraints, from the service model.
pub struct Field {
    pub name: &'static str,
    pub min: usize,
    pub max: usize,
    pub pattern: Option<&'static LazyLock<Regex>>,
}

/// A model pattern, anchored as `check` expects (it quotes the pattern back
/// without the anchors). Other modules declare theirs with `wire::pattern!`.
macro_rules! pattern {
    ($name:ident, $re:expr) => {
        pub static $name: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
            regex::Regex::new(concat!("^(?:", $re, ")$")).expect("model pattern")
        });
    };
}
pub(crate) use pattern;

pattern!(DOMAIN_NAME, r"[a-z][a-z0-9\-]{0,48}[a-z0-9]");
pattern!(ACCOUNT_ID, r"[0-9]{12}");
pattern!(REPOSITORY_NAME, r"[A-Za-z0-9][A-Za-z0-9._\-]{1,99}");
pattern!(CA_NAME, r"[^#/\s]+");
pattern!(TOKEN, r"\S+");
pattern!(IOT_NAME, r"[a-zA-Z0-9_.\-]+");
pattern!(CLIENT_TOKEN, r"\S{36,64}");
pattern!(IOT_INDEX, r"[a-zA-Z0-9:_-]+");
pattern!(IOT_JOB, r"[a-zA-Z0-9_-]+");

pub const DOMAIN: Field = Field {
    name: "domain",
    min: 2,
    max: 50,
    pattern: Some(&DOMAIN_NAME),
};
pub const DOMAIN_OWNER: Field = Field {
    name: "domainOwner",
    min: 12,
    max: 12,
    pattern: Some(&ACCOUNT_ID),
};
pub const REPOSITORY: Field = Field {
    name: "repository",
    min: 2,
    max: 100,
    pattern: Some(&REPOSITORY_NAME),
};
pub const NAMESPACE: Field = Field {
    name: "namespace",
    min: 1,
    max: 255,
    pattern: Some(&CA_NAME),
};
pub const PACKAGE: Field = Field {
    name: "package",
    min: 1,
    max: 255,
    pattern: Some(&CA_NAME),
};
pub const PACKAGE_PREFIX: Field = Field {
    name: "packagePrefix",
    min: 1,
    max: 255,
    pattern: Some(&CA_NAME),
};
pub const PACKAGE_VERSION: Field = Field {
    name: "packageVersion",
    min: 1,
    max: 255,
    pattern: Some(&CA_NAME),
};
pub const NEXT_TOKEN: Field = Field {
    name: "nextToken",
    min: 1,
    max: 2000,
    pattern: Some(&TOKEN),
};
pub const IOT_PACKAGE: Field = Field {
    name: "packageName",
    min: 1,
    max: 128,
    pattern: Some(&IOT_NAME),
};
pub const IOT_VERSION: Field = Field {
    name: "versionName",
    min: 1,
    max: 64,
    pattern: Some(&IOT_NAME),
};
pub const IOT_DEFAULT_VERSION: Field = Field {
    name: "defaultVersionName",
    min: 1,
    max: 64,
    pattern: Some(&IOT_NAME),
};
pub const IOT_CLIENT_TOKEN: Field = Field {
    name: "clientToken",
    min: 36,
    max: 64,
    pattern: Some(&CLIENT_TOKEN),
};
pub const IOT_INDEX_NAME: Field = Field {
    name: "indexName",
    min: 1,
    max: 128,
    pattern: Some(&IOT_INDEX),
};
pub const IOT_JOB_ID: Field = Field {
    name: "jobId",
    min: 1,
    max: 64,
    pattern: Some(&IOT_JOB),
};
pub const IOT_DESCRIPTION: Field = Field {
    name: "description",
    min: 0,
    max: 1024,
    pattern: None,
};

pub const FORMATS: [&str; 8] = [
    "npm", "pypi", "maven", "nuget", "generic", "ruby", "swift", "cargo",
];
pub const CA_STATUSES: [&str; 6] = [
    "Published",
    "Unfinished",
    "Unlisted",
    "Archived",
    "Disposed",
    "Deleted",
];
pub const ORIGIN_TYPES: [&str; 3] = ["INTERNAL", "EXTERNAL", "UNKNOWN"];
pub const IOT_STATUSES: [&str; 3] = ["DRAFT", "PUBLISHED", "DEPRECATED"];

/// Checks a value against a member's constraints, answering as the
/// services do.
pub fn check(service: Service, field: &Field, value: &str) -> Result<(), ApiError> {
    let len = value.chars().count();
    let problem = if len < field.min {
        Some(format!(
            "Member must have length greater than or equal to {}",
            field.min
        ))
    } else if len > field.max {
        Some(format!(
            "Member must have length less than or equal to {}",
            field.max
        ))
    } else if field.pattern.is_some_and(|p| !p.is_match(value)) {
        let p = field.pattern.unwrap().as_str();
        Some(format!(
            "Member must satisfy regular expression pattern: {}",
            &p[4..p.len() - 2]
        ))
    } else {
        None
    };
    match problem {
        None => Ok(()),
        Some(p) => Err(ApiError::validation(
            service,
            format!("1 validation error detected: Value '{value}' at '{}' failed to satisfy constraint: {p}", field.name),
        )),
    }
}

/// A required member.
pub fn required<'a>(
    service: Service,
    field: &Field,
    value: Option<&'a str>,
) -> Result<&'a str, ApiError> {
    match value {
        None => Err(ApiError::validation(
            service,
            format!("1 validation error detected: Value null at '{}' failed to satisfy constraint: Member must not be null", field.name),
        )),
        Some(v) => check(service, field, v).map(|()| v),
    }
}

/// An optional member.
pub fn optional<'a>(
    service: Service,
    field: &Field,
    value: Option<&'a str>,
) -> Result<Option<&'a str>, ApiError> {
    value
        .map(|v| check(service, field, v).map(|()| v))
        .transpose()
}

/// A member restricted to an enum.
pub fn one_of<'a>(
    service: Service,
    name: &str,
    value: Option<&'a str>,
    allowed: &[&str],
) -> Result<Option<&'a str>, ApiError> {
    match value {
        Some(v) if !allowed.contains(&v) => Err(ApiError::validation(
            service,
            format!("1 validation error detected: Value '{v}' at '{name}' failed to satisfy constraint: Member must satisfy enum value set: [{}]", allowed.join(", ")),
        )),
        v => Ok(v),
    }
}

/// An integer member within a range.
pub fn int_in(
    service: Service,
    name: &str,
    value: Option<&str>,
    min: i64,
    max: i64,
) -> Result<Option<i64>, ApiError> {
    let Some(raw) = value else { return Ok(None) };
    match raw.parse::<i64>() {
        Ok(n) if (min..=max).contains(&n) => Ok(Some(n)),
        Ok(n) => Err(ApiError::validation(
            service,
            format!("1 validation error detected: Value '{n}' at '{name}' failed to satisfy constraint: Member must have value {}", if n < min { format!("greater than or equal to {min}") } else { format!("less than or equal to {max}") }),
        )),
        Err(_) => Err(ApiError::validation(service, format!("Value '{raw}' at '{name}' is not an integer"))),
    }
}

/// Pagination: an opaque token for an offset.
pub fn token_for(offset: usize) -> String {
    format!("pp1.{offset}")
}

pub fn offset_of(service: Service, token: Option<&str>) -> Result<usize, ApiError> {
    match token {
        None => Ok(0),
        Some(t) => t
            .strip_prefix("pp1.")
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| {
                ApiError::validation(service, format!("The pagination token {t:?} is invalid"))
            }),
    }
}

/// One page of `items` and the token for the next.
pub fn page<T: Clone>(items: &[T], offset: usize, size: usize) -> (Vec<T>, Option<String>) {
    let end = (offset + size).min(items.len());
    let slice = items
        .get(offset.min(items.len())..end)
        .unwrap_or_default()
        .to_vec();
    (slice, (end < items.len()).then(|| token_for(end)))
}

/// A package version operation's answer: the version's coordinates
/// (`namespace` only where it has one) and `key`'s list, with the token of
/// the next page (ListPackageVersionDependencies, ListPackageVersionAssets).
pub fn version_page(
    pkg: &crate::state::CaPackage,
    v: &crate::state::CaVersion,
    (key, items): (&str, Vec<Value>),
    token: Option<String>,
) -> Value {
    let mut body = json!({"format": pkg.format, "package": pkg.package, "version": v.version,
        "versionRevision": v.revision});
    body[key] = Value::Array(items);
    if let Some(ns) = &pkg.namespace {
        body["namespace"] = json!(ns);
    }
    with_token(body, token)
}

pub fn with_token(mut body: Value, token: Option<String>) -> Value {
    if let Some(t) = token {
        body["nextToken"] = json!(t);
    }
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_follow_the_model() {
        let s = Service::CodeArtifact;
        assert!(check(s, &DOMAIN, "acme").is_ok());
        let e = check(s, &DOMAIN, "Acme").unwrap_err();
        assert_eq!((e.status, e.code), (400, "ValidationException"));
        assert!(
            e.message.contains("at 'domain'")
                && e.message.contains("[a-z][a-z0-9\\-]{0,48}[a-z0-9]"),
            "{}",
            e.message
        );
        assert!(check(s, &DOMAIN, "a")
            .unwrap_err()
            .message
            .contains("greater than or equal to 2"));
        assert!(check(Service::Iot, &IOT_VERSION, &"v".repeat(65)).is_err());
        assert!(check(Service::Iot, &IOT_PACKAGE, "fw pkg").is_err());
        assert!(required(s, &PACKAGE, None)
            .unwrap_err()
            .message
            .contains("must not be null"));
        assert!(one_of(s, "format", Some("jar"), &FORMATS).is_err());
        assert!(int_in(s, "maxResults", Some("1001"), 1, 1000).is_err());
    }

    #[test]
    fn pages_cover_everything_once() {
        let items: Vec<u32> = (0..7).collect();
        let (p1, t1) = page(&items, 0, 3);
        let (p2, t2) = page(&items, offset_of(Service::Iot, t1.as_deref()).unwrap(), 3);
        let (p3, t3) = page(&items, offset_of(Service::Iot, t2.as_deref()).unwrap(), 3);
        assert_eq!([p1, p2, p3].concat(), items);
        assert!(t3.is_none());
    }
}
