//! Source files: decoding once, byte-offset spans, line/column on demand.

use std::path::{Path, PathBuf};

/// Index of a file in the run's [`SourceMap`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct FileId(pub u32);

/// A byte range in a file's decoded text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Span {
    pub file: FileId,
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn new(file: FileId, start: usize, end: usize) -> Self {
        Span {
            file,
            start: start as u32,
            end: end.max(start) as u32,
        }
    }

    pub fn range(&self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }

    pub fn len(&self) -> usize {
        (self.end - self.start) as usize
    }

    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }

    /// The smallest span covering both (same file assumed).
    pub fn to(&self, other: Span) -> Span {
        Span {
            file: self.file,
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }
}

/// How the bytes on disk were turned into text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    /// UTF-8 with a byte-order mark, which was removed from `text`.
    Utf8Bom,
    Utf16Le,
    Utf16Be,
    /// Bytes that were not valid UTF-8, read as Windows-1252.
    Windows1252,
}

impl Encoding {
    pub fn name(&self) -> &'static str {
        match self {
            Encoding::Utf8 => "UTF-8",
            Encoding::Utf8Bom => "UTF-8 with BOM",
            Encoding::Utf16Le => "UTF-16LE",
            Encoding::Utf16Be => "UTF-16BE",
            Encoding::Windows1252 => "Windows-1252",
        }
    }
}

/// One input file, decoded.
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub id: FileId,
    /// The path as shown to users (relative to where the run started when possible).
    pub path: PathBuf,
    pub text: String,
    pub encoding: Encoding,
    /// Size of the file on disk, in bytes.
    pub byte_len: usize,
    line_starts: Vec<u32>,
    /// Columns are byte offsets when every character is one byte.
    ascii: bool,
    /// Set for a file a script writes: where its text came from.
    origin: Option<Box<Origin>>,
    /// How much of it pasvlint runs (script budgets), from `[limits]`.
    pub limits: crate::limits::Limits,
}

/// Where the text of a virtual file (one a script writes) was written: runs of
/// its text and the real spans they came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// Sorted by `at`; each run covers `text[at..next.at]`.
    pub runs: Vec<OriginRun>,
    /// Where the whole file comes from (the command that writes it), for text
    /// no run covers.
    pub whole: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OriginRun {
    pub at: usize,
    pub span: Span,
    /// The run is the real file's bytes verbatim: offsets inside map one to one.
    pub verbatim: bool,
}

impl Origin {
    /// The real span of `start..end` of the virtual text: both ends mapped
    /// through their runs; a span across files keeps the file of its start.
    pub fn map(&self, start: usize, end: usize) -> Span {
        let Some(first) = self.run_at(start) else {
            return self.whole;
        };
        let last = self
            .run_at(end.saturating_sub(1).max(start))
            .filter(|r| r.span.file == first.span.file)
            .unwrap_or(first);
        map_in(first, start).to(map_in(last, end.max(start)))
    }

    /// The real span of `start..end` when it lies inside one verbatim run, so an
    /// edit there edits the same bytes in the real file.
    pub fn map_exact(&self, start: usize, end: usize) -> Option<Span> {
        let run = self.run_at(start)?;
        let i = self.runs.iter().position(|r| r == run)?;
        let run_end = self.runs.get(i + 1).map_or(usize::MAX, |next| next.at);
        if !run.verbatim || end > run_end || end.saturating_sub(start) > run.span.len() {
            return None;
        }
        let a = map_in(run, start);
        let b = map_in(run, end);
        Some(Span {
            file: run.span.file,
            start: a.start,
            end: b.end,
        })
    }

    fn run_at(&self, offset: usize) -> Option<&OriginRun> {
        let i = self.runs.partition_point(|r| r.at <= offset);
        self.runs.get(i.checked_sub(1)?)
    }
}

fn map_in(run: &OriginRun, offset: usize) -> Span {
    if !run.verbatim {
        return run.span;
    }
    let at = run.span.start as usize + offset.saturating_sub(run.at).min(run.span.len());
    Span::new(run.span.file, at, at)
}

impl SourceFile {
    pub fn new(id: FileId, path: impl Into<PathBuf>, bytes: &[u8]) -> Self {
        let len = bytes.len();
        let (text, encoding) = decode(bytes.to_vec());
        Self::from_text(id, path, text, encoding, len)
    }

