//! docker-compose files (`compose.yaml`, `docker-compose*.yml`): the services,
//! the ports they publish and the environment they hand their image, read with
//! Compose's own interpolation; known FTP images become servers, and publishing
//! becomes a filter layer in front of them.

pub mod build;
pub mod command;
pub mod images;
pub mod interp;
pub mod merge;
pub mod mounts;
pub mod ports;
pub mod project;
pub mod publish;
pub mod run;
pub mod run_sh;
pub mod server;
pub mod started;

use crate::formats::yaml::{self, Node};
use crate::source::{SourceFile, Span};
use ports::PortEntry;
use std::path::Path;

/// One compose file.
#[derive(Clone, Debug, Default)]
pub struct Compose {
    pub services: Vec<Service>,
    /// The YAML does not parse: `docker compose` stops here.
    pub syntax_error: Option<yaml::SyntaxError>,
    /// Values `docker compose` refuses (a port it cannot read), with why.
    pub problems: Vec<(Span, String)>,
}

#[derive(Clone, Debug)]
pub struct Service {
    pub name: String,
    pub name_span: Span,
    /// The image reference after interpolation, and where it is written.
    pub image: Option<(String, Span)>,
    pub ports: Vec<PortEntry>,
    /// The `ports:` key, for findings about what it does not publish.
    pub ports_span: Option<Span>,
    /// `network_mode: host`: the container shares the host's network stack.
    pub host_network: Option<Span>,
    /// The environment the container starts with, the last entry of a name
    /// winning: `parts.image`, then `parts.env_file`, then `parts.environment`.
    pub env: Vec<EnvVar>,
    /// Bind mounts of repository paths, and the files `build:` copies in.
    pub volumes: Vec<mounts::Volume>,
    /// The keys as written, for a later compose file to merge into ([`merge`]).
    pub parts: Parts,
    /// The Dockerfile `build:` reads.
    pub dockerfile: Option<std::path::PathBuf>,
    /// `expose:` and the Dockerfile's `EXPOSE`: container ports that publish
    /// nothing to the host.
    pub expose: Vec<((u16, u16), Span)>,
    /// `entrypoint:` (a Kubernetes container's `command:`): replaces the
    /// image's ENTRYPOINT and drops its CMD.
    pub entrypoint: Option<command::Argv>,
    /// `command:` (a Kubernetes container's `args:`): replaces the image's CMD.
    pub command: Option<command::Argv>,
}

/// A service's keys as written, which [`merge`] needs apart: each has its own
/// merge rule in Compose.
#[derive(Clone, Debug, Default)]
pub struct Parts {
    /// `build:` is set (then `image:` only names the result).
    pub built: bool,
    /// How many of `volumes` are files `build:` copies in (they come first).
    pub copied: usize,
    /// `network_mode:` is set, to anything.
    pub network_mode: bool,
    /// The Dockerfile's `ENV` values.
    pub image: Vec<EnvVar>,
    /// The program the built image starts with, when it is not an FTP daemon
    /// (`/usr/sbin/run-vsftpd.sh`), and the entry naming the Dockerfile.
    pub starts_other_program: Option<(String, Span)>,
    pub env_file: Vec<EnvVar>,
    pub environment: Vec<EnvVar>,
}

/// One `environment:` entry.
#[derive(Debug, Clone)]
pub struct EnvVar {
    pub name: String,
    pub name_span: Span,
    /// After interpolation; `None` when it depends on a variable not known here
    /// or the entry passes the variable through from the shell (`- NAME`).
    pub value: Option<String>,
    /// The value as written (the name for a pass-through entry).
    pub value_span: Span,
}

impl Service {
    pub fn env(&self, name: &str) -> Option<&EnvVar> {
        self.env.iter().rev().find(|e| e.name == name)
    }
}

