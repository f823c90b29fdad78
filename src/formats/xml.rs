//! A flat, span-keeping XML reader for the IIS configuration formats.
//!
//! quick-xml tokenises; this module keeps every element with its attributes,
//! the exact byte span of each name and value in the decoded text, and the
//! first well-formedness error. No DTD is read and no entity beyond XML's five
//! predefined ones and character references is expanded, so a hostile file
//! cannot grow in memory. Nesting is tracked on a `Vec`, never by recursion.

use crate::source::{SourceFile, Span};
use quick_xml::Reader;
use quick_xml::errors::{Error as XmlReadError, IllFormedError, SyntaxError};
use quick_xml::escape::{EscapeError, unescape};
use quick_xml::events::{BytesStart, Event};

/// More elements than any real IIS file holds; past this the reader stops
/// with an error instead of growing without bound.
pub const MAX_ELEMENTS: usize = 2_000_000;
/// Problems recorded per file; the first one is what matters.
const MAX_ERRORS: usize = 16;

/// One attribute as written: `name="value"`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attr {
    pub name: String,
    pub name_span: Span,
    /// The value after entity expansion and attribute-value normalisation
    /// (literal tabs and line breaks become spaces, as XML 1.0 §3.3.3 says).
    pub value: String,
    /// The raw value between the quotes.
    pub value_span: Span,
}

/// One element (start tag or empty-element tag).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Element {
    pub name: String,
    pub name_span: Span,
    /// From `<` to `>` of the start tag.
    pub tag: Span,
    pub parent: Option<usize>,
    pub children: Vec<usize>,
    pub attrs: Vec<Attr>,
    /// Text directly inside the element that is not only blanks, trimmed.
    pub text: Vec<Span>,
    /// The name in the matching end tag; `None` for `<a/>` and unclosed elements.
    pub end_name: Option<Span>,
    /// From `</` to `>` of the matching end tag.
    pub end_tag: Option<Span>,
}

impl Element {
    /// The attribute spelled exactly `name` (IIS names are case sensitive).
    pub fn attr(&self, name: &str) -> Option<&Attr> {
        self.attrs.iter().find(|a| a.name == name)
    }
}

/// Where the document stops being well-formed, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct XmlError {
    pub span: Span,
    pub message: String,
    /// Another place involved (the start tag an end tag fails to match).
    pub related: Option<(Span, String)>,
}

/// Everything read from one XML file, in document order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct XmlTree {
    pub elements: Vec<Element>,
    /// Well-formedness problems, first one first; reading stops at a fatal one.
    pub errors: Vec<XmlError>,
    /// Whether the elements themselves break: the file holds no element, ends
    /// inside markup or before an element closes, or an end tag does not match.
    /// Every XML parser rejects these (lenient ones such as TinyXML too), unlike a
    /// bad attribute, an unknown entity or `--` in a comment.
    pub structure_broken: bool,
}

impl XmlTree {
    /// From `<` of the element's start tag to `>` of its end tag (the start tag
    /// alone for `<a/>` and for an element left unclosed).
    pub fn extent(&self, e: &Element) -> Span {
        match e.end_tag {
            Some(end) => Span {
                end: end.end,
                ..e.tag
            },
            None => e.tag,
        }
    }

    pub fn root(&self) -> Option<&Element> {
        self.elements.first().filter(|e| e.parent.is_none())
    }

    pub fn children<'a>(&'a self, index: usize) -> impl Iterator<Item = (usize, &'a Element)> + 'a {
        self.elements
            .get(index)
            .map(|e| e.children.as_slice())
            .unwrap_or(&[])
            .iter()
            .filter_map(move |&i| Some((i, self.elements.get(i)?)))
    }

    /// Children of `index` named exactly `name`.
    pub fn children_named<'a>(
        &'a self,
        index: usize,
        name: &'a str,
    ) -> impl Iterator<Item = (usize, &'a Element)> + 'a {
        self.children(index).filter(move |(_, e)| e.name == name)
    }

    /// Follows `path` (exact names) down from `index`, first match at each step.
    pub fn descend<'a>(&'a self, index: usize, path: &[&'a str]) -> Option<(usize, &'a Element)> {
        let mut at = (index, self.elements.get(index)?);
        for name in path {
            at = self.children_named(at.0, name).next()?;
        }
        Some(at)
    }

    pub fn is_well_formed(&self) -> bool {
        self.errors.is_empty()
    }
}

/// Reads `source` as XML. Never panics; a broken file yields the elements
/// before the break and an error pointing at it.
pub fn read(source: &SourceFile) -> XmlTree {
    let mut state = ReadState {
        source,
        tree: XmlTree::default(),
        open: Vec::new(),
    };
    state.run();
    state.tree
}

