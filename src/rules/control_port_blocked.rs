//! `control-port-blocked`: see rules/control-port-blocked.toml.

use super::{Rule, audience, by_the_firewall, closing_label, families_to_check};
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
        for server in &host.servers {
            let families = families_to_check(host, server);
            let named = families.len() > 1;
            for (family, fw) in families {
                self.check(server, fw, named.then_some(family), out);
            }
        }
    }
}

impl ControlPortBlocked {
    fn check(
        &self,
        server: &crate::facts::FtpServer,
        fw: &crate::facts::Firewall,
        family: Option<crate::facts::Family>,
        out: &mut Vec<Diagnostic>,
    ) {
        let Some(port) = server.control_port.value else {
            return;
        };
        if fw.open_to_any().contains(port) {
            return;
        }
        let who = audience(family, &[], 0);
        let words = server.vocabulary();
        let (span, label) = match server.control_port.span {
            Some(span) => (span, format!("{} listens on {port}", words.product)),
            None => (
                server.anchor,
                format!("{} listens on {port} by default", words.product),
            ),
        };
        let ports = PortSet::single(port);
        let elsewhere = super::open_in_unassumed_profiles(fw, &ports);
        let consequence = match (who.is_empty(), elsewhere.is_empty()) {
            (true, true) => "no client can log in",
            (false, true) => "none of them can log in",
            (_, false) => "when the host is on a public network, no client can log in",
        };
        let mut d = Diagnostic::new(
            self.name(),
            format!(
                "control port {port} is blocked {}{who}: {consequence}",
                by_the_firewall(fw),
            ),
            span,
            label,
        );
        if !elsewhere.is_empty() {
            // The public profile is assumed: no file says which network the host is on.
            d = d.at_most(crate::diag::Severity::Warning);
        }
        for blocker in fw.blockers(&ports).take(2) {
            if let Some(span) = blocker.span {
                d = d.with_related(span, closing_label(blocker, &ports));
            }
        }
        let help = if fw.dialect == crate::facts::Dialect::DockerCompose {
            format!(
                "publish the control port to every address under `ports:` (\"{port}:{port}\", not on 127.0.0.1)"
            )
        } else if fw.dialect == crate::facts::Dialect::Kubernetes {
            format!(
                "expose container port {port} outside the cluster: a NodePort or LoadBalancer Service port with targetPort: {port}, or hostPort on the container"
            )
        } else if fw.own_layers().iter().any(|l| super::is_cloud_layer(l.kind)) {
            format!(
                "{}, or set {} to a port it opens",
                super::open_in_layers(fw, &ports),
                words.control_port
            )
        } else {
            format!(
                "open {port}/tcp in the firewall, or set {} to a port it opens",
                words.control_port
            )
        };
        let help = match elsewhere.is_empty() {
            true => help,
            false => format!(
                "open {port}/tcp in the public profile too (profile=any, -Profile Any), or say which network the host is on (Set-NetConnectionProfile -NetworkCategory Private)"
            ),
        };
        out.push(d.with_help(help));
    }
}
