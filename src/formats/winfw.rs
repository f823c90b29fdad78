//! The Windows Firewall model shared by every Windows source (`.reg` exports,
//! `netsh` and PowerShell scripts): rules and profile switches are applied in
//! file order, then each profile (domain, private, public) is lowered onto the
//! packet-filter IR and evaluated by `crate::filter::eval`.
//!
//! Semantics (domain.md "Windows side" §5): a block rule wins over any allow
//! rule whatever the order, so a profile lowers to one input chain holding
//! every block rule as a drop, then every allow rule as an accept, then the
//! profile's default inbound action ("Block by default") as the policy; a
//! profile whose firewall is off accepts everything. A disabled rule opens
//! nothing; a remote-address scope makes a port open only to some sources.
//! Windows' stateful FTP filter is not modelled as a helper: it is blind to
//! FTPS and no source shows when it admits a passive connection.

use crate::addrset::{AddrSet, Family};
use crate::diag::{Diagnostic, Fix};
pub use crate::facts::windows::*;
use crate::facts::{Firewall, Located, Profile, Profiles, Uncertainty};
use crate::filter::ir::{self, Applies, Base, BaseKind, Hook, PACKETS, Packet, PortRef, Target};
use crate::portset::PortSet;
use crate::source::{FileId, Span};
use std::borrow::Cow;
use std::collections::BTreeMap;

/// A legacy exception is one protocol and one port in one profile; a new one
/// with the same key replaces the old.
type LegacyKey = (Profile, Protocol, u16);

