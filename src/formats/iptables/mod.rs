//! iptables-save dumps and iptables shell scripts.
//!
//! Both are *replayed* into the tables a real load would leave behind ([`state`]),
//! one command at a time, with every problem a real `iptables-restore` (nft backend)
//! or `iptables` command would reject recorded with its span and the tool's own
//! message ([`rule`], [`save`], [`script`]). [`Ruleset::lower`] hands the tables to
//! the filter model (`crate::filter`), which decides what a connection completes on.

#[cfg(test)]
mod active_tests;
mod ahead;
pub mod deletion;
#[cfg(test)]
mod eval_tests;
mod lex;
mod maybe;
pub mod names;
mod nd;
mod rule;
mod save;
mod script;
mod shadow;
mod sizes;
mod state;
mod unset;

pub use crate::filter::Fnv;
pub use crate::filter::ir::{
    Applies, PACKETS, Packet, Policy, PortRef, Proto, Rule, StateMatch, Target,
};
pub use save::{restore_into, restore_lines};
pub use script::Statuses;
pub use shadow::{Shadowed, shadowed_rules};

use super::Format;
use super::backup::Restored;
use crate::addrset::AddrSet;
use crate::facts::{Firewall, PortText, Uncertainty};
use crate::filter::ir::{self as filter, ANY_ADDR, AddrRef, Base, BaseKind, Hook};
use crate::portset::PortSet;
use crate::source::{SourceFile, Span};
use foldhash::quality::RandomState;
use hashbrown::HashTable;
use std::borrow::Cow;
use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault};
use std::path::Path;

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

pub use crate::addrset::Family;

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
    /// Chain ids by name: each name is stored once, in its chain (a kube-proxy dump
    /// has 285,000 of them).
    index: HashTable<u32>,
    // foldhash, not Fnv: generated chain names (`KUBE-SVC-<hash>`) share long prefixes
    // and collide under a weak hash, which made lookups superlinear.
    hasher: RandomState,
}

impl Table {
    pub fn new(kind: TableKind) -> Table {
        let mut t = Table {
            kind,
            chains: Vec::new(),
            index: HashTable::new(),
            hasher: RandomState::default(),
        };
        for name in kind.builtin_chains() {
            t.add_chain(name, true, None);
        }
        t
    }

    pub fn find(&self, name: &str) -> Option<u32> {
        let chains = &self.chains;
        self.index
            .find(self.hasher.hash_one(name), |&id| {
                &*chains[id as usize].name == name
            })
            .copied()
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
        self.index_chain(id);
        id
    }

    fn index_chain(&mut self, id: u32) {
        let (chains, hasher) = (&self.chains, &self.hasher);
        let hash = hasher.hash_one(&*chains[id as usize].name);
        self.index
            .insert_unique(hash, id, |&i| hasher.hash_one(&*chains[i as usize].name));
    }

    fn unindex_chain(&mut self, id: u32) {
        let hash = self.hasher.hash_one(&*self.chains[id as usize].name);
        if let Ok(entry) = self.index.find_entry(hash, |&i| i == id) {
            entry.remove();
        }
    }

    /// Room for `declared` chains in all, built-in ones included.
    fn reserve_chains(&mut self, declared: usize) {
        let more = declared.saturating_sub(self.chains.len());
        self.chains.reserve_exact(more);
        let (chains, hasher) = (&self.chains, &self.hasher);
        self.index
            .reserve(more, |&i| hasher.hash_one(&*chains[i as usize].name));
    }

    fn rename_chain(&mut self, id: u32, name: &str) {
        self.unindex_chain(id);
        self.chains[id as usize].name = name.into();
        self.index_chain(id);
    }

