//! Where HCL (Terraform's `hclsyntax`) reports a syntax error, for the errors
//! whose place differs from where a parser first notices them. Measured with
//! `terraform fmt -check` (Terraform 1.11): an unclosed block is reported at the
//! line of its `{` (the innermost one), an unclosed tuple at its `[`, an unclosed
//! object or heredoc at the end of the file, a quoted string that runs past its
//! line at the string, an attribute set twice in one body at the second.

use super::hcl::Body;

/// The first error of `text` as Terraform names and places it; `None` when the
/// scan finds none of those it knows (the parser's own message then stands).
pub fn terraform_error(text: &str) -> Option<(String, usize)> {
    let b = text.as_bytes();
    let mut stack: Vec<(u8, usize, bool)> = Vec::new(); // (opener, offset, is_block)
    let mut i = 0usize;
    // Interpolation depth inside strings: each entry is the stack height at `${`.
    let mut in_string: Vec<(usize, usize)> = Vec::new(); // (string start, stack height)
    let mut last_sig: u8 = b'\n';
    while i < b.len() {
        let c = b[i];
        if let Some(&(start, height)) = in_string.last() {
            if stack.len() == height {
                // Inside the string's literal text.
                match c {
                    b'\\' => i += 2,
                    b'"' => {
                        in_string.pop();
                        last_sig = b'"';
                        i += 1;
                    }
                    b'\n' => return Some(("Invalid multi-line string".into(), start)),
                    b'$' | b'%' if b.get(i + 1) == Some(&b'{') => {
                        if b.get(i.wrapping_sub(1)) == Some(&c) {
                            i += 2;
                        } else {
                            stack.push((b'{', i, false));
                            last_sig = b'{';
                            i += 2;
                        }
                    }
                    _ => i += 1,
                }
                continue;
            }
        }
        match c {
            b'#' => i = skip_line(b, i),
            b'/' if b.get(i + 1) == Some(&b'/') => i = skip_line(b, i),
            b'/' if b.get(i + 1) == Some(&b'*') => match text[i + 2..].find("*/") {
                Some(end) => i += end + 4,
                None => {
                    return Some(("Argument or block definition required".into(), i));
                }
            },
            b'"' => {
                in_string.push((i, stack.len()));
                i += 1;
            }
            b'<' if b.get(i + 1) == Some(&b'<') && heredoc_start(b, i + 2).is_some() => {
                let (delim, body) = heredoc_start(b, i + 2)?;
                match heredoc_end(text, body, &delim) {
                    Some(end) => {
                        if let Some(open) = unclosed_interpolation(&text[body..end]) {
                            return Some((
                                "Unclosed template interpolation sequence".into(),
                                body + open,
                            ));
                        }
                        i = end;
                        last_sig = b'"';
                    }
                    None => return Some(("Unterminated template string".into(), text.len())),
                }
            }
            b'{' | b'[' | b'(' => {
                let is_block = c == b'{'
                    && !matches!(last_sig, b'=' | b'(' | b'[' | b',' | b':' | b'?' | b'{');
                let is_block = is_block && in_string.is_empty();
                stack.push((c, i, is_block));
                last_sig = c;
                i += 1;
            }
            b'}' | b']' | b')' => {
                let want = match c {
                    b'}' => b'{',
                    b']' => b'[',
                    _ => b'(',
                };
                match stack.pop() {
                    Some((open, _, _)) if open == want => {}
                    _ => return None,
                }
                last_sig = c;
                i += 1;
            }
            b' ' | b'\t' | b'\r' => i += 1,
            _ => {
                last_sig = c;
                i += 1;
            }
        }
    }
    if let Some(&(start, _)) = in_string.last() {
        return Some(("Unterminated template string".into(), start));
    }
    let (open, at, is_block) = *stack.last()?;
    Some(match (open, is_block) {
        (b'{', true) => ("Unclosed configuration block".into(), at),
        (b'[', _) => ("Unterminated tuple constructor expression".into(), at),
        (b'(', _) => ("Unbalanced parentheses".into(), text.len()),
        _ => ("Missing expression".into(), text.len()),
    })
}

