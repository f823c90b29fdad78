//! Runs a parsed script statically: statements in order, loops unrolled and
//! functions run at their call site under the file's [`Budget`]; each command
//! invocation goes to the sink with its arguments evaluated.

use super::ast::*;
use super::value::{self, BlockRef, Fail, Res, Val};
use crate::scripts::{Budget, Command, Input, Redirect, Status, UNKNOWN, Uncertain, Word};
use crate::source::{SourceFile, Span};
use std::collections::HashMap;
use std::rc::Rc;

/// A statement PowerShell itself stops with an error (the rest of the script goes on).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScriptError {
    pub span: Span,
    pub message: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Flow {
    Next,
    Break,
    Continue,
    Return,
    Exit,
    Throw,
    Stop,
}

type Scopes = Vec<HashMap<String, Val>>;

pub struct Interp<'s, 'k> {
    source: &'s SourceFile,
    sink: &'k mut dyn FnMut(Command) -> Status,
    pub budget: Budget,
    pub errors: Vec<ScriptError>,
    scopes: Scopes,
    functions: HashMap<String, Rc<Function>>,
    calls: HashMap<String, u32>,
    uncertain: Option<Uncertain>,
    repeated: usize,
    depth: usize,
    /// The current statement failed: its command does not run.
    failed: bool,
    /// `exit` or an uncaught `throw` inside a function: unwinds to the top.
    unwinding: Option<Flow>,
    /// The argument vector of the command piped into the one about to run.
    piped: Option<Vec<Word>>,
    /// The argument vector of the last command emitted.
    last_argv: Option<Vec<Word>>,
}

impl<'s, 'k> Interp<'s, 'k> {
    pub fn new(source: &'s SourceFile, sink: &'k mut dyn FnMut(Command) -> Status) -> Self {
        Interp {
            source,
            sink,
            budget: Budget::of(&source.limits),
            errors: Vec::new(),
            scopes: vec![HashMap::new()],
            functions: HashMap::new(),
            calls: HashMap::new(),
            uncertain: None,
            repeated: 0,
            depth: 0,
            failed: false,
            unwinding: None,
            piped: None,
            last_argv: None,
        }
    }

    pub fn run(&mut self, script: &Block) {
        // Functions can be called before their definition only in the same
        // statement list once it ran to them; PowerShell requires the definition first.
        let _ = self.block(script);
    }

    fn block(&mut self, block: &Block) -> Flow {
        for stmt in block {
            if !self.budget.step(stmt.span) {
                return Flow::Stop;
            }
            let flow = self.stmt(stmt);
            self.failed = false;
            if let Some(f) = self.unwinding {
                return f;
            }
            if self.budget.exhausted() {
                return Flow::Stop;
            }
            if flow != Flow::Next {
                return flow;
            }
        }
        Flow::Next
    }

    fn stmt(&mut self, stmt: &Stmt) -> Flow {
        match &stmt.kind {
            StmtKind::Pipeline(p) => {
                let _ = self.pipeline(p);
                Flow::Next
            }
            StmtKind::Assign { target, op, value } => {
                self.assign(target, *op, value, stmt.span);
                Flow::Next
            }
            StmtKind::If { clauses, otherwise } => self.if_stmt(clauses, otherwise.as_ref()),
            StmtKind::Foreach { var, items, body } => {
                let values = self.pipeline(items);
                if self.failed {
                    return Flow::Next;
                }
                self.each(var, values, items.span, body)
            }
            StmtKind::For {
                init,
                cond,
                step,
                body,
            } => self.for_stmt(
                init.as_deref(),
                cond.as_ref(),
                step.as_deref(),
                body,
                stmt.span,
            ),
            StmtKind::While { cond, body } => self.while_stmt(cond, body, false, false),
            StmtKind::Do { body, cond, until } => self.while_stmt(cond, body, true, *until),
            StmtKind::Switch { value, cases } => self.switch(value, cases),
            StmtKind::Function(f) => {
                self.functions.insert(f.name.clone(), f.clone());
                Flow::Next
            }
            StmtKind::Try {
                body,
                catches,
                finally,
            } => self.try_stmt(body, catches, finally.as_ref(), stmt.span),
            StmtKind::Params(params) => {
                for p in params {
                    if self.lookup(&p.name).is_none() {
                        let v = match &p.default {
                            Some(e) => self.expr(e),
                            None if p.switch => Val::Bool(false),
                            None => Val::Unknown,
                        };
                        self.set(&p.name, v);
                    }
                }
                Flow::Next
            }
            StmtKind::Break => Flow::Break,
            StmtKind::Continue => Flow::Continue,
            StmtKind::Return(v) => {
                if let Some(p) = v {
                    let _ = self.pipeline(p);
                }
                Flow::Return
            }
            StmtKind::Exit => Flow::Exit,
            StmtKind::Throw => Flow::Throw,
        }
    }

