//! Differential tests of the packet-filter model. Random iptables rulesets
//! (user chains, jump, goto, RETURN, policies, port ranges, multiport lists,
//! negated ports and sources, interfaces, REJECT) are judged three ways for two clients of
//! different source networks, in both families:
//! - by pasvlint (the dump parsed and evaluated through the library);
//! - by a naive reference written here, which walks the generated rules one
//!   (source, port) at a time and shares no code with pasvlint;
//! - by the kernel: the dump loaded with `iptables-restore` / `ip6tables-restore`
//!   in a private namespace and probed over a veth pair from both addresses.
//!
//! The reference runs thousands of cases without root; the kernel probe runs a
//! dozen (and checks the reference too). Three clients: one in each of two
//! source networks the rules name, and one in none (the general public).
//! pasvlint's `open` is what the general public of a class reaches: a rule that
//! only drops never splits a class (a ban list does not close a port to the
//! public), so for a client inside a dropped network the claim may say open
//! where that client is dropped. So: for the public client, every port agrees
//! (ports "open to some" may go either way); for the others, no port pasvlint
//! calls closed opens. Rules may name the pair's `eth0` (`-i eth0`, `! -i eth0`):
//! the one interface the rules decide on is the clients', as pasvlint takes it;
//! a LAN `eth1` the host does not have appears only in accepts of every port, which
//! trust an interface wholesale and do not make it the clients'.

mod support {
    #![allow(dead_code)]
    pub mod connect;
    pub mod netns;
    pub mod requirements;
}

use pasvlint::facts::{Family, Firewall};
use pasvlint::formats::{self, Format};
use pasvlint::source::{FileId, SourceFile};
use std::collections::BTreeSet;
use std::path::Path;
use support::netns::{CLIENT_ADDR, CLIENT_ADDR6, Pair};
use support::requirements::ready;

/// The ports every ruleset talks about and every probe tries.
const FIRST: u16 = 1000;
const LAST: u16 = 1023;

/// Three networks per family: the first client's, the second client's, and one
/// holding both.
struct Net {
    cidr: &'static str,
    /// Whether each client (first, second, public) is in it.
    holds: [bool; 3],
}

const NETS_V4: [Net; 3] = [
    Net {
        cidr: "198.18.0.0/24",
        holds: [true, false, false],
    },
    Net {
        cidr: "198.18.1.0/24",
        holds: [false, true, false],
    },
    Net {
        cidr: "198.18.0.0/16",
        holds: [true, true, false],
    },
];
const NETS_V6: [Net; 3] = [
    Net {
        cidr: "2001:db8:18::/64",
        holds: [true, false, false],
    },
    Net {
        cidr: "2001:db8:19::/64",
        holds: [false, true, false],
    },
    Net {
        cidr: "2001:db8:18::/47",
        holds: [true, true, false],
    },
];
/// The second client's address and network (the first is the pair's own), and
/// the public one's, in no network the rules name.
const SECOND_V4: (&str, &str) = ("198.18.1.2", "198.18.1.0/24");
const SECOND_V6: (&str, &str) = ("2001:db8:19::2", "2001:db8:19::/64");
const PUBLIC_V4: (&str, &str) = ("198.19.0.2", "198.19.0.0/24");
const PUBLIC_V6: (&str, &str) = ("2001:db8:1a::2", "2001:db8:1a::/64");
/// Index of the public client.
const PUBLIC: usize = 2;

#[derive(Clone, Debug)]
enum Source {
    Any,
    In(usize),
    NotIn(usize),
}

#[derive(Clone, Debug)]
enum Ports {
    Any,
    Range(u16, u16),
    NotRange(u16, u16),
    List(Vec<(u16, u16)>),
}

#[derive(Clone, Copy, Debug)]
enum Verdict {
    Accept,
    Drop,
    Reject,
    Return,
    Jump(usize),
    Goto(usize),
}

/// The interface a rule's packets must arrive on.
#[derive(Clone, Copy, Debug)]
enum Iface {
    Any,
    Uplink,
    NotUplink,
    /// `-i eth1`: no client arrives there.
    Lan,
}

#[derive(Clone, Debug)]
struct Rule {
    iface: Iface,
    source: Source,
    ports: Ports,
    verdict: Verdict,
}

/// `chains[0]` is INPUT; 1 and 2 are the user chains U1 and U2. Jumps only go to
/// a later chain, so no walk loops (the kernel refuses loops).
#[derive(Clone, Debug)]
struct Ruleset {
    input_drops: bool,
    chains: [Vec<Rule>; 3],
}

