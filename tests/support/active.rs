//! Runs `ftp_active.py` (ftplib, PORT mode) in the client namespace.

use super::netns::{Netns, SERVER_ADDR, run};
use super::vsftpd::PROBE_FILE;
use serde::Deserialize;
use std::fmt;

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/ftp_active.py");

/// Whether an active-mode LIST and RETR complete.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ActiveOutcome {
    Works,
    Fails,
}

impl fmt::Display for ActiveOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ActiveOutcome::Works => "works",
            ActiveOutcome::Fails => "fails",
        })
    }
}

#[derive(Debug, Deserialize)]
pub struct ActiveRun {
    pub ok: bool,
    pub stage: Option<String>,
    pub error: Option<String>,
    /// The server's source port of the data connection, when one arrived.
    pub peer_port: Option<u16>,
    pub seconds: f64,
}

impl ActiveRun {
    /// A failure before the data step means the control path is broken, which
    /// says nothing about active mode.
    pub fn outcome(&self) -> Result<ActiveOutcome, String> {
        match (self.ok, self.stage.as_deref()) {
            (true, _) => Ok(ActiveOutcome::Works),
            (false, Some("list" | "retr")) => Ok(ActiveOutcome::Fails),
            _ => Err(format!("active session failed before any transfer: {self}")),
        }
    }
}

impl fmt::Display for ActiveRun {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.ok {
            write!(f, "LIST and RETR ok")?;
        } else {
            write!(
                f,
                "failed at {}: {}",
                self.stage.as_deref().unwrap_or("?"),
                self.error.as_deref().unwrap_or("no message")
            )?;
        }
        if let Some(p) = self.peer_port {
            write!(f, ", data connection from port {p}")?;
        }
        write!(f, " ({:.1} s)", self.seconds)
    }
}

/// One active-mode session: login, PORT + LIST, PORT + RETR.
pub fn list_and_retr(client: &Netns, port: u16, timeout: f64) -> Result<ActiveRun, String> {
    let output = run(client.command("python3").args([
        SCRIPT,
        SERVER_ADDR,
        &port.to_string(),
        PROBE_FILE,
        &timeout.to_string(),
    ]))?;
    serde_json::from_slice(&output.stdout).map_err(|e| {
        format!(
            "ftp_active.py printed no JSON ({e}): {}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}
