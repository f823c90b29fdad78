//! PowerShell scripts, best effort: backtick continuation, `#`/`<# #>`
//! comments, `$var = value` assignments of numbers, strings, arrays and
//! `a..b` ranges, `foreach ($p in a..b) { }`, `a..b | ForEach-Object { $_ }`,
//! counted `for` loops, blocks of `if`/`try`/functions (assumed to run once).
//! Cmdlets read: New-/Remove-/Enable-/Disable-/Set-NetFirewallRule,
//! Set-NetFirewallProfile, Set-WebConfigurationProperty, Set-WebConfiguration,
//! Set-IISConfigAttributeValue, New-WebFtpSite; native `netsh`, `appcmd`,
//! `cscript` go to the commands both languages share.

use super::commands::{self, Site, data_channel_port};
use super::{Arg, Effects, IisSetting, LoopValues, Loops, RULE_FW_MALFORMED, UNKNOWN, is_unknown};
use crate::facts::{Profile, Uncertainty};
use crate::formats::regfile::admits_ftp_service;
use crate::formats::winfw::{
    Change, Direction, Finding, LocalPorts, ProfileSet, Protocol, Remote, RuleAction, RuleFilter,
    WinRule, parse_port_list,
};
use crate::portset::PortSet;
use crate::source::{SourceFile, Span};
use std::collections::HashMap;

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Word(String),
    Str {
        text: String,
        expand: bool,
    },
    Var(String),
    /// `-Name`, or `-Name:value` glued; the raw text for native commands.
    Param {
        name: String,
        raw: String,
    },
    Num(i64),
    Op(&'static str),
    Sep,
}

#[derive(Clone, Debug)]
struct Token {
    tok: Tok,
    span: Span,
    /// No blank between this token and the previous one.
    glued: bool,
}

const MAX_TOKENS: usize = 1_000_000;
const MAX_DEPTH: usize = 32;

fn lex(source: &SourceFile) -> Vec<Token> {
    let text = &source.text;
    let b: Vec<(usize, char)> = text.char_indices().collect();
    let mut out: Vec<Token> = Vec::new();
    let mut i = 0;
    let mut glued = false;
    let end_of = |k: usize| b.get(k).map_or(text.len(), |(o, _)| *o);
    while i < b.len() && out.len() < MAX_TOKENS {
        let (off, c) = b[i];
        let next = b.get(i + 1).map(|x| x.1);
        let g = glued;
        let push = |tok: Tok, from: usize, to: usize, out: &mut Vec<Token>| {
            out.push(Token {
                tok,
                span: source.span(from, to),
                glued: g,
            });
        };
        match c {
            ' ' | '\t' | '\r' => {
                i += 1;
                glued = false;
                continue;
            }
            '\n' | ';' => {
                push(Tok::Sep, off, off + 1, &mut out);
                i += 1;
                glued = false;
                continue;
            }
            '`' if matches!(next, Some('\n' | '\r')) => {
                i += 1;
                while b.get(i).is_some_and(|x| x.1 == '\r' || x.1 == '\n') {
                    let nl = b[i].1 == '\n';
                    i += 1;
                    if nl {
                        break;
                    }
                }
                glued = false;
                continue;
            }
            '#' => {
                while i < b.len() && b[i].1 != '\n' {
                    i += 1;
                }
                continue;
            }
            '<' if next == Some('#') => {
                i += 2;
                while i + 1 < b.len() && !(b[i].1 == '#' && b[i + 1].1 == '>') {
                    i += 1;
                }
                i += 2;
                continue;
            }
            '"' | '\'' => {
                let (s, j) = string(&b, i);
                push(
                    Tok::Str {
                        text: s,
                        expand: c == '"',
                    },
                    off,
                    end_of(j),
                    &mut out,
                );
                i = j;
            }
            '$' => {
                let mut j = i + 1;
                let name: String = if b.get(j).map(|x| x.1) == Some('{') {
                    let start = j + 1;
                    while j < b.len() && b[j].1 != '}' {
                        j += 1;
                    }
                    let n = b[start.min(b.len())..j.min(b.len())]
                        .iter()
                        .map(|x| x.1)
                        .collect();
                    j += 1;
                    n
                } else {
                    let start = j;
                    while b.get(j).is_some_and(|x| {
                        x.1.is_alphanumeric() || x.1 == '_' || x.1 == ':' || x.1 == '?'
                    }) {
                        j += 1;
                    }
                    b[start..j].iter().map(|x| x.1).collect()
                };
                push(
                    Tok::Var(name.to_ascii_lowercase()),
                    off,
                    end_of(j),
                    &mut out,
                );
                i = j;
                if b.get(i).map(|x| x.1) == Some('=') && b.get(i + 1).map(|x| x.1) != Some('=') {
                    out.push(Token {
                        tok: Tok::Op("="),
                        span: source.span(end_of(i), end_of(i + 1)),
                        glued: true,
                    });
                    i += 1;
                }
            }
            '@' if matches!(next, Some('(' | '{')) => {
                push(
                    Tok::Op(if next == Some('(') { "@(" } else { "@{" }),
                    off,
                    off + 2,
                    &mut out,
                );
                i += 2;
            }
            '{' | '}' | '(' | ')' | ',' | '|' | '&' => {
                let op = match c {
                    '{' => "{",
                    '}' => "}",
                    '(' => "(",
                    ')' => ")",
                    ',' => ",",
                    '|' => "|",
                    _ => "&",
                };
                push(Tok::Op(op), off, off + 1, &mut out);
                i += 1;
            }
            '.' if next == Some('.') => {
                push(Tok::Op(".."), off, off + 2, &mut out);
                i += 2;
            }
            '-' if !glued && next.is_some_and(|n| n.is_ascii_alphabetic()) => {
                let mut j = i + 1;
                while b
                    .get(j)
                    .is_some_and(|x| x.1.is_alphanumeric() || x.1 == '_')
                {
                    j += 1;
                }
                let name: String = b[i + 1..j].iter().map(|x| x.1).collect();
                let mut raw_end = j;
                if b.get(j).map(|x| x.1) == Some(':') {
                    raw_end = word_end(&b, j + 1);
                }
                let raw: String = b[i..raw_end].iter().map(|x| x.1).collect();
                push(
                    Tok::Param {
                        name: name.to_ascii_lowercase(),
                        raw,
                    },
                    off,
                    end_of(raw_end),
                    &mut out,
                );
                i = raw_end;
            }
            _ => {
                let j = word_end(&b, i);
                let j = j.max(i + 1);
                let w: String = b[i..j].iter().map(|x| x.1).collect();
                let w = w.replace('`', "");
                if w == "=" {
                    push(Tok::Op("="), off, end_of(j), &mut out);
                } else if let Some(digits) = w
                    .strip_suffix("..")
                    .filter(|d| !d.is_empty() && d.bytes().all(|x| x.is_ascii_digit()))
                {
                    push(
                        Tok::Num(digits.parse().unwrap_or(i64::MAX)),
                        off,
                        end_of(j) - 2,
                        &mut out,
                    );
                    push(Tok::Op(".."), end_of(j) - 2, end_of(j), &mut out);
                } else if let Some((a, rest)) = split_range(&w) {
                    push(Tok::Num(a), off, off + rest, &mut out);
                    push(Tok::Op(".."), off + rest, off + rest + 2, &mut out);
                    let b_text = &w[rest + 2..];
                    if let Ok(n) = b_text.parse() {
                        push(Tok::Num(n), off + rest + 2, end_of(j), &mut out);
                    }
                } else if w.bytes().all(|x| x.is_ascii_digit()) {
                    push(
                        Tok::Num(w.parse().unwrap_or(i64::MAX)),
                        off,
                        end_of(j),
                        &mut out,
                    );
                } else {
                    push(Tok::Word(w), off, end_of(j), &mut out);
                }
                i = j;
            }
        }
        glued = true;
    }
    out
}

