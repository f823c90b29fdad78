//! The PowerShell cmdlets that configure IIS FTP and the Windows Firewall,
//! read from the commands [`crate::scripts::ps`] says a script runs:
//! New-/Remove-/Enable-/Disable-/Set-NetFirewallRule, Set-NetFirewallProfile,
//! Set-NetConnectionProfile, Set-WebConfigurationProperty, Set-WebConfiguration,
//! Set-IISConfigAttributeValue, New-WebFtpSite; native `netsh`, `appcmd`,
//! `cscript` go to the commands batch files share. Parameters bind as
//! PowerShell binds them, by unique prefix (`-Dir` is `-Direction`).

use super::Site;
use super::commands::{self, data_channel_port};
use super::swap_range::ReversedRange;
use super::{Arg, Effects, IisSetting, LoopValues, Loops, RULE_FW_MALFORMED, UNKNOWN, is_unknown};
use crate::facts::{Profile, Uncertainty};
use crate::formats::regfile::{admits_ftp_service, names_ftp_service};
use crate::formats::winfw::{
    Change, Direction, Finding, LocalPorts, ProfileSet, Protocol, Remote, RuleAction, RuleEdit,
    RuleFilter, WinRule, parse_port_list, reversed_range_swapped,
};
use crate::portset::PortSet;
use crate::scripts::{self, Command, Outcome, Word};
use crate::source::{SourceFile, Span};
use std::collections::{HashMap, HashSet};

/// Runs the script and reads each command it runs into `fx`.
pub fn read(source: &SourceFile, fx: &mut Effects) -> Outcome {
    let mut reader = Reader {
        source,
        fx,
        reported: HashSet::new(),
        pending: None,
        rules: RuleMerger::default(),
    };
    let (outcome, errors) = scripts::ps::run_with_errors(source, &mut |cmd| {
        reader.take(&cmd);
        scripts::Status::Unknown
    });
    reader.flush();
    for e in errors {
        reader.failed_statement(e);
    }
    outcome
}

struct Reader<'a> {
    source: &'a SourceFile,
    fx: &'a mut Effects,
    /// Findings made so far, by rule and span: a command a loop repeats is reported once.
    reported: HashSet<(&'static str, Span)>,
    /// The iterations so far of a native command a loop repeats.
    pending: Option<Repeated>,
    rules: RuleMerger,
}

/// One native command line run by each iteration of a loop, read as one
/// command over the loop's values (as the batch reader reads `FOR` loops):
/// `netsh firewall add portopening TCP $p` over 5000..5010 is one opening of
/// 5000-5010, with one finding.
struct Repeated {
    site: Site,
    iterations: Vec<Vec<Arg>>,
}

/// Iterations of one repeated command kept before they are read.
const MAX_ITERATIONS: usize = 16_384;

/// Native programs whose command lines [`commands::run`] reads.
const NATIVE: &[&str] = &[
    "netsh", "appcmd", "cscript", "wscript", "adsutil", "ipseccmd", "ipsecpol",
];

impl Reader<'_> {
    fn take(&mut self, cmd: &Command) {
        let Some((program, first)) = cmd.program() else {
            return;
        };
        let name = commands::program_name(program.written);
        let site = Site {
            command: cmd.span,
            statement: cmd.span,
            in_loop: cmd.repeated,
        };
        let args = cmd.argv.get(first..).unwrap_or(&[]);
        let native = NATIVE.contains(&name.as_str());
        if native && cmd.repeated {
            let args = self.native_args(cmd.argv.get(first - 1..).unwrap_or(&[]));
            match &mut self.pending {
                Some(p) if p.site.command == cmd.span && p.iterations.len() < MAX_ITERATIONS => {
                    p.iterations.push(args)
                }
                _ => {
                    self.flush();
                    self.pending = Some(Repeated {
                        site,
                        iterations: vec![args],
                    });
                }
            }
            return;
        }
        self.flush();
        let findings = self.fx.findings.len();
        let changes = self.fx.firewall.len();
        if native {
            let native = self.native_args(cmd.argv.get(first - 1..).unwrap_or(&[]));
            commands::run(&native, &Loops::default(), site, self.fx);
        } else {
            let bound = Bound::new(args, self.source);
            if bound
                .get("whatif")
                .is_some_and(|(w, _)| !w.text.eq_ignore_ascii_case("false"))
            {
                return;
            }
            let piped = match &cmd.stdin {
                Some(scripts::Input::Piped(argv)) => Some(argv.as_slice()),
                _ => None,
            };
            cmdlet(&name, &Call { b: &bound, piped }, site, self.fx);
        }
        self.once_per_span(findings, cmd.repeated);
        self.rules
            .after(&mut self.fx.firewall, changes, cmd.span, cmd.repeated);
    }

    /// Runs the iterations of a repeated native command: as one command over
    /// the loop's values when they differ in one value only, else one by one.
    fn flush(&mut self) {
        let Some(p) = self.pending.take() else {
            return;
        };
        let findings = self.fx.findings.len();
        match template(&p.iterations, self.source) {
            Some((args, loops)) => commands::run(&args, &loops, p.site, self.fx),
            None => {
                for args in &p.iterations {
                    let from = self.fx.findings.len();
                    commands::run(args, &Loops::default(), p.site, self.fx);
                    self.once_per_span(from, true);
                }
            }
        }
        self.once_per_span(findings, true);
    }

    /// PowerShell passes `-name:value` to a native program as one argument, and
    /// each element of an array as an argument of its own.
    fn native_args(&mut self, words: &[Word]) -> Vec<Arg> {
        self.fx.unknown_words.extend(
            words
                .iter()
                .filter_map(|w| Some((w.span, w.unknown.clone()?))),
        );
        let mut out: Vec<Arg> = Vec::new();
        let mut k = 0;
        while let Some(w) = words.get(k) {
            k += 1;
            let glued = words.get(k).filter(|v| {
                is_parameter(w, self.source)
                    && v.span.start == w.span.end + 1
                    && self.source.text.as_bytes().get(w.span.end as usize) == Some(&b':')
            });
            if let Some(v) = glued {
                k += 1;
                out.push(Arg {
                    text: format!("{}:{}", w.text, v.text),
                    span: w.span.to(v.span),
                });
                continue;
            }
            match &w.items {
                Some(items) => out.extend(items.iter().map(|i| Arg {
                    text: i.clone(),
                    span: w.span,
                })),
                None => out.push(Arg {
                    text: w.text.clone(),
                    span: w.span,
                }),
            }
        }
        out
    }

    /// Keeps the findings made since `from` that were not made at the same
    /// place before, when the command runs more than once.
    fn once_per_span(&mut self, from: usize, repeated: bool) {
        let mut k = from;
        while k < self.fx.findings.len() {
            let f = &self.fx.findings[k];
            let fresh = self.reported.insert((f.rule, f.span));
            if !fresh && repeated {
                self.fx.findings.remove(k);
            } else {
                k += 1;
            }
        }
    }

    /// A statement PowerShell stops with an error: a firewall cmdlet in it never runs.
    fn failed_statement(&mut self, e: scripts::ps::ScriptError) {
        let line = self.source.line_range(self.source.line_col(e.span.start).0);
        let text = self
            .source
            .text
            .get(line)
            .unwrap_or("")
            .to_ascii_lowercase();
        if !text.contains("netfirewallrule") {
            return;
        }
        if self.reported.insert((RULE_FW_MALFORMED, e.span)) {
            reject(
                self.fx,
                e.span,
                format!(
                    "{}; the firewall rule of this statement is never created",
                    e.message
                ),
            );
        }
    }
}

