//! YAML documents as trees of nodes with byte spans, built from saphyr-parser's
//! events (the parser is YAML 1.2, as Compose's go-yaml v3 and Kubernetes'
//! sigs.k8s.io/yaml are: `21:21` is a string). A stream may hold several
//! documents separated by `---` (Kubernetes manifests do). Ansible's files are
//! read with [`parse_pyyaml`], which follows PyYAML where it is more lenient.

use crate::source::{FileId, Span};
use saphyr_parser::{Event, Parser, ScalarStyle};
use std::collections::HashMap;

mod pyyaml;

#[derive(Clone, Debug)]
pub enum Node {
    Scalar {
        text: String,
        span: Span,
        /// Written in quotes (or as a block scalar): never a number or null.
        quoted: bool,
    },
    Seq {
        items: Vec<Node>,
        span: Span,
    },
    Map {
        entries: Vec<(Node, Node)>,
        span: Span,
    },
}

impl Node {
    pub fn span(&self) -> Span {
        match self {
            Node::Scalar { span, .. } | Node::Seq { span, .. } | Node::Map { span, .. } => *span,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Node::Scalar { text, .. } => Some(text),
            _ => None,
        }
    }

    /// A plain `null`, `~` or empty scalar.
    pub fn is_null(&self) -> bool {
        matches!(self, Node::Scalar { text, quoted: false, .. } if matches!(text.as_str(), "" | "~" | "null" | "Null" | "NULL"))
    }

    /// The value of `key` in a mapping, looking through `<<` merge keys.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|(_, v)| v)
    }

    /// The key node and value of `key` in a mapping.
    pub fn entry(&self, key: &str) -> Option<(&Node, &Node)> {
        let Node::Map { entries, .. } = self else {
            return None;
        };
        if let Some((k, v)) = entries.iter().find(|(k, _)| k.as_str() == Some(key)) {
            return Some((k, v));
        }
        entries
            .iter()
            .filter(|(k, _)| k.as_str() == Some("<<"))
            .find_map(|(_, merged)| match merged {
                Node::Seq { items, .. } => items.iter().find_map(|m| m.entry(key)),
                other => other.entry(key),
            })
    }

    /// A plain `<<` key: a merge key (a quoted `"<<"` is an ordinary key).
    pub fn is_merge_key(&self) -> bool {
        matches!(self, Node::Scalar { text, quoted: false, .. } if text == "<<")
    }

    /// A mapping's entries with `<<` merge keys expanded as go-yaml does: the
    /// mapping's own keys win over merged ones, and of several merged mappings
    /// (`<<: [*a, *b]`) the earlier wins. Each merged entry comes with the span
    /// of the `<<` key that brings it into this mapping.
    pub fn merged_entries(&self) -> Vec<(&Node, &Node, Option<Span>)> {
        let own: Vec<(&Node, &Node, Option<Span>)> = self
            .entries()
            .iter()
            .filter(|(k, _)| !k.is_merge_key())
            .map(|(k, v)| (k, v, None))
            .collect();
        let mut out = own.clone();
        for (key, merged) in self.entries().iter().filter(|(k, _)| k.is_merge_key()) {
            let maps: Vec<&Node> = match merged {
                Node::Seq { items, .. } => items.iter().collect(),
                other => vec![other],
            };
            for map in maps {
                for (k, v, _) in map.merged_entries() {
                    if !out.iter().any(|(seen, _, _)| seen.as_str() == k.as_str()) {
                        out.push((k, v, Some(key.span())));
                    }
                }
            }
        }
        out
    }

    /// A mapping's own entries (merge keys not expanded).
    pub fn entries(&self) -> &[(Node, Node)] {
        match self {
            Node::Map { entries, .. } => entries,
            _ => &[],
        }
    }
}

/// Where and why the YAML does not parse.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyntaxError {
    pub span: Span,
    pub message: String,
}

/// The first document of `text`; `Ok(None)` for an empty stream.
pub fn parse(file: FileId, text: &str) -> Result<Option<Node>, SyntaxError> {
    let mut first = None;
    walk(file, text, |root| {
        first = Some(root);
        false
    })?;
    Ok(first)
}