    // ------------------------------------------------------------ variables

    fn lookup(&self, name: &str) -> Option<Val> {
        self.scopes.iter().rev().find_map(|s| s.get(name).cloned())
    }

    fn var(&self, name: &str) -> Val {
        match name {
            "true" => Val::Bool(true),
            "false" => Val::Bool(false),
            "null" => Val::Null,
            n if n.starts_with("env:") => Val::Unknown,
            n => self.lookup(n).unwrap_or(Val::Unknown),
        }
    }

    fn set(&mut self, name: &str, v: Val) {
        if matches!(name, "true" | "false" | "null") {
            return;
        }
        if let Some(scope) = self.scopes.last_mut() {
            scope.insert(name.to_owned(), v);
        }
    }

    fn assign(&mut self, target: &Target, op: AssignOp, value: &Pipeline, span: Span) {
        let v = self.pipeline(value);
        let Target::Var(name, ty) = target else {
            return;
        };
        if self.failed {
            return;
        }
        let old = self.var(name);
        let r = match op {
            AssignOp::Set => Ok(v),
            AssignOp::Add => self.add(&old, &v, span),
            AssignOp::Sub => value::arith('-', &old, &v),
            AssignOp::Mul => self.mul(&old, &v, span),
            AssignOp::Div => value::arith('/', &old, &v),
            AssignOp::Rem => value::arith('%', &old, &v),
        };
        let r = match ty {
            Some(t) => r.and_then(|v| value::cast(t, v)),
            None => r,
        };
        match r {
            Ok(v) => self.set(name, v),
            Err(Fail::Unknown) => self.set(name, Val::Unknown),
            Err(Fail::Error(message)) => self.error(span, message),
        }
    }

    fn error(&mut self, span: Span, message: String) {
        self.failed = true;
        if self.errors.len() < 100 && !self.errors.iter().any(|e| e.span == span) {
            self.errors.push(ScriptError { span, message });
        }
    }

    // ------------------------------------------------------------ control flow

    /// Branches that may each run (a condition not decided here): each runs
    /// from the same variables, marked uncertain; afterwards a variable the
    /// branches disagree on is unknown.
    fn branches(&mut self, list: Vec<(Span, &Block)>, exhaustive: bool) -> Flow {
        let before = self.scopes.clone();
        let mut results = Vec::new();
        for (span, block) in list {
            self.scopes = before.clone();
            let saved = self.uncertain.replace(Uncertain { span });
            let flow = self.block(block);
            self.uncertain = saved;
            if self.unwinding.take().is_some() {
                // `exit` in a branch that may not run: the run goes on.
            }
            if flow == Flow::Stop {
                return Flow::Stop;
            }
            results.push(std::mem::take(&mut self.scopes));
        }
        if !exhaustive || results.is_empty() {
            results.push(before);
        }
        self.scopes = merge(results);
        Flow::Next
    }

    fn if_stmt(&mut self, clauses: &[(Pipeline, Block)], otherwise: Option<&Block>) -> Flow {
        let mut candidates: Vec<(Span, &Block)> = Vec::new();
        let mut last_unknown = None;
        for (cond, body) in clauses {
            let t = self.pipeline(cond).truth();
            if self.failed {
                // PowerShell stops the whole statement.
                return Flow::Next;
            }
            match (t, last_unknown) {
                (Some(true), None) => return self.block(body),
                (Some(true), Some(span)) => {
                    candidates.push((span, body));
                    return self.branches(candidates, true);
                }
                (Some(false), _) => {}
                (None, _) => {
                    last_unknown = Some(cond.span);
                    candidates.push((cond.span, body));
                }
            }
        }
        match (last_unknown, otherwise) {
            (None, Some(body)) => self.block(body),
            (None, None) => Flow::Next,
            (Some(span), Some(body)) => {
                candidates.push((span, body));
                self.branches(candidates, true)
            }
            (Some(_), None) => self.branches(candidates, false),
        }
    }

