//! The objects of a manifest that decide reachability: workloads (pod
//! templates), Services and NetworkPolicies; a `List`'s `items` are read as
//! objects of their own.

use super::selector::{self, Invalid, Selector};
use super::{located_port, port_number};
use crate::formats::compose::EnvVar;
use crate::formats::compose::command::{Argv, Word};
use crate::formats::yaml::Node;
use crate::source::Span;

#[derive(Debug)]
pub enum Object {
    Workload(Workload),
    Service(Service),
    NetworkPolicy(NetworkPolicy),
    ConfigMap(ConfigMap),
}

/// A ConfigMap's `data:`: each key's text (a file when mounted).
#[derive(Debug)]
pub struct ConfigMap {
    pub meta: Meta,
    pub data: Vec<DataEntry>,
}

#[derive(Debug)]
pub struct DataEntry {
    pub key: String,
    pub text: String,
    /// The value as the YAML parser reports it (a block scalar from its `|`).
    pub span: Span,
}

/// A pod volume that shows a ConfigMap's keys as files.
#[derive(Debug, Clone)]
pub struct ConfigMapVolume {
    /// The volume's `name`, which `volumeMounts` refer to.
    pub name: String,
    /// `configMap.name`.
    pub config_map: String,
    /// `items`: key → path inside the volume; empty: every key at its own name.
    pub items: Vec<(String, String)>,
}

/// A container's `volumeMounts` entry.
#[derive(Debug, Clone)]
pub struct VolumeMount {
    pub name: String,
    pub mount_path: String,
    /// `subPath`: one path of the volume mounted at `mount_path`.
    pub sub_path: Option<String>,
    pub span: Span,
}

/// Labels as written: key, value.
pub type Labels = Vec<(String, String)>;

/// Where an object stands: its name (or `kind:` when it has none) and namespace.
#[derive(Debug, Clone)]
pub struct Meta {
    pub kind: String,
    pub name: String,
    pub span: Span,
    /// `None`: the namespace `kubectl` is pointed at, the same for every such object.
    pub namespace: Option<String>,
}

/// A Pod, or a controller's pod template.
#[derive(Debug)]
pub struct Workload {
    pub meta: Meta,
    pub labels: Labels,
    /// `hostNetwork: true`: the pod uses the node's network stack.
    pub host_network: Option<Span>,
    pub containers: Vec<Container>,
    pub replicas: Replicas,
    /// The pod's `volumes` that are ConfigMaps.
    pub config_volumes: Vec<ConfigMapVolume>,
}

/// How many copies of the pod run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Replicas {
    /// A Pod, a Job, or a controller without `replicas:` (default 1).
    One,
    /// `replicas: N` with N > 1, where it is written.
    Many(u32, Span),
    /// A DaemonSet: one on each node (where `kind:` says so).
    PerNode(Span),
    /// `replicas:` written as something else than a number (a template value).
    Unknown,
}

#[derive(Debug)]
pub struct Container {
    pub name: String,
    pub name_span: Span,
    pub image: Option<(String, Span)>,
    pub ports: Vec<ContainerPort>,
    pub env: Vec<EnvVar>,
    /// `command:` (replaces the image's ENTRYPOINT) and `args:` (its CMD),
    /// with `$(VAR)` expanded from `env`.
    pub command: Option<Argv>,
    pub args: Option<Argv>,
    pub mounts: Vec<VolumeMount>,
}

#[derive(Debug, Clone)]
pub struct ContainerPort {
    pub name: Option<String>,
    pub container_port: Option<(u16, Span)>,
    pub host_port: Option<(u16, Span)>,
    pub tcp: bool,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServiceType {
    ClusterIp,
    NodePort,
    LoadBalancer,
    /// `ExternalName` or a type the API does not know: no ports of its own.
    Other,
}

#[derive(Debug)]
pub struct Service {
    pub meta: Meta,
    pub kind: ServiceType,
    /// `None`: no selector, endpoints are managed by hand.
    pub selector: Option<Labels>,
    pub ports: Vec<ServicePort>,
    pub ports_span: Option<Span>,
    /// `sessionAffinity: ClientIP`: one client's connections go to one pod.
    pub client_affinity: bool,
    /// Where `type:` is written, or the ports.
    pub type_span: Option<Span>,
}

/// `targetPort`: a number, a container port's name, or absent (= `port`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Number(u16),
    Name(String),
    SameAsPort,
}

#[derive(Debug, Clone)]
pub struct ServicePort {
    pub port: Option<(u16, Span)>,
    pub target: Target,
    pub target_span: Option<Span>,
    pub node_port: Option<(u16, Span)>,
    pub tcp: bool,
    pub span: Span,
}

