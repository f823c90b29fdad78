//! `passive-address-unreachable`: see rules/passive-address-unreachable.toml.

use super::Rule;
use crate::diag::Diagnostic;
use crate::formats::compose::{Service, images};
use crate::formats::{Document, ParsedFile};
use crate::source::Span;

pub struct PassiveAddressUnreachable;

impl Rule for PassiveAddressUnreachable {
    fn name(&self) -> &'static str {
        "passive-address-unreachable"
    }

    fn check_file(&self, file: &ParsedFile, out: &mut Vec<Diagnostic>) {
        let Document::Compose(doc) = &file.doc else {
            return;
        };
        for service in &doc.services {
            if service.ports.is_empty() && service.host_network.is_none() {
                continue;
            }
            let Some((reference, image_span)) = &service.image else {
                continue;
            };
            let Some(image) = images::lookup(reference) else {
                continue;
            };
            let Some(var) = image.address else {
                continue;
            };
            if let Some(d) = self.announced(service, image, var, *image_span) {
                out.push(d);
            }
        }
    }
}

impl PassiveAddressUnreachable {
    /// What the container announces in PASV replies, when clients elsewhere cannot
    /// connect to it.
    fn announced(
        &self,
        service: &Service,
        image: &images::Image,
        var: &str,
        image_span: Span,
    ) -> Option<Diagnostic> {
        let help = format!(
            "set {var} to the address or name clients use to reach the Docker host (e.g. {var}=ftp.example.com)"
        );
        if let Some(set) = service.env(var) {
            let value = set.value.as_deref()?.trim();
            if !is_loopback(value) {
                return None;
            }
            return Some(
                Diagnostic::new(
                    self.name(),
                    format!(
                        "{var}={value} makes {} announce a loopback address in its PASV replies: a client on any other machine connects to itself and the listing hangs (source: {})",
                        image.name, image.source
                    ),
                    set.value_span,
                    "announced in every PASV reply",
                )
                .with_help(help),
            );
        }
        let (what, label) = match (image.default_address, image.unset_announces) {
            (Some(default), _) if is_loopback(default) => (
                format!("{var} is not set, so {} announces its default {default}, a loopback address", image.name),
                "announces a loopback address",
            ),
            (None, Some(unset)) if service.host_network.is_none() => (
                format!("{var} is not set, so {} announces {unset}", image.name),
                "announces an address of the Docker network",
            ),
            _ => return None,
        };
        Some(
            Diagnostic::new(
                self.name(),
                format!(
                    "{what}: clients outside the Docker host cannot connect to it, so the login works and the listing hangs (source: {})",
                    image.source
                ),
                image_span,
                label,
            )
            .with_help(help),
        )
    }
}

/// `localhost`, `127.0.0.0/8` and `::1`: the announcing machine itself.
fn is_loopback(value: &str) -> bool {
    let value = value.trim_matches(|c| c == '[' || c == ']');
    if value.eq_ignore_ascii_case("localhost") || value.eq_ignore_ascii_case("localhost.localdomain") {
        return true;
    }
    value
        .parse::<std::net::IpAddr>()
        .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::is_loopback;

    #[test]
    fn loopback_names_and_addresses() {
        for v in ["localhost", "LOCALHOST", "127.0.0.1", "127.1.2.3", "::1", "[::1]"] {
            assert!(is_loopback(v), "{v}");
        }
        for v in ["ftp.example.com", "203.0.113.5", "10.0.0.5", "", "localhost.example.com"] {
            assert!(!is_loopback(v), "{v}");
        }
    }
}
