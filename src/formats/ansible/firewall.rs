//! The firewall modules as the commands they run, for the readers of those
//! commands (`src/formats/iptables/script.rs` replays iptables, and ufw and
//! firewall-cmd through their own models):
//!
//! - `ansible.builtin.iptables` builds one `iptables` (or `ip6tables`) argument
//!   vector per run as its `push_arguments`/`construct_rule` do (ansible-core
//!   2.19), checks with `-C` first, and appends (`action: append`), inserts
//!   (`action: insert`), deletes (`state: absent`), flushes or sets a policy;
//! - `community.general.ufw` runs `ufw` with the words its `main` joins:
//!   `state`, then `default`, then `rule` (`allow … from X port P to Y port P
//!   proto P`);
//! - `ansible.posix.firewalld` changes the permanent configuration with
//!   `permanent: true` and the running one otherwise or with `immediate: true`;
//!   it is read as the equivalent `firewall-cmd` commands.
//!
//! Every word is spanned at the argument it comes from. A task whose
//! arguments are not all known runs nothing here, and that is recorded. A task
//! under `when:` counts when it only opens (so no port is claimed blocked that
//! the play may have opened) and is left out when it closes.

use super::args::{Args, Got, Unresolved};
use crate::scripts::{Command, Word};
use crate::source::Span;

/// What the play's firewall tasks run, in order.
#[derive(Clone, Debug, Default)]
pub struct Commands {
    pub commands: Vec<Command>,
    /// Tasks not run for want of a value.
    pub unresolved: Vec<Unresolved>,
    /// The OpenStack security group rules the play makes.
    pub groups: super::cloud::Groups,
    /// For each command, the task that runs it (in play order) and whether the
    /// task has `ignore_errors`.
    pub tasks: Vec<(usize, bool)>,
    /// The task being read.
    pub current: (usize, bool),
    /// Port arguments YAML reads as base-60 numbers.
    pub base60: Vec<super::args::Base60>,
}

fn word(text: impl Into<String>, span: Span) -> Word {
    Word::literal(text, span)
}

impl Commands {
    /// Keep what the task's arguments say about base-60 numbers.
    fn note(&mut self, a: &Args) {
        for b in &a.base60 {
            if !self.base60.contains(b) {
                self.base60.push(b.clone());
            }
        }
    }

    fn push(&mut self, c: Command) {
        self.commands.push(c);
        self.tasks.push(self.current);
    }

    fn skip(&mut self, args: Args, module: &str) {
        for u in args.unresolved {
            self.unresolved.push(Unresolved {
                span: u.span,
                what: format!(
                    "the {module} task's {}, which pasvlint cannot resolve; the task is left out of the firewall",
                    u.what
                ),
            });
        }
    }

    /// One `iptables` task.
    pub fn iptables(&mut self, mut a: Args, guarded: bool) {
        let at = a.action.name_span;
        let s = |a: &mut Args, key: &str| match a.str(&[key]) {
            Got::Known(v, span) => Some((v, span)),
            _ => None,
        };
        let table = s(&mut a, "table").unwrap_or(("filter".into(), at));
        let state = s(&mut a, "state").map_or("present".to_owned(), |v| v.0);
        let insert = s(&mut a, "action").is_some_and(|v| v.0 == "insert");
        let ip_version = s(&mut a, "ip_version").map_or("ipv4".to_owned(), |v| v.0);
        let chain = s(&mut a, "chain");
        let rule_num = s(&mut a, "rule_num");
        let policy = s(&mut a, "policy");
        let flush = a.bool(&["flush"], false).known().copied().unwrap_or(false);
        let rule = construct_rule(&mut a, &ip_version);
        self.note(&a);
        if a.any_unknown() {
            return self.skip(a, "iptables");
        }
        let span = a.span();
        let programs: &[&str] = match ip_version.as_str() {
            "ipv6" => &["ip6tables"],
            "both" => &["iptables", "ip6tables"],
            _ => &["iptables"],
        };
        let base = |program: &str, action: &str| {
            let mut argv = vec![
                word(program, at),
                word("-t", table.1),
                word(&table.0, table.1),
            ];
            argv.push(word(action, at));
            if let Some((c, cs)) = &chain {
                argv.push(word(c, *cs));
            }
            argv
        };
        for program in programs {
            let argv = if flush {
                if guarded {
                    continue;
                }
                base(program, "-F")
            } else if let Some((p, ps)) = &policy {
                if guarded && p != "ACCEPT" {
                    continue;
                }
                let mut argv = base(program, "-P");
                argv.push(word(p, *ps));
                argv
            } else if rule.is_empty() {
                // Chains are made or removed only with `chain_management`; a
                // chain made so has no rule to decide anything.
                continue;
            } else {
                let present = state == "present";
                let opens = present && rule.iter().any(|w| w.text == "ACCEPT");
                if guarded && !opens {
                    continue;
                }
                let action = match (present, insert) {
                    (false, _) => "-D",
                    (true, true) => "-I",
                    (true, false) => "-A",
                };
                let mut argv = base(program, action);
                if let (true, true, Some((n, ns))) = (present, insert, &rule_num) {
                    argv.push(word(n, *ns));
                }
                argv.extend(rule.iter().cloned());
                argv
            };
            self.push(Command::plain(argv, span));
        }
    }

