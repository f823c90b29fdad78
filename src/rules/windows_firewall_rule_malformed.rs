//! `windows-firewall-rule-malformed`: see rules/windows-firewall-rule-malformed.toml.
//!
//! The Windows parsers phrase these findings where they detect them; this
//! rule reports the ones that carry its name.

use super::Rule;
use crate::diag::Diagnostic;
use crate::formats::ParsedFile;

pub struct WindowsFirewallRuleMalformed;

impl Rule for WindowsFirewallRuleMalformed {
    fn name(&self) -> &'static str {
        "windows-firewall-rule-malformed"
    }

    fn check_file(&self, file: &ParsedFile, out: &mut Vec<Diagnostic>) {
        super::report_windows_findings(self.name(), file, out);
    }
}
