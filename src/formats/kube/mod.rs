//! Kubernetes manifests: the workloads (their containers' images, ports and
//! environment), Services and NetworkPolicies of `.yaml` files whose documents
//! carry `apiVersion:` and `kind:`. The manifests of one directory tree are read
//! together ([`cluster`]): a Service pairs with the pods its selector matches.

pub mod cluster;
pub mod configs;
pub mod objects;
pub mod reach;
pub mod selector;

use crate::formats::yaml::{self, Node};
use crate::source::{SourceFile, Span};
pub use objects::{NetworkPolicy, Object, Service, Workload};

/// One manifest file.
#[derive(Debug, Default)]
pub struct Manifests {
    pub objects: Vec<Object>,
    /// The YAML does not parse: `kubectl apply -f` refuses the file.
    pub syntax_error: Option<yaml::SyntaxError>,
    /// A Helm template (`{{ … }}`) that is not YAML until rendered: not read.
    pub template: bool,
    /// Values kubectl decodes but the API server refuses (the object is not created).
    pub invalid: Vec<selector::Invalid>,
}

/// How much of a file is looked at to tell a manifest.
const SNIFF_BYTES: usize = 16 * 1024;

/// A `.yaml`/`.yml` file (not a compose file) with top-level `apiVersion:` and
/// `kind:` keys near its start.
pub fn sniff(path: &std::path::Path, text: &str) -> bool {
    let Some(ext) = path.extension().and_then(|e| e.to_str()) else {
        return false;
    };
    if !matches!(ext.to_ascii_lowercase().as_str(), "yaml" | "yml")
        || crate::formats::compose::sniff(path)
    {
        return false;
    }
    let mut end = text.len().min(SNIFF_BYTES);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let head = &text[..end];
    let key = |k: &str| head.lines().any(|l| l.starts_with(k));
    key("apiVersion:") && key("kind:")
}

pub fn parse(source: &SourceFile) -> Manifests {
    match yaml::parse_stream(source.id, &source.text) {
        Err(_) if source.text.contains("{{") => Manifests {
            template: true,
            ..Manifests::default()
        },
        Err(e) => Manifests {
            syntax_error: Some(e),
            ..Manifests::default()
        },
        Ok(docs) => {
            let mut invalid = Vec::new();
            let objects = docs
                .iter()
                .flat_map(|d| objects::read(d, &mut invalid))
                .collect();
            Manifests {
                objects,
                invalid,
                ..Manifests::default()
            }
        }
    }
}

/// A port number as the API takes it: an unquoted integer 1-65535.
pub(crate) fn port_number(node: &Node) -> Option<u16> {
    match node {
        Node::Scalar {
            text,
            quoted: false,
            ..
        } => text.parse::<u16>().ok().filter(|p| *p > 0),
        _ => None,
    }
}

/// The value of a key with its span.
pub(crate) fn located_port(node: &Node, key: &str) -> Option<(u16, Span)> {
    let n = node.get(key)?;
    Some((port_number(n)?, n.span()))
}

#[cfg(test)]
mod tests;
