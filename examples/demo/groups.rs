//! The demo's package groups: a policy over `/npm/acme/*` in `releases`
//! plans only the packages CodeArtifact associates with that group
//! (`@acme/ui-kit` belongs to the more specific `/npm/acme/ui~`), and a
//! group that does not exist deletes nothing and says so.

use anyhow::Result;
use serde_json::{json, Value};

use crate::support::*;

fn group(pattern: &str) -> Value {
    json!({"service": "codeartifact", "domain": "acme", "repository": "releases",
           "packageGroup": pattern, "policy": {"keepLatest": 20}, "dryRun": true})
}

pub async fn run(watch: &LambdaWatch) -> Result<()> {
    println!(
        "── a policy over a package group: /npm/acme/* in releases, keep the newest 20 (dry run)"
    );
    let out = watch.invoke(&group("/npm/acme/*"))?;
    for plan in out["plans"].as_array().into_iter().flatten() {
        let n = plan["delete"].as_array().map_or(0, Vec::len);
        println!(
            "   {} would delete {n}; ui-kit, of the child group /npm/acme/ui~, is not in the scope",
            plan["package"].as_str().unwrap_or("?")
        );
    }
    println!("── a group that does not exist: /npm/acme-typo/*");
    let out = watch.invoke(&group("/npm/acme-typo/*"))?;
    println!(
        "   deleted {}, packagesNotFound {}, missingPackages {}",
        out["deleted"], out["packagesNotFound"], out["missingPackages"]
    );
    for line in crate::log_lines(watch, |v| {
        v["message"] == "version outcome" && v["detail"] == "package group not found"
    }) {
        println!(
            "   audit line: {} → {}",
            line["package"].as_str().unwrap_or("?"),
            line["detail"].as_str().unwrap_or("")
        );
    }
    Ok(())
}
