//! Source classes: the clients a ruleset tells apart.
//!
//! The client addresses of every rule that can let a connection through (accept,
//! return, jump, goto) split the address space into classes whose members every
//! such rule treats alike; the evaluator walks the chains once per class. Address
//! matches of rules that only drop (a ban list) never split: for a class they cover
//! in part they are "may match", so a ban never closes a port to the public.

use super::ifaces::ClientIfaces;
use super::ir::{ANY_ADDR, AddrRef, Applies, Base, BaseKind, Packet, Rule, Ruleset, Table, Target};
use crate::addrset::{AddrSet, clients};
use crate::facts::Uncertainty;
use std::collections::BTreeMap;

/// More distinct source sets than this and the rest are judged as "some sources":
/// each class costs one more walk of the ruleset.
pub const MAX_SOURCE_SETS: usize = 16;

/// One class of clients and how each address set of the ruleset matches it.
pub struct Class<'i> {
    pub addrs: AddrSet,
    judged: Vec<Applies>,
    ifaces: &'i ClientIfaces,
}

impl<'i> Class<'i> {
    pub fn new(addrs: AddrSet, sets: &[AddrSet], ifaces: &'i ClientIfaces) -> Class<'i> {
        let judged = sets.iter().map(|s| applies_to(&addrs, s)).collect();
        Class {
            addrs,
            judged,
            ifaces,
        }
    }

    /// Whether a rule's matches hold for this class and packet kind.
    pub fn applies(&self, rule: &Rule, kind: Packet) -> Applies {
        let (client, iface) = if kind.inbound() {
            (rule.client_in, rule.iface_in)
        } else {
            (rule.client_out, rule.iface_out)
        };
        let rest = rule.applies[kind as usize].and(self.ifaces.applies(iface));
        if client == ANY_ADDR || rest == Applies::Never {
            return rest;
        }
        rest.and(self.client(client))
    }

    fn client(&self, r: AddrRef) -> Applies {
        self.judged
            .get(r as usize)
            .copied()
            .unwrap_or(Applies::ToSome)
    }
}

/// How a match on `set` holds for the clients of `class`: for all, none, most
/// (the public is in it) or some.
pub fn applies_to(class: &AddrSet, set: &AddrSet) -> Applies {
    if class.family() != set.family() {
        return Applies::Never;
    }
    // Two-pointer walks, no allocation: a million-rule ban list judges a million sets.
    let inside = overlap(class.ranges(), set.ranges());
    if inside == 0.0 {
        Applies::Never
    } else if covers(set.ranges(), class.ranges()) {
        Applies::ToAll
    } else if inside * 2.0 > approx_count(class) {
        Applies::ToMost
    } else {
        Applies::ToSome
    }
}

/// How many addresses two sorted, disjoint range lists share (approximately, in f64).
fn overlap(a: &[(u128, u128)], b: &[(u128, u128)]) -> f64 {
    let (mut i, mut j, mut total) = (0, 0, 0.0);
    while i < a.len() && j < b.len() {
        let lo = a[i].0.max(b[j].0);
        let hi = a[i].1.min(b[j].1);
        if lo <= hi {
            total += (hi - lo) as f64 + 1.0;
        }
        if a[i].1 < b[j].1 {
            i += 1;
        } else {
            j += 1;
        }
    }
    total
}

/// Whether every range of `inner` lies inside one range of `outer` (both sorted,
/// disjoint and merged, so a range can never straddle two).
fn covers(outer: &[(u128, u128)], inner: &[(u128, u128)]) -> bool {
    let mut j = 0;
    inner.iter().all(|&(lo, hi)| {
        while j < outer.len() && outer[j].1 < lo {
            j += 1;
        }
        outer
            .get(j)
            .is_some_and(|&(olo, ohi)| olo <= lo && hi <= ohi)
    })
}

fn approx_count(set: &AddrSet) -> f64 {
    set.ranges()
        .iter()
        .map(|&(lo, hi)| (hi - lo) as f64 + 1.0)
        .sum()
}

/// The classes of clients the ruleset tells apart, largest first, and what was
/// judged only approximately.
pub fn source_classes(
    rs: &Ruleset<'_>,
    bases: &[&Base],
    uncertain: &mut Vec<Uncertainty>,
) -> Vec<AddrSet> {
    let everyone = clients(rs.family);
    let splitting = splitting_sets(rs, bases, uncertain);
    let mut classes = partition(&everyone, &splitting);
    classes.sort_by(|a, b| approx_count(b).total_cmp(&approx_count(a)).then(a.cmp(b)));
    classes
}

/// Address sets of rules that let connections through, first seen first.
fn splitting_sets<'r>(
    rs: &'r Ruleset<'_>,
    bases: &[&Base],
    uncertain: &mut Vec<Uncertainty>,
) -> Vec<&'r AddrSet> {
    let mut tables: Vec<usize> = bases.iter().map(|b| b.table).collect();
    tables.sort_unstable();
    tables.dedup();
    let mut refs: Vec<AddrRef> = Vec::new();
    let same = |a: AddrRef, b: AddrRef| {
        a == b || rs.addr_sets.get(a as usize) == rs.addr_sets.get(b as usize)
    };
    let marks_matched = rs
        .tables
        .iter()
        .flat_map(|t| t.chains.iter().flat_map(|c| c.rules.iter()))
        .any(|r| r.mark.is_some());
    // Tables only nat hooks enter (an nftables table may hold filter chains too).
    let nat_tables: Vec<usize> = tables
        .iter()
        .copied()
        .filter(|&t| {
            bases
                .iter()
                .filter(|b| b.table == t)
                .all(|b| b.kind == BaseKind::Nat)
        })
        .collect();
    for (table_index, table) in tables
        .iter()
        .filter_map(|&t| rs.tables.get(t).map(|table| (t, table)))
    {
        let matters = chains_that_matter(table, marks_matched);
        for rule in table
            .chains
            .iter()
            .filter(|c| c.live)
            .flat_map(|c| c.rules.iter())
        {
            let splits = match rule.target {
                Target::Jump(to) => matters.get(to as usize).copied().unwrap_or(false),
                // A goto ends the calling chain for what it selects, whatever the
                // chain it goes to holds.
                Target::Goto(_) => true,
                target => lets_through(target),
            };
            if !splits {
                continue;
            }
            // In nat PREROUTING a `-d` is the host's own address, never the client's:
            // only the reply path (filter OUTPUT) names clients as destinations.
            let client_out = if nat_tables.contains(&table_index) {
                ANY_ADDR
            } else {
                rule.client_out
            };
            for r in [rule.client_in, client_out] {
                if r == ANY_ADDR || refs.iter().any(|&k| same(k, r)) {
                    continue;
                }
                if refs.len() == MAX_SOURCE_SETS {
                    uncertain.push(Uncertainty {
                        span: rule.span,
                        what: format!(
                            "more than {MAX_SOURCE_SETS} distinct source address sets: this rule's sources and later ones are judged as \"some sources\""
                        ),
                    });
                    return resolve(rs, &refs);
                }
                refs.push(r);
            }
        }
    }
    resolve(rs, &refs)
}

