//! The evaluator: which inbound TCP ports a new connection completes on.
//!
//! Never port by port. Each chain is summarised once, bottom-up, as sets of ports per
//! outcome (accept, drop, return, or a nat action), for two observers at once:
//! the *public* (a source that no address, interface or rate condition singles out)
//! and *some* source (any source, any rate state). A rule costs a few interval-set
//! operations. Base chains are then composed in packet order, by hook and priority:
//! prerouting before destination NAT, the NAT port map, prerouting after it and
//! input, and the reply's output and postrouting path.

use super::Fnv;
use super::class::{Class, source_classes};
use super::ifaces::ClientIfaces;
use super::ir::{
    Applies, Base, BaseKind, Chain, DnatAddr, Hook, NAT_DST_PRIORITY, Packet, Policy, PortRef,
    Proto, Rule, Ruleset, Table, Target, main_filter,
};
use crate::addrset::{AddrSet, Family};
use crate::facts::{
    Decision, DefaultPolicy, Firewall, FtpHelper, Located, Scope, SourceClass, Uncertainty, Verdict,
};
use crate::portset::PortSet;
use crate::source::{FileId, Span};
use rayon::prelude::*;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::BuildHasherDefault;

const ACCEPT: u32 = 0;
const DROP: u32 = 1;
const RETURN: u32 = 2;
/// Outcomes from here on are nat actions (index into `Eval::nat_actions` + NAT_BASE).
const NAT_BASE: u32 = 3;

/// Port sets keyed by outcome, kept sparse (most chains have few outcomes).
#[derive(Clone, Debug, Default)]
struct Outcomes {
    by: Vec<(u32, PortSet)>,
}

impl Outcomes {
    fn get(&self, outcome: u32) -> PortSet {
        self.by
            .iter()
            .find(|(o, _)| *o == outcome)
            .map(|(_, s)| s.clone())
            .unwrap_or_default()
    }
}

/// Outcomes while a chain is walked: pieces are appended, merged once at the end,
/// so a long chain never rebuilds a large set per rule. Every outcome's pieces share
/// one list: a kube-proxy service table reaches 285,000 DNAT outcomes of one range
/// each, and a vector per outcome cost four times the pieces themselves.
#[derive(Default)]
struct OutcomesBuilder {
    /// Outcomes in the order first seen, each with where its last addition starts
    /// in `pieces` and how many ranges it had.
    outs: Vec<(u32, u32, u32)>,
    /// Where each outcome is in `outs`, once there are more than a few.
    at: HashMap<u32, u32, BuildHasherDefault<Fnv>>,
    /// (index into `outs`, range).
    pieces: Vec<(u32, (u16, u16))>,
}

impl OutcomesBuilder {
    fn add(&mut self, outcome: u32, ports: &PortSet) {
        if ports.is_empty() {
            return;
        }
        let i = self.index_of(outcome);
        let ranges = ports.ranges();
        let (_, start, len) = self.outs[i as usize];
        // Conditional rules hit the same ports again and again: keep one copy.
        let last = self
            .pieces
            .get(start as usize..(start + len) as usize)
            .unwrap_or_default();
        if last.len() == ranges.len() && last.iter().map(|p| p.1).eq(ranges.iter().copied()) {
            return;
        }
        self.outs[i as usize].1 = self.pieces.len() as u32;
        self.outs[i as usize].2 = ranges.len() as u32;
        self.pieces.extend(ranges.iter().map(|&r| (i, r)));
    }

    /// Where `outcome` is in `outs`, added when new. Most chains have a few
    /// outcomes, looked up in place; a map is kept once there are more (a
    /// kube-proxy service list reaches one DNAT per endpoint).
    fn index_of(&mut self, outcome: u32) -> u32 {
        const FEW: usize = 8;
        let next = self.outs.len() as u32;
        if self.outs.len() <= FEW {
            if let Some(i) = self.outs.iter().position(|o| o.0 == outcome) {
                return i as u32;
            }
            self.outs.push((outcome, 0, 0));
            if self.outs.len() > FEW {
                self.at = self.outs.iter().zip(0..).map(|(o, i)| (o.0, i)).collect();
            }
            return next;
        }
        let i = *self.at.entry(outcome).or_insert(next);
        if i == next {
            self.outs.push((outcome, 0, 0));
        }
        i
    }

    /// Allocated at their size: a nat stage holds the summaries of 142,000
    /// kube-proxy service chains until their caller is walked.
    fn finish(mut self) -> Outcomes {
        let mut by = Vec::with_capacity(self.outs.len());
        if self.outs.len() == 1 {
            let ranges = self.pieces.into_iter().map(|p| p.1);
            by.push((self.outs[0].0, PortSet::from_ranges(ranges)));
            return Outcomes { by };
        }
        self.pieces.sort_unstable_by_key(|p| p.0);
        let mut rest = &self.pieces[..];
        for (i, &(o, _, _)) in self.outs.iter().enumerate() {
            let n = rest.iter().take_while(|p| p.0 == i as u32).count();
            let (mine, after) = rest.split_at(n);
            by.push((o, PortSet::from_ranges(mine.iter().map(|p| p.1))));
            rest = after;
        }
        Outcomes { by }
    }
}

/// Ports still undecided while a chain is walked, as a map from range start to range
/// end: taking a few ports out costs O(log n) however fragmented the set becomes.
/// Every port is undecided at first, kept without the map until a port is taken:
/// a kube-proxy dump walks 285,000 chains, most of which never take one.
struct Live {
    untouched: bool,
    map: BTreeMap<u16, u16>,
}

impl Live {
    fn all() -> Live {
        Live {
            untouched: true,
            map: BTreeMap::new(),
        }
    }

    fn is_empty(&self) -> bool {
        !self.untouched && self.map.is_empty()
    }

    /// Ranges of the set overlapping `lo..=hi`.
    fn overlapping(&self, lo: u16, hi: u16) -> impl Iterator<Item = (u16, u16)> + '_ {
        let before = self
            .map
            .range(..lo)
            .next_back()
            .filter(|&(_, &e)| e >= lo)
            .map(|(&s, &e)| (s, e));
        before
            .into_iter()
            .chain(self.map.range(lo..=hi).map(|(&s, &e)| (s, e)))
    }

    /// `self ∩ key`, without changing the set.
    fn hit(&self, key: &PortSet) -> PortSet {
        if self.untouched {
            return key.clone();
        }
        PortSet::from_ranges(key.ranges().iter().flat_map(|&(lo, hi)| {
            self.overlapping(lo, hi)
                .map(move |(s, e)| (s.max(lo), e.min(hi)))
        }))
    }

    /// Take `ports` out of the set.
    fn remove(&mut self, ports: &PortSet) {
        if ports.is_empty() {
            return;
        }
        if std::mem::take(&mut self.untouched) {
            self.map = PortSet::all()
                .difference(ports)
                .ranges()
                .iter()
                .copied()
                .collect();
            return;
        }
        for &(lo, hi) in ports.ranges() {
            let taken: Vec<(u16, u16)> = self.overlapping(lo, hi).collect();
            for (s, e) in taken {
                self.map.remove(&s);
                if s < lo {
                    self.map.insert(s, lo - 1);
                }
                if e > hi {
                    self.map.insert(hi + 1, e);
                }
            }
        }
    }

    fn to_portset(&self) -> PortSet {
        if self.untouched {
            return PortSet::all();
        }
        PortSet::from_ranges(self.map.iter().map(|(&s, &e)| (s, e)))
    }
}

