//! Text of a batch file as cmd holds it while reading: each character keeps
//! the script bytes it came from, so words map back into the script.

/// One character and the script bytes it came from (an expansion's
/// characters all carry the span of the reference, `%PORT%`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cell {
    pub c: char,
    pub at: (u32, u32),
    /// Escaped by `^` (phase 2): never an operator, a quote or a delimiter.
    pub escaped: bool,
}

impl Cell {
    pub fn new(c: char, at: (u32, u32)) -> Self {
        Cell {
            c,
            at,
            escaped: false,
        }
    }

    /// An unescaped `c`.
    pub fn is(&self, c: char) -> bool {
        self.c == c && !self.escaped
    }

    /// cmd's token delimiters: blanks, `,`, `;`, `=` (unescaped).
    pub fn is_delimiter(&self) -> bool {
        !self.escaped && is_delimiter(self.c)
    }

    pub fn is_blank(&self) -> bool {
        !self.escaped && matches!(self.c, ' ' | '\t')
    }
}

pub fn is_delimiter(c: char) -> bool {
    matches!(c, ' ' | '\t' | ',' | ';' | '=' | '\u{0B}' | '\u{0C}')
}

pub type Cells = Vec<Cell>;

pub fn text(cells: &[Cell]) -> String {
    cells.iter().map(|c| c.c).collect()
}

pub fn lower(cells: &[Cell]) -> String {
    text(cells).to_ascii_lowercase()
}

/// Cells of `value`, all from `at`.
pub fn from_str(value: &str, at: (u32, u32)) -> Cells {
    value.chars().map(|c| Cell::new(c, at)).collect()
}

pub fn trim_blanks(cells: &[Cell]) -> &[Cell] {
    let start = cells
        .iter()
        .position(|c| !c.is_blank())
        .unwrap_or(cells.len());
    let end = cells
        .iter()
        .rposition(|c| !c.is_blank())
        .map_or(start, |e| e + 1);
    cells.get(start..end).unwrap_or(&[])
}

pub fn trim_delimiters(cells: &[Cell]) -> &[Cell] {
    let start = cells
        .iter()
        .position(|c| !c.is_delimiter())
        .unwrap_or(cells.len());
    cells.get(start..).unwrap_or(&[])
}

/// The first token (up to a delimiter, quotes grouping) and the rest after it.
pub fn first_token(cells: &[Cell]) -> (&[Cell], &[Cell]) {
    let cells = trim_delimiters(cells);
    let mut quoted = false;
    let mut end = cells.len();
    for (i, c) in cells.iter().enumerate() {
        if c.is('"') {
            quoted = !quoted;
        } else if !quoted && c.is_delimiter() {
            end = i;
            break;
        }
    }
    cells.split_at(end)
}

/// The word `word` (any case) starts `cells` and is followed by a delimiter,
/// a `(`, a quote or the end.
pub fn starts_with_word(cells: &[Cell], word: &str) -> bool {
    let n = word.chars().count();
    cells.len() >= n
        && cells
            .iter()
            .zip(word.chars())
            .all(|(c, w)| !c.escaped && c.c.eq_ignore_ascii_case(&w))
        && cells
            .get(n)
            .is_none_or(|c| c.is_delimiter() || c.is('(') || c.is('"') || c.c == '\n')
}