/// `5000..5100` in one word.
fn split_range(w: &str) -> Option<(i64, usize)> {
    let (a, b) = w.split_once("..")?;
    if a.is_empty()
        || !a.bytes().all(|x| x.is_ascii_digit())
        || b.is_empty()
        || !b.bytes().all(|x| x.is_ascii_digit())
    {
        return None;
    }
    Some((a.parse().ok()?, a.len()))
}

fn word_end(b: &[(usize, char)], mut j: usize) -> usize {
    while let Some((_, c)) = b.get(j) {
        if c.is_whitespace()
            || matches!(
                c,
                '(' | ')' | '{' | '}' | '|' | ';' | ',' | '"' | '\'' | '$'
            )
        {
            break;
        }
        if *c == '`' {
            j += 1;
        }
        if *c == '.' && b.get(j + 1).is_some_and(|x| x.1 == '.') {
            // keep `a..b` together when both sides are digits (handled by the caller)
            j += 2;
            continue;
        }
        j += 1;
    }
    j.min(b.len())
}

/// A quoted string from `b[i]`; returns the text and the index after it.
fn string(b: &[(usize, char)], i: usize) -> (String, usize) {
    let quote = b[i].1;
    let mut s = String::new();
    let mut j = i + 1;
    while j < b.len() {
        let c = b[j].1;
        if c == quote {
            if b.get(j + 1).map(|x| x.1) == Some(quote) {
                s.push(quote);
                j += 2;
                continue;
            }
            return (s, j + 1);
        }
        if c == '`' && quote == '"' {
            if let Some((_, n)) = b.get(j + 1) {
                s.push(match n {
                    'n' => '\n',
                    't' => '\t',
                    other => *other,
                });
                j += 2;
                continue;
            }
        }
        s.push(c);
        j += 1;
    }
    (s, j)
}

#[derive(Clone, Debug, PartialEq)]
enum Val {
    Str(String),
    Num(i64),
    List(Vec<Val>),
    Range(i64, i64),
    Hash(Vec<(String, Val, Span)>),
    /// The current value of a loop variable (its marker char).
    Loop(char),
    Unknown,
}

impl Val {
    /// As one command-line word (loop variables as their marker).
    fn text(&self) -> String {
        match self {
            Val::Str(s) => s.clone(),
            Val::Num(n) => n.to_string(),
            Val::Loop(m) => m.to_string(),
            Val::List(items) => items.iter().map(Val::text).collect::<Vec<_>>().join(","),
            Val::Range(a, b) => format!("{a}-{b}"),
            Val::Hash(_) | Val::Unknown => UNKNOWN.to_string(),
        }
    }

    fn items(&self) -> Vec<Val> {
        match self {
            Val::List(items) => items.clone(),
            other => vec![other.clone()],
        }
    }
}

struct Ps<'a> {
    toks: Vec<Token>,
    pos: usize,
    vars: HashMap<String, Val>,
    loops: Loops,
    fx: &'a mut Effects,
    source: &'a SourceFile,
    depth: usize,
}

pub fn run(source: &SourceFile, fx: &mut Effects) {
    let mut ps = Ps {
        toks: lex(source),
        pos: 0,
        vars: HashMap::new(),
        loops: Loops::default(),
        fx,
        source,
        depth: 0,
    };
    ps.statements(None);
}

