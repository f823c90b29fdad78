//! Values of Puppet expressions, as far as they are literal: strings (with
//! their interpolations), numbers, booleans, arrays, hashes, variables assigned
//! literals in the same class or at top scope, class parameters with literal
//! defaults (or the values a resource-like `class { 'x': … }` passes), and the
//! file functions (`template`, `epp`, `file`) whose arguments are known, and
//! `lookup`/`hiera` answered from the bundle's Hiera data ([`super::hiera`]).
//! Facts (`$facts[…]`, `$::osfamily`) and anything computed stay unknown, with
//! what they were, never guessed.

use super::hiera::{Found, Hiera, Merge};
use super::lex::Part;
use super::parse::Expr;
use crate::scripts::{Text, UNKNOWN};
use crate::source::Span;
use std::collections::HashMap;

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Str(Text),
    Num(String),
    Bool(bool),
    Undef,
    Array(Vec<V>),
    Hash(Vec<(V, V)>),
    /// `template(…)`, `epp(…)`, `file(…)` with their arguments.
    Call(String, Vec<V>),
    /// Not known: what it is, as written (`$ftp_ports`, `lookup('ftp::port')`).
    Unknown(String),
}

/// A value and where it is written.
#[derive(Clone, Debug, PartialEq)]
pub struct V {
    pub v: Value,
    pub span: Span,
    /// Where Hiera data gives the value (or makes it unknown), when it does.
    pub data: Option<Span>,
}

impl V {
    pub fn new(v: Value, span: Span) -> V {
        V {
            v,
            span,
            data: None,
        }
    }

