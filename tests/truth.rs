//! Truth tests: each `fixtures/truth/<case>/` host tree is run for real.
//!
//! Its `etc/iptables/rules.v4` is loaded into a private server namespace, the
//! real vsftpd runs there with its `etc/vsftpd.conf`, and a client namespace
//! makes real passive transfers (and, for a case that says `active`, an
//! active-mode LIST and RETR). What happened must equal the outcome written
//! in `fixtures/truth/<case>.toml` (the fixture says what it is), and
//! pasvlint's verdict on the case folder must equal what happened.

mod support {
    pub mod active;
    pub mod lftp;
    pub mod netns;
    pub mod pasvlint;
    pub mod probe;
    pub mod requirements;
    pub mod vsftpd;
}

use serde::Deserialize;
use std::fmt::Write as _;
use std::path::PathBuf;
use support::active::{self as active_mode, ActiveOutcome};
use support::netns::{self, Pair};
use support::probe::{self, Capacity, Measured, Outcome};
use support::vsftpd::{self, Vsftpd};
use support::{lftp, pasvlint};

const CASES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/truth");
const VSFTPD_CONF: &str = "etc/vsftpd.conf";
const RULES_V4: &str = "etc/iptables/rules.v4";

/// `fixtures/truth/<case>.toml`: what the case is, and how hard to probe it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Expect {
    note: String,
    /// Passive transfers; a case about active mode only may leave it out.
    outcome: Option<Outcome>,
    /// An active-mode (PORT) LIST and RETR.
    active: Option<ActiveOutcome>,
    #[serde(default = "default_control_port")]
    control_port: u16,
    /// Transfer sessions; enough to draw every port of the range many times.
    #[serde(default = "default_transfers")]
    transfers: u32,
    #[serde(default = "default_parallel")]
    parallel: u32,
    capacity: Option<ExpectCapacity>,
}

/// Hold `sessions` PASV ports at once (the server's max_clients).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpectCapacity {
    sessions: u32,
    outcome: Capacity,
}

fn default_control_port() -> u16 {
    21
}
fn default_transfers() -> u32 {
    48
}
fn default_parallel() -> u32 {
    4
}

struct Case {
    name: String,
    dir: PathBuf,
    expect: Expect,
}

fn load_cases() -> Vec<Case> {
    let mut cases: Vec<Case> = std::fs::read_dir(CASES)
        .expect("fixtures/truth exists")
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "toml"))
        .map(|toml_path| {
            let text = std::fs::read_to_string(&toml_path).expect("readable case toml");
            let expect: Expect =
                toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", toml_path.display()));
            let dir = toml_path.with_extension("");
            let name = dir.file_name().unwrap_or_default().to_string_lossy().into();
            Case { name, dir, expect }
        })
        .collect();
    cases.sort_by(|a, b| a.name.cmp(&b.name));
    cases
}

#[test]
fn every_truth_case_has_its_expectation_and_host_tree() {
    let cases = load_cases();
    assert!(cases.len() >= 7, "only {} truth cases", cases.len());
    for case in &cases {
        assert!(!case.expect.note.is_empty(), "{}: empty note", case.name);
        assert!(
            case.expect.outcome.is_some() || case.expect.active.is_some(),
            "{}: says neither a passive outcome nor an active one",
            case.name
        );
        for file in [VSFTPD_CONF, RULES_V4] {
            assert!(case.dir.join(file).is_file(), "{}: no {file}", case.name);
        }
    }
    for entry in std::fs::read_dir(CASES).expect("fixtures/truth exists") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            assert!(
                path.with_extension("toml").is_file(),
                "{} has no expectation beside it",
                path.display()
            );
        }
    }
}

/// Needs no root: pasvlint's verdict on every case equals what the case says.
#[test]
fn pasvlint_verdict_matches_each_case() {
    let mut disagreements = Vec::new();
    for case in load_cases() {
        let mut report = Report::new(&case.name);
        let measured = Observed {
            passive: case.expect.outcome,
            capacity: capacity_of(&case),
            active: case.expect.active,
        };
        if let Err(e) = report.compare_pasvlint(&case, &measured) {
            report.disagreements.push(format!("{}: {e}", case.name));
        }
        eprintln!("{}", report.text);
        disagreements.extend(report.disagreements);
    }
    assert_agreement(disagreements);
}

/// The real thing: what vsftpd and the kernel do equals what the case says,
/// and pasvlint's verdict equals what they do.
#[test]
fn real_passive_transfers_match_each_case_and_pasvlint() {
    let tools = ["ip", "ss", "iptables-restore", "python3", "lftp"];
    if !support::requirements::ready("truth tests", &[vsftpd::BINARY], &tools) {
        return;
    }
    netns::remove_stale();
    let mut disagreements = Vec::new();
    for case in load_cases() {
        let mut report = Report::new(&case.name);
        if let Err(e) = run_case(&case, &mut report) {
            report.disagreements.push(format!("{}: {e}", case.name));
        }
        eprintln!("{}", report.text);
        disagreements.extend(report.disagreements);
    }
    assert_agreement(disagreements);
}

fn assert_agreement(disagreements: Vec<String>) {
    assert!(
        disagreements.is_empty(),
        "truth disagreements:\n  {}",
        disagreements.join("\n  ")
    );
}

fn capacity_of(case: &Case) -> Option<Capacity> {
    case.expect.capacity.as_ref().map(|c| c.outcome)
}

/// What a case's run measured (or, without root, what the case says).
struct Observed {
    passive: Option<Outcome>,
    capacity: Option<Capacity>,
    active: Option<ActiveOutcome>,
}

