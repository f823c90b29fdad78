//! `check --fix` and `--diff`: each fix lands byte-exact in the file's own encoding
//! and line endings, the fixed findings are gone, and the real vsftpd starts with
//! every vsftpd fixture pasvlint fixed.

mod support {
    #![allow(dead_code)]
    pub mod cases;
    pub mod netns;
    pub mod requirements;
}

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use support::requirements::ready;

fn pasvlint(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pasvlint"))
        .args(args)
        .output()
        .expect("run pasvlint")
}

fn concise(path: &Path) -> String {
    let out = pasvlint(&[
        "check",
        "--isolated",
        "--format",
        "concise",
        path.to_str().unwrap(),
    ]);
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn fix_edits_only_what_the_findings_name_and_keeps_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("vsftpd.conf");
    let before = "# managed\r\nListen=YES\r\nanonymous_enable=YES\r\nPasv_min_port=50000\r\npasv_max_port=50010\r\n";
    std::fs::write(&conf, before).unwrap();
    std::fs::set_permissions(&conf, std::fs::Permissions::from_mode(0o640)).unwrap();
    let root = dir.path().to_str().unwrap();

    let diff = pasvlint(&["check", "--isolated", "--diff", root]);
    assert_eq!(
        diff.status.code(),
        Some(1),
        "--diff exits 1 when it has changes"
    );
    let shown = String::from_utf8_lossy(&diff.stdout);
    assert!(
        shown.contains("\n-Listen=YES\r\n") && shown.contains("\n+listen=YES\n"),
        "{shown:?}"
    );
    assert_eq!(
        std::fs::read_to_string(&conf).unwrap(),
        before,
        "--diff changes nothing"
    );

    let fixed = pasvlint(&["check", "--isolated", "--fix", "--format", "concise", root]);
    assert!(
        String::from_utf8_lossy(&fixed.stderr).contains("fixed 3 findings in 1 file"),
        "{}",
        String::from_utf8_lossy(&fixed.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(&conf).unwrap(),
        "# managed\nlisten=YES\nanonymous_enable=YES\npasv_min_port=50000\npasv_max_port=50010\n"
    );
    let mode = std::fs::metadata(&conf).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o640, "permissions kept");
    let left = concise(dir.path());
    assert!(
        !left.contains("vsftpd-unknown-directive") && !left.contains("vsftpd-bad-boolean"),
        "{left}"
    );
    assert!(
        left.contains("passive-range-too-small"),
        "the rest is still reported: {left}"
    );
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["vsftpd.conf"], "no temporary file left behind");
}

/// `--fix-only` fixes like `--fix` but reports nothing and exits 0 with findings left.
#[test]
fn fix_only_fixes_and_reports_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("vsftpd.conf");
    std::fs::write(
        &conf,
        "Listen=YES\npasv_min_port=50000\npasv_max_port=50001\n",
    )
    .unwrap();
    let root = dir.path().to_str().unwrap();
    let out = pasvlint(&["check", "--isolated", "--fix-only", root]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "", "no report");
    assert!(String::from_utf8_lossy(&out.stderr).contains("fixed 1 finding in 1 file"));
    assert_eq!(
        std::fs::read_to_string(&conf).unwrap(),
        "listen=YES\npasv_min_port=50000\npasv_max_port=50001\n"
    );
    let left = concise(dir.path());
    assert!(left.contains("passive-range-too-small"), "{left}");
    let again = pasvlint(&["check", "--isolated", "--fix-only", "--diff", root]);
    assert_eq!(
        again.status.code(),
        Some(2),
        "--fix-only and --diff conflict"
    );
}

#[test]
fn a_fix_is_never_applied_to_stdin() {
    let out = pasvlint(&[
        "check",
        "--isolated",
        "--fix",
        "--stdin-filename",
        "vsftpd.conf",
        "-",
    ]);
    assert_eq!(out.status.code(), Some(2));
}

/// Every vsftpd fixture that carries a fix, fixed in a copy: vsftpd starts with it.
#[test]
fn vsftpd_starts_with_every_fixed_fixture() {
    if !ready(
        "vsftpd_starts_with_every_fixed_fixture",
        &["/usr/sbin/vsftpd"],
        &[],
    ) {
        return;
    }
    let mut fixed = 0;
    let cases = support::cases::rule_cases();
    for (case, unsafe_too) in cases.iter().flat_map(|c| [(c, false), (c, true)]) {
        let Some(conf) = vsftpd_conf(case) else {
            continue;
        };
        let dir = tempfile::tempdir().unwrap();
        let copy = dir.path().join("vsftpd.conf");
        std::fs::copy(&conf, &copy).unwrap();
        let before = std::fs::read(&copy).unwrap();
        let root = dir.path().to_str().unwrap();
        let mut args = vec!["check", "--isolated", "--fix", "--select", "vsftpd", root];
        if unsafe_too {
            args.push("--unsafe-fixes");
        }
        pasvlint(&args);
        if std::fs::read(&copy).unwrap() == before {
            continue;
        }
        fixed += 1;
        let left = concise(dir.path());
        let fatal = left
            .lines()
            .any(|l| l.contains(": error: vsftpd refuses to start"));
        let said = vsftpd_says(&copy, dir.path());
        assert_eq!(
            said.contains("not configured for standalone"),
            !fatal,
            "{}: vsftpd said {said:?} of the fixed file; pasvlint: {left}",
            case.display()
        );
    }
    assert!(fixed > 0, "no vsftpd fixture carries a fix");
}

