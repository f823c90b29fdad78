//! Tokens of the Puppet language (Puppet 7's lexer, the subset manifests that
//! manage firewalls and FTP servers use): names, type names, variables,
//! numbers, single- and double-quoted strings (escapes and interpolation),
//! heredocs (`@(END)`, `@("END"/L)`, margins `|` and trimming `-`), regexes,
//! operators and punctuation; `#` and `/* */` comments are dropped.
//!
//! Strings keep, piece by piece, where their characters were written, so a
//! `content =>` string written into a vsftpd.conf maps every character back.

use crate::scripts::Text;
use crate::source::{FileId, Span};

/// A piece of a string: literal text, or an interpolated expression.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Part {
    /// Characters as Puppet reads them, from `span`; `verbatim` when they are
    /// the source bytes one to one (no escape in them).
    Lit {
        text: String,
        span: Span,
        verbatim: bool,
    },
    /// `$name`, `${name}`, `${$name}`: the variable's name; `None` for an
    /// expression pasvlint does not evaluate (`${facts['x']}`, `${a + 1}`).
    Interp { var: Option<String>, span: Span },
}

#[derive(Clone, Debug, PartialEq)]
pub enum Tok {
    /// `file`, `ftp::params`, `::top`, keywords too.
    Name(String),
    /// `File`, `Firewall`, `Stdlib::Port`.
    Type(String),
    /// `$x` (without the `$`).
    Var(String),
    Num(String),
    /// A string: its pieces (one literal piece for a single-quoted one).
    Str(Vec<Part>),
    Regex(String),
    /// Punctuation and operators, as written.
    Op(&'static str),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Token {
    pub tok: Tok,
    pub span: Span,
}

/// Where the lexer stopped, and why (Puppet's own words where it has them).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LexError {
    pub span: Span,
    pub message: String,
}

const OPS: &[&str] = &[
    "<<|", "|>>", "=>", "+>", "->", "~>", "<-", "<~", "==", "!=", "=~", "!~", "<=", ">=", "<<",
    ">>", "<|", "|>", "@@", "{", "}", "[", "]", "(", ")", ",", ";", ":", "=", "<", ">", "!", "+",
    "-", "*", "/", "%", "?", "|", ".", "@",
];

/// Whether a token ends a value, so that a `/` after it divides.
fn ends_value(t: &Tok) -> bool {
    matches!(
        t,
        Tok::Name(_) | Tok::Type(_) | Tok::Var(_) | Tok::Num(_) | Tok::Str(_)
    ) || matches!(t, Tok::Op(")") | Tok::Op("]") | Tok::Op("}"))
}

struct Lexer<'a> {
    src: &'a str,
    b: &'a [u8],
    pos: usize,
    file: FileId,
    out: Vec<Token>,
    /// Heredocs whose bodies start at the next line: (index in `out`, tag, interpolates, margin handling).
    pending: Vec<(usize, String, bool, Span)>,
}

pub fn lex(file: FileId, src: &str) -> Result<Vec<Token>, LexError> {
    let mut l = Lexer {
        src,
        b: src.as_bytes(),
        pos: 0,
        file,
        out: Vec::new(),
        pending: Vec::new(),
    };
    l.run()?;
    if let Some((_, tag, _, span)) = l.pending.first() {
        return Err(LexError {
            span: *span,
            message: format!("Heredoc without end-tagged line: `{tag}`"),
        });
    }
    Ok(l.out)
}

fn is_name_start(c: u8) -> bool {
    c.is_ascii_lowercase() || c == b'_'
}

