//! PowerShell's two parsing modes over one character stream: expression mode
//! (`$a = 21, "990"`, `(1..5)`) and argument mode (`-LocalPort 21,5000-5100`,
//! `name="FTP"`), switched the way the language does it, by the first
//! character of each pipeline element.

use super::ast::*;
use crate::source::{FileId, Span};
use std::rc::Rc;

/// Nesting deeper than this is not parsed (the rest of the file is skipped).
const MAX_NESTING: usize = 200;

pub struct Parser<'a> {
    text: &'a str,
    b: &'a [u8],
    pos: usize,
    file: FileId,
    depth: usize,
    /// Where parsing gave up on nesting, if it did.
    pub too_deep: Option<Span>,
    /// The first parse error PowerShell's own parser reports (a loop keyword
    /// without its `(…)` header or its body): PowerShell then runs none of the
    /// script.
    pub error: Option<ParseError>,
}

/// A statement PowerShell's parser rejects, so the script never runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParseError {
    /// The keyword (or header) the error is about; PowerShell reports the
    /// error where it ends.
    pub span: Span,
    /// PowerShell's message (ParserStrings.resx), with its `{0}` filled in.
    pub message: &'static str,
}

fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80
}

fn is_blank(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | 0x0c)
}

/// Ends a bare argument word.
fn ends_word(c: u8) -> bool {
    is_blank(c)
        || matches!(
            c,
            b'\n' | b';' | b',' | b'|' | b'(' | b')' | b'{' | b'}' | b'>'
        )
}

impl<'a> Parser<'a> {
    pub fn new(text: &'a str, file: FileId) -> Self {
        Parser {
            text,
            b: text.as_bytes(),
            pos: 0,
            file,
            depth: 0,
            too_deep: None,
            error: None,
        }
    }

    fn span(&self, start: usize) -> Span {
        Span::new(self.file, start, self.pos.max(start))
    }

    fn at(&self, k: usize) -> u8 {
        self.b.get(self.pos + k).copied().unwrap_or(0)
    }

    fn eof(&self) -> bool {
        self.pos >= self.b.len()
    }

    fn eat(&mut self, s: &str) -> bool {
        if self.b[self.pos.min(self.b.len())..].starts_with(s.as_bytes()) {
            self.pos += s.len();
            true
        } else {
            false
        }
    }

