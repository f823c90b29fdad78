//! nftables onto the filter IR, one address family at a time: `ip` and `inet`
//! tables filter IPv4, `ip6` and `inet` tables IPv6; every base chain keeps its
//! hook and priority, so several base chains on one hook all have to accept.

use super::model::{self, Elem, Item, TableFamily, Value, Verdict};
use crate::addrset::{AddrSet, Family, clients};
use crate::filter::class::applies_to;
use crate::filter::ir::{
    self, ANY_ADDR, Applies, Base, BaseKind, Hook, PACKETS, Packet, Policy, PortRef, Proto,
    StateMatch, Target,
};
use crate::formats::iptables::names::{EPHEMERAL, tcp_service, udp_service};
use crate::portset::PortSet;
use std::borrow::Cow;

mod nat;

/// Whether a table's rules see packets of `family`.
pub fn filters(t: TableFamily, family: Family) -> bool {
    matches!(
        (t, family),
        (TableFamily::Inet, _) | (TableFamily::Ip, Family::V4) | (TableFamily::Ip6, Family::V6)
    )
}

pub fn lower(file: &model::File, family: Family) -> ir::Ruleset<'static> {
    let mut out = Lowered {
        family,
        port_sets: Vec::new(),
        addr_sets: Vec::new(),
        ifaces: Vec::new(),
    };
    let mut tables = Vec::new();
    let mut bases = Vec::new();
    for table in file.tables.iter().filter(|t| filters(t.family, family)) {
        let index = tables.len();
        let mut lowered = ir::Table::default();
        for (ci, chain) in table.chains.iter().enumerate() {
            let mut rules = Vec::new();
            for rule in &chain.rules {
                out.rule(table, rule, &mut rules);
            }
            let (policy, policy_span) = match &chain.base {
                Some(b) if b.drop => (Policy::Drop, b.policy_span),
                Some(b) => (Policy::Accept, b.policy_span),
                None => (Policy::Accept, None),
            };
            lowered.chains.push(ir::Chain {
                rules: Cow::Owned(rules),
                policy,
                policy_span,
                live: true,
            });
            if let Some((b, hook)) = chain.base.as_ref().and_then(|b| Some((b, hook(&b.hook)?))) {
                bases.push(Base {
                    hook,
                    priority: b.priority,
                    kind: if b.kind == "nat" {
                        BaseKind::Nat
                    } else {
                        BaseKind::Filter
                    },
                    table: index,
                    chain: ci as u32,
                    label: format!(
                        "{} {} {}",
                        family_name(table.family),
                        table.name,
                        chain.name
                    ),
                });
            }
        }
        tables.push(lowered);
    }
    ir::Ruleset {
        family,
        tables,
        bases,
        port_sets: Cow::Owned(out.port_sets),
        addr_sets: Cow::Owned(out.addr_sets),
        ifaces: Cow::Owned(out.ifaces),
    }
}

pub fn family_name(f: TableFamily) -> &'static str {
    match f {
        TableFamily::Ip => "ip",
        TableFamily::Ip6 => "ip6",
        TableFamily::Inet => "inet",
        TableFamily::Other => "other",
    }
}

fn hook(name: &str) -> Option<Hook> {
    Some(match name {
        "prerouting" => Hook::Prerouting,
        "input" => Hook::Input,
        "forward" => Hook::Forward,
        "output" => Hook::Output,
        "postrouting" => Hook::Postrouting,
        _ => return None,
    })
}

struct Lowered {
    family: Family,
    port_sets: Vec<PortSet>,
    addr_sets: Vec<AddrSet>,
    ifaces: Vec<String>,
}

/// A rule while its matches are read.
#[derive(Clone)]
struct Builder {
    key_in: Option<PortSet>,
    key_out: Option<PortSet>,
    client_in: Option<AddrSet>,
    client_out: Option<AddrSet>,
    applies: [Applies; PACKETS],
    /// `iifname NAME` / `oifname NAME` (one name, not loopback): (name, negated).
    iface_in: Option<(String, bool)>,
    iface_out: Option<(String, bool)>,
    proto: Proto,
    plain: bool,
    state: Option<StateMatch>,
    mark: Option<u32>,
}