/// Per chain, whether entering it can let a connection through where it would not
/// have gone, or change what later rules see: it accepts, returns, rewrites, hands
/// off, sets a helper or a mark a rule matches, or calls a chain that does.
/// kube-proxy's `-s POD -j KUBE-MARK-MASQ` (a chain that only marks for
/// masquerading) and `-s BANNED -j LOGDROP` (a chain that only logs and drops) then
/// split nothing, as a plain `-s BANNED -j DROP` does not.
fn chains_that_matter(table: &Table<'_>, marks_matched: bool) -> Vec<bool> {
    let n = table.chains.len();
    let mut matters = vec![false; n];
    let mut callers: Vec<Vec<u32>> = vec![Vec::new(); n];
    let mut queue = Vec::new();
    for (c, chain) in table.chains.iter().enumerate() {
        for rule in chain.rules.iter() {
            match rule.target {
                Target::Jump(to) | Target::Goto(to) => {
                    if let Some(list) = callers.get_mut(to as usize) {
                        list.push(c as u32);
                    }
                }
                Target::Continue | Target::Drop | Target::Reject => {}
                Target::SetMark(_) if !marks_matched => {}
                _ => {
                    if !matters[c] {
                        matters[c] = true;
                        queue.push(c as u32);
                    }
                }
            }
        }
    }
    while let Some(c) = queue.pop() {
        for &caller in &callers[c as usize] {
            if !matters[caller as usize] {
                matters[caller as usize] = true;
                queue.push(caller);
            }
        }
    }
    matters
}

