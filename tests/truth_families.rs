//! Truth for the dual-stack, source-aware firewall model of `passive-ports-blocked`.
//!
//! Four fixtures of `fixtures/rules/passive-ports-blocked/` run for real: their
//! `etc/iptables/rules.v4` (and `rules.v6`, when there is one) are loaded into a
//! private server namespace with `iptables-restore` / `ip6tables-restore`, the
//! real vsftpd runs there with the fixture's `etc/vsftpd.conf` as written (only
//! its paths moved into a temporary directory), and a throw-away local user
//! logs in with lftp from a client namespace, over IPv4 and IPv6 and, for the
//! source-class fixtures, from a source address in each class, then tries a
//! passive `ls` and `get`.
//!
//! Per client (family, source address) the test records whether login and the
//! transfers worked, and checks that
//! - it is what the fixture is about (the fixture's name says it; the table
//!   below writes it out), and
//! - pasvlint's CLI (`check --format json`, `facts --format json`) says the
//!   same: a `passive-ports-blocked` finding applies to exactly the clients
//!   that log in but cannot transfer, no `control-port-blocked` finding
//!   applies to a client that logs in, and the families the server takes are
//!   the ones that greeted.
//!
//! A finding "applies" to a client as a reader of its message would take it:
//! "... for IPv6 clients" (that family), "... for clients from 198.51.100.0/24"
//! (sources in those blocks), "... for clients outside ..." (the others), and
//! a message naming neither is about every client.

mod support {
    #[allow(dead_code)]
    pub mod active;
    #[allow(dead_code)]
    pub mod lftp;
    #[allow(dead_code)]
    pub mod netns;
    #[allow(dead_code)]
    pub mod pasvlint;
    #[allow(dead_code)]
    pub mod probe;
    pub mod requirements;
    #[allow(dead_code)]
    pub mod users;
    #[allow(dead_code)]
    pub mod vsftpd;
}

use std::fmt::{self, Write as _};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Instant;
use support::lftp::as_user::{self as lftp, Target};
use support::netns::{self, CLIENT_ADDR, CLIENT_ADDR6, Pair, SERVER_ADDR, SERVER_ADDR6};
use support::pasvlint::{self, Diagnostic};
use support::users::LocalUser;
use support::vsftpd::{self, Vsftpd};

const FIXTURES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/fixtures/rules/passive-ports-blocked"
);
const VSFTPD_CONF: &str = "etc/vsftpd.conf";
const RULES_V4: &str = "etc/iptables/rules.v4";
const RULES_V6: &str = "etc/iptables/rules.v6";
const CONTROL_PORT: u16 = 21;
const PASSIVE: &str = "passive-ports-blocked";
const CONTROL: &str = "control-port-blocked";

/// The two source classes of the source-aware fixtures, and an address in each.
const OFFICE: Source = Source {
    address: "198.51.100.10",
    network: "198.51.100.0/24",
};
const VPN: Source = Source {
    address: "10.0.0.10",
    network: "10.0.0.0/8",
};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Family {
    V4,
    V6,
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Family::V4 => "IPv4",
            Family::V6 => "IPv6",
        })
    }
}

/// A client address added to the client end, in `network` (routed back by the server).
#[derive(Clone, Copy, Debug)]
struct Source {
    address: &'static str,
    network: &'static str,
}

/// Who connects: a family, and for IPv4 possibly a source address to bind.
#[derive(Clone, Copy, Debug)]
struct Client {
    family: Family,
    source: Option<Source>,
}

impl Client {
    fn address(&self) -> &'static str {
        match (self.family, self.source) {
            (_, Some(source)) => source.address,
            (Family::V4, None) => CLIENT_ADDR,
            (Family::V6, None) => CLIENT_ADDR6,
        }
    }
}

impl fmt::Display for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} from {}", self.family, self.address())
    }
}

/// What a client should find: whether it logs in, and (if it does) whether
/// its passive transfers go through.
#[derive(Clone, Copy, Debug)]
struct Expect {
    client: Client,
    login: bool,
    transfer: bool,
}

/// What pasvlint's `passive-ports-blocked` messages must (and must not) say.
struct Finding {
    /// `None`: the rule must not fire.
    mentions: Option<&'static [&'static str]>,
    never_mentions: &'static [&'static str],
}