fn vsftpd_conf(case: &Path) -> Option<std::path::PathBuf> {
    ["vsftpd.conf", "etc/vsftpd.conf", "etc/vsftpd/vsftpd.conf"]
        .iter()
        .map(|p| case.join(p))
        .find(|p| p.is_file())
}

/// What vsftpd writes on fd 0 when started on `conf` with listening off.
fn vsftpd_says(conf: &Path, dir: &Path) -> String {
    let out = dir.join("out");
    let fd0 = std::fs::File::options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(&out)
        .unwrap();
    Command::new("/usr/sbin/vsftpd")
        .arg(conf)
        .arg("-olisten=NO")
        .arg("-olisten_ipv6=NO")
        .stdin(Stdio::from(fd0))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    String::from_utf8_lossy(&std::fs::read(out).unwrap_or_default()).into_owned()
}

#[test]
fn moving_the_range_to_the_open_ports_is_applied_only_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let case = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/rules/passive-ports-blocked/bad-firewalld-range-short/etc");
    let etc = dir.path().join("etc");
    std::fs::create_dir_all(etc.join("firewalld/zones")).unwrap();
    std::fs::copy(case.join("vsftpd.conf"), etc.join("vsftpd.conf")).unwrap();
    std::fs::copy(
        case.join("firewalld/zones/public.xml"),
        etc.join("firewalld/zones/public.xml"),
    )
    .unwrap();
    let root = dir.path().to_str().unwrap();
    let safe_only = pasvlint(&["check", "--isolated", "--diff", root]);
    assert_eq!(safe_only.status.code(), Some(0), "no safe fix here");
    let fixed = pasvlint(&["check", "--isolated", "--fix", "--unsafe-fixes", root]);
    assert!(fixed.status.code().is_some_and(|c| c <= 1));
    let conf = std::fs::read_to_string(etc.join("vsftpd.conf")).unwrap();
    assert!(
        conf.contains("\npasv_min_port=40000\npasv_max_port=40050\n"),
        "{conf}"
    );
    assert!(!concise(dir.path()).contains("passive-ports-blocked"));
}

#[test]
fn fixes_that_overlap_land_in_later_passes() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("vsftpd.conf");
    std::fs::write(
        &conf,
        "listen=YES\r\nmax_clients=50\r\nanonymous_enable=NO\r\nmax_clients=50\r\nmax_per_ip=5\r\nmax_per_ip=6\r\n",
    )
    .unwrap();
    let root = dir.path().to_str().unwrap();
    pasvlint(&["check", "--isolated", "--fix", root]);
    assert_eq!(
        std::fs::read_to_string(&conf).unwrap(),
        "listen=YES\nanonymous_enable=NO\nmax_clients=50\nmax_per_ip=5\nmax_per_ip=6\n",
        "CRLF converted, then the same-valued duplicate deleted; the differing one is unsafe"
    );
    pasvlint(&["check", "--isolated", "--fix", "--unsafe-fixes", root]);
    assert_eq!(
        std::fs::read_to_string(&conf).unwrap(),
        "listen=YES\nanonymous_enable=NO\nmax_clients=50\nmax_per_ip=6\n"
    );
}

/// The multiport fix writes the same ports in fewer slots: the real
/// iptables-restore refuses the dump before the fix and loads it after, and the
/// kernel then holds one rule with exactly the compacted list.
#[test]
fn a_compacted_multiport_list_loads_in_the_kernel() {
    if !ready(
        "a_compacted_multiport_list_loads_in_the_kernel",
        &[],
        &["iptables-restore", "iptables-save", "ip"],
    ) {
        return;
    }
    let case = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/rules/iptables-multiport-too-many-ports/bad-passive-range-port-by-port");
    let dir = tempfile::tempdir().unwrap();
    let dump = dir.path().join("etc/iptables/rules.v4");
    std::fs::create_dir_all(dump.parent().unwrap()).unwrap();
    std::fs::copy(case.join("etc/iptables/rules.v4"), &dump).unwrap();
    let netns = support::netns::Netns::create(support::netns::unique_name("fixmp")).unwrap();
    assert!(
        netns.load_iptables(&dump).is_err(),
        "the kernel refuses 16 slots"
    );
    let out = pasvlint(&["check", "--isolated", "--fix", dir.path().to_str().unwrap()]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("fixed 1 finding in 1 file"),
        "{out:?}"
    );
    netns.load_iptables(&dump).expect("the fixed dump loads");
    let saved = netns.command("iptables-save").output().unwrap();
    let saved = String::from_utf8_lossy(&saved.stdout);
    assert!(
        saved
            .lines()
            .any(|l| l == "-A INPUT -p tcp -m multiport --dports 21,9981:9995 -j ACCEPT"),
        "{saved}"
    );
}

