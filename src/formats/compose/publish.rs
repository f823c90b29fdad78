//! Publishing as a filter layer: which container ports a client reaches at the
//! port number the server announces. An FTP server in a container announces its
//! container ports in PASV replies, and the client connects to that number on the
//! host, so a passive port is reachable only where it is published on the same
//! host port (`31100-31110:21100-21110` leaves 21100-21110 unreachable). The
//! control port is different: the client is told the published port out of band.

use super::ports::{PortEntry, Protocol};
use super::{Compose, Service};
use crate::facts::{
    Decision, DefaultPolicy, Dialect, Firewall, Located, PortSyntax, PortText, Scope, Verdict,
};
use crate::portset::PortSet;
use crate::source::{SourceFile, Span};

pub fn firewall(doc: &Compose, source: &SourceFile) -> Firewall {
    let ftp: Vec<&Service> = doc
        .services
        .iter()
        .filter(|s| super::server::of(s, source).is_some())
        .collect();
    firewall_for(doc, &ftp, source)
}

/// The publishing of `doc`, its default policy shown on the first of `ftp`
/// (the services that run an FTP server).
pub fn firewall_for(doc: &Compose, ftp: &[&Service], source: &SourceFile) -> Firewall {
    let all: Vec<&Service> = doc.services.iter().collect();
    of(&all, ftp, source)
}

/// One container's own publishing: Docker DNATs a published port to the
/// container that publishes it and to no other.
pub fn of_service(service: &Service, source: &SourceFile) -> Firewall {
    of(&[service], &[service], source)
}

/// What `services` publish, their default policy shown on the first of `ftp`.
fn of(services: &[&Service], ftp: &[&Service], source: &SourceFile) -> Firewall {
    let control = PortSet::single(21);
    let mut decided = PortSet::empty();
    let mut open = PortSet::empty();
    let mut decisions = Vec::new();
    let mut decide = |verdict: Verdict, ports: PortSet, span: Span, is_policy: bool| {
        let fresh = ports.difference(&decided);
        decided = decided.union(&ports);
        if verdict == Verdict::Accept {
            open = open.union(&fresh);
        }
        if !fresh.is_empty() {
            decisions.push(Decision {
                verdict,
                scope: Scope::All,
                ports: fresh,
                rule_ports: ports,
                span: Some(span),
                is_policy,
                later_packets: false,
            });
        }
    };
    for service in services {
        if let Some(span) = service.host_network {
            decide(Verdict::Accept, PortSet::all(), span, false);
        }
    }
    // Every entry publishes on its own: a port one entry makes reachable stays
    // so whatever another publishes it as, so the entries that open decide first.
    let entries: Vec<(&PortEntry, bool)> = services
        .iter()
        .flat_map(|s| &s.ports)
        .filter(|e| e.protocol == Protocol::Tcp)
        .map(|entry| {
            let target = PortSet::range(entry.target.0, entry.target.1);
            let same_number = entry.published == Some(entry.target);
            let control_remap = entry.published.is_some() && target == control;
            (
                entry,
                !entry.loopback_only() && (same_number || control_remap),
            )
        })
        .collect();
    for want in [true, false] {
        for (entry, opens) in entries.iter().filter(|(_, o)| *o == want) {
            let verdict = if *opens {
                Verdict::Accept
            } else {
                Verdict::Drop
            };
            let target = PortSet::range(entry.target.0, entry.target.1);
            decide(verdict, target, entry.span, false);
        }
    }
    // `expose:` and `EXPOSE` publish nothing: the default closes what they name,
    // shown where the service relies on them.
    for service in services {
        for ((lo, hi), span) in &service.expose {
            decide(Verdict::Drop, PortSet::range(*lo, *hi), *span, true);
        }
    }
    let policy_span = ftp
        .first()
        .map(|s| s.ports_span.unwrap_or(s.name_span))
        .unwrap_or_else(|| source.span(0, 0));
    let rest = decided.complement();
    if !rest.is_empty() {
        decisions.push(Decision {
            verdict: Verdict::Drop,
            scope: Scope::All,
            rule_ports: rest.clone(),
            ports: rest,
            span: Some(policy_span),
            is_policy: true,
            later_packets: false,
        });
    }
    let mut fw = Firewall::default_for(crate::facts::Family::V4);
    fw.files = vec![source.id];
    fw.default_policy = Located::new(DefaultPolicy::Drop, Some(policy_span));
    fw.open_to_all = open;
    fw.decisions = decisions;
    // Docker publishes on every address of both families unless `host_ip` says otherwise.
    fw.family = None;
    fw.admits_related = false;
    fw.dialect = Dialect::DockerCompose;
    let texts: Vec<PortText> = services
        .iter()
        .flat_map(|s| &s.ports)
        .filter_map(|entry| port_text(entry, source))
        .collect();
    crate::filter::eval::attach_port_texts(&mut fw, &texts);
    fw
}