    fn slice(&self, a: usize, b: usize) -> &'a str {
        self.text.get(a..b).unwrap_or("")
    }

    /// Blanks, comments and backtick line continuations (not newlines).
    fn blanks(&mut self) {
        loop {
            let c = self.at(0);
            if is_blank(c) {
                self.pos += 1;
            } else if c == b'`' && matches!(self.at(1), b'\n' | b'\r') {
                self.pos += 1;
                self.eat("\r");
                self.eat("\n");
            } else if c == b'#' {
                while !self.eof() && self.at(0) != b'\n' {
                    self.pos += 1;
                }
            } else if c == b'<' && self.at(1) == b'#' {
                self.pos += 2;
                while !self.eof() && (self.at(0), self.at(1)) != (b'#', b'>') {
                    self.pos += 1;
                }
                self.pos = (self.pos + 2).min(self.b.len());
            } else {
                return;
            }
        }
    }

    /// Blanks and newlines.
    fn space(&mut self) {
        loop {
            self.blanks();
            if self.at(0) == b'\n' {
                self.pos += 1;
            } else {
                return;
            }
        }
    }

    fn separators(&mut self) {
        loop {
            self.space();
            if self.at(0) == b';' {
                self.pos += 1;
            } else {
                return;
            }
        }
    }

    fn enter(&mut self) -> bool {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            if self.too_deep.is_none() {
                self.too_deep = Some(self.span(self.pos));
            }
            self.pos = self.b.len();
            return false;
        }
        true
    }

    /// Records PowerShell's parse error about the token `start..end` (the first
    /// one only: it alone decides that the script does not run).
    fn reject(&mut self, start: usize, end: usize, message: &'static str) {
        if self.error.is_none() {
            self.error = Some(ParseError {
                span: Span::new(self.file, start, end),
                message,
            });
        }
    }

    /// `-flag` words before a statement's header (`switch -regex`, `foreach -parallel`);
    /// whether one of them is `-file`.
    fn statement_flags(&mut self) -> bool {
        let mut file = false;
        loop {
            self.blanks();
            if self.at(0) == b'-' && self.at(1).is_ascii_alphabetic() {
                let start = self.pos + 1;
                self.pos += 1;
                while is_ident(self.at(0)) {
                    self.pos += 1;
                }
                file |= self.slice(start, self.pos).eq_ignore_ascii_case("file");
            } else {
                return file;
            }
        }
    }

    /// PowerShell's `MissingOpenParenthesisAfterKeyword` unless a `(` comes next
    /// (after blanks and newlines, as its parser skips them).
    fn expect_header(&mut self, kw_start: usize, kw_end: usize, kw: &str) {
        let save = self.pos;
        self.space();
        let open = self.at(0) == b'(';
        self.pos = save;
        if !open {
            let message = match kw {
                "for" => "Missing opening '(' after keyword 'for'.",
                "foreach" => "Missing opening '(' after keyword 'foreach'.",
                "while" => "Missing opening '(' after keyword 'while'.",
                _ => "Missing opening '(' after keyword 'until'.",
            };
            self.reject(kw_start, kw_end, message);
        }
    }

    /// Whether a keyword's token ends at `end` (a blank, a line end, a comment
    /// or punctuation the tokenizer splits at), so PowerShell reads it as the keyword.
    fn token_ends(&self, end: usize) -> bool {
        matches!(
            self.b.get(end).copied().unwrap_or(0),
            0 | b' '
                | b'\t'
                | b'\r'
                | b'\n'
                | 0x0c
                | b'('
                | b'{'
                | b'}'
                | b')'
                | b';'
                | b'#'
                | b'<'
        )
    }

    /// PowerShell's error for a loop whose `{ body }` is missing, reported just
    /// after the header that ends at the cursor.
    fn expect_body(&mut self, head_start: usize, message: &'static str) {
        let end = self.pos;
        let save = self.pos;
        self.space();
        let open = self.at(0) == b'{';
        self.pos = save;
        if !open {
            self.reject(head_start, end, message);
        }
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    /// The keyword at the cursor, if the word there is exactly `kw`.
    fn keyword(&self, kw: &str) -> bool {
        let end = self.pos + kw.len();
        self.slice(self.pos, end).eq_ignore_ascii_case(kw)
            && !is_ident(self.b.get(end).copied().unwrap_or(0))
            && self.b.get(end) != Some(&b'-')
    }

    fn eat_keyword(&mut self, kw: &str) -> bool {
        let yes = self.keyword(kw);
        if yes {
            self.pos += kw.len();
        }
        yes
    }

    pub fn script(&mut self) -> Block {
        let mut block = self.statements();
        while !self.eof() {
            // A stray `}` or `)` at the top: skip it and go on.
            self.pos += 1;
            block.extend(self.statements());
        }
        block
    }

    /// Statements up to `}`, `)` or the end.
    fn statements(&mut self) -> Block {
        let mut out = Vec::new();
        if !self.enter() {
            return out;
        }
        loop {
            self.separators();
            if self.eof() || matches!(self.at(0), b'}' | b')') {
                break;
            }
            let before = self.pos;
            if let Some(s) = self.statement() {
                out.push(s);
            }
            if self.pos == before {
                self.pos += 1;
            }
        }
        self.leave();
        out
    }

    /// `{ statements }`; an absent block is empty.
    fn block(&mut self) -> Block {
        self.space();
        if !self.eat("{") {
            return Vec::new();
        }
        let body = self.statements();
        self.eat("}");
        body
    }

    /// `( pipeline )` of `if`/`while`/`switch`.
    fn condition(&mut self) -> Pipeline {
        self.space();
        let start = self.pos;
        if !self.eat("(") {
            return Pipeline {
                elems: Vec::new(),
                span: self.span(start),
            };
        }
        self.space();
        let p = self.pipeline();
        self.space();
        self.eat(")");
        p
    }

    fn statement(&mut self) -> Option<Stmt> {
        let start = self.pos;
        if self.at(0) == b':' && is_ident(self.at(1)) {
            // a loop label
            self.pos += 1;
            while is_ident(self.at(0)) {
                self.pos += 1;
            }
            self.blanks();
        }
        if self.at(0) == b'[' && self.attribute_line() {
            return None;
        }
        let kw = self.pos;
        let kind = if self.eat_keyword("if") {
            self.if_stmt()
        } else if self.eat_keyword("foreach") {
            self.foreach_stmt(kw)
        } else if self.eat_keyword("for") {
            self.for_stmt(kw)
        } else if self.eat_keyword("while") {
            self.expect_header(kw, self.pos, "while");
            let cond = self.condition();
            self.expect_body(kw, "Missing statement body in while loop.");
            StmtKind::While {
                cond,
                body: self.block(),
            }
        } else if self.eat_keyword("do") {
            self.expect_body(kw, "Missing statement body in do loop.");
            let body = self.block();
            let body_end = self.pos;
            self.space();
            let cond_kw = self.pos;
            let until = if self.eat_keyword("until") {
                self.expect_header(cond_kw, self.pos, "until");
                true
            } else {
                if self.eat_keyword("while") {
                    self.expect_header(cond_kw, self.pos, "while");
                } else {
                    self.reject(kw, body_end, "Missing while or until keyword in do loop.");
                }
                false
            };
            StmtKind::Do {
                body,
                cond: self.condition(),
                until,
            }
        } else if self.eat_keyword("switch") {
            self.switch_stmt(kw)
        } else if self.keyword("function") || self.keyword("filter") {
            self.pos += if self.keyword("function") { 8 } else { 6 };
            self.function()
        } else if self.eat_keyword("try") {
            self.try_stmt()
        } else if self.eat_keyword("param") {
            StmtKind::Params(self.param_list())
        } else if self.eat_keyword("break") {
            self.rest_of_line();
            StmtKind::Break
        } else if self.eat_keyword("continue") {
            self.rest_of_line();
            StmtKind::Continue
        } else if self.eat_keyword("exit") {
            self.rest_of_line();
            StmtKind::Exit
        } else if self.eat_keyword("throw") {
            self.rest_of_line();
            StmtKind::Throw
        } else if self.eat_keyword("return") {
            self.blanks();
            let value = (!self.at_pipeline_end()).then(|| self.pipeline());
            StmtKind::Return(value)
        } else {
            return Some(self.assignment_or_pipeline(start));
        };
        if self.error.is_some_and(|e| e.span.start as usize == kw)
            && !self.token_ends(self.word_end(kw))
        {
            // `for.ps1`, `while:x`: one word, a command's name, not a keyword;
            // PowerShell has nothing to reject there.
            self.error = None;
        }
        Some(Stmt {
            kind,
            span: self.span(start),
        })
    }

    /// The end of the identifier that starts at `at`.
    fn word_end(&self, mut at: usize) -> usize {
        while at < self.b.len() && is_ident(self.b[at]) {
            at += 1;
        }
        at
    }

    /// `[CmdletBinding()]` on a line of its own, before `param`.
    fn attribute_line(&mut self) -> bool {
        let save = self.pos;
        let mut depth = 0usize;
        while !self.eof() {
            match self.at(0) {
                b'[' => depth += 1,
                b']' => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        self.pos += 1;
                        break;
                    }
                }
                b'\n' => break,
                _ => {}
            }
            self.pos += 1;
        }
        self.blanks();
        if matches!(self.at(0), b'\n' | 0) || self.keyword("param") || self.at(0) == b'[' {
            return true;
        }
        self.pos = save;
        false
    }

    fn rest_of_line(&mut self) {
        while !self.at_pipeline_end() {
            self.pos += 1;
        }
    }

    fn at_pipeline_end(&self) -> bool {
        matches!(self.at(0), 0 | b'\n' | b';' | b'}' | b')')
    }

    fn if_stmt(&mut self) -> StmtKind {
        let mut clauses = vec![(self.condition(), self.block())];
        let mut otherwise = None;
        loop {
            let save = self.pos;
            self.space();
            if self.eat_keyword("elseif") {
                clauses.push((self.condition(), self.block()));
            } else if self.eat_keyword("else") {
                otherwise = Some(self.block());
                break;
            } else {
                self.pos = save;
                break;
            }
        }
        StmtKind::If { clauses, otherwise }
    }

    fn foreach_stmt(&mut self, kw: usize) -> StmtKind {
        let kw_end = self.pos;
        self.statement_flags();
        self.expect_header(kw, kw_end, "foreach");
        self.space();
        self.eat("(");
        self.space();
        let var = if self.eat("$") {
            self.var_name()
        } else {
            String::new()
        };
        self.space();
        self.eat_keyword("in");
        self.space();
        let items = self.pipeline();
        self.space();
        self.eat(")");
        self.expect_body(
            kw,
            "Missing statement body in foreach loop.\nThe correct form is: foreach ($a in $b) {...}",
        );
        StmtKind::Foreach {
            var,
            items,
            body: self.block(),
        }
    }

    fn for_stmt(&mut self, kw: usize) -> StmtKind {
        self.expect_header(kw, self.pos, "for");
        self.space();
        self.eat("(");
        let init = self.for_part();
        self.eat(";");
        self.space();
        let cond = (!matches!(self.at(0), b';' | b')')).then(|| self.pipeline());
        self.space();
        self.eat(";");
        let step = self.for_part();
        self.space();
        self.eat(")");
        self.expect_body(kw, "Missing statement body in for loop.");
        StmtKind::For {
            init,
            cond,
            step,
            body: self.block(),
        }
    }

    fn for_part(&mut self) -> Option<Box<Stmt>> {
        self.space();
        if matches!(self.at(0), b';' | b')') {
            return None;
        }
        let start = self.pos;
        let s = self.assignment_or_pipeline(start);
        self.space();
        Some(Box::new(s))
    }

    fn switch_stmt(&mut self, kw: usize) -> StmtKind {
        let kw_end = self.pos;
        let file = self.statement_flags();
        if file {
            // `-file path`: the path is the value; not followed.
            self.blanks();
            while !self.eof() && !ends_word(self.at(0)) {
                self.pos += 1;
            }
        } else {
            let save = self.pos;
            self.space();
            if self.at(0) != b'(' {
                self.reject(
                    kw,
                    kw_end,
                    "A switch statement must have one of the following:  '-file file_name' or '( expression )'.",
                );
            }
            self.pos = save;
        }
        let value = self.condition();
        self.expect_body(kw, "Missing '{' in switch statement.");
        self.space();
        let mut cases = Vec::new();
        if !self.eat("{") {
            return StmtKind::Switch { value, cases };
        }
        loop {
            self.separators();
            if self.eof() || self.eat("}") {
                break;
            }
            let before = self.pos;
            let label = if self.keyword("default") {
                self.pos += 7;
                None
            } else {
                Some(self.arg_value())
            };
            let body = self.block();
            cases.push((label, body));
            if self.pos == before {
                self.pos += 1;
            }
        }
        StmtKind::Switch { value, cases }
    }

    fn function(&mut self) -> StmtKind {
        self.blanks();
        let name_start = self.pos;
        while !self.eof() && !ends_word(self.at(0)) {
            self.pos += 1;
        }
        let name = self.slice(name_start, self.pos).to_ascii_lowercase();
        self.blanks();
        let mut params = if self.at(0) == b'(' {
            self.param_list()
        } else {
            Vec::new()
        };
        self.space();
        let mut body = Vec::new();
        if self.eat("{") {
            self.separators();
            while self.at(0) == b'[' && self.attribute_line() {
                self.separators();
            }
            if self.eat_keyword("param") {
                params.extend(self.param_list());
            }
            body = self.statements();
            self.eat("}");
        }
        StmtKind::Function(Rc::new(Function { name, params, body }))
    }

    /// `( [type]$a = default, [switch]$b )`.
    fn param_list(&mut self) -> Vec<Param> {
        let mut out = Vec::new();
        self.space();
        if !self.eat("(") {
            return out;
        }
        let mut switch = false;
        loop {
            self.space();
            match self.at(0) {
                0 => break,
                b')' => {
                    self.pos += 1;
                    break;
                }
                b'[' => {
                    let s = self.pos;
                    self.skip_brackets();
                    switch |= self.slice(s, self.pos).eq_ignore_ascii_case("[switch]");
                }
                b',' => {
                    self.pos += 1;
                    switch = false;
                }
                b'$' => {
                    self.pos += 1;
                    let name = self.var_name();
                    self.space();
                    let default = if self.at(0) == b'=' {
                        self.pos += 1;
                        self.space();
                        Some(self.unary())
                    } else {
                        None
                    };
                    out.push(Param {
                        name,
                        default,
                        switch,
                    });
                }
                _ => self.pos += 1,
            }
        }
        out
    }

    fn skip_brackets(&mut self) {
        let mut depth = 0usize;
        while !self.eof() {
            match self.at(0) {
                b'[' => depth += 1,
                b']' => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        self.pos += 1;
                        return;
                    }
                }
                b'\'' | b'"' => {
                    let _ = self.string();
                    continue;
                }
                _ => {}
            }
            self.pos += 1;
        }
    }

    fn try_stmt(&mut self) -> StmtKind {
        let body = self.block();
        let mut catches = Vec::new();
        let mut finally = None;
        loop {
            let save = self.pos;
            self.space();
            if self.eat_keyword("catch") {
                loop {
                    self.space();
                    if self.at(0) == b'[' {
                        self.skip_brackets();
                    } else if self.at(0) == b',' {
                        self.pos += 1;
                    } else {
                        break;
                    }
                }
                catches.push(self.block());
            } else if self.eat_keyword("finally") {
                finally = Some(self.block());
            } else {
                self.pos = save;
                break;
            }
        }
        StmtKind::Try {
            body,
            catches,
            finally,
        }
    }

    fn assignment_or_pipeline(&mut self, start: usize) -> Stmt {
        let save = self.pos;
        if let Some((target, op)) = self.assign_target() {
            self.space();
            let value = self.assigned_value();
            return Stmt {
                kind: StmtKind::Assign { target, op, value },
                span: self.span(start),
            };
        }
        self.pos = save;
        let p = self.pipeline();
        Stmt {
            kind: StmtKind::Pipeline(p),
            span: self.span(start),
        }
    }

    /// What follows `=`: a pipeline, or a statement whose output is the value
    /// (`$p = if ($udp) { 'UDP' } else { 'TCP' }`).
    fn assigned_value(&mut self) -> Pipeline {
        const STATEMENTS: &[&str] = &["if", "switch", "foreach", "for", "while", "do", "try"];
        if !STATEMENTS.iter().any(|k| self.keyword(k)) {
            return self.pipeline();
        }
        let start = self.pos;
        let stmt = self.statement();
        let span = self.span(start);
        let sub = Expr {
            kind: ExprKind::Sub(stmt.into_iter().collect(), false),
            span,
        };
        Pipeline {
            elems: vec![Elem::Expr(sub)],
            span,
        }
    }

    /// `$x =`, `[int]$x +=`, `$h.K =`: the target and operator, cursor after it.
    fn assign_target(&mut self) -> Option<(Target, AssignOp)> {
        let mut ty = None;
        while self.at(0) == b'[' {
            let s = self.pos;
            self.skip_brackets();
            let inner = self.slice(s + 1, self.pos.saturating_sub(1));
            ty = Some(inner.trim().to_ascii_lowercase());
            self.blanks();
        }
        if self.at(0) != b'$' {
            return None;
        }
        self.pos += 1;
        let name = self.var_name();
        let mut target = Target::Var(name, ty);
        while matches!(self.at(0), b'.' | b'[') {
            target = Target::Other;
            if self.at(0) == b'[' {
                self.skip_brackets();
            } else {
                self.pos += 1;
                while is_ident(self.at(0)) {
                    self.pos += 1;
                }
            }
        }
        self.blanks();
        let ops = [
            ("=", AssignOp::Set),
            ("+=", AssignOp::Add),
            ("-=", AssignOp::Sub),
            ("*=", AssignOp::Mul),
            ("/=", AssignOp::Div),
            ("%=", AssignOp::Rem),
        ];
        for (s, op) in ops {
            if self.b[self.pos.min(self.b.len())..].starts_with(s.as_bytes())
                && self.at(s.len()) != b'='
            {
                self.pos += s.len();
                return Some((target, op));
            }
        }
        None
    }

    /// Elements joined by `|`.
    fn pipeline(&mut self) -> Pipeline {
        let start = self.pos;
        let mut elems = Vec::new();
        if !self.enter() {
            return Pipeline {
                elems,
                span: self.span(start),
            };
        }
        loop {
            self.blanks();
            if self.at_pipeline_end() {
                break;
            }
            let before = self.pos;
            let elem = if elems.is_empty() && self.starts_expression() {
                Elem::Expr(self.expression())
            } else {
                Elem::Cmd(self.command())
            };
            elems.push(elem);
            self.blanks();
            // Redirections after an expression element are dropped.
            while self.redirect_ahead() {
                let _ = self.redirect();
                self.blanks();
            }
            if self.at(0) == b'|' && self.at(1) != b'|' {
                self.pos += 1;
                self.space();
                continue;
            }
            if self.pos == before || !self.at_pipeline_end() {
                // `&&`, `||` (PowerShell 7) or something not followed: a new pipeline.
                if self.eat("&&") || self.eat("||") {
                    continue;
                }
                break;
            }
        }
        self.leave();
        Pipeline {
            elems,
            span: self.span(start),
        }
    }

    fn starts_expression(&self) -> bool {
        let c = self.at(0);
        match c {
            b'$' | b'\'' | b'"' | b'(' | b'[' | b'!' => true,
            b'@' => matches!(self.at(1), b'(' | b'{' | b'"' | b'\''),
            b'0'..=b'9' => self.number_ahead(),
            b'-' => self.at(1).is_ascii_digit() || self.keyword("-not"),
            b'+' | b'.' => self.at(1).is_ascii_digit() || (c == b'+' && self.at(1) == b'+'),
            _ => false,
        }
    }

    /// A number token ends at a separator (`21`, `0x15`, `5000..5100`), not a word (`7z`).
    fn number_ahead(&self) -> bool {
        let mut k = self.pos;
        while k < self.b.len() && (self.b[k].is_ascii_alphanumeric()) {
            k += 1;
        }
        let word = self.slice(self.pos, k);
        number(word).is_some() && !matches!(self.b.get(k), Some(b'-' | b'\\' | b'/' | b':'))
    }

    // ------------------------------------------------------------ commands

    fn command(&mut self) -> Cmd {
        let start = self.pos;
        if (self.at(0) == b'&' || self.at(0) == b'.')
            && matches!(self.at(1), b' ' | b'\t' | b'"' | b'\'' | b'$' | b'{' | b'(')
        {
            self.pos += 1;
            self.blanks();
        }
        let name = self.arg_element();
        let mut args = Vec::new();
        let mut redirects = Vec::new();
        loop {
            self.blanks();
            if self.at_pipeline_end()
                || (self.at(0) == b'|')
                || (self.at(0) == b'&' && self.at(1) == b'&')
            {
                break;
            }
            let before = self.pos;
            if self.redirect_ahead() {
                redirects.extend(self.redirect());
            } else if self.at(0) == b'-' && (self.at(1).is_ascii_alphabetic() || self.at(1) == b'_')
            {
                args.push(self.parameter());
            } else if self.at(0) == b'@' && is_ident(self.at(1)) {
                let s = self.pos;
                self.pos += 1;
                let name = self.var_name();
                args.push(Arg::Splat(name, self.span(s)));
            } else {
                args.push(Arg::Value(self.arg_value()));
            }
            if self.pos == before {
                self.pos += 1;
            }
        }
        Cmd {
            name,
            args,
            redirects,
            span: self.span(start),
        }
    }

    fn parameter(&mut self) -> Arg {
        let s = self.pos;
        self.pos += 1;
        while is_ident(self.at(0)) || self.at(0) == b'-' {
            self.pos += 1;
        }
        let name = self.slice(s + 1, self.pos).to_owned();
        let span = self.span(s);
        let value = if self.at(0) == b':' {
            self.pos += 1;
            self.blanks();
            Some(self.arg_value())
        } else {
            None
        };
        Arg::Param { name, span, value }
    }

    fn redirect_ahead(&self) -> bool {
        match self.at(0) {
            b'>' => true,
            b'1'..=b'6' | b'*' => self.at(1) == b'>',
            _ => false,
        }
    }

    fn redirect(&mut self) -> Vec<Redir> {
        let s = self.pos;
        let fd = match self.at(0) {
            b'>' => b'1',
            c => {
                self.pos += 1;
                c
            }
        };
        self.pos += 1;
        let append = self.eat(">");
        let fds: Vec<u8> = match fd {
            b'*' => vec![1, 2],
            d => vec![d - b'0'],
        };
        let (target, dup) = if self.at(0) == b'&' && self.at(1).is_ascii_digit() {
            self.pos += 2;
            (None, Some(self.b[self.pos - 1] - b'0'))
        } else {
            self.blanks();
            (Some(self.arg_element()), None)
        };
        let span = self.span(s);
        let mut out = Vec::new();
        for fd in fds {
            let target = target.as_ref().map(|t| Expr {
                kind: clone_simple(&t.kind),
                span: t.span,
            });
            out.push(Redir {
                fd,
                append,
                target,
                dup,
                span,
            });
        }
        out
    }

    /// One argument: elements joined by `,` (an array).
    fn arg_value(&mut self) -> Expr {
        let start = self.pos;
        let first = self.arg_element();
        self.blanks();
        if self.at(0) != b',' {
            return first;
        }
        let mut items = vec![first];
        while self.at(0) == b',' {
            self.pos += 1;
            self.space();
            items.push(self.arg_element());
            self.blanks();
        }
        Expr {
            kind: ExprKind::Array(items),
            span: self.span(start),
        }
    }

    /// One argument element in argument mode.
    fn arg_element(&mut self) -> Expr {
        let start = self.pos;
        let c = self.at(0);
        let value_start = matches!(c, b'(' | b'{')
            || (c == b'@' && matches!(self.at(1), b'(' | b'{' | b'"' | b'\''));
        let var_start = c == b'$' && self.at(1) == b'(';
        if value_start || var_start {
            let e = self.postfix();
            return if self.glued() { self.glue(start, e) } else { e };
        }
        if c == b'$' && (is_ident(self.at(1)) || matches!(self.at(1), b'{' | b'_' | b'?')) {
            let e = self.postfix();
            return if self.glued() { self.glue(start, e) } else { e };
        }
        if (c.is_ascii_digit() || ((c == b'-' || c == b'+') && self.at(1).is_ascii_digit()))
            && self.number_ahead_signed()
        {
            let e = self.number_expr();
            if !self.glued() {
                return e;
            }
            self.pos = start;
        }
        self.bare_word()
    }

    fn number_ahead_signed(&self) -> bool {
        let mut k = self.pos;
        if matches!(self.b.get(k), Some(b'-' | b'+')) {
            k += 1;
        }
        let s = k;
        while k < self.b.len() && self.b[k].is_ascii_alphanumeric() {
            k += 1;
        }
        number(self.slice(s, k)).is_some()
            && self
                .b
                .get(k)
                .is_none_or(|c| ends_word(*c) || *c == b'.' && self.b.get(k + 1) == Some(&b'.'))
    }

    /// Another part follows without a blank (`"a"b`, `$p-x`).
    fn glued(&self) -> bool {
        !self.eof() && !ends_word(self.at(0))
    }

    fn glue(&mut self, start: usize, first: Expr) -> Expr {
        let rest = self.bare_word();
        let mut parts = vec![Part::Sub(vec![Stmt {
            span: first.span,
            kind: StmtKind::Pipeline(Pipeline {
                span: first.span,
                elems: vec![Elem::Expr(first)],
            }),
        }])];
        match rest.kind {
            ExprKind::Expand(p) => parts.extend(p),
            ExprKind::Str(s) => parts.push(Part::Lit(s)),
            _ => {}
        }
        Expr {
            kind: ExprKind::Expand(parts),
            span: self.span(start),
        }
    }

    /// A bare word with quotes and variables inside (`name="FTP $p"`, `C:\x`).
    fn bare_word(&mut self) -> Expr {
        let start = self.pos;
        let mut parts = Vec::new();
        let mut lit = String::new();
        while !self.eof() && !ends_word(self.at(0)) {
            let c = self.at(0);
            match c {
                b'`' => {
                    self.pos += 1;
                    self.push_char(&mut lit);
                }
                b'\'' | b'"' => match self.string() {
                    ExprKind::Str(s) => lit.push_str(&s),
                    ExprKind::Expand(ps) => {
                        flush(&mut parts, &mut lit);
                        parts.extend(ps);
                    }
                    _ => {}
                },
                b'$' if is_ident(self.at(1)) || matches!(self.at(1), b'{' | b'(' | b'_') => {
                    flush(&mut parts, &mut lit);
                    parts.push(self.string_var());
                }
                _ => self.push_char(&mut lit),
            }
        }
        if self.pos == start && !self.eof() {
            self.push_char(&mut lit);
        }
        if parts.is_empty() {
            return Expr {
                kind: ExprKind::Str(lit),
                span: self.span(start),
            };
        }
        flush(&mut parts, &mut lit);
        Expr {
            kind: ExprKind::Expand(parts),
            span: self.span(start),
        }
    }

    fn push_char(&mut self, out: &mut String) {
        let rest = self.text.get(self.pos..).unwrap_or("");
        if let Some(ch) = rest.chars().next() {
            out.push(ch);
            self.pos += ch.len_utf8();
        } else {
            self.pos += 1;
        }
    }

    // ------------------------------------------------------------ expressions

    pub fn expression(&mut self) -> Expr {
        if !self.enter() {
            return Expr {
                kind: ExprKind::Unknown,
                span: self.span(self.pos),
            };
        }
        let e = self.logical();
        self.leave();
        e
    }

    /// An operator `-name` at the cursor (after blanks); the cursor moves past it when it is one of `names`.
    fn dash_op(&self) -> Option<String> {
        if self.at(0) != b'-' || !self.at(1).is_ascii_alphabetic() {
            return None;
        }
        let mut k = self.pos + 1;
        while k < self.b.len() && self.b[k].is_ascii_alphabetic() {
            k += 1;
        }
        Some(self.slice(self.pos + 1, k).to_ascii_lowercase())
    }

    fn binary(&mut self, level: u8) -> Expr {
        if level == 0 {
            return self.range();
        }
        let start = self.pos;
        let mut left = self.binary(level - 1);
        loop {
            let save = self.pos;
            self.blanks();
            let Some((op, len)) = self.operator(level) else {
                self.pos = save;
                return left;
            };
            self.pos += len;
            self.space();
            let right = self.binary(level - 1);
            left = Expr {
                kind: ExprKind::Binary(op, Box::new(left), Box::new(right)),
                span: self.span(start),
            };
        }
    }

    fn logical(&mut self) -> Expr {
        self.binary(5)
    }

    /// The binary operator at the cursor for precedence `level` (1 `-f`, 2 `* / %`, 3 `+ -`, 4 comparisons, 5 `-and -or`).
    fn operator(&self, level: u8) -> Option<(BinOp, usize)> {
        let c = self.at(0);
        let n = self.at(1);
        match level {
            2 if matches!(c, b'*' | b'/' | b'%') && n != b'=' => Some((
                match c {
                    b'*' => BinOp::Mul,
                    b'/' => BinOp::Div,
                    _ => BinOp::Rem,
                },
                1,
            )),
            3 if c == b'+' && n != b'=' && n != b'+' => Some((BinOp::Add, 1)),
            3 if c == b'-' && !n.is_ascii_alphabetic() && n != b'=' && n != b'-' => {
                Some((BinOp::Sub, 1))
            }
            _ => {
                let name = self.dash_op()?;
                let op = dash_operator(&name, level)?;
                Some((op, name.len() + 1))
            }
        }
    }

    fn range(&mut self) -> Expr {
        let start = self.pos;
        let left = self.array();
        let save = self.pos;
        self.blanks();
        if self.at(0) == b'.' && self.at(1) == b'.' {
            self.pos += 2;
            self.space();
            let right = self.array();
            return Expr {
                kind: ExprKind::Range(Box::new(left), Box::new(right)),
                span: self.span(start),
            };
        }
        self.pos = save;
        left
    }

    fn array(&mut self) -> Expr {
        let start = self.pos;
        let first = self.unary();
        let save = self.pos;
        self.blanks();
        if self.at(0) != b',' {
            self.pos = save;
            return first;
        }
        let mut items = vec![first];
        while self.at(0) == b',' {
            self.pos += 1;
            self.space();
            items.push(self.unary());
            let save = self.pos;
            self.blanks();
            if self.at(0) != b',' {
                self.pos = save;
            }
        }
        Expr {
            kind: ExprKind::Array(items),
            span: self.span(start),
        }
    }

    fn unary(&mut self) -> Expr {
        let start = self.pos;
        if !self.enter() {
            return Expr {
                kind: ExprKind::Unknown,
                span: self.span(start),
            };
        }
        let e = self.unary_inner(start);
        self.leave();
        e
    }

    fn unary_inner(&mut self, start: usize) -> Expr {
        if self.eat("!") || self.eat_dash_keyword("not") {
            self.space();
            let e = self.unary();
            return Expr {
                kind: ExprKind::Not(Box::new(e)),
                span: self.span(start),
            };
        }
        if self.eat_dash_keyword("join") || self.eat_dash_keyword("split") {
            self.space();
            let _ = self.unary();
            return Expr {
                kind: ExprKind::Unknown,
                span: self.span(start),
            };
        }
        if (self.at(0) == b'+' || self.at(0) == b'-')
            && self.at(1) == self.at(0)
            && self.at(2) == b'$'
        {
            let delta = if self.at(0) == b'+' { 1 } else { -1 };
            self.pos += 3;
            let var = self.var_name();
            return Expr {
                kind: ExprKind::Step {
                    var,
                    delta,
                    post: false,
                },
                span: self.span(start),
            };
        }
        if self.at(0) == b'-' && !self.at(1).is_ascii_digit() && !self.at(1).is_ascii_alphabetic() {
            self.pos += 1;
            let e = self.unary();
            return Expr {
                kind: ExprKind::Neg(Box::new(e)),
                span: self.span(start),
            };
        }
        if self.at(0) == b'[' {
            let s = self.pos;
            self.skip_brackets();
            let ty = self
                .slice(s + 1, self.pos.saturating_sub(1))
                .trim()
                .to_ascii_lowercase();
            if self.at(0) == b':' && self.at(1) == b':' {
                self.pos += 2;
                while is_ident(self.at(0)) {
                    self.pos += 1;
                }
                self.call_args();
                return self.postfix_of(
                    Expr {
                        kind: ExprKind::Unknown,
                        span: self.span(start),
                    },
                    start,
                );
            }
            self.blanks();
            let e = self.unary();
            return Expr {
                kind: ExprKind::Cast(ty, Box::new(e)),
                span: self.span(start),
            };
        }
        self.postfix()
    }

    fn eat_dash_keyword(&mut self, kw: &str) -> bool {
        if self.at(0) == b'-' && self.dash_op().as_deref() == Some(kw) {
            self.pos += kw.len() + 1;
            true
        } else {
            false
        }
    }

    /// `(args)` of a method call, skipped.
    fn call_args(&mut self) {
        if self.at(0) != b'(' {
            return;
        }
        self.pos += 1;
        let _ = self.statements();
        self.eat(")");
    }

    fn postfix(&mut self) -> Expr {
        let start = self.pos;
        let e = self.primary();
        self.postfix_of(e, start)
    }

    fn postfix_of(&mut self, mut e: Expr, start: usize) -> Expr {
        loop {
            if self.at(0) == b'.'
                && (is_ident(self.at(1)) || self.at(1) == b'"' || self.at(1) == b'\'')
                && self.at(1) != b'.'
            {
                self.pos += 1;
                let s = self.pos;
                while is_ident(self.at(0)) {
                    self.pos += 1;
                }
                let mut name = self.slice(s, self.pos).to_ascii_lowercase();
                if self.at(0) == b'(' {
                    self.call_args();
                    name.push_str("()");
                }
                e = Expr {
                    kind: ExprKind::Member(Box::new(e), name),
                    span: self.span(start),
                };
            } else if self.at(0) == b':' && self.at(1) == b':' {
                self.pos += 2;
                while is_ident(self.at(0)) {
                    self.pos += 1;
                }
                self.call_args();
                e = Expr {
                    kind: ExprKind::Unknown,
                    span: self.span(start),
                };
            } else if self.at(0) == b'[' {
                self.pos += 1;
                self.space();
                let index = self.expression();
                self.space();
                self.eat("]");
                e = Expr {
                    kind: ExprKind::Index(Box::new(e), Box::new(index)),
                    span: self.span(start),
                };
            } else if (self.eat("++") || self.eat("--")) && matches!(e.kind, ExprKind::Var(_)) {
                let delta = if self.b[self.pos - 1] == b'+' { 1 } else { -1 };
                let ExprKind::Var(var) = std::mem::replace(&mut e.kind, ExprKind::Unknown) else {
                    return e;
                };
                e = Expr {
                    kind: ExprKind::Step {
                        var,
                        delta,
                        post: true,
                    },
                    span: self.span(start),
                };
            } else {
                return e;
            }
        }
    }

    fn primary(&mut self) -> Expr {
        let start = self.pos;
        let c = self.at(0);
        let kind = match c {
            b'$' if self.at(1) == b'(' => {
                self.pos += 2;
                let body = self.statements();
                self.eat(")");
                ExprKind::Sub(body, false)
            }
            b'@' if self.at(1) == b'(' => {
                self.pos += 2;
                let body = self.statements();
                self.eat(")");
                ExprKind::Sub(body, true)
            }
            b'@' if self.at(1) == b'{' => {
                self.pos += 2;
                self.hashtable()
            }
            b'@' if matches!(self.at(1), b'"' | b'\'') => {
                self.pos += 1;
                self.here_string()
            }
            b'$' => {
                self.pos += 1;
                ExprKind::Var(self.var_name())
            }
            b'\'' | b'"' => self.string(),
            b'(' => {
                self.pos += 1;
                self.space();
                let p = self.pipeline();
                self.separators();
                self.eat(")");
                ExprKind::Paren(Box::new(p))
            }
            b'{' => {
                self.pos += 1;
                let body = self.statements();
                self.eat("}");
                ExprKind::ScriptBlock(Rc::new(body))
            }
            b'0'..=b'9' | b'.' | b'-' | b'+' => return self.number_expr(),
            _ => {
                // A bare word in expression mode: a command in parentheses is not here.
                return self.bare_word();
            }
        };
        Expr {
            kind,
            span: self.span(start),
        }
    }

    fn number_expr(&mut self) -> Expr {
        let start = self.pos;
        let neg = self.eat("-");
        if !neg {
            self.eat("+");
        }
        let s = self.pos;
        while self.at(0).is_ascii_alphanumeric()
            || (self.at(0) == b'.' && self.at(1).is_ascii_digit())
        {
            self.pos += 1;
        }
        let word = self.slice(s, self.pos);
        let kind = match number(word) {
            Some(Some(n)) => ExprKind::Int(if neg { -n } else { n }),
            Some(None) | None => ExprKind::Str(self.slice(start, self.pos).to_owned()),
        };
        if self.pos == start {
            self.pos += 1;
        }
        Expr {
            kind,
            span: self.span(start),
        }
    }

    fn hashtable(&mut self) -> ExprKind {
        let mut entries = Vec::new();
        loop {
            self.separators();
            if self.eof() || self.eat("}") {
                break;
            }
            let before = self.pos;
            let key = match self.at(0) {
                b'\'' | b'"' => match self.string() {
                    ExprKind::Str(s) => s,
                    _ => String::new(),
                },
                _ => {
                    let s = self.pos;
                    while is_ident(self.at(0)) || self.at(0) == b'-' || self.at(0) == b'.' {
                        self.pos += 1;
                    }
                    self.slice(s, self.pos).to_owned()
                }
            };
            self.blanks();
            if self.eat("=") {
                self.space();
                entries.push((key, self.pipeline()));
            }
            if self.pos == before {
                self.pos += 1;
            }
        }
        ExprKind::Hash(entries)
    }

    /// A variable name after `$`, lower-cased, scope prefixes (`script:`) removed.
    fn var_name(&mut self) -> String {
        if self.at(0) == b'{' {
            let s = self.pos + 1;
            while !self.eof() && self.at(0) != b'}' {
                self.pos += 1;
            }
            let name = self.slice(s, self.pos).to_ascii_lowercase();
            self.eat("}");
            return strip_scope(name);
        }
        if matches!(self.at(0), b'_' | b'?' | b'^' | b'$') && !is_ident(self.at(1)) {
            self.pos += 1;
            return self.slice(self.pos - 1, self.pos).to_owned();
        }
        let s = self.pos;
        while is_ident(self.at(0))
            || (self.at(0) == b':' && is_ident(self.at(1)) && self.at(1) != b':')
        {
            self.pos += 1;
        }
        strip_scope(self.slice(s, self.pos).to_ascii_lowercase())
    }

    /// `'…'` (text) or `"…"` (parts), cursor at the quote.
    fn string(&mut self) -> ExprKind {
        let quote = self.at(0);
        self.pos += 1;
        let mut lit = String::new();
        let mut parts = Vec::new();
        while !self.eof() {
            let c = self.at(0);
            if is_quote(c, quote) || is_quote_at(self.text, self.pos, quote) {
                let len = self.quote_len();
                self.pos += len;
                if is_quote(self.at(0), quote) || is_quote_at(self.text, self.pos, quote) {
                    let ql = self.quote_len();
                    self.pos += ql;
                    lit.push(quote as char);
                    continue;
                }
                break;
            }
            if quote == b'"' && c == b'`' {
                self.pos += 1;
                self.escape(&mut lit);
            } else if quote == b'"'
                && c == b'$'
                && (is_ident(self.at(1)) || matches!(self.at(1), b'{' | b'(' | b'_' | b'?'))
            {
                flush(&mut parts, &mut lit);
                parts.push(self.string_var());
            } else {
                self.push_char(&mut lit);
            }
        }
        if quote == b'\'' || parts.is_empty() {
            return ExprKind::Str(lit);
        }
        flush(&mut parts, &mut lit);
        ExprKind::Expand(parts)
    }

    fn quote_len(&self) -> usize {
        self.text
            .get(self.pos..)
            .and_then(|r| r.chars().next())
            .map_or(1, char::len_utf8)
    }

    fn escape(&mut self, out: &mut String) {
        let c = self.at(0);
        let mapped = match c {
            b'n' => Some('\n'),
            b't' => Some('\t'),
            b'r' => Some('\r'),
            b'0' => Some('\0'),
            b'a' => Some('\x07'),
            b'b' => Some('\x08'),
            b'e' => Some('\x1b'),
            b'f' => Some('\x0c'),
            b'v' => Some('\x0b'),
            _ => None,
        };
        match mapped {
            Some(m) => {
                out.push(m);
                self.pos += 1;
            }
            None => self.push_char(out),
        }
    }

    /// `$name`, `${name}` or `$( … )` inside a string or word.
    fn string_var(&mut self) -> Part {
        self.pos += 1;
        if self.at(0) == b'(' {
            self.pos += 1;
            let body = self.statements();
            self.eat(")");
            return Part::Sub(body);
        }
        let name = self.var_name();
        Part::Var(name)
    }

    /// `@"…"@` / `@'…'@`, cursor at the quote after `@`.
    fn here_string(&mut self) -> ExprKind {
        let quote = self.at(0);
        self.pos += 1;
        while !self.eof() && self.at(0) != b'\n' {
            self.pos += 1;
        }
        self.pos += 1;
        let body_start = self.pos;
        let close = [b'\n', quote, b'@'];
        let end = self.b[body_start.min(self.b.len())..]
            .windows(3)
            .position(|w| w == close)
            .map(|k| body_start + k);
        let (body_end, after) = match end {
            Some(e) => (e, e + 3),
            None => (self.b.len(), self.b.len()),
        };
        let body_end = if body_end > body_start && self.b.get(body_end - 1) == Some(&b'\r') {
            body_end - 1
        } else {
            body_end
        };
        if quote == b'\'' {
            self.pos = after;
            return ExprKind::Str(self.slice(body_start, body_end.max(body_start)).to_owned());
        }
        let mut parts = Vec::new();
        let mut lit = String::new();
        self.pos = body_start;
        while self.pos < body_end {
            let c = self.at(0);
            if c == b'`' {
                self.pos += 1;
                self.escape(&mut lit);
            } else if c == b'$'
                && (is_ident(self.at(1)) || matches!(self.at(1), b'{' | b'(' | b'_'))
            {
                flush(&mut parts, &mut lit);
                parts.push(self.string_var());
            } else {
                self.push_char(&mut lit);
            }
        }
        self.pos = after.max(self.pos);
        flush(&mut parts, &mut lit);
        ExprKind::Expand(parts)
    }
}

