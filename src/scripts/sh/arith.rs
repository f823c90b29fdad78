//! `$((…))`, `((…))` and `for ((…))`: bash's integer arithmetic (64-bit,
//! wrapping), C precedence, variables read and assigned.

/// The variables an expression reads and writes; `None` is a value the script
/// cannot know.
pub trait Env {
    fn get(&mut self, name: &str) -> Option<i64>;
    fn set(&mut self, name: &str, value: i64);
}

/// The value of `expr`, or `None` when it reads something unknown, divides by
/// zero or is not an expression bash accepts.
pub fn eval(expr: &str, env: &mut dyn Env) -> Option<i64> {
    let tokens = tokenize(expr)?;
    if tokens.is_empty() {
        return Some(0);
    }
    let mut p = P {
        t: &tokens,
        i: 0,
        env,
        depth: 0,
    };
    let v = p.comma()?;
    (p.i == tokens.len()).then_some(v)
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Num(i64),
    Name(String),
    Op(&'static str),
}

const OPS: &[&str] = &[
    "<<=", ">>=", "**", "++", "--", "<<", ">>", "<=", ">=", "==", "!=", "&&", "||", "+=", "-=",
    "*=", "/=", "%=", "&=", "|=", "^=", "+", "-", "*", "/", "%", "<", ">", "=", "!", "~", "&", "|",
    "^", "?", ":", "(", ")", ",",
];

fn tokenize(s: &str) -> Option<Vec<Tok>> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        if c == b'$' {
            // `$x` and `${x}` read like `x`.
            i += 1;
            if b.get(i) == Some(&b'{') {
                let close = s[i..].find('}').map(|n| i + n)?;
                out.push(Tok::Name(s[i + 1..close].to_owned()));
                i = close + 1;
            }
            continue;
        }
        if c.is_ascii_digit() {
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'#') {
                i += 1;
            }
            out.push(Tok::Num(number(&s[start..i])?));
            continue;
        }
        if c.is_ascii_alphabetic() || c == b'_' {
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            out.push(Tok::Name(s[start..i].to_owned()));
            continue;
        }
        let op = OPS.iter().find(|op| s[i..].starts_with(**op))?;
        out.push(Tok::Op(op));
        i += op.len();
    }
    Some(out)
}

/// `10`, `0x1f`, `017`, `2#101`.
fn number(s: &str) -> Option<i64> {
    if let Some((base, digits)) = s.split_once('#') {
        let base: u32 = base.parse().ok()?;
        if !(2..=36).contains(&base) {
            return None;
        }
        return u64::from_str_radix(digits, base).ok().map(|v| v as i64);
    }
    if let Some(hex) = s.strip_prefix("0x").or(s.strip_prefix("0X")) {
        return u64::from_str_radix(hex, 16).ok().map(|v| v as i64);
    }
    if s.len() > 1 && s.starts_with('0') {
        return u64::from_str_radix(&s[1..], 8).ok().map(|v| v as i64);
    }
    s.parse::<u64>().ok().map(|v| v as i64)
}

struct P<'t, 'e> {
    t: &'t [Tok],
    i: usize,
    env: &'e mut dyn Env,
    depth: usize,
}

const MAX_DEPTH: usize = 100;

fn binary_prec(op: &str) -> Option<u8> {
    Some(match op {
        "||" => 1,
        "&&" => 2,
        "|" => 3,
        "^" => 4,
        "&" => 5,
        "==" | "!=" => 6,
        "<" | ">" | "<=" | ">=" => 7,
        "<<" | ">>" => 8,
        "+" | "-" => 9,
        "*" | "/" | "%" => 10,
        "**" => 11,
        _ => return None,
    })
}

fn apply(op: &str, a: i64, b: i64) -> Option<i64> {
    Some(match op {
        "||" => (a != 0 || b != 0) as i64,
        "&&" => (a != 0 && b != 0) as i64,
        "|" => a | b,
        "^" => a ^ b,
        "&" => a & b,
        "==" => (a == b) as i64,
        "!=" => (a != b) as i64,
        "<" => (a < b) as i64,
        ">" => (a > b) as i64,
        "<=" => (a <= b) as i64,
        ">=" => (a >= b) as i64,
        "<<" => a.wrapping_shl(b as u32),
        ">>" => a.wrapping_shr(b as u32),
        "+" => a.wrapping_add(b),
        "-" => a.wrapping_sub(b),
        "*" => a.wrapping_mul(b),
        "/" if b == 0 => return None,
        "/" => a.wrapping_div(b),
        "%" if b == 0 => return None,
        "%" => a.wrapping_rem(b),
        "**" if b < 0 => return None,
        "**" => a.wrapping_pow(b.min(u32::MAX as i64) as u32),
        _ => return None,
    })
}

impl P<'_, '_> {
    fn peek(&self) -> Option<&Tok> {
        self.t.get(self.i)
    }

