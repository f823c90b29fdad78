//! `check --format json`: the versioned report contract of DESIGN.md.

use super::{counts, fingerprint, location, path_of};
use crate::Report;
use serde_json::{Value, json};

pub fn render(report: &Report) -> String {
    let diagnostics: Vec<Value> = report
        .diagnostics
        .iter()
        .map(|d| {
            let loc = location(&report.sources, d.primary.span);
            let related: Vec<Value> = d
                .related
                .iter()
                .map(|r| {
                    let l = location(&report.sources, r.span);
                    json!({
                        "file": path_of(&report.sources, r.span),
                        "line": l.line, "column": l.column,
                        "end_line": l.end_line, "end_column": l.end_column,
                        "message": r.message,
                    })
                })
                .collect();
            json!({
                "rule": d.rule,
                "severity": d.severity.as_str(),
                "message": d.message,
                "host": d.host,
                "file": path_of(&report.sources, d.primary.span),
                "line": loc.line, "column": loc.column,
                "end_line": loc.end_line, "end_column": loc.end_column,
                "label": d.primary.message,
                "related": related,
                "help": d.help,
                "fingerprint": fingerprint(d, &report.sources),
            })
        })
        .collect();
    let c = counts(&report.diagnostics);
    let doc = json!({
        "version": 1,
        "diagnostics": diagnostics,
        "summary": {
            "files": report.file_count(),
            "hosts": report.hosts.len(),
            "errors": c.errors,
            "warnings": c.warnings,
            "infos": c.infos,
            "suppressed": report.suppressed,
        }
    });
    let mut s = serde_json::to_string_pretty(&doc).unwrap_or_default();
    s.push('\n');
    s
}
