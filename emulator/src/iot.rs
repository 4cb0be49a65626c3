//! IoT 2015-05-28, software package catalog: ListPackages, GetPackage,
//! ListPackageVersions, GetPackageVersion, UpdatePackage,
//! UpdatePackageVersion, DeletePackageVersion, DeletePackage, CreatePackage
//! and CreatePackageVersion; and, in [`crate::fleet`], what tells what is
//! in use.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::state::{now, IotPackage, IotVersion, State};
use crate::wire::{self, check, int_in, one_of, optional, ApiError, Req, Service};

const S: Service = Service::Iot;

/// The operation a request names, if any.
pub fn route(method: &str, segments: &[String]) -> Option<&'static str> {
    let s: Vec<&str> = segments.iter().map(String::as_str).collect();
    if let Some(op) = crate::fleet::route(method, &s) {
        return Some(op);
    }
    Some(match (method, s.as_slice()) {
        ("GET", ["packages"]) => "ListPackages",
        ("GET", ["packages", _]) => "GetPackage",
        ("PUT", ["packages", _]) => "CreatePackage",
        ("PATCH", ["packages", _]) => "UpdatePackage",
        ("DELETE", ["packages", _]) => "DeletePackage",
        ("GET", ["packages", _, "versions"]) => "ListPackageVersions",
        ("GET", ["packages", _, "versions", _]) => "GetPackageVersion",
        ("PUT", ["packages", _, "versions", _]) => "CreatePackageVersion",
        ("PATCH", ["packages", _, "versions", _]) => "UpdatePackageVersion",
        ("DELETE", ["packages", _, "versions", _]) => "DeletePackageVersion",
        _ => return None,
    })
}

pub fn handle(op: &str, state: &mut State, req: &Req) -> Result<Value, ApiError> {
    if req.segments.first().map(String::as_str) != Some("packages") {
        return crate::fleet::handle(op, state, req);
    }
    if let Some(p) = req.segments.get(1) {
        check(S, &wire::IOT_PACKAGE, p)?;
    }
    if let Some(v) = req.segments.get(3) {
        check(S, &wire::IOT_VERSION, v)?;
    }
    optional(S, &wire::IOT_CLIENT_TOKEN, req.q("clientToken"))?;
    let package = req.segments.get(1).map(String::as_str).unwrap_or_default();
    let version = req.segments.get(3).map(String::as_str).unwrap_or_default();
    match op {
        "ListPackages" => list_packages(state, req),
        "GetPackage" => get_package(state, package),
        "CreatePackage" => create_package(state, req, package),
        "UpdatePackage" => update_package(state, req, package),
        "DeletePackage" => delete_package(state, package),
        "ListPackageVersions" => list_package_versions(state, req, package),
        "GetPackageVersion" => get_package_version(state, package, version),
        "CreatePackageVersion" => create_package_version(state, req, package, version),
        "UpdatePackageVersion" => update_package_version(state, req, package, version),
        "DeletePackageVersion" => delete_package_version(state, package, version),
        _ => Err(ApiError::new(
            404,
            "UnknownOperationException",
            format!("unknown operation {op}"),
        )),
    }
}

fn package_arn(state: &State, package: &str) -> String {
    format!(
        "arn:aws:iot:{}:{}:package/{package}",
        state.region, state.account_id
    )
}

fn page_size(req: &Req) -> Result<usize, ApiError> {
    Ok(int_in(S, "maxResults", req.q("maxResults"), 1, 100)?.unwrap_or(25) as usize)
}

fn list_packages(state: &mut State, req: &Req) -> Result<Value, ApiError> {
    let size = page_size(req)?;
    let offset = wire::offset_of(S, req.q("nextToken"))?;
    let all: Vec<Value> = state
        .iot
        .packages
        .iter()
        .map(|(name, p)| {
            let mut s = json!({"packageName": name, "creationDate": p.creation_date, "lastModifiedDate": p.last_modified_date});
            if let Some(d) = &p.default_version {
                s["defaultVersionName"] = json!(d);
            }
            s
        })
        .collect();
    let (items, next) = wire::page(&all, offset, size);
    Ok(wire::with_token(json!({ "packageSummaries": items }), next))
}

fn found<'s>(state: &'s mut State, package: &str) -> Result<&'s mut IotPackage, ApiError> {
    state
        .iot
        .packages
        .get_mut(package)
        .ok_or_else(|| ApiError::iot_not_found(format!("Package {package} does not exist")))
}

