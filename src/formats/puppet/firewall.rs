//! The puppetlabs-firewall module's resources as the commands its providers
//! run (module 3.4.0, `lib/puppet/provider/firewall/iptables.rb` and
//! `lib/puppet/type/firewall.rb`), for the iptables reader
//! (`src/formats/iptables/script.rs`) to replay onto the filter model:
//!
//! - `firewallchain { 'NAME:TABLE:PROTOCOL': policy => … }` is `-N NAME` for a
//!   chain of its own, `-P NAME POLICY` for a built-in one (`IPv4` → `iptables`,
//!   `IPv6` → `ip6tables`);
//! - each `firewall` is one rule in `chain` (default `INPUT`) of `table`
//!   (default `filter`), with `proto` (default `tcp`), `source`/`destination`
//!   (`! ` negates), `iniface`/`outiface`, `sport`/`dport` (a port, a service
//!   name or `a-b`, as `string_to_port` reads them, always through
//!   `-m multiport`), `state`, `ctstate`, `action` (`accept`/`reject`/`drop`) or
//!   `jump`/`goto`, `reject`, and its title as `-m comment`. `provider =>
//!   ip6tables` (or `protocol => IPv6` in later module versions) makes it IPv6.
//! - The provider inserts each rule at the place its title takes among the
//!   chain's managed rules sorted as Ruby sorts strings (`insert_order`): byte
//!   order, so `'100 …'` comes before `'20 …'`. On a chain of managed rules the
//!   result is the titles in that order, which is how they are appended here.
//! - `ensure => absent` removes the rule; rules the repository does not hold are
//!   not known (a `firewallchain … purge => true` or `resources { 'firewall':
//!   purge => true }` removes them; without one they are not modelled either).
//!
//! A rule with a value pasvlint cannot know, or an attribute it does not
//! model on TCP, is left out and recorded, never guessed. Under `if`/`case` a
//! rule counts when it only opens, and is left out when it closes.

use super::project::Resource;
use super::scope::{V, Value};
use crate::scripts::{Command, Word};
use crate::source::Span;
use std::collections::BTreeMap;

/// What the firewall resources run, in order, and what was left out.
#[derive(Debug, Default)]
pub struct Lowered {
    pub commands: Vec<Command>,
    pub unknowns: Vec<Unresolved>,
    /// Rules whose ports Hiera data gives: (the resource, the data).
    pub port_data: Vec<(Span, Span)>,
}

/// A resource or value left out of the firewall: where, why, and the Hiera
/// data that decides it, when data does.
#[derive(Debug)]
pub struct Unresolved {
    pub span: Span,
    pub what: String,
    pub data: Option<Span>,
}

fn unresolved(span: Span, what: String, data: Option<Span>) -> Unresolved {
    Unresolved { span, what, data }
}

/// Attributes that do not change which packets a rule matches.
const META: &[&str] = &[
    "ensure",
    "provider",
    "protocol",
    "chain",
    "table",
    "name",
    "before",
    "require",
    "notify",
    "subscribe",
    "tag",
    "alias",
    "audit",
    "loglevel",
    "noop",
    "schedule",
    "stage",
    "onduplicaterulebehaviour",
    "line",
];

/// Attributes lowered into the rule.
const MODELLED: &[&str] = &[
    "proto",
    "source",
    "destination",
    "iniface",
    "outiface",
    "sport",
    "dport",
    "state",
    "ctstate",
    "action",
    "jump",
    "goto",
    "reject",
    "helper",
];

/// `getservbyname` for the services FTP hosts name (Debian's `/etc/services`).
const SERVICES: &[(&str, u16)] = &[
    ("ftp-data", 20),
    ("ftp", 21),
    ("ssh", 22),
    ("telnet", 23),
    ("smtp", 25),
    ("domain", 53),
    ("http", 80),
    ("https", 443),
    ("ftps-data", 989),
    ("ftps", 990),
];

fn word(text: impl Into<String>, span: Span) -> Word {
    Word::literal(text, span)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Fam {
    V4,
    V6,
}

impl Fam {
    fn program(self) -> &'static str {
        match self {
            Fam::V4 => "iptables",
            Fam::V6 => "ip6tables",
        }
    }
}

