//! IoT 2015-05-28, what tells what is in use: GetIndexingConfiguration,
//! SearchIndex (fleet indexing over the reserved named shadow `$package`),
//! ListJobs and DescribeJob.
//!
//! SearchIndex understands the subset of the query syntax that finds
//! things by package version: terms `field:value` (the value bare, quoted,
//! or `*` for any), joined by whitespace or `AND`, on the fields
//! `thingName` and `shadow.name.$package.reported.<package>.version`.
//! Values match case-insensitively, as the docs say search does. Anything
//! else is an InvalidQueryException here; the service accepts far more.

use serde_json::{json, Value};

use crate::state::{IotState, State};
use crate::wire::{self, int_in, one_of, ApiError, Req, Service};

const S: Service = Service::Iot;

const JOB_STATUSES: [&str; 5] = [
    "IN_PROGRESS",
    "CANCELED",
    "COMPLETED",
    "DELETION_IN_PROGRESS",
    "SCHEDULED",
];

/// The operation a request names, if any.
pub fn route(method: &str, segments: &[&str]) -> Option<&'static str> {
    Some(match (method, segments) {
        ("GET", ["indexing", "config"]) => "GetIndexingConfiguration",
        ("POST", ["indices", "search"]) => "SearchIndex",
        ("GET", ["jobs"]) => "ListJobs",
        ("GET", ["jobs", _]) => "DescribeJob",
        _ => return None,
    })
}

pub fn handle(op: &str, state: &mut State, req: &Req) -> Result<Value, ApiError> {
    match op {
        "GetIndexingConfiguration" => Ok(indexing_configuration(&state.iot)),
        "SearchIndex" => search_index(&state.iot, req),
        "ListJobs" => list_jobs(state, req),
        "DescribeJob" => describe_job(state, req),
        _ => Err(ApiError::new(
            404,
            "UnknownOperationException",
            format!("unknown operation {op}"),
        )),
    }
}

fn invalid_request(message: String) -> ApiError {
    ApiError::new(400, "InvalidRequestException", message)
}

fn indexing_configuration(iot: &IotState) -> Value {
    let i = &iot.indexing;
    json!({
        "thingIndexingConfiguration": {
            "thingIndexingMode": i.thing_indexing_mode,
            "namedShadowIndexingMode": i.named_shadow_indexing_mode,
            "filter": {"namedShadowNames": i.named_shadow_names},
        },
        "thingGroupIndexingConfiguration": {"thingGroupIndexingMode": "OFF"},
    })
}

/// One term of a query: which field, and the value (`None` for `*`).
#[derive(Debug, PartialEq)]
enum Term {
    ThingName(Option<String>),
    PackageVersion {
        package: String,
        version: Option<String>,
    },
}

/// Splits a query into terms, honouring double quotes.
fn words(query: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in query.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                cur.push(c);
            }
            c if c.is_whitespace() && !quoted => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            c => cur.push(c),
        }
    }
    if quoted {
        return Err("unbalanced quote".into());
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    Ok(out.into_iter().filter(|w| w != "AND").collect())
}

/// The developer guide's "Query syntax": a query holds at most 12 terms.
const MOST_TERMS: usize = 12;

/// A query as a disjunction of conjunctions: terms joined by `OR`, each
/// side a run of terms joined by `AND` (the default operator). Grouping
/// with parentheses, `NOT` and the other operators are not supported here.
fn disjuncts(words: &[String]) -> Result<Vec<Vec<Term>>, String> {
    let terms = words.iter().filter(|w| *w != "OR").count();
    if terms > MOST_TERMS {
        return Err(format!(
            "{terms} terms, more than the {MOST_TERMS} a query may hold"
        ));
    }
    words
        .split(|w| w == "OR")
        .map(|side| match side {
            [] => Err("OR must join two terms".to_owned()),
            ws => ws.iter().map(|w| term(w)).collect(),
        })
        .collect()
}

fn term(word: &str) -> Result<Term, String> {
    let (field, value) = word
        .split_once(':')
        .ok_or_else(|| format!("{word:?} names no field"))?;
    let value = match value {
        "*" => None,
        v if v.len() >= 2 && v.starts_with('"') && v.ends_with('"') => {
            Some(v[1..v.len() - 1].to_owned())
        }
        v if !v.is_empty() && !v.contains('"') && !v.starts_with('-') => Some(v.to_owned()),
        v => return Err(format!("the value {v:?} is not supported here")),
    };
    if field == "thingName" {
        return Ok(Term::ThingName(value));
    }
    let package = field
        .strip_prefix("shadow.name.$package.reported.")
        .and_then(|rest| rest.strip_suffix(".version"))
        .filter(|p| !p.is_empty() && !p.contains('.'))
        .ok_or_else(|| format!("the field {field:?} is not supported here"))?;
    Ok(Term::PackageVersion {
        package: package.to_owned(),
        version: value,
    })
}

fn matches(
    thing: &str,
    reported: &std::collections::BTreeMap<String, String>,
    t: &Term,
    indexed: bool,
) -> bool {
    let eq = |want: &Option<String>, have: &str| {
        want.as_ref().is_none_or(|w| w.eq_ignore_ascii_case(have))
    };
    match t {
        Term::ThingName(name) => eq(name, thing),
        // Without `$package` indexed, the shadow is not searchable: a
        // search silently finds nothing.
        Term::PackageVersion { package, version } => {
            indexed && reported.get(package).is_some_and(|v| eq(version, v))
        }
    }
}

