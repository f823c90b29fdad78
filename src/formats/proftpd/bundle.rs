//! A host's ProFTPD configuration: each `proftpd.conf` and the files its
//! `Include`s reach are one bundle (the includes join the main file's host);
//! an included-looking file no main file reaches stands alone and says nothing.

use super::walk::{self, Files, Model};
use super::{Assembled, Config, Finding};
use crate::facts::FtpServer;
use crate::formats::bundle::{Bundle, BundleDoc, resolve_include};
use crate::formats::{Document, ParsedFile};
use crate::source::SourceFile;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn config(part: &ParsedFile) -> Option<&Config> {
    match &part.doc {
        Document::Proftpd(config) => Some(config),
        _ => None,
    }
}

struct Known<'a> {
    by_path: BTreeMap<&'a Path, (&'a SourceFile, &'a Config)>,
}

impl Files for Known<'_> {
    fn get(&self, path: &Path) -> Option<(&SourceFile, &Config)> {
        self.by_path.get(path).copied()
    }

    fn resolve(&self, includer: &Path, target: &str) -> Vec<PathBuf> {
        let known: Vec<&Path> = self.by_path.keys().copied().collect();
        let relative_to = includer.parent().unwrap_or(Path::new(""));
        let found = resolve_include(includer, target, relative_to, &known);
        if !found.is_empty() {
            return found;
        }
        // A directory names every file in it.
        let folder = format!("{}/*", target.trim_end_matches('/'));
        resolve_include(includer, &folder, relative_to, &known)
    }
}

pub fn assemble(parts: Vec<ParsedFile>) -> Vec<Bundle> {
    let walks: Vec<(PathBuf, Model)> = {
        let known = Known {
            by_path: parts
                .iter()
                .filter_map(|p| config(p).map(|c| (p.source.path.as_path(), (&p.source, c))))
                .collect(),
        };
        parts
            .iter()
            .filter(|p| config(p).is_some_and(|c| c.main))
            .map(|p| (p.source.path.clone(), walk::walk(&known, &p.source.path)))
            .collect()
    };
    let mut owner: BTreeMap<PathBuf, usize> = BTreeMap::new();
    for (i, (main, _)) in walks.iter().enumerate() {
        owner.insert(main.clone(), i);
    }
    for (i, (_, model)) in walks.iter().enumerate() {
        for path in &model.read {
            owner.entry(path.clone()).or_insert(i);
        }
    }
    let mut groups: Vec<Vec<ParsedFile>> = walks.iter().map(|_| Vec::new()).collect();
    let mut alone = Vec::new();
    for part in parts {
        match owner.get(&part.source.path) {
            Some(&i) => groups[i].push(part),
            None => alone.push(part),
        }
    }
    let mut bundles = Vec::new();
    for ((main, model), mut parts) in walks.into_iter().zip(groups) {
        parts.sort_by_key(|p| (p.source.path != main, p.source.path.clone()));
        bundles.push(Bundle {
            primary: parts[0].source.id,
            parts,
            doc: BundleDoc::Proftpd(Assembled {
                model: Some(Box::new(model)),
            }),
        });
    }
    bundles.extend(alone.into_iter().map(|part| Bundle {
        primary: part.source.id,
        parts: vec![part],
        doc: BundleDoc::Proftpd(Assembled { model: None }),
    }));
    bundles
}

pub fn facts(model: &Assembled, bundle: &Bundle) -> Vec<FtpServer> {
    match &model.model {
        Some(m) => super::facts::servers(m, &bundle.primary_file().source),
        None => Vec::new(),
    }
}

/// The findings of a bundle's walk, for rules.
pub fn findings(bundle: &Bundle) -> Vec<&Finding> {
    match &bundle.doc {
        BundleDoc::Proftpd(Assembled { model: Some(m) }) => m.findings.iter().collect(),
        _ => Vec::new(),
    }
}