fn text_of(r: &Resource, name: &str) -> Option<(String, Span)> {
    let v = r.get(name)?;
    v.text().map(|t| (t, v.span))
}

fn family(r: &Resource) -> Fam {
    let provider = text_of(r, "provider").map(|t| t.0.to_ascii_lowercase());
    let protocol = text_of(r, "protocol").map(|t| t.0.to_ascii_lowercase());
    if provider.as_deref() == Some("ip6tables")
        || matches!(protocol.as_deref(), Some("ipv6" | "ip6tables"))
    {
        Fam::V6
    } else {
        Fam::V4
    }
}

/// A chain: its family, table and name.
type ChainKey = (Fam, String, String);

const BUILTIN: &[&str] = &["INPUT", "OUTPUT", "FORWARD", "PREROUTING", "POSTROUTING"];

pub fn lower(resources: &[Resource]) -> Lowered {
    let mut out = Lowered::default();
    // Chains first (firewall rules autorequire their chain), then the rules of
    // each chain in title order.
    for r in resources.iter().filter(|r| r.ty == "firewallchain") {
        chain(r, &mut out);
    }
    let mut rules: BTreeMap<ChainKey, Vec<(String, Vec<Word>, Span)>> = BTreeMap::new();
    for r in resources.iter().filter(|r| r.ty == "firewall") {
        if let Some((key, title, argv)) = rule(r, &mut out) {
            rules.entry(key).or_default().push((title, argv, r.span));
        }
    }
    for ((fam, table, chain), mut list) in rules {
        // Ruby's `Array#sort` on the titles: byte order; a title declared twice
        // is a duplicate declaration Puppet refuses, so titles are distinct.
        list.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
        for (_, rest, span) in list {
            let at = rest.first().map_or(span, |w| w.span);
            let mut argv = vec![
                word(fam.program(), at),
                word("-t", at),
                word(&table, at),
                word("-A", at),
                word(&chain, at),
            ];
            argv.extend(rest);
            out.commands.push(Command::plain(argv, span));
        }
    }
    out
}

/// `firewallchain { 'INPUT:filter:IPv4': policy => drop }`.
fn chain(r: &Resource, out: &mut Lowered) {
    let Some(title) = r.title.text() else {
        out.unknowns.push(unresolved(
            r.title.span,
            "the firewallchain's title, which pasvlint cannot resolve; the chain is left out of the firewall".into(),
            r.title.data,
        ));
        return;
    };
    let parts: Vec<&str> = title.split(':').collect();
    let (name, table, protocol) = match parts.as_slice() {
        [n, t, p] => (*n, *t, *p),
        _ => return,
    };
    let fam = match protocol {
        "IPv4" => Fam::V4,
        "IPv6" => Fam::V6,
        _ => return,
    };
    if text_of(r, "ensure").is_some_and(|e| e.0 == "absent") {
        return;
    }
    let at = r.title.span;
    let base = |action: &str| {
        vec![
            word(fam.program(), at),
            word("-t", at),
            word(table, at),
            word(action, at),
            word(name, at),
        ]
    };
    if !BUILTIN.contains(&name) {
        out.commands.push(Command::plain(base("-N"), r.span));
        return;
    }
    let Some(policy) = r.get("policy") else {
        return;
    };
    let Some(p) = policy.text() else {
        if !r.guarded {
            out.unknowns.push(unresolved(
                policy.span,
                format!(
                    "the policy of {title}, which pasvlint cannot resolve; the chain keeps the policy it had"
                ),
                policy.data,
            ));
        }
        return;
    };
    let p = p.to_ascii_uppercase();
    if !matches!(p.as_str(), "ACCEPT" | "DROP" | "QUEUE" | "RETURN") {
        return;
    }
    if r.guarded && p != "ACCEPT" {
        return;
    }
    let mut argv = base("-P");
    argv.push(word(p, policy.span));
    out.commands.push(Command::plain(argv, r.span));
}

