//! Compose's variable interpolation: `$VAR`, `${VAR}`, `${VAR:-default}`,
//! `${VAR-default}`, `${VAR:+alt}`, `${VAR+alt}`, `${VAR:?err}`, `$$`, with the
//! variables of the `.env` file beside the compose file. The shell environment of
//! whoever runs `docker compose` is not known here, so a variable that `.env` does
//! not set and that has no default makes the value unknown.

use std::collections::BTreeMap;

pub type Vars = BTreeMap<String, String>;

/// The variables of a `.env` file (`KEY=VALUE`, `export KEY=VALUE`, `#` comments,
/// single or double quotes).
pub fn read_dotenv(text: &str) -> Vars {
    let mut vars = Vars::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        vars.insert(key.trim().to_owned(), unquote(value.trim()));
    }
    vars
}

fn unquote(value: &str) -> String {
    for q in ['"', '\''] {
        if let Some(inner) = value.strip_prefix(q).and_then(|v| v.strip_suffix(q)) {
            return inner.to_owned();
        }
    }
    // An unquoted value ends at ` #` (an inline comment).
    match value.find(" #") {
        Some(i) => value[..i].trim_end().to_owned(),
        None => value.to_owned(),
    }
}

/// `text` with every variable replaced; `None` when it depends on a variable
/// that is not known here.
pub fn interpolate(text: &str, vars: &Vars) -> Option<String> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some(body) = after.strip_prefix('{') {
            let end = closing_brace(body)?;
            out.push_str(&expand(&body[..end], vars)?);
            rest = &body[end + 1..];
        } else {
            let len = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            if len == 0 {
                out.push('$');
            } else {
                out.push_str(vars.get(&after[..len])?);
            }
            rest = &after[len..];
        }
    }
    out.push_str(rest);
    Some(out)
}

/// The `}` that closes a `${`, past nested `${...}` in a default.
fn closing_brace(body: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (i, c) in body.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => return Some(i),
            '}' => depth -= 1,
            _ => {}
        }
    }
    None
}

fn expand(body: &str, vars: &Vars) -> Option<String> {
    let name_len = body
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(body.len());
    let (name, op) = body.split_at(name_len);
    let value = vars.get(name);
    let set_nonempty = value.is_some_and(|v| !v.is_empty());
    let word = |w: &str| interpolate(w, vars);
    match op {
        "" => value.cloned(),
        _ if op.starts_with(":-") => {
            if set_nonempty {
                value.cloned()
            } else {
                word(&op[2..])
            }
        }
        _ if op.starts_with('-') => value.cloned().or_else(|| word(&op[1..])),
        _ if op.starts_with(":+") => {
            if set_nonempty {
                word(&op[2..])
            } else {
                Some(String::new())
            }
        }
        _ if op.starts_with('+') => match value {
            Some(_) => word(&op[1..]),
            None => Some(String::new()),
        },
        // `:?` / `?`: compose stops with the error when unset; set, it is the value.
        _ if op.starts_with(":?") || op.starts_with('?') => value.cloned(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars() -> Vars {
        read_dotenv("# c\nMIN=21100\nexport ADDR=\"198.18.0.10\"\nEMPTY=\n")
    }

    #[test]
    fn forms_of_a_reference() {
        let v = vars();
        assert_eq!(interpolate("${MIN}", &v).as_deref(), Some("21100"));
        assert_eq!(interpolate("$MIN-x", &v).as_deref(), Some("21100-x"));
        assert_eq!(interpolate("${ADDR}", &v).as_deref(), Some("198.18.0.10"));
        assert_eq!(interpolate("${NOPE:-21110}", &v).as_deref(), Some("21110"));
        assert_eq!(interpolate("${EMPTY:-5}", &v).as_deref(), Some("5"));
        assert_eq!(interpolate("${EMPTY-5}", &v).as_deref(), Some(""));
        assert_eq!(interpolate("${NOPE-${MIN}}", &v).as_deref(), Some("21100"));
        assert_eq!(interpolate("$$MIN", &v).as_deref(), Some("$MIN"));
        assert_eq!(interpolate("${NOPE}", &v), None);
        assert_eq!(interpolate("${MIN:+on}", &v).as_deref(), Some("on"));
    }
}
