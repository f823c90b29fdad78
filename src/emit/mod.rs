//! Emitters: a Report in, bytes out. They know Diagnostics and facts, not formats.

pub mod checkstyle;
pub mod concise;
pub mod explain;
pub mod facts;
pub mod github;
pub mod gitlab;
pub mod human;
pub mod json;
pub mod junit;
pub mod portmap;
pub mod rdjson;
pub mod sarif;
pub mod statistics;

use crate::Report;
use crate::diag::{Diagnostic, Label};
use crate::rules::RuleMeta;
use crate::source::{FileId, SourceFile, SourceMap, Span};
use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;
use std::str::FromStr;

/// Where pasvlint's own pages live; every rule links to its TOML there.
pub const HOMEPAGE: &str = "https://github.com/pasvlint/pasvlint";

/// The stable page of a rule: the `rules/<name>.toml` the binary embeds.
pub fn rule_url(rule: &str) -> String {
    format!("{HOMEPAGE}/blob/main/rules/{rule}.toml")
}

/// Every `check --format` value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReportFormat {
    Human,
    Concise,
    Json,
    Sarif,
    Github,
    Gitlab,
    Junit,
    Checkstyle,
    Rdjson,
}

impl ReportFormat {
    pub const ALL: [ReportFormat; 9] = [
        ReportFormat::Human,
        ReportFormat::Concise,
        ReportFormat::Json,
        ReportFormat::Sarif,
        ReportFormat::Github,
        ReportFormat::Gitlab,
        ReportFormat::Junit,
        ReportFormat::Checkstyle,
        ReportFormat::Rdjson,
    ];

    pub const NAMES: [&'static str; 9] = [
        "human",
        "concise",
        "json",
        "sarif",
        "github",
        "gitlab",
        "junit",
        "checkstyle",
        "rdjson",
    ];

    pub fn name(self) -> &'static str {
        let i = Self::ALL.iter().position(|f| *f == self).unwrap_or(0);
        Self::NAMES[i]
    }

    /// One JSON or XML document: two of them on one stream make neither readable,
    /// while line formats (human, concise, github) can share stdout.
    pub fn is_document(self) -> bool {
        !matches!(
            self,
            ReportFormat::Human | ReportFormat::Concise | ReportFormat::Github
        )
    }
}

impl FromStr for ReportFormat {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Self::NAMES
            .iter()
            .position(|n| *n == s)
            .map(|i| Self::ALL[i])
            .ok_or_else(|| {
                format!(
                    "unknown report format `{s}` (one of {})",
                    Self::NAMES.join(", ")
                )
            })
    }
}

/// One report to write: a format and a file, or stdout (`None`, written `-`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Destination {
    pub format: ReportFormat,
    pub path: Option<PathBuf>,
}

impl FromStr for Destination {
    type Err = String;

    /// `FORMAT=PATH`, with `-` for stdout.
    fn from_str(s: &str) -> Result<Self, String> {
        let Some((format, path)) = s.split_once('=') else {
            return Err(format!(
                "expected FORMAT=PATH (e.g. sarif=pasvlint.sarif, or github=- for stdout), got `{s}`"
            ));
        };
        if path.is_empty() {
            return Err(format!("no path after `{format}=` (use - for stdout)"));
        }
        Ok(Destination {
            format: format.parse()?,
            path: (path != "-").then(|| PathBuf::from(path)),
        })
    }
}

/// Refuse a set of reports that would overwrite each other or garble stdout.
/// `extra_stdout` counts other text (such as `--statistics`) that goes to stdout.
pub fn check_destinations(destinations: &[Destination], extra_stdout: usize) -> Result<(), String> {
    let on_stdout: Vec<ReportFormat> = destinations
        .iter()
        .filter(|d| d.path.is_none())
        .map(|d| d.format)
        .collect();
    let document = on_stdout.iter().find(|f| f.is_document());
    if let Some(doc) = document.filter(|_| on_stdout.len() + extra_stdout > 1) {
        return Err(format!(
            "a {} report must be alone on stdout: write the other reports to files (FORMAT=PATH)",
            doc.name()
        ));
    }
    let files: Vec<&PathBuf> = destinations
        .iter()
        .filter_map(|d| d.path.as_ref())
        .collect();
    for (i, path) in files.iter().enumerate() {
        if files[..i].contains(path) {
            return Err(format!(
                "two reports would be written to {}",
                path.display()
            ));
        }
    }
    Ok(())
}

