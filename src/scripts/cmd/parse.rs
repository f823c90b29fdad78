//! Phase 2 of cmd's reading: carets and quotes, then the statement tree —
//! `&`, `&&`, `||`, `|`, `( … )` blocks over several lines, `if … else`,
//! `for … do`, labels, `rem` and redirections.

use super::cells::{Cell, Cells, lower, starts_with_word};

/// The expanded physical lines that follow, as cmd reads them on demand (a
/// block or a `^` continuation reads the next line).
pub trait LineSource {
    fn next_line(&mut self) -> Option<Cells>;
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// `&` or a new line in a block.
    Then,
    /// `&&`.
    And,
    /// `||`.
    Or,
    /// `|`.
    Pipe,
}

#[derive(Clone, Debug)]
pub struct RawRedirect {
    pub fd: u8,
    pub append: bool,
    pub input: bool,
    /// `&1` for a duplication.
    pub target: Cells,
    pub at: (u32, u32),
}

#[derive(Clone, Debug)]
pub struct Simple {
    /// The command without its redirections, carets resolved.
    pub cells: Cells,
    pub redirects: Vec<RawRedirect>,
    pub at: (u32, u32),
}

#[derive(Clone, Debug)]
pub enum Test {
    Equal(Cells, Cells),
    Compare(Cells, String, Cells),
    /// `exist F`: never known here.
    Exist,
    Defined(Cells),
    Errorlevel(Cells),
    CmdExtVersion(Cells),
}

#[derive(Clone, Debug)]
pub struct If {
    pub fold: bool,
    pub negate: bool,
    pub test: Test,
    pub then: Node,
    pub otherwise: Option<Node>,
    /// The condition as written.
    pub at: (u32, u32),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ForKind {
    List,
    Range,
    Lines,
    Dirs,
    Recursive,
}

#[derive(Clone, Debug)]
pub struct For {
    pub kind: ForKind,
    pub options: Cells,
    pub letter: char,
    pub set: Cells,
    pub body: Node,
    /// `for … do` as written.
    pub at: (u32, u32),
}

#[derive(Clone, Debug)]
pub enum Node {
    Simple(Simple),
    Block(Vec<Node>, Vec<RawRedirect>),
    If(Box<If>),
    For(Box<For>),
    Chain(Vec<(Op, Node)>),
    /// `:name` (`::` comments too); the name, lower-cased.
    Label(String),
    /// cmd rejects the statement ("… was unexpected at this time").
    Malformed((u32, u32)),
    /// Nested deeper than the reader follows.
    TooDeep((u32, u32)),
    Empty,
}

/// Carets and quotes of one expanded line: escaped and quoted characters are
/// marked; a final unquoted `^` continues onto the next line.
fn lex(line: &[Cell], escape_first: bool) -> (Cells, bool) {
    let mut out = Vec::with_capacity(line.len());
    let mut quoted = false;
    let mut i = 0;
    while let Some(&c) = line.get(i) {
        if i == 0 && escape_first && c.c != '\n' {
            out.push(Cell { escaped: true, ..c });
        } else if c.c == '"' {
            quoted = !quoted;
            out.push(c);
        } else if quoted {
            out.push(Cell { escaped: true, ..c });
        } else if c.c == '^' {
            match line.get(i + 1) {
                None => return (out, true),
                Some(&n) => out.push(Cell { escaped: true, ..n }),
            }
            i += 1;
        } else {
            out.push(c);
        }
        i += 1;
    }
    (out, false)
}

pub struct Parser<'a> {
    buf: Cells,
    pos: usize,
    lines: &'a mut dyn LineSource,
    /// Open `(` blocks: inside one, `)` ends a command.
    parens: usize,
    /// Blocks, `if`s and `for`s around the current command.
    depth: usize,
}

const MAX_NESTING: usize = 64;

impl<'a> Parser<'a> {
    /// Reads one statement starting with the next line of `lines`.
    pub fn statement(lines: &'a mut dyn LineSource) -> Option<Node> {
        let first = lines.next_line()?;
        let mut p = Parser {
            buf: Vec::new(),
            pos: 0,
            lines,
            parens: 0,
            depth: 0,
        };
        p.append(&first);
        Some(p.top())
    }

    fn append(&mut self, line: &[Cell]) {
        let (mut cells, mut continues) = lex(line, false);
        while continues {
            let Some(next) = self.lines.next_line() else {
                break;
            };
            let (more, again) = lex(&next, true);
            cells.extend(more);
            continues = again;
        }
        self.buf.extend(cells);
    }