    pub fn from_text(
        id: FileId,
        path: impl Into<PathBuf>,
        text: String,
        encoding: Encoding,
        byte_len: usize,
    ) -> Self {
        let line_starts = std::iter::once(0)
            .chain(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i as u32 + 1))
            .collect();
        SourceFile {
            id,
            path: path.into(),
            ascii: text.is_ascii(),
            text,
            encoding,
            byte_len,
            line_starts,
            origin: None,
            limits: crate::limits::Limits::default(),
        }
    }

    /// A file a script writes: its text and where each part was written.
    pub fn written(id: FileId, path: impl Into<PathBuf>, text: String, origin: Origin) -> Self {
        let len = text.len();
        let mut file = Self::from_text(id, path, text, Encoding::Utf8, len);
        file.origin = Some(Box::new(origin));
        file
    }

    /// Where this file's text came from, when a script writes it.
    pub fn origin(&self) -> Option<&Origin> {
        self.origin.as_deref()
    }

    pub fn is_virtual(&self) -> bool {
        self.origin.is_some()
    }

    pub fn span(&self, start: usize, end: usize) -> Span {
        Span::new(self.id, start, end)
    }

    pub fn slice(&self, span: Span) -> &str {
        self.text.get(span.range()).unwrap_or("")
    }

    /// 1-based line and column (columns count characters) of a byte offset.
    pub fn line_col(&self, offset: u32) -> (usize, usize) {
        let offset = (offset as usize).min(self.text.len());
        let line = self.line_starts.partition_point(|&s| s as usize <= offset) - 1;
        let start = self.line_starts[line] as usize;
        let col = match self.text.get(start..offset) {
            Some(s) if !self.ascii => s.chars().count(),
            _ => offset - start,
        };
        (line + 1, col + 1)
    }

    /// Byte range of 1-based `line`, without its line terminator.
    pub fn line_range(&self, line: usize) -> std::ops::Range<usize> {
        let start = self.line_starts.get(line - 1).copied().unwrap_or(0) as usize;
        let mut end = self
            .line_starts
            .get(line)
            .map_or(self.text.len(), |&e| e as usize - 1);
        if self.text.as_bytes().get(end.wrapping_sub(1)) == Some(&b'\r') && end > start {
            end -= 1;
        }
        start..end
    }

    /// The whole lines `span` stands on, with the last one's line break, when
    /// nothing but blanks shares them: what deleting `span` as a line deletes.
    pub fn own_lines(&self, span: Span) -> Option<Span> {
        self.own_lines_commented(span, None)
    }

    /// As [`Self::own_lines`], a comment after `span` going with it (`#` for nft).
    pub fn own_lines_commented(&self, span: Span, comment: Option<char>) -> Option<Span> {
        let lines = own_lines(&self.text, span.range(), comment)?;
        Some(self.span(lines.start, lines.end))
    }

    pub fn line_count(&self) -> usize {
        self.line_starts.len()
    }

    pub fn display_path(&self) -> String {
        display_path(&self.path)
    }
}

/// The whole lines `range` of `text` stands on, the last one's line break
/// included, when nothing but blanks (and, with `comment`, a trailing comment
/// starting with it) shares them.
pub fn own_lines(
    text: &str,
    range: std::ops::Range<usize>,
    comment: Option<char>,
) -> Option<std::ops::Range<usize>> {
    let before = text.get(..range.start)?;
    let start = before.rfind('\n').map_or(0, |i| i + 1);
    let after = text.get(range.end..)?;
    let end = after.find('\n').map_or(text.len(), |i| range.end + i + 1);
    let rest = text.get(range.end..end)?.trim();
    let rest_blank = rest.is_empty() || comment.is_some_and(|c| rest.starts_with(c));
    (before.get(start..)?.trim().is_empty() && rest_blank).then_some(start..end)
}

/// Paths always shown with `/`, without a leading `./`.
pub fn display_path(path: &Path) -> String {
    let s = path.to_string_lossy().replace('\\', "/");
    s.strip_prefix("./").map(str::to_owned).unwrap_or(s)
}

/// Decode bytes as regedit, Notepad and Unix tools write them. Valid UTF-8
/// (the common case) is taken over without a copy.
pub fn decode(bytes: Vec<u8>) -> (String, Encoding) {
    if let Some(rest) = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        return (
            String::from_utf8_lossy(rest).into_owned(),
            Encoding::Utf8Bom,
        );
    }
    if let Some(rest) = bytes.strip_prefix(&[0xFF, 0xFE]) {
        return (decode_utf16(rest, u16::from_le_bytes), Encoding::Utf16Le);
    }
    if let Some(rest) = bytes.strip_prefix(&[0xFE, 0xFF]) {
        return (decode_utf16(rest, u16::from_be_bytes), Encoding::Utf16Be);
    }
    match String::from_utf8(bytes) {
        Ok(s) => (s, Encoding::Utf8),
        Err(e) => (decode_windows_1252(e.as_bytes()), Encoding::Windows1252),
    }
}

fn decode_utf16(bytes: &[u8], unit: fn([u8; 2]) -> u16) -> String {
    let units = bytes.chunks_exact(2).map(|c| unit([c[0], c[1]]));
    char::decode_utf16(units)
        .map(|r| r.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect()
}

/// Windows-1252's 0x80-0x9F block; the rest maps to the same code point.
const CP1252_HIGH: [char; 32] = [
    '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8D}', 'Ž', '\u{8F}',
    '\u{90}', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9D}', 'ž', 'Ÿ',
];

fn decode_windows_1252(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|&b| match b {
            0x80..=0x9F => CP1252_HIGH[(b - 0x80) as usize],
            _ => b as char,
        })
        .collect()
}

/// The recognised files of a run, indexed by [`FileId`] (ids of skipped files stay empty).
#[derive(Debug, Default)]
pub struct SourceMap {
    files: Vec<Option<SourceFile>>,
}

