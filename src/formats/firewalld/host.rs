//! One host's firewalld: its zone, service and `firewalld.conf` files read
//! together as firewalld 1.3 loads them. Zones and services under
//! `usr/lib/firewalld` stand in for the shipped ones, those under
//! `etc/firewalld` override them by name. A fatal problem in any file makes
//! firewalld load its stock configuration instead (measured: "Failed to load user
//! configuration. Falling back to full stock configuration."): the shipped zones
//! with the default zone `public`.

use super::lower::Config;
use super::zone::{Problem, Service};
use super::{Kind, shipped};
use crate::formats::iptables::{self, Ruleset};
use crate::formats::{Document, Format, ParsedFile};
use crate::source::{SourceFile, Span};
use std::path::{Path, PathBuf};

/// The host folder above `etc/firewalld` (or `usr/lib/firewalld`), and whether
/// the file is a shipped definition.
fn host_of(path: &Path) -> (PathBuf, bool) {
    let Some(fw) = path
        .ancestors()
        .find(|a| a.file_name().is_some_and(|n| n == "firewalld"))
    else {
        return (
            path.parent().map(Path::to_path_buf).unwrap_or_default(),
            false,
        );
    };
    let above = fw.parent().unwrap_or(Path::new(""));
    if above.ends_with("usr/lib") {
        let root = above
            .parent()
            .and_then(Path::parent)
            .unwrap_or(Path::new(""));
        return (root.to_path_buf(), true);
    }
    let root = if above.ends_with("etc") {
        above.parent().unwrap_or(Path::new(""))
    } else {
        above
    };
    (root.to_path_buf(), false)
}

fn kind(part: &ParsedFile) -> Option<Kind> {
    match part.format {
        Format::FirewalldZone => Some(Kind::Zone),
        Format::FirewalldService => Some(Kind::Service),
        Format::FirewalldConf => Some(Kind::Conf),
        _ => None,
    }
}

/// Group a run's firewalld files by host; each group's primary is its
/// `firewalld.conf`, else its default zone's file, else its first file.
pub fn assemble(parts: Vec<ParsedFile>) -> Vec<(PathBuf, Vec<ParsedFile>)> {
    let mut groups: Vec<(PathBuf, Vec<ParsedFile>)> = Vec::new();
    for part in parts {
        let key = host_of(&part.source.path).0;
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, g)) => g.push(part),
            None => groups.push((key, vec![part])),
        }
    }
    for (_, g) in &mut groups {
        let default = default_zone(g).0;
        let rank = |p: &ParsedFile| match kind(p) {
            Some(Kind::Conf) => 0,
            Some(Kind::Zone) if zone_name(p) == default && !host_of(&p.source.path).1 => 1,
            _ => 2,
        };
        g.sort_by(|a, b| {
            rank(a)
                .cmp(&rank(b))
                .then(a.source.path.cmp(&b.source.path))
        });
    }
    groups
}

