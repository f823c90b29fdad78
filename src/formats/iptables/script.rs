//! Shell scripts that call iptables: a small shell reader (words, quotes, `\`
//! continuations, comments, `;`/`&&`/`||`, heredocs, simple variable assignments and
//! `for` loops) that replays every iptables and ip6tables command in order, and feeds
//! `iptables-restore <<EOF` bodies to the restore-file reader after expansion.

use super::lex::Arg;
use super::rule::{self, Ctx, Mode};
use super::save::SaveParser;
use super::state::{self, Replay};
use super::{Family, Interner, Ruleset, TableKind, Unknown};
use crate::formats::Format;
use crate::formats::backup::Restored;
use crate::source::{SourceFile, Span};
use std::borrow::Cow;
use std::collections::HashMap;
use std::path::Path;

/// A script calling iptables directly, through a variable, or feeding iptables-restore.
pub fn looks_like_script(path: &Path, text: &str) -> bool {
    if !text.contains("iptables") {
        return false;
    }
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase());
    let shell_ext = match ext.as_deref() {
        None => true,
        Some(e) => matches!(
            e,
            "sh" | "bash" | "ksh" | "zsh" | "dash" | "fw" | "firewall" | "init" | "up" | "local"
        ),
    };
    let shebang = text
        .lines()
        .next()
        .is_some_and(|l| l.starts_with("#!") && l.contains("sh"));
    if !shell_ext && !shebang {
        return false;
    }
    let vars: Vec<&str> = text
        .lines()
        .filter_map(|l| {
            let l = l.trim_start();
            let l = l.strip_prefix("export ").unwrap_or(l).trim_start();
            let (name, value) = l.split_once('=')?;
            let ok =
                !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
            (ok && value.contains("iptables")).then_some(name)
        })
        .collect();
    text.lines().any(|l| {
        let mut words = l.split_whitespace();
        let mut first = words.next().unwrap_or("");
        while matches!(
            first,
            "sudo" | "if" | "then" | "do" | "!" | "{" | "exec" | "command"
        ) {
            first = words.next().unwrap_or("");
        }
        is_iptables_program(first).is_some()
            || vars.iter().any(|v| {
                first == format!("${v}")
                    || first == format!("${{{v}}}")
                    || first == format!("\"${v}\"")
            })
    })
}

/// What an iptables program name runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Program {
    Rules(Family),
    Restore(Family),
}

fn is_iptables_program(word: &str) -> Option<Program> {
    let base = word.rsplit('/').next().unwrap_or(word);
    let (family, rest) = if let Some(r) = base.strip_prefix("ip6tables") {
        (Family::V6, r)
    } else if let Some(r) = base.strip_prefix("iptables") {
        (Family::V4, r)
    } else {
        return None;
    };
    let rest = rest
        .strip_prefix("-nft")
        .or(rest.strip_prefix("-legacy"))
        .unwrap_or(rest);
    match rest {
        "" => Some(Program::Rules(family)),
        "-restore" => Some(Program::Restore(family)),
        _ => None,
    }
}

pub fn parse(source: &SourceFile) -> Ruleset {
    let mut rs = Ruleset::new(Format::IptablesScript, Family::V4);
    let commands = lex(&source.text);
    let mut ex = Executor {
        source,
        vars: HashMap::new(),
        replay: Replay::new(Mode::Shell),
        interner: Interner::default(),
        commands: &commands,
        loop_runs: 0,
    };
    ex.run(&mut rs, 0, commands.len(), 0);
    rs
}

/// How a command is joined to the one before it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Conn {
    Seq,
    And,
    Or,
    Pipe,
}

#[derive(Clone, Debug)]
struct Heredoc {
    /// Byte range of the body lines (without the delimiter line).
    start: usize,
    end: usize,
    strip_tabs: bool,
    expand: bool,
}

#[derive(Clone, Debug)]
struct ShellCommand {
    /// Raw words, as byte ranges of the source.
    words: Vec<(usize, usize)>,
    conn: Conn,
    heredoc: Option<Heredoc>,
    /// The word after a `<` redirection (`iptables-restore < /etc/iptables.save`).
    stdin: Option<(usize, usize)>,
}

