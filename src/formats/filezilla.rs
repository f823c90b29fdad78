//! FileZilla Server (Windows): 0.9.x `FileZilla Server.xml` and 1.x `settings.xml`.
//!
//! No FileZilla Server runs here; what follows is its source:
//! - 0.9.x (0.9.54 to 0.9.60): `source/Options.cpp` `COptions::Init` reads
//!   `<FileZillaServer><Settings><Item name="…" type="numeric|string">value</Item>`,
//!   names compared exactly, the first item of a name wins, a numeric value must be
//!   digits only (else the item is skipped); `source/pasv_port_randomizer.cpp` uses
//!   `Custom PASV min port`..`Custom PASV max port` only with `Use custom PASV ports`
//!   set, swaps a reversed pair, raises 0 to 1 and lowers values above 65535 to
//!   65535; without it, 49152-65534.
//! - 1.x: `<filezilla><ftp_server><listener>` (address, port, tls_mode) and
//!   `<session><pasv><port_range><min>/<max>` (`src/filezilla/ftp/session.hpp`: a
//!   missing bound is 49152 or 65534; `serialization/types/ftp_server_options.hpp`:
//!   a reversed pair is swapped); no `port_range`: `listen(0)`, a port the OS picks.

use super::xml::{self, Element, XmlTree};
use crate::facts::{
    Active, ControlTls, Families, FtpServer, Located, Passive, RangeSetting, UserClass, UserKind,
};
use crate::portset::PortSet;
use crate::source::{SourceFile, Span};
use std::path::Path;

/// 0.9.x without custom ports, and 1.x's default bounds.
pub const DEFAULT_RANGE: (u16, u16) = (49152, 65534);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Version {
    /// 0.9.x `FileZilla Server.xml`.
    Legacy,
    /// 1.x `settings.xml`.
    Modern,
}

/// A passive-range value FileZilla changes or ignores.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    pub span: Span,
    pub message: String,
    pub help: String,
    pub related: Option<(Span, &'static str)>,
    /// The min and max values FileZilla Server swaps itself, for a fix that
    /// writes them as it reads them.
    pub swapped: Option<[Span; 2]>,
}

#[derive(Debug)]
pub struct Settings {
    pub version: Version,
    pub tree: XmlTree,
    pub server: Option<FtpServer>,
    pub findings: Vec<Finding>,
    /// The server cannot read the file: it holds no element (binary, empty) or
    /// its elements break (truncated, an end tag that does not match).
    pub unreadable: bool,
}

pub fn sniff(path: &Path, text: &str) -> bool {
    let name = path.file_name().and_then(|n| n.to_str());
    // 0.9's file name is its own, and the server reads the file whatever its
    // bytes: a binary or truncated one is still its configuration (and broken).
    if name.is_some_and(is_legacy_name) {
        return true;
    }
    let settings = name.is_some_and(|n| n.eq_ignore_ascii_case("settings.xml"));
    // 1.x keeps `settings.xml` in a folder of its own (`filezilla-server`).
    if settings && in_filezilla_folder(path) {
        return true;
    }
    if !super::looks_like_xml(text) {
        return false;
    }
    let head = super::head(text);
    let legacy = head.contains("<FileZillaServer");
    let modern = head.contains("<filezilla") && head.contains("<ftp_server");
    legacy || (modern && settings)
}

fn is_legacy_name(name: &str) -> bool {
    name.eq_ignore_ascii_case("FileZilla Server.xml")
}

/// The folder holding the file is FileZilla Server's (`C:\ProgramData\filezilla-server`,
/// `/opt/filezilla-server/etc`, a repository's `filezilla/`).
fn in_filezilla_folder(path: &Path) -> bool {
    path.parent()
        .and_then(|p| p.file_name())
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.to_ascii_lowercase().contains("filezilla"))
}

