//! `firewalld-config-invalid`: see rules/firewalld-config-invalid.toml.

use super::Rule;
use crate::diag::{Diagnostic, Severity};
use crate::formats::bundle::{Bundle, BundleDoc};
use crate::formats::firewalld::Problem;
use crate::formats::{Document, ParsedFile};

pub struct FirewalldConfigInvalid;

const STOCK: &str = "firewalld logs \"Failed to load user configuration. Falling back to full stock configuration.\" and runs the shipped zones instead: the default zone public opens only ssh (22/tcp) and dhcpv6-client, so nothing this configuration opens is open";

fn report(rule: &'static str, p: &Problem, out: &mut Vec<Diagnostic>) {
    let (message, label, help) = if p.fatal {
        (
            format!("firewalld refuses this: {}; {STOCK}", p.message),
            "firewalld refuses this",
            "fix the value (`firewall-offline-cmd --check-config` shows the same error)",
        )
    } else {
        (
            p.message.clone(),
            "firewalld ignores this",
            "fix it; firewalld only warns about it in its log",
        )
    };
    let mut d = Diagnostic::new(rule, message, p.span, label).with_help(help);
    if !p.fatal {
        d = d.at_most(Severity::Warning);
    }
    out.push(d);
}

impl Rule for FirewalldConfigInvalid {
    fn name(&self) -> &'static str {
        "firewalld-config-invalid"
    }

    fn check_file(&self, file: &ParsedFile, out: &mut Vec<Diagnostic>) {
        let problems = match &file.doc {
            Document::FirewalldZone(z) => &z.problems,
            Document::FirewalldService(s) => &s.problems,
            _ => return,
        };
        for p in problems {
            report(self.name(), p, out);
        }
    }

    fn check_bundle(&self, bundle: &Bundle, out: &mut Vec<Diagnostic>) {
        let BundleDoc::Firewalld(host) = &bundle.doc else {
            return;
        };
        for p in &host.problems {
            report(self.name(), p, out);
        }
    }
}
