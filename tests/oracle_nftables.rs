//! The real nft (nftables 1.0.6) judges every nftables fixture: `nft -c -f`
//! must accept exactly the files pasvlint reports no `nftables-syntax-error`
//! (or `nftables-include-not-found`) for, and each loadable fixture, loaded with `nft -f` into a private network
//! namespace, must let a client namespace connect over IPv4 and IPv6 to exactly
//! the candidate ports pasvlint says are open to that client.

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
use std::path::{Path, PathBuf};
use std::time::Duration;
use support::netns::{Netns, Pair, output_within};
use support::open_ports::{candidates, claim};

/// Files that pasvlint reads as nftables, each with its case folder.
fn cases() -> Vec<(PathBuf, PathBuf)> {
    support::cases::rule_cases()
        .into_iter()
        .map(|case| (case.join("etc/nftables.conf"), case))
        .filter(|(file, _)| file.is_file())
        .collect()
}

/// Texts nft rejects or accepts, beside the fixtures.
const INLINE: &[&str] = &[
    "table inet f {\n chain c {\n  tcp dport 21 accept tcp dport 22 accept\n }\n}\n",
    "table inet f {\n chain c {\n  tcp dport $FOO accept\n }\n}\n",
    "table inet f {\n chain c {\n  tcp dport\n }\n}\n",
    "tabel inet f {\n}\n",
    "define P = { 21, 40000-40100 }\ntable ip f {\n chain c {\n  type filter hook input priority filter + 10; policy drop;\n  tcp dport $P counter accept comment \"ftp\"\n  tcp dport vmap { 22 : accept, 23 : drop }\n }\n}\n",
    "table ip f { chain c { type filter hook input priority 0; policy drop; }; }\n",
    // Every block item but `elements = { … }` needs a newline or `;` before `}`.
    "table inet f { chain c { tcp dport 22 accept } }\n",
    "table inet f { chain c { tcp dport 22 accept; } }\n",
    "table inet f { chain c { tcp dport 22 accept; }; }\n",
    "table inet f { set s { type inet_service; elements = { 21 } } ; }\n",
    "table inet f { ct helper h { type \"ftp\" protocol tcp } ; }\n",
    "table inet f { ct helper h { type \"ftp\" protocol tcp; }; }\n",
    "table inet f { chain c { policy drop } ; }\n",
    "table inet f { chain c { } }\n",
    "table inet f { flags dormant }\n",
    "table inet f { set s { type inet_service } ; }\n",
    "table inet f { set s { type inet_service; flags interval } ; }\n",
    "table inet f {\n chain c {\n  tcp dport 22 accept\n } }\n",
    // A line that starts with no command is `add rule`; nft looks its table and
    // chain up once the whole command is read.
    "tables inet f\n",
    "foo bar tcp dport 22 accept\n",
    "table inet f { chain c { } ; }\ninet f c tcp dport 22 accept\n",
    "table inet f { chain c { } ; }\nf c tcp dport 22 accept\n",
    "table ip f { chain c { } ; }\nf c tcp dport 22 accept\n",
    "table inet f { chain c { } ; }\nadd rule inet f d tcp dport 22 accept\n",
    "add rule inet f c tcp dport 22 accept\ntable inet f { chain c { } ; }\n",
    "table inet f { chain c { } ; }\nadd rule inet g c tcp dport 22 accept\n",
    "table inet f\nadd chain inet f c\nadd rule inet f c tcp dport 22 accept\n",
    "add chain inet f c\n",
    // `reject with KIND [type] CODE`: the code must be one of KIND's, KIND must
    // suit the family (nft 1.0.6 `reject_opts`, then its evaluation).
    "table inet f {\n chain c {\n  reject with icmpx type admin-prohibited\n  reject with icmp type host-prohibited\n  reject with icmpv6 type admin-prohibited\n  reject with icmpx port-unreachable\n  reject with icmp type 3\n  tcp dport 23 reject with tcp reset\n  counter reject with icmpx type no-route comment \"x\"\n }\n}\n",
    "table ip f {\n chain c {\n  reject with icmp type frag-needed\n  reject with icmp 200\n }\n}\ntable ip6 f {\n chain c {\n  reject with icmpv6 type reject-route\n }\n}\n",
    "table inet f {\n chain c {\n  reject with icmpx type host-prohibited\n }\n}\n",
    "table inet f {\n chain c {\n  reject with icmp no-route\n }\n}\n",
    "table ip f {\n chain c {\n  reject with icmpv6 type admin-prohibited\n }\n}\n",
    "table ip6 f {\n chain c {\n  reject with icmp type host-prohibited\n }\n}\n",
    "table ip f {\n chain c {\n  reject with icmpx type admin-prohibited\n }\n}\n",
    "table inet f {\n chain c {\n  reject with icmpx type\n }\n}\n",
    "table inet f {\n chain c {\n  reject with tcp\n }\n}\n",
    "table inet f {\n chain c {\n  reject with icmpx type admin-prohibited counter\n }\n}\n",
    "table inet f {\n chain c {\n  udp dport 53 reject with tcp reset\n }\n}\n",
    "table inet f {\n chain c {\n  reject with icmpx 4\n }\n}\n",
    "table inet f {\n chain c {\n  reject with icmp 200\n }\n}\n",
    // Bitwise matches: `&`, `|`, `( )` and the flag mask `/` (`relational_expr`).
    "table inet f {\n chain c {\n  tcp flags & (fin|syn|rst|ack) != syn ct state new drop\n  tcp flags & (fin|syn) == (fin|syn) drop\n  tcp flags syn / syn,ack accept\n  tcp flags & (syn|ack) == syn|ack drop\n  meta mark & 0xffff == 0x10 accept\n  ct mark & 0xff 0x1 accept\n  tcp flags & (syn|ack) vmap { syn : accept, ack : drop }\n }\n}\n",
    "table inet f {\n chain c {\n  tcp flags & (fin|syn drop\n }\n}\n",
    "table inet f {\n chain c {\n  tcp flags & accept\n }\n}\n",
    "table inet f {\n chain c {\n  tcp flags syn / accept\n }\n}\n",
    "table inet f {\n chain c {\n  tcp flags & () == syn drop\n }\n}\n",
    // `ct helper set NAME` needs the object in the table by then.
    "table inet f {\n chain c {\n  tcp dport 21 ct helper set \"ftp\"\n }\n ct helper ftp { type \"ftp\" protocol tcp; }\n}\n",
    "table inet f {\n chain c {\n  tcp dport 21 ct helper set \"ftp\"\n }\n}\n",
    "table inet f {\n chain c {\n  tcp dport 21 ct helper set ftp\n }\n}\ntable inet f {\n ct helper ftp { type \"ftp\" protocol tcp; }\n}\n",
    "table ip f {\n ct helper ftp { type \"ftp\" protocol tcp; }\n}\ntable inet f {\n chain c {\n  tcp dport 21 ct helper set \"ftp\"\n }\n}\n",
    "table inet f {\n ct helper ftp { type \"ftp\" protocol tcp; }\n chain c { }\n}\nadd rule inet f c tcp dport 21 ct helper set \"ftp\"\n",
];

