//! The real `iptables-restore` (nft backend, a real load, not `--test`) judges every
//! iptables-save file under `fixtures/` and the measured cases of domain.md: pasvlint
//! reports an `iptables-syntax-error` or `iptables-multiport-too-many-ports` error
//! ⇔ the load exits non-zero, and when both reject, pasvlint's first error is on
//! the line the tool names (read from its own `Error occurred at line: N`; a
//! table's COMMIT stands for any line of that table). Then a probe: a few rulesets are loaded into a server
//! namespace joined by a veth to a client namespace (198.18.0.1 / 198.18.0.2), the
//! server listens on every candidate port and sends a byte on each connection it
//! accepts, the client connects to each, and the ports whose byte came back must be
//! pasvlint's `open_to_all` on those candidates.
//!
//! Each load gets a fresh network namespace, deleted by a guard even on failure.

use pasvlint::formats::iptables::Family;
use pasvlint::formats::{self, Format};
use pasvlint::portset::PortSet;
use pasvlint::rules;
use pasvlint::source::{FileId, SourceFile};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};

mod support;
use support::crate_dir;

const VERDICT_RULES: &[&str] = &["iptables-syntax-error", "iptables-multiport-too-many-ports"];

/// A network namespace that is deleted when dropped.
struct Netns(String);

impl Netns {
    fn new() -> Netns {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "pasvlint-ora-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        run_ok("ip", &["netns", "add", &name]);
        let ns = Netns(name);
        ns.exec_ok(&["ip", "link", "set", "lo", "up"]);
        ns
    }

    fn exec(&self, args: &[&str]) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.0]).args(args);
        c
    }

    fn exec_ok(&self, args: &[&str]) {
        let out = self.exec(args).output().expect("ip netns exec");
        assert!(
            out.status.success(),
            "{args:?} in {}: {}",
            self.0,
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Load a restore file; the exit status and what the tool printed.
    fn restore(&self, file: &Path, family: Family) -> (bool, String) {
        let tool = match family {
            Family::V4 => "iptables-restore",
            Family::V6 => "ip6tables-restore",
        };
        let out = self
            .exec(&[tool])
            .stdin(std::fs::File::open(file).expect("open rules"))
            .output()
            .expect("run iptables-restore");
        let said = String::from_utf8_lossy(&out.stderr).into_owned();
        (out.status.success(), said)
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.0])
            .stderr(Stdio::null())
            .status();
    }
}

fn run_ok(cmd: &str, args: &[&str]) {
    let out = Command::new(cmd).args(args).output().expect(cmd);
    assert!(
        out.status.success(),
        "{cmd} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn have(cmd: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|paths| {
        std::env::split_paths(&paths).any(|p| p.join(cmd).is_file())
            || ["/usr/sbin", "/sbin"]
                .iter()
                .any(|p| Path::new(p).join(cmd).is_file())
    })
}

/// Whether the oracle can run here; `Err` says why not.
fn oracle_available(tools: &[&str]) -> Result<(), String> {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let euid = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|ids| ids.split_whitespace().nth(1))
        .unwrap_or("");
    if euid != "0" {
        return Err("network namespaces need root".into());
    }
    if let Some(missing) = tools.iter().find(|t| !have(t)) {
        return Err(format!("{missing} is not installed"));
    }
    Ok(())
}

fn skip_unless_available(what: &str, tools: &[&str]) -> bool {
    match oracle_available(tools) {
        Ok(()) => false,
        Err(why) if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("CI=true but the iptables {what} cannot run: {why}")
        }
        Err(why) => {
            eprintln!("skipping the iptables {what}: {why}");
            true
        }
    }
}

/// pasvlint's verdict: does a real load reject this file? The messages, and
/// the 1-based lines they are on, first to last.
fn pasvlint_rejects(path: &Path, bytes: &[u8]) -> (bool, Vec<String>, Vec<usize>) {
    let source = SourceFile::new(FileId(0), path, bytes);
    let parsed = formats::parse(source, Format::IptablesSave);
    let mut diagnostics = Vec::new();
    for r in rules::registry() {
        if VERDICT_RULES.contains(&r.rule.name()) {
            r.rule.check_file(&parsed, &mut diagnostics);
        }
    }
    let messages = diagnostics.iter().map(|d| d.message.clone()).collect();
    let mut lines: Vec<usize> = diagnostics
        .iter()
        .map(|d| parsed.source.line_col(d.primary.span.start).0)
        .collect();
    lines.sort_unstable();
    (!diagnostics.is_empty(), messages, lines)
}

/// The line iptables-restore names: `Error occurred at line: N` (nf_tables) or
/// `line N failed` (legacy). Read from its own words, not by pasvlint.
fn failing_line(said: &str) -> Option<usize> {
    if let Some(rest) = said.split("Error occurred at line: ").nth(1) {
        return rest.split_whitespace().next()?.parse().ok();
    }
    let before = said.split(" failed").next()?;
    before.rsplit("line ").next()?.trim().parse().ok()
}