/// What a chain does with every port, for the public and for some source.
#[derive(Clone, Debug, Default)]
struct Summary {
    public: Outcomes,
    some: Outcomes,
}

/// Ports a rule was reached on (before restricting to the chain's callers).
#[derive(Clone, Debug)]
struct Hit {
    rule: u32,
    public: PortSet,
    some: PortSet,
}

/// One base chain evaluated with everything it calls.
struct Stage {
    summary: Summary,
    /// Per chain id: the rules that decided, jumped, or had a side effect.
    hits: Vec<Vec<Hit>>,
    /// Per chain id: the ports on which the public / some source enters it.
    entry_public: Vec<PortSet>,
    entry_some: Vec<PortSet>,
    /// Chains in evaluation order (callers first).
    order: Vec<u32>,
}

/// The chains `chain`'s rules jump or go to, once per rule.
fn jump_targets<'t>(chain: &'t Chain) -> impl Iterator<Item = u32> + 't {
    chain.rules.iter().filter_map(|r| match r.target {
        Target::Jump(to) | Target::Goto(to) => Some(to),
        _ => None,
    })
}

/// Per chain id, how many rules of the chains in `order` jump or go to it.
fn jumps_into(t: &Table, order: &[u32]) -> Vec<u32> {
    let mut count = vec![0u32; t.chains.len()];
    for &c in order {
        for to in jump_targets(&t.chains[c as usize]) {
            if let Some(n) = count.get_mut(to as usize) {
                *n += 1;
            }
        }
    }
    count
}

/// `a ⊆ b`, by binary search in `b`.
fn subset(a: &PortSet, b: &PortSet) -> bool {
    let br = b.ranges();
    a.ranges().iter().all(|&(lo, hi)| {
        let j = br.partition_point(|r| r.1 < lo);
        br.get(j).is_some_and(|&(blo, bhi)| blo <= lo && hi <= bhi)
    })
}

/// `a ∩ b`, walking the smaller set and binary-searching the larger one.
fn meet(a: &PortSet, b: &PortSet) -> PortSet {
    let (small, big) = if a.ranges().len() <= b.ranges().len() {
        (a, b)
    } else {
        (b, a)
    };
    let br = big.ranges();
    let mut pieces = Vec::new();
    for &(lo, hi) in small.ranges() {
        let mut j = br.partition_point(|r| r.1 < lo);
        while let Some(&(blo, bhi)) = br.get(j) {
            if blo > hi {
                break;
            }
            pieces.push((lo.max(blo), hi.min(bhi)));
            j += 1;
        }
    }
    PortSet::from_ranges(pieces)
}

/// Context from earlier stages that changes what later matches see.
#[derive(Default)]
struct Context {
    /// Ports whose connections the raw table exempts from tracking (state UNTRACKED).
    untracked: PortSet,
    /// Ports with a known packet mark (last write wins), for the public.
    marks: Vec<(PortSet, u32)>,
    /// Ports whose mark depends on the source.
    marks_unsure: PortSet,
}

impl Context {
    fn mark_of(&self, value: u32) -> (PortSet, PortSet) {
        let mut marked_other = PortSet::empty();
        let mut marked_value = PortSet::empty();
        for (ports, v) in &self.marks {
            if *v == value {
                marked_value = marked_value.union(ports);
            } else {
                marked_other = marked_other.union(ports);
            }
        }
        let unmarked = marked_value.union(&marked_other).complement();
        let yes = if value == 0 {
            marked_value.union(&unmarked)
        } else {
            marked_value
        };
        (yes, self.marks_unsure.clone())
    }
}

struct Eval<'r> {
    rs: &'r Ruleset<'r>,
    file: FileId,
    class: &'r Class<'r>,
    ctx: Context,
    nat_actions: Vec<(Target, Span)>,
    uncertain: Vec<Uncertainty>,
    /// The walk is for a new SYN whose destination nat rewrote (`--ctstate DNAT` holds).
    rewritten: bool,
}

/// Inbound TCP as the ruleset decides it, per class of clients.
pub fn firewall_facts(rs: &Ruleset<'_>, file: FileId) -> Firewall {
    let path = Path::of(rs);
    let mut uncertain = Vec::new();
    // nat's source matches decide where a connection goes, so they split classes too.
    let deciding: Vec<&Base> = path
        .input
        .iter()
        .chain(&path.reply)
        .chain(path.nat.as_ref())
        .copied()
        .collect();
    let ifaces = ClientIfaces::of(rs);
    let classes: Vec<Class> = source_classes(rs, &deciding, &mut uncertain)
        .into_iter()
        .map(|addrs| Class::new(addrs, &rs.addr_sets, &ifaces))
        .collect();
    // The classes' walks and the active-mode steps read the ruleset only: they
    // run side by side (a big dump's walk is a second or so on one thread).
    let walk_class = |class: &Class| {
        let mut ev = Eval {
            rs,
            file,
            class,
            ctx: Context::default(),
            nat_actions: Vec::new(),
            uncertain: Vec::new(),
            rewritten: false,
        };
        (class.addrs.clone(), ev.run(&path))
    };
    let (runs, active): (Vec<(AddrSet, Firewall)>, _) = rayon::join(
        || classes.par_iter().map(walk_class).collect(),
        || classes.first().map(|c| super::active::steps(rs, c)),
    );
    let mut fw = merge_classes(rs.family, runs);
    uncertain.append(&mut fw.uncertain);
    fw.uncertain = uncertain;
    fw.active = active;
    fw.client_interface = ifaces.uplink(rs).map(str::to_owned);
    fw
}

/// Keeps, of a lowering's side table, the entries of rules that accept
/// something in `fw`: the rules a fix may rewrite. One pass over the table, so a
/// million-rule dump pays no lookup per rule.
pub fn attach_port_texts(fw: &mut Firewall, texts: &[super::ir::PortText]) {
    if texts.is_empty() {
        return;
    }
    let accepts: HashSet<Span, BuildHasherDefault<Fnv>> = fw
        .decisions
        .iter()
        .chain(fw.classes.iter().flat_map(|c| c.decisions.iter()))
        .filter(|d| d.verdict == Verdict::Accept && !d.is_policy)
        .filter_map(|d| d.span)
        .collect();
    fw.port_texts
        .extend(texts.iter().filter(|t| accepts.contains(&t.rule)));
}

