//! Positions as the client counts them. Spans are byte offsets into decoded
//! text; LSP positions are (line, character) where the character unit is the
//! negotiated encoding (UTF-16 code units by default) and lines end at `\n`,
//! `\r\n` or a lone `\r`.

use lsp_types::{Position, Range};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PositionEncoding {
    Utf8,
    Utf16,
}

impl PositionEncoding {
    fn units(self, c: char) -> usize {
        match self {
            PositionEncoding::Utf8 => c.len_utf8(),
            PositionEncoding::Utf16 => c.len_utf16(),
        }
    }
}

/// Line starts of one text, for converting in both directions.
pub struct LineIndex<'a> {
    text: &'a str,
    starts: Vec<usize>,
    encoding: PositionEncoding,
}

impl<'a> LineIndex<'a> {
    pub fn new(text: &'a str, encoding: PositionEncoding) -> Self {
        let bytes = text.as_bytes();
        let mut starts = vec![0];
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'\n' => starts.push(i + 1),
                b'\r' => {
                    if bytes.get(i + 1) == Some(&b'\n') {
                        i += 1;
                    }
                    starts.push(i + 1);
                }
                _ => {}
            }
            i += 1;
        }
        LineIndex {
            text,
            starts,
            encoding,
        }
    }

    /// Byte range of a 0-based line's content, without its terminator.
    fn line_content(&self, line: usize) -> (usize, usize) {
        let start = self.starts[line];
        let Some(&next) = self.starts.get(line + 1) else {
            return (start, self.text.len());
        };
        let bytes = self.text.as_bytes();
        let mut end = next - 1;
        if bytes[end] == b'\n' && end > start && bytes[end - 1] == b'\r' {
            end -= 1;
        }
        (start, end)
    }

    /// The 0-based line holding a byte offset.
    pub fn line_of(&self, offset: usize) -> usize {
        self.starts.partition_point(|&s| s <= offset) - 1
    }

    #[cfg(test)]
    pub fn line_count(&self) -> usize {
        self.starts.len()
    }

    /// Byte offset of the start of a 0-based line (the end of text past the last line).
    pub fn line_start(&self, line: usize) -> usize {
        self.starts.get(line).copied().unwrap_or(self.text.len())
    }

    /// The terminator after a 0-based line: `\r\n`, `\r`, `\n`, or `""` on the last line.
    pub fn terminator(&self, line: usize) -> &'a str {
        let (_, end) = self.line_content(line.min(self.starts.len() - 1));
        let next = self.line_start(line + 1);
        self.text.get(end..next).unwrap_or("")
    }

    /// The content of a 0-based line, without its terminator.
    pub fn line_text(&self, line: usize) -> &'a str {
        if line >= self.starts.len() {
            return "";
        }
        let (start, end) = self.line_content(line);
        self.text.get(start..end).unwrap_or("")
    }

    /// A byte offset as an LSP position. Offsets past the end clamp to the end,
    /// offsets inside a character or a line terminator to the nearest earlier
    /// position the client can express.
    pub fn position(&self, offset: usize) -> Position {
        let offset = floor_char_boundary(self.text, offset.min(self.text.len()));
        let line = self.line_of(offset);
        let (start, end) = self.line_content(line);
        let prefix = self.text.get(start..offset.min(end)).unwrap_or("");
        let character: usize = prefix.chars().map(|c| self.encoding.units(c)).sum();
        Position::new(to_u32(line), to_u32(character))
    }

    pub fn range(&self, start: usize, end: usize) -> Range {
        Range::new(self.position(start), self.position(end))
    }

    /// An LSP position as a byte offset. A line past the end means the end of
    /// text; a character past the line's end means the line's end (as the
    /// spec says); one inside a character means that character's start.
    pub fn offset(&self, position: Position) -> usize {
        let line = position.line as usize;
        if line >= self.starts.len() {
            return self.text.len();
        }
        let (start, end) = self.line_content(line);
        let wanted = position.character as usize;
        let mut units = 0;
        for (i, c) in self.text[start..end].char_indices() {
            let next = units + self.encoding.units(c);
            if next > wanted {
                return start + i;
            }
            units = next;
        }
        end
    }
}

