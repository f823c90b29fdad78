//! cmd.exe batch files (`.cmd`/`.bat`) as cmd runs them: lines read and
//! `%`-expanded one at a time (a parenthesised block as one), labels and
//! `goto`, `call :label` with its arguments, `exit /b`, `if`/`else`, `for`
//! loops unrolled, `set`/`set /a`/`setlocal`, delayed `!v!`, redirections.
//! Each program the script runs is streamed with the argument vector it sees
//! when it splits its command line the standard (MSVCRT) way.

mod argv;
mod arith;
pub(crate) mod cells;
mod expand;
mod parse;
mod vars;

use self::cells::{Cell, Cells, first_token, lower, text, trim_blanks, trim_delimiters};
use self::expand::{ForValue, Lookup, Scope};
use self::parse::{For, ForKind, If, LineSource, Node, Op, Parser, RawRedirect, Simple, Test};
use self::vars::Vars;
use super::{
    Budget, Command, Input, Outcome, Redirect, Shell, Status, Text, UNKNOWN, Uncertain, Word,
    Write, WriteOp,
};
use crate::source::{SourceFile, Span};
use std::collections::HashSet;

/// cmd's longest line after expansion ("The input line is too long").
pub const LINE_MAX: usize = 8191;

/// Runs `source` as a batch file, streaming each program it runs to `sink`.
pub fn run(source: &SourceFile, sink: &mut dyn FnMut(Command) -> Status) -> Outcome {
    let mut interp = Interp::new(source, sink);
    interp.run_file();
    interp.finish()
}

enum Flow {
    Next,
    Goto(String),
    /// `goto :eof`, `exit /b [n]`, the end of the file.
    Return(Option<i32>),
    /// `exit`, a syntax error, a spent budget.
    Exit,
}

/// An uncertain jump not taken: what follows runs only if it was not taken.
#[derive(Clone)]
enum Skip {
    ToLabel(String, Span),
    ToEnd(Span),
}

struct Interp<'a> {
    source: &'a SourceFile,
    lines: Vec<(usize, usize)>,
    labels: Vec<(usize, String)>,
    pc: usize,
    vars: Vars,
    budget: Budget,
    sink: &'a mut dyn FnMut(Command) -> Status,
    writes: Vec<Write>,
    uncertain: Vec<Span>,
    skip: Option<Skip>,
    for_vars: Vec<ForValue>,
    /// The files enclosing `( … ) > F` blocks write to, and whether the next
    /// line appends.
    block_output: Vec<(RawRedirect, bool)>,
    /// Loops running their body more than once, around the current command.
    repeating: usize,
    seen: HashSet<(u32, u32)>,
    last_ok: Option<bool>,
    depth: usize,
}

impl<'a> Interp<'a> {
    fn new(source: &'a SourceFile, sink: &'a mut dyn FnMut(Command) -> Status) -> Self {
        let lines = physical_lines(&source.text);
        let labels = labels(&source.text, &lines);
        Interp {
            source,
            lines,
            labels,
            pc: 0,
            vars: Vars::new(),
            budget: Budget {
                max_string: LINE_MAX.min(source.limits.string_bytes),
                ..Budget::of(&source.limits)
            },
            sink,
            writes: Vec::new(),
            uncertain: Vec::new(),
            skip: None,
            for_vars: Vec::new(),
            block_output: Vec::new(),
            repeating: 0,
            seen: HashSet::new(),
            last_ok: Some(true),
            depth: 0,
        }
    }

    fn finish(self) -> Outcome {
        Outcome {
            shell: Some(Shell::Cmd),
            writes: self.writes,
            limits: self.budget.hit.into_iter().collect(),
            stop: None,
        }
    }

    fn span(&self, at: (u32, u32)) -> Span {
        self.source.span(at.0 as usize, at.1 as usize)
    }

    fn run_file(&mut self) {
        let _ = self.run_from(0);
    }

