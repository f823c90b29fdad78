//! `vsftpd-blank-string-value`: see rules/vsftpd-blank-string-value.toml.

use super::Rule;
use super::vsftpd_bad_boolean::convert_to_lf;
use crate::diag::Diagnostic;
use crate::formats::ParsedFile;
use crate::formats::vsftpd::{Outcome, config_of, shown};

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
                .with_help(help),
            );
        }
    }
}
