//! The active-mode data path: the server's SYN out through OUTPUT (state NEW) and
//! the client's SYN-ACK back in through INPUT (state ESTABLISHED: the server opened
//! the connection, so no helper is needed).
//!
//! Each packet is simulated concretely, one representative server port per
//! interval on which no rule's port match changes, so jumps, gotos, returns and
//! marks follow the kernel's first-match walk exactly for the general public.

use super::class::Class;
use super::ir::{
    Applies, Base, BaseKind, Chain, Hook, Packet, Policy, PortRef, Proto, Rule, Ruleset, Table,
    Target, main_filter,
};
use crate::facts::{ActivePacket, ActiveStep, Verdict};
use crate::portset::PortSet;

/// More distinct port intervals than this and the rest stays unknown.
const MAX_INTERVALS: usize = 4096;
/// Rules visited for one packet before giving up (a chain loop a load would reject).
const MAX_VISITS: usize = 1 << 20;
const MAX_DEPTH: usize = 128;

/// The filter chains a packet crosses on these hooks, in the kernel's order.
fn path<'r>(rs: &'r Ruleset<'r>, hooks: &[Hook]) -> Vec<&'r Base> {
    hooks
        .iter()
        .flat_map(|&h| rs.bases_on(h))
        .filter(|b| b.kind == BaseKind::Filter)
        .collect()
}

/// Who decides both active-mode packets, for every server port, for the clients
/// of `class`: once for a data connection no helper expects and once for one the
/// FTP helper expects from the control connection's PORT command (its SYN is
/// RELATED, and `-m helper --helper ftp` holds).
pub fn steps(rs: &Ruleset<'_>, class: &Class) -> Vec<ActiveStep> {
    let plain = steps_of(rs, class, false);
    let helped = if helper_changes_anything(rs) {
        steps_of(rs, class, true)
    } else {
        plain
            .iter()
            .map(|s| ActiveStep {
                helped: true,
                ..s.clone()
            })
            .collect()
    };
    plain.into_iter().chain(helped).collect()
}

fn steps_of(rs: &Ruleset<'_>, class: &Class, helped: bool) -> Vec<ActiveStep> {
    let (syn_kind, syn_ack_kind) = if helped {
        (Packet::ActiveSyn.helped(), Packet::ActiveSynAck.helped())
    } else {
        (Packet::ActiveSyn, Packet::ActiveSynAck)
    };
    let syn = path(rs, &[Hook::Output, Hook::Postrouting]);
    let syn_ack = path(rs, &[Hook::Prerouting, Hook::Input]);
    let mut out = packet_steps(rs, class, syn_kind, ActivePacket::Syn, &syn);
    out.extend(packet_steps(
        rs,
        class,
        syn_ack_kind,
        ActivePacket::SynAck,
        &syn_ack,
    ));
    out
}

/// Whether any rule tells a data connection the helper expects from one it does not.
fn helper_changes_anything(rs: &Ruleset<'_>) -> bool {
    let differs = |r: &Rule, a: Packet| r.applies[a as usize] != r.applies[a.helped() as usize];
    rs.tables
        .iter()
        .flat_map(|t| &t.chains)
        .flat_map(|c| c.rules.iter())
        .any(|r| differs(r, Packet::ActiveSyn) || differs(r, Packet::ActiveSynAck))
}

/// The server-side port a rule's port match tests for this packet.
fn key(rule: &Rule, kind: Packet) -> PortRef {
    if matches!(rule.proto, Proto::Udp | Proto::Other) {
        return PortRef::Empty;
    }
    match kind {
        Packet::ActiveSyn | Packet::ActiveSynHelped | Packet::Reply => rule.key_out,
        _ => rule.key_in,
    }
}

