//! Values of a module's expressions, as far as the module itself says: literals,
//! `var.x` with a `default` in the same module, `local.x` whose value is known,
//! templates of known parts, arithmetic, comparisons and logic on known values
//! ([`super::ops`]) and a few pure functions. Everything else (data
//! sources, module outputs, variables without a default, conditionals, `for`
//! expressions, `dynamic` blocks over unknown collections) is unknown, with the
//! reason.

use super::hcl::{Expr, ExprKind, Part};
use crate::source::Span;
use std::collections::HashMap;

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Num(f64),
    Str(String),
    List(Vec<Value>),
    Map(Vec<(String, Value)>),
    /// `aws_security_group.ftp.id`: an attribute of a resource of the module.
    Resource {
        kind: String,
        name: String,
        attr: String,
    },
    Unknown(Unknown),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Unknown {
    /// Why, as a phrase ("var.sg_id has no default").
    pub why: String,
    /// The expression that cannot be known.
    pub span: Span,
}

impl Value {
    pub fn unknown(why: impl Into<String>, span: Span) -> Value {
        Value::Unknown(Unknown {
            why: why.into(),
            span,
        })
    }

    /// The text of a string, number or bool, as Terraform converts it to a string.
    pub fn as_text(&self) -> Option<String> {
        match self {
            Value::Str(s) => Some(s.clone()),
            Value::Num(n) if n.fract() == 0.0 && n.abs() < 1e15 => Some(format!("{}", *n as i64)),
            Value::Num(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    /// An integer from a number or a string of digits (Terraform converts both).
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Num(n) if n.fract() == 0.0 => Some(*n as i64),
            Value::Str(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            Value::Str(s) if s == "true" => Some(true),
            Value::Str(s) if s == "false" => Some(false),
            _ => None,
        }
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Map(m) => m.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The first unknown part of the value, if any.
    pub fn unknown_part(&self) -> Option<&Unknown> {
        match self {
            Value::Unknown(u) => Some(u),
            Value::List(items) => items.iter().find_map(Value::unknown_part),
            Value::Map(m) => m.iter().find_map(|(_, v)| v.unknown_part()),
            _ => None,
        }
    }
}

/// The variables and locals of one module.
#[derive(Default, Clone)]
pub struct Scope<'a> {
    pub variables: HashMap<String, (Option<&'a Expr>, Span)>,
    /// The values the module's auto-loaded `.tfvars` files give, which win over
    /// the defaults (see [`super::tfvars`]).
    pub values: HashMap<String, &'a super::hcl::Attr>,
    pub locals: HashMap<String, &'a Expr>,
    /// The module's folder as `path.module` gives it.
    pub module_dir: String,
    /// The iterators of the `dynamic` blocks being expanded: name, key, value.
    pub iterators: Vec<(String, Value, Value)>,
}

/// Locals referring to locals stop here (Terraform refuses cycles).
const MAX_DEPTH: usize = 32;

impl Scope<'_> {
    pub fn eval(&self, e: &Expr) -> Value {
        self.eval_at(e, 0)
    }

    /// Where a `.tfvars` file writes the value of `e` (`var.ports.from` set by
    /// `ports = { from = 30000 }`: the `30000`), when `e` is such a variable.
    pub fn set_in_vars_file(&self, e: &Expr) -> Option<Span> {
        let ExprKind::Ref(path) = &e.kind else {
            return None;
        };
        let [var, name, rest @ ..] = path.as_slice() else {
            return None;
        };
        if var != "var" || !self.variables.contains_key(name) {
            return None;
        }
        let mut at = &self.values.get(name)?.value;
        for step in rest {
            let key = step.strip_prefix('[').and_then(|s| s.strip_suffix(']'));
            at = match (&at.kind, key) {
                (ExprKind::Object(entries), k) => {
                    let k = k.map_or(step.as_str(), |k| k.trim_matches('"'));
                    entries.iter().find(|(n, _)| n == k).map(|(_, v)| v)?
                }
                (ExprKind::Array(items), Some(i)) => items.get(i.parse::<usize>().ok()?)?,
                _ => break,
            };
        }
        Some(at.span)
    }

    fn eval_at(&self, e: &Expr, depth: usize) -> Value {
        if depth > MAX_DEPTH {
            return Value::unknown("the locals refer to each other too deeply", e.span);
        }
        match &e.kind {
            ExprKind::Null => Value::Null,
            ExprKind::Bool(b) => Value::Bool(*b),
            ExprKind::Number(n) => Value::Num(*n),
            ExprKind::Template(parts) => self.template(parts, e.span, depth),
            ExprKind::Array(items) => {
                Value::List(items.iter().map(|x| self.eval_at(x, depth + 1)).collect())
            }
            ExprKind::Object(entries) => Value::Map(
                entries
                    .iter()
                    .map(|(k, v)| (k.clone(), self.eval_at(v, depth + 1)))
                    .collect(),
            ),
            ExprKind::Ref(path) => self.reference(path, e.span, depth),
            ExprKind::Call(name, args) => self.call(name, args, e.span, depth),
            ExprKind::Unary(op, x) => super::ops::unary(*op, self.eval_at(x, depth + 1), e.span),
            ExprKind::Binary(op, l, r) => super::ops::binary(
                *op,
                self.eval_at(l, depth + 1),
                self.eval_at(r, depth + 1),
                e.span,
            ),
            ExprKind::Other(what) => Value::unknown(format!("{what} is not evaluated"), e.span),
        }
    }

    fn template(&self, parts: &[Part], span: Span, depth: usize) -> Value {
        let mut out = String::new();
        for p in parts {
            match p {
                Part::Lit { text, .. } => out.push_str(text),
                Part::Interp(x) => match self.eval_at(x, depth + 1) {
                    Value::Unknown(u) => return Value::Unknown(u),
                    v => match v.as_text() {
                        Some(t) => out.push_str(&t),
                        None => return Value::unknown("a template of a non-string value", x.span),
                    },
                },
                Part::Directive(s) => {
                    return Value::unknown("a template directive (`%{ … }`)", *s);
                }
            }
        }
        let _ = span;
        Value::Str(out)
    }

    fn reference(&self, path: &[String], span: Span, depth: usize) -> Value {
        let dotted = path.join(".").replace(".[", "[");
        if let Some((_, key, value)) = self
            .iterators
            .iter()
            .rev()
            .find(|(n, _, _)| path.first() == Some(n))
        {
            return match path.get(1).map(String::as_str) {
                Some("key") => key.clone(),
                Some("value") => index_into(value.clone(), &path[2..], span, &dotted),
                _ => Value::unknown(format!("{dotted} is not an iterator's key or value"), span),
            };
        }
        match path {
            [var, name, rest @ ..] if var == "var" => {
                let v = match (self.variables.get(name), self.values.get(name)) {
                    // A variables file names no variable and calls no function
                    // Terraform would accept: its value is read on its own.
                    (Some(_), Some(set)) => Scope::default().eval_at(&set.value, depth + 1),
                    (Some((Some(default), _)), None) => self.eval_at(default, depth + 1),
                    (Some((None, _)), None) => {
                        return Value::unknown(
                            format!(
                                "var.{name} has no default and no auto-loaded .tfvars file of the module sets it (its value is given where the module is applied)"
                            ),
                            span,
                        );
                    }
                    (None, _) => {
                        return Value::unknown(
                            format!("var.{name} is not declared in the module"),
                            span,
                        );
                    }
                };
                index_into(v, rest, span, &dotted)
            }
            [local, name, rest @ ..] if local == "local" => match self.locals.get(name) {
                Some(x) => index_into(self.eval_at(x, depth + 1), rest, span, &dotted),
                None => Value::unknown(format!("local.{name} is not defined in the module"), span),
            },
            [p, m] if p == "path" && (m == "module" || m == "root" || m == "cwd") => {
                Value::Str(self.module_dir.clone())
            }
            [data, ..] if data == "data" => Value::unknown(
                format!("{dotted} comes from a data source, read only when Terraform runs"),
                span,
            ),
            [module, ..] if module == "module" => {
                Value::unknown(format!("{dotted} is an output of another module"), span)
            }
            [kind, name, attr, ..] if kind.contains('_') && !name.starts_with('[') => {
                Value::Resource {
                    kind: kind.clone(),
                    name: name.clone(),
                    attr: attr.clone(),
                }
            }
            [kind, name, index, attr, ..] if kind.contains('_') && index.starts_with('[') => {
                Value::Resource {
                    kind: kind.clone(),
                    name: name.clone(),
                    attr: attr.clone(),
                }
            }
            _ => Value::unknown(format!("{dotted} is not known in the module"), span),
        }
    }

    fn call(&self, name: &str, args: &[Expr], span: Span, depth: usize) -> Value {
        let vals: Vec<Value> = args.iter().map(|a| self.eval_at(a, depth + 1)).collect();
        if let Some(u) = vals.iter().find_map(Value::unknown_part) {
            return Value::Unknown(u.clone());
        }
        match (name, vals.as_slice()) {
            ("tolist" | "toset", [Value::List(items)]) => Value::List(items.clone()),
            ("tostring", [v]) => v.as_text().map_or_else(
                || Value::unknown("tostring of a non-string value", span),
                Value::Str,
            ),
            ("tonumber", [v]) => v.as_int().map_or_else(
                || Value::unknown("tonumber of a value that is not a number", span),
                |n| Value::Num(n as f64),
            ),
            ("concat", lists) if lists.iter().all(|l| matches!(l, Value::List(_))) => Value::List(
                lists
                    .iter()
                    .flat_map(|l| match l {
                        Value::List(items) => items.clone(),
                        _ => Vec::new(),
                    })
                    .collect(),
            ),
            ("flatten", [Value::List(items)]) => {
                let mut out = Vec::new();
                flatten(items, &mut out);
                Value::List(out)
            }
            ("lower", [Value::Str(s)]) => Value::Str(s.to_lowercase()),
            ("upper", [Value::Str(s)]) => Value::Str(s.to_uppercase()),
            _ => Value::unknown(format!("the function {name}() is not evaluated"), span),
        }
    }
}

fn flatten(items: &[Value], out: &mut Vec<Value>) {
    for i in items {
        match i {
            Value::List(inner) => flatten(inner, out),
            other => out.push(other.clone()),
        }
    }
}

/// `rest` applied to `v`: `["[0]"]`, `["key"]`.
fn index_into(v: Value, rest: &[String], span: Span, dotted: &str) -> Value {
    let mut v = v;
    for step in rest {
        v = match (&v, step.strip_prefix('[').and_then(|s| s.strip_suffix(']'))) {
            (Value::Unknown(_), _) => return v,
            (Value::List(items), Some(i)) => {
                match i.parse::<usize>().ok().and_then(|i| items.get(i)) {
                    Some(x) => x.clone(),
                    None => return Value::unknown(format!("{dotted} indexes past the list"), span),
                }
            }
            (Value::Map(_), Some(k)) => match v.get(k.trim_matches('"')) {
                Some(x) => x.clone(),
                None => return Value::unknown(format!("{dotted} names no key of the map"), span),
            },
            (Value::Map(_), None) => match v.get(step) {
                Some(x) => x.clone(),
                None => return Value::unknown(format!("{dotted} names no key of the map"), span),
            },
            _ => return Value::unknown(format!("{dotted} is not evaluated"), span),
        };
    }
    v
}