    fn run_from(&mut self, pc: usize) -> Flow {
        self.pc = pc;
        loop {
            if self.budget.exhausted() {
                return Flow::Exit;
            }
            let Some(&(start, end)) = self.lines.get(self.pc) else {
                return Flow::Return(None);
            };
            let line_span = self.source.span(start, end);
            let node = {
                let mut reader = Reader {
                    source: self.source,
                    lines: &self.lines,
                    pc: &mut self.pc,
                    scope: &self.vars,
                    budget: &mut self.budget,
                };
                Parser::statement(&mut reader)
            };
            let Some(node) = node else {
                return Flow::Return(None);
            };
            if !self.budget.step(line_span) {
                return Flow::Exit;
            }
            if let Node::Label(name) = &node {
                self.reach_label(name);
                continue;
            }
            match self.exec(&node) {
                Flow::Next => {}
                Flow::Goto(label) => match self.find_label(&label) {
                    Some(line) => {
                        self.pc = line + 1;
                        self.reach_label(&label);
                    }
                    // "The system cannot find the batch label specified".
                    None => return Flow::Return(None),
                },
                other => return other,
            }
        }
    }

    fn reach_label(&mut self, name: &str) {
        if matches!(&self.skip, Some(Skip::ToLabel(l, _)) if l == name) {
            self.skip = None;
        }
    }

    /// The label's line: searched from the current line to the end, then from
    /// the top, as cmd does.
    fn find_label(&self, name: &str) -> Option<usize> {
        let after = self
            .labels
            .iter()
            .find(|(line, l)| *line >= self.pc && l == name);
        after
            .or_else(|| self.labels.iter().find(|(_, l)| l == name))
            .map(|(line, _)| *line)
    }

    fn exec(&mut self, node: &Node) -> Flow {
        if self.budget.exhausted() {
            return Flow::Exit;
        }
        match node {
            Node::Simple(s) => self.simple(s),
            Node::Block(body, redirects) => self.nested(|it| it.redirected_block(body, redirects)),
            Node::If(i) => self.nested(|it| it.if_statement(i)),
            Node::For(f) => self.nested(|it| it.for_loop(f)),
            Node::Chain(items) => self.chain(items),
            Node::Label(_) | Node::Empty => Flow::Next,
            Node::Malformed(_) => Flow::Exit,
            Node::TooDeep(at) => {
                let _ = self.budget.depth(usize::MAX, self.span(*at));
                Flow::Next
            }
        }
    }

    fn nested(&mut self, run: impl FnOnce(&mut Self) -> Flow) -> Flow {
        self.depth += 1;
        let flow = run(self);
        self.depth -= 1;
        flow
    }

    /// `( echo a & echo b ) > F`: the block's output goes to `F`.
    fn redirected_block(&mut self, body: &[Node], redirects: &[RawRedirect]) -> Flow {
        let output = redirects.iter().rev().find(|r| !r.input && r.fd == 1);
        let Some(output) = output else {
            return self.block(body);
        };
        self.block_output.push((output.clone(), output.append));
        let flow = self.block(body);
        self.block_output.pop();
        flow
    }

    fn block(&mut self, body: &[Node]) -> Flow {
        for node in body {
            match self.exec(node) {
                Flow::Next => {}
                other => return other,
            }
        }
        Flow::Next
    }

    fn chain(&mut self, items: &[(Op, Node)]) -> Flow {
        let mut previous: Option<Span> = None;
        for (op, node) in items {
            let runs = match op {
                Op::Then | Op::Pipe => Some(true),
                Op::And => self.last_ok,
                Op::Or => self.last_ok.map(|ok| !ok),
            };
            let flow = match (runs, previous) {
                (Some(false), _) => Flow::Next,
                (None, Some(condition)) => self.maybe(condition, node),
                _ => self.exec(node),
            };
            if !matches!(flow, Flow::Next) {
                return flow;
            }
            previous = node_at(node).map(|at| self.span(at));
        }
        Flow::Next
    }

    /// Runs `node` as something that may or may not run; a jump it makes is
    /// not taken, and what follows becomes uncertain instead.
    fn maybe(&mut self, condition: Span, node: &Node) -> Flow {
        self.uncertain.push(condition);
        let flow = self.exec(node);
        self.uncertain.pop();
        match flow {
            Flow::Next => {}
            Flow::Goto(label) => self.defer_goto(label, condition),
            Flow::Return(_) | Flow::Exit => {
                if self.budget.exhausted() {
                    return Flow::Exit;
                }
                self.skip.get_or_insert(Skip::ToEnd(condition));
            }
        }
        Flow::Next
    }

    fn defer_goto(&mut self, label: String, condition: Span) {
        if self.skip.is_some() {
            return;
        }
        let forward = self.find_label(&label).is_some_and(|line| line >= self.pc);
        if forward {
            self.skip = Some(Skip::ToLabel(label, condition));
        }
    }

