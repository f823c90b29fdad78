//! The shape of a parsed script: commands as bash's grammar groups them, words
//! as their quoted and expanded parts, each with its byte range in the script.

/// A byte range of the script.
pub type Range = (u32, u32);

#[derive(Debug)]
pub enum Node {
    Simple(Simple),
    Pipeline {
        bang: bool,
        cmds: Vec<Node>,
        span: Range,
    },
    /// `a && b || c`: `true` joins with `&&`.
    AndOr {
        first: Box<Node>,
        rest: Vec<(bool, Node)>,
    },
    List(Vec<Node>),
    Subshell(Box<Node>),
    Group(Box<Node>),
    If {
        arms: Vec<(Node, Node)>,
        otherwise: Option<Box<Node>>,
    },
    Loop {
        until: bool,
        cond: Box<Node>,
        body: Box<Node>,
    },
    For {
        var: String,
        /// `None`: `for v; do` runs over the positional arguments.
        words: Option<Vec<WordT>>,
        body: Box<Node>,
        span: Range,
    },
    ArithFor {
        init: Range,
        cond: Range,
        step: Range,
        body: Box<Node>,
        span: Range,
    },
    Case {
        subject: WordT,
        arms: Vec<Arm>,
    },
    Func {
        name: String,
        body: Box<Node>,
    },
    /// `(( expr ))`.
    Arith {
        expr: Range,
        span: Range,
    },
    /// `[[ … ]]`: its words, operators included, unsplit.
    Cond {
        words: Vec<WordT>,
        span: Range,
    },
    /// A compound command with redirections after it (`done < F`, `} > F`).
    Redirected {
        node: Box<Node>,
        redirs: Vec<Redir>,
    },
}

#[derive(Debug)]
pub struct Arm {
    pub patterns: Vec<WordT>,
    pub body: Node,
    pub end: ArmEnd,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArmEnd {
    /// `;;`
    Break,
    /// `;&`
    FallThrough,
    /// `;;&`
    TestNext,
}

#[derive(Debug)]
pub struct Simple {
    pub assigns: Vec<Assign>,
    pub words: Vec<WordT>,
    /// `declare -a A=(x y)`, `local B=(…)`: arrays a declaration builtin sets.
    pub arrays: Vec<Assign>,
    pub redirs: Vec<Redir>,
    pub span: Range,
}

#[derive(Debug)]
pub struct Assign {
    pub name: String,
    pub append: bool,
    pub value: AssignValue,
    pub span: Range,
}

#[derive(Debug)]
pub enum AssignValue {
    Scalar(WordT),
    /// `A=(x y)`.
    Array(Vec<WordT>),
    /// `A[i]=v`: the index as written and the value.
    Element(Range, WordT),
}

#[derive(Debug)]
pub struct Redir {
    /// The descriptor as written (`2>`), if any.
    pub fd: Option<u8>,
    pub op: RedirOp,
    pub target: WordT,
    pub span: Range,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RedirOp {
    /// `>`, `>|`
    Out,
    /// `>>`
    Append,
    /// `&>`
    AllOut,
    /// `&>>`
    AllAppend,
    /// `>&`
    DupOut,
    /// `<`
    In,
    /// `<&`, `<>`
    OtherIn,
    /// `<<`, `<<-`: the index into [`Script::heredocs`].
    HereDoc(usize),
    /// `<<<`
    HereString,
}

#[derive(Debug, Default)]
pub struct HereDoc {
    /// The body is expanded (the delimiter was not quoted).
    pub expand: bool,
    /// Each line (leading tabs stripped for `<<-`) as parts, newline included.
    pub parts: Vec<Part>,
}

/// A word as written: its parts before expansion.
#[derive(Clone, Debug, Default)]
pub struct WordT {
    pub span: Range,
    pub parts: Vec<Part>,
}

#[derive(Clone, Debug)]
pub enum Part {
    /// Text taken as it is; `quoted` when quotes or `\` made it so.
    Lit {
        text: String,
        quoted: bool,
        span: Range,
    },
    DQuote {
        parts: Vec<Part>,
        span: Range,
    },
    Param(Box<Param>),
    /// `$(…)` or `` `…` ``: the inside.
    CmdSub {
        inner: Range,
        span: Range,
    },
    /// `$((…))`: the expression.
    Arith {
        expr: Range,
        span: Range,
    },
    /// bash brace expansion: the alternatives (a `{1..5}` is listed out).
    Brace(Vec<Vec<Part>>),
}

#[derive(Clone, Debug)]
pub struct Param {
    pub name: String,
    /// `${A[i]}`: the index as written (`@`, `*`, `0`, `$i`).
    pub index: Option<String>,
    /// `${#v}`
    pub length: bool,
    pub op: ParamOp,
    pub arg: Option<WordT>,
    pub span: Range,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParamOp {
    Plain,
    /// `-`, `:-` (colon: empty counts as unset)
    Default(bool),
    Assign(bool),
    Alt(bool),
    Error(bool),
    /// `#`, `##`
    TrimFront(bool),
    /// `%`, `%%`
    TrimBack(bool),
    /// Anything else bash has (`${v/a/b}`, `${v:1:2}`, `${v^^}`): unknown.
    Other,
}

#[derive(Debug, Default)]
pub struct Script {
    pub items: Vec<Node>,
    pub heredocs: Vec<HereDoc>,
}
