//! CodeArtifact 2018-09-22: ListPackages, ListPackageVersions,
//! DescribePackageVersion, DeletePackageVersions, DeletePackage and
//! UpdatePackageVersionsStatus; ListPackageVersionDependencies
//! (`dependencies`); ListPackageVersionAssets (`assets`);
//! ListRepositoriesInDomain and DescribeRepository (`repositories`);
//! ListPackageGroups, ListAssociatedPackages and GetAssociatedPackageGroup
//! (`groups`, with the pattern language in `pattern`). What the package
//! operations share in reading a request is in `scope`.

use serde_json::{json, Map, Value};

use crate::scope::{package_index, package_version, repository, scope};
use crate::state::{revision, CaPackage, CaVersion, State};
use crate::wire::{self, check, int_in, one_of, optional, ApiError, Req, Service};
use crate::{assets, dependencies, groups, names, repositories};

const S: Service = Service::CodeArtifact;

/// The operation a request names, if any.
pub fn route(method: &str, path: &str) -> Option<&'static str> {
    Some(match (method, path) {
        ("POST", "/v1/packages") => "ListPackages",
        ("POST", "/v1/package/versions") => "ListPackageVersions",
        ("GET", "/v1/package/version") => "DescribePackageVersion",
        ("POST", "/v1/package/versions/delete") => "DeletePackageVersions",
        ("DELETE", "/v1/package") => "DeletePackage",
        ("POST", "/v1/package/versions/update_status") => "UpdatePackageVersionsStatus",
        ("POST", "/v1/package/version/dependencies") => "ListPackageVersionDependencies",
        ("POST", "/v1/domain/repositories") => "ListRepositoriesInDomain",
        ("POST", "/v1/package/version/assets") => "ListPackageVersionAssets",
        ("GET", "/v1/repository") => "DescribeRepository",
        ("GET", "/v1/list-associated-packages") => "ListAssociatedPackages",
        ("GET", "/v1/get-associated-package-group") => "GetAssociatedPackageGroup",
        ("POST", "/v1/package-groups") => "ListPackageGroups",
        _ => return None,
    })
}

pub fn handle(op: &str, state: &mut State, req: &Req) -> Result<Value, ApiError> {
    match op {
        "ListPackages" => list_packages(state, req),
        "ListPackageVersions" => list_package_versions(state, req),
        "DescribePackageVersion" => describe_package_version(state, req),
        "DeletePackageVersions" => delete_package_versions(state, req),
        "DeletePackage" => delete_package(state, req),
        "UpdatePackageVersionsStatus" => update_status(state, req),
        "ListPackageVersionDependencies" => dependencies::list(state, req),
        "ListRepositoriesInDomain" => repositories::list_in_domain(state, req),
        "ListPackageVersionAssets" => assets::list(state, req),
        "DescribeRepository" => repositories::describe(state, req),
        "ListAssociatedPackages" => groups::list_associated(state, req),
        "GetAssociatedPackageGroup" => groups::get_associated(state, req),
        "ListPackageGroups" => groups::list(state, req),
        _ => Err(ApiError::new(
            404,
            "UnknownOperationException",
            format!("unknown operation {op}"),
        )),
    }
}

fn summary(p: &CaPackage) -> Value {
    let mut v = json!({"format": p.format, "package": p.package,
        "originConfiguration": {"restrictions": {"publish": "ALLOW", "upstream": "ALLOW"}}});
    if let Some(ns) = &p.namespace {
        v["namespace"] = json!(ns);
    }
    v
}

fn origin(repository: &str, v: &CaVersion) -> Value {
    json!({"domainEntryPoint": {"repositoryName": repository}, "originType": v.origin_type})
}

fn list_packages(state: &mut State, req: &Req) -> Result<Value, ApiError> {
    let sc = scope(req, false)?;
    let prefix = optional(S, &wire::PACKAGE_PREFIX, req.q("package-prefix"))?
        .map(|pre| names::prefix_input(sc.format, pre));
    let size = int_in(S, "maxResults", req.q("max-results"), 1, 1000)?.unwrap_or(50) as usize;
    let token = optional(S, &wire::NEXT_TOKEN, req.q("next-token"))?;
    one_of(S, "publish", req.q("publish"), &["ALLOW", "BLOCK"])?;
    one_of(S, "upstream", req.q("upstream"), &["ALLOW", "BLOCK"])?;
    let offset = wire::offset_of(S, token)?;
    let repo = repository(state, &sc)?;
    let matching: Vec<Value> = repo
        .packages
        .iter()
        .filter(|p| sc.format.is_none_or(|f| p.format == f))
        // `namespace` is a prefix match, despite its name.
        .filter(|p| {
            sc.namespace
                .as_deref()
                .is_none_or(|ns| p.namespace.as_deref().is_some_and(|n| n.starts_with(ns)))
        })
        .filter(|p| {
            prefix
                .as_deref()
                .is_none_or(|pre| p.package.starts_with(pre))
        })
        .map(summary)
        .collect();
    let (items, next) = wire::page(&matching, offset, size);
    Ok(wire::with_token(json!({ "packages": items }), next))
}

