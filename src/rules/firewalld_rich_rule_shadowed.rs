//! `firewalld-rich-rule-shadowed`: see rules/firewalld-rich-rule-shadowed.toml.

use super::Rule;
use crate::diag::{Diagnostic, Severity};
use crate::formats::Document;
use crate::formats::bundle::{Bundle, BundleDoc};
use crate::formats::firewalld::shadow;

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
                out.push(
                    Diagnostic::new(
                        self.name(),
                        format!(
                            "this rich rule of zone {} never decides a packet: an earlier rule in firewalld's evaluation order (priority < 0, then drop/reject, then accept, then priority > 0) matches every packet it matches",
                            zone.name
                        ),
                        rule,
                        "never reached",
                    )
                    .with_related(by, "decides these packets first")
                    .with_help("remove the rule, or give it a lower priority= than the rule that decides first (rules with priority < 0 run before every drop/reject/accept of the zone)")
                    .at_most(Severity::Warning),
                );
            }
        }
    }
}
