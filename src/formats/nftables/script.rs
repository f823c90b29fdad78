//! `nft` commands a shell script runs. nft joins its arguments with spaces and
//! reads them as one ruleset text (`nft -f -` reads its standard input); each
//! run is one transaction on the ruleset the script has built so far: a
//! command nft rejects changes nothing, and `-c` only checks.

use super::lex::{self, Kind, Token};
use super::model::{Chain, File, Item, Problem, Rule, Table, Verdict};
use super::parse;
use crate::scripts::{Command, Input, Text, Word};
use crate::source::{SourceFile, Span};
use std::collections::HashSet;

/// The ruleset a script's `nft` commands build.
#[derive(Debug, Default)]
pub struct Nft {
    pub file: File,
    /// Some `nft` command ran.
    pub ran: bool,
    /// Problems already reported (a command in a loop or a function run twice).
    reported: HashSet<(Span, String)>,
}

/// A command pasvlint does not apply, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skipped {
    pub span: Span,
    pub what: String,
}

/// How one `nft` run was invoked: its options, then the command words.
#[derive(Default)]
struct Invocation<'a> {
    check: bool,
    /// `-f FILE`: the file and the word that names it.
    file: Option<(String, &'a Word)>,
    /// An option pasvlint does not read (`-j`, `-i`, `-D`).
    unread: Option<&'a Word>,
    /// `-v`, `-h`: nft prints and exits.
    exits: bool,
    words: &'a [Word],
}

impl Nft {
    /// One `nft` run; `args` are its words after the program name.
    pub fn command(&mut self, src: &SourceFile, c: &Command, args: &[Word]) -> Vec<Skipped> {
        self.ran = true;
        let inv = invocation(args);
        if inv.exits {
            return Vec::new();
        }
        if let Some(w) = inv.unread {
            return vec![Skipped {
                span: w.span,
                what: format!("nft {} is not read; the command is skipped", w.text),
            }];
        }
        let named = inv.file.as_ref().map(|(_, w)| *w);
        if let Some(w) = inv.words.iter().chain(named).find(|w| !w.is_known()) {
            let name = w
                .unknown
                .clone()
                .unwrap_or_else(|| src.slice(w.span).to_owned());
            return vec![Skipped {
                span: w.span,
                what: format!(
                    "nft command uses {name}, which this script does not set; it is skipped"
                ),
            }];
        }
        if let Some(w) = inv.words.iter().find(|w| looks_like_option(&w.text)) {
            self.report(
                c,
                vec![Problem {
                    message: "syntax error, options must be specified before commands".into(),
                    span: w.span,
                }],
            );
            return Vec::new();
        }
        // nft reads the command words when there are any, even with `-f`.
        let toks = if !inv.words.is_empty() {
            command_tokens(src, inv.words)
        } else {
            match (&inv.file, &c.stdin) {
                (Some((path, _)), Some(Input::Text(text))) if reads_stdin(path) => {
                    stdin_tokens(text, c.span)
                }
                (Some((path, w)), stdin) => {
                    let shown = match stdin {
                        Some(Input::File(f)) if reads_stdin(path) => {
                            (f.is_known(), f.text.as_str(), f.span)
                        }
                        _ => (true, path.as_str(), w.span),
                    };
                    return vec![Skipped {
                        span: shown.2,
                        what: format!(
                            "nft -f {} loads a file this script does not show; its rules are not read",
                            if shown.0 { shown.1 } else { "-" }
                        ),
                    }];
                }
                (None, _) => return Vec::new(),
            }
        };
        match toks {
            Ok(toks) => self.apply(src, c, toks, inv.check),
            Err(p) => {
                self.report(c, vec![p]);
                Vec::new()
            }
        }
    }

    fn apply(
        &mut self,
        src: &SourceFile,
        c: &Command,
        toks: Vec<Token>,
        check: bool,
    ) -> Vec<Skipped> {
        let by_handle = by_handle(&toks);
        let mut trial = self.file.clone();
        let before = trial.problems.len();
        parse::parse_command(src, toks, true, &mut trial);
        let problems: Vec<Problem> = trial.problems.drain(before..).collect();
        if !problems.is_empty() {
            self.report(c, problems);
            return Vec::new();
        }
        if let Some(t) = by_handle.filter(|_| !check) {
            return vec![Skipped {
                span: src.span(t.start, t.end),
                what: format!(
                    "nft {} rule names a rule by its handle, which the kernel numbers and pasvlint does not follow; the command is skipped",
                    t.text
                ),
            }];
        }
        // A command that may not run counts only when it opens: no port is
        // claimed blocked that the script may have opened.
        if !check && (c.uncertain.is_none() || only_opens(&self.file, &trial)) {
            self.file = trial;
        }
        Vec::new()
    }

    fn report(&mut self, c: &Command, problems: Vec<Problem>) {
        let once = c.repeated || c.uncertain.is_some();
        for p in problems {
            if self.reported.insert((p.span, p.message.clone())) || !once {
                self.file.problems.push(p);
            }
        }
    }
}