struct ReadState<'a> {
    source: &'a SourceFile,
    tree: XmlTree,
    /// Indices of the elements whose end tag is still to come.
    open: Vec<usize>,
}

impl<'a> ReadState<'a> {
    fn run(&mut self) {
        let text: &'a str = &self.source.text;
        let mut reader = Reader::from_str(text);
        let config = reader.config_mut();
        config.check_end_names = false;
        config.allow_unmatched_ends = true;
        config.check_comments = true;
        loop {
            match reader.read_event() {
                Ok(Event::Start(tag)) => {
                    let Some(index) = self.element(&tag, reader.buffer_position()) else {
                        return;
                    };
                    self.open.push(index);
                }
                Ok(Event::Empty(tag)) => {
                    if self.element(&tag, reader.buffer_position()).is_none() {
                        return;
                    }
                }
                Ok(Event::End(end)) => {
                    if !self.close(end.name().as_ref(), reader.buffer_position()) {
                        return;
                    }
                }
                Ok(Event::Text(t)) => self.text(&t),
                Ok(Event::Eof) => {
                    self.unclosed_at_eof();
                    return;
                }
                Ok(_) => {}
                Err(e) => {
                    self.tree.structure_broken |= matches!(
                        e,
                        XmlReadError::Syntax(
                            SyntaxError::UnclosedTag
                                | SyntaxError::UnclosedComment
                                | SyntaxError::UnclosedPIOrXmlDecl
                                | SyntaxError::UnclosedCData
                                | SyntaxError::UnclosedDoctype
                        )
                    );
                    let at = usize::try_from(reader.error_position()).unwrap_or(text.len());
                    self.fatal(at, read_error_message(&e));
                    return;
                }
            }
        }
    }

    /// Records a start or empty-element tag ending at `end` (just past `>`).
    fn element(&mut self, tag: &BytesStart, end: u64) -> Option<usize> {
        let text = &self.source.text;
        let end = usize::try_from(end).unwrap_or(text.len()).min(text.len());
        let name_bytes = tag.name().into_inner();
        let name_start = offset_of(text, name_bytes).unwrap_or(0);
        let tag_start = name_start.saturating_sub(1);
        if self.tree.elements.len() >= MAX_ELEMENTS {
            self.fatal(
                tag_start,
                format!("more than {MAX_ELEMENTS} elements; pasvlint stops reading here"),
            );
            return None;
        }
        let parent = self.open.last().copied();
        if parent.is_none() && !self.tree.elements.is_empty() {
            self.fatal(
                tag_start,
                format!(
                    "a second top-level element <{}> after the root element has ended",
                    lossy(name_bytes)
                ),
            );
            return None;
        }
        let index = self.tree.elements.len();
        let attrs = self.attributes(tag, tag_start);
        self.tree.elements.push(Element {
            name: lossy(name_bytes),
            name_span: self.source.span(name_start, name_start + name_bytes.len()),
            tag: self.source.span(tag_start, end),
            parent,
            children: Vec::new(),
            attrs,
            text: Vec::new(),
            end_name: None,
            end_tag: None,
        });
        if let Some(p) = parent.and_then(|p| self.tree.elements.get_mut(p)) {
            p.children.push(index);
        }
        Some(index)
    }

    fn attributes(&mut self, tag: &BytesStart, tag_start: usize) -> Vec<Attr> {
        let text = &self.source.text;
        let mut attrs: Vec<Attr> = Vec::new();
        // quick-xml's own duplicate check compares each name with every earlier
        // one; a hash set keeps a tag with many attributes linear.
        let mut seen = std::collections::HashMap::new();
        let mut iter = tag.attributes();
        iter.with_checks(false);
        for attr in iter {
            let attr = match attr {
                Ok(a) => a,
                Err(e) => {
                    // Positions in attribute errors count from the byte after `<`.
                    let (pos, message) = attr_error_message(&e);
                    let related = runaway_value(&attrs, text).map(|a: &Attr| {
                        let label = format!(
                            "{}= runs over several lines: a closing quote may be missing",
                            a.name
                        );
                        (a.value_span, label)
                    });
                    self.problem(tag_start + 1 + pos, message, related);
                    break;
                }
            };
            let key = attr.key.into_inner();
            let name_start = offset_of(text, key).unwrap_or(tag_start);
            let raw: &[u8] = &attr.value;
            let value_start = offset_of(text, raw).unwrap_or(name_start + key.len());
            let raw_text = text
                .get(value_start..value_start + raw.len())
                .unwrap_or_default();
            let value = match unescape(&normalize_whitespace(raw_text)) {
                Ok(v) => v.into_owned(),
                Err(e) => {
                    let (at, len) = escape_error_range(&e);
                    self.problem_at(
                        self.source.span(value_start + at, value_start + at + len),
                        escape_error_message(&e),
                    );
                    raw_text.to_owned()
                }
            };
            let name_span = self.source.span(name_start, name_start + key.len());
            if let Some(first) = seen.insert(key, name_span) {
                let message = format!("attribute `{}` appears twice in this tag", lossy(key));
                let related = Some((first, "first one here".to_owned()));
                self.problem_span(name_span, message, related);
                continue;
            }
            attrs.push(Attr {
                name: lossy(key),
                name_span,
                value,
                value_span: self.source.span(value_start, value_start + raw.len()),
            });
        }
        attrs
    }

