//! `check --fix` on the Windows-side rules (and the iptables rule deletion): each
//! fixed file is byte for byte the original with only the edit spliced in, in the
//! file's own encoding and line endings, and the finding is gone. Wine then reads
//! the fixed files: `reg import` stores the range as REG_SZ, `cmd` runs the loop.
//!
//! The Wine test skips with a printed reason when `wine` is missing, unless `CI=true`.
//! Each Wine test has its own WINEPREFIX under target/.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn pasvlint(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pasvlint"))
        .args(args)
        .output()
        .expect("run pasvlint")
}

fn fix(dir: &Path, unsafe_fixes: bool) -> Output {
    let root = dir.to_str().unwrap();
    let mut args = vec!["check", "--isolated", "--fix", "--format", "concise", root];
    if unsafe_fixes {
        args.insert(3, "--unsafe-fixes");
    }
    pasvlint(&args)
}

fn concise(dir: &Path) -> String {
    let out = pasvlint(&[
        "check",
        "--isolated",
        "--format",
        "concise",
        dir.to_str().unwrap(),
    ]);
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/rules")
        .join(rel)
}

/// A copy of one fixture file at the same relative place in a fresh directory.
fn copied(case: &str, file: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let to = dir.path().join(file);
    std::fs::create_dir_all(to.parent().unwrap()).unwrap();
    std::fs::copy(fixture(case).join(file), &to).unwrap();
    (dir, to)
}

fn utf16le_with_bom(text: &str) -> Vec<u8> {
    let mut out = vec![0xFF, 0xFE];
    out.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    out
}

fn utf16le_text(bytes: &[u8]) -> String {
    assert_eq!(bytes.get(..2), Some(&[0xFF, 0xFE][..]), "UTF-16LE BOM kept");
    let units: Vec<u16> = bytes[2..]
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    String::from_utf16(&units).unwrap()
}

/// `text` with the one occurrence of `from` replaced by `to`.
fn spliced(text: &str, from: &str, to: &str) -> String {
    assert_eq!(text.matches(from).count(), 1, "{from:?} once in {text:?}");
    text.replacen(from, to, 1)
}

fn assert_fixed(out: &Output, findings: usize) {
    let said = String::from_utf8_lossy(&out.stderr);
    let s = if findings == 1 { "" } else { "s" };
    assert!(
        said.contains(&format!("fixed {findings} finding{s} in 1 file")),
        "{said}"
    );
}

const HEX2: &str = "hex(2):35,00,30,00,30,00,31,00,2d,00,35,00,31,00,30,00,30,00,\\\r\n  00,00";
const REG_CASE: &str = "registry-wrong-value-type/bad-hex2-expand-sz";
const REG_FILE: &str = "exports/ftp-passive.reg";

#[test]
fn a_utf16_crlf_reg_file_keeps_every_byte_but_the_rewritten_value() {
    let (dir, reg) = copied(REG_CASE, REG_FILE);
    let before = std::fs::read(&reg).unwrap();
    let text = utf16le_text(&before);
    assert!(text.contains("\r\n") && !text.replace("\r\n", "").contains('\n'));
    let out = fix(dir.path(), false);
    assert_fixed(&out, 1);
    let expected = spliced(&text, HEX2, "\"5001-5100\"");
    assert_eq!(std::fs::read(&reg).unwrap(), utf16le_with_bom(&expected));
    let left = concise(dir.path());
    assert!(!left.contains("registry-wrong-value-type"), "{left}");
    assert!(
        !left.contains("passive-range-unrestricted"),
        "IIS now reads the range: {left}"
    );
}

#[test]
fn a_dword_range_gets_no_fix() {
    let (dir, reg) = copied("registry-wrong-value-type/bad-dword", REG_FILE);
    let before = std::fs::read(&reg).unwrap();
    fix(dir.path(), true);
    assert_eq!(std::fs::read(&reg).unwrap(), before);
    assert!(concise(dir.path()).contains("registry-wrong-value-type"));
}

const CMD_CASE: &str = "batch-for-single-percent/bad-kb-line-pasted";

#[test]
fn a_crlf_batch_file_keeps_every_byte_but_the_doubled_percents() {
    let (dir, cmd) = copied(CMD_CASE, "setup-ftp.cmd");
    let before = std::fs::read_to_string(&cmd).unwrap();
    assert!(before.ends_with("\r\n"));
    let out = fix(dir.path(), false);
    assert_fixed(&out, 1);
    let line = "FOR /L %I IN (5001,1,5201) DO netsh advfirewall firewall add rule name=\"Passive FTP %I\" dir=in action=allow protocol=TCP localport=%I";
    let expected = spliced(&before, line, &line.replace("%I", "%%I"));
    assert_eq!(std::fs::read(&cmd).unwrap(), expected.as_bytes());
    assert!(!concise(dir.path()).contains("batch-for-single-percent"));
}

#[test]
fn a_batch_loop_with_other_percent_signs_is_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let cmd = dir.path().join("open.cmd");
    let text = "FOR /L %I IN (1,1,3) DO echo %I %COMPUTERNAME%\r\n";
    std::fs::write(&cmd, text).unwrap();
    fix(dir.path(), true);
    assert_eq!(std::fs::read_to_string(&cmd).unwrap(), text);
}

#[test]
fn an_iis_element_is_respelled_in_both_tags() {
    let case = "iis-name-wrong-case/bad-iisftpservice";
    let file = "WINDOWS/system32/inetsrv/MetaBase.xml";
    let (dir, xml) = copied(case, file);
    let before = std::fs::read_to_string(&xml).unwrap();
    assert_fixed(&fix(dir.path(), false), 1);
    let expected = spliced(
        &spliced(&before, "<IISFtpService\t", "<IIsFtpService\t"),
        "</IISFtpService>",
        "</IIsFtpService>",
    );
    assert_eq!(std::fs::read_to_string(&xml).unwrap(), expected);
    let left = concise(dir.path());
    assert!(
        !left.contains("iis-name-wrong-case") && !left.contains("iis-config-malformed"),
        "{left}"
    );
}

