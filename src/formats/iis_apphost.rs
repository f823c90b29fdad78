//! IIS 7+ `applicationHost.config` (`%windir%\System32\inetsrv\config`): the
//! global FTP data channel range and each FTP site's binding, connection limit
//! and SSL policy.
//!
//! IIS's configuration system matches element and attribute names case
//! sensitively; only exact spellings are read here.

use super::iis::{self, RangeVerdict};
use super::iis_config_source::{self as config_source, ConfigSource};
use super::xml::{self, Attr, Element, XmlTree};
use crate::facts::{
    Active, ControlTls, Families, FtpServer, Located, Passive, RangeSetting, UserClass, UserKind,
};
use crate::source::{SourceFile, Span};
use std::path::Path;

pub const LOW_PORT: &str = "lowDataChannelPort";
pub const HIGH_PORT: &str = "highDataChannelPort";

/// A parsed `applicationHost.config`.
#[derive(Clone, Debug, Default)]
pub struct AppHost {
    pub xml: XmlTree,
    /// The global `<system.ftpServer><firewallSupport>` IIS reads the range from.
    pub data_channel: Option<DataChannel>,
    /// Further global `<firewallSupport>` sections (IIS reads one per level).
    pub duplicate_data_channels: Vec<DataChannel>,
    /// `lowDataChannelPort`/`highDataChannelPort` where IIS does not read them:
    /// on a site's `<ftpServer><firewallSupport>`, in `<siteDefaults>`, or in a
    /// `<location path="...">` other than the server level.
    pub misplaced_range: Vec<Misplaced>,
    pub sites: Vec<Site>,
    pub site_defaults: FtpSettings,
    /// Sections read from the file their `configSource` names, or not found.
    pub config_sources: Vec<ConfigSource>,
}

/// A data channel port attribute IIS does not read where it is written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Misplaced {
    pub attr: Attr,
    /// Where it is, for messages: `site "ftp"`, `<siteDefaults>`, `<location path="ftp">`.
    pub place: String,
}

/// `<firewallSupport lowDataChannelPort=".." highDataChannelPort=".."/>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataChannel {
    pub tag: Span,
    pub low: Option<Attr>,
    pub high: Option<Attr>,
    /// Index in [`AppHost::config_sources`] when the section is read from
    /// the file its `configSource` names (its spans are then that attribute's).
    pub config_source: Option<usize>,
    /// Attributes that misspell one of the two ends (`highDataChanelPort`),
    /// with the name meant.
    pub misspelled: Vec<(Attr, &'static str)>,
}

/// One `<site>` under `<system.applicationHost><sites>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Site {
    pub element: usize,
    pub name: Option<Attr>,
    pub tag: Span,
    /// Every `<binding>`, FTP or not.
    pub bindings: Vec<Binding>,
    pub ftp: FtpSettings,
}

/// `<binding protocol="ftp" bindingInformation="*:21:"/>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Binding {
    pub protocol: Option<Attr>,
    pub information: Option<Attr>,
}

impl Binding {
    pub fn is_ftp(&self) -> bool {
        self.protocol
            .as_ref()
            .is_some_and(|p| p.value.trim().eq_ignore_ascii_case("ftp"))
    }
}

impl Site {
    pub fn is_ftp(&self) -> bool {
        self.bindings.iter().any(Binding::is_ftp)
    }
}

/// The settings of one `<ftpServer>` element (a site's or `<siteDefaults>`').
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FtpSettings {
    pub max_connections: Option<Attr>,
    pub control_channel_policy: Option<Attr>,
    pub data_channel_policy: Option<Attr>,
    pub server_cert_hash: Option<Attr>,
    pub external_ip4: Option<Attr>,
    /// `<security><authentication><anonymousAuthentication enabled=".."/>`.
    pub anonymous_auth: Option<Attr>,
    /// `<security><authentication><basicAuthentication enabled=".."/>` (Windows accounts).
    pub basic_auth: Option<Attr>,
}