/// `compose.yaml`, `compose.yml`, `docker-compose.yml`, `docker-compose.yaml`
/// and override files such as `docker-compose.prod.yml`.
pub fn sniff(path: &std::path::Path) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    let name = name.to_ascii_lowercase();
    let Some(stem) = name
        .strip_suffix(".yml")
        .or_else(|| name.strip_suffix(".yaml"))
    else {
        return false;
    };
    ["compose", "docker-compose"].iter().any(|base| {
        stem == *base
            || stem
                .strip_prefix(base)
                .is_some_and(|rest| rest.starts_with('.') && rest.len() > 1)
    })
}

pub fn parse(source: &SourceFile) -> Compose {
    let vars = dotenv_beside(source);
    match yaml::parse(source.id, &source.text) {
        Err(e) => Compose {
            syntax_error: Some(e),
            ..Compose::default()
        },
        Ok(None) => Compose::default(),
        Ok(Some(root)) => read_services(&root, project_dir(source), &vars),
    }
}

/// The folder relative paths are read from; `None` for a file that exists only
/// in memory (written by a script).
fn project_dir(source: &SourceFile) -> Option<&Path> {
    if source.is_virtual() {
        return None;
    }
    source.path.parent()
}

/// The `.env` file of the project folder (the compose file's own), as
/// `docker compose` reads it for interpolation.
fn dotenv_beside(source: &SourceFile) -> interp::Vars {
    project_dir(source)
        .map(|dir| dir.join(".env"))
        .and_then(|p| read_small_file(&p))
        .map(|t| interp::read_dotenv(&t))
        .unwrap_or_default()
}

/// An env file compose reads beside the compose file: only a regular file (never a
/// device, FIFO or socket such as `env_file: /dev/zero` or `/dev/stdin`, which would
/// never end) and at most [`crate::limits::MAX_FILE_BYTES`] of it.
pub(crate) fn read_small_file(path: &Path) -> Option<String> {
    // Symlinks followed, as compose follows them.
    if !std::fs::metadata(path).ok()?.is_file() {
        return None;
    }
    String::from_utf8(crate::jail::read_at_most_cap(path)?).ok()
}

fn read_services(root: &Node, dir: Option<&Path>, vars: &interp::Vars) -> Compose {
    let mut doc = Compose::default();
    let Some(services) = root.get("services") else {
        return doc;
    };
    for (key, body) in services.entries() {
        let Some(name) = key.as_str() else { continue };
        let service = read_service(dir, name, key.span(), body, vars, &mut doc.problems);
        doc.services.push(service);
    }
    doc
}

fn read_service(
    dir: Option<&Path>,
    name: &str,
    name_span: Span,
    body: &Node,
    vars: &interp::Vars,
    problems: &mut Vec<(Span, String)>,
) -> Service {
    let text = |n: &Node| n.as_str().and_then(|s| interp::interpolate(s, vars));
    let built = body.get("build").and_then(|b| build::read(b, dir, vars));
    // With `build:`, `image:` only names the result: the Dockerfile's base runs.
    let image = match &built {
        Some(b) => b.image(),
        None if body.get("build").is_some() => None,
        None => body.get("image").and_then(|n| Some((text(n)?, n.span()))),
    };
    let host_network = body
        .get("network_mode")
        .filter(|n| text(n).as_deref() == Some("host"))
        .map(Node::span);
    let (ports_span, ports) = match body.entry("ports") {
        Some((key, list)) => (Some(key.span()), ports::read(list, vars, problems)),
        None => (None, Vec::new()),
    };
    let mut volumes = built.as_ref().map(build::Built::copies).unwrap_or_default();
    let copied = volumes.len();
    volumes.extend(
        body.get("volumes")
            .map(|v| mounts::read(v, dir, vars))
            .unwrap_or_default(),
    );
    let mut expose: Vec<((u16, u16), Span)> = built
        .as_ref()
        .map(|b| b.stage.expose.iter().map(|r| (*r, b.span)).collect())
        .unwrap_or_default();
    expose.extend(
        body.get("expose")
            .map(|e| read_expose(e, vars))
            .unwrap_or_default(),
    );
    let parts = Parts {
        built: body.get("build").is_some(),
        copied,
        network_mode: body.get("network_mode").is_some(),
        image: built.as_ref().map(dockerfile_env).unwrap_or_default(),
        starts_other_program: built
            .as_ref()
            .and_then(|b| Some((b.stage.starts_other_program()?.to_owned(), b.span))),
        env_file: env_files(body.get("env_file"), dir, vars),
        environment: body
            .get("environment")
            .map(|n| read_env(n, vars))
            .unwrap_or_default(),
    };
    Service {
        name: name.to_owned(),
        name_span,
        image,
        ports,
        ports_span,
        host_network,
        volumes,
        expose,
        dockerfile: built.as_ref().and_then(|b| b.dockerfile.clone()),
        entrypoint: body.get("entrypoint").and_then(|n| command::read(n, vars)),
        command: body.get("command").and_then(|n| command::read(n, vars)),
        env: parts.flattened(),
        parts,
    }
}