fn get_package(state: &mut State, package: &str) -> Result<Value, ApiError> {
    let arn = package_arn(state, package);
    let p = found(state, package)?;
    let mut out = json!({"packageName": package, "packageArn": arn,
        "creationDate": p.creation_date, "lastModifiedDate": p.last_modified_date});
    if let Some(d) = &p.description {
        out["description"] = json!(d);
    }
    if let Some(d) = &p.default_version {
        out["defaultVersionName"] = json!(d);
    }
    Ok(out)
}

fn create_package(state: &mut State, req: &Req, package: &str) -> Result<Value, ApiError> {
    let body = req.json(S)?;
    let description = optional(
        S,
        &wire::IOT_DESCRIPTION,
        body.get("description").and_then(Value::as_str),
    )?;
    if state.iot.packages.contains_key(package) {
        return Err(ApiError::new(
            409,
            "ConflictException",
            format!("Package {package} already exists"),
        )
        .member("resourceId", package));
    }
    let t = now();
    state.iot.packages.insert(
        package.to_owned(),
        IotPackage {
            description: description.map(str::to_owned),
            default_version: None,
            creation_date: Some(t),
            last_modified_date: Some(t),
            versions: BTreeMap::new(),
        },
    );
    let mut out = json!({"packageName": package, "packageArn": package_arn(state, package)});
    if let Some(d) = description {
        out["description"] = json!(d);
    }
    Ok(out)
}

fn update_package(state: &mut State, req: &Req, package: &str) -> Result<Value, ApiError> {
    let body = req.json(S)?;
    let default = optional(
        S,
        &wire::IOT_DEFAULT_VERSION,
        body.get("defaultVersionName").and_then(Value::as_str),
    )?;
    let description = optional(
        S,
        &wire::IOT_DESCRIPTION,
        body.get("description").and_then(Value::as_str),
    )?;
    let unset = body
        .get("unsetDefaultVersion")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    if unset && default.is_some() {
        return Err(ApiError::validation(
            S,
            "defaultVersionName and unsetDefaultVersion cannot be used together".into(),
        ));
    }
    let p = found(state, package)?;
    if let Some(v) = default {
        match p.versions.get(v) {
            None => {
                return Err(ApiError::iot_not_found(format!(
                    "Package version {package}@{v} does not exist"
                )))
            }
            Some(pv) if pv.status != "PUBLISHED" => {
                return Err(ApiError::new(
                    409,
                    "ConflictException",
                    format!(
                        "Only a PUBLISHED version can be the default; {v} is {}",
                        pv.status
                    ),
                )
                .member("resourceId", v))
            }
            Some(_) => p.default_version = Some(v.to_owned()),
        }
    }
    if unset {
        p.default_version = None;
    }
    if let Some(d) = description {
        p.description = Some(d.to_owned());
    }
    p.last_modified_date = Some(now());
    Ok(json!({}))
}

fn delete_package(state: &mut State, package: &str) -> Result<Value, ApiError> {
    // Idempotent: deleting a package that does not exist succeeds.
    if let Some(p) = state.iot.packages.get(package) {
        if !p.versions.is_empty() {
            return Err(ApiError::validation(
                S,
                format!("Package {package} still has {} version(s); all package versions must be deleted before deleting the software package", p.versions.len()),
            ));
        }
        state.iot.packages.remove(package);
    }
    Ok(json!({}))
}

fn list_package_versions(state: &mut State, req: &Req, package: &str) -> Result<Value, ApiError> {
    let status = one_of(S, "status", req.q("status"), &wire::IOT_STATUSES)?;
    let size = page_size(req)?;
    let offset = wire::offset_of(S, req.q("nextToken"))?;
    let all: Vec<Value> = state
        .iot
        .packages
        .get(package)
        .map(|p| {
            p.versions
                .iter()
                .filter(|(_, v)| status.is_none_or(|s| v.status == s))
                .map(|(name, v)| {
                    json!({"packageName": package, "versionName": name, "status": v.status,
                    "creationDate": v.creation_date, "lastModifiedDate": v.last_modified_date})
                })
                .collect()
        })
        .unwrap_or_default();
    let (items, next) = wire::page(&all, offset, size);
    Ok(wire::with_token(
        json!({ "packageVersionSummaries": items }),
        next,
    ))
}

