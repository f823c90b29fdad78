//! The active-mode path, driven through iptables-save text.

use crate::facts::{ActivePacket, ActiveStep, Verdict};
use crate::formats::iptables::{facts, parse_save};
use crate::source::{FileId, SourceFile};

fn steps_of(text: &str) -> Vec<ActiveStep> {
    let src = SourceFile::new(FileId(0), "rules.v4", text.as_bytes());
    let rs = parse_save(&src);
    assert!(rs.problems.is_empty(), "{:?}", rs.problems);
    facts(&rs, &src)
        .0
        .and_then(|fw| fw.active)
        .unwrap_or_default()
}

/// `verdict@chain line` for the packet on `port`, as one word.
fn decided(text: &str, packet: ActivePacket, port: u16) -> String {
    let all = steps_of(text);
    let s = all
        .iter()
        .find(|s| s.packet == packet && s.ports.contains(port))
        .expect("every port is decided");
    let at = match (s.is_policy, s.span) {
        (true, _) => "policy".to_owned(),
        (false, Some(span)) => (text[..span.start as usize].lines().count() + 1).to_string(),
        (false, None) => "?".to_owned(),
    };
    format!("{:?}@{} {at}", s.verdict, s.chain)
}

fn filter(input: &str, output: &str) -> String {
    format!("*filter\n{input}{output}COMMIT\n")
}

#[test]
fn the_seed_opens_the_reply_to_port_20_only() {
    let t = filter(
        ":INPUT ACCEPT [0:0]\n-A INPUT -p tcp -m multiport --dports 21,20 -j ACCEPT\n-A INPUT -p tcp -j REJECT --reject-with tcp-reset\n",
        ":OUTPUT ACCEPT [0:0]\n",
    );
    assert_eq!(
        decided(&t, ActivePacket::SynAck, 20),
        "Accept@filter INPUT 3"
    );
    assert_eq!(
        decided(&t, ActivePacket::SynAck, 40000),
        "Reject@filter INPUT 4"
    );
    assert_eq!(
        decided(&t, ActivePacket::Syn, 20),
        "Accept@filter OUTPUT policy"
    );
}

#[test]
fn an_established_accept_admits_the_reply_but_not_a_syn_only_rule() {
    let t = filter(
        ":INPUT DROP [0:0]\n-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n",
        "",
    );
    let s = steps_of(&t);
    let reply = s
        .iter()
        .find(|s| s.packet == ActivePacket::SynAck && s.ports.contains(20))
        .unwrap();
    assert!(reply.by_state && reply.verdict == Verdict::Accept);
    let t = filter(
        ":INPUT DROP [0:0]\n-A INPUT -p tcp --syn --dport 20 -j ACCEPT\n-A INPUT -m state --state NEW -j ACCEPT\n",
        "",
    );
    assert_eq!(
        decided(&t, ActivePacket::SynAck, 20),
        "Drop@filter INPUT policy"
    );
}

#[test]
fn output_drop_stops_the_syn_unless_its_source_port_is_let_out() {
    let t = filter(
        "",
        ":OUTPUT DROP [0:0]\n-A OUTPUT -p tcp --sport 21 -j ACCEPT\n-A OUTPUT -p tcp --sport 20 --dport 1024:65535 -m state --state NEW,ESTABLISHED -j ACCEPT\n",
    );
    assert_eq!(decided(&t, ActivePacket::Syn, 20), "Accept@filter OUTPUT 4");
    assert_eq!(
        decided(&t, ActivePacket::Syn, 40000),
        "Drop@filter OUTPUT policy"
    );
    // An ESTABLISHED-only OUTPUT accept does not let a NEW SYN out.
    let t = filter(
        "",
        ":OUTPUT DROP [0:0]\n-A OUTPUT -m state --state ESTABLISHED -j ACCEPT\n",
    );
    assert_eq!(
        decided(&t, ActivePacket::Syn, 20),
        "Drop@filter OUTPUT policy"
    );
}

#[test]
fn jumps_returns_and_raw_drops() {
    let t = "*raw\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n-A OUTPUT -p tcp --sport 20 -j DROP\nCOMMIT\n*filter\n:INPUT DROP [0:0]\n:FTP - [0:0]\n-A INPUT -j FTP\n-A INPUT -p tcp --dport 20 -j ACCEPT\n-A FTP -p tcp --dport 20 -j RETURN\n-A FTP -j REJECT\nCOMMIT\n";
    assert_eq!(decided(t, ActivePacket::Syn, 20), "Drop@raw OUTPUT 4");
    assert_eq!(
        decided(t, ActivePacket::SynAck, 20),
        "Accept@filter INPUT 10"
    );
    assert_eq!(
        decided(t, ActivePacket::SynAck, 21),
        "Reject@filter INPUT 12"
    );
}
