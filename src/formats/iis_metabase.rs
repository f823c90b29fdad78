//! IIS 6 `MetaBase.xml` (`%SystemRoot%\System32\inetsrv`): the FTP service key
//! `/LM/MSFTPSVC` and its sites `/LM/MSFTPSVC/<n>`, as IIS reads them.
//!
//! The file is case sensitive: only `<IIsFtpService>` and `<IIsFtpServer>`
//! spelled exactly so are FTP keys, and only properties spelled exactly so are
//! read. Everything else is kept (with spans) for the rules to report.

use super::iis::{self, RangeVerdict};
use super::xml::{self, Attr, Element, XmlTree};
use crate::facts::{
    Active, ControlTls, Families, FtpServer, Located, Passive, RangeSetting, UserClass, UserKind,
};
use crate::source::{SourceFile, Span};
use std::path::Path;

pub const SERVICE_ELEMENT: &str = "IIsFtpService";
pub const SITE_ELEMENT: &str = "IIsFtpServer";
pub const SERVICE_LOCATION: &str = "/LM/MSFTPSVC";
pub const PASSIVE_PORT_RANGE: &str = "PassivePortRange";
pub const SERVER_BINDINGS: &str = "ServerBindings";
pub const MAX_CONNECTIONS: &str = "MaxConnections";
pub const ALLOW_ANONYMOUS: &str = "AllowAnonymous";
pub const ANONYMOUS_ONLY: &str = "AnonymousOnly";

/// A parsed `MetaBase.xml`.
#[derive(Clone, Debug, Default)]
pub struct Metabase {
    pub xml: XmlTree,
    /// Every key under `<MBProperty>`, in file order.
    pub keys: Vec<Key>,
}

/// One metabase key: an element under `<MBProperty>` with its `Location`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Key {
    /// Index of the element in `xml.elements`.
    pub element: usize,
    /// The element name as written (the key type, e.g. `IIsFtpServer`).
    pub kind: String,
    pub kind_span: Span,
    /// The whole start tag.
    pub tag: Span,
    pub location: Option<Attr>,
    /// Properties: the tag's attributes other than `Location`, then
    /// `<Custom Name= Value=>` children.
    pub properties: Vec<Property>,
    /// `Name="value"` written as text between the start and end tags (a line
    /// pasted below the tag's `>`): not a property to IIS.
    pub stray: Vec<Property>,
}

/// A property of a key, wherever it was written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Property {
    pub name: String,
    pub name_span: Span,
    pub value: String,
    pub value_span: Span,
    /// Written as a `<Custom Name="..." Value="...">` child element.
    pub custom: bool,
}

impl Key {
    /// The property spelled exactly `name`.
    pub fn property(&self, name: &str) -> Option<&Property> {
        self.properties.iter().find(|p| p.name == name)
    }

    /// `Location` with surrounding blanks and a trailing `/` removed.
    pub fn location_path(&self) -> Option<&str> {
        self.location.as_ref().map(|l| {
            let t = l.value.trim();
            t.strip_suffix('/').unwrap_or(t)
        })
    }

    /// The FTP service key: `<IIsFtpService Location="/LM/MSFTPSVC">`.
    pub fn is_ftp_service(&self) -> bool {
        self.kind == SERVICE_ELEMENT && self.is_service_location()
    }

    /// Whether `Location` names the FTP service (`/LM/MSFTPSVC`; metabase
    /// paths compare without regard to case).
    pub fn is_service_location(&self) -> bool {
        self.location_path()
            .is_some_and(|p| p.eq_ignore_ascii_case(SERVICE_LOCATION))
    }

    /// An FTP site key: `<IIsFtpServer Location="/LM/MSFTPSVC/<n>">`.
    pub fn is_ftp_site(&self) -> bool {
        self.kind == SITE_ELEMENT && self.site_number().is_some()
    }