#[derive(Debug)]
pub struct NetworkPolicy {
    pub meta: Meta,
    /// `podSelector`: `matchLabels` and `matchExpressions`.
    pub pod_selector: Selector,
    pub selector_span: Span,
    /// Whether the policy filters ingress (`policyTypes`, default Ingress).
    pub ingress_filtered: bool,
    pub ingress: Vec<IngressRule>,
}

#[derive(Debug)]
pub struct IngressRule {
    /// Empty: every port.
    pub ports: Vec<PolicyPort>,
    /// Some `from` peer limits the sources (not every address).
    pub from_some: bool,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct PolicyPort {
    /// `None`: every port of the protocol.
    pub port: Option<Target>,
    pub end_port: Option<u16>,
    pub tcp: bool,
    pub span: Span,
}

const WORKLOADS: &[&str] = &[
    "Pod",
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "ReplicationController",
    "Job",
    "CronJob",
];

/// The objects of one YAML document; what the API server would refuse goes to `invalid`.
pub fn read(doc: &Node, invalid: &mut Vec<Invalid>) -> Vec<Object> {
    let Some(kind) = doc.get("kind").and_then(Node::as_str) else {
        return Vec::new();
    };
    if kind == "List" || kind.ends_with("List") && doc.get("items").is_some() {
        return match doc.get("items") {
            Some(Node::Seq { items, .. }) => items.iter().flat_map(|i| read(i, invalid)).collect(),
            _ => Vec::new(),
        };
    }
    let meta = meta(doc, kind);
    let spec = doc.get("spec");
    let refused_before = invalid.len();
    let object = match kind {
        "Service" => spec.map(|s| Object::Service(service(meta, s))),
        "NetworkPolicy" => spec.map(|s| Object::NetworkPolicy(policy(meta, s, invalid))),
        "ConfigMap" => Some(Object::ConfigMap(config_map(meta, doc))),
        k if WORKLOADS.contains(&k) => workload(meta, doc, invalid).map(Object::Workload),
        _ => None,
    };
    // The API server refuses the whole object: none of it is created.
    if invalid.len() > refused_before {
        return Vec::new();
    }
    object.into_iter().collect()
}

fn meta(doc: &Node, kind: &str) -> Meta {
    let md = doc.get("metadata");
    let name = md.and_then(|m| m.get("name"));
    Meta {
        kind: kind.to_owned(),
        name: name.and_then(Node::as_str).unwrap_or("").to_owned(),
        span: name
            .or_else(|| doc.get("kind"))
            .map_or_else(|| doc.span(), Node::span),
        namespace: md
            .and_then(|m| m.get("namespace"))
            .and_then(Node::as_str)
            .map(str::to_owned),
    }
}

fn labels(node: Option<&Node>) -> Labels {
    node.map(|n| {
        n.entries()
            .iter()
            .filter_map(|(k, v)| Some((k.as_str()?.to_owned(), v.as_str()?.to_owned())))
            .collect()
    })
    .unwrap_or_default()
}

fn text(node: Option<&Node>) -> Option<&str> {
    node.and_then(Node::as_str)
}

fn items(node: Option<&Node>) -> &[Node] {
    match node {
        Some(Node::Seq { items, .. }) => items,
        _ => &[],
    }
}

fn is_tcp(entry: &Node) -> bool {
    text(entry.get("protocol")).is_none_or(|p| p == "TCP")
}

fn workload(meta: Meta, doc: &Node, invalid: &mut Vec<Invalid>) -> Option<Workload> {
    let spec = doc.get("spec")?;
    let (template_meta, pod) = match meta.kind.as_str() {
        "Pod" => (doc.get("metadata"), spec),
        "CronJob" => {
            let t = spec.get("jobTemplate")?.get("spec")?.get("template")?;
            (t.get("metadata"), t.get("spec")?)
        }
        _ => {
            let t = spec.get("template")?;
            (t.get("metadata"), t.get("spec")?)
        }
    };
    Some(Workload {
        labels: labels(template_meta.and_then(|m| m.get("labels"))),
        host_network: pod
            .get("hostNetwork")
            .filter(|n| matches!(n, Node::Scalar { text, quoted: false, .. } if text == "true"))
            .map(Node::span),
        containers: items(pod.get("containers"))
            .iter()
            .map(|c| container(c, invalid))
            .collect(),
        replicas: replicas(&meta, doc, spec),
        config_volumes: items(pod.get("volumes"))
            .iter()
            .filter_map(config_volume)
            .collect(),
        meta,
    })
}

fn config_map(meta: Meta, doc: &Node) -> ConfigMap {
    let data = doc.get("data").map_or(&[][..], Node::entries);
    ConfigMap {
        meta,
        data: data
            .iter()
            .filter_map(|(k, v)| {
                Some(DataEntry {
                    key: k.as_str()?.to_owned(),
                    text: v.as_str()?.to_owned(),
                    span: v.span(),
                })
            })
            .collect(),
    }
}

fn config_volume(node: &Node) -> Option<ConfigMapVolume> {
    let cm = node.get("configMap")?;
    Some(ConfigMapVolume {
        name: text(node.get("name"))?.to_owned(),
        config_map: text(cm.get("name"))?.to_owned(),
        items: items(cm.get("items"))
            .iter()
            .filter_map(|i| {
                Some((
                    text(i.get("key"))?.to_owned(),
                    text(i.get("path"))?.to_owned(),
                ))
            })
            .collect(),
    })
}

fn volume_mount(node: &Node) -> Option<VolumeMount> {
    Some(VolumeMount {
        name: text(node.get("name"))?.to_owned(),
        mount_path: text(node.get("mountPath"))?.to_owned(),
        sub_path: text(node.get("subPath")).map(str::to_owned),
        span: node.span(),
    })
}

fn replicas(meta: &Meta, doc: &Node, spec: &Node) -> Replicas {
    match meta.kind.as_str() {
        "DaemonSet" => Replicas::PerNode(doc.get("kind").map_or(meta.span, Node::span)),
        "Deployment" | "StatefulSet" | "ReplicaSet" | "ReplicationController" => {
            match spec.get("replicas") {
                None => Replicas::One,
                Some(
                    n @ Node::Scalar {
                        text,
                        quoted: false,
                        ..
                    },
                ) => match text.parse::<u32>() {
                    Ok(0 | 1) => Replicas::One,
                    Ok(k) => Replicas::Many(k, n.span()),
                    Err(_) => Replicas::Unknown,
                },
                Some(_) => Replicas::Unknown,
            }
        }
        _ => Replicas::One,
    }
}

fn container(node: &Node, invalid: &mut Vec<Invalid>) -> Container {
    let name = node.get("name");
    let env: Vec<EnvVar> = items(node.get("env"))
        .iter()
        .filter_map(|e| env(e, invalid))
        .collect();
    let from_elsewhere = node.get("envFrom").is_some();
    let argv = |key: &str| {
        let n = node.get(key)?;
        Some(Argv {
            words: items(Some(n))
                .iter()
                .map(|w| Word {
                    text: w.as_str().and_then(|t| expand(t, &env, from_elsewhere)),
                    span: w.span(),
                })
                .collect(),
            span: n.span(),
        })
    };
    let (command, args) = (argv("command"), argv("args"));
    Container {
        command,
        args,
        mounts: items(node.get("volumeMounts"))
            .iter()
            .filter_map(volume_mount)
            .collect(),
        name: text(name).unwrap_or("").to_owned(),
        name_span: name.map_or_else(|| node.span(), Node::span),
        image: node
            .get("image")
            .and_then(|n| Some((n.as_str()?.to_owned(), n.span()))),
        ports: items(node.get("ports"))
            .iter()
            .map(|p| ContainerPort {
                name: text(p.get("name")).map(str::to_owned),
                container_port: located_port(p, "containerPort"),
                host_port: located_port(p, "hostPort"),
                tcp: is_tcp(p),
                span: p.span(),
            })
            .collect(),
        env,
    }
}

/// `$(VAR)` in a `command`/`args` word, expanded as the kubelet does
/// (k8s.io/kubernetes `third_party/forked/golang/expansion`): from the
/// container's `env`; `$$` is `$`; a reference to
/// a variable not defined stays as written. `None` where a value is not known
/// (`valueFrom`, or `envFrom`, which may define the variable).
fn expand(text: &str, env: &[EnvVar], from_elsewhere: bool) -> Option<String> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some((name, tail)) = after.strip_prefix('(').and_then(|b| b.split_once(')')) {
            match env.iter().rev().find(|e| e.name == name) {
                Some(e) => out.push_str(e.value.as_deref()?),
                None if from_elsewhere => return None,
                None => {
                    out.push_str("$(");
                    out.push_str(name);
                    out.push(')');
                }
            }
            rest = tail;
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    Some(out)
}

/// What an unquoted scalar is when sigs.k8s.io/yaml turns it into JSON (go-yaml
/// v2 rules: YAML 1.1 booleans such as `yes` and `on`), when not a string.
fn json_kind(node: &Node) -> Option<&'static str> {
    let Node::Scalar {
        text,
        quoted: false,
        ..
    } = node
    else {
        return None;
    };
    let t = text.as_str();
    const BOOLS: &[&str] = &[
        "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "true", "True", "TRUE", "false",
        "False", "FALSE", "on", "On", "ON", "off", "Off", "OFF",
    ];
    let numeric = t.starts_with(|c: char| c.is_ascii_digit() || "+-.".contains(c))
        && (t.replace('_', "").parse::<f64>().is_ok()
            || t.strip_prefix("0x")
                .is_some_and(|h| i64::from_str_radix(h, 16).is_ok()));
    if BOOLS.contains(&t) {
        Some("bool")
    } else if numeric {
        Some("number")
    } else {
        None
    }
}