struct Case {
    fixture: &'static str,
    /// `pasvlint facts` families of the server.
    families: &'static [&'static str],
    clients: &'static [Expect],
    finding: Finding,
}

const V4: Client = Client {
    family: Family::V4,
    source: None,
};
const V6: Client = Client {
    family: Family::V6,
    source: None,
};
const FROM_OFFICE: Client = Client {
    family: Family::V4,
    source: Some(OFFICE),
};
const FROM_VPN: Client = Client {
    family: Family::V4,
    source: Some(VPN),
};

const CASES: &[Case] = &[
    Case {
        fixture: "bad-ipv6-rules-block-range",
        families: &["ipv4", "ipv6"],
        clients: &[
            Expect {
                client: V4,
                login: true,
                transfer: true,
            },
            Expect {
                client: V6,
                login: true,
                transfer: false,
            },
        ],
        finding: Finding {
            mentions: Some(&["IPv6"]),
            never_mentions: &["IPv4"],
        },
    },
    Case {
        fixture: "ok-ipv6-rules-open-range",
        families: &["ipv4", "ipv6"],
        clients: &[
            Expect {
                client: V4,
                login: true,
                transfer: true,
            },
            Expect {
                client: V6,
                login: true,
                transfer: true,
            },
        ],
        finding: Finding {
            mentions: None,
            never_mentions: &[],
        },
    },
    Case {
        fixture: "bad-control-and-range-open-to-different-sources",
        families: &["ipv4"],
        clients: &[
            Expect {
                client: FROM_OFFICE,
                login: true,
                transfer: false,
            },
            Expect {
                client: FROM_VPN,
                login: false,
                transfer: false,
            },
            // listen=YES, listen_ipv6=NO: no IPv6 socket at all.
            Expect {
                client: V6,
                login: false,
                transfer: false,
            },
        ],
        finding: Finding {
            mentions: Some(&["clients from 198.51.100.0/24"]),
            never_mentions: &["10.0.0.0/8", "IPv6"],
        },
    },
    Case {
        fixture: "ok-control-and-range-open-to-the-same-sources",
        families: &["ipv4"],
        clients: &[
            Expect {
                client: FROM_OFFICE,
                login: true,
                transfer: true,
            },
            Expect {
                client: FROM_VPN,
                login: true,
                transfer: true,
            },
            Expect {
                client: V6,
                login: false,
                transfer: false,
            },
        ],
        finding: Finding {
            mentions: None,
            never_mentions: &[],
        },
    },
];

fn dir_of(case: &Case) -> PathBuf {
    Path::new(FIXTURES).join(case.fixture)
}

/// Needs no root: the fixtures exist and say, through pasvlint's CLI, what the
/// table expects (so a change of message is noticed without the real run).
#[test]
fn pasvlint_findings_match_each_family_and_source_case() {
    let mut disagreements = Vec::new();
    for case in CASES {
        let dir = dir_of(case);
        for file in [VSFTPD_CONF, RULES_V4] {
            assert!(dir.join(file).is_file(), "{}: no {file}", case.fixture);
        }
        let mut report = Report::new(case.fixture);
        let measured: Vec<Measured> = case
            .clients
            .iter()
            .map(|e| Measured {
                client: e.client,
                logged_in: e.login,
                transferred: e.login && e.transfer,
                detail: "(as the case expects)".into(),
            })
            .collect();
        if let Err(e) = report.compare_pasvlint(case, &measured) {
            report.disagree(e);
        }
        eprintln!("{}", report.text);
        disagreements.extend(report.disagreements);
    }
    assert_agreement(disagreements);
}

/// The real thing: vsftpd and the kernel do what each case expects, and
/// pasvlint's findings say what they did.
#[test]
fn real_logins_and_transfers_per_family_and_source_match_pasvlint() {
    let tools = [
        "ip",
        "ss",
        "iptables-restore",
        "ip6tables-restore",
        "lftp",
        "useradd",
        "userdel",
        "chpasswd",
        "chown",
    ];
    if !support::requirements::ready("truth_families", &[vsftpd::BINARY], &tools) {
        return;
    }
    netns::remove_stale();
    let started = Instant::now();
    let user = LocalUser::create("pvlf").expect("create the local test account");
    let content = vsftpd::probe_bytes();
    user.put_file(vsftpd::PROBE_FILE, &content)
        .expect("put the probe file in the test account's home");
    let mut disagreements = Vec::new();
    for case in CASES {
        let mut report = Report::new(case.fixture);
        if let Err(e) = run_case(case, &user, &content, &mut report) {
            report.disagree(e);
        }
        eprintln!("{}", report.text);
        disagreements.extend(report.disagreements);
    }
    eprintln!("truth_families: all cases in {:.1?}", started.elapsed());
    drop(user);
    assert_agreement(disagreements);
}

