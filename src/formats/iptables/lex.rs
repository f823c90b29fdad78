//! Words of one command, as `iptables-restore` splits a rule line (`add_param_to_argv`).

use std::borrow::Cow;

/// One word of a command and where it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Arg<'a> {
    pub text: Cow<'a, str>,
    /// Byte offsets in the source text.
    pub start: u32,
    pub end: u32,
}

/// Split a restore-file rule line the way iptables-restore does: spaces, tabs and
/// newlines separate words; only double quotes group (with `\` escaping inside them);
/// single quotes are ordinary characters; `\r` is an ordinary character too.
/// `base` is the offset of `line` in the file.
pub fn split_restore_line<'a>(line: &'a str, base: usize, out: &mut Vec<Arg<'a>>) {
    let bytes = line.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b' ' | b'\t' | b'\n' => i += 1,
            _ => i = word(line, i, base, out),
        }
    }
}

/// Read one word starting at `start`; returns the offset after it.
fn word<'a>(line: &'a str, start: usize, base: usize, out: &mut Vec<Arg<'a>>) -> usize {
    let bytes = line.as_bytes();
    let mut i = bytes[start..]
        .iter()
        .position(|b| matches!(b, b' ' | b'\t' | b'\n' | b'"'))
        .map_or(bytes.len(), |n| start + n);
    if i >= bytes.len() || bytes[i] != b'"' {
        out.push(Arg {
            text: Cow::Borrowed(&line[start..i]),
            start: (base + start) as u32,
            end: (base + i) as u32,
        });
        return i;
    }
    // A quote opens inside or at the start of the word; the word ends at the closing quote.
    if let Some(end) = plain_quoted(bytes, start, i) {
        out.push(Arg {
            text: Cow::Borrowed(&line[i + 1..end - 1]),
            start: (base + start) as u32,
            end: (base + end) as u32,
        });
        return end;
    }
    let mut text = line[start..i].to_owned();
    i += 1;
    let mut escaped = false;
    let mut closed = false;
    let mut chunk = i;
    while i < bytes.len() {
        let b = bytes[i];
        if escaped {
            escaped = false;
        } else if b == b'\\' {
            text.push_str(&line[chunk..i]);
            escaped = true;
            chunk = i + 1;
        } else if b == b'"' {
            text.push_str(&line[chunk..i]);
            closed = true;
            i += 1;
            break;
        }
        i += 1;
    }
    if !closed {
        text.push_str(line.get(chunk..i).unwrap_or(""));
    }
    out.push(Arg {
        text: Cow::Owned(text),
        start: (base + start) as u32,
        end: (base + i.min(bytes.len())) as u32,
    });
    i
}

/// A word that is one quoted string with no `\\` in it (`"kubernetes service
/// portals"`): the offset after its closing quote, so its text is borrowed.
fn plain_quoted(bytes: &[u8], start: usize, quote: usize) -> Option<usize> {
    if start != quote {
        return None;
    }
    let close = quote + 1 + memchr::memchr2(b'"', b'\\', &bytes[quote + 1..])?;
    (bytes[close] == b'"').then_some(close + 1)
}

/// `[pkts:bytes]` rule counters at the very start of a line: the rest of the line,
/// or the tool's error.
pub fn strip_rule_counters(line: &str) -> Result<usize, &'static str> {
    if !line.starts_with('[') {
        return Ok(0);
    }
    // strtok(":") then strtok("]"): without a ':' the byte counter is missing, which
    // the tool also reports as a missing `]`.
    match line.find(']') {
        Some(close) if line.contains(':') => Ok(close + 1),
        _ => Err("need ]"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(line: &str) -> Vec<String> {
        let mut v = Vec::new();
        split_restore_line(line, 0, &mut v);
        v.into_iter().map(|a| a.text.into_owned()).collect()
    }

    #[test]
    fn splits_like_iptables_restore() {
        assert_eq!(
            words("-A INPUT  -j\tACCEPT"),
            ["-A", "INPUT", "-j", "ACCEPT"]
        );
        assert_eq!(
            words(r#"-m comment --comment "ssh from \"x\"" -j ACCEPT"#),
            [
                "-m",
                "comment",
                "--comment",
                "ssh from \"x\"",
                "-j",
                "ACCEPT"
            ]
        );
        assert_eq!(words("--comment 'x y'"), ["--comment", "'x", "y'"]);
        assert_eq!(words("COMMIT\r"), ["COMMIT\r"]);
        assert_eq!(words(r#"a"b c"d"#), ["ab c", "d"]);
        assert_eq!(words(r#"--x """#), ["--x", ""]);
    }

    #[test]
    fn spans_cover_the_word() {
        let mut v = Vec::new();
        split_restore_line(r#"-j "A B" x"#, 10, &mut v);
        assert_eq!((v[1].start, v[1].end), (13, 18));
        assert_eq!((v[2].start, v[2].end), (19, 20));
    }
}