/// Split a script into simple commands.
fn lex(text: &str) -> Vec<ShellCommand> {
    let b = text.as_bytes();
    let mut out: Vec<ShellCommand> = Vec::new();
    let mut cur = ShellCommand {
        words: Vec::new(),
        conn: Conn::Seq,
        heredoc: None,
        stdin: None,
    };
    let mut pending: Vec<(String, bool, usize)> = Vec::new();
    let mut i = 0;
    let mut next_conn = Conn::Seq;
    let flush =
        |cur: &mut ShellCommand, out: &mut Vec<ShellCommand>, conn: &mut Conn, new: Conn| {
            if !cur.words.is_empty() || cur.heredoc.is_some() {
                let mut done = std::mem::replace(
                    cur,
                    ShellCommand {
                        words: Vec::new(),
                        conn: Conn::Seq,
                        heredoc: None,
                        stdin: None,
                    },
                );
                done.conn = *conn;
                out.push(done);
            }
            *conn = new;
        };
    while i < b.len() {
        match b[i] {
            b' ' | b'\t' | b'\r' => i += 1,
            b'\\' if b.get(i + 1) == Some(&b'\n') => i += 2,
            b'#' => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'\n' => {
                i += 1;
                for (delim, strip, cmd_index) in pending.drain(..) {
                    let (body_start, body_end, next) = heredoc_body(text, i, &delim, strip);
                    let hd = Heredoc {
                        start: body_start,
                        end: body_end,
                        strip_tabs: strip,
                        expand: !delim.contains(['\'', '"', '\\']),
                    };
                    if cmd_index == usize::MAX {
                        cur.heredoc = Some(hd);
                    } else if let Some(c) = out.get_mut(cmd_index) {
                        c.heredoc = Some(hd);
                    }
                    i = next;
                }
                flush(&mut cur, &mut out, &mut next_conn, Conn::Seq);
            }
            b';' | b'&' | b'|' | b'(' | b')' => {
                let two = b.get(i + 1).copied();
                let (conn, len) = match (b[i], two) {
                    (b'&', Some(b'&')) => (Conn::And, 2),
                    (b'|', Some(b'|')) => (Conn::Or, 2),
                    (b'&', Some(b'>')) => {
                        i = redirect(text, i + 2, &mut pending, &mut cur, out.len());
                        continue;
                    }
                    (b';', Some(b';')) => (Conn::Seq, 2),
                    (b'|', _) => (Conn::Pipe, 1),
                    _ => (Conn::Seq, 1),
                };
                i += len;
                flush(&mut cur, &mut out, &mut next_conn, conn);
            }
            b'<' | b'>' => {
                i = redirect(text, i, &mut pending, &mut cur, out.len());
            }
            _ => {
                let end = word_end(b, i);
                // `2>/dev/null`: digits directly before a redirection are its fd.
                if b.get(end).is_some_and(|c| *c == b'<' || *c == b'>')
                    && b[i..end].iter().all(u8::is_ascii_digit)
                {
                    i = redirect(text, end, &mut pending, &mut cur, out.len());
                    continue;
                }
                cur.words.push((i, end));
                i = end;
            }
        }
    }
    flush(&mut cur, &mut out, &mut next_conn, Conn::Seq);
    out
}

/// A redirection at `i` (`>`, `>>`, `<`, `<<EOF`, `<<-EOF`, `>&2` ...): skip it and its
/// target; remember heredoc delimiters.
fn redirect(
    text: &str,
    mut i: usize,
    pending: &mut Vec<(String, bool, usize)>,
    cur: &mut ShellCommand,
    _next_index: usize,
) -> usize {
    let b = text.as_bytes();
    let heredoc = text[i..].starts_with("<<") && !text[i..].starts_with("<<<");
    let strip = text[i..].starts_with("<<-");
    let input =
        text[i..].starts_with('<') && !text[i..].starts_with("<<") && !text[i..].starts_with("<&");
    while i < b.len() && matches!(b[i], b'<' | b'>' | b'&' | b'-' | b'|') {
        i += 1;
    }
    while i < b.len() && matches!(b[i], b' ' | b'\t') {
        i += 1;
    }
    let end = word_end(b, i);
    if heredoc {
        let delim = &text[i..end];
        pending.push((delim.to_owned(), strip, usize::MAX));
    } else if input && end > i {
        cur.stdin = Some((i, end));
    }
    end
}

/// The heredoc body from `start` up to the delimiter line: (body start, body end, after).
fn heredoc_body(text: &str, start: usize, delim: &str, strip: bool) -> (usize, usize, usize) {
    let bare: String = delim
        .chars()
        .filter(|c| !matches!(c, '\'' | '"' | '\\'))
        .collect();
    let mut pos = start;
    while pos < text.len() {
        let end = text[pos..].find('\n').map_or(text.len(), |n| pos + n);
        let line = text[pos..end].trim_end_matches('\r');
        let line = if strip {
            line.trim_start_matches('\t')
        } else {
            line
        };
        if line == bare {
            return (start, pos, (end + 1).min(text.len()));
        }
        pos = end + 1;
    }
    (start, text.len(), text.len())
}

