//! The packet-filter IR every firewall format lowers onto.
//!
//! A lowering turns a format's rules into [`Ruleset`]: per family, tables of chains
//! whose base chains hang on a [`Hook`] at a priority, and rules with matches and
//! one action ([`Target`]). Matches the evaluator does not take apart (interfaces,
//! rates, unknown extensions) arrive already judged per [`Packet`] as [`Applies`].

pub use crate::addrset::{AddrSet, Family};
/// Where a rule's port value is written: a side table a lowering fills and
/// [`crate::filter::eval::attach_port_texts`] hands to the facts.
pub use crate::facts::{NdPacket, PortSyntax, PortText};
use crate::portset::PortSet;
use crate::source::Span;
use std::borrow::Cow;

/// A built-in chain's policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Policy {
    Accept,
    Drop,
}

/// Whether a rule's matches hold for one kind of packet, from the point of view of
/// the general public (a source no address, interface or rate condition singles out).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Applies {
    /// Never (e.g. `-p udp` for TCP, `-i lo` from outside, `--ctstate ESTABLISHED` for a SYN).
    Never,
    /// Always, for every source.
    #[default]
    ToAll,
    /// For some sources or sometimes, not for the general public (`-s 10.0.0.0/8`,
    /// `-i eth0`, `-m limit`, an unknown match).
    ToSome,
    /// For the general public but not for every source (`! -s 10.0.0.0/8`).
    ToMost,
}

impl Applies {
    /// Both conditions together (matches are ANDed).
    pub fn and(self, other: Applies) -> Applies {
        use Applies::*;
        match (self, other) {
            (Never, _) | (_, Never) => Never,
            (ToAll, x) | (x, ToAll) => x,
            (ToSome, _) | (_, ToSome) => ToSome,
            (ToMost, ToMost) => ToMost,
        }
    }

    /// The same condition negated with `!`.
    pub fn negated(self) -> Applies {
        match self {
            Applies::Never => Applies::ToAll,
            Applies::ToAll => Applies::Never,
            Applies::ToSome => Applies::ToMost,
            Applies::ToMost => Applies::ToSome,
        }
    }

    pub fn public(self) -> bool {
        matches!(self, Applies::ToAll | Applies::ToMost)
    }

    pub fn some(self) -> bool {
        self != Applies::Never
    }
}

/// The packets the evaluator asks about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Packet {
    /// The SYN of a new inbound connection from a remote client (conntrack state NEW).
    New = 0,
    /// The SYN of a data connection an FTP helper expects (state RELATED).
    Related = 1,
    /// The server's SYN-ACK on its way out (state ESTABLISHED, source port = the server port).
    Reply = 2,
    /// A new inbound SYN on a port the raw table exempts from tracking (state UNTRACKED).
    Untracked = 3,
    /// Active mode: the server's SYN to the client (state NEW, leaving through OUTPUT;
    /// source port = the server's data port).
    ActiveSyn = 4,
    /// Active mode: the client's SYN-ACK back (state ESTABLISHED, arriving through
    /// INPUT; destination port = the server's data port).
    ActiveSynAck = 5,
    /// A later packet of a connection the client opened: its ACK, commands and
    /// uploads (state ESTABLISHED, arriving; destination port = the server port).
    /// `-m helper` does not hold: it is judged as a connection no helper expected.
    Established = 6,
    /// [`Packet::ActiveSyn`] when the FTP helper watches the control connection: the
    /// helper expects the server's SYN (state RELATED), and `-m helper --helper ftp`
    /// holds for it (the connection's master has the helper).
    ActiveSynHelped = 7,
    /// [`Packet::ActiveSynAck`] when the FTP helper watches the control connection:
    /// still ESTABLISHED, and `-m helper --helper ftp` holds.
    ActiveSynAckHelped = 8,
}

impl Packet {
    pub const ALL: [Packet; PACKETS] = [
        Packet::New,
        Packet::Related,
        Packet::Reply,
        Packet::Untracked,
        Packet::ActiveSyn,
        Packet::ActiveSynAck,
        Packet::Established,
        Packet::ActiveSynHelped,
        Packet::ActiveSynAckHelped,
    ];

