//! The nft grammar over tokens: top-level commands (`table`, `include`, `define`,
//! `flush ruleset`, `add rule ...`), table blocks, chain blocks and rules.
//!
//! Like `nft -c -f`, a statement nft would reject is recorded as a [`Problem`] with
//! nft's wording; parsing resumes at the next statement.

use super::lex::{Kind, Token, lex};
use super::model::*;
use crate::facts::PortSyntax;
use crate::source::SourceFile;
use std::collections::HashMap;

mod expr;
mod helpers;
mod nat;
mod reject;

type PResult<T> = Result<T, (String, usize, usize)>;

struct Parser<'s> {
    toks: Vec<Token>,
    pos: usize,
    src: &'s SourceFile,
    file: File,
    /// Commands of a script: a table or chain may come from a command the
    /// script does not show. In a file, nft -f knows them all.
    script: bool,
    /// A script's command: see [`parse_command`].
    strict: bool,
    /// Token range of the last match's value.
    last_value: (usize, usize),
    /// The family of the table the rule being read goes to.
    family: Option<TableFamily>,
    /// `ct helper set NAME` of the rule being read: the name and its offsets.
    helper_refs: Vec<(String, usize, usize)>,
    /// Those of the current command, each with its table.
    pending_helpers: Vec<(usize, String, usize, usize)>,
    /// The last `reject` read was `with tcp reset`.
    tcp_reset: bool,
    /// The last `reject` read gave its code as a number: its kind and low byte.
    reject_number: Option<(String, u8)>,
}

/// Parse a whole file.
pub fn parse(src: &SourceFile) -> File {
    parse_in(src, &Env::default())
}

/// Parse a whole file with the definitions its includer and its includes bring.
pub fn parse_in(src: &SourceFile, env: &Env) -> File {
    let mut file = File::default();
    let toks = match lex(&src.text) {
        Ok(t) => t,
        Err(e) => {
            file.problems.push(Problem {
                message: e.message,
                span: src.span(e.start, e.end.max(e.start + 1).min(src.text.len())),
            });
            return file;
        }
    };
    let toks = expand_defines(toks, src, &mut file, env);
    let mut p = Parser {
        toks,
        pos: 0,
        src,
        file,
        script: false,
        strict: false,
        last_value: (0, 0),
        family: None,
        helper_refs: Vec::new(),
        pending_helpers: Vec::new(),
        tcp_reset: false,
        reject_number: None,
    };
    p.top();
    p.file
}

/// Parse one `nft` command line (or what `nft -f -` reads) into `file`: `toks`
/// are its tokens with their offsets already in `src`, ended by the newline nft
/// puts after a command line. With `strict`, once `file` holds a flushed ruleset
/// (so every table and chain there is known), a rule or chain added to one that
/// does not exist is rejected as the kernel rejects it.
pub fn parse_command(src: &SourceFile, toks: Vec<Token>, strict: bool, file: &mut File) {
    let mut scratch = std::mem::take(file);
    let toks = expand_defines(toks, src, &mut scratch, &Env::default());
    let mut p = Parser {
        toks,
        pos: 0,
        src,
        file: scratch,
        script: true,
        strict,
        last_value: (0, 0),
        family: None,
        helper_refs: Vec::new(),
        pending_helpers: Vec::new(),
        tcp_reset: false,
        reject_number: None,
    };
    p.top();
    *file = p.file;
}

/// `define NAME = VALUE` lines go away; `$NAME` is replaced by the value's tokens.
fn expand_defines(toks: Vec<Token>, src: &SourceFile, file: &mut File, env: &Env) -> Vec<Token> {
    let mut defs: HashMap<String, Vec<Token>> = env.inherited.iter().cloned().collect();
    let mut brought = env.from_includes.iter().peekable();
    let mut out: Vec<Token> = Vec::with_capacity(toks.len());
    let mut i = 0;
    let at_start = |out: &[Token]| {
        out.last()
            .is_none_or(|t| t.kind == Kind::Newline || t.text == ";" || t.text == "{")
    };
    while i < toks.len() {
        let t = &toks[i];
        while let Some((_, names)) = brought.next_if(|(at, _)| *at <= t.start) {
            defs.extend(names.iter().cloned());
        }
        if t.kind == Kind::Word
            && matches!(t.text.as_str(), "define" | "redefine")
            && at_start(&out)
        {
            let name = toks.get(i + 1).map(|t| t.text.clone()).unwrap_or_default();
            let mut j = i + 2;
            if toks.get(j).is_some_and(|t| t.text == "=") {
                j += 1;
            }
            let mut depth = 0i32;
            let mut value = Vec::new();
            while let Some(v) = toks.get(j) {
                if depth == 0 && (v.kind == Kind::Newline || v.text == ";") {
                    break;
                }
                depth += (v.text == "{") as i32 - (v.text == "}") as i32;
                value.push(v.clone());
                j += 1;
            }
            let value = substitute(value, &defs, src, file);
            file.defines.push(Define {
                at: t.start,
                name: name.clone(),
                value: value.clone(),
            });
            defs.insert(name, value);
            i = j;
            continue;
        }
        if t.kind == Kind::Word && t.text == "undefine" && at_start(&out) {
            if let Some(n) = toks.get(i + 1) {
                defs.remove(&n.text);
            }
            i += 2;
            continue;
        }
        out.push(t.clone());
        i += 1;
    }
    substitute(out, &defs, src, file)
}