impl Ps<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|t| &t.tok)
    }

    fn peek_at(&self, k: usize) -> Option<&Tok> {
        self.toks.get(self.pos + k).map(|t| &t.tok)
    }

    fn is_op(&self, op: &str) -> bool {
        matches!(self.peek(), Some(Tok::Op(o)) if *o == op)
    }

    fn is_word(&self, w: &str) -> bool {
        matches!(self.peek(), Some(Tok::Word(x)) if x.eq_ignore_ascii_case(w))
    }

    fn span_here(&self) -> Span {
        self.toks.get(self.pos).map_or_else(
            || {
                self.source
                    .span(self.source.text.len(), self.source.text.len())
            },
            |t| t.span,
        )
    }

    fn span_since(&self, start: usize) -> Span {
        let first = self.toks.get(start).map(|t| t.span);
        let last = self
            .toks
            .get(self.pos.saturating_sub(1).max(start))
            .map(|t| t.span);
        match (first, last) {
            (Some(a), Some(b)) => a.to(b),
            (Some(a), None) => a,
            _ => self.span_here(),
        }
    }

    /// Statements until `}` (when inside a block) or the end.
    fn statements(&mut self, stmt_span: Option<(Span, bool)>) {
        loop {
            while matches!(self.peek(), Some(Tok::Sep)) {
                self.pos += 1;
            }
            match self.peek() {
                None => return,
                Some(Tok::Op("}")) if stmt_span.is_some() || self.depth > 0 => return,
                Some(Tok::Op("}" | ")")) => {
                    self.pos += 1;
                    continue;
                }
                _ => {}
            }
            let before = self.pos;
            self.statement(stmt_span);
            if self.pos == before {
                self.pos += 1;
            }
        }
    }

    fn block(&mut self, stmt_span: Option<(Span, bool)>) {
        if !self.is_op("{") {
            return;
        }
        self.pos += 1;
        if self.depth >= MAX_DEPTH {
            self.skip_balanced_from_inside("{", "}");
            return;
        }
        self.depth += 1;
        self.statements(stmt_span);
        self.depth -= 1;
        if self.is_op("}") {
            self.pos += 1;
        }
    }

    /// Skips `( ... )` when at `(`.
    fn skip_parens(&mut self) {
        if self.is_op("(") {
            self.pos += 1;
            self.skip_balanced_from_inside("(", ")");
        }
    }

    fn skip_balanced_from_inside(&mut self, open: &str, close: &str) {
        let mut depth = 1;
        while let Some(t) = self.peek() {
            match t {
                Tok::Op(o)
                    if *o == open || (open == "(" && *o == "@(") || (open == "{" && *o == "@{") =>
                {
                    depth += 1
                }
                Tok::Op(o) if *o == close => {
                    depth -= 1;
                    if depth == 0 {
                        self.pos += 1;
                        return;
                    }
                }
                _ => {}
            }
            self.pos += 1;
        }
    }

    fn statement(&mut self, outer: Option<(Span, bool)>) {
        let start = self.pos;
        let keyword = match self.peek() {
            Some(Tok::Word(w)) => w.to_ascii_lowercase(),
            _ => String::new(),
        };
        match keyword.as_str() {
            "foreach" if matches!(self.peek_at(1), Some(Tok::Op("("))) => {
                return self.foreach(outer);
            }
            "for" if matches!(self.peek_at(1), Some(Tok::Op("("))) => return self.for_loop(outer),
            "if" | "elseif" | "while" | "switch" => {
                self.pos += 1;
                self.skip_parens();
                return self.block(outer);
            }
            "else" | "try" | "finally" | "do" => {
                self.pos += 1;
                return self.block(outer);
            }
            "catch" => {
                self.pos += 1;
                while matches!(self.peek(), Some(Tok::Word(_))) {
                    self.pos += 1;
                }
                return self.block(outer);
            }
            "function" | "filter" => {
                self.pos += 2;
                self.skip_parens();
                return self.block(outer);
            }
            "param" => {
                self.pos += 1;
                return self.skip_parens();
            }
            _ => {}
        }
        if let (Some(Tok::Var(name)), Some(Tok::Op("="))) = (self.peek().cloned(), self.peek_at(1))
        {
            self.pos += 2;
            let value = self.expression();
            self.rest_of_statement();
            let value = if self.at_statement_end() {
                value
            } else {
                Val::Unknown
            };
            self.vars.insert(name, value);
            return;
        }
        let _ = start;
        self.pipeline(outer);
    }

    fn at_statement_end(&self) -> bool {
        matches!(self.peek(), None | Some(Tok::Sep) | Some(Tok::Op("}")))
    }

    /// Skips the rest of a statement the interpreter does not follow.
    fn rest_of_statement(&mut self) {
        while !self.at_statement_end() && !self.is_op("|") {
            if self.is_op("(") || self.is_op("@(") {
                self.pos += 1;
                self.skip_balanced_from_inside("(", ")");
            } else if self.is_op("{") || self.is_op("@{") {
                self.pos += 1;
                self.skip_balanced_from_inside("{", "}");
            } else {
                self.pos += 1;
            }
        }
    }

    /// `foreach ($p in <expr>) { ... }`.
    fn foreach(&mut self, outer: Option<(Span, bool)>) {
        let start = self.pos;
        self.pos += 2;
        let Some(Tok::Var(var)) = self.peek().cloned() else {
            return self.skip_to_block(outer);
        };
        self.pos += 1;
        if !self.is_word("in") {
            return self.skip_to_block(outer);
        }
        self.pos += 1;
        let values = self.expression();
        if self.is_op(")") {
            self.pos += 1;
        }
        let span = outer.map_or_else(|| self.span_through_block(start), |(s, _)| s);
        self.with_loop(&var, &values, span, |ps, s| ps.block(Some(s)));
    }

    /// The span of a statement that ends with a `{ }` block (for labels).
    fn span_through_block(&self, start: usize) -> Span {
        let mut k = self.pos;
        let mut depth = 0;
        while let Some(t) = self.toks.get(k) {
            match t.tok {
                Tok::Op("{") | Tok::Op("@{") => depth += 1,
                Tok::Op("}") => {
                    depth -= 1;
                    if depth <= 0 {
                        break;
                    }
                }
                _ => {}
            }
            k += 1;
        }
        let end = self
            .toks
            .get(k.min(self.toks.len().saturating_sub(1)))
            .map(|t| t.span);
        let first = self.toks.get(start).map(|t| t.span);
        match (first, end) {
            (Some(a), Some(b)) => a.to(b),
            _ => self.span_here(),
        }
    }

    fn skip_to_block(&mut self, outer: Option<(Span, bool)>) {
        self.skip_balanced_from_inside("(", ")");
        let saved = std::mem::take(&mut self.fx.firewall);
        let saved_iis = std::mem::take(&mut self.fx.iis);
        self.block(outer);
        // The loop's values are unknown: its effects are kept but marked unknown.
        self.fx.firewall = saved;
        self.fx.iis = saved_iis;
    }

    fn with_loop(
        &mut self,
        var: &str,
        values: &Val,
        span: Span,
        body: impl FnOnce(&mut Self, (Span, bool)),
    ) {
        let values = match values {
            Val::Loop(m) => {
                let previous = self.vars.insert(var.to_owned(), Val::Loop(*m));
                body(self, (span, true));
                self.restore(var, previous);
                return;
            }
            other => loop_values(other),
        };
        let Some(marker) = self.loops.push(format!("${var}"), values) else {
            return;
        };
        let previous = self.vars.insert(var.to_owned(), Val::Loop(marker));
        body(self, (span, true));
        self.restore(var, previous);
    }

    fn restore(&mut self, var: &str, previous: Option<Val>) {
        match previous {
            Some(v) => self.vars.insert(var.to_owned(), v),
            None => self.vars.remove(var),
        };
    }

    /// `for ($i = a; $i -le b; $i++) { ... }` (also `-lt`, `-ge`, `-gt`, `$i += k`, `$i--`).
    fn for_loop(&mut self, outer: Option<(Span, bool)>) {
        let start = self.pos;
        self.pos += 2;
        let header_start = self.pos;
        self.skip_balanced_from_inside("(", ")");
        let header: Vec<Tok> = self.toks[header_start..self.pos.saturating_sub(1)]
            .iter()
            .map(|t| t.tok.clone())
            .collect();
        let (var, values) = counted_loop(&header, &self.vars);
        let span = outer.map_or_else(|| self.span_through_block(start), |(s, _)| s);
        match var {
            Some(var) => self.with_loop(&var, &values, span, |ps, s| ps.block(Some(s))),
            None => self.block(Some((span, true))),
        }
    }

    /// An expression in expression mode: values, `,` arrays and `a..b` ranges.
    fn expression(&mut self) -> Val {
        let first = self.range_expr();
        if !self.is_op(",") {
            return first;
        }
        let mut items = first.items();
        while self.is_op(",") {
            self.pos += 1;
            items.extend(self.range_expr().items());
        }
        Val::List(items)
    }

    fn range_expr(&mut self) -> Val {
        let a = self.primary(true);
        if !self.is_op("..") {
            return a;
        }
        self.pos += 1;
        let b = self.primary(true);
        match (a, b) {
            (Val::Num(x), Val::Num(y)) => Val::Range(x, y),
            _ => Val::Unknown,
        }
    }

    fn primary(&mut self, expression_mode: bool) -> Val {
        let mut value = self.single(expression_mode);
        // Glued pieces (`name="FTP"`, `$p.ToString()`) make one word.
        while let Some(t) = self.toks.get(self.pos) {
            if !t.glued
                || !matches!(
                    t.tok,
                    Tok::Word(_) | Tok::Str { .. } | Tok::Var(_) | Tok::Num(_)
                )
            {
                break;
            }
            let next = self.single(false);
            value = Val::Str(format!("{}{}", value.text(), next.text()));
        }
        value
    }

    /// One value token (or a parenthesised expression / hashtable).
    fn single(&mut self, expression_mode: bool) -> Val {
        let Some(tok) = self.peek().cloned() else {
            return Val::Unknown;
        };
        self.pos += 1;
        if matches!(tok, Tok::Op("@(" | "(" | "@{")) && self.depth >= MAX_DEPTH {
            let (open, close) = if tok == Tok::Op("@{") {
                ("{", "}")
            } else {
                ("(", ")")
            };
            self.skip_balanced_from_inside(open, close);
            return Val::Unknown;
        }
        self.depth += 1;
        let value = match tok {
            Tok::Num(n) => Val::Num(n),
            Tok::Str { text, expand } => Val::Str(if expand {
                self.interpolate(&text)
            } else {
                text
            }),
            Tok::Var(name) => self.var(&name),
            Tok::Word(w)
                if expression_mode && w.starts_with('-') && w[1..].parse::<i64>().is_ok() =>
            {
                Val::Num(w.parse().unwrap_or(0))
            }
            Tok::Word(w) => match w.parse::<i64>() {
                Ok(n) if expression_mode => Val::Num(n),
                _ => Val::Str(w),
            },
            Tok::Op("@(") | Tok::Op("(") => {
                let v = if self.is_op(")") {
                    Val::List(Vec::new())
                } else {
                    self.expression()
                };
                let closed = self.is_op(")");
                self.skip_balanced_from_inside("(", ")");
                if closed { v } else { Val::Unknown }
            }
            Tok::Op("@{") => self.hashtable(),
            Tok::Param { raw, .. } => Val::Str(raw),
            _ => {
                self.pos -= 1;
                Val::Unknown
            }
        };
        self.depth -= 1;
        value
    }

    fn hashtable(&mut self) -> Val {
        let mut entries = Vec::new();
        loop {
            while matches!(self.peek(), Some(Tok::Sep)) {
                self.pos += 1;
            }
            match self.peek().cloned() {
                None => return Val::Hash(entries),
                Some(Tok::Op("}")) => {
                    self.pos += 1;
                    return Val::Hash(entries);
                }
                Some(Tok::Word(k)) | Some(Tok::Str { text: k, .. }) => {
                    self.pos += 1;
                    let (key, inline) = match k.split_once('=') {
                        Some((key, rest)) => (key.to_owned(), Some(rest.to_owned())),
                        None => (k.clone(), None),
                    };
                    if inline.is_none() && self.is_op("=") {
                        self.pos += 1;
                    }
                    let span = self.span_here();
                    let value = match inline {
                        Some(v) if !v.is_empty() => Val::Str(v),
                        _ => self.primary(true),
                    };
                    entries.push((key.to_ascii_lowercase(), value, span));
                }
                Some(_) => self.pos += 1,
            }
        }
    }

    fn var(&self, name: &str) -> Val {
        match name {
            "true" => Val::Str("$true".to_owned()),
            "false" => Val::Str("$false".to_owned()),
            _ => self.vars.get(name).cloned().unwrap_or(Val::Unknown),
        }
    }

    /// `"Passive $p"`: variables known here are substituted, others are unknown.
    fn interpolate(&self, text: &str) -> String {
        let mut out = String::new();
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            if c != '$'
                || !chars
                    .peek()
                    .is_some_and(|n| n.is_alphanumeric() || *n == '_' || *n == '{' || *n == '(')
            {
                out.push(c);
                continue;
            }
            if chars.peek() == Some(&'(') {
                let mut depth = 0;
                for n in chars.by_ref() {
                    match n {
                        '(' => depth += 1,
                        ')' => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        _ => {}
                    }
                }
                out.push(UNKNOWN);
                continue;
            }
            let braced = chars.peek() == Some(&'{');
            if braced {
                chars.next();
            }
            let mut name = String::new();
            while let Some(&n) = chars.peek() {
                if braced && n == '}' {
                    chars.next();
                    break;
                }
                if !(braced || n.is_alphanumeric() || n == '_' || n == ':') {
                    break;
                }
                name.push(n);
                chars.next();
            }
            out.push_str(&self.var(&name.to_ascii_lowercase()).text());
        }
        out
    }

    /// Commands joined by `|`; a value first feeds `ForEach-Object { }` blocks.
    fn pipeline(&mut self, outer: Option<(Span, bool)>) {
        let start = self.pos;
        let mut input: Option<Val> = None;
        let starts_with_value = matches!(
            self.peek(),
            Some(Tok::Num(_) | Tok::Str { .. } | Tok::Var(_) | Tok::Op("@(") | Tok::Op("("))
        );
        if starts_with_value {
            input = Some(self.expression());
        }
        loop {
            if input.is_none() || self.is_op("|") {
                if self.is_op("|") {
                    self.pos += 1;
                }
                if self.at_statement_end() {
                    return;
                }
                let is_foreach = matches!(self.peek(), Some(Tok::Word(w)) if matches!(w.to_ascii_lowercase().as_str(), "%" | "foreach-object" | "foreach"));
                if is_foreach && input.is_some() {
                    self.pos += 1;
                    let values = input.take().unwrap_or(Val::Unknown);
                    let span = outer.map_or_else(|| self.span_through_block(start), |(s, _)| s);
                    self.with_loop("_", &values, span, |ps, s| {
                        let previous = ps.vars.get("_").cloned();
                        if let Some(v) = previous {
                            ps.vars.insert("psitem".to_owned(), v);
                        }
                        ps.block(Some(s));
                    });
                    input = Some(Val::Unknown);
                    continue;
                }
                self.command(outer);
                input = Some(Val::Unknown);
                if !self.is_op("|") {
                    return;
                }
            } else {
                self.rest_of_statement();
                if !self.is_op("|") {
                    return;
                }
            }
        }
    }

    /// One command with its arguments.
    fn command(&mut self, outer: Option<(Span, bool)>) {
        let start = self.pos;
        if self.is_op("&") || self.is_op(".") {
            self.pos += 1;
        }
        let name = match self.peek() {
            Some(Tok::Word(_) | Tok::Str { .. } | Tok::Var(_)) => self.primary(false).text(),
            _ => {
                self.rest_of_statement();
                return;
            }
        };
        let mut args: Vec<(Option<String>, Val, Span, String)> = Vec::new();
        while !self.at_statement_end() && !self.is_op("|") && !self.is_op(")") {
            let here = self.pos;
            let span = self.span_here();
            match self.peek().cloned() {
                Some(Tok::Param { name, raw }) => {
                    self.pos += 1;
                    let glued_value = raw.split_once(':').map(|(_, v)| Val::Str(v.to_owned()));
                    args.push((
                        Some(name),
                        glued_value.unwrap_or(Val::Str(String::new())),
                        span,
                        raw,
                    ));
                }
                _ => {
                    let value = self.expression();
                    let raw = value.text();
                    match args.last_mut() {
                        Some((Some(_), v, s, _)) if *v == Val::Str(String::new()) => {
                            *v = value;
                            *s = span.to(self.span_since(here));
                        }
                        _ => args.push((None, value, span.to(self.span_since(here)), raw)),
                    }
                }
            }
            if self.pos == here {
                self.pos += 1;
            }
        }
        let command_span = self.span_since(start);
        let site = Site {
            command: command_span,
            statement: outer.map_or(command_span, |(s, _)| s),
            in_loop: outer.is_some_and(|(_, l)| l),
        };
        self.dispatch(&name, &args, site);
    }

    fn dispatch(&mut self, name: &str, args: &[(Option<String>, Val, Span, String)], site: Site) {
        let program = commands::program_name(name);
        match program.as_str() {
            "netsh" | "appcmd" | "cscript" | "wscript" | "adsutil" | "ipseccmd" | "ipsecpol" => {
                let mut native = vec![Arg {
                    text: name.to_owned(),
                    span: site.command,
                }];
                for (param, value, span, raw) in args {
                    if param.is_some() {
                        native.push(Arg {
                            text: raw.clone(),
                            span: *span,
                        });
                        if *value != Val::Str(String::new()) && !raw.contains(':') {
                            native.push(Arg {
                                text: value.text(),
                                span: *span,
                            });
                        }
                    } else {
                        for item in value.items() {
                            native.push(Arg {
                                text: item.text(),
                                span: *span,
                            });
                        }
                    }
                }
                commands::run(&native, &self.loops, site, self.fx);
            }
            _ => {
                let bound = Bound { args };
                let fx = &mut *self.fx;
                cmdlet(&program, &bound, &self.loops, site, fx);
            }
        }
    }
}