/// One firewall from the walks of every class: open to all where every class gets
/// through; the largest class (the general public) stands for the rest in labels.
fn merge_classes(family: Family, runs: Vec<(AddrSet, Firewall)>) -> Firewall {
    let mut runs = runs.into_iter();
    let Some((first_addrs, mut fw)) = runs.next() else {
        return Firewall::default_for(family);
    };
    let mut classes = vec![SourceClass {
        sources: Some(first_addrs),
        open: fw.open_to_all.clone(),
        open_to_some: fw.open_to_some.clone(),
        decisions: fw.decisions.clone(),
    }];
    let mut any = fw.open_to_any();
    // Every class meets the same uncertain rules: a set keeps the merge linear.
    // Built at the second class: one class has nothing to merge.
    let mut seen: Option<HashSet<(Span, String)>> = None;
    for (addrs, other) in runs {
        let seen = seen.get_or_insert_with(|| {
            fw.uncertain
                .iter()
                .map(|u| (u.span, u.what.clone()))
                .collect()
        });
        fw.open_to_all = fw.open_to_all.intersection(&other.open_to_all);
        any = any.union(&other.open_to_any());
        for u in other.uncertain {
            if seen.insert((u.span, u.what.clone())) {
                fw.uncertain.push(u);
            }
        }
        match classes
            .iter_mut()
            .find(|c| c.open == other.open_to_all && c.open_to_some == other.open_to_some)
        {
            Some(same) => {
                let merged = same.sources.as_ref().map(|s| s.union(&addrs));
                same.sources = merged;
            }
            None => classes.push(SourceClass {
                sources: Some(addrs),
                open: other.open_to_all,
                open_to_some: other.open_to_some,
                decisions: other.decisions,
            }),
        }
    }
    fw.open_to_some = any.difference(&fw.open_to_all);
    fw.family = Some(family);
    add_decisions_of_other_classes(&mut fw.decisions, &classes);
    fw.classes = classes;
    fw
}

/// The general public's decisions, and the accepts that open ports only to other
/// classes (as decisions for some sources), so every opening rule is listed.
fn add_decisions_of_other_classes(decisions: &mut Vec<Decision>, classes: &[SourceClass]) {
    for class in classes.iter().skip(1) {
        for d in &class.decisions {
            let known = decisions
                .iter()
                .any(|k| k.span == d.span && k.verdict == d.verdict && k.is_policy == d.is_policy);
            if !known && d.verdict == Verdict::Accept && !d.is_policy {
                decisions.push(Decision {
                    scope: Scope::Some,
                    ..d.clone()
                });
            }
        }
    }
}

/// A filter stage a connection's later packets (state ESTABLISHED) cross.
struct LaterStage<'b> {
    /// Before nat, where ports are the ones the client chose.
    before_nat: bool,
    base: &'b Base,
    stage: Option<Stage>,
    passed: Passed,
}

/// A stage's pass sets, with the policy applied.
struct Passed {
    public: PortSet,
    some: PortSet,
}

impl<'r> Eval<'r> {
    fn run(&mut self, path: &Path<'r>) -> Firewall {
        let all = PortSet::all();
        // Each stage sees the marks and NOTRACKs of the stages before it.
        let pre = self.stages_in_order(&path.pre);
        let nat = self.nat_map(path);
        let input = self.stages_in_order(&path.input);
        let pre_stages: Vec<(&Base, &Option<Stage>)> = pre.iter().map(|(b, st)| (*b, st)).collect();
        let in_stages: Vec<(&Base, &Option<Stage>)> =
            input.iter().map(|(b, st)| (*b, st)).collect();
        let reply: Vec<(&Base, Option<Stage>)> = path
            .reply
            .iter()
            .map(|b| (*b, self.stage(b, Packet::Reply)))
            .collect();
        let main = path.main;

        // Public and some-source pass sets, stage by stage.
        let mut alive_pre = (all.clone(), all.clone());
        let mut decisions: Vec<(u64, Decision)> = Vec::new();
        for (k, (b, st)) in pre_stages.iter().enumerate() {
            let passed = self.passed(b, st.as_ref());
            self.stage_drops(k as u64, b, st.as_ref(), &alive_pre.0, None, &mut decisions);
            alive_pre.0 = alive_pre.0.intersection(&passed.public);
            alive_pre.1 = alive_pre.1.intersection(&passed.some);
        }
        // INPUT-side ports: what the stages after nat let through.
        let mut alive_in = (all.clone(), all.clone());
        let mut input_pass = Vec::new();
        for (b, st) in &in_stages {
            let passed = self.passed(b, st.as_ref());
            input_pass.push((alive_in.0.clone(), passed.public.clone()));
            alive_in.0 = alive_in.0.intersection(&passed.public);
            alive_in.1 = alive_in.1.intersection(&passed.some);
        }
        let after_input = alive_in.0.clone();
        let mut rewritten = if nat.rewrites() {
            self.rewritten_pass(&path.input)
        } else {
            alive_in.clone()
        };
        let mut reply_before = Vec::new();
        for (b, st) in &reply {
            let passed = self.passed(b, st.as_ref());
            reply_before.push(alive_in.0.clone());
            alive_in.0 = alive_in.0.intersection(&passed.public);
            alive_in.1 = alive_in.1.intersection(&passed.some);
            rewritten.0 = rewritten.0.intersection(&passed.public);
            rewritten.1 = rewritten.1.intersection(&passed.some);
        }
        let final_in_public = alive_in.0.clone();
        // The connection's later packets: an accept for state NEW alone lets the
        // SYN in and nothing after it.
        let later = self.later_packets(path);
        for LaterStage {
            before_nat, passed, ..
        } in &later
        {
            let (alive, rewritten) = match *before_nat {
                true => (&mut alive_pre, None),
                false => (&mut alive_in, Some(&mut rewritten)),
            };
            alive.0 = alive.0.intersection(&passed.public);
            alive.1 = alive.1.intersection(&passed.some);
            if let Some(r) = rewritten {
                r.0 = r.0.intersection(&passed.public);
                r.1 = r.1.intersection(&passed.some);
            }
        }
        let open_public = alive_pre
            .0
            .intersection(&nat.compose_public(&alive_in.0, &rewritten.0));
        let open_some = alive_pre
            .1
            .intersection(&nat.compose_some(&alive_in.1, &rewritten.1));

        // Decisions after nat are in INPUT-side ports; map them back.
        let pre_alive_public = alive_pre.0.clone();
        let first_in = pre_stages.len() as u64;
        // nat sending a connection to another host decides it for this one.
        for (ports, span) in &nat.elsewhere {
            let ports = meet(&pre_alive_public, ports);
            if !ports.is_empty() {
                decisions.push((
                    first_in,
                    Decision {
                        verdict: Verdict::Forward,
                        scope: Scope::All,
                        rule_ports: ports.clone(),
                        ports,
                        span: Some(*span),
                        is_policy: false,
                        later_packets: false,
                    },
                ));
            }
        }
        for (i, (b, st)) in in_stages.iter().enumerate() {
            let before = &input_pass[i].0;
            let keep_accepts = (Some(*b) == main).then_some(&final_in_public);
            let mut local = Vec::new();
            self.stage_drops(
                first_in + i as u64,
                b,
                st.as_ref(),
                before,
                keep_accepts,
                &mut local,
            );
            for (k, mut d) in local {
                d.ports = meet(&pre_alive_public, &nat.preimage(&d.ports));
                if !d.ports.is_empty() || d.is_policy {
                    decisions.push((k, d));
                }
            }
        }
        let first_reply = first_in + in_stages.len() as u64;
        for (i, (b, st)) in reply.iter().enumerate() {
            let mut local = Vec::new();
            self.stage_drops(
                first_reply + i as u64,
                b,
                st.as_ref(),
                &reply_before[i],
                None,
                &mut local,
            );
            for (k, mut d) in local {
                d.ports = meet(&pre_alive_public, &nat.preimage(&d.ports));
                if !d.ports.is_empty() {
                    decisions.push((k, d));
                }
            }
        }
        let first_later = first_reply + reply.len() as u64;
        let (mut later_pre, mut later_in) = (all.clone(), all.clone());
        for (i, l) in later.iter().enumerate() {
            // Only ports the SYN gets through: a closed one is explained by its SYN.
            let (alive, syn_open) = match l.before_nat {
                true => (&mut later_pre, &pre_alive_public),
                false => (&mut later_in, &final_in_public),
            };
            let mut local = Vec::new();
            self.stage_drops(
                first_later + i as u64,
                l.base,
                l.stage.as_ref(),
                &meet(alive, syn_open),
                None,
                &mut local,
            );
            *alive = alive.intersection(&l.passed.public);
            for (k, mut d) in local {
                if !l.before_nat {
                    d.ports = meet(&pre_alive_public, &nat.preimage(&d.ports));
                }
                d.later_packets = true;
                if !d.ports.is_empty() {
                    decisions.push((k, d));
                }
            }
        }
        let _ = after_input;
        decisions.sort_by_key(|(k, _)| *k);

        let connectable = PortSet::connectable();
        let open_to_all = open_public.intersection(&connectable);
        let open_to_some = open_some
            .intersection(&connectable)
            .difference(&open_to_all);
        let (related_open, related_accepts) = self.related(path);
        let uncertain = std::mem::take(&mut self.uncertain);
        let ftp_helpers = self.ftp_helpers(&pre_stages, &in_stages, &nat);
        Firewall {
            files: vec![self.file],
            default_policy: self.default_policy(main),
            open_to_all,
            open_to_some,
            decisions: decisions.into_iter().map(|(_, d)| d).collect(),
            ftp_helpers,
            related_accepts: related_accepts.clone(),
            redirects: nat.redirects(),
            admits_related: !related_accepts.is_empty()
                || subset(&PortSet::range(1024, 65535), &related_open),
            active: None,
            uncertain,
            conditions: Vec::new(),
            family: None,
            classes: Vec::new(),
            client_interface: None,
            profiles: None,
            // The lowering format names its own dialect.
            dialect: crate::facts::Dialect::Iptables,
            layers: Vec::new(),
            closes_if: Vec::new(),
            otherwise: None,
            port_texts: Vec::new(),
            port_data: Vec::new(),
            service_scoped: Vec::new(),
            disabled: Vec::new(),
            nd_blocked: None,
        }
    }

