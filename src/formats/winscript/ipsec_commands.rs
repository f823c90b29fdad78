//! IPsec policy commands: `netsh ipsec static ...` (Windows Server 2003 and
//! later) and `ipseccmd` / `ipsecpol` (XP Support Tools / Windows 2000
//! Resource Kit), turned into [`IpsecChange`]s for [`crate::formats::ipsec`].
//!
//! netsh tags may be written `tag=value` or by position, abbreviated to a
//! unique prefix, in any case; values `yes`/`y`/`no`/`n`. The ipseccmd filter
//! form is `SRC[/mask][:port] (=|+) DST[/mask][:port][:protocol]`, with `0` for
//! this computer, `*` for any address and `+` for a mirrored filter.

use super::{Arg, Effects, Loops, RULE_FW_MALFORMED, Site, is_unknown};
use crate::facts::Uncertainty;
use crate::formats::ipsec::{
    ActionChange, ActionKind, Addr, CmdRule, Filter, FilterPattern, IpProto, IpsecChange,
    PolicyRule, Ports, RuleChange,
};
use crate::formats::winfw::Finding;
use crate::portset::PortSet;
use crate::source::Span;

const FILTER_HELP: &str = "write netsh ipsec static add filter filterlist=\"FTP\" srcaddr=any dstaddr=me protocol=TCP dstport=21";

// ---------------------------------------------------------------- netsh

/// `netsh ipsec <args>`.
pub fn netsh_ipsec(args: &[Arg], loops: &Loops, site: Site, fx: &mut Effects) {
    let word = |i: usize| {
        args.get(i)
            .map(|a| a.text.to_ascii_lowercase())
            .unwrap_or_default()
    };
    match word(0).as_str() {
        "static" => {}
        "dynamic" => {
            if matches!(word(1).as_str(), "add" | "set" | "delete") {
                uncertain(
                    fx,
                    site.statement,
                    "netsh ipsec dynamic rules last until the IPsec service restarts and are not modelled",
                );
            }
            return;
        }
        _ => return,
    }
    let rest = args.get(3..).unwrap_or(&[]);
    let ctx = Ctx { loops, site };
    match (word(1).as_str(), word(2).as_str()) {
        ("add", "policy") => add_policy(&ctx, rest, fx),
        ("set", "policy") => set_policy(&ctx, rest, fx),
        ("delete", "policy") => {
            delete_named(&ctx, rest, fx, |name| IpsecChange::DeletePolicy { name })
        }
        ("add", "filterlist") => {
            let t = ctx.tags(rest, &["name", "description"], fx);
            if let Some(name) = t.name(&ctx, "name", "add filterlist", fx) {
                fx.ipsec.push(IpsecChange::AddFilterList {
                    name,
                    span: site.statement,
                });
            }
        }
        ("set", "filterlist") => {
            let t = ctx.tags(rest, &["name", "guid", "newname", "description"], fx);
            if let (Some(name), Some((new_name, _))) =
                (t.name(&ctx, "name", "set filterlist", fx), t.get("newname"))
            {
                fx.ipsec.push(IpsecChange::RenameFilterList {
                    name,
                    new_name: loops.display(new_name),
                });
            }
        }
        ("delete", "filterlist") => delete_named(&ctx, rest, fx, |name| {
            IpsecChange::DeleteFilterList { name }
        }),
        ("add", "filter") => add_filter(&ctx, rest, fx),
        ("delete", "filter") => delete_filter(&ctx, rest, fx),
        ("add", "filteraction") => filter_action(&ctx, rest, fx, true),
        ("set", "filteraction") => filter_action(&ctx, rest, fx, false),
        ("delete", "filteraction") => delete_named(&ctx, rest, fx, |name| {
            IpsecChange::DeleteFilterAction { name }
        }),
        ("add", "rule") => add_rule(&ctx, rest, fx),
        ("set", "rule") => set_rule(&ctx, rest, fx),
        ("delete", "rule") => delete_rule(&ctx, rest, fx),
        ("delete", "all") => fx.ipsec.push(IpsecChange::DeleteAll),
        ("set", "store") => {
            let t = ctx.tags(rest, &["location", "domain"], fx);
            if t.get("location")
                .is_some_and(|(l, _)| !l.eq_ignore_ascii_case("local"))
            {
                uncertain(
                    fx,
                    site.statement,
                    "policies in the domain store are assigned by Group Policy, not by this script",
                );
            }
        }
        ("importpolicy", _) => uncertain(
            fx,
            site.statement,
            "a policy imported from a file is not known here",
        ),
        _ => {}
    }
}

struct Ctx<'a> {
    loops: &'a Loops,
    site: Site,
}

/// `tag=value` pairs; untagged values take the next tag not yet given, in
/// the command's order, as netsh maps them.
struct Tags {
    values: Vec<(&'static str, String, Span)>,
    /// Untagged keywords such as `all`.
    words: Vec<String>,
}

impl Tags {
    fn get(&self, tag: &str) -> Option<(&str, Span)> {
        self.values
            .iter()
            .rev()
            .find(|(t, _, _)| *t == tag)
            .map(|(_, v, s)| (v.as_str(), *s))
    }

