//! Vendor-neutral facts: what an FTP server announces and what a firewall lets in.
//!
//! Parsers turn their Documents into these; host rules read only these, so a rule
//! written against vsftpd + iptables works unchanged for IIS + Windows Firewall.

pub use crate::addrset::{AddrSet, Family};
use crate::portset::PortSet;
use crate::source::{FileId, Span};

pub mod windows;

/// A value and where it came from; `span` is `None` for a compiled-in default.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Located<T> {
    pub value: T,
    pub span: Option<Span>,
}

impl<T> Located<T> {
    pub fn new(value: T, span: Option<Span>) -> Self {
        Located { value, span }
    }

    pub fn default_value(value: T) -> Self {
        Located { value, span: None }
    }
}

/// Whether clients may protect the control channel with TLS, which blinds a
/// firewall's FTP helper (it can no longer read the PASV reply).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ControlTls {
    /// No session can use TLS on the control connection.
    Never,
    /// Clients may choose TLS (AUTH TLS offered, not required).
    Optional,
    /// Some or all sessions must use TLS.
    Required,
}

impl ControlTls {
    pub fn as_str(&self) -> &'static str {
        match self {
            ControlTls::Never => "never",
            ControlTls::Optional => "optional",
            ControlTls::Required => "required",
        }
    }
}

/// The address families a server accepts control connections on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Families {
    Ipv4,
    Ipv6,
    /// One socket for both (Linux `::` with `net.ipv6.bindv6only=0`, where IPv4
    /// clients arrive as `::ffff:a.b.c.d`), or bindings of each family.
    Both,
}

impl Families {
    pub fn names(&self) -> &'static [&'static str] {
        match self {
            Families::Ipv4 => &["ipv4"],
            Families::Ipv6 => &["ipv6"],
            Families::Both => &["ipv4", "ipv6"],
        }
    }

    pub fn union(self, other: Families) -> Families {
        if self == other { self } else { Families::Both }
    }
}

/// Who logs in: the server's own user classes, or `All` when it does not tell them apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum UserKind {
    Anonymous,
    /// Accounts of the host (or its domain).
    Local,
    /// Logins checked by the host but mapped to one guest account (vsftpd `guest_enable`).
    Virtual,
    All,
}

impl UserKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            UserKind::Anonymous => "anonymous",
            UserKind::Local => "local",
            UserKind::Virtual => "virtual",
            UserKind::All => "all",
        }
    }
}

/// One class of users the server lets in, and what it demands of their control channel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserClass {
    pub kind: UserKind,
    pub tls: ControlTls,
    /// The settings that enable the class and decide its TLS, first to last.
    pub spans: Vec<Span>,
}

/// The strongest TLS demand among `classes`; `None` when no one can log in.
pub fn strongest_tls(classes: &[UserClass]) -> Option<ControlTls> {
    classes.iter().map(|c| c.tls).max()
}

/// Where a server's passive range is written, so a fix can move it: each
/// span is rewritten as its prefix followed by the new range's part.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct RangeSetting {
    pub edits: Vec<(Span, &'static str, RangePart)>,
    /// The daemon refuses a range of one port (ProFTPD: max must exceed min).
    pub distinct_ends: bool,
}

/// Which part of a range a setting's value holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RangePart {
    Low,
    High,
    /// Both ends, joined by the separator (`5001-5100`, `21100:21110`).
    Both(&'static str),
}

impl RangeSetting {
    /// Each end in a value of its own.
    pub fn ends(low: Span, high: Span) -> RangeSetting {
        RangeSetting {
            edits: vec![(low, "", RangePart::Low), (high, "", RangePart::High)],
            distinct_ends: false,
        }
    }

    /// Both ends in one value.
    pub fn joined(value: Span, separator: &'static str) -> RangeSetting {
        RangeSetting {
            edits: vec![(value, "", RangePart::Both(separator))],
            distinct_ends: false,
        }
    }

    /// A value written exactly as `lo`, a separator, `hi` (`30000 50000`,
    /// `5001-5100`, `21100:21110`), rewritten with the same separator.
    pub fn joined_as_written(value: Span, text: &str, lo: u16, hi: u16) -> Option<RangeSetting> {
        let separator = ["-", ":", " ", "\t"]
            .into_iter()
            .find(|sep| text == format!("{lo}{sep}{hi}"))?;
        Some(RangeSetting::joined(value, separator))
    }

    /// The edits that make the server hand out `lo`-`hi`; `None` when the
    /// daemon would refuse that range.
    pub fn rewrite(&self, lo: u16, hi: u16) -> Option<Vec<(Span, String)>> {
        if lo > hi || (self.distinct_ends && lo == hi) {
            return None;
        }
        let edits = self
            .edits
            .iter()
            .map(|&(span, prefix, part)| {
                let value = match part {
                    RangePart::Low => lo.to_string(),
                    RangePart::High => hi.to_string(),
                    RangePart::Both(separator) => format!("{lo}{separator}{hi}"),
                };
                (span, format!("{prefix}{value}"))
            })
            .collect();
        Some(edits)
    }
}

/// The passive-mode data ports a server announces.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Passive {
    Disabled {
        /// The setting that turns passive mode off, when there is one.
        span: Option<Span>,
        /// The range the config still names (it would be used if passive were on).
        configured: Option<PortSet>,
    },
    Enabled {
        /// The set the daemon really hands out, as the daemon computes it.
        ports: PortSet,
        /// Whether the config chose the range on purpose (false for defaults and
        /// for values the daemon ignores).
        deliberate: bool,
        /// The settings behind the range (e.g. `pasv_min_port` and `pasv_max_port` lines).
        spans: Vec<Span>,
    },
    /// The range depends on values that cannot be known here (templates); the
    /// first span, when a format knows it, is the setting that is not known.
    Unknown { spans: Vec<Span>, reason: String },
}

impl Passive {
    /// The range the config sets on purpose, when it is one range.
    pub fn deliberate_range(&self) -> Option<(u16, u16)> {
        match self {
            Passive::Enabled {
                ports,
                deliberate: true,
                ..
            } if ports.ranges().len() == 1 => ports.widest_range(),
            _ => None,
        }
    }

    pub fn ports(&self) -> Option<&PortSet> {
        match self {
            Passive::Enabled { ports, .. } => Some(ports),
            _ => None,
        }
    }
}

