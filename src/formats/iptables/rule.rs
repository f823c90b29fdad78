//! One iptables command (`-A INPUT -p tcp --dport 22 -j ACCEPT`) parsed the way
//! iptables 1.8.9 parses it: getopt_long over the main options plus the options of
//! every loaded match and target (newest first, exact names before unique prefixes),
//! the protocol match loaded on demand, and each check's own error message.

use super::lex::Arg;
use super::names::{self, EPHEMERAL};
use super::{Applies, Family, Interner, Packet, PortRef, Proto, Rule, Sets, StateMatch, TableKind};
use super::{ProblemKind, Target};
use crate::addrset::{AddrSet, clients_of};
use crate::facts::PortSyntax;
use crate::filter::class::applies_to;
use crate::filter::ir::{DnatAddr, IfaceMatch, NdMatch, NdPacket};
use crate::portset::PortSet;
use crate::source::{FileId, Span};
use std::borrow::Cow;
use std::hash::{Hash, Hasher};

/// Where a command comes from: a restore file line, or an `iptables` shell command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Restore,
    Shell,
}

pub struct Ctx {
    pub mode: Mode,
    pub family: Family,
    pub table: TableKind,
    pub file: FileId,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cmd {
    Append,
    Check,
    Delete,
    DeleteNum(u32),
    Insert(u32),
    Replace(u32),
    List,
    Flush,
    Zero,
    NewChain,
    DeleteChain,
    Rename,
    Policy,
}

/// `--to-destination [addr][:lo[-hi]]`.
type DnatTo = (Option<[u8; 4]>, Option<(u16, u16)>);

/// An option's argument and the index of the word it came from.
type OptArg<'a> = Option<(Cow<'a, str>, usize)>;

/// A word with its span.
#[derive(Clone, Debug)]
pub struct Word<'a> {
    pub text: Cow<'a, str>,
    pub span: Span,
}

/// `-j NAME` / `-g NAME` where NAME is not a target extension: a chain.
#[derive(Clone, Debug)]
pub struct Jump<'a> {
    pub name: Word<'a>,
    pub goto: bool,
}

/// A parsed command, ready to be replayed.
pub struct Command<'a> {
    pub cmd: Cmd,
    pub table: TableKind,
    pub chain: Option<Word<'a>>,
    /// The policy of `-P`, the new name of `-E`.
    pub extra: Option<Word<'a>>,
    pub jump: Option<Jump<'a>>,
    /// The rule (its target is `Continue` when `jump` names a chain).
    pub rule: Rule,
    /// Kernel-side checks that depend on the chain (done when the rule is added).
    pub needs: Needs,
    pub unknowns: Vec<(Span, String)>,
    /// Conditions on this host's own side that pasvlint cannot decide (`-d` on
    /// an arriving packet): the rule may hold for every client or for none.
    pub assumed: Vec<(Span, String)>,
    /// The destination-port value as written, when the rule has exactly one
    /// destination-port match and it is not negated: its syntax, span and text.
    pub port_text: Option<(PortSyntax, Span, Cow<'a, str>)>,
}

/// Where a target or match is valid; checked against the chain when the rule is added.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Needs {
    pub tables: Option<&'static [TableKind]>,
    /// Built-in chains it may sit in (user chains are not checked).
    pub hooks: Option<&'static [&'static str]>,
}

#[derive(Debug)]
pub struct ParseError {
    pub message: String,
    pub span: Span,
    pub kind: ProblemKind,
}

type PResult<T> = Result<T, ParseError>;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum HasArg {
    No,
    Req,
    Opt,
}

/// Main options: (long name, arg, short letter).
const MAIN_OPTS: &[(&str, HasArg, char)] = &[
    ("append", HasArg::Req, 'A'),
    ("delete", HasArg::Req, 'D'),
    ("check", HasArg::Req, 'C'),
    ("insert", HasArg::Req, 'I'),
    ("replace", HasArg::Req, 'R'),
    ("list", HasArg::Opt, 'L'),
    ("list-rules", HasArg::Opt, 'S'),
    ("flush", HasArg::Opt, 'F'),
    ("zero", HasArg::Opt, 'Z'),
    ("new-chain", HasArg::Req, 'N'),
    ("delete-chain", HasArg::Opt, 'X'),
    ("rename-chain", HasArg::Req, 'E'),
    ("policy", HasArg::Req, 'P'),
    ("source", HasArg::Req, 's'),
    ("destination", HasArg::Req, 'd'),
    ("src", HasArg::Req, 's'),
    ("dst", HasArg::Req, 'd'),
    ("protocol", HasArg::Req, 'p'),
    ("in-interface", HasArg::Req, 'i'),
    ("jump", HasArg::Req, 'j'),
    ("table", HasArg::Req, 't'),
    ("match", HasArg::Req, 'm'),
    ("numeric", HasArg::No, 'n'),
    ("out-interface", HasArg::Req, 'o'),
    ("verbose", HasArg::No, 'v'),
    ("wait", HasArg::Opt, 'w'),
    ("wait-interval", HasArg::Opt, 'W'),
    ("exact", HasArg::No, 'x'),
    ("fragments", HasArg::No, 'f'),
    ("version", HasArg::No, 'V'),
    ("help", HasArg::Opt, 'h'),
    ("line-numbers", HasArg::No, '0'),
    ("modprobe", HasArg::Req, 'M'),
    ("set-counters", HasArg::Req, 'c'),
    ("goto", HasArg::Req, 'g'),
    ("ipv4", HasArg::No, '4'),
    ("ipv6", HasArg::No, '6'),
];

/// Exact main long option names (a `match` compiles to a length switch, not a scan).
fn main_long(name: &str) -> Option<(char, HasArg)> {
    let c = match name {
        "append" => 'A',
        "delete" => 'D',
        "check" => 'C',
        "insert" => 'I',
        "replace" => 'R',
        "list" => 'L',
        "list-rules" => 'S',
        "flush" => 'F',
        "zero" => 'Z',
        "new-chain" => 'N',
        "delete-chain" => 'X',
        "rename-chain" => 'E',
        "policy" => 'P',
        "source" | "src" => 's',
        "destination" | "dst" => 'd',
        "protocol" => 'p',
        "in-interface" => 'i',
        "jump" => 'j',
        "table" => 't',
        "match" => 'm',
        "numeric" => 'n',
        "out-interface" => 'o',
        "verbose" => 'v',
        "wait" => 'w',
        "wait-interval" => 'W',
        "exact" => 'x',
        "fragments" => 'f',
        "version" => 'V',
        "help" => 'h',
        "line-numbers" => '0',
        "modprobe" => 'M',
        "set-counters" => 'c',
        "goto" => 'g',
        "ipv4" => '4',
        "ipv6" => '6',
        _ => return None,
    };
    let arg = MAIN_OPTS
        .iter()
        .find(|(_, _, l)| *l == c)
        .map_or(HasArg::No, |o| o.1);
    Some((c, arg))
}

fn short_opt(c: char) -> Option<HasArg> {
    Some(match c {
        'A' | 'C' | 'D' | 'E' | 'I' | 'M' | 'N' | 'P' | 'R' | 'c' | 'd' | 'i' | 'j' | 'o' | 'p'
        | 's' | 't' | 'g' | 'm' => HasArg::Req,
        'F' | 'L' | 'S' | 'X' | 'Z' | 'W' | 'h' | 'w' => HasArg::Opt,
        'V' | 'v' | '4' | '6' | 'b' | 'f' | 'n' | 'x' => HasArg::No,
        _ => return None,
    })
}

/// A match or target extension the parser knows.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Ext {
    Tcp,
    Udp,
    Multiport,
    State,
    Conntrack,
    Comment,
    Helper,
    Mark,
    Connmark,
    Limit,
    Hashlimit,
    Recent,
    Connlimit,
    Statistic,
    Iprange,
    Addrtype,
    Set,
    Icmp,
    Icmp6,
    Mac,
    Pkttype,
    /// An installed match whose options are not modelled (any `--option` is its own).
    OpaqueMatch,
    TReject,
    TLog,
    TMark,
    TCt,
    TDnat,
    TRedirect,
    /// A target whose options are not modelled.
    OpaqueTarget,
}

const NO: HasArg = HasArg::No;
const REQ: HasArg = HasArg::Req;

fn ext_opts(ext: Ext) -> &'static [(&'static str, HasArg)] {
    match ext {
        Ext::Tcp => &[
            ("source-port", REQ),
            ("sport", REQ),
            ("destination-port", REQ),
            ("dport", REQ),
            ("syn", NO),
            ("tcp-flags", REQ),
            ("tcp-option", REQ),
        ],
        Ext::Udp => &[
            ("source-port", REQ),
            ("sport", REQ),
            ("destination-port", REQ),
            ("dport", REQ),
        ],
        Ext::Multiport => &[
            ("source-ports", REQ),
            ("sports", REQ),
            ("destination-ports", REQ),
            ("dports", REQ),
            ("ports", REQ),
        ],
        Ext::State => &[("state", REQ)],
        Ext::Conntrack => &[
            ("ctstate", REQ),
            ("ctproto", REQ),
            ("ctorigsrc", REQ),
            ("ctorigdst", REQ),
            ("ctreplsrc", REQ),
            ("ctrepldst", REQ),
            ("ctorigsrcport", REQ),
            ("ctorigdstport", REQ),
            ("ctreplsrcport", REQ),
            ("ctrepldstport", REQ),
            ("ctstatus", REQ),
            ("ctexpire", REQ),
            ("ctdir", REQ),
        ],
        Ext::Comment => &[("comment", REQ)],
        Ext::Helper => &[("helper", REQ)],
        Ext::Mark | Ext::Connmark => &[("mark", REQ)],
        Ext::Limit => &[("limit", REQ), ("limit-burst", REQ)],
        Ext::Hashlimit => &[
            ("hashlimit-upto", REQ),
            ("hashlimit-above", REQ),
            ("hashlimit-burst", REQ),
            ("hashlimit-mode", REQ),
            ("hashlimit-srcmask", REQ),
            ("hashlimit-dstmask", REQ),
            ("hashlimit-name", REQ),
            ("hashlimit-htable-size", REQ),
            ("hashlimit-htable-max", REQ),
            ("hashlimit-htable-gcinterval", REQ),
            ("hashlimit-htable-expire", REQ),
            ("hashlimit-rate-match", NO),
            ("hashlimit-rate-interval", REQ),
            ("hashlimit", REQ),
        ],
        Ext::Recent => &[
            ("set", NO),
            ("rcheck", NO),
            ("update", NO),
            ("remove", NO),
            ("seconds", REQ),
            ("reap", NO),
            ("hitcount", REQ),
            ("rttl", NO),
            ("name", REQ),
            ("rsource", NO),
            ("rdest", NO),
            ("mask", REQ),
        ],
        Ext::Connlimit => &[
            ("connlimit-upto", REQ),
            ("connlimit-above", REQ),
            ("connlimit-mask", REQ),
            ("connlimit-saddr", NO),
            ("connlimit-daddr", NO),
        ],
        Ext::Statistic => &[
            ("mode", REQ),
            ("probability", REQ),
            ("every", REQ),
            ("packet", REQ),
        ],
        Ext::Iprange => &[("src-range", REQ), ("dst-range", REQ)],
        Ext::Addrtype => &[
            ("src-type", REQ),
            ("dst-type", REQ),
            ("limit-iface-in", NO),
            ("limit-iface-out", NO),
        ],
        Ext::Set => &[
            ("match-set", REQ),
            ("set", REQ),
            ("return-nomatch", NO),
            ("update-counters", NO),
            ("update-subcounters", NO),
            ("packets-eq", REQ),
            ("packets-lt", REQ),
            ("packets-gt", REQ),
            ("bytes-eq", REQ),
            ("bytes-lt", REQ),
            ("bytes-gt", REQ),
        ],
        Ext::Icmp => &[("icmp-type", REQ)],
        Ext::Icmp6 => &[("icmpv6-type", REQ)],
        Ext::Mac => &[("mac-source", REQ)],
        Ext::Pkttype => &[("pkt-type", REQ)],
        Ext::TReject => &[("reject-with", REQ)],
        Ext::TLog => &[
            ("log-level", REQ),
            ("log-prefix", REQ),
            ("log-tcp-sequence", NO),
            ("log-tcp-options", NO),
            ("log-ip-options", NO),
            ("log-uid", NO),
            ("log-macdecode", NO),
        ],
        Ext::TMark => &[
            ("set-mark", REQ),
            ("set-xmark", REQ),
            ("and-mark", REQ),
            ("or-mark", REQ),
            ("xor-mark", REQ),
        ],
        Ext::TCt => &[
            ("notrack", NO),
            ("helper", REQ),
            ("ctevents", REQ),
            ("expevents", REQ),
            ("zone", REQ),
            ("zone-orig", REQ),
            ("zone-reply", REQ),
            ("timeout", REQ),
        ],
        Ext::TDnat => &[
            ("to-destination", REQ),
            ("random", NO),
            ("random-fully", NO),
            ("persistent", NO),
        ],
        Ext::TRedirect => &[("to-ports", REQ), ("random", NO)],
        Ext::OpaqueMatch | Ext::OpaqueTarget => &[],
    }
}

fn match_ext(name: &str) -> Ext {
    match name {
        "tcp" => Ext::Tcp,
        "udp" => Ext::Udp,
        "multiport" => Ext::Multiport,
        "state" => Ext::State,
        "conntrack" => Ext::Conntrack,
        "comment" => Ext::Comment,
        "helper" => Ext::Helper,
        "mark" => Ext::Mark,
        "connmark" => Ext::Connmark,
        "limit" => Ext::Limit,
        "hashlimit" => Ext::Hashlimit,
        "recent" => Ext::Recent,
        "connlimit" => Ext::Connlimit,
        "statistic" => Ext::Statistic,
        "iprange" => Ext::Iprange,
        "addrtype" => Ext::Addrtype,
        "set" => Ext::Set,
        "icmp" => Ext::Icmp,
        "icmp6" => Ext::Icmp6,
        "mac" => Ext::Mac,
        "pkttype" => Ext::Pkttype,
        _ => Ext::OpaqueMatch,
    }
}

fn target_ext(name: &str) -> Ext {
    match name {
        "REJECT" => Ext::TReject,
        "LOG" => Ext::TLog,
        "MARK" => Ext::TMark,
        "CT" => Ext::TCt,
        "DNAT" => Ext::TDnat,
        "REDIRECT" => Ext::TRedirect,
        _ => Ext::OpaqueTarget,
    }
}