    /// A required name; reported when missing or not known here.
    fn name(&self, ctx: &Ctx, tag: &str, command: &str, fx: &mut Effects) -> Option<String> {
        match self.get(tag) {
            Some((v, _)) if !v.trim().is_empty() => Some(ctx.loops.display(v.trim())),
            _ => {
                malformed(
                    fx,
                    ctx.site.command,
                    format!("{command} needs {tag}=: netsh rejects it"),
                    "incomplete",
                    FILTER_HELP,
                );
                None
            }
        }
    }
}

impl Ctx<'_> {
    fn tags(&self, args: &[Arg], order: &[&'static str], fx: &mut Effects) -> Tags {
        let mut out = Tags {
            values: Vec::new(),
            words: Vec::new(),
        };
        for a in args {
            match a.text.split_once('=') {
                Some((tag, value)) => {
                    let t = tag.trim().to_ascii_lowercase();
                    match order
                        .iter()
                        .find(|k| **k == t)
                        .or_else(|| unique_prefix(order, &t))
                    {
                        Some(k) => out.values.push((k, value.trim().to_owned(), a.span)),
                        None => malformed(
                            fx,
                            a.span,
                            format!("netsh ipsec does not know `{}=`", tag.trim()),
                            "rejected",
                            FILTER_HELP,
                        ),
                    }
                }
                None if a.text.eq_ignore_ascii_case("all") => out.words.push("all".to_owned()),
                None => match order.iter().find(|k| out.get(k).is_none()) {
                    Some(k) => out.values.push((k, a.text.clone(), a.span)),
                    None => malformed(
                        fx,
                        a.span,
                        format!("`{}` has no tag= and no place left", a.text),
                        "rejected",
                        FILTER_HELP,
                    ),
                },
            }
        }
        out
    }

    fn flag(&self, t: &Tags, tag: &str, fx: &mut Effects) -> Option<bool> {
        let (v, span) = t.get(tag)?;
        match v.to_ascii_lowercase().as_str() {
            "yes" | "y" => Some(true),
            "no" | "n" => Some(false),
            _ if is_unknown(v) || Loops::mentions_loop(v) => None,
            _ => {
                malformed(
                    fx,
                    span,
                    format!("{tag}={v} is not yes or no: netsh rejects the command"),
                    "rejected",
                    FILTER_HELP,
                );
                None
            }
        }
    }
}

fn unique_prefix<'a>(tags: &'a [&'static str], t: &str) -> Option<&'a &'static str> {
    let mut hits = tags.iter().filter(|k| !t.is_empty() && k.starts_with(t));
    let first = hits.next()?;
    hits.next().is_none().then_some(first)
}

fn malformed(fx: &mut Effects, span: Span, message: String, label: &str, help: &str) {
    fx.findings
        .push(Finding::new(RULE_FW_MALFORMED, span, message, label).help(help));
}

fn uncertain(fx: &mut Effects, span: Span, what: &str) {
    fx.ipsec.push(IpsecChange::Uncertain(Uncertainty {
        span,
        what: what.to_owned(),
    }));
}

const POLICY_TAGS: &[&str] = &[
    "name",
    "description",
    "mmpfs",
    "qmpermm",
    "mmlifetime",
    "activatedefaultrule",
    "pollinginterval",
    "assign",
    "mmsecmethods",
];
const SET_POLICY_TAGS: &[&str] = &[
    "name",
    "guid",
    "newname",
    "description",
    "mmpfs",
    "qmpermm",
    "mmlifetime",
    "activatedefaultrule",
    "pollinginterval",
    "assign",
    "gponame",
    "mmsecmethods",
];

fn add_policy(ctx: &Ctx, args: &[Arg], fx: &mut Effects) {
    let t = ctx.tags(args, POLICY_TAGS, fx);
    let Some(name) = t.name(ctx, "name", "add policy", fx) else {
        return;
    };
    let assign = ctx.flag(&t, "assign", fx);
    fx.ipsec.push(IpsecChange::AddPolicy {
        name: name.clone(),
        span: ctx.site.statement,
        by_ipseccmd: false,
    });
    if assign == Some(true) {
        fx.ipsec.push(IpsecChange::Assign {
            policy: name,
            on: true,
            span: ctx.site.statement,
        });
    }
}

fn set_policy(ctx: &Ctx, args: &[Arg], fx: &mut Effects) {
    let t = ctx.tags(args, SET_POLICY_TAGS, fx);
    if t.get("name").is_none() && t.get("guid").is_some() {
        return uncertain(fx, ctx.site.statement, "policy named by GUID");
    }
    let Some(mut name) = t.name(ctx, "name", "set policy", fx) else {
        return;
    };
    if let Some((new_name, _)) = t.get("newname") {
        let new_name = ctx.loops.display(new_name);
        fx.ipsec.push(IpsecChange::RenamePolicy {
            name,
            new_name: new_name.clone(),
        });
        name = new_name;
    }
    if let Some(on) = ctx.flag(&t, "assign", fx) {
        fx.ipsec.push(IpsecChange::Assign {
            policy: name,
            on,
            span: ctx.site.statement,
        });
    }
}

fn delete_named(ctx: &Ctx, args: &[Arg], fx: &mut Effects, change: impl Fn(String) -> IpsecChange) {
    let t = ctx.tags(args, &["name"], fx);
    if t.words.iter().any(|w| w == "all") {
        return uncertain(fx, ctx.site.statement, "delete ... all is not modelled");
    }
    if let Some(name) = t.name(ctx, "name", "delete", fx) {
        fx.ipsec.push(change(name));
    }
}

const FILTER_TAGS: &[&str] = &[
    "filterlist",
    "srcaddr",
    "dstaddr",
    "description",
    "protocol",
    "mirrored",
    "srcmask",
    "dstmask",
    "srcport",
    "dstport",
];
const DELETE_FILTER_TAGS: &[&str] = &[
    "filterlist",
    "srcaddr",
    "dstaddr",
    "protocol",
    "mirrored",
    "srcmask",
    "dstmask",
    "srcport",
    "dstport",
];

/// The fields both `add filter` and `delete filter` read.
struct FilterFields {
    list: String,
    src: Addr,
    dst: Addr,
    protocol: Option<IpProto>,
    mirrored: Option<bool>,
    src_ports: Option<Ports>,
    dst_ports: Option<Ports>,
}

fn filter_fields(ctx: &Ctx, t: &Tags, command: &str, fx: &mut Effects) -> Option<FilterFields> {
    let list = t.name(ctx, "filterlist", command, fx)?;
    let (Some((src, src_span)), Some((dst, dst_span))) = (t.get("srcaddr"), t.get("dstaddr"))
    else {
        malformed(
            fx,
            ctx.site.command,
            format!("{command} needs srcaddr= and dstaddr=: netsh rejects it"),
            "incomplete",
            FILTER_HELP,
        );
        return None;
    };
    let src = netsh_addr(ctx, src, t.get("srcmask"), src_span, fx)?;
    let dst = netsh_addr(ctx, dst, t.get("dstmask"), dst_span, fx)?;
    let protocol = match t.get("protocol") {
        None => None,
        Some((p, span)) => match IpProto::parse(p) {
            Some(p) => Some(p),
            None if is_unknown(p) || Loops::mentions_loop(p) => {
                uncertain(fx, ctx.site.statement, "protocol not known here");
                return None;
            }
            None => {
                malformed(
                    fx,
                    span,
                    format!(
                        "protocol={p} is not ANY, ICMP, TCP, UDP, RAW or 0-255: netsh rejects the filter"
                    ),
                    "rejected",
                    FILTER_HELP,
                );
                return None;
            }
        },
    };
    let src_ports = match t.get("srcport") {
        Some((p, span)) => Some(port(ctx, p, span, "netsh", fx)?),
        None => None,
    };
    let dst_ports = match t.get("dstport") {
        Some((p, span)) => Some(port(ctx, p, span, "netsh", fx)?),
        None => None,
    };
    Some(FilterFields {
        list,
        src,
        dst,
        protocol,
        mirrored: ctx.flag(t, "mirrored", fx),
        src_ports,
        dst_ports,
    })
}

fn add_filter(ctx: &Ctx, args: &[Arg], fx: &mut Effects) {
    let t = ctx.tags(args, FILTER_TAGS, fx);
    let Some(f) = filter_fields(ctx, &t, "add filter", fx) else {
        return;
    };
    let protocol = f.protocol.unwrap_or(IpProto::ANY);
    let named_port = |p: &Option<Ports>| matches!(p, Some(Ports::Set(_)));
    if protocol == IpProto::ANY && (named_port(&f.src_ports) || named_port(&f.dst_ports)) {
        uncertain(
            fx,
            ctx.site.statement,
            "a port with protocol ANY: netsh documents ports for TCP and UDP only",
        );
    }
    fx.ipsec.push(IpsecChange::AddFilter {
        list: f.list,
        filter: Filter {
            src: f.src,
            src_ports: f.src_ports.unwrap_or(Ports::Any),
            dst: f.dst,
            dst_ports: f.dst_ports.unwrap_or(Ports::Any),
            protocol,
            // The MMC's "Mirrored" box is checked by default; netsh's help
            // text retrieved does not state the default.
            mirrored: f.mirrored.unwrap_or(true),
            span: ctx.site.statement,
        },
    });
}

fn delete_filter(ctx: &Ctx, args: &[Arg], fx: &mut Effects) {
    let t = ctx.tags(args, DELETE_FILTER_TAGS, fx);
    let Some(f) = filter_fields(ctx, &t, "delete filter", fx) else {
        return;
    };
    fx.ipsec.push(IpsecChange::DeleteFilters(FilterPattern {
        list: f.list,
        src: f.src,
        dst: f.dst,
        protocol: f.protocol,
        mirrored: f.mirrored,
        src_ports: f.src_ports,
        dst_ports: f.dst_ports,
    }));
}

/// `me`, `any`, an IPv4 address (with `srcmask=`), `a-b`, a server type, a
/// DNS name or an IPv6 address.
fn netsh_addr(
    ctx: &Ctx,
    text: &str,
    mask: Option<(&str, Span)>,
    span: Span,
    fx: &mut Effects,
) -> Option<Addr> {
    let t = text.trim();
    match t.to_ascii_lowercase().as_str() {
        "me" => return Some(Addr::Me),
        "any" => return Some(Addr::Any),
        "" => {
            malformed(
                fx,
                span,
                "an empty address: netsh rejects the filter".to_owned(),
                "rejected",
                FILTER_HELP,
            );
            return None;
        }
        _ => {}
    }
    if is_unknown(t) || Loops::mentions_loop(t) {
        return Some(Addr::Named(ctx.loops.display(t)));
    }
    if let Some((a, b)) = t.split_once('-') {
        if let (Some(lo), Some(hi)) = (ipv4(a), ipv4(b)) {
            return Some(Addr::Range { lo, hi });
        }
    }
    let Some(addr) = ipv4(t) else {
        return Some(Addr::Named(t.to_owned()));
    };
    let prefix = match mask {
        None => 32,
        Some((m, mspan)) => match prefix_of(m) {
            Some(p) => p,
            None => {
                malformed(
                    fx,
                    mspan,
                    format!(
                        "mask `{m}` is not a prefix 0-32 or a contiguous mask: netsh rejects the filter"
                    ),
                    "rejected",
                    FILTER_HELP,
                );
                return None;
            }
        },
    };
    Some(net(addr, prefix))
}

fn net(addr: u32, prefix: u8) -> Addr {
    if prefix == 0 || (addr == 0 && prefix == 32) {
        Addr::Any
    } else {
        Addr::Net { addr, prefix }
    }
}

fn ipv4(text: &str) -> Option<u32> {
    text.trim()
        .parse::<std::net::Ipv4Addr>()
        .ok()
        .map(u32::from)
}

/// `24` or `255.255.255.0`.
fn prefix_of(text: &str) -> Option<u8> {
    let t = text.trim();
    if let Ok(p) = t.parse::<u8>() {
        return (p <= 32).then_some(p);
    }
    let m = ipv4(t)?;
    let ones = m.leading_ones();
    (m.checked_shl(ones).unwrap_or(0) == 0).then_some(ones as u8)
}

/// One port (`0` = any) or a loop variable standing for one filter per value.
fn port(ctx: &Ctx, text: &str, span: Span, tool: &str, fx: &mut Effects) -> Option<Ports> {
    if let Some(values) = ctx.loops.whole(text) {
        let Some((set, bad)) = values.ports() else {
            uncertain(
                fx,
                ctx.site.statement,
                "the loop's port values are not known here",
            );
            return None;
        };
        for why in bad {
            malformed(
                fx,
                span,
                format!("loop value `{why}` is not a port 1-65535: {tool} rejects that filter"),
                "not a port",
                "loop over ports in 1-65535 only",
            );
        }
        return Some(Ports::Set(set));
    }
    if is_unknown(text) || Loops::mentions_loop(text) {
        uncertain(
            fx,
            ctx.site.statement,
            &format!("port `{}` is not known here", ctx.loops.display(text)),
        );
        return None;
    }
    match text.trim().parse::<u16>() {
        Ok(0) => Some(Ports::Any),
        Ok(p) => Some(Ports::Set(PortSet::single(p))),
        Err(_) => {
            malformed(
                fx,
                span,
                format!(
                    "port `{}` is not one port 0-65535: {tool} rejects the filter (an IPsec filter names one port, 0 = any)",
                    text.trim()
                ),
                "rejected",
                "add one filter per port, e.g. FOR /L %%P IN (5001,1,5201) DO netsh ipsec static add filter ... dstport=%%P",
            );
            None
        }
    }
}

const ACTION_TAGS: &[&str] = &[
    "name",
    "description",
    "qmpfs",
    "inpass",
    "soft",
    "action",
    "qmsecmethods",
];
const SET_ACTION_TAGS: &[&str] = &[
    "name",
    "guid",
    "newname",
    "description",
    "qmpfs",
    "inpass",
    "soft",
    "action",
    "qmsecmethods",
];

fn filter_action(ctx: &Ctx, args: &[Arg], fx: &mut Effects, create: bool) {
    let t = ctx.tags(args, if create { ACTION_TAGS } else { SET_ACTION_TAGS }, fx);
    let command = if create {
        "add filteraction"
    } else {
        "set filteraction"
    };
    let Some(name) = t.name(ctx, "name", command, fx) else {
        return;
    };
    let kind = match t.get("action") {
        None => None,
        Some((a, span)) => match a.to_ascii_lowercase().as_str() {
            "permit" => Some(ActionKind::Permit),
            "block" => Some(ActionKind::Block),
            "negotiate" => Some(ActionKind::Negotiate),
            _ if is_unknown(a) => None,
            _ => {
                malformed(
                    fx,
                    span,
                    format!(
                        "action={a} is not permit, block or negotiate: netsh rejects the filter action"
                    ),
                    "rejected",
                    "write netsh ipsec static add filteraction name=Permit action=permit",
                );
                return;
            }
        },
    };
    let soft = ctx.flag(&t, "soft", fx);
    fx.ipsec.push(IpsecChange::FilterAction {
        change: ActionChange {
            name,
            new_name: t.get("newname").map(|(n, _)| ctx.loops.display(n)),
            kind,
            soft,
            span: ctx.site.statement,
        },
        create,
    });
}

const RULE_TAGS: &[&str] = &[
    "name",
    "policy",
    "filterlist",
    "filteraction",
    "tunnel",
    "conntype",
    "activate",
    "description",
    "kerberos",
    "psk",
    "rootca",
];
const SET_RULE_TAGS: &[&str] = &[
    "name",
    "id",
    "policy",
    "newname",
    "description",
    "filterlist",
    "filteraction",
    "tunnel",
    "conntype",
    "activate",
    "kerberos",
    "psk",
    "rootca",
];

/// `conntype=dialup` rules never see a LAN server's traffic.
fn lan_active(ctx: &Ctx, t: &Tags, fx: &mut Effects) -> bool {
    let dialup = t
        .get("conntype")
        .is_some_and(|(c, _)| c.eq_ignore_ascii_case("dialup"));
    if dialup {
        uncertain(
            fx,
            ctx.site.statement,
            "a conntype=dialup rule is taken not to filter the server's LAN traffic",
        );
    }
    !dialup
}

fn add_rule(ctx: &Ctx, args: &[Arg], fx: &mut Effects) {
    let t = ctx.tags(args, RULE_TAGS, fx);
    let (Some(name), Some(policy), Some(filter_list), Some(filter_action)) = (
        t.name(ctx, "name", "add rule", fx),
        t.name(ctx, "policy", "add rule", fx),
        t.name(ctx, "filterlist", "add rule", fx),
        t.name(ctx, "filteraction", "add rule", fx),
    ) else {
        return;
    };
    let active = ctx.flag(&t, "activate", fx).unwrap_or(true) && lan_active(ctx, &t, fx);
    fx.ipsec.push(IpsecChange::AddRule {
        policy,
        rule: PolicyRule {
            name,
            filter_list,
            filter_action,
            active,
            span: ctx.site.statement,
        },
    });
}

fn set_rule(ctx: &Ctx, args: &[Arg], fx: &mut Effects) {
    let t = ctx.tags(args, SET_RULE_TAGS, fx);
    if t.get("name").is_none() {
        return uncertain(fx, ctx.site.statement, "rule named by id");
    }
    let Some(name) = t.name(ctx, "name", "set rule", fx) else {
        return;
    };
    let display = |tag: &str| t.get(tag).map(|(v, _)| ctx.loops.display(v));
    let active = match (ctx.flag(&t, "activate", fx), t.get("conntype")) {
        (a, Some(_)) => Some(a.unwrap_or(true) && lan_active(ctx, &t, fx)),
        (a, None) => a,
    };
    fx.ipsec.push(IpsecChange::SetRule(RuleChange {
        policy: display("policy"),
        name,
        new_name: display("newname"),
        filter_list: display("filterlist"),
        filter_action: display("filteraction"),
        active,
    }));
}

fn delete_rule(ctx: &Ctx, args: &[Arg], fx: &mut Effects) {
    let t = ctx.tags(args, &["name", "id", "policy"], fx);
    let Some(policy) = t.name(ctx, "policy", "delete rule", fx) else {
        return;
    };
    if t.words.iter().any(|w| w == "all") {
        fx.ipsec
            .push(IpsecChange::DeleteRule { policy, name: None });
    } else if t.get("name").is_some() {
        if let Some(name) = t.name(ctx, "name", "delete rule", fx) {
            fx.ipsec.push(IpsecChange::DeleteRule {
                policy,
                name: Some(name),
            });
        }
    } else {
        uncertain(fx, ctx.site.statement, "rule deleted by id");
    }
}

// ---------------------------------------------------------------- ipseccmd

const CMD_HELP: &str =
    "write ipseccmd -w REG -p \"FTP\" -r \"FTP control\" -f *+0:21:TCP -n PASS -x";

/// Flags and the number of values each takes (`None` = every value up to the
/// next flag).
fn arity(flag: &str) -> Option<Option<usize>> {
    Some(match flag {
        "w" | "p" | "r" | "t" | "1k" | "1e" => Some(1),
        "f" | "n" | "a" | "1s" => None,
        "x" | "y" | "o" | "u" | "soft" | "lan" | "dialup" | "confirm" | "1p" | "?" => Some(0),
        _ => return None,
    })
}

fn flag_name(a: &Arg) -> Option<String> {
    let body = a.text.strip_prefix(['-', '/'])?;
    let first = body.chars().next()?;
    (first.is_ascii_alphanumeric() || first == '?').then(|| body.to_ascii_lowercase())
}

/// `ipseccmd` / `ipsecpol` arguments, flag by flag.
#[derive(Default)]
struct CmdArgs<'a> {
    remote: bool,
    store: Option<&'a Arg>,
    policy: Option<&'a Arg>,
    rules: Vec<&'a Arg>,
    filters: Vec<&'a Arg>,
    actions: Vec<&'a Arg>,
    switches: Vec<String>,
}

