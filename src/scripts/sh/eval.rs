//! Walking the parsed script as the shell runs it: control flow, variables,
//! functions at their call site, redirections, and each command sent to the sink.

use super::ast::*;
use super::builtins::{self, Test};
use super::errexit::{Options, Set};
use super::expand::Field;
use super::openrc;
use super::sourced;
use crate::scripts::{
    Budget, Command, Input, Limit, LimitKind, Outcome, Redirect, Status, Stop, StopWhy, Text,
    Uncertain, Word, Write, WriteOp,
};
use crate::source::{SourceFile, Span};
use std::collections::{HashMap, HashSet};

#[derive(Clone, Debug)]
pub enum Var {
    Str(String),
    Unknown(String),
    Arr(Vec<String>),
}

/// A command's exit status as far as the script shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum St {
    True,
    False,
    /// A program's status: `a && b` assumes it succeeded.
    Unknown,
    /// A condition that cannot be decided (`[ -f F ]`): `&&` may or may not go on.
    Maybe,
}

impl St {
    fn not(self) -> St {
        match self {
            St::True => St::False,
            St::False => St::True,
            other => other,
        }
    }

    fn condition(self) -> St {
        if self == St::Unknown { St::Maybe } else { self }
    }

    fn of(b: bool) -> St {
        if b { St::True } else { St::False }
    }
}

/// All the writes a script makes together may hold this many longest values.
const MAX_WRITES: usize = 16;

/// How a statement ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Flow {
    Next,
    Break(u32),
    Continue(u32),
    Return,
    Exit,
    /// The budget is spent.
    Stop,
}

/// Where the output of `echo`/`printf`/`cat` without their own redirection goes
/// (`{ …; } > F`).
struct Sink {
    path: Field,
    append: bool,
    written: bool,
    span: Range,
}

pub struct Interp<'a, 'b> {
    source: &'a SourceFile,
    pub text: &'a str,
    script: &'a Script,
    pub bash: bool,
    pub vars: HashMap<String, Var>,
    /// Names the script assigned or unset: unset means empty, not unknown.
    pub assigned: HashSet<String>,
    locals: Vec<Vec<(String, Option<Var>)>>,
    funcs: HashMap<String, &'a Node>,
    called: HashSet<String>,
    /// `None`: the script's own arguments, unknown.
    pub positional: Option<Vec<String>>,
    budget: Budget,
    /// Every kind of budget hit, the first of each.
    limits: Vec<Limit>,
    sink: &'b mut dyn FnMut(Command) -> Status,
    writes: Vec<Write>,
    /// Bytes of all writes kept: their sum is bounded as one value's length is.
    write_bytes: usize,
    uncertain: Option<Uncertain>,
    repeated: bool,
    pub(super) depth: usize,
    pub arith_depth: usize,
    stdout: Vec<Sink>,
    status: St,
    /// `set -e`, `set -o pipefail`.
    opts: Options,
    /// How many contexts that ignore errexit the run is in (an `if` condition,
    /// a `&&` list before its last command, a `!` pipeline).
    errexit_ignored: u32,
    /// Where a failing command ended the script.
    stop: Option<Stop>,
    /// How many `. FILE` deep this run is.
    sourcing: usize,
    /// An OpenRC service: `functions.sh`'s helpers are defined.
    openrc: bool,
}

impl<'a, 'b> Interp<'a, 'b> {
    pub fn new(
        source: &'a SourceFile,
        script: &'a Script,
        bash: bool,
        sink: &'b mut dyn FnMut(Command) -> Status,
    ) -> Self {
        Interp {
            source,
            text: &source.text,
            script,
            bash,
            vars: HashMap::new(),
            assigned: HashSet::new(),
            locals: Vec::new(),
            funcs: HashMap::new(),
            called: HashSet::new(),
            positional: None,
            budget: Budget::of(&source.limits),
            limits: Vec::new(),
            sink,
            writes: Vec::new(),
            write_bytes: 0,
            uncertain: None,
            repeated: false,
            depth: 0,
            arith_depth: 0,
            stdout: Vec::new(),
            status: St::True,
            opts: Options::of_shebang(&source.text),
            errexit_ignored: 0,
            sourcing: 0,
            stop: None,
            openrc: false,
        }
    }

    pub fn run_script(&mut self) {
        if openrc::is_service(self.text) {
            self.run_openrc_start();
            return;
        }
        if self.positional.is_none() && super::boot::dispatches_start(&self.script.items) {
            self.positional = Some(vec!["start".to_owned()]);
        }
        self.run_items();
    }

    /// `rc-service NAME start` (see [`openrc`]).
    fn run_openrc_start(&mut self) {
        self.openrc = true;
        let name = openrc::service_name(&self.source.path);
        let service = format!("/etc/init.d/{name}");
        for var in ["RC_SVCNAME", "SVCNAME"] {
            self.set_var(var, Var::Str(name.clone()));
        }
        self.set_var("RC_SERVICE", Var::Str(service.clone()));
        let at = openrc::shebang(self.text);
        let conf = format!("/etc/conf.d/{name}");
        if self.source_file(Some(&conf), at) != Flow::Next {
            return;
        }
        self.positional = Some(vec![service]);
        if self.run_items() != Flow::Next {
            return;
        }
        self.positional = Some(Vec::new());
        for step in openrc::START_STEPS {
            let flow = match self.funcs.get(step).copied() {
                Some(body) => self.call(step, body, Vec::new(), node_span(body).unwrap_or(at)),
                None if step == "start" => self.openrc_default_start(at),
                None => continue,
            };
            if flow != Flow::Next || self.status == St::False {
                return;
            }
        }
    }

