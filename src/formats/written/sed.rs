//! A `sed -i` program applied to a file's text as GNU sed applies it: line by
//! line, every command in order on each line. Followed: `s` (basic regular
//! expressions, `&` and `\1`..`\9`, flags `g`, `N`, `I`), `d`, and the GNU
//! one-liner forms of `a`, `i` and `c`, each with no address, a line number,
//! `$`, `/re/` (`\%re%`, `I`), a range of those, and `!`. Anything else is
//! refused with what was not followed, so the file is said to be unknown.

use super::{Why, push_slice};
use crate::scripts::{SedEdit, Text, UNKNOWN};
use crate::source::Span;
use regex::Regex;

pub struct Program {
    commands: Vec<Command>,
}

struct Command {
    address: Address,
    action: Action,
    span: Span,
}

enum Action {
    Substitute(Substitute),
    Delete,
    Append(String),
    Insert(String),
    Change(String),
}

struct Substitute {
    regex: Regex,
    replacement: Vec<Part>,
    global: bool,
    /// Replace from the nth match on (1 = the first).
    nth: usize,
}

#[derive(Debug, PartialEq, Eq)]
enum Part {
    Literal(String),
    Group(usize),
}

#[derive(Default)]
struct Address {
    first: Option<Line>,
    last: Option<Line>,
    negated: bool,
}

enum Line {
    Number(usize),
    Last,
    Matches(Regex),
}

/// Where a line stands in the input, for addresses.
struct At<'a> {
    number: usize,
    last: bool,
    pattern: &'a str,
}

impl Line {
    fn matches(&self, at: &At) -> bool {
        match self {
            Line::Number(n) => *n == at.number,
            Line::Last => at.last,
            Line::Matches(re) => re.is_match(at.pattern),
        }
    }
}

impl Program {
    pub fn parse(edits: &[SedEdit]) -> Result<Program, String> {
        let commands = edits.iter().map(Command::parse).collect::<Result<_, _>>()?;
        Ok(Program { commands })
    }

    /// The text after the program ran over it; new text maps to the command
    /// that wrote it, lines left alone keep their origin.
    pub fn run(&self, input: &Text, max_bytes: usize) -> Result<Text, Why> {
        self.run_noting(input, max_bytes).map(|edited| edited.text)
    }

    /// [`Program::run`], with the lines that now hold a value only the run knows.
    pub fn run_noting(&self, input: &Text, max_bytes: usize) -> Result<Edited, Why> {
        let mut out = Text::default();
        let mut unknown = Vec::new();
        let mut replaced = Vec::new();
        let mut in_range = vec![false; self.commands.len()];
        let lines = line_ranges(&input.text);
        let count = lines.len();
        for (index, (start, end, newline)) in lines.into_iter().enumerate() {
            let line = input.text.get(start..end).unwrap_or("");
            let mut cycle = Cycle {
                pattern: line.to_owned(),
                changed: None,
                deleted: false,
                after: Vec::new(),
            };
            for (command, active) in self.commands.iter().zip(in_range.iter_mut()) {
                let at = At {
                    number: index + 1,
                    last: index + 1 == count,
                    pattern: &cycle.pattern,
                };
                let (selected, range_ends) = command.address.selects(&at, active);
                if selected && command.run(&mut cycle, &mut out, range_ends) {
                    break;
                }
            }
            if !cycle.deleted {
                match cycle.changed {
                    None => push_slice(&mut out, input, start, end + usize::from(newline)),
                    Some(span) => {
                        replaced.extend(input.span_of(start, end));
                        if cycle.pattern.contains(UNKNOWN) && !line.contains(UNKNOWN) {
                            unknown.push(UnknownLine {
                                was: input.span_of(start, end),
                                now: cycle.pattern.clone(),
                            });
                        }
                        let nl = if newline { "\n" } else { "" };
                        out.push(&format!("{}{nl}", cycle.pattern), span, false);
                    }
                }
            }
            for (text, span) in cycle.after {
                if !out.text.is_empty() && !out.text.ends_with('\n') {
                    out.push("\n", span, false);
                }
                out.push(&format!("{text}\n"), span, false);
            }
            if out.text.len() > max_bytes {
                return Err(Why::TooLarge);
            }
        }
        Ok(Edited {
            text: out,
            unknown,
            replaced,
        })
    }
}