fn assert_agreement(disagreements: Vec<String>) {
    assert!(
        disagreements.is_empty(),
        "truth disagreements:\n  {}",
        disagreements.join("\n  ")
    );
}

/// What one client got done.
struct Measured {
    client: Client,
    logged_in: bool,
    /// Logged in, and both passive transfers (`ls`, `get`) went through.
    transferred: bool,
    detail: String,
}

fn run_case(
    case: &Case,
    user: &LocalUser,
    content: &[u8],
    report: &mut Report,
) -> Result<(), String> {
    let dir = dir_of(case);
    let pair = Pair::create()?;
    pair.add_ipv6()?;
    for source in case.clients.iter().filter_map(|e| e.client.source) {
        pair.add_client_source(source.address, source.network)?;
    }
    pair.server.load_iptables(&dir.join(RULES_V4))?;
    let rules_v6 = dir.join(RULES_V6);
    if rules_v6.is_file() {
        pair.server.load_ip6tables(&rules_v6)?;
    }
    let daemon = Vsftpd::start_as_written(&pair.server, &dir.join(VSFTPD_CONF), CONTROL_PORT)?;
    let mut measured = Vec::new();
    for expect in case.clients {
        let client = expect.client;
        let target = Target {
            host: match client.family {
                Family::V4 => SERVER_ADDR,
                Family::V6 => SERVER_ADDR6,
            },
            port: CONTROL_PORT,
            user: &user.name,
            password: &user.password,
            bind_ipv4: client.source.map(|s| s.address),
        };
        let started = Instant::now();
        let steps = lftp::passive_session(&pair.client, &target, content)?;
        let got = Measured {
            client,
            logged_in: steps.logged_in,
            transferred: steps.logged_in && steps.transferred(),
            detail: format!("{} in {:.1?}", steps.detail, started.elapsed()),
        };
        let _ = write!(report.text, "\n  {client}: {}", got.detail);
        report.compare(&format!("{client} login"), expect.login, got.logged_in);
        if expect.login {
            report.compare(
                &format!("{client} passive transfer"),
                expect.transfer,
                got.transferred,
            );
        }
        measured.push(got);
    }
    let oops = daemon.oops();
    if !oops.is_empty() {
        let _ = write!(report.text, "\n  vsftpd fd 0: {oops}");
    }
    drop(daemon);
    drop(pair);
    report.compare_pasvlint(case, &measured)
}

struct Report {
    case: String,
    text: String,
    disagreements: Vec<String>,
}

impl Report {
    fn new(case: &str) -> Report {
        Report {
            case: case.to_owned(),
            text: format!("{case}:"),
            disagreements: Vec::new(),
        }
    }

    fn disagree(&mut self, what: String) {
        self.disagreements.push(format!("{}: {what}", self.case));
    }

    fn compare(&mut self, what: &str, expected: bool, actual: bool) {
        let word = |b: bool| if b { "works" } else { "fails" };
        let _ = write!(
            self.text,
            "\n    {what}: {} (expected {})",
            word(actual),
            word(expected)
        );
        if expected != actual {
            self.disagree(format!(
                "{what} {}, expected it to {}",
                word(actual),
                if expected { "work" } else { "fail" }
            ));
        }
    }