/// PowerShell accepts the typographic quotes as quotes.
fn is_quote(c: u8, quote: u8) -> bool {
    c == quote
}

fn is_quote_at(text: &str, pos: usize, quote: u8) -> bool {
    let Some(ch) = text.get(pos..).and_then(|r| r.chars().next()) else {
        return false;
    };
    match quote {
        b'\'' => matches!(ch, '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}'),
        _ => matches!(ch, '\u{201C}' | '\u{201D}' | '\u{201E}'),
    }
}

fn flush(parts: &mut Vec<Part>, lit: &mut String) {
    if !lit.is_empty() {
        parts.push(Part::Lit(std::mem::take(lit)));
    }
}

fn strip_scope(name: String) -> String {
    for scope in ["script:", "global:", "local:", "private:", "using:"] {
        if let Some(rest) = name.strip_prefix(scope) {
            return rest.to_owned();
        }
    }
    name
}

/// A redirection target is a plain word or variable; a copy for each fd of `*>`.
fn clone_simple(kind: &ExprKind) -> ExprKind {
    match kind {
        ExprKind::Str(s) => ExprKind::Str(s.clone()),
        ExprKind::Var(v) => ExprKind::Var(v.clone()),
        ExprKind::Int(n) => ExprKind::Int(*n),
        _ => ExprKind::Unknown,
    }
}

