//! The statements of a Puppet manifest (Puppet 7's grammar, as far as manifests
//! that manage firewalls and FTP servers go): resource declarations (virtual and
//! exported too), resource defaults, overrides and collectors, class, define,
//! node and function definitions, `include`-like statement calls, variable
//! assignments, `if`/`unless`/`case`, relationship arrows, and the expressions
//! in them. What is evaluated later (strings, numbers, arrays, hashes,
//! variables, function calls) keeps its shape; operators, selectors and
//! lambdas are parsed and kept only as [`Expr::Other`].
//!
//! The first error stops the parse, as it stops `puppet parser validate`.

use super::lex::{Part, Tok, Token};
use crate::source::Span;

#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    Str(Vec<Part>, Span),
    Num(String, Span),
    /// A bare word (`tcp`, `accept`, `true`, `undef`, `default`).
    Name(String, Span),
    Type(String, Span),
    Var(String, Span),
    Array(Vec<Expr>, Span),
    Hash(Vec<(Expr, Expr)>, Span),
    /// `template('ftp/vsftpd.conf.erb')`, `lookup('ftp::port')`.
    Call(String, Vec<Expr>, Span),
    Regex(String, Span),
    /// An operator, access, selector or lambda: not evaluated.
    Other(Span),
}

impl Expr {
    pub fn span(&self) -> Span {
        match self {
            Expr::Str(_, s)
            | Expr::Num(_, s)
            | Expr::Name(_, s)
            | Expr::Type(_, s)
            | Expr::Var(_, s)
            | Expr::Array(_, s)
            | Expr::Hash(_, s)
            | Expr::Call(_, _, s)
            | Expr::Regex(_, s)
            | Expr::Other(s) => *s,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Attr {
    pub name: String,
    pub name_span: Span,
    pub value: Expr,
    /// `name => value`.
    pub span: Span,
}

/// One `title: attributes` of a resource declaration.
#[derive(Clone, Debug, PartialEq)]
pub struct Body {
    pub title: Expr,
    pub attrs: Vec<Attr>,
    pub span: Span,
}

impl Body {
    pub fn attr(&self, name: &str) -> Option<&Attr> {
        self.attrs.iter().rev().find(|a| a.name == name)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Param {
    pub name: String,
    pub default: Option<Expr>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Stmt {
    /// `type { title: attrs; … }`; `virtual` for `@type` and `@@type`, which
    /// declare nothing until collected.
    Resource {
        ty: String,
        ty_span: Span,
        bodies: Vec<Body>,
        span: Span,
        virtual_: bool,
    },
    Assign {
        name: String,
        value: Expr,
        span: Span,
    },
    Class {
        name: String,
        params: Vec<Param>,
        body: Vec<Stmt>,
        span: Span,
    },
    Define {
        name: String,
        params: Vec<Param>,
        body: Vec<Stmt>,
        span: Span,
    },
    Node {
        body: Vec<Stmt>,
        span: Span,
    },
    /// `include a, b`, `contain a`, `require a` (also with parentheses).
    Include {
        names: Vec<Expr>,
        span: Span,
    },
    /// `if`/`unless`/`case`: each branch may run.
    Cond {
        branches: Vec<Vec<Stmt>>,
        span: Span,
    },
    /// Anything else: an expression, defaults, an override, a collector.
    Other(Span),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyntaxError {
    pub span: Span,
    pub message: String,
}

/// How deep blocks and expressions nest before pasvlint stops reading.
pub const MAX_DEPTH: usize = 64;

pub fn parse(tokens: &[Token], end: Span) -> Result<Vec<Stmt>, SyntaxError> {
    let mut p = Parser {
        t: tokens,
        i: 0,
        depth: 0,
        end,
    };
    let stmts = p.statements(false)?;
    Ok(stmts)
}

struct Parser<'a> {
    t: &'a [Token],
    i: usize,
    depth: usize,
    end: Span,
}

const STATEMENT_CALLS: &[&str] = &[
    "include",
    "contain",
    "require",
    "realize",
    "tag",
    "notice",
    "warning",
    "info",
    "debug",
    "err",
    "alert",
    "crit",
    "emerg",
    "fail",
    "hiera_include",
    "break",
    "next",
    "return",
];

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<&'a Tok> {
        self.t.get(self.i).map(|t| &t.tok)
    }

    fn peek_at(&self, n: usize) -> Option<&'a Tok> {
        self.t.get(self.i + n).map(|t| &t.tok)
    }

    fn span_here(&self) -> Span {
        self.t.get(self.i).map_or(self.end, |t| t.span)
    }

    fn prev_span(&self) -> Span {
        self.i
            .checked_sub(1)
            .and_then(|i| self.t.get(i))
            .map_or(self.end, |t| t.span)
    }

    fn is_op(&self, op: &str) -> bool {
        matches!(self.peek(), Some(Tok::Op(o)) if *o == op)
    }

    fn is_name(&self, name: &str) -> bool {
        matches!(self.peek(), Some(Tok::Name(n)) if n == name)
    }

    fn error<T>(&self) -> Result<T, SyntaxError> {
        match self.t.get(self.i) {
            None => Err(SyntaxError {
                span: self.end,
                message: "Syntax error at end of input".into(),
            }),
            Some(t) => Err(SyntaxError {
                span: t.span,
                message: format!("Syntax error at '{}'", token_text(&t.tok)),
            }),
        }
    }

    fn expect(&mut self, op: &str) -> Result<Span, SyntaxError> {
        if self.is_op(op) {
            self.i += 1;
            Ok(self.prev_span())
        } else {
            self.error()
        }
    }

    fn enter(&mut self) -> Result<(), SyntaxError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(SyntaxError {
                span: self.span_here(),
                message: format!("nested deeper than the {MAX_DEPTH} levels pasvlint reads"),
            });
        }
        Ok(())
    }

    /// Statements up to the end of input, or up to a `}` when `in_block`.
    fn statements(&mut self, in_block: bool) -> Result<Vec<Stmt>, SyntaxError> {
        self.enter()?;
        let mut out = Vec::new();
        loop {
            while self.is_op(";") {
                self.i += 1;
            }
            match self.peek() {
                None if !in_block => break,
                None => return self.error(),
                Some(Tok::Op("}")) if in_block => break,
                _ => {}
            }
            let s = self.statement()?;
            out.push(s);
            while matches!(self.peek(), Some(Tok::Op("->" | "~>" | "<-" | "<~"))) {
                self.i += 1;
                let s = self.statement()?;
                out.push(s);
            }
        }
        self.depth -= 1;
        Ok(out)
    }

    fn block(&mut self) -> Result<Vec<Stmt>, SyntaxError> {
        self.expect("{")?;
        let body = self.statements(true)?;
        self.expect("}")?;
        Ok(body)
    }

    fn statement(&mut self) -> Result<Stmt, SyntaxError> {
        let start = self.span_here();
        match (self.peek(), self.peek_at(1)) {
            (Some(Tok::Name(n)), Some(Tok::Name(_))) if n == "class" => self.class(),
            (Some(Tok::Name(n)), Some(Tok::Name(_))) if n == "define" => self.define(),
            (Some(Tok::Name(n)), Some(Tok::Name(_))) if n == "function" => {
                self.i += 2;
                if self.is_op("(") {
                    self.params()?;
                }
                if self.is_op(">>") {
                    self.i += 1;
                    self.expr()?;
                }
                self.block()?;
                Ok(Stmt::Other(start.to(self.prev_span())))
            }
            (Some(Tok::Name(n)), Some(Tok::Type(_))) if n == "type" => {
                self.i += 2;
                self.expect("=")?;
                self.expr()?;
                Ok(Stmt::Other(start.to(self.prev_span())))
            }
            (Some(Tok::Name(n)), _) if n == "node" => self.node(),
            (Some(Tok::Name(n)), _) if n == "if" || n == "unless" => self.if_(),
            (Some(Tok::Name(n)), _) if n == "case" => self.case(),
            (Some(Tok::Name(n)), Some(t))
                if STATEMENT_CALLS.contains(&n.as_str()) && !matches!(t, Tok::Op("(" | "{")) =>
            {
                let name = n.clone();
                self.i += 1;
                let mut args = Vec::new();
                if self.starts_expr() {
                    args.push(self.expr()?);
                    while self.is_op(",") {
                        self.i += 1;
                        args.push(self.expr()?);
                    }
                }
                let span = start.to(self.prev_span());
                Ok(include_or_other(&name, args, span))
            }
            (Some(Tok::Name(n)), Some(Tok::Op("("))) if STATEMENT_CALLS.contains(&n.as_str()) => {
                let name = n.clone();
                let e = self.expr()?;
                let span = start.to(self.prev_span());
                match e {
                    Expr::Call(_, args, _) => Ok(include_or_other(&name, args, span)),
                    _ => Ok(Stmt::Other(span)),
                }
            }
            (Some(Tok::Name(n)), Some(Tok::Op("{"))) => {
                let ty = n.clone();
                self.i += 1;
                self.resource(ty, start, false)
            }
            (Some(Tok::Op("@" | "@@")), Some(Tok::Name(n))) => {
                let ty = n.clone();
                self.i += 2;
                self.resource(ty, start, true)
            }
            (Some(Tok::Type(_)), Some(Tok::Op("{"))) => {
                self.i += 1;
                self.expect("{")?;
                self.attrs()?;
                self.expect("}")?;
                Ok(Stmt::Other(start.to(self.prev_span())))
            }
            (Some(Tok::Type(_)), Some(Tok::Op("<|" | "<<|"))) => {
                self.i += 1;
                let close = if self.is_op("<|") { "|>" } else { "|>>" };
                self.i += 1;
                if !self.is_op(close) {
                    self.expr()?;
                }
                self.expect(close)?;
                if self.is_op("{") {
                    self.i += 1;
                    self.attrs()?;
                    self.expect("}")?;
                }
                Ok(Stmt::Other(start.to(self.prev_span())))
            }
            (Some(Tok::Var(name)), Some(Tok::Op("="))) => {
                let name = name.clone();
                self.i += 2;
                let value = self.expr()?;
                Ok(Stmt::Assign {
                    name,
                    value,
                    span: start.to(self.prev_span()),
                })
            }
            _ => {
                let e = self.expr()?;
                // `File['x'] { mode => … }`: an override.
                if matches!(e, Expr::Other(_)) && self.is_op("{") && self.override_follows() {
                    self.i += 1;
                    self.attrs()?;
                    self.expect("}")?;
                }
                Ok(Stmt::Other(start.to(self.prev_span())))
            }
        }
    }

    /// After a resource reference: `{ name =>` opens an override's attributes.
    fn override_follows(&self) -> bool {
        matches!(self.peek_at(1), Some(Tok::Name(_)) | Some(Tok::Op("*")))
            && matches!(self.peek_at(2), Some(Tok::Op("=>" | "+>")))
            || matches!(self.peek_at(1), Some(Tok::Op("}")))
    }

    fn class(&mut self) -> Result<Stmt, SyntaxError> {
        let start = self.span_here();
        self.i += 1;
        let Some(Tok::Name(name)) = self.peek() else {
            return self.error();
        };
        let name = name.trim_start_matches("::").to_owned();
        self.i += 1;
        let params = if self.is_op("(") {
            self.params()?
        } else {
            Vec::new()
        };
        if self.is_name("inherits") {
            self.i += 1;
            match self.peek() {
                Some(Tok::Name(_)) => self.i += 1,
                _ => return self.error(),
            }
        }
        let body = self.block()?;
        Ok(Stmt::Class {
            name,
            params,
            body,
            span: start.to(self.prev_span()),
        })
    }

    fn define(&mut self) -> Result<Stmt, SyntaxError> {
        let start = self.span_here();
        self.i += 1;
        let Some(Tok::Name(name)) = self.peek() else {
            return self.error();
        };
        let name = name.clone();
        self.i += 1;
        let params = if self.is_op("(") {
            self.params()?
        } else {
            Vec::new()
        };
        let body = self.block()?;
        Ok(Stmt::Define {
            name,
            params,
            body,
            span: start.to(self.prev_span()),
        })
    }

    /// `(Type $a = default, $b)`.
    fn params(&mut self) -> Result<Vec<Param>, SyntaxError> {
        self.expect("(")?;
        let mut out = Vec::new();
        while !self.is_op(")") {
            let start = self.span_here();
            // An optional type: `String`, `Optional[Integer[1]]`, `Stdlib::Port`.
            if matches!(self.peek(), Some(Tok::Type(_))) {
                self.postfix_type()?;
            }
            if self.is_op("*") {
                self.i += 1;
            }
            let Some(Tok::Var(name)) = self.peek() else {
                return self.error();
            };
            let name = name.clone();
            self.i += 1;
            let default = if self.is_op("=") {
                self.i += 1;
                Some(self.expr()?)
            } else {
                None
            };
            out.push(Param {
                name,
                default,
                span: start.to(self.prev_span()),
            });
            if !self.is_op(",") {
                break;
            }
            self.i += 1;
        }
        self.expect(")")?;
        Ok(out)
    }

    /// A type with its parameters: `Integer[1, 65535]`.
    fn postfix_type(&mut self) -> Result<(), SyntaxError> {
        self.i += 1;
        while self.is_op("[") {
            self.i += 1;
            self.args("]")?;
        }
        Ok(())
    }

    fn node(&mut self) -> Result<Stmt, SyntaxError> {
        let start = self.span_here();
        self.i += 1;
        loop {
            match self.peek() {
                Some(Tok::Str(_) | Tok::Name(_) | Tok::Regex(_) | Tok::Num(_)) => self.i += 1,
                _ => return self.error(),
            }
            // Dotted bare host names: `node web1.example.com`.
            while self.is_op(".") && matches!(self.peek_at(1), Some(Tok::Name(_) | Tok::Num(_))) {
                self.i += 2;
            }
            if !self.is_op(",") {
                break;
            }
            self.i += 1;
            if self.is_op("{") {
                break;
            }
        }
        if self.is_name("inherits") {
            self.i += 2;
        }
        let body = self.block()?;
        Ok(Stmt::Node {
            body,
            span: start.to(self.prev_span()),
        })
    }

    fn if_(&mut self) -> Result<Stmt, SyntaxError> {
        let start = self.span_here();
        let unless = self.is_name("unless");
        self.i += 1;
        self.expr()?;
        let mut branches = vec![self.block()?];
        loop {
            if !unless && self.is_name("elsif") {
                self.i += 1;
                self.expr()?;
                branches.push(self.block()?);
            } else if self.is_name("else") {
                self.i += 1;
                branches.push(self.block()?);
                break;
            } else {
                break;
            }
        }
        Ok(Stmt::Cond {
            branches,
            span: start.to(self.prev_span()),
        })
    }

    fn case(&mut self) -> Result<Stmt, SyntaxError> {
        let start = self.span_here();
        self.i += 1;
        self.expr()?;
        self.expect("{")?;
        let mut branches = Vec::new();
        while !self.is_op("}") {
            self.expr()?;
            while self.is_op(",") {
                self.i += 1;
                if self.is_op(":") {
                    break;
                }
                self.expr()?;
            }
            self.expect(":")?;
            branches.push(self.block()?);
        }
        self.expect("}")?;
        Ok(Stmt::Cond {
            branches,
            span: start.to(self.prev_span()),
        })
    }

    /// After `type`: `{ title: attrs; title: attrs }`.
    fn resource(&mut self, ty: String, start: Span, virtual_: bool) -> Result<Stmt, SyntaxError> {
        let ty_span = self.prev_span();
        self.expect("{")?;
        let mut bodies = Vec::new();
        loop {
            if self.is_op("}") {
                if bodies.is_empty() {
                    return self.error();
                }
                break;
            }
            let bstart = self.span_here();
            let title = self.expr()?;
            self.expect(":")?;
            let attrs = self.attrs()?;
            bodies.push(Body {
                title,
                attrs,
                span: bstart.to(self.prev_span()),
            });
            if self.is_op(";") {
                self.i += 1;
                continue;
            }
            break;
        }
        self.expect("}")?;
        Ok(Stmt::Resource {
            ty: ty.trim_start_matches("::").to_owned(),
            ty_span,
            bodies,
            span: start.to(self.prev_span()),
            virtual_,
        })
    }

    /// `name => value, …` (a trailing comma allowed), up to `;` or `}`.
    fn attrs(&mut self) -> Result<Vec<Attr>, SyntaxError> {
        let mut out = Vec::new();
        loop {
            let (name, name_span) = match self.peek() {
                Some(Tok::Name(n)) => (n.clone(), self.span_here()),
                Some(Tok::Op("*")) => ("*".to_owned(), self.span_here()),
                _ => break,
            };
            self.i += 1;
            if !matches!(self.peek(), Some(Tok::Op("=>" | "+>"))) {
                return self.error();
            }
            self.i += 1;
            let value = self.expr()?;
            out.push(Attr {
                name,
                name_span,
                span: name_span.to(value.span()),
                value,
            });
            if !self.is_op(",") {
                break;
            }
            self.i += 1;
        }
        Ok(out)
    }

    fn starts_expr(&self) -> bool {
        match self.peek() {
            None => false,
            Some(Tok::Op(o)) => matches!(*o, "[" | "(" | "-" | "!" | "{"),
            Some(Tok::Name(n)) => !matches!(n.as_str(), "else" | "elsif"),
            Some(_) => true,
        }
    }

    fn expr(&mut self) -> Result<Expr, SyntaxError> {
        self.enter()?;
        let e = self.binary(0)?;
        self.depth -= 1;
        Ok(e)
    }

    fn binary(&mut self, min: u8) -> Result<Expr, SyntaxError> {
        let mut left = self.unary()?;
        loop {
            let prec = match self.peek() {
                Some(Tok::Name(n)) if n == "or" => 1,
                Some(Tok::Name(n)) if n == "and" => 2,
                Some(Tok::Name(n)) if n == "in" => 4,
                Some(Tok::Op("==" | "!=" | "<" | ">" | "<=" | ">=" | "=~" | "!~")) => 3,
                Some(Tok::Op("<<" | ">>")) => 5,
                Some(Tok::Op("+" | "-")) => 6,
                Some(Tok::Op("*" | "/" | "%")) => 7,
                _ => break,
            };
            if prec <= min {
                break;
            }
            self.i += 1;
            let right = self.binary(prec)?;
            left = Expr::Other(left.span().to(right.span()));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Expr, SyntaxError> {
        if self.is_op("!") || self.is_op("-") || self.is_op("*") {
            let start = self.span_here();
            let minus = self.is_op("-");
            self.i += 1;
            let e = self.unary()?;
            if let (true, Expr::Num(n, s)) = (minus, &e) {
                return Ok(Expr::Num(format!("-{n}"), start.to(*s)));
            }
            return Ok(Expr::Other(start.to(e.span())));
        }
        let e = self.primary()?;
        self.postfix(e)
    }

    fn postfix(&mut self, mut e: Expr) -> Result<Expr, SyntaxError> {
        loop {
            if self.is_op("[") {
                self.i += 1;
                self.args("]")?;
                e = Expr::Other(e.span().to(self.prev_span()));
            } else if self.is_op(".") {
                self.i += 1;
                match self.peek() {
                    Some(Tok::Name(_)) => self.i += 1,
                    _ => return self.error(),
                }
                if self.is_op("(") {
                    self.i += 1;
                    self.args(")")?;
                }
                self.lambda()?;
                e = Expr::Other(e.span().to(self.prev_span()));
            } else if self.is_op("?") {
                self.i += 1;
                self.expect("{")?;
                while !self.is_op("}") {
                    self.expr()?;
                    self.expect("=>")?;
                    self.expr()?;
                    if !self.is_op(",") {
                        break;
                    }
                    self.i += 1;
                }
                self.expect("}")?;
                e = Expr::Other(e.span().to(self.prev_span()));
            } else {
                return Ok(e);
            }
        }
    }

    /// `|$x, $y| { … }` after a call.
    fn lambda(&mut self) -> Result<bool, SyntaxError> {
        if !self.is_op("|") {
            return Ok(false);
        }
        self.i += 1;
        while !self.is_op("|") {
            if matches!(self.peek(), Some(Tok::Type(_))) {
                self.postfix_type()?;
            }
            match self.peek() {
                Some(Tok::Var(_)) => self.i += 1,
                _ => return self.error(),
            }
            if self.is_op("=") {
                self.i += 1;
                self.expr()?;
            }
            if !self.is_op(",") {
                break;
            }
            self.i += 1;
        }
        self.expect("|")?;
        self.block()?;
        Ok(true)
    }

    /// Comma-separated expressions up to `close` (a trailing comma allowed).
    fn args(&mut self, close: &str) -> Result<Vec<Expr>, SyntaxError> {
        let mut out = Vec::new();
        while !self.is_op(close) {
            out.push(self.expr()?);
            if !self.is_op(",") {
                break;
            }
            self.i += 1;
        }
        self.expect(close)?;
        Ok(out)
    }

    fn primary(&mut self) -> Result<Expr, SyntaxError> {
        let start = self.span_here();
        let Some(tok) = self.peek() else {
            return self.error();
        };
        self.i += 1;
        Ok(match tok {
            Tok::Str(parts) => Expr::Str(parts.clone(), start),
            Tok::Num(n) => Expr::Num(n.clone(), start),
            Tok::Regex(r) => Expr::Regex(r.clone(), start),
            Tok::Var(v) => Expr::Var(v.clone(), start),
            Tok::Type(t) => Expr::Type(t.clone(), start),
            Tok::Name(n) => {
                if matches!(
                    n.as_str(),
                    "class"
                        | "define"
                        | "node"
                        | "if"
                        | "unless"
                        | "case"
                        | "else"
                        | "elsif"
                        | "inherits"
                        | "function"
                        | "and"
                        | "or"
                        | "in"
                ) {
                    self.i -= 1;
                    return self.error();
                }
                if self.is_op("(") {
                    self.i += 1;
                    let args = self.args(")")?;
                    let lambda = self.lambda()?;
                    let span = start.to(self.prev_span());
                    if lambda {
                        Expr::Other(span)
                    } else {
                        Expr::Call(n.trim_start_matches("::").to_owned(), args, span)
                    }
                } else {
                    Expr::Name(n.clone(), start)
                }
            }
            Tok::Op("[") => {
                let items = self.args("]")?;
                Expr::Array(items, start.to(self.prev_span()))
            }
            Tok::Op("(") => {
                let e = self.expr()?;
                self.expect(")")?;
                Expr::Other(e.span())
            }
            Tok::Op("{") => {
                let mut pairs = Vec::new();
                while !self.is_op("}") {
                    let k = self.expr()?;
                    self.expect("=>")?;
                    let v = self.expr()?;
                    pairs.push((k, v));
                    if !self.is_op(",") {
                        break;
                    }
                    self.i += 1;
                }
                self.expect("}")?;
                Expr::Hash(pairs, start.to(self.prev_span()))
            }
            Tok::Op("|") => {
                // A lambda standing alone is no value.
                self.i -= 1;
                return self.error();
            }
            Tok::Op(_) => {
                self.i -= 1;
                return self.error();
            }
        })
    }
}

fn include_or_other(name: &str, args: Vec<Expr>, span: Span) -> Stmt {
    if matches!(name, "include" | "contain" | "require") {
        Stmt::Include { names: args, span }
    } else {
        Stmt::Other(span)
    }
}

fn token_text(t: &Tok) -> String {
    match t {
        Tok::Name(n) | Tok::Type(n) | Tok::Num(n) => n.clone(),
        Tok::Var(v) => format!("${v}"),
        Tok::Str(_) => "string".into(),
        Tok::Regex(r) => format!("/{r}/"),
        Tok::Op(o) => (*o).to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FileId;

    fn parsed(src: &str) -> Result<Vec<Stmt>, SyntaxError> {
        let toks = super::super::lex::lex(FileId(0), src).map_err(|e| SyntaxError {
            span: e.span,
            message: e.message,
        })?;
        parse(&toks, Span::new(FileId(0), src.len(), src.len()))
    }

    #[test]
    fn reads_classes_resources_and_conditions() {
        let src = r#"
class ftp (
  Stdlib::Port $min = 40000,
  $max = 40100,
) inherits ftp::params {
  include stdlib
  $ports = ["${min}-${max}", 21]
  firewall { '100 allow ftp':
    dport  => [21, '40000-40100'],
    proto  => tcp,
    action => accept,
  }
  if $facts['os']['family'] == 'Debian' {
    file { '/etc/vsftpd.conf': content => template('ftp/vsftpd.conf.erb') }
  } elsif $x =~ /^a/ { } else { notice('x') }
  case $::osfamily { 'RedHat', 'Debian': { } default: { fail("no") } }
  Firewall { before => Class['ftp::post'] }
  File <| tag == 'ftp' |>
  $list.each |$p| { notice($p) }
  Package['vsftpd'] -> File['/etc/vsftpd.conf'] ~> Service['vsftpd']
  $sel = $x ? { 'a' => 1, default => 2 }
}
node 'ftp1.example.com', /^ftp\d+/, default { include ftp }
"#;
        let stmts = parsed(src).unwrap();
        assert_eq!(stmts.len(), 2);
        let Stmt::Class {
            name, params, body, ..
        } = &stmts[0]
        else {
            panic!()
        };
        assert_eq!(name, "ftp");
        assert_eq!(params.len(), 2);
        assert!(
            matches!(&body[2], Stmt::Resource { ty, bodies, .. } if ty == "firewall" && bodies[0].attrs.len() == 3)
        );
    }

    #[test]
    fn refuses_what_puppet_refuses() {
        for src in [
            "firewall { '100 x': dport => 21 ",
            "firewall { '100 x' dport => 21 }",
            "file { '/a': content => }",
            "class { }",
            "$x = ",
            "firewall { '100 x': dport = 21 }",
        ] {
            assert!(parsed(src).is_err(), "{src}");
        }
    }

    #[test]
    fn deep_nesting_stops() {
        let src = "$x = ".to_owned() + &"[".repeat(1000);
        assert!(parsed(&src).is_err());
    }
}
