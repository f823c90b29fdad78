//! `passive-disabled-but-open`: see rules/passive-disabled-but-open.toml.

use super::Rule;
use crate::diag::Diagnostic;
use crate::facts::{Decision, Firewall, FtpServer, Passive, Verdict};
use crate::hosts::Host;
use crate::policy::Policy;
use crate::portset::PortSet;

pub struct PassiveDisabledButOpen;

impl Rule for PassiveDisabledButOpen {
    fn name(&self) -> &'static str {
        "passive-disabled-but-open"
    }

    fn check_host(&self, host: &Host, _policy: &Policy, out: &mut Vec<Diagnostic>) {
        let Some(fw) = &host.firewall else {
            return;
        };
        if host.servers.iter().any(|s| !matches!(s.passive, Passive::Disabled { .. })) {
            return;
        }
        for server in &host.servers {
            let Passive::Disabled { span, configured } = &server.passive else {
                continue;
            };
            for (rule, open) in open_passive_ports(server, configured.as_ref(), fw) {
                let anchor = span.unwrap_or(server.anchor);
                let Some(rule_span) = rule.span else { continue };
                out.push(
                    Diagnostic::new(
                        self.name(),
                        format!(
                            "firewall opens passive ports {} ({} ports) but passive mode is off",
                            open.summary(6),
                            open.count()
                        ),
                        rule_span,
                        format!("opens {}", open.summary(4)),
                    )
                    .with_related(anchor, "passive mode off")
                    .with_help(format!("remove {} from the rule", open.summary(6))),
                );
            }
        }
    }
}

/// Accept rules opening the range the config names; without one, the extra
/// ports of a rule written for FTP (one that also opens the control port).
fn open_passive_ports<'a>(
    server: &FtpServer,
    configured: Option<&PortSet>,
    fw: &'a Firewall,
) -> Vec<(&'a Decision, PortSet)> {
    let control = server.control_port.value.map(PortSet::single).unwrap_or_default();
    fw.decisions
        .iter()
        .filter(|d| d.verdict == Verdict::Accept && !d.is_policy)
        .filter_map(|d| {
            let open = match configured {
                Some(range) => d.rule_ports.intersection(range),
                None if d.rule_ports.intersects(&control) => high_port_ranges(&d.rule_ports.difference(&control)),
                None => PortSet::empty(),
            };
            (!open.is_empty()).then_some((d, open))
        })
        .collect()
}

/// Blocks of two or more unprivileged ports: what a passive range looks like.
fn high_port_ranges(ports: &PortSet) -> PortSet {
    ports
        .intersection(&PortSet::range(1024, 65535))
        .blocks()
        .filter(|b| b.count() >= 2)
        .fold(PortSet::empty(), |acc, b| acc.union(&b))
}
