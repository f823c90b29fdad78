//! What `test`/`[`/`[[`, `echo`, `printf` and `sed -i` do with their arguments.

use super::ast::Range;
use super::eval::St;
use super::expand::Field;
use crate::scripts::{SedEdit, Text, UNKNOWN};
use crate::source::{FileId, Span};

/// One argument of `test` or `[[`.
pub struct Test {
    /// `None`: unknown.
    pub text: Option<String>,
    /// As a `[[ == ]]` pattern.
    pub pattern: Option<String>,
    /// Written as plain unquoted text (only then is it an operator of `[[`).
    pub operator: bool,
}

/// `test ARGS` / `[ ARGS ]` (`cond: false`) or `[[ ARGS ]]` (`cond: true`).
pub fn test(args: &[Test], cond: bool) -> St {
    let mut t = TestParser {
        a: args,
        i: 0,
        cond,
        depth: 0,
    };
    if args.is_empty() {
        return St::False;
    }
    let r = t.or();
    if t.i == args.len() { r } else { St::Unknown }
}

struct TestParser<'a> {
    a: &'a [Test],
    i: usize,
    cond: bool,
    depth: usize,
}

fn and(a: St, b: St) -> St {
    match (a, b) {
        (St::False, _) | (_, St::False) => St::False,
        (St::True, St::True) => St::True,
        _ => St::Unknown,
    }
}

fn or(a: St, b: St) -> St {
    match (a, b) {
        (St::True, _) | (_, St::True) => St::True,
        (St::False, St::False) => St::False,
        _ => St::Unknown,
    }
}

impl TestParser<'_> {
    fn is(&self, k: usize, op: &str) -> bool {
        self.a
            .get(self.i + k)
            .is_some_and(|t| t.text.as_deref() == Some(op) && (!self.cond || t.operator))
    }

    fn or(&mut self) -> St {
        let (or_op, and_op) = if self.cond {
            ("||", "&&")
        } else {
            ("-o", "-a")
        };
        let mut r = self.and(and_op);
        while self.is(0, or_op) {
            self.i += 1;
            r = or(r, self.and(and_op));
        }
        r
    }

    fn and(&mut self, op: &str) -> St {
        let mut r = self.not();
        while self.is(0, op) {
            self.i += 1;
            r = and(r, self.not());
        }
        r
    }

    fn not(&mut self) -> St {
        self.depth += 1;
        if self.depth > 100 {
            self.i = self.a.len();
            return St::Unknown;
        }
        let r = if self.is(0, "!") && self.i + 1 < self.a.len() {
            self.i += 1;
            self.not().not_()
        } else {
            self.primary()
        };
        self.depth -= 1;
        r
    }

    fn primary(&mut self) -> St {
        if self.is(0, "(") {
            self.i += 1;
            let r = self.or();
            if self.is(0, ")") {
                self.i += 1;
            }
            return r;
        }
        let Some(first) = self.a.get(self.i) else {
            return St::Unknown;
        };
        if let Some(op) = self.a.get(self.i + 1) {
            if let (Some(op_text), Some(rhs)) = (op.text.as_deref(), self.a.get(self.i + 2)) {
                if let Some(r) = binary(first, op_text, rhs, self.cond) {
                    self.i += 3;
                    return r;
                }
            }
        }
        if let Some(op) = first.text.as_deref() {
            if op.len() == 2 && op.starts_with('-') && self.a.get(self.i + 1).is_some() {
                let arg = &self.a[self.i + 1];
                self.i += 2;
                return match (op, arg.text.as_deref()) {
                    ("-z", Some(s)) => St::of_bool(s.is_empty()),
                    ("-n", Some(s)) => St::of_bool(!s.is_empty()),
                    _ => St::Unknown,
                };
            }
        }
        self.i += 1;
        match first.text.as_deref() {
            Some(s) => St::of_bool(!s.is_empty()),
            None => St::Unknown,
        }
    }
}

impl St {
    fn not_(self) -> St {
        match self {
            St::True => St::False,
            St::False => St::True,
            other => other,
        }
    }

    fn of_bool(b: bool) -> St {
        if b { St::True } else { St::False }
    }
}