    fn remove_chain(&mut self, id: u32) {
        if (id as usize) < self.chains.len() {
            self.unindex_chain(id);
            let c = &mut self.chains[id as usize];
            c.deleted = true;
            c.rules = Vec::new();
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
    /// A script's `-D`, `-F`, `-X` or `-Z` of a rule or chain that is not there
    /// (the clean-up before a first run builds them): iptables fails, and the
    /// firewall is as it was.
    NothingToRemove,
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
    /// Conditions the evaluator takes as "some" that are not about the client
    /// (`-d` on an arriving packet); not reported on their own.
    pub assumed: Vec<Unknown>,
    /// Interned port and address sets, referenced by the rules.
    pub sets: Sets,
    /// Whether any IPv4 rule, policy or table was written at all.
    pub has_v4: bool,
    /// Files a script loads with `iptables-restore` / `ip6tables-restore` by path.
    pub restored: Vec<Restored>,
    /// A script's run: the files it writes and where its interpreter stopped.
    pub outcome: crate::scripts::Outcome,
    /// The `pure-ftpd` command lines a script runs.
    pub pure_ftpd: Vec<crate::formats::pureftpd::Config>,
    /// The containers a script starts (`docker run`), as compose services.
    pub containers: Vec<crate::formats::compose::Service>,
    /// The ruleset a script's `nft` commands build, when it runs nft.
    pub nft: Option<crate::formats::nftables::File>,
    /// Where accept rules' destination ports are written, for fixes.
    pub port_texts: Vec<PortText>,
    /// The `ufw` commands of a script that ufw refuses (they change nothing).
    pub ufw_rejected: Vec<crate::formats::ufw::Rejected>,
    /// The tool whose commands built the tables: iptables itself, or ufw or
    /// firewall-cmd commands of a script, lowered to the rules those tools load.
    pub built_by: crate::facts::Dialect,
    /// A script's closing commands that may not run (see [`maybe`]).
    pub closes_if: Vec<crate::facts::ClosedIf>,
    /// The script's ruleset when none of `closes_if` runs.
    pub otherwise: Option<Box<Ruleset>>,
}

impl Ruleset {
    pub(crate) fn new(format: Format, family: Family) -> Ruleset {
        Ruleset {
            format,
            family,
            tables: Default::default(),
            tables_v6: Default::default(),
            problems: Vec::new(),
            unknowns: Vec::new(),
            assumed: Vec::new(),
            sets: Sets::default(),
            has_v4: false,
            restored: Vec::new(),
            pure_ftpd: Vec::new(),
            containers: Vec::new(),
            nft: None,
            outcome: crate::scripts::Outcome::default(),
            port_texts: Vec::new(),
            ufw_rejected: Vec::new(),
            built_by: crate::facts::Dialect::Iptables,
            closes_if: Vec::new(),
            otherwise: None,
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
            PortRef::Set(i) => self.sets.ports.get(i as usize).cloned().unwrap_or_default(),
        }
    }

    /// Records where an accept rule's destination-port value is written, when
    /// the text in `source` is that value itself (not a variable or a loop's word).
    pub(crate) fn note_port_text(&mut self, source: &SourceFile, cmd: &rule::Command<'_>) {
        if cmd.rule.target != Target::Accept {
            return;
        }
        let Some((syntax, span, text)) = &cmd.port_text else {
            return;
        };
        if let Some(value) = exact_value(source, *span, text) {
            self.port_texts.push(PortText {
                rule: cmd.rule.span,
                syntax: *syntax,
                value,
                second: None,
                line: None,
            });
        }
    }

    /// Keeps a command's undecidable host-side conditions, once each.
    pub(crate) fn note_assumed(&mut self, cmd: &rule::Command<'_>, rule: Span) {
        // A loop repeats one line's command; past the cap, the reasons are only
        // more of the same kind.
        const CAP: usize = 1000;
        for (span, what) in &cmd.assumed {
            if self.assumed.len() >= CAP || self.assumed.last().is_some_and(|u| u.span == *span) {
                continue;
            }
            self.assumed.push(Unknown {
                span: *span,
                rule,
                what: what.clone(),
                ports: self.ports(cmd.rule.key_in),
            });
        }
    }

    /// Every table of one family that exists, in [`TableKind`] order.
    pub fn all_tables(&self) -> impl Iterator<Item = &Table> {
        self.tables.iter().chain(self.tables_v6.iter()).flatten()
    }
}

/// The span of `text` inside `span` when the file holds it there as written,
/// bare or in one pair of quotes.
pub(crate) fn exact_value(source: &SourceFile, span: Span, text: &str) -> Option<Span> {
    if span.file != source.id || text.is_empty() {
        return None;
    }
    let (start, end) = (span.start as usize, span.end as usize);
    let written = source.text.get(start..end)?;
    if written == text {
        return Some(span);
    }
    let quoted = ['"', '\'']
        .into_iter()
        .any(|q| written.len() == text.len() + 2 && written.starts_with(q) && written.ends_with(q));
    (quoted && written.get(1..written.len() - 1) == Some(text))
        .then(|| source.span(start + 1, end - 1))
}

/// The port and address sets rules refer to, each stored once.
#[derive(Debug, Default)]
pub struct Sets {
    pub ports: Vec<PortSet>,
    pub addrs: Vec<AddrSet>,
    /// Interface names of `-i`/`-o` matches, each stored once.
    pub ifaces: Vec<String>,
}

/// Interns sets so a million rules on the same ports or addresses share one.
#[derive(Default)]
pub(crate) struct Interner {
    ports: HashMap<PortSet, u32, BuildHasherDefault<Fnv>>,
    /// Lists of several blocks; a single block (nearly every address of a dump,
    /// each a different ban) is stored as it comes, without a map entry.
    addrs: HashMap<AddrSet, u32, BuildHasherDefault<Fnv>>,
}

impl Interner {
    pub(crate) fn intern(&mut self, sets: &mut Vec<PortSet>, set: PortSet) -> PortRef {
        match set.ranges() {
            [] => PortRef::Empty,
            &[(lo, hi)] => PortRef::Range(lo, hi),
            _ => {
                if let Some(&i) = self.ports.get(&set) {
                    return PortRef::Set(i);
                }
                let i = sets.len() as u32;
                sets.push(set.clone());
                self.ports.insert(set, i);
                PortRef::Set(i)
            }
        }
    }

    pub(crate) fn intern_addr(&mut self, sets: &mut Vec<AddrSet>, set: Option<AddrSet>) -> AddrRef {
        let Some(set) = set else { return ANY_ADDR };
        let next = sets.len() as u32;
        let i = match set.ranges() {
            [_] => next,
            _ => *self.addrs.entry(set.clone()).or_insert(next),
        };
        if i == next {
            sets.push(set);
        }
        i
    }
}

/// Which iptables format a file is, from its name and content; `None` skips it.
pub fn sniff(path: &Path, text: &str) -> Option<Format> {
    // What the system restores at boot is a dump whatever it holds: a file there
    // that is not one fails the load, which the parser then reports. iptables-persistent's
    // names say so wherever a repository keeps them (a role's `files/rules.v4`).
    let restored = loaded_at_boot(path) || persistent_name(path);
    // A script that feeds `iptables-restore <<EOF` holds dump lines, but a shell runs
    // it: its `#!` line or its `.sh` name says so, and no dump starts with `#!`.
    if !restored
        && script::named_or_marked_as_shell(path, text)
        && script::looks_like_script(path, text)
    {
        return Some(Format::ShellScript);
    }
    if save::looks_like_save(text) {
        return Some(Format::IptablesSave);
    }
    if script::looks_like_script(path, text) {
        return Some(Format::ShellScript);
    }
    restored.then_some(Format::IptablesSave)
}

fn persistent_name(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    matches!(name, "rules.v4" | "rules.v6")
}

/// The paths iptables-persistent (`/etc/iptables/rules.v4`, `rules.v6`) and
/// iptables-services (`/etc/sysconfig/iptables`, `ip6tables`) restore at boot.
fn loaded_at_boot(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let parent = path
        .parent()
        .and_then(|p| p.file_name())
        .and_then(|n| n.to_str())
        .unwrap_or("");
    matches!(
        (parent, name),
        ("iptables", "rules.v4" | "rules.v6") | ("sysconfig", "iptables" | "ip6tables")
    )
}

pub fn parse_save(source: &SourceFile) -> Ruleset {
    save::parse(source)
}

pub fn parse_script(source: &SourceFile) -> Ruleset {
    script::parse(source)
}

/// Commands another reader produced, replayed as a script's (see [`script::replay`]).
pub fn replay_commands(
    source: &SourceFile,
    commands: &[crate::scripts::Command],
    checks_first: bool,
) -> Ruleset {
    script::replay(source, commands, checks_first)
}

/// The facts of a ruleset a program generates from the host's files (ufw-init,
/// firewalld), in that program's `dialect`. The lines it builds in are spanned at
/// the start of `primary`; those spans are dropped (the decisions `built_in`
/// picks, and the policy), so no finding points at a line the repository lacks.
pub fn generated_facts(
    rs: &Ruleset,
    primary: &SourceFile,
    dialect: crate::facts::Dialect,
    built_in: fn(&crate::facts::Decision) -> bool,
) -> crate::facts::FileFacts {
    let anchor = Some(primary.span(0, 0));
    let unspan = |fw: &mut Firewall| {
        fw.dialect = dialect;
        // The program adds neighbour discovery accepts of its own (ufw's before6.rules).
        fw.nd_blocked = None;
        // The program writes those rules from its own files: the value to edit is there.
        fw.port_texts.clear();
        if fw.default_policy.span == anchor {
            fw.default_policy.span = None;
        }
        let decisions = fw
            .decisions
            .iter_mut()
            .chain(fw.classes.iter_mut().flat_map(|c| c.decisions.iter_mut()));
        for d in decisions.filter(|d| d.span == anchor && built_in(d)) {
            d.span = None;
        }
    };
    let (mut firewall, mut firewall_v6) = facts(rs, primary);
    firewall.iter_mut().for_each(unspan);
    firewall_v6.iter_mut().for_each(unspan);
    crate::facts::FileFacts {
        firewall,
        firewall_v6,
        ..Default::default()
    }
}

/// The port texts, each with the line that deletes its rule where one does.
fn with_lines<'r>(ruleset: &'r Ruleset, source: &SourceFile) -> std::borrow::Cow<'r, [PortText]> {
    let deletions = match ruleset.port_texts.as_slice() {
        [] => None,
        _ => deletion::Deletions::single_rules(source, ruleset),
    };
    let Some(deletions) = deletions else {
        return std::borrow::Cow::Borrowed(&ruleset.port_texts);
    };
    let lined = ruleset.port_texts.iter().map(|t| PortText {
        line: deletions.line_of(t.rule),
        ..*t
    });
    std::borrow::Cow::Owned(lined.collect())
}

