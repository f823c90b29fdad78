//! Batch files: [`crate::scripts::cmd`] runs them as cmd does, and each
//! command that runs is read by [`commands`]. A command a loop repeats is one
//! statement: its problems are reported once, and a loop of
//! `netsh firewall add portopening` reads as the range it opens.

use super::commands::{self, PortOpening, port_opening_deprecation};
use super::{Effects, RULE_FOR_SINGLE_PERCENT, RULE_NETSH_DEPRECATED};
use crate::formats::ipsec::{Filter, IpsecChange, Ports};
use crate::formats::winfw::{Change, Finding, LocalPorts, Protocol, Remote, WinRule};
use crate::scripts::{self, Command, Outcome};
use crate::source::{SourceFile, Span};
use std::collections::{HashMap, HashSet};

pub fn run(source: &SourceFile, fx: &mut Effects) -> Outcome {
    single_percent_for(source, fx);
    let mut repeats: HashMap<Span, Repeat> = HashMap::new();
    scripts::cmd::run(source, &mut |command: Command| {
        let findings = fx.findings.len();
        let changes = fx.firewall.len();
        let ipsec = fx.ipsec.len();
        commands::dispatch(&command, fx);
        if command.repeated {
            let repeat = repeats.entry(command.span).or_default();
            repeat.fold(findings, changes, fx);
            merge_filter(ipsec, &mut fx.ipsec);
        }
        scripts::Status::Unknown
    })
}

/// What the iterations of one repeated command found so far.
#[derive(Default)]
struct Repeat {
    seen: HashSet<(&'static str, Span)>,
    /// The loop's deprecation finding (its index) and what the loop opens.
    opening: Option<(usize, PortOpening)>,
}

impl Repeat {
    /// Keeps the first finding per rule and span of this iteration's findings
    /// (from `findings` on), and merges its port opening into the loop's.
    fn fold(&mut self, findings: usize, changes: usize, fx: &mut Effects) {
        let new: Vec<Finding> = fx.findings.drain(findings..).collect();
        let opened = fx
            .firewall
            .get(changes..)
            .unwrap_or(&[])
            .iter()
            .find_map(|c| match c {
                Change::Add(rule) if rule.legacy => opening(rule),
                _ => None,
            });
        for finding in new {
            let loop_deprecation =
                finding.rule == RULE_NETSH_DEPRECATED && finding.message.contains("this loop");
            match (loop_deprecation, &opened) {
                (true, Some(o)) => self.merge(o, finding.span, fx),
                _ => {
                    if self.seen.insert((finding.rule, finding.span)) {
                        fx.findings.push(finding);
                    }
                }
            }
        }
    }