/// The firewalls of the server-side cases: port 21 and 40000-40050 open, the
/// rest closed, so a server handing out 40000-40100 has 40051-40100 blocked.
const IPTABLES_40050: &str = "*filter\n:INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n-A INPUT -i lo -j ACCEPT\n-A INPUT -m state --state ESTABLISHED,RELATED -j ACCEPT\n-A INPUT -p tcp -m multiport --dports 21,40000:40050 -j ACCEPT\nCOMMIT\n";
const NETSH_40050: &str = "netsh advfirewall set allprofiles firewallpolicy blockinbound,allowoutbound\r\nnetsh advfirewall firewall add rule name=\"FTP\" dir=in action=allow protocol=TCP localport=21 profile=any\r\nnetsh advfirewall firewall add rule name=\"FTP passive\" dir=in action=allow protocol=TCP localport=40000-40050 profile=any\r\n";

fn utf16le_with_bom(text: &str) -> Vec<u8> {
    let mut bytes = vec![0xFF, 0xFE];
    bytes.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    bytes
}

/// Each server product's range setting moved to the open ports by the unsafe
/// fix: the file is byte for byte the same but for the numbers, in its own
/// encoding and line endings, and the finding is gone.
#[test]
fn every_server_range_moves_to_the_open_ports_in_its_own_syntax() {
    let fixture =
        |p: &str| std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(p)).unwrap();
    let metabase = fixture("fixtures/formats/iis/MetaBase.xml");
    let apphost = fixture("fixtures/formats/iis/applicationHost.config");
    let reg = "Windows Registry Editor Version 5.00\r\n\r\n[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\MSFTPSVC\\Parameters]\r\n\"PassivePortRange\"=\"40000-40100\"\r\n\r\n";
    let linux = ("etc/iptables/rules.v4", IPTABLES_40050.as_bytes().to_vec());
    let windows = ("firewall.cmd", NETSH_40050.as_bytes().to_vec());
    type Case = (&'static str, Vec<u8>, Vec<u8>, (&'static str, Vec<u8>));
    let cases: Vec<Case> = vec![
        (
            "etc/vsftpd.conf",
            b"listen=YES\npasv_min_port=40000\r\npasv_max_port=40100\nmax_clients=20\n".to_vec(),
            b"listen=YES\npasv_min_port=40000\r\npasv_max_port=40050\nmax_clients=20\n".to_vec(),
            linux.clone(),
        ),
        (
            "etc/proftpd/proftpd.conf",
            b"ServerType standalone\nPort 21\nMaxInstances 20\n  PassivePorts\t40000   40100 # range\n".to_vec(),
            b"ServerType standalone\nPort 21\nMaxInstances 20\n  PassivePorts\t40000   40050 # range\n".to_vec(),
            linux.clone(),
        ),
        (
            "etc/pure-ftpd.conf",
            b"MaxClientsNumber 20\nPassivePortRange 40000 40100\n".to_vec(),
            b"MaxClientsNumber 20\nPassivePortRange 40000 40050\n".to_vec(),
            linux.clone(),
        ),
        (
            "WINDOWS/system32/inetsrv/MetaBase.xml",
            metabase.replace("5001-5201", "40000-40100").into_bytes(),
            metabase.replace("5001-5201", "40000-40050").into_bytes(),
            windows.clone(),
        ),
        (
            "Windows/System32/inetsrv/config/applicationHost.config",
            apphost.replace("\"50000\"", "\"40000\"").replace("\"50399\"", "\"40100\"").into_bytes(),
            apphost.replace("\"50000\"", "\"40000\"").replace("\"50399\"", "\"40050\"").into_bytes(),
            windows.clone(),
        ),
        (
            "exports/msftpsvc.reg",
            utf16le_with_bom(reg),
            utf16le_with_bom(&reg.replace("40100", "40050")),
            windows.clone(),
        ),
    ];
    for (path, before, want, (firewall, rules)) in cases {
        let dir = tempfile::tempdir().unwrap();
        for (p, bytes) in [(path, &before), (firewall, &rules)] {
            let file = dir.path().join(p);
            std::fs::create_dir_all(file.parent().unwrap()).unwrap();
            std::fs::write(file, bytes).unwrap();
        }
        let found = concise(dir.path());
        assert!(found.contains("[passive-ports-blocked]"), "{path}: {found}");
        let root = dir.path().to_str().unwrap();
        pasvlint(&["check", "--isolated", "--fix", "--unsafe-fixes", root]);
        let after = std::fs::read(dir.path().join(path)).unwrap();
        assert!(
            after == want,
            "{path}:\n{}",
            String::from_utf8_lossy(&after)
        );
        let rest = concise(dir.path());
        assert!(!rest.contains("[passive-ports-blocked]"), "{path}: {rest}");
    }
}