/// Interval starts on which the verdict can change: the edges of every port match
/// of a rule that holds for the public.
fn interval_starts(rs: &Ruleset, class: &Class, kind: Packet, stages: &[&Base]) -> Vec<u16> {
    let mut starts = vec![0u16];
    let mut tables: Vec<usize> = stages.iter().map(|b| b.table).collect();
    tables.sort_unstable();
    tables.dedup();
    for table in tables.iter().filter_map(|&t| rs.tables.get(t)) {
        for chain in table.chains.iter().filter(|c| c.live) {
            for rule in chain.rules.iter() {
                if !class.applies(rule, kind).public() {
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

fn packet_steps(
    rs: &Ruleset,
    class: &Class,
    kind: Packet,
    packet: ActivePacket,
    stages: &[&Base],
) -> Vec<ActiveStep> {
    let starts = interval_starts(rs, class, kind, stages);
    let loops: Vec<Vec<bool>> = rs.tables.iter().map(looping_chains).collect();
    let mut out: Vec<ActiveStep> = Vec::new();
    for (i, &lo) in starts.iter().enumerate() {
        let hi = starts.get(i + 1).map_or(65535, |&next| next - 1);
        if i + 1 == MAX_INTERVALS && hi != 65535 {
            break;
        }
        let Some(step) = through(rs, class, (kind, packet), stages, &loops, lo) else {
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
    a.verdict == b.verdict
        && a.chain == b.chain
        && a.span == b.span
        && a.is_policy == b.is_policy
        && a.may_accept == b.may_accept
        && a.helped == b.helped
}

/// One packet on server port `port` through every stage; `None` if the walk gave up.
fn through(
    rs: &Ruleset,
    class: &Class,
    (kind, packet): (Packet, ActivePacket),
    stages: &[&Base],
    loops: &[Vec<bool>],
    port: u16,
) -> Option<ActiveStep> {
    let mut mark = 0u32;
    let main = main_filter(stages);
    let mut main_accept = None;
    for &b in stages {
        let Some(table) = rs.tables.get(b.table) else {
            continue;
        };
        let looping = loops.get(b.table).map_or(&[][..], Vec::as_slice);
        let end = walk(rs, class, (table, looping), b.chain, kind, port, &mut mark)?;
        let step = ActiveStep {
            packet,
            verdict: end.verdict,
            ports: PortSet::empty(),
            chain: b.label.clone(),
            span: end.rule.map(|r| r.span).or(end.policy_span),
            is_policy: end.rule.is_none(),
            by_state: end
                .rule
                .and_then(|r| r.state)
                .is_some_and(|s| s.established),
            may_accept: end.may_accept,
            helped: kind != packet_kind(packet),
        };
        if end.verdict != Verdict::Accept {
            return Some(step);
        }
        if Some(b) == main {
            main_accept = Some(step);
        }
    }
    Some(main_accept.unwrap_or(ActiveStep {
        packet,
        verdict: Verdict::Accept,
        ports: PortSet::empty(),
        chain: main.map_or_else(|| default_label(packet), |b| b.label.clone()),
        span: None,
        is_policy: true,
        by_state: false,
        may_accept: None,
        helped: kind != packet_kind(packet),
    }))
}

/// The packet kind of an active-mode packet no helper expects.
fn packet_kind(packet: ActivePacket) -> Packet {
    match packet {
        ActivePacket::Syn => Packet::ActiveSyn,
        ActivePacket::SynAck => Packet::ActiveSynAck,
    }
}

/// How a path without any filter chain is named: the chain that would decide it.
fn default_label(packet: ActivePacket) -> String {
    match packet {
        ActivePacket::Syn => "filter OUTPUT".into(),
        ActivePacket::SynAck => "filter INPUT".into(),
    }
}

struct End<'r> {
    verdict: Verdict,
    /// The deciding rule; `None` for the policy.
    rule: Option<&'r Rule>,
    policy_span: Option<crate::source::Span>,
    /// The first accept walked past that holds for some connections only.
    may_accept: Option<crate::source::Span>,
}

/// The kernel's walk of one base chain for one packet, for the general public.
fn walk<'r>(
    rs: &Ruleset,
    class: &Class,
    (table, looping): (&'r Table<'r>, &[bool]),
    base: u32,
    kind: Packet,
    port: u16,
    mark: &mut u32,
) -> Option<End<'r>> {
    let base_chain = table.chains.get(base as usize)?;
    let mut policy = End {
        verdict: match base_chain.policy {
            Policy::Accept => Verdict::Accept,
            Policy::Drop => Verdict::Drop,
        },
        rule: None,
        policy_span: base_chain.policy_span,
        may_accept: None,
    };
    let mut may_accept = None;
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
        let holds = packet_match(rs, class, rule, kind, port, *mark);
        if !holds.public() {
            // An accept that holds for some connections only may admit the packet.
            if holds == Applies::ToSome && rule.target == Target::Accept {
                may_accept = may_accept.or(Some(rule.span));
            }
            continue;
        }
        let decided = |verdict| {
            Some(End {
                verdict,
                rule: Some(rule),
                policy_span: None,
                may_accept,
            })
        };
        match rule.target {
            Target::Accept => return decided(Verdict::Accept),
            Target::Drop | Target::Opaque => return decided(Verdict::Drop),
            Target::Reject => return decided(Verdict::Reject),
            Target::Return => {
                stack.pop();
            }
            // The kernel refuses a ruleset whose chains loop: no packet walks it.
            Target::Jump(to) | Target::Goto(to) if looping.get(to as usize) == Some(&true) => {
                return None;
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
    policy.may_accept = may_accept;
    Some(policy)
}

/// Chains from which jumps and gotos can come back round (in a loop, or leading
/// into one): what is left after peeling, again and again, the chains whose
/// every jump leads to peeled chains.
fn looping_chains(table: &Table) -> Vec<bool> {
    let (callers, mut pending) = Callers::of(table);
    let n = table.chains.len();
    let mut peel: Vec<usize> = (0..n).filter(|&c| pending[c] == 0).collect();
    let mut looping = vec![true; n];
    while let Some(c) = peel.pop() {
        looping[c] = false;
        for &caller in callers.of_chain(c) {
            let caller = caller as usize;
            pending[caller] -= 1;
            if pending[caller] == 0 {
                peel.push(caller);
            }
        }
    }
    looping
}

/// Per chain, the chains whose rules jump or go to it (once per rule), in one
/// flat list: a kube-proxy table has 285,000 chains and 700,000 jumps.
struct Callers {
    /// Callers of chain `c` are `list[start[c]..start[c + 1]]`.
    start: Vec<u32>,
    list: Vec<u32>,
}

impl Callers {
    /// The callers, and per chain the number of jumps out of it.
    fn of(table: &Table) -> (Callers, Vec<u32>) {
        let n = table.chains.len();
        let mut out_of = vec![0u32; n];
        let mut start = vec![0u32; n + 1];
        for (from, c) in table.chains.iter().enumerate() {
            for to in jumps(c, n) {
                out_of[from] += 1;
                start[to + 1] += 1;
            }
        }
        for c in 0..n {
            start[c + 1] += start[c];
        }
        let mut list = vec![0u32; start[n] as usize];
        let mut next = start.clone();
        for (from, c) in table.chains.iter().enumerate() {
            for to in jumps(c, n) {
                list[next[to] as usize] = from as u32;
                next[to] += 1;
            }
        }
        (Callers { start, list }, out_of)
    }

    fn of_chain(&self, c: usize) -> &[u32] {
        &self.list[self.start[c] as usize..self.start[c + 1] as usize]
    }
}

/// The chains (of `n`) that `chain`'s rules jump or go to, once per rule.
fn jumps<'c>(chain: &'c Chain<'_>, n: usize) -> impl Iterator<Item = usize> + 'c {
    chain.rules.iter().filter_map(move |r| match r.target {
        Target::Jump(to) | Target::Goto(to) if (to as usize) < n => Some(to as usize),
        _ => None,
    })
}

fn live(table: &Table, chain: u32) -> bool {
    table.chains.get(chain as usize).is_some_and(|c| c.live)
}

/// How a rule's matches hold for one packet of the class on `port`.
fn packet_match(
    rs: &Ruleset,
    class: &Class,
    rule: &Rule,
    kind: Packet,
    port: u16,
    mark: u32,
) -> Applies {
    if rs.contains(key(rule, kind), port) && rule.mark.is_none_or(|m| m == mark) {
        class.applies(rule, kind)
    } else {
        Applies::Never
    }
}
