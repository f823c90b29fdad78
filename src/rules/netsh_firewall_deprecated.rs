//! `netsh-firewall-deprecated`: see rules/netsh-firewall-deprecated.toml.
//!
//! The Windows parsers phrase these findings where they detect them; this
//! rule reports the ones that carry its name.

use super::Rule;
use crate::diag::Diagnostic;
use crate::formats::{ParsedFile, windows_findings};

pub struct NetshFirewallDeprecated;

impl Rule for NetshFirewallDeprecated {
    fn name(&self) -> &'static str {
        "netsh-firewall-deprecated"
    }

    fn check_file(&self, file: &ParsedFile, out: &mut Vec<Diagnostic>) {
        out.extend(
            windows_findings(file)
                .iter()
                .filter(|f| f.rule == self.name())
                .map(|f| f.to_diagnostic()),
        );
    }
}
