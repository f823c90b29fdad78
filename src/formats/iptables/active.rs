//! The active-mode data path: the server's SYN out through OUTPUT (state NEW) and
//! the client's SYN-ACK back in through INPUT (state ESTABLISHED: the server opened
//! the connection, so no helper is needed).
//!
//! Each packet is simulated concretely, one representative server port per
//! interval on which no rule's port match changes, so jumps, gotos, returns and
//! marks follow the kernel's first-match walk exactly for the general public.

use super::{Packet, Policy, PortRef, Proto, Rule, Ruleset, Table, TableKind, Target};
use crate::facts::{ActivePacket, ActiveStep, Verdict};
use crate::portset::PortSet;

/// More distinct port intervals than this and the rest stays unknown.
const MAX_INTERVALS: usize = 4096;
/// Rules visited for one packet before giving up (a chain loop a load would reject).
const MAX_VISITS: usize = 1 << 20;
const MAX_DEPTH: usize = 128;

const SYN_PATH: &[(TableKind, &str)] = &[
    (TableKind::Raw, "OUTPUT"),
    (TableKind::Mangle, "OUTPUT"),
    (TableKind::Filter, "OUTPUT"),
    (TableKind::Security, "OUTPUT"),
    (TableKind::Mangle, "POSTROUTING"),
];

const SYN_ACK_PATH: &[(TableKind, &str)] = &[
    (TableKind::Raw, "PREROUTING"),
    (TableKind::Mangle, "PREROUTING"),
    (TableKind::Mangle, "INPUT"),
    (TableKind::Filter, "INPUT"),
    (TableKind::Security, "INPUT"),
];

/// Who decides both active-mode packets, for every server port.
pub fn steps(rs: &Ruleset) -> Vec<ActiveStep> {
    let mut out = path(rs, Packet::ActiveSyn, ActivePacket::Syn, SYN_PATH);
    out.extend(path(
        rs,
        Packet::ActiveSynAck,
        ActivePacket::SynAck,
        SYN_ACK_PATH,
    ));
    out
}

/// The server-side port a rule's port match tests for this packet.
fn key(rule: &Rule, kind: Packet) -> PortRef {
    if matches!(rule.proto, Proto::Udp | Proto::Other) {
        return PortRef::Empty;
    }
    match kind {
        Packet::ActiveSyn | Packet::Reply => rule.key_out,
        _ => rule.key_in,
    }
}

fn contains(rs: &Ruleset, r: PortRef, port: u16) -> bool {
    match r {
        PortRef::Empty => false,
        PortRef::Range(lo, hi) => (lo..=hi).contains(&port),
        PortRef::Set(i) => rs
            .port_sets
            .get(i as usize)
            .is_some_and(|s| s.contains(port)),
    }
}

/// Interval starts on which the verdict can change: the edges of every port match
/// of a rule that holds for the public.
fn interval_starts(rs: &Ruleset, kind: Packet, stages: &[(TableKind, &str)]) -> Vec<u16> {
    let mut starts = vec![0u16];
    let mut tables: Vec<TableKind> = stages.iter().map(|s| s.0).collect();
    tables.dedup();
    for table in tables.iter().filter_map(|&t| rs.table(t)) {
        for (_, chain) in table.live_chains() {
            for rule in &chain.rules {
                if !rule.applies[kind as usize].public() {
                    continue;
                }
                let ports = rs.ports(key(rule, kind));
                for &(lo, hi) in ports.ranges() {
                    starts.push(lo);
                    if let Some(next) = hi.checked_add(1) {
                        starts.push(next);
                    }
                }
            }
        }
    }
    starts.sort_unstable();
    starts.dedup();
    starts.truncate(MAX_INTERVALS);
    starts
}

fn path(
    rs: &Ruleset,
    kind: Packet,
    packet: ActivePacket,
    stages: &[(TableKind, &str)],
) -> Vec<ActiveStep> {
    let starts = interval_starts(rs, kind, stages);
    let mut out: Vec<ActiveStep> = Vec::new();
    for (i, &lo) in starts.iter().enumerate() {
        let hi = starts.get(i + 1).map_or(65535, |&next| next - 1);
        if i + 1 == MAX_INTERVALS && hi != 65535 {
            break;
        }
        let Some(step) = through(rs, kind, packet, stages, lo) else {
            continue;
        };
        let ports = PortSet::range(lo, hi);
        match out.iter_mut().find(|s| same_decider(s, &step)) {
            Some(s) => s.ports = s.ports.union(&ports),
            None => out.push(ActiveStep { ports, ..step }),
        }
    }
    out
}

