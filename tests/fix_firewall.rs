//! The firewall side of a port mismatch, fixed: the fix rewrites only the port
//! value of one accept rule, in that rule's own syntax, the finding is gone, and
//! the real iptables-restore / nft loads the fixed file.
//!
//! `--unsafe-fixes` applies the first fix of a finding, which for
//! `passive-ports-blocked` is the server-side one (ProFTPD's `PassivePorts`
//! moves too): the tests take the firewall's fix from the SARIF report, which
//! lists every fix, and apply its replacements as a SARIF consumer would.

mod support {
    #![allow(dead_code)]
    pub mod netns;
    pub mod requirements;
}

use std::path::Path;
use std::process::{Command, Output};
use support::requirements::ready;

const PROFTPD: &str = "ServerName \"files\"\nServerType standalone\nPort 21\nUseIPv6 off\nPassivePorts 49152 49200\nMaxInstances 20\n";

fn pasvlint(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pasvlint"))
        .args(args)
        .output()
        .expect("run pasvlint")
}

fn concise(root: &Path) -> String {
    let out = pasvlint(&[
        "check",
        "--isolated",
        "--format",
        "concise",
        root.to_str().unwrap(),
    ]);
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A host tree under a temp dir: each `(path, text)` written below it.
fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (path, text) in files {
        let at = dir.path().join(path);
        std::fs::create_dir_all(at.parent().unwrap()).unwrap();
        std::fs::write(at, text).unwrap();
    }
    dir
}

/// Applies the firewall-side fix `rule`'s findings offer (the SARIF report lists
/// every fix; the server's, when there is one, comes first and `--unsafe-fixes`
/// would take it) and returns the firewall file's new text.
fn fix(dir: &Path, rule: &str, firewall: &str) -> String {
    let out = pasvlint(&[
        "check",
        "--isolated",
        "--format",
        "sarif",
        "--select",
        rule,
        dir.to_str().unwrap(),
    ]);
    assert!(out.status.code().is_some_and(|c| c <= 1), "{out:?}");
    let sarif: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let fixes: Vec<&serde_json::Value> = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["ruleId"] == rule)
        .flat_map(|r| r["fixes"].as_array().into_iter().flatten())
        .filter(|f| {
            f["description"]["text"]
                .as_str()
                .is_some_and(|t| t.ends_with("in the firewall rule"))
        })
        .collect();
    let path = dir.join(firewall);
    let mut text = std::fs::read_to_string(&path).unwrap();
    if let Some(first) = fixes.first() {
        for change in first["artifactChanges"].as_array().unwrap() {
            let uri = change["artifactLocation"]["uri"].as_str().unwrap();
            assert!(
                uri.ends_with(firewall),
                "the fix edits {uri}, not {firewall}"
            );
            let mut edits: Vec<(usize, usize, String)> = change["replacements"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| {
                    let at = |line: &str, col: &str| {
                        offset(&text, &r["deletedRegion"][line], &r["deletedRegion"][col])
                    };
                    let text = r["insertedContent"]["text"].as_str().unwrap().to_owned();
                    (
                        at("startLine", "startColumn"),
                        at("endLine", "endColumn"),
                        text,
                    )
                })
                .collect();
            edits.sort_by_key(|e| std::cmp::Reverse(e.0));
            for (start, end, new) in edits {
                text.replace_range(start..end, &new);
            }
        }
        std::fs::write(&path, &text).unwrap();
    }
    text
}

/// The byte offset of a SARIF line and column (1-based, UTF-16 units; these
/// files are ASCII).
fn offset(text: &str, line: &serde_json::Value, column: &serde_json::Value) -> usize {
    let line = line.as_u64().unwrap() as usize;
    let column = column.as_u64().unwrap() as usize;
    let start: usize = text
        .split_inclusive('\n')
        .take(line - 1)
        .map(str::len)
        .sum();
    start + column - 1
}

/// `after` is `before` with only `old` (found once, after `marker`) replaced by `new`.
fn only_value_changed(before: &str, after: &str, marker: &str, old: &str, new: &str) {
    let at = before.find(marker).expect("marker") + marker.len();
    assert!(before[at..].starts_with(old), "{before}");
    let expected = format!("{}{new}{}", &before[..at], &before[at + old.len()..]);
    assert_eq!(after, expected);
}

fn assert_gone(dir: &Path, rule: &str) {
    let left = concise(dir);
    assert!(!left.contains(rule), "{rule} still reported: {left}");
}

fn netns(purpose: &str) -> support::netns::Netns {
    support::netns::Netns::create(support::netns::unique_name(purpose)).unwrap()
}

const DUMP: &str = "*filter\n:INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n-A INPUT -i lo -j ACCEPT\n-A INPUT -m conntrack --ctstate ESTABLISHED -j ACCEPT\n-A INPUT -p tcp --dport 21 -j ACCEPT\n-A INPUT -p tcp -m tcp --dport \"49152:49180\" -j ACCEPT\nCOMMIT\n";

#[test]
fn an_iptables_dump_rule_is_widened_to_the_passive_range() {
    let dir = tree(&[
        ("etc/proftpd/proftpd.conf", PROFTPD),
        ("etc/iptables/rules.v4", DUMP),
    ]);
    let after = fix(dir.path(), "passive-ports-blocked", "etc/iptables/rules.v4");
    only_value_changed(DUMP, &after, "--dport \"", "49152:49180", "49152:49200");
    assert_gone(dir.path(), "passive-ports-blocked");
    if !ready(
        "an_iptables_dump_rule_is_widened_to_the_passive_range",
        &[],
        &["iptables-restore", "iptables-save", "ip"],
    ) {
        return;
    }
    let ns = netns("fwwiden");
    ns.load_iptables(&dir.path().join("etc/iptables/rules.v4"))
        .expect("the fixed dump loads");
    let saved = ns.command("iptables-save").output().unwrap();
    let saved = String::from_utf8_lossy(&saved.stdout);
    assert!(
        saved
            .lines()
            .any(|l| l == "-A INPUT -p tcp -m tcp --dport 49152:49200 -j ACCEPT"),
        "{saved}"
    );
}

