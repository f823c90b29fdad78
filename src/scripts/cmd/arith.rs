//! `set /a`: cmd's 32-bit signed arithmetic (wrapping), operators by cmd's
//! precedence, variables by name, `op=` assignments, `,`-separated expressions.

use super::expand::Lookup;
use crate::scripts::UNKNOWN;

/// A value `set /a` computed; `None` when it depends on something unknown.
pub type Value = Option<i32>;

/// Why a `set /a` did nothing (cmd prints an error and sets nothing more).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Failure {
    /// "Invalid number", "Divide by zero error", "Missing operand", …
    Error,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Token {
    Num(i32),
    Name(String),
    Op(&'static str),
}

const OPS: &[&str] = &[
    "<<=", ">>=", "*=", "/=", "%=", "+=", "-=", "&=", "^=", "|=", "<<", ">>", "(", ")", "!", "~",
    "-", "+", "*", "/", "%", "&", "^", "|", "=", ",",
];

fn tokens(expr: &str) -> Result<Vec<Token>, Failure> {
    let mut out = Vec::new();
    let chars: Vec<char> = expr.chars().filter(|c| *c != '"').collect();
    let mut i = 0;
    'outer: while let Some(&c) = chars.get(i) {
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        for op in OPS {
            let n = op.len();
            if chars
                .get(i..i + n)
                .is_some_and(|s| s.iter().copied().eq(op.chars()))
            {
                out.push(Token::Op(op));
                i += n;
                continue 'outer;
            }
        }
        let start = i;
        while chars
            .get(i)
            .is_some_and(|c| !c.is_whitespace() && !"()!~-+*/%&^|=,<>".contains(*c))
        {
            i += 1;
        }
        let word: String = chars[start..i.max(start + 1).min(chars.len())]
            .iter()
            .collect();
        i = i.max(start + 1);
        if word.starts_with(|c: char| c.is_ascii_digit()) {
            out.push(Token::Num(number(&word)?));
        } else {
            out.push(Token::Name(word.to_ascii_lowercase()));
        }
    }
    Ok(out)
}

/// A number as `set /a` reads it: `0x` hex, leading-`0` octal, decimal; up to
/// 32 bits ("Numbers are limited to 32-bits of precision"), hex and octal
/// wrapping into the signed range.
pub fn number(word: &str) -> Result<i32, Failure> {
    let (digits, radix) =
        if let Some(h) = word.strip_prefix("0x").or_else(|| word.strip_prefix("0X")) {
            (h, 16)
        } else if word.len() > 1 && word.starts_with('0') {
            (&word[1..], 8)
        } else {
            (word, 10)
        };
    let n = u64::from_str_radix(digits, radix).map_err(|_| Failure::Error)?;
    match radix {
        10 if n > i32::MAX as u64 => Err(Failure::Error),
        _ if n > u64::from(u32::MAX) => Err(Failure::Error),
        _ => Ok(n as u32 as i32),
    }
}

/// A variable's value read as a number (empty or undefined is 0).
fn variable_number(value: &Lookup) -> Result<Value, Failure> {
    match value {
        Lookup::Undefined => Ok(Some(0)),
        Lookup::Unknown => Ok(None),
        Lookup::Known(v) if v.contains(UNKNOWN) => Ok(None),
        Lookup::Known(v) => {
            let t = v.trim();
            if t.is_empty() {
                return Ok(Some(0));
            }
            let (neg, body) = match t.strip_prefix('-') {
                Some(b) => (true, b),
                None => (false, t.strip_prefix('+').unwrap_or(t)),
            };
            let n = number(body)?;
            Ok(Some(if neg { n.wrapping_neg() } else { n }))
        }
    }
}

struct Eval<'a> {
    tokens: Vec<Token>,
    pos: usize,
    lookup: &'a dyn Fn(&str) -> Lookup,
    assigned: Vec<(String, Value)>,
}

/// Runs `expr`; the assignments it makes, in order.
pub fn evaluate(
    expr: &str,
    lookup: &dyn Fn(&str) -> Lookup,
) -> Result<Vec<(String, Value)>, Failure> {
    let mut e = Eval {
        tokens: tokens(expr)?,
        pos: 0,
        lookup,
        assigned: Vec::new(),
    };
    loop {
        e.assignment()?;
        match e.next() {
            None => break,
            Some(Token::Op(",")) => continue,
            Some(_) => return Err(Failure::Error),
        }
    }
    Ok(e.assigned)
}

const BINARY: &[(&str, u8)] = &[
    ("|", 1),
    ("^", 2),
    ("&", 3),
    ("<<", 4),
    (">>", 4),
    ("+", 5),
    ("-", 5),
    ("*", 6),
    ("/", 6),
    ("%", 6),
];