    fn current_uncertainty(&self) -> Option<Uncertain> {
        let span = self.uncertain.last().copied().or(match &self.skip {
            Some(Skip::ToLabel(_, s) | Skip::ToEnd(s)) => Some(*s),
            None => None,
        })?;
        Some(Uncertain { span })
    }

    fn if_statement(&mut self, i: &If) -> Flow {
        let verdict = self.test(&i.test, i.fold).map(|v| v != i.negate);
        let condition = self.span(i.at);
        if !self.budget.step(condition) {
            return Flow::Exit;
        }
        match verdict {
            Some(true) => self.exec(&i.then),
            Some(false) => i.otherwise.as_ref().map_or(Flow::Next, |o| self.exec(o)),
            None => {
                let flow = self.maybe(condition, &i.then);
                if let Some(o) = &i.otherwise {
                    let _ = self.maybe(condition, o);
                }
                flow
            }
        }
    }

    fn test(&mut self, test: &Test, fold: bool) -> Option<bool> {
        match test {
            Test::Equal(a, b) => {
                let (a, b) = (self.value(a), self.value(b));
                if a.contains(UNKNOWN) || b.contains(UNKNOWN) {
                    return None;
                }
                Some(if fold {
                    a.eq_ignore_ascii_case(&b)
                } else {
                    a == b
                })
            }
            Test::Compare(a, op, b) => {
                let (a, b) = (self.value(a), self.value(b));
                compare(&a, op, &b, fold)
            }
            Test::Exist => None,
            Test::Defined(name) => match self.vars.var(&self.value(name)) {
                Lookup::Known(_) => Some(true),
                Lookup::Undefined => Some(false),
                Lookup::Unknown => None,
            },
            Test::Errorlevel(n) => {
                let n = self.value(n);
                let level = self.vars.errorlevel?;
                Some(i64::from(level) >= expand::atoi(&n))
            }
            Test::CmdExtVersion(n) => Some(expand::atoi(&self.value(n)) <= 2),
        }
    }

    /// Phases 4 and 5 on cells: FOR variables, then delayed expansion.
    fn resolve(&self, cells: &[Cell]) -> Cells {
        let cells = expand::for_variables(cells, &self.for_vars);
        if self.vars.delayed() {
            expand::delayed(&cells, &self.vars)
        } else {
            cells
        }
    }

    fn value(&self, cells: &[Cell]) -> String {
        text(&self.resolve(cells))
    }

    fn for_loop(&mut self, f: &For) -> Flow {
        let at = self.span(f.at);
        if !self.budget.depth(self.depth, at) {
            return Flow::Next;
        }
        let set = self.resolve(&f.set);
        match f.kind {
            ForKind::Range => self.range_loop(f, &text(&set), at),
            ForKind::List => self.list_loop(f, &set, at),
            ForKind::Lines | ForKind::Dirs | ForKind::Recursive => self.unknown_loop(f, at),
        }
    }

    fn range_loop(&mut self, f: &For, set: &str, at: Span) -> Flow {
        if set.contains(UNKNOWN) {
            return self.unknown_loop(f, at);
        }
        let mut numbers = set
            .split(cells::is_delimiter)
            .filter(|s| !s.is_empty())
            .map(|s| expand::atoi(s) as i32);
        let start = numbers.next().unwrap_or(0);
        let step = numbers.next().unwrap_or(0);
        let end = numbers.next().unwrap_or(0);
        let more_than_once = if step >= 0 {
            start <= end && (step == 0 || i64::from(end) - i64::from(start) >= i64::from(step))
        } else {
            start >= end && i64::from(start) - i64::from(end) >= -i64::from(step)
        };
        let mut i = start;
        self.repeating += usize::from(more_than_once);
        let flow = loop {
            let runs = if step >= 0 { i <= end } else { i >= end };
            if !runs {
                break Flow::Next;
            }
            if !self.budget.step(at) {
                break Flow::Exit;
            }
            match self.iteration(f, Some(i.to_string())) {
                Flow::Next => {}
                other => break other,
            }
            let (next, overflow) = i.overflowing_add(step);
            // cmd's counter wraps: a bound at the end of the range never stops it.
            i = next;
            let _ = overflow;
        };
        self.repeating -= usize::from(more_than_once);
        flow
    }

