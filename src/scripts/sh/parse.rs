//! bash's grammar, read from the script's bytes: lists, pipelines, compound
//! commands, words with their quoting, redirections and heredocs. A syntax
//! error ends the script where bash would stop reading it.

use super::ast::*;

/// Parser nesting (parentheses, compound commands, `${…}` inside `${…}`) deeper
/// than this is taken as a syntax error: it bounds the recursion.
const MAX_NESTING: usize = 200;

pub fn parse(text: &str, bash: bool) -> Script {
    let mut p = Parser {
        src: text,
        b: text.as_bytes(),
        pos: 0,
        pending: Vec::new(),
        heredocs: Vec::new(),
        depth: 0,
        bash,
        failed: false,
    };
    let mut items = Vec::new();
    loop {
        p.skip_separators();
        if p.at_end() || p.failed {
            break;
        }
        let before = p.pos;
        match p.and_or() {
            Some(node) if !p.failed => items.push(node),
            _ => break,
        }
        p.skip_blank();
        match p.peek() {
            Some(b';') if p.peek_at(1) != Some(b';') => p.pos += 1,
            Some(b'&') => p.pos += 1,
            Some(b'\n') | None => {}
            _ => break,
        }
        if p.pos == before {
            break;
        }
    }
    Script {
        items,
        heredocs: p.heredocs,
    }
}

/// Parse the inside of `$(…)`: its commands as a script of their own.
pub fn parse_range(text: &str, range: Range, bash: bool) -> Script {
    let (s, e) = (range.0 as usize, range.1 as usize);
    let Some(inner) = text.get(..e) else {
        return Script::default();
    };
    let mut p = Parser {
        src: inner,
        b: inner.as_bytes(),
        pos: s,
        pending: Vec::new(),
        heredocs: Vec::new(),
        depth: 0,
        bash,
        failed: false,
    };
    let mut items = Vec::new();
    p.skip_separators();
    if let Some(node) = p.and_or() {
        items.push(node);
    }
    p.skip_separators();
    if !p.at_end() || p.failed {
        items.clear();
    }
    Script {
        items,
        heredocs: p.heredocs,
    }
}

struct Parser<'s> {
    src: &'s str,
    b: &'s [u8],
    pos: usize,
    /// Heredocs whose bodies start after the next newline.
    pending: Vec<(usize, String, bool)>,
    heredocs: Vec<HereDoc>,
    depth: usize,
    bash: bool,
    failed: bool,
}

fn is_meta(c: u8) -> bool {
    matches!(
        c,
        b' ' | b'\t' | b'\n' | b';' | b'&' | b'|' | b'<' | b'>' | b'(' | b')'
    )
}

fn is_name_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_'
}

