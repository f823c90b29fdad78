//! pasvlint's own verdict on a case folder, through the CLI's JSON contracts.

use super::active::ActiveOutcome;
use super::netns::output_within;
use super::probe::{Capacity, Outcome};
use serde::Deserialize;
use std::path::Path;
use std::process::Command;

const BINARY: &str = env!("CARGO_BIN_EXE_pasvlint");
/// A fixture folder takes milliseconds; this only stops a hang.
const TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

#[derive(Debug, Deserialize)]
struct CheckReport {
    diagnostics: Vec<Diagnostic>,
}

#[derive(Debug, Deserialize)]
pub struct Diagnostic {
    pub rule: String,
    pub message: String,
}

#[derive(Debug, Deserialize)]
struct FactsReport {
    hosts: Vec<Host>,
}

#[derive(Debug, Deserialize)]
struct Host {
    ftp: Vec<serde_json::Value>,
    firewall: Option<serde_json::Value>,
}

pub struct Verdict {
    pub outcome: Outcome,
    pub capacity: Capacity,
    pub active: ActiveOutcome,
    pub diagnostics: Vec<Diagnostic>,
}

/// `pasvlint check --format json DIR`, read as a user would read it:
/// `control-port-blocked` means no one logs in; `passive-ports-blocked` means
/// transfers fail, on every port when its message says "all ...";
/// `passive-range-too-small` means concurrent sessions run out of ports;
/// `active-data-blocked` means active-mode transfers fail.
pub fn verdict(dir: &Path) -> Result<Verdict, String> {
    let report: CheckReport = run_json(&["check", "--format", "json"], dir)?;
    let fired = |rule: &str| report.diagnostics.iter().find(|d| d.rule == rule);
    let outcome = if fired("control-port-blocked").is_some() {
        Outcome::ControlBlocked
    } else if let Some(blocked) = fired("passive-ports-blocked") {
        // The rule's message names which: "all 6 passive ports 9981-9986 are
        // blocked ..." or "passive ports 9985-9986 are blocked ... (2 of the 6 ...)".
        if blocked.message.starts_with("all ") {
            Outcome::AllBlocked
        } else {
            Outcome::SomePortsBlocked
        }
    } else {
        Outcome::Works
    };
    let capacity = if fired("passive-range-too-small").is_some() {
        Capacity::Exhausted
    } else {
        Capacity::Enough
    };
    let active = if fired("active-data-blocked").is_some() {
        ActiveOutcome::Fails
    } else {
        ActiveOutcome::Works
    };
    Ok(Verdict {
        outcome,
        capacity,
        active,
        diagnostics: report.diagnostics,
    })
}

/// An empty report means nothing if pasvlint never saw the server and its
/// firewall together; this says whether it did.
pub fn pairs_server_with_firewall(dir: &Path) -> Result<bool, String> {
    let facts: FactsReport = run_json(&["facts", "--format", "json"], dir)?;
    Ok(
        facts.hosts.len() == 1
            && facts.hosts[0].ftp.len() == 1
            && facts.hosts[0].firewall.is_some(),
    )
}

fn run_json<T: serde::de::DeserializeOwned>(args: &[&str], dir: &Path) -> Result<T, String> {
    let output = output_within(
        Command::new(BINARY)
            .args(args)
            // A pasvlint.toml in the repository must not change the verdict.
            .arg("--isolated")
            .arg(dir),
        TIMEOUT,
    )?;
    if !matches!(output.status.code(), Some(0 | 1)) {
        return Err(format!(
            "pasvlint {args:?} exited {}: {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    serde_json::from_slice(&output.stdout).map_err(|e| {
        format!(
            "pasvlint {args:?} printed no JSON ({e}): {}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}

/// The address families `pasvlint facts` says the host's one FTP server takes
/// control connections on (`null` there: `None`).
#[allow(dead_code)] // Not every test crate that includes this module uses it.
pub fn server_families(dir: &Path) -> Result<Option<Vec<String>>, String> {
    let facts: FactsReport = run_json(&["facts", "--format", "json"], dir)?;
    let server = facts
        .hosts
        .first()
        .and_then(|host| host.ftp.first())
        .ok_or("pasvlint facts shows no FTP server")?;
    Ok(server["families"].as_array().map(|families| {
        families
            .iter()
            .filter_map(|f| f.as_str().map(str::to_owned))
            .collect()
    }))
}