/// Whether pasvlint's first error is where the kernel tool failed: the same line,
/// or, when the tool names a table's COMMIT (errors of the nf_tables backend
/// that show only when the table is committed: a jump to a missing chain), a
/// line of that table.
fn same_place(bytes: &[u8], failed_at: usize, ours: &[usize]) -> bool {
    let Some(&first) = ours.first() else {
        return false;
    };
    let text = String::from_utf8_lossy(bytes);
    let lines: Vec<&str> = text.lines().collect();
    let is_commit = lines
        .get(failed_at.wrapping_sub(1))
        .is_some_and(|l| l.trim() == "COMMIT");
    if !is_commit {
        return first == failed_at;
    }
    let table_start = lines[..failed_at - 1]
        .iter()
        .rposition(|l| l.starts_with('*'))
        .map_or(1, |i| i + 1);
    (table_start..=failed_at).contains(&first) || first == failed_at
}

/// The tool the system loads a dump with, decided here and not by pasvlint: IPv6 for
/// `ip6tables*` and `*.v6` paths (backup suffixes included) and for `ip6tables-save`
/// output under another name, IPv4 otherwise.
fn loaded_by(path: &Path, bytes: &[u8]) -> Family {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let ipv6_name = name.contains("ip6tables") || name.ends_with(".v6") || name.contains(".v6.");
    let ipv4_name = name.starts_with("iptables") || name.contains(".v4");
    let ip6_header = String::from_utf8_lossy(bytes)
        .lines()
        .next()
        .is_some_and(|l| l.starts_with("# Generated by ip6tables-save"));
    if ipv6_name || (!ipv4_name && ip6_header) {
        Family::V6
    } else {
        Family::V4
    }
}

/// Every file under `fixtures/` that pasvlint reads as an iptables-save dump.
fn save_fixtures() -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![crate_dir().join("fixtures")];
    while let Some(dir) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if let Ok(bytes) = std::fs::read(&p) {
                let (text, _) = pasvlint::source::decode(bytes);
                if formats::classify(&p, &text) == Some(Format::IptablesSave) {
                    out.push(p);
                }
            }
        }
    }
    out.sort();
    out
}

const HEAD: &str = "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n";

