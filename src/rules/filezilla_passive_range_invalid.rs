//! `filezilla-passive-range-invalid`: see rules/filezilla-passive-range-invalid.toml.

use super::Rule;
use crate::diag::Diagnostic;
use crate::formats::ParsedFile;
use crate::formats::filezilla::settings_of;

pub struct FilezillaPassiveRangeInvalid;

impl Rule for FilezillaPassiveRangeInvalid {
    fn name(&self) -> &'static str {
        "filezilla-passive-range-invalid"
    }

    fn check_file(&self, file: &ParsedFile, out: &mut Vec<Diagnostic>) {
        let Some(settings) = settings_of(file) else {
            return;
        };
        for f in &settings.findings {
            let mut d = Diagnostic::new(self.name(), f.message.clone(), f.span, "changed or ignored by FileZilla Server")
                .with_help(f.help.clone());
            if let Some((span, label)) = f.related {
                d = d.with_related(span, label);
            }
            out.push(d);
        }
    }
}