/// Cmdlet parameters, matched by unique prefix as PowerShell binds them.
struct Bound<'a> {
    args: &'a [(Option<String>, Val, Span, String)],
}

impl Bound<'_> {
    fn get(&self, name: &str) -> Option<(&Val, Span)> {
        self.args.iter().rev().find_map(|(p, v, s, _)| {
            let p = p.as_deref()?;
            (name.starts_with(p) && !p.is_empty()).then_some((v, *s))
        })
    }

    fn positional(&self, k: usize) -> Option<(&Val, Span)> {
        self.args
            .iter()
            .filter(|(p, ..)| p.is_none())
            .nth(k)
            .map(|(_, v, s, _)| (v, *s))
    }

    fn text(&self, name: &str) -> Option<String> {
        self.get(name).map(|(v, _)| v.text())
    }
}

fn cmdlet(program: &str, b: &Bound, loops: &Loops, site: Site, fx: &mut Effects) {
    match program {
        "new-netfirewallrule" => {
            if let Some(rule) = new_rule(b, loops, site, fx) {
                fx.firewall.push(Change::Add(rule));
            }
        }
        "remove-netfirewallrule" => {
            if let Some(filter) = name_filter(b, fx, site) {
                fx.firewall.push(Change::Delete(filter));
            }
        }
        "enable-netfirewallrule" | "disable-netfirewallrule" => {
            if let Some(filter) = name_filter(b, fx, site) {
                fx.firewall.push(Change::SetEnabled {
                    filter,
                    enabled: program.starts_with("enable"),
                });
            }
        }
        "set-netfirewallrule" => {
            let Some(filter) = name_filter(b, fx, site) else {
                return;
            };
            if let Some(e) = b.text("enabled") {
                fx.firewall.push(Change::SetEnabled {
                    filter,
                    enabled: e.eq_ignore_ascii_case("true"),
                });
            } else {
                fx.firewall.push(Change::Uncertain(Uncertainty {
                    span: site.statement,
                    what: "Set-NetFirewallRule changes are not modelled".to_owned(),
                }));
            }
        }
        "set-netfirewallprofile" => profile(b, site, fx),
        "set-netconnectionprofile" => connection_profile(b, site, fx),
        "set-webconfigurationproperty" => web_property(b, fx),
        "set-webconfiguration" => web_configuration(b, fx),
        "set-iisconfigattributevalue" => {
            let (Some(name), Some((value, span))) =
                (b.text("attributename"), b.get("attributevalue"))
            else {
                return;
            };
            let lower = name.to_ascii_lowercase();
            if lower == "lowdatachannelport" || lower == "highdatachannelport" {
                data_channel_port(fx, lower.starts_with("high"), &value.text(), span, &name);
            }
        }
        "new-webftpsite" => {
            if let Some((port, span)) = b.get("port") {
                fx.iis.push(IisSetting::ControlPort {
                    iis7: true,
                    site: "1".to_owned(),
                    port: port.text().parse().ok(),
                    span,
                });
            }
        }
        _ => {}
    }
}

