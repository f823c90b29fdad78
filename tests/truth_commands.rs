//! Truth for `vsftpd-passive-command-refused`: a `cmds_allowed` / `cmds_denied`
//! line that refuses one of PASV and EPSV.
//!
//! Each fixture of `fixtures/rules/vsftpd-passive-command-refused/` runs for
//! real: vsftpd in a private server namespace with the fixture's
//! `etc/vsftpd.conf` as written (only its paths moved into a temporary
//! directory), and three clients as users run them (lftp in strict passive
//! mode, curl, Python's ftplib) list the anonymous root from a client
//! namespace over IPv4 and IPv6.
//!
//! Per (family, client) the test records whether the listing worked, and checks
//! that it is what the fixture is about (the table below), and that pasvlint's
//! `check --format json` claims the same: its finding's message names the
//! family whose clients fail ("IPv4 clients ...": lftp and ftplib fail and curl
//! works there; "IPv6 clients ...": all three fail there), and without a
//! finding every client lists in every family the server takes.

mod support {
    #[allow(dead_code)]
    pub mod active;
    #[allow(dead_code)]
    pub mod netns;
    #[allow(dead_code)]
    pub mod pasvlint;
    #[allow(dead_code)]
    pub mod probe;
    pub mod requirements;
    #[allow(dead_code)]
    pub mod vsftpd;
}

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;
use support::netns::{self, Netns, Pair, SERVER_ADDR, SERVER_ADDR6, output_within};
use support::vsftpd::{self, Vsftpd};

const FIXTURES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/fixtures/rules/vsftpd-passive-command-refused"
);
const RULE: &str = "vsftpd-passive-command-refused";
const CONTROL_PORT: u16 = 21;
/// A client that is refused may retry until this; one that works takes well under a second.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(12);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Family {
    V4,
    V6,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Client {
    Lftp,
    Curl,
    Ftplib,
}

const CLIENTS: [Client; 3] = [Client::Lftp, Client::Curl, Client::Ftplib];

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Family::V4 => "IPv4",
            Family::V6 => "IPv6",
        })
    }
}

/// What each client gets in one family.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Listing {
    /// Every client lists.
    AllWork,
    /// Clients that ask PASV fail; curl (EPSV first) works.
    OnlyCurlWorks,
    /// No client lists.
    NoneWork,
}

impl Listing {
    fn works(self, client: Client) -> bool {
        match self {
            Listing::AllWork => true,
            Listing::OnlyCurlWorks => client == Client::Curl,
            Listing::NoneWork => false,
        }
    }
}

struct Case {
    fixture: &'static str,
    /// `None`: the server takes no clients of that family.
    v4: Option<Listing>,
    v6: Option<Listing>,
}

const CASES: &[Case] = &[
    Case {
        fixture: "bad-denied-pasv",
        v4: Some(Listing::OnlyCurlWorks),
        v6: Some(Listing::AllWork),
    },
    Case {
        fixture: "bad-allowed-without-epsv",
        v4: Some(Listing::AllWork),
        v6: Some(Listing::NoneWork),
    },
    Case {
        fixture: "bad-denied-epsv",
        v4: Some(Listing::AllWork),
        v6: Some(Listing::NoneWork),
    },
    Case {
        fixture: "ok-denied-epsv-ipv4-listener",
        v4: Some(Listing::AllWork),
        v6: None,
    },
    Case {
        fixture: "ok-denied-lowercase-pasv",
        v4: Some(Listing::AllWork),
        v6: Some(Listing::AllWork),
    },
    Case {
        fixture: "ok-denied-after-empty-entry",
        v4: Some(Listing::AllWork),
        v6: Some(Listing::AllWork),
    },
    Case {
        fixture: "ok-allowed-both",
        v4: Some(Listing::AllWork),
        v6: Some(Listing::AllWork),
    },
];

impl Case {
    fn dir(&self) -> PathBuf {
        Path::new(FIXTURES).join(self.fixture)
    }

    fn expected(&self, family: Family) -> Option<Listing> {
        match family {
            Family::V4 => self.v4,
            Family::V6 => self.v6,
        }
    }
}

/// What pasvlint's findings claim for `family`, read as a user reads them.
fn claimed(dir: &Path, family: Family) -> Result<Listing, String> {
    let verdict = support::pasvlint::verdict(dir)?;
    let findings: Vec<&str> = verdict
        .diagnostics
        .iter()
        .filter(|d| d.rule == RULE)
        .map(|d| d.message.as_str())
        .collect();
    let names = |f: Family| findings.iter().any(|m| m.contains(&format!("{f} clients")));
    Ok(match family {
        Family::V4 if names(Family::V4) => Listing::OnlyCurlWorks,
        Family::V6 if names(Family::V6) => Listing::NoneWork,
        _ => Listing::AllWork,
    })
}

/// Needs no root: pasvlint's findings say what the table expects, so a change
/// of message or of the rule is noticed without the real run.
#[test]
fn pasvlint_claims_match_each_case() {
    let mut disagreements = Vec::new();
    for case in CASES {
        assert!(
            case.dir().join("etc/vsftpd.conf").is_file(),
            "{}: no etc/vsftpd.conf",
            case.fixture
        );
        for family in [Family::V4, Family::V6] {
            let Some(expected) = case.expected(family) else {
                continue;
            };
            match claimed(&case.dir(), family) {
                Ok(claim) if claim == expected => {}
                Ok(claim) => disagreements.push(format!(
                    "{} {family}: pasvlint claims {claim:?}, the case is {expected:?}",
                    case.fixture
                )),
                Err(e) => disagreements.push(format!("{}: {e}", case.fixture)),
            }
        }
    }
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
}

