//! Applying the fixes findings carry (`check --fix`, `--diff`): each file's edits
//! in its own text, written back in the file's own encoding, byte for byte
//! unchanged outside the edits.

use crate::Report;
use crate::diag::{Diagnostic, Fix};
use crate::formats::Format;
use crate::source::{Encoding, FileId, SourceFile, Span};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// One file's new contents.
#[derive(Debug)]
pub struct FileFix {
    pub path: PathBuf,
    pub id: FileId,
    pub before: String,
    pub after: String,
    /// The bytes to write: `after` in the file's encoding.
    pub bytes: Vec<u8>,
    /// The findings fixed, as `rule: title`.
    pub fixed: Vec<String>,
}

/// What `--fix` would do.
#[derive(Debug, Default)]
pub struct Plan {
    pub files: Vec<FileFix>,
    /// Fixes left out, with why.
    pub skipped: Vec<(PathBuf, String)>,
}

/// Fix until nothing is left to fix (fixes that overlap wait for the next pass; at
/// most [`PASSES`]): each pass lints with the texts fixed so far in place. `accept`
/// drops the findings a baseline accepts. Each file is written in its original
/// encoding, whatever pass fixed it.
pub fn until_stable(
    paths: &[PathBuf],
    config: &crate::policy::Config,
    with_unsafe: bool,
    accept: &dyn Fn(&mut Report),
) -> Plan {
    let mut overlay = crate::Overlay::new();
    let mut done: BTreeMap<PathBuf, (FileFix, Encoding)> = BTreeMap::new();
    let mut skipped = Vec::new();
    for _ in 0..PASSES {
        let mut report = crate::lint_with(paths, config, &overlay);
        accept(&mut report);
        let pass = verify(plan(&report, with_unsafe), &report);
        skipped = pass.skipped;
        if pass.files.is_empty() {
            break;
        }
        for fix in pass.files {
            overlay.insert(fix.path.clone(), fix.after.clone());
            let encoding = encoding_of(&report, fix.id);
            match done.get_mut(&fix.path) {
                Some((first, _)) => {
                    first.after = fix.after;
                    first.fixed.extend(fix.fixed);
                }
                None => {
                    done.insert(fix.path.clone(), (fix, encoding));
                }
            }
        }
    }
    let mut files = Vec::new();
    for (_, (mut fix, encoding)) in done {
        match encode(&fix.after, encoding) {
            Some(bytes) => {
                fix.bytes = bytes;
                files.push(fix);
            }
            None => skipped.push((
                fix.path,
                format!(
                    "the fixed text cannot be written in the file's encoding ({})",
                    encoding.name()
                ),
            )),
        }
    }
    Plan { files, skipped }
}

/// Passes of [`until_stable`]: enough for fixes that overlap two or three deep.
const PASSES: usize = 4;

fn encoding_of(report: &Report, id: FileId) -> Encoding {
    report
        .sources
        .get(id)
        .map_or(Encoding::Utf8, |f| f.encoding)
}

/// Every fix of `report` that can be applied (the unsafe ones too with
/// `with_unsafe`): per file, in span order, a fix whose edits overlap an earlier
/// one's is left for the next run.
pub fn plan(report: &Report, with_unsafe: bool) -> Plan {
    let mut by_file: BTreeMap<FileId, Vec<(&Diagnostic, &Fix)>> = BTreeMap::new();
    for d in &report.diagnostics {
        let Some(fix) = d.fix_to_apply(with_unsafe) else {
            continue;
        };
        if let Some(file) = single_file(fix) {
            by_file.entry(file).or_default().push((d, fix));
        }
    }
    let mut plan = Plan::default();
    for (id, findings) in by_file {
        let Some(source) = report.sources.get(id) else {
            continue;
        };
        if source.is_virtual() {
            plan.skipped.push((
                source.path.clone(),
                "the file is written by a script: fix the script".to_owned(),
            ));
            continue;
        }
        match apply(source, &findings) {
            Ok(fix) => plan.files.push(fix),
            Err(why) => plan.skipped.push((source.path.clone(), why)),
        }
    }
    plan
}

/// The file all of a fix's edits are in; fixes across files are not applied here.
fn single_file(fix: &Fix) -> Option<FileId> {
    let first = fix.edits.first()?.0.file;
    fix.edits
        .iter()
        .all(|(s, _)| s.file == first)
        .then_some(first)
}

fn apply(source: &SourceFile, findings: &[(&Diagnostic, &Fix)]) -> Result<FileFix, String> {
    let mut chosen: Vec<(Span, &str)> = Vec::new();
    let mut fixed = Vec::new();
    let mut ordered = findings.to_vec();
    ordered.sort_by_key(|(_, f)| f.edits.first().map(|e| e.0));
    for (d, fix) in ordered {
        let overlaps = fix.edits.iter().any(|(s, _)| {
            chosen
                .iter()
                .any(|(c, _)| s.start < c.end && c.start < s.end || s == c)
        });
        if overlaps {
            continue;
        }
        chosen.extend(fix.edits.iter().map(|(s, t)| (*s, t.as_str())));
        fixed.push(format!("{}: {}", d.rule, fix.title));
    }
    chosen.sort_by_key(|(s, _)| (s.start, s.end));
    let before = source.text.clone();
    let mut after = String::with_capacity(before.len());
    let mut at = 0;
    for (span, text) in &chosen {
        let range = span.range();
        let Some(kept) = before.get(at..range.start) else {
            return Err("an edit does not fall on character boundaries".to_owned());
        };
        after.push_str(kept);
        after.push_str(text);
        at = range.end;
    }
    after.push_str(before.get(at..).unwrap_or(""));
    let bytes = encode(&after, source.encoding).ok_or_else(|| {
        format!(
            "the fixed text cannot be written in the file's encoding ({})",
            source.encoding.name()
        )
    })?;
    Ok(FileFix {
        path: source.path.clone(),
        id: source.id,
        before,
        after,
        bytes,
        fixed,
    })
}