/// Inbound TCP as this file's rules decide it: IPv4 and IPv6, each when the
/// file filters that family.
pub fn facts(ruleset: &Ruleset, source: &SourceFile) -> (Option<Firewall>, Option<Firewall>) {
    let (mut v4, mut v6) = facts_of(ruleset, source);
    if let Some(other) = &ruleset.otherwise {
        let (o4, o6) = facts_of(other, source);
        for (fw, other) in [(&mut v4, o4), (&mut v6, o6)] {
            if let (Some(fw), Some(other)) = (fw.as_mut(), other) {
                fw.closes_if = ruleset.closes_if.clone();
                fw.otherwise = Some(Box::new(other));
            }
        }
    }
    (v4, v6)
}

/// The facts of the tables as the run leaves them.
fn facts_of(ruleset: &Ruleset, source: &SourceFile) -> (Option<Firewall>, Option<Firewall>) {
    // An IPv6 file's tables, like a script's `ip6tables` commands, are in `tables_v6`.
    let v4 = (ruleset.family == Family::V4 && ruleset.has_v4).then_some(&ruleset.tables);
    let v6 = ruleset
        .tables_v6
        .iter()
        .any(Option::is_some)
        .then_some(&ruleset.tables_v6);
    // Rules added to tables whose base chains the script does not create go
    // into a ruleset the host loads elsewhere: they filter nothing seen here.
    let nft = ruleset.nft.as_ref().filter(|f| {
        f.tables
            .iter()
            .any(|t| t.chains.iter().any(|c| c.base.is_some()))
    });
    if let (Some(nft), None, None) = (nft, v4, v6) {
        return nft_facts(ruleset, nft, source);
    }
    let texts = with_lines(ruleset, source);
    let evaluate = |tables, family| {
        let lowered = ruleset.lower(tables, family);
        let mut fw = crate::filter::eval::firewall_facts(&lowered, source.id);
        fw.dialect = ruleset.built_by;
        // ufw and firewalld add neighbour discovery accepts of their own.
        fw.nd_blocked = crate::filter::nd::blocked(&lowered)
            .filter(|_| ruleset.built_by == crate::facts::Dialect::Iptables)
            .map(|b| nd::phrase(b, ruleset.format, source));
        crate::filter::eval::attach_port_texts(&mut fw, &texts);
        fw.uncertain
            .extend(ruleset.unknowns.iter().map(as_uncertainty));
        fw.conditions
            .extend(ruleset.assumed.iter().map(as_uncertainty));
        fw
    };
    let mut both = (
        v4.map(|t| evaluate(t, Family::V4)),
        v6.map(|t| evaluate(t, Family::V6)),
    );
    // A script that runs iptables and nft leaves both rulesets in the kernel,
    // and a connection must pass both; as with ufw, the firewall is what
    // iptables builds (pasvlint keeps one ruleset a file), and the nft tables
    // are said to filter too rather than dropped silently.
    if let Some(nft) = nft {
        let span = nft.tables[0].span;
        for fw in [&mut both.0, &mut both.1].into_iter().flatten() {
            fw.uncertain.push(Uncertainty {
                span,
                what: "this script also builds nftables tables with nft; a connection must pass them too, and only the iptables rules are read".into(),
            });
        }
    }
    both
}

