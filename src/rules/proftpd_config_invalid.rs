//! `proftpd-config-invalid`: see rules/proftpd-config-invalid.toml.

use super::Rule;
use crate::diag::Diagnostic;
use crate::formats::bundle::Bundle;

pub struct ProftpdConfigInvalid;

impl Rule for ProftpdConfigInvalid {
    fn name(&self) -> &'static str {
        "proftpd-config-invalid"
    }

    fn check_bundle(&self, bundle: &Bundle, out: &mut Vec<Diagnostic>) {
        super::proftpd_passive_ports_invalid::report(self.name(), bundle, false, out);
    }
}