    /// The packet comes from the client, so its source address is the client's.
    pub fn inbound(self) -> bool {
        !matches!(
            self,
            Packet::Reply | Packet::ActiveSyn | Packet::ActiveSynHelped
        )
    }

    /// The TCP flags the packet carries, for `--syn` and `--tcp-flags`.
    pub fn tcp_flags(self) -> u8 {
        const SYN: u8 = 0x02;
        const ACK: u8 = 0x10;
        match self {
            Packet::Reply | Packet::ActiveSynAck | Packet::ActiveSynAckHelped => SYN | ACK,
            Packet::Established => ACK,
            _ => SYN,
        }
    }

    /// A packet of a connection the client opened, arriving: on a port the raw
    /// table exempts from tracking it is UNTRACKED instead.
    pub fn inbound_tcp_stream(self) -> bool {
        matches!(self, Packet::New | Packet::Established)
    }

    /// The same packet of a data connection the FTP helper expects.
    pub fn helped(self) -> Packet {
        match self {
            Packet::ActiveSyn => Packet::ActiveSynHelped,
            Packet::ActiveSynAck => Packet::ActiveSynAckHelped,
            other => other,
        }
    }
}

/// Entries of [`Rule::applies`], one per [`Packet`].
pub const PACKETS: usize = 9;

/// A rule's match on the interface a packet arrives on (`-i`) or leaves by (`-o`),
/// by index into [`Ruleset::ifaces`]. Loopback and the `+` wildcard are decided
/// when the rule is read; other names only once the whole ruleset is known
/// ([`super::ifaces`]), since which one the clients use depends on the others.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum IfaceMatch {
    #[default]
    Any,
    Is(u8),
    Not(u8),
}

/// Index into [`Ruleset::addr_sets`]; [`ANY_ADDR`] when the rule names no address.
pub type AddrRef = u32;
pub const ANY_ADDR: AddrRef = u32::MAX;

/// A set of ports, stored without allocating for the common single range.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PortRef {
    Empty,
    Range(u16, u16),
    /// Index into [`Ruleset::port_sets`].
    Set(u32),
}

impl PortRef {
    pub const ALL: PortRef = PortRef::Range(0, 65535);
}

/// What a rule does when it matches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// No `-j`, or an extension that does not end evaluation (LOG, MARK, NFLOG, ...).
    Continue,
    Accept,
    Drop,
    Reject,
    Return,
    /// `-j CHAIN`: index of the chain in its table.
    Jump(u32),
    /// `-g CHAIN`.
    Goto(u32),
    /// `-j CT --helper NAME` (`ftp` or not), non-terminating.
    CtHelper {
        ftp: bool,
    },
    /// `-j NOTRACK` / `-j CT --notrack`.
    NoTrack,
    /// `-j MARK --set-mark V` (or `--set-xmark V/0xffffffff`).
    SetMark(u32),
    /// `-j REDIRECT [--to-ports lo[-hi]]` (None: the original port).
    Redirect(Option<(u16, u16)>),
    /// `-j DNAT --to-destination [addr][:lo[-hi]]`.
    Dnat {
        addr: DnatAddr,
        ports: Option<(u16, u16)>,
    },
    /// Ends nat traversal without changing the destination (SNAT, MASQUERADE, NETMAP ...).
    NatOther,
    /// Hands the packet to user space or another path the evaluator cannot follow
    /// (NFQUEUE, SYNPROXY, TPROXY, ...).
    Opaque,
}

/// Which protocols a rule's `-p` lets through, for the structural checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Proto {
    Any,
    Tcp,
    Udp,
    /// Another single protocol, or `! -p tcp`.
    Other,
    /// A negated protocol other than TCP (`! -p udp`): TCP and more.
    AllBut,
}

