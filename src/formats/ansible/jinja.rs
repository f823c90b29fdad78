//! Jinja as Ansible evaluates it, as far as pasvlint needs: variables,
//! literals, attribute and item access, `~`/`+` and comparisons, the filters
//! infrastructure roles use on ports and settings (`default`, `int`, `string`,
//! `join`, ...), `range()`, and templates with `{% if %}`, `{% for %}` and
//! `{% set %}`. Whatever is not followed (a lookup, a fact of the managed host,
//! a registered result, an unknown filter) is [`Unknown`], never guessed.

use std::collections::HashMap;

/// A value as Python holds it after templating.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    None,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    List(Vec<Value>),
    Map(Vec<(String, Value)>),
}

/// Why a value is not known: the expression (or variable) as written, and
/// whether it is a variable defined nowhere pasvlint reads (`default()` then applies).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unknown {
    pub what: String,
    pub undefined: bool,
}

impl Unknown {
    pub fn new(what: impl Into<String>) -> Self {
        Unknown {
            what: what.into(),
            undefined: false,
        }
    }

    fn undefined(name: &str) -> Self {
        Unknown {
            what: name.to_owned(),
            undefined: true,
        }
    }
}

pub type Eval = Result<Value, Unknown>;

/// The variables an expression sees.
pub trait Vars {
    /// `None` when the variable is defined nowhere pasvlint reads; `Some(Err)`
    /// when it is defined but its value is not known.
    fn get(&self, name: &str, depth: usize) -> Option<Eval>;
}

/// No variables at all.
pub struct NoVars;

impl Vars for NoVars {
    fn get(&self, _: &str, _: usize) -> Option<Eval> {
        None
    }
}

/// Variables bound over others (a loop's `item`, a template's `{% set %}`).
pub struct Bound<'a> {
    pub names: HashMap<String, Value>,
    pub outer: &'a dyn Vars,
}

impl Vars for Bound<'_> {
    fn get(&self, name: &str, depth: usize) -> Option<Eval> {
        match self.names.get(name) {
            Some(v) => Some(Ok(v.clone())),
            None => self.outer.get(name, depth),
        }
    }
}

/// How deep variables may refer to variables (Ansible itself stops recursive templating).
pub const MAX_DEPTH: usize = 32;

/// The longest list `range()` builds or a loop runs over.
const MAX_ITEMS: usize = 65_536;

impl Value {
    /// `str(value)` in Python.
    pub fn to_text(&self) -> String {
        match self {
            Value::None => "None".into(),
            Value::Bool(true) => "True".into(),
            Value::Bool(false) => "False".into(),
            Value::Int(n) => n.to_string(),
            Value::Float(f) => python_float(*f),
            Value::Str(s) => s.clone(),
            Value::List(items) => {
                let parts: Vec<String> = items.iter().map(Value::repr).collect();
                format!("[{}]", parts.join(", "))
            }
            Value::Map(entries) => {
                let parts: Vec<String> = entries
                    .iter()
                    .map(|(k, v)| format!("'{k}': {}", v.repr()))
                    .collect();
                format!("{{{}}}", parts.join(", "))
            }
        }
    }

    /// `repr(value)` in Python (strings quoted).
    fn repr(&self) -> String {
        match self {
            Value::Str(s) => format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'")),
            other => other.to_text(),
        }
    }

    /// Python truthiness.
    pub fn truthy(&self) -> bool {
        match self {
            Value::None => false,
            Value::Bool(b) => *b,
            Value::Int(n) => *n != 0,
            Value::Float(f) => *f != 0.0,
            Value::Str(s) => !s.is_empty(),
            Value::List(l) => !l.is_empty(),
            Value::Map(m) => !m.is_empty(),
        }
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Map(entries) => entries.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }
}

fn python_float(f: f64) -> String {
    if f.is_finite() && f.fract() == 0.0 && f.abs() < 1e16 {
        format!("{f:.1}")
    } else {
        f.to_string()
    }
}

// ---------------------------------------------------------------- lexer

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Name(String),
    Int(i64),
    Float(f64),
    Str(String),
    Op(&'static str),
}

const OPS: &[&str] = &[
    "==", "!=", "<=", ">=", "//", "**", "(", ")", "[", "]", "{", "}", ".", ",", ":", "|", "~", "+",
    "-", "*", "/", "%", "<", ">", "=",
];