fn cmd_args(args: &[Arg]) -> CmdArgs<'_> {
    let mut out = CmdArgs::default();
    let mut i = 0;
    if args.first().is_some_and(|a| a.text.starts_with("\\\\")) {
        out.remote = true;
        i = 1;
    }
    while let Some(a) = args.get(i) {
        i += 1;
        let Some(flag) = flag_name(a) else { continue };
        let take = match arity(&flag) {
            Some(Some(n)) => n,
            Some(None) => args[i..]
                .iter()
                .position(|a| flag_name(a).is_some())
                .unwrap_or(args.len() - i),
            None => 0,
        };
        let values: Vec<&Arg> = args.iter().skip(i).take(take).collect();
        i += values.len();
        match flag.as_str() {
            "w" => out.store = values.first().copied(),
            "p" => out.policy = values.first().copied(),
            "r" => out.rules.extend(values),
            "f" => out.filters.extend(values),
            "n" => out.actions.extend(values),
            _ => out.switches.push(flag),
        }
    }
    out
}

/// `ipseccmd -w REG -p "policy" -r "rule" -f 0+*:21:TCP -n PASS -x` and
/// the same for Windows 2000's `ipsecpol`.
pub fn ipseccmd(args: &[Arg], loops: &Loops, site: Site, fx: &mut Effects) {
    let a = cmd_args(args);
    let has = |s: &str| a.switches.iter().any(|x| x == s);
    if a.remote {
        return uncertain(fx, site.statement, "ipseccmd configures another computer");
    }
    let Some(store) = a.store else {
        if !a.filters.is_empty() {
            uncertain(
                fx,
                site.statement,
                "dynamic ipseccmd filters (no -w) last until the IPsec service restarts and are not modelled",
            );
        }
        return;
    };
    if !store.text.eq_ignore_ascii_case("reg") {
        uncertain(
            fx,
            site.statement,
            "a policy in the domain store (-w DS) is assigned by Group Policy",
        );
    }
    let Some(policy_arg) = a.policy else {
        return malformed(
            fx,
            site.command,
            "ipseccmd -w needs -p \"policy\": it changes nothing".to_owned(),
            "incomplete",
            CMD_HELP,
        );
    };
    let policy = loops.display(policy_arg.text.split(':').next().unwrap_or(""));
    let rules: Vec<String> = a.rules.iter().map(|r| loops.display(&r.text)).collect();
    if has("o") {
        if rules.is_empty() {
            fx.ipsec.push(IpsecChange::DeletePolicy { name: policy });
        } else {
            for name in rules {
                fx.ipsec.push(IpsecChange::DeleteRule {
                    policy: policy.clone(),
                    name: Some(name),
                });
            }
        }
        return;
    }
    fx.ipsec.push(IpsecChange::AddPolicy {
        name: policy.clone(),
        span: site.statement,
        by_ipseccmd: true,
    });
    let mut bracket_action = None;
    let mut filters = Vec::new();
    for f in &a.filters {
        if let Some((filter, bracket)) = cmd_filter(f, loops, site, fx) {
            bracket_action = bracket_action.or(bracket);
            filters.push(filter);
        }
    }
    let action = cmd_action(&a.actions, has("soft")).or(bracket_action.map(|k| (k, false)));
    if !filters.is_empty() || action.is_some() {
        let rule = rules
            .first()
            .cloned()
            .unwrap_or_else(|| format!("{policy} rule"));
        fx.ipsec.push(IpsecChange::CmdRule(CmdRule {
            policy: policy.clone(),
            rule,
            filters,
            action,
            span: site.statement,
        }));
    }
    if has("x") || has("y") {
        fx.ipsec.push(IpsecChange::Assign {
            policy,
            on: has("x"),
            span: site.statement,
        });
    }
}

