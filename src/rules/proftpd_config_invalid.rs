//! `proftpd-config-invalid`: see rules/proftpd-config-invalid.toml.

use super::Rule;
use crate::diag::{Diagnostic, Severity};
use crate::formats::bundle::Bundle;
use crate::formats::proftpd::FindingKind;

pub struct ProftpdConfigInvalid;

impl Rule for ProftpdConfigInvalid {
    fn name(&self) -> &'static str {
        "proftpd-config-invalid"
    }

    fn check_bundle(&self, bundle: &Bundle, out: &mut Vec<Diagnostic>) {
        super::proftpd_passive_ports_invalid::report(self.name(), bundle, false, out);
    }
}

/// A finding of `kind` as a diagnostic: an error in an included file that the
/// daemon survives is a warning.
pub(crate) fn severity_of(kind: FindingKind, d: Diagnostic) -> Diagnostic {
    match kind {
        FindingKind::Skipped => d.at_most(Severity::Warning),
        _ => d,
    }
}