impl FtpSettings {
    /// Site values first, `<siteDefaults>` for what the site leaves unset.
    fn or(&self, defaults: &FtpSettings) -> FtpSettings {
        let pick = |a: &Option<Attr>, b: &Option<Attr>| a.clone().or_else(|| b.clone());
        FtpSettings {
            max_connections: pick(&self.max_connections, &defaults.max_connections),
            control_channel_policy: pick(
                &self.control_channel_policy,
                &defaults.control_channel_policy,
            ),
            data_channel_policy: pick(&self.data_channel_policy, &defaults.data_channel_policy),
            server_cert_hash: pick(&self.server_cert_hash, &defaults.server_cert_hash),
            external_ip4: pick(&self.external_ip4, &defaults.external_ip4),
            anonymous_auth: pick(&self.anonymous_auth, &defaults.anonymous_auth),
            basic_auth: pick(&self.basic_auth, &defaults.basic_auth),
        }
    }
}

/// `applicationHost.config` by name, or XML holding the IIS 7 sections.
pub fn sniff(path: &Path, text: &str) -> bool {
    let by_name = path
        .file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.eq_ignore_ascii_case("applicationHost.config"));
    by_name || {
        super::looks_like_xml(text) && {
            let head = super::head(text);
            head.contains("<system.applicationHost") || head.contains("<system.ftpServer")
        }
    }
}

/// The document of an `applicationHost.config` file.
pub fn apphost_of(file: &super::ParsedFile) -> Option<&AppHost> {
    match &file.doc {
        super::Document::IisApplicationHost(doc) => Some(doc),
        _ => None,
    }
}

/// Names IIS's configuration system reads for FTP, spelled as its schema
/// spells them (it matches names case sensitively).
pub const KNOWN_ELEMENTS: &[&str] = &[
    "configuration",
    "location",
    "system.applicationHost",
    "system.ftpServer",
    "sites",
    "site",
    "siteDefaults",
    "bindings",
    "binding",
    "ftpServer",
    "security",
    "ssl",
    "connections",
    "firewallSupport",
    "authentication",
    "anonymousAuthentication",
    "basicAuthentication",
];

/// Attributes of the elements above that matter for passive FTP.
pub const KNOWN_ATTRIBUTES: &[&str] = &[
    "path",
    "name",
    "id",
    "protocol",
    "bindingInformation",
    "maxConnections",
    "controlChannelPolicy",
    "dataChannelPolicy",
    "serverCertHash",
    "serverCertStoreName",
    "externalIp4Address",
    "enabled",
    LOW_PORT,
    HIGH_PORT,
];

pub fn parse(source: &SourceFile) -> AppHost {
    let xml = xml::read(source);
    let mut doc = AppHost::default();
    if xml.root().is_some_and(|r| r.name == "configuration") {
        read_levels(source, &xml, &mut doc);
    }
    doc.xml = xml;
    doc
}

/// Where the configuration system reads the section at `index` from: the
/// index of the record in `doc.config_sources` when the element names a
/// `configSource` file (its tree, when read, holds the section as its root), or
/// `None` for the element as written.
fn followed(source: &SourceFile, xml: &XmlTree, index: usize, doc: &mut AppHost) -> Option<usize> {
    let followed = config_source::follow(source, xml.elements.get(index)?)?;
    doc.config_sources.push(followed);
    Some(doc.config_sources.len() - 1)
}

/// The server level is the root plus every `<location path="">` (or `"."`);
/// other locations are per-site paths.
fn read_levels(source: &SourceFile, xml: &XmlTree, doc: &mut AppHost) {
    let mut levels = vec![(0usize, true)];
    let mut places = vec![String::new()];
    for (i, l) in xml.children_named(0, "location") {
        let path = l.attr("path").map_or("", |p| p.value.trim());
        levels.push((i, path.is_empty() || path == "." || path == "/"));
        places.push(format!("<location path=\"{path}\">"));
    }
    for ((level, server_level), place) in levels.into_iter().zip(places) {
        for (ftp, _) in xml.children_named(level, "system.ftpServer") {
            for (i, fw) in xml.children_named(ftp, "firewallSupport") {
                let channel = followed_channel(source, xml, i, fw, doc);
                if !server_level {
                    doc.misplaced_range.extend(misplaced(channel, &place));
                } else if doc.data_channel.is_none() {
                    doc.data_channel = Some(channel);
                } else {
                    doc.duplicate_data_channels.push(channel);
                }
            }
        }
        if server_level {
            for (app, _) in xml.children_named(level, "system.applicationHost") {
                for (sites, _) in xml.children_named(app, "sites") {
                    followed_sites(source, xml, sites, doc);
                }
            }
        }
    }
}