/// What a program leaves.
pub struct Edited {
    pub text: Text,
    /// Lines an edit gave a value only the run knows.
    pub unknown: Vec<UnknownLine>,
    /// Where the lines an `s` command changed were before it.
    pub replaced: Vec<Span>,
}

/// A line an edit gave a value only the run knows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownLine {
    /// Where the line was before the edit, when it came from a file.
    pub was: Option<Span>,
    /// The line after it, [`UNKNOWN`] marking the value.
    pub now: String,
}

/// `(start, end, has newline)` of each line, as sed reads them.
fn line_ranges(text: &str) -> Vec<(usize, usize, bool)> {
    let mut out = Vec::new();
    let mut start = 0;
    while start < text.len() {
        match text[start..].find('\n') {
            Some(i) => {
                out.push((start, start + i, true));
                start += i + 1;
            }
            None => {
                out.push((start, text.len(), false));
                start = text.len();
            }
        }
    }
    out
}

struct Cycle {
    pattern: String,
    /// The command that last changed the line.
    changed: Option<Span>,
    deleted: bool,
    /// `a` text, written after the line.
    after: Vec<(String, Span)>,
}

impl Command {
    fn parse(edit: &SedEdit) -> Result<Command, String> {
        if let Some(part) = run_time_part(edit) {
            let value = edit.unknown.as_deref().unwrap_or("a value");
            return Err(format!(
                "{part} holding {value}, known only when the script runs"
            ));
        }
        let address = match edit.address.as_deref().map(str::trim) {
            None | Some("") => Address::default(),
            Some(a) => Address::parse(a)?,
        };
        let text = || {
            edit.replacement
                .as_deref()
                .or(edit.pattern.as_deref())
                .map(one_liner_text)
                .ok_or_else(|| format!("`{}` without text", edit.command))
        };
        let action = match edit.command {
            's' => Action::Substitute(Substitute::parse(edit)?),
            'd' => Action::Delete,
            'a' => Action::Append(text()?),
            'i' => Action::Insert(text()?),
            'c' => Action::Change(text()?),
            other => return Err(format!("the `{other}` command")),
        };
        Ok(Command {
            address,
            action,
            span: edit.span,
        })
    }

    /// Run on the line; `true` ends the cycle (the line is gone).
    fn run(&self, cycle: &mut Cycle, out: &mut Text, range_ends: bool) -> bool {
        match &self.action {
            Action::Substitute(s) => {
                if let Some(new) = s.apply(&cycle.pattern) {
                    cycle.pattern = new;
                    cycle.changed = Some(self.span);
                }
                false
            }
            Action::Delete => {
                cycle.deleted = true;
                true
            }
            Action::Append(text) => {
                cycle.after.push((text.clone(), self.span));
                false
            }
            Action::Insert(text) => {
                if !out.text.is_empty() && !out.text.ends_with('\n') {
                    out.push("\n", self.span, false);
                }
                out.push(&format!("{text}\n"), self.span, false);
                false
            }
            Action::Change(text) => {
                cycle.deleted = true;
                // With a range, GNU sed writes the text once, at its end.
                if range_ends {
                    out.push(&format!("{text}\n"), self.span, false);
                }
                true
            }
        }
    }
}

/// The part of the command that decides which lines change, when the script
/// leaves it unknown (the text it writes may be unknown: it is written so).
fn run_time_part(edit: &SedEdit) -> Option<&'static str> {
    let unknown = |t: &Option<String>| t.as_deref().is_some_and(|t| t.contains(UNKNOWN));
    if edit.command == UNKNOWN {
        Some("a sed program")
    } else if unknown(&edit.address) || (edit.command == 's' && unknown(&edit.pattern)) {
        Some("a regex")
    } else if edit.flags.contains(UNKNOWN) {
        Some("the flags")
    } else {
        None
    }
}

/// The text of `a text`, `i text`, `c text` as the interpreter took it (after
/// the blanks that follow the letter, or after `a\`): `\t` is a tab, `\n` a
/// new line, and `\` before any other character is dropped.
fn one_liner_text(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('t') => out.push('\t'),
                Some('n') => out.push('\n'),
                Some(other) => out.push(other),
                None => {}
            },
            c => out.push(c),
        }
    }
    out
}

