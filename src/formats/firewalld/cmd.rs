//! `firewall-cmd` and `firewall-offline-cmd` commands in a shell script: the
//! zones a run leaves, on top of the shipped configuration (the repository does
//! not show the host's own `/etc/firewalld`). `--permanent` changes (and every
//! `firewall-offline-cmd` one) are what the host loads at boot; runtime-only
//! changes are lost at the next reload unless `--runtime-to-permanent` keeps them.

use super::lower::Config;
use super::shipped;
use super::zone::{
    self, AddrMatch, ForwardPort, Named, Port, RichRule, Source, Verdict, What, Zone,
};
use crate::addrset::Family;
use crate::scripts::{Command, Word};
use crate::source::Span;

/// Whether a command runs firewall-cmd (`Some(false)`) or firewall-offline-cmd
/// (`Some(true)`), and its first argument's index.
pub fn program_of(c: &Command) -> Option<(bool, usize)> {
    let (p, first) = c.program()?;
    match p.name {
        "firewall-cmd" => Some((false, first)),
        "firewall-offline-cmd" => Some((true, first)),
        _ => None,
    }
}

/// Whether a firewall-cmd command only opens (`--add-port=`, `--add-service=`,
/// with `--permanent` and `--zone=`): one under a condition the script cannot
/// decide then counts, so no port is claimed blocked (or the host left with no
/// firewall at all) that the script may have opened.
pub fn opens(args: &[Word]) -> bool {
    let adds =
        |w: &&Word| w.text.starts_with("--add-port=") || w.text.starts_with("--add-service=");
    args.iter().any(|w| adds(&w))
        && args
            .iter()
            .all(|w| adds(&w) || w.text == "--permanent" || w.text.starts_with("--zone="))
}

/// One configuration: zones and the default zone.
#[derive(Clone, Debug)]
struct Set {
    zones: Vec<Zone>,
    default_zone: String,
    default_span: Option<Span>,
}

/// What the script's firewalld commands leave behind.
#[derive(Clone, Debug, Default)]
pub struct Firewalld {
    permanent: Option<Set>,
    runtime: Option<Set>,
    /// The first command: built-in lines point there.
    anchor: Option<Span>,
}

impl Firewalld {
    fn fresh(anchor: Span) -> Set {
        Set {
            zones: shipped::zones(anchor),
            default_zone: "public".into(),
            default_span: None,
        }
    }

    /// One command's arguments (all known words).
    pub fn command(&mut self, offline: bool, args: &[Word], span: Span) {
        let anchor = *self.anchor.get_or_insert(span);
        let permanent = offline || args.iter().any(|w| w.text == "--permanent");
        let mut zone_name: Option<String> = None;
        for w in args {
            if let Some(z) = w.text.strip_prefix("--zone=") {
                zone_name = Some(z.to_owned());
            }
        }
        for w in args {
            match w.text.as_str() {
                "--reload" | "--complete-reload" => {
                    self.runtime = self.permanent.clone();
                    continue;
                }
                "--runtime-to-permanent" => {
                    self.permanent = self.runtime.clone();
                    continue;
                }
                _ => {}
            }
            let slot = if permanent {
                &mut self.permanent
            } else {
                &mut self.runtime
            };
            let set = slot.get_or_insert_with(|| Self::fresh(anchor));
            apply(set, zone_name.as_deref(), &w.text, span);
        }
    }

    /// The configuration the host loads at boot; `None` when the script never
    /// changes firewalld's permanent configuration.
    pub fn config(&self) -> Option<Config> {
        let set = self.permanent.as_ref()?;
        let anchor = self.anchor?;
        Some(Config {
            zones: set.zones.clone(),
            services: Vec::new(),
            default_zone: set.default_zone.clone(),
            default_span: set.default_span.unwrap_or(anchor),
            anchor,
        })
    }
}

