//! Real ansible-core (2.19, `pip install ansible-core`) against every Ansible
//! fixture:
//!
//! - `ansible-playbook --syntax-check` loads each playbook (a role without one
//!   is wrapped in `- hosts: all / roles: [ROLE]`); it refuses exactly the cases
//!   where pasvlint reports `ansible-syntax-error`. The collections' modules
//!   (`community.general.ufw`, `ansible.posix.firewalld`, …) are stubs that only
//!   let their names resolve.
//! - The plays whose firewall is the `iptables` module run for real with
//!   `ansible-playbook -c pasvlint_local` inside a private network namespace:
//!   a connection plugin that runs the iptables module and answers every other
//!   module (`template`, `copy`, `apt`, …) with "ok, nothing changed", so nothing
//!   outside the namespace is touched. Ansible itself resolves the variables,
//!   loops, roles and includes; a client namespace then connects to every
//!   candidate port, and the ports that connect must be those pasvlint says are
//!   open to every client.

mod support {
    pub mod cases;
    pub mod connect;
    #[allow(dead_code)]
    pub mod netns;
    #[allow(dead_code)]
    pub mod open_ports;
    pub mod requirements;
}

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;
use support::netns::{Pair, output_within};

const CONNECTION: &str = r#"# Local connection where only the iptables module runs; every other module
# reports "ok, nothing changed" without touching the machine.
from __future__ import annotations

import json

from ansible.plugins.connection.local import Connection as Local

DOCUMENTATION = """
name: pasvlint_local
short_description: run only the iptables module locally
description:
  - Like the local connection, but a module other than iptables is not run.
author: pasvlint tests
"""


class Connection(Local):
    transport = "pasvlint_local"

    def exec_command(self, cmd, in_data=None, sudoable=True):
        if "AnsiballZ_" in cmd and "AnsiballZ_iptables.py" not in cmd:
            name = cmd.split("AnsiballZ_", 1)[1].split(".py", 1)[0]
            result = {"changed": False}
            if name == "stat":
                result["stat"] = {"exists": False}
            return 0, json.dumps(result).encode(), b""
        return super().exec_command(cmd, in_data, sudoable)
"#;

/// Modules of collections ansible-core does not ship, as stubs.
const STUBS: &[&str] = &[
    "community/general/plugins/modules/ufw",
    "community/general/plugins/modules/ini_file",
    "ansible/posix/plugins/modules/firewalld",
    "openstack/cloud/plugins/modules/security_group_rule",
];

/// The ports probed: the fixtures' control ports and passive ranges.
fn candidates() -> BTreeSet<u16> {
    (1..=1300)
        .chain(30000..=30110)
        .chain(40000..=40110)
        .chain(50000..=50110)
        .collect()
}

/// Every rule case that holds Ansible files.
fn cases() -> Vec<PathBuf> {
    support::cases::rule_cases()
        .into_iter()
        .filter(|case| {
            let name = support::cases::name(case);
            name.starts_with("ansible-")
                || name.contains("/bad-ansible")
                || name.contains("/ok-ansible")
        })
        .collect()
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.is_file() && matches!(p.extension().and_then(|e| e.to_str()), Some("yml" | "yaml"))
        })
        .collect();
    out.sort();
    out
}

