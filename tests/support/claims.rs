//! What pasvlint's command line says about a case, read from its JSON output
//! (the truth tests use nothing of pasvlint's library).

use std::path::Path;
use std::process::Command;

const BINARY: &str = env!("CARGO_BIN_EXE_pasvlint");

pub fn json(args: &[&str], case: &Path) -> serde_json::Value {
    let out = Command::new(BINARY).args(args).arg(case).output().unwrap();
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{}: {e}", case.display()))
}

/// `check --format json`'s findings.
pub fn diagnostics(case: &Path) -> Vec<serde_json::Value> {
    json(&["check", "--format", "json"], case)["diagnostics"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// The first FTP server named `name` in `facts --format json`; `null` when none.
pub fn server(case: &Path, name: &str) -> serde_json::Value {
    let facts = json(&["facts", "--format", "json"], case);
    facts["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|h| h["ftp"].as_array().unwrap().iter())
        .find(|s| s["server"] == name)
        .cloned()
        .unwrap_or_default()
}

/// A server's `passive_ports` as inclusive ranges.
pub fn passive_ranges(server: &serde_json::Value) -> Vec<(u16, u16)> {
    server["passive_ports"]
        .as_str()
        .unwrap_or("")
        .split(',')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('-') {
            Some((a, b)) => (a.parse().unwrap(), b.parse().unwrap()),
            None => (p.parse().unwrap(), p.parse().unwrap()),
        })
        .collect()
}

pub fn within(ports: &[(u16, u16)], port: u16) -> bool {
    ports.iter().any(|&(a, b)| (a..=b).contains(&port))
}
