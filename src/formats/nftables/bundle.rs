//! A ruleset spread over files: each file no other file includes is a bundle,
//! with every file its `include`s reach (transitively) as members; the tables
//! they declare are merged as `nft -f` merges them, so the host has one firewall.
//!
//! `nft` searches a relative include in its include path (`/etc` by default), not
//! beside the including file, and opens one starting with `./` or `../` from its
//! working directory ([`include_target`]); an absolute one is looked for under each
//! folder above the includer taken as the host's `/` ([`resolve_include`]).

use super::lex::Token;
use super::model::{Define, Env, File, Table};
use crate::formats::bundle::{Bundle, BundleDoc, resolve_include};
use crate::formats::{Document, ParsedFile};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

fn file_of(part: &ParsedFile) -> Option<&File> {
    match &part.doc {
        Document::Nftables(file) => Some(file),
        _ => None,
    }
}

/// Each part's includes: where each stands (the offset of its end) and the
/// parts it names, in include order.
fn includes(parts: &[ParsedFile]) -> Vec<Vec<(usize, Vec<usize>)>> {
    let known: Vec<&Path> = parts.iter().map(|p| p.source.path.as_path()).collect();
    parts
        .iter()
        .map(|part| {
            let Some(file) = file_of(part) else {
                return Vec::new();
            };
            file.includes
                .iter()
                .map(|inc| {
                    let target = include_target(&inc.path);
                    let from = search_from(&part.source.path, &inc.path);
                    let named = resolve_include(from, &target, Path::new(""), &known)
                        .into_iter()
                        .filter_map(|path| known.iter().position(|k| *k == path.as_path()))
                        .collect();
                    (inc.span.end as usize, named)
                })
                .collect()
        })
        .collect()
}

/// The absolute path on the host that `nft -f` opens for `include "PATH"`, as
/// nftables 1.0.6's `include_file` decides (`search_in_include_path`): an absolute
/// path as written; `./` and `../` paths from the working directory, which is `/`
/// when nftables.service loads the ruleset at boot (measured: `include "./x.nft"`
/// loads `$PWD/x.nft`); any other relative path from the include path, `/etc`.
pub fn include_target(path: &str) -> String {
    if path.starts_with('/') {
        return path.to_owned();
    }
    if !(path.starts_with("./") || path.starts_with("../")) {
        return format!("/etc/{path}");
    }
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            _ => parts.push(part),
        }
    }
    format!("/{}", parts.join("/"))
}

/// The path whose folders above it stand for the host's `/` when looking for
/// what `include "PATH"` names: the includer's; for a `./` or `../` path of a file
/// under an `etc` folder, that `etc` folder, so that the folder holding `etc` is the
/// root (the includer's own folder as `/` would put `./x` beside it, where nft at
/// boot does not look).
pub fn search_from<'p>(includer: &'p Path, path: &str) -> &'p Path {
    if !(path.starts_with("./") || path.starts_with("../")) {
        return includer;
    }
    includer
        .ancestors()
        .skip(1)
        .find(|a| a.file_name().is_some_and(|n| n == "etc"))
        .unwrap_or(includer)
}

type Definitions = BTreeMap<String, Vec<Token>>;

/// nft reads an include in place: the included file sees the definitions made
/// before the include, and the includer sees those the included file makes.
/// Files that use definitions made elsewhere are read again with them.
fn bring_definitions(parts: &mut [ParsedFile], incs: &[Vec<(usize, Vec<usize>)>], roots: &[usize]) {
    let mut envs: Vec<Option<Env>> = vec![None; parts.len()];
    let mut exports: Vec<Option<Definitions>> = vec![None; parts.len()];
    for &root in roots {
        visit(
            root,
            Definitions::new(),
            parts,
            incs,
            &mut envs,
            &mut exports,
        );
    }
    for (part, env) in parts.iter_mut().zip(envs) {
        if let Some(env) = env.filter(|e| !e.is_empty()) {
            part.doc = Document::Nftables(super::parse::parse_in(&part.source, &env));
        }
    }
}

/// The definitions in force at the end of part `at`, entered with `inherited`.
fn visit(
    at: usize,
    inherited: Definitions,
    parts: &[ParsedFile],
    incs: &[Vec<(usize, Vec<usize>)>],
    envs: &mut [Option<Env>],
    exports: &mut [Option<Definitions>],
) -> Definitions {
    if envs[at].is_some() {
        // Read already (or being read: an include loop).
        return exports[at].clone().unwrap_or(inherited);
    }
    let Some(file) = file_of(&parts[at]) else {
        return inherited;
    };
    envs[at] = Some(Env::default());
    let mut events: Vec<(usize, Option<&Define>, &[usize])> = file
        .defines
        .iter()
        .map(|d| (d.at, Some(d), &[][..]))
        .chain(
            incs[at]
                .iter()
                .map(|(pos, named)| (*pos, None, named.as_slice())),
        )
        .collect();
    events.sort_by_key(|e| e.0);
    let mut env = Env {
        inherited: inherited.clone().into_iter().collect(),
        from_includes: Vec::new(),
    };
    let mut now = inherited;
    for (pos, define, named) in events {
        if let Some(d) = define {
            now.insert(d.name.clone(), d.value.clone());
        }
        for &child in named {
            now = visit(child, now.clone(), parts, incs, envs, exports);
            env.from_includes
                .push((pos, now.clone().into_iter().collect()));
        }
    }
    envs[at] = Some(env);
    exports[at] = Some(now.clone());
    now
}