/// One `firewall` as the rule its provider inserts: the key of its chain, its
/// title, and the words after `-A CHAIN`.
fn rule(r: &Resource, out: &mut Lowered) -> Option<(ChainKey, String, Vec<Word>)> {
    let skip = |out: &mut Lowered, at: (Span, Option<Span>), why: String| {
        out.unknowns.push(unresolved(
            at.0,
            format!("the firewall rule's {why}; the rule is left out of the firewall"),
            at.1,
        ));
        None
    };
    if text_of(r, "ensure").is_some_and(|e| e.0 == "absent") {
        return None;
    }
    let Some(title) = r.title.text() else {
        return skip(
            out,
            (r.title.span, r.title.data),
            "title, which pasvlint cannot resolve".into(),
        );
    };
    let names = [META, MODELLED].concat();
    if let Some((at, what)) = super::project::unresolved(r, &names) {
        return skip(out, at, format!("{what}, which pasvlint cannot resolve"));
    }
    let proto = text_of(r, "proto")
        .map(|(p, s)| (p.to_ascii_lowercase(), s))
        .unwrap_or(("tcp".into(), r.span));
    let tcp = matches!(proto.0.as_str(), "tcp" | "all");
    if tcp {
        if let Some((name, span, _)) = r
            .attrs
            .iter()
            .find(|(n, _, _)| !names.contains(&n.as_str()))
        {
            return skip(
                out,
                (*span, None),
                format!("`{name}`, which pasvlint does not model"),
            );
        }
    }
    let fam = family(r);
    let table = text_of(r, "table").map_or("filter".to_owned(), |t| t.0);
    let chain = text_of(r, "chain").map_or("INPUT".to_owned(), |t| t.0);
    let mut argv = Vec::new();
    let negatable = |argv: &mut Vec<Word>, flag: &[&str], v: &V, text: &str| {
        let (neg, rest) = match text.strip_prefix('!') {
            Some(rest) => (true, rest.trim_start()),
            None => (false, text),
        };
        let (head, last) = flag.split_at(flag.len() - 1);
        argv.extend(head.iter().map(|f| word(*f, v.span)));
        if neg {
            argv.push(word("!", v.span));
        }
        argv.push(word(last[0], v.span));
        argv.push(word(rest, v.span));
    };
    for (attr, flag) in [
        ("source", &["-s"][..]),
        ("destination", &["-d"]),
        ("iniface", &["-i"]),
        ("outiface", &["-o"]),
    ] {
        if let Some(v) = r.get(attr) {
            let t = v.text()?;
            negatable(&mut argv, flag, v, &t);
        }
    }
    argv.push(word("-p", proto.1));
    argv.push(word(&proto.0, proto.1));
    for (attr, flag) in [("sport", "--sports"), ("dport", "--dports")] {
        let Some(v) = r.get(attr) else { continue };
        if let Some(data) = v.data.or_else(|| v.items().iter().find_map(|i| i.data)) {
            out.port_data.push((r.span, data));
        }
        match ports(v) {
            Ok((neg, list)) => {
                argv.push(word("-m", v.span));
                argv.push(word("multiport", v.span));
                if neg {
                    argv.push(word("!", v.span));
                }
                argv.push(word(flag, v.span));
                argv.push(word(list, v.span));
            }
            Err(why) => return skip(out, (v.span, v.data), why),
        }
    }
    for (attr, flag) in [
        ("state", ["state", "--state"]),
        ("ctstate", ["conntrack", "--ctstate"]),
    ] {
        let Some(v) = r.get(attr) else { continue };
        let states: Option<Vec<String>> = v
            .items()
            .iter()
            .map(|s| s.text().map(|t| t.to_ascii_uppercase()))
            .collect();
        let states = states?;
        argv.push(word("-m", v.span));
        argv.push(word(flag[0], v.span));
        argv.push(word(flag[1], v.span));
        argv.push(word(states.join(","), v.span));
    }
    let target = if let Some((a, s)) = text_of(r, "action") {
        Some((a.to_ascii_uppercase(), s, "-j"))
    } else if let Some((j, s)) = text_of(r, "jump") {
        // Module 3.x refuses `jump => accept` (it wants `action`); later
        // versions, which dropped `action`, take it.
        let up = j.to_ascii_uppercase();
        let j = if matches!(up.as_str(), "ACCEPT" | "DROP" | "REJECT") {
            up
        } else {
            j
        };
        Some((j, s, "-j"))
    } else {
        text_of(r, "goto").map(|(g, s)| (g, s, "-g"))
    };
    let opens = target.as_ref().is_some_and(|t| t.0 == "ACCEPT");
    if r.guarded && !opens {
        return None;
    }
    if let Some((t, s, flag)) = target {
        argv.push(word(flag, s));
        argv.push(word(&t, s));
        if t == "CT" {
            if let Some((h, hs)) = text_of(r, "helper") {
                argv.push(word("--helper", hs));
                argv.push(word(h, hs));
            }
        }
        if t == "REJECT" {
            if let Some((with, ws)) = text_of(r, "reject") {
                argv.push(word("--reject-with", ws));
                argv.push(word(with, ws));
            }
        }
    }
    argv.push(word("-m", r.title.span));
    argv.push(word("comment", r.title.span));
    argv.push(word("--comment", r.title.span));
    argv.push(word(&title, r.title.span));
    Some(((fam, table, chain), title, argv))
}