fn substitute(
    toks: Vec<Token>,
    defs: &HashMap<String, Vec<Token>>,
    src: &SourceFile,
    file: &mut File,
) -> Vec<Token> {
    let mut out = Vec::with_capacity(toks.len());
    let mut i = 0;
    while i < toks.len() {
        let t = &toks[i];
        let name = toks.get(i + 1).filter(|n| n.kind == Kind::Word);
        if t.text == "$" && t.kind == Kind::Punct {
            if let Some(n) = name {
                match defs.get(&n.text) {
                    Some(v) => out.extend(v.iter().map(|x| Token {
                        start: n.start,
                        end: n.end,
                        ..x.clone()
                    })),
                    None => file.problems.push(Problem {
                        message: format!("unknown identifier '{}'", n.text),
                        span: src.span(n.start, n.end),
                    }),
                }
                i += 2;
                continue;
            }
        }
        out.push(t.clone());
        i += 1;
    }
    out
}

const VERDICTS: &[&str] = &[
    "accept", "drop", "reject", "return", "continue", "jump", "goto", "queue",
];
const STATEMENTS: &[&str] = &[
    "counter",
    "log",
    "limit",
    "comment",
    "notrack",
    "masquerade",
    "snat",
    "dnat",
    "redirect",
    "quota",
    "meta",
    "ct",
];

/// What nft's grammar wants after a block item before the block's `}`.
#[derive(Clone, Copy)]
enum After {
    /// A newline or `;`; the text is what nft says it expected.
    Separator(&'static str),
    /// Nothing: `elements = { … }` may close its set block directly.
    Anything,
}

impl After {
    const SEPARATOR: After = After::Separator("newline or semicolon");
}

/// nft's "Could not process rule: No such file or directory".
fn could_not(what: &str, (message, s, e): (String, usize, usize)) -> (String, usize, usize) {
    if message.starts_with("syntax error") {
        (message, s, e)
    } else {
        (format!("Could not process {what}: {message}"), s, e)
    }
}

/// Words nft's scanner reads as keywords, which cannot name a table or chain
/// unquoted (those a misspelt command runs into).
fn is_keyword(w: &str) -> bool {
    is_family(w).is_some()
        || VERDICTS.contains(&w)
        || STATEMENTS.contains(&w)
        || matches!(
            w,
            "table"
                | "chain"
                | "rule"
                | "set"
                | "map"
                | "element"
                | "tcp"
                | "udp"
                | "dport"
                | "sport"
                | "type"
                | "hook"
                | "priority"
                | "policy"
                | "iif"
                | "iifname"
                | "oif"
                | "oifname"
                | "saddr"
                | "daddr"
                | "flags"
                | "elements"
        )
}

fn is_family(w: &str) -> Option<TableFamily> {
    Some(match w {
        "ip" => TableFamily::Ip,
        "ip6" => TableFamily::Ip6,
        "inet" => TableFamily::Inet,
        "arp" | "bridge" | "netdev" => TableFamily::Other,
        _ => return None,
    })
}

impl<'s> Parser<'s> {
    fn peek(&self) -> Option<&Token> {
        self.toks.get(self.pos)
    }

    fn peek_text(&self) -> &str {
        self.peek().map_or("", |t| t.text.as_str())
    }

    fn bump(&mut self) -> Option<Token> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    /// nft's `syntax error, unexpected X` at the current token.
    fn unexpected<T>(&self) -> PResult<T> {
        match self.peek() {
            Some(t) => Err((
                format!("syntax error, unexpected {}", describe(t)),
                t.start,
                t.end,
            )),
            None => {
                let end = self.src.text.len();
                Err(("syntax error, unexpected end of file".into(), end, end))
            }
        }
    }

    fn expect(&mut self, text: &str) -> PResult<Token> {
        if self.peek_text() == text {
            Ok(self.bump().expect("peeked"))
        } else {
            self.unexpected()
        }
    }

    fn word(&mut self) -> PResult<Token> {
        match self.peek() {
            Some(t) if matches!(t.kind, Kind::Word | Kind::Str) => Ok(self.bump().expect("peeked")),
            _ => self.unexpected(),
        }
    }

    fn at_end_of_statement(&self) -> bool {
        match self.peek() {
            None => true,
            Some(t) => t.kind == Kind::Newline || t.text == ";" || t.text == "}",
        }
    }

    fn skip_separators(&mut self) {
        while self
            .peek()
            .is_some_and(|t| t.kind == Kind::Newline || t.text == ";")
        {
            self.pos += 1;
        }
    }