    /// The filter stages a connection's later packets cross, with what each lets
    /// through; none when every rule treats them as it treats the SYN.
    fn later_packets<'b>(&mut self, path: &Path<'b>) -> Vec<LaterStage<'b>> {
        let bases =
            (path.pre.iter().map(|b| (true, *b))).chain(path.input.iter().map(|b| (false, *b)));
        if !bases.clone().any(|(_, b)| self.later_packets_differ(b)) {
            return Vec::new();
        }
        bases
            .map(|(before_nat, base)| {
                let stage = self.stage(base, Packet::Established);
                let passed = self.passed(base, stage.as_ref());
                LaterStage {
                    before_nat,
                    base,
                    stage,
                    passed,
                }
            })
            .collect()
    }

    fn later_packets_differ(&self, b: &Base) -> bool {
        self.rs.tables.get(b.table).is_some_and(|t| {
            t.chains
                .iter()
                .flat_map(|c| c.rules.iter())
                .any(|r| r.applies[Packet::New as usize] != r.applies[Packet::Established as usize])
        })
    }

    /// What the stages after nat let through for new SYNs nat rewrote (public, some).
    fn rewritten_pass(&mut self, bases: &[&Base]) -> (PortSet, PortSet) {
        self.rewritten = true;
        let mut alive = (PortSet::all(), PortSet::all());
        for b in bases {
            let stage = self.stage(b, Packet::New);
            let passed = self.passed(b, stage.as_ref());
            alive.0 = alive.0.intersection(&passed.public);
            alive.1 = alive.1.intersection(&passed.some);
        }
        self.rewritten = false;
        alive
    }

    fn stages_in_order<'b>(&mut self, bases: &[&'b Base]) -> Vec<(&'b Base, Option<Stage>)> {
        let mut out = Vec::with_capacity(bases.len());
        for b in bases {
            let stage = self.stage(b, Packet::New);
            self.collect_side_effects(b, &stage);
            out.push((*b, stage));
        }
        out
    }

    fn default_policy(&self, main: Option<&Base>) -> Located<DefaultPolicy> {
        match main.and_then(|b| self.rs.chain(b.table, b.chain)) {
            Some(c) => Located::new(
                match c.policy {
                    Policy::Accept => DefaultPolicy::Accept,
                    Policy::Drop => DefaultPolicy::Drop,
                },
                c.policy_span,
            ),
            None => Located::default_value(DefaultPolicy::Accept),
        }
    }

    /// Evaluate one base chain and everything it reaches, for one kind of packet.
    fn stage(&mut self, b: &Base, kind: Packet) -> Option<Stage> {
        let t = self.rs.tables.get(b.table)?;
        let base = b.chain;
        let nat = b.kind == BaseKind::Nat;
        t.chains.get(base as usize)?;
        let order = self.callees_first(t, base);
        let n = t.chains.len();
        let mut summaries: Vec<Option<Box<Summary>>> = vec![None; n];
        let mut hits: Vec<Vec<Hit>> = vec![Vec::new(); n];
        for &c in &order {
            let (s, h) = self.walk(t, c, kind, nat, &summaries, true);
            summaries[c as usize] = Some(Box::new(s));
            hits[c as usize] = h;
        }
        let summary = summaries[base as usize]
            .take()
            .map(|s| *s)
            .unwrap_or_default();
        // Callers first: how each chain is entered.
        let mut entry_public = vec![PortSet::empty(); n];
        let mut entry_some = vec![PortSet::empty(); n];
        entry_public[base as usize] = PortSet::all();
        entry_some[base as usize] = PortSet::all();
        let callers_first: Vec<u32> = order.iter().rev().copied().collect();
        for &c in &callers_first {
            let chain = &t.chains[c as usize];
            for h in &hits[c as usize] {
                let Some(rule) = chain.rules.get(h.rule as usize) else {
                    continue;
                };
                if let Target::Jump(to) | Target::Goto(to) = rule.target {
                    let p = meet(&h.public, &entry_public[c as usize]);
                    let s = meet(&h.some, &entry_some[c as usize]);
                    if let Some(e) = entry_public.get_mut(to as usize) {
                        *e = e.union(&p);
                    }
                    if let Some(e) = entry_some.get_mut(to as usize) {
                        *e = e.union(&s);
                    }
                }
            }
        }
        Some(Stage {
            summary,
            hits,
            entry_public,
            entry_some,
            order: callers_first,
        })
    }

    /// What one base chain does with every port, without the per-rule hits: each
    /// chain's summary is dropped once every chain that jumps to it is walked, so a
    /// nat table of 285,000 kube-proxy chains never holds them all.
    fn summarise(&mut self, b: &Base, kind: Packet) -> Option<Summary> {
        let t = self.rs.tables.get(b.table)?;
        let base = b.chain;
        let nat = b.kind == BaseKind::Nat;
        t.chains.get(base as usize)?;
        let order = self.callees_first(t, base);
        let mut callers_left = jumps_into(t, &order);
        // Boxed: a slot per chain of the table, and few summaries alive at once.
        let mut summaries: Vec<Option<Box<Summary>>> = vec![None; t.chains.len()];
        for &c in &order {
            let (s, _) = self.walk(t, c, kind, nat, &summaries, false);
            summaries[c as usize] = Some(Box::new(s));
            for to in jump_targets(&t.chains[c as usize]) {
                let Some(left) = callers_left.get_mut(to as usize) else {
                    continue;
                };
                *left -= 1;
                if *left == 0 && to != base {
                    summaries[to as usize] = None;
                }
            }
        }
        summaries[base as usize].take().map(|s| *s)
    }

    /// Chains reachable from `base`, each after every chain it calls. A loop (the
    /// kernel refuses those) is cut where it closes.
    fn callees_first(&mut self, t: &Table, base: u32) -> Vec<u32> {
        let n = t.chains.len();
        let mut state = vec![0u8; n];
        let mut order = Vec::new();
        let mut stack: Vec<(u32, usize)> = vec![(base, 0)];
        state[base as usize] = 1;
        while let Some(&mut (c, ref mut i)) = stack.last_mut() {
            let rules = &t.chains[c as usize].rules;
            let mut next = None;
            while *i < rules.len() {
                let r = &rules[*i];
                *i += 1;
                if let Target::Jump(to) | Target::Goto(to) = r.target {
                    match state.get(to as usize) {
                        Some(0) => {
                            next = Some(to);
                            break;
                        }
                        Some(1) => self.uncertain.push(Uncertainty {
                            span: r.span,
                            what: "jump closes a loop between chains; the loop is cut here".into(),
                        }),
                        _ => {}
                    }
                }
            }
            match next {
                Some(to) => {
                    state[to as usize] = 1;
                    stack.push((to, 0));
                }
                None => {
                    state[c as usize] = 2;
                    order.push(c);
                    stack.pop();
                }
            }
        }
        order
    }

    /// Whether a rule's matches hold for this class: a new SYN nat rewrote is in
    /// state DNAT, one it did not is not.
    fn applies(&self, rule: &Rule, kind: Packet) -> Applies {
        match rule.state.and_then(|s| s.dnat_new) {
            Some(a) if self.rewritten && kind == Packet::New => {
                let mut r = *rule;
                r.applies[Packet::New as usize] = a;
                self.class.applies(&r, kind)
            }
            _ => self.class.applies(rule, kind),
        }
    }

    /// The key ports and conditions of a rule for one kind of packet, split where
    /// earlier stages changed what the rule sees (untracked ports, marks).
    fn parts(&self, rule: &Rule, kind: Packet) -> Vec<(PortSet, Applies)> {
        if matches!(rule.proto, Proto::Udp | Proto::Other) {
            return Vec::new();
        }
        let key = match kind {
            Packet::Reply => rule.key_out,
            _ => rule.key_in,
        };
        if key == PortRef::Empty {
            return Vec::new();
        }
        let key = self.rs.ports(key);
        let mut parts = Vec::with_capacity(1);
        if kind.inbound_tcp_stream() && rule.state.is_some() && !self.ctx.untracked.is_empty() {
            let u = key.intersection(&self.ctx.untracked);
            parts.push((key.difference(&u), self.applies(rule, kind)));
            parts.push((u, self.class.applies(rule, Packet::Untracked)));
        } else {
            parts.push((key, self.applies(rule, kind)));
        }
        if let (Some(value), true) = (rule.mark, kind != Packet::Reply) {
            let (yes, unsure) = self.ctx.mark_of(value);
            parts = parts
                .into_iter()
                .flat_map(|(k, a)| {
                    let sure = k.intersection(&yes).difference(&unsure);
                    let maybe = k.intersection(&unsure);
                    [(sure, a), (maybe, a.and(Applies::ToSome))]
                })
                .collect();
        }
        parts.retain(|(k, a)| !k.is_empty() && *a != Applies::Never);
        parts
    }

    /// Summarise one chain; callees are already summarised. The rules that decided,
    /// jumped or had a side effect come back too when `keep_hits` (a stage's
    /// decisions need them; a summary does not).
    fn walk(
        &mut self,
        t: &Table,
        chain: u32,
        kind: Packet,
        nat: bool,
        summaries: &[Option<Box<Summary>>],
        keep_hits: bool,
    ) -> (Summary, Vec<Hit>) {
        let mut live_public = Live::all();
        let mut live_some = Live::all();
        let mut public = OutcomesBuilder::default();
        let mut some = OutcomesBuilder::default();
        let mut hits = Vec::new();
        let mut some_openers: HashSet<PortSet, BuildHasherDefault<Fnv>> = HashSet::default();
        let mut last_some_opener: Option<PortSet> = None;
        let c = &t.chains[chain as usize];
        for (i, rule) in c.rules.iter().enumerate() {
            if live_some.is_empty() {
                break;
            }
            if self.applies(rule, kind) == Applies::Never
                && (!kind.inbound_tcp_stream()
                    || self.class.applies(rule, Packet::Untracked) == Applies::Never)
            {
                continue;
            }
            let action = self.action(rule, nat, summaries);
            if matches!(action, Action::Continue) {
                continue;
            }
            // A conditional drop (a ban list, a rate limit) closes nothing for the public
            // and no source's accept depends on it: nothing to compute.
            let public_somewhere = self.applies(rule, kind).public()
                || (kind.inbound_tcp_stream()
                    && rule.state.is_some()
                    && self.class.applies(rule, Packet::Untracked).public());
            if matches!(action, Action::Outcome(DROP)) && !public_somewhere {
                continue;
            }
            for (key, a) in self.parts(rule, kind) {
                let hit_public = if a.public() {
                    live_public.hit(&key)
                } else {
                    PortSet::empty()
                };
                let hit_some = live_some.hit(&key);
                if hit_public.is_empty() && hit_some.is_empty() {
                    continue;
                }
                match &action {
                    Action::Outcome(o) => {
                        public.add(*o, &hit_public);
                        live_public.remove(&hit_public);
                        // Where some source *may* be dropped is never asked for.
                        if *o != DROP {
                            some.add(*o, &hit_some);
                        }
                        if a == Applies::ToAll {
                            live_some.remove(&hit_some);
                        }
                    }
                    Action::Call { callee, goto } => {
                        let Some(s) = summaries[*callee as usize].as_ref() else {
                            continue;
                        };
                        for (o, ports) in &s.public.by {
                            if *o == RETURN && !goto {
                                continue;
                            }
                            let p = meet(&hit_public, ports);
                            live_public.remove(&p);
                            public.add(*o, &p);
                        }
                        for (o, ports) in &s.some.by {
                            if (*o == RETURN && !goto) || *o == DROP {
                                continue;
                            }
                            some.add(*o, &meet(&hit_some, ports));
                        }
                        // Some source may still come back from the callee on its RETURN ports.
                        if a == Applies::ToAll {
                            if *goto {
                                live_some.remove(&hit_some);
                            } else {
                                live_some.remove(&hit_some.difference(&s.some.get(RETURN)));
                            }
                        }
                    }
                    Action::Effect | Action::Continue => {}
                }
                if !keep_hits {
                    continue;
                }
                let record = match &action {
                    // An allow-list of a million sources on the same ports: the first
                    // rule stands for the others (each opens the same ports to some).
                    Action::Outcome(ACCEPT) if !a.public() => {
                        last_some_opener.as_ref() != Some(&hit_some)
                            && some_openers.insert(hit_some.clone())
                    }
                    Action::Outcome(_) => a.public(),
                    Action::Call { .. } | Action::Effect => true,
                    Action::Continue => false,
                };
                if matches!(action, Action::Outcome(ACCEPT)) && !a.public() {
                    last_some_opener = Some(hit_some.clone());
                }
                if record {
                    hits.push(Hit {
                        rule: i as u32,
                        public: hit_public,
                        some: hit_some,
                    });
                }
            }
        }
        public.add(RETURN, &live_public.to_portset());
        some.add(RETURN, &live_some.to_portset());
        let summary = Summary {
            public: public.finish(),
            some: some.finish(),
        };
        (summary, hits)
    }

    fn action(&mut self, rule: &Rule, nat: bool, summaries: &[Option<Box<Summary>>]) -> Action {
        match rule.target {
            Target::Accept => Action::Outcome(ACCEPT),
            Target::Drop | Target::Reject => Action::Outcome(DROP),
            Target::Return => Action::Outcome(RETURN),
            Target::Jump(c) | Target::Goto(c) => {
                if summaries.get(c as usize).is_some_and(Option::is_some) {
                    Action::Call {
                        callee: c,
                        goto: matches!(rule.target, Target::Goto(_)),
                    }
                } else {
                    Action::Continue
                }
            }
            Target::CtHelper { .. } | Target::NoTrack | Target::SetMark(_) => Action::Effect,
            Target::Continue => Action::Continue,
            Target::Redirect(_) | Target::Dnat { .. } if nat => {
                let id = self.nat_actions.len() as u32 + NAT_BASE;
                self.nat_actions.push((rule.target, rule.span));
                Action::Outcome(id)
            }
            Target::NatOther if nat => Action::Outcome(ACCEPT),
            Target::Redirect(_) | Target::Dnat { .. } | Target::NatOther => Action::Continue,
            Target::Opaque => {
                self.uncertain.push(Uncertainty {
                    span: rule.span,
                    what: "target hands packets to user space or another path; treated as dropping them for the public".into(),
                });
                Action::Outcome(DROP)
            }
        }
    }

    /// What a stage lets through, with the base chain's policy.
    fn passed(&self, b: &Base, stage: Option<&Stage>) -> Passed {
        let Some(stage) = stage else {
            return Passed {
                public: PortSet::all(),
                some: PortSet::all(),
            };
        };
        let policy = self.policy(b);
        let s = &stage.summary;
        let with_policy = |o: &Outcomes| {
            let acc = o.get(ACCEPT);
            match policy {
                Policy::Accept => acc.union(&o.get(RETURN)),
                Policy::Drop => acc,
            }
        };
        Passed {
            public: with_policy(&s.public),
            some: with_policy(&s.some),
        }
    }

    fn policy(&self, b: &Base) -> Policy {
        self.rs
            .chain(b.table, b.chain)
            .map_or(Policy::Accept, |c| c.policy)
    }

    /// Decisions of one stage: drops (and, for filter, accepts and the policy),
    /// restricted to ports still alive when the stage is reached.
    fn stage_drops(
        &self,
        order: u64,
        b: &Base,
        stage: Option<&Stage>,
        alive: &PortSet,
        accepts_final: Option<&PortSet>,
        out: &mut Vec<(u64, Decision)>,
    ) {
        let Some(stage) = stage else { return };
        let key = |pos: u32| (order << 32) | u64::from(pos);
        let Some(t) = self.rs.tables.get(b.table) else {
            return;
        };
        for &c in &stage.order {
            let ch = &t.chains[c as usize];
            for h in &stage.hits[c as usize] {
                let Some(rule) = ch.rules.get(h.rule as usize) else {
                    continue;
                };
                let verdict = match rule.target {
                    Target::Accept => Verdict::Accept,
                    Target::Drop => Verdict::Drop,
                    Target::Reject => Verdict::Reject,
                    _ => continue,
                };
                if verdict == Verdict::Accept && accepts_final.is_none() {
                    continue;
                }
                let mut ports = meet(&meet(&h.public, &stage.entry_public[c as usize]), alive);
                if let Some(keep) = accepts_final.filter(|_| verdict == Verdict::Accept) {
                    ports = meet(&ports, keep);
                }
                let rule_ports = self.rs.ports(rule.key_in);
                if !ports.is_empty() {
                    out.push((
                        key(rule.span.start),
                        Decision {
                            verdict,
                            scope: Scope::All,
                            ports: ports.clone(),
                            rule_ports: rule_ports.clone(),
                            span: Some(rule.span),
                            is_policy: false,
                            later_packets: false,
                        },
                    ));
                }
                if verdict == Verdict::Accept {
                    let some = meet(&h.some, &stage.entry_some[c as usize]).difference(&ports);
                    if !some.is_empty() && !self.class.applies(rule, Packet::New).public() {
                        out.push((
                            key(rule.span.start),
                            Decision {
                                verdict,
                                scope: Scope::Some,
                                ports: some,
                                rule_ports,
                                span: Some(rule.span),
                                is_policy: false,
                                later_packets: false,
                            },
                        ));
                    }
                }
            }
        }
        // The policy decides what reaches the end of the base chain.
        let chain_ref = t.chains.get(b.chain as usize);
        let policy = self.policy(b);
        let returned = stage.summary.public.get(RETURN).intersection(alive);
        let show = accepts_final.is_some() || policy == Policy::Drop;
        if show {
            let mut ports = returned;
            if let (Policy::Accept, Some(keep)) = (policy, accepts_final) {
                ports = ports.intersection(keep);
            }
            out.push((
                key(u32::MAX),
                Decision {
                    verdict: match policy {
                        Policy::Accept => Verdict::Accept,
                        Policy::Drop => Verdict::Drop,
                    },
                    scope: Scope::All,
                    ports,
                    rule_ports: PortSet::all(),
                    span: chain_ref.and_then(|c| c.policy_span),
                    is_policy: true,
                    later_packets: false,
                },
            ));
        }
    }

    /// NOTRACK, marks: what raw and mangle set for later stages.
    fn collect_side_effects(&mut self, b: &Base, stage: &Option<Stage>) {
        let Some(stage) = stage else { return };
        let Some(t) = self.rs.tables.get(b.table) else {
            return;
        };
        for &c in &stage.order {
            for h in &stage.hits[c as usize] {
                let Some(rule) = t.chains[c as usize].rules.get(h.rule as usize) else {
                    continue;
                };
                let public = h.public.intersection(&stage.entry_public[c as usize]);
                let some = h.some.intersection(&stage.entry_some[c as usize]);
                match rule.target {
                    Target::NoTrack => {
                        self.ctx.untracked = self.ctx.untracked.union(&public);
                        if !subset(&some, &public) {
                            self.uncertain.push(Uncertainty {
                                span: rule.span,
                                what:
                                    "NOTRACK applies to some sources only; the others are tracked"
                                        .into(),
                            });
                        }
                    }
                    Target::SetMark(v) => {
                        for (ports, _) in &mut self.ctx.marks {
                            *ports = ports.difference(&public);
                        }
                        self.ctx.marks.push((public.clone(), v));
                        self.ctx.marks_unsure =
                            self.ctx.marks_unsure.union(&some.difference(&public));
                    }
                    _ => {}
                }
            }
        }
    }

    /// FTP helper assignments (`-j CT --helper ftp`) on the way in, and the
    /// control ports they cover; one before nat sees the port the client
    /// connected to, which nat may move to the server's.
    fn ftp_helpers(
        &self,
        pre: &[(&Base, &Option<Stage>)],
        input: &[(&Base, &Option<Stage>)],
        nat: &NatMap,
    ) -> Vec<FtpHelper> {
        let mut out = Vec::new();
        let before_nat = pre.len();
        for (k, (b, stage)) in pre.iter().chain(input).enumerate() {
            let (Some(stage), Some(t)) = (stage, self.rs.tables.get(b.table)) else {
                continue;
            };
            for &c in &stage.order {
                for h in &stage.hits[c as usize] {
                    let Some(rule) = t.chains[c as usize].rules.get(h.rule as usize) else {
                        continue;
                    };
                    if rule.target == (Target::CtHelper { ftp: true }) {
                        let ports = h
                            .some
                            .intersection(&stage.entry_some[c as usize])
                            .intersection(&PortSet::connectable());
                        if ports.is_empty() {
                            continue;
                        }
                        let mut helper = FtpHelper::on(ports, rule.span);
                        if k < before_nat {
                            (helper.serves, helper.via) = nat.image(&helper.ports);
                        }
                        out.push(helper);
                    }
                }
            }
        }
        out
    }

    /// RELATED data connections: which ports they pass on, and the accept rules of
    /// the main filter chain that match RELATED explicitly and are reached.
    fn related(&mut self, path: &Path) -> (PortSet, Vec<Span>) {
        let mut alive = PortSet::all();
        let mut spans = Vec::new();
        for b in path.pre.iter().chain(&path.input) {
            let Some(stage) = self.stage(b, Packet::Related) else {
                continue;
            };
            alive = alive.intersection(&self.passed(b, Some(&stage)).public);
            if Some(*b) == path.main {
                spans = self.related_accepts(b, &stage);
            }
        }
        spans.sort();
        (alive, spans)
    }

    fn related_accepts(&self, b: &Base, stage: &Stage) -> Vec<Span> {
        let mut spans = Vec::new();
        let Some(t) = self.rs.tables.get(b.table) else {
            return spans;
        };
        for &c in &stage.order {
            for h in &stage.hits[c as usize] {
                let Some(rule) = t.chains[c as usize].rules.get(h.rule as usize) else {
                    continue;
                };
                let names_related = rule.state.is_some_and(|s| s.related)
                    || (self.class.applies(rule, Packet::Related) != Applies::Never
                        && self.class.applies(rule, Packet::New) == Applies::Never
                        && rule.state.is_none());
                let reached = !h
                    .public
                    .intersection(&stage.entry_public[c as usize])
                    .is_empty();
                if rule.target == Target::Accept && names_related && reached {
                    spans.push(rule.span);
                }
            }
        }
        spans
    }

    /// nat PREROUTING as a map from the port a client connects to, to the port INPUT sees.
    fn nat_map(&mut self, path: &Path) -> NatMap {
        let Some(summary) = path.nat.and_then(|b| self.summarise(b, Packet::New)) else {
            return NatMap::identity();
        };
        let mut map = NatMap::identity();
        let mut far = FarDnats::default();
        let mut far_maybe: Vec<(u16, u16)> = Vec::new();
        let mapped = |o: Outcomes| o.by.into_iter().filter(|(o, _)| *o >= NAT_BASE);
        let mapped_public: Vec<(u32, PortSet)> = mapped(summary.public).collect();
        let mapped_some: Vec<(u32, PortSet)> = mapped(summary.some).collect();
        for (o, ports) in mapped_public {
            let Some(&(target, span)) = self.nat_actions.get((o - NAT_BASE) as usize) else {
                continue;
            };
            let to = self.nat_target(target, span, &mut far);
            map.identity = map.identity.difference(&ports);
            if matches!(to, MapTo::Elsewhere) {
                map.elsewhere.push((ports.clone(), span));
            }
            map.mapped.push((ports, to));
            map.mapped_by.push(span);
        }
        for (o, ports) in mapped_some {
            let Some(&(target, span)) = self.nat_actions.get((o - NAT_BASE) as usize) else {
                continue;
            };
            // Only ports the public keeps unmapped are "maybe" mapped.
            let ports = ports.intersection(&map.identity);
            if !ports.is_empty() {
                match self.nat_target(target, span, &mut far) {
                    // Every such target counts alike (the others keep their port):
                    // one entry for them all, not one per kube-proxy endpoint.
                    MapTo::Elsewhere => far_maybe.extend_from_slice(ports.ranges()),
                    to => map.maybe.push((ports, to)),
                }
            }
        }
        if !far_maybe.is_empty() {
            map.maybe
                .push((PortSet::from_ranges(far_maybe), MapTo::Elsewhere));
        }
        far.record(&mut self.uncertain);
        map
    }

    fn nat_target(&mut self, target: Target, span: Span, far: &mut FarDnats) -> MapTo {
        match target {
            Target::Redirect(None) => MapTo::Same,
            Target::Redirect(Some((lo, hi))) => MapTo::Ports(lo, hi),
            Target::Dnat {
                addr: DnatAddr::Kept,
                ports,
            } => ports.map_or(MapTo::Same, |(lo, hi)| MapTo::Ports(lo, hi)),
            Target::Dnat { addr, ports } => {
                far.add(addr, ports, span);
                MapTo::Elsewhere
            }
            _ => MapTo::Same,
        }
    }
}