/// The measured table of domain.md "iptables" §1, and the option checks of §2.
fn inline_cases() -> Vec<(&'static str, String)> {
    let with = |rules: &str| format!("{HEAD}{rules}COMMIT\n");
    let list = |n: u32| (1..=n).map(|i| i.to_string()).collect::<Vec<_>>().join(",");
    let mp = |ports: &str| {
        with(&format!(
            "-A INPUT -p tcp -m multiport --dports {ports} -j ACCEPT\n"
        ))
    };
    vec![
        ("chain counters [0*0]", "*filter\n:INPUT DROP [0*0]\nCOMMIT\n".into()),
        ("rule counters", with("[5:100] -A INPUT -j ACCEPT\n")),
        ("rule after last COMMIT", format!("{HEAD}COMMIT\n-A INPUT -j ACCEPT\n")),
        ("trailing # comment", with("-A INPUT -i lo -j ACCEPT # loopback\n")),
        ("# after spaces", with("   # comment\n")),
        ("unknown match", with("-A INPUT -m nosuchmatch -j ACCEPT\n")),
        ("missing COMMIT", format!("{HEAD}-A INPUT -j ACCEPT\n")),
        ("*nat before COMMIT", "*filter\n*nat\nCOMMIT\n".into()),
        ("line before any table", "-A INPUT -j ACCEPT\n*filter\nCOMMIT\n".into()),
        ("undeclared chain", with("-A INPUT -j MYCHAIN\n")),
        ("chain declared late", with("-A INPUT -j MYCHAIN\n:MYCHAIN - [0:0]\n")),
        ("jump to NOSUCH", with("-A INPUT -j NOSUCH\n")),
        ("policy on a user chain", with(":FOO ACCEPT [0:0]\n")),
        ("bogus policy", "*filter\n:INPUT BOGUS [0:0]\nCOMMIT\n".into()),
        ("chain declared twice", with(":LATE - [0:0]\n:LATE - [0:0]\n")),
        ("policy twice", with(":INPUT DROP [0:0]\n:INPUT ACCEPT [0:0]\n")),
        ("PREROUTING in filter", with("-A PREROUTING -j ACCEPT\n")),
        ("bogus table", "*bogus\nCOMMIT\n".into()),
        ("whitespace-only line", with("  \n")),
        ("tab-only line", with("\t\n")),
        ("empty line", with("\n")),
        ("rule with leading spaces", with("   -A INPUT -j ACCEPT\n")),
        ("COMMIT with trailing spaces", format!("{HEAD}COMMIT  \n")),
        ("lower-case commit", format!("{HEAD}commit\n")),
        ("CRLF", format!("{HEAD}COMMIT\n").replace('\n', "\r\n")),
        ("no final newline", format!("{HEAD}COMMIT")),
        ("-I without position", with("-I INPUT -p tcp --dport 22 -j ACCEPT\n")),
        ("-I 2 after two rules", with("-A INPUT -p tcp --dport 22 -j ACCEPT\n-A INPUT -p tcp --dport 23 -j ACCEPT\n-I INPUT 2 -p tcp --dport 80 -j ACCEPT\n")),
        ("-I 2 into an empty chain", with("-I INPUT 2 -j ACCEPT\n")),
        ("-P -N -F -X -D in a file", with("-N X\n-A INPUT -j X\n-A X -j ACCEPT\n-P INPUT DROP\n-F X\n-D INPUT -j X\n-X X\n-A INPUT -j ACCEPT\n-D INPUT 1\n")),
        ("same table twice", format!("{HEAD}-A INPUT -j DROP\nCOMMIT\n{HEAD}-A INPUT -j ACCEPT\nCOMMIT\n")),
        ("empty file", String::new()),
        ("dport 70000", with("-A INPUT -p tcp --dport 70000 -j ACCEPT\n")),
        ("dport 830:820", with("-A INPUT -p tcp --dport 830:820 -j ACCEPT\n")),
        ("dport without -p", with("-A INPUT --dport 22 -j ACCEPT\n")),
        ("-o in INPUT", with("-A INPUT -o eth0 -j ACCEPT\n")),
        ("DROP in nat", "*nat\n-A PREROUTING -p tcp --dport 21 -j DROP\nCOMMIT\n".into()),
        ("loop A-B-A from INPUT", with(":A - [0:0]\n:B - [0:0]\n-A INPUT -j A\n-A A -j B\n-A B -j A\n")),
        ("INPUT jumps to INPUT", with("-A INPUT -j INPUT\n")),
        ("self-loop, unreferenced", with(":A - [0:0]\n-A A -j A\n")),
        ("two -j", with("-A INPUT -j ACCEPT -j DROP\n")),
        ("chain name 28 chars", with(":A234567890123456789012345678 - [0:0]\n")),
        ("chain name 29 chars", with(":A2345678901234567890123456789 - [0:0]\n")),
        ("multiport 15 singles", mp(&list(15))),
        ("multiport 16 singles", mp(&list(16))),
        ("multiport 14 singles + range", mp(&format!("{},20:30", list(14)))),
        ("multiport 13 singles + range", mp(&format!("{},20:30", list(13)))),
        ("multiport 7 ranges + single", mp("1:2,3:4,5:6,7:8,9:10,11:12,13:14,15")),
        ("multiport 8 ranges", mp("1:2,3:4,5:6,7:8,9:10,11:12,13:14,15:16")),
        ("multiport 30:20", mp("30:20")),
        ("multiport 20:", mp("20:")),
        ("multiport :20", mp(":20")),
        ("dport 0x16 and 022", with("-A INPUT -p tcp --dport 0x16 -j ACCEPT\n-A INPUT -p tcp -m multiport --dports 022,0x10:0x11 -j ACCEPT\n")),
        ("dport 09", with("-A INPUT -p tcp --dport 09 -j ACCEPT\n")),
        ("dport -5", with("-A INPUT -p tcp --dport -5 -j ACCEPT\n")),
        ("dport 22-", with("-A INPUT -p tcp --dport 22- -j ACCEPT\n")),
        ("two dport", with("-A INPUT -p tcp --dport 5 --dport 6 -j ACCEPT\n")),
        ("two tcp matches", with("-A INPUT -p tcp -m tcp --dport 10:20 -m tcp --dport 15:30 -j ACCEPT\n")),
        ("services", with("-A INPUT -p tcp --dport ftp-data:ftp -j ACCEPT\n-A INPUT -p tcp --dport ssh -j ACCEPT\n")),
        ("-p tcp,udp", with("-A INPUT -p tcp,udp -j ACCEPT\n")),
        ("-m tcp without -p", with("-A INPUT -m tcp --dport 22 -j ACCEPT\n")),
        ("multiport --dport prefix", with("-A INPUT -p tcp -m multiport --dport 21,20 -j ACCEPT\n")),
        ("tcp then multiport --dport list", with("-A INPUT -p tcp -m tcp -m multiport --dport 21,20 -j ACCEPT\n")),
        ("multiport without -p", with("-A INPUT -m multiport --dports 20 -j ACCEPT\n")),
        ("multiport dports and sports", with("-A INPUT -p tcp -m multiport --dports 20 --sports 30 -j ACCEPT\n")),
        ("single-quoted comment", with("-A INPUT -m comment --comment 'single q' -j ACCEPT\n")),
        ("double-quoted comment", with("-A INPUT -m comment --comment \"ssh from \\\"x\\\"\" -j ACCEPT\n")),
        ("state names", with("-A INPUT -m state --state NEW,FOO -j ACCEPT\n")),
        ("raw CT helper", "*raw\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -p tcp --dport 21 -j CT --helper ftp\nCOMMIT\n".into()),
        ("CT in mangle", "*mangle\n-A PREROUTING -p tcp --dport 21 -j CT --helper ftp\nCOMMIT\n".into()),
        ("DNAT in filter", with("-A INPUT -p tcp -j DNAT --to-destination 1.2.3.4\n")),
        ("nat REDIRECT", "*nat\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -p tcp --dport 8080 -j REDIRECT --to-ports 80\nCOMMIT\n".into()),
        ("-X referenced chain", with(":X - [0:0]\n-A INPUT -j X\n-X X\n")),
        ("-F then -X after a reference", with(":A - [0:0]\n-A INPUT -j A\n-F\n-X A\n")),
        ("-F INPUT then -X", with(":A - [0:0]\n-A INPUT -j A\n-F INPUT\n-X A\n")),
        ("-F then -X of a chain with rules", with(":A - [0:0]\n-A A -j ACCEPT\n-F\n-X\n")),
        ("-D then -X", with(":A - [0:0]\n-A INPUT -j A\n-D INPUT 1\n-X A\n")),
        ("-R in a restore file", with("-A INPUT -p tcp -j ACCEPT\n-R INPUT 1 -p tcp -j DROP\n")),
        ("-N existing", with("-N X\n-N X\n")),
        ("-N LOG", with("-N LOG\n")),
        (":LOG chain line", with(":LOG - [0:0]\n")),
        ("-P on a user chain", with(":X - [0:0]\n-P X DROP\n")),
        ("-D missing rule", with("-A INPUT -j ACCEPT\n-D INPUT -j DROP\n")),
        ("-D index too big", with("-A INPUT -j ACCEPT\n-D INPUT 2\n")),
        ("-w in a restore file", with("-A INPUT -w -j ACCEPT\n")),
        ("addresses", with("-A INPUT -s 198.18.0.0/255.255.255.0 -j ACCEPT\n-A INPUT ! -s 10.0.0.0/8 -j ACCEPT\n-A INPUT -d 127.0.0.1 -j ACCEPT\n")),
        ("bad address", with("-A INPUT -s 10.0.0.300 -j ACCEPT\n")),
        ("syn and flags", with("-A INPUT -p tcp --syn -j ACCEPT\n-A INPUT -p tcp --tcp-flags SYN,ACK SYN -j ACCEPT\n-A INPUT -p tcp ! --syn -j ACCEPT\n")),
        ("limit rate", with("-A INPUT -m limit --limit 1/hour --limit-burst 5 -j ACCEPT\n")),
        ("bad limit rate", with("-A INPUT -m limit --limit 1/fortnight -j ACCEPT\n")),
        ("comment without --comment", with("-A INPUT -m comment -j ACCEPT\n")),
        ("reject tcp-reset without -p tcp", with("-A INPUT -j REJECT --reject-with tcp-reset\n")),
        ("IPv6 source in IPv4", with("-A INPUT -s 2001:db8::/32 -j ACCEPT\n")),
        ("::1/128 in IPv4", with("-A INPUT -s ::1/128 -j ACCEPT\n")),
        ("icmpv6 type in IPv4", with("-A INPUT -p ipv6-icmp --icmpv6-type 128 -j ACCEPT\n")),
        ("icmp6 match in IPv4", with("-A INPUT -m icmp6 --icmpv6-type 128 -j ACCEPT\n")),
        ("rt match in IPv4", with("-A INPUT -m rt --rt-type 0 -j DROP\n")),
        ("IPv6 reject type in IPv4", with("-A INPUT -j REJECT --reject-with icmp6-port-unreachable\n")),
        ("-p icmpv6 in IPv4", with("-A INPUT -p icmpv6 -j ACCEPT\n")),
        ("-6 lines are skipped", with("-6 -A INPUT -s 2001:db8::1 -j ACCEPT\n-6 -A INPUT -p ipv6-icmp --icmpv6-type 128 -j ACCEPT\n-A INPUT -s 10.0.0.0/8 -6 -j ACCEPT\n")),
        ("-4 lines are read", with("-4 -A INPUT -p tcp --dport 44 -j ACCEPT\n")),
    ]
}

