//! `kube-session-affinity-missing`: see rules/kube-session-affinity-missing.toml.

use super::Rule;
use crate::diag::Diagnostic;
use crate::formats::bundle::{Bundle, BundleDoc};
use crate::formats::kube::cluster;
use crate::formats::kube::objects::{Replicas, Service};
use crate::formats::kube::reach::{Pod, resolve};
use crate::portset::PortSet;
use crate::source::Span;

pub struct KubeSessionAffinityMissing;

impl Rule for KubeSessionAffinityMissing {
    fn name(&self) -> &'static str {
        "kube-session-affinity-missing"
    }

    fn check_bundle(&self, bundle: &Bundle, out: &mut Vec<Diagnostic>) {
        if !matches!(bundle.doc, BundleDoc::Kubernetes(_)) {
            return;
        }
        for (server, pod) in cluster::ftp_pods(bundle) {
            let Some(passive) = server.passive.ports() else {
                continue;
            };
            let Some(copies) = copies(pod.workload.replicas) else {
                continue;
            };
            for service in &pod.services {
                if service.client_affinity || !routes_passive(service, &pod, passive) {
                    continue;
                }
                let d = self.finding(service, &copies);
                out.push(match affinity_line(bundle, service) {
                    Some(edit) => {
                        d.with_unsafe_fix("set sessionAffinity: ClientIP on the Service", vec![edit])
                    }
                    None => d,
                });
            }
        }
    }
}

/// How many pods run, how often a data connection misses, and where the count
/// is written.
struct Copies {
    what: String,
    misses: String,
    at: Span,
}

fn copies(replicas: Replicas) -> Option<Copies> {
    match replicas {
        Replicas::Many(n, at) => Some(Copies {
            what: format!("{n} replicas of this server"),
            misses: format!(
                "about {} in {n} data connections reach a pod that did not announce the port",
                n - 1
            ),
            at,
        }),
        Replicas::PerNode(at) => Some(Copies {
            what: "pods of this server, one on each node (a DaemonSet),".to_owned(),
            misses: "a session's data connection can reach a pod that did not announce the port"
                .to_owned(),
            at,
        }),
        Replicas::One | Replicas::Unknown => None,
    }
}

/// Whether a port of the Service leads to one of the passive ports.
fn routes_passive(service: &Service, pod: &Pod, passive: &PortSet) -> bool {
    service.ports.iter().filter(|p| p.tcp).any(|p| {
        let port = p.port.map(|(n, _)| n);
        resolve(&p.target, port, pod.workload).is_some_and(|t| passive.contains(t))
    })
}

impl KubeSessionAffinityMissing {
    fn finding(&self, service: &Service, copies: &Copies) -> Diagnostic {
        let Copies { what, misses, at } = copies;
        Diagnostic::new(
            self.name(),
            format!(
                "{what} sit behind Service {} without `sessionAffinity: ClientIP`: kube-proxy picks a pod for each connection, so {misses}; the client's connection is refused there and the transfer fails with a 425 reply",
                service.meta.name
            ),
            *at,
            "more than one pod",
        )
        .with_related(
            service.type_span.unwrap_or(service.meta.span),
            "sends each connection to any of the pods",
        )
        .with_help(
            "set `sessionAffinity: ClientIP` on the Service (and keep a load balancer's own client affinity), or run one replica behind each Service (a StatefulSet with a Service per pod)",
        )
    }
}

/// `sessionAffinity: ClientIP` inserted above the Service's `ports:` key, at
/// its indentation (block style only).
fn affinity_line(bundle: &Bundle, service: &Service) -> Option<(Span, String)> {
    let at = service.ports_span?;
    let part = bundle.parts.iter().find(|p| p.source.id == at.file)?;
    let text = &part.source.text;
    let key = at.start as usize;
    let line = text.get(..key)?.rfind('\n').map_or(0, |i| i + 1);
    let indent = &text[line..key];
    if !indent.bytes().all(|b| b == b' ') {
        return None;
    }
    Some((
        part.source.span(line, line),
        format!("{indent}sessionAffinity: ClientIP\n"),
    ))
}