/// An image's range variables in docker-compose move to the published ports.
#[test]
fn an_image_range_moves_to_the_published_ports() {
    let dir = tempfile::tempdir().unwrap();
    let compose = dir.path().join("compose.yaml");
    let text = "services:\n  ftp:\n    image: fauria/vsftpd\n    environment:\n      PASV_MIN_PORT: 40000\n      PASV_MAX_PORT: \"40100\"\n    ports:\n      - \"21:21\"\n      - \"40000-40050:40000-40050\"\n";
    std::fs::write(&compose, text).unwrap();
    assert!(concise(dir.path()).contains("[passive-ports-blocked]"));
    let root = dir.path().to_str().unwrap();
    pasvlint(&["check", "--isolated", "--fix", "--unsafe-fixes", root]);
    assert_eq!(
        std::fs::read_to_string(&compose).unwrap(),
        text.replace("\"40100\"", "\"40050\"")
    );
    assert!(!concise(dir.path()).contains("[passive-ports-blocked]"));
}

/// A suppression that matches nothing is removed with its line (or, trailing,
/// with the blanks before it); one naming an unknown rule is left for a person.
#[test]
fn unused_suppressions_are_removed_and_nothing_else() {
    let fixed = |name: &str, text: &str| {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join(name);
        std::fs::write(&file, text).unwrap();
        pasvlint(&["check", "--isolated", "--fix", dir.path().to_str().unwrap()]);
        let left = concise(dir.path());
        assert!(!left.contains("matches no finding"), "{left}");
        std::fs::read_to_string(&file).unwrap()
    };
    assert_eq!(
        fixed(
            "vsftpd.conf",
            "listen=YES\r\n# pasvlint: ignore passive-ports-blocked -- old ticket\r\npasv_enable=NO\r\n# pasvlint: ignore no-such-rule -- typo?\r\nanonymous_enable=NO\r\n",
        ),
        "listen=YES\npasv_enable=NO\n# pasvlint: ignore no-such-rule -- typo?\nanonymous_enable=NO\n",
        "the CRLF fix ran too; the unknown rule's comment stays"
    );
    assert_eq!(
        fixed(
            "firewall.sh",
            "#!/bin/sh\niptables -P INPUT ACCEPT  # pasvlint: ignore firewall-allows-everything -- lab host\necho done\n",
        ),
        "#!/bin/sh\niptables -P INPUT ACCEPT\necho done\n"
    );
}

/// A variable the image never reads, renamed to the one its entrypoint reads:
/// in the map and the list syntax, nothing else of the file changes.
#[test]
fn an_image_variable_is_renamed_to_the_one_the_entrypoint_reads() {
    for (text, want) in [
        (
            "services:\n  ftp:\n    image: fauria/vsftpd\n    environment:\n      PASV_ADDRESS: ftp.example.com\n      PASV_ADDRESS_RESOLVE: \"YES\"\n",
            "services:\n  ftp:\n    image: fauria/vsftpd\n    environment:\n      PASV_ADDRESS: ftp.example.com\n      PASV_ADDR_RESOLVE: \"YES\"\n",
        ),
        (
            "services:\n  ftp:\n    image: stilliard/pure-ftpd\n    environment:\n      - PUBLIC_HOST=ftp.example.com\n",
            "services:\n  ftp:\n    image: stilliard/pure-ftpd\n    environment:\n      - PUBLICHOST=ftp.example.com\n",
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let compose = dir.path().join("compose.yaml");
        std::fs::write(&compose, text).unwrap();
        assert!(concise(dir.path()).contains("[compose-env-ignored]"));
        pasvlint(&["check", "--isolated", "--fix", dir.path().to_str().unwrap()]);
        assert_eq!(std::fs::read_to_string(&compose).unwrap(), want);
        assert!(!concise(dir.path()).contains("[compose-env-ignored]"));
    }
}

/// A copy of `case`'s tree fixed (plain `--fix` first; for an unsafe fix, that
/// must leave `file` as it was, then `--unsafe-fixes`): `file` differs from the
/// fixture only by `from` written `to`, and `rule` no longer fires.
fn assert_one_edit(rule: &str, case: &str, file: &str, (from, to): (&str, &str), safe: bool) {
    let dir = copy_tree(&format!("fixtures/rules/{rule}/{case}"));
    let path = dir.path().join(file);
    let before = std::fs::read_to_string(&path).unwrap();
    let root = dir.path().to_str().unwrap();
    pasvlint(&["check", "--isolated", "--fix", root]);
    if !safe {
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            before,
            "{case}: unsafe"
        );
        pasvlint(&["check", "--isolated", "--fix", "--unsafe-fixes", root]);
    }
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        before.replacen(from, to, 1),
        "{case}"
    );
    assert!(!concise(dir.path()).contains(rule), "{case}");
}

/// A copy of a fixture tree in a temporary folder.
fn copy_tree(fixture: &str) -> tempfile::TempDir {
    let from = Path::new(env!("CARGO_MANIFEST_DIR")).join(fixture);
    let dir = tempfile::tempdir().unwrap();
    for entry in walkdir::WalkDir::new(&from) {
        let entry = entry.unwrap();
        let to = dir.path().join(entry.path().strip_prefix(&from).unwrap());
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&to).unwrap();
        } else {
            std::fs::copy(entry.path(), &to).unwrap();
        }
    }
    dir
}