const MULTIPORT: &str = "*filter\n:INPUT DROP [0:0]\n-A INPUT -m conntrack --ctstate ESTABLISHED -j ACCEPT\n-A INPUT -p tcp -m multiport --dports 21,49152:49160,49170 -j ACCEPT\nCOMMIT\n";

#[test]
fn a_multiport_list_takes_the_blocked_ports_in() {
    let dir = tree(&[
        ("etc/proftpd/proftpd.conf", PROFTPD),
        ("etc/iptables/rules.v4", MULTIPORT),
    ]);
    let after = fix(dir.path(), "passive-ports-blocked", "etc/iptables/rules.v4");
    only_value_changed(
        MULTIPORT,
        &after,
        "--dports ",
        "21,49152:49160,49170",
        "21,49152:49200",
    );
    assert_gone(dir.path(), "passive-ports-blocked");
    if !ready(
        "a_multiport_list_takes_the_blocked_ports_in",
        &[],
        &["iptables-restore", "ip"],
    ) {
        return;
    }
    netns("fwmulti")
        .load_iptables(&dir.path().join("etc/iptables/rules.v4"))
        .expect("the fixed dump loads");
}

const SCRIPT: &str = "#!/bin/sh\nset -e\niptables -P INPUT DROP\niptables -A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT\niptables -A INPUT -p tcp --dport 21 -j ACCEPT\niptables -A INPUT -p tcp --dport '49152:49170' -j ACCEPT\n";

#[test]
fn an_iptables_script_rule_is_widened_inside_its_quotes() {
    let dir = tree(&[
        ("etc/proftpd/proftpd.conf", PROFTPD),
        ("firewall.sh", SCRIPT),
    ]);
    let after = fix(dir.path(), "passive-ports-blocked", "firewall.sh");
    only_value_changed(SCRIPT, &after, "--dport '", "49152:49170", "49152:49200");
    assert_gone(dir.path(), "passive-ports-blocked");
}

#[test]
fn a_port_written_through_a_variable_gets_no_firewall_fix() {
    let script = "#!/bin/sh\nPASV=49152:49170\niptables -P INPUT DROP\niptables -A INPUT -m conntrack --ctstate ESTABLISHED -j ACCEPT\niptables -A INPUT -p tcp --dport 21 -j ACCEPT\niptables -A INPUT -p tcp --dport $PASV -j ACCEPT\n";
    let dir = tree(&[
        ("etc/proftpd/proftpd.conf", PROFTPD),
        ("firewall.sh", script),
    ]);
    let after = fix(dir.path(), "passive-ports-blocked", "firewall.sh");
    assert_eq!(after, script);
    assert!(concise(dir.path()).contains("passive-ports-blocked"));
}

const NFT: &str = "#!/usr/sbin/nft -f\nflush ruleset\n\ntable inet filter {\n    chain input {\n        type filter hook input priority filter; policy drop;\n        ct state established,related accept\n        tcp dport 21 accept\n        tcp dport 49152-49180 accept\n    }\n}\n";

#[test]
fn an_nftables_range_is_widened() {
    let dir = tree(&[
        ("etc/proftpd/proftpd.conf", PROFTPD),
        ("etc/nftables.conf", NFT),
    ]);
    let after = fix(dir.path(), "passive-ports-blocked", "etc/nftables.conf");
    only_value_changed(
        NFT,
        &after,
        "tcp dport 21 accept\n        tcp dport ",
        "49152-49180",
        "49152-49200",
    );
    assert_gone(dir.path(), "passive-ports-blocked");
    nft_checks(
        &dir.path().join("etc/nftables.conf"),
        "an_nftables_range_is_widened",
    );
}

const NFT_SET: &str = "table inet filter {\n    chain input {\n        type filter hook input priority 0; policy drop;\n        ct state established accept\n        tcp dport { 21, 49152-49160, 49170 } accept\n    }\n}\n";

#[test]
fn an_nftables_set_is_rewritten_as_a_set() {
    let dir = tree(&[
        ("etc/proftpd/proftpd.conf", PROFTPD),
        ("etc/nftables.conf", NFT_SET),
    ]);
    let after = fix(dir.path(), "passive-ports-blocked", "etc/nftables.conf");
    only_value_changed(
        NFT_SET,
        &after,
        "tcp dport ",
        "{ 21, 49152-49160, 49170 }",
        "{ 21, 49152-49200 }",
    );
    assert_gone(dir.path(), "passive-ports-blocked");
    nft_checks(
        &dir.path().join("etc/nftables.conf"),
        "an_nftables_set_is_rewritten_as_a_set",
    );
}

