//! CodeArtifact's ListRepositoriesInDomain: the domain's repositories as
//! `RepositorySummary` objects, in name order.

use serde_json::{json, Value};

use crate::scope::domain;
use crate::state::State;
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
        .map(|(r, repo)| {
            let mut s = json!({"name": r, "domainName": name, "domainOwner": domain_owner,
                "administratorAccount": repo.administrator_account.as_deref().unwrap_or(&domain_owner),
                "arn": format!("arn:aws:codeartifact:{region}:{domain_owner}:repository/{name}/{r}")});
            if let Some(t) = repo.created_time {
                s["createdTime"] = json!(t);
            }
            if let Some(text) = &repo.description {
                s["description"] = json!(text);
            }
            s
        })
        .collect();
    let (items, next) = wire::page(&matching, offset, size);
    Ok(wire::with_token(json!({ "repositories": items }), next))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(query: &[(&str, &str)]) -> Req {
        Req {
            method: "POST".into(),
            segments: vec![],
            query: query
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            body: Default::default(),
        }
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
                "app-shared":{"administratorAccount":"444455556666"}}}}}}"#,
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
}