    /// A `command` or `shell` task: the command line as the shell runs it; the
    /// iptables, ufw, firewall-cmd and nft commands in it are the firewall's.
    /// Every span is the task's command line (its words are templated first).
    pub fn shell(&mut self, mut a: Args, raw: Option<&crate::formats::yaml::Node>, guarded: bool) {
        let line = match raw {
            Some(node) => match super::values::templated(node, a.vars, 0) {
                Ok(v) => Some((v.to_text(), node.span())),
                Err(u) => {
                    a.unresolved.push(Unresolved {
                        span: node.span(),
                        what: format!("`{}` is `{}`", a.action.name, u.what),
                    });
                    None
                }
            },
            None => match a.str(&["cmd", "argv"]) {
                Got::Known(v, s) => Some((v, s)),
                _ => None,
            },
        };
        if a.any_unknown() {
            return self.skip(a, "command");
        }
        let Some((line, at)) = line else { return };
        if ![
            "iptables",
            "ip6tables",
            "ufw",
            "firewall-cmd",
            "firewall-offline-cmd",
            "nft",
        ]
        .iter()
        .any(|p| line.contains(p))
        {
            return;
        }
        // The line alone, as a script of its own; its spans are then the task's.
        let script = crate::source::SourceFile::new(at.file, "task.sh", line.as_bytes());
        let mut found = Vec::new();
        crate::scripts::sh::run(&script, &mut |c| {
            found.push(c);
            crate::scripts::Status::Unknown
        });
        for mut c in found {
            c.span = at;
            for w in c.argv.iter_mut() {
                w.span = at;
            }
            for r in c.redirects.iter_mut() {
                r.span = at;
                r.target.span = at;
            }
            match &mut c.stdin {
                Some(crate::scripts::Input::Text(t)) => {
                    for p in t.pieces.iter_mut() {
                        p.span = at;
                        p.verbatim = false;
                    }
                }
                Some(crate::scripts::Input::File(w)) => w.span = at,
                Some(crate::scripts::Input::Piped(words)) => {
                    words.iter_mut().for_each(|w| w.span = at);
                }
                None => {}
            }
            if guarded {
                c.uncertain = Some(crate::scripts::Uncertain { span: at });
            }
            self.push(c);
        }
    }

