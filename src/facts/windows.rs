//! A file's changes to the Windows Firewall, as every Windows source (`.reg`
//! exports, `netsh` and PowerShell scripts) reads them: rules, the commands that
//! edit or delete them, and profile switches, in the order they run. The hosts
//! stage applies every file's changes to one rule store
//! (`crate::formats::winfw::merged`).

use crate::facts::{Firewall, PortText, Profile, Uncertainty};
use crate::portset::PortSet;
use crate::source::{FileId, Span};

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

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
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

/// The profiles a rule or setting applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProfileSet {
    bits: u8,
}

const CURRENT_BIT: u8 = 8;
const ACTIVE_BIT: u8 = 16;

impl ProfileSet {
    pub const ALL: ProfileSet = ProfileSet { bits: 7 };
    pub const NONE: ProfileSet = ProfileSet { bits: 0 };
    /// Legacy `netsh firewall ... profile=ALL`: domain and standard (= private), never public.
    pub const LEGACY_ALL: ProfileSet = ProfileSet { bits: 3 };
    /// The profile the host is in when the command runs (legacy `profile=CURRENT`,
    /// `netsh advfirewall set currentprofile`), resolved by [`WinFirewall`].
    pub const CURRENT: ProfileSet = ProfileSet { bits: CURRENT_BIT };
    /// `netsh advfirewall set currentprofile`: the profile the host is in, whichever it is.
    pub const ACTIVE: ProfileSet = ProfileSet { bits: ACTIVE_BIT };

    pub fn of(profile: Profile) -> ProfileSet {
        ProfileSet {
            bits: 1 << profile as u8,
        }
    }

    pub fn with(self, other: ProfileSet) -> ProfileSet {
        ProfileSet {
            bits: self.bits | other.bits,
        }
    }

    pub fn contains(self, profile: Profile) -> bool {
        self.bits & ProfileSet::of(profile).bits != 0
    }

    pub(crate) fn is_current(self) -> bool {
        self.bits & (CURRENT_BIT | ACTIVE_BIT) != 0
    }

    /// `any`, `domain,private`, `Public` (netsh, PowerShell and registry spellings);
    /// `None` when a word is not a profile.
    pub fn parse_list(text: &str) -> Option<ProfileSet> {
        text.split(',').try_fold(ProfileSet::NONE, |acc, word| {
            let one = match word.trim().to_ascii_lowercase().as_str() {
                "any" | "all" | "*" => ProfileSet::ALL,
                "domain" => ProfileSet::of(Profile::Domain),
                "private" => ProfileSet::of(Profile::Private),
                "public" => ProfileSet::of(Profile::Public),
                _ => return None,
            };
            Some(acc.with(one))
        })
    }

    /// Legacy `netsh firewall` `profile=CURRENT|DOMAIN|STANDARD|ALL` (Vista and later map
    /// standard onto private; ALL is domain and standard, not public).
    pub fn parse_legacy(text: &str) -> Option<ProfileSet> {
        match text.trim().to_ascii_lowercase().as_str() {
            "current" => Some(ProfileSet::CURRENT),
            "domain" => Some(ProfileSet::of(Profile::Domain)),
            "standard" => Some(ProfileSet::of(Profile::Private)),
            "all" => Some(ProfileSet::LEGACY_ALL),
            _ => None,
        }
    }

    /// `allprofiles`, `domainprofile`, `privateprofile`, `publicprofile`, `currentprofile`.
    pub fn parse_netsh_store(word: &str) -> Option<ProfileSet> {
        match word {
            "allprofiles" => Some(ProfileSet::ALL),
            "currentprofile" => Some(ProfileSet::ACTIVE),
            "domainprofile" => Some(ProfileSet::of(Profile::Domain)),
            "privateprofile" => Some(ProfileSet::of(Profile::Private)),
            "publicprofile" => Some(ProfileSet::of(Profile::Public)),
            _ => None,
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
    /// Addresses, `LocalSubnet`, `scope=SUBNET`/`CUSTOM` lists, as written.
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
    /// The rule admits only the sockets of the FTP service (`service=ftpsvc`,
    /// `-Service ftpsvc`): with any port, it opens the ports the service
    /// listens on, not every port of the host.
    pub service_only: bool,
    /// A legacy `netsh firewall` port opening (keyed by protocol and port).
    pub legacy: bool,
    pub profiles: ProfileSet,
    pub span: Span,
    /// Where `localport` / `-LocalPort` is written, when the rule names it.
    pub ports_span: Option<Span>,
}

impl WinRule {
    /// An enabled inbound allow rule for all sources and profiles, the common case.
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
            service_only: false,
            legacy: false,
            profiles: ProfileSet::ALL,
            span,
            ports_span: None,
        }
    }

