//! Runs `ftp_probe.py` in the client namespace and sorts what happened into outcomes.

use super::netns::{Netns, SERVER_ADDR, run};
use super::vsftpd::PROBE_FILE;
use pasvlint::portset::PortSet;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/ftp_probe.py");
const PROBE_FILE_LEN: u64 = 64 * 1024;

/// What passive transfers do, as a user sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// Every transfer succeeded.
    Works,
    /// Login works; some data connections fail, some succeed.
    SomePortsBlocked,
    /// Login works; every data connection fails.
    AllBlocked,
    /// No session gets through connect and login.
    ControlBlocked,
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Outcome::Works => "works",
            Outcome::SomePortsBlocked => "some-ports-blocked",
            Outcome::AllBlocked => "all-blocked",
            Outcome::ControlBlocked => "control-blocked",
        })
    }
}

/// Whether as many sessions as the server admits can all hold a passive port.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Capacity {
    /// Every held PASV got a port.
    Enough,
    /// Some PASV was answered `500 OOPS: vsf_sysutil_bind`.
    Exhausted,
}

impl fmt::Display for Capacity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Capacity::Enough => "enough",
            Capacity::Exhausted => "exhausted",
        })
    }
}

#[derive(Clone, Debug)]
pub struct Options {
    pub control_port: u16,
    pub sessions: u32,
    pub parallel: u32,
    pub control_timeout: f64,
    pub data_timeout: f64,
}

#[derive(Debug, Deserialize)]
pub struct Session {
    pub kind: String,
    /// The step that failed, or `None` when the session did all it meant to.
    pub stage: Option<String>,
    pub error: Option<String>,
    pub reply: Option<String>,
    pub port: Option<u16>,
    pub bytes: u64,
}

#[derive(Debug, Deserialize)]
pub struct Run {
    pub seconds: f64,
    pub sessions: Vec<Session>,
}

pub fn transfers(client: &Netns, options: &Options) -> Result<Run, String> {
    probe(client, "transfers", options)
}

/// Opens `sessions` sessions one after another, each holding a PASV port.
pub fn hold(client: &Netns, options: &Options, sessions: u32) -> Result<Run, String> {
    probe(
        client,
        "hold",
        &Options {
            sessions,
            ..options.clone()
        },
    )
}