/// The real thing: vsftpd and the clients do what each case expects.
#[test]
fn real_clients_match_each_case_and_pasvlint() {
    if !ready_to_run() {
        return;
    }
    let mut disagreements = Vec::new();
    for case in CASES {
        match run_case(case) {
            Ok(found) => disagreements.extend(found),
            Err(e) => disagreements.push(format!("{}: {e}", case.fixture)),
        }
    }
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
}

/// The unsafe fix of each `bad-*` case, applied to a copy: pasvlint no longer
/// reports it, and every client lists in both families.
#[test]
fn fixed_configs_let_every_client_list() {
    if !ready_to_run() {
        return;
    }
    let mut disagreements = Vec::new();
    for case in CASES.iter().filter(|c| c.fixture.starts_with("bad-")) {
        let copy = tempfile::tempdir().expect("a temp dir");
        std::fs::create_dir(copy.path().join("etc")).expect("etc/");
        let config = copy.path().join("etc/vsftpd.conf");
        std::fs::copy(case.dir().join("etc/vsftpd.conf"), &config).expect("copy the config");
        let fixed = std::process::Command::new(env!("CARGO_BIN_EXE_pasvlint"))
            .args([
                "check",
                "--isolated",
                "--fix",
                "--unsafe-fixes",
                "--select",
                RULE,
            ])
            .arg(copy.path())
            .output()
            .expect("run pasvlint --fix");
        assert_eq!(fixed.status.code(), Some(0), "{}: {fixed:?}", case.fixture);
        let both = Case {
            fixture: case.fixture,
            v4: Some(Listing::AllWork),
            v6: Some(Listing::AllWork),
        };
        match run_config(&both, copy.path()) {
            Ok(found) => disagreements.extend(found),
            Err(e) => disagreements.push(format!("{} fixed: {e}", case.fixture)),
        }
    }
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
}

/// The daemon, the three clients and namespaces are here (skipped with the
/// reason outside CI); leftovers of an earlier run are gone.
fn ready_to_run() -> bool {
    let tools = ["ip", "ss", "lftp", "curl", "python3"];
    let ready = support::requirements::ready("truth_commands", &[vsftpd::BINARY], &tools);
    if ready {
        netns::remove_stale();
    }
    ready
}

fn run_case(case: &Case) -> Result<Vec<String>, String> {
    run_config(case, &case.dir())
}

/// `dir`'s config run for real, against `case`'s table and pasvlint's claim on `dir`.
fn run_config(case: &Case, dir: &Path) -> Result<Vec<String>, String> {
    let pair = Pair::create()?;
    pair.add_ipv6()?;
    let config = dir.join("etc/vsftpd.conf");
    let _daemon = Vsftpd::start_as_written(&pair.server, &config, CONTROL_PORT)?;
    let mut disagreements = Vec::new();
    for family in [Family::V4, Family::V6] {
        let Some(expected) = case.expected(family) else {
            continue;
        };
        let claim = claimed(dir, family)?;
        for client in CLIENTS {
            let (works, detail) = list(&pair.client, client, family)?;
            eprintln!(
                "{} {family} {client:?}: {}",
                case.fixture,
                if works { "lists" } else { "fails" }
            );
            for (who, listing) in [("the case", expected), ("pasvlint", claim)] {
                if listing.works(client) != works {
                    disagreements.push(format!(
                        "{} {family} {client:?}: {who} says {}, the client {} ({detail})",
                        case.fixture,
                        if listing.works(client) {
                            "it lists"
                        } else {
                            "it fails"
                        },
                        if works { "listed" } else { "failed" }
                    ));
                }
            }
        }
    }
    Ok(disagreements)
}

/// One anonymous listing of the root; `(listed, what the client said)`.
fn list(netns: &Netns, client: Client, family: Family) -> Result<(bool, String), String> {
    let host = match family {
        Family::V4 => SERVER_ADDR.to_owned(),
        Family::V6 => format!("[{SERVER_ADDR6}]"),
    };
    let bare = host.trim_matches(['[', ']']).to_owned();
    let mut command = match client {
        // Strict passive, as the rule is about passive connections: lftp's
        // automatic switch to active mode would go around the refusal.
        Client::Lftp => {
            let mut c = netns.command("lftp");
            c.args([
                "-c",
                &format!(
                    "set net:timeout 3; set net:max-retries 1; set net:reconnect-interval-base 1; \
                     set ftp:passive-mode on; set ftp:auto-passive-mode no; set ftp:ssl-allow no; \
                     set cmd:fail-exit yes; open ftp://{host}; cls -1"
                ),
            ]);
            c
        }
        Client::Curl => {
            let mut c = netns.command("curl");
            c.args(["-sS", "--max-time", "8", &format!("ftp://{host}/")]);
            c
        }
        Client::Ftplib => {
            let mut c = netns.command("python3");
            c.args([
                "-c",
                "import ftplib, sys\n\
                 f = ftplib.FTP(timeout=5)\n\
                 f.connect(sys.argv[1], 21)\n\
                 f.login()\n\
                 print(f.nlst())\n",
                &bare,
            ]);
            c
        }
    };
    let output = match output_within(command.env("HOME", "/tmp"), CLIENT_TIMEOUT) {
        Ok(output) => output,
        Err(e) => return Ok((false, e)),
    };
    let stdout = String::from_utf8_lossy(&output.stdout);
    let listed = output.status.success() && stdout.contains(vsftpd::PROBE_FILE);
    let said = String::from_utf8_lossy(&output.stderr);
    let detail = said
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("no message")
        .to_owned();
    Ok((listed, format!("{}: {detail}", output.status)))
}