/// Files of two trees that differ, by relative path.
fn differing(a: &Path, b: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for entry in walkdir::WalkDir::new(a).sort_by_file_name() {
        let entry = entry.unwrap();
        if entry.file_type().is_file() {
            let rel = entry.path().strip_prefix(a).unwrap();
            if std::fs::read(entry.path()).ok() != std::fs::read(b.join(rel)).ok() {
                out.push(rel.display().to_string());
            }
        }
    }
    out
}

/// The unsafe fix turns ufw on: the fixed tree is the rule's good fixture byte
/// for byte, and the safe run leaves it off.
#[test]
fn ufw_is_turned_on_only_when_asked() {
    let dir = copy_tree("fixtures/rules/ufw-not-enabled/bad-enabled-no");
    let root = dir.path().to_str().unwrap();
    let good =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/rules/ufw-not-enabled/ok-enabled-yes");
    pasvlint(&["check", "--isolated", "--fix", root]);
    assert_eq!(differing(dir.path(), &good), ["etc/ufw/ufw.conf"]);
    pasvlint(&["check", "--isolated", "--fix", "--unsafe-fixes", root]);
    assert_eq!(differing(dir.path(), &good), Vec::<String>::new());
    assert!(!concise(dir.path()).contains("[ufw-not-enabled]"));
}

/// The unsafe fix inserts the neighbour-discovery rule on a line of its own
/// after the chain's policy; the real `nft -c` accepts the fixed file.
#[test]
fn neighbour_discovery_is_accepted_first_and_nft_loads_it() {
    let dir = copy_tree("fixtures/rules/nftables-icmpv6-dropped/bad-example");
    let root = dir.path().to_str().unwrap();
    // The case also holds the vsftpd.conf that listens for IPv6 clients.
    let file = dir.path().join("etc/nftables.conf");
    let before = std::fs::read_to_string(&file).unwrap();
    pasvlint(&["check", "--isolated", "--fix", "--unsafe-fixes", root]);
    let policy = "        type filter hook input priority 0; policy drop;\n";
    let want = before.replace(
        policy,
        &format!("{policy}        icmpv6 type {{ nd-neighbor-solicit, nd-neighbor-advert, nd-router-advert }} accept\n"),
    );
    assert_ne!(want, before, "the fixture has the policy line");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), want);
    assert!(!concise(dir.path()).contains("[nftables-icmpv6-dropped]"));
    if !ready(
        "neighbour_discovery_is_accepted_first_and_nft_loads_it",
        &["/usr/sbin/nft", "/usr/bin/unshare"],
        &[],
    ) {
        return;
    }
    let checked = Command::new("unshare")
        .args(["-n", "nft", "-c", "-f"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        checked.status.success(),
        "nft -c: {}",
        String::from_utf8_lossy(&checked.stderr)
    );
}

/// Ends written the wrong way round are swapped only when asked.
#[test]
fn a_reversed_vsftpd_range_is_swapped_only_when_asked() {
    let dir = copy_tree("fixtures/rules/vsftpd-passive-range-invalid/bad-min-above-max");
    let conf = dir.path().join("etc/vsftpd.conf");
    let before = std::fs::read_to_string(&conf).unwrap();
    let root = dir.path().to_str().unwrap();
    pasvlint(&["check", "--isolated", "--fix", root]);
    assert_eq!(std::fs::read_to_string(&conf).unwrap(), before);
    pasvlint(&["check", "--isolated", "--fix", "--unsafe-fixes", root]);
    assert_eq!(
        std::fs::read_to_string(&conf).unwrap(),
        "listen=YES\nmax_clients=50\npasv_min_port=9981\npasv_max_port=9990\n"
    );
    assert!(!concise(dir.path()).contains("[vsftpd-passive-range-invalid]"));
}

/// FileZilla Server's custom range item moves to the ports the netsh script opens.
#[test]
fn a_filezilla_range_moves_to_the_open_ports() {
    let dir = copy_tree("fixtures/rules/passive-ports-blocked/bad-filezilla-range-not-opened");
    let xml = dir.path().join("FileZilla Server/FileZilla Server.xml");
    let before = std::fs::read_to_string(&xml).unwrap();
    let root = dir.path().to_str().unwrap();
    pasvlint(&["check", "--isolated", "--fix", "--unsafe-fixes", root]);
    let want = before.replace(
        "\"Custom PASV max port\" type=\"numeric\">50100<",
        "\"Custom PASV max port\" type=\"numeric\">50050<",
    );
    assert_ne!(want, before);
    assert_eq!(std::fs::read_to_string(&xml).unwrap(), want);
    assert!(!concise(dir.path()).contains("[passive-ports-blocked]"));
}

