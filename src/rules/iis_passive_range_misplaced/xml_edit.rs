//! Byte ranges for the edits the IIS fixes make in an XML file's decoded text:
//! an attribute taken out with the blanks before it, an attribute added after a
//! start tag's last one in the tag's own layout, a line taken out whole.

use crate::formats::xml::{Attr, Element};
use std::ops::Range;

/// `name="value"` and the blanks (line breaks included) before it.
pub fn attribute_with_blanks(text: &str, attr: &Attr) -> Option<Range<usize>> {
    let name = attr.name_span.start as usize;
    let close = attr.value_span.end as usize;
    let quote = text.get(close..close + 1)?;
    if quote != "\"" && quote != "'" {
        return None;
    }
    let before = text.get(..name)?;
    let start = before.trim_end_matches([' ', '\t', '\r', '\n']).len();
    (start < name).then_some(start..close + 1)
}

/// The raw `name="value"` text of an attribute, quotes as written.
pub fn attribute_text(text: &str, attr: &Attr) -> Option<String> {
    let (name, close) = (attr.name_span.start as usize, attr.value_span.end as usize);
    text.get(name..close + 1).map(str::to_owned)
}

/// Where a new attribute goes in `element`'s start tag (after its last
/// attribute, or after its name) and the blanks to write before it: those
/// before the tag's last attribute when it has two or more, else a line break
/// and two tabs in a tag written over several lines (MetaBase.xml), else a space.
pub fn attribute_slot(text: &str, element: &Element, eol: &str) -> Option<(usize, String)> {
    let (at, blanks) = match element.attrs.last() {
        Some(last) => {
            let whole = attribute_with_blanks(text, last)?;
            let blanks = text.get(whole.start..last.name_span.start as usize)?;
            (whole.end, blanks)
        }
        None => (element.name_span.end as usize, " "),
    };
    let multiline = text.get(element.tag.range())?.contains('\n');
    let sep = if element.attrs.len() >= 2 {
        blanks.to_owned()
    } else if multiline {
        format!("{eol}\t\t")
    } else {
        " ".to_owned()
    };
    Some((at, sep))
}

/// The file's line ending: CRLF when its first line ends so, else LF.
pub fn line_ending(text: &str) -> &'static str {
    match text.find('\n') {
        Some(i) if i > 0 && text.get(i - 1..i) == Some("\r") => "\r\n",
        _ => "\n",
    }
}

/// The blanks a line starts with, for the line holding byte `at`.
pub fn indentation_at(text: &str, at: usize) -> &str {
    let start = text.get(..at).and_then(|h| h.rfind('\n')).map_or(0, |i| i + 1);
    let line = text.get(start..).unwrap_or("");
    let width = line.len() - line.trim_start_matches([' ', '\t']).len();
    line.get(..width).unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_lines_only_when_alone() {
        let text = "a\r\n\tX=\"1\"\r\nb";
        let at = text.find('X').unwrap();
        assert_eq!(crate::source::own_lines(text, at..at + 5, None), Some(3..11));
        assert_eq!(crate::source::own_lines("a X=\"1\"\n", 2..7, None), None);
        assert_eq!(line_ending(text), "\r\n");
        assert_eq!(indentation_at(text, at), "\t");
    }
}
