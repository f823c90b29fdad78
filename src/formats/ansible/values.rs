//! YAML values as Ansible loads them: PyYAML's YAML 1.1 resolution of plain
//! scalars (`yes` is true, `0755` is 493, `20:21` is the sexagesimal 1221),
//! then Jinja templating of the strings in the variables' scope.

use super::jinja::{self, Eval, Unknown, Value, Vars};
use crate::formats::yaml::Node;

/// A plain or quoted scalar as PyYAML's SafeLoader types it.
pub fn scalar(text: &str, quoted: bool) -> Value {
    if quoted {
        return Value::Str(text.to_owned());
    }
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::None,
        "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            return Value::Bool(true);
        }
        "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            return Value::Bool(false);
        }
        _ => {}
    }
    if let Some(n) = yaml11_int(text) {
        return Value::Int(n);
    }
    if let Some(f) = yaml11_float(text) {
        return Value::Float(f);
    }
    Value::Str(text.to_owned())
}

/// PyYAML's int resolver and constructor (binary, octal with a leading 0,
/// decimal, hex, and base 60 with `:`).
fn yaml11_int(text: &str) -> Option<i64> {
    let (neg, body) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    if body.is_empty() {
        return None;
    }
    let digits =
        |s: &str, ok: fn(char) -> bool| !s.is_empty() && s.chars().all(|c| ok(c) || c == '_');
    let clean = |s: &str| s.replace('_', "");
    let value: i64 = if let Some(b) = body.strip_prefix("0b") {
        if !digits(b, |c| c == '0' || c == '1') {
            return None;
        }
        i64::from_str_radix(&clean(b), 2).ok()?
    } else if let Some(h) = body.strip_prefix("0x") {
        if !digits(h, |c| c.is_ascii_hexdigit()) {
            return None;
        }
        i64::from_str_radix(&clean(h), 16).ok()?
    } else if body == "0" {
        0
    } else if body.contains(':') {
        let mut parts = body.split(':');
        let first = parts.next()?;
        if !first.starts_with(|c: char| ('1'..='9').contains(&c))
            || !digits(first, |c| c.is_ascii_digit())
        {
            return None;
        }
        let mut n: i64 = clean(first).parse().ok()?;
        for p in parts {
            let ok = !p.is_empty() && p.len() <= 2 && p.chars().all(|c| c.is_ascii_digit());
            let v: i64 = p.parse().ok().filter(|v| ok && *v < 60)?;
            n = n.checked_mul(60)?.checked_add(v)?;
        }
        n
    } else if let Some(o) = body.strip_prefix('0') {
        if !digits(o, |c| ('0'..='7').contains(&c)) {
            return None;
        }
        i64::from_str_radix(&clean(o), 8).ok()?
    } else {
        if !body.starts_with(|c: char| ('1'..='9').contains(&c))
            || !digits(body, |c| c.is_ascii_digit())
        {
            return None;
        }
        clean(body).parse().ok()?
    };
    Some(if neg { -value } else { value })
}

fn yaml11_float(text: &str) -> Option<f64> {
    let body = text.strip_prefix(['-', '+']).unwrap_or(text);
    match body {
        ".inf" | ".Inf" | ".INF" => {
            return Some(if text.starts_with('-') {
                f64::NEG_INFINITY
            } else {
                f64::INFINITY
            });
        }
        ".nan" | ".NaN" | ".NAN" if body.len() == text.len() => return Some(f64::NAN),
        _ => {}
    }
    let (mantissa, exp) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    let (int, frac) = mantissa.split_once('.')?;
    let int_ok = int.is_empty() && !frac.is_empty() && !frac.starts_with('_')
        || (!int.is_empty() && int.starts_with(|c: char| c.is_ascii_digit()));
    let ok = int_ok
        && int.chars().all(|c| c.is_ascii_digit() || c == '_')
        && frac.chars().all(|c| c.is_ascii_digit() || c == '_')
        && exp.is_none_or(|e| {
            e.len() > 1 && e.starts_with(['-', '+']) && e[1..].chars().all(|c| c.is_ascii_digit())
        });
    if !ok {
        return None;
    }
    text.replace('_', "").parse().ok()
}

/// A node's value without templating.
pub fn raw(node: &Node) -> Value {
    match node {
        Node::Scalar { text, quoted, .. } => scalar(text, *quoted),
        Node::Seq { items, .. } => Value::List(items.iter().map(raw).collect()),
        Node::Map { entries, .. } => Value::Map(
            entries
                .iter()
                .map(|(k, v)| (raw(k).to_text(), raw(v)))
                .collect(),
        ),
    }
}

/// A node's value with every string templated in `vars`, as Ansible templates
/// a module's arguments and a variable's value when it is used.
pub fn templated(node: &Node, vars: &dyn Vars, depth: usize) -> Eval {
    if depth > jinja::MAX_DEPTH {
        return Err(Unknown::new("recursive variables"));
    }
    match node {
        Node::Scalar { text, quoted, .. } => match scalar(text, *quoted) {
            Value::Str(s) if jinja::is_template(&s) => jinja::render_str(&s, vars, depth),
            v => Ok(v),
        },
        Node::Seq { items, .. } => items
            .iter()
            .map(|i| templated(i, vars, depth))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::List),
        Node::Map { entries, .. } => {
            let mut out = Vec::new();
            for (k, v) in entries {
                out.push((raw(k).to_text(), templated(v, vars, depth)?));
            }
            Ok(Value::Map(out))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pyyaml_resolution() {
        let cases: &[(&str, Value)] = &[
            ("20:21", Value::Int(1221)),
            ("50000:50100", Value::Str("50000:50100".into())),
            ("0755", Value::Int(493)),
            ("0o17", Value::Str("0o17".into())),
            ("0x1F", Value::Int(31)),
            ("1_000", Value::Int(1000)),
            ("21", Value::Int(21)),
            ("-5", Value::Int(-5)),
            ("yes", Value::Bool(true)),
            ("y", Value::Str("y".into())),
            ("Off", Value::Bool(false)),
            ("~", Value::None),
            ("1.5", Value::Float(1.5)),
            ("1.", Value::Float(1.0)),
            ("50000-50100/tcp", Value::Str("50000-50100/tcp".into())),
            ("08", Value::Str("08".into())),
            ("1:60", Value::Str("1:60".into())),
        ];
        for (text, want) in cases {
            assert_eq!(&scalar(text, false), want, "{text}");
        }
        assert_eq!(scalar("21", true), Value::Str("21".into()));
    }
}