#[test]
fn an_iis_attribute_is_respelled() {
    let case = "iis-name-wrong-case/bad-apphost-attribute";
    let file = "Windows/System32/inetsrv/config/applicationHost.config";
    let (dir, xml) = copied(case, file);
    let before = std::fs::read_to_string(&xml).unwrap();
    assert_fixed(&fix(dir.path(), false), 2);
    let expected = spliced(
        &spliced(&before, "LowDataChannelPort=", "lowDataChannelPort="),
        "HighDataChannelPort=",
        "highDataChannelPort=",
    );
    assert_eq!(std::fs::read_to_string(&xml).unwrap(), expected);
    assert!(!concise(dir.path()).contains("iis-name-wrong-case"));
}

#[test]
fn an_unreachable_rule_is_deleted_only_with_unsafe_fixes() {
    let case = "iptables-unreachable-rule/bad-shadowed-by-drop";
    let (dir, script) = copied(case, "etc/firewall.sh");
    let before = std::fs::read_to_string(&script).unwrap();
    fix(dir.path(), false);
    assert_eq!(std::fs::read_to_string(&script).unwrap(), before, "unsafe");
    assert_fixed(&fix(dir.path(), true), 2);
    let expected = spliced(
        &spliced(
            &before,
            "iptables -A INPUT -p tcp --dport 21 -j ACCEPT\n",
            "",
        ),
        "iptables -A INPUT -p udp --dport 53 -j ACCEPT\n",
        "",
    );
    assert_eq!(std::fs::read_to_string(&script).unwrap(), expected);
    assert!(!concise(dir.path()).contains("iptables-unreachable-rule"));
}

#[test]
fn an_unreachable_dump_line_is_deleted() {
    let case = "iptables-unreachable-rule/bad-accept-after-reject";
    let (dir, dump) = copied(case, "etc/iptables/rules.v4");
    let before = std::fs::read_to_string(&dump).unwrap();
    assert_fixed(&fix(dir.path(), true), 1);
    let expected = spliced(
        &before,
        "-A INPUT -p tcp -m tcp --dport 9987:9990 -j ACCEPT\n",
        "",
    );
    assert_eq!(std::fs::read_to_string(&dump).unwrap(), expected);
}

#[test]
fn a_rule_a_loop_repeats_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("firewall.sh");
    let text = "#!/bin/sh\niptables -A INPUT -p tcp --dport 21 -j ACCEPT\nfor p in 21 22; do\n  iptables -A INPUT -p tcp --dport $p -j ACCEPT\ndone\n";
    std::fs::write(&script, text).unwrap();
    assert!(concise(dir.path()).contains("iptables-unreachable-rule"));
    fix(dir.path(), true);
    assert_eq!(std::fs::read_to_string(&script).unwrap(), text);
}

// --- Wine reads the fixed files -------------------------------------------------

struct Wine {
    exe: PathBuf,
    prefix: PathBuf,
}

impl Wine {
    /// `None` (skip, said why) when wine is missing outside CI; a failure in CI.
    /// Each test has its own prefix (`name`): tests run side by side.
    fn find(name: &str) -> Option<Wine> {
        let path = std::env::var_os("PATH")?;
        let exe = std::env::split_paths(&path)
            .map(|d| d.join("wine"))
            .find(|p| p.is_file());
        let Some(exe) = exe else {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "wine is not installed (apt-get install wine64; CI=true, so this is a failure)"
            );
            eprintln!("skipping the Wine checks: `wine` is not on PATH (apt-get install wine64)");
            return None;
        };
        let prefix =
            Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("wine-fix-windows-{name}"));
        let _ = std::fs::remove_dir_all(&prefix);
        std::fs::create_dir_all(&prefix).unwrap();
        Some(Wine { exe, prefix })
    }

    fn run(&self, args: &[&str], dir: &Path) -> String {
        let out = Command::new(&self.exe)
            .args(args)
            .current_dir(dir)
            .env("WINEPREFIX", &self.prefix)
            .env("WINEDEBUG", "-all")
            .env("WINEDLLOVERRIDES", "mscoree,mshtml=")
            .output()
            .expect("wine runs");
        String::from_utf8_lossy(&out.stdout).replace('\r', "")
    }
}

impl Drop for Wine {
    fn drop(&mut self) {
        let server = self.exe.with_file_name("wineserver");
        let _ = Command::new(&server)
            .arg("-k")
            .env("WINEPREFIX", &self.prefix)
            .status();
    }
}

/// A Unix path as Wine's `Z:` drive shows it.
fn win_path(p: &Path) -> String {
    format!("Z:{}", p.display()).replace('/', "\\")
}

const PARAMETERS: &str = "HKLM\\SYSTEM\\CurrentControlSet\\Services\\MSFTPSVC\\Parameters";

