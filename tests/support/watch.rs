//! The function under `cargo lambda watch`, invoked with `cargo lambda
//! invoke`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::Ordering;
use std::time::Duration;

use anyhow::{anyhow, bail, Context as _, Result};
use serde_json::Value;

use super::process::{free_port, scratch_dir, wait_for_port, Supervised, Tools};
use super::{QUEUE_SEQ, ROOT};

/// The function under `cargo lambda watch`: the real Lambda Runtime API.
///
/// In the integration tests, cargo-lambda serves only the Runtime API
/// (`--only-lambda-apis`) and the function is the `packprune` binary this
/// test run built (`CARGO_BIN_EXE_packprune`), polling it as Lambda's
/// bootstrap does. Under `cargo lambda watch --bin packprune` the function
/// would be built again by `cargo run`, without the test build's
/// dev-dependency features, so `make test` would compile the whole SDK
/// twice. The examples (`make demo`, `make local`) have no such binary and
/// let cargo-lambda build and start the function.
pub struct LambdaWatch {
    pub port: u16,
    tools: Tools,
    process: Supervised,
    function: Option<Supervised>,
}

/// The name the function is invoked by and polls the Runtime API as.
const FUNCTION: &str = "packprune";

impl LambdaWatch {
    pub fn start(tools: &Tools, env: &[(String, String)]) -> Result<LambdaWatch> {
        LambdaWatch::start_on(tools, env, free_port())
    }

    /// `cargo lambda watch` on a chosen invoke port.
    pub fn start_on(tools: &Tools, env: &[(String, String)], port: u16) -> Result<LambdaWatch> {
        let built = option_env!("CARGO_BIN_EXE_packprune").map(PathBuf::from);
        let mut args: Vec<String> = vec![
            "lambda".into(),
            "watch".into(),
            "--ignore-changes".into(),
            "--quiet".into(),
            "--invoke-address".into(),
            "127.0.0.1".into(),
            "--invoke-port".into(),
            port.to_string(),
        ];
        match built {
            Some(_) => args.push("--only-lambda-apis".into()),
            None => args.extend(["--bin".into(), FUNCTION.into()]),
        }
        for (k, v) in env {
            args.push("--env-var".into());
            args.push(format!("{k}={v}"));
        }
        let path = format!(
            "{}:{}",
            tools.bin.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let child_env = vec![
            ("PATH".to_owned(), path),
            ("AWS_LAMBDA_LOG_FORMAT".to_owned(), "JSON".to_owned()),
        ];
        let process = Supervised::spawn(
            &tools.bin.join("cargo-lambda"),
            &args,
            &child_env,
            scratch_dir().join(format!("watch-{}-{port}.log", std::process::id())),
        )?;
        wait_for_port(port, Duration::from_secs(120))
            .map_err(|e| anyhow!("{e}; cargo lambda watch's log:\n{}", process.log_text()))?;
        let function = match built {
            Some(binary) => {
                // What cargo-lambda sets for a function it starts itself.
                let mut fenv = child_env.clone();
                fenv.extend(env.iter().cloned());
                for (k, v) in [
                    (
                        "AWS_LAMBDA_RUNTIME_API",
                        format!("http://127.0.0.1:{port}/.rt/{FUNCTION}"),
                    ),
                    ("AWS_LAMBDA_FUNCTION_NAME", FUNCTION.to_owned()),
                    ("AWS_LAMBDA_FUNCTION_VERSION", "1".to_owned()),
                    ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "4096".to_owned()),
                ] {
                    fenv.push((k.to_owned(), v));
                }
                Some(Supervised::spawn(
                    &binary,
                    &[],
                    &fenv,
                    scratch_dir().join(format!("function-{}-{port}.log", std::process::id())),
                )?)
            }
            None => None,
        };
        Ok(LambdaWatch {
            port,
            tools: tools.clone(),
            process,
            function,
        })
    }

    /// `cargo lambda invoke` with a JSON payload; returns the function's result.
    pub fn invoke(&self, payload: &Value) -> Result<Value> {
        let file = scratch_dir().join(format!(
            "invoke-{}-{}.json",
            self.port,
            QUEUE_SEQ.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::write(&file, payload.to_string())?;
        let out = Command::new(self.tools.bin.join("cargo-lambda"))
            .args([
                "lambda",
                "invoke",
                "packprune",
                "--invoke-address",
                "127.0.0.1",
                "--invoke-port",
            ])
            .arg(self.port.to_string())
            .arg("--data-file")
            .arg(&file)
            .args(["--output-format", "json"])
            .env(
                "PATH",
                format!(
                    "{}:{}",
                    self.tools.bin.display(),
                    std::env::var("PATH").unwrap_or_default()
                ),
            )
            .current_dir(ROOT)
            .output()?;
        if !out.status.success() {
            bail!(
                "cargo lambda invoke failed: {}{}\nwatch log:\n{}\nfunction log:\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr),
                self.process.log_text(),
                self.function
                    .as_ref()
                    .map(Supervised::log_text)
                    .unwrap_or_default()
            );
        }
        serde_json::from_slice(&out.stdout)
            .with_context(|| format!("invoke printed {}", String::from_utf8_lossy(&out.stdout)))
    }

    /// What the function wrote (and, with cargo-lambda starting it,
    /// cargo-lambda's own lines).
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    /// The file the function's log goes to.
    pub fn log_path(&self) -> &Path {
        match &self.function {
            Some(f) => &f.log,
            None => &self.process.log,
        }
    }
}
