//! `script-stops-early`: see rules/script-stops-early.toml.

use super::Rule;
use super::iptables_syntax_error::stops_the_script;
use crate::diag::Diagnostic;
use crate::formats::{Document, ParsedFile};
use crate::scripts::{Stop, StopWhy};
use crate::source::SourceFile;

pub struct ScriptStopsEarly;

impl Rule for ScriptStopsEarly {
    fn name(&self) -> &'static str {
        "script-stops-early"
    }

    fn check_file(&self, file: &ParsedFile, out: &mut Vec<Diagnostic>) {
        let Some(stop) = crate::formats::script_outcome(file).and_then(|o| o.stop) else {
            return;
        };
        if said_by_iptables_syntax_error(file) {
            return;
        }
        out.push(finding(self.name(), &stop, &file.source));
    }
}

/// `iptables-syntax-error` (or `ufw-config-invalid`) already says that `set -e`
/// stops the script at its command.
fn said_by_iptables_syntax_error(file: &ParsedFile) -> bool {
    let Document::Iptables(rs) = &file.doc else {
        return false;
    };
    rs.problems
        .iter()
        .any(|p| stops_the_script(rs, p.span).is_some())
        || rs
            .ufw_rejected
            .iter()
            .any(|r| stops_the_script(rs, r.span).is_some())
}

fn finding(rule: &'static str, stop: &Stop, source: &SourceFile) -> Diagnostic {
    let (line, _) = source.line_col(stop.span.start);
    let written = first_line(source.slice(stop.span));
    let (message, label, help) = match stop.why {
        StopWhy::Errexit => (
            format!(
                "the script ends at line {line}: `{written}` fails and `set -e` stops the script there, so no command after it runs"
            ),
            "fails here".to_owned(),
            "make the command succeed, or let the script go on past it with `|| true` (or test it in an `if`)",
        ),
        StopWhy::SetRejected => (
            format!(
                "the script ends at line {line}: dash rejects `{written}` (it has no pipefail option) and a failing `set` stops the script, so no command after it runs"
            ),
            "dash: Illegal option -o pipefail".to_owned(),
            "drop `-o pipefail`, or run the script with bash (`#!/bin/bash`): `#!/bin/sh` is dash on Debian and Ubuntu",
        ),
        StopWhy::NotParsed(error) => {
            // PowerShell reports the error where the keyword (or header) ends.
            let (end_line, column) = source.line_col(stop.span.end);
            let first = error.lines().next().unwrap_or(error);
            (
                format!(
                    "PowerShell does not run this script: its parser rejects line {end_line}, column {column} (\"{first}\"), so not one of its commands runs"
                ),
                format!("PowerShell: {first}"),
                "write the statement in full, as PowerShell's message says: `for ($i = 0; $i -lt 3; $i++) { … }`, `foreach ($p in $ports) { … }`, `while (…) { … }`, `do { … } while (…)`, `switch (…) { … }`",
            )
        }
    };
    Diagnostic::new(rule, message, stop.span, label).with_help(help)
}

/// The command as written, up to its first line break and 60 characters.
fn first_line(text: &str) -> String {
    let line = text.lines().next().unwrap_or("").trim();
    match line.char_indices().nth(60) {
        Some((cut, _)) => format!("{}…", &line[..cut]),
        None => line.to_owned(),
    }
}
