//! What an nftables file declares: tables with their chains, sets and helpers.

use crate::source::Span;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TableFamily {
    Ip,
    Ip6,
    Inet,
    /// arp, bridge, netdev: never filter what reaches a local TCP server.
    Other,
}

#[derive(Clone, Debug, Default)]
pub struct File {
    pub tables: Vec<Table>,
    /// What `nft -c -f` rejects (first error of each statement).
    pub problems: Vec<Problem>,
    pub includes: Vec<Include>,
    /// A `flush ruleset` was read: the file replaces whatever the kernel held.
    pub flushes: bool,
    /// `define NAME = VALUE` in file order, each at its offset, values expanded.
    pub defines: Vec<Define>,
    /// `ct helper set NAME` where the file does not declare NAME in time.
    pub unresolved_helpers: Vec<HelperUse>,
}

/// A `ct helper set NAME`: the table it is in and where the name is written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HelperUse {
    pub family: TableFamily,
    pub table: String,
    pub name: String,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct Define {
    pub at: usize,
    pub name: String,
    pub value: Vec<super::lex::Token>,
}

/// Definitions a file sees that it does not make itself: those in force where
/// its includer includes it, and those each of its own includes brings, in
/// force from that include on (nft reads an include in place).
#[derive(Clone, Debug, Default)]
pub struct Env {
    pub inherited: Vec<Definition>,
    /// At each offset (the end of an include), what that include defined.
    pub from_includes: Vec<(usize, Vec<Definition>)>,
}

/// A name and the tokens it stands for.
pub type Definition = (String, Vec<super::lex::Token>);

impl Env {
    pub fn is_empty(&self) -> bool {
        self.inherited.is_empty() && self.from_includes.iter().all(|(_, d)| d.is_empty())
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub message: String,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Include {
    pub path: String,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct Table {
    pub family: TableFamily,
    pub name: String,
    pub span: Span,
    pub chains: Vec<Chain>,
    pub sets: Vec<Set>,
    pub helpers: Vec<Helper>,
}

#[derive(Clone, Debug)]
pub struct Chain {
    pub name: String,
    pub span: Span,
    pub base: Option<BaseSpec>,
    pub rules: Vec<Rule>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BaseSpec {
    /// `filter`, `nat` or `route`.
    pub kind: String,
    pub hook: String,
    pub priority: i32,
    pub drop: bool,
    pub policy_span: Option<Span>,
    pub span: Span,
}

/// A named set or map (`set ftp_ports { type inet_service; elements = { 21 } }`).
#[derive(Clone, Debug)]
pub struct Set {
    pub name: String,
    pub elements: Vec<Elem>,
    /// Elements may be added at run time (`flags dynamic`, or none written).
    pub dynamic: bool,
}

/// `ct helper NAME { type "ftp" protocol tcp; }`.
#[derive(Clone, Debug)]
pub struct Helper {
    pub name: String,
    pub kind: String,
}

/// One element of a set or map: key words (a concatenation has several), and a
/// map's value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Elem {
    pub key: Vec<String>,
    pub value: Option<Verdict>,
    /// A map's value that is not a verdict (`192.168.1.1`, `"ftp-std"`, `4040`,
    /// `10.0.0.2 . 80`), as written.
    pub data: Option<String>,
}

/// A right-hand side.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    /// One value or a comma list (`established,related`).
    List(Vec<String>),
    Anon(Vec<Elem>),
    Named(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    Accept,
    Drop,
    Reject,
    Return,
    Continue,
    Jump(String),
    Goto(String),
    Queue,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Item {
    /// `SELECTOR [op] VALUE` (`tcp dport`, `ip saddr`, `ct state`, `iifname`, ...).
    Match {
        key: String,
        negated: bool,
        value: Value,
    },
    /// `SELECTOR vmap { ... }` / `vmap @name`.
    Vmap {
        key: String,
        value: Value,
    },
    Verdict(Verdict),
    /// `ct helper set "name"`.
    HelperSet(String),
    /// `ct helper set SELECTOR map { KEY : "name", … }`.
    HelperMap {
        key: String,
        value: Value,
    },
    Notrack,
    /// `meta mark set V`.
    MarkSet(u32),
    /// `dnat [to] [addr][:port]`, each part a literal or a map.
    Dnat {
        addr: NatTo,
        port: NatTo,
    },
    Redirect(Option<(u16, u16)>),
    /// `snat`, `masquerade`.
    NatOther,
    /// `limit rate N/second`: holds only sometimes.
    Limit,
    /// Something read but not modelled (counter, log, comment, meta set ...).
    Other,
}

/// One part (address or port) of a `dnat` statement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NatTo {
    /// Not given: the address (or port) stays.
    Kept,
    /// One value as written (`10.0.0.2`, `8080-8090`).
    Literal(String),
    /// `SELECTOR map { KEY : VALUE, … }` / `map @name`: the value of the key the
    /// packet has (`tcp dport`, `ip saddr`, `numgen inc mod 2`).
    Map { key: String, value: Value },
    /// An expression pasvlint does not take apart.
    Unknown,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    pub span: Span,
    pub items: Vec<Item>,
    /// Where its one destination-port match's value is written in the file
    /// (a word or a `{ }` set), when written there and not through a define.
    pub port_text: Option<(crate::facts::PortSyntax, Span)>,
}
