//! The iptables-save / iptables-restore file grammar, line by line as
//! `xtables_restore_parse_line` (iptables 1.8.9, nft backend) reads it.

use super::Fnv;
use super::lex::{Arg, split_restore_line, strip_rule_counters};
use super::rule::{self, Ctx, Mode, assert_valid_chain_name};
use super::state::{self, Replay, loop_rule, parse_policy, reachable_loop, set_policy};
use super::{Family, PortInterner, Problem, ProblemKind, Ruleset, TableKind};
use crate::formats::Format;
use crate::source::{SourceFile, Span};
use std::collections::HashMap;
use std::hash::BuildHasherDefault;

/// A dump: a `*table` line and a `COMMIT` or `:CHAIN POLICY` line.
pub fn looks_like_save(text: &str) -> bool {
    // One pass over the `*`s (this runs on every file of a tree): a table line is
    // `*name` at the start of a line.
    let table_start = text.match_indices('*').find(|&(i, _)| {
        (i == 0 || text.as_bytes()[i - 1] == b'\n') && {
            let name = text[i + 1..]
                .split(['\n', '\r', ' ', '\t'])
                .next()
                .unwrap_or("");
            TableKind::parse(name).is_some()
        }
    });
    let Some((start, _)) = table_start else {
        return false;
    };
    let mut table = false;
    for line in text[start..].lines() {
        let line = line.trim_end_matches('\r');
        if TableKind::parse(line.strip_prefix('*').unwrap_or("")).is_some() {
            table = true;
        } else if table && (line == "COMMIT" || line.starts_with(':') || line.starts_with("-A ")) {
            return true;
        }
    }
    false
}

/// IPv6 dumps: by name (`rules.v6`, `ip6tables*`), header, or IPv6-only content.
fn family_of(source: &SourceFile) -> Family {
    let name = source
        .path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let by_name = name.ends_with(".v6") || name.contains("ip6tables") || name == "rules6";
    let text = &source.text;
    let head = prefix(text, 4096);
    let by_header = head.contains("ip6tables-save") || head.contains("ip6tables-restore");
    // IPv6-only words appear in the first rules of any IPv6 dump; a million-line
    // file is not scanned six times for them.
    let body = prefix(text, 1 << 16);
    let by_content = ["ipv6-icmp", "icmpv6", "icmp6", "::/0", "/128 ", "::1/"]
        .iter()
        .any(|k| body.contains(k));
    if by_name || by_header || by_content {
        Family::V6
    } else {
        Family::V4
    }
}

/// At most `n` bytes of `text`, cut at a character boundary.
fn prefix(text: &str, n: usize) -> &str {
    let mut end = n.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

pub fn parse(source: &SourceFile) -> Ruleset {
    let family = family_of(source);
    let mut rs = Ruleset::new(Format::IptablesSave, family);
    let mut p = SaveParser::new(source, family, false);
    let text: &str = &source.text;
    p.replay.capacity_hints = append_counts(text);
    let mut offset = 0;
    let mut line_no = 0u32;
    let mut words = Vec::with_capacity(32);
    let mut crlf = false;
    while offset < text.len() {
        let end = text[offset..].find('\n').map_or(text.len(), |i| offset + i);
        let mut line = &text[offset..end];
        line_no += 1;
        if let Some(stripped) = line.strip_suffix('\r') {
            if !crlf {
                crlf = true;
                rs.problems
                    .push(crlf_problem(source.span(end - 1, end), text));
            }
            line = stripped;
        }
        p.line(&mut rs, line, offset, line_no, None, &mut words);
        offset = end + 1;
    }
    p.finish(&mut rs, line_no);
    rs
}

/// `-A CHAIN` lines per chain name, counted before parsing: a million-rule chain is
/// then allocated once instead of growing (and copying) its way there.
fn append_counts(text: &str) -> HashMap<String, usize> {
    let mut counts: HashMap<&str, usize, BuildHasherDefault<Fnv>> = HashMap::default();
    // Dumps list a chain's rules together: count runs, hash once per run.
    let mut run: (&str, usize) = ("", 0);
    for line in text.split('\n') {
        if let Some(rest) = line.strip_prefix("-A ") {
            let name = rest.split([' ', '\t']).next().unwrap_or("");
            if name == run.0 {
                run.1 += 1;
                continue;
            }
            *counts.entry(run.0).or_insert(0) += run.1;
            run = (name, 1);
        }
    }
    *counts.entry(run.0).or_insert(0) += run.1;
    counts
        .into_iter()
        .filter(|(_, n)| *n >= 1024)
        .map(|(k, n)| (k.to_owned(), n))
        .collect()
}

/// Reads restore-file lines into a ruleset: a whole dump, or the body of an
/// `iptables-restore <<EOF` heredoc in a script.
pub struct SaveParser<'s> {
    source: &'s SourceFile,
    family: Family,
    noflush: bool,
    replay: Replay,
    interner: PortInterner,
    /// The open table and the span of its `*table` line.
    table: Option<(TableKind, Span)>,
    /// After a table line the tool rejects: its lines up to COMMIT add nothing new.
    skip_to_commit: bool,
}

