//! iptables-save dumps and iptables shell scripts.
//!
//! Both are *replayed* into the tables a real load would leave behind ([`state`]),
//! one command at a time, with every problem a real `iptables-restore` (nft backend)
//! or `iptables` command would reject recorded with its span and the tool's own
//! message ([`rule`], [`save`], [`script`]). [`eval`] then decides, on port intervals,
//! which inbound TCP ports a new connection completes on.

mod active;
mod eval;
mod lex;
pub mod names;
mod rule;
mod save;
mod script;
mod state;

pub use eval::{Shadowed, firewall_facts, shadowed_rules};

use super::Format;
use super::backup::Restored;
use crate::facts::Firewall;
use crate::portset::PortSet;
use crate::source::{SourceFile, Span};
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::path::Path;

/// A fast hash for chain names, port sets and rule specs (FxHash steps with an FNV
/// tail): keys are short, and a crafted collision only slows a lookup down.
#[derive(Clone, Copy)]
pub struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Eight bytes at a time (the FxHash step), the tail byte by byte.
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let word = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
            self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }
        for &b in chunks.remainder() {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
}

/// The five iptables tables.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TableKind {
    Filter,
    Nat,
    Mangle,
    Raw,
    Security,
}

impl TableKind {
    pub const ALL: [TableKind; 5] = [
        TableKind::Filter,
        TableKind::Nat,
        TableKind::Mangle,
        TableKind::Raw,
        TableKind::Security,
    ];

    pub fn parse(name: &str) -> Option<TableKind> {
        Some(match name {
            "filter" => TableKind::Filter,
            "nat" => TableKind::Nat,
            "mangle" => TableKind::Mangle,
            "raw" => TableKind::Raw,
            "security" => TableKind::Security,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            TableKind::Filter => "filter",
            TableKind::Nat => "nat",
            TableKind::Mangle => "mangle",
            TableKind::Raw => "raw",
            TableKind::Security => "security",
        }
    }

    /// Built-in chains, as the kernel creates them.
    pub fn builtin_chains(self) -> &'static [&'static str] {
        match self {
            TableKind::Filter | TableKind::Security => &["INPUT", "FORWARD", "OUTPUT"],
            TableKind::Nat => &["PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"],
            TableKind::Mangle => &["PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"],
            TableKind::Raw => &["PREROUTING", "OUTPUT"],
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    V4,
    V6,
}

/// A built-in chain's policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Policy {
    Accept,
    Drop,
}

/// Whether a rule's matches hold for one kind of packet, from the point of view of
/// the general public (a source no address, interface or rate condition singles out).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Applies {
    /// Never (e.g. `-p udp` for TCP, `-i lo` from outside, `--ctstate ESTABLISHED` for a SYN).
    Never,
    /// Always, for every source.
    #[default]
    ToAll,
    /// For some sources or sometimes, not for the general public (`-s 10.0.0.0/8`,
    /// `-i eth0`, `-m limit`, an unknown match).
    ToSome,
    /// For the general public but not for every source (`! -s 10.0.0.0/8`).
    ToMost,
}

impl Applies {
    /// Both conditions together (matches are ANDed).
    pub fn and(self, other: Applies) -> Applies {
        use Applies::*;
        match (self, other) {
            (Never, _) | (_, Never) => Never,
            (ToAll, x) | (x, ToAll) => x,
            (ToSome, _) | (_, ToSome) => ToSome,
            (ToMost, ToMost) => ToMost,
        }
    }

    /// The same condition negated with `!`.
    pub fn negated(self) -> Applies {
        match self {
            Applies::Never => Applies::ToAll,
            Applies::ToAll => Applies::Never,
            Applies::ToSome => Applies::ToMost,
            Applies::ToMost => Applies::ToSome,
        }
    }

    pub fn public(self) -> bool {
        matches!(self, Applies::ToAll | Applies::ToMost)
    }

    pub fn some(self) -> bool {
        self != Applies::Never
    }
}

