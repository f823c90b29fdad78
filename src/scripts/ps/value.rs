//! PowerShell values and the operators on them, as far as a script's values
//! are known: integers, strings, booleans, arrays, hashtables.

use super::ast::{Block, CmpOp};
use crate::scripts::UNKNOWN;
use std::rc::Rc;

#[derive(Clone, Debug, PartialEq)]
pub enum Val {
    Null,
    Bool(bool),
    Int(i64),
    Str(Rc<str>),
    Arr(Rc<Vec<Val>>),
    Hash(Rc<Vec<(String, Val)>>),
    Block(BlockRef),
    Unknown,
}

/// A script block as a value; two are equal when they are the same block.
#[derive(Clone, Debug)]
pub struct BlockRef(pub Rc<Block>);

impl PartialEq for BlockRef {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

/// Why an operation has no value: PowerShell stops the statement, or the value is not known here.
#[derive(Debug, PartialEq)]
pub enum Fail {
    Error(String),
    Unknown,
}

pub type Res = Result<Val, Fail>;

impl Val {
    pub fn str(s: impl Into<Rc<str>>) -> Val {
        Val::Str(s.into())
    }

    pub fn arr(items: Vec<Val>) -> Val {
        Val::Arr(Rc::new(items))
    }

    pub fn is_known(&self) -> bool {
        match self {
            Val::Unknown => false,
            Val::Str(s) => !s.contains(UNKNOWN),
            Val::Arr(items) => items.iter().all(Val::is_known),
            _ => true,
        }
    }

    /// The string PowerShell makes of the value (`"$v"`).
    pub fn text(&self) -> String {
        match self {
            Val::Null => String::new(),
            Val::Bool(true) => "True".to_owned(),
            Val::Bool(false) => "False".to_owned(),
            Val::Int(n) => n.to_string(),
            Val::Str(s) => s.to_string(),
            Val::Arr(items) => items.iter().map(Val::text).collect::<Vec<_>>().join(" "),
            Val::Hash(_) => "System.Collections.Hashtable".to_owned(),
            Val::Block(_) => String::new(),
            Val::Unknown => UNKNOWN.to_string(),
        }
    }

    /// The length of [`Val::text`], without building it.
    pub fn text_len(&self) -> usize {
        match self {
            Val::Str(s) => s.len(),
            Val::Arr(items) => items.iter().map(Val::text_len).sum::<usize>() + items.len(),
            Val::Int(_) => 20,
            _ => 32,
        }
    }

    /// The elements a loop or pipeline goes through.
    pub fn items(&self) -> Vec<Val> {
        match self {
            Val::Null => Vec::new(),
            Val::Arr(items) => items.as_ref().clone(),
            other => vec![other.clone()],
        }
    }

    pub fn len(&self) -> usize {
        match self {
            Val::Null => 0,
            Val::Arr(items) => items.len(),
            _ => 1,
        }
    }

    /// `if ($v)`: `None` when not known.
    pub fn truth(&self) -> Option<bool> {
        match self {
            Val::Null => Some(false),
            Val::Bool(b) => Some(*b),
            Val::Int(n) => Some(*n != 0),
            Val::Str(s) if s.contains(UNKNOWN) => None,
            Val::Str(s) => Some(!s.is_empty()),
            Val::Arr(items) => match items.as_slice() {
                [] => Some(false),
                [one] => one.truth(),
                _ => Some(true),
            },
            Val::Hash(_) | Val::Block(_) => Some(true),
            Val::Unknown => None,
        }
    }