    fn list_loop(&mut self, f: &For, set: &[Cell], at: Span) -> Flow {
        let items = list_items(set);
        let more_than_once = items.len() > 1;
        self.repeating += usize::from(more_than_once);
        let mut flow = Flow::Next;
        for item in items {
            if !self.budget.step(at) {
                flow = Flow::Exit;
                break;
            }
            let step = if item.contains(['*', '?']) || item.contains(UNKNOWN) {
                self.uncertain.push(at);
                let flow = self.iteration(f, None);
                self.uncertain.pop();
                flow
            } else {
                self.iteration(f, Some(item))
            };
            if !matches!(step, Flow::Next) {
                flow = step;
                break;
            }
        }
        self.repeating -= usize::from(more_than_once);
        flow
    }

    /// `for /f`, `/d`, `/r`: the body may run, with values not known here.
    fn unknown_loop(&mut self, f: &For, at: Span) -> Flow {
        let tokens = lower(&f.options).contains("tokens");
        let extra = if tokens { 8 } else { 0 };
        let letters: Vec<char> = (0..=extra)
            .filter_map(|k| char::from_u32(f.letter as u32 + k))
            .collect();
        for l in &letters {
            self.for_vars.push(ForValue {
                letter: *l,
                value: None,
            });
        }
        self.uncertain.push(at);
        self.repeating += 1;
        let flow = self.exec(&f.body);
        self.repeating -= 1;
        self.uncertain.pop();
        self.for_vars.truncate(self.for_vars.len() - letters.len());
        match flow {
            Flow::Goto(label) => {
                self.defer_goto(label, at);
                Flow::Next
            }
            Flow::Exit if self.budget.exhausted() => Flow::Exit,
            Flow::Return(_) | Flow::Exit => {
                self.skip.get_or_insert(Skip::ToEnd(at));
                Flow::Next
            }
            Flow::Next => Flow::Next,
        }
    }

    fn iteration(&mut self, f: &For, value: Option<String>) -> Flow {
        self.for_vars.push(ForValue {
            letter: f.letter,
            value,
        });
        let flow = self.exec(&f.body);
        self.for_vars.pop();
        flow
    }

    fn simple(&mut self, s: &Simple) -> Flow {
        let span = self.span(s.at);
        if !self.budget.step(span) {
            return Flow::Exit;
        }
        let cells = self.resolve(&s.cells);
        self.command(&cells, s, span)
    }

    /// Runs a command's text: a builtin, or a program.
    fn command(&mut self, cells: &[Cell], s: &Simple, span: Span) -> Flow {
        self.last_ok = Some(true);
        let (name, rest) = builtin(cells);
        match name.as_str() {
            "echo" => self.echo(rest, s, span),
            "set" => self.set(rest, span),
            "setlocal" => self.vars.setlocal(&lower(rest)),
            "endlocal" => self.vars.endlocal(),
            "shift" => self.vars.shift(),
            "goto" => return goto(rest),
            "call" => return self.call(rest, s, span),
            "exit" => return self.exit(rest),
            "cd" | "chdir" | "pushd" | "popd" | "title" | "color" | "cls" | "pause" | "prompt"
            | "ver" | "verify" | "break" | "rem" => {}
            _ => return self.external(cells, s, span),
        }
        Flow::Next
    }

    fn exit(&mut self, rest: &[Cell]) -> Flow {
        let (first, after) = first_token(rest);
        if lower(first) == "/b" {
            let (code, _) = first_token(after);
            let code = (!code.is_empty()).then(|| expand::atoi(&text(code)) as i32);
            if let Some(c) = code {
                self.vars.errorlevel = Some(c);
            }
            return Flow::Return(code);
        }
        Flow::Exit
    }

    /// `call` reads its command once more (`%%v%%` → the value of `v`), then
    /// runs a label as a subroutine, or the command.
    fn call(&mut self, rest: &[Cell], s: &Simple, span: Span) -> Flow {
        let again = expand::percent(trim_delimiters(rest), &self.vars);
        let rest = again.as_slice();
        if rest.first().is_none_or(|c| c.c != ':') {
            if rest.is_empty() {
                return Flow::Next;
            }
            return self.command(rest, s, span);
        }
        let (label, args) = first_token(rest);
        let name = lower(label.get(1..).unwrap_or(&[]));
        let Some(line) = self.find_label(&name) else {
            self.last_ok = Some(false);
            return Flow::Next;
        };
        if !self.budget.depth(self.vars.frames() + 1, span) {
            return Flow::Next;
        }
        let saved_pc = self.pc;
        let saved_skip = self.skip.take();
        let saved_for = std::mem::take(&mut self.for_vars);
        self.vars.push_frame(text(label), call_arguments(args));
        self.depth += 1;
        let flow = self.run_from(line + 1);
        self.depth -= 1;
        self.vars.pop_frame();
        self.for_vars = saved_for;
        self.skip = saved_skip;
        self.pc = saved_pc;
        match flow {
            Flow::Exit => Flow::Exit,
            Flow::Return(code) => {
                if let Some(c) = code {
                    self.vars.errorlevel = Some(c);
                }
                self.last_ok = code.map(|c| c == 0);
                Flow::Next
            }
            _ => Flow::Next,
        }
    }