    /// Reads the next line into the statement (inside a block).
    fn pull(&mut self) -> bool {
        let Some(line) = self.lines.next_line() else {
            return false;
        };
        let at = self.buf.last().map_or((0, 0), |c| (c.at.1, c.at.1));
        self.buf.push(Cell::new('\n', at));
        self.append(&line);
        true
    }

    fn peek(&self) -> Option<Cell> {
        self.buf.get(self.pos).copied()
    }

    fn peek_is(&self, c: char) -> bool {
        self.peek().is_some_and(|x| x.is(c))
    }

    fn rest(&self) -> &[Cell] {
        self.buf.get(self.pos..).unwrap_or(&[])
    }

    fn at_line_end(&self) -> bool {
        self.peek().is_none_or(|c| c.is('\n'))
    }

    fn skip_blanks(&mut self) {
        while self.peek().is_some_and(|c| c.is_blank()) {
            self.pos += 1;
        }
    }

    fn skip_delimiters(&mut self) {
        while self.peek().is_some_and(|c| c.is_delimiter() || c.is('@')) {
            self.pos += 1;
        }
    }

    fn top(&mut self) -> Node {
        self.skip_delimiters();
        if self.peek_is(':') {
            return self.label();
        }
        self.chain()
    }

    fn label(&mut self) -> Node {
        self.pos += 1;
        let mut name = String::new();
        while let Some(c) = self.peek().filter(|c| !c.is('\n')) {
            if c.is_delimiter() || c.is('&') || c.is('|') || c.is('<') || c.is('>') {
                break;
            }
            name.push(c.c.to_ascii_lowercase());
            self.pos += 1;
        }
        self.skip_line();
        Node::Label(name)
    }

    fn skip_line(&mut self) {
        while !self.at_line_end() {
            self.pos += 1;
        }
    }

    fn chain(&mut self) -> Node {
        let mut items = vec![(Op::Then, self.command())];
        loop {
            self.skip_blanks();
            let op = match (self.peek(), self.buf.get(self.pos + 1)) {
                (Some(a), Some(b)) if a.is('&') && b.is('&') => (Op::And, 2),
                (Some(a), Some(b)) if a.is('|') && b.is('|') => (Op::Or, 2),
                (Some(a), _) if a.is('&') => (Op::Then, 1),
                (Some(a), _) if a.is('|') => (Op::Pipe, 1),
                _ => break,
            };
            self.pos += op.1;
            items.push((op.0, self.command()));
        }
        match items.len() {
            1 => items.pop().map_or(Node::Empty, |(_, n)| n),
            _ => Node::Chain(items),
        }
    }

    fn command(&mut self) -> Node {
        self.skip_delimiters();
        if self.depth > MAX_NESTING {
            let at = self.peek().map_or((0, 0), |c| c.at);
            self.skip_line();
            return Node::TooDeep(at);
        }
        if self.peek_is('(') {
            return self.block();
        }
        if self.parens == 0 && self.peek_is(')') {
            // A `)` outside any block starts a line cmd ignores.
            self.skip_line();
            return Node::Empty;
        }
        let rest = self.rest();
        if starts_with_word(rest, "if") {
            self.depth += 1;
            let node = self.if_statement();
            self.depth -= 1;
            return node;
        }
        if starts_with_word(rest, "for") {
            self.depth += 1;
            let node = self.for_statement();
            self.depth -= 1;
            return node;
        }
        if starts_with_word(rest, "rem") {
            self.skip_line();
            return Node::Empty;
        }
        if self.parens > 0 && rest.first().is_some_and(|c| c.is(':')) {
            // A label line inside a block does nothing.
            self.skip_line();
            return Node::Empty;
        }
        self.simple()
    }

    fn block(&mut self) -> Node {
        self.pos += 1;
        self.depth += 1;
        self.parens += 1;
        let mut body = Vec::new();
        loop {
            while self
                .peek()
                .is_some_and(|c| c.is('\n') || c.is_delimiter() || c.is('@'))
            {
                self.pos += 1;
            }
            if self.peek().is_none() && !self.pull() {
                break;
            }
            if self.peek_is(')') {
                self.pos += 1;
                break;
            }
            if self.peek_is('\n') || self.peek().is_some_and(|c| c.is_delimiter()) {
                continue;
            }
            let before = self.pos;
            body.push(self.chain());
            if self.pos == before {
                self.pos += 1;
            }
        }
        self.depth -= 1;
        self.parens -= 1;
        let redirects = self.trailing_redirects();
        Node::Block(body, redirects)
    }

