//! pasvlint: checks that FTP servers' passive ports and their firewalls agree.
//!
//! Data flows one way: discover → parse → facts → hosts → rules → emit.

pub mod addrset;
pub mod diag;
pub mod discover;
pub mod emit;
pub mod facts;
pub mod filter;
pub mod formats;
pub mod hosts;
pub mod lsp;
pub mod policy;
pub mod portset;
pub mod rules;
pub mod scripts;
pub mod source;
pub mod suppress;

use diag::Diagnostic;
use facts::FileFacts;
use formats::Format;
use hosts::{FileEntry, Host, HostSpec};
use policy::Config;
use rayon::prelude::*;
use rules::Rule;
use source::{FileId, SourceFile, SourceMap};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};

/// Everything a run found, ready for an emitter.
#[derive(Debug)]
pub struct Report {
    pub sources: SourceMap,
    /// Recognised files and their format, in path order.
    pub files: Vec<(FileId, Format)>,
    /// Recognised files that are backup copies (`iptables.old`, ...): listed, never
    /// part of a host's servers or firewall.
    pub backups: BTreeSet<FileId>,
    pub hosts: Vec<Host>,
    /// Sorted findings after selection and severity overrides.
    pub diagnostics: Vec<Diagnostic>,
    /// Files or paths that could not be read at all.
    pub unreadable: Vec<(PathBuf, String)>,
    pub suppressed: usize,
}

/// Unsaved editor buffers that replace the file on disk with the same path.
pub type Overlay = HashMap<PathBuf, String>;

/// Lint every file under `paths` with `config`.
pub fn lint(paths: &[PathBuf], config: &Config) -> Report {
    lint_with(paths, config, &Overlay::new())
}

/// Lint as [`lint`], reading files in `overlay` from memory instead of disk.
pub fn lint_with(paths: &[PathBuf], config: &Config, overlay: &Overlay) -> Report {
    let mut found = discover::discover(paths);
    include_overlay(&mut found, paths, overlay);
    let enabled = enabled_rules(config);
    let processed: Vec<Result<Option<Processed>, (PathBuf, String)>> = found
        .files
        .par_iter()
        .enumerate()
        .map(|(i, path)| process_file(FileId(i as u32), path, &enabled, overlay))
        .collect();

    let mut unreadable = found.errors;
    let mut sources = Vec::with_capacity(processed.len());
    let mut entries = Vec::new();
    let mut files = Vec::new();
    let mut diagnostics = Vec::new();
    let mut suppressions = Vec::new();
    for result in processed {
        match result {
            Ok(Some(p)) => {
                files.push((p.source.id, p.format));
                diagnostics.extend(p.diagnostics);
                suppressions.extend(p.suppressions);
                entries.push((p.source.id, p.source.path.clone(), p.facts));
                sources.push(Some(p.source));
            }
            Ok(None) => sources.push(None),
            Err(e) => {
                unreadable.push(e);
                sources.push(None);
            }
        }
    }
    let sources = SourceMap::new(sources);
    let backups = backup_files(&entries, &found.files);
    let entries = without_backup_facts(entries, &backups);
    let hosts = group_hosts(entries, config);
    diagnostics.extend(check_hosts(&hosts, &enabled, config));
    let (mut diagnostics, suppressed) = if config.policy.inline_suppressions.unwrap_or(true) {
        apply_suppressions(diagnostics, &suppressions, &sources, &enabled)
    } else {
        (diagnostics, 0)
    };
    diagnostics.retain(|d| !(backups.contains(&d.primary.span.file) && skips_backups(d.rule)));
    let diagnostics = finish(diagnostics, &hosts, config);
    Report {
        sources,
        files,
        backups,
        hosts,
        diagnostics,
        unreadable,
        suppressed,
    }
}