/// DNATs to an address whose being this host is not known, one entry per target
/// port: a kube-proxy dump DNATs each of its 285,000 `KUBE-SEP-*` chains to its own
/// pod, and one uncertainty per port (naming the first rule and how many more)
/// says the same as one per rule.
#[derive(Default)]
struct FarDnats {
    by_ports: Vec<FarDnat>,
    index: HashMap<Option<(u16, u16)>, usize, BuildHasherDefault<Fnv>>,
}

struct FarDnat {
    ports: Option<(u16, u16)>,
    first: Span,
    addr: DnatAddr,
    /// Every rule's span, once sorted and deduplicated (a rule reached twice counts once).
    rules: Vec<Span>,
}

impl FarDnats {
    fn add(&mut self, addr: DnatAddr, ports: Option<(u16, u16)>, span: Span) {
        let next = self.by_ports.len();
        let at = *self.index.entry(ports).or_insert(next);
        if at == next {
            self.by_ports.push(FarDnat {
                ports,
                first: span,
                addr,
                rules: Vec::new(),
            });
        }
        self.by_ports[at].rules.push(span);
    }

    fn record(self, uncertain: &mut Vec<Uncertainty>) {
        for mut f in self.by_ports {
            f.rules.sort_unstable();
            f.rules.dedup();
            let host = match f.addr {
                DnatAddr::V4(a) => format!("{}.{}.{}.{}", a[0], a[1], a[2], a[3]),
                _ => "an address not read here".to_owned(),
            };
            let port = match f.ports {
                Some((lo, hi)) if lo == hi => format!(":{lo}"),
                Some((lo, hi)) => format!(":{lo}-{hi}"),
                None => String::new(),
            };
            let what = match f.rules.len().saturating_sub(1) {
                0 => format!(
                    "DNAT to {host}{port}: whether {host} is this host is not known; treated as forwarded elsewhere"
                ),
                n => {
                    let to = match f.ports {
                        Some(_) => format!("port {} of an address each", &port[1..]),
                        None => "an address each, port unchanged".to_owned(),
                    };
                    format!(
                        "DNAT to {host}{port}, and {n} more DNAT rules to {to}: whether those addresses are this host is not known; treated as forwarded elsewhere"
                    )
                }
            };
            uncertain.push(Uncertainty {
                span: f.first,
                what,
            });
        }
    }
}