/// End of a shell word starting at `i` (quotes, escapes and `$(...)` kept inside).
fn word_end(b: &[u8], mut i: usize) -> usize {
    while i < b.len() {
        match b[i] {
            b' ' | b'\t' | b'\n' | b'\r' | b';' | b'&' | b'|' | b'<' | b'>' | b'(' | b')' => {
                return i;
            }
            b'\\' => i += 2,
            b'\'' => i = skip_until(b, i + 1, b'\'') + 1,
            b'"' => i = skip_double(b, i + 1) + 1,
            b'`' => i = skip_until(b, i + 1, b'`') + 1,
            b'$' if b.get(i + 1) == Some(&b'(') => i = skip_parens(b, i + 2) + 1,
            b'$' if b.get(i + 1) == Some(&b'{') => i = skip_until(b, i + 2, b'}') + 1,
            _ => i += 1,
        }
    }
    b.len()
}

fn skip_until(b: &[u8], mut i: usize, close: u8) -> usize {
    while i < b.len() && b[i] != close {
        i += 1;
    }
    i.min(b.len())
}

fn skip_double(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && b[i] != b'"' {
        if b[i] == b'\\' {
            i += 1;
        } else if b[i] == b'$' && b.get(i + 1) == Some(&b'(') {
            i = skip_parens(b, i + 2);
        }
        i += 1;
    }
    i.min(b.len())
}

fn skip_parens(b: &[u8], mut i: usize) -> usize {
    let mut depth = 1;
    while i < b.len() {
        match b[i] {
            b'(' => depth += 1,
            b')' => {
                depth -= 1;
                if depth == 0 {
                    return i;
                }
            }
            b'\'' => i = skip_until(b, i + 1, b'\''),
            b'"' => i = skip_double(b, i + 1),
            _ => {}
        }
        i += 1;
    }
    b.len()
}

/// One word after expansion.
#[derive(Clone, Debug)]
struct Expanded {
    text: String,
    span: (usize, usize),
    /// A variable or command substitution this script cannot know.
    unknown: Option<String>,
}

struct Executor<'s, 'c> {
    source: &'s SourceFile,
    vars: HashMap<String, String>,
    replay: Replay,
    interner: Interner,
    commands: &'c [ShellCommand],
    loop_runs: usize,
}

const MAX_LOOP_DEPTH: usize = 8;
/// Loop bodies run at most this many times in all: nested loops cannot blow up.
const MAX_LOOP_RUNS: usize = 100_000;

impl Executor<'_, '_> {
    /// Run commands `from..to`; returns nothing, records into `rs`.
    fn run(&mut self, rs: &mut Ruleset, from: usize, to: usize, depth: usize) {
        let mut i = from;
        let mut last_ok = true;
        while i < to {
            let cmd = &self.commands[i];
            let skip = match cmd.conn {
                Conn::Or => last_ok,
                Conn::And => !last_ok,
                _ => false,
            };
            let words = self.strip_keywords(cmd);
            let first = words.first().map(|&(s, e)| &self.source.text[s..e]);
            if first == Some("for") {
                let done = self.matching_done(i + 1, to);
                if !skip && depth < MAX_LOOP_DEPTH {
                    self.run_for(rs, &words, i + 1, done, depth);
                }
                i = done + 1;
                last_ok = true;
                continue;
            }
            if first == Some("case") {
                i = self.matching(i + 1, to, "case", "esac") + 1;
                continue;
            }
            // `}` / `fi` / `done` alone keep the status of the command before them.
            if skip || words.is_empty() {
                i += 1;
                continue;
            }
            last_ok = self.simple(rs, cmd, &words);
            i += 1;
        }
    }

    /// Words without leading shell keywords (`if`, `then`, `do`, `{`, `!` ...).
    fn strip_keywords(&self, cmd: &ShellCommand) -> Vec<(usize, usize)> {
        let text = &self.source.text;
        let mut words: &[(usize, usize)] = &cmd.words;
        while let Some(&(s, e)) = words.first() {
            if matches!(
                &text[s..e],
                "if" | "then"
                    | "else"
                    | "elif"
                    | "do"
                    | "while"
                    | "until"
                    | "!"
                    | "{"
                    | "}"
                    | "fi"
                    | "done"
                    | "esac"
                    | "time"
                    | "exec"
            ) {
                words = &words[1..];
            } else {
                break;
            }
        }
        words.to_vec()
    }