fn lex(text: &str) -> Result<Vec<Tok>, Unknown> {
    let bad = || Unknown::new(text.trim());
    let mut out = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        if c.is_ascii_digit() {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '_') {
                i += 1;
            }
            let is_float = i + 1 < chars.len() && chars[i] == '.' && chars[i + 1].is_ascii_digit();
            if is_float {
                i += 1;
                while i < chars.len() && chars[i].is_ascii_digit() {
                    i += 1;
                }
                let s: String = chars[start..i].iter().filter(|c| **c != '_').collect();
                out.push(Tok::Float(s.parse().map_err(|_| bad())?));
            } else {
                let s: String = chars[start..i].iter().filter(|c| **c != '_').collect();
                out.push(Tok::Int(s.parse().map_err(|_| bad())?));
            }
            continue;
        }
        if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            out.push(Tok::Name(chars[start..i].iter().collect()));
            continue;
        }
        if c == '\'' || c == '"' {
            let mut s = String::new();
            i += 1;
            loop {
                let Some(&d) = chars.get(i) else {
                    return Err(bad());
                };
                i += 1;
                if d == c {
                    break;
                }
                if d == '\\' {
                    let Some(&e) = chars.get(i) else {
                        return Err(bad());
                    };
                    i += 1;
                    s.push(match e {
                        'n' => '\n',
                        't' => '\t',
                        'r' => '\r',
                        other => other,
                    });
                } else {
                    s.push(d);
                }
            }
            out.push(Tok::Str(s));
            continue;
        }
        let rest: String = chars[i..chars.len().min(i + 2)].iter().collect();
        let Some(op) = OPS.iter().find(|op| rest.starts_with(**op)) else {
            return Err(bad());
        };
        out.push(Tok::Op(op));
        i += op.chars().count();
    }
    Ok(out)
}

// ---------------------------------------------------------------- parser

