//! `ufw` commands in a shell script: the rules, defaults and activation a run
//! leaves, lowered to the iptables restore text ufw itself loads (its
//! before.rules for loopback and replies, then the user rules, then the
//! incoming default policy), one text per address family.

pub mod files;

use crate::addrset::Family;
use crate::scripts::{Command, Word};
use crate::source::Span;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Allow,
    Deny,
    Reject,
    /// An allow that drops a source opening too many connections (`-m recent`).
    Limit,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    pub action: Action,
    pub iface: Option<String>,
    /// `tcp` or `udp`; `None`: both (or any protocol when no port is given).
    pub proto: Option<String>,
    /// Destination ports in iptables multiport syntax (`21`, `40000:40050,21`).
    pub ports: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    /// Set when an address of one family limits the rule to it.
    pub family: Option<Family>,
    pub span: Span,
}

impl Rule {
    /// Equal for `ufw delete`: everything but where it was written.
    fn same(&self, other: &Rule) -> bool {
        Rule {
            span: other.span,
            ..self.clone()
        } == *other
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Incoming {
    Allow,
    Deny,
    Reject,
}

/// A `ufw` command the real ufw refuses: it prints `ERROR: …`, exits 1 and
/// changes nothing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejected {
    /// The command.
    pub span: Span,
    /// ufw's own message, without `ERROR: `.
    pub message: String,
    /// What to write instead, when there is one obvious repair.
    pub instead: Option<String>,
}

/// What the script's `ufw` commands leave behind.
#[derive(Clone, Debug)]
pub struct Ufw {
    pub rules: Vec<Rule>,
    /// Commands ufw refuses, in the order they ran (each place once).
    pub rejected: Vec<Rejected>,
    /// The incoming default and the command that set it.
    pub default_in: (Incoming, Option<Span>),
    /// `Some(span)` of the last `ufw enable` when the run leaves ufw active;
    /// `None` when it never enabled it (ufw's state on the host is unknown) or disabled it.
    pub enabled: Option<Span>,
}

impl Default for Ufw {
    fn default() -> Self {
        Ufw {
            rules: Vec::new(),
            rejected: Vec::new(),
            // The shipped /etc/default/ufw: DEFAULT_INPUT_POLICY="DROP".
            default_in: (Incoming::Deny, None),
            enabled: None,
        }
    }
}

/// Whether a command runs `ufw`; its first argument's index.
pub fn program_of(c: &Command) -> Option<usize> {
    let (p, first) = c.program()?;
    (p.on_path && p.name == "ufw").then_some(first)
}

/// An `allow` or `limit` rule added (not deleted), which only opens.
pub fn opens(args: &[Word]) -> bool {
    let mut words = args
        .iter()
        .map(|w| w.text.as_str())
        .filter(|w| !w.starts_with('-'));
    match words.next() {
        Some("allow" | "limit") => true,
        Some("insert") => matches!(words.nth(1), Some("allow" | "limit")),
        Some("prepend") => matches!(words.next(), Some("allow" | "limit")),
        _ => false,
    }
}

impl Ufw {
    /// One `ufw` command's arguments (all known words); whether ufw refuses it
    /// (it then exits 1 and changes nothing).
    pub fn command(&mut self, args: &[Word], span: Span) -> bool {
        let mut words: Vec<&str> = Vec::new();
        for w in args {
            match w.text.as_str() {
                "--force" | "-f" => {}
                // A dry run changes nothing.
                "--dry-run" => return false,
                t => words.push(t),
            }
        }
        // `comment TEXT` ends a rule and only labels it.
        if words.len() >= 2 && words[words.len() - 2] == "comment" {
            words.truncate(words.len() - 2);
        }
        let parsed = match words.as_slice() {
            // Routed rules filter forwarded traffic, never what reaches the server.
            ["route", ..] | ["delete", "route", ..] | ["insert", _, "route", ..] => return false,
            ["enable"] => {
                self.enabled = Some(span);
                return false;
            }
            ["disable"] => {
                self.enabled = None;
                return false;
            }
            ["reset"] => {
                let rejected = std::mem::take(&mut self.rejected);
                *self = Ufw {
                    rejected,
                    ..Ufw::default()
                };
                return false;
            }
            ["default", policy, rest @ ..] => {
                self.set_default(policy, rest, span);
                return false;
            }
            ["insert", n, rest @ ..] => {
                let parsed = parse_rule(rest, span);
                if let (Ok(n), Parsed::Rule(rule)) = (n.parse::<usize>(), &parsed) {
                    let at = n.saturating_sub(1).min(self.rules.len());
                    self.rules.insert(at, rule.clone());
                }
                parsed
            }
            ["prepend", rest @ ..] => {
                let parsed = parse_rule(rest, span);
                if let Parsed::Rule(rule) = &parsed {
                    self.rules.insert(0, rule.clone());
                }
                parsed
            }
            ["delete", n] if n.parse::<usize>().is_ok() => {
                if let Some(i) = n.parse::<usize>().ok().and_then(|n| n.checked_sub(1)) {
                    if i < self.rules.len() {
                        self.rules.remove(i);
                    }
                }
                return false;
            }
            ["delete", rest @ ..] => {
                let parsed = parse_rule(rest, span);
                if let Parsed::Rule(rule) = &parsed {
                    self.rules.retain(|r| !r.same(rule));
                }
                parsed
            }
            _ => {
                let parsed = parse_rule(&words, span);
                if let Parsed::Rule(rule) = &parsed {
                    self.rules.push(rule.clone());
                }
                parsed
            }
        };
        let Parsed::Refused(message, instead) = parsed else {
            return false;
        };
        let instead = instead.map(|how| {
            let mut out: Vec<String> = vec!["ufw".to_owned()];
            let mut done = false;
            for w in args {
                let t = w.text.as_str();
                match &how {
                    Instead::Replace(word, with) if !done && t == word.as_str() => {
                        out.push(with.clone());
                        done = true;
                    }
                    Instead::Proto if !done && t == "comment" => {
                        out.extend(["proto".to_owned(), "tcp".to_owned(), t.to_owned()]);
                        done = true;
                    }
                    _ => out.push(shown(t)),
                }
            }
            if !done {
                out.extend(["proto".to_owned(), "tcp".to_owned()]);
            }
            out.join(" ")
        });
        let rejected = Rejected {
            span,
            message,
            instead,
        };
        if !self.rejected.contains(&rejected) {
            self.rejected.push(rejected);
        }
        true
    }

