//! `build:` (a context path, or `context`, `dockerfile`, `dockerfile_inline`,
//! `target`): the Dockerfile the service's image is built from, read as far as
//! pairing needs (see [`crate::formats::dockerfile`]).

use super::interp::{self, Vars};
use super::mounts::{Volume, lexical};
use crate::formats::dockerfile::{self, Stage};
use crate::formats::yaml::Node;
use crate::source::Span;
use std::path::{Path, PathBuf};

/// What a service's Dockerfile says; its findings point at `span` (the
/// compose entry naming the Dockerfile), as the Dockerfile is no file of the run.
#[derive(Clone, Debug)]
pub struct Built {
    pub stage: Stage,
    pub span: Span,
    pub context: PathBuf,
    /// The Dockerfile, when it is a file.
    pub dockerfile: Option<PathBuf>,
}

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

impl Built {
    /// The image whose entrypoint runs: the base, unless the Dockerfile starts
    /// the container its own way.
    pub fn image(&self) -> Option<(String, Span)> {
        let from = self.stage.from.clone()?;
        (!self.stage.starts_itself).then_some((from, self.span))
    }

    /// Each `COPY`/`ADD` of a context path, as the mount it amounts to (the
    /// copy is writable in the container, as a read-write mount is).
    pub fn copies(&self) -> Vec<Volume> {
        let mut out = Vec::new();
        for (sources, dest) in &self.stage.copies {
            if !dest.starts_with('/') {
                continue;
            }
            let into_dir = dest.ends_with('/') || sources.len() > 1;
            let dest = dest.trim_end_matches('/');
            for s in sources {
                let source = lexical(&self.context.join(s));
                if !source.starts_with(&self.context) {
                    continue;
                }
                let target = match source.file_name().and_then(|n| n.to_str()) {
                    Some(name) if into_dir && !source.is_dir() => format!("{dest}/{name}"),
                    _ => dest.to_owned(),
                };
                out.push(Volume {
                    source,
                    target: if target.is_empty() {
                        "/".into()
                    } else {
                        target
                    },
                    read_only: false,
                    span: self.span,
                });
            }
        }
        out
    }
}
