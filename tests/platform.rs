//! The host's platform decides what a config means: the same vsftpd.conf and
//! iptables rules on CentOS 7, on Debian 12, and on a RHEL-family host whose
//! release the files do not tell (fixtures/platform/).

mod support;

use pasvlint::diag::{Diagnostic, Severity};
use pasvlint::policy::Config;
use pasvlint::{Report, lint};
use std::path::{Path, PathBuf};
use support::lint_path;

fn findings<'a>(report: &'a Report, host: &str, rule: &str) -> Vec<&'a Diagnostic> {
    report
        .diagnostics
        .iter()
        .filter(|d| d.rule == rule && d.host.as_deref() == Some(host))
        .collect()
}

fn severities(report: &Report, host: &str, rule: &str) -> Vec<Severity> {
    findings(report, host, rule)
        .iter()
        .map(|d| d.severity)
        .collect()
}

fn platform_of(report: &Report, host: &str) -> Option<String> {
    report
        .hosts
        .iter()
        .find(|h| h.name == host)
        .unwrap_or_else(|| panic!("no host {host}"))
        .platform
        .id()
}

#[test]
fn centos7_accepts_the_fork_directive_and_assigns_the_helper_itself() {
    let report = lint_path(Path::new("fixtures/platform"));
    let host = "fixtures/platform/centos7";
    assert_eq!(platform_of(&report, host).as_deref(), Some("rhel-7"));
    assert!(findings(&report, host, "vsftpd-unknown-directive").is_empty());
    assert!(findings(&report, host, "ftp-helper-not-assigned").is_empty());
    assert!(findings(&report, host, "passive-ports-blocked").is_empty());
}

#[test]
fn debian12_refuses_the_directive_and_blocks_the_range() {
    let report = lint_path(Path::new("fixtures/platform"));
    let host = "fixtures/platform/debian12";
    assert_eq!(platform_of(&report, host).as_deref(), Some("debian-12"));
    assert_eq!(
        severities(&report, host, "vsftpd-unknown-directive"),
        [Severity::Error]
    );
    assert_eq!(
        severities(&report, host, "passive-ports-blocked"),
        [Severity::Error]
    );
    let blocked = &findings(&report, host, "passive-ports-blocked")[0];
    assert!(
        blocked.message.contains("40000-40100"),
        "{}",
        blocked.message
    );
    assert!(!blocked.message.contains("kernels"), "{}", blocked.message);
}

#[test]
fn an_unknown_release_says_which_kernels_disagree() {
    let report = lint_path(Path::new("fixtures/platform"));
    let host = "fixtures/platform/rhel-family";
    assert_eq!(platform_of(&report, host), None);
    // Both possible families (RHEL, Fedora) build vsftpd from the fork.
    assert!(findings(&report, host, "vsftpd-unknown-directive").is_empty());
    let blocked = findings(&report, host, "passive-ports-blocked");
    assert_eq!(blocked.len(), 1);
    assert_eq!(blocked[0].severity, Severity::Warning);
    assert!(
        blocked[0].message.contains("Linux 4.7"),
        "{}",
        blocked[0].message
    );
    let module = blocked[0]
        .related
        .iter()
        .find(|l| l.message == "loads nf_conntrack_ftp")
        .expect("points at IPTABLES_MODULES");
    let file = report.sources.get(module.span.file).unwrap();
    assert!(file.slice(module.span).starts_with("IPTABLES_MODULES="));
}

#[test]
fn pasvlint_toml_overrides_what_the_files_say() {
    let root = Path::new("fixtures/platform");
    let config = Config::parse(
        "[policy]\nplatform = \"debian-12\"\n\n[[hosts]]\nname = \"old\"\nfiles = [\"rhel-family/**\"]\nplatform = \"centos-7\"\n",
        &std::fs::canonicalize(root).unwrap().join("pasvlint.toml"),
    )
    .unwrap();
    let report = lint(&[PathBuf::from(root)], &config);
    assert_eq!(platform_of(&report, "old").as_deref(), Some("rhel-7"));
    assert!(findings(&report, "old", "passive-ports-blocked").is_empty());
    // [policy] wins over the CentOS 7 release file.
    let centos = "fixtures/platform/centos7";
    assert_eq!(platform_of(&report, centos).as_deref(), Some("debian-12"));
    assert_eq!(
        severities(&report, centos, "vsftpd-unknown-directive"),
        [Severity::Error]
    );
}

#[test]
fn an_unknown_platform_name_is_refused_with_the_names_it_takes() {
    let err = Config::parse(
        "[policy]\nplatform = \"windows-2019\"\n",
        Path::new("pasvlint.toml"),
    )
    .unwrap_err();
    assert!(
        err.contains("windows-2019") && err.contains("debian-12"),
        "{err}"
    );
}