    /// `n` of a `/LM/MSFTPSVC/<n>` location.
    pub fn site_number(&self) -> Option<u32> {
        let path = self.location_path()?;
        let prefix = path.get(..SERVICE_LOCATION.len() + 1)?;
        if !prefix.eq_ignore_ascii_case("/LM/MSFTPSVC/") {
            return None;
        }
        let n = path.get(SERVICE_LOCATION.len() + 1..)?;
        (!n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
            .then(|| n.parse().ok())
            .flatten()
    }
}

impl Metabase {
    /// The key IIS reads service-level FTP settings from.
    pub fn ftp_service(&self) -> Option<&Key> {
        self.keys.iter().find(|k| k.is_ftp_service())
    }

    pub fn ftp_sites(&self) -> impl Iterator<Item = &Key> {
        self.keys.iter().filter(|k| k.is_ftp_site())
    }
}

/// `MetaBase.xml` by name, or any XML carrying the metabase namespace
/// (history copies such as `MetaBase_0000000012_0000000000.xml`).
pub fn sniff(path: &Path, text: &str) -> bool {
    if is_history_copy(path) {
        return false;
    }
    let by_name = path
        .file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.eq_ignore_ascii_case("metabase.xml"));
    by_name || (super::looks_like_xml(text) && super::head(text).contains("XML_Metabase_V"))
}

/// IIS keeps old versions in `inetsrv\History\MetaBase_*.xml`; they describe
/// no running server, so reading them would add stale servers to the host.
fn is_history_copy(path: &Path) -> bool {
    path.parent()
        .and_then(|p| p.file_name())
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.eq_ignore_ascii_case("history"))
}

/// The document of a `MetaBase.xml` file.
pub fn metabase_of(file: &super::ParsedFile) -> Option<&Metabase> {
    match &file.doc {
        super::Document::IisMetabase(doc) => Some(doc),
        _ => None,
    }
}

/// Element names of the IIS 6 metabase (key types and the wrappers), as IIS
/// spells them; the file is case sensitive.
pub const KNOWN_ELEMENTS: &[&str] = &[
    "configuration",
    "MBProperty",
    "Custom",
    "IIS_Global",
    "IIS_ROOT",
    "IIsComputer",
    "IIsConfigObject",
    "IIsFtpService",
    "IIsFtpServer",
    "IIsFtpVirtualDir",
    "IIsFtpInfo",
    "IIsWebService",
    "IIsWebServer",
    "IIsWebVirtualDir",
    "IIsWebDirectory",
    "IIsWebFile",
    "IIsWebInfo",
    "IIsFilters",
    "IIsFilter",
    "IIsCompressionSchemes",
    "IIsCompressionScheme",
    "IIsMimeMap",
    "IIsLogModules",
    "IIsLogModule",
    "IIsCustomLogModule",
    "IIsApplicationPools",
    "IIsApplicationPool",
    "IIsCertMapper",
    "IIsSmtpService",
    "IIsSmtpServer",
    "IIsNntpService",
    "IIsNntpServer",
];

/// FTP properties whose spelling decides whether IIS reads them.
pub const KNOWN_PROPERTIES: &[&str] = &[
    "Location",
    PASSIVE_PORT_RANGE,
    SERVER_BINDINGS,
    MAX_CONNECTIONS,
    "ServerAutoStart",
    "ServerComment",
    "ConnectionTimeout",
    "AllowAnonymous",
    "AnonymousOnly",
];

pub fn parse(source: &SourceFile) -> Metabase {
    let xml = xml::read(source);
    let keys = key_elements(&xml)
        .filter_map(|i| Some(key(source, &xml, i, xml.elements.get(i)?)))
        .collect();
    Metabase { xml, keys }
}

/// Elements directly under `<configuration><MBProperty>`.
fn key_elements(xml: &XmlTree) -> impl Iterator<Item = usize> + '_ {
    let holders: Vec<usize> = xml
        .root()
        .map(|_| {
            xml.children_named(0, "MBProperty")
                .map(|(i, _)| i)
                .collect()
        })
        .unwrap_or_default();
    holders
        .into_iter()
        .flat_map(move |h| xml.children(h).map(|(i, _)| i))
}

