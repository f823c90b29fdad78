use super::*;
use crate::portset::PortSet;
use crate::source::FileId;

fn src(text: &str) -> SourceFile {
    SourceFile::new(FileId(0), "etc/nftables.conf", text.as_bytes())
}

const HOST: &str = r#"#!/usr/sbin/nft -f
flush ruleset
define PASV = 40000-40100
table inet filter {
    set ftp_ports {
        type inet_service; flags interval
        elements = { 21, $PASV }
    }
    ct helper ftp-standard {
        type "ftp" protocol tcp;
    }
    chain pre {
        type filter hook prerouting priority filter; policy accept;
        tcp dport 21 ct helper set "ftp-standard"
    }
    chain input {
        type filter hook input priority 0; policy drop;
        iif lo accept
        ct state established,related accept
        ip saddr 10.0.0.0/8 tcp dport 22 accept
        tcp dport @ftp_ports counter accept comment "ftp"
        tcp dport vmap { 8080 : accept, 8081 : drop }
    }
}
"#;

#[test]
fn a_host_ruleset_parses_and_lowers() {
    let s = src(HOST);
    let f = parse(&s);
    assert_eq!(f.problems, vec![]);
    assert!(f.flushes);
    let (v4, v6) = facts(&f, &s, true);
    let v4 = v4.unwrap();
    let mut want = PortSet::range(40000, 40100);
    want.insert_range(21, 21);
    want.insert_range(8080, 8080);
    assert_eq!(v4.open_to_all, want);
    assert!(v4.open_to_some.contains(22));
    assert_eq!(v4.ftp_helpers.len(), 1);
    assert!(v4.ftp_helpers[0].ports.contains(21));
    // No ICMPv6 neighbour discovery accepted: nothing reaches the host over IPv6.
    assert!(v6.unwrap().open_to_all.is_empty());
    let with_nd = HOST.replace(
        "iif lo accept",
        "iif lo accept\n        icmpv6 type nd-neighbor-solicit accept",
    );
    let s = src(&with_nd);
    assert_eq!(facts(&parse(&s), &s, true).1.unwrap().open_to_all, want);
}

#[test]
fn a_later_base_chain_must_accept_too() {
    let s = src(
        "table inet a {\n chain i { type filter hook input priority 0; policy drop; tcp dport 21 accept; }\n}\ntable inet b {\n chain i { type filter hook input priority filter + 10; policy drop; tcp dport 22 accept; }\n}\n",
    );
    let f = parse(&s);
    assert_eq!(f.problems, vec![]);
    let v4 = facts(&f, &s, true).0.unwrap();
    assert!(v4.open_to_all.is_empty(), "{:?}", v4.open_to_all);
}

#[test]
fn family_tables_filter_their_family_only() {
    let s = src("table ip6 f {\n chain i { type filter hook input priority 0; policy drop; }\n}\n");
    let (v4, v6) = facts(&parse(&s), &s, true);
    assert!(v4.is_none());
    assert!(v6.unwrap().open_to_all.is_empty());
}

#[test]
fn errors_carry_nft_wording() {
    let cases = [
        (
            "table inet f {\n chain c {\n  tcp dport 21 accept tcp dport 22 accept\n }\n}\n",
            "Statement after terminal statement has no effect",
        ),
        (
            "table inet f {\n chain c {\n  tcp dport $FOO accept\n }\n}\n",
            "unknown identifier 'FOO'",
        ),
        (
            "table inet f {\n chain c {\n  tcp dport\n }\n}\n",
            "syntax error, unexpected newline",
        ),
        // No command: nft reads `add rule` with `tabel` as the table's name.
        (
            "tabel inet f {\n}\n",
            "syntax error, unexpected inet, expecting string",
        ),
        (
            "foo bar tcp dport 22 accept\n",
            "Could not process rule: No such file or directory",
        ),
    ];
    for (text, want) in cases {
        let f = parse(&src(text));
        assert_eq!(
            f.problems.first().map(|p| p.message.as_str()),
            Some(want),
            "{text}"
        );
    }
}

#[test]
fn sniffs_by_name_and_content() {
    assert!(sniff(Path::new("etc/nftables.conf"), ""));
    assert!(sniff(Path::new("x/ftp.nft"), ""));
    assert!(sniff(Path::new("ruleset.txt"), "table inet filter {\n}\n"));
    assert!(!sniff(Path::new("notes.conf"), "hello\n"));
}

#[test]
fn mutated_inputs_never_panic() {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    const NOISE: &[u8] = b" \t\n\"{};:,@$-.!=0123456789abc\xc3\xa9";
    for _ in 0..2000 {
        let mut bytes = HOST.as_bytes().to_vec();
        for _ in 0..(next() % 6) {
            let at = (next() as usize) % (bytes.len() + 1);
            if next() % 2 == 0 && at < bytes.len() {
                bytes.remove(at);
            } else {
                bytes.insert(at, NOISE[(next() as usize) % NOISE.len()]);
            }
        }
        let s = SourceFile::new(FileId(0), "x.nft", &bytes);
        let _ = facts(&parse(&s), &s, true);
    }
}