impl Lowered {
    fn rule(&mut self, table: &model::Table, rule: &model::Rule, out: &mut Vec<ir::Rule>) {
        let mut b = Builder {
            key_in: None,
            key_out: None,
            client_in: None,
            client_out: None,
            applies: [Applies::ToAll; PACKETS],
            iface_in: None,
            iface_out: None,
            proto: Proto::Any,
            plain: true,
            state: None,
            mark: None,
        };
        let mut target = Target::Continue;
        // A lookup whose value decides the target: one rule per element.
        let mut each: Option<(&str, Vec<(Elem, Target)>)> = None;
        for item in &rule.items {
            match item {
                Item::Match {
                    key,
                    negated,
                    value,
                } => {
                    let v = resolve(table, value);
                    b.matching(self.family, key, *negated, v.as_deref());
                }
                Item::Vmap { key, value } => {
                    each = resolve(table, value).map(|elems| {
                        let targets = elems
                            .into_iter()
                            .filter_map(|e| Some((verdict(table, e.value.as_ref()?), e)))
                            .map(|(t, e)| (e, t));
                        (key.as_str(), targets.collect())
                    });
                }
                Item::Verdict(v) => target = verdict(table, v),
                Item::HelperSet(name) => target = nat::helper(table, name),
                Item::HelperMap { key, value } => each = nat::helpers(table, key, value),
                Item::Notrack => target = Target::NoTrack,
                Item::MarkSet(m) => target = Target::SetMark(*m),
                Item::Dnat { addr, port } => match nat::dnat(table, addr, port) {
                    nat::Dnat::One(t) => target = t,
                    nat::Dnat::Each(key, targets) => each = Some((key, targets)),
                },
                Item::Redirect(p) => target = Target::Redirect(*p),
                Item::NatOther => target = Target::NatOther,
                Item::Limit => b.condition(Applies::ToSome),
                Item::Other => {}
            }
        }
        match each {
            None => out.push(self.finish(b, rule, target)),
            Some((key, targets)) => {
                for (e, t) in targets {
                    let mut one = b.clone();
                    one.matching(self.family, key, false, Some(std::slice::from_ref(&e)));
                    out.push(self.finish(one, rule, t));
                }
            }
        }
    }

    fn finish(&mut self, mut b: Builder, rule: &model::Rule, target: Target) -> ir::Rule {
        let tcp_possible = matches!(b.proto, Proto::Any | Proto::Tcp | Proto::AllBut);
        let (key_in, key_out) = if tcp_possible || b.proto == Proto::Udp {
            (
                self.port_ref(b.key_in.take()),
                self.port_ref(b.key_out.take()),
            )
        } else {
            (PortRef::Empty, PortRef::Empty)
        };
        let client_in = self.addr_ref(b.client_in.take());
        let client_out = self.addr_ref(b.client_out.take());
        let iface_in = self.iface_ref(b.iface_in.take());
        let iface_out = self.iface_ref(b.iface_out.take());
        ir::Rule {
            span: rule.span,
            key_in,
            key_out,
            client_in,
            client_out,
            applies: b.applies,
            iface_in,
            iface_out,
            proto: b.proto,
            plain: b.plain,
            state: b.state,
            mark: b.mark,
            target,
            spec: 0,
            nd: crate::filter::ir::NdMatch::NOT_JUDGED,
        }
    }

    fn iface_ref(&mut self, name: Option<(String, bool)>) -> ir::IfaceMatch {
        let Some((name, negated)) = name else {
            return ir::IfaceMatch::Any;
        };
        crate::filter::ifaces::intern(&mut self.ifaces, &name, negated)
    }

    fn port_ref(&mut self, set: Option<PortSet>) -> PortRef {
        match set {
            None => PortRef::ALL,
            Some(s) if s.is_empty() => PortRef::Empty,
            Some(s) if s.ranges().len() == 1 => PortRef::Range(s.ranges()[0].0, s.ranges()[0].1),
            Some(s) => {
                self.port_sets.push(s);
                PortRef::Set(self.port_sets.len() as u32 - 1)
            }
        }
    }