    fn first_word(&self, i: usize) -> &str {
        self.commands
            .get(i)
            .and_then(|c| c.words.first())
            .map_or("", |&(s, e)| &self.source.text[s..e])
    }

    /// The command index of the `done` closing a loop whose body starts at `from`.
    fn matching_done(&self, from: usize, to: usize) -> usize {
        let mut depth = 1;
        for i in from..to {
            let cmd = &self.commands[i];
            for &(s, e) in &cmd.words {
                match &self.source.text[s..e] {
                    "for" | "while" | "until" | "select" if Some(&(s, e)) == cmd.words.first() => {
                        depth += 1
                    }
                    "done" if Some(&(s, e)) == cmd.words.first() => {
                        depth -= 1;
                        if depth == 0 {
                            return i;
                        }
                    }
                    _ => {}
                }
            }
        }
        to
    }

    fn matching(&self, from: usize, to: usize, open: &str, close: &str) -> usize {
        let mut depth = 1;
        for i in from..to {
            let w = self.first_word(i);
            if w == open {
                depth += 1;
            } else if w == close {
                depth -= 1;
                if depth == 0 {
                    return i;
                }
            }
        }
        to
    }

    /// `for NAME in WORDS; do BODY; done`.
    fn run_for(
        &mut self,
        rs: &mut Ruleset,
        header: &[(usize, usize)],
        body: usize,
        done: usize,
        depth: usize,
    ) {
        let text = &self.source.text;
        let Some(&(ns, ne)) = header.get(1) else {
            return;
        };
        let name = text[ns..ne].to_owned();
        let has_in = header.get(2).is_some_and(|&(s, e)| &text[s..e] == "in");
        if !has_in {
            return;
        }
        let mut values = Vec::new();
        for &w in &header[3..] {
            if &text[w.0..w.1] == "do" {
                break;
            }
            values.extend(self.expand(w).into_iter().map(|x| x.text));
        }
        for v in values {
            if self.loop_runs >= MAX_LOOP_RUNS {
                return;
            }
            self.loop_runs += 1;
            self.vars.insert(name.clone(), v);
            self.run(rs, body, done, depth + 1);
        }
    }

    /// One simple command; returns whether it succeeded.
    fn simple(&mut self, rs: &mut Ruleset, cmd: &ShellCommand, words: &[(usize, usize)]) -> bool {
        if words.is_empty() {
            return true;
        }
        if self.assignments(words) {
            return true;
        }
        let mut expanded: Vec<Expanded> = Vec::new();
        for &w in words {
            expanded.extend(self.expand(w));
        }
        let mut rest: &[Expanded] = &expanded;
        while let Some(first) = rest.first() {
            if matches!(first.text.as_str(), "sudo" | "command" | "nice" | "env") {
                rest = &rest[1..];
            } else {
                break;
            }
        }
        let Some(first) = rest.first() else {
            return true;
        };
        let Some(program) = is_iptables_program(&first.text) else {
            return true;
        };
        let span = self.source.span(words[0].0, words[words.len() - 1].1);
        match program {
            Program::Rules(family) => self.iptables(rs, &rest[1..], span, family),
            Program::Restore(family) => {
                let noflush = rest[1..]
                    .iter()
                    .any(|w| w.text == "-n" || w.text == "--noflush");
                if let Some(hd) = &cmd.heredoc {
                    self.restore(rs, hd, family, noflush);
                } else if let Some(file) = self.restored_file(cmd, &rest[1..]) {
                    rs.restored.push(Restored::new(&file, &self.source.path));
                }
                true
            }
        }
    }

    /// The file `iptables-restore FILE` or `iptables-restore < FILE` loads, when the
    /// script names it (a path built from unknown variables is not followed).
    fn restored_file(&self, cmd: &ShellCommand, args: &[Expanded]) -> Option<String> {
        if let Some(word) = cmd.stdin {
            let expanded = self.expand(word);
            return match expanded.as_slice() {
                [only] if only.unknown.is_none() => Some(only.text.clone()),
                _ => None,
            };
        }
        let mut words = args.iter();
        while let Some(w) = words.next() {
            match w.text.as_str() {
                // Options that take the next word: table and modprobe program.
                "-T" | "--table" | "-M" | "--modprobe" => {
                    words.next();
                }
                t if t.starts_with('-') => {}
                _ => return w.unknown.is_none().then(|| w.text.clone()),
            }
        }
        None
    }

