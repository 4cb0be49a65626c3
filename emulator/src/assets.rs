//! CodeArtifact's ListPackageVersionAssets, answered from the `assets` a
//! seeded version declares: the files CodeArtifact stores for it, each with
//! its name, size in bytes and hashes (the user guide's "List package
//! version assets"). That page also says an npm version "always has a
//! single asset with a name of `package.tgz`"; a Maven version has its JAR
//! and POM, a Python one its wheel and sdist. A NuGet asset's name is built
//! from the normalised name and version ("NuGet package name, version, and
//! asset name normalization"), so a seed gives it as stored: the emulator
//! answers names as seeded, and normalises none.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::scope::{package_version, scope};
use crate::state::State;
use crate::wire::{self, int_in, optional, ApiError, Field, Req, Service};

const S: Service = Service::CodeArtifact;

/// Assets per page when the request gives no `maxResults`.
// Undocumented: the API reference names no default; 50 is the emulator's
// other lists'.
pub const DEFAULT_PAGE_SIZE: usize = 50;

/// The model's `HashAlgorithm` enum, each with its digest's length in hex.
pub const HASH_ALGORITHMS: [(&str, usize); 4] = [
    ("MD5", 32),
    ("SHA-1", 40),
    ("SHA-256", 64),
    ("SHA-512", 128),
];

wire::pattern!(ASSET_NAME_RE, r"\P{C}+");
wire::pattern!(HASH_VALUE_RE, r"[0-9a-f]+");
const ASSET_NAME: Field = Field {
    name: "name",
    min: 1,
    max: 255,
    pattern: Some(&ASSET_NAME_RE),
};
const HASH_VALUE: Field = Field {
    name: "hashes",
    min: 32,
    max: 512,
    pattern: Some(&HASH_VALUE_RE),
};

/// One stored file (the model's `AssetSummary`), in a seed:
/// `{"name": "package.tgz", "size": 48213, "hashes": {"SHA-256": "…"}}`.
/// `size` and `hashes` are optional, as in the model; an asset seeded
/// without `hashes` is answered with stand-ins ([`stand_in_hashes`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Asset {
    pub name: String,
    /// Bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// Algorithm (`MD5`, `SHA-1`, `SHA-256`, `SHA-512`) → lowercase hex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hashes: Option<BTreeMap<String, String>>,
}

/// A seeded asset against the model: `AssetName`, `HashAlgorithm`,
/// `HashValue`.
pub fn check(a: &Asset) -> Result<(), String> {
    wire::check(S, &ASSET_NAME, &a.name).map_err(|e| e.message)?;
    for (algorithm, value) in a.hashes.iter().flatten() {
        if !HASH_ALGORITHMS.iter().any(|(n, _)| n == algorithm) {
            return Err(format!(
                "asset {}: {algorithm:?} is not a hash algorithm (MD5, SHA-1, SHA-256, SHA-512)",
                a.name
            ));
        }
        wire::check(S, &HASH_VALUE, value)
            .map_err(|e| format!("asset {}: {}", a.name, e.message))?;
    }
    Ok(())
}

/// Hashes for an asset seeded without any: hex digits of each algorithm's
/// length, the same for the same package, version and asset name. They
/// are the emulator's, not the hashes of any content.
pub fn stand_in_hashes(package: &str, version: &str, asset: &str) -> BTreeMap<String, String> {
    HASH_ALGORITHMS
        .iter()
        .map(|(algorithm, len)| {
            let mut hex = String::with_capacity(len + 16);
            let mut block = 0u8;
            while hex.len() < *len {
                let h = fnv1a(
                    [algorithm, package, version, asset].map(str::as_bytes),
                    block,
                );
                hex.push_str(&format!("{h:016x}"));
                block += 1;
            }
            hex.truncate(*len);
            ((*algorithm).to_owned(), hex)
        })
        .collect()
}

