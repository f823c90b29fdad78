//! Windows IPsec filter policies (`netsh ipsec static`, `ipseccmd`/`ipsecpol`)
//! as a firewall for inbound TCP to this host. The assigned policy lowers onto
//! the filter IR (`crate::filter::ir`) as an input chain for the client's packets
//! and an output chain for the server's replies, each holding its filters most
//! specific first with first match deciding; `crate::filter::eval` does the rest.
//!
//! Semantics (domain.md "Windows side"; sources cited in `rules/ipsec-*.toml`):
//! - Only an assigned policy filters, and only one local policy is assigned at
//!   a time: assigning one unassigns the other (KB 813878, `-x`).
//! - A policy is rules; a rule ties one filter list to one filter action
//!   (permit, block, negotiate). A rule with `activate=no` does nothing.
//! - Filters are not evaluated in order: Windows sorts them from the most
//!   specific to the least specific and the first match decides, so a block
//!   any/any plus a permit for TCP 21 admits 21. The exact weight formula was
//!   not retrieved; this model ranks address specificity (`me` or a host
//!   address = 32 bits, a subnet its prefix, `any` 0), then a named protocol,
//!   then named ports. Equal weights with different actions: block, then
//!   negotiate, then permit (recorded as an uncertainty).
//! - Traffic no filter matches passes: IPsec filters only what its filters
//!   match (KB 813878 blocks one port with one filter and everything else
//!   keeps working).
//! - Filters are stateless. A mirrored filter also matches the reverse
//!   direction; a TCP connection completes only if the client's packets in
//!   and the server's replies out are both permitted.
//! - `negotiate` needs IKE: a plain FTP client cannot negotiate, so the port
//!   is closed to it and open only to IPsec peers, unless the action has
//!   `soft=yes` (fall back to clear text with non-IPsec computers).
//!   `inpass=yes` accepts the clear SYN but still answers with IPsec, so it
//!   does not help a plain client.

use crate::facts::{Firewall, Uncertainty};
use crate::filter::ir::{self, Applies, Base, BaseKind, Hook, PACKETS, Packet, PortRef, Target};
use crate::portset::PortSet;
use crate::source::{FileId, Span};
use std::borrow::Cow;

/// One side of a filter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Addr {
    /// `me` / `0`: every address of this computer.
    Me,
    /// `any` / `*`.
    Any,
    /// IPv4 network; prefix 32 is one host.
    Net { addr: u32, prefix: u8 },
    /// IPv4 range `a-b`, inclusive.
    Range { lo: u32, hi: u32 },
    /// DNS name, server type (`DNS`, `WINS`, `DHCP`, `GATEWAY`), IPv6 or a
    /// value not known here: some specific computers.
    Named(String),
}

impl Addr {
    /// Bits of the address that the filter pins down (its weight).
    fn specificity(&self) -> u32 {
        match self {
            Addr::Any => 0,
            Addr::Me | Addr::Named(_) => 32,
            Addr::Net { prefix, .. } => u32::from(*prefix),
            Addr::Range { lo, hi } => {
                let size = u64::from(hi.saturating_sub(*lo)) + 1;
                32 - (64 - (size - 1).leading_zeros()).min(32)
            }
        }
    }

    /// For messages: `me`, `any`, `10.0.0.0/8`.
    pub fn display(&self) -> String {
        let ip = |a: u32| std::net::Ipv4Addr::from(a).to_string();
        match self {
            Addr::Me => "me".to_owned(),
            Addr::Any => "any".to_owned(),
            Addr::Net { addr, prefix: 32 } => ip(*addr),
            Addr::Net { addr, prefix } => format!("{}/{prefix}", ip(*addr)),
            Addr::Range { lo, hi } => format!("{}-{}", ip(*lo), ip(*hi)),
            Addr::Named(n) => n.clone(),
        }
    }
}

/// A filter's ports on one side: `0` = any, else the ports named (one per
/// filter, or the values of a loop that adds one filter per port).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ports {
    Any,
    Set(PortSet),
}

impl Ports {
    fn named(&self) -> bool {
        matches!(self, Ports::Set(_))
    }

    fn as_set(&self) -> PortSet {
        match self {
            Ports::Any => PortSet::all(),
            Ports::Set(s) => s.clone(),
        }
    }
}

/// IP protocol number; `None` = ANY.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IpProto(pub Option<u8>);

impl IpProto {
    pub const ANY: IpProto = IpProto(None);
    pub const TCP: IpProto = IpProto(Some(6));

    fn covers_tcp(self) -> bool {
        matches!(self.0, None | Some(6))
    }

