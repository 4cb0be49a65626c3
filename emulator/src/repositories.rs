//! CodeArtifact's ListRepositoriesInDomain, the domain's repositories as
//! `RepositorySummary` objects in name order, and DescribeRepository, one
//! of them as a `RepositoryDescription`, with its upstreams and external
//! connection.

use serde_json::{json, Value};

use crate::scope::domain;
use crate::state::{Domain, Repository, State};
use crate::wire::{self, int_in, optional, required, ApiError, Field, Req, Service};

const S: Service = Service::CodeArtifact;

/// `repository-prefix`: a `RepositoryName` in the model, so at least two
/// characters and the name's pattern.
const REPOSITORY_PREFIX: Field = Field {
    name: "repositoryPrefix",
    min: 2,
    max: 100,
    pattern: Some(&wire::REPOSITORY_NAME),
};
const ADMINISTRATOR_ACCOUNT: Field = Field {
    name: "administratorAccount",
    min: 12,
    max: 12,
    pattern: Some(&wire::ACCOUNT_ID),
};

/// The public repositories an external connection can name, with their
/// formats: the model's AssociateExternalConnection documentation.
pub const EXTERNAL_CONNECTIONS: [(&str, &str); 10] = [
    ("public:npmjs", "npm"),
    ("public:nuget-org", "nuget"),
    ("public:pypi", "pypi"),
    ("public:maven-central", "maven"),
    ("public:maven-googleandroid", "maven"),
    ("public:maven-gradleplugins", "maven"),
    ("public:maven-commonsware", "maven"),
    ("public:maven-clojars", "maven"),
    ("public:ruby-gems-org", "ruby"),
    ("public:crates-io", "cargo"),
];

/// A seeded repository's links: upstreams that are other repositories of
/// its domain, each once; at most one external connection ("A repository
/// is limited to a single external connection only", the user guide's
/// "Add an external connection"), one the model names.
pub fn check(d: &Domain, name: &str, repo: &Repository) -> Result<(), String> {
    for (i, up) in repo.upstreams.iter().enumerate() {
        if up == name || !d.repositories.contains_key(up) || repo.upstreams[..i].contains(up) {
            return Err(format!(
                "repository {name}: upstream {up:?} is not another repository of the domain, once"
            ));
        }
    }
    if repo.external_connections.len() > 1 {
        return Err(format!(
            "repository {name}: at most one external connection"
        ));
    }
    match repo
        .external_connections
        .iter()
        .find(|c| format_of(c).is_none())
    {
        Some(c) => Err(format!(
            "repository {name}: {c:?} is not an external connection"
        )),
        None => Ok(()),
    }
}

fn format_of(connection: &str) -> Option<&'static str> {
    EXTERNAL_CONNECTIONS
        .iter()
        .find(|(n, _)| *n == connection)
        .map(|(_, f)| *f)
}

/// The members a `RepositorySummary` and a `RepositoryDescription` share.
fn summary(region: &str, domain: &str, owner: &str, name: &str, repo: &Repository) -> Value {
    let mut s = json!({"name": name, "domainName": domain, "domainOwner": owner,
        "administratorAccount": repo.administrator_account.as_deref().unwrap_or(owner),
        "arn": format!("arn:aws:codeartifact:{region}:{owner}:repository/{domain}/{name}")});
    if let Some(t) = repo.created_time {
        s["createdTime"] = json!(t);
    }
    if let Some(text) = &repo.description {
        s["description"] = json!(text);
    }
    s
}

