//! The demo's review-then-apply workflow: a dry run writes its plan to the
//! reports bucket (moto's S3), the Markdown is what a reviewer reads (it
//! leads with what the plan would free: `measureStorage`; two of the
//! versions are also in `mirror`, where their assets stay), and an apply
//! carries out exactly that plan. One planned version is republished in
//! between: the apply keeps it as PLAN_STALE.

use anyhow::{anyhow, Result};
use serde_json::{json, Value};

use crate::support::reports::{get, links};
use crate::support::*;

fn dry_run() -> Value {
    json!({"service": "codeartifact", "domain": "acme", "repository": "releases",
           "format": "pypi", "package": "data-pipeline",
           "policy": {"keepLatest": 10, "olderThanDays": 60}, "measureStorage": true, "dryRun": true})
}

pub async fn run(watch: &LambdaWatch, stack: &Stack) -> Result<()> {
    println!("── review, then apply exactly: data-pipeline, keep the newest 10 and what is younger than 60 days");
    let dry = watch.invoke(&dry_run())?;
    let (json_uri, _, md_uri, sha) = links(&dry)?;
    println!("   dry run → {json_uri}\n   sha256 {sha}");
    println!(
        "   storage {} (bytes of what would go; sharedBytes stay stored in another repository)",
        dry["storage"]
    );
    println!("   ┌── report.md");
    for line in String::from_utf8(get(&md_uri).await?)?.lines() {
        println!("   │ {line}");
    }
    println!("   └──");
    let plan: Value = serde_json::from_slice(&get(&json_uri).await?)?;
    let first = plan["packages"][0]["versions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|v| v["fate"] == "delete")
        .filter_map(|v| v["version"].as_str())
        .next_back()
        .ok_or_else(|| anyhow!("the plan deletes nothing"))?
        .to_owned();
    stack.emulator.shared.edit(|s| {
        let repo = s
            .codeartifact
            .domains
            .get_mut("acme")?
            .repositories
            .get_mut("releases")?;
        let pkg = repo
            .packages
            .iter_mut()
            .find(|p| p.package == "data-pipeline")?;
        let v = pkg.versions.iter_mut().find(|v| v.version == first)?;
        v.revision = Some("REV-REPUBLISHED".into());
        Some(())
    });
    println!("   meanwhile, {first} is republished (a new revision)");
    let apply = json!({"service": "codeartifact", "apply": {"report": json_uri, "sha256": sha}});
    println!("   apply {apply}");
    let out = watch.invoke(&apply)?;
    println!(
        "       → deleted {}, kept {}, storage {}; report {}",
        out["deleted"],
        out["kept"],
        out["storage"],
        out["report"]["json"].as_str().unwrap_or("?")
    );
    for line in crate::log_lines(watch, |v| {
        v["message"] == "version outcome" && v["code"] == "PLAN_STALE"
    }) {
        println!(
            "       {} kept as PLAN_STALE: {}",
            line["version"].as_str().unwrap_or("?"),
            line["detail"].as_str().unwrap_or("")
        );
    }
    Ok(())
}
