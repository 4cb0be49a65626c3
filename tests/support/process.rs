//! The virtualenv's tools, free ports, and child processes that stop with
//! their owner.

use std::io::Write;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _, Result};

use super::ROOT;

/// The virtualenv's tools: moto's server and cargo-lambda.
#[derive(Clone, Debug)]
pub struct Tools {
    pub bin: PathBuf,
}

impl Tools {
    /// Finds the tools in `PACKPRUNE_VENV` (default `.venv`), or says what
    /// is missing.
    pub fn find() -> Result<Tools, String> {
        // Relative to the workspace's root, whatever package's tests run
        // (cargo runs each in its own package's directory).
        let venv = Path::new(ROOT)
            .join(std::env::var("PACKPRUNE_VENV").unwrap_or_else(|_| ".venv".to_owned()));
        let bin = venv.join("bin");
        for tool in ["moto_server", "cargo-lambda"] {
            if !bin.join(tool).exists() {
                return Err(format!(
                    "{} not found (run `make test`, which creates the virtualenv)",
                    bin.join(tool).display()
                ));
            }
        }
        Ok(Tools { bin })
    }

    /// The tools, or `None` after saying why the test is skipped. A missing
    /// tool fails the test unless `PACKPRUNE_SKIP_E2E=1` asks for skipping
    /// (`make unit` does); the skip is then written straight to the
    /// terminal, where the test harness cannot capture it away.
    pub fn or_skip(test: &str) -> Option<Tools> {
        let skip = std::env::var_os("PACKPRUNE_SKIP_E2E").is_some_and(|v| v == "1");
        match Tools::decide(Tools::find(), skip) {
            Ok(tools) => tools,
            Err(why) => panic!("{test}: {why}"),
        }
    }

    /// What a test does without its tools: fail, or (when asked) skip, saying
    /// so where it is seen.
    pub fn decide(found: Result<Tools, String>, skip: bool) -> Result<Option<Tools>, String> {
        match found {
            Ok(t) => Ok(Some(t)),
            Err(why) if skip => {
                use std::io::Write;
                let _ = writeln!(std::io::stderr(), "SKIPPED: {why}");
                Ok(None)
            }
            Err(why) => Err(format!(
                "{why}; set PACKPRUNE_SKIP_E2E=1 to skip the end-to-end tests instead"
            )),
        }
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub(super) fn wait_for_port(port: u16, within: Duration) -> Result<()> {
    let until = Instant::now() + within;
    while Instant::now() < until {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    bail!("nothing listened on port {port} within {within:?}")
}

/// A child process in its own process group, stopped (group and all) when
/// this is dropped — or when this process dies, since its watchdog shell
/// reads our end of a pipe.
pub struct Supervised {
    child: Child,
    pub log: PathBuf,
}

impl Supervised {
    pub fn spawn(
        program: &Path,
        args: &[String],
        env: &[(String, String)],
        log: PathBuf,
    ) -> Result<Supervised> {
        let mut cmd = Command::new("sh");
        // A shell's environment, not the test harness's: cargo runs under
        // some of these tools (`cargo lambda watch` in `make demo` and
        // `make local`), and the CARGO_* variables `cargo test` sets would
        // make it rebuild what `make bins` already built.
        cmd.env_clear();
        for k in [
            "PATH",
            "HOME",
            "USER",
            "TMPDIR",
            "LANG",
            "CARGO_HOME",
            "RUSTUP_HOME",
            "RUSTUP_TOOLCHAIN",
        ] {
            if let Some(v) = std::env::var_os(k) {
                cmd.env(k, v);
            }
        }
        // The wrapper ignores Ctrl-C (the terminal sends it to the whole
        // foreground group): it stops the child only when its owner says so
        // or goes away (stdin closes), so nothing outlives an interrupt.
        cmd.arg("-c")
            .arg(r#"trap '' INT; log="$1"; shift; setsid "$@" >"$log" 2>&1 & pid=$!; read _ignored; kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; exit 0"#)
            .arg("supervise")
            .arg(&log)
            .arg(program)
            .args(args)
            .current_dir(ROOT)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = cmd
            .spawn()
            .with_context(|| format!("starting {}", program.display()))?;
        Ok(Supervised { child, log })
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Supervised {
    fn drop(&mut self) {
        if let Some(mut stdin) = self.child.stdin.take() {
            let _ = stdin.write_all(b"stop\n");
        }
        let _ = self.child.wait();
    }
}

pub fn scratch_dir() -> PathBuf {
    let dir = Path::new(ROOT).join("target").join("e2e");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