#[derive(Clone, Debug, PartialEq)]
enum Expr {
    Lit(Value),
    Var(String),
    List(Vec<Expr>),
    Dict(Vec<(Expr, Expr)>),
    Attr(Box<Expr>, String),
    Item(Box<Expr>, Box<Expr>),
    Call(Box<Expr>, Vec<Expr>),
    Filter(Box<Expr>, String, Vec<Expr>),
    Test(Box<Expr>, String, bool),
    Binary(&'static str, Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Neg(Box<Expr>),
    Cond(Box<Expr>, Box<Expr>, Option<Box<Expr>>),
}

struct Parser {
    toks: Vec<Tok>,
    at: usize,
    depth: usize,
}

type PResult<T> = Result<T, ()>;

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.at)
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.at).cloned();
        self.at += 1;
        t
    }

    fn eat_op(&mut self, op: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Op(o)) if *o == op) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn eat_name(&mut self, name: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Name(n)) if n == name) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn expect_op(&mut self, op: &str) -> PResult<()> {
        if self.eat_op(op) { Ok(()) } else { Err(()) }
    }

    fn expr(&mut self) -> PResult<Expr> {
        self.depth += 1;
        if self.depth > 64 {
            return Err(());
        }
        let e = self.or();
        let e = match e {
            Ok(body) if self.eat_name("if") => {
                let cond = self.or()?;
                let other = if self.eat_name("else") {
                    Some(Box::new(self.expr()?))
                } else {
                    None
                };
                Ok(Expr::Cond(Box::new(cond), Box::new(body), other))
            }
            e => e,
        };
        self.depth -= 1;
        e
    }

    fn or(&mut self) -> PResult<Expr> {
        let mut left = self.and()?;
        while self.eat_name("or") {
            left = Expr::Binary("or", Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> PResult<Expr> {
        let mut left = self.not()?;
        while self.eat_name("and") {
            left = Expr::Binary("and", Box::new(left), Box::new(self.not()?));
        }
        Ok(left)
    }

    fn not(&mut self) -> PResult<Expr> {
        if self.eat_name("not") {
            self.depth += 1;
            if self.depth > 64 {
                return Err(());
            }
            let inner = self.not()?;
            self.depth -= 1;
            return Ok(Expr::Not(Box::new(inner)));
        }
        self.compare()
    }

    fn compare(&mut self) -> PResult<Expr> {
        let mut left = self.concat()?;
        loop {
            let op = match self.peek() {
                Some(Tok::Op(o)) if matches!(*o, "==" | "!=" | "<" | ">" | "<=" | ">=") => *o,
                Some(Tok::Name(n)) if n == "in" => "in",
                Some(Tok::Name(n)) if n == "not" => {
                    if matches!(self.toks.get(self.at + 1), Some(Tok::Name(n)) if n == "in") {
                        self.at += 1;
                        "not in"
                    } else {
                        return Ok(left);
                    }
                }
                Some(Tok::Name(n)) if n == "is" => {
                    self.at += 1;
                    let negate = self.eat_name("not");
                    let Some(Tok::Name(test)) = self.next() else {
                        return Err(());
                    };
                    left = Expr::Test(Box::new(left), test, negate);
                    continue;
                }
                _ => return Ok(left),
            };
            self.at += 1;
            let right = self.concat()?;
            left = Expr::Binary(op, Box::new(left), Box::new(right));
        }
    }

    fn concat(&mut self) -> PResult<Expr> {
        let mut left = self.add()?;
        while self.eat_op("~") {
            left = Expr::Binary("~", Box::new(left), Box::new(self.add()?));
        }
        Ok(left)
    }

    fn add(&mut self) -> PResult<Expr> {
        let mut left = self.mul()?;
        loop {
            let op = if self.eat_op("+") {
                "+"
            } else if self.eat_op("-") {
                "-"
            } else {
                return Ok(left);
            };
            left = Expr::Binary(op, Box::new(left), Box::new(self.mul()?));
        }
    }

    fn mul(&mut self) -> PResult<Expr> {
        let mut left = self.unary()?;
        loop {
            let op = ["*", "//", "/", "%"].into_iter().find(|op| self.eat_op(op));
            let Some(op) = op else { return Ok(left) };
            left = Expr::Binary(op, Box::new(left), Box::new(self.unary()?));
        }
    }

    fn unary(&mut self) -> PResult<Expr> {
        if self.eat_op("-") {
            self.depth += 1;
            if self.depth > 64 {
                return Err(());
            }
            let inner = self.unary()?;
            self.depth -= 1;
            return Ok(Expr::Neg(Box::new(inner)));
        }
        self.postfix()
    }

    fn args(&mut self) -> PResult<Vec<Expr>> {
        let mut args = Vec::new();
        if self.eat_op(")") {
            return Ok(args);
        }
        loop {
            // Keyword arguments (`default(x, boolean=true)`): the value counts by position.
            if matches!(self.peek(), Some(Tok::Name(_)))
                && matches!(self.toks.get(self.at + 1), Some(Tok::Op("=")))
            {
                self.at += 2;
            }
            args.push(self.expr()?);
            if self.eat_op(")") {
                return Ok(args);
            }
            self.expect_op(",")?;
        }
    }

    fn postfix(&mut self) -> PResult<Expr> {
        let mut e = self.primary()?;
        loop {
            if self.eat_op(".") {
                match self.next() {
                    Some(Tok::Name(n)) => e = Expr::Attr(Box::new(e), n),
                    Some(Tok::Int(n)) => {
                        e = Expr::Item(Box::new(e), Box::new(Expr::Lit(Value::Int(n))))
                    }
                    _ => return Err(()),
                }
            } else if self.eat_op("[") {
                let index = self.expr()?;
                self.expect_op("]")?;
                e = Expr::Item(Box::new(e), Box::new(index));
            } else if self.eat_op("(") {
                let args = self.args()?;
                e = Expr::Call(Box::new(e), args);
            } else if self.eat_op("|") {
                let Some(Tok::Name(mut name)) = self.next() else {
                    return Err(());
                };
                // `ansible.builtin.default` and friends.
                while self.eat_op(".") {
                    let Some(Tok::Name(part)) = self.next() else {
                        return Err(());
                    };
                    name = part;
                }
                let args = if self.eat_op("(") {
                    self.args()?
                } else {
                    Vec::new()
                };
                e = Expr::Filter(Box::new(e), name, args);
            } else {
                return Ok(e);
            }
        }
    }

    fn primary(&mut self) -> PResult<Expr> {
        match self.next().ok_or(())? {
            Tok::Int(n) => Ok(Expr::Lit(Value::Int(n))),
            Tok::Float(f) => Ok(Expr::Lit(Value::Float(f))),
            Tok::Str(s) => {
                let mut s = s;
                // Adjacent string literals concatenate.
                while let Some(Tok::Str(more)) = self.peek() {
                    s.push_str(more);
                    self.at += 1;
                }
                Ok(Expr::Lit(Value::Str(s)))
            }
            Tok::Name(n) => Ok(match n.as_str() {
                "true" | "True" => Expr::Lit(Value::Bool(true)),
                "false" | "False" => Expr::Lit(Value::Bool(false)),
                "none" | "None" => Expr::Lit(Value::None),
                _ => Expr::Var(n),
            }),
            Tok::Op("(") => {
                let e = self.expr()?;
                if self.eat_op(",") {
                    // A tuple: read as a list.
                    let mut items = vec![e];
                    while !self.eat_op(")") {
                        items.push(self.expr()?);
                        if !self.eat_op(",") {
                            self.expect_op(")")?;
                            break;
                        }
                    }
                    return Ok(Expr::List(items));
                }
                self.expect_op(")")?;
                Ok(e)
            }
            Tok::Op("[") => {
                let mut items = Vec::new();
                while !self.eat_op("]") {
                    items.push(self.expr()?);
                    if !self.eat_op(",") {
                        self.expect_op("]")?;
                        break;
                    }
                }
                Ok(Expr::List(items))
            }
            Tok::Op("{") => {
                let mut entries = Vec::new();
                while !self.eat_op("}") {
                    let k = self.expr()?;
                    self.expect_op(":")?;
                    let v = self.expr()?;
                    entries.push((k, v));
                    if !self.eat_op(",") {
                        self.expect_op("}")?;
                        break;
                    }
                }
                Ok(Expr::Dict(entries))
            }
            _ => Err(()),
        }
    }
}

fn parse_expr(text: &str) -> Result<Expr, Unknown> {
    let toks = lex(text)?;
    let mut p = Parser {
        toks,
        at: 0,
        depth: 0,
    };
    match p.expr() {
        Ok(e) if p.at == p.toks.len() => Ok(e),
        _ => Err(Unknown::new(text.trim())),
    }
}

// ---------------------------------------------------------------- evaluation

/// The value of the Jinja expression `text` (the inside of `{{ }}`).
pub fn eval(text: &str, vars: &dyn Vars, depth: usize) -> Eval {
    if depth > MAX_DEPTH {
        return Err(Unknown::new(text.trim()));
    }
    let expr = parse_expr(text)?;
    let whole = || Unknown::new(text.trim());
    Evaluator { vars, depth }
        .eval(&expr)
        .map_err(|e| if e.undefined { e } else { whole() })
}

struct Evaluator<'a> {
    vars: &'a dyn Vars,
    depth: usize,
}

fn unknown(what: &str) -> Unknown {
    Unknown::new(what)
}

impl Evaluator<'_> {
    fn eval(&self, e: &Expr) -> Eval {
        match e {
            Expr::Lit(v) => Ok(v.clone()),
            Expr::Var(name) => match self.vars.get(name, self.depth + 1) {
                Some(v) => v,
                None => Err(Unknown::undefined(name)),
            },
            Expr::List(items) => items
                .iter()
                .map(|i| self.eval(i))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::List),
            Expr::Dict(entries) => {
                let mut out = Vec::new();
                for (k, v) in entries {
                    out.push((self.eval(k)?.to_text(), self.eval(v)?));
                }
                Ok(Value::Map(out))
            }
            Expr::Attr(base, name) => {
                let b = self.eval(base)?;
                match b.get(name) {
                    Some(v) => Ok(v.clone()),
                    None => Err(Unknown::undefined(name)),
                }
            }
            Expr::Item(base, index) => {
                let b = self.eval(base)?;
                let i = self.eval(index)?;
                match (&b, &i) {
                    (Value::List(items), Value::Int(n)) => {
                        let at = if *n < 0 { items.len() as i64 + n } else { *n };
                        usize::try_from(at)
                            .ok()
                            .and_then(|at| items.get(at))
                            .cloned()
                            .ok_or_else(|| unknown("index"))
                    }
                    (Value::Map(_), key) => b
                        .get(&key.to_text())
                        .cloned()
                        .ok_or_else(|| Unknown::undefined(&key.to_text())),
                    _ => Err(unknown("index")),
                }
            }
            Expr::Call(func, args) => self.call(func, args),
            Expr::Filter(base, name, args) => self.filter(base, name, args),
            Expr::Test(base, test, negate) => {
                let v = self.eval(base);
                let result = match test.as_str() {
                    "defined" => match &v {
                        Err(u) if u.undefined => false,
                        Err(u) => return Err(u.clone()),
                        Ok(_) => true,
                    },
                    "undefined" => match &v {
                        Err(u) if u.undefined => true,
                        Err(u) => return Err(u.clone()),
                        Ok(_) => false,
                    },
                    "none" => matches!(v?, Value::None),
                    "string" => matches!(v?, Value::Str(_)),
                    "number" => matches!(v?, Value::Int(_) | Value::Float(_)),
                    "true" => v? == Value::Bool(true),
                    "false" => v? == Value::Bool(false),
                    _ => return Err(unknown(test)),
                };
                Ok(Value::Bool(result != *negate))
            }
            Expr::Not(inner) => Ok(Value::Bool(!self.eval(inner)?.truthy())),
            Expr::Neg(inner) => match self.eval(inner)? {
                Value::Int(n) => n.checked_neg().map(Value::Int).ok_or_else(|| unknown("-")),
                Value::Float(f) => Ok(Value::Float(-f)),
                _ => Err(unknown("-")),
            },
            Expr::Cond(cond, body, other) => {
                if self.eval(cond)?.truthy() {
                    self.eval(body)
                } else {
                    match other {
                        Some(o) => self.eval(o),
                        None => Ok(Value::Str(String::new())),
                    }
                }
            }
            Expr::Binary(op, a, b) => self.binary(op, a, b),
        }
    }

    fn binary(&self, op: &str, a: &Expr, b: &Expr) -> Eval {
        match op {
            "and" => {
                let l = self.eval(a)?;
                return if l.truthy() { self.eval(b) } else { Ok(l) };
            }
            "or" => {
                let l = self.eval(a)?;
                return if l.truthy() { Ok(l) } else { self.eval(b) };
            }
            _ => {}
        }
        let l = self.eval(a)?;
        let r = self.eval(b)?;
        let num = |v: &Value| match v {
            Value::Int(n) => Some(*n as f64),
            Value::Float(f) => Some(*f),
            Value::Bool(b) => Some(f64::from(u8::from(*b))),
            _ => None,
        };
        match op {
            "~" => Ok(Value::Str(l.to_text() + &r.to_text())),
            "==" => Ok(Value::Bool(equal(&l, &r))),
            "!=" => Ok(Value::Bool(!equal(&l, &r))),
            "<" | ">" | "<=" | ">=" => {
                let ord = match (&l, &r) {
                    (Value::Str(x), Value::Str(y)) => x.partial_cmp(y),
                    _ => num(&l).zip(num(&r)).and_then(|(x, y)| x.partial_cmp(&y)),
                };
                let ord = ord.ok_or_else(|| unknown(op))?;
                Ok(Value::Bool(match op {
                    "<" => ord.is_lt(),
                    ">" => ord.is_gt(),
                    "<=" => ord.is_le(),
                    _ => ord.is_ge(),
                }))
            }
            "in" | "not in" => {
                let found = match &r {
                    Value::List(items) => items.iter().any(|i| equal(i, &l)),
                    Value::Str(s) => s.contains(&l.to_text()),
                    Value::Map(_) => r.get(&l.to_text()).is_some(),
                    _ => return Err(unknown(op)),
                };
                Ok(Value::Bool(found == (op == "in")))
            }
            "+" => match (&l, &r) {
                (Value::Int(x), Value::Int(y)) => {
                    x.checked_add(*y).map(Value::Int).ok_or_else(|| unknown(op))
                }
                (Value::Str(x), Value::Str(y)) => Ok(Value::Str(format!("{x}{y}"))),
                (Value::List(x), Value::List(y)) => {
                    Ok(Value::List([x.clone(), y.clone()].concat()))
                }
                _ => num(&l)
                    .zip(num(&r))
                    .map(|(x, y)| Value::Float(x + y))
                    .ok_or_else(|| unknown(op)),
            },
            "-" | "*" | "//" | "%" | "/" => match (&l, &r) {
                (Value::Int(x), Value::Int(y)) if op != "/" => {
                    let v = match op {
                        "-" => x.checked_sub(*y),
                        "*" => x.checked_mul(*y),
                        "//" => (*y != 0).then(|| x.div_euclid(*y)),
                        _ => (*y != 0).then(|| x.rem_euclid(*y)),
                    };
                    v.map(Value::Int).ok_or_else(|| unknown(op))
                }
                _ => {
                    let (x, y) = num(&l).zip(num(&r)).ok_or_else(|| unknown(op))?;
                    match op {
                        "-" => Ok(Value::Float(x - y)),
                        "*" => Ok(Value::Float(x * y)),
                        "/" if y != 0.0 => Ok(Value::Float(x / y)),
                        _ => Err(unknown(op)),
                    }
                }
            },
            _ => Err(unknown(op)),
        }
    }

    fn call(&self, func: &Expr, args: &[Expr]) -> Eval {
        // Methods Ansible's Jinja offers on values.
        if let Expr::Attr(base, method) = func {
            let b = self.eval(base)?;
            let args: Vec<Value> = args
                .iter()
                .map(|a| self.eval(a))
                .collect::<Result<_, _>>()?;
            return match (method.as_str(), &b, args.as_slice()) {
                ("items", Value::Map(entries), []) => Ok(Value::List(
                    entries
                        .iter()
                        .map(|(k, v)| Value::List(vec![Value::Str(k.clone()), v.clone()]))
                        .collect(),
                )),
                ("keys", Value::Map(entries), []) => Ok(Value::List(
                    entries.iter().map(|(k, _)| Value::Str(k.clone())).collect(),
                )),
                ("values", Value::Map(entries), []) => Ok(Value::List(
                    entries.iter().map(|(_, v)| v.clone()).collect(),
                )),
                ("get", Value::Map(_), [key, rest @ ..]) => Ok(b
                    .get(&key.to_text())
                    .cloned()
                    .unwrap_or_else(|| rest.first().cloned().unwrap_or(Value::None))),
                ("lower", Value::Str(s), []) => Ok(Value::Str(s.to_lowercase())),
                ("upper", Value::Str(s), []) => Ok(Value::Str(s.to_uppercase())),
                ("strip", Value::Str(s), []) => Ok(Value::Str(s.trim().to_owned())),
                ("split", Value::Str(s), [sep]) => Ok(Value::List(
                    s.split(sep.to_text().as_str())
                        .map(|p| Value::Str(p.to_owned()))
                        .collect(),
                )),
                _ => Err(unknown(method)),
            };
        }
        let Expr::Var(name) = func else {
            return Err(unknown("call"));
        };
        let args: Vec<Value> = args
            .iter()
            .map(|a| self.eval(a))
            .collect::<Result<_, _>>()?;
        match (name.as_str(), args.as_slice()) {
            ("range", bounds) => {
                let ints: Option<Vec<i64>> = bounds
                    .iter()
                    .map(|b| match b {
                        Value::Int(n) => Some(*n),
                        _ => None,
                    })
                    .collect();
                let (lo, hi, step) = match ints.as_deref() {
                    Some([hi]) => (0, *hi, 1),
                    Some([lo, hi]) => (*lo, *hi, 1),
                    Some([lo, hi, step]) if *step != 0 => (*lo, *hi, *step),
                    _ => return Err(unknown("range")),
                };
                let count = if step > 0 {
                    hi.saturating_sub(lo).max(0) / step
                } else {
                    lo.saturating_sub(hi).max(0) / -step
                };
                if count > MAX_ITEMS as i64 {
                    return Err(unknown("range"));
                }
                let mut out = Vec::new();
                let mut n = lo;
                while (step > 0 && n < hi) || (step < 0 && n > hi) {
                    out.push(Value::Int(n));
                    n += step;
                }
                Ok(Value::List(out))
            }
            _ => Err(unknown(name)),
        }
    }

    fn filter(&self, base: &Expr, name: &str, args: &[Expr]) -> Eval {
        if matches!(name, "default" | "d") {
            let fallback = || match args.first() {
                Some(a) => self.eval(a),
                None => Ok(Value::Str(String::new())),
            };
            let boolean = match args.get(1) {
                Some(b) => self.eval(b)?.truthy(),
                None => false,
            };
            return match self.eval(base) {
                Err(u) if u.undefined => fallback(),
                Ok(v) if boolean && !v.truthy() => fallback(),
                other => other,
            };
        }
        let v = self.eval(base)?;
        let args: Vec<Value> = args
            .iter()
            .map(|a| self.eval(a))
            .collect::<Result<_, _>>()?;
        match (name, &v, args.as_slice()) {
            ("int", _, rest) => Ok(Value::Int(to_int(&v).unwrap_or(match rest.first() {
                Some(Value::Int(d)) => *d,
                _ => 0,
            }))),
            ("string", _, []) => Ok(Value::Str(v.to_text())),
            ("lower", _, []) => Ok(Value::Str(v.to_text().to_lowercase())),
            ("upper", _, []) => Ok(Value::Str(v.to_text().to_uppercase())),
            ("trim", _, []) => Ok(Value::Str(v.to_text().trim().to_owned())),
            ("bool", _, []) => Ok(Value::Bool(ansible_bool(&v))),
            ("join", Value::List(items), sep) => {
                let sep = sep.first().map(Value::to_text).unwrap_or_default();
                let parts: Vec<String> = items.iter().map(Value::to_text).collect();
                Ok(Value::Str(parts.join(&sep)))
            }
            ("list", Value::List(_), []) => Ok(v),
            ("list", Value::Str(s), []) => Ok(Value::List(
                s.chars().map(|c| Value::Str(c.to_string())).collect(),
            )),
            ("list", Value::Map(entries), []) => Ok(Value::List(
                entries.iter().map(|(k, _)| Value::Str(k.clone())).collect(),
            )),
            ("first", Value::List(items), []) => {
                items.first().cloned().ok_or_else(|| unknown(name))
            }
            ("last", Value::List(items), []) => items.last().cloned().ok_or_else(|| unknown(name)),
            ("length" | "count", Value::List(items), []) => Ok(Value::Int(items.len() as i64)),
            ("length" | "count", Value::Str(s), []) => Ok(Value::Int(s.chars().count() as i64)),
            ("replace", _, [old, new]) => Ok(Value::Str(
                v.to_text().replace(&old.to_text(), &new.to_text()),
            )),
            ("dictsort", Value::Map(entries), []) => {
                let mut sorted = entries.clone();
                sorted.sort_by_key(|a| a.0.to_lowercase());
                Ok(Value::List(
                    sorted
                        .into_iter()
                        .map(|(k, v)| Value::List(vec![Value::Str(k), v]))
                        .collect(),
                ))
            }
            ("dict2items", Value::Map(entries), []) => Ok(Value::List(
                entries
                    .iter()
                    .map(|(k, v)| {
                        Value::Map(vec![
                            ("key".into(), Value::Str(k.clone())),
                            ("value".into(), v.clone()),
                        ])
                    })
                    .collect(),
            )),
            ("unique", Value::List(items), []) => {
                let mut out: Vec<Value> = Vec::new();
                for i in items {
                    if !out.iter().any(|o| equal(o, i)) {
                        out.push(i.clone());
                    }
                }
                Ok(Value::List(out))
            }
            ("sort", Value::List(items), []) => {
                let mut out = items.clone();
                out.sort_by(|a, b| match (a, b) {
                    (Value::Int(x), Value::Int(y)) => x.cmp(y),
                    _ => a.to_text().cmp(&b.to_text()),
                });
                Ok(Value::List(out))
            }
            _ => Err(unknown(name)),
        }
    }
}