    /// One `ufw` task.
    pub fn ufw(&mut self, mut a: Args, guarded: bool) {
        let at = a.action.name_span;
        let s = |a: &mut Args, keys: &[&str]| match a.str(keys) {
            Got::Known(v, span) => Some((v, span)),
            _ => None,
        };
        let state = s(&mut a, &["state"]);
        let default = s(&mut a, &["default", "policy"]);
        let rule = s(&mut a, &["rule"]);
        let direction = s(&mut a, &["direction"]);
        let delete = a.bool(&["delete"], false).known().copied().unwrap_or(false);
        let route = a.bool(&["route"], false).known().copied().unwrap_or(false);
        let log = a.bool(&["log"], false).known().copied().unwrap_or(false);
        let insert = s(&mut a, &["insert"]);
        let relative = s(&mut a, &["insert_relative_to"]).map_or("zero".to_owned(), |v| v.0);
        let iface = s(&mut a, &["interface", "if"]);
        let iface_in = s(&mut a, &["interface_in", "if_in"]);
        let iface_out = s(&mut a, &["interface_out", "if_out"]);
        let from_ip = s(&mut a, &["from_ip", "from", "src"]).unwrap_or(("any".into(), at));
        let from_port = s(&mut a, &["from_port"]);
        let to_ip = s(&mut a, &["to_ip", "to", "dest"]).unwrap_or(("any".into(), at));
        let to_port = s(&mut a, &["to_port", "port"]);
        let proto = s(&mut a, &["proto", "protocol"]);
        let app = s(&mut a, &["name", "app"]);
        self.note(&a);
        if a.any_unknown() {
            return self.skip(a, "ufw");
        }
        let span = a.span();
        let ufw = |words: Vec<Word>| {
            let mut argv = vec![word("ufw", at)];
            argv.extend(words);
            Command::plain(argv, span)
        };
        if let Some((state, ss)) = &state {
            let verb = match state.as_str() {
                "enabled" => Some("enable"),
                "disabled" => Some("disable"),
                "reset" => Some("reset"),
                _ => None,
            };
            // Enabling closes all the rules do not open; under `when:` it is left out.
            if let Some(verb) = verb.filter(|_| !guarded) {
                self.commands
                    .push(ufw(vec![word("-f", *ss), word(verb, *ss)]));
            }
        }
        if let Some((policy, ps)) = &default {
            if !guarded || policy == "allow" {
                let mut words = vec![word("default", *ps), word(policy, *ps)];
                if let Some((d, ds)) = &direction {
                    words.push(word(d, *ds));
                }
                self.push(ufw(words));
            }
        }
        let Some((verb, vs)) = rule else { return };
        if guarded && (delete || !matches!(verb.as_str(), "allow" | "limit")) {
            return;
        }
        let mut words = Vec::new();
        if route {
            words.push(word("route", at));
        }
        if delete {
            words.push(word("delete", at));
        }
        if let (Some((n, ns)), false) = (&insert, delete) {
            if relative != "zero" {
                // The number depends on the host's current rules (`ufw status numbered`).
                self.unresolved.push(Unresolved {
                    span: *ns,
                    what: format!(
                        "`insert_relative_to: {relative}` counts the host's current ufw rules, which pasvlint cannot know; the ufw task is left out of the firewall"
                    ),
                });
                return;
            }
            words.push(word("insert", *ns));
            words.push(word(n, *ns));
        }
        words.push(word(&verb, vs));
        if let Some((d, ds)) = &direction {
            words.push(word(d, *ds));
        }
        for (prefix, value) in [
            (&["on"][..], &iface),
            (&["in", "on"][..], &iface_in),
            (&["out", "on"][..], &iface_out),
        ] {
            if let Some((i, is)) = value {
                words.extend(prefix.iter().map(|p| word(*p, *is)));
                words.push(word(i, *is));
            }
        }
        if log {
            words.push(word("log", at));
        }
        words.push(word("from", from_ip.1));
        words.push(word(&from_ip.0, from_ip.1));
        if let Some((p, ps)) = &from_port {
            words.push(word("port", *ps));
            words.push(word(p, *ps));
        }
        words.push(word("to", to_ip.1));
        words.push(word(&to_ip.0, to_ip.1));
        if let Some((p, ps)) = &to_port {
            words.push(word("port", *ps));
            words.push(word(p, *ps));
        }
        // `proto any` is every protocol, as no `proto` is.
        if let Some((p, ps)) = proto.filter(|p| p.0 != "any") {
            words.push(word("proto", ps));
            words.push(word(p, ps));
        }
        if let Some((n, ns)) = &app {
            words.push(word("app", *ns));
            words.push(word(n, *ns));
        }
        self.push(ufw(words));
    }