    fn addr_ref(&mut self, set: Option<AddrSet>) -> ir::AddrRef {
        match set {
            None => ANY_ADDR,
            Some(s) => {
                self.addr_sets.push(s);
                self.addr_sets.len() as u32 - 1
            }
        }
    }
}

/// The elements a value names; `None` for a set filled at run time.
pub(super) fn resolve(table: &model::Table, value: &Value) -> Option<Vec<Elem>> {
    let single = |w: &String| Elem {
        key: vec![w.clone()],
        value: None,
        data: None,
    };
    match value {
        Value::List(words) => Some(words.iter().map(single).collect()),
        Value::Anon(e) => Some(e.clone()),
        Value::Named(name) => {
            let set = table.sets.iter().find(|s| &s.name == name)?;
            (!set.dynamic).then(|| set.elements.clone())
        }
    }
}

fn verdict(table: &model::Table, v: &Verdict) -> Target {
    let chain = |name: &str| {
        table
            .chains
            .iter()
            .position(|c| c.name == name)
            .map(|i| i as u32)
    };
    match v {
        Verdict::Accept => Target::Accept,
        Verdict::Drop => Target::Drop,
        Verdict::Reject => Target::Reject,
        Verdict::Return => Target::Return,
        Verdict::Continue => Target::Continue,
        Verdict::Queue => Target::Opaque,
        Verdict::Jump(n) => chain(n).map_or(Target::Continue, Target::Jump),
        Verdict::Goto(n) => chain(n).map_or(Target::Continue, Target::Goto),
    }
}

impl Builder {
    fn condition(&mut self, a: Applies) {
        for x in &mut self.applies {
            *x = x.and(a);
        }
    }

    fn split(&mut self, inbound: Applies, reply: Applies) {
        for (x, p) in self.applies.iter_mut().zip(Packet::ALL) {
            *x = x.and(if p.inbound() { inbound } else { reply });
        }
    }

    /// `iifname NAME` (`inbound`) or `oifname NAME`: which interface the clients use
    /// is judged once the ruleset is whole. A locally generated packet has no input
    /// interface and an arriving one no output interface yet, so the other
    /// direction never matches the name.
    fn interface(&mut self, name: &str, negated: bool, inbound: bool) {
        let absent = if negated {
            Applies::ToAll
        } else {
            Applies::Never
        };
        let slot = (name.to_string(), negated);
        if inbound {
            self.split(Applies::ToAll, absent);
            self.iface_in = Some(slot);
        } else {
            self.split(absent, Applies::ToAll);
            self.iface_out = Some(slot);
        }
    }