fn misplaced(channel: DataChannel, place: &str) -> impl Iterator<Item = Misplaced> + '_ {
    channel
        .low
        .into_iter()
        .chain(channel.high)
        .map(move |attr| Misplaced {
            attr,
            place: place.to_owned(),
        })
}

fn data_channel(fw: &Element) -> DataChannel {
    DataChannel {
        tag: fw.tag,
        low: fw.attr(LOW_PORT).cloned(),
        high: fw.attr(HIGH_PORT).cloned(),
        config_source: None,
        misspelled: fw
            .attrs
            .iter()
            .filter_map(|a| {
                Some((
                    a.clone(),
                    super::iis_misspelled::meant(&a.name, &[LOW_PORT, HIGH_PORT])?,
                ))
            })
            .filter(|(_, meant)| fw.attr(meant).is_none())
            .collect(),
    }
}

/// `<firewallSupport>` as read, from its `configSource` file when it names one
/// (no ends when that file is not read).
fn followed_channel(
    source: &SourceFile,
    xml: &XmlTree,
    index: usize,
    fw: &Element,
    doc: &mut AppHost,
) -> DataChannel {
    let Some(record) = followed(source, xml, index, doc) else {
        return data_channel(fw);
    };
    let read = doc.config_sources[record].tree().and_then(|t| t.root());
    DataChannel {
        tag: fw.tag,
        config_source: Some(record),
        ..read.map_or(
            DataChannel {
                low: None,
                high: None,
                ..data_channel(fw)
            },
            data_channel,
        )
    }
}

/// `<sites>` as read, from its `configSource` file when it names one.
fn followed_sites(source: &SourceFile, xml: &XmlTree, index: usize, doc: &mut AppHost) {
    match followed(source, xml, index, doc) {
        None => read_sites(xml, index, doc),
        Some(record) => {
            if let Some(tree) = doc.config_sources[record].tree().cloned() {
                read_sites(&tree, 0, doc);
            }
        }
    }
}

