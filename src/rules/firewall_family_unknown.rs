//! `firewall-family-unknown`: see rules/firewall-family-unknown.toml.

use super::Rule;
use crate::diag::Diagnostic;
use crate::facts::{Families, Family, Firewall, FtpServer};
use crate::hosts::Host;
use crate::policy::Policy;
use crate::source::Span;

pub struct FirewallFamilyUnknown;

impl Rule for FirewallFamilyUnknown {
    fn name(&self) -> &'static str {
        "firewall-family-unknown"
    }

    fn check_host(&self, host: &Host, _policy: &Policy, out: &mut Vec<Diagnostic>) {
        for server in &host.servers {
            for family in unfiltered_families(host, server) {
                out.push(self.report(host, server, family));
            }
        }
    }
}

/// Families the server listens on that no firewall of the host speaks for, when
/// another family's firewall is known (`no-firewall-found` covers a host with none).
fn unfiltered_families(host: &Host, server: &FtpServer) -> Vec<Family> {
    let listens: &[Family] = match server.families.value {
        Some(Families::Ipv4) => &[Family::V4],
        Some(Families::Ipv6) => &[Family::V6],
        Some(Families::Both) => &[Family::V4, Family::V6],
        None => &[],
    };
    let known: Vec<Family> = host.firewalls().map(|(f, _)| f).collect();
    if known.is_empty() {
        return Vec::new();
    }
    listens
        .iter()
        .copied()
        .filter(|f| !known.contains(f))
        .collect()
}

impl FirewallFamilyUnknown {
    fn report(&self, host: &Host, server: &FtpServer, family: Family) -> Diagnostic {
        let (name, other, files) = match family {
            Family::V6 => ("IPv6", "IPv4", "ip6tables rules (rules.v6, /etc/sysconfig/ip6tables)"),
            Family::V4 => ("IPv4", "IPv6", "iptables rules (rules.v4, /etc/sysconfig/iptables)"),
        };
        let product = server.vocabulary().product;
        let span = server.families.span.unwrap_or_else(|| server.focus());
        let mut d = Diagnostic::new(
            self.name(),
            format!(
                "{product} accepts {name} clients, but no {name} firewall was found: their control and passive ports were not checked"
            ),
            span,
            format!("{product} listens for {name} here"),
        );
        if let Some(fw) = host.firewalls().map(|(_, fw)| fw).next()
            && let Some(span) = known_filtering(fw, server)
        {
            d = d.with_related(span, format!("only {other} filtering is known"));
        }
        d.with_help(format!(
            "keep the host's {files} beside its other firewall files, or make {product} listen on {other} only"
        ))
    }
}

/// The line that shows the other family's filtering: the rule deciding the control
/// port, else the default policy, else the first rule that decides anything.
fn known_filtering(fw: &Firewall, server: &FtpServer) -> Option<Span> {
    let control = server.control_port.value;
    fw.decisions
        .iter()
        .filter(|d| control.is_some_and(|c| d.ports.contains(c)))
        .find_map(|d| d.span)
        .or(fw.default_policy.span)
        .or_else(|| fw.decisions.iter().find_map(|d| d.span))
}
