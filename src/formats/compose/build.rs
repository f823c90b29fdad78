//! `build:` (a context path, or `context`, `dockerfile`, `dockerfile_inline`,
//! `target`): the Dockerfile the service's image is built from, read as far as
//! pairing needs (see [`crate::formats::dockerfile`]).

use super::interp::{self, Vars};
use super::mounts::lexical;
use crate::formats::dockerfile;
pub use crate::formats::dockerfile::Built;
use crate::formats::yaml::Node;
use std::path::Path;

pub fn read(node: &Node, dir: Option<&Path>, vars: &Vars) -> Option<Built> {
    let dir = dir?;
    let text = |n: &Node| n.as_str().and_then(|s| interp::interpolate(s, vars));
    let (context, span) = match node {
        Node::Map { .. } => {
            let context = node.get("context").and_then(text).unwrap_or(".".into());
            let span = node
                .get("dockerfile")
                .or(node.get("dockerfile_inline"))
                .or(node.get("context"))
                .map_or(node.span(), Node::span);
            (context, span)
        }
        _ => (text(node)?, node.span()),
    };
    if context.contains("://") || context.starts_with("git@") {
        return None;
    }
    let context = lexical(&dir.join(context));
    let target = node.get("target").and_then(text);
    let (source, dockerfile) = match node.get("dockerfile_inline").and_then(text) {
        Some(inline) => (inline, None),
        None => {
            let name = node
                .get("dockerfile")
                .and_then(text)
                .unwrap_or("Dockerfile".into());
            let path = lexical(&context.join(name));
            (super::read_small_file(&path)?, Some(path))
        }
    };
    Some(Built {
        dockerfile,
        stage: dockerfile::parse(&source, target.as_deref()),
        span,
        context,
    })
}