/// A script that builds its firewall with nft only.
fn nft_facts(
    ruleset: &Ruleset,
    nft: &crate::formats::nftables::File,
    source: &SourceFile,
) -> (Option<Firewall>, Option<Firewall>) {
    let (mut v4, mut v6) = crate::formats::nftables::facts(nft, source, false);
    for fw in [&mut v4, &mut v6].into_iter().flatten() {
        fw.uncertain
            .extend(ruleset.unknowns.iter().map(as_uncertainty));
    }
    (v4, v6)
}

fn as_uncertainty(u: &Unknown) -> Uncertainty {
    Uncertainty {
        span: u.span,
        what: u.what.clone(),
    }
}

/// How iptables' tables sit on the hooks (netfilter's `NF_IP_PRI_*`).
fn priority(kind: TableKind, chain: &str) -> i32 {
    match (kind, chain) {
        (TableKind::Raw, _) => -300,
        (TableKind::Mangle, _) => -150,
        (TableKind::Nat, "PREROUTING" | "OUTPUT") => crate::filter::ir::NAT_DST_PRIORITY,
        (TableKind::Nat, _) => 100,
        (TableKind::Filter, _) => 0,
        (TableKind::Security, _) => 50,
    }
}

fn hook(chain: &str) -> Option<Hook> {
    Some(match chain {
        "PREROUTING" => Hook::Prerouting,
        "INPUT" => Hook::Input,
        "FORWARD" => Hook::Forward,
        "OUTPUT" => Hook::Output,
        "POSTROUTING" => Hook::Postrouting,
        _ => return None,
    })
}