    fn set(&mut self, rest: &[Cell], span: Span) {
        let body = trim_blanks(rest);
        let (switch, after) = first_token(body);
        match lower(switch).as_str() {
            "/a" => self.set_arithmetic(&text(after)),
            "/p" => {
                if let Some((name, _)) = text(after).split_once('=') {
                    self.vars
                        .set(name.trim_start_matches('"'), Some(UNKNOWN.to_string()));
                }
            }
            _ => self.set_string(&text(body), span),
        }
    }

    fn set_string(&mut self, body: &str, span: Span) {
        let body = match body.strip_prefix('"') {
            Some(inner) => inner.rfind('"').map_or(inner, |q| &inner[..q]),
            None => body,
        };
        let Some((name, value)) = body.split_once('=') else {
            return;
        };
        if name.is_empty() {
            self.last_ok = Some(false);
            return;
        }
        if !self.budget.string(value.len(), span) {
            self.assign(name, Some(UNKNOWN.to_string()));
            return;
        }
        self.assign(name, (!value.is_empty()).then(|| value.to_owned()));
    }

    /// A `set` that may not run leaves a value not known here, unless it
    /// sets what the variable already holds.
    fn assign(&mut self, name: &str, value: Option<String>) {
        let value = match self.current_uncertainty() {
            None => value,
            Some(_) => {
                let same = match (self.vars.var(name), &value) {
                    (Lookup::Known(old), Some(new)) => old == *new,
                    (Lookup::Undefined, None) => true,
                    _ => false,
                };
                if same {
                    value
                } else {
                    Some(UNKNOWN.to_string())
                }
            }
        };
        self.vars.set(name, value);
    }

    fn set_arithmetic(&mut self, expr: &str) {
        let vars = &self.vars;
        let result = arith::evaluate(expr, &|name| vars.var(name));
        match result {
            Ok(assigned) => {
                for (name, value) in assigned {
                    let value = value.map_or_else(|| UNKNOWN.to_string(), |v| v.to_string());
                    self.assign(&name, Some(value));
                }
            }
            Err(arith::Failure::Error) => self.last_ok = Some(false),
        }
    }

    /// `echo text > F`, `>> F`: the file gets the text and a CRLF.
    fn echo(&mut self, rest: &[Cell], s: &Simple, span: Span) {
        let own = s.redirects.iter().rev().find(|r| !r.input && r.fd == 1);
        let (r, append) = match (own, self.block_output.last_mut()) {
            (Some(r), _) => (r.clone(), r.append),
            // The block's file is opened once: later lines append.
            (None, Some((r, append))) => (r.clone(), std::mem::replace(append, true)),
            (None, None) => return,
        };
        let target = self.resolve(&r.target);
        let path = self.word(&target, self.span(r.at));
        if path.text.eq_ignore_ascii_case("nul") || path.text.starts_with('&') {
            return;
        }
        let line = self.resolve_text(rest);
        let mut content = line;
        let end = self.span((s.at.1, s.at.1));
        content.push("\r\n", end, false);
        let op = if append {
            WriteOp::Append(content)
        } else {
            WriteOp::Replace(content)
        };
        self.writes.push(Write {
            path,
            op,
            span,
            uncertain: self.current_uncertainty(),
        });
    }

    /// The text of cells, each run mapped to where it is written.
    fn resolve_text(&self, cells: &[Cell]) -> Text {
        let mut t = Text::default();
        let mut i = 0;
        while let Some(first) = cells.get(i) {
            let verbatim = is_verbatim(first);
            let mut j = i + 1;
            while let Some(n) = cells.get(j) {
                let joins = match verbatim {
                    true => is_verbatim(n) && cells[j - 1].at.1 == n.at.0,
                    false => n.at == first.at,
                };
                if !joins {
                    break;
                }
                j += 1;
            }
            let last = cells[j - 1].at.1;
            t.push(&text(&cells[i..j]), self.span((first.at.0, last)), verbatim);
            i = j;
        }
        t
    }

