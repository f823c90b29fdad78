//! `proftpd-passive-ports-invalid`: see rules/proftpd-passive-ports-invalid.toml.

use super::Rule;
use crate::diag::{Diagnostic, Fix, Severity};
use crate::formats::bundle::Bundle;
use crate::formats::proftpd::{FindingKind, bundle::findings};
use crate::source::Span;

pub struct ProftpdPassivePortsInvalid;

impl Rule for ProftpdPassivePortsInvalid {
    fn name(&self) -> &'static str {
        "proftpd-passive-ports-invalid"
    }

    fn check_bundle(&self, bundle: &Bundle, out: &mut Vec<Diagnostic>) {
        report(self.name(), bundle, true, out);
    }
}

/// The walk's errors about `PassivePorts` (`range`) or about anything else.
pub(crate) fn report(rule: &'static str, bundle: &Bundle, range: bool, out: &mut Vec<Diagnostic>) {
    let wanted = findings(bundle).into_iter().filter(|f| {
        f.range == range && matches!(f.kind, FindingKind::Invalid | FindingKind::Skipped)
    });
    for f in wanted {
        let d = Diagnostic::new(rule, f.message.clone(), f.span, f.label.clone())
            .with_help(f.help.clone());
        let d = match range.then(|| swapped_ends(bundle, f.span)).flatten() {
            Some(fix) => d.with_fixes([fix]),
            None => d,
        };
        out.push(severity_of(f.kind, d));
    }
}

/// `PassivePorts 50100 50000`, both ends ports ProFTPD takes but written the
/// wrong way round: the two numbers swapped. Unsafe, as for vsftpd: the daemon
/// then starts and hands out that range, which its firewall may not open.
fn swapped_ends(bundle: &Bundle, span: Span) -> Option<Fix> {
    let text = bundle.part(span.file)?.source.text.get(span.range())?;
    let (first, rest) = text.split_once([' ', '\t'])?;
    let second = rest.trim_start_matches([' ', '\t']);
    let digits = |w: &str| !w.is_empty() && w.bytes().all(|b| b.is_ascii_digit());
    if !digits(first) || !digits(second) {
        return None;
    }
    let (lo, hi) = (second.parse::<u16>().ok()?, first.parse::<u16>().ok()?);
    if lo <= 1023 || lo >= hi {
        return None;
    }
    let start = span.range().start;
    let second_at = start + text.len() - second.len();
    Some(Fix {
        title: format!("swap the ends: PassivePorts {lo} {hi}"),
        edits: vec![
            (Span::new(span.file, start, start + first.len()), lo.to_string()),
            (Span::new(span.file, second_at, span.range().end), hi.to_string()),
        ],
        safe: false,
    })
}

/// A finding of `kind` as a diagnostic: an error in an included file that the
/// daemon survives is a warning.
fn severity_of(kind: FindingKind, d: Diagnostic) -> Diagnostic {
    match kind {
        FindingKind::Skipped => d.at_most(Severity::Warning),
        _ => d,
    }
}
