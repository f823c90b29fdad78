//! Word expansion as bash does it: brace expansion, parameters, arithmetic,
//! command substitution (unknown, except `seq`), then field splitting of the
//! unquoted results; each field keeps the script spans of its parts.

use super::arith;
use super::ast::*;
use super::eval::{Interp, Var};
use crate::scripts::{Text, UNKNOWN};

/// One field after expansion.
#[derive(Clone, Debug, Default)]
pub struct Field {
    pub text: Text,
    /// What was unknown in it, as written.
    pub unknown: Option<String>,
}

impl Field {
    pub fn known(&self) -> Option<&str> {
        (self.unknown.is_none() && !self.text.text.contains(UNKNOWN)).then_some(&self.text.text)
    }
}

/// A piece of a word's expansion before splitting.
enum Seg {
    Text {
        text: String,
        span: Range,
        verbatim: bool,
        split: bool,
        quoted: bool,
        /// What an unknown value stands for (`$(which iptables)` behind `$IPT`).
        unknown: Option<String>,
    },
    /// Between the elements of `"$@"` / `"${A[@]}"`.
    Break,
}

/// What a parameter holds.
enum Value {
    Unset,
    Str(String),
    Unknown(String),
    List(Vec<String>),
}

/// A field count over this from one word is a budget hit (string length).
const MAX_FIELDS: usize = 100_000;

impl Interp<'_, '_> {
    /// A word's fields (command arguments, `for` lists).
    pub fn fields(&mut self, w: &WordT) -> Vec<Field> {
        let mut out = Vec::new();
        if !w.parts.iter().any(|p| matches!(p, Part::Brace(_))) {
            let segs = self.segments(&w.parts, false);
            self.split_into(segs, &mut out);
            return out;
        }
        for parts in self.braces(&w.parts, w.span) {
            let segs = self.segments(&parts, false);
            self.split_into(segs, &mut out);
            if out.len() > MAX_FIELDS {
                self.charge_string(usize::MAX, self.span(w.span));
                out.truncate(MAX_FIELDS);
                break;
            }
        }
        out
    }

    /// A word's value without splitting (assignments, redirect targets, `case`).
    pub fn value(&mut self, w: &WordT) -> Field {
        let segs = self.segments(&w.parts, false);
        self.join(segs, w.span)
    }

    /// Parts as one value (heredoc bodies).
    pub fn parts_value(&mut self, parts: &[Part], span: Range) -> Field {
        let segs = self.segments(parts, true);
        self.join(segs, span)
    }

