//! `iis-script-command-malformed`: see rules/iis-script-command-malformed.toml.
//!
//! The Windows parsers phrase these findings where they detect them; this
//! rule reports the ones that carry its name.

use super::Rule;
use crate::diag::Diagnostic;
use crate::formats::ParsedFile;

pub struct IisScriptCommandMalformed;

impl Rule for IisScriptCommandMalformed {
    fn name(&self) -> &'static str {
        "iis-script-command-malformed"
    }

    fn check_file(&self, file: &ParsedFile, out: &mut Vec<Diagnostic>) {
        super::report_windows_findings(self.name(), file, out);
    }
}