const NNFR_HELP: &str = "write New-NetFirewallRule -DisplayName \"Passive FTP\" -Direction Inbound -Protocol TCP -LocalPort 5001-5201 -Action Allow";

fn reject(fx: &mut Effects, span: Span, message: String) {
    fx.findings
        .push(Finding::new(RULE_FW_MALFORMED, span, message, "rejected").help(NNFR_HELP));
}

fn new_rule(b: &Bound, loops: &Loops, site: Site, fx: &mut Effects) -> Option<WinRule> {
    let dir = match b.text("direction").map(|d| d.to_ascii_lowercase()) {
        None => Direction::In,
        Some(d) if d == "inbound" => Direction::In,
        Some(d) if d == "outbound" => Direction::Out,
        Some(d) if is_unknown(&d) => return None,
        Some(d) => {
            reject(
                fx,
                b.get("direction").map_or(site.command, |x| x.1),
                format!(
                    "-Direction {d} is not Inbound or Outbound: New-NetFirewallRule rejects it"
                ),
            );
            return None;
        }
    };
    let action = match b.text("action").map(|d| d.to_ascii_lowercase()) {
        None => RuleAction::Allow,
        Some(a) if a == "allow" => RuleAction::Allow,
        Some(a) if a == "block" => RuleAction::Block,
        Some(a) if is_unknown(&a) => return None,
        Some(a) => {
            reject(
                fx,
                b.get("action").map_or(site.command, |x| x.1),
                format!("-Action {a} is not Allow or Block: New-NetFirewallRule rejects it"),
            );
            return None;
        }
    };
    let protocol = match b.text("protocol") {
        None => Protocol::Any,
        Some(p) => Protocol::parse(&p).unwrap_or(Protocol::Any),
    };
    let enabled = match b.get("enabled") {
        None => true,
        Some((v, span)) => {
            let t = v.text();
            if t.starts_with('$') {
                reject(
                    fx,
                    span,
                    format!(
                        "-Enabled {t}: the parameter takes the strings True or False; $true and $false are not accepted"
                    ),
                );
            }
            !t.to_ascii_lowercase().contains("false")
        }
    };
    let local_ports = match b.get("localport") {
        None => LocalPorts::Any,
        Some((value, span)) => {
            if !matches!(protocol, Protocol::Tcp | Protocol::Udp) {
                reject(fx, span, "-LocalPort needs -Protocol TCP or UDP: New-NetFirewallRule rejects numeric ports without it".to_owned());
                return None;
            }
            ps_ports(value, span, loops, fx)?
        }
    };
    let remote = match b.get("remoteaddress") {
        None => Remote::All,
        Some((v, _)) => Remote::from_list(&v.text()),
    };
    let profiles = match b.get("profile") {
        None => ProfileSet::ALL,
        Some((v, _)) if is_unknown(&v.text()) => ProfileSet::ALL,
        Some((v, span)) => match ProfileSet::parse_list(&v.text()) {
            Some(set) => set,
            None => {
                reject(
                    fx,
                    span,
                    format!(
                        "-Profile {} is not Any, Domain, Private or Public: New-NetFirewallRule rejects it",
                        v.text()
                    ),
                );
                return None;
            }
        },
    };
    let name = b.text("displayname").or_else(|| b.text("name"));
    let program = b.text("program");
    let service = b.text("service");
    Some(WinRule {
        name,
        action,
        dir,
        protocol,
        local_ports,
        remote,
        enabled,
        applies_to_ftp: admits_ftp_service(program.as_deref(), service.as_deref()),
        legacy: false,
        profiles,
        span: site.statement,
    })
}

