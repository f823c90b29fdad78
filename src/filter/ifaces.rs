//! Which network interface the clients arrive on.
//!
//! A rule on `-i eth0` holds for every client when eth0 is the host's uplink and
//! for none when it is the LAN. No file says which it is, but the ruleset does:
//! an admin who names one interface in the rules that decide what reaches the host
//! names the one the outside world comes in by (`-i eth0 -j DROP`, `-o eth0 -j
//! ACCEPT` under `-P OUTPUT DROP`, `-i eno1 --dport 21 -j ACCEPT`). Interfaces that
//! are only trusted wholesale (`-i eth1 -j ACCEPT`), loopback, container bridges
//! and tunnels are not that one. With several candidates the clients' interface is
//! not known and every named interface holds for "some" clients.

use super::ir::{Applies, Hook, IfaceMatch, PortRef, Proto, Rule, Ruleset, Target};

/// More distinct names than this share one "unknown interface" slot.
const MAX_NAMES: usize = 255;
const UNKNOWN_SLOT: u8 = u8::MAX;

/// The match for `NAME` (negated with `!`), its name stored once in `names`.
pub fn intern(names: &mut Vec<String>, name: &str, negated: bool) -> IfaceMatch {
    let index = match names.iter().position(|n| n == name) {
        Some(i) => i as u8,
        None if names.len() < MAX_NAMES => {
            names.push(name.to_string());
            (names.len() - 1) as u8
        }
        None => UNKNOWN_SLOT,
    };
    if negated {
        IfaceMatch::Not(index)
    } else {
        IfaceMatch::Is(index)
    }
}

/// Per interface name of the ruleset, how a match on it holds for the clients.
pub struct ClientIfaces {
    judged: Vec<Applies>,
}

impl ClientIfaces {
    /// Judges every name of `rs` by the uplink its rules point to.
    pub fn of(rs: &Ruleset<'_>) -> ClientIfaces {
        let names = &rs.ifaces;
        let judged = match uplink(rs) {
            None => vec![Applies::ToSome; names.len()],
            Some(up) => names.iter().map(|n| judge(n, &names[up])).collect(),
        };
        ClientIfaces { judged }
    }

    /// How `m` holds for a client's packet.
    pub fn applies(&self, m: IfaceMatch) -> Applies {
        let slot = |i: u8| {
            self.judged
                .get(i as usize)
                .copied()
                .unwrap_or(Applies::ToSome)
        };
        match m {
            IfaceMatch::Any => Applies::ToAll,
            IfaceMatch::Is(i) => slot(i),
            IfaceMatch::Not(i) => slot(i).negated(),
        }
    }

    /// The name the clients are taken to arrive on, when the ruleset tells.
    pub fn uplink<'r>(&self, rs: &'r Ruleset<'_>) -> Option<&'r str> {
        let i = self.judged.iter().position(|&a| a == Applies::ToAll)?;
        rs.ifaces.get(i).map(String::as_str)
    }
}

/// How `-i name` holds for clients arriving on `uplink`.
fn judge(name: &str, uplink: &str) -> Applies {
    if name == uplink || pattern_matches(name, uplink) {
        Applies::ToAll
    } else if pattern_matches(uplink, name) {
        // The uplink is a pattern (`ppp+`) and this one of its names.
        Applies::ToSome
    } else {
        Applies::Never
    }
}

/// Whether iptables' `eth+` (nftables' `eth*`) covers `name`.
fn pattern_matches(pattern: &str, name: &str) -> bool {
    match pattern.strip_suffix(['+', '*']) {
        Some(stem) => name.starts_with(stem) && !is_pattern(name),
        None => false,
    }
}

fn is_pattern(name: &str) -> bool {
    name.ends_with(['+', '*'])
}

/// How the rules deciding what reaches the host use one name.
#[derive(Clone, Copy, Default)]
struct Use {
    /// An inbound match other than a port-less accept (`-i eth0 --dport 21 -j
    /// ACCEPT`, `-i eth0 -j DROP`, `! -i eth0 -j ACCEPT`).
    decides_inbound: bool,
    inbound: bool,
    outbound: bool,
}

