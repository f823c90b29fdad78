//! One line per finding: `path:line:col: severity: message [rule]`. A line break a
//! message quotes from its file (a shell string's `"21\n…"`) is shown as `?`, as in
//! paths, so no value can start a line of its own.

use super::{escape_controls, escape_path, location, path_of};
use crate::Report;
use std::fmt::Write;

pub fn render(report: &Report) -> String {
    let mut out = String::new();
    for d in &report.diagnostics {
        let loc = location(&report.sources, d.primary.span);
        let _ = writeln!(
            out,
            "{}:{}:{}: {}: {} [{}]",
            escape_path(&path_of(&report.sources, d.primary.span)),
            loc.line,
            loc.column,
            d.severity.as_str(),
            escape_controls(&d.message).replace(['\n', '\r'], "?"),
            d.rule
        );
    }
    out
}
