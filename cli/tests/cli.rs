//! packprune-cli end to end: the binary, its clients pointed at the
//! emulator only through the standard `AWS_ENDPOINT_URL_*` variables. Its
//! plan of a repository makes no write call (the emulator's call log) and
//! lists the versions the Lambda's dry run of the same request lists (the
//! function in process, its report in moto's S3); its apply of that plan
//! deletes exactly those versions, and refuses a changed digest. Needs the
//! virtualenv `make test` creates (moto), like the root package's
//! end-to-end tests, whose local stack it shares.

#[path = "../../tests/support/mod.rs"]
mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use packprune::report::{Report, VersionRow};
use serde_json::{json, Value};
use support::reports::*;
use support::*;

const CLI: &str = env!("CARGO_BIN_EXE_packprune-cli");
const PACKAGES: [&str; 3] = ["api", "core", "web"];

/// `releases`: three npm packages of eight versions, 1.0.0 the oldest,
/// and npm's `latest` of `web` an old one.
fn releases() -> packprune_emulator::State {
    let packages: Vec<Value> = PACKAGES
        .iter()
        .map(|name| {
            let versions: Vec<Value> = (0..8)
                .map(|i| json!({"version": format!("1.{i}.0"), "publishedDaysAgo": 90 - 10 * i}))
                .collect();
            let mut p = json!({"format": "npm", "package": name, "versions": versions});
            if *name == "web" {
                p["defaultDisplayVersion"] = json!("1.1.0");
            }
            p
        })
        .collect();
    seed(
        json!({"codeartifact": {"domains": {"acme": {"repositories": {
            "releases": {"packages": packages}
        }}}}}),
    )
}

const REQUEST: &str = r#"{"service":"codeartifact","domain":"acme","repository":"releases","policy":{"keepLatest":2,"olderThanDays":30}}"#;