    /// A `case` pattern: quoted characters escaped; `None` when unknown.
    pub fn pattern(&mut self, w: &WordT) -> Option<String> {
        let segs = self.segments(&w.parts, false);
        let mut out = String::new();
        for s in segs {
            if let Seg::Text { text, quoted, .. } = s {
                if text.contains(UNKNOWN) {
                    return None;
                }
                if quoted {
                    for c in text.chars() {
                        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
                            out.push('\\');
                        }
                        out.push(c);
                    }
                } else {
                    out.push_str(&text);
                }
            }
        }
        Some(out)
    }

    fn join(&mut self, segs: Vec<Seg>, span: Range) -> Field {
        let mut f = Field::default();
        for s in segs {
            match s {
                Seg::Text {
                    text,
                    span,
                    verbatim,
                    unknown,
                    ..
                } => {
                    self.note_unknown(&mut f, &text, span, &unknown);
                    f.text.push(&text, self.span(span), verbatim);
                }
                Seg::Break => f.text.push(" ", self.span(span), false),
            }
        }
        self.charge(f, span)
    }

    /// A value over the string budget becomes unknown.
    fn charge(&mut self, mut f: Field, span: Range) -> Field {
        let len = f.text.text.len();
        if !self.charge_string(len, self.span(span)) || !self.charge_bytes(len, self.span(span)) {
            f.text = Text::default();
            f.text.push(&UNKNOWN.to_string(), self.span(span), false);
            f.unknown = Some("a value longer than the budget".into());
        }
        f
    }

    fn note_unknown(&self, f: &mut Field, text: &str, span: Range, what: &Option<String>) {
        if text.contains(UNKNOWN) && f.unknown.is_none() {
            f.unknown = Some(what.clone().unwrap_or_else(|| self.slice(span).to_owned()));
        }
    }

    fn split_into(&mut self, segs: Vec<Seg>, out: &mut Vec<Field>) {
        let start = out.len();
        let ifs = self.ifs();
        let mut cur = Field::default();
        let mut has = false;
        for s in segs {
            match s {
                Seg::Break => {
                    out.push(std::mem::take(&mut cur));
                    has = false;
                }
                Seg::Text {
                    text,
                    span,
                    verbatim,
                    split,
                    quoted,
                    unknown,
                } => {
                    let sp = self.span(span);
                    if !split {
                        self.note_unknown(&mut cur, &text, span, &unknown);
                        cur.text.push(&text, sp, verbatim);
                        has |= quoted || !text.is_empty();
                        continue;
                    }
                    let mut rest = text.as_str();
                    while !rest.is_empty() {
                        match rest.find(|c| ifs.contains(c)) {
                            Some(0) => {
                                if has {
                                    out.push(std::mem::take(&mut cur));
                                    has = false;
                                }
                                rest = rest.trim_start_matches(|c| ifs.contains(c));
                            }
                            Some(n) => {
                                self.note_unknown(&mut cur, &rest[..n], span, &unknown);
                                cur.text.push(&rest[..n], sp, false);
                                has = true;
                                rest = &rest[n..];
                            }
                            None => {
                                self.note_unknown(&mut cur, rest, span, &unknown);
                                cur.text.push(rest, sp, false);
                                has = true;
                                rest = "";
                            }
                        }
                    }
                }
            }
        }
        if has {
            out.push(cur);
        }
        let len: usize = out[start..].iter().map(|f| f.text.text.len()).sum();
        let span = out[start..]
            .first()
            .and_then(|f| f.text.pieces.first())
            .map_or(self.span((0, 0)), |p| p.span);
        self.charge_bytes(len, span);
        for f in &mut out[start..] {
            if f.text.text.len() > self.max_string() {
                let span = f.text.pieces.first().map_or(self.span((0, 0)), |p| p.span);
                self.charge_string(f.text.text.len(), span);
                f.text = Text::default();
                f.text.push(&UNKNOWN.to_string(), span, false);
                f.unknown = Some("a value longer than the budget".into());
            }
        }
    }

    fn ifs(&self) -> std::borrow::Cow<'static, str> {
        match self.vars.get("IFS") {
            Some(Var::Str(s)) => s.clone().into(),
            _ => " \t\n".into(),
        }
    }

    /// Brace expansion: every combination of the alternatives, in order.
    fn braces(&mut self, parts: &[Part], span: Range) -> Vec<Vec<Part>> {
        let mut out: Vec<Vec<Part>> = vec![Vec::new()];
        for p in parts {
            match p {
                Part::Brace(alts) => {
                    let mut expanded = Vec::new();
                    for alt in alts {
                        expanded.extend(self.braces(alt, span));
                    }
                    let mut next = Vec::new();
                    for prefix in &out {
                        for e in &expanded {
                            let mut v = prefix.clone();
                            v.extend(e.iter().cloned());
                            next.push(v);
                        }
                        if next.len() > MAX_FIELDS {
                            self.charge_string(usize::MAX, self.span(span));
                            return out;
                        }
                    }
                    out = next;
                }
                other => {
                    for v in &mut out {
                        v.push(other.clone());
                    }
                }
            }
        }
        out
    }

    fn segments(&mut self, parts: &[Part], quoted: bool) -> Vec<Seg> {
        let mut out = Vec::new();
        for p in parts {
            self.segment(p, quoted, &mut out);
        }
        out
    }

    fn segment(&mut self, p: &Part, quoted: bool, out: &mut Vec<Seg>) {
        match p {
            Part::Lit {
                text,
                quoted: q,
                span,
            } => out.push(Seg::Text {
                verbatim: self.slice(*span) == text,
                text: text.clone(),
                span: *span,
                split: false,
                quoted: *q || quoted,
                unknown: None,
            }),
            Part::DQuote { parts, span } => {
                let before = out.len();
                for p in parts {
                    self.segment(p, true, out);
                }
                // `"$@"` with no arguments is no field at all.
                let lists = parts.iter().any(|p| {
                    matches!(p, Part::Param(pp) if pp.name == "@" || pp.index.as_deref() == Some("@"))
                });
                if out.len() == before && !lists {
                    out.push(Seg::Text {
                        text: String::new(),
                        span: *span,
                        verbatim: false,
                        split: false,
                        quoted: true,
                        unknown: None,
                    });
                }
            }
            Part::Param(param) => self.param_segments(param, quoted, out),
            Part::CmdSub { inner, span } => {
                let text = self.command_substitution(*inner);
                out.push(Seg::Text {
                    text,
                    span: *span,
                    verbatim: false,
                    split: !quoted,
                    quoted,
                    unknown: None,
                });
            }
            Part::Arith { expr, span } => {
                let text = self
                    .arith(*expr)
                    .map_or_else(|| UNKNOWN.to_string(), |v| v.to_string());
                out.push(Seg::Text {
                    text,
                    span: *span,
                    verbatim: false,
                    split: !quoted,
                    quoted,
                    unknown: None,
                });
            }
            Part::Brace(alts) => {
                // Only reached inside quotes or values, where bash leaves braces alone.
                for alt in alts {
                    for p in alt {
                        self.segment(p, quoted, out);
                    }
                }
            }
        }
    }

    /// Arithmetic over the script's variables.
    pub fn arith(&mut self, expr: Range) -> Option<i64> {
        let text = self.slice(expr).to_owned();
        if text.contains(['`', '(']) && text.contains("$(") {
            return None;
        }
        let mut env = ArithEnv { interp: self };
        arith::eval(&text, &mut env)
    }

    /// `$(seq A B)` / `$(seq A S B)` yield their numbers; anything else is unknown.
    fn command_substitution(&mut self, inner: Range) -> String {
        // Each level is parsed and expanded afresh: without the nesting budget a
        // `$(echo $(echo …))` thousands deep would exhaust the stack.
        if !self.enter(Some(inner)) {
            return UNKNOWN.to_string();
        }
        let text = self.substituted(inner);
        self.depth -= 1;
        text
    }

    fn substituted(&mut self, inner: Range) -> String {
        match self.seq_of(inner) {
            Some((first, step, last)) => {
                let count = if step == 0 {
                    0
                } else {
                    ((i128::from(last) - i128::from(first)) / i128::from(step) + 1).max(0)
                };
                let approx = usize::try_from(count)
                    .unwrap_or(usize::MAX)
                    .saturating_mul(7);
                if !self.charge_string(approx, self.span(inner)) {
                    return UNKNOWN.to_string();
                }
                let mut s = String::new();
                let mut v = first;
                for _ in 0..count {
                    s.push_str(&v.to_string());
                    s.push('\n');
                    v = v.wrapping_add(step);
                }
                s.pop();
                s
            }
            None => UNKNOWN.to_string(),
        }
    }

    /// The numbers of a `seq` command substitution: (first, step, last).
    pub fn seq_of(&mut self, inner: Range) -> Option<(i64, i64, i64)> {
        let script = super::parse::parse_range(self.text, inner, self.bash);
        let [Node::Simple(simple)] = script.items.as_slice() else {
            return None;
        };
        if !simple.assigns.is_empty() || !simple.redirs.is_empty() {
            return None;
        }
        let mut args = Vec::new();
        for w in &simple.words {
            for f in self.fields(w) {
                args.push(f.known()?.to_owned());
            }
        }
        let (name, nums) = args.split_first()?;
        if name != "seq" {
            return None;
        }
        let nums: Vec<i64> = nums.iter().map(|n| n.parse().ok()).collect::<Option<_>>()?;
        match nums.as_slice() {
            [last] => Some((1, 1, *last)),
            [first, last] => Some((*first, 1, *last)),
            [first, step, last] if *step != 0 => Some((*first, *step, *last)),
            _ => None,
        }
    }

    fn param_segments(&mut self, p: &Param, quoted: bool, out: &mut Vec<Seg>) {
        let value = self.param_value(p);
        let text_seg = |text: String, unknown: Option<String>, out: &mut Vec<Seg>| {
            out.push(Seg::Text {
                text,
                span: p.span,
                verbatim: false,
                split: !quoted,
                quoted,
                unknown,
            })
        };
        match value {
            Value::List(items)
                if quoted && !p.length && p.index.as_deref() != Some("*") && p.name != "*" =>
            {
                for (i, item) in items.into_iter().enumerate() {
                    if i > 0 {
                        out.push(Seg::Break);
                    }
                    text_seg(item, None, out);
                }
            }
            Value::List(items) => text_seg(items.join(" "), None, out),
            Value::Str(s) => text_seg(s, None, out),
            Value::Unset => text_seg(String::new(), None, out),
            Value::Unknown(what) => text_seg(UNKNOWN.to_string(), Some(what), out),
        }
    }

    fn param_value(&mut self, p: &Param) -> Value {
        let base = self.lookup(&p.name, p.index.as_deref());
        if p.length {
            return match base {
                Value::Str(s) => Value::Str(s.chars().count().to_string()),
                Value::Unset => Value::Str("0".into()),
                Value::List(l) => Value::Str(l.len().to_string()),
                u => u,
            };
        }
        let is_null = |v: &Value, colon: bool| match v {
            Value::Unset => true,
            Value::Str(s) => colon && s.is_empty(),
            Value::List(l) => l.is_empty() || colon && l.iter().all(String::is_empty),
            Value::Unknown(_) => false,
        };
        // A variable the script never sets takes its default: the environment
        // is not known, and a default is what the author expects.
        let base = match base {
            Value::Unknown(_) if self.never_set(&p.name) && p.op != ParamOp::Plain => Value::Unset,
            other => other,
        };
        match p.op {
            ParamOp::Plain => base,
            ParamOp::Default(colon) | ParamOp::Error(colon) if is_null(&base, colon) => {
                self.arg_value(p)
            }
            ParamOp::Assign(colon) if is_null(&base, colon) => {
                let v = self.arg_value(p);
                match &v {
                    Value::Str(s) => self.set_var(&p.name, Var::Str(s.clone())),
                    _ => self.set_var(&p.name, Var::Unknown(self.slice(p.span).to_owned())),
                }
                v
            }
            ParamOp::Alt(colon) => {
                if matches!(base, Value::Unknown(_)) {
                    base
                } else if is_null(&base, colon) {
                    Value::Str(String::new())
                } else {
                    self.arg_value(p)
                }
            }
            ParamOp::TrimFront(long) | ParamOp::TrimBack(long) => {
                let front = matches!(p.op, ParamOp::TrimFront(_));
                let pat = p.arg.as_ref().and_then(|a| self.pattern(a));
                match (base, pat) {
                    (Value::Str(s), Some(pat)) => Value::Str(trim(&s, &pat, front, long)),
                    (Value::Unset, Some(_)) => Value::Str(String::new()),
                    _ => Value::Unknown(self.slice(p.span).to_owned()),
                }
            }
            ParamOp::Other => Value::Unknown(self.slice(p.span).to_owned()),
            _ => base,
        }
    }

    fn arg_value(&mut self, p: &Param) -> Value {
        let Some(arg) = &p.arg else {
            return Value::Str(String::new());
        };
        let f = self.value(arg);
        match f.known() {
            Some(s) => Value::Str(s.to_owned()),
            None => Value::Unknown(self.slice(p.span).to_owned()),
        }
    }

    fn lookup(&mut self, name: &str, index: Option<&str>) -> Value {
        let unknown = || Value::Unknown(format!("${name}"));
        match name {
            "@" | "*" => {
                return match &self.positional {
                    Some(args) => Value::List(args.clone()),
                    None => unknown(),
                };
            }
            "#" => {
                return match &self.positional {
                    Some(args) => Value::Str(args.len().to_string()),
                    None => unknown(),
                };
            }
            "?" | "$" | "!" | "-" | "0" => return unknown(),
            _ => {}
        }
        if let Ok(n) = name.parse::<usize>() {
            return match &self.positional {
                Some(args) => args
                    .get(n.wrapping_sub(1))
                    .map_or(Value::Unset, |a| Value::Str(a.clone())),
                None => unknown(),
            };
        }
        let var = self.vars.get(name).cloned();
        match (var, index) {
            (None, _) => self.unset_value(name),
            (Some(Var::Unknown(what)), _) => Value::Unknown(what),
            (Some(Var::Str(s)), None) => Value::Str(s),
            (Some(Var::Arr(items)), None) => {
                items.first().cloned().map_or(Value::Unset, Value::Str)
            }
            (Some(Var::Arr(items)), Some("@" | "*")) => Value::List(items),
            (Some(Var::Str(s)), Some("@" | "*")) => Value::List(vec![s]),
            (Some(v), Some(ix)) => {
                let Some(i) = self.index_of(ix) else {
                    return unknown();
                };
                let items = match v {
                    Var::Arr(items) => items,
                    Var::Str(s) => vec![s],
                    Var::Unknown(_) => return unknown(),
                };
                let i = if i < 0 { items.len() as i64 + i } else { i };
                usize::try_from(i)
                    .ok()
                    .and_then(|i| items.get(i).cloned())
                    .map_or(Value::Unset, Value::Str)
            }
        }
    }

    pub fn index_of(&mut self, ix: &str) -> Option<i64> {
        let mut env = ArithEnv { interp: self };
        arith::eval(ix, &mut env)
    }

    fn never_set(&self, name: &str) -> bool {
        name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && !self.assigned.contains(name)
            && !self.vars.contains_key(name)
    }

    /// A variable the script never set may come from the environment.
    fn unset_value(&self, name: &str) -> Value {
        if self.assigned.contains(name) {
            Value::Unset
        } else {
            Value::Unknown(format!("${name}"))
        }
    }
}