/// Active mode (PORT/EPRT): the server opens the data connection to the client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Active {
    /// The server refuses PORT (vsftpd `port_enable=NO`: `550 Permission denied.`).
    Disabled { span: Option<Span> },
    Enabled {
        /// The data connection's source port: `Some(ftp_data_port)` with
        /// `connect_from_port_20=YES`, `None` for an ephemeral port
        /// ([`EPHEMERAL_PORTS`]).
        source_port: Located<Option<u16>>,
        /// Whether the config mentions active mode at all (`port_enable`,
        /// `connect_from_port_20` or `ftp_data_port`), rather than inheriting it.
        deliberate: bool,
        /// The settings behind it, first to last.
        spans: Vec<Span>,
    },
    /// Not modelled for this server, or templated.
    Unknown,
}

/// Linux `net.ipv4.ip_local_port_range` default: where an unbound outbound
/// connection's source port comes from.
pub const EPHEMERAL_PORTS: (u16, u16) = (32768, 60999);

impl Active {
    /// The server-side ports of its active data connections.
    pub fn source_ports(&self) -> Option<PortSet> {
        match self {
            Active::Enabled { source_port, .. } => Some(match source_port.value {
                Some(p) => PortSet::single(p),
                None => PortSet::range(EPHEMERAL_PORTS.0, EPHEMERAL_PORTS.1),
            }),
            _ => None,
        }
    }
}

/// One FTP server configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FtpServer {
    pub file: FileId,
    /// `vsftpd`, `iis6`, `iis7`, ...
    pub server: &'static str,
    /// `None` when the port is templated or otherwise unknown.
    pub control_port: Located<Option<u16>>,
    pub passive: Passive,
    /// Concurrent sessions the server admits; `Some(None)` = unlimited,
    /// `None` = unknown (e.g. limit not enforced in this mode).
    pub max_sessions: Located<Option<Option<u32>>>,
    /// The strongest control-channel TLS demand among `user_classes` (the
    /// channel's own when no class can log in).
    pub tls: Located<ControlTls>,
    /// `None` when unknown: started from inetd, templated, or refusing to start.
    pub families: Located<Option<Families>>,
    /// Classes that can log in, in the server's own order.
    pub user_classes: Vec<UserClass>,
    pub active: Active,
    /// The address the server announces in its PASV replies when the config sets
    /// one (vsftpd `pasv_address`, IIS `externalIp4Address`); `None` without a
    /// span: the address the client connected to; `None` with the span of the
    /// setting: set to a value not known here (a template, a variable read at run
    /// time), so neither "unset" nor any address may be assumed.
    pub passive_address: Located<Option<String>>,
    /// The one IPv4 address the control socket is bound to (vsftpd
    /// `listen_address`), so the address clients connect to; `None`: every
    /// address of the host, none of which the repository tells.
    pub listen_address: Located<Option<String>>,
    /// When every port of the passive range is busy, the server binds a port
    /// outside it instead of refusing PASV (ProFTPD: a kernel-chosen port),
    /// which a firewall opening only the range then blocks.
    pub falls_back_outside_range: bool,
    /// Where the range the server hands out is written, when a fix can move it
    /// (the config sets it, exactly and in a file pasvlint can edit).
    pub range_setting: Option<RangeSetting>,
    /// A span that stands for the whole server config (first setting, or file start).
    pub anchor: Span,
    /// The container the server runs in, when its file starts containers each
    /// behind a filter of its own (a compose project's services).
    pub container: Option<Box<Container>>,
}

/// One container of a file that starts several: Docker publishes per container,
/// so one service's `ports:` open nothing of another's, and a container on the
/// host's network is behind the host's own firewall instead.
#[derive(Clone, Debug)]
pub struct Container {
    /// The service's name, which names its host when the file has several.
    pub name: String,
    /// The container's own publishing; `None` with `network_mode: host`
    /// (Docker filters nothing: the host's firewall is in front).
    pub front: Option<Firewall>,
}

/// A file's containers are told apart by name (compose service names are unique).
impl PartialEq for Container {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Eq for Container {}

impl FtpServer {
    /// Where a finding about the whole server points: its anchor, unless that lies
    /// in another file than the passive range's setting (the first line of an
    /// included `modules.conf`, or of pure-ftpd's `conf/AltLog`): then that setting.
    pub fn focus(&self) -> Span {
        let passive = match &self.passive {
            Passive::Enabled { spans, .. } | Passive::Unknown { spans, .. } => spans.last(),
            Passive::Disabled { span, .. } => span.as_ref(),
        };
        passive
            .copied()
            .filter(|p| p.file != self.anchor.file)
            .unwrap_or(self.anchor)
    }

