//! Reachability from outside the cluster as filter layers. An FTP server in a
//! pod announces its container port numbers in PASV replies and the client
//! connects to that number on the node or load balancer address, so a passive
//! port is reachable only where it is exposed on the same number: `hostNetwork`,
//! `hostPort` = `containerPort`, a LoadBalancer port = `targetPort`, or a
//! `nodePort` = `targetPort`. The control port is different: the client is told
//! the Service's port out of band. A NetworkPolicy that selects the pod for
//! ingress is a second filter, at the pod.

use super::objects::{ContainerPort, NetworkPolicy, Service, ServiceType, Target, Workload};
use crate::facts::{Decision, DefaultPolicy, Dialect, Firewall, Located, Scope, Verdict};
use crate::portset::PortSet;
use crate::source::Span;

/// A pod running an FTP server, with the Services and policies that select it.
pub struct Pod<'a> {
    pub workload: &'a Workload,
    pub control: u16,
    pub services: Vec<&'a Service>,
    pub policies: Vec<&'a NetworkPolicy>,
}

/// Decisions in order, each port decided by the first that names it.
#[derive(Default)]
struct Decider {
    decided: PortSet,
    open_all: PortSet,
    open_some: PortSet,
    decisions: Vec<Decision>,
}

impl Decider {
    fn decide(&mut self, verdict: Verdict, scope: Scope, ports: PortSet, span: Span) {
        let fresh = ports.difference(&self.decided);
        if fresh.is_empty() {
            return;
        }
        self.decided = self.decided.union(&fresh);
        match (verdict, scope) {
            (Verdict::Accept, Scope::All) => self.open_all = self.open_all.union(&fresh),
            (Verdict::Accept, Scope::Some) => self.open_some = self.open_some.union(&fresh),
            _ => {}
        }
        self.decisions.push(Decision {
            verdict,
            scope,
            ports: fresh,
            rule_ports: ports,
            span: Some(span),
            is_policy: false,
            later_packets: false,
        });
    }

    fn finish(
        mut self,
        dialect: Dialect,
        policy_span: Span,
        files: Vec<crate::source::FileId>,
    ) -> Firewall {
        let rest = self.decided.complement();
        if !rest.is_empty() {
            self.decisions.push(Decision {
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
        fw.files = files;
        fw.default_policy = Located::new(DefaultPolicy::Drop, Some(policy_span));
        fw.open_to_all = self.open_all;
        fw.open_to_some = self.open_some;
        fw.decisions = self.decisions;
        fw.family = None;
        fw.admits_related = false;
        fw.dialect = dialect;
        fw
    }
}

/// The container port a Service or policy port names on this pod.
pub fn resolve(target: &Target, port: Option<u16>, workload: &Workload) -> Option<u16> {
    match target {
        Target::Number(n) => Some(*n),
        Target::SameAsPort => port,
        Target::Name(name) => container_ports(workload)
            .find(|p| p.name.as_deref() == Some(name.as_str()))
            .and_then(|p| p.container_port.map(|(n, _)| n)),
    }
}

fn container_ports(w: &Workload) -> impl Iterator<Item = &ContainerPort> {
    w.containers.iter().flat_map(|c| c.ports.iter())
}

/// What reaches the pods from outside the cluster, at the numbers the servers announce.
pub fn exposure(pods: &[Pod], policy_span: Span, files: Vec<crate::source::FileId>) -> Firewall {
    let mut accept = Decider::default();
    let mut drops: Vec<(PortSet, Span)> = Vec::new();
    for pod in pods {
        if let Some(span) = pod.workload.host_network {
            accept.decide(Verdict::Accept, Scope::All, PortSet::all(), span);
        }
        for p in container_ports(pod.workload).filter(|p| p.tcp) {
            let (Some((container, _)), Some((host, span))) = (p.container_port, p.host_port) else {
                continue;
            };
            if host == container || container == pod.control {
                accept.decide(
                    Verdict::Accept,
                    Scope::All,
                    PortSet::single(container),
                    span,
                );
            } else {
                drops.push((PortSet::single(container), span));
            }
        }
        for service in &pod.services {
            for sp in service.ports.iter().filter(|p| p.tcp) {
                let port = sp.port.map(|(n, _)| n);
                let Some(target) = resolve(&sp.target, port, pod.workload) else {
                    continue;
                };
                let node = sp.node_port.map(|(n, _)| n);
                let carried = match service.kind {
                    ServiceType::NodePort => node == Some(target),
                    ServiceType::LoadBalancer => port == Some(target) || node == Some(target),
                    _ => false,
                };
                let outside = matches!(
                    service.kind,
                    ServiceType::NodePort | ServiceType::LoadBalancer
                );
                let ports = PortSet::single(target);
                if carried || (outside && target == pod.control) {
                    accept.decide(Verdict::Accept, Scope::All, ports, sp.span);
                } else {
                    drops.push((ports, sp.span));
                }
            }
        }
    }
    for (ports, span) in drops {
        accept.decide(Verdict::Drop, Scope::All, ports, span);
    }
    accept.finish(Dialect::Kubernetes, policy_span, files)
}

/// The NetworkPolicy filter at the pods; `None` when no policy selects an FTP
/// pod for ingress. A pod no policy selects admits everything.
pub fn policies(pods: &[Pod], files: Vec<crate::source::FileId>) -> Option<Firewall> {
    let filtered: Vec<&Pod> = pods
        .iter()
        .filter(|p| p.workload.host_network.is_none() && !p.policies.is_empty())
        .collect();
    let first = filtered.first()?.policies.first()?;
    let mut d = Decider::default();
    for pod in pods
        .iter()
        .filter(|p| p.workload.host_network.is_some() || p.policies.is_empty())
    {
        d.decide(
            Verdict::Accept,
            Scope::All,
            PortSet::all(),
            pod.workload.meta.span,
        );
    }
    for pod in &filtered {
        for policy in &pod.policies {
            for rule in &policy.ingress {
                let scope = if rule.from_some {
                    Scope::Some
                } else {
                    Scope::All
                };
                if rule.ports.is_empty() {
                    d.decide(Verdict::Accept, scope, PortSet::all(), rule.span);
                }
                for p in rule.ports.iter().filter(|p| p.tcp) {
                    let ports = match &p.port {
                        None => Some(PortSet::all()),
                        Some(t) => resolve(t, None, pod.workload)
                            .map(|lo| PortSet::range(lo, p.end_port.unwrap_or(lo).max(lo))),
                    };
                    if let Some(ports) = ports {
                        d.decide(Verdict::Accept, scope, ports, p.span);
                    }
                }
            }
        }
    }
    Some(d.finish(Dialect::KubernetesNetworkPolicy, first.selector_span, files))
}
