//! Rules that can never match: shadowed by earlier unconditional rules of their chain.

use super::{PortRef, Proto, Rule, Ruleset, Table, TableKind, Target};
use crate::portset::PortSet;
use crate::source::Span;
use std::collections::BTreeMap;

/// A rule that can never decide anything: earlier rules in its chain that match
/// every packet on those ports already decided them all.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shadowed {
    pub table: TableKind,
    pub chain: String,
    pub rule: Span,
    /// The destination ports the rule names (all already decided).
    pub ports: PortSet,
    /// `tcp` or `udp` when the rule's ports were decided within that protocol;
    /// `None` when an earlier rule decides every packet.
    pub protocol: Option<&'static str>,
    /// The earlier rules that decided them (at most three).
    pub by: Vec<Span>,
}

/// Rules shadowed by earlier unconditional rules of the same chain, per protocol.
pub fn shadowed_rules(rs: &Ruleset) -> Vec<Shadowed> {
    let mut out = Vec::new();
    for table in rs.all_tables() {
        for (_, chain) in table.live_chains() {
            shadowed_in_chain(rs, table, &chain.name, &chain.rules, &mut out);
        }
    }
    out
}

/// Ports decided so far in a chain, each piece with the rule that decided it.
#[derive(Default)]
struct Decided {
    pieces: BTreeMap<u16, (u16, Span)>,
}

impl Decided {
    /// The piece containing `port`.
    fn at(&self, port: u16) -> Option<(u16, u16, Span)> {
        let (&s, &(e, span)) = self.pieces.range(..=port).next_back()?;
        (e >= port).then_some((s, e, span))
    }

    /// Whether every port of `set` is decided; then the first rules that decided them.
    fn deciders(&self, set: &PortSet) -> Option<Vec<Span>> {
        let mut by = Vec::new();
        for &(lo, hi) in set.ranges() {
            let mut port = lo;
            loop {
                let (_, e, span) = self.at(port)?;
                if by.len() < 3 && !by.contains(&span) {
                    by.push(span);
                }
                if e >= hi {
                    break;
                }
                port = e + 1;
            }
        }
        Some(by)
    }

    /// Mark the undecided ports of `set` as decided by `span`.
    fn add(&mut self, set: &PortSet, span: Span) {
        for &(lo, hi) in set.ranges() {
            let mut port = lo;
            loop {
                let next = match self.at(port) {
                    Some((_, e, _)) => e,
                    None => {
                        let gap_end = self
                            .pieces
                            .range(port..=hi)
                            .next()
                            .map_or(hi, |(&s, _)| s - 1);
                        self.pieces.insert(port, (gap_end, span));
                        gap_end
                    }
                };
                if next >= hi {
                    break;
                }
                port = next + 1;
            }
        }
    }
}

fn shadowed_in_chain(
    rs: &Ruleset,
    table: &Table,
    name: &str,
    rules: &[Rule],
    out: &mut Vec<Shadowed>,
) {
    // What earlier plain, terminal rules decided: every protocol, TCP ports, UDP ports.
    let mut all_decided: Option<Span> = None;
    let mut tcp = Decided::default();
    let mut udp = Decided::default();
    for rule in rules {
        let dports = rs.ports(rule.key_in);
        let shadow = match (all_decided, rule.proto) {
            (Some(by), _) => Some((None, vec![by])),
            (None, Proto::Tcp) if !dports.is_empty() => {
                tcp.deciders(&dports).map(|by| (Some("tcp"), by))
            }
            (None, Proto::Udp) if !dports.is_empty() => {
                udp.deciders(&dports).map(|by| (Some("udp"), by))
            }
            _ => None,
        };
        if let Some((protocol, by)) = shadow {
            out.push(Shadowed {
                table: table.kind,
                chain: name.to_owned(),
                rule: rule.span,
                ports: if protocol.is_some() {
                    dports
                } else {
                    PortSet::all()
                },
                protocol,
                by,
            });
            continue;
        }
        let terminal = matches!(
            rule.target,
            Target::Accept | Target::Drop | Target::Reject | Target::Return
        );
        if !(terminal && rule.plain && rule.key_out == PortRef::ALL) {
            continue;
        }
        match rule.proto {
            Proto::Any if rule.key_in == PortRef::ALL => all_decided = Some(rule.span),
            Proto::Tcp => tcp.add(&dports, rule.span),
            Proto::Udp => udp.add(&dports, rule.span),
            _ => {}
        }
    }
}