    fn merge(&mut self, o: &PortOpening, span: Span, fx: &mut Effects) {
        let index = match &mut self.opening {
            Some((index, acc)) => {
                acc.ports = acc.ports.union(&o.ports);
                acc.name = common_name(&acc.name, &o.name);
                *index
            }
            None => {
                let mut first = o.clone();
                first.name = trim_counter(&first.name);
                fx.findings
                    .push(Finding::new(RULE_NETSH_DEPRECATED, span, "", ""));
                self.opening = Some((fx.findings.len() - 1, first));
                fx.findings.len() - 1
            }
        };
        if let (Some((_, acc)), Some(slot)) = (&self.opening, fx.findings.get_mut(index)) {
            *slot = port_opening_deprecation(acc, true, span);
        }
    }
}

/// A loop adding one IPsec filter per port to one list adds, in effect, one
/// filter for the ports of every iteration: consecutive filters of one
/// command that differ only in their ports become one.
fn merge_filter(before: usize, changes: &mut Vec<IpsecChange>) {
    if changes.len() != before + 1 || before == 0 {
        return;
    }
    let (
        Some(IpsecChange::AddFilter { list, filter }),
        Some(IpsecChange::AddFilter {
            list: prev_list,
            filter: prev,
        }),
    ) = (changes.get(before), changes.get(before - 1))
    else {
        return;
    };
    let same_but_ports = |a: &Filter, b: &Filter| {
        a.src == b.src
            && a.dst == b.dst
            && a.protocol == b.protocol
            && a.mirrored == b.mirrored
            && a.span == b.span
    };
    if list != prev_list || !same_but_ports(filter, prev) {
        return;
    }
    let merged = match (
        &prev.src_ports,
        &filter.src_ports,
        &prev.dst_ports,
        &filter.dst_ports,
    ) {
        (a, b, Ports::Set(x), Ports::Set(y)) if a == b => Filter {
            dst_ports: Ports::Set(x.union(y)),
            ..prev.clone()
        },
        (Ports::Set(x), Ports::Set(y), a, b) if a == b => Filter {
            src_ports: Ports::Set(x.union(y)),
            ..prev.clone()
        },
        _ => return,
    };
    let list = list.clone();
    changes.truncate(before - 1);
    changes.push(IpsecChange::AddFilter {
        list,
        filter: merged,
    });
}

fn opening(rule: &WinRule) -> Option<PortOpening> {
    let LocalPorts::Set(ports) = &rule.local_ports else {
        return None;
    };
    Some(PortOpening {
        name: rule.name.clone().unwrap_or_else(|| "FTP".to_owned()),
        udp: matches!(rule.protocol, Protocol::Udp),
        enabled: rule.enabled,
        remote: match &rule.remote {
            Remote::Some(list) => Some(list.clone()),
            _ => None,
        },
        ports: ports.clone(),
    })
}

/// `Passive FTP 5001`, `Passive FTP 5002` → `Passive FTP`: the name each
/// iteration shares, without the counter.
fn common_name(a: &str, b: &str) -> String {
    let shared: String = a
        .chars()
        .zip(b.chars())
        .take_while(|(x, y)| x == y)
        .map(|(x, _)| x)
        .collect();
    trim_counter(&shared)
}

fn trim_counter(name: &str) -> String {
    let t = name.trim_end_matches(|c: char| c.is_ascii_digit() || " -_:#".contains(c));
    if t.is_empty() { "FTP" } else { t }.to_owned()
}

/// `FOR /L %I ...` typed into a batch file: cmd reads `%I IN (...) TCP %` as
/// a variable, rejects the line ("… was unexpected at this time") and stops.
fn single_percent_for(source: &SourceFile, fx: &mut Effects) {
    let mut offset = 0;
    for raw in source.text.split_inclusive('\n') {
        let line = raw.trim_end_matches(['\n', '\r']);
        if let Some((var, statement)) = single_percent_variable(line) {
            let span = |r: std::ops::Range<usize>| source.span(offset + r.start, offset + r.end);
            let s = line.get(var.clone()).unwrap_or("%");
            let letter = s.get(1..).unwrap_or("");
            let mut finding = Finding::new(
                RULE_FOR_SINGLE_PERCENT,
                span(var.clone()),
                format!("`{s}` is the prompt form of a FOR variable: in a batch file cmd rejects this line and the loop never runs"),
                "needs %% in a batch file",
            )
            .related(span(statement.clone()), "this loop does nothing")
            .help(format!("write %%{letter} for every use of the variable in the batch file"));
            if let Some(percents) = loop_variable_percents(line, statement, letter) {
                let edits = percents.map(|at| (span(at..at + 1), "%%".to_owned()));
                finding = finding.fix(format!("write %%{letter}"), edits.collect());
            }
            fx.findings.push(finding);
        }
        offset += raw.len();
    }
}

/// Where the `%` of each `%X` (and `%~nxX`) of the loop's variable `X` sits in
/// `line`, when the statement holds no other `%` and ends on this line: then
/// doubling those is all the batch form needs.
fn loop_variable_percents(
    line: &str,
    statement: std::ops::Range<usize>,
    letter: &str,
) -> Option<impl Iterator<Item = usize>> {
    let text = line.get(statement.clone())?;
    let letter = letter
        .chars()
        .next()
        .filter(|_| letter.chars().count() == 1)?;
    if !parentheses_close(text) || text.ends_with('^') {
        return None;
    }
    let mut out = Vec::new();
    for (i, _) in text.match_indices('%') {
        let after = &text[i + 1..];
        let names_it = after.starts_with(letter) || modified_use(after, letter);
        if !names_it || out.last().is_some_and(|&p| p + 1 == i) {
            return None;
        }
        out.push(i);
    }
    Some(out.into_iter().map(move |i| statement.start + i))
}

/// `~dpnI` after a `%`: modifiers, then the variable.
fn modified_use(after: &str, letter: char) -> bool {
    let Some(rest) = after.strip_prefix('~') else {
        return false;
    };
    let word: String = rest.chars().take_while(char::is_ascii_alphabetic).collect();
    let Some(modifiers) = word.strip_suffix(letter) else {
        return false;
    };
    modifiers.chars().all(|c| "fdpnxsatz".contains(c))
}

/// Every `(` outside quotes is closed on the line (a block would go on below).
fn parentheses_close(text: &str) -> bool {
    let mut depth = 0i32;
    let mut quoted = false;
    for c in text.chars() {
        match c {
            '"' => quoted = !quoted,
            '(' if !quoted => depth += 1,
            ')' if !quoted => depth -= 1,
            _ => {}
        }
    }
    depth == 0
}

/// The byte ranges of a `%X` FOR variable and of the statement.
fn single_percent_variable(line: &str) -> Option<(std::ops::Range<usize>, std::ops::Range<usize>)> {
    let start = line.len() - line.trim_start_matches([' ', '\t', '@', '(']).len();
    let body = &line[start..];
    let is_for = body.get(..3).is_some_and(|w| w.eq_ignore_ascii_case("for"))
        && body.get(3..).is_some_and(|r| r.starts_with([' ', '\t']));
    if !is_for {
        return None;
    }
    let mut words = words(body).into_iter().skip(1).peekable();
    while let Some((at, word)) = words.next() {
        let lower = word.to_ascii_lowercase();
        let takes_value = match lower.as_str() {
            "/f" => words.peek().is_some_and(|(_, w)| w.starts_with('"')),
            "/r" => words.peek().is_some_and(|(_, w)| !w.starts_with('%')),
            _ => false,
        };
        if word.starts_with('/') {
            if takes_value {
                words.next();
            }
            continue;
        }
        let single = word.len() == 2 && word.starts_with('%') && word != "%%";
        let end = line.trim_end().len();
        return single.then(|| (start + at..start + at + word.len(), start..end));
    }
    None
}

/// Blank-separated words (quotes grouping) with their offsets.
fn words(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start = None;
    let mut quoted = false;
    for (i, c) in text.char_indices() {
        if c == '"' {
            quoted = !quoted;
        }
        let blank = c.is_whitespace() && !quoted;
        match (blank, start) {
            (false, None) => start = Some(i),
            (true, Some(s)) => {
                out.push((s, &text[s..i]));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push((s, &text[s..]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::winfw::Change;
    use crate::source::FileId;

    fn effects(script: &str) -> Effects {
        let src = SourceFile::new(FileId(0), "x.cmd", script.as_bytes());
        let mut fx = Effects::default();
        run(&src, &mut fx);
        fx
    }

    fn opened(fx: &Effects) -> String {
        fx.firewall
            .iter()
            .filter_map(|c| match c {
                Change::Add(r) => match &r.local_ports {
                    LocalPorts::Set(p) => Some(p.clone()),
                    _ => None,
                },
                _ => None,
            })
            .fold(crate::portset::PortSet::empty(), |a, p| a.union(&p))
            .to_string()
    }

    #[test]
    fn a_loop_of_port_openings_reads_as_its_range() {
        let fx = effects(
            "FOR /L %%I IN (5001,1,5201) DO netsh firewall add portopening TCP %%I \"Passive FTP %%I\"\r\n",
        );
        assert_eq!(opened(&fx), "5001-5201");
        assert_eq!(fx.findings.len(), 1);
        let f = &fx.findings[0];
        assert!(
            f.message.contains("this loop adds 201 port openings"),
            "{}",
            f.message
        );
        assert!(
            f.help.as_deref().unwrap().contains("name=\"Passive FTP\"")
                && f.help.as_deref().unwrap().contains("localport=5001-5201"),
            "{:?}",
            f.help
        );
    }

    #[test]
    fn a_problem_of_a_repeated_command_is_reported_once() {
        let fx =
            effects("for %%p in (21 990 x) do netsh firewall add portopening TCP %%p%%p FTP\r\n");
        assert_eq!(
            fx.findings
                .iter()
                .filter(|f| f.rule == super::super::RULE_FW_MALFORMED)
                .count(),
            1
        );
    }

    #[test]
    fn single_percent_in_a_batch_file_is_rejected() {
        let fx = effects(
            "FOR /L %I IN (5001,1,5201) DO netsh firewall add portopening TCP %I \"Passive FTP\"%I\r\n",
        );
        assert!(fx.firewall.is_empty());
        assert_eq!(fx.findings[0].rule, RULE_FOR_SINGLE_PERCENT);
    }

    fn fixed(line: &str) -> Option<String> {
        let fx = effects(line);
        let fix = fx.findings.first()?.fixes.first()?;
        let mut text = line.to_owned();
        for (span, with) in fix.edits.iter().rev() {
            text.replace_range(span.range(), with);
        }
        Some(text)
    }

    #[test]
    fn the_loop_variable_and_its_uses_are_doubled() {
        assert_eq!(
            fixed("for /L %I in (1,1,3) do echo %I %~nxI\r\n").as_deref(),
            Some("for /L %%I in (1,1,3) do echo %%I %%~nxI\r\n")
        );
    }

    #[test]
    fn other_percents_leave_the_fix_out() {
        for line in [
            "for %I in (a) do echo %I %PATH%\r\n",
            "for /f \"tokens=1,2\" %a in (x) do echo %a %b\r\n",
            "for %I in (a) do (\r\n",
            "for %I in (a) do echo %i\r\n",
        ] {
            let fx = effects(line);
            assert_eq!(fx.findings[0].rule, RULE_FOR_SINGLE_PERCENT, "{line}");
            assert_eq!(fixed(line), None, "{line}");
        }
    }

    #[test]
    fn redirections_never_reach_netsh() {
        let fx = effects(
            "netsh advfirewall firewall add rule name=FTP dir=in action=allow protocol=TCP localport=21 > nul 2>&1\r\n",
        );
        assert!(fx.findings.is_empty(), "{:?}", fx.findings);
        assert_eq!(opened(&fx), "21");
    }

    #[test]
    fn adsutil_beside_the_script() {
        let fx = effects(
            "cscript //nologo %~dp0adsutil.vbs set /MSFTPSVC/PassivePortRange \"5001-5201\"\r\n",
        );
        assert_eq!(fx.iis.len(), 1);
        assert!(fx.findings.is_empty(), "{:?}", fx.findings);
    }

    #[test]
    fn adsutil_forms() {
        let fx = effects(
            "cscript.exe adsutil.vbs set /MSFTPSVC/PassivePortRange \"5001-5201\"\r\nCScript C:\\Inetpub\\AdminScripts\\adsutil.vbs SET MSFTPSVC\\1\\ServerBindings \":2121:\"\r\nCscript.exe c: \\ Inetpub \\ adminscripts \\ adsutil. vbs set/msftpsvc/passiveportrange \"5500-5515\"\r\n",
        );
        assert_eq!(fx.iis.len(), 2);
        assert_eq!(fx.findings.len(), 1);
        assert!(fx.findings[0].help.as_deref().unwrap().contains(
            "c:\\Inetpub\\adminscripts\\adsutil.vbs set /msftpsvc/passiveportrange \"5500-5515\""
        ));
    }
}
