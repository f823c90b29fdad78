//! `proftpd.conf` lines as `src/parser.c` reads them: leading blanks skipped, a
//! line whose first character is then `#` is a comment, a `\` at the end of a
//! line joins the next one, and words split on blanks except inside `"..."`
//! (where `\"` is a quote). A `#` later in a line is just another word.

use crate::source::{SourceFile, Span};

/// One word of a line, unquoted, and where it was written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Word {
    pub text: String,
    pub span: Span,
}

/// One logical line: the directive name and its arguments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    pub words: Vec<Word>,
    /// The line from its first word to its last.
    pub span: Span,
    /// 1-based number of the physical line it starts on (the daemon's "line N").
    pub number: usize,
}

impl Line {
    pub fn name(&self) -> &str {
        &self.words[0].text
    }

    pub fn args(&self) -> &[Word] {
        &self.words[1..]
    }
}

/// Every logical line of `source`, in order.
pub fn lines(source: &SourceFile) -> Vec<Line> {
    let text = source.text.as_str();
    let mut out = Vec::new();
    let mut pieces: Vec<(usize, usize)> = Vec::new();
    let mut start_line = 0;
    let mut offset = 0;
    for (index, raw) in text.split_inclusive('\n').enumerate() {
        let body = raw.trim_end_matches(['\n', '\r']);
        let (content, continued) = match body.strip_suffix('\\') {
            Some(rest) => (rest, true),
            None => (body, false),
        };
        if pieces.is_empty() {
            start_line = index + 1;
        }
        pieces.push((offset, offset + content.len()));
        offset += raw.len();
        if !continued {
            out.extend(logical(source, &pieces, start_line));
            pieces.clear();
        }
    }
    if !pieces.is_empty() {
        out.extend(logical(source, &pieces, start_line));
    }
    out
}

fn logical(source: &SourceFile, pieces: &[(usize, usize)], number: usize) -> Option<Line> {
    let bytes = source.text.as_bytes();
    let chars: Vec<usize> = pieces.iter().flat_map(|&(a, b)| a..b).collect();
    let first = chars.iter().position(|&i| !is_blank(bytes[i]))?;
    if bytes[chars[first]] == b'#' {
        return None;
    }
    let words = split_words(source, &chars[first..]);
    let span = words.first()?.span.to(words.last()?.span);
    Some(Line {
        words,
        span,
        number,
    })
}

fn is_blank(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// Words of a line given as byte offsets into the file (a continued line is
/// several pieces, so offsets need not be contiguous).
fn split_words(source: &SourceFile, chars: &[usize]) -> Vec<Word> {
    let bytes = source.text.as_bytes();
    let mut words = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if is_blank(bytes[chars[i]]) {
            i += 1;
            continue;
        }
        let start = chars[i];
        let mut text = Vec::new();
        let mut end = start;
        if bytes[start] == b'"' {
            i += 1;
            while i < chars.len() && bytes[chars[i]] != b'"' {
                if bytes[chars[i]] == b'\\' && i + 1 < chars.len() {
                    i += 1;
                }
                text.push(bytes[chars[i]]);
                i += 1;
            }
            if i < chars.len() {
                end = chars[i] + 1;
                i += 1;
            } else if let Some(&last) = chars.last() {
                end = last + 1;
            }
        } else {
            while i < chars.len() && !is_blank(bytes[chars[i]]) {
                text.push(bytes[chars[i]]);
                end = chars[i] + 1;
                i += 1;
            }
        }
        words.push(Word {
            text: String::from_utf8_lossy(&text).into_owned(),
            span: source.span(start, end.max(start)),
        });
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FileId;

    fn lex(text: &str) -> Vec<Vec<String>> {
        let source = SourceFile::new(FileId(0), "proftpd.conf", text.as_bytes());
        lines(&source)
            .iter()
            .map(|l| l.words.iter().map(|w| w.text.clone()).collect())
            .collect()
    }

    #[test]
    fn comments_quotes_and_continuations() {
        assert_eq!(
            lex(
                "  # c\nServerName \"My \\\"FTP\\\"\"\nPassivePorts 30000 \\\n  30009\n\nPort 21 # x\n"
            ),
            vec![
                vec!["ServerName", "My \"FTP\""],
                vec!["PassivePorts", "30000", "30009"],
                vec!["Port", "21", "#", "x"],
            ]
        );
        assert!(lex("\"unterminated").len() == 1);
        assert!(lex("\\").is_empty());
    }
}