/// `-LocalPort 21,5000-5100`, `@(...)`, `(5000..5100)`, `$p` in a loop, `Any`.
fn ps_ports(value: &Val, span: Span, loops: &Loops, fx: &mut Effects) -> Option<LocalPorts> {
    let mut set = PortSet::empty();
    for item in value.items() {
        match item {
            Val::Num(n) => match u16::try_from(n) {
                Ok(p) => set.insert_range(p, p),
                Err(_) => {
                    reject(
                        fx,
                        span,
                        format!(
                            "-LocalPort {n} is not a port in 0-65535: New-NetFirewallRule rejects it"
                        ),
                    );
                    return None;
                }
            },
            Val::Range(a, b) => match (u16::try_from(a.min(b)), u16::try_from(a.max(b))) {
                (Ok(lo), Ok(hi)) => set.insert_range(lo, hi),
                _ => {
                    return Some(LocalPorts::Unknown(format!(
                        "ports {a}..{b} are not all ports"
                    )));
                }
            },
            Val::Loop(m) => {
                let Some((ports, _)) = loops.whole(&m.to_string()).and_then(LoopValues::ports)
                else {
                    return Some(LocalPorts::Unknown(
                        "the loop's values are not known here".to_owned(),
                    ));
                };
                set = set.union(&ports);
            }
            Val::Str(s) if s.eq_ignore_ascii_case("any") => return Some(LocalPorts::Any),
            Val::Str(s) if is_unknown(&s) || Loops::mentions_loop(&s) => {
                return Some(LocalPorts::Unknown(format!(
                    "-LocalPort `{}` is not known here",
                    loops.display(&s)
                )));
            }
            Val::Str(s) if s.chars().next().is_some_and(|c| c.is_ascii_alphabetic()) => {
                return Some(LocalPorts::Unknown(format!(
                    "-LocalPort {s} is a dynamic keyword"
                )));
            }
            Val::Str(s) => match parse_port_list(&s) {
                Ok(p) => set = set.union(&p),
                Err(why) => {
                    reject(
                        fx,
                        span,
                        format!("-LocalPort {s}: {why}: New-NetFirewallRule rejects it"),
                    );
                    return None;
                }
            },
            _ => {
                return Some(LocalPorts::Unknown(
                    "-LocalPort is not known here".to_owned(),
                ));
            }
        }
    }
    Some(LocalPorts::Set(set))
}