/// The iterations of one command line as one line over a loop variable:
/// each argument that differs between iterations is a common prefix, the
/// loop's value, and a common suffix; every such argument must carry the
/// same value in an iteration.
fn template(iterations: &[Vec<Arg>], source: &SourceFile) -> Option<(Vec<Arg>, Loops)> {
    let first = iterations.first()?;
    if iterations.len() < 2 || iterations.iter().any(|it| it.len() != first.len()) {
        return None;
    }
    let mut values: Option<Vec<String>> = None;
    let mut shape: Vec<Option<(String, String)>> = Vec::new();
    let mut display = "…".to_owned();
    for (k, arg) in first.iter().enumerate() {
        let texts: Vec<&str> = iterations.iter().map(|it| it[k].text.as_str()).collect();
        if texts.iter().all(|t| *t == arg.text) {
            shape.push(None);
            continue;
        }
        let (pre, suf) = affixes(&texts);
        let middles: Vec<String> = texts
            .iter()
            .map(|t| t[pre..t.len() - suf].to_owned())
            .collect();
        match &values {
            Some(v) if *v != middles => return None,
            Some(_) => {}
            None => {
                let written = source.slice(arg.span);
                if written.starts_with('$')
                    && written[1..]
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_')
                {
                    display = written.to_owned();
                }
                values = Some(middles);
            }
        }
        shape.push(Some((
            arg.text[..pre].to_owned(),
            arg.text[arg.text.len() - suf..].to_owned(),
        )));
    }
    let mut loops = Loops::default();
    let marker = loops.push(display, loop_values(values?))?;
    let args = first
        .iter()
        .zip(shape)
        .map(|(arg, s)| match s {
            None => arg.clone(),
            Some((pre, suf)) => Arg {
                text: format!("{pre}{marker}{suf}"),
                span: arg.span,
            },
        })
        .collect();
    Some((args, loops))
}

/// The byte lengths of the prefix and suffix all texts share, at character
/// boundaries, leaving whole numbers in the part that differs (`Passive 5000`
/// and `Passive 5010` differ in `5000`/`5010`, not `00`/`10`).
fn affixes(texts: &[&str]) -> (usize, usize) {
    let first = texts.first().copied().unwrap_or("");
    let shortest = texts.iter().map(|t| t.len()).min().unwrap_or(0);
    let mut pre = texts.iter().fold(first.len(), |n, t| {
        n.min(
            first
                .bytes()
                .zip(t.bytes())
                .take_while(|(a, b)| a == b)
                .count(),
        )
    });
    while !first.is_char_boundary(pre) || (pre > 0 && first.as_bytes()[pre - 1].is_ascii_digit()) {
        pre -= 1;
    }
    let mut suf = texts.iter().fold(first.len(), |n, t| {
        n.min(
            first
                .bytes()
                .rev()
                .zip(t.bytes().rev())
                .take_while(|(a, b)| a == b)
                .count(),
        )
    });
    suf = suf.min(shortest - pre);
    while suf > 0
        && (!first.is_char_boundary(first.len() - suf)
            || first.as_bytes()[first.len() - suf].is_ascii_digit())
    {
        suf -= 1;
    }
    (pre, suf)
}

/// The values as a progression when they are one (`5000..5010`), else a list.
fn loop_values(values: Vec<String>) -> LoopValues {
    let numbers: Option<Vec<i64>> = values.iter().map(|v| v.parse().ok()).collect();
    if let Some(n) = numbers.filter(|n| n.len() >= 2) {
        let step = n[1].checked_sub(n[0]);
        if let Some(step) = step.filter(|s| *s != 0)
            && n.windows(2).all(|w| w[1].checked_sub(w[0]) == Some(step))
        {
            return LoopValues::Progression {
                start: n[0],
                step,
                end: n[n.len() - 1],
            };
        }
    }
    LoopValues::List(values)
}

/// Rules one command of a loop adds, kept apart by name up to this many;
/// past it, they are one rule (a loop of 65,535 named rules is one range).
const MAX_NAMED_RULES: usize = 256;