/// Runs the CLI in `dir` against the stack, with `stdin`.
fn cli(stack: &Stack, dir: &Path, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(CLI)
        .args(args)
        .current_dir(dir)
        .envs(stack.aws_env())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("packprune-cli starts");
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A fresh directory of this test's own.
fn workdir(tag: &str) -> PathBuf {
    let dir = scratch_dir().join(format!("cli-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A report's version lines: what must agree between the CLI and the
/// Lambda (the envelope, `id`, `createdAt`, `expiresAt` and `source`,
/// differs): the package, then the whole row (version, fate, rule,
/// detail, status, revision, published).
fn lines(r: &Report) -> Vec<(String, VersionRow)> {
    r.packages
        .iter()
        .flat_map(|p| p.versions.iter().map(|v| (p.package.clone(), v.clone())))
        .collect()
}

fn left(stack: &Stack) -> Vec<Vec<String>> {
    PACKAGES
        .iter()
        .map(|p| ca_versions(stack, "releases", p).unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plan_reads_only_lists_what_the_lambdas_dry_run_lists_and_its_apply_deletes_exactly_that()
{
    let Some((_g, stack, _)) = stack("cli_plan_apply", releases()).await else {
        return;
    };
    // The Lambda's dry run of the request, its plan in the reports bucket.
    let queues = Queues::create(&stack.sqs().await, "cli").await.unwrap();
    let bucket = create_bucket("reports-cli").await.unwrap();
    let h = in_process_handler(queues.config(&[("REPORTS_BUCKET", &bucket)])).await;
    let mut dry: Value = serde_json::from_str(REQUEST).unwrap();
    dry["dryRun"] = json!(true);
    let lambda = invoke(&h, dry, Duration::from_secs(120)).await;
    let (lambda_uri, _, _, _) = links(&lambda.response).unwrap();
    let lambda_plan = report(&lambda_uri).await.unwrap();

    // The CLI's plan of the same request: reads only.
    let dir = workdir("plan");
    std::fs::write(dir.join("request.json"), REQUEST).unwrap();
    stack.emulator.shared.clear_calls();
    let before = left(stack);
    let out = cli(stack, &dir, &["plan", "request.json", "--out", "plan"], "");
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        !stack.emulator.shared.calls().is_empty(),
        "it read the registry"
    );
    assert_eq!(
        write_calls(stack),
        Vec::<String>::new(),
        "a plan makes no write call"
    );
    assert_eq!(left(stack), before);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.starts_with("# packprune Plan"), "{}", text(&out));
    let json = std::fs::read(dir.join("plan/report.json")).unwrap();
    let sha = packprune::report::sha256_hex(&json);
    assert!(
        stdout.contains(&format!("--sha256 {sha}")),
        "the Markdown names the digest"
    );
    for f in ["report.md", "report.csv"] {
        assert!(dir.join("plan").join(f).exists(), "{f}");
    }
    // Planned again into the same directory: refused before any call.
    stack.emulator.shared.clear_calls();
    let again = cli(stack, &dir, &["plan", "request.json", "--out", "plan"], "");
    assert_eq!(again.status.code(), Some(2), "{}", text(&again));
    assert!(stack.emulator.shared.calls().is_empty(), "{}", text(&again));
    assert_eq!(
        std::fs::read(dir.join("plan/report.json")).unwrap(),
        json,
        "never overwritten"
    );
    let cli_plan: Report = serde_json::from_slice(&json).unwrap();
    assert_eq!(lines(&cli_plan), lines(&lambda_plan));
    assert_eq!(
        cli_plan.request, lambda_plan.request,
        "the request as delivered"
    );
    let going = with_fate(&cli_plan, "delete");
    assert_eq!(
        going.len(),
        17,
        "six of each, but web's `latest`: {going:?}"
    );

    // A changed digest: refused, nothing done.
    stack.emulator.shared.clear_calls();
    // Another digest: its last hex digit changed (a 1-in-16 chance made
    // "0" the same digest).
    let last = if sha.ends_with('0') { '1' } else { '0' };
    let wrong = format!("{}{last}", &sha[..63]);
    assert_ne!(wrong, sha);
    let plan_json = dir.join("plan/report.json");
    let plan_arg = plan_json.to_str().unwrap();
    let out = cli(
        stack,
        &dir,
        &["apply", plan_arg, "--sha256", &wrong, "--yes"],
        "",
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("plan refused"), "{}", text(&out));
    // Not confirmed: nothing done.
    let out = cli(stack, &dir, &["apply", plan_arg, "--sha256", &sha], "n\n");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(write_calls(stack).is_empty() && left(stack) == before);

    // Confirmed: exactly the plan's versions go.
    let out = cli(
        stack,
        &dir,
        &["apply", plan_arg, "--sha256", &sha, "--out", "applied"],
        "y\n",
    );
    assert!(out.status.success(), "{}", text(&out));
    let mut gone: Vec<String> = Vec::new();
    for (p, (was, now)) in PACKAGES.iter().zip(before.iter().zip(left(stack))) {
        gone.extend(
            was.iter()
                .filter(|v| !now.contains(v))
                .map(|v| format!("{p}@{v}")),
        );
    }
    let mut planned: Vec<String> = cli_plan
        .packages
        .iter()
        .flat_map(|p| {
            let name = p.package.rsplit('/').next().unwrap().to_owned();
            p.versions
                .iter()
                .filter(|v| v.fate == "delete")
                .map(move |v| format!("{name}@{}", v.version))
        })
        .collect();
    planned.sort();
    gone.sort();
    assert_eq!(gone, planned);
    let applied: Report =
        serde_json::from_slice(&std::fs::read(dir.join("applied/report.json")).unwrap()).unwrap();
    assert_eq!(applied.applies.as_ref().unwrap().sha256, sha);
    assert_eq!(with_fate(&applied, "deleted").len(), 17);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plan_that_cannot_read_a_package_says_so_and_exits_1_and_no_setup_exits_2() {
    let Some((_g, stack, _)) = stack("cli_plan_fails", releases()).await else {
        return;
    };
    let dir = workdir("fails");
    std::fs::write(dir.join("request.json"), REQUEST).unwrap();
    // Every listing of a package's versions fails: nothing may be left
    // out of the plan silently.
    let mut state = releases();
    state.faults = serde_json::from_value(json!({
        "codeartifact:ListPackageVersions": {"errorRate": 1.0}
    }))
    .unwrap();
    stack.emulator.shared.set_state(state);
    let out = cli(stack, &dir, &["plan", "request.json", "--out", "plan"], "");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let plan: Report =
        serde_json::from_slice(&std::fs::read(dir.join("plan/report.json")).unwrap()).unwrap();
    assert_eq!(plan.packages.len(), 3, "every package is in the plan");
    assert!(
        plan.packages
            .iter()
            .all(|p| p.versions.iter().all(|v| v.fate == "deadLettered")),
        "{:?}",
        plan.packages
    );
    assert_eq!(text(&out).matches("not done:").count(), 3, "{}", text(&out));
    // No region: nothing is called, exit 2.
    stack.emulator.shared.clear_calls();
    let no_region = Command::new(CLI)
        .args(["plan", "request.json"])
        .current_dir(&dir)
        .envs(stack.aws_env())
        .env_remove("AWS_REGION")
        .env_remove("AWS_DEFAULT_REGION")
        .env("AWS_CONFIG_FILE", dir.join("none"))
        .output()
        .unwrap();
    assert_eq!(no_region.status.code(), Some(2), "{}", text(&no_region));
    assert!(
        text(&no_region).contains("no AWS region"),
        "{}",
        text(&no_region)
    );
    assert!(stack.emulator.shared.calls().is_empty());
}