/// The packets the evaluator asks about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Packet {
    /// The SYN of a new inbound connection from a remote client (conntrack state NEW).
    New = 0,
    /// The SYN of a data connection an FTP helper expects (state RELATED).
    Related = 1,
    /// The server's SYN-ACK on its way out (state ESTABLISHED, source port = the server port).
    Reply = 2,
    /// A new inbound SYN on a port the raw table exempts from tracking (state UNTRACKED).
    Untracked = 3,
    /// Active mode: the server's SYN to the client (state NEW, leaving through OUTPUT;
    /// source port = the server's data port).
    ActiveSyn = 4,
    /// Active mode: the client's SYN-ACK back (state ESTABLISHED, arriving through
    /// INPUT; destination port = the server's data port).
    ActiveSynAck = 5,
}

/// Entries of [`Rule::applies`], one per [`Packet`].
pub const PACKETS: usize = 6;

/// A set of ports, stored without allocating for the common single range.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PortRef {
    Empty,
    Range(u16, u16),
    /// Index into [`Ruleset::port_sets`].
    Set(u32),
}

impl PortRef {
    pub const ALL: PortRef = PortRef::Range(0, 65535);
}

/// What a rule does when it matches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// No `-j`, or an extension that does not end evaluation (LOG, MARK, NFLOG, ...).
    Continue,
    Accept,
    Drop,
    Reject,
    Return,
    /// `-j CHAIN`: index of the chain in its table.
    Jump(u32),
    /// `-g CHAIN`.
    Goto(u32),
    /// `-j CT --helper NAME` (`ftp` or not), non-terminating.
    CtHelper {
        ftp: bool,
    },
    /// `-j NOTRACK` / `-j CT --notrack`.
    NoTrack,
    /// `-j MARK --set-mark V` (or `--set-xmark V/0xffffffff`).
    SetMark(u32),
    /// `-j REDIRECT [--to-ports lo[-hi]]` (None: the original port).
    Redirect(Option<(u16, u16)>),
    /// `-j DNAT --to-destination [addr][:lo[-hi]]`.
    Dnat {
        addr: Option<[u8; 4]>,
        ports: Option<(u16, u16)>,
    },
    /// Ends nat traversal without changing the destination (SNAT, MASQUERADE, NETMAP ...).
    NatOther,
    /// Hands the packet to user space or another path the evaluator cannot follow
    /// (NFQUEUE, SYNPROXY, TPROXY, ...).
    Opaque,
}

/// Which protocols a rule's `-p` lets through, for the structural checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Proto {
    Any,
    Tcp,
    Udp,
    /// Another single protocol, or `! -p tcp`.
    Other,
    /// A negated protocol other than TCP (`! -p udp`): TCP and more.
    AllBut,
}

/// One rule after parsing. Small and `Copy`: a million-rule dump keeps a million.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rule {
    /// The whole rule line (or command).
    pub span: Span,
    /// Destination ports a new inbound TCP connection may have to match (the
    /// intersection of every port match); `Empty` when the rule cannot match TCP.
    pub key_in: PortRef,
    /// Source ports of the server's reply the rule matches (OUTPUT direction).
    pub key_out: PortRef,
    /// Per [`Packet`], whether the rest of the matches hold.
    pub applies: [Applies; PACKETS],
    pub proto: Proto,
    /// Only protocol and port matches (no address, interface, state, rate ...).
    pub plain: bool,
    /// The rule has a conntrack state match (its meaning changes for NOTRACK'ed ports).
    pub state: Option<StateMatch>,
    /// `-m mark --mark V` (exact value, no mask): the mark it needs.
    pub mark: Option<u32>,
    pub target: Target,
    /// Hash of the normalised rule spec, for `-D` by specification.
    pub spec: u32,
}

/// A conntrack/state match: which of the states a SYN can be in it accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StateMatch {
    pub new: bool,
    pub related: bool,
    pub established: bool,
    pub untracked: bool,
}

#[derive(Clone, Debug)]
pub struct Chain {
    pub name: Box<str>,
    pub builtin: bool,
    pub policy: Policy,
    /// The `:CHAIN POLICY` or `-P CHAIN POLICY` that set the policy (None: default ACCEPT).
    pub policy_span: Option<Span>,
    /// Where the chain was declared (`:CHAIN` or `-N CHAIN`).
    pub decl: Option<Span>,
    pub rules: Vec<Rule>,
    pub deleted: bool,
}

#[derive(Clone, Debug)]
pub struct Table {
    pub kind: TableKind,
    pub chains: Vec<Chain>,
    index: HashMap<Box<str>, u32, BuildHasherDefault<Fnv>>,
}