/// Matches whose effect on a new SYN depends only on who sends it or on a rate:
/// understood as "some sources / sometimes", so no uncertainty is recorded.
fn understood_as_some(name: &str) -> bool {
    matches!(
        name,
        "limit"
            | "hashlimit"
            | "recent"
            | "connlimit"
            | "statistic"
            | "quota"
            | "connbytes"
            | "time"
            | "iprange"
            | "set"
            | "mac"
            | "physdev"
            | "owner"
            | "connmark"
            | "devgroup"
            | "cpu"
            // IPv6 extension headers and hop limit: a client's plain TCP SYN carries
            // none of the headers, so these single out some packets at most.
            | "rt"
            | "frag"
            | "hbh"
            | "dst"
            | "hl"
            | "eui64"
            | "ipv6header"
            | "srh"
            | "mh"
    )
}

/// One loaded match or target and what its options have set so far.
#[derive(Clone, Copy)]
struct Loaded {
    ext: Ext,
    name: &'static str,
    span: Span,
    seen: u32,
}

/// The extensions a rule loads, inline: parsing a million rules allocates nothing for them.
struct Exts {
    items: [Loaded; MAX_EXTS],
    len: usize,
}

/// More extensions than any real rule loads; beyond this they are not modelled.
const MAX_EXTS: usize = 12;

impl Exts {
    fn new() -> Exts {
        let blank = Loaded {
            ext: Ext::OpaqueMatch,
            name: "",
            span: Span::new(FileId(0), 0, 0),
            seen: 0,
        };
        Exts {
            items: [blank; MAX_EXTS],
            len: 0,
        }
    }

    fn push(&mut self, l: Loaded) -> Option<usize> {
        let slot = self.items.get_mut(self.len)?;
        *slot = l;
        self.len += 1;
        Some(self.len - 1)
    }

    fn iter(&self) -> std::slice::Iter<'_, Loaded> {
        self.items[..self.len].iter()
    }
}

impl std::ops::Index<usize> for Exts {
    type Output = Loaded;
    fn index(&self, i: usize) -> &Loaded {
        &self.items[..self.len][i]
    }
}

impl std::ops::IndexMut<usize> for Exts {
    fn index_mut(&mut self, i: usize) -> &mut Loaded {
        &mut self.items[..self.len][i]
    }
}

/// Parse one command's words (without the program name).
pub fn parse<'a>(
    args: &[Arg<'a>],
    ctx: &Ctx,
    line: Span,
    sets: &mut Sets,
    interner: &mut Interner,
) -> PResult<Option<Command<'a>>> {
    let mut p = Parser::new(args, ctx, line);
    p.run()?;
    if p.skip {
        return Ok(None);
    }
    p.finish(sets, interner).map(Some)
}

struct Parser<'a, 'b> {
    args: &'b [Arg<'a>],
    i: usize,
    ctx: &'b Ctx,
    line: Span,
    cmd: Option<(Cmd, Span)>,
    chain: Option<Word<'a>>,
    extra: Option<Word<'a>>,
    table: TableKind,
    table_set: bool,
    /// (protocol number or None for "all", inverted, span, lower-cased name)
    proto: Option<(Option<u8>, bool, Span, String)>,
    proto_used: bool,
    options: u32,
    loaded: Exts,
    target: Option<(Target, Span)>,
    target_ext: Option<usize>,
    jump: Option<Jump<'a>>,
    /// Per packet kind, the conditions other than ports.
    applies: [Applies; super::PACKETS],
    /// The conditions for each neighbour discovery packet (protocol applied in `finish`).
    nd: [Applies; 4],
    /// `None` until a port match narrows it (every port).
    key_in: Option<PortSet>,
    key_out: Option<PortSet>,
    /// `-s` (the client of an inbound packet) and `-d` (the client of an outbound one).
    client_in: Option<AddrSet>,
    client_out: Option<AddrSet>,
    /// `-i NAME` / `-o NAME` other than loopback or `+`: (name, inverted).
    iface_in: Option<(String, bool)>,
    iface_out: Option<(String, bool)>,
    plain: bool,
    state: Option<StateMatch>,
    /// The state matches' condition for a new SYN: (not rewritten by nat, rewritten).
    new_parts: Option<(Applies, Applies)>,
    mark: Option<u32>,
    unknowns: Vec<(Span, String)>,
    assumed: Vec<(Span, String)>,
    spec: super::Fnv,
    skip: bool,
    // target details
    redirect: Option<(u16, u16)>,
    dnat: Option<DnatTo>,
    ct_helper: Option<bool>,
    ct_notrack: bool,
    set_mark: Option<u32>,
    reject_tcp_reset: bool,
    multiport_seen: bool,
    multiport_slots: u32,
    dport_text: Option<(PortSyntax, Span, Cow<'a, str>)>,
    dport_matches: u8,
}

const OPT_PROTOCOL: u32 = 1;
const OPT_SOURCE: u32 = 2;
const OPT_DEST: u32 = 4;
const OPT_JUMP: u32 = 8;
const OPT_IN: u32 = 16;
const OPT_OUT: u32 = 32;
const OPT_FRAG: u32 = 64;
const OPT_NUMERIC: u32 = 128;
const OPT_VERBOSE: u32 = 256;
const OPT_EXACT: u32 = 512;
const OPT_LINENUM: u32 = 1024;
const OPT_COUNTERS: u32 = 2048;

fn err(message: impl Into<String>, span: Span) -> ParseError {
    ParseError {
        message: message.into(),
        span,
        kind: ProblemKind::Syntax,
    }
}