/// The first document of `text` as PyYAML (Ansible's reader) reads it: as
/// [`parse`], and a quoted scalar's continuation lines may start at any column.
pub fn parse_pyyaml(file: FileId, text: &str) -> Result<Option<Node>, SyntaxError> {
    pyyaml::parse(file, text)
}

/// Every non-empty document of the stream, in order; an error anywhere fails
/// the whole stream (as `kubectl apply -f` refuses the file).
pub fn parse_stream(file: FileId, text: &str) -> Result<Vec<Node>, SyntaxError> {
    let mut all = Vec::new();
    walk(file, text, |root| {
        if !root.is_null() {
            all.push(root);
        }
        true
    })?;
    Ok(all)
}

/// Hands each complete document to `each`, which says whether to go on.
fn walk(file: FileId, text: &str, mut each: impl FnMut(Node) -> bool) -> Result<(), SyntaxError> {
    let offsets = CharOffsets::new(text);
    let mut builder = Builder::default();
    for item in Parser::new_from_str(text) {
        let (event, span) = item.map_err(|e| {
            let at = offsets.byte(e.marker().index());
            let end = text[at..].chars().next().map_or(at, |c| at + c.len_utf8());
            SyntaxError {
                span: Span::new(file, at, end),
                message: e.info().to_owned(),
            }
        })?;
        let start = offsets.byte(span.start.index());
        let end = offsets.byte(span.end.index()).max(start);
        let pushed = builder.push(event, Span::new(file, start, end), text);
        if pushed == Pushed::ExcessiveAliasing {
            return Err(SyntaxError {
                span: Span::new(file, start, end),
                message: format!(
                    "document contains excessive aliasing: {} of the {} nodes read so far come through aliases, over the {:.0}% go-yaml (which Compose and kubectl use) allows",
                    builder.count.through_aliases,
                    builder.count.decoded,
                    allowed_alias_ratio(builder.count.decoded) * 100.0
                ),
            });
        }
        if pushed == Pushed::Document {
            if let Some(root) = builder.root.take() {
                if !each(root) {
                    return Ok(());
                }
            }
            builder.anchors.clear();
        }
    }
    if let Some(root) = builder.root.take() {
        each(root);
    }
    Ok(())
}

/// Byte offset of each character index.
struct CharOffsets(Vec<usize>);

impl CharOffsets {
    fn new(text: &str) -> Self {
        let mut v: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
        v.push(text.len());
        CharOffsets(v)
    }

    fn byte(&self, index: usize) -> usize {
        self.0
            .get(index)
            .copied()
            .unwrap_or_else(|| *self.0.last().unwrap_or(&0))
    }
}

enum Open {
    Seq(Vec<Node>, Span, usize),
    Map(Vec<(Node, Node)>, Option<Node>, Span, usize),
}

/// go-yaml's excessive-aliasing rule (`decode.go` `unmarshal`, the same in
/// gopkg.in/yaml.v2 2.4, which kubectl's sigs.k8s.io/yaml forks, and yaml.v3,
/// which Compose uses): counting every node it decodes in one document, and
/// those it decodes through an alias, it refuses the document as soon as more
/// than 100 came through aliases, more than 1,000 in all, and the share that
/// came through aliases passes [`allowed_alias_ratio`].
#[derive(Default)]
struct AliasCount {
    decoded: usize,
    through_aliases: usize,
}

impl AliasCount {
    fn excessive(&self) -> bool {
        self.through_aliases > 100
            && self.decoded > 1000
            && self.through_aliases as f64 / self.decoded as f64 > allowed_alias_ratio(self.decoded)
    }
}

/// 99% up to 400,000 decoded nodes, 10% from 4,000,000, linear between.
fn allowed_alias_ratio(decoded: usize) -> f64 {
    const LOW: usize = 400_000;
    const HIGH: usize = 4_000_000;
    match decoded {
        ..=LOW => 0.99,
        HIGH.. => 0.10,
        _ => 0.99 - 0.89 * ((decoded - LOW) as f64 / (HIGH - LOW) as f64),
    }
}

