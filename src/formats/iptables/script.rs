//! Shell scripts that call iptables: the shell interpreter ([`crate::scripts::sh`])
//! streams the commands a run executes; this reader replays every iptables and
//! ip6tables command in order and feeds what `iptables-restore` reads on its
//! standard input to the restore-file reader, spans mapped back into the script.

use super::lex::Arg;
use super::rule::{self, Cmd, Ctx, Mode};
use super::save::SaveParser;
use super::state::{self, Replay};
use super::{Family, Interner, Policy, Ruleset, TableKind, Unknown};
use crate::formats::Format;
use crate::formats::backup::Restored;
use crate::formats::firewalld::cmd::{self as firewalld_cmd, Firewalld};
use crate::formats::nftables::script::Nft;
use crate::formats::ufw::{self, Ufw};
use crate::scripts::{self, Command, Input, Status, Text, Word};
use crate::source::{SourceFile, Span};
use std::borrow::Cow;
use std::collections::HashSet;
use std::path::Path;

/// A shell script that calls iptables (directly, through a variable, or by
/// feeding iptables-restore), one that writes a `vsftpd.conf`, or one that
/// starts containers.
/// A `#!…sh` first line, or a shell's own extension (`.sh`, `.bash`, …).
pub fn named_or_marked_as_shell(path: &Path, text: &str) -> bool {
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase());
    matches!(ext.as_deref(), Some("sh" | "bash" | "ksh" | "zsh" | "dash")) || shebang_shell(text)
}

/// `#!…sh`, or OpenRC's runner, which sources the script into `sh`.
fn shebang_shell(text: &str) -> bool {
    text.lines().next().is_some_and(|l| {
        l.starts_with("#!")
            && (l.contains("sh") || l.contains("openrc-run") || l.contains("runscript"))
    })
}

pub fn looks_like_script(path: &Path, text: &str) -> bool {
    if !names_iptables(text)
        && !text.contains("vsftpd.conf")
        && !text.contains("proftpd")
        && !text.contains("ufw")
        && !text.contains("pure-ftpd")
        && !text.contains("firewall-")
        && !text.contains("nft")
        && !text.contains(" run")
    {
        return false;
    }
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase());
    let shell_ext = match ext.as_deref() {
        None => true,
        Some(e) => matches!(
            e,
            "sh" | "bash" | "ksh" | "zsh" | "dash" | "fw" | "firewall" | "init" | "up" | "local"
        ),
    };
    if !shell_ext && !shebang_shell(text) {
        return false;
    }
    calls_iptables(text)
        || writes_server_config(text)
        || calls_ufw(text)
        || calls_pure_ftpd(text)
        || runs_containers(text)
        || calls_firewalld(text)
        || calls_nft(text)
}

/// `iptables` or `ip6tables` somewhere in `text` (a script may filter IPv6 alone).
fn names_iptables(text: &str) -> bool {
    text.contains("iptables") || text.contains("ip6tables")
}

/// A word naming nft (`nft`, `/usr/sbin/nft`, `NFT=/usr/sbin/nft`, `"$(which nft)"`).
fn calls_nft(text: &str) -> bool {
    text.split(|c: char| c.is_whitespace() || matches!(c, ';' | '|' | '&' | '(' | ')' | '`' | '"'))
        .any(|w| scripts::Program::of(w).name == "nft")
}

/// `docker run`, `docker container run`, `podman run` (options may come between).
fn runs_containers(text: &str) -> bool {
    text.lines().any(|l| {
        let mut words = l.split_whitespace();
        words.any(|w| matches!(scripts::Program::of(w).name, "docker" | "podman"))
            && words.take(3).any(|w| w == "run")
    })
}

fn calls_pure_ftpd(text: &str) -> bool {
    text.split_whitespace()
        .any(|w| scripts::Program::of(w.trim_matches(['"', '\''])).name == "pure-ftpd")
}

fn calls_firewalld(text: &str) -> bool {
    text.split_whitespace().any(|w| {
        matches!(
            scripts::Program::of(w).name,
            "firewall-cmd" | "firewall-offline-cmd"
        )
    })
}

fn calls_ufw(text: &str) -> bool {
    text.lines().any(|l| {
        l.split_whitespace()
            .any(|w| scripts::Program::of(w).name == "ufw")
    })
}

fn calls_iptables(text: &str) -> bool {
    let vars: Vec<&str> = text
        .lines()
        .filter_map(|l| {
            let l = l.trim_start();
            let l = l.strip_prefix("export ").unwrap_or(l).trim_start();
            let (name, value) = l.split_once('=')?;
            let ok =
                !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
            (ok && names_iptables(value)).then_some(name)
        })
        .collect();
    // Any word in command position or not: a script that only mentions iptables
    // is read, runs no iptables command, and so yields no firewall.
    text.split(|c: char| {
        c.is_whitespace() || matches!(c, ';' | '|' | '&' | '(' | ')' | '{' | '}' | '`')
    })
    .any(|word| {
        is_iptables_program(scripts::Program::of(word).name).is_some()
            || vars.iter().any(|v| {
                word == format!("${v}")
                    || word == format!("${{{v}}}")
                    || word == format!("\"${v}\"")
            })
    })
}

/// A line naming `vsftpd.conf` that writes it: a redirection, `tee` or `sed -i`.
/// A line that writes or edits an FTP daemon's config (`cat > /etc/vsftpd.conf`,
/// `tee /etc/proftpd/proftpd.conf`, `sed -i … pure-ftpd.conf`, `echo 50000 50100 >
/// /etc/pure-ftpd/conf/PassivePortRange`).
fn writes_server_config(text: &str) -> bool {
    text.lines().any(|l| {
        SERVER_CONFIGS.iter().any(|c| l.contains(c))
            && (l.contains('>') || l.contains("tee ") || (l.contains("sed ") && l.contains(" -i")))
    })
}

