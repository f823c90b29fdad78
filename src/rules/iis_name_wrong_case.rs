//! `iis-name-wrong-case`: see rules/iis-name-wrong-case.toml.

use super::Rule;
use crate::diag::Diagnostic;
use crate::formats::ParsedFile;
use crate::formats::iis_apphost::{self, apphost_of};
use crate::formats::iis_metabase::{self, metabase_of};
use crate::formats::xml::XmlTree;
use crate::source::Span;

pub struct IisNameWrongCase;

/// What a file's names are checked against.
struct Vocabulary {
    file: &'static str,
    elements: &'static [&'static str],
    attributes: &'static [&'static str],
    /// Elements whose attributes are checked (an unknown element's are its own business).
    attribute_owners: &'static [&'static str],
}

const METABASE: Vocabulary = Vocabulary {
    file: "MetaBase.xml",
    elements: iis_metabase::KNOWN_ELEMENTS,
    attributes: iis_metabase::KNOWN_PROPERTIES,
    attribute_owners: &[
        "IIsFtpService",
        "IIsFtpServer",
        "IIsFtpVirtualDir",
        "IIsFtpInfo",
    ],
};

const APPHOST: Vocabulary = Vocabulary {
    file: "applicationHost.config",
    elements: iis_apphost::KNOWN_ELEMENTS,
    attributes: iis_apphost::KNOWN_ATTRIBUTES,
    attribute_owners: &[
        "location",
        "site",
        "binding",
        "connections",
        "ssl",
        "firewallSupport",
        "anonymousAuthentication",
        "basicAuthentication",
    ],
};

impl Rule for IisNameWrongCase {
    fn name(&self) -> &'static str {
        "iis-name-wrong-case"
    }

    fn check_file(&self, file: &ParsedFile, out: &mut Vec<Diagnostic>) {
        if let Some(doc) = metabase_of(file) {
            self.check(&doc.xml, &METABASE, out);
        }
        if let Some(doc) = apphost_of(file) {
            self.check(&doc.xml, &APPHOST, out);
        }
    }
}

impl IisNameWrongCase {
    fn check(&self, xml: &XmlTree, words: &Vocabulary, out: &mut Vec<Diagnostic>) {
        for element in &xml.elements {
            if let Some(right) = miscased(&element.name, words.elements) {
                let spans = std::iter::once(element.name_span).chain(element.end_name);
                let d = self.finding("element", &element.name, right, element.name_span, words);
                out.push(respelled(d, right, spans));
            }
            if !words.attribute_owners.contains(&element.name.as_str()) {
                continue;
            }
            for attr in &element.attrs {
                if let Some(right) = miscased(&attr.name, words.attributes) {
                    let d = self.finding("attribute", &attr.name, right, attr.name_span, words);
                    // Respelling it would repeat an attribute the tag already has.
                    let spans = element.attr(right).is_none().then_some(attr.name_span);
                    out.push(respelled(d, right, spans));
                }
            }
        }
    }

    fn finding(
        &self,
        what: &str,
        written: &str,
        right: &str,
        span: Span,
        words: &Vocabulary,
    ) -> Diagnostic {
        Diagnostic::new(
            self.name(),
            format!(
                "{what} `{written}` is not `{right}`: {} names are case sensitive, so IIS does not read it as {right}",
                words.file
            ),
            span,
            format!("IIS expects `{right}`"),
        )
        .with_help(format!("write `{right}`"))
    }
}

/// The name written as IIS spells it, in the start tag and the end tag alike.
fn respelled(d: Diagnostic, right: &str, spans: impl IntoIterator<Item = Span>) -> Diagnostic {
    let edits: Vec<_> = spans.into_iter().map(|s| (s, right.to_owned())).collect();
    if edits.is_empty() {
        return d;
    }
    d.with_fix(format!("write `{right}`"), edits)
}

/// The known name `name` matches in all but case.
fn miscased(name: &str, known: &'static [&'static str]) -> Option<&'static str> {
    if known.contains(&name) {
        return None;
    }
    known.iter().copied().find(|k| k.eq_ignore_ascii_case(name))
}