    /// `foreach ($var in values) { body }` and `values | ForEach-Object { body }`.
    fn each(&mut self, var: &str, values: Val, span: Span, body: &Block) -> Flow {
        if matches!(values, Val::Unknown) {
            self.repeated += 1;
            let before = self.var(var);
            self.set(var, Val::Unknown);
            let flow = self.branches(vec![(span, body)], false);
            self.set(var, before);
            self.repeated -= 1;
            return flow;
        }
        let items = values.items();
        let many = usize::from(items.len() > 1);
        self.repeated += many;
        let mut flow = Flow::Next;
        for item in items {
            if !self.budget.step(span) {
                flow = Flow::Stop;
                break;
            }
            self.set(var, item.clone());
            if var == "_" {
                self.set("psitem", item);
            }
            match self.block(body) {
                Flow::Break => break,
                Flow::Next | Flow::Continue => {}
                // `return` in a ForEach-Object block ends that item only.
                Flow::Return if var == "_" => {}
                other => {
                    flow = other;
                    break;
                }
            }
        }
        self.repeated -= many;
        flow
    }

    fn for_stmt(
        &mut self,
        init: Option<&Stmt>,
        cond: Option<&Pipeline>,
        step: Option<&Stmt>,
        body: &Block,
        span: Span,
    ) -> Flow {
        if let Some(s) = init {
            let _ = self.stmt(s);
        }
        self.repeated += 1;
        let flow = loop {
            if !self.budget.step(span) {
                break Flow::Stop;
            }
            let t = match cond {
                Some(c) => self.pipeline(c).truth(),
                None => Some(true),
            };
            match t {
                Some(false) => break Flow::Next,
                None => {
                    if let Some(name) = step.and_then(stepped_var) {
                        self.set(name, Val::Unknown);
                    }
                    let c = cond.map_or(span, |c| c.span);
                    break self.branches(vec![(c, body)], false);
                }
                Some(true) => {}
            }
            match self.block(body) {
                Flow::Break => break Flow::Next,
                Flow::Next | Flow::Continue => {}
                other => break other,
            }
            if let Some(s) = step {
                let _ = self.stmt(s);
            }
            if self.budget.exhausted() {
                break Flow::Stop;
            }
        };
        self.repeated -= 1;
        flow
    }

    fn while_stmt(&mut self, cond: &Pipeline, body: &Block, body_first: bool, until: bool) -> Flow {
        self.repeated += 1;
        let mut first = body_first;
        let flow = loop {
            if !self.budget.step(cond.span) {
                break Flow::Stop;
            }
            if !first {
                let t = self.pipeline(cond).truth().map(|t| t != until);
                match t {
                    Some(false) => break Flow::Next,
                    None => break self.branches(vec![(cond.span, body)], false),
                    Some(true) => {}
                }
            }
            first = false;
            match self.block(body) {
                Flow::Break => break Flow::Next,
                Flow::Next | Flow::Continue => {}
                other => break other,
            }
        };
        self.repeated -= 1;
        flow
    }

    fn switch(&mut self, value: &Pipeline, cases: &[(Option<Expr>, Block)]) -> Flow {
        let v = self.pipeline(value);
        if matches!(v, Val::Unknown) {
            let all = cases.iter().map(|(_, b)| (value.span, b)).collect();
            return self.branches(all, false);
        }
        for item in v.items() {
            self.set("_", item.clone());
            let mut matched = false;
            let mut maybe: Vec<(Span, &Block)> = Vec::new();
            for (label, body) in cases {
                let Some(label) = label else { continue };
                let hit = match &label.kind {
                    ExprKind::ScriptBlock(_) => None,
                    _ => {
                        let l = self.expr(label);
                        value::compare(CmpOp::Eq, false, &item, &l)
                            .ok()
                            .and_then(|r| r.truth())
                    }
                };
                match hit {
                    Some(true) if maybe.is_empty() => {
                        matched = true;
                        match self.block(body) {
                            Flow::Break => return Flow::Next,
                            Flow::Continue => break,
                            Flow::Next => {}
                            other => return other,
                        }
                    }
                    Some(true) | None => maybe.push((label.span, body)),
                    Some(false) => {}
                }
            }
            let default = cases.iter().find(|(l, _)| l.is_none()).map(|(_, b)| b);
            if !maybe.is_empty() {
                if let Some(d) = default.filter(|_| !matched) {
                    maybe.push((value.span, d));
                }
                if self.branches(maybe, false) == Flow::Stop {
                    return Flow::Stop;
                }
            } else if let Some(d) = default.filter(|_| !matched) {
                match self.block(d) {
                    Flow::Break => return Flow::Next,
                    Flow::Next | Flow::Continue => {}
                    other => return other,
                }
            }
        }
        Flow::Next
    }