    /// The default `start`: start-stop-daemon runs `$command $command_args`.
    fn openrc_default_start(&mut self, at: Range) -> Flow {
        let Some(command) = self.vars.get("command").cloned() else {
            return Flow::Next;
        };
        let span = openrc::assignment(&self.script.items, "command").unwrap_or(at);
        let span = self.span(span);
        let mut argv = vec![var_word(&command, span)];
        for name in ["command_args", "command_args_background"] {
            match self.vars.get(name) {
                Some(Var::Str(s)) => {
                    argv.extend(s.split_whitespace().map(|w| Word::literal(w, span)))
                }
                Some(v) => argv.push(var_word(v, span)),
                None => {}
            }
        }
        if argv[0].text.is_empty() {
            return Flow::Next;
        }
        let command = Command {
            argv,
            span,
            stdin: None,
            redirects: Vec::new(),
            uncertain: self.uncertain.clone(),
            repeated: false,
        };
        if !self.charge_command(span) {
            return Flow::Stop;
        }
        self.status = match (self.sink)(command) {
            Status::Fails => St::False,
            Status::Unknown => St::Unknown,
        };
        Flow::Next
    }

    /// The script's items in order, up to an `exit` (or a `return` in a
    /// sourced file, which ends only that file).
    fn run_items(&mut self) -> Flow {
        for item in &self.script.items {
            match self.node(item) {
                flow @ (Flow::Exit | Flow::Stop) => return flow,
                Flow::Return if self.sourcing > 0 => return Flow::Next,
                _ => {}
            }
        }
        Flow::Next
    }

    pub fn finish(self) -> Outcome {
        Outcome {
            shell: None,
            writes: self.writes,
            limits: self.limits,
            stop: self.stop,
        }
    }

    fn record(&mut self, ok: bool, kind: LimitKind, span: Span, limit: u64) -> bool {
        if !ok && !self.limits.iter().any(|l| l.kind == kind) {
            self.limits.push(Limit { kind, span, limit });
        }
        ok
    }

    pub fn charge_step(&mut self, span: Span) -> bool {
        let ok = self.budget.step(span);
        self.record(ok, LimitKind::Steps, span, self.budget.max_steps)
    }

    fn charge_command(&mut self, span: Span) -> bool {
        let ok = self.budget.command(span);
        self.record(ok, LimitKind::Commands, span, self.budget.max_commands)
    }

    pub fn charge_string(&mut self, len: usize, span: Span) -> bool {
        let ok = self.budget.string(len, span);
        self.record(
            ok,
            LimitKind::StringLength,
            span,
            self.budget.max_string as u64,
        )
    }

    fn charge_depth(&mut self, depth: usize, span: Span) -> bool {
        let ok = self.budget.depth(depth, span);
        self.record(ok, LimitKind::Nesting, span, self.budget.max_depth as u64)
    }

    pub fn max_string(&self) -> usize {
        self.budget.max_string
    }

    /// Work in proportion to the bytes copied: one step per 256 bytes, so a value
    /// at the string limit copied in a loop still ends within the step budget.
    pub fn charge_bytes(&mut self, len: usize, span: Span) -> bool {
        for _ in 0..len / 256 {
            if !self.charge_step(span) {
                return false;
            }
        }
        true
    }

    /// What copying the variables for a subshell or pipeline costs.
    fn charge_snapshot(&mut self, span: Option<Range>) -> bool {
        let bytes: usize = self
            .vars
            .values()
            .map(|v| match v {
                Var::Str(s) | Var::Unknown(s) => s.len(),
                Var::Arr(items) => items.iter().map(|i| i.len() + 24).sum(),
            })
            .sum();
        let span = self.span(span.unwrap_or((0, 0)));
        self.charge_bytes(bytes, span)
    }

    /// A steps or commands budget is spent: the run stops.
    fn exhausted(&self) -> bool {
        self.limits
            .iter()
            .any(|l| matches!(l.kind, LimitKind::Steps | LimitKind::Commands))
    }

    pub fn span(&self, r: Range) -> Span {
        Span::new(self.source.id, r.0 as usize, r.1 as usize)
    }