/// IPv6 grammar and the IPv4 constructs ip6tables-restore rejects, written to `*.v6`
/// files (loaded with ip6tables-restore); `-4` and `-6` line prefixes in both families.
fn inline_cases_v6() -> Vec<(&'static str, String)> {
    let with = |rules: &str| format!("{HEAD}{rules}COMMIT\n");
    vec![
        (
            "ip6tables-save header",
            format!("# Generated by ip6tables-save v1.8.9 (nf_tables)\n{HEAD}COMMIT\n"),
        ),
        (
            "icmpv6 by name and number",
            with(
                "-A INPUT -p ipv6-icmp -j ACCEPT\n-A INPUT -p icmpv6 --icmpv6-type echo-request -j ACCEPT\n-A INPUT -p 58 --icmpv6-type 128/0 -j ACCEPT\n-A INPUT -p ipv6-icmp -m icmp6 --icmpv6-type router-advertisement -m hl --hl-eq 255 -j ACCEPT\n",
            ),
        ),
        (
            "icmpv6 abbreviated type",
            with("-A INPUT -p ipv6-icmp --icmpv6-type neighbour-sol -j ACCEPT\n"),
        ),
        (
            "unknown icmpv6 type",
            with("-A INPUT -p ipv6-icmp --icmpv6-type bogus -j ACCEPT\n"),
        ),
        (
            "icmp6 match without -p",
            with("-A INPUT -m icmp6 --icmpv6-type 1 -j ACCEPT\n"),
        ),
        (
            "IPv6 addresses",
            with(
                "-A INPUT -s ::1/128 -j ACCEPT\n-A INPUT -s 2001:db8::/32 -p tcp --dport 22 -j ACCEPT\n-A INPUT -d fe80::/64 -p udp --dport 546 -j ACCEPT\n-A INPUT -s 2001:db8::1,2001:db8::2 -j ACCEPT\n-A INPUT -s ::ffff:10.0.0.1 -j ACCEPT\n-A INPUT -s 2001:db8::/ffff:ffff:: -j ACCEPT\n",
            ),
        ),
        ("prefix 129", with("-A INPUT -s 2001:db8::/129 -j ACCEPT\n")),
        (
            "malformed IPv6 address",
            with("-A INPUT -s 2001:zz8::/32 -j ACCEPT\n"),
        ),
        (
            "IPv6 address with a zone",
            with("-A INPUT -s fe80::1%eth0 -j ACCEPT\n"),
        ),
        (
            "dotted IPv4 source",
            with("-A INPUT -s 10.0.0.0/8 -j ACCEPT\n"),
        ),
        (
            "dotted IPv4 destination",
            with("-A INPUT -d 192.168.1.1 -j ACCEPT\n"),
        ),
        (
            "extension header matches",
            with(
                "-A INPUT -m rt --rt-type 0 --rt-segsleft 0 -j DROP\n-A INPUT -m frag --fragmore -j DROP\n-A INPUT -m hbh --hbh-len 8 -j ACCEPT\n-A INPUT -m dst --dst-len 0 -j DROP\n-A INPUT -m ipv6header --header frag --soft -j DROP\n-A INPUT -m eui64 -j ACCEPT\n-A INPUT -p ipv6-mh -m mh --mh-type 1 -j ACCEPT\n",
            ),
        ),
        (
            "IPv6 reject types",
            with(
                "-A INPUT -j REJECT --reject-with icmp6-adm-prohibited\n-A INPUT -j REJECT --reject-with adm-prohibited\n-A INPUT -j REJECT --reject-with icmp6-no-route\n-A INPUT -j REJECT --reject-with no-route\n-A INPUT -j REJECT --reject-with icmp6-addr-unreachable\n-A INPUT -j REJECT --reject-with addr-unreach\n-A INPUT -j REJECT --reject-with icmp6-port-unreachable\n-A INPUT -j REJECT --reject-with port-unreach\n-A INPUT -j REJECT --reject-with icmp6-policy-fail\n-A INPUT -j REJECT --reject-with policy-fail\n-A INPUT -j REJECT --reject-with icmp6-reject-route\n-A INPUT -j REJECT --reject-with reject-route\n-A INPUT -p tcp -j REJECT --reject-with tcp-reset\n-A INPUT -j REJECT\n",
            ),
        ),
        (
            "tcp-reset without -p tcp",
            with("-A INPUT -j REJECT --reject-with tcp-reset\n"),
        ),
        (
            "tcp-rst",
            with("-A INPUT -p tcp -j REJECT --reject-with tcp-rst\n"),
        ),
        (
            "IPv4 reject type",
            with("-A INPUT -j REJECT --reject-with icmp-port-unreachable\n"),
        ),
        (
            "IPv4 reject type host-prohibited",
            with("-A INPUT -j REJECT --reject-with icmp-host-prohibited\n"),
        ),
        ("-p icmp", with("-A INPUT -p icmp -j ACCEPT\n")),
        (
            "-p icmp --icmp-type",
            with("-A INPUT -p icmp --icmp-type 8 -j ACCEPT\n"),
        ),
        (
            "-m icmp",
            with("-A INPUT -m icmp --icmp-type 8 -j ACCEPT\n"),
        ),
        (
            "-4 lines are skipped",
            with(
                "-4 -A INPUT -s 10.0.0.1 -j ACCEPT\n-4 -A INPUT -m nosuch -j ACCEPT\n-4 -A NOSUCH -j ACCEPT\n-A INPUT -4 -p tcp --dport 99999 -j ACCEPT\n-4 bogus words\n",
            ),
        ),
        (
            "-6 lines are read",
            with("-6 -A INPUT -p tcp --dport 66 -j ACCEPT\n"),
        ),
        (
            "error before -4",
            with("-A INPUT -p tcp --dport 99999 -4 -j ACCEPT\n"),
        ),
    ]
}