    /// One `firewalld` task.
    pub fn firewalld(&mut self, mut a: Args, guarded: bool) {
        let at = a.action.name_span;
        let s = |a: &mut Args, key: &str| match a.str(&[key]) {
            Got::Known(v, span) => Some((v, span)),
            _ => None,
        };
        let state = s(&mut a, "state").map(|v| v.0).unwrap_or_default();
        let zone = s(&mut a, "zone");
        let service = s(&mut a, "service");
        let port = s(&mut a, "port");
        let source = s(&mut a, "source");
        let rich = s(&mut a, "rich_rule");
        let interface = s(&mut a, "interface");
        let target = s(&mut a, "target");
        let permanent = a
            .bool(&["permanent"], false)
            .known()
            .copied()
            .unwrap_or(false);
        let mut immediate = a
            .bool(&["immediate"], false)
            .known()
            .copied()
            .unwrap_or(false);
        let offline = a
            .bool(&["offline"], false)
            .known()
            .copied()
            .unwrap_or(false);
        let forward = a.value(&["port_forward"]);
        self.note(&a);
        if a.any_unknown() {
            return self.skip(a, "firewalld");
        }
        let span = a.span();
        // "immediate defaults to true if permanent is not enabled".
        if !permanent && !immediate {
            immediate = true;
        }
        let enable = matches!(state.as_str(), "enabled" | "present");
        let mut changes: Vec<Word> = Vec::new();
        let verb = |what: &str| format!("--{}-{what}", if enable { "add" } else { "remove" });
        if let Some((v, vs)) = &service {
            changes.push(word(format!("{}={v}", verb("service")), *vs));
        }
        if let Some((v, vs)) = &port {
            changes.push(word(format!("{}={}", verb("port"), v.trim()), *vs));
        }
        if let Some((v, vs)) = &source {
            changes.push(word(format!("{}={v}", verb("source")), *vs));
        }
        if let Some((v, vs)) = &rich {
            changes.push(word(format!("{}={v}", verb("rich-rule")), *vs));
        }
        if let Some((v, vs)) = &interface {
            changes.push(word(format!("{}={v}", verb("interface")), *vs));
        }
        if let Some((t, ts)) = &target {
            let t = if enable { t.as_str() } else { "default" };
            changes.push(word(format!("--set-target={t}"), *ts));
        }
        if let Got::Known(super::jinja::Value::List(items), fs) = &forward {
            if let Some(f) = items.first() {
                let get = |k: &str| {
                    f.get(k)
                        .map(super::jinja::Value::to_text)
                        .unwrap_or_default()
                };
                let mut spec = format!(
                    "port={}:proto={}:toport={}",
                    get("port"),
                    get("proto"),
                    get("toport")
                );
                let to = get("toaddr");
                if !to.is_empty() {
                    spec.push_str(&format!(":toaddr={to}"));
                }
                changes.push(word(format!("{}={spec}", verb("forward-port")), *fs));
            }
        }
        if changes.is_empty() {
            return;
        }
        let opens =
            enable && (target.is_none() || target.as_ref().is_some_and(|t| t.0 == "ACCEPT"));
        if guarded && !opens {
            return;
        }
        let program = if offline && permanent {
            "firewall-offline-cmd"
        } else {
            "firewall-cmd"
        };
        let mut runs: Vec<bool> = Vec::new();
        if permanent {
            runs.push(true);
        }
        if immediate && !(offline && permanent) {
            runs.push(false);
        }
        for perm in runs {
            let mut argv = vec![word(program, at)];
            if let Some((z, zs)) = &zone {
                argv.push(word(format!("--zone={z}"), *zs));
            }
            if perm && program == "firewall-cmd" {
                argv.push(word("--permanent", at));
            }
            argv.extend(changes.iter().cloned());
            self.push(Command::plain(argv, span));
        }
    }
}