/// The `delete`/`destroy`/`replace` of a `… rule … handle N` statement.
fn by_handle(toks: &[Token]) -> Option<Token> {
    let starts = std::iter::once(0).chain(
        toks.iter()
            .enumerate()
            .filter(|(_, t)| t.kind == Kind::Newline || t.text == ";")
            .map(|(i, _)| i + 1),
    );
    starts.filter_map(|i| toks.get(i..i + 2)).find_map(|pair| {
        let verb = matches!(pair[0].text.as_str(), "delete" | "destroy" | "replace");
        (verb && pair[1].text == "rule").then(|| pair[0].clone())
    })
}

fn reads_stdin(path: &str) -> bool {
    matches!(path, "-" | "/dev/stdin")
}

/// A word nft's option parser would take: `-c`, `--check` (not `-1`).
fn looks_like_option(w: &str) -> bool {
    let rest = w.strip_prefix("--").or_else(|| w.strip_prefix('-'));
    rest.is_some_and(|r| r.starts_with(|c: char| c.is_ascii_alphabetic()))
}

/// nft's options (getopt: clustered short options, `--long[=value]`) up to the
/// first word that is not one, or `--`.
fn invocation(args: &[Word]) -> Invocation<'_> {
    let mut inv = Invocation::default();
    let mut i = 0;
    while let Some(w) = args.get(i) {
        let t = w.text.as_str();
        i += 1;
        if t == "--" {
            break;
        }
        if !t.starts_with('-') || t == "-" {
            i -= 1;
            break;
        }
        let value = |inline: &str, i: &mut usize| {
            if inline.is_empty() {
                *i += 1;
                args.get(*i - 1).map(|n| (n.text.clone(), n))
            } else {
                Some((inline.to_owned(), w))
            }
        };
        if let Some(long) = t.strip_prefix("--") {
            let (name, inline) = long.split_once('=').unwrap_or((long, ""));
            match name {
                "check" => inv.check = true,
                "file" | "filename" => inv.file = value(inline, &mut i),
                "includepath" | "debug" => {
                    value(inline, &mut i);
                }
                "define" | "json" | "interactive" => inv.unread = Some(w),
                "version" | "version-long" | "help" => inv.exits = true,
                _ => {}
            }
            continue;
        }
        for (k, ch) in t.char_indices().skip(1) {
            let rest = &t[k + ch.len_utf8()..];
            match ch {
                'c' => inv.check = true,
                'f' => {
                    inv.file = value(rest, &mut i);
                    break;
                }
                'I' | 'd' => {
                    value(rest, &mut i);
                    break;
                }
                'D' | 'j' | 'i' => {
                    inv.unread = Some(w);
                    break;
                }
                'h' | 'v' | 'V' => inv.exits = true,
                _ => {}
            }
        }
    }
    inv.words = args.get(i..).unwrap_or(&[]);
    inv
}

/// One command word in nft's joined buffer: where it starts there, and where
/// its text starts in the script when it is written there as it reads.
struct Placed<'a> {
    at: usize,
    word: &'a Word,
    literal: Option<usize>,
}

/// Where `w`'s text is written verbatim in the script: bare, or inside quotes
/// that change nothing in it.
fn literal_start(src: &SourceFile, w: &Word) -> Option<usize> {
    let written = src.slice(w.span);
    let start = w.span.start as usize;
    if written == w.text {
        return Some(start);
    }
    let plain = |q: char| {
        let inner = written.strip_prefix(q)?.strip_suffix(q)?;
        let clean = q == '\'' || !inner.contains(['\\', '$', '`']);
        (inner == w.text && clean).then_some(start + 1)
    };
    plain('\'').or_else(|| plain('"'))
}

/// The tokens nft reads from its words, each spanned at the script text it
/// comes from, and the newline nft ends a command line with.
fn command_tokens(src: &SourceFile, words: &[Word]) -> Result<Vec<Token>, Problem> {
    let mut buf = String::new();
    let mut placed = Vec::with_capacity(words.len());
    for w in words {
        if !buf.is_empty() {
            buf.push(' ');
        }
        placed.push(Placed {
            at: buf.len(),
            word: w,
            literal: literal_start(src, w),
        });
        buf.push_str(&w.text);
    }
    let map = |off: usize, end: bool| {
        let probe = if end { off.saturating_sub(1) } else { off };
        let i = placed.partition_point(|p| p.at <= probe).saturating_sub(1);
        let p = &placed[i];
        let k = off.saturating_sub(p.at).min(p.word.text.len());
        match p.literal {
            Some(s) => s + k,
            None if end => p.word.span.end as usize,
            None => p.word.span.start as usize,
        }
    };
    let mut toks = lex::lex(&buf).map_err(|e| Problem {
        message: e.message,
        span: src.span(map(e.start, false), map(e.end.max(e.start + 1), true)),
    })?;
    for t in &mut toks {
        t.start = map(t.start, false);
        t.end = map(t.end, true).max(t.start);
    }
    let end = words
        .last()
        .map_or(0, |w| map(buf.len(), true).max(w.span.start as usize));
    toks.push(newline(end));
    Ok(toks)
}