fn same_decider(a: &ActiveStep, b: &ActiveStep) -> bool {
    a.verdict == b.verdict && a.chain == b.chain && a.span == b.span && a.is_policy == b.is_policy
}

/// One packet on server port `port` through every stage; `None` if the walk gave up.
fn through(
    rs: &Ruleset,
    kind: Packet,
    packet: ActivePacket,
    stages: &[(TableKind, &str)],
    port: u16,
) -> Option<ActiveStep> {
    let mut mark = 0u32;
    let mut filter_accept = None;
    for &(table_kind, chain) in stages {
        let Some(table) = rs.table(table_kind) else {
            continue;
        };
        let Some(base) = table.find(chain) else {
            continue;
        };
        let end = walk(rs, table, base, kind, port, &mut mark)?;
        let step = ActiveStep {
            packet,
            verdict: end.verdict,
            ports: PortSet::empty(),
            chain: format!("{} {chain}", table_kind.name()),
            span: end.rule.map(|r| r.span).or(end.policy_span),
            is_policy: end.rule.is_none(),
            by_state: end
                .rule
                .and_then(|r| r.state)
                .is_some_and(|s| s.established),
        };
        if end.verdict != Verdict::Accept {
            return Some(step);
        }
        if table_kind == TableKind::Filter {
            filter_accept = Some(step);
        }
    }
    let chain = stages
        .iter()
        .find(|s| s.0 == TableKind::Filter)
        .map_or("filter", |s| s.1);
    Some(filter_accept.unwrap_or(ActiveStep {
        packet,
        verdict: Verdict::Accept,
        ports: PortSet::empty(),
        chain: format!("filter {chain}"),
        span: None,
        is_policy: true,
        by_state: false,
    }))
}

struct End<'r> {
    verdict: Verdict,
    /// The deciding rule; `None` for the policy.
    rule: Option<&'r Rule>,
    policy_span: Option<crate::source::Span>,
}

/// The kernel's walk of one base chain for one packet, for the general public.
fn walk<'r>(
    rs: &Ruleset,
    table: &'r Table,
    base: u32,
    kind: Packet,
    port: u16,
    mark: &mut u32,
) -> Option<End<'r>> {
    let base_chain = table.chains.get(base as usize)?;
    let policy = End {
        verdict: match base_chain.policy {
            Policy::Accept => Verdict::Accept,
            Policy::Drop => Verdict::Drop,
        },
        rule: None,
        policy_span: base_chain.policy_span,
    };
    let mut stack: Vec<(u32, usize)> = vec![(base, 0)];
    let mut visits = 0usize;
    while let Some(frame) = stack.last_mut() {
        let (chain, pos) = *frame;
        let Some(rule) = table
            .chains
            .get(chain as usize)
            .and_then(|c| c.rules.get(pos))
        else {
            stack.pop();
            continue;
        };
        frame.1 += 1;
        visits += 1;
        if visits > MAX_VISITS || stack.len() > MAX_DEPTH {
            return None;
        }
        if !matches_packet(rs, rule, kind, port, *mark) {
            continue;
        }
        let decided = |verdict| {
            Some(End {
                verdict,
                rule: Some(rule),
                policy_span: None,
            })
        };
        match rule.target {
            Target::Accept => return decided(Verdict::Accept),
            Target::Drop | Target::Opaque => return decided(Verdict::Drop),
            Target::Reject => return decided(Verdict::Reject),
            Target::Return => {
                stack.pop();
            }
            Target::Jump(to) if live(table, to) => stack.push((to, 0)),
            Target::Goto(to) if live(table, to) => {
                stack.pop();
                stack.push((to, 0));
            }
            Target::SetMark(v) => *mark = v,
            _ => {}
        }
    }
    Some(policy)
}

fn live(table: &Table, chain: u32) -> bool {
    table.chains.get(chain as usize).is_some_and(|c| !c.deleted)
}

fn matches_packet(rs: &Ruleset, rule: &Rule, kind: Packet, port: u16, mark: u32) -> bool {
    rule.applies[kind as usize].public()
        && contains(rs, key(rule, kind), port)
        && rule.mark.is_none_or(|m| m == mark)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{FileId, SourceFile};

    fn steps_of(text: &str) -> Vec<ActiveStep> {
        let src = SourceFile::new(FileId(0), "rules.v4", text.as_bytes());
        let rs = super::super::parse_save(&src);
        assert!(rs.problems.is_empty(), "{:?}", rs.problems);
        steps(&rs)
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
}
