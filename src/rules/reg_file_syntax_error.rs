//! `reg-file-syntax-error`: see rules/reg-file-syntax-error.toml.
//!
//! The Windows parsers phrase these findings where they detect them; this
//! rule reports the ones that carry its name.

use super::Rule;
use crate::diag::Diagnostic;
use crate::formats::ParsedFile;

pub struct RegFileSyntaxError;

impl Rule for RegFileSyntaxError {
    fn name(&self) -> &'static str {
        "reg-file-syntax-error"
    }

    fn check_file(&self, file: &ParsedFile, out: &mut Vec<Diagnostic>) {
        super::report_windows_findings(self.name(), file, out);
    }
}