    /// The value as Puppet turns it into a string, when it is one and fully known.
    pub fn text(&self) -> Option<String> {
        match &self.v {
            Value::Str(t) if !t.text.contains(UNKNOWN) => Some(t.text.clone()),
            Value::Num(n) => Some(n.clone()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    /// What is not known in this value, for messages.
    pub fn unknown(&self) -> Option<String> {
        match &self.v {
            Value::Unknown(what) => Some(what.clone()),
            Value::Str(t) if t.text.contains(UNKNOWN) => Some("an interpolated value".into()),
            Value::Array(items) => items.iter().find_map(V::unknown),
            Value::Hash(pairs) => pairs.iter().find_map(|(k, v)| k.unknown().or(v.unknown())),
            Value::Call(_, args) => args.iter().find_map(V::unknown),
            _ => None,
        }
    }

    /// The elements of an array, or the value itself.
    pub fn items(&self) -> Vec<&V> {
        match &self.v {
            Value::Array(items) => items.iter().collect(),
            _ => vec![self],
        }
    }
}

/// Variables visible in a class, define or node body: its own, then top scope.
#[derive(Clone, Debug, Default)]
pub struct Scope {
    pub local: HashMap<String, V>,
    /// Top scope (`site.pp` and the top of each manifest) and each evaluated
    /// class's variables by qualified name (`ftp::params::min`).
    pub global: std::sync::Arc<HashMap<String, V>>,
    /// The bundle's Hiera layers; `None` when it holds no `hiera.yaml`.
    pub hiera: Option<std::sync::Arc<Hiera>>,
}

impl Scope {
    pub fn lookup(&self, name: &str) -> Option<&V> {
        if let Some(top) = name.strip_prefix("::") {
            return self.global.get(top);
        }
        self.local.get(name).or_else(|| self.global.get(name))
    }

    pub fn eval(&self, e: &Expr) -> V {
        let span = e.span();
        let v = match e {
            Expr::Str(parts, _) => Value::Str(self.string(parts)),
            Expr::Num(n, _) => Value::Num(n.clone()),
            Expr::Name(n, _) => match n.as_str() {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                "undef" => Value::Undef,
                _ => {
                    let mut t = Text::default();
                    t.push(n, span, true);
                    Value::Str(t)
                }
            },
            Expr::Regex(r, _) => {
                let mut t = Text::default();
                t.push(r, span, false);
                Value::Str(t)
            }
            Expr::Type(t, _) => Value::Unknown(format!("the type `{t}`")),
            Expr::Var(name, _) => match self.lookup(name) {
                Some(v) => {
                    return V {
                        v: v.v.clone(),
                        span,
                        data: v.data,
                    };
                }
                None if is_fact(name) => Value::Unknown(format!("the fact `${name}`")),
                None => Value::Unknown(format!("`${name}`")),
            },
            Expr::Array(items, _) => Value::Array(items.iter().map(|i| self.eval(i)).collect()),
            Expr::Hash(pairs, _) => Value::Hash(
                pairs
                    .iter()
                    .map(|(k, v)| (self.eval(k), self.eval(v)))
                    .collect(),
            ),
            Expr::Call(name, args, _) => match name.as_str() {
                "template" | "epp" | "file" | "inline_template" | "inline_epp" => {
                    Value::Call(name.clone(), args.iter().map(|a| self.eval(a)).collect())
                }
                "lookup" | "hiera" | "hiera_array" | "hiera_hash" => {
                    return self.hiera_call(name, args, span);
                }
                _ => Value::Unknown(format!("`{name}(…)`")),
            },
            Expr::Other(_) => Value::Unknown("an expression pasvlint does not evaluate".into()),
        };
        V::new(v, span)
    }

    /// `lookup()` and the `hiera*()` functions, answered from the bundle's Hiera data.
    fn hiera_call(&self, name: &str, args: &[Expr], span: Span) -> V {
        let unknown = |why: String| V::new(Value::Unknown(why), span);
        let Some(key) = args.first().and_then(|a| self.eval(a).text()) else {
            return unknown(format!("`{name}(…)` of a key pasvlint cannot resolve"));
        };
        let call = format!("`{name}('{key}')`");
        let Some(hiera) = &self.hiera else {
            return unknown(format!("{call} with no hiera.yaml in the repository"));
        };
        let (merge, default) = self.lookup_options(name, args);
        let Some(merge) = merge else {
            return unknown(format!("{call} with a merge pasvlint cannot resolve"));
        };
        match hiera.lookup(&key, merge) {
            Found::Value(v) => V {
                data: v.data.or(Some(v.span)),
                v: v.v,
                span,
            },
            Found::Unknown(why, at) => V {
                v: Value::Unknown(format!("{call}, {why}")),
                span,
                data: at,
            },
            Found::Missing => default.unwrap_or_else(|| {
                unknown(format!(
                    "{call}, a key no Hiera data in the repository holds (the compile fails without it)"
                ))
            }),
        }
    }

    /// The merge (`None` when not known) and the default a lookup call gives.
    fn lookup_options(&self, name: &str, args: &[Expr]) -> (Option<Merge>, Option<V>) {
        let arg = |i: usize| args.get(i).map(|a| self.eval(a));
        match name {
            "hiera" => (Some(Merge::First), arg(1)),
            "hiera_array" => (Some(Merge::Unique), arg(1)),
            "hiera_hash" => (Some(Merge::Hash), arg(1)),
            _ => match arg(1) {
                Some(V {
                    v: Value::Hash(options),
                    ..
                }) if args.len() == 2 => {
                    let option = |k: &str| {
                        options
                            .iter()
                            .find(|(n, _)| n.text().as_deref() == Some(k))
                            .map(|(_, v)| v.clone())
                    };
                    (merge_of(option("merge")), option("default_value"))
                }
                _ => (merge_of(arg(2)), arg(3)),
            },
        }
    }

    /// A string's text; interpolations of known values in place, others [`UNKNOWN`].
    pub fn string(&self, parts: &[Part]) -> Text {
        let mut t = Text::default();
        for p in parts {
            match p {
                Part::Lit {
                    text,
                    span,
                    verbatim,
                } => t.push(text, *span, *verbatim),
                Part::Interp { var, span } => {
                    let known = var.as_deref().and_then(|v| self.lookup(v));
                    match known.map(|v| &v.v) {
                        Some(Value::Str(s)) => crate::formats::written::append(&mut t, s),
                        Some(Value::Num(n)) => t.push(n, *span, false),
                        Some(Value::Bool(b)) => t.push(&b.to_string(), *span, false),
                        Some(Value::Undef) => {}
                        _ => t.push(&UNKNOWN.to_string(), *span, false),
                    }
                }
            }
        }
        t
    }
}

/// A lookup's `merge` argument: a strategy's name, `{ strategy => … }`, or none.
fn merge_of(v: Option<V>) -> Option<Merge> {
    let Some(v) = v else {
        return Some(Merge::First);
    };
    match &v.v {
        Value::Undef => Some(Merge::First),
        Value::Hash(pairs) => pairs
            .iter()
            .find(|(k, _)| k.text().as_deref() == Some("strategy"))
            .and_then(|(_, s)| Merge::named(&s.text()?)),
        _ => Merge::named(&v.text()?),
    }
}

fn is_fact(name: &str) -> bool {
    let name = name.trim_start_matches("::");
    matches!(name, "facts" | "trusted" | "server_facts")
        || [
            "osfamily",
            "operatingsystem",
            "ipaddress",
            "ipaddress6",
            "fqdn",
            "hostname",
            "networking",
            "os",
        ]
        .contains(&name)
}