/// What the emitters need besides the report.
pub struct RenderOptions<'a> {
    /// Colors in the human report.
    pub color: bool,
    /// Width of the human report.
    pub width: usize,
    /// Rule metadata for formats that describe rules (SARIF): normally [`crate::rules::catalog`].
    pub rules: &'a [RuleMeta],
    /// `file://` URI of the directory relative paths start from, ending in `/` (SARIF `%SRCROOT%`).
    pub srcroot: Option<String>,
}

pub fn render(format: ReportFormat, report: &Report, options: &RenderOptions) -> String {
    match format {
        ReportFormat::Human => human::render(
            report,
            &human::Options {
                color: options.color,
                width: options.width,
            },
        ),
        ReportFormat::Concise => concise::render(report),
        ReportFormat::Json => json::render(report),
        ReportFormat::Sarif => sarif::render(
            report,
            &sarif::Options {
                rules: options.rules,
                srcroot: options.srcroot.clone(),
            },
        ),
        ReportFormat::Github => github::render(report),
        ReportFormat::Gitlab => gitlab::render(report),
        ReportFormat::Junit => junit::render(report),
        ReportFormat::Checkstyle => checkstyle::render(report),
        ReportFormat::Rdjson => rdjson::render(report),
    }
}

/// 1-based start and end of a span, as every format reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Location {
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
}

impl Location {
    /// The line of the span's last character: a span that ends just after a line
    /// break ends on the line before, for formats that report whole lines.
    pub fn last_line(&self) -> usize {
        if self.end_line > self.line && self.end_column == 1 {
            self.end_line - 1
        } else {
            self.end_line
        }
    }
}

/// What a column counts, from 1 at the start of the line of the decoded text.
/// Every format says which one it uses; they differ only after non-ASCII text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Columns {
    /// Unicode scalar values (characters): human, concise, json, github, junit, checkstyle.
    Chars,
    /// UTF-16 code units: SARIF (`columnKind: utf16CodeUnits`).
    Utf16,
    /// UTF-8 bytes: reviewdog's rdjson.
    Utf8Bytes,
}

/// 1-based start and end (exclusive) of a span, columns in characters.
pub fn location(sources: &SourceMap, span: Span) -> Location {
    location_in(sources, span, Columns::Chars)
}

pub fn location_in(sources: &SourceMap, span: Span, columns: Columns) -> Location {
    let Some(file) = sources.get(span.file) else {
        return Location {
            line: 1,
            column: 1,
            end_line: 1,
            end_column: 1,
        };
    };
    let (line, column) = line_col(file, span.start, columns);
    let (end_line, end_column) = line_col(file, span.end, columns);
    Location {
        line,
        column,
        end_line,
        end_column,
    }
}

fn line_col(file: &SourceFile, offset: u32, columns: Columns) -> (usize, usize) {
    let (line, chars) = file.line_col(offset);
    let start = file.line_range(line).start;
    let offset = (offset as usize).min(file.text.len());
    let before = file.text.get(start..offset);
    let units = match (columns, before) {
        (Columns::Chars, _) => return (line, chars),
        (Columns::Utf16, Some(text)) => text.encode_utf16().count(),
        _ => offset.saturating_sub(start),
    };
    (line, units + 1)
}

pub use crate::diag::fingerprint;
pub use crate::source::path_of;

pub fn file_path(sources: &SourceMap, file: FileId) -> String {
    sources
        .get(file)
        .map(|f| f.display_path())
        .unwrap_or_default()
}

/// `path:line:col: label` of another place a finding involves (no `: ` without a label).
pub fn related_line(sources: &SourceMap, label: &Label) -> String {
    let l = location(sources, label.span);
    let place = format!("{}:{}:{}", path_of(sources, label.span), l.line, l.column);
    if label.message.is_empty() {
        place
    } else {
        format!("{place}: {}", label.message)
    }
}

