//! `firewall-opens-unused-ports`: see rules/firewall-opens-unused-ports.toml.

use super::{Rule, passive_spans};
use crate::diag::{Diagnostic, Fix};
use crate::facts::{Active, Decision, FtpServer, Verdict};
use crate::hosts::Host;
use crate::policy::Policy;
use crate::portset::PortSet;

pub struct FirewallOpensUnusedPorts;

impl Rule for FirewallOpensUnusedPorts {
    fn name(&self) -> &'static str {
        "firewall-opens-unused-ports"
    }

    fn check_host(&self, host: &Host, _policy: &Policy, out: &mut Vec<Diagnostic>) {
        let Some(fw) = &host.firewall else {
            return;
        };
        let passive = host
            .servers
            .iter()
            .filter_map(|s| s.passive.ports())
            .fold(PortSet::empty(), |acc, p| acc.union(p));
        if passive.is_empty() {
            return;
        }
        // Control ports, and the fixed port active-mode data connections come from
        // (its SYN-ACK comes back to it; active-port-20-unused judges whether the
        // opening is needed).
        let used = host
            .servers
            .iter()
            .flat_map(|s| [s.control_port.value, active_source_port(s)])
            .flatten()
            .fold(passive.clone(), |acc, p| acc.union(&PortSet::single(p)));
        let mut seen = Vec::new();
        for rule in fw.decisions.iter().filter(|d| is_rule_accept(d)) {
            let Some(span) = rule.span else { continue };
            if seen.contains(&span) {
                continue;
            }
            seen.push(span);
            let unused = unused_ftp_ports(&rule.rule_ports, &passive, &used);
            if !unused.is_empty() {
                let keep = rule.rule_ports.difference(&unused);
                let narrowed = crate::firewall_fix::narrow(fw, rule, &keep);
                let mut d = self.report(rule, span, &unused, &host.servers);
                let widened = widened_range(&host.servers, rule, &used);
                if let Some((server, lo, hi)) = widened {
                    let set = (server.vocabulary().range)(lo, hi);
                    d.help = d.help.map(|h| format!("{h}, or set {set} to hand them all out"));
                }
                let widened = widened.and_then(|(server, lo, hi)| widened_server_fix(server, lo, hi));
                out.push(d.with_fixes(narrowed).with_fixes(widened));
            }
        }
    }
}

/// The other direction: the one server's range widened to the whole block of
/// the rule that holds it, where the daemon accepts it, no other FTP port lies
/// in it, and it at most doubles the range (a rule far wider than the range is
/// a stale opening to close, not a range to grow into).
fn widened_range<'a>(
    servers: &'a [FtpServer],
    rule: &Decision,
    used: &PortSet,
) -> Option<(&'a FtpServer, u16, u16)> {
    let [server] = servers else { return None };
    let ports = server.passive.ports()?;
    let block = rule.rule_ports.blocks().find(|b| ports.is_subset(b))?;
    let (min, max) = server.vocabulary().ports_allowed;
    let (lo, hi) = block.intersection(&PortSet::range(min, max)).widest_range()?;
    let widened = PortSet::range(lo, hi);
    let others = used.difference(ports);
    let grows = &widened != ports
        && ports.is_subset(&widened)
        && widened.count() <= 2 * ports.count();
    (grows && !widened.intersects(&others)).then_some((server, lo, hi))
}

/// Unsafe: the server then hands out ports it did not.
fn widened_server_fix(server: &FtpServer, lo: u16, hi: u16) -> Option<Fix> {
    Some(Fix {
        title: format!("hand out all of {lo}-{hi}, which the firewall opens"),
        edits: server.range_setting.as_ref()?.rewrite(lo, hi)?,
        safe: false,
    })
}

fn active_source_port(server: &FtpServer) -> Option<u16> {
    match &server.active {
        Active::Enabled { source_port, .. } => source_port.value,
        _ => None,
    }
}

/// An accept rule that names ports. A rule with no port match (`-s 10.0.0.0/8
/// -j ACCEPT`) trusts a source for everything and is not an FTP opening.
fn is_rule_accept(d: &Decision) -> bool {
    d.verdict == Verdict::Accept && !d.is_policy && !PortSet::connectable().is_subset(&d.rule_ports)
}

/// Ports in the contiguous blocks of an accept rule that overlap a passive
/// range, minus every port an FTP setting uses. Blocks elsewhere (22, 80, ...)
/// belong to other services and are left alone.
fn unused_ftp_ports(rule_ports: &PortSet, passive: &PortSet, used: &PortSet) -> PortSet {
    rule_ports
        .intersection(&PortSet::connectable())
        .blocks()
        .filter(|b| b.intersects(passive))
        .fold(PortSet::empty(), |acc, b| acc.union(&b.difference(used)))
}

impl FirewallOpensUnusedPorts {
    fn report(
        &self,
        rule: &Decision,
        span: crate::source::Span,
        unused: &PortSet,
        servers: &[FtpServer],
    ) -> Diagnostic {
        let mut d = Diagnostic::new(
            self.name(),
            format!(
                "firewall opens {} ({} ports) that no FTP setting uses",
                unused.summary(6),
                unused.count()
            ),
            span,
            format!("opens {}", rule.rule_ports.summary(6)),
        );
        for server in servers {
            if let Some(ports) = server.passive.ports() {
                let (primary, _) = passive_spans(server);
                d = d.with_related(
                    primary,
                    format!("{} hands out only {}", server.vocabulary().product, ports.summary(4)),
                );
            }
        }
        let keep = rule.rule_ports.difference(unused);
        let help = if keep.is_empty() {
            "remove the rule".to_owned()
        } else {
            format!("narrow the rule to {}", keep.summary(8))
        };
        d.with_help(help)
    }
}
