//! `active-data-blocked`: see rules/active-data-blocked.toml.

use super::Rule;
use crate::diag::Diagnostic;
use crate::facts::{
    Active, ActivePacket, ActiveStep, Dialect, EPHEMERAL_PORTS, Firewall, FtpServer, Verdict,
};
use crate::hosts::Host;
use crate::policy::Policy;
use crate::portset::PortSet;
use crate::source::Span;

pub struct ActiveDataBlocked;

impl Rule for ActiveDataBlocked {
    fn name(&self) -> &'static str {
        "active-data-blocked"
    }

    fn check_host(&self, host: &Host, _policy: &Policy, out: &mut Vec<Diagnostic>) {
        let Some(fw) = &host.firewall else {
            return;
        };
        out.extend(host.servers.iter().filter_map(|s| self.check_server(s, fw)));
    }
}

impl ActiveDataBlocked {
    fn check_server(&self, server: &FtpServer, fw: &Firewall) -> Option<Diagnostic> {
        let Active::Enabled {
            deliberate: true, ..
        } = &server.active
        else {
            return None;
        };
        // No one logs in: control-port-blocked says so.
        if !fw.open_to_any().contains(server.control_port.value?) {
            return None;
        }
        let ports = server.active.source_ports()?;
        let helped = fw.helper_reads_commands(server);
        for packet in [ActivePacket::Syn, ActivePacket::SynAck] {
            let deciders = fw.active_deciders(packet, &ports, helped)?;
            let blocked: Vec<&ActiveStep> = deciders
                .into_iter()
                .filter(|s| s.verdict != Verdict::Accept)
                .collect();
            if !blocked.is_empty() {
                let d = self.report(server, packet, &ports, &blocked, fw.dialect);
                return Some(match blocked.iter().all(|s| s.may_accept.is_some()) {
                    true => may_fail(d, &blocked, fw),
                    false => d,
                });
            }
        }
        None
    }

    fn report(
        &self,
        server: &FtpServer,
        packet: ActivePacket,
        ports: &PortSet,
        blocked: &[&ActiveStep],
        dialect: Dialect,
    ) -> Diagnostic {
        let first = blocked[0];
        let stopped = blocked
            .iter()
            .fold(PortSet::empty(), |acc, s| acc.union(&s.ports))
            .intersection(ports);
        let source = source_words(server);
        let which = ports_words(ports, &stopped);
        let by = match (first.is_policy, first.span) {
            (true, _) => format!("the {} policy", first.chain),
            (false, _) => format!("a {} rule", first.chain),
        };
        let verb = if first.verdict == Verdict::Reject {
            "rejects"
        } else {
            "drops"
        };
        let what = match packet {
            ActivePacket::Syn => format!("the server's data-connection SYN from {which}"),
            ActivePacket::SynAck => format!("the client's SYN-ACK to {which}"),
        };
        let message = format!("active-mode transfers fail: {by} {verb} {what} ({source})");
        let (primary, label) = primary(server);
        let mut d = Diagnostic::new(self.name(), message, primary, label);
        for step in blocked.iter().take(3) {
            if let Some(span) = step.span {
                let label = if step.is_policy {
                    format!("policy {}: {what} ends here", verdict_word(step.verdict))
                } else {
                    format!("{} {what}", verb_of(step.verdict))
                };
                d = d.with_related(span, label);
            }
        }
        d.with_help(help(packet, first, &stopped, dialect))
    }
}

/// Every drop comes after an accept that holds for some connections: the
/// transfer fails unless that accept's condition holds, which is not known.
fn may_fail(d: Diagnostic, blocked: &[&ActiveStep], fw: &Firewall) -> Diagnostic {
    let Some(rule) = blocked[0].may_accept else {
        return d;
    };
    let why = fw
        .conditions
        .iter()
        .chain(&fw.uncertain)
        .find(|u| u.span.file == rule.file && rule.start <= u.span.start && u.span.end <= rule.end)
        .map_or("it holds only for some connections".to_owned(), |u| u.what.clone());
    let message = d
        .message
        .replacen("active-mode transfers fail:", "active-mode transfers may fail:", 1);
    let message = format!("{message}, unless an earlier accept matches ({why})");
    Diagnostic {
        message,
        ..d
    }
    .at_most(crate::diag::Severity::Warning)
    .with_related(rule, "may accept it")
}