    fn try_stmt(
        &mut self,
        body: &Block,
        catches: &[Block],
        finally: Option<&Block>,
        span: Span,
    ) -> Flow {
        let flow = self.block(body);
        let flow = if flow == Flow::Throw || self.unwinding == Some(Flow::Throw) {
            self.unwinding = None;
            match catches.first() {
                Some(c) => self.block(c),
                None => Flow::Throw,
            }
        } else {
            if flow != Flow::Stop && !catches.is_empty() {
                let list = catches.iter().map(|c| (span, c)).collect();
                if self.branches(list, false) == Flow::Stop {
                    return Flow::Stop;
                }
            }
            flow
        };
        if let Some(f) = finally {
            let after = self.block(f);
            if after != Flow::Next {
                return after;
            }
        }
        flow
    }

    // ------------------------------------------------------------ pipelines

    fn pipeline(&mut self, p: &Pipeline) -> Val {
        let mut input: Option<Val> = None;
        // The argument vector of the command before, when it was one that ran
        // as a command (not a function or a script block).
        let mut upstream: Option<Vec<Word>> = None;
        for (i, elem) in p.elems.iter().enumerate() {
            match elem {
                Elem::Expr(e) => {
                    input = Some(self.expr(e));
                    upstream = None;
                }
                Elem::Cmd(c) if is_out_null(c) => input = Some(Val::Null),
                Elem::Cmd(c) => {
                    let out_null = match p.elems.get(i + 1) {
                        Some(Elem::Cmd(next)) if is_out_null(next) => Some(next.span),
                        _ => None,
                    };
                    self.piped = upstream.take();
                    self.last_argv = None;
                    input = Some(self.command(c, input.take(), out_null));
                    self.piped = None;
                    upstream = self
                        .last_argv
                        .take()
                        .filter(|argv| argv.first().is_some_and(|w| w.span == c.name.span));
                }
            }
            if self.budget.exhausted() {
                return Val::Unknown;
            }
        }
        input.unwrap_or(Val::Null)
    }

    fn command(&mut self, c: &Cmd, input: Option<Val>, out_null: Option<Span>) -> Val {
        // Taken before the arguments run commands of their own.
        let piped = self.piped.take();
        let name = match &c.name.kind {
            ExprKind::ScriptBlock(b) => return self.script_block(b, &c.args, c.span),
            _ => self.expr(&c.name),
        };
        if let Val::Block(b) = &name {
            return self.script_block(&b.0.clone(), &c.args, c.span);
        }
        let text = name.text();
        let lower = text.to_ascii_lowercase();
        if let Some(f) = self.functions.get(&lower).cloned() {
            return self.call(&f, &c.args, c.span);
        }
        if matches!(lower.as_str(), "foreach-object" | "%" | "foreach") {
            if let Some(input) = input {
                let block = c.args.iter().find_map(|a| match a {
                    Arg::Value(Expr {
                        kind: ExprKind::ScriptBlock(b),
                        ..
                    }) => Some(b.clone()),
                    Arg::Param {
                        name, value: None, ..
                    } if "process".starts_with(&name.to_ascii_lowercase()) => None,
                    _ => None,
                });
                if let Some(b) = block.or_else(|| process_block(&c.args)) {
                    let flow = self.each("_", input, c.span, &b);
                    if flow == Flow::Exit || flow == Flow::Throw {
                        self.unwinding = Some(flow);
                    }
                    return Val::Unknown;
                }
            }
        }
        let mut argv = vec![self.word(name, c.name.span)];
        for a in &c.args {
            self.arg(a, &mut argv);
        }
        if lower == "invoke-command" {
            if let Some(b) = invoked_block(&c.args) {
                let flow = self.block(&b);
                if flow == Flow::Exit || flow == Flow::Throw {
                    self.unwinding = Some(flow);
                }
            }
        }
        let mut redirects = Vec::new();
        for r in &c.redirects {
            let target = match (&r.target, r.dup) {
                (_, Some(d)) => Word::literal(format!("&{d}"), r.span),
                (Some(t), None) => {
                    let v = self.expr(t);
                    match (&t.kind, v) {
                        (ExprKind::Var(n), Val::Null) if n == "null" => {
                            Word::literal("$null", t.span)
                        }
                        (_, v) => self.word(v, t.span),
                    }
                }
                (None, None) => Word::literal(UNKNOWN.to_string(), r.span),
            };
            redirects.push(Redirect {
                fd: r.fd,
                append: r.append,
                target,
                span: r.span,
            });
        }
        if let Some(span) = out_null {
            redirects.push(Redirect {
                fd: 1,
                append: false,
                target: Word::literal("$null", span),
                span,
            });
        }
        if self.failed {
            return Val::Unknown;
        }
        self.last_argv = Some(argv.clone());
        self.emit(Command {
            argv,
            span: c.span,
            stdin: piped.map(Input::Piped),
            redirects,
            uncertain: self.uncertain.clone(),
            repeated: self.repeated > 0,
        });
        Val::Unknown
    }