pub fn parse(source: &SourceFile) -> Settings {
    let mut tree = xml::read(source);
    if !super::looks_like_xml(&source.text) {
        // What TinyXML stops at first (and only) when the bytes are no XML at all.
        let start = source.text.len() - source.text.trim_start().len();
        let end = source.text[start..]
            .chars()
            .next()
            .map_or(start, |c| start + c.len_utf8());
        tree.errors = vec![xml::XmlError {
            span: source.span(start, end),
            message: if start == source.text.len() {
                "the file is empty: it holds no XML element".to_owned()
            } else {
                "the file does not start with `<`: it is not XML (binary bytes, or another format)"
                    .to_owned()
            },
            related: None,
        }];
    }
    let legacy_name = source
        .path
        .file_name()
        .and_then(|n| n.to_str())
        .is_some_and(is_legacy_name);
    let version = match tree.root().map(|r| r.name.as_str()) {
        Some("filezilla") => Version::Modern,
        None if !legacy_name => Version::Modern,
        _ => Version::Legacy,
    };
    // TinyXML (0.9) finds no element unless the text starts with `<` after
    // blanks: binary bytes are "Error document empty" there.
    let unreadable =
        tree.structure_broken || tree.root().is_none() || !super::looks_like_xml(&source.text);
    if unreadable {
        // 0.9 (Options.cpp, `COptions::Init`): when TinyXML's `LoadFile` fails,
        // `Init` returns before it reads one `<Item>`, so every option keeps its
        // default: port 21, no custom passive range. 1.x's behaviour with such a
        // file is not known here: no server is assumed.
        let server = match version {
            Version::Legacy => Some(legacy::defaults(source)),
            Version::Modern => None,
        };
        return Settings {
            version,
            tree,
            server,
            findings: Vec::new(),
            unreadable,
        };
    }
    let mut findings = Vec::new();
    let server = match version {
        Version::Legacy => legacy::server(&tree, source, &mut findings),
        Version::Modern => modern::server(&tree, source, &mut findings),
    };
    Settings {
        version,
        tree,
        server,
        findings,
        unreadable,
    }
}

pub fn facts(settings: &Settings) -> Vec<FtpServer> {
    settings.server.clone().into_iter().collect()
}

fn text_of<'a>(source: &'a SourceFile, element: &Element) -> Option<(&'a str, Span)> {
    let span = element.text.first()?;
    Some((source.slice(*span), *span))
}

#[allow(clippy::too_many_arguments)]
fn server(
    product: &'static str,
    source: &SourceFile,
    anchor: Span,
    control_port: Located<Option<u16>>,
    passive: Passive,
    max_sessions: Located<Option<Option<u32>>>,
    tls: Located<ControlTls>,
    families: Located<Option<Families>>,
    passive_address: Located<Option<String>>,
) -> FtpServer {
    let user_classes = vec![UserClass {
        kind: UserKind::All,
        tls: tls.value,
        spans: tls.span.into_iter().collect(),
    }];
    let range_setting = range_setting(&passive, source);
    FtpServer {
        file: source.id,
        server: product,
        control_port,
        passive,
        max_sessions,
        tls,
        families,
        user_classes,
        active: Active::Unknown,
        passive_address,
        listen_address: crate::facts::Located::default_value(None),
        falls_back_outside_range: false,
        range_setting,
        anchor,
        container: None,
    }
}

/// The min and max items (the first two spans of a chosen range), when each
/// holds exactly its number.
fn range_setting(passive: &Passive, source: &SourceFile) -> Option<RangeSetting> {
    let (lo, hi) = passive.deliberate_range()?;
    let Passive::Enabled { spans, .. } = passive else {
        return None;
    };
    let [min, max, ..] = spans.as_slice() else {
        return None;
    };
    let holds = |span: &Span, n: u16| source.text.get(span.range()) == Some(n.to_string().as_str());
    (holds(min, lo) && holds(max, hi)).then(|| RangeSetting::ends(*min, *max))
}

fn enabled(lo: u16, hi: u16, deliberate: bool, spans: Vec<Span>) -> Passive {
    Passive::Enabled {
        ports: PortSet::range(lo, hi),
        deliberate,
        spans,
    }
}

mod legacy {
    use super::*;

    /// One `<Item>`: its name, whether `type="numeric"`, and its text.
    struct Item<'a> {
        name: &'a str,
        numeric: bool,
        value: Option<(&'a str, Span)>,
        tag: Span,
    }

