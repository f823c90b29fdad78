//! `iptables-unreachable-rule`: see rules/iptables-unreachable-rule.toml.

use super::Rule;
use crate::diag::Diagnostic;
use crate::formats::iptables::deletion::Deletions;
use crate::formats::iptables::{Shadowed, shadowed_rules};
use crate::formats::{Document, ParsedFile};
use crate::source::Span;
use std::collections::HashMap;

pub struct IptablesUnreachableRule;

impl Rule for IptablesUnreachableRule {
    fn name(&self) -> &'static str {
        "iptables-unreachable-rule"
    }

    fn skips_backups(&self) -> bool {
        true
    }

    fn check_file(&self, file: &ParsedFile, out: &mut Vec<Diagnostic>) {
        let Document::Iptables(rs) = &file.doc else {
            return;
        };
        let shadowed = shadowed_rules(rs);
        if shadowed.is_empty() {
            return;
        }
        let deletions = Deletions::new(&file.source, rs, shadowed.iter().map(|s| s.rule));
        let mut line_of: HashMap<Span, Option<Span>> = HashMap::new();
        for s in &shadowed {
            let d = self.diagnose(s);
            let line = *line_of
                .entry(s.rule)
                .or_insert_with(|| deletions.as_ref().and_then(|d| d.line_of(s.rule)));
            out.push(match line {
                Some(line) => d.with_unsafe_fix(
                    "delete the rule (unsafe: it drops a rule the author wrote, though the firewall decides the same)",
                    vec![(line, String::new())],
                ),
                None => d,
            });
        }
    }
}

impl IptablesUnreachableRule {
    fn diagnose(&self, s: &Shadowed) -> Diagnostic {
        let message = match s.protocol {
            Some(p) => format!(
                "this rule never decides anything: {p} ports {} are all decided by earlier rules of chain {} in table {}",
                s.ports,
                s.chain,
                s.table.name()
            ),
            None => format!(
                "this rule is never reached: an earlier rule of chain {} in table {} decides every packet (ports {} of every protocol)",
                s.chain,
                s.table.name(),
                s.ports
            ),
        };
        let mut d = Diagnostic::new(self.name(), message, s.rule, "never reached");
        for by in &s.by {
            d = d.with_related(*by, "decides these ports first");
        }
        d.with_help("move the rule above the rule that decides its ports first, or delete it")
    }
}
