//! Rich rules that an earlier rule of their zone always decides: in the order
//! the nftables backend evaluates a zone (`_pre` by priority, `_deny`, `_allow`
//! with the zone's services and ports before its rich rules, `_post` by
//! priority), a rule whose every packet an earlier complete rule matches never
//! decides anything.

use super::lower::Config;
use super::zone::{AddrMatch, RichRule, Verdict, What, Zone};
use crate::addrset::{AddrSet, Family};
use crate::portset::PortSet;
use crate::source::Span;

/// What a rule (or a zone's port or service) matches of inbound TCP, per family.
struct Match {
    families: Vec<Family>,
    src: Option<AddrMatch>,
    dst: Option<AddrMatch>,
    /// `None`: every protocol and port.
    ports: Option<PortSet>,
    span: Span,
    is_rule: bool,
}

/// (the shadowed rule, the earlier rule or element that decides its packets).
pub fn shadowed<'z>(zone: &'z Zone, config: &Config) -> Vec<(&'z RichRule, Span)> {
    let mut order: Vec<(u8, i32, &RichRule)> = zone
        .rules
        .iter()
        .filter(|r| r.verdict != Verdict::None)
        .map(|r| {
            let stage = match (r.priority, r.verdict) {
                (p, _) if p < 0 => 0,
                (p, _) if p > 0 => 4,
                (_, Verdict::Accept) => 3,
                _ => 1,
            };
            (stage, r.priority, r)
        })
        .collect();
    order.sort_by_key(|(stage, p, _)| (*stage, *p));
    let mut earlier: Vec<Match> = Vec::new();
    let mut out = Vec::new();
    let mut zone_ports_added = false;
    for (stage, _, r) in order {
        if stage >= 3 && !zone_ports_added {
            earlier.extend(zone_ports(zone, config));
            zone_ports_added = true;
        }
        let Some(m) = rule_match(r, config) else {
            continue;
        };
        if let Some(by) = earlier.iter().find(|e| covers(e, &m)) {
            out.push((r, by.span));
        }
        if !r.partial {
            earlier.push(m);
        }
    }
    out
}

fn zone_ports(zone: &Zone, config: &Config) -> Vec<Match> {
    let all = vec![Family::V4, Family::V6];
    let mut out = Vec::new();
    for p in zone.ports.iter().filter(|p| p.protocol == "tcp") {
        out.push(Match {
            families: all.clone(),
            src: None,
            dst: None,
            ports: Some(PortSet::range(p.lo, p.hi)),
            span: p.span,
            is_rule: false,
        });
    }
    for s in &zone.services {
        if let Some(r) = config.service(&s.name) {
            out.push(Match {
                families: all.clone(),
                src: None,
                dst: None,
                ports: Some(PortSet::from_ranges(r.tcp.iter().copied())),
                span: s.span,
                is_rule: false,
            });
        }
    }
    out
}

fn rule_match(r: &RichRule, config: &Config) -> Option<Match> {
    let ports = match &r.what {
        What::Any => None,
        What::Port(p) if p.protocol == "tcp" => Some(PortSet::range(p.lo, p.hi)),
        What::Service(s) => Some(PortSet::from_ranges(config.service(&s.name)?.tcp)),
        _ => return None,
    };
    if ports.as_ref().is_some_and(PortSet::is_empty) {
        return None;
    }
    Some(Match {
        families: r.family.map_or(vec![Family::V4, Family::V6], |f| vec![f]),
        src: r.source.clone(),
        dst: r.destination.clone(),
        ports,
        span: r.span,
        is_rule: true,
    })
}

fn set_of(m: &Option<AddrMatch>, family: Family) -> AddrSet {
    match m {
        None => AddrSet::all(family),
        Some(a) if a.addr.family() != family => AddrSet::empty(family),
        Some(a) if a.invert => a.addr.complement(),
        Some(a) => a.addr.clone(),
    }
}

/// Whether every packet `later` matches, `earlier` matches too.
fn covers(earlier: &Match, later: &Match) -> bool {
    let ports = match (&earlier.ports, &later.ports) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some(e), Some(l)) => l.is_subset(e),
    };
    ports
        && (earlier.is_rule || later.is_rule)
        && later.families.iter().all(|f| {
            earlier.families.contains(f)
                && set_of(&later.src, *f).is_subset(&set_of(&earlier.src, *f))
                && set_of(&later.dst, *f).is_subset(&set_of(&earlier.dst, *f))
        })
}
