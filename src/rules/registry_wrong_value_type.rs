//! `registry-wrong-value-type`: see rules/registry-wrong-value-type.toml.
//!
//! The Windows parsers phrase these findings where they detect them; this
//! rule reports the ones that carry its name.

use super::Rule;
use crate::diag::Diagnostic;
use crate::formats::ParsedFile;

pub struct RegistryWrongValueType;

impl Rule for RegistryWrongValueType {
    fn name(&self) -> &'static str {
        "registry-wrong-value-type"
    }

    fn check_file(&self, file: &ParsedFile, out: &mut Vec<Diagnostic>) {
        super::report_windows_findings(self.name(), file, out);
    }
}