pub fn assemble(mut parts: Vec<ParsedFile>) -> Vec<Bundle> {
    let incs = includes(&parts);
    let edges: Vec<Vec<usize>> = incs
        .iter()
        .map(|i| i.iter().flat_map(|(_, named)| named).copied().collect())
        .collect();
    let included: BTreeSet<usize> = edges.iter().flatten().copied().collect();
    let roots: Vec<usize> = (0..parts.len()).filter(|i| !included.contains(i)).collect();
    bring_definitions(&mut parts, &incs, &roots);
    let mut owner: Vec<Option<usize>> = vec![None; parts.len()];
    let mut merged: Vec<(usize, File)> = Vec::new();
    for &root in &roots {
        let mut model = File::default();
        let mut seen = BTreeSet::new();
        merge_from(root, &parts, &edges, &mut model, &mut seen);
        for i in seen {
            owner[i].get_or_insert(root);
        }
        merged.push((root, model));
    }
    // Files that include each other in a loop with no outside root stand alone.
    for (i, slot) in owner.iter_mut().enumerate() {
        if slot.is_none() {
            *slot = Some(i);
            merged.push((i, file_of(&parts[i]).cloned().unwrap_or_default()));
        }
    }
    for (i, part) in parts.iter_mut().enumerate() {
        let root = owner[i].unwrap_or(i);
        let ruleset = merged.iter().find(|(r, _)| *r == root).map(|(_, m)| m);
        if let (Document::Nftables(file), Some(ruleset)) = (&mut part.doc, ruleset) {
            super::helper_refs::confirm(file, ruleset);
        }
    }
    let primaries: Vec<_> = parts.iter().map(|p| p.source.id).collect();
    let mut groups: Vec<Vec<ParsedFile>> = (0..parts.len()).map(|_| Vec::new()).collect();
    for (i, part) in parts.into_iter().enumerate() {
        groups[owner[i].unwrap_or(i)].push(part);
    }
    merged
        .into_iter()
        .map(|(root, model)| {
            let mut members = std::mem::take(&mut groups[root]);
            let primary = primaries[root];
            // The primary first, then the others in path order.
            members.sort_by_key(|p| (p.source.id != primary, p.source.path.clone()));
            Bundle {
                primary,
                doc: BundleDoc::Nftables(Box::new(model)),
                parts: members,
            }
        })
        .collect()
}

/// The part's own tables, then what its includes add, depth first; a file met
/// twice (a loop) is read once.
fn merge_from(
    at: usize,
    parts: &[ParsedFile],
    edges: &[Vec<usize>],
    model: &mut File,
    seen: &mut BTreeSet<usize>,
) {
    if !seen.insert(at) {
        return;
    }
    let Some(file) = file_of(&parts[at]) else {
        return;
    };
    merge(model, file);
    for &child in &edges[at] {
        merge_from(child, parts, edges, model, seen);
    }
}

/// `nft -f` adds a table's chains, sets and helpers to a table of the same family
/// and name, and a chain's rules to a chain of the same name.
fn merge(into: &mut File, file: &File) {
    if file.flushes {
        into.tables.clear();
        into.flushes = true;
    }
    for table in &file.tables {
        match into
            .tables
            .iter_mut()
            .find(|t| t.family == table.family && t.name == table.name)
        {
            Some(existing) => merge_table(existing, table),
            None => into.tables.push(table.clone()),
        }
    }
}

fn merge_table(into: &mut Table, table: &Table) {
    for chain in &table.chains {
        match into.chains.iter_mut().find(|c| c.name == chain.name) {
            Some(existing) => {
                if existing.base.is_none() {
                    existing.base = chain.base.clone();
                }
                existing.rules.extend(chain.rules.iter().cloned());
            }
            None => into.chains.push(chain.clone()),
        }
    }
    into.sets.extend(table.sets.iter().cloned());
    into.helpers.extend(table.helpers.iter().cloned());
}

/// The host's firewalls, as the merged ruleset decides them.
pub fn facts(model: &File, bundle: &Bundle) -> crate::facts::FileFacts {
    let (firewall, firewall_v6) = super::facts(model, &bundle.primary_file().source, true);
    crate::facts::FileFacts {
        firewall,
        firewall_v6,
        ..Default::default()
    }
}