/// Fingerprints of every finding in report order, made unique: a repeat of the same
/// finding (same rule, host, file and message) gets `-1`, `-2`, ... in order.
pub fn unique_fingerprints(report: &Report) -> Vec<String> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    report
        .diagnostics
        .iter()
        .map(|d| {
            let base = fingerprint(d, &report.sources);
            let repeats = seen.entry(base.clone()).or_insert(0);
            let unique = match *repeats {
                0 => base,
                n => format!("{base}-{n}"),
            };
            *repeats += 1;
            unique
        })
        .collect()
}

/// Every file a report mentions, in id order (discovery order, so sorted by path).
pub fn report_files(report: &Report) -> Vec<FileId> {
    let mut ids: BTreeSet<FileId> = report.files.iter().map(|(id, _)| *id).collect();
    for d in &report.diagnostics {
        ids.extend(
            std::iter::once(&d.primary)
                .chain(&d.related)
                .map(|l| l.span.file),
        );
    }
    ids.into_iter()
        .filter(|id| report.sources.get(*id).is_some_and(|f| !f.is_virtual()))
        .collect()
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
/// terminal; byte length is kept so spans stay valid. A carriage return is kept
/// only where it ends a line (CRLF files): anywhere else it would send the cursor
/// back and let the rest of the line overwrite what was printed. Bidirectional
/// overrides and isolates (U+202A-202E, U+2066-2069) and the line and paragraph
/// separators go too: they make the shown text read differently from the bytes
/// (CVE-2021-42574).
pub fn escape_controls(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\n' | '\t' => out.push(c),
            '\r' if chars.peek() == Some(&'\n') => out.push(c),
            c if c.is_control() || reorders_text(c) => {
                out.extend(std::iter::repeat_n('?', c.len_utf8()))
            }
            c => out.push(c),
        }
    }
    out
}

/// A path as a line-oriented report may show it: [`escape_controls`], and line
/// breaks and tabs too (a file named `x\n1:1: error: …` must not print a
/// finding of its own). Machine formats keep the path exact in their own escaping.
pub fn escape_path(path: &str) -> String {
    escape_controls(path).replace(['\n', '\t', '\r'], "?")
}

fn reorders_text(c: char) -> bool {
    matches!(
        c,
        '\u{202a}'..='\u{202e}'
            | '\u{2066}'..='\u{2069}'
            | '\u{200e}'
            | '\u{200f}'
            | '\u{061c}'
            | '\u{2028}'
            | '\u{2029}'
    )
}

/// Text for XML character data: markup escaped, characters XML 1.0 forbids
/// (most C0 controls, U+FFFE, U+FFFF) replaced by U+FFFD, CR kept as `&#13;`.
pub fn xml_text(text: &str) -> String {
    xml_escape(text, false)
}

/// Text for a double-quoted XML attribute: as [`xml_text`], and line breaks and tabs as
/// character references so attribute-value normalisation keeps them.
pub fn xml_attr(text: &str) -> String {
    xml_escape(text, true)
}

fn xml_escape(text: &str, attribute: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if attribute => out.push_str("&quot;"),
            '\r' => out.push_str("&#13;"),
            '\n' if attribute => out.push_str("&#10;"),
            '\t' if attribute => out.push_str("&#9;"),
            '\n' | '\t' => out.push(c),
            '\u{0}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::escape_controls;

    #[test]
    fn control_characters_cannot_drive_the_terminal() {
        assert_eq!(escape_controls("a=1\r\nb=2\n"), "a=1\r\nb=2\n", "CRLF kept");
        assert_eq!(escape_controls("banner=hi\rthere"), "banner=hi?there");
        assert_eq!(escape_controls("x\u{1b}]0;pwned\u{7}y\r"), "x?]0;pwned?y?");
        assert_eq!(
            escape_controls("\u{85}").len(),
            "\u{85}".len(),
            "length kept"
        );
        assert_eq!(
            escape_controls("user=\u{202e}nimda\u{2066}x\u{2069}"),
            "user=???nimda???x???"
        );
    }
}