/// The type and data `reg query` shows for PassivePortRange after importing `reg`.
fn imported(wine: &Wine, reg: &Path) -> String {
    let dir = reg.parent().unwrap();
    wine.run(&["reg", "import", &win_path(reg)], dir);
    let shown = wine.run(&["reg", "query", PARAMETERS, "/v", "PassivePortRange"], dir);
    shown
        .lines()
        .find(|l| l.trim_start().starts_with("PassivePortRange"))
        .map(|l| l.split_whitespace().skip(1).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

#[test]
fn wine_reads_the_fixed_files() {
    let Some(wine) = Wine::find("files") else {
        return;
    };
    let (dir, reg) = copied(REG_CASE, REG_FILE);
    assert!(
        imported(&wine, &reg).starts_with("REG_EXPAND_SZ"),
        "before the fix: {}",
        imported(&wine, &reg)
    );
    fix(dir.path(), false);
    assert_eq!(imported(&wine, &reg), "REG_SZ 5001-5100");

    let dir = tempfile::tempdir().unwrap();
    let bat = dir.path().join("loop.bat");
    // A dry run: the loop prints the netsh commands it would run.
    let command = "netsh advfirewall firewall add rule name=Passive_FTP_%I dir=in action=allow protocol=TCP localport=%I";
    std::fs::write(
        &bat,
        format!("@echo off\r\nFOR /L %I IN (5001,1,5003) DO echo {command}\r\n"),
    )
    .unwrap();
    let ran = |wine: &Wine| wine.run(&["cmd", "/c", &win_path(&bat)], dir.path());
    assert!(!ran(&wine).contains("netsh"), "before: {}", ran(&wine));
    assert_fixed(&fix(dir.path(), false), 1);
    let expected: String = (5001..=5003)
        .map(|p| command.replace("%I", &p.to_string()) + "\n")
        .collect();
    assert_eq!(ran(&wine), expected);
}

/// The rule's headline case: the loop runs the deprecated `netsh firewall`,
/// so the fixed file brings an info about it; an info does not make the fixed
/// file worse, so the fix lands.
#[test]
fn a_loop_of_deprecated_netsh_commands_is_fixed_too() {
    let dir = tempfile::tempdir().unwrap();
    let cmd = dir.path().join("open-passive.cmd");
    let line = "FOR /L %I IN (5001,1,5005) DO netsh firewall add portopening TCP %I FTP-%I";
    std::fs::write(&cmd, format!("{line}\r\n")).unwrap();
    let out = fix(dir.path(), false);
    assert_fixed(&out, 1);
    assert_eq!(
        std::fs::read_to_string(&cmd).unwrap(),
        format!("{}\r\n", line.replace("%I", "%%I"))
    );
}

const PS_FIREWALL: &str = "Set-NetFirewallProfile -All -DefaultInboundAction Block\nNew-NetFirewallRule -DisplayName \"FTP\" -Direction Inbound -Protocol TCP -LocalPort 21 -Action Allow\nNew-NetFirewallRule -DisplayName \"FTP passive\" -Direction Inbound -Protocol TCP -LocalPort \"5000-5050\" -Action Allow\n";

/// The IIS 7+ range a PowerShell script sets is moved into what its firewall
/// opens (the first fix of passive-ports-blocked), only the number changing.
#[test]
fn a_script_set_iis_range_is_moved_into_the_firewall_opening() {
    let script = format!(
        "Set-WebConfigurationProperty -pspath 'MACHINE/WEBROOT/APPHOST' -filter \"system.ftpServer/firewallSupport\" -name \"lowDataChannelPort\" -value 5000\nSet-WebConfigurationProperty -pspath 'MACHINE/WEBROOT/APPHOST' -filter \"system.ftpServer/firewallSupport\" -name \"highDataChannelPort\" -value \"5100\"\n{PS_FIREWALL}"
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("Setup-Ftp.ps1");
    std::fs::write(&path, &script).unwrap();
    fix(dir.path(), false);
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        script,
        "unsafe: not applied by --fix"
    );
    fix(dir.path(), true);
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        script.replace("-value \"5100\"", "-value \"5050\"")
    );
    assert!(!concise(dir.path()).contains("passive-ports-blocked"));
}

/// An IIS 6 `PassivePortRange` set with adsutil.vbs in a batch file: the value
/// inside its quotes is rewritten, CRLF kept.
#[test]
fn an_adsutil_passive_port_range_is_moved_into_the_firewall_opening() {
    let script = "cscript //nologo %SystemDrive%\\Inetpub\\AdminScripts\\adsutil.vbs set /MSFTPSVC/PassivePortRange \"5001-5100\"\r\nnetsh advfirewall set allprofiles firewallpolicy blockinbound,allowoutbound\r\nnetsh advfirewall firewall add rule name=\"FTP\" dir=in action=allow protocol=TCP localport=21,5001-5050 profile=any\r\n";
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("setup-ftp.cmd");
    std::fs::write(&path, script).unwrap();
    fix(dir.path(), true);
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        script.replace("\"5001-5100\"", "\"5001-5050\"")
    );
    assert!(!concise(dir.path()).contains("passive-ports-blocked"));
}

/// A range made of a variable is the script's to set: no fix offered.
#[test]
fn a_script_range_from_a_variable_is_not_rewritten() {
    let script = format!(
        "$high = 5100\nSet-WebConfigurationProperty -pspath 'MACHINE/WEBROOT/APPHOST' -filter \"system.ftpServer/firewallSupport\" -name \"lowDataChannelPort\" -value 5000\nSet-WebConfigurationProperty -pspath 'MACHINE/WEBROOT/APPHOST' -filter \"system.ftpServer/firewallSupport\" -name \"highDataChannelPort\" -value $high\n{PS_FIREWALL}"
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("Setup-Ftp.ps1");
    std::fs::write(&path, &script).unwrap();
    fix(dir.path(), true);
    let after = std::fs::read_to_string(&path).unwrap();
    assert!(after.contains("-value $high\n"), "{after}");
}

// --- FirewallRules in a .reg export ---------------------------------------------

/// An IIS 7+ range from a variable: the server side gets no fix, so the first fix
/// `--unsafe-fixes` applies is the firewall's.
const IIS_RANGE_FROM_VARIABLE: &str = "$high = 5100\nSet-WebConfigurationProperty -pspath 'MACHINE/WEBROOT/APPHOST' -filter \"system.ftpServer/firewallSupport\" -name \"lowDataChannelPort\" -value 5000\nSet-WebConfigurationProperty -pspath 'MACHINE/WEBROOT/APPHOST' -filter \"system.ftpServer/firewallSupport\" -name \"highDataChannelPort\" -value $high\n";

const RULES_KEY: &str = "HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\SharedAccess\\Parameters\\FirewallPolicy\\FirewallRules";

/// A regedit export (UTF-16LE, BOM, CRLF) of the FirewallRules key holding `rules`
/// (`name`, rule string), beside the IIS script.
fn rules_export(rules: &[(&str, &str)]) -> (tempfile::TempDir, PathBuf, String) {
    let mut text = format!("Windows Registry Editor Version 5.00\r\n\r\n[{RULES_KEY}]\r\n");
    for (name, rule) in rules {
        text.push_str(&format!("\"{name}\"=\"{rule}\"\r\n"));
    }
    text.push_str("\r\n");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("Setup-Ftp.ps1"), IIS_RANGE_FROM_VARIABLE).unwrap();
    let reg = dir.path().join("exports/firewall.reg");
    std::fs::create_dir_all(reg.parent().unwrap()).unwrap();
    std::fs::write(&reg, utf16le_with_bom(&text)).unwrap();
    (dir, reg, text)
}

const FTP_RULE: &str =
    "v2.10|Action=Allow|Active=TRUE|Dir=In|Protocol=6|LPort=21|Name=FTP Server (FTP Traffic-In)|";
const PASSIVE_RULE: &str = "v2.30|Action=Allow|Active=TRUE|Dir=In|Protocol=6|LPort2_10=5000-5050|App=%SystemRoot%\\\\system32\\\\svchost.exe|Svc=ftpsvc|Name=FTP Passive|";

