//! The manifests of one directory tree read as one cluster: a bundle holds
//! every manifest under the topmost folder that has one, and its objects pair
//! by reference (a Service or NetworkPolicy with the pods its selector matches,
//! in the same namespace).

use super::Manifests;
use super::configs;
use super::objects::{Labels, Meta, Object, Workload};
use super::reach::{self, Pod};
use super::selector::Selector;
use crate::facts::{FileFacts, FtpServer};
use crate::formats::bundle::{Bundle, BundleDoc};
use crate::formats::compose;
use crate::formats::{Document, ParsedFile};
use std::path::{Path, PathBuf};

/// The folder a bundle of manifests stands for.
#[derive(Debug)]
pub struct Cluster {
    pub root: PathBuf,
}

fn manifests(part: &ParsedFile) -> Option<&Manifests> {
    match &part.doc {
        Document::Kubernetes(m) => Some(m),
        _ => None,
    }
}

pub fn assemble(parts: Vec<ParsedFile>) -> Vec<Bundle> {
    let dir = |p: &ParsedFile| {
        p.source
            .path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default()
    };
    let dirs: Vec<PathBuf> = parts.iter().map(dir).collect();
    let roots: Vec<PathBuf> = {
        let mut r: Vec<PathBuf> = dirs
            .iter()
            .filter(|d| !dirs.iter().any(|o| o != *d && d.starts_with(o)))
            .cloned()
            .collect();
        r.sort();
        r.dedup();
        r
    };
    let mut groups: Vec<Vec<ParsedFile>> = roots.iter().map(|_| Vec::new()).collect();
    for (part, d) in parts.into_iter().zip(dirs) {
        let at = roots.iter().position(|r| d.starts_with(r)).unwrap_or(0);
        groups[at].push(part);
    }
    roots
        .into_iter()
        .zip(groups)
        .filter(|(_, g)| !g.is_empty())
        .map(|(root, parts)| Bundle {
            primary: parts[0].source.id,
            parts,
            doc: BundleDoc::Kubernetes(Box::new(Cluster { root })),
        })
        .collect()
}

fn same_namespace(a: &Meta, b: &Meta) -> bool {
    a.namespace.as_deref().unwrap_or("") == b.namespace.as_deref().unwrap_or("")
}

/// Every label of the selector is on the pod.
pub fn selects(selector: &Labels, pod: &Labels) -> bool {
    selector.iter().all(|kv| pod.contains(kv))
}

const VALUE_FROM: &str =
    "comes from `valueFrom` (a ConfigMap, Secret or field) not in the manifest";

/// Every object of the bundle, with the file it is in.
fn objects(bundle: &Bundle) -> Vec<(&ParsedFile, &Object)> {
    bundle
        .parts
        .iter()
        .filter_map(|p| Some((p, manifests(p)?)))
        .flat_map(|(p, m)| m.objects.iter().map(move |o| (p, o)))
        .collect()
}

/// A Helm template or a file that does not parse: its objects are not known.
fn unread(m: &Manifests) -> bool {
    m.template || m.syntax_error.is_some()
}

/// Each FTP server of the cluster with its pod and what selects the pod.
pub fn ftp_pods(bundle: &Bundle) -> Vec<(FtpServer, Pod<'_>)> {
    let all = objects(bundle);
    // An image whose config a ConfigMap replaces runs that file's server.
    let replaced = configs::replaced_images(bundle);
    let mut out = Vec::new();
    for (part, obj) in &all {
        let Object::Workload(w) = obj else { continue };
        for server in servers(w, part)
            .into_iter()
            .filter(|s| !replaced.contains(&s.anchor))
        {
            let pod = pod(w, server.control_port.value.unwrap_or(21), &all);
            out.push((server, pod));
        }
    }
    out
}

