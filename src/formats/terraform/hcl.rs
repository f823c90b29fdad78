//! The HCL native syntax of a `.tf` file as a small tree with spans, built from
//! `hcl-edit`'s parse (the hcl-rs project's parser that keeps byte spans for every
//! block, attribute, expression and template literal).

use crate::source::{SourceFile, Span};
use hcl_edit::Span as _;
pub use hcl_edit::expr::{BinaryOperator, UnaryOperator};
use hcl_edit::expr::{Expression, ObjectKey, TraversalOperator};
use hcl_edit::structure::{Body as HclBody, Structure};
use hcl_edit::template::{Element, Template};

/// A block: `resource "aws_security_group" "ftp" { … }`.
#[derive(Clone, Debug)]
pub struct Block {
    pub kind: String,
    pub labels: Vec<String>,
    /// The whole block.
    pub span: Span,
    /// The block's first line up to its `{` (`resource "aws_security_group" "ftp"`).
    pub head: Span,
    pub body: Body,
}

#[derive(Clone, Debug, Default)]
pub struct Body {
    pub attrs: Vec<Attr>,
    pub blocks: Vec<Block>,
}

impl Body {
    pub fn attr(&self, name: &str) -> Option<&Attr> {
        self.attrs.iter().find(|a| a.name == name)
    }

    pub fn blocks<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = &'a Block> + 'a {
        self.blocks.iter().filter(move |b| b.kind == kind)
    }
}

/// `name = value`.
#[derive(Clone, Debug)]
pub struct Attr {
    pub name: String,
    /// The whole attribute, key to value.
    pub span: Span,
    pub value: Expr,
}

#[derive(Clone, Debug)]
pub struct Expr {
    pub span: Span,
    pub kind: ExprKind,
}

#[derive(Clone, Debug)]
pub enum ExprKind {
    Null,
    Bool(bool),
    Number(f64),
    /// A quoted string or heredoc: literal parts and interpolations.
    Template(Vec<Part>),
    Array(Vec<Expr>),
    Object(Vec<(String, Expr)>),
    /// `var.x`, `local.y`, `aws_security_group.ftp.id`, `path.module`; an index
    /// is written `[0]`, a splat `*`.
    Ref(Vec<String>),
    Call(String, Vec<Expr>),
    /// `-x`, `!x`.
    Unary(UnaryOperator, Box<Expr>),
    /// `a + b`, `a * b`, `a == b`, `a && b`, … (the parser applies HCL's precedence).
    Binary(BinaryOperator, Box<Expr>, Box<Expr>),
    /// Conditionals, `for` expressions: not evaluated.
    Other(&'static str),
}

/// One part of a template.
#[derive(Clone, Debug)]
pub enum Part {
    /// Literal text (escapes and a heredoc's indentation already applied) and
    /// the source it was written as.
    Lit {
        text: String,
        span: Span,
    },
    Interp(Expr),
    /// `%{ if }` / `%{ for }`: not evaluated.
    Directive(Span),
}

pub fn span_of(source: &SourceFile, range: Option<std::ops::Range<usize>>, or: Span) -> Span {
    match range {
        Some(r) if r.end <= source.text.len() => source.span(r.start, r.end),
        _ => or,
    }
}

pub struct Lower<'a> {
    pub source: &'a SourceFile,
}