    pub fn slice(&self, r: Range) -> &'a str {
        self.text.get(r.0 as usize..r.1 as usize).unwrap_or("")
    }

    pub fn set_var(&mut self, name: &str, v: Var) {
        self.assigned.insert(name.to_owned());
        self.vars.insert(name.to_owned(), v);
    }

    fn with_uncertain<T>(&mut self, span: Option<Range>, f: impl FnOnce(&mut Self) -> T) -> T {
        let Some(span) = span else { return f(self) };
        let old = self.uncertain.replace(Uncertain {
            span: self.span(span),
        });
        let r = f(self);
        self.uncertain = old;
        r
    }

    pub(super) fn enter(&mut self, span: Option<Range>) -> bool {
        self.depth += 1;
        let span = self.span(span.unwrap_or((0, 0)));
        if self.charge_depth(self.depth, span) {
            true
        } else {
            self.depth -= 1;
            false
        }
    }

    fn node(&mut self, n: &'a Node) -> Flow {
        if self.exhausted() {
            return Flow::Stop;
        }
        match n {
            Node::Simple(s) => {
                let flow = self.simple(s, None).0;
                self.errexit(flow, s.span)
            }
            Node::Pipeline { bang, cmds, .. } => self.pipeline(*bang, cmds),
            Node::AndOr { first, rest } => self.and_or(first, rest),
            Node::List(items) => self.list(items),
            Node::Subshell(body) => self.nested(n, |me| {
                if !me.charge_snapshot(node_span(body)) {
                    return Flow::Stop;
                }
                let saved = (me.vars.clone(), me.positional.clone(), me.funcs.clone());
                let (opts, stop) = (me.opts, me.stop);
                let flow = me.node(body);
                (me.vars, me.positional, me.funcs) = saved;
                me.opts = opts;
                if flow == Flow::Stop {
                    return Flow::Stop;
                }
                // A subshell that failed fails in the parent too (the stop is
                // where it failed inside); one the parent ignores ended itself only.
                let inner = std::mem::replace(&mut me.stop, stop);
                let flow = me.errexit(Flow::Next, node_span(n).unwrap_or((0, 0)));
                if flow == Flow::Exit && inner.is_some() {
                    me.stop = inner;
                }
                flow
            }),
            Node::Group(body) => self.nested(n, |me| me.node(body)),
            Node::If { arms, otherwise } => self.nested(n, |me| me.if_arms(arms, otherwise)),
            Node::Loop { until, cond, body } => {
                self.nested(n, |me| me.while_loop(*until, cond, body))
            }
            Node::For {
                var, words, body, ..
            } => self.nested(n, |me| me.for_loop(var, words.as_deref(), body)),
            Node::ArithFor {
                init,
                cond,
                step,
                body,
                span,
            } => self.nested(n, |me| me.arith_for(*init, *cond, *step, body, *span)),
            Node::Case { subject, arms } => self.nested(n, |me| me.case(subject, arms)),
            Node::Func { name, body } => {
                self.funcs.insert(name.clone(), body);
                self.status = St::True;
                Flow::Next
            }
            Node::Arith { expr, span } => {
                if !self.charge_step(self.span(*span)) {
                    return Flow::Stop;
                }
                self.status = match self.arith(*expr) {
                    Some(v) => St::of(v != 0),
                    None => St::Maybe,
                };
                Flow::Next
            }
            Node::Cond { words, span } => {
                if !self.charge_step(self.span(*span)) {
                    return Flow::Stop;
                }
                let args: Vec<Test> = words.iter().map(|w| self.test_word(w)).collect();
                self.status = builtins::test(&args, true).condition();
                Flow::Next
            }
            Node::Redirected { node, redirs } => self.redirected(node, redirs),
        }
    }

    fn nested(&mut self, n: &'a Node, f: impl FnOnce(&mut Self) -> Flow) -> Flow {
        if !self.enter(node_span(n)) {
            return Flow::Stop;
        }
        let flow = f(self);
        self.depth -= 1;
        flow
    }

    /// `set -e`: a command known to have failed, where errexit is not ignored and
    /// that surely runs, ends the script (one that may not run lets it go on, as
    /// an `exit` that may not run does).
    fn errexit(&mut self, flow: Flow, span: Range) -> Flow {
        let ends = flow == Flow::Next
            && self.status == St::False
            && self.opts.errexit
            && self.errexit_ignored == 0
            && self.uncertain.is_none();
        if !ends {
            return flow;
        }
        self.stop = Some(Stop {
            span: self.span(span),
            why: StopWhy::Errexit,
        });
        Flow::Exit
    }

    /// Run `f` where errexit is ignored.
    fn errexit_ignored<T>(&mut self, f: impl FnOnce(&mut Self) -> T) -> T {
        self.errexit_ignored += 1;
        let r = f(self);
        self.errexit_ignored -= 1;
        r
    }

    fn test_word(&mut self, w: &WordT) -> Test {
        let f = self.value(w);
        let pattern = self.pattern(w);
        Test {
            text: f.known().map(str::to_owned),
            pattern,
            operator: w.parts.len() == 1 && matches!(&w.parts[0], Part::Lit { quoted: false, .. }),
        }
    }

    fn list(&mut self, items: &'a [Node]) -> Flow {
        for item in items {
            let flow = self.node(item);
            if flow != Flow::Next {
                return flow;
            }
        }
        Flow::Next
    }

    fn and_or(&mut self, first: &'a Node, rest: &'a [(bool, Node)]) -> Flow {
        // Errexit is ignored in every command of the list but the last.
        let flow = self.errexit_ignored(|me| me.node(first));
        if flow != Flow::Next {
            return flow;
        }
        let mut prev = first;
        for (i, (and, node)) in rest.iter().enumerate() {
            let last = i + 1 == rest.len();
            let run = |me: &mut Self| {
                if last {
                    me.node(node)
                } else {
                    me.errexit_ignored(|me| me.node(node))
                }
            };
            let flow = match (*and, self.status) {
                (true, St::False) | (false, St::True) => Flow::Next,
                (true, St::True | St::Unknown) | (false, St::False) => run(self),
                (_, St::Maybe | St::Unknown) => {
                    let flow = self.with_uncertain(node_span(prev), run);
                    self.status = St::Unknown;
                    flow
                }
            };
            if flow != Flow::Next {
                return flow;
            }
            prev = node;
        }
        Flow::Next
    }

    fn pipeline(&mut self, bang: bool, cmds: &'a [Node]) -> Flow {
        if bang {
            // `!` ignores errexit in the whole pipeline and inverts its status.
            let flow = self.errexit_ignored(|me| me.pipe(cmds));
            self.status = self.status.not();
            return flow;
        }
        let flow = self.pipe(cmds);
        // A compound command alone is judged inside (its own commands fail).
        if let [other] = cmds {
            if !matches!(other, Node::Simple(_)) {
                return flow;
            }
        }
        let first = cmds.first().and_then(node_span).unwrap_or((0, 0));
        let last = cmds.last().and_then(node_span).unwrap_or(first);
        self.errexit(flow, (first.0, last.1.max(first.0)))
    }

    /// The commands of a pipeline, each fed the output of the one before; the
    /// status is the last one's (with `pipefail`, the last failing one's).
    fn pipe(&mut self, cmds: &'a [Node]) -> Flow {
        if cmds.len() > 1 && !self.charge_snapshot(cmds.first().and_then(node_span)) {
            return Flow::Stop;
        }
        let saved = (cmds.len() > 1).then(|| self.vars.clone());
        let mut piped: Option<Text> = None;
        let mut flow = Flow::Next;
        let mut failed = false;
        for (i, c) in cmds.iter().enumerate() {
            let last = i + 1 == cmds.len();
            // Each command of a longer pipeline runs in a subshell: one that
            // fails before the last ends only itself.
            let mut element = |me: &mut Self| match c {
                Node::Simple(s) => me.simple(s, Some((piped.take(), last))),
                other => (me.node(other), None),
            };
            let (f, out) = if last {
                element(self)
            } else {
                self.errexit_ignored(element)
            };
            failed |= self.status == St::False;
            piped = out;
            if f == Flow::Stop {
                flow = f;
                break;
            }
            if last && cmds.len() == 1 {
                flow = f;
            }
        }
        if let Some(vars) = saved {
            self.vars = vars;
        }
        if failed && self.opts.pipefail && flow == Flow::Next {
            self.status = St::False;
        }
        flow
    }

    fn if_arms(&mut self, arms: &'a [(Node, Node)], otherwise: &'a Option<Box<Node>>) -> Flow {
        let Some(((cond, body), rest)) = arms.split_first() else {
            return match otherwise {
                Some(e) => self.node(e),
                None => {
                    self.status = St::True;
                    Flow::Next
                }
            };
        };
        let flow = self.errexit_ignored(|me| me.node(cond));
        if flow != Flow::Next {
            return flow;
        }
        match self.status {
            St::True => self.node(body),
            St::False => self.if_arms(rest, otherwise),
            St::Unknown | St::Maybe => self.with_uncertain(node_span(cond), |me| {
                let flow = me.node(body);
                if flow == Flow::Stop {
                    return flow;
                }
                let other = me.if_arms(rest, otherwise);
                me.status = St::Unknown;
                if other == Flow::Stop {
                    other
                } else {
                    Flow::Next
                }
            }),
        }
    }

    /// The flow after one iteration's body: `Some` ends the loop with that flow.
    fn after_body(flow: Flow) -> Option<Flow> {
        match flow {
            Flow::Next | Flow::Continue(1) => None,
            Flow::Break(1) => Some(Flow::Next),
            Flow::Break(n) => Some(Flow::Break(n - 1)),
            Flow::Continue(n) => Some(Flow::Continue(n - 1)),
            other => Some(other),
        }
    }

    fn iteration<T>(&mut self, i: usize, f: impl FnOnce(&mut Self) -> T) -> T {
        let old = self.repeated;
        self.repeated |= i > 0;
        let r = f(self);
        self.repeated = old;
        r
    }

    fn while_loop(&mut self, until: bool, cond: &'a Node, body: &'a Node) -> Flow {
        let cond_span = node_span(cond);
        for i in 0.. {
            if !self.charge_step(self.span(cond_span.unwrap_or((0, 0)))) {
                return Flow::Stop;
            }
            let flow = self.iteration(i, |me| me.errexit_ignored(|me| me.node(cond)));
            if flow != Flow::Next {
                return flow;
            }
            let st = if until {
                self.status.not()
            } else {
                self.status
            };
            match st {
                St::False => break,
                St::True => {
                    let flow = self.iteration(i, |me| me.node(body));
                    if let Some(f) = Self::after_body(flow) {
                        return f;
                    }
                }
                St::Unknown | St::Maybe => {
                    let flow =
                        self.with_uncertain(cond_span, |me| me.iteration(i, |me| me.node(body)));
                    return match flow {
                        Flow::Stop => Flow::Stop,
                        _ => Flow::Next,
                    };
                }
            }
        }
        Flow::Next
    }

    fn for_loop(&mut self, var: &str, words: Option<&'a [WordT]>, body: &'a Node) -> Flow {
        let span = node_span(body).unwrap_or((0, 0));
        if let Some([w]) = words {
            if let [Part::CmdSub { inner, .. }] = w.parts.as_slice() {
                if let Some((first, step, last)) = self.seq_of(*inner) {
                    return self.seq_loop(var, first, step, last, body, span);
                }
            }
        }
        let values: Vec<Field> = match words {
            Some(words) => {
                let mut v = Vec::new();
                for w in words {
                    v.extend(self.fields(w));
                }
                v
            }
            None => match &self.positional {
                Some(args) => args
                    .iter()
                    .map(|a| {
                        let mut f = Field::default();
                        f.text.push(a, self.span(span), false);
                        f
                    })
                    .collect(),
                None => {
                    let mut f = Field::default();
                    f.text
                        .push(&crate::scripts::UNKNOWN.to_string(), self.span(span), false);
                    f.unknown = Some("$@".into());
                    vec![f]
                }
            },
        };
        for (i, v) in values.into_iter().enumerate() {
            if !self.charge_step(self.span(span)) {
                return Flow::Stop;
            }
            let value = match v.known() {
                Some(s) => Var::Str(s.to_owned()),
                None => Var::Unknown(v.unknown.clone().unwrap_or_default()),
            };
            self.set_var(var, value);
            let flow = self.iteration(i, |me| me.node(body));
            if let Some(f) = Self::after_body(flow) {
                return f;
            }
        }
        Flow::Next
    }

    fn seq_loop(
        &mut self,
        var: &str,
        first: i64,
        step: i64,
        last: i64,
        body: &'a Node,
        span: Range,
    ) -> Flow {
        let mut v = first;
        let mut i = 0;
        while (step > 0 && v <= last) || (step < 0 && v >= last) {
            if !self.charge_step(self.span(span)) {
                return Flow::Stop;
            }
            self.set_var(var, Var::Str(v.to_string()));
            let flow = self.iteration(i, |me| me.node(body));
            if let Some(f) = Self::after_body(flow) {
                return f;
            }
            i += 1;
            v = match v.checked_add(step) {
                Some(n) => n,
                None => break,
            };
        }
        Flow::Next
    }

    fn arith_for(
        &mut self,
        init: Range,
        cond: Range,
        step: Range,
        body: &'a Node,
        span: Range,
    ) -> Flow {
        self.arith(init);
        for i in 0.. {
            if !self.charge_step(self.span(span)) {
                return Flow::Stop;
            }
            let go = if self.slice(cond).trim().is_empty() {
                Some(1)
            } else {
                self.arith(cond)
            };
            match go {
                Some(0) => break,
                Some(_) => {
                    let flow = self.iteration(i, |me| me.node(body));
                    if let Some(f) = Self::after_body(flow) {
                        return f;
                    }
                    self.arith(step);
                }
                None => {
                    let flow =
                        self.with_uncertain(Some(span), |me| me.iteration(i, |me| me.node(body)));
                    return if flow == Flow::Stop { flow } else { Flow::Next };
                }
            }
        }
        Flow::Next
    }

    fn case(&mut self, subject: &'a WordT, arms: &'a [Arm]) -> Flow {
        if !self.charge_step(self.span(subject.span)) {
            return Flow::Stop;
        }
        let value = self.value(subject);
        let Some(text) = value.known().map(str::to_owned) else {
            // Every arm may run.
            let flow = self.with_uncertain(Some(subject.span), |me| {
                for arm in arms {
                    let flow = me.node(&arm.body);
                    if flow == Flow::Stop {
                        return flow;
                    }
                }
                Flow::Next
            });
            self.status = St::Unknown;
            return flow;
        };
        let mut i = 0;
        let mut fall = false;
        self.status = St::True;
        while let Some(arm) = arms.get(i) {
            let mut hit = if fall { Some(true) } else { Some(false) };
            if !fall {
                for p in &arm.patterns {
                    match self.pattern(p) {
                        Some(pat) if super::glob::matches(&pat, &text) => {
                            hit = Some(true);
                            break;
                        }
                        Some(_) => {}
                        None => hit = None,
                    }
                }
            }
            match hit {
                Some(false) => {
                    i += 1;
                    continue;
                }
                Some(true) => {
                    let flow = self.node(&arm.body);
                    if flow != Flow::Next {
                        return flow;
                    }
                }
                None => {
                    let span = arm.patterns.first().map(|p| p.span);
                    let flow = self.with_uncertain(span, |me| me.node(&arm.body));
                    if flow != Flow::Next {
                        return flow;
                    }
                    i += 1;
                    continue;
                }
            }
            match arm.end {
                ArmEnd::Break => break,
                ArmEnd::FallThrough => fall = true,
                ArmEnd::TestNext => fall = false,
            }
            i += 1;
        }
        Flow::Next
    }

    fn redirected(&mut self, node: &'a Node, redirs: &'a [Redir]) -> Flow {
        let mut pushed = false;
        for r in redirs {
            let fd = r.fd.unwrap_or(1);
            let append = matches!(r.op, RedirOp::Append | RedirOp::AllAppend);
            let out = matches!(r.op, RedirOp::Out | RedirOp::Append) && fd == 1
                || matches!(r.op, RedirOp::AllOut | RedirOp::AllAppend);
            if out {
                let path = self.value(&r.target);
                self.stdout.push(Sink {
                    path,
                    append,
                    written: false,
                    span: r.span,
                });
                pushed = true;
                break;
            }
        }
        let flow = self.node(node);
        if pushed {
            self.stdout.pop();
        }
        flow
    }

    /// One simple command; `pipe` is the text piped into it (when the previous
    /// command's output is known) and whether it is the pipeline's last.
    fn simple(
        &mut self,
        s: &'a Simple,
        pipe: Option<(Option<Text>, bool)>,
    ) -> (Flow, Option<Text>) {
        if !self.charge_step(self.span(s.span)) {
            return (Flow::Stop, None);
        }
        let first_plain = s.words.first().and_then(plain_word);
        let declaration = matches!(
            first_plain,
            Some("export" | "local" | "readonly" | "declare" | "typeset")
        );
        let mut argv: Vec<(Field, Range)> = Vec::new();
        for (i, w) in s.words.iter().enumerate() {
            if declaration && i > 0 {
                argv.push((self.value(w), w.span));
            } else {
                for f in self.fields(w) {
                    argv.push((f, w.span));
                }
            }
        }
        if argv.is_empty() {
            for a in &s.assigns {
                self.assign(a, false);
            }
            let (_, redirects) = self.redirects(&s.redirs);
            self.truncate(&redirects, self.span(s.span));
            self.status = if s.assigns.iter().any(has_cmdsub) {
                St::Unknown
            } else {
                St::True
            };
            return (Flow::Next, None);
        }
        let (piped, last) = pipe.unwrap_or((None, true));
        let (stdin, redirects) = self.redirects(&s.redirs);
        let name = argv[0].0.known().unwrap_or("").to_owned();
        if let Some(flow) = self.builtin(&name, &argv, s) {
            return (flow, None);
        }
        if let Some(body) = self.funcs.get(name.as_str()).copied() {
            let args = argv[1..].iter().map(|(f, _)| f.text.text.clone()).collect();
            return (self.call(&name, body, args, s.span), None);
        }
        let stdin = stdin.or(piped.map(Input::Text));
        self.status = self.status_of(&name, &argv);
        if matches!(name.as_str(), ":" | "true" | "false" | "test" | "[") {
            self.truncate(&redirects, self.span(s.span));
            return (Flow::Next, None);
        }
        let command = Command {
            argv: argv
                .iter()
                .map(|(f, r)| Word {
                    text: f.text.text.clone(),
                    span: self.span(*r),
                    unknown: f.unknown.clone(),
                    items: None,
                })
                .collect(),
            span: self.span(s.span),
            stdin,
            redirects,
            uncertain: self.uncertain.clone(),
            repeated: self.repeated,
        };
        let output = self.effects(&command, &argv, last);
        if !self.charge_command(command.span) {
            return (Flow::Stop, None);
        }
        if (self.sink)(command) == Status::Fails {
            self.status = St::False;
        }
        (Flow::Next, output)
    }

    fn assign(&mut self, a: &'a Assign, local: bool) {
        if local {
            self.make_local(&a.name);
        }
        let value = match &a.value {
            AssignValue::Scalar(w) => {
                let f = self.value(w);
                match f.known() {
                    Some(s) => {
                        let mut s = s.to_owned();
                        if a.append {
                            if let Some(Var::Str(old)) = self.vars.get(&a.name) {
                                s = format!("{old}{s}");
                            }
                        }
                        if !self.charge_string(s.len(), self.span(a.span)) {
                            Var::Unknown(self.slice(a.span).to_owned())
                        } else {
                            Var::Str(s)
                        }
                    }
                    None => Var::Unknown(f.unknown.unwrap_or_else(|| self.slice(a.span).into())),
                }
            }
            AssignValue::Array(words) => {
                let mut items = match (a.append, self.vars.get(&a.name)) {
                    (true, Some(Var::Arr(old))) => old.clone(),
                    _ => Vec::new(),
                };
                for w in words {
                    for f in self.fields(w) {
                        items.push(f.text.text.clone());
                    }
                }
                Var::Arr(items)
            }
            AssignValue::Element(ix, w) => {
                let f = self.value(w);
                let ix = self.slice(*ix).to_owned();
                let (Some(i), Some(v)) = (self.index_of(&ix), f.known()) else {
                    self.set_var(&a.name, Var::Unknown(self.slice(a.span).to_owned()));
                    return;
                };
                let mut items = match self.vars.get(&a.name) {
                    Some(Var::Arr(old)) => old.clone(),
                    Some(Var::Str(s)) => vec![s.clone()],
                    _ => Vec::new(),
                };
                let Ok(i) = usize::try_from(i) else { return };
                if i > 4096 {
                    return;
                }
                if items.len() <= i {
                    items.resize(i + 1, String::new());
                }
                items[i] = v.to_owned();
                Var::Arr(items)
            }
        };
        self.set_var(&a.name, value);
    }

    fn make_local(&mut self, name: &str) {
        let old = self.vars.get(name).cloned();
        if let Some(frame) = self.locals.last_mut() {
            frame.push((name.to_owned(), old));
        }
    }

    fn call(&mut self, name: &str, body: &'a Node, args: Vec<String>, span: Range) -> Flow {
        if !self.enter(Some(span)) {
            return Flow::Next;
        }
        let old_args = self.positional.replace(args);
        let old_repeated = self.repeated;
        if self.called.contains(name) {
            self.repeated = true;
        } else {
            self.called.insert(name.to_owned());
        }
        self.locals.push(Vec::new());
        let flow = self.node(body);
        if let Some(frame) = self.locals.pop() {
            for (name, old) in frame.into_iter().rev() {
                match old {
                    Some(v) => self.vars.insert(name, v),
                    None => self.vars.remove(&name),
                };
            }
        }
        self.repeated = old_repeated;
        self.positional = old_args;
        self.depth -= 1;
        match flow {
            Flow::Exit | Flow::Stop => flow,
            _ => Flow::Next,
        }
    }

    /// `. FILE`: the file found in the repository runs in this shell, its
    /// variables stay set and its commands are this script's, shown at the
    /// `.` line (see [`sourced`]). A file not found leaves its variables unset
    /// (and unknown where used) as before.
    fn source_file(&mut self, name: Option<&str>, at: Range) -> Flow {
        self.status = St::Unknown;
        let Some(name) = name else { return Flow::Next };
        if self.sourcing >= sourced::MAX_DEPTH {
            return Flow::Next;
        }
        let Some((path, bytes)) = sourced::find(&self.source.path, name) else {
            return Flow::Next;
        };
        let mut file = SourceFile::new(self.source.id, path, &bytes);
        file.limits = self.source.limits;
        let script = super::parse::parse(&file.text, self.bash);
        let at = self.span(at);
        let (uncertain, repeated) = (self.uncertain.clone(), self.repeated);
        let parent = &mut *self.sink;
        let mut relay = |mut c: Command| {
            sourced::relocate(&mut c, at);
            c.uncertain = c.uncertain.or(uncertain.clone());
            c.repeated |= repeated;
            parent(c)
        };
        let mut sub = Interp::new(&file, &script, self.bash, &mut relay);
        sub.vars = std::mem::take(&mut self.vars);
        sub.assigned = std::mem::take(&mut self.assigned);
        sub.positional = self.positional.clone();
        sub.budget = self.budget.clone();
        sub.opts = self.opts;
        sub.sourcing = self.sourcing + 1;
        sub.depth = self.depth + 1;
        let flow = sub.run_items();
        let Interp {
            vars,
            assigned,
            budget,
            status,
            limits,
            stop,
            ..
        } = sub;
        (self.vars, self.assigned, self.budget, self.status) = (vars, assigned, budget, status);
        for limit in limits {
            self.record(false, limit.kind, at, limit.limit);
        }
        if let Some(stop) = stop {
            self.stop = Some(Stop { span: at, ..stop });
        }
        match flow {
            Flow::Exit | Flow::Stop => flow,
            _ => Flow::Next,
        }
    }

    /// Builtins the interpreter carries out itself (not sent to the sink).
    fn builtin(&mut self, name: &str, argv: &[(Field, Range)], s: &'a Simple) -> Option<Flow> {
        let args: Vec<Option<&str>> = argv[1..].iter().map(|(f, _)| f.known()).collect();
        let certain = self.uncertain.is_none();
        let count = || -> u32 {
            args.first()
                .map_or(Some(1), |a| a.and_then(|a| a.parse().ok()))
                .unwrap_or(1)
                .max(1)
        };
        let flow = match name {
            "exit" => {
                self.status = St::Unknown;
                if certain { Flow::Exit } else { Flow::Next }
            }
            "return" => {
                self.status = match args.first() {
                    Some(Some("0")) | None => St::True,
                    Some(Some(_)) => St::False,
                    Some(None) => St::Unknown,
                };
                if certain && (!self.locals.is_empty() || self.sourcing > 0) {
                    Flow::Return
                } else {
                    Flow::Next
                }
            }
            "break" if certain => Flow::Break(count()),
            "continue" if certain => Flow::Continue(count()),
            "break" | "continue" => Flow::Next,
            "." | "source" => self.source_file(args.first().copied().flatten(), s.span),
            "export" | "readonly" | "declare" | "typeset" | "local" => {
                let local = name == "local"
                    || (matches!(name, "declare" | "typeset")
                        && !self.locals.is_empty()
                        && !args.contains(&Some("-g")));
                for (f, _) in &argv[1..] {
                    self.declare(f, local);
                }
                for a in &s.arrays {
                    self.assign(a, local);
                }
                self.status = St::True;
                Flow::Next
            }
            "set" => {
                if self.opts.set(&args, self.bash) == Set::Fails && certain {
                    self.status = St::False;
                    self.stop = Some(Stop {
                        span: self.span(s.span),
                        why: StopWhy::SetRejected,
                    });
                    return Some(Flow::Exit);
                }
                if let Some(i) = args.iter().position(|a| *a == Some("--")) {
                    self.positional = Some(
                        argv[i + 2..]
                            .iter()
                            .map(|(f, _)| f.text.text.clone())
                            .collect(),
                    );
                }
                self.status = St::True;
                Flow::Next
            }
            "shift" => {
                let n = args
                    .first()
                    .map_or(Some(1), |a| a.and_then(|a| a.parse().ok()));
                match (n, &mut self.positional) {
                    (Some(n), Some(p)) => {
                        let n = n.min(p.len());
                        p.drain(..n);
                    }
                    (_, p) => *p = None,
                }
                self.status = St::True;
                Flow::Next
            }
            "unset" => {
                let funcs = args.first() == Some(&Some("-f"));
                for a in args.iter().flatten().filter(|a| !a.starts_with('-')) {
                    if funcs {
                        self.funcs.remove(*a);
                    } else {
                        self.vars.remove(*a);
                        self.assigned.insert((*a).to_owned());
                    }
                }
                self.status = St::True;
                Flow::Next
            }
            "read" => {
                for a in args.iter().flatten().filter(|a| !a.starts_with('-')) {
                    self.set_var(a, Var::Unknown(format!("read {a}")));
                }
                self.status = St::Unknown;
                return None;
            }
            _ => return None,
        };
        Some(flow)
    }

    /// The exit status of a command the interpreter knows (`test`, `true`).
    fn status_of(&mut self, name: &str, argv: &[(Field, Range)]) -> St {
        let tests = |args: &[(Field, Range)]| -> Vec<Test> {
            args.iter()
                .map(|(f, _)| Test {
                    text: f.known().map(str::to_owned),
                    pattern: None,
                    operator: true,
                })
                .collect()
        };
        match name {
            "true" | ":" | "echo" | "printf" | "cd" | "trap" | "umask" | "wait" => St::True,
            "false" => St::False,
            "test" => builtins::test(&tests(&argv[1..]), false).condition(),
            "[" => match argv.split_last() {
                Some(((f, _), _)) if f.text.text == "]" => {
                    builtins::test(&tests(&argv[1..argv.len() - 1]), false).condition()
                }
                _ => St::False,
            },
            _ if self.openrc => {
                let first = argv.get(1).map(|(f, _)| f.known());
                openrc::helper_status(name, first).unwrap_or(St::Unknown)
            }
            _ => St::Unknown,
        }
    }

    /// `local a=1`, `export b`, `declare c=2` (one argument, unsplit).
    fn declare(&mut self, f: &Field, local: bool) {
        let text = &f.text.text;
        if text.starts_with(['-', '+']) {
            return;
        }
        let (name, value) = match text.split_once('=') {
            Some((n, v)) => (n.trim_end_matches('+'), Some(v)),
            None => (text.as_str(), None),
        };
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return;
        }
        if local {
            self.make_local(name);
        }
        match value {
            Some(v) if f.unknown.is_none() && !v.contains(crate::scripts::UNKNOWN) => {
                self.set_var(name, Var::Str(v.to_owned()))
            }
            Some(_) => self.set_var(
                name,
                Var::Unknown(f.unknown.clone().unwrap_or_else(|| text.clone())),
            ),
            None if local => {
                self.vars.remove(name);
                self.assigned.insert(name.to_owned());
            }
            None => {}
        }
    }

    /// Standard input and output redirections of a simple command.
    fn redirects(&mut self, redirs: &'a [Redir]) -> (Option<Input>, Vec<Redirect>) {
        let mut stdin = None;
        let mut out = Vec::new();
        for r in redirs {
            let span = self.span(r.span);
            match r.op {
                RedirOp::HereDoc(i) => {
                    let Some(doc) = self.script.heredocs.get(i) else {
                        continue;
                    };
                    let f = self.parts_value(&doc.parts, r.span);
                    stdin = Some(Input::Text(f.text));
                }
                RedirOp::HereString => {
                    let mut f = self.value(&r.target);
                    f.text.push("\n", span, false);
                    stdin = Some(Input::Text(f.text));
                }
                RedirOp::In => {
                    let f = self.value(&r.target);
                    stdin = Some(Input::File(self.word(f, r.target.span)));
                }
                RedirOp::OtherIn => {}
                RedirOp::Out | RedirOp::Append => {
                    let f = self.value(&r.target);
                    out.push(Redirect {
                        fd: r.fd.unwrap_or(1),
                        append: r.op == RedirOp::Append,
                        target: self.word(f, r.target.span),
                        span,
                    });
                }
                RedirOp::AllOut | RedirOp::AllAppend => {
                    let f = self.value(&r.target);
                    let target = self.word(f, r.target.span);
                    for fd in [1, 2] {
                        out.push(Redirect {
                            fd,
                            append: r.op == RedirOp::AllAppend,
                            target: target.clone(),
                            span,
                        });
                    }
                }
                RedirOp::DupOut => {
                    let f = self.value(&r.target);
                    let mut target = self.word(f, r.target.span);
                    let is_fd =
                        target.text.bytes().all(|b| b.is_ascii_digit()) || target.text == "-";
                    if is_fd {
                        target.text = format!("&{}", target.text);
                        out.push(Redirect {
                            fd: r.fd.unwrap_or(1),
                            append: false,
                            target,
                            span,
                        });
                    } else {
                        for fd in [1, 2] {
                            out.push(Redirect {
                                fd,
                                append: false,
                                target: target.clone(),
                                span,
                            });
                        }
                    }
                }
            }
        }
        (stdin, out)
    }

    fn word(&self, f: Field, r: Range) -> Word {
        Word {
            text: f.text.text,
            span: self.span(r),
            unknown: f.unknown,
            items: None,
        }
    }

    /// The files a command writes; returns its output when it goes down a pipe.
    fn effects(&mut self, c: &Command, argv: &[(Field, Range)], last: bool) -> Option<Text> {
        let (prog, first) = c.program()?;
        if !prog.on_path {
            return None;
        }
        let name = prog.name.to_owned();
        let args = argv.get(first..).unwrap_or(&[]);
        let output = match name.as_str() {
            "echo" => Some(builtins::echo(args, self.bash, c.span)),
            "printf" => builtins::printf(args, c.span),
            "cat" => match (&c.stdin, args.iter().all(|(f, _)| f.text.text == "-")) {
                (Some(Input::Text(t)), true) => Some(t.clone()),
                _ => None,
            },
            "tee" => {
                let input = match &c.stdin {
                    Some(Input::Text(t)) => Some(t.clone()),
                    _ => None,
                };
                self.tee(c, args, input.as_ref());
                input
            }
            "sed" => {
                self.sed(c, args);
                None
            }
            _ => return None,
        };
        let output = output?;
        let stdout = c.redirects.iter().rev().find(|r| r.fd == 1);
        match stdout {
            Some(r) if r.discards() => None,
            Some(r) => {
                let op = if r.append {
                    WriteOp::Append(output)
                } else {
                    WriteOp::Replace(output)
                };
                self.push_write(r.target.clone(), op, c.span);
                None
            }
            None if !last => Some(output),
            None => {
                if let Some(sink) = self.stdout.last_mut() {
                    let op = if sink.append || sink.written {
                        WriteOp::Append(output)
                    } else {
                        WriteOp::Replace(output)
                    };
                    sink.written = true;
                    let path = Word {
                        text: sink.path.text.text.clone(),
                        span: Span::new(self.source.id, sink.span.0 as usize, sink.span.1 as usize),
                        unknown: sink.path.unknown.clone(),
                        items: None,
                    };
                    if !is_discard(&path.text) {
                        self.push_write(path, op, c.span);
                    }
                }
                None
            }
        }
    }

    /// `> F` and `: > F` leave F empty.
    fn truncate(&mut self, redirects: &[Redirect], span: Span) {
        for r in redirects {
            if r.fd == 1 && !r.append && !r.discards() {
                self.push_write(r.target.clone(), WriteOp::Replace(Text::default()), span);
            }
        }
    }

    fn push_write(&mut self, path: Word, op: WriteOp, span: Span) {
        if is_discard(&path.text) {
            return;
        }
        let len = match &op {
            WriteOp::Replace(t) | WriteOp::Append(t) => t.text.len(),
            WriteOp::Sed(edits) => edits.len() * 64,
        };
        self.write_bytes += len;
        let cap = self.budget.max_string * MAX_WRITES;
        if self.write_bytes > cap {
            self.record(false, LimitKind::StringLength, span, cap as u64);
            return;
        }
        self.writes.push(Write {
            path,
            op,
            span,
            uncertain: self.uncertain.clone(),
        });
    }

    fn tee(&mut self, c: &Command, args: &[(Field, Range)], input: Option<&Text>) {
        let Some(input) = input else { return };
        let mut append = false;
        let mut files = Vec::new();
        let mut options = true;
        for (f, r) in args {
            let t = f.text.text.as_str();
            if options && t == "--" {
                options = false;
            } else if options && t.starts_with('-') && t.len() > 1 {
                append |= t == "--append" || (!t.starts_with("--") && t.contains('a'));
            } else {
                files.push(self.word(f.clone(), *r));
            }
        }
        for path in files {
            let op = if append {
                WriteOp::Append(input.clone())
            } else {
                WriteOp::Replace(input.clone())
            };
            self.push_write(path, op, c.span);
        }
    }

    fn sed(&mut self, c: &Command, args: &[(Field, Range)]) {
        let Some((edits, files)) = builtins::sed_in_place(args, self.source.id) else {
            return;
        };
        for (f, r) in files {
            let path = self.word(f, r);
            self.push_write(path, WriteOp::Sed(edits.clone()), c.span);
        }
    }
}

