//! The evaluator: which inbound TCP ports a new connection completes on.
//!
//! Never port by port. Each chain is summarised once, bottom-up, as sets of ports per
//! outcome (accept, drop, return, or a nat action), for two observers at once:
//! the *public* (a source that no address, interface or rate condition singles out)
//! and *some* source (any source, any rate state). A rule costs a few interval-set
//! operations. Base chains are then composed in packet order: raw, mangle and nat
//! PREROUTING, mangle/filter/security INPUT, and the reply's OUTPUT path.

use super::Fnv;
use super::{Applies, Packet, Policy, PortRef, Proto, Rule, Ruleset, Table, TableKind, Target};
use crate::facts::{
    Decision, DefaultPolicy, Firewall, FtpHelper, Located, Scope, Uncertainty, Verdict,
};
use crate::portset::PortSet;
use crate::source::{SourceFile, Span};
use std::collections::{BTreeMap, HashSet};
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
/// so a long chain never rebuilds a large set per rule.
#[derive(Default)]
struct OutcomesBuilder {
    by: Vec<(u32, Vec<(u16, u16)>)>,
}

impl OutcomesBuilder {
    fn add(&mut self, outcome: u32, ports: &PortSet) {
        if ports.is_empty() {
            return;
        }
        let i = match self.by.iter().position(|(o, _)| *o == outcome) {
            Some(i) => i,
            None => {
                self.by.push((outcome, Vec::new()));
                self.by.len() - 1
            }
        };
        let pieces = &mut self.by[i].1;
        // Conditional rules hit the same ports again and again: keep one copy.
        if pieces.len() >= ports.ranges().len()
            && pieces[pieces.len() - ports.ranges().len()..] == *ports.ranges()
        {
            return;
        }
        pieces.extend_from_slice(ports.ranges());
    }

    fn finish(self) -> Outcomes {
        Outcomes {
            by: self
                .by
                .into_iter()
                .map(|(o, pieces)| (o, PortSet::from_ranges(pieces)))
                .collect(),
        }
    }
}

/// Ports still undecided while a chain is walked, as a map from range start to range
/// end: taking a few ports out costs O(log n) however fragmented the set becomes.
struct Live {
    map: BTreeMap<u16, u16>,
}

impl Live {
    fn all() -> Live {
        Live {
            map: BTreeMap::from([(0, 65535)]),
        }
    }

    fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Ranges of the set overlapping `lo..=hi`.
    fn overlapping(&self, lo: u16, hi: u16) -> Vec<(u16, u16)> {
        let mut out = Vec::new();
        if let Some((&s, &e)) = self.map.range(..lo).next_back() {
            if e >= lo {
                out.push((s, e));
            }
        }
        out.extend(self.map.range(lo..=hi).map(|(&s, &e)| (s, e)));
        out
    }

    /// `self ∩ key`, without changing the set.
    fn hit(&self, key: &PortSet) -> PortSet {
        let mut pieces = Vec::new();
        for &(lo, hi) in key.ranges() {
            for (s, e) in self.overlapping(lo, hi) {
                pieces.push((s.max(lo), e.min(hi)));
            }
        }
        PortSet::from_ranges(pieces)
    }

