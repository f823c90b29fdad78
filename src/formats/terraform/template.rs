//! Terraform templates (quoted strings, heredocs, `templatefile` files) rendered
//! into a [`Text`] whose pieces map back to the bytes they were written as:
//! literal text byte for byte where it is the source verbatim, an escape
//! (`$${`, `%%{`, `\n`) or a heredoc's stripped indentation skipped, and each
//! interpolation as the expression it came from.

use super::hcl::Part;
use crate::scripts::{Text, UNKNOWN};
use crate::source::{SourceFile, Span};

/// The value of one interpolation: its text, or `None` when it cannot be known.
pub type Interp<'a> = dyn Fn(&super::hcl::Expr) -> Option<String> + 'a;

/// Render `parts` (spans into `source`).
pub fn render(parts: &[Part], source: &SourceFile, interp: &Interp) -> Text {
    let mut out = Text::default();
    for part in parts {
        match part {
            Part::Lit { text, span } => push_aligned(&mut out, text, source, *span),
            Part::Interp(e) => match interp(e) {
                Some(v) => out.push(&v, e.span, false),
                None => out.push(&UNKNOWN.to_string(), e.span, false),
            },
            Part::Directive(span) => out.push(&UNKNOWN.to_string(), *span, false),
        }
    }
    out
}

/// A file's whole text, each byte mapping to itself.
pub fn whole(source: &SourceFile) -> Text {
    let mut t = Text::default();
    t.push(&source.text, source.span(0, source.text.len()), true);
    t
}

/// A `templatefile` file rendered with the given variables (text, or `None`
/// when not known); a file that is no valid template renders to nothing, as
/// Terraform's `templatefile` then fails.
pub fn render_file(source: &SourceFile, vars: &[(String, Option<String>, Span)]) -> Text {
    let whole_span = source.span(0, source.text.len());
    let Ok(t) = hcl_edit::parser::parse_template(&source.text) else {
        return Text::default();
    };
    let parts = super::hcl::template_parts(&t, &super::hcl::Lower { source }, whole_span);
    render(&parts, source, &|e| match &e.kind {
        super::hcl::ExprKind::Ref(path) if path.len() == 1 => vars
            .iter()
            .find(|(k, _, _)| *k == path[0])
            .and_then(|(_, v, _)| v.clone()),
        _ => None,
    })
}

/// What the shell reads for a part that is not known: a command substitution,
/// which the sh interpreter takes as a value it cannot know.
const UNKNOWN_IN_SHELL: &str = "$(terraform-value)";

/// The virtual file of a boot script: its text, with unknown parts as command
/// substitutions, and the runs mapping it back.
pub fn boot_source(text: &Text, name: &str, whole: Span, id: crate::source::FileId) -> SourceFile {
    let mut out = String::with_capacity(text.text.len());
    let mut runs = Vec::with_capacity(text.pieces.len());
    for (i, piece) in text.pieces.iter().enumerate() {
        let end = text.pieces.get(i + 1).map_or(text.text.len(), |n| n.at);
        let part = text.text.get(piece.at..end).unwrap_or("");
        runs.push(crate::source::OriginRun {
            at: out.len(),
            span: piece.span,
            verbatim: piece.verbatim && !part.contains(UNKNOWN),
        });
        out.push_str(&part.replace(UNKNOWN, UNKNOWN_IN_SHELL));
    }
    SourceFile::written(id, name, out, crate::source::Origin { runs, whole })
}

/// Append `value`, written in `source` at `span`, keeping runs that are the
/// source's bytes verbatim.
pub fn push_aligned(out: &mut Text, value: &str, source: &SourceFile, span: Span) {
    let src = source.slice(span);
    let base = span.start as usize;
    let mut j = 0usize;
    let mut run: Option<(usize, usize)> = None; // (value start, source start) of a verbatim run
    let mut i = 0usize;
    let flush = |out: &mut Text, run: &mut Option<(usize, usize)>, i: usize, j: usize| {
        if let Some((vs, ss)) = run.take() {
            out.push(&value[vs..i], source.span(base + ss, base + j), true);
        }
    };
    while i < value.len() {
        let Some(c) = value[i..].chars().next() else {
            break;
        };
        let rest = src.get(j..).unwrap_or("");
        let doubled = (c == '$' && rest.starts_with("$$") && !value[i..].starts_with("$$"))
            || (c == '%' && rest.starts_with("%%") && !value[i..].starts_with("%%"));
        if rest.starts_with(c) && !doubled {
            if run.is_none() {
                run = Some((i, j));
            }
            i += c.len_utf8();
            j += c.len_utf8();
            continue;
        }
        if let Some(len) = escape_len(rest, c) {
            flush(out, &mut run, i, j);
            out.push(
                &value[i..i + c.len_utf8()],
                source.span(base + j, base + j + len),
                false,
            );
            i += c.len_utf8();
            j += len;
            continue;
        }
        if rest.starts_with([' ', '\t']) {
            // A heredoc's indentation, stripped from the value.
            flush(out, &mut run, i, j);
            j += 1;
            continue;
        }
        flush(out, &mut run, i, j);
        out.push(&value[i..], span, false);
        return;
    }
    flush(out, &mut run, i, j);
}

/// How many source bytes an escape producing `c` takes at the start of `rest`.
fn escape_len(rest: &str, c: char) -> Option<usize> {
    match c {
        '$' if rest.starts_with("$$") => return Some(2),
        '%' if rest.starts_with("%%") => return Some(2),
        _ => {}
    }
    let after = rest.strip_prefix('\\')?;
    let simple = match c {
        '\n' => Some('n'),
        '\r' => Some('r'),
        '\t' => Some('t'),
        '"' => Some('"'),
        '\\' => Some('\\'),
        _ => None,
    };
    if let Some(s) = simple {
        return after.starts_with(s).then_some(2);
    }
    for (prefix, digits) in [('u', 4usize), ('U', 8)] {
        if let Some(hex) = after.strip_prefix(prefix) {
            let h = hex.get(..digits)?;
            let v = u32::from_str_radix(h, 16).ok()?;
            if char::from_u32(v) == Some(c) {
                return Some(2 + digits);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FileId;

    fn aligned(value: &str, src: &str) -> (Text, SourceFile) {
        let f = SourceFile::new(FileId(0), "x.tf", src.as_bytes());
        let mut t = Text::default();
        push_aligned(&mut t, value, &f, f.span(0, src.len()));
        (t, f)
    }

    #[test]
    fn escapes_and_indentation_map_back_to_their_bytes() {
        let (t, f) = aligned("a ${X}\nb\n", "  a $${X}\n  b\n");
        assert_eq!(t.text, "a ${X}\nb\n");
        let b = t.text.find('b').unwrap();
        let s = t.span_of(b, b + 1).unwrap();
        assert_eq!(f.slice(s), "b");
        let x = t.text.find('X').unwrap();
        assert_eq!(f.slice(t.span_of(x, x + 1).unwrap()), "X");
        let (t, f) = aligned("a\tb", "a\\tb");
        assert_eq!(f.slice(t.span_of(2, 3).unwrap()), "b");
    }

    #[test]
    fn text_that_does_not_align_maps_to_the_whole_literal() {
        let (t, _) = aligned("xyz", "abc");
        assert_eq!(t.pieces.len(), 1);
        assert!(!t.pieces[0].verbatim);
    }
}
