//! `vsftpd-missing-value`: see rules/vsftpd-missing-value.toml.

use super::Rule;
use super::vsftpd_unknown_directive::{did_you_mean, indented_comment};
use crate::diag::Diagnostic;
use crate::formats::ParsedFile;
use crate::formats::vsftpd::directives::{self, Default, Directive, Kind};
use crate::formats::vsftpd::{BOM, Config, Outcome, Setting, config_of, shown_short};

pub struct VsftpdMissingValue;

impl Rule for VsftpdMissingValue {
    fn name(&self) -> &'static str {
        "vsftpd-missing-value"
    }

    fn check_file(&self, file: &ParsedFile, out: &mut Vec<Diagnostic>) {
        let Some(config) = config_of(file) else {
            return;
        };
        if let Some(encoding) = config.utf16 {
            let span = file.source.span(0, file.source.line_range(1).end);
            out.push(
                Diagnostic::new(
                    self.name(),
                    format!(
                        "vsftpd refuses to start: the file is {encoding}, and vsftpd reads bytes: a NUL byte after the first character ends line 1 before any `=`"
                    ),
                    span,
                    format!("{encoding} text"),
                )
                .with_help("save the file as UTF-8 (without BOM) with LF line endings"),
            );
            return;
        }
        for setting in config.settings.iter().filter(|s| s.outcome == Outcome::MissingValue) {
            out.push(self.diagnose(setting, config));
        }
    }
}

impl VsftpdMissingValue {
    fn diagnose(&self, setting: &Setting, config: &Config) -> Diagnostic {
        let name = setting.name.as_str();
        let shown_name = shown_short(name);
        let span = if setting.key.is_empty() {
            setting.line
        } else {
            setting.key.to(setting.value.unwrap_or(setting.key))
        };
        let new = |message: String, label: &str| Diagnostic::new(self.name(), message, span, label);
        let cut_by_cap = config
            .truncation
            .as_ref()
            .and_then(|t| t.cut_line)
            .is_some_and(|cut| cut == setting.line);
        if cut_by_cap {
            return new(
                format!(
                    "vsftpd refuses to start: it reads only the first 100000 bytes, which end inside this line, after `{shown_name}`"
                ),
                "the read stops here",
            )
            .with_help("shorten the file below 100000 bytes (delete comments or repeated lines)");
        }
        if let Some(directive) = setting.directive {
            let what = if setting.value.is_some() {
                "has nothing after `=`"
            } else {
                "has no `=` and no value"
            };
            return new(
                format!("vsftpd refuses to start: `{shown_name}` {what}"),
                "missing value",
            )
            .with_help(format!(
                "write {}, or delete the line to keep the default",
                example(directive)
            ));
        }
        if name.starts_with(BOM) {
            return new(
                format!(
                    "vsftpd refuses to start: the file starts with a UTF-8 byte-order mark (BOM), so line 1 reads as `{shown_name}`, a setting without `=`, not a comment"
                ),
                "BOM before this",
            )
            .with_help("save the file as UTF-8 without a byte-order mark");
        }
        if name.is_empty() {
            let message = if setting.value.is_some() {
                "vsftpd refuses to start: `=` with no name and no value".to_owned()
            } else {
                "vsftpd refuses to start: the line begins with a NUL byte, which ends it for vsftpd".to_owned()
            };
            return new(message, "empty setting").with_help("delete the line");
        }
        if name.starts_with('#') {
            return indented_comment(self.name(), &shown_name, span);
        }
        let d = new(
            format!("vsftpd refuses to start: `{shown_name}` is not a `name=value` setting"),
            "no `=`",
        );
        match split_without_equals(name) {
            Some((directive, value)) => d.with_help(format!("write `{}={value}`", directive.name)),
            None => d.with_help("write `name=value`, or make it a comment with `#` as the first character"),
        }
    }
}

/// A valid line for `directive`, with its default value as the example.
fn example(directive: &Directive) -> String {
    let name = directive.name;
    match (directive.kind, directive.default) {
        (Kind::Bool, _) => format!("`{name}=YES` or `{name}=NO`"),
        (_, Default::Uint(n)) if name.ends_with("umask") || name.ends_with("mode") => {
            format!("`{name}=0{n:o}`")
        }
        (_, Default::Uint(n)) => format!("`{name}=<number>` (the default is {n})"),
        _ => format!("`{name}=<value>`"),
    }
}

/// `listen_port 21` or `pasv_enable: YES`: a directive and value with the `=` missing.
fn split_without_equals(line: &str) -> Option<(&'static Directive, &str)> {
    let (key, value) = line.split_once(|c: char| c == ':' || c.is_ascii_whitespace())?;
    let value = value.trim_start_matches([':', ' ', '\t']).trim_end();
    if value.is_empty() {
        return None;
    }
    let directive = directives::lookup(&key.to_ascii_lowercase()).or_else(|| did_you_mean(key))?;
    Some((directive, value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_directive_when_the_equals_sign_is_missing() {
        let (d, v) = split_without_equals("listen_port 21").unwrap();
        assert_eq!((d.name, v), ("listen_port", "21"));
        let (d, v) = split_without_equals("Pasv_enable: YES").unwrap();
        assert_eq!((d.name, v), ("pasv_enable", "YES"));
        assert!(split_without_equals("foo").is_none());
    }

    #[test]
    fn examples_use_the_default() {
        let ex = |n| example(directives::lookup(n).unwrap());
        assert_eq!(ex("pasv_min_port"), "`pasv_min_port=<number>` (the default is 5001)");
        assert_eq!(ex("local_umask"), "`local_umask=077`");
        assert_eq!(ex("listen"), "`listen=YES` or `listen=NO`");
    }
}