/// The base chains a connection crosses, in order.
struct Path<'r> {
    /// Prerouting filter chains before destination NAT.
    pre: Vec<&'r Base>,
    /// The destination NAT chain on prerouting.
    nat: Option<&'r Base>,
    /// Prerouting chains after NAT, then input.
    input: Vec<&'r Base>,
    /// The server's reply: output, then postrouting.
    reply: Vec<&'r Base>,
    /// The chain whose policy is the firewall's default and whose accepts are listed
    /// as decisions (iptables `filter INPUT`).
    main: Option<&'r Base>,
}

impl<'r> Path<'r> {
    fn of(rs: &'r Ruleset<'r>) -> Path<'r> {
        let filters = |hook| {
            rs.bases_on(hook)
                .into_iter()
                .filter(|b| b.kind == BaseKind::Filter)
        };
        let (pre, after_nat): (Vec<&Base>, Vec<&Base>) =
            filters(Hook::Prerouting).partition(|b| b.priority < NAT_DST_PRIORITY);
        let input: Vec<&Base> = after_nat.into_iter().chain(filters(Hook::Input)).collect();
        let main = main_filter(&input);
        Path {
            pre,
            nat: rs
                .bases_on(Hook::Prerouting)
                .into_iter()
                .find(|b| b.kind == BaseKind::Nat),
            input,
            reply: filters(Hook::Output)
                .chain(filters(Hook::Postrouting))
                .collect(),
            main,
        }
    }
}