impl Ruleset {
    /// One family's tables as the filter model reads them: built-in chains become
    /// base chains at their table's priority; nothing is copied.
    pub fn lower<'a>(
        &'a self,
        tables: &'a [Option<Table>; 5],
        family: Family,
    ) -> filter::Ruleset<'a> {
        let mut out = filter::Ruleset {
            tables: Vec::new(),
            bases: Vec::new(),
            family,
            port_sets: Cow::Borrowed(&self.sets.ports),
            addr_sets: Cow::Borrowed(&self.sets.addrs),
            ifaces: Cow::Borrowed(&self.sets.ifaces),
        };
        for table in tables.iter().flatten() {
            let index = out.tables.len();
            let mut lowered = filter::Table {
                chains: Vec::with_capacity(table.chains.len()),
            };
            for (id, chain) in table.chains.iter().enumerate() {
                lowered.chains.push(filter::Chain {
                    rules: Cow::Borrowed(&chain.rules),
                    policy: chain.policy,
                    policy_span: chain.policy_span,
                    live: !chain.deleted,
                });
                let hook = hook(&chain.name).filter(|_| chain.builtin && !chain.deleted);
                if let Some(hook) = hook {
                    out.bases.push(Base {
                        hook,
                        priority: priority(table.kind, &chain.name),
                        kind: if table.kind == TableKind::Nat {
                            BaseKind::Nat
                        } else {
                            BaseKind::Filter
                        },
                        table: index,
                        chain: id as u32,
                        label: format!("{} {}", table.kind.name(), chain.name),
                    });
                }
            }
            out.tables.push(lowered);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FileId;

    /// Deterministic mutations of real-looking inputs: parsing and evaluation never panic.
    #[test]
    fn mutated_inputs_never_panic() {
        let seeds: [&[u8]; 4] = [
            b"*raw\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -p tcp --dport 21 -j CT --helper ftp\nCOMMIT\n*nat\n-A PREROUTING -p tcp --dport 8080 -j REDIRECT --to-ports 80\nCOMMIT\n*filter\n:INPUT DROP [0:0]\n:A - [0:0]\n-A INPUT -p tcp -m multiport --dports 21,9981:9990 -j A\n-A A -s 10.0.0.0/8 -m conntrack --ctstate NEW -j ACCEPT\n-A A -g A\n-A INPUT -m mark --mark 7 -p tcp ! --dport 1:99 -j RETURN\nCOMMIT\n",
            b"#!/bin/sh\nIPT=\"iptables -w\"\nfor p in 20 21; do $IPT -A INPUT -p tcp --dport $p -j ACCEPT; done\n{ $IPT -C INPUT -j DROP; } || $IPT -I INPUT 1 -j DROP\niptables-restore <<-EOF\n\t*filter\n\t-A INPUT -p tcp --dport ${P:-22} -j ACCEPT\n\tCOMMIT\n\tEOF\n",
            b"#!/bin/sh\nnft flush ruleset\nnft add table inet f\nnft add chain inet f input \\{ type filter hook input priority 0 \\; policy drop \\; \\}\nnft 'add rule inet f input tcp dport { 21, 40000-40100 } accept; add rule inet f input ct state established accept'\nnft -f - <<EOF\ndefine p = 22\nadd rule inet f input tcp dport $p accept\nEOF\nnft -c delete rule inet f input handle 3\n",
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