impl Parts {
    /// The environment in Compose's order: image, env files, `environment:`.
    pub fn flattened(&self) -> Vec<EnvVar> {
        self.image
            .iter()
            .chain(&self.env_file)
            .chain(&self.environment)
            .cloned()
            .collect()
    }
}

/// The Dockerfile's `ENV` values: defaults that `env_file:` and `environment:` override.
fn dockerfile_env(built: &build::Built) -> Vec<EnvVar> {
    built
        .stage
        .env
        .iter()
        .map(|(name, value)| EnvVar {
            name: name.clone(),
            name_span: built.span,
            value: value.clone(),
            value_span: built.span,
        })
        .collect()
}

/// `expose: ["21", "21100-21110"]`: TCP container ports or ranges.
fn read_expose(node: &Node, vars: &interp::Vars) -> Vec<((u16, u16), Span)> {
    let Node::Seq { items, .. } = node else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|item| {
            let text = interp::interpolate(item.as_str()?, vars)?;
            let entry = ports::short(&text, item.span()).ok()?;
            (entry.protocol == ports::Protocol::Tcp).then_some((entry.target, item.span()))
        })
        .collect()
}

/// The variables of `env_file:` (a path, a list of paths, or `- path: …`), in
/// order; `environment:` entries come after them and win, as in Compose. Each
/// variable's spans are the `env_file` entry that brings it.
fn env_files(node: Option<&Node>, dir: Option<&Path>, vars: &interp::Vars) -> Vec<EnvVar> {
    let Some(node) = node else {
        return Vec::new();
    };
    let entries: Vec<&Node> = match node {
        Node::Seq { items, .. } => items.iter().collect(),
        other => vec![other],
    };
    let mut out = Vec::new();
    for entry in entries {
        let path_node = entry.get("path").unwrap_or(entry);
        let (Some(path), Some(dir)) = (path_node.as_str(), dir) else {
            continue;
        };
        let Some(text) = read_small_file(&dir.join(path)) else {
            continue;
        };
        for (name, value) in interp::read_dotenv(&text) {
            out.push(EnvVar {
                name,
                name_span: path_node.span(),
                value: interp::interpolate(&value, vars),
                value_span: path_node.span(),
            });
        }
    }
    out
}

/// `environment:` as a list (`- NAME=value`, `- NAME`) or a map (`NAME: value`).
fn read_env(node: &Node, vars: &interp::Vars) -> Vec<EnvVar> {
    match node {
        Node::Seq { items, .. } => items.iter().filter_map(|i| env_item(i, vars)).collect(),
        // A variable a `<<: *anchor` brings is shown on the service's own `<<` line.
        Node::Map { .. } => node
            .merged_entries()
            .into_iter()
            .filter_map(|(k, v, merged_at)| {
                let name = k.as_str()?.to_owned();
                let value = if v.is_null() {
                    None
                } else {
                    v.as_str().and_then(|s| interp::interpolate(s, vars))
                };
                let written = if v.is_null() { k.span() } else { v.span() };
                Some(EnvVar {
                    name,
                    name_span: merged_at.unwrap_or(k.span()),
                    value,
                    value_span: merged_at.unwrap_or(written),
                })
            })
            .collect(),
        Node::Scalar { .. } => Vec::new(),
    }
}