/// The rule string's range is widened in place (`LPort2_10=5000-5100`), the file
/// UTF-16LE with its BOM and CRLF, every other byte as it was.
#[test]
fn a_reg_firewall_rule_is_widened_byte_for_byte_in_utf16() {
    let (dir, reg, text) = rules_export(&[("FTP-In", FTP_RULE), ("FTP-Passive-In", PASSIVE_RULE)]);
    assert!(concise(dir.path()).contains("[passive-ports-blocked]"));
    let before = std::fs::read(&reg).unwrap();
    fix(dir.path(), false);
    assert_eq!(
        std::fs::read(&reg).unwrap(),
        before,
        "unsafe: not applied by --fix"
    );
    assert_fixed(&fix(dir.path(), true), 1);
    let expected = spliced(&text, "LPort2_10=5000-5050|", "LPort2_10=5000-5100|");
    assert_eq!(std::fs::read(&reg).unwrap(), utf16le_with_bom(&expected));
    let left = concise(dir.path());
    assert!(!left.contains("passive-ports-blocked"), "{left}");
    assert!(!left.contains("windows-firewall-rule-malformed"), "{left}");
}

/// One rule for the control port and the range: its side-by-side port fields
/// are rewritten as Windows writes them, single ports as `LPort=`, each range
/// as `LPort2_10=`.
#[test]
fn reg_port_fields_side_by_side_are_rewritten_together() {
    let rule = "v2.30|Action=Allow|Active=TRUE|Dir=In|Protocol=6|LPort=21|LPort=5000|LPort2_10=5001-5050|Name=FTP|";
    let (dir, reg, text) = rules_export(&[("FTP", rule)]);
    assert_fixed(&fix(dir.path(), true), 1);
    let expected = spliced(
        &text,
        "LPort=21|LPort=5000|LPort2_10=5001-5050|",
        "LPort=21|LPort2_10=5000-5100|",
    );
    assert_eq!(utf16le_text(&std::fs::read(&reg).unwrap()), expected);
    assert!(!concise(dir.path()).contains("passive-ports-blocked"));
}

/// No fix where the edit is not one clear rewrite: port fields split by another
/// field, a rule of version 2.0 (no `LPort2_10`, so no range), a rule string
/// written as hex bytes.
#[test]
fn reg_rules_a_fix_cannot_rewrite_cleanly_are_left_alone() {
    let split =
        "v2.30|Action=Allow|Active=TRUE|Dir=In|Protocol=6|LPort=21|Name=FTP|LPort2_10=5000-5050|";
    let old = "v2.0|Action=Allow|Active=TRUE|Dir=In|Protocol=6|LPort=21|LPort=5000|Name=FTP|";
    for rule in [split, old] {
        let (dir, reg, _) = rules_export(&[("FTP", rule)]);
        let before = std::fs::read(&reg).unwrap();
        assert!(
            concise(dir.path()).contains("[passive-ports-blocked]"),
            "{rule}"
        );
        fix(dir.path(), true);
        assert_eq!(std::fs::read(&reg).unwrap(), before, "{rule}");
    }
}

/// The other direction: a rule opening more than IIS hands out is narrowed
/// to the range (`firewall-opens-unused-ports`, whose first fix is the firewall's).
#[test]
fn a_reg_firewall_rule_opening_unused_ports_is_narrowed() {
    let wide = PASSIVE_RULE.replace("5000-5050", "5000-5300");
    let (dir, reg, text) = rules_export(&[("FTP-In", FTP_RULE), ("FTP-Passive-In", &wide)]);
    assert!(concise(dir.path()).contains("[firewall-opens-unused-ports]"));
    fix(dir.path(), true);
    let expected = spliced(&text, "LPort2_10=5000-5300|", "LPort2_10=5000-5100|");
    assert_eq!(std::fs::read(&reg).unwrap(), utf16le_with_bom(&expected));
    assert!(!concise(dir.path()).contains("firewall-opens-unused-ports"));
}

/// The data `reg query` shows for a FirewallRules value after importing `reg`.
fn imported_rule(wine: &Wine, reg: &Path, name: &str) -> String {
    let dir = reg.parent().unwrap();
    wine.run(&["reg", "import", &win_path(reg)], dir);
    let key = RULES_KEY.replace("HKEY_LOCAL_MACHINE", "HKLM");
    let shown = wine.run(&["reg", "query", &key, "/v", name], dir);
    shown
        .lines()
        .find_map(|l| {
            l.split_once("REG_SZ")
                .map(|(_, data)| data.trim().to_owned())
        })
        .unwrap_or_default()
}

/// Wine's `reg import` reads the fixed UTF-16 export and stores the rewritten
/// rule string as REG_SZ.
#[test]
fn wine_imports_the_widened_firewall_rule() {
    let Some(wine) = Wine::find("rules") else {
        return;
    };
    let (dir, reg, _) = rules_export(&[("FTP-In", FTP_RULE), ("FTP-Passive-In", PASSIVE_RULE)]);
    let stored = |wine: &Wine| imported_rule(wine, &reg, "FTP-Passive-In");
    let unescaped = PASSIVE_RULE.replace("\\\\", "\\");
    assert_eq!(stored(&wine), unescaped, "before the fix");
    fix(dir.path(), true);
    assert_eq!(stored(&wine), unescaped.replace("5000-5050", "5000-5100"));
}

/// A rule string writing its range as `LPort=5000-5050`, which the firewall
/// service refuses: the key becomes `LPort2_10` by the safe fix, UTF-16 kept,
/// and with the rule loaded the range it opens reaches IIS.
#[test]
fn an_lport_range_is_renamed_lport2_10_in_utf16() {
    let case = "windows-firewall-rule-malformed/bad-lport-range-in-registry";
    let (dir, reg) = copied(case, "exports/firewall.reg");
    let text = utf16le_text(&std::fs::read(&reg).unwrap());
    assert_fixed(&fix(dir.path(), false), 1);
    let expected = spliced(&text, "|LPort=5000-5050|", "|LPort2_10=5000-5050|");
    assert_eq!(std::fs::read(&reg).unwrap(), utf16le_with_bom(&expected));
    let left = concise(dir.path());
    assert!(!left.contains("windows-firewall-rule-malformed"), "{left}");
    assert!(!left.contains("passive-ports-blocked"), "{left}");
}

