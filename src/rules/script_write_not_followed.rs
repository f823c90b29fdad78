//! `script-write-not-followed`: see rules/script-write-not-followed.toml. Reported
//! by the pipeline when it follows a script's writes (it needs the repository's
//! files), so it has no hook of its own.

use super::Rule;
use crate::diag::Diagnostic;
use crate::formats::written::sed::UnknownLine;
use crate::formats::written::{NotFollowed, Why};

pub const NAME: &str = "script-write-not-followed";

pub struct ScriptWriteNotFollowed;

impl Rule for ScriptWriteNotFollowed {
    fn name(&self) -> &'static str {
        NAME
    }
}

pub fn finding(n: &NotFollowed) -> Diagnostic {
    let path = &n.path;
    let (message, label, help) = match &n.why {
        Why::NoBase { appends: true } => (
            format!(
                "appends to {path}, whose content before the script is neither written by it nor in the repository: the file is not checked"
            ),
            "appends to a file pasvlint cannot see".to_owned(),
            format!(
                "keep the file the script starts from in the repository next to the script (e.g. files/{}), or write it whole with a heredoc",
                file_name(path)
            ),
        ),
        Why::NoBase { appends: false } => (
            format!(
                "edits {path}, whose content before the script is neither written by it nor in the repository: the file is not checked"
            ),
            "edits a file pasvlint cannot see".to_owned(),
            format!(
                "keep the file the script starts from in the repository next to the script (e.g. files/{}), or write it whole with a heredoc",
                file_name(path)
            ),
        ),
        Why::Sed(what) => (
            format!(
                "sed edit of {path} not followed ({what}): its content after the edit is unknown, so the file is not checked"
            ),
            format!("pasvlint does not follow {what}"),
            "edit with `s`, `d`, `a`, `i` or `c` on a line number or /regex/ address, or write the file whole with a heredoc".to_owned(),
        ),
        Why::TooLarge => (
            format!(
                "{path} grows past {} MiB: its content is not followed, so the file is not checked",
                crate::formats::written::MAX_WRITTEN_BYTES >> 20
            ),
            "the file grows too large here".to_owned(),
            "write the file once instead of appending to it in a loop".to_owned(),
        ),
        Why::RunTimeValue { value, lines } => return run_time_value(n, value, lines),
    };
    Diagnostic::new(NAME, message, n.span, label).with_help(help)
}

/// A `sed` edit whose replacement only the run knows: the file is read, the
/// lines it edits as set to an unknown value.
fn run_time_value(n: &NotFollowed, value: &str, lines: &[UnknownLine]) -> Diagnostic {
    let shown: Vec<String> = lines.iter().map(|l| format!("`{}`", shown(&l.now))).collect();
    let count = match lines.len() {
        1 => "1 line".to_owned(),
        n => format!("{n} lines"),
    };
    let message = format!(
        "sed edit of {} writes {value}, known only when the script runs, into {count} ({}): what it sets there is not checked",
        n.path,
        shown.join(", ")
    );
    let help = match variable_name(value) {
        Some(name) => format!(
            "check what the run gives ${name}; to have pasvlint check it, give it a value in the script (`{name}=203.0.113.10`, or a default: `: \"${{{name}:=203.0.113.10}}\"`) or write the setting in the file"
        ),
        None => "check the value the run gives; to have pasvlint check it, set it in the script or write the setting in the file".to_owned(),
    };
    let mut d = Diagnostic::new(NAME, message, n.span, "a value known only at run time")
        .with_help(help);
    for line in lines {
        if let Some(was) = line.was {
            d = d.with_related(was, "the line this edit changes");
        }
    }
    d
}

/// `NAME` of `$NAME` or `${NAME}`.
fn variable_name(value: &str) -> Option<&str> {
    let name = value.strip_prefix('$')?;
    let name = name
        .strip_prefix('{')
        .and_then(|n| n.strip_suffix('}'))
        .unwrap_or(name);
    let plain = !name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    plain.then_some(name)
}

/// A line with its unknown parts as `…`.
fn shown(line: &str) -> String {
    line.replace(crate::scripts::UNKNOWN, "…")
}

fn file_name(path: &str) -> &str {
    path.rsplit(['/', '\\']).next().unwrap_or(path)
}
