//! The statements, pipelines and expressions of a PowerShell script.

use crate::source::Span;
use std::rc::Rc;

pub type Block = Vec<Stmt>;

#[derive(Debug)]
pub struct Stmt {
    pub kind: StmtKind,
    pub span: Span,
}

#[derive(Debug)]
pub enum StmtKind {
    Pipeline(Pipeline),
    Assign {
        target: Target,
        op: AssignOp,
        value: Pipeline,
    },
    If {
        clauses: Vec<(Pipeline, Block)>,
        otherwise: Option<Block>,
    },
    Foreach {
        var: String,
        items: Pipeline,
        body: Block,
    },
    For {
        init: Option<Box<Stmt>>,
        cond: Option<Pipeline>,
        step: Option<Box<Stmt>>,
        body: Block,
    },
    While {
        cond: Pipeline,
        body: Block,
    },
    Do {
        body: Block,
        cond: Pipeline,
        until: bool,
    },
    Switch {
        value: Pipeline,
        cases: Vec<(Option<Expr>, Block)>,
    },
    Function(Rc<Function>),
    Try {
        body: Block,
        catches: Vec<Block>,
        finally: Option<Block>,
    },
    /// A top-level `param(...)` block: the script's own parameters.
    Params(Vec<Param>),
    Break,
    Continue,
    Return(Option<Pipeline>),
    Exit,
    Throw,
}

#[derive(Debug)]
pub enum Target {
    /// A variable, and the type it is constrained to (`[int]$x = '21'` holds 21).
    Var(String, Option<String>),
    /// `$h.Key = …`, `$a[0] = …`: not followed.
    Other,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AssignOp {
    Set,
    Add,
    Sub,
    Mul,
    Div,
    Rem,
}

#[derive(Debug)]
pub struct Function {
    pub name: String,
    pub params: Vec<Param>,
    pub body: Block,
}

#[derive(Debug)]
pub struct Param {
    pub name: String,
    pub default: Option<Expr>,
    pub switch: bool,
}

#[derive(Debug)]
pub struct Pipeline {
    pub elems: Vec<Elem>,
    pub span: Span,
}

#[derive(Debug)]
pub enum Elem {
    Expr(Expr),
    Cmd(Cmd),
}

#[derive(Debug)]
pub struct Cmd {
    pub name: Expr,
    pub args: Vec<Arg>,
    pub redirects: Vec<Redir>,
    pub span: Span,
}

#[derive(Debug)]
pub enum Arg {
    /// `-Name`, or `-Name:value`.
    Param {
        name: String,
        span: Span,
        value: Option<Expr>,
    },
    Value(Expr),
    /// `@params`.
    Splat(String, Span),
}

#[derive(Debug)]
pub struct Redir {
    pub fd: u8,
    pub append: bool,
    /// `None` for a duplication (`2>&1`): the `&1` is in `dup`.
    pub target: Option<Expr>,
    pub dup: Option<u8>,
    pub span: Span,
}

#[derive(Debug)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Debug)]
pub enum ExprKind {
    Int(i64),
    Str(String),
    /// An expandable string or a bare argument word with variables in it.
    Expand(Vec<Part>),
    Var(String),
    Array(Vec<Expr>),
    /// `$( … )`, and `@( … )` (always an array) when the flag is set.
    Sub(Block, bool),
    Paren(Box<Pipeline>),
    Hash(Vec<(String, Pipeline)>),
    ScriptBlock(Rc<Block>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Neg(Box<Expr>),
    Range(Box<Expr>, Box<Expr>),
    Cast(String, Box<Expr>),
    /// `$i++`, `--$i`: the variable, the change, whether the old value is the result.
    Step {
        var: String,
        delta: i64,
        post: bool,
    },
    /// `.Count`, `.ToString()`, `[i]` on a value.
    Member(Box<Expr>, String),
    Index(Box<Expr>, Box<Expr>),
    /// Something not followed (`[IPAddress]::Any`, `$x.Method(…)`): the text as written.
    Unknown,
}

#[derive(Debug)]
pub enum Part {
    Lit(String),
    Var(String),
    Sub(Block),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
    Format,
    And,
    Or,
    Xor,
    Cmp(CmpOp, bool),
    Join,
    Split,
    Replace,
    Other,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Like,
    NotLike,
    Match,
    NotMatch,
    Contains,
    NotContains,
    In,
    NotIn,
}