/// vsftpd waits `connect_timeout` (default 60 s) for an active data connection
/// whose SYN the firewall drops; the client waits a little longer.
const ACTIVE_CONNECT_TIMEOUT: &str = "connect_timeout=3";
const ACTIVE_CLIENT_TIMEOUT: f64 = 6.0;

struct Report {
    case: String,
    text: String,
    disagreements: Vec<String>,
}

fn run_case(case: &Case, report: &mut Report) -> Result<(), String> {
    let expect = &case.expect;
    let pair = Pair::create()?;
    pair.server.load_iptables(&case.dir.join(RULES_V4))?;
    let extra: &[&str] = if expect.active.is_some() {
        &[ACTIVE_CONNECT_TIMEOUT]
    } else {
        &[]
    };
    let daemon = Vsftpd::start(
        &pair.server,
        &case.dir.join(VSFTPD_CONF),
        expect.control_port,
        extra,
    )?;
    let mut measured = Observed {
        passive: None,
        capacity: None,
        active: None,
    };
    if let Some(expected) = expect.outcome {
        let (outcome, capacity) = run_passive(case, &pair, report)?;
        report.compare("measured outcome", expected, outcome);
        measured.passive = Some(outcome);
        measured.capacity = capacity;
    }
    if let Some(expected) = expect.active {
        let run =
            active_mode::list_and_retr(&pair.client, expect.control_port, ACTIVE_CLIENT_TIMEOUT)?;
        let _ = write!(report.text, "\n  active: {run}");
        let outcome = run.outcome()?;
        report.compare("measured active outcome", expected, outcome);
        measured.active = Some(outcome);
    }
    let oops = daemon.oops();
    if !oops.is_empty() {
        let _ = write!(report.text, "\n  vsftpd fd 0: {oops}");
    }
    drop(daemon);
    drop(pair);
    report.compare_pasvlint(case, &measured)
}

/// Passive transfers (and held sessions, when the case asks) as they happened.
fn run_passive(
    case: &Case,
    pair: &Pair,
    report: &mut Report,
) -> Result<(Outcome, Option<Capacity>), String> {
    let expect = &case.expect;
    let options = probe::Options {
        control_port: expect.control_port,
        sessions: expect.transfers,
        parallel: expect.parallel,
        control_timeout: 2.0,
        data_timeout: 1.5,
    };
    let transfers = Measured::from_run(&probe::transfers(&pair.client, &options)?);
    let _ = write!(report.text, "\n  transfers: {transfers}");
    let outcome = transfers
        .outcome()
        .map_err(|e| format!("{e} ({transfers})"))?;
    report.check_lftp_agrees(
        outcome,
        &lftp::list_and_get(&pair.client, expect.control_port)?,
    );
    let mut capacity = None;
    if let Some(expected) = &expect.capacity {
        let held = Measured::from_run(&probe::hold(&pair.client, &options, expected.sessions)?);
        let _ = write!(
            report.text,
            "\n  hold {} PASV at once: {held}",
            expected.sessions
        );
        let measured = held.capacity().map_err(|e| format!("{e} ({held})"))?;
        report.compare("measured capacity", expected.outcome, measured);
        capacity = Some(measured);
    }
    Ok((outcome, capacity))
}

impl Report {
    fn new(case: &str) -> Report {
        Report {
            case: case.to_string(),
            text: format!("{case}:"),
            disagreements: Vec::new(),
        }
    }

    /// pasvlint on the case folder must say what was measured (passive outcome,
    /// capacity, active outcome, each where the case measures it), and must have
    /// paired the server with its firewall.
    fn compare_pasvlint(&mut self, case: &Case, measured: &Observed) -> Result<(), String> {
        let verdict = pasvlint::verdict(&case.dir)?;
        for d in &verdict.diagnostics {
            let _ = write!(self.text, "\n  pasvlint [{}] {}", d.rule, d.message);
        }
        if !pasvlint::pairs_server_with_firewall(&case.dir)? {
            self.disagreements.push(format!(
                "{}: pasvlint did not see one FTP server paired with its firewall (see `pasvlint facts`)",
                self.case
            ));
        }
        if let Some(outcome) = measured.passive {
            self.compare("pasvlint outcome", outcome, verdict.outcome);
        }
        if let Some(capacity) = measured.capacity {
            self.compare("pasvlint capacity", capacity, verdict.capacity);
        }
        if let Some(active) = measured.active {
            self.compare("pasvlint active outcome", active, verdict.active);
        }
        Ok(())
    }

    /// A user's client must succeed when every probe transfer did and fail
    /// when none did; with some ports blocked it may go either way.
    fn check_lftp_agrees(&mut self, measured: Outcome, lftp: &lftp::Session) {
        let _ = write!(self.text, "\n  lftp: {}", lftp.detail);
        let expected_ok = match measured {
            Outcome::Works => Some(true),
            Outcome::AllBlocked | Outcome::ControlBlocked => Some(false),
            Outcome::SomePortsBlocked => None,
        };
        if expected_ok.is_some_and(|ok| ok != lftp.ok) {
            self.disagreements.push(format!(
                "{}: lftp {} but the probe measured {measured}",
                self.case, lftp.detail
            ));
        }
    }

    fn compare<T: PartialEq + std::fmt::Display>(&mut self, what: &str, expected: T, actual: T) {
        let _ = write!(self.text, "\n  {what}: {actual} (expected {expected})");
        if expected != actual {
            let case = &self.case;
            self.disagreements
                .push(format!("{case}: {what} is {actual}, expected {expected}"));
        }
    }
}
