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

/// What the script's `ufw` commands leave behind.
#[derive(Clone, Debug)]
pub struct Ufw {
    pub rules: Vec<Rule>,
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
    /// One `ufw` command's arguments (all known words).
    pub fn command(&mut self, args: &[Word], span: Span) {
        let mut words: Vec<&str> = Vec::new();
        for w in args {
            match w.text.as_str() {
                "--force" | "-f" => {}
                // A dry run changes nothing.
                "--dry-run" => return,
                t => words.push(t),
            }
        }
        // `comment TEXT` ends a rule and only labels it.
        if words.len() >= 2 && words[words.len() - 2] == "comment" {
            words.truncate(words.len() - 2);
        }
        match words.as_slice() {
            // Routed rules filter forwarded traffic, never what reaches the server.
            ["route", ..] | ["delete", "route", ..] | ["insert", _, "route", ..] => {}
            ["enable"] => self.enabled = Some(span),
            ["disable"] => self.enabled = None,
            ["reset"] => *self = Ufw::default(),
            ["default", policy, rest @ ..] => self.set_default(policy, rest, span),
            ["insert", n, rest @ ..] => {
                if let (Ok(n), Some(rule)) = (n.parse::<usize>(), parse_rule(rest, span)) {
                    let at = n.saturating_sub(1).min(self.rules.len());
                    self.rules.insert(at, rule);
                }
            }
            ["prepend", rest @ ..] => {
                if let Some(rule) = parse_rule(rest, span) {
                    self.rules.insert(0, rule);
                }
            }
            ["delete", n] if n.parse::<usize>().is_ok() => {
                if let Some(i) = n.parse::<usize>().ok().and_then(|n| n.checked_sub(1)) {
                    if i < self.rules.len() {
                        self.rules.remove(i);
                    }
                }
            }
            ["delete", rest @ ..] => {
                if let Some(rule) = parse_rule(rest, span) {
                    self.rules.retain(|r| !r.same(&rule));
                }
            }
            _ => {
                if let Some(rule) = parse_rule(&words, span) {
                    self.rules.push(rule);
                }
            }
        }
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

/// `[in] [on IFACE] [log] SPEC`, after the action word.
fn parse_rule(words: &[&str], span: Span) -> Option<Rule> {
    let (action, mut rest) = match words.split_first()? {
        (&"allow", r) => (Action::Allow, r),
        (&"deny", r) => (Action::Deny, r),
        (&"reject", r) => (Action::Reject, r),
        (&"limit", r) => (Action::Limit, r),
        _ => return None,
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
    loop {
        match rest {
            ["in", r @ ..] | ["log", r @ ..] | ["log-all", r @ ..] => rest = r,
            // An outbound rule does not decide what reaches the server.
            ["out", ..] => return None,
            ["on", iface, r @ ..] => {
                rule.iface = Some((*iface).to_owned());
                rest = r;
            }
            _ => break,
        }
    }
    match rest {
        [spec] if !matches!(*spec, "from" | "to" | "proto") => {
            let (ports, proto) = simple_spec(spec)?;
            rule.ports = Some(ports);
            rule.proto = proto;
        }
        _ => full_spec(&mut rule, rest)?,
    }
    Some(rule)
}

/// `PORT`, `PORT/PROTO`, `A:B/tcp`, `A,B:C/tcp`, a service name.
fn simple_spec(spec: &str) -> Option<(String, Option<String>)> {
    let (ports, proto) = match spec.split_once('/') {
        Some((p, proto @ ("tcp" | "udp"))) => (p, Some(proto.to_owned())),
        Some(_) => return None,
        None => (spec, None),
    };
    if let Some((port, service_proto)) = service(ports) {
        return Some((port.to_owned(), proto.or(Some(service_proto.to_owned()))));
    }
    let ports = port_list(ports)?;
    // ufw: "Must specify 'tcp' or 'udp' with multiple ports".
    if proto.is_none() && (ports.contains(':') || ports.contains(',')) {
        return None;
    }
    Some((ports, proto))
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

/// A comma list of ports and `A:B` ranges, checked.
fn port_list(ports: &str) -> Option<String> {
    for part in ports.split(',') {
        let mut bounds = part.split(':');
        let lo: u16 = bounds.next()?.parse().ok()?;
        let hi: u16 = bounds.next().map_or(Some(lo), |h| h.parse().ok())?;
        if bounds.next().is_some() || lo == 0 || hi < lo {
            return None;
        }
    }
    Some(ports.to_owned())
}

/// `[proto P] [from ADDR [port P]] [to ADDR [port P]] [proto P]`.
fn full_spec(rule: &mut Rule, mut rest: &[&str]) -> Option<()> {
    let mut port = None;
    while let Some((word, r)) = rest.split_first() {
        match (*word, r) {
            ("proto", [p, r @ ..]) if matches!(*p, "tcp" | "udp") => {
                rule.proto = Some((*p).to_owned());
                rest = r;
            }
            ("from", [a, r @ ..]) => {
                rule.from = address(rule, a)?;
                // A source port does not pick out the server's ports; skip it.
                rest = match r {
                    ["port", _, r2 @ ..] => r2,
                    _ => r,
                };
            }
            ("to", [a, r @ ..]) => {
                rule.to = address(rule, a)?;
                rest = match r {
                    ["port", p, r2 @ ..] => {
                        port = Some(*p);
                        r2
                    }
                    _ => r,
                };
            }
            _ => return None,
        }
    }
    if let Some(p) = port {
        let (ports, proto) = match service(p) {
            Some((port, proto)) => (port.to_owned(), Some(proto)),
            None => (port_list(p)?, None),
        };
        if rule.proto.is_none() && (ports.contains(':') || ports.contains(',')) {
            return None;
        }
        if rule.proto.is_none() {
            rule.proto = proto.map(str::to_owned);
        }
        rule.ports = Some(ports);
    }
    Some(())
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
                "allow in on eth0 21,990,50000:50010/tcp",
                "allow 40000:40050",
                "allow 1,2",
                "allow smtp",
            ]),
            [
                p("21", Some("tcp")),
                p("40000:40050", Some("tcp")),
                p("22", None),
                p("21", Some("tcp")),
                p("21,990,50000:50010", Some("tcp")),
            ]
        );
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