/// A numeric literal: `Some(Some(n))` for an integer PowerShell reads
/// (`21`, `0x15`, `1kb`, `5l`), `Some(None)` for one it reads as a number
/// that is not an integer here (`1.5`, `1e3`, past 64 bits), `None` for a word.
pub fn number(word: &str) -> Option<Option<i64>> {
    let lower = word.to_ascii_lowercase();
    let (digits, mult) = match ["kb", "mb", "gb", "tb", "pb"]
        .iter()
        .position(|s| lower.ends_with(s))
    {
        Some(k) => (&lower[..lower.len() - 2], 1i64 << (10 * (k as u32 + 1))),
        None => (lower.as_str(), 1),
    };
    // `d` (decimal) is a hex digit in `0x…`; only `l` (long) ends a hex literal.
    let suffixes: &[char] = if digits.starts_with("0x") {
        &['l']
    } else {
        &['l', 'd']
    };
    let digits = digits.strip_suffix(suffixes).unwrap_or(digits);
    let value = if let Some(hex) = digits.strip_prefix("0x") {
        if hex.is_empty() || !hex.bytes().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        i64::from_str_radix(hex, 16).ok()
    } else {
        if digits.is_empty() || !digits.bytes().next()?.is_ascii_digit() {
            return None;
        }
        if digits.bytes().all(|c| c.is_ascii_digit()) {
            digits.parse::<i64>().ok()
        } else if digits.parse::<f64>().is_ok() {
            return Some(None);
        } else {
            return None;
        }
    };
    Some(value.and_then(|v| v.checked_mul(mult)))
}

