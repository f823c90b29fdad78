//! Truth test for ProFTPD: every fixture case holding an `etc/proftpd/proftpd.conf`
//! is given to Debian's real `proftpd -t` (1.3.8, unpacked, not installed), with
//! only paths, the account it runs as, and its scoreboard/pid/log files adapted.
//! What pasvlint says stops the daemon must fail `proftpd -t`, and the rest must
//! pass; for the accepted ones the daemon runs in a private network namespace
//! and every port its PASV replies announce (the 227 reply parsed here) must lie
//! in pasvlint's passive range for the main server. Each case a fix changes is
//! checked again as `check --fix --unsafe-fixes` leaves it. Nothing of pasvlint
//! is used but its CLI output.

mod support {
    pub mod claims;
    pub mod debs;
    pub mod fixed;
    #[allow(dead_code)]
    pub mod netns;
    pub mod proftpd;
    #[allow(dead_code)]
    pub mod pureftpd;
    pub mod requirements;
}

use std::path::{Path, PathBuf};
use support::claims;
use support::netns::{Netns, unique_name};
use support::proftpd::{self, Install};

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
            if path.join("etc/proftpd/proftpd.conf").is_file() {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

/// pasvlint's claim: refused (an error-level proftpd finding), the main server's
/// passive ranges and its control port.
struct Claim {
    refused: bool,
    ports: Vec<(u16, u16)>,
    control: Option<u16>,
    /// Every login must start TLS first (the plain-text probe cannot log in).
    tls_required: bool,
}

fn claim(case: &Path) -> Claim {
    let refused = claims::diagnostics(case).iter().any(|d| {
        d["severity"] == "error"
            && matches!(
                d["rule"].as_str(),
                Some("proftpd-config-invalid" | "proftpd-passive-ports-invalid")
            )
    });
    let server = claims::server(case, "proftpd");
    let ports = claims::passive_ranges(&server);
    let tls_required = server["user_classes"]
        .as_array()
        .is_some_and(|c| !c.is_empty() && c.iter().all(|c| c["tls"] == "required"));
    Claim {
        refused,
        ports,
        control: server["control_port"].as_u64().map(|p| p as u16),
        tls_required,
    }
}

fn check_case(
    case: &Path,
    install: &Install,
    netns: &Netns,
    scratch: &Path,
) -> Result<String, String> {
    let claim = claim(case);
    let conf = proftpd::adapt(case, scratch, install, true);
    let (accepted, said) = proftpd::syntax_check(install, &conf);
    let first_fatal = said
        .lines()
        .find(|l| l.contains("fatal:"))
        .unwrap_or("")
        .trim()
        .to_owned();
    match (claim.refused, accepted) {
        (true, false) => return Ok(format!("proftpd -t refuses: {first_fatal}")),
        (true, true) => {
            return Err(format!(
                "pasvlint says refused, proftpd -t accepts:\n{said}"
            ));
        }
        (false, false) => {
            return Err(format!(
                "pasvlint says it starts, proftpd -t refuses:\n{said}"
            ));
        }
        (false, true) => {}
    }
    let Some(port) = claim.control else {
        return Ok("accepted; no control port to probe".to_owned());
    };
    if claim.tls_required {
        return Ok("accepted; TLS required before login, PASV not probed".to_owned());
    }
    let _daemon = proftpd::Daemon::start(netns, install, &conf, port)?;
    let seen = support::pureftpd::announced_ports(netns, "127.0.0.1", port, 12)?;
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
    Ok(format!(
        "accepted; {} PASV replies announced ports in {lo}-{hi}",
        seen.len()
    ))
}

#[test]
fn proftpd_does_what_pasvlint_says() {
    if !support::requirements::ready(
        "truth_proftpd",
        &[],
        &["ip", "ss", "python3", "apt-get", "dpkg"],
    ) {
        return;
    }
    let scratch_root = std::env::temp_dir().join(format!("pvt-proftpd-{}", std::process::id()));
    let install = match proftpd::install(&scratch_root) {
        Ok(i) => i,
        Err(e) => {
            assert!(!support::requirements::in_ci(), "{e}");
            eprintln!("skipping truth_proftpd: {e}");
            return;
        }
    };
    let problem = support::requirements::unloadable_libraries(&install.daemon);
    if !support::requirements::ready_unless("truth_proftpd", problem) {
        return;
    }
    let netns = Netns::create(unique_name("proftpd")).unwrap();
    let cases = cases();
    assert!(
        cases.len() >= 10,
        "expected the ProFTPD fixture cases, found {}",
        cases.len()
    );
    let mut failures = Vec::new();
    for case in &cases {
        let scratch = scratch_root.join("case");
        support::fixed::check_written_and_fixed(
            case,
            &scratch,
            &mut failures,
            |c| claim(c).refused,
            |c| check_case(c, &install, &netns, &scratch),
        );
    }
    let _ = std::fs::remove_dir_all(&scratch_root);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