    /// Take `ports` out of the set.
    fn remove(&mut self, ports: &PortSet) {
        for &(lo, hi) in ports.ranges() {
            for (s, e) in self.overlapping(lo, hi) {
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
    rs: &'r Ruleset,
    source: &'r SourceFile,
    ctx: Context,
    nat_actions: Vec<(Target, Span)>,
    uncertain: Vec<Uncertainty>,
}

/// Inbound TCP on IPv4 as the ruleset decides it.
pub fn firewall_facts(rs: &Ruleset, source: &SourceFile) -> Firewall {
    let mut ev = Eval {
        rs,
        source,
        ctx: Context::default(),
        nat_actions: Vec::new(),
        uncertain: Vec::new(),
    };
    ev.run()
}

/// A stage's pass sets, with the policy applied.
struct Passed {
    public: PortSet,
    some: PortSet,
}

impl<'r> Eval<'r> {
    fn run(&mut self) -> Firewall {
        let all = PortSet::all();
        // raw PREROUTING: NOTRACK, CT helpers, drops.
        let raw = self.stage(TableKind::Raw, "PREROUTING", Packet::New);
        self.collect_side_effects(TableKind::Raw, &raw);
        let mangle_pre = self.stage(TableKind::Mangle, "PREROUTING", Packet::New);
        self.collect_side_effects(TableKind::Mangle, &mangle_pre);
        let mangle_in = self.stage(TableKind::Mangle, "INPUT", Packet::New);
        self.collect_side_effects(TableKind::Mangle, &mangle_in);

        let pre_stages = [
            (TableKind::Raw, "PREROUTING", &raw),
            (TableKind::Mangle, "PREROUTING", &mangle_pre),
        ];
        let nat = self.nat_map();
        let filter = self.stage(TableKind::Filter, "INPUT", Packet::New);
        let security = self.stage(TableKind::Security, "INPUT", Packet::New);
        let in_stages = [
            (TableKind::Mangle, "INPUT", &mangle_in),
            (TableKind::Filter, "INPUT", &filter),
            (TableKind::Security, "INPUT", &security),
        ];
        let reply: Vec<(TableKind, &str, Option<Stage>)> = [
            (TableKind::Raw, "OUTPUT"),
            (TableKind::Mangle, "OUTPUT"),
            (TableKind::Filter, "OUTPUT"),
            (TableKind::Security, "OUTPUT"),
            (TableKind::Mangle, "POSTROUTING"),
        ]
        .into_iter()
        .map(|(t, c)| (t, c, self.stage(t, c, Packet::Reply)))
        .collect();

        // Public and some-source pass sets, stage by stage.
        let mut alive_pre = (all.clone(), all.clone());
        let mut decisions: Vec<(u64, Decision)> = Vec::new();
        for (k, (t, c, st)) in pre_stages.iter().enumerate() {
            let passed = self.passed(*t, c, st.as_ref());
            self.stage_drops(
                k as u64,
                *t,
                c,
                st.as_ref(),
                &alive_pre.0,
                None,
                &mut decisions,
            );
            alive_pre.0 = alive_pre.0.intersection(&passed.public);
            alive_pre.1 = alive_pre.1.intersection(&passed.some);
        }
        // INPUT-side ports: what the stages after nat let through.
        let mut alive_in = (all.clone(), all.clone());
        let mut input_pass = Vec::new();
        for (t, c, st) in &in_stages {
            let passed = self.passed(*t, c, st.as_ref());
            input_pass.push((alive_in.0.clone(), passed.public.clone()));
            alive_in.0 = alive_in.0.intersection(&passed.public);
            alive_in.1 = alive_in.1.intersection(&passed.some);
        }
        let after_input = alive_in.0.clone();
        let mut reply_before = Vec::new();
        for (t, c, st) in &reply {
            let passed = self.passed(*t, c, st.as_ref());
            reply_before.push(alive_in.0.clone());
            alive_in.0 = alive_in.0.intersection(&passed.public);
            alive_in.1 = alive_in.1.intersection(&passed.some);
        }
        let final_in_public = alive_in.0.clone();
        let open_public = alive_pre.0.intersection(&nat.compose_public(&alive_in.0));
        let open_some = alive_pre.1.intersection(&nat.compose_some(&alive_in.1));

        // Decisions after nat are in INPUT-side ports; map them back.
        let pre_alive_public = alive_pre.0.clone();
        for (i, (t, c, st)) in in_stages.iter().enumerate() {
            let before = &input_pass[i].0;
            let keep_accepts = (*t == TableKind::Filter).then_some(&final_in_public);
            let mut local = Vec::new();
            self.stage_drops(
                2 + i as u64,
                *t,
                c,
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
        for (i, (t, c, st)) in reply.iter().enumerate() {
            let mut local = Vec::new();
            self.stage_drops(
                5 + i as u64,
                *t,
                c,
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
        let _ = after_input;
        decisions.sort_by_key(|(k, _)| *k);

        let connectable = PortSet::connectable();
        let open_to_all = open_public.intersection(&connectable);
        let open_to_some = open_some
            .intersection(&connectable)
            .difference(&open_to_all);
        let (related_open, related_accepts) = self.related();
        let mut uncertain = std::mem::take(&mut self.uncertain);
        uncertain.extend(self.rs.unknowns.iter().map(|u| Uncertainty {
            span: u.span,
            what: u.what.clone(),
        }));
        Firewall {
            files: vec![self.source.id],
            default_policy: self.default_policy(),
            open_to_all,
            open_to_some,
            decisions: decisions.into_iter().map(|(_, d)| d).collect(),
            ftp_helpers: self.ftp_helpers(&raw),
            related_accepts: related_accepts.clone(),
            admits_related: !related_accepts.is_empty()
                || subset(&PortSet::range(1024, 65535), &related_open),
            active: None,
            uncertain,
        }
    }

    fn default_policy(&self) -> Located<DefaultPolicy> {
        match self
            .rs
            .table(TableKind::Filter)
            .and_then(|t| t.chain("INPUT"))
        {
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
    fn stage(&mut self, table: TableKind, chain: &str, kind: Packet) -> Option<Stage> {
        let t = self.rs.table(table)?;
        let base = t.find(chain)?;
        let order = self.callees_first(t, base);
        let n = t.chains.len();
        let mut summaries: Vec<Option<Summary>> = vec![None; n];
        let mut hits: Vec<Vec<Hit>> = vec![Vec::new(); n];
        for &c in &order {
            let (s, h) = self.walk(t, c, kind, &summaries);
            summaries[c as usize] = Some(s);
            hits[c as usize] = h;
        }
        let summary = summaries[base as usize].take().unwrap_or_default();
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
        if kind == Packet::New && rule.state.is_some() && !self.ctx.untracked.is_empty() {
            let u = key.intersection(&self.ctx.untracked);
            parts.push((key.difference(&u), rule.applies[Packet::New as usize]));
            parts.push((u, rule.applies[Packet::Untracked as usize]));
        } else {
            parts.push((key, rule.applies[kind as usize]));
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

    /// Summarise one chain; callees are already summarised.
    fn walk(
        &mut self,
        t: &Table,
        chain: u32,
        kind: Packet,
        summaries: &[Option<Summary>],
    ) -> (Summary, Vec<Hit>) {
        let mut live_public = Live::all();
        let mut live_some = Live::all();
        let mut public = OutcomesBuilder::default();
        let mut some = OutcomesBuilder::default();
        let mut hits = Vec::new();
        let mut some_openers: HashSet<PortSet, BuildHasherDefault<Fnv>> = HashSet::default();
        let mut last_some_opener: Option<PortSet> = None;
        let c = &t.chains[chain as usize];
        let nat = t.kind == TableKind::Nat;
        for (i, rule) in c.rules.iter().enumerate() {
            if live_some.is_empty() {
                break;
            }
            if rule.applies[kind as usize] == Applies::Never
                && (kind != Packet::New
                    || rule.applies[Packet::Untracked as usize] == Applies::Never)
            {
                continue;
            }
            let action = self.action(rule, nat, summaries);
            if matches!(action, Action::Continue) {
                continue;
            }
            // A conditional drop (a ban list, a rate limit) closes nothing for the public
            // and no source's accept depends on it: nothing to compute.
            let public_somewhere = rule.applies[kind as usize].public()
                || (kind == Packet::New
                    && rule.state.is_some()
                    && rule.applies[Packet::Untracked as usize].public());
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

    fn action(&mut self, rule: &Rule, nat: bool, summaries: &[Option<Summary>]) -> Action {
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
    fn passed(&self, table: TableKind, chain: &str, stage: Option<&Stage>) -> Passed {
        let Some(stage) = stage else {
            return Passed {
                public: PortSet::all(),
                some: PortSet::all(),
            };
        };
        let policy = self.policy(table, chain);
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

    fn policy(&self, table: TableKind, chain: &str) -> Policy {
        self.rs
            .table(table)
            .and_then(|t| t.chain(chain))
            .map_or(Policy::Accept, |c| c.policy)
    }

    /// Decisions of one stage: drops (and, for filter, accepts and the policy),
    /// restricted to ports still alive when the stage is reached.
    #[allow(clippy::too_many_arguments)]
    fn stage_drops(
        &self,
        order: u64,
        table: TableKind,
        chain: &str,
        stage: Option<&Stage>,
        alive: &PortSet,
        accepts_final: Option<&PortSet>,
        out: &mut Vec<(u64, Decision)>,
    ) {
        let Some(stage) = stage else { return };
        let key = |pos: u32| (order << 32) | u64::from(pos);
        let Some(t) = self.rs.table(table) else {
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
                        },
                    ));
                }
                if verdict == Verdict::Accept {
                    let some = meet(&h.some, &stage.entry_some[c as usize]).difference(&ports);
                    if !some.is_empty() && !rule.applies[0].public() {
                        out.push((
                            key(rule.span.start),
                            Decision {
                                verdict,
                                scope: Scope::Some,
                                ports: some,
                                rule_ports,
                                span: Some(rule.span),
                                is_policy: false,
                            },
                        ));
                    }
                }
            }
        }
        // The policy decides what reaches the end of the base chain.
        let chain_ref = t.chain(chain);
        let policy = self.policy(table, chain);
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
                },
            ));
        }
    }

    /// NOTRACK, marks: what raw and mangle set for later stages.
    fn collect_side_effects(&mut self, table: TableKind, stage: &Option<Stage>) {
        let Some(stage) = stage else { return };
        let Some(t) = self.rs.table(table) else {
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

    /// `-j CT --helper ftp` rules in raw PREROUTING and the control ports they cover.
    fn ftp_helpers(&self, raw: &Option<Stage>) -> Vec<FtpHelper> {
        let Some(stage) = raw else { return Vec::new() };
        let Some(t) = self.rs.table(TableKind::Raw) else {
            return Vec::new();
        };
        let mut out = Vec::new();
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
                    if !ports.is_empty() {
                        out.push(FtpHelper {
                            ports,
                            span: rule.span,
                        });
                    }
                }
            }
        }
        out
    }

    /// RELATED data connections: which ports they pass on, and the accept rules
    /// that match RELATED explicitly and are reached.
    fn related(&mut self) -> (PortSet, Vec<Span>) {
        let mut alive = PortSet::all();
        for (t, c) in [
            (TableKind::Raw, "PREROUTING"),
            (TableKind::Mangle, "PREROUTING"),
            (TableKind::Mangle, "INPUT"),
            (TableKind::Security, "INPUT"),
        ] {
            let st = self.stage(t, c, Packet::Related);
            alive = alive.intersection(&self.passed(t, c, st.as_ref()).public);
        }
        let Some(filter) = self.stage(TableKind::Filter, "INPUT", Packet::Related) else {
            return (alive, Vec::new());
        };
        let open = alive.intersection(
            &self
                .passed(TableKind::Filter, "INPUT", Some(&filter))
                .public,
        );
        let mut spans = Vec::new();
        if let Some(t) = self.rs.table(TableKind::Filter) {
            for &c in &filter.order {
                for h in &filter.hits[c as usize] {
                    let Some(rule) = t.chains[c as usize].rules.get(h.rule as usize) else {
                        continue;
                    };
                    let names_related = rule.state.is_some_and(|s| s.related)
                        || (rule.applies[Packet::Related as usize] != Applies::Never
                            && rule.applies[Packet::New as usize] == Applies::Never
                            && rule.state.is_none());
                    let reached = !h
                        .public
                        .intersection(&filter.entry_public[c as usize])
                        .is_empty();
                    if rule.target == Target::Accept && names_related && reached {
                        spans.push(rule.span);
                    }
                }
            }
        }
        spans.sort();
        (open, spans)
    }

    /// nat PREROUTING as a map from the port a client connects to, to the port INPUT sees.
    fn nat_map(&mut self) -> NatMap {
        let Some(stage) = self.stage(TableKind::Nat, "PREROUTING", Packet::New) else {
            return NatMap::identity();
        };
        let mut map = NatMap::identity();
        let mapped_public: Vec<(u32, PortSet)> = stage
            .summary
            .public
            .by
            .iter()
            .filter(|(o, _)| *o >= NAT_BASE)
            .cloned()
            .collect();
        let mapped_some: Vec<(u32, PortSet)> = stage
            .summary
            .some
            .by
            .iter()
            .filter(|(o, _)| *o >= NAT_BASE)
            .cloned()
            .collect();
        for (o, ports) in mapped_public {
            let Some(&(target, span)) = self.nat_actions.get((o - NAT_BASE) as usize) else {
                continue;
            };
            let to = self.nat_target(target, span);
            map.identity = map.identity.difference(&ports);
            map.mapped.push((ports, to));
        }
        for (o, ports) in mapped_some {
            let Some(&(target, span)) = self.nat_actions.get((o - NAT_BASE) as usize) else {
                continue;
            };
            // Only ports the public keeps unmapped are "maybe" mapped.
            let ports = ports.intersection(&map.identity);
            if !ports.is_empty() {
                let to = self.nat_target(target, span);
                map.maybe.push((ports, to));
            }
        }
        map
    }

    fn nat_target(&mut self, target: Target, span: Span) -> MapTo {
        match target {
            Target::Redirect(None) => MapTo::Same,
            Target::Redirect(Some((lo, hi))) => MapTo::Ports(lo, hi),
            Target::Dnat { addr: None, ports } => {
                ports.map_or(MapTo::Same, |(lo, hi)| MapTo::Ports(lo, hi))
            }
            Target::Dnat {
                addr: Some(a),
                ports,
            } => {
                let shown = match ports {
                    Some((lo, hi)) if lo == hi => {
                        format!("{}.{}.{}.{}:{lo}", a[0], a[1], a[2], a[3])
                    }
                    Some((lo, hi)) => format!("{}.{}.{}.{}:{lo}-{hi}", a[0], a[1], a[2], a[3]),
                    None => format!("{}.{}.{}.{}", a[0], a[1], a[2], a[3]),
                };
                self.uncertain.push(Uncertainty {
                    span,
                    what: format!(
                        "DNAT to {shown}: whether {}.{}.{}.{} is this host is not known; treated as forwarded elsewhere",
                        a[0], a[1], a[2], a[3]
                    ),
                });
                MapTo::Elsewhere
            }
            _ => MapTo::Same,
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
    maybe: Vec<(PortSet, MapTo)>,
}

impl NatMap {
    fn identity() -> NatMap {
        NatMap {
            identity: PortSet::all(),
            mapped: Vec::new(),
            maybe: Vec::new(),
        }
    }

    /// Original ports whose connection completes when INPUT-side `open` ports do.
    fn compose_public(&self, open: &PortSet) -> PortSet {
        let mut out = self.identity.intersection(open);
        for (ports, to) in &self.mapped {
            let ok = match *to {
                MapTo::Same => ports.intersection(open),
                MapTo::Ports(lo, hi) => {
                    if subset(&PortSet::range(lo, hi), open) {
                        ports.clone()
                    } else {
                        PortSet::empty()
                    }
                }
                MapTo::Elsewhere => PortSet::empty(),
            };
            out = out.union(&ok);
        }
        out
    }

    fn compose_some(&self, open: &PortSet) -> PortSet {
        let mut out = self.identity.intersection(open);
        for (ports, to) in self.mapped.iter().chain(&self.maybe) {
            let ok = match *to {
                MapTo::Same => ports.intersection(open),
                MapTo::Ports(lo, hi) => {
                    if PortSet::range(lo, hi).intersects(open) {
                        ports.clone()
                    } else {
                        PortSet::empty()
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

/// A rule that can never decide anything: earlier rules in its chain that match
/// every packet on those ports already decided them all.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shadowed {
    pub table: TableKind,
    pub chain: String,
    pub rule: Span,
    /// The destination ports the rule names (all already decided).
    pub ports: PortSet,
    /// `tcp` or `udp` when the rule's ports were decided within that protocol;
    /// `None` when an earlier rule decides every packet.
    pub protocol: Option<&'static str>,
    /// The earlier rules that decided them (at most three).
    pub by: Vec<Span>,
}

/// Rules shadowed by earlier unconditional rules of the same chain, per protocol.
pub fn shadowed_rules(rs: &Ruleset) -> Vec<Shadowed> {
    let mut out = Vec::new();
    for table in rs.all_tables() {
        for (_, chain) in table.live_chains() {
            shadowed_in_chain(rs, table, &chain.name, &chain.rules, &mut out);
        }
    }
    out
}

/// Ports decided so far in a chain, each piece with the rule that decided it.
#[derive(Default)]
struct Decided {
    pieces: BTreeMap<u16, (u16, Span)>,
}

impl Decided {
    /// The piece containing `port`.
    fn at(&self, port: u16) -> Option<(u16, u16, Span)> {
        let (&s, &(e, span)) = self.pieces.range(..=port).next_back()?;
        (e >= port).then_some((s, e, span))
    }

    /// Whether every port of `set` is decided; then the first rules that decided them.
    fn deciders(&self, set: &PortSet) -> Option<Vec<Span>> {
        let mut by = Vec::new();
        for &(lo, hi) in set.ranges() {
            let mut port = lo;
            loop {
                let (_, e, span) = self.at(port)?;
                if by.len() < 3 && !by.contains(&span) {
                    by.push(span);
                }
                if e >= hi {
                    break;
                }
                port = e + 1;
            }
        }
        Some(by)
    }

    /// Mark the undecided ports of `set` as decided by `span`.
    fn add(&mut self, set: &PortSet, span: Span) {
        for &(lo, hi) in set.ranges() {
            let mut port = lo;
            loop {
                let next = match self.at(port) {
                    Some((_, e, _)) => e,
                    None => {
                        let gap_end = self
                            .pieces
                            .range(port..=hi)
                            .next()
                            .map_or(hi, |(&s, _)| s - 1);
                        self.pieces.insert(port, (gap_end, span));
                        gap_end
                    }
                };
                if next >= hi {
                    break;
                }
                port = next + 1;
            }
        }
    }
}

fn shadowed_in_chain(
    rs: &Ruleset,
    table: &Table,
    name: &str,
    rules: &[Rule],
    out: &mut Vec<Shadowed>,
) {
    // What earlier plain, terminal rules decided: every protocol, TCP ports, UDP ports.
    let mut all_decided: Option<Span> = None;
    let mut tcp = Decided::default();
    let mut udp = Decided::default();
    for rule in rules {
        let dports = rs.ports(rule.key_in);
        let shadow = match (all_decided, rule.proto) {
            (Some(by), _) => Some((None, vec![by])),
            (None, Proto::Tcp) if !dports.is_empty() => {
                tcp.deciders(&dports).map(|by| (Some("tcp"), by))
            }
            (None, Proto::Udp) if !dports.is_empty() => {
                udp.deciders(&dports).map(|by| (Some("udp"), by))
            }
            _ => None,
        };
        if let Some((protocol, by)) = shadow {
            out.push(Shadowed {
                table: table.kind,
                chain: name.to_owned(),
                rule: rule.span,
                ports: if protocol.is_some() {
                    dports
                } else {
                    PortSet::all()
                },
                protocol,
                by,
            });
            continue;
        }
        let terminal = matches!(
            rule.target,
            Target::Accept | Target::Drop | Target::Reject | Target::Return
        );
        if !(terminal && rule.plain && rule.key_out == PortRef::ALL) {
            continue;
        }
        match rule.proto {
            Proto::Any if rule.key_in == PortRef::ALL => all_decided = Some(rule.span),
            Proto::Tcp => tcp.add(&dports, rule.span),
            Proto::Udp => udp.add(&dports, rule.span),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    //! Every measured example of domain.md "iptables" §2, with its exact open set.
    use crate::facts::Firewall;
    use crate::formats::iptables::{facts, parse_save};
    use crate::portset::PortSet;
    use crate::source::{FileId, SourceFile};

    fn firewall(text: &str) -> Firewall {
        let src = SourceFile::new(FileId(0), "rules.v4", text.as_bytes());
        let rs = parse_save(&src);
        assert!(rs.problems.is_empty(), "{:?}", rs.problems);
        facts(&rs, &src).expect("IPv4 facts")
    }

    /// A filter table with `policy` on INPUT and these rules.
    fn filter(policy: &str, rules: &str) -> String {
        format!(
            "*filter\n:INPUT {policy} [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n{rules}COMMIT\n"
        )
    }

    fn open_in(fw: &Firewall, lo: u16, hi: u16) -> String {
        fw.open_to_all
            .intersection(&PortSet::range(lo, hi))
            .to_string()
    }

    fn some_in(fw: &Firewall, lo: u16, hi: u16) -> String {
        fw.open_to_some
            .intersection(&PortSet::range(lo, hi))
            .to_string()
    }

    #[test]
    fn restrictive_output_closes_the_reply() {
        let fw = firewall(
            "*filter\n:INPUT ACCEPT [0:0]\n:OUTPUT DROP [0:0]\n-A OUTPUT -p tcp --sport 1800 -j ACCEPT\nCOMMIT\n",
        );
        assert_eq!(fw.open_to_all.to_string(), "1800");
        assert!(fw.open_to_some.is_empty());
        let p22 = PortSet::single(22);
        let closer = fw.blockers(&p22).next().expect("OUTPUT policy");
        assert!(closer.is_policy);
    }

    #[test]
    fn return_in_a_builtin_chain_applies_the_policy() {
        let fw = firewall(&filter(
            "ACCEPT",
            "-A INPUT -p tcp --dport 5 -j RETURN\n-A INPUT -p tcp --dport 1:10 -j DROP\n",
        ));
        assert_eq!(open_in(&fw, 1, 12), "5,11-12");
    }

    #[test]
    fn jump_return_and_implicit_return() {
        let fw = firewall(&filter(
            "DROP",
            ":A - [0:0]\n-A INPUT -p tcp -j A\n-A INPUT -p tcp --dport 100:199 -j ACCEPT\n\
             -A A -p tcp --dport 150 -j RETURN\n-A A -p tcp --dport 100:120 -j ACCEPT\n\
             -A A -p tcp --dport 130 -j DROP\n",
        ));
        assert_eq!(fw.open_to_all.to_string(), "100-129,131-199");
    }

    #[test]
    fn goto_returns_to_the_callers_caller() {
        let chains = |how: &str| {
            filter(
                "DROP",
                &format!(
                    ":A - [0:0]\n:B - [0:0]\n-A INPUT -p tcp -j A\n-A INPUT -p tcp --dport 200:299 -j ACCEPT\n\
                     -A A -p tcp --dport 250:299 {how} B\n-A A -p tcp --dport 250:299 -j DROP\n\
                     -A A -p tcp --dport 300 -j ACCEPT\n-A B -p tcp --dport 260 -j ACCEPT\n\
                     -A B -p tcp --dport 270 -j RETURN\n-A B -p tcp --dport 280 -j DROP\n"
                ),
            )
        };
        assert_eq!(
            firewall(&chains("-g")).open_to_all.to_string(),
            "200-279,281-300"
        );
        assert_eq!(
            firewall(&chains("-j")).open_to_all.to_string(),
            "200-249,260,300"
        );
    }

    #[test]
    fn a_conditional_drop_in_a_callee_leaves_the_port_to_others() {
        let fw = firewall(&filter(
            "DROP",
            ":BANS - [0:0]\n-A INPUT -p tcp -j BANS\n\
             -A INPUT -s 192.168.0.0/16 -p tcp --dport 7 -j ACCEPT\n-A INPUT -p tcp --dport 8 -j ACCEPT\n\
             -A BANS -s 10.0.0.0/8 -p tcp --dport 7:8 -j DROP\n-A BANS -j RETURN\n",
        ));
        assert_eq!(fw.open_to_all.to_string(), "8");
        assert_eq!(fw.open_to_some.to_string(), "7");
    }

    #[test]
    fn goto_from_a_builtin_chain_ends_in_its_policy() {
        let fw = firewall(&filter(
            "ACCEPT",
            ":C - [0:0]\n-A INPUT -p tcp --dport 400:499 -g C\n-A INPUT -p tcp --dport 1:2000 -j DROP\n\
             -A C -p tcp --dport 450 -j DROP\n",
        ));
        assert_eq!(open_in(&fw, 1, 2000), "400-449,451-499");
    }

    #[test]
    fn non_terminating_targets_fall_through() {
        let fw = firewall(&filter(
            "DROP",
            "-A INPUT -p tcp --dport 500 -j LOG\n-A INPUT -p tcp --dport 501\n\
             -A INPUT -p tcp --dport 502 -j MARK --set-mark 1\n\
             -A INPUT -p tcp --dport 503 -j CONNMARK --set-mark 1\n\
             -A INPUT -p tcp --dport 504 -j NFLOG\n-A INPUT -p tcp --dport 500:505 -j ACCEPT\n",
        ));
        assert_eq!(fw.open_to_all.to_string(), "500-505");
    }

    #[test]
    fn a_new_syn_is_in_state_new() {
        let one = |rule: &str| {
            let fw = firewall(&filter(
                "DROP",
                &format!("{rule}\n-A INPUT -p tcp --dport 9 -j ACCEPT\n"),
            ));
            open_in(&fw, 1, 8)
        };
        assert_eq!(
            one("-A INPUT -p tcp --dport 1 -m state --state NEW -j ACCEPT"),
            "1"
        );
        for st in [
            "ESTABLISHED",
            "RELATED",
            "INVALID",
            "UNTRACKED",
            "ESTABLISHED,RELATED",
        ] {
            assert_eq!(
                one(&format!(
                    "-A INPUT -p tcp --dport 1 -m conntrack --ctstate {st} -j ACCEPT"
                )),
                "",
                "{st}"
            );
        }
        assert_eq!(
            one("-A INPUT -p tcp --dport 1 -m conntrack ! --ctstate ESTABLISHED -j ACCEPT"),
            "1"
        );
        let fw = firewall(&filter(
            "DROP",
            "-A INPUT -m conntrack --ctstate INVALID -j DROP\n-A INPUT -p tcp --dport 7 -j ACCEPT\n",
        ));
        assert_eq!(fw.open_to_all.to_string(), "7");
    }

    #[test]
    fn syn_only_rules_open_the_port() {
        for m in ["--syn", "--tcp-flags SYN,ACK SYN", "--tcp-flags ALL SYN"] {
            let fw = firewall(&filter(
                "DROP",
                &format!("-A INPUT -p tcp {m} --dport 1700 -j ACCEPT\n"),
            ));
            assert_eq!(fw.open_to_all.to_string(), "1700", "{m}");
        }
        for m in ["! --syn", "--tcp-flags ACK ACK"] {
            let fw = firewall(&filter(
                "DROP",
                &format!("-A INPUT -p tcp {m} --dport 1700 -j ACCEPT\n"),
            ));
            assert!(
                fw.open_to_all.is_empty() && fw.open_to_some.is_empty(),
                "{m}"
            );
        }
    }

    #[test]
    fn protocol_matters() {
        let fw = firewall(&filter("DROP", "-A INPUT -p udp --dport 700 -j ACCEPT\n"));
        assert!(fw.open_to_all.is_empty() && fw.open_to_some.is_empty());
        for p in ["6", "TCP", "tcp"] {
            let fw = firewall(&filter(
                "DROP",
                &format!("-A INPUT -p {p} --dport 700 -j ACCEPT\n"),
            ));
            assert_eq!(fw.open_to_all.to_string(), "700", "{p}");
        }
        let fw = firewall(&filter("DROP", "-A INPUT -p all -s 198.18.0.2 -j ACCEPT\n"));
        assert!(fw.open_to_all.is_empty());
        assert_eq!(some_in(&fw, 1, 12000), "1-12000");
        let fw = firewall(&filter("DROP", "-A INPUT -i eth0 -j ACCEPT\n"));
        assert_eq!(fw.open_to_some.to_string(), "1-65535");
    }

    #[test]
    fn ports_sports_and_repeated_matches() {
        let fw = firewall(&filter(
            "DROP",
            "-A INPUT -p tcp --sport 1024:65535 --dport 840 -j ACCEPT\n\
             -A INPUT -p tcp --sport 1:1023 --dport 841 -j ACCEPT\n\
             -A INPUT -p tcp -m tcp --dport 10:20 -m tcp --dport 15:30 -j ACCEPT\n\
             -A INPUT -p tcp ! --dport 1:799 -m tcp --dport 0:810 -j ACCEPT\n\
             -A INPUT -p tcp --dport 0x16 -j ACCEPT\n-A INPUT -p tcp --dport 022 -j ACCEPT\n",
        ));
        assert_eq!(fw.open_to_all.to_string(), "15-20,22,800-810,840");
    }

    #[test]
    fn multiport_lists_and_negation() {
        let fw = firewall(&filter(
            "DROP",
            "-A INPUT -p tcp -m multiport --dports 900,905:907,910 -j ACCEPT\n\
             -A INPUT -p tcp -m multiport ! --dports 1:939,941:65535 -j ACCEPT\n",
        ));
        assert_eq!(fw.open_to_all.to_string(), "900,905-907,910,940");
        let p905 = PortSet::single(905);
        let d = fw.openers(&p905).next().expect("opener");
        assert_eq!(d.rule_ports.to_string(), "900,905-907,910");
    }

    #[test]
    fn interfaces_and_addresses() {
        let one = |rule: &str| {
            let fw = firewall(&filter(
                "DROP",
                &format!("-A INPUT -p tcp --dport 5 {rule} -j ACCEPT\n"),
            ));
            (open_in(&fw, 1, 10), some_in(&fw, 1, 10))
        };
        let all = ("5".to_string(), String::new());
        let some = (String::new(), "5".to_string());
        let none = (String::new(), String::new());
        assert_eq!(one("-i lo"), none);
        assert_eq!(one("! -i lo"), all);
        assert_eq!(one("-i eth0"), some);
        assert_eq!(one("-i eth+"), some);
        assert_eq!(one("-s 198.18.0.2"), some);
        assert_eq!(one("-s 198.18.0.0/255.255.255.0"), some);
        assert_eq!(one("! -s 10.0.0.0/8"), all);
        assert_eq!(one("-d 127.0.0.1"), none);
        assert_eq!(one("-d 198.18.0.1"), some);
        assert_eq!(one("-m iprange --src-range 198.18.0.1-198.18.0.10"), some);
        assert_eq!(one("-m addrtype --dst-type LOCAL"), all);
    }

    #[test]
    fn rate_and_connection_limits_are_maybe_matches() {
        let fw = firewall(&filter(
            "DROP",
            "-A INPUT -p tcp --dport 1200:1299 -m limit --limit 1/hour --limit-burst 5 -j ACCEPT\n\
             -A INPUT -p tcp --dport 1500:1599 -m connlimit --connlimit-above 2 -j REJECT\n\
             -A INPUT -p tcp --dport 1500:1599 -j ACCEPT\n",
        ));
        assert_eq!(fw.open_to_all.to_string(), "1500-1599");
        assert_eq!(fw.open_to_some.to_string(), "1200-1299");
    }

    #[test]
    fn raw_and_mangle_drops_close_ports() {
        let fw = firewall(&format!(
            "*raw\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -p tcp --dport 1200 -j DROP\nCOMMIT\n\
             *mangle\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n\
             -A PREROUTING -p tcp --dport 1201 -j DROP\n-A INPUT -p tcp --dport 1202 -j DROP\nCOMMIT\n{}",
            filter("DROP", "-A INPUT -p tcp --dport 1200:1203 -j ACCEPT\n")
        ));
        assert_eq!(fw.open_to_all.to_string(), "1203");
        assert_eq!(fw.blockers(&PortSet::single(1200)).count(), 1);
    }

    #[test]
    fn notrack_makes_the_state_untracked() {
        let text = |state: &str| {
            format!(
                "*raw\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -p tcp --dport 1300 -j NOTRACK\n\
                 -A PREROUTING -p tcp --dport 1301 -j CT --notrack\nCOMMIT\n{}",
                filter(
                    "DROP",
                    &format!("-A INPUT -p tcp --dport 1300:1302 {state} -j ACCEPT\n")
                )
            )
        };
        assert_eq!(firewall(&text("")).open_to_all.to_string(), "1300-1302");
        assert_eq!(
            firewall(&text("-m conntrack --ctstate NEW"))
                .open_to_all
                .to_string(),
            "1302"
        );
    }

    #[test]
    fn a_mangle_mark_feeds_a_filter_mark_match() {
        let fw = firewall(&format!(
            "*mangle\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -p tcp --dport 1400 -j MARK --set-mark 7\nCOMMIT\n{}",
            filter(
                "DROP",
                "-A INPUT -p tcp --dport 1400:1401 -m mark --mark 7 -j ACCEPT\n"
            )
        ));
        assert_eq!(fw.open_to_all.to_string(), "1400");
    }

    #[test]
    fn nat_prerouting_maps_the_port_input_sees() {
        let fw = firewall(&format!(
            "*nat\n:PREROUTING ACCEPT [0:0]\n\
             -A PREROUTING -p tcp --dport 8080 -j REDIRECT --to-ports 80\n\
             -A PREROUTING -p tcp --dport 8443 -j DNAT --to-destination 198.18.0.1:443\n\
             -A PREROUTING -p tcp --dport 3000:3009 -j REDIRECT --to-ports 3100\n\
             -A PREROUTING -p tcp --dport 2222 -j REDIRECT --to-ports 22\n\
             -A PREROUTING -p tcp --dport 5000 -j DNAT --to-destination 10.9.9.9\nCOMMIT\n{}",
            filter(
                "DROP",
                "-A INPUT -p tcp -m multiport --dports 80,443,3100 -j ACCEPT\n\
                 -A INPUT -p tcp --dport 2222 -j ACCEPT\n-A INPUT -p tcp --dport 5000:6000 -j ACCEPT\n\
                 -A INPUT -p tcp --dport 7000 -m conntrack --ctstate DNAT -j ACCEPT\n"
            )
        ));
        // Measured open: 80, 443, 3100, 5001-6000, 8080, 3000-3009, 8443; closed: 2222, 5000, 7000.
        // 8443 is DNAT to an address pasvlint cannot place on this host: it counts as forwarded
        // and the uncertainty is recorded.
        assert_eq!(
            fw.open_to_all.to_string(),
            "80,443,3000-3009,3100,5001-6000,8080"
        );
        assert!(fw.uncertain.iter().any(|u| u.what.contains("198.18.0.1")));
        assert!(!fw.open_to_any().contains(2222) && !fw.open_to_any().contains(5000));
        assert!(!fw.open_to_all.contains(7000));
    }

    #[test]
    fn both_rulesets_must_accept() {
        let nft = firewall(&filter("ACCEPT", "-A INPUT -p tcp --dport 5 -j DROP\n"));
        let legacy = firewall(&filter(
            "ACCEPT",
            "-A INPUT -p tcp --dport 6 -j DROP\n-A INPUT -p tcp --dport 7 -j ACCEPT\n",
        ));
        let both = Firewall::combine(vec![nft, legacy]).expect("two");
        assert_eq!(
            both.open_to_all
                .intersection(&PortSet::range(1, 10))
                .to_string(),
            "1-4,7-10"
        );
        let nft = firewall(&filter("DROP", "-A INPUT -p tcp --dport 7 -j ACCEPT\n"));
        let legacy = firewall(&filter(
            "ACCEPT",
            "-A INPUT -p tcp --dport 6 -j DROP\n-A INPUT -p tcp --dport 7 -j ACCEPT\n",
        ));
        let both = Firewall::combine(vec![nft, legacy]).expect("two");
        assert_eq!(both.open_to_all.to_string(), "7");
    }

    #[test]
    fn ftp_helper_and_related_accepts() {
        let fw = firewall(&format!(
            "*raw\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -p tcp --dport 21 -j CT --helper ftp\nCOMMIT\n{}",
            filter(
                "DROP",
                "-A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT\n-A INPUT -p tcp --dport 21 -j ACCEPT\n"
            )
        ));
        assert_eq!(fw.open_to_all.to_string(), "21");
        assert_eq!(fw.ftp_helpers.len(), 1);
        assert_eq!(fw.ftp_helpers[0].ports.to_string(), "21");
        assert!(fw.admits_related && fw.helper_admits_data(21));
        assert_eq!(fw.related_accepts.len(), 1);
        let fw = firewall(&filter("DROP", "-A INPUT -p tcp --dport 21 -j ACCEPT\n"));
        assert!(!fw.admits_related);
        let fw = firewall(&filter(
            "DROP",
            "-A INPUT -m conntrack --ctstate RELATED -m helper --helper ftp -j ACCEPT\n",
        ));
        assert!(fw.admits_related);
    }

    #[test]
    fn fragmented_chains_stay_linear() {
        // 30,000 single-port accepts fragment the undecided set into 30,000 pieces.
        let rules: String = (1..=30000u32)
            .map(|p| format!("-A INPUT -p tcp --dport {} -j ACCEPT\n", p * 2))
            .collect();
        let started = std::time::Instant::now();
        let fw = firewall(&filter("DROP", &rules));
        assert_eq!(fw.open_to_all.ranges().len(), 30000);
        assert!(started.elapsed().as_secs() < 20, "{:?}", started.elapsed());
    }

    /// CPU time of this thread (user + system), from /proc: the machine is shared,
    /// so wall-clock time would measure the neighbours.
    fn cpu_time() -> std::time::Duration {
        let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap_or_default();
        let after = stat.rsplit(')').next().unwrap_or("");
        let fields: Vec<&str> = after.split_whitespace().collect();
        // utime and stime are fields 14 and 15 of the line: 11 and 12 after the name.
        let field = |i: usize| {
            fields
                .get(i)
                .and_then(|f| f.parse::<u64>().ok())
                .unwrap_or(0)
        };
        let ticks = field(11) + field(12);
        std::time::Duration::from_millis(ticks * 10)
    }

    /// `PASVLINT_BENCH=FILE cargo test --release --lib bench_parse_and_facts -- --ignored --nocapture`
    #[test]
    #[ignore]
    fn bench_parse_and_facts() {
        let Ok(path) = std::env::var("PASVLINT_BENCH") else {
            return;
        };
        let bytes = std::fs::read(&path).expect("bench file");
        let t0 = cpu_time();
        let src = SourceFile::new(FileId(0), &path, &bytes);
        let t1 = cpu_time();
        let rs = parse_save(&src);
        let t2 = cpu_time();
        let fw = facts(&rs, &src).expect("facts");
        let t3 = cpu_time();
        let shadowed = crate::formats::iptables::shadowed_rules(&rs).len();
        let t4 = cpu_time();
        eprintln!(
            "CPU: decode {:?}, parse {:?}, facts {:?}, shadowed rules {:?} ({shadowed}); total parse+facts {:?}; open {}",
            t1 - t0,
            t2 - t1,
            t3 - t2,
            t4 - t3,
            t3 - t1,
            fw.open_to_all
        );
    }

    #[test]
    fn rules_stay_small() {
        assert!(std::mem::size_of::<crate::formats::iptables::Rule>() <= 64);
    }

    #[test]
    fn wide_open_is_1_to_65535_and_policy_is_a_decision() {
        let fw = firewall("*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n");
        assert_eq!(fw.open_to_all.to_string(), "1-65535");
        let fw = firewall(&filter("DROP", "-A INPUT -p tcp --dport 22 -j ACCEPT\n"));
        assert_eq!(fw.default_policy.value, crate::facts::DefaultPolicy::Drop);
        assert!(fw.default_policy.span.is_some());
        let policy = fw.decisions.iter().find(|d| d.is_policy).expect("policy");
        assert_eq!(policy.ports.to_string(), "0-21,23-65535");
        let rule = fw.decisions.iter().find(|d| !d.is_policy).expect("rule");
        assert_eq!(rule.ports.to_string(), "22");
    }
}