/// Files named as backups (see [`formats::backup`]) that no script restores. The
/// restores of files that are themselves named as backups do not count.
fn backup_files(
    entries: &[(FileId, PathBuf, FileFacts)],
    discovered: &[PathBuf],
) -> BTreeSet<FileId> {
    let on_disk: HashSet<&Path> = discovered.iter().map(PathBuf::as_path).collect();
    let named_as_backup = |path: &Path| formats::backup::named_as_backup(path, &on_disk);
    let restores: Vec<(&Path, &formats::backup::Restored)> = entries
        .iter()
        .filter(|(_, script, _)| !named_as_backup(script))
        .flat_map(|(_, script, facts)| facts.restores.iter().map(move |r| (script.as_path(), r)))
        .collect();
    entries
        .iter()
        .filter(|(_, path, _)| named_as_backup(path))
        .filter(|(_, path, _)| !restores.iter().any(|(script, r)| r.is(path, script)))
        .map(|(id, _, _)| *id)
        .collect()
}

/// A backup is not what the system loads: it keeps its place in the tree (so its
/// findings name a host) but brings no server and no firewall.
fn without_backup_facts(
    entries: Vec<(FileId, PathBuf, FileFacts)>,
    backups: &BTreeSet<FileId>,
) -> Vec<(FileId, PathBuf, FileFacts)> {
    entries
        .into_iter()
        .map(|(id, path, facts)| {
            let facts = if backups.contains(&id) {
                FileFacts::default()
            } else {
                facts
            };
            (id, path, facts)
        })
        .collect()
}

/// Whether a rule judges a file as the ruleset in effect, so it stays quiet on backups.
fn skips_backups(rule: &str) -> bool {
    rules::registry()
        .iter()
        .any(|r| r.rule.name() == rule && r.rule.skips_backups())
}

