//! Files a provisioning script writes, as the host holds them after the run.
//!
//! The writes of a script's [`Outcome`] are applied in order, per path:
//! `Replace` sets the content, `Append` adds to it, `Sed` runs a `sed -i` program
//! over it line by line as GNU sed does ([`sed`]). A path the script appends to
//! or edits before writing it starts from the repository's copy of that file:
//! the recognised file of the run whose path ends with the longest run of the
//! written path's last components (at least its file name), looked for from the
//! script's directory upward — the nearest directory holding such a file wins;
//! in it the longest matching tail, then the shortest path, then path order.
//! (`sed -i … /etc/vsftpd.conf` in `provision/setup.sh` edits
//! `provision/files/vsftpd.conf` or `etc/vsftpd.conf` next to it.) With no such
//! copy the content is unknown and the file is not read.
//!
//! A write under a condition the interpreter could not decide counts as done:
//! provisioning scripts guard writes to run them once, not to skip them.
//! Each resulting file is classified by its path and text and parsed by its
//! format's own parser; its spans point into a virtual [`SourceFile`] whose
//! [`crate::source::Origin`] maps them back into the script (or the repository
//! file it edits). Files that are scripts themselves are not read: writing a
//! script does not run it.

pub mod sed;

use crate::formats::{self, Format, ParsedFile};
use crate::scripts::{Outcome, Text, UNKNOWN, Word, Write, WriteOp};
use crate::source::{FileId, Origin, OriginRun, SourceFile, Span};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// A written file grows no larger than this; past it its content is unknown.
pub const MAX_WRITTEN_BYTES: usize = 1 << 20;

/// A file as the script leaves it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WrittenFile {
    /// The path as the script names it.
    pub path: String,
    pub text: Text,
    /// The repository file the script appended to or edited, when it started from one.
    pub base: Option<FileId>,
    /// The command that last wrote it.
    pub span: Span,
    /// The lines the last `sed` edit gave a value only the run knows.
    pub run_time: Vec<sed::UnknownLine>,
    /// Lines of the repository copy a `sed` replaced: the host reads them edited.
    pub replaced: Vec<Span>,
}

/// A write whose result cannot be known, so its file is not read (or, for
/// [`Why::RunTimeValue`], is read with the parts it left unknown).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotFollowed {
    pub path: String,
    /// The write that could not be followed.
    pub span: Span,
    pub why: Why,
    /// The repository file the script edits, whose facts then no longer count.
    pub base: Option<FileId>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Why {
    /// Appended to or edited without the script writing it first or the
    /// repository holding a copy.
    NoBase { appends: bool },
    /// A sed program with a command, address or expression not followed.
    Sed(String),
    /// The file grew past [`MAX_WRITTEN_BYTES`].
    TooLarge,
    /// A `sed` edit wrote `value`, known only when the script runs, into these
    /// lines: the file is read, those settings as set to something unknown.
    RunTimeValue {
        value: String,
        lines: Vec<sed::UnknownLine>,
    },
}

/// What a script leaves written.
#[derive(Debug, Default)]
pub struct Written {
    pub files: Vec<WrittenFile>,
    pub not_followed: Vec<NotFollowed>,
}

/// The recognised files of a run, found by the last components of their path.
pub struct Repo<'a> {
    by_name: HashMap<&'a str, Vec<&'a SourceFile>>,
}

impl<'a> Repo<'a> {
    pub fn new(files: impl IntoIterator<Item = &'a SourceFile>) -> Self {
        let mut by_name: HashMap<&str, Vec<&SourceFile>> = HashMap::new();
        for f in files.into_iter().filter(|f| !f.is_virtual()) {
            if let Some(name) = f.path.file_name().and_then(|n| n.to_str()) {
                by_name.entry(name).or_default().push(f);
            }
        }
        Repo { by_name }
    }

    /// The repository's copy of `written` for a script at `script` (see the module doc).
    pub fn copy_of(&self, written: &str, script: &Path) -> Option<&'a SourceFile> {
        let wanted = components(written);
        let candidates = self.by_name.get(wanted.last()?)?;
        for dir in script.ancestors().skip(1) {
            let best = candidates
                .iter()
                .filter(|f| f.path != script && f.path.starts_with(dir))
                .map(|f| (tail_len(&wanted, &f.path), *f))
                .max_by(|(a, fa), (b, fb)| {
                    a.cmp(b)
                        .then(
                            fb.path
                                .components()
                                .count()
                                .cmp(&fa.path.components().count()),
                        )
                        .then(fb.path.cmp(&fa.path))
                });
            if let Some((_, f)) = best {
                return Some(f);
            }
        }
        None
    }
}

