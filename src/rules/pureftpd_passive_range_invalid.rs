//! `pureftpd-passive-range-invalid`: see rules/pureftpd-passive-range-invalid.toml.

use super::Rule;
use crate::diag::{Diagnostic, Fix};
use crate::source::{FileId, Span};
use crate::formats::ParsedFile;
use crate::formats::bundle::Bundle;
use crate::formats::pureftpd::{Finding, FindingKind, bundle::assembled, findings_of};

pub struct PureftpdPassiveRangeInvalid;

impl Rule for PureftpdPassiveRangeInvalid {
    fn name(&self) -> &'static str {
        "pureftpd-passive-range-invalid"
    }

    fn check_file(&self, file: &ParsedFile, out: &mut Vec<Diagnostic>) {
        let text = |_: FileId| Some(file.source.text.as_str());
        report(self.name(), findings_of(file), &text, out);
    }

    fn check_bundle(&self, bundle: &Bundle, out: &mut Vec<Diagnostic>) {
        if let Some(model) = assembled(bundle) {
            let text = |id: FileId| bundle.part(id).map(|p| p.source.text.as_str());
            report(self.name(), model.findings.iter().collect(), &text, out);
        }
    }
}

fn report<'a>(
    rule: &'static str,
    findings: Vec<&Finding>,
    text: &dyn Fn(FileId) -> Option<&'a str>,
    out: &mut Vec<Diagnostic>,
) {
    for f in findings.into_iter().filter(|f| f.kind == FindingKind::RangeInvalid) {
        let d = Diagnostic::new(rule, f.message.clone(), f.span, f.label).with_help(f.help.clone());
        let written = text(f.span.file).and_then(|t| t.get(f.span.range()));
        out.push(d.with_fixes(written.and_then(|w| range_fix(f, w))));
    }
}

/// The two clear cases: ends written the wrong way round, swapped (unsafe: the
/// daemon then starts and hands out that range); `lo:hi` where a file wants
/// `lo hi`, the colon made a blank (safe: the range the file names, now read).
/// Ports below 1024, and anything else, are the author's to choose.
fn range_fix(f: &Finding, written: &str) -> Option<Fix> {
    let cut = written.find([' ', '\t', ':'])?;
    let (first, rest) = written.split_at(cut);
    let second = rest.trim_start_matches([' ', '\t', ':']);
    let sep = &rest[..rest.len() - second.len()];
    let digits = |w: &str| !w.is_empty() && w.bytes().all(|b| b.is_ascii_digit());
    if !digits(first) || !digits(second) || sep.contains(':') && sep.len() > 1 {
        return None;
    }
    let (a, b) = (first.parse::<u16>().ok()?, second.parse::<u16>().ok()?);
    if a.min(b) < 1024 {
        return None;
    }
    let start = f.span.range().start;
    let whole = f.span;
    if a > b {
        return Some(Fix {
            title: format!("swap the ends: {b}{sep}{a}"),
            edits: vec![(whole, format!("{b}{sep}{a}"))],
            safe: false,
        });
    }
    if sep == ":" && a <= b && f.message.contains("not two numbers") {
        return Some(Fix {
            title: format!("write the range as {a} {b}"),
            edits: vec![(Span::new(whole.file, start + cut, start + cut + 1), " ".to_owned())],
            safe: true,
        });
    }
    None
}