/// One rule after parsing. Small and `Copy`: a million-rule dump keeps a million.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rule {
    /// The whole rule line (or command).
    pub span: Span,
    /// Destination ports a new inbound TCP connection may have to match (the
    /// intersection of every port match); `Empty` when the rule cannot match TCP.
    pub key_in: PortRef,
    /// Source ports of the server's reply the rule matches (OUTPUT direction).
    pub key_out: PortRef,
    /// The client addresses an inbound packet must come from (`-s` on input).
    pub client_in: AddrRef,
    /// The client addresses an outbound packet must go to (`-d` on output).
    pub client_out: AddrRef,
    /// Per [`Packet`], whether the other matches hold (the host's own address,
    /// rates, ...; the client's address and interface are judged per source class).
    pub applies: [Applies; PACKETS],
    /// The interface an inbound packet (from the client) must arrive on.
    pub iface_in: IfaceMatch,
    /// The interface an outbound packet (to the client) must leave by.
    pub iface_out: IfaceMatch,
    pub proto: Proto,
    /// Only protocol and port matches (no address, interface, state, rate ...).
    pub plain: bool,
    /// The rule has a conntrack state match (its meaning changes for NOTRACK'ed ports).
    pub state: Option<StateMatch>,
    /// `-m mark --mark V` (exact value, no mask): the mark it needs.
    pub mark: Option<u32>,
    pub target: Target,
    /// Hash of the normalised rule spec, for `-D` by specification.
    pub spec: u32,
    /// How the rule's matches hold for ICMPv6 neighbour discovery ([`crate::filter::nd`]).
    pub nd: NdMatch,
}

/// Whether a rule's matches hold for neighbour discovery, the exchange that
/// tells each side of the link the other's link address before any packet of a
/// connection can go: solicitations (type 135) and advertisements (type 136),
/// arriving and leaving. The kernel tracks neither: their conntrack state is
/// UNTRACKED (measured, kernel 6.x), so `ESTABLISHED,RELATED` and `NEW` miss them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NdMatch {
    /// Two bits per [`NdPacket`], then one for `-p icmp` (ICMP for IPv4, the
    /// accept an IPv4 script admits ICMP with): packed, as every rule holds one.
    bits: u16,
}

const ICMPV4_BIT: u16 = 1 << 8;

impl NdMatch {
    /// For formats whose rulesets are not judged for neighbour discovery.
    pub const NOT_JUDGED: NdMatch = NdMatch { bits: 0 };

    pub fn new(applies: [Applies; 4], icmpv4: bool) -> NdMatch {
        let mut bits = if icmpv4 { ICMPV4_BIT } else { 0 };
        for (i, a) in applies.into_iter().enumerate() {
            let code = match a {
                Applies::Never => 0,
                Applies::ToAll => 1,
                Applies::ToSome => 2,
                Applies::ToMost => 3,
            };
            bits |= code << (2 * i);
        }
        NdMatch { bits }
    }

    pub fn applies(&self, packet: NdPacket) -> Applies {
        match (self.bits >> (2 * packet as u16)) & 3 {
            0 => Applies::Never,
            1 => Applies::ToAll,
            2 => Applies::ToSome,
            _ => Applies::ToMost,
        }
    }

    pub fn icmpv4(&self) -> bool {
        self.bits & ICMPV4_BIT != 0
    }
}

/// A conntrack/state match: which of the states a SYN can be in it accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StateMatch {
    pub new: bool,
    pub related: bool,
    pub established: bool,
    pub untracked: bool,
    /// Whether the rule's matches hold for a new SYN whose destination nat rewrote
    /// (`--ctstate DNAT`), when that differs from `applies[New]`.
    pub dnat_new: Option<Applies>,
}

impl StateMatch {
    /// Whether the match holds for the state the kernel gives a packet of this kind.
    pub fn holds(&self, packet: Packet) -> bool {
        match packet {
            Packet::New | Packet::ActiveSyn => self.new,
            Packet::Related | Packet::ActiveSynHelped => self.related,
            Packet::Untracked => self.untracked,
            Packet::Reply
            | Packet::ActiveSynAck
            | Packet::ActiveSynAckHelped
            | Packet::Established => self.established,
        }
    }
}

/// Where a base chain sees packets (netfilter hooks; other firewalls use the same names).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Hook {
    Prerouting,
    Input,
    Forward,
    Output,
    Postrouting,
}

/// What a base chain can do to a packet, which decides how the evaluator composes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BaseKind {
    /// Accepts or drops (iptables filter, mangle, raw, security; nftables `type filter`).
    Filter,
    /// Rewrites the destination of a new connection (iptables nat; nftables `type nat`).
    Nat,
}