    /// `ANY`, `ICMP`, `TCP`, `UDP`, `RAW` or 0-255 (0 is any).
    pub fn parse(text: &str) -> Option<IpProto> {
        let t = text.trim();
        let n = match t.to_ascii_uppercase().as_str() {
            "ANY" | "" => return Some(IpProto::ANY),
            "ICMP" => 1,
            "TCP" => 6,
            "UDP" => 17,
            "RAW" => 255,
            _ => t.parse::<u8>().ok()?,
        };
        Some(IpProto((n != 0).then_some(n)))
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Filter {
    pub src: Addr,
    pub src_ports: Ports,
    pub dst: Addr,
    pub dst_ports: Ports,
    pub protocol: IpProto,
    pub mirrored: bool,
    pub span: Span,
}

impl Filter {
    /// How many filters this stands for: one per port of a per-port loop.
    pub fn count(&self) -> u64 {
        let n = |p: &Ports| match p {
            Ports::Any => 1,
            Ports::Set(s) => u64::from(s.count()),
        };
        n(&self.src_ports) * n(&self.dst_ports)
    }

    /// Sort key of Windows' "most specific first" order (see module doc).
    fn weight(&self) -> (u32, u8, u8) {
        (
            self.src.specificity() + self.dst.specificity(),
            u8::from(self.protocol.0.is_some()),
            u8::from(self.src_ports.named()) + u8::from(self.dst_ports.named()),
        )
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ActionKind {
    Permit,
    Block,
    Negotiate,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FilterAction {
    pub name: String,
    pub kind: ActionKind,
    /// `soft=yes`: clear text with computers that cannot negotiate.
    pub soft: bool,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FilterList {
    pub name: String,
    pub filters: Vec<Filter>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyRule {
    pub name: String,
    pub filter_list: String,
    pub filter_action: String,
    pub active: bool,
    pub span: Span,
}

/// Whether a policy filters, and why not.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Assignment {
    Never,
    Assigned(Span),
    /// `assign=no` / `-y` after an assignment.
    Unassigned(Span),
    /// Another policy was assigned after this one (one policy at a time).
    Replaced {
        by: String,
        span: Span,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    pub name: String,
    pub rules: Vec<PolicyRule>,
    pub span: Span,
    pub assignment: Assignment,
    /// Created by `ipseccmd`/`ipsecpol` (for help texts).
    pub by_ipseccmd: bool,
}

/// A filter-action change; `None` fields are left as they are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActionChange {
    pub name: String,
    pub new_name: Option<String>,
    pub kind: Option<ActionKind>,
    pub soft: Option<bool>,
    pub span: Span,
}

/// A rule change (`set rule`); `None` fields are left as they are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleChange {
    pub policy: Option<String>,
    pub name: String,
    pub new_name: Option<String>,
    pub filter_list: Option<String>,
    pub filter_action: Option<String>,
    pub active: Option<bool>,
}

/// Which filters `delete filter` removes: the list, both addresses, and the
/// optional fields given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FilterPattern {
    pub list: String,
    pub src: Addr,
    pub dst: Addr,
    pub protocol: Option<IpProto>,
    pub mirrored: Option<bool>,
    pub src_ports: Option<Ports>,
    pub dst_ports: Option<Ports>,
}

/// `ipseccmd -w REG -p P -r R -f ... -n ...`: rule R of P with its own
/// filters and action.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CmdRule {
    pub policy: String,
    pub rule: String,
    pub filters: Vec<Filter>,
    pub action: Option<(ActionKind, bool)>,
    pub span: Span,
}

/// One step of a script, applied in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IpsecChange {
    AddPolicy {
        name: String,
        span: Span,
        by_ipseccmd: bool,
    },
    Assign {
        policy: String,
        on: bool,
        span: Span,
    },
    RenamePolicy {
        name: String,
        new_name: String,
    },
    DeletePolicy {
        name: String,
    },
    AddFilterList {
        name: String,
        span: Span,
    },
    RenameFilterList {
        name: String,
        new_name: String,
    },
    DeleteFilterList {
        name: String,
    },
    AddFilter {
        list: String,
        filter: Filter,
    },
    DeleteFilters(FilterPattern),
    /// `add filteraction` (creates) / `set filteraction` (changes).
    FilterAction {
        change: ActionChange,
        create: bool,
    },
    DeleteFilterAction {
        name: String,
    },
    AddRule {
        policy: String,
        rule: PolicyRule,
    },
    SetRule(RuleChange),
    /// `delete rule`: `None` name = every rule of the policy.
    DeleteRule {
        policy: String,
        name: Option<String>,
    },
    CmdRule(CmdRule),
    DeleteAll,
    Uncertain(Uncertainty),
}

fn same(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

/// Every IPsec object a script leaves behind.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IpsecStore {
    pub policies: Vec<Policy>,
    pub filter_lists: Vec<FilterList>,
    pub actions: Vec<FilterAction>,
    pub uncertain: Vec<Uncertainty>,
}

impl IpsecStore {
    pub fn from_changes(changes: &[IpsecChange]) -> IpsecStore {
        let mut store = IpsecStore::default();
        for c in changes {
            store.apply(c);
        }
        store
    }

    pub fn apply(&mut self, change: &IpsecChange) {
        match change {
            IpsecChange::AddPolicy {
                name,
                span,
                by_ipseccmd,
            } => {
                self.policy_mut_or_create(name, *span, *by_ipseccmd);
            }
            IpsecChange::Assign { policy, on, span } => self.assign(policy, *on, *span),
            IpsecChange::RenamePolicy { name, new_name } => {
                if let Some(p) = self.policy_mut(name) {
                    p.name = new_name.clone();
                }
            }
            IpsecChange::DeletePolicy { name } => self.policies.retain(|p| !same(&p.name, name)),
            IpsecChange::AddFilterList { name, span } => {
                self.list_mut_or_create(name, *span);
            }
            IpsecChange::RenameFilterList { name, new_name } => {
                if let Some(l) = self.filter_lists.iter_mut().find(|l| same(&l.name, name)) {
                    l.name = new_name.clone();
                }
            }
            IpsecChange::DeleteFilterList { name } => {
                self.filter_lists.retain(|l| !same(&l.name, name))
            }
            IpsecChange::AddFilter { list, filter } => {
                self.list_mut_or_create(list, filter.span)
                    .filters
                    .push(filter.clone());
            }
            IpsecChange::DeleteFilters(pattern) => self.delete_filters(pattern),
            IpsecChange::FilterAction { change, create } => self.filter_action(change, *create),
            IpsecChange::DeleteFilterAction { name } => {
                self.actions.retain(|a| !same(&a.name, name))
            }
            IpsecChange::AddRule { policy, rule } => match self.policy_mut(policy) {
                Some(p) => p.rules.push(rule.clone()),
                None => self.uncertain.push(Uncertainty {
                    span: rule.span,
                    what: format!("rule added to policy \"{policy}\", which does not exist here"),
                }),
            },
            IpsecChange::SetRule(change) => self.set_rule(change),
            IpsecChange::DeleteRule { policy, name } => {
                if let Some(p) = self.policy_mut(policy) {
                    p.rules
                        .retain(|r| name.as_deref().is_some_and(|n| !same(&r.name, n)));
                }
            }
            IpsecChange::CmdRule(cmd) => self.cmd_rule(cmd),
            IpsecChange::DeleteAll => {
                self.policies.clear();
                self.filter_lists.clear();
                self.actions.clear();
            }
            IpsecChange::Uncertain(u) => self.uncertain.push(u.clone()),
        }
    }

    fn policy_mut(&mut self, name: &str) -> Option<&mut Policy> {
        self.policies.iter_mut().find(|p| same(&p.name, name))
    }

    fn policy_mut_or_create(&mut self, name: &str, span: Span, by_ipseccmd: bool) -> &mut Policy {
        let i = match self.policies.iter().position(|p| same(&p.name, name)) {
            Some(i) => i,
            None => {
                self.policies.push(Policy {
                    name: name.to_owned(),
                    rules: Vec::new(),
                    span,
                    assignment: Assignment::Never,
                    by_ipseccmd,
                });
                self.policies.len() - 1
            }
        };
        &mut self.policies[i]
    }

    fn list_mut_or_create(&mut self, name: &str, span: Span) -> &mut FilterList {
        let i = match self.filter_lists.iter().position(|l| same(&l.name, name)) {
            Some(i) => i,
            None => {
                self.filter_lists.push(FilterList {
                    name: name.to_owned(),
                    filters: Vec::new(),
                    span,
                });
                self.filter_lists.len() - 1
            }
        };
        &mut self.filter_lists[i]
    }

    /// Only one policy is assigned at a time: assigning one unassigns the other.
    fn assign(&mut self, name: &str, on: bool, span: Span) {
        let Some(target) = self.policies.iter().position(|p| same(&p.name, name)) else {
            self.uncertain.push(Uncertainty {
                span,
                what: format!("policy \"{name}\" is not created here"),
            });
            return;
        };
        if !on {
            if matches!(self.policies[target].assignment, Assignment::Assigned(_)) {
                self.policies[target].assignment = Assignment::Unassigned(span);
            }
            return;
        }
        let by = self.policies[target].name.clone();
        for (i, p) in self.policies.iter_mut().enumerate() {
            if i == target {
                p.assignment = Assignment::Assigned(span);
            } else if matches!(p.assignment, Assignment::Assigned(_)) {
                p.assignment = Assignment::Replaced {
                    by: by.clone(),
                    span,
                };
            }
        }
    }

    fn delete_filters(&mut self, pat: &FilterPattern) {
        let Some(list) = self
            .filter_lists
            .iter_mut()
            .find(|l| same(&l.name, &pat.list))
        else {
            return;
        };
        list.filters.retain_mut(|f| {
            let fixed = f.src == pat.src
                && f.dst == pat.dst
                && pat.protocol.is_none_or(|p| p == f.protocol)
                && pat.mirrored.is_none_or(|m| m == f.mirrored);
            if !fixed {
                return true;
            }
            // A loop of filters is one filter per port: deleting some ports
            // leaves the others.
            match (
                hit(&f.src_ports, pat.src_ports.as_ref()),
                hit(&f.dst_ports, pat.dst_ports.as_ref()),
            ) {
                (Hit::Miss, _) | (_, Hit::Miss) => true,
                (Hit::Whole, Hit::Whole) => false,
                (Hit::Part(left), _) => {
                    f.src_ports = Ports::Set(left);
                    true
                }
                (_, Hit::Part(left)) => {
                    f.dst_ports = Ports::Set(left);
                    true
                }
            }
        });
    }

    fn filter_action(&mut self, change: &ActionChange, create: bool) {
        match self
            .actions
            .iter_mut()
            .find(|a| same(&a.name, &change.name))
        {
            Some(a) => {
                if let Some(k) = change.kind {
                    a.kind = k;
                }
                if let Some(s) = change.soft {
                    a.soft = s;
                }
                if let Some(n) = &change.new_name {
                    a.name = n.clone();
                }
            }
            None if create => self.actions.push(FilterAction {
                name: change.name.clone(),
                // netsh's default filter action negotiates security.
                kind: change.kind.unwrap_or(ActionKind::Negotiate),
                soft: change.soft.unwrap_or(false),
                span: change.span,
            }),
            None => self.uncertain.push(Uncertainty {
                span: change.span,
                what: format!("filter action \"{}\" is not created here", change.name),
            }),
        }
    }

    fn set_rule(&mut self, c: &RuleChange) {
        for p in self
            .policies
            .iter_mut()
            .filter(|p| c.policy.as_deref().is_none_or(|n| same(&p.name, n)))
        {
            for r in p.rules.iter_mut().filter(|r| same(&r.name, &c.name)) {
                if let Some(l) = &c.filter_list {
                    r.filter_list = l.clone();
                }
                if let Some(a) = &c.filter_action {
                    r.filter_action = a.clone();
                }
                if let Some(on) = c.active {
                    r.active = on;
                }
                if let Some(n) = &c.new_name {
                    r.name = n.clone();
                }
            }
        }
    }

    /// `ipseccmd`: the rule's filters and action are its own (a filter list
    /// and a filter action named after the policy and the rule).
    fn cmd_rule(&mut self, cmd: &CmdRule) {
        let own = format!("{} / {}", cmd.policy, cmd.rule);
        if !cmd.filters.is_empty() {
            self.list_mut_or_create(&own, cmd.span).filters = cmd.filters.clone();
        }
        if let Some((kind, soft)) = cmd.action {
            self.filter_action(
                &ActionChange {
                    name: own.clone(),
                    new_name: None,
                    kind: Some(kind),
                    soft: Some(soft),
                    span: cmd.span,
                },
                true,
            );
        }
        let policy = self.policy_mut_or_create(&cmd.policy, cmd.span, true);
        if !policy.rules.iter().any(|r| same(&r.name, &cmd.rule)) {
            policy.rules.push(PolicyRule {
                name: cmd.rule.clone(),
                filter_list: own.clone(),
                filter_action: own,
                active: true,
                span: cmd.span,
            });
        }
    }

    /// The policy that filters, if any.
    pub fn assigned(&self) -> Option<&Policy> {
        self.policies
            .iter()
            .find(|p| matches!(p.assignment, Assignment::Assigned(_)))
    }

    pub fn filter_list(&self, name: &str) -> Option<&FilterList> {
        self.filter_lists.iter().find(|l| same(&l.name, name))
    }

    pub fn action(&self, name: &str) -> Option<&FilterAction> {
        self.actions.iter().find(|a| same(&a.name, name))
    }

    /// Filters a policy's active rules apply, with their actions.
    pub fn policy_filters<'a>(&'a self, policy: &'a Policy) -> Vec<(&'a Filter, &'a FilterAction)> {
        let mut out = Vec::new();
        for rule in policy.rules.iter().filter(|r| r.active) {
            let (Some(list), Some(action)) = (
                self.filter_list(&rule.filter_list),
                self.action(&rule.filter_action),
            ) else {
                continue;
            };
            out.extend(list.filters.iter().map(|f| (f, action)));
        }
        out
    }

    /// Inbound TCP as the assigned policy decides it; `None` when no policy
    /// is assigned (IPsec then filters nothing).
    pub fn to_firewall(&self, file: FileId) -> Option<Firewall> {
        let lowered = self.lower(true)?;
        let mut fw = crate::filter::eval::firewall_facts(&lowered.ruleset, file);
        fw.uncertain.splice(0..0, lowered.uncertain);
        // Filters are stateless: no helper expectation ever admits a data connection.
        fw.admits_related = false;
        // The filters apply to both families alike; the active path is not lowered.
        fw.family = None;
        fw.active = None;
        Some(fw)
    }

    /// Permits whose connections never complete because a filter on the reply
    /// path drops the server's answer: ports the inbound chain alone opens and
    /// the whole ruleset (replies included) does not.
    pub fn replies_blocked(&self, file: FileId) -> Vec<ReplyBlocked> {
        let (Some(inbound), Some(both)) = (self.lower(false), self.lower(true)) else {
            return Vec::new();
        };
        let inbound = crate::filter::eval::firewall_facts(&inbound.ruleset, file);
        let both = crate::filter::eval::firewall_facts(&both.ruleset, file);
        let lost = inbound.open_to_all.difference(&both.open_to_all);
        let mirrored = |span: Span| {
            self.applied()
                .iter()
                .any(|(f, _)| f.span == span && f.mirrored)
        };
        let mut out = Vec::new();
        for permit in inbound.openers(&lost) {
            let ports = permit.ports.intersection(&lost);
            for block in both.blockers(&ports).filter(|d| !d.is_policy) {
                let (Some(permit_at), Some(block_at)) = (permit.span, block.span) else {
                    continue;
                };
                out.push(ReplyBlocked {
                    permit: permit_at,
                    permit_mirrored: mirrored(permit_at),
                    block: block_at,
                    ports: block.ports.intersection(&ports),
                });
            }
        }
        out
    }

    /// The assigned policy's active filters with their actions.
    fn applied(&self) -> Vec<(&Filter, &FilterAction)> {
        self.assigned()
            .map(|p| self.policy_filters(p))
            .unwrap_or_default()
    }

    /// The assigned policy as two chains, each holding its filters most
    /// specific first (first match decides): the client's packets on input
    /// and, with `replies`, the server's answers on output. Traffic no filter
    /// matches passes (policy accept).
    fn lower(&self, replies: bool) -> Option<Lowered> {
        let policy = self.assigned()?;
        let Assignment::Assigned(assigned_at) = policy.assignment else {
            return None;
        };
        let mut uncertain = self.uncertain.clone();
        uncertain.extend(self.missing_parts(policy));
        let applied = self.policy_filters(policy);
        let mut oriented: Vec<Oriented> = Vec::new();
        for (i, (f, action)) in applied.iter().enumerate() {
            if f.protocol.covers_tcp() {
                oriented.extend(orientations(f, &mut uncertain).into_iter().map(
                    |(dir, client, client_ports, host_ports)| Oriented {
                        dir,
                        client,
                        client_ports,
                        host_ports,
                        filter: i,
                        weight: f.weight(),
                        effect: Effect::of(action),
                        span: f.span,
                        slot: 0,
                    },
                ));
            }
        }
        // A filter on the client's own port matches only a client that picks that
        // source port (the classic source-port-88 hole), which no FTP client does.
        oriented.retain(|o| matches!(o.client_ports, Ports::Any));
        oriented.sort_by(|a, b| {
            b.weight
                .cmp(&a.weight)
                .then(b.effect.cmp(&a.effect))
                .then(a.filter.cmp(&b.filter))
        });
        for (slot, o) in oriented.iter_mut().enumerate() {
            o.slot = slot as u32;
        }
        uncertain.extend(ties(&oriented));
        let chain = |dir: Dir| {
            let rules: Vec<ir::Rule> = oriented
                .iter()
                .filter(|o| o.dir == dir)
                .flat_map(Oriented::rules)
                .collect();
            ir::Chain {
                rules: Cow::Owned(rules),
                policy: ir::Policy::Accept,
                policy_span: Some(assigned_at),
                live: true,
            }
        };
        let mut chains = vec![chain(Dir::In)];
        let mut bases = vec![base(Hook::Input, 0, "IPsec policy (inbound)")];
        if replies {
            chains.push(chain(Dir::Out));
            bases.push(base(Hook::Output, 1, "IPsec policy (replies)"));
        }
        let ruleset = ir::Ruleset {
            // IPsec filters name no addresses the evaluator splits on: one ruleset
            // stands for both families.
            family: crate::addrset::Family::V4,
            tables: vec![ir::Table { chains }],
            bases,
            port_sets: Cow::Owned(oriented.iter().map(|o| o.host_ports.as_set()).collect()),
            addr_sets: Cow::Borrowed(&[]),
            ifaces: Cow::Borrowed(&[]),
        };
        Some(Lowered { ruleset, uncertain })
    }

    fn missing_parts(&self, policy: &Policy) -> Vec<Uncertainty> {
        policy
            .rules
            .iter()
            .filter(|r| r.active)
            .filter(|r| {
                self.filter_list(&r.filter_list).is_none()
                    || self.action(&r.filter_action).is_none()
            })
            .map(|r| Uncertainty {
                span: r.span,
                what: format!(
                    "rule \"{}\" names a filter list or filter action not created here",
                    r.name
                ),
            })
            .collect()
    }
}

fn base(hook: Hook, chain: u32, label: &str) -> Base {
    Base {
        hook,
        priority: 0,
        kind: BaseKind::Filter,
        table: 0,
        chain,
        label: label.to_owned(),
    }
}

/// The assigned policy on the IR, and what the lowering could not express.
struct Lowered {
    ruleset: ir::Ruleset<'static>,
    uncertain: Vec<Uncertainty>,
}

/// Equally specific filters that disagree on the same ports, for a client no
/// filter names: Windows' choice between them is not known.
fn ties(sorted: &[Oriented]) -> Vec<Uncertainty> {
    let mut out = Vec::new();
    for (i, a) in sorted.iter().enumerate() {
        let rivals = sorted[i + 1..].iter().take_while(|b| b.weight == a.weight);
        for b in rivals {
            let same_packets = a.dir == b.dir && *a.client == Addr::Any && *b.client == Addr::Any;
            let overlap = a.host_ports.as_set().intersects(&b.host_ports.as_set());
            if same_packets && overlap && a.effect != b.effect && a.filter != b.filter {
                let (first, second) = (a.span.min(b.span), a.span.max(b.span));
                out.push(Uncertainty {
                    span: second,
                    what: format!(
                        "filters at bytes {} and {} are equally specific and disagree; modelled as block before negotiate before permit",
                        first.start, second.start
                    ),
                });
            }
        }
    }
    out.dedup();
    out
}

/// How a `delete filter` pattern's ports meet a filter's ports.
enum Hit {
    Whole,
    /// Some ports of a per-port loop go; these stay.
    Part(PortSet),
    Miss,
}

fn hit(own: &Ports, pattern: Option<&Ports>) -> Hit {
    match (pattern, own) {
        (None, _) | (Some(Ports::Any), Ports::Any) => Hit::Whole,
        (Some(Ports::Set(del)), Ports::Set(mine)) if mine.intersects(del) => {
            let left = mine.difference(del);
            if left.is_empty() {
                Hit::Whole
            } else {
                Hit::Part(left)
            }
        }
        _ => Hit::Miss,
    }
}

/// A permit whose connections never complete because the replies are blocked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplyBlocked {
    pub permit: Span,
    pub permit_mirrored: bool,
    pub block: Span,
    pub ports: PortSet,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Dir {
    In,
    Out,
}

/// What a filter's action means for a client that does not speak IPsec.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Effect {
    Permit,
    /// Hard negotiate: open only to IPsec peers.
    Negotiate,
    Block,
}

