//! `ftp-helper-not-assigned`: see rules/ftp-helper-not-assigned.toml.

use super::Rule;
use crate::diag::Diagnostic;
use crate::facts::{ControlTls, Dialect};
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
            if server.tls.value != ControlTls::Never
                || fw.ftp_helpers.iter().any(|h| h.ports.contains(control))
            {
                continue;
            }
            let relying = closed_to_clients_of_control(fw, &ports.intersection(&PortSet::connectable()), control);
            if relying.is_empty() {
                continue;
            }
            let mut d = Diagnostic::new(
                self.name(),
                format!(
                    "the RELATED accept admits no FTP data: no conntrack helper is assigned to control port {control}, so passive ports {} stay closed",
                    relying.summary(4)
                ),
                related,
                "admits RELATED connections",
            );
            for helper in &fw.ftp_helpers {
                d = d.with_related(helper.span, format!("helper assigned to {} only", helper.ports.summary(4)));
            }
            if let Some(span) = server.control_port.span {
                d = d.with_related(span, format!("control port {control}"));
            }
            out.push(d.with_help(assign_helper(fw.dialect, control)));
        }
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
            "assign the helper: iptables -t raw -A PREROUTING -p tcp --dport {control} -j CT --helper ftp (automatic assignment is gone since Linux 6.0)"
        ),
        Dialect::PuppetFirewall => format!(
            "assign the helper: firewall {{ '001 ftp helper': table => 'raw', chain => 'PREROUTING', proto => 'tcp', dport => {control}, jump => 'CT', helper => 'ftp' }} (automatic assignment is gone since Linux 6.0)"
        ),
        Dialect::Ufw => format!(
            "assign the helper in /etc/ufw/before.rules (and before6.rules), after its filter COMMIT: `*raw`, `:PREROUTING ACCEPT [0:0]`, `-A PREROUTING -p tcp --dport {control} -j CT --helper ftp`, `COMMIT` (automatic assignment is gone since Linux 6.0)"
        ),
        Dialect::Nftables => format!(
            "assign the helper: in the table, `ct helper ftp-standard {{ type \"ftp\" protocol tcp; }}` and, in a chain hooked on prerouting or input, `tcp dport {control} ct helper set \"ftp-standard\"` (automatic assignment is gone since Linux 6.0)"
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

/// Passive ports closed to some class of clients that reaches the control port
/// (for those clients the helper's RELATED admission is the only way in); ports a
/// rule pasvlint could not read whole may open are not counted as closed.
fn closed_to_clients_of_control(
    fw: &crate::facts::Firewall,
    ports: &PortSet,
    control: u16,
) -> PortSet {
    fw.source_classes()
        .iter()
        .filter(|c| c.open_to_any().contains(control))
        .fold(PortSet::empty(), |acc, c| {
            let closed = ports.difference(&c.open);
            let (maybe, _) = c.maybe_opened(&closed, &fw.uncertain);
            acc.union(&closed.difference(&maybe))
        })
}
