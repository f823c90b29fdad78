//! The "ignore <rule> on this line" edit: a suppression comment in the
//! file's own comment syntax, for code actions and diagnostics' data.

use super::text::LineIndex;
use crate::formats::CommentStyle;
use lsp_types as lsp;

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
