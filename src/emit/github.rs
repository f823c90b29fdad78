//! `check --format github`: GitHub Actions workflow commands, one annotation per finding:
//! `::error file=…,line=…,col=…,endLine=…,endColumn=…,title=…::message`.
//!
//! Values are escaped exactly as `@actions/core` (`command.ts`) does, so text from a
//! config file can never end the command line and start another one (`::set-env`,
//! `::add-mask`, ...): in the message `%`, CR and LF become `%25`, `%0D`, `%0A`; in
//! property values `:` and `,` also become `%3A` and `%2C`. Other control characters
//! are replaced first, as in the human report, so they cannot drive the log viewer.
//! Columns count characters from 1 and `endColumn` is exclusive; the Checks API takes
//! columns only on a one-line annotation, so a multi-line finding gives lines only.

use super::{escape_controls, location, path_of, related_line};
use crate::Report;
use crate::diag::{Diagnostic, Severity};
use std::fmt::Write;

pub fn render(report: &Report) -> String {
    let mut out = String::new();
    for d in &report.diagnostics {
        out.push_str(&annotation(d, report));
    }
    for (path, reason) in &report.unreadable {
        let path = crate::source::display_path(path);
        let _ = writeln!(
            out,
            "::error file={},title=pasvlint::{}",
            escape_property(&path),
            escape_data(&format!("cannot read {path}: {reason}"))
        );
    }
    out
}

fn annotation(d: &Diagnostic, report: &Report) -> String {
    let loc = location(&report.sources, d.primary.span);
    let mut properties = vec![
        ("file", path_of(&report.sources, d.primary.span)),
        ("line", loc.line.to_string()),
    ];
    if loc.line == loc.end_line {
        properties.push(("col", loc.column.to_string()));
        properties.push(("endLine", loc.end_line.to_string()));
        properties.push(("endColumn", loc.end_column.to_string()));
    } else {
        properties.push(("endLine", loc.last_line().to_string()));
    }
    properties.push(("title", d.rule.to_owned()));
    let properties: Vec<String> = properties
        .into_iter()
        .map(|(key, value)| format!("{key}={}", escape_property(&value)))
        .collect();
    format!(
        "::{} {}::{}\n",
        command(d.severity),
        properties.join(","),
        escape_data(&message(d, report))
    )
}

fn command(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "notice",
    }
}

/// The message, the other places involved (the other side of a cross-check), the fix.
fn message(d: &Diagnostic, report: &Report) -> String {
    let mut text = d.message.clone();
    for r in &d.related {
        let _ = write!(text, "\n{}", related_line(&report.sources, r));
    }
    if let Some(help) = &d.help {
        let _ = write!(text, "\nhelp: {help}");
    }
    text
}

/// `escapeData` of `@actions/core`.
pub fn escape_data(text: &str) -> String {
    escape_controls(text)
        .replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// `escapeProperty` of `@actions/core`.
pub fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_as_the_toolkit_does() {
        assert_eq!(escape_data("50%\r\n::x"), "50%25%0D%0A::x");
        assert_eq!(escape_property("a:b,c%\n"), "a%3Ab%2Cc%25%0A");
        assert_eq!(escape_data("\u{1b}[31m"), "?[31m");
    }
}