fn is_word(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

impl Lexer<'_> {
    fn span(&self, start: usize, end: usize) -> Span {
        Span::new(self.file, start, end)
    }

    fn err<T>(&self, start: usize, end: usize, message: impl Into<String>) -> Result<T, LexError> {
        Err(LexError {
            span: self.span(start, end),
            message: message.into(),
        })
    }

    fn push(&mut self, tok: Tok, start: usize) {
        let span = self.span(start, self.pos);
        self.out.push(Token { tok, span });
    }

    fn peek(&self, off: usize) -> u8 {
        self.b.get(self.pos + off).copied().unwrap_or(0)
    }

    fn run(&mut self) -> Result<(), LexError> {
        while self.pos < self.b.len() {
            let c = self.b[self.pos];
            let start = self.pos;
            match c {
                b'\n' => {
                    self.pos += 1;
                    if !self.pending.is_empty() {
                        self.heredoc_bodies()?;
                    }
                }
                b' ' | b'\t' | b'\r' => self.pos += 1,
                b'#' => {
                    while self.pos < self.b.len() && self.b[self.pos] != b'\n' {
                        self.pos += 1;
                    }
                }
                b'/' if self.peek(1) == b'*' => match self.src[self.pos + 2..].find("*/") {
                    Some(n) => self.pos += n + 4,
                    None => return self.err(start, self.b.len(), "Unclosed comment"),
                },
                b'/' if !self.out.last().is_some_and(|t| ends_value(&t.tok)) => self.regex()?,
                b'$' => self.variable()?,
                b'\'' => self.single()?,
                b'"' => {
                    self.pos += 1;
                    let parts = self.double(b'"', start)?;
                    self.push(Tok::Str(parts), start);
                }
                b'@' if self.peek(1) == b'(' => self.heredoc_head()?,
                b'0'..=b'9' => {
                    while self.pos < self.b.len()
                        && (is_word(self.b[self.pos]) || self.b[self.pos] == b'.')
                    {
                        self.pos += 1;
                    }
                    let text = self.src[start..self.pos].to_owned();
                    if !valid_number(&text) {
                        return self.err(start, self.pos, format!("Illegal number '{text}'"));
                    }
                    self.push(Tok::Num(text), start);
                }
                b':' if self.peek(1) == b':' && is_word(self.peek(2)) => self.name(),
                c if is_name_start(c) => self.name(),
                c if c.is_ascii_uppercase() => self.type_name(),
                _ => {
                    let rest = &self.src[self.pos..];
                    match OPS.iter().find(|op| rest.starts_with(**op)) {
                        Some(op) => {
                            self.pos += op.len();
                            self.push(Tok::Op(op), start);
                        }
                        None => {
                            let ch = rest.chars().next().unwrap_or('?');
                            return self.err(
                                start,
                                start + ch.len_utf8(),
                                format!("Illegal character '{ch}'"),
                            );
                        }
                    }
                }
            }
        }
        Ok(())
    }

    fn name(&mut self) {
        let start = self.pos;
        loop {
            if self.peek(0) == b':' && self.peek(1) == b':' {
                self.pos += 2;
            }
            while is_word(self.peek(0)) || self.peek(0) == b'-' && is_word(self.peek(1)) {
                self.pos += 1;
            }
            if !(self.peek(0) == b':' && self.peek(1) == b':' && is_word(self.peek(2))) {
                break;
            }
        }
        let text = self.src[start..self.pos].to_owned();
        self.push(Tok::Name(text), start);
    }

    fn type_name(&mut self) {
        let start = self.pos;
        loop {
            while is_word(self.peek(0)) {
                self.pos += 1;
            }
            if !(self.peek(0) == b':' && self.peek(1) == b':' && self.peek(2).is_ascii_uppercase())
            {
                break;
            }
            self.pos += 2;
        }
        let text = self.src[start..self.pos].to_owned();
        self.push(Tok::Type(text), start);
    }

    fn variable(&mut self) -> Result<(), LexError> {
        let start = self.pos;
        self.pos += 1;
        let name_start = self.pos;
        loop {
            if self.peek(0) == b':' && self.peek(1) == b':' {
                self.pos += 2;
            }
            let before = self.pos;
            while is_word(self.peek(0)) {
                self.pos += 1;
            }
            if self.pos == before {
                break;
            }
            if !(self.peek(0) == b':' && self.peek(1) == b':') {
                break;
            }
        }
        if self.pos == name_start || self.src[name_start..self.pos].ends_with(':') {
            return self.err(start, self.pos.max(start + 1), "Illegal variable name");
        }
        let name = self.src[name_start..self.pos].to_owned();
        self.push(Tok::Var(name), start);
        Ok(())
    }

    fn single(&mut self) -> Result<(), LexError> {
        let start = self.pos;
        self.pos += 1;
        let mut parts = Vec::new();
        let mut run = self.pos;
        loop {
            match self.b.get(self.pos) {
                None => return self.err(start, self.b.len(), "Unclosed quote after \"'\""),
                Some(b'\'') => break,
                Some(b'\\') if matches!(self.peek(1), b'\\' | b'\'') => {
                    self.lit(&mut parts, run, self.pos);
                    let ch = (self.peek(1) as char).to_string();
                    parts.push(Part::Lit {
                        text: ch,
                        span: self.span(self.pos, self.pos + 2),
                        verbatim: false,
                    });
                    self.pos += 2;
                    run = self.pos;
                }
                Some(_) => self.pos += 1,
            }
        }
        self.lit(&mut parts, run, self.pos);
        self.pos += 1;
        self.push(Tok::Str(parts), start);
        Ok(())
    }

    fn lit(&self, parts: &mut Vec<Part>, from: usize, to: usize) {
        if to > from {
            parts.push(Part::Lit {
                text: self.src[from..to].to_owned(),
                span: self.span(from, to),
                verbatim: true,
            });
        }
    }

    /// A double-quoted string's body up to `close` (a heredoc passes 0 and
    /// lexes a slice), escapes and interpolation resolved.
    fn double(&mut self, close: u8, start: usize) -> Result<Vec<Part>, LexError> {
        let mut parts = Vec::new();
        let mut run = self.pos;
        loop {
            let Some(&c) = self.b.get(self.pos) else {
                if close == 0 {
                    break;
                }
                return self.err(start, self.b.len(), "Unclosed quote after '\"'");
            };
            if c == close && close != 0 {
                break;
            }
            match c {
                b'\\' => {
                    let esc = match self.peek(1) {
                        b'n' => Some("\n".to_owned()),
                        b't' => Some("\t".to_owned()),
                        b'r' => Some("\r".to_owned()),
                        b's' => Some(" ".to_owned()),
                        b'$' => Some("$".to_owned()),
                        b'"' => Some("\"".to_owned()),
                        b'\'' => Some("'".to_owned()),
                        b'\\' => Some("\\".to_owned()),
                        b'\n' => Some(String::new()),
                        b'u' => None,
                        _ => {
                            // Puppet keeps an unknown escape as written (with a warning).
                            self.pos += 1;
                            continue;
                        }
                    };
                    self.lit(&mut parts, run, self.pos);
                    let at = self.pos;
                    let (text, len) = match esc {
                        Some(t) => (t, 2),
                        None => self.unicode_escape(at)?,
                    };
                    parts.push(Part::Lit {
                        text,
                        span: self.span(at, at + len),
                        verbatim: false,
                    });
                    self.pos = at + len;
                    run = self.pos;
                }
                b'$' if self.peek(1) == b'{' => {
                    self.lit(&mut parts, run, self.pos);
                    let at = self.pos;
                    let Some(n) = self.src[at + 2..].find('}') else {
                        return self.err(at, self.b.len(), "Unclosed interpolation '${'");
                    };
                    let inner = self.src[at + 2..at + 2 + n].trim();
                    let inner = inner.strip_prefix('$').unwrap_or(inner);
                    let simple =
                        !inner.is_empty() && inner.bytes().all(|b| is_word(b) || b == b':');
                    self.pos = at + 2 + n + 1;
                    parts.push(Part::Interp {
                        var: simple.then(|| inner.to_owned()),
                        span: self.span(at, self.pos),
                    });
                    run = self.pos;
                }
                b'$' if is_word(self.peek(1)) || self.peek(1) == b':' && self.peek(2) == b':' => {
                    self.lit(&mut parts, run, self.pos);
                    let at = self.pos;
                    self.pos += 1;
                    loop {
                        if self.peek(0) == b':' && self.peek(1) == b':' && is_word(self.peek(2)) {
                            self.pos += 2;
                        }
                        let before = self.pos;
                        while is_word(self.peek(0)) {
                            self.pos += 1;
                        }
                        if self.pos == before
                            || !(self.peek(0) == b':'
                                && self.peek(1) == b':'
                                && is_word(self.peek(2)))
                        {
                            break;
                        }
                    }
                    parts.push(Part::Interp {
                        var: Some(self.src[at + 1..self.pos].to_owned()),
                        span: self.span(at, self.pos),
                    });
                    run = self.pos;
                }
                _ => self.pos += 1,
            }
        }
        self.lit(&mut parts, run, self.pos);
        if close != 0 {
            self.pos += 1;
        }
        Ok(parts)
    }

    /// `\uXXXX` or `\u{X…}` at `at`: the character and the escape's length.
    fn unicode_escape(&self, at: usize) -> Result<(String, usize), LexError> {
        let rest = &self.src[at + 2..];
        let (hex, len) = if let Some(body) = rest.strip_prefix('{') {
            match body.find('}') {
                Some(n) if n <= 6 => (&body[..n], n + 5),
                _ => return self.err(
                    at,
                    at + 2,
                    "Unicode escape '\\u' was not followed by 4 hex digits or 1-6 hex digits in {}",
                ),
            }
        } else {
            match rest.get(..4) {
                Some(h) => (h, 6),
                None => return self.err(
                    at,
                    at + 2,
                    "Unicode escape '\\u' was not followed by 4 hex digits or 1-6 hex digits in {}",
                ),
            }
        };
        match u32::from_str_radix(hex, 16).ok().and_then(char::from_u32) {
            Some(ch) if !hex.is_empty() => Ok((ch.to_string(), len)),
            _ => self.err(
                at,
                at + 2,
                "Unicode escape '\\u' was not followed by 4 hex digits or 1-6 hex digits in {}",
            ),
        }
    }

    fn regex(&mut self) -> Result<(), LexError> {
        let start = self.pos;
        self.pos += 1;
        loop {
            match self.b.get(self.pos) {
                None | Some(b'\n') => {
                    // Not a regex after all: a lone `/`.
                    self.pos = start + 1;
                    self.push(Tok::Op("/"), start);
                    return Ok(());
                }
                Some(b'\\') => self.pos += 2,
                Some(b'/') => break,
                Some(_) => self.pos += 1,
            }
        }
        let body = self.src[start + 1..self.pos].to_owned();
        self.pos += 1;
        self.push(Tok::Regex(body), start);
        Ok(())
    }

    /// `@(TAG)`, `@("TAG")`, `@(TAG/flags)`, `@(TAG:syntax)`: the body starts on the next line.
    fn heredoc_head(&mut self) -> Result<(), LexError> {
        let start = self.pos;
        let Some(n) = self.src[start..].find(')') else {
            return self.err(start, start + 2, "Unclosed parenthesis after '@('");
        };
        let spec = &self.src[start + 2..start + n];
        if spec.contains('\n') {
            return self.err(start, start + 2, "Unclosed parenthesis after '@('");
        }
        let (tag_part, _flags) = spec.split_once('/').unwrap_or((spec, ""));
        let tag_part = tag_part.split_once(':').map_or(tag_part, |(t, _)| t).trim();
        let (tag, interpolates) = match tag_part.strip_prefix('"').and_then(|t| t.strip_suffix('"'))
        {
            Some(t) => (t.to_owned(), true),
            None => (tag_part.to_owned(), false),
        };
        if tag.is_empty() {
            return self.err(
                start,
                start + n + 1,
                "Heredoc without any following lines of text",
            );
        }
        self.pos = start + n + 1;
        self.push(Tok::Str(Vec::new()), start);
        let span = self.span(start, self.pos);
        self.pending
            .push((self.out.len() - 1, tag, interpolates, span));
        Ok(())
    }

    /// At the start of a line after heredoc heads: read each body in turn.
    fn heredoc_bodies(&mut self) -> Result<(), LexError> {
        let pending = std::mem::take(&mut self.pending);
        for (index, tag, interpolates, _) in pending {
            let body_start = self.pos;
            let mut line_start = self.pos;
            let end = loop {
                if line_start >= self.b.len() {
                    // Puppet names the body's first line, where the end tag was looked for.
                    return Err(LexError {
                        span: self.span(body_start, body_start),
                        message: format!("Heredoc without end-tagged line: `{tag}`"),
                    });
                }
                let line_end = self.src[line_start..]
                    .find('\n')
                    .map_or(self.b.len(), |n| line_start + n);
                let line = self.src[line_start..line_end].trim_end_matches('\r');
                let t = line.trim_start();
                let (margin, t) = match t.strip_prefix('|') {
                    Some(rest) => (Some(line.len() - t.len()), rest.trim_start()),
                    None => (None, t),
                };
                let (trim, t) = match t.strip_prefix('-') {
                    Some(rest) => (true, rest.trim_start()),
                    None => (false, t),
                };
                if t.trim_end() == tag {
                    break (line_start, line_end, margin, trim);
                }
                line_start = (line_end + 1).min(self.b.len());
                if line_end == self.b.len() {
                    line_start = self.b.len();
                }
            };
            let (body_end, tag_end, margin, trim) = end;
            // The body's lines, the margin stripped from each.
            let mut parts = Vec::new();
            let mut at = body_start;
            while at < body_end {
                let le = self.src[at..body_end]
                    .find('\n')
                    .map_or(body_end, |n| at + n + 1);
                let mut from = at;
                if let Some(m) = margin {
                    let ws = self.src[at..le]
                        .bytes()
                        .take(m)
                        .take_while(|b| *b == b' ' || *b == b'\t')
                        .count();
                    from += ws;
                }
                let mut to = le;
                if trim && le == body_end {
                    // `-END`: the last line break goes.
                    if self.src[from..to].ends_with("\r\n") {
                        to -= 2;
                    } else if self.src[from..to].ends_with('\n') {
                        to -= 1;
                    }
                }
                if interpolates {
                    let saved = self.pos;
                    let sub = Lexer {
                        src: &self.src[..to],
                        b: &self.b[..to],
                        pos: from,
                        file: self.file,
                        out: Vec::new(),
                        pending: Vec::new(),
                    };
                    let mut sub = sub;
                    parts.extend(sub.double(0, from)?);
                    self.pos = saved;
                } else if to > from {
                    parts.push(Part::Lit {
                        text: self.src[from..to].to_owned(),
                        span: self.span(from, to),
                        verbatim: true,
                    });
                }
                at = le;
            }
            if let Some(t) = self.out.get_mut(index) {
                t.tok = Tok::Str(parts);
            }
            self.pos = if tag_end < self.b.len() {
                tag_end + 1
            } else {
                self.b.len()
            };
        }
        Ok(())
    }
}