fn binary(lhs: &Test, op: &str, rhs: &Test, cond: bool) -> Option<St> {
    let strings = matches!(op, "=" | "==" | "!=" | "<" | ">");
    let ints = matches!(op, "-eq" | "-ne" | "-lt" | "-le" | "-gt" | "-ge");
    if !strings && !ints && !matches!(op, "=~" | "-nt" | "-ot" | "-ef") {
        return None;
    }
    let (Some(a), Some(b)) = (lhs.text.as_deref(), rhs.text.as_deref()) else {
        return Some(St::Unknown);
    };
    Some(match op {
        "=" | "==" if cond => match &rhs.pattern {
            Some(p) => St::of_bool(super::glob::matches(p, a)),
            None => St::Unknown,
        },
        "!=" if cond => match &rhs.pattern {
            Some(p) => St::of_bool(!super::glob::matches(p, a)),
            None => St::Unknown,
        },
        "=" | "==" => St::of_bool(a == b),
        "!=" => St::of_bool(a != b),
        "<" => St::of_bool(a < b),
        ">" => St::of_bool(a > b),
        _ if ints => {
            let (Ok(x), Ok(y)) = (a.trim().parse::<i64>(), b.trim().parse::<i64>()) else {
                // "integer expression expected": status 2, the condition fails.
                return Some(St::False);
            };
            St::of_bool(match op {
                "-eq" => x == y,
                "-ne" => x != y,
                "-lt" => x < y,
                "-le" => x <= y,
                "-gt" => x > y,
                _ => x >= y,
            })
        }
        _ => St::Unknown,
    })
}

/// Append `t[start..end]` to `out`, keeping where each part came from.
fn slice_into(t: &Text, start: usize, end: usize, out: &mut Text) {
    for (i, p) in t.pieces.iter().enumerate() {
        let p_end = t.pieces.get(i + 1).map_or(t.text.len(), |n| n.at);
        let (s, e) = (start.max(p.at), end.min(p_end));
        if s >= e {
            continue;
        }
        let Some(text) = t.text.get(s..e) else {
            continue;
        };
        let span = if p.verbatim {
            let base = p.span.start as usize;
            Span::new(p.span.file, base + (s - p.at), base + (e - p.at))
        } else {
            p.span
        };
        out.push(text, span, p.verbatim);
    }
}

fn whole_span(t: &Text, fallback: Span) -> Span {
    t.span_of(0, t.text.len()).unwrap_or(fallback)
}

/// Backslash escapes of `echo -e`, dash's `echo` and `printf %b`: the text, and
/// whether `\c` ended all output.
fn escapes(t: &Text, fallback: Span, out: &mut Text) -> bool {
    let s = &t.text;
    let mut run = 0;
    let mut i = 0;
    while let Some(off) = s[i..].find('\\') {
        let at = i + off;
        slice_into(t, run, at, out);
        let rest = &s[at + 1..];
        let (text, len, stop) = match rest.chars().next() {
            Some('c') => (String::new(), 1, true),
            Some('0') => {
                let d: String = rest[1..]
                    .chars()
                    .take(3)
                    .take_while(|c| c.is_digit(8))
                    .collect();
                let v = u32::from_str_radix(&d, 8).unwrap_or(0) & 0xff;
                (
                    char::from_u32(v).unwrap_or('\0').to_string(),
                    1 + d.len(),
                    false,
                )
            }
            Some(_) => {
                let (text, len) = super::parse::ansi_escape(rest);
                (text, len, false)
            }
            None => ("\\".into(), 0, false),
        };
        let span = t.span_of(at, at + 1 + len).unwrap_or(fallback);
        out.push(&text, span, false);
        if stop {
            return true;
        }
        i = at + 1 + len;
        run = i;
        if i >= s.len() {
            break;
        }
    }
    slice_into(t, run, s.len(), out);
    false
}

/// What `echo ARGS` prints: bash's `-n`/`-e`/`-E` options, or dash's echo (only
/// `-n`, escapes always interpreted).
pub fn echo(args: &[(Field, Range)], bash: bool, span: Span) -> Text {
    let mut newline = true;
    let mut interpret = !bash;
    let mut rest = args;
    while let Some(((f, _), tail)) = rest.split_first() {
        let t = f.text.text.as_str();
        let valid = t.len() > 1
            && t.starts_with('-')
            && t[1..].chars().all(|c| {
                if bash {
                    matches!(c, 'n' | 'e' | 'E')
                } else {
                    c == 'n'
                }
            });
        if !valid {
            break;
        }
        for c in t[1..].chars() {
            match c {
                'n' => newline = false,
                'e' => interpret = true,
                _ => interpret = false,
            }
        }
        rest = tail;
    }
    let mut out = Text::default();
    for (i, (f, _)) in rest.iter().enumerate() {
        let fspan = whole_span(&f.text, span);
        if i > 0 {
            out.push(" ", fspan, false);
        }
        if interpret {
            if escapes(&f.text, fspan, &mut out) {
                return out;
            }
        } else {
            slice_into(&f.text, 0, f.text.text.len(), &mut out);
        }
    }
    if newline {
        out.push("\n", span, false);
    }
    out
}