    fn items<'a>(tree: &'a XmlTree, source: &'a SourceFile) -> Vec<Item<'a>> {
        let Some((settings, _)) = tree.root().and_then(|_| tree.descend(0, &["Settings"])) else {
            return Vec::new();
        };
        tree.children_named(settings, "Item")
            .filter_map(|(_, e)| {
                let name = e.attr("name")?;
                let kind = e.attr("type")?;
                Some(Item {
                    name: name.value.as_str(),
                    numeric: kind.value == "numeric",
                    value: text_of(source, e),
                    tag: e.tag,
                })
            })
            .collect()
    }

    /// The value FileZilla takes for a numeric option: the first item of the
    /// name, when it is `type="numeric"` with digits only.
    fn number(items: &[Item], name: &str) -> Option<(u64, Span)> {
        let item = items
            .iter()
            .find(|i| i.name == name && i.numeric && i.value.is_some())?;
        let (text, span) = item.value?;
        let digits = !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
        digits.then(|| (text.parse().unwrap_or(u64::MAX), span))
    }

    fn string<'a>(items: &'a [Item], name: &str) -> Option<(&'a str, Span)> {
        items.iter().find(|i| i.name == name && !i.numeric)?.value
    }

    pub fn server(
        tree: &XmlTree,
        source: &SourceFile,
        findings: &mut Vec<Finding>,
    ) -> Option<FtpServer> {
        tree.root().filter(|r| r.name == "FileZillaServer")?;
        Some(from_items(&items(tree, source), source, findings))
    }

    /// The server FileZilla Server 0.9 runs when it reads no item at all.
    pub fn defaults(source: &SourceFile) -> FtpServer {
        from_items(&[], source, &mut Vec::new())
    }

    fn from_items(items: &[Item], source: &SourceFile, findings: &mut Vec<Finding>) -> FtpServer {
        ignored_numbers(items, findings);
        let anchor = items.first().map_or(source.span(0, 0), |i| i.tag);
        let passive = passive(items, findings);
        let control_port = match string(items, "Serverports") {
            Some((text, span)) => Located::new(first_port(text), Some(span)),
            None => Located::default_value(Some(21)),
        };
        let max_sessions = match number(items, "Maximum user count") {
            Some((0, span)) => Located::new(Some(None), Some(span)),
            Some((n, span)) => Located::new(Some(u32::try_from(n).ok()), Some(span)),
            None => Located::default_value(Some(None)),
        };
        let families = match number(items, "Disable IPv6") {
            Some((n, span)) if n != 0 => Located::new(Some(Families::Ipv4), Some(span)),
            _ => Located::default_value(Some(Families::Both)),
        };
        super::server(
            "filezilla-0.9",
            source,
            anchor,
            control_port,
            passive,
            max_sessions,
            tls(items),
            families,
            passive_address(items),
        )
    }

    /// `Custom PASV IP type` 1 announces `Custom PASV IP` (an address, or a name
    /// FileZilla resolves) to routable clients; 0 (and any value outside 0-2, which
    /// it resets to 0) the address the client reached; 2 an address fetched from
    /// `Custom PASV IP server` at run time, which a file cannot tell.
    fn passive_address(items: &[Item]) -> Located<Option<String>> {
        let custom = matches!(number(items, "Custom PASV IP type"), Some((1, _)));
        match string(items, "Custom PASV IP").map(|(t, s)| (t.trim(), s)) {
            Some((address, span)) if custom && !address.is_empty() => {
                Located::new(Some(address.to_owned()), Some(span))
            }
            _ => Located::default_value(None),
        }
    }

    /// `Serverports`: ports separated by blanks or commas; those from 1 to 65535 count.
    fn first_port(text: &str) -> Option<u16> {
        text.split([' ', ','])
            .filter_map(|w| w.parse::<u16>().ok())
            .find(|&p| p != 0)
    }

    /// `Enable SSL`, `Allow explicit SSL` (default on) and `Force explicit SSL`
    /// decide TLS on the normal ports.
    fn tls(items: &[Item]) -> Located<ControlTls> {
        let on =
            |name, default| number(items, name).map_or((default, None), |(n, s)| (n != 0, Some(s)));
        let (ssl, ssl_span) = on("Enable SSL", false);
        let (explicit, explicit_span) = on("Allow explicit SSL", true);
        let (force, force_span) = on("Force explicit SSL", false);
        match (ssl, explicit, force) {
            (true, true, true) => Located::new(ControlTls::Required, force_span),
            (true, true, false) => Located::new(ControlTls::Optional, ssl_span),
            (true, false, _) => Located::new(ControlTls::Never, explicit_span),
            _ => Located::new(ControlTls::Never, ssl_span),
        }
    }

    /// A numeric option written as something else is skipped (its default applies).
    fn ignored_numbers(items: &[Item], findings: &mut Vec<Finding>) {
        for name in [
            "Use custom PASV ports",
            "Custom PASV min port",
            "Custom PASV max port",
        ] {
            let Some(item) = items.iter().find(|i| i.name == name) else {
                continue;
            };
            let Some((text, span)) = item.value else {
                continue;
            };
            let digits = !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
            if item.numeric && digits {
                continue;
            }
            let why = if item.numeric {
                format!("`{text}` is not digits only")
            } else {
                "the item is not type=\"numeric\"".to_owned()
            };
            findings.push(Finding {
                span,
                message: format!(
                    "FileZilla Server skips `{name}`: {why}, so the option keeps its default (0)"
                ),
                help: format!(
                    "write <Item name=\"{name}\" type=\"numeric\">…</Item> with digits only"
                ),
                related: None,
                swapped: None,
            });
        }
    }

    fn passive(items: &[Item], findings: &mut Vec<Finding>) -> Passive {
        let custom = number(items, "Use custom PASV ports");
        let min = number(items, "Custom PASV min port");
        let max = number(items, "Custom PASV max port");
        let (lo, hi) = DEFAULT_RANGE;
        if custom.is_none_or(|(n, _)| n == 0) {
            // 0.9.x writes both bounds as 0 in every settings file it saves
            // (no range was ever entered): only a bound set to a port is a
            // custom range the server ignores.
            let set = |b: Option<(u64, Span)>| b.filter(|(n, _)| *n != 0);
            if let Some((_, span)) = set(min).or(set(max)) {
                findings.push(Finding {
                    span,
                    message: format!(
                        "the custom passive range is ignored: `Use custom PASV ports` is {}, so FileZilla Server hands out {lo}-{hi}",
                        if custom.is_some() { "0" } else { "not set" }
                    ),
                    help: "set <Item name=\"Use custom PASV ports\" type=\"numeric\">1</Item>".to_owned(),
                    related: custom.map(|(_, s)| (s, "custom ports off")),
                    swapped: None,
                });
            }
            return enabled(lo, hi, false, Vec::new());
        }
        let (min_value, max_value) = (min.map_or(0, |m| m.0), max.map_or(0, |m| m.0));
        let (a, b) = if min_value > max_value {
            (max_value, min_value)
        } else {
            (min_value, max_value)
        };
        let clamp = |v: u64| v.clamp(1, 65535) as u16;
        let (first, last) = (clamp(a), clamp(b));
        let anchor = min.or(max).map_or(custom.map(|c| c.1), |m| Some(m.1));
        let spans: Vec<Span> = [min, max].into_iter().flatten().map(|m| m.1).collect();
        let uses = format!("FileZilla Server hands out {first}-{last}");
        let problem = if min_value > max_value {
            Some(format!(
                "`Custom PASV min port` {min_value} is above `Custom PASV max port` {max_value}: {uses} (it swaps them)"
            ))
        } else if min.is_none() || max.is_none() || a == 0 {
            Some(format!(
                "a custom passive bound is missing or 0, which FileZilla Server raises to 1: {uses}"
            ))
        } else if b > 65535 {
            Some(format!(
                "a custom passive bound is above 65535, which FileZilla Server lowers to 65535: {uses}"
            ))
        } else {
            None
        };
        if let (Some(message), Some(span)) = (problem, anchor) {
            let swapped = match (min, max) {
                (Some(lo), Some(hi)) if min_value > max_value => Some([lo.1, hi.1]),
                _ => None,
            };
            findings.push(Finding {
                span,
                message,
                help: "write both bounds as numeric items from 1024 to 65535, min ≤ max (e.g. 50000 and 50100), with `Use custom PASV ports` 1, and open exactly that band".to_owned(),
                related: None,
                swapped,
            });
        }
        enabled(first, last, true, spans)
    }
}

