//! Cloud filters as filter-model rulesets. Each provider's rules become one
//! input chain, in the order the provider decides them, with the default deny as
//! the policy (DESIGN.md "The filter model", resolution modes):
//! - AWS security groups: a union of allows (order does not matter), default deny,
//!   stateful (replies pass); several groups on one instance add up.
//! - Azure NSGs: `priority` ascending, the first match decides (Allow or Deny), then
//!   the default rules (65000 AllowVnetInBound, 65001 AllowAzureLoadBalancerInBound,
//!   65500 DenyAllInBound).
//! - GCP VPC firewalls: `priority` ascending (default 1000), a deny wins over an
//!   allow of the same priority, then the implied deny of all ingress (65535).
//!
//! Sources are classes: `0.0.0.0/0` is everyone, a narrower CIDR a class of its
//! own; a source the repository cannot resolve to addresses (another security
//! group, a service tag, a source tag) is "some sources". A rule whose ports or
//! sources cannot be known opens its ports to some sources only, with the
//! uncertainty recorded: an unknown rule never counts as open to all.

use super::eval::Unknown;
use crate::addrset::{AddrSet, Family};
use crate::facts::{Dialect, Firewall, Uncertainty};
use crate::filter::ir::{self, Applies, Base, BaseKind, Hook, PACKETS, Packet, PortRef, Target};
use crate::portset::PortSet;
use crate::source::{FileId, Span};
use std::borrow::Cow;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Provider {
    Aws,
    Azure,
    Gcp,
}

impl Provider {
    pub fn dialect(self) -> Dialect {
        match self {
            Provider::Aws => Dialect::AwsSecurityGroup,
            Provider::Azure => Dialect::AzureNsg,
            Provider::Gcp => Dialect::GcpFirewall,
        }
    }

    /// How findings name the filter.
    pub fn filter_name(self) -> &'static str {
        match self {
            Provider::Aws => "security group",
            Provider::Azure => "network security group",
            Provider::Gcp => "VPC firewall",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Allow,
    Deny,
}

/// Who a rule admits, for one family.
#[derive(Clone, Debug, PartialEq)]
pub enum Sources {
    /// The rule names no source of this family.
    None,
    /// Every address (`0.0.0.0/0`, `::/0`, `*`, `Internet`).
    All,
    Set(AddrSet),
    /// Sources that are not addresses of the repository: another security group,
    /// a service tag, a source tag; the phrase says which.
    Some(String),
    Unknown(Unknown),
}

/// One rule of a cloud filter, as the provider evaluates it.
#[derive(Clone, Debug)]
pub struct CloudRule {
    pub action: Action,
    /// Lower decides first (AWS rules all have 0).
    pub priority: i64,
    /// `Err`: not known.
    pub ports: Result<PortSet, Unknown>,
    /// Whether it matches TCP; `Err`: not known.
    pub tcp: Result<bool, Unknown>,
    pub v4: Sources,
    pub v6: Sources,
    /// The rule's ports as written (or the rule itself).
    pub span: Span,
    /// The rule's name for messages (`ingress rule`, `security_rule "ftp-data"`).
    pub label: String,
    /// Where the ports are written as plain literals, for fixes.
    pub text: Option<crate::facts::PortText>,
}

impl CloudRule {
    pub fn sources(&self, family: Family) -> &Sources {
        match family {
            Family::V4 => &self.v4,
            Family::V6 => &self.v6,
        }
    }
}

/// One filter as it guards one instance: its rules in evaluation order.
#[derive(Clone, Debug)]
pub struct Filter {
    pub provider: Provider,
    /// The resources it is made of (`aws_security_group.ftp`), for messages.
    pub names: Vec<String>,
    /// The resource that stands for it (the default deny is labelled here).
    pub span: Span,
    pub file: FileId,
    pub rules: Vec<CloudRule>,
    /// Set when the filter cannot be known at all (a group not in the
    /// repository): then it lets some sources through on every port.
    pub unknown: Option<Unknown>,
    /// Other files the filter's rules are in.
    pub files: Vec<FileId>,
}

impl Filter {
    /// The rules sorted as the provider evaluates them.
    pub fn ordered(&self) -> Vec<&CloudRule> {
        let mut rules: Vec<&CloudRule> = self.rules.iter().collect();
        match self.provider {
            // A union: the order does not matter, allows only.
            Provider::Aws => {}
            Provider::Azure => rules.sort_by_key(|r| r.priority),
            Provider::Gcp => rules.sort_by_key(|r| (r.priority, r.action == Action::Allow)),
        }
        rules
    }