    fn set_default(&mut self, policy: &str, rest: &[&str], span: Span) {
        let policy = match policy {
            "allow" => Incoming::Allow,
            "deny" => Incoming::Deny,
            "reject" => Incoming::Reject,
            _ => return,
        };
        // Outgoing and routed defaults do not decide what reaches the server.
        if matches!(rest, [] | ["incoming"]) {
            self.default_in = (policy, Some(span));
        }
    }

    /// The restore text ufw loads for `family`, each line with the command it
    /// comes from; `None` when the run leaves ufw inactive or never enables it.
    pub fn lower(&self, family: Family) -> Option<Vec<(String, Span)>> {
        let enable = self.enabled?;
        let policy_span = self.default_in.1.unwrap_or(enable);
        let policy = if self.default_in.0 == Incoming::Allow {
            "ACCEPT"
        } else {
            "DROP"
        };
        let mut out = vec![
            ("*filter".to_owned(), enable),
            (format!(":INPUT {policy} [0:0]"), policy_span),
            ("-A INPUT -i lo -j ACCEPT".to_owned(), enable),
            (
                "-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT".to_owned(),
                enable,
            ),
        ];
        for rule in &self.rules {
            if rule.family.is_none_or(|f| f == family) {
                for line in lines(rule) {
                    out.push((line, rule.span));
                }
            }
        }
        if self.default_in.0 == Incoming::Reject {
            out.push(("-A INPUT -j REJECT".to_owned(), policy_span));
        }
        out.push(("COMMIT".to_owned(), enable));
        Some(out)
    }
}

/// The iptables rules of one ufw rule (a port without protocol is both TCP and UDP).
fn lines(rule: &Rule) -> Vec<String> {
    let protos: Vec<Option<&str>> = match (&rule.proto, &rule.ports) {
        (Some(p), _) => vec![Some(p.as_str())],
        (None, Some(_)) => vec![Some("tcp"), Some("udp")],
        (None, None) => vec![None],
    };
    let mut out = Vec::new();
    for proto in protos {
        let mut m = String::from("-A INPUT");
        if let Some(i) = &rule.iface {
            m.push_str(&format!(" -i {i}"));
        }
        if let Some(p) = proto {
            m.push_str(&format!(" -p {p}"));
        }
        if let Some(a) = &rule.from {
            m.push_str(&format!(" -s {a}"));
        }
        if let Some(a) = &rule.to {
            m.push_str(&format!(" -d {a}"));
        }
        if let Some(ports) = &rule.ports {
            m.push_str(&format!(" -m multiport --dports {ports}"));
        }
        match rule.action {
            Action::Allow => out.push(format!("{m} -j ACCEPT")),
            Action::Deny => out.push(format!("{m} -j DROP")),
            Action::Reject => out.push(format!("{m} -j REJECT")),
            Action::Limit => {
                out.push(format!(
                    "{m} -m conntrack --ctstate NEW -m recent --update --seconds 30 --hitcount 6 -j DROP"
                ));
                out.push(format!("{m} -j ACCEPT"));
            }
        }
    }
    out
}

/// What ufw makes of a rule's words.
#[derive(Debug)]
enum Parsed {
    Rule(Rule),
    /// Not modelled (an outbound rule, an application profile or a service
    /// name pasvlint does not know): taken as opening nothing here.
    Skipped,
    /// ufw refuses it: its message (without `ERROR: `), and how to write what
    /// was meant, when that is plain.
    Refused(String, Option<Instead>),
}

/// The same rule written as ufw takes it (a missing protocol taken as `tcp`, FTP's).
#[derive(Debug)]
enum Instead {
    /// One word rewritten: `1024:1048` → `1024:1048/tcp`.
    Replace(String, String),
    /// The long form: `proto tcp` added.
    Proto,
}

/// Measured with ufw 0.36.2 (`ufw --dry-run …`).
const MULTIPLE_PORTS: &str = "Must specify 'tcp' or 'udp' with multiple ports";
const NOT_NUMERIC: &str = "Port ranges must be numeric";
const BAD_PORT: &str = "Bad port";
const WRONG_NUMBER: &str = "Wrong number of arguments";
/// ufw's `supported_protocols` and, of them, those without ports.
const PROTOCOLS: &[&str] = &[
    "tcp", "udp", "ipv6", "esp", "ah", "igmp", "gre", "vrrp", "any",
];
const PORTLESS: &[&str] = &["ipv6", "esp", "ah", "igmp", "gre", "vrrp"];

/// `[in] [on IFACE] [log] SPEC`, after the action word.
fn parse_rule(words: &[&str], span: Span) -> Parsed {
    let Some((action, mut rest)) = (match words.split_first() {
        Some((&"allow", r)) => Some((Action::Allow, r)),
        Some((&"deny", r)) => Some((Action::Deny, r)),
        Some((&"reject", r)) => Some((Action::Reject, r)),
        Some((&"limit", r)) => Some((Action::Limit, r)),
        _ => None,
    }) else {
        return Parsed::Skipped;
    };
    let mut rule = Rule {
        action,
        iface: None,
        proto: None,
        ports: None,
        from: None,
        to: None,
        family: None,
        span,
    };
    let mut outbound = false;
    loop {
        match rest {
            ["in", r @ ..] | ["log", r @ ..] | ["log-all", r @ ..] => rest = r,
            ["out", r @ ..] => {
                outbound = true;
                rest = r;
            }
            ["on", iface, r @ ..] => {
                rule.iface = Some((*iface).to_owned());
                rest = r;
            }
            _ => break,
        }
    }
    let parsed = match rest {
        // ufw takes the short form only without an interface.
        [spec] if rule.iface.is_some() => {
            let instead = match simple_spec(spec) {
                Spec::Ports(ports, proto) => {
                    let proto = proto.map(|p| format!(" proto {p}")).unwrap_or_default();
                    Some(Instead::Replace(
                        (*spec).to_owned(),
                        format!("to any port {ports}{proto}"),
                    ))
                }
                _ => None,
            };
            Parsed::Refused(WRONG_NUMBER.to_owned(), instead)
        }
        [spec] if !matches!(*spec, "from" | "to" | "proto") => match simple_spec(spec) {
            Spec::Ports(ports, proto) => {
                rule.ports = Some(ports);
                rule.proto = proto;
                Parsed::Rule(rule)
            }
            Spec::Unknown => Parsed::Skipped,
            Spec::Refused(why) => {
                let instead = (why == MULTIPLE_PORTS)
                    .then(|| Instead::Replace((*spec).to_owned(), format!("{spec}/tcp")));
                Parsed::Refused(why, instead)
            }
        },
        _ => match full_spec(&mut rule, rest) {
            Spec::Ports(..) => Parsed::Rule(rule),
            Spec::Unknown => Parsed::Skipped,
            Spec::Refused(why) => {
                let instead = (why == MULTIPLE_PORTS).then_some(Instead::Proto);
                Parsed::Refused(why, instead)
            }
        },
    };
    // An outbound rule does not decide what reaches the server (ufw still checks it).
    match parsed {
        Parsed::Rule(_) if outbound => Parsed::Skipped,
        p => p,
    }
}

/// A port specification as ufw reads it.
enum Spec {
    /// Ports in iptables multiport syntax and the protocol (`None`: both).
    Ports(String, Option<String>),
    /// A name pasvlint cannot look up (a service from `/etc/services`, a profile).
    Unknown,
    Refused(String),
}

/// `PORT`, `PORT/PROTO`, `A:B/tcp`, `A,B:C/tcp`, a service name.
fn simple_spec(spec: &str) -> Spec {
    let (ports, proto) = match spec.split_once('/') {
        Some((p, proto @ ("tcp" | "udp"))) => (p, Some(proto.to_owned())),
        Some((p, "any")) => (p, None),
        Some(_) => return Spec::Refused(BAD_PORT.to_owned()),
        None => (spec, None),
    };
    if let Some((port, service_proto)) = service(ports) {
        return Spec::Ports(port.to_owned(), proto.or(Some(service_proto.to_owned())));
    }
    let ports = match port_list(ports) {
        Ok(ports) => ports,
        Err(PortError::NotNumeric) => return Spec::Refused(NOT_NUMERIC.to_owned()),
        // A service ufw may find in /etc/services (every name there starts with
        // a letter), or without `/PROTO` an application profile.
        Err(PortError::Name) if ports.starts_with(|c: char| c.is_ascii_alphabetic()) => {
            return Spec::Unknown;
        }
        Err(_) => return Spec::Refused(BAD_PORT.to_owned()),
    };
    if proto.is_none() && (ports.contains(':') || ports.contains(',')) {
        return Spec::Refused(MULTIPLE_PORTS.to_owned());
    }
    Spec::Ports(ports, proto)
}

fn service(name: &str) -> Option<(&'static str, &'static str)> {
    match name {
        "ftp" => Some(("21", "tcp")),
        "ssh" => Some(("22", "tcp")),
        "http" => Some(("80", "tcp")),
        "https" => Some(("443", "tcp")),
        _ => None,
    }
}

enum PortError {
    /// A list with a part that is not a number or a range.
    NotNumeric,
    /// One word that is not a number: a service name, maybe.
    Name,
    /// Out of 1-65535, a range not rising, more than 15 slots (a range takes two).
    Bad,
}

/// A comma list of ports and `A:B` ranges, checked as ufw does.
fn port_list(ports: &str) -> Result<String, PortError> {
    let numeric = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    let parts: Vec<&str> = ports.split(',').collect();
    if parts.len() > 1
        && !parts.iter().all(|p| match p.split_once(':') {
            Some((a, b)) => numeric(a) && numeric(b),
            None => numeric(p),
        })
    {
        return Err(PortError::NotNumeric);
    }
    let mut slots = 0;
    for part in &parts {
        let mut bounds = part.split(':');
        let first = bounds.next().unwrap_or("");
        if parts.len() == 1 && !part.contains(':') && !numeric(first) {
            return Err(PortError::Name);
        }
        let number = |t: &str| t.parse::<u32>().ok().filter(|n| (1..=65535).contains(n));
        let lo = number(first).ok_or(PortError::Bad)?;
        slots += 1;
        if let Some(h) = bounds.next() {
            slots += 1;
            if number(h).ok_or(PortError::Bad)? <= lo {
                return Err(PortError::Bad);
            }
        }
        if bounds.next().is_some() {
            return Err(PortError::Bad);
        }
    }
    if slots > 15 {
        return Err(PortError::Bad);
    }
    Ok(ports.to_owned())
}

/// `[proto P] [from ADDR [port P]] [to ADDR [port P]] [proto P]`.
fn full_spec(rule: &mut Rule, mut rest: &[&str]) -> Spec {
    let mut port = None;
    let mut source_port = None;
    let mut proto: Option<&str> = None;
    while let Some((word, r)) = rest.split_first() {
        match (*word, r) {
            ("proto", [p, r @ ..]) => {
                proto = Some(*p);
                rest = r;
            }
            ("from", [a, r @ ..]) => {
                match address(rule, a) {
                    Some(a) => rule.from = a,
                    None => return Spec::Unknown,
                }
                // A source port does not pick out the server's ports; only checked.
                rest = match r {
                    ["port", p, r2 @ ..] => {
                        source_port = Some(*p);
                        r2
                    }
                    _ => r,
                };
            }
            ("to", [a, r @ ..]) => {
                match address(rule, a) {
                    Some(a) => rule.to = a,
                    None => return Spec::Unknown,
                }
                rest = match r {
                    ["port", p, r2 @ ..] => {
                        port = Some(*p);
                        r2
                    }
                    _ => r,
                };
            }
            _ => return Spec::Unknown,
        }
    }
    if let Some(p) = proto {
        if !PROTOCOLS.contains(&p) {
            return Spec::Refused(format!("Unsupported protocol '{p}'"));
        }
        if PORTLESS.contains(&p) && (port.is_some() || source_port.is_some()) {
            return Spec::Refused(format!("Invalid port with protocol '{p}'"));
        }
    }
    let mut multiple = false;
    let mut service_proto = None;
    for (i, p) in [source_port, port].into_iter().enumerate() {
        let Some(p) = p else { continue };
        if let Some((number, proto)) = service(p) {
            if i == 1 {
                rule.ports = Some(number.to_owned());
                service_proto = Some(proto);
            }
            continue;
        }
        match port_list(p) {
            Ok(ports) => {
                multiple |= ports.contains(':') || ports.contains(',');
                if i == 1 {
                    rule.ports = Some(ports);
                }
            }
            Err(PortError::NotNumeric) => return Spec::Refused(NOT_NUMERIC.to_owned()),
            // A service name ufw may find in /etc/services.
            Err(PortError::Name) if p.starts_with(|c: char| c.is_ascii_alphabetic()) => {
                return Spec::Unknown;
            }
            Err(_) => return Spec::Refused(format!("{BAD_PORT} '{p}'")),
        }
    }
    match proto {
        Some(p @ ("tcp" | "udp")) => rule.proto = Some(p.to_owned()),
        Some("any") | None => {
            if multiple {
                return Spec::Refused(MULTIPLE_PORTS.to_owned());
            }
            rule.proto = service_proto.map(str::to_owned);
        }
        // esp, ah, gre, ...: no TCP port is opened.
        Some(_) => return Spec::Unknown,
    }
    Spec::Ports(rule.ports.clone().unwrap_or_default(), rule.proto.clone())
}

/// A word as a shell command shows it (quoted when it holds blanks).
fn shown(t: &str) -> String {
    if t.is_empty() || t.contains(char::is_whitespace) {
        format!("'{t}'")
    } else {
        t.to_owned()
    }
}

/// `any`, or an address whose family limits the rule.
fn address(rule: &mut Rule, a: &str) -> Option<Option<String>> {
    if a == "any" {
        return Some(None);
    }
    let family = if a.contains(':') {
        Family::V6
    } else {
        Family::V4
    };
    if rule.family.is_some_and(|f| f != family) {
        return None;
    }
    rule.family = Some(family);
    Some(Some(a.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{FileId, SourceFile};

    fn state(commands: &[&str]) -> Ufw {
        let src = SourceFile::new(FileId(0), "x.sh", b"x");
        let span = src.span(0, 1);
        let mut ufw = Ufw::default();
        for c in commands {
            let args: Vec<Word> = c
                .split_whitespace()
                .map(|t| Word::literal(t, span))
                .collect();
            ufw.command(&args, span);
        }
        ufw
    }

    fn ports(commands: &[&str]) -> Vec<(Option<String>, Option<String>)> {
        state(commands)
            .rules
            .iter()
            .map(|r| (r.ports.clone(), r.proto.clone()))
            .collect()
    }

    fn p(ports: &str, proto: Option<&str>) -> (Option<String>, Option<String>) {
        (Some(ports.to_owned()), proto.map(str::to_owned))
    }

    #[test]
    fn simple_forms() {
        assert_eq!(
            ports(&[
                "allow 21/tcp",
                "allow 40000:40050/tcp",
                "allow 22",
                "allow ftp",
                "allow in 21,990,50000:50010/tcp",
                "allow in on eth0 21,990,50000:50010/tcp",
                "allow 40000:40050",
                "allow 1,2",
                "allow smtp",
                "allow 990/any",
            ]),
            [
                p("21", Some("tcp")),
                p("40000:40050", Some("tcp")),
                p("22", None),
                p("21", Some("tcp")),
                p("21,990,50000:50010", Some("tcp")),
                p("990", None),
            ]
        );
    }

    /// Each message as `ufw --dry-run` 0.36.2 prints it for the same words.
    #[test]
    fn commands_ufw_refuses() {
        let refused = |c: &str| {
            let u = state(&[c]);
            assert!(u.rules.is_empty(), "{c}");
            u.rejected
                .first()
                .map(|r| (r.message.clone(), r.instead.clone()))
        };
        let m = |c: &str| refused(c).map(|r| r.0);
        let text = "Must specify 'tcp' or 'udp' with multiple ports".to_owned();
        let multiple = Some(text.clone());
        assert_eq!(
            refused("allow 1024:1048"),
            Some((text.clone(), Some("ufw allow 1024:1048/tcp".to_owned())))
        );
        assert_eq!(m("allow 21,990"), multiple);
        assert_eq!(m("deny 1000:2000"), multiple);
        assert_eq!(m("prepend allow 1000:2000"), multiple);
        assert_eq!(m("allow out 1000:2000"), multiple);
        assert_eq!(
            m("allow from 10.0.0.0/8 port 1000:2000 to any port 21"),
            multiple
        );
        assert_eq!(
            refused("allow from 10.0.0.0/8 to any port 21,22 comment x"),
            Some((
                text,
                Some("ufw allow from 10.0.0.0/8 to any port 21,22 proto tcp comment x".to_owned())
            ))
        );
        for bad in [
            "allow 0",
            "allow 70000",
            "allow 2000:1000",
            "allow 21:21/tcp",
            "allow 1024:1048/sctp",
            "allow 21/TCP",
            "allow 1:2:3/tcp",
            "allow 1000-2000/tcp",
            "allow 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16/tcp",
            "allow 1:10,20:30,40:50,60:70,80:90,100:110,120:130,140:150/tcp",
        ] {
            assert_eq!(m(bad).as_deref(), Some("Bad port"), "{bad}");
        }
        assert_eq!(m("allow to any port 0").as_deref(), Some("Bad port '0'"));
        assert_eq!(
            m("allow proto tcp to any port 2000:1000").as_deref(),
            Some("Bad port '2000:1000'")
        );
        assert_eq!(
            m("allow 21,ftp").as_deref(),
            Some("Port ranges must be numeric")
        );
        assert_eq!(
            m("allow proto tcp to any port ftp,ssh").as_deref(),
            Some("Port ranges must be numeric")
        );
        assert_eq!(
            m("allow in on eth0 21/tcp").as_deref(),
            Some("Wrong number of arguments")
        );
        assert_eq!(
            m("allow to any port 21 proto sctp").as_deref(),
            Some("Unsupported protocol 'sctp'")
        );
        assert_eq!(
            m("allow proto esp to any port 21").as_deref(),
            Some("Invalid port with protocol 'esp'")
        );
        // Accepted by ufw, or names pasvlint cannot look up: nothing refused.
        for fine in [
            "allow 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15/tcp",
            "allow 1:10,20:30,40:50,60:70,80:90,100:110,120:130,140/tcp",
            "allow proto tcp to any port 1000:2000,21",
            "allow to any port 21,22 proto tcp",
            "allow in on eth0 to any port 21",
            "allow smtp/tcp",
            "allow 'Apache Full'",
            "allow proto esp from 198.18.0.1",
            "--dry-run allow 1024:1048",
        ] {
            assert!(state(&[fine]).rejected.is_empty(), "{fine}");
        }
    }

    #[test]
    fn full_forms() {
        let u = state(&[
            "allow proto tcp from 10.0.0.0/8 to any port 40000:40100",
            "allow from 192.168.1.1",
            "allow to any port 21 proto tcp",
            "allow from 2001:db8::/32 to any port 21",
            "allow to any port 40000:40100",
        ]);
        assert_eq!(u.rules.len(), 4);
        assert_eq!(u.rules[0].from.as_deref(), Some("10.0.0.0/8"));
        assert_eq!(u.rules[0].family, Some(Family::V4));
        assert_eq!(u.rules[1].ports, None);
        assert_eq!(u.rules[2].ports.as_deref(), Some("21"));
        assert_eq!(u.rules[3].family, Some(Family::V6));
    }

    #[test]
    fn comments_label_rules_and_routed_rules_do_not_open() {
        let ufw = state(&[
            "allow 21/tcp comment FTP-control",
            "route allow 8080/tcp",
            "allow 40000:40100/tcp comment passive",
        ]);
        let ports: Vec<_> = ufw.rules.iter().map(|r| r.ports.clone()).collect();
        assert_eq!(
            ports,
            vec![Some("21".to_owned()), Some("40000:40100".to_owned())]
        );
    }

    #[test]
    fn insert_delete_defaults_and_activation() {
        let u = state(&[
            "allow 21/tcp",
            "allow 22/tcp",
            "insert 1 deny 23/tcp",
            "delete allow 21/tcp",
            "default allow outgoing",
            "default reject",
        ]);
        assert_eq!(ports(&["allow 21/tcp"]).len(), 1);
        let got: Vec<_> = u.rules.iter().map(|r| r.ports.clone().unwrap()).collect();
        assert_eq!(got, ["23", "22"]);
        assert_eq!(u.default_in.0, Incoming::Reject);
        assert!(u.lower(Family::V4).is_none());
        let u = state(&["allow 21/tcp", "--force enable"]);
        let text: Vec<String> = u
            .lower(Family::V6)
            .unwrap()
            .into_iter()
            .map(|l| l.0)
            .collect();
        assert_eq!(text[1], ":INPUT DROP [0:0]");
        assert!(text.contains(&"-A INPUT -p tcp -m multiport --dports 21 -j ACCEPT".to_owned()));
        assert!(state(&["enable", "disable"]).lower(Family::V4).is_none());
        assert!(state(&["enable", "reset"]).lower(Family::V4).is_none());
        assert!(state(&["--dry-run enable"]).lower(Family::V4).is_none());
        let u = state(&["limit ssh", "enable"]);
        assert_eq!(u.lower(Family::V4).unwrap().len(), 7);
    }
}
