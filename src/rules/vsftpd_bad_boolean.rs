//! `vsftpd-bad-boolean`: see rules/vsftpd-bad-boolean.toml.

use super::Rule;
use crate::diag::Diagnostic;
use crate::formats::ParsedFile;
use crate::formats::vsftpd::{Outcome, Setting, config_of, parse_bool, shown_short, trim_c_space};
use crate::source::SourceFile;

pub struct VsftpdBadBoolean;

const ACCEPTED: &str = "YES, NO, TRUE, FALSE, 1 or 0 (any case)";

impl Rule for VsftpdBadBoolean {
    fn name(&self) -> &'static str {
        "vsftpd-bad-boolean"
    }

    fn check_file(&self, file: &ParsedFile, out: &mut Vec<Diagnostic>) {
        let Some(config) = config_of(file) else {
            return;
        };
        if config.utf16.is_some() {
            return;
        }
        let source = &file.source;
        let (crlf, other): (Vec<&Setting>, Vec<&Setting>) = config
            .settings
            .iter()
            .filter(|s| s.outcome == Outcome::BadBool)
            .partition(|s| only_cr_is_wrong(value_of(s, source)));
        if let Some(first) = crlf.first() {
            out.push(self.crlf(first, crlf.len(), source));
        }
        let cut_line = config.truncation.as_ref().and_then(|t| t.cut_line);
        for setting in other {
            out.push(self.bad_value(setting, source, cut_line == Some(setting.line)));
        }
    }
}

/// The command that strips the carriage returns of a CRLF file.
pub(crate) fn convert_to_lf(source: &SourceFile) -> String {
    format!(
        "convert the file to LF line endings: `sed -i 's/\\r$//' {}`",
        source.display_path()
    )
}

fn value_of<'a>(setting: &Setting, source: &'a SourceFile) -> &'a str {
    setting.value_text(source).unwrap_or("")
}

fn only_cr_is_wrong(value: &str) -> bool {
    value
        .strip_suffix('\r')
        .is_some_and(|v| parse_bool(v).is_some())
}

/// Every carriage return that ends a line, removed.
pub(crate) fn crlf_edits(source: &SourceFile) -> Vec<(crate::source::Span, String)> {
    let bytes = source.text.as_bytes();
    bytes
        .windows(2)
        .enumerate()
        .filter(|(_, w)| w == b"\r\n")
        .map(|(i, _)| (source.span(i, i + 1), String::new()))
        .collect()
}

impl VsftpdBadBoolean {
    /// One finding for the whole file: the line endings are the cause, not each line.
    fn crlf(&self, first: &Setting, count: usize, source: &SourceFile) -> Diagnostic {
        let value = value_of(first, source).trim_end_matches('\r');
        let what = match count {
            1 => format!("`{}={value}` ends in a carriage return", first.name),
            n => format!(
                "{n} yes/no values end in a carriage return, starting with `{}={value}`",
                first.name
            ),
        };
        Diagnostic::new(
            self.name(),
            format!(
                "vsftpd refuses to start: the file has Windows (CRLF) line endings, so {what}, and vsftpd accepts only {ACCEPTED}"
            ),
            first.value.unwrap_or(first.line),
            "value ends in \\r",
        )
        .with_help(convert_to_lf(source))
        .with_fix("convert the file to Unix (LF) line endings", crlf_edits(source))
    }

    fn bad_value(&self, setting: &Setting, source: &SourceFile, cut: bool) -> Diagnostic {
        let value = value_of(setting, source);
        let (cause, meant) = if cut {
            (
                Some("vsftpd reads only the first 100000 bytes of the file, and they end inside this value".to_owned()),
                None,
            )
        } else {
            diagnose(value)
        };
        let mut message = format!(
            "vsftpd refuses to start: `{}` must be {ACCEPTED}, not `{}`",
            setting.name,
            shown_short(value)
        );
        if let Some(cause) = cause {
            message.push_str(": ");
            message.push_str(&cause);
        }
        let help = match meant {
            _ if cut => "move this line up, or delete comments and repeated lines to bring the file under 100000 bytes".to_owned(),
            Some(v) => format!("write `{}={}`", setting.name, v),
            None => format!("write `{0}=YES` or `{0}=NO`", setting.name),
        };
        Diagnostic::new(
            self.name(),
            message,
            setting.value.unwrap_or(setting.line),
            "not a yes/no value",
        )
        .with_help(help)
    }
}

/// Why a value is rejected, and the accepted value it most likely meant.
fn diagnose(value: &str) -> (Option<String>, Option<&'static str>) {
    let canonical = |v: &str| parse_bool(v).map(|b| if b { "YES" } else { "NO" });
    let trimmed = trim_c_space(value);
    if let Some(meant) = canonical(trimmed) {
        let leading = !value.starts_with(trimmed);
        let trailing = !value.ends_with(trimmed);
        let cause = match (leading, trailing) {
            (true, true) => "the whitespace around it is part of the value",
            (true, false) => "the whitespace after `=` is part of the value",
            _ if value.ends_with('\r') => "it ends in a carriage return (CRLF line ending)",
            _ => "the trailing whitespace is part of the value",
        };
        return (Some(cause.to_owned()), Some(meant));
    }
    if let Some((before, _)) = value.split_once('#') {
        if let Some(meant) = canonical(trim_c_space(before)) {
            return (
                Some("vsftpd has no inline comments: the `#` and what follows are part of the value".to_owned()),
                Some(meant),
            );
        }
    }
    let unquoted = trimmed.trim_matches(['"', '\'']);
    if unquoted.len() < trimmed.len() {
        if let Some(meant) = canonical(unquoted) {
            return (Some("the quotes are part of the value".to_owned()), Some(meant));
        }
    }
    let alias = match unquoted.to_ascii_lowercase().as_str() {
        "on" | "y" | "t" | "enable" | "enabled" | "active" => Some("YES"),
        "off" | "n" | "f" | "disable" | "disabled" | "inactive" | "none" => Some("NO"),
        "01" | "+1" => Some("YES"),
        "00" | "-0" => Some("NO"),
        _ => None,
    };
    (None, alias)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_cause_of_each_measured_failure() {
        let cause = |v| diagnose(v);
        assert_eq!(cause("YES ").1, Some("YES"));
        assert!(cause("YES ").0.unwrap().contains("trailing whitespace"));
        assert!(cause(" YES").0.unwrap().contains("after `=`"));
        assert!(cause("YES #c").0.unwrap().contains("inline comments"));
        assert!(cause("\"NO\"").0.unwrap().contains("quotes"));
        assert_eq!(cause("on"), (None, Some("YES")));
        assert_eq!(cause("Y"), (None, Some("YES")));
        assert_eq!(cause("01"), (None, Some("YES")));
        assert_eq!(cause("maybe"), (None, None));
        assert!(only_cr_is_wrong("YES\r"));
        assert!(!only_cr_is_wrong("on\r"));
    }
}
