//! Code actions: a rule's fix, "ignore <rule> on this line" with the
//! suppression comment of the file's own format, and "fix all" for the file
//! (`source.fixAll.pasvlint`, the kind editors run on save).

use super::convert::Finding;
use super::text::LineIndex;
use crate::formats::CommentStyle;
use lsp_types as lsp;
use std::collections::{BTreeSet, HashMap};

/// The edit inserting `<comment> pasvlint: ignore <rule> -- reason` above a
/// 0-based line, or `None` where a line above would break the file (a shebang,
/// an XML declaration, the header line of a .reg export).
pub fn suppression_edit(
    index: &LineIndex<'_>,
    line: usize,
    style: CommentStyle,
    rule: &str,
) -> Option<lsp::TextEdit> {
    let text = index.line_text(line);
    let first_line_is_header = match style {
        CommentStyle::Hash | CommentStyle::HashAtColumnZero => text.starts_with("#!"),
        CommentStyle::Xml => text.trim_start().starts_with("<?xml"),
        CommentStyle::Semicolon => true,
        CommentStyle::Batch => false,
    };
    if line == 0 && first_line_is_header {
        return None;
    }
    let indent_len = text.len() - text.trim_start_matches([' ', '\t']).len();
    let indent = match style {
        CommentStyle::HashAtColumnZero | CommentStyle::Semicolon => "",
        _ => &text[..indent_len],
    };
    let body = format!("pasvlint: ignore {rule} -- reason");
    let comment = match style {
        CommentStyle::HashAtColumnZero | CommentStyle::Hash => format!("# {body}"),
        // XML forbids `--` inside a comment; the suppression syntax also takes `;`.
        CommentStyle::Xml => format!("<!-- pasvlint: ignore {rule}; reason -->"),
        CommentStyle::Semicolon => format!("; {body}"),
        CommentStyle::Batch => format!("REM {body}"),
    };
    let eol = match index.terminator(0) {
        "" => "\n",
        t => t,
    };
    let at = lsp::Position::new(u32::try_from(line).ok()?, 0);
    Some(lsp::TextEdit::new(
        lsp::Range::new(at, at),
        format!("{indent}{comment}{eol}"),
    ))
}

fn overlaps(a: lsp::Range, b: lsp::Range) -> bool {
    a.start <= b.end && b.start <= a.end
}

/// The kind of the action that applies every safe fix of a file.
pub const FIX_ALL: &str = "source.fixAll.pasvlint";

/// Actions for the findings of one file: those touching `range` as quick
/// fixes, and all of the file's safe fixes as one `source.fixAll.pasvlint`.
/// `only` filters by kind prefix as the protocol says (`source` asks for fix all).
pub fn code_actions(
    findings: &[Finding],
    uri: &lsp::Uri,
    range: lsp::Range,
    only: Option<&[lsp::CodeActionKind]>,
) -> Vec<lsp::CodeActionOrCommand> {
    let wanted =
        |kind: &str| only.is_none_or(|kinds| kinds.iter().any(|k| kind.starts_with(k.as_str())));
    let mut actions = Vec::new();
    if wanted(lsp::CodeActionKind::QUICKFIX.as_str()) {
        actions = quick_fixes(findings, uri, range);
    }
    if wanted(FIX_ALL) {
        actions.extend(fix_all(findings, uri));
    }
    actions
}

/// Every safe fix that edits only this file, as one edit list without
/// overlaps (a fix overlapping an earlier one waits for the next run).
fn fix_all(findings: &[Finding], uri: &lsp::Uri) -> Option<lsp::CodeActionOrCommand> {
    let mut edits: Vec<lsp::TextEdit> = Vec::new();
    let mut fixed = Vec::new();
    for f in findings {
        let Some((_, changes, _)) = f.fixes.iter().find(|fix| fix.2) else {
            continue;
        };
        let Some(mine) = changes.get(uri).filter(|_| changes.len() == 1) else {
            continue;
        };
        let clashes = mine
            .iter()
            .any(|m| edits.iter().any(|e| ranges_clash(e.range, m.range)));
        if !clashes {
            edits.extend(mine.iter().cloned());
            fixed.push(f.diagnostic.clone());
        }
    }
    if edits.is_empty() {
        return None;
    }
    edits.sort_by_key(|e| (e.range.start, e.range.end));
    let title = match fixed.len() {
        1 => "Fix the pasvlint finding in this file".to_owned(),
        n => format!("Fix all {n} pasvlint findings in this file"),
    };
    Some(lsp::CodeActionOrCommand::CodeAction(lsp::CodeAction {
        title,
        kind: Some(lsp::CodeActionKind::new(FIX_ALL)),
        diagnostics: Some(fixed),
        edit: Some(lsp::WorkspaceEdit {
            changes: Some(HashMap::from([(uri.clone(), edits)])),
            ..Default::default()
        }),
        ..Default::default()
    }))
}

