//! One line per finding: `path:line:col: severity: message [rule]`.

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
            escape_controls(&d.message),
            d.rule
        );
    }
    out
}
