//! The Windows Firewall model shared by every Windows source (`.reg` exports,
//! `netsh` and PowerShell scripts): rules are applied in file order, then the
//! inbound TCP verdict is computed the way Windows Firewall decides it.
//!
//! Semantics (domain.md "Windows side" §5): inbound is blocked by default
//! (DefaultInboundAction "Block by default"); an enabled allow rule opens its
//! ports; an enabled block rule wins over any allow rule whatever the order
//! ("block rules take precedence over allow rules"); a disabled rule opens
//! nothing; a remote-address scope makes a port open only to some sources.
//! Windows' stateful FTP filter is not modelled as a helper: it is blind to
//! FTPS and no source shows when it admits a passive connection.

use crate::diag::Diagnostic;
use crate::facts::{Decision, DefaultPolicy, Firewall, Located, Scope, Uncertainty, Verdict};
use crate::portset::PortSet;
use crate::source::{FileId, Span};
use std::collections::BTreeMap;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuleAction {
    Allow,
    Block,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    In,
    Out,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    Tcp,
    Udp,
    /// `protocol=any`, netsh firewall `ALL`, or no protocol field.
    Any,
    Other(u8),
}

impl Protocol {
    pub fn covers_tcp(&self) -> bool {
        matches!(self, Protocol::Tcp | Protocol::Any)
    }

    /// `tcp`, `TCP`, `6`, `udp`, `17`, `any`, `all`; `None` for anything else.
    pub fn parse(text: &str) -> Option<Protocol> {
        let t = text.trim();
        match t.to_ascii_lowercase().as_str() {
            "tcp" | "6" => Some(Protocol::Tcp),
            "udp" | "17" => Some(Protocol::Udp),
            "any" | "all" => Some(Protocol::Any),
            "icmpv4" | "icmp" | "1" => Some(Protocol::Other(1)),
            "icmpv6" | "58" => Some(Protocol::Other(58)),
            _ => t.parse::<u8>().ok().map(Protocol::Other),
        }
    }
}

/// The local ports a rule names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LocalPorts {
    Any,
    Set(PortSet),
    /// Templated or keyword ports (`%PORT%`, `RPC`): the rule's effect is unknown.
    Unknown(String),
}

/// Who may connect.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Remote {
    All,
    /// Addresses, `LocalSubnet`, `scope=SUBNET`/`CUSTOM` lists.
    Some(String),
}

impl Remote {
    /// `any`/`*`/empty = everyone; anything else restricts the sources.
    pub fn from_list(text: &str) -> Remote {
        let t = text.trim();
        if t.is_empty() || t == "*" || t.eq_ignore_ascii_case("any") {
            Remote::All
        } else {
            Remote::Some(t.to_owned())
        }
    }
}

/// One firewall rule or legacy port exception.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WinRule {
    pub name: Option<String>,
    pub action: RuleAction,
    pub dir: Direction,
    pub protocol: Protocol,
    pub local_ports: LocalPorts,
    pub remote: Remote,
    pub enabled: bool,
    /// False when the rule only admits another program than the FTP service.
    pub applies_to_ftp: bool,
    /// A legacy `netsh firewall` port opening (keyed by protocol and port).
    pub legacy: bool,
    pub span: Span,
}

impl WinRule {
    /// An enabled inbound allow rule for all sources, the common case.
    pub fn allow_in(protocol: Protocol, local_ports: LocalPorts, span: Span) -> WinRule {
        WinRule {
            name: None,
            action: RuleAction::Allow,
            dir: Direction::In,
            protocol,
            local_ports,
            remote: Remote::All,
            enabled: true,
            applies_to_ftp: true,
            legacy: false,
            span,
        }
    }

    fn decides_inbound_tcp(&self) -> bool {
        self.enabled
            && self.dir == Direction::In
            && self.protocol.covers_tcp()
            && self.applies_to_ftp
    }
}

/// Which rules a delete or set command touches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleFilter {
    /// Rule name (case-insensitive); `None` = every rule (`name=all`).
    pub name: Option<String>,
    pub dir: Option<Direction>,
    pub protocol: Option<Protocol>,
    pub local_ports: Option<PortSet>,
}