/// Two edits that cannot both apply: overlapping, or inserting at the same point.
fn ranges_clash(a: lsp::Range, b: lsp::Range) -> bool {
    (a.start < b.end && b.start < a.end) || a.start == b.start
}

fn quick_fixes(
    findings: &[Finding],
    uri: &lsp::Uri,
    range: lsp::Range,
) -> Vec<lsp::CodeActionOrCommand> {
    let mut actions = Vec::new();
    let mut ignores_offered = BTreeSet::new();
    for f in findings
        .iter()
        .filter(|f| overlaps(f.diagnostic.range, range))
    {
        let preferred = f.fixes.iter().position(|fix| fix.2);
        for (i, (title, changes, _)) in f.fixes.iter().enumerate() {
            let is_preferred = preferred == Some(i);
            actions.push(quickfix(title.clone(), f, changes.clone(), is_preferred));
        }
        let Some(edit) = &f.ignore else { continue };
        if ignores_offered.insert((f.rule, edit.range.start.line)) {
            let changes = HashMap::from([(uri.clone(), vec![edit.clone()])]);
            let title = format!("Ignore {} on this line", f.rule);
            actions.push(quickfix(title, f, changes, false));
        }
    }
    actions
}

fn quickfix(
    title: String,
    finding: &Finding,
    changes: HashMap<lsp::Uri, Vec<lsp::TextEdit>>,
    preferred: bool,
) -> lsp::CodeActionOrCommand {
    lsp::CodeActionOrCommand::CodeAction(lsp::CodeAction {
        title,
        kind: Some(lsp::CodeActionKind::QUICKFIX),
        diagnostics: Some(vec![finding.diagnostic.clone()]),
        edit: Some(lsp::WorkspaceEdit {
            changes: Some(changes),
            ..Default::default()
        }),
        is_preferred: preferred.then_some(true),
        ..Default::default()
    })
}

#[cfg(test)]
mod tests {
    use super::super::text::PositionEncoding;
    use super::*;
    use CommentStyle::*;

    fn edit(text: &str, line: usize, style: CommentStyle) -> Option<String> {
        let index = LineIndex::new(text, PositionEncoding::Utf16);
        suppression_edit(&index, line, style, "r")
            .map(|e| format!("{}:{}", e.range.start.line, e.new_text))
    }

    #[test]
    fn each_format_gets_its_own_comment() {
        let ignore = "pasvlint: ignore r -- reason";
        assert_eq!(
            edit("a=1\n  b=2\n", 1, HashAtColumnZero).unwrap(),
            format!("1:# {ignore}\n")
        );
        assert_eq!(
            edit("#!/bin/sh\n  iptables -A\n", 1, Hash).unwrap(),
            format!("1:  # {ignore}\n")
        );
        assert_eq!(
            edit("<?xml?>\r\n  <site/>\r\n", 1, Xml).unwrap(),
            "1:  <!-- pasvlint: ignore r; reason -->\r\n".to_owned()
        );
        assert_eq!(
            edit("REGEDIT4\n\"x\"=1\n", 1, Semicolon).unwrap(),
            format!("1:; {ignore}\n")
        );
        assert_eq!(
            edit("@echo off\n  netsh x\n", 1, Batch).unwrap(),
            format!("1:  REM {ignore}\n")
        );
    }

    #[test]
    fn never_breaks_a_header_line() {
        assert_eq!(edit("#!/bin/sh\n", 0, Hash), None);
        assert_eq!(edit("<?xml version='1.0'?>\n", 0, Xml), None);
        assert_eq!(edit("REGEDIT4\n", 0, Semicolon), None);
        assert!(edit("listen=YES", 0, HashAtColumnZero).is_some());
    }
}