fn components(path: &str) -> Vec<&str> {
    path.split(['/', '\\'])
        .filter(|c| !c.is_empty() && *c != ".")
        .collect()
}

/// How many of `wanted`'s last components `path` ends with.
fn tail_len(wanted: &[&str], path: &Path) -> usize {
    let have: Vec<&str> = path
        .components()
        .filter_map(|c| c.as_os_str().to_str())
        .collect();
    wanted
        .iter()
        .rev()
        .zip(have.iter().rev())
        .take_while(|(a, b)| a == b)
        .count()
}

enum State {
    Known(WrittenFile),
    Unknown(NotFollowed),
}

/// Apply the script's writes in order, per path.
pub fn follow(script: &SourceFile, outcome: &Outcome, repo: &Repo) -> Written {
    let mut order: Vec<String> = Vec::new();
    let mut states: HashMap<String, State> = HashMap::new();
    let mut out = Written::default();
    for write in &outcome.writes {
        let Some(path) = known_path(&write.path.text) else {
            continue;
        };
        let before = states.remove(&path);
        if before.is_none() {
            order.push(path.clone());
        }
        let after = apply(before, &path, &write.op, write.span, script, repo);
        if let State::Known(file) = &after {
            let read = is_read(&path);
            out.not_followed
                .extend(run_time_values(file, &write.op).filter(|_| read));
        }
        states.insert(path, after);
    }
    for path in order {
        match states.remove(&path) {
            Some(State::Known(f)) => out.files.push(f),
            Some(State::Unknown(n)) if is_read(&n.path) => out.not_followed.push(n),
            _ => {}
        }
    }
    out
}

/// The path with its separators tidied, when its file name is known.
fn known_path(path: &str) -> Option<String> {
    let name = path.rsplit(['/', '\\']).next()?;
    if name.is_empty() || name.contains(UNKNOWN) {
        return None;
    }
    let mut tidy = String::with_capacity(path.len());
    for c in path.chars() {
        if c == '/' && tidy.ends_with('/') {
            continue;
        }
        tidy.push(c);
    }
    let tidy = tidy.replace("/./", "/");
    Some(tidy.strip_prefix("./").unwrap_or(&tidy).to_owned())
}

/// Whether pasvlint reads a file at this path whatever it holds.
fn is_read(path: &str) -> bool {
    formats::classify(Path::new(path), "").is_some_and(is_config)
}

fn is_config(format: Format) -> bool {
    !matches!(
        format,
        Format::ShellScript | Format::Batch | Format::PowerShell
    )
}

fn apply(
    before: Option<State>,
    path: &str,
    op: &WriteOp,
    span: Span,
    script: &SourceFile,
    repo: &Repo,
) -> State {
    if let WriteOp::Replace(text) = op {
        return known(path, text.clone(), None, span);
    }
    let current = match before {
        Some(state) => state,
        None => match repo.copy_of(path, &script.path) {
            Some(copy) => known(path, whole_file(copy), Some(copy.id), span),
            None => State::Unknown(NotFollowed {
                path: path.to_owned(),
                span,
                why: Why::NoBase {
                    appends: matches!(op, WriteOp::Append(_)),
                },
                base: None,
            }),
        },
    };
    let State::Known(mut file) = current else {
        return current;
    };
    file.span = span;
    match op {
        WriteOp::Append(text) => {
            if file.text.text.len() + text.text.len() > MAX_WRITTEN_BYTES {
                return unknown(file, span, Why::TooLarge);
            }
            append(&mut file.text, text);
            State::Known(file)
        }
        WriteOp::Sed(edits) => match sed::Program::parse(edits) {
            Ok(program) => match program.run_noting(&file.text, MAX_WRITTEN_BYTES) {
                Ok(edited) => {
                    file.text = edited.text;
                    file.run_time = edited.unknown;
                    let base = file.base;
                    let from_base = edited.replaced.into_iter().filter(|s| Some(s.file) == base);
                    file.replaced.extend(from_base);
                    State::Known(file)
                }
                Err(why) => unknown(file, span, why),
            },
            Err(why) => unknown(file, span, Why::Sed(why)),
        },
        WriteOp::Replace(_) => State::Known(file),
    }
}

fn known(path: &str, text: Text, base: Option<FileId>, span: Span) -> State {
    if text.text.len() > MAX_WRITTEN_BYTES {
        return State::Unknown(NotFollowed {
            path: path.to_owned(),
            span,
            why: Why::TooLarge,
            base,
        });
    }
    State::Known(WrittenFile {
        path: path.to_owned(),
        text,
        base,
        span,
        run_time: Vec::new(),
        replaced: Vec::new(),
    })
}