impl RuleFilter {
    fn matches(&self, rule: &WinRule) -> bool {
        let name_ok = match (&self.name, &rule.name) {
            (None, _) => true,
            (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
            (Some(_), None) => false,
        };
        name_ok
            && !rule.legacy
            && self.dir.is_none_or(|d| d == rule.dir)
            && self.protocol.is_none_or(|p| p == rule.protocol)
            && self
                .local_ports
                .as_ref()
                .is_none_or(|p| rule.local_ports == LocalPorts::Set(p.clone()))
    }
}

/// One step of a script or export, applied in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    Add(WinRule),
    /// `netsh advfirewall firewall delete rule`, `Remove-NetFirewallRule`.
    Delete(RuleFilter),
    /// `netsh firewall delete portopening`: the ports stop being exceptions.
    DeletePortOpening {
        protocol: Protocol,
        ports: PortSet,
    },
    /// `set rule ... new enable=`, `Enable-/Disable-NetFirewallRule`.
    SetEnabled {
        filter: RuleFilter,
        enabled: bool,
    },
    /// The firewall of every profile turned on or off.
    State {
        on: bool,
        span: Span,
    },
    /// Default inbound action: `true` = allow (`firewallpolicy allowinbound`).
    InboundAllow {
        allow: bool,
        span: Span,
    },
    /// `netsh advfirewall reset`: rules added so far are gone, defaults back.
    Reset,
    Uncertain(Uncertainty),
}

/// The rules and switches of one file, after every change.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WinFirewall {
    pub rules: Vec<WinRule>,
    /// Set when the firewall was turned off (and not back on).
    pub off: Option<Span>,
    /// Set when inbound connections are allowed by default.
    pub inbound_allow: Option<Span>,
    pub uncertain: Vec<Uncertainty>,
    /// Ports each protocol's legacy openings cover, so adding the next of
    /// 60,000 one-port openings does not rescan the others.
    legacy_cover: Vec<(Protocol, Coverage)>,
}

impl WinFirewall {
    pub fn apply(&mut self, change: Change) {
        match change {
            Change::Add(rule) => self.add(rule),
            Change::Delete(filter) => self.rules.retain(|r| !filter.matches(r)),
            Change::DeletePortOpening { protocol, ports } => {
                self.remove_port_openings(protocol, &ports);
            }
            Change::SetEnabled { filter, enabled } => self
                .rules
                .iter_mut()
                .filter(|r| filter.matches(r))
                .for_each(|r| r.enabled = enabled),
            Change::State { on, span } => self.off = (!on).then_some(span),
            Change::InboundAllow { allow, span } => self.inbound_allow = allow.then_some(span),
            Change::Reset => {
                self.rules.clear();
                self.legacy_cover.clear();
                self.off = None;
                self.inbound_allow = None;
            }
            Change::Uncertain(u) => self.uncertain.push(u),
        }
    }

    /// A legacy port opening replaces the one with the same protocol and port.
    fn add(&mut self, rule: WinRule) {
        if rule.legacy {
            if let LocalPorts::Set(ports) = &rule.local_ports {
                self.remove_port_openings(rule.protocol, ports);
                self.cover(rule.protocol).uncovered(ports, true);
            }
        }
        self.rules.push(rule);
    }

    fn cover(&mut self, protocol: Protocol) -> &mut Coverage {
        let i = match self.legacy_cover.iter().position(|(p, _)| *p == protocol) {
            Some(i) => i,
            None => {
                self.legacy_cover.push((protocol, Coverage::default()));
                self.legacy_cover.len() - 1
            }
        };
        &mut self.legacy_cover[i].1
    }

    fn remove_port_openings(&mut self, protocol: Protocol, ports: &PortSet) {
        if self.cover(protocol).uncovered(ports, false) == *ports {
            return;
        }
        let mut remaining = Coverage::default();
        for rule in self
            .rules
            .iter_mut()
            .filter(|r| r.legacy && r.protocol == protocol)
        {
            if let LocalPorts::Set(own) = &rule.local_ports {
                let left = own.difference(ports);
                remaining.uncovered(&left, true);
                rule.local_ports = LocalPorts::Set(left);
            }
        }
        *self.cover(protocol) = remaining;
        self.rules
            .retain(|r| !(r.legacy && r.local_ports == LocalPorts::Set(PortSet::empty())));
    }

