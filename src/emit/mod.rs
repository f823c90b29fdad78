//! Emitters: a Report in, bytes out. They know Diagnostics and facts, not formats.

pub mod concise;
pub mod facts;
pub mod human;
pub mod json;

use crate::diag::Diagnostic;
use crate::source::{SourceMap, Span};

/// 1-based start and end of a span, as every format reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Location {
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
}

pub fn location(sources: &SourceMap, span: Span) -> Location {
    let Some(file) = sources.get(span.file) else {
        return Location {
            line: 1,
            column: 1,
            end_line: 1,
            end_column: 1,
        };
    };
    let (line, column) = file.line_col(span.start);
    let (end_line, end_column) = file.line_col(span.end);
    Location {
        line,
        column,
        end_line,
        end_column,
    }
}

pub fn path_of(sources: &SourceMap, span: Span) -> String {
    sources
        .get(span.file)
        .map(|f| f.display_path())
        .unwrap_or_default()
}

/// Stable identity of a finding that survives edits elsewhere in the file:
/// rule, host, file and message (which carries the facts: ports, names), never line numbers.
pub fn fingerprint(d: &Diagnostic, sources: &SourceMap) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in [
        d.rule,
        d.host.as_deref().unwrap_or(""),
        &path_of(sources, d.primary.span),
        &d.message,
    ] {
        for b in part.bytes().chain([0u8]) {
            hash ^= u64::from(b);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{hash:016x}")
}

/// Counts for summaries.
#[derive(Clone, Copy, Debug, Default)]
pub struct Counts {
    pub errors: usize,
    pub warnings: usize,
    pub infos: usize,
}

pub fn counts(diagnostics: &[Diagnostic]) -> Counts {
    use crate::diag::Severity::*;
    let mut c = Counts::default();
    for d in diagnostics {
        match d.severity {
            Error => c.errors += 1,
            Warning => c.warnings += 1,
            Info => c.infos += 1,
        }
    }
    c
}

/// Replace terminal control characters from inputs so output cannot drive the
/// terminal; byte length is kept so spans stay valid.
pub fn escape_controls(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\n' | '\t' => c.to_string(),
            '\r' => c.to_string(),
            c if c.is_control() => "?".repeat(c.len_utf8()),
            c => c.to_string(),
        })
        .collect()
}
