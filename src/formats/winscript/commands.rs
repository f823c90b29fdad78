//! Commands both script languages run: `netsh` (legacy `firewall` and
//! `advfirewall` contexts), `cscript adsutil.vbs` and `appcmd`.

use super::joined_path::SplitPath;
use super::service_level::SitePath;
use super::swap_range::ReversedRange;
use super::{
    Arg, Effects, IisSetting, LoopValues, Loops, RULE_FW_MALFORMED, RULE_IIS_COMMAND,
    RULE_NETSH_DEPRECATED, Site, UNKNOWN, is_unknown,
};
use crate::facts::Uncertainty;
use crate::formats::regfile::{admits_ftp_service, names_ftp_service};
use crate::formats::winfw::{
    Change, Direction, Finding, LocalPorts, ProfileSet, Protocol, Remote, RuleAction, RuleEdit,
    RuleFilter, WinRule, parse_port_list, reversed_range_swapped,
};
use crate::portset::PortSet;
use crate::scripts::Command;
use crate::source::Span;

/// Lower-case file name without directory and extension; a value not known
/// here ends a directory (`%~dp0adsutil.vbs`).
pub fn program_name(text: &str) -> String {
    let base = text.rsplit(['\\', '/', UNKNOWN]).next().unwrap_or(text);
    let lower = base.to_ascii_lowercase();
    for ext in [".exe", ".com", ".vbs", ".cmd", ".bat"] {
        if let Some(stem) = lower.strip_suffix(ext) {
            return stem.to_owned();
        }
    }
    lower
}

/// Reads one command a batch file runs (`netsh`, `%SystemRoot%\\system32\\netsh.exe`,
/// `cscript adsutil.vbs …`, `appcmd`, `ipseccmd`); other programs are ignored.
/// A command a loop repeats reads as one statement of that loop.
pub fn dispatch(command: &Command, fx: &mut Effects) {
    let Some((program, first)) = command.program() else {
        return;
    };
    let name = program_name(program.written);
    let known = matches!(
        name.as_str(),
        "netsh" | "ipseccmd" | "ipsecpol" | "cscript" | "wscript" | "appcmd"
    );
    if !(known && program.on_path || name == "adsutil") {
        return;
    }
    let words = command.argv.get(first - 1..).unwrap_or(&[]);
    fx.unknown_words.extend(
        words
            .iter()
            .filter_map(|w| Some((w.span, w.unknown.clone()?))),
    );
    let args: Vec<Arg> = words
        .iter()
        .map(|w| Arg {
            text: w.text.clone(),
            span: w.span,
        })
        .collect();
    let site = Site {
        command: command.span,
        statement: command.span,
        in_loop: command.repeated,
    };
    run(&args, &Loops::default(), site, fx);
}

/// Runs one command line; unknown programs are ignored. PowerShell's native
/// commands come here until they are [`Command`]s too.
pub fn run(args: &[Arg], loops: &Loops, site: Site, fx: &mut Effects) {
    let Some(first) = args.first() else { return };
    match program_name(&first.text).as_str() {
        "netsh" => netsh(&args[1..], loops, site, fx),
        "ipseccmd" | "ipsecpol" => super::ipsec_commands::ipseccmd(&args[1..], loops, site, fx),
        "cscript" | "wscript" => cscript(&args[1..], site, fx),
        "adsutil" => adsutil(&args[1..], site, fx),
        "appcmd" => appcmd(&args[1..], site, fx),
        _ => {}
    }
}

fn lower(a: &Arg) -> String {
    a.text.to_ascii_lowercase()
}

// ---------------------------------------------------------------- netsh

fn netsh(args: &[Arg], loops: &Loops, site: Site, fx: &mut Effects) {
    let mut rest = args;
    // Global options before the context: -r remote, -u user, -p password, -c context.
    while let Some(a) = rest.first() {
        let l = lower(a);
        if matches!(l.as_str(), "-r" | "-u" | "-p" | "-c" | "-a" | "-f") && rest.len() > 1 {
            rest = &rest[2..];
        } else {
            break;
        }
    }
    let words: Vec<String> = rest.iter().take(3).map(lower).collect();
    let w = |i: usize| words.get(i).map(String::as_str).unwrap_or("");
    match (w(0), w(1), w(2)) {
        ("firewall", verb, object) => {
            let tail = rest.get(3..).unwrap_or(&[]);
            legacy_firewall(verb, object, tail, loops, site, fx);
        }
        ("advfirewall", "firewall", _) => {
            let verb = w(2).to_owned();
            let obj = rest.get(3).map(lower).unwrap_or_default();
            let tail = rest.get(4..).unwrap_or(&[]);
            if obj == "rule" {
                adv_rule(&verb, tail, loops, site, fx);
            }
        }
        ("advfirewall", "set", "global") => adv_global(rest.get(3..).unwrap_or(&[]), site, fx),
        ("advfirewall", "set", profile) => adv_set(profile, rest.get(3..).unwrap_or(&[]), site, fx),
        ("advfirewall", "reset", _) => fx.firewall.push(Change::Reset),
        ("ipsec", _, _) => super::ipsec_commands::netsh_ipsec(&rest[1..], loops, site, fx),
        _ => {}
    }
}