enum Action {
    Outcome(u32),
    Call {
        callee: u32,
        goto: bool,
    },
    /// A non-terminating target whose effect later stages read.
    Effect,
    Continue,
}

#[derive(Clone, Copy, Debug)]
enum MapTo {
    /// The port is unchanged (REDIRECT without `--to-ports`).
    Same,
    /// One of these ports, chosen by the kernel.
    Ports(u16, u16),
    /// Another host: the connection never reaches INPUT.
    Elsewhere,
}

/// nat PREROUTING for the public, and what it may do for some sources.
struct NatMap {
    identity: PortSet,
    mapped: Vec<(PortSet, MapTo)>,
    /// The rule behind each entry of `mapped`.
    mapped_by: Vec<Span>,
    maybe: Vec<(PortSet, MapTo)>,
    /// Ports the public gets sent to another host, and the rule that sends them.
    elsewhere: Vec<(PortSet, Span)>,
}

impl NatMap {
    fn identity() -> NatMap {
        NatMap {
            identity: PortSet::all(),
            mapped: Vec::new(),
            mapped_by: Vec::new(),
            maybe: Vec::new(),
            elsewhere: Vec::new(),
        }
    }

    fn rewrites(&self) -> bool {
        !self.mapped.is_empty() || !self.maybe.is_empty()
    }

