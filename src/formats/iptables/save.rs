//! The iptables-save / iptables-restore file grammar, line by line as
//! `xtables_restore_parse_line` (iptables 1.8.9, nft backend) reads it.

use super::lex::{split_restore_line, strip_rule_counters};
use super::rule::{self, Ctx, Mode, assert_valid_chain_name};
use super::state::{self, Replay, loop_rule, parse_policy, reachable_loop, set_policy};
use super::{Family, PortInterner, Problem, ProblemKind, Ruleset, TableKind};
use crate::formats::Format;
use crate::source::{SourceFile, Span};

/// A dump: a `*table` line and a `COMMIT` or `:CHAIN POLICY` line.
pub fn looks_like_save(text: &str) -> bool {
    let has_table = ["*filter", "*nat", "*mangle", "*raw", "*security"]
        .iter()
        .any(|t| text.contains(t));
    if !has_table {
        return false;
    }
    let mut table = false;
    for line in text.lines() {
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
    let head = text.get(..text.len().min(4096)).unwrap_or("");
    let by_header = head.contains("ip6tables-save") || head.contains("ip6tables-restore");
    let by_content = ["ipv6-icmp", "icmpv6", "icmp6", "::/0", "/128 ", "::1/"]
        .iter()
        .any(|k| text.contains(k));
    if by_name || by_header || by_content {
        Family::V6
    } else {
        Family::V4
    }
}

pub fn parse(source: &SourceFile) -> Ruleset {
    let family = family_of(source);
    let mut rs = Ruleset::new(Format::IptablesSave, family);
    let mut p = SaveParser::new(source, family, false);
    let text: &str = &source.text;
    if let Some(cr) = text.find("\r\n") {
        rs.problems
            .push(crlf_problem(source.span(cr, cr + 1), text));
    }
    let mut offset = 0;
    let mut line_no = 0u32;
    while offset < text.len() {
        let end = text[offset..].find('\n').map_or(text.len(), |i| offset + i);
        let line = &text[offset..end];
        line_no += 1;
        p.line(
            &mut rs,
            line.strip_suffix('\r').unwrap_or(line),
            offset,
            line_no,
            None,
        );
        offset = end + 1;
    }
    p.finish(&mut rs, line_no);
    rs
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
    pub fn line(
        &mut self,
        rs: &mut Ruleset,
        line: &str,
        start: usize,
        line_no: u32,
        remap: Option<Span>,
    ) {
        let line_span = remap.unwrap_or_else(|| self.span(start, start + line.len()));
        if line.is_empty() || line.starts_with('#') {
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
        self.rule_line(rs, kind, line, start, line_no, line_span, remap);
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
            return;
        };
        let Some(kind) = TableKind::parse(name) else {
            rs.problems.push(syntax(
                format!("iptables-restore: line {line_no} table name '{name}' invalid"),
                self.word_span(start + 1 + w_start, name.len(), remap),
            ));
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
    fn rule_line(
        &mut self,
        rs: &mut Ruleset,
        kind: TableKind,
        line: &str,
        start: usize,
        line_no: u32,
        line_span: Span,
        remap: Option<Span>,
    ) {
        let skip = match strip_rule_counters(line) {
            Ok(n) => n,
            Err(what) => {
                rs.problems
                    .push(syntax(format!("Bad line {line_no}: {what}"), line_span));
                return;
            }
        };
        let mut args = Vec::with_capacity(16);
        split_restore_line(&line[skip..], start + skip, &mut args);
        if let Some(span) = remap {
            for a in &mut args {
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
        match rule::parse(
            &args,
            &ctx,
            line_span,
            &mut rs.port_sets,
            &mut self.interner,
        ) {
            Ok(cmd) => {
                for (span, what) in &cmd.unknowns {
                    rs.unknowns.push(super::Unknown {
                        span: *span,
                        rule: line_span,
                        what: what.clone(),
                        ports: rs.ports(cmd.rule.key_in),
                    });
                }
                if !cmd.skip {
                    self.replay.apply(rs, cmd, self.family);
                }
            }
            Err(e) => rs.problems.push(state::problem(e)),
        }
    }

    /// COMMIT: the nft backend now reports missing chains and loops.
    fn commit(&mut self, rs: &mut Ruleset, at: Option<Span>) {
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
    let len = rest
        .find(|c| matches!(c, ' ' | '\t' | '\n'))
        .unwrap_or(rest.len());
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
