//! Zone and service XML as firewalld 1.3 reads them (`firewall/core/io/zone.py`,
//! `service.py`): every element checked against the reader's tables, every value
//! against its checks, with the span of what was written. A problem the reader
//! raises is fatal (firewalld drops the whole user configuration for the stock
//! one); a rich rule it cannot use is a warning that drops that rule only.

use super::schema;
use crate::addrset::{AddrSet, Family};
use crate::formats::xml::{self, Element, XmlTree};
use crate::source::{SourceFile, Span};

/// Something firewalld refuses, where, and what it costs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub span: Span,
    pub message: String,
    /// `true`: firewalld loads the stock configuration instead of the user one;
    /// `false`: it drops this rich rule and loads the rest.
    pub fatal: bool,
}

/// `target=` of a zone: what happens to a packet no rule of the zone decides.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// `default` (or none): ICMP in, the rest rejected by the INPUT chain.
    Default,
    Accept,
    Drop,
    Reject,
}

/// A named reference as written (`<service name="ftp"/>`, `<interface name="eth0"/>`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Named {
    pub name: String,
    /// The element.
    pub span: Span,
    /// The value of `name=`.
    pub value_span: Span,
}

/// `<port port="40000-40100" protocol="tcp"/>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Port {
    pub protocol: String,
    pub lo: u16,
    pub hi: u16,
    pub span: Span,
    /// The `port="…"` value itself, when written without entities or spaces.
    pub value: Option<Span>,
}

/// `<source address="198.51.100.0/24"/>` (a source by MAC or ipset matches
/// what the repository does not show).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Source {
    pub addr: Option<AddrSet>,
    pub text: String,
    pub span: Span,
}

/// `<forward-port port="21" protocol="tcp" to-port="2121" [to-addr="…"]/>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ForwardPort {
    pub protocol: String,
    pub lo: u16,
    pub hi: u16,
    pub to_port: Option<(u16, u16)>,
    /// One address (no prefix); its family is the family the forward applies to.
    pub to_addr: Option<AddrSet>,
    pub span: Span,
}

impl ForwardPort {
    /// The family firewalld forwards in: the to-addr's, else IPv4 (measured:
    /// `meta nfproto ipv4` on a zone's forward-port without to-addr).
    pub fn family(&self) -> Family {
        self.to_addr.as_ref().map_or(Family::V4, AddrSet::family)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Accept,
    Reject,
    Drop,
    /// Only log, audit or mark: decides nothing.
    None,
}

/// What a rich rule matches besides addresses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum What {
    Any,
    Port(Port),
    Service(Named),
    /// `<forward-port>`: nat rewrites the destination (no verdict of its own).
    Forward(ForwardPort),
    /// Protocol, ICMP, source port, masquerade: not TCP to a port.
    Other,
}

/// An address match of a rich rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AddrMatch {
    pub addr: AddrSet,
    pub invert: bool,
}

/// `<rule family=… priority=…>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RichRule {
    pub family: Option<Family>,
    pub priority: i32,
    pub source: Option<AddrMatch>,
    pub destination: Option<AddrMatch>,
    pub what: What,
    pub verdict: Verdict,
    /// A limit, a MAC or ipset source: matches only some packets of its class.
    pub partial: bool,
    /// A `log`, `nflog` or `audit` part: firewalld runs it in the zone's `_log`
    /// chain, before any verdict, so it acts even when the verdict never decides.
    pub logs: bool,
    pub span: Span,
    /// The whole rule as written: the element from `<rule` to `</rule>`, or the
    /// rich language text.
    pub extent: Span,
}

/// One zone file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Zone {
    /// The file name without `.xml`: firewalld names zones by their file.
    pub name: String,
    pub span: Span,
    pub target: Target,
    pub target_span: Option<Span>,
    pub services: Vec<Named>,
    pub ports: Vec<Port>,
    pub sources: Vec<Source>,
    pub interfaces: Vec<Named>,
    pub rules: Vec<RichRule>,
    pub forward_ports: Vec<ForwardPort>,
    pub icmp_blocks: Vec<Named>,
    pub problems: Vec<Problem>,
}