    /// `NAME=value ...` (optionally after export/local/readonly/declare).
    fn assignments(&mut self, words: &[(usize, usize)]) -> bool {
        let text = &self.source.text;
        let mut ws = words;
        if let Some(&(s, e)) = ws.first() {
            if matches!(
                &text[s..e],
                "export" | "local" | "readonly" | "declare" | "typeset"
            ) {
                ws = &ws[1..];
            }
        }
        let is_assign = |&(s, e): &(usize, usize)| {
            text[s..e].split_once('=').is_some_and(|(n, _)| {
                !n.is_empty()
                    && !n.starts_with(|c: char| c.is_ascii_digit())
                    && n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
            })
        };
        if ws.is_empty() || !ws.iter().all(is_assign) {
            return false;
        }
        for &(s, e) in ws {
            let Some(eq) = text[s..e].find('=') else {
                continue;
            };
            let name = text[s..s + eq].to_owned();
            let value = self.expand_joined((s + eq + 1, e));
            match value {
                Some(v) => {
                    self.vars.insert(name, v);
                }
                None => {
                    self.vars.remove(&name);
                }
            }
        }
        true
    }

    /// A word's value without field splitting (assignment values); `None` if unknown.
    fn expand_joined(&self, w: (usize, usize)) -> Option<String> {
        let parts = self.expand(w);
        if parts.iter().any(|p| p.unknown.is_some()) {
            return None;
        }
        Some(
            parts
                .into_iter()
                .map(|p| p.text)
                .collect::<Vec<_>>()
                .join(" "),
        )
    }

    /// Expand one raw word: quotes removed, variables substituted, unquoted
    /// substitutions split on white space.
    fn expand(&self, (start, end): (usize, usize)) -> Vec<Expanded> {
        let raw = &self.source.text[start..end];
        let mut words: Vec<Expanded> = Vec::new();
        let mut cur = String::new();
        let mut unknown: Option<String> = None;
        let mut have = false;
        let b = raw.as_bytes();
        let mut i = 0;
        let push_split = |value: &str,
                          cur: &mut String,
                          words: &mut Vec<Expanded>,
                          have: &mut bool,
                          unknown: &Option<String>| {
            let mut parts = value.split_whitespace().peekable();
            let leading_space = value.starts_with(char::is_whitespace);
            if leading_space && *have {
                words.push(Expanded {
                    text: std::mem::take(cur),
                    span: (start, end),
                    unknown: unknown.clone(),
                });
                *have = false;
            }
            while let Some(p) = parts.next() {
                cur.push_str(p);
                *have = true;
                if parts.peek().is_some() {
                    words.push(Expanded {
                        text: std::mem::take(cur),
                        span: (start, end),
                        unknown: unknown.clone(),
                    });
                    *have = false;
                }
            }
        };
        while i < b.len() {
            match b[i] {
                b'\\' => {
                    if let Some(c) = raw[i + 1..].chars().next() {
                        if c != '\n' {
                            cur.push(c);
                            have = true;
                        }
                        i += 1 + c.len_utf8();
                    } else {
                        i += 1;
                    }
                }
                b'\'' => {
                    let close = raw[i + 1..].find('\'').map_or(raw.len(), |n| i + 1 + n);
                    cur.push_str(&raw[i + 1..close]);
                    have = true;
                    i = close + 1;
                }
                b'"' => {
                    let close = skip_double(b, i + 1);
                    let inner = &raw[i + 1..close.min(raw.len())];
                    let (v, u) = self.expand_quoted(inner);
                    if u.is_some() {
                        unknown = u;
                    }
                    cur.push_str(&v);
                    have = true;
                    i = close + 1;
                }
                b'$' | b'`' => {
                    let (value, len, u) = self.substitution(&raw[i..]);
                    if u.is_some() {
                        unknown = u;
                    }
                    push_split(&value, &mut cur, &mut words, &mut have, &unknown);
                    i += len.max(1);
                }
                _ => {
                    let c = raw[i..].chars().next().unwrap_or(' ');
                    cur.push(c);
                    have = true;
                    i += c.len_utf8();
                }
            }
        }
        if have || words.is_empty() && !raw.is_empty() && !raw.starts_with('$') {
            words.push(Expanded {
                text: cur,
                span: (start, end),
                unknown: unknown.clone(),
            });
        }
        if let Some(u) = &unknown {
            for w in &mut words {
                w.unknown = Some(u.clone());
            }
            if words.is_empty() {
                words.push(Expanded {
                    text: String::new(),
                    span: (start, end),
                    unknown: Some(u.clone()),
                });
            }
        }
        words
    }