    /// The server's own names for its settings, for messages and help.
    pub fn vocabulary(&self) -> Vocabulary {
        match self.server {
            "vsftpd" => Vocabulary {
                product: "vsftpd",
                max_sessions: "max_clients",
                control_port: "listen_port",
                range: |lo, hi| format!("pasv_min_port={lo} and pasv_max_port={hi}"),
                random_bind_attempts: Some(9),
                ports_allowed: (1024, 65535),
            },
            "iis6" | "iis5" => Vocabulary {
                product: "IIS",
                max_sessions: "MaxConnections",
                control_port: "ServerBindings",
                range: |lo, hi| format!("PassivePortRange=\"{lo}-{hi}\""),
                random_bind_attempts: None,
                ports_allowed: (5001, 65535),
            },
            "iis7" => Vocabulary {
                product: "IIS",
                max_sessions: "maxConnections",
                control_port: "the ftp binding",
                range: |lo, hi| format!("lowDataChannelPort={lo} and highDataChannelPort={hi}"),
                random_bind_attempts: None,
                ports_allowed: (1025, 65535),
            },
            // Images that write the daemon's config from their environment
            // (src/formats/compose/images.rs): fixes name the variables.
            "fauria/vsftpd" => Vocabulary {
                product: "vsftpd",
                max_sessions: "max_clients",
                control_port: "the published control port",
                range: |lo, hi| format!("PASV_MIN_PORT={lo} and PASV_MAX_PORT={hi}"),
                random_bind_attempts: Some(9),
                ports_allowed: (1024, 65535),
            },
            "delfer/alpine-ftp-server" => Vocabulary {
                product: "vsftpd",
                max_sessions: "max_clients",
                control_port: "the published control port",
                range: |lo, hi| format!("MIN_PORT={lo} and MAX_PORT={hi}"),
                random_bind_attempts: Some(9),
                ports_allowed: (1024, 65535),
            },
            "stilliard/pure-ftpd" => Vocabulary {
                product: "pure-ftpd",
                max_sessions: "FTP_MAX_CLIENTS",
                control_port: "the published control port",
                range: |lo, hi| format!("FTP_PASSIVE_PORTS={lo}:{hi}"),
                random_bind_attempts: None,
                ports_allowed: (1024, 65535),
            },
            "garethflowers/ftp-server" | "panubo/vsftpd" | "million12/vsftpd" | "bogem/ftp" => {
                Vocabulary {
                    product: "vsftpd",
                    max_sessions: "max_clients",
                    control_port: "the published control port",
                    range: |lo, hi| {
                        format!(
                            "a range of {lo}-{hi} (the image fixes its range: publish it whole)"
                        )
                    },
                    random_bind_attempts: Some(9),
                    ports_allowed: (1024, 65535),
                }
            }
            "pure-ftpd" => Vocabulary {
                product: "pure-ftpd",
                max_sessions: "MaxClientsNumber",
                control_port: "Bind",
                range: |lo, hi| format!("PassivePortRange {lo} {hi}"),
                random_bind_attempts: None,
                ports_allowed: (1024, 65535),
            },
            "proftpd" => Vocabulary {
                product: "ProFTPD",
                max_sessions: "MaxInstances",
                control_port: "Port",
                range: |lo, hi| format!("PassivePorts {lo} {hi}"),
                random_bind_attempts: None,
                ports_allowed: (1024, 65535),
            },
            "filezilla-0.9" => Vocabulary {
                product: "FileZilla Server",
                max_sessions: "Maximum user count",
                control_port: "Serverports",
                range: |lo, hi| {
                    format!(
                        "Use custom PASV ports=1, Custom PASV min port={lo} and Custom PASV max port={hi}"
                    )
                },
                random_bind_attempts: None,
                ports_allowed: (1024, 65535),
            },
            "filezilla" => Vocabulary {
                product: "FileZilla Server",
                max_sessions: "the session limit",
                control_port: "<listener><port>",
                range: |lo, hi| format!("<port_range><min>{lo}</min><max>{hi}</max></port_range>"),
                // Its port manager skips the ports its own sessions lease; the 15
                // tries only meet ports other programs hold.
                random_bind_attempts: None,
                ports_allowed: (1024, 65535),
            },
            _ => Vocabulary {
                product: "the FTP server",
                max_sessions: "the connection limit",
                control_port: "the control port",
                range: |lo, hi| format!("the passive range to {lo}-{hi}"),
                random_bind_attempts: None,
                ports_allowed: (1024, 65535),
            },
        }
    }
}

/// Setting names of one FTP server product.
pub struct Vocabulary {
    pub product: &'static str,
    pub max_sessions: &'static str,
    pub control_port: &'static str,
    /// How to write a passive range in this product's config.
    pub range: fn(u16, u16) -> String,
    /// The server picks a passive port at random and gives up after this many
    /// busy ports (vsftpd: 9 tries, then `500 OOPS: vsf_sysutil_bind`);
    /// `None` when it finds any free port in the range.
    pub random_bind_attempts: Option<u32>,
    /// The ports a passive range may take in this product (vsftpd ignores a
    /// `pasv_min_port` of 1024 or less, IIS 6 validates 5001-65535).
    pub ports_allowed: (u16, u16),
}

/// What a firewall does to a new inbound TCP connection on a set of ports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verdict {
    Accept,
    Drop,
    Reject,
    /// Destination NAT sends the connection to another address: it never
    /// reaches this host's server (for this host it is closed, like a drop).
    Forward,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DefaultPolicy {
    Accept,
    Drop,
    Reject,
    Unknown,
}

impl DefaultPolicy {
    pub fn as_str(&self) -> &'static str {
        match self {
            DefaultPolicy::Accept => "accept",
            DefaultPolicy::Drop => "drop",
            DefaultPolicy::Reject => "reject",
            DefaultPolicy::Unknown => "unknown",
        }
    }
}

/// Who a decision applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Every source that can reach the host.
    All,
    /// Only some sources, addresses or interfaces (or a rate/connection limit).
    Some,
}

/// A rule (or policy) and the ports it decides, for labels and for
/// "opens more than needed" checks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decision {
    pub verdict: Verdict,
    pub scope: Scope,
    /// Ports this rule decides for new inbound TCP connections (those still
    /// undecided when evaluation reaches it).
    pub ports: PortSet,
    /// Every port the rule's own match names (e.g. the whole multiport list),
    /// even those an earlier rule already decided.
    pub rule_ports: PortSet,
    /// The rule, or the policy line; `None` for a built-in default.
    pub span: Option<Span>,
    /// `true` when this is the chain's default policy rather than a rule.
    pub is_policy: bool,
    /// It decides the connection's later packets (state ESTABLISHED), after an
    /// accept let its SYN in.
    pub later_packets: bool,
}

/// Something the evaluator did not fully understand and over-approximated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Uncertainty {
    pub span: Span,
    pub what: String,
}

/// A closing command that runs only if a condition the reader could not decide
/// holds (`if [ -f /etc/firewall.lockdown ]; then iptables -P INPUT DROP; fi`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClosedIf {
    pub command: Span,
    pub condition: Span,
    /// Both as written, on one line.
    pub command_text: String,
    pub condition_text: String,
}

/// A conntrack FTP helper assigned to a control port (`-j CT --helper ftp`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FtpHelper {
    /// Control ports the helper is attached to, as its rule matches them.
    pub ports: PortSet,
    pub span: Span,
    /// The ports those control connections reach the server on: a helper
    /// assigned before destination NAT sees the port the client connected to.
    pub serves: PortSet,
    /// The nat rule that rewrites the port between the two, when one does.
    pub via: Option<Span>,
}

impl FtpHelper {
    /// A helper that sees the server's own control ports.
    pub fn on(ports: PortSet, span: Span) -> FtpHelper {
        FtpHelper {
            serves: ports.clone(),
            ports,
            span,
            via: None,
        }
    }
}

/// Destination NAT that moves a port to another port of this host
/// (`-j REDIRECT --to-ports 2121`): clients connect to `from`, the server sees `to`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Redirect {
    pub from: PortSet,
    pub to: PortSet,
    pub span: Span,
}

/// Which packet of an active-mode data connection a step decides.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ActivePacket {
    /// The server's SYN to the client (state NEW), leaving through OUTPUT.
    Syn,
    /// The client's SYN-ACK (state ESTABLISHED), coming in through INPUT.
    SynAck,
}