    /// After an error: skip to the end of the statement, over balanced braces.
    fn recover(&mut self) {
        let mut depth = 0i32;
        while let Some(t) = self.peek() {
            if depth == 0 && (t.kind == Kind::Newline || t.text == ";") {
                return;
            }
            if t.text == "{" {
                depth += 1;
            } else if t.text == "}" {
                if depth == 0 {
                    return;
                }
                depth -= 1;
            }
            self.pos += 1;
        }
    }

    fn problem(&mut self, (message, s, e): (String, usize, usize)) {
        let span = self.src.span(s, e.max(s));
        self.file.problems.push(Problem { message, span });
    }

    fn top(&mut self) {
        loop {
            self.skip_separators();
            if self.peek().is_none() {
                return;
            }
            let before = self.pos;
            if let Err(e) = self.command() {
                self.problem(e);
                self.recover();
                if self.peek_text() == "}" {
                    self.pos += 1;
                }
            }
            self.resolve_helpers();
            if self.pos == before {
                self.pos += 1;
            }
        }
    }

    fn command(&mut self) -> PResult<()> {
        let t = self.word()?;
        match t.text.as_str() {
            "include" => {
                let path = self.word()?;
                self.file.includes.push(Include {
                    path: path.text,
                    span: self.src.span(t.start, path.end),
                });
                Ok(())
            }
            "flush" if self.peek_text() == "ruleset" => {
                self.pos += 1;
                if is_family(self.peek_text()).is_some() {
                    self.pos += 1;
                }
                self.file.flushes = true;
                self.file.tables.clear();
                Ok(())
            }
            "table" => self.table(t.start, true),
            "add" | "create" => self.add(),
            "insert" => {
                self.expect("rule")?;
                self.rule_command(true)
            }
            "flush" | "delete" | "destroy" => self.remove(&t.text),
            "list" | "reset" | "monitor" | "describe" | "replace" | "rename" => {
                self.recover();
                Ok(())
            }
            // A line that starts with no command is `add rule`.
            _ => {
                self.pos -= 1;
                self.rule_command(false)
            }
        }
    }

    /// A chain's name: a string, never one of nft's keywords.
    fn chain_name(&mut self) -> PResult<Token> {
        match self.peek() {
            Some(t) if t.kind == Kind::Word && is_keyword(&t.text) => Err((
                format!("syntax error, unexpected {}, expecting string", t.text),
                t.start,
                t.end,
            )),
            _ => self.word(),
        }
    }

    fn add(&mut self) -> PResult<()> {
        let what = self.word()?;
        match what.text.as_str() {
            "table" => self.table(what.start, false),
            "chain" => {
                let ti = self.table_ref(false)?;
                self.chain(ti)
            }
            "rule" => self.rule_command(false),
            "set" | "map" => {
                let ti = self.table_ref(false)?;
                self.set(ti)
            }
            "element" => {
                let ti = self.table_ref(false)?;
                let name = self.word()?.text;
                let elems = self.elements()?;
                if let Some(set) = self.file.tables[ti]
                    .sets
                    .iter_mut()
                    .find(|s| s.name == name)
                {
                    set.elements.extend(elems);
                }
                Ok(())
            }
            _ => {
                self.recover();
                Ok(())
            }
        }
    }

    fn remove(&mut self, verb: &str) -> PResult<()> {
        let what = self.word()?.text;
        match what.as_str() {
            "table" => {
                let (family, name) = self.table_name()?;
                if verb == "flush" {
                    if let Some(t) = self.find_table(family, &name) {
                        for c in &mut self.file.tables[t].chains {
                            c.rules.clear();
                        }
                    }
                } else {
                    self.file
                        .tables
                        .retain(|t| !(t.family == family && t.name == name));
                }
            }
            "chain" => {
                let ti = self.table_ref(true)?;
                let name = self.word()?.text;
                let chains = &mut self.file.tables[ti].chains;
                if verb == "flush" {
                    chains
                        .iter_mut()
                        .filter(|c| c.name == name)
                        .for_each(|c| c.rules.clear());
                } else {
                    chains.retain(|c| c.name != name);
                }
            }
            // Only by handle, which the kernel numbers: the caller decides.
            "rule" => {
                self.table_name()?;
                self.word()?;
                if self.peek_text() != "handle" {
                    let e = self.unexpected::<()>().unwrap_err();
                    return Err((format!("{}, expecting handle", e.0), e.1, e.2));
                }
            }
            _ => {}
        }
        self.recover();
        Ok(())
    }

    fn table_name(&mut self) -> PResult<(TableFamily, String)> {
        let first = self.word()?;
        match is_family(&first.text) {
            Some(f) if !self.at_end_of_statement() && self.peek_text() != "{" => {
                Ok((f, self.word()?.text))
            }
            _ => Ok((TableFamily::Ip, first.text)),
        }
    }

