//! `reg-file-syntax-error`: see rules/reg-file-syntax-error.toml.
//!
//! The Windows parsers phrase these findings where they detect them; this
//! rule reports the ones that carry its name.

use super::Rule;
use crate::diag::Diagnostic;
use crate::formats::{ParsedFile, windows_findings};

pub struct RegFileSyntaxError;

impl Rule for RegFileSyntaxError {
    fn name(&self) -> &'static str {
        "reg-file-syntax-error"
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
