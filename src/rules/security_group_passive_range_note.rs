//! `security-group-passive-range-note`: see rules/security-group-passive-range-note.toml.

use super::{Rule, passive_spans};
use crate::diag::Diagnostic;
use crate::facts::{Decision, Scope, Verdict};
use crate::hosts::Host;
use crate::policy::Policy;
use crate::portset::PortSet;

pub struct SecurityGroupPassiveRangeNote;

/// The check a generic scanner runs on a cloud filter rule, and how to record an
/// exception for it.
struct Scanner {
    check: &'static str,
    suppress: &'static str,
    /// The scanner flags the rule only when it admits every address.
    public_only: bool,
}

fn scanner(kind: &str) -> Option<Scanner> {
    Some(match kind {
        "aws-security-group" => Scanner {
            check: "Trivy's AVD-AWS-0107 (an ingress rule from a public CIDR)",
            suppress: "a `#trivy:ignore:AVD-AWS-0107` comment on the line above the rule",
            public_only: true,
        },
        "azure-nsg" => Scanner {
            check: "PSRule for Azure's Azure.NSG.AnyInboundSource (an inbound allow from any source)",
            suppress: "a suppression of Azure.NSG.AnyInboundSource for this NSG in ps-rule.yaml",
            public_only: true,
        },
        "gcp-firewall" => Scanner {
            check: "KICS's \"Google Compute Network Using Firewall Rule that Allows Port Range\" (query e6f61c37-106b-449f-a5bb-81bfcaceb8b4)",
            suppress: "a `# kics-scan ignore-line` comment on the line above the ports",
            public_only: false,
        },
        _ => return None,
    })
}

impl Rule for SecurityGroupPassiveRangeNote {
    fn name(&self) -> &'static str {
        "security-group-passive-range-note"
    }

    fn check_host(&self, host: &Host, _policy: &Policy, out: &mut Vec<Diagnostic>) {
        let mut seen = Vec::new();
        for server in &host.servers {
            let Some(passive) = server.passive.ports() else {
                continue;
            };
            for (_, fw) in host.firewalls() {
                for layer in fw.own_layers().iter() {
                    let Some(scanner) = scanner(layer.kind) else {
                        continue;
                    };
                    for d in layer.decisions.iter().filter(|d| flagged(d, &scanner)) {
                        let Some(span) = d.span else { continue };
                        let needed = d.rule_ports.intersection(passive);
                        if needed.is_empty() || seen.contains(&span) {
                            continue;
                        }
                        seen.push(span);
                        out.push(note(self.name(), server, passive, d, &needed, &scanner, span));
                    }
                }
            }
        }
    }
}

/// An accept rule (not the default) that opens a range, to everyone when the
/// scanner only flags public rules.
fn flagged(d: &Decision, scanner: &Scanner) -> bool {
    d.verdict == Verdict::Accept
        && !d.is_policy
        && d.rule_ports.count() > 1
        && d.rule_ports != PortSet::all()
        && (!scanner.public_only || d.scope == Scope::All)
}

fn note(
    rule: &'static str,
    server: &crate::facts::FtpServer,
    passive: &PortSet,
    d: &Decision,
    needed: &PortSet,
    scanner: &Scanner,
    span: crate::source::Span,
) -> Diagnostic {
    let product = server.vocabulary().product;
    let whom = if d.scope == Scope::All {
        "to every address"
    } else {
        "to some sources"
    };
    let mut diag = Diagnostic::new(
        rule,
        format!(
            "this rule opens {} {whom}, which {} flags; {product} hands out {} as its passive range, so {} must stay open to every client that logs in",
            d.rule_ports.summary(4),
            scanner.check,
            passive.summary(4),
            needed.summary(4)
        ),
        span,
        format!("opens {}", d.rule_ports.summary(4)),
    );
    let (primary, _) = passive_spans(server);
    diag = diag.with_related(primary, format!("{product} hands out {}", passive.summary(4)));
    diag.with_help(format!(
        "keep the rule and record the exception for the scanner with the reason (the FTP passive range): {}; open no more than {} here",
        scanner.suppress,
        passive.summary(4)
    ))
}