/// The FTP servers of the cluster's pods and what reaches them from outside.
/// A pod that runs a config from a ConfigMap ([`configs`]) has its server in
/// that file (read as a file the cluster writes); its reachability is here.
pub fn facts(bundle: &Bundle) -> FileFacts {
    let (ftp, mut pods): (Vec<FtpServer>, Vec<Pod>) = ftp_pods(bundle).into_iter().unzip();
    pods.extend(config_pods(bundle));
    if pods.is_empty() {
        return FileFacts::default();
    }
    if bundle.parts.iter().filter_map(manifests).any(unread) {
        // A Service or policy may sit in the file not read: reachability is unknown.
        return FileFacts {
            ftp,
            ..FileFacts::default()
        };
    }
    let files: Vec<_> = bundle.parts.iter().map(|p| p.source.id).collect();
    let anchor = pods
        .iter()
        .find_map(|p| p.services.iter().find_map(|s| s.ports_span))
        .or(ftp.first().map(|s| s.anchor))
        .unwrap_or(pods[0].workload.meta.span);
    let mut layers = vec![reach::exposure(&pods, anchor, files.clone())];
    layers.extend(reach::policies(&pods, files));
    FileFacts {
        ftp,
        firewall: crate::facts::Firewall::combine(layers),
        ..FileFacts::default()
    }
}

/// The pods whose server is a config mounted from a ConfigMap, with the
/// control port the config sets (vsftpd's `listen_port`, else 21).
fn config_pods(bundle: &Bundle) -> Vec<Pod<'_>> {
    let all = objects(bundle);
    let mut out: Vec<Pod> = Vec::new();
    for m in configs::mounted(bundle) {
        if out.iter().any(|p| std::ptr::eq(p.workload, m.workload)) {
            continue;
        }
        let control = control_port(&m.path, &m.entry.text);
        out.push(pod(m.workload, control, &all));
    }
    out
}

fn control_port(path: &str, text: &str) -> u16 {
    let file = crate::source::SourceFile::new(crate::source::FileId(0), path, text.as_bytes());
    if crate::formats::classify(Path::new(path), text) != Some(crate::formats::Format::Vsftpd) {
        return 21;
    }
    let config = crate::formats::vsftpd::parse(&file);
    crate::formats::vsftpd::facts(&config, &file)
        .first()
        .and_then(|s| s.control_port.value)
        .unwrap_or(21)
}

/// The servers a workload's containers of known FTP images run.
fn servers(w: &Workload, part: &ParsedFile) -> Vec<FtpServer> {
    w.containers
        .iter()
        .filter_map(|c| {
            let service = compose::Service {
                name: c.name.clone(),
                name_span: c.name_span,
                image: c.image.clone(),
                ports: Vec::new(),
                ports_span: None,
                host_network: w.host_network,
                env: c.env.clone(),
                volumes: Vec::new(),
                expose: Vec::new(),
                dockerfile: None,
                parts: compose::Parts::default(),
                entrypoint: c.command.clone(),
                command: c.args.clone(),
            };
            compose::server::in_file(&service, &part.source, VALUE_FROM)
        })
        .collect()
}

fn pod<'a>(w: &'a Workload, control: u16, objects: &[(&ParsedFile, &'a Object)]) -> Pod<'a> {
    let mut services = Vec::new();
    let mut policies = Vec::new();
    let picks = |sel: &Option<Labels>| sel.as_ref().is_some_and(|l| selects(l, &w.labels));
    let policy_picks = |sel: &Selector| sel.matches(&w.labels);
    for (_, obj) in objects {
        match obj {
            Object::Service(s) if same_namespace(&s.meta, &w.meta) && picks(&s.selector) => {
                services.push(s);
            }
            Object::NetworkPolicy(p)
                if same_namespace(&p.meta, &w.meta)
                    && p.ingress_filtered
                    && policy_picks(&p.pod_selector) =>
            {
                policies.push(p);
            }
            _ => {}
        }
    }
    Pod {
        workload: w,
        control,
        services,
        policies,
    }
}