fn is_name(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

const RESERVED_ENDS: &[&str] = &[
    "then", "else", "elif", "fi", "do", "done", "esac", "}", "in",
];

impl<'s> Parser<'s> {
    fn at_end(&self) -> bool {
        self.pos >= self.b.len()
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.pos).copied()
    }

    fn peek_at(&self, n: usize) -> Option<u8> {
        self.b.get(self.pos + n).copied()
    }

    fn starts(&self, s: &str) -> bool {
        self.b
            .get(self.pos..)
            .is_some_and(|r| r.starts_with(s.as_bytes()))
    }

    fn fail(&mut self) -> Option<Node> {
        self.failed = true;
        None
    }

    fn enter(&mut self) -> bool {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            self.failed = true;
        }
        !self.failed
    }

    fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    /// Spaces, tabs, `\`-newline continuations and comments.
    fn skip_blank(&mut self) {
        while let Some(c) = self.peek() {
            match c {
                b' ' | b'\t' | b'\r' => self.pos += 1,
                b'\\' if self.peek_at(1) == Some(b'\n') => self.pos += 2,
                b'#' => {
                    while self.peek().is_some_and(|c| c != b'\n') {
                        self.pos += 1;
                    }
                }
                _ => break,
            }
        }
    }

    fn newline(&mut self) {
        self.pos += 1;
        let pending = std::mem::take(&mut self.pending);
        for (index, delim, strip) in pending {
            self.heredoc_body(index, &delim, strip);
        }
    }

    /// Blanks and newlines (between the lines of a list).
    fn skip_newlines(&mut self) {
        loop {
            self.skip_blank();
            if self.peek() == Some(b'\n') {
                self.newline();
            } else {
                break;
            }
        }
    }

    fn skip_separators(&mut self) {
        loop {
            self.skip_newlines();
            let case_end = matches!(self.peek_at(1), Some(b';' | b'&'));
            if self.peek() == Some(b';') && !case_end {
                self.pos += 1;
            } else {
                break;
            }
        }
    }

    /// The next word if it is plain unquoted text (a reserved word candidate).
    fn peek_plain(&self) -> Option<&'s str> {
        let start = self.pos;
        let mut i = start;
        while let Some(&c) = self.b.get(i) {
            if is_meta(c) || c == b'\r' {
                break;
            }
            if matches!(c, b'\'' | b'"' | b'\\' | b'$' | b'`') {
                return None;
            }
            i += 1;
        }
        (i > start).then(|| &self.src[start..i])
    }

    fn eat_plain(&mut self, word: &str) -> bool {
        if self.peek_plain() == Some(word) {
            self.pos += word.len();
            true
        } else {
            false
        }
    }

    fn expect_plain(&mut self, word: &str) -> bool {
        self.skip_newlines();
        if self.eat_plain(word) {
            true
        } else {
            self.failed = true;
            false
        }
    }

    /// Commands up to a reserved word that ends them (`then`, `fi`, `done`, `}`,
    /// `)`, `;;`, `esac`).
    fn list(&mut self) -> Node {
        let mut items = Vec::new();
        loop {
            self.skip_separators();
            if self.at_end() || self.failed {
                break;
            }
            if matches!(self.peek(), Some(b')')) || self.starts(";;") || self.starts(";&") {
                break;
            }
            if self
                .peek_plain()
                .is_some_and(|w| RESERVED_ENDS.contains(&w))
            {
                break;
            }
            let before = self.pos;
            match self.and_or() {
                Some(n) => items.push(n),
                None => break,
            }
            self.skip_blank();
            match self.peek() {
                Some(b';') if self.peek_at(1) != Some(b';') && self.peek_at(1) != Some(b'&') => {
                    self.pos += 1
                }
                Some(b'&') => self.pos += 1,
                _ => {}
            }
            if self.pos == before {
                self.failed = true;
                break;
            }
        }
        Node::List(items)
    }

    fn and_or(&mut self) -> Option<Node> {
        let first = self.pipeline()?;
        let mut rest = Vec::new();
        loop {
            self.skip_blank();
            let and = if self.starts("&&") {
                true
            } else if self.starts("||") {
                false
            } else {
                break;
            };
            self.pos += 2;
            self.skip_newlines();
            rest.push((and, self.pipeline()?));
        }
        Some(if rest.is_empty() {
            first
        } else {
            Node::AndOr {
                first: Box::new(first),
                rest,
            }
        })
    }

    fn pipeline(&mut self) -> Option<Node> {
        self.skip_blank();
        let start = self.pos;
        let mut bang = false;
        if self.peek() == Some(b'!') && self.peek_at(1).is_none_or(is_meta) {
            bang = true;
            self.pos += 1;
            self.skip_blank();
        }
        let mut cmds = vec![self.command()?];
        loop {
            self.skip_blank();
            if self.peek() == Some(b'|') && self.peek_at(1) != Some(b'|') {
                self.pos += 1;
                if self.peek() == Some(b'&') {
                    self.pos += 1;
                }
                self.skip_newlines();
                cmds.push(self.command()?);
            } else {
                break;
            }
        }
        if cmds.len() == 1 && !bang {
            return cmds.pop();
        }
        Some(Node::Pipeline {
            bang,
            cmds,
            span: (start as u32, self.pos as u32),
        })
    }

    fn command(&mut self) -> Option<Node> {
        if !self.enter() {
            return None;
        }
        let node = self.command_inner();
        self.leave();
        let node = node?;
        if matches!(node, Node::Simple(_) | Node::Func { .. }) {
            return Some(node);
        }
        let redirs = self.trailing_redirs();
        Some(if redirs.is_empty() {
            node
        } else {
            Node::Redirected {
                node: Box::new(node),
                redirs,
            }
        })
    }

    fn trailing_redirs(&mut self) -> Vec<Redir> {
        let mut redirs = Vec::new();
        loop {
            self.skip_blank();
            match self.redirect() {
                Some(r) => redirs.push(r),
                None => break,
            }
        }
        redirs
    }

    fn command_inner(&mut self) -> Option<Node> {
        self.skip_blank();
        let start = self.pos;
        if self.starts("((") && self.bash {
            let expr_start = self.pos + 2;
            let end = self.matching_parens(expr_start, 2)?;
            self.pos = end;
            return Some(Node::Arith {
                expr: (expr_start as u32, (end - 2) as u32),
                span: (start as u32, end as u32),
            });
        }
        if self.peek() == Some(b'(') {
            self.pos += 1;
            let body = self.list();
            self.skip_newlines();
            if self.peek() != Some(b')') {
                return self.fail();
            }
            self.pos += 1;
            return Some(Node::Subshell(Box::new(body)));
        }
        match self.peek_plain() {
            Some("{") => {
                self.pos += 1;
                let body = self.list();
                self.expect_plain("}").then(|| Node::Group(Box::new(body)))
            }
            Some("if") => self.if_clause(),
            Some("while") => self.loop_clause(false),
            Some("until") => self.loop_clause(true),
            Some("for") => self.for_clause(),
            Some("case") => self.case_clause(),
            Some("[[") if self.bash => self.cond(),
            Some("function") if self.bash => {
                self.pos += "function".len();
                self.skip_blank();
                let name = self.peek_plain()?.trim_end_matches("()").to_owned();
                self.pos += name.len();
                self.skip_blank();
                if self.starts("()") {
                    self.pos += 2;
                }
                self.func_body(name)
            }
            Some(w) if RESERVED_ENDS.contains(&w) => self.fail(),
            _ => self.simple_or_func(),
        }
    }

    fn func_body(&mut self, name: String) -> Option<Node> {
        self.skip_newlines();
        let body = self.command()?;
        Some(Node::Func {
            name,
            body: Box::new(body),
        })
    }

    fn if_clause(&mut self) -> Option<Node> {
        self.pos += 2;
        let mut arms = Vec::new();
        let mut otherwise = None;
        loop {
            let cond = self.list();
            if !self.expect_plain("then") {
                return None;
            }
            let body = self.list();
            arms.push((cond, body));
            self.skip_newlines();
            if self.eat_plain("elif") {
                continue;
            }
            if self.eat_plain("else") {
                otherwise = Some(Box::new(self.list()));
            }
            break;
        }
        self.expect_plain("fi")
            .then_some(Node::If { arms, otherwise })
    }

    fn loop_clause(&mut self, until: bool) -> Option<Node> {
        // `while` and `until` are both five letters.
        self.pos += 5;
        let cond = self.list();
        let body = self.do_group()?;
        Some(Node::Loop {
            until,
            cond: Box::new(cond),
            body: Box::new(body),
        })
    }

    fn do_group(&mut self) -> Option<Node> {
        self.skip_separators();
        if self.eat_plain("{") {
            // bash accepts `for x in a; { …; }`.
            let body = self.list();
            return self.expect_plain("}").then_some(body);
        }
        if !self.expect_plain("do") {
            return None;
        }
        let body = self.list();
        self.expect_plain("done").then_some(body)
    }

    fn for_clause(&mut self) -> Option<Node> {
        let start = self.pos;
        self.pos += 3;
        self.skip_blank();
        if self.starts("((") {
            let inner = self.pos + 2;
            let end = self.matching_parens(inner, 2)?;
            let text = &self.src[inner..end - 2];
            let mut parts = text.match_indices(';').map(|(i, _)| inner + i);
            let (Some(a), Some(b)) = (parts.next(), parts.next()) else {
                return self.fail();
            };
            self.pos = end;
            let body = self.do_group()?;
            return Some(Node::ArithFor {
                init: (inner as u32, a as u32),
                cond: (a as u32 + 1, b as u32),
                step: (b as u32 + 1, (end - 2) as u32),
                body: Box::new(body),
                span: (start as u32, end as u32),
            });
        }
        let var = self.peek_plain()?.to_owned();
        if !var.bytes().all(is_name) {
            return self.fail();
        }
        self.pos += var.len();
        self.skip_newlines();
        let mut words = None;
        if self.eat_plain("in") {
            let mut list = Vec::new();
            loop {
                self.skip_blank();
                match self.peek() {
                    Some(b';') | Some(b'\n') | None => break,
                    _ => {}
                }
                let w = self.word()?;
                list.push(w);
            }
            words = Some(list);
        }
        let span = (start as u32, self.pos as u32);
        let body = self.do_group()?;
        Some(Node::For {
            var,
            words,
            body: Box::new(body),
            span,
        })
    }

    fn case_clause(&mut self) -> Option<Node> {
        self.pos += 4;
        self.skip_blank();
        let subject = self.word()?;
        if !self.expect_plain("in") {
            return None;
        }
        let mut arms = Vec::new();
        loop {
            self.skip_separators();
            if self.eat_plain("esac") || self.at_end() {
                break;
            }
            if self.peek() == Some(b'(') {
                self.pos += 1;
            }
            let mut patterns = Vec::new();
            loop {
                self.skip_blank();
                patterns.push(self.word()?);
                self.skip_blank();
                match self.peek() {
                    Some(b'|') => self.pos += 1,
                    Some(b')') => {
                        self.pos += 1;
                        break;
                    }
                    _ => return self.fail(),
                }
            }
            let body = self.list();
            self.skip_newlines();
            let end = if self.starts(";;&") {
                self.pos += 3;
                ArmEnd::TestNext
            } else if self.starts(";;") {
                self.pos += 2;
                ArmEnd::Break
            } else if self.starts(";&") {
                self.pos += 2;
                ArmEnd::FallThrough
            } else {
                ArmEnd::Break
            };
            arms.push(Arm {
                patterns,
                body,
                end,
            });
            if self.failed {
                return None;
            }
        }
        Some(Node::Case { subject, arms })
    }

    /// `[[ … ]]`: words up to `]]`, with `&&`, `||`, `(`, `)`, `<`, `>` as words.
    fn cond(&mut self) -> Option<Node> {
        let start = self.pos;
        self.pos += 2;
        let mut words = Vec::new();
        loop {
            self.skip_blank();
            if self.peek() == Some(b'\n') {
                self.newline();
                continue;
            }
            if self.at_end() {
                return self.fail();
            }
            if self.eat_plain("]]") {
                break;
            }
            let op = ["&&", "||", "(", ")", "<", ">"]
                .into_iter()
                .find(|op| self.starts(op));
            if let Some(op) = op {
                let s = self.pos as u32;
                self.pos += op.len();
                words.push(WordT {
                    span: (s, self.pos as u32),
                    parts: vec![Part::Lit {
                        text: op.to_owned(),
                        quoted: false,
                        span: (s, self.pos as u32),
                    }],
                });
                continue;
            }
            words.push(self.word()?);
        }
        Some(Node::Cond {
            words,
            span: (start as u32, self.pos as u32),
        })
    }

    fn simple_or_func(&mut self) -> Option<Node> {
        let start = self.pos;
        if let Some(name) = self.peek_plain_name() {
            let after = self.pos + name.len();
            let mut i = after;
            while self.b.get(i).is_some_and(|c| matches!(c, b' ' | b'\t')) {
                i += 1;
            }
            if self.b.get(i) == Some(&b'(') {
                let mut j = i + 1;
                while self.b.get(j).is_some_and(|c| matches!(c, b' ' | b'\t')) {
                    j += 1;
                }
                if self.b.get(j) == Some(&b')') {
                    self.pos = j + 1;
                    return self.func_body(name.to_owned());
                }
            }
        }
        let mut simple = Simple {
            assigns: Vec::new(),
            words: Vec::new(),
            arrays: Vec::new(),
            redirs: Vec::new(),
            span: (start as u32, start as u32),
        };
        loop {
            self.skip_blank();
            let Some(c) = self.peek() else { break };
            if let Some(r) = self.redirect() {
                simple.redirs.push(r);
                continue;
            }
            if is_meta(c) {
                break;
            }
            if simple.words.is_empty() {
                if let Some(a) = self.assignment() {
                    simple.assigns.push(a);
                    continue;
                }
            } else if self.array_follows() && simple.words.first().is_some_and(is_declaration) {
                if let Some(a) = self.assignment() {
                    simple.arrays.push(a);
                    continue;
                }
            }
            let w = self.word()?;
            simple.words.push(w);
        }
        simple.span.1 = self.pos as u32;
        if simple.words.is_empty() && simple.assigns.is_empty() && simple.redirs.is_empty() {
            return self.fail();
        }
        Some(Node::Simple(simple))
    }

    /// `NAME=(` or `NAME+=(` at `pos` (an array given to `declare`/`local`).
    fn array_follows(&self) -> bool {
        let rest = &self.b[self.pos..];
        let name = rest.iter().take_while(|c| is_name(**c)).count();
        name > 0
            && rest.first().is_some_and(|c| is_name_start(*c))
            && (rest[name..].starts_with(b"=(") || rest[name..].starts_with(b"+=("))
    }

    fn peek_plain_name(&self) -> Option<&'s str> {
        let w = self.peek_plain()?;
        let name_len = w
            .bytes()
            .take_while(|&c| is_name(c) || c == b'-' || c == b'.' || c == b':')
            .count();
        let name = &w[..name_len];
        (!name.is_empty() && !RESERVED_ENDS.contains(&name)).then_some(name)
    }

    fn assignment(&mut self) -> Option<Assign> {
        let start = self.pos;
        if !self.peek().is_some_and(is_name_start) {
            return None;
        }
        let mut i = start;
        while self.b.get(i).copied().is_some_and(is_name) {
            i += 1;
        }
        let name = self.src[start..i].to_owned();
        let mut index = None;
        if self.b.get(i) == Some(&b'[') {
            let close = self.src[i..].find(']').map(|n| i + n)?;
            index = Some(((i + 1) as u32, close as u32));
            i = close + 1;
        }
        let append = self.b.get(i) == Some(&b'+');
        if append {
            i += 1;
        }
        if self.b.get(i) != Some(&b'=') {
            return None;
        }
        self.pos = i + 1;
        if self.peek() == Some(b'(') && index.is_none() {
            self.pos += 1;
            let mut items = Vec::new();
            loop {
                self.skip_newlines();
                match self.peek() {
                    Some(b')') => {
                        self.pos += 1;
                        break;
                    }
                    None => return None,
                    _ => items.push(self.word()?),
                }
            }
            return Some(Assign {
                name,
                append,
                value: AssignValue::Array(items),
                span: (start as u32, self.pos as u32),
            });
        }
        let value = self.word_parts(start_of(self.pos));
        let value = value?;
        let span = (start as u32, self.pos as u32);
        Some(Assign {
            name,
            append,
            value: match index {
                Some(ix) => AssignValue::Element(ix, value),
                None => AssignValue::Scalar(value),
            },
            span,
        })
    }

    fn redirect(&mut self) -> Option<Redir> {
        let start = self.pos;
        let mut i = self.pos;
        while self.b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        let fd = if i > start {
            if !matches!(self.b.get(i), Some(b'<' | b'>')) {
                return None;
            }
            self.src[start..i].parse::<u8>().ok()
        } else {
            None
        };
        let rest = &self.src[i..];
        let (op, len) = if rest.starts_with("&>>") {
            (RedirOp::AllAppend, 3)
        } else if rest.starts_with("&>") {
            (RedirOp::AllOut, 2)
        } else if rest.starts_with(">>") {
            (RedirOp::Append, 2)
        } else if rest.starts_with(">&") {
            (RedirOp::DupOut, 2)
        } else if rest.starts_with(">|") {
            (RedirOp::Out, 2)
        } else if rest.starts_with('>') {
            (RedirOp::Out, 1)
        } else if rest.starts_with("<<<") {
            (RedirOp::HereString, 3)
        } else if rest.starts_with("<<-") {
            (RedirOp::HereDoc(1), 3)
        } else if rest.starts_with("<<") {
            (RedirOp::HereDoc(0), 2)
        } else if rest.starts_with("<&") || rest.starts_with("<>") {
            (RedirOp::OtherIn, 2)
        } else if rest.starts_with('<') {
            (RedirOp::In, 1)
        } else {
            return None;
        };
        self.pos = i + len;
        self.skip_blank();
        let target = self.word()?;
        let op = match op {
            RedirOp::HereDoc(strip) => {
                let delim_raw = &self.src[target.span.0 as usize..target.span.1 as usize];
                let expand = !delim_raw.contains(['\'', '"', '\\']);
                let delim = plain_text(&target);
                let index = self.heredocs.len();
                self.heredocs.push(HereDoc {
                    expand,
                    parts: Vec::new(),
                });
                self.pending.push((index, delim, strip == 1));
                RedirOp::HereDoc(index)
            }
            op => op,
        };
        Some(Redir {
            fd,
            op,
            target,
            span: (start as u32, self.pos as u32),
        })
    }

    fn heredoc_body(&mut self, index: usize, delim: &str, strip: bool) {
        let expand = self.heredocs.get(index).is_some_and(|h| h.expand);
        let mut parts = Vec::new();
        while self.pos < self.b.len() {
            let line_start = self.pos;
            let end = self.src[line_start..]
                .find('\n')
                .map_or(self.b.len(), |n| line_start + n);
            let mut s = line_start;
            if strip {
                while self.b.get(s) == Some(&b'\t') {
                    s += 1;
                }
            }
            let line = &self.src[s..end];
            if line == delim || line.strip_suffix('\r') == Some(delim) && !delim.is_empty() {
                self.pos = (end + 1).min(self.b.len());
                break;
            }
            let with_newline = (end + 1).min(self.b.len());
            if expand {
                self.pos = s;
                parts.extend(self.quoted_parts(with_newline, true));
            } else if s < with_newline {
                parts.push(Part::Lit {
                    text: self.src[s..with_newline].to_owned(),
                    quoted: true,
                    span: (s as u32, with_newline as u32),
                });
            }
            if with_newline == end {
                // The last line has no newline: bash adds none either.
            }
            self.pos = with_newline;
        }
        if let Some(h) = self.heredocs.get_mut(index) {
            h.parts = parts;
        }
    }

    /// One word at `pos` (which must not be a metacharacter).
    fn word(&mut self) -> Option<WordT> {
        let start = self.pos;
        let w = self.word_parts(start_of(start))?;
        if w.parts.is_empty() && self.pos == start {
            self.failed = true;
            return None;
        }
        Some(w)
    }

    fn word_parts(&mut self, start: usize) -> Option<WordT> {
        if !self.enter() {
            return None;
        }
        let parts = self.unquoted_parts(|c| is_meta(c) || c == b'\r', false);
        self.leave();
        Some(WordT {
            span: (start as u32, self.pos as u32),
            parts,
        })
    }

    /// Parts up to a byte `stop` says ends the word (outside quotes).
    fn unquoted_parts(&mut self, stop: impl Fn(u8) -> bool, in_brace_alt: bool) -> Vec<Part> {
        let mut parts = Vec::new();
        let mut lit = String::new();
        let mut lit_start = self.pos;
        macro_rules! flush {
            () => {
                if !lit.is_empty() {
                    parts.push(Part::Lit {
                        text: std::mem::take(&mut lit),
                        quoted: false,
                        span: (lit_start as u32, self.pos as u32),
                    });
                }
            };
        }
        while let Some(c) = self.peek() {
            if stop(c) || self.failed {
                break;
            }
            if in_brace_alt && (c == b',' || c == b'}') {
                break;
            }
            match c {
                b'\\' => {
                    flush!();
                    let s = self.pos;
                    match self.src[s + 1..].chars().next() {
                        Some('\n') => self.pos += 2,
                        Some(ch) => {
                            self.pos += 1 + ch.len_utf8();
                            parts.push(Part::Lit {
                                text: ch.to_string(),
                                quoted: true,
                                span: (s as u32, self.pos as u32),
                            });
                        }
                        None => self.pos += 1,
                    }
                    lit_start = self.pos;
                }
                b'\'' => {
                    flush!();
                    let s = self.pos;
                    let close = self.src[s + 1..]
                        .find('\'')
                        .map_or(self.b.len(), |n| s + 1 + n);
                    parts.push(Part::Lit {
                        text: self.src[s + 1..close].to_owned(),
                        quoted: true,
                        span: (s as u32, (close + 1).min(self.b.len()) as u32),
                    });
                    self.pos = (close + 1).min(self.b.len());
                    if close >= self.b.len() {
                        self.failed = true;
                    }
                    lit_start = self.pos;
                }
                b'"' => {
                    flush!();
                    let s = self.pos;
                    self.pos += 1;
                    let inner = self.quoted_parts(self.b.len(), false);
                    if self.peek() != Some(b'"') {
                        self.failed = true;
                    }
                    self.pos = (self.pos + 1).min(self.b.len());
                    parts.push(Part::DQuote {
                        parts: inner,
                        span: (s as u32, self.pos as u32),
                    });
                    lit_start = self.pos;
                }
                b'$' if self.bash && self.peek_at(1) == Some(b'\'') => {
                    flush!();
                    parts.push(self.ansi_c());
                    lit_start = self.pos;
                }
                b'$' if self.peek_at(1) == Some(b'"') => {
                    self.pos += 1;
                }
                b'$' | b'`' => {
                    flush!();
                    if let Some(p) = self.dollar() {
                        parts.push(p);
                    }
                    lit_start = self.pos;
                }
                b'{' if self.bash => {
                    if let Some(p) = self.brace() {
                        flush!();
                        parts.push(p);
                        lit_start = self.pos;
                    } else {
                        lit.push('{');
                        self.pos += 1;
                    }
                }
                _ => {
                    let ch = self.src[self.pos..].chars().next().unwrap_or(' ');
                    lit.push(ch);
                    self.pos += ch.len_utf8();
                }
            }
        }
        flush!();
        parts
    }

    /// Inside double quotes (or an expanded heredoc body, `heredoc`): up to `"` or `end`.
    fn quoted_parts(&mut self, end: usize, heredoc: bool) -> Vec<Part> {
        let mut parts = Vec::new();
        let mut lit = String::new();
        let mut lit_start = self.pos;
        macro_rules! flush {
            () => {
                if !lit.is_empty() {
                    parts.push(Part::Lit {
                        text: std::mem::take(&mut lit),
                        quoted: true,
                        span: (lit_start as u32, self.pos as u32),
                    });
                }
            };
        }
        while self.pos < end && !self.failed {
            let Some(c) = self.peek() else { break };
            match c {
                b'"' if !heredoc => break,
                b'\\' => {
                    let next = self.peek_at(1);
                    let escapes = matches!(next, Some(b'$' | b'`' | b'\\' | b'\n'))
                        || (!heredoc && next == Some(b'"'));
                    if escapes {
                        flush!();
                        let s = self.pos;
                        self.pos += 2;
                        if next != Some(b'\n') {
                            parts.push(Part::Lit {
                                text: (next.unwrap_or(b' ') as char).to_string(),
                                quoted: true,
                                span: (s as u32, self.pos as u32),
                            });
                        }
                        lit_start = self.pos;
                    } else {
                        lit.push('\\');
                        self.pos += 1;
                    }
                }
                b'$' | b'`' => {
                    flush!();
                    if let Some(p) = self.dollar() {
                        parts.push(p);
                    }
                    lit_start = self.pos;
                }
                _ => {
                    let ch = self.src[self.pos..].chars().next().unwrap_or(' ');
                    lit.push(ch);
                    self.pos += ch.len_utf8();
                }
            }
        }
        flush!();
        parts
    }

    fn ansi_c(&mut self) -> Part {
        let s = self.pos;
        self.pos += 2;
        let mut text = String::new();
        while let Some(c) = self.peek() {
            if c == b'\'' {
                self.pos += 1;
                break;
            }
            if c == b'\\' {
                let (ch, len) = ansi_escape(&self.src[self.pos + 1..]);
                text.push_str(&ch);
                self.pos += 1 + len;
                continue;
            }
            let ch = self.src[self.pos..].chars().next().unwrap_or(' ');
            text.push(ch);
            self.pos += ch.len_utf8();
        }
        Part::Lit {
            text,
            quoted: true,
            span: (s as u32, self.pos as u32),
        }
    }

    /// `$…` or `` `…` `` at `pos`.
    fn dollar(&mut self) -> Option<Part> {
        let s = self.pos;
        if self.peek() == Some(b'`') {
            let mut i = s + 1;
            while let Some(&c) = self.b.get(i) {
                if c == b'\\' {
                    i += 2;
                    continue;
                }
                if c == b'`' {
                    break;
                }
                i += 1;
            }
            let close = i.min(self.b.len());
            self.pos = (close + 1).min(self.b.len());
            return Some(Part::CmdSub {
                inner: ((s + 1) as u32, close as u32),
                span: (s as u32, self.pos as u32),
            });
        }
        match self.peek_at(1) {
            Some(b'(') if self.peek_at(2) == Some(b'(') => {
                let end = self.matching_parens(s + 3, 2)?;
                self.pos = end;
                Some(Part::Arith {
                    expr: ((s + 3) as u32, (end - 2) as u32),
                    span: (s as u32, end as u32),
                })
            }
            Some(b'(') => {
                let end = self.matching_parens(s + 2, 1)?;
                self.pos = end;
                Some(Part::CmdSub {
                    inner: ((s + 2) as u32, (end - 1) as u32),
                    span: (s as u32, end as u32),
                })
            }
            Some(b'{') => self.braced_param(),
            Some(c) if is_name_start(c) => {
                let mut i = s + 1;
                while self.b.get(i).copied().is_some_and(is_name) {
                    i += 1;
                }
                self.pos = i;
                Some(param(&self.src[s + 1..i], (s as u32, i as u32)))
            }
            Some(c) if c.is_ascii_digit() || b"@*#?$!-".contains(&c) => {
                self.pos = s + 2;
                Some(param(&self.src[s + 1..s + 2], (s as u32, self.pos as u32)))
            }
            _ => {
                self.pos = s + 1;
                Some(Part::Lit {
                    text: "$".into(),
                    quoted: false,
                    span: (s as u32, self.pos as u32),
                })
            }
        }
    }

    /// The end (after the closing parens) of `$(…)` / `$((…))` whose inside
    /// starts at `from`; `close` is the number of `)` that end it.
    fn matching_parens(&mut self, from: usize, close: usize) -> Option<usize> {
        let mut depth = 0usize;
        let mut i = from;
        while let Some(&c) = self.b.get(i) {
            match c {
                b'\\' => i += 1,
                b'\'' => {
                    i = self.src[i + 1..]
                        .find('\'')
                        .map_or(self.b.len(), |n| i + 1 + n);
                }
                b'"' => {
                    i += 1;
                    while let Some(&d) = self.b.get(i) {
                        if d == b'\\' {
                            i += 1;
                        } else if d == b'"' {
                            break;
                        }
                        i += 1;
                    }
                }
                b'(' => depth += 1,
                b')' if depth > 0 => depth -= 1,
                b')' if close == 1 || self.b.get(i + 1) == Some(&b')') => {
                    return Some(i + close);
                }
                _ => {}
            }
            i += 1;
        }
        self.failed = true;
        None
    }

    fn braced_param(&mut self) -> Option<Part> {
        let s = self.pos;
        self.pos += 2;
        let mut length = false;
        if self.peek() == Some(b'#') && self.peek_at(1).is_some_and(|c| c != b'}') {
            length = true;
            self.pos += 1;
        }
        let name_start = self.pos;
        match self.peek() {
            Some(c) if is_name_start(c) => {
                while self.peek().is_some_and(is_name) {
                    self.pos += 1;
                }
            }
            Some(c) if c.is_ascii_digit() => {
                while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                    self.pos += 1;
                }
            }
            Some(c) if b"@*#?$!-".contains(&c) => self.pos += 1,
            _ => {}
        }
        let name = self.src[name_start..self.pos].to_owned();
        let mut index = None;
        if self.peek() == Some(b'[') {
            let close = self.src[self.pos..].find(']').map(|n| self.pos + n)?;
            index = Some(self.src[self.pos + 1..close].to_owned());
            self.pos = close + 1;
        }
        let rest = &self.src[self.pos..];
        let (op, len) = if rest.starts_with('}') {
            (ParamOp::Plain, 0)
        } else if rest.starts_with(":-") {
            (ParamOp::Default(true), 2)
        } else if rest.starts_with(":=") {
            (ParamOp::Assign(true), 2)
        } else if rest.starts_with(":+") {
            (ParamOp::Alt(true), 2)
        } else if rest.starts_with(":?") {
            (ParamOp::Error(true), 2)
        } else if rest.starts_with('-') {
            (ParamOp::Default(false), 1)
        } else if rest.starts_with('=') {
            (ParamOp::Assign(false), 1)
        } else if rest.starts_with('+') {
            (ParamOp::Alt(false), 1)
        } else if rest.starts_with('?') {
            (ParamOp::Error(false), 1)
        } else if rest.starts_with("##") {
            (ParamOp::TrimFront(true), 2)
        } else if rest.starts_with('#') {
            (ParamOp::TrimFront(false), 1)
        } else if rest.starts_with("%%") {
            (ParamOp::TrimBack(true), 2)
        } else if rest.starts_with('%') {
            (ParamOp::TrimBack(false), 1)
        } else {
            (ParamOp::Other, 0)
        };
        self.pos += len;
        let arg_start = self.pos;
        if !self.enter() {
            return None;
        }
        let parts = self.unquoted_parts(|c| c == b'}', false);
        self.leave();
        let arg = WordT {
            span: (arg_start as u32, self.pos as u32),
            parts,
        };
        if self.peek() != Some(b'}') {
            self.failed = true;
            return None;
        }
        self.pos += 1;
        Some(Part::Param(Box::new(Param {
            name,
            index,
            length,
            op,
            arg: (op != ParamOp::Plain).then_some(arg),
            span: (s as u32, self.pos as u32),
        })))
    }

    /// `{a,b}` or `{1..5}` at `pos`; `None` (nothing consumed) when it is not one.
    fn brace(&mut self) -> Option<Part> {
        let s = self.pos;
        let close = brace_close(self.b, s)?;
        let inner = &self.src[s + 1..close];
        if let Some(seq) = brace_sequence(inner) {
            self.pos = close + 1;
            let span = (s as u32, self.pos as u32);
            return Some(Part::Brace(
                seq.into_iter()
                    .map(|t| {
                        vec![Part::Lit {
                            text: t,
                            quoted: false,
                            span,
                        }]
                    })
                    .collect(),
            ));
        }
        if !has_top_comma(inner) {
            return None;
        }
        self.pos = s + 1;
        let mut alts = Vec::new();
        loop {
            if !self.enter() {
                return None;
            }
            let alt = self.unquoted_parts(|c| is_meta(c) || c == b'\r', true);
            self.leave();
            alts.push(alt);
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    break;
                }
                _ => {
                    self.pos = s;
                    return None;
                }
            }
        }
        Some(Part::Brace(alts))
    }
}