impl Effect {
    fn of(action: &FilterAction) -> Effect {
        match (action.kind, action.soft) {
            (ActionKind::Permit, _) | (ActionKind::Negotiate, true) => Effect::Permit,
            (ActionKind::Negotiate, false) => Effect::Negotiate,
            (ActionKind::Block, _) => Effect::Block,
        }
    }
}

/// A filter seen from one TCP connection: which way its packets go (client
/// to this host, or the replies) and which ports sit on which side.
#[derive(Clone, Debug)]
struct Oriented<'a> {
    dir: Dir,
    client: &'a Addr,
    client_ports: &'a Ports,
    host_ports: &'a Ports,
    /// Index into the applied filters.
    filter: usize,
    weight: (u32, u8, u8),
    effect: Effect,
    span: Span,
    /// Index of `host_ports` in the ruleset's port sets.
    slot: u32,
}

impl Oriented<'_> {
    /// The IR rules of one oriented filter. Hard negotiate admits IPsec peers
    /// (some sources) and drops everyone else.
    fn rules(&self) -> Vec<ir::Rule> {
        let who = if *self.client == Addr::Any {
            Applies::ToAll
        } else {
            Applies::ToSome
        };
        match self.effect {
            Effect::Permit => vec![self.rule(who, Target::Accept)],
            Effect::Block => vec![self.rule(who, Target::Drop)],
            Effect::Negotiate => vec![
                self.rule(Applies::ToSome, Target::Accept),
                self.rule(who, Target::Drop),
            ],
        }
    }

    fn rule(&self, who: Applies, target: Target) -> ir::Rule {
        let ports = match self.host_ports {
            Ports::Any => PortRef::ALL,
            Ports::Set(_) => PortRef::Set(self.slot),
        };
        let mut applies = [Applies::Never; PACKETS];
        let (key_in, key_out) = match self.dir {
            Dir::In => {
                applies[Packet::New as usize] = who;
                applies[Packet::Untracked as usize] = who;
                // The connection's later packets carry the same ports: the filter holds as for its SYN.
                applies[Packet::Established as usize] = who;
                (ports, PortRef::Empty)
            }
            Dir::Out => {
                applies[Packet::Reply as usize] = who;
                (PortRef::Empty, ports)
            }
        };
        ir::Rule {
            span: self.span,
            key_in,
            key_out,
            client_in: ir::ANY_ADDR,
            client_out: ir::ANY_ADDR,
            applies,
            iface_in: ir::IfaceMatch::Any,
            iface_out: ir::IfaceMatch::Any,
            proto: ir::Proto::Any,
            plain: who == Applies::ToAll,
            state: None,
            mark: None,
            target,
            spec: 0,
            nd: ir::NdMatch::NOT_JUDGED,
        }
    }
}