mod modern {
    use super::*;

    fn number(tree: &XmlTree, source: &SourceFile, at: usize, name: &str) -> Option<(u64, Span)> {
        let (_, e) = tree.children_named(at, name).next()?;
        let (text, span) = text_of(source, e)?;
        Some((text.trim().parse().ok()?, span))
    }

    pub fn server(
        tree: &XmlTree,
        source: &SourceFile,
        findings: &mut Vec<Finding>,
    ) -> Option<FtpServer> {
        let (ftp, ftp_element) = tree.descend(0, &["ftp_server"])?;
        let anchor = ftp_element.tag;
        let listeners: Vec<Listener> = tree
            .children_named(ftp, "listener")
            .map(|(i, _)| listener(tree, source, i))
            .collect();
        let control = listeners
            .iter()
            .find(|l| l.tls != Some("implicit"))
            .or(listeners.first());
        let control_port = control.map_or(Located::new(None, Some(anchor)), |l| l.port.clone());
        let tls = control.map_or(Located::new(ControlTls::Optional, None), |l| match l.tls {
            Some("require" | "implicit") => Located::new(ControlTls::Required, l.tls_span),
            _ => Located::new(ControlTls::Optional, l.tls_span),
        });
        let families = listeners
            .iter()
            .filter_map(|l| l.family)
            .reduce(Families::union)
            .map_or(Located::new(None, Some(anchor)), |f| {
                Located::new(Some(f), Some(anchor))
            });
        let passive = passive(tree, source, ftp, anchor, findings);
        let max_sessions = Located::new(None, None);
        Some(super::server(
            "filezilla",
            source,
            anchor,
            control_port,
            passive,
            max_sessions,
            tls,
            families,
            host_override(tree, source, ftp),
        ))
    }