/// The notice for a `sed` edit that wrote a value only the run knows.
fn run_time_values(file: &WrittenFile, op: &WriteOp) -> Option<NotFollowed> {
    let WriteOp::Sed(edits) = op else { return None };
    if file.run_time.is_empty() {
        return None;
    }
    let value = edits.iter().find_map(|e| e.unknown.clone());
    Some(NotFollowed {
        path: file.path.clone(),
        span: file.span,
        why: Why::RunTimeValue {
            value: value.unwrap_or_else(|| "a value".to_owned()),
            lines: file.run_time.clone(),
        },
        base: None,
    })
}

fn unknown(file: WrittenFile, span: Span, why: Why) -> State {
    State::Unknown(NotFollowed {
        path: file.path,
        span,
        why,
        base: file.base,
    })
}

/// A repository file's text, each byte mapping to itself.
fn whole_file(file: &SourceFile) -> Text {
    let mut text = Text::default();
    text.push(&file.text, file.span(0, file.text.len()), true);
    text
}

/// Append `more` to `text`, keeping where each part came from.
pub(crate) fn append(text: &mut Text, more: &Text) {
    push_slice(text, more, 0, more.text.len());
}

/// Append `from.text[start..end]` to `out`, keeping where each part came from.
pub(crate) fn push_slice(out: &mut Text, from: &Text, start: usize, end: usize) {
    for (i, piece) in from.pieces.iter().enumerate() {
        let piece_end = from.pieces.get(i + 1).map_or(from.text.len(), |n| n.at);
        let (a, b) = (start.max(piece.at), end.min(piece_end));
        if a >= b {
            continue;
        }
        let Some(part) = from.text.get(a..b) else {
            continue;
        };
        let span = if piece.verbatim {
            let base = piece.span.start as usize;
            let len = piece.span.len();
            Span::new(
                piece.span.file,
                base + (a - piece.at).min(len),
                base + (b - piece.at).min(len),
            )
        } else {
            piece.span
        };
        out.push(part, span, piece.verbatim);
    }
}

/// What the script leaves unknown reads as a template value, which the format
/// parsers take as "set, to something not known".
const UNKNOWN_AS_TEMPLATE: &str = "${?}";

/// The virtual file of a written file: its text, with unknown parts shown as
/// templates, and the runs mapping it back.
pub fn virtual_file(file: &WrittenFile, script: &SourceFile, id: FileId) -> SourceFile {
    let mut text = String::with_capacity(file.text.text.len());
    let mut runs = Vec::with_capacity(file.text.pieces.len());
    for (i, piece) in file.text.pieces.iter().enumerate() {
        let end = file
            .text
            .pieces
            .get(i + 1)
            .map_or(file.text.text.len(), |n| n.at);
        let part = file.text.text.get(piece.at..end).unwrap_or("");
        let verbatim = piece.verbatim && !part.contains(UNKNOWN);
        runs.push(OriginRun {
            at: text.len(),
            span: piece.span,
            verbatim,
        });
        if part.contains(UNKNOWN) {
            text.push_str(&part.replace(UNKNOWN, UNKNOWN_AS_TEMPLATE));
        } else {
            text.push_str(part);
        }
    }
    let path = PathBuf::from(format!("{} → {}", script.display_path(), file.path));
    let mut written = SourceFile::written(
        id,
        path,
        text,
        Origin {
            runs,
            whole: file.span,
        },
    );
    written.limits = script.limits;
    written
}

/// The written file read as its format, when pasvlint reads it.
pub fn document(file: &WrittenFile, script: &SourceFile, id: FileId) -> Option<ParsedFile> {
    let source = virtual_file(file, script, id);
    let format = formats::classify(Path::new(&file.path), &source.text)?;
    is_config(format).then(|| formats::parse(source, format))
}

/// A file's content before a bundle (a play, a catalog) touches it: not known.
pub fn unknown_base(at: Span) -> Text {
    let mut t = Text::default();
    t.push(&format!("{UNKNOWN}\n"), at, false);
    t
}

/// Each file's final text, in the order the bundle first touched it, as one
/// write that replaces the file; a file whose text is not known is left out.
pub fn replacing_writes(
    order: Vec<String>,
    mut state: HashMap<String, (Option<Text>, Span)>,
) -> Outcome {
    let mut out = Outcome::default();
    for dest in order {
        if let Some((Some(text), span)) = state.remove(&dest) {
            out.writes.push(Write {
                path: Word::literal(dest, span),
                op: WriteOp::Replace(text),
                span,
                uncertain: None,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests;