/// The real nft parses and checks the fixed file (`-c`: nothing is loaded).
fn nft_checks(file: &Path, test: &str) {
    if !ready(test, &[], &["nft", "ip"]) {
        return;
    }
    let out = netns("fwnft")
        .command("nft")
        .arg("-c")
        .arg("-f")
        .arg(file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "nft -c: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

const ZONE: &str = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<zone>\n  <short>Public</short>\n  <service name=\"ssh\"/>\n  <port protocol=\"tcp\" port=\"21\"/>\n  <port protocol=\"tcp\" port=\"49152-49180\"/>\n</zone>\n";

#[test]
fn a_firewalld_zone_port_is_widened() {
    let dir = tree(&[
        ("etc/proftpd/proftpd.conf", PROFTPD),
        ("etc/firewalld/zones/public.xml", ZONE),
    ]);
    let after = fix(
        dir.path(),
        "passive-ports-blocked",
        "etc/firewalld/zones/public.xml",
    );
    only_value_changed(
        ZONE,
        &after,
        "port=\"21\"/>\n  <port protocol=\"tcp\" port=\"",
        "49152-49180",
        "49152-49200",
    );
    assert_gone(dir.path(), "passive-ports-blocked");
    if Command::new("xmllint").arg("--version").output().is_err() {
        eprintln!("skipping the xmllint check: xmllint is not installed");
        return;
    }
    let out = Command::new("xmllint")
        .arg("--noout")
        .arg(dir.path().join("etc/firewalld/zones/public.xml"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
}

/// Both fixes are offered: SARIF lists the server's first, then the firewall's.
#[test]
fn sarif_lists_the_firewall_fix_after_the_server_fix() {
    let vsftpd = "listen=YES\nanonymous_enable=NO\nlocal_enable=YES\npasv_min_port=49152\npasv_max_port=49200\n";
    let dir = tree(&[("etc/vsftpd.conf", vsftpd), ("etc/iptables/rules.v4", DUMP)]);
    let out = pasvlint(&[
        "check",
        "--isolated",
        "--format",
        "sarif",
        "--select",
        "passive-ports-blocked",
        dir.path().to_str().unwrap(),
    ]);
    let sarif: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let fixes = &sarif["runs"][0]["results"][0]["fixes"];
    let texts: Vec<String> = fixes
        .as_array()
        .expect("fixes")
        .iter()
        .map(|f| {
            let change = &f["artifactChanges"][0];
            format!(
                "{} {}",
                change["artifactLocation"]["uri"].as_str().unwrap_or(""),
                change["replacements"][0]["insertedContent"]["text"]
                    .as_str()
                    .unwrap_or("")
            )
        })
        .collect();
    assert_eq!(texts.len(), 2, "{texts:?}");
    assert!(
        texts[0].ends_with("etc/vsftpd.conf pasv_min_port=49152"),
        "{texts:?}"
    );
    assert!(
        texts[1].ends_with("etc/iptables/rules.v4 49152:49200"),
        "{texts:?}"
    );
}

const WIDE: &str = "*filter\n:INPUT DROP [0:0]\n-A INPUT -m conntrack --ctstate ESTABLISHED -j ACCEPT\n-A INPUT -p tcp --dport 21 -j ACCEPT\n-A INPUT -p tcp --dport 49152:65535 -j ACCEPT\nCOMMIT\n";

#[test]
fn a_rule_opening_unused_ports_is_narrowed_to_the_range() {
    let dir = tree(&[
        ("etc/proftpd/proftpd.conf", PROFTPD),
        ("etc/iptables/rules.v4", WIDE),
    ]);
    let after = fix(
        dir.path(),
        "firewall-opens-unused-ports",
        "etc/iptables/rules.v4",
    );
    only_value_changed(
        WIDE,
        &after,
        "--dport 21 -j ACCEPT\n-A INPUT -p tcp --dport ",
        "49152:65535",
        "49152:49200",
    );
    assert_gone(dir.path(), "firewall-opens-unused-ports");
    if !ready(
        "a_rule_opening_unused_ports_is_narrowed_to_the_range",
        &[],
        &["iptables-restore", "ip"],
    ) {
        return;
    }
    netns("fwnarrow")
        .load_iptables(&dir.path().join("etc/iptables/rules.v4"))
        .expect("the fixed dump loads");
}

#[test]
fn ports_a_rule_drops_by_name_are_not_opened_behind_it() {
    let dump = "*filter\n:INPUT DROP [0:0]\n-A INPUT -p tcp --dport 49190:49200 -j DROP\n-A INPUT -p tcp --dport 21 -j ACCEPT\n-A INPUT -p tcp --dport 49152:49189 -j ACCEPT\nCOMMIT\n";
    let dir = tree(&[
        ("etc/proftpd/proftpd.conf", PROFTPD),
        ("etc/iptables/rules.v4", dump),
    ]);
    assert_eq!(
        fix(dir.path(), "passive-ports-blocked", "etc/iptables/rules.v4"),
        dump
    );
    assert!(concise(dir.path()).contains("passive-ports-blocked"));
}

const UFW: &str = "#!/bin/sh\nufw allow 22/tcp\nufw allow 21/tcp\nufw allow 49152:49170/tcp\nufw --force enable\n";

#[test]
fn a_ufw_command_is_widened() {
    let dir = tree(&[("etc/proftpd/proftpd.conf", PROFTPD), ("setup-ufw.sh", UFW)]);
    let after = fix(dir.path(), "passive-ports-blocked", "setup-ufw.sh");
    only_value_changed(
        UFW,
        &after,
        "21/tcp\nufw allow ",
        "49152:49170",
        "49152:49200",
    );
    assert_gone(dir.path(), "passive-ports-blocked");
}

/// A compose entry that publishes part of an image's fixed range, widened in
/// both halves (the image's range cannot move, so this is the first fix).
#[test]
fn a_compose_port_entry_publishes_the_whole_range() {
    let compose = "services:\n  ftp:\n    image: garethflowers/ftp-server\n    ports:\n      - \"21:21\"\n      - '40000-40004:40000-40004'\n";
    let dir = tree(&[("compose.yaml", compose)]);
    let after = fix(dir.path(), "passive-ports-blocked", "compose.yaml");
    assert_eq!(
        after,
        compose.replace("40000-40004:40000-40004", "40000-40009:40000-40009")
    );
    assert_gone(dir.path(), "passive-ports-blocked");
}

const IIS_RANGE: &str = "Set-WebConfigurationProperty -pspath 'MACHINE/WEBROOT/APPHOST' -filter \"system.ftpServer/firewallSupport\" -name \"lowDataChannelPort\" -value 5000\nSet-WebConfigurationProperty -pspath 'MACHINE/WEBROOT/APPHOST' -filter \"system.ftpServer/firewallSupport\" -name \"highDataChannelPort\" -value 5100\n";

/// A netsh `localport=` list in a batch file, widened in netsh's own form
/// (`lo-hi`) inside the rule that half-opens the range. (In PowerShell the same
/// unquoted line splits at the comma: `windows-firewall-rule-malformed`.)
#[test]
fn a_netsh_localport_list_is_widened() {
    let script = "@echo off\r\nnetsh advfirewall set allprofiles firewallpolicy blockinbound,allowoutbound\r\nnetsh advfirewall firewall add rule name=\"FTP\" dir=in action=allow protocol=TCP localport=21,5000-5050 profile=any\r\n";
    let dir = tree(&[("Setup-Ftp.ps1", IIS_RANGE), ("firewall.cmd", script)]);
    let after = fix(dir.path(), "passive-ports-blocked", "firewall.cmd");
    only_value_changed(script, &after, "localport=", "21,5000-5050", "21,5000-5100");
    assert_gone(dir.path(), "passive-ports-blocked");
}

/// New-NetFirewallRule's `-LocalPort`, quoted, is rewritten inside its quotes.
#[test]
fn a_powershell_local_port_is_widened_inside_its_quotes() {
    let script = format!(
        "{IIS_RANGE}Set-NetFirewallProfile -All -DefaultInboundAction Block\nNew-NetFirewallRule -DisplayName \"FTP\" -Direction Inbound -Protocol TCP -LocalPort 21 -Action Allow\nNew-NetFirewallRule -DisplayName \"FTP passive\" -Direction Inbound -Protocol TCP -LocalPort \"5000-5050\" -Action Allow\n"
    );
    let dir = tree(&[("Setup-Ftp.ps1", &script)]);
    let after = fix(dir.path(), "passive-ports-blocked", "Setup-Ftp.ps1");
    only_value_changed(&script, &after, "-LocalPort \"", "5000-5050", "5000-5100");
    assert_gone(dir.path(), "passive-ports-blocked");
}

const VSFTPD_40000: &str = "listen=YES\nlocal_enable=YES\npasv_enable=YES\npasv_min_port=40000\npasv_max_port=40100\npasv_address=203.0.113.10\n";

/// A security group's ingress rule: `from_port` and `to_port` both rewritten.
#[test]
fn a_security_group_rule_is_widened_in_from_and_to_port() {
    let tf = "resource \"aws_security_group\" \"ftp\" {\n  name = \"ftp\"\n\n  ingress {\n    from_port   = 21\n    to_port     = 21\n    protocol    = \"tcp\"\n    cidr_blocks = [\"0.0.0.0/0\"]\n  }\n\n  ingress {\n    from_port   = 40000\n    to_port     = 40050\n    protocol    = \"tcp\"\n    cidr_blocks = [\"0.0.0.0/0\"]\n  }\n}\n\nresource \"aws_instance\" \"ftp\" {\n  ami                    = \"ami-0c55b159cbfafe1f0\"\n  instance_type          = \"t3.micro\"\n  vpc_security_group_ids = [aws_security_group.ftp.id]\n}\n";
    let dir = tree(&[("main.tf", tf), ("vsftpd.conf", VSFTPD_40000)]);
    let after = fix(dir.path(), "passive-ports-blocked", "main.tf");
    assert_eq!(
        after,
        tf.replace(
            "from_port   = 40000\n    to_port     = 40050",
            "from_port   = 40000\n    to_port     = 40100"
        )
    );
    assert_gone(dir.path(), "passive-ports-blocked");
}

/// Ports from a variable are the module's to set: no firewall fix.
#[test]
fn a_security_group_port_from_a_variable_gets_no_fix() {
    let tf = "variable \"last\" {\n  default = 40050\n}\n\nresource \"aws_security_group\" \"ftp\" {\n  ingress {\n    from_port   = 21\n    to_port     = 21\n    protocol    = \"tcp\"\n    cidr_blocks = [\"0.0.0.0/0\"]\n  }\n  ingress {\n    from_port   = 40000\n    to_port     = var.last\n    protocol    = \"tcp\"\n    cidr_blocks = [\"0.0.0.0/0\"]\n  }\n}\n\nresource \"aws_instance\" \"ftp\" {\n  vpc_security_group_ids = [aws_security_group.ftp.id]\n}\n";
    let dir = tree(&[("main.tf", tf), ("vsftpd.conf", VSFTPD_40000)]);
    assert_eq!(fix(dir.path(), "passive-ports-blocked", "main.tf"), tf);
    assert!(concise(dir.path()).contains("passive-ports-blocked"));
}

/// An NSG rule's `destination_port_range` string, rewritten inside its quotes.
#[test]
fn an_nsg_destination_port_range_is_widened() {
    let tf = "resource \"azurerm_network_security_group\" \"ftp\" {\n  name                = \"ftp\"\n  location            = \"westeurope\"\n  resource_group_name = \"rg\"\n\n  security_rule {\n    name                       = \"ftp-control\"\n    priority                   = 100\n    direction                  = \"Inbound\"\n    access                     = \"Allow\"\n    protocol                   = \"Tcp\"\n    source_port_range          = \"*\"\n    destination_port_range     = \"21\"\n    source_address_prefix      = \"*\"\n    destination_address_prefix = \"*\"\n  }\n\n  security_rule {\n    name                       = \"ftp-passive\"\n    priority                   = 110\n    direction                  = \"Inbound\"\n    access                     = \"Allow\"\n    protocol                   = \"Tcp\"\n    source_port_range          = \"*\"\n    destination_port_range     = \"40000-40050\"\n    source_address_prefix      = \"*\"\n    destination_address_prefix = \"*\"\n  }\n}\n\nresource \"azurerm_network_interface_security_group_association\" \"ftp\" {\n  network_interface_id      = azurerm_network_interface.ftp.id\n  network_security_group_id = azurerm_network_security_group.ftp.id\n}\n\nresource \"azurerm_network_interface\" \"ftp\" {\n  name                = \"ftp\"\n  location            = \"westeurope\"\n  resource_group_name = \"rg\"\n}\n\nresource \"azurerm_linux_virtual_machine\" \"ftp\" {\n  name                  = \"ftp\"\n  network_interface_ids = [azurerm_network_interface.ftp.id]\n}\n";
    let dir = tree(&[("main.tf", tf), ("vsftpd.conf", VSFTPD_40000)]);
    let after = fix(dir.path(), "passive-ports-blocked", "main.tf");
    assert_eq!(after, tf.replace("\"40000-40050\"", "\"40000-40100\""));
    assert_gone(dir.path(), "passive-ports-blocked");
}

/// The mission's case in the cloud: a security group opening more than the
/// server uses, narrowed to the server's range in `to_port`.
#[test]
fn a_security_group_rule_opening_unused_ports_is_narrowed() {
    let tf = "resource \"aws_security_group\" \"ftp\" {\n  ingress {\n    from_port   = 21\n    to_port     = 21\n    protocol    = \"tcp\"\n    cidr_blocks = [\"0.0.0.0/0\"]\n  }\n  ingress {\n    from_port   = 40000\n    to_port     = 40200\n    protocol    = \"tcp\"\n    cidr_blocks = [\"0.0.0.0/0\"]\n  }\n}\n\nresource \"aws_instance\" \"ftp\" {\n  vpc_security_group_ids = [aws_security_group.ftp.id]\n}\n";
    let dir = tree(&[("main.tf", tf), ("vsftpd.conf", VSFTPD_40000)]);
    let after = fix(dir.path(), "firewall-opens-unused-ports", "main.tf");
    assert_eq!(
        after,
        tf.replace("to_port     = 40200", "to_port     = 40100")
    );
    assert_gone(dir.path(), "firewall-opens-unused-ports");
}

/// `firewall-cmd --permanent --add-port=…/tcp` in a provisioning script,
/// widened inside its `lo-hi`.
#[test]
fn a_firewall_cmd_add_port_is_widened() {
    let script = "#!/bin/sh\nfirewall-cmd --permanent --add-port=21/tcp\nfirewall-cmd --permanent --add-port=49152-49180/tcp\nfirewall-cmd --reload\n";
    let dir = tree(&[
        ("etc/proftpd/proftpd.conf", PROFTPD),
        ("setup-firewalld.sh", script),
    ]);
    let after = fix(dir.path(), "passive-ports-blocked", "setup-firewalld.sh");
    only_value_changed(
        script,
        &after,
        "21/tcp\nfirewall-cmd --permanent --add-port=",
        "49152-49180",
        "49152-49200",
    );
    assert_gone(dir.path(), "passive-ports-blocked");
}

/// A compose entry that publishes the passive range on other host numbers:
/// `--unsafe-fixes` publishes it on its own numbers, only the host half changing.
#[test]
fn a_remapped_compose_range_is_published_on_its_own_numbers() {
    let compose = "services:\n  ftp:\n    image: fauria/vsftpd\n    ports:\n      - \"21:21\"\n      - \"31100-31110:21100-21110\"\n    environment:\n      PASV_ADDRESS: ftp.example.com\n";
    let dir = tree(&[("compose.yaml", compose)]);
    let root = dir.path().to_str().unwrap();
    pasvlint(&["check", "--isolated", "--fix", root]);
    let path = dir.path().join("compose.yaml");
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        compose,
        "unsafe: not applied by --fix"
    );
    pasvlint(&["check", "--isolated", "--fix", "--unsafe-fixes", root]);
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        compose.replace("31100-31110:21100-21110", "21100-21110:21100-21110")
    );
    assert_gone(dir.path(), "container-port-remapped");
    assert_gone(dir.path(), "passive-ports-blocked");
}

/// kubectl still decodes a fixed manifest (`--dry-run=client` against a server
/// address where nothing listens, as tests/oracle_kube.rs runs it: the lookup of
/// the API fails, the decoding before it must not).
fn kubectl_decodes(file: &Path, test: &str) {
    if !ready(test, &[], &["kubectl"]) {
        return;
    }
    let out = Command::new("kubectl")
        .env("KUBECONFIG", "/dev/null")
        .args([
            "create",
            "--dry-run=client",
            "--validate=false",
            "-o",
            "name",
        ])
        .args(["-s", "http://127.0.0.1:9", "-f"])
        .arg(file)
        .output()
        .expect("run kubectl");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("error parsing"), "{stderr}");
}

/// A NodePort that shifts a passive port gets the port's own number back.
#[test]
fn a_shifted_node_port_gets_the_passive_port_back() {
    let manifest = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: ftp\n  labels: {app: ftp}\nspec:\n  containers:\n    - name: ftp\n      image: fauria/vsftpd\n      env:\n        - {name: PASV_MIN_PORT, value: \"30100\"}\n        - {name: PASV_MAX_PORT, value: \"30101\"}\n        - {name: PASV_ADDRESS, value: ftp.example.com}\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: ftp\nspec:\n  type: NodePort\n  selector: {app: ftp}\n  ports:\n    - {name: control, port: 21, targetPort: 21, nodePort: 30021}\n    - {name: p30100, port: 30100, targetPort: 30100, nodePort: 31100}\n    - {name: p30101, port: 30101, targetPort: 30101, nodePort: 30101}\n";
    let dir = tree(&[("k8s/ftp.yaml", manifest)]);
    let root = dir.path().to_str().unwrap();
    pasvlint(&["check", "--isolated", "--fix", "--unsafe-fixes", root]);
    let path = dir.path().join("k8s/ftp.yaml");
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        manifest.replace("nodePort: 31100", "nodePort: 30100")
    );
    assert_gone(dir.path(), "kube-service-port-remapped");
    assert_gone(dir.path(), "passive-ports-blocked");
    kubectl_decodes(&path, "a_shifted_node_port_gets_the_passive_port_back");
}

/// Several replicas behind a Service: the fix adds `sessionAffinity: ClientIP`
/// at the Service spec's indentation.
#[test]
fn session_affinity_is_added_to_the_service() {
    let manifest = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: ftp\nspec:\n  replicas: 2\n  selector:\n    matchLabels: {app: ftp}\n  template:\n    metadata:\n      labels: {app: ftp}\n    spec:\n      containers:\n        - name: ftp\n          image: fauria/vsftpd\n          env:\n            - {name: PASV_MIN_PORT, value: \"30100\"}\n            - {name: PASV_MAX_PORT, value: \"30100\"}\n            - {name: PASV_ADDRESS, value: ftp.example.com}\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: ftp\nspec:\n  type: LoadBalancer\n  selector: {app: ftp}\n  ports:\n    - {name: control, port: 21, targetPort: 21}\n    - {name: p30100, port: 30100, targetPort: 30100}\n";
    let dir = tree(&[("k8s/ftp.yaml", manifest)]);
    let root = dir.path().to_str().unwrap();
    pasvlint(&["check", "--isolated", "--fix", "--unsafe-fixes", root]);
    let path = dir.path().join("k8s/ftp.yaml");
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        manifest.replace("  ports:\n", "  sessionAffinity: ClientIP\n  ports:\n")
    );
    assert_gone(dir.path(), "kube-session-affinity-missing");
    kubectl_decodes(&path, "session_affinity_is_added_to_the_service");
}

/// A GCP network, a firewall with `allow` block `allow`, and an instance on it.
fn gcp_tf(allow: &str) -> String {
    format!(
        "resource \"google_compute_network\" \"ftp\" {{\n  name = \"ftp-net\"\n}}\n\nresource \"google_compute_firewall\" \"ftp\" {{\n  name    = \"ftp\"\n  network = google_compute_network.ftp.name\n\n  allow {{\n{allow}  }}\n\n  source_ranges = [\"0.0.0.0/0\"]\n}}\n\nresource \"google_compute_instance\" \"ftp\" {{\n  name         = \"ftp\"\n  machine_type = \"e2-small\"\n  zone         = \"europe-west1-b\"\n\n  network_interface {{\n    network = google_compute_network.ftp.name\n  }}\n}}\n"
    )
}

/// The real `terraform fmt -check` parses the file and finds its layout canonical.
fn terraform_formats(file: &Path, test: &str) {
    let on_path = std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join("terraform").is_file()));
    if !on_path {
        assert!(
            !support::requirements::in_ci(),
            "{test}: terraform is not on PATH (CI=true, so this is a failure)"
        );
        eprintln!("skipping {test}'s terraform check: terraform is not on PATH");
        return;
    }
    let out = Command::new("terraform")
        .env("TF_CLI_CONFIG_FILE", "/dev/null")
        .env("CHECKPOINT_DISABLE", "1")
        .args(["fmt", "-check", "-no-color"])
        .arg(file)
        .output()
        .expect("terraform runs");
    assert!(
        out.status.success(),
        "{test}: terraform fmt -check: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A GCP firewall's `ports` list, rewritten as a list of strings on its line; the
/// file stays as `terraform fmt` writes it.
#[test]
fn a_gcp_ports_list_is_widened() {
    let allow = "    protocol = \"tcp\"\n    ports    = [\"21\", \"40000-40050\"]\n";
    let tf = gcp_tf(allow);
    let dir = tree(&[("main.tf", &tf), ("vsftpd.conf", VSFTPD_40000)]);
    let after = fix(dir.path(), "passive-ports-blocked", "main.tf");
    assert_eq!(after, tf.replace("\"40000-40050\"]", "\"40000-40100\"]"));
    assert_gone(dir.path(), "passive-ports-blocked");
    terraform_formats(&dir.path().join("main.tf"), "a_gcp_ports_list_is_widened");
}

/// A list written one element a line keeps that layout, and the blocked ports
/// join the element they continue.
#[test]
fn a_gcp_ports_list_one_a_line_keeps_its_layout() {
    let allow = "    protocol = \"tcp\"\n    ports = [\n      \"21\",\n      \"40000-40020\",\n      \"40021-40050\",\n    ]\n";
    let tf = gcp_tf(allow);
    let dir = tree(&[("main.tf", &tf), ("vsftpd.conf", VSFTPD_40000)]);
    let after = fix(dir.path(), "passive-ports-blocked", "main.tf");
    assert_eq!(
        after,
        tf.replace(
            "\"40000-40020\",\n      \"40021-40050\",",
            "\"40000-40100\","
        )
    );
    assert_gone(dir.path(), "passive-ports-blocked");
    terraform_formats(
        &dir.path().join("main.tf"),
        "a_gcp_ports_list_one_a_line_keeps_its_layout",
    );
}

/// A GCP rule opening more than the server uses is narrowed to its range.
#[test]
fn a_gcp_ports_list_opening_unused_ports_is_narrowed() {
    let allow = "    protocol = \"tcp\"\n    ports    = [\"21\", \"40000-40300\"]\n";
    let tf = gcp_tf(allow);
    let dir = tree(&[("main.tf", &tf), ("vsftpd.conf", VSFTPD_40000)]);
    let after = fix(dir.path(), "firewall-opens-unused-ports", "main.tf");
    assert_eq!(after, tf.replace("\"40000-40300\"", "\"40000-40100\""));
    assert_gone(dir.path(), "firewall-opens-unused-ports");
}

/// No fix where the list is not plain literals (a variable's element, a comment
/// between elements that the rewrite would drop).
#[test]
fn a_gcp_ports_list_with_a_variable_or_a_comment_gets_no_fix() {
    let variable = format!(
        "variable \"passive\" {{\n  default = \"40000-40050\"\n}}\n\n{}",
        gcp_tf("    protocol = \"tcp\"\n    ports    = [\"21\", var.passive]\n")
    );
    let comment = gcp_tf(
        "    protocol = \"tcp\"\n    ports = [\n      \"21\", # control\n      \"40000-40050\",\n    ]\n",
    );
    for tf in [variable, comment] {
        let dir = tree(&[("main.tf", &tf), ("vsftpd.conf", VSFTPD_40000)]);
        assert!(
            concise(dir.path()).contains("passive-ports-blocked"),
            "{tf}"
        );
        assert_eq!(fix(dir.path(), "passive-ports-blocked", "main.tf"), tf);
    }
}

/// Port 20 that nothing needs is dropped from the accept rule's multiport list
/// (unsafe), the rest of the dump as it was, and iptables-restore loads it.
#[test]
fn an_unused_port_20_is_dropped_from_the_rule() {
    let dump = "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n-A INPUT -p tcp -m multiport --dports 21,20 -j ACCEPT\n-A INPUT -p tcp -j REJECT --reject-with tcp-reset\nCOMMIT\n";
    let conf = "listen=YES\nport_enable=NO\npasv_enable=NO\n";
    let dir = tree(&[("etc/vsftpd.conf", conf), ("etc/iptables/rules.v4", dump)]);
    assert!(concise(dir.path()).contains("active-port-20-unused"));
    let root = dir.path().to_str().unwrap();
    let rules = dir.path().join("etc/iptables/rules.v4");
    pasvlint(&["check", "--isolated", "--fix", root]);
    assert_eq!(std::fs::read_to_string(&rules).unwrap(), dump, "unsafe");
    pasvlint(&["check", "--isolated", "--fix", "--unsafe-fixes", root]);
    let after = std::fs::read_to_string(&rules).unwrap();
    only_value_changed(dump, &after, "--dports ", "21,20", "21");
    assert_gone(dir.path(), "active-port-20-unused");
    if !ready(
        "an_unused_port_20_is_dropped_from_the_rule",
        &[],
        &["iptables-restore", "ip"],
    ) {
        return;
    }
    netns("fwport20")
        .load_iptables(&rules)
        .expect("the fixed dump loads");
}

/// Applies `--fix --unsafe-fixes` to a tree of vsftpd (active mode off) and one
/// firewall file, after checking that `--fix` alone leaves it; returns its text.
fn port_20_fixed(path: &str, firewall: &str) -> (tempfile::TempDir, String) {
    let conf = "listen=YES\nport_enable=NO\npasv_enable=NO\n";
    let dir = tree(&[("etc/vsftpd.conf", conf), (path, firewall)]);
    assert!(concise(dir.path()).contains("active-port-20-unused"));
    let root = dir.path().to_str().unwrap();
    let file = dir.path().join(path);
    pasvlint(&["check", "--isolated", "--fix", root]);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), firewall, "unsafe");
    pasvlint(&["check", "--isolated", "--fix", "--unsafe-fixes", root]);
    let after = std::fs::read_to_string(&file).unwrap();
    (dir, after)
}

