//! `proftpd-include-not-found`: see rules/proftpd-include-not-found.toml.

use super::Rule;
use crate::diag::Diagnostic;
use crate::formats::bundle::Bundle;
use crate::formats::proftpd::{FindingKind, bundle::findings};

pub struct ProftpdIncludeNotFound;

impl Rule for ProftpdIncludeNotFound {
    fn name(&self) -> &'static str {
        "proftpd-include-not-found"
    }

    fn check_bundle(&self, bundle: &Bundle, out: &mut Vec<Diagnostic>) {
        for f in findings(bundle)
            .into_iter()
            .filter(|f| f.kind == FindingKind::IncludeMissing)
        {
            out.push(
                Diagnostic::new(self.name(), f.message.clone(), f.span, f.label.clone())
                    .with_help(f.help.clone()),
            );
        }
    }
}