    /// Inbound TCP as this file's firewall decides it.
    pub fn to_firewall(&self, file: FileId) -> Firewall {
        let mut uncertain = self.uncertain.clone();
        let rules: Vec<(&WinRule, PortSet)> = self
            .rules
            .iter()
            .filter(|r| r.decides_inbound_tcp())
            .filter_map(|r| match &r.local_ports {
                LocalPorts::Any => Some((r, PortSet::all())),
                LocalPorts::Set(p) => Some((r, p.clone())),
                LocalPorts::Unknown(why) => {
                    uncertain.push(Uncertainty {
                        span: r.span,
                        what: why.clone(),
                    });
                    None
                }
            })
            .collect();
        if let Some(span) = self.off {
            return firewall_off(file, span, uncertain);
        }
        let mut eval = Evaluation::new();
        for (rule, ports) in rules.iter().filter(|(r, _)| r.action == RuleAction::Block) {
            eval.block(rule, ports);
        }
        for (rule, ports) in rules.iter().filter(|(r, _)| r.action == RuleAction::Allow) {
            eval.allow(rule, ports);
        }
        eval.finish(file, self.inbound_allow, uncertain)
    }
}

/// Blocks first (they win whatever the order), then allows, then the default.
/// Decided ports are kept in a [`Coverage`], so thousands of one-port rules
/// cost O(n log n), not a set rebuild per rule.
struct Evaluation {
    decided: Coverage,
    open_all: Vec<(u16, u16)>,
    open_some: Vec<(u16, u16)>,
    decisions: Vec<Decision>,
}

impl Evaluation {
    fn new() -> Self {
        Evaluation {
            decided: Coverage::default(),
            open_all: Vec::new(),
            open_some: Vec::new(),
            decisions: Vec::new(),
        }
    }

    fn block(&mut self, rule: &WinRule, ports: &PortSet) {
        let scope = scope_of(&rule.remote);
        let hit = self.decided.uncovered(ports, scope == Scope::All);
        self.decisions
            .push(decision(Verdict::Drop, scope, hit, ports, rule.span));
    }

    fn allow(&mut self, rule: &WinRule, ports: &PortSet) {
        let scope = scope_of(&rule.remote);
        let hit = self.decided.uncovered(ports, scope == Scope::All);
        match scope {
            Scope::All => self.open_all.extend_from_slice(hit.ranges()),
            Scope::Some => self.open_some.extend_from_slice(hit.ranges()),
        }
        self.decisions
            .push(decision(Verdict::Accept, scope, hit, ports, rule.span));
    }

    fn finish(
        mut self,
        file: FileId,
        inbound_allow: Option<Span>,
        uncertain: Vec<Uncertainty>,
    ) -> Firewall {
        let (verdict, policy) = match inbound_allow {
            Some(span) => (
                Verdict::Accept,
                Located::new(DefaultPolicy::Accept, Some(span)),
            ),
            None => (Verdict::Drop, Located::default_value(DefaultPolicy::Drop)),
        };
        let undecided = self.decided.to_set().complement();
        let mut open_all = PortSet::from_ranges(self.open_all);
        if verdict == Verdict::Accept {
            open_all = open_all.union(&undecided);
        }
        self.decisions.push(Decision {
            verdict,
            scope: Scope::All,
            ports: undecided.clone(),
            rule_ports: undecided,
            span: policy.span,
            is_policy: true,
        });
        let connectable = PortSet::connectable();
        let open_to_all = open_all.intersection(&connectable);
        let open_to_some = PortSet::from_ranges(self.open_some)
            .difference(&open_to_all)
            .intersection(&connectable);
        Firewall {
            files: vec![file],
            default_policy: policy,
            open_to_all,
            open_to_some,
            decisions: self.decisions,
            ftp_helpers: Vec::new(),
            related_accepts: Vec::new(),
            admits_related: false,
            active: None,
            uncertain,
            family: None,
            classes: Vec::new(),
        }
    }
}

/// Disjoint inclusive port ranges keyed by their start, for many small
/// lookups and inserts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Coverage {
    ranges: BTreeMap<u16, u16>,
}

