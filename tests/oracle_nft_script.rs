//! The real bash and nft (nftables 1.0.6) judge every shell-script fixture
//! that builds its firewall with `nft` commands (`fixtures/rules/*/*/nftables.sh`,
//! scripts that call nothing but nft): each script runs itself inside a fresh
//! server namespace, then a client namespace connects over IPv4 and IPv6 to
//! the candidate ports, and the ports it reaches must be the ones pasvlint
//! says are open to it; the nft commands that print `Error:` must be as many
//! as the `nftables-syntax-error` findings pasvlint reports for the script.

mod support {
    #[allow(dead_code)]
    pub mod cases;
    pub mod connect;
    #[allow(dead_code)]
    pub mod netns;
    pub mod open_ports;
    pub mod requirements;
}

use pasvlint::facts::Family;
use pasvlint::policy::Config;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;
use support::netns::{Pair, output_within};
use support::open_ports::{candidates, claim, show};

const SCRIPT: &str = "nftables.sh";

/// Each fixture script with its case folder.
fn cases() -> Vec<(PathBuf, PathBuf)> {
    support::cases::rule_cases()
        .into_iter()
        .map(|case| (case.join(SCRIPT), case))
        .filter(|(script, _)| script.is_file())
        .collect()
}

/// The script run by the real bash in the server namespace: its stderr.
fn run_script(pair: &Pair, script: &Path) -> String {
    let out = output_within(
        pair.server.command("bash").arg(script),
        Duration::from_secs(60),
    )
    .expect("bash ran");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn syntax_errors(case: &Path) -> usize {
    let report = pasvlint::lint(&[case.to_path_buf()], &Config::default());
    report
        .diagnostics
        .iter()
        .filter(|d| d.rule == "nftables-syntax-error")
        .count()
}

/// What the client reached against what pasvlint claims, or why they differ.
fn compare(case: &Path, family: Family, opened: &BTreeSet<u16>) -> Result<(), String> {
    let (all, some) = claim(case, family);
    let agrees = support::open_ports::agrees(opened, &all, &some);
    let said = format!(
        "{} {family:?}: connected to {}; pasvlint: open {}, to some {}",
        case.display(),
        show(opened),
        show(&all),
        show(&some)
    );
    eprintln!("{said}");
    if agrees { Ok(()) } else { Err(said) }
}

#[test]
fn scripts_run_by_bash_open_exactly_what_pasvlint_says() {
    if !support::requirements::ready("oracle_nft_script", &[], &["ip", "nft", "bash", "python3"]) {
        return;
    }
    let all = cases();
    assert!(all.len() >= 4, "fixture scripts: {all:?}");
    let mut failures = Vec::new();
    for (script, case) in all {
        let pair = Pair::create().expect("namespaces");
        pair.add_ipv6().expect("IPv6 addresses");
        let stderr = run_script(&pair, &script);
        let rejected = stderr.lines().filter(|l| l.starts_with("Error:")).count();
        let reported = syntax_errors(&case);
        eprintln!(
            "{}: nft rejected {rejected} command(s); pasvlint reports {reported}",
            script.display()
        );
        if rejected != reported {
            failures.push(format!(
                "{}: nft printed {rejected} error(s) ({}), pasvlint reports {reported}",
                script.display(),
                stderr.trim()
            ));
        }
        for (family, ipv6) in [(Family::V4, false), (Family::V6, true)] {
            match support::connect::connectable(&pair, &candidates(), ipv6) {
                Ok(opened) => failures.extend(compare(&case, family, &opened).err()),
                Err(e) => failures.push(format!("{} {family:?}: {e}", case.display())),
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
