//! The Puppet reader against the real Puppet 7 and puppetlabs-firewall 3.4.0
//! (Debian's `puppet` and `puppet-module-puppetlabs-firewall`):
//!
//! - `puppet parser validate` refuses exactly the fixture manifests pasvlint
//!   reports `puppet-syntax-error` on;
//! - every rule fixture whose manifests declare `firewall` resources is applied
//!   for real (`puppet apply --tags firewall,firewallchain`, so nothing but the
//!   module's resources touches the machine) inside a network namespace, where a
//!   client then connects to exactly the ports pasvlint says are open.
//!
//! Skipped with a printed reason without puppet (and, for the second, root and
//! namespaces); a failure in CI.

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

const FIREWALL_MODULE: &str = "/usr/share/puppet/modules.available/puppetlabs-firewall";
const STDLIB_MODULE: &str = "/usr/share/puppet/modules/stdlib";

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

fn manifests(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(manifests(&p));
        } else if p.extension().is_some_and(|x| x == "pp") {
            out.push(p);
        }
    }
    out.sort();
    out
}

fn puppet_missing() -> Option<String> {
    let ok = Command::new("puppet")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    (!ok).then(|| "puppet is not installed (Debian's `puppet` package)".to_owned())
}

/// A scratch configuration, so the runs read nothing of the machine's.
fn isolate(command: &mut Command, scratch: &Path) {
    command
        .arg("--confdir")
        .arg(scratch.join("conf"))
        .arg("--vardir")
        .arg(scratch.join("var"))
        .arg("--codedir")
        .arg(scratch.join("code"))
        .arg("--logdir")
        .arg(scratch.join("log"))
        .arg("--rundir")
        .arg(scratch.join("run"))
        .env("HOME", scratch)
        .arg("--color=false");
}