/// Who decides one active-mode packet for a set of server-side ports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActiveStep {
    pub packet: ActivePacket,
    pub verdict: Verdict,
    /// Server-side ports (source port of the SYN = destination port of the SYN-ACK).
    pub ports: PortSet,
    /// `filter OUTPUT`, `raw PREROUTING`, ... (the base chain the packet was in).
    pub chain: String,
    /// The deciding rule, or the policy line; `None` for a built-in ACCEPT default.
    pub span: Option<Span>,
    pub is_policy: bool,
    /// The deciding rule matches on conntrack state ESTABLISHED (not on ports).
    pub by_state: bool,
    /// An accept before the deciding drop that holds only for some connections
    /// (`-d` the host's address, an interface of several, a rate): it may admit
    /// the packet.
    pub may_accept: Option<Span>,
    /// Judged for a data connection the FTP helper expects from the PORT command
    /// (state RELATED, `-m helper --helper ftp` holds), not for one it does not.
    pub helped: bool,
}

/// What one class of clients (addresses every rule treats alike) reaches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceClass {
    /// The clients' addresses; `None` when the firewall names no addresses at all.
    pub sources: Option<AddrSet>,
    /// Ports every client of the class can connect to.
    pub open: PortSet,
    /// Ports only some of them can (an interface, a rate limit), not in `open`.
    pub open_to_some: PortSet,
    /// How the class's ports are decided, in evaluation order.
    pub decisions: Vec<Decision>,
}

impl SourceClass {
    /// Ports some client of the class can connect to.
    pub fn open_to_any(&self) -> PortSet {
        self.open.union(&self.open_to_some)
    }

    /// "clients from 198.51.100.0/24", "clients outside 10.0.0.0/8".
    pub fn describe(&self) -> String {
        describe_clients(self.sources.as_ref())
    }

    /// Decisions that close any of `ports` to this class, in evaluation order.
    pub fn blockers<'a>(&'a self, ports: &'a PortSet) -> impl Iterator<Item = &'a Decision> + 'a {
        closing(&self.decisions, ports)
    }

    /// Accept rules (not policies) that open any of `ports` to this class.
    pub fn openers<'a>(&'a self, ports: &'a PortSet) -> impl Iterator<Item = &'a Decision> + 'a {
        opening(&self.decisions, ports)
    }

    /// The ports of `ports` that rules the firewall's reader was unsure of (a rule
    /// that may match, with one of `uncertain` inside it) open to some of this
    /// class, and what was not known about those rules.
    pub fn maybe_opened<'u>(
        &self,
        ports: &PortSet,
        uncertain: &'u [Uncertainty],
    ) -> (PortSet, Vec<&'u Uncertainty>) {
        let mut maybe = PortSet::empty();
        let mut why: Vec<&Uncertainty> = Vec::new();
        for d in self.openers(ports).filter(|d| d.scope == Scope::Some) {
            let Some(rule) = d.span else { continue };
            let inside = uncertain.iter().filter(|u| {
                u.span.file == rule.file && rule.start <= u.span.start && u.span.end <= rule.end
            });
            let mut any = false;
            for u in inside {
                any = true;
                if !why.contains(&u) {
                    why.push(u);
                }
            }
            if any {
                maybe = maybe.union(&d.ports.intersection(ports));
            }
        }
        (maybe, why)
    }

    /// [`SourceClass::meet`], reusing this class's decisions.
    fn meet_into(mut self, other: &SourceClass) -> Option<SourceClass> {
        let mine = std::mem::take(&mut self.decisions);
        let mut met = self.meet(other)?;
        // `meet` left only `other`'s decisions; this class's come first.
        let theirs = std::mem::replace(&mut met.decisions, mine);
        met.decisions.extend(theirs);
        Some(met)
    }

    /// Both are classes of one partition: the clients in both, with what both let in.
    fn meet(&self, other: &SourceClass) -> Option<SourceClass> {
        let sources = match (&self.sources, &other.sources) {
            (Some(a), Some(b)) => {
                let both = a.intersection(b);
                if both.is_empty() {
                    return None;
                }
                Some(both)
            }
            (a, b) => a.clone().or_else(|| b.clone()),
        };
        let open = self.open.intersection(&other.open);
        let any = self.open_to_any().intersection(&other.open_to_any());
        let mut decisions = self.decisions.clone();
        decisions.extend(other.decisions.iter().cloned());
        Some(SourceClass {
            sources,
            open_to_some: any.difference(&open),
            open,
            decisions,
        })
    }
}

/// "clients from 198.51.100.0/24", "clients outside 10.0.0.0/8", or "every client"
/// for `None` (a firewall that names no addresses).
pub fn describe_clients(sources: Option<&AddrSet>) -> String {
    let Some(sources) = sources else {
        return "every client".into();
    };
    let everyone = crate::addrset::clients(sources.family());
    let outside = everyone.difference(sources);
    if outside.is_empty() {
        "every client".into()
    } else if sources.cidr_blocks().count() > outside.cidr_blocks().count() {
        format!("clients outside {}", summary(&outside))
    } else {
        format!("clients from {}", summary(sources))
    }
}

fn closing<'a>(
    decisions: &'a [Decision],
    ports: &'a PortSet,
) -> impl Iterator<Item = &'a Decision> + 'a {
    decisions
        .iter()
        .filter(move |d| d.verdict != Verdict::Accept && d.ports.intersects(ports))
}

fn opening<'a>(
    decisions: &'a [Decision],
    ports: &'a PortSet,
) -> impl Iterator<Item = &'a Decision> + 'a {
    decisions
        .iter()
        .filter(move |d| d.verdict == Verdict::Accept && !d.is_policy && d.ports.intersects(ports))
}

/// The first CIDR blocks of a set, and how many more there are.
fn summary(set: &AddrSet) -> String {
    let blocks: Vec<String> = set.to_cidr_text().split(',').map(str::to_owned).collect();
    if blocks.len() <= 3 {
        blocks.join(", ")
    } else {
        format!(
            "{} and {} more blocks",
            blocks[..3].join(", "),
            blocks.len() - 3
        )
    }
}

/// How a rule's destination-port value is written, so a fix can rewrite it in
/// the rule's own syntax.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PortSyntax {
    /// iptables `--dport lo:hi`: one port or range.
    Iptables,
    /// iptables `-m multiport --dports a,b:c`: at most 15 slots, a range takes two.
    Multiport,
    /// nftables `tcp dport lo-hi`: one port or range.
    Nft,
    /// nftables `tcp dport { a, b-c }`: the value span holds the braces.
    NftSet,
    /// netsh `localport=a,b-c`, PowerShell `-LocalPort a-b`, a comma list.
    DashList,
    /// One port or `lo-hi` (firewalld `port=`, `--add-port=`).
    Dash,
    /// ufw `allow lo:hi/tcp`: one port or range.
    Colon,
    /// docker-compose `ports:` `"lo-hi:lo-hi"`: the published and the container
    /// range, each rewritten alike.
    Compose,
    /// Terraform `from_port` / `to_port`: the first and the last port.
    FromTo,
    /// A Windows Firewall rule string's port fields (`LPort=21|LPort2_10=5000-5100`,
    /// MS-GPFAS 2.2.2.19): the value span runs from the first port field to the
    /// end of the last, all written side by side. Single ports as `LPort=`,
    /// ranges as `LPort2_10=` (one each), which only rules of version 2.10 and
    /// later may hold (`ranges`).
    RegRule { ranges: bool },
    /// An HCL list of port strings (GCP's `ports = ["21", "5000-5100"]`): the value
    /// span runs from the first element's opening quote to the last one's closing
    /// quote. `indent`: the elements stand one a line at that many spaces (`None`:
    /// on one line, `", "` between them); `crlf`: those lines end in CRLF.
    HclList { indent: Option<u16>, crlf: bool },
}