/// `-n PASS | BLOCK | INPASS | ESP[...] AH[...]`: the first of PASS/BLOCK
/// wins, anything else negotiates.
fn cmd_action(values: &[&Arg], soft: bool) -> Option<(ActionKind, bool)> {
    if values.is_empty() {
        return None;
    }
    let kind = values
        .iter()
        .find_map(|v| match v.text.to_ascii_uppercase().as_str() {
            "PASS" => Some(ActionKind::Permit),
            "BLOCK" => Some(ActionKind::Block),
            _ => None,
        })
        .unwrap_or(ActionKind::Negotiate);
    Some((kind, soft))
}

/// One `-f` filter; also the action a dynamic-mode `(pass)` / `[block]`
/// bracket gives.
fn cmd_filter(
    arg: &Arg,
    loops: &Loops,
    site: Site,
    fx: &mut Effects,
) -> Option<(Filter, Option<ActionKind>)> {
    let raw = arg.text.trim();
    let (text, bracket) =
        if let Some(inner) = raw.strip_prefix('(').and_then(|r| r.strip_suffix(')')) {
            (inner, Some(ActionKind::Permit))
        } else if let Some(inner) = raw.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
            (inner, Some(ActionKind::Block))
        } else {
            (raw, None)
        };
    let bad = |fx: &mut Effects, why: String| {
        malformed(
            fx,
            arg.span,
            format!("filter `{}` {why}: ipseccmd rejects it", loops.display(raw)),
            "rejected",
            CMD_HELP,
        );
    };
    let Some(at) = text.find(['=', '+']) else {
        bad(
            fx,
            "has no `=` or `+` between source and destination".to_owned(),
        );
        return None;
    };
    let mirrored = text[at..].starts_with('+');
    let (src, dst) = (&text[..at], &text[at + 1..]);
    let mut s = src.split(':');
    let mut d = dst.split(':');
    let src_addr = cmd_addr(s.next().unwrap_or(""), loops)
        .map_err(|e| bad(fx, e))
        .ok()?;
    let src_ports = cmd_port(s.next().unwrap_or(""), loops, arg.span, site, fx)?;
    let dst_addr = cmd_addr(d.next().unwrap_or(""), loops)
        .map_err(|e| bad(fx, e))
        .ok()?;
    let dst_ports = cmd_port(d.next().unwrap_or(""), loops, arg.span, site, fx)?;
    let proto_text = d.next().unwrap_or("");
    let Some(protocol) = IpProto::parse(proto_text) else {
        bad(
            fx,
            format!("names protocol `{proto_text}`, not TCP, UDP, ICMP, RAW or a number"),
        );
        return None;
    };
    Some((
        Filter {
            src: src_addr,
            src_ports,
            dst: dst_addr,
            dst_ports,
            protocol,
            mirrored,
            span: site.statement,
        },
        bracket,
    ))
}