/// README's table of fixes is what the rules do: over every rule fixture, a rule
/// marked safe offers a fix `--diff` shows, one marked unsafe offers one only
/// with `--unsafe-fixes`, and a rule the table leaves out offers none.
#[test]
fn the_readme_table_of_fixes_is_what_the_rules_do() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let section = readme
        .split("### Fixes")
        .nth(1)
        .and_then(|s| s.split("\n### ").next())
        .expect("a Fixes section");
    let mut table: std::collections::BTreeMap<String, (bool, bool)> = Default::default();
    for row in section.lines().filter(|l| l.starts_with("| `")) {
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        let rule = cells[1].trim_matches('`').to_owned();
        let safe = cells[cells.len() - 2];
        table.insert(rule, (safe.contains("yes"), safe.contains("no")));
    }
    assert!(table.len() > 10, "{table:?}");
    let mut seen: std::collections::BTreeMap<String, (bool, bool)> = Default::default();
    for case in support::cases::rule_cases() {
        let rule = case
            .parent()
            .and_then(|p| p.file_name())
            .unwrap()
            .to_string_lossy()
            .into_owned();
        // A suppression is judged only beside the rules it names: run them all and
        // keep the diff's removed suppression comments.
        let judged_alone = rule != "unused-suppression";
        let diff = |unsafe_too: bool| {
            let mut args = vec!["check", "--isolated", "--diff"];
            if judged_alone {
                args.extend(["--select", rule.as_str()]);
            }
            if unsafe_too {
                args.push("--unsafe-fixes");
            }
            args.push(case.to_str().unwrap());
            let out = String::from_utf8_lossy(&pasvlint(&args).stdout).into_owned();
            if judged_alone {
                out
            } else {
                out.lines()
                    .filter(|l| l.starts_with('-') && l.contains("pasvlint: ignore"))
                    .collect::<Vec<_>>()
                    .join("\n")
            }
        };
        let (safe, all) = (diff(false), diff(true));
        let entry = seen.entry(rule).or_default();
        entry.0 |= !safe.is_empty();
        entry.1 |= all != safe;
    }
    let mut wrong = Vec::new();
    for (rule, &(safe, beyond)) in &seen {
        let claimed = table.get(rule).copied().unwrap_or((false, false));
        if (safe, beyond) != claimed {
            wrong.push(format!(
                "{rule}: README says safe {}, unsafe {}; the fixtures show safe {safe}, unsafe {beyond}",
                claimed.0, claimed.1
            ));
        }
    }
    for rule in table.keys().filter(|r| !seen.contains_key(*r)) {
        wrong.push(format!("{rule}: in README's table, but no fixture folder"));
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// The seed's firewall opens 9981-9990 for a vsftpd handing out 9981-9986: the
/// firewall's fix (narrowing) comes first; the server's (widening) second.
#[test]
fn unused_ports_are_closed_first_and_used_second() {
    let dir = copy_tree("fixtures/rules/firewall-opens-unused-ports/bad-seed-linux-passive");
    let out = pasvlint(&[
        "check",
        "--isolated",
        "--format",
        "sarif",
        dir.path().to_str().unwrap(),
    ]);
    let sarif: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let titles: Vec<String> = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["ruleId"] == "firewall-opens-unused-ports")
        .flat_map(|r| r["fixes"].as_array().cloned().unwrap_or_default())
        .map(|f| f["description"]["text"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        titles,
        [
            "open only 21,9981-9986 in the firewall rule",
            "hand out all of 9981-9990, which the firewall opens"
        ]
    );
    let conf = dir.path().join("etc/vsftpd.conf");
    let before = std::fs::read_to_string(&conf).unwrap();
    pasvlint(&[
        "check",
        "--isolated",
        "--fix",
        "--unsafe-fixes",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(
        std::fs::read_to_string(&conf).unwrap(),
        before,
        "the first fix is the firewall's"
    );
    let rules = std::fs::read_to_string(dir.path().join("etc/iptables/rules.v4")).unwrap();
    assert!(rules.contains("--dports 21,9981:9986 "), "{rules}");
}

/// A range too small for the sessions is widened to what the help names, in
/// the server's own setting, only with `--unsafe-fixes` and only where the
/// firewall already opens the wider range; the finding is gone and the real
/// vsftpd starts with the file.
#[test]
fn a_range_too_small_is_widened_to_what_the_help_says() {
    let conf =
        "listen=YES\npasv_enable=YES\npasv_min_port=50000\npasv_max_port=50099\nmax_clients=200\n";
    let dump = "*filter\n:INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n-A INPUT -p tcp -m multiport --dports 21,50000:50399 -j ACCEPT\nCOMMIT\n";
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("etc/iptables")).unwrap();
    let path = dir.path().join("etc/vsftpd.conf");
    std::fs::write(&path, conf).unwrap();
    let rules_v4 = dir.path().join("etc/iptables/rules.v4");
    std::fs::write(&rules_v4, dump).unwrap();
    let root = dir.path().to_str().unwrap();
    let rule = ["--select", "passive-range-too-small"];
    let report: serde_json::Value = serde_json::from_slice(
        &pasvlint(
            &[
                &["check", "--isolated", "--format", "json"][..],
                &rule,
                &[root],
            ]
            .concat(),
        )
        .stdout,
    )
    .unwrap();
    let help = report["diagnostics"][0]["help"]
        .as_str()
        .unwrap_or("")
        .to_owned();
    pasvlint(&[&["check", "--isolated", "--fix"][..], &rule, &[root]].concat());
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        conf,
        "unsafe: not applied by --fix"
    );
    pasvlint(
        &[
            &["check", "--isolated", "--fix", "--unsafe-fixes"][..],
            &rule,
            &[root],
        ]
        .concat(),
    );
    let after = std::fs::read_to_string(&path).unwrap();
    let max = after
        .lines()
        .find_map(|l| l.strip_prefix("pasv_max_port="))
        .expect("pasv_max_port kept");
    assert_ne!(max, "50099", "{after}");
    assert!(
        help.contains(&format!("pasv_max_port={max}")),
        "the help named {help:?}, the fix set {max}"
    );
    assert!(!concise(dir.path()).contains("passive-range-too-small"));
    assert!(!concise(dir.path()).contains("passive-ports-blocked"));
    // With no firewall that opens the wider range, no fix is offered.
    std::fs::write(&path, conf).unwrap();
    std::fs::remove_file(&rules_v4).unwrap();
    pasvlint(
        &[
            &["check", "--isolated", "--fix", "--unsafe-fixes"][..],
            &rule,
            &[root],
        ]
        .concat(),
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), conf);
    std::fs::write(&path, &after).unwrap();
    if ready(
        "a_range_too_small_is_widened_to_what_the_help_says",
        &["/usr/sbin/vsftpd"],
        &[],
    ) {
        let said = vsftpd_says(&path, dir.path());
        assert!(said.contains("not configured for standalone"), "{said}");
    }
}