fn probe(client: &Netns, mode: &str, options: &Options) -> Result<Run, String> {
    let mut command = client.command("python3");
    command
        .arg(SCRIPT)
        .arg(mode)
        .args(["--host", SERVER_ADDR, "--file", PROBE_FILE])
        .args(["--port", &options.control_port.to_string()])
        .args(["--sessions", &options.sessions.to_string()])
        .args(["--parallel", &options.parallel.to_string()])
        .args(["--control-timeout", &options.control_timeout.to_string()])
        .args(["--data-timeout", &options.data_timeout.to_string()]);
    let output = run(&mut command)?;
    serde_json::from_slice(&output.stdout).map_err(|e| {
        format!(
            "probe printed no report ({e}): {}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}

/// Counts of what happened, by port and by failure.
#[derive(Debug, Default)]
pub struct Measured {
    pub sessions: usize,
    pub seconds: f64,
    pub logged_in: usize,
    pub transfers_ok: usize,
    /// Ports announced in `227` replies.
    pub announced: PortSet,
    /// Ports at least one data connection reached.
    pub reached: PortSet,
    /// Ports at least one data connection failed to reach.
    pub unreachable: PortSet,
    /// `"<stage>: <error or reply>"` -> sessions.
    pub failures: BTreeMap<String, usize>,
}

impl Measured {
    pub fn from_run(run: &Run) -> Measured {
        let mut measured = Measured {
            sessions: run.sessions.len(),
            seconds: run.seconds,
            ..Measured::default()
        };
        let mut announced = Vec::new();
        let mut reached = Vec::new();
        let mut unreachable = Vec::new();
        for session in &run.sessions {
            let failed_before_login = matches!(
                session.stage.as_deref(),
                Some("connect" | "banner" | "login")
            );
            if !failed_before_login {
                measured.logged_in += 1;
            }
            if let Some(port) = session.port {
                announced.push(port);
                match session.stage.as_deref() {
                    Some("data-connect" | "data-accept") => unreachable.push(port),
                    None if session.kind != "PASV-HOLD" => reached.push(port),
                    _ => {}
                }
            }
            if let Some(problem) = problem(session) {
                *measured.failures.entry(problem).or_default() += 1;
            } else {
                measured.transfers_ok += 1;
            }
        }
        measured.announced = announced.into_iter().collect();
        measured.reached = reached.into_iter().collect();
        measured.unreachable = unreachable.into_iter().collect();
        measured
    }

    /// The outcome the sessions show, or why they show none clearly.
    pub fn outcome(&self) -> Result<Outcome, String> {
        if self.logged_in == 0 {
            return Ok(Outcome::ControlBlocked);
        }
        let unexplained: Vec<_> = self
            .failures
            .keys()
            .filter(|k| k.starts_with("transfer:"))
            .collect();
        if !unexplained.is_empty() {
            return Err(format!(
                "data connected but the transfer failed: {unexplained:?}"
            ));
        }
        let blocked = self.count("data-connect:") + self.count("data-accept:");
        match (self.transfers_ok, blocked) {
            (0, 0) => Err("no session got as far as a data connection".to_string()),
            (_, 0) => Ok(Outcome::Works),
            (0, _) => Ok(Outcome::AllBlocked),
            _ => Ok(Outcome::SomePortsBlocked),
        }
    }

    /// From a `hold` run: whether every session got a passive port.
    pub fn capacity(&self) -> Result<Capacity, String> {
        let exhausted = self.count("pasv: 500 OOPS: vsf_sysutil_bind");
        if exhausted + self.announced_sessions() != self.sessions {
            return Err(format!(
                "sessions failed for other reasons: {:?}",
                self.failures
            ));
        }
        Ok(if exhausted > 0 {
            Capacity::Exhausted
        } else {
            Capacity::Enough
        })
    }

    fn announced_sessions(&self) -> usize {
        self.sessions - self.failures.values().sum::<usize>()
    }

    pub fn count(&self, prefix: &str) -> usize {
        self.failures
            .iter()
            .filter(|(k, _)| k.starts_with(prefix))
            .map(|(_, n)| n)
            .sum()
    }
}

fn problem(session: &Session) -> Option<String> {
    let Some(stage) = &session.stage else {
        if session.kind == "RETR" && session.bytes != PROBE_FILE_LEN {
            return Some(format!("transfer: RETR got {} bytes", session.bytes));
        }
        return None;
    };
    let detail = match (&session.error, &session.reply) {
        (Some(e), Some(r)) if e == "unexpected reply" => r.clone(),
        (Some(e), _) => e.clone(),
        (None, Some(r)) => r.clone(),
        (None, None) => "unknown".to_string(),
    };
    Some(format!("{stage}: {detail}"))
}

impl fmt::Display for Measured {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} sessions in {:.2}s, {} logged in, {} ok; 227 ports {}",
            self.sessions,
            self.seconds,
            self.logged_in,
            self.transfers_ok,
            show(&self.announced),
        )?;
        if !(self.reached.is_empty() && self.unreachable.is_empty()) {
            let (reached, unreachable) = (show(&self.reached), show(&self.unreachable));
            write!(f, " (reached {reached}, unreachable {unreachable})")?;
        }
        for (failure, n) in &self.failures {
            write!(f, "; {n}x {failure}")?;
        }
        Ok(())
    }
}

fn show(ports: &PortSet) -> String {
    if ports.is_empty() {
        "none".to_string()
    } else {
        ports.to_string()
    }
}
