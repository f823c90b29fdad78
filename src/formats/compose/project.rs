//! A compose project: the file `docker compose` reads when no `-f` is given,
//! with the override file beside it merged in ([`super::merge`]). Compose (v2,
//! `compose-go`'s `DefaultFileNames`) takes the first of `compose.yaml`,
//! `compose.yml`, `docker-compose.yml`, `docker-compose.yaml` in a folder, then
//! the first of `compose.override.yml`, `compose.override.yaml`,
//! `docker-compose.override.yml`, `docker-compose.override.yaml`. Every other
//! compose file (`docker-compose.prod.yml`, a second base name) is read only
//! with `-f`, on its own.

use super::Compose;
use crate::facts::FileFacts;
use crate::formats::bundle::{Bundle, BundleDoc};
use crate::formats::{Document, ParsedFile};
use std::collections::BTreeMap;
use std::path::PathBuf;

const BASE_NAMES: [&str; 4] = [
    "compose.yaml",
    "compose.yml",
    "docker-compose.yml",
    "docker-compose.yaml",
];
const OVERRIDE_NAMES: [&str; 4] = [
    "compose.override.yml",
    "compose.override.yaml",
    "docker-compose.override.yml",
    "docker-compose.override.yaml",
];

/// One bundle per project: the base file of a folder with its override, and
/// every other compose file alone.
pub fn assemble(parts: Vec<ParsedFile>) -> Vec<Bundle> {
    let mut folders: BTreeMap<PathBuf, Vec<ParsedFile>> = BTreeMap::new();
    for part in parts {
        let folder = part.source.path.parent().map(PathBuf::from);
        folders
            .entry(folder.unwrap_or_default())
            .or_default()
            .push(part);
    }
    folders.into_values().flat_map(folder).collect()
}

fn folder(mut parts: Vec<ParsedFile>) -> Vec<Bundle> {
    let named = |parts: &[ParsedFile], names: &[&str]| {
        names
            .iter()
            .find_map(|n| parts.iter().position(|p| file_name(p) == Some(n)))
    };
    let mut bundles = Vec::new();
    if let (Some(b), Some(o)) = (named(&parts, &BASE_NAMES), named(&parts, &OVERRIDE_NAMES)) {
        let (first, second) = (b.max(o), b.min(o));
        let later = parts.remove(first);
        let earlier = parts.remove(second);
        let (base, over) = if b > o {
            (later, earlier)
        } else {
            (earlier, later)
        };
        let merged = super::merge::files(doc(&base), doc(&over));
        bundles.push(Bundle {
            primary: base.source.id,
            parts: vec![base, over],
            doc: BundleDoc::Compose(Box::new(merged)),
        });
    }
    bundles.extend(parts.into_iter().map(|p| Bundle {
        primary: p.source.id,
        doc: BundleDoc::Compose(Box::new(doc(&p))),
        parts: vec![p],
    }));
    bundles
}

fn file_name(part: &ParsedFile) -> Option<&str> {
    part.source.path.file_name()?.to_str()
}

fn doc(part: &ParsedFile) -> Compose {
    match &part.doc {
        Document::Compose(c) => c.clone(),
        _ => Compose::default(),
    }
}

/// The project's facts, on its base file; the override's spans stay its own.
pub fn facts(doc: &Compose, bundle: &Bundle) -> FileFacts {
    let mut facts = super::facts(doc, &bundle.primary_file().source);
    for fw in facts
        .firewall
        .iter_mut()
        .chain(facts.container_layer.iter_mut())
    {
        fw.files.extend(bundle.members());
    }
    facts
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::{Format, parse};
    use crate::source::{FileId, SourceFile};

    fn part(id: u32, path: &str, text: &str) -> ParsedFile {
        parse(
            SourceFile::new(FileId(id), path, text.as_bytes()),
            Format::Compose,
        )
    }

    #[test]
    fn the_override_beside_the_base_file_is_one_project() {
        let base = "services:\n  ftp:\n    image: fauria/vsftpd\n";
        let over = "services:\n  ftp:\n    environment:\n      PASV_MIN_PORT: 30000\n";
        let bundles = assemble(vec![
            part(0, "a/docker-compose.override.yml", over),
            part(1, "a/docker-compose.yml", base),
            part(2, "a/docker-compose.prod.yml", base),
            part(3, "b/compose.override.yaml", over),
        ]);
        assert_eq!(bundles.len(), 3);
        let project = bundles.iter().find(|b| b.parts.len() == 2).unwrap();
        assert_eq!(project.primary, FileId(1));
        assert_eq!(project.members().collect::<Vec<_>>(), [FileId(0)]);
        let BundleDoc::Compose(doc) = &project.doc else {
            panic!()
        };
        let min = doc.services[0].env("PASV_MIN_PORT").unwrap();
        assert_eq!(min.value.as_deref(), Some("30000"));
    }

    #[test]
    fn compose_yaml_wins_over_docker_compose_yml() {
        let base = "services: {}\n";
        let bundles = assemble(vec![
            part(0, "docker-compose.yml", base),
            part(1, "compose.yaml", base),
            part(2, "compose.override.yml", base),
        ]);
        let project = bundles.iter().find(|b| b.parts.len() == 2).unwrap();
        assert_eq!(project.primary, FileId(1));
    }
}