impl Table {
    pub fn new(kind: TableKind) -> Table {
        let mut t = Table {
            kind,
            chains: Vec::new(),
            index: HashMap::default(),
        };
        for name in kind.builtin_chains() {
            t.add_chain(name, true, None);
        }
        t
    }

    pub fn find(&self, name: &str) -> Option<u32> {
        self.index.get(name).copied()
    }

    pub fn chain(&self, name: &str) -> Option<&Chain> {
        self.find(name).map(|i| &self.chains[i as usize])
    }

    fn add_chain(&mut self, name: &str, builtin: bool, decl: Option<Span>) -> u32 {
        let id = self.chains.len() as u32;
        self.chains.push(Chain {
            name: name.into(),
            builtin,
            policy: Policy::Accept,
            policy_span: None,
            decl,
            rules: Vec::new(),
            deleted: false,
        });
        self.index.insert(name.into(), id);
        id
    }

    fn remove_chain(&mut self, id: u32) {
        if let Some(c) = self.chains.get_mut(id as usize) {
            c.deleted = true;
            c.rules = Vec::new();
            let name = c.name.clone();
            self.index.remove(&name);
        }
    }

    /// Chains that exist now, with their ids.
    pub fn live_chains(&self) -> impl Iterator<Item = (u32, &Chain)> {
        self.chains
            .iter()
            .enumerate()
            .filter(|(_, c)| !c.deleted)
            .map(|(i, c)| (i as u32, c))
    }
}

/// Why a real load would fail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProblemKind {
    Syntax,
    /// A multiport list over 15 slots (a range counts two): the slots it uses and
    /// the ports it names.
    TooManyPorts {
        slots: u32,
        ports: PortSet,
    },
    /// CRLF line endings: `\r` becomes part of every last word.
    LineEndings,
}

/// Something a real `iptables-restore` load (or `iptables` command) rejects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub kind: ProblemKind,
    /// What the real tool prints (its own words).
    pub message: String,
    pub span: Span,
    /// Where the tool reports it, when that is another line (nft reports a missing
    /// chain at the table's `COMMIT`).
    pub reported_at: Option<Span>,
}

/// A match the evaluator does not model; it assumes the match holds for some connections.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unknown {
    /// The `-m NAME` (or option) that is not modelled.
    pub span: Span,
    /// The rule it belongs to.
    pub rule: Span,
    pub what: String,
    /// Destination ports the rule names.
    pub ports: PortSet,
}

/// A parsed iptables file: the tables a real load leaves behind, and what it rejects.
#[derive(Debug)]
pub struct Ruleset {
    pub format: Format,
    pub family: Family,
    /// IPv4 tables, indexed by [`TableKind`]; `None` when the file never touches one.
    pub tables: Box<[Option<Table>; 5]>,
    /// Tables built by `ip6tables` commands in a script (they never affect IPv4).
    pub tables_v6: Box<[Option<Table>; 5]>,
    pub problems: Vec<Problem>,
    pub unknowns: Vec<Unknown>,
    /// Interned port sets, referenced by [`PortRef::Set`].
    pub port_sets: Vec<PortSet>,
    /// Whether any IPv4 rule, policy or table was written at all.
    pub has_v4: bool,
    /// Files a script loads with `iptables-restore` / `ip6tables-restore` by path.
    pub restored: Vec<Restored>,
}

impl Ruleset {
    fn new(format: Format, family: Family) -> Ruleset {
        Ruleset {
            format,
            family,
            tables: Default::default(),
            tables_v6: Default::default(),
            problems: Vec::new(),
            unknowns: Vec::new(),
            port_sets: Vec::new(),
            has_v4: false,
            restored: Vec::new(),
        }
    }

    pub fn table(&self, kind: TableKind) -> Option<&Table> {
        self.tables[kind.index()].as_ref()
    }

    /// Materialise a port reference.
    pub fn ports(&self, r: PortRef) -> PortSet {
        match r {
            PortRef::Empty => PortSet::empty(),
            PortRef::Range(lo, hi) => PortSet::range(lo, hi),
            PortRef::Set(i) => self.port_sets.get(i as usize).cloned().unwrap_or_default(),
        }
    }

    /// Every table of one family that exists, in [`TableKind`] order.
    pub fn all_tables(&self) -> impl Iterator<Item = &Table> {
        self.tables.iter().chain(self.tables_v6.iter()).flatten()
    }
}

