//! `iis-passive-range-invalid`: see rules/iis-passive-range-invalid.toml.
//!
//! [`invalid_range`] builds the finding from a [`RangeVerdict`], so any other
//! Windows source (registry, adsutil, appcmd, PowerShell) reports it the same way.

use super::Rule;
use crate::diag::{Diagnostic, Fix};
use crate::formats::ParsedFile;
use crate::formats::iis::{self, IisVersion, RangeVerdict};
use crate::formats::iis_apphost::{self, apphost_of};
use crate::formats::iis_metabase::{PASSIVE_PORT_RANGE, metabase_of};
use crate::source::Span;

pub struct IisPassiveRangeInvalid;

pub const NAME: &str = "iis-passive-range-invalid";

impl Rule for IisPassiveRangeInvalid {
    fn name(&self) -> &'static str {
        NAME
    }

    fn check_file(&self, file: &ParsedFile, out: &mut Vec<Diagnostic>) {
        if let Some(doc) = metabase_of(file).filter(|d| d.xml.is_well_formed()) {
            let Some(setting) = doc
                .ftp_service()
                .and_then(|s| s.property(PASSIVE_PORT_RANGE))
            else {
                return;
            };
            let verdict = iis::iis6_passive_range(Some(&setting.value));
            let spans = [setting.value_span];
            out.extend(
                invalid_range(IisVersion::Iis6, &verdict, &spans)
                    .map(|d| d.with_fixes(one_value_fix(&file.source, setting.value_span))),
            );
        }
        if let Some(doc) = apphost_of(file).filter(|d| d.xml.is_well_formed()) {
            let verdict = iis_apphost::passive_verdict(doc);
            out.extend(
                invalid_range(IisVersion::Iis7, &verdict, &culprit_first(doc))
                    .map(|d| d.with_fixes(swapped_attributes(doc)))
                    .map(|d| with_misspellings(d, doc, &file.source)),
            );
        }
        for (version, verdict, spans) in crate::formats::windows_passive_range_verdicts(file) {
            let fix = match (version, spans.as_slice()) {
                (IisVersion::Iis6, [only]) => one_value_fix(&file.source, *only),
                _ => None,
            };
            out.extend(invalid_range(version, &verdict, &spans).map(|d| d.with_fixes(fix)));
        }
    }
}

/// An IIS 6 `PassivePortRange` (MetaBase.xml, `.reg`, adsutil.vbs) that is one
/// clear edit from a range IIS validates: `5001:5201` written `5001-5201` (safe:
/// the range the value names, now read), or `5201-5001` swapped (unsafe: the
/// service then starts and hands out that range). Both ends within 5001-65535.
fn one_value_fix(source: &crate::source::SourceFile, span: Span) -> Option<Fix> {
    let mut at = span.range();
    let written = source.text.get(at.clone())?;
    let inner = match written.strip_prefix('"').and_then(|w| w.strip_suffix('"')) {
        Some(inner) => {
            at = at.start + 1..at.end - 1;
            inner
        }
        None => written,
    };
    let cut = inner.find(['-', ':'])?;
    let (first, second) = (&inner[..cut], &inner[cut + 1..]);
    let digits = |w: &str| !w.is_empty() && w.len() <= 5 && w.bytes().all(|b| b.is_ascii_digit());
    if !digits(first) || !digits(second) {
        return None;
    }
    let (a, b) = (first.parse::<u32>().ok()?, second.parse::<u32>().ok()?);
    let (min, max) = IisVersion::Iis6.valid_band();
    if a.min(b) < u32::from(min) || a.max(b) > u32::from(max) {
        return None;
    }
    let value = Span::new(span.file, at.start, at.end);
    match &inner[cut..=cut] {
        ":" if a <= b => Some(Fix {
            title: format!("write the range as {a}-{b}"),
            edits: vec![(Span::new(span.file, at.start + cut, at.start + cut + 1), "-".to_owned())],
            safe: true,
        }),
        "-" if a > b => Some(Fix {
            title: format!("swap the ends: {b}-{a}"),
            edits: vec![(value, format!("{b}-{a}"))],
            safe: false,
        }),
        _ => None,
    }
}