/// What `printf FORMAT ARGS` prints (`%s %d %i %b %c %x %o %u %%`, widths, the
/// format reused for extra arguments); `None` when it cannot be known.
pub fn printf(args: &[(Field, Range)], span: Span) -> Option<Text> {
    let mut args = args;
    if args.first().is_some_and(|(f, _)| f.text.text == "--") {
        args = &args[1..];
    }
    let ((format, _), mut rest) = args.split_first()?;
    if format.text.text.starts_with('-') && format.text.text.len() > 1 {
        return None;
    }
    let mut out = Text::default();
    loop {
        let before = rest.len();
        if run_format(&format.text, &mut rest, span, &mut out)? {
            break;
        }
        if rest.is_empty() || rest.len() == before {
            break;
        }
    }
    Some(out)
}

/// One pass over the format; `Some(true)` when `\c` stopped output.
fn run_format(
    fmt: &Text,
    args: &mut &[(Field, Range)],
    span: Span,
    out: &mut Text,
) -> Option<bool> {
    let s = &fmt.text;
    let b = s.as_bytes();
    let mut run = 0;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\\' => {
                slice_into(fmt, run, i, out);
                let rest = &s[i + 1..];
                let (text, len) = match rest.chars().next() {
                    Some('c') => return Some(true),
                    Some(d @ '0'..='7') => {
                        let n: String =
                            rest.chars().take(3).take_while(|c| c.is_digit(8)).collect();
                        let _ = d;
                        let v = u32::from_str_radix(&n, 8).unwrap_or(0) & 0xff;
                        (char::from_u32(v).unwrap_or('\0').to_string(), n.len())
                    }
                    Some(_) => super::parse::ansi_escape(rest),
                    None => ("\\".into(), 0),
                };
                out.push(&text, fmt.span_of(i, i + 1 + len).unwrap_or(span), false);
                i += 1 + len;
                run = i;
            }
            b'%' => {
                slice_into(fmt, run, i, out);
                let start = i;
                i += 1;
                if b.get(i) == Some(&b'%') {
                    out.push("%", fmt.span_of(start, i + 1).unwrap_or(span), false);
                    i += 1;
                    run = i;
                    continue;
                }
                let flags_start = i;
                while i < b.len() && b"-+ #0".contains(&b[i]) {
                    i += 1;
                }
                let flags = &s[flags_start..i];
                let w_start = i;
                while i < b.len() && b[i].is_ascii_digit() {
                    i += 1;
                }
                let width: usize = s[w_start..i].parse().unwrap_or(0).min(4096);
                let mut precision = None;
                if b.get(i) == Some(&b'.') {
                    i += 1;
                    let p_start = i;
                    while i < b.len() && b[i].is_ascii_digit() {
                        i += 1;
                    }
                    precision = Some(s[p_start..i].parse::<usize>().unwrap_or(0).min(4096));
                }
                let conv = *b.get(i)?;
                i += 1;
                run = i;
                let arg = args.split_first().map(|(a, tail)| {
                    *args = tail;
                    &a.0
                });
                conversion(conv, flags, width, precision, arg, span, out)?;
            }
            _ => i += 1,
        }
    }
    slice_into(fmt, run, b.len(), out);
    Some(false)
}