impl Eval<'_> {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn var(&self, name: &str) -> Result<Value, Failure> {
        if let Some((_, v)) = self.assigned.iter().rev().find(|(n, _)| n == name) {
            return Ok(*v);
        }
        variable_number(&(self.lookup)(name))
    }

    fn assignment(&mut self) -> Result<Value, Failure> {
        if let (Some(Token::Name(name)), Some(Token::Op(op))) =
            (self.peek().cloned(), self.tokens.get(self.pos + 1).cloned())
        {
            if op.ends_with('=') {
                self.pos += 2;
                let rhs = self.assignment()?;
                let value = match op.strip_suffix('=').unwrap_or("") {
                    "" => rhs,
                    bin => apply(bin, self.var(&name)?, rhs)?,
                };
                self.assigned.push((name, value));
                return Ok(value);
            }
        }
        self.binary(1)
    }

    fn binary(&mut self, min: u8) -> Result<Value, Failure> {
        let mut left = self.unary()?;
        while let Some(Token::Op(op)) = self.peek().cloned() {
            let Some(&(_, prec)) = BINARY.iter().find(|(o, _)| *o == op) else {
                break;
            };
            if prec < min {
                break;
            }
            self.pos += 1;
            let right = self.binary(prec + 1)?;
            left = apply(op, left, right)?;
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Value, Failure> {
        match self.next() {
            Some(Token::Op("-")) => Ok(self.unary()?.map(i32::wrapping_neg)),
            Some(Token::Op("+")) => self.unary(),
            Some(Token::Op("!")) => Ok(self.unary()?.map(|v| i32::from(v == 0))),
            Some(Token::Op("~")) => Ok(self.unary()?.map(|v| !v)),
            Some(Token::Op("(")) => {
                let v = self.assignment()?;
                match self.next() {
                    Some(Token::Op(")")) => Ok(v),
                    _ => Err(Failure::Error),
                }
            }
            Some(Token::Num(n)) => Ok(Some(n)),
            Some(Token::Name(name)) => self.var(&name),
            _ => Err(Failure::Error),
        }
    }
}

fn apply(op: &str, a: Value, b: Value) -> Result<Value, Failure> {
    let (Some(a), Some(b)) = (a, b) else {
        return Ok(None);
    };
    Ok(Some(match op {
        "+" => a.wrapping_add(b),
        "-" => a.wrapping_sub(b),
        "*" => a.wrapping_mul(b),
        "/" | "%" if b == 0 => return Err(Failure::Error),
        "/" => a.wrapping_div(b),
        "%" => a.wrapping_rem(b),
        // As the x86 shift instructions cmd is compiled to: the count is masked.
        "<<" => a.wrapping_shl(b as u32),
        ">>" => a.wrapping_shr(b as u32),
        "&" => a & b,
        "^" => a ^ b,
        "|" => a | b,
        _ => return Err(Failure::Error),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(expr: &str) -> Result<Vec<(String, Value)>, Failure> {
        evaluate(expr, &|name| match name {
            "low" => Lookup::Known("5001".to_owned()),
            "env" => Lookup::Unknown,
            _ => Lookup::Undefined,
        })
    }

    fn one(expr: &str) -> Value {
        run(expr).unwrap().last().unwrap().1
    }

    #[test]
    fn thirty_two_bit_arithmetic() {
        assert_eq!(one("x=2147483647+1"), Some(i32::MIN));
        assert_eq!(one("x=65536*65536"), Some(0));
        assert_eq!(one("x=0xFFFFFFFF"), Some(-1));
        assert_eq!(one("x=010"), Some(8));
        assert_eq!(run("x=2147483648"), Err(Failure::Error));
        assert_eq!(run("x=08"), Err(Failure::Error));
        assert_eq!(run("x=1/0"), Err(Failure::Error));
        assert_eq!(one("x=low+200"), Some(5201));
        assert_eq!(one("x=(1+2)*3 << 1 | 1"), Some(19));
        assert_eq!(one("x=-7/2"), Some(-3));
        assert_eq!(one("x=-7%%2".replace("%%", "%").as_str()), Some(-1));
        assert_eq!(one("x=env+1"), None);
    }

    #[test]
    fn assignments_chain() {
        let r = run("a=1, b=a+1, a+=10, c=b*=3").unwrap();
        assert_eq!(
            r,
            vec![
                ("a".to_owned(), Some(1)),
                ("b".to_owned(), Some(2)),
                ("a".to_owned(), Some(11)),
                ("b".to_owned(), Some(6)),
                ("c".to_owned(), Some(6)),
            ]
        );
    }
}