fn name_filter(b: &Bound, fx: &mut Effects, site: Site) -> Option<RuleFilter> {
    let name = b
        .text("displayname")
        .or_else(|| b.text("name"))
        .or_else(|| b.positional(0).map(|(v, _)| v.text()))?;
    if is_unknown(&name) || Loops::mentions_loop(&name) {
        fx.firewall.push(Change::Uncertain(Uncertainty {
            span: site.statement,
            what: "rule name not known here".to_owned(),
        }));
        return None;
    }
    Some(RuleFilter {
        name: Some(name),
        dir: None,
        protocol: None,
        local_ports: None,
    })
}

/// `Set-NetFirewallProfile -All|-Profile Domain,Private,Public -Enabled False -DefaultInboundAction Allow`.
fn profile(b: &Bound, site: Site, fx: &mut Effects) {
    let listed = b.text("profile").unwrap_or_default();
    let profiles = if b.get("all").is_some() {
        Some(ProfileSet::ALL)
    } else {
        ProfileSet::parse_list(&listed)
    };
    let Some(profiles) = profiles else {
        fx.firewall.push(Change::Uncertain(Uncertainty {
            span: site.statement,
            what: format!("profile `{listed}` is not known here"),
        }));
        return;
    };
    let span = site.statement;
    if let Some(e) = b.text("enabled") {
        fx.firewall.push(Change::State {
            on: !e.to_ascii_lowercase().contains("false"),
            profiles,
            span,
        });
    }
    let inbound = b
        .text("defaultinboundaction")
        .map(|a| a.to_ascii_lowercase());
    if let Some(a) = inbound.filter(|a| a == "allow" || a == "block") {
        fx.firewall.push(Change::InboundAllow {
            allow: a == "allow",
            profiles,
            span,
        });
    }
}

/// `Set-NetConnectionProfile -NetworkCategory Private`: the network, and so the
/// firewall profile, the host is on.
fn connection_profile(b: &Bound, site: Site, fx: &mut Effects) {
    let category = b.text("networkcategory").unwrap_or_default();
    let profile = match category.to_ascii_lowercase().as_str() {
        "public" => Profile::Public,
        "private" => Profile::Private,
        "domainauthenticated" => Profile::Domain,
        _ => return,
    };
    fx.firewall.push(Change::HostProfile {
        profile,
        span: site.statement,
    });
}

fn section_of(b: &Bound) -> String {
    b.text("filter")
        .or_else(|| b.positional(0).map(|(v, _)| v.text()))
        .unwrap_or_default()
        .trim_start_matches('/')
        .to_ascii_lowercase()
}

/// `Set-WebConfigurationProperty -Filter "system.ftpServer/firewallSupport" -Name lowDataChannelPort -Value 5000`.
fn web_property(b: &Bound, fx: &mut Effects) {
    let section = section_of(b);
    let name = b
        .text("name")
        .or_else(|| b.positional(2).map(|(v, _)| v.text()))
        .unwrap_or_default();
    let Some((value, span)) = b.get("value") else {
        return;
    };
    let lower = name.to_ascii_lowercase();
    if section == "system.ftpserver/firewallsupport" && lower.ends_with("datachannelport") {
        data_channel_port(fx, lower.starts_with("high"), &value.text(), span, &name);
    } else if section.contains("ftpserver/connections") && lower == "maxconnections" {
        fx.iis.push(IisSetting::MaxConnections {
            iis7: true,
            site: None,
            value: value.text().parse().ok(),
            span,
        });
    }
}

/// `Set-WebConfiguration "/system.ftpServer/firewallSupport" -Value @{lowDataChannelPort="5000";highDataChannelPort="6000"}`.
fn web_configuration(b: &Bound, fx: &mut Effects) {
    if section_of(b) != "system.ftpserver/firewallsupport" {
        return;
    }
    let Some((Val::Hash(entries), _)) = b.get("value") else {
        return;
    };
    for (key, value, span) in entries {
        if key == "lowdatachannelport" || key == "highdatachannelport" {
            data_channel_port(fx, key.starts_with("high"), &value.text(), *span, key);
        }
    }
}

fn loop_values(v: &Val) -> LoopValues {
    match v {
        Val::Range(a, b) => LoopValues::Progression {
            start: *a,
            step: if b >= a { 1 } else { -1 },
            end: *b,
        },
        Val::Num(n) => LoopValues::List(vec![n.to_string()]),
        Val::Str(s) if !is_unknown(s) => LoopValues::List(vec![s.clone()]),
        Val::List(items) if items.iter().all(|i| matches!(i, Val::Num(_) | Val::Str(_))) => {
            LoopValues::List(items.iter().map(Val::text).collect())
        }
        _ => LoopValues::Unknown,
    }
}

