//! Batch files as cmd reads them: `^` line continuation, `%var%` expansion
//! when a line is read (`%%` for a literal `%`), `&`/`&&`/`||`/`|` sequences,
//! `set`, `setlocal`/`endlocal`, delayed `!var!`, `rem`/`::` comments, `if`
//! (its command is assumed to run) and `FOR` loops, whose variable stands for
//! the whole set of values (`FOR /L %%I IN (5001,1,5201)` is one port set,
//! never 201 commands). Unresolvable variables are unknown, never errors.

use super::commands::{self, Site};
use super::{Arg, Effects, LoopValues, Loops, RULE_FOR_SINGLE_PERCENT, UNKNOWN};
use crate::source::{SourceFile, Span};
use std::collections::HashMap;

/// One character of a logical line and the source bytes it came from.
#[derive(Clone, Copy, Debug)]
struct Cell {
    c: char,
    at: (u32, u32),
}

type Cells = Vec<Cell>;

fn text(cells: &[Cell]) -> String {
    cells.iter().map(|c| c.c).collect()
}

const MAX_DEPTH: usize = 16;

struct State<'a> {
    source: &'a SourceFile,
    env: Vec<HashMap<String, String>>,
    delayed: Vec<bool>,
    loops: Loops,
}

impl State<'_> {
    fn span(&self, cells: &[Cell]) -> Span {
        match (cells.first(), cells.last()) {
            (Some(a), Some(b)) => self.source.span(a.at.0 as usize, b.at.1 as usize),
            _ => self.source.span(0, 0),
        }
    }

    fn var(&self, name: &str) -> Option<&String> {
        self.env.last()?.get(&name.to_ascii_lowercase())
    }
}

pub fn run(source: &SourceFile, fx: &mut Effects) {
    let mut st = State {
        source,
        env: vec![HashMap::new()],
        delayed: vec![false],
        loops: Loops::default(),
    };
    for line in logical_lines(&source.text) {
        if single_percent_for(&st, &line, fx) {
            continue;
        }
        let expanded = expand_percent(&st, &line);
        let trimmed = trim(&expanded);
        if trimmed.is_empty() {
            continue;
        }
        let span = st.span(trimmed);
        statement(&mut st, trimmed, span, false, 0, fx);
    }
}

