//! `iptables-syntax-error`: see rules/iptables-syntax-error.toml.

use super::Rule;
use crate::diag::Diagnostic;
use crate::formats::iptables::{Family, Problem, ProblemKind, Ruleset};
use crate::formats::{Document, Format, ParsedFile};
use crate::source::SourceFile;

pub struct IptablesSyntaxError;

impl Rule for IptablesSyntaxError {
    fn name(&self) -> &'static str {
        "iptables-syntax-error"
    }

    fn check_file(&self, file: &ParsedFile, out: &mut Vec<Diagnostic>) {
        let Document::Iptables(rs) = &file.doc else {
            return;
        };
        let restore = restore_tool(rs.family);
        for p in problems(rs) {
            let stops = stops_the_script(rs, p.span);
            // Removing what is not there changes nothing, unless `set -e` ends the script.
            if p.kind == ProblemKind::NothingToRemove && stops.is_none() {
                continue;
            }
            let d = self.diagnose(p, file.format, restore, &file.source);
            out.push(match stops {
                Some(_) => Diagnostic {
                    message: format!(
                        "{}, and `set -e` stops the script here: no command after this line runs",
                        d.message
                    ),
                    ..d
                },
                None => d,
            });
        }
    }
}

/// The program that loads a dump of this family.
fn restore_tool(family: Family) -> &'static str {
    match family {
        Family::V4 => "iptables-restore",
        Family::V6 => "ip6tables-restore",
    }
}

/// The `set -e` stop at the command that holds `at`, when the script ends there.
pub fn stops_the_script(rs: &Ruleset, at: crate::source::Span) -> Option<crate::scripts::Stop> {
    rs.outcome.stop.filter(|s| {
        s.why == crate::scripts::StopWhy::Errexit
            && s.span.file == at.file
            && s.span.start <= at.start
            && at.end <= s.span.end
    })
}

/// The problems this rule reports (multiport overflows have their own rule).
fn problems(rs: &Ruleset) -> impl Iterator<Item = &Problem> {
    rs.problems
        .iter()
        .filter(|p| !matches!(p.kind, ProblemKind::TooManyPorts { .. }))
}

impl IptablesSyntaxError {
    fn diagnose(
        &self,
        p: &Problem,
        format: Format,
        restore: &str,
        source: &SourceFile,
    ) -> Diagnostic {
        let (line, _) = source.line_col(p.span.start);
        if p.kind == ProblemKind::LineEndings {
            return Diagnostic::new(
                self.name(),
                format!(
                    "the file has Windows (CRLF) line endings: {restore} keeps the `\\r` in every last word and fails at the first table with \"{}\"",
                    p.message
                ),
                p.span,
                "CRLF",
            )
            .with_help("convert the file to LF line endings, e.g. `sed -i 's/\\r$//' FILE` or `dos2unix FILE`")
            .with_fix(
                "convert the file to Unix (LF) line endings",
                super::vsftpd_bad_boolean::crlf_edits(source),
            );
        }
        let tool = p.message.trim_end_matches('.');
        let message = match (format, p.reported_at) {
            (Format::ShellScript, _) => format!("iptables rejects this command: {tool}"),
            (_, _) if tool.starts_with("COMMIT expected") => format!(
                "the table opened on line {line} has no COMMIT: {restore} fails with \"{tool}\" and loads none of its rules"
            ),
            (_, Some(at)) => {
                let (commit, _) = source.line_col(at.start);
                format!(
                    "{restore} rejects the table at its COMMIT on line {commit}: {tool} (jump on line {line})"
                )
            }
            (_, _) if is_outside_table(tool) => format!(
                "{restore} rejects line {line}: {tool}: {}",
                outside_table_reason(source.slice(p.span))
            ),
            _ => format!("{restore} rejects line {line}: {tool}"),
        };
        let mut d = Diagnostic::new(self.name(), message, p.span, "rejected here");
        if let Some(at) = p.reported_at {
            d = d.with_related(at, "nft reports it here");
        }
        if p.kind == ProblemKind::NothingToRemove {
            return d.with_help(
                "let the clean-up fail without ending the script: end the command with `|| true` (it removes a rule or chain that is not there yet)",
            );
        }
        d.with_help(help_for(&p.message))
    }
}

/// `line N failed` is all iptables-restore says about a line outside a table.
fn is_outside_table(tool: &str) -> bool {
    tool.strip_prefix("line ")
        .and_then(|rest| rest.strip_suffix(" failed"))
        .is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit()))
}

fn outside_table_reason(line: &str) -> &'static str {
    if line.bytes().any(|b| b == 0 || (b < 0x20 && b != b'\t')) {
        "the file holds binary data (NUL or control bytes), not an iptables-save dump"
    } else {
        "outside a `*table` … `COMMIT` block only a `*table` line, `#` comments and blank lines may appear"
    }
}

/// A concrete next step for the tool's message.
fn help_for(message: &str) -> &'static str {
    let has = |s: &str| message.contains(s);
    if has("Bad argument `#'") {
        "put the comment on a line of its own with `#` in column 1; iptables-restore takes no trailing or indented comments"
    } else if has("Bad argument `COMMIT'") || has("Bad argument `commit'") {
        "write `COMMIT` alone on the line, in capitals, with nothing after it"
    } else if has("Bad argument `*") {
        "end the open table with `COMMIT` before starting the next `*table`"
    } else if has("COMMIT expected") {
        "add a `COMMIT` line after the last rule of the table"
    } else if has("no command specified") {
        "delete the line: a line of only spaces or tabs is not empty to iptables-restore"
    } else if has("does not exist") {
        "declare the chain with `:NAME - [0:0]` (or `-N NAME`) before the first rule that jumps to it"
    } else if has("Bad policy name") {
        "use ACCEPT or DROP as the policy of a built-in chain"
    } else if has("No chain/target/match") {
        "use a chain that exists in this table (built-in chains differ per table), or create it first"
    } else if has("table name") {
        "use one of the tables filter, nat, mangle, raw or security"
    } else if has("Too many links") {
        "break the loop: a chain may not jump back to a chain that leads to it"
    } else if has("not intended for filtering") {
        "drop the packets in the filter table instead of nat"
    } else if has("requires '-p tcp'") || has("unknown option \"--dport\"") || has("unknown option \"--sport\"") {
        "add `-p tcp` (or `-p udp`) before the port match"
    } else if has("invalid port") || has("portrange") {
        "use ports from 0 to 65535 (a range low:high with low <= high), or a service name from /etc/services"
    } else if has("line ") && has(" failed") && !has(":") {
        "start the table with `*filter` (or another table) and put every rule before its `COMMIT`"
    } else if has("Segmentation fault") {
        "write the rule in its final place with -A or -I instead of replacing it with -R"
    } else {
        "fix the line so a real load accepts it; `iptables-restore --test` checks less than a load on nft"
    }
}