const SERVER_CONFIGS: &[&str] = &[
    "vsftpd.conf",
    "proftpd.conf",
    "/etc/proftpd/",
    "pure-ftpd.conf",
    "/etc/pure-ftpd/",
];

/// What an iptables program name runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Program {
    Rules(Family),
    Restore(Family),
}

fn is_iptables_program(base: &str) -> Option<Program> {
    let (family, rest) = if let Some(r) = base.strip_prefix("ip6tables") {
        (Family::V6, r)
    } else if let Some(r) = base.strip_prefix("iptables") {
        (Family::V4, r)
    } else {
        return None;
    };
    let rest = rest
        .strip_prefix("-nft")
        .or(rest.strip_prefix("-legacy"))
        .unwrap_or(rest);
    match rest {
        "" => Some(Program::Rules(family)),
        "-restore" => Some(Program::Restore(family)),
        _ => None,
    }
}

/// The iptables program a command runs, looked through wrappers and
/// `IPT=$(which iptables)`; its first argument's index.
pub(super) fn program_of(c: &Command) -> Option<(Program, usize)> {
    let (p, first) = c.program()?;
    if p.on_path {
        if let Some(prog) = is_iptables_program(p.name) {
            return Some((prog, first));
        }
    }
    let word = c.argv.get(first.checked_sub(1)?)?;
    let located = located_program(word.unknown.as_deref()?)?;
    Some((is_iptables_program(located)?, first))
}

/// The `nft` a command runs (also as `$(which nft)`); its first argument's index.
fn nft_program_of(c: &Command) -> Option<usize> {
    let (p, first) = c.program()?;
    if p.on_path && p.name == "nft" {
        return Some(first);
    }
    let word = c.argv.get(first.checked_sub(1)?)?;
    (located_program(word.unknown.as_deref()?)? == "nft").then_some(first)
}

/// `$(which iptables)`, `` `command -v ip6tables` ``: the program looked up.
fn located_program(unknown: &str) -> Option<&str> {
    let inner = unknown
        .strip_prefix("$(")
        .and_then(|s| s.strip_suffix(')'))
        .or_else(|| unknown.strip_prefix('`').and_then(|s| s.strip_suffix('`')))?;
    let mut words = inner.split_whitespace();
    let name = match words.next()? {
        "which" | "type" => words.next()?,
        "command" if words.next() == Some("-v") => words.next()?,
        _ => return None,
    };
    words.next().is_none().then_some(name)
}

pub fn parse(source: &SourceFile) -> Ruleset {
    read(source, false, |sink| scripts::sh::run(source, sink))
}

/// Commands another reader produced (an Ansible module runs these programs),
/// replayed as a script's. With `checks_first`, an append or insert of a rule
/// already in its chain and a delete of one not there change nothing, as the
/// Ansible iptables module runs `iptables -C` before it changes a chain.
pub fn replay(source: &SourceFile, commands: &[Command], checks_first: bool) -> Ruleset {
    read(source, checks_first, |sink| {
        for c in commands {
            // Each module's command stands alone: its status ends nothing.
            let _ = sink(c.clone());
        }
        scripts::Outcome::default()
    })
}

fn read(
    source: &SourceFile,
    checks_first: bool,
    run: impl FnOnce(&mut dyn FnMut(Command) -> Status) -> scripts::Outcome,
) -> Ruleset {
    let mut rs = Ruleset::new(Format::ShellScript, Family::V4);
    let mut reader = Reader::new(source, checks_first);
    let mut seen: Vec<Command> = Vec::new();
    let mut closes_if = Vec::new();
    let outcome = run(&mut |c| {
        match super::maybe::closed_if(&c, source) {
            Some(closing) => closes_if.push(closing),
            None => seen.push(c.clone()),
        }
        reader.command(&mut rs, &c)
    });
    rs.outcome = outcome;
    finish(&mut rs, reader, source);
    if !closes_if.is_empty() {
        // The other branch: the same run without the closing commands that may not run.
        let mut other = Ruleset::new(Format::ShellScript, Family::V4);
        let mut reader = Reader::new(source, checks_first);
        for c in &seen {
            reader.command(&mut other, c);
        }
        finish(&mut other, reader, source);
        rs.otherwise = Some(Box::new(other));
        rs.closes_if = closes_if;
    }
    rs
}

/// What the script's firewall programs leave once every command ran.
fn finish(rs: &mut Ruleset, reader: Reader, source: &SourceFile) {
    let builds_nft = !reader.nft.file.tables.is_empty();
    rs.ufw_rejected.clone_from(&reader.ufw.rejected);
    if reader.nft.ran {
        rs.nft = Some(reader.nft.file);
    }
    // A script that runs iptables (or nft) itself builds its firewall with it:
    // its ufw commands are ignored (which of the two wins depends on the order
    // ufw reloads on the host, which the script does not show).
    if !reader.ran_iptables && !builds_nft {
        for family in [Family::V4, Family::V6] {
            if let Some(lines) = reader.ufw.lower(family) {
                lowered_ufw(rs, source, &lines, family);
                rs.built_by = crate::facts::Dialect::Ufw;
            }
        }
        if let Some(config) = reader.firewalld.config() {
            rs.built_by = crate::facts::Dialect::Firewalld;
            for family in [Family::V4, Family::V6] {
                super::restore_lines(rs, source, &config.lines(family), family);
            }
        }
    }
}

/// A script's commands replayed one at a time as [`parse`] replays them, each
/// answered with the status the reader knows (what `set -e` sees): for tools and
/// tests that run the interpreter themselves.
pub struct Statuses<'s> {
    reader: Reader<'s>,
    rs: Ruleset,
}

impl<'s> Statuses<'s> {
    pub fn new(source: &'s SourceFile) -> Self {
        Statuses {
            reader: Reader::new(source, false),
            rs: Ruleset::new(Format::ShellScript, Family::V4),
        }
    }

    /// Replay `c`; whether its program rejects it.
    pub fn of(&mut self, c: &Command) -> Status {
        self.reader.command(&mut self.rs, c)
    }
}