/// The rules a loop adds from one command, that differ only in their ports,
/// are one rule over all those ports: the earlier rule takes the new one's
/// ports when nothing but additions came between them.
#[derive(Default)]
struct RuleMerger {
    /// Per command: the index of its last rule and how many it added.
    last: HashMap<Span, (usize, usize)>,
    /// Changes before this index are behind a removal or another change.
    barrier: usize,
}

impl RuleMerger {
    fn after(&mut self, changes: &mut Vec<Change>, from: usize, span: Span, repeated: bool) {
        if changes[from.min(changes.len())..]
            .iter()
            .any(|c| !matches!(c, Change::Add(_)))
        {
            self.barrier = changes.len();
            return;
        }
        if !repeated || changes.len() != from + 1 {
            return;
        }
        let entry = self.last.entry(span).or_insert((from, 0));
        entry.1 += 1;
        let (at, count) = *entry;
        if at == from || at < self.barrier || !merge_into(changes, at, count > MAX_NAMED_RULES) {
            *entry = (from, count);
        }
    }
}

/// Moves the last rule's ports into rule `at` when the two are the same
/// rule otherwise (the name aside when `any_name`).
fn merge_into(changes: &mut Vec<Change>, at: usize, any_name: bool) -> bool {
    let (Some(Change::Add(prev)), Some(Change::Add(new))) = (changes.get(at), changes.last())
    else {
        return false;
    };
    let (LocalPorts::Set(a), LocalPorts::Set(b)) = (&prev.local_ports, &new.local_ports) else {
        return false;
    };
    let same = WinRule {
        local_ports: LocalPorts::Set(a.clone()),
        name: if any_name {
            prev.name.clone()
        } else {
            new.name.clone()
        },
        ..new.clone()
    };
    if same != *prev {
        return false;
    }
    let ports = a.union(b);
    changes.pop();
    if let Some(Change::Add(prev)) = changes.get_mut(at) {
        prev.local_ports = LocalPorts::Set(ports);
    }
    true
}

/// `-Name` as written, or from a splatted `@params` (not a string or a
/// variable whose value starts with a dash).
fn is_parameter(w: &Word, source: &SourceFile) -> bool {
    let mut chars = w.text.chars();
    chars.next() == Some('-')
        && chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && source.slice(w.span).starts_with(['-', '@'])
}

/// A cmdlet's arguments, matched to parameters by unique prefix as PowerShell binds them.
struct Bound<'a> {
    /// The parameter (lower-cased, without `-`) and its value; a switch has none.
    args: Vec<(Option<String>, Option<&'a Word>)>,
    source: &'a SourceFile,
}