/// `- name: X` with `value:` (a string) or `valueFrom:` (not known here). A
/// `value:` that is a YAML number or boolean is refused by the API server.
fn env(node: &Node, invalid: &mut Vec<Invalid>) -> Option<EnvVar> {
    let name = node.get("name")?;
    if let Some((v, kind)) = node.get("value").and_then(|v| Some((v, json_kind(v)?))) {
        invalid.push(Invalid {
            message: format!(
                "env {}: json: cannot unmarshal {kind} into Go struct field EnvVar.value of type string",
                name.as_str().unwrap_or("")
            ),
            span: v.span(),
        });
    }
    let value = node.get("value").or_else(|| node.get("valueFrom"));
    Some(EnvVar {
        name: name.as_str()?.to_owned(),
        name_span: name.span(),
        value: node.get("value").and_then(Node::as_str).map(str::to_owned),
        value_span: value.map_or_else(|| name.span(), Node::span),
    })
}

fn target(node: &Node) -> Target {
    match port_number(node) {
        Some(n) => Target::Number(n),
        None => Target::Name(node.as_str().unwrap_or("").to_owned()),
    }
}

fn service(meta: Meta, spec: &Node) -> Service {
    let kind = match text(spec.get("type")).unwrap_or("ClusterIP") {
        "ClusterIP" => ServiceType::ClusterIp,
        "NodePort" => ServiceType::NodePort,
        "LoadBalancer" => ServiceType::LoadBalancer,
        _ => ServiceType::Other,
    };
    let selector = spec
        .get("selector")
        .map(|s| labels(Some(s)))
        .filter(|s| !s.is_empty());
    Service {
        meta,
        kind,
        selector,
        ports: items(spec.get("ports"))
            .iter()
            .map(|p| ServicePort {
                port: located_port(p, "port"),
                target: p.get("targetPort").map_or(Target::SameAsPort, target),
                target_span: p.get("targetPort").map(Node::span),
                node_port: located_port(p, "nodePort"),
                tcp: is_tcp(p),
                span: p.span(),
            })
            .collect(),
        ports_span: spec.entry("ports").map(|(k, _)| k.span()),
        client_affinity: text(spec.get("sessionAffinity")) == Some("ClientIP"),
        type_span: spec.get("type").map(Node::span),
    }
}