/// Where `ufw allow LO:HI/tcp` writes its ports, when the word is written as is.
fn ufw_port_text(source: &SourceFile, args: &[Word], rule: Span) -> Option<crate::facts::PortText> {
    let [allow, spec] = args else { return None };
    let ports = spec
        .text
        .strip_suffix("/tcp")
        .filter(|_| allow.text == "allow")?;
    if ports.is_empty() || !ports.bytes().all(|b| b.is_ascii_digit() || b == b':') {
        return None;
    }
    let word = super::exact_value(source, spec.span, &spec.text)?;
    Some(crate::facts::PortText {
        rule,
        syntax: crate::facts::PortSyntax::Colon,
        value: source.span(word.start as usize, word.start as usize + ports.len()),
        second: None,
        line: None,
    })
}

/// Where `firewall-cmd --add-port=LO-HI/tcp` writes its ports, when the command
/// opens that one port entry and the word is written as is.
fn firewalld_port_text(
    source: &SourceFile,
    args: &[Word],
    rule: Span,
) -> Option<crate::facts::PortText> {
    const OPTION: &str = "--add-port=";
    let mut adds = args.iter().filter(|w| w.text.starts_with(OPTION));
    let (word, None) = (adds.next()?, adds.next()) else {
        return None;
    };
    let ports = word.text[OPTION.len()..].strip_suffix("/tcp")?;
    if ports.is_empty() || !ports.bytes().all(|b| b.is_ascii_digit() || b == b'-') {
        return None;
    }
    let written = super::exact_value(source, word.span, &word.text)?;
    let start = written.start as usize + OPTION.len();
    Some(crate::facts::PortText {
        rule,
        syntax: crate::facts::PortSyntax::Dash,
        value: source.span(start, start + ports.len()),
        second: None,
        line: None,
    })
}

/// ufw's restore text, every line's spans at the ufw command it comes from.
fn lowered_ufw(rs: &mut Ruleset, source: &SourceFile, lines: &[(String, Span)], family: Family) {
    let mut parser = SaveParser::new(source, family, false);
    let mut line_no = 0;
    for (line, span) in lines {
        line_no += 1;
        parser.line(
            rs,
            line,
            span.start as usize,
            line_no,
            Some(*span),
            &mut Vec::new(),
        );
    }
    parser.finish(rs, line_no);
}

struct Reader<'s> {
    source: &'s SourceFile,
    replay: Replay,
    interner: Interner,
    /// Problems and unknowns already reported (a command in a loop, a function
    /// called from several places, or an arm that may run is reported once).
    reported: HashSet<(Span, String)>,
    ufw: Ufw,
    firewalld: Firewalld,
    ran_iptables: bool,
    nft: Nft,
    /// Changes are checked first (see [`replay`]).
    checks_first: bool,
    checks: Checks,
}

/// What `iptables -C` would find, without a scan of the chain per command:
/// the specs of each chain's rules, trusted while the chain has as many rules
/// as when they were counted (appends, inserts and deletes of the replay keep
/// them in step; anything else changes the count and they are counted again).
#[derive(Default)]
struct Checks {
    chains: std::collections::HashMap<ChainKey, Counted>,
}

/// A chain: its family, table and name.
type ChainKey = (Family, usize, String);

/// How many rules a chain had when its specs were counted, and each spec's count.
type Counted = (usize, std::collections::HashMap<u32, u32>);

/// A checked command: whether it changes nothing, and what to update once it ran.
struct Check {
    done: bool,
    key: ChainKey,
    spec: u32,
    before: usize,
    delta: i64,
}

impl Checks {
    fn rules<'r>(
        rs: &'r Ruleset,
        key: &(Family, usize, String),
    ) -> Option<&'r [crate::filter::ir::Rule]> {
        let tables = match key.0 {
            Family::V4 => &rs.tables,
            Family::V6 => &rs.tables_v6,
        };
        let chain = tables[key.1].as_ref()?.chain(&key.2)?;
        Some(&chain.rules)
    }

    fn check(&mut self, rs: &Ruleset, cmd: &rule::Command<'_>, family: Family) -> Option<Check> {
        let delta = match cmd.cmd {
            Cmd::Append | Cmd::Insert(_) => 1,
            Cmd::Delete => -1,
            _ => return None,
        };
        let key = (
            family,
            cmd.table.index(),
            cmd.chain.as_ref()?.text.to_string(),
        );
        let rules = Self::rules(rs, &key).unwrap_or(&[]);
        let fresh = self
            .chains
            .get(&key)
            .is_none_or(|(len, _)| *len != rules.len());
        if fresh {
            let mut counts = std::collections::HashMap::new();
            for r in rules {
                *counts.entry(r.spec).or_insert(0u32) += 1;
            }
            self.chains.insert(key.clone(), (rules.len(), counts));
        }
        let present = self.chains[&key]
            .1
            .get(&cmd.rule.spec)
            .is_some_and(|n| *n > 0);
        Some(Check {
            done: present == (delta > 0),
            spec: cmd.rule.spec,
            before: rules.len(),
            key,
            delta,
        })
    }

    fn applied(&mut self, rs: &Ruleset, check: Check, _family: Family) {
        let now = Self::rules(rs, &check.key).map_or(0, <[_]>::len);
        let Some((len, counts)) = self.chains.get_mut(&check.key) else {
            return;
        };
        if now as i64 != check.before as i64 + check.delta {
            // The command did not change the chain as checked: count again.
            self.chains.remove(&check.key);
            return;
        }
        *len = now;
        let n = counts.entry(check.spec).or_insert(0);
        *n = if check.delta > 0 {
            *n + 1
        } else {
            n.saturating_sub(1)
        };
    }
}