/// Not offered where renaming would not make a rule that loads: a rule older
/// than v2.10 (no `LPort2_10`), or one with a second problem.
#[test]
fn an_lport_range_the_rename_cannot_mend_gets_no_fix() {
    let old = "v2.0|Action=Allow|Active=TRUE|Dir=In|Protocol=6|LPort=5000-5050|Name=FTP Passive|";
    let no_dir = "v2.10|Action=Allow|Active=TRUE|Protocol=6|LPort=5000-5050|Name=FTP Passive|";
    for rule in [old, no_dir] {
        let (dir, reg, _) = rules_export(&[("FTP-In", FTP_RULE), ("FTP-Passive-In", rule)]);
        assert!(
            concise(dir.path()).contains("windows-firewall-rule-malformed"),
            "{rule}"
        );
        let before = std::fs::read(&reg).unwrap();
        fix(dir.path(), true);
        assert_eq!(std::fs::read(&reg).unwrap(), before, "{rule}");
    }
}

// --- Firewall rules with a range written high-low ---------------------------------

/// The rule names of a concise report, one per finding, sorted.
fn rules_in(report: &str) -> Vec<String> {
    let mut rules: Vec<String> = report
        .lines()
        .filter_map(|l| {
            l.trim_end()
                .strip_suffix(']')?
                .rsplit_once('[')
                .map(|(_, r)| r.to_owned())
        })
        .collect();
    rules.sort();
    rules
}

/// Every finding left was there before, and `gone` is not among them.
fn assert_only_fewer(before: &str, after: &str, gone: &str) {
    let (was, now) = (rules_in(before), rules_in(after));
    assert!(!now.iter().any(|r| r == gone), "{after}");
    let mut left = was.clone();
    for r in &now {
        let at = left.iter().position(|w| w == r);
        assert!(
            at.is_some(),
            "new finding {r} after the fix:\n{after}\nbefore:\n{before}"
        );
        left.remove(at.unwrap_or(0));
    }
}

/// `text` written as `name` in a fresh directory.
fn written(name: &str, text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    (dir, path)
}

const NETSH_REVERSED: &str = "netsh advfirewall firewall add rule name=\"FTP\" dir=in action=allow protocol=TCP localport=21,5201-5001\r\n";

/// `localport=21,5201-5001` → `21,5001-5201`: only that range's ends change
/// places, CRLF kept; unsafe (the rule then loads and opens the ports).
#[test]
fn a_netsh_range_written_high_low_is_swapped_with_unsafe_fixes() {
    let (dir, cmd) = written("setup-ftp.cmd", NETSH_REVERSED);
    let before = concise(dir.path());
    assert!(
        before.contains("[windows-firewall-rule-malformed]"),
        "{before}"
    );
    fix(dir.path(), false);
    assert_eq!(
        std::fs::read_to_string(&cmd).unwrap(),
        NETSH_REVERSED,
        "unsafe"
    );
    assert_fixed(&fix(dir.path(), true), 1);
    let expected = spliced(NETSH_REVERSED, "=21,5201-5001", "=21,5001-5201");
    assert_eq!(std::fs::read_to_string(&cmd).unwrap(), expected);
    assert_only_fewer(
        &before,
        &concise(dir.path()),
        "windows-firewall-rule-malformed",
    );
}

const PS_REVERSED: &str = "New-NetFirewallRule -DisplayName FTP -Direction Inbound -Protocol TCP -LocalPort 21,\"5201-5001\" -Action Allow\n";

/// `-LocalPort 21,"5201-5001"`: the quotes and the other item stay as written.
#[test]
fn a_powershell_range_written_high_low_is_swapped_inside_its_quotes() {
    let (dir, ps1) = written("Setup-Ftp.ps1", PS_REVERSED);
    let before = concise(dir.path());
    fix(dir.path(), false);
    assert_eq!(
        std::fs::read_to_string(&ps1).unwrap(),
        PS_REVERSED,
        "unsafe"
    );
    assert_fixed(&fix(dir.path(), true), 1);
    let expected = spliced(PS_REVERSED, "21,\"5201-5001\"", "21,\"5001-5201\"");
    assert_eq!(std::fs::read_to_string(&ps1).unwrap(), expected);
    assert_only_fewer(
        &before,
        &concise(dir.path()),
        "windows-firewall-rule-malformed",
    );
}

/// The rule's fixture: once the rule loads, the range IIS hands out is open too.
#[test]
fn the_swapped_powershell_range_reaches_iis() {
    let case = "windows-firewall-rule-malformed/bad-new-netfirewallrule-reversed-range";
    let (dir, ps1) = copied(case, "Setup-Ftp.ps1");
    let text = std::fs::read_to_string(&ps1).unwrap();
    assert_fixed(&fix(dir.path(), true), 1);
    let expected = spliced(&text, "-LocalPort 5100-5000 ", "-LocalPort 5000-5100 ");
    assert_eq!(std::fs::read_to_string(&ps1).unwrap(), expected);
    let left = concise(dir.path());
    assert!(!left.contains("windows-firewall-rule-malformed"), "{left}");
    assert!(!left.contains("passive-ports-blocked"), "{left}");
}

/// A list that comes through a variable or a loop is the script's to change.
#[test]
fn a_range_from_a_variable_or_a_loop_is_not_swapped() {
    let batch = "set R=21,5201-5001\r\nnetsh advfirewall firewall add rule name=\"FTP\" dir=in action=allow protocol=TCP localport=%R%\r\nFOR %%p IN (5201-5001) DO netsh advfirewall firewall add rule name=\"P\" dir=in action=allow protocol=TCP localport=%%p\r\n";
    let ps = "$r = \"5201-5001\"\nNew-NetFirewallRule -DisplayName FTP -Direction Inbound -Protocol TCP -LocalPort 21,$r -Action Allow\n";
    for (name, text) in [("setup-ftp.cmd", batch), ("Setup-Ftp.ps1", ps)] {
        let (dir, path) = written(name, text);
        assert!(
            concise(dir.path()).contains("windows-firewall-rule-malformed"),
            "{name}"
        );
        fix(dir.path(), true);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), text, "{name}");
    }
}

// --- PassivePortRange under a key IIS does not read -------------------------------

const WRONG_KEY_CASE: &str = "registry-wrong-key/bad-w3svc";
const W3SVC: &str = "[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\W3SVC\\Parameters]";
const MSFTPSVC: &str =
    "[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\MSFTPSVC\\Parameters]";