    fn trailing_redirects(&mut self) -> Vec<RawRedirect> {
        let mut out = Vec::new();
        loop {
            self.skip_blanks();
            let digit = self
                .peek()
                .is_some_and(|c| c.c.is_ascii_digit() && !c.escaped)
                && self
                    .buf
                    .get(self.pos + 1)
                    .is_some_and(|c| c.is('>') || c.is('<'));
            if digit {
                self.pos += 1;
            }
            if !(self.peek_is('>') || self.peek_is('<')) {
                if digit {
                    self.pos -= 1;
                }
                return out;
            }
            let fd = digit
                .then(|| self.buf.get(self.pos - 1).and_then(|c| c.c.to_digit(10)))
                .flatten();
            out.push(self.redirect(fd));
        }
    }

    /// At `>`, `>>` or `<`; `fd` when a handle digit came before it.
    fn redirect(&mut self, fd: Option<u32>) -> RawRedirect {
        let start = self.peek().map_or((0, 0), |c| c.at);
        let input = self.peek_is('<');
        self.pos += 1;
        let append = !input && self.peek_is('>');
        if append {
            self.pos += 1;
        }
        let mut target = Vec::new();
        if self.peek_is('&') {
            target.extend(self.peek());
            self.pos += 1;
            if let Some(d) = self.peek().filter(|c| c.c.is_ascii_digit()) {
                target.push(d);
                self.pos += 1;
            }
        } else {
            self.skip_blanks();
            while let Some(c) = self.peek() {
                let stop = c.is_blank()
                    || c.is('\n')
                    || c.is('&')
                    || c.is('|')
                    || c.is('<')
                    || c.is('>')
                    || (self.parens > 0 && c.is(')'));
                if stop {
                    break;
                }
                target.push(c);
                self.pos += 1;
            }
        }
        let end = target.last().map_or(start.1, |c| c.at.1);
        RawRedirect {
            fd: fd.map_or(u8::from(!input), |d| d as u8),
            append,
            input,
            target: target.into_iter().filter(|c| !c.is('"')).collect(),
            at: (start.0, end),
        }
    }

    fn simple(&mut self) -> Node {
        let mut cells: Cells = Vec::new();
        let mut redirects = Vec::new();
        let start = self.peek().map_or((0, 0), |c| c.at);
        let mut end = start.1;
        while let Some(c) = self.peek() {
            if c.is('\n') || c.is('&') || c.is('|') || (self.parens > 0 && c.is(')')) {
                break;
            }
            if c.is('>') || c.is('<') {
                let fd = handle_digit(&cells);
                if fd.is_some() {
                    cells.pop();
                }
                let r = self.redirect(fd);
                end = end.max(r.at.1);
                redirects.push(r);
                continue;
            }
            if !c.is_blank() {
                end = c.at.1;
            }
            // Blanks stay: `echo a > f` writes `a `, `set v=1 & …` sets `1 `.
            cells.push(c);
            self.pos += 1;
        }
        if cells.iter().all(|c| c.is_blank()) && redirects.is_empty() {
            return Node::Empty;
        }
        Node::Simple(Simple {
            cells,
            redirects,
            at: (start.0, end),
        })
    }

    /// An operand of `if`: up to a blank or `==`, quotes grouping.
    fn operand(&mut self) -> Cells {
        self.skip_delimiters_but_equals();
        let mut out = Vec::new();
        let mut quoted = false;
        while let Some(c) = self.peek() {
            if c.is('"') {
                quoted = !quoted;
            } else if !quoted {
                let equals = c.is('=') && self.buf.get(self.pos + 1).is_some_and(|n| n.is('='));
                if c.is_blank() || c.is('\n') || equals || c.is('&') || c.is('|') {
                    break;
                }
            }
            out.push(c);
            self.pos += 1;
        }
        out
    }

    fn skip_delimiters_but_equals(&mut self) {
        while self.peek().is_some_and(|c| c.is_delimiter() && !c.is('=')) {
            self.pos += 1;
        }
    }