    /// Whether any rule names an IPv6 source (the instance then takes IPv6 clients).
    pub fn names_ipv6(&self) -> bool {
        self.rules
            .iter()
            .any(|r| matches!(r.v6, Sources::Set(_) | Sources::All))
    }

    /// The filter's facts for clients of `family`.
    pub fn firewall(&self, family: Family) -> Firewall {
        let mut low = Lowering::default();
        if let Some(u) = &self.unknown {
            low.unknown(u, self.span);
        } else {
            for rule in self.ordered() {
                low.push(rule, family);
            }
            if self.provider == Provider::Azure {
                // AllowVnetInBound and AllowAzureLoadBalancerInBound: some sources, every port.
                low.some_sources_everywhere(self.span);
            }
        }
        let rs = low.ruleset(family, self.span, self.provider);
        let mut fw = crate::filter::eval::firewall_facts(&rs, self.file);
        let texts: Vec<_> = self.rules.iter().filter_map(|r| r.text).collect();
        crate::filter::eval::attach_port_texts(&mut fw, &texts);
        fw.uncertain.extend(low.uncertain);
        fw.files = std::iter::once(self.file)
            .chain(self.files.iter().copied())
            .collect();
        fw.files.sort();
        fw.files.dedup();
        fw.admits_related = false;
        fw.ftp_helpers.clear();
        fw.active = None;
        fw.family = Some(family);
        fw.dialect = self.provider.dialect();
        fw
    }
}

#[derive(Default)]
struct Lowering {
    rules: Vec<ir::Rule>,
    port_sets: Vec<PortSet>,
    addr_sets: Vec<AddrSet>,
    uncertain: Vec<Uncertainty>,
}

impl Lowering {
    fn port_ref(&mut self, ports: &PortSet) -> PortRef {
        match ports.ranges() {
            [] => PortRef::Empty,
            [(lo, hi)] => PortRef::Range(*lo, *hi),
            _ => {
                self.port_sets.push(ports.clone());
                PortRef::Set(self.port_sets.len() as u32 - 1)
            }
        }
    }

    fn unknown(&mut self, u: &Unknown, span: Span) {
        self.uncertain.push(Uncertainty {
            span: u.span,
            what: u.why.clone(),
        });
        self.rule(
            span,
            PortRef::ALL,
            ir::ANY_ADDR,
            Applies::ToSome,
            Target::Accept,
        );
    }

    fn some_sources_everywhere(&mut self, span: Span) {
        self.rule(
            span,
            PortRef::ALL,
            ir::ANY_ADDR,
            Applies::ToSome,
            Target::Accept,
        );
    }

    fn push(&mut self, rule: &CloudRule, family: Family) {
        let mut who = Applies::ToAll;
        match &rule.tcp {
            Ok(false) => return,
            Ok(true) => {}
            Err(u) => {
                self.uncertain.push(Uncertainty {
                    span: u.span,
                    what: u.why.clone(),
                });
                who = Applies::ToSome;
            }
        }
        let key_in = match &rule.ports {
            Ok(ports) => self.port_ref(ports),
            Err(u) => {
                self.uncertain.push(Uncertainty {
                    span: u.span,
                    what: u.why.clone(),
                });
                who = Applies::ToSome;
                PortRef::ALL
            }
        };
        let client = match rule.sources(family) {
            Sources::None => return,
            Sources::All => ir::ANY_ADDR,
            Sources::Set(set) => {
                self.addr_sets.push(set.clone());
                (self.addr_sets.len() - 1) as ir::AddrRef
            }
            Sources::Some(_) => {
                who = Applies::ToSome;
                ir::ANY_ADDR
            }
            Sources::Unknown(u) => {
                self.uncertain.push(Uncertainty {
                    span: u.span,
                    what: u.why.clone(),
                });
                who = Applies::ToSome;
                ir::ANY_ADDR
            }
        };
        // A deny that may apply to some sources only cannot close a port to all.
        if rule.action == Action::Deny && who == Applies::ToSome {
            return;
        }
        let target = match rule.action {
            Action::Allow => Target::Accept,
            Action::Deny => Target::Drop,
        };
        self.rule(rule.span, key_in, client, who, target);
    }

