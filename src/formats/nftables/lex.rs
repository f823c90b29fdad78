//! Tokens as nft's scanner cuts them: words (names, numbers, addresses, ranges),
//! quoted strings, punctuation, and line ends (which end statements like `;`).

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    Word,
    /// A quoted string; `text` is without the quotes.
    Str,
    /// `{ } ; , : @ $ ( ) + * = ! != == < > <= >= . | & ^ ~`
    Punct,
    Newline,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Token {
    pub kind: Kind,
    pub text: String,
    /// Byte offsets in the file.
    pub start: usize,
    pub end: usize,
}

/// An unterminated string: nft's message and where it starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LexError {
    pub message: String,
    pub start: usize,
    pub end: usize,
}

fn word_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.' | b'/' | b'%' | b'[' | b']')
}

/// Cut `text` into tokens; `#` comments and `\`-newline continuations vanish.
pub fn lex(text: &str) -> Result<Vec<Token>, LexError> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let push = |out: &mut Vec<Token>, kind, s: usize, e: usize, t: &str| {
        out.push(Token {
            kind,
            text: t.to_owned(),
            start: s,
            end: e,
        })
    };
    while i < b.len() {
        let c = b[i];
        match c {
            b'\n' => {
                push(&mut out, Kind::Newline, i, i + 1, "\n");
                i += 1;
            }
            b' ' | b'\t' | b'\r' => i += 1,
            b'\\' if b.get(i + 1) == Some(&b'\n') => i += 2,
            b'#' => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'"' => {
                let s = i;
                i += 1;
                while i < b.len() && b[i] != b'"' && b[i] != b'\n' {
                    i += 1;
                }
                if i >= b.len() || b[i] != b'"' {
                    return Err(LexError {
                        message: "syntax error, unexpected junk".into(),
                        start: s,
                        end: i,
                    });
                }
                push(&mut out, Kind::Str, s, i + 1, &text[s + 1..i]);
                i += 1;
            }
            b'!' | b'=' | b'<' | b'>' if b.get(i + 1) == Some(&b'=') => {
                push(&mut out, Kind::Punct, i, i + 2, &text[i..i + 2]);
                i += 2;
            }
            b':' if is_v6_start(b, i) => i = word(b, text, i, &mut out),
            _ if word_char(c) => i = word(b, text, i, &mut out),
            _ if c.is_ascii() => {
                push(&mut out, Kind::Punct, i, i + 1, &text[i..i + 1]);
                i += 1;
            }
            _ => {
                // A multi-byte character: nft's scanner calls it junk.
                let mut e = i + 1;
                while e < b.len() && !text.is_char_boundary(e) {
                    e += 1;
                }
                return Err(LexError {
                    message: "syntax error, unexpected junk".into(),
                    start: i,
                    end: e,
                });
            }
        }
    }
    Ok(out)
}

/// `::1` or `::/0` starts an IPv6 address rather than a map colon.
fn is_v6_start(b: &[u8], i: usize) -> bool {
    b.get(i + 1) == Some(&b':')
}

/// A word; colons join it when it reads as an IPv6 address (`fe80::1`, `2001:db8::/32`)
/// or `ip:port` is not meant (a word with a colon and only hex digits around it).
fn word(b: &[u8], text: &str, s: usize, out: &mut Vec<Token>) -> usize {
    let mut e = s;
    while e < b.len() && (word_char(b[e]) || b[e] == b':') {
        e += 1;
    }
    let mut piece = &text[s..e];
    if piece.contains(':') && !looks_v6(piece) {
        // `21:accept`, `1.2.3.4:21`: the word ends at the first colon.
        let cut = piece.find(':').unwrap_or(piece.len());
        piece = &text[s..s + cut];
        e = s + cut;
        if cut == 0 {
            out.push(Token {
                kind: Kind::Punct,
                text: ":".into(),
                start: s,
                end: s + 1,
            });
            return s + 1;
        }
    }
    out.push(Token {
        kind: Kind::Word,
        text: piece.to_owned(),
        start: s,
        end: e,
    });
    e
}

fn looks_v6(w: &str) -> bool {
    let addr = w.split('/').next().unwrap_or(w);
    let addr = addr.split('-').next().unwrap_or(addr);
    addr.matches(':').count() >= 2
        && addr
            .bytes()
            .all(|c| c.is_ascii_hexdigit() || c == b':' || c == b'.')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(s: &str) -> Vec<String> {
        lex(s).unwrap().into_iter().map(|t| t.text).collect()
    }

    #[test]
    fn cuts_ranges_addresses_and_map_colons() {
        assert_eq!(
            texts("tcp dport { 21, 40000-40100 } ip6 saddr fe80::/10 21:accept"),
            [
                "tcp",
                "dport",
                "{",
                "21",
                ",",
                "40000-40100",
                "}",
                "ip6",
                "saddr",
                "fe80::/10",
                "21",
                ":",
                "accept"
            ]
        );
        assert_eq!(
            texts("tcp dport != 21 # c\n"),
            ["tcp", "dport", "!=", "21", "\n"]
        );
    }

    #[test]
    fn unterminated_string_is_an_error() {
        assert!(lex("comment \"abc\n").is_err());
    }
}