    /// Keeps where non-blank text sits inside the innermost open element.
    fn text(&mut self, t: &[u8]) {
        let text = &self.source.text;
        let Some(start) = offset_of(text, t) else {
            return;
        };
        let Some(chunk) = text.get(start..start + t.len()) else {
            return;
        };
        let trimmed = chunk.trim();
        if trimmed.is_empty() {
            return;
        }
        let lead = chunk.len() - chunk.trim_start().len();
        let span = self.source.span(start + lead, start + lead + trimmed.len());
        if let Some(e) = self
            .open
            .last()
            .and_then(|&i| self.tree.elements.get_mut(i))
        {
            e.text.push(span);
        }
    }

    /// Matches an end tag against the innermost open element.
    fn close(&mut self, name: &[u8], end: u64) -> bool {
        let text = &self.source.text;
        let end = usize::try_from(end).unwrap_or(text.len()).min(text.len());
        let start = offset_of(text, name).map_or(end, |n| n.saturating_sub(2));
        let found = lossy(name);
        let Some(open) = self.open.pop() else {
            self.fatal(
                start,
                format!("closing tag </{found}> has no matching start tag"),
            );
            return false;
        };
        let Some(element) = self.tree.elements.get_mut(open) else {
            return false;
        };
        if element.name.as_bytes() == name {
            element.end_name = offset_of(text, name).map(|n| self.source.span(n, n + name.len()));
            element.end_tag = Some(self.source.span(start, end));
            return true;
        }
        let message = format!(
            "closing tag </{found}> does not match <{}> (names are case sensitive)",
            element.name
        );
        let related = Some((element.name_span, format!("<{}> opened here", element.name)));
        self.tree.structure_broken = true;
        self.fatal_with(start, message, related);
        false
    }

    fn unclosed_at_eof(&mut self) {
        if let Some(&open) = self.open.last() {
            if let Some(e) = self.tree.elements.get(open) {
                let (name, span) = (e.name.clone(), e.name_span);
                let message =
                    format!("the file ends before </{name}>: the element is never closed");
                self.tree.structure_broken = true;
                self.tree.errors.push(XmlError {
                    span,
                    message,
                    related: None,
                });
            }
        } else if self.tree.elements.is_empty() {
            self.tree.structure_broken = true;
            self.fatal(
                self.source.text.len(),
                "no root element: the file holds no XML element".to_owned(),
            );
        }
    }

    fn fatal(&mut self, at: usize, message: String) {
        self.fatal_with(at, message, None);
    }

    fn fatal_with(&mut self, at: usize, message: String, related: Option<(Span, String)>) {
        self.problem(at, message, related);
    }

    fn problem(&mut self, at: usize, message: String, related: Option<(Span, String)>) {
        let span = error_span(self.source, at);
        self.push(XmlError {
            span,
            message,
            related,
        });
    }

    fn problem_at(&mut self, span: Span, message: String) {
        self.problem_span(span, message, None);
    }

    fn problem_span(&mut self, span: Span, message: String, related: Option<(Span, String)>) {
        let text = &self.source.text;
        let (start, end) = (span.start as usize, span.end as usize);
        let span =
            if end <= text.len() && text.is_char_boundary(start) && text.is_char_boundary(end) {
                span
            } else {
                error_span(self.source, start)
            };
        self.push(XmlError {
            span,
            message,
            related,
        });
    }

    fn push(&mut self, error: XmlError) {
        if self.tree.errors.len() < MAX_ERRORS {
            self.tree.errors.push(error);
        }
    }
}

