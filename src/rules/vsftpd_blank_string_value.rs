//! `vsftpd-blank-string-value`: see rules/vsftpd-blank-string-value.toml.

use super::Rule;
use super::vsftpd_bad_boolean::{convert_to_lf, crlf_edits};
use crate::diag::{Diagnostic, Fix};
use crate::source::SourceFile;
use crate::formats::ParsedFile;
use crate::formats::vsftpd::{Outcome, Setting, config_of, shown};

pub struct VsftpdBlankStringValue;

impl Rule for VsftpdBlankStringValue {
    fn name(&self) -> &'static str {
        "vsftpd-blank-string-value"
    }

    fn check_file(&self, file: &ParsedFile, out: &mut Vec<Diagnostic>) {
        let Some(config) = config_of(file) else {
            return;
        };
        if config.utf16.is_some() {
            return;
        }
        for setting in config.settings.iter().filter(|s| s.outcome == Outcome::BlankStr) {
            let value = setting.value_text(&file.source).unwrap_or("");
            let fix = blanking_fix(setting, value, &file.source);
            let (what, help) = if value == "\r" {
                (
                    "nothing but the carriage return of a CRLF line ending".to_owned(),
                    format!("{}, or delete the line", convert_to_lf(&file.source)),
                )
            } else {
                (
                    format!("only whitespace (`{}`)", shown(value)),
                    format!(
                        "delete the line, or write `{}=` with nothing after `=` to unset it",
                        setting.name
                    ),
                )
            };
            out.push(
                Diagnostic::new(
                    self.name(),
                    format!(
                        "vsftpd crashes (SIGSEGV) at startup: the value of `{}` is {what}, which Debian's 3.0.3 build trims to nothing",
                        setting.name
                    ),
                    setting.value.map_or(setting.line, |v| setting.key.to(v)),
                    "whitespace-only value",
                )
                .with_help(help)
                .with_fixes(fix),
            );
        }
    }
}

/// Safe: an empty value unsets the directive as vsftpd reads it, which is what a
/// blank one was meant to do. A lone CR goes with the file's CRLF endings; other
/// blanks are deleted (a value of blanks and a CR is left to the CRLF fix first).
fn blanking_fix(setting: &Setting, value: &str, source: &SourceFile) -> Option<Fix> {
    let edits = if value == "\r" {
        crlf_edits(source)
    } else if value.contains('\r') {
        return None;
    } else {
        vec![(setting.value?, String::new())]
    };
    let title = if value == "\r" {
        "convert the file to LF line endings".to_owned()
    } else {
        format!("write `{}=` with nothing after `=`", setting.name)
    };
    Some(Fix {
        title,
        edits,
        safe: true,
    })
}
