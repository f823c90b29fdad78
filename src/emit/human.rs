//! Human report via miette: a snippet from every file involved, help with the fix.
//!
//! miette gives a diagnostic one source, so labels in the primary file stay on the
//! finding and each other file becomes a related (advice) diagnostic with its own source.

use super::{counts, escape_controls, escape_path};
use crate::Report;
use crate::diag::{Diagnostic, Label, Severity};
use crate::source::{FileId, SourceMap};
use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource};
use std::fmt;
use std::sync::Arc;

pub struct Options {
    pub color: bool,
    pub width: usize,
}

pub fn render(report: &Report, options: &Options) -> String {
    let theme = if options.color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(options.width)
        .with_links(false)
        .without_syntax_highlighting();
    let mut out = String::new();
    let mut texts = Texts::default();
    for d in &report.diagnostics {
        let mut rendered = build(d, &report.sources, &mut texts);
        // Each other file of the finding is drawn after it as its own block: as
        // miette's related reports each would be headed "Advice:", and nested they
        // are rewrapped to a narrower width.
        let others = std::mem::take(&mut rendered.related);
        if handler.render_report(&mut out, &rendered).is_err() {
            out.push_str(&escape_controls(&d.message));
        }
        for other in &others {
            if handler.render_report(&mut out, other).is_err() {
                out.push_str(&escape_controls(&other.message));
            }
        }
        out.push('\n');
    }
    out.push_str(&summary(report));
    out
}

fn summary(report: &Report) -> String {
    let c = counts(&report.diagnostics);
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    let found = if report.diagnostics.is_empty() {
        "no problems".to_owned()
    } else {
        format!(
            "{}, {}, {}",
            plural(c.errors, "error"),
            plural(c.warnings, "warning"),
            plural(c.infos, "info")
        )
    };
    format!(
        "{found} in {} ({})\n",
        plural(report.file_count(), "file"),
        plural(report.hosts.len(), "host")
    )
}

/// Each file's escaped text, made once and shared by every finding in it:
/// copying the whole file per finding made large reports quadratic.
#[derive(Default)]
struct Texts(std::collections::HashMap<FileId, Shown>);

impl Texts {
    fn shown(&mut self, sources: &SourceMap, file: FileId) -> Option<&Shown> {
        let f = sources.get(file)?;
        Some(self.0.entry(file).or_insert_with(|| Shown::new(&f.text)))
    }

    fn get(&mut self, sources: &SourceMap, file: FileId) -> Option<CharColumns> {
        let name = escape_path(&sources.get(file)?.display_path());
        let text = self.shown(sources, file)?.text.clone();
        Some(CharColumns(NamedSource::new(name, text.clone()), text))
    }
}

/// A shown file whose `file:line:column` header counts the column in
/// characters, as the concise, JSON and SARIF reports do (miette counts bytes,
/// so a line with non-ASCII text before the span read further right).
#[derive(Debug)]
struct CharColumns(NamedSource<Arc<String>>, Arc<String>);

impl miette::SourceCode for CharColumns {
    fn read_span<'a>(
        &'a self,
        span: &miette::SourceSpan,
        before: usize,
        after: usize,
    ) -> Result<Box<dyn miette::SpanContents<'a> + 'a>, miette::MietteError> {
        let inner = self.0.read_span(span, before, after)?;
        let text = self.1.as_str();
        let at = span.offset().min(text.len());
        let line_start = text
            .get(..at)
            .and_then(|t| t.rfind('\n'))
            .map_or(0, |i| i + 1);
        let column = match text.get(line_start..at) {
            Some(head) if before == 0 => head.chars().count(),
            _ => return Ok(inner),
        };
        Ok(Box::new(miette::MietteSpanContents::new_named(
            inner.name().unwrap_or_default().to_owned(),
            inner.data(),
            *inner.span(),
            inner.line(),
            column,
            inner.line_count(),
        )))
    }
}

/// Longest line shown in a snippet; a longer one (minified or binary data) is cut.
const MAX_SHOWN_LINE: usize = 512;
const CUT_MARK: &str = "…";

/// A file's text as shown: controls escaped, overlong lines cut, and the map from
/// the file's offsets to the shown text's.
struct Shown {
    text: Arc<String>,
    /// Removed stretches: (start in the file, end in the file, start in the shown text).
    cuts: Vec<(usize, usize, usize)>,
}

impl Shown {
    fn new(text: &str) -> Shown {
        let escaped = escape_controls(text);
        let mut shown = String::with_capacity(escaped.len().min(1 << 20));
        let mut cuts = Vec::new();
        let mut at = 0;
        for line in escaped.split_inclusive('\n') {
            let body = line.trim_end_matches('\n');
            if body.len() > MAX_SHOWN_LINE {
                let mut keep = MAX_SHOWN_LINE;
                while !body.is_char_boundary(keep) {
                    keep -= 1;
                }
                shown.push_str(&body[..keep]);
                cuts.push((at + keep, at + body.len(), shown.len()));
                shown.push_str(CUT_MARK);
                shown.push_str(&line[body.len()..]);
            } else {
                shown.push_str(line);
            }
            at += line.len();
        }
        Shown {
            text: Arc::new(shown),
            cuts,
        }
    }