fn is_declaration(w: &WordT) -> bool {
    matches!(w.parts.as_slice(), [Part::Lit { text, quoted: false, .. }]
        if matches!(text.as_str(), "declare" | "typeset" | "local" | "export" | "readonly"))
}

fn start_of(pos: usize) -> usize {
    pos
}

fn param(name: &str, span: Range) -> Part {
    Part::Param(Box::new(Param {
        name: name.to_owned(),
        index: None,
        length: false,
        op: ParamOp::Plain,
        arg: None,
        span,
    }))
}

/// The text of a word with its quotes removed, no expansion (heredoc delimiters).
fn plain_text(w: &WordT) -> String {
    fn collect(parts: &[Part], out: &mut String) {
        for p in parts {
            match p {
                Part::Lit { text, .. } => out.push_str(text),
                Part::DQuote { parts, .. } => collect(parts, out),
                Part::Param(p) => {
                    out.push('$');
                    out.push_str(&p.name);
                }
                _ => {}
            }
        }
    }
    let mut out = String::new();
    collect(&w.parts, &mut out);
    out
}

/// The `}` closing the brace at `open`, skipping quotes and nested braces.
fn brace_close(b: &[u8], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = open;
    while let Some(&c) = b.get(i) {
        match c {
            b'\\' => i += 1,
            b'\'' | b'"' | b'$' | b'`' => return None,
            b'{' => depth += 1,
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            c if is_meta(c) => return None,
            _ => {}
        }
        i += 1;
    }
    None
}