    fn if_statement(&mut self) -> Node {
        let start = self.peek().map_or((0, 0), |c| c.at);
        self.pos += 2;
        let mut fold = false;
        let mut negate = false;
        let mut first = self.operand();
        if lower(&first) == "/i" {
            fold = true;
            first = self.operand();
        }
        if lower(&first) == "not" {
            negate = true;
            first = self.operand();
        }
        let test = match lower(&first).as_str() {
            "exist" => {
                self.operand();
                Test::Exist
            }
            "defined" => Test::Defined(self.operand()),
            "errorlevel" => Test::Errorlevel(self.operand()),
            "cmdextversion" => Test::CmdExtVersion(self.operand()),
            _ => {
                self.skip_blanks();
                if self.peek_is('=') && self.buf.get(self.pos + 1).is_some_and(|c| c.is('=')) {
                    self.pos += 2;
                    Test::Equal(first, self.operand())
                } else {
                    let op = lower(&self.operand());
                    if !matches!(op.as_str(), "equ" | "neq" | "lss" | "leq" | "gtr" | "geq") {
                        self.skip_line();
                        return Node::Malformed((start.0, self.end_at()));
                    }
                    Test::Compare(first, op, self.operand())
                }
            }
        };
        let at = (start.0, self.end_at());
        self.skip_delimiters();
        if self.at_line_end() {
            return Node::Malformed(at);
        }
        let then_is_block = self.peek_is('(');
        let then = if then_is_block {
            self.block()
        } else {
            self.chain()
        };
        let otherwise = then_is_block.then(|| self.else_branch()).flatten();
        Node::If(Box::new(If {
            fold,
            negate,
            test,
            then,
            otherwise,
            at,
        }))
    }

    fn else_branch(&mut self) -> Option<Node> {
        let save = self.pos;
        self.skip_blanks();
        if !starts_with_word(self.rest(), "else") {
            self.pos = save;
            return None;
        }
        self.pos += 4;
        self.skip_delimiters();
        Some(self.chain())
    }

    fn end_at(&self) -> u32 {
        self.pos
            .checked_sub(1)
            .and_then(|i| self.buf.get(i))
            .map_or(0, |c| c.at.1)
    }

    fn for_statement(&mut self) -> Node {
        let start = self.peek().map_or((0, 0), |c| c.at);
        self.pos += 3;
        let mut kind = ForKind::List;
        let mut options = Vec::new();
        loop {
            self.skip_delimiters();
            let word = lower(&self.rest()[..self.rest().len().min(2)]);
            let next_is_switch = word.starts_with('/')
                && self.buf.get(self.pos + 2).is_none_or(|c| c.is_delimiter());
            if !next_is_switch {
                break;
            }
            self.pos += 2;
            kind = match word.as_str() {
                "/l" => ForKind::Range,
                "/f" => ForKind::Lines,
                "/d" => ForKind::Dirs,
                "/r" => ForKind::Recursive,
                _ => return self.malformed(start),
            };
            self.skip_delimiters();
            let takes_value = match kind {
                ForKind::Lines => self.peek_is('"'),
                ForKind::Recursive => !self.peek_is('%'),
                _ => false,
            };
            if takes_value {
                options = self.operand();
            }
        }
        self.skip_delimiters();
        let letter = match (self.peek(), self.buf.get(self.pos + 1)) {
            (Some(p), Some(l)) if p.c == '%' && !l.is_delimiter() => l.c,
            _ => return self.malformed(start),
        };
        self.pos += 2;
        self.skip_delimiters();
        if !starts_with_word(self.rest(), "in") {
            return self.malformed(start);
        }
        self.pos += 2;
        self.skip_delimiters();
        if !self.peek_is('(') {
            return self.malformed(start);
        }
        self.pos += 1;
        let mut set = Vec::new();
        loop {
            match self.peek() {
                None => {
                    if !self.pull() {
                        return self.malformed(start);
                    }
                }
                Some(c) if c.is(')') => break,
                Some(c) => {
                    set.push(if c.is('\n') { Cell::new(' ', c.at) } else { c });
                    self.pos += 1;
                }
            }
        }
        self.pos += 1;
        self.skip_delimiters();
        if !starts_with_word(self.rest(), "do") {
            return self.malformed(start);
        }
        self.pos += 2;
        let at = (start.0, self.end_at());
        self.skip_delimiters();
        if self.at_line_end() {
            return Node::Malformed(at);
        }
        let body = self.chain();
        Node::For(Box::new(For {
            kind,
            options,
            letter,
            set,
            body,
            at,
        }))
    }

    fn malformed(&mut self, start: (u32, u32)) -> Node {
        self.skip_line();
        Node::Malformed((start.0, self.end_at().max(start.1)))
    }
}

/// `2>`: a digit just before the operator, itself after a blank or first.
fn handle_digit(cells: &[Cell]) -> Option<u32> {
    let (last, before) = cells.split_last()?;
    if last.escaped || !before.last().is_none_or(|c| c.is_blank()) {
        return None;
    }
    last.c.to_digit(10)
}