/// Where one rule's destination-port match is written. A side table beside the
/// ruleset, not a field of the IR's `Rule`: only rules whose value is written exactly
/// (no variable, no loop) and in one match get an entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PortText {
    /// The rule's span, as the IR's `Rule::span` and the decisions name it.
    pub rule: Span,
    pub syntax: PortSyntax,
    /// The value only (`9981:9984`), or the first of two (`from_port`'s number,
    /// compose's published range).
    pub value: Span,
    /// The second value (`to_port`'s number, compose's container range).
    pub second: Option<Span>,
    /// The rule's own line(s), when deleting them deletes this rule and leaves
    /// every other rule as it was.
    pub line: Option<Span>,
}

/// Inbound TCP as one host's firewall decides it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Firewall {
    pub files: Vec<FileId>,
    pub default_policy: Located<DefaultPolicy>,
    /// Ports a new connection from any source completes on (reply path included).
    pub open_to_all: PortSet,
    /// Ports only some sources can connect to (not in `open_to_all`).
    pub open_to_some: PortSet,
    /// Partition of the decided ports by deciding rule, in evaluation order.
    pub decisions: Vec<Decision>,
    /// Helper assignments for FTP control ports.
    pub ftp_helpers: Vec<FtpHelper>,
    /// Accept rules for `RELATED` connections (what a helper's expectation needs).
    pub related_accepts: Vec<Span>,
    /// Ports destination NAT moves to other ports of this host, for every client.
    pub redirects: Vec<Redirect>,
    /// Whether RELATED data connections are admitted at all (an accept for
    /// RELATED is reached before anything drops them).
    pub admits_related: bool,
    /// How the active-mode data path is decided, per packet and server port;
    /// `None` when the firewall format does not model it.
    pub active: Option<Vec<ActiveStep>>,
    pub uncertain: Vec<Uncertainty>,
    /// Conditions its rules are read with whose truth no file gives (`-d` the
    /// host's own address, a rate limit): a rule under one may open ports to
    /// every client or to none. Checks that would call those ports blocked say
    /// "may be blocked" instead.
    pub conditions: Vec<Uncertainty>,
    /// The address family it filters; `None` when it filters every family alike
    /// (rules without addresses, as Windows Firewall's).
    pub family: Option<Family>,
    /// The classes of clients it tells apart, largest first, each with what it
    /// reaches; `open_to_all` is what every class reaches.
    pub classes: Vec<SourceClass>,
    /// The network interface its rules take the clients to arrive on (the one
    /// they decide on; see `filter::ifaces`), when they name one.
    pub client_interface: Option<String>,

    /// Windows Firewall: the facts of each profile; the fields above then
    /// describe [`Profiles::shown`].
    pub profiles: Option<Profiles>,
    /// The syntax its rules are written in, so a fix can be given in it.
    pub dialect: Dialect,
    /// The filters a client's connection crosses, when this firewall is their
    /// composition; empty for a single filter (see [`Firewall::own_layers`]).
    pub layers: Vec<Layer>,
    /// Closing commands that may not run; the firewall is read with them run.
    pub closes_if: Vec<ClosedIf>,
    /// The firewall when none of `closes_if` runs.
    pub otherwise: Option<Box<Firewall>>,
    /// Where the port values of its accept rules are written, for fixes.
    pub port_texts: Vec<PortText>,
    /// Rules whose ports come from configuration data outside the rule (a
    /// Puppet `firewall` whose `dport` Hiera gives): (the rule, the data).
    pub port_data: Vec<(Span, Span)>,
    /// Accept rules that admit only the FTP service's own sockets (Windows'
    /// `service=ftpsvc`): they open what the server listens on, not every port.
    pub service_scoped: Vec<Span>,
    /// Windows: inbound allow rules that are written but disabled (`enable=no`,
    /// `-Enabled False`, `Active=FALSE`), with the TCP ports each would open.
    pub disabled: Vec<(Span, PortSet)>,
    /// IPv6: where every ICMPv6 neighbour solicitation (or the advertisement
    /// answering it) is dropped; `None` when it passes, depends, or is not judged.
    pub nd_blocked: Option<NdBlocked>,
}

/// An IPv6 filter that drops neighbour discovery: no client reaches the host.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NdBlocked {
    /// The rule or policy that drops it.
    pub by: Span,
    pub policy: bool,
    /// The base chain whose traversal drops it (`filter INPUT`).
    pub chain: String,
    /// The packet it drops.
    pub packet: NdPacket,
    /// An accept of ICMP for IPv4 (`-p icmp`) met on the way: meant for ICMPv6.
    pub meant: Option<Span>,
    /// The rule that admits it, in the file's own words (set by the format).
    pub accept_line: String,
    /// The fix: that line inserted before the dropping rule, when the format
    /// can place it there.
    pub insert: Option<(Span, String)>,
    /// Set when an nftables input chain drops it: the table, as `inet filter`.
    pub nftables: Option<String>,
}

/// The neighbour discovery packets a host's filter must let through.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NdPacket {
    /// A neighbour asks for the host's address.
    SolicitIn = 0,
    /// The host's answer.
    AdvertOut = 1,
    /// The host re-checks a neighbour's address (it does within a minute of use).
    SolicitOut = 2,
    /// The neighbour's answer.
    AdvertIn = 3,
}

impl NdPacket {
    pub const ALL: [NdPacket; 4] = [
        NdPacket::SolicitIn,
        NdPacket::AdvertOut,
        NdPacket::SolicitOut,
        NdPacket::AdvertIn,
    ];

    pub fn inbound(self) -> bool {
        matches!(self, NdPacket::SolicitIn | NdPacket::AdvertIn)
    }