/// The Windows Firewall of a host whose rules come from several files. Windows
/// keeps one rule store: a connection is admitted when an enabled allow rule
/// matches and no block rule does, whichever file added them (MS-FASP 2.2.34),
/// so every file's changes are applied to one firewall, files in path order
/// (a later file's `set rule` or `delete rule` changes an earlier file's rules,
/// as when the scripts run in that order), and the result is evaluated once.
pub fn merged(parts: &[&Part]) -> Option<Firewall> {
    let first = parts.first()?;
    let mut fw = WinFirewall::default();
    for change in parts.iter().flat_map(|p| &p.changes) {
        fw.apply(change.clone());
    }
    let texts: Vec<crate::facts::PortText> =
        parts.iter().flat_map(|p| p.texts.iter().cloned()).collect();
    let mut out = fw.firewall_with_texts(first.file, &texts);
    let files: Vec<FileId> = parts.iter().map(|p| p.file).collect();
    out.files = files.clone();
    if let Some(profiles) = &mut out.profiles {
        for p in [
            &mut profiles.domain,
            &mut profiles.private,
            &mut profiles.public,
        ] {
            p.files = files.clone();
        }
    }
    Some(out)
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WinFirewall {
    /// Rules of the advanced firewall (netsh advfirewall, PowerShell, FirewallRules).
    pub rules: Vec<WinRule>,
    /// Legacy port exceptions: each port points at the opening (in `legacy_rules`) that set it.
    legacy: BTreeMap<LegacyKey, usize>,
    legacy_rules: Vec<WinRule>,
    /// Domain, private, public.
    pub profiles: [ProfileState; 3],
    /// The profile the host is in, when the file sets it.
    pub host_profile: Option<(Profile, Span)>,
    /// The stateful FTP filter as a script sets it (its default is not known
    /// here, so an unset filter is not assumed to run).
    pub stateful_ftp: Option<(bool, Span)>,
    pub uncertain: Vec<Uncertainty>,
}

impl WinFirewall {
    pub fn apply(&mut self, change: Change) {
        match change {
            Change::Add(rule) if rule.legacy => self.add_legacy(rule),
            Change::Add(rule) => self.rules.push(rule),
            Change::Delete(filter) => self.rules.retain(|r| !filter.matches(r)),
            Change::DeletePortOpening {
                protocol,
                ports,
                profiles,
            } => self.delete_port_openings(protocol, &ports, profiles),
            Change::SetEnabled { filter, enabled } => self
                .rules
                .iter_mut()
                .filter(|r| filter.matches(r))
                .for_each(|r| r.enabled = enabled),
            Change::Edit { filter, edit } => self
                .rules
                .iter_mut()
                .filter(|r| filter.matches(r))
                .for_each(|r| edit.apply(r)),
            Change::State { on, profiles, span } => {
                for state in self.states(profiles) {
                    state.off = (!on).then_some(span);
                }
            }
            Change::InboundAllow {
                allow,
                profiles,
                span,
            } => {
                for state in self.states(profiles) {
                    state.inbound = Some((allow, span));
                }
            }
            Change::HostProfile { profile, span } => self.host_profile = Some((profile, span)),
            Change::StatefulFtp { on, span } => self.stateful_ftp = Some((on, span)),
            Change::Reset => {
                self.rules.clear();
                self.legacy.clear();
                self.legacy_rules.clear();
                self.profiles = Default::default();
                self.stateful_ftp = None;
            }
            Change::Uncertain(u) => self.uncertain.push(u),
            Change::Rejected => {}
        }
    }

    /// The current profile is the one the host is in. When no file says which,
    /// a legacy command reaches only domain and private (Windows lets it touch
    /// public only while attached to a public network); `currentprofile` settings
    /// are taken to hold whichever profile is active.
    fn resolve(&self, profiles: ProfileSet) -> ProfileSet {
        if !profiles.is_current() {
            return profiles;
        }
        match self.host_profile {
            Some((p, _)) => ProfileSet::of(p),
            None if profiles == ProfileSet::ACTIVE => ProfileSet::ALL,
            None => ProfileSet::LEGACY_ALL,
        }
    }

    fn states(&mut self, profiles: ProfileSet) -> impl Iterator<Item = &mut ProfileState> {
        let profiles = self.resolve(profiles);
        Profile::ALL
            .into_iter()
            .zip(self.profiles.iter_mut())
            .filter(move |(p, _)| profiles.contains(*p))
            .map(|(_, s)| s)
    }

    fn add_legacy(&mut self, mut rule: WinRule) {
        rule.profiles = self.resolve(rule.profiles);
        let LocalPorts::Set(ports) = &rule.local_ports else {
            self.rules.push(rule);
            return;
        };
        let index = self.legacy_rules.len();
        for profile in Profile::ALL
            .into_iter()
            .filter(|p| rule.profiles.contains(*p))
        {
            for &(lo, hi) in ports.ranges() {
                for port in lo..=hi {
                    self.legacy.insert((profile, rule.protocol, port), index);
                }
            }
        }
        self.legacy_rules.push(rule);
    }

    fn delete_port_openings(&mut self, protocol: Protocol, ports: &PortSet, profiles: ProfileSet) {
        let profiles = self.resolve(profiles);
        for profile in Profile::ALL.into_iter().filter(|p| profiles.contains(*p)) {
            for &(lo, hi) in ports.ranges() {
                let keys: Vec<LegacyKey> = self
                    .legacy
                    .range((profile, protocol, lo)..=(profile, protocol, hi))
                    .map(|(k, _)| *k)
                    .collect();
                for k in keys {
                    self.legacy.remove(&k);
                }
            }
        }
    }

    /// Inbound TCP as `source`'s firewall decides it, with where each advanced
    /// rule's port list is written exactly (`localport=5000-5100`), for fixes.
    pub fn firewall_of(&self, source: &crate::source::SourceFile) -> Firewall {
        self.firewall_with_texts(source.id, &self.port_texts(source))
    }

    /// Inbound TCP as `file`'s firewall decides it, with `texts` saying where
    /// rules' port lists are written (a `.reg` export's rule strings).
    pub fn firewall_with_texts(&self, file: FileId, texts: &[crate::facts::PortText]) -> Firewall {
        let mut fw = self.to_firewall(file);
        crate::filter::eval::attach_port_texts(&mut fw, texts);
        if let Some(profiles) = &mut fw.profiles {
            for p in [
                &mut profiles.domain,
                &mut profiles.private,
                &mut profiles.public,
            ] {
                crate::filter::eval::attach_port_texts(p, texts);
            }
        }
        fw
    }

    /// The rules whose port list is written as it decides: no variable, no
    /// loop, no other rule's ports merged in.
    pub fn port_texts(&self, source: &crate::source::SourceFile) -> Vec<crate::facts::PortText> {
        self.rules
            .iter()
            .filter_map(|r| {
                let (LocalPorts::Set(ports), Some(at)) = (&r.local_ports, r.ports_span) else {
                    return None;
                };
                let at = unquoted(source, value_of(source, at)?)?;
                let written = source.text.get(at.range())?;
                (parse_port_list(written).ok()? == *ports).then_some(crate::facts::PortText {
                    rule: r.span,
                    syntax: crate::facts::PortSyntax::DashList,
                    value: at,
                    second: None,
                    line: None,
                })
            })
            .collect()
    }

    /// Inbound TCP as this file's firewall decides it, per profile; the top-level
    /// fields describe the profile the host is in, the public profile when unknown.
    pub fn to_firewall(&self, file: FileId) -> Firewall {
        let [domain, private, public] = Profile::ALL.map(|p| Box::new(self.profile_facts(p, file)));
        let profiles = Profiles {
            domain,
            private,
            public,
            host: self
                .host_profile
                .map(|(p, span)| Located::new(p, Some(span))),
            before_vista: false,
        };
        profiles.into_firewall()
    }

    fn profile_facts(&self, profile: Profile, file: FileId) -> Firewall {
        let lowered = self.lower(profile);
        let mut fw = crate::filter::eval::firewall_facts(&lowered.ruleset, file);
        fw.uncertain.splice(0..0, self.uncertain.iter().cloned());
        fw.uncertain.extend(lowered.uncertain);
        // Windows' stateful FTP filter reads the FTP service's control channel
        // and opens each data connection it announces, as a conntrack helper
        // with a RELATED accept does; it cannot read a TLS channel ("the
        // Windows Firewall filter for stateful FTP inspection will not be able
        // to parse encrypted data", IIS's FTP firewall guide).
        fw.admits_related = false;
        if let Some((true, span)) = self.stateful_ftp {
            fw.admits_related = true;
            fw.ftp_helpers = vec![crate::facts::FtpHelper::on(PortSet::connectable(), span)];
        }
        // Rules without addresses filter both families alike; the stateful
        // filter's admission of active-mode replies is not lowered yet.
        fw.family = None;
        fw.active = None;
        fw.dialect = crate::facts::Dialect::WindowsFirewall;
        fw.disabled = self.disabled_openers(profile);
        fw.service_scoped = self
            .rules
            .iter()
            .filter(|r| r.service_only && r.action == RuleAction::Allow)
            .map(|r| r.span)
            .collect();
        fw
    }

    /// Inbound allow rules of `profile` that would open TCP ports but are
    /// disabled, with those ports.
    fn disabled_openers(&self, profile: Profile) -> Vec<(Span, PortSet)> {
        let enabled = |r: &WinRule| WinRule {
            enabled: true,
            ..r.clone()
        };
        self.rules
            .iter()
            .filter(|r| !r.enabled && r.action == RuleAction::Allow)
            .filter(|r| enabled(r).decides_inbound_tcp(profile))
            .filter_map(|r| match &r.local_ports {
                LocalPorts::Set(p) => Some((r.span, p.clone())),
                LocalPorts::Any => Some((r.span, PortSet::connectable())),
                LocalPorts::Unknown(_) => None,
            })
            .collect()
    }

    /// One profile as one input chain: blocks first (they win whatever the
    /// order), then allows, then the profile's default inbound action.
    pub fn lower(&self, profile: Profile) -> Lowered {
        let state = &self.profiles[profile as usize];
        let mut out = Lowering::default();
        let (policy, policy_span) = match (state.off, state.inbound) {
            (Some(span), _) => (ir::Policy::Accept, Some(span)),
            (None, Some((true, span))) => (ir::Policy::Accept, Some(span)),
            (None, Some((false, span))) => (ir::Policy::Drop, Some(span)),
            (None, None) => (ir::Policy::Drop, None),
        };
        if state.off.is_none() {
            let rules = self.effective_rules(profile);
            for action in [RuleAction::Block, RuleAction::Allow] {
                for rule in rules.iter().filter(|r| r.action == action) {
                    out.push(rule);
                }
            }
        }
        out.finish(profile, policy, policy_span)
    }

    /// The rules deciding inbound TCP in `profile`, advanced rules first, then
    /// the legacy exceptions as runs of consecutive ports of one opening.
    fn effective_rules(&self, profile: Profile) -> Vec<WinRule> {
        let mut out: Vec<WinRule> = self
            .rules
            .iter()
            .filter(|r| r.decides_inbound_tcp(profile))
            .cloned()
            .collect();
        let mut run: Option<(usize, Protocol, u16, u16)> = None;
        let lo_key = (profile, Protocol::Tcp, 0);
        for (&(p, protocol, port), &index) in self.legacy.range(lo_key..) {
            if p != profile {
                break;
            }
            match &mut run {
                Some((i, proto, _, hi)) if *i == index && *proto == protocol && *hi + 1 == port => {
                    *hi = port;
                }
                _ => {
                    out.extend(run.and_then(|r| self.legacy_run(r, profile)));
                    run = Some((index, protocol, port, port));
                }
            }
        }
        out.extend(run.and_then(|r| self.legacy_run(r, profile)));
        coalesce_loop_rules(out)
    }

    fn legacy_run(
        &self,
        (index, _, lo, hi): (usize, Protocol, u16, u16),
        profile: Profile,
    ) -> Option<WinRule> {
        let rule = self.legacy_rules.get(index)?;
        rule.decides_inbound_tcp(profile).then(|| WinRule {
            local_ports: LocalPorts::Set(PortSet::range(lo, hi)),
            ..rule.clone()
        })
    }
}

/// The rules one command of a loop added, one per iteration, decide as one
/// rule for the ports of every iteration (and read as one in findings).
fn coalesce_loop_rules(rules: Vec<WinRule>) -> Vec<WinRule> {
    let mut out: Vec<WinRule> = Vec::with_capacity(rules.len());
    for rule in rules {
        if let Some(prev) = out.last_mut() {
            if let (LocalPorts::Set(a), LocalPorts::Set(b)) = (&prev.local_ports, &rule.local_ports)
            {
                let same_but_ports = WinRule {
                    name: prev.name.clone(),
                    local_ports: prev.local_ports.clone(),
                    ..rule.clone()
                } == *prev;
                if same_but_ports {
                    prev.local_ports = LocalPorts::Set(a.union(b));
                    continue;
                }
            }
        }
        out.push(rule);
    }
    out
}

/// A profile's ruleset and what the lowering could not express.
pub struct Lowered {
    pub ruleset: ir::Ruleset<'static>,
    pub uncertain: Vec<Uncertainty>,
}

#[derive(Default)]
struct Lowering {
    rules: Vec<ir::Rule>,
    port_sets: Vec<PortSet>,
    addr_sets: Vec<AddrSet>,
    uncertain: Vec<Uncertainty>,
}

impl Lowering {
    /// A remote list of IPv4 addresses, blocks and ranges becomes a source class
    /// of the filter model; keywords (`LocalSubnet`, `DefaultGateway`, ...) and
    /// IPv6 addresses stay "some sources".
    fn clients(&mut self, remote: &Remote) -> (ir::AddrRef, Applies) {
        let Remote::Some(text) = remote else {
            return (ir::ANY_ADDR, Applies::ToAll);
        };
        match AddrSet::parse_list(Family::V4, text) {
            Ok(set) if !set.is_empty() => {
                self.addr_sets.push(set);
                ((self.addr_sets.len() - 1) as ir::AddrRef, Applies::ToAll)
            }
            _ => (ir::ANY_ADDR, Applies::ToSome),
        }
    }

    /// An allow rule whose ports or remote addresses are not known here (a
    /// variable the script does not set, a keyword, a group of rules the
    /// repository does not hold) may match: it is kept as a rule that may open
    /// every port it could name to some clients, with what was not known
    /// recorded inside its span (as a script's iptables ACCEPT with an unset
    /// `--dport` is), so a port only it opens reads as "may be blocked". A
    /// block rule of that kind is left out: it may close ports, which no
    /// finding claims are open.
    fn push(&mut self, rule: &WinRule) {
        let allow = rule.action == RuleAction::Allow;
        let (key_in, mut may) = match &rule.local_ports {
            LocalPorts::Any => (PortRef::ALL, false),
            LocalPorts::Set(ports) => (self.port_ref(ports), false),
            LocalPorts::Unknown(why) => {
                self.uncertain.push(Uncertainty {
                    span: rule.span,
                    what: why.clone(),
                });
                if !allow {
                    return;
                }
                (PortRef::ALL, true)
            }
        };
        if let Remote::Some(text) = &rule.remote {
            if text.contains(crate::scripts::UNKNOWN) && allow {
                self.uncertain.push(Uncertainty {
                    span: rule.span,
                    what: format!(
                        "remote address `{}` is not known here",
                        text.replace(crate::scripts::UNKNOWN, "…")
                    ),
                });
                may = true;
            }
        }
        let (client_in, mut who) = self.clients(&rule.remote);
        if may {
            who = who.and(Applies::ToSome);
        }
        let mut applies = [Applies::Never; PACKETS];
        applies[Packet::New as usize] = who;
        applies[Packet::Untracked as usize] = who;
        // A stateful filter: what admits the connection admits its later packets.
        applies[Packet::Established as usize] = who;
        self.rules.push(ir::Rule {
            span: rule.span,
            key_in,
            key_out: PortRef::Empty,
            client_in,
            client_out: ir::ANY_ADDR,
            applies,
            iface_in: ir::IfaceMatch::Any,
            iface_out: ir::IfaceMatch::Any,
            proto: match rule.protocol {
                Protocol::Tcp => ir::Proto::Tcp,
                _ => ir::Proto::Any,
            },
            plain: rule.remote == Remote::All && !may,
            state: None,
            mark: None,
            target: match rule.action {
                RuleAction::Allow => Target::Accept,
                RuleAction::Block => Target::Drop,
            },
            spec: 0,
            nd: crate::filter::ir::NdMatch::NOT_JUDGED,
        });
    }

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

    fn finish(self, profile: Profile, policy: ir::Policy, policy_span: Option<Span>) -> Lowered {
        let chain = ir::Chain {
            rules: Cow::Owned(self.rules),
            policy,
            policy_span,
            live: true,
        };
        let ruleset = ir::Ruleset {
            // Rules without addresses filter both families alike.
            family: crate::addrset::Family::V4,
            tables: vec![ir::Table {
                chains: vec![chain],
            }],
            bases: vec![Base {
                hook: Hook::Input,
                priority: 0,
                kind: BaseKind::Filter,
                table: 0,
                chain: 0,
                label: format!("Windows Firewall ({} profile)", profile.name()),
            }],
            port_sets: Cow::Owned(self.port_sets),
            addr_sets: Cow::Owned(self.addr_sets),
            ifaces: Cow::Borrowed(&[]),
        };
        Lowered {
            ruleset,
            uncertain: self.uncertain,
        }
    }
}

/// The value of a netsh `tag=value` argument (the span is the whole argument),
/// or the span itself.
fn value_of(source: &crate::source::SourceFile, at: Span) -> Option<Span> {
    let text = source.text.get(at.range())?;
    Some(match text.find('=') {
        Some(i) => Span {
            file: at.file,
            start: at.start + i as u32 + 1,
            end: at.end,
        },
        None => at,
    })
}

/// The span inside one pair of quotes around it, or the span itself.
fn unquoted(source: &crate::source::SourceFile, at: Span) -> Option<Span> {
    let text = source.text.get(at.range())?;
    let quoted = text.len() >= 2
        && ["\"", "'"]
            .iter()
            .any(|q| text.starts_with(q) && text.ends_with(q));
    if !quoted {
        return Some(at);
    }
    Some(Span {
        file: at.file,
        start: at.start + 1,
        end: at.end - 1,
    })
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

/// A port list netsh or New-NetFirewallRule refuses only for ranges written
/// high-low (`21,5201-5001`): the list with those items' ends swapped
/// (`21,5001-5201`), every other byte as written. `None` for any other list
/// (one with an item that stays refused after the swap: `5201-5001,abc`).
pub fn reversed_range_swapped(text: &str) -> Option<String> {
    let mut items: Vec<String> = Vec::new();
    let mut swapped = false;
    for item in text.split(',') {
        if let Some(s) = swap_ends(item) {
            items.push(s);
            swapped = true;
            continue;
        }
        parse_port_list(item).ok()?;
        items.push(item.to_owned());
    }
    swapped.then(|| items.join(","))
}

/// `5201-5001` → `5001-5201`, the blanks around and inside kept where they are;
/// `None` unless both ends are ports and the first lies above the second.
pub fn swap_ends(item: &str) -> Option<String> {
    let core = item.trim();
    let lead = item.len() - item.trim_start().len();
    let (first, second) = core.split_once('-')?;
    let (a, b) = (first.trim_end(), second.trim_start());
    let port = |w: &str| {
        (!w.is_empty() && w.len() <= 5 && w.bytes().all(|c| c.is_ascii_digit()))
            .then(|| w.parse::<u16>().ok())
            .flatten()
    };
    if port(a)? <= port(b)? {
        return None;
    }
    let middle = core.get(a.len()..core.len() - b.len())?;
    let head = item.get(..lead)?;
    let tail = item.get(lead + core.len()..)?;
    Some(format!("{head}{b}{middle}{a}{tail}"))
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
    /// Edits that resolve it, the preferred first (see [`Diagnostic::fixes`]).
    pub fixes: Vec<Fix>,
    /// The most severe it may be, below the rule's default (a value not known here).
    pub at_most: Option<crate::diag::Severity>,
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
            fixes: Vec::new(),
            at_most: None,
        }
    }

    /// Never more severe than `severity`.
    pub fn at_most(mut self, severity: crate::diag::Severity) -> Self {
        self.at_most = Some(severity);
        self
    }

    /// A fix that changes nothing beyond the finding (`check --fix` applies it).
    pub fn fix(mut self, title: impl Into<String>, edits: Vec<(Span, String)>) -> Self {
        self.fixes.push(Fix {
            title: title.into(),
            edits,
            safe: true,
        });
        self
    }

    /// A fix that changes what the host does beyond the finding (`--unsafe-fixes`).
    pub fn unsafe_fix(mut self, title: impl Into<String>, edits: Vec<(Span, String)>) -> Self {
        self.fixes.push(Fix {
            title: title.into(),
            edits,
            safe: false,
        });
        self
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
        d = d.with_fixes(self.fixes.iter().cloned());
        if let Some(severity) = self.at_most {
            d = d.at_most(severity);
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
    use crate::facts::DefaultPolicy;

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
        let elsewhere = probe.complement();
        let opener = fw.openers(&elsewhere).next().unwrap();
        assert_eq!(opener.rule_ports, PortSet::range(5000, 5100));
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
        loop_rule.profiles = ProfileSet::LEGACY_ALL;
        w.apply(Change::Add(loop_rule));
        w.apply(Change::DeletePortOpening {
            protocol: Protocol::Tcp,
            ports: PortSet::range(5101, 5300),
            profiles: ProfileSet::LEGACY_ALL,
        });
        let private = w.to_firewall(FileId(0)).in_profile(Profile::Private);
        assert_eq!(private.open_to_all.to_string(), "5001-5100");
    }

    #[test]
    fn a_legacy_opening_misses_the_public_profile_unless_the_host_is_on_it() {
        let mut w = WinFirewall::default();
        let mut legacy = rule(RuleAction::Allow, PortSet::single(21), 1);
        legacy.legacy = true;
        legacy.profiles = ProfileSet::CURRENT;
        w.apply(Change::Add(legacy.clone()));
        let fw = w.to_firewall(FileId(0));
        assert!(fw.open_to_all.is_empty(), "public is shown and closed");
        assert_eq!(fw.in_profile(Profile::Domain).open_to_all.to_string(), "21");
        w.apply(Change::HostProfile {
            profile: Profile::Public,
            span: span(2),
        });
        legacy.local_ports = LocalPorts::Set(PortSet::single(990));
        w.apply(Change::Add(legacy));
        let fw = w.to_firewall(FileId(0));
        assert_eq!(fw.open_to_all.to_string(), "990");
        assert_eq!(fw.profiles.map(|p| p.shown()), Some(Profile::Public));
    }

    #[test]
    fn profile_switches_apply_to_their_profiles_only() {
        let mut w = WinFirewall::default();
        w.apply(Change::Add(rule(RuleAction::Allow, PortSet::single(21), 1)));
        w.apply(Change::State {
            on: false,
            profiles: ProfileSet::of(Profile::Domain),
            span: span(2),
        });
        w.apply(Change::InboundAllow {
            allow: true,
            profiles: ProfileSet::of(Profile::Private),
            span: span(3),
        });
        let fw = w.to_firewall(FileId(0));
        let open = |p| fw.in_profile(p).open_to_all.to_string();
        assert_eq!(open(Profile::Domain), "1-65535");
        assert_eq!(open(Profile::Private), "1-65535");
        assert_eq!(open(Profile::Public), "21");
        assert_eq!(fw.default_policy.value, DefaultPolicy::Drop);
    }

    #[test]
    fn a_rule_opens_only_the_profiles_it_names() {
        let mut w = WinFirewall::default();
        let mut private = rule(RuleAction::Allow, PortSet::single(21), 1);
        private.profiles = ProfileSet::parse_list("Domain,Private").unwrap();
        w.apply(Change::Add(private));
        let fw = w.to_firewall(FileId(0));
        assert!(fw.open_to_all.is_empty());
        assert_eq!(
            fw.in_profile(Profile::Private).open_to_all.to_string(),
            "21"
        );
        assert!(ProfileSet::parse_list("public,bogus").is_none());
        assert_eq!(
            ProfileSet::parse_legacy("STANDARD"),
            Some(ProfileSet::of(Profile::Private))
        );
    }

    #[test]
    fn several_files_combine_profile_by_profile() {
        let mut legacy = WinFirewall::default();
        let mut opening = rule(RuleAction::Allow, PortSet::range(21, 22), 1);
        opening.legacy = true;
        opening.profiles = ProfileSet::LEGACY_ALL;
        legacy.apply(Change::Add(opening));
        let mut adv = WinFirewall::default();
        adv.apply(Change::Add(rule(RuleAction::Allow, PortSet::single(21), 2)));
        adv.apply(Change::HostProfile {
            profile: Profile::Private,
            span: span(3),
        });
        let both = Firewall::combine(vec![
            legacy.to_firewall(FileId(0)),
            adv.to_firewall(FileId(1)),
        ])
        .unwrap();
        assert_eq!(both.open_to_all.to_string(), "21", "the host is on private");
        assert!(both.in_profile(Profile::Public).open_to_all.is_empty());
        assert_eq!(both.files, vec![FileId(0), FileId(1)]);
    }

    #[test]
    fn firewall_off_opens_everything() {
        let mut w = WinFirewall::default();
        w.apply(Change::State {
            on: false,
            profiles: ProfileSet::ALL,
            span: span(3),
        });
        let fw = w.to_firewall(FileId(0));
        assert_eq!(fw.open_to_all.to_string(), "1-65535");
        assert_eq!(fw.default_policy.value, DefaultPolicy::Accept);
    }

    #[test]
    fn sixty_thousand_one_port_openings_stay_fast() {
        let mut w = WinFirewall::default();
        for port in 1024..=65535u16 {
            let mut one = rule(RuleAction::Allow, PortSet::single(port), usize::from(port));
            one.legacy = true;
            one.profiles = ProfileSet::LEGACY_ALL;
            w.apply(Change::Add(one));
        }
        let private = w.to_firewall(FileId(0)).in_profile(Profile::Private);
        assert_eq!(private.open_to_all.to_string(), "1024-65535");
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

    #[test]
    fn reversed_ranges_are_swapped_in_place() {
        assert_eq!(
            reversed_range_swapped("21,5201-5001").as_deref(),
            Some("21,5001-5201")
        );
        assert_eq!(
            reversed_range_swapped("21, 5201 - 5001 ,990").as_deref(),
            Some("21, 5001 - 5201 ,990")
        );
        assert_eq!(reversed_range_swapped("21,5001-5201"), None);
        assert_eq!(reversed_range_swapped("70000,5201-5001"), None);
        assert_eq!(reversed_range_swapped("5201-5001-2"), None);
        assert_eq!(reversed_range_swapped("5201-5001,abc"), None);
        assert_eq!(
            reversed_range_swapped("5201-5001,21,6001-6000").as_deref(),
            Some("5001-5201,21,6000-6001")
        );
        assert_eq!(swap_ends("5201-5201"), None);
    }
}