/// Which filters a connection meets: for each way a filter matches packets of
/// a TCP connection, the direction, the client side and the ports on each side.
fn orientations<'f>(
    f: &'f Filter,
    uncertain: &mut Vec<Uncertainty>,
) -> Vec<(Dir, &'f Addr, &'f Ports, &'f Ports)> {
    let inbound = (Dir::In, &f.src, &f.src_ports, &f.dst_ports);
    let outbound = (Dir::Out, &f.dst, &f.dst_ports, &f.src_ports);
    let written: Vec<(Dir, &Addr, &Ports, &Ports)> = match (&f.src, &f.dst) {
        (Addr::Me, Addr::Me) => Vec::new(),
        (_, Addr::Me) => vec![inbound],
        (Addr::Me, _) => vec![outbound],
        (Addr::Any, Addr::Any) => vec![inbound, outbound],
        (_, Addr::Any) => vec![inbound],
        (_, dst) => {
            uncertain.push(Uncertainty {
                span: f.span,
                what: format!(
                    "destination {} is taken to be this computer's address",
                    dst.display()
                ),
            });
            vec![inbound]
        }
    };
    let mut out = written.clone();
    if f.mirrored {
        out.extend(written.iter().map(|&(d, c, cp, hp)| {
            let flipped = if d == Dir::In { Dir::Out } else { Dir::In };
            (flipped, c, cp, hp)
        }));
    }
    out
}

