//! `dnat` and `ct helper set` onto IR targets. A lookup keyed by something a
//! rule can match (`tcp dport map { 1000 : 1.1.1.1 }`) becomes one rule per
//! element, each matching its key, since a packet whose key the map lacks
//! breaks the rule (nft's `NFT_BREAK`) and is not translated; a lookup keyed by
//! a hash or a counter (`numgen inc mod 2 map { … }`) sends every packet to
//! one of its values, which is one target whose address is not known.

use super::super::model::{self, Elem, NatTo, Value};
use super::resolve;
use crate::filter::ir::{DnatAddr, Target};

pub enum Dnat<'k> {
    One(Target),
    /// The lookup's key, and each element with its target.
    Each(&'k str, Vec<(Elem, Target)>),
}

pub fn helper(table: &model::Table, name: &str) -> Target {
    let ftp = table
        .helpers
        .iter()
        .any(|h| h.name == name && h.kind == "ftp");
    Target::CtHelper { ftp }
}

/// `ct helper set tcp dport map { 21 : "ftp-std" }`: each port its helper.
pub fn helpers<'k>(
    table: &model::Table,
    key: &'k str,
    value: &Value,
) -> Option<(&'k str, Vec<(Elem, Target)>)> {
    let elems = resolve(table, value)?;
    let targets = elems.into_iter().filter_map(|e| {
        let name = e.data.clone()?;
        Some((e, helper(table, &name)))
    });
    Some((key, targets.collect()))
}

pub fn dnat<'k>(table: &model::Table, addr: &'k NatTo, port: &'k NatTo) -> Dnat<'k> {
    if let Some((key, elems)) = lookup(table, addr) {
        let ports = lookup(table, port).filter(|(k, _)| *k == key);
        let targets = elems.into_iter().map(|e| {
            let (a, p) = split_data(e.data.as_deref());
            let p = match &ports {
                Some((_, ports)) => ports
                    .iter()
                    .find(|pe| pe.key == e.key)
                    .and_then(|pe| pe.data.as_deref()),
                None if matches!(port, NatTo::Kept) || p.is_some() => p,
                None => None,
            };
            let ports = p.and_then(port_range).or(literal_port(port));
            let t = Target::Dnat {
                addr: address(a),
                ports,
            };
            (e, t)
        });
        return Dnat::Each(key, targets.collect());
    }
    let fixed_addr = match addr {
        NatTo::Kept => DnatAddr::Kept,
        NatTo::Literal(w) => address(Some(w)),
        NatTo::Map { .. } | NatTo::Unknown => DnatAddr::Other,
    };
    if let Some((key, elems)) = lookup(table, port) {
        let targets = elems.into_iter().map(|e| {
            let ports = e.data.as_deref().and_then(port_range);
            let t = match (fixed_addr, ports) {
                (DnatAddr::Kept, None) => Target::Opaque,
                (addr, ports) => Target::Dnat { addr, ports },
            };
            (e, t)
        });
        return Dnat::Each(key, targets.collect());
    }
    let ports = literal_port(port);
    let unknown_port = !matches!(port, NatTo::Kept) && ports.is_none();
    Dnat::One(match fixed_addr {
        // Some local port, but which one is not known.
        DnatAddr::Kept if unknown_port => Target::Opaque,
        addr => Target::Dnat { addr, ports },
    })
}

/// A lookup whose key a rule can match, and its elements.
fn lookup<'k>(table: &model::Table, n: &'k NatTo) -> Option<(&'k str, Vec<Elem>)> {
    let NatTo::Map { key, value } = n else {
        return None;
    };
    let first = key.split(' ').next().unwrap_or("");
    if matches!(first, "numgen" | "jhash" | "symhash") || key.contains(" . ") {
        return None;
    }
    Some((key.as_str(), resolve(table, value)?))
}

/// `10.0.0.2 . 80` (an `addr . port` map's value): the address and the port.
fn split_data(data: Option<&str>) -> (Option<&str>, Option<&str>) {
    match data.map(|d| d.split_once(" . ")) {
        Some(Some((a, p))) => (Some(a), Some(p)),
        Some(None) => (data, None),
        None => (None, None),
    }
}

fn address(word: Option<&str>) -> DnatAddr {
    match word.map(|w| w.parse::<std::net::Ipv4Addr>()) {
        Some(Ok(a)) => DnatAddr::V4(a.octets()),
        _ => DnatAddr::Other,
    }
}

fn literal_port(n: &NatTo) -> Option<(u16, u16)> {
    match n {
        NatTo::Literal(w) => port_range(w),
        _ => None,
    }
}

fn port_range(w: &str) -> Option<(u16, u16)> {
    let (lo, hi) = w.split_once('-').unwrap_or((w, w));
    Some((lo.parse().ok()?, hi.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_addr_dot_port_value_splits_in_two() {
        assert_eq!(
            split_data(Some("10.0.0.2 . 80")),
            (Some("10.0.0.2"), Some("80"))
        );
        assert_eq!(split_data(Some("10.0.0.2")), (Some("10.0.0.2"), None));
    }

    #[test]
    fn an_address_not_ipv4_is_not_this_host_for_sure() {
        assert_eq!(address(Some("[2001:db8::1]")), DnatAddr::Other);
        assert_eq!(address(Some("10.0.0.2")), DnatAddr::V4([10, 0, 0, 2]));
    }
}