    /// The inside of double quotes: substitutions, `\` before `$ \` " \``.
    fn expand_quoted(&self, inner: &str) -> (String, Option<String>) {
        let mut out = String::new();
        let mut unknown = None;
        let mut i = 0;
        let b = inner.as_bytes();
        while i < b.len() {
            match b[i] {
                b'\\' if matches!(b.get(i + 1), Some(b'$' | b'`' | b'"' | b'\\')) => {
                    out.push(b[i + 1] as char);
                    i += 2;
                }
                b'\\' if b.get(i + 1) == Some(&b'\n') => i += 2,
                b'$' | b'`' => {
                    let (v, len, u) = self.substitution(&inner[i..]);
                    if u.is_some() {
                        unknown = u;
                    }
                    out.push_str(&v);
                    i += len.max(1);
                }
                _ => {
                    let c = inner[i..].chars().next().unwrap_or(' ');
                    out.push(c);
                    i += c.len_utf8();
                }
            }
        }
        (out, unknown)
    }

    /// `$NAME`, `${NAME}`, `${NAME:-default}`, `$(which iptables)` ...: (value, bytes
    /// consumed, unknown name).
    fn substitution(&self, s: &str) -> (String, usize, Option<String>) {
        let b = s.as_bytes();
        if b[0] == b'`' {
            let close = s[1..].find('`').map_or(s.len(), |n| n + 1);
            let inner = &s[1..close.min(s.len())];
            let len = (close + 1).min(s.len());
            return match which(inner) {
                Some(p) => (p, len, None),
                None => (String::new(), len, Some(format!("`{inner}`"))),
            };
        }
        match b.get(1) {
            Some(b'(') => {
                let close = skip_parens(b, 2);
                let inner = &s[2..close.min(s.len())];
                let len = (close + 1).min(s.len());
                match which(inner) {
                    Some(p) => (p, len, None),
                    None => (String::new(), len, Some(format!("$({inner})"))),
                }
            }
            Some(b'{') => {
                let close = s[2..].find('}').map_or(s.len(), |n| n + 2);
                let inner = &s[2..close.min(s.len())];
                let len = (close + 1).min(s.len());
                let (name, default) = match inner.find([':', '-', '=']) {
                    Some(p) => {
                        let rest = inner[p..].trim_start_matches(':');
                        let rest = rest.strip_prefix(['-', '=']).unwrap_or(rest);
                        (&inner[..p], Some(rest))
                    }
                    None => (inner, None),
                };
                match (self.vars.get(name), default) {
                    (Some(v), _) => (v.clone(), len, None),
                    (None, Some(d)) => (d.to_owned(), len, None),
                    (None, None) => (String::new(), len, Some(format!("${{{name}}}"))),
                }
            }
            Some(c) if c.is_ascii_alphabetic() || *c == b'_' => {
                let len = 1 + s[1..]
                    .bytes()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == b'_')
                    .count();
                let name = &s[1..len];
                match self.vars.get(name) {
                    Some(v) => (v.clone(), len, None),
                    None => (String::new(), len, Some(format!("${name}"))),
                }
            }
            Some(c) if c.is_ascii_digit() || matches!(c, b'@' | b'*' | b'?' | b'#' | b'$') => {
                (String::new(), 2, Some(format!("${}", *c as char)))
            }
            _ => ("$".into(), 1, None),
        }
    }

    /// One iptables / ip6tables command.
    fn iptables(
        &mut self,
        rs: &mut Ruleset,
        words: &[Expanded],
        span: Span,
        family: Family,
    ) -> bool {
        if let Some(u) = words
            .iter()
            .find_map(|w| w.unknown.clone().map(|n| (n, w.span)))
        {
            let (name, wspan) = u;
            rs.unknowns.push(Unknown {
                span: self.source.span(wspan.0, wspan.1),
                rule: span,
                what: format!("command uses {name}, which this script does not set; it is skipped"),
                ports: crate::portset::PortSet::empty(),
            });
            return true;
        }
        let args: Vec<Arg> = words
            .iter()
            .map(|w| Arg {
                text: Cow::Owned(w.text.clone()),
                start: w.span.0 as u32,
                end: w.span.1 as u32,
            })
            .collect();
        let ctx = Ctx {
            mode: Mode::Shell,
            family,
            table: TableKind::Filter,
            file: self.source.id,
        };
        let before = rs.problems.len();
        match rule::parse(&args, &ctx, span, &mut rs.sets, &mut self.interner) {
            Ok(None) => {}
            Ok(Some(cmd)) => {
                if cmd.cmd == rule::Cmd::Check {
                    return self.check(rs, cmd, family);
                }
                for (s, what) in &cmd.unknowns {
                    rs.unknowns.push(Unknown {
                        span: *s,
                        rule: span,
                        what: what.clone(),
                        ports: rs.ports(cmd.rule.key_in),
                    });
                }
                self.replay.apply(rs, cmd, family);
            }
            Err(e) => rs.problems.push(state::problem(e)),
        }
        rs.problems.len() == before
    }

    /// `iptables -C`: whether the rule exists (used in `-C ... || -I ...`).
    fn check(&mut self, rs: &mut Ruleset, cmd: rule::Command<'_>, family: Family) -> bool {
        let table = Replay::table_mut(rs, cmd.table, family);
        let Some(chain) = cmd.chain.as_ref().and_then(|w| table.chain(&w.text)) else {
            return false;
        };
        chain.rules.iter().any(|r| r.spec == cmd.rule.spec)
    }

    /// `iptables-restore <<EOF`: the body is a restore file after expansion.
    fn restore(&mut self, rs: &mut Ruleset, hd: &Heredoc, family: Family, noflush: bool) {
        let text = &self.source.text;
        let mut parser = SaveParser::new(self.source, family, noflush);
        let mut pos = hd.start;
        let mut line_no = 0;
        while pos < hd.end {
            let end = text[pos..hd.end].find('\n').map_or(hd.end, |n| pos + n);
            let raw = text[pos..end].trim_end_matches('\r');
            let (line, start) = if hd.strip_tabs {
                let t = raw.trim_start_matches('\t');
                (t, pos + (raw.len() - t.len()))
            } else {
                (raw, pos)
            };
            line_no += 1;
            let needs_expansion = hd.expand && line.contains(['$', '`', '\\']);
            if needs_expansion {
                let (expanded, _) = self.expand_quoted(line);
                let span = self.source.span(start, start + line.len());
                parser.line(rs, &expanded, start, line_no, Some(span), &mut Vec::new());
            } else {
                parser.line(rs, line, start, line_no, None, &mut Vec::new());
            }
            pos = end + 1;
        }
        parser.finish(rs, line_no);
    }
}