const RANGE_LINE: &str = "\"PassivePortRange\"=\"5001-5201\"\r\n";

/// The W3SVC section holds only the value: it goes, and the value comes back
/// under a new MSFTPSVC\Parameters section, UTF-16LE with its BOM and CRLF.
#[test]
fn a_value_under_w3svc_moves_to_a_new_parameters_section() {
    let (dir, reg) = copied(WRONG_KEY_CASE, REG_FILE);
    let firewall = fixture(WRONG_KEY_CASE).join("firewall.cmd");
    std::fs::copy(firewall, dir.path().join("firewall.cmd")).unwrap();
    let bytes = std::fs::read(&reg).unwrap();
    let text = utf16le_text(&bytes);
    let before = concise(dir.path());
    fix(dir.path(), false);
    assert_eq!(std::fs::read(&reg).unwrap(), bytes, "unsafe");
    assert_fixed(&fix(dir.path(), true), 1);
    let expected = spliced(&text, &format!("{W3SVC}\r\n{RANGE_LINE}"), "")
        + &format!("{MSFTPSVC}\r\n{RANGE_LINE}");
    assert_eq!(std::fs::read(&reg).unwrap(), utf16le_with_bom(&expected));
    assert_only_fewer(&before, &concise(dir.path()), "registry-wrong-key");
}

const W3SVC_AND_PARAMETERS: &str = "Windows Registry Editor Version 5.00\r\n\r\n[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\W3SVC\\Parameters]\r\n\"MaxConnections\"=dword:00000010\r\n\"PassivePortRange\"=\"5001-5201\"\r\n\r\n[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\MSFTPSVC\\Parameters]\r\n\"AllowAnonymous\"=dword:00000001\r\n\r\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\Contoso]\r\n\"Owner\"=\"ops\"\r\n\r\n";

/// `text` as a regedit export (UTF-16LE, BOM) at exports/ftp-passive.reg.
fn reg_export(text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let reg = dir.path().join(REG_FILE);
    std::fs::create_dir_all(reg.parent().unwrap()).unwrap();
    std::fs::write(&reg, utf16le_with_bom(text)).unwrap();
    (dir, reg)
}

/// Into an existing Parameters section, after its last value: every other byte kept.
#[test]
fn a_utf16_crlf_reg_file_keeps_every_byte_but_the_moved_value_line() {
    let (dir, reg) = reg_export(W3SVC_AND_PARAMETERS);
    let before = concise(dir.path());
    assert_fixed(&fix(dir.path(), true), 1);
    let anonymous = "\"AllowAnonymous\"=dword:00000001\r\n";
    let expected = spliced(
        &spliced(W3SVC_AND_PARAMETERS, RANGE_LINE, ""),
        anonymous,
        &format!("{anonymous}{RANGE_LINE}"),
    );
    assert_eq!(std::fs::read(&reg).unwrap(), utf16le_with_bom(&expected));
    assert_only_fewer(&before, &concise(dir.path()), "registry-wrong-key");
}

/// Parameters already holds a range: the W3SVC copy is dead, and deleting it
/// changes nothing IIS reads (a safe fix); under a key IIS might read one day
/// (the service key itself) the help says so and nothing is deleted.
#[test]
fn a_dead_copy_beside_a_live_range_is_deleted_only_where_iis_never_reads() {
    let live = W3SVC_AND_PARAMETERS.replace(
        "\"AllowAnonymous\"=dword:00000001\r\n",
        "\"PassivePortRange\"=\"6001-6201\"\r\n",
    );
    let (dir, reg) = reg_export(&live);
    let before = concise(dir.path());
    assert_fixed(&fix(dir.path(), false), 1);
    let expected = spliced(&live, "\"PassivePortRange\"=\"5001-5201\"\r\n", "");
    assert_eq!(std::fs::read(&reg).unwrap(), utf16le_with_bom(&expected));
    assert_only_fewer(&before, &concise(dir.path()), "registry-wrong-key");

    let service = live.replace("\\W3SVC\\Parameters]", "\\MSFTPSVC]");
    let (dir, reg) = reg_export(&service);
    fix(dir.path(), true);
    assert_eq!(utf16le_text(&std::fs::read(&reg).unwrap()), service);
    let human = pasvlint(&[
        "check",
        "--isolated",
        "--no-color",
        dir.path().to_str().unwrap(),
    ]);
    let said = String::from_utf8_lossy(&human.stdout)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(said.contains("this copy is dead, delete it"), "{said}");
}

/// No move where it is not one clear edit: a key named PassivePortRange, a
/// dword (IIS would read it with the wrong type), a section the file deletes.
#[test]
fn a_misplaced_value_that_cannot_move_cleanly_is_left_alone() {
    let (dir, reg) = copied("registry-wrong-key/bad-value-as-subkey", REG_FILE);
    let bytes = std::fs::read(&reg).unwrap();
    fix(dir.path(), true);
    assert_eq!(std::fs::read(&reg).unwrap(), bytes);
    let dword = W3SVC_AND_PARAMETERS.replace("=\"5001-5201\"", "=dword:00001389");
    let deleted = format!(
        "{W3SVC_AND_PARAMETERS}[-HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\MSFTPSVC]\r\n"
    );
    for text in [dword, deleted] {
        let (dir, reg) = reg_export(&text);
        assert!(concise(dir.path()).contains("registry-wrong-key"), "{text}");
        fix(dir.path(), true);
        assert_eq!(utf16le_text(&std::fs::read(&reg).unwrap()), text);
    }
}

/// Wine's `reg import` of the fixed export stores the range under
/// MSFTPSVC\Parameters, where IIS reads it.
#[test]
fn wine_reads_the_moved_registry_value() {
    let Some(wine) = Wine::find("wrong-key") else {
        return;
    };
    let (dir, reg) = copied(WRONG_KEY_CASE, REG_FILE);
    assert_eq!(imported(&wine, &reg), "", "before the fix");
    fix(dir.path(), true);
    assert_eq!(imported(&wine, &reg), "REG_SZ 5001-5201");
}

// --- IIS passive ranges written where IIS does not read them -----------------------

const MISPLACED: &str = "iis-passive-range-misplaced";
const METABASE: &str = "WINDOWS/system32/inetsrv/MetaBase.xml";
const APPHOST: &str = "Windows/System32/inetsrv/config/applicationHost.config";