/// What `nft -f -` reads from a heredoc or here-string, spanned in the script.
fn stdin_tokens(text: &Text, fallback: Span) -> Result<Vec<Token>, Problem> {
    let span = |s: usize, e: usize| text.span_of(s, e.max(s)).unwrap_or(fallback);
    let mut toks = lex::lex(&text.text).map_err(|e| Problem {
        message: e.message,
        span: span(e.start, e.end.max(e.start + 1)),
    })?;
    for t in &mut toks {
        let s = span(t.start, t.end);
        t.start = s.start as usize;
        t.end = s.end as usize;
    }
    let end = toks.last().map_or(fallback.end as usize, |t| t.end);
    toks.push(newline(end));
    Ok(toks)
}

fn newline(at: usize) -> Token {
    Token {
        kind: Kind::Newline,
        text: "\n".into(),
        start: at,
        end: at,
    }
}

/// `after` only adds: rules that accept, tables and chains that close nothing,
/// and keeps everything of `before` (no flush, delete, policy or set change).
fn only_opens(before: &File, after: &File) -> bool {
    if after.flushes != before.flushes {
        return false;
    }
    let kept = before.tables.iter().all(|t| {
        find_table(after, t).is_some_and(|a| {
            t.chains.iter().all(|c| {
                a.chains
                    .iter()
                    .find(|x| x.name == c.name)
                    .is_some_and(|x| x.base == c.base && adds_accepts(&c.rules, &x.rules))
            }) && same_sets(t, a)
        })
    });
    let new_close_nothing = after.tables.iter().all(|a| match find_table(before, a) {
        Some(t) => a
            .chains
            .iter()
            .filter(|x| !t.chains.iter().any(|c| c.name == x.name))
            .all(closes_nothing),
        None => a.chains.iter().all(closes_nothing),
    });
    kept && new_close_nothing
}

fn find_table<'f>(file: &'f File, like: &Table) -> Option<&'f Table> {
    file.tables
        .iter()
        .find(|t| t.family == like.family && t.name == like.name)
}

fn same_sets(before: &Table, after: &Table) -> bool {
    before.sets.iter().all(|s| {
        after
            .sets
            .iter()
            .find(|x| x.name == s.name)
            .is_some_and(|x| x.elements == s.elements && x.dynamic == s.dynamic)
    })
}

fn accepts(rule: &Rule) -> bool {
    rule.items
        .iter()
        .any(|i| matches!(i, Item::Verdict(Verdict::Accept)))
}

/// `after` is `before` with accept rules inserted anywhere.
fn adds_accepts(before: &[Rule], after: &[Rule]) -> bool {
    let mut old = before.iter().peekable();
    for r in after {
        if old.peek() == Some(&r) {
            old.next();
        } else if !accepts(r) {
            return false;
        }
    }
    old.peek().is_none()
}

fn closes_nothing(chain: &Chain) -> bool {
    chain.base.as_ref().is_none_or(|b| !b.drop) && chain.rules.iter().all(accepts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FileId;

    fn w(src: &SourceFile, text: &str, at: &str) -> Word {
        let s = src.text.find(at).expect("in source");
        Word::literal(text, src.span(s, s + at.len()))
    }

    #[test]
    fn options_are_read_up_to_the_command() {
        let src = SourceFile::new(FileId(0), "x.sh", b"nft -cf - add --check -x");
        let args = [
            w(&src, "-cf", "-cf"),
            w(&src, "-", "- "),
            w(&src, "add", "add"),
        ];
        let inv = invocation(&args);
        assert!(inv.check);
        assert_eq!(inv.file.as_ref().map(|f| f.0.as_str()), Some("-"));
        assert_eq!(inv.words.len(), 1);
        assert!(looks_like_option("--check") && looks_like_option("-x"));
        assert!(!looks_like_option("-1") && !looks_like_option("-"));
    }

    #[test]
    fn tokens_point_inside_a_quoted_word() {
        let text = "nft 'add rule inet f input tcp dport 21 accept'";
        let src = SourceFile::new(FileId(0), "x.sh", text.as_bytes());
        let word = Word::literal("add rule inet f input tcp dport 21 accept", src.span(4, 47));
        let toks = command_tokens(&src, &[word]).expect("lexes");
        let port = toks.iter().find(|t| t.text == "21").expect("21");
        assert_eq!(&text[port.start..port.end], "21");
        assert_eq!(toks.last().map(|t| t.kind.clone()), Some(Kind::Newline));
    }

    #[test]
    fn accept_rules_only_open() {
        let rule = |n: u32, v: Verdict| Rule {
            span: Span::new(FileId(0), n as usize, n as usize),
            items: vec![Item::Verdict(v)],
            port_text: None,
        };
        let a = rule(1, Verdict::Accept);
        let d = rule(2, Verdict::Drop);
        assert!(adds_accepts(
            std::slice::from_ref(&d),
            &[a.clone(), d.clone()]
        ));
        assert!(!adds_accepts(
            std::slice::from_ref(&a),
            &[a.clone(), d.clone()]
        ));
        assert!(!adds_accepts(
            &[a.clone(), d.clone()],
            std::slice::from_ref(&a)
        ));
    }
}