fn has_top_comma(inner: &str) -> bool {
    let mut depth = 0i32;
    for c in inner.bytes() {
        match c {
            b'{' => depth += 1,
            b'}' => depth -= 1,
            b',' if depth == 0 => return true,
            _ => {}
        }
    }
    false
}

/// Longest brace sequence bash lists out here; longer ones stay literal words.
const MAX_BRACE_ITEMS: i64 = 100_000;

/// `1..5`, `5..1`, `1..10..2`, `a..e`.
fn brace_sequence(inner: &str) -> Option<Vec<String>> {
    let mut it = inner.split("..");
    let (a, b) = (it.next()?, it.next()?);
    let step = match it.next() {
        Some(s) => s.parse::<i64>().ok()?.checked_abs()?.max(1),
        None => 1,
    };
    if it.next().is_some() {
        return None;
    }
    if let (Ok(x), Ok(y)) = (a.parse::<i64>(), b.parse::<i64>()) {
        let count = x.abs_diff(y) / step as u64;
        if count > MAX_BRACE_ITEMS as u64 {
            return None;
        }
        let count = count as i128;
        let width = if (a.starts_with('0') && a.len() > 1) || (b.starts_with('0') && b.len() > 1) {
            a.len().max(b.len())
        } else {
            0
        };
        let dir = i128::from(if x <= y { step } else { -step });
        return Some(
            (0..=count)
                .map(|k| format!("{:0width$}", i128::from(x) + k * dir, width = width))
                .collect(),
        );
    }
    let (ca, cb) = (single_char(a)?, single_char(b)?);
    if !ca.is_ascii_alphabetic() || !cb.is_ascii_alphabetic() {
        return None;
    }
    let (x, y) = (ca as i64, cb as i64);
    let dir = if x <= y { step } else { -step };
    let count = x.abs_diff(y) as i64 / step;
    Some(
        (0..=count)
            .filter_map(|k| char::from_u32((x + k * dir) as u32).map(String::from))
            .collect(),
    )
}

