//! Human report via miette: a snippet from every file involved, help with the fix.
//!
//! miette gives a diagnostic one source, so labels in the primary file stay on the
//! finding and each other file becomes a related (advice) diagnostic with its own source.

use super::{counts, escape_controls};
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
        let rendered = build(d, &report.sources, &mut texts);
        if handler.render_report(&mut out, &rendered).is_err() {
            out.push_str(&escape_controls(&d.message));
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
struct Texts(std::collections::HashMap<FileId, Arc<String>>);

impl Texts {
    fn get(&mut self, sources: &SourceMap, file: FileId) -> Option<NamedSource<Arc<String>>> {
        let f = sources.get(file)?;
        let text = self
            .0
            .entry(file)
            .or_insert_with(|| Arc::new(escape_controls(&f.text)))
            .clone();
        Some(NamedSource::new(f.display_path(), text))
    }
}

fn build(d: &Diagnostic, sources: &SourceMap, texts: &mut Texts) -> Rendered {
    let primary_file = d.primary.span.file;
    let mut labels = vec![labeled(&d.primary, true)];
    let mut other_files: Vec<(FileId, Vec<LabeledSpan>)> = Vec::new();
    for r in &d.related {
        if r.span.file == primary_file {
            labels.push(labeled(r, false));
        } else if let Some((_, l)) = other_files.iter_mut().find(|(f, _)| *f == r.span.file) {
            l.push(labeled(r, false));
        } else {
            other_files.push((r.span.file, vec![labeled(r, false)]));
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

fn labeled(label: &Label, primary: bool) -> LabeledSpan {
    let text = Some(escape_controls(&label.message)).filter(|s| !s.is_empty());
    let span = (label.span.start as usize, label.span.len());
    if primary {
        LabeledSpan::new_primary_with_span(text, span)
    } else {
        LabeledSpan::new_with_span(text, span)
    }
}

fn file_path(sources: &SourceMap, file: FileId) -> String {
    sources
        .get(file)
        .map(|f| f.display_path())
        .unwrap_or_default()
}

#[derive(Debug)]
struct Rendered {
    message: String,
    severity: miette::Severity,
    code: Option<String>,
    help: Option<String>,
    source: Option<NamedSource<Arc<String>>>,
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
