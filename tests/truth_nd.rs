//! Truth for `ip6tables-icmpv6-dropped`: every case of
//! `fixtures/rules/ip6tables-icmpv6-dropped/` whose FTP server serves IPv6 is
//! loaded for real into a private server namespace (`etc/iptables/rules.v6` and
//! `rules.v4` with `ip6tables-restore` / `iptables-restore`, or `etc/firewall.sh`
//! run with `sh`), a listener takes port 21 over IPv6, and a client namespace
//! connects to it over the veth link, which needs neighbour discovery first;
//! then, once the server has forgotten the client's link address (as it does when
//! its entry fails) and must find it again itself, it connects again.
//! pasvlint must report the rule exactly where either connect fails.

mod support {
    #[allow(dead_code)]
    pub mod connect;
    #[allow(dead_code)]
    pub mod netns;
    pub mod requirements;
}

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use support::netns::{self, Pair, TOOL_TIMEOUT};

const FIXTURES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/fixtures/rules/ip6tables-icmpv6-dropped"
);
const RULE: &str = "ip6tables-icmpv6-dropped";
const CONTROL_PORT: u16 = 21;
/// Cases whose outcome depends on the client: `-s fe80::/10` admits solicitations
/// sent from link-local addresses only (measured: a connect to the host's global
/// address fails, one to its link-local address works), so pasvlint stays silent.
const DEPENDS: &[&str] = &["ok-link-local-sources"];

/// The cases whose server listens on IPv6, with their firewall's files.
fn cases() -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(FIXTURES)
        .expect("fixture folder")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .filter(|p| !DEPENDS.iter().any(|d| p.ends_with(d)))
        .filter(|p| {
            std::fs::read_to_string(p.join("etc/vsftpd.conf"))
                .is_ok_and(|conf| conf.lines().any(|l| l == "listen_ipv6=YES"))
        })
        .collect();
    out.sort();
    out
}

/// Loads the case's firewall into the server namespace as the host would.
fn load(pair: &Pair, case: &Path) -> Result<(), String> {
    let etc = case.join("etc");
    let script = etc.join("firewall.sh");
    if script.is_file() {
        let mut sh = pair.server.command("sh");
        return netns::run_within(sh.arg(&script), TOOL_TIMEOUT).map(|_| ());
    }
    let v4 = etc.join("iptables/rules.v4");
    if v4.is_file() {
        pair.server.load_iptables(&v4)?;
    }
    pair.server.load_ip6tables(&etc.join("iptables/rules.v6"))
}

/// Whether a client reaches the control port over IPv6 with this firewall, at
/// first and after the neighbour entries went stale.
fn connects(case: &Path) -> Result<bool, String> {
    let pair = Pair::create()?;
    pair.add_ipv6()?;
    for ns in [&pair.server, &pair.client] {
        let mut sysctl = ns.command("sysctl");
        sysctl.args([
            "-qw",
            "net.ipv6.neigh.eth0.base_reachable_time_ms=1000",
            "net.ipv6.neigh.eth0.delay_first_probe_time=1",
        ]);
        netns::run_within(&mut sysctl, TOOL_TIMEOUT)?;
    }
    load(&pair, case)?;
    if !connect_once(&pair)? {
        return Ok(false);
    }
    // The re-check, made deterministic: the server forgets the client's link
    // address, as it does once its entry fails, and must find it again itself;
    // the client keeps the server's and does not probe it (its unicast
    // solicitation would hand the server the address, and whether it comes in
    // time was a race under load).
    let mut no_probe = pair.client.command("sysctl");
    no_probe.args(["-qw", "net.ipv6.neigh.eth0.delay_first_probe_time=120"]);
    netns::run_within(&mut no_probe, TOOL_TIMEOUT)?;
    let mut forget = pair.server.command("ip");
    forget.args(["-6", "neigh", "flush", "dev", "eth0"]);
    netns::run_within(&mut forget, TOOL_TIMEOUT)?;
    connect_once(&pair)
}

fn connect_once(pair: &Pair) -> Result<bool, String> {
    let ports = BTreeSet::from([CONTROL_PORT]);
    // A probe that times out is retried once: a retransmitted solicitation then
    // gets its chance too.
    for _ in 0..2 {
        if support::connect::connectable(pair, &ports, true)?.contains(&CONTROL_PORT) {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Whether `pasvlint check --format json` reports the rule on the case.
fn reported(case: &Path) -> Result<bool, String> {
    let output = netns::output_within(
        std::process::Command::new(env!("CARGO_BIN_EXE_pasvlint"))
            .args(["check", "--format", "json", "--isolated"])
            .arg(case),
        TOOL_TIMEOUT,
    )?;
    let report: serde_json::Value = serde_json::from_slice(&output.stdout)
        .map_err(|e| format!("pasvlint printed no JSON: {e}"))?;
    let diagnostics = report["diagnostics"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    Ok(diagnostics.iter().any(|d| d["rule"] == RULE))
}

#[test]
fn reported_exactly_where_ipv6_clients_cannot_connect() {
    if !support::requirements::ready(
        "reported_exactly_where_ipv6_clients_cannot_connect",
        &[],
        &["ip6tables-restore", "iptables-restore", "python3", "sh"],
    ) {
        return;
    }
    netns::remove_stale();
    let cases = cases();
    assert!(cases.len() >= 10, "too few cases: {cases:?}");
    let mut wrong = Vec::new();
    for case in &cases {
        let name = case
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let works = connects(case).unwrap_or_else(|e| panic!("{name}: {e}"));
        let said = reported(case).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            works,
            name.starts_with("ok-"),
            "{name}: the fixture's name disagrees with the real connect"
        );
        if said == works {
            wrong.push(format!(
                "{name}: connect {}, pasvlint {}",
                if works { "works" } else { "fails" },
                if said { "reports" } else { "is silent" }
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