    /// The value as an integer, as PowerShell converts it (`"21"` is 21).
    pub fn int(&self) -> Result<i64, Fail> {
        match self {
            Val::Int(n) => Ok(*n),
            Val::Bool(b) => Ok(i64::from(*b)),
            Val::Null => Ok(0),
            Val::Str(s) if s.contains(UNKNOWN) => Err(Fail::Unknown),
            Val::Str(s) => {
                let t = s.trim();
                if t.is_empty() {
                    return Ok(0);
                }
                match super::parse::number(t.strip_prefix('+').unwrap_or(t)) {
                    Some(Some(n)) => Ok(n),
                    Some(None) => Err(Fail::Unknown),
                    None => match t.strip_prefix('-').map(super::parse::number) {
                        Some(Some(Some(n))) => Ok(-n),
                        _ => Err(Fail::Error(format!("cannot convert \"{t}\" to a number"))),
                    },
                }
            }
            Val::Arr(items) if items.len() == 1 => items[0].int(),
            Val::Unknown => Err(Fail::Unknown),
            _ => Err(Fail::Error(
                "cannot convert the value to a number".to_owned(),
            )),
        }
    }
}

/// `a + b`.
pub fn add(a: &Val, b: &Val) -> Res {
    match (a, b) {
        (Val::Unknown, _) | (_, Val::Unknown) => Err(Fail::Unknown),
        (Val::Null, b) => Ok(b.clone()),
        (Val::Int(x), b) => {
            let y = b.int()?;
            x.checked_add(y).map(Val::Int).ok_or(Fail::Unknown)
        }
        (Val::Str(s), b) => Ok(Val::str(format!("{s}{}", b.text()))),
        (Val::Arr(x), b) => {
            let mut items = x.as_ref().clone();
            match b {
                Val::Arr(y) => items.extend(y.iter().cloned()),
                other => items.push(other.clone()),
            }
            Ok(Val::arr(items))
        }
        (Val::Hash(x), Val::Hash(y)) => {
            let mut entries = x.as_ref().clone();
            for (k, v) in y.iter() {
                if entries.iter().any(|(e, _)| e.eq_ignore_ascii_case(k)) {
                    return Err(Fail::Error(format!(
                        "the key {k} is already in the hashtable"
                    )));
                }
                entries.push((k.clone(), v.clone()));
            }
            Ok(Val::Hash(Rc::new(entries)))
        }
        _ => Err(Fail::Error("the values cannot be added".to_owned())),
    }
}

/// `a - b`, `a * b`, `a / b`, `a % b` on integers; `*` also repeats strings and arrays
/// (the caller bounds the size first).
pub fn arith(op: char, a: &Val, b: &Val) -> Res {
    if matches!(a, Val::Unknown) || matches!(b, Val::Unknown) {
        return Err(Fail::Unknown);
    }
    if op == '*' {
        let times = || usize::try_from(b.int().unwrap_or(0)).unwrap_or(0);
        match a {
            Val::Str(s) => return Ok(Val::str(s.repeat(times()))),
            Val::Arr(items) => {
                let n = times();
                let mut out = Vec::with_capacity(items.len().saturating_mul(n).min(1 << 16));
                for _ in 0..n {
                    out.extend(items.iter().cloned());
                }
                return Ok(Val::arr(out));
            }
            _ => {}
        }
    }
    let (x, y) = (a.int()?, b.int()?);
    let r = match op {
        '-' => x.checked_sub(y),
        '*' => x.checked_mul(y),
        '/' if y == 0 => return Err(Fail::Error("attempted to divide by zero".to_owned())),
        '/' if x % y != 0 => return Err(Fail::Unknown),
        '/' => x.checked_div(y),
        '%' if y == 0 => return Err(Fail::Error("attempted to divide by zero".to_owned())),
        _ => x.checked_rem(y),
    };
    r.map(Val::Int).ok_or(Fail::Unknown)
}

/// The size `a * b` would have, to check before building it.
pub fn repeat_len(a: &Val, b: &Val) -> usize {
    let n = usize::try_from(b.int().unwrap_or(0)).unwrap_or(0);
    match a {
        Val::Str(s) => s.len().saturating_mul(n),
        Val::Arr(items) => items.len().saturating_mul(n),
        _ => 0,
    }
}

/// A comparison; an array on the left filters it (`1,2,3 -gt 1` is `2,3`).
pub fn compare(op: CmpOp, case: bool, a: &Val, b: &Val) -> Res {
    match op {
        CmpOp::Contains | CmpOp::NotContains => {
            let found = contains(case, a, b)?;
            return Ok(Val::Bool(found == (op == CmpOp::Contains)));
        }
        CmpOp::In | CmpOp::NotIn => {
            let found = contains(case, b, a)?;
            return Ok(Val::Bool(found == (op == CmpOp::In)));
        }
        _ => {}
    }
    if let Val::Arr(items) = a {
        let mut out = Vec::new();
        for item in items.iter() {
            if scalar(op, case, item, b)? {
                out.push(item.clone());
            }
        }
        return Ok(Val::arr(out));
    }
    Ok(Val::Bool(scalar(op, case, a, b)?))
}

fn contains(case: bool, list: &Val, item: &Val) -> Result<bool, Fail> {
    let mut unknown = false;
    for x in list.items() {
        match scalar(CmpOp::Eq, case, &x, item) {
            Ok(true) => return Ok(true),
            Ok(false) => {}
            Err(_) => unknown = true,
        }
    }
    if unknown {
        Err(Fail::Unknown)
    } else {
        Ok(false)
    }
}

fn scalar(op: CmpOp, case: bool, a: &Val, b: &Val) -> Result<bool, Fail> {
    if !a.is_known() || !b.is_known() {
        return Err(Fail::Unknown);
    }
    let negate = matches!(op, CmpOp::Ne | CmpOp::NotLike | CmpOp::NotMatch);
    let r = match op {
        CmpOp::Like | CmpOp::NotLike => wildcard(&fold(&b.text(), case), &fold(&a.text(), case)),
        CmpOp::Match | CmpOp::NotMatch => {
            let pattern = if case {
                b.text()
            } else {
                format!("(?i){}", b.text())
            };
            let re = regex::Regex::new(&pattern)
                .map_err(|_| Fail::Error("invalid regular expression".to_owned()))?;
            re.is_match(&a.text())
        }
        _ => {
            let ord = order(case, a, b);
            match op {
                CmpOp::Eq | CmpOp::Ne => ord == Some(std::cmp::Ordering::Equal),
                CmpOp::Lt => ord.or_fail()? == std::cmp::Ordering::Less,
                CmpOp::Le => ord.or_fail()? != std::cmp::Ordering::Greater,
                CmpOp::Gt => ord.or_fail()? == std::cmp::Ordering::Greater,
                _ => ord.or_fail()? != std::cmp::Ordering::Less,
            }
        }
    };
    Ok(r != negate)
}

trait OrFail<T> {
    fn or_fail(self) -> Result<T, Fail>;
}

impl<T> OrFail<T> for Option<T> {
    fn or_fail(self) -> Result<T, Fail> {
        self.ok_or(Fail::Unknown)
    }
}

/// The right side is converted to the left side's type, as PowerShell compares.
fn order(case: bool, a: &Val, b: &Val) -> Option<std::cmp::Ordering> {
    match (a, b) {
        (Val::Null, Val::Null) => Some(std::cmp::Ordering::Equal),
        (Val::Null, _) | (_, Val::Null) => None,
        (Val::Int(x), b) => b.int().ok().map(|y| x.cmp(&y)),
        (Val::Bool(x), b) => b.truth().map(|y| x.cmp(&y)),
        (a, b) => Some(fold(&a.text(), case).cmp(&fold(&b.text(), case))),
    }
}

fn fold(s: &str, case: bool) -> String {
    if case { s.to_owned() } else { s.to_lowercase() }
}

/// PowerShell wildcards: `*`, `?`, `[abc]`.
pub fn wildcard(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    // Iterative matching with one backtrack point per `*` (linear in practice).
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match p.get(pi) {
            Some('*') => {
                star = Some((pi, ti));
                pi += 1;
                continue;
            }
            Some('?') => {
                pi += 1;
                ti += 1;
                continue;
            }
            Some('[') => {
                if let Some(close) = p[pi..].iter().position(|c| *c == ']') {
                    let set = &p[pi + 1..pi + close];
                    if class_matches(set, t[ti]) {
                        pi += close + 1;
                        ti += 1;
                        continue;
                    }
                } else if t[ti] == '[' {
                    pi += 1;
                    ti += 1;
                    continue;
                }
            }
            Some(c) if *c == t[ti] => {
                pi += 1;
                ti += 1;
                continue;
            }
            _ => {}
        }
        match star {
            Some((sp, st)) => {
                pi = sp + 1;
                ti = st + 1;
                star = Some((sp, st + 1));
            }
            None => return false,
        }
    }
    p[pi.min(p.len())..].iter().all(|c| *c == '*')
}