/// An earlier value that spans a line break, the usual trace of a lost quote.
fn runaway_value<'t>(attrs: &'t [Attr], text: &str) -> Option<&'t Attr> {
    attrs.iter().rev().find(|a| {
        text.get(a.value_span.range())
            .is_some_and(|v| v.contains(['\r', '\n']))
    })
}

/// The byte offset of `part` inside `text`, when `part` borrows from it.
fn offset_of(text: &str, part: &[u8]) -> Option<usize> {
    let base = text.as_ptr() as usize;
    let at = (part.as_ptr() as usize).checked_sub(base)?;
    (at + part.len() <= text.len()).then_some(at)
}

/// From `at` to the end of its line (at most 60 bytes), on character boundaries.
fn error_span(source: &SourceFile, at: usize) -> Span {
    let text = &source.text;
    let mut start = at.min(text.len());
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    let rest = &text[start..];
    let mut end = start + rest.find(['\r', '\n']).unwrap_or(rest.len()).min(60);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    source.span(start, end)
}

/// XML 1.0 §3.3.3: each literal tab, CR, LF (a CRLF pair counts once) in an
/// attribute value becomes one space before references are expanded.
fn normalize_whitespace(raw: &str) -> std::borrow::Cow<'_, str> {
    if !raw.contains(['\t', '\r', '\n']) {
        return std::borrow::Cow::Borrowed(raw);
    }
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push(' ');
            }
            '\t' | '\n' => out.push(' '),
            _ => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn read_error_message(e: &XmlReadError) -> String {
    match e {
        XmlReadError::Syntax(s) => match s {
            SyntaxError::UnclosedTag => "the file ends inside a tag: `>` never comes".to_owned(),
            SyntaxError::UnclosedComment => {
                "the file ends inside a comment: `-->` never comes".to_owned()
            }
            SyntaxError::UnclosedPIOrXmlDecl => {
                "the file ends inside `<?...`: `?>` never comes".to_owned()
            }
            SyntaxError::UnclosedCData => {
                "the file ends inside CDATA: `]]>` never comes".to_owned()
            }
            SyntaxError::UnclosedDoctype => {
                "the file ends inside <!DOCTYPE: `>` never comes".to_owned()
            }
            SyntaxError::InvalidBangMarkup => {
                "`<!` starts neither a comment, CDATA nor DOCTYPE".to_owned()
            }
        },
        XmlReadError::IllFormed(IllFormedError::DoubleHyphenInComment) => {
            "`--` inside a comment is not allowed in XML".to_owned()
        }
        XmlReadError::IllFormed(IllFormedError::MissingDeclVersion(_)) => {
            "the XML declaration lacks its leading version=\"1.0\"".to_owned()
        }
        other => format!("not well-formed XML: {other}"),
    }
}

fn attr_error_message(e: &quick_xml::events::attributes::AttrError) -> (usize, String) {
    use quick_xml::events::attributes::AttrError;
    match *e {
        AttrError::ExpectedEq(p) => (p, "attribute name not followed by `=`".to_owned()),
        AttrError::ExpectedValue(p) => (p, "attribute has `=` but no quoted value".to_owned()),
        AttrError::UnquotedValue(p) => (p, "attribute value is not in quotes".to_owned()),
        AttrError::ExpectedQuote(p, _) => (p, "attribute value has no closing quote".to_owned()),
        AttrError::Duplicated(p, _) => {
            (p, "the same attribute appears twice in this tag".to_owned())
        }
    }
}

const BARE_AMPERSAND: &str = "a bare `&` in an attribute value: XML needs `&amp;`";

fn is_entity_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | ':'))
}

/// Offset and length of the bad reference in the value (offsets count in the
/// normalised value, which only differs from the raw text after a CRLF).
fn escape_error_range(e: &EscapeError) -> (usize, usize) {
    match e {
        EscapeError::UnrecognizedEntity(r, name) if is_entity_name(name) => {
            (r.start.saturating_sub(1), r.len() + 2)
        }
        EscapeError::UnrecognizedEntity(r, _) => (r.start.saturating_sub(1), 1),
        EscapeError::UnterminatedEntity(r) => (r.start, 1),
        EscapeError::InvalidCharRef(_) => (0, 0),
    }
}