    pub fn icmpv6_type(self) -> u8 {
        match self {
            NdPacket::SolicitIn | NdPacket::SolicitOut => 135,
            NdPacket::AdvertIn | NdPacket::AdvertOut => 136,
        }
    }
}

/// One filter of a composed firewall (DESIGN.md "Layers").
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layer {
    pub kind: &'static str,
    pub files: Vec<FileId>,
    pub open_to_all: PortSet,
    /// How the layer alone decides the ports, in evaluation order.
    pub decisions: Vec<Decision>,
}

/// The language a firewall's rules are written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Dialect {
    #[default]
    Iptables,
    /// ufw's files (`/etc/ufw/*.rules` are iptables-restore text ufw-init loads).
    Ufw,
    Nftables,
    Firewalld,
    WindowsFirewall,
    /// docker-compose `ports:` publishing in front of a container.
    DockerCompose,
    /// Kubernetes exposure (hostNetwork, hostPort, Services) in front of a pod.
    Kubernetes,
    /// Kubernetes NetworkPolicies selecting a pod.
    KubernetesNetworkPolicy,
    /// AWS security groups (Terraform `aws_security_group` and its rules).
    AwsSecurityGroup,
    /// Azure network security groups (Terraform `azurerm_network_security_group`).
    AzureNsg,
    /// GCP VPC firewall rules (Terraform `google_compute_firewall`).
    GcpFirewall,
    /// OpenStack security groups (Ansible `openstack.cloud.security_group_rule`).
    OpenstackSecurityGroup,
    /// The puppetlabs-firewall module's `firewall` and `firewallchain` resources,
    /// as its iptables and ip6tables providers load them.
    PuppetFirewall,
}

impl Dialect {
    /// The layer kind in `facts --format json`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Dialect::Iptables => "iptables",
            Dialect::Ufw => "ufw",
            Dialect::Nftables => "nftables",
            Dialect::Firewalld => "firewalld",
            Dialect::WindowsFirewall => "windows-firewall",
            Dialect::DockerCompose => "docker-compose",
            Dialect::Kubernetes => "kubernetes",
            Dialect::KubernetesNetworkPolicy => "kubernetes-networkpolicy",
            Dialect::AwsSecurityGroup => "aws-security-group",
            Dialect::AzureNsg => "azure-nsg",
            Dialect::GcpFirewall => "gcp-firewall",
            Dialect::OpenstackSecurityGroup => "openstack-security-group",
            Dialect::PuppetFirewall => "puppet-firewall",
        }
    }

    /// A cloud filter, in front of the host (the first filter on the path).
    pub fn is_cloud(&self) -> bool {
        matches!(
            self,
            Dialect::AwsSecurityGroup | Dialect::AzureNsg | Dialect::GcpFirewall
        )
    }
}

/// A Windows Firewall profile: which rules and defaults apply depends on the
/// network the host is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Profile {
    Domain = 0,
    Private = 1,
    Public = 2,
}

impl Profile {
    pub const ALL: [Profile; 3] = [Profile::Domain, Profile::Private, Profile::Public];

    pub fn name(self) -> &'static str {
        match self {
            Profile::Domain => "domain",
            Profile::Private => "private",
            Profile::Public => "public",
        }
    }
}

/// Inbound TCP in each Windows Firewall profile.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Profiles {
    pub domain: Box<Firewall>,
    pub private: Box<Firewall>,
    pub public: Box<Firewall>,
    /// The profile the host is in, when a file says so (`Set-NetConnectionProfile`).
    pub host: Option<Located<Profile>>,
    /// Windows before Vista: off the domain there is only the standard profile
    /// (modelled as private, and public is a copy of it).
    pub before_vista: bool,
}

impl Profiles {
    pub fn get(&self, profile: Profile) -> &Firewall {
        match profile {
            Profile::Domain => &self.domain,
            Profile::Private => &self.private,
            Profile::Public => &self.public,
        }
    }

    /// The profile the top-level facts describe: the host's when known, else
    /// public (the strictest common case).
    pub fn shown(&self) -> Profile {
        self.host.as_ref().map_or(Profile::Public, |p| p.value)
    }

    /// Whether a message must say which profile it means: the profiles let
    /// different ports in, and the host is not a pre-Vista one (whose only
    /// profile off the domain is the standard one).
    pub fn worth_naming(&self) -> bool {
        let differ = self.domain.open_to_any() != self.private.open_to_any()
            || self.private.open_to_any() != self.public.open_to_any();
        differ && !self.before_vista
    }

    /// The facts of the shown profile, carrying every profile.
    pub fn into_firewall(self) -> Firewall {
        let mut top = self.get(self.shown()).clone();
        top.profiles = Some(self);
        top
    }
}

impl Firewall {
    /// A firewall with nothing known: every port closed, no rule.
    pub fn default_for(family: Family) -> Firewall {
        Firewall {
            files: Vec::new(),
            default_policy: Located::default_value(DefaultPolicy::Unknown),
            open_to_all: PortSet::empty(),
            open_to_some: PortSet::empty(),
            decisions: Vec::new(),
            ftp_helpers: Vec::new(),
            related_accepts: Vec::new(),
            redirects: Vec::new(),
            admits_related: false,
            active: None,
            uncertain: Vec::new(),
            conditions: Vec::new(),
            family: Some(family),
            classes: Vec::new(),
            client_interface: None,
            profiles: None,
            dialect: Dialect::Iptables,
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

    /// The filters this firewall is composed of, or itself as the one layer.
    pub fn own_layers(&self) -> std::borrow::Cow<'_, [Layer]> {
        if !self.layers.is_empty() {
            return std::borrow::Cow::Borrowed(&self.layers);
        }
        std::borrow::Cow::Owned(vec![Layer {
            kind: self.dialect.as_str(),
            files: self.files.clone(),
            open_to_all: self.open_to_all.clone(),
            decisions: self.decisions.clone(),
        }])
    }

    /// The classes of clients, or one class for everyone when none was recorded.
    pub fn source_classes(&self) -> std::borrow::Cow<'_, [SourceClass]> {
        if self.classes.is_empty() {
            return std::borrow::Cow::Owned(vec![SourceClass {
                sources: None,
                open: self.open_to_all.clone(),
                open_to_some: self.open_to_some.clone(),
                decisions: self.decisions.clone(),
            }]);
        }
        std::borrow::Cow::Borrowed(&self.classes)
    }

    /// The facts of one profile (the same for every profile when the firewall has none).
    pub fn in_profile(&self, profile: Profile) -> Firewall {
        match &self.profiles {
            Some(p) => p.get(profile).clone(),
            None => self.clone(),
        }
    }

