//! cmd's expansions: phase 1 (`%var%`, `%%`, `%1`, `%~dp0`, `%var:a=b%`,
//! `%var:~n,m%`) when a line is read, FOR variables (`%x`, `%~x`) and delayed
//! `!var!` when a command runs.

use super::cells::{Cell, Cells, from_str};
use crate::scripts::UNKNOWN;

/// What a name stands for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Lookup {
    Known(String),
    /// Known not to be set (`set v=` ran): expands to nothing.
    Undefined,
    /// From the environment the script runs in.
    Unknown,
}

/// The variables and arguments a line is expanded with.
pub trait Scope {
    fn var(&self, name: &str) -> Lookup;
    /// `%0`-`%9`.
    fn arg(&self, n: usize) -> Lookup;
    /// `%*`.
    fn all_args(&self) -> Lookup;
}

/// Phase 1 on one physical line.
pub fn percent(line: &[Cell], scope: &dyn Scope) -> Cells {
    let mut out = Vec::with_capacity(line.len());
    let mut i = 0;
    while let Some(&c) = line.get(i) {
        if c.c != '%' {
            out.push(c);
            i += 1;
            continue;
        }
        let Some(next) = line.get(i + 1) else {
            break;
        };
        let span = |j: usize| (c.at.0, line.get(j).map_or(c.at.1, |e| e.at.1));
        if next.c == '%' {
            out.push(Cell::new('%', span(i + 1)));
            i += 2;
        } else if let Some(n) = next.c.to_digit(10) {
            push_lookup(&mut out, scope.arg(n as usize), span(i + 1));
            i += 2;
        } else if next.c == '*' {
            push_lookup(&mut out, scope.all_args(), span(i + 1));
            i += 2;
        } else if let Some((end, modifiers)) = tilde_arg(line, i) {
            let value = match line.get(end).and_then(|d| d.c.to_digit(10)) {
                Some(n) if modifiers.is_empty() => unquote(scope.arg(n as usize)),
                _ => Lookup::Unknown,
            };
            push_lookup(&mut out, value, span(end));
            i = end + 1;
        } else if let Some(close) = find(line, i + 1, '%') {
            let reference: String = line[i + 1..close].iter().map(|c| c.c).collect();
            push_lookup(&mut out, variable(&reference, scope), span(close));
            i = close + 1;
        } else {
            // A lone `%` is dropped with nothing else.
            i += 1;
        }
    }
    out
}

fn find(line: &[Cell], from: usize, c: char) -> Option<usize> {
    line.get(from..)?
        .iter()
        .position(|x| x.c == c)
        .map(|p| p + from)
}

fn push_lookup(out: &mut Cells, value: Lookup, at: (u32, u32)) {
    match value {
        Lookup::Known(v) => out.extend(from_str(&v, at)),
        Lookup::Undefined => {}
        Lookup::Unknown => out.push(Cell::new(UNKNOWN, at)),
    }
}

fn unquote(value: Lookup) -> Lookup {
    match value {
        Lookup::Known(v) => {
            let v = v.strip_prefix('"').unwrap_or(&v);
            Lookup::Known(v.strip_suffix('"').unwrap_or(v).to_owned())
        }
        other => other,
    }
}

/// `%~dp0`, `%~nx1`, `%~1`: the index of the digit and the modifiers.
fn tilde_arg(line: &[Cell], i: usize) -> Option<(usize, String)> {
    if line.get(i + 1)?.c != '~' {
        return None;
    }
    let mut j = i + 2;
    let mut modifiers = String::new();
    while let Some(c) = line
        .get(j)
        .filter(|c| c.c.is_ascii_alphabetic() || c.c == '$')
    {
        modifiers.push(c.c);
        j += 1;
    }
    line.get(j)
        .filter(|c| c.c.is_ascii_digit())
        .map(|_| (j, modifiers))
}

/// `name`, `name:a=b`, `name:*a=b`, `name:~n,m`.
fn variable(reference: &str, scope: &dyn Scope) -> Lookup {
    let (name, edit) = match reference.split_once(':') {
        Some((n, e)) => (n, Some(e)),
        None => (reference, None),
    };
    let value = lookup_name(name, scope);
    let Some(edit) = edit else { return value };
    match value {
        Lookup::Known(v) => edited(&v, edit).map_or(Lookup::Unknown, Lookup::Known),
        // cmd leaves an edit of an undefined variable as written.
        Lookup::Undefined => Lookup::Known(format!("{name}:{edit}")),
        Lookup::Unknown => Lookup::Unknown,
    }
}

/// A name with blanks is never an environment variable (`50% off and 20%`).
pub fn lookup_name(name: &str, scope: &dyn Scope) -> Lookup {
    if name.is_empty() || name.contains([' ', '\t']) {
        return Lookup::Undefined;
    }
    scope.var(name)
}

fn edited(value: &str, edit: &str) -> Option<String> {
    if let Some(range) = edit.strip_prefix('~') {
        return Some(substring(value, range));
    }
    let (from, to) = edit.split_once('=')?;
    if from.is_empty() {
        return Some(value.to_owned());
    }
    if value.contains(UNKNOWN) {
        return None;
    }
    Some(match from.strip_prefix('*') {
        Some(first) => replace_through_first(value, first, to),
        None => replace_all_ignore_case(value, from, to),
    })
}

