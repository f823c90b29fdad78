//! A fleet in one repository: one folder per host, each FTP server product
//! behind a different firewall (vsftpd + nftables, ProFTPD + firewalld,
//! Pure-FTPd + ufw, FileZilla Server + Windows Firewall, vsftpd + iptables).
//! Every host but `vsftpd-iptables-ok` opens only part of its passive range;
//! each mismatch is reported once, on the server's range setting, with the
//! blocked ports in numbers and a related span in the host's firewall file.

mod support;

use std::path::Path;
use support::lint_path;

/// Host folder, the server file, the firewall file, the blocked ports.
const MISMATCHES: &[(&str, &str, &str, &str)] = &[
    (
        "vsftpd-nftables",
        "etc/vsftpd.conf",
        "etc/nftables.conf",
        "40051-40100",
    ),
    (
        "proftpd-firewalld",
        "etc/proftpd/conf.d/passive.conf",
        "etc/firewalld/zones/public.xml",
        "50050-50100",
    ),
    (
        "pureftpd-ufw",
        "etc/pure-ftpd/conf/PassivePortRange",
        "etc/ufw/user.rules",
        "30050-30099",
    ),
    (
        "filezilla-netsh",
        "FileZilla Server.xml",
        "firewall.cmd",
        "49171-49200",
    ),
];

#[test]
fn every_host_mismatch_is_reported_with_spans_in_both_files() {
    let root = Path::new("fixtures/fleet");
    let report = lint_path(root);
    let path_of = |span: pasvlint::source::Span| {
        report
            .sources
            .get(span.file)
            .map(|f| f.path.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    let blocked: Vec<_> = report
        .diagnostics
        .iter()
        .filter(|d| d.rule == "passive-ports-blocked")
        .collect();
    for (host, server, firewall, ports) in MISMATCHES {
        let server = root.join(host).join(server).to_string_lossy().into_owned();
        let firewall = root
            .join(host)
            .join(firewall)
            .to_string_lossy()
            .into_owned();
        let found = blocked
            .iter()
            .find(|d| path_of(d.primary.span) == server)
            .unwrap_or_else(|| {
                panic!("{host}: no passive-ports-blocked on {server}: {blocked:#?}")
            });
        assert!(
            found.message.contains(ports),
            "{host}: {:?} does not name {ports}",
            found.message
        );
        assert!(
            found.related.iter().any(|l| path_of(l.span) == firewall),
            "{host}: no related span in {firewall}: {:#?}",
            found.related
        );
    }
    // Each finding is one of the listed mismatches (pure-ftpd listens on both
    // families, and ufw leaves the same gap in each: one finding per family).
    for d in &blocked {
        let file = path_of(d.primary.span);
        assert!(
            MISMATCHES
                .iter()
                .any(|(host, server, _, _)| file == root.join(host).join(server).to_string_lossy()),
            "unexpected finding on {file}: {}",
            d.message
        );
    }
    let ok = root
        .join("vsftpd-iptables-ok")
        .to_string_lossy()
        .into_owned();
    let on_ok: Vec<_> = report
        .diagnostics
        .iter()
        .filter(|d| path_of(d.primary.span).starts_with(&ok))
        .collect();
    assert!(on_ok.is_empty(), "{on_ok:#?}");
}