fn zone_name(p: &ParsedFile) -> String {
    p.source
        .path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// `DefaultZone=` of the group's firewalld.conf (firewalld's default: public).
fn default_zone(parts: &[ParsedFile]) -> (String, Option<Span>) {
    parts
        .iter()
        .find_map(|p| match &p.doc {
            Document::FirewalldConf(c) => c
                .get("DefaultZone")
                .map(|s| (s.value.clone(), Some(s.value_span))),
            _ => None,
        })
        .unwrap_or(("public".to_owned(), None))
}

/// What one host's firewalld loads.
#[derive(Debug)]
pub struct FirewalldHost {
    /// The configuration in effect (the stock one after a fatal problem).
    pub config: Config,
    /// The user's configuration as written (zones and services of `etc/firewalld`
    /// over the shipped ones), whatever firewalld makes of it.
    pub written: Config,
    /// Problems only the files together show (a service no file defines).
    pub problems: Vec<Problem>,
    /// The first fatal problem of any file: firewalld ignores the user configuration.
    pub fell_back: Option<Span>,
    pub ruleset: Ruleset,
}

pub fn load(parts: &[ParsedFile]) -> FirewalldHost {
    let primary = &parts[0].source;
    let anchor = primary.span(0, 0);
    let (default, default_span) = default_zone(parts);
    let mut zones = shipped::zones(anchor);
    let mut services: Vec<Service> = Vec::new();
    // Shipped files first, so that etc/ overrides them.
    let mut ordered: Vec<&ParsedFile> = parts.iter().collect();
    ordered.sort_by_key(|p| !host_of(&p.source.path).1);
    let mut fatal = None;
    for p in ordered {
        match &p.doc {
            Document::FirewalldZone(z) => {
                fatal = fatal.or(z.problems.iter().find(|q| q.fatal).map(|q| q.span));
                zones.retain(|o| o.name != z.name);
                zones.push((**z).clone());
            }
            Document::FirewalldService(s) => {
                fatal = fatal.or(s.problems.iter().find(|q| q.fatal).map(|q| q.span));
                services.retain(|o| o.name != s.name);
                services.push(s.clone());
            }
            _ => {}
        }
    }
    let written = Config {
        zones,
        services,
        default_zone: default.clone(),
        default_span: default_span.unwrap_or(anchor),
        anchor,
    };
    let problems = cross_problems(&written, default_span);
    let mut written = written;
    if written.zone(&written.default_zone).is_none() {
        written.default_zone = "public".into();
    }
    let fell_back = fatal.or(problems.iter().find(|p| p.fatal).map(|p| p.span));
    let config = match fell_back {
        None => written.clone(),
        Some(_) => Config {
            zones: shipped::zones(anchor),
            services: Vec::new(),
            default_zone: if shipped::is_zone(&default) {
                default
            } else {
                "public".into()
            },
            default_span: default_span.unwrap_or(anchor),
            anchor,
        },
    };
    let ruleset = ruleset(&config, primary);
    FirewalldHost {
        config,
        written,
        problems,
        fell_back,
        ruleset,
    }
}

/// The lowered rules of both families.
pub fn ruleset(config: &Config, primary: &SourceFile) -> Ruleset {
    let mut rs = Ruleset::new(Format::FirewalldConf, crate::addrset::Family::V4);
    for family in [crate::addrset::Family::V4, crate::addrset::Family::V6] {
        iptables::restore_lines(&mut rs, primary, &config.lines(family), family);
    }
    rs
}

/// Services no file or shipped definition defines (`INVALID_SERVICE`, fatal,
/// measured), and a default zone that does not exist.
fn cross_problems(config: &Config, default_span: Option<Span>) -> Vec<Problem> {
    let mut out = Vec::new();
    for z in &config.zones {
        for s in &z.services {
            if config.service(&s.name).is_none() {
                out.push(Problem {
                    span: s.value_span,
                    message: format!(
                        "INVALID_SERVICE: Zone '{}': '{}' not among existing services",
                        z.name, s.name
                    ),
                    fatal: true,
                });
            }
        }
        for r in &z.rules {
            if let super::zone::What::Service(s) = &r.what
                && config.service(&s.name).is_none()
            {
                out.push(Problem {
                    span: s.value_span,
                    message: format!(
                        "INVALID_SERVICE: '{}' not among existing services: firewalld drops this rich rule and loads the rest of the zone without it",
                        s.name
                    ),
                    fatal: false,
                });
            }
        }
    }
    if let Some(span) = default_span
        && config.zone(&config.default_zone).is_none()
    {
        out.push(Problem {
            span,
            message: format!(
                "DefaultZone={} names no zone: firewalld logs \"Default zone '{}' is not valid. Using 'public'.\" and sends every packet no source or interface binds through zone public",
                config.default_zone, config.default_zone
            ),
            fatal: false,
        });
    }
    out
}

/// The host's firewall facts; lines firewalld builds in have no span of their own.
pub fn facts(host: &FirewalldHost, primary: &SourceFile) -> crate::facts::FileFacts {
    let mut facts = iptables::generated_facts(
        &host.ruleset,
        primary,
        crate::facts::Dialect::Firewalld,
        |_| true,
    );
    let texts = port_texts(&host.config);
    for fw in [&mut facts.firewall, &mut facts.firewall_v6]
        .into_iter()
        .flatten()
    {
        crate::filter::eval::attach_port_texts(fw, &texts);
    }
    facts
}

/// A zone's `<port port="lo-hi" protocol="tcp"/>` elements, each the rule it lowers to.
fn port_texts(config: &Config) -> Vec<crate::facts::PortText> {
    let ports = config.zones.iter().flat_map(|z| z.ports.iter());
    ports
        .filter(|p| p.protocol == "tcp")
        .filter_map(|p| {
            Some(crate::facts::PortText {
                rule: p.span,
                syntax: crate::facts::PortSyntax::Dash,
                value: p.value?,
                second: None,
                line: None,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats;
    use crate::source::FileId;

    fn part(id: u32, path: &str, text: &str) -> ParsedFile {
        let source = SourceFile::new(FileId(id), path, text.as_bytes());
        let format = formats::classify(Path::new(path), text).expect("a firewalld file");
        formats::parse(source, format)
    }

    fn open(parts: Vec<ParsedFile>) -> (String, Option<Span>) {
        let host = load(&parts);
        let (v4, _) = iptables::facts(&host.ruleset, &parts[0].source);
        (v4.expect("IPv4").open_to_all.to_string(), host.fell_back)
    }

    const PUBLIC: &str = "<zone><service name=\"ftp\"/><port protocol=\"tcp\" port=\"40000-40100\"/>\
        <rule family=\"ipv4\"><port port=\"40050\" protocol=\"tcp\"/><drop/></rule>\
        <rule family=\"ipv4\"><source address=\"198.51.100.0/24\"/><port port=\"40050\" protocol=\"tcp\"/><accept/></rule></zone>";

    #[test]
    fn the_default_zone_opens_its_services_and_ports_after_its_drops() {
        let (open, fell_back) = open(vec![part(0, "h/etc/firewalld/zones/public.xml", PUBLIC)]);
        assert_eq!(open, "21,40000-40049,40051-40100");
        assert!(fell_back.is_none());
    }

    #[test]
    fn forward_ports_open_what_nat_rewrites_and_not_the_target() {
        let zone = "<zone><forward-port port=\"21\" protocol=\"tcp\" to-port=\"2121\"/>\
            <forward-port port=\"40000-40100\" protocol=\"tcp\" to-port=\"50000-50100\"/>\
            <forward-port port=\"41000\" protocol=\"tcp\" to-port=\"41000\"/>\
            <forward-port port=\"2222\" protocol=\"tcp\" to-port=\"22\" to-addr=\"198.51.100.9\"/>\
            <rule family=\"ipv4\"><source address=\"198.51.100.0/24\"/>\
            <forward-port port=\"3000\" protocol=\"tcp\" to-port=\"3001\"/></rule></zone>";
        let parts = vec![part(0, "h/etc/firewalld/zones/public.xml", zone)];
        let host = load(&parts);
        let (v4, v6) = iptables::facts(&host.ruleset, &parts[0].source);
        let v4 = v4.expect("IPv4");
        // 41000 onto itself is no rewrite (no DNAT state); 2222 goes to another host.
        assert_eq!(v4.open_to_all.to_string(), "21,40000-40100");
        assert_eq!(v4.open_to_some.to_string(), "3000");
        assert_eq!(v6.expect("IPv6").open_to_any().to_string(), "");
    }

    #[test]
    fn an_unbound_zone_opens_nothing_and_a_conf_moves_the_default() {
        let internal = "<zone><port protocol=\"tcp\" port=\"2222\"/></zone>";
        let parts = vec![
            part(0, "h/etc/firewalld/zones/public.xml", PUBLIC),
            part(1, "h/etc/firewalld/zones/internal.xml", internal),
        ];
        assert_eq!(open(parts).0, "21,40000-40049,40051-40100");
        let parts = vec![
            part(0, "h/etc/firewalld/zones/internal.xml", internal),
            part(
                1,
                "h/etc/firewalld/firewalld.conf",
                "DefaultZone=internal\n",
            ),
        ];
        assert_eq!(open(parts).0, "2222");
    }

    #[test]
    fn a_refused_file_falls_back_to_the_stock_configuration() {
        let bad = PUBLIC.replace("40000-40100", "40000-70000");
        let (open, fell_back) = open(vec![part(0, "h/etc/firewalld/zones/public.xml", &bad)]);
        assert_eq!(open, "22", "stock public: ssh and dhcpv6-client (UDP)");
        assert!(fell_back.is_some());
    }

    #[test]
    fn hosts_are_the_folders_above_etc_and_usr_lib() {
        assert_eq!(
            host_of(Path::new("r/web1/etc/firewalld/zones/public.xml")),
            (PathBuf::from("r/web1"), false)
        );
        assert_eq!(
            host_of(Path::new("r/web1/usr/lib/firewalld/services/ftp.xml")),
            (PathBuf::from("r/web1"), true)
        );
    }
}