fn key(source: &SourceFile, xml: &XmlTree, index: usize, element: &Element) -> Key {
    let mut properties: Vec<Property> = element
        .attrs
        .iter()
        .filter(|a| a.name != "Location")
        .map(|a| Property {
            name: a.name.clone(),
            name_span: a.name_span,
            value: a.value.clone(),
            value_span: a.value_span,
            custom: false,
        })
        .collect();
    properties.extend(
        xml.children_named(index, "Custom")
            .filter_map(|(_, c)| custom_property(c)),
    );
    Key {
        element: index,
        kind: element.name.clone(),
        kind_span: element.name_span,
        tag: element.tag,
        location: element.attr("Location").cloned(),
        properties,
        stray: element
            .text
            .iter()
            .flat_map(|&span| stray_assignments(source, span))
            .collect(),
    }
}

/// `Name="value"` pairs inside a stretch of element text.
fn stray_assignments(source: &SourceFile, span: Span) -> Vec<Property> {
    let text = source.slice(span);
    let base = span.start as usize;
    let mut out = Vec::new();
    let mut rest = 0;
    while let Some(eq) = text.get(rest..).and_then(|t| t.find('=')).map(|i| rest + i) {
        rest = eq + 1;
        let before = text[..eq].trim_end();
        let name_start = before
            .char_indices()
            .rev()
            .find(|(_, c)| !(c.is_ascii_alphanumeric() || *c == '_'))
            .map_or(0, |(i, c)| i + c.len_utf8());
        let name = &before[name_start..];
        let after = &text[eq + 1..];
        let value_at = eq + 1 + (after.len() - after.trim_start().len());
        let Some(value_text) = text[value_at..].strip_prefix('"') else {
            continue;
        };
        let Some(close) = value_text.find('"') else {
            continue;
        };
        if name.is_empty() {
            continue;
        }
        let value_start = value_at + 1;
        out.push(Property {
            name: name.to_owned(),
            name_span: source.span(base + name_start, base + name_start + name.len()),
            value: value_text[..close].to_owned(),
            value_span: source.span(base + value_start, base + value_start + close),
            custom: false,
        });
        rest = value_start + close + 1;
    }
    out
}

/// `<Custom Name="PassivePortRange" ID="5016" Value="5001-5201" .../>`: how
/// the metabase stores a property the key's schema class does not list.
fn custom_property(c: &Element) -> Option<Property> {
    let name = c.attr("Name")?;
    let value = c.attr("Value");
    Some(Property {
        name: name.value.trim().to_owned(),
        name_span: name.value_span,
        value: value.map(|v| v.value.clone()).unwrap_or_default(),
        value_span: value.map_or(c.tag, |v| v.value_span),
        custom: true,
    })
}

/// One `IP:Port:Hostname` entry of a `ServerBindings` value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Binding {
    /// The port, `None` when it is not a number in 1-65535.
    pub port: Option<u16>,
    /// The port digits (or the whole entry when there are none).
    pub span: Span,
    pub text: String,
}

/// Splits a MULTISZ `ServerBindings` on whitespace; each entry is `IP:Port:Hostname`.
pub fn bindings(source: &SourceFile, property: &Property) -> Vec<Binding> {
    let raw = source.slice(property.value_span);
    // With entity references the raw text and the value differ; spans then
    // fall back to the whole value.
    let exact = !raw.contains('&');
    let text = if exact { raw } else { property.value.as_str() };
    let base = property.value_span.start as usize;
    words(text)
        .map(|(at, entry)| {
            let (port, range) = iis::binding_port(entry);
            let span = if exact {
                let r = range.unwrap_or(0..entry.len());
                source.span(base + at + r.start, base + at + r.end)
            } else {
                property.value_span
            };
            Binding {
                port,
                span,
                text: entry.to_owned(),
            }
        })
        .collect()
}

/// Whitespace-separated words with their byte offsets.
fn words(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.split(|c: char| c.is_whitespace())
        .scan(0usize, |pos, w| {
            let at = *pos;
            *pos += w.len() + 1;
            Some((at, w))
        })
        .filter(|(_, w)| !w.is_empty())
}