/// A `dport`/`sport` value as `string_to_port` munges each element and the
/// provider joins them (`-` ranges become `:`): whether it is negated, and the list.
fn ports(v: &V) -> Result<(bool, String), String> {
    let mut neg = None;
    let mut list = Vec::new();
    for item in v.items() {
        let text = match &item.v {
            Value::Num(n) => n.clone(),
            _ => item
                .text()
                .ok_or_else(|| "port, which pasvlint cannot resolve".to_owned())?,
        };
        let (this_neg, rest) = match text.strip_prefix('!') {
            Some(r) if r.starts_with(char::is_whitespace) => (true, r.trim_start()),
            _ => (false, text.as_str()),
        };
        if *neg.get_or_insert(this_neg) != this_neg {
            return Err(format!(
                "ports, which mix negated and plain values (the provider refuses `{text}`)"
            ));
        }
        let token = rest.split_whitespace().next().unwrap_or("");
        let is_range = {
            let (a, b) = token.split_once('-').unwrap_or((token, "0"));
            !a.is_empty()
                && a.bytes().all(|c| c.is_ascii_digit())
                && !b.is_empty()
                && b.bytes().all(|c| c.is_ascii_digit())
        };
        if is_range {
            list.push(token.replace('-', ":"));
        } else if let Some((_, port)) = SERVICES.iter().find(|(n, _)| *n == token) {
            list.push(port.to_string());
        } else {
            return Err(format!(
                "port `{token}`, which is neither a number, a range `a-b` nor a service name getservbyname knows (the resource fails on the host)"
            ));
        }
    }
    Ok((neg.unwrap_or(false), list.join(",")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scripts::Text;
    use crate::source::FileId;

    fn s(t: &str) -> V {
        let mut text = Text::default();
        text.push(t, Span::new(FileId(0), 0, t.len()), true);
        V::new(Value::Str(text), Span::new(FileId(0), 0, t.len()))
    }

    #[test]
    fn ports_as_the_provider_joins_them() {
        let v = V::new(
            Value::Array(vec![s("21"), s("40000-40100"), s("ftp-data")]),
            Span::new(FileId(0), 0, 0),
        );
        assert_eq!(ports(&v).unwrap(), (false, "21,40000:40100,20".into()));
        assert!(ports(&s("40000:40100")).is_err());
        assert_eq!(ports(&s("! 22")).unwrap(), (true, "22".into()));
    }

    #[test]
    fn titles_sort_as_ruby_sorts_strings() {
        let mk = |t: &str, port: &str| Resource {
            ty: "firewall".into(),
            title: s(t),
            attrs: vec![
                ("dport".into(), Span::new(FileId(0), 0, 0), s(port)),
                ("action".into(), Span::new(FileId(0), 0, 0), s("accept")),
            ],
            span: Span::new(FileId(0), 0, 0),
            guarded: false,
            vars: Default::default(),
        };
        let l = lower(&[mk("20 b", "2"), mk("100 a", "1")]);
        let firsts: Vec<String> = l
            .commands
            .iter()
            .map(|c| c.argv.last().unwrap().text.clone())
            .collect();
        assert_eq!(firsts, ["100 a", "20 b"]);
    }
}
