//! A Report's diagnostics as LSP diagnostics, with the edits code actions offer.

use super::suppression::suppression_edit;
use super::text::{LineIndex, PositionEncoding};
use super::uri;
use crate::diag::{Diagnostic, Severity};
use crate::formats::Format;
use crate::source::{Encoding, FileId};
use crate::{Overlay, Report};
use lsp_types as lsp;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;

pub const RULE_DOCS: &str = "https://github.com/pasvlint/pasvlint/blob/main/rules/";

/// One published diagnostic and what code actions can do about it.
#[derive(Clone, Debug)]
pub struct Finding {
    pub rule: &'static str,
    pub diagnostic: lsp::Diagnostic,
    /// The rule's fixes, the preferred first: title, edits per file, and whether
    /// it is safe.
    pub fixes: Vec<(String, HashMap<lsp::Uri, Vec<lsp::TextEdit>>, bool)>,
    /// Inserts the file format's suppression comment above the flagged line.
    pub ignore: Option<lsp::TextEdit>,
}

/// Converts spans of one report, caching each file's line index.
pub struct Converter<'a> {
    report: &'a Report,
    encoding: PositionEncoding,
    overlay: &'a Overlay,
    /// URIs the client used for its open documents, to echo them exactly.
    open_uris: &'a HashMap<PathBuf, lsp::Uri>,
    indexes: HashMap<FileId, (LineIndex<'a>, usize)>,
    formats: HashMap<FileId, Format>,
}

impl<'a> Converter<'a> {
    pub fn new(
        report: &'a Report,
        encoding: PositionEncoding,
        overlay: &'a Overlay,
        open_uris: &'a HashMap<PathBuf, lsp::Uri>,
    ) -> Self {
        Converter {
            report,
            encoding,
            overlay,
            open_uris,
            indexes: HashMap::new(),
            formats: report.files.iter().copied().collect(),
        }
    }

    pub fn uri(&self, path: &Path) -> Option<lsp::Uri> {
        self.open_uris
            .get(path)
            .cloned()
            .or_else(|| uri::from_path(path))
    }

    /// Every diagnostic, grouped by the path of its primary span.
    pub fn findings(&mut self) -> HashMap<PathBuf, Vec<Finding>> {
        let mut out: HashMap<PathBuf, Vec<Finding>> = HashMap::new();
        for d in &self.report.diagnostics {
            let Some(file) = self.report.sources.get(d.primary.span.file) else {
                continue;
            };
            if let Some(finding) = self.finding(d) {
                out.entry(file.path.clone()).or_default().push(finding);
            }
        }
        out
    }

    fn finding(&mut self, d: &Diagnostic) -> Option<Finding> {
        let (_, range) = self.location(d.primary.span)?;
        let related: Vec<_> = d
            .related
            .iter()
            .filter_map(|label| {
                let (path, range) = self.location(label.span)?;
                Some(lsp::DiagnosticRelatedInformation {
                    location: lsp::Location::new(self.uri(&path)?, range),
                    message: label.message.clone(),
                })
            })
            .collect();
        let mut message = d.message.clone();
        if let Some(help) = &d.help {
            message.push_str("\nhelp: ");
            message.push_str(help);
        }
        let diagnostic = lsp::Diagnostic {
            range,
            severity: Some(severity(d.severity)),
            code: Some(lsp::NumberOrString::String(d.rule.to_owned())),
            code_description: rule_url(d.rule).map(|href| lsp::CodeDescription { href }),
            source: Some("pasvlint".to_owned()),
            message,
            related_information: (!related.is_empty()).then_some(related),
            tags: None,
            data: None,
        };
        Some(Finding {
            rule: d.rule,
            diagnostic,
            fixes: d
                .fixes
                .iter()
                .filter_map(|fix| self.fix_edits(fix))
                .collect(),
            ignore: self.ignore_edit(d),
        })
    }

    fn fix_edits(
        &mut self,
        fix: &crate::diag::Fix,
    ) -> Option<(String, HashMap<lsp::Uri, Vec<lsp::TextEdit>>, bool)> {
        let mut changes: HashMap<lsp::Uri, Vec<lsp::TextEdit>> = HashMap::new();
        for (span, text) in &fix.edits {
            let (path, range) = self.location(*span)?;
            changes
                .entry(self.uri(&path)?)
                .or_default()
                .push(lsp::TextEdit::new(range, text.clone()));
        }
        Some((fix.title.clone(), changes, fix.safe))
    }

    fn ignore_edit(&mut self, d: &Diagnostic) -> Option<lsp::TextEdit> {
        let span = d.primary.span;
        let style = self.formats.get(&span.file)?.comment_style();
        let (index, shift) = self.index(span.file)?;
        let line = index.line_of(span.start as usize + shift);
        suppression_edit(index, line, style, d.rule)
    }

    /// The path and range of a span, in the client's units.
    pub fn location(&mut self, span: crate::source::Span) -> Option<(PathBuf, lsp::Range)> {
        let path = self.report.sources.get(span.file)?.path.clone();
        let (index, shift) = self.index(span.file)?;
        let range = index.range(span.start as usize + shift, span.end as usize + shift);
        Some((path, range))
    }

    /// A file's line index; for an open buffer that starts with a BOM (which
    /// decoding removed before parsing), spans shift past it.
    fn index(&mut self, id: FileId) -> Option<&(LineIndex<'a>, usize)> {
        if !self.indexes.contains_key(&id) {
            let (report, overlay) = (self.report, self.overlay);
            let file = report.sources.get(id)?;
            let buffer = overlay.get(&file.path);
            let entry = match buffer {
                Some(text)
                    if file.encoding == Encoding::Utf8Bom && text.starts_with('\u{feff}') =>
                {
                    (LineIndex::new(text, self.encoding), '\u{feff}'.len_utf8())
                }
                _ => (LineIndex::new(&file.text, self.encoding), 0),
            };
            self.indexes.insert(id, entry);
        }
        self.indexes.get(&id)
    }
}

pub fn severity(s: Severity) -> lsp::DiagnosticSeverity {
    match s {
        Severity::Error => lsp::DiagnosticSeverity::ERROR,
        Severity::Warning => lsp::DiagnosticSeverity::WARNING,
        Severity::Info => lsp::DiagnosticSeverity::INFORMATION,
    }
}

pub fn rule_url(rule: &str) -> Option<lsp::Uri> {
    lsp::Uri::from_str(&format!("{RULE_DOCS}{rule}.toml")).ok()
}