fn conversion(
    conv: u8,
    flags: &str,
    width: usize,
    precision: Option<usize>,
    arg: Option<&Field>,
    span: Span,
    out: &mut Text,
) -> Option<()> {
    let arg_span = arg.map_or(span, |a| whole_span(&a.text, span));
    let text = arg.map_or("", |a| a.text.text.as_str());
    let left = flags.contains('-');
    let pad = |s: String, zero: bool| -> String {
        let len = s.chars().count();
        if len >= width {
            return s;
        }
        let fill = width - len;
        if left {
            format!("{s}{}", " ".repeat(fill))
        } else if zero {
            let (sign, digits) = s.strip_prefix('-').map_or(("", s.as_str()), |d| ("-", d));
            format!("{sign}{}{digits}", "0".repeat(fill))
        } else {
            format!("{}{s}", " ".repeat(fill))
        }
    };
    match conv {
        b's' => {
            let cut: String = match precision {
                Some(p) => text.chars().take(p).collect(),
                None => text.to_owned(),
            };
            if width == 0 && precision.is_none() {
                if let Some(a) = arg {
                    slice_into(&a.text, 0, a.text.text.len(), out);
                }
            } else {
                out.push(&pad(cut, false), arg_span, false);
            }
        }
        b'b' => {
            if let Some(a) = arg {
                if escapes(&a.text, arg_span, out) {
                    return Some(());
                }
            }
        }
        b'c' => {
            if let Some(c) = text.chars().next() {
                out.push(&pad(c.to_string(), false), arg_span, false);
            }
        }
        b'd' | b'i' | b'u' | b'x' | b'X' | b'o' if text.contains(crate::scripts::UNKNOWN) => {
            out.push(&crate::scripts::UNKNOWN.to_string(), arg_span, false);
        }
        b'd' | b'i' | b'u' | b'x' | b'X' | b'o' => {
            let t = text.trim();
            let v: i64 = if t.is_empty() {
                0
            } else if let Some(c) = t.strip_prefix(['\'', '"']) {
                c.chars().next().map_or(0, |c| c as i64)
            } else if let Some(h) = t.strip_prefix("0x").or(t.strip_prefix("0X")) {
                i64::from_str_radix(h, 16).ok()?
            } else {
                t.parse().ok()?
            };
            let s = match conv {
                b'x' => format!("{v:x}"),
                b'X' => format!("{v:X}"),
                b'o' => format!("{v:o}"),
                b'u' => format!("{}", v as u64),
                _ if flags.contains('+') && v >= 0 => format!("+{v}"),
                _ => v.to_string(),
            };
            out.push(&pad(s, flags.contains('0')), arg_span, false);
        }
        _ => return None,
    }
    Some(())
}

/// An argument of a command and the word it came from.
pub type Operand = (Field, Range);

/// `sed -i … FILES`: the edits, in order, and the files; `None` when it is not an
/// in-place edit or its script is not known.
pub fn sed_in_place(args: &[(Field, Range)], file: FileId) -> Option<(Vec<SedEdit>, Vec<Operand>)> {
    let mut in_place = false;
    let mut scripts: Vec<&Field> = Vec::new();
    let mut operands: Vec<&(Field, Range)> = Vec::new();
    let mut i = 0;
    let mut options = true;
    while let Some(arg) = args.get(i) {
        i += 1;
        let t = arg.0.text.text.as_str();
        if !options || !t.starts_with('-') || t == "-" {
            operands.push(arg);
            continue;
        }
        if t == "--" {
            options = false;
        } else if let Some(long) = t.strip_prefix("--") {
            if long == "in-place" || long.starts_with("in-place=") {
                in_place = true;
            } else if long.starts_with("expression=") {
                scripts.push(&arg.0);
            } else if long == "expression" {
                scripts.push(&args.get(i)?.0);
                i += 1;
            } else if long == "file" || long.starts_with("file=") {
                return None;
            }
        } else {
            for (k, c) in t[1..].char_indices() {
                match c {
                    // The rest of the word is the backup suffix.
                    'i' => {
                        in_place = true;
                        break;
                    }
                    'e' => {
                        if k + 2 < t.len() {
                            // `-es/a/b/`: not separable as a Field slice; unknown.
                            return None;
                        }
                        scripts.push(&args.get(i)?.0);
                        i += 1;
                        break;
                    }
                    'f' => return None,
                    'l' => break,
                    _ => {}
                }
            }
        }
    }
    if !in_place {
        return None;
    }
    if scripts.is_empty() {
        let (first, rest) = operands.split_first()?;
        scripts.push(&first.0);
        operands = rest.to_vec();
    }
    let mut edits = Vec::new();
    for s in scripts {
        // A value only the run knows (`s/X/$ADDR/`) stays marked in the text:
        // the edit is followed and what it writes is unknown.
        if s.unknown.is_some() && !s.text.text.contains(UNKNOWN) {
            return None;
        }
        let text = s.text.text.as_str();
        let text = text.strip_prefix("--expression=").unwrap_or(text);
        let offset = s.text.text.len() - text.len();
        let fallback = s
            .text
            .span_of(0, s.text.text.len())
            .unwrap_or(Span::new(file, 0, 0));
        for (start, end, mut edit) in sed_script(text)? {
            edit.span = s
                .text
                .span_of(offset + start, offset + end)
                .unwrap_or(fallback);
            edit.unknown = s.unknown.clone();
            edits.push(edit);
        }
    }
    Some((edits, operands.into_iter().cloned().collect()))
}