fn equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Int(x), Value::Float(y)) | (Value::Float(y), Value::Int(x)) => (*x as f64) == *y,
        (Value::Bool(x), Value::Int(y)) | (Value::Int(y), Value::Bool(x)) => i64::from(*x) == *y,
        _ => a == b,
    }
}

/// Jinja's `int` filter: `int(value)`, else `int(float(value))`, else `None`.
fn to_int(v: &Value) -> Option<i64> {
    match v {
        Value::Int(n) => Some(*n),
        Value::Bool(b) => Some(i64::from(*b)),
        Value::Float(f) if f.is_finite() && f.abs() < 9.2e18 => Some(f.trunc() as i64),
        Value::Str(s) => {
            let t = s.trim();
            let t = t.replace('_', "");
            t.parse::<i64>().ok().or_else(|| {
                t.parse::<f64>()
                    .ok()
                    .filter(|f| f.is_finite() && f.abs() < 9.2e18)
                    .map(|f| f.trunc() as i64)
            })
        }
        _ => None,
    }
}

/// Ansible's `bool` filter.
pub fn ansible_bool(v: &Value) -> bool {
    match v {
        Value::Bool(b) => *b,
        Value::Int(n) => *n == 1,
        Value::Str(s) => matches!(
            s.trim().to_lowercase().as_str(),
            "yes" | "on" | "1" | "true" | "y" | "t"
        ),
        _ => false,
    }
}