    /// Where a file offset is in the shown text (inside a cut: at its mark).
    fn map(&self, offset: usize) -> usize {
        let i = self.cuts.partition_point(|(from, _, _)| *from <= offset);
        let Some(&(_, to, shown_from)) = i.checked_sub(1).and_then(|i| self.cuts.get(i)) else {
            return offset;
        };
        if offset < to {
            shown_from
        } else {
            offset - to + shown_from + CUT_MARK.len()
        }
    }

    fn span(&self, span: crate::source::Span) -> (usize, usize) {
        let start = self.map(span.start as usize);
        let end = self.map(span.end as usize).max(start);
        (start, end - start)
    }
}

fn build(d: &Diagnostic, sources: &SourceMap, texts: &mut Texts) -> Rendered {
    let primary_file = d.primary.span.file;
    let mut label_of = |label: &Label, primary: bool| {
        let span = texts
            .shown(sources, label.span.file)
            .map_or((label.span.start as usize, label.span.len()), |s| {
                s.span(label.span)
            });
        labeled(label, span, primary)
    };
    let mut labels = vec![label_of(&d.primary, true)];
    let mut other_files: Vec<(FileId, Vec<LabeledSpan>)> = Vec::new();
    for r in &d.related {
        if r.span.file == primary_file {
            labels.push(label_of(r, false));
        } else if let Some((_, l)) = other_files.iter_mut().find(|(f, _)| *f == r.span.file) {
            l.push(label_of(r, false));
        } else {
            other_files.push((r.span.file, vec![label_of(r, false)]));
        }
    }
    let related = other_files
        .into_iter()
        .map(|(file, labels)| Rendered {
            message: format!("in {}", file_path(sources, file)),
            severity: miette::Severity::Advice,
            code: None,
            help: None,
            source: texts.get(sources, file),
            labels,
            related: Vec::new(),
        })
        .collect();
    Rendered {
        message: escape_controls(&d.message),
        severity: match d.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
            Severity::Info => miette::Severity::Advice,
        },
        code: Some(d.rule.to_owned()),
        help: d.help.as_deref().map(escape_controls),
        source: texts.get(sources, primary_file),
        labels,
        related,
    }
}

fn labeled(label: &Label, span: (usize, usize), primary: bool) -> LabeledSpan {
    let text = Some(escape_controls(&label.message)).filter(|s| !s.is_empty());
    if primary {
        LabeledSpan::new_primary_with_span(text, span)
    } else {
        LabeledSpan::new_with_span(text, span)
    }
}

fn file_path(sources: &SourceMap, file: FileId) -> String {
    sources
        .get(file)
        .map(|f| escape_path(&f.display_path()))
        .unwrap_or_default()
}

#[derive(Debug)]
struct Rendered {
    message: String,
    severity: miette::Severity,
    code: Option<String>,
    help: Option<String>,
    source: Option<CharColumns>,
    labels: Vec<LabeledSpan>,
    related: Vec<Rendered>,
}

impl fmt::Display for Rendered {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Rendered {}

impl miette::Diagnostic for Rendered {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.code
            .as_ref()
            .map(|c| Box::new(c) as Box<dyn fmt::Display>)
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(self.severity)
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.source.as_ref().map(|s| s as &dyn miette::SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(self.labels.iter().cloned()))
    }

    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn miette::Diagnostic> + 'a>> {
        if self.related.is_empty() {
            return None;
        }
        Some(Box::new(
            self.related.iter().map(|r| r as &dyn miette::Diagnostic),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::{CUT_MARK, MAX_SHOWN_LINE, Shown};

    #[test]
    fn overlong_lines_are_cut_and_offsets_follow() {
        let long = "x".repeat(MAX_SHOWN_LINE + 1000);
        let text = format!("a=1\n{long}\nb=2\n");
        let shown = Shown::new(&text);
        let b = text.find("b=2").unwrap();
        let shown_b = shown.map(b);
        assert_eq!(&shown.text[shown_b..shown_b + 3], "b=2");
        assert!(shown.text.len() < MAX_SHOWN_LINE + 20);
        let inside = text.find('x').unwrap() + MAX_SHOWN_LINE + 10;
        assert_eq!(
            &shown.text[shown.map(inside)..shown.map(inside) + CUT_MARK.len()],
            CUT_MARK
        );
        assert_eq!(Shown::new("short\n").map(3), 3);
    }
}
