//! `packprune-emulator [--host H] [--port P] [--seed FILE] [--port-file FILE]`
//!
//! Serves the CodeArtifact and IoT package APIs on loopback until
//! interrupted. `--port 0` picks a free port; `--port-file` receives it.

use std::process::ExitCode;

use packprune_emulator::{serve, state::State, Shared};

fn usage() -> ExitCode {
    eprintln!("usage: packprune-emulator [--host 127.0.0.1] [--port 4510] [--seed seed.json] [--port-file FILE]");
    ExitCode::from(2)
}

#[tokio::main]
async fn main() -> ExitCode {
    let mut host = "127.0.0.1".to_owned();
    let mut port = "4510".to_owned();
    let mut seed: Option<String> = None;
    let mut port_file: Option<String> = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let slot = match a.as_str() {
            "--host" => &mut host,
            "--port" => &mut port,
            "--seed" => seed.insert(String::new()),
            "--port-file" => port_file.insert(String::new()),
            _ => return usage(),
        };
        match args.next() {
            Some(v) => *slot = v,
            None => return usage(),
        }
    }
    let state = match &seed {
        None => State::default(),
        Some(path) => match std::fs::read_to_string(path)
            .map_err(|e| e.to_string())
            .and_then(|s| State::from_seed(&s).map_err(|e| e.to_string()))
        {
            Ok(s) => s,
            Err(e) => {
                eprintln!("packprune-emulator: cannot load seed {path}: {e}");
                return ExitCode::FAILURE;
            }
        },
    };
    let listener = match tokio::net::TcpListener::bind(format!("{host}:{port}")).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("packprune-emulator: cannot listen on {host}:{port}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let addr = listener.local_addr().expect("bound address");
    if let Some(f) = &port_file {
        if let Err(e) = std::fs::write(f, addr.port().to_string()) {
            eprintln!("packprune-emulator: cannot write {f}: {e}");
            return ExitCode::FAILURE;
        }
    }
    println!("packprune-emulator listening on http://{addr}");
    let shutdown = async {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("SIGTERM handler");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    };
    serve(listener, std::sync::Arc::new(Shared::new(state)), shutdown).await;
    ExitCode::SUCCESS
}