fn search_index(iot: &IotState, req: &Req) -> Result<Value, ApiError> {
    let body = req.json(S)?;
    let index = body
        .get("indexName")
        .and_then(Value::as_str)
        .unwrap_or("AWS_Things");
    wire::check(S, &wire::IOT_INDEX_NAME, index)?;
    let query = body
        .get("queryString")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if query.is_empty() {
        return Err(invalid_request("queryString is required".into()));
    }
    // The model sets no maximum; the API reference says a page holds at
    // most 100 things.
    let size = match body.get("maxResults") {
        None => 100,
        Some(v) => match v.as_u64() {
            Some(n @ 1..=100) => n as usize,
            _ => {
                return Err(invalid_request(format!(
                    "maxResults {v} is not from 1 to 100"
                )))
            }
        },
    };
    let offset = wire::offset_of(S, body.get("nextToken").and_then(Value::as_str))?;
    if index != "AWS_Things" {
        return Err(ApiError::iot_not_found(format!(
            "Index {index} does not exist"
        )));
    }
    // Undocumented: with thing indexing off, the emulator answers as if the
    // index did not exist. packprune reads the configuration first and never
    // searches then.
    if iot.indexing.thing_indexing_mode == "OFF" {
        return Err(ApiError::iot_not_found(
            "Index AWS_Things does not exist".into(),
        ));
    }
    let any_of = words(query)
        .and_then(|ws| disjuncts(&ws))
        .map_err(|e| ApiError::new(400, "InvalidQueryException", format!("Invalid query: {e}")))?;
    let indexed = iot.indexing.indexes_packages();
    let found: Vec<Value> = iot
        .things
        .iter()
        .filter(|(name, reported)| {
            any_of
                .iter()
                .any(|all| all.iter().all(|t| matches(name, reported, t, indexed)))
        })
        .map(|(name, reported)| {
            let shadow: serde_json::Map<String, Value> = reported
                .iter()
                .map(|(p, v)| (p.clone(), json!({"version": v})))
                .collect();
            let mut doc = json!({"thingName": name, "thingId": format!("id-{name}")});
            if indexed {
                doc["shadow"] =
                    json!(json!({"name": {"$package": {"reported": shadow}}}).to_string());
            }
            doc
        })
        .collect();
    let (items, next) = wire::page(&found, offset, size);
    Ok(wire::with_token(
        json!({"things": items, "thingGroups": []}),
        next,
    ))
}

fn job_arn(state: &State, id: &str) -> String {
    format!("arn:aws:iot:{}:{}:job/{id}", state.region, state.account_id)
}

fn list_jobs(state: &State, req: &Req) -> Result<Value, ApiError> {
    let status = one_of(S, "status", req.q("status"), &JOB_STATUSES)?;
    let size = int_in(S, "maxResults", req.q("maxResults"), 1, 250)?.unwrap_or(50) as usize;
    let offset = wire::offset_of(S, req.q("nextToken"))?;
    let jobs: Vec<Value> = state
        .iot
        .jobs
        .iter()
        .filter(|(_, j)| status.is_none_or(|s| j.status == s))
        .map(|(id, j)| json!({"jobArn": job_arn(state, id), "jobId": id, "status": j.status, "targetSelection": "SNAPSHOT", "createdAt": j.created_at}))
        .collect();
    let (items, next) = wire::page(&jobs, offset, size);
    Ok(wire::with_token(json!({"jobs": items}), next))
}

fn describe_job(state: &State, req: &Req) -> Result<Value, ApiError> {
    let id = req.segments.get(1).map(String::as_str).unwrap_or_default();
    wire::check(S, &wire::IOT_JOB_ID, id)?;
    let job = state
        .iot
        .jobs
        .get(id)
        .ok_or_else(|| ApiError::iot_not_found(format!("Job {id} does not exist")))?;
    Ok(
        json!({"job": {"jobArn": job_arn(state, id), "jobId": id, "status": job.status,
        "targetSelection": "SNAPSHOT", "createdAt": job.created_at,
        "destinationPackageVersions": job.destination_package_versions}}),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_parse_into_terms() {
        let ws =
            words(r#"shadow.name.$package.reported.fw.version:"1.0-rc1" AND thingName:*"#).unwrap();
        assert_eq!(
            ws.iter().map(|w| term(w).unwrap()).collect::<Vec<_>>(),
            vec![
                Term::PackageVersion {
                    package: "fw".into(),
                    version: Some("1.0-rc1".into())
                },
                Term::ThingName(None),
            ]
        );
        assert!(term("shadow.name.$package.reported.my.fw.version:1").is_err());
        assert!(term("attributes.color:red").is_err());
        assert!(words("a:\"b").is_err());
    }

    #[test]
    fn or_joins_runs_of_terms_and_a_query_holds_at_most_twelve() {
        let ws = words("thingName:a thingName:b OR thingName:c").unwrap();
        assert_eq!(
            disjuncts(&ws).unwrap(),
            vec![
                vec![
                    Term::ThingName(Some("a".into())),
                    Term::ThingName(Some("b".into()))
                ],
                vec![Term::ThingName(Some("c".into()))],
            ]
        );
        assert!(disjuncts(&words("OR thingName:c").unwrap()).is_err());
        let twelve: Vec<String> = (0..12).map(|i| format!("thingName:t{i}")).collect();
        assert!(disjuncts(&words(&twelve.join(" OR ")).unwrap()).is_ok());
        let thirteen = format!("{} OR thingName:x", twelve.join(" OR "));
        assert!(disjuncts(&words(&thirteen).unwrap()).is_err());
    }
}