/// `tag=value` pairs plus untagged values mapped to tags by position, as
/// netsh does. Errors are the arguments netsh would reject.
struct Tagged {
    values: Vec<(&'static str, String, Span)>,
    errors: Vec<(Span, String)>,
}

impl Tagged {
    fn get(&self, tag: &str) -> Option<(&str, Span)> {
        self.values
            .iter()
            .rev()
            .find(|(t, _, _)| *t == tag)
            .map(|(_, v, s)| (v.as_str(), *s))
    }
}

fn tagged(args: &[Arg], tags: &[&'static str], positional: bool) -> Tagged {
    let mut out = Tagged {
        values: Vec::new(),
        errors: Vec::new(),
    };
    for (i, a) in args.iter().enumerate() {
        match a.text.split_once('=') {
            Some((tag, value)) => {
                let t = tag.trim().to_ascii_lowercase();
                match tags
                    .iter()
                    .find(|k| **k == t)
                    .or_else(|| unique_prefix(tags, &t))
                {
                    Some(k) => out.values.push((k, value.to_owned(), a.span)),
                    None => out
                        .errors
                        .push((a.span, format!("netsh does not know `{}=`", tag.trim()))),
                }
            }
            None if positional && i < tags.len() => {
                out.values.push((tags[i], a.text.clone(), a.span))
            }
            None => out
                .errors
                .push((a.span, format!("`{}` has no tag=", a.text))),
        }
    }
    out
}

fn unique_prefix<'a>(tags: &'a [&'static str], t: &str) -> Option<&'a &'static str> {
    let mut hits = tags.iter().filter(|k| !t.is_empty() && k.starts_with(t));
    let first = hits.next()?;
    hits.next().is_none().then_some(first)
}

const PORTOPENING_TAGS: &[&str] = &[
    "protocol",
    "port",
    "name",
    "mode",
    "scope",
    "addresses",
    "profile",
    "interface",
];
const DELETE_PORTOPENING_TAGS: &[&str] = &["protocol", "port", "profile", "interface"];

fn malformed(fx: &mut Effects, span: Span, message: String, label: &str, help: &str) {
    fx.findings
        .push(Finding::new(RULE_FW_MALFORMED, span, message, label).help(help));
}

fn legacy_firewall(
    verb: &str,
    object: &str,
    args: &[Arg],
    loops: &Loops,
    site: Site,
    fx: &mut Effects,
) {
    match (verb, object) {
        ("add", "portopening") | ("set", "portopening") => {
            if let Some(rule) = port_opening(args, loops, site, fx) {
                deprecated_port_opening(&rule, loops, site, fx);
                fx.firewall.push(Change::Add(rule));
            }
        }
        ("delete", "portopening") => {
            delete_port_opening(args, loops, site, fx);
            deprecated(
                site,
                fx,
                "netsh advfirewall firewall delete rule name=... protocol=TCP localport=...",
            );
        }
        ("set", "opmode") => {
            let t = tagged(args, &["mode", "exceptions", "profile", "interface"], true);
            if let Some((mode, _)) = t.get("mode") {
                let on = !mode.eq_ignore_ascii_case("disable");
                fx.firewall.push(Change::State {
                    on,
                    profiles: legacy_profiles(&t),
                    span: site.statement,
                });
                let equivalent = if on {
                    "netsh advfirewall set allprofiles state on"
                } else {
                    "netsh advfirewall set allprofiles state off"
                };
                deprecated(site, fx, equivalent);
            }
        }
        _ => deprecated(
            site,
            fx,
            "the matching `netsh advfirewall firewall` command (KB 947709)",
        ),
    }
}

fn deprecated(site: Site, fx: &mut Effects, equivalent: &str) {
    fx.findings.push(
        Finding::new(
            RULE_NETSH_DEPRECATED,
            site.statement,
            "`netsh firewall` is deprecated: Windows 7 and Server 2008 R2 and later print a warning and only touch the domain and private profiles".to_owned(),
            "deprecated context",
        )
        .help(format!("use {equivalent}")),
    );
}

fn deprecated_port_opening(rule: &WinRule, loops: &Loops, site: Site, fx: &mut Effects) {
    let LocalPorts::Set(ports) = &rule.local_ports else {
        return deprecated(
            site,
            fx,
            "netsh advfirewall firewall add rule ... localport=<port>",
        );
    };
    let name = rule
        .name
        .as_deref()
        .map(Loops::strip)
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "FTP".to_owned());
    let remote = match &rule.remote {
        Remote::Some(list) => Some(loops.display(list)),
        _ => None,
    };
    let opening = PortOpening {
        name,
        udp: matches!(rule.protocol, Protocol::Udp),
        enabled: rule.enabled,
        remote,
        ports: ports.clone(),
    };
    fx.findings.push(port_opening_deprecation(
        &opening,
        site.in_loop,
        site.statement,
    ));
}

/// What a `netsh firewall add portopening` (or a loop of them) opens, for
/// the advice that replaces it.
#[derive(Clone, Debug)]
pub struct PortOpening {
    pub name: String,
    pub udp: bool,
    pub enabled: bool,
    pub remote: Option<String>,
    pub ports: PortSet,
}

pub fn port_opening_deprecation(opening: &PortOpening, in_loop: bool, span: Span) -> Finding {
    let protocol = if opening.udp { "UDP" } else { "TCP" };
    let mut equivalent = format!(
        "netsh advfirewall firewall add rule name=\"{}\" dir=in action=allow protocol={protocol} localport={}",
        opening.name,
        opening.ports.summary(8)
    );
    if !opening.enabled {
        equivalent.push_str(" enable=no");
    }
    if let Some(list) = &opening.remote {
        equivalent.push_str(&format!(" remoteip={list}"));
    }
    let message = if in_loop {
        format!(
            "`netsh firewall` is deprecated, and this loop adds {} port openings one at a time: one `netsh advfirewall` rule takes the whole range",
            opening.ports.count()
        )
    } else {
        "`netsh firewall` is deprecated: Windows 7 and Server 2008 R2 and later print a warning and only touch the domain and private profiles".to_owned()
    };
    let help = if in_loop {
        format!("replace the loop with: {equivalent}")
    } else {
        format!("use: {equivalent}")
    };
    Finding::new(RULE_NETSH_DEPRECATED, span, message, "deprecated context").help(help)
}

/// `add portopening [protocol=]TCP [port=]5001 [name=]"Passive FTP" [mode=] [scope=] [addresses=] [profile=]`.
fn port_opening(args: &[Arg], loops: &Loops, site: Site, fx: &mut Effects) -> Option<WinRule> {
    let t = tagged(args, PORTOPENING_TAGS, true);
    const HELP: &str = "write netsh firewall add portopening protocol=TCP port=5001 name=\"Passive FTP\" (or use netsh advfirewall)";
    for (span, why) in &t.errors {
        malformed(
            fx,
            *span,
            format!("{why}: netsh rejects the port opening"),
            "rejected",
            HELP,
        );
    }
    let (Some((proto, proto_span)), Some((port, port_span)), Some(_)) =
        (t.get("protocol"), t.get("port"), t.get("name"))
    else {
        malformed(
            fx,
            site.command,
            "add portopening needs protocol, port and name: netsh rejects it".to_owned(),
            "incomplete",
            HELP,
        );
        return None;
    };
    if !t.errors.is_empty() {
        return None;
    }
    let protocol = match proto.to_ascii_uppercase().as_str() {
        "TCP" => Protocol::Tcp,
        "UDP" => Protocol::Udp,
        "ALL" => Protocol::Any,
        _ if is_unknown(proto) => Protocol::Any,
        other => {
            malformed(
                fx,
                proto_span,
                format!(
                    "protocol `{other}` is not TCP, UDP or ALL: netsh rejects the port opening"
                ),
                "rejected",
                HELP,
            );
            return None;
        }
    };
    let local_ports = single_ports(port, port_span, loops, fx)?;
    let mode_ok = |m: &str| m.eq_ignore_ascii_case("enable") || m.eq_ignore_ascii_case("disable");
    let enabled = match t.get("mode") {
        Some((m, s)) if !mode_ok(m) && !is_unknown(m) => {
            malformed(
                fx,
                s,
                format!("mode `{m}` is not ENABLE or DISABLE: netsh rejects the port opening"),
                "rejected",
                HELP,
            );
            return None;
        }
        Some((m, _)) => !m.eq_ignore_ascii_case("disable"),
        None => true,
    };
    let remote = match t
        .get("scope")
        .map(|(s, span)| (s.to_ascii_uppercase(), span))
    {
        None => Remote::All,
        Some((s, _)) if s == "ALL" => Remote::All,
        Some((s, _)) if s == "SUBNET" => Remote::Some("LocalSubnet".to_owned()),
        Some((s, span)) if s == "CUSTOM" => match t.get("addresses") {
            Some((list, _)) => Remote::Some(list.to_owned()),
            None => {
                malformed(
                    fx,
                    span,
                    "scope=CUSTOM needs addresses=: netsh rejects the port opening".to_owned(),
                    "no addresses",
                    HELP,
                );
                return None;
            }
        },
        Some((s, span)) => {
            malformed(
                fx,
                span,
                format!("scope `{s}` is not ALL, SUBNET or CUSTOM: netsh rejects the port opening"),
                "rejected",
                HELP,
            );
            return None;
        }
    };
    Some(WinRule {
        name: t.get("name").map(|(n, _)| n.to_owned()),
        enabled,
        remote,
        legacy: true,
        profiles: legacy_profiles(&t),
        ..WinRule::allow_in(protocol, local_ports, site.statement)
    })
}

/// `profile=CURRENT|DOMAIN|STANDARD|ALL`, CURRENT when absent or not known here.
fn legacy_profiles(t: &Tagged) -> ProfileSet {
    t.get("profile")
        .and_then(|(p, _)| ProfileSet::parse_legacy(p))
        .unwrap_or(ProfileSet::CURRENT)
}

/// A legacy port opening is one port 1-65535; a loop variable stands for all its values.
fn single_ports(text: &str, span: Span, loops: &Loops, fx: &mut Effects) -> Option<LocalPorts> {
    if let Some(values) = loops.whole(text) {
        return loop_ports(values, span, fx);
    }
    if is_unknown(text) || Loops::mentions_loop(text) {
        return Some(LocalPorts::Unknown(format!(
            "port `{}` is not known here",
            fx.shown(text, span, loops)
        )));
    }
    match text.trim().parse::<u16>() {
        Ok(p) if p > 0 => Some(LocalPorts::Set(PortSet::single(p))),
        _ => {
            malformed(
                fx,
                span,
                format!(
                    "port `{}` is not one port in 1-65535: netsh rejects the port opening (one opening per port)",
                    loops.display(text)
                ),
                "rejected",
                "open one port per command, or one range with netsh advfirewall firewall add rule ... localport=5001-5201",
            );
            None
        }
    }
}

fn loop_ports(values: &LoopValues, span: Span, fx: &mut Effects) -> Option<LocalPorts> {
    let Some((set, bad)) = values.ports() else {
        return Some(LocalPorts::Unknown(
            "the loop's values are not known here".to_owned(),
        ));
    };
    for why in bad {
        malformed(
            fx,
            span,
            format!("loop value {why}: netsh rejects those port openings"),
            "not a port",
            "loop over ports in 1-65535 only",
        );
    }
    Some(LocalPorts::Set(set))
}

fn delete_port_opening(args: &[Arg], loops: &Loops, site: Site, fx: &mut Effects) {
    let t = tagged(args, DELETE_PORTOPENING_TAGS, true);
    let (Some((proto, _)), Some((port, span))) = (t.get("protocol"), t.get("port")) else {
        malformed(
            fx,
            site.command,
            "delete portopening needs protocol and port: netsh rejects it".to_owned(),
            "incomplete",
            "write netsh firewall delete portopening protocol=TCP port=5001",
        );
        return;
    };
    let protocol = Protocol::parse(proto).unwrap_or(Protocol::Any);
    match single_ports(port, span, loops, fx) {
        Some(LocalPorts::Set(ports)) => fx.firewall.push(Change::DeletePortOpening {
            protocol,
            ports,
            profiles: legacy_profiles(&t),
        }),
        Some(_) => fx.firewall.push(Change::Uncertain(Uncertainty {
            span: site.statement,
            what: "deleted port not known".to_owned(),
        })),
        None => {}
    }
}

const ADD_RULE_TAGS: &[&str] = &[
    "name",
    "dir",
    "action",
    "program",
    "service",
    "description",
    "enable",
    "profile",
    "localip",
    "remoteip",
    "localport",
    "remoteport",
    "protocol",
    "interfacetype",
    "rmtcomputergrp",
    "rmtusrgrp",
    "edge",
    "security",
    "rmtmachgrp",
    "rmtusrgrp",
];
const RULE_FILTER_TAGS: &[&str] = &[
    "name",
    "dir",
    "profile",
    "program",
    "service",
    "localip",
    "remoteip",
    "localport",
    "remoteport",
    "protocol",
];
/// `set rule` takes `group=` where `delete rule` takes only `name=`.
const SET_RULE_FILTER_TAGS: &[&str] = &[
    "group",
    "name",
    "dir",
    "profile",
    "program",
    "service",
    "localip",
    "remoteip",
    "localport",
    "remoteport",
    "protocol",
];
const ADV_HELP: &str = "write netsh advfirewall firewall add rule name=\"Passive FTP\" dir=in action=allow protocol=TCP localport=5001-5201";

fn adv_rule(verb: &str, args: &[Arg], loops: &Loops, site: Site, fx: &mut Effects) {
    match verb {
        "add" => {
            if let Some(rule) = add_rule(args, loops, site, fx) {
                fx.firewall.push(Change::Add(rule));
            }
        }
        "delete" => {
            let t = tagged(args, RULE_FILTER_TAGS, false);
            if let Some(filter) = rule_filter(&t, loops, site, fx) {
                fx.firewall.push(Change::Delete(filter));
            }
        }
        "set" => set_rule(args, loops, site, fx),
        _ => {}
    }
}

fn add_rule(args: &[Arg], loops: &Loops, site: Site, fx: &mut Effects) -> Option<WinRule> {
    let t = tagged(args, ADD_RULE_TAGS, false);
    let mut ok = true;
    for (span, why) in &t.errors {
        malformed(
            fx,
            *span,
            format!("{why}: netsh rejects the rule"),
            "rejected",
            ADV_HELP,
        );
        ok = false;
    }
    let (Some((name, name_span)), Some((dir, dir_span)), Some((action, action_span))) =
        (t.get("name"), t.get("dir"), t.get("action"))
    else {
        malformed(
            fx,
            site.command,
            "add rule needs name=, dir= and action=: netsh rejects it".to_owned(),
            "incomplete",
            ADV_HELP,
        );
        return None;
    };
    if name.eq_ignore_ascii_case("all") {
        malformed(
            fx,
            name_span,
            "a rule cannot be named `all`: netsh rejects it".to_owned(),
            "reserved name",
            ADV_HELP,
        );
        ok = false;
    }
    let dir = match dir.to_ascii_lowercase().as_str() {
        "in" => Some(Direction::In),
        "out" => Some(Direction::Out),
        _ => bad_value(fx, dir_span, "dir", dir, "in or out"),
    };
    let action = match action.to_ascii_lowercase().as_str() {
        "allow" | "bypass" => Some(RuleAction::Allow),
        "block" => Some(RuleAction::Block),
        _ => bad_value(fx, action_span, "action", action, "allow, block or bypass"),
    };
    let protocol = match t.get("protocol") {
        None => Some(Protocol::Any),
        Some((p, span)) => Protocol::parse(p)
            .or_else(|| bad_value(fx, span, "protocol", p, "tcp, udp, any or 0-255")),
    };
    let enabled = match t.get("enable") {
        None => Some(true),
        Some((e, span)) => match e.to_ascii_lowercase().as_str() {
            "yes" => Some(true),
            "no" => Some(false),
            _ => bad_value(fx, span, "enable", e, "yes or no"),
        },
    };
    let (Some(dir), Some(action), Some(protocol), Some(enabled), true) =
        (dir, action, protocol, enabled, ok)
    else {
        return None;
    };
    let ports_span = t.get("localport").map(|(_, span)| span);
    let local_ports = match t.get("localport") {
        None => LocalPorts::Any,
        Some((text, span)) => {
            if !matches!(protocol, Protocol::Tcp | Protocol::Udp) {
                malformed(
                    fx,
                    span,
                    "localport= needs protocol=TCP or protocol=UDP: netsh rejects the rule"
                        .to_owned(),
                    "no protocol",
                    ADV_HELP,
                );
                return None;
            }
            adv_ports(text, span, loops, fx)?
        }
    };
    let remote = t
        .get("remoteip")
        .map_or(Remote::All, |(r, _)| Remote::from_list(r));
    let program = t.get("program").map(|(p, _)| p.to_owned());
    let service = t.get("service").map(|(s, _)| s.to_owned());
    let profiles = match t.get("profile") {
        None => ProfileSet::ALL,
        Some((p, span)) => match ProfileSet::parse_list(p) {
            Some(set) => set,
            None => return bad_value(fx, span, "profile", p, "public, private, domain or any"),
        },
    };
    Some(WinRule {
        name: Some(name.to_owned()),
        action,
        dir,
        protocol,
        local_ports,
        remote,
        enabled,
        applies_to_ftp: admits_ftp_service(program.as_deref(), service.as_deref()),
        service_only: names_ftp_service(service.as_deref()),
        legacy: false,
        profiles,
        span: site.statement,
        ports_span,
    })
}

fn bad_value<T>(fx: &mut Effects, span: Span, tag: &str, value: &str, expected: &str) -> Option<T> {
    if is_unknown(value) {
        return None;
    }
    malformed(
        fx,
        span,
        format!("{tag}={value} is not {expected}: netsh rejects the rule"),
        "rejected",
        ADV_HELP,
    );
    None
}

/// `localport=21,5001-5201`, `any`, keywords (`RPC`...), or a loop variable.
fn adv_ports(text: &str, span: Span, loops: &Loops, fx: &mut Effects) -> Option<LocalPorts> {
    if let Some(values) = loops.whole(text) {
        return loop_ports(values, span, fx);
    }
    if is_unknown(text) || Loops::mentions_loop(text) {
        return Some(LocalPorts::Unknown(format!(
            "localport `{}` is not known here",
            fx.shown(text, span, loops)
        )));
    }
    let lower = text.trim().to_ascii_lowercase();
    if lower == "any" {
        return Some(LocalPorts::Any);
    }
    if matches!(
        lower.as_str(),
        "rpc" | "rpc-epmap" | "iphttps" | "teredo" | "ply2disc" | "mdns"
    ) {
        return Some(LocalPorts::Unknown(format!(
            "localport={text} is a dynamic keyword"
        )));
    }
    match parse_port_list(text) {
        Ok(set) => Some(LocalPorts::Set(set)),
        Err(why) => {
            let help = match reversed_range_swapped(text) {
                Some(swapped) => {
                    fx.reversed_ranges.push(ReversedRange {
                        span,
                        value: text.to_owned(),
                    });
                    format!("write localport={swapped}: a range is written low-high")
                }
                None => ADV_HELP.to_owned(),
            };
            malformed(
                fx,
                span,
                format!("localport={text}: {why}: netsh rejects the rule"),
                "rejected",
                &help,
            );
            None
        }
    }
}

fn rule_filter(t: &Tagged, loops: &Loops, site: Site, fx: &mut Effects) -> Option<RuleFilter> {
    let Some((name, _)) = t.get("name") else {
        malformed(
            fx,
            site.command,
            "delete/set rule needs name=: netsh rejects it".to_owned(),
            "incomplete",
            "write netsh advfirewall firewall delete rule name=\"Passive FTP\"",
        );
        return None;
    };
    if is_unknown(name) || Loops::mentions_loop(name) {
        fx.firewall.push(Change::Uncertain(Uncertainty {
            span: site.statement,
            what: "rule name not known here".to_owned(),
        }));
        return None;
    }
    let local_ports = match t.get("localport") {
        Some((text, span)) => match adv_ports(text, span, loops, fx)? {
            LocalPorts::Set(s) => Some(s),
            _ => None,
        },
        None => None,
    };
    Some(RuleFilter {
        name: (!name.eq_ignore_ascii_case("all")).then(|| name.to_owned()),
        dir: t
            .get("dir")
            .and_then(|(d, _)| match d.to_ascii_lowercase().as_str() {
                "in" => Some(Direction::In),
                "out" => Some(Direction::Out),
                _ => None,
            }),
        protocol: t.get("protocol").and_then(|(p, _)| Protocol::parse(p)),
        local_ports,
    })
}

/// `set rule name=X [filters] new enable=no` (other `new` fields are not modelled).
fn set_rule(args: &[Arg], loops: &Loops, site: Site, fx: &mut Effects) {
    let split = args.iter().position(|a| a.text.eq_ignore_ascii_case("new"));
    let Some(split) = split else {
        malformed(
            fx,
            site.command,
            "set rule needs `new` before the changed fields: netsh rejects it".to_owned(),
            "no `new`",
            "write netsh advfirewall firewall set rule name=\"FTP\" new enable=yes",
        );
        return;
    };
    let t = tagged(&args[..split], SET_RULE_FILTER_TAGS, false);
    // `set rule group="FTP Server" new enable=yes`: netsh takes a group instead of
    // a name. Groups name rules a role installs (IIS's FTP rules), not a script's.
    match (t.get("group"), t.get("name")) {
        (Some((group, _)), None) => {
            let changes = tagged(&args[split + 1..], ADD_RULE_TAGS, false);
            let enables = changes
                .get("enable")
                .is_some_and(|(v, _)| v.eq_ignore_ascii_case("yes"));
            group_change(group, enables, site.statement, fx);
            return;
        }
        (None, None) => {
            malformed(
                fx,
                site.command,
                "set rule needs name= or group=: netsh rejects it".to_owned(),
                "incomplete",
                "write netsh advfirewall firewall set rule name=\"Passive FTP\" new enable=yes",
            );
            return;
        }
        _ => {}
    }
    let Some(filter) = rule_filter(&t, loops, site, fx) else {
        return;
    };
    let changes = tagged(&args[split + 1..], ADD_RULE_TAGS, false);
    if let Some(edit) = rule_edit(&changes, loops, site, fx) {
        fx.firewall.push(Change::Edit { filter, edit });
    }
}

/// A group of rules the repository does not hold (the "FTP Server" rules the
/// IIS FTP role installs) enabled or changed: enabled, its rules may open any
/// port, which is not known here; any other change is only noted.
pub fn group_change(group: &str, enables: bool, span: Span, fx: &mut Effects) {
    let what = format!("the rules of group \"{group}\" are not in the repository");
    if enables {
        fx.firewall.push(Change::Add(WinRule::allow_in(
            Protocol::Any,
            LocalPorts::Unknown(what),
            span,
        )));
    } else {
        fx.firewall
            .push(Change::Uncertain(Uncertainty { span, what }));
    }
}

/// The `new` fields of `set rule`, as `add rule` reads them.
fn rule_edit(t: &Tagged, loops: &Loops, site: Site, fx: &mut Effects) -> Option<RuleEdit> {
    let mut edit = RuleEdit::at(site.statement);
    for (tag, value, span) in &t.values {
        let lower = value.to_ascii_lowercase();
        match *tag {
            "enable" => edit.enabled = Some(lower == "yes"),
            "localport" => {
                edit.local_ports = Some(adv_ports(value, *span, loops, fx)?);
                edit.ports_span = Some(*span);
            }
            "action" => {
                edit.action = match lower.as_str() {
                    "allow" | "bypass" => Some(RuleAction::Allow),
                    "block" => Some(RuleAction::Block),
                    _ => bad_value(fx, *span, "action", value, "allow, block or bypass")?,
                }
            }
            "dir" => {
                edit.dir = match lower.as_str() {
                    "in" => Some(Direction::In),
                    "out" => Some(Direction::Out),
                    _ => bad_value(fx, *span, "dir", value, "in or out")?,
                }
            }
            "protocol" => {
                edit.protocol = Some(Protocol::parse(value).or_else(|| {
                    bad_value(fx, *span, "protocol", value, "tcp, udp, any or 0-255")
                })?)
            }
            "remoteip" => edit.remote = Some(Remote::from_list(value)),
            "profile" => {
                edit.profiles = Some(ProfileSet::parse_list(value).or_else(|| {
                    bad_value(
                        fx,
                        *span,
                        "profile",
                        value,
                        "public, private, domain or any",
                    )
                })?)
            }
            // The rule's name and description change nothing it admits.
            "name" | "description" | "group" => {}
            _ => fx.firewall.push(Change::Uncertain(Uncertainty {
                span: site.statement,
                what: format!("`new {tag}=` is not modelled"),
            })),
        }
    }
    Some(edit)
}

/// `netsh advfirewall set global StatefulFtp enable|disable|notconfigured`.
fn adv_global(args: &[Arg], site: Site, fx: &mut Effects) {
    let (Some(setting), Some(value)) = (args.first().map(lower), args.get(1).map(lower)) else {
        return;
    };
    if setting == "statefulftp" && matches!(value.as_str(), "enable" | "disable") {
        fx.firewall.push(Change::StatefulFtp {
            on: value == "enable",
            span: site.statement,
        });
    }
}

/// `netsh advfirewall set allprofiles state off`, `... publicprofile firewallpolicy blockinbound,allowoutbound`.
fn adv_set(store: &str, args: &[Arg], site: Site, fx: &mut Effects) {
    let Some(profiles) = ProfileSet::parse_netsh_store(store) else {
        return;
    };
    let (Some(setting), Some(value)) = (args.first().map(lower), args.get(1).map(lower)) else {
        return;
    };
    let span = site.statement;
    let change = match setting.as_str() {
        "state" => Change::State {
            on: value != "off",
            profiles,
            span,
        },
        "firewallpolicy" if value.starts_with("notconfigured") => return,
        "firewallpolicy" => Change::InboundAllow {
            allow: value.starts_with("allowinbound"),
            profiles,
            span,
        },
        _ => return,
    };
    fx.firewall.push(change);
}

// ---------------------------------------------------------------- adsutil

/// `cscript [//nologo] [path\]adsutil.vbs VERB ...`.
fn cscript(args: &[Arg], site: Site, fx: &mut Effects) {
    let Some(pos) = args.iter().position(|a| !a.text.starts_with("//")) else {
        return;
    };
    let script = &args[pos];
    if program_name(&script.text) == "adsutil" {
        return adsutil(&args[pos + 1..], site, fx);
    }
    let joined: String = args[pos..].iter().map(|a| a.text.as_str()).collect();
    if joined.to_ascii_lowercase().contains("adsutil.vbs") {
        garbled_adsutil(&args[pos..], site, fx);
    }
}

/// The path to adsutil.vbs was split by spaces (`c: \ Inetpub \ adsutil. vbs`):
/// cscript runs the first piece as the script and nothing is set.
fn garbled_adsutil(args: &[Arg], site: Site, fx: &mut Effects) {
    let end = args
        .iter()
        .position(|a| a.text.to_ascii_lowercase().ends_with("vbs"))
        .unwrap_or(args.len() - 1);
    let path: String = args[..=end].iter().map(|a| a.text.as_str()).collect();
    let mut rest: Vec<String> = args[end + 1..]
        .iter()
        .map(|a| quote_if_needed(&a.text))
        .collect();
    let mut verb = None;
    if let (Some(first), Some(arg)) = (rest.first().cloned(), args.get(end + 1)) {
        if let Some(slash) = first.find('/').filter(|&i| i > 0) {
            rest[0] = format!("{} {}", &first[..slash], &first[slash..]);
            verb = Some((arg.span, rest[0].clone()));
        }
    }
    let split_span = args[0].span.to(args[end].span);
    fx.split_paths.push(SplitPath {
        span: split_span,
        pieces: args[..=end].iter().map(|a| a.text.clone()).collect(),
        verb,
    });
    fx.findings.push(
        Finding::new(
            RULE_IIS_COMMAND,
            split_span,
            format!(
                "cscript runs `{}` as the script: spaces split the path to adsutil.vbs, so nothing is set",
                args[0].text
            ),
            "one path split into pieces",
        )
        .related(site.command, "this command fails")
        .help(format!("write: cscript.exe {path} {}", rest.join(" "))),
    );
}

fn quote_if_needed(text: &str) -> String {
    if text.bytes().all(|b| b.is_ascii_digit() || b == b'-') {
        format!("\"{text}\"")
    } else {
        text.to_owned()
    }
}

/// adsutil's `SanitizePath`: trim, `\` to `/`, drop one leading and one trailing `/`.
pub fn sanitize_path(path: &str) -> String {
    let p = path.trim().replace('\\', "/");
    let p = p.strip_prefix('/').unwrap_or(&p);
    p.strip_suffix('/').unwrap_or(p).to_owned()
}

const ADSUTIL_VERBS: &[&str] = &[
    "GET",
    "SET",
    "ENUM",
    "ENUM_ALL",
    "ENUMALL",
    "DELETE",
    "CREATE",
    "CREATE_VDIR",
    "CREATE_VSERV",
    "START_SERVER",
    "STOP_SERVER",
    "PAUSE_SERVER",
    "CONTINUE_SERVER",
    "FIND",
    "COPY",
    "APPCREATEINPROC",
    "APPCREATEOUTPROC",
    "APPCREATEPOOLPROC",
    "APPDELETE",
    "APPUNLOAD",
    "APPDISABLE",
    "APPENABLE",
    "APPGETSTATUS",
    "HELP",
];

fn adsutil(args: &[Arg], site: Site, fx: &mut Effects) {
    let args: Vec<&Arg> = args
        .iter()
        .filter(|a| {
            !a.text.starts_with("-s:") && !a.text.starts_with("-u:") && !a.text.starts_with("-p:")
        })
        .collect();
    let Some(verb) = args.first() else {
        return iis_problem(
            fx,
            site.command,
            "adsutil.vbs without a command does nothing".to_owned(),
            "write: cscript adsutil.vbs set /MSFTPSVC/PassivePortRange \"5001-5201\"",
        );
    };
    let verb_upper = verb.text.to_ascii_uppercase();
    if !ADSUTIL_VERBS.contains(&verb_upper.as_str()) {
        let help = match verb.text.split_once('/') {
            Some((v, path)) => {
                format!("put a space after the command: adsutil.vbs {v} /{path} ...")
            }
            None => "use an adsutil command such as SET, GET or DELETE".to_owned(),
        };
        return iis_problem(
            fx,
            verb.span,
            format!(
                "adsutil.vbs has no command `{}`: it prints its usage and sets nothing",
                verb.text
            ),
            &help,
        );
    }
    let Some(path_arg) = args.get(1) else { return };
    let path = sanitize_path(&path_arg.text);
    let parts: Vec<String> = path.split('/').map(|p| p.to_ascii_uppercase()).collect();
    match verb_upper.as_str() {
        "SET" => adsutil_set(&parts, path_arg, &args[2..], fx),
        "DELETE" if parts == ["MSFTPSVC", "PASSIVEPORTRANGE"] => {
            fx.iis.push(IisSetting::PassivePortRangeDeleted {
                span: path_arg.span,
            });
        }
        _ => {}
    }
}

/// A data channel port whose value the script takes from a variable it never
/// sets (`/lowDataChannelPort:%LOW%` after `set LOW = 6000`, which names the
/// variable `LOW `): cmd expands an unset variable to nothing in a batch file,
/// so unless the environment sets it appcmd receives `/lowDataChannelPort:`
/// and sets no port. Whether the environment sets it is not known here.
fn unresolved_port(fx: &mut Effects, span: Span, name: &str) {
    fx.findings.push(
        Finding::new(
            RULE_IIS_COMMAND,
            span,
            format!(
                "the {name} value comes from a variable this script does not set: unless the environment sets it, the value is empty and the command sets no {name}"
            ),
            "value not known here",
        )
        .help(
            "give the variable its value in the script (in a batch file with no blank before `=`: `set LOW=5000`), or write the port number itself",
        )
        .at_most(crate::diag::Severity::Warning),
    );
}

fn iis_problem(fx: &mut Effects, span: Span, message: String, help: &str) {
    fx.findings
        .push(Finding::new(RULE_IIS_COMMAND, span, message, "sets nothing").help(help));
}

fn adsutil_set(parts: &[String], path_arg: &Arg, values: &[&Arg], fx: &mut Effects) {
    let property = parts.last().map(String::as_str).unwrap_or("");
    let is_ftp = parts.first().is_some_and(|s| s == "MSFTPSVC");
    let relevant = matches!(
        property,
        "PASSIVEPORTRANGE" | "SERVERBINDINGS" | "MAXCONNECTIONS"
    );
    if !relevant || !is_ftp && property != "PASSIVEPORTRANGE" {
        return;
    }
    let Some(value) = values.first() else {
        return iis_problem(
            fx,
            path_arg.span,
            format!(
                "adsutil.vbs set {} has no value: nothing is set",
                path_arg.text
            ),
            "give the value: cscript adsutil.vbs set /MSFTPSVC/PassivePortRange \"5001-5201\"",
        );
    };
    let site = (parts.len() == 3).then(|| parts[1].clone());
    match (property, parts.len(), is_ftp) {
        ("PASSIVEPORTRANGE", 2, true) => fx.iis.push(IisSetting::PassivePortRange {
            value: value.text.clone(),
            span: value.span,
        }),
        ("PASSIVEPORTRANGE", _, _) => {
            fx.site_paths.push(SitePath {
                span: path_arg.span,
                text: path_arg.text.clone(),
            });
            iis_problem(
                fx,
                path_arg.span,
                format!(
                    "`PassivePortRange` at /{} is ignored: IIS reads it only at /MSFTPSVC (the FTP service)",
                    sanitize_path(&path_arg.text)
                ),
                "write: cscript adsutil.vbs set /MSFTPSVC/PassivePortRange \"5001-5201\"",
            )
        }
        ("SERVERBINDINGS", 3, _) => {
            let port = values.iter().find_map(|v| binding_port(&v.text));
            fx.iis.push(IisSetting::ControlPort {
                iis7: false,
                site: parts[1].clone(),
                port,
                span: value.span,
            });
        }
        ("MAXCONNECTIONS", 2 | 3, _) => fx.iis.push(IisSetting::MaxConnections {
            iis7: false,
            site,
            value: parse_uint(&value.text),
            span: value.span,
        }),
        _ => {}
    }
}

/// `IP:Port:Host` (IIS 6 ServerBindings) or `*:21:` (IIS 7 bindingInformation).
fn binding_port(text: &str) -> Option<u16> {
    let mut parts = text.trim().trim_matches('"').split(':');
    let _ip = parts.next()?;
    parts.next()?.trim().parse().ok()
}

/// A DWORD as adsutil and appcmd read it: decimal, `0x` hex, `-1` = 0xFFFFFFFF.
fn parse_uint(text: &str) -> Option<u32> {
    let t = text.trim().trim_matches('"');
    if let Some(hex) = t.strip_prefix("0x").or_else(|| t.strip_prefix("&H")) {
        return u32::from_str_radix(hex, 16).ok();
    }
    if t == "-1" {
        return Some(u32::MAX);
    }
    t.parse().ok()
}

// ---------------------------------------------------------------- appcmd

const FIREWALL_SUPPORT: &str = "system.ftpserver/firewallsupport";

/// `appcmd set config -section:system.ftpServer/firewallSupport /lowDataChannelPort:5000`,
/// site `maxConnections`, and `ftp` bindings of `add site`/`set site`.
fn appcmd(args: &[Arg], site: Site, fx: &mut Effects) {
    let opt = |a: &Arg| -> Option<(String, String)> {
        let body = a.text.strip_prefix(['-', '/'])?;
        let (k, v) = body.split_once(':')?;
        Some((k.to_owned(), v.trim_matches('"').to_owned()))
    };
    let section = args
        .iter()
        .filter_map(opt)
        .find(|(k, _)| k.eq_ignore_ascii_case("section"))
        .map(|(_, v)| v.trim_start_matches('/').to_ascii_lowercase());
    for a in args {
        let Some((key, value)) = opt(a) else { continue };
        let key_lower = key.to_ascii_lowercase();
        if section.as_deref() == Some(FIREWALL_SUPPORT)
            && matches!(
                key_lower.as_str(),
                "lowdatachannelport" | "highdatachannelport"
            )
        {
            data_channel_port(fx, key_lower == "highdatachannelport", &value, a.span, &key);
        } else if key_lower.ends_with("ftpserver.connections.maxconnections") {
            fx.iis.push(IisSetting::MaxConnections {
                iis7: true,
                site: None,
                value: parse_uint(&value),
                span: a.span,
            });
        } else if key_lower.contains("bindings") && a.text.to_ascii_lowercase().contains("ftp") {
            if let Some(port) = ftp_binding_port(&a.text) {
                fx.iis.push(IisSetting::ControlPort {
                    iis7: true,
                    site: "1".to_owned(),
                    port: Some(port),
                    span: a.span,
                });
            }
        }
    }
    let _ = site;
}

/// `ftp/*:2121:` or `bindingInformation='*:2121:'`.
fn ftp_binding_port(text: &str) -> Option<u16> {
    let lower = text.to_ascii_lowercase();
    let at = lower.find("ftp")?;
    let tail = &text[at..];
    let star = tail.find(":")?;
    let after = &tail[star + 1..];
    let digits: String = after.chars().take_while(char::is_ascii_digit).collect();
    if digits.is_empty() {
        // `ftp/*:21:`: the first colon follows the address.
        let second = after.find(':')?;
        let d: String = after[second + 1..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        return d.parse().ok();
    }
    digits.parse().ok()
}

/// Records `lowDataChannelPort`/`highDataChannelPort`; a value that is not a
/// number is reported (appcmd refuses it).
pub fn data_channel_port(fx: &mut Effects, high: bool, value: &str, span: Span, name: &str) {
    if is_unknown(value) || Loops::mentions_loop(value) {
        fx.iis.push(IisSetting::DataChannelPort {
            high,
            value: None,
            span,
        });
        if !Loops::mentions_loop(value) {
            unresolved_port(fx, span, name);
        }
        return;
    }
    match value.trim().trim_matches(['"', '\'']).parse::<u32>() {
        Ok(v) => fx.iis.push(IisSetting::DataChannelPort {
            high,
            value: Some(v),
            span,
        }),
        Err(_) => iis_problem(
            fx,
            span,
            format!("{name} value `{value}` is not a port number: IIS refuses it"),
            "write a number, e.g. /lowDataChannelPort:5000 /highDataChannelPort:6000",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adsutil_paths() {
        assert_eq!(
            sanitize_path("/MSFTPSVC/PassivePortRange"),
            "MSFTPSVC/PassivePortRange"
        );
        assert_eq!(
            sanitize_path("MSFTPSVC\\PassivePortRange\\"),
            "MSFTPSVC/PassivePortRange"
        );
        assert_eq!(
            program_name("C:\\Inetpub\\AdminScripts\\adsutil.vbs"),
            "adsutil"
        );
        assert_eq!(
            program_name("%windir%\\system32\\inetsrv\\APPCMD.EXE"),
            "appcmd"
        );
        assert_eq!(program_name(&format!("{UNKNOWN}adsutil.vbs")), "adsutil");
        assert_eq!(binding_port(":2121:"), Some(2121));
        assert_eq!(ftp_binding_port("/bindings:ftp/*:2121:"), Some(2121));
        assert_eq!(
            ftp_binding_port("/+bindings.[protocol='ftp',bindingInformation='*:21:']"),
            Some(21)
        );
        assert_eq!(parse_uint("0xFFFFFFFF"), Some(u32::MAX));
    }
}
