//! An nftables ruleset split over `include`d files is one firewall: the
//! included tables merge into the includer's, as `nft -f` merges them, and the
//! included files join the includer's host.

mod support;

use std::path::Path;
use support::lint_path;

const MAIN: &str = "flush ruleset
table inet filter {
    chain input {
        type filter hook input priority 0; policy drop;
        ct state established,related accept
        iif lo accept
        icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } accept
        tcp dport 22 accept
    }
}
include \"/etc/nftables.d/*.nft\"
";

fn host(root: &Path, ftp_rule: &str) {
    let etc = root.join("h/etc");
    std::fs::create_dir_all(etc.join("nftables.d")).unwrap();
    std::fs::write(etc.join("nftables.conf"), MAIN).unwrap();
    std::fs::write(
        etc.join("nftables.d/ftp.nft"),
        format!("table inet filter {{\n    chain input {{\n        {ftp_rule}\n    }}\n}}\n"),
    )
    .unwrap();
    std::fs::write(
        etc.join("vsftpd.conf"),
        "listen=YES\nanonymous_enable=YES\npasv_min_port=40000\npasv_max_port=40100\nmax_clients=50\n",
    )
    .unwrap();
}

#[test]
fn included_rules_open_the_includers_chain() {
    let dir = tempfile::tempdir().unwrap();
    host(dir.path(), "tcp dport { 21, 40000-40100 } accept");
    let report = lint_path(dir.path());
    assert_eq!(report.hosts.len(), 1, "{:#?}", report.hosts);
    let fw = report.hosts[0].firewall.as_ref().expect("a firewall");
    assert_eq!(fw.open_to_all.to_string(), "21-22,40000-40100");
    assert!(report.diagnostics.is_empty(), "{:#?}", report.diagnostics);
}

#[test]
fn a_short_range_in_an_included_file_is_reported_there() {
    let dir = tempfile::tempdir().unwrap();
    host(dir.path(), "tcp dport { 21, 40000-40050 } accept");
    let report = lint_path(dir.path());
    let blocked: Vec<_> = report
        .diagnostics
        .iter()
        .filter(|d| d.rule == "passive-ports-blocked")
        .collect();
    assert_eq!(blocked.len(), 1, "{:#?}", report.diagnostics);
    assert!(
        blocked[0].message.contains("40051-40100"),
        "{}",
        blocked[0].message
    );
    let fw = report.hosts[0].firewall.as_ref().expect("a firewall");
    assert_eq!(fw.open_to_all.to_string(), "21-22,40000-40050");
}

/// nft reads an include in place: definitions made before it reach the
/// included file, and those the included file makes reach the includer after it.
#[test]
fn definitions_cross_includes_in_both_directions() {
    let dir = tempfile::tempdir().unwrap();
    let etc = dir.path().join("h/etc");
    std::fs::create_dir_all(etc.join("nftables.d")).unwrap();
    std::fs::write(
        etc.join("nftables.conf"),
        "include \"/etc/nftables.d/defs.nft\"\n\
         define PASSIVE = 40000-40100\n\
         table inet filter {\n    chain input {\n        type filter hook input priority 0; policy drop;\n        tcp dport $SSH accept\n    }\n}\n\
         include \"/etc/nftables.d/ftp.nft\"\n",
    )
    .unwrap();
    std::fs::write(etc.join("nftables.d/defs.nft"), "define SSH = 22\n").unwrap();
    std::fs::write(
        etc.join("nftables.d/ftp.nft"),
        "table inet filter {\n    chain input {\n        tcp dport { 21, $PASSIVE } accept\n    }\n}\n",
    )
    .unwrap();
    let report = lint_path(dir.path());
    let syntax: Vec<_> = report
        .diagnostics
        .iter()
        .filter(|d| d.rule == "nftables-syntax-error")
        .collect();
    assert!(syntax.is_empty(), "{syntax:#?}");
    let fw = report.hosts[0].firewall.as_ref().expect("a firewall");
    assert_eq!(fw.open_to_all.to_string(), "21-22,40000-40100");
}

/// A definition made after the include is unknown in the included file, as
/// `nft -c -f` says: "unknown identifier 'PASSIVE'".
#[test]
fn a_definition_after_the_include_is_unknown_in_it() {
    let dir = tempfile::tempdir().unwrap();
    let etc = dir.path().join("h/etc");
    std::fs::create_dir_all(etc.join("nftables.d")).unwrap();
    std::fs::write(
        etc.join("nftables.conf"),
        "table inet filter {\n    chain input {\n        type filter hook input priority 0; policy drop;\n    }\n}\n\
         include \"/etc/nftables.d/ftp.nft\"\n\
         define PASSIVE = 40000-40100\n",
    )
    .unwrap();
    std::fs::write(
        etc.join("nftables.d/ftp.nft"),
        "table inet filter {\n    chain input {\n        tcp dport { 21, $PASSIVE } accept\n    }\n}\n",
    )
    .unwrap();
    let report = lint_path(dir.path());
    let unknown: Vec<_> = report
        .diagnostics
        .iter()
        .filter(|d| d.rule == "nftables-syntax-error" && d.message.contains("'PASSIVE'"))
        .collect();
    assert_eq!(unknown.len(), 1, "{:#?}", report.diagnostics);
    let file = report.sources.get(unknown[0].primary.span.file).unwrap();
    assert!(
        file.path.ends_with("nftables.d/ftp.nft"),
        "{}",
        file.path.display()
    );
}