/// `MaxConnections`: a DWORD; 4294967295 (and -1 from older IIS) mean
/// unlimited. 0 is the Operations Guide's default and is read as no limit.
pub fn max_connections(value: &str) -> Option<Option<u32>> {
    match value.trim() {
        "-1" | "4294967295" | "0" => Some(None),
        t => t.parse::<u32>().ok().map(Some),
    }
}

pub fn facts(doc: &Metabase, source: &SourceFile) -> Vec<FtpServer> {
    let service = doc.ftp_service();
    let passive = passive(doc, service);
    let setting = range_setting(source, service, &passive);
    let passive = (&passive, &setting);
    let sites: Vec<&Key> = doc.ftp_sites().collect();
    let keys: Vec<(&Key, Option<&Key>)> = if sites.is_empty() {
        service.map(|s| (s, None)).into_iter().collect()
    } else {
        sites.into_iter().map(|site| (site, service)).collect()
    };
    keys.into_iter()
        .flat_map(|(key, parent)| {
            control_ports(source, key, parent)
                .into_iter()
                .map(move |port| server(source, key, parent, port, passive))
        })
        .collect()
}

/// The port of each `ServerBindings` entry of a site (inherited from the
/// service), each port once, in order: the site listens on every entry.
fn control_ports(
    source: &SourceFile,
    key: &Key,
    parent: Option<&Key>,
) -> Vec<Located<Option<u16>>> {
    let Some(prop) = key
        .property(SERVER_BINDINGS)
        .or_else(|| parent.and_then(|p| p.property(SERVER_BINDINGS)))
    else {
        return vec![Located::default_value(Some(21))];
    };
    let mut out: Vec<Located<Option<u16>>> = Vec::new();
    for b in bindings(source, prop) {
        if !out.iter().any(|p| p.value == b.port) {
            out.push(Located::new(b.port, Some(b.span)));
        }
    }
    if out.is_empty() {
        out.push(Located::new(None, Some(prop.value_span)));
    }
    out
}

/// The service's `PassivePortRange`, when IIS takes it as written.
fn range_setting(
    source: &SourceFile,
    service: Option<&Key>,
    passive: &Passive,
) -> Option<RangeSetting> {
    let value = service?.property(PASSIVE_PORT_RANGE)?.value_span;
    let (lo, hi) = passive.deliberate_range()?;
    RangeSetting::joined_as_written(value, source.text.get(value.range())?, lo, hi)
}

/// What the whole FTP service hands out in reply to PASV (service-level only).
fn passive(doc: &Metabase, service: Option<&Key>) -> Passive {
    let setting = service.and_then(|s| s.property(PASSIVE_PORT_RANGE));
    let spans: Vec<Span> = setting.map(|p| p.value_span).into_iter().collect();
    if !doc.xml.is_well_formed() {
        return Passive::Unknown {
            spans,
            reason: "MetaBase.xml is not well-formed XML, so IIS will not load it".to_owned(),
        };
    }
    match iis::iis6_passive_range(setting.map(|p| p.value.as_str())) {
        RangeVerdict::Ports { ports, deliberate } => Passive::Enabled {
            ports,
            deliberate,
            spans,
        },
        RangeVerdict::Invalid(reason) => Passive::Unknown {
            spans,
            reason: format!("{reason}; the FTP service will not start"),
        },
    }
}

/// One server for `key` (a site, or the service when there is no site) on
/// `control_port`; unset site values inherit from `parent` (the service key).
fn server(
    source: &SourceFile,
    key: &Key,
    parent: Option<&Key>,
    control_port: Located<Option<u16>>,
    (passive, setting): (&Passive, &Option<RangeSetting>),
) -> FtpServer {
    let inherited = |name: &str| {
        key.property(name)
            .or_else(|| parent.and_then(|p| p.property(name)))
    };
    let max_sessions = match inherited(MAX_CONNECTIONS) {
        Some(prop) => Located::new(max_connections(&prop.value), Some(prop.value_span)),
        None => Located::default_value(Some(None)),
    };
    // "the IPAddress component of the string is limited to storing an IPv4
    // address" (How IIS 6.0 Supports IPv6).
    let families = match inherited(SERVER_BINDINGS) {
        Some(prop) => Located::new(Some(Families::Ipv4), Some(prop.value_span)),
        None => Located::default_value(Some(Families::Ipv4)),
    };
    let user_classes = user_classes(inherited(ALLOW_ANONYMOUS), inherited(ANONYMOUS_ONLY));
    FtpServer {
        file: source.id,
        server: iis::IisVersion::Iis6.server_name(),
        control_port,
        passive: passive.clone(),
        max_sessions,
        tls: Located::default_value(ControlTls::Never),
        families,
        user_classes,
        // IIS active mode is not modelled yet.
        active: Active::Unknown,
        passive_address: Located::default_value(None),
        listen_address: crate::facts::Located::default_value(None),
        falls_back_outside_range: false,
        range_setting: setting.clone(),
        anchor: key.tag,
        container: None,
    }
}