/// `0` = this computer, `*` = any, `a.b.c.d[/mask]`, or a DNS name.
fn cmd_addr(text: &str, loops: &Loops) -> Result<Addr, String> {
    let t = text.trim();
    match t {
        "0" => return Ok(Addr::Me),
        "*" => return Ok(Addr::Any),
        "" => return Err("has an empty address".to_owned()),
        _ => {}
    }
    if is_unknown(t) || Loops::mentions_loop(t) {
        return Ok(Addr::Named(loops.display(t)));
    }
    let (addr, mask) = match t.split_once('/') {
        Some((a, m)) => (a, Some(m)),
        None => (t, None),
    };
    let Some(ip) = ipv4(addr) else {
        return Ok(Addr::Named(t.to_owned()));
    };
    let prefix = match mask {
        None => 32,
        Some(m) => prefix_of(m)
            .ok_or_else(|| format!("has mask `{m}`, not a prefix or a contiguous mask"))?,
    };
    Ok(net(ip, prefix))
}

fn cmd_port(text: &str, loops: &Loops, span: Span, site: Site, fx: &mut Effects) -> Option<Ports> {
    let t = text.trim();
    if t.is_empty() || t == "*" {
        return Some(Ports::Any);
    }
    port(&Ctx { loops, site }, t, span, "ipseccmd", fx)
}