    /// pasvlint's findings on the fixture, read from its CLI, against what was measured.
    fn compare_pasvlint(&mut self, case: &Case, measured: &[Measured]) -> Result<(), String> {
        let dir = dir_of(case);
        let verdict = pasvlint::verdict(&dir)?;
        for d in &verdict.diagnostics {
            let _ = write!(self.text, "\n  pasvlint [{}] {}", d.rule, d.message);
        }
        if !pasvlint::pairs_server_with_firewall(&dir)? {
            self.disagree(
                "pasvlint did not see one FTP server paired with its firewall (see `pasvlint facts`)"
                    .into(),
            );
        }
        let families = pasvlint::server_families(&dir)?;
        let expected: Vec<String> = case.families.iter().map(|f| f.to_string()).collect();
        if families.as_ref() != Some(&expected) {
            self.disagree(format!(
                "pasvlint facts says families {families:?}, expected {expected:?}"
            ));
        }
        self.check_messages(case, &verdict.diagnostics);
        for m in measured {
            self.check_claims(m, &verdict.diagnostics, families.as_deref());
        }
        Ok(())
    }

    /// The wording the case is about (e.g. "IPv6", "clients from 198.51.100.0/24").
    fn check_messages(&mut self, case: &Case, diagnostics: &[Diagnostic]) {
        let passive: Vec<&Diagnostic> = diagnostics.iter().filter(|d| d.rule == PASSIVE).collect();
        match case.finding.mentions {
            None if !passive.is_empty() => self.disagree(format!(
                "pasvlint reports {PASSIVE} ({}), expected no finding",
                messages(&passive)
            )),
            None => {}
            Some(_) if passive.is_empty() => {
                self.disagree(format!("pasvlint reports no {PASSIVE}, expected one"))
            }
            Some(words) => {
                for word in words {
                    if !passive.iter().any(|d| d.message.contains(word)) {
                        self.disagree(format!(
                            "no {PASSIVE} message mentions {word:?}: {}",
                            messages(&passive)
                        ));
                    }
                }
            }
        }
        for word in case.finding.never_mentions {
            if let Some(d) = passive.iter().find(|d| d.message.contains(word)) {
                self.disagree(format!(
                    "a {PASSIVE} message mentions {word:?}: {}",
                    d.message
                ));
            }
        }
    }

    /// For one client: a passive finding applies exactly when it logged in and
    /// could not transfer; no control finding applies when it logged in; a
    /// family pasvlint says the server takes is one whose client connected.
    fn check_claims(
        &mut self,
        m: &Measured,
        diagnostics: &[Diagnostic],
        families: Option<&[String]>,
    ) {
        let claims = |rule: &str| -> Result<bool, String> {
            let mut applies = false;
            for d in diagnostics.iter().filter(|d| d.rule == rule) {
                applies |= audience_includes(&d.message, &m.client)?;
            }
            Ok(applies)
        };
        let (passive, control) = match (claims(PASSIVE), claims(CONTROL)) {
            (Ok(p), Ok(c)) => (p, c),
            (Err(e), _) | (_, Err(e)) => {
                self.disagree(format!("{}: {e}", m.client));
                return;
            }
        };
        let _ = write!(
            self.text,
            "\n    pasvlint about {}: passive {}, control {}",
            m.client,
            if passive { "blocked" } else { "not blocked" },
            if control { "blocked" } else { "not blocked" }
        );
        let client = &m.client;
        if m.logged_in {
            if control {
                self.disagree(format!(
                    "{client} logged in, but pasvlint's {CONTROL} applies to it"
                ));
            }
            if passive == m.transferred {
                self.disagree(format!(
                    "{client}: passive transfers {}, but pasvlint {} ({})",
                    if m.transferred { "work" } else { "fail" },
                    if passive {
                        format!("reports {PASSIVE} for it")
                    } else {
                        format!("reports no {PASSIVE} for it")
                    },
                    m.detail
                ));
            }
        } else if passive {
            self.disagree(format!(
                "{client} cannot log in, yet pasvlint's {PASSIVE} speaks of its transfers"
            ));
        }
        let family = match client.family {
            Family::V4 => "ipv4",
            Family::V6 => "ipv6",
        };
        // Only a client of the server's own address family and default source
        // says whether the family is taken at all (source classes may be
        // firewalled off the control port).
        if let (None, Some(families)) = (client.source, families) {
            let taken = families.iter().any(|f| f == family);
            if taken != m.logged_in {
                self.disagree(format!(
                    "pasvlint facts says {family} is {}taken, but the {client} login {}",
                    if taken { "" } else { "not " },
                    if m.logged_in { "worked" } else { "failed" }
                ));
            }
        }
    }
}

