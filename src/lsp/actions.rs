//! Code actions: a rule's safe fix, and "ignore <rule> on this line" with the
//! suppression comment of the file's own format.

use super::convert::Finding;
use super::text::LineIndex;
use lsp_types as lsp;
use std::collections::{BTreeSet, HashMap};
use std::path::Path;

/// How a format writes a comment line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Comment {
    /// `#` at column 0: vsftpd only treats `#` at byte 0 as a comment.
    HashColumn0,
    /// `#`, indented like the line it covers (shell, PowerShell).
    Hash,
    Xml,
    /// `;` at column 0 (.reg).
    Semicolon,
    /// `REM`, indented like the line it covers (batch).
    Rem,
}

fn comment_style(format: &str, path: &Path) -> Comment {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    match (format, ext.as_str()) {
        ("vsftpd" | "iptables-save", _) => Comment::HashColumn0,
        (_, "bat" | "cmd") => Comment::Rem,
        (_, "reg") => Comment::Semicolon,
        (_, "xml" | "config") => Comment::Xml,
        (f, _) if f.contains("iis") || f.contains("xml") || f.contains("metabase") => Comment::Xml,
        (f, _) if f.starts_with("reg") => Comment::Semicolon,
        (f, _) if f.contains("batch") => Comment::Rem,
        _ => Comment::Hash,
    }
}

/// The edit inserting `<comment> pasvlint: ignore <rule> -- reason` above a
/// 0-based line, or `None` where a line above would break the file (a shebang,
/// an XML declaration, the header line of a .reg export).
pub fn suppression_edit(
    index: &LineIndex<'_>,
    line: usize,
    format: &str,
    path: &Path,
    rule: &str,
) -> Option<lsp::TextEdit> {
    let style = comment_style(format, path);
    let text = index.line_text(line);
    let first_line_is_header = match style {
        Comment::Hash | Comment::HashColumn0 => text.starts_with("#!"),
        Comment::Xml => text.trim_start().starts_with("<?xml"),
        Comment::Semicolon => true,
        Comment::Rem => false,
    };
    if line == 0 && first_line_is_header {
        return None;
    }
    let indent_len = text.len() - text.trim_start_matches([' ', '\t']).len();
    let indent = match style {
        Comment::HashColumn0 | Comment::Semicolon => "",
        _ => &text[..indent_len],
    };
    let body = format!("pasvlint: ignore {rule} -- reason");
    let comment = match style {
        Comment::HashColumn0 | Comment::Hash => format!("# {body}"),
        Comment::Xml => format!("<!-- {body} -->"),
        Comment::Semicolon => format!("; {body}"),
        Comment::Rem => format!("REM {body}"),
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

/// Actions for the findings of one file that touch `range`.
pub fn code_actions(
    findings: &[Finding],
    uri: &lsp::Uri,
    range: lsp::Range,
    only: Option<&[lsp::CodeActionKind]>,
) -> Vec<lsp::CodeActionOrCommand> {
    let wanted = only.is_none_or(|kinds| {
        kinds.iter().any(|k| {
            lsp::CodeActionKind::QUICKFIX
                .as_str()
                .starts_with(k.as_str())
        })
    });
    if !wanted {
        return Vec::new();
    }
    let mut actions = Vec::new();
    let mut ignores_offered = BTreeSet::new();
    for f in findings
        .iter()
        .filter(|f| overlaps(f.diagnostic.range, range))
    {
        if let Some((title, changes)) = &f.fix {
            actions.push(quickfix(title.clone(), f, changes.clone(), true));
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

    fn edit(text: &str, line: usize, format: &str, path: &str) -> Option<String> {
        let index = LineIndex::new(text, PositionEncoding::Utf16);
        suppression_edit(&index, line, format, Path::new(path), "r")
            .map(|e| format!("{}:{}", e.range.start.line, e.new_text))
    }

    #[test]
    fn each_format_gets_its_own_comment() {
        let ignore = "pasvlint: ignore r -- reason";
        assert_eq!(
            edit("a=1\n  b=2\n", 1, "vsftpd", "etc/vsftpd.conf").unwrap(),
            format!("1:# {ignore}\n")
        );
        assert_eq!(
            edit("#!/bin/sh\n  iptables -A\n", 1, "iptables-script", "fw.sh").unwrap(),
            format!("1:  # {ignore}\n")
        );
        assert_eq!(
            edit(
                "<?xml?>\r\n  <site/>\r\n",
                1,
                "iis-apphost",
                "applicationHost.config"
            )
            .unwrap(),
            format!("1:  <!-- {ignore} -->\r\n")
        );
        assert_eq!(
            edit("REGEDIT4\n\"x\"=1\n", 1, "regfile", "ftp.reg").unwrap(),
            format!("1:; {ignore}\n")
        );
        assert_eq!(
            edit("@echo off\n  netsh x\n", 1, "netsh", "fw.bat").unwrap(),
            format!("1:  REM {ignore}\n")
        );
    }

    #[test]
    fn never_breaks_a_header_line() {
        assert_eq!(edit("#!/bin/sh\n", 0, "iptables-script", "fw.sh"), None);
        assert_eq!(edit("<?xml version='1.0'?>\n", 0, "iis", "x.xml"), None);
        assert_eq!(edit("REGEDIT4\n", 0, "regfile", "x.reg"), None);
        assert!(edit("listen=YES", 0, "vsftpd", "vsftpd.conf").is_some());
    }
}
