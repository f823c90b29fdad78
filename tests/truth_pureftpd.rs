//! Truth test for Pure-FTPd: every fixture case holding a Pure-FTPd configuration
//! is given to the real daemon (Debian's 1.0.50; a `conf/` directory through
//! Debian's real `pure-ftpd-wrapper`, a `pure-ftpd.conf` straight to the daemon,
//! only the listening address adapted) inside a private network namespace.
//! What pasvlint calls invalid must be refused; for the rest, every passive port
//! the daemon announces must be in pasvlint's `passive_ports`, and the number of
//! sessions it admits must be pasvlint's `max_sessions`. Each case a fix changes
//! is checked again as `check --fix --unsafe-fixes` leaves it. Nothing of
//! pasvlint is used but its CLI output.

mod support {
    pub mod claims;
    pub mod fixed;
    // Shared with tests/truth.rs, which uses the veth pair and iptables loading.
    #[allow(dead_code)]
    pub mod netns;
    pub mod pureftpd;
    pub mod requirements;
}

use std::path::{Path, PathBuf};
use support::claims;
use support::netns::{Netns, unique_name};
use support::pureftpd;

const ADDRESS: &str = "127.0.0.1";
const PORT: u16 = 2121;

/// Case folders (`fixtures/rules/<rule>/<case>/`) with a Pure-FTPd configuration
/// and no script (a script's command line is not a file the daemon reads).
fn cases() -> Vec<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/rules");
    let mut found = Vec::new();
    for rule in std::fs::read_dir(&root).unwrap().flatten() {
        for case in std::fs::read_dir(rule.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            let path = case.path();
            let pure = path.join("etc/pure-ftpd.conf").is_file()
                || path.join("etc/pure-ftpd/pure-ftpd.conf").is_file()
                || path.join("etc/pure-ftpd/conf").is_dir();
            if path.is_dir() && pure {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

/// pasvlint's claim: refused, or the server it computes.
struct Claim {
    refused: bool,
    ports: Vec<(u16, u16)>,
    max_sessions: Option<u64>,
    unlimited: bool,
    anonymous: bool,
}

fn claim(case: &Path) -> Claim {
    let refused = claims::diagnostics(case).iter().any(|d| {
        matches!(
            d["rule"].as_str(),
            Some("pureftpd-config-invalid" | "pureftpd-passive-range-invalid")
        )
    });
    let server = claims::server(case, "pure-ftpd");
    let ports = claims::passive_ranges(&server);
    let anonymous = server["user_classes"]
        .as_array()
        .is_some_and(|c| c.iter().any(|c| c["class"] == "anonymous"));
    Claim {
        refused,
        ports,
        max_sessions: server["max_sessions"].as_u64(),
        unlimited: server["max_sessions"].is_null(),
        anonymous,
    }
}

/// What the daemon is started with: the wrapper's flags for a `conf/`
/// directory, or the path of an adapted copy of `pure-ftpd.conf`.
fn daemon_args(case: &Path, scratch: &Path) -> Result<Vec<String>, String> {
    let debian = case.join("etc/pure-ftpd");
    if debian.join("conf").is_dir() {
        let mut flags = pureftpd::wrapper_flags(&debian, scratch)?;
        flags.extend(["-S", &format!("{ADDRESS},{PORT}"), "-f", "none"].map(str::to_owned));
        return Ok(flags);
    }
    let conf = [
        case.join("etc/pure-ftpd.conf"),
        debian.join("pure-ftpd.conf"),
    ]
    .into_iter()
    .find(|p| p.is_file())
    .unwrap();
    let text = std::fs::read_to_string(&conf).unwrap();
    let mut adapted: String = text
        .lines()
        .filter(|l| {
            let name = l.trim_start().to_ascii_lowercase();
            !name.starts_with("bind") && !name.starts_with("syslogfacility")
        })
        .map(|l| format!("{l}\n"))
        .collect();
    adapted.push_str(&format!("Bind {ADDRESS},{PORT}\nSyslogFacility none\n"));
    let copy = scratch.join("pure-ftpd.conf");
    std::fs::write(&copy, adapted).unwrap();
    Ok(vec![copy.to_string_lossy().into_owned()])
}

fn check_case(case: &Path, netns: &Netns, scratch: &Path) -> Result<String, String> {
    let claim = claim(case);
    let args = match daemon_args(case, scratch) {
        Ok(args) => args,
        Err(wrapper) if claim.refused => return Ok(format!("wrapper refuses: {wrapper}")),
        Err(wrapper) => {
            return Err(format!(
                "pasvlint says it starts, the wrapper refuses: {wrapper}"
            ));
        }
    };
    let reply = pureftpd::first_reply(netns, &args)?;
    let daemon_refuses = reply.contains("421 Configuration error")
        || reply.contains("syntax error")
        || reply.contains("property not found");
    match (claim.refused, daemon_refuses) {
        (true, true) => return Ok(format!("daemon refuses: {}", reply.trim())),
        (true, false) => {
            return Err(format!(
                "pasvlint says refused, the daemon starts: {reply:?}"
            ));
        }
        (false, true) => {
            return Err(format!(
                "pasvlint says it starts, the daemon refuses: {reply:?}"
            ));
        }
        (false, false) => {}
    }
    if !claim.anonymous {
        return Ok("starts; no anonymous class to probe with".to_owned());
    }
    let _daemon = pureftpd::Daemon::start(netns, &args, PORT)?;
    let seen = pureftpd::announced_ports(netns, ADDRESS, PORT, 40)?;
    if seen.is_empty() {
        return Err("no PASV reply".to_owned());
    }
    if let Some(outside) = seen.iter().find(|p| !claims::within(&claim.ports, **p)) {
        return Err(format!(
            "announced {outside}, outside pasvlint's {:?}",
            claim.ports
        ));
    }
    let (lo, hi) = (seen.iter().min().unwrap(), seen.iter().max().unwrap());
    let mut note = format!("announced {} PASV ports in {lo}-{hi}", seen.len());
    let expected = match (claim.max_sessions, claim.unlimited) {
        (Some(n), _) if n <= 20 => Some(n as u32),
        (None, true) => Some(6),
        _ => None,
    };
    if let Some(expected) = expected {
        let admitted = pureftpd::concurrent_logins(netns, ADDRESS, PORT, expected + 2)?;
        let want = if claim.unlimited {
            expected + 2
        } else {
            expected
        };
        if admitted != want {
            return Err(format!(
                "admitted {admitted} sessions, pasvlint says {want}"
            ));
        }
        note.push_str(&format!("; admitted {admitted} concurrent sessions"));
    }
    Ok(note)
}

#[test]
fn pure_ftpd_does_what_pasvlint_says() {
    if !support::requirements::ready("truth_pureftpd", &[], &["ip", "python3", "perl"]) {
        return;
    }
    if let Err(e) = pureftpd::unpacked() {
        assert!(!support::requirements::in_ci(), "{e}");
        eprintln!("skipping truth_pureftpd: {e}");
        return;
    }
    let problem = support::requirements::unloadable_libraries(&pureftpd::daemon())
        .or_else(|| support::requirements::missing_account("ftp"));
    if !support::requirements::ready_unless("truth_pureftpd", problem) {
        return;
    }
    let netns = Netns::create(unique_name("pure")).unwrap();
    let scratch = std::env::temp_dir().join(format!("pvt-pure-{}", std::process::id()));
    let cases = cases();
    assert!(
        cases.len() >= 10,
        "expected the Pure-FTPd fixture cases, found {}",
        cases.len()
    );
    let mut failures = Vec::new();
    for case in &cases {
        support::fixed::check_written_and_fixed(
            case,
            &scratch,
            &mut failures,
            |c| claim(c).refused,
            |c| check_case(c, &netns, &scratch),
        );
    }
    let _ = std::fs::remove_dir_all(&scratch);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