/// A small deterministic generator (the cases must be the same on every run).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn port(&mut self) -> u16 {
        FIRST + self.below(u64::from(LAST - FIRST + 1)) as u16
    }

    fn range(&mut self) -> (u16, u16) {
        let (a, b) = (self.port(), self.port());
        (a.min(b), a.max(b))
    }
}

fn random_ruleset(rng: &mut Lcg) -> Ruleset {
    let input_drops = rng.below(3) != 0;
    let chains = [0, 1, 2].map(|chain| {
        let count = rng.below(if chain == 0 { 7 } else { 5 });
        (0..count).map(|_| random_rule(rng, chain)).collect()
    });
    Ruleset {
        input_drops,
        chains,
    }
}

fn random_rule(rng: &mut Lcg, chain: usize) -> Rule {
    let source = match rng.below(6) {
        0 | 1 => Source::In(rng.below(3) as usize),
        2 => Source::NotIn(rng.below(3) as usize),
        _ => Source::Any,
    };
    let (a, b) = rng.range();
    let ports = match rng.below(6) {
        0 => Ports::Any,
        1 => Ports::NotRange(a, b),
        2 => Ports::List((0..1 + rng.below(4)).map(|_| rng.range()).collect()),
        _ => Ports::Range(a, b),
    };
    let later = |rng: &mut Lcg| chain + 1 + rng.below((2 - chain) as u64) as usize;
    let verdict = match rng.below(8) {
        0 | 1 => Verdict::Accept,
        2 => Verdict::Drop,
        3 => Verdict::Reject,
        4 if chain > 0 => Verdict::Return,
        5 if chain < 2 => Verdict::Jump(later(rng)),
        6 if chain < 2 => Verdict::Goto(later(rng)),
        _ => Verdict::Accept,
    };
    let trusting = matches!(verdict, Verdict::Accept) && matches!(ports, Ports::Any);
    let iface = match rng.below(10) {
        0 => Iface::Uplink,
        1 => Iface::NotUplink,
        2 if trusting => Iface::Lan,
        _ => Iface::Any,
    };
    Rule {
        iface,
        source,
        ports,
        verdict,
    }
}

// ---- the naive reference ----

fn rule_matches(rule: &Rule, nets: &[Net; 3], client: usize, port: u16) -> bool {
    let iface = matches!(rule.iface, Iface::Any | Iface::Uplink);
    let source = match rule.source {
        Source::Any => true,
        Source::In(n) => nets[n].holds[client],
        Source::NotIn(n) => !nets[n].holds[client],
    };
    let port_ok = match &rule.ports {
        Ports::Any => true,
        Ports::Range(a, b) => (*a..=*b).contains(&port),
        Ports::NotRange(a, b) => !(*a..=*b).contains(&port),
        Ports::List(list) => list.iter().any(|&(a, b)| (a..=b).contains(&port)),
    };
    iface && source && port_ok
}

/// A chain's decision: `Some(accept)`, or `None` when it returns (falls off
/// its end or hits RETURN) to whoever jumped to it.
fn walk(set: &Ruleset, chain: usize, nets: &[Net; 3], client: usize, port: u16) -> Option<bool> {
    for rule in &set.chains[chain] {
        if !rule_matches(rule, nets, client, port) {
            continue;
        }
        match rule.verdict {
            Verdict::Accept => return Some(true),
            Verdict::Drop | Verdict::Reject => return Some(false),
            Verdict::Return => return None,
            Verdict::Jump(to) => {
                if let Some(decision) = walk(set, to, nets, client, port) {
                    return Some(decision);
                }
            }
            // The goto'd chain's return is this chain's return.
            Verdict::Goto(to) => return walk(set, to, nets, client, port),
        }
    }
    None
}

fn reference_open(set: &Ruleset, nets: &[Net; 3], client: usize) -> BTreeSet<u16> {
    (FIRST..=LAST)
        .filter(|&port| walk(set, 0, nets, client, port).unwrap_or(!set.input_drops))
        .collect()
}

// ---- the dump and pasvlint's claim ----

const CHAIN_NAMES: [&str; 3] = ["INPUT", "U1", "U2"];

