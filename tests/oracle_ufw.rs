//! The real ufw (0.36, Debian's package, unpacked, never installed) loads each
//! ufw fixture as it does at boot — `ufw-init start` with the fixture's
//! `/etc/ufw` and `/etc/default/ufw`, ufw's shipped files for those the fixture
//! lacks — inside a private network namespace; a client namespace then connects
//! to every candidate port over IPv4 and IPv6. The ports that connect must be
//! the ports pasvlint says are open to every client.
//!
//! Two things differ from a real host, both outside filtering: `IPT_SYSCTL` is
//! emptied (ufw would apply its sysctl file to the namespace), and a fixture
//! without `ufw.conf` gets `ENABLED=yes`, as pasvlint assumes for a repository
//! that holds ufw's rules.

mod support {
    pub mod cases;
    pub mod connect;
    pub mod debs;
    #[allow(dead_code)]
    pub mod netns;
    #[allow(dead_code)]
    pub mod open_ports;
    pub mod requirements;
}

use pasvlint::facts::Family;
use std::path::{Path, PathBuf};
use support::netns::{Pair, output_within};
use support::open_ports::{agrees, candidates, claim, show};

const RULES: &[&str] = &[
    "before.rules",
    "before6.rules",
    "after.rules",
    "after6.rules",
    "user.rules",
    "user6.rules",
];

/// Every fixture folder that holds an `etc/ufw`, and the inline variants.
fn cases(scratch: &Path) -> Vec<(String, PathBuf)> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/rules");
    let mut out: Vec<(String, PathBuf)> = support::cases::rule_cases()
        .into_iter()
        .filter(|case| case.join("etc/ufw").is_dir())
        .map(|case| (support::cases::name(&case), case))
        .collect();
    let base = root.join("passive-ports-blocked/bad-ufw-files-range-short");
    for (name, defaults) in [
        (
            "input policy ACCEPT",
            "IPV6=yes\nDEFAULT_INPUT_POLICY=\"ACCEPT\"\n",
        ),
        (
            "input policy REJECT",
            "IPV6=yes\nDEFAULT_INPUT_POLICY=\"REJECT\"\n",
        ),
        ("IPV6=no", "IPV6=no\nDEFAULT_INPUT_POLICY=\"DROP\"\n"),
    ] {
        let dir = scratch.join(name.replace([' ', '='], "-"));
        copy_tree(&base, &dir);
        std::fs::create_dir_all(dir.join("etc/default")).unwrap();
        let full = format!(
            "{defaults}DEFAULT_OUTPUT_POLICY=\"ACCEPT\"\nDEFAULT_FORWARD_POLICY=\"DROP\"\n"
        );
        std::fs::write(dir.join("etc/default/ufw"), full).unwrap();
        out.push((name.to_owned(), dir));
    }
    let dir = scratch.join("before-rules-drops-40010");
    copy_tree(
        &root.join("passive-ports-blocked/ok-ufw-files-range-open"),
        &dir,
    );
    let package = support::debs::unpacked("ufw").ok();
    if let Some(pkg) = package {
        let shipped =
            std::fs::read_to_string(pkg.join("usr/share/ufw/iptables/before.rules")).unwrap();
        let edited = shipped.replacen(
            "-A ufw-before-input -i lo -j ACCEPT\n",
            "-A ufw-before-input -i lo -j ACCEPT\n-A ufw-before-input -p tcp --dport 40010 -j DROP\n",
            1,
        );
        std::fs::write(dir.join("etc/ufw/before.rules"), edited).unwrap();
        out.push(("before.rules drops 40010".to_owned(), dir));
    }
    out
}