fn read_sites(xml: &XmlTree, sites: usize, doc: &mut AppHost) {
    for (i, _) in xml.children_named(sites, "siteDefaults") {
        doc.site_defaults = ftp_settings(xml, i, "<siteDefaults>", &mut doc.misplaced_range);
    }
    for (i, site) in xml.children_named(sites, "site") {
        let bindings = xml
            .descend(i, &["bindings"])
            .map(|(b, _)| {
                xml.children_named(b, "binding")
                    .map(|(_, e)| Binding {
                        protocol: e.attr("protocol").cloned(),
                        information: e.attr("bindingInformation").cloned(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        let name = site.attr("name").map_or("", |n| n.value.as_str());
        let place = format!("site \"{name}\"");
        let ftp = ftp_settings(xml, i, &place, &mut doc.misplaced_range);
        doc.sites.push(Site {
            element: i,
            name: site.attr("name").cloned(),
            tag: site.tag,
            bindings,
            ftp,
        });
    }
}

const AUTHENTICATION_ANONYMOUS: &[&str] =
    &["security", "authentication", "anonymousAuthentication"];
const AUTHENTICATION_BASIC: &[&str] = &["security", "authentication", "basicAuthentication"];

/// Reads `<ftpServer>` under `owner` (a `<site>` or `<siteDefaults>`).
fn ftp_settings(xml: &XmlTree, owner: usize, place: &str, out: &mut Vec<Misplaced>) -> FtpSettings {
    let Some((ftp, _)) = xml.descend(owner, &["ftpServer"]) else {
        return FtpSettings::default();
    };
    let attr = |path: &[&str], name: &str| {
        xml.descend(ftp, path)
            .and_then(|(_, e)| e.attr(name).cloned())
    };
    if let Some((_, fw)) = xml.descend(ftp, &["firewallSupport"]) {
        out.extend(misplaced(data_channel(fw), place));
    }
    FtpSettings {
        max_connections: attr(&["connections"], "maxConnections"),
        control_channel_policy: attr(&["security", "ssl"], "controlChannelPolicy"),
        data_channel_policy: attr(&["security", "ssl"], "dataChannelPolicy"),
        server_cert_hash: attr(&["security", "ssl"], "serverCertHash"),
        external_ip4: attr(&["firewallSupport"], "externalIp4Address"),
        anonymous_auth: attr(AUTHENTICATION_ANONYMOUS, "enabled"),
        basic_auth: attr(AUTHENTICATION_BASIC, "enabled"),
    }
}

/// The data channel range IIS hands out, from the global `<firewallSupport>`.
pub fn passive_verdict(doc: &AppHost) -> RangeVerdict {
    let channel = doc.data_channel.as_ref();
    iis::iis7_passive_range_text(
        channel
            .and_then(|c| c.low.as_ref())
            .map(|a| a.value.as_str()),
        channel
            .and_then(|c| c.high.as_ref())
            .map(|a| a.value.as_str()),
    )
}

/// The spans behind the range: the low and high attribute values that exist
/// (the `configSource` value once, for a section read from its file).
pub fn passive_spans(doc: &AppHost) -> Vec<Span> {
    let mut spans: Vec<Span> = doc
        .data_channel
        .iter()
        .flat_map(|c| [&c.low, &c.high])
        .flatten()
        .map(|a| a.value_span)
        .collect();
    spans.dedup();
    spans
}

/// The `configSource` record the server-level `<firewallSupport>` is read from.
pub fn channel_source(doc: &AppHost) -> Option<&ConfigSource> {
    let at = doc.data_channel.as_ref()?.config_source?;
    doc.config_sources.get(at)
}

/// `controlChannelPolicy`: `SslAllow`(0), `SslRequire`(1), `SslRequireCredentialsOnly`(2).
pub fn control_policy_tls(value: &str) -> Option<ControlTls> {
    let v = value.trim();
    if v.eq_ignore_ascii_case("SslAllow") || v == "0" {
        Some(ControlTls::Optional)
    } else if v.eq_ignore_ascii_case("SslRequire")
        || v.eq_ignore_ascii_case("SslRequireCredentialsOnly")
        || v == "1"
        || v == "2"
    {
        Some(ControlTls::Required)
    } else {
        None
    }
}

/// Whether a control connection can use TLS: never without `serverCertHash`
/// (IIS has no certificate to offer); else as the policy says (default SslRequire).
fn tls(settings: &FtpSettings) -> Located<ControlTls> {
    let cert = settings
        .server_cert_hash
        .as_ref()
        .filter(|c| !c.value.trim().is_empty());
    let policy = settings.control_channel_policy.as_ref();
    let policy_span = policy.map(|p| p.value_span);
    if cert.is_none() {
        return Located::new(ControlTls::Never, policy_span);
    }
    match policy {
        None => Located::new(ControlTls::Required, cert.map(|c| c.value_span)),
        // An unrecognised policy: assume clients may choose TLS.
        Some(p) => Located::new(
            control_policy_tls(&p.value).unwrap_or(ControlTls::Optional),
            policy_span,
        ),
    }
}

/// `maxConnections`: a uint, 4294967295 (the default) meaning unlimited.
pub fn max_connections(value: &str) -> Option<Option<u32>> {
    match value.trim().parse::<u32>().ok()? {
        u32::MAX => Some(None),
        n => Some(Some(n)),
    }
}

pub fn facts(doc: &AppHost, source: &SourceFile) -> Vec<FtpServer> {
    let passive = passive(doc);
    let setting = range_setting(doc, &passive);
    doc.sites
        .iter()
        .filter(|s| s.is_ftp())
        .flat_map(|site| {
            control_ports(source, site)
                .into_iter()
                .map(|port| server(source, site, &doc.site_defaults, port, (&passive, &setting)))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The control port of each FTP binding of a site, each port once, in binding
/// order: IIS listens on every binding (`*:21:` and `*:2121:`), so each is a
/// server to check. A site whose bindings name no port listens on an unknown one.
fn control_ports(source: &SourceFile, site: &Site) -> Vec<Located<Option<u16>>> {
    let mut out: Vec<Located<Option<u16>>> = Vec::new();
    for info in site
        .bindings
        .iter()
        .filter(|b| b.is_ftp())
        .filter_map(|b| b.information.as_ref())
    {
        let (port, range) = iis::binding_port(&info.value);
        if !out.iter().any(|p| p.value == port) {
            out.push(Located::new(port, Some(sub_span(source, info, range))));
        }
    }
    if out.is_empty() {
        out.push(Located::new(None, Some(site.tag)));
    }
    out
}

/// `lowDataChannelPort` and `highDataChannelPort`, when both are set and IIS
/// takes them.
fn range_setting(doc: &AppHost, passive: &Passive) -> Option<RangeSetting> {
    let channel = doc.data_channel.as_ref()?;
    // A range read from another file cannot be edited here.
    if channel.config_source.is_some() {
        return None;
    }
    let (low, high) = (channel.low.as_ref()?, channel.high.as_ref()?);
    matches!(
        passive,
        Passive::Enabled {
            deliberate: true,
            ..
        }
    )
    .then(|| RangeSetting::ends(low.value_span, high.value_span))
}

fn passive(doc: &AppHost) -> Passive {
    let spans = passive_spans(doc);
    if let Some(followed) = channel_source(doc) {
        if let Some(reason) = followed.unknown_reason() {
            return Passive::Unknown {
                spans: vec![followed.attr.value_span],
                reason,
            };
        }
    }
    if !doc.xml.is_well_formed() {
        return Passive::Unknown {
            spans,
            reason: "applicationHost.config is not well-formed XML, so IIS will not load it"
                .to_owned(),
        };
    }
    if !doc.duplicate_data_channels.is_empty() {
        return Passive::Unknown {
            spans,
            reason: "<firewallSupport> is set twice at the server level, and IIS refuses a duplicate section".to_owned(),
        };
    }
    match passive_verdict(doc) {
        RangeVerdict::Ports { ports, deliberate } => Passive::Enabled {
            ports,
            deliberate,
            spans,
        },
        RangeVerdict::Invalid(reason) => Passive::Unknown { spans, reason },
    }
}

/// The site as a server listening on `control_port`.
fn server(
    source: &SourceFile,
    site: &Site,
    defaults: &FtpSettings,
    control_port: Located<Option<u16>>,
    (passive, setting): (&Passive, &Option<RangeSetting>),
) -> FtpServer {
    let settings = site.ftp.or(defaults);
    let max_sessions = match &settings.max_connections {
        Some(a) => Located::new(max_connections(&a.value), Some(a.value_span)),
        None => Located::default_value(Some(None)),
    };
    let tls = tls(&settings);
    let user_classes = user_classes(&settings, &tls);
    FtpServer {
        file: source.id,
        server: iis::IisVersion::Iis7.server_name(),
        families: families(site, control_port.value),
        control_port,
        passive: passive.clone(),
        max_sessions,
        tls,
        user_classes,
        // IIS active mode is not modelled yet.
        active: Active::Unknown,
        passive_address: settings.external_ip4.as_ref().map_or_else(
            || Located::default_value(None),
            |a| Located::new(Some(a.value.clone()), Some(a.value_span)),
        ),
        listen_address: crate::facts::Located::default_value(None),
        falls_back_outside_range: false,
        range_setting: setting.clone(),
        anchor: site.tag,
        container: None,
    }
}

/// The union of the families of the site's FTP bindings on `port` (all of
/// them when the port is unknown); unknown when one of them is.
fn families(site: &Site, port: Option<u16>) -> Located<Option<Families>> {
    let infos: Vec<&Attr> = site
        .bindings
        .iter()
        .filter(|b| b.is_ftp())
        .filter_map(|b| b.information.as_ref())
        .filter(|i| port.is_none() || iis::binding_port(&i.value).0 == port)
        .collect();
    let each: Option<Vec<Families>> = infos
        .iter()
        .map(|i| iis::binding_families(&i.value))
        .collect();
    let value = each.and_then(|f| f.into_iter().reduce(Families::union));
    Located::new(value, infos.first().map(|i| i.value_span))
}

/// Anonymous and Basic authentication (both `enabled="false"` by default, per
/// the `<anonymousAuthentication>` and `<basicAuthentication>` references),
/// each under the site's one control channel policy. Custom providers (IIS
/// Manager, ASP.NET membership) are not modelled.
fn user_classes(settings: &FtpSettings, tls: &Located<ControlTls>) -> Vec<UserClass> {
    [
        (UserKind::Anonymous, &settings.anonymous_auth),
        (UserKind::Local, &settings.basic_auth),
    ]
    .into_iter()
    .filter_map(|(kind, enabled)| {
        let enabled = enabled.as_ref().filter(|a| is_true(&a.value))?;
        let spans = std::iter::once(enabled.value_span)
            .chain(tls.span)
            .collect();
        Some(UserClass {
            kind,
            tls: tls.value,
            spans,
        })
    })
    .collect()
}

fn is_true(value: &str) -> bool {
    value.trim().eq_ignore_ascii_case("true")
}

/// The span of `range` (offsets in the attribute's value) when the raw text
/// equals the value; the whole value otherwise (entity references).
fn sub_span(source: &SourceFile, attr: &Attr, range: Option<std::ops::Range<usize>>) -> Span {
    let raw = source.slice(attr.value_span);
    match range {
        Some(r) if raw == attr.value => {
            let base = attr.value_span.start as usize;
            source.span(base + r.start, base + r.end)
        }
        _ => attr.value_span,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::portset::PortSet;
    use crate::source::FileId;

    fn source(text: &str) -> SourceFile {
        SourceFile::new(FileId(0), "applicationHost.config", text.as_bytes())
    }

    const CONFIG: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<configuration>
  <configSections>
    <sectionGroup name="system.ftpServer">
      <section name="firewallSupport" overrideModeDefault="Deny" />
    </sectionGroup>
  </configSections>
  <system.applicationHost>
    <sites>
      <site name="Default Web Site" id="1">
        <bindings>
          <binding protocol="http" bindingInformation="*:80:" />
        </bindings>
      </site>
      <site name="Public FTP" id="2">
        <bindings>
          <binding protocol="ftp" bindingInformation="*:2121:" />
        </bindings>
        <ftpServer>
          <security>
            <ssl serverCertHash="57686F6120447564652C2049495320526F636B73" controlChannelPolicy="SslAllow" dataChannelPolicy="SslAllow" />
          </security>
          <connections maxConnections="250" />
          <firewallSupport externalIp4Address="203.0.113.10" />
        </ftpServer>
      </site>
      <site name="Internal FTP" id="3">
        <bindings>
          <binding protocol="ftp" bindingInformation="10.0.0.5:21:" />
        </bindings>
      </site>
      <siteDefaults>
        <ftpServer>
          <security>
            <ssl controlChannelPolicy="SslRequire" />
          </security>
        </ftpServer>
      </siteDefaults>
    </sites>
  </system.applicationHost>
  <system.ftpServer>
    <firewallSupport lowDataChannelPort="5000" highDataChannelPort="5100" />
  </system.ftpServer>
</configuration>
"#;

    #[test]
    fn reads_ftp_sites_only() {
        let src = source(CONFIG);
        let doc = parse(&src);
        assert!(doc.xml.is_well_formed(), "{:?}", doc.xml.errors);
        assert_eq!(doc.sites.len(), 2 + 1);
        let servers = facts(&doc, &src);
        assert_eq!(servers.len(), 2);
        let public = &servers[0];
        assert_eq!(public.server, "iis7");
        assert_eq!(public.control_port.value, Some(2121));
        assert_eq!(src.slice(public.control_port.span.unwrap()), "2121");
        assert_eq!(public.max_sessions.value, Some(Some(250)));
        assert_eq!(public.tls.value, ControlTls::Optional);
        assert!(
            src.slice(public.anchor)
                .starts_with("<site name=\"Public FTP\"")
        );
        let internal = &servers[1];
        assert_eq!(internal.control_port.value, Some(21));
        assert_eq!(internal.max_sessions.value, Some(None));
        // No certificate anywhere for this site: SSL cannot happen.
        assert_eq!(internal.tls.value, ControlTls::Never);
        assert_eq!(
            doc.site_defaults
                .control_channel_policy
                .as_ref()
                .unwrap()
                .value,
            "SslRequire"
        );
        assert_eq!(
            doc.sites[1].ftp.external_ip4.as_ref().unwrap().value,
            "203.0.113.10"
        );
    }

    #[test]
    fn range_spans_point_at_the_values() {
        let src = source(CONFIG);
        let doc = parse(&src);
        let spans = passive_spans(&doc);
        let texts: Vec<&str> = spans.iter().map(|s| src.slice(*s)).collect();
        assert_eq!(texts, ["5000", "5100"]);
        let servers = facts(&doc, &src);
        assert_eq!(
            servers[0].passive.ports(),
            Some(&PortSet::range(5000, 5100))
        );
    }

    #[test]
    fn zero_zero_is_the_dynamic_range_not_deliberate() {
        let src = source(&CONFIG.replace(
            "lowDataChannelPort=\"5000\" highDataChannelPort=\"5100\"",
            "lowDataChannelPort=\"0\" highDataChannelPort=\"0\"",
        ));
        let servers = facts(&parse(&src), &src);
        match &servers[0].passive {
            Passive::Enabled {
                ports, deliberate, ..
            } => {
                assert_eq!(*ports, PortSet::range(49152, 65535));
                assert!(!deliberate);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn location_path_empty_counts_as_global() {
        let src = source(
            r#"<configuration>
<system.applicationHost><sites><site name="f"><bindings><binding protocol="ftp" bindingInformation=":21:"/></bindings></site></sites></system.applicationHost>
<location path="" overrideMode="Allow"><system.ftpServer><firewallSupport lowDataChannelPort="60000" highDataChannelPort="60010"/></system.ftpServer></location>
<location path="f"><system.ftpServer><firewallSupport lowDataChannelPort="7000" highDataChannelPort="7010"/></system.ftpServer></location>
</configuration>"#,
        );
        let doc = parse(&src);
        let servers = facts(&doc, &src);
        assert_eq!(
            servers[0].passive.ports(),
            Some(&PortSet::range(60000, 60010))
        );
        assert_eq!(doc.misplaced_range.len(), 2);
        assert_eq!(src.slice(doc.misplaced_range[0].attr.value_span), "7000");
        assert_eq!(doc.misplaced_range[0].place, "<location path=\"f\">");
    }

    #[test]
    fn ssl_policies_by_name_and_number() {
        assert_eq!(control_policy_tls("SslAllow"), Some(ControlTls::Optional));
        assert_eq!(control_policy_tls("0"), Some(ControlTls::Optional));
        assert_eq!(control_policy_tls("1"), Some(ControlTls::Required));
        assert_eq!(
            control_policy_tls("SslRequireCredentialsOnly"),
            Some(ControlTls::Required)
        );
        assert_eq!(control_policy_tls("sslrequire"), Some(ControlTls::Required));
        assert_eq!(control_policy_tls("maybe"), None);
    }

    #[test]
    fn default_policy_with_a_certificate_is_required() {
        let src = source(&CONFIG.replace("controlChannelPolicy=\"SslAllow\" ", ""));
        let servers = facts(&parse(&src), &src);
        // siteDefaults says SslRequire; the site sets only the certificate.
        assert_eq!(servers[0].tls.value, ControlTls::Required);
    }

    #[test]
    fn every_ftp_binding_is_a_control_port() {
        let src = source(&CONFIG.replace(
            "<binding protocol=\"ftp\" bindingInformation=\"*:2121:\" />",
            "<binding protocol=\"ftp\" bindingInformation=\"*:21:\" />\
             <binding protocol=\"ftp\" bindingInformation=\"[::]:2121:\" />\
             <binding protocol=\"ftp\" bindingInformation=\"10.0.0.9:21:\" />",
        ));
        let servers = facts(&parse(&src), &src);
        let seen: Vec<(Option<u16>, Option<Families>)> = servers
            .iter()
            .map(|s| (s.control_port.value, s.families.value))
            .collect();
        assert_eq!(
            seen,
            [
                (Some(21), Some(Families::Both)),
                (Some(2121), Some(Families::Ipv6)),
                (Some(21), Some(Families::Ipv4)),
            ]
        );
        assert_eq!(src.slice(servers[1].control_port.span.unwrap()), "2121");
    }

    #[test]
    fn families_and_classes_follow_bindings_and_authentication() {
        let src = SourceFile::new(
            FileId(0),
            "applicationHost.config",
            include_bytes!("../../fixtures/formats/iis/applicationHost.config"),
        );
        let servers = facts(&parse(&src), &src);
        let families: Vec<Option<Families>> = servers.iter().map(|s| s.families.value).collect();
        assert_eq!(
            families,
            [
                Some(Families::Ipv4),
                Some(Families::Both),
                Some(Families::Both)
            ]
        );
        let classes: Vec<Vec<(UserKind, ControlTls)>> = servers
            .iter()
            .map(|s| s.user_classes.iter().map(|c| (c.kind, c.tls)).collect())
            .collect();
        assert_eq!(
            classes,
            [
                vec![(UserKind::Local, ControlTls::Required)],
                vec![],
                vec![]
            ]
        );
        assert_eq!(
            src.slice(servers[0].families.span.unwrap()),
            "203.0.113.20:21:"
        );
    }

    #[test]
    fn site_defaults_enable_anonymous_for_every_site() {
        let src = source(&CONFIG.replace(
            "<ssl controlChannelPolicy=\"SslRequire\" />",
            "<ssl controlChannelPolicy=\"SslRequire\" /><authentication><anonymousAuthentication enabled=\"true\" /></authentication>",
        ));
        let servers = facts(&parse(&src), &src);
        let kinds: Vec<(UserKind, ControlTls)> = servers
            .iter()
            .flat_map(|s| s.user_classes.iter().map(|c| (c.kind, c.tls)))
            .collect();
        assert_eq!(
            kinds,
            [
                (UserKind::Anonymous, ControlTls::Optional),
                (UserKind::Anonymous, ControlTls::Never),
            ]
        );
    }

    #[test]
    fn max_connection_values() {
        assert_eq!(max_connections("4294967295"), Some(None));
        assert_eq!(max_connections("10"), Some(Some(10)));
        assert_eq!(max_connections("-1"), None);
    }

    #[test]
    fn full_applicationhost_config() {
        let src = SourceFile::new(
            FileId(0),
            "applicationHost.config",
            include_bytes!("../../fixtures/formats/iis/applicationHost.config"),
        );
        let doc = parse(&src);
        assert!(doc.xml.is_well_formed(), "{:?}", doc.xml.errors);
        let servers = facts(&doc, &src);
        let summary: Vec<(Option<u16>, Option<Option<u32>>, ControlTls)> = servers
            .iter()
            .map(|s| (s.control_port.value, s.max_sessions.value, s.tls.value))
            .collect();
        assert_eq!(
            summary,
            [
                (Some(21), Some(Some(200)), ControlTls::Required),
                (Some(2121), Some(Some(1000)), ControlTls::Required),
                (Some(21), Some(Some(1000)), ControlTls::Never),
            ]
        );
        let texts: Vec<&str> = passive_spans(&doc).iter().map(|s| src.slice(*s)).collect();
        assert_eq!(texts, ["50000", "50399"]);
        assert_eq!(
            servers[0].passive.ports(),
            Some(&PortSet::range(50000, 50399))
        );
    }

    #[test]
    fn zero_zero_in_location_path_empty() {
        let src = SourceFile::new(
            FileId(0),
            "applicationHost.config",
            include_bytes!("../../fixtures/formats/iis/zero-zero/applicationHost.config"),
        );
        let doc = parse(&src);
        let servers = facts(&doc, &src);
        assert_eq!(servers.len(), 3);
        let Passive::Enabled {
            ports,
            deliberate,
            spans,
        } = &servers[0].passive
        else {
            panic!("{:?}", servers[0].passive)
        };
        assert_eq!(*ports, PortSet::range(49152, 65535));
        assert!(!deliberate);
        let texts: Vec<&str> = spans.iter().map(|s| src.slice(*s)).collect();
        assert_eq!(texts, ["0", "0"]);
    }

    #[test]
    fn sniffs_by_name_or_sections() {
        let p = |s: &str| std::path::PathBuf::from(s);
        assert!(sniff(&p("config/applicationhost.config"), ""));
        assert!(sniff(
            &p("backup/apphost-2024.config"),
            "<?xml version=\"1.0\"?>\n<configuration>\n<system.applicationHost>"
        ));
        assert!(!sniff(
            &p("web.config"),
            "<configuration><system.webServer/></configuration>"
        ));
        assert!(!sniff(
            &p("vsftpd.conf"),
            "# <system.ftpServer> is IIS\nlisten=YES"
        ));
    }
}