/// `lowDataChannelPort` above `highDataChannelPort`, both plain numbers within
/// the band IIS 7+ validates: the two values swapped (unsafe, as above).
fn swapped_attributes(doc: &iis_apphost::AppHost) -> Option<Fix> {
    let channel = doc.data_channel.as_ref()?;
    // Values read from a configSource file are not written here.
    if channel.config_source.is_some() {
        return None;
    }
    let (low, high) = (channel.low.as_ref()?, channel.high.as_ref()?);
    let digits = |w: &str| !w.is_empty() && w.len() <= 5 && w.bytes().all(|b| b.is_ascii_digit());
    if !digits(&low.value) || !digits(&high.value) {
        return None;
    }
    let (l, h) = (low.value.parse::<u32>().ok()?, high.value.parse::<u32>().ok()?);
    let (min, max) = IisVersion::Iis7.valid_band();
    if l <= h || h < u32::from(min) || l > u32::from(max) {
        return None;
    }
    Some(Fix {
        title: format!("swap the ends: lowDataChannelPort={h} and highDataChannelPort={l}"),
        edits: vec![(low.value_span, h.to_string()), (high.value_span, l.to_string())],
        safe: false,
    })
}

/// A missing end that an attribute of the element misspells: named at that
/// attribute, with the help and an unsafe fix that respell it (IIS then reads
/// the value it holds).
fn with_misspellings(
    mut d: Diagnostic,
    doc: &iis_apphost::AppHost,
    source: &crate::source::SourceFile,
) -> Diagnostic {
    let Some(channel) = &doc.data_channel else {
        return d;
    };
    for (attr, meant) in &channel.misspelled {
        d = d
            .with_related(attr.name_span, format!("`{}` is not {meant}", attr.name))
            .with_help(format!("rename {} to {meant}", attr.name));
        if source.slice(attr.name_span) == attr.name {
            d = d.with_unsafe_fix(
                format!("rename {} to {meant}", attr.name),
                vec![(attr.name_span, (*meant).to_owned())],
            );
        }
    }
    d
}

/// The low and high spans, the one that is not a number first.
fn culprit_first(doc: &iis_apphost::AppHost) -> Vec<Span> {
    let Some(channel) = &doc.data_channel else {
        return Vec::new();
    };
    let mut attrs: Vec<&crate::formats::xml::Attr> =
        channel.low.iter().chain(channel.high.iter()).collect();
    attrs.sort_by_key(|a| a.value.trim().parse::<u16>().is_ok());
    attrs.iter().map(|a| a.value_span).collect()
}

/// The finding for a range IIS rejects, on the spans that set it (the first is
/// primary); `None` when the verdict is a usable range or there is no span.
pub fn invalid_range(version: IisVersion, verdict: &RangeVerdict, spans: &[Span]) -> Option<Diagnostic> {
    let RangeVerdict::Invalid(reason) = verdict else {
        return None;
    };
    let (first, rest) = spans.split_first()?;
    let (min, max) = version.valid_band();
    let (label, help) = match version {
        IisVersion::Iis6 => (
            format!("IIS validates {min}-{max}"),
            format!(
                "write one range within {min}-{max}, e.g. PassivePortRange=\"5001-5201\", on the /LM/MSFTPSVC key and restart the FTP Publishing Service"
            ),
        ),
        IisVersion::Iis7 => (
            format!("IIS validates {min}-{max} or 0-0"),
            format!(
                "set lowDataChannelPort and highDataChannelPort within {min}-{max} with low <= high (e.g. 5000 and 5100), or both to 0, then restart the Microsoft FTP Service (net stop ftpsvc && net start ftpsvc)"
            ),
        ),
    };
    let message = match version {
        // Operations Guide: "If the value is invalid, the service will invalidate it and will not restart."
        IisVersion::Iis6 => format!("the FTP service will not start: {reason}"),
        IisVersion::Iis7 => reason.clone(),
    };
    let mut d = Diagnostic::new(NAME, message, *first, label);
    for span in rest {
        d = d.with_related(*span, "");
    }
    Some(d.with_help(help))
}
