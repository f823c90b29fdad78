//! `openstack.cloud.security_group_rule` tasks as a cloud filter in front of the
//! host: Neutron security groups allow what any of their ingress rules allows
//! and drop the rest (new groups have no ingress rule), and are stateful (replies
//! pass). The rules of every group the play creates rules for are one layer:
//! a server carrying all of them gets their union (pasvlint does not follow
//! which groups `openstack.cloud.server` attaches).

use super::args::{Args, Got, Unresolved};
use crate::facts::{Decision, DefaultPolicy, Dialect, Family, Firewall, Located, Scope, Verdict};
use crate::portset::PortSet;
use crate::source::{FileId, Span};

/// One ingress rule a task leaves in place.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SgRule {
    pub group: String,
    /// TCP ports it admits (every port for a rule of any protocol).
    pub ports: PortSet,
    pub family: Family,
    /// Limited to some sources (`remote_ip_prefix` narrower than everyone, `remote_group`).
    pub some: bool,
    pub span: Span,
}

impl SgRule {
    fn same(&self, other: &SgRule) -> bool {
        (&self.group, &self.ports, self.family, self.some)
            == (&other.group, &other.ports, other.family, other.some)
    }
}

/// The rules a play's tasks leave, in order.
#[derive(Clone, Debug, Default)]
pub struct Groups {
    pub rules: Vec<SgRule>,
    /// The first task, where the groups' implicit "drop the rest" is said.
    pub anchor: Option<Span>,
}

impl Groups {
    /// One `security_group_rule` task; `unresolved` collects what is not known.
    pub fn task(
        &mut self,
        mut a: Args,
        guarded: bool,
        unresolved: &mut Vec<Unresolved>,
        base60: &mut Vec<super::args::Base60>,
    ) {
        let at = a.action.name_span;
        let s = |a: &mut Args, keys: &[&str]| match a.str(keys) {
            Got::Known(v, _) => Some(v),
            _ => None,
        };
        let group = s(&mut a, &["security_group"]);
        let protocol = s(&mut a, &["protocol"]).map(|p| p.to_ascii_lowercase());
        let min = s(&mut a, &["port_range_min"]);
        let max = s(&mut a, &["port_range_max"]);
        let prefix = s(&mut a, &["remote_ip_prefix"]);
        let remote_group = s(&mut a, &["remote_group"]);
        let direction = s(&mut a, &["direction"]).unwrap_or_else(|| "ingress".into());
        let ethertype = s(&mut a, &["ethertype", "ether_type"]).unwrap_or_else(|| "IPv4".into());
        let absent = s(&mut a, &["state"]).is_some_and(|v| v == "absent");
        base60.extend(a.base60.iter().cloned());
        if a.any_unknown() {
            for u in a.unresolved {
                unresolved.push(Unresolved {
                    span: u.span,
                    what: format!(
                        "the security_group_rule task's {}, which pasvlint cannot resolve; the rule is left out of the security group",
                        u.what
                    ),
                });
            }
            return;
        }
        let Some(group) = group else { return };
        if direction != "ingress" {
            return;
        }
        let span = a.span();
        self.anchor.get_or_insert(span);
        let family = if ethertype.eq_ignore_ascii_case("ipv6") {
            Family::V6
        } else {
            Family::V4
        };
        let ports = match protocol.as_deref() {
            Some("tcp" | "6") => {
                let lo = min.as_deref().and_then(|m| m.parse::<u16>().ok());
                let hi = max.as_deref().and_then(|m| m.parse::<u16>().ok());
                match (lo, hi) {
                    (None, None) => PortSet::all(),
                    (Some(l), None) => PortSet::single(l),
                    (None, Some(h)) => PortSet::single(h),
                    (Some(l), Some(h)) if l <= h => PortSet::range(l, h),
                    _ => return,
                }
            }
            None | Some("any" | "0") => PortSet::all(),
            _ => PortSet::empty(),
        };
        let everyone = match family {
            Family::V4 => "0.0.0.0/0",
            Family::V6 => "::/0",
        };
        let some = remote_group.is_some() || prefix.as_deref().is_some_and(|p| p != everyone);
        let rule = SgRule {
            group,
            ports,
            family,
            some,
            span,
        };
        if absent {
            if !guarded {
                self.rules.retain(|r| !r.same(&rule));
            }
        } else if !rule.ports.is_empty() {
            self.rules.push(rule);
        }
        let _ = at;
    }

    /// The layer for `family`, when the play makes any rule.
    pub fn firewall(&self, family: Family, file: FileId) -> Option<Firewall> {
        let anchor = self.anchor?;
        // A group with no rule of this family drops all of it.
        let rules: Vec<&SgRule> = self.rules.iter().filter(|r| r.family == family).collect();
        let mut fw = Firewall::default_for(family);
        fw.files = vec![file];
        fw.dialect = Dialect::OpenstackSecurityGroup;
        fw.default_policy = Located::new(DefaultPolicy::Drop, Some(anchor));
        let mut decided = PortSet::empty();
        for want_all in [true, false] {
            for r in rules.iter().filter(|r| r.some != want_all) {
                let fresh = r.ports.difference(&decided);
                if fresh.is_empty() {
                    continue;
                }
                decided = decided.union(&fresh);
                let scope = if r.some { Scope::Some } else { Scope::All };
                match scope {
                    Scope::All => fw.open_to_all = fw.open_to_all.union(&fresh),
                    Scope::Some => fw.open_to_some = fw.open_to_some.union(&fresh),
                }
                fw.decisions.push(Decision {
                    verdict: Verdict::Accept,
                    scope,
                    ports: fresh,
                    rule_ports: r.ports.clone(),
                    span: Some(r.span),
                    is_policy: false,
                    later_packets: false,
                });
            }
        }
        let rest = decided.complement();
        if !rest.is_empty() {
            fw.decisions.push(Decision {
                verdict: Verdict::Drop,
                scope: Scope::All,
                rule_ports: rest.clone(),
                ports: rest,
                span: Some(anchor),
                is_policy: true,
                later_packets: false,
            });
        }
        Some(fw)
    }
}
