//! `iptables-unreachable-rule`: see rules/iptables-unreachable-rule.toml.

use super::Rule;
use crate::diag::Diagnostic;
use crate::formats::iptables::{Proto, Ruleset, Shadowed, shadowed_rules};
use crate::formats::{Document, ParsedFile};

pub struct IptablesUnreachableRule;

impl Rule for IptablesUnreachableRule {
    fn name(&self) -> &'static str {
        "iptables-unreachable-rule"
    }

    fn check_file(&self, file: &ParsedFile, out: &mut Vec<Diagnostic>) {
        let Document::Iptables(rs) = &file.doc else {
            return;
        };
        for s in shadowed_rules(rs) {
            out.push(self.diagnose(rs, &s));
        }
    }
}

impl IptablesUnreachableRule {
    fn diagnose(&self, rs: &Ruleset, s: &Shadowed) -> Diagnostic {
        let proto = protocol_of(rs, s);
        let message = match proto {
            Some(p) => format!(
                "this rule never decides anything: {p} ports {} are all decided by earlier rules of chain {} in table {}",
                s.ports,
                s.chain,
                s.table.name()
            ),
            None => format!(
                "this rule is never reached: an earlier rule of chain {} in table {} decides every packet (ports 0-65535 of every protocol)",
                s.chain,
                s.table.name()
            ),
        };
        let mut d = Diagnostic::new(self.name(), message, s.rule, "never reached");
        for by in &s.by {
            d = d.with_related(*by, "decides these ports first");
        }
        d.with_help("move the rule above the rule that decides its ports first, or delete it")
    }
}

/// `tcp` or `udp` when the rule was shadowed within one protocol's ports.
fn protocol_of(rs: &Ruleset, s: &Shadowed) -> Option<&'static str> {
    let rule = rs
        .all_tables()
        .filter(|t| t.kind == s.table)
        .flat_map(|t| t.chain(&s.chain))
        .flat_map(|c| c.rules.iter())
        .find(|r| r.span == s.rule)?;
    let shadowed_by_all = s.by.iter().any(|b| {
        rs.all_tables()
            .flat_map(|t| t.chains.iter())
            .flat_map(|c| c.rules.iter())
            .any(|r| r.span == *b && r.proto == Proto::Any)
    });
    if shadowed_by_all {
        return None;
    }
    match rule.proto {
        Proto::Tcp => Some("tcp"),
        Proto::Udp => Some("udp"),
        _ => None,
    }
}
