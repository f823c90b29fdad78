//! Merging a later compose file into an earlier one, as `docker compose` does
//! with `docker-compose.override.yml` (or any second `-f` file): the rules of
//! <https://docs.docker.com/compose/how-tos/multiple-compose-files/merge/>, checked
//! against docker-compose 1.29's `merge_service_dicts`.
//!
//! - scalars (`image`, `network_mode`, `command`) are replaced;
//! - `environment` is merged by variable name, the later file winning;
//! - `env_file` lists are concatenated (the later file's variables win);
//! - `ports` are concatenated, an entry identical to an earlier one (same
//!   target, published ports, address and protocol) kept once; `expose` likewise;
//! - `volumes` are merged by the path inside the container;
//! - `build` in the later file replaces what the earlier one builds.

use super::{Compose, EnvVar, Service};

/// `over` merged into `base`: `base`'s services first, in their order, then the
/// services only `over` has. A syntax error or a refused value in either stops
/// the whole project.
pub fn files(mut base: Compose, over: Compose) -> Compose {
    for service in over.services {
        match base.services.iter_mut().find(|s| s.name == service.name) {
            Some(earlier) => *earlier = merged(std::mem::replace(earlier, empty()), service),
            None => base.services.push(service),
        }
    }
    base.syntax_error = base.syntax_error.or(over.syntax_error);
    base.problems.extend(over.problems);
    base
}

/// A placeholder while a service is merged.
fn empty() -> Service {
    Service {
        name: String::new(),
        name_span: crate::source::Span::new(crate::source::FileId(0), 0, 0),
        image: None,
        ports: Vec::new(),
        ports_span: None,
        host_network: None,
        env: Vec::new(),
        volumes: Vec::new(),
        parts: super::Parts::default(),
        dockerfile: None,
        expose: Vec::new(),
        entrypoint: None,
        command: None,
    }
}

/// One service of the later file merged into the same service of the earlier one.
fn merged(base: Service, over: Service) -> Service {
    let mut out = base.clone();
    // What runs: a later `build:` replaces everything built before; a later
    // `image:` names what runs only when neither file builds.
    let (copies_from, built) = if over.parts.built {
        out.image = over.image.clone();
        out.dockerfile = over.dockerfile.clone();
        out.parts.image = over.parts.image.clone();
        out.parts.starts_other_program = over.parts.starts_other_program.clone();
        (&over, true)
    } else {
        if !base.parts.built && over.image.is_some() {
            out.image = over.image.clone();
        }
        (&base, base.parts.built)
    };
    out.parts.built = built;
    // `command` and `entrypoint` are replaced, as other scalars.
    if over.entrypoint.is_some() {
        out.entrypoint = over.entrypoint.clone();
    }
    if over.command.is_some() {
        out.command = over.command.clone();
    }
    if over.parts.network_mode {
        out.host_network = over.host_network;
        out.parts.network_mode = true;
    }
    for entry in &over.ports {
        if !out.ports.iter().any(|p| same_port(p, entry)) {
            out.ports.push(entry.clone());
        }
    }
    out.ports_span = base.ports_span.or(over.ports_span);
    for item in &over.expose {
        if !out.expose.iter().any(|e| e.0 == item.0) {
            out.expose.push(*item);
        }
    }
    out.volumes = volumes(&base, &over, copies_from);
    out.parts.copied = copies_from.parts.copied;
    out.parts
        .env_file
        .extend(over.parts.env_file.iter().cloned());
    out.parts.environment = environment(&base.parts.environment, &over.parts.environment);
    out.env = out.parts.flattened();
    out
}

/// Identical entries publish once (docker-compose keys them by target, published
/// ports, address and protocol).
fn same_port(a: &super::ports::PortEntry, b: &super::ports::PortEntry) -> bool {
    a.target == b.target
        && a.published == b.published
        && a.host_ip == b.host_ip
        && a.protocol == b.protocol
}