impl<'a, 'b> Parser<'a, 'b> {
    fn new(args: &'b [Arg<'a>], ctx: &'b Ctx, line: Span) -> Self {
        Parser {
            args,
            i: 0,
            ctx,
            line,
            cmd: None,
            chain: None,
            extra: None,
            table: ctx.table,
            table_set: false,
            proto: None,
            proto_used: false,
            options: 0,
            loaded: Exts::new(),
            target: None,
            target_ext: None,
            jump: None,
            applies: [Applies::ToAll; super::PACKETS],
            nd: [Applies::ToAll; 4],
            key_in: None,
            key_out: None,
            client_in: None,
            client_out: None,
            iface_in: None,
            iface_out: None,
            plain: true,
            state: None,
            new_parts: None,
            mark: None,
            unknowns: Vec::new(),
            assumed: Vec::new(),
            spec: Default::default(),
            skip: false,
            redirect: None,
            dnat: None,
            ct_helper: None,
            ct_notrack: false,
            set_mark: None,
            reject_tcp_reset: false,
            multiport_seen: false,
            multiport_slots: 0,
            dport_text: None,
            dport_matches: 0,
        }
    }

    fn span(&self, a: &Arg) -> Span {
        Span::new(self.ctx.file, a.start as usize, a.end as usize)
    }

    fn span_at(&self, i: usize) -> Span {
        self.args.get(i).map_or(self.line, |a| self.span(a))
    }

    fn word(&self, i: usize) -> Word<'a> {
        Word {
            text: self.args[i].text.clone(),
            span: self.span(&self.args[i]),
        }
    }

    /// getopt's `xs_has_arg`: a next word that is not an option or `!`.
    fn has_arg(&self) -> bool {
        self.args
            .get(self.i)
            .is_some_and(|a| !a.text.starts_with('-') && !a.text.starts_with('!'))
    }

    fn run(&mut self) -> PResult<()> {
        let mut invert: Option<Span> = None;
        while self.i < self.args.len() {
            let at = self.i;
            let tok = self.args[at].text.clone();
            self.i += 1;
            if tok == "!" {
                if invert.is_some() {
                    return Err(err("multiple consecutive ! not allowed", self.span_at(at)));
                }
                invert = Some(self.span_at(at));
                continue;
            }
            if let Some(long) = tok.strip_prefix("--").filter(|l| !l.is_empty()) {
                let (name, inline) = match long.split_once('=') {
                    Some((n, v)) => (n, Some(v)),
                    None => (long, None),
                };
                self.long_option(name, inline, at, invert.is_some())?;
            } else if tok.len() >= 2 && tok.starts_with('-') {
                self.short_option(&tok, at, invert.is_some())?;
            } else {
                return Err(err(format!("Bad argument `{tok}'"), self.span_at(at)));
            }
            invert = None;
            if self.skip {
                return Ok(());
            }
        }
        if invert.is_some() {
            return Err(err("nothing appropriate following !", self.line));
        }
        Ok(())
    }

    /// Resolve a long option name the way getopt_long does over the merged tables.
    fn resolve(&self, name: &str) -> Resolved {
        if let Some((c, arg)) = main_long(name) {
            return Resolved::Main(c, arg);
        }
        // Newest extension first, as iptables merges option tables.
        for (idx, l) in self.loaded.iter().enumerate().rev() {
            if let Some(&(n, arg)) = ext_opts(l.ext).iter().find(|(n, _)| *n == name) {
                return Resolved::Ext(idx, n, arg);
            }
        }
        if self
            .loaded
            .iter()
            .any(|l| matches!(l.ext, Ext::OpaqueMatch | Ext::OpaqueTarget))
        {
            return Resolved::Opaque;
        }
        let mut found: Option<Resolved> = None;
        let mut count = 0;
        for &(n, arg, c) in MAIN_OPTS {
            if n.starts_with(name) {
                // `src`/`source` and `dst`/`destination` are separate entries with one meaning.
                let same = matches!(found, Some(Resolved::Main(fc, _)) if fc == c);
                if !same {
                    count += 1;
                    found = Some(Resolved::Main(c, arg));
                }
            }
        }
        for (idx, l) in self.loaded.iter().enumerate().rev() {
            for &(n, arg) in ext_opts(l.ext) {
                if n.starts_with(name) {
                    count += 1;
                    found = Some(Resolved::Ext(idx, n, arg));
                }
            }
        }
        match (count, found) {
            (1, Some(r)) => r,
            _ => Resolved::Unknown,
        }
    }

    fn long_option(
        &mut self,
        name: &str,
        inline: Option<&str>,
        at: usize,
        invert: bool,
    ) -> PResult<()> {
        let mut resolved = self.resolve(name);
        if matches!(resolved, Resolved::Unknown) && self.load_proto() {
            resolved = self.resolve(name);
        }
        match resolved {
            Resolved::Unknown => Err(err(
                format!("unknown option \"--{name}\""),
                self.span_at(at),
            )),
            Resolved::Main(c, arg) => {
                let optarg = self.take_arg(arg, inline, at)?;
                self.main_option(c, optarg, at, invert)
            }
            Resolved::Ext(idx, canonical, arg) => {
                let optarg = self.take_arg(arg, inline, at)?;
                self.ext_option(idx, canonical, optarg, at, invert)
            }
            Resolved::Opaque => {
                let optarg: Option<Cow<'a, str>> = match inline {
                    Some(v) => Some(Cow::Owned(v.to_owned())),
                    None if self.has_arg() => {
                        self.i += 1;
                        Some(self.args[self.i - 1].text.clone())
                    }
                    None => None,
                };
                self.hash_opt(name, optarg.as_deref(), invert);
                Ok(())
            }
        }
    }

    /// The option's argument (attached with `=` or the next word) and its word index.
    fn take_arg(&mut self, arg: HasArg, inline: Option<&str>, at: usize) -> PResult<OptArg<'a>> {
        match (arg, inline) {
            (HasArg::No, _) => Ok(None),
            (_, Some(v)) => Ok(Some((Cow::Owned(v.to_owned()), at))),
            (HasArg::Req, None) => {
                if self.i < self.args.len() {
                    self.i += 1;
                    Ok(Some((self.args[self.i - 1].text.clone(), self.i - 1)))
                } else {
                    let shown = self.args[at].text.split('=').next().unwrap_or("");
                    Err(err(
                        format!("option \"{shown}\" requires an argument"),
                        self.span_at(at),
                    ))
                }
            }
            (HasArg::Opt, None) => Ok(None),
        }
    }

    fn short_option(&mut self, tok: &str, at: usize, invert: bool) -> PResult<()> {
        let mut chars = tok[1..].chars();
        let Some(c) = chars.next() else {
            return Err(err(format!("Bad argument `{tok}'"), self.span_at(at)));
        };
        let rest = chars.as_str();
        let Some(arg) = short_opt(c) else {
            return Err(err(format!("unknown option \"-{c}\""), self.span_at(at)));
        };
        if !rest.is_empty() && c == 'p' {
            // Measured: iptables 1.8.9 reads `-ptcp` as the protocol name "-ptcp".
            return Err(err(
                format!("unknown protocol \"{tok}\" specified"),
                self.span_at(at),
            ));
        }
        let inline = (!rest.is_empty()).then_some(rest);
        if inline.is_some() && arg == HasArg::No {
            return Err(err(format!("unknown option \"{tok}\""), self.span_at(at)));
        }
        let optarg = self.take_arg(arg, inline, at)?;
        self.main_option(c, optarg, at, invert)
    }

    fn add_command(&mut self, cmd: Cmd, at: usize, invert: bool) -> PResult<()> {
        if invert {
            return Err(err("unexpected '!' flag", self.span_at(at)));
        }
        if let Some((prev, _)) = self.cmd {
            return Err(err(
                format!("Cannot use -{} with -{}", cmd_letter(cmd), cmd_letter(prev)),
                self.span_at(at),
            ));
        }
        self.cmd = Some((cmd, self.span_at(at)));
        Ok(())
    }

    fn set_option(&mut self, opt: u32, letter: char, at: usize, invert: bool) -> PResult<()> {
        if self.options & opt != 0 {
            return Err(err(
                format!("multiple -{letter} flags not allowed"),
                self.span_at(at),
            ));
        }
        self.options |= opt;
        let invertible = matches!(
            opt,
            OPT_PROTOCOL | OPT_SOURCE | OPT_DEST | OPT_IN | OPT_OUT | OPT_FRAG
        );
        if invert && !invertible {
            return Err(err(
                format!("cannot have ! before -{letter}"),
                self.span_at(at),
            ));
        }
        Ok(())
    }

    /// The chain (or other) word of a command: the option's argument.
    fn optarg_word(&self, optarg: &OptArg<'a>) -> Option<Word<'a>> {
        optarg.as_ref().map(|(text, i)| Word {
            text: text.clone(),
            span: self.span_at(*i),
        })
    }

    /// An optional chain name: attached, or the next word when it is not an option.
    fn optional_word(&mut self, optarg: &OptArg<'a>) -> Option<Word<'a>> {
        if optarg.is_some() {
            return self.optarg_word(optarg);
        }
        if self.has_arg() {
            self.i += 1;
            return Some(self.word(self.i - 1));
        }
        None
    }

    fn rule_number(&mut self) -> PResult<Option<u32>> {
        if !self.has_arg() {
            return Ok(None);
        }
        let at = self.i;
        self.i += 1;
        let text = self.args[at].text.clone();
        match c_strtoul(&text) {
            Some(n) if (1..=i32::MAX as u64).contains(&n) => Ok(Some(n as u32)),
            _ => Err(err(
                format!("Invalid rule number `{text}'"),
                self.span_at(at),
            )),
        }
    }

    fn main_option(&mut self, c: char, optarg: OptArg<'a>, at: usize, invert: bool) -> PResult<()> {
        let value: Cow<'a, str> = optarg
            .as_ref()
            .map_or(Cow::Borrowed(""), |(v, _)| v.clone());
        match c {
            'A' | 'C' | 'I' | 'R' | 'D' => {
                let cmd = match c {
                    'A' => Cmd::Append,
                    'C' => Cmd::Check,
                    'I' => Cmd::Insert(1),
                    'R' => Cmd::Replace(0),
                    _ => Cmd::Delete,
                };
                self.add_command(cmd, at, invert)?;
                self.chain = self.optarg_word(&optarg);
                match c {
                    'I' => {
                        if let Some(n) = self.rule_number()? {
                            self.cmd = Some((Cmd::Insert(n), self.span_at(at)));
                        }
                    }
                    'R' => match self.rule_number()? {
                        Some(n) => self.cmd = Some((Cmd::Replace(n), self.span_at(at))),
                        None => {
                            return Err(err("-R requires a rule number", self.span_at(at)));
                        }
                    },
                    // `-D CHAIN N` deletes by number (strtol, base 10), `-D CHAIN spec` by match.
                    'D' if self.has_arg() => {
                        let i = self.i;
                        self.i += 1;
                        let text = self.args[i].text.clone();
                        match text.parse::<u32>() {
                            Ok(n) if n > 0 => {
                                self.cmd = Some((Cmd::DeleteNum(n), self.span_at(at)))
                            }
                            _ => {
                                return Err(err(
                                    format!("Invalid rule number `{text}'"),
                                    self.span_at(i),
                                ));
                            }
                        }
                    }
                    _ => {}
                }
            }
            'L' | 'S' => {
                self.add_command(Cmd::List, at, invert)?;
                self.chain = self.optional_word(&optarg);
                self.rule_number()?;
            }
            'F' => {
                self.add_command(Cmd::Flush, at, invert)?;
                self.chain = self.optional_word(&optarg);
            }
            'Z' => {
                self.add_command(Cmd::Zero, at, invert)?;
                self.chain = self.optional_word(&optarg);
                self.rule_number()?;
            }
            'N' => {
                assert_valid_chain_name(&value, self.span_at(at + 1))?;
                self.add_command(Cmd::NewChain, at, invert)?;
                self.chain = self.optarg_word(&optarg);
            }
            'X' => {
                self.add_command(Cmd::DeleteChain, at, invert)?;
                self.chain = self.optional_word(&optarg);
            }
            'E' => {
                self.add_command(Cmd::Rename, at, invert)?;
                self.chain = self.optarg_word(&optarg);
                if !self.has_arg() {
                    return Err(err(
                        "-E requires old-chain-name and new-chain-name",
                        self.span_at(at),
                    ));
                }
                self.i += 1;
                let w = self.word(self.i - 1);
                assert_valid_chain_name(&w.text, w.span)?;
                self.extra = Some(w);
            }
            'P' => {
                self.add_command(Cmd::Policy, at, invert)?;
                if !self.has_arg() {
                    return Err(err("-P requires a chain and a policy", self.span_at(at)));
                }
                self.chain = self.optarg_word(&optarg);
                self.i += 1;
                self.extra = Some(self.word(self.i - 1));
            }
            'p' => {
                self.set_option(OPT_PROTOCOL, 'p', at, invert)?;
                self.protocol(&value, invert, self.span_at(at + 1))?;
                self.hash_opt("-p", Some(&value), invert);
            }
            's' | 'd' => {
                let opt = if c == 's' { OPT_SOURCE } else { OPT_DEST };
                self.set_option(opt, c, at, invert)?;
                let span = self.span_at(at + 1);
                let set = parse_addresses(&value, self.ctx.family, invert, span)?;
                if c == 'd' {
                    self.note_host_address(set.as_ref(), &value, invert, span);
                }
                self.address(c == 's', set, invert);
                self.hash_opt(if c == 's' { "-s" } else { "-d" }, Some(&value), invert);
            }
            'i' | 'o' => {
                if value.is_empty() {
                    return Err(err(
                        "Empty interface is likely to be undesired",
                        self.span_at(at),
                    ));
                }
                self.set_option(if c == 'i' { OPT_IN } else { OPT_OUT }, c, at, invert)?;
                if value.len() >= 16 {
                    return Err(err(
                        format!("interface name `{value}' must be shorter than IFNAMSIZ (15)"),
                        self.span_at(at + 1),
                    ));
                }
                let absent = if invert {
                    Applies::ToAll
                } else {
                    Applies::Never
                };
                // Loopback and `+` are decided now; another name once the ruleset
                // is whole (which interface the clients use depends on the others).
                let a = match iface_applies(&value) {
                    Some(a) if invert => a.negated(),
                    Some(a) => a,
                    None => {
                        let slot = Some((value.to_string(), invert));
                        if c == 'i' {
                            self.iface_in = slot;
                        } else {
                            self.iface_out = slot;
                        }
                        Applies::ToAll
                    }
                };
                if c == 'i' {
                    self.condition_split(a, absent);
                } else {
                    self.condition_split(absent, a);
                }
                self.hash_opt(if c == 'i' { "-i" } else { "-o" }, Some(&value), invert);
            }
            'f' => {
                self.set_option(OPT_FRAG, 'f', at, invert)?;
                let a = if invert {
                    Applies::ToAll
                } else {
                    Applies::Never
                };
                self.condition(a);
                self.hash_opt("-f", None, invert);
            }
            'j' | 'g' => {
                self.set_option(OPT_JUMP, 'j', at, invert)?;
                self.jump_to(value, c == 'g', optarg.as_ref().map_or(at, |o| o.1))?;
            }
            'm' => {
                if invert {
                    return Err(err("unexpected ! flag before --match", self.span_at(at)));
                }
                self.load_match(&value, self.span_at(at).to(self.span_at(at + 1)))?;
            }
            't' => {
                if invert {
                    return Err(err("unexpected ! flag before --table", self.span_at(at)));
                }
                if self.ctx.mode == Mode::Restore {
                    return Err(err(
                        "The -t option cannot be used in iptables-restore.",
                        self.span_at(at),
                    ));
                }
                if self.table_set {
                    return Err(err("multiple -t flags not allowed", self.span_at(at)));
                }
                self.table_set = true;
                match TableKind::parse(&value) {
                    Some(t) => self.table = t,
                    None => {
                        return Err(err(
                            format!(
                                "can't initialize iptables table `{value}': Table does not exist (do you need to insmod?)"
                            ),
                            self.span_at(at + 1),
                        ));
                    }
                }
            }
            'w' | 'W' => {
                if self.ctx.mode == Mode::Restore {
                    return Err(err(
                        format!("You cannot use `-{c}' from iptables-restore"),
                        self.span_at(at),
                    ));
                }
                if optarg.is_none() && self.has_arg() {
                    self.i += 1;
                }
            }
            'c' => {
                self.set_option(OPT_COUNTERS, 'c', at, invert)?;
                if !value.contains(',') && self.has_arg() {
                    self.i += 1;
                }
            }
            'v' => {
                self.options |= OPT_VERBOSE;
            }
            'n' => self.set_option(OPT_NUMERIC, 'n', at, invert)?,
            'x' => self.set_option(OPT_EXACT, 'x', at, invert)?,
            '0' => self.set_option(OPT_LINENUM, '0', at, invert)?,
            'M' | 'b' => {}
            'V' | 'h' => {}
            // The other family's line: the tool stops reading it and moves on.
            '4' if self.ctx.family == Family::V6 => self.skip = true,
            '6' if self.ctx.family == Family::V4 => self.skip = true,
            _ => {}
        }
        Ok(())
    }

    fn protocol(&mut self, value: &str, invert: bool, span: Span) -> PResult<()> {
        let lower = if value.bytes().any(|b| b.is_ascii_uppercase()) {
            value.to_ascii_lowercase()
        } else {
            value.to_owned()
        };
        let num: Option<u8> = if let Some(n) = c_strtoul(&lower) {
            if n > 255 {
                return Err(err(format!("unknown protocol \"{value}\" specified"), span));
            }
            Some(n as u8)
        } else if lower == "all" {
            Some(0)
        } else if lower == "tcp" {
            Some(6)
        } else if names::is_protocol_name(&lower) {
            Some(match lower.as_str() {
                "tcp" => 6,
                "udp" => 17,
                "ip" | "hopopt" => 0,
                "icmp" => 1,
                "icmpv6" | "ipv6-icmp" => 58,
                _ => 255,
            })
        } else {
            return Err(err(format!("unknown protocol \"{value}\" specified"), span));
        };
        if num == Some(0) && invert {
            return Err(err("rule would never match protocol", span));
        }
        self.proto = Some((num, invert, span, lower));
        Ok(())
    }

    /// How the rule holds for neighbour discovery, its protocol match included.
    fn nd_match(&self) -> NdMatch {
        let icmpv6 = match &self.proto {
            None | Some((Some(0), _, _, _)) => Applies::ToAll,
            Some((num, invert, _, _)) => match (*num == Some(58)) != *invert {
                true => Applies::ToAll,
                false => Applies::Never,
            },
        };
        NdMatch::new(
            self.nd.map(|a| a.and(icmpv6)),
            matches!(self.proto, Some((Some(1), false, _, _))),
        )
    }

    fn proto_num(&self) -> Option<u8> {
        self.proto.as_ref().and_then(|p| p.0)
    }

    fn proto_class(&self) -> Proto {
        match &self.proto {
            None => Proto::Any,
            Some((Some(0), _, _, _)) => Proto::Any,
            Some((Some(6), false, _, _)) => Proto::Tcp,
            Some((Some(17), false, _, _)) => Proto::Udp,
            Some((Some(6), true, _, _)) => Proto::Other,
            Some((_, true, _, _)) => Proto::AllBut,
            Some(_) => Proto::Other,
        }
    }

    /// Load the protocol's match on demand, as `-p tcp --dport 22` does.
    fn load_proto(&mut self) -> bool {
        if self.proto_used {
            return false;
        }
        let Some((_, _, span, name)) = self.proto.clone() else {
            return false;
        };
        self.proto_used = true;
        let v6 = self.ctx.family == Family::V6;
        let ext = match name.as_str() {
            "tcp" | "6" => Ext::Tcp,
            "udp" | "17" => Ext::Udp,
            "icmp" | "1" if !v6 => Ext::Icmp,
            "icmpv6" | "ipv6-icmp" | "58" if v6 => Ext::Icmp6,
            _ => return false,
        };
        self.push_ext(ext, static_name(ext), span);
        true
    }

    fn push_ext(&mut self, ext: Ext, name: &'static str, span: Span) -> Option<usize> {
        let idx = self.loaded.push(Loaded {
            ext,
            name,
            span,
            seen: 0,
        });
        if idx.is_none() {
            self.condition(Applies::ToSome);
            self.unknowns.push((
                span,
                format!("more than {MAX_EXTS} matches and targets in one rule are not modelled"),
            ));
        }
        idx
    }

    fn load_match(&mut self, name: &str, span: Span) -> PResult<()> {
        let v6 = self.ctx.family == Family::V6;
        let Some(stat) = names::match_name(name, v6) else {
            return Err(err(
                format!("Couldn't load match `{name}':No such file or directory"),
                span,
            ));
        };
        let ext = match_ext(stat);
        if !matches!(ext, Ext::Tcp | Ext::Udp) {
            self.hash_opt("-m", Some(name), false);
        }
        if matches!(name, "limit" | "hashlimit" | "connlimit") {
            // Every client gets in while the traffic stays under the limit.
            self.assumed.push((
                span,
                format!("the rule holds only while connections stay under its `-m {name}` limit"),
            ));
        }
        if ext == Ext::OpaqueMatch {
            self.condition(Applies::ToSome);
            self.plain = false;
            match name {
                "nfacct" => {}
                "pkttype" | "addrtype" => {}
                _ if understood_as_some(name) => {}
                _ => self
                    .unknowns
                    .push((span, format!("match `{name}` is not modelled"))),
            }
        } else if !matches!(ext, Ext::Tcp | Ext::Udp | Ext::Multiport | Ext::Comment) {
            self.plain = false;
        }
        if matches!(
            ext,
            Ext::Limit | Ext::Hashlimit | Ext::Recent | Ext::Connlimit | Ext::Statistic
        ) {
            self.condition(Applies::ToSome);
        }
        self.push_ext(ext, stat, span);
        Ok(())
    }

    fn jump_to(&mut self, name: Cow<'a, str>, goto: bool, name_at: usize) -> PResult<()> {
        let span = self.span_at(name_at);
        if name.is_empty() {
            return Err(err("Invalid target name (too short)", span));
        }
        if name.len() >= 29 {
            return Err(err(
                format!("Invalid target name `{name}' (28 chars max)"),
                span,
            ));
        }
        if name.chars().any(|c| c.is_ascii_whitespace()) {
            return Err(err(format!("Invalid target name `{name}'"), span));
        }
        self.hash_opt(if goto { "-g" } else { "-j" }, Some(&name), false);
        if goto {
            self.jump = Some(Jump {
                name: Word { text: name, span },
                goto: true,
            });
            return Ok(());
        }
        if name == "CONTINUE" {
            return Ok(());
        }
        let standard = match &*name {
            "ACCEPT" => Some(Target::Accept),
            "DROP" => Some(Target::Drop),
            "RETURN" => Some(Target::Return),
            "QUEUE" => Some(Target::Opaque),
            _ => None,
        };
        if let Some(t) = standard {
            self.target = Some((t, span));
            return Ok(());
        }
        let known = match &*name {
            "REJECT" => Some("REJECT"),
            "LOG" => Some("LOG"),
            _ => names::TARGETS
                .binary_search(&&*name)
                .ok()
                .map(|i| names::TARGETS[i]),
        };
        if let Some(stat) = known {
            self.target_ext = self.push_ext(target_ext(stat), stat, span);
            let t = match stat {
                "REJECT" => Target::Reject,
                "NOTRACK" => Target::NoTrack,
                "SNAT" | "MASQUERADE" | "NETMAP" => Target::NatOther,
                "NFQUEUE" | "SYNPROXY" | "TPROXY" | "CLUSTERIP" => Target::Opaque,
                _ => Target::Continue,
            };
            self.target = Some((t, span));
            return Ok(());
        }
        self.jump = Some(Jump {
            name: Word { text: name, span },
            goto: false,
        });
        Ok(())
    }

    fn hash_opt(&mut self, opt: &str, val: Option<&str>, invert: bool) {
        invert.hash(&mut self.spec);
        opt.hash(&mut self.spec);
        val.hash(&mut self.spec);
    }

    /// An address match: the client's address for packets it sends (`-s` inbound)
    /// or receives (`-d` outbound), judged per source class; the host's own
    /// address otherwise (loopback never from outside, 0/0 always).
    /// `-d` names the host's own address on an arriving packet: when it is some
    /// addresses (not loopback, not everyone), whether they are this host's is
    /// not known, so the rule may hold for every client or for none.
    fn note_host_address(&mut self, set: Option<&AddrSet>, value: &str, invert: bool, span: Span) {
        let host = set.map_or(Applies::ToSome, |set| {
            let set = if invert {
                set.complement()
            } else {
                set.clone()
            };
            applies_to(clients_of(set.family()), &set)
        });
        if matches!(host, Applies::ToSome | Applies::ToMost) {
            let not = if invert { "not " } else { "" };
            self.assumed.push((
                span,
                format!(
                    "the rule holds only for connections {not}to {value} (-d), and whether clients connect to an address of this host there is not known"
                ),
            ));
        }
    }

    fn address(&mut self, source: bool, set: Option<AddrSet>, invert: bool) {
        let Some(set) = set else {
            // Host names: resolved when the rule is loaded.
            self.condition(if invert {
                Applies::ToMost
            } else {
                Applies::ToSome
            });
            return;
        };
        let set = if invert { set.complement() } else { set };
        let host = applies_to(clients_of(set.family()), &set);
        // A neighbour solicits from any address of its own (measured: from its
        // global address when the packet that needs the answer has one).
        let neighbours = applies_to(&AddrSet::all(set.family()), &set);
        if source {
            self.client_in = Some(set);
            self.condition_split(Applies::ToAll, host);
            self.nd_condition(neighbours, Applies::ToAll);
        } else {
            self.client_out = Some(set);
            self.condition_split(host, Applies::ToAll);
            self.nd_condition(Applies::ToAll, neighbours);
        }
    }

    /// The same condition for every packet kind.
    fn condition(&mut self, a: Applies) {
        self.tcp_condition(a);
        self.nd_condition(a, a);
    }

    /// A condition for the TCP packets only.
    fn tcp_condition(&mut self, a: Applies) {
        for x in &mut self.applies {
            *x = x.and(a);
        }
    }

    /// Conditions for the neighbour discovery packets arriving and leaving.
    fn nd_condition(&mut self, inbound: Applies, outbound: Applies) {
        for packet in NdPacket::ALL {
            let a = if packet.inbound() { inbound } else { outbound };
            self.nd[packet as usize] = self.nd[packet as usize].and(a);
        }
    }

    /// One condition for the inbound packets, another for the outbound reply.
    fn condition_split(&mut self, inbound: Applies, reply: Applies) {
        self.nd_condition(inbound, reply);
        self.per_packet(|p| if p.inbound() { inbound } else { reply });
    }

    /// A condition that depends on the kind of packet.
    fn per_packet(&mut self, by: impl Fn(Packet) -> Applies) {
        for (x, p) in self.applies.iter_mut().zip(Packet::ALL) {
            *x = x.and(by(p));
        }
    }

    fn seen_once(&mut self, idx: usize, bit: u32, option: &str) -> PResult<()> {
        let l = &mut self.loaded[idx];
        if l.seen & bit != 0 {
            let name = l.name;
            let span = self.line;
            return Err(err(
                format!("{name}: option \"--{option}\" can only be used once."),
                span,
            ));
        }
        l.seen |= bit;
        Ok(())
    }

    fn ext_option(
        &mut self,
        idx: usize,
        canonical: &'static str,
        optarg: OptArg<'a>,
        at: usize,
        invert: bool,
    ) -> PResult<()> {
        let ext = self.loaded[idx].ext;
        let (value, vat) = optarg.clone().unwrap_or((Cow::Borrowed(""), 0));
        let vspan = if optarg.is_some() {
            self.span_at(vat)
        } else {
            self.span_at(at)
        };
        self.hash_opt(canonical, Some(&value), invert);
        self.note_dport(ext, canonical, (&value, vspan), invert);
        match ext {
            Ext::Tcp | Ext::Udp => self.tcp_udp_option(idx, canonical, &value, vspan, invert),
            Ext::Multiport => self.multiport_option(idx, canonical, &value, vspan, invert),
            Ext::State => {
                self.seen_once(idx, 1, "state")?;
                let sm = parse_states(&value, false, vspan)?;
                self.state_match(sm, invert);
                Ok(())
            }
            Ext::Conntrack => self.conntrack_option(idx, canonical, &value, vspan, invert),
            Ext::Comment => {
                self.loaded[idx].seen |= 1;
                if value.len() > 255 {
                    return Err(err(
                        "comment: option \"--comment\" must be less than 256 characters",
                        vspan,
                    ));
                }
                Ok(())
            }
            Ext::Helper => {
                self.seen_once(idx, 1, "helper")?;
                // xt_helper holds for the packets of a connection whose master has
                // the named helper: the data connections the FTP helper expected.
                let ftp = value == "ftp";
                self.per_packet(|p| {
                    let expected = matches!(
                        p,
                        Packet::Related | Packet::ActiveSynHelped | Packet::ActiveSynAckHelped
                    );
                    if (expected && ftp) != invert {
                        Applies::ToAll
                    } else {
                        Applies::Never
                    }
                });
                Ok(())
            }
            Ext::Mark | Ext::Connmark => {
                self.seen_once(idx, 1, "mark")?;
                let name = self.loaded[idx].name;
                let parsed = parse_mark(&value).ok_or_else(|| {
                    err(
                        format!(
                            "{name}: bad integer value for option \"--mark\", or out of range."
                        ),
                        vspan,
                    )
                })?;
                match (ext, parsed, invert) {
                    (Ext::Mark, (v, None), false) => self.mark = Some(v),
                    _ => self.condition(Applies::ToSome),
                }
                Ok(())
            }
            Ext::Limit => {
                if canonical == "limit" && !valid_rate(&value) {
                    return Err(err(format!("bad rate \"{value}\"'"), vspan));
                }
                self.loaded[idx].seen |= 1;
                Ok(())
            }
            Ext::Hashlimit => {
                if canonical == "hashlimit-name" {
                    self.loaded[idx].seen |= 1;
                }
                Ok(())
            }
            Ext::Recent => {
                if matches!(canonical, "set" | "rcheck" | "update" | "remove") {
                    if let Some(prev) = recent_action(self.loaded[idx].seen) {
                        return Err(err(
                            format!(
                                "recent: option \"--{canonical}\" cannot be used together with \"--{prev}\"."
                            ),
                            self.span_at(at),
                        ));
                    }
                    self.loaded[idx].seen |= match canonical {
                        "set" => 1,
                        "rcheck" => 2,
                        "update" => 4,
                        _ => 8,
                    };
                }
                Ok(())
            }
            Ext::Connlimit => {
                if matches!(canonical, "connlimit-upto" | "connlimit-above") {
                    self.loaded[idx].seen |= 1;
                }
                Ok(())
            }
            Ext::Statistic => {
                match canonical {
                    "mode" if value == "random" => self.loaded[idx].seen |= 1,
                    "mode" => self.loaded[idx].seen |= 4,
                    "probability" => self.loaded[idx].seen |= 2,
                    _ => {}
                }
                Ok(())
            }
            Ext::Iprange => {
                self.loaded[idx].seen |= 1;
                let a = if invert {
                    Applies::ToMost
                } else {
                    Applies::ToSome
                };
                self.condition(a);
                Ok(())
            }
            Ext::Addrtype => {
                let a = addrtype_applies(canonical, &value, vspan)?;
                let a = a.map(|x| if invert { x.negated() } else { x });
                self.condition_split(a[0], a[1]);
                Ok(())
            }
            Ext::Set => {
                if matches!(canonical, "match-set" | "set") {
                    self.loaded[idx].seen |= 1;
                    // The set's flags are the next word.
                    if self.has_arg() {
                        self.i += 1;
                    }
                    let a = if invert {
                        Applies::ToMost
                    } else {
                        Applies::ToSome
                    };
                    self.condition(a);
                }
                Ok(())
            }
            Ext::Pkttype => {
                let a = match value.to_ascii_lowercase().as_str() {
                    "unicast" | "host" => Applies::ToAll,
                    "broadcast" | "multicast" | "otherhost" => Applies::Never,
                    _ => {
                        return Err(err(format!("Bad packet type '{value}'"), vspan));
                    }
                };
                self.condition(if invert { a.negated() } else { a });
                // Solicitations go to multicast and unicast addresses alike.
                self.nd_condition(Applies::ToSome, Applies::ToSome);
                Ok(())
            }
            Ext::Icmp6 => {
                self.tcp_condition(Applies::ToSome);
                let kind = names::icmpv6_type(&value).map_err(|m| err(m, vspan))?;
                for packet in NdPacket::ALL {
                    let hit = kind.0 == packet.icmpv6_type() && kind.1.is_none_or(|code| code == 0);
                    let a = if hit != invert {
                        Applies::ToAll
                    } else {
                        Applies::Never
                    };
                    self.nd[packet as usize] = self.nd[packet as usize].and(a);
                }
                Ok(())
            }
            Ext::Icmp | Ext::Mac => {
                self.condition(Applies::ToSome);
                if ext == Ext::Mac && !valid_mac(&value) {
                    return Err(err("Invalid MAC address specified.", vspan));
                }
                Ok(())
            }
            Ext::TReject if self.ctx.family == Family::V6 => {
                if !names::is_icmpv6_reject_type(&value) {
                    return Err(err(format!("unknown reject type \"{value}\""), vspan));
                }
                self.reject_tcp_reset = value == "tcp-reset";
                Ok(())
            }
            Ext::TReject => {
                let known = matches!(
                    &*value,
                    "icmp-net-unreachable"
                        | "net-unreach"
                        | "icmp-host-unreachable"
                        | "host-unreach"
                        | "icmp-proto-unreachable"
                        | "proto-unreach"
                        | "icmp-port-unreachable"
                        | "port-unreach"
                        | "icmp-net-prohibited"
                        | "net-prohib"
                        | "icmp-host-prohibited"
                        | "host-prohib"
                        | "tcp-reset"
                        | "tcp-rst"
                        | "icmp-admin-prohibited"
                        | "admin-prohib"
                );
                if !known {
                    return Err(err(format!("unknown reject type \"{value}\""), vspan));
                }
                self.reject_tcp_reset = matches!(&*value, "tcp-reset" | "tcp-rst");
                Ok(())
            }
            Ext::TLog => {
                if canonical == "log-level" && !valid_log_level(&value) {
                    return Err(err(format!("log level \"{value}\" unknown"), vspan));
                }
                Ok(())
            }
            Ext::TMark => {
                self.loaded[idx].seen |= 1;
                let parsed = parse_mark(&value);
                self.set_mark = match (canonical, parsed) {
                    ("set-mark", Some((v, None))) => Some(v),
                    ("set-xmark", Some((v, Some(0xffff_ffff)))) => Some(v),
                    _ => None,
                };
                Ok(())
            }
            Ext::TCt => {
                match canonical {
                    "helper" => self.ct_helper = Some(value == "ftp"),
                    "notrack" => self.ct_notrack = true,
                    _ => {}
                }
                Ok(())
            }
            Ext::TDnat => {
                if canonical == "to-destination" {
                    self.dnat = Some(
                        parse_dnat(&value)
                            .ok_or_else(|| err(format!("Invalid address `{value}'"), vspan))?,
                    );
                }
                Ok(())
            }
            Ext::TRedirect => {
                if canonical == "to-ports" {
                    self.redirect = Some(parse_redirect(&value, vspan)?);
                }
                Ok(())
            }
            Ext::OpaqueMatch | Ext::OpaqueTarget => Ok(()),
        }
    }

    fn tcp_udp_option(
        &mut self,
        idx: usize,
        canonical: &str,
        value: &str,
        vspan: Span,
        invert: bool,
    ) -> PResult<()> {
        let tcp = self.loaded[idx].ext == Ext::Tcp;
        let services = if tcp { "tcp" } else { "udp" };
        match canonical {
            "source-port" | "sport" => {
                let set = self.port_once(idx, 1, "source-port", value, services, vspan)?;
                self.sport(&if invert { set.complement() } else { set });
            }
            "destination-port" | "dport" => {
                let set = self.port_once(idx, 2, "destination-port", value, services, vspan)?;
                self.dport(&if invert { set.complement() } else { set });
            }
            "syn" | "tcp-flags" => {
                if self.loaded[idx].seen & 4 != 0 {
                    return Err(err("Only one of `--syn' or `--tcp-flags'  allowed", vspan));
                }
                self.loaded[idx].seen |= 4;
                let (mask, comp) = if canonical == "syn" {
                    (0x17, 0x02)
                } else {
                    if !self.has_arg() {
                        return Err(err("--tcp-flags requires two args.", vspan));
                    }
                    self.i += 1;
                    let comp_text = self.args[self.i - 1].text.to_string();
                    let comp_span = self.span_at(self.i - 1);
                    self.hash_opt("", Some(&comp_text), false);
                    (
                        parse_tcp_flags(value, vspan)?,
                        parse_tcp_flags(&comp_text, comp_span)?,
                    )
                };
                self.plain = false;
                self.per_packet(|p| {
                    if ((p.tcp_flags() & mask) == comp) != invert {
                        Applies::ToAll
                    } else {
                        Applies::Never
                    }
                });
            }
            "tcp-option" => {
                self.plain = false;
                self.condition(Applies::ToSome);
                let span = self.loaded[idx].span;
                self.unknowns.push((
                    span.to(vspan),
                    "tcp option `--tcp-option` is not modelled".into(),
                ));
            }
            _ => {}
        }
        Ok(())
    }

    /// Where a destination-port value is written, for fixes that rewrite it.
    fn note_dport(
        &mut self,
        ext: Ext,
        canonical: &str,
        value: (&Cow<'a, str>, Span),
        invert: bool,
    ) {
        let syntax = match (ext, canonical) {
            (Ext::Tcp | Ext::Udp, "destination-port" | "dport") => PortSyntax::Iptables,
            (Ext::Multiport, "destination-ports" | "dports") => PortSyntax::Multiport,
            (Ext::Multiport, "ports") => {
                self.dport_matches = self.dport_matches.saturating_add(1);
                return;
            }
            _ => return,
        };
        self.dport_matches = self.dport_matches.saturating_add(1);
        self.dport_text = (!invert).then(|| (syntax, value.1, value.0.clone()));
    }

    /// A tcp/udp `--sport`/`--dport` value, given at most once per match.
    fn port_once(
        &mut self,
        idx: usize,
        bit: u32,
        long: &str,
        value: &str,
        services: &str,
        vspan: Span,
    ) -> PResult<PortSet> {
        if self.loaded[idx].seen & bit != 0 {
            return Err(err(format!("Only one `--{long}' allowed"), vspan));
        }
        self.loaded[idx].seen |= bit;
        parse_port_range(value, services, vspan)
    }

    /// A destination-port condition: the server port inbound, the client port on the reply.
    fn dport(&mut self, set: &PortSet) {
        narrow(&mut self.key_in, set);
        let client = ephemeral_applies(set);
        self.per_packet(|p| if p.inbound() { Applies::ToAll } else { client });
    }

    /// A source-port condition: the client port inbound, the server port on the reply.
    fn sport(&mut self, set: &PortSet) {
        narrow(&mut self.key_out, set);
        let a = ephemeral_applies(set);
        self.condition_split(a, Applies::ToAll);
    }

    fn multiport_option(
        &mut self,
        idx: usize,
        canonical: &str,
        value: &str,
        vspan: Span,
        invert: bool,
    ) -> PResult<()> {
        self.check_multiport_proto(vspan)?;
        let which = match canonical {
            "source-ports" | "sports" => 1,
            "destination-ports" | "dports" => 2,
            _ => 4,
        };
        let long = |w: u32| match w {
            1 => "--source-ports",
            2 => "--destination-ports",
            _ => "--ports",
        };
        let seen = self.loaded[idx].seen;
        if seen & which != 0 {
            return Err(err(
                format!(
                    "multiport: option \"{}\" can only be used once.",
                    long(which)
                ),
                vspan,
            ));
        }
        if let Some(other) = [1, 2, 4].into_iter().find(|w| seen & w != 0) {
            return Err(err(
                format!(
                    "multiport: option \"{}\" cannot be used together with \"{}\".",
                    long(which),
                    long(other)
                ),
                vspan,
            ));
        }
        self.loaded[idx].seen |= which;
        self.multiport_seen = true;
        let services = if self.proto_num() == Some(17) {
            "udp"
        } else {
            "tcp"
        };
        let (set, slots) = parse_multiport(value, services, vspan)?;
        self.multiport_slots = slots;
        let set = if invert { set.complement() } else { set };
        match which {
            1 => self.sport(&set),
            2 => self.dport(&set),
            _ => {
                // Either port may match: the client's ephemeral port too.
                narrow(&mut self.key_in, &set);
                narrow(&mut self.key_out, &set);
                if ephemeral_applies(&set) != Applies::Never {
                    self.unknowns.push((
                        vspan,
                        "multiport `--ports` also matches client source ports".into(),
                    ));
                }
            }
        }
        Ok(())
    }

    fn check_multiport_proto(&self, span: Span) -> PResult<()> {
        let Some((num, inverted, _, _)) = &self.proto else {
            return Err(err(
                "multiport needs `-p tcp', `-p udp', `-p udplite', `-p sctp' or `-p dccp'",
                span,
            ));
        };
        let ok = matches!(num, Some(6 | 17)) || {
            let name = &self.proto.as_ref().map(|p| p.3.as_str()).unwrap_or("");
            matches!(*name, "udplite" | "sctp" | "dccp" | "136" | "132" | "33")
        };
        if *inverted || !ok {
            if *num == Some(0) {
                return Err(err(
                    "multiport needs `-p tcp', `-p udp', `-p udplite', `-p sctp' or `-p dccp'",
                    span,
                ));
            }
            return Err(err(
                "multiport only works with TCP, UDP, UDPLITE, SCTP and DCCP",
                span,
            ));
        }
        Ok(())
    }

    fn conntrack_option(
        &mut self,
        idx: usize,
        canonical: &str,
        value: &str,
        vspan: Span,
        invert: bool,
    ) -> PResult<()> {
        let bit = match canonical {
            "ctstate" => 1,
            "ctproto" => 2,
            "ctstatus" => 4,
            _ => 8,
        };
        if bit != 8 {
            self.seen_once(idx, bit, canonical)?;
        } else {
            self.loaded[idx].seen |= 16;
        }
        match canonical {
            "ctstate" => {
                let sm = parse_states(value, true, vspan)?;
                self.state_match(sm, invert);
            }
            "ctproto" => {
                let lower = value.to_ascii_lowercase();
                let tcp = lower == "tcp" || c_strtoul(&lower) == Some(6);
                let a = if tcp { Applies::ToAll } else { Applies::Never };
                self.condition(if invert { a.negated() } else { a });
            }
            _ => {
                self.condition(Applies::ToSome);
                self.unknowns.push((
                    vspan,
                    format!("conntrack option `--{canonical}` is not modelled"),
                ));
            }
        }
        Ok(())
    }

    fn state_match(&mut self, sm: States, invert: bool) {
        let pick = |yes: bool| if yes { Applies::ToAll } else { Applies::Never };
        let dnat = if sm.dnat {
            Applies::ToSome
        } else {
            Applies::Never
        };
        let or = |a: Applies, b: Applies| -> Applies {
            match (a, b) {
                (Applies::ToAll, _) | (_, Applies::ToAll) => Applies::ToAll,
                (Applies::Never, x) | (x, Applies::Never) => x,
                _ => Applies::ToSome,
            }
        };
        // A new SYN is in state DNAT exactly when nat rewrote its destination: the
        // evaluator asks both ways (`new_parts`, applied in `finish`).
        let mut parts = (pick(sm.new), pick(sm.new || sm.dnat));
        if invert {
            parts = (parts.0.negated(), parts.1.negated());
        }
        let (p, d) = self.new_parts.unwrap_or((Applies::ToAll, Applies::ToAll));
        self.new_parts = Some((p.and(parts.0), d.and(parts.1)));
        self.per_packet(|p| {
            let a = match p {
                // Decided in `apply_new_parts`.
                Packet::New => return Applies::ToAll,
                Packet::Related | Packet::ActiveSynHelped => or(pick(sm.related), dnat),
                Packet::Untracked => pick(sm.untracked),
                Packet::ActiveSyn => pick(sm.new),
                Packet::Reply
                | Packet::ActiveSynAck
                | Packet::ActiveSynAckHelped
                | Packet::Established => pick(sm.established),
            };
            if invert { a.negated() } else { a }
        });
        let untracked = pick(sm.untracked);
        let nd = if invert {
            untracked.negated()
        } else {
            untracked
        };
        self.nd_condition(nd, nd);
        let m = StateMatch {
            new: sm.new != invert,
            related: sm.related != invert,
            established: sm.established != invert,
            untracked: sm.untracked != invert,
            dnat_new: None,
        };
        self.state = Some(match self.state {
            None => m,
            Some(s) => StateMatch {
                new: s.new && m.new,
                related: s.related && m.related,
                established: s.established && m.established,
                untracked: s.untracked && m.untracked,
                dnat_new: None,
            },
        });
    }

    /// The state condition for a new SYN, both ways; the other matches are all known now.
    fn apply_new_parts(&mut self) {
        let Some((plain, rewritten)) = self.new_parts else {
            return;
        };
        let other = self.applies[Packet::New as usize];
        self.applies[Packet::New as usize] = other.and(plain);
        if let Some(s) = self.state.as_mut().filter(|_| plain != rewritten) {
            s.dnat_new = Some(other.and(rewritten));
        }
    }

    /// The checks iptables does after every option is read, and the rule's compiled form.
    fn finish(mut self, sets: &mut Sets, interner: &mut Interner) -> PResult<Command<'a>> {
        self.final_checks()?;
        let Some((cmd, _)) = self.cmd else {
            return Err(err("no command specified", self.line));
        };
        let chain_name = self.chain.as_ref().map(|w| w.text.to_string());
        if let Some(name) = &chain_name {
            if name.len() >= 29 {
                return Err(err(
                    format!("chain name `{name}' too long (must be under 29 chars)"),
                    self.chain.as_ref().map_or(self.line, |w| w.span),
                ));
            }
        }
        if matches!(
            cmd,
            Cmd::Append | Cmd::Delete | Cmd::Check | Cmd::Insert(_) | Cmd::Replace(_)
        ) {
            if let Some(name) = &chain_name {
                if (name == "PREROUTING" || name == "INPUT") && self.options & OPT_OUT != 0 {
                    return Err(err(format!("Can't use -o with {name}"), self.line));
                }
                if (name == "POSTROUTING" || name == "OUTPUT") && self.options & OPT_IN != 0 {
                    return Err(err(format!("Can't use -i with {name}"), self.line));
                }
            }
        } else if self.options & !(OPT_VERBOSE | OPT_NUMERIC | OPT_EXACT | OPT_LINENUM) != 0
            && !(cmd == Cmd::Policy && self.options & !OPT_COUNTERS == 0)
        {
            let name = option_name(
                self.options
                    & !(OPT_VERBOSE | OPT_NUMERIC | OPT_EXACT | OPT_LINENUM | OPT_COUNTERS),
            );
            if let Some(name) = name {
                return Err(err(
                    format!("Illegal option `{name}' with this command"),
                    self.line,
                ));
            }
        }
        self.apply_new_parts();
        let proto = self.proto_class();
        let tcp_possible = matches!(proto, Proto::Any | Proto::Tcp | Proto::AllBut);
        let needs = self.needs(cmd)?;
        let target = self.compiled_target();
        let (key_in, key_out) = if tcp_possible || proto == Proto::Udp {
            (
                self.key_in
                    .take()
                    .map_or(PortRef::ALL, |k| interner.intern(&mut sets.ports, k)),
                self.key_out
                    .take()
                    .map_or(PortRef::ALL, |k| interner.intern(&mut sets.ports, k)),
            )
        } else {
            (PortRef::Empty, PortRef::Empty)
        };
        let leaving = matches!(
            chain_name.as_deref(),
            Some("OUTPUT" | "POSTROUTING" | "FORWARD")
        );
        let rule = Rule {
            span: self.line,
            key_in,
            key_out,
            client_in: interner.intern_addr(&mut sets.addrs, self.client_in.take()),
            client_out: interner.intern_addr(&mut sets.addrs, self.client_out.take()),
            applies: self.applies,
            iface_in: intern_iface(&mut sets.ifaces, self.iface_in.take()),
            iface_out: intern_iface(&mut sets.ifaces, self.iface_out.take()),
            proto,
            plain: self.plain
                && self.options & (OPT_SOURCE | OPT_DEST | OPT_IN | OPT_OUT | OPT_FRAG) == 0,
            state: self.state,
            mark: self.mark,
            target,
            spec: self.spec.finish() as u32,
            nd: self.nd_match(),
        };
        Ok(Command {
            cmd,
            table: self.table,
            chain: self.chain,
            extra: self.extra,
            jump: self.jump,
            rule,
            needs,
            unknowns: self.unknowns,
            // Only an accept's condition can leave a port open to nobody, and
            // only an arriving packet's destination is this host.
            assumed: if rule.target == Target::Accept && tcp_possible && !leaving {
                self.assumed
            } else {
                Vec::new()
            },
            port_text: self.dport_text.filter(|_| self.dport_matches == 1),
        })
    }

    fn final_checks(&mut self) -> PResult<()> {
        if self.table == TableKind::Nat {
            let drop_policy = self.cmd.map(|c| c.0) == Some(Cmd::Policy)
                && self.extra.as_ref().is_some_and(|w| w.text == "DROP");
            let drop_target = matches!(self.target, Some((Target::Drop, _)));
            if drop_policy || drop_target {
                return Err(err(
                    "The \"nat\" table is not intended for filtering, the use of DROP is therefore inhibited.",
                    self.target.map_or(self.line, |t| t.1),
                ));
            }
        }
        for l in self.loaded.iter() {
            let name = l.name;
            let missing = match l.ext {
                Ext::Comment if l.seen == 0 => {
                    Some("comment: option \"--comment\" must be specified".to_string())
                }
                Ext::State if l.seen == 0 => {
                    Some("state: option \"--state\" must be specified".to_string())
                }
                Ext::Conntrack if l.seen == 0 => {
                    Some("conntrack: At least one option is required".to_string())
                }
                Ext::Mark | Ext::Connmark if l.seen == 0 => {
                    Some(format!("{name}: option \"--mark\" must be specified"))
                }
                Ext::Helper if l.seen == 0 => {
                    Some("helper: option \"--helper\" must be specified".to_string())
                }
                Ext::Multiport if l.seen == 0 => Some("multiport expection an option".to_string()),
                Ext::Iprange if l.seen == 0 => Some(
                    "iprange match: You must specify `--src-range' or `--dst-range'".to_string(),
                ),
                Ext::Recent if l.seen == 0 => Some(
                    "recent: you must specify one of `--set', `--rcheck' `--update' or `--remove'"
                        .to_string(),
                ),
                Ext::Connlimit if l.seen == 0 => Some(
                    "You must specify \"--connlimit-above\" or \"--connlimit-upto\".".to_string(),
                ),
                Ext::Hashlimit if l.seen == 0 => {
                    Some("hashlimit: option \"--hashlimit-name\" must be specified".to_string())
                }
                Ext::Statistic if l.seen & 4 == 0 && l.seen & 2 == 0 => {
                    Some("--probability must be specified when using random mode".to_string())
                }
                Ext::Set if l.seen == 0 => {
                    Some("You must specify `--match-set' with proper arguments".to_string())
                }
                Ext::TMark if l.seen == 0 => Some(
                    "MARK: One of the --set-xmark, --{and,or,xor,set}-mark options is required"
                        .to_string(),
                ),
                Ext::TRedirect
                    if !matches!(self.proto_num(), Some(6 | 17)) && self.redirect.is_some() =>
                {
                    Some("Need TCP, UDP, SCTP or DCCP with port specification".to_string())
                }
                Ext::Tcp if self.proto_num() != Some(6) || self.proto_inverted() => {
                    Some("TCP match requires '-p tcp'".to_string())
                }
                Ext::Udp if self.proto_num() != Some(17) || self.proto_inverted() => {
                    Some("UDP match requires '-p udp'".to_string())
                }
                _ => None,
            };
            if let Some(m) = missing {
                return Err(err(m, l.span));
            }
        }
        Ok(())
    }

    fn proto_inverted(&self) -> bool {
        self.proto.as_ref().is_some_and(|p| p.1)
    }

    fn compiled_target(&self) -> Target {
        let Some((t, _)) = self.target else {
            return Target::Continue;
        };
        let Some(idx) = self.target_ext else {
            return t;
        };
        match self.loaded[idx].ext {
            Ext::TCt if self.ct_notrack => Target::NoTrack,
            Ext::TCt => match self.ct_helper {
                Some(ftp) => Target::CtHelper { ftp },
                None => Target::Continue,
            },
            Ext::TMark => match self.set_mark {
                Some(v) => Target::SetMark(v),
                None => Target::Continue,
            },
            Ext::TRedirect => Target::Redirect(self.redirect),
            Ext::TDnat => match self.dnat {
                Some((addr, ports)) => Target::Dnat {
                    addr: addr.map_or(DnatAddr::Kept, DnatAddr::V4),
                    ports,
                },
                None => Target::Opaque,
            },
            _ => t,
        }
    }

    /// Kernel-side validity of the target for a table and hook, checked on add.
    fn needs(&self, cmd: Cmd) -> PResult<Needs> {
        if !matches!(cmd, Cmd::Append | Cmd::Insert(_) | Cmd::Replace(_)) {
            return Ok(Needs::default());
        }
        const NAT: &[TableKind] = &[TableKind::Nat];
        const RAW: &[TableKind] = &[TableKind::Raw];
        let name = self
            .target_ext
            .map(|i| self.loaded[i].name)
            .unwrap_or_default();
        let mut needs = match name {
            "DNAT" | "REDIRECT" => Needs {
                tables: Some(NAT),
                hooks: Some(&["PREROUTING", "OUTPUT"]),
            },
            "SNAT" => Needs {
                tables: Some(NAT),
                hooks: Some(&["POSTROUTING", "INPUT"]),
            },
            "MASQUERADE" => Needs {
                tables: Some(NAT),
                hooks: Some(&["POSTROUTING"]),
            },
            "CT" | "NOTRACK" => Needs {
                tables: Some(RAW),
                hooks: None,
            },
            "REJECT" => Needs {
                tables: None,
                hooks: Some(&["INPUT", "FORWARD", "OUTPUT"]),
            },
            _ => Needs::default(),
        };
        if self.loaded.iter().any(|l| l.name == "owner") {
            needs.hooks = Some(&["OUTPUT", "POSTROUTING"]);
        }
        if name == "REJECT" && self.reject_tcp_reset && self.proto_num() != Some(6) {
            needs.tables = Some(&[]);
        }
        let icmp6_match = self.loaded.iter().any(|l| l.ext == Ext::Icmp6);
        if icmp6_match && self.proto_num() != Some(58) {
            needs.tables = Some(&[]);
        }
        if self
            .loaded
            .iter()
            .any(|l| l.name == "QUEUE" || l.name == "ULOG")
        {
            needs.tables = Some(&[]);
        }
        Ok(needs)
    }
}

/// Intersect a port condition with another (matches are ANDed).
fn narrow(key: &mut Option<PortSet>, set: &PortSet) {
    *key = Some(match key.take() {
        None => set.clone(),
        Some(k) => k.intersection(set),
    });
}

enum Resolved {
    Main(char, HasArg),
    Ext(usize, &'static str, HasArg),
    Opaque,
    Unknown,
}

fn static_name(ext: Ext) -> &'static str {
    match ext {
        Ext::Tcp => "tcp",
        Ext::Udp => "udp",
        Ext::Icmp => "icmp",
        Ext::Icmp6 => "icmp6",
        _ => "match",
    }
}

fn cmd_letter(cmd: Cmd) -> char {
    match cmd {
        Cmd::Append => 'A',
        Cmd::Check => 'C',
        Cmd::Delete | Cmd::DeleteNum(_) => 'D',
        Cmd::Insert(_) => 'I',
        Cmd::Replace(_) => 'R',
        Cmd::List => 'L',
        Cmd::Flush => 'F',
        Cmd::Zero => 'Z',
        Cmd::NewChain => 'N',
        Cmd::DeleteChain => 'X',
        Cmd::Rename => 'E',
        Cmd::Policy => 'P',
    }
}

fn option_name(options: u32) -> Option<&'static str> {
    const NAMES: &[(u32, &str)] = &[
        (OPT_SOURCE, "--source"),
        (OPT_DEST, "--destination"),
        (OPT_PROTOCOL, "--protocol"),
        (OPT_JUMP, "--jump"),
        (OPT_IN, "--in-interface"),
        (OPT_OUT, "--out-interface"),
        (OPT_FRAG, "--fragments"),
        (OPT_COUNTERS, "--set-counters"),
    ];
    NAMES
        .iter()
        .find(|(bit, _)| options & bit != 0)
        .map(|(_, n)| *n)
}

