//! The real firewalld (1.3, Debian's package) reads each firewalld fixture:
//!
//! 1. `firewall-offline-cmd --check-config` with the fixture's files as
//!    `/etc/firewalld` (a tmpfs in a private mount namespace): it must refuse
//!    exactly the cases where pasvlint reports a `firewalld-config-invalid` error,
//!    and warn exactly where pasvlint reports one as a warning (a dropped rich rule).
//! 2. The real daemon, started with those files inside a private network and
//!    mount namespace (its own dbus-daemon; nothing of the configuration changed
//!    but `CleanupOnExit=no`), builds its nftables ruleset, which is saved with
//!    `nft list ruleset` while it runs and loaded again once it is stopped (a
//!    daemon whose configuration failed flushes its rules when it exits); a
//!    client namespace connects to every candidate
//!    port over IPv4 and IPv6 (the server listens on those and on the ports the
//!    forward-port fixtures rewrite to). The ports that connect must be the ports
//!    pasvlint says are open to the client.

mod support {
    pub mod cases;
    pub mod connect;
    #[allow(dead_code)]
    pub mod netns;
    #[allow(dead_code)]
    pub mod open_ports;
    pub mod parallel;
    pub mod requirements;
}

use pasvlint::diag::Severity;
use pasvlint::facts::Family;
use pasvlint::policy::Config;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;
use support::netns::{Pair, output_within};
use support::open_ports::{claim_over, show};

fn candidates() -> BTreeSet<u16> {
    (1..=1100)
        .chain(40000..=40110)
        .chain([2121, 2222, 41000])
        .collect()
}

/// Where the server also listens: the ports forward-port fixtures rewrite to.
fn listeners() -> BTreeSet<u16> {
    candidates().into_iter().chain(50000..=50100).collect()
}

/// Every fixture folder that holds an `etc/firewalld`.
fn cases() -> Vec<(String, PathBuf)> {
    support::cases::rule_cases()
        .into_iter()
        .filter(|case| case.join("etc/firewalld").is_dir())
        .map(|case| (support::cases::name(&case), case))
        .collect()
}

/// A shell script that makes `case`'s files the namespace's `/etc/firewalld`
/// (the installed firewalld.conf when the case has none), then runs `then`.
fn with_etc(case: &Path, then: &str) -> String {
    let etc = case.join("etc/firewalld");
    format!(
        "set -e\nconf=$(cat /etc/firewalld/firewalld.conf 2>/dev/null || printf 'DefaultZone=public\\nFirewallBackend=nftables')\n\
         mount -t tmpfs none /etc/firewalld\nprintf '%s\\n' \"$conf\" > /etc/firewalld/firewalld.conf\n\
         cp -r '{}'/. /etc/firewalld/\nmkdir -p /etc/firewalld/zones /etc/firewalld/services\n{then}\n",
        etc.display()
    )
}

/// (refuses, warns) as pasvlint says.
fn pasvlint_verdict(case: &Path) -> (bool, bool) {
    let report = pasvlint::lint(&[case.to_path_buf()], &Config::default());
    let mine = |s: Severity| {
        report
            .diagnostics
            .iter()
            .any(|d| d.rule == "firewalld-config-invalid" && d.severity == s)
    };
    (mine(Severity::Error), mine(Severity::Warning))
}

