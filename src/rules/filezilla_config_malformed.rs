//! `filezilla-config-malformed`: see rules/filezilla-config-malformed.toml.

use super::Rule;
use crate::diag::Diagnostic;
use crate::formats::ParsedFile;
use crate::formats::filezilla::{Version, settings_of};

pub struct FilezillaConfigMalformed;

impl Rule for FilezillaConfigMalformed {
    fn name(&self) -> &'static str {
        "filezilla-config-malformed"
    }

    fn check_file(&self, file: &ParsedFile, out: &mut Vec<Diagnostic>) {
        let Some(settings) = settings_of(file) else {
            return;
        };
        let name = file
            .source
            .path
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        let consequence = match (settings.version, settings.unreadable) {
            (Version::Legacy, true) => {
                "FileZilla Server 0.9 cannot load it and runs with every setting at its default (control port 21, no custom passive range)"
            }
            (Version::Modern, true) => {
                "no XML parser accepts that, so FileZilla Server cannot take its settings from it; pasvlint takes no server from this file"
            }
            (_, false) => {
                "pasvlint reads what it can of the file (FileZilla Server's own XML reader is more lenient and may accept this)"
            }
        };
        out.extend(settings.tree.errors.iter().map(|e| {
            let (line, column) = file.source.line_col(e.span.start);
            let mut d = Diagnostic::new(
                self.name(),
                format!(
                    "the XML of {name} breaks at line {line}, column {column}: {}; {consequence}",
                    e.message
                ),
                e.span,
                "XML breaks here",
            );
            if let Some((span, label)) = &e.related {
                d = d.with_related(*span, label.clone());
            }
            d.with_help(format!(
                "fix the XML at line {line} (or restore the file from a backup, or let the FileZilla Server admin interface write it again), check it with an XML parser, then restart the service"
            ))
        }));
    }
}