fn resolve<'r>(rs: &'r Ruleset<'_>, refs: &[AddrRef]) -> Vec<&'r AddrSet> {
    refs.iter()
        .filter_map(|&r| rs.addr_sets.get(r as usize))
        .collect()
}

fn lets_through(target: Target) -> bool {
    // A nat rewrite decides what the filter later sees, so its sources count too.
    matches!(
        target,
        Target::Accept
            | Target::Return
            | Target::Jump(_)
            | Target::Goto(_)
            | Target::Redirect(_)
            | Target::Dnat { .. }
    )
}

/// Split `everyone` where any of `sets` begins or ends; addresses in exactly the
/// same sets form one class.
fn partition(everyone: &AddrSet, sets: &[&AddrSet]) -> Vec<AddrSet> {
    if sets.is_empty() {
        return vec![everyone.clone()];
    }
    let family = everyone.family();
    let mut cuts: Vec<u128> = vec![0];
    for set in sets.iter().chain(std::iter::once(&everyone)) {
        for &(lo, hi) in set.ranges() {
            cuts.push(lo);
            if hi < family.max_address() {
                cuts.push(hi + 1);
            }
        }
    }
    cuts.sort_unstable();
    cuts.dedup();
    let mut by_signature: BTreeMap<Vec<bool>, Vec<(u128, u128)>> = BTreeMap::new();
    for (i, &lo) in cuts.iter().enumerate() {
        let hi = cuts
            .get(i + 1)
            .map_or(family.max_address(), |&next| next - 1);
        if !everyone.contains(lo) {
            continue;
        }
        let signature = sets.iter().map(|s| s.contains(lo)).collect();
        by_signature.entry(signature).or_default().push((lo, hi));
    }
    by_signature
        .into_values()
        .map(|ranges| AddrSet::from_ranges(family, ranges))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::addrset::Family;

    fn v4(text: &str) -> AddrSet {
        AddrSet::parse_list(Family::V4, text).expect("valid")
    }

    #[test]
    fn sets_split_the_clients_into_classes_by_membership() {
        let a = v4("10.0.0.0/8");
        let b = v4("10.1.0.0/16,192.0.2.0/24");
        let classes = partition(&clients(Family::V4), &[&a, &b]);
        let texts: Vec<String> = classes.iter().map(|c| c.to_cidr_text()).collect();
        assert!(texts.contains(&"10.1.0.0/16".to_owned()), "{texts:?}");
        assert!(texts.contains(&"192.0.2.0/24".to_owned()), "{texts:?}");
        assert!(
            texts.contains(
                &"10.0.0.0/16,10.2.0.0/15,10.4.0.0/14,10.8.0.0/13,10.16.0.0/12,10.32.0.0/11,10.64.0.0/10,10.128.0.0/9"
                    .to_owned()
            ),
            "{texts:?}"
        );
        assert_eq!(classes.len(), 4, "{texts:?}");
        let union = classes
            .iter()
            .fold(AddrSet::empty(Family::V4), |acc, c| acc.union(c));
        assert_eq!(union, clients(Family::V4));
    }

    #[test]
    fn loopback_is_never_a_client() {
        let classes = partition(&clients(Family::V4), &[&v4("127.0.0.1")]);
        assert_eq!(classes, vec![clients(Family::V4)]);
        assert!(!clients(Family::V6).contains(1));
    }

    #[test]
    fn a_set_covering_part_of_a_class_may_match() {
        let class = v4("10.0.0.0/8");
        assert_eq!(applies_to(&class, &v4("10.0.0.0/8")), Applies::ToAll);
        assert_eq!(applies_to(&class, &v4("0.0.0.0/0")), Applies::ToAll);
        assert_eq!(applies_to(&class, &v4("192.0.2.1")), Applies::Never);
        assert_eq!(applies_to(&class, &v4("10.1.2.3")), Applies::ToSome);
        let all_but_one = v4("10.1.2.3").complement();
        assert_eq!(applies_to(&class, &all_but_one), Applies::ToMost);
    }
}