    /// `<session><pasv><host_override>`: the address (or a name it resolves) that
    /// PASV announces instead of the listener's own; empty means no override.
    /// With `do_not_override_host_if_peer_is_local` (default true) clients from
    /// private addresses still get the local address.
    fn host_override(tree: &XmlTree, source: &SourceFile, ftp: usize) -> Located<Option<String>> {
        let Some((pasv, _)) = tree.descend(ftp, &["session", "pasv"]) else {
            return Located::default_value(None);
        };
        match tree
            .children_named(pasv, "host_override")
            .next()
            .and_then(|(_, e)| text_of(source, e))
            .map(|(t, s)| (t.trim(), s))
        {
            Some((host, span)) if !host.is_empty() => {
                Located::new(Some(host.to_owned()), Some(span))
            }
            _ => Located::default_value(None),
        }
    }

    struct Listener {
        port: Located<Option<u16>>,
        family: Option<Families>,
        tls: Option<&'static str>,
        tls_span: Option<Span>,
    }

    fn listener(tree: &XmlTree, source: &SourceFile, at: usize) -> Listener {
        let port = number(tree, source, at, "port").map_or(Located::new(None, None), |(p, s)| {
            Located::new(u16::try_from(p).ok(), Some(s))
        });
        let address = tree
            .children_named(at, "address")
            .next()
            .and_then(|(_, e)| text_of(source, e))
            .map(|(t, _)| t.trim());
        let family = address.map(|a| {
            if a.contains(':') {
                Families::Ipv6
            } else {
                Families::Ipv4
            }
        });
        let mode = tree
            .children_named(at, "tls_mode")
            .next()
            .and_then(|(_, e)| text_of(source, e));
        let tls = mode.map(|(t, _)| match t.trim() {
            "1" | "implicit_tls" => "implicit",
            "2" | "require_tls" => "require",
            _ => "allow",
        });
        Listener {
            port,
            family,
            tls,
            tls_span: mode.map(|(_, s)| s),
        }
    }

