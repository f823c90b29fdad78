//! `batch-for-single-percent`: see rules/batch-for-single-percent.toml.
//!
//! The Windows parsers phrase these findings where they detect them; this
//! rule reports the ones that carry its name.

use super::Rule;
use crate::diag::Diagnostic;
use crate::formats::ParsedFile;

pub struct BatchForSinglePercent;

impl Rule for BatchForSinglePercent {
    fn name(&self) -> &'static str {
        "batch-for-single-percent"
    }

    fn check_file(&self, file: &ParsedFile, out: &mut Vec<Diagnostic>) {
        super::report_windows_findings(self.name(), file, out);
    }
}