#[derive(Default)]
struct Builder {
    /// Each open node, with the nodes go-yaml decodes for it so far.
    stack: Vec<(Open, usize)>,
    /// Each anchored node, with the nodes go-yaml decodes for an alias to it.
    anchors: HashMap<usize, (Node, usize)>,
    root: Option<Node>,
    count: AliasCount,
}

/// What [`Builder::push`] makes of an event.
#[derive(PartialEq)]
enum Pushed {
    More,
    /// A document is complete.
    Document,
    /// go-yaml refuses the document here.
    ExcessiveAliasing,
}

impl Builder {
    fn push(&mut self, event: Event, span: Span, text: &str) -> Pushed {
        match event {
            Event::DocumentStart(_) => self.count.decoded += 1,
            Event::Scalar(value, style, anchor, _) => {
                let quoted = style != ScalarStyle::Plain;
                let merge_key = !quoted && value == "<<" && self.expects_key();
                let span = inner_span(span, style, text);
                // go-yaml merges `<<: *base` without decoding the key.
                let decoded = usize::from(!merge_key);
                self.count.decoded += decoded;
                let node = Node::Scalar {
                    text: value.into_owned(),
                    span,
                    quoted,
                };
                self.value(node, anchor, decoded);
            }
            Event::Alias(id) => {
                let (node, through) = self.anchors.get(&id).map_or_else(
                    || {
                        let empty = Node::Scalar {
                            text: String::new(),
                            span,
                            quoted: false,
                        };
                        (empty, 0)
                    },
                    |(node, weight)| (node.clone(), *weight),
                );
                self.count.decoded += 1 + through;
                self.count.through_aliases += through;
                if self.count.excessive() {
                    return Pushed::ExcessiveAliasing;
                }
                self.value(node, 0, 1 + through);
            }
            Event::SequenceStart(anchor, _) => {
                self.count.decoded += 1;
                self.stack.push((Open::Seq(Vec::new(), span, anchor), 1));
            }
            Event::MappingStart(anchor, _) => {
                self.count.decoded += 1;
                self.stack
                    .push((Open::Map(Vec::new(), None, span, anchor), 1));
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let (node, anchor, decoded) = match self.stack.pop() {
                    Some((Open::Seq(items, start, a), decoded)) => (
                        Node::Seq {
                            items,
                            span: start.to(span),
                        },
                        a,
                        decoded,
                    ),
                    Some((Open::Map(entries, _, start, a), decoded)) => (
                        Node::Map {
                            entries,
                            span: start.to(span),
                        },
                        a,
                        decoded,
                    ),
                    None => return Pushed::More,
                };
                self.value(node, anchor, decoded);
            }
            Event::DocumentEnd => {
                self.count = AliasCount::default();
                if self.root.is_some() {
                    return Pushed::Document;
                }
            }
            _ => {}
        }
        if self.count.excessive() {
            return Pushed::ExcessiveAliasing;
        }
        Pushed::More
    }

    /// The next node completes no pair: it is a mapping's key.
    fn expects_key(&self) -> bool {
        matches!(self.stack.last(), Some((Open::Map(_, None, ..), _)))
    }

    /// A complete node for its parent; `decoded` is what go-yaml decodes for it.
    fn value(&mut self, node: Node, anchor: usize, decoded: usize) {
        if anchor != 0 {
            self.anchors.insert(anchor, (node.clone(), decoded));
        }
        match self.stack.last_mut() {
            Some((open, total)) => {
                *total += decoded;
                match open {
                    Open::Seq(items, ..) => items.push(node),
                    Open::Map(entries, pending, ..) => match pending.take() {
                        Some(key) => entries.push((key, node)),
                        None => *pending = Some(node),
                    },
                }
            }
            None => {
                if self.root.is_none() {
                    self.root = Some(node);
                }
            }
        }
    }
}