const PORT_20_ONLY: &str = "-A INPUT -p tcp --dport 20 -j ACCEPT\n";

/// A rule that opens port 20 alone is deleted with its line (unsafe), in a dump,
/// a script and an nftables file; the rest stays byte for byte, and the real
/// iptables-restore, sh and nft read what is left.
#[test]
fn a_rule_opening_only_port_20_is_deleted() {
    let dump = format!(
        "*filter\n:INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n-A INPUT -p tcp --dport 21 -j ACCEPT\n{PORT_20_ONLY}COMMIT\n"
    );
    let (dumped, after) = port_20_fixed("etc/iptables/rules.v4", &dump);
    assert_eq!(after, dump.replace(PORT_20_ONLY, ""));
    assert_gone(dumped.path(), "active-port-20-unused");

    let script = "#!/bin/sh\nset -e\niptables -P INPUT DROP\niptables -A INPUT -p tcp --dport 21 -j ACCEPT\nif true; then\n  iptables -A INPUT -p tcp --dport 20 -j ACCEPT\n  iptables -A INPUT -p tcp --dport 990 -j ACCEPT\nfi\n";
    let (scripted, after) = port_20_fixed("etc/firewall.sh", script);
    assert_eq!(
        after,
        script.replace("  iptables -A INPUT -p tcp --dport 20 -j ACCEPT\n", "")
    );
    assert_gone(scripted.path(), "active-port-20-unused");
    let sh = Command::new("sh")
        .arg("-n")
        .arg(scripted.path().join("etc/firewall.sh"))
        .output()
        .unwrap();
    assert!(sh.status.success(), "{sh:?}");

    let nft = "table inet filter {\n  chain input {\n    type filter hook input priority 0; policy drop;\n    icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, nd-router-advert } accept\n    tcp dport 21 accept\n    tcp dport 20 accept # active mode\n  }\n}\n";
    let (nfted, after) = port_20_fixed("etc/nftables.conf", nft);
    assert_eq!(
        after,
        nft.replace("    tcp dport 20 accept # active mode\n", "")
    );
    assert_gone(nfted.path(), "active-port-20-unused");
    nft_checks(
        &nfted.path().join("etc/nftables.conf"),
        "a_rule_opening_only_port_20_is_deleted",
    );

    if !ready(
        "a_rule_opening_only_port_20_is_deleted",
        &[],
        &["iptables-restore", "ip"],
    ) {
        return;
    }
    netns("fwport20del")
        .load_iptables(&dumped.path().join("etc/iptables/rules.v4"))
        .expect("the fixed dump loads");
}

