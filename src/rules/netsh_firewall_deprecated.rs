//! `netsh-firewall-deprecated`: see rules/netsh-firewall-deprecated.toml.
//!
//! The Windows parsers phrase these findings where they detect them; this
//! rule reports the ones that carry its name.

use super::Rule;
use crate::diag::Diagnostic;
use crate::formats::ParsedFile;

pub struct NetshFirewallDeprecated;

impl Rule for NetshFirewallDeprecated {
    fn name(&self) -> &'static str {
        "netsh-firewall-deprecated"
    }

    fn check_file(&self, file: &ParsedFile, out: &mut Vec<Diagnostic>) {
        super::report_windows_findings(self.name(), file, out);
    }
}
