//! `container-port-remapped`: see rules/container-port-remapped.toml.

use super::Rule;
use crate::diag::Diagnostic;
use crate::formats::compose::ports::{PortEntry, Protocol};
use crate::formats::compose::{Service, server};
use crate::formats::{Document, ParsedFile};
use crate::portset::PortSet;
use crate::source::{SourceFile, Span};

pub struct ContainerPortRemapped;

impl Rule for ContainerPortRemapped {
    fn name(&self) -> &'static str {
        "container-port-remapped"
    }

    fn check_file(&self, file: &ParsedFile, out: &mut Vec<Diagnostic>) {
        let Document::Compose(doc) = &file.doc else {
            return;
        };
        for service in doc.services.iter().filter(|s| s.host_network.is_none()) {
            let Some(ftp) = server::of(service, &file.source) else {
                continue;
            };
            let Some(passive) = ftp.passive.ports() else {
                continue;
            };
            let product = ftp.vocabulary().product;
            for entry in service.ports.iter().filter(|e| e.protocol == Protocol::Tcp) {
                if let Some(d) = self.remapped(service, entry, passive, product) {
                    out.push(match host_half(&file.source, entry) {
                        Some((span, same)) => d.with_unsafe_fix(
                            format!("publish {same} on the same host ports"),
                            vec![(span, same)],
                        ),
                        None => d,
                    });
                }
            }
        }
    }
}

impl ContainerPortRemapped {
    /// An entry that publishes passive container ports on other host numbers.
    fn remapped(
        &self,
        service: &Service,
        entry: &PortEntry,
        passive: &PortSet,
        product: &str,
    ) -> Option<Diagnostic> {
        let (hlo, hhi) = entry.published?;
        let (clo, chi) = entry.target;
        let container = PortSet::range(clo, chi);
        if (hlo, hhi) == (clo, chi) || !container.intersects(passive) {
            return None;
        }
        let carried = container.intersection(passive);
        let host = |lo: u16, hi: u16| if lo == hi { lo.to_string() } else { format!("{lo}-{hi}") };
        let same = host(clo, chi);
        Some(
            Diagnostic::new(
                self.name(),
                format!(
                    "this entry publishes container {} {same} on host {} {}, but {product} announces the container's numbers ({}) in its PASV replies: clients connect to {} on the Docker host, where nothing is published, and the listing fails",
                    ports_word(clo, chi),
                    ports_word(hlo, hhi),
                    host(hlo, hhi),
                    carried.summary(4),
                    carried.summary(4)
                ),
                entry.span,
                format!("host {} → container {same}", host(hlo, hhi)),
            )
            .with_help(format!(
                "publish the passive range on the same numbers (\"{same}:{same}\"), or move the server's range to the host numbers and publish those on themselves (service {})",
                service.name
            )),
        )
    }
}

fn ports_word(lo: u16, hi: u16) -> &'static str {
    if lo == hi { "port" } else { "ports" }
}

/// The host half of a short-syntax entry written as `"HOST:CONTAINER"` (no
/// address, no protocol), and the container half's text to put there.
fn host_half(source: &SourceFile, entry: &PortEntry) -> Option<(Span, String)> {
    let written = source.text.get(entry.span.range())?;
    let quote = usize::from(written.starts_with(['"', '\'']));
    let inner = written.get(quote..written.len() - quote)?;
    let (host, container) = inner.split_once(':')?;
    let (hlo, hhi) = entry.published?;
    let (clo, chi) = entry.target;
    let range = |lo: u16, hi: u16| if lo == hi { lo.to_string() } else { format!("{lo}-{hi}") };
    if host != range(hlo, hhi) || container != range(clo, chi) {
        return None;
    }
    let start = entry.span.start as usize + quote;
    Some((source.span(start, start + host.len()), container.to_owned()))
}
