//! `<forward-port>` (in a zone or a rich rule) as firewalld 1.3.3's nftables
//! backend builds it (measured with `nft list ruleset` from the real daemon):
//!
//! ```text
//! nat_PREROUTING (dstnat + 10): jump nat_PREROUTING_ZONES
//! nat_PREROUTING_ZONES:         ip saddr S goto nat_PRE_<zone>, iifname I goto …,
//!                               goto nat_PRE_<default zone>   (as filter_INPUT_ZONES)
//! nat_PRE_<zone>_allow:         meta nfproto ipv4 tcp dport 21 redirect to :2121
//!                               meta nfproto ipv4 tcp dport 2222 dnat ip to 198.18.0.9:22
//! filter_INPUT:                 ct state established,related accept; ct status dnat accept; …
//! ```
//! A zone's forward-port without `to-addr` is IPv4 only; with one, it is the
//! address's family (one to an IPv6 address is not lowered: see `lowered`). Rich rules with a negative priority go to `_pre`, positive
//! to `_post`, priority 0 to `_allow` after the zone's own forward-ports. The
//! filter accepts every connection nat rewrote before any zone is asked, so the
//! target port needs no opening of its own.

use super::lower::{Config, Lines, chain, range};
use super::zone::{ForwardPort, RichRule, What, Zone};
use crate::addrset::Family;

impl Config {
    /// Whether any zone firewalld dispatches to forwards a TCP port in `family`.
    pub fn forwards(&self, zones: &[&Zone], family: Family) -> bool {
        zones.iter().any(|z| {
            z.forward_ports.iter().any(|f| applies(f, family))
                || z.rules.iter().any(|r| rich_forward(r, family).is_some())
        })
    }

    /// The nat table: dispatch as the filter's, then each zone's forward-ports.
    pub fn nat_lines(&self, out: &mut Lines, zones: &[&Zone], family: Family) {
        let a = self.anchor;
        out.push(("*nat".into(), a));
        out.push((":PREROUTING ACCEPT [0:0]".into(), a));
        out.push((":FWD_ZONES - [0:0]".into(), a));
        for z in zones {
            out.push((format!(":PRE_{} - [0:0]", chain(&z.name)), z.span));
        }
        out.push(("-A PREROUTING -j FWD_ZONES".into(), a));
        self.dispatch(out, zones, family, "PRE_");
        for z in zones {
            self.zone_forwards(out, z, family);
        }
        out.push(("COMMIT".into(), a));
    }

    fn zone_forwards(&self, out: &mut Lines, z: &Zone, family: Family) {
        let c = format!("PRE_{}", chain(&z.name));
        let mut rules: Vec<&RichRule> = z
            .rules
            .iter()
            .filter(|r| rich_forward(r, family).is_some())
            .collect();
        rules.sort_by_key(|r| r.priority);
        let rich = |out: &mut Lines, r: &RichRule| {
            if let (Some(f), Some(m)) = (rich_forward(r, family), self.rule_match(r, family)) {
                out.push((format!("-A {c}{m}{}", jump(f)), r.span));
            }
        };
        for r in rules.iter().filter(|r| r.priority < 0) {
            rich(out, r);
        }
        for f in z.forward_ports.iter().filter(|f| applies(f, family)) {
            out.push((format!("-A {c}{}", jump(f)), f.span));
        }
        for r in rules.iter().filter(|r| r.priority >= 0) {
            rich(out, r);
        }
    }
}

/// A zone's forward-port that rewrites TCP in `family`.
fn applies(f: &ForwardPort, family: Family) -> bool {
    f.protocol == "tcp" && f.family() == family && lowered(f)
}

/// The filter model has no DNAT to an IPv6 address: such a forward-port is not
/// lowered (its port is then judged by the zone alone).
fn lowered(f: &ForwardPort) -> bool {
    f.to_addr.as_ref().is_none_or(|a| a.family() == Family::V4)
}

/// A rich rule's forward-port, when it rewrites TCP in `family` (the rule's
/// family, which the reader made sure the to-addr shares).
fn rich_forward(r: &RichRule, family: Family) -> Option<&ForwardPort> {
    match &r.what {
        What::Forward(f) if f.protocol == "tcp" && r.family == Some(family) && lowered(f) => {
            Some(f)
        }
        _ => None,
    }
}

/// ` -p tcp --dport P -j REDIRECT|DNAT …` for one forward-port.
fn jump(f: &ForwardPort) -> String {
    let dport = format!(" -p tcp --dport {}", range(f.lo, f.hi));
    let to_port = f.to_port.map(|(lo, hi)| {
        if lo == hi {
            lo.to_string()
        } else {
            format!("{lo}-{hi}")
        }
    });
    match (&f.to_addr, to_port) {
        (None, Some(p)) => format!("{dport} -j REDIRECT --to-ports {p}"),
        (None, None) => format!("{dport} -j REDIRECT"),
        (Some(addr), p) => {
            let host = addr.to_string();
            match p {
                Some(p) => format!("{dport} -j DNAT --to-destination {host}:{p}"),
                None => format!("{dport} -j DNAT --to-destination {host}"),
            }
        }
    }
}