fn dump(set: &Ruleset, family: Family) -> String {
    let nets = nets(family);
    let policy = if set.input_drops { "DROP" } else { "ACCEPT" };
    let mut out = format!(
        "*filter\n:INPUT {policy} [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:U1 - [0:0]\n:U2 - [0:0]\n"
    );
    if family == Family::V6 {
        // Without neighbour discovery no IPv6 packet reaches the host at all.
        out.push_str("-A INPUT -p ipv6-icmp -j ACCEPT\n");
    }
    for (chain, rules) in set.chains.iter().enumerate() {
        for rule in rules {
            out.push_str(&format!("-A {}", CHAIN_NAMES[chain]));
            out.push_str(match rule.iface {
                Iface::Any => "",
                Iface::Uplink => " -i eth0",
                Iface::NotUplink => " ! -i eth0",
                Iface::Lan => " -i eth1",
            });
            match rule.source {
                Source::Any => {}
                Source::In(n) => out.push_str(&format!(" -s {}", nets[n].cidr)),
                Source::NotIn(n) => out.push_str(&format!(" ! -s {}", nets[n].cidr)),
            }
            out.push_str(" -p tcp");
            match &rule.ports {
                Ports::Any => {}
                Ports::Range(a, b) => out.push_str(&format!(" -m tcp --dport {a}:{b}")),
                Ports::NotRange(a, b) => out.push_str(&format!(" -m tcp ! --dport {a}:{b}")),
                Ports::List(list) => {
                    let items: Vec<String> = list
                        .iter()
                        .map(|&(a, b)| {
                            if a == b {
                                a.to_string()
                            } else {
                                format!("{a}:{b}")
                            }
                        })
                        .collect();
                    out.push_str(&format!(" -m multiport --dports {}", items.join(",")));
                }
            }
            let target = match rule.verdict {
                Verdict::Accept => " -j ACCEPT".to_owned(),
                Verdict::Drop => " -j DROP".to_owned(),
                Verdict::Reject => " -j REJECT --reject-with tcp-reset".to_owned(),
                Verdict::Return => " -j RETURN".to_owned(),
                Verdict::Jump(to) => format!(" -j {}", CHAIN_NAMES[to]),
                Verdict::Goto(to) => format!(" -g {}", CHAIN_NAMES[to]),
            };
            out.push_str(&target);
            out.push('\n');
        }
    }
    out.push_str("COMMIT\n");
    out
}

/// pasvlint's claim for one client address: the ports open to its whole class,
/// and those open to only some of it.
fn claim(text: &str, family: Family, address: u128) -> (BTreeSet<u16>, BTreeSet<u16>) {
    let name = match family {
        Family::V4 => "rules.v4",
        Family::V6 => "rules.v6",
    };
    let source = SourceFile::new(FileId(0), name, text.as_bytes());
    let facts = formats::facts(&formats::parse(source, Format::IptablesSave));
    let fw: Firewall = match family {
        Family::V4 => facts.firewall,
        Family::V6 => facts.firewall_v6,
    }
    .expect("the dump is a firewall");
    let classes = fw.source_classes();
    let class = classes
        .iter()
        .find(|c| c.sources.as_ref().is_none_or(|s| s.contains(address)))
        .expect("every address is in some class");
    let within = |set: &pasvlint::portset::PortSet| -> BTreeSet<u16> {
        (FIRST..=LAST).filter(|&p| set.contains(p)).collect()
    };
    (within(&class.open), within(&class.open_to_some))
}

fn address(text: &str) -> u128 {
    match text.parse::<std::net::IpAddr>().unwrap() {
        std::net::IpAddr::V4(a) => u128::from(u32::from(a)),
        std::net::IpAddr::V6(a) => u128::from(a),
    }
}

/// The client addresses of a family: first, second, public.
fn clients(family: Family) -> [&'static str; 3] {
    match family {
        Family::V4 => [CLIENT_ADDR, SECOND_V4.0, PUBLIC_V4.0],
        Family::V6 => [CLIENT_ADDR6, SECOND_V6.0, PUBLIC_V6.0],
    }
}

fn nets(family: Family) -> &'static [Net; 3] {
    match family {
        Family::V4 => &NETS_V4,
        Family::V6 => &NETS_V6,
    }
}

/// Where a claim and what really opened disagree, or `None` (see the module
/// comment for what each client's claim promises).
fn disagreement(
    client: usize,
    opened: &BTreeSet<u16>,
    (all, some): &(BTreeSet<u16>, BTreeSet<u16>),
) -> Option<String> {
    let never_closed_wrongly = opened.iter().all(|p| all.contains(p) || some.contains(p));
    let sound = never_closed_wrongly && (client != PUBLIC || all.is_subset(opened));
    (!sound).then(|| format!("opened {opened:?}, pasvlint: open to all {all:?}, to some {some:?}"))
}