fn apply(set: &mut Set, zone_name: Option<&str>, arg: &str, span: Span) {
    let Some((option, value)) = arg.split_once('=') else {
        return;
    };
    if option == "--set-default-zone" {
        set.default_zone = value.to_owned();
        set.default_span = Some(span);
        return;
    }
    let name = zone_name.unwrap_or(&set.default_zone).to_owned();
    if option == "--new-zone" {
        if !set.zones.iter().any(|z| z.name == value) {
            let mut z = shipped::zones(span).remove(0);
            z.name = value.to_owned();
            z.target = zone::Target::Default;
            z.span = span;
            set.zones.push(z);
        }
        return;
    }
    let Some(z) = set.zones.iter_mut().find(|z| z.name == name) else {
        return;
    };
    let named = |n: &str| Named {
        name: n.to_owned(),
        span,
        value_span: span,
    };
    match option {
        "--add-service" => z.services.push(named(value)),
        "--remove-service" => z.services.retain(|s| s.name != value),
        "--add-interface" | "--change-interface" => z.interfaces.push(named(value)),
        "--add-port" => {
            if let Some(p) = port(value, span) {
                z.ports.push(p);
            }
        }
        "--remove-port" => {
            if let Some(p) = port(value, span) {
                z.ports
                    .retain(|q| (q.lo, q.hi, &q.protocol) != (p.lo, p.hi, &p.protocol));
            }
        }
        "--add-source" => {
            if let Some(addr) = zone::address(value) {
                z.sources.push(Source {
                    addr: Some(addr),
                    text: value.to_owned(),
                    span,
                });
            }
        }
        "--set-target" => {
            z.target = match value {
                "ACCEPT" => zone::Target::Accept,
                "DROP" => zone::Target::Drop,
                "%%REJECT%%" | "REJECT" => zone::Target::Reject,
                _ => zone::Target::Default,
            };
            z.target_span = Some(span);
        }
        "--add-forward-port" => {
            if let Some(f) = forward_port(value, span) {
                z.forward_ports.push(f);
            }
        }
        "--remove-forward-port" => {
            if let Some(f) = forward_port(value, span) {
                z.forward_ports.retain(|g| {
                    (g.lo, g.hi, &g.protocol, g.to_port, &g.to_addr)
                        != (f.lo, f.hi, &f.protocol, f.to_port, &f.to_addr)
                });
            }
        }
        "--add-rich-rule" => {
            if let Some(r) = rich_rule(value, span) {
                z.rules.push(r);
            }
        }
        _ => {}
    }
}

/// `40000-40100/tcp`.
fn port(value: &str, span: Span) -> Option<Port> {
    let (ports, protocol) = value.split_once('/')?;
    let (lo, hi) = zone::port_range(ports).ok()?;
    matches!(protocol, "tcp" | "udp" | "sctp" | "dccp").then(|| Port {
        protocol: protocol.to_owned(),
        lo,
        hi,
        span,
        value: None,
    })
}

/// `port=21:proto=tcp:toport=2121[:toaddr=198.51.100.7]` (firewall-cmd's
/// `check_forward_port`: port and proto required, toport or toaddr too).
fn forward_port(value: &str, span: Span) -> Option<ForwardPort> {
    let mut f = ForwardPort {
        protocol: String::new(),
        lo: 0,
        hi: 0,
        to_port: None,
        to_addr: None,
        span,
    };
    for part in value.split(':') {
        let (key, v) = part.split_once('=')?;
        match key {
            "port" => (f.lo, f.hi) = zone::port_range(v).ok()?,
            "proto" => f.protocol = v.to_owned(),
            "toport" if !v.is_empty() => f.to_port = Some(zone::port_range(v).ok()?),
            "toaddr" if !v.is_empty() => {
                f.to_addr = Some(zone::address(v).filter(|_| !v.contains(['/', '-']))?)
            }
            "toport" | "toaddr" => {}
            _ => return None,
        }
    }
    let valid = f.lo > 0
        && matches!(f.protocol.as_str(), "tcp" | "udp" | "sctp" | "dccp")
        && (f.to_port.is_some() || f.to_addr.is_some());
    valid.then_some(f)
}

/// Words of a rich rule, `key="value"` with its quotes removed.
fn words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote = None;
    for c in text.chars() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, c) if c.is_whitespace() => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            _ => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// The rich language (`firewalld.richlanguage(5)`) for what decides inbound