    /// Pre-Vista Windows (IIS 5 and 6) has no public profile: every network off the
    /// domain gets the standard profile, which pasvlint models as private.
    pub fn without_public_profile(self) -> Firewall {
        match self.profiles {
            Some(mut p) if p.host.is_none() => {
                p.host = Some(Located::default_value(Profile::Private));
                p.public = p.private.clone();
                p.before_vista = true;
                p.into_firewall()
            }
            profiles => Firewall { profiles, ..self },
        }
    }

    /// An FTP helper covers `control_port` and RELATED connections are admitted.
    pub fn helper_admits_data(&self, control_port: u16) -> bool {
        self.admits_related && self.helper_for(control_port).is_some()
    }

    /// The helper attached to control connections that reach the server on
    /// `control_port` (directly, or through a nat redirect).
    pub fn helper_for(&self, control_port: u16) -> Option<&FtpHelper> {
        self.ftp_helpers
            .iter()
            .find(|h| h.serves.contains(control_port))
    }

    /// Whether the FTP helper reads `server`'s PORT commands: it watches the
    /// control port and the control channel is never encrypted.
    pub fn helper_reads_commands(&self, server: &FtpServer) -> bool {
        server
            .control_port
            .value
            .is_some_and(|p| self.helper_for(p).is_some())
            && server.tls.value == ControlTls::Never
    }

    /// The ports clients connect to that nat redirects to `port`.
    pub fn redirected_to(&self, port: u16) -> Option<&Redirect> {
        self.redirects.iter().find(|r| r.to.contains(port))
    }

    /// For each server port in `ports`, the step that decides `packet`: a step
    /// that stops it wins over one that lets it through (every file filters).
    /// `None` when the path is not modelled or some port is not covered.
    /// `helped`: the FTP helper watches the control connection and reads its PORT
    /// commands.
    pub fn active_deciders(
        &self,
        packet: ActivePacket,
        ports: &PortSet,
        helped: bool,
    ) -> Option<Vec<&ActiveStep>> {
        let steps = self.active.as_ref()?;
        let relevant = || {
            steps.iter().filter(move |s| {
                s.packet == packet && s.helped == helped && s.ports.intersects(ports)
            })
        };
        let covered = relevant().fold(PortSet::empty(), |acc, s| acc.union(&s.ports));
        if !ports.is_subset(&covered) {
            return None;
        }
        let blocked: Vec<&ActiveStep> = relevant()
            .filter(|s| s.verdict != Verdict::Accept)
            .collect();
        if blocked.is_empty() {
            Some(relevant().collect())
        } else {
            Some(blocked)
        }
    }

    /// Where the port value of the rule at `rule` is written, when exactly.
    pub fn port_text(&self, rule: Span) -> Option<&PortText> {
        self.port_texts.iter().find(|t| t.rule == rule)
    }

    /// Ports open to everyone or to some sources.
    pub fn open_to_any(&self) -> PortSet {
        self.open_to_all.union(&self.open_to_some)
    }

    /// Decisions that close any of `ports`, in evaluation order.
    pub fn blockers<'a>(&'a self, ports: &'a PortSet) -> impl Iterator<Item = &'a Decision> + 'a {
        closing(&self.decisions, ports)
    }

    /// Accept rules (not policies) that open any of `ports`.
    pub fn openers<'a>(&'a self, ports: &'a PortSet) -> impl Iterator<Item = &'a Decision> + 'a {
        opening(&self.decisions, ports)
    }

    /// The classes of clients that reach more than every client does (`open_by_source`).
    pub fn classes_reaching_more(&self) -> impl Iterator<Item = &SourceClass> + '_ {
        self.classes
            .iter()
            .filter(|c| !c.open.is_subset(&self.open_to_all))
    }

    /// Several firewall files guarding one host: a port is open only where every
    /// one of them lets it in (both rulesets filter at once), profile by profile.
    pub fn combine(all: Vec<Firewall>) -> Option<Firewall> {
        if all.iter().all(|f| f.profiles.is_none()) {
            return all.into_iter().reduce(Firewall::both_plain);
        }
        // Profile by profile, each combined once: a host may hold thousands of
        // firewall files (a folder of examples), and rebuilding the profiles
        // after every file made combining them quadratic.
        let host = all
            .iter()
            .find_map(|f| f.profiles.as_ref().and_then(|p| p.host.clone()));
        let mut domain = Vec::new();
        let mut private = Vec::new();
        let mut public = Vec::new();
        for f in all {
            let [d, pr, pu] = f.into_profiles();
            domain.push(d);
            private.push(pr);
            public.push(pu);
        }
        let one = |v: Vec<Firewall>| v.into_iter().reduce(Firewall::both_plain).map(Box::new);
        Some(
            Profiles {
                domain: one(domain)?,
                private: one(private)?,
                public: one(public)?,
                host,
                before_vista: false,
            }
            .into_firewall(),
        )
    }

    /// Domain, private and public, moved out of a firewall with profiles.
    fn into_profiles(self) -> [Firewall; 3] {
        match self.profiles {
            Some(p) => [*p.domain, *p.private, *p.public],
            None => [self.clone(), self.clone(), self],
        }
    }

    /// The layers this firewall stands for, taken out of it.
    fn take_layers(&mut self) -> Vec<Layer> {
        if !self.layers.is_empty() {
            return std::mem::take(&mut self.layers);
        }
        self.own_layers().into_owned()
    }

    /// The classes of clients, taken out of it.
    fn take_classes(&mut self) -> Vec<SourceClass> {
        if !self.classes.is_empty() {
            return std::mem::take(&mut self.classes);
        }
        self.source_classes().into_owned()
    }

    fn both_plain(mut a: Firewall, mut b: Firewall) -> Firewall {
        let otherwise = Firewall::both_otherwise(&mut a, &mut b);
        let closes_if = [
            std::mem::take(&mut a.closes_if),
            std::mem::take(&mut b.closes_if),
        ]
        .concat();
        let mut both = Firewall::layered(a, b);
        both.otherwise = otherwise;
        both.closes_if = closes_if;
        both
    }

    /// Both firewalls as they are when no closing command that may not run does.
    fn both_otherwise(a: &mut Firewall, b: &mut Firewall) -> Option<Box<Firewall>> {
        let (x, y) = (a.otherwise.take(), b.otherwise.take());
        if x.is_none() && y.is_none() {
            return None;
        }
        let x = x.map_or_else(|| a.clone(), |x| *x);
        let y = y.map_or_else(|| b.clone(), |y| *y);
        Some(Box::new(Firewall::both_plain(x, y)))
    }

    fn layered(mut a: Firewall, mut b: Firewall) -> Firewall {
        let mut layers = a.take_layers();
        layers.append(&mut b.take_layers());
        // Path order: a cloud filter first, container publishing the last
        // filter before the server.
        layers.sort_by_key(|l| {
            let is = |ds: &[Dialect]| ds.iter().any(|d| d.as_str() == l.kind);
            if is(&[
                Dialect::AwsSecurityGroup,
                Dialect::AzureNsg,
                Dialect::GcpFirewall,
            ]) {
                0
            } else if is(&[
                Dialect::DockerCompose,
                Dialect::Kubernetes,
                Dialect::KubernetesNetworkPolicy,
            ]) {
                2
            } else {
                1
            }
        });
        a.classes = meet_classes(a.take_classes(), &b.take_classes());
        a.family = a.family.or(b.family);
        let open_all = a.open_to_all.intersection(&b.open_to_all);
        let open_any = a.open_to_any().intersection(&b.open_to_any());
        a.open_to_some = open_any.difference(&open_all);
        a.open_to_all = open_all;
        a.files.extend(b.files);
        a.decisions.extend(b.decisions);
        a.ftp_helpers.extend(b.ftp_helpers);
        a.related_accepts.extend(b.related_accepts);
        a.redirects.extend(b.redirects);
        a.admits_related &= b.admits_related;
        a.active = match (a.active.take(), b.active) {
            (Some(mut x), Some(y)) => {
                x.extend(y);
                Some(x)
            }
            _ => None,
        };
        a.uncertain.extend(b.uncertain);
        a.conditions.extend(b.conditions);
        a.port_texts.extend(b.port_texts);
        a.port_data.extend(b.port_data);
        a.service_scoped.extend(b.service_scoped);
        a.disabled.extend(b.disabled);
        a.nd_blocked = a.nd_blocked.or(b.nd_blocked);
        a.default_policy = if a.default_policy.value == b.default_policy.value {
            b.default_policy
        } else {
            Located::default_value(DefaultPolicy::Unknown)
        };
        a.profiles = None;
        a.layers = layers;
        a
    }
}