    fn find_table(&self, family: TableFamily, name: &str) -> Option<usize> {
        self.file
            .tables
            .iter()
            .position(|t| t.family == family && t.name == name)
    }

    /// `[family] NAME` of an existing table (created on the fly for `add`, as a
    /// script may add to a table an earlier command made).
    fn table_ref(&mut self, existing: bool) -> PResult<usize> {
        let (family, name) = self.table_name()?;
        let at = self.name_start();
        self.table_at(at, family, name, existing)
    }

    /// Where the name just read starts: nft points there, after any family.
    fn name_start(&self) -> usize {
        self.toks
            .get(self.pos.wrapping_sub(1))
            .map_or(0, |t| t.start)
    }

    fn table_at(
        &mut self,
        at: usize,
        family: TableFamily,
        name: String,
        existing: bool,
    ) -> PResult<usize> {
        if let Some(i) = self.find_table(family, &name) {
            return Ok(i);
        }
        if existing || self.known_ruleset() {
            return Err(("No such file or directory".into(), at, at + name.len()));
        }
        self.file.tables.push(Table {
            family,
            name,
            span: self.src.span(at, at),
            chains: Vec::new(),
            sets: Vec::new(),
            helpers: Vec::new(),
        });
        Ok(self.file.tables.len() - 1)
    }

    /// Every table and chain is in `file`: a whole file, or a script's command
    /// after `flush ruleset`.
    fn known_ruleset(&self) -> bool {
        !self.script || (self.strict && self.file.flushes)
    }

    fn table(&mut self, start: usize, block_required: bool) -> PResult<()> {
        let (family, name) = self.table_name()?;
        let end = self.toks[self.pos.saturating_sub(1)].end;
        let ti = match self.find_table(family, &name) {
            Some(i) => i,
            None => {
                self.file.tables.push(Table {
                    family,
                    name,
                    span: self.src.span(start, end),
                    chains: Vec::new(),
                    sets: Vec::new(),
                    helpers: Vec::new(),
                });
                self.file.tables.len() - 1
            }
        };
        if self.peek_text() != "{" {
            return if block_required && !self.at_end_of_statement() {
                self.unexpected()
            } else {
                Ok(())
            };
        }
        self.pos += 1;
        self.block(|p| p.table_item(ti).map(|()| After::SEPARATOR))
    }

    /// Items separated by newlines or `;` up to the closing `}`.
    fn block(&mut self, mut item: impl FnMut(&mut Self) -> PResult<After>) -> PResult<()> {
        loop {
            self.skip_separators();
            match self.peek() {
                None => return self.unexpected(),
                Some(t) if t.text == "}" => {
                    self.pos += 1;
                    return Ok(());
                }
                _ => {}
            }
            let before = self.pos;
            let done = item(self);
            if let Err(e) = done {
                self.problem(e);
                self.recover();
            } else if let (Ok(After::Separator(expecting)), Some(t)) = (&done, self.peek())
                && t.text == "}"
            {
                let e = (
                    format!("syntax error, unexpected '}}', expecting {expecting}"),
                    t.start,
                    t.end,
                );
                self.problem(e);
            } else if !self.at_end_of_statement() {
                // Block items need `;` or a newline between them.
                let e = self.unexpected::<()>().unwrap_err();
                self.problem(e);
                self.recover();
            }
            if self.pos == before {
                self.pos += 1;
            }
        }
    }

    fn table_item(&mut self, ti: usize) -> PResult<()> {
        let t = self.word()?;
        match t.text.as_str() {
            "chain" => self.chain(ti),
            "set" | "map" => self.set(ti),
            "ct" if self.peek_text() == "helper" => {
                self.pos += 1;
                let name = self.word()?.text;
                let mut kind = String::new();
                self.expect("{")?;
                self.block(|p| {
                    let w = p.word()?;
                    if w.text == "type" {
                        kind = p.word()?.text;
                    }
                    while !p.at_end_of_statement() {
                        p.pos += 1;
                    }
                    Ok(After::SEPARATOR)
                })?;
                self.file.tables[ti].helpers.push(Helper { name, kind });
                Ok(())
            }
            "flags" | "comment" => {
                self.word()?;
                Ok(())
            }
            "ct" | "counter" | "quota" | "limit" | "flowtable" | "secmark" | "synproxy" => {
                self.recover();
                Ok(())
            }
            _ => {
                self.pos -= 1;
                self.unexpected()
            }
        }
    }

    fn chain(&mut self, ti: usize) -> PResult<()> {
        let name = self.word()?;
        let ci = match self.file.tables[ti]
            .chains
            .iter()
            .position(|c| c.name == name.text)
        {
            Some(i) => i,
            None => {
                self.file.tables[ti].chains.push(Chain {
                    name: name.text.clone(),
                    span: self.src.span(name.start, name.end),
                    base: None,
                    rules: Vec::new(),
                });
                self.file.tables[ti].chains.len() - 1
            }
        };
        if self.peek_text() != "{" {
            return Ok(());
        }
        self.pos += 1;
        self.block(|p| p.chain_item(ti, ci).map(|()| After::SEPARATOR))
    }