/// `$(which iptables)`, `$(command -v iptables)`: the program's name.
fn which(inner: &str) -> Option<String> {
    let mut words = inner.split_whitespace();
    let first = words.next()?;
    let name = match first {
        "which" | "type" => words.next()?,
        "command" if words.next() == Some("-v") => words.next()?,
        _ => return None,
    };
    is_iptables_program(name).map(|_| name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::iptables::facts;
    use crate::source::FileId;

    fn run(text: &str) -> (Ruleset, SourceFile) {
        let src = SourceFile::new(FileId(0), "firewall.sh", text.as_bytes());
        (parse(&src), src)
    }

    fn open(text: &str) -> String {
        let (rs, src) = run(text);
        assert!(rs.problems.is_empty(), "{:?}", rs.problems);
        facts(&rs, &src).0.expect("facts").open_to_all.to_string()
    }

    #[test]
    fn replays_commands_in_order() {
        let text = r#"#!/bin/sh
IPT=/sbin/iptables
IPTABLES="iptables -w"
$IPT -F
$IPT -X
$IPT --policy INPUT DROP
${IPTABLES} --new-chain WEB
$IPT --append INPUT -p tcp -m tcp --dport 80 -j WEB
$IPT -A WEB -p tcp --dport 80 -j ACCEPT
$IPT --insert INPUT 1 -p tcp --dport 22 \
    -m comment --comment "ssh from anywhere" -j ACCEPT
$IPT -I INPUT 2 -p tcp --dport 25 -j ACCEPT
$IPT -A INPUT -p tcp --dport 23 -j ACCEPT
$IPT -D INPUT -p tcp --dport 23 -j ACCEPT
$IPT -A INPUT -p tcp --dport 24 -j ACCEPT
$IPT -D INPUT 4
$IPT -A INPUT -p tcp --dport 26 -j ACCEPT
$IPT -R INPUT 4 -p tcp --dport 27 -j ACCEPT
iptables -w 5 -W 100000 -A INPUT -p tcp --dport 28 -j ACCEPT
$IPT -C INPUT -p tcp --dport 28 -j ACCEPT || $IPT -A INPUT -p tcp --dport 28 -j DROP
{ iptables -C INPUT -p tcp --dport 29 -j ACCEPT >/dev/null 2>&1; } || { iptables -I INPUT -p tcp --dport 29 -j ACCEPT; }
ip6tables -A INPUT -p tcp --dport 30 -j ACCEPT
"#;
        assert_eq!(open(text), "22,25,27-29,80");
    }

    #[test]
    fn heredoc_restore_with_expansion() {
        let text = "#!/bin/bash\nPORT=2121\niptables-restore <<EOF\n*filter\n:INPUT DROP [0:0]\n-A INPUT -p tcp --dport $PORT -j ACCEPT\nCOMMIT\nEOF\n";
        assert_eq!(open(text), "2121");
        let quoted = "iptables-restore <<'EOF'\n*filter\n:INPUT DROP [0:0]\n-A INPUT -p tcp --dport 21 -j ACCEPT\nCOMMIT\nEOF\n";
        assert_eq!(open(quoted), "21");
        let tabs = "iptables-restore <<-EOF\n\t*filter\n\t:INPUT DROP [0:0]\n\t-A INPUT -p tcp --dport 21 -j ACCEPT\n\tCOMMIT\n\tEOF\n";
        assert_eq!(open(tabs), "21");
    }

    #[test]
    fn for_loops_expand_their_body() {
        let text = "for p in 20 21 9981; do\n  iptables -A INPUT -p tcp --dport $p -j ACCEPT\ndone\niptables -P INPUT DROP\n";
        assert_eq!(open(text), "20-21,9981");
        let one_line = "iptables -P INPUT DROP; for p in 22 80; do iptables -A INPUT -p tcp --dport $p -j ACCEPT; done\n";
        assert_eq!(open(one_line), "22,80");
    }

    #[test]
    fn errors_of_single_commands() {
        let (rs, _) = run(
            "iptables -A NOPE -j ACCEPT\niptables -A INPUT -j NOPE\niptables -P INPUT REJECT\niptables -A INPUT -p tcp --dport 70000 -j ACCEPT\n",
        );
        let msgs: Vec<&str> = rs.problems.iter().map(|p| p.message.as_str()).collect();
        assert_eq!(
            msgs,
            [
                "No chain/target/match by that name.",
                "Chain 'NOPE' does not exist",
                "Bad policy name.",
                "invalid port/service `70000' specified"
            ]
        );
    }

    #[test]
    fn unknown_variables_skip_the_command() {
        let (rs, _) = run("iptables -A INPUT -p tcp --dport $SSH_PORT -j ACCEPT\n");
        assert!(rs.problems.is_empty());
        assert_eq!(rs.unknowns.len(), 1);
        assert!(rs.unknowns[0].what.contains("$SSH_PORT"));
    }

    #[test]
    fn ip6tables_only_scripts_have_ipv6_facts_only() {
        let (rs, src) =
            run("ip6tables -P INPUT DROP\nip6tables -A INPUT -p tcp --dport 22 -j ACCEPT\n");
        let (ipv4, ipv6) = facts(&rs, &src);
        assert!(ipv4.is_none());
        assert_eq!(ipv6.expect("IPv6 facts").open_to_all.to_string(), "22");
    }

    #[test]
    fn records_the_files_a_script_restores() {
        let (rs, _) = run(
            "#!/bin/sh\n/sbin/iptables-restore < /etc/iptables.save\nip6tables-restore -n /etc/iptables/rules.v6 2>/dev/null\niptables-restore -T filter ./saved.rules\nRULES=/etc/fw.rules\niptables-restore < \"$RULES\"\niptables-restore < $UNSET\niptables-restore <<EOF\n*filter\nCOMMIT\nEOF\n",
        );
        assert_eq!(
            rs.restored,
            [
                Restored::OnHost("/etc/iptables.save".into()),
                Restored::OnHost("/etc/iptables/rules.v6".into()),
                Restored::Beside("saved.rules".into()),
                Restored::OnHost("/etc/fw.rules".into()),
            ]
        );
    }

    #[test]
    fn sniffs_scripts() {
        let p = Path::new("firewall.sh");
        assert!(looks_like_script(
            p,
            "#!/bin/sh\niptables -A INPUT -j ACCEPT\n"
        ));
        assert!(looks_like_script(
            Path::new("rc.firewall"),
            "IPT=/sbin/iptables\n$IPT -F\n"
        ));
        assert!(looks_like_script(
            p,
            "iptables-restore <<EOF\n*filter\nCOMMIT\nEOF\n"
        ));
        assert!(!looks_like_script(
            Path::new("README.md"),
            "iptables -A INPUT -j ACCEPT\n"
        ));
        assert!(!looks_like_script(p, "echo hello\n"));
    }
}
