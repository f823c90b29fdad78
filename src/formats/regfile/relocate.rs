//! The fix for a `PassivePortRange` value under a key IIS does not read
//! (`registry-wrong-key`): its line moved, exactly as written, to the end of the
//! file's `[...\MSFTPSVC\Parameters]` section, or to a new such section at the end
//! of the file in the file's own line ending, when it is a REG_SZ (quoted or
//! `hex(1):`) IIS then reads. A section left holding nothing is deleted with it. Where `Parameters` already holds the value, the misplaced copy
//! is dead: deleting it is safe where IIS certainly never reads that key.

use super::{MSFTPSVC_PARAMETERS, RegFile, RegKey, RegValue};
use super::{final_values, is_passive_port_range, normalize_key, under, wine_lines};
use crate::formats::winfw::Finding;
use crate::source::{FileId, Span};
use std::ops::Range;

const PARAMETERS_HEADER: &str =
    "[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\MSFTPSVC\\Parameters]";

/// Keys IIS certainly never reads its FTP range from: the web service's own
/// parameters and anything per user.
const NEVER_READ: &[&str] = &[
    "HKEY_LOCAL_MACHINE\\SYSTEM\\CURRENTCONTROLSET\\SERVICES\\W3SVC",
    "HKEY_CURRENT_USER",
];

/// `finding` (about `v` under `key`) with its fix, or with a help that says the
/// copy is dead when `Parameters` already holds a range.
pub(super) fn with_fix(
    finding: Finding,
    file: &RegFile,
    v: &RegValue,
    key: &RegKey,
    text: &str,
) -> Finding {
    let Some(lines) = Lines::of(text, v, key) else {
        return finding;
    };
    if let Some(live) = live_range(file) {
        return dead_copy(finding, live, key, &lines, text);
    }
    // A dword or `hex(2):` range moved would be read with the wrong type: no move.
    if v.data.as_reg_sz(file.unicode).is_none() {
        return finding;
    }
    match move_edits(file, &lines, text) {
        Some(edits) => finding.unsafe_fix(
            "move the value to [HKEY_LOCAL_MACHINE\\...\\MSFTPSVC\\Parameters]",
            edits,
        ),
        None => finding,
    }
}

/// Where the value and its section sit in the text.
struct Lines {
    /// The value's line(s) with their line ending.
    value: Range<usize>,
    /// What to delete: the value's lines, or its whole section when nothing else is in it.
    delete: Range<usize>,
    file: FileId,
}

impl Lines {
    /// `None` when the value does not stand on lines of its own inside the
    /// section its key line opens.
    fn of(text: &str, v: &RegValue, key: &RegKey) -> Option<Lines> {
        let lines = wine_lines(text);
        let line_of = |at: u32| {
            lines
                .iter()
                .position(|&(s, e)| s <= at as usize && at as usize <= e)
        };
        let (first, last) = (line_of(v.name_span.start)?, line_of(v.data_span.end)?);
        let header = line_of(key.span.start)?;
        let section_end = (header + 1..lines.len())
            .find(|&i| starts_key(text, lines[i]))
            .unwrap_or(lines.len());
        if !(header < first && last < section_end) {
            return None;
        }
        let (value_start, _) = lines[first];
        if !text
            .get(value_start..v.name_span.start as usize)?
            .trim()
            .is_empty()
        {
            return None;
        }
        let start_of = |i: usize| lines.get(i).map_or(text.len(), |&(s, _)| s);
        let value = value_start..start_of(last + 1);
        let others = (header + 1..section_end).filter(|&i| i < first || i > last);
        let empty = others.into_iter().all(|i| {
            text.get(lines[i].0..lines[i].1)
                .is_some_and(|l| l.trim().is_empty())
        });
        let delete = if empty {
            lines[header].0..start_of(section_end)
        } else {
            value.clone()
        };
        Some(Lines {
            value,
            delete,
            file: v.name_span.file,
        })
    }

    fn span(&self, r: Range<usize>) -> Span {
        Span {
            file: self.file,
            start: r.start as u32,
            end: r.end as u32,
        }
    }
}

/// A key line (also a malformed one: it still ends the section as written).
fn starts_key(text: &str, (s, e): (usize, usize)) -> bool {
    text.get(s..e)
        .is_some_and(|l| l.trim_start_matches([' ', '\t']).starts_with('['))
}

/// The `PassivePortRange` IIS reads after the import, when the file sets one.
fn live_range(file: &RegFile) -> Option<&RegValue> {
    final_values(file)
        .into_iter()
        .find(|(norm, w)| norm == MSFTPSVC_PARAMETERS && is_passive_port_range(w))
        .map(|(_, w)| w)
}

fn dead_copy(
    finding: Finding,
    live: &RegValue,
    key: &RegKey,
    lines: &Lines,
    text: &str,
) -> Finding {
    let norm = normalize_key(&key.path);
    let shown = text.get(live.data_span.range()).unwrap_or("");
    let finding = finding
        .related(live.name_span, "IIS reads this one")
        .help(format!(
            "MSFTPSVC\\Parameters already sets \"PassivePortRange\"={shown}: this copy is dead, delete it"
        ));
    if !NEVER_READ.iter().any(|base| under(&norm, base)) {
        return finding;
    }
    // Only the value: an emptied section's key would still be created by regedit.
    let span = lines.span(lines.value.clone());
    finding.fix(
        "delete the copy IIS never reads",
        vec![(span, String::new())],
    )
}