    fn chain_item(&mut self, ti: usize, ci: usize) -> PResult<()> {
        match self.peek_text() {
            "type" => {
                let start = self.bump().expect("peeked").start;
                let kind = self.word()?.text;
                if !matches!(kind.as_str(), "filter" | "nat" | "route") {
                    self.pos -= 1;
                    return self.unexpected();
                }
                self.expect("hook")?;
                let hook = self.word()?.text;
                if self.peek_text() == "device" {
                    self.pos += 1;
                    self.word()?;
                }
                self.expect("priority")?;
                let priority = self.priority()?;
                let end = self.toks[self.pos - 1].end;
                let chain = &mut self.file.tables[ti].chains[ci];
                let (drop, policy_span) = chain
                    .base
                    .as_ref()
                    .map_or((false, None), |b| (b.drop, b.policy_span));
                chain.base = Some(BaseSpec {
                    kind,
                    hook,
                    priority,
                    drop,
                    policy_span,
                    span: self.src.span(start, end),
                });
                Ok(())
            }
            "policy" => {
                let start = self.bump().expect("peeked").start;
                let p = self.word()?;
                let drop = match p.text.as_str() {
                    "accept" => false,
                    "drop" => true,
                    _ => {
                        self.pos -= 1;
                        return self.unexpected();
                    }
                };
                let span = self.src.span(start, p.end);
                if let Some(b) = &mut self.file.tables[ti].chains[ci].base {
                    b.drop = drop;
                    b.policy_span = Some(span);
                }
                Ok(())
            }
            "comment" => {
                self.pos += 1;
                self.word()?;
                Ok(())
            }
            "devices" | "device" => {
                self.recover();
                Ok(())
            }
            _ => {
                self.family = Some(self.file.tables[ti].family);
                let rule = self.rule()?;
                self.file.tables[ti].chains[ci].rules.push(rule);
                self.note_helpers(ti);
                Ok(())
            }
        }
    }

    fn priority(&mut self) -> PResult<i32> {
        let t = self.word()?;
        let base = match t.text.as_str() {
            "raw" => -300,
            "mangle" => -150,
            "dstnat" => -100,
            "filter" => 0,
            "security" => 50,
            "srcnat" => 100,
            n => {
                return n.parse::<i32>().map_err(|_| {
                    (
                        format!("syntax error, unexpected {}", describe(&t)),
                        t.start,
                        t.end,
                    )
                });
            }
        };
        let sign = match self.peek_text() {
            "+" => 1,
            "-" => -1,
            w if w.starts_with('-') && w[1..].parse::<i32>().is_ok() => {
                let n: i32 = w[1..].parse().unwrap_or(0);
                self.pos += 1;
                return Ok(base - n);
            }
            _ => return Ok(base),
        };
        self.pos += 1;
        let n = self.word()?;
        let v: i32 = n.text.parse().map_err(|_| {
            (
                format!("syntax error, unexpected {}", describe(&n)),
                n.start,
                n.end,
            )
        })?;
        Ok(base + sign * v)
    }

    fn set(&mut self, ti: usize) -> PResult<()> {
        let name = self.word()?.text;
        let mut set = Set {
            name,
            elements: Vec::new(),
            dynamic: false,
        };
        self.expect("{")?;
        self.block(|p| {
            let w = p.word()?;
            Ok(match w.text.as_str() {
                "elements" => {
                    p.expect("=")?;
                    set.elements = p.elements()?;
                    After::Anything
                }
                "flags" => {
                    while !p.at_end_of_statement() {
                        let f = p.bump().expect("not at end");
                        if f.text == "dynamic" || f.text == "timeout" {
                            set.dynamic = true;
                        }
                    }
                    After::Separator("newline or semicolon or comma")
                }
                "type" => {
                    p.recover();
                    After::Separator("newline or semicolon or .")
                }
                _ => {
                    p.recover();
                    After::SEPARATOR
                }
            })
        })?;
        let sets = &mut self.file.tables[ti].sets;
        match sets.iter_mut().find(|s| s.name == set.name) {
            Some(s) => s.elements.extend(set.elements),
            None => sets.push(set),
        }
        Ok(())
    }