fn list_package_versions(state: &mut State, req: &Req) -> Result<Value, ApiError> {
    let sc = scope(req, true)?;
    let status = one_of(S, "status", req.q("status"), &wire::CA_STATUSES)?;
    let sort = one_of(S, "sortBy", req.q("sortBy"), &["PUBLISHED_TIME"])?;
    let size = int_in(S, "maxResults", req.q("max-results"), 1, 1000)?.unwrap_or(50) as usize;
    let token = optional(S, &wire::NEXT_TOKEN, req.q("next-token"))?;
    let origin_type = one_of(S, "originType", req.q("originType"), &wire::ORIGIN_TYPES)?;
    let offset = wire::offset_of(S, token)?;
    let repo = repository(state, &sc)?;
    let pkg = &repo.packages[package_index(repo, &sc)?];
    let mut versions: Vec<&CaVersion> = pkg
        .versions
        .iter()
        .filter(|v| status.is_none_or(|s| v.status == s))
        .filter(|v| origin_type.is_none_or(|o| v.origin_type == o))
        .collect();
    if sort.is_some() {
        // Newest published first; the only order the API offers.
        versions.sort_by(|a, b| {
            b.published_time
                .partial_cmp(&a.published_time)
                .unwrap_or(std::cmp::Ordering::Equal)
        });
    }
    // Paged first, so that a page of a large package costs its own size.
    let (page, next) = wire::page(&versions, offset, size);
    let items: Vec<Value> = page
        .iter()
        .map(|v| json!({"version": v.version, "revision": v.revision, "status": v.status, "origin": origin(sc.repository, v)}))
        .collect();
    let mut body = json!({"format": pkg.format, "package": pkg.package, "versions": items});
    if let Some(ns) = &pkg.namespace {
        body["namespace"] = json!(ns);
    }
    // The package's, whatever the page or filter: the seeded `latest`
    // (npm's dist-tag) if it still exists, else the newest published.
    let seeded = pkg
        .default_display_version
        .as_ref()
        .filter(|d| pkg.versions.iter().any(|v| &v.version == *d));
    let newest = pkg.versions.iter().max_by(|a, b| {
        a.published_time
            .partial_cmp(&b.published_time)
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    if let Some(latest) = seeded.or(newest.map(|v| &v.version)) {
        body["defaultDisplayVersion"] = json!(latest);
    }
    Ok(wire::with_token(body, next))
}

fn describe_package_version(state: &mut State, req: &Req) -> Result<Value, ApiError> {
    let sc = scope(req, true)?;
    let (pkg, v) = package_version(state, &sc, req)?;
    // `displayName`: the name as published (the NuGet page); `packageName`:
    // as stored. Undocumented: Python's and Swift's display names as
    // published too.
    let display = pkg.display_name.as_deref().unwrap_or(&pkg.package);
    let mut d = json!({
        "format": pkg.format, "packageName": pkg.package, "displayName": display,
        "version": v.version, "publishedTime": v.published_time, "licenses": [],
        "revision": v.revision, "status": v.status, "origin": origin(sc.repository, v)});
    if let Some(ns) = &pkg.namespace {
        d["namespace"] = json!(ns);
    }
    Ok(json!({ "packageVersion": d }))
}

/// The `versions` body member, a list of at most 100 valid versions, as
/// CodeArtifact reads them: normalised (`names::version`), each once.
fn versions_member(format: &str, body: &Map<String, Value>) -> Result<Vec<String>, ApiError> {
    let Some(list) = body.get("versions") else {
        return Err(ApiError::validation(S, "1 validation error detected: Value null at 'versions' failed to satisfy constraint: Member must not be null".into()));
    };
    let Some(list) = list.as_array() else {
        return Err(ApiError::validation(
            S,
            "Value at 'versions' must be a list".into(),
        ));
    };
    if list.len() > 100 {
        return Err(ApiError::validation(
            S,
            format!("1 validation error detected: Value at 'versions' failed to satisfy constraint: Member must have length less than or equal to 100 (got {})", list.len()),
        ));
    }
    let mut versions = list
        .iter()
        .map(|v| {
            let s = v.as_str().ok_or_else(|| {
                ApiError::validation(S, "Value at 'versions' must hold strings".into())
            })?;
            check(S, &wire::PACKAGE_VERSION, s).map(|()| names::version(format, s))
        })
        .collect::<Result<Vec<String>, ApiError>>()?;
    // Two spellings of one version are one: the answer names it once.
    names::dedup_by_key(&mut versions, String::clone);
    Ok(versions)
}

fn version_error(code: &str, message: String) -> Value {
    json!({"errorCode": code, "errorMessage": message})
}

/// The body's `expectedStatus`, checked against the enum.
fn expected_status(body: &Map<String, Value>) -> Result<Option<&str>, ApiError> {
    one_of(
        S,
        "expectedStatus",
        body.get("expectedStatus").and_then(Value::as_str),
        &wire::CA_STATUSES,
    )
}

/// What DeletePackageVersions and UpdatePackageVersionsStatus share: every
/// requested version is looked up (`NOT_FOUND`) and checked against
/// `expectedStatus` (`MISMATCHED_STATUS`); `apply` decides the rest, giving
/// the success entry or the failure entry.
fn per_version(
    pkg: &mut CaPackage,
    versions: Vec<String>,
    expected: Option<&str>,
    mut apply: impl FnMut(&mut CaPackage, usize) -> Result<Value, Value>,
) -> Value {
    let mut ok = Map::new();
    let mut failed = Map::new();
    for name in versions {
        let Some(pos) = pkg.versions.iter().position(|v| v.version == name) else {
            failed.insert(
                name.clone(),
                version_error("NOT_FOUND", format!("Package version {name} not found")),
            );
            continue;
        };
        let status = &pkg.versions[pos].status;
        if let Some(e) = expected.filter(|e| e != status) {
            failed.insert(
                name,
                version_error(
                    "MISMATCHED_STATUS",
                    format!("expected status {e}, found {status}"),
                ),
            );
            continue;
        }
        match apply(pkg, pos) {
            Ok(v) => ok.insert(name, v),
            Err(e) => failed.insert(name, e),
        };
    }
    json!({"successfulVersions": ok, "failedVersions": failed})
}

fn delete_package_versions(state: &mut State, req: &Req) -> Result<Value, ApiError> {
    let sc = scope(req, true)?;
    let body = req.json(S)?;
    let versions = versions_member(sc.format.unwrap_or_default(), &body)?;
    let expected = expected_status(&body)?;
    let repo = repository(state, &sc)?;
    let idx = package_index(repo, &sc)?;
    Ok(per_version(
        &mut repo.packages[idx],
        versions,
        expected,
        |pkg, pos| {
            if !pkg.versions[pos].delete_allowed {
                return Err(version_error(
                    "NOT_ALLOWED",
                    "Deleting this package version is not allowed".into(),
                ));
            }
            let v = pkg.versions.remove(pos);
            Ok(json!({"revision": v.revision, "status": "Deleted"}))
        },
    ))
}

fn delete_package(state: &mut State, req: &Req) -> Result<Value, ApiError> {
    let sc = scope(req, true)?;
    let repo = repository(state, &sc)?;
    let idx = package_index(repo, &sc)?;
    let pkg = repo.packages.remove(idx);
    Ok(json!({ "deletedPackage": summary(&pkg) }))
}

fn update_status(state: &mut State, req: &Req) -> Result<Value, ApiError> {
    let sc = scope(req, true)?;
    let body = req.json(S)?;
    let format = sc.format.unwrap_or_default();
    let versions = versions_member(format, &body)?;
    let expected = expected_status(&body)?;
    let target = one_of(S, "targetStatus", body.get("targetStatus").and_then(Value::as_str), &wire::CA_STATUSES)?
        .ok_or_else(|| ApiError::validation(S, "1 validation error detected: Value null at 'targetStatus' failed to satisfy constraint: Member must not be null".into()))?;
    if !["Archived", "Published", "Unlisted"].contains(&target) {
        return Err(ApiError::validation(
            S,
            format!("targetStatus {target} is not allowed; use Archived, Published or Unlisted"),
        ));
    }
    // Keys normalised as `versions` are. Undocumented: of two keys that
    // normalise to one version, the first met counts.
    let mut revisions = Map::new();
    for (k, v) in body
        .get("versionRevisions")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        revisions
            .entry(names::version(format, k))
            .or_insert_with(|| v.clone());
    }
    let repo = repository(state, &sc)?;
    let idx = package_index(repo, &sc)?;
    Ok(per_version(
        &mut repo.packages[idx],
        versions,
        expected,
        |pkg, pos| {
            let package = pkg.package.clone();
            let v = &mut pkg.versions[pos];
            if revisions
                .get(&v.version)
                .is_some_and(|r| r.as_str() != v.revision.as_deref())
            {
                return Err(version_error(
                    "MISMATCHED_REVISION",
                    "the revision does not match".into(),
                ));
            }
            v.status = target.to_owned();
            v.revision = Some(revision(&format!("{package}@{target}"), &v.version));
            Ok(json!({"revision": v.revision, "status": target}))
        },
    ))
}