/// Where deleting the line would change other rules, the rule stays for a person:
/// the only command of a block, a script that deletes rules by number, a line a
/// loop runs with other ports.
#[test]
fn a_port_20_rule_whose_line_is_not_its_own_is_kept() {
    let cases = [
        "#!/bin/sh\nif true; then\n  iptables -A INPUT -p tcp --dport 20 -j ACCEPT\nfi\niptables -A INPUT -p tcp --dport 21 -j ACCEPT\niptables -P INPUT DROP\n",
        "#!/bin/sh\niptables -P INPUT DROP\niptables -A INPUT -p tcp --dport 21 -j ACCEPT\niptables -A INPUT -p tcp --dport 20 -j ACCEPT\niptables -A INPUT -p tcp --dport 990 -j ACCEPT\niptables -D INPUT 3\n",
        "#!/bin/sh\niptables -P INPUT DROP\niptables -A INPUT -p tcp --dport 21 -j ACCEPT\nfor p in 20 990; do iptables -A INPUT -p tcp --dport $p -j ACCEPT; done\n",
        "#!/bin/sh\niptables -P INPUT DROP\niptables -A INPUT -p tcp --dport 21 -j ACCEPT\nfor i in 1 2; do\n  iptables -A INPUT -p tcp --dport 20 -j ACCEPT\n  iptables -A INPUT -p tcp --dport 990 -j ACCEPT\ndone\n",
        "#!/bin/sh\niptables -P INPUT DROP\niptables -A INPUT -p tcp --dport 21 -j ACCEPT\nif true; then # active mode\n  iptables -A INPUT -p tcp --dport 20 -j ACCEPT\nfi\n",
        "#!/bin/sh\nfirewall-cmd --permanent --zone=public --add-port=20/tcp --add-service=ftp\n",
    ];
    for script in cases {
        let (_dir, after) = port_20_fixed("etc/firewall.sh", script);
        assert_eq!(after, script);
    }
    let positional = "table inet filter {\n  chain input {\n    type filter hook input priority 0; policy drop;\n    icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, nd-router-advert } accept\n    tcp dport 21 accept\n    tcp dport 20 accept\n  }\n}\ndelete rule inet filter input handle 4\n";
    let (_dir, after) = port_20_fixed("etc/nftables.conf", positional);
    assert_eq!(after, positional);
}