/// The offset of a `${` or `%{` in a heredoc body that no `}` closes.
fn unclosed_interpolation(body: &str) -> Option<usize> {
    let b = body.as_bytes();
    let mut open: Vec<usize> = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'$' | b'%' if b.get(i + 1) == Some(&b'{') => {
                if i > 0 && b[i - 1] == b[i] {
                    i += 2;
                    continue;
                }
                open.push(i);
                i += 2;
                continue;
            }
            b'{' if !open.is_empty() => open.push(i),
            b'}' if !open.is_empty() => {
                open.pop();
            }
            _ => {}
        }
        i += 1;
    }
    open.first().copied()
}

fn skip_line(b: &[u8], i: usize) -> usize {
    b[i..]
        .iter()
        .position(|&c| c == b'\n')
        .map_or(b.len(), |n| i + n)
}

/// After `<<`: `-`? IDENT then a newline; the delimiter and where the body starts.
fn heredoc_start(b: &[u8], mut i: usize) -> Option<(String, usize)> {
    if b.get(i) == Some(&b'-') {
        i += 1;
    }
    let start = i;
    while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b'-') {
        i += 1;
    }
    if i == start {
        return None;
    }
    let delim = String::from_utf8_lossy(&b[start..i]).into_owned();
    let mut j = i;
    if b.get(j) == Some(&b'\r') {
        j += 1;
    }
    (b.get(j) == Some(&b'\n')).then_some((delim, j + 1))
}

/// The offset after the heredoc's closing line.
fn heredoc_end(text: &str, body: usize, delim: &str) -> Option<usize> {
    let mut at = body;
    for line in text[body..].split_inclusive('\n') {
        let bare = line.trim_end_matches(['\n', '\r']).trim();
        at += line.len();
        if bare == delim {
            return Some(at - (line.len() - line.trim_end_matches(['\n', '\r']).len()));
        }
    }
    None
}

/// An attribute set twice in one body, which HCL refuses (`Attribute redefined`);
/// the offset of the second.
pub fn redefined(body: &Body) -> Option<(String, usize)> {
    let mut seen: Vec<&str> = Vec::new();
    for a in &body.attrs {
        if seen.contains(&a.name.as_str()) {
            return Some((
                format!(
                    "Attribute redefined: the argument \"{}\" was already set",
                    a.name
                ),
                a.span.start as usize,
            ));
        }
        seen.push(&a.name);
    }
    body.blocks
        .iter()
        .filter_map(|b| redefined(&b.body))
        .min_by_key(|(_, at)| *at)
}

/// hcl-edit's expectation text as a summary.
pub fn describe(message: &str, line: &str) -> String {
    let m = message.trim();
    if m.contains("redefined attribute") {
        let key = line.split('=').next().unwrap_or("").trim();
        format!("Attribute redefined: the argument \"{key}\" was already set in this block")
    } else if m.is_empty() {
        "invalid HCL syntax".to_owned()
    } else {
        m.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(text: &str) -> Option<(String, usize)> {
        terraform_error(text).map(|(m, at)| (m, text[..at].matches('\n').count() + 1))
    }

    #[test]
    fn places_errors_where_terraform_fmt_does() {
        let l = |t: &str| line(t).map(|(m, l)| (m.split(':').next().unwrap().to_owned(), l));
        assert_eq!(
            l("resource \"a\" \"b\" {\n  ingress {\n    from_port = 21\n"),
            Some(("Unclosed configuration block".into(), 2))
        );
        assert_eq!(
            l("x = [1,\n2\n"),
            Some(("Unterminated tuple constructor expression".into(), 1))
        );
        assert_eq!(l("x = {\n a = 1\n"), Some(("Missing expression".into(), 3)));
        assert_eq!(
            l("resource \"a\" \"b\" {\n  x = <<EOF\nhello\n"),
            Some(("Unterminated template string".into(), 4))
        );
        assert_eq!(
            l("a = \"x\n"),
            Some(("Invalid multi-line string".into(), 1))
        );
        assert_eq!(l("a = \"${b}\" # {\nc = <<-X\n  {\n  X\n"), None);
        assert_eq!(l("a = \"$${\"\n"), None);
    }
}
