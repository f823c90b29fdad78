//! `pureftpd-passive-range-invalid`: see rules/pureftpd-passive-range-invalid.toml.

use super::Rule;
use crate::diag::Diagnostic;
use crate::formats::ParsedFile;
use crate::formats::bundle::Bundle;
use crate::formats::pureftpd::{Finding, FindingKind, bundle::assembled, findings_of};

pub struct PureftpdPassiveRangeInvalid;

impl Rule for PureftpdPassiveRangeInvalid {
    fn name(&self) -> &'static str {
        "pureftpd-passive-range-invalid"
    }

    fn check_file(&self, file: &ParsedFile, out: &mut Vec<Diagnostic>) {
        report(self.name(), findings_of(file), out);
    }

    fn check_bundle(&self, bundle: &Bundle, out: &mut Vec<Diagnostic>) {
        if let Some(model) = assembled(bundle) {
            report(self.name(), model.findings.iter().collect(), out);
        }
    }
}

fn report(rule: &'static str, findings: Vec<&Finding>, out: &mut Vec<Diagnostic>) {
    for f in findings.into_iter().filter(|f| f.kind == FindingKind::RangeInvalid) {
        out.push(Diagnostic::new(rule, f.message.clone(), f.span, f.label).with_help(f.help.clone()));
    }
}
