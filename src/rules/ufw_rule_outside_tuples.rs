//! `ufw-rule-outside-tuples`: see rules/ufw-rule-outside-tuples.toml.

use super::Rule;
use crate::diag::Diagnostic;
use crate::formats::ufw::files::{self, Stage};
use crate::formats::{Document, Format, ParsedFile};

pub struct UfwRuleOutsideTuples;

impl Rule for UfwRuleOutsideTuples {
    fn name(&self) -> &'static str {
        "ufw-rule-outside-tuples"
    }

    fn check_file(&self, file: &ParsedFile, out: &mut Vec<Diagnostic>) {
        let is_user_rules = file.format == Format::UfwRules
            && matches!(files::rules_file(&file.source.path), Some((Stage::User, _)));
        if !is_user_rules || !matches!(file.doc, Document::Iptables(_)) {
            return;
        }
        for span in files::rules_outside_tuples(&file.source) {
            out.push(
                Diagnostic::new(
                    self.name(),
                    "this rule follows no `### tuple ###` line: ufw does not know it, `ufw status` does not list it, and the next `ufw allow`, `deny` or `delete` rewrites user.rules without it",
                    span,
                    "not one of ufw's rules",
                )
                .with_help(
                    "add the rule with the ufw command (e.g. `ufw allow 40000:40100/tcp`), which writes the tuple and the iptables lines, or move hand-written rules to before.rules, which ufw never rewrites",
                ),
            );
        }
    }
}