    fn external(&mut self, cells: &[Cell], s: &Simple, span: Span) -> Flow {
        self.last_ok = None;
        self.vars.errorlevel = None;
        let cells = trim_delimiters(cells);
        let argv: Vec<Word> = argv::split(cells)
            .into_iter()
            .map(|a| Word {
                text: a.text,
                span: self.cells_span(a.cells),
                unknown: self.unknown_text(a.cells),
                items: None,
            })
            .collect();
        if argv.is_empty() {
            return Flow::Next;
        }
        let mut redirects = Vec::new();
        let mut stdin = None;
        for r in &s.redirects {
            let (redirect, input) = self.redirect(r);
            match input {
                true => stdin = Some(Input::File(redirect.target)),
                false => redirects.push(redirect),
            }
        }
        let repeated = self.repeating > 0 || !self.seen.insert(s.at);
        let command = Command {
            argv,
            span,
            stdin,
            redirects,
            uncertain: self.current_uncertainty(),
            repeated,
        };
        if !self.budget.command(span) {
            return Flow::Exit;
        }
        // cmd.exe has no `set -e`: a failing command never ends the script.
        let _ = (self.sink)(command);
        Flow::Next
    }

    fn redirect(&self, r: &RawRedirect) -> (Redirect, bool) {
        let target = self.resolve(&r.target);
        let span = self.span(r.at);
        let word = self.word(&target, span);
        (
            Redirect {
                fd: r.fd,
                append: r.append,
                target: word,
                span,
            },
            r.input,
        )
    }

    fn word(&self, cells: &[Cell], fallback: Span) -> Word {
        Word {
            text: text(cells).trim().to_owned(),
            span: if cells.is_empty() {
                fallback
            } else {
                self.cells_span(cells)
            },
            unknown: self.unknown_text(cells),
            items: None,
        }
    }

    fn cells_span(&self, cells: &[Cell]) -> Span {
        let start = cells.iter().map(|c| c.at.0).min().unwrap_or(0);
        let end = cells.iter().map(|c| c.at.1).max().unwrap_or(start);
        self.span((start, end))
    }

    /// The references that were not known, as written.
    fn unknown_text(&self, cells: &[Cell]) -> Option<String> {
        let mut parts: Vec<&str> = Vec::new();
        for c in cells.iter().filter(|c| c.c == UNKNOWN) {
            let written = self
                .source
                .text
                .get(c.at.0 as usize..c.at.1 as usize)
                .unwrap_or("?");
            if parts.last() != Some(&written) {
                parts.push(written);
            }
        }
        (!parts.is_empty()).then(|| parts.join(" "))
    }
}

/// The builtin a command names (`echo.`, `set/a` included) and what follows
/// it; an empty name for a program.
fn builtin(cells: &[Cell]) -> (String, &[Cell]) {
    const BUILTINS: &[&str] = &[
        "echo", "set", "setlocal", "endlocal", "shift", "goto", "call", "exit", "cd", "chdir",
        "pushd", "popd", "title", "color", "cls", "pause", "prompt", "ver", "verify", "break",
        "rem",
    ];
    let cells = trim_delimiters(cells);
    let (token, rest) = first_token(cells);
    let name = lower(token);
    if BUILTINS.contains(&name.as_str()) {
        let rest = match (name.as_str(), rest.first()) {
            ("echo", Some(_)) => rest.get(1..).unwrap_or(&[]),
            _ => rest,
        };
        return (name, rest);
    }
    for b in BUILTINS {
        let n = b.len();
        let joined = name.len() > n
            && name.starts_with(b)
            && name[n..].starts_with(['.', '/', '(', ':', '\\', '+', '[', ']']);
        if joined {
            let skip = if *b == "echo" { n + 1 } else { n };
            return ((*b).to_owned(), cells.get(skip..).unwrap_or(&[]));
        }
    }
    (String::new(), cells)
}

fn goto(rest: &[Cell]) -> Flow {
    let (token, _) = first_token(rest);
    let label = lower(token);
    if label == ":eof" {
        return Flow::Return(None);
    }
    Flow::Goto(label.trim_start_matches(':').to_owned())
}