/// `AllowAnonymous` (default true) and `AnonymousOnly` (default false), per
/// their IIS 6.0 metabase reference pages; IIS 6 FTP has no FTP over SSL.
pub fn user_classes(
    allow_anonymous: Option<&Property>,
    anonymous_only: Option<&Property>,
) -> Vec<UserClass> {
    let class = |kind, setting: Option<&Property>| UserClass {
        kind,
        tls: ControlTls::Never,
        spans: setting.map(|p| p.value_span).into_iter().collect(),
    };
    let mut classes = Vec::new();
    if bool_property(allow_anonymous, true) {
        classes.push(class(UserKind::Anonymous, allow_anonymous));
    }
    if !bool_property(anonymous_only, false) {
        classes.push(class(UserKind::Local, anonymous_only));
    }
    classes
}

/// A metabase Boolean (`TRUE`/`FALSE`, or a number).
fn bool_property(property: Option<&Property>, default: bool) -> bool {
    match property.map(|p| p.value.trim()) {
        None => default,
        Some(v) => !(v.eq_ignore_ascii_case("false") || v == "0"),
    }
}

#[cfg(test)]
mod history_tests {
    use super::*;

    #[test]
    fn anonymous_and_windows_logins_by_default() {
        let kinds = |classes: Vec<UserClass>| -> Vec<UserKind> {
            classes.into_iter().map(|c| c.kind).collect()
        };
        assert_eq!(
            kinds(user_classes(None, None)),
            [UserKind::Anonymous, UserKind::Local]
        );
        let property = |value: &str| Property {
            name: String::new(),
            name_span: Span::new(crate::source::FileId(0), 0, 0),
            value: value.to_owned(),
            value_span: Span::new(crate::source::FileId(0), 0, 0),
            custom: false,
        };
        let (no, yes) = (property("FALSE"), property("TRUE"));
        assert_eq!(kinds(user_classes(Some(&no), None)), [UserKind::Local]);
        assert_eq!(kinds(user_classes(None, Some(&yes))), [UserKind::Anonymous]);
        assert!(user_classes(Some(&no), Some(&yes)).is_empty());
    }