// ---------------------------------------------------------------- strings with templates

/// A piece of a template string: text, or an expression or statement tag.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Segment {
    Text {
        start: usize,
        end: usize,
    },
    /// `{{ … }}`: the whole tag and the expression's range inside.
    Expr {
        start: usize,
        end: usize,
        inner: (usize, usize),
        trim: (bool, bool),
    },
    /// `{% … %}`.
    Stmt {
        start: usize,
        end: usize,
        inner: (usize, usize),
        trim: (bool, bool),
        keep: bool,
    },
    /// `{# … #}`.
    Comment {
        start: usize,
        end: usize,
        trim: (bool, bool),
        keep: bool,
    },
}

/// Whether a string holds template syntax Ansible would evaluate.
pub fn is_template(s: &str) -> bool {
    s.contains("{{") || s.contains("{%") || s.contains("{#")
}

/// Split a template into text and tags; an unclosed tag is text to its end
/// (Jinja would refuse it: the caller treats that as unknown).
pub fn segments(text: &str) -> Result<Vec<Segment>, usize> {
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    let mut text_start = 0;
    while i + 1 < bytes.len() {
        let open = &bytes[i..i + 2];
        let close: &[u8] = match open {
            b"{{" => b"}}",
            b"{%" => b"%}",
            b"{#" => b"#}",
            _ => {
                i += 1;
                continue;
            }
        };
        if text_start < i {
            out.push(Segment::Text {
                start: text_start,
                end: i,
            });
        }
        let body_start = i + 2;
        let Some(rel) = find_close(&text[body_start..], close, open == b"{#") else {
            return Err(i);
        };
        let close_at = body_start + rel;
        let end = close_at + 2;
        let mut inner = (body_start, close_at);
        let mut trim = (false, false);
        let mut keep = false;
        if text[inner.0..].starts_with('-') {
            trim.0 = true;
            inner.0 += 1;
        } else if text[inner.0..].starts_with('+') {
            inner.0 += 1;
        }
        if inner.1 > inner.0 && text[..inner.1].ends_with('-') {
            trim.1 = true;
            inner.1 -= 1;
        } else if inner.1 > inner.0 && text[..inner.1].ends_with('+') {
            keep = true;
            inner.1 -= 1;
        }
        out.push(match open {
            b"{{" => Segment::Expr {
                start: i,
                end,
                inner,
                trim,
            },
            b"{%" => Segment::Stmt {
                start: i,
                end,
                inner,
                trim,
                keep,
            },
            _ => Segment::Comment {
                start: i,
                end,
                trim,
                keep,
            },
        });
        i = end;
        text_start = end;
    }
    if text_start < text.len() {
        out.push(Segment::Text {
            start: text_start,
            end: text.len(),
        });
    }
    Ok(out)
}

