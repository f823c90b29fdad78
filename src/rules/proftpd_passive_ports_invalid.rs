//! `proftpd-passive-ports-invalid`: see rules/proftpd-passive-ports-invalid.toml.

use super::Rule;
use crate::diag::{Diagnostic, Severity};
use crate::formats::bundle::Bundle;
use crate::formats::proftpd::{FindingKind, bundle::findings};

pub struct ProftpdPassivePortsInvalid;

impl Rule for ProftpdPassivePortsInvalid {
    fn name(&self) -> &'static str {
        "proftpd-passive-ports-invalid"
    }

    fn check_bundle(&self, bundle: &Bundle, out: &mut Vec<Diagnostic>) {
        report(self.name(), bundle, true, out);
    }
}

/// The walk's errors about `PassivePorts` (`range`) or about anything else.
pub(crate) fn report(rule: &'static str, bundle: &Bundle, range: bool, out: &mut Vec<Diagnostic>) {
    let wanted = findings(bundle).into_iter().filter(|f| {
        f.range == range && matches!(f.kind, FindingKind::Invalid | FindingKind::Skipped)
    });
    for f in wanted {
        let d = Diagnostic::new(rule, f.message.clone(), f.span, f.label.clone())
            .with_help(f.help.clone());
        out.push(severity_of(f.kind, d));
    }
}

/// A finding of `kind` as a diagnostic: an error in an included file that the
/// daemon survives is a warning.
fn severity_of(kind: FindingKind, d: Diagnostic) -> Diagnostic {
    match kind {
        FindingKind::Skipped => d.at_most(Severity::Warning),
        _ => d,
    }
}
