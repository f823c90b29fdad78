//! IIS 6: a `PassivePortRange` IIS does not read (on a site key, as a
//! `<Custom>` child, or as a line of text below a start tag's `>`) moved into
//! the `<IIsFtpService Location="/LM/MSFTPSVC">` start tag, its value as
//! written (unsafe: IIS then hands out that range), or, where the service key
//! already sets one, only the dead copy deleted (safe: IIS reads none of it).

use super::xml_edit::{attribute_slot, attribute_with_blanks, line_ending};
use crate::diag::Fix;
use crate::formats::iis_metabase::{Key, Metabase, PASSIVE_PORT_RANGE, Property};
use crate::source::{SourceFile, Span};
use std::ops::Range;

/// The fix for `prop` of `key`; `stray` when it is text below the start tag.
pub fn fix(doc: &Metabase, source: &SourceFile, key: &Key, prop: &Property, stray: bool) -> Option<Fix> {
    if !doc.xml.is_well_formed() {
        return None;
    }
    let text = source.text.as_str();
    let service = doc.ftp_service()?;
    let removal = if stray {
        stray_line(text, prop)?
    } else if prop.custom {
        custom_element(doc, text, key, prop)?
    } else {
        let element = doc.xml.elements.get(key.element)?;
        let attr = element.attrs.iter().find(|a| a.name_span == prop.name_span)?;
        attribute_with_blanks(text, attr)?
    };
    let span = |r: Range<usize>| source.span(r.start, r.end);
    if service.property(PASSIVE_PORT_RANGE).is_some() {
        return Some(Fix {
            title: "delete the copy IIS never reads".to_owned(),
            edits: vec![(span(removal), String::new())],
            safe: true,
        });
    }
    let element = doc.xml.elements.get(service.element)?;
    if element.attrs.iter().any(|a| a.name.eq_ignore_ascii_case(PASSIVE_PORT_RANGE)) {
        return None;
    }
    let value = text.get(prop.value_span.range())?;
    let (at, sep) = attribute_slot(text, element, line_ending(text))?;
    Some(Fix {
        title: format!("move PassivePortRange=\"{value}\" to <IIsFtpService Location=\"/LM/MSFTPSVC\">"),
        edits: vec![
            (span(removal), String::new()),
            (span(at..at), format!("{sep}{PASSIVE_PORT_RANGE}=\"{value}\"")),
        ],
        safe: false,
    })
}

/// The line `PassivePortRange="..."` stands on alone.
fn stray_line(text: &str, prop: &Property) -> Option<Range<usize>> {
    let close = prop.value_span.end as usize;
    (text.get(close..close + 1)? == "\"").then_some(())?;
    crate::source::own_lines(text, prop.name_span.start as usize..close + 1, None)
}

/// The lines of a `<Custom Name="PassivePortRange" ... Value="..."/>` child.
fn custom_element(doc: &Metabase, text: &str, key: &Key, prop: &Property) -> Option<Range<usize>> {
    let inside = |tag: Span| tag.start <= prop.value_span.start && prop.value_span.end <= tag.end;
    let (_, custom) = doc
        .xml
        .children_named(key.element, "Custom")
        .find(|(_, c)| inside(c.tag) && c.tag != prop.value_span)?;
    let tag = text.get(custom.tag.range())?;
    (tag.ends_with("/>") && custom.attr("Value").is_some()).then_some(())?;
    crate::source::own_lines(text, custom.tag.range(), None)
}