/// A short-syntax entry written plainly as `"lo-hi:lo-hi"` (quotes optional, no
/// address, no variable): both halves, for a fix that rewrites them alike.
fn port_text(entry: &PortEntry, source: &SourceFile) -> Option<PortText> {
    if entry.span.file != source.id
        || entry.host_ip.is_some()
        || entry.published != Some(entry.target)
    {
        return None;
    }
    let raw = source.text.get(entry.span.range())?;
    let quoted = raw.starts_with(['"', '\'']);
    let inner = if quoted {
        &raw[1..raw.len().checked_sub(1)?]
    } else {
        raw
    };
    let inner = inner.strip_suffix("/tcp").unwrap_or(inner);
    let (host, container) = inner.split_once(':')?;
    if host != container || super::ports::range(host).ok()? != entry.target {
        return None;
    }
    let start = entry.span.range().start + usize::from(quoted);
    let half = |at: usize| source.span(at, at + host.len());
    Some(PortText {
        rule: entry.span,
        syntax: PortSyntax::Compose,
        value: half(start),
        second: Some(half(start + host.len() + 1)),
        line: None,
    })
}

#[cfg(test)]
mod tests {
    use super::super::tests::doc;
    use super::*;

    fn open(text: &str) -> PortSet {
        let (d, src) = doc(text);
        firewall(&d, &src).open_to_all
    }

    #[test]
    fn only_same_number_publishing_opens_passive_ports() {
        let base = "services:\n  ftp:\n    image: fauria/vsftpd\n    ports:\n";
        let o = open(&format!(
            "{base}      - \"21:21\"\n      - \"21100-21105:21100-21105\"\n"
        ));
        assert_eq!(o, PortSet::from_ranges([(21, 21), (21100, 21105)]));
        let o = open(&format!(
            "{base}      - \"2121:21\"\n      - \"31100-31110:21100-21110\"\n"
        ));
        assert_eq!(o, PortSet::single(21));
        let o = open(&format!(
            "{base}      - \"127.0.0.1:21:21\"\n      - \"21100-21110\"\n      - \"21100-21110:21100-21110/udp\"\n"
        ));
        assert!(o.is_empty());
        let o = open(&format!(
            "{base}      - target: 21\n        published: \"21\"\n        protocol: tcp\n"
        ));
        assert_eq!(o, PortSet::single(21));
    }

    #[test]
    fn expose_publishes_nothing() {
        let (d, src) = doc(
            "services:\n  ftp:\n    image: fauria/vsftpd\n    ports:\n      - \"21:21\"\n    expose:\n      - \"21100-21110\"\n",
        );
        let fw = firewall(&d, &src);
        assert_eq!(fw.open_to_all, PortSet::single(21));
        let shut = fw
            .decisions
            .iter()
            .find(|d| d.ports == PortSet::range(21100, 21110))
            .unwrap();
        assert!(shut.is_policy && shut.verdict == Verdict::Drop);
        assert_eq!(src.slice(shut.span.unwrap()), "21100-21110");
    }

    #[test]
    fn host_network_opens_everything() {
        let o = open("services:\n  ftp:\n    image: fauria/vsftpd\n    network_mode: host\n");
        assert_eq!(o, PortSet::all());
    }

    #[test]
    fn combined_layers_end_with_the_publishing() {
        let (d, src) =
            doc("services:\n  ftp:\n    image: fauria/vsftpd\n    ports:\n      - \"21:21\"\n");
        let compose = firewall(&d, &src);
        let mut host = Firewall::default_for(crate::facts::Family::V4);
        host.open_to_all = PortSet::range(1, 65535);
        let both = Firewall::combine(vec![compose, host]).unwrap();
        let kinds: Vec<&str> = both.layers.iter().map(|l| l.kind).collect();
        assert_eq!(kinds, ["iptables", "docker-compose"]);
        assert_eq!(both.open_to_all, PortSet::single(21));
        assert_eq!(both.layers[1].open_to_all, PortSet::single(21));
    }
}
