//! `active-port-20-unused`: see rules/active-port-20-unused.toml.

use super::Rule;
use crate::diag::{Diagnostic, Fix};
use crate::facts::{Active, ActivePacket, Decision, EPHEMERAL_PORTS, Firewall, FtpServer, Verdict};
use crate::hosts::Host;
use crate::policy::Policy;
use crate::portset::PortSet;
use crate::source::Span;

const PORT: u16 = 20;

pub struct ActivePort20Unused;

impl Rule for ActivePort20Unused {
    fn name(&self) -> &'static str {
        "active-port-20-unused"
    }

    fn check_host(&self, host: &Host, _policy: &Policy, out: &mut Vec<Diagnostic>) {
        let Some(fw) = &host.firewall else {
            return;
        };
        let Some(first) = host.servers.first() else {
            return;
        };
        let mut seen = Vec::new();
        for rule in fw.decisions.iter().filter(|d| opens_port_20(d)) {
            let Some(span) = rule.span else { continue };
            if seen.contains(&span) {
                continue;
            }
            seen.push(span);
            let reasons: Option<Vec<Reason>> = host
                .servers
                .iter()
                .map(|s| unused_because(s, fw, span))
                .collect();
            if let Some(reason) = reasons.and_then(|r| r.into_iter().next()) {
                let d = self.report(rule, span, first, &reason);
                // Unsafe: the firewall may guard another host that needs port 20.
                let keep = rule.rule_ports.difference(&PortSet::single(PORT));
                let fix = match keep.is_empty() {
                    true => deletion(fw, span),
                    false => crate::firewall_fix::narrow(fw, rule, &keep),
                };
                out.push(d.with_fixes(fix));
            }
        }
    }
}

/// Deleting the rule that opens nothing but port 20, where its line is its own.
fn deletion(fw: &Firewall, rule: Span) -> Option<Fix> {
    Some(Fix {
        title: "delete the rule that opens port 20".to_owned(),
        edits: vec![(fw.port_text(rule)?.line?, String::new())],
        safe: false,
    })
}

/// An accept rule that names port 20 among a few ports (not a blanket accept).
fn opens_port_20(d: &Decision) -> bool {
    d.verdict == Verdict::Accept
        && !d.is_policy
        && d.rule_ports.contains(PORT)
        && !PortSet::connectable().is_subset(&d.rule_ports)
}

/// Why `server` never needs inbound port 20 from the rule at `rule`; `None`
/// when it may (or when that cannot be known).
enum Reason {
    ActiveOff(Option<Span>),
    Ephemeral(Option<Span>),
    OtherPort(u16, Option<Span>),
    Established(Option<Span>),
}

fn unused_because(server: &FtpServer, fw: &Firewall, rule: Span) -> Option<Reason> {
    if server.control_port.value == Some(PORT)
        || server.passive.ports().is_some_and(|p| p.contains(PORT))
    {
        return None;
    }
    match &server.active {
        Active::Unknown => None,
        Active::Disabled { span } => Some(Reason::ActiveOff(*span)),
        Active::Enabled { source_port, .. } => match source_port.value {
            None => Some(Reason::Ephemeral(source_port.span)),
            Some(p) if p != PORT => Some(Reason::OtherPort(p, source_port.span)),
            Some(_) => {
                let deciders = fw.active_deciders(
                    ActivePacket::SynAck,
                    &PortSet::single(PORT),
                    fw.helper_reads_commands(server),
                )?;
                let step = deciders.first()?;
                let by_other_state_rule = step.verdict == Verdict::Accept
                    && step.by_state
                    && step.span != Some(rule)
                    && deciders.iter().all(|s| s.span != Some(rule));
                by_other_state_rule.then_some(Reason::Established(step.span))
            }
        },
    }
}

impl ActivePort20Unused {
    fn report(&self, rule: &Decision, span: Span, server: &FtpServer, reason: &Reason) -> Diagnostic {
        let product = server.vocabulary().product;
        let (why, related, label) = match reason {
            Reason::ActiveOff(at) => (
                format!("port_enable=NO turns active mode off, so {product} never connects from it"),
                *at,
                "active mode off".to_owned(),
            ),
            Reason::Ephemeral(at) => (
                format!(
                    "connect_from_port_20 is NO, so {product} connects from an ephemeral port {}-{}",
                    EPHEMERAL_PORTS.0, EPHEMERAL_PORTS.1
                ),
                *at,
                match at {
                    Some(_) => "data connections from an ephemeral port".to_owned(),
                    None => "connect_from_port_20 not set (default NO)".to_owned(),
                },
            ),
            Reason::OtherPort(p, at) => (
                format!("{product} connects from port {p} (ftp_data_port={p})"),
                *at,
                format!("data connections from port {p}"),
            ),
            Reason::Established(at) => (
                "the client's SYN-ACK to port 20 is already accepted by an ESTABLISHED rule".to_owned(),
                *at,
                "accepts the SYN-ACK first".to_owned(),
            ),
        };
        let mut d = Diagnostic::new(
            self.name(),
            format!("firewall opens port 20 to new inbound connections, but nothing needs it: {why}"),
            span,
            format!("opens {}", rule.rule_ports.summary(6)),
        )
        .with_related(related.unwrap_or(server.anchor), label);
        let keep = rule.rule_ports.difference(&PortSet::single(PORT));
        let help = if keep.is_empty() {
            "remove the rule".to_owned()
        } else {
            format!("drop port 20 from the rule (keep {})", keep.summary(8))
        };
        d = d.with_help(help);
        d
    }
}