/// `%v:~n,m%`: negative `n` counts from the end, negative `m` drops from the end.
fn substring(value: &str, range: &str) -> String {
    let chars: Vec<char> = value.chars().collect();
    let len = chars.len() as i64;
    let (start, count) = match range.split_once(',') {
        Some((s, c)) => (atoi(s), Some(atoi(c))),
        None => (atoi(range), None),
    };
    let start = if start < 0 {
        (len + start).max(0)
    } else {
        start.min(len)
    };
    let end = match count {
        None => len,
        Some(c) if c < 0 => (len + c).max(start),
        Some(c) => (start + c).min(len),
    };
    chars[start as usize..end.max(start) as usize]
        .iter()
        .collect()
}

/// C `atoi` on a 32-bit int: leading blanks, a sign, digits; saturates.
pub fn atoi(text: &str) -> i64 {
    let t = text.trim_start();
    let (sign, digits) = match t.strip_prefix('-') {
        Some(rest) => (-1, rest),
        None => (1, t.strip_prefix('+').unwrap_or(t)),
    };
    let mut n: i64 = 0;
    for d in digits.chars().map_while(|c| c.to_digit(10)) {
        n = (n * 10 + i64::from(d)).min(i64::from(i32::MAX) + 1);
    }
    (sign * n).clamp(i64::from(i32::MIN), i64::from(i32::MAX))
}

fn replace_all_ignore_case(value: &str, from: &str, to: &str) -> String {
    // ASCII case folding keeps every byte where it is.
    let lower = value.to_ascii_lowercase();
    let needle = from.to_ascii_lowercase();
    let mut out = String::new();
    let mut i = 0;
    while let Some(p) = lower.get(i..).and_then(|t| t.find(&needle)) {
        out.push_str(&value[i..i + p]);
        out.push_str(to);
        i += p + needle.len();
    }
    out.push_str(&value[i..]);
    out
}

fn replace_through_first(value: &str, first: &str, to: &str) -> String {
    let lower = value.to_ascii_lowercase();
    match lower.find(&first.to_ascii_lowercase()) {
        Some(p) => format!("{to}{}", value.get(p + first.len()..).unwrap_or("")),
        None => value.to_owned(),
    }
}

/// A FOR variable's value in one iteration; `None` when not known here.
#[derive(Clone, Debug)]
pub struct ForValue {
    pub letter: char,
    pub value: Option<String>,
}

/// Phase 4: `%x` and `%~x` (other modifiers are unknown) for the FOR
/// variables in scope, innermost last.
pub fn for_variables(cells: &[Cell], vars: &[ForValue]) -> Cells {
    if vars.is_empty() {
        return cells.to_vec();
    }
    let mut out = Vec::with_capacity(cells.len());
    let mut i = 0;
    while let Some(&c) = cells.get(i) {
        if c.c == '%' {
            if let Some((end, value)) = for_reference(cells, i, vars) {
                let at = (c.at.0, cells.get(end).map_or(c.at.1, |e| e.at.1));
                match value {
                    Some(v) => out.extend(from_str(&v, at)),
                    None => out.push(Cell::new(UNKNOWN, at)),
                }
                i = end + 1;
                continue;
            }
        }
        out.push(c);
        i += 1;
    }
    out
}

fn for_reference(cells: &[Cell], i: usize, vars: &[ForValue]) -> Option<(usize, Option<String>)> {
    let find = |letter: char| vars.iter().rev().find(|v| v.letter == letter);
    let next = cells.get(i + 1)?.c;
    if next != '~' {
        return find(next).map(|v| (i + 1, v.value.clone()));
    }
    let mut j = i + 2;
    let mut modifiers = String::new();
    while let Some(c) = cells.get(j) {
        if find(c.c).is_some() && cells.get(j + 1).is_none_or(|n| find(n.c).is_none()) {
            let v = find(c.c)?;
            let value = match modifiers.is_empty() {
                true => v.value.as_deref().map(|s| {
                    let s = s.strip_prefix('"').unwrap_or(s);
                    s.strip_suffix('"').unwrap_or(s).to_owned()
                }),
                false => None,
            };
            return Some((j, value));
        }
        if !c.c.is_ascii_alphabetic() && c.c != '$' {
            return None;
        }
        modifiers.push(c.c);
        j += 1;
    }
    None
}

/// Phase 5 (delayed expansion on): `!name!`, `!name:~n,m!`; with a `!` in
/// the command, `^` escapes once more.
pub fn delayed(cells: &[Cell], scope: &dyn Scope) -> Cells {
    if !cells.iter().any(|c| c.c == '!') {
        return cells.to_vec();
    }
    let mut out = Vec::with_capacity(cells.len());
    let mut i = 0;
    while let Some(&c) = cells.get(i) {
        match c.c {
            '^' => {
                if let Some(&n) = cells.get(i + 1) {
                    out.push(n);
                }
                i += 2;
            }
            '!' => match find(cells, i + 1, '!') {
                Some(close) => {
                    let reference: String = cells[i + 1..close].iter().map(|c| c.c).collect();
                    let at = (c.at.0, cells[close].at.1);
                    push_lookup(&mut out, variable(&reference, scope), at);
                    i = close + 1;
                }
                None => i += 1,
            },
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn substrings_and_replacements() {
        assert_eq!(substring("5001-5201", "0,4"), "5001");
        assert_eq!(substring("5001-5201", "-4"), "5201");
        assert_eq!(substring("abcdef", "1,-1"), "bcde");
        assert_eq!(substring("abc", "5"), "");
        assert_eq!(edited("a-b-c", "-=,").as_deref(), Some("a,b,c"));
        assert_eq!(edited("Hello", "*l=X").as_deref(), Some("Xlo"));
        assert_eq!(atoi("99999999999"), i64::from(i32::MAX));
        assert_eq!(atoi(" -12x"), -12);
    }
}
