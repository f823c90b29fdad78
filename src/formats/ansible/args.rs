//! A task's module arguments as the module receives them: templated in the
//! task's scope, then converted as `AnsibleModule` converts them to the
//! argument's type (`str`, `list`, `bool`). An argument that depends on what is
//! not known is recorded, with where it is written.

use super::jinja::{Value, Vars, ansible_bool};
use super::scope::OMIT;
use super::tasks::Action;
use super::values;
use crate::source::Span;

/// An argument's value.
#[derive(Clone, Debug, PartialEq)]
pub enum Got<T> {
    Absent,
    Known(T, Span),
    /// Depends on a value pasvlint does not know.
    Unknown(Span),
}

impl<T> Got<T> {
    pub fn known(&self) -> Option<&T> {
        match self {
            Got::Known(v, _) => Some(v),
            _ => None,
        }
    }

    pub fn span(&self) -> Option<Span> {
        match self {
            Got::Known(_, s) | Got::Unknown(s) => Some(*s),
            Got::Absent => None,
        }
    }
}

/// What could not be resolved: where, and what it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unresolved {
    pub span: Span,
    pub what: String,
}

pub struct Args<'a> {
    pub action: &'a Action,
    pub vars: &'a dyn Vars,
    pub unresolved: Vec<Unresolved>,
    /// Arguments written as an unquoted `a:b` that YAML 1.1 reads as a base-60 number.
    pub base60: Vec<Base60>,
}

/// `destination_port: 20:21`, which PyYAML loads as the integer 1221.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Base60 {
    pub span: Span,
    pub key: String,
    pub written: String,
    pub value: i64,
}

impl<'a> Args<'a> {
    pub fn new(action: &'a Action, vars: &'a dyn Vars) -> Self {
        Args {
            action,
            vars,
            unresolved: Vec::new(),
            base60: Vec::new(),
        }
    }

    /// The templated value of the first of `keys` given (a parameter and its aliases).
    pub fn value(&mut self, keys: &[&str]) -> Got<Value> {
        let Some(node) = self.action.arg_any(keys) else {
            return Got::Absent;
        };
        let span = node.span();
        if let crate::formats::yaml::Node::Scalar {
            text,
            quoted: false,
            ..
        } = node
        {
            if let (true, Value::Int(n)) = (text.contains(':'), values::scalar(text, false)) {
                let written_key = self
                    .action
                    .args
                    .iter()
                    .rev()
                    .find(|a| keys.contains(&a.key.as_str()))
                    .map_or(keys[0], |a| a.key.as_str());
                self.base60.push(Base60 {
                    span,
                    key: written_key.to_owned(),
                    written: text.clone(),
                    value: n,
                });
            }
        }
        match values::templated(node, self.vars, 0) {
            Ok(Value::None) => Got::Absent,
            Ok(Value::Str(s)) if s == OMIT => Got::Absent,
            Ok(v) => Got::Known(v, span),
            Err(u) => {
                self.unresolved.push(Unresolved {
                    span,
                    what: format!("`{}` is `{}`", keys[0], u.what),
                });
                Got::Unknown(span)
            }
        }
    }

    /// A `str` argument.
    pub fn str(&mut self, keys: &[&str]) -> Got<String> {
        match self.value(keys) {
            Got::Known(v, span) => Got::Known(v.to_text(), span),
            Got::Absent => Got::Absent,
            Got::Unknown(s) => Got::Unknown(s),
        }
    }

    /// A `list` argument of strings (a string is split on commas).
    pub fn list(&mut self, keys: &[&str]) -> Got<Vec<String>> {
        match self.value(keys) {
            Got::Known(Value::List(items), span) => {
                Got::Known(items.iter().map(Value::to_text).collect(), span)
            }
            Got::Known(Value::Str(s), span) => {
                Got::Known(s.split(',').map(|p| p.trim().to_owned()).collect(), span)
            }
            Got::Known(other, span) => Got::Known(vec![other.to_text()], span),
            Got::Absent => Got::Absent,
            Got::Unknown(s) => Got::Unknown(s),
        }
    }

    /// A `bool` argument.
    pub fn bool(&mut self, keys: &[&str], default: bool) -> Got<bool> {
        match self.value(keys) {
            Got::Known(v, span) => Got::Known(ansible_bool(&v), span),
            Got::Absent => Got::Known(default, self.action.name_span),
            Got::Unknown(s) => Got::Unknown(s),
        }
    }

    /// Whether any argument read so far was not known.
    pub fn any_unknown(&self) -> bool {
        !self.unresolved.is_empty()
    }

    /// The span of the whole invocation: the module name through its last argument.
    pub fn span(&self) -> Span {
        let start = self.action.name_span;
        self.action
            .args
            .iter()
            .map(|a| a.value.span())
            .filter(|s| s.file == start.file && s.end >= start.end)
            .max_by_key(|s| s.end)
            .map_or(start, |last| start.to(last))
    }
}
