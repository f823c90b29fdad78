//! `control-port-blocked`: see rules/control-port-blocked.toml.

use super::{Rule, by_the_firewall, closing_label};
use crate::diag::Diagnostic;
use crate::hosts::Host;
use crate::policy::Policy;
use crate::portset::PortSet;

pub struct ControlPortBlocked;

impl Rule for ControlPortBlocked {
    fn name(&self) -> &'static str {
        "control-port-blocked"
    }

    fn check_host(&self, host: &Host, _policy: &Policy, out: &mut Vec<Diagnostic>) {
        let Some(fw) = &host.firewall else {
            return;
        };
        for server in &host.servers {
            let Some(port) = server.control_port.value else {
                continue;
            };
            if fw.open_to_any().contains(port) {
                continue;
            }
            let words = server.vocabulary();
            let (span, label) = match server.control_port.span {
                Some(span) => (span, format!("{} listens on {port}", words.product)),
                None => (
                    server.anchor,
                    format!("{} listens on {port} by default", words.product),
                ),
            };
            let mut d = Diagnostic::new(
                self.name(),
                format!(
                    "control port {port} is blocked {}: no client can log in",
                    by_the_firewall(fw)
                ),
                span,
                label,
            );
            let ports = PortSet::single(port);
            for blocker in fw.blockers(&ports).take(2) {
                if let Some(span) = blocker.span {
                    d = d.with_related(span, closing_label(blocker, &ports));
                }
            }
            out.push(d.with_help(format!(
                "open {port}/tcp in the firewall, or set {} to a port it opens",
                words.control_port
            )));
        }
    }
}