fn all_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(all_files(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// The case's playbooks (its top-level YAML files that hold plays), or, for a
/// case that is roles only, a playbook per role written into the copy.
fn playbooks(copy: &Path) -> Vec<PathBuf> {
    let own: Vec<PathBuf> = yaml_files(copy)
        .into_iter()
        .filter(|p| {
            let text = std::fs::read_to_string(p).unwrap_or_default();
            text.contains("hosts:") || text.contains("import_playbook") || text.contains("tasks:")
        })
        .collect();
    if !own.is_empty() {
        return own;
    }
    let mut out = Vec::new();
    let mut roles: Vec<PathBuf> = std::fs::read_dir(copy.join("roles"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    roles.sort();
    for role in roles {
        let name = role.file_name().unwrap().to_string_lossy().into_owned();
        let path = copy.join(format!("pasvlint-oracle-{name}.yml"));
        std::fs::write(&path, format!("- hosts: all\n  roles:\n    - {name}\n")).unwrap();
        out.push(path);
    }
    out
}

/// An inventory that puts localhost in every group the playbooks name, where
/// the case keeps its inventory (so its `group_vars/` apply).
fn inventory(copy: &Path, playbooks: &[PathBuf]) -> PathBuf {
    let mut groups: BTreeSet<String> = BTreeSet::new();
    for pb in playbooks {
        for line in std::fs::read_to_string(pb).unwrap_or_default().lines() {
            let t = line.trim_start().trim_start_matches("- ");
            if let Some(hosts) = t.strip_prefix("hosts:") {
                for g in hosts.split([':', ',']) {
                    let g = g.trim().trim_matches(['"', '\'']);
                    if !g.is_empty()
                        && g != "all"
                        && g.chars()
                            .all(|c| c.is_alphanumeric() || c == '_' || c == '-')
                    {
                        groups.insert(g.to_owned());
                    }
                }
            }
        }
    }
    let mut text = String::from("localhost\n");
    for g in &groups {
        text.push_str(&format!("[{g}]\nlocalhost\n"));
    }
    let dir = if copy.join("inventory").is_dir() {
        copy.join("inventory")
    } else {
        copy.to_path_buf()
    };
    let path = dir.join("pasvlint-oracle-hosts.ini");
    std::fs::write(&path, text).unwrap();
    path
}

struct Setup {
    scratch: tempfile::TempDir,
}

impl Setup {
    fn new() -> Setup {
        let scratch = tempfile::tempdir().unwrap();
        let plugins = scratch.path().join("connection_plugins");
        std::fs::create_dir_all(&plugins).unwrap();
        std::fs::write(plugins.join("pasvlint_local.py"), CONNECTION).unwrap();
        for stub in STUBS {
            let path = scratch
                .path()
                .join("collections/ansible_collections")
                .join(format!("{stub}.py"));
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            let name = Path::new(stub)
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned();
            std::fs::write(
                path,
                format!("DOCUMENTATION = \"module: {name}\\nshort_description: stub\\n\"\n"),
            )
            .unwrap();
        }
        for dir in ["local", "remote", "home"] {
            std::fs::create_dir_all(scratch.path().join(dir)).unwrap();
        }
        Setup { scratch }
    }

    fn ansible(&self, command: &mut Command) {
        let s = self.scratch.path();
        command
            .env("ANSIBLE_CONNECTION_PLUGINS", s.join("connection_plugins"))
            .env("ANSIBLE_COLLECTIONS_PATH", s.join("collections"))
            .env("ANSIBLE_LOCAL_TEMP", s.join("local"))
            .env("ANSIBLE_REMOTE_TMP", s.join("remote"))
            .env("ANSIBLE_GATHERING", "explicit")
            .env("ANSIBLE_NOCOLOR", "1")
            .env("ANSIBLE_RETRY_FILES_ENABLED", "false")
            .env("HOME", s.join("home"));
    }

    fn copy(&self, case: &Path) -> PathBuf {
        let copy = self
            .scratch
            .path()
            .join("cases")
            .join(support::cases::name(case));
        copy_tree(case, &copy);
        copy
    }
}

#[test]
fn ansible_playbook_syntax_check_agrees_with_ansible_syntax_error() {
    if !support::requirements::ready(
        "oracle_ansible",
        &[],
        &["ansible-playbook", "python3", "ip"],
    ) {
        return;
    }
    let setup = Setup::new();
    let cases = cases();
    assert!(cases.len() >= 10, "Ansible fixtures: {cases:?}");
    let mut failures = Vec::new();
    for case in &cases {
        let name = support::cases::name(case);
        let copy = setup.copy(case);
        let books = playbooks(&copy);
        assert!(!books.is_empty(), "{name}: no playbook and no role");
        let inv = inventory(&copy, &books);
        let mut refused = Vec::new();
        for pb in &books {
            let mut command = Command::new("ansible-playbook");
            command
                .arg("-i")
                .arg(&inv)
                .arg("--syntax-check")
                .arg(pb)
                .current_dir(&copy);
            setup.ansible(&mut command);
            let out = output_within(&mut command, Duration::from_secs(120))
                .expect("ansible-playbook ran");
            if !out.status.success() {
                let said = String::from_utf8_lossy(&out.stderr);
                let first = said
                    .lines()
                    .find(|l| l.contains("ERROR"))
                    .unwrap_or("")
                    .to_owned();
                refused.push(format!(
                    "{}: {first}",
                    pb.file_name().unwrap().to_string_lossy()
                ));
            }
        }
        let report = pasvlint::lint(
            std::slice::from_ref(case),
            &pasvlint::policy::Config::default(),
        );
        let flagged: Vec<String> = report
            .diagnostics
            .iter()
            .filter(|d| d.rule == "ansible-syntax-error")
            .map(|d| d.message.clone())
            .collect();
        eprintln!("{name}: ansible-playbook refused {refused:?}; pasvlint: {flagged:?}");
        if refused.is_empty() != flagged.is_empty() {
            failures.push(format!(
                "{name}: ansible-playbook refused {refused:?}, pasvlint reported {flagged:?}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Whether the case's firewall is the iptables module alone (on the host).
fn iptables_only(case: &Path) -> bool {
    let texts: Vec<String> = all_files(case)
        .iter()
        .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("yml" | "yaml")))
        .map(|p| std::fs::read_to_string(p).unwrap_or_default())
        .collect();
    let uses = |module: &str| {
        texts.iter().any(|t| {
            t.lines().any(|l| {
                let k = l.trim_start().trim_start_matches("- ");
                k.starts_with(&format!("{module}:"))
                    || k.starts_with(&format!("{module} "))
                    || k.contains(&format!(".{module}:"))
                    || k.starts_with(&format!("action: {module}"))
                    || k.starts_with(&format!("action: ansible.builtin.{module}"))
            })
        })
    };
    // A security group is a filter in the cloud, not in the namespace.
    uses("iptables") && !uses("ufw") && !uses("firewalld") && !uses("security_group_rule")
}

#[test]
fn iptables_tasks_load_what_pasvlint_says_is_open() {
    if !support::requirements::ready(
        "oracle_ansible",
        &[],
        &["ansible-playbook", "python3", "ip", "iptables", "ip6tables"],
    ) {
        return;
    }
    let setup = Setup::new();
    let python = String::from_utf8(
        Command::new("sh")
            .args(["-c", "command -v python3"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap()
    .trim()
    .to_owned();
    let cases: Vec<PathBuf> = cases().into_iter().filter(|c| iptables_only(c)).collect();
    assert!(
        cases.len() >= 4,
        "Ansible fixtures with iptables tasks: {cases:?}"
    );
    let mut failures = Vec::new();
    for case in &cases {
        let copy = setup.copy(case);
        let books = playbooks(&copy);
        let inv = inventory(&copy, &books);
        let pair = Pair::create().expect("namespaces");
        pair.add_ipv6().expect("IPv6 addresses");
        let mut said = String::new();
        for pb in &books {
            let mut command = pair.server.command("ansible-playbook");
            command
                .arg("-i")
                .arg(&inv)
                .args(["-c", "pasvlint_local", "-e", "ansible_become=false"])
                .arg("-e")
                .arg(format!("ansible_python_interpreter={python}"))
                .arg(pb)
                .current_dir(&copy);
            setup.ansible(&mut command);
            let out = output_within(&mut command, Duration::from_secs(180))
                .expect("ansible-playbook ran");
            let text = String::from_utf8_lossy(&out.stdout);
            said.push_str(
                text.lines()
                    .filter(|l| l.contains("failed=") || l.contains("fatal:"))
                    .collect::<Vec<_>>()
                    .join("; ")
                    .as_str(),
            );
        }
        support::open_ports::compare_both_families(
            &pair,
            case,
            &candidates(),
            ("ansible", &said),
            &mut failures,
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