/// The variable and values of `$i = a; $i -le b; $i++` (or `+= k`, `-lt`, `--`, `-ge`...).
fn counted_loop(header: &[Tok], vars: &HashMap<String, Val>) -> (Option<String>, Val) {
    let parts: Vec<&[Tok]> = header.split(|t| *t == Tok::Sep).collect();
    let num = |t: Option<&Tok>| -> Option<i64> {
        match t? {
            Tok::Num(n) => Some(*n),
            Tok::Var(v) => match vars.get(v)? {
                Val::Num(n) => Some(*n),
                _ => None,
            },
            Tok::Word(w) => w.parse().ok(),
            _ => None,
        }
    };
    let [init, cond, step] = parts.as_slice() else {
        return (None, Val::Unknown);
    };
    let (Some(Tok::Var(var)), Some(Tok::Op("="))) = (init.first(), init.get(1)) else {
        return (None, Val::Unknown);
    };
    let start = num(init.get(2));
    let (op, end) = match (cond.first(), cond.get(1)) {
        (Some(Tok::Var(v)), Some(Tok::Param { name, .. })) if v == var => {
            (name.clone(), num(cond.get(2)))
        }
        _ => return (Some(var.clone()), Val::Unknown),
    };
    let stride = match step {
        [Tok::Var(v), Tok::Word(w)] if v == var && w == "++" => Some(1),
        [Tok::Var(v), Tok::Word(w)] if v == var && w == "--" => Some(-1),
        [Tok::Var(v), Tok::Word(w), n] if v == var && w == "+=" => num(Some(n)),
        [Tok::Var(v), Tok::Word(w), n] if v == var && w == "-=" => num(Some(n)).map(|k| -k),
        _ => None,
    };
    let (Some(start), Some(end), Some(step)) = (start, end, stride) else {
        return (Some(var.clone()), Val::Unknown);
    };
    let end = match op.as_str() {
        "le" | "ge" => end,
        "lt" => end - 1,
        "gt" => end + 1,
        _ => return (Some(var.clone()), Val::Unknown),
    };
    if step.abs() == 1 {
        return (Some(var.clone()), Val::Range(start, end));
    }
    let count = super::LoopValues::Progression { start, step, end }
        .count()
        .unwrap_or(0);
    if count > 70_000 {
        return (Some(var.clone()), Val::Unknown);
    }
    let items = (0..count as i64)
        .map(|k| Val::Num(start + k * step))
        .collect();
    (Some(var.clone()), Val::List(items))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FileId;

    fn effects(script: &str) -> Effects {
        let src = SourceFile::new(FileId(0), "x.ps1", script.as_bytes());
        let mut fx = Effects::default();
        run(&src, &mut fx);
        fx
    }

    fn ports(fx: &Effects) -> Vec<String> {
        super::super::test_support::added_ports(fx)
    }

    #[test]
    fn new_netfirewallrule_forms() {
        let fx = effects(
            "New-NetFirewallRule -DisplayName \"FTP\" -Direction Inbound -Protocol TCP -LocalPort 21,5000-5100 -Action Allow\n\
             New-NetFirewallRule -DisplayName 'x' `\n  -Protocol TCP -LocalPort @(\"990\", \"6000-6010\") -Enabled False\n\
             $ports = 7000..7010\nNew-NetFirewallRule -DisplayName y -Protocol TCP -LocalPort $ports -RemoteAddress LocalSubnet\n",
        );
        assert_eq!(
            ports(&fx),
            vec!["21,5000-5100", "990,6000-6010", "7000-7010"]
        );
        let Change::Add(r) = &fx.firewall[1] else {
            panic!()
        };
        assert!(!r.enabled);
        let Change::Add(r) = &fx.firewall[2] else {
            panic!()
        };
        assert_eq!(r.remote, Remote::Some("LocalSubnet".into()));
    }

    #[test]
    fn loops_are_port_sets() {
        let fx = effects(
            "foreach ($p in 5001..5201) { New-NetFirewallRule -DisplayName \"Passive $p\" -Protocol TCP -LocalPort $p }\n\
             5300..5310 | ForEach-Object { netsh advfirewall firewall add rule name=\"P$_\" dir=in action=allow protocol=TCP localport=$_ }\n\
             for ($i = 6000; $i -lt 6010; $i++) { New-NetFirewallRule -DisplayName z -Protocol TCP -LocalPort $i }\n",
        );
        assert_eq!(ports(&fx), vec!["5001-5201", "5300-5310", "6000-6009"]);
    }

    #[test]
    fn iis_settings() {
        let fx = effects(
            "Set-WebConfigurationProperty -pspath 'MACHINE/WEBROOT/APPHOST' -filter \"system.ftpServer/firewallSupport\" -name \"lowDataChannelPort\" -value 6000\n\
             Set-WebConfiguration \"/system.ftpServer/firewallSupport\" -PSPath \"IIS:\\\" -Value @{lowDataChannelPort=\"5000\";highDataChannelPort=\"6000\";}\n\
             & \"$env:windir\\system32\\inetsrv\\appcmd.exe\" set config -section:system.ftpServer/firewallSupport /highDataChannelPort:7000\n",
        );
        let values: Vec<Option<u32>> = fx
            .iis
            .iter()
            .map(|s| match s {
                IisSetting::DataChannelPort { value, .. } => *value,
                _ => None,
            })
            .collect();
        assert_eq!(values, vec![Some(6000), Some(5000), Some(6000), Some(7000)]);
    }

    #[test]
    fn never_panics() {
        for s in [
            "$",
            "${",
            "@(",
            "@{",
            "\"",
            "'",
            "`",
            "<#",
            "foreach (",
            "for (;;) {",
            "-",
            "..",
            "1..",
            "$a=",
            "} } )",
            "New-NetFirewallRule -LocalPort",
            "é$é",
        ] {
            let _ = effects(s);
        }
    }
}