fn floor_char_boundary(text: &str, mut offset: usize) -> usize {
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Apply one `didChange` content change: a range edit, or the whole text when
/// `range` is absent.
pub fn apply_change(
    text: &mut String,
    range: Option<Range>,
    new_text: &str,
    encoding: PositionEncoding,
) {
    let Some(range) = range else {
        new_text.clone_into(text);
        return;
    };
    let index = LineIndex::new(text, encoding);
    let a = index.offset(range.start);
    let b = index.offset(range.end);
    let (start, end) = (a.min(b), a.max(b));
    text.replace_range(start..end, new_text);
}

#[cfg(test)]
mod tests {
    use super::*;
    use PositionEncoding::*;

    fn pos(line: u32, character: u32) -> Position {
        Position::new(line, character)
    }

    #[test]
    fn utf16_counts_surrogate_pairs_as_two() {
        // "é" is 2 bytes / 1 unit, "𝄞" 4 bytes / 2 units.
        let text = "a\u{e9}\u{1d11e}b\n";
        let index = LineIndex::new(text, Utf16);
        assert_eq!(index.position(0), pos(0, 0));
        assert_eq!(index.position(3), pos(0, 2));
        assert_eq!(index.position(7), pos(0, 4));
        assert_eq!(index.offset(pos(0, 4)), 7);
        // Inside the surrogate pair: the character's start.
        assert_eq!(index.offset(pos(0, 3)), 3);
    }

    #[test]
    fn utf8_counts_bytes() {
        let text = "a\u{e9}b";
        let index = LineIndex::new(text, Utf8);
        assert_eq!(index.position(3), pos(0, 3));
        assert_eq!(index.offset(pos(0, 3)), 3);
        assert_eq!(index.offset(pos(0, 2)), 1);
        // Inside "é": clamps back to its start.
        assert_eq!(index.position(2), pos(0, 1));
    }

    #[test]
    fn every_line_terminator_ends_a_line() {
        let text = "a\r\nb\rc\nd";
        let index = LineIndex::new(text, Utf16);
        assert_eq!(index.line_count(), 4);
        assert_eq!(index.position(3), pos(1, 0));
        assert_eq!(index.position(5), pos(2, 0));
        assert_eq!(index.position(7), pos(3, 0));
        assert_eq!(index.terminator(0), "\r\n");
        assert_eq!(index.terminator(1), "\r");
        assert_eq!(index.terminator(3), "");
        // The offset between \r and \n maps to the end of line 0.
        assert_eq!(index.position(2), pos(0, 1));
        assert_eq!(index.line_text(0), "a");
    }

    #[test]
    fn out_of_range_positions_clamp() {
        let text = "ab\ncd";
        let index = LineIndex::new(text, Utf16);
        assert_eq!(index.offset(pos(0, 99)), 2);
        assert_eq!(index.offset(pos(99, 0)), 5);
        assert_eq!(index.position(999), pos(1, 2));
    }

    #[test]
    fn range_edits_apply_in_utf16_units() {
        let mut text = "p\u{e9}\u{1d11e}=1\nx".to_owned();
        let range = Range::new(pos(0, 4), pos(0, 6));
        apply_change(&mut text, Some(range), "=22", Utf16);
        assert_eq!(text, "p\u{e9}\u{1d11e}=22\nx");
        apply_change(&mut text, Some(Range::new(pos(1, 0), pos(9, 9))), "", Utf16);
        assert_eq!(text, "p\u{e9}\u{1d11e}=22\n");
        apply_change(&mut text, None, "new", Utf16);
        assert_eq!(text, "new");
    }

    #[test]
    fn reversed_ranges_do_not_panic() {
        let mut text = "abc".to_owned();
        apply_change(&mut text, Some(Range::new(pos(0, 2), pos(0, 1))), "X", Utf8);
        assert_eq!(text, "aXc");
    }
}