#[test]
fn syntax_verdicts_agree_with_a_real_load() {
    if skip_unless_available("oracle", &["ip", "iptables-restore", "ip6tables-restore"]) {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let mut cases: Vec<(String, PathBuf)> = Vec::new();
    for path in save_fixtures() {
        let rel = path
            .strip_prefix(crate_dir())
            .unwrap_or(&path)
            .display()
            .to_string();
        cases.push((rel, path));
    }
    for (i, (name, text)) in inline_cases().into_iter().enumerate() {
        let path = dir.path().join(format!("case-{i}.v4"));
        std::fs::write(&path, text).expect("write case");
        cases.push((name.to_owned(), path));
    }
    for (i, (name, text)) in inline_cases_v6().into_iter().enumerate() {
        let path = dir.path().join(format!("case-{i}.v6"));
        std::fs::write(&path, text).expect("write case");
        cases.push((format!("IPv6: {name}"), path));
    }
    let failures = Mutex::new(Vec::new());
    let skipped = Mutex::new(Vec::new());
    let next = AtomicU32::new(0);
    let lines_compared = AtomicU32::new(0);
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed) as usize;
                    let Some((name, path)) = cases.get(i) else {
                        break;
                    };
                    let bytes = std::fs::read(path).expect("read case");
                    let text = String::from_utf8_lossy(&bytes);
                    // An ipset must exist on the host before the rules load; that is
                    // host state, not syntax.
                    if text.contains("--match-set") || text.contains("-j SET") {
                        skipped.lock().unwrap().push(name.clone());
                        continue;
                    }
                    let ns = Netns::new();
                    let (loads, said) = ns.restore(path, loaded_by(path, &bytes));
                    let (rejects, messages, lines) = pasvlint_rejects(path, &bytes);
                    // A table without COMMIT fails at the end of the file; pasvlint
                    // points at the table and names that line in its message.
                    let named = |at: usize| {
                        said.contains(&format!("COMMIT expected at line {at}"))
                            && messages.iter().any(|m| m.contains(&format!("line {at}")))
                    };
                    if !loads && rejects && failing_line(&said).is_some() {
                        lines_compared.fetch_add(1, Ordering::Relaxed);
                    }
                    let misplaced = match failing_line(&said) {
                        Some(at)
                            if !loads
                                && rejects
                                && !same_place(&bytes, at, &lines)
                                && !named(at) =>
                        {
                            Some(at)
                        }
                        _ => None,
                    };
                    if let Some(at) = misplaced {
                        failures.lock().unwrap().push(format!(
                            "{name}: iptables-restore fails at line {at} ({}), pasvlint's first error is on line {:?}: {messages:?}",
                            said.trim(),
                            lines.first()
                        ));
                    }
                    if loads == rejects {
                        failures.lock().unwrap().push(format!(
                            "{name}: iptables-restore {} ({}), pasvlint {}",
                            if loads { "loads it" } else { "rejects it" },
                            said.trim(),
                            if rejects {
                                format!("reports {messages:?}")
                            } else {
                                "reports nothing".into()
                            }
                        ));
                    }
                }
            });
        }
    });
    for name in skipped.into_inner().unwrap() {
        eprintln!("{name}: skipped (needs an ipset on the host)");
    }
    let failures = failures.into_inner().unwrap();
    eprintln!(
        "{} load verdicts compared; the failing line of {} rejected files too",
        cases.len(),
        lines_compared.into_inner()
    );
    assert!(
        failures.is_empty(),
        "{} of {} cases disagree:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// The ports the probe tries: a low band, the passive bands of the fixtures, redirects.
fn candidates() -> PortSet {
    PortSet::from_ranges([
        (1, 2000),
        (8080, 8080),
        (8443, 8443),
        (9981, 9995),
        (40000, 40010),
    ])
}

// A port counts as open when a byte the server sends on accepting comes back:
// a connection whose later packets are dropped completes its handshake on the
// client's side (its ACK is what gets lost) but never carries data.
const LISTEN: &str = r#"
import resource, select, socket, sys
ports = [int(p) for p in sys.argv[1].split(',')]
limit = 2 * len(ports) + 128
resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))
socks = {}
for p in ports:
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(('0.0.0.0', p))
    s.listen(16)
    s.setblocking(False)
    socks[s.fileno()] = s