/// Drop suppressed findings; report suppressions that matched nothing or expired
/// (only for rules that ran, so `--select` does not make every comment "unused").
fn apply_suppressions(
    diagnostics: Vec<Diagnostic>,
    suppressions: &[suppress::Suppression],
    sources: &SourceMap,
    enabled: &[&'static dyn Rule],
) -> (Vec<Diagnostic>, usize) {
    let applied = suppress::apply(diagnostics, suppressions, sources, suppress::Date::today());
    let mut kept = applied.kept;
    let is_enabled = |name: &str| enabled.iter().any(|r| r.name() == name);
    for (s, why) in &applied.unused {
        let ran = s
            .rules
            .iter()
            .any(|r| is_enabled(r) || rules::meta(r).is_none());
        let report = match why {
            suppress::Unused::NoMatch => "unused-suppression",
            suppress::Unused::Expired => "expired-suppression",
        };
        if ran && is_enabled(report) {
            kept.push(rules::suppression_finding(s, why));
        }
    }
    (kept, applied.suppressed)
}

/// Buffers not on disk (stdin, a new unsaved file) are linted where they would be.
fn include_overlay(found: &mut discover::Discovered, paths: &[PathBuf], overlay: &Overlay) {
    found.errors.retain(|(p, _)| !overlay.contains_key(p));
    for path in overlay.keys() {
        if paths.iter().any(|root| path.starts_with(root)) && !found.files.contains(path) {
            found.files.push(path.clone());
        }
    }
    found.files.sort();
}

struct Processed {
    source: SourceFile,
    format: Format,
    facts: FileFacts,
    diagnostics: Vec<Diagnostic>,
    suppressions: Vec<suppress::Suppression>,
}

/// Read, classify, parse, run the file rules, extract facts; the parsed
/// document is dropped here so only facts and text outlive this stage.
fn process_file(
    id: FileId,
    path: &Path,
    rules: &[&'static dyn Rule],
    overlay: &Overlay,
) -> Result<Option<Processed>, (PathBuf, String)> {
    let bytes = match overlay.get(path) {
        Some(text) => text.clone().into_bytes(),
        None => read_capped(path)?,
    };
    let byte_len = bytes.len();
    let (text, encoding) = source::decode(bytes);
    let Some(format) = formats::classify(path, &text) else {
        return Ok(None);
    };
    let source = SourceFile::from_text(id, path, text, encoding, byte_len);
    let parsed = formats::parse(source, format);
    let mut diagnostics = Vec::new();
    for rule in rules {
        rule.check_file(&parsed, &mut diagnostics);
    }
    let facts = formats::facts(&parsed);
    let suppressions = suppress::scan(&parsed.source, format.comment_style());
    Ok(Some(Processed {
        source: parsed.source,
        format,
        facts,
        diagnostics,
        suppressions,
    }))
}

fn read_capped(path: &Path) -> Result<Vec<u8>, (PathBuf, String)> {
    let meta = std::fs::metadata(path).map_err(|e| (path.to_path_buf(), e.to_string()))?;
    if meta.len() > discover::MAX_FILE_BYTES {
        return Ok(Vec::new());
    }
    std::fs::read(path).map_err(|e| (path.to_path_buf(), e.to_string()))
}

fn group_hosts(entries: Vec<(FileId, PathBuf, FileFacts)>, config: &Config) -> Vec<Host> {
    let entries = entries
        .into_iter()
        .map(|(id, path, facts)| FileEntry { id, path, facts })
        .collect();
    hosts::group(entries, &host_specs(config))
}

/// `[[hosts]]` globs match paths relative to the config file's directory.
fn host_specs(config: &Config) -> Vec<HostSpec> {
    let root = config.root.clone().unwrap_or_default();
    config
        .hosts
        .iter()
        .map(|h| {
            let mut builder = globset::GlobSetBuilder::new();
            for g in &h.files {
                if let Ok(glob) = globset::Glob::new(g) {
                    builder.add(glob);
                }
            }
            let set = builder
                .build()
                .unwrap_or_else(|_| globset::GlobSet::empty());
            let root = root.clone();
            HostSpec {
                name: h.name.clone(),
                matches: Box::new(move |p: &Path| {
                    let abs = std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
                    let rel = abs.strip_prefix(&root).unwrap_or(p);
                    set.is_match(rel) || set.is_match(p)
                }),
            }
        })
        .collect()
}

fn check_hosts(hosts: &[Host], rules: &[&'static dyn Rule], config: &Config) -> Vec<Diagnostic> {
    hosts
        .par_iter()
        .flat_map_iter(|host| {
            let mut out = Vec::new();
            for rule in rules {
                rule.check_host(host, &config.policy, &mut out);
            }
            for d in &mut out {
                d.host = Some(host.name.clone());
            }
            out
        })
        .collect()
}

/// Severities, host names for file findings, stable order, no duplicates.
fn finish(mut diagnostics: Vec<Diagnostic>, hosts: &[Host], config: &Config) -> Vec<Diagnostic> {
    let host_of: HashMap<FileId, &str> = hosts
        .iter()
        .flat_map(|h| h.files.iter().map(move |f| (*f, h.name.as_str())))
        .collect();
    for d in &mut diagnostics {
        d.severity = config
            .rules
            .severity
            .get(d.rule)
            .copied()
            .or_else(|| {
                rules::meta(d.rule).map(|m| d.at_most.map_or(m.severity, |cap| cap.min(m.severity)))
            })
            .unwrap_or(d.severity);
        if d.host.is_none() {
            d.host = host_of.get(&d.primary.span.file).map(|h| (*h).to_owned());
        }
    }
    diagnostics.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    diagnostics.dedup();
    diagnostics
}

/// Rules left after `[rules] select/ignore` (by name or category).
pub fn enabled_rules(config: &Config) -> Vec<&'static dyn Rule> {
    let selects = |list: &[String], name: &str| {
        let category = rules::meta(name).map(|m| m.category.as_str());
        list.iter()
            .any(|s| s == name || s == "all" || Some(s.as_str()) == category)
    };
    rules::registry()
        .iter()
        .map(|r| r.rule)
        .filter(|r| config.rules.select.is_empty() || selects(&config.rules.select, r.name()))
        .filter(|r| !selects(&config.rules.ignore, r.name()))
        .collect()
}
