//! YAML as PyYAML reads it (Ansible loads every file with PyYAML, with or
//! without libyaml), where that is more lenient than the YAML 1.2 reader above.
//!
//! The one leniency followed: a quoted scalar's continuation lines may start at
//! any column. PyYAML's `scan_flow_scalar_breaks` ("Instead of checking
//! indentation, we check for document separators") and libyaml's
//! `yaml_parser_scan_flow_scalar` never compare them with the block's
//! indentation, so
//!
//! ```yaml
//!     - name: "open the FTP control port \
//! for clients"
//! ```
//!
//! is the name `open the FTP control port for clients`, where saphyr-parser
//! refuses it ("invalid indentation in quoted scalar"). Such a scalar is read on
//! its own (its continuation lines are then at no block's indentation), and the
//! document is read with the scalar's inside blanked to one line of the same
//! bytes, so every span stays where it is in the file.

use super::{Node, SyntaxError};
use crate::source::{FileId, Span};

/// saphyr-parser's message for a continuation line left of the block's indentation.
const UNDER_INDENTED: &str = "invalid indentation in quoted scalar";

/// How many bytes of YAML the re-reads may take, in all.
const BUDGET: usize = 64 << 20;

/// The first document of `text`, as PyYAML reads it.
pub fn parse(file: FileId, text: &str) -> Result<Option<Node>, SyntaxError> {
    let mut read = std::borrow::Cow::Borrowed(text);
    // Each quoted scalar read on its own: the offset of its first character, its value.
    let mut values: Vec<(u32, String)> = Vec::new();
    let mut spent = 0usize;
    loop {
        let err = match super::parse(file, &read) {
            Ok(mut root) => {
                if let Some(root) = root.as_mut() {
                    set_values(root, &values);
                }
                return Ok(root);
            }
            Err(e) => e,
        };
        spent += read.len();
        let open = err.span.start as usize;
        let close = match (err.message.as_str(), closing_quote(&read, open)) {
            (UNDER_INDENTED, Some(close)) if spent < BUDGET && !is_key(&read, close) => close,
            _ => return Err(err),
        };
        let value = scalar_alone(file, &read[open..=close], open)?;
        values.push((open as u32 + 1, value));
        let blank = "x".repeat(close - open - 1);
        read = std::borrow::Cow::Owned(format!("{}{blank}{}", &read[..=open], &read[close..]));
    }
}

/// The byte offset of the quote that ends the quoted scalar opening at `open`.
fn closing_quote(text: &str, open: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let quote = *bytes.get(open)?;
    if quote != b'"' && quote != b'\'' {
        return None;
    }
    let mut i = open + 1;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'\\' if quote == b'"' => i += 2,
            b'\'' if quote == b'\'' && bytes.get(i + 1) == Some(&b'\'') => i += 2,
            _ if b == quote => return Some(i),
            _ => i += 1,
        }
    }
    None
}

/// A `:` follows the scalar: it is a key, and a key spanning lines is an error
/// to PyYAML too ("could not find expected ':'").
fn is_key(text: &str, close: usize) -> bool {
    text[close + 1..]
        .trim_start_matches([' ', '\t'])
        .starts_with(':')
}

/// The value of one quoted scalar (`"…"` with its quotes) read as a document of
/// its own; an error in it points into the file.
fn scalar_alone(file: FileId, scalar: &str, at: usize) -> Result<String, SyntaxError> {
    match super::parse(file, scalar) {
        Ok(Some(Node::Scalar { text, .. })) => Ok(text),
        Ok(_) => Ok(String::new()),
        Err(e) => Err(SyntaxError {
            span: Span::new(file, e.span.start as usize + at, e.span.end as usize + at),
            message: e.message,
        }),
    }
}

/// Puts each scalar read on its own back into the tree, by where it starts.
fn set_values(node: &mut Node, values: &[(u32, String)]) {
    match node {
        Node::Scalar { text, span, .. } => {
            if let Some((_, value)) = values.iter().find(|(at, _)| *at == span.start) {
                value.clone_into(text);
            }
        }
        Node::Seq { items, .. } => items.iter_mut().for_each(|n| set_values(n, values)),
        Node::Map { entries, .. } => entries.iter_mut().for_each(|(k, v)| {
            set_values(k, values);
            set_values(v, values);
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root(text: &str) -> Node {
        parse(FileId(0), text).unwrap().unwrap()
    }

    fn name(doc: &Node) -> &Node {
        let Node::Seq { items, .. } = doc else {
            panic!("{doc:?}")
        };
        items[0].get("name").unwrap()
    }

    #[test]
    fn a_continuation_line_at_column_0_is_read_as_pyyaml_reads_it() {
        let text =
            "- name: \"open the FTP control port \\\nfor clients\"\n  iptables: {chain: INPUT}\n";
        assert!(super::super::parse(FileId(0), text).is_err());
        let doc = root(text);
        let n = name(&doc);
        assert_eq!(n.as_str(), Some("open the FTP control port for clients"));
        assert_eq!(
            &text[n.span().range()],
            "open the FTP control port \\\nfor clients"
        );
        let Node::Seq { items, .. } = &doc else {
            panic!()
        };
        let chain = items[0].get("iptables").unwrap().get("chain").unwrap();
        assert_eq!(&text[chain.span().range()], "INPUT");
    }

    #[test]
    fn single_quotes_fold_and_keep_doubled_quotes() {
        let text = "a:\n  b: 'it''s\nhere'\n  c: 2\n";
        let doc = root(text);
        let b = doc.get("a").unwrap().get("b").unwrap();
        assert_eq!(b.as_str(), Some("it's here"));
        assert_eq!(doc.get("a").unwrap().get("c").unwrap().as_str(), Some("2"));
    }

    #[test]
    fn several_scalars_and_multibyte_text_keep_spans() {
        let text = "- name: \"é \\\nü\"\n  x: \"a\n b\"\n- name: \"c\nd\"\n";
        let doc = root(text);
        let Node::Seq { items, .. } = &doc else {
            panic!()
        };
        assert_eq!(items[0].get("name").unwrap().as_str(), Some("é ü"));
        assert_eq!(items[0].get("x").unwrap().as_str(), Some("a b"));
        let second = items[1].get("name").unwrap();
        assert_eq!(second.as_str(), Some("c d"));
        assert_eq!(&text[second.span().range()], "c\nd");
    }

    #[test]
    fn what_pyyaml_refuses_stays_an_error() {
        // A document marker inside the scalar, a multi-line key, no closing quote.
        for text in [
            "- name: \"a\n---\nb\"\n",
            "- \"a\nb\": 1\n",
            "- name: \"a\nb\n",
            "- name: \"a\\q\nb\"\n",
        ] {
            assert!(parse(FileId(0), text).is_err(), "{text:?}");
        }
        let e = parse(FileId(0), "- name: \"a\\q\nb\"\n").unwrap_err();
        assert_eq!(e.span.start, 8, "{e:?}");
    }
}