poll = select.poll()
for fd in socks:
    poll.register(fd, select.POLLIN)
poll.register(sys.stdin.fileno(), select.POLLIN)
print('ready', flush=True)
conns = []
while True:
    for fd, _ in poll.poll(1000):
        if fd == sys.stdin.fileno():
            sys.exit(0)
        try:
            c, _ = socks[fd].accept()
            c.send(b'x')
            conns.append(c)
        except OSError:
            pass
"#;

const CONNECT: &str = r#"
import resource, select, socket, sys, time
ports = [int(p) for p in sys.argv[1].split(',')]
resource.setrlimit(resource.RLIMIT_NOFILE, (len(ports) + 64, len(ports) + 64))
pending = {}
for p in ports:
    s = socket.socket()
    s.setblocking(False)
    s.connect_ex(('198.18.0.1', p))
    pending[s.fileno()] = (s, p)
poll = select.poll()
for fd in pending:
    poll.register(fd, select.POLLOUT)
connected = {}
opened = []
deadline = time.time() + 3.0
while (pending or connected) and time.time() < deadline:
    for fd, _ in poll.poll(100):
        if fd in pending:
            s, p = pending.pop(fd)
            poll.unregister(fd)
            if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
                connected[fd] = (s, p)
                poll.register(fd, select.POLLIN)
            else:
                s.close()
        elif fd in connected:
            s, p = connected.pop(fd)
            poll.unregister(fd)
            try:
                if s.recv(1) == b'x':
                    opened.append(p)
            except OSError:
                pass
            s.close()
