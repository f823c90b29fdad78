//! `no-firewall-found`: see rules/no-firewall-found.toml.

use super::Rule;
use crate::diag::Diagnostic;
use crate::hosts::Host;
use crate::policy::Policy;

pub struct NoFirewallFound;

impl Rule for NoFirewallFound {
    fn name(&self) -> &'static str {
        "no-firewall-found"
    }

    fn check_host(&self, host: &Host, _policy: &Policy, out: &mut Vec<Diagnostic>) {
        if host.firewall.is_some() || host.firewall_v6.is_some() {
            return;
        }
        for server in &host.servers {
            out.push(
                Diagnostic::new(
                    self.name(),
                    format!(
                        "no firewall config found for this {} config: passive and control port cross-checks skipped",
                        server.vocabulary().product
                    ),
                    server.focus(),
                    "no firewall pairs with this server",
                )
                .with_help(
                    "keep the host's firewall rules in or above this directory, or pair them with a [[hosts]] entry in pasvlint.toml",
                ),
            );
        }
    }
}