fn recent_action(seen: u32) -> Option<&'static str> {
    [(1, "set"), (2, "rcheck"), (4, "update"), (8, "remove")]
        .into_iter()
        .find(|(bit, _)| seen & bit != 0)
        .map(|(_, n)| n)
}

/// The chain-name checks of `-N`, `-E` and `:CHAIN` lines.
pub fn assert_valid_chain_name(name: &str, span: Span) -> PResult<()> {
    if name.len() >= 29 {
        return Err(err(
            format!("chain name `{name}' too long (must be under 29 chars)"),
            span,
        ));
    }
    if let Some(c) = name.chars().next().filter(|c| *c == '-' || *c == '!') {
        return Err(err(
            format!("chain name not allowed to start with `{c}'"),
            span,
        ));
    }
    if names::is_target(name) || matches!(name, "ACCEPT" | "DROP" | "QUEUE" | "RETURN") {
        return Err(err("chain name may not clash with target name", span));
    }
    if name.chars().any(|c| c.is_ascii_whitespace()) {
        return Err(err(format!("Invalid chain name `{name}'"), span));
    }
    Ok(())
}

/// C `strtoul(s, &end, 0)` that must consume the whole string (xtables_strtoui):
/// leading white space, a sign, `0x` hex and leading-`0` octal all as C reads them.
pub fn c_strtoul(s: &str) -> Option<u64> {
    // Fast path: plain decimal without a leading zero, the common case by far.
    let b = s.as_bytes();
    if !b.is_empty() && b.len() <= 9 && b[0] != b'0' && b.iter().all(u8::is_ascii_digit) {
        return Some(b.iter().fold(0u64, |v, d| v * 10 + u64::from(d - b'0')));
    }
    let t = s.trim_start_matches([' ', '\t', '\n', '\x0b', '\x0c', '\r']);
    let (neg, t) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let (radix, digits) = if let Some(h) = t.strip_prefix("0x").or(t.strip_prefix("0X")) {
        if h.bytes().next().is_some_and(|b| b.is_ascii_hexdigit()) {
            (16, h)
        } else {
            // "0x" without hex digits: strtoul stops after the 0.
            return None;
        }
    } else if t.len() > 1 && t.starts_with('0') {
        (8, &t[1..])
    } else {
        (10, t)
    };
    if digits.is_empty() {
        return None;
    }
    let v = u64::from_str_radix(digits, radix).ok()?;
    if v > u64::from(u32::MAX) && !neg {
        // strtoul on 64-bit accepts it, the caller's bound rejects it.
        return Some(v);
    }
    if neg {
        return (v == 0).then_some(0).or(Some(u64::MAX));
    }
    Some(v)
}