    fn eat(&mut self, op: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Op(o)) if *o == op) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn comma(&mut self) -> Option<i64> {
        let mut v = self.assign()?;
        while self.eat(",") {
            v = self.assign()?;
        }
        Some(v)
    }

    fn assign(&mut self) -> Option<i64> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return None;
        }
        let r = self.assign_inner();
        self.depth -= 1;
        r
    }

    fn assign_inner(&mut self) -> Option<i64> {
        if let (Some(Tok::Name(name)), Some(Tok::Op(op))) =
            (self.t.get(self.i), self.t.get(self.i + 1))
        {
            let compound = match *op {
                "=" => Some(""),
                "+=" => Some("+"),
                "-=" => Some("-"),
                "*=" => Some("*"),
                "/=" => Some("/"),
                "%=" => Some("%"),
                "<<=" => Some("<<"),
                ">>=" => Some(">>"),
                "&=" => Some("&"),
                "|=" => Some("|"),
                "^=" => Some("^"),
                _ => None,
            };
            if let Some(base) = compound {
                let name = name.clone();
                self.i += 2;
                let rhs = self.assign()?;
                let v = if base.is_empty() {
                    rhs
                } else {
                    apply(base, self.env.get(&name)?, rhs)?
                };
                self.env.set(&name, v);
                return Some(v);
            }
        }
        self.ternary()
    }

    fn ternary(&mut self) -> Option<i64> {
        let c = self.binary(1)?;
        if self.eat("?") {
            let a = self.assign()?;
            if !self.eat(":") {
                return None;
            }
            let b = self.assign()?;
            return Some(if c != 0 { a } else { b });
        }
        Some(c)
    }

    fn binary(&mut self, min: u8) -> Option<i64> {
        let mut lhs = self.unary()?;
        while let Some(Tok::Op(op)) = self.peek() {
            let op = *op;
            let Some(prec) = binary_prec(op) else { break };
            if prec < min {
                break;
            }
            self.i += 1;
            let next = if op == "**" { prec } else { prec + 1 };
            let rhs = self.binary(next)?;
            lhs = apply(op, lhs, rhs)?;
        }
        Some(lhs)
    }

    fn unary(&mut self) -> Option<i64> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return None;
        }
        let r = self.unary_inner();
        self.depth -= 1;
        r
    }

    fn unary_inner(&mut self) -> Option<i64> {
        for (op, f) in [
            ("-", (|v: i64| v.wrapping_neg()) as fn(i64) -> i64),
            ("+", |v| v),
            ("!", |v| (v == 0) as i64),
            ("~", |v| !v),
        ] {
            if self.eat(op) {
                return self.unary().map(f);
            }
        }
        for (op, d) in [("++", 1i64), ("--", -1)] {
            if self.eat(op) {
                let Some(Tok::Name(n)) = self.peek().cloned() else {
                    return None;
                };
                self.i += 1;
                let v = self.env.get(&n)?.wrapping_add(d);
                self.env.set(&n, v);
                return Some(v);
            }
        }
        self.postfix()
    }

    fn postfix(&mut self) -> Option<i64> {
        match self.peek().cloned()? {
            Tok::Num(n) => {
                self.i += 1;
                Some(n)
            }
            Tok::Name(n) => {
                self.i += 1;
                for (op, d) in [("++", 1i64), ("--", -1)] {
                    if self.eat(op) {
                        let v = self.env.get(&n)?;
                        self.env.set(&n, v.wrapping_add(d));
                        return Some(v);
                    }
                }
                self.env.get(&n)
            }
            Tok::Op("(") => {
                self.i += 1;
                let v = self.comma()?;
                self.eat(")").then_some(v)
            }
            Tok::Op(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    struct Vars(HashMap<String, i64>);
    impl Env for Vars {
        fn get(&mut self, name: &str) -> Option<i64> {
            self.0.get(name).copied()
        }
        fn set(&mut self, name: &str, value: i64) {
            self.0.insert(name.to_owned(), value);
        }
    }

    #[test]
    fn evaluates_like_bash() {
        let mut v = Vars(HashMap::from([("i".to_owned(), 5)]));
        assert_eq!(eval("1 + 2 * 3", &mut v), Some(7));
        assert_eq!(eval("(1 + 2) * 3", &mut v), Some(9));
        assert_eq!(eval("i++", &mut v), Some(5));
        assert_eq!(eval("$i", &mut v), Some(6));
        assert_eq!(eval("i < 10 && i >= 6", &mut v), Some(1));
        assert_eq!(eval("-7 / 2", &mut v), Some(-3));
        assert_eq!(eval("-7 % 2", &mut v), Some(-1));
        assert_eq!(eval("2 ** 3 ** 2", &mut v), Some(512));
        assert_eq!(eval("9223372036854775807 + 1", &mut v), Some(i64::MIN));
        assert_eq!(eval("0x10 + 010 + 2#11", &mut v), Some(27));
        assert_eq!(eval("1 / 0", &mut v), None);
        assert_eq!(eval("unset + 1", &mut v), None);
        assert_eq!(eval("x = 3, x * 2", &mut v), Some(6));
        assert_eq!(eval("i > 3 ? 40000 : 50000", &mut v), Some(40000));
    }
}