    pub(crate) fn decides_inbound_tcp(&self, profile: Profile) -> bool {
        self.enabled
            && self.dir == Direction::In
            && self.protocol.covers_tcp()
            && self.applies_to_ftp
            && self.profiles.contains(profile)
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
    pub(crate) fn matches(&self, rule: &WinRule) -> bool {
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

/// The fields a `set rule … new …` or a `Set-NetFirewallRule` gives the rules
/// it names; `None` keeps the rule's own.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleEdit {
    pub local_ports: Option<LocalPorts>,
    /// Where the new ports are written.
    pub ports_span: Option<Span>,
    pub action: Option<RuleAction>,
    pub dir: Option<Direction>,
    pub protocol: Option<Protocol>,
    pub remote: Option<Remote>,
    pub profiles: Option<ProfileSet>,
    pub enabled: Option<bool>,
    /// The command that edits: the rule as it now decides was last written here.
    pub span: Span,
}

impl RuleEdit {
    pub fn at(span: Span) -> RuleEdit {
        RuleEdit {
            local_ports: None,
            ports_span: None,
            action: None,
            dir: None,
            protocol: None,
            remote: None,
            profiles: None,
            enabled: None,
            span,
        }
    }

    pub(crate) fn apply(&self, rule: &mut WinRule) {
        let decides = self.local_ports.is_some()
            || self.action.is_some()
            || self.dir.is_some()
            || self.protocol.is_some()
            || self.remote.is_some()
            || self.profiles.is_some();
        if let Some(ports) = &self.local_ports {
            rule.local_ports = ports.clone();
            rule.ports_span = self.ports_span;
        }
        rule.action = self.action.unwrap_or(rule.action);
        rule.dir = self.dir.unwrap_or(rule.dir);
        rule.protocol = self.protocol.unwrap_or(rule.protocol);
        if let Some(remote) = &self.remote {
            rule.remote = remote.clone();
        }
        rule.profiles = self.profiles.unwrap_or(rule.profiles);
        rule.enabled = self.enabled.unwrap_or(rule.enabled);
        if decides {
            rule.span = self.span;
        }
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
        profiles: ProfileSet,
    },
    /// `set rule ... new enable=`, `Enable-/Disable-NetFirewallRule`.
    SetEnabled {
        filter: RuleFilter,
        enabled: bool,
    },
    /// `set rule name=X new localport=…`, `Set-NetFirewallRule -LocalPort …`.
    Edit {
        filter: RuleFilter,
        edit: RuleEdit,
    },
    /// The firewall of these profiles turned on or off.
    State {
        on: bool,
        profiles: ProfileSet,
        span: Span,
    },
    /// Default inbound action of these profiles: `true` = allow (`firewallpolicy allowinbound`).
    InboundAllow {
        allow: bool,
        profiles: ProfileSet,
        span: Span,
    },
    /// The network the host is on (`Set-NetConnectionProfile -NetworkCategory Private`).
    HostProfile {
        profile: Profile,
        span: Span,
    },
    /// `netsh advfirewall set global StatefulFtp enable|disable`,
    /// `Set-NetFirewallSetting -EnableStatefulFtp True|False`.
    StatefulFtp {
        on: bool,
        span: Span,
    },
    /// `netsh advfirewall reset`: rules added so far are gone, defaults back.
    Reset,
    /// A firewall command the cmdlet rejects: it changes nothing, but shows the
    /// host's firewall is the one this script manages.
    Rejected,
    Uncertain(Uncertainty),
}

/// One profile's switches: `None` = the built-in default (on, block inbound).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProfileState {
    /// Set when the firewall of this profile was turned off (and not back on).
    pub off: Option<Span>,
    /// The default inbound action set explicitly: allow or block, and where.
    pub inbound: Option<(bool, Span)>,
}

/// The rules and switches of one file, after every change.
/// One file's share of its host's Windows Firewall (see [`merged`]).
#[derive(Clone, Debug)]
pub struct Part {
    pub file: FileId,
    pub path: std::path::PathBuf,
    /// The file's changes to the firewall, in the order they run.
    pub changes: Vec<Change>,
    /// Where its rules' port lists are written, for fixes.
    pub texts: Vec<PortText>,
    /// The file's filters that are not the Windows Firewall (an IPsec policy a
    /// script assigns): they filter on their own, after it.
    pub others: Option<Firewall>,
}