impl Address {
    fn parse(text: &str) -> Result<Address, String> {
        let (text, negated) = match text.strip_suffix('!') {
            Some(rest) => (rest.trim_end(), true),
            None => (text, false),
        };
        let (first, rest) = parse_line(text)?;
        let rest = rest.trim_start();
        let last = match rest.strip_prefix(',') {
            Some(second) => {
                let (line, tail) = parse_line(second.trim_start())?;
                if !tail.trim().is_empty() {
                    return Err(format!("the address `{text}`"));
                }
                Some(line)
            }
            None if rest.trim().is_empty() => None,
            None => return Err(format!("the address `{text}`")),
        };
        Ok(Address {
            first: Some(first),
            last,
            negated,
        })
    }

    /// Whether the line is selected, and whether a range ends on it.
    fn selects(&self, at: &At, active: &mut bool) -> (bool, bool) {
        let (hit, ends) = match (&self.first, &self.last) {
            (None, _) => (true, true),
            (Some(first), None) => (first.matches(at), true),
            (Some(first), Some(last)) => range(first, last, at, active),
        };
        (hit != self.negated, ends)
    }
}

/// GNU range semantics: the second address is looked for from the line after
/// the first; a line number not above the first line selects that line only.
fn range(first: &Line, last: &Line, at: &At, active: &mut bool) -> (bool, bool) {
    if *active {
        let ends = match last {
            Line::Number(n) => at.number >= *n,
            other => other.matches(at),
        };
        *active = !ends;
        return (true, ends);
    }
    if !first.matches(at) {
        return (false, false);
    }
    let ends = match last {
        Line::Number(n) => *n <= at.number,
        Line::Last => at.last,
        Line::Matches(_) => false,
    };
    *active = !ends;
    (true, ends)
}

/// One address and what follows it.
fn parse_line(text: &str) -> Result<(Line, &str), String> {
    let digits = text.bytes().take_while(u8::is_ascii_digit).count();
    if digits > 0 {
        let n: usize = text[..digits]
            .parse()
            .map_err(|_| format!("the address `{text}`"))?;
        if n == 0 {
            return Err(format!("the address `{text}`"));
        }
        return Ok((Line::Number(n), &text[digits..]));
    }
    if let Some(rest) = text.strip_prefix('$') {
        return Ok((Line::Last, rest));
    }
    let (delimiter, body) = match text.strip_prefix('\\') {
        Some(rest) => {
            let d = rest
                .chars()
                .next()
                .ok_or_else(|| format!("the address `{text}`"))?;
            (d, &rest[d.len_utf8()..])
        }
        None if text.starts_with('/') => ('/', &text[1..]),
        None => return Err(format!("the address `{text}`")),
    };
    let end = closing(body, delimiter).ok_or_else(|| format!("the address `{text}`"))?;
    let pattern = unescape_delimiter(&body[..end], delimiter);
    let mut rest = &body[end + delimiter.len_utf8()..];
    let mut icase = false;
    if let Some(r) = rest.strip_prefix('I') {
        icase = true;
        rest = r;
    }
    Ok((Line::Matches(compile(&pattern, icase)?), rest))
}

/// Byte index of the first unescaped `delimiter` in `body`.
fn closing(body: &str, delimiter: char) -> Option<usize> {
    let mut escaped = false;
    for (i, c) in body.char_indices() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == delimiter {
            return Some(i);
        }
    }
    None
}

/// `\%` with `%` as delimiter is a plain `%`.
fn unescape_delimiter(pattern: &str, delimiter: char) -> String {
    if delimiter == '/' {
        return pattern.to_owned();
    }
    pattern.replace(&format!("\\{delimiter}"), &delimiter.to_string())
}

fn compile(bre: &str, icase: bool) -> Result<Regex, String> {
    let translated = bre_to_regex(bre)?;
    let flags = if icase { "(?si)" } else { "(?s)" };
    Regex::new(&format!("{flags}{translated}"))
        .map_err(|_| format!("the regular expression `{bre}`"))
}