fn fnv1a(parts: [&[u8]; 4], block: u8) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in parts
        .iter()
        .flat_map(|p| p.iter().chain(&[0]))
        .chain(&[block])
    {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

fn summary(a: &Asset, package: &str, version: &str) -> Value {
    let hashes = a
        .hashes
        .clone()
        .unwrap_or_else(|| stand_in_hashes(package, version, &a.name));
    let mut s = json!({"name": a.name, "hashes": hashes});
    if let Some(size) = a.size {
        s["size"] = json!(size);
    }
    s
}

/// `POST /v1/package/version/assets`: the version's assets, in the order
/// seeded, `maxResults` (1–1000) at a time.
// Undocumented: the order of the assets.
pub fn list(state: &mut State, req: &Req) -> Result<Value, ApiError> {
    let sc = scope(req, true)?;
    let size = int_in(S, "maxResults", req.q("max-results"), 1, 1000)?
        .unwrap_or(DEFAULT_PAGE_SIZE as i64) as usize;
    let token = optional(S, &wire::NEXT_TOKEN, req.q("next-token"))?;
    let offset = wire::offset_of(S, token)?;
    let (pkg, v) = package_version(state, &sc, req)?;
    // Undocumented: a version whose status is Deleted is answered as
    // missing, as DeletePackageVersions leaves it.
    if v.status == "Deleted" {
        return Err(ApiError::ca_not_found("package-version", &v.version));
    }
    // Disposed: "the assets of the package version will be permanently
    // deleted" (the guide's "Package version status"), so none are listed.
    // Undocumented: that the call answers an empty list, not an error; and
    // that an Archived version (assets kept, not downloadable) lists them.
    let stored: &[Asset] = if v.status == "Disposed" {
        &[]
    } else {
        &v.assets
    };
    let (page, next) = wire::page(stored, offset, size);
    let assets: Vec<Value> = page
        .iter()
        .map(|a| summary(a, &pkg.package, &v.version))
        .collect();
    Ok(wire::version_page(pkg, v, ("assets", assets), next))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(query: &[(&str, &str)]) -> Req {
        Req::of_query("POST", query)
    }

    fn seeded() -> State {
        let many: Vec<Value> = (0..120)
            .map(|i| json!({"name": format!("part-{i:03}.bin"), "size": i}))
            .collect();
        let seed = json!({"codeartifact": {"domains": {"acme": {"repositories": {"apps": {"packages": [
            {"format": "maven", "namespace": "com.acme", "package": "svc", "versions": [
                {"version": "1.0", "assets": [
                    {"name": "svc-1.0.jar", "size": 1_234_567, "hashes": {"SHA-256": "ab".repeat(32)}},
                    {"name": "svc-1.0.pom", "size": 2048}]},
                {"version": "2.0", "assets": many},
                {"version": "0.9", "status": "Disposed", "assets": [{"name": "svc-0.9.jar"}]},
                {"version": "0.8", "status": "Deleted", "assets": [{"name": "svc-0.8.jar"}]}]}]}}}}}});
        State::from_seed(&seed.to_string()).unwrap()
    }

    fn q(version: &str) -> Vec<(&str, &str)> {
        vec![
            ("domain", "acme"),
            ("repository", "apps"),
            ("format", "maven"),
            ("namespace", "com.acme"),
            ("package", "svc"),
            ("version", version),
        ]
    }

    #[test]
    fn answers_the_seeded_assets_with_stand_in_hashes_where_none_are_seeded() {
        let mut s = seeded();
        let out = list(&mut s, &req(&q("1.0"))).unwrap();
        let jar = &out["assets"][0];
        assert_eq!(
            (jar["name"].as_str(), jar["size"].as_u64()),
            (Some("svc-1.0.jar"), Some(1_234_567))
        );
        assert_eq!(jar["hashes"], json!({"SHA-256": "ab".repeat(32)}));
        let pom = &out["assets"][1]["hashes"];
        for (algorithm, len) in HASH_ALGORITHMS {
            let h = pom[algorithm].as_str().unwrap();
            assert!(
                h.len() == len && HASH_VALUE_RE.is_match(h),
                "{algorithm}: {h}"
            );
        }
        assert_eq!(
            list(&mut s, &req(&q("1.0"))).unwrap()["assets"][1]["hashes"],
            *pom
        );
        assert_eq!(out["namespace"], "com.acme");
        assert_eq!(
            out["versionRevision"].as_str(),
            Some(crate::state::revision("svc", "1.0").as_str())
        );
        assert!(out.get("nextToken").is_none());
    }

    #[test]
    fn pages_by_max_results() {
        let mut s = seeded();
        let first = list(&mut s, &req(&q("2.0"))).unwrap();
        assert_eq!(first["assets"].as_array().unwrap().len(), DEFAULT_PAGE_SIZE);
        let mut query = q("2.0");
        query.push(("max-results", "100"));
        let token = first["nextToken"].as_str().unwrap().to_owned();
        query.push(("next-token", &token));
        let rest = list(&mut s, &req(&query)).unwrap();
        assert_eq!(rest["assets"].as_array().unwrap().len(), 70);
        assert_eq!(rest["assets"][0]["name"], "part-050.bin");
        assert!(rest.get("nextToken").is_none());
        for bad in ["0", "1001"] {
            let mut query = q("2.0");
            query.push(("max-results", bad));
            assert_eq!(
                list(&mut s, &req(&query)).unwrap_err().code,
                "ValidationException"
            );
        }
    }

    #[test]
    fn disposed_versions_have_no_assets_and_deleted_ones_are_missing() {
        let mut s = seeded();
        let out = list(&mut s, &req(&q("0.9"))).unwrap();
        assert_eq!(out["assets"], json!([]));
        for version in ["0.8", "9.9"] {
            let e = list(&mut s, &req(&q(version))).unwrap_err();
            assert_eq!((e.status, e.code), (404, "ResourceNotFoundException"));
            assert!(e
                .members
                .contains(&("resourceType", json!("package-version"))));
        }
    }

    #[test]
    fn seeds_are_checked_against_the_model() {
        let asset = |a: Value| serde_json::from_value::<Asset>(a).unwrap();
        assert!(check(&asset(json!({"name": "package.tgz"}))).is_ok());
        assert!(check(&asset(json!({"name": ""}))).is_err());
        assert!(check(&asset(
            json!({"name": "a", "hashes": {"SHA-3": "ab".repeat(16)}})
        ))
        .is_err());
        assert!(check(&asset(
            json!({"name": "a", "hashes": {"MD5": "AB".repeat(16)}})
        ))
        .is_err());
        assert!(check(&asset(json!({"name": "a", "hashes": {"MD5": "ab"}}))).is_err());
        let seed = r#"{"codeartifact":{"domains":{"acme":{"repositories":{"r":{"packages":[
            {"format":"npm","package":"x","versions":[{"version":"1","assets":[{"name":"p","hashes":{"MD5":"x"}}]}]}]}}}}}}"#;
        assert!(State::from_seed(seed).is_err());
    }
}