/// Interns port sets so a million rules on the same ports share one.
#[derive(Default)]
pub(crate) struct PortInterner {
    map: HashMap<PortSet, u32, BuildHasherDefault<Fnv>>,
}

impl PortInterner {
    pub(crate) fn intern(&mut self, sets: &mut Vec<PortSet>, set: PortSet) -> PortRef {
        match set.ranges() {
            [] => PortRef::Empty,
            &[(lo, hi)] => PortRef::Range(lo, hi),
            _ => {
                if let Some(&i) = self.map.get(&set) {
                    return PortRef::Set(i);
                }
                let i = sets.len() as u32;
                sets.push(set.clone());
                self.map.insert(set, i);
                PortRef::Set(i)
            }
        }
    }
}

/// Which iptables format a file is, from its name and content; `None` skips it.
pub fn sniff(path: &Path, text: &str) -> Option<Format> {
    if save::looks_like_save(text) {
        return Some(Format::IptablesSave);
    }
    if script::looks_like_script(path, text) {
        return Some(Format::IptablesScript);
    }
    None
}

pub fn parse_save(source: &SourceFile) -> Ruleset {
    save::parse(source)
}

pub fn parse_script(source: &SourceFile) -> Ruleset {
    script::parse(source)
}

/// Inbound IPv4 TCP as this file's rules decide it; `None` for IPv6-only files.
pub fn facts(ruleset: &Ruleset, source: &SourceFile) -> Option<Firewall> {
    if ruleset.family == Family::V6 || !ruleset.has_v4 {
        return None;
    }
    let mut fw = firewall_facts(ruleset, source);
    fw.active = Some(active::steps(ruleset));
    Some(fw)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FileId;

    /// Deterministic mutations of real-looking inputs: parsing and evaluation never panic.
    #[test]
    fn mutated_inputs_never_panic() {
        let seeds: [&[u8]; 3] = [
            b"*raw\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -p tcp --dport 21 -j CT --helper ftp\nCOMMIT\n*nat\n-A PREROUTING -p tcp --dport 8080 -j REDIRECT --to-ports 80\nCOMMIT\n*filter\n:INPUT DROP [0:0]\n:A - [0:0]\n-A INPUT -p tcp -m multiport --dports 21,9981:9990 -j A\n-A A -s 10.0.0.0/8 -m conntrack --ctstate NEW -j ACCEPT\n-A A -g A\n-A INPUT -m mark --mark 7 -p tcp ! --dport 1:99 -j RETURN\nCOMMIT\n",
            b"#!/bin/sh\nIPT=\"iptables -w\"\nfor p in 20 21; do $IPT -A INPUT -p tcp --dport $p -j ACCEPT; done\n{ $IPT -C INPUT -j DROP; } || $IPT -I INPUT 1 -j DROP\niptables-restore <<-EOF\n\t*filter\n\t-A INPUT -p tcp --dport ${P:-22} -j ACCEPT\n\tCOMMIT\n\tEOF\n",
            b"*filter\r\n-A INPUT -p tcp --dport \"0x16\" -m comment --comment \"a \\\"b\" -j ACCEPT\r\n[1:2] -D INPUT 1\r\n-X\r\nCOMMIT",
        ];
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        const NOISE: &[u8] = b" \t\n\r\"'\\!:-,/$*#{}()[]|&;<>=0123456789AaJjPp\xc3\xa9";
        for round in 0..3000 {
            let mut bytes = seeds[round % seeds.len()].to_vec();
            for _ in 0..(next() % 8) {
                let at = (next() as usize) % (bytes.len() + 1);
                match next() % 3 {
                    0 if at < bytes.len() => {
                        bytes.remove(at);
                    }
                    1 => bytes.insert(at, NOISE[(next() as usize) % NOISE.len()]),
                    _ => {
                        let end = (at + (next() as usize) % 12).min(bytes.len());
                        let piece = bytes[at..end].to_vec();
                        let to = (next() as usize) % (bytes.len() + 1);
                        bytes.splice(to..to, piece);
                    }
                }
            }
            let src = SourceFile::new(FileId(0), "rules.v4", &bytes);
            for rs in [parse_save(&src), parse_script(&src)] {
                let _ = facts(&rs, &src);
                let _ = shadowed_rules(&rs);
            }
        }
    }
}