/// The index of the one candidate uplink name, if there is exactly one.
fn uplink(rs: &Ruleset<'_>) -> Option<usize> {
    if rs.ifaces.is_empty() {
        return None;
    }
    let uses = uses(rs);
    let candidates: Vec<usize> = (0..rs.ifaces.len())
        .filter(|&i| {
            let u = uses[i];
            (u.decides_inbound || (u.outbound && !u.inbound)) && !internal(&rs.ifaces[i])
        })
        .collect();
    let (patterns, names): (Vec<usize>, Vec<usize>) = candidates
        .into_iter()
        .partition(|&i| is_pattern(&rs.ifaces[i]));
    match names.as_slice() {
        [one] => patterns
            .iter()
            .all(|&p| pattern_matches(&rs.ifaces[p], &rs.ifaces[*one]))
            .then_some(*one),
        [] if patterns.len() == 1 => Some(patterns[0]),
        _ => None,
    }
}

fn uses(rs: &Ruleset<'_>) -> Vec<Use> {
    let mut uses = vec![Use::default(); rs.ifaces.len()];
    let passing = |t: usize, c: usize| {
        rs.bases.iter().any(|b| {
            b.table == t
                && b.chain as usize == c
                && matches!(b.hook, Hook::Forward | Hook::Postrouting)
        })
    };
    for (t, table) in rs.tables.iter().enumerate() {
        for (c, chain) in table.chains.iter().enumerate() {
            if !chain.live || passing(t, c) {
                continue;
            }
            for rule in chain.rules.iter() {
                note(&mut uses, rule);
            }
        }
    }
    uses
}

fn note(uses: &mut [Use], rule: &Rule) {
    // A rule only for UDP or ICMP (`-i uap0 -p udp --dport 67 -j ACCEPT` on a
    // Wi-Fi access point) says nothing about where TCP clients come from.
    if matches!(rule.proto, Proto::Udp | Proto::Other) {
        return;
    }
    let len = uses.len();
    let index = |m: IfaceMatch| match m {
        IfaceMatch::Is(i) | IfaceMatch::Not(i) => (usize::from(i) < len).then_some(usize::from(i)),
        IfaceMatch::Any => None,
    };
    if let Some(i) = index(rule.iface_in) {
        let trusting = matches!(rule.iface_in, IfaceMatch::Is(_))
            && rule.target == Target::Accept
            && rule.key_in == PortRef::ALL;
        uses[i].inbound = true;
        uses[i].decides_inbound |= !trusting;
    }
    if let Some(i) = index(rule.iface_out) {
        uses[i].outbound = true;
    }
}

/// Container bridges, virtual links and tunnels: not where the public arrives.
fn internal(name: &str) -> bool {
    const PREFIXES: [&str; 22] = [
        "docker",
        "br-",
        "veth",
        "cni",
        "flannel",
        "cali",
        "kube",
        "virbr",
        "vnet",
        "lxc",
        "lxd",
        "weave",
        "cilium",
        "vxlan",
        "tunl",
        "podman",
        "tun",
        "tap",
        "wg",
        "ipsec",
        "tailscale",
        "zt",
    ];
    PREFIXES.iter().any(|p| name.starts_with(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pattern_covers_the_names_it_starts() {
        assert!(pattern_matches("eth+", "eth0"));
        assert!(pattern_matches("ppp*", "ppp0"));
        assert!(!pattern_matches("eth+", "wlan0"));
        assert!(!pattern_matches("eth0", "eth0"));
        assert!(!pattern_matches("eth+", "eth+"));
    }

    #[test]
    fn judging_against_the_uplink() {
        assert_eq!(judge("eth0", "eth0"), Applies::ToAll);
        assert_eq!(judge("eth+", "eth0"), Applies::ToAll);
        assert_eq!(judge("eth1", "eth0"), Applies::Never);
        assert_eq!(judge("ppp0", "ppp+"), Applies::ToSome);
        assert_eq!(judge("docker0", "eno1"), Applies::Never);
    }

    #[test]
    fn interning_keeps_one_slot_per_name() {
        let mut names = Vec::new();
        assert_eq!(intern(&mut names, "eth0", false), IfaceMatch::Is(0));
        assert_eq!(intern(&mut names, "eth1", true), IfaceMatch::Not(1));
        assert_eq!(intern(&mut names, "eth0", true), IfaceMatch::Not(0));
        assert_eq!(names, ["eth0", "eth1"]);
        for i in 0..MAX_NAMES {
            intern(&mut names, &format!("x{i}"), false);
        }
        assert_eq!(intern(&mut names, "y", false), IfaceMatch::Is(UNKNOWN_SLOT));
    }
}