    fn emit(&mut self, cmd: Command) {
        if self.budget.command(cmd.span) {
            // PowerShell goes on after a native command fails.
            let _ = (self.sink)(cmd);
        }
    }

    fn arg(&mut self, a: &Arg, argv: &mut Vec<Word>) {
        match a {
            Arg::Param { name, span, value } => {
                argv.push(Word::literal(format!("-{name}"), *span));
                if let Some(e) = value {
                    let v = self.expr(e);
                    argv.push(self.word(v, e.span));
                }
            }
            Arg::Value(e) => {
                let v = match &e.kind {
                    ExprKind::ScriptBlock(_) => Val::str(self.source.slice(e.span)),
                    _ => self.expr(e),
                };
                argv.push(self.word(v, e.span));
            }
            Arg::Splat(name, span) => match self.var(name) {
                Val::Hash(entries) => {
                    for (k, v) in entries.iter() {
                        argv.push(Word::literal(format!("-{k}"), *span));
                        argv.push(self.word(v.clone(), *span));
                    }
                }
                Val::Arr(items) => {
                    for v in items.iter() {
                        argv.push(self.word(v.clone(), *span));
                    }
                }
                _ => {}
            },
        }
    }

    /// An argument as the command receives it.
    fn word(&self, v: Val, span: Span) -> Word {
        let mut w = match &v {
            Val::Arr(items) => {
                let texts: Vec<String> = items
                    .iter()
                    .flat_map(|i| i.items())
                    .map(|i| i.text())
                    .collect();
                let mut w = Word::literal(texts.join(","), span);
                w.items = Some(texts);
                w
            }
            // A hashtable argument (`-Value @{low=5000; high=6000}`): its entries
            // as `key=value` items, in the order written.
            Val::Hash(entries) => {
                let texts: Vec<String> = entries
                    .iter()
                    .map(|(k, v)| format!("{k}={}", v.text()))
                    .collect();
                let mut w = Word::literal(format!("@{{{}}}", texts.join("; ")), span);
                w.items = Some(texts);
                w
            }
            other => Word::literal(other.text(), span),
        };
        if !v.is_known() {
            w.unknown = Some(self.source.slice(span).to_owned());
        }
        w
    }

    fn script_block(&mut self, b: &Rc<Block>, _args: &[Arg], span: Span) -> Val {
        if !self.budget.depth(self.depth + 1, span) {
            return Val::Unknown;
        }
        self.depth += 1;
        self.scopes.push(HashMap::new());
        let flow = self.block(b);
        self.scopes.pop();
        self.depth -= 1;
        if matches!(flow, Flow::Exit | Flow::Throw) {
            self.unwinding = Some(flow);
        }
        Val::Unknown
    }

    /// A function of the script, run where it is called with its parameters bound.
    fn call(&mut self, f: &Rc<Function>, args: &[Arg], span: Span) -> Val {
        if !self.budget.depth(self.depth + 1, span) {
            return Val::Unknown;
        }
        let scope = self.bind(f, args);
        let count = self.calls.entry(f.name.clone()).or_insert(0);
        *count += 1;
        let again = usize::from(*count > 1);
        self.repeated += again;
        self.depth += 1;
        self.scopes.push(scope);
        let defaults: Vec<&Param> = f
            .params
            .iter()
            .filter(|p| self.scopes.last().is_some_and(|s| !s.contains_key(&p.name)))
            .collect();
        for p in defaults {
            let v = match &p.default {
                Some(e) => self.expr(e),
                None if p.switch => Val::Bool(false),
                None => Val::Null,
            };
            self.set(&p.name, v);
        }
        let flow = self.block(&f.body);
        self.scopes.pop();
        self.depth -= 1;
        self.repeated -= again;
        if matches!(flow, Flow::Exit | Flow::Throw) {
            self.unwinding = Some(flow);
        }
        Val::Unknown
    }