/// A variable's value as one argument; an unknown one marked so.
fn var_word(v: &Var, span: Span) -> Word {
    match v {
        Var::Str(s) => Word::literal(s.clone(), span),
        Var::Arr(items) => Word::literal(items.first().cloned().unwrap_or_default(), span),
        Var::Unknown(what) => Word {
            text: crate::scripts::UNKNOWN.to_string(),
            span,
            unknown: Some(what.clone()),
            items: None,
        },
    }
}

fn is_discard(path: &str) -> bool {
    matches!(path, "/dev/null" | "/dev/stdout" | "/dev/stderr") || path.starts_with('&')
}

/// The word's text when it is plain unquoted text (`export`, `local`).
fn plain_word(w: &WordT) -> Option<&str> {
    match w.parts.as_slice() {
        [
            Part::Lit {
                text,
                quoted: false,
                ..
            },
        ] => Some(text),
        _ => None,
    }
}

fn has_cmdsub(a: &Assign) -> bool {
    match &a.value {
        AssignValue::Scalar(w) => w.parts.iter().any(|p| matches!(p, Part::CmdSub { .. })),
        _ => false,
    }
}

/// Where a node is written: its first and last commands.
pub fn node_span(n: &Node) -> Option<Range> {
    let join = |a: Option<Range>, b: Option<Range>| match (a, b) {
        (Some(a), Some(b)) => Some((a.0.min(b.0), a.1.max(b.1))),
        (a, b) => a.or(b),
    };
    match n {
        Node::Simple(s) => Some(s.span),
        Node::Pipeline { span, .. } => Some(*span),
        Node::AndOr { first, rest } => join(
            node_span(first),
            rest.last().and_then(|(_, n)| node_span(n)),
        ),
        Node::List(items) => join(
            items.first().and_then(node_span),
            items.last().and_then(node_span),
        ),
        Node::Subshell(b) | Node::Group(b) => node_span(b),
        Node::If { arms, otherwise } => join(
            arms.first().and_then(|(c, _)| node_span(c)),
            otherwise
                .as_deref()
                .and_then(node_span)
                .or_else(|| arms.last().and_then(|(_, b)| node_span(b))),
        ),
        Node::Loop { cond, body, .. } => join(node_span(cond), node_span(body)),
        Node::For { span, body, .. } | Node::ArithFor { span, body, .. } => {
            join(Some(*span), node_span(body))
        }
        Node::Case { subject, arms } => join(
            Some(subject.span),
            arms.last().and_then(|a| node_span(&a.body)),
        ),
        Node::Func { body, .. } => node_span(body),
        Node::Arith { span, .. } | Node::Cond { span, .. } => Some(*span),
        Node::Redirected { node, redirs } => join(node_span(node), redirs.last().map(|r| r.span)),
    }
}