    /// `{ e, e : v, a . b, ... }` (newlines allowed inside).
    fn elements(&mut self) -> PResult<Vec<Elem>> {
        self.expect("{")?;
        let mut out = Vec::new();
        loop {
            while self.peek().is_some_and(|t| t.kind == Kind::Newline) {
                self.pos += 1;
            }
            if self.peek_text() == "}" {
                self.pos += 1;
                return Ok(out);
            }
            // A set inside a set (`define all = { $a_ifs, $b_ifs }`): nft
            // merges its elements into the outer one.
            if self.peek_text() == "{" {
                out.extend(self.elements()?);
                self.after_element()?;
                continue;
            }
            let mut key = vec![self.word()?.text];
            while self.peek_text() == "." {
                self.pos += 1;
                key.push(self.word()?.text);
            }
            let mut value = None;
            let mut data = None;
            if self.peek_text() == ":" {
                self.pos += 1;
                let w = self.word()?;
                value = self.verdict_word(&w.text)?;
                if value.is_none() {
                    let mut written = w.text;
                    while self.peek_text() == "." || self.peek_text() == ":" {
                        let sep = self.word()?.text;
                        written = format!("{written} {sep} {}", self.word()?.text);
                    }
                    data = Some(written);
                }
            }
            // Element options (`timeout 1h`, `comment "x"`, `counter ...`).
            while self
                .peek()
                .is_some_and(|t| t.kind != Kind::Newline && t.text != "," && t.text != "}")
            {
                self.pos += 1;
            }
            out.push(Elem { key, value, data });
            self.after_element()?;
        }
    }

    /// The separators after a set element, up to the next element or `}`.
    fn after_element(&mut self) -> PResult<()> {
        while self
            .peek()
            .is_some_and(|t| t.kind == Kind::Newline || t.text == ",")
        {
            self.pos += 1;
        }
        if self.peek().is_none() {
            return self.unexpected();
        }
        Ok(())
    }

    /// A verdict keyword (with its chain name for jump/goto); `None` for another word.
    fn verdict_word(&mut self, w: &str) -> PResult<Option<Verdict>> {
        Ok(Some(match w {
            "accept" => Verdict::Accept,
            "drop" => Verdict::Drop,
            "reject" => Verdict::Reject,
            "return" => Verdict::Return,
            "continue" => Verdict::Continue,
            "queue" => Verdict::Queue,
            "jump" => Verdict::Jump(self.word()?.text),
            "goto" => Verdict::Goto(self.word()?.text),
            _ => return Ok(None),
        }))
    }

    /// `add rule [family] TABLE CHAIN [handle N | index N | position N] ...`.
    fn rule_command(&mut self, front: bool) -> PResult<()> {
        let (family, name) = self.table_name()?;
        let at = self.name_start();
        let chain_name = self.chain_name()?;
        if matches!(self.peek_text(), "handle" | "index" | "position") {
            self.pos += 1;
            self.word()?;
        }
        self.family = Some(family);
        let rule = self.rule()?;
        // nft reads the whole command before it looks the table and chain up;
        // a command line's missing table is named at the chain, a file's at the table.
        let missing = (
            "No such file or directory".to_owned(),
            chain_name.start,
            chain_name.end,
        );
        let ti = match self.table_at(at, family, name, false) {
            Err(_) if self.script => return Err(could_not("rule", missing)),
            other => other.map_err(|e| could_not("rule", e))?,
        };
        let known = self.file.tables[ti]
            .chains
            .iter()
            .any(|c| c.name == chain_name.text);
        if !known && self.known_ruleset() {
            let e = (
                "No such file or directory".into(),
                chain_name.start,
                chain_name.end,
            );
            return Err(could_not("rule", e));
        }
        let chain = chain_name.text;
        let table = &mut self.file.tables[ti];
        let ci = match table.chains.iter().position(|c| c.name == chain) {
            Some(i) => i,
            None => {
                table.chains.push(Chain {
                    name: chain,
                    span: rule.span,
                    base: None,
                    rules: Vec::new(),
                });
                table.chains.len() - 1
            }
        };
        let rules = &mut table.chains[ci].rules;
        if front {
            rules.insert(0, rule);
        } else {
            rules.push(rule);
        }
        self.note_helpers(ti);
        Ok(())
    }

    fn rule(&mut self) -> PResult<Rule> {
        self.helper_refs.clear();
        let start = self.peek().map_or(0, |t| t.start);
        let mut items = Vec::new();
        let mut terminal: Option<(usize, usize)> = None;
        let mut dports = DportMatches::default();
        while !self.at_end_of_statement() {
            let at = self.peek().map_or(0, |t| t.start);
            self.tcp_reset = false;
            let item = self.item()?;
            if self.tcp_reset && reject::tcp_reset_refused(&items) {
                let e = "you cannot use tcp reset with this protocol";
                return Err((e.into(), at, at + "reject".len()));
            }
            let based = reject::network_based(&items);
            if let Some(e) = self
                .reject_number
                .take()
                .and_then(|n| reject::number_refused(&n, self.family, based))
            {
                return Err((e.into(), at, at + "reject".len()));
            }
            dports.note(&item, self.last_value);
            let end = self.toks[self.pos - 1].end;
            if let Some((ts, _)) = terminal {
                if item != Item::Other || !self.toks_text_at(at, "comment") {
                    let _ = ts;
                    return Err((
                        "Statement after terminal statement has no effect".into(),
                        at,
                        end,
                    ));
                }
            }
            if matches!(
                item,
                Item::Verdict(_) | Item::Vmap { .. } | Item::Dnat { .. } | Item::Redirect(_)
            ) {
                terminal = Some((at, end));
            }
            items.push(item);
        }
        let end = self.toks[self.pos.saturating_sub(1)].end.max(start);
        Ok(Rule {
            span: self.src.span(start, end),
            items,
            port_text: dports.written(self),
        })
    }