/// A policy whose filters filter nothing because it is not assigned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unassigned<'a> {
    pub policy: &'a Policy,
    /// Filters as Windows counts them (a loop adds one per port).
    pub filters: u64,
}

impl IpsecStore {
    /// Policies with filters that are not assigned when the script ends.
    pub fn unassigned_with_filters(&self) -> Vec<Unassigned<'_>> {
        self.policies
            .iter()
            .filter(|p| {
                !matches!(
                    p.assignment,
                    Assignment::Assigned(_) | Assignment::Unassigned(_)
                )
            })
            .filter_map(|p| {
                let filters = self
                    .policy_filters(p)
                    .iter()
                    .map(|(f, _)| f.count())
                    .sum::<u64>();
                (filters > 0).then_some(Unassigned { policy: p, filters })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::{DefaultPolicy, Scope, Verdict};

    fn span(n: usize) -> Span {
        Span::new(FileId(0), n, n + 1)
    }

    fn filter(src: Addr, dst: Addr, proto: IpProto, dst_ports: Ports, n: usize) -> Filter {
        Filter {
            src,
            src_ports: Ports::Any,
            dst,
            dst_ports,
            protocol: proto,
            mirrored: true,
            span: span(n),
        }
    }

    fn tcp_to_me(ports: PortSet, n: usize) -> Filter {
        filter(Addr::Any, Addr::Me, IpProto::TCP, Ports::Set(ports), n)
    }

    /// A store with one policy "P" whose rules are (filters, action) pairs.
    fn store(rules: Vec<(Vec<Filter>, ActionKind, bool)>, assign: bool) -> IpsecStore {
        let mut changes = vec![IpsecChange::AddPolicy {
            name: "P".into(),
            span: span(900),
            by_ipseccmd: false,
        }];
        for (i, (filters, kind, soft)) in rules.into_iter().enumerate() {
            let list = format!("L{i}");
            for f in filters {
                changes.push(IpsecChange::AddFilter {
                    list: list.clone(),
                    filter: f,
                });
            }
            changes.push(IpsecChange::FilterAction {
                change: ActionChange {
                    name: format!("A{i}"),
                    new_name: None,
                    kind: Some(kind),
                    soft: Some(soft),
                    span: span(800 + i),
                },
                create: true,
            });
            changes.push(IpsecChange::AddRule {
                policy: "p".into(),
                rule: PolicyRule {
                    name: format!("R{i}"),
                    filter_list: list,
                    filter_action: format!("a{i}"),
                    active: true,
                    span: span(700 + i),
                },
            });
        }
        if assign {
            changes.push(IpsecChange::Assign {
                policy: "P".into(),
                on: true,
                span: span(999),
            });
        }
        IpsecStore::from_changes(&changes)
    }

    fn fw(store: &IpsecStore) -> Firewall {
        store.to_firewall(FileId(0)).expect("assigned")
    }

    fn block_all_tcp(n: usize) -> Filter {
        filter(Addr::Any, Addr::Me, IpProto::TCP, Ports::Any, n)
    }

    #[test]
    fn the_most_specific_filter_wins_not_the_first() {
        for order in [false, true] {
            let mut rules = vec![
                (vec![block_all_tcp(1)], ActionKind::Block, false),
                (
                    vec![
                        tcp_to_me(PortSet::single(21), 2),
                        tcp_to_me(PortSet::range(5001, 5100), 3),
                    ],
                    ActionKind::Permit,
                    false,
                ),
            ];
            if order {
                rules.reverse();
            }
            let fw = fw(&store(rules, true));
            assert_eq!(fw.open_to_all.to_string(), "21,5001-5100");
            let probe = PortSet::single(5150);
            assert_eq!(
                fw.blockers(&probe).next().and_then(|d| d.span),
                Some(span(1))
            );
            let probe = PortSet::single(5050);
            let opener = fw.openers(&probe).next().unwrap();
            assert_eq!(opener.span, Some(span(3)));
            assert_eq!(opener.rule_ports.to_string(), "5001-5100");
        }
    }

    #[test]
    fn an_unassigned_policy_filters_nothing() {
        let s = store(
            vec![(vec![block_all_tcp(1)], ActionKind::Block, false)],
            false,
        );
        assert!(s.to_firewall(FileId(0)).is_none());
        let un = s.unassigned_with_filters();
        assert_eq!(un.len(), 1);
        assert_eq!(un[0].filters, 1);
    }

    #[test]
    fn only_one_policy_is_assigned_at_a_time() {
        let mut s = store(
            vec![(vec![block_all_tcp(1)], ActionKind::Block, false)],
            true,
        );
        s.apply(&IpsecChange::AddPolicy {
            name: "Q".into(),
            span: span(50),
            by_ipseccmd: false,
        });
        s.apply(&IpsecChange::Assign {
            policy: "q".into(),
            on: true,
            span: span(51),
        });
        assert_eq!(s.assigned().map(|p| p.name.as_str()), Some("Q"));
        assert_eq!(
            s.policies[0].assignment,
            Assignment::Replaced {
                by: "Q".into(),
                span: span(51)
            }
        );
        // Q has no rules: nothing filters.
        assert_eq!(fw(&s).open_to_all, PortSet::connectable());
        assert_eq!(s.unassigned_with_filters().len(), 1);
        // An explicit unassign is deliberate, not reported.
        s.apply(&IpsecChange::Assign {
            policy: "P".into(),
            on: true,
            span: span(52),
        });
        s.apply(&IpsecChange::Assign {
            policy: "P".into(),
            on: false,
            span: span(53),
        });
        assert!(s.assigned().is_none());
        assert!(s.unassigned_with_filters().is_empty());
    }

    #[test]
    fn traffic_no_filter_matches_passes() {
        let s = store(
            vec![(
                vec![tcp_to_me(PortSet::single(80), 1)],
                ActionKind::Block,
                false,
            )],
            true,
        );
        let fw = fw(&s);
        assert_eq!(fw.open_to_all.to_string(), "1-79,81-65535");
        let policy = fw.decisions.last().unwrap();
        assert!(policy.is_policy && policy.verdict == Verdict::Accept);
        assert_eq!(policy.span, Some(span(999)));
        assert_eq!(fw.default_policy.value, DefaultPolicy::Accept);
    }

    #[test]
    fn an_unmirrored_permit_under_a_mirrored_block_loses_its_replies() {
        let mut permit = tcp_to_me(PortSet::single(21), 2);
        permit.mirrored = false;
        let s = store(
            vec![
                (vec![block_all_tcp(1)], ActionKind::Block, false),
                (vec![permit], ActionKind::Permit, false),
            ],
            true,
        );
        assert!(fw(&s).open_to_any().is_empty());
        assert_eq!(
            s.replies_blocked(FileId(0)),
            vec![ReplyBlocked {
                permit: span(2),
                permit_mirrored: false,
                block: span(1),
                ports: PortSet::single(21),
            }]
        );
    }

    #[test]
    fn an_unmirrored_block_still_blocks_the_syn() {
        let mut block = tcp_to_me(PortSet::single(445), 1);
        block.mirrored = false;
        let s = store(vec![(vec![block], ActionKind::Block, false)], true);
        assert!(!fw(&s).open_to_any().contains(445));
    }

    #[test]
    fn negotiate_is_closed_to_plain_clients_unless_soft() {
        let hard = store(
            vec![(
                vec![tcp_to_me(PortSet::range(5001, 5201), 1)],
                ActionKind::Negotiate,
                false,
            )],
            true,
        );
        let fw_hard = fw(&hard);
        assert!(!fw_hard.open_to_all.contains(5001));
        assert!(fw_hard.open_to_some.contains(5001));
        let soft = store(
            vec![(
                vec![tcp_to_me(PortSet::range(5001, 5201), 1)],
                ActionKind::Negotiate,
                true,
            )],
            true,
        );
        assert!(fw(&soft).open_to_all.contains(5001));
    }

    #[test]
    fn a_source_specific_permit_opens_to_some() {
        let trusted = filter(
            Addr::Net {
                addr: 0x0A00_0000,
                prefix: 8,
            },
            Addr::Me,
            IpProto::ANY,
            Ports::Any,
            2,
        );
        let s = store(
            vec![
                (
                    vec![filter(Addr::Any, Addr::Me, IpProto::ANY, Ports::Any, 1)],
                    ActionKind::Block,
                    false,
                ),
                (vec![trusted], ActionKind::Permit, false),
            ],
            true,
        );
        let fw = fw(&s);
        assert!(fw.open_to_all.is_empty());
        assert_eq!(fw.open_to_some, PortSet::connectable());
    }

    #[test]
    fn a_source_specific_block_does_not_close_the_port_for_everyone() {
        let bad_host = filter(
            Addr::Net {
                addr: 0xC0A8_0164,
                prefix: 32,
            },
            Addr::Me,
            IpProto::ANY,
            Ports::Any,
            1,
        );
        let s = store(vec![(vec![bad_host], ActionKind::Block, false)], true);
        assert_eq!(fw(&s).open_to_all, PortSet::connectable());
    }

    #[test]
    fn outbound_filters_do_not_match_inbound_connections() {
        // `0+*:21:TCP` is this computer as an FTP client (me -> any:21).
        let client_ftp = Filter {
            src: Addr::Me,
            src_ports: Ports::Any,
            dst: Addr::Any,
            dst_ports: Ports::Set(PortSet::single(21)),
            protocol: IpProto::TCP,
            mirrored: true,
            span: span(2),
        };
        let s = store(
            vec![
                (
                    vec![filter(Addr::Me, Addr::Any, IpProto::ANY, Ports::Any, 1)],
                    ActionKind::Block,
                    false,
                ),
                (vec![client_ftp], ActionKind::Permit, false),
            ],
            true,
        );
        assert!(!fw(&s).open_to_any().contains(21));
    }

    #[test]
    fn equal_weights_that_disagree_are_uncertain_and_block() {
        let s = store(
            vec![
                (
                    vec![tcp_to_me(PortSet::single(21), 1)],
                    ActionKind::Permit,
                    false,
                ),
                (
                    vec![tcp_to_me(PortSet::single(21), 2)],
                    ActionKind::Block,
                    false,
                ),
            ],
            true,
        );
        let fw = fw(&s);
        assert!(!fw.open_to_any().contains(21));
        assert!(
            fw.uncertain
                .iter()
                .any(|u| u.what.contains("equally specific"))
        );
    }

    #[test]
    fn inactive_rules_and_missing_actions_do_nothing() {
        let mut s = store(
            vec![(vec![block_all_tcp(1)], ActionKind::Block, false)],
            true,
        );
        s.apply(&IpsecChange::SetRule(RuleChange {
            policy: Some("P".into()),
            name: "r0".into(),
            new_name: None,
            filter_list: None,
            filter_action: None,
            active: Some(false),
        }));
        assert_eq!(fw(&s).open_to_all, PortSet::connectable());
        s.apply(&IpsecChange::SetRule(RuleChange {
            policy: None,
            name: "R0".into(),
            new_name: None,
            filter_list: None,
            filter_action: Some("missing".into()),
            active: Some(true),
        }));
        let fw = fw(&s);
        assert_eq!(fw.open_to_all, PortSet::connectable());
        assert!(!fw.uncertain.is_empty());
    }

    #[test]
    fn deleting_one_port_of_a_loop_keeps_the_others() {
        let mut s = store(
            vec![
                (vec![block_all_tcp(1)], ActionKind::Block, false),
                (
                    vec![tcp_to_me(PortSet::range(5001, 5010), 2)],
                    ActionKind::Permit,
                    false,
                ),
            ],
            true,
        );
        s.apply(&IpsecChange::DeleteFilters(FilterPattern {
            list: "l1".into(),
            src: Addr::Any,
            dst: Addr::Me,
            protocol: Some(IpProto::TCP),
            mirrored: None,
            src_ports: None,
            dst_ports: Some(Ports::Set(PortSet::single(5005))),
        }));
        assert_eq!(fw(&s).open_to_all.to_string(), "5001-5004,5006-5010");
    }

    #[test]
    fn a_named_protocol_beats_any_protocol_at_the_same_addresses() {
        let s = store(
            vec![
                (
                    vec![filter(Addr::Any, Addr::Me, IpProto::ANY, Ports::Any, 1)],
                    ActionKind::Block,
                    false,
                ),
                (
                    vec![filter(Addr::Any, Addr::Me, IpProto::TCP, Ports::Any, 2)],
                    ActionKind::Permit,
                    false,
                ),
            ],
            true,
        );
        assert_eq!(fw(&s).open_to_all, PortSet::connectable());
    }

    #[test]
    fn a_named_source_outweighs_a_named_port() {
        // Modelled order: address bits first. A permit for 10.0.0.0/8 on every
        // port beats a block of TCP 5001 from anyone, for that subnet only.
        let lan = filter(
            Addr::Net {
                addr: 0x0A00_0000,
                prefix: 8,
            },
            Addr::Me,
            IpProto::ANY,
            Ports::Any,
            2,
        );
        let s = store(
            vec![
                (
                    vec![tcp_to_me(PortSet::single(5001), 1)],
                    ActionKind::Block,
                    false,
                ),
                (vec![lan], ActionKind::Permit, false),
            ],
            true,
        );
        let fw = fw(&s);
        assert!(!fw.open_to_all.contains(5001));
        assert!(fw.open_to_some.contains(5001));
        let some = fw
            .decisions
            .iter()
            .find(|d| d.scope == Scope::Some)
            .unwrap();
        assert_eq!((some.verdict, some.span), (Verdict::Accept, Some(span(2))));
    }

    #[test]
    fn a_specific_destination_is_taken_as_this_host() {
        let server = filter(
            Addr::Any,
            Addr::Net {
                addr: 0xC0A8_010A,
                prefix: 32,
            },
            IpProto::TCP,
            Ports::Set(PortSet::single(21)),
            1,
        );
        let fw = fw(&store(vec![(vec![server], ActionKind::Block, false)], true));
        assert!(!fw.open_to_any().contains(21));
        assert!(fw.uncertain.iter().any(|u| u.what.contains("192.168.1.10")));
    }

    #[test]
    fn assignment_before_the_rules_still_counts_and_deletion_ends_it() {
        let mut s = IpsecStore::from_changes(&[
            IpsecChange::AddPolicy {
                name: "P".into(),
                span: span(1),
                by_ipseccmd: false,
            },
            IpsecChange::Assign {
                policy: "P".into(),
                on: true,
                span: span(2),
            },
            IpsecChange::AddFilter {
                list: "L".into(),
                filter: block_all_tcp(3),
            },
            IpsecChange::FilterAction {
                change: ActionChange {
                    name: "B".into(),
                    new_name: None,
                    kind: Some(ActionKind::Block),
                    soft: None,
                    span: span(4),
                },
                create: true,
            },
            IpsecChange::AddRule {
                policy: "P".into(),
                rule: PolicyRule {
                    name: "R".into(),
                    filter_list: "L".into(),
                    filter_action: "B".into(),
                    active: true,
                    span: span(5),
                },
            },
        ]);
        assert!(fw(&s).open_to_any().is_empty());
        s.apply(&IpsecChange::RenamePolicy {
            name: "p".into(),
            new_name: "Q".into(),
        });
        assert!(fw(&s).open_to_any().is_empty());
        s.apply(&IpsecChange::DeletePolicy { name: "q".into() });
        assert!(s.to_firewall(FileId(0)).is_none());
        assert!(s.unassigned_with_filters().is_empty());
        s.apply(&IpsecChange::DeleteAll);
        assert_eq!(s, IpsecStore::default());
    }

    #[test]
    fn a_loop_of_filters_counts_one_filter_per_port() {
        let s = store(
            vec![(
                vec![tcp_to_me(PortSet::range(5001, 5201), 1)],
                ActionKind::Permit,
                false,
            )],
            false,
        );
        assert_eq!(s.unassigned_with_filters()[0].filters, 201);
    }

    #[test]
    fn address_specificity() {
        assert_eq!(Addr::Any.specificity(), 0);
        assert_eq!(Addr::Me.specificity(), 32);
        assert_eq!(Addr::Range { lo: 10, hi: 13 }.specificity(), 30);
        assert_eq!(
            Addr::Range {
                lo: 0,
                hi: u32::MAX
            }
            .specificity(),
            0
        );
        let host = Addr::Net {
            addr: 0x0A01_0203,
            prefix: 32,
        };
        assert_eq!(host.display(), "10.1.2.3");
    }
}