    fn passive(
        tree: &XmlTree,
        source: &SourceFile,
        ftp: usize,
        anchor: Span,
        findings: &mut Vec<Finding>,
    ) -> Passive {
        let Some((range, element)) = tree.descend(ftp, &["session", "pasv", "port_range"]) else {
            let (lo, hi) = crate::formats::iis::WINDOWS_DYNAMIC;
            let _ = anchor;
            return enabled(lo, hi, false, Vec::new());
        };
        let min = number(tree, source, range, "min");
        let max = number(tree, source, range, "max");
        let (lo_default, hi_default) = DEFAULT_RANGE;
        let a = min.map_or(u64::from(lo_default), |m| m.0).min(65535) as u16;
        let b = max.map_or(u64::from(hi_default), |m| m.0).min(65535) as u16;
        let (first, last) = if a > b { (b, a) } else { (a, b) };
        let uses = format!("FileZilla Server hands out {first}-{last}");
        let problem = if a > b {
            Some((
                min.or(max).map_or(element.tag, |m| m.1),
                format!("<min> {a} is above <max> {b}: {uses} (it swaps them)"),
            ))
        } else if min.is_none() != max.is_none() {
            let missing = if min.is_none() {
                "<min> is missing (default 49152)"
            } else {
                "<max> is missing (default 65534)"
            };
            Some((element.tag, format!("{missing}: {uses}")))
        } else {
            None
        };
        if let Some((span, message)) = problem {
            let swapped = match (min, max) {
                (Some(lo), Some(hi)) if a > b => Some([lo.1, hi.1]),
                _ => None,
            };
            findings.push(Finding {
                span,
                message,
                help:
                    "write both <min> and <max>, min ≤ max (e.g. <min>50000</min><max>50100</max>)"
                        .to_owned(),
                related: None,
                swapped,
            });
        }
        let spans = [min, max]
            .into_iter()
            .flatten()
            .map(|m| m.1)
            .chain([element.tag])
            .collect();
        enabled(first, last, true, spans)
    }
}