/// A CRLF iptables dump, which iptables-restore refuses, converted to LF by the
/// safe fix: every byte but the carriage returns kept, and the real
/// iptables-restore loads it. A dump whose error is of another kind (a port
/// typo) gets no fix.
#[test]
fn a_crlf_iptables_dump_is_converted_to_lf() {
    let dump = "*filter\r\n:INPUT DROP [0:0]\r\n:FORWARD DROP [0:0]\r\n:OUTPUT ACCEPT [0:0]\r\n-A INPUT -p tcp -m tcp --dport 21 -j ACCEPT\r\n-A INPUT -p tcp -m tcp --dport 40000:40100 -j ACCEPT\r\nCOMMIT\r\n";
    let dir = tree(&[("etc/iptables/rules.v4", dump)]);
    let rules = dir.path().join("etc/iptables/rules.v4");
    assert!(concise(dir.path()).contains("iptables-syntax-error"));
    pasvlint(&["check", "--isolated", "--fix", dir.path().to_str().unwrap()]);
    assert_eq!(
        std::fs::read_to_string(&rules).unwrap(),
        dump.replace("\r\n", "\n")
    );
    assert_gone(dir.path(), "iptables-syntax-error");

    let typo = "*filter\n:INPUT DROP [0:0]\n-A INPUT -p tcp --dport 4000O -j ACCEPT\nCOMMIT\n";
    let other = tree(&[("etc/iptables/rules.v4", typo)]);
    assert!(concise(other.path()).contains("iptables-syntax-error"));
    pasvlint(&[
        "check",
        "--isolated",
        "--fix",
        "--unsafe-fixes",
        other.path().to_str().unwrap(),
    ]);
    let left = std::fs::read_to_string(other.path().join("etc/iptables/rules.v4")).unwrap();
    assert_eq!(left, typo);

    if !ready(
        "a_crlf_iptables_dump_is_converted_to_lf",
        &[],
        &["iptables-restore", "ip"],
    ) {
        return;
    }
    netns("fwcrlf")
        .load_iptables(&rules)
        .expect("the fixed dump loads");
}