#[test]
fn puppet_parser_validate_agrees_with_puppet_syntax_error() {
    if !support::requirements::ready_unless("oracle_puppet", puppet_missing()) {
        return;
    }
    let scratch = tempfile::tempdir().unwrap();
    let all = manifests(&fixtures());
    assert!(all.len() >= 8, "Puppet fixtures: {all:?}");
    let mut failures = Vec::new();
    for pp in &all {
        let mut command = Command::new("puppet");
        command.args(["parser", "validate"]);
        isolate(&mut command, scratch.path());
        command.arg(pp);
        let out = output_within(&mut command, Duration::from_secs(120)).expect("puppet ran");
        let said = String::from_utf8_lossy(&out.stderr).into_owned();
        let refused = !out.status.success();
        let report = pasvlint::lint(
            std::slice::from_ref(pp),
            &pasvlint::policy::Config::default(),
        );
        let flagged: Vec<_> = report
            .diagnostics
            .iter()
            .filter(|d| d.rule == "puppet-syntax-error")
            .collect();
        eprintln!(
            "{}: puppet {}, pasvlint {}",
            pp.display(),
            if refused { "refuses" } else { "accepts" },
            if flagged.is_empty() {
                "accepts"
            } else {
                "refuses"
            }
        );
        if refused == flagged.is_empty() {
            failures.push(format!(
                "{}: puppet parser validate {} ({}), pasvlint reports {} puppet-syntax-error",
                pp.display(),
                if refused { "refuses it" } else { "accepts it" },
                said.trim(),
                flagged.len()
            ));
        }
        // Where both refuse, on the same line as Puppet's `line: N`.
        if let (true, Some(d)) = (refused, flagged.first()) {
            let line = said
                .split("line: ")
                .nth(1)
                .and_then(|r| r.split(|c: char| !c.is_ascii_digit()).next())
                .and_then(|n| n.parse::<usize>().ok());
            if let Some(line) = line {
                let span = d.primary.span;
                let ours = report
                    .sources
                    .get(span.file)
                    .map_or(0, |f| f.line_col(span.start).0);
                if ours != line {
                    failures.push(format!(
                        "{}: puppet stops on line {line}, pasvlint on line {ours}",
                        pp.display()
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Rule fixtures whose manifests declare firewall resources and parse.
fn firewall_cases() -> Vec<PathBuf> {
    support::cases::rule_cases()
        .into_iter()
        .filter(|case| {
            let pps = manifests(case);
            !pps.is_empty()
                && pps
                    .iter()
                    .any(|p| std::fs::read_to_string(p).is_ok_and(|t| t.contains("firewall {")))
                && !case.to_string_lossy().contains("puppet-syntax-error")
                && claims_to_know(case)
        })
        .collect()
}

/// Whether pasvlint claims to know the case's firewall: a value it reports as
/// unresolved (a Hiera `lookup()`, a fact) is decided by data the repository does
/// not hold, so `puppet apply` here (which fails the lookup) shows nothing
/// pasvlint claims.
fn claims_to_know(case: &Path) -> bool {
    let report = pasvlint::lint(&[case.to_path_buf()], &pasvlint::policy::Config::default());
    let unknown = report
        .diagnostics
        .iter()
        .any(|d| d.rule == "puppet-value-unresolved");
    if unknown {
        eprintln!(
            "{}: not applied: pasvlint reports a value it cannot resolve (puppet-value-unresolved)",
            support::cases::name(case)
        );
    }
    !unknown
}

/// The module folders of a case (`…/NAME/manifests/`), named as Puppet looks
/// them up, linked into one module path with the firewall module and stdlib.
fn module_path(case: &Path, into: &Path) -> PathBuf {
    let dir = into.join("modules");
    std::fs::create_dir_all(&dir).unwrap();
    for pp in manifests(case) {
        let Some(manifests) = pp
            .ancestors()
            .find(|a| a.file_name().is_some_and(|n| n == "manifests"))
        else {
            continue;
        };
        let module = manifests.parent().unwrap();
        if module == case {
            continue;
        }
        let name = module.file_name().unwrap().to_string_lossy();
        let name = name.strip_prefix("puppet-").unwrap_or(&name).to_owned();
        let link = dir.join(&name);
        if !link.exists() {
            std::os::unix::fs::symlink(module, &link).unwrap();
        }
    }
    std::os::unix::fs::symlink(FIREWALL_MODULE, dir.join("firewall")).unwrap();
    std::os::unix::fs::symlink(STDLIB_MODULE, dir.join("stdlib")).unwrap();
    dir
}

/// A case holding a `hiera.yaml` is the environment `production` (its Hiera
/// layer), as a control repository deployed on the server is.
fn environment(case: &Path, scratch: &Path) {
    if case.join("hiera.yaml").is_file() {
        let dir = scratch.join("code/environments");
        std::fs::create_dir_all(&dir).unwrap();
        std::os::unix::fs::symlink(case, dir.join("production")).unwrap();
    }
}

/// What to apply: `manifests/site.pp`, else every class the case defines
/// (as pasvlint reads a module nothing includes).
fn entry(case: &Path) -> Vec<String> {
    let site = case.join("manifests/site.pp");
    if site.is_file() {
        // pasvlint reads every node definition as the host: apply as the first named one.
        let text = std::fs::read_to_string(&site).unwrap_or_default();
        let node = text
            .lines()
            .find_map(|l| l.strip_prefix("node '"))
            .and_then(|r| r.split('\'').next());
        let mut args = Vec::new();
        if let Some(n) = node {
            args.extend(["--certname".to_owned(), n.to_owned()]);
        }
        args.push(site.to_string_lossy().into_owned());
        return args;
    }
    let mut classes = BTreeSet::new();
    for pp in manifests(case) {
        for line in std::fs::read_to_string(pp).unwrap_or_default().lines() {
            if let Some(rest) = line.strip_prefix("class ") {
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == ':')
                    .collect();
                if !name.is_empty() {
                    classes.insert(name);
                }
            }
        }
    }
    let includes: Vec<String> = classes.iter().map(|c| format!("include {c}")).collect();
    vec!["-e".into(), includes.join("\n")]
}

#[test]
fn firewall_resources_load_what_pasvlint_says_is_open() {
    if !support::requirements::ready_unless("oracle_puppet", puppet_missing())
        || !support::requirements::ready(
            "oracle_puppet",
            &[&format!("{FIREWALL_MODULE}/lib/puppet/type/firewall.rb")],
            &["ip", "iptables", "ip6tables"],
        )
    {
        return;
    }
    let cases = firewall_cases();
    assert!(
        cases.len() >= 3,
        "Puppet fixtures with firewall resources: {cases:?}"
    );
    let mut failures = Vec::new();
    for case in &cases {
        let scratch = tempfile::tempdir().unwrap();
        let modules = module_path(case, scratch.path());
        environment(case, scratch.path());
        let pair = Pair::create().expect("namespaces");
        pair.add_ipv6().expect("IPv6 addresses");
        let mut command = pair.server.command("puppet");
        command.arg("apply");
        isolate(&mut command, scratch.path());
        command
            .args(["--tags", "firewall,firewallchain", "--modulepath"])
            .arg(&modules)
            .args(entry(case))
            .current_dir(case);
        let out = output_within(&mut command, Duration::from_secs(300)).expect("puppet apply ran");
        let said: String = String::from_utf8_lossy(&out.stderr)
            .lines()
            .chain(String::from_utf8_lossy(&out.stdout).lines())
            .filter(|l| l.contains("Error") && !l.contains("Facter"))
            .collect::<Vec<_>>()
            .join("; ");
        support::open_ports::compare_both_families(
            &pair,
            case,
            &support::open_ports::candidates(),
            ("puppet", &said),
            &mut failures,
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