impl<'s> Reader<'s> {
    fn new(source: &'s SourceFile, checks_first: bool) -> Self {
        Reader {
            source,
            replay: Replay::new(Mode::Shell),
            interner: Interner::default(),
            reported: HashSet::new(),
            ufw: Ufw::default(),
            firewalld: Firewalld::default(),
            ran_iptables: false,
            nft: Nft::default(),
            checks_first,
            checks: Checks::default(),
        }
    }

    /// Replay one command; whether the program rejects it (its status for `set -e`).
    fn command(&mut self, rs: &mut Ruleset, c: &Command) -> Status {
        if let Some(first) = crate::formats::pureftpd::args::program_of(c) {
            rs.pure_ftpd
                .push(crate::formats::pureftpd::args::from_command(c, first));
            return Status::Unknown;
        }
        if let Some(first) = crate::formats::compose::run::program_of(c) {
            let dir = (!self.source.is_virtual())
                .then(|| self.source.path.parent())
                .flatten();
            let started = crate::formats::compose::run::service(c, first, dir);
            // A loop that starts the same container again starts nothing new.
            let again = |s: &crate::formats::compose::Service| {
                c.repeated && rs.containers.iter().any(|o| o.name_span == s.name_span)
            };
            if let Some(service) = started.filter(|s| !again(s)) {
                rs.containers.push(service);
            }
            return Status::Unknown;
        }
        if let Some((offline, first)) = firewalld_cmd::program_of(c) {
            let args = c.argv.get(first..).unwrap_or(&[]);
            // One that may not run counts only when it opens, as for ufw.
            if args.iter().all(Word::is_known)
                && (c.uncertain.is_none() || firewalld_cmd::opens(args))
            {
                self.firewalld.command(offline, args, c.span);
                rs.port_texts
                    .extend(firewalld_port_text(self.source, args, c.span));
            }
            return Status::Unknown;
        }
        if let Some(first) = ufw::program_of(c) {
            let args = c.argv.get(first..).unwrap_or(&[]);
            // A command that uses what the script does not set leaves ufw's
            // state as it is; one that may not run counts only when it opens
            // (so no port is claimed blocked that the script may have opened).
            if args.iter().all(Word::is_known) && (c.uncertain.is_none() || ufw::opens(args)) {
                let refused = self.ufw.command(args, c.span);
                rs.port_texts
                    .extend(ufw_port_text(self.source, args, c.span));
                if refused {
                    return Status::Fails;
                }
            }
            return Status::Unknown;
        }
        if let Some(first) = nft_program_of(c) {
            let args = c.argv.get(first..).unwrap_or(&[]);
            let unknowns = rs.unknowns.len();
            let rejected = self.nft.file.problems.len();
            for skipped in self.nft.command(self.source, c, args) {
                rs.unknowns.push(Unknown {
                    span: skipped.span,
                    rule: c.span,
                    what: skipped.what,
                    ports: crate::portset::PortSet::empty(),
                });
            }
            let status = if self.nft.file.problems.len() > rejected {
                Status::Fails
            } else {
                Status::Unknown
            };
            let problems = rs.problems.len();
            self.once(rs, problems, unknowns, c.repeated || c.uncertain.is_some());
            return status;
        }
        let Some((program, first)) = program_of(c) else {
            return Status::Unknown;
        };
        self.ran_iptables = true;
        let args = c.argv.get(first..).unwrap_or(&[]);
        let problems = rs.problems.len();
        let unknowns = rs.unknowns.len();
        match program {
            Program::Rules(family) => self.iptables(rs, c, args, family),
            Program::Restore(family) => self.restore(rs, c, args, family),
        }
        let status = if rs.problems.len() > problems {
            Status::Fails
        } else {
            Status::Unknown
        };
        self.once(rs, problems, unknowns, c.repeated || c.uncertain.is_some());
        status
    }

    /// Remember the problems and unknowns added since `problems`/`unknowns`;
    /// with `drop_seen`, drop those already reported at the same place.
    fn once(&mut self, rs: &mut Ruleset, problems: usize, unknowns: usize, drop_seen: bool) {
        let mut k = problems;
        while k < rs.problems.len() {
            let p = &rs.problems[k];
            if self.reported.insert((p.span, p.message.clone())) || !drop_seen {
                k += 1;
            } else {
                rs.problems.remove(k);
            }
        }
        let mut k = unknowns;
        while k < rs.unknowns.len() {
            let u = &rs.unknowns[k];
            if self.reported.insert((u.span, u.what.clone())) || !drop_seen {
                k += 1;
            } else {
                rs.unknowns.remove(k);
            }
        }
    }

    /// One iptables / ip6tables command.
    fn iptables(&mut self, rs: &mut Ruleset, c: &Command, words: &[Word], family: Family) {
        if let Some(w) = words.iter().find(|w| !w.is_known()) {
            let name = w
                .unknown
                .clone()
                .unwrap_or_else(|| self.source.slice(w.span).to_owned());
            if self.may_match(rs, c, words, family, w.span, &name) {
                return;
            }
            rs.unknowns.push(Unknown {
                span: w.span,
                rule: c.span,
                what: format!("command uses {name}, which this script does not set; it is skipped"),
                ports: crate::portset::PortSet::empty(),
            });
            return;
        }
        let args: Vec<Arg> = words
            .iter()
            .map(|w| Arg {
                text: Cow::Borrowed(w.text.as_str()),
                start: w.span.start,
                end: w.span.end,
            })
            .collect();
        let ctx = Ctx {
            mode: Mode::Shell,
            family,
            table: TableKind::Filter,
            file: c.span.file,
        };
        match rule::parse(&args, &ctx, c.span, &mut rs.sets, &mut self.interner) {
            Ok(None) => {}
            Ok(Some(cmd)) => {
                if cmd.cmd == Cmd::Check {
                    return;
                }
                let checked = if self.checks_first {
                    match self.checks.check(rs, &cmd, family) {
                        Some(check) if check.done => return,
                        check => check,
                    }
                } else {
                    None
                };
                if c.uncertain.is_some() && (undoes(&cmd) || already_there(rs, &cmd, family)) {
                    return;
                }
                for (s, what) in &cmd.unknowns {
                    rs.unknowns.push(Unknown {
                        span: *s,
                        rule: c.span,
                        what: what.clone(),
                        ports: rs.ports(cmd.rule.key_in),
                    });
                }
                rs.note_assumed(&cmd, c.span);
                rs.note_port_text(self.source, &cmd);
                self.replay.apply(rs, cmd, family);
                if let Some(check) = checked {
                    self.checks.applied(rs, check, family);
                }
            }
            Err(e) => rs.problems.push(state::problem(e)),
        }
    }