/// `GET /v1/repository`: `upstreams` and `externalConnections` are always
/// answered, empty lists included (the guide's examples show `[]`). An
/// external connection's `status` is the model's only value, `Available`
/// (the guide's examples write `AVAILABLE`; the model wins).
pub fn describe(state: &mut State, req: &Req) -> Result<Value, ApiError> {
    let name = required(S, &wire::DOMAIN, req.q("domain"))?;
    let owner = optional(S, &wire::DOMAIN_OWNER, req.q("domain-owner"))?;
    let repository = required(S, &wire::REPOSITORY, req.q("repository"))?;
    let region = state.region.clone();
    let d = domain(state, name, owner)?;
    let domain_owner = d.owner.clone().unwrap_or_default();
    let repo = d
        .repositories
        .get(repository)
        .ok_or_else(|| ApiError::ca_not_found("repository", repository))?;
    let mut r = summary(&region, name, &domain_owner, repository, repo);
    r["upstreams"] = json!(repo
        .upstreams
        .iter()
        .map(|u| json!({ "repositoryName": u }))
        .collect::<Vec<_>>());
    r["externalConnections"] = json!(repo
        .external_connections
        .iter()
        .map(|c| json!({"externalConnectionName": c, "packageFormat": format_of(c), "status": "Available"}))
        .collect::<Vec<_>>());
    Ok(json!({ "repository": r }))
}