    /// Named arguments by unique prefix, then positional ones in order; the rest is `$args`.
    fn bind(&mut self, f: &Function, args: &[Arg]) -> HashMap<String, Val> {
        let mut scope = HashMap::new();
        let mut positional = Vec::new();
        let mut k = 0;
        while let Some(a) = args.get(k) {
            k += 1;
            match a {
                Arg::Param { name, value, .. } => {
                    let lower = name.to_ascii_lowercase();
                    let param = f.params.iter().find(|p| p.name == lower).or_else(|| {
                        let mut hits = f.params.iter().filter(|p| p.name.starts_with(&lower));
                        let first = hits.next();
                        if hits.next().is_some() { None } else { first }
                    });
                    let Some(param) = param else {
                        positional.push(Val::str(format!("-{name}")));
                        continue;
                    };
                    let v = match value {
                        Some(e) => self.expr(e),
                        None if param.switch => Val::Bool(true),
                        None => match args.get(k) {
                            Some(Arg::Value(e)) => {
                                k += 1;
                                self.expr(e)
                            }
                            _ => Val::Null,
                        },
                    };
                    scope.insert(param.name.clone(), v);
                }
                Arg::Value(e) => positional.push(self.expr(e)),
                Arg::Splat(name, _) => match self.var(name) {
                    Val::Hash(entries) => {
                        for (key, v) in entries.iter() {
                            let key = key.to_ascii_lowercase();
                            if let Some(p) = f.params.iter().find(|p| p.name == key) {
                                scope.insert(p.name.clone(), v.clone());
                            }
                        }
                    }
                    other => positional.extend(other.items()),
                },
            }
        }
        let mut rest = positional.into_iter();
        for p in f.params.iter().filter(|p| !p.switch) {
            if scope.contains_key(&p.name) {
                continue;
            }
            match rest.next() {
                Some(v) => {
                    scope.insert(p.name.clone(), v);
                }
                None => break,
            }
        }
        scope.insert("args".to_owned(), Val::arr(rest.collect()));
        scope
    }

    // ------------------------------------------------------------ expressions

    fn expr(&mut self, e: &Expr) -> Val {
        match self.eval(e) {
            Ok(v) => v,
            Err(Fail::Unknown) => Val::Unknown,
            Err(Fail::Error(message)) => {
                self.error(e.span, message);
                Val::Unknown
            }
        }
    }

    /// Whether a value of `len` may be built at `span`; charges the work to the step budget.
    fn room(&mut self, len: usize, span: Span) -> Result<(), Fail> {
        if !self.budget.string(len, span) {
            return Err(Fail::Unknown);
        }
        self.work(len / 256, span)
    }

    /// Charges `steps` to the step budget (copying a large value is work too).
    fn work(&mut self, steps: usize, span: Span) -> Result<(), Fail> {
        for _ in 0..steps {
            if !self.budget.step(span) {
                return Err(Fail::Unknown);
            }
        }
        Ok(())
    }

