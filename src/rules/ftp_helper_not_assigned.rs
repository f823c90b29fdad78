//! `ftp-helper-not-assigned`: see rules/ftp-helper-not-assigned.toml.

use super::Rule;
use crate::diag::Diagnostic;
use crate::facts::{ControlTls, Dialect, Scope};
use crate::source::Span;
use crate::hosts::Host;
use crate::policy::Policy;
use crate::portset::PortSet;

pub struct FtpHelperNotAssigned;

impl Rule for FtpHelperNotAssigned {
    fn name(&self) -> &'static str {
        "ftp-helper-not-assigned"
    }

    fn check_host(&self, host: &Host, _policy: &Policy, out: &mut Vec<Diagnostic>) {
        let Some(fw) = &host.firewall else {
            return;
        };
        let Some(&related) = fw.related_accepts.first() else {
            return;
        };
        for server in &host.servers {
            let (Some(ports), Some(control)) = (server.passive.ports(), server.control_port.value)
            else {
                continue;
            };
            // A helper cannot read a TLS control channel, so assigning one would not
            // help; passive-ports-blocked tells such servers to open the range.
            if server.tls.value != ControlTls::Never {
                continue;
            }
            let Some(missing) = missing_helper(fw, control) else {
                continue;
            };
            let entry = missing.entry_port(control);
            let relying = relying_on_related(fw, &ports.intersection(&PortSet::connectable()), entry);
            let Some(mut d) = self.finding(&relying, &missing, control, related) else {
                continue;
            };
            for (span, sometimes) in relying.partial_openers.iter().take(2) {
                d = d.with_related(
                    *span,
                    format!("admits {} only for some connections", sometimes.summary(4)),
                );
            }
            if let Missing::OnRedirectedPort { redirect, .. } = &missing {
                d = d.with_related(
                    redirect.span,
                    format!("redirects {} to {}", redirect.from.summary(4), redirect.to.summary(4)),
                );
            }
            for helper in &fw.ftp_helpers {
                d = d.with_related(helper.span, format!("helper assigned to {} only", helper.ports.summary(4)));
            }
            if let Some(span) = server.control_port.span {
                d = d.with_related(span, format!("control port {control}"));
            }
            out.push(d.with_help(assign_helper(fw.dialect, entry)));
        }
    }
}

/// Which control connections get no helper.
enum Missing<'a> {
    /// None that reach the control port.
    OnControlPort,
    /// Those clients open on a port nat redirects to the control port: a helper
    /// assigned before nat sees that port, never the control port.
    OnRedirectedPort {
        entry: u16,
        redirect: &'a crate::facts::Redirect,
    },
}

impl Missing<'_> {
    /// The port those clients connect to.
    fn entry_port(&self, control: u16) -> u16 {
        match self {
            Missing::OnControlPort => control,
            Missing::OnRedirectedPort { entry, .. } => *entry,
        }
    }
}

fn missing_helper(fw: &crate::facts::Firewall, control: u16) -> Option<Missing<'_>> {
    if fw.helper_for(control).is_none() {
        return Some(Missing::OnControlPort);
    }
    let redirect = fw.redirected_to(control)?;
    let covered = fw
        .ftp_helpers
        .iter()
        .filter(|h| h.serves.contains(control))
        .fold(PortSet::empty(), |acc, h| acc.union(&h.ports));
    let entry = redirect.from.difference(&covered).first()?;
    Some(Missing::OnRedirectedPort { entry, redirect })
}

impl FtpHelperNotAssigned {
    /// What is true of the passive ports: closed, or reached only through an
    /// accept that matches some connections (a rate limit, an interface).
    fn finding(
        &self,
        relying: &Relying,
        missing: &Missing,
        control: u16,
        related: Span,
    ) -> Option<Diagnostic> {
        let no_helper = match missing {
            Missing::OnControlPort => format!(
                "the RELATED accept admits no FTP data: no conntrack helper is assigned to control port {control}"
            ),
            Missing::OnRedirectedPort { entry, .. } => format!(
                "the RELATED accept admits no FTP data for clients that connect to port {entry}, which nat redirects to control port {control}: the helper rule sees the port before nat and is not assigned to {entry}"
            ),
        };
        let message = if !relying.closed.is_empty() {
            format!("{no_helper}, so passive ports {} stay closed", relying.closed.summary(4))
        } else if !relying.sometimes.is_empty() {
            format!(
                "{no_helper}, so passive ports {} get in only through a rule that matches some connections, not all",
                relying.sometimes.summary(4)
            )
        } else {
            return None;
        };
        Some(Diagnostic::new(self.name(), message, related, "admits RELATED connections"))
    }
}