/// `xtables_parse_port`: a number (C notation) up to 65535 or a service name.
pub fn parse_port(s: &str, proto: &str, span: Span) -> PResult<u16> {
    if let Some(n) = c_strtoul(s).filter(|n| *n <= 65535) {
        return Ok(n as u16);
    }
    let named = if proto == "udp" {
        names::udp_service(s)
    } else {
        names::tcp_service(s)
    };
    named.ok_or_else(|| err(format!("invalid port/service `{s}' specified"), span))
}

/// `--dport a`, `a:b`, `:b`, `a:` (0 and 65535 fill in), as the tcp and udp matches read it.
pub fn parse_port_range(s: &str, proto: &str, span: Span) -> PResult<PortSet> {
    match s.split_once(':') {
        None => Ok(PortSet::single(parse_port(s, proto, span)?)),
        Some((a, b)) => {
            let lo = if a.is_empty() {
                0
            } else {
                parse_port(a, proto, span)?
            };
            let hi = if b.is_empty() {
                65535
            } else {
                parse_port(b, proto, span)?
            };
            if lo > hi {
                return Err(err("invalid portrange (min > max)", span));
            }
            Ok(PortSet::range(lo, hi))
        }
    }
}

/// A multiport list: the ports, and the slots it uses (a range counts two), counted
/// over the whole list even past the 15 the kernel allows.
pub fn parse_multiport(s: &str, proto: &str, span: Span) -> PResult<(PortSet, u32)> {
    let total: u32 = s
        .split(',')
        .map(|e| if e.contains(':') { 2 } else { 1 })
        .sum();
    let too_many = || ParseError {
        message: "too many ports specified".into(),
        span,
        kind: ProblemKind::TooManyPorts {
            slots: total,
            ports: lenient_list(s, proto),
        },
    };
    let mut ranges = Vec::new();
    let mut slot = 0u32;
    let mut rest = Some(s);
    while let Some(cur) = rest {
        if slot >= 15 {
            return Err(too_many());
        }
        let (elem, next) = match cur.split_once(',') {
            Some((e, n)) => (e, Some(n)),
            None => (cur, None),
        };
        rest = next;
        match elem.split_once(':') {
            Some((a, b)) => {
                if slot == 14 {
                    return Err(too_many());
                }
                let lo = parse_port(a, proto, span)?;
                let hi = parse_port(b, proto, span)?;
                if lo >= hi {
                    return Err(err("invalid portrange specified", span));
                }
                ranges.push((lo, hi));
                slot += 2;
            }
            None => {
                let p = parse_port(elem, proto, span)?;
                ranges.push((p, p));
                slot += 1;
            }
        }
    }
    Ok((PortSet::from_ranges(ranges), total))
}