impl<'a> Bound<'a> {
    fn new(words: &'a [Word], source: &'a SourceFile) -> Self {
        let mut args: Vec<(Option<String>, Option<&'a Word>)> = Vec::new();
        for w in words {
            if is_parameter(w, source) {
                args.push((Some(w.text[1..].to_ascii_lowercase()), None));
                continue;
            }
            match args.last_mut() {
                Some((Some(_), value @ None)) => *value = Some(w),
                _ => args.push((None, Some(w))),
            }
        }
        Bound { args, source }
    }

    /// The value of parameter `name` (full lower-case name), by the prefix written.
    fn get(&self, name: &str) -> Option<(&'a Word, Span)> {
        self.args.iter().rev().find_map(|(p, v)| {
            let p = p.as_deref()?;
            if p.is_empty() || !name.starts_with(p) {
                return None;
            }
            let w = (*v).unwrap_or(&SWITCH);
            Some((w, w.span))
        })
    }

    fn positional(&self, k: usize) -> Option<(&'a Word, Span)> {
        self.args
            .iter()
            .filter(|(p, _)| p.is_none())
            .nth(k)
            .and_then(|(_, v)| *v)
            .map(|w| (w, w.span))
    }

    fn text(&self, name: &str) -> Option<String> {
        self.get(name).map(|(w, _)| w.text.clone())
    }

    /// `$true`/`$false` written where the parameter takes a string.
    fn is_boolean(&self, w: &Word) -> bool {
        let written = self.source.slice(w.span);
        written.starts_with('$') && (w.text == "True" || w.text == "False")
    }
}

/// The value of a switch given without one.
static SWITCH: Word = Word {
    text: String::new(),
    span: Span {
        file: crate::source::FileId(0),
        start: 0,
        end: 0,
    },
    unknown: None,
    items: None,
};

fn items(w: &Word) -> Vec<String> {
    w.items.clone().unwrap_or_else(|| vec![w.text.clone()])
}

/// A cmdlet's own arguments, and the command piped into it.
struct Call<'a, 'b> {
    b: &'a Bound<'b>,
    piped: Option<&'a [Word]>,
}

fn cmdlet(program: &str, call: &Call, site: Site, fx: &mut Effects) {
    let b = call.b;
    match program {
        "new-netfirewallrule" => {
            if let Some(rule) = new_rule(b, site, fx) {
                fx.firewall.push(Change::Add(rule));
            }
        }
        "remove-netfirewallrule" => match targets(call, fx, site) {
            Some(Targets::Rules(filter)) => fx.firewall.push(Change::Delete(filter)),
            Some(Targets::Group(g)) => commands::group_change(&g, false, site.statement, fx),
            None => {}
        },
        "enable-netfirewallrule" | "disable-netfirewallrule" => {
            let enabled = program.starts_with("enable");
            match targets(call, fx, site) {
                Some(Targets::Rules(filter)) => {
                    fx.firewall.push(Change::SetEnabled { filter, enabled });
                }
                Some(Targets::Group(g)) => {
                    commands::group_change(&g, enabled, site.statement, fx);
                }
                None => {}
            }
        }
        "set-netfirewallrule" => match targets(call, fx, site) {
            Some(Targets::Rules(filter)) => {
                if let Some(edit) = rule_edit(b, site, fx) {
                    fx.firewall.push(Change::Edit { filter, edit });
                }
            }
            Some(Targets::Group(g)) => {
                let enables = rule_edit(b, site, fx).is_some_and(|e| e.enabled == Some(true));
                commands::group_change(&g, enables, site.statement, fx);
            }
            None => {}
        },
        "set-netfirewallprofile" => profile(b, site, fx),
        "set-netfirewallsetting" => {
            if let Some(v) = b.text("enablestatefulftp") {
                let v = v.to_ascii_lowercase();
                if v == "true" || v == "false" {
                    fx.firewall.push(Change::StatefulFtp {
                        on: v == "true",
                        span: site.statement,
                    });
                }
            }
        }
        "set-netconnectionprofile" => connection_profile(b, site, fx),
        "set-webconfigurationproperty" => web_property(b, fx),
        "set-webconfiguration" => web_configuration(b, fx),
        "set-itemproperty" | "new-itemproperty" => item_property(b, fx),
        "set-iisconfigattributevalue" => {
            let (Some(name), Some((value, span))) =
                (b.text("attributename"), b.get("attributevalue"))
            else {
                return;
            };
            let lower = name.to_ascii_lowercase();
            if lower == "lowdatachannelport" || lower == "highdatachannelport" {
                data_channel_port(fx, lower.starts_with("high"), &value.text, span, &name);
            }
        }
        "new-webftpsite" => {
            if let Some((port, span)) = b.get("port") {
                fx.iis.push(IisSetting::ControlPort {
                    iis7: true,
                    site: "1".to_owned(),
                    port: port.text.parse().ok(),
                    span,
                });
            }
        }
        _ => {}
    }
}

const NNFR_HELP: &str = "write New-NetFirewallRule -DisplayName \"Passive FTP\" -Direction Inbound -Protocol TCP -LocalPort 5001-5201 -Action Allow";

fn reject(fx: &mut Effects, span: Span, message: String) {
    fx.findings
        .push(Finding::new(RULE_FW_MALFORMED, span, message, "rejected").help(NNFR_HELP));
    fx.firewall.push(Change::Rejected);
}

fn new_rule(b: &Bound, site: Site, fx: &mut Effects) -> Option<WinRule> {
    let dir = match b.text("direction").map(|d| d.to_ascii_lowercase()) {
        None => Direction::In,
        Some(d) if d == "inbound" => Direction::In,
        Some(d) if d == "outbound" => Direction::Out,
        Some(d) if is_unknown(&d) => return None,
        Some(d) => {
            reject(
                fx,
                b.get("direction").map_or(site.command, |x| x.1),
                format!(
                    "-Direction {d} is not Inbound or Outbound: New-NetFirewallRule rejects it"
                ),
            );
            return None;
        }
    };
    let action = match b.text("action").map(|d| d.to_ascii_lowercase()) {
        None => RuleAction::Allow,
        Some(a) if a == "allow" => RuleAction::Allow,
        Some(a) if a == "block" => RuleAction::Block,
        Some(a) if is_unknown(&a) => return None,
        Some(a) => {
            reject(
                fx,
                b.get("action").map_or(site.command, |x| x.1),
                format!("-Action {a} is not Allow or Block: New-NetFirewallRule rejects it"),
            );
            return None;
        }
    };
    let protocol = match b.text("protocol") {
        None => Protocol::Any,
        Some(p) => Protocol::parse(&p).unwrap_or(Protocol::Any),
    };
    let enabled = match b.get("enabled") {
        None => true,
        Some((v, span)) if b.is_boolean(v) => {
            boolean_enabled(b, v, span, "New-NetFirewallRule", fx);
            return None;
        }
        Some((v, _)) => !v.text.to_ascii_lowercase().contains("false"),
    };
    let ports_span = b.get("localport").map(|(_, span)| span);
    let local_ports = match b.get("localport") {
        None => LocalPorts::Any,
        Some((value, span)) => {
            if !matches!(protocol, Protocol::Tcp | Protocol::Udp) {
                reject(fx, span, "-LocalPort needs -Protocol TCP or UDP: New-NetFirewallRule rejects numeric ports without it".to_owned());
                return None;
            }
            ps_ports(value, span, fx)?
        }
    };
    let remote = match b.get("remoteaddress") {
        None => Remote::All,
        Some((v, _)) => Remote::from_list(&v.text),
    };
    let profiles = match b.get("profile") {
        None => ProfileSet::ALL,
        Some((v, _)) if is_unknown(&v.text) => ProfileSet::ALL,
        Some((v, span)) => match ProfileSet::parse_list(&v.text) {
            Some(set) => set,
            None => {
                reject(
                    fx,
                    span,
                    format!(
                        "-Profile {} is not Any, Domain, Private or Public: New-NetFirewallRule rejects it",
                        v.text
                    ),
                );
                return None;
            }
        },
    };
    let name = b.text("displayname").or_else(|| b.text("name"));
    let program = b.text("program");
    let service = b.text("service");
    Some(WinRule {
        name,
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

/// `-Enabled $true`: the parameter is the NetSecurity `Enabled` enum (`True`,
/// `False`), and PowerShell converts a boolean to an enum only through
/// `IConvertible`, which refuses it ("Invalid cast from 'System.Boolean'"), so
/// the argument does not bind and the cmdlet does not run: no rule is created
/// or changed ("$true and $false variables are not acceptable values",
/// New-NetFirewallRule's reference).
fn boolean_enabled(b: &Bound, v: &Word, span: Span, cmdlet: &str, fx: &mut Effects) {
    let written = b.source.slice(span);
    let word = if v.text == "True" { "True" } else { "False" };
    fx.findings.push(
        Finding::new(
            RULE_FW_MALFORMED,
            span,
            format!(
                "-Enabled {written}: the parameter takes the strings True or False, and PowerShell cannot convert a boolean to them, so {cmdlet} does not run"
            ),
            "not True or False",
        )
        .help(format!("write -Enabled {word}"))
        .unsafe_fix(format!("write -Enabled {word}"), vec![(span, word.to_owned())]),
    );
    fx.firewall.push(Change::Rejected);
}

/// What `Set-NetFirewallRule` changes, read as `New-NetFirewallRule` reads the
/// same parameters; `None` when a value is one the cmdlet rejects.
fn rule_edit(b: &Bound, site: Site, fx: &mut Effects) -> Option<RuleEdit> {
    let mut edit = RuleEdit::at(site.statement);
    if let Some((v, span)) = b.get("enabled") {
        if b.is_boolean(v) {
            boolean_enabled(b, v, span, "Set-NetFirewallRule", fx);
            return None;
        }
        edit.enabled = Some(!v.text.to_ascii_lowercase().contains("false"));
    }
    if let Some((value, span)) = b.get("localport") {
        edit.local_ports = Some(ps_ports(value, span, fx)?);
        edit.ports_span = Some(span);
    }
    edit.action = match b.text("action").map(|a| a.to_ascii_lowercase()).as_deref() {
        None => None,
        Some("allow") => Some(RuleAction::Allow),
        Some("block") => Some(RuleAction::Block),
        Some(_) => return None,
    };
    edit.dir = match b
        .text("direction")
        .map(|d| d.to_ascii_lowercase())
        .as_deref()
    {
        None => None,
        Some("inbound") => Some(Direction::In),
        Some("outbound") => Some(Direction::Out),
        Some(_) => return None,
    };
    edit.protocol = b.text("protocol").and_then(|p| Protocol::parse(&p));
    edit.remote = b.text("remoteaddress").map(|r| Remote::from_list(&r));
    edit.profiles = match b.text("profile") {
        None => None,
        Some(p) => Some(ProfileSet::parse_list(&p)?),
    };
    for modelled in ["program", "service", "remoteport", "localaddress"] {
        if b.get(modelled).is_some() {
            fx.firewall.push(Change::Uncertain(Uncertainty {
                span: site.statement,
                what: format!("Set-NetFirewallRule -{modelled} is not modelled"),
            }));
        }
    }
    Some(edit)
}

/// `-LocalPort 21,5000-5100`, `@(...)`, `(5000..5100)`, `Any`: each element a port or a range.
fn ps_ports(value: &Word, span: Span, fx: &mut Effects) -> Option<LocalPorts> {
    let mut set = PortSet::empty();
    for item in items(value) {
        let item = item.trim();
        if item.eq_ignore_ascii_case("any") {
            return Some(LocalPorts::Any);
        }
        if is_unknown(item) {
            return Some(LocalPorts::Unknown(format!(
                "-LocalPort `{}` is not known here",
                value
                    .unknown
                    .as_deref()
                    .unwrap_or(item)
                    .replace(UNKNOWN, "…")
            )));
        }
        if item.chars().next().is_some_and(|c| c.is_ascii_alphabetic()) {
            return Some(LocalPorts::Unknown(format!(
                "-LocalPort {item} is a dynamic keyword"
            )));
        }
        if !item.is_empty() && item.bytes().all(|c| c.is_ascii_digit()) {
            match item.parse::<u16>() {
                Ok(p) => {
                    set.insert_range(p, p);
                    continue;
                }
                Err(_) => {
                    reject(
                        fx,
                        span,
                        format!(
                            "-LocalPort {item} is not a port in 0-65535: New-NetFirewallRule rejects it"
                        ),
                    );
                    return None;
                }
            }
        }
        match parse_port_list(item) {
            Ok(p) => set = set.union(&p),
            Err(why) => {
                let message = format!("-LocalPort {item}: {why}: New-NetFirewallRule rejects it");
                match reversed_range_swapped(&value.text).filter(|_| value.is_known()) {
                    Some(swapped) => {
                        let help =
                            format!("write -LocalPort {swapped}: a range is written low-high");
                        fx.findings.push(
                            Finding::new(RULE_FW_MALFORMED, span, message, "rejected").help(help),
                        );
                        fx.reversed_ranges.push(ReversedRange {
                            span,
                            value: value.text.clone(),
                        });
                    }
                    None => reject(fx, span, message),
                }
                return None;
            }
        }
    }
    Some(LocalPorts::Set(set))
}

/// The rules a `Set-`, `Enable-`, `Disable-` or `Remove-NetFirewallRule` acts on.
enum Targets {
    Rules(RuleFilter),
    /// `-DisplayGroup 'FTP Server'` / `-Group`: rules the repository may not hold.
    Group(String),
}

/// The rules named by the cmdlet's own `-DisplayName`/`-Name`/`-DisplayGroup`,
/// or, with none, by the `Get-NetFirewallRule` piped into it
/// (`Get-NetFirewallRule -DisplayName FTP | Enable-NetFirewallRule`: the rules
/// it writes are the ones the cmdlet changes).
fn targets(call: &Call, fx: &mut Effects, site: Site) -> Option<Targets> {
    let names = |b: &Bound| {
        b.get("displayname").is_some() || b.get("name").is_some() || b.positional(0).is_some()
    };
    if let Some(g) = group(call.b) {
        return Some(Targets::Group(g));
    }
    if names(call.b) {
        return name_filter(call.b, fx, site).map(Targets::Rules);
    }
    let argv = call.piped?;
    let (program, rest) = argv.split_first()?;
    if !program.text.eq_ignore_ascii_case("get-netfirewallrule") {
        fx.firewall.push(Change::Uncertain(Uncertainty {
            span: site.statement,
            what: format!("the rules {} writes are not known here", program.text),
        }));
        return None;
    }
    let upstream = Bound::new(rest, call.b.source);
    if let Some(g) = group(&upstream) {
        return Some(Targets::Group(g));
    }
    if !names(&upstream) {
        fx.firewall.push(Change::Uncertain(Uncertainty {
            span: site.statement,
            what: "Get-NetFirewallRule without -DisplayName or -Name: which rules it writes is not modelled".to_owned(),
        }));
        return None;
    }
    name_filter(&upstream, fx, site).map(Targets::Rules)
}

/// `-DisplayGroup` or `-Group`, as written.
fn group(b: &Bound) -> Option<String> {
    b.text("displaygroup").or_else(|| b.text("group"))
}

fn name_filter(b: &Bound, fx: &mut Effects, site: Site) -> Option<RuleFilter> {
    let name = b
        .text("displayname")
        .or_else(|| b.text("name"))
        .or_else(|| b.positional(0).map(|(v, _)| v.text.clone()))?;
    if is_unknown(&name) {
        fx.firewall.push(Change::Uncertain(Uncertainty {
            span: site.statement,
            what: "rule name not known here".to_owned(),
        }));
        return None;
    }
    Some(RuleFilter {
        name: Some(name),
        dir: None,
        protocol: None,
        local_ports: None,
    })
}

/// `Set-NetFirewallProfile -All|-Profile Domain,Private,Public -Enabled False -DefaultInboundAction Allow`.
fn profile(b: &Bound, site: Site, fx: &mut Effects) {
    let listed = b.text("profile").unwrap_or_default();
    let profiles = if b.get("all").is_some() {
        Some(ProfileSet::ALL)
    } else {
        ProfileSet::parse_list(&listed)
    };
    let Some(profiles) = profiles else {
        fx.firewall.push(Change::Uncertain(Uncertainty {
            span: site.statement,
            what: format!("profile `{listed}` is not known here"),
        }));
        return;
    };
    let span = site.statement;
    if let Some((v, at)) = b.get("enabled").filter(|(v, _)| b.is_boolean(v)) {
        // -Enabled is the GpoBoolean enum (True, False, NotConfigured).
        boolean_enabled(b, v, at, "Set-NetFirewallProfile", fx);
        return;
    }
    if let Some(e) = b.text("enabled") {
        fx.firewall.push(Change::State {
            on: !e.to_ascii_lowercase().contains("false"),
            profiles,
            span,
        });
    }
    let inbound = b
        .text("defaultinboundaction")
        .map(|a| a.to_ascii_lowercase());
    if let Some(a) = inbound.filter(|a| a == "allow" || a == "block") {
        fx.firewall.push(Change::InboundAllow {
            allow: a == "allow",
            profiles,
            span,
        });
    }
}

/// `Set-NetConnectionProfile -NetworkCategory Private`: the network, and so the
/// firewall profile, the host is on.
fn connection_profile(b: &Bound, site: Site, fx: &mut Effects) {
    let category = b.text("networkcategory").unwrap_or_default();
    let profile = match category.to_ascii_lowercase().as_str() {
        "public" => Profile::Public,
        "private" => Profile::Private,
        "domainauthenticated" => Profile::Domain,
        _ => return,
    };
    fx.firewall.push(Change::HostProfile {
        profile,
        span: site.statement,
    });
}

fn section_of(b: &Bound) -> String {
    b.text("filter")
        .or_else(|| b.positional(0).map(|(v, _)| v.text.clone()))
        .unwrap_or_default()
        .trim_start_matches('/')
        .to_ascii_lowercase()
}

/// `Set-WebConfigurationProperty -Filter "system.ftpServer/firewallSupport" -Name lowDataChannelPort -Value 5000`.
fn web_property(b: &Bound, fx: &mut Effects) {
    let section = section_of(b);
    let name = b
        .text("name")
        .or_else(|| b.positional(2).map(|(v, _)| v.text.clone()))
        .unwrap_or_default();
    let Some((value, span)) = b.get("value") else {
        return;
    };
    let lower = name.to_ascii_lowercase();
    if section == "system.ftpserver/firewallsupport" && lower.ends_with("datachannelport") {
        data_channel_port(fx, lower.starts_with("high"), &value.text, span, &name);
    } else if section.contains("ftpserver/connections") && lower == "maxconnections" {
        fx.iis.push(IisSetting::MaxConnections {
            iis7: true,
            site: None,
            value: value.text.parse().ok(),
            span,
        });
    }
}

/// `Set-ItemProperty "IIS:\Sites\FTP" -Name bindings -Value @{protocol="ftp";bindingInformation="*:2121:"}`.
fn item_property(b: &Bound, fx: &mut Effects) {
    let arg = |name: &str, k: usize| b.get(name).or_else(|| b.positional(k));
    let Some((path, _)) = arg("path", 0) else {
        return;
    };
    let is_site = path.text.to_ascii_lowercase().starts_with("iis:\\sites\\");
    let is_bindings = arg("name", 1).is_some_and(|(n, _)| n.text.eq_ignore_ascii_case("bindings"));
    let Some((value, span)) = arg("value", 2).filter(|_| is_site && is_bindings) else {
        return;
    };
    let entries = items(value);
    let field = |key: &str| {
        entries.iter().find_map(|e| {
            let (k, v) = e.split_once('=')?;
            k.eq_ignore_ascii_case(key).then_some(v)
        })
    };
    if !field("protocol").is_some_and(|p| p.eq_ignore_ascii_case("ftp")) {
        return;
    }
    let port = field("bindinginformation").and_then(|info| info.split(':').nth(1)?.parse().ok());
    fx.iis.push(IisSetting::ControlPort {
        iis7: true,
        site: "1".to_owned(),
        port,
        span,
    });
}

/// `Set-WebConfiguration "/system.ftpServer/firewallSupport" -Value @{lowDataChannelPort="5000";highDataChannelPort="6000"}`.
fn web_configuration(b: &Bound, fx: &mut Effects) {
    if section_of(b) != "system.ftpserver/firewallsupport" {
        return;
    }
    let Some((value, span)) = b.get("value") else {
        return;
    };
    // A hashtable argument's entries are `key=value` items.
    for entry in items(value) {
        let Some((key, v)) = entry.split_once('=') else {
            continue;
        };
        let lower = key.to_ascii_lowercase();
        if lower == "lowdatachannelport" || lower == "highdatachannelport" {
            data_channel_port(fx, lower.starts_with("high"), v, span, &lower);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FileId;

    fn effects(script: &str) -> Effects {
        let src = SourceFile::new(FileId(0), "x.ps1", script.as_bytes());
        let mut fx = Effects::default();
        let _ = read(&src, &mut fx);
        fx
    }

    fn ports(fx: &Effects) -> Vec<String> {
        super::super::test_support::added_ports(fx)
    }

    #[test]
    fn new_netfirewallrule_forms() {
        let fx = effects(
            "New-NetFirewallRule -DisplayName \"FTP\" -Direction Inbound -Protocol TCP -LocalPort 21,5000-5100 -Action Allow\n\
             New-NetFirewallRule -DisplayName 'x' `\n  -Protocol TCP -LocalPort @(\"990\", \"6000-6010\") -Enabled False\n\
             $ports = 7000..7010\nNew-NetFirewallRule -DisplayName y -Protocol TCP -LocalPort $ports -RemoteAddress LocalSubnet\n",
        );
        assert_eq!(
            ports(&fx),
            vec!["21,5000-5100", "990,6000-6010", "7000-7010"]
        );
        let Change::Add(r) = &fx.firewall[1] else {
            panic!()
        };
        assert!(!r.enabled);
        let Change::Add(r) = &fx.firewall[2] else {
            panic!()
        };
        assert_eq!(r.remote, Remote::Some("LocalSubnet".into()));
    }

    #[test]
    fn parameters_bind_by_unique_prefix_and_splatting() {
        let fx = effects(
            "$r = @{ DisplayName = 'FTP'; Dir = 'Outbound'; Protocol = 'TCP'; LocalPort = 21 }\nNew-NetFirewallRule @r\n\
             New-NetFirewallRule -Displ:'P' -Proto TCP -LocalPort:5000 -Act Block\n",
        );
        let Change::Add(r) = &fx.firewall[0] else {
            panic!()
        };
        assert_eq!(r.dir, Direction::Out);
        let Change::Add(r) = &fx.firewall[1] else {
            panic!()
        };
        assert_eq!(r.action, RuleAction::Block);
        assert_eq!(ports(&fx), vec!["21", "5000"]);
    }

    #[test]
    fn loops_are_port_sets() {
        let fx = effects(
            "foreach ($p in 5001..5201) { New-NetFirewallRule -DisplayName \"Passive\" -Protocol TCP -LocalPort $p }\n\
             5300..5310 | ForEach-Object { netsh advfirewall firewall add rule name=\"P\" dir=in action=allow protocol=TCP localport=$_ }\n\
             for ($i = 6000; $i -lt 6010; $i++) { New-NetFirewallRule -DisplayName z -Protocol TCP -LocalPort $i }\n\
             for ($i = 7010; $i -ge 7000; $i -= 5) { New-NetFirewallRule -DisplayName w -Protocol TCP -LocalPort $i }\n",
        );
        assert_eq!(
            ports(&fx),
            vec!["5001-5201", "5300-5310", "6000-6009", "7000,7005,7010"]
        );
    }

    #[test]
    fn a_loop_that_never_runs_opens_nothing() {
        let fx = effects(
            "for ($p = 5100; $p -le 5000; $p++) { New-NetFirewallRule -DisplayName x -Protocol TCP -LocalPort $p }\n",
        );
        assert!(fx.firewall.is_empty());
    }

    #[test]
    fn a_loop_of_named_rules_is_bounded() {
        let fx = effects(
            "foreach ($p in 5000..5999) { New-NetFirewallRule -DisplayName \"P $p\" -Protocol TCP -LocalPort $p; Write-Host $p }\n\
             foreach ($p in 6000..6001) { New-NetFirewallRule -DisplayName \"Q\" -Protocol TCP -LocalPort $p; Remove-NetFirewallRule -DisplayName \"Q\" }\n",
        );
        // 256 named rules, the last taking the ports of the rest; then the
        // second loop's additions and removals in order.
        assert_eq!(fx.firewall.len(), MAX_NAMED_RULES + 4);
        let ports = ports(&fx);
        assert_eq!(
            ports[MAX_NAMED_RULES - 1],
            format!("{}-5999", 5000 + MAX_NAMED_RULES - 1)
        );
        assert_eq!(ports[MAX_NAMED_RULES..], ["6000", "6001"]);
    }

    #[test]
    fn a_repeated_problem_is_reported_once() {
        let fx = effects(
            "foreach ($p in 65534..65537) { New-NetFirewallRule -DisplayName x -Protocol TCP -LocalPort $p }\n",
        );
        assert_eq!(fx.findings.len(), 1);
        assert_eq!(ports(&fx), vec!["65534-65535"]);
    }

    #[test]
    fn a_pipeline_edits_the_rules_get_netfirewallrule_writes() {
        let fx = effects(
            "New-NetFirewallRule -DisplayName 'FTP' -Protocol TCP -LocalPort 21 -Enabled False\n\
             Get-NetFirewallRule -DisplayName 'FTP' | Enable-NetFirewallRule\n\
             Get-NetFirewallRule -DisplayName 'FTP' | Set-NetFirewallRule -LocalPort 22\n\
             Get-NetFirewallRule -Name 'FTP' | Disable-NetFirewallRule\n\
             Get-NetFirewallRule -DisplayName 'FTP' | Remove-NetFirewallRule\n\
             Get-NetFirewallRule -DisplayGroup 'FTP Server' | Enable-NetFirewallRule\n\
             Get-Service ftpsvc | Enable-NetFirewallRule\n",
        );
        let named = |c: &Change| match c {
            Change::SetEnabled { filter, enabled } => {
                format!("enable {:?} {enabled}", filter.name)
            }
            Change::Edit { filter, edit } => {
                format!("edit {:?} {:?}", filter.name, edit.local_ports)
            }
            Change::Delete(filter) => format!("delete {:?}", filter.name),
            Change::Add(r) => format!("add {:?} {:?}", r.name, r.local_ports),
            Change::Uncertain(u) => format!("uncertain {}", u.what),
            other => format!("{other:?}"),
        };
        let seen: Vec<String> = fx.firewall.iter().map(named).collect();
        assert_eq!(
            seen[1..5],
            [
                "enable Some(\"FTP\") true",
                "edit Some(\"FTP\") Some(Set(PortSet(22)))",
                "enable Some(\"FTP\") false",
                "delete Some(\"FTP\")",
            ]
        );
        assert!(seen[5].starts_with("add None Unknown(\"the rules of group"));
        assert_eq!(
            seen[6],
            "uncertain the rules Get-Service writes are not known here"
        );
    }

    #[test]
    fn a_huge_range_bound_stops_the_statement() {
        let fx = effects(
            "New-NetFirewallRule -DisplayName x -Protocol TCP -LocalPort (1..4294967297)\n",
        );
        assert!(ports(&fx).is_empty());
        assert_eq!(fx.findings.len(), 1);
        assert!(fx.findings[0].message.contains("[int]"));
    }

    #[test]
    fn whatif_changes_nothing() {
        let fx = effects(
            "New-NetFirewallRule -DisplayName x -Protocol TCP -LocalPort 21 -WhatIf\n\
             Set-NetFirewallProfile -All -Enabled False -WhatIf:$true\n\
             New-NetFirewallRule -DisplayName y -Protocol TCP -LocalPort 22 -WhatIf:$false\n",
        );
        assert_eq!(ports(&fx), vec!["22"]);
    }

    #[test]
    fn enabled_takes_strings_not_booleans() {
        let fx = effects(
            "New-NetFirewallRule -DisplayName x -Protocol TCP -LocalPort 21 -Enabled $true\n",
        );
        assert_eq!(fx.findings.len(), 1);
        assert!(fx.findings[0].message.contains("-Enabled $true"));
        // The argument does not bind: the cmdlet does not run.
        assert!(ports(&fx).is_empty());
        let fx = effects(
            "New-NetFirewallRule -DisplayName x -Protocol TCP -LocalPort 21\n\
             Set-NetFirewallRule -DisplayName x -LocalPort 22 -Enabled $false\n\
             Set-NetFirewallProfile -All -Enabled $false\n",
        );
        assert_eq!(fx.findings.len(), 2);
        assert_eq!(ports(&fx), vec!["21"]);
        assert!(
            !fx.firewall
                .iter()
                .any(|c| matches!(c, Change::Edit { .. } | Change::State { .. }))
        );
        let fx = effects(
            "New-NetFirewallRule -DisplayName x -Protocol TCP -LocalPort 21 -Enabled 'True'\n",
        );
        assert!(fx.findings.is_empty());
    }

    #[test]
    fn iis_settings() {
        let fx = effects(
            "Set-WebConfigurationProperty -pspath 'MACHINE/WEBROOT/APPHOST' -filter \"system.ftpServer/firewallSupport\" -name \"lowDataChannelPort\" -value 6000\n\
             Set-WebConfiguration \"/system.ftpServer/firewallSupport\" -PSPath \"IIS:\\\" -Value @{lowDataChannelPort=\"5000\";highDataChannelPort=\"6000\";}\n\
             & \"$env:windir\\system32\\inetsrv\\appcmd.exe\" set config -section:system.ftpServer/firewallSupport /highDataChannelPort:7000\n",
        );
        let values: Vec<Option<u32>> = fx
            .iis
            .iter()
            .map(|s| match s {
                IisSetting::DataChannelPort { value, .. } => *value,
                _ => None,
            })
            .collect();
        assert_eq!(values, vec![Some(6000), Some(5000), Some(6000), Some(7000)]);
    }

    #[test]
    fn site_bindings_set_the_control_port() {
        let fx = effects(
            "Set-ItemProperty \"IIS:\\Sites\\FTP\" -Name bindings -Value @{protocol=\"ftp\";bindingInformation=\"*:2121:\"}\n",
        );
        assert!(matches!(
            fx.iis.as_slice(),
            [IisSetting::ControlPort {
                port: Some(2121),
                ..
            }]
        ));
    }

    #[test]
    fn a_value_that_starts_with_a_dash_is_not_a_parameter() {
        let fx = effects(
            "$n = '-Action'\nRemove-NetFirewallRule -DisplayName $n\nRemove-NetFirewallRule '-x'\n",
        );
        let names: Vec<Option<String>> = fx
            .firewall
            .iter()
            .map(|c| match c {
                Change::Delete(f) => f.name.clone(),
                _ => None,
            })
            .collect();
        assert_eq!(
            names,
            vec![Some("-Action".to_owned()), Some("-x".to_owned())]
        );
    }

    #[test]
    fn never_panics() {
        for s in [
            "$",
            "${",
            "@(",
            "@{",
            "\"",
            "'",
            "`",
            "<#",
            "foreach (",
            "for (;;) {",
            "-",
            "..",
            "1..",
            "$a=",
            "} } )",
            "New-NetFirewallRule -LocalPort",
            "New-NetFirewallRule -LocalPort:",
            "netsh -c:",
            "é$é",
        ] {
            let _ = effects(s);
        }
    }
}