fn dash_operator(name: &str, level: u8) -> Option<BinOp> {
    let (case, base) = match name.strip_prefix('c') {
        Some(rest) if cmp_op(rest).is_some() => (true, rest),
        _ => (
            false,
            name.strip_prefix('i')
                .filter(|r| cmp_op(r).is_some())
                .unwrap_or(name),
        ),
    };
    let op = match (level, base) {
        (1, "f") => BinOp::Format,
        (5, "and") => BinOp::And,
        (5, "or") => BinOp::Or,
        (5, "xor") => BinOp::Xor,
        (4, "join") => BinOp::Join,
        (4, "split") => BinOp::Split,
        (4, "replace") => BinOp::Replace,
        (4, "is" | "isnot" | "as") => BinOp::Other,
        (3, "band" | "bor" | "bxor" | "shl" | "shr") => BinOp::Other,
        (4, b) => BinOp::Cmp(cmp_op(b)?, case),
        _ => return None,
    };
    Some(op)
}

fn cmp_op(name: &str) -> Option<CmpOp> {
    Some(match name {
        "eq" => CmpOp::Eq,
        "ne" => CmpOp::Ne,
        "lt" => CmpOp::Lt,
        "le" => CmpOp::Le,
        "gt" => CmpOp::Gt,
        "ge" => CmpOp::Ge,
        "like" => CmpOp::Like,
        "notlike" => CmpOp::NotLike,
        "match" => CmpOp::Match,
        "notmatch" => CmpOp::NotMatch,
        "contains" => CmpOp::Contains,
        "notcontains" => CmpOp::NotContains,
        "in" => CmpOp::In,
        "notin" => CmpOp::NotIn,
        _ => return None,
    })
}