/// A quoted scalar's span without its quotes, so a finding underlines the value.
fn inner_span(span: Span, style: ScalarStyle, text: &str) -> Span {
    let quoted = matches!(style, ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted);
    let slice = text.get(span.range()).unwrap_or("");
    if quoted && slice.len() >= 2 && (slice.starts_with('"') || slice.starts_with('\'')) {
        Span::new(span.file, span.start as usize + 1, span.end as usize - 1)
    } else {
        span
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root(text: &str) -> Node {
        parse(FileId(0), text).unwrap().unwrap()
    }

    #[test]
    fn scalar_spans_are_byte_exact() {
        let text =
            "services:\n  ftp:\n    ports:\n      - \"21:21\"\n      - 21100-21110:21100-21110\n";
        let doc = root(text);
        let ports = doc
            .get("services")
            .unwrap()
            .get("ftp")
            .unwrap()
            .get("ports")
            .unwrap();
        let Node::Seq { items, .. } = ports else {
            panic!()
        };
        assert_eq!(&text[items[0].span().range()], "21:21");
        assert_eq!(&text[items[1].span().range()], "21100-21110:21100-21110");
    }

    #[test]
    fn merge_keys_and_aliases_resolve() {
        let text = "x: &base\n  image: fauria/vsftpd\ny:\n  <<: *base\n  z: 1\n";
        let doc = root(text);
        assert_eq!(
            doc.get("y").unwrap().get("image").unwrap().as_str(),
            Some("fauria/vsftpd")
        );
    }

    #[test]
    fn merged_entries_lose_to_own_keys_and_name_the_merge_key() {
        let text = "x: &e\n  A: 1\n  B: 2\ny:\n  <<: *e\n  B: 3\n";
        let doc = root(text);
        let y = doc.get("y").unwrap();
        let got: Vec<(&str, &str, Option<&str>)> = y
            .merged_entries()
            .into_iter()
            .map(|(k, v, at)| {
                let at = at.map(|s| &text[s.range()]);
                (k.as_str().unwrap(), v.as_str().unwrap(), at)
            })
            .collect();
        assert_eq!(got, [("B", "3", None), ("A", "1", Some("<<"))]);
    }

    #[test]
    fn a_syntax_error_has_a_position() {
        let text = "services:\n  ftp:\n    image: [a\n";
        let e = parse(FileId(0), text).unwrap_err();
        assert!(e.span.start as usize <= text.len());
        assert!(!e.message.is_empty());
    }

    #[test]
    fn a_stream_yields_each_document_with_its_spans() {
        let text = "a: 1\n---\n---\nb: &x 2\nc: *x\n...\n---\nd: \"v\"\n";
        let docs = parse_stream(FileId(0), text).unwrap();
        assert_eq!(docs.len(), 3);
        assert_eq!(docs[1].get("c").unwrap().as_str(), Some("2"));
        assert_eq!(&text[docs[2].get("d").unwrap().span().range()], "v");
        assert_eq!(
            parse(FileId(0), text)
                .unwrap()
                .unwrap()
                .get("a")
                .unwrap()
                .as_str(),
            Some("1")
        );
        assert!(parse_stream(FileId(0), "a: 1\n---\nb: [\n").is_err());
    }

    #[test]
    fn nested_aliases_stop_where_go_yaml_stops() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..9 {
            let p = i - 1;
            text.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        let e = parse(FileId(0), &text).unwrap_err();
        assert!(e.message.contains("excessive aliasing"), "{}", e.message);
        // go-yaml refuses at its first node over the ratio, long before the
        // expansion gets large: on the fourth line (a3).
        assert_eq!(text[..e.span.start as usize].lines().count(), 4, "{e:?}");
    }

    #[test]
    fn aliasing_under_go_yamls_limit_is_read() {
        // 1,000 nodes or fewer are never refused, whatever comes through aliases.
        let text = format!(
            "a: &a [{}]\nb: [{}]\n",
            ["x"; 90].join(", "),
            ["*a"; 9].join(", ")
        );
        let doc = root(&text);
        assert!(matches!(doc.get("b"), Some(Node::Seq { items, .. }) if items.len() == 9));
        assert_eq!(allowed_alias_ratio(400_000), 0.99);
        assert_eq!(allowed_alias_ratio(4_000_000), 0.10);
        assert!((allowed_alias_ratio(2_200_000) - 0.545).abs() < 1e-9);
    }

    #[test]
    fn multibyte_text_before_a_value_keeps_spans_on_bytes() {
        let text = "# é ü\na: \"wert\"\n";
        let doc = root(text);
        assert_eq!(&text[doc.get("a").unwrap().span().range()], "wert");
    }
}
