//! `iptables-unknown-match`: see rules/iptables-unknown-match.toml.

use super::Rule;
use crate::diag::Diagnostic;
use crate::formats::{Document, ParsedFile};

pub struct IptablesUnknownMatch;

impl Rule for IptablesUnknownMatch {
    fn name(&self) -> &'static str {
        "iptables-unknown-match"
    }

    fn skips_backups(&self) -> bool {
        true
    }

    fn check_file(&self, file: &ParsedFile, out: &mut Vec<Diagnostic>) {
        let Document::Iptables(rs) = &file.doc else {
            return;
        };
        for u in &rs.unknowns {
            let message = if u.ports.is_empty() {
                u.what.clone()
            } else {
                format!(
                    "{}: pasvlint assumes it holds for some connections only, so the rule for ports {} opens them to some sources at most and closes none",
                    u.what, u.ports
                )
            };
            out.push(
                Diagnostic::new(self.name(), message, u.span, "not modelled")
                    .with_related(u.rule, "in this rule")
                    .with_help(
                        "check the ports this rule affects by hand, or express the condition with matches pasvlint models (-s, -i, --dport, conntrack, multiport)",
                    ),
            );
        }
    }
}