#[test]
fn the_model_agrees_with_a_naive_reference_on_random_rulesets() {
    let mut rng = Lcg(0x5eed_f11e);
    let mut failures = Vec::new();
    let mut exact = 0;
    const CASES: usize = 1500;
    for case in 0..CASES {
        let set = random_ruleset(&mut rng);
        for family in [Family::V4, Family::V6] {
            let text = dump(&set, family);
            for (client, addr) in clients(family).into_iter().enumerate() {
                let opened = reference_open(&set, nets(family), client);
                let said = claim(&text, family, address(addr));
                if client == PUBLIC {
                    exact += usize::from(said.1.is_empty());
                }
                if let Some(why) = disagreement(client, &opened, &said) {
                    failures.push(format!(
                        "case {case} {family:?} client {addr}: {why}\n{text}"
                    ));
                }
            }
        }
    }
    eprintln!(
        "{CASES} rulesets x 2 families x 3 clients: {exact} public claims with no port open to only some"
    );
    assert!(
        failures.is_empty(),
        "{} disagreements, the first:\n{}",
        failures.len(),
        failures[0]
    );
    assert!(
        exact * 10 > CASES * 2 * 9,
        "too few exact claims to mean much: {exact}"
    );
}

/// Gives the pair's client its second and public addresses (and the server
/// routes back).
fn add_other_clients(pair: &Pair, family: Family) -> Result<(), String> {
    let others = match family {
        Family::V4 => [SECOND_V4, PUBLIC_V4],
        Family::V6 => [SECOND_V6, PUBLIC_V6],
    };
    for (addr, net) in others {
        match family {
            Family::V4 => pair.add_client_source(addr, net)?,
            Family::V6 => add_client_source6(pair, addr, net)?,
        }
    }
    Ok(())
}

fn add_client_source6(pair: &Pair, addr: &str, net: &str) -> Result<(), String> {
    let run = |args: &[&str]| {
        support::netns::run_within(
            std::process::Command::new("ip").args(args),
            support::netns::TOOL_TIMEOUT,
        )
        .map(|_| ())
    };
    let address = format!("{addr}/64");
    let client = pair.client.name.as_str();
    run(&[
        "-n", client, "addr", "add", &address, "dev", "eth0", "nodad",
    ])?;
    run(&["-n", &pair.server.name, "route", "add", net, "dev", "eth0"])
}

fn probe_case(text: &str, family: Family, dir: &Path) -> Result<Vec<BTreeSet<u16>>, String> {
    let pair = Pair::create()?;
    pair.add_ipv6()?;
    add_other_clients(&pair, family)?;
    let file = dir.join(match family {
        Family::V4 => "rules.v4",
        Family::V6 => "rules.v6",
    });
    std::fs::write(&file, text).map_err(|e| e.to_string())?;
    match family {
        Family::V4 => pair.server.load_iptables(&file)?,
        Family::V6 => pair.server.load_ip6tables(&file)?,
    }
    let ports: BTreeSet<u16> = (FIRST..=LAST).collect();
    let ipv6 = family == Family::V6;
    clients(family)
        .iter()
        .map(|from| support::connect::connectable_from(&pair, &ports, &ports, ipv6, Some(from)))
        .collect()
}

#[test]
fn the_model_and_the_reference_agree_with_the_kernel() {
    if !ready(
        "the_model_and_the_reference_agree_with_the_kernel",
        &[
            "/usr/sbin/iptables-restore",
            "/usr/sbin/ip6tables-restore",
            "/usr/bin/python3",
        ],
        &["ip"],
    ) {
        return;
    }
    support::netns::remove_stale();
    const CASES: usize = 12;
    let mut rng = Lcg(0x0c0f_fee5);
    let sets: Vec<Ruleset> = (0..CASES).map(|_| random_ruleset(&mut rng)).collect();
    let failures = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for (i, set) in sets.iter().enumerate() {
            let failures = &failures;
            scope.spawn(move || {
                for family in [Family::V4, Family::V6] {
                    let dir = tempfile::tempdir().unwrap();
                    let text = dump(set, family);
                    let probed = match probe_case(&text, family, dir.path()) {
                        Ok(p) => p,
                        Err(e) => {
                            failures
                                .lock()
                                .unwrap()
                                .push(format!("case {i} {family:?}: {e}"));
                            continue;
                        }
                    };
                    for (client, addr) in clients(family).into_iter().enumerate() {
                        let opened = &probed[client];
                        let reference = reference_open(set, nets(family), client);
                        let mut why = Vec::new();
                        if &reference != opened {
                            why.push(format!("reference {reference:?}, kernel {opened:?}"));
                        }
                        let said = claim(&text, family, address(addr));
                        if let Some(w) = disagreement(client, opened, &said) {
                            why.push(w);
                        }
                        if !why.is_empty() {
                            failures.lock().unwrap().push(format!(
                                "case {i} {family:?} client {addr}: {}\n{text}",
                                why.join("; ")
                            ));
                        }
                    }
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
