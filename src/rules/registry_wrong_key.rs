//! `registry-wrong-key`: see rules/registry-wrong-key.toml.
//!
//! The Windows parsers phrase these findings where they detect them; this
//! rule reports the ones that carry its name.

use super::Rule;
use crate::diag::Diagnostic;
use crate::formats::ParsedFile;

pub struct RegistryWrongKey;

impl Rule for RegistryWrongKey {
    fn name(&self) -> &'static str {
        "registry-wrong-key"
    }

    fn check_file(&self, file: &ParsedFile, out: &mut Vec<Diagnostic>) {
        super::report_windows_findings(self.name(), file, out);
    }
}