    #[test]
    fn history_copies_are_not_servers() {
        let xml = "<configuration xmlns=\"urn:microsoft-catalog:XML_Metabase_V64_0\"/>";
        assert!(sniff(Path::new("inetsrv/MetaBase.xml"), xml));
        assert!(!sniff(
            Path::new("inetsrv/History/MetaBase_0000000042_0000000000.xml"),
            xml
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::portset::PortSet;
    use crate::source::FileId;

    fn source(text: &str) -> SourceFile {
        SourceFile::new(FileId(0), "MetaBase.xml", text.as_bytes())
    }

    const TABBED: &str = "<?xml version =\"1.0\"?>\r\n<configuration xmlns=\"urn:microsoft-catalog:XML_Metabase_V64_0\">\r\n<MBProperty>\r\n<IIsFtpService\tLocation =\"/LM/MSFTPSVC\"\r\n\t\tMaxConnections=\"100000\"\r\n\t\tPassivePortRange=\"5001-5201\"\r\n\t\tServerBindings=\":21:\"\r\n\t>\r\n</IIsFtpService>\r\n<IIsFtpServer\tLocation =\"/LM/MSFTPSVC/1\"\r\n\t\tMaxConnections=\"500\"\r\n\t\tServerBindings=\"10.0.0.5:2121:\r\n\t\t\t10.0.0.6:21:\"\r\n\t>\r\n</IIsFtpServer>\r\n</MBProperty>\r\n</configuration>\r\n";

    fn slice(src: &SourceFile, span: Span) -> &str {
        src.slice(span)
    }

    #[test]
    fn reads_keys_with_tabs_crlf_and_space_before_equals() {
        let src = source(TABBED);
        let doc = parse(&src);
        assert!(doc.xml.is_well_formed(), "{:?}", doc.xml.errors);
        assert_eq!(doc.keys.len(), 2);
        let service = doc.ftp_service().unwrap();
        assert_eq!(
            slice(&src, service.location.as_ref().unwrap().value_span),
            "/LM/MSFTPSVC"
        );
        let range = service.property(PASSIVE_PORT_RANGE).unwrap();
        assert_eq!(slice(&src, range.value_span), "5001-5201");
        assert_eq!(src.line_col(range.value_span.start), (6, 21));
        let site = doc.ftp_sites().next().unwrap();
        assert_eq!(site.site_number(), Some(1));
        assert!(slice(&src, site.tag).starts_with("<IIsFtpServer\tLocation"));
        assert!(slice(&src, site.tag).ends_with("\t>"));
    }

    #[test]
    fn multisz_bindings_split_on_whitespace_with_port_spans() {
        let src = source(TABBED);
        let doc = parse(&src);
        let site = doc.ftp_sites().next().unwrap();
        let b = bindings(&src, site.property(SERVER_BINDINGS).unwrap());
        assert_eq!(b.len(), 2);
        assert_eq!((b[0].port, slice(&src, b[0].span)), (Some(2121), "2121"));
        assert_eq!((b[1].port, slice(&src, b[1].span)), (Some(21), "21"));
        assert_eq!(b[1].text, "10.0.0.6:21:");
    }

    #[test]
    fn facts_take_passive_from_the_service_and_the_rest_from_the_site() {
        let src = source(TABBED);
        let servers = facts(&parse(&src), &src);
        let ports: Vec<Option<u16>> = servers.iter().map(|s| s.control_port.value).collect();
        assert_eq!(
            ports,
            vec![Some(2121), Some(21)],
            "the site listens on both bindings"
        );
        let s = &servers[0];
        assert_eq!(s.server, "iis6");
        assert_eq!(s.max_sessions.value, Some(Some(500)));
        assert_eq!(s.tls.value, ControlTls::Never);
        match &s.passive {
            Passive::Enabled {
                ports,
                deliberate,
                spans,
            } => {
                assert_eq!(*ports, PortSet::range(5001, 5201));
                assert!(deliberate);
                assert_eq!(slice(&src, spans[0]), "5001-5201");
            }
            other => panic!("{other:?}"),
        }
        assert!(slice(&src, s.anchor).starts_with("<IIsFtpServer"));
    }

    #[test]
    fn service_without_sites_is_one_server_on_port_21() {
        let src = source(
            "<configuration xmlns=\"urn:microsoft-catalog:XML_Metabase_V64_0\"><MBProperty>\
             <IIsFtpService Location=\"/LM/MSFTPSVC\" PassivePortRange=\"5001-5001\"/>\
             </MBProperty></configuration>",
        );
        let servers = facts(&parse(&src), &src);
        assert_eq!(servers.len(), 1);
        assert_eq!(servers[0].control_port.value, Some(21));
        assert_eq!(servers[0].max_sessions.value, Some(None));
        assert_eq!(
            servers[0].passive.ports(),
            Some(&PortSet::range(5001, 5001))
        );
    }

    #[test]
    fn miscased_service_key_is_not_read() {
        let src = source(
            "<configuration><MBProperty>\
             <IISFtpService Location=\"/LM/MSFTPSVC\" PassivePortRange=\"5001-5001\"/>\
             <IIsFtpServer Location=\"/LM/MSFTPSVC/1\" ServerBindings=\":21:\"/>\
             </MBProperty></configuration>",
        );
        let servers = facts(&parse(&src), &src);
        assert_eq!(servers.len(), 1);
        match &servers[0].passive {
            Passive::Enabled {
                ports, deliberate, ..
            } => {
                assert_eq!(*ports, PortSet::range(1025, 5000));
                assert!(!deliberate);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn invalid_range_is_unknown_with_the_reason() {
        let src = source(
            "<configuration><MBProperty>\
             <IIsFtpService Location=\"/LM/MSFTPSVC\" PassivePortRange=\"1024-2048\"/>\
             </MBProperty></configuration>",
        );
        let servers = facts(&parse(&src), &src);
        match &servers[0].passive {
            Passive::Unknown { reason, spans } => {
                assert!(reason.contains("5001-65535"), "{reason}");
                assert_eq!(slice(&src, spans[0]), "1024-2048");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn custom_child_properties_are_read() {
        let src = source(
            "<configuration><MBProperty>\
             <IIsFtpServer Location=\"/LM/MSFTPSVC/1\">\
             <Custom Name=\"PassivePortRange\" ID=\"5016\" Value=\"5001-5010\" Type=\"STRING\"/>\
             </IIsFtpServer></MBProperty></configuration>",
        );
        let doc = parse(&src);
        let site = doc.ftp_sites().next().unwrap();
        let p = site.property(PASSIVE_PORT_RANGE).unwrap();
        assert!(p.custom);
        assert_eq!(slice(&src, p.value_span), "5001-5010");
        assert_eq!(slice(&src, p.name_span), "PassivePortRange");
    }

    #[test]
    fn bom_and_utf16_keep_spans_on_the_decoded_text() {
        let mut utf8 = vec![0xEF, 0xBB, 0xBF];
        utf8.extend(TABBED.as_bytes());
        let mut utf16 = vec![0xFF, 0xFE];
        for u in TABBED.encode_utf16() {
            utf16.extend(u.to_le_bytes());
        }
        for bytes in [utf8, utf16] {
            let src = SourceFile::new(FileId(0), "MetaBase.xml", &bytes);
            let doc = parse(&src);
            assert!(doc.xml.is_well_formed());
            let range = doc
                .ftp_service()
                .unwrap()
                .property(PASSIVE_PORT_RANGE)
                .unwrap();
            assert_eq!(src.slice(range.value_span), "5001-5201");
            assert_eq!(src.line_col(range.value_span.start), (6, 21));
        }
    }

    #[test]
    fn entities_expand_only_predefined_ones() {
        let src = source(
            "<configuration><MBProperty>\
             <IIsFtpServer Location=\"/LM/MSFTPSVC/1\" ServerComment=\"a &amp; b\" Other=\"&xxe;\"/>\
             </MBProperty></configuration>",
        );
        let doc = parse(&src);
        let site = doc.ftp_sites().next().unwrap();
        assert_eq!(site.property("ServerComment").unwrap().value, "a & b");
        assert_eq!(doc.xml.errors.len(), 1);
        assert!(doc.xml.errors[0].message.contains("&xxe;"));
        assert_eq!(src.slice(doc.xml.errors[0].span), "&xxe;");
    }

    #[test]
    fn max_connections_values() {
        assert_eq!(max_connections("4294967295"), Some(None));
        assert_eq!(max_connections("-1"), Some(None));
        assert_eq!(max_connections("0"), Some(None));
        assert_eq!(max_connections("100000"), Some(Some(100000)));
        assert_eq!(max_connections("lots"), None);
    }

    fn fixture(name: &str, bytes: &[u8]) -> SourceFile {
        SourceFile::new(FileId(0), name, bytes)
    }

    #[test]
    fn full_metabase_in_utf8_crlf_and_utf16le_reads_the_same() {
        let utf8 = fixture(
            "MetaBase.xml",
            include_bytes!("../../fixtures/formats/iis/MetaBase.xml"),
        );
        let utf16 = fixture(
            "MetaBase-utf16le.xml",
            include_bytes!("../../fixtures/formats/iis/MetaBase-utf16le.xml"),
        );
        assert_eq!(utf16.encoding, crate::source::Encoding::Utf16Le);
        assert!(utf8.text.contains("\r\n"));
        let a = facts(&parse(&utf8), &utf8);
        let b = facts(&parse(&utf16), &utf16);
        assert_eq!(a, b);
        assert_eq!(a.len(), 2);
        let ports: Vec<Option<u16>> = a.iter().map(|s| s.control_port.value).collect();
        assert_eq!(ports, [Some(21), Some(2121)]);
        assert_eq!(slice(&utf16, a[1].control_port.span.unwrap()), "2121");
        assert_eq!(a[0].max_sessions.value, Some(Some(500)));
        assert_eq!(a[1].max_sessions.value, Some(None));
        let range = &a[0].passive;
        assert_eq!(range.ports(), Some(&PortSet::range(5001, 5201)));
        let Passive::Enabled { spans, .. } = range else {
            panic!("{range:?}")
        };
        assert_eq!(slice(&utf8, spans[0]), "5001-5201");
        assert_eq!(slice(&utf16, spans[0]), "5001-5201");
        let doc = parse(&utf8);
        assert!(doc.xml.is_well_formed());
        let partners = doc.ftp_sites().nth(1).unwrap();
        assert_eq!(
            partners.property("ServerComment").unwrap().value,
            "Partners & Suppliers"
        );
        assert_eq!(doc.keys.len(), 12);
    }

    #[test]
    fn bom_service_only_metabase_is_one_server() {
        let src = fixture(
            "MetaBase-bom-service-only.xml",
            include_bytes!("../../fixtures/formats/iis/MetaBase-bom-service-only.xml"),
        );
        assert_eq!(src.encoding, crate::source::Encoding::Utf8Bom);
        assert!(src.text.starts_with("<?xml"));
        let servers = facts(&parse(&src), &src);
        assert_eq!(servers.len(), 1);
        assert_eq!(
            servers[0].passive.ports(),
            Some(&PortSet::range(5001, 5001))
        );
        assert!(slice(&src, servers[0].anchor).starts_with("<IIsFtpService\tLocation ="));
    }

    #[test]
    fn sniffs_by_name_or_namespace_only() {
        let p = |s: &str| std::path::PathBuf::from(s);
        assert!(sniff(&p("inetsrv/metabase.xml"), ""));
        assert!(sniff(&p("inetsrv/MetaBase.XML"), "junk"));
        assert!(!sniff(
            &p("History/MetaBase_0000000012_0000000000.xml"),
            "\u{feff}<?xml version=\"1.0\"?>\r\n<configuration xmlns=\"urn:microsoft-catalog:XML_Metabase_V64_0\">"
        ));
        assert!(!sniff(&p("pom.xml"), "<?xml version=\"1.0\"?><project/>"));
        assert!(!sniff(
            &p("notes.txt"),
            "see XML_Metabase_V64_0 in the docs"
        ));
    }

    #[test]
    fn a_line_pasted_below_the_start_tag_is_stray_text() {
        let src = source(
            "<configuration><MBProperty>\r\n<IIsFtpService\tLocation =\"/LM/MSFTPSVC\"\r\n\t>\r\n\
             \tPassivePortRange=\"5001-5001\"\r\n</IIsFtpService>\r\n</MBProperty></configuration>",
        );
        let doc = parse(&src);
        let service = doc.ftp_service().unwrap();
        assert!(service.property(PASSIVE_PORT_RANGE).is_none());
        assert_eq!(service.stray.len(), 1);
        assert_eq!(service.stray[0].name, "PassivePortRange");
        assert_eq!(slice(&src, service.stray[0].value_span), "5001-5001");
        assert_eq!(slice(&src, service.stray[0].name_span), "PassivePortRange");
        let odd = source(
            "<configuration><MBProperty><IIsFtpService Location=\"/LM/MSFTPSVC\">\
             한PassivePortRange=\"1\" =\"x\" a= b=\"unclosed 값=\"2\"</IIsFtpService></MBProperty></configuration>",
        );
        let doc = parse(&odd);
        let names: Vec<&str> = doc.keys[0].stray.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["PassivePortRange", "b"]);
    }
}