fn class_matches(set: &[char], c: char) -> bool {
    let mut i = 0;
    while i < set.len() {
        if set.get(i + 1) == Some(&'-') && i + 2 < set.len() {
            if set[i] <= c && c <= set[i + 2] {
                return true;
            }
            i += 3;
        } else {
            if set[i] == c {
                return true;
            }
            i += 1;
        }
    }
    false
}

/// `"{0}-{1}" -f $a, $b` (`{n}`, `{n:format}`, `{{`/`}}`).
pub fn format(template: &str, args: &[Val]) -> Res {
    let mut out = String::new();
    let mut chars = template.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                out.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                out.push('}');
            }
            '{' => {
                let mut inner = String::new();
                for n in chars.by_ref() {
                    if n == '}' {
                        break;
                    }
                    inner.push(n);
                }
                let index = inner.split([':', ',']).next().unwrap_or("").trim();
                let Ok(k) = index.parse::<usize>() else {
                    return Err(Fail::Error(
                        "input string was not in a correct format".to_owned(),
                    ));
                };
                if inner.contains(':') {
                    return Err(Fail::Unknown);
                }
                match args.get(k) {
                    Some(v) => out.push_str(&v.text()),
                    None => {
                        return Err(Fail::Error(
                            "index (zero based) must be less than the size of the argument list"
                                .to_owned(),
                        ));
                    }
                }
            }
            other => out.push(other),
        }
    }
    Ok(Val::str(out))
}