#[cfg(test)]
mod tests {
    use crate::facts::Firewall;
    use crate::formats::ipsec::{Assignment, IpsecStore};
    use crate::formats::winscript::{self, ScriptKind};
    use crate::portset::PortSet;
    use crate::source::{FileId, SourceFile};

    fn script(text: &str) -> winscript::Script {
        let src = SourceFile::new(FileId(0), "ipsec.cmd", text.as_bytes());
        winscript::parse(&src, ScriptKind::Batch)
    }

    fn store(text: &str) -> IpsecStore {
        IpsecStore::from_changes(&script(text).effects.ipsec)
    }

    fn firewall(text: &str) -> Firewall {
        store(text)
            .to_firewall(FileId(0))
            .expect("a policy is assigned")
    }

    const FTP_POLICY: &str = "@echo off\r\n\
netsh ipsec static add policy name=\"FTP Lockdown\"\r\n\
netsh ipsec static add filteraction name=Block action=block\r\n\
netsh ipsec static add filteraction name=Permit action=permit\r\n\
netsh ipsec static add filterlist name=\"All TCP\"\r\n\
netsh ipsec static add filter filterlist=\"All TCP\" srcaddr=any dstaddr=me protocol=TCP\r\n\
netsh ipsec static add filter filterlist=FTP srcaddr=any dstaddr=me protocol=TCP dstport=21\r\n\
FOR /L %%P IN (5001,1,5100) DO netsh ipsec static add filter filterlist=FTP srcaddr=any dstaddr=me protocol=TCP dstport=%%P\r\n\
netsh ipsec static add rule name=\"Block TCP\" policy=\"FTP Lockdown\" filterlist=\"All TCP\" filteraction=Block\r\n\
netsh ipsec static add rule name=\"Allow FTP\" policy=\"FTP Lockdown\" filterlist=FTP filteraction=Permit\r\n";