impl<'s> SaveParser<'s> {
    pub fn new(source: &'s SourceFile, family: Family, noflush: bool) -> Self {
        SaveParser {
            source,
            family,
            noflush,
            replay: Replay::new(Mode::Restore),
            interner: PortInterner::default(),
            table: None,
            skip_to_commit: false,
        }
    }

    fn span(&self, start: usize, end: usize) -> Span {
        self.source.span(start, end)
    }

    /// The end of the input: a table still open never loads.
    pub fn finish(&mut self, rs: &mut Ruleset, lines: u32) {
        if let Some((_, span)) = self.table {
            rs.problems.push(Problem {
                kind: ProblemKind::Syntax,
                message: format!("COMMIT expected at line {}", lines + 1),
                span,
                reported_at: None,
            });
            self.commit(rs, None);
        }
    }

    /// One line (without its line terminator) starting at `start` in the source.
    /// `remap` is set when the line is not the source text itself (a heredoc line
    /// after expansion): every span then points at that source line.
    /// `words` is a buffer for the line's words, kept by the caller across lines.
    pub fn line<'l>(
        &mut self,
        rs: &mut Ruleset,
        line: &'l str,
        start: usize,
        line_no: u32,
        remap: Option<Span>,
        words: &mut Vec<Arg<'l>>,
    ) {
        let line_span = remap.unwrap_or_else(|| self.span(start, start + line.len()));
        if line.is_empty() || line.starts_with('#') {
            return;
        }
        if self.skip_to_commit {
            self.skip_to_commit = line != "COMMIT";
            return;
        }
        if self.table.is_some() && line == "COMMIT" {
            self.commit(rs, Some(line_span));
            return;
        }
        if line.starts_with('*') && self.table.is_none() {
            self.open_table(rs, line, start, line_no, remap);
            return;
        }
        if line.starts_with(':') && self.table.is_some() {
            self.chain_line(rs, line, start, line_no, remap);
            return;
        }
        let Some((kind, _)) = self.table else {
            rs.problems
                .push(syntax(format!("line {line_no} failed"), line_span));
            return;
        };
        self.rule_line(rs, kind, line, start, line_no, line_span, remap, words);
        // `COMMIT  ` or `commit` is rejected, but it was meant to end the table:
        // one finding, not a second "COMMIT expected".
        if line.trim().eq_ignore_ascii_case("COMMIT") {
            self.commit(rs, Some(line_span));
        }
    }

    fn word_span(&self, start: usize, len: usize, remap: Option<Span>) -> Span {
        remap.unwrap_or_else(|| self.span(start, start + len))
    }

    fn open_table(
        &mut self,
        rs: &mut Ruleset,
        line: &str,
        start: usize,
        line_no: u32,
        remap: Option<Span>,
    ) {
        let rest = &line[1..];
        let line_span = self.word_span(start, line.len(), remap);
        let Some((w_start, name)) = first_word(rest) else {
            rs.problems.push(syntax(
                format!("iptables-restore: line {line_no} table name invalid"),
                line_span,
            ));
            self.skip_to_commit = true;
            return;
        };
        let Some(kind) = TableKind::parse(name) else {
            rs.problems.push(syntax(
                format!("iptables-restore: line {line_no} table name '{name}' invalid"),
                self.word_span(start + 1 + w_start, name.len(), remap),
            ));
            self.skip_to_commit = true;
            return;
        };
        if self.noflush {
            Replay::table_mut(rs, kind, self.family);
        } else {
            Replay::reset_table(rs, kind, self.family);
        }
        if self.family == Family::V4 {
            rs.has_v4 = true;
        }
        self.table = Some((kind, line_span));
    }

    fn chain_line(
        &mut self,
        rs: &mut Ruleset,
        line: &str,
        start: usize,
        line_no: u32,
        remap: Option<Span>,
    ) {
        let Some((kind, _)) = self.table else { return };
        let rest = &line[1..];
        let line_span = self.word_span(start, line.len(), remap);
        let Some((c_off, chain)) = first_word(rest) else {
            rs.problems.push(syntax(
                format!("iptables-restore: line {line_no} chain name invalid"),
                line_span,
            ));
            return;
        };
        let c_start = start + 1 + c_off;
        let chain_span = self.word_span(c_start, chain.len(), remap);
        if let Err(e) = check_chain_line_name(chain, chain_span) {
            rs.problems.push(state::problem(e));
            return;
        }
        let after = &rest[c_off + chain.len()..];
        let Some((p_off, policy)) = first_word(after) else {
            rs.problems.push(syntax(
                format!("iptables-restore: line {line_no} policy invalid"),
                line_span,
            ));
            return;
        };
        let policy_span = self.word_span(c_start + chain.len() + p_off, policy.len(), remap);
        let table = Replay::table_mut(rs, kind, self.family);
        match table.find(chain) {
            Some(id) if table.chains[id as usize].builtin => {
                table.chains[id as usize].decl = Some(line_span);
                match parse_policy(policy) {
                    Some(p) => set_policy(&mut table.chains[id as usize], p, line_span),
                    None => rs.problems.push(syntax(
                        format!("line {line_no} failed: Bad policy name."),
                        policy_span,
                    )),
                }
            }
            // nft: a duplicate `:CHAIN -` is accepted, and a user chain's policy ignored.
            Some(_) => {}
            None => {
                table.add_chain(chain, false, Some(line_span));
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn rule_line<'l>(
        &mut self,
        rs: &mut Ruleset,
        kind: TableKind,
        line: &'l str,
        start: usize,
        line_no: u32,
        line_span: Span,
        remap: Option<Span>,
        args: &mut Vec<Arg<'l>>,
    ) {
        let skip = match strip_rule_counters(line) {
            Ok(n) => n,
            Err(what) => {
                rs.problems
                    .push(syntax(format!("Bad line {line_no}: {what}"), line_span));
                return;
            }
        };
        args.clear();
        split_restore_line(&line[skip..], start + skip, args);
        if let Some(span) = remap {
            for a in args.iter_mut() {
                a.start = span.start;
                a.end = span.end;
            }
        }
        let ctx = Ctx {
            mode: Mode::Restore,
            family: self.family,
            table: kind,
            file: self.source.id,
        };
        match rule::parse(args, &ctx, line_span, &mut rs.port_sets, &mut self.interner) {
            Ok(Some(cmd)) => {
                for (span, what) in &cmd.unknowns {
                    rs.unknowns.push(super::Unknown {
                        span: *span,
                        rule: line_span,
                        what: what.clone(),
                        ports: rs.ports(cmd.rule.key_in),
                    });
                }
                self.replay.apply(rs, cmd, self.family);
            }
            // A `-4` line in an IPv6 file, or `-6` in an IPv4 one.
            Ok(None) => {}
            Err(e) => rs.problems.push(state::problem(e)),
        }
    }

    /// COMMIT: the nft backend now reports missing chains and loops.
    fn commit(&mut self, rs: &mut Ruleset, at: Option<Span>) {
        self.replay.end_table();
        for i in self.replay.at_commit.drain(..) {
            if let Some(p) = rs.problems.get_mut(i) {
                p.reported_at = at;
            }
        }
        if let Some((kind, _)) = self.table.take() {
            let table = Replay::table_mut(rs, kind, self.family);
            if let Some(path) = reachable_loop(table) {
                if let Some(span) = loop_rule(table, &path) {
                    let chain = table
                        .chains
                        .iter()
                        .find(|c| c.rules.iter().any(|r| r.span == span))
                        .map(|c| c.name.to_string())
                        .unwrap_or_default();
                    rs.problems.push(syntax(
                        format!("RULE_APPEND failed (Too many links): rule in chain {chain}"),
                        span,
                    ));
                }
            }
        }
    }
}

/// `strtok(s, " \t\n")`: the first word and its offset.
fn first_word(s: &str) -> Option<(usize, &str)> {
    let start = s.find(|c| !matches!(c, ' ' | '\t' | '\n'))?;
    let rest = &s[start..];
    let len = rest.find([' ', '\t', '\n']).unwrap_or(rest.len());
    Some((start, &rest[..len]))
}

/// `:CHAIN` lines check less than `-N` does: length, a leading `-`/`!`, and the
/// standard targets (measured: `:LOG -` loads, `-N LOG` does not).
fn check_chain_line_name(name: &str, span: Span) -> Result<(), rule::ParseError> {
    if matches!(name, "ACCEPT" | "DROP" | "QUEUE" | "RETURN") {
        return Err(rule::ParseError {
            message: "chain name may not clash with target name".into(),
            span,
            kind: ProblemKind::Syntax,
        });
    }
    if name.len() >= 29 || name.starts_with('-') || name.starts_with('!') {
        return assert_valid_chain_name(name, span);
    }
    Ok(())
}

fn syntax(message: String, span: Span) -> Problem {
    Problem {
        kind: ProblemKind::Syntax,
        message,
        span,
        reported_at: None,
    }
}

/// CRLF: `\r` sticks to the table name, so the first `*table` line already fails.
fn crlf_problem(span: Span, text: &str) -> Problem {
    let table = text
        .lines()
        .find_map(|l| l.strip_prefix('*'))
        .map(|l| l.trim_end_matches('\r'))
        .unwrap_or("filter");
    Problem {
        kind: ProblemKind::LineEndings,
        message: format!("table name '{table}' invalid"),
        span,
        reported_at: None,
    }
}

#[cfg(test)]
mod tests {
    //! Verdicts of a real `iptables-restore` load (nft), domain.md "iptables" §1.
    use super::*;
    use crate::source::FileId;

    fn problems(text: &str) -> Vec<String> {
        let src = SourceFile::new(FileId(0), "rules.v4", text.as_bytes());
        parse(&src)
            .problems
            .into_iter()
            .map(|p| p.message)
            .collect()
    }

    fn one(text: &str) -> String {
        let p = problems(text);
        assert_eq!(p.len(), 1, "{text:?}: {p:?}");
        p[0].clone()
    }

    const HEAD: &str =
        "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n";

    fn with(rules: &str) -> String {
        format!("{HEAD}{rules}COMMIT\n")
    }

    #[test]
    fn accepted_by_a_real_load() {
        for text in [
            with(""),
            "*filter\n:INPUT DROP [0*0]\nCOMMIT\n".to_string(),
            with("[5:100] -A INPUT -j ACCEPT\n"),
            with(":FOO ACCEPT [0:0]\n"),
            with(":LATE - [0:0]\n:LATE - [0:0]\n"),
            with(":INPUT DROP [0:0]\n:INPUT ACCEPT [0:0]\n"),
            with("   -A INPUT -j ACCEPT\n"),
            with("\n\n"),
            "*filter\nCOMMIT".to_string(),
            with("-I INPUT -j ACCEPT\n"),
            with("-N X\n-A INPUT -j X\n-P INPUT DROP\n-F X\n-D INPUT -j X\n-X X\n"),
            with(":A - [0:0]\n-A INPUT -j A\n-F INPUT\n-X A\n"),
            with("-A INPUT -j ACCEPT\n-D INPUT 1\n"),
            "*filter\n-A INPUT -j DROP\nCOMMIT\n*filter\n-A INPUT -j ACCEPT\nCOMMIT\n".to_string(),
            String::new(),
            with(":A - [0:0]\n:B - [0:0]\n-A A -j B\n-A B -j A\n"),
            with("-A INPUT -m comment --comment \"a \\\"b\\\" c\" -j ACCEPT\n"),
            "*nat\n:PREROUTING DROP [0:0]\n-A PREROUTING -p tcp --dport 8080 -j REDIRECT --to-ports 80\nCOMMIT\n"
                .to_string(),
            "*raw\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -p tcp --dport 21 -j CT --helper ftp\nCOMMIT\n"
                .to_string(),
            with(":A234567890123456789012345678 - [0:0]\n"),
            with(":LOG - [0:0]\n"),
        ] {
            assert_eq!(problems(&text), Vec::<String>::new(), "{text:?}");
        }
    }

    #[test]
    fn rejected_by_a_real_load() {
        assert_eq!(
            one(&with("-A INPUT -i lo -j ACCEPT # loopback\n")),
            "Bad argument `#'"
        );
        assert_eq!(one(&with("  # indented comment\n")), "Bad argument `#'");
        assert_eq!(
            one(&with("-A INPUT -m nosuchmatch -j ACCEPT\n")),
            "Couldn't load match `nosuchmatch':No such file or directory"
        );
        assert_eq!(
            one("*filter\n:INPUT DROP [0:0]\n-A INPUT -j ACCEPT\n"),
            "COMMIT expected at line 4"
        );
        assert_eq!(one("*filter\n*nat\nCOMMIT\n"), "Bad argument `*nat'");
        assert_eq!(
            one("-A INPUT -j ACCEPT\n*filter\nCOMMIT\n"),
            "line 1 failed"
        );
        assert_eq!(
            one("*filter\nCOMMIT\n-A INPUT -j ACCEPT\n"),
            "line 3 failed"
        );
        assert_eq!(
            one(&with("-A INPUT -j MYCHAIN\n:MYCHAIN - [0:0]\n")),
            "Chain 'MYCHAIN' does not exist"
        );
        assert_eq!(
            one(&with("-A INPUT -j NOSUCH\n")),
            "Chain 'NOSUCH' does not exist"
        );
        assert_eq!(
            one("*filter\n:INPUT BOGUS [0:0]\nCOMMIT\n"),
            "line 2 failed: Bad policy name."
        );
        assert_eq!(
            one("*filter\n:INPUT REJECT [0:0]\nCOMMIT\n"),
            "line 2 failed: Bad policy name."
        );
        assert_eq!(
            one(&with("-A PREROUTING -j ACCEPT\n")),
            "No chain/target/match by that name."
        );
        assert_eq!(
            one("*bogus\nCOMMIT\n"),
            "iptables-restore: line 1 table name 'bogus' invalid"
        );
        assert_eq!(one(&with("  \n")), "no command specified");
        assert_eq!(one(&with("\t\n")), "no command specified");
        assert_eq!(one("*filter\nCOMMIT  \n"), "Bad argument `COMMIT'");
        assert_eq!(one("*filter\ncommit\n"), "Bad argument `commit'");
        assert_eq!(
            one(&with("-I INPUT 2 -j DROP\n")),
            "Index of insertion too big."
        );
        assert_eq!(
            one(&with("-A INPUT -p tcp --dport 70000 -j ACCEPT\n")),
            "invalid port/service `70000' specified"
        );
        assert_eq!(
            one(&with("-A INPUT -p tcp --dport 830:820 -j ACCEPT\n")),
            "invalid portrange (min > max)"
        );
        assert_eq!(
            one(&with("-A INPUT --dport 22 -j ACCEPT\n")),
            "unknown option \"--dport\""
        );
        assert_eq!(
            one(&with("-A INPUT -o eth0 -j ACCEPT\n")),
            "Can't use -o with INPUT"
        );
        assert_eq!(
            one("*nat\n-A PREROUTING -p tcp --dport 21 -j DROP\nCOMMIT\n"),
            "The \"nat\" table is not intended for filtering, the use of DROP is therefore inhibited."
        );
        assert_eq!(
            one(&with(
                ":A - [0:0]\n:B - [0:0]\n-A INPUT -j A\n-A A -j B\n-A B -j A\n"
            )),
            "RULE_APPEND failed (Too many links): rule in chain B"
        );
        assert_eq!(
            one(&with(":A - [0:0]\n-A INPUT -j A\n-A A -j A\n")),
            "RULE_APPEND failed (Too many links): rule in chain A"
        );
        assert_eq!(
            one(&with("-A INPUT -j INPUT\n")),
            "RULE_APPEND failed (Operation not supported): rule in chain INPUT"
        );
        assert_eq!(
            one(&with("-A INPUT -j ACCEPT -j DROP\n")),
            "multiple -j flags not allowed"
        );
        assert_eq!(
            one(&with(":A2345678901234567890123456789 - [0:0]\n")),
            "chain name `A2345678901234567890123456789' too long (must be under 29 chars)"
        );
        assert_eq!(
            one(&with(":ACCEPT - [0:0]\n")),
            "chain name may not clash with target name"
        );
        assert_eq!(
            one(&with("-N LOG\n")),
            "chain name may not clash with target name"
        );
        assert_eq!(one(&with("-N X\n-N X\n")), "Chain already exists.");
        assert_eq!(
            one(&with("-P X DROP\n")),
            "No chain/target/match by that name."
        );
        assert_eq!(
            one(&with(":X - [0:0]\n-A INPUT -j X\n-X X\n")),
            "CHAIN_DEL failed (Device or resource busy): chain X"
        );
        assert_eq!(
            one(&with("-A INPUT -j ACCEPT\n-D INPUT 2\n")),
            "Index of deletion too big."
        );
        assert_eq!(
            one(&with(":A - [0:0]\n-A A -j ACCEPT\n-F\n-X\n")),
            "CHAIN_DEL failed (Device or resource busy): chain A"
        );
        assert_eq!(
            one(&with("-A INPUT -j ACCEPT\n-D INPUT -j DROP\n")),
            "Bad rule (does a matching rule exist in that chain?)."
        );
        assert_eq!(
            one(&with("-A INPUT -j DNAT --to-destination 1.2.3.4\n")),
            "RULE_APPEND failed (Invalid argument): rule in chain INPUT"
        );
        assert_eq!(
            one(&with("-A INPUT -w -j ACCEPT\n")),
            "You cannot use `-w' from iptables-restore"
        );
        assert_eq!(
            one(&with("[5:100 -A INPUT -j ACCEPT\n")),
            "Bad line 5: need ]"
        );
    }

    #[test]
    fn crlf_is_one_problem() {
        let src = SourceFile::new(
            FileId(0),
            "rules.v4",
            b"# x\r\n*filter\r\n:INPUT DROP [0:0]\r\nCOMMIT\r\n",
        );
        let rs = parse(&src);
        assert_eq!(rs.problems.len(), 1, "{:?}", rs.problems);
        assert_eq!(rs.problems[0].kind, ProblemKind::LineEndings);
        assert_eq!(rs.problems[0].message, "table name 'filter' invalid");
    }

    #[test]
    fn missing_chain_is_reported_at_commit() {
        let src = SourceFile::new(FileId(0), "rules.v4", with("-A INPUT -j NOPE\n").as_bytes());
        let rs = parse(&src);
        let p = &rs.problems[0];
        assert_eq!(src.slice(p.span), "NOPE");
        assert_eq!(p.reported_at.map(|s| src.slice(s)), Some("COMMIT"));
    }

    #[test]
    fn a_second_block_flushes_the_first() {
        let src = SourceFile::new(
            FileId(0),
            "rules.v4",
            b"*filter\n:INPUT DROP [0:0]\n-A INPUT -j DROP\nCOMMIT\n*filter\n-A INPUT -j ACCEPT\nCOMMIT\n",
        );
        let rs = parse(&src);
        let input = rs
            .table(TableKind::Filter)
            .and_then(|t| t.chain("INPUT"))
            .expect("INPUT");
        assert_eq!(input.rules.len(), 1);
        assert_eq!(input.rules[0].target, super::super::Target::Accept);
        assert_eq!(input.policy, super::super::Policy::Drop);
    }

    #[test]
    fn ipv6_dumps_have_no_ipv4_facts() {
        let v4 = "*filter\n:INPUT DROP [0:0]\n-A INPUT -p tcp --dport 21 -j ACCEPT\nCOMMIT\n";
        let by_name = SourceFile::new(FileId(0), "etc/iptables/rules.v6", v4.as_bytes());
        assert!(super::super::facts(&parse(&by_name), &by_name).is_none());
        let v6 = "# Generated by ip6tables-save v1.8.9\n*filter\n:INPUT DROP [0:0]\n-A INPUT -s ::1/128 -j ACCEPT\nCOMMIT\n";
        let by_content = SourceFile::new(FileId(0), "etc/iptables/rules.v4", v6.as_bytes());
        assert!(super::super::facts(&parse(&by_content), &by_content).is_none());
        let plain = SourceFile::new(FileId(0), "etc/iptables/rules.v4", v4.as_bytes());
        assert!(super::super::facts(&parse(&plain), &plain).is_some());
    }

    #[test]
    fn sniffs_dumps() {
        assert!(looks_like_save(
            "# Generated by iptables-save\n*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n"
        ));
        assert!(!looks_like_save("listen=YES\n"));
        assert!(!looks_like_save("see *filter in the docs\n"));
    }
}