impl Substitute {
    fn parse(edit: &SedEdit) -> Result<Substitute, String> {
        let pattern = edit.pattern.as_deref().unwrap_or("");
        if pattern.is_empty() {
            return Err("an empty regular expression (the last one used)".to_owned());
        }
        let (mut global, mut icase, mut nth) = (false, false, None::<usize>);
        let mut digits = String::new();
        for c in edit.flags.chars() {
            match c {
                'g' => global = true,
                'I' | 'i' => icase = true,
                '0'..='9' => digits.push(c),
                ' ' | '\t' => {}
                other => return Err(format!("the `{other}` flag of `s`")),
            }
        }
        if !digits.is_empty() {
            nth = Some(
                digits
                    .parse()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| format!("the `{digits}` flag of `s`"))?,
            );
        }
        let regex = compile(pattern, icase)?;
        let replacement = parse_replacement(edit.replacement.as_deref().unwrap_or(""))?;
        let groups = regex.captures_len() - 1;
        if let Some(g) = replacement.iter().find_map(|p| match p {
            Part::Group(g) if *g > groups => Some(*g),
            _ => None,
        }) {
            return Err(format!("`\\{g}` with {groups} groups in the expression"));
        }
        Ok(Substitute {
            regex,
            replacement,
            global,
            nth: nth.unwrap_or(1),
        })
    }

    /// The line after substitution, `None` when nothing matched.
    fn apply(&self, line: &str) -> Option<String> {
        let mut out = String::with_capacity(line.len());
        let (mut copied, mut at, mut count, mut replaced) = (0, 0, 0, false);
        let mut previous_end: Option<usize> = None;
        while at <= line.len() {
            let Some(caps) = self.regex.captures_at(line, at) else {
                break;
            };
            let Some(m) = caps.get(0) else {
                break;
            };
            // An empty match right after a match is not a match (GNU sed, POSIX).
            if m.is_empty() && previous_end == Some(m.start()) {
                at = next_char(line, m.start());
                continue;
            }
            count += 1;
            if count >= self.nth {
                out.push_str(&line[copied..m.start()]);
                self.expand(&caps, &mut out);
                copied = m.end();
                replaced = true;
                if !self.global {
                    break;
                }
            }
            previous_end = Some(m.end());
            at = if m.is_empty() {
                next_char(line, m.end())
            } else {
                m.end()
            };
        }
        if !replaced {
            return None;
        }
        out.push_str(&line[copied..]);
        Some(out)
    }

    fn expand(&self, caps: &regex::Captures, out: &mut String) {
        for part in &self.replacement {
            match part {
                Part::Literal(s) => out.push_str(s),
                Part::Group(g) => out.push_str(caps.get(*g).map_or("", |m| m.as_str())),
            }
        }
    }
}

fn next_char(line: &str, at: usize) -> usize {
    line.get(at..)
        .and_then(|rest| rest.chars().next())
        .map_or(line.len() + 1, |c| at + c.len_utf8())
}

fn parse_replacement(raw: &str) -> Result<Vec<Part>, String> {
    let mut parts = Vec::new();
    let mut literal = String::new();
    let mut chars = raw.chars();
    let flush = |literal: &mut String, parts: &mut Vec<Part>| {
        if !literal.is_empty() {
            parts.push(Part::Literal(std::mem::take(literal)));
        }
    };
    while let Some(c) = chars.next() {
        match c {
            '&' => {
                flush(&mut literal, &mut parts);
                parts.push(Part::Group(0));
            }
            '\\' => match chars.next() {
                Some(d @ '0'..='9') => {
                    flush(&mut literal, &mut parts);
                    parts.push(Part::Group(d as usize - '0' as usize));
                }
                Some('n') => literal.push('\n'),
                Some('t') => literal.push('\t'),
                Some(case @ ('L' | 'U' | 'l' | 'u' | 'E')) => {
                    return Err(format!("the case conversion `\\{case}`"));
                }
                Some(other) => literal.push(other),
                None => {}
            },
            c => literal.push(c),
        }
    }
    flush(&mut literal, &mut parts);
    Ok(parts)
}

