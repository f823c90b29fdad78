//! `passive-address-unreachable`: see rules/passive-address-unreachable.toml.

use super::{Rule, is_cloud_layer, passive_spans};
use crate::diag::Diagnostic;
use crate::facts::{FtpServer, Layer};
use crate::hosts::Host;
use crate::policy::Policy;
use crate::formats::bundle::{Bundle, BundleDoc};
use crate::formats::compose::command::{Argv, Runs, runs};
use crate::formats::compose::images::{self, Address, Image, Unset};
use crate::formats::compose::{Compose, EnvVar};
use crate::formats::kube::cluster;
use crate::formats::kube::objects::ServiceType;
use crate::formats::kube::reach::Pod;
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

    fn check_host(&self, host: &Host, _policy: &Policy, out: &mut Vec<Diagnostic>) {
        let Some(fw) = &host.firewall else {
            return;
        };
        let layers = fw.own_layers();
        for server in &host.servers {
            out.extend(self.behind_cloud_nat(server, &layers));
        }
    }

    fn check_bundle(&self, bundle: &Bundle, out: &mut Vec<Diagnostic>) {
        if let BundleDoc::Compose(doc) = &bundle.doc {
            self.check_compose(doc, out);
            return;
        }
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
            if !starts_as_built(image, container.command.as_ref(), container.args.as_ref()) {
                continue;
            }
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

/// The setting that makes each server announce another address than its own
/// in PASV replies, and how to write it; `None` where the server has none.
fn address_setting(server: &str) -> Option<(&'static str, &'static str)> {
    Some(match server {
        "vsftpd" => (
            "pasv_address",
            "pasv_address=203.0.113.10 (or a name, with pasv_addr_resolve=YES)",
        ),
        "proftpd" => ("MasqueradeAddress", "MasqueradeAddress 203.0.113.10 (or the public DNS name)"),
        "pure-ftpd" => ("ForcePassiveIP", "ForcePassiveIP 203.0.113.10"),
        "iis7" => (
            "externalIp4Address",
            "the site's firewallSupport externalIp4Address=\"203.0.113.10\" (FTP Firewall Support: External IP Address of Firewall)",
        ),
        "filezilla" => (
            "a passive mode IP",
            "the passive mode public IP (Settings: Passive mode, \"Use the following IP\")",
        ),
        _ => return None,
    })
}

/// A cloud filter (security group, NSG, VPC firewall) that lets clients from
/// anywhere reach some of `ports`: those clients come through the provider's
/// 1:1 NAT, which gives the instance no public IPv4 address of its own.
fn world_through_cloud<'l>(layers: &'l [Layer], ports: &crate::portset::PortSet) -> Option<&'l Layer> {
    layers
        .iter()
        .find(|l| is_cloud_layer(l.kind) && l.open_to_all.intersects(ports))
}

/// An RFC 1918 or shared (100.64.0.0/10) IPv4 address: one the provider's NAT
/// hides from clients outside the network.
fn is_private_v4(value: &str) -> bool {
    value.parse::<std::net::Ipv4Addr>().is_ok_and(|ip| {
        let [a, b, ..] = ip.octets();
        ip.is_private() || (a == 100 && (64..128).contains(&b))
    })
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
    /// A compose project, its override file merged in.
    fn check_compose(&self, doc: &Compose, out: &mut Vec<Diagnostic>) {
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
            if !starts_as_built(image, service.entrypoint.as_ref(), service.command.as_ref()) {
                continue;
            }
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

    /// A server on a cloud instance that clients from anywhere reach through
    /// the provider's NAT, announcing no address or a private one.
    fn behind_cloud_nat(&self, server: &FtpServer, layers: &[Layer]) -> Option<Diagnostic> {
        let (setting, example) = address_setting(server.server)?;
        let ports = server.passive.ports()?;
        let layer = world_through_cloud(layers, ports)?;
        let product = server.vocabulary().product;
        let what = match server.passive_address.value.as_deref() {
            // Set to a value not known here: it may well be the public address.
            None if server.passive_address.span.is_some() => return None,
            None => format!(
                "no {setting} is set, so {product} announces the instance's own private address"
            ),
            Some(a) if is_private_v4(a.trim()) => {
                format!("{product} announces {}, a private address", a.trim())
            }
            Some(_) => return None,
        };
        let (primary, _) = passive_spans(server);
        let (span, label) = match server.passive_address.span {
            Some(at) => (at, "announced in every PASV reply".to_owned()),
            None => (primary, format!("passive range without {setting}")),
        };
        let mut d = Diagnostic::new(
            self.name(),
            format!(
                "{what} in its PASV replies: clients from anywhere reach the instance through the cloud provider's 1:1 NAT, which gives it no public IPv4 address of its own, so their data connections go to an address they cannot reach and the listing hangs"
            ),
            span,
            label,
        )
        .with_help(format!(
            "announce the instance's public address (its Elastic IP, static external IP or public IP resource): {example}"
        ));
        let opener = layer
            .decisions
            .iter()
            .find(|d| {
                d.verdict == crate::facts::Verdict::Accept
                    && d.scope == crate::facts::Scope::All
                    && d.ports.intersects(ports)
            });
        if let Some(at) = opener.and_then(|d| d.span) {
            d = d.with_related(at, "lets in clients from anywhere (0.0.0.0/0)");
        }
        Some(d)
    }

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
            Unset::Gateway(_) if c.host_network => (
                format!(
                    "{what}, so {name} announces the default gateway of the host's network (`ip route` in a container on the host's network), usually the LAN router, not the host: clients connect there for data, so the login works and the listing hangs"
                ),
                "announces the host's default gateway",
            ),
            Unset::ContainerNetwork(announced) | Unset::Gateway(announced)
                if !c.host_network =>
            (
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
            Unset::Announces(_) | Unset::ContainerNetwork(_) | Unset::Gateway(_) => return None,
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

/// The image runs its own entrypoint and CMD, so its address variable is the
/// one its entrypoint hands the daemon; a command line in their place (a
/// stilliard `/run.sh …` without `-P $PUBLICHOST`) sets the address itself.
fn starts_as_built(image: &Image, entrypoint: Option<&Argv>, command: Option<&Argv>) -> bool {
    runs(Some(image), entrypoint, command) == Some(Runs::Image)
}

fn help(c: &Exposed) -> String {
    let var = c.address.var;
    // An image that writes `pasv_addr_resolve=NO` by default takes only an
    // IPv4 address: vsftpd refuses a name at every PASV.
    match c.image.address_resolve {
        Some(r) => format!(
            "set {var} to the IPv4 address clients use to reach {} (e.g. {var}=203.0.113.10), or to its name together with {}=YES",
            c.entry, r.var
        ),
        None => format!(
            "set {var} to the address or name clients use to reach {} (e.g. {var}=ftp.example.com)",
            c.entry
        ),
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
