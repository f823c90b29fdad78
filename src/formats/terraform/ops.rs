//! HCL's operators on known values, as Terraform applies them: arithmetic
//! (`+ - * / %`) and ordering (`< > <= >=`) convert their operands to numbers (a
//! string of digits converts, a bool does not), `==` and `!=` compare without
//! converting (`1 == "1"` is false), `&&`, `||` and `!` take bools, unary `-` a
//! number. An operand that is not known makes the result unknown; an operation
//! Terraform refuses (a string that is no number, a bool in arithmetic) is
//! unknown too, with the reason.

use super::eval::Value;
use super::hcl::{BinaryOperator as B, UnaryOperator as U};
use crate::source::Span;

pub fn unary(op: U, v: Value, span: Span) -> Value {
    if let Some(u) = v.unknown_part() {
        return Value::Unknown(u.clone());
    }
    match op {
        U::Neg => number(&v, span).map_or_else(|u| u, |n| Value::Num(-n)),
        U::Not => v.as_bool().map_or_else(
            || Value::unknown("`!` of a value that is not a bool", span),
            |b| Value::Bool(!b),
        ),
    }
}

pub fn binary(op: B, l: Value, r: Value, span: Span) -> Value {
    if let Some(u) = l.unknown_part().or(r.unknown_part()) {
        return Value::Unknown(u.clone());
    }
    if matches!(l, Value::Resource { .. }) || matches!(r, Value::Resource { .. }) {
        return Value::unknown(
            "an operation on a resource attribute, known only after apply",
            span,
        );
    }
    match op {
        B::Eq => Value::Bool(l == r),
        B::NotEq => Value::Bool(l != r),
        B::And | B::Or => match (l.as_bool(), r.as_bool()) {
            (Some(a), Some(b)) => Value::Bool(if op == B::And { a && b } else { a || b }),
            _ => Value::unknown("a logical operation on a value that is not a bool", span),
        },
        _ => {
            let (a, b) = match (number(&l, span), number(&r, span)) {
                (Ok(a), Ok(b)) => (a, b),
                (Err(u), _) | (_, Err(u)) => return u,
            };
            match op {
                B::Plus => Value::Num(a + b),
                B::Minus => Value::Num(a - b),
                B::Mul => Value::Num(a * b),
                // `1 / 0` is +Inf and `5 % 0` is 5 in `terraform console` 1.11;
                // neither is a port, which is where such a value ends up unknown.
                B::Div => Value::Num(a / b),
                B::Mod if b == 0.0 => Value::Num(a),
                // The sign follows the dividend, as in cty (`-7 % 3` is -1).
                B::Mod => Value::Num(a % b),
                B::Less => Value::Bool(a < b),
                B::Greater => Value::Bool(a > b),
                B::LessEq => Value::Bool(a <= b),
                B::GreaterEq => Value::Bool(a >= b),
                B::Eq | B::NotEq | B::And | B::Or => unreachable_as_unknown(span),
            }
        }
    }
}

/// Handled above; kept total so no input can panic here.
fn unreachable_as_unknown(span: Span) -> Value {
    Value::unknown("an operator not evaluated", span)
}

/// A number, or a string Terraform converts to one.
fn number(v: &Value, span: Span) -> Result<f64, Value> {
    match v {
        Value::Num(n) => Ok(*n),
        Value::Str(s) => s
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|n| n.is_finite())
            .ok_or_else(|| Value::unknown(format!("\"{s}\" is not a number"), span)),
        _ => Err(Value::unknown(
            "arithmetic on a value that is not a number",
            span,
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::file;
    use super::*;
    use crate::formats::terraform::eval::Scope;

    /// The value of `x` in `locals { x = <text> }`.
    fn eval(text: &str) -> Value {
        let (f, _) = file(&format!("locals {{\n  x = {text}\n}}\n"));
        let x = &f.blocks[0].body.attrs[0].value;
        Scope::default().eval(x)
    }

    #[test]
    fn arithmetic_follows_hcl_precedence_and_terraform_conversions() {
        // Checked with `terraform console` 1.11.
        assert_eq!(eval("1048 + 10"), Value::Num(1058.0));
        assert_eq!(eval("1 + 2 * 3"), Value::Num(7.0));
        assert_eq!(eval("(1 + 2) * 3"), Value::Num(9.0));
        assert_eq!(eval("50100 - 100"), Value::Num(50000.0));
        assert_eq!(eval("\"30000\" + 99"), Value::Num(30099.0));
        assert_eq!(eval("-7 % 3"), Value::Num(-1.0));
        assert_eq!(eval("7 / 2"), Value::Num(3.5));
        assert_eq!(eval("1 == \"1\""), Value::Bool(false));
        assert_eq!(eval("2 > 1 && !false"), Value::Bool(true));
    }

    #[test]
    fn unknown_operands_and_refused_operations_stay_unknown() {
        // `1 / 0` and `5 % 0` are what `terraform console` prints, not errors.
        assert!(matches!(eval("var.nowhere + 1"), Value::Unknown(_)));
        assert_eq!(eval("1 / 0"), Value::Num(f64::INFINITY));
        assert_eq!(eval("5 % 0"), Value::Num(5.0));
        assert!(matches!(eval("\"x\" * 2"), Value::Unknown(_)));
        assert!(matches!(eval("true + 1"), Value::Unknown(_)));
    }
}