fn escape_error_message(e: &EscapeError) -> String {
    match e {
        EscapeError::UnrecognizedEntity(_, name) if !is_entity_name(name) => {
            BARE_AMPERSAND.to_owned()
        }
        EscapeError::UnrecognizedEntity(_, name) => format!(
            "&{name}; is not one of XML's predefined entities (&amp; &lt; &gt; &quot; &apos;); \
             DTD entities are not expanded"
        ),
        EscapeError::UnterminatedEntity(_) => BARE_AMPERSAND.to_owned(),
        EscapeError::InvalidCharRef(e) => format!("bad character reference: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FileId;

    fn read_text(text: &str) -> (SourceFile, XmlTree) {
        let src = SourceFile::new(FileId(0), "x.xml", text.as_bytes());
        let tree = read(&src);
        (src, tree)
    }

    fn first_error(text: &str) -> (String, (usize, usize)) {
        let (src, tree) = read_text(text);
        let e = tree.errors.first().expect("an error");
        (e.message.clone(), src.line_col(e.span.start))
    }

    #[test]
    fn mismatched_end_tag_points_at_it_and_the_opener() {
        let (src, tree) = read_text("<a>\n  <IIsFtpService>\n  </IISFtpService>\n</a>");
        let e = &tree.errors[0];
        assert!(e.message.contains("</IISFtpService>"), "{}", e.message);
        assert_eq!(src.line_col(e.span.start), (3, 3));
        let (related, _) = e.related.as_ref().unwrap();
        assert_eq!(src.slice(*related), "IIsFtpService");
    }

    #[test]
    fn truncated_files_say_where_they_break() {
        let (m, at) = first_error("<configuration>\n<MBProperty>\n<IIsFtpService Location=\"/LM");
        assert!(m.contains("ends inside a tag"), "{m}");
        assert_eq!(at, (3, 1));
        let (m, at) = first_error("<configuration>\n<MBProperty>\n");
        assert!(m.contains("</MBProperty>"), "{m}");
        assert_eq!(at, (2, 2));
        let (m, _) = first_error("<a><!-- never closed");
        assert!(m.contains("comment"), "{m}");
        let (m, _) = first_error("");
        assert!(m.contains("no root element"), "{m}");
        let (m, _) = first_error("</a>");
        assert!(m.contains("no matching start tag"), "{m}");
        let (m, _) = first_error("<a/><b/>");
        assert!(m.contains("second top-level"), "{m}");
    }

    #[test]
    fn attribute_errors_are_reported() {
        for (text, want) in [
            ("<a x=1/>", "not in quotes"),
            ("<a x=\"1\" x=\"2\"/>", "`x` appears twice"),
            ("<a x/>", "`=`"),
        ] {
            let (m, _) = first_error(text);
            assert!(m.contains(want), "{text}: {m}");
        }
    }

    #[test]
    fn dtd_entities_are_never_expanded() {
        let text =
            "<!DOCTYPE a [<!ENTITY e \"xxxxxxxxxx\"><!ENTITY f \"&e;&e;&e;&e;\">]>\n<a v=\"&f;\"/>";
        let (_, tree) = read_text(text);
        assert_eq!(tree.elements[0].attrs[0].value, "&f;");
        assert!(tree.errors[0].message.contains("&f;"));
    }

    #[test]
    fn deep_nesting_and_huge_values_do_not_overflow() {
        let depth = 100_000;
        let text = format!("{}{}", "<a>".repeat(depth), "</a>".repeat(depth));
        let (_, tree) = read_text(&text);
        assert!(tree.is_well_formed());
        assert_eq!(tree.elements.len(), depth);
        let many: String = (0..200_000).map(|i| format!(" a{i}=\"{i}\"")).collect();
        let (_, tree) = read_text(&format!("<a{many}/>"));
        assert_eq!(tree.elements[0].attrs.len(), 200_000);
        let big = "9".repeat(1_000_000);
        let (src, tree) = read_text(&format!("<a v=\"{big}\"/>"));
        assert_eq!(
            src.slice(tree.elements[0].attrs[0].value_span).len(),
            big.len()
        );
    }

    #[test]
    fn values_are_normalized_but_spans_stay_raw() {
        let (src, tree) = read_text("<a\tv =\r\n \"x\r\n\ty&lt;\" w='&#10;'/>");
        let v = &tree.elements[0].attrs[0];
        assert_eq!(v.value, "x  y<");
        assert_eq!(src.slice(v.value_span), "x\r\n\ty&lt;");
        assert_eq!(src.slice(v.name_span), "v");
        assert_eq!(tree.elements[0].attrs[1].value, "\n");
    }

    #[test]
    fn multibyte_text_around_errors_keeps_char_boundaries() {
        let (src, tree) = read_text("<a>한국어 <b 이름=\"값\"></a>");
        let e = &tree.errors[0];
        assert!(src.text.is_char_boundary(e.span.start as usize));
        assert!(src.text.is_char_boundary(e.span.end as usize));
        assert_eq!(src.slice(tree.elements[1].attrs[0].value_span), "값");
    }
}
