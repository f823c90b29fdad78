//! IIS 7+: `lowDataChannelPort`/`highDataChannelPort` IIS does not read (a site's
//! `<ftpServer><firewallSupport>`, `<siteDefaults>`, a `<location path="...">`)
//! moved to the server-level `<system.ftpServer><firewallSupport>`: added to that
//! element, or a new one as the first child of `<system.ftpServer>` (unsafe: IIS
//! then hands out that range). Where the server level already sets the attribute,
//! only the dead copy is deleted (safe: IIS reads none of it).

use super::xml_edit::{
    attribute_slot, attribute_text, attribute_with_blanks, indentation_at, line_ending,
};
use crate::diag::Fix;
use crate::formats::iis_apphost::{AppHost, HIGH_PORT, LOW_PORT, Misplaced};
use crate::formats::xml::{Attr, Element};
use crate::source::{SourceFile, Span};
use std::ops::Range;

pub fn fix(doc: &AppHost, source: &SourceFile, m: &Misplaced) -> Option<Fix> {
    if !doc.xml.is_well_formed() {
        return None;
    }
    let text = source.text.as_str();
    // An attribute read from a configSource file is not written here.
    if text.get(m.attr.name_span.range()) != Some(m.attr.name.as_str()) {
        return None;
    }
    let span = |r: Range<usize>| source.span(r.start, r.end);
    let removal = span(attribute_with_blanks(text, &m.attr)?);
    let Some(channel) = &doc.data_channel else {
        return new_element(doc, source, m);
    };
    let present = match m.attr.name.as_str() {
        LOW_PORT => channel.low.is_some(),
        HIGH_PORT => channel.high.is_some(),
        _ => return None,
    };
    if present {
        return Some(Fix {
            title: "delete the copy IIS never reads".to_owned(),
            edits: vec![(removal, String::new())],
            safe: true,
        });
    }
    let server = doc.xml.elements.iter().find(|e| e.tag == channel.tag)?;
    let (at, sep) = attribute_slot(text, server, line_ending(text))?;
    // Both ends move together when the server level has neither: one alone
    // would read as a range that ends below its start.
    let moved: Vec<&Attr> = data_channel_attrs(doc, m)?
        .into_iter()
        .filter(|a| server.attr(&a.name).is_none())
        .collect();
    if !ends_in_order(server, &moved) {
        return None;
    }
    let (written, mut edits) = taken_out(source, moved.into_iter())?;
    let insert: String = written.iter().map(|w| format!("{sep}{w}")).collect();
    edits.push((span(at..at), insert));
    Some(Fix {
        title: format!("move {} to the server-level <firewallSupport>", written.join(" ")),
        edits,
        safe: false,
    })
}

/// Whether the server level, with `moved` added, keeps low at or below high
/// (IIS refuses the section otherwise).
fn ends_in_order(server: &Element, moved: &[&Attr]) -> bool {
    let end = |name: &str| {
        let attr = moved.iter().copied().find(|a| a.name == name).or(server.attr(name));
        attr.and_then(|a| a.value.trim().parse::<u32>().ok())
    };
    match (end(LOW_PORT), end(HIGH_PORT)) {
        (Some(low), Some(high)) => low <= high,
        _ => true,
    }
}

/// The low and high attributes of the element `m` is written on.
fn data_channel_attrs<'d>(doc: &'d AppHost, m: &Misplaced) -> Option<Vec<&'d Attr>> {
    let owner = doc
        .xml
        .elements
        .iter()
        .find(|e| e.attrs.iter().any(|a| a.name_span == m.attr.name_span))?;
    Some(
        owner
            .attrs
            .iter()
            .filter(|a| a.name == LOW_PORT || a.name == HIGH_PORT)
            .collect(),
    )
}

type Edits = Vec<(Span, String)>;

/// Each attribute as written, and the edits that take it out with its blanks.
fn taken_out<'a>(
    source: &SourceFile,
    attrs: impl Iterator<Item = &'a Attr>,
) -> Option<(Vec<String>, Edits)> {
    let text = source.text.as_str();
    let mut written = Vec::new();
    let mut edits = Vec::new();
    for a in attrs {
        written.push(attribute_text(text, a)?);
        let r = attribute_with_blanks(text, a)?;
        edits.push((source.span(r.start, r.end), String::new()));
    }
    (!written.is_empty()).then_some((written, edits))
}

/// No server-level `<firewallSupport>`: one with the misplaced element's data
/// channel attributes, as the first child of the server-level `<system.ftpServer>`.
fn new_element(doc: &AppHost, source: &SourceFile, m: &Misplaced) -> Option<Fix> {
    let text = source.text.as_str();
    let (ftp_index, ftp) = doc.xml.children_named(0, "system.ftpServer").next()?;
    if text.get(ftp.tag.range())?.ends_with("/>") {
        return None;
    }
    let (written, mut edits) = taken_out(source, data_channel_attrs(doc, m)?.into_iter())?;
    let element = format!("<firewallSupport {} />", written.join(" "));
    let at = ftp.tag.end as usize;
    let lead = first_child_lead(doc, text, ftp_index, ftp).unwrap_or_else(|| {
        let own = indentation_at(text, ftp.tag.start as usize);
        format!("{}{own}{}", line_ending(text), step(doc, text, ftp, own))
    });
    edits.push((source.span(at, at), format!("{lead}{element}")));
    Some(Fix {
        title: format!("move {} to a server-level {element}", written.join(" ")),
        edits,
        safe: false,
    })
}

/// The blanks between `<system.ftpServer>` and its first child, when only blanks.
fn first_child_lead(doc: &AppHost, text: &str, index: usize, ftp: &Element) -> Option<String> {
    let (_, first) = doc.xml.children(index).next()?;
    let lead = text.get(ftp.tag.end as usize..first.tag.start as usize)?;
    (lead.trim().is_empty() && lead.contains('\n')).then(|| lead.to_owned())
}

/// One indentation step: how much deeper `<system.ftpServer>` sits than its parent.
fn step<'t>(doc: &AppHost, text: &'t str, ftp: &Element, own: &'t str) -> &'t str {
    let parent = ftp.parent.and_then(|p| doc.xml.elements.get(p));
    let outer = parent.map_or("", |p| indentation_at(text, p.tag.start as usize));
    match own.strip_prefix(outer) {
        Some(step) if !step.is_empty() => step,
        _ => "  ",
    }
}