impl Coverage {
    /// The part of `ports` not covered yet; with `claim`, it becomes covered.
    fn uncovered(&mut self, ports: &PortSet, claim: bool) -> PortSet {
        let mut fresh = Vec::new();
        for &(lo, hi) in ports.ranges() {
            let overlapping = self.overlapping(lo, hi);
            let mut next = u32::from(lo);
            for &(s, e) in &overlapping {
                if u32::from(s) > next {
                    fresh.push((next as u16, s - 1));
                }
                next = next.max(u32::from(e) + 1);
            }
            if next <= u32::from(hi) {
                fresh.push((next as u16, hi));
            }
            if claim {
                for (s, _) in &overlapping {
                    self.ranges.remove(s);
                }
                let start = overlapping.first().map_or(lo, |r| r.0.min(lo));
                let end = overlapping.last().map_or(hi, |r| r.1.max(hi));
                self.ranges.insert(start, end);
            }
        }
        PortSet::from_ranges(fresh)
    }

    /// Covered ranges that overlap `lo..=hi`, in order.
    fn overlapping(&self, lo: u16, hi: u16) -> Vec<(u16, u16)> {
        let mut out: Vec<(u16, u16)> = self
            .ranges
            .range(..=lo)
            .next_back()
            .filter(|(_, e)| **e >= lo)
            .map(|(s, e)| (*s, *e))
            .into_iter()
            .collect();
        if lo < hi {
            out.extend(self.ranges.range(lo + 1..=hi).map(|(s, e)| (*s, *e)));
        }
        out
    }

    fn to_set(&self) -> PortSet {
        PortSet::from_ranges(self.ranges.iter().map(|(s, e)| (*s, *e)))
    }
}

fn scope_of(remote: &Remote) -> Scope {
    match remote {
        Remote::All => Scope::All,
        Remote::Some(_) => Scope::Some,
    }
}

fn decision(verdict: Verdict, scope: Scope, hit: PortSet, ports: &PortSet, span: Span) -> Decision {
    Decision {
        verdict,
        scope,
        ports: hit,
        rule_ports: ports.clone(),
        span: Some(span),
        is_policy: false,
    }
}

fn firewall_off(file: FileId, span: Span, uncertain: Vec<Uncertainty>) -> Firewall {
    Firewall {
        files: vec![file],
        default_policy: Located::new(DefaultPolicy::Accept, Some(span)),
        open_to_all: PortSet::connectable(),
        open_to_some: PortSet::empty(),
        decisions: vec![Decision {
            verdict: Verdict::Accept,
            scope: Scope::All,
            ports: PortSet::all(),
            rule_ports: PortSet::all(),
            span: Some(span),
            is_policy: true,
        }],
        ftp_helpers: Vec::new(),
        related_accepts: Vec::new(),
        admits_related: false,
        active: None,
        uncertain,
        family: None,
        classes: Vec::new(),
    }
}

/// Parse a Windows port list: `21`, `5000-5100`, `21,5000-5100`. Ranges must
/// be ascending and within 0-65535 (what netsh and New-NetFirewallRule accept).
pub fn parse_port_list(text: &str) -> Result<PortSet, String> {
    let mut ranges = Vec::new();
    for part in text.split(',') {
        let part = part.trim();
        let (lo, hi) = match part.split_once('-') {
            Some((a, b)) => (parse_port(a, part)?, parse_port(b, part)?),
            None => {
                let p = parse_port(part, part)?;
                (p, p)
            }
        };
        if lo > hi {
            return Err(format!("range {part} starts above its end"));
        }
        ranges.push((lo, hi));
    }
    Ok(PortSet::from_ranges(ranges))
}

fn parse_port(text: &str, part: &str) -> Result<u16, String> {
    let t = text.trim();
    if t.is_empty() || t.len() > 5 || !t.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("`{part}` is not a port or a low-high range"));
    }
    t.parse::<u16>()
        .map_err(|_| format!("port {t} is above 65535"))
}

/// Something a parser found that a document rule reports: which rule, where,
/// and what to say. Windows parsers detect many small problems, so they
/// phrase them where they are found and the rules only pick their own.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    pub rule: &'static str,
    pub span: Span,
    pub message: String,
    pub label: String,
    pub help: Option<String>,
    pub related: Vec<(Span, String)>,
}