/// Classes of two firewalls that both filter: each pair of classes that share clients.
/// `a`'s classes are moved, not copied: `a` is what earlier files combined to.
fn meet_classes(a: Vec<SourceClass>, b: &[SourceClass]) -> Vec<SourceClass> {
    let mut out = Vec::new();
    for x in a {
        let Some((last, rest)) = b.split_last() else {
            break;
        };
        out.extend(rest.iter().filter_map(|y| x.meet(y)));
        out.extend(x.meet_into(last));
    }
    out
}

/// What one file contributes to its host.
#[derive(Clone, Debug, Default)]
pub struct FileFacts {
    pub ftp: Vec<FtpServer>,
    /// The IPv4 filter, or the filter of every family when the format does not
    /// tell them apart.
    pub firewall: Option<Firewall>,
    /// The IPv6 filter, when the file has one of its own.
    pub firewall_v6: Option<Firewall>,
    /// Files this file's commands load by path (`iptables-restore < /etc/iptables.save`):
    /// they are live even when named like backups.
    pub restores: Vec<crate::formats::backup::Restored>,
    /// What the file says about the host's distribution and kernel.
    pub platform: Vec<crate::platform::Clue>,
    /// Machines the file describes that run a script of their own at first boot
    /// (a cloud instance's `user_data`): each is read as a shell script and is a
    /// host of its own, behind the filter given with it.
    pub boot: Vec<BootScript>,
    /// Repository paths the file's containers see (compose bind mounts, a
    /// Dockerfile's `COPY`): a server config found there runs in the container.
    pub mounts: Vec<Mount>,
    /// The publishing in front of the file's containers, for the servers
    /// `mounts` bring (`firewall` already holds it when the file has servers).
    pub container_layer: Option<Firewall>,
    /// Repository files read for this file's facts (a service's Dockerfile):
    /// they join its host.
    pub reads: Vec<std::path::PathBuf>,
    /// What the file does to its host's Windows Firewall, which is one policy
    /// however many files build it: a host with several such files applies
    /// them together (`firewall` holds this file's alone).
    pub windows: Option<Box<windows::Part>>,
}

/// A repository file or folder a container sees.
#[derive(Clone, Debug)]
pub struct Mount {
    /// The repository path, resolved and without `.`/`..`.
    pub source: std::path::PathBuf,
    /// Where the container sees it.
    pub target: String,
    pub read_only: bool,
    /// The volume entry (or `COPY` line's stand-in) that brings it.
    pub span: Span,
    /// The server the container's image runs, when the image is known (it is
    /// also in [`FileFacts::ftp`]).
    pub image_server: Option<FtpServer>,
    /// The config path the image's daemon reads and what a file there does;
    /// `None` when the image is unknown or its entrypoint was not read.
    pub image_config: Option<(&'static str, MountedConfig)>,
    /// The container that mounts it, when its file starts containers apart.
    pub container: Option<Box<Container>>,
    /// The program a built image starts with when it is not an FTP daemon
    /// (a start script), and the entry naming the Dockerfile: what a config
    /// copied or mounted in says is then not known to be what the server runs.
    pub starts_other_program: Option<(String, Span)>,
}

/// What a file mounted over an image's config does to the server it runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MountedConfig {
    /// The entrypoint appends the image's range to the file: the image's range
    /// wins unless the mount is read-only.
    ImageRangeWins,
    /// The image's range is given first, the file read after it: the file's wins.
    FileRangeWins,
    /// The file is the whole config the daemon reads: the image's range lives
    /// in the config the mount replaces.
    FileIsConfig,
    /// The daemon never reads the file.
    NotRead,
}

/// A script a machine runs at first boot, with the filters in front of the machine.
#[derive(Clone, Debug)]
pub struct BootScript {
    /// How the machine is shown (`infra/main.tf → aws_instance.ftp`).
    pub name: String,
    pub body: BootBody,
    /// The attribute that gives the script.
    pub span: Span,
    pub firewall: Option<Firewall>,
    pub firewall_v6: Option<Firewall>,
}

#[derive(Clone, Debug)]
pub enum BootBody {
    /// Written in place (a heredoc), each piece mapping back to its bytes.
    Text(crate::scripts::Text),
    /// A file of the repository (`file(...)`), or a template of it
    /// (`templatefile(...)`) with each variable's text, `None` when not known,
    /// and the expression that sets it.
    File {
        path: std::path::PathBuf,
        template: Option<Vec<(String, Option<String>, Span)>>,
    },
}

impl FileFacts {
    pub fn has_firewall(&self) -> bool {
        self.firewall.is_some() || self.firewall_v6.is_some()
    }
}
