//! `kube-service-port-remapped`: see rules/kube-service-port-remapped.toml.

use super::Rule;
use crate::diag::Diagnostic;
use crate::formats::bundle::{Bundle, BundleDoc};
use crate::formats::kube::cluster;
use crate::formats::kube::objects::{ServicePort, ServiceType};
use crate::formats::kube::reach::resolve;
use crate::portset::PortSet;
use crate::source::Span;

pub struct KubeServicePortRemapped;

/// The NodePort range of a default kube-apiserver (`--service-node-port-range`).
const NODE_PORTS: (u16, u16) = (30000, 32767);

impl Rule for KubeServicePortRemapped {
    fn name(&self) -> &'static str {
        "kube-service-port-remapped"
    }

    fn check_bundle(&self, bundle: &Bundle, out: &mut Vec<Diagnostic>) {
        if !matches!(bundle.doc, BundleDoc::Kubernetes(_)) {
            return;
        }
        for (server, pod) in cluster::ftp_pods(bundle) {
            let Some(passive) = server.passive.ports() else {
                continue;
            };
            for service in &pod.services {
                for sp in service.ports.iter().filter(|p| p.tcp) {
                    let port = sp.port.map(|(n, _)| n);
                    let Some(target) = resolve(&sp.target, port, pod.workload) else {
                        continue;
                    };
                    if !passive.contains(target) {
                        continue;
                    }
                    if let Some(d) = self.finding(service.kind, sp, target, passive) {
                        out.push(d);
                    }
                }
            }
        }
    }
}

impl KubeServicePortRemapped {
    fn finding(
        &self,
        kind: ServiceType,
        sp: &ServicePort,
        target: u16,
        passive: &PortSet,
    ) -> Option<Diagnostic> {
        let port = sp.port.map(|(n, _)| n);
        let node = sp.node_port.map(|(n, _)| n);
        let (what, span) = match kind {
            ServiceType::NodePort if node != Some(target) => (
                match node {
                    Some(n) => format!("nodePort {n}"),
                    None => "a nodePort Kubernetes picks at random".to_owned(),
                },
                sp.node_port.map_or(sp.span, |(_, s)| s),
            ),
            ServiceType::LoadBalancer if port != Some(target) && node != Some(target) => (
                format!("port {}", port.unwrap_or(0)),
                sp.port.map_or(sp.span, |(_, s)| s),
            ),
            _ => return None,
        };
        let (lo, hi) = NODE_PORTS;
        let fix = if kind == ServiceType::NodePort && !(lo..=hi).contains(&target) {
            let (plo, phi) = passive.widest_range().unwrap_or((target, target));
            format!(
                "a nodePort must lie in {lo}-{hi}, and {target} does not: move the passive range into it (e.g. {lo}..{}) and list each port with port = targetPort = nodePort, or use a LoadBalancer Service (port = targetPort) or hostPort = containerPort",
                // A passive range wider than the NodePort range fits only in part.
                lo.saturating_add(phi.saturating_sub(plo)).min(hi)
            )
        } else {
            format!(
                "set port: {target}, targetPort: {target}{} so the number the server announces is the one the client reaches",
                if kind == ServiceType::NodePort || node.is_some() {
                    format!(", nodePort: {target}")
                } else {
                    String::new()
                }
            )
        };
        let d = Diagnostic::new(
            self.name(),
            format!(
                "passive port {target} is reached outside the cluster on {what}, but the server announces {target} in its PASV replies: clients connect to {target} and fail"
            ),
            span,
            format!("{what} instead of {target}"),
        )
        .with_help(fix);
        Some(match renumbered(kind, sp, target) {
            Some(edits) => d.with_unsafe_fix(format!("expose {target} as {target}"), edits),
            None => d,
        })
    }
}

/// The edits that expose `target` on its own number: `port` (and `nodePort`,
/// where written) set to it; `None` for a NodePort outside the node port range
/// (the server's range has to move instead) or a number not written.
fn renumbered(kind: ServiceType, sp: &ServicePort, target: u16) -> Option<Vec<(Span, String)>> {
    let (lo, hi) = NODE_PORTS;
    let mut edits = Vec::new();
    if let Some((port, at)) = sp.port {
        if port != target {
            edits.push((at, target.to_string()));
        }
    }
    match (kind, sp.node_port) {
        (ServiceType::NodePort, _) if !(lo..=hi).contains(&target) => return None,
        (ServiceType::NodePort, None) => return None,
        (_, Some((node, at))) if node != target => {
            if !(lo..=hi).contains(&target) {
                return None;
            }
            edits.push((at, target.to_string()));
        }
        _ => {}
    }
    (!edits.is_empty()).then_some(edits)
}