impl Finding {
    pub fn new(
        rule: &'static str,
        span: Span,
        message: impl Into<String>,
        label: impl Into<String>,
    ) -> Self {
        Finding {
            rule,
            span,
            message: message.into(),
            label: label.into(),
            help: None,
            related: Vec::new(),
        }
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn related(mut self, span: Span, label: impl Into<String>) -> Self {
        self.related.push((span, label.into()));
        self
    }

    pub fn to_diagnostic(&self) -> Diagnostic {
        let mut d = Diagnostic::new(
            self.rule,
            self.message.clone(),
            self.span,
            self.label.clone(),
        );
        for (span, label) in &self.related {
            d = d.with_related(*span, label.clone());
        }
        match &self.help {
            Some(h) => d.with_help(h.clone()),
            None => d,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(n: usize) -> Span {
        Span::new(FileId(0), n, n + 1)
    }

    fn rule(action: RuleAction, ports: PortSet, n: usize) -> WinRule {
        WinRule {
            action,
            ..WinRule::allow_in(Protocol::Tcp, LocalPorts::Set(ports), span(n))
        }
    }

    #[test]
    fn inbound_is_blocked_by_default() {
        let fw = WinFirewall::default().to_firewall(FileId(0));
        assert!(fw.open_to_any().is_empty());
        assert_eq!(fw.default_policy.value, DefaultPolicy::Drop);
        assert_eq!(fw.default_policy.span, None);
    }

    #[test]
    fn block_wins_over_an_earlier_allow() {
        let mut w = WinFirewall::default();
        w.apply(Change::Add(rule(
            RuleAction::Allow,
            PortSet::range(5000, 5100),
            1,
        )));
        w.apply(Change::Add(rule(
            RuleAction::Block,
            PortSet::range(5050, 5060),
            2,
        )));
        let fw = w.to_firewall(FileId(0));
        assert_eq!(fw.open_to_all.to_string(), "5000-5049,5061-5100");
        let probe = PortSet::single(5055);
        let blocker = fw.blockers(&probe).next().unwrap();
        assert_eq!(blocker.span, Some(span(2)));
        assert_eq!(fw.decisions[1].rule_ports, PortSet::range(5000, 5100));
    }

    #[test]
    fn disabled_and_scoped_rules() {
        let mut w = WinFirewall::default();
        let mut off = rule(RuleAction::Allow, PortSet::single(21), 1);
        off.enabled = false;
        let mut scoped = rule(RuleAction::Allow, PortSet::single(22), 2);
        scoped.remote = Remote::Some("LocalSubnet".into());
        w.apply(Change::Add(off));
        w.apply(Change::Add(scoped));
        let fw = w.to_firewall(FileId(0));
        assert!(fw.open_to_all.is_empty());
        assert_eq!(fw.open_to_some.to_string(), "22");
    }

    #[test]
    fn legacy_openings_replace_and_delete_by_port() {
        let mut w = WinFirewall::default();
        let mut loop_rule = rule(RuleAction::Allow, PortSet::range(5001, 5201), 1);
        loop_rule.legacy = true;
        w.apply(Change::Add(loop_rule));
        w.apply(Change::DeletePortOpening {
            protocol: Protocol::Tcp,
            ports: PortSet::range(5101, 5300),
        });
        assert_eq!(
            w.to_firewall(FileId(0)).open_to_all.to_string(),
            "5001-5100"
        );
    }

    #[test]
    fn firewall_off_opens_everything() {
        let mut w = WinFirewall::default();
        w.apply(Change::State {
            on: false,
            span: span(3),
        });
        let fw = w.to_firewall(FileId(0));
        assert_eq!(fw.open_to_all.to_string(), "1-65535");
        assert_eq!(fw.default_policy.value, DefaultPolicy::Accept);
    }

    #[test]
    fn coverage_matches_set_algebra() {
        let mut cov = Coverage::default();
        let mut set = PortSet::empty();
        let mut seed: u32 = 7;
        for _ in 0..2000 {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
            let lo = (seed >> 8) as u16 % 200;
            let hi = lo + (seed >> 20) as u16 % 5;
            let ports = PortSet::range(lo, hi);
            let claim = seed % 3 != 0;
            assert_eq!(cov.uncovered(&ports, claim), ports.difference(&set));
            if claim {
                set = set.union(&ports);
            }
            assert_eq!(cov.to_set(), set);
        }
    }

    #[test]
    fn port_lists() {
        assert_eq!(
            parse_port_list("21,5000-5100").unwrap().to_string(),
            "21,5000-5100"
        );
        assert!(parse_port_list("5100-5000").is_err());
        assert!(parse_port_list("70000").is_err());
        assert!(parse_port_list("").is_err());
        assert!(parse_port_list("a-b").is_err());
    }
}