    /// An ACCEPT whose port, address or interface is unknown (`--dport $FTP_PASV`),
    /// kept as a rule that may match: it may open any port it could name to some
    /// clients and closes none. `false` when the command is not one (it is skipped).
    fn may_match(
        &mut self,
        rs: &mut Ruleset,
        c: &Command,
        words: &[Word],
        family: Family,
        unknown: Span,
        name: &str,
    ) -> bool {
        let Some(args) = super::unset::stood_in(words, family) else {
            return false;
        };
        let ctx = Ctx {
            mode: Mode::Shell,
            family,
            table: TableKind::Filter,
            file: c.span.file,
        };
        let parsed = rule::parse(&args, &ctx, c.span, &mut rs.sets, &mut self.interner);
        let Ok(Some(mut cmd)) = parsed else {
            return false;
        };
        if !super::unset::keep_as_may_match(&mut cmd)
            || (c.uncertain.is_some() && already_there(rs, &cmd, family))
        {
            return false;
        }
        rs.unknowns.push(Unknown {
            span: unknown,
            rule: c.span,
            what: format!("command uses {name}, which this script does not set"),
            ports: rs.ports(cmd.rule.key_in),
        });
        self.replay.apply(rs, cmd, family);
        true
    }

    /// `iptables-restore`: its standard input is a restore file; a file it is
    /// given by path is recorded for the host to read.
    fn restore(&mut self, rs: &mut Ruleset, c: &Command, args: &[Word], family: Family) {
        let noflush = args.iter().any(|w| w.text == "-n" || w.text == "--noflush");
        match &c.stdin {
            Some(Input::Text(text)) => restore_text(rs, self.source, text, family, noflush),
            Some(Input::File(w)) => {
                if w.is_known() {
                    rs.restored.push(Restored::new(&w.text, &self.source.path));
                }
            }
            // Another command's objects (PowerShell) are no restore file.
            Some(Input::Piped(_)) => {}
            None => {
                if let Some(file) = restored_file(args) {
                    rs.restored.push(Restored::new(file, &self.source.path));
                }
            }
        }
    }
}

/// A command that removes what earlier ones built (`-F`, `-X`, `-D`, `-P … ACCEPT`).
/// When it only may run (an init script's `stop` arm), the tables are kept as the
/// rest of the script builds them.
fn undoes(cmd: &rule::Command<'_>) -> bool {
    match cmd.cmd {
        Cmd::Flush | Cmd::DeleteChain | Cmd::Delete | Cmd::DeleteNum(_) => true,
        Cmd::Policy => cmd
            .extra
            .as_ref()
            .is_some_and(|p| state::parse_policy(&p.text) == Some(Policy::Accept)),
        _ => false,
    }
}

/// The rule is in its chain already (a `restart` arm running `start` again).
fn already_there(rs: &Ruleset, cmd: &rule::Command<'_>, family: Family) -> bool {
    matches!(cmd.cmd, Cmd::Append | Cmd::Insert(_)) && in_chain(rs, cmd, family)
}

/// The command's rule is in its chain.
fn in_chain(rs: &Ruleset, cmd: &rule::Command<'_>, family: Family) -> bool {
    let tables = match family {
        Family::V4 => &rs.tables,
        Family::V6 => &rs.tables_v6,
    };
    let Some(table) = tables[cmd.table.index()].as_ref() else {
        return false;
    };
    let Some(chain) = cmd.chain.as_ref().and_then(|w| table.chain(&w.text)) else {
        return false;
    };
    chain.rules.iter().any(|r| r.spec == cmd.rule.spec)
}

/// The file `iptables-restore FILE` loads, when the script names it.
fn restored_file(args: &[Word]) -> Option<&str> {
    let mut words = args.iter();
    while let Some(w) = words.next() {
        match w.text.as_str() {
            // Options that take the next word: table and modprobe program.
            "-T" | "--table" | "-M" | "--modprobe" => {
                words.next();
            }
            t if t.starts_with('-') => {}
            _ => return w.is_known().then_some(w.text.as_str()),
        }
    }
    None
}