/// ProFTPD refuses `PassivePorts` written high first; `--unsafe-fixes` swaps the
/// two numbers in place (the line's blanks and comment kept) and the finding is
/// gone. Ends that are not the wrong way round (a port below 1024, one port)
/// get no fix.
#[test]
fn a_reversed_proftpd_range_is_swapped_only_when_asked() {
    let conf =
        "ServerType standalone\nPort 21\n<Global>\n  PassivePorts\t49400  49300\n</Global>\n";
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("etc/proftpd/proftpd.conf");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, conf).unwrap();
    let root = dir.path().to_str().unwrap();
    assert!(concise(dir.path()).contains("[proftpd-passive-ports-invalid]"));
    pasvlint(&["check", "--isolated", "--fix", root]);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), conf, "unsafe");
    pasvlint(&["check", "--isolated", "--fix", "--unsafe-fixes", root]);
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        conf.replace("49400  49300", "49300  49400")
    );
    assert!(!concise(dir.path()).contains("proftpd-passive-ports-invalid"));
    for refused in ["PassivePorts 49300 1000", "PassivePorts 49300 49300"] {
        let text = format!("ServerType standalone\n{refused}\n");
        std::fs::write(&path, &text).unwrap();
        assert!(concise(dir.path()).contains("[proftpd-passive-ports-invalid]"));
        pasvlint(&["check", "--isolated", "--fix", "--unsafe-fixes", root]);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
    }
}

/// Pure-FTPd's range: `lo:hi` where the file wants two numbers is made `lo hi`
/// by `--fix` (the daemon then reads the range the file names); ends the wrong
/// way round are swapped only with `--unsafe-fixes`; a port below 1024 is left
/// to the author. Each fixed file lints clean of the rule.
#[test]
fn a_pureftpd_range_is_mended_in_its_own_syntax() {
    let rule = "pureftpd-passive-range-invalid";
    let cases = [
        (
            "bad-colon-in-conf",
            "etc/pure-ftpd.conf",
            "30000:30009",
            "30000 30009",
            true,
        ),
        (
            "bad-colon-in-debian-file",
            "etc/pure-ftpd/conf/PassivePortRange",
            "29799:29899",
            "29799 29899",
            true,
        ),
        (
            "bad-reversed-in-conf",
            "etc/pure-ftpd.conf",
            "30100 30000",
            "30000 30100",
            false,
        ),
    ];
    for (case, file, from, to, safe) in cases {
        assert_one_edit(rule, case, file, (from, to), safe);
    }
    let dir = copy_tree(&format!(
        "fixtures/rules/{rule}/bad-below-1024-on-command-line"
    ));
    pasvlint(&[
        "check",
        "--isolated",
        "--fix",
        "--unsafe-fixes",
        dir.path().to_str().unwrap(),
    ]);
    let from = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!(
        "fixtures/rules/{rule}/bad-below-1024-on-command-line"
    ));
    assert_eq!(differing(&from, dir.path()), Vec::<String>::new());
}