/// The copies of the build that runs, then the earlier bind mounts the later
/// file does not mount over, then the later file's.
fn volumes(base: &Service, over: &Service, copies_from: &Service) -> Vec<super::mounts::Volume> {
    let copies = &copies_from.volumes[..copies_from.parts.copied.min(copies_from.volumes.len())];
    let mounted = |s: &Service| s.volumes.get(s.parts.copied..).unwrap_or(&[]).to_vec();
    let later = mounted(over);
    let earlier: Vec<_> = mounted(base)
        .into_iter()
        .filter(|v| !later.iter().any(|l| l.target == v.target))
        .collect();
    copies.iter().cloned().chain(earlier).chain(later).collect()
}

/// `environment:` merged by name: the later file's entry replaces the earlier
/// one (a pass-through `- NAME` too: the value then comes from the shell).
fn environment(base: &[EnvVar], over: &[EnvVar]) -> Vec<EnvVar> {
    base.iter()
        .filter(|e| !over.iter().any(|o| o.name == e.name))
        .chain(over)
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{FileId, SourceFile};

    fn read(id: u32, text: &str) -> (Compose, SourceFile) {
        let source = SourceFile::new(FileId(id), "compose.yaml", text.as_bytes());
        (super::super::parse(&source), source)
    }

    #[test]
    fn environment_is_merged_by_name_and_ports_are_concatenated() {
        let (base, _) = read(
            0,
            "services:\n  ftp:\n    image: fauria/vsftpd\n    environment:\n      - PASV_MIN_PORT=21100\n      - PASV_ADDRESS=198.51.100.1\n    ports:\n      - \"21:21\"\n",
        );
        let (over, over_src) = read(
            1,
            "services:\n  ftp:\n    environment:\n      PASV_MIN_PORT: 30000\n    ports:\n      - \"21:21\"\n      - \"30000-30010:30000-30010\"\n  web:\n    image: nginx\n",
        );
        let all = files(base, over);
        assert_eq!(all.services.len(), 2);
        let ftp = &all.services[0];
        assert_eq!(ftp.image.as_ref().unwrap().0, "fauria/vsftpd");
        let min = ftp.env("PASV_MIN_PORT").unwrap();
        assert_eq!(min.value.as_deref(), Some("30000"));
        assert_eq!(min.value_span.file, FileId(1));
        assert_eq!(over_src.slice(min.value_span), "30000");
        assert_eq!(
            ftp.env("PASV_ADDRESS").unwrap().value.as_deref(),
            Some("198.51.100.1")
        );
        assert_eq!(ftp.env.len(), 2);
        assert_eq!(ftp.ports.len(), 2, "the identical 21:21 publishes once");
        assert_eq!(ftp.ports[1].target, (30000, 30010));
    }

    #[test]
    fn later_scalars_replace_earlier_ones() {
        let (base, _) = read(
            0,
            "services:\n  ftp:\n    image: fauria/vsftpd\n    network_mode: host\n",
        );
        let (over, _) = read(
            1,
            "services:\n  ftp:\n    image: delfer/alpine-ftp-server\n    network_mode: bridge\n",
        );
        let all = files(base, over);
        assert_eq!(
            all.services[0].image.as_ref().unwrap().0,
            "delfer/alpine-ftp-server"
        );
        assert!(all.services[0].host_network.is_none());
    }

    #[test]
    fn env_file_variables_lose_to_environment_of_either_file() {
        let (base, _) = read(
            0,
            "services:\n  ftp:\n    image: fauria/vsftpd\n    environment:\n      A: base\n",
        );
        let (mut over, _) = read(1, "services:\n  ftp:\n    environment:\n      B: over\n");
        let file_var = EnvVar {
            name: "A".into(),
            name_span: over.services[0].name_span,
            value: Some("from-file".into()),
            value_span: over.services[0].name_span,
        };
        over.services[0].parts.env_file.push(file_var);
        let all = files(base, over);
        let s = &all.services[0];
        assert_eq!(s.env("A").unwrap().value.as_deref(), Some("base"));
        assert_eq!(s.env("B").unwrap().value.as_deref(), Some("over"));
    }
}