fn single_char(s: &str) -> Option<char> {
    let mut c = s.chars();
    let first = c.next()?;
    c.next().is_none().then_some(first)
}

/// One `$'…'` escape after the backslash: (text, bytes consumed).
pub fn ansi_escape(rest: &str) -> (String, usize) {
    let mut chars = rest.chars();
    let Some(c) = chars.next() else {
        return ("\\".into(), 0);
    };
    let simple = match c {
        'n' => Some('\n'),
        't' => Some('\t'),
        'r' => Some('\r'),
        'a' => Some('\x07'),
        'b' => Some('\x08'),
        'e' | 'E' => Some('\x1b'),
        'f' => Some('\x0c'),
        'v' => Some('\x0b'),
        '\\' => Some('\\'),
        '\'' => Some('\''),
        '"' => Some('"'),
        '?' => Some('?'),
        _ => None,
    };
    if let Some(ch) = simple {
        return (ch.to_string(), 1);
    }
    let digits = |radix: u32, max: usize, skip: usize| {
        let d: String = rest[skip..]
            .chars()
            .take(max)
            .take_while(|c| c.is_digit(radix))
            .collect();
        let v = u32::from_str_radix(&d, radix).ok();
        (v, d.len())
    };
    match c {
        '0'..='7' => {
            let (v, n) = digits(8, 3, 0);
            let ch = v.and_then(|v| char::from_u32(v & 0xff)).unwrap_or('\0');
            (ch.to_string(), n)
        }
        'x' => match digits(16, 2, 1) {
            (Some(v), n) => (char::from_u32(v).unwrap_or('\0').to_string(), 1 + n),
            _ => ("\\x".into(), 1),
        },
        _ => (format!("\\{c}"), c.len_utf8()),
    }
}