    /// Original ports whose connection completes when INPUT-side `open` ports do
    /// (`rewritten`: those open to a connection nat rewrote). A port already in the
    /// target range is kept, and a SYN nat changed nothing of is not in state DNAT
    /// (measured: REDIRECT 7000 to 7000 is not `--ctstate DNAT`).
    fn compose_public(&self, open: &PortSet, rewritten: &PortSet) -> PortSet {
        let mut out = self.identity.intersection(open);
        for (ports, to) in &self.mapped {
            let ok = match *to {
                MapTo::Same => ports.intersection(open),
                MapTo::Ports(lo, hi) => {
                    let range = PortSet::range(lo, hi);
                    let kept = ports.intersection(&range).intersection(open);
                    if subset(&range, rewritten) {
                        kept.union(&ports.difference(&range))
                    } else {
                        kept
                    }
                }
                MapTo::Elsewhere => PortSet::empty(),
            };
            out = out.union(&ok);
        }
        out
    }

    fn compose_some(&self, open: &PortSet, rewritten: &PortSet) -> PortSet {
        let mut out = self.identity.intersection(open);
        for (ports, to) in self.mapped.iter().chain(&self.maybe) {
            let ok = match *to {
                MapTo::Same => ports.intersection(open),
                MapTo::Ports(lo, hi) => {
                    let range = PortSet::range(lo, hi);
                    let kept = ports.intersection(&range).intersection(open);
                    if range.intersects(rewritten) {
                        kept.union(&ports.difference(&range))
                    } else {
                        kept
                    }
                }
                MapTo::Elsewhere => PortSet::empty(),
            };
            out = out.union(&ok);
        }
        // Ports only some sources get mapped: the others keep their port.
        for (ports, _) in &self.maybe {
            out = out.union(&ports.intersection(open));
        }
        out
    }

    /// The INPUT-side ports the original `ports` become, and the rule that
    /// rewrites them when one does.
    fn image(&self, ports: &PortSet) -> (PortSet, Option<Span>) {
        let mut out = self.identity.intersection(ports);
        let mut by = None;
        for ((dom, to), span) in self.mapped.iter().zip(&self.mapped_by) {
            if !dom.intersects(ports) {
                continue;
            }
            match *to {
                MapTo::Same => out = out.union(&dom.intersection(ports)),
                MapTo::Ports(lo, hi) => {
                    out = out.union(&PortSet::range(lo, hi));
                    by = by.or(Some(*span));
                }
                MapTo::Elsewhere => {}
            }
        }
        (out, by)
    }

    /// Ports the public gets moved to other ports of this host.
    fn redirects(&self) -> Vec<crate::facts::Redirect> {
        self.mapped
            .iter()
            .zip(&self.mapped_by)
            .filter_map(|((from, to), span)| match *to {
                MapTo::Ports(lo, hi) => Some(crate::facts::Redirect {
                    from: from.intersection(&PortSet::connectable()),
                    to: PortSet::range(lo, hi),
                    span: *span,
                }),
                _ => None,
            })
            .filter(|r| !r.from.is_empty() && r.from != r.to)
            .collect()
    }

    /// Original ports that reach any of the INPUT-side `ports`.
    fn preimage(&self, ports: &PortSet) -> PortSet {
        if self.mapped.is_empty() {
            return meet(&self.identity, ports);
        }
        let mut out = meet(&self.identity, ports);
        for (dom, to) in &self.mapped {
            let hit = match *to {
                MapTo::Same => dom.intersection(ports),
                MapTo::Ports(lo, hi) if PortSet::range(lo, hi).intersects(ports) => dom.clone(),
                _ => PortSet::empty(),
            };
            out = out.union(&hit);
        }
        out
    }
}