/// What iptables-restore reads: each line of `text`, its spans in the script.
fn restore_text(rs: &mut Ruleset, source: &SourceFile, text: &Text, family: Family, noflush: bool) {
    let mut parser = SaveParser::new(source, family, noflush);
    let mut line_no = 0;
    let mut pos = 0;
    let body = text.text.as_str();
    while pos < body.len() {
        let end = body[pos..].find('\n').map_or(body.len(), |n| pos + n);
        let line = body[pos..end].trim_end_matches('\r');
        line_no += 1;
        match text.span_of(pos, pos + line.len()) {
            Some(span) if span.len() == line.len() && source.slice(span) == line => {
                parser.line(
                    rs,
                    line,
                    span.start as usize,
                    line_no,
                    None,
                    &mut Vec::new(),
                );
            }
            span => {
                let span = span.unwrap_or_else(|| source.span(0, 0));
                parser.line(
                    rs,
                    line,
                    span.start as usize,
                    line_no,
                    Some(span),
                    &mut Vec::new(),
                );
            }
        }
        pos = end + 1;
    }
    parser.finish(rs, line_no);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::iptables::facts;
    use crate::source::FileId;

    fn run(text: &str) -> (Ruleset, SourceFile) {
        let src = SourceFile::new(FileId(0), "firewall.sh", text.as_bytes());
        (parse(&src), src)
    }

    fn open(text: &str) -> String {
        let (rs, src) = run(text);
        assert!(rs.problems.is_empty(), "{:?}", rs.problems);
        facts(&rs, &src).0.expect("facts").open_to_all.to_string()
    }

    #[test]
    fn replays_commands_in_order() {
        let text = r#"#!/bin/sh
IPT=/sbin/iptables
IPTABLES="iptables -w"
$IPT -F
$IPT -X
$IPT --policy INPUT DROP
${IPTABLES} --new-chain WEB
$IPT --append INPUT -p tcp -m tcp --dport 80 -j WEB
$IPT -A WEB -p tcp --dport 80 -j ACCEPT
$IPT --insert INPUT 1 -p tcp --dport 22 \
    -m comment --comment "ssh from anywhere" -j ACCEPT
$IPT -I INPUT 2 -p tcp --dport 25 -j ACCEPT
$IPT -A INPUT -p tcp --dport 23 -j ACCEPT
$IPT -D INPUT -p tcp --dport 23 -j ACCEPT
$IPT -A INPUT -p tcp --dport 24 -j ACCEPT
$IPT -D INPUT 4
$IPT -A INPUT -p tcp --dport 26 -j ACCEPT
$IPT -R INPUT 4 -p tcp --dport 27 -j ACCEPT
iptables -w 5 -W 100000 -A INPUT -p tcp --dport 28 -j ACCEPT
$IPT -C INPUT -p tcp --dport 28 -j ACCEPT || $IPT -A INPUT -p tcp --dport 28 -j DROP
{ iptables -C INPUT -p tcp --dport 29 -j ACCEPT >/dev/null 2>&1; } || { iptables -I INPUT -p tcp --dport 29 -j ACCEPT; }
ip6tables -A INPUT -p tcp --dport 30 -j ACCEPT
"#;
        assert_eq!(open(text), "22,25,27-29,80");
    }

    #[test]
    fn heredoc_restore_with_expansion() {
        let text = "#!/bin/bash\nPORT=2121\niptables-restore <<EOF\n*filter\n:INPUT DROP [0:0]\n-A INPUT -p tcp --dport $PORT -j ACCEPT\nCOMMIT\nEOF\n";
        assert_eq!(open(text), "2121");
        let quoted = "iptables-restore <<'EOF'\n*filter\n:INPUT DROP [0:0]\n-A INPUT -p tcp --dport 21 -j ACCEPT\nCOMMIT\nEOF\n";
        assert_eq!(open(quoted), "21");
        let tabs = "iptables-restore <<-EOF\n\t*filter\n\t:INPUT DROP [0:0]\n\t-A INPUT -p tcp --dport 21 -j ACCEPT\n\tCOMMIT\n\tEOF\n";
        assert_eq!(open(tabs), "21");
    }

    #[test]
    fn for_loops_expand_their_body() {
        let text = "for p in 20 21 9981; do\n  iptables -A INPUT -p tcp --dport $p -j ACCEPT\ndone\niptables -P INPUT DROP\n";
        assert_eq!(open(text), "20-21,9981");
        let one_line = "iptables -P INPUT DROP; for p in 22 80; do iptables -A INPUT -p tcp --dport $p -j ACCEPT; done\n";
        assert_eq!(open(one_line), "22,80");
    }

    #[test]
    fn errors_of_single_commands() {
        let (rs, _) = run(
            "iptables -A NOPE -j ACCEPT\niptables -A INPUT -j NOPE\niptables -P INPUT REJECT\niptables -A INPUT -p tcp --dport 70000 -j ACCEPT\n",
        );
        let msgs: Vec<&str> = rs.problems.iter().map(|p| p.message.as_str()).collect();
        assert_eq!(
            msgs,
            [
                "No chain/target/match by that name.",
                "Chain 'NOPE' does not exist",
                "Bad policy name.",
                "invalid port/service `70000' specified"
            ]
        );
    }

    #[test]
    fn unknown_variables_skip_the_command() {
        let (rs, _) = run("iptables -A INPUT -p tcp --dport $SSH_PORT -j ACCEPT\n");
        assert!(rs.problems.is_empty());
        assert_eq!(rs.unknowns.len(), 1);
        assert!(rs.unknowns[0].what.contains("$SSH_PORT"));
    }

    #[test]
    fn ip6tables_only_scripts_have_ipv6_facts_only() {
        let (rs, src) =
            run("ip6tables -P INPUT DROP\nip6tables -A INPUT -p tcp --dport 22 -j ACCEPT\n");
        let (ipv4, ipv6) = facts(&rs, &src);
        assert!(ipv4.is_none());
        assert_eq!(ipv6.expect("IPv6 facts").open_to_all.to_string(), "22");
    }

    #[test]
    fn records_the_files_a_script_restores() {
        let (rs, _) = run(
            "#!/bin/sh\n/sbin/iptables-restore < /etc/iptables.save\nip6tables-restore -n /etc/iptables/rules.v6 2>/dev/null\niptables-restore -T filter ./saved.rules\nRULES=/etc/fw.rules\niptables-restore < \"$RULES\"\niptables-restore < $UNSET\niptables-restore <<EOF\n*filter\nCOMMIT\nEOF\n",
        );
        assert_eq!(
            rs.restored,
            [
                Restored::OnHost("/etc/iptables.save".into()),
                Restored::OnHost("/etc/iptables/rules.v6".into()),
                Restored::Beside("saved.rules".into()),
                Restored::OnHost("/etc/fw.rules".into()),
            ]
        );
    }

    #[test]
    fn init_script_arms_and_functions() {
        let text = "#!/bin/sh\nIPT=/sbin/iptables\nstart() {\n  $IPT -F\n  $IPT -P INPUT DROP\n  $IPT -A INPUT -p tcp --dport 21 -j ACCEPT\n}\nstop() {\n  $IPT -P INPUT ACCEPT\n  $IPT -F\n}\ncase \"$1\" in\n  start) start ;;\n  stop) stop ;;\n  restart) stop; start ;;\nesac\n";
        assert_eq!(open(text), "21");
        let (rs, _) = run(text);
        assert_eq!(
            rs.table(TableKind::Filter)
                .unwrap()
                .chain("INPUT")
                .unwrap()
                .rules
                .len(),
            1
        );
    }

    #[test]
    fn loop_variables_and_service_scripts() {
        let (rs, _) = run(
            "for t in filter nat; do iptables -t $t -L -v; done\n/etc/init.d/iptables save\nservice iptables save\n./iptables -A INPUT\n",
        );
        assert!(rs.problems.is_empty(), "{:?}", rs.problems);
        let (rs, _) = run("for t in filter nta; do iptables -t $t -F; done\n");
        assert_eq!(rs.problems.len(), 1, "{:?}", rs.problems);
        let (rs, _) = run(
            "f() { iptables -A NOPE -j ACCEPT; }\nf; f\nfor i in 1 2 3; do iptables -A NOPE -j DROP; done\n",
        );
        assert_eq!(rs.problems.len(), 2, "{:?}", rs.problems);
    }

    #[test]
    fn programs_found_with_which() {
        let text = "IPT=$(which iptables)\nIP6=`command -v ip6tables`\n$IPT -P INPUT DROP\n$IPT -A INPUT -p tcp --dport 21 -j ACCEPT\n$IP6 -P INPUT DROP\n";
        assert_eq!(open(text), "21");
        let (rs, src) = run(text);
        assert!(facts(&rs, &src).1.is_some());
    }

    #[test]
    fn scripts_without_iptables_have_no_firewall() {
        let text = "#!/bin/bash\ncat > /etc/vsftpd.conf <<EOF\nlisten=YES\nEOF\necho pasv_min_port=40000 >> /etc/vsftpd.conf\n";
        assert!(looks_like_script(Path::new("provision.sh"), text));
        let (rs, src) = run(text);
        let (v4, v6) = facts(&rs, &src);
        assert!(v4.is_none() && v6.is_none());
        assert_eq!(rs.outcome.writes.len(), 2);
        assert!(!looks_like_script(
            Path::new("provision.sh"),
            "#!/bin/bash\n# see vsftpd.conf(5)\n"
        ));
    }

    #[test]
    fn ufw_commands_are_the_firewall_when_enabled() {
        let text = "ufw allow 21/tcp\nufw allow 40000:40050/tcp\nufw limit ssh\nufw allow from 10.0.0.0/8 to any port 990 proto tcp\nufw --force enable\n";
        assert!(looks_like_script(Path::new("provision.sh"), text));
        assert_eq!(open(text), "21-22,40000-40050");
        let (rs, src) = run(text);
        assert_eq!(
            facts(&rs, &src).1.expect("IPv6").open_to_all.to_string(),
            "21-22,40000-40050"
        );
        let (rs, src) = run("ufw allow 21/tcp\n");
        let (v4, v6) = facts(&rs, &src);
        assert!(v4.is_none() && v6.is_none());
        let both = "ufw allow 21/tcp\nufw enable\niptables -P INPUT DROP\niptables -A INPUT -p tcp --dport 22 -j ACCEPT\n";
        assert_eq!(open(both), "22");
        assert_eq!(
            open("ufw default allow\nufw deny 23/tcp\nufw enable\n"),
            "1-22,24-65535"
        );
        let may = "ufw allow 21/tcp\nif [ -n \"$FTP\" ]; then ufw allow 990/tcp; ufw deny 21/tcp; fi\nufw enable\n";
        assert_eq!(open(may), "21,990");
    }

    const NFT_BASE: &str = "#!/bin/sh\nnft flush ruleset\nnft add table inet f\nnft add chain inet f input '{ type filter hook input priority 0; policy drop; }'\n";

    fn nft_problems(rs: &Ruleset) -> Vec<String> {
        rs.nft
            .iter()
            .flat_map(|f| &f.problems)
            .map(|p| p.message.clone())
            .collect()
    }

    /// A script's firewall is labelled with the tool its commands drive, as that
    /// tool's own files are (`pasvlint facts`' layer kind).
    #[test]
    fn firewall_cmd_and_ufw_scripts_name_their_tool() {
        for (text, dialect) in [
            (
                "#!/bin/sh\nfirewall-cmd --permanent --add-port=21/tcp\nfirewall-cmd --reload\n",
                crate::facts::Dialect::Firewalld,
            ),
            (
                "#!/bin/sh\nufw default deny incoming\nufw allow 21/tcp\nufw --force enable\n",
                crate::facts::Dialect::Ufw,
            ),
            (
                "#!/bin/sh\niptables -P INPUT DROP\niptables -A INPUT -p tcp --dport 21 -j ACCEPT\n",
                crate::facts::Dialect::Iptables,
            ),
        ] {
            let (rs, src) = run(text);
            let (v4, _) = facts(&rs, &src);
            assert_eq!(v4.expect("IPv4").dialect, dialect, "{text}");
        }
    }

    #[test]
    fn nft_commands_build_the_firewall() {
        let text = format!(
            "{NFT_BASE}NFT=/usr/sbin/nft\nnft add rule inet f input tcp dport 21 accept\n$NFT insert rule inet f input tcp dport 22 accept\nsudo nft 'add rule inet f input tcp dport {{ 40000-40100 }} accept'\nnft add chain inet f other \\{{ type filter hook input priority 10 \\; \\}}\nnft -ae -- add rule inet f input tcp dport 990 accept\nnft -c add rule inet f input tcp dport 23 accept\nnft add rule inet f input tcp dport 24 accept\nnft delete rule inet f input handle 4\nnft flush chain inet f other\n"
        );
        assert!(looks_like_script(Path::new("nft.sh"), &text));
        let (rs, src) = run(&text);
        assert!(nft_problems(&rs).is_empty(), "{:?}", nft_problems(&rs));
        let (v4, v6) = facts(&rs, &src);
        let v4 = v4.expect("IPv4");
        assert_eq!(v4.dialect, crate::facts::Dialect::Nftables);
        assert_eq!(v4.open_to_all.to_string(), "21-22,24,990,40000-40100");
        assert_eq!(rs.unknowns.len(), 1, "{:?}", rs.unknowns);
        assert!(rs.unknowns[0].what.contains("handle"));
        // Neighbour solicitations meet the drop policy: nothing reaches it over IPv6.
        assert_eq!(v6.expect("IPv6").open_to_all.to_string(), "");
    }

    #[test]
    fn nft_rules_are_spanned_inside_their_words() {
        let text = format!(
            "{NFT_BASE}nft 'add rule inet f input tcp dport {{ 21, 40000-40050 }} accept'\nnft add rule inet f input tcp dport 2121 accept\n"
        );
        let (rs, src) = run(&text);
        let file = rs.nft.as_ref().expect("nft ran");
        let rules: Vec<&str> = file.tables[0].chains[0]
            .rules
            .iter()
            .map(|r| src.slice(r.span))
            .collect();
        assert_eq!(
            rules,
            [
                "tcp dport { 21, 40000-40050 } accept",
                "tcp dport 2121 accept"
            ]
        );
    }

    #[test]
    fn a_rejected_nft_command_changes_nothing() {
        let text = format!(
            "{NFT_BASE}nft 'add rule inet f input tcp dport 21 accept; add rule inet f input tcp dport 22 accept tcp dport 23 accept'\nnft add rule inet f input tcp dport\nnft add rule inet f nochain tcp dport 25 accept\nnft add rule inet f input tcp dport 26 accept -c\nnft add rule inet f input tcp dport 27 accept\n"
        );
        let (rs, src) = run(&text);
        assert_eq!(
            nft_problems(&rs),
            [
                "Statement after terminal statement has no effect",
                "syntax error, unexpected newline",
                "Could not process rule: No such file or directory",
                "syntax error, options must be specified before commands",
            ]
        );
        let file = rs.nft.as_ref().expect("nft ran");
        let spans: Vec<&str> = file.problems.iter().map(|p| src.slice(p.span)).collect();
        assert_eq!(spans, ["tcp dport 23", "", "nochain", "-c"]);
        assert_eq!(
            facts(&rs, &src).0.expect("IPv4").open_to_all.to_string(),
            "27"
        );
    }

    #[test]
    fn nft_reads_its_standard_input() {
        let text = format!(
            "{NFT_BASE}nft -f - <<EOF\nadd rule inet f input tcp dport 21 accept\nEOF\nP=2121\nnft -f /dev/stdin <<< \"add rule inet f input tcp dport $P accept\"\nnft -f /etc/nftables.d/ftp.nft\nnft -cf - <<'EOF'\nadd rule inet f input tcp dport 23 accept\nEOF\n"
        );
        let (rs, src) = run(&text);
        assert!(nft_problems(&rs).is_empty(), "{:?}", nft_problems(&rs));
        let fw = facts(&rs, &src).0.expect("IPv4");
        assert_eq!(fw.open_to_all.to_string(), "21,2121");
        assert_eq!(rs.unknowns.len(), 1);
        assert!(rs.unknowns[0].what.contains("/etc/nftables.d/ftp.nft"));
        let rule = &rs.nft.as_ref().unwrap().tables[0].chains[0].rules[0];
        assert_eq!(src.slice(rule.span), "tcp dport 21 accept");
    }

    #[test]
    fn uncertain_nft_commands_count_when_they_open() {
        let text = format!(
            "{NFT_BASE}nft add rule inet f input tcp dport 21 accept\nif [ -n \"$FTPS\" ]; then nft add rule inet f input tcp dport 990 accept; nft flush ruleset; fi\nnft add rule inet f input tcp dport $SSH accept\n"
        );
        let (rs, src) = run(&text);
        let fw = facts(&rs, &src).0.expect("IPv4");
        assert_eq!(fw.open_to_all.to_string(), "21,990");
        assert_eq!(rs.unknowns.len(), 1);
        assert!(rs.unknowns[0].what.contains("$SSH"));
        assert!(fw.uncertain.iter().any(|u| u.what.contains("$SSH")));
    }

    #[test]
    fn iptables_wins_over_nft_in_one_script() {
        let text = format!(
            "{NFT_BASE}nft add rule inet f input tcp dport 21 accept\niptables -P INPUT DROP\niptables -A INPUT -p tcp --dport 22 -j ACCEPT\n"
        );
        let (rs, src) = run(&text);
        let fw = facts(&rs, &src).0.expect("IPv4");
        assert_eq!(fw.open_to_all.to_string(), "22");
        assert!(fw.uncertain.iter().any(|u| u.what.contains("nftables")));
    }

    #[test]
    fn sniffs_scripts() {
        let p = Path::new("firewall.sh");
        assert!(looks_like_script(
            p,
            "#!/bin/sh\niptables -A INPUT -j ACCEPT\n"
        ));
        assert!(looks_like_script(
            Path::new("rc.firewall"),
            "IPT=/sbin/iptables\n$IPT -F\n"
        ));
        assert!(looks_like_script(
            p,
            "iptables-restore <<EOF\n*filter\nCOMMIT\nEOF\n"
        ));
        assert!(!looks_like_script(
            Path::new("README.md"),
            "iptables -A INPUT -j ACCEPT\n"
        ));
        assert!(!looks_like_script(p, "echo hello\n"));
        // IPv6 alone: the word holds no "iptables".
        assert!(looks_like_script(
            p,
            "#!/bin/bash\n/sbin/ip6tables -P INPUT DROP\n"
        ));
        assert!(looks_like_script(
            Path::new("firewall6"),
            "IPT6=/sbin/ip6tables\n$IPT6 -F\n"
        ));
    }
}
