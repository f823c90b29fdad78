//! `control-port-outside-policy`: see rules/control-port-outside-policy.toml.

use super::Rule;
use crate::diag::Diagnostic;
use crate::hosts::Host;
use crate::policy::Policy;

pub struct ControlPortOutsidePolicy;

impl Rule for ControlPortOutsidePolicy {
    fn name(&self) -> &'static str {
        "control-port-outside-policy"
    }

    fn check_host(&self, host: &Host, policy: &Policy, out: &mut Vec<Diagnostic>) {
        let Some(required) = policy.control_port else {
            return;
        };
        for server in &host.servers {
            let Some(port) = server.control_port.value else {
                continue;
            };
            if port == required {
                continue;
            }
            let words = server.vocabulary();
            let (span, label) = match server.control_port.span {
                Some(span) => (span, format!("listens on {port}")),
                None => (server.anchor, format!("listens on {port} by default")),
            };
            out.push(
                Diagnostic::new(
                    self.name(),
                    format!("control port {port} breaks the site policy: FTP servers listen on {required}"),
                    span,
                    label,
                )
                .with_help(format!("set {} to {required}", words.control_port)),
            );
        }
    }
}