fn messages(diagnostics: &[&Diagnostic]) -> String {
    diagnostics
        .iter()
        .map(|d| format!("{:?}", d.message))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Whether a finding's message is about `client`, read as its words say:
/// " for [IPv4 |IPv6 ]clients[ from BLOCKS| outside BLOCKS]" near its end;
/// no such phrase: every client.
fn audience_includes(message: &str, client: &Client) -> Result<bool, String> {
    let Some(start) = message.rfind(" for ") else {
        return Ok(true);
    };
    let rest = &message[start + " for ".len()..];
    let (family, rest) = if let Some(rest) = rest.strip_prefix("IPv4 ") {
        (Some(Family::V4), rest)
    } else if let Some(rest) = rest.strip_prefix("IPv6 ") {
        (Some(Family::V6), rest)
    } else {
        (None, rest)
    };
    let Some(rest) = rest.strip_prefix("clients") else {
        // " for " in some other sense ("for up to 6 sessions"): no audience named.
        return Ok(family.is_none_or(|f| f == client.family));
    };
    if family.is_some_and(|f| f != client.family) {
        return Ok(false);
    }
    let rest = rest.split(" (").next().unwrap_or(rest);
    let (inside, blocks) = if let Some(blocks) = rest.strip_prefix(" from ") {
        (true, blocks)
    } else if let Some(blocks) = rest.strip_prefix(" outside ") {
        (false, blocks)
    } else {
        return Ok(true);
    };
    if blocks.contains("more blocks") {
        return Err(format!(
            "cannot tell from {message:?} whether it is about this client"
        ));
    }
    let address: IpAddr = client
        .address()
        .parse()
        .map_err(|e| format!("{}: {e}", client.address()))?;
    let mut within = false;
    for block in blocks.split(", ") {
        let block = block.trim_end_matches(['.', ',', ';', ':']);
        within |= cidr_contains(block, address)
            .ok_or_else(|| format!("{block:?} in {message:?} is no address block"))?;
    }
    Ok(within == inside)
}

/// `a.b.c.d/n`, `x::/n` or a single address contains `address`.
fn cidr_contains(block: &str, address: IpAddr) -> Option<bool> {
    let (net, len) = match block.split_once('/') {
        Some((net, len)) => (net.parse::<IpAddr>().ok()?, Some(len.parse::<u32>().ok()?)),
        None => (block.parse::<IpAddr>().ok()?, None),
    };
    Some(match (net, address) {
        (IpAddr::V4(net), IpAddr::V4(addr)) => {
            let len = len.unwrap_or(32).min(32);
            let mask = u32::MAX.checked_shl(32 - len).unwrap_or(0);
            u32::from(net) & mask == u32::from(addr) & mask
        }
        (IpAddr::V6(net), IpAddr::V6(addr)) => {
            let len = len.unwrap_or(128).min(128);
            let mask = u128::MAX.checked_shl(128 - len).unwrap_or(0);
            u128::from(net) & mask == u128::from(addr) & mask
        }
        _ => false,
    })
}

#[test]
fn audiences_are_read_as_written() {
    let office = FROM_OFFICE;
    let vpn = FROM_VPN;
    let msg = "all 10 passive ports 40000-40009 are blocked by the firewall for clients from 198.51.100.0/24";
    assert!(audience_includes(msg, &office).unwrap());
    assert!(!audience_includes(msg, &vpn).unwrap());
    assert!(!audience_includes(msg, &V6).unwrap());
    let v6 = "all 10 passive ports 40000-40009 are blocked by the firewall for IPv6 clients";
    assert!(audience_includes(v6, &V6).unwrap());
    assert!(!audience_includes(v6, &V4).unwrap());
    let outside =
        "passive ports 40000-40001 are blocked for clients outside 10.0.0.0/8 (2 of the 10)";
    assert!(audience_includes(outside, &office).unwrap());
    assert!(!audience_includes(outside, &vpn).unwrap());
    let everyone = "all 10 passive ports 40000-40009 are blocked by the firewall";
    assert!(audience_includes(everyone, &vpn).unwrap());
    assert!(audience_includes(everyone, &V6).unwrap());
    assert!(
        audience_includes(
            "x for clients from 1.2.3.0/24, 5.6.7.0/24 and 3 more blocks",
            &vpn
        )
        .is_err()
    );
}