fn env_item(item: &Node, vars: &interp::Vars) -> Option<EnvVar> {
    let text = item.as_str()?;
    let span = item.span();
    let (file, start) = (span.file, span.start as usize);
    // A quoted item's span is its inside, so offsets within `text` map onto it
    // unless the item has escapes; then the whole item stands for both parts.
    let exact = span.len() == text.len();
    let sub = |a: usize, b: usize| {
        if exact {
            Span::new(file, start + a, start + b)
        } else {
            span
        }
    };
    Some(match text.split_once('=') {
        Some((name, value)) => EnvVar {
            name: name.to_owned(),
            name_span: sub(0, name.len()),
            value: interp::interpolate(value, vars),
            value_span: sub(name.len() + 1, text.len()),
        },
        None => EnvVar {
            name: text.to_owned(),
            name_span: span,
            value: None,
            value_span: span,
        },
    })
}

/// A file `docker compose` refuses starts nothing: no server, no publishing.
pub fn facts(doc: &Compose, source: &SourceFile) -> crate::facts::FileFacts {
    facts_of(doc, source, true)
}

/// The facts of `doc`; with `apart`, each server and mount names its
/// container and that container's own publishing ([`crate::facts::Container`]).
fn facts_of(doc: &Compose, source: &SourceFile, apart: bool) -> crate::facts::FileFacts {
    if doc.syntax_error.is_some() || !doc.problems.is_empty() {
        return crate::facts::FileFacts::default();
    }
    let container = |s: &Service| {
        apart.then(|| {
            Box::new(crate::facts::Container {
                name: s.name.clone(),
                front: s
                    .host_network
                    .is_none()
                    .then(|| publish::of_service(s, source)),
            })
        })
    };
    let ftp: Vec<crate::facts::FtpServer> = doc
        .services
        .iter()
        .filter_map(|s| {
            let server = server::of(s, source)?;
            Some(crate::facts::FtpServer {
                container: container(s),
                ..server
            })
        })
        .collect();
    let firewall = if ftp.is_empty() {
        None
    } else {
        Some(publish::firewall(doc, source))
    };
    crate::facts::FileFacts {
        ftp,
        firewall,
        mounts: doc
            .services
            .iter()
            .flat_map(|s| {
                let mut mounts = mount_facts(s, source);
                for m in &mut mounts {
                    m.container = container(s);
                    if let Some(server) = &mut m.image_server {
                        server.container = container(s);
                    }
                }
                mounts
            })
            .collect(),
        container_layer: doc
            .services
            .iter()
            .find(|s| !s.volumes.is_empty())
            .map(|s| publish::firewall_for(doc, &[s], source)),
        reads: doc
            .services
            .iter()
            .filter_map(|s| s.dockerfile.clone())
            .collect(),
        ..crate::facts::FileFacts::default()
    }
}

/// The facts of the containers a script starts, read as one compose project.
pub fn started(services: &[Service], source: &SourceFile) -> crate::facts::FileFacts {
    if services.is_empty() {
        return crate::facts::FileFacts::default();
    }
    let doc = Compose {
        services: services.to_vec(),
        ..Compose::default()
    };
    // A script's own INPUT rules are the host's: its containers stay together.
    facts_of(&doc, source, false)
}