/// The priority at which destination NAT runs on prerouting (netfilter's `NF_IP_PRI_NAT_DST`):
/// filter chains before it see the port the client chose, chains after it the rewritten one.
pub const NAT_DST_PRIORITY: i32 = -100;

/// A chain the kernel calls from a hook.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Base {
    pub hook: Hook,
    pub priority: i32,
    pub kind: BaseKind,
    /// Index into [`Ruleset::tables`].
    pub table: usize,
    /// Index into that table's chains.
    pub chain: u32,
    /// How messages name the chain (`filter INPUT`, `inet filter input`).
    pub label: String,
}

/// One chain of the IR: its rules and, for a base chain, its policy.
#[derive(Clone, Debug)]
pub struct Chain<'a> {
    pub rules: Cow<'a, [Rule]>,
    pub policy: Policy,
    /// The line that set the policy; `None` for a built-in default.
    pub policy_span: Option<Span>,
    /// A chain that no longer exists (deleted by the script): jumps to it are ignored.
    pub live: bool,
}

/// Chains that jump only among themselves.
#[derive(Clone, Debug, Default)]
pub struct Table<'a> {
    pub chains: Vec<Chain<'a>>,
}

/// One family's packet filter, as a format lowered it.
#[derive(Clone, Debug)]
pub struct Ruleset<'a> {
    pub family: Family,
    pub tables: Vec<Table<'a>>,
    pub bases: Vec<Base>,
    /// Sets referenced by [`PortRef::Set`].
    pub port_sets: Cow<'a, [PortSet]>,
    /// Sets referenced by [`AddrRef`].
    pub addr_sets: Cow<'a, [AddrSet]>,
    /// Interface names referenced by [`IfaceMatch`].
    pub ifaces: Cow<'a, [String]>,
}

impl<'a> Ruleset<'a> {
    /// Materialise a port reference.
    pub fn ports(&self, r: PortRef) -> PortSet {
        match r {
            PortRef::Empty => PortSet::empty(),
            PortRef::Range(lo, hi) => PortSet::range(lo, hi),
            PortRef::Set(i) => self.port_sets.get(i as usize).cloned().unwrap_or_default(),
        }
    }

    pub fn contains(&self, r: PortRef, port: u16) -> bool {
        match r {
            PortRef::Empty => false,
            PortRef::Range(lo, hi) => (lo..=hi).contains(&port),
            PortRef::Set(i) => self
                .port_sets
                .get(i as usize)
                .is_some_and(|s| s.contains(port)),
        }
    }

    /// Base chains on `hook`, in the order the kernel calls them.
    pub fn bases_on(&self, hook: Hook) -> Vec<&Base> {
        let mut out: Vec<&Base> = self.bases.iter().filter(|b| b.hook == hook).collect();
        out.sort_by_key(|b| b.priority);
        out
    }

    pub fn chain(&self, table: usize, chain: u32) -> Option<&Chain<'a>> {
        self.tables.get(table)?.chains.get(chain as usize)
    }
}

/// The filter chain at the filter priority (0) among `chains`, or the last one:
/// its policy is the firewall's default and its accepts are listed as decisions
/// (iptables `filter INPUT`). An input chain wins over a prerouting chain of the
/// same priority (nftables allows `type filter hook prerouting priority 0`).
pub fn main_filter<'r>(chains: &[&'r Base]) -> Option<&'r Base> {
    chains
        .iter()
        .find(|b| b.priority == 0 && b.hook == Hook::Input)
        .or(chains.iter().find(|b| b.priority == 0))
        .or(chains.last())
        .copied()
}

/// Where a DNAT sends a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DnatAddr {
    /// No address given: the connection stays on this host (port-only DNAT).
    Kept,
    V4([u8; 4]),
    /// An address pasvlint does not read as IPv4 (IPv6, a name, a map's value
    /// that is not an address); whether it is this host is not known.
    Other,
}

#[cfg(test)]
mod tests {
    /// A million-rule dump keeps a million rules: 4 bytes more each is 4 MB more
    /// at the peak. 76 bytes, 80 with the interface matches, 84 with the packets
    /// of established connections and helped active-mode connections (nine
    /// [`super::PACKETS`] instead of six).
    #[test]
    fn a_rule_stays_small() {
        assert!(std::mem::size_of::<super::Rule>() <= 84);
    }
}