    /// The span of tokens `from..to` when they are the file's own text there.
    fn written(&self, (from, to): (usize, usize)) -> Option<crate::source::Span> {
        let toks = self.toks.get(from..to)?;
        let (first, last) = (toks.first()?, toks.last()?);
        let before = from.checked_sub(1).and_then(|i| self.toks.get(i));
        let in_place = before.is_none_or(|b| b.end <= first.start)
            && self.toks.get(to).is_none_or(|n| last.end <= n.start)
            && toks.windows(2).all(|w| w[0].end <= w[1].start)
            && toks
                .iter()
                .all(|t| t.kind != Kind::Str && self.src.text.get(t.start..t.end) == Some(&t.text));
        let text = self.src.text.get(first.start..last.end)?;
        (in_place && !text.contains('$')).then(|| self.src.span(first.start, last.end))
    }

    fn toks_text_at(&self, start: usize, text: &str) -> bool {
        self.toks.iter().any(|t| t.start == start && t.text == text)
    }

    fn item(&mut self) -> PResult<Item> {
        let t = self.word()?;
        let w = t.text.as_str();
        if let Some(v) = self.verdict_word(w)? {
            if v == Verdict::Reject {
                self.reject_options()?;
            } else if v == Verdict::Queue {
                self.skip_args()?;
            }
            return Ok(Item::Verdict(v));
        }
        match w {
            "counter" => {
                while matches!(self.peek_text(), "packets" | "bytes" | "name") {
                    self.pos += 1;
                    self.word()?;
                }
                Ok(Item::Other)
            }
            "comment" => {
                self.word()?;
                Ok(Item::Other)
            }
            "log" => {
                while matches!(
                    self.peek_text(),
                    "prefix" | "level" | "flags" | "group" | "snaplen" | "queue-threshold"
                ) {
                    self.pos += 1;
                    self.list()?;
                }
                Ok(Item::Other)
            }
            "limit" => {
                self.skip_args()?;
                Ok(Item::Limit)
            }
            "quota" => {
                self.skip_args()?;
                Ok(Item::Limit)
            }
            "notrack" => Ok(Item::Notrack),
            "masquerade" | "snat" => {
                self.skip_args()?;
                Ok(Item::NatOther)
            }
            "dnat" => self.dnat(),
            "redirect" => {
                if self.peek_text() == "to" {
                    self.pos += 1;
                }
                Ok(Item::Redirect(self.nat_port()?))
            }
            "ct" if self.toks.get(self.pos + 1).is_some_and(|n| n.text == "set") => {
                let field = self.word()?.text;
                self.pos += 1;
                if field == "helper" {
                    return self.helper_set();
                }
                self.word()?;
                Ok(Item::Other)
            }
            "meta" | "ct" => {
                let field = self.word()?.text;
                if self.peek_text() == "set" {
                    self.pos += 1;
                    let v = self.list()?;
                    return Ok(mark_set(&field, &v));
                }
                self.matching(format!("{w} {field}"))
            }
            "mark" if self.peek_text() == "set" => {
                self.pos += 1;
                let v = self.list()?;
                Ok(mark_set("mark", &v))
            }
            "iifname" | "oifname" | "iif" | "oif" | "mark" | "l4proto" | "nfproto" | "pkttype"
            | "skuid" | "skgid" => self.matching(format!("meta {w}")),
            "tcp" | "udp" | "th" | "sctp" | "dccp" | "udplite" | "ip" | "ip6" | "icmp"
            | "icmpv6" | "ether" | "vlan" | "arp" => {
                let field = self.word()?.text;
                self.matching(format!("{w} {field}"))
            }
            _ => {
                // A selector pasvlint does not model (fib, rt, socket, ...): skip to
                // the next statement keyword; it holds only sometimes.
                while !self.at_end_of_statement()
                    && !VERDICTS.contains(&self.peek_text())
                    && !STATEMENTS.contains(&self.peek_text())
                {
                    if self.peek_text() == "{" {
                        self.elements()?;
                    } else {
                        self.pos += 1;
                    }
                }
                Ok(Item::Match {
                    key: w.to_owned(),
                    negated: false,
                    value: Value::List(Vec::new()),
                })
            }
        }
    }

    /// Arguments of a statement pasvlint does not take apart, up to the next
    /// keyword; a `{ … }` in them (`snat ip saddr map { … }`) is one argument.
    fn skip_args(&mut self) -> PResult<()> {
        while !self.at_end_of_statement()
            && !VERDICTS.contains(&self.peek_text())
            && self.peek_text() != "comment"
            && self.peek_text() != "counter"
        {
            if self.peek_text() == "{" {
                self.elements()?;
            } else {
                self.pos += 1;
            }
        }
        Ok(())
    }