/// `text` in `encoding`, with the byte-order mark the file had; `None` where a
/// character has no Windows-1252 byte.
pub fn encode(text: &str, encoding: Encoding) -> Option<Vec<u8>> {
    Some(match encoding {
        Encoding::Utf8 => text.as_bytes().to_vec(),
        Encoding::Utf8Bom => [&[0xEF, 0xBB, 0xBF][..], text.as_bytes()].concat(),
        Encoding::Utf16Le => std::iter::once(0xFEFF)
            .chain(text.encode_utf16())
            .flat_map(u16::to_le_bytes)
            .collect(),
        Encoding::Utf16Be => std::iter::once(0xFEFF)
            .chain(text.encode_utf16())
            .flat_map(u16::to_be_bytes)
            .collect(),
        Encoding::Windows1252 => text.chars().map(windows_1252_byte).collect::<Option<_>>()?,
    })
}

fn windows_1252_byte(c: char) -> Option<u8> {
    const HIGH: [char; 32] = [
        '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8D}', 'Ž',
        '\u{8F}', '\u{90}', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9D}',
        'ž', 'Ÿ',
    ];
    if let Some(i) = HIGH.iter().position(|&h| h == c) {
        return Some(0x80 + i as u8);
    }
    match c as u32 {
        b @ (0..=0x7F | 0xA0..=0xFF) => Some(b as u8),
        _ => None,
    }
}

/// Keep only the files whose fixed text reads without a problem of its own the file
/// did not already have (a fix that would not parse again is dropped and said so).
/// Findings that need the rest of the host (a capacity check a renamed directive now
/// takes part in) are the next run's to report.
pub fn verify(mut plan: Plan, report: &Report) -> Plan {
    let format_of = |id: FileId| report.files.iter().find(|(f, _)| *f == id).map(|(_, f)| *f);
    let (kept, dropped): (Vec<FileFix>, Vec<FileFix>) = std::mem::take(&mut plan.files)
        .into_iter()
        .partition(|f| new_problems(f, format_of(f.id)).is_empty());
    for f in dropped {
        let new = new_problems(&f, format_of(f.id)).join(", ");
        plan.skipped.push((
            f.path,
            format!("the fixed file would newly break {new}: fix left out"),
        ));
    }
    plan.files = kept;
    plan
}

fn new_problems(fix: &FileFix, format: Option<Format>) -> Vec<&'static str> {
    let Some(format) = format else {
        return Vec::new();
    };
    let was = file_problems(&fix.path, &fix.before, format);
    file_problems(&fix.path, &fix.after, format)
        .into_iter()
        .filter(|r| !was.contains(r))
        .collect()
}

/// The rules a file's text breaks on its own, those whose findings are errors
/// (the program refuses the file or misreads it): a fix that lets a loop run may
/// well bring an info about the commands it now runs (`netsh firewall` is
/// deprecated), which does not make the fixed file worse.
fn file_problems(path: &Path, text: &str, format: Format) -> Vec<&'static str> {
    let source =
        SourceFile::from_text(FileId(0), path, text.to_owned(), Encoding::Utf8, text.len());
    let parsed = crate::formats::parse(source, format);
    let mut found = Vec::new();
    for entry in crate::rules::registry() {
        entry.rule.check_file(&parsed, &mut found);
    }
    let is_error = |rule: &str| {
        crate::rules::meta(rule).is_some_and(|m| m.severity == crate::diag::Severity::Error)
    };
    let mut rules: Vec<&'static str> = found
        .iter()
        .filter(|d| is_error(d.rule))
        .map(|d| d.rule)
        .collect();
    rules.sort_unstable();
    rules.dedup();
    rules
}

/// A unified diff of one file's fix, as `diff -u` prints it.
pub fn unified_diff(fix: &FileFix) -> String {
    let name = crate::source::display_path(&fix.path);
    similar::TextDiff::from_lines(&fix.before, &fix.after)
        .unified_diff()
        .context_radius(3)
        .header(&prefixed("a", &name), &prefixed("b", &name))
        .to_string()
}

/// `a/PATH` as git shows a relative path; an absolute one as it is.
fn prefixed(side: &str, name: &str) -> String {
    if name.starts_with('/') {
        name.to_owned()
    } else {
        format!("{side}/{name}")
    }
}

/// Replace `path` with `bytes` atomically (a temporary file beside it, renamed over
/// it), keeping its permissions.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
    let dir = dir.unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    let temp = dir.join(format!(".{name}.pasvlint-fix-{}", std::process::id()));
    let permissions = std::fs::metadata(path)?.permissions();
    let written = std::fs::write(&temp, bytes)
        .and_then(|()| std::fs::set_permissions(&temp, permissions))
        .and_then(|()| std::fs::rename(&temp, path));
    if written.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    written
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings_round_trip_with_their_byte_order_marks() {
        let text = "Windows Registry Editor Version 5.00\r\n\"a\"=\"é€\"\r\n";
        for encoding in [
            Encoding::Utf8,
            Encoding::Utf8Bom,
            Encoding::Utf16Le,
            Encoding::Utf16Be,
            Encoding::Windows1252,
        ] {
            let bytes = encode(text, encoding).unwrap();
            let (decoded, found) = crate::source::decode(bytes);
            assert_eq!((decoded.as_str(), found), (text, encoding));
        }
        assert_eq!(encode("→", Encoding::Windows1252), None);
    }
}