/// Fixes `case`'s `file` with or without unsafe fixes; the file before and after.
fn fixed_copy(case: &str, file: &str, unsafe_fixes: bool, findings: usize) -> (String, String) {
    let (dir, path) = copied(&format!("{MISPLACED}/{case}"), file);
    let before = std::fs::read_to_string(&path).unwrap();
    let report = concise(dir.path());
    if !unsafe_fixes {
        assert_fixed(&fix(dir.path(), false), findings);
    } else {
        fix(dir.path(), false);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), before, "unsafe");
        assert_fixed(&fix(dir.path(), true), findings);
    }
    assert_only_fewer(&report, &concise(dir.path()), MISPLACED);
    (before, std::fs::read_to_string(&path).unwrap())
}

/// IIS 6: the service key already sets a range, so the site's copy is dead:
/// `--fix` deletes the attribute line, CRLF and tabs elsewhere kept.
#[test]
fn a_dead_metabase_site_range_is_deleted() {
    let (before, after) = fixed_copy("bad-on-site-key", METABASE, false, 1);
    let expected = spliced(&before, "\r\n\t\tPassivePortRange=\"6001-6100\"", "");
    assert_eq!(after, expected);
}

/// IIS 6: a `<Custom>` child on the site key moves to the service key's start
/// tag, one attribute a line as MetaBase.xml writes them.
#[test]
fn a_metabase_custom_range_moves_to_the_service_key() {
    let (before, after) = fixed_copy("bad-custom-on-site", METABASE, true, 1);
    let custom = "\t<Custom\r\n\t\tName=\"PassivePortRange\"\r\n\t\tID=\"5016\"\r\n\t\tValue=\"5001-5201\"\r\n\t\tType=\"STRING\"\r\n\t\tUserType=\"IIS_MD_UT_SERVER\"\r\n\t\tAttributes=\"INHERIT\"\r\n\t/>\r\n";
    let expected = spliced(
        &spliced(&before, custom, ""),
        "MaxConnections=\"4294967295\"",
        "MaxConnections=\"4294967295\"\r\n\t\tPassivePortRange=\"5001-5201\"",
    );
    assert_eq!(after, expected);
}

/// IIS 6: the line pasted below the service tag's `>` goes into the tag.
#[test]
fn a_metabase_range_below_the_start_tag_moves_into_it() {
    // The fixture's one-port range would then be too small: a wider one here.
    let case = format!("{MISPLACED}/bad-line-below-start-tag");
    let text = std::fs::read_to_string(fixture(&case).join(METABASE)).unwrap();
    let text = text.replace("5001-5001", "5001-5201");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(METABASE);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, &text).unwrap();
    let report = concise(dir.path());
    fix(dir.path(), false);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), text, "unsafe");
    assert_fixed(&fix(dir.path(), true), 1);
    let expected = spliced(
        &spliced(&text, "\tPassivePortRange=\"5001-5201\"\r\n", ""),
        "ServerBindings=\":21:\"\r\n\t>\r\n</IIsFtpService>",
        "ServerBindings=\":21:\"\r\n\t\tPassivePortRange=\"5001-5201\"\r\n\t>\r\n</IIsFtpService>",
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), expected);
    assert_only_fewer(&report, &concise(dir.path()), MISPLACED);
}

/// IIS 7+: the server level sets both ends, so the site's pair is dead: both go.
#[test]
fn a_dead_site_data_channel_range_is_deleted() {
    let (before, after) = fixed_copy("bad-apphost-site-firewallsupport", APPHOST, false, 2);
    let expected = spliced(
        &before,
        " lowDataChannelPort=\"7000\" highDataChannelPort=\"7010\" />",
        " />",
    );
    assert_eq!(after, expected);
}

const SITE_DEFAULTS: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n<configuration>\r\n    <system.applicationHost>\r\n        <sites>\r\n            <siteDefaults>\r\n                <ftpServer>\r\n                    <firewallSupport lowDataChannelPort=\"7000\" highDataChannelPort=\"7010\" />\r\n                </ftpServer>\r\n            </siteDefaults>\r\n            <site name=\"Public FTP\" id=\"2\">\r\n                <bindings>\r\n                    <binding protocol=\"ftp\" bindingInformation=\"*:21:\" />\r\n                </bindings>\r\n            </site>\r\n        </sites>\r\n    </system.applicationHost>\r\n    <system.ftpServer>\r\n        <security>\r\n            <ssl controlChannelPolicy=\"SslAllow\" />\r\n        </security>\r\n    </system.ftpServer>\r\n</configuration>\r\n";
const DEFAULTS_PAIR: &str = " lowDataChannelPort=\"7000\" highDataChannelPort=\"7010\"";

/// `text` as applicationHost.config in a fresh directory.
fn apphost(text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(APPHOST);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, text).unwrap();
    (dir, path)
}

/// No server-level `<firewallSupport>`: one is made the first child of
/// `<system.ftpServer>`, indented as its other children, holding both ends.
#[test]
fn a_site_defaults_range_moves_into_a_new_server_level_element() {
    let (dir, path) = apphost(SITE_DEFAULTS);
    let report = concise(dir.path());
    fix(dir.path(), false);
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        SITE_DEFAULTS,
        "unsafe"
    );
    assert_fixed(&fix(dir.path(), true), 1);
    let expected = spliced(
        &spliced(SITE_DEFAULTS, DEFAULTS_PAIR, ""),
        "<system.ftpServer>\r\n",
        "<system.ftpServer>\r\n        <firewallSupport lowDataChannelPort=\"7000\" highDataChannelPort=\"7010\" />\r\n",
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), expected);
    assert_only_fewer(&report, &concise(dir.path()), MISPLACED);
}

/// A server-level `<firewallSupport />` without the range gets both attributes.
#[test]
fn a_site_defaults_range_moves_into_the_server_level_element() {
    let text = SITE_DEFAULTS.replace(
        "<system.ftpServer>\r\n",
        "<system.ftpServer>\r\n        <firewallSupport />\r\n",
    );
    let (dir, path) = apphost(&text);
    let report = concise(dir.path());
    assert_fixed(&fix(dir.path(), true), 1);
    let expected = spliced(
        &spliced(&text, DEFAULTS_PAIR, ""),
        "<firewallSupport />\r\n        <security>",
        "<firewallSupport lowDataChannelPort=\"7000\" highDataChannelPort=\"7010\" />\r\n        <security>",
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), expected);
    assert_only_fewer(&report, &concise(dir.path()), MISPLACED);
}