    fn rule(
        &mut self,
        span: Span,
        key_in: PortRef,
        client: ir::AddrRef,
        who: Applies,
        target: Target,
    ) {
        let mut applies = [Applies::Never; PACKETS];
        applies[Packet::New as usize] = who;
        applies[Packet::Untracked as usize] = who;
        // A stateful filter: what admits the connection admits its later packets.
        applies[Packet::Established as usize] = who;
        self.rules.push(ir::Rule {
            span,
            key_in,
            key_out: PortRef::Empty,
            client_in: client,
            client_out: ir::ANY_ADDR,
            applies,
            iface_in: ir::IfaceMatch::Any,
            iface_out: ir::IfaceMatch::Any,
            proto: ir::Proto::Tcp,
            plain: client == ir::ANY_ADDR && who == Applies::ToAll,
            state: None,
            mark: None,
            target,
            spec: 0,
            nd: crate::filter::ir::NdMatch::NOT_JUDGED,
        });
    }

    fn ruleset(&mut self, family: Family, span: Span, provider: Provider) -> ir::Ruleset<'static> {
        let chain = ir::Chain {
            rules: Cow::Owned(std::mem::take(&mut self.rules)),
            policy: ir::Policy::Drop,
            policy_span: Some(span),
            live: true,
        };
        ir::Ruleset {
            family,
            tables: vec![ir::Table {
                chains: vec![chain],
            }],
            bases: vec![Base {
                hook: Hook::Input,
                priority: 0,
                kind: BaseKind::Filter,
                table: 0,
                chain: 0,
                label: provider.filter_name().to_owned(),
            }],
            port_sets: Cow::Owned(std::mem::take(&mut self.port_sets)),
            addr_sets: Cow::Owned(std::mem::take(&mut self.addr_sets)),
            ifaces: Cow::Borrowed(&[]),
        }
    }
}

/// A CIDR list split by family: `0.0.0.0/0` / `::/0` is everyone.
pub fn cidr_sources(list: &[String]) -> (Sources, Sources) {
    let mut v4 = Vec::new();
    let mut v6 = Vec::new();
    for c in list {
        if c.contains(':') {
            v6.push(c.as_str());
        } else {
            v4.push(c.as_str());
        }
    }
    (
        family_sources(Family::V4, &v4),
        family_sources(Family::V6, &v6),
    )
}

fn family_sources(family: Family, cidrs: &[&str]) -> Sources {
    if cidrs.is_empty() {
        return Sources::None;
    }
    match AddrSet::parse_list(family, &cidrs.join(",")) {
        Ok(set) if set == crate::addrset::clients(family) || is_everyone(&set, family) => {
            Sources::All
        }
        Ok(set) if set.is_empty() => Sources::None,
        Ok(set) => Sources::Set(set),
        Err(_) => Sources::Some(format!("sources {}", cidrs.join(", "))),
    }
}

fn is_everyone(set: &AddrSet, family: Family) -> bool {
    let everything = match family {
        Family::V4 => AddrSet::parse_list(family, "0.0.0.0/0"),
        Family::V6 => AddrSet::parse_list(family, "::/0"),
    };
    everything.is_ok_and(|e| crate::addrset::clients(family).is_subset(set) || e == *set)
}

/// `21`, `50000-50100`, `*` (Azure and GCP port syntax).
pub fn port_range(text: &str) -> Option<PortSet> {
    let t = text.trim();
    if t == "*" {
        return Some(PortSet::all());
    }
    let (lo, hi) = match t.split_once('-') {
        Some((a, b)) => (a.trim().parse::<u16>().ok()?, b.trim().parse::<u16>().ok()?),
        None => {
            let p = t.parse::<u16>().ok()?;
            (p, p)
        }
    };
    (lo <= hi).then(|| PortSet::range(lo, hi))
}