impl SourceMap {
    pub fn new(files: Vec<Option<SourceFile>>) -> Self {
        debug_assert!(
            files
                .iter()
                .enumerate()
                .all(|(i, f)| f.as_ref().is_none_or(|f| f.id.0 as usize == i))
        );
        SourceMap { files }
    }

    pub fn get(&self, id: FileId) -> Option<&SourceFile> {
        self.files.get(id.0 as usize)?.as_ref()
    }

    pub fn iter(&self) -> impl Iterator<Item = &SourceFile> {
        self.files.iter().flatten()
    }

    /// Number of recognised files.
    pub fn len(&self) -> usize {
        self.iter().count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The span in a file on disk: spans of a file a script writes map back
    /// into the script (or the repository file it edits); others stay.
    pub fn real_span(&self, span: Span) -> Span {
        // A file written by a script that is itself virtual (a cloud instance's
        // boot script) maps back in more than one step.
        let mut span = span;
        for _ in 0..4 {
            match self.get(span.file).and_then(SourceFile::origin) {
                Some(origin) => span = origin.map(span.start as usize, span.end as usize),
                None => break,
            }
        }
        span
    }

    /// As [`SourceMap::real_span`], but `None` unless the span's bytes are the
    /// real file's bytes verbatim (so an edit of them is an edit there).
    pub fn real_span_exact(&self, span: Span) -> Option<Span> {
        let mut span = span;
        for _ in 0..4 {
            match self.get(span.file).and_then(SourceFile::origin) {
                Some(origin) => span = origin.map_exact(span.start as usize, span.end as usize)?,
                None => break,
            }
        }
        Some(span)
    }
}

/// The display path of the file `span` lies in.
pub fn path_of(sources: &SourceMap, span: Span) -> String {
    sources
        .get(span.file)
        .map(|f| f.display_path())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_characters() {
        let f = SourceFile::new(FileId(0), "x", "ab\nc\u{e9}d\n".as_bytes());
        assert_eq!(f.line_col(0), (1, 1));
        assert_eq!(f.line_col(3), (2, 1));
        assert_eq!(f.line_col(6), (2, 3));
        assert_eq!(f.line_range(2), 3..7);
    }

    #[test]
    fn decodes_utf16le_with_bom() {
        let mut bytes = vec![0xFF, 0xFE];
        for u in "REGEDIT4\r\n".encode_utf16() {
            bytes.extend(u.to_le_bytes());
        }
        let (text, enc) = decode(bytes);
        assert_eq!(text, "REGEDIT4\r\n");
        assert_eq!(enc, Encoding::Utf16Le);
    }

    #[test]
    fn falls_back_to_windows_1252() {
        let (text, enc) = decode(b"caf\xe9 \x80".to_vec());
        assert_eq!(text, "caf\u{e9} \u{20ac}");
        assert_eq!(enc, Encoding::Windows1252);
    }

    #[test]
    fn spans_of_a_written_file_map_into_the_files_it_came_from() {
        let script = SourceFile::new(FileId(0), "setup.sh", b"echo a=1 > x; echo b=$B >> x");
        let origin = Origin {
            runs: vec![
                OriginRun {
                    at: 0,
                    span: script.span(5, 8),
                    verbatim: true,
                },
                OriginRun {
                    at: 4,
                    span: script.span(19, 23),
                    verbatim: false,
                },
            ],
            whole: script.span(0, 29),
        };
        let written = SourceFile::written(FileId(1), "setup.sh → x", "a=1\nb=?\n".into(), origin);
        let map = SourceMap::new(vec![Some(script), Some(written)]);
        let on = |a, b| map.real_span(Span::new(FileId(1), a, b));
        assert_eq!(on(0, 3), Span::new(FileId(0), 5, 8));
        assert_eq!(on(6, 7), Span::new(FileId(0), 19, 23));
        assert_eq!(
            map.real_span_exact(Span::new(FileId(1), 0, 3)),
            Some(Span::new(FileId(0), 5, 8))
        );
        assert_eq!(map.real_span_exact(Span::new(FileId(1), 4, 7)), None);
        let own = Span::new(FileId(0), 1, 2);
        assert_eq!(map.real_span(own), own);
    }

    #[test]
    fn strips_utf8_bom_and_remembers_it() {
        let (text, enc) = decode(b"\xEF\xBB\xBF#x".to_vec());
        assert_eq!(text, "#x");
        assert_eq!(enc, Encoding::Utf8Bom);
    }
}
#[cfg(test)]
mod own_lines_tests {
    use super::*;
    #[test]
    fn a_trailing_comment_goes_with_the_line() {
        let src = SourceFile::new(
            FileId(0),
            "x",
            b"a\n    tcp dport 20 accept # active mode\n  }\n",
        );
        let at = src.text.find("tcp").unwrap();
        let span = src.span(at, at + "tcp dport 20 accept".len());
        assert_eq!(
            src.own_lines_commented(span, Some('#')).map(|s| s.range()),
            Some(2..40)
        );
    }
}