    /// `SELECTOR [op] VALUE`.
    fn matching(&mut self, key: String) -> PResult<Item> {
        let masked = self.masked()?;
        let mut negated = false;
        match self.peek_text() {
            "!=" | "ne" => {
                negated = true;
                self.pos += 1;
            }
            "==" | "eq" => self.pos += 1,
            "<" | ">" | "<=" | ">=" | "lt" | "gt" | "le" | "ge" => {
                self.pos += 1;
                if masked || self.expression_ahead() {
                    self.expression_rhs()?;
                    return Ok(may_match(&key));
                }
                self.word()?;
                return Ok(Item::Match {
                    key: format!("{key} cmp"),
                    negated,
                    value: Value::List(Vec::new()),
                });
            }
            "vmap" => {
                self.pos += 1;
                let value = self.value()?;
                return Ok(Item::Vmap { key, value });
            }
            _ => {}
        }
        if masked || self.expression_ahead() {
            self.expression_rhs()?;
            return Ok(may_match(&key));
        }
        let from = self.pos;
        let value = self.value()?;
        if matches!(value, Value::List(_)) && self.expression_ahead() {
            self.continue_rhs()?;
            return Ok(may_match(&key));
        }
        self.last_value = (from, self.pos);
        Ok(Item::Match {
            key,
            negated,
            value,
        })
    }

    fn value(&mut self) -> PResult<Value> {
        match self.peek_text() {
            "{" => Ok(Value::Anon(self.elements()?)),
            "@" => {
                self.pos += 1;
                Ok(Value::Named(self.word()?.text))
            }
            _ => Ok(Value::List(self.list()?)),
        }
    }

    /// `w` or `w,w,w` (flag lists).
    fn list(&mut self) -> PResult<Vec<String>> {
        if self.at_end_of_statement() {
            let at = self
                .toks
                .get(self.pos)
                .map_or(self.src.text.len(), |t| t.start);
            let what = self.peek().map_or("end of file".into(), describe);
            return Err((format!("syntax error, unexpected {what}"), at, at));
        }
        let mut out = vec![self.word()?.text];
        while self.peek_text() == "," {
            self.pos += 1;
            out.push(self.word()?.text);
        }
        Ok(out)
    }

    /// `:PORT[-PORT]` (or `PORT` after `redirect to`).
    fn nat_port(&mut self) -> PResult<Option<(u16, u16)>> {
        if self.peek_text() == ":" {
            self.pos += 1;
        } else if self.at_end_of_statement()
            || !self.peek_text().starts_with(|c: char| c.is_ascii_digit())
        {
            return Ok(None);
        }
        let w = self.word()?;
        let (lo, hi) = w.text.split_once('-').unwrap_or((&w.text, &w.text));
        match (lo.parse(), hi.parse()) {
            (Ok(lo), Ok(hi)) => Ok(Some((lo, hi))),
            _ => Ok(None),
        }
    }
}

/// The destination-port matches of one rule: how many, and the value of the last.
#[derive(Default)]
struct DportMatches {
    count: u8,
    value: Option<(PortSyntax, (usize, usize))>,
}

impl DportMatches {
    fn note(&mut self, item: &Item, value: (usize, usize)) {
        let Item::Match {
            key,
            negated,
            value: v,
        } = item
        else {
            return;
        };
        if !matches!(key.as_str(), "tcp dport" | "th dport") {
            return;
        }
        self.count = self.count.saturating_add(1);
        self.value = match v {
            Value::List(words) if words.len() == 1 && !negated => Some((PortSyntax::Nft, value)),
            Value::Anon(_) if !negated => Some((PortSyntax::NftSet, value)),
            _ => None,
        };
    }

    fn written(&self, p: &Parser<'_>) -> Option<(PortSyntax, crate::source::Span)> {
        let (syntax, value) = self.value.filter(|_| self.count == 1 && !p.script)?;
        Some((syntax, p.written(value)?))
    }
}

/// A match on a computed value (`tcp flags & (syn|ack) == syn`): it may hold.
fn may_match(key: &str) -> Item {
    Item::Match {
        key: format!("{key} expression"),
        negated: false,
        value: Value::List(Vec::new()),
    }
}

fn mark_set(field: &str, v: &[String]) -> Item {
    let parse = |s: &str| {
        s.strip_prefix("0x")
            .map_or_else(|| s.parse().ok(), |h| u32::from_str_radix(h, 16).ok())
    };
    match (field, v) {
        ("mark", [one]) => parse(one).map_or(Item::Other, Item::MarkSet),
        _ => Item::Other,
    }
}

/// How nft's parser names a token in `unexpected ...`.
fn describe(t: &Token) -> String {
    match t.kind {
        Kind::Newline => "newline".into(),
        Kind::Str => format!("quoted string \"{}\"", t.text),
        Kind::Punct => format!("'{}'", t.text),
        Kind::Word if t.text.parse::<u64>().is_ok() => "number".into(),
        Kind::Word => t.text.clone(),
    }
}