    #[test]
    fn a_loop_of_filters_is_one_port_set_and_assignment_matters() {
        let s = store(FTP_POLICY);
        let ftp = s.filter_list("ftp").unwrap();
        assert_eq!(ftp.filters.len(), 2);
        assert!(s.to_firewall(FileId(0)).is_none());
        assert_eq!(s.unassigned_with_filters().len(), 1);
        let fw = firewall(&format!(
            "{FTP_POLICY}netsh ipsec static set policy name=\"FTP Lockdown\" assign=y\r\n"
        ));
        assert_eq!(fw.open_to_all.to_string(), "21,5001-5100");
    }

    #[test]
    fn positional_abbreviated_and_case_insensitive_forms() {
        let fw = firewall(
            "NETSH IPSEC STATIC ADD POLICY Lockdown\r\n\
             netsh ipsec static add filterlist Blocked\r\n\
             netsh ipsec static add filter Blocked any me \"block tcp 8080\" TCP srcport=0 dstport=8080\r\n\
             netsh ipsec static add filteraction Stop action=BLOCK\r\n\
             netsh ipsec static add rule Stop8080 Lockdown Blocked Stop\r\n\
             netsh ipsec static set policy lockdown ASSIGN=Yes\r\n",
        );
        assert!(!fw.open_to_any().contains(8080));
        assert!(fw.open_to_all.contains(8081));
        let fw = firewall(
            "netsh ipsec static add policy name=P assign=yes\r\n\
             netsh ipsec static add filter filterl=L srca=any dsta=me proto=tcp dstp=21\r\n\
             netsh ipsec static add filteraction name=B action=block\r\n\
             netsh ipsec static add rule name=R policy=P filterlist=L filteraction=B\r\n",
        );
        assert!(!fw.open_to_any().contains(21));
    }

    #[test]
    fn ipseccmd_static_forms() {
        let text = "ipseccmd -w REG -p \"FTP\" -r \"Block all\" -f 0+* -n BLOCK\r\n\
                    ipseccmd -w REG -p \"FTP\" -r \"Control\" -f *+0:21:TCP -n PASS\r\n\
                    for /l %%P in (5001,1,5100) do ipseccmd -w REG -p \"FTP\" -r \"Data %%P\" -f 0:%%P+*::TCP -n PASS\r\n";
        let s = store(text);
        assert!(s.assigned().is_none());
        let fw = firewall(&format!("{text}ipseccmd -w REG -p \"FTP\" -x\r\n"));
        assert_eq!(fw.open_to_all.to_string(), "21,5001-5100");
    }

    #[test]
    fn ipseccmd_assigning_another_policy_unassigns_the_first() {
        let s = store(
            "ipseccmd.exe -w REG -p \"Block UDP 1434 Filter\" -r \"Block Inbound UDP 1434 Rule\" -f *=0:1434:UDP -n BLOCK -x\r\n\
             ipsecpol -w REG -p \"Block TCP 80 Filter\" -r \"Block Inbound TCP 80 Rule\" -f *=0:80:TCP -n BLOCK -x\r\n",
        );
        assert_eq!(s.assigned().unwrap().name, "Block TCP 80 Filter");
        assert!(matches!(
            s.policies[0].assignment,
            Assignment::Replaced { ref by, .. } if by == "Block TCP 80 Filter"
        ));
        let fw = s.to_firewall(FileId(0)).unwrap();
        assert!(!fw.open_to_any().contains(80));
    }

    #[test]
    fn an_unmirrored_ipseccmd_permit_loses_its_replies() {
        let s = store(
            "ipseccmd -w REG -p P -r Block -f 0+* -n BLOCK\r\n\
             ipseccmd -w REG -p P -r FTP -f *=0:21:TCP -n PASS -x\r\n",
        );
        assert!(!s.to_firewall(FileId(0)).unwrap().open_to_any().contains(21));
        let replies = s.replies_blocked(FileId(0));
        assert_eq!(replies.len(), 1);
        assert_eq!(replies[0].ports, PortSet::single(21));
    }

    #[test]
    fn ipseccmd_delete_and_unassign() {
        let s = store(
            "ipseccmd -w REG -p P -r R -f *+0:80:TCP -n BLOCK -x\r\n\
             ipseccmd -w REG -p P -y\r\n",
        );
        assert!(s.assigned().is_none());
        assert!(s.unassigned_with_filters().is_empty());
        let s = store(
            "ipseccmd -w REG -p P -r R -f *+0:80:TCP -n BLOCK -x\r\n\
             ipseccmd -w REG -p P -r R -o\r\n",
        );
        assert_eq!(
            s.to_firewall(FileId(0)).unwrap().open_to_all,
            PortSet::connectable()
        );
    }

    #[test]
    fn malformed_commands_are_reported() {
        let sc = script(
            "netsh ipsec static add filter filterlist=L srcaddr=any dstaddr=me protocol=TPC dstport=21\r\n\
             netsh ipsec static add filter filterlist=L srcaddr=any dstaddr=me dstport=5001-5201 protocol=TCP\r\n\
             netsh ipsec static add filter filterlist=L srcaddr=any\r\n\
             netsh ipsec static add filteraction name=X action=allow\r\n\
             netsh ipsec static add filter filterlist=L srcaddr=any dstaddr=me bogus=1\r\n\
             ipseccmd -w REG -p P -r R -f 0:21*::TCP -n PASS\r\n",
        );
        let rules: Vec<&str> = sc.effects.findings.iter().map(|f| f.rule).collect();
        assert_eq!(rules.len(), 6, "{:?}", sc.effects.findings);
        assert!(
            rules
                .iter()
                .all(|r| *r == "windows-firewall-rule-malformed")
        );
    }

