//! `firewall-allows-everything`: see rules/firewall-allows-everything.toml.

use super::Rule;
use crate::diag::Diagnostic;
use crate::facts::{Family, Firewall, Verdict};
use crate::hosts::Host;
use crate::policy::Policy;
use crate::portset::PortSet;
use crate::source::Span;

pub struct FirewallAllowsEverything;

impl Rule for FirewallAllowsEverything {
    fn name(&self) -> &'static str {
        "firewall-allows-everything"
    }

    fn check_host(&self, host: &Host, _policy: &Policy, out: &mut Vec<Diagnostic>) {
        if host.servers.is_empty() {
            return;
        }
        let named = host.firewall_v6.is_some();
        let mut seen: Vec<&Firewall> = Vec::new();
        for (family, fw) in host.firewalls() {
            if seen.iter().any(|s| std::ptr::eq(*s, fw)) || fw.open_to_all != PortSet::connectable()
            {
                continue;
            }
            seen.push(fw);
            out.extend(self.report(fw, named.then_some(family)));
        }
    }
}

impl FirewallAllowsEverything {
    fn report(&self, fw: &Firewall, family: Option<Family>) -> Option<Diagnostic> {
        let who = match family {
            Some(Family::V4) => "IPv4 client",
            Some(Family::V6) => "IPv6 client",
            None => "client",
        };
        let (span, label) = where_it_opens(fw)?;
        // `service=ftpsvc`: only the FTP service's sockets, whatever their port.
        if fw.service_scoped.contains(&span) {
            return None;
        }
        Some(
            Diagnostic::new(
                self.name(),
                format!(
                    "the firewall lets every {who} connect to every TCP port (1-65535): the FTP server's ports are not restricted"
                ),
                span,
                label,
            )
            .with_help(
                "accept only the control port and the passive range (e.g. `-A INPUT -p tcp -m multiport --dports 21,50000:50009 -j ACCEPT`, then `-P INPUT DROP`), and established traffic",
            ),
        )
    }
}

/// The rule or policy that opens the most ports, or the file's start when the
/// open default is built in.
fn where_it_opens(fw: &Firewall) -> Option<(Span, String)> {
    let widest = fw
        .decisions
        .iter()
        .filter(|d| d.verdict == Verdict::Accept && d.span.is_some())
        .max_by_key(|d| d.ports.count());
    if let Some(d) = widest {
        let what = if d.is_policy { "policy ACCEPT lets in" } else { "accepts" };
        return Some((d.span?, format!("{what} {}", d.ports.summary(4))));
    }
    let file = *fw.files.first()?;
    Some((
        Span::new(file, 0, 0),
        "no rule restricts inbound TCP (built-in ACCEPT policy)".to_owned(),
    ))
}