/// pasvlint's syntax findings in the case, as `FILE:LINE:COLUMN` of each.
fn syntax_errors(case: &Path) -> Vec<String> {
    let report = pasvlint::lint(&[case.to_path_buf()], &Config::default());
    report
        .diagnostics
        .iter()
        .filter(|d| {
            matches!(
                d.rule,
                "nftables-syntax-error" | "nftables-include-not-found"
            )
        })
        .filter_map(|d| {
            let source = report.sources.get(d.primary.span.file)?;
            let (line, col) = source.line_col(d.primary.span.start);
            Some(format!("{}:{line}:{col}", source.path.display()))
        })
        .collect()
}

/// Where nft's first error in `file` itself is: `FILE:LINE:COL-COL: Error: …`.
fn nft_position(said: &str, file: &Path) -> Option<String> {
    let prefix = format!("{}:", file.display());
    said.lines().find_map(|l| {
        let rest = l.strip_prefix(&prefix)?;
        let (line, rest) = rest.split_once(':')?;
        let col = rest.split(['-', ':']).next()?;
        rest.contains("Error:")
            .then(|| format!("{}:{line}:{col}", file.display()))
    })
}

/// `nft -c -f FILE` inside a fresh namespace: whether nft accepts it, and what it said.
fn nft_accepts(ns: &Netns, file: &Path) -> (bool, String) {
    // From the host's `/` (the folder holding the fixture's `etc`), where
    // nftables.service runs nft at boot: `include "./x"` is opened from there.
    let root = file
        .ancestors()
        .find(|a| a.file_name().is_some_and(|n| n == "etc"))
        .and_then(Path::parent)
        .or(file.parent())
        .unwrap_or(Path::new("/"));
    let out = output_within(
        ns.command("nft")
            .current_dir(root)
            .arg("-c")
            .arg("-f")
            .arg(file),
        Duration::from_secs(30),
    )
    .expect("nft ran");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn nft_check_accepts_what_pasvlint_accepts() {
    if !support::requirements::ready("oracle_nftables syntax", &[], &["ip", "nft"]) {
        return;
    }
    let scratch = tempfile::tempdir().unwrap();
    let mut all = cases();
    for (i, text) in INLINE.iter().enumerate() {
        let dir = scratch.path().join(format!("inline-{i}"));
        std::fs::create_dir_all(dir.join("etc")).unwrap();
        let file = dir.join("etc/nftables.conf");
        std::fs::write(&file, text).unwrap();
        all.push((file, dir));
    }
    let ns = Netns::create(support::netns::unique_name("nftc")).expect("namespace");
    let mut failures = Vec::new();
    for (file, case) in &all {
        let (accepted, said) = nft_accepts(&ns, file);
        let errors = syntax_errors(case);
        eprintln!(
            "{}: nft accepts {accepted}; pasvlint errors at {errors:?}",
            file.display()
        );
        if accepted != errors.is_empty() {
            failures.push(format!(
                "{}: nft -c {} ({said}), pasvlint reports syntax errors at {errors:?}",
                file.display(),
                if accepted { "accepts" } else { "rejects" }
            ));
        }
        // Where nft points into the file itself, pasvlint points there too.
        if let Some(at) = nft_position(&said, file).filter(|_| !accepted) {
            if !errors.contains(&at) {
                failures.push(format!(
                    "{}: nft's first error is at {at} ({said}), pasvlint's at {errors:?}",
                    file.display()
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn nft_loads_exactly_what_pasvlint_says_is_open() {
    if !support::requirements::ready("oracle_nftables probe", &[], &["ip", "nft", "python3"]) {
        return;
    }
    let mut failures = Vec::new();
    for (file, case) in cases() {
        let pair = Pair::create().expect("namespaces");
        pair.add_ipv6().expect("IPv6 addresses");
        let load = output_within(
            pair.server.command("nft").arg("-f").arg(&file),
            Duration::from_secs(30),
        )
        .expect("nft ran");
        if !load.status.success() {
            continue;
        }
        support::open_ports::compare_both_families(
            &pair,
            &case,
            &candidates(),
            ("nft", "loaded"),
            &mut failures,
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// What `nft list ruleset` prints after loading a fixture is read without error
/// and gives the same open ports as the fixture itself.
#[test]
fn nft_list_ruleset_output_reads_like_its_source() {
    if !support::requirements::ready("oracle_nftables list", &[], &["ip", "nft"]) {
        return;
    }
    let scratch = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    for (i, (file, case)) in cases().into_iter().enumerate() {
        let ns = Netns::create(support::netns::unique_name("nftl")).expect("namespace");
        let load = output_within(
            ns.command("nft").arg("-f").arg(&file),
            Duration::from_secs(30),
        )
        .expect("nft ran");
        if !load.status.success() {
            continue;
        }
        let listed = output_within(
            ns.command("nft").args(["list", "ruleset"]),
            Duration::from_secs(30),
        )
        .expect("nft ran");
        let dir = scratch.path().join(format!("listed-{i}"));
        std::fs::create_dir_all(dir.join("etc")).unwrap();
        std::fs::write(dir.join("etc/ruleset.txt"), &listed.stdout).unwrap();
        if !syntax_errors(&dir).is_empty() {
            failures.push(format!(
                "{}: listed ruleset reported as invalid",
                case.display()
            ));
        }
        for family in [Family::V4, Family::V6] {
            if claim(&dir, family) != claim(&case, family) {
                failures.push(format!(
                    "{} {family:?}: the listed ruleset opens {:?}, the file {:?}",
                    case.display(),
                    claim(&dir, family),
                    claim(&case, family)
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
