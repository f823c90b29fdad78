//! `passive-ports-blocked`: see rules/passive-ports-blocked.toml.

use super::{Rule, by_the_firewall, closing_label, passive_spans};
use crate::diag::Diagnostic;
use crate::facts::{ControlTls, Firewall, FtpServer};
use crate::hosts::Host;
use crate::policy::Policy;
use crate::portset::PortSet;

pub struct PassivePortsBlocked;

impl Rule for PassivePortsBlocked {
    fn name(&self) -> &'static str {
        "passive-ports-blocked"
    }

    fn check_host(&self, host: &Host, _policy: &Policy, out: &mut Vec<Diagnostic>) {
        let Some(firewall) = &host.firewall else {
            return;
        };
        out.extend(
            host.servers
                .iter()
                .filter_map(|s| self.check_server(s, firewall)),
        );
    }
}

impl PassivePortsBlocked {
    fn check_server(&self, server: &FtpServer, fw: &Firewall) -> Option<Diagnostic> {
        let ports = server.passive.ports()?.intersection(&PortSet::connectable());
        let control = server.control_port.value?;
        let reachable = reachable_like_control(fw, control)?;
        let helper_sees_pasv = server.tls.value == ControlTls::Never;
        if fw.helper_admits_data(control) && helper_sees_pasv {
            return None;
        }
        let blocked = ports.difference(&reachable);
        if blocked.is_empty() {
            return None;
        }
        Some(self.report(server, fw, &ports, &blocked, control))
    }

    fn report(
        &self,
        server: &FtpServer,
        fw: &Firewall,
        ports: &PortSet,
        blocked: &PortSet,
        control: u16,
    ) -> Diagnostic {
        let words = server.vocabulary();
        let by = by_the_firewall(fw);
        let message = if blocked == ports {
            format!(
                "all {} passive ports {} are blocked {by}",
                ports.count(),
                ports.summary(6)
            )
        } else {
            format!(
                "passive ports {} are blocked {by} ({} of the {} ports {} hands out)",
                blocked.summary(6),
                blocked.count(),
                ports.count(),
                words.product
            )
        };
        let message = if fw.helper_admits_data(control) {
            format!(
                "{message}: the FTP helper cannot read PASV replies on a TLS control channel"
            )
        } else {
            message
        };
        let (primary, others) = passive_spans(server);
        let mut d = Diagnostic::new(
            self.name(),
            message,
            primary,
            format!("{} hands out {}", words.product, ports.summary(4)),
        );
        for span in others {
            d = d.with_related(span, "range set here");
        }
        for blocker in fw.blockers(blocked).take(3) {
            if let Some(span) = blocker.span {
                d = d.with_related(span, closing_label(blocker, blocked));
            }
        }
        let open_part = ports.difference(blocked);
        for opener in fw.openers(&open_part).take(2) {
            if let Some(span) = opener.span {
                d = d.with_related(span, format!("opens only {}", opener.ports.intersection(ports).summary(4)));
            }
        }
        d.with_help(help(server, fw, blocked, &open_part))
    }
}

/// The ports a data connection can reach from the clients that can reach the
/// control port; `None` when no one can reach the control port (another rule says so).
fn reachable_like_control(fw: &Firewall, control: u16) -> Option<PortSet> {
    if fw.open_to_all.contains(control) {
        Some(fw.open_to_all.clone())
    } else if fw.open_to_some.contains(control) {
        Some(fw.open_to_any())
    } else {
        None
    }
}

fn help(server: &FtpServer, fw: &Firewall, blocked: &PortSet, open_part: &PortSet) -> String {
    let open = match &fw.profiles {
        Some(p) if p.worth_naming() => format!(
            "open {}/tcp in the {} profile too (an advfirewall rule with profile=any)",
            blocked.summary(6),
            p.shown().name()
        ),
        _ => format!("open {}/tcp in the firewall", blocked.summary(6)),
    };
    match open_part.widest_range() {
        Some((lo, hi)) => format!(
            "{open}, or set {} so the server hands out only open ports",
            (server.vocabulary().range)(lo, hi)
        ),
        None => open,
    }
}