/// `POST /v1/domain/repositories`.
pub fn list_in_domain(state: &mut State, req: &Req) -> Result<Value, ApiError> {
    let name = required(S, &wire::DOMAIN, req.q("domain"))?;
    let owner = optional(S, &wire::DOMAIN_OWNER, req.q("domain-owner"))?;
    let admin = optional(S, &ADMINISTRATOR_ACCOUNT, req.q("administrator-account"))?;
    let prefix = optional(S, &REPOSITORY_PREFIX, req.q("repository-prefix"))?;
    // Undocumented: the default page size (the emulator's other lists' 50).
    let size = int_in(S, "maxResults", req.q("max-results"), 1, 1000)?.unwrap_or(50) as usize;
    let token = optional(S, &wire::NEXT_TOKEN, req.q("next-token"))?;
    let offset = wire::offset_of(S, token)?;
    let region = state.region.clone();
    let d = domain(state, name, owner)?;
    let domain_owner = d.owner.clone().unwrap_or_default();
    // Undocumented: the order (the emulator's is by name, bytewise) and
    // that the prefix is matched case-sensitively.
    let matching: Vec<Value> = d
        .repositories
        .iter()
        .filter(|(r, _)| prefix.is_none_or(|p| r.starts_with(p)))
        .filter(|(_, repo)| admin.is_none_or(|a| repo.administrator_account.as_deref() == Some(a)))
        .map(|(r, repo)| summary(&region, name, &domain_owner, r, repo))
        .collect();
    let (items, next) = wire::page(&matching, offset, size);
    Ok(wire::with_token(json!({ "repositories": items }), next))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(query: &[(&str, &str)]) -> Req {
        Req::of_query("POST", query)
    }

    fn names(out: &Value) -> Vec<&str> {
        out["repositories"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["name"].as_str().unwrap())
            .collect()
    }

    fn seeded() -> State {
        State::from_seed(
            r#"{"codeartifact":{"domains":{"acme":{"repositories":{
                "releases":{"description":"Release builds","createdTime":"2025-01-01T00:00:00Z"},
                "apps":{"packages":[{"format":"npm","package":"ui","versions":[{"version":"1.0.0","publishedDaysAgo":3}]}]},
                "app-shared":{"administratorAccount":"444455556666","upstreams":["releases","apps"],"externalConnections":["public:npmjs"]}}}}}}"#,
        )
        .unwrap()
    }

    #[test]
    fn lists_by_name_with_the_summary_members() {
        let mut s = seeded();
        let out = list_in_domain(&mut s, &req(&[("domain", "acme")])).unwrap();
        assert_eq!(names(&out), ["app-shared", "apps", "releases"]);
        let releases = &out["repositories"][2];
        assert_eq!(
            releases["arn"],
            "arn:aws:codeartifact:us-east-1:111122223333:repository/acme/releases"
        );
        assert_eq!(releases["description"], "Release builds");
        assert_eq!(releases["createdTime"], json!(1_735_689_600.0));
        assert_eq!(releases["administratorAccount"], "111122223333");
        // Not seeded: created when its first version was published.
        let apps = &out["repositories"][1];
        let created = apps["createdTime"].as_f64().unwrap();
        assert!(
            (crate::state::now() - created - 3.0 * 86_400.0).abs() < 5.0,
            "{apps}"
        );
        assert!(apps.get("description").is_none());
    }

    #[test]
    fn filters_and_pages() {
        let mut s = seeded();
        let out = list_in_domain(
            &mut s,
            &req(&[("domain", "acme"), ("repository-prefix", "app")]),
        )
        .unwrap();
        assert_eq!(names(&out), ["app-shared", "apps"]);
        let out = list_in_domain(
            &mut s,
            &req(&[
                ("domain", "acme"),
                ("administrator-account", "444455556666"),
            ]),
        )
        .unwrap();
        assert_eq!(names(&out), ["app-shared"]);
        let first =
            list_in_domain(&mut s, &req(&[("domain", "acme"), ("max-results", "2")])).unwrap();
        assert_eq!(names(&first), ["app-shared", "apps"]);
        let token = first["nextToken"].as_str().unwrap();
        let second = list_in_domain(
            &mut s,
            &req(&[
                ("domain", "acme"),
                ("max-results", "2"),
                ("next-token", token),
            ]),
        )
        .unwrap();
        assert_eq!(names(&second), ["releases"]);
        assert!(second.get("nextToken").is_none());
    }

    #[test]
    fn refuses_what_the_model_refuses_and_names_a_missing_domain() {
        let mut s = seeded();
        for bad in [
            vec![("domain", "acme"), ("max-results", "0")],
            vec![("domain", "acme"), ("max-results", "1001")],
            vec![("domain", "acme"), ("repository-prefix", "a")],
            vec![("domain", "acme"), ("administrator-account", "1234")],
            vec![],
        ] {
            let e = list_in_domain(&mut s, &req(&bad)).unwrap_err();
            assert_eq!(e.code, "ValidationException", "{bad:?}");
        }
        for missing in [
            vec![("domain", "nope")],
            vec![("domain", "acme"), ("domain-owner", "999999999999")],
        ] {
            let e = list_in_domain(&mut s, &req(&missing)).unwrap_err();
            assert_eq!((e.status, e.code), (404, "ResourceNotFoundException"));
            assert!(e.members.contains(&("resourceType", json!("domain"))));
        }
    }

    #[test]
    fn describes_a_repository_with_its_upstreams_in_order() {
        let mut s = seeded();
        let q = [("domain", "acme"), ("repository", "app-shared")];
        let r = &describe(&mut s, &req(&q)).unwrap()["repository"];
        assert_eq!(
            r["upstreams"],
            json!([{"repositoryName": "releases"}, {"repositoryName": "apps"}])
        );
        assert_eq!(
            r["externalConnections"],
            json!([{"externalConnectionName": "public:npmjs", "packageFormat": "npm", "status": "Available"}])
        );
        assert_eq!(
            (
                r["administratorAccount"].as_str(),
                r["domainOwner"].as_str()
            ),
            (Some("444455556666"), Some("111122223333"))
        );
        let q = [("domain", "acme"), ("repository", "releases")];
        let r = &describe(&mut s, &req(&q)).unwrap()["repository"];
        assert_eq!(
            (&r["upstreams"], &r["externalConnections"]),
            (&json!([]), &json!([]))
        );
        assert_eq!(r["description"], "Release builds");
        let e = describe(&mut s, &req(&[("domain", "acme"), ("repository", "nope")])).unwrap_err();
        assert!(e.members.contains(&("resourceType", json!("repository"))));
        let e = describe(&mut s, &req(&[("domain", "acme")])).unwrap_err();
        assert_eq!(e.code, "ValidationException");
    }

    #[test]
    fn seeds_link_only_what_exists() {
        for bad in [
            r#""a":{"upstreams":["missing"]}"#,
            r#""a":{"upstreams":["a"]}"#,
            r#""a":{"upstreams":["b","b"]},"b":{}"#,
            r#""a":{"externalConnections":["public:npm"]}"#,
            r#""a":{"externalConnections":["public:npmjs","public:pypi"]}"#,
        ] {
            let seed =
                format!(r#"{{"codeartifact":{{"domains":{{"d":{{"repositories":{{{bad}}}}}}}}}}}"#);
            assert!(State::from_seed(&seed).is_err(), "{bad}");
        }
    }
}
