//! `filezilla-passive-range-invalid`: see rules/filezilla-passive-range-invalid.toml.

use super::Rule;
use crate::diag::{Diagnostic, Fix};
use crate::source::Span;
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
            let text = |s: Span| file.source.text.get(s.range()).filter(|t| digits(t));
            if let Some([min, max]) = f.swapped {
                if let (Some(lo), Some(hi)) = (text(min), text(max)) {
                    // Safe: FileZilla Server swaps them itself, so it hands out the same ports.
                    d = d.with_fixes([Fix {
                        title: format!("write the bounds as FileZilla Server reads them: {hi} and {lo}"),
                        edits: vec![(min, hi.to_owned()), (max, lo.to_owned())],
                        safe: true,
                    }]);
                }
            }
            out.push(d);
        }
    }
}

fn digits(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}