/// The service's bind mounts, each with the service's image server, for
/// pairing with the configs found there.
fn mount_facts(service: &Service, source: &SourceFile) -> Vec<crate::facts::Mount> {
    if service.volumes.is_empty() {
        return Vec::new();
    }
    let image_server = server::of(service, source);
    let image_config = service
        .image
        .as_ref()
        .and_then(|(r, _)| images::lookup(r)?.config)
        .map(|c| (c.path, c.mounted));
    let start = service
        .parts
        .starts_other_program
        .clone()
        .filter(|_| service.entrypoint.is_none() && service.command.is_none());
    service
        .volumes
        .iter()
        // A start script the build copies in is followed as a script where it is read.
        .filter(|v| {
            start
                .as_ref()
                .is_none_or(|(program, _)| v.target != *program)
        })
        .map(|v| crate::facts::Mount {
            source: v.source.clone(),
            target: v.target.clone(),
            read_only: v.read_only,
            span: v.span,
            image_server: image_server.clone(),
            image_config,
            container: None,
            // `entrypoint:` or `command:` replace how the built image starts.
            starts_other_program: start.clone(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FileId;

    pub(crate) fn doc(text: &str) -> (Compose, SourceFile) {
        let source = SourceFile::new(FileId(0), "compose.yaml", text.as_bytes());
        (parse(&source), source)
    }

    #[test]
    fn compose_file_names() {
        for yes in [
            "compose.yaml",
            "compose.yml",
            "docker-compose.yml",
            "docker-compose.prod.yml",
            "x/docker-compose.yaml",
        ] {
            assert!(sniff(Path::new(yes)), "{yes}");
        }
        for no in [
            "compose.json",
            "docker-compose-old.yml",
            "composer.yml",
            "values.yaml",
        ] {
            assert!(!sniff(Path::new(no)), "{no}");
        }
    }

    #[test]
    fn environment_as_list_and_as_map() {
        let text = "services:\n  a:\n    image: fauria/vsftpd\n    environment:\n      - PASV_MIN_PORT=21100\n      - \"PASV_MAX_PORT=21110\"\n      - PASS_THROUGH\n  b:\n    image: fauria/vsftpd\n    environment:\n      PASV_ADDRESS: 198.18.0.10\n      EMPTY:\n";
        let (d, src) = doc(text);
        let a = &d.services[0];
        let min = a.env("PASV_MIN_PORT").unwrap();
        assert_eq!(min.value.as_deref(), Some("21100"));
        assert_eq!(src.slice(min.value_span), "21100");
        assert_eq!(src.slice(min.name_span), "PASV_MIN_PORT");
        assert_eq!(
            src.slice(a.env("PASV_MAX_PORT").unwrap().value_span),
            "21110"
        );
        assert_eq!(a.env("PASS_THROUGH").unwrap().value, None);
        let b = &d.services[1];
        let addr = b.env("PASV_ADDRESS").unwrap();
        assert_eq!(addr.value.as_deref(), Some("198.18.0.10"));
        assert_eq!(src.slice(addr.value_span), "198.18.0.10");
        assert_eq!(b.env("EMPTY").unwrap().value, None);
    }

    #[test]
    fn network_mode_host_and_defaults_in_interpolation() {
        let text = "services:\n  ftp:\n    image: ${IMG:-fauria/vsftpd}\n    network_mode: host\n";
        let (d, _) = doc(text);
        assert_eq!(d.services[0].image.as_ref().unwrap().0, "fauria/vsftpd");
        assert!(d.services[0].host_network.is_some());
    }

    #[test]
    fn broken_yaml_is_an_error_not_a_panic() {
        for text in [
            "services: [\n",
            "a: b: c\n",
            "\t- x\n:",
            "services:\n  x: {\n",
        ] {
            let (d, _) = doc(text);
            assert!(d.syntax_error.is_some(), "{text:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn any_text_parses_without_panic(text in "(services:|\\n|  |- |\"|'|\\{|\\}|\\[|\\]|:|ports|image|21|-|\\$\\{|&a|\\*a|<<|é|#)*") {
            let (d, src) = doc(&text);
            let _ = facts(&d, &src);
            for s in &d.services {
                for e in &s.env {
                    proptest::prop_assert!(src.text.get(e.value_span.range()).is_some());
                }
            }
        }
    }
}