/// Without a server-level `<system.ftpServer>` there is no place to move to.
#[test]
fn a_misplaced_range_with_no_server_section_is_left_alone() {
    let text = SITE_DEFAULTS.replace(
        "    <system.ftpServer>\r\n        <security>\r\n            <ssl controlChannelPolicy=\"SslAllow\" />\r\n        </security>\r\n    </system.ftpServer>\r\n",
        "",
    );
    let (dir, path) = apphost(&text);
    assert!(concise(dir.path()).contains(MISPLACED));
    fix(dir.path(), true);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
}

/// A move that would leave the server level's low above its high (the server
/// sets low 8000, the site's high 7010 would join it) is not offered.
#[test]
fn a_move_that_would_reverse_the_server_range_is_left_alone() {
    let text = SITE_DEFAULTS
        .replace(
            "<system.ftpServer>\r\n",
            "<system.ftpServer>\r\n        <firewallSupport lowDataChannelPort=\"8000\" />\r\n",
        )
        .replace(
            " lowDataChannelPort=\"7000\" highDataChannelPort=\"7010\"",
            " highDataChannelPort=\"7010\"",
        );
    let (dir, path) = apphost(&text);
    assert!(concise(dir.path()).contains(MISPLACED));
    fix(dir.path(), true);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
}

/// The safe deletion of a dead copy takes only the value: the section, though
/// left empty, stays (regedit would still create its key).
#[test]
fn a_dead_copy_alone_in_its_section_leaves_the_section() {
    let live = W3SVC_AND_PARAMETERS
        .replace("\"MaxConnections\"=dword:00000010\r\n", "")
        .replace(
            "\"AllowAnonymous\"=dword:00000001\r\n",
            "\"PassivePortRange\"=\"6001-6201\"\r\n",
        );
    let (dir, reg) = reg_export(&live);
    assert_fixed(&fix(dir.path(), false), 1);
    let expected = spliced(&live, "\"PassivePortRange\"=\"5001-5201\"\r\n", "");
    assert_eq!(utf16le_text(&std::fs::read(&reg).unwrap()), expected);
}

/// A `ControlSet002` Parameters section is not where the running system reads:
/// the moved value goes into a new `CurrentControlSet` section at the end.
#[test]
fn a_value_is_not_moved_into_a_numbered_control_set() {
    let text = W3SVC_AND_PARAMETERS.replace(
        "CurrentControlSet\\Services\\MSFTPSVC",
        "ControlSet002\\Services\\MSFTPSVC",
    );
    let (dir, reg) = reg_export(&text);
    fix(dir.path(), true);
    let after = utf16le_text(&std::fs::read(&reg).unwrap());
    let section = "[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\MSFTPSVC\\Parameters]\r\n\"PassivePortRange\"=\"5001-5201\"\r\n";
    assert!(after.trim_end().ends_with(section.trim_end()), "{after}");
    assert!(after.contains("ControlSet002\\Services\\MSFTPSVC\\Parameters]\r\n\"AllowAnonymous\"=dword:00000001\r\n"), "{after}");
}

/// Copies `case`, checks `--fix` alone leaves `file` as it was, then that
/// `--fix --unsafe-fixes` fixes one finding by replacing `from` with `to` and
/// nothing else; the copy, for what a test checks next.
fn unsafe_single_edit(
    case: &str,
    file: &str,
    from: &str,
    to: &str,
) -> (tempfile::TempDir, PathBuf) {
    let (dir, path) = copied(case, file);
    let before = std::fs::read_to_string(&path).unwrap();
    fix(dir.path(), false);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), before, "unsafe");
    assert_fixed(&fix(dir.path(), true), 1);
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        spliced(&before, from, to)
    );
    (dir, path)
}

/// IIS 7+'s disputed low end 1024 raised to 1025 only with `--unsafe-fixes`
/// (IIS then hands out one port fewer): one byte changes and the finding goes.
#[test]
fn a_data_channel_range_starting_at_1024_starts_at_1025() {
    let (dir, _) = unsafe_single_edit(
        "iis-passive-range-starts-at-1024/bad-low-1024",
        APPHOST,
        "lowDataChannelPort=\"1024\"",
        "lowDataChannelPort=\"1025\"",
    );
    assert!(!concise(dir.path()).contains("iis-passive-range-starts-at-1024"));
}

/// A path to adsutil.vbs split by spaces is written as one path, the verb glued
/// to its path given its blank back, only with `--unsafe-fixes` (the command then
/// sets the range): the CRLF file otherwise byte for byte, and it lints clean.
#[test]
fn a_split_adsutil_path_is_joined() {
    let (dir, _) = unsafe_single_edit(
        "iis-script-command-malformed/bad-garbled-path",
        "setup-ftp.cmd",
        "c: \\ Inetpub \\ adminscripts \\ adsutil. vbs set/msftpsvc",
        "c:\\Inetpub\\adminscripts\\adsutil.vbs set /msftpsvc",
    );
    assert!(concise(dir.path()).is_empty(), "{}", concise(dir.path()));
}

/// `PassivePortRange` set at a site's path (which IIS ignores) is set at
/// `/MSFTPSVC` instead, only with `--unsafe-fixes` and only where the script sets
/// no service-level range of its own.
#[test]
fn a_site_level_adsutil_range_is_set_at_the_service() {
    let (dir, cmd) = unsafe_single_edit(
        "iis-script-command-malformed/bad-site-level-range",
        "setup-ftp.cmd",
        "MSFTPSVC/1/PassivePortRange",
        "MSFTPSVC/PassivePortRange",
    );
    assert!(concise(dir.path()).is_empty(), "{}", concise(dir.path()));
    let before = std::fs::read_to_string(
        fixture("iis-script-command-malformed/bad-site-level-range").join("setup-ftp.cmd"),
    )
    .unwrap();

    let both = format!(
        "{before}cscript //nologo C:\\Inetpub\\AdminScripts\\adsutil.vbs set MSFTPSVC/PassivePortRange \"5001-5201\"\r\n"
    );
    std::fs::write(&cmd, &both).unwrap();
    assert!(concise(dir.path()).contains("iis-script-command-malformed"));
    fix(dir.path(), true);
    assert_eq!(std::fs::read_to_string(&cmd).unwrap(), both);
}