    fn eval(&mut self, e: &Expr) -> Res {
        match &e.kind {
            ExprKind::Int(n) => Ok(Val::Int(*n)),
            ExprKind::Str(s) => Ok(Val::str(s.as_str())),
            ExprKind::Expand(parts) => self.expand(parts, e.span),
            ExprKind::Var(name) => Ok(self.var(name)),
            ExprKind::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for i in items {
                    out.push(self.expr(i));
                }
                Ok(Val::arr(out))
            }
            ExprKind::Sub(block, array) => Ok(match self.sub(block) {
                Val::Null if *array => Val::arr(Vec::new()),
                v @ (Val::Arr(_) | Val::Unknown) => v,
                v if *array => Val::arr(vec![v]),
                v => v,
            }),
            ExprKind::Paren(p) => Ok(self.pipeline(p)),
            ExprKind::Hash(entries) => {
                let mut out = Vec::new();
                for (k, p) in entries {
                    let v = self.pipeline(p);
                    out.push((k.clone(), v));
                }
                Ok(Val::Hash(Rc::new(out)))
            }
            ExprKind::ScriptBlock(b) => Ok(Val::Block(BlockRef(b.clone()))),
            ExprKind::Binary(op, a, b) => self.binary(*op, a, b, e.span),
            ExprKind::Not(a) => Ok(self.expr(a).truth().map_or(Val::Unknown, |t| Val::Bool(!t))),
            ExprKind::Neg(a) => {
                let v = self.expr(a);
                v.int()?.checked_neg().map(Val::Int).ok_or(Fail::Unknown)
            }
            ExprKind::Range(a, b) => self.range(a, b, e.span),
            ExprKind::Cast(ty, a) => {
                let v = self.expr(a);
                value::cast(ty, v)
            }
            ExprKind::Step { var, delta, post } => {
                let old = self.var(var);
                // `++` and `--` work only on numbers ($null counts as 0): on an
                // array or a string PowerShell reports "The '++' operator works
                // only on numbers" and leaves the variable as it was (adding to it
                // grew an array at each step of a loop, quadratic in the steps).
                let new = match &old {
                    Val::Null | Val::Int(_) => {
                        value::add(&old, &Val::Int(*delta)).unwrap_or(Val::Unknown)
                    }
                    Val::Unknown => Val::Unknown,
                    _ => {
                        let op = if *delta > 0 { "++" } else { "--" };
                        return Err(Fail::Error(format!(
                            "the '{op}' operator works only on numbers"
                        )));
                    }
                };
                self.set(var, new.clone());
                Ok(if *post { old } else { new })
            }
            ExprKind::Member(a, name) => {
                let v = self.expr(a);
                Ok(member(&v, name))
            }
            ExprKind::Index(a, i) => {
                let v = self.expr(a);
                let i = self.expr(i);
                Ok(index(&v, &i))
            }
            ExprKind::Unknown => Err(Fail::Unknown),
        }
    }

    fn expand(&mut self, parts: &[Part], span: Span) -> Res {
        let mut out = String::new();
        for p in parts {
            let piece = match p {
                Part::Lit(s) => s.clone(),
                Part::Var(name) => self.var(name).text(),
                Part::Sub(block) => self.sub(block).text(),
            };
            self.room(out.len() + piece.len(), span)?;
            out.push_str(&piece);
        }
        Ok(Val::str(out))
    }

    /// `$( … )`/`@( … )`: the values of its statements.
    fn sub(&mut self, block: &Block) -> Val {
        let mut out = Vec::new();
        for stmt in block {
            if !self.budget.step(stmt.span) {
                return Val::Unknown;
            }
            match &stmt.kind {
                StmtKind::Pipeline(p) => match self.pipeline(p) {
                    Val::Null => {}
                    Val::Arr(items) if block.len() > 1 => out.extend(items.iter().cloned()),
                    v => out.push(v),
                },
                kind => {
                    let flow = self.stmt(stmt);
                    // The output of a loop or branch is not followed.
                    if !matches!(
                        kind,
                        StmtKind::Assign { .. } | StmtKind::Function(_) | StmtKind::Params(_)
                    ) {
                        out.push(Val::Unknown);
                    }
                    if flow != Flow::Next {
                        break;
                    }
                }
            }
        }
        match out.len() {
            0 => Val::Null,
            1 => out.pop().unwrap_or(Val::Null),
            _ => Val::arr(out),
        }
    }

    fn binary(&mut self, op: BinOp, a: &Expr, b: &Expr, span: Span) -> Res {
        let x = self.expr(a);
        if matches!(op, BinOp::And | BinOp::Or) {
            let t = x.truth();
            if t == Some(op == BinOp::Or) {
                return Ok(Val::Bool(op == BinOp::Or));
            }
            let u = self.expr(b).truth();
            return match (t, u) {
                (Some(_), Some(u)) => Ok(Val::Bool(u)),
                (None, Some(u)) if u == (op == BinOp::Or) => Ok(Val::Bool(u)),
                _ => Err(Fail::Unknown),
            };
        }
        let y = self.expr(b);
        match op {
            BinOp::Add => self.add(&x, &y, span),
            BinOp::Sub => value::arith('-', &x, &y),
            BinOp::Mul => self.mul(&x, &y, span),
            BinOp::Div => value::arith('/', &x, &y),
            BinOp::Rem => value::arith('%', &x, &y),
            BinOp::Format => {
                if !x.is_known() || !y.is_known() {
                    return Err(Fail::Unknown);
                }
                let r = value::format(&x.text(), &y.items())?;
                self.room(r.text_len(), span)?;
                Ok(r)
            }
            BinOp::Xor => match (x.truth(), y.truth()) {
                (Some(p), Some(q)) => Ok(Val::Bool(p != q)),
                _ => Err(Fail::Unknown),
            },
            BinOp::Cmp(c, case) => {
                // An array on the left is filtered item by item: work, as adding is.
                if let Val::Arr(items) = &x {
                    self.work(items.len() / 16, span)?;
                }
                value::compare(c, case, &x, &y)
            }
            BinOp::Join => {
                if !x.is_known() {
                    return Err(Fail::Unknown);
                }
                let sep = y.text();
                let r = x
                    .items()
                    .iter()
                    .map(Val::text)
                    .collect::<Vec<_>>()
                    .join(&sep);
                self.room(r.len(), span)?;
                Ok(Val::str(r))
            }
            BinOp::Split if x.is_known() && y.is_known() => value::split(&x, &y),
            BinOp::Replace if x.is_known() && y.is_known() => {
                let r = value::replace(false, &x, &y)?;
                self.room(r.text_len(), span)?;
                Ok(r)
            }
            _ => Err(Fail::Unknown),
        }
    }

    fn add(&mut self, x: &Val, y: &Val, span: Span) -> Res {
        match x {
            Val::Str(_) => self.room(x.text_len() + y.text_len(), span)?,
            Val::Arr(a) => {
                let len = a.len() + y.len();
                self.room(len, span)?;
                self.work(len / 16, span)?;
            }
            _ => {}
        }
        value::add(x, y)
    }

    fn mul(&mut self, x: &Val, y: &Val, span: Span) -> Res {
        self.room(value::repeat_len(x, y), span)?;
        value::arith('*', x, y)
    }

    /// `a..b`, up or down; each bound must be an `[int]` as in PowerShell.
    fn range(&mut self, a: &Expr, b: &Expr, span: Span) -> Res {
        let (x, y) = (self.expr(a), self.expr(b));
        let bound = |v: &Val| -> Result<i64, Fail> {
            let n = v.int()?;
            if i32::try_from(n).is_err() {
                return Err(Fail::Error(format!(
                    "the range bound {n} is not an [int] (-2147483648 to 2147483647): PowerShell stops the statement"
                )));
            }
            Ok(n)
        };
        let (x, y) = (bound(&x)?, bound(&y)?);
        let count = x.abs_diff(y).saturating_add(1);
        self.room(usize::try_from(count).unwrap_or(usize::MAX), span)?;
        let items: Vec<Val> = if x <= y {
            (x..=y).map(Val::Int).collect()
        } else {
            (y..=x).rev().map(Val::Int).collect()
        };
        Ok(Val::arr(items))
    }
}