/// How to attach the helper, in the firewall's own syntax.
fn assign_helper(dialect: Dialect, control: u16) -> String {
    match dialect {
        Dialect::Iptables
        | Dialect::WindowsFirewall
        | Dialect::DockerCompose
        | Dialect::Kubernetes
        | Dialect::KubernetesNetworkPolicy
        | Dialect::AwsSecurityGroup
        | Dialect::AzureNsg
        | Dialect::GcpFirewall
        | Dialect::OpenstackSecurityGroup => format!(
            "assign the helper: iptables -t raw -A PREROUTING -p tcp --dport {control} -j CT --helper ftp (automatic assignment, which kernels before 6.0 turn on with net.netfilter.nf_conntrack_helper=1, is gone since Linux 6.0)"
        ),
        Dialect::PuppetFirewall => format!(
            "assign the helper: firewall {{ '001 ftp helper': table => 'raw', chain => 'PREROUTING', proto => 'tcp', dport => {control}, jump => 'CT', helper => 'ftp' }} (automatic assignment, which kernels before 6.0 turn on with net.netfilter.nf_conntrack_helper=1, is gone since Linux 6.0)"
        ),
        Dialect::Ufw => format!(
            "assign the helper in /etc/ufw/before.rules (and before6.rules), after its filter COMMIT: `*raw`, `:PREROUTING ACCEPT [0:0]`, `-A PREROUTING -p tcp --dport {control} -j CT --helper ftp`, `COMMIT` (automatic assignment, which kernels before 6.0 turn on with net.netfilter.nf_conntrack_helper=1, is gone since Linux 6.0)"
        ),
        Dialect::Nftables => format!(
            "assign the helper: in the table, `ct helper ftp-standard {{ type \"ftp\" protocol tcp; }}` and, in a chain hooked on prerouting or input, `tcp dport {control} ct helper set \"ftp-standard\"` (automatic assignment, which kernels before 6.0 turn on with net.netfilter.nf_conntrack_helper=1, is gone since Linux 6.0)"
        ),
        Dialect::Firewalld => format!(
            "add the ftp service to the zone (`<service name=\"ftp\"/>`, or `firewall-cmd --permanent --add-service=ftp`): it attaches the ftp helper{}",
            if control == 21 {
                String::new()
            } else {
                format!("; for control port {control}, a service of your own with `<port port=\"{control}\" protocol=\"tcp\"/>` and `<helper name=\"ftp\"/>`")
            }
        ),
    }
}

/// Passive ports that clients reaching the control port get to only as RELATED.
struct Relying {
    /// Closed to some class of those clients.
    closed: PortSet,
    /// Open to some class only through accepts that match some of its
    /// connections, and those accepts with what they admit.
    sometimes: PortSet,
    partial_openers: Vec<(Span, PortSet)>,
}

/// For every class of clients that reaches the control port, the passive ports it
/// does not reach whole (for those clients the helper's RELATED admission is the
/// only sure way in); ports a rule pasvlint could not read whole may open are not
/// counted.
fn relying_on_related(fw: &crate::facts::Firewall, ports: &PortSet, control: u16) -> Relying {
    let mut out = Relying {
        closed: PortSet::empty(),
        sometimes: PortSet::empty(),
        partial_openers: Vec::new(),
    };
    for class in fw.source_classes().iter().filter(|c| c.open_to_any().contains(control)) {
        let unsure = ports.difference(&class.open);
        let (maybe, _) = class.maybe_opened(&unsure, &fw.uncertain);
        let unsure = unsure.difference(&maybe);
        let sometimes = unsure.intersection(&class.open_to_some);
        out.closed = out.closed.union(&unsure.difference(&sometimes));
        for opener in class.openers(&sometimes).filter(|d| d.scope == Scope::Some) {
            if let Some(span) = opener.span {
                if !out.partial_openers.iter().any(|(s, _)| *s == span) {
                    out.partial_openers.push((span, opener.ports.intersection(&sometimes)));
                }
            }
        }
        out.sometimes = out.sometimes.union(&sometimes);
    }
    out.sometimes = out.sometimes.difference(&out.closed);
    out
}
