//! ICMPv6 neighbour discovery through an IPv6 ruleset. A client (or the router
//! in front of it) finds the host's link address with a neighbour solicitation
//! and waits for the advertisement the host sends back; where either is dropped,
//! nothing reaches the host over IPv6, not even its FTP control port.
//!
//! Only a verdict that holds for every solicitation is reported: an accept that
//! holds for some (an interface, a rate) leaves the answer open.

use super::ir::{Applies, BaseKind, Hook, NdPacket, Policy, Rule, Ruleset, Target};
use crate::addrset::Family;
use crate::facts::NdBlocked;
use crate::source::Span;

/// Deeper jump chains are left undecided (a loop never loads, but a file may hold one).
const MAX_DEPTH: usize = 32;

/// The first neighbour discovery packet the ruleset drops for every neighbour:
/// solicitations and advertisements through prerouting and input arriving,
/// through output leaving; `None` when each passes or it depends.
pub fn blocked(rs: &Ruleset) -> Option<NdBlocked> {
    if rs.family != Family::V6 {
        return None;
    }
    NdPacket::ALL.into_iter().find_map(|packet| {
        let hooks: &[Hook] = match packet.inbound() {
            true => &[Hook::Prerouting, Hook::Input],
            false => &[Hook::Output],
        };
        let mut meant = None;
        match through(rs, hooks, packet, &mut meant) {
            Passage::Blocked { by, policy, chain } => Some(NdBlocked {
                by,
                policy,
                chain,
                packet,
                meant,
                accept_line: String::new(),
                insert: None,
                nftables: None,
            }),
            _ => None,
        }
    })
}

enum Passage {
    Passes,
    Undecided,
    Blocked {
        by: Span,
        policy: bool,
        chain: String,
    },
}

/// The filter base chains on `hooks`, in the order the kernel calls them, each of
/// which must let the packet through.
fn through(rs: &Ruleset, hooks: &[Hook], packet: NdPacket, meant: &mut Option<Span>) -> Passage {
    for &hook in hooks {
        for base in rs.bases_on(hook) {
            if base.kind != BaseKind::Filter {
                continue;
            }
            let mut walk = Walk {
                rs,
                table: base.table,
                packet,
                meant: &mut *meant,
            };
            let by = match walk.chain(base.chain, 0) {
                Outcome::Accepted => continue,
                Outcome::Undecided => return Passage::Undecided,
                Outcome::Blocked(span) => (span, false),
                Outcome::FellThrough => match rs.chain(base.table, base.chain) {
                    Some(c) if c.policy == Policy::Drop => match c.policy_span {
                        Some(span) => (span, true),
                        None => return Passage::Undecided,
                    },
                    _ => continue,
                },
            };
            return Passage::Blocked {
                by: by.0,
                policy: by.1,
                chain: base.label.clone(),
            };
        }
    }
    Passage::Passes
}

enum Outcome {
    Accepted,
    Blocked(Span),
    Undecided,
    /// The end of the chain or a RETURN.
    FellThrough,
}

struct Walk<'w, 'r, 'a> {
    rs: &'w Ruleset<'a>,
    table: usize,
    packet: NdPacket,
    meant: &'r mut Option<Span>,
}

impl Walk<'_, '_, '_> {
    fn chain(&mut self, chain: u32, depth: usize) -> Outcome {
        let Some(c) = self.rs.chain(self.table, chain) else {
            return Outcome::Undecided;
        };
        if depth > MAX_DEPTH {
            return Outcome::Undecided;
        }
        if !c.live {
            return Outcome::FellThrough;
        }
        for rule in c.rules.iter() {
            if let Some(decided) = self.rule(rule, depth) {
                return decided;
            }
        }
        Outcome::FellThrough
    }

    /// What one rule does to the packet; `None` when evaluation goes on.
    fn rule(&mut self, rule: &Rule, depth: usize) -> Option<Outcome> {
        if rule.nd.icmpv4() && rule.target == Target::Accept && self.meant.is_none() {
            *self.meant = Some(rule.span);
        }
        let applies = rule.nd.applies(self.packet);
        if applies == Applies::Never {
            return None;
        }
        let every = applies.public();
        match rule.target {
            Target::Accept if every => Some(Outcome::Accepted),
            Target::Accept | Target::Opaque => Some(Outcome::Undecided),
            Target::Drop | Target::Reject if every => Some(Outcome::Blocked(rule.span)),
            Target::Return if every => Some(Outcome::FellThrough),
            Target::Jump(to) | Target::Goto(to) => {
                let inner = self.chain(to, depth + 1);
                let goto = matches!(rule.target, Target::Goto(_));
                match inner {
                    Outcome::FellThrough if goto && every => Some(Outcome::FellThrough),
                    Outcome::FellThrough => None,
                    Outcome::Blocked(_) if !every => None,
                    Outcome::Accepted if !every => Some(Outcome::Undecided),
                    decided => Some(decided),
                }
            }
            _ => None,
        }
    }
}