/// IIS ranges one edit from valid: `5001:5201` made `5001-5201` by `--fix`; a
/// MetaBase range or applicationHost.config's low and high written the wrong
/// way round swapped only with `--unsafe-fixes`; ends that leave the band IIS
/// validates (adsutil `6000-5000`, whose 5000 is below 5001) get no fix.
#[test]
fn an_iis_range_is_mended_in_its_own_syntax() {
    let rule = "iis-passive-range-invalid";
    let metabase = "WINDOWS/system32/inetsrv/MetaBase.xml";
    for (case, from, to, safe) in [
        (
            "bad-colon-separator",
            "\"5001:5201\"",
            "\"5001-5201\"",
            true,
        ),
        ("bad-reversed", "\"5201-5001\"", "\"5001-5201\"", false),
    ] {
        assert_one_edit(rule, case, metabase, (from, to), safe);
    }

    let apphost = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/formats/iis/applicationHost.config"),
    )
    .unwrap();
    let reversed = {
        let low = apphost.find("lowDataChannelPort=\"50000\"").expect("low");
        let high = apphost.find("highDataChannelPort=\"50399\"").expect("high");
        assert!(low < high);
        apphost
            .replace(
                "lowDataChannelPort=\"50000\"",
                "lowDataChannelPort=\"50399\"",
            )
            .replace(
                "highDataChannelPort=\"50399\"",
                "highDataChannelPort=\"50000\"",
            )
    };
    assert_ne!(reversed, apphost);
    let dir = tempfile::tempdir().unwrap();
    let path = dir
        .path()
        .join("Windows/System32/inetsrv/config/applicationHost.config");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, &reversed).unwrap();
    assert!(concise(dir.path()).contains(rule));
    let root = dir.path().to_str().unwrap();
    pasvlint(&["check", "--isolated", "--fix", root]);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), reversed, "unsafe");
    pasvlint(&["check", "--isolated", "--fix", "--unsafe-fixes", root]);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), apphost);
    assert!(!concise(dir.path()).contains(rule));

    let case = format!("fixtures/rules/{rule}/bad-adsutil-reversed");
    let dir = copy_tree(&case);
    pasvlint(&[
        "check",
        "--isolated",
        "--fix",
        "--unsafe-fixes",
        dir.path().to_str().unwrap(),
    ]);
    let from = Path::new(env!("CARGO_MANIFEST_DIR")).join(&case);
    assert_eq!(differing(&from, dir.path()), Vec::<String>::new());
}

/// Quotes around `pasv_address`'s IPv4 address are dropped by `--fix`; a host
/// name (whose fix depends on where vsftpd runs) and a short form (`203.0.113`,
/// which inet_aton reads as another address) are left to the author.
#[test]
fn a_quoted_pasv_address_is_unquoted_and_nothing_else() {
    let rule = "vsftpd-pasv-address-unusable";
    let dir = copy_tree(&format!("fixtures/rules/{rule}/bad-quoted"));
    let path = dir.path().join("etc/vsftpd.conf");
    let before = std::fs::read_to_string(&path).unwrap();
    pasvlint(&["check", "--isolated", "--fix", dir.path().to_str().unwrap()]);
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        before.replacen("\"203.0.113.10\"", "203.0.113.10", 1)
    );
    assert!(!concise(dir.path()).contains(rule));
    for case in ["bad-hostname", "bad-short-form"] {
        let dir = copy_tree(&format!("fixtures/rules/{rule}/{case}"));
        let root = dir.path().to_str().unwrap();
        pasvlint(&[
            "check",
            "--isolated",
            "--fix",
            "--unsafe-fixes",
            "--select",
            rule,
            root,
        ]);
        let from =
            Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("fixtures/rules/{rule}/{case}"));
        assert_eq!(differing(&from, dir.path()), Vec::<String>::new(), "{case}");
    }
}

/// FileZilla Server swaps a min above its max itself: `--fix` writes the two
/// bounds the way it reads them (the same ports handed out), in both settings
/// formats; the other cases of the rule (a bound missing, custom ports off)
/// get no fix.
#[test]
fn reversed_filezilla_bounds_are_written_as_filezilla_reads_them() {
    let rule = "filezilla-passive-range-invalid";
    for (case, file, from, to) in [
        (
            "bad-reversed-legacy",
            "FileZilla Server/FileZilla Server.xml",
            "min port\" type=\"numeric\">50100<",
            "min port\" type=\"numeric\">50000<",
        ),
        (
            "bad-reversed-modern",
            "ProgramData/filezilla-server/settings.xml",
            "<min>50100</min>",
            "<min>50000</min>",
        ),
    ] {
        let dir = copy_tree(&format!("fixtures/rules/{rule}/{case}"));
        let path = dir.path().join(file);
        let before = std::fs::read_to_string(&path).unwrap();
        let facts = |dir: &Path| {
            let out = pasvlint(&["facts", "--format", "json", dir.to_str().unwrap()]);
            let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            json["hosts"][0]["ftp"][0]["passive_ports"].clone()
        };
        let ports = facts(dir.path());
        pasvlint(&["check", "--isolated", "--fix", dir.path().to_str().unwrap()]);
        let after = std::fs::read_to_string(&path).unwrap();
        let max_from = from.replace("min", "max").replace("50100", "50000");
        let max_to = to.replace("min", "max").replace("50000", "50100");
        assert_eq!(
            after,
            before.replacen(from, to, 1).replacen(&max_from, &max_to, 1),
            "{case}"
        );
        assert_eq!(
            facts(dir.path()),
            ports,
            "{case}: the same ports handed out"
        );
        assert!(!concise(dir.path()).contains(rule), "{case}");
    }
    for case in ["bad-max-missing-modern", "bad-custom-ports-off"] {
        let dir = copy_tree(&format!("fixtures/rules/{rule}/{case}"));
        let root = dir.path().to_str().unwrap();
        pasvlint(&[
            "check",
            "--isolated",
            "--fix",
            "--unsafe-fixes",
            "--select",
            rule,
            root,
        ]);
        let from =
            Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("fixtures/rules/{rule}/{case}"));
        assert_eq!(differing(&from, dir.path()), Vec::<String>::new(), "{case}");
    }
}