/// The ports a multiport list names, skipping elements that do not parse.
fn lenient_list(s: &str, proto: &str) -> PortSet {
    let any = Span::new(FileId(0), 0, 0);
    PortSet::from_ranges(s.split(',').filter_map(|e| {
        let (a, b) = e.split_once(':').unwrap_or((e, e));
        Some((
            parse_port(a, proto, any).ok()?,
            parse_port(b, proto, any).ok()?,
        ))
    }))
}

/// How a port set relates to the client's ephemeral source ports.
fn ephemeral_applies(set: &PortSet) -> Applies {
    let (lo, hi) = EPHEMERAL;
    let ranges = set.ranges();
    if ranges.iter().any(|&(a, b)| a <= lo && hi <= b) {
        Applies::ToAll
    } else if ranges.iter().any(|&(a, b)| a <= hi && lo <= b) {
        Applies::ToSome
    } else {
        Applies::Never
    }
}

fn intern_iface(names: &mut Vec<String>, slot: Option<(String, bool)>) -> IfaceMatch {
    match slot {
        Some((name, invert)) => crate::filter::ifaces::intern(names, &name, invert),
        None => IfaceMatch::Any,
    }
}

/// How `-i NAME` holds for the clients when the name alone decides it.
fn iface_applies(name: &str) -> Option<Applies> {
    match name {
        "+" => Some(Applies::ToAll),
        "lo" | "lo+" => Some(Applies::Never),
        _ => None,
    }
}

/// `-s`/`-d`: the addresses a list names; `None` when it names a host by name
/// (resolved by DNS when the rule is loaded).
fn parse_addresses(s: &str, family: Family, invert: bool, span: Span) -> PResult<Option<AddrSet>> {
    if s.contains(',') && invert {
        return Err(err(
            "! not allowed with multiple source or destination IP addresses",
            span,
        ));
    }
    if !s.contains(',') {
        return one_address(s, family, span);
    }
    let mut set = Some(AddrSet::empty(family));
    for part in s.split(',') {
        let block = one_address(part, family, span)?;
        set = match (set, block) {
            (Some(acc), Some(block)) => Some(acc.union(&block)),
            _ => None,
        };
    }
    Ok(set)
}

/// One address or block of a list, as a set; `None` for a host name.
fn one_address(s: &str, family: Family, span: Span) -> PResult<Option<AddrSet>> {
    if let Some(loopback) = loopback_name(s, family) {
        return Ok(Some(loopback));
    }
    Ok(match family {
        Family::V4 => parse_one_address(s, span)?
            .map(|(addr, len)| AddrSet::prefix(Family::V4, u128::from(addr), len)),
        Family::V6 => parse_one_ipv6_address(s, span)?,
    })
}

/// The loopback address of a name every distribution's `/etc/hosts` gives it
/// (Debian: `127.0.0.1 localhost`, `::1 localhost ip6-localhost ip6-loopback`;
/// Fedora adds `localhost4`, `localhost6` and the `.localdomain` forms): iptables
/// resolves a name when the rule is loaded, and these resolve the same on every host.
fn loopback_name(s: &str, family: Family) -> Option<AddrSet> {
    let (name, prefix) = match s.split_once('/') {
        Some((name, mask)) => (name, mask.parse::<u8>().ok()?),
        None => (s, if family == Family::V4 { 32 } else { 128 }),
    };
    let name = name.to_ascii_lowercase();
    let v4 = matches!(
        name.as_str(),
        "localhost" | "localhost.localdomain" | "localhost4" | "localhost4.localdomain4"
    );
    let v6 = matches!(
        name.as_str(),
        "localhost"
            | "localhost.localdomain"
            | "localhost6"
            | "localhost6.localdomain6"
            | "ip6-localhost"
            | "ip6-loopback"
    );
    match family {
        Family::V4 if v4 && prefix <= 32 => Some(AddrSet::prefix(family, 0x7f00_0001, prefix)),
        Family::V6 if v6 && prefix <= 128 => Some(AddrSet::prefix(family, 1, prefix)),
        _ => None,
    }
}

/// A plain `a.b.c.d[/n]` (decimal, no leading zeros) as address and prefix length,
/// read byte by byte: the shape of nearly every address in a large dump.
fn plain_ipv4(s: &str) -> Option<(u32, u8)> {
    let b = s.as_bytes();
    let mut octets = [0u32; 4];
    let (mut part, mut digits, mut i) = (0, 0, 0);
    while i < b.len() && b[i] != b'/' {
        match b[i] {
            b'0'..=b'9' if !(digits == 1 && octets[part] == 0) => {
                octets[part] = octets[part] * 10 + u32::from(b[i] - b'0');
                digits += 1;
            }
            b'.' if digits > 0 && part < 3 => {
                part += 1;
                digits = 0;
            }
            _ => return None,
        }
        if digits > 3 {
            return None;
        }
        i += 1;
    }
    if part != 3 || digits == 0 || octets.iter().any(|o| *o > 255) {
        return None;
    }
    let prefix = match &b[i..] {
        [] => 32,
        [b'/', rest @ ..]
            if (1..=2).contains(&rest.len()) && rest.iter().all(u8::is_ascii_digit) =>
        {
            let n = rest.iter().fold(0u8, |v, d| v * 10 + (d - b'0'));
            if n > 32 || (rest.len() == 2 && rest[0] == b'0') {
                return None;
            }
            n
        }
        _ => return None,
    };
    let addr = octets.iter().fold(0u32, |acc, o| (acc << 8) | o);
    Some((addr, prefix))
}

/// One address of an IPv4 list as address and prefix length; `None` for a host
/// name or a mask that is not a prefix (neither is an interval of addresses).
fn parse_one_address(s: &str, span: Span) -> PResult<Option<(u32, u8)>> {
    if let Some(block) = plain_ipv4(s) {
        return Ok(Some(block));
    }
    let (addr, mask) = match s.split_once('/') {
        Some((a, m)) => (a, Some(m)),
        None => (s, None),
    };
    let prefix = match mask {
        None => Some(32),
        Some(m) if m.contains('.') => match numeric_ipv4(m, true) {
            Some(v) => {
                let bits = u32::from_be_bytes(v);
                (bits.leading_ones() + bits.trailing_zeros() == 32)
                    .then_some(bits.leading_ones() as u8)
            }
            None => return Err(err(format!("invalid mask `{m}' specified"), span)),
        },
        Some(m) => match c_strtoul(m).filter(|n| *n <= 32) {
            Some(n) => Some(n as u8),
            None => return Err(err(format!("invalid mask `{m}' specified"), span)),
        },
    };
    let Some(octets) = numeric_ipv4(addr, false) else {
        if addr.bytes().all(|b| b.is_ascii_digit() || b == b'.') || addr.contains(':') {
            return Err(err(format!("host/network `{addr}' not found"), span));
        }
        return Ok(None);
    };
    Ok(prefix.map(|len| (u32::from_be_bytes(octets), len)))
}