/// `call :label a "b c"`: `%1`… are the tokens, quotes kept.
fn call_arguments(args: &[Cell]) -> (Vec<String>, String) {
    let all = text(trim_delimiters(args)).trim_end().to_owned();
    let mut out = Vec::new();
    let mut rest = args;
    loop {
        let (token, after) = first_token(rest);
        if token.is_empty() {
            break;
        }
        out.push(text(token));
        rest = after;
    }
    (out, all)
}

/// `for %%x in (a "b c" d)`: items split on delimiters, quotes kept.
fn list_items(set: &[Cell]) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = set;
    loop {
        let (token, after) = first_token(rest);
        if token.is_empty() {
            return out;
        }
        out.push(text(token));
        rest = after;
    }
}

/// `equ`…`geq`: numbers compare as numbers, anything else as text.
fn compare(a: &str, op: &str, b: &str, fold: bool) -> Option<bool> {
    if a.contains(UNKNOWN) || b.contains(UNKNOWN) {
        return None;
    }
    let ordering = match (if_number(a), if_number(b)) {
        (Some(x), Some(y)) => x.cmp(&y),
        _ if fold => a.to_ascii_lowercase().cmp(&b.to_ascii_lowercase()),
        _ => a.cmp(b),
    };
    use std::cmp::Ordering::*;
    Some(match op {
        "equ" => ordering == Equal,
        "neq" => ordering != Equal,
        "lss" => ordering == Less,
        "leq" => ordering != Greater,
        "gtr" => ordering == Greater,
        _ => ordering != Less,
    })
}

fn if_number(text: &str) -> Option<i64> {
    let (neg, body) = match text.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let n = i64::from(arith::number(body).ok()?);
    Some(if neg { -n } else { n })
}

/// The cell is its script bytes as written.
fn is_verbatim(c: &Cell) -> bool {
    (c.at.1 - c.at.0) as usize == c.c.len_utf8()
}

fn node_at(node: &Node) -> Option<(u32, u32)> {
    match node {
        Node::Simple(s) => Some(s.at),
        Node::If(i) => Some(i.at),
        Node::For(f) => Some(f.at),
        Node::Malformed(at) | Node::TooDeep(at) => Some(*at),
        Node::Chain(items) => items.last().and_then(|(_, n)| node_at(n)),
        Node::Block(body, _) => body.last().and_then(node_at),
        Node::Label(_) | Node::Empty => None,
    }
}

/// Byte ranges of the physical lines, without their line ends.
fn physical_lines(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = 0;
    for raw in text.split_inclusive('\n') {
        let line = raw.trim_end_matches('\n').trim_end_matches('\r');
        out.push((start, start + line.len()));
        start += raw.len();
    }
    out
}

/// `:name` lines, as `goto` and `call` find them.
fn labels(text: &str, lines: &[(usize, usize)]) -> Vec<(usize, String)> {
    lines
        .iter()
        .enumerate()
        .filter_map(|(i, &(s, e))| {
            let line = text
                .get(s..e)?
                .trim_start_matches([' ', '\t', '@', ';', ',', '=']);
            let name = line.strip_prefix(':')?;
            let name: String = name
                .chars()
                .take_while(|c| !cells::is_delimiter(*c) && !"&|<>".contains(*c))
                .collect();
            Some((i, name.to_ascii_lowercase()))
        })
        .collect()
}

/// Reads physical lines for the parser, expanding each (phase 1) with the
/// variables as they are when cmd reads it.
struct Reader<'r> {
    source: &'r SourceFile,
    lines: &'r [(usize, usize)],
    pc: &'r mut usize,
    scope: &'r Vars,
    budget: &'r mut Budget,
}

impl LineSource for Reader<'_> {
    fn next_line(&mut self) -> Option<Cells> {
        let &(start, end) = self.lines.get(*self.pc)?;
        *self.pc += 1;
        let raw = self.source.text.get(start..end).unwrap_or("");
        let cells: Cells = raw
            .char_indices()
            .map(|(i, c)| Cell::new(c, ((start + i) as u32, (start + i + c.len_utf8()) as u32)))
            .collect();
        let expanded = expand::percent(&cells, self.scope);
        if !self
            .budget
            .string(expanded.len(), self.source.span(start, end))
        {
            // "The input line is too long": cmd skips the line.
            return Some(Vec::new());
        }
        Some(expanded)
    }
}

#[cfg(test)]
mod tests;