print(','.join(str(p) for p in sorted(opened)))
"#;

fn port_list(set: &PortSet) -> String {
    set.ranges()
        .iter()
        .flat_map(|&(a, b)| a..=b)
        .map(|p| p.to_string())
        .collect::<Vec<_>>()
        .join(",")
}

/// Load `rules` on a server namespace and return the candidate ports a client connected to.
fn probe(rules: &Path) -> Result<PortSet, String> {
    let server = Netns::new();
    let client = Netns::new();
    server.exec_ok(&[
        "ip", "link", "add", "eth0", "type", "veth", "peer", "name", "eth0", "netns", &client.0,
    ]);
    server.exec_ok(&["ip", "addr", "add", "198.18.0.1/24", "dev", "eth0"]);
    server.exec_ok(&["ip", "link", "set", "eth0", "up"]);
    client.exec_ok(&["ip", "addr", "add", "198.18.0.2/24", "dev", "eth0"]);
    client.exec_ok(&["ip", "link", "set", "eth0", "up"]);
    let (loads, said) = server.restore(rules, Family::V4);
    if !loads {
        return Err(format!("iptables-restore failed: {said}"));
    }
    let ports = port_list(&candidates());
    let mut listener = server
        .exec(&["python3", "-c", LISTEN, &ports])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    let mut ready = String::new();
    if let Some(out) = listener.stdout.as_mut() {
        use std::io::BufRead;
        let _ = std::io::BufReader::new(out).read_line(&mut ready);
    }
    let result = if ready.trim() == "ready" {
        let out = client
            .exec(&["python3", "-c", CONNECT, &ports])
            .output()
            .map_err(|e| e.to_string())?;
        let text = String::from_utf8_lossy(&out.stdout);
        Ok(text
            .trim()
            .split(',')
            .filter_map(|p| p.parse::<u16>().ok())
            .collect::<PortSet>())
    } else {
        Err("listener did not start".to_owned())
    };
    drop(listener.stdin.take());
    let _ = listener.kill();
    let _ = listener.wait();
    result
}