fn valid_number(text: &str) -> bool {
    if let Some(hex) = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        return !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit());
    }
    let mut dots = 0;
    for b in text.bytes() {
        match b {
            b'0'..=b'9' => {}
            b'.' => dots += 1,
            b'e' | b'E' | b'-' | b'+' => {}
            _ => return false,
        }
    }
    dots <= 1 && !text.ends_with('.')
}

/// The text of a string token's pieces, interpolations as pasvlint cannot know them.
pub fn parts_text(parts: &[Part]) -> Text {
    let mut t = Text::default();
    for p in parts {
        match p {
            Part::Lit {
                text,
                span,
                verbatim,
            } => t.push(text, *span, *verbatim),
            Part::Interp { span, .. } => t.push(&crate::scripts::UNKNOWN.to_string(), *span, false),
        }
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(src: &str) -> Vec<Tok> {
        lex(FileId(0), src)
            .unwrap()
            .into_iter()
            .map(|t| t.tok)
            .collect()
    }

    #[test]
    fn strings_keep_their_escapes_and_interpolations() {
        let t = toks(r#"$x = "a\nb${port}c$y::z" 'it\'s'"#);
        assert_eq!(t[0], Tok::Var("x".into()));
        let Tok::Str(parts) = &t[2] else { panic!() };
        assert_eq!(parts.len(), 6, "{parts:?}");
        assert!(matches!(&parts[3], Part::Interp { var: Some(v), .. } if v == "port"));
        assert!(matches!(&parts[5], Part::Interp { var: Some(v), .. } if v == "y::z"));
        let Tok::Str(q) = &t[3] else { panic!() };
        assert_eq!(parts_text(q).text, "it's");
    }

    #[test]
    fn heredocs_strip_margins_and_trim() {
        let src = "$c = @(END)\n    listen=YES\n    pasv_min_port=1\n    | END\n$d = 1\n";
        let t = toks(src);
        let Tok::Str(parts) = &t[2] else { panic!() };
        assert_eq!(parts_text(parts).text, "listen=YES\npasv_min_port=1\n");
        assert_eq!(t[3], Tok::Var("d".into()));
        let t = toks("f(@(\"E\"/L))\nport=${p}\n-E\n");
        let Tok::Str(parts) = &t[2] else { panic!() };
        assert_eq!(parts_text(parts).text, "port=\u{E0FF}");
    }

    #[test]
    fn slash_divides_after_values_and_starts_regexes_elsewhere() {
        assert!(toks("$a / 2").contains(&Tok::Op("/")));
        assert!(toks("$a =~ /^pasv/").contains(&Tok::Regex("^pasv".into())));
    }
}