/// A POSIX basic regular expression, with GNU's extensions `\+`, `\?`, `\n`,
/// `\t`, `\w`, `\s`, `\b`, `\<`, `\>`, as a `regex` crate pattern. Refused:
/// back-references and `\|` (the crate has neither back-references nor POSIX's
/// longest-match alternation).
pub fn bre_to_regex(bre: &str) -> Result<String, String> {
    let refuse = || format!("the regular expression `{bre}`");
    let chars: Vec<char> = bre.chars().collect();
    let mut out = String::with_capacity(bre.len() * 2);
    // Whether an atom precedes, so `*` repeats it rather than standing for itself.
    let mut atom = false;
    // Whether the last thing written repeats an atom (`a**` is refused).
    let mut repeated = false;
    // At the start of the expression or of a group, where `^` anchors.
    let mut at_start = true;
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        i += 1;
        let starts = std::mem::replace(&mut at_start, false);
        let was_repeated = std::mem::replace(&mut repeated, false);
        match c {
            '^' if starts => {
                out.push('^');
                atom = false;
                continue;
            }
            '$' if i == chars.len() || chars.get(i..i + 2) == Some(&['\\', ')']) => {
                out.push('$');
            }
            '*' if atom => {
                if was_repeated {
                    return Err(refuse());
                }
                out.push('*');
                repeated = true;
                continue;
            }
            '.' => out.push('.'),
            '[' => {
                i = bracket(&chars, i, &mut out).ok_or_else(refuse)?;
            }
            '\\' => {
                let Some(&e) = chars.get(i) else {
                    return Err(refuse());
                };
                i += 1;
                match e {
                    '(' => {
                        out.push('(');
                        atom = false;
                        at_start = true;
                        continue;
                    }
                    ')' => out.push(')'),
                    '{' => {
                        if !atom || was_repeated {
                            return Err(refuse());
                        }
                        let close = (i..chars.len())
                            .find(|&j| chars.get(j..j + 2) == Some(&['\\', '}']))
                            .ok_or_else(refuse)?;
                        let body: String = chars.get(i..close).unwrap_or(&[]).iter().collect();
                        if body.is_empty()
                            || !body.chars().all(|c| c.is_ascii_digit() || c == ',')
                            || body.matches(',').count() > 1
                        {
                            return Err(refuse());
                        }
                        let body = if body.starts_with(',') {
                            format!("0{body}")
                        } else {
                            body
                        };
                        out.push('{');
                        out.push_str(&body);
                        out.push('}');
                        i = close + 2;
                        repeated = true;
                        continue;
                    }
                    '+' | '?' if atom => {
                        if was_repeated {
                            return Err(refuse());
                        }
                        out.push(e);
                        repeated = true;
                        continue;
                    }
                    'n' => out.push_str("\\n"),
                    't' => out.push_str("\\t"),
                    'w' | 'W' | 's' | 'S' | 'b' | 'B' => {
                        out.push('\\');
                        out.push(e);
                    }
                    '<' => out.push_str("\\b{start}"),
                    '>' => out.push_str("\\b{end}"),
                    '`' => out.push_str("\\A"),
                    '\'' => out.push_str("\\z"),
                    '|' | '1'..='9' => return Err(refuse()),
                    e if e.is_ascii_alphanumeric() => return Err(refuse()),
                    e => push_literal(&mut out, e),
                }
            }
            c => push_literal(&mut out, c),
        }
        atom = true;
    }
    Ok(out)
}

fn push_literal(out: &mut String, c: char) {
    let mut buf = [0; 4];
    out.push_str(&regex::escape(c.encode_utf8(&mut buf)));
}

/// Translate the bracket expression starting after `[` at `i`; returns the
/// index after its `]`. Inside, `\n` and `\t` are GNU's escapes and any other
/// backslash stands for itself.
fn bracket(chars: &[char], mut i: usize, out: &mut String) -> Option<usize> {
    out.push('[');
    if chars.get(i) == Some(&'^') {
        out.push('^');
        i += 1;
    }
    let start = i;
    loop {
        let c = *chars.get(i)?;
        i += 1;
        match c {
            ']' if i - 1 > start => {
                out.push(']');
                return Some(i);
            }
            '[' if matches!(chars.get(i), Some(':')) => {
                let close =
                    (i + 1..chars.len()).find(|&j| chars.get(j..j + 2) == Some(&[':', ']']))?;
                let name: String = chars.get(i + 1..close)?.iter().collect();
                if !name.chars().all(|c| c.is_ascii_lowercase()) {
                    return None;
                }
                out.push_str(&format!("[:{name}:]"));
                i = close + 2;
            }
            '[' if matches!(chars.get(i), Some('.' | '=')) => return None,
            '-' if i - 1 > start && chars.get(i) != Some(&']') => out.push('-'),
            '\\' => match chars.get(i) {
                Some('n') => {
                    out.push_str("\\n");
                    i += 1;
                }
                Some('t') => {
                    out.push_str("\\t");
                    i += 1;
                }
                Some('\\') => {
                    out.push_str("\\\\");
                    i += 1;
                }
                _ => out.push_str("\\\\"),
            },
            c => {
                if matches!(c, '[' | ']' | '-' | '^' | '&' | '~' | '|') {
                    out.push('\\');
                }
                out.push(c);
            }
        }
    }
}