/// `construct_rule` of ansible-core 2.19's iptables module, word for word.
fn construct_rule(a: &mut Args, ip_version: &str) -> Vec<Word> {
    let mut rule: Vec<Word> = Vec::new();
    let at = a.action.name_span;
    let get = |a: &mut Args, key: &str| match a.str(&[key]) {
        Got::Known(v, span) => Some((v, span)),
        _ => None,
    };
    let list = |a: &mut Args, key: &str| match a.list(&[key]) {
        Got::Known(v, span) => (v, span),
        _ => (Vec::new(), at),
    };
    fn param(rule: &mut Vec<Word>, p: &Option<(String, Span)>, flag: &str) {
        if let Some((v, span)) = p {
            match v.strip_prefix('!') {
                Some(rest) => rule.extend([word("!", *span), word(flag, *span), word(rest, *span)]),
                None => rule.extend([word(flag, *span), word(v, *span)]),
            }
        }
    }
    fn csv(rule: &mut Vec<Word>, (items, span): &(Vec<String>, Span), flag: &str) {
        if !items.is_empty() {
            rule.extend([word(flag, *span), word(items.join(","), *span)]);
        }
    }
    fn matched(rule: &mut Vec<Word>, on: bool, name: &str, span: Span) {
        if on {
            rule.extend([word("-m", span), word(name, span)]);
        }
    }
    let protocol = get(a, "protocol");
    let source = get(a, "source");
    let destination = get(a, "destination");
    let matches = list(a, "match");
    let mut jump = get(a, "jump");
    let gateway = get(a, "gateway");
    let log_prefix = get(a, "log_prefix");
    let log_level = get(a, "log_level");
    let to_destination = get(a, "to_destination");
    let destination_ports = list(a, "destination_ports");
    let to_source = get(a, "to_source");
    let goto = get(a, "goto");
    let in_interface = get(a, "in_interface");
    let out_interface = get(a, "out_interface");
    let fragment = get(a, "fragment");
    let set_counters = get(a, "set_counters");
    let source_port = get(a, "source_port");
    let destination_port = get(a, "destination_port");
    let to_ports = get(a, "to_ports");
    let set_dscp_mark = get(a, "set_dscp_mark");
    let set_dscp_mark_class = get(a, "set_dscp_mark_class");
    let syn = get(a, "syn");
    let ctstate = list(a, "ctstate");
    let src_range = get(a, "src_range");
    let dst_range = get(a, "dst_range");
    let match_set = get(a, "match_set");
    let match_set_flags = get(a, "match_set_flags");
    let limit = get(a, "limit");
    let limit_burst = get(a, "limit_burst");
    let uid_owner = get(a, "uid_owner");
    let gid_owner = get(a, "gid_owner");
    let reject_with = get(a, "reject_with");
    let icmp_type = get(a, "icmp_type");
    let comment = get(a, "comment");
    let tcp_flags = a.value(&["tcp_flags"]);
    // main(): logging options imply the LOG target.
    if jump.is_none() && (log_prefix.is_some() || log_level.is_some()) {
        jump = Some(("LOG".into(), at));
    }
    let has = |m: &str| matches.0.iter().any(|x| x == m);
    param(&mut rule, &protocol, "-p");
    param(&mut rule, &source, "-s");
    param(&mut rule, &destination, "-d");
    for m in &matches.0 {
        param(&mut rule, &Some((m.clone(), matches.1)), "-m");
    }
    if let Got::Known(flags, span) = &tcp_flags {
        let joined = |k: &str| match flags.get(k) {
            Some(super::jinja::Value::List(items)) => Some(
                items
                    .iter()
                    .map(super::jinja::Value::to_text)
                    .collect::<Vec<_>>()
                    .join(","),
            ),
            _ => None,
        };
        if let (Some(f), Some(s)) = (joined("flags"), joined("flags_set")) {
            rule.extend([word("--tcp-flags", *span), word(f, *span), word(s, *span)]);
        }
    }
    param(&mut rule, &jump, "-j");
    if jump
        .as_ref()
        .is_some_and(|j| j.0.eq_ignore_ascii_case("tee"))
    {
        param(&mut rule, &gateway, "--gateway");
    }
    param(&mut rule, &log_prefix, "--log-prefix");
    param(&mut rule, &log_level, "--log-level");
    param(&mut rule, &to_destination, "--to-destination");
    matched(
        &mut rule,
        !destination_ports.0.is_empty(),
        "multiport",
        destination_ports.1,
    );
    csv(&mut rule, &destination_ports, "--dports");
    param(&mut rule, &to_source, "--to-source");
    param(&mut rule, &goto, "-g");
    param(&mut rule, &in_interface, "-i");
    param(&mut rule, &out_interface, "-o");
    param(&mut rule, &fragment, "-f");
    param(&mut rule, &set_counters, "-c");
    param(&mut rule, &source_port, "--source-port");
    param(&mut rule, &destination_port, "--destination-port");
    param(&mut rule, &to_ports, "--to-ports");
    param(&mut rule, &set_dscp_mark, "--set-dscp");
    let jump_is_dscp = jump
        .as_ref()
        .is_some_and(|j| j.0.eq_ignore_ascii_case("dscp"));
    if let Some((_, s)) = &set_dscp_mark {
        if !jump_is_dscp {
            rule.extend([word("-j", *s), word("DSCP", *s)]);
        }
    }
    param(&mut rule, &set_dscp_mark_class, "--set-dscp-class");
    if let Some((_, s)) = &set_dscp_mark_class {
        if !jump_is_dscp {
            rule.extend([word("-j", *s), word("DSCP", *s)]);
        }
    }
    match &syn {
        Some((v, s)) if v == "match" => rule.push(word("--syn", *s)),
        Some((v, s)) if v == "negate" => rule.extend([word("!", *s), word("--syn", *s)]),
        _ => {}
    }
    if has("conntrack") {
        csv(&mut rule, &ctstate, "--ctstate");
    } else if has("state") {
        csv(&mut rule, &ctstate, "--state");
    } else if !ctstate.0.is_empty() {
        matched(&mut rule, true, "conntrack", ctstate.1);
        csv(&mut rule, &ctstate, "--ctstate");
    }
    if has("iprange") {
        param(&mut rule, &src_range, "--src-range");
        param(&mut rule, &dst_range, "--dst-range");
    } else if let Some((_, s)) = src_range.as_ref().or(dst_range.as_ref()) {
        matched(&mut rule, true, "iprange", *s);
        param(&mut rule, &src_range, "--src-range");
        param(&mut rule, &dst_range, "--dst-range");
    }
    if has("set") || match_set.is_some() {
        if !has("set") {
            if let Some((_, s)) = &match_set {
                matched(&mut rule, true, "set", *s);
            }
        }
        param(&mut rule, &match_set, "--match-set");
        if let Some((f, s)) = &match_set_flags {
            rule.push(word(f, *s));
        }
    }
    if let Some((_, s)) = limit.as_ref().or(limit_burst.as_ref()) {
        matched(&mut rule, true, "limit", *s);
    }
    param(&mut rule, &limit, "--limit");
    param(&mut rule, &limit_burst, "--limit-burst");
    for (owner, flag) in [(&uid_owner, "--uid-owner"), (&gid_owner, "--gid-owner")] {
        if let Some((_, s)) = owner {
            matched(&mut rule, true, "owner", *s);
        }
        param(&mut rule, owner, flag);
    }
    if jump.is_none() {
        if let Some((_, s)) = &reject_with {
            rule.extend([word("-j", *s), word("REJECT", *s)]);
        }
        for (_, s) in [&set_dscp_mark_class, &set_dscp_mark].into_iter().flatten() {
            rule.extend([word("-j", *s), word("DSCP", *s)]);
        }
    }
    param(&mut rule, &reject_with, "--reject-with");
    let icmp_flag = if ip_version == "ipv6" {
        "--icmpv6-type"
    } else {
        "--icmp-type"
    };
    param(&mut rule, &icmp_type, icmp_flag);
    if let Some((_, s)) = &comment {
        matched(&mut rule, true, "comment", *s);
    }
    param(&mut rule, &comment, "--comment");
    rule
}
