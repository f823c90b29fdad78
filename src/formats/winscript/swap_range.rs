//! The fix for a firewall rule whose port list holds a range written high-low
//! (`localport=21,5201-5001`, `-LocalPort 21,"5201-5001"`): the two ends of that
//! one range swapped where the script writes the list as a literal. A list that
//! comes through a variable or a loop reads differently from what is written
//! there, so it gets no fix; files a script writes are never edited (`crate::fix`).

use super::RULE_FW_MALFORMED;
use crate::formats::winfw::{Finding, reversed_range_swapped, swap_ends};
use crate::source::{SourceFile, Span};

/// A port list refused for a range written high-low: `value` as the interpreter
/// read it, `span` the finding's (the `localport=` argument, the `-LocalPort` value).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReversedRange {
    pub span: Span,
    pub value: String,
}

/// `finding` with the swap as an unsafe fix (the rule then loads and opens the
/// range), when it is the finding of a recorded reversed range written literally.
pub fn with_fix(finding: Finding, reversed: &[ReversedRange], source: &SourceFile) -> Finding {
    if finding.rule != RULE_FW_MALFORMED {
        return finding;
    }
    let Some(r) = reversed.iter().find(|r| r.span == finding.span) else {
        return finding;
    };
    match swap_edit(source, r) {
        Some((span, text)) => {
            let title = format!("write the range as {}", text.trim());
            finding.unsafe_fix(title, vec![(span, text)])
        }
        None => finding,
    }
}

/// The edit that swaps the first high-low range inside the written list; `None`
/// unless the text at the span, quotes and blanks aside, is the list as read.
fn swap_edit(source: &SourceFile, r: &ReversedRange) -> Option<(Span, String)> {
    let written = source.text.get(r.span.range())?;
    let expected = reversed_range_swapped(&r.value)?;
    if list_of(written)? != squeezed(&r.value) {
        return None;
    }
    let (at, swapped) = port_runs(written).find_map(|(at, run)| Some((at, swap_ends(run)?)))?;
    let mut after = written.to_owned();
    after.replace_range(at.clone(), &swapped);
    if list_of(&after)? != squeezed(&expected) {
        return None;
    }
    let start = r.span.start as usize;
    Some((source.span(start + at.start, start + at.end), swapped))
}

/// The port list a written argument holds, quotes and blanks removed: the value
/// after a netsh `tag=`, or a PowerShell array with or without `@( )`.
fn list_of(written: &str) -> Option<String> {
    let flat = squeezed(written);
    let list = match flat.split_once('=') {
        Some((tag, value)) if tag.bytes().all(|b| b.is_ascii_alphabetic()) => value.to_owned(),
        Some(_) => return None,
        None => flat,
    };
    match list.strip_prefix("@(") {
        Some(inner) => inner.strip_suffix(')').map(str::to_owned),
        None => Some(list),
    }
}

fn squeezed(text: &str) -> String {
    text.chars()
        .filter(|c| !matches!(c, '"' | '\'') && !c.is_whitespace())
        .collect()
}

/// Each stretch of digits, `-` and blanks, with its byte range in `text`.
fn port_runs(text: &str) -> impl Iterator<Item = (std::ops::Range<usize>, &str)> {
    let in_run = |c: char| c.is_ascii_digit() || matches!(c, '-' | ' ' | '\t');
    let mut at = 0;
    std::iter::from_fn(move || {
        let rest = text.get(at..)?;
        let start = at + rest.find(in_run)?;
        let len = text.get(start..)?.find(|c: char| !in_run(c));
        let end = len.map_or(text.len(), |l| start + l);
        at = end;
        Some((start..end, text.get(start..end)?))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_lists_are_read_without_quotes_and_tags() {
        assert_eq!(
            list_of("localport=21,5201-5001").as_deref(),
            Some("21,5201-5001")
        );
        assert_eq!(
            list_of("\"localport=21,5201-5001\"").as_deref(),
            Some("21,5201-5001")
        );
        assert_eq!(list_of("21,\"5201-5001\"").as_deref(), Some("21,5201-5001"));
        assert_eq!(
            list_of("@(21, '5201-5001')").as_deref(),
            Some("21,5201-5001")
        );
        assert_eq!(list_of("localport=%RANGE%").as_deref(), Some("%RANGE%"));
        assert_eq!(list_of("$r").as_deref(), Some("$r"));
    }

    #[test]
    fn runs_are_the_number_stretches() {
        let runs: Vec<&str> = port_runs("localport=\"21, 5201-5001\"")
            .map(|(_, r)| r)
            .collect();
        assert_eq!(runs, vec!["21", " 5201-5001"]);
    }
}
