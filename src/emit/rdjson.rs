//! `check --format rdjson`: reviewdog's Diagnostic Format (`reviewdog -f=rdjson`).
//!
//! Columns are UTF-8 bytes from 1, as rdjson defines them; `end` is exclusive. A
//! finding's safe fix becomes `suggestions` (edits in its own file only, since a
//! suggestion carries no path), the other side of a cross-check `related_locations`.
//! The top-level `severity` is the highest among the findings (absent when there are none).

use super::{Columns, location_in, path_of, rule_url};
use crate::Report;
use crate::diag::{Diagnostic, Severity};
use crate::source::{SourceMap, Span};
use serde_json::{Map, Value, json};

pub fn render(report: &Report) -> String {
    let mut result = Map::new();
    result.insert(
        "source".into(),
        json!({ "name": "pasvlint", "url": super::HOMEPAGE }),
    );
    if let Some(highest) = report.diagnostics.iter().map(|d| d.severity).max() {
        result.insert("severity".into(), json!(severity(highest)));
    }
    let diagnostics: Vec<Value> = report
        .diagnostics
        .iter()
        .map(|d| diagnostic(d, &report.sources))
        .collect();
    result.insert("diagnostics".into(), Value::Array(diagnostics));
    let mut s = serde_json::to_string_pretty(&Value::Object(result)).unwrap_or_default();
    s.push('\n');
    s
}

fn diagnostic(d: &Diagnostic, sources: &SourceMap) -> Value {
    let mut out = Map::new();
    let message = match &d.help {
        Some(help) => format!("{}\nhelp: {help}", d.message),
        None => d.message.clone(),
    };
    out.insert("message".into(), json!(message));
    out.insert("location".into(), location(d.primary.span, sources));
    out.insert("severity".into(), json!(severity(d.severity)));
    out.insert(
        "code".into(),
        json!({ "value": d.rule, "url": rule_url(d.rule) }),
    );
    // reviewdog applies a finding's suggestions together: the preferred fix's.
    let suggestions: Vec<Value> = d
        .fixes
        .first()
        .into_iter()
        .flat_map(|f| &f.edits)
        .filter(|(span, _)| span.file == d.primary.span.file)
        .map(|(span, text)| json!({ "range": range(*span, sources), "text": text }))
        .collect();
    if !suggestions.is_empty() {
        out.insert("suggestions".into(), Value::Array(suggestions));
    }
    if !d.related.is_empty() {
        let related: Vec<Value> = d
            .related
            .iter()
            .map(|r| json!({ "message": r.message, "location": location(r.span, sources) }))
            .collect();
        out.insert("related_locations".into(), Value::Array(related));
    }
    Value::Object(out)
}

fn location(span: Span, sources: &SourceMap) -> Value {
    json!({ "path": path_of(sources, span), "range": range(span, sources) })
}

fn range(span: Span, sources: &SourceMap) -> Value {
    let l = location_in(sources, span, Columns::Utf8Bytes);
    json!({
        "start": { "line": l.line, "column": l.column },
        "end": { "line": l.end_line, "column": l.end_column },
    })
}

fn severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "ERROR",
        Severity::Warning => "WARNING",
        Severity::Info => "INFO",
    }
}