/// The commands of a sed script, with their byte ranges in it.
fn sed_script(s: &str) -> Option<Vec<(usize, usize, SedEdit)>> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        while i < b.len() && (b[i].is_ascii_whitespace() || b[i] == b';' || b[i] == b'}') {
            i += 1;
        }
        if i >= b.len() {
            break;
        }
        if b[i] == b'#' {
            i = s[i..].find('\n').map_or(b.len(), |n| i + n);
            continue;
        }
        let start = i;
        let addr_start = i;
        i = address(s, i)?;
        if b.get(i) == Some(&b',') {
            i = address(s, i + 1)?;
        }
        let address_text = (i > addr_start).then(|| s[addr_start..i].trim().to_owned());
        while b
            .get(i)
            .is_some_and(|c| c.is_ascii_whitespace() || *c == b'!')
        {
            i += 1;
        }
        let command = s[i..].chars().next()?;
        i += command.len_utf8();
        let mut edit = SedEdit {
            command,
            address: address_text,
            pattern: None,
            replacement: None,
            flags: String::new(),
            span: Span::new(FileId(0), 0, 0),
            unknown: None,
        };
        match command {
            's' | 'y' => {
                let delim = s[i..].chars().next()?;
                if delim == '\\' || delim == '\n' {
                    return None;
                }
                i += delim.len_utf8();
                let (pattern, next) = delimited(s, i, delim)?;
                let (replacement, next) = delimited(s, next, delim)?;
                i = next;
                let flags_start = i;
                while i < b.len() && !matches!(b[i], b';' | b'\n' | b'}') {
                    if matches!(b[i], b'w') {
                        i = s[i..].find('\n').map_or(b.len(), |n| i + n);
                        break;
                    }
                    i += 1;
                }
                edit.pattern = Some(pattern);
                edit.replacement = Some(replacement);
                edit.flags = s[flags_start..i].trim().to_owned();
            }
            'a' | 'i' | 'c' => {
                let mut t = s[i..].trim_start_matches([' ', '\t']);
                if let Some(rest) = t.strip_prefix('\\') {
                    t = rest.strip_prefix('\n').unwrap_or(rest);
                }
                let from = s.len() - t.len();
                let end = s[from..].find('\n').map_or(b.len(), |n| from + n);
                edit.replacement = Some(s[from..end].to_owned());
                i = end;
            }
            'r' | 'R' | 'w' | 'W' | 'b' | 't' | 'T' | ':' | 'e' | 'l' | 'q' | 'Q' => {
                i = s[i..].find(['\n', ';']).map_or(b.len(), |n| i + n).max(i);
            }
            _ => {}
        }
        out.push((start, i, edit));
    }
    Some(out)
}

/// A sed address at `i` (`/re/`, `\cREc`, `12`, `$`): the offset after it.
fn address(s: &str, mut i: usize) -> Option<usize> {
    let b = s.as_bytes();
    match b.get(i) {
        Some(b'/') => Some(delimited(s, i + 1, '/')?.1),
        Some(b'\\') => {
            let d = s[i + 1..].chars().next()?;
            Some(delimited(s, i + 1 + d.len_utf8(), d)?.1)
        }
        Some(c) if c.is_ascii_digit() => {
            while b.get(i).is_some_and(|c| c.is_ascii_digit() || *c == b'~') {
                i += 1;
            }
            Some(i)
        }
        Some(b'$') => Some(i + 1),
        _ => Some(i),
    }
}

/// Text up to an unescaped `delim`: (text with `\delim` unescaped, offset after).
fn delimited(s: &str, start: usize, delim: char) -> Option<(String, usize)> {
    let mut out = String::new();
    let mut chars = s[start..].char_indices();
    while let Some((k, c)) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some((_, d)) if d == delim => out.push(d),
                Some((_, 'n')) if delim != 'n' => out.push_str("\\n"),
                Some((_, d)) => {
                    out.push('\\');
                    out.push(d);
                }
                None => return None,
            }
            continue;
        }
        if c == delim {
            return Some((out, start + k + c.len_utf8()));
        }
        out.push(c);
    }
    None
}