fn verdict_word(v: Verdict) -> &'static str {
    match v {
        Verdict::Accept => "ACCEPT",
        Verdict::Drop => "DROP",
        Verdict::Reject => "REJECT",
        Verdict::Forward => "DNAT",
    }
}

fn verb_of(v: Verdict) -> &'static str {
    match v {
        Verdict::Reject => "rejects",
        Verdict::Forward => "forwards elsewhere",
        _ => "drops",
    }
}

/// `port 20`, `ephemeral ports 32768-60999`, or the part of them that is stopped.
fn ports_words(ports: &PortSet, stopped: &PortSet) -> String {
    let plural = |s: &PortSet| {
        if s.count() == 1 {
            format!("port {s}")
        } else {
            format!("ports {}", s.summary(4))
        }
    };
    if stopped == ports {
        if ports.count() == 1 {
            plural(ports)
        } else {
            format!("ephemeral {}", plural(ports))
        }
    } else {
        format!(
            "{} ({} of the {} ephemeral ports)",
            plural(stopped),
            stopped.count(),
            ports.count()
        )
    }
}

fn source_words(server: &FtpServer) -> String {
    let product = server.vocabulary().product;
    match &server.active {
        Active::Enabled { source_port, .. } => match source_port.value {
            Some(p) => format!("{product} connects from port {p} with connect_from_port_20=YES"),
            None => format!(
                "connect_from_port_20 is NO: {product} connects from an ephemeral port {}-{}",
                EPHEMERAL_PORTS.0, EPHEMERAL_PORTS.1
            ),
        },
        _ => product.to_owned(),
    }
}

fn primary(server: &FtpServer) -> (Span, String) {
    let Active::Enabled {
        source_port, spans, ..
    } = &server.active
    else {
        return (server.anchor, "active mode".to_owned());
    };
    let span = source_port
        .span
        .or_else(|| spans.first().copied())
        .unwrap_or(server.anchor);
    let label = match source_port.value {
        Some(p) => format!("data connections from port {p}"),
        None => "data connections from an ephemeral port".to_owned(),
    };
    (span, label)
}

fn help(packet: ActivePacket, step: &ActiveStep, stopped: &PortSet, dialect: Dialect) -> String {
    let ports = port_arg(stopped);
    let (table, chain) = step.chain.split_once(' ').unwrap_or(("filter", "INPUT"));
    let table_arg = if table == "filter" {
        String::new()
    } else {
        format!("-t {table} ")
    };
    let rule = match (packet, table) {
        _ if dialect == Dialect::Nftables => nft_rule(packet, &ports),
        (ActivePacket::SynAck, "filter") => {
            format!("-A {chain} -m conntrack --ctstate ESTABLISHED -j ACCEPT")
        }
        (ActivePacket::SynAck, _) => format!("{table_arg}-A {chain} -p tcp --dport {ports} -j ACCEPT"),
        (ActivePacket::Syn, _) => {
            format!("{table_arg}-A {chain} -p tcp --sport {ports} --dport 1024:65535 -j ACCEPT")
        }
    };
    let why = match packet {
        ActivePacket::SynAck => "the reply belongs to the server's own connection, so no FTP helper is needed",
        ActivePacket::Syn => "the server opens the data connection itself",
    };
    let place = match (step.is_policy, dialect) {
        (true, Dialect::Nftables) => format!("to chain {}", step.chain),
        (true, _) => "to the chain".to_owned(),
        (false, _) => "before the rule that stops it".to_owned(),
    };
    format!(
        "add `{rule}` {place} ({why}), or set port_enable=NO if every client uses passive mode"
    )
}

/// The same accept in nftables' own words (its ranges are written `lo-hi`).
fn nft_rule(packet: ActivePacket, ports: &str) -> String {
    let ports = ports.replace(':', "-");
    match packet {
        ActivePacket::SynAck => "ct state established accept".to_owned(),
        ActivePacket::Syn => format!("tcp sport {ports} tcp dport 1024-65535 accept"),
    }
}

fn port_arg(ports: &PortSet) -> String {
    match ports.ranges() {
        [(lo, hi)] if lo == hi => lo.to_string(),
        [(lo, hi)] => format!("{lo}:{hi}"),
        _ => {
            let lo = ports.first().unwrap_or(0);
            let hi = ports.ranges().last().map_or(lo, |r| r.1);
            format!("{lo}:{hi}")
        }
    }
}
