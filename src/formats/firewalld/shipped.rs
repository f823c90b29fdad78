//! firewalld 1.3.3's shipped definitions (`/usr/lib/firewalld`), as facts: the
//! zones (target and services) and the TCP ports and helper of every service.

use super::shipped_services::SERVICES;
use super::zone::{Named, Target, Zone};
use crate::source::Span;

/// (zone, target, services) of `/usr/lib/firewalld/zones`.
const ZONES: &[(&str, Target, &[&str])] = &[
    ("block", Target::Reject, &[]),
    ("dmz", Target::Default, &["ssh"]),
    ("drop", Target::Drop, &[]),
    ("external", Target::Default, &["ssh"]),
    (
        "home",
        Target::Default,
        &["ssh", "mdns", "samba-client", "dhcpv6-client"],
    ),
    (
        "internal",
        Target::Default,
        &["ssh", "mdns", "samba-client", "dhcpv6-client"],
    ),
    ("public", Target::Default, &["ssh", "dhcpv6-client"]),
    ("trusted", Target::Accept, &[]),
    ("work", Target::Default, &["ssh", "dhcpv6-client"]),
];

/// The shipped zones, every span at `anchor`.
pub fn zones(anchor: Span) -> Vec<Zone> {
    ZONES
        .iter()
        .map(|(name, target, services)| Zone {
            name: (*name).to_owned(),
            span: anchor,
            target: *target,
            target_span: None,
            services: services
                .iter()
                .map(|s| Named {
                    name: (*s).to_owned(),
                    span: anchor,
                    value_span: anchor,
                })
                .collect(),
            ports: Vec::new(),
            sources: Vec::new(),
            interfaces: Vec::new(),
            rules: Vec::new(),
            forward_ports: Vec::new(),
            icmp_blocks: Vec::new(),
            problems: Vec::new(),
        })
        .collect()
}

/// A shipped service's TCP port ranges and whether it assigns the ftp helper.
pub fn service(name: &str) -> Option<(Vec<(u16, u16)>, bool)> {
    let (_, ports, helper) = SERVICES.iter().find(|(n, _, _)| *n == name)?;
    let ranges = ports
        .iter()
        .filter_map(|p| super::zone::port_range(p).ok())
        .collect();
    Some((ranges, *helper))
}

pub fn is_zone(name: &str) -> bool {
    ZONES.iter().any(|(n, _, _)| *n == name)
}