fn get_package_version(state: &mut State, package: &str, version: &str) -> Result<Value, ApiError> {
    let arn = format!("{}/version/{version}", package_arn(state, package));
    let v = found(state, package)?
        .versions
        .get(version)
        .ok_or_else(|| {
            ApiError::iot_not_found(format!(
                "Package version {package}@{version} does not exist"
            ))
        })?;
    let mut out = json!({"packageVersionArn": arn, "packageName": package, "versionName": version,
        "attributes": v.attributes, "status": v.status,
        "creationDate": v.creation_date, "lastModifiedDate": v.last_modified_date});
    if let Some(d) = &v.description {
        out["description"] = json!(d);
    }
    Ok(out)
}

fn create_package_version(
    state: &mut State,
    req: &Req,
    package: &str,
    version: &str,
) -> Result<Value, ApiError> {
    let body = req.json(S)?;
    let description = optional(
        S,
        &wire::IOT_DESCRIPTION,
        body.get("description").and_then(Value::as_str),
    )?;
    let attributes: BTreeMap<String, String> = body
        .get("attributes")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_owned())))
                .collect()
        })
        .unwrap_or_default();
    let arn = format!("{}/version/{version}", package_arn(state, package));
    let Some(p) = state.iot.packages.get_mut(package) else {
        return Err(ApiError::validation(
            S,
            format!("Package {package} does not exist; create it first"),
        ));
    };
    if p.versions.contains_key(version) {
        return Err(ApiError::new(
            409,
            "ConflictException",
            format!("Package version {package}@{version} already exists"),
        )
        .member("resourceId", version));
    }
    let t = now();
    p.versions.insert(
        version.to_owned(),
        IotVersion {
            // A new version starts as a draft.
            status: "DRAFT".into(),
            description: description.map(str::to_owned),
            attributes: attributes.clone(),
            creation_date: Some(t),
            created_days_ago: None,
            last_modified_date: Some(t),
        },
    );
    p.last_modified_date = Some(t);
    let mut out = json!({"packageVersionArn": arn, "packageName": package, "versionName": version,
        "attributes": attributes, "status": "DRAFT"});
    if let Some(d) = description {
        out["description"] = json!(d);
    }
    Ok(out)
}

fn delete_package_version(
    state: &mut State,
    package: &str,
    version: &str,
) -> Result<Value, ApiError> {
    // Idempotent: a version (or package) that does not exist is already deleted.
    if let Some(p) = state.iot.packages.get_mut(package) {
        if p.default_version.as_deref() == Some(version) {
            return Err(ApiError::validation(
                S,
                format!("{version} is the default version of package {package}; remove the designation with UpdatePackage before deleting it"),
            ));
        }
        if p.versions.remove(version).is_some() {
            p.last_modified_date = Some(now());
        }
    }
    Ok(json!({}))
}

/// `action` moves a version: `PUBLISH` from DRAFT or DEPRECATED to
/// PUBLISHED, `DEPRECATE` from PUBLISHED to DEPRECATED. Undocumented, and
/// the emulator's guesses: deprecating a DRAFT is a ConflictException, and
/// repeating an action on a version already there succeeds. packprune's
/// deprecations select PUBLISHED versions and do not rely on either.
fn update_package_version(
    state: &mut State,
    req: &Req,
    package: &str,
    version: &str,
) -> Result<Value, ApiError> {
    let body = req.json(S)?;
    let action = one_of(
        S,
        "action",
        body.get("action").and_then(Value::as_str),
        &["PUBLISH", "DEPRECATE"],
    )?;
    let description = optional(
        S,
        &wire::IOT_DESCRIPTION,
        body.get("description").and_then(Value::as_str),
    )?;
    let v = found(state, package)?
        .versions
        .get_mut(version)
        .ok_or_else(|| {
            ApiError::iot_not_found(format!(
                "Package version {package}@{version} does not exist"
            ))
        })?;
    match (action, v.status.as_str()) {
        (Some("DEPRECATE"), "DRAFT") => {
            return Err(ApiError::new(
                409,
                "ConflictException",
                format!(
                    "{package}@{version} is a DRAFT; only a PUBLISHED version can be deprecated"
                ),
            )
            .member("resourceId", version))
        }
        (Some("DEPRECATE"), _) => v.status = "DEPRECATED".into(),
        (Some(_), _) => v.status = "PUBLISHED".into(),
        (None, _) => {}
    }
    if let Some(d) = description {
        v.description = Some(d.to_owned());
    }
    v.last_modified_date = Some(now());
    Ok(json!({}))
}