impl Lower<'_> {
    fn span(&self, range: Option<std::ops::Range<usize>>, or: Span) -> Span {
        span_of(self.source, range, or)
    }

    pub fn body(&self, body: &HclBody, around: Span) -> Body {
        let mut out = Body::default();
        for s in body.iter() {
            match s {
                Structure::Attribute(a) => {
                    let span = self.span(a.span(), around);
                    out.attrs.push(Attr {
                        name: a.key.as_str().to_owned(),
                        span,
                        value: self.expr(&a.value, span),
                    });
                }
                Structure::Block(b) => {
                    let span = self.span(b.span(), around);
                    let head_end = self
                        .source
                        .text
                        .get(span.range())
                        .and_then(|t| t.find('{'))
                        .map_or(span.end as usize, |i| span.start as usize + i);
                    let head = self.source.span(span.start as usize, head_end);
                    let head = trim_span(self.source, head);
                    out.blocks.push(Block {
                        kind: b.ident.as_str().to_owned(),
                        labels: b.labels.iter().map(|l| l.as_str().to_owned()).collect(),
                        span,
                        head,
                        body: self.body(&b.body, span),
                    });
                }
            }
        }
        out
    }

    pub fn expr(&self, e: &Expression, around: Span) -> Expr {
        let span = self.span(e.span(), around);
        let kind = match e {
            Expression::Null(_) => ExprKind::Null,
            Expression::Bool(b) => ExprKind::Bool(*b.value()),
            Expression::Number(n) => ExprKind::Number(n.value().as_f64().unwrap_or(f64::NAN)),
            Expression::String(s) => ExprKind::Template(vec![Part::Lit {
                text: s.value().clone(),
                span: inside_quotes(self.source, span),
            }]),
            Expression::StringTemplate(t) => {
                ExprKind::Template(self.template(t.iter(), inside_quotes(self.source, span)))
            }
            Expression::HeredocTemplate(h) => {
                ExprKind::Template(self.template(h.template.iter(), span))
            }
            Expression::Array(a) => ExprKind::Array(a.iter().map(|x| self.expr(x, span)).collect()),
            Expression::Object(o) => ExprKind::Object(
                o.iter()
                    .filter_map(|(k, v)| {
                        let key = match k {
                            ObjectKey::Ident(i) => i.as_str().to_owned(),
                            ObjectKey::Expression(x) => match self.expr(x, span).kind {
                                ExprKind::Template(parts) => literal(&parts)?,
                                ExprKind::Ref(path) if path.len() == 1 => path[0].clone(),
                                _ => return None,
                            },
                        };
                        Some((key, self.expr(v.expr(), span)))
                    })
                    .collect(),
            ),
            Expression::Parenthesis(p) => return self.expr(p.inner(), span),
            Expression::Variable(v) => ExprKind::Ref(vec![v.as_str().to_owned()]),
            Expression::Traversal(t) => {
                let inner = self.expr(&t.expr, span);
                match inner.kind {
                    ExprKind::Ref(mut path) => {
                        for op in &t.operators {
                            path.push(match op.value() {
                                TraversalOperator::GetAttr(i) => i.as_str().to_owned(),
                                TraversalOperator::LegacyIndex(n) => format!("[{}]", n.value()),
                                TraversalOperator::Index(x) => match &x {
                                    Expression::Number(n) => format!("[{}]", n.value()),
                                    Expression::String(s) => format!("[{:?}]", s.value()),
                                    _ => "[?]".to_owned(),
                                },
                                _ => "*".to_owned(),
                            });
                        }
                        ExprKind::Ref(path)
                    }
                    _ => ExprKind::Other("an index into a value"),
                }
            }
            Expression::FuncCall(f) => {
                let mut name = String::new();
                for ns in &f.name.namespace {
                    name.push_str(ns.as_str());
                    name.push_str("::");
                }
                name.push_str(f.name.name.as_str());
                ExprKind::Call(name, f.args.iter().map(|x| self.expr(x, span)).collect())
            }
            Expression::Conditional(_) => ExprKind::Other("a conditional expression"),
            Expression::UnaryOp(u) => {
                ExprKind::Unary(*u.operator.value(), Box::new(self.expr(&u.expr, span)))
            }
            Expression::BinaryOp(b) => ExprKind::Binary(
                *b.operator.value(),
                Box::new(self.expr(&b.lhs_expr, span)),
                Box::new(self.expr(&b.rhs_expr, span)),
            ),
            Expression::ForExpr(_) => ExprKind::Other("a `for` expression"),
        };
        Expr { span, kind }
    }

    fn template<'t>(&self, elements: impl Iterator<Item = &'t Element>, around: Span) -> Vec<Part> {
        let mut out = Vec::new();
        for el in elements {
            match el {
                Element::Literal(s) => out.push(Part::Lit {
                    text: s.value().clone(),
                    span: self.span(s.span(), around),
                }),
                Element::Interpolation(i) => out.push(Part::Interp(self.expr(&i.expr, around))),
                Element::Directive(d) => out.push(Part::Directive(self.span(d.span(), around))),
            }
        }
        out
    }
}

/// A template read on its own (a `templatefile` file).
pub fn template_parts(t: &Template, lower: &Lower, around: Span) -> Vec<Part> {
    lower.template(t.iter(), around)
}

/// The text of a template made only of literal parts.
pub fn literal(parts: &[Part]) -> Option<String> {
    let mut out = String::new();
    for p in parts {
        match p {
            Part::Lit { text, .. } => out.push_str(text),
            _ => return None,
        }
    }
    Some(out)
}

/// The span of a quoted string without its quotes.
fn inside_quotes(source: &SourceFile, span: Span) -> Span {
    let text = source.slice(span);
    if text.len() >= 2 && text.starts_with('"') && text.ends_with('"') {
        source.span(span.start as usize + 1, span.end as usize - 1)
    } else {
        span
    }
}

fn trim_span(source: &SourceFile, span: Span) -> Span {
    let text = source.slice(span);
    let start = span.start as usize + (text.len() - text.trim_start().len());
    let end = span.start as usize + text.trim_end().len();
    source.span(start, end.max(start))
}
