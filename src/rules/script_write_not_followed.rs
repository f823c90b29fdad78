//! `script-write-not-followed`: see rules/script-write-not-followed.toml. Reported
//! by the pipeline when it follows a script's writes (it needs the repository's
//! files), so it has no hook of its own.

use super::Rule;
use crate::diag::Diagnostic;
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
    };
    Diagnostic::new(NAME, message, n.span, label).with_help(help)
}

fn file_name(path: &str) -> &str {
    path.rsplit(['/', '\\']).next().unwrap_or(path)
}