fn policy(meta: Meta, spec: &Node, invalid: &mut Vec<Invalid>) -> NetworkPolicy {
    let selector = spec.get("podSelector");
    let types: Vec<&str> = items(spec.get("policyTypes"))
        .iter()
        .filter_map(Node::as_str)
        .collect();
    NetworkPolicy {
        pod_selector: selector::read(selector, "spec.podSelector", invalid),
        selector_span: spec
            .entry("podSelector")
            .map_or(meta.span, |(k, _)| k.span()),
        ingress_filtered: types.is_empty() || types.contains(&"Ingress"),
        ingress: items(spec.get("ingress"))
            .iter()
            .map(|r| ingress_rule(r, invalid))
            .collect(),
        meta,
    }
}

fn ingress_rule(rule: &Node, invalid: &mut Vec<Invalid>) -> IngressRule {
    for peer in items(rule.get("from")) {
        for field in ["podSelector", "namespaceSelector"] {
            if let Some(s) = peer.get(field) {
                selector::read(Some(s), &format!("ingress.from.{field}"), invalid);
            }
        }
    }
    IngressRule {
        ports: items(rule.get("ports"))
            .iter()
            .map(|p| PolicyPort {
                port: p.get("port").map(target),
                end_port: p.get("endPort").and_then(port_number),
                tcp: is_tcp(p),
                span: p.span(),
            })
            .collect(),
        from_some: items(rule.get("from")).iter().any(|peer| !everyone(peer)),
        span: rule.span(),
    }
}

/// A peer that admits every address: an `ipBlock` of 0.0.0.0/0 or ::/0 with no `except`.
fn everyone(peer: &Node) -> bool {
    let Some(block) = peer.get("ipBlock") else {
        return false;
    };
    peer.entries().len() == 1
        && block.get("except").is_none()
        && matches!(text(block.get("cidr")), Some("0.0.0.0/0" | "::/0"))
}
