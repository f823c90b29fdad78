//! `nftables-icmpv6-dropped`: see rules/nftables-icmpv6-dropped.toml.

use super::Rule;
use super::ip6tables_icmpv6_dropped::ipv6_servers;
use crate::diag::Diagnostic;
use crate::facts::Family;
use crate::hosts::Host;
use crate::policy::Policy;

pub struct NftablesIcmpv6Dropped;

impl Rule for NftablesIcmpv6Dropped {
    fn name(&self) -> &'static str {
        "nftables-icmpv6-dropped"
    }

    fn check_host(&self, host: &Host, _policy: &Policy, out: &mut Vec<Diagnostic>) {
        let Some(nd) = host
            .firewall_for(Family::V6)
            .and_then(|fw| fw.nd_blocked.as_ref())
        else {
            return;
        };
        let Some(table) = &nd.nftables else {
            return;
        };
        // A server that listens on IPv4 only loses nothing when IPv6 is unreachable.
        let servers = ipv6_servers(host);
        if servers.is_empty() {
            return;
        }
        let mut d = Diagnostic::new(
            self.name(),
            format!(
                "the {table} table's input chain drops by policy and accepts no ICMPv6 neighbour discovery: the host answers no neighbour solicitation, so no IPv6 client reaches the FTP control port or any passive port"
            ),
            nd.by,
            "drops ICMPv6 neighbour solicitations",
        )
        .with_help(format!("add `{}` before the other rules", nd.accept_line));
        for server in servers {
            if let Some(span) = server.families.span {
                let product = server.vocabulary().product;
                d = d.with_related(span, format!("{product} listens for IPv6 clients here"));
            }
        }
        // Unsafe: router advertisements then reach the host too.
        out.push(match &nd.insert {
            Some(edit) => d.with_unsafe_fix("accept neighbour discovery first", vec![edit.clone()]),
            None => d,
        });
    }
}