/// An ip6tables `-s`/`-d` element: `addr[/prefix]`, where the prefix is 0-128 or an
/// IPv6 mask; a dotted IPv4 address or a malformed IPv6 one is not found.
fn parse_one_ipv6_address(s: &str, span: Span) -> PResult<Option<AddrSet>> {
    let (addr, mask) = match s.split_once('/') {
        Some((a, m)) => (a, Some(m)),
        None => (s, None),
    };
    let prefix = match mask {
        None => 128,
        Some(m) if m.contains(':') => match m.parse::<std::net::Ipv6Addr>() {
            Ok(v) => u128::from(v).leading_ones() as u8,
            Err(_) => return Err(err(format!("invalid mask `{m}' specified"), span)),
        },
        Some(m) => match c_strtoul(m).filter(|n| *n <= 128) {
            Some(n) => n as u8,
            None => return Err(err(format!("invalid mask `{m}' specified"), span)),
        },
    };
    let Ok(ip) = addr.parse::<std::net::Ipv6Addr>() else {
        let numeric = addr.bytes().all(|b| b.is_ascii_digit() || b == b'.');
        if numeric || addr.contains([':', '%']) {
            return Err(err(format!("host/network `{addr}' not found"), span));
        }
        // A host name: resolved by DNS at load time.
        return Ok(None);
    };
    Ok(Some(AddrSet::prefix(Family::V6, u128::from(ip), prefix)))
}

/// iptables' own dotted-quad reader: 1 to 4 parts (a network is completed with zeros),
/// each part in C notation up to 255.
fn numeric_ipv4(s: &str, is_mask: bool) -> Option<[u8; 4]> {
    let mut out = [0u8; 4];
    let mut n = 0;
    for p in s.split('.') {
        *out.get_mut(n)? = c_strtoul(p).filter(|v| *v <= 255)? as u8;
        n += 1;
    }
    (!is_mask || n == 4).then_some(out)
}

/// The states a `--state`/`--ctstate` list names.
#[derive(Clone, Copy, Default)]
struct States {
    new: bool,
    related: bool,
    established: bool,
    untracked: bool,
    dnat: bool,
}

fn parse_states(s: &str, ct: bool, span: Span) -> PResult<States> {
    let mut st = States::default();
    for part in s.split(',') {
        if part.is_empty() {
            return Err(err(
                if ct {
                    "Bad ctstate \"\"".to_string()
                } else {
                    "\"--state\" requires a list of states with no spaces, e.g. ESTABLISHED,RELATED"
                        .to_string()
                },
                span,
            ));
        }
        let is =
            |full: &str| part.len() <= full.len() && full[..part.len()].eq_ignore_ascii_case(part);
        let exact = |full: &str| part.eq_ignore_ascii_case(full);
        let matched = if ct {
            if exact("INVALID") {
                true
            } else if exact("NEW") {
                st.new = true;
                true
            } else if exact("ESTABLISHED") {
                st.established = true;
                true
            } else if exact("RELATED") {
                st.related = true;
                true
            } else if exact("UNTRACKED") {
                st.untracked = true;
                true
            } else if exact("SNAT") {
                true
            } else if exact("DNAT") {
                st.dnat = true;
                true
            } else {
                false
            }
        } else if is("INVALID") {
            true
        } else if is("ESTABLISHED") {
            st.established = true;
            true
        } else if is("NEW") {
            st.new = true;
            true
        } else if is("RELATED") {
            st.related = true;
            true
        } else if is("UNTRACKED") {
            st.untracked = true;
            true
        } else {
            false
        };
        if !matched {
            let what = if ct { "ctstate" } else { "state" };
            return Err(err(format!("Bad {what} \"{part}\""), span));
        }
    }
    Ok(st)
}

fn parse_tcp_flags(s: &str, span: Span) -> PResult<u8> {
    let mut flags = 0u8;
    for f in s.split(',') {
        flags |= match f.to_ascii_uppercase().as_str() {
            "FIN" => 0x01,
            "SYN" => 0x02,
            "RST" => 0x04,
            "PSH" => 0x08,
            "ACK" => 0x10,
            "URG" => 0x20,
            "ALL" => 0x3f,
            "NONE" => 0,
            _ => return Err(err(format!("Unknown TCP flag `{f}'"), span)),
        };
    }
    Ok(flags)
}

/// `V` or `V/M`, C notation, 32 bits.
fn parse_mark(s: &str) -> Option<(u32, Option<u32>)> {
    let (v, m) = match s.split_once('/') {
        Some((v, m)) => (v, Some(m)),
        None => (s, None),
    };
    let v = c_strtoul(v).filter(|n| *n <= u64::from(u32::MAX))? as u32;
    let m = match m {
        Some(m) => Some(c_strtoul(m).filter(|n| *n <= u64::from(u32::MAX))? as u32),
        None => None,
    };
    Some((v, m))
}

fn valid_rate(s: &str) -> bool {
    let (num, unit) = match s.split_once('/') {
        Some((n, u)) => (n, Some(u)),
        None => (s, None),
    };
    if let Some(u) = unit {
        let ok = ["second", "minute", "hour", "day"].iter().any(|full| {
            !u.is_empty() && u.len() <= full.len() && full[..u.len()].eq_ignore_ascii_case(u)
        });
        if !ok {
            return false;
        }
    }
    // atoi: leading digits; zero is rejected.
    let digits: String = num
        .trim_start()
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    digits.parse::<u64>().is_ok_and(|n| n > 0)
}

fn valid_log_level(s: &str) -> bool {
    const LEVELS: &[&str] = &[
        "alert", "crit", "debug", "emerg", "error", "info", "notice", "panic", "warning",
    ];
    c_strtoul(s).is_some_and(|n| n <= 7) || LEVELS.contains(&s)
}