/// The offset of `close` in `body`, skipping quoted strings inside expressions.
fn find_close(body: &str, close: &[u8], comment: bool) -> Option<usize> {
    let b = body.as_bytes();
    let mut quote: Option<u8> = None;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        match quote {
            Some(q) if c == b'\\' => {
                let _ = q;
                i += 2;
                continue;
            }
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if !comment && (c == b'\'' || c == b'"') => quote = Some(c),
            None if b[i..].starts_with(close) => return Some(i),
            None => {}
        }
        i += 1;
    }
    None
}

/// A string as Ansible templates a module argument or a variable: one `{{ expr }}`
/// and nothing else keeps the expression's own type; anything else is a string.
pub fn render_str(s: &str, vars: &dyn Vars, depth: usize) -> Eval {
    if !is_template(s) {
        return Ok(Value::Str(s.to_owned()));
    }
    let whole = || Unknown::new(s.trim());
    let segs = segments(s).map_err(|_| whole())?;
    if let [Segment::Expr { inner, .. }] = segs.as_slice() {
        return eval(&s[inner.0..inner.1], vars, depth);
    }
    let mut out = String::new();
    for seg in &segs {
        match seg {
            Segment::Text { start, end } => out.push_str(&s[*start..*end]),
            Segment::Expr { inner, .. } => {
                out.push_str(&eval(&s[inner.0..inner.1], vars, depth)?.to_text())
            }
            Segment::Comment { .. } => {}
            Segment::Stmt { .. } => return Err(whole()),
        }
    }
    Ok(Value::Str(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Map(Vec<(&'static str, Value)>);

    impl Vars for Map {
        fn get(&self, name: &str, _: usize) -> Option<Eval> {
            self.0
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| Ok(v.clone()))
        }
    }

    fn vars() -> Map {
        Map(vec![
            ("ftp_pasv_min", Value::Int(50000)),
            ("ftp_pasv_max", Value::Str("50100".into())),
            (
                "ports",
                Value::List(vec![Value::Int(21), Value::Str("50000:50100".into())]),
            ),
            (
                "vsftpd",
                Value::Map(vec![("listen_port".into(), Value::Int(2121))]),
            ),
        ])
    }

    fn text(expr: &str) -> String {
        match eval(expr, &vars(), 0) {
            Ok(v) => v.to_text(),
            Err(u) => format!("unknown: {}", u.what),
        }
    }

    #[test]
    fn expressions() {
        assert_eq!(text("ftp_pasv_min"), "50000");
        assert_eq!(text("ftp_pasv_min ~ ':' ~ ftp_pasv_max"), "50000:50100");
        assert_eq!(text("ftp_pasv_max | int + 1"), "50101");
        assert_eq!(text("vsftpd.listen_port"), "2121");
        assert_eq!(text("vsftpd['listen_port']"), "2121");
        assert_eq!(text("ports[1]"), "50000:50100");
        assert_eq!(text("ports | join(',')"), "21,50000:50100");
        assert_eq!(text("nope | default(21)"), "21");
        assert_eq!(text("nope | d('x', true)"), "x");
        assert_eq!(text("ftp_pasv_min | default(1)"), "50000");
        assert_eq!(text("'a' if ftp_pasv_min > 100 else 'b'"), "a");
        assert_eq!(text("range(1, 4) | list"), "[1, 2, 3]");
        assert_eq!(text("nope is defined"), "False");
        assert_eq!(text("nope"), "unknown: nope");
        assert_eq!(text("lookup('env', 'X')"), "unknown: lookup('env', 'X')");
        assert_eq!(
            text("ansible_default_ipv4.address"),
            "unknown: ansible_default_ipv4"
        );
        assert_eq!(text("'x' | frobnicate"), "unknown: 'x' | frobnicate");
        assert_eq!(text("vsftpd.items() | list"), "[['listen_port', 2121]]");
    }

    #[test]
    fn strings_with_templates() {
        let v = vars();
        assert_eq!(
            render_str("{{ ftp_pasv_min }}", &v, 0),
            Ok(Value::Int(50000))
        );
        assert_eq!(
            render_str("{{ ftp_pasv_min }}:{{ ftp_pasv_max }}", &v, 0),
            Ok(Value::Str("50000:50100".into()))
        );
        assert!(render_str("{% if x %}a{% endif %}", &v, 0).is_err());
        assert!(render_str("{{ unclosed", &v, 0).is_err());
        assert_eq!(render_str("plain", &v, 0), Ok(Value::Str("plain".into())));
    }

    #[test]
    fn hostile_expressions_do_not_panic() {
        for e in [
            "((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((",
            "not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not not x",
            "'unterminated",
            "9999999999999999999999999",
            "range(0, 99999999999)",
            "-9223372036854775807 - 10",
            "a[",
            "{'a': }",
            "é ~ ü",
        ] {
            let _ = eval(e, &vars(), 0);
        }
        let _ = segments("{{ '}}' }} {% x %} {# #} {{");
    }
}