    #[test]
    fn subnets_masks_and_ranges() {
        let fw = firewall(
            "netsh ipsec static add policy name=P assign=yes\r\n\
             netsh ipsec static add filteraction name=B action=block\r\n\
             netsh ipsec static add filteraction name=OK action=permit\r\n\
             netsh ipsec static add filter filterlist=All srcaddr=any dstaddr=me\r\n\
             netsh ipsec static add filter filterlist=Lan srcaddr=10.0.0.0 srcmask=255.0.0.0 dstaddr=me\r\n\
             netsh ipsec static add filter filterlist=Lan srcaddr=192.168.1.10-192.168.1.20 dstaddr=me protocol=TCP dstport=21\r\n\
             netsh ipsec static add rule name=B policy=P filterlist=All filteraction=B\r\n\
             netsh ipsec static add rule name=OK policy=P filterlist=Lan filteraction=OK\r\n",
        );
        assert!(fw.open_to_all.is_empty());
        assert_eq!(fw.open_to_some, PortSet::connectable());
    }

    #[test]
    fn ipseccmd_negotiate_and_soft() {
        let base = "ipseccmd -w REG -p P -r Block -f *+0:5001:TCP -n BLOCK\r\n";
        let hard = firewall(&format!(
            "{base}ipseccmd -w REG -p P -r Secure -f *+0::TCP -n ESP[3DES,SHA] -x\r\n"
        ));
        assert!(!hard.open_to_all.contains(21));
        assert!(hard.open_to_some.contains(21));
        assert!(!hard.open_to_any().contains(5001));
        let soft = firewall(&format!(
            "{base}ipseccmd -w REG -p P -r Secure -f *+0::TCP -n ESP[3DES,SHA] -soft -x\r\n"
        ));
        assert!(soft.open_to_all.contains(21));
    }

    #[test]
    fn renamed_and_reassigned_policies() {
        let s = store(
            "netsh ipsec static add policy name=Old\r\n\
             netsh ipsec static add filteraction name=B action=block\r\n\
             netsh ipsec static add filter filterlist=L srcaddr=any dstaddr=me protocol=TCP dstport=21\r\n\
             netsh ipsec static add rule name=R policy=Old filterlist=L filteraction=B\r\n\
             netsh ipsec static set policy name=Old newname=New assign=yes\r\n\
             netsh ipsec static add policy name=Other assign=yes\r\n",
        );
        assert_eq!(s.assigned().map(|p| p.name.as_str()), Some("Other"));
        let un = s.unassigned_with_filters();
        assert_eq!(un.len(), 1);
        assert_eq!(un[0].policy.name, "New");
    }

    #[test]
    fn powershell_runs_netsh_ipsec_and_ipseccmd() {
        let src = SourceFile::new(
            FileId(0),
            "Lock-Ftp.ps1",
            b"netsh ipsec static add policy name=P assign=yes\r\n\
              netsh ipsec static add filteraction name=B action=block\r\n\
              netsh ipsec static add filter filterlist=L srcaddr=any dstaddr=me protocol=TCP dstport=8080\r\n\
              netsh ipsec static add rule name=R policy=P filterlist=L filteraction=B\r\n",
        );
        let sc = winscript::parse(&src, ScriptKind::PowerShell);
        let fw = IpsecStore::from_changes(&sc.effects.ipsec)
            .to_firewall(FileId(0))
            .unwrap();
        assert!(!fw.open_to_any().contains(8080));
    }

    #[test]
    fn windows_firewall_and_ipsec_in_one_script_intersect() {
        let src = SourceFile::new(
            FileId(0),
            "ftp.cmd",
            b"netsh firewall add portopening TCP 21 FTP\r\n\
              FOR /L %%I IN (5001,1,5201) DO netsh firewall add portopening TCP %%I \"Passive FTP\"\r\n\
              netsh ipsec static add policy name=P assign=yes\r\n\
              netsh ipsec static add filteraction name=B action=block\r\n\
              netsh ipsec static add filter filterlist=L srcaddr=any dstaddr=me protocol=TCP dstport=5150\r\n\
              netsh ipsec static add rule name=R policy=P filterlist=L filteraction=B\r\n",
        );
        let sc = winscript::parse(&src, ScriptKind::Batch);
        let fw = winscript::facts(&sc, &src).firewall.unwrap();
        let private = fw.in_profile(crate::facts::Profile::Private);
        assert_eq!(private.open_to_all.to_string(), "21,5001-5149,5151-5201");
        assert!(
            fw.open_to_all.is_empty(),
            "legacy openings miss the public profile"
        );
    }

    #[test]
    fn never_panics() {
        for s in [
            "netsh ipsec",
            "netsh ipsec static",
            "netsh ipsec static add",
            "netsh ipsec static add filter",
            "netsh ipsec static add filter =",
            "netsh ipsec static add filter filterlist= srcaddr= dstaddr=",
            "netsh ipsec static add filter a b c d e f g h i j k l m n",
            "netsh ipsec static add filter filterlist=L srcaddr=1.2.3.4 srcmask=33 dstaddr=me",
            "netsh ipsec static add filter filterlist=L srcaddr=9.9.9.9-1.1.1.1 dstaddr=é",
            "netsh ipsec static set policy",
            "netsh ipsec static set policy name=X assign=y",
            "netsh ipsec static delete rule",
            "netsh ipsec static delete rule all",
            "netsh ipsec static delete all",
            "ipseccmd",
            "ipseccmd -w",
            "ipseccmd -w REG -p",
            "ipseccmd -w REG -p P -f",
            "ipseccmd -w REG -p P -f + -n",
            "ipseccmd -w REG -p P -f :::+::: -n PASS -x",
            "ipseccmd -w REG -p P -f 0/99+*:70000:TCP -x",
            "ipseccmd \\\\host -w REG -p P -f 0+* -n BLOCK -x",
            "ipsecpol -f [*=0:80:TCP]",
            "for /l %%p in (1,1,65535) do netsh ipsec static add filter filterlist=L srcaddr=any dstaddr=me protocol=tcp dstport=%%p",
        ] {
            let st = store(&format!(
                "{s}\r\nnetsh ipsec static set policy name=P assign=yes\r\n"
            ));
            let _ = st.to_firewall(FileId(0));
        }
    }
}
