//! `passive-address-unreachable`: see rules/passive-address-unreachable.toml.

use super::Rule;
use crate::diag::Diagnostic;
use crate::formats::bundle::{Bundle, BundleDoc};
use crate::formats::compose::images::{self, Address, Image, Unset};
use crate::formats::compose::EnvVar;
use crate::formats::kube::cluster;
use crate::formats::kube::objects::ServiceType;
use crate::formats::kube::reach::Pod;
use crate::formats::{Document, ParsedFile};
use crate::source::Span;

pub struct PassiveAddressUnreachable;

/// A container of a known FTP image that clients outside its host reach.
struct Exposed<'a> {
    image: &'static Image,
    address: Address,
    image_span: Span,
    env: Option<&'a EnvVar>,
    host_network: bool,
    /// Where the clients that cannot connect are: "the Docker host", "the cluster".
    outside: &'static str,
    /// What those clients connect to.
    entry: &'static str,
}

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
            let Some(address) = image.address else {
                continue;
            };
            let exposed = Exposed {
                image,
                address,
                image_span: *image_span,
                env: service.env(address.var),
                host_network: service.host_network.is_some(),
                outside: "the Docker host",
                entry: "the Docker host",
            };
            out.extend(self.judge(&exposed));
        }
    }

    fn check_bundle(&self, bundle: &Bundle, out: &mut Vec<Diagnostic>) {
        if !matches!(bundle.doc, BundleDoc::Kubernetes(_)) {
            return;
        }
        for (server, pod) in cluster::ftp_pods(bundle) {
            if !reached_from_outside(&pod) {
                continue;
            }
            let container = pod
                .workload
                .containers
                .iter()
                .find(|c| c.image.as_ref().map(|(_, s)| *s) == Some(server.anchor));
            let Some((container, (reference, image_span))) =
                container.and_then(|c| Some((c, c.image.as_ref()?)))
            else {
                continue;
            };
            let Some(image) = images::lookup(reference) else {
                continue;
            };
            let Some(address) = image.address else {
                continue;
            };
            let exposed = Exposed {
                image,
                address,
                image_span: *image_span,
                env: container.env.iter().rev().find(|e| e.name == address.var),
                host_network: pod.workload.host_network.is_some(),
                outside: "the cluster",
                entry: "the node or load balancer",
            };
            out.extend(self.judge(&exposed));
        }
    }
}

/// A NodePort or LoadBalancer Service, a `hostPort` or `hostNetwork`: a way in
/// for clients outside the cluster (a ClusterIP Service's clients are pods,
/// which reach the pod's own address).
fn reached_from_outside(pod: &Pod) -> bool {
    let w = pod.workload;
    w.host_network.is_some()
        || w.containers
            .iter()
            .any(|c| c.ports.iter().any(|p| p.host_port.is_some()))
        || pod
            .services
            .iter()
            .any(|s| matches!(s.kind, ServiceType::NodePort | ServiceType::LoadBalancer))
}

impl PassiveAddressUnreachable {
    fn judge(&self, c: &Exposed) -> Option<Diagnostic> {
        let var = c.address.var;
        let Some(set) = c.env else {
            return self.unset(c, c.image_span, format!("{var} is not set"));
        };
        // Passed through from the shell, or from a variable not known here.
        let value = set.value.as_deref()?.trim();
        if c.address.counts_as_unset(value) {
            let what = if value.is_empty() {
                format!("{var} is empty")
            } else {
                format!("{var}={value} is the image's placeholder for \"not set\"")
            };
            return self.unset(c, set.value_span, what);
        }
        if !is_loopback(value) {
            return None;
        }
        Some(
            Diagnostic::new(
                self.name(),
                format!(
                    "{var}={value} makes {} announce a loopback address in its PASV replies: a client on any other machine connects to itself and the listing hangs (source: {})",
                    c.image.name, c.image.source
                ),
                set.value_span,
                "announced in every PASV reply",
            )
            .with_help(help(c)),
        )
    }

    /// The variable counts as not set (`what` says how); `span` is where.
    fn unset(&self, c: &Exposed, span: Span, what: String) -> Option<Diagnostic> {
        let name = c.image.name;
        let (message, label) = match c.address.unset {
            Unset::Announces(default) if is_loopback(default) => (
                format!(
                    "{what}, so {name} announces its default {default}, a loopback address: clients outside {} cannot connect to it, so the login works and the listing hangs",
                    c.outside
                ),
                "announces a loopback address",
            ),
            Unset::ContainerNetwork(announced) if !c.host_network => (
                format!(
                    "{what}, so {name} announces {announced}: clients outside {} cannot connect to it, so the login works and the listing hangs",
                    c.outside
                ),
                "announces an address of the container network",
            ),
            Unset::Exits(says) => (
                format!(
                    "{what}, so {name}'s entrypoint prints \"{says}\" and exits before vsftpd starts: the container never serves FTP"
                ),
                "the container exits at start",
            ),
            Unset::Announces(_) | Unset::ContainerNetwork(_) => return None,
        };
        Some(
            Diagnostic::new(
                self.name(),
                format!("{message} (source: {})", c.image.source),
                span,
                label,
            )
            .with_help(help(c)),
        )
    }
}

fn help(c: &Exposed) -> String {
    let var = c.address.var;
    format!(
        "set {var} to the address or name clients use to reach {} (e.g. {var}=ftp.example.com)",
        c.entry
    )
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