    /// One match; `elems` `None` when its set is only known at run time.
    fn matching(&mut self, family: Family, key: &str, negated: bool, elems: Option<&[Elem]>) {
        let (selector, field) = key.split_once(' ').unwrap_or((key, ""));
        if matches!(
            key,
            "tcp dport" | "tcp sport" | "udp dport" | "udp sport" | "th dport" | "th sport"
        ) || matches!(selector, "sctp" | "dccp" | "udplite")
        {
            self.proto_of_selector(selector);
        }
        if family_mismatch(family, selector, field, elems) {
            self.condition(Applies::Never);
            return;
        }
        let Some(elems) = elems else {
            self.plain = false;
            self.condition(Applies::ToSome);
            return;
        };
        if elems.iter().any(|e| e.key.len() > 1) {
            // A concatenation (`ip saddr . tcp dport`): pasvlint does not split it.
            self.plain = false;
            self.condition(if negated {
                Applies::ToMost
            } else {
                Applies::ToSome
            });
            return;
        }
        let words: Vec<&str> = elems.iter().map(|e| e.key[0].as_str()).collect();
        match key {
            "tcp dport" | "udp dport" | "th dport" => {
                let udp = selector == "udp";
                if let Some(set) = ports(&words, udp, negated) {
                    self.dport(&set)
                } else {
                    self.condition(Applies::ToSome)
                }
            }
            "tcp sport" | "udp sport" | "th sport" => {
                let udp = selector == "udp";
                if let Some(set) = ports(&words, udp, negated) {
                    self.sport(&set)
                } else {
                    self.condition(Applies::ToSome)
                }
            }
            "ip saddr" | "ip6 saddr" | "ip daddr" | "ip6 daddr" => {
                self.address(family, field == "saddr", &words, negated)
            }
            "ip protocol" | "ip6 nexthdr" | "meta l4proto" => self.l4proto(&words, negated),
            "ct state" => self.ct_state(&words, negated),
            "ct helper" => {
                // nft_ct reads the helper of the connection's master: it holds for
                // the data connections the FTP helper expected. A connection with no
                // master breaks the rule, `!=` or not.
                let ftp = words.contains(&"ftp") != negated;
                for (x, p) in self.applies.iter_mut().zip(Packet::ALL) {
                    let expected = matches!(
                        p,
                        Packet::Related | Packet::ActiveSynHelped | Packet::ActiveSynAckHelped
                    );
                    if !(expected && ftp) {
                        *x = Applies::Never;
                    }
                }
            }
            "meta iifname" | "meta iif" | "meta oifname" | "meta oif" => {
                self.plain = false;
                let lo = words.iter().all(|w| matches!(*w, "lo" | "lo*"));
                let any = words.contains(&"*");
                let inbound = key.starts_with("meta ii");
                match words.as_slice() {
                    [one] if !lo && !any => self.interface(one, negated, inbound),
                    _ => {
                        let a = if any {
                            Applies::ToAll
                        } else if lo {
                            Applies::Never
                        } else {
                            Applies::ToSome
                        };
                        self.condition(if negated { a.negated() } else { a });
                    }
                }
            }
            "meta nfproto" => {
                let name = match family {
                    Family::V4 => "ipv4",
                    Family::V6 => "ipv6",
                };
                let hit = words.contains(&name) != negated;
                self.condition(if hit { Applies::ToAll } else { Applies::Never });
            }
            "meta mark" if !negated && words.len() == 1 => {
                self.plain = false;
                let w = words[0];
                let m = w
                    .strip_prefix("0x")
                    .map_or_else(|| w.parse().ok(), |h| u32::from_str_radix(h, 16).ok());
                match m {
                    Some(m) => self.mark = Some(m),
                    None => self.condition(Applies::ToSome),
                }
            }
            _ if matches!(selector, "icmp" | "icmpv6") => self.proto = Proto::Other,
            _ => {
                self.plain = false;
                self.condition(if negated {
                    Applies::ToMost
                } else {
                    Applies::ToSome
                });
            }
        }
    }

    fn proto_of_selector(&mut self, selector: &str) {
        let p = match selector {
            "tcp" => Proto::Tcp,
            "udp" => Proto::Udp,
            "th" => return,
            _ => Proto::Other,
        };
        self.proto = match (self.proto, p) {
            (Proto::Any | Proto::AllBut, p) => p,
            (a, b) if a == b => a,
            // `tcp dport 21 udp dport 21`: no packet is both.
            _ => Proto::Other,
        };
        if self.proto == Proto::Other && p != Proto::Other {
            self.condition(Applies::Never);
        }
    }

    fn dport(&mut self, set: &PortSet) {
        narrow(&mut self.key_in, set);
        let client = ephemeral_applies(set);
        self.split(Applies::ToAll, client);
    }

    fn sport(&mut self, set: &PortSet) {
        narrow(&mut self.key_out, set);
        let a = ephemeral_applies(set);
        self.split(a, Applies::ToAll);
    }