/// TCP; a rule firewall-cmd refuses (`INVALID_RULE`) is not added.
pub fn rich_rule(text: &str, span: Span) -> Option<RichRule> {
    let w = words(text);
    let mut rule = RichRule {
        family: None,
        priority: 0,
        source: None,
        destination: None,
        what: What::Any,
        verdict: Verdict::None,
        partial: false,
        logs: false,
        span,
        extent: span,
    };
    let mut i = 0;
    if w.first()? != "rule" {
        return None;
    }
    i += 1;
    let mut element = "";
    let mut invert = false;
    while let Some(word) = w.get(i) {
        i += 1;
        let (key, value) = word.split_once('=').unwrap_or((word.as_str(), ""));
        match (element, key) {
            (_, "family") if element.is_empty() => {
                rule.family = Some(match value {
                    "ipv4" => Family::V4,
                    "ipv6" => Family::V6,
                    _ => return None,
                })
            }
            (_, "priority") if element.is_empty() => rule.priority = value.parse().ok()?,
            (_, "source" | "destination") => {
                element = if key == "source" {
                    "source"
                } else {
                    "destination"
                };
                invert = false;
            }
            ("source" | "destination", "not") => invert = true,
            ("source" | "destination", "address") => {
                let addr = zone::address(value)?;
                if rule.family != Some(addr.family()) {
                    return None;
                }
                let m = Some(AddrMatch { addr, invert });
                if element == "source" {
                    rule.source = m;
                } else {
                    rule.destination = m;
                }
            }
            ("source", "mac" | "ipset") => rule.partial = true,
            (_, "service") => element = "service",
            ("service", "name") => {
                rule.what = What::Service(Named {
                    name: value.to_owned(),
                    span,
                    value_span: span,
                })
            }
            (_, "port") if value.is_empty() => element = "port",
            ("port", "port") => {
                let (lo, hi) = zone::port_range(value).ok()?;
                rule.what = What::Port(Port {
                    protocol: String::new(),
                    lo,
                    hi,
                    span,
                    value: None,
                });
            }
            ("port", "protocol") => {
                if let What::Port(p) = &mut rule.what {
                    p.protocol = value.to_owned();
                }
            }
            (_, "forward-port") => {
                rule.what = What::Forward(ForwardPort {
                    protocol: String::new(),
                    lo: 0,
                    hi: 0,
                    to_port: None,
                    to_addr: None,
                    span,
                });
                element = "forward-port";
            }
            ("forward-port", "port") => {
                if let What::Forward(f) = &mut rule.what {
                    (f.lo, f.hi) = zone::port_range(value).ok()?;
                }
            }
            ("forward-port", "protocol") => {
                if let What::Forward(f) = &mut rule.what {
                    f.protocol = value.to_owned();
                }
            }
            ("forward-port", "to-port") => {
                if let What::Forward(f) = &mut rule.what {
                    f.to_port = Some(zone::port_range(value).ok()?);
                }
            }
            ("forward-port", "to-addr") => {
                let addr = zone::address(value).filter(|_| !value.contains(['/', '-']))?;
                if let What::Forward(f) = &mut rule.what {
                    f.to_addr = Some(addr);
                }
            }
            (_, "protocol" | "icmp-block" | "icmp-type" | "source-port" | "masquerade") => {
                rule.what = What::Other;
                element = "other";
            }
            (_, "accept") => rule.verdict = Verdict::Accept,
            (_, "reject") => rule.verdict = Verdict::Reject,
            (_, "drop") => rule.verdict = Verdict::Drop,
            (_, "limit") => rule.partial = true,
            (_, "log" | "nflog" | "audit") => rule.logs = true,
            _ => {}
        }
    }
    if let What::Forward(f) = &rule.what {
        // firewall-cmd refuses what the zone reader drops (see `zone`).
        let family = rule.family?;
        let addr_ok = f.to_addr.as_ref().is_none_or(|a| a.family() == family);
        let ok = f.lo > 0
            && (f.to_port.is_some() || f.to_addr.is_some())
            && rule.verdict == Verdict::None
            && addr_ok;
        if !ok {
            return None;
        }
    }
    Some(rule)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{FileId, SourceFile};

    #[test]
    fn only_adds_open() {
        let src = SourceFile::new(FileId(0), "x.sh", b"x");
        let span = src.span(0, 1);
        let args =
            |c: &str| -> Vec<Word> { words(c).iter().map(|t| Word::literal(t, span)).collect() };
        assert!(opens(&args("--zone=public --add-port=21/tcp --permanent")));
        assert!(opens(&args("--permanent --add-service=ftp")));
        assert!(!opens(&args("--reload")));
        assert!(!opens(&args("--permanent --remove-port=21/tcp")));
        assert!(!opens(&args("--set-default-zone=drop")));
        assert!(!opens(&args(
            "--permanent --add-port=21/tcp --set-target=DROP"
        )));
    }

    fn run(commands: &[&str]) -> Option<Config> {
        let src = SourceFile::new(FileId(0), "x.sh", b"x");
        let span = src.span(0, 1);
        let mut fw = Firewalld::default();
        for c in commands {
            let args: Vec<Word> = words(c).iter().map(|t| Word::literal(t, span)).collect();
            fw.command(false, &args, span);
        }
        fw.config()
    }

    #[test]
    fn permanent_commands_build_the_boot_configuration() {
        let c = run(&[
            "--permanent --zone=public --add-service=ftp",
            "--permanent --add-port=40000-40100/tcp",
            "--permanent --zone=internal --add-source=198.51.100.0/24",
            "--permanent --add-rich-rule='rule family=\"ipv4\" source address=\"203.0.113.0/24\" port port=\"2121\" protocol=\"tcp\" accept'",
            "--reload",
        ])
        .expect("permanent changes");
        let public = c.zone("public").unwrap();
        assert_eq!(public.services.len(), 3);
        assert_eq!((public.ports[0].lo, public.ports[0].hi), (40000, 40100));
        assert_eq!(public.rules.len(), 1);
        assert!(c.is_active(c.zone("internal").unwrap()));
        assert!(run(&["--add-port=21/tcp"]).is_none(), "runtime only");
        let kept = run(&["--add-port=21/tcp", "--runtime-to-permanent"]).unwrap();
        assert_eq!(kept.zone("public").unwrap().ports.len(), 1);
        let moved = run(&["--permanent --set-default-zone=work"]).unwrap();
        assert_eq!(moved.default_zone, "work");
    }

    #[test]
    fn rich_rules_read_as_the_rich_language() {
        let src = SourceFile::new(FileId(0), "x.sh", b"x");
        let span = src.span(0, 1);
        let r = rich_rule(
            "rule family=\"ipv4\" priority=\"-5\" source not address=\"10.0.0.0/8\" service name=\"ftp\" reject",
            span,
        )
        .unwrap();
        assert_eq!(r.priority, -5);
        assert!(r.source.as_ref().unwrap().invert);
        assert_eq!(r.verdict, Verdict::Reject);
        assert!(rich_rule("rule source address=\"10.0.0.0/8\" accept", span).is_none());
        let f = rich_rule(
            "rule family=\"ipv4\" forward-port port=\"40000-40100\" protocol=\"tcp\" to-port=\"50000-50100\"",
            span,
        )
        .unwrap();
        let What::Forward(f) = &f.what else {
            panic!("{f:?}")
        };
        assert_eq!(
            (f.lo, f.hi, f.to_port),
            (40000, 40100, Some((50000, 50100)))
        );
        assert!(
            rich_rule(
                "rule forward-port port=\"21\" protocol=\"tcp\" to-port=\"2121\"",
                span
            )
            .is_none()
        );
    }

    #[test]
    fn forward_ports_as_firewall_cmd_takes_them() {
        let c = run(&[
            "--permanent --add-forward-port=port=21:proto=tcp:toport=2121",
            "--permanent --add-forward-port=port=2222:proto=tcp:toport=22:toaddr=198.51.100.7",
            "--permanent --add-forward-port=port=2223:proto=tcp",
            "--permanent --add-forward-port=port=40000-40100:proto=tcp:toport=50000-50100",
            "--permanent --remove-forward-port=port=40000-40100:proto=tcp:toport=50000-50100",
        ])
        .unwrap();
        let f = &c.zone("public").unwrap().forward_ports;
        assert_eq!(f.len(), 2, "{f:?}");
        assert_eq!((f[0].lo, f[0].to_port), (21, Some((2121, 2121))));
        assert_eq!(f[1].to_addr.as_ref().unwrap().to_string(), "198.51.100.7");
    }
}