fn copy_tree(from: &Path, to: &Path) {
    for entry in walk(from) {
        let target = to.join(entry.strip_prefix(from).unwrap());
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::copy(&entry, &target).unwrap();
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// A folder that is ufw's rootdir and datadir at once: its scripts, and the
/// fixture's files over the shipped ones.
fn ufw_root(pkg: &Path, case: &Path, into: &Path) -> PathBuf {
    let etc = into.join("etc");
    std::fs::create_dir_all(etc.join("ufw")).unwrap();
    std::fs::create_dir_all(etc.join("default")).unwrap();
    std::fs::create_dir_all(into.join("lib/ufw")).unwrap();
    let profiles = etc.join("ufw/applications.d");
    std::fs::create_dir_all(&profiles).unwrap();
    for profile in std::fs::read_dir(pkg.join("etc/ufw/applications.d"))
        .unwrap()
        .flatten()
    {
        std::fs::copy(profile.path(), profiles.join(profile.file_name())).unwrap();
    }
    for script in ["ufw-init", "ufw-init-functions"] {
        std::fs::copy(
            pkg.join("lib/ufw").join(script),
            into.join("lib/ufw").join(script),
        )
        .unwrap();
    }
    for name in RULES {
        let own = case.join("etc/ufw").join(name);
        let from = if own.is_file() {
            own
        } else {
            pkg.join("usr/share/ufw/iptables").join(name)
        };
        std::fs::copy(from, etc.join("ufw").join(name)).unwrap();
    }
    let conf = case.join("etc/ufw/ufw.conf");
    let conf_text =
        std::fs::read_to_string(&conf).unwrap_or_else(|_| "ENABLED=yes\nLOGLEVEL=low\n".into());
    std::fs::write(etc.join("ufw/ufw.conf"), conf_text).unwrap();
    let defaults = case.join("etc/default/ufw");
    let from = if defaults.is_file() {
        defaults
    } else {
        pkg.join("etc/default/ufw")
    };
    let mut text = std::fs::read_to_string(from).unwrap();
    text.push_str("\nIPT_SYSCTL=\n");
    std::fs::write(etc.join("default/ufw"), text).unwrap();
    into.to_path_buf()
}

/// Probe both families from the client and compare with pasvlint's claim for
/// `case`; a message per disagreement. `said` is what ufw printed.
fn compare(pair: &Pair, label: &str, case: &Path, said: &str) -> Vec<String> {
    let mut failures = Vec::new();
    for (family, ipv6) in [(Family::V4, false), (Family::V6, true)] {
        let opened = match support::connect::connectable(pair, &candidates(), ipv6) {
            Ok(o) => o,
            Err(e) => {
                failures.push(format!("{label} {family:?}: {e}"));
                continue;
            }
        };
        let (all, some) = claim(case, family);
        let fine = agrees(&opened, &all, &some);
        eprintln!(
            "{label} {family:?}: connected to {}; pasvlint: open to the client {}, to some of its class {}",
            show(&opened),
            show(&all),
            show(&some)
        );
        if !fine {
            failures.push(format!(
                "{label} {family:?}: connected to {}, pasvlint says open to the client {} (to some of its class {}); ufw said: {said}",
                show(&opened),
                show(&all),
                show(&some)
            ));
        }
    }
    failures
}

#[test]
fn ufw_loads_exactly_what_pasvlint_says_is_open() {
    if !support::requirements::ready(
        "oracle_ufw",
        &[],
        &["ip", "iptables", "ip6tables", "python3", "apt-get", "dpkg"],
    ) {
        return;
    }
    let pkg = match support::debs::unpacked("ufw") {
        Ok(p) => p,
        Err(e) if !support::requirements::in_ci() => {
            eprintln!("skipping oracle_ufw: {e}");
            return;
        }
        Err(e) => panic!("oracle_ufw: {e}"),
    };
    let scratch = tempfile::tempdir().unwrap();
    let cases = cases(scratch.path());
    assert!(cases.len() >= 8, "fixtures with etc/ufw: {cases:?}");
    let mut failures = Vec::new();
    for (i, (name, case)) in cases.iter().enumerate() {
        let root = ufw_root(&pkg, case, &scratch.path().join(format!("root-{i}")));
        let pair = Pair::create().expect("namespaces");
        pair.add_ipv6().expect("IPv6 addresses");
        let init = output_within(
            pair.server
                .command("sh")
                .arg(root.join("lib/ufw/ufw-init"))
                .arg("--rootdir")
                .arg(&root)
                .arg("--datadir")
                .arg(&root)
                .arg("start"),
            std::time::Duration::from_secs(60),
        )
        .expect("ufw-init ran");
        let said = String::from_utf8_lossy(&init.stdout).trim().to_owned();
        failures.extend(compare(&pair, name, case, &said));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// ufw commands as a provisioning script would run them; the last enables ufw.
const COMMAND_CASES: &[&[&str]] = &[
    &["allow 21/tcp", "allow 40000:40050/tcp"],
    &["default allow incoming", "deny 40010/tcp"],
    &[
        "allow 21/tcp",
        "allow proto tcp from 198.18.0.0/24 to any port 40000:40100",
    ],
    &[
        "allow proto tcp from 203.0.113.0/24 to any port 40000:40100",
        "allow 21/tcp",
    ],
    &[
        "limit 21/tcp",
        "allow 40000:40100/tcp",
        "insert 1 deny 40005/tcp",
    ],
    &["allow 21,40000:40020/tcp"],
    &["default reject incoming", "allow ftp"],
    &[
        "allow 40000:40100/tcp",
        "delete allow 40000:40100/tcp",
        "allow 21",
    ],
    &["allow 21/tcp comment control", "route allow 40000/tcp"],
    &[
        "allow in on eth0 to any port 40000:40010 proto tcp",
        "allow 21/tcp",
    ],
];

#[test]
fn ufw_commands_load_exactly_what_pasvlint_says_is_open() {
    if !support::requirements::ready(
        "oracle_ufw commands",
        &[],
        &["ip", "iptables", "ip6tables", "python3", "apt-get", "dpkg"],
    ) {
        return;
    }
    let pkg = match support::debs::unpacked("ufw") {
        Ok(p) => p,
        Err(e) if !support::requirements::in_ci() => {
            eprintln!("skipping oracle_ufw commands: {e}");
            return;
        }
        Err(e) => panic!("oracle_ufw commands: {e}"),
    };
    let scratch = tempfile::tempdir().unwrap();
    let empty = scratch.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let mut failures = Vec::new();
    for (i, commands) in COMMAND_CASES.iter().enumerate() {
        let root = ufw_root(&pkg, &empty, &scratch.path().join(format!("root-{i}")));
        std::fs::write(root.join("etc/ufw/ufw.conf"), "ENABLED=no\nLOGLEVEL=low\n").unwrap();
        let script_dir = scratch.path().join(format!("script-{i}"));
        std::fs::create_dir_all(&script_dir).unwrap();
        let mut script = String::from("#!/bin/sh\n");
        for c in commands.iter().chain(&["--force enable"]) {
            script.push_str(&format!("ufw {c}\n"));
        }
        std::fs::write(script_dir.join("firewall.sh"), &script).unwrap();
        let pair = Pair::create().expect("namespaces");
        pair.add_ipv6().expect("IPv6 addresses");
        let mut said = String::new();
        for c in commands.iter().chain(&["--force enable"]) {
            let out = output_within(
                pair.server
                    .command("python3")
                    .env("PYTHONPATH", pkg.join("usr/lib/python3/dist-packages"))
                    .arg(pkg.join("usr/sbin/ufw"))
                    .arg(format!("--rootdir={}", root.display()))
                    .arg(format!("--datadir={}", root.display()))
                    .args(c.split_whitespace()),
                std::time::Duration::from_secs(60),
            )
            .expect("ufw ran");
            said.push_str(&String::from_utf8_lossy(&out.stdout));
            said.push_str(&String::from_utf8_lossy(&out.stderr));
            assert!(out.status.success(), "ufw {c} failed: {said}");
        }
        failures.extend(compare(&pair, &format!("{commands:?}"), &script_dir, &said));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
