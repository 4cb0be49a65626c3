//! What a run left: the versions the emulator holds, and what the
//! dead-letter queue says of each.

use std::collections::{BTreeMap, BTreeSet};

use packprune_emulator::Running;
use serde_json::Value;

/// The package → versions the emulator holds.
pub(super) fn holdings(emulator: &Running) -> BTreeMap<String, BTreeSet<String>> {
    let state = emulator.shared.state();
    let mut out = BTreeMap::new();
    for p in &state.codeartifact.domains["acme"].repositories["chaos"].packages {
        out.insert(
            format!("codeartifact:{}", p.package),
            p.versions.iter().map(|v| v.version.clone()).collect(),
        );
    }
    for (name, p) in &state.iot.packages {
        out.insert(format!("iot:{name}"), p.versions.keys().cloned().collect());
    }
    out
}

/// (service:package, version or "*") → codes, from dead-letter bodies.
pub(super) fn dead_lettered(
    bodies: &[Value],
) -> (BTreeMap<(String, String), BTreeSet<String>>, u64) {
    let mut out: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    let mut items = 0;
    for b in bodies {
        let key = format!(
            "{}:{}",
            b["service"].as_str().unwrap_or("?"),
            b["package"].as_str().unwrap_or("?")
        );
        let code = b["failure"]["code"].as_str().unwrap_or("NONE").to_owned();
        match b["versions"].as_array() {
            Some(vs) => {
                for v in vs {
                    items += 1;
                    out.entry((key.clone(), v.as_str().unwrap().to_owned()))
                        .or_default()
                        .insert(code.clone());
                }
            }
            None => {
                items += 1;
                out.entry((key, "*".into())).or_default().insert(code);
            }
        }
    }
    (out, items)
}