/// The deletion and the insertion that move the value; `None` when the file
/// deletes the `Parameters` key, or already says something about the value there.
fn move_edits(file: &RegFile, lines: &Lines, text: &str) -> Option<Vec<(Span, String)>> {
    let deletes_parameters = file
        .keys()
        .any(|k| k.deleted && under(MSFTPSVC_PARAMETERS, &normalize_key(&k.path)));
    let mentioned = file.values().any(|w| {
        is_passive_port_range(w)
            && file
                .key_of(w)
                .is_some_and(|k| normalize_key(&k.path) == MSFTPSVC_PARAMETERS)
    });
    if deletes_parameters || mentioned {
        return None;
    }
    let eol = line_ending(text);
    let mut moved = text.get(lines.value.clone())?.to_owned();
    if !moved.ends_with(['\n', '\r']) {
        moved.push_str(eol);
    }
    let (at, insert) = match parameters_section_end(file, text) {
        Some(at) => (at, with_break_before(text, at, eol, moved)),
        None => appended(text, lines, eol, &moved),
    };
    Some(vec![
        (lines.span(lines.delete.clone()), String::new()),
        (lines.span(at..at), insert),
    ])
}

/// Where a value line goes at the end of the last
/// `[...\CurrentControlSet\...\MSFTPSVC\Parameters]` section: after its last line
/// that is not blank. A numbered `ControlSet00N` is not taken: the running
/// system reads only the control set `CurrentControlSet` points at.
fn parameters_section_end(file: &RegFile, text: &str) -> Option<usize> {
    let current = |k: &RegKey| {
        k.path
            .to_ascii_lowercase()
            .contains("\\currentcontrolset\\")
    };
    let key = file
        .keys()
        .filter(|k| k.opened && current(k) && normalize_key(&k.path) == MSFTPSVC_PARAMETERS)
        .last()?;
    let lines = wine_lines(text);
    let header = lines
        .iter()
        .position(|&(s, e)| s <= key.span.start as usize && key.span.start as usize <= e)?;
    let end = (header + 1..lines.len())
        .find(|&i| starts_key(text, lines[i]))
        .unwrap_or(lines.len());
    let last = (header..end).rev().find(|&i| {
        text.get(lines[i].0..lines[i].1)
            .is_some_and(|l| !l.trim().is_empty())
    })?;
    let line_end = lines[last].1;
    Some(line_end + terminator_at(text, line_end).len())
}

/// `moved` inserted at `at`, after a line break when `at` ends a last line that has none.
fn with_break_before(text: &str, at: usize, eol: &str, moved: String) -> String {
    if at == text.len() && !text.ends_with(['\n', '\r']) {
        format!("{eol}{moved}")
    } else {
        moved
    }
}

/// A new section at the end of the file: a blank line, the key, the value, and
/// the blank line after it when the file ended with one.
fn appended(text: &str, lines: &Lines, eol: &str, moved: &str) -> (usize, String) {
    let tail = if lines.delete.end == text.len() {
        text.get(..lines.delete.start).unwrap_or("")
    } else {
        text
    };
    let before = if ends_with_blank_line(tail) {
        ""
    } else if tail.ends_with(['\n', '\r']) {
        eol
    } else {
        &format!("{eol}{eol}")
    };
    let after = if ends_with_blank_line(text) { eol } else { "" };
    (
        text.len(),
        format!("{before}{PARAMETERS_HEADER}{eol}{moved}{after}"),
    )
}

fn ends_with_blank_line(text: &str) -> bool {
    let Some(body) = strip_terminator(text) else {
        return false;
    };
    match body.rfind(['\n', '\r']) {
        Some(i) => body.get(i + 1..).is_some_and(|l| l.trim().is_empty()),
        None => false,
    }
}

fn strip_terminator(text: &str) -> Option<&str> {
    text.strip_suffix("\r\n")
        .or_else(|| text.strip_suffix('\n'))
        .or_else(|| text.strip_suffix('\r'))
}

/// The line ending at `at` (`\r\n`, `\n`, `\r`, or none at the end of the text).
fn terminator_at(text: &str, at: usize) -> &str {
    let rest = text.get(at..).unwrap_or("");
    ["\r\n", "\n", "\r"]
        .into_iter()
        .find(|t| rest.starts_with(t))
        .unwrap_or("")
}

/// The file's own line ending: the first one it uses; CRLF (regedit's) if none.
fn line_ending(text: &str) -> &'static str {
    match text.find(['\n', '\r']) {
        Some(i) => match terminator_at(text, i) {
            "\n" => "\n",
            "\r" => "\r",
            _ => "\r\n",
        },
        None => "\r\n",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_line_endings() {
        assert!(ends_with_blank_line("a\r\n\r\n"));
        assert!(!ends_with_blank_line("a\r\n"));
        assert!(!ends_with_blank_line("a"));
        assert!(ends_with_blank_line("a\n\n"));
        assert_eq!(line_ending("a\nb\r\n"), "\n");
        assert_eq!(line_ending("a"), "\r\n");
    }
}