fn is_out_null(c: &Cmd) -> bool {
    matches!(&c.name.kind, ExprKind::Str(s) if s.eq_ignore_ascii_case("out-null"))
}

/// `ForEach-Object -Process { … }`.
fn process_block(args: &[Arg]) -> Option<Rc<Block>> {
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if let Arg::Param { name, value, .. } = a {
            if "process".starts_with(&name.to_ascii_lowercase()) && !name.is_empty() {
                let e = match value {
                    Some(e) => Some(e),
                    None => match it.next() {
                        Some(Arg::Value(e)) => Some(e),
                        _ => None,
                    },
                };
                if let Some(Expr {
                    kind: ExprKind::ScriptBlock(b),
                    ..
                }) = e
                {
                    return Some(b.clone());
                }
            }
        }
    }
    None
}

/// `Invoke-Command { … }` / `-ScriptBlock { … }`.
fn invoked_block(args: &[Arg]) -> Option<Rc<Block>> {
    args.iter().find_map(|a| match a {
        Arg::Value(Expr {
            kind: ExprKind::ScriptBlock(b),
            ..
        }) => Some(b.clone()),
        Arg::Param {
            value:
                Some(Expr {
                    kind: ExprKind::ScriptBlock(b),
                    ..
                }),
            ..
        } => Some(b.clone()),
        _ => None,
    })
}

fn stepped_var(s: &Stmt) -> Option<&str> {
    match &s.kind {
        StmtKind::Assign {
            target: Target::Var(v, _),
            ..
        } => Some(v),
        StmtKind::Pipeline(p) => match p.elems.first() {
            Some(Elem::Expr(Expr {
                kind: ExprKind::Step { var, .. },
                ..
            })) => Some(var),
            _ => None,
        },
        _ => None,
    }
}

/// After branches that may each have run: what they agree on, else unknown.
fn merge(mut results: Vec<Scopes>) -> Scopes {
    let Some(mut out) = results.pop() else {
        return vec![HashMap::new()];
    };
    for other in results {
        for (k, scope) in out.iter_mut().enumerate() {
            let theirs = other.get(k);
            for (name, v) in scope.iter_mut() {
                if theirs.and_then(|t| t.get(name)) != Some(v) {
                    *v = Val::Unknown;
                }
            }
            if let Some(t) = theirs {
                for name in t.keys() {
                    scope.entry(name.clone()).or_insert(Val::Unknown);
                }
            }
        }
    }
    out
}

fn member(v: &Val, name: &str) -> Val {
    match (v, name) {
        (Val::Hash(entries), n) => entries
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(n))
            .map_or(Val::Null, |(_, v)| v.clone()),
        (Val::Unknown, _) => Val::Unknown,
        (Val::Str(s), "length") if v.is_known() => Val::Int(s.chars().count() as i64),
        (_, "count" | "length") if v.is_known() => Val::Int(v.len() as i64),
        (_, "tostring()") if v.is_known() => Val::str(v.text()),
        _ => Val::Unknown,
    }
}

fn index(v: &Val, i: &Val) -> Val {
    match (v, i) {
        (Val::Arr(items), Val::Int(n)) => {
            let k = if *n < 0 { items.len() as i64 + n } else { *n };
            usize::try_from(k)
                .ok()
                .and_then(|k| items.get(k))
                .cloned()
                .unwrap_or(Val::Null)
        }
        (Val::Hash(_), key) if key.is_known() => member(v, &key.text()),
        _ => Val::Unknown,
    }
}