struct ArithEnv<'i, 'a, 'b> {
    interp: &'i mut Interp<'a, 'b>,
}

impl arith::Env for ArithEnv<'_, '_, '_> {
    fn get(&mut self, name: &str) -> Option<i64> {
        match self.interp.lookup(name, None) {
            Value::Str(s) if s.trim().is_empty() => Some(0),
            Value::Str(s) => {
                let s = s.trim().to_owned();
                if let Ok(v) = s.parse::<i64>() {
                    return Some(v);
                }
                self.interp.arith_depth += 1;
                let v = if self.interp.arith_depth < 16 {
                    arith::eval(&s, self)
                } else {
                    None
                };
                self.interp.arith_depth -= 1;
                v
            }
            Value::Unset => Some(0),
            _ => None,
        }
    }

    fn set(&mut self, name: &str, value: i64) {
        self.interp.set_var(name, Var::Str(value.to_string()));
    }
}

/// `${v#pat}`, `${v##pat}`, `${v%pat}`, `${v%%pat}`.
fn trim(s: &str, pat: &str, front: bool, long: bool) -> String {
    let cuts: Vec<usize> = s
        .char_indices()
        .map(|(i, _)| i)
        .chain(std::iter::once(s.len()))
        .collect();
    let candidates: Box<dyn Iterator<Item = &usize>> = match (front, long) {
        (true, false) | (false, true) => Box::new(cuts.iter()),
        _ => Box::new(cuts.iter().rev()),
    };
    for &c in candidates {
        let (part, rest) = if front {
            (&s[..c], &s[c..])
        } else {
            (&s[c..], &s[..c])
        };
        if super::glob::matches(pat, part) {
            return rest.to_owned();
        }
    }
    s.to_owned()
}