/// Rulesets for the probe: fixtures, and measured cases of domain.md §2.
fn probe_cases(dir: &Path) -> Vec<(String, PathBuf)> {
    let mut cases: Vec<(String, PathBuf)> = [
        "fixtures/rules/iptables-syntax-error/ok-comments-in-column-one/etc/iptables/rules.v4",
        "fixtures/rules/iptables-multiport-too-many-ports/ok-fifteen-slots/etc/iptables/rules.v4",
        "fixtures/rules/iptables-unreachable-rule/bad-accept-after-reject/etc/iptables/rules.v4",
        "fixtures/rules/iptables-unreachable-rule/ok-conditional-rules-first/etc/iptables/rules.v4",
        "fixtures/rules/passive-ports-blocked/bad-range-wider-than-firewall/etc/iptables/rules.v4",
    ]
    .iter()
    .map(|p| (p.to_string(), crate_dir().join(p)))
    .filter(|(_, p)| p.is_file())
    .collect();
    let inline = [
        (
            "goto returns to the caller's caller",
            String::from(
                "*filter\n:INPUT DROP [0:0]\n:A - [0:0]\n:B - [0:0]\n-A INPUT -p tcp -j A\n\
                 -A INPUT -p tcp --dport 200:299 -j ACCEPT\n-A A -p tcp --dport 250:299 -g B\n\
                 -A A -p tcp --dport 250:299 -j DROP\n-A A -p tcp --dport 300 -j ACCEPT\n\
                 -A B -p tcp --dport 260 -j ACCEPT\n-A B -p tcp --dport 270 -j RETURN\n\
                 -A B -p tcp --dport 280 -j DROP\nCOMMIT\n",
            ),
        ),
        (
            "nat redirect, raw drop, notrack, restrictive OUTPUT",
            "*raw\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -p tcp --dport 1200 -j DROP\n\
             -A PREROUTING -p tcp --dport 1300 -j NOTRACK\nCOMMIT\n\
             *nat\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -p tcp --dport 8080 -j REDIRECT --to-ports 80\n\
             -A PREROUTING -p tcp --dport 1500 -j REDIRECT --to-ports 22\nCOMMIT\n\
             *filter\n:INPUT DROP [0:0]\n:OUTPUT DROP [0:0]\n\
             -A INPUT -p tcp -m multiport --dports 80,1200,1300:1301,1500 -j ACCEPT\n\
             -A INPUT -p tcp --dport 1302 -m conntrack --ctstate NEW -j ACCEPT\n\
             -A INPUT -p tcp --dport 1400:1450 -j ACCEPT\n\
             -A OUTPUT -p tcp -m multiport --sports 80,1200,1300,1302,1410:1460 -j ACCEPT\nCOMMIT\n"
                .to_owned(),
        ),
        (
            "ctstate DNAT after nat redirect",
            "*nat\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -p tcp --dport 100 -j REDIRECT --to-ports 1100\n\
             -A PREROUTING -p tcp --dport 200 -j REDIRECT --to-ports 200\n\
             -A PREROUTING -p tcp --dport 300:310 -j REDIRECT --to-ports 300-310\n\
             -A PREROUTING -p tcp --dport 400 -j REDIRECT --to-ports 1400\nCOMMIT\n\
             *filter\n:INPUT DROP [0:0]\n\
             -A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n\
             -A INPUT -m conntrack --ctstate DNAT -j ACCEPT\n\
             -A INPUT -p tcp --dport 1400 -m conntrack ! --ctstate DNAT -j ACCEPT\nCOMMIT\n"
                .to_owned(),
        ),
        (
            "the one interface the rules decide on is the clients' (eth0 here)",
            "*filter\n:INPUT DROP [0:0]\n:OUTPUT DROP [0:0]\n\
             -A INPUT -i eth1 -j ACCEPT\n\
             -A INPUT -i eth0 -p tcp -m multiport --dports 80,1200:1210 -j ACCEPT\n\
             -A INPUT ! -i eth0 -p tcp --dport 1300 -j ACCEPT\n\
             -A INPUT -i eth0 -p tcp --dport 1400 -j DROP\n-A INPUT -p tcp --dport 1400:1401 -j ACCEPT\n\
             -A OUTPUT -o eth0 -j ACCEPT\nCOMMIT\n"
                .to_owned(),
        ),
        (
            "an accept for state NEW (or a SYN) alone lets in no connection's later packets",
            "*filter\n:INPUT DROP [0:0]\n\
             -A INPUT -p tcp --dport 1500:1510 -m state --state NEW -j ACCEPT\n\
             -A INPUT -p tcp --dport 1505:1510 -m state --state ESTABLISHED -j ACCEPT\n\
             -A INPUT -p tcp --syn --dport 1600:1601 -j ACCEPT\n\
             -A INPUT -p tcp ! --syn --dport 1601 -j ACCEPT\n\
             -A INPUT -p tcp --dport 1700 -m conntrack --ctstate NEW,ESTABLISHED -j ACCEPT\nCOMMIT\n"
                .to_owned(),
        ),
        (
            "localhost is 127.0.0.1 when the rule is loaded",
            "*filter\n:INPUT DROP [0:0]\n-A INPUT -s localhost -j ACCEPT\n\
             -A INPUT -p tcp --dport 80 -j ACCEPT\nCOMMIT\n"
                .to_owned(),
        ),
    ];
    for (i, (name, text)) in inline.into_iter().enumerate() {
        let path = dir.join(format!("probe-{i}.rules"));
        std::fs::write(&path, text).expect("write probe case");
        cases.push((name.to_owned(), path));
    }
    cases
}

#[test]
fn probe_connects_exactly_where_pasvlint_says_open() {
    if skip_unless_available("probe", &["ip", "iptables-restore", "python3"]) {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let cases = probe_cases(dir.path());
    let cand = candidates();
    let failures = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for chunk in cases.chunks(cases.len().div_ceil(3).max(1)) {
            let failures = &failures;
            let cand = &cand;
            s.spawn(move || {
                for (name, path) in chunk {
                    let bytes = std::fs::read(path).expect("read");
                    let source = SourceFile::new(FileId(0), path, &bytes);
                    let parsed = formats::parse(source, Format::IptablesSave);
                    let fw = formats::facts(&parsed).firewall.expect("IPv4 firewall facts");
                    let expected = fw.open_to_all.intersection(cand);
                    let some = fw.open_to_some.intersection(cand);
                    match probe(path) {
                        Err(e) => failures.lock().unwrap().push(format!("{name}: {e}")),
                        Ok(opened) => {
                            eprintln!("{name}: connected to {opened}");
                            let exact = some.is_empty() && opened == expected;
                            let within = expected.is_subset(&opened)
                                && opened.is_subset(&expected.union(&some));
                            if !(exact || (!some.is_empty() && within)) {
                                failures.lock().unwrap().push(format!(
                                    "{name}: connected to {opened}, pasvlint says open to all {expected} (to some {some})"
                                ));
                            }
                        }
                    }
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