/// One service file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Service {
    pub name: String,
    pub span: Span,
    pub ports: Vec<Port>,
    pub helpers: Vec<Named>,
    pub includes: Vec<Named>,
    pub problems: Vec<Problem>,
}

fn stem(source: &SourceFile) -> String {
    source
        .path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Well-formedness, the root element, and every element against `table`.
fn read_checked(
    source: &SourceFile,
    root_name: &str,
    table: &[(&str, &[&str], &[&str])],
    problems: &mut Vec<Problem>,
) -> XmlTree {
    let tree = xml::read(source);
    if let Some(e) = tree.errors.first() {
        problems.push(Problem {
            span: e.span,
            message: format!("not a valid {root_name} file: {}", e.message),
            fatal: true,
        });
        return tree;
    }
    match tree.root() {
        Some(root) if root.name == root_name => {}
        Some(root) => problems.push(fatal(
            root.name_span,
            format!("Unexpected element {}", root.name),
        )),
        None => problems.push(fatal(
            source.span(0, source.text.len().min(1)),
            format!("not a valid {root_name} file: no element found"),
        )),
    }
    if let Some((span, message)) = tree.elements.iter().find_map(|e| schema::check(table, e)) {
        problems.push(fatal(span, message));
    }
    tree
}

fn fatal(span: Span, message: String) -> Problem {
    Problem {
        span,
        message,
        fatal: true,
    }
}

pub fn parse_zone(source: &SourceFile) -> Zone {
    let mut zone = Zone {
        name: stem(source),
        span: source.span(0, 0),
        target: Target::Default,
        target_span: None,
        services: Vec::new(),
        ports: Vec::new(),
        sources: Vec::new(),
        interfaces: Vec::new(),
        rules: Vec::new(),
        forward_ports: Vec::new(),
        icmp_blocks: Vec::new(),
        problems: Vec::new(),
    };
    let tree = read_checked(source, "zone", schema::ZONE, &mut zone.problems);
    let Some(root) = tree.root().filter(|r| r.name == "zone") else {
        return zone;
    };
    zone.span = root.tag;
    if let Some(t) = root.attr("target") {
        zone.target_span = Some(t.value_span);
        zone.target = match t.value.as_str() {
            "default" => Target::Default,
            "ACCEPT" => Target::Accept,
            "DROP" => Target::Drop,
            "%%REJECT%%" => Target::Reject,
            other => {
                zone.problems
                    .push(fatal(t.value_span, format!("INVALID_TARGET: {other}")));
                Target::Default
            }
        };
    }
    for (i, e) in tree.children(0) {
        zone_child(&mut zone, &tree, i, e);
    }
    zone
}

fn zone_child(zone: &mut Zone, tree: &XmlTree, index: usize, e: &Element) {
    match e.name.as_str() {
        "service" => zone.services.extend(named(e)),
        "interface" => zone.interfaces.extend(named(e)),
        "icmp-block" => zone.icmp_blocks.extend(named(e)),
        "port" => match port(e) {
            Ok(p) => zone.ports.push(p),
            Err(m) => zone.problems.push(fatal(e.tag, m)),
        },
        "forward-port" => match forward_port(e) {
            Ok(f) => zone.forward_ports.push(f),
            Err(m) => zone.problems.push(fatal(e.tag, m)),
        },
        "source" => match source(e) {
            Ok(s) => zone.sources.push(s),
            Err(m) => zone.problems.push(fatal(e.tag, m)),
        },
        "rule" => match rich_rule(tree, index, e) {
            Ok(r) => zone.rules.push(r),
            Err(m) => zone.problems.push(Problem {
                span: e.tag,
                message: format!(
                    "{m}: firewalld drops this rich rule and loads the rest of the zone without it"
                ),
                fatal: false,
            }),
        },
        _ => {}
    }
}

pub fn parse_service(source: &SourceFile) -> Service {
    let mut service = Service {
        name: stem(source),
        span: source.span(0, 0),
        ports: Vec::new(),
        helpers: Vec::new(),
        includes: Vec::new(),
        problems: Vec::new(),
    };
    let tree = read_checked(source, "service", schema::SERVICE, &mut service.problems);
    let Some(root) = tree.root().filter(|r| r.name == "service") else {
        return service;
    };
    service.span = root.tag;
    for (_, e) in tree.children(0) {
        match e.name.as_str() {
            "port" => match port(e) {
                Ok(p) => service.ports.push(p),
                Err(m) => service.problems.push(fatal(e.tag, m)),
            },
            "helper" => service.helpers.extend(named(e)),
            "include" => {
                if let Some(a) = e.attr("service") {
                    service.includes.push(Named {
                        name: a.value.clone(),
                        span: e.tag,
                        value_span: a.value_span,
                    });
                }
            }
            _ => {}
        }
    }
    service
}

fn named(e: &Element) -> Option<Named> {
    let a = e.attr("name")?;
    Some(Named {
        name: a.value.clone(),
        span: e.tag,
        value_span: a.value_span,
    })
}

/// firewalld's `check_port`: `N` or `A-B`, each 1-65535; a reversed range is
/// read as written the other way round.
pub fn port_range(text: &str) -> Result<(u16, u16), String> {
    let one = |t: &str| -> Result<u16, String> {
        let n: u64 = t
            .trim()
            .parse()
            .map_err(|_| format!("INVALID_PORT: '{text}' is not a port or port range"))?;
        match n {
            0 => Err(format!(
                "INVALID_PORT: port number in '{text}' is too small"
            )),
            1..=65535 => Ok(n as u16),
            _ => Err(format!("INVALID_PORT: port number in '{text}' is too big")),
        }
    };
    let (lo, hi) = match text.split_once('-') {
        Some((a, b)) => (one(a)?, one(b)?),
        None => {
            let p = one(text)?;
            (p, p)
        }
    };
    Ok((lo.min(hi), lo.max(hi)))
}

fn protocol(e: &Element) -> Result<String, String> {
    let p = e.attr("protocol").map(|a| a.value.as_str()).unwrap_or("");
    if matches!(p, "tcp" | "udp" | "sctp" | "dccp") {
        Ok(p.to_owned())
    } else {
        Err(format!(
            "INVALID_PROTOCOL: '{p}' not from {{'tcp'|'udp'|'sctp'|'dccp'}}"
        ))
    }
}

fn port(e: &Element) -> Result<Port, String> {
    let attr = e.attr("port");
    let text = attr.map(|a| a.value.as_str()).unwrap_or("");
    let (lo, hi) = port_range(text)?;
    let value = attr
        .filter(|a| a.value_span.range().len() == a.value.len())
        .map(|a| a.value_span);
    Ok(Port {
        protocol: protocol(e)?,
        lo,
        hi,
        span: e.tag,
        value,
    })
}

fn forward_port(e: &Element) -> Result<ForwardPort, String> {
    let text = e.attr("port").map(|a| a.value.as_str()).unwrap_or("");
    let (lo, hi) = port_range(text)?;
    let to_port = match e.attr("to-port") {
        Some(a) if !a.value.is_empty() => Some(port_range(&a.value)?),
        _ => None,
    };
    let to_addr = match e.attr("to-addr") {
        Some(a) if !a.value.is_empty() => Some(
            address(&a.value)
                .filter(|_| !a.value.contains(['/', '-']))
                .ok_or_else(|| {
                    format!("INVALID_ADDR: to-addr '{}' is not a valid address", a.value)
                })?,
        ),
        _ => None,
    };
    if to_port.is_none() && to_addr.is_none() {
        return Err("INVALID_FORWARD: forward-port needs to-port or to-addr".into());
    }
    Ok(ForwardPort {
        protocol: protocol(e)?,
        lo,
        hi,
        to_port,
        to_addr,
        span: e.tag,
    })
}

/// An address with an optional prefix, of the family it is written in.
pub fn address(text: &str) -> Option<AddrSet> {
    let family = if text.contains(':') {
        Family::V6
    } else {
        Family::V4
    };
    AddrSet::parse(family, text).ok()
}

fn source(e: &Element) -> Result<Source, String> {
    if let Some(a) = e.attr("address") {
        let addr = address(&a.value).ok_or_else(|| format!("INVALID_ADDR: {}", a.value))?;
        return Ok(Source {
            addr: Some(addr),
            text: a.value.clone(),
            span: e.tag,
        });
    }
    let other = e.attr("mac").or(e.attr("ipset"));
    match other {
        Some(a) => Ok(Source {
            addr: None,
            text: a.value.clone(),
            span: e.tag,
        }),
        None => Err("INVALID_ADDR: source needs address, mac or ipset".into()),
    }
}

fn rich_rule(tree: &XmlTree, index: usize, e: &Element) -> Result<RichRule, String> {
    let family = match e.attr("family").map(|a| a.value.as_str()) {
        None => None,
        Some("ipv4") => Some(Family::V4),
        Some("ipv6") => Some(Family::V6),
        Some(f) => return Err(format!("INVALID_FAMILY: {f}")),
    };
    let priority = match e.attr("priority") {
        None => 0,
        Some(a) => a
            .value
            .trim()
            .parse::<i32>()
            .ok()
            .filter(|p| (-32768..=32767).contains(p))
            .ok_or_else(|| format!("INVALID_PRIORITY: {}", a.value))?,
    };
    let mut rule = RichRule {
        family,
        priority,
        source: None,
        destination: None,
        what: What::Any,
        verdict: Verdict::None,
        partial: false,
        logs: false,
        span: e.tag,
        extent: tree.extent(e),
    };
    for (_, child) in tree.children(index) {
        rich_child(&mut rule, tree, child)?;
    }
    if let What::Forward(f) = &rule.what {
        rich_forward_checks(&rule, f)?;
    }
    Ok(rule)
}

/// What firewalld's rich rule check asks of a forward-port (measured with
/// `firewall-offline-cmd --check-config`; each a warning that drops the rule).
fn rich_forward_checks(rule: &RichRule, f: &ForwardPort) -> Result<(), String> {
    let Some(family) = rule.family else {
        return Err("MISSING_FAMILY: a forward-port rule needs family=".into());
    };
    if rule.verdict != Verdict::None {
        return Err("INVALID_RULE: forward-port and action".into());
    }
    if let Some(a) = f.to_addr.as_ref().filter(|a| a.family() != family) {
        return Err(format!(
            "INVALID_ADDR: {} is not {}",
            a.to_cidr_text(),
            family.as_str()
        ));
    }
    Ok(())
}

fn rich_child(rule: &mut RichRule, tree: &XmlTree, child: &Element) -> Result<(), String> {
    match child.name.as_str() {
        "source" | "destination" => {
            let Some(a) = child.attr("address") else {
                rule.partial = true;
                return Ok(());
            };
            let addr = address(&a.value).ok_or_else(|| format!("INVALID_ADDR: {}", a.value))?;
            match rule.family {
                None => return Err("INVALID_FAMILY: an address needs family=".into()),
                Some(f) if f != addr.family() => {
                    return Err(format!("INVALID_ADDR: {} is not {}", a.value, f.as_str()));
                }
                _ => {}
            }
            let invert = child
                .attr("invert")
                .is_some_and(|i| matches!(i.value.to_ascii_lowercase().as_str(), "yes" | "true"));
            let m = Some(AddrMatch { addr, invert });
            if child.name == "source" {
                rule.source = m;
            } else {
                rule.destination = m;
            }
        }
        "port" => rule.what = What::Port(port(child)?),
        "service" => rule.what = What::Service(named(child).ok_or("service needs name")?),
        "forward-port" => {
            rule.what = What::Forward(forward_port(child).map_err(|m| {
                if m.starts_with("INVALID_FORWARD") {
                    "INVALID_PORT: forward-port needs to-port or to-addr".into()
                } else {
                    m
                }
            })?)
        }
        "protocol" | "icmp-block" | "icmp-type" | "source-port" | "masquerade" => {
            rule.what = What::Other
        }
        "accept" => rule.verdict = Verdict::Accept,
        "reject" => rule.verdict = Verdict::Reject,
        "drop" => rule.verdict = Verdict::Drop,
        "log" | "nflog" | "audit" => rule.logs = true,
        _ => {}
    }
    let limited = child
        .children
        .iter()
        .any(|&i| tree.elements.get(i).is_some_and(|l| l.name == "limit"));
    if limited && matches!(child.name.as_str(), "accept" | "reject" | "drop") {
        rule.partial = true;
    }
    Ok(())
}
