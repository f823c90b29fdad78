//! Code actions: a rule's fix, "ignore <rule> on this line" with the
//! suppression comment of the file's own format, and "fix all" for the file
//! (`source.fixAll.pasvlint`, the kind editors run on save).

use super::convert::Finding;
use lsp_types as lsp;
use std::collections::{BTreeSet, HashMap};

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