const SHADOWED: &str = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<zone>\n  <service name=\"ftp\"/>\n  <rule family=\"ipv4\">\n    <source address=\"198.51.100.0/24\"/>\n    <port port=\"40000-40100\" protocol=\"tcp\"/>\n    <accept/>\n  </rule>\n  <rule family=\"ipv4\">\n    <port port=\"40000-40100\" protocol=\"tcp\"/>\n    <drop/>\n  </rule>\n</zone>\n";

/// `firewall-offline-cmd --check-config` over the zone files of `dir`, in a mount
/// namespace of its own (the machine's /etc/firewalld is not touched).
fn firewalld_accepts(dir: &Path, test: &str) {
    if !ready(test, &[], &["firewall-offline-cmd", "unshare", "mount"]) {
        return;
    }
    let script = format!(
        "set -e\nmount -t tmpfs none /etc/firewalld\nprintf 'DefaultZone=public\\nFirewallBackend=nftables\\n' > /etc/firewalld/firewalld.conf\ncp -r '{}'/. /etc/firewalld/\nfirewall-offline-cmd --check-config\n",
        dir.join("etc/firewalld").display()
    );
    let out = Command::new("unshare")
        .args(["-m", "sh", "-c", &script])
        .output()
        .unwrap();
    let said =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && !said.contains("WARNING"), "{said}");
}