fn valid_mac(s: &str) -> bool {
    let parts: Vec<&str> = s.split(':').collect();
    parts.len() == 6
        && parts
            .iter()
            .all(|p| (1..=2).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn addrtype_applies(option: &str, value: &str, span: Span) -> PResult<[Applies; 2]> {
    const TYPES: &[&str] = &[
        "UNSPEC",
        "UNICAST",
        "LOCAL",
        "BROADCAST",
        "ANYCAST",
        "MULTICAST",
        "BLACKHOLE",
        "UNREACHABLE",
        "PROHIBIT",
        "THROW",
        "NAT",
        "XRESOLVE",
    ];
    let mut local = false;
    let mut unicast = false;
    for t in value.split(',') {
        let up = t.to_ascii_uppercase();
        if !TYPES.contains(&up.as_str()) {
            return Err(err(format!("addrtype: bad type \"{t}\""), span));
        }
        local |= up == "LOCAL";
        unicast |= up == "UNICAST";
    }
    let pick = |yes: bool| if yes { Applies::ToAll } else { Applies::Never };
    // [inbound, reply]: inbound the destination is local, the source a remote unicast host.
    Ok(match option {
        "dst-type" => [pick(local), pick(unicast)],
        "src-type" => [pick(unicast), pick(local)],
        _ => [Applies::ToAll, Applies::ToAll],
    })
}

fn parse_dnat(s: &str) -> Option<DnatTo> {
    let (addr, ports) = match s.split_once(':') {
        Some((a, p)) => (a, Some(p)),
        None => (s, None),
    };
    let addr = if addr.is_empty() {
        None
    } else {
        let first = addr.split('-').next().unwrap_or(addr);
        Some(numeric_ipv4(first, false).filter(|_| first.split('.').count() == 4)?)
    };
    let ports = match ports {
        None => None,
        Some(p) => {
            let p = p.split('/').next().unwrap_or(p);
            match p.split_once('-') {
                Some((a, b)) => Some((a.parse().ok()?, b.parse().ok()?)),
                None => {
                    let v = p.parse().ok()?;
                    Some((v, v))
                }
            }
        }
    };
    Some((addr, ports))
}

fn parse_redirect(s: &str, span: Span) -> PResult<(u16, u16)> {
    if s.contains(':') {
        return Err(err("Invalid port:port syntax - use dash", span));
    }
    let bad = || err(format!("Port `{s}' not valid"), span);
    match s.split_once('-') {
        Some((a, b)) => {
            let lo: u16 = a.parse().map_err(|_| bad())?;
            let hi: u16 = b.parse().map_err(|_| bad())?;
            Ok((lo, hi))
        }
        None => {
            let v: u16 = s.parse().map_err(|_| bad())?;
            Ok((v, v))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::iptables::lex::split_restore_line;

    type Parsed = (Option<Command<'static>>, Vec<PortSet>);

    fn parse_family(line: &str, family: Family) -> PResult<Parsed> {
        let line: &'static str = Box::leak(line.to_owned().into_boxed_str());
        let mut args = Vec::new();
        split_restore_line(line, 0, &mut args);
        let ctx = Ctx {
            mode: Mode::Restore,
            family,
            table: TableKind::Filter,
            file: FileId(0),
        };
        let mut sets = Sets::default();
        let mut interner = Interner::default();
        let span = Span::new(FileId(0), 0, line.len());
        let cmd = parse(&args, &ctx, span, &mut sets, &mut interner)?;
        Ok((cmd, sets.ports))
    }

    fn parse_line(line: &str) -> PResult<(Command<'static>, Vec<PortSet>)> {
        let (cmd, sets) = parse_family(line, Family::V4)?;
        Ok((cmd.expect("an IPv4 line"), sets))
    }

    /// What ip6tables-restore says of a rule line: `ok`, `skipped`, or its message.
    fn verdict_v6(line: &str) -> String {
        match parse_family(line, Family::V6) {
            Ok((Some(_), _)) => "ok".into(),
            Ok((None, _)) => "skipped".into(),
            Err(e) => e.message,
        }
    }

    /// The same for iptables-restore, where a `-6` line is skipped.
    fn verdict_v4(line: &str) -> String {
        match parse_family(line, Family::V4) {
            Ok((Some(_), _)) => "ok".into(),
            Ok((None, _)) => "skipped".into(),
            Err(e) => e.message,
        }
    }

    /// Measured with ip6tables-restore and iptables-restore v1.8.9 (nft), one rule
    /// per load in a private network namespace.
    #[test]
    fn ipv6_rules_as_ip6tables_restore_reads_them() {
        for ok in [
            "-A INPUT -p icmp -j ACCEPT",
            "-A INPUT -p ipv6-icmp -j ACCEPT",
            "-A INPUT -p ICMPv6 -j ACCEPT",
            "-A INPUT -p icmpv6 --icmpv6-type echo-request -j ACCEPT",
            "-A INPUT -p ipv6-icmp --icmpv6-type 128 -j ACCEPT",
            "-A INPUT -p 58 --icmpv6-type 128/0 -j ACCEPT",
            "-A INPUT -p ipv6-icmp -m icmp6 --icmpv6-type router-advertisement -m hl --hl-eq 255 -j ACCEPT",
            "-A INPUT -s ::1/128 -j ACCEPT",
            "-A INPUT -s ::ffff:10.0.0.1 -j ACCEPT",
            "-A INPUT -s 2001:db8::/32 -p tcp -m tcp --dport 22 -j ACCEPT",
            "-A INPUT -s 2001:db8::1,2001:db8::2 -j ACCEPT",
            "-A INPUT -d fe80::/64 -p udp -m udp --dport 546 -j ACCEPT",
            "-A INPUT -m rt --rt-type 0 --rt-segsleft 0 -j DROP",
            "-A INPUT -m frag --fragid 5 --fraglast -j DROP",
            "-A INPUT -m hbh --hbh-len 8 -j ACCEPT",
            "-A INPUT -m dst --dst-len 0 -j DROP",
            "-A INPUT -m ipv6header --header frag --soft -j DROP",
            "-A INPUT -m eui64 -j ACCEPT",
            "-A INPUT -p ipv6-mh -m mh --mh-type 1 -j ACCEPT",
            "-A INPUT -j REJECT --reject-with icmp6-adm-prohibited",
            "-A INPUT -j REJECT --reject-with adm-prohibited",
            "-A INPUT -j REJECT --reject-with icmp6-port-unreachable",
            "-A INPUT -j REJECT --reject-with icmp6-no-route",
            "-A INPUT -j REJECT --reject-with addr-unreach",
            "-A INPUT -j REJECT --reject-with policy-fail",
            "-A INPUT -j REJECT --reject-with reject-route",
            "-A INPUT -p tcp -j REJECT --reject-with tcp-reset",
            "-A INPUT -j REJECT",
        ] {
            assert_eq!(verdict_v6(ok), "ok", "{ok}");
        }
        for (line, said) in [
            (
                "-A INPUT -p icmp --icmp-type 8 -j ACCEPT",
                "unknown option \"--icmp-type\"",
            ),
            (
                "-A INPUT -m icmp --icmp-type 8 -j ACCEPT",
                "Couldn't load match `icmp':No such file or directory",
            ),
            (
                "-A INPUT -j REJECT --reject-with icmp-port-unreachable",
                "unknown reject type \"icmp-port-unreachable\"",
            ),
            (
                "-A INPUT -j REJECT --reject-with icmp-host-prohibited",
                "unknown reject type \"icmp-host-prohibited\"",
            ),
            (
                "-A INPUT -j REJECT --reject-with tcp-rst",
                "unknown reject type \"tcp-rst\"",
            ),
            (
                "-A INPUT -s 10.0.0.0/8 -j ACCEPT",
                "host/network `10.0.0.0' not found",
            ),
            (
                "-A INPUT -d 192.168.1.1 -j ACCEPT",
                "host/network `192.168.1.1' not found",
            ),
            (
                "-A INPUT -s 2001:db8::/129 -j ACCEPT",
                "invalid mask `129' specified",
            ),
            (
                "-A INPUT -s 2001:zz8::/32 -j ACCEPT",
                "host/network `2001:zz8::' not found",
            ),
            (
                "-A INPUT -s fe80::1%eth0 -j ACCEPT",
                "host/network `fe80::1%eth0' not found",
            ),
            (
                "-A INPUT -p ipv6-icmp --icmpv6-type bogus -j ACCEPT",
                "Unknown ICMPv6 type `bogus'",
            ),
            (
                "-A INPUT -p tcp --dport 99999 -4 -j ACCEPT",
                "invalid port/service `99999' specified",
            ),
        ] {
            assert_eq!(verdict_v6(line), said, "{line}");
        }
        // Checked when the rule is added (RULE_APPEND failed (Invalid argument)).
        for line in [
            "-A INPUT -m icmp6 --icmpv6-type 1 -j ACCEPT",
            "-A INPUT -j REJECT --reject-with tcp-reset",
        ] {
            let (cmd, _) = parse_family(line, Family::V6).unwrap();
            assert_eq!(cmd.map(|c| c.needs.tables), Some(Some(&[][..])), "{line}");
        }
        // A `-4` line: ip6tables-restore stops reading it (nothing after is checked).
        for line in [
            "-4 -A INPUT -p tcp --dport 22 -j ACCEPT",
            "-4 -A INPUT -s 10.0.0.1 -j ACCEPT",
            "-4 -A INPUT -m nosuch -j ACCEPT",
            "-A INPUT -4 -p tcp --dport 99999 -j ACCEPT",
            "-4 bogus words",
        ] {
            assert_eq!(verdict_v6(line), "skipped", "{line}");
        }
        assert_eq!(verdict_v6("-6 -A INPUT -p tcp --dport 66 -j ACCEPT"), "ok");
    }

    #[test]
    fn ipv6_constructs_in_an_ipv4_file() {
        for (line, said) in [
            (
                "-A INPUT -p ipv6-icmp --icmpv6-type 128 -j ACCEPT",
                "unknown option \"--icmpv6-type\"",
            ),
            (
                "-A INPUT -m icmp6 --icmpv6-type 128 -j ACCEPT",
                "Couldn't load match `icmp6':No such file or directory",
            ),
            (
                "-A INPUT -m rt --rt-type 0 -j DROP",
                "Couldn't load match `rt':No such file or directory",
            ),
            (
                "-A INPUT -s 2001:db8::/32 -j ACCEPT",
                "host/network `2001:db8::' not found",
            ),
            (
                "-A INPUT -s ::1/128 -j ACCEPT",
                "invalid mask `128' specified",
            ),
            (
                "-A INPUT -j REJECT --reject-with icmp6-port-unreachable",
                "unknown reject type \"icmp6-port-unreachable\"",
            ),
            ("-A INPUT -p icmpv6 -j ACCEPT", "ok"),
            ("-A INPUT -p icmp --icmp-type 8 -j ACCEPT", "ok"),
            ("-6 -A INPUT -s 2001:db8::1 -j ACCEPT", "skipped"),
            (
                "-6 -A INPUT -j REJECT --reject-with icmp6-adm-prohibited",
                "skipped",
            ),
            ("-A INPUT -s 10.0.0.0/8 -6 -j ACCEPT", "skipped"),
            ("-4 -A INPUT -p tcp --dport 44 -j ACCEPT", "ok"),
        ] {
            assert_eq!(verdict_v4(line), said, "{line}");
        }
    }

    fn ports_in(line: &str) -> String {
        let (cmd, sets) = parse_line(line).unwrap();
        match cmd.rule.key_in {
            PortRef::Empty => String::new(),
            PortRef::Range(a, b) => PortSet::range(a, b).to_string(),
            PortRef::Set(i) => sets[i as usize].to_string(),
        }
    }

    fn error(line: &str) -> String {
        match parse_line(line) {
            Ok(_) => "ok".into(),
            Err(e) => e.message,
        }
    }

    #[test]
    fn ports_in_c_notation_and_services() {
        assert_eq!(ports_in("-A INPUT -p tcp --dport 0x16 -j ACCEPT"), "22");
        assert_eq!(ports_in("-A INPUT -p tcp --dport 022 -j ACCEPT"), "18");
        assert_eq!(ports_in("-A INPUT -p tcp --dport :3 -j ACCEPT"), "0-3");
        assert_eq!(
            ports_in("-A INPUT -p tcp --dport 11990: -j ACCEPT"),
            "11990-65535"
        );
        assert_eq!(
            ports_in("-A INPUT -p tcp --dport ftp-data:ftp -j ACCEPT"),
            "20-21"
        );
        assert_eq!(ports_in("-A INPUT -p tcp --dport ssh -j ACCEPT"), "22");
        assert_eq!(ports_in("-A INPUT -p tcp --dport : -j ACCEPT"), "0-65535");
        assert_eq!(
            ports_in("-A INPUT -p tcp -m multiport --dports 022,0x10:0x11 -j ACCEPT"),
            "16-18"
        );
        assert_eq!(
            ports_in("-A INPUT -p tcp -m tcp --dport 10:20 -m tcp --dport 15:30 -j ACCEPT"),
            "15-20"
        );
        assert_eq!(
            ports_in("-A INPUT -p tcp ! --dport 1:799 -m tcp --dport 0:810 -j ACCEPT"),
            "0,800-810"
        );
        assert_eq!(
            ports_in("-A INPUT -p tcp -m multiport --dport 21,20 -j ACCEPT"),
            "20-21"
        );
        assert_eq!(ports_in("-A INPUT -p udp --dport 700 -j ACCEPT"), "700");
        assert_eq!(ports_in("-A INPUT -p icmp -j ACCEPT"), "");
    }

    #[test]
    fn errors_quote_the_tool() {
        assert_eq!(
            error("-A INPUT -p tcp --dport 70000 -j ACCEPT"),
            "invalid port/service `70000' specified"
        );
        assert_eq!(
            error("-A INPUT -p tcp --dport 830:820 -j ACCEPT"),
            "invalid portrange (min > max)"
        );
        assert_eq!(
            error("-A INPUT --dport 22 -j ACCEPT"),
            "unknown option \"--dport\""
        );
        assert_eq!(
            error("-A INPUT -o eth0 -j ACCEPT"),
            "Can't use -o with INPUT"
        );
        assert_eq!(
            error("-A INPUT -j ACCEPT -j DROP"),
            "multiple -j flags not allowed"
        );
        assert_eq!(error("-A INPUT -j ACCEPT # x"), "Bad argument `#'");
        assert_eq!(
            error("-A INPUT -p tcp --dport 09 -j ACCEPT"),
            "invalid port/service `09' specified"
        );
        assert_eq!(
            error("-A INPUT -p tcp --dport 22,23 -j ACCEPT"),
            "invalid port/service `22,23' specified"
        );
        assert_eq!(
            error("-A INPUT -m tcp --dport 22 -j ACCEPT"),
            "TCP match requires '-p tcp'"
        );
        assert_eq!(
            error("-A INPUT -p tcp,udp -j ACCEPT"),
            "unknown protocol \"tcp,udp\" specified"
        );
        assert_eq!(
            error("-A INPUT -p tcp -m tcp -m multiport --dport 21,20 -j ACCEPT"),
            "invalid port/service `21,20' specified"
        );
        assert_eq!(
            error("-A INPUT -p tcp --dport 5 --dport 6 -j ACCEPT"),
            "Only one `--destination-port' allowed"
        );
        assert_eq!(
            error("-A INPUT -m nosuchmatch -j ACCEPT"),
            "Couldn't load match `nosuchmatch':No such file or directory"
        );
        assert_eq!(error("-A INPUT --dest 1.2.3.4 -j ACCEPT"), "ok");
        assert_eq!(error("-A INPUT -p tcp --dpor 22 -j ACCEPT"), "ok");
        assert_eq!(error("-A INPUT -p tcp --dport +22 -j ACCEPT"), "ok");
        assert_eq!(error("-A INPUT -p tcp --dport \" 22\" -j ACCEPT"), "ok");
        assert_eq!(
            error("-A INPUT -s 10.0.0.300 -j ACCEPT"),
            "host/network `10.0.0.300' not found"
        );
        assert_eq!(
            error("-A INPUT -s 10.0.0.0/33 -j ACCEPT"),
            "invalid mask `33' specified"
        );
        assert_eq!(error("-A INPUT -m state --state NE -j ACCEPT"), "ok");
        assert_eq!(
            error("-A INPUT -m state --state NEW,FOO -j ACCEPT"),
            "Bad state \"FOO\""
        );
    }

    #[test]
    fn plain_addresses_agree_with_the_general_reader() {
        let span = Span::new(FileId(0), 0, 0);
        for a in [
            "1.2.3.4",
            "1.2.3.4/32",
            "0.0.0.0/0",
            "127.0.0.1",
            "127.1.2.3/8",
            "10.0.0.0/8",
            "255.255.255.255/31",
            "8.8.8.8/0",
        ] {
            assert_eq!(
                plain_ipv4(a).map(Ok),
                Some(parse_one_address_slow(a, span)),
                "{a}"
            );
        }
        for a in [
            "010.1.1.1",
            "1.2.3",
            "1.2.3.4/033",
            "1.2.3.256",
            "1.2.3.4/33",
            "1..2.3",
            "1.2.3.4/",
        ] {
            assert_eq!(plain_ipv4(a), None, "{a}");
        }
    }

    fn parse_one_address_slow(s: &str, span: Span) -> Result<(u32, u8), String> {
        let (addr, mask) = s.split_once('/').map_or((s, None), |(a, m)| (a, Some(m)));
        let prefix = mask.map_or(Some(32), |m| {
            c_strtoul(m).filter(|n| *n <= 32).map(|n| n as u8)
        });
        let (Some(o), Some(p)) = (numeric_ipv4(addr, false), prefix) else {
            return Err(format!("{span:?}"));
        };
        Ok((u32::from_be_bytes(o), p))
    }

    #[test]
    fn multiport_slots() {
        let too_many = |l: &str| match parse_line(l) {
            Err(ParseError {
                kind: ProblemKind::TooManyPorts { slots, .. },
                ..
            }) => Some(slots),
            _ => None,
        };
        let list = |n: usize| (1..=n).map(|i| i.to_string()).collect::<Vec<_>>().join(",");
        let rule = |ports: &str| format!("-A INPUT -p tcp -m multiport --dports {ports} -j ACCEPT");
        assert_eq!(too_many(&rule(&list(15))), None);
        assert_eq!(too_many(&rule(&list(16))), Some(16));
        assert_eq!(too_many(&rule(&format!("{},20:30", list(14)))), Some(16));
        assert_eq!(too_many(&rule(&format!("{},20:30", list(13)))), None);
        assert_eq!(too_many(&rule("1:2,3:4,5:6,7:8,9:10,11:12,13:14,15")), None);
        assert_eq!(
            too_many(&rule("1:2,3:4,5:6,7:8,9:10,11:12,13:14,15:16")),
            Some(16)
        );
        assert_eq!(error(&rule("30:20")), "invalid portrange specified");
        assert_eq!(error(&rule("20:20")), "invalid portrange specified");
        assert_eq!(error(&rule("20:")), "invalid port/service `' specified");
    }

    #[test]
    fn only_an_arriving_accept_to_some_addresses_is_an_assumption() {
        let assumed = |l: &str| parse_line(l).unwrap().0.assumed.len();
        assert_eq!(assumed("-A INPUT -d 10.0.0.0/8 -j ACCEPT"), 1);
        assert_eq!(assumed("-A INPUT ! -d 10.0.0.0/8 -p tcp -j ACCEPT"), 1);
        assert_eq!(assumed("-A INPUT -d 10.0.0.0/8 -j DROP"), 0);
        assert_eq!(assumed("-A INPUT -d 127.0.0.1 -j ACCEPT"), 0);
        assert_eq!(assumed("-A INPUT -d 0.0.0.0/0 -j ACCEPT"), 0);
        assert_eq!(assumed("-A INPUT -d 10.0.0.0/8 -p icmp -j ACCEPT"), 0);
        // Leaving, the destination is the client.
        assert_eq!(assumed("-A OUTPUT -d 10.0.0.0/8 -j ACCEPT"), 0);
    }

    #[test]
    fn conditions_per_packet() {
        let applies = |l: &str| {
            let a = parse_line(l).unwrap().0.rule.applies;
            [a[0], a[1], a[2], a[3]]
        };
        use Applies::*;
        assert_eq!(
            applies("-A INPUT -i lo -j ACCEPT"),
            [Never, Never, Never, Never]
        );
        assert_eq!(
            applies("-A INPUT ! -i lo -j ACCEPT"),
            [ToAll, ToAll, ToAll, ToAll]
        );
        // Another interface is judged once the whole ruleset is known.
        assert_eq!(applies("-A INPUT -i eth0 -j ACCEPT")[0], ToAll);
        let iface = |l: &str| parse_line(l).unwrap().0.rule.iface_in;
        assert_eq!(iface("-A INPUT -i eth0 -j ACCEPT"), IfaceMatch::Is(0));
        assert_eq!(iface("-A INPUT ! -i eth0 -j ACCEPT"), IfaceMatch::Not(0));
        assert_eq!(iface("-A INPUT -i lo -j ACCEPT"), IfaceMatch::Any);
        // The client's address is judged per source class, not here.
        assert_eq!(applies("-A INPUT -s 10.0.0.0/8 -j ACCEPT")[0], ToAll);
        let client = |l: &str| parse_line(l).unwrap().0.rule.client_in;
        assert_ne!(
            client("-A INPUT -s 10.0.0.0/8 -j ACCEPT"),
            crate::filter::ir::ANY_ADDR
        );
        assert_eq!(client("-A INPUT -j ACCEPT"), crate::filter::ir::ANY_ADDR);
        assert_eq!(applies("-A INPUT -s host.example -j ACCEPT")[0], ToSome);
        assert_eq!(applies("-A INPUT ! -s host.example -j ACCEPT")[0], ToMost);
        assert_eq!(applies("-A OUTPUT -s 10.0.0.0/8 -j ACCEPT")[2], ToSome);
        assert_eq!(applies("-A INPUT -d 127.0.0.1 -j ACCEPT")[0], Never);
        assert_eq!(
            applies("-A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT"),
            [Never, ToAll, ToAll, Never]
        );
        assert_eq!(
            applies("-A INPUT -m conntrack ! --ctstate ESTABLISHED -j ACCEPT"),
            [ToAll, ToAll, Never, ToAll]
        );
        assert_eq!(
            applies("-A INPUT -p tcp --syn -j ACCEPT"),
            [ToAll, ToAll, Never, ToAll]
        );
        assert_eq!(applies("-A INPUT -p tcp ! --syn -j ACCEPT")[0], Never);
        assert_eq!(
            applies("-A INPUT -p tcp --tcp-flags ACK ACK -j ACCEPT")[0],
            Never
        );
        assert_eq!(
            applies("-A INPUT -p tcp --tcp-flags ALL SYN -j ACCEPT")[0],
            ToAll
        );
        assert_eq!(
            applies("-A INPUT -m limit --limit 1/hour -j ACCEPT")[0],
            ToSome
        );
        assert_eq!(
            applies("-A INPUT -m helper --helper ftp -j ACCEPT"),
            [Never, ToAll, Never, Never]
        );
        assert_eq!(
            applies("-A INPUT -p tcp --sport 1024:65535 -j ACCEPT")[0],
            ToAll
        );
        assert_eq!(
            applies("-A INPUT -p tcp --sport 1:1023 -j ACCEPT")[0],
            Never
        );
        assert_eq!(
            applies("-A INPUT -m addrtype --dst-type LOCAL -j ACCEPT")[0],
            ToAll
        );
    }
}