    fn address(&mut self, family: Family, source: bool, words: &[&str], negated: bool) {
        self.plain = false;
        let mut set = AddrSet::empty(family);
        for w in words {
            let one = match w.split_once('-') {
                Some((lo, hi)) => match (
                    AddrSet::parse(family, lo).ok().and_then(|s| s.first()),
                    AddrSet::parse(family, hi).ok().and_then(|s| s.last()),
                ) {
                    (Some(lo), Some(hi)) if lo <= hi => Some(AddrSet::range(family, lo, hi)),
                    _ => None,
                },
                None => AddrSet::parse(family, w).ok(),
            };
            match one {
                Some(s) => set = set.union(&s),
                None => {
                    // A host name, resolved when the ruleset is loaded.
                    self.condition(Applies::ToSome);
                    return;
                }
            }
        }
        let set = if negated { set.complement() } else { set };
        let host = applies_to(&clients(family), &set);
        if source {
            self.client_in = Some(set);
            self.split(Applies::ToAll, host);
        } else {
            self.client_out = Some(set);
            self.split(host, Applies::ToAll);
        }
    }

    fn l4proto(&mut self, words: &[&str], negated: bool) {
        let tcp = words.iter().any(|w| matches!(*w, "tcp" | "6"));
        let udp = words.iter().any(|w| matches!(*w, "udp" | "17"));
        let p = match (negated, tcp, words.len()) {
            (false, true, 1) => Proto::Tcp,
            (false, true, _) => Proto::Any,
            (false, false, 1) if udp => Proto::Udp,
            (false, false, _) => Proto::Other,
            (true, true, _) => Proto::Other,
            (true, false, _) => Proto::AllBut,
        };
        self.proto = match (self.proto, p) {
            (Proto::Any, p) => p,
            (a, Proto::Any | Proto::AllBut) => a,
            (a, b) if a == b => a,
            _ => Proto::Other,
        };
    }

    fn ct_state(&mut self, words: &[&str], negated: bool) {
        let has = |s: &str| words.contains(&s);
        let sm = StateMatch {
            new: has("new") != negated,
            related: has("related") != negated,
            established: has("established") != negated,
            untracked: has("untracked") != negated,
            dnat_new: None,
        };
        for (x, p) in self.applies.iter_mut().zip(Packet::ALL) {
            if !sm.holds(p) {
                *x = Applies::Never;
            }
        }
        self.plain = false;
        self.state = Some(match self.state {
            None => sm,
            Some(s) => StateMatch {
                new: s.new && sm.new,
                related: s.related && sm.related,
                established: s.established && sm.established,
                untracked: s.untracked && sm.untracked,
                dnat_new: None,
            },
        });
    }
}

fn family_mismatch(family: Family, selector: &str, field: &str, elems: Option<&[Elem]>) -> bool {
    let _ = (field, elems);
    matches!(
        (family, selector),
        (Family::V6, "ip" | "icmp") | (Family::V4, "ip6" | "icmpv6")
    )
}

fn narrow(slot: &mut Option<PortSet>, set: &PortSet) {
    *slot = Some(match slot.take() {
        None => set.clone(),
        Some(s) => s.intersection(set),
    });
}

fn ephemeral_applies(set: &PortSet) -> Applies {
    let (lo, hi) = EPHEMERAL;
    let ranges = set.ranges();
    if ranges.iter().any(|&(a, b)| a <= lo && hi <= b) {
        Applies::ToAll
    } else if ranges.iter().any(|&(a, b)| a <= hi && lo <= b) {
        Applies::ToSome
    } else {
        Applies::Never
    }
}

/// Port words (`21`, `40000-40100`, `ftp`) as a set; `None` when one is unknown.
pub fn ports(words: &[&str], udp: bool, negated: bool) -> Option<PortSet> {
    let one = |w: &str| -> Option<u16> {
        w.parse()
            .ok()
            .or_else(|| if udp { udp_service(w) } else { tcp_service(w) })
    };
    let mut set = PortSet::empty();
    for w in words {
        let (lo, hi) = match w.split_once('-') {
            Some((a, b)) => (one(a)?, one(b)?),
            None => (one(w)?, one(w)?),
        };
        if lo <= hi {
            set.insert_range(lo, hi);
        }
    }
    Some(if negated { set.complement() } else { set })
}
