//! `firewalld-rich-rule-shadowed`: see rules/firewalld-rich-rule-shadowed.toml.

use super::Rule;
use crate::diag::{Diagnostic, Severity};
use crate::formats::Document;
use crate::formats::bundle::{Bundle, BundleDoc};
use crate::formats::firewalld::shadow;
use crate::formats::firewalld::zone::{RichRule, What};
use crate::source::SourceFile;

pub struct FirewalldRichRuleShadowed;

impl Rule for FirewalldRichRuleShadowed {
    fn name(&self) -> &'static str {
        "firewalld-rich-rule-shadowed"
    }

    fn check_bundle(&self, bundle: &Bundle, out: &mut Vec<Diagnostic>) {
        let BundleDoc::Firewalld(host) = &bundle.doc else {
            return;
        };
        for part in &bundle.parts {
            let Document::FirewalldZone(zone) = &part.doc else {
                continue;
            };
            for (rule, by) in shadow::shadowed(zone, &host.written) {
                let d = Diagnostic::new(
                    self.name(),
                    format!(
                        "this rich rule of zone {} never decides a packet: an earlier rule in firewalld's evaluation order (priority < 0, then drop/reject, then accept, then priority > 0) matches every packet it matches",
                        zone.name
                    ),
                    rule.span,
                    "never reached",
                )
                .with_related(by, "decides these packets first")
                .with_help("remove the rule, or give it a lower priority= than the rule that decides first (rules with priority < 0 run before every drop/reject/accept of the zone)")
                .at_most(Severity::Warning);
                out.push(match deletion(&part.source, rule) {
                    Some(edit) => d.with_unsafe_fix(
                        "delete the rule (unsafe: it drops a rule the author wrote, though firewalld decides the same)",
                        vec![edit],
                    ),
                    None => d,
                });
            }
        }
    }
}

/// The rule's element, with its lines when it stands alone on them. Only for a
/// TCP port rule: shadowing is decided on TCP ports, and a service may also
/// open UDP ports or load a conntrack helper (ftp's) that deleting would drop.
/// None for a rule that logs (its `log`/`audit` runs before any verdict) and for
/// one read from elsewhere than this zone file (a `firewall-cmd` command).
fn deletion(source: &SourceFile, rule: &RichRule) -> Option<(crate::source::Span, String)> {
    let tcp_port = matches!(&rule.what, What::Port(p) if p.protocol == "tcp");
    if !tcp_port || rule.logs || rule.extent.file != source.id || rule.extent == rule.span {
        return None;
    }
    let span = source.own_lines(rule.extent).unwrap_or(rule.extent);
    Some((span, String::new()))
}