/// A rich rule an earlier rule always decides is deleted whole, with its lines
/// (unsafe: the author's rule goes, though firewalld decides the same), and the
/// real firewalld reads the zone that is left.
#[test]
fn a_shadowed_rich_rule_is_deleted() {
    let path = "etc/firewalld/zones/public.xml";
    let dir = tree(&[(path, SHADOWED)]);
    let root = dir.path().to_str().unwrap();
    assert!(concise(dir.path()).contains("firewalld-rich-rule-shadowed"));
    pasvlint(&["check", "--isolated", "--fix", root]);
    assert_eq!(
        std::fs::read_to_string(dir.path().join(path)).unwrap(),
        SHADOWED,
        "unsafe"
    );
    pasvlint(&["check", "--isolated", "--fix", "--unsafe-fixes", root]);
    let after = std::fs::read_to_string(dir.path().join(path)).unwrap();
    let rule = "  <rule family=\"ipv4\">\n    <source address=\"198.51.100.0/24\"/>\n    <port port=\"40000-40100\" protocol=\"tcp\"/>\n    <accept/>\n  </rule>\n";
    assert_eq!(after, SHADOWED.replace(rule, ""));
    assert_gone(dir.path(), "firewalld-rich-rule-shadowed");
    firewalld_accepts(dir.path(), "a_shadowed_rich_rule_is_deleted");
}

/// A shadowed rule naming a service is kept: the service may open UDP ports or,
/// as ftp does, load a conntrack helper that deleting the rule would drop.
#[test]
fn a_shadowed_rich_rule_naming_a_service_is_kept() {
    let path = "etc/firewalld/zones/public.xml";
    let zone = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<zone>\n  <port port=\"21\" protocol=\"tcp\"/>\n  <rule family=\"ipv4\">\n    <service name=\"ftp\"/>\n    <accept/>\n  </rule>\n</zone>\n";
    let dir = tree(&[(path, zone)]);
    assert!(concise(dir.path()).contains("firewalld-rich-rule-shadowed"));
    let root = dir.path().to_str().unwrap();
    pasvlint(&["check", "--isolated", "--fix", "--unsafe-fixes", root]);
    assert_eq!(
        std::fs::read_to_string(dir.path().join(path)).unwrap(),
        zone
    );
}

/// A shadowed rule that logs still logs (firewalld runs `log` before any verdict):
/// it is left for a person.
#[test]
fn a_shadowed_rich_rule_that_logs_is_kept() {
    let path = "etc/firewalld/zones/public.xml";
    let zone = SHADOWED.replace(
        "    <accept/>\n",
        "    <log prefix=\"ftp-office \" level=\"info\"/>\n    <accept/>\n",
    );
    let dir = tree(&[(path, &zone)]);
    assert!(concise(dir.path()).contains("firewalld-rich-rule-shadowed"));
    let root = dir.path().to_str().unwrap();
    pasvlint(&["check", "--isolated", "--fix", "--unsafe-fixes", root]);
    assert_eq!(
        std::fs::read_to_string(dir.path().join(path)).unwrap(),
        zone
    );
}