#[test]
fn firewall_offline_cmd_refuses_what_pasvlint_says_it_refuses() {
    if !support::requirements::ready(
        "oracle_firewalld check-config",
        &[],
        &["firewall-offline-cmd", "unshare", "mount"],
    ) {
        return;
    }
    let cases = cases();
    assert!(cases.len() >= 10, "fixtures with etc/firewalld: {cases:?}");
    let failures: Vec<String> = support::parallel::map(&cases, |(name, case)| {
        let script = with_etc(case, "firewall-offline-cmd --check-config");
        let out = output_within(
            Command::new("unshare").args(["-m", "sh", "-c", &script]),
            Duration::from_secs(120),
        )
        .expect("firewall-offline-cmd ran");
        let said = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let refuses = !out.status.success();
        // A problem firewalld works around is logged as WARNING (a dropped rich
        // rule) or as ERROR with exit 0 (an unknown default zone: "Using 'public'").
        let warns = said.contains("WARNING:") || (!refuses && said.contains("ERROR:"));
        let claim = pasvlint_verdict(case);
        eprintln!(
            "{name}: exit {:?}, warning {warns}; pasvlint: refuses {}, warns {}",
            out.status.code(),
            claim.0,
            claim.1
        );
        ((refuses, warns) != claim).then(|| format!(
            "{name}: firewall-offline-cmd exit {:?} (refuses {refuses}, warns {warns}), pasvlint says refuses {}, warns {}: {said}",
            out.status.code(),
            claim.0,
            claim.1
        ))
    })
    .into_iter()
    .flatten()
    .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// pasvlint's claim for the case: per family, the candidate ports open to the
/// test client's source class.
fn claim(case: &Path, family: Family) -> BTreeSet<u16> {
    claim_over(case, family, &candidates()).map_or_else(candidates, |(open, _)| open)
}

/// Starts firewalld with the case's files in the server namespace and leaves
/// its ruleset loaded; what firewall-cmd printed.
fn start_firewalld(pair: &Pair, case: &Path) -> Result<String, String> {
    let run = "mount -t tmpfs none /run/dbus\n\
        sed -i 's/^CleanupOnExit=.*/CleanupOnExit=no/' /etc/firewalld/firewalld.conf\n\
        grep -q '^CleanupOnExit=' /etc/firewalld/firewalld.conf || echo CleanupOnExit=no >> /etc/firewalld/firewalld.conf\n\
        dbus-daemon --system --fork --nopidfile --print-pid > /run/dbus/pid\n\
        firewalld --nofork --nopid > /run/dbus/log 2>&1 & fw=$!\n\
        for i in $(seq 1 60); do case $(firewall-cmd --state 2>&1) in running|failed) break;; esac; sleep 0.25; done\n\
        firewall-cmd --get-active-zones; firewall-cmd --get-default-zone\n\
        nft list ruleset > /run/dbus/ruleset\n\
        kill $fw; wait $fw || true\n\
        nft flush ruleset; nft -f /run/dbus/ruleset\n\
        kill $(cat /run/dbus/pid)\n\
        cat /run/dbus/log";
    let script = with_etc(case, run);
    let out = output_within(
        pair.server
            .command("unshare")
            .args(["-m", "sh", "-c", &script]),
        Duration::from_secs(120),
    )?;
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if !out.status.success() {
        return Err(format!("firewalld did not start: {said}"));
    }
    Ok(said)
}

#[test]
fn firewalld_loads_exactly_what_pasvlint_says_is_open() {
    if !support::requirements::ready(
        "oracle_firewalld daemon",
        &[],
        &[
            "firewalld",
            "firewall-cmd",
            "dbus-daemon",
            "nft",
            "unshare",
            "ip",
            "python3",
        ],
    ) {
        return;
    }
    let failures =
        support::parallel::map(&cases(), |(name, case)| daemon_case(name, case)).concat();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// One fixture loaded by the real daemon and probed over both families: what disagrees.
fn daemon_case(name: &str, case: &Path) -> Vec<String> {
    let mut failures = Vec::new();
    let pair = Pair::create().expect("namespaces");
    pair.add_ipv6().expect("IPv6 addresses");
    let said = match start_firewalld(&pair, case) {
        Ok(s) => s,
        Err(e) => return vec![format!("{name}: {e}")],
    };
    for (family, ipv6) in [(Family::V4, false), (Family::V6, true)] {
        let opened =
            match support::connect::connectable_listening(&pair, &candidates(), &listeners(), ipv6)
            {
                Ok(o) => o,
                Err(e) => {
                    failures.push(format!("{name} {family:?}: {e}"));
                    continue;
                }
            };
        let open = claim(case, family);
        eprintln!(
            "{name} {family:?}: connected to {}; pasvlint: open to the client {}",
            show(&opened),
            show(&open)
        );
        if opened != open {
            failures.push(format!(
                "{name} {family:?}: connected to {}, pasvlint says {}; firewalld said: {said}",
                show(&opened),
                show(&open)
            ));
        }
    }
    failures
}

/// `firewall-offline-cmd` commands as a provisioning script would run them.
const COMMAND_CASES: &[&[&str]] = &[
    &[
        "--zone=public --add-service=ftp",
        "--add-port=40000-40050/tcp",
    ],
    &[
        "--zone=public --add-port=21/tcp",
        "--zone=internal --add-source=198.18.0.0/24",
        "--zone=internal --add-port=40000-40100/tcp",
    ],
    &[
        "--add-port=21/tcp",
        "--add-port=40000-40100/tcp",
        "--add-rich-rule=rule family=\"ipv4\" source address=\"198.18.0.0/24\" port port=\"2121\" protocol=\"tcp\" accept",
    ],
    &[
        "--set-default-zone=trusted",
        "--zone=trusted --set-target=DROP",
        "--zone=trusted --add-port=2121/tcp",
    ],
    &[
        "--add-forward-port=port=21:proto=tcp:toport=2121",
        "--add-forward-port=port=40000-40100:proto=tcp:toport=50000-50100",
        "--add-forward-port=port=41000:proto=tcp:toport=41000",
        "--add-forward-port=port=2222:proto=tcp:toport=22:toaddr=198.51.100.9",
        "--add-rich-rule=rule family=\"ipv4\" source address=\"198.18.0.0/24\" forward-port port=\"1000\" protocol=\"tcp\" to-port=\"22\"",
        "--add-rich-rule=rule family=\"ipv6\" forward-port port=\"1001\" protocol=\"tcp\" to-port=\"22\"",
    ],
];

#[test]
fn firewall_offline_cmd_commands_load_what_pasvlint_says_is_open() {
    if !support::requirements::ready(
        "oracle_firewalld commands",
        &[],
        &[
            "firewalld",
            "firewall-offline-cmd",
            "dbus-daemon",
            "nft",
            "unshare",
            "ip",
            "python3",
        ],
    ) {
        return;
    }
    let scratch = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    for (i, commands) in COMMAND_CASES.iter().enumerate() {
        let dir = scratch.path().join(format!("case-{i}"));
        std::fs::create_dir_all(dir.join("etc/firewalld")).unwrap();
        let quote = |c: &str| c.replace('\'', "'\\''");
        let mut script = String::from("#!/bin/sh\n");
        let mut run = String::new();
        for c in *commands {
            let (option, value) = c.rfind(" --").map_or(("", *c), |i| (&c[..i], &c[i + 1..]));
            let (flag, arg) = value.split_once('=').unwrap_or((value, ""));
            script.push_str(&format!(
                "firewall-offline-cmd {option} {flag}='{}'\n",
                quote(arg)
            ));
            run.push_str(&format!(
                "firewall-offline-cmd {option} {flag}='{}'\n",
                quote(arg)
            ));
        }
        let script_dir = scratch.path().join(format!("script-{i}"));
        std::fs::create_dir_all(&script_dir).unwrap();
        std::fs::write(script_dir.join("firewall.sh"), &script).unwrap();
        let empty = scratch.path().join("empty");
        std::fs::create_dir_all(empty.join("etc/firewalld")).unwrap();
        let save = format!(
            "{run}cp -r /etc/firewalld/. '{}'/",
            dir.join("etc/firewalld").display()
        );
        let out = output_within(
            Command::new("unshare").args(["-m", "sh", "-c", &with_etc(&empty, &save)]),
            Duration::from_secs(120),
        )
        .expect("firewall-offline-cmd ran");
        assert!(
            out.status.success(),
            "{commands:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let pair = Pair::create().expect("namespaces");
        pair.add_ipv6().expect("IPv6 addresses");
        let said = match start_firewalld(&pair, &dir) {
            Ok(s) => s,
            Err(e) => {
                failures.push(format!("{commands:?}: {e}"));
                continue;
            }
        };
        for (family, ipv6) in [(Family::V4, false), (Family::V6, true)] {
            let opened =
                support::connect::connectable_listening(&pair, &candidates(), &listeners(), ipv6)
                    .expect("probe");
            let open = claim(&script_dir, family);
            eprintln!(
                "{commands:?} {family:?}: connected to {}; pasvlint: {}",
                show(&opened),
                show(&open)
            );
            if opened != open {
                failures.push(format!(
                    "{commands:?} {family:?}: connected to {}, pasvlint says {}; firewalld said: {said}",
                    show(&opened),
                    show(&open)
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