/// The settings of a parsed FileZilla file.
pub fn settings_of(file: &super::ParsedFile) -> Option<&Settings> {
    match &file.doc {
        super::Document::FileZilla(settings) => Some(settings),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FileId;

    fn read(path: &str, text: &str) -> Settings {
        parse(&SourceFile::new(FileId(0), path, text.as_bytes()))
    }

    fn item(name: &str, value: &str) -> String {
        format!("<Item name=\"{name}\" type=\"numeric\">{value}</Item>")
    }

    fn legacy(items: &[(&str, &str)]) -> Settings {
        let body: String = items.iter().map(|(n, v)| item(n, v)).collect();
        read(
            "FileZilla Server.xml",
            &format!("<FileZillaServer><Settings>{body}</Settings></FileZillaServer>"),
        )
    }

    fn ports(s: &Settings) -> String {
        s.server
            .as_ref()
            .unwrap()
            .passive
            .ports()
            .unwrap()
            .to_string()
    }

    #[test]
    fn legacy_custom_pasv_ip_is_announced_only_with_type_1() {
        let address = |kind: &str, ip: &str| {
            let body = format!(
                "{}<Item name=\"Custom PASV IP\" type=\"string\">{ip}</Item>",
                item("Custom PASV IP type", kind)
            );
            let s = read(
                "FileZilla Server.xml",
                &format!("<FileZillaServer><Settings>{body}</Settings></FileZillaServer>"),
            );
            s.server.unwrap().passive_address.value
        };
        assert_eq!(
            address("1", " 203.0.113.7 "),
            Some("203.0.113.7".to_owned())
        );
        assert_eq!(
            address("1", "ftp.example.com"),
            Some("ftp.example.com".to_owned())
        );
        assert_eq!(address("0", "203.0.113.7"), None);
        assert_eq!(address("2", "203.0.113.7"), None, "fetched at run time");
        assert_eq!(address("3", "203.0.113.7"), None, "reset to 0");
        assert_eq!(address("1", ""), None);
    }

    #[test]
    fn legacy_ranges_as_pasv_port_randomizer_computes_them() {
        let on = ("Use custom PASV ports", "1");
        assert_eq!(
            ports(&legacy(&[
                on,
                ("Custom PASV min port", "50000"),
                ("Custom PASV max port", "50100")
            ])),
            "50000-50100"
        );
        let swapped = legacy(&[
            on,
            ("Custom PASV min port", "50100"),
            ("Custom PASV max port", "50000"),
        ]);
        assert_eq!(ports(&swapped), "50000-50100");
        assert_eq!(swapped.findings.len(), 1);
        assert_eq!(
            ports(&legacy(&[on, ("Custom PASV max port", "50100")])),
            "1-50100"
        );
        let off = legacy(&[
            ("Custom PASV min port", "50000"),
            ("Custom PASV max port", "50100"),
        ]);
        assert_eq!(ports(&off), "49152-65534");
        assert!(off.findings[0].message.contains("ignored"));
    }

    #[test]
    fn modern_ranges() {
        let doc = |pasv: &str| {
            read(
                "settings.xml",
                &format!(
                    "<filezilla><ftp_server><listener><address>0.0.0.0</address><port>21</port><tls_mode>0</tls_mode></listener><session>{pasv}</session></ftp_server></filezilla>"
                ),
            )
        };
        assert_eq!(
            ports(&doc(
                "<pasv><port_range><min>50100</min><max>50000</max></port_range></pasv>"
            )),
            "50000-50100"
        );
        assert_eq!(
            ports(&doc(
                "<pasv><port_range><min>50000</min></port_range></pasv>"
            )),
            "50000-65534"
        );
        assert_eq!(ports(&doc("<pasv></pasv>")), "49152-65535");
        let s = doc("");
        assert_eq!(s.server.as_ref().unwrap().control_port.value, Some(21));
    }

    #[test]
    fn modern_host_override_is_the_announced_address() {
        let address = |pasv: &str| {
            let text = format!(
                "<filezilla><ftp_server><listener><port>21</port></listener><session><pasv>{pasv}</pasv></session></ftp_server></filezilla>"
            );
            read("settings.xml", &text)
                .server
                .unwrap()
                .passive_address
                .value
        };
        assert_eq!(
            address("<host_override> 203.0.113.7 </host_override>").as_deref(),
            Some("203.0.113.7")
        );
        assert_eq!(
            address("<host_override>ftp.example.org</host_override>").as_deref(),
            Some("ftp.example.org")
        );
        assert_eq!(address("<host_override></host_override>"), None);
        assert_eq!(
            address("<port_range><min>50000</min><max>50100</max></port_range>"),
            None
        );
    }

    /// 0.9's `COptions::Init` returns when TinyXML cannot load the file, so every
    /// option keeps its default; a truncated copy's items are not taken at their word.
    #[test]
    fn a_file_the_server_cannot_load_is_read_as_its_defaults() {
        let truncated = "<FileZillaServer><Settings>\n<Item name=\"Use custom PASV ports\" type=\"numeric\">1</Item>\n<Item name=\"Custom PASV min port\" type=\"numeric\">50000</Item>\n<Item name=\"Custom PASV max";
        for text in [
            truncated,
            "\0\0\0PK\x03\x04",
            "",
            "<FileZillaServer><Settings></settings></FileZillaServer>",
        ] {
            let s = read("FileZilla Server.xml", text);
            assert!(s.unreadable, "{text:?}");
            assert!(!s.tree.errors.is_empty(), "{text:?}");
            assert!(s.findings.is_empty(), "{text:?}");
            assert_eq!(ports(&s), "49152-65534", "{text:?}");
        }
        let s = read(
            "filezilla-server/settings.xml",
            "<filezilla><ftp_server><session>",
        );
        assert!(s.unreadable && s.server.is_none());
        assert!(!legacy(&[("Custom PASV min port", "50000")]).unreadable);
    }

    #[test]
    fn binary_settings_files_are_claimed_only_under_filezilla_names() {
        let binary = "\0\0\u{1}\u{2}";
        assert!(sniff(
            Path::new("FileZilla Server/FileZilla Server.xml"),
            binary
        ));
        assert!(sniff(
            Path::new("ProgramData/filezilla-server/settings.xml"),
            binary
        ));
        assert!(!sniff(Path::new(".m2/settings.xml"), binary));
        assert!(!sniff(
            Path::new(".m2/settings.xml"),
            "<settings><mirrors/></settings>"
        ));
    }
}