/// Physical lines joined where a line ends with an unescaped `^` outside quotes.
fn logical_lines(text: &str) -> Vec<Cells> {
    let mut out = Vec::new();
    let mut current: Cells = Vec::new();
    let mut offset = 0usize;
    let mut block_lines = 0;
    for raw in text.split_inclusive('\n') {
        let line = raw.trim_end_matches(['\n', '\r']);
        let mut cells: Cells = line
            .char_indices()
            .map(|(i, c)| Cell {
                c,
                at: ((offset + i) as u32, (offset + i + c.len_utf8()) as u32),
            })
            .collect();
        offset += raw.len();
        let continues = ends_with_continuation(&cells);
        if continues {
            cells.pop();
        }
        current.extend(cells);
        if continues {
            continue;
        }
        // A `(` block spans lines: cmd reads (and expands) it as one statement.
        if open_parens(&current) > 0 && block_lines < MAX_BLOCK_LINES {
            block_lines += 1;
            let at = (offset as u32 - 1, offset as u32);
            current.push(Cell { c: '\n', at });
            continue;
        }
        block_lines = 0;
        out.push(std::mem::take(&mut current));
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

const MAX_BLOCK_LINES: usize = 500;

/// Unclosed `(` outside quotes (comment lines do not count).
fn open_parens(cells: &[Cell]) -> i64 {
    let mut depth: i64 = 0;
    let mut in_quote = false;
    for line in cells.split(|c| c.c == '\n') {
        let t = trim(line).strip_prefix_at();
        if starts_with_word(t, "rem") || text(t).starts_with("::") {
            continue;
        }
        for c in line {
            match c.c {
                '"' => in_quote = !in_quote,
                '(' if !in_quote => depth += 1,
                ')' if !in_quote => depth -= 1,
                _ => {}
            }
        }
        in_quote = false;
    }
    depth
}

fn ends_with_continuation(cells: &[Cell]) -> bool {
    let mut in_quote = false;
    let mut i = 0;
    while i < cells.len() {
        match cells[i].c {
            '"' => in_quote = !in_quote,
            '^' if !in_quote => {
                if i + 1 == cells.len() {
                    return true;
                }
                i += 1;
            }
            _ => {}
        }
        i += 1;
    }
    false
}

fn trim(cells: &[Cell]) -> &[Cell] {
    let start = cells
        .iter()
        .position(|c| !c.c.is_whitespace())
        .unwrap_or(cells.len());
    let end = cells
        .iter()
        .rposition(|c| !c.c.is_whitespace())
        .map_or(start, |e| e + 1);
    &cells[start..end.max(start)]
}

fn starts_with_word(cells: &[Cell], word: &str) -> bool {
    let n = word.chars().count();
    cells.len() >= n
        && cells
            .iter()
            .zip(word.chars())
            .all(|(c, w)| c.c.eq_ignore_ascii_case(&w))
        && cells
            .get(n)
            .is_none_or(|c| c.c.is_whitespace() || matches!(c.c, '(' | '"' | ',' | ';' | '='))
}

/// `FOR /L %I ...` typed into a batch file: cmd reads `%I IN (...) TCP %` as a
/// variable and rejects the line, so the loop never runs.
fn single_percent_for(st: &State, line: &[Cell], fx: &mut Effects) -> bool {
    let t = trim(line);
    let t = t.strip_prefix_at();
    if !starts_with_word(t, "for") {
        return false;
    }
    let words = split_words(&t[3..]);
    let Some(var) = words
        .iter()
        .find(|w| w.first().is_none_or(|c| c.c != '/') && !is_for_option_value(w))
    else {
        return false;
    };
    let s = text(var);
    if s.len() == 2 && s.starts_with('%') && s != "%%" {
        let span = st.span(var);
        let letter = &s[1..];
        fx.findings.push(
            super::Finding::new(
                RULE_FOR_SINGLE_PERCENT,
                span,
                format!("`{s}` is the prompt form of a FOR variable: in a batch file cmd rejects this line and the loop never runs"),
                "needs %% in a batch file",
            )
            .related(st.span(t), "this loop does nothing")
            .help(format!("write %%{letter} for every use of the variable in the batch file")),
        );
        return true;
    }
    false
}

fn is_for_option_value(word: &[Cell]) -> bool {
    word.first().is_some_and(|c| c.c == '"')
}

trait StripAt {
    fn strip_prefix_at(&self) -> &Self;
}

impl StripAt for [Cell] {
    fn strip_prefix_at(&self) -> &[Cell] {
        let mut t = self;
        while let Some((first, rest)) = t.split_first() {
            if first.c == '@' || first.c == '(' || first.c.is_whitespace() {
                t = rest;
            } else {
                break;
            }
        }
        t
    }
}

/// Words split on blanks outside quotes (quotes kept).
fn split_words(cells: &[Cell]) -> Vec<&[Cell]> {
    let mut out = Vec::new();
    let mut start = None;
    let mut in_quote = false;
    for (i, c) in cells.iter().enumerate() {
        if c.c == '"' {
            in_quote = !in_quote;
        }
        let blank = c.c.is_whitespace() && !in_quote;
        match (blank, start) {
            (false, None) => start = Some(i),
            (true, Some(s)) => {
                out.push(&cells[s..i]);
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push(&cells[s..]);
    }
    out
}

/// Phase 1 of cmd's parser: `%%` → `%`, `%name%` → its value (unknown when
/// not set here), `%0`-`%9`/`%*`/`%~..` → unknown; a lone `%` is dropped.
fn expand_percent(st: &State, line: &[Cell]) -> Cells {
    let mut out = Vec::with_capacity(line.len());
    let mut i = 0;
    while i < line.len() {
        let c = line[i];
        if c.c != '%' {
            out.push(c);
            i += 1;
            continue;
        }
        let Some(next) = line.get(i + 1) else {
            i += 1;
            continue;
        };
        let whole = |j: usize| (c.at.0, line[j].at.1);
        if next.c == '%' {
            out.push(Cell {
                c: '%',
                at: whole(i + 1),
            });
            i += 2;
        } else if next.c.is_ascii_digit() || next.c == '*' {
            out.push(Cell {
                c: UNKNOWN,
                at: whole(i + 1),
            });
            i += 2;
        } else if let Some(end) = tilde_arg(line, i) {
            out.push(Cell {
                c: UNKNOWN,
                at: whole(end),
            });
            i = end + 1;
        } else if let Some(close) = line[i + 1..]
            .iter()
            .position(|c| c.c == '%')
            .map(|p| p + i + 1)
        {
            let name = text(&line[i + 1..close]);
            let at = whole(close);
            match (name.contains(':'), st.var(&name)) {
                (false, Some(value)) => out.extend(value.chars().map(|ch| Cell { c: ch, at })),
                _ => out.push(Cell { c: UNKNOWN, at }),
            }
            i = close + 1;
        } else {
            i += 1;
        }
    }
    out
}

/// `%~dp0`, `%~nx1`: returns the index of the digit that ends it.
fn tilde_arg(line: &[Cell], i: usize) -> Option<usize> {
    if line.get(i + 1)?.c != '~' {
        return None;
    }
    let mut j = i + 2;
    while line
        .get(j)
        .is_some_and(|c| c.c.is_ascii_alphabetic() || c.c == '$')
    {
        j += 1;
    }
    line.get(j)
        .filter(|c| c.c.is_ascii_digit() || c.c == '*')
        .map(|_| j)
}

/// Runs a statement: a command, possibly followed by `&`/`&&`/`||`/`|` and more.
fn statement(
    st: &mut State,
    cells: &[Cell],
    span: Span,
    in_loop: bool,
    depth: usize,
    fx: &mut Effects,
) {
    if depth > MAX_DEPTH {
        return;
    }
    let mut rest = cells;
    loop {
        let cells = trim(rest).strip_prefix_at();
        if cells.is_empty() {
            return;
        }
        if starts_with_word(cells, "for") {
            return for_loop(st, cells, span, depth, fx);
        }
        if starts_with_word(cells, "if") {
            rest = skip_if_condition(cells);
            continue;
        }
        let (command, next) = split_command(cells);
        run_command(st, &command, span, in_loop, depth, fx);
        match next {
            Some(next) => rest = next,
            None => return,
        }
    }
}

/// The first command (carets resolved) and what follows its operator or `)`.
fn split_command(cells: &[Cell]) -> (Cells, Option<&[Cell]>) {
    let mut out = Vec::new();
    let mut in_quote = false;
    let mut depth = 0usize;
    let mut i = 0;
    while i < cells.len() {
        let c = cells[i];
        match c.c {
            '"' => {
                in_quote = !in_quote;
                out.push(c);
            }
            '^' if !in_quote => {
                if let Some(next) = cells.get(i + 1) {
                    out.push(*next);
                }
                i += 1;
            }
            '\n' => return (out, Some(&cells[i + 1..])),
            '&' | '|' if !in_quote => {
                let skip = if cells.get(i + 1).is_some_and(|n| n.c == c.c) {
                    2
                } else {
                    1
                };
                return (out, Some(&cells[i + skip..]));
            }
            '(' if !in_quote => {
                depth += 1;
                out.push(c);
            }
            ')' if !in_quote => {
                if depth == 0 {
                    return (out, Some(skip_else(&cells[i + 1..])));
                }
                depth -= 1;
                out.push(c);
            }
            _ => out.push(c),
        }
        i += 1;
    }
    (out, None)
}

/// After a block's `)`: ` else (` opens the other branch (assumed to run too).
fn skip_else(cells: &[Cell]) -> &[Cell] {
    let t = trim(cells);
    if starts_with_word(t, "else") {
        &t[4..]
    } else {
        t
    }
}

/// `if [/i] [not] exist x | defined x | errorlevel n | a==b | a op b` → the command.
fn skip_if_condition(cells: &[Cell]) -> &[Cell] {
    let words = split_words(cells);
    let mut i = 1;
    let lower = |k: usize| {
        words
            .get(k)
            .map(|w| text(w).to_ascii_lowercase())
            .unwrap_or_default()
    };
    if lower(i) == "/i" {
        i += 1;
    }
    if lower(i) == "not" {
        i += 1;
    }
    let first = lower(i);
    i += match first.as_str() {
        "exist" | "defined" | "errorlevel" | "cmdextversion" => 2,
        w if w.contains("==") => 1,
        _ if matches!(
            lower(i + 1).as_str(),
            "equ" | "neq" | "lss" | "leq" | "gtr" | "geq"
        ) =>
        {
            3
        }
        _ if lower(i + 1).starts_with("==") => 2 + usize::from(lower(i + 1) == "=="),
        _ => 1,
    };
    match words.get(i) {
        Some(w) => {
            let start = w.as_ptr() as usize - cells.as_ptr() as usize;
            &cells[start / std::mem::size_of::<Cell>()..]
        }
        None => &[],
    }
}

fn run_command(
    st: &mut State,
    cells: &[Cell],
    span: Span,
    in_loop: bool,
    depth: usize,
    fx: &mut Effects,
) {
    let cells = trim(cells).strip_prefix_at();
    let words = split_words(cells);
    let Some(first) = words.first() else { return };
    let name = text(first).to_ascii_lowercase();
    let rest = |n: usize| {
        let skip = cells.len().min(n);
        trim(&cells[skip..])
    };
    match name.as_str() {
        "rem" => {}
        n if n.starts_with("::") || n.starts_with(':') => {}
        "set" => set(st, rest(3)),
        "setlocal" => {
            let flags = text(rest(8)).to_ascii_lowercase();
            let delayed = if flags.contains("disabledelayedexpansion") {
                false
            } else {
                flags.contains("enabledelayedexpansion")
                    || st.delayed.last().copied().unwrap_or(false)
            };
            let env = st.env.last().cloned().unwrap_or_default();
            st.env.push(env);
            st.delayed.push(delayed);
        }
        "endlocal" => {
            if st.env.len() > 1 {
                st.env.pop();
                st.delayed.pop();
            }
        }
        "call" if !text(rest(4)).starts_with(':') => {
            statement(st, rest(4), span, in_loop, depth + 1, fx)
        }
        _ => {
            let expanded = if st.delayed.last().copied().unwrap_or(false) {
                expand_delayed(st, cells)
            } else {
                cells.to_vec()
            };
            let args = argv(st, &expanded);
            let site = Site {
                command: st.span(cells),
                statement: span,
                in_loop,
            };
            commands::run(&args, &st.loops, site, fx);
        }
    }
}

/// `!name!` when delayed expansion is on.
fn expand_delayed(st: &State, cells: &[Cell]) -> Cells {
    let mut out = Vec::new();
    let mut i = 0;
    while i < cells.len() {
        if cells[i].c == '!' {
            if let Some(close) = cells[i + 1..]
                .iter()
                .position(|c| c.c == '!')
                .map(|p| p + i + 1)
            {
                let name = text(&cells[i + 1..close]);
                let at = (cells[i].at.0, cells[close].at.1);
                match st.var(&name) {
                    Some(v) => out.extend(v.chars().map(|c| Cell { c, at })),
                    None => out.push(Cell { c: UNKNOWN, at }),
                }
                i = close + 1;
                continue;
            }
        }
        out.push(cells[i]);
        i += 1;
    }
    out
}

/// Arguments as `CommandLineToArgvW` splits them: blanks separate, quotes group and go.
fn argv(st: &State, cells: &[Cell]) -> Vec<Arg> {
    split_words(cells)
        .into_iter()
        .map(|w| Arg {
            text: w.iter().filter(|c| c.c != '"').map(|c| c.c).collect(),
            span: st.span(w),
        })
        .collect()
}

/// `set name=value`, `set "name=value"`, `set /a name=expr`, `set /p name=prompt`.
fn set(st: &mut State, cells: &[Cell]) {
    let raw = text(cells);
    let lower = raw.to_ascii_lowercase();
    let (body, mode) = if let Some(r) = lower.strip_prefix("/a") {
        (raw[raw.len() - r.len()..].trim().to_owned(), 'a')
    } else if let Some(r) = lower.strip_prefix("/p") {
        (raw[raw.len() - r.len()..].trim().to_owned(), 'p')
    } else {
        (raw.clone(), 's')
    };
    let body = match body.strip_prefix('"') {
        Some(inner) => inner.rfind('"').map_or(inner, |q| &inner[..q]).to_owned(),
        None => body,
    };
    let Some((name, value)) = body.split_once('=') else {
        return;
    };
    let (name, op) = match name.trim_end().char_indices().last() {
        Some((i, c)) if mode == 'a' && "+-*/%".contains(c) => (&name[..i], Some(c)),
        _ => (name, None),
    };
    let key = name.trim().to_ascii_lowercase();
    if key.is_empty() {
        return;
    }
    let value = match mode {
        'p' => UNKNOWN.to_string(),
        'a' => {
            let rhs = arithmetic(st, value.trim());
            let lhs = st.var(&key).and_then(|v| v.trim().parse::<i64>().ok());
            match (op, rhs, lhs) {
                (None, Some(r), _) => r.to_string(),
                (Some('+'), Some(r), Some(l)) => (l + r).to_string(),
                (Some('-'), Some(r), Some(l)) => (l - r).to_string(),
                (Some('*'), Some(r), Some(l)) => (l * r).to_string(),
                _ => UNKNOWN.to_string(),
            }
        }
        _ => value
            .chars()
            .map(|c| {
                if Loops::marker_index(c).is_some() {
                    UNKNOWN
                } else {
                    c
                }
            })
            .collect(),
    };
    let Some(env) = st.env.last_mut() else { return };
    if value.is_empty() {
        env.remove(&key);
    } else {
        env.insert(key, value);
    }
}

/// `set /a` on sums and products of numbers and variables (decimal, `0x`
/// hex, leading-`0` octal as cmd reads them); anything else is unknown.
fn arithmetic(st: &State, expr: &str) -> Option<i64> {
    let mut total: i64 = 0;
    for (sign, term) in split_terms(expr) {
        let mut product: i64 = 1;
        for factor in term.split('*') {
            product = product.checked_mul(operand(st, factor.trim())?)?;
        }
        total = total.checked_add(sign * product)?;
    }
    Some(total)
}

fn split_terms(expr: &str) -> Vec<(i64, String)> {
    let mut out = Vec::new();
    let mut sign = 1;
    let mut current = String::new();
    for c in expr.chars() {
        match c {
            '+' | '-' if !current.trim().is_empty() => {
                out.push((sign, std::mem::take(&mut current)));
                sign = if c == '-' { -1 } else { 1 };
            }
            '-' => sign = -sign,
            '+' => {}
            _ => current.push(c),
        }
    }
    out.push((sign, current));
    out
}

fn operand(st: &State, t: &str) -> Option<i64> {
    if t.is_empty() || t.contains(UNKNOWN) {
        return None;
    }
    if t.bytes().next()?.is_ascii_digit() {
        return if let Some(hex) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
            i64::from_str_radix(hex, 16).ok()
        } else if t.len() > 1 && t.starts_with('0') {
            i64::from_str_radix(t, 8).ok()
        } else {
            t.parse().ok()
        };
    }
    st.var(t).and_then(|v| v.trim().parse().ok())
}

/// `FOR [/L|/F ".."|/R [path]|/D] %X IN (set) DO command`.
fn for_loop(st: &mut State, cells: &[Cell], span: Span, depth: usize, fx: &mut Effects) {
    let words = split_words(cells);
    let mut i = 1;
    let mut kind = String::new();
    while let Some(w) = words.get(i) {
        let t = text(w).to_ascii_lowercase();
        if !t.starts_with('/') {
            break;
        }
        kind = t.clone();
        i += 1;
        let takes_value = (t == "/f"
            && words
                .get(i)
                .is_some_and(|v| v.first().is_some_and(|c| c.c == '"')))
            || (t == "/r"
                && words
                    .get(i)
                    .is_some_and(|v| v.first().is_none_or(|c| c.c != '%')));
        if takes_value {
            i += 1;
        }
    }
    let Some(var_word) = words.get(i) else { return };
    let var = text(var_word);
    let Some(letter) = var
        .strip_prefix('%')
        .filter(|l| l.chars().count() == 1)
        .and_then(|l| l.chars().next())
    else {
        return;
    };
    let after_var = offset_of(cells, var_word) + var_word.len();
    let Some((set_cells, body)) = set_and_body(&cells[after_var..]) else {
        return;
    };
    let values = match kind.as_str() {
        "/l" => progression(&text(&set_cells)),
        "" => list(&text(&set_cells)),
        _ => LoopValues::Unknown,
    };
    if assigns_variables(body) {
        if let Some(items) = small_enumeration(&values) {
            for item in items {
                let body = substitute_text(body, letter, &item);
                statement(st, &body, span, true, depth + 1, fx);
            }
            return;
        }
    }
    let Some(marker) = st.loops.push(format!("%%{letter}"), values) else {
        return;
    };
    let body = substitute(body, letter, marker);
    statement(st, &body, span, true, depth + 1, fx);
}

/// A body that sets variables (`set /a P+=1` then `!P!`) depends on running
/// in order, so small loops are run value by value instead of symbolically.
fn assigns_variables(body: &[Cell]) -> bool {
    let lower = text(body).to_ascii_lowercase();
    lower.starts_with("set ")
        || lower.contains(" set ")
        || lower.contains("(set ")
        || lower.contains("\tset ")
}

const MAX_UNROLL: u64 = 256;

fn small_enumeration(values: &LoopValues) -> Option<Vec<String>> {
    if values.count()? > MAX_UNROLL {
        return None;
    }
    match values {
        LoopValues::Progression { start, step, .. } => {
            let n = values.count()? as i64;
            Some((0..n).map(|k| (start + k * step).to_string()).collect())
        }
        LoopValues::List(items) => Some(items.clone()),
        LoopValues::Unknown => None,
    }
}

/// Every `%X` in the body replaced by one value.
fn substitute_text(body: &[Cell], letter: char, value: &str) -> Cells {
    let mut out = Vec::with_capacity(body.len());
    let mut i = 0;
    while i < body.len() {
        if body[i].c == '%' && body.get(i + 1).is_some_and(|c| c.c == letter) {
            let at = (body[i].at.0, body[i + 1].at.1);
            out.extend(value.chars().map(|c| Cell { c, at }));
            i += 2;
        } else {
            out.push(body[i]);
            i += 1;
        }
    }
    out
}

fn offset_of(cells: &[Cell], part: &[Cell]) -> usize {
    (part.as_ptr() as usize - cells.as_ptr() as usize) / std::mem::size_of::<Cell>()
}

/// `IN (set) DO command` → the set's cells and the command.
fn set_and_body(cells: &[Cell]) -> Option<(Cells, &[Cell])> {
    let t = trim(cells);
    if !starts_with_word(t, "in") {
        return None;
    }
    let t = trim(&t[2..]);
    if t.first()?.c != '(' {
        return None;
    }
    let close = t.iter().position(|c| c.c == ')')?;
    let set = t[1..close].to_vec();
    let after = trim(&t[close + 1..]);
    if !starts_with_word(after, "do") {
        return None;
    }
    Some((set, &after[2..]))
}

/// `(start,step,end)`, separated by blanks, commas, `;` or `=`; missing numbers are 0.
fn progression(set: &str) -> LoopValues {
    if set.contains(UNKNOWN) {
        return LoopValues::Unknown;
    }
    let nums: Vec<&str> = set
        .split([' ', ',', ';', '=', '\t'])
        .filter(|s| !s.is_empty())
        .collect();
    let parse = |k: usize| -> Option<i64> {
        match nums.get(k) {
            None => Some(0),
            Some(s) => s.parse::<i32>().ok().map(i64::from),
        }
    };
    match (parse(0), parse(1), parse(2)) {
        (Some(start), Some(step), Some(end)) if nums.len() <= 3 => {
            LoopValues::Progression { start, step, end }
        }
        _ => LoopValues::Unknown,
    }
}

fn list(set: &str) -> LoopValues {
    if set.contains(UNKNOWN) || set.contains(['*', '?']) {
        return LoopValues::Unknown;
    }
    LoopValues::List(
        set.split([' ', ',', ';', '=', '\t'])
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
    )
}

/// Every `%X` in the body becomes the loop's marker.
fn substitute(body: &[Cell], letter: char, marker: char) -> Cells {
    let mut out = Vec::with_capacity(body.len());
    let mut i = 0;
    while i < body.len() {
        if body[i].c == '%' && body.get(i + 1).is_some_and(|c| c.c == letter) {
            out.push(Cell {
                c: marker,
                at: (body[i].at.0, body[i + 1].at.1),
            });
            i += 2;
        } else {
            out.push(body[i]);
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::winfw::Change;
    use crate::source::FileId;

    fn effects(script: &str) -> Effects {
        let src = SourceFile::new(FileId(0), "x.cmd", script.as_bytes());
        let mut fx = Effects::default();
        run(&src, &mut fx);
        fx
    }

    fn ports(fx: &Effects) -> Vec<String> {
        super::super::test_support::added_ports(fx)
    }

    #[test]
    fn for_loop_is_one_port_set() {
        let fx = effects(
            "FOR /L %%I IN (5001,1,5201) DO netsh firewall add portopening TCP %%I \"Passive FTP\"%%I\r\n",
        );
        assert_eq!(ports(&fx), vec!["5001-5201"]);
        let Change::Add(rule) = &fx.firewall[0] else {
            panic!()
        };
        assert_eq!(
            rule.name.as_deref().map(Loops::strip).as_deref(),
            Some("Passive FTP")
        );
    }

    #[test]
    fn single_percent_in_a_batch_file_is_rejected() {
        let fx = effects(
            "FOR /L %I IN (5001,1,5201) DO netsh firewall add portopening TCP %I \"Passive FTP\"%I\r\n",
        );
        assert!(fx.firewall.is_empty());
        assert_eq!(fx.findings[0].rule, RULE_FOR_SINGLE_PERCENT);
    }

    #[test]
    fn variables_carets_and_sequences() {
        let fx = effects(
            "@echo off\r\nsetlocal\r\nset LOW=5001\r\nset /a HIGH=%LOW%+200\r\nrem netsh firewall add portopening TCP 1 x\r\n:: netsh firewall add portopening TCP 2 x\r\nnetsh advfirewall firewall add rule name=\"FTP\" ^\r\n  dir=in action=allow protocol=TCP localport=%LOW%-%HIGH% & netsh advfirewall firewall add rule name=x dir=in action=allow protocol=TCP localport=%UNSET%\r\nif exist x (netsh firewall add portopening TCP 21 FTP) else (echo no)\r\n",
        );
        assert_eq!(
            ports(&fx),
            vec![
                "5001-5201".to_owned(),
                "Unknown(\"localport `…` is not known here\")".to_owned(),
                "21".to_owned()
            ]
        );
    }

    #[test]
    fn negative_steps_and_lists() {
        let fx = effects(
            "for /l %%p in (5201,-1,5001) do netsh firewall add portopening TCP %%p x\r\nfor %%p in (21 990) do netsh firewall add portopening protocol=TCP port=%%p name=x\r\n",
        );
        assert_eq!(ports(&fx), vec!["5001-5201", "21,990"]);
    }

    #[test]
    fn adsutil_forms() {
        let fx = effects(
            "cscript.exe adsutil.vbs set /MSFTPSVC/PassivePortRange \"5001-5201\"\r\nCScript C:\\Inetpub\\AdminScripts\\adsutil.vbs SET MSFTPSVC\\1\\ServerBindings \":2121:\"\r\nCscript.exe c: \\ Inetpub \\ adminscripts \\ adsutil. vbs set/msftpsvc/passiveportrange \"5500-5515\"\r\n",
        );
        assert_eq!(fx.iis.len(), 2);
        assert_eq!(fx.findings.len(), 1);
        assert!(fx.findings[0].help.as_deref().unwrap().contains(
            "c:\\Inetpub\\adminscripts\\adsutil.vbs set /msftpsvc/passiveportrange \"5500-5515\""
        ));
    }

    #[test]
    fn never_panics() {
        for s in [
            "%",
            "%%",
            "for",
            "for /l",
            "for /l %%i in (",
            "for /l %%i in (1,1,3) do",
            "^",
            "\"",
            "set /a x=1/0",
            "set /a x=99999999999*99999999999",
            "if",
            "if not",
            "(((((",
            ")))",
            "set =x",
            "set \"",
            "for %%a in (1) do for %%b in (2) do netsh firewall add portopening TCP %%b x",
            "%~",
            "é%é%é",
        ] {
            let _ = effects(s);
        }
    }
}