/// `a -replace pattern, replacement` (case-insensitive unless `-creplace`).
pub fn replace(case: bool, a: &Val, b: &Val) -> Res {
    let items = b.items();
    let pattern = items.first().map(Val::text).unwrap_or_default();
    let with = items.get(1).map(Val::text).unwrap_or_default();
    let pattern = if case {
        pattern
    } else {
        format!("(?i){pattern}")
    };
    let re = regex::Regex::new(&pattern)
        .map_err(|_| Fail::Error("invalid regular expression".to_owned()))?;
    let one = |v: &Val| Val::str(re.replace_all(&v.text(), with.as_str()).into_owned());
    Ok(match a {
        Val::Arr(xs) => Val::arr(xs.iter().map(one).collect()),
        other => one(other),
    })
}

pub fn split(a: &Val, b: &Val) -> Res {
    let re = regex::Regex::new(&format!("(?i){}", b.text()))
        .map_err(|_| Fail::Error("invalid regular expression".to_owned()))?;
    Ok(Val::arr(re.split(&a.text()).map(Val::str).collect()))
}

/// `[int]$x`, `[string]$x`, `[int[]]…`: the conversions a script's values need.
pub fn cast(ty: &str, v: Val) -> Res {
    let ty = ty.trim_start_matches("system.");
    match ty {
        "int" | "int32" | "int64" | "long" | "uint16" | "uint32" | "byte" | "int16" => {
            let n = v.int()?;
            let fits = match ty {
                "int" | "int32" => i32::try_from(n).is_ok(),
                "uint16" => u16::try_from(n).is_ok(),
                "uint32" => u32::try_from(n).is_ok(),
                "byte" => u8::try_from(n).is_ok(),
                "int16" => i16::try_from(n).is_ok(),
                _ => true,
            };
            if fits {
                Ok(Val::Int(n))
            } else {
                Err(Fail::Error(format!(
                    "cannot convert value \"{n}\" to type [{ty}]"
                )))
            }
        }
        "string" => Ok(Val::str(v.text())),
        "bool" | "boolean" => v.truth().map(Val::Bool).or_fail(),
        "void" => Ok(Val::Null),
        t if t.ends_with("[]") || t == "array" => Ok(match v {
            Val::Arr(_) => v,
            Val::Null => Val::arr(Vec::new()),
            other => Val::arr(vec![other]),
        }),
        _ => Ok(v),
    }
}
