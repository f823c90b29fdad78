//! pasvlint: checks that FTP servers' passive ports and their firewalls agree.
//!
//! Data flows one way: discover → parse → facts → hosts → rules → emit.

pub mod addrset;
mod closed_if;
pub mod diag;
pub mod discover;
pub mod emit;
pub mod facts;
pub mod filter;
mod firewall_fix;
pub mod fix;
pub mod formats;
pub mod helper;
pub mod hosts;
pub mod jail;
pub mod limits;
pub mod lsp;
pub mod mounted;
pub mod platform;
pub mod policy;
pub mod portset;
pub mod rules;
pub mod scripts;
pub mod source;
pub mod suppress;

use diag::Diagnostic;
use facts::FileFacts;
use formats::Format;
use hosts::{Brought, FileEntry, Host, HostSpec};
use policy::Config;
use rayon::prelude::*;
use rules::Rule;
use source::{FileId, SourceFile, SourceMap, Span};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
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
    /// Symlinks the walk met and did not follow, with what they point at.
    pub links: Vec<(PathBuf, String)>,
    pub suppressed: usize,
}

impl Report {
    /// Recognised files on disk (the documents scripts write are not counted).
    pub fn file_count(&self) -> usize {
        self.files
            .iter()
            .filter(|(id, _)| self.sources.get(*id).is_some_and(|f| !f.is_virtual()))
            .count()
    }
}

/// Unsaved editor buffers that replace the file on disk with the same path.
pub type Overlay = HashMap<PathBuf, String>;

/// Lint every file under `paths` with `config`.
pub fn lint(paths: &[PathBuf], config: &Config) -> Report {
    lint_with(paths, config, &Overlay::new())
}

/// Lint as [`lint`], reading files in `overlay` from memory instead of disk.
pub fn lint_with(paths: &[PathBuf], config: &Config, overlay: &Overlay) -> Report {
    let walk = discover::Walk {
        respect_ignore_files: config.files.respect_gitignore.unwrap_or(true),
        threads: rayon::current_num_threads(),
    };
    let mut found = discover::discover(paths, walk);
    include_overlay(&mut found, paths, overlay);
    let enabled = enabled_rules(config);
    let processed: Vec<Result<Option<Read>, (PathBuf, String)>> = found
        .files
        .par_iter()
        .enumerate()
        .map(|(i, path)| process_file(FileId(i as u32), path, (&enabled, &config.limits), overlay))
        .collect();

    let mut unreadable = found.errors;
    // Sized up front: an entry's facts are over 2 KB, and growing these by
    // doubling copied them into fresh pages (the kernel zeroing them was the
    // largest single cost of a 10,000-host tree). Capacity not written to is
    // never touched, so the bundles' share below costs no pages.
    let (mut read_files, mut read_parts, mut found_diagnostics) = (0, 0, 0);
    for result in &processed {
        match result {
            Ok(Some(Read::File(p))) => {
                read_files += 1;
                found_diagnostics += p.diagnostics.len();
            }
            Ok(Some(Read::Part(part))) => {
                read_parts += 1;
                found_diagnostics += part.diagnostics.len();
            }
            _ => {}
        }
    }
    let mut sources = Vec::with_capacity(processed.len());
    let mut entries = Vec::with_capacity(read_files + read_parts);
    let mut files = Vec::with_capacity(read_files + read_parts);
    let mut diagnostics = Vec::with_capacity(found_diagnostics);
    let mut suppressions = Vec::new();
    let mut scripts = Vec::new();
    let mut parts = Vec::with_capacity(read_parts);
    for result in processed {
        match result {
            Ok(Some(Read::Part(part))) => {
                files.push((part.parsed.source.id, part.parsed.format));
                diagnostics.extend(part.diagnostics);
                suppressions.extend(part.suppressions);
                parts.push(part.parsed);
                sources.push(None);
            }
            Ok(Some(Read::File(p))) => {
                files.push((p.source.id, p.format));
                diagnostics.extend(p.diagnostics);
                suppressions.extend(p.suppressions);
                scripts.extend(p.outcome.map(|o| (p.source.id, o)));
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
    let mut bundles = read_bundles(parts, &mut sources, &enabled);
    // A template a play renders (a file it copies) is read as the file written
    // on the host, never also as a config of its own: both `{% if %}` branches
    // are in the template, one is in the rendered file.
    let rendered: HashSet<FileId> = bundles.consumed.iter().map(|(file, _)| *file).collect();
    diagnostics.retain(|d| !rendered.contains(&d.primary.span.file));
    diagnostics.extend(std::mem::take(&mut bundles.diagnostics));
    entries.extend(std::mem::take(&mut bundles.entries));
    entries.sort_by_key(|(id, _, _)| *id);
    let backups = backup_files(&entries, &found.files);
    scripts.extend(std::mem::take(&mut bundles.outcomes));
    scripts.retain(|(id, _)| !backups.contains(id));
    let boot = run_boot_scripts(&mut entries, &found.files, &mut sources, &enabled);
    files.extend(boot.files.iter().copied());
    diagnostics.extend(boot.diagnostics);
    scripts.extend(boot.scripts);
    let written = follow_writes(scripts, &mut sources, &enabled);
    diagnostics.retain(|d| !on_replaced_line(d, &written.replaced));
    files.extend(written.files.iter().map(|(id, format)| (*id, *format)));
    diagnostics.extend(written.diagnostics);
    let sources = SourceMap::new(sources);
    let entries = without_backup_facts(entries, &backups);
    let mut entries = entries;
    let mut edited: BTreeMap<FileId, (FileId, Brought)> = mounted::pair(&mut entries)
        .into_iter()
        .map(|(file, by)| (file, (by, Brought::Mounts)))
        .collect();
    let others = [
        (
            written.edited.into_iter().collect::<Vec<_>>(),
            Brought::Edits,
        ),
        (std::mem::take(&mut bundles.consumed), Brought::Renders),
        (boot.edited.into_iter().collect(), Brought::RunsAtBoot),
    ];
    for (pairs, how) in others {
        for (file, by) in pairs {
            edited.entry(file).or_insert((by, how));
        }
    }
    let mut entries = with_written_facts(entries, written.facts, &edited);
    join_bundle_members(&mut entries, &bundles.members);
    let hosts = group_hosts(entries, config);
    diagnostics.extend(check_hosts(&hosts, &enabled, config));
    judge_on_platforms(&mut diagnostics, &hosts);
    if !written.files.is_empty() || !boot.files.is_empty() {
        map_written_spans(&mut diagnostics, &sources);
        // An edited copy repeats its repository file's findings on unchanged lines.
        diagnostics.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        diagnostics.dedup();
    }
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
        links: found.links,
        suppressed,
    }
}

/// Files named as backups (see [`formats::backup`]) that no script restores. The
/// restores of files that are themselves named as backups do not count.
fn backup_files(
    entries: &[(FileId, PathBuf, Box<FileFacts>)],
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
    entries: Vec<(FileId, PathBuf, Box<FileFacts>)>,
    backups: &BTreeSet<FileId>,
) -> Vec<(FileId, PathBuf, Box<FileFacts>)> {
    entries
        .into_iter()
        .map(|(id, path, facts)| {
            let facts = if backups.contains(&id) {
                Box::default()
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

/// A file read on its own, or a part of a configuration read with its other files.
enum Read {
    File(Box<Processed>),
    Part(Box<Part>),
}

/// A file of a bundle ([`formats::bundle`]): parsed and checked alone, its facts
/// come from the bundle.
struct Part {
    parsed: formats::ParsedFile,
    diagnostics: Vec<Diagnostic>,
    suppressions: Vec<suppress::Suppression>,
}

struct Processed {
    source: SourceFile,
    format: Format,
    /// Boxed: over 2 KB, and moved through every stage after the parallel read.
    facts: Box<FileFacts>,
    diagnostics: Vec<Diagnostic>,
    suppressions: Vec<suppress::Suppression>,
    /// A script's run, when it writes files.
    outcome: Option<scripts::Outcome>,
}

/// Read, classify, parse, run the file rules, extract facts; the parsed
/// document is dropped here so only facts and text outlive this stage.
fn process_file(
    id: FileId,
    path: &Path,
    (rules, limits): (&[&'static dyn Rule], &limits::Limits),
    overlay: &Overlay,
) -> Result<Option<Read>, (PathBuf, String)> {
    let (bytes, whole) = match overlay.get(path) {
        Some(text) => (text.clone().into_bytes(), true),
        None => read_capped(path, limits.file_bytes)?,
    };
    let byte_len = bytes.len();
    let (text, encoding) = source::decode(bytes);
    let Some(format) = formats::classify(path, &text) else {
        return Ok(None);
    };
    // Of a file over the cap only vsftpd's config can be read as its program
    // reads it (the first 100,000 bytes); any other would be judged on a part.
    if !whole && format != Format::Vsftpd {
        return Err((
            path.to_path_buf(),
            format!(
                "over the {} pasvlint reads of a file ([limits] file_bytes in pasvlint.toml), so not read as {}",
                shown_size(limits.file_bytes),
                format.name(),
            ),
        ));
    }
    let mut source = SourceFile::from_text(id, path, text, encoding, byte_len);
    source.limits = *limits;
    let parsed = formats::parse(source, format);
    let mut diagnostics = Vec::new();
    for rule in rules {
        rule.check_file(&parsed, &mut diagnostics);
    }
    let suppressions = suppress::scan(&parsed.source, format.comment_style());
    if format.bundle_family().is_some() {
        return Ok(Some(Read::Part(Box::new(Part {
            parsed,
            diagnostics,
            suppressions,
        }))));
    }
    let facts = Box::new(formats::facts(&parsed));
    let outcome = formats::script_outcome(&parsed)
        .filter(|o| !o.writes.is_empty())
        .cloned();
    Ok(Some(Read::File(Box::new(Processed {
        source: parsed.source,
        format,
        facts,
        diagnostics,
        suppressions,
        outcome,
    }))))
}

/// What the bundles of a run add to it.
#[derive(Default)]
struct Bundles {
    /// One entry per bundle, under its primary file.
    entries: Vec<(FileId, PathBuf, Box<FileFacts>)>,
    /// The other files of each bundle, by primary.
    members: BTreeMap<FileId, Vec<FileId>>,
    diagnostics: Vec<Diagnostic>,
    /// The files bundles write on the host (an Ansible play's templates), by primary.
    outcomes: Vec<(FileId, scripts::Outcome)>,
    /// Repository files a bundle renders or copies onto the host, with the
    /// bundle's primary: the host holds the written copy.
    consumed: Vec<(FileId, FileId)>,
}

/// Assemble the parts into bundles, check each, take its facts, and hand the
/// parts' text back to `sources`.
fn read_bundles(
    parts: Vec<formats::ParsedFile>,
    sources: &mut [Option<SourceFile>],
    rules: &[&'static dyn Rule],
) -> Bundles {
    let mut out = Bundles::default();
    let bundles = formats::bundles::assemble(parts);
    {
        let by_path: HashMap<PathBuf, &SourceFile> = sources
            .iter()
            .flatten()
            .chain(
                bundles
                    .iter()
                    .flat_map(|b| b.parts.iter().map(|p| &p.source)),
            )
            .map(|s| (formats::ansible::project::normalize(&s.path), s))
            .collect();
        let lookup = |p: &Path| {
            by_path
                .get(&formats::ansible::project::normalize(p))
                .copied()
        };
        for bundle in &bundles {
            if let Some((outcome, consumed)) = formats::bundles::outcome(bundle, &lookup) {
                if !outcome.writes.is_empty() {
                    out.outcomes.push((bundle.primary, outcome));
                }
                out.consumed
                    .extend(consumed.into_iter().map(|file| (file, bundle.primary)));
            }
        }
    }
    for bundle in bundles {
        for rule in rules {
            rule.check_bundle(&bundle, &mut out.diagnostics);
        }
        let primary = bundle.primary_file();
        out.entries.push((
            primary.source.id,
            primary.source.path.clone(),
            Box::new(formats::bundles::facts(&bundle)),
        ));
        out.members
            .insert(primary.source.id, bundle.members().collect());
        for part in bundle.parts {
            let id = part.source.id.0 as usize;
            if let Some(slot) = sources.get_mut(id) {
                *slot = Some(part.source);
            }
        }
    }
    out
}

/// A bundle's other files are on its primary's host, after the primary.
/// A recognised file with what it brings onto its host, ready for pairing.
type Paired = (FileId, PathBuf, Vec<(FileId, Brought)>, Box<FileFacts>);

fn join_bundle_members(entries: &mut [Paired], members: &BTreeMap<FileId, Vec<FileId>>) {
    for (id, _, also, _) in entries {
        if let Some(more) = members.get(id) {
            also.extend(more.iter().map(|m| (*m, Brought::PartOf)));
        }
    }
}

/// What the first-boot scripts of cloud instances add to a run.
#[derive(Default)]
struct BootScripts {
    /// The scripts, as recognised (virtual) files.
    files: Vec<(FileId, Format)>,
    /// Their runs, for [`follow_writes`].
    scripts: Vec<(FileId, scripts::Outcome)>,
    /// Repository files read as a boot script, and the script: the file joins
    /// the machine's host and brings nothing of its own.
    edited: BTreeMap<FileId, FileId>,
    diagnostics: Vec<Diagnostic>,
}

/// Each boot script a file describes ([`FileFacts::boot`]) becomes a shell
/// script of its own (a virtual file mapping back to the `.tf` file or the
/// repository file it is read from), run by the sh interpreter, whose facts are
/// its machine's: the filters given with it in front, its own firewall behind.
fn run_boot_scripts(
    entries: &mut Vec<(FileId, PathBuf, Box<FileFacts>)>,
    discovered: &[PathBuf],
    sources: &mut Vec<Option<SourceFile>>,
    rules: &[&'static dyn Rule],
) -> BootScripts {
    let mut out = BootScripts::default();
    let mut machines = Vec::new();
    for (id, _, facts) in entries.iter_mut() {
        let described = !facts.boot.is_empty() && facts.ftp.is_empty() && !facts.has_firewall();
        machines.extend(facts.boot.drain(..).map(|b| (b, described.then_some(*id))));
    }
    let mut joined = std::collections::BTreeSet::new();
    let mut index = None;
    for (boot, describer) in machines {
        let (text, base) = match &boot.body {
            facts::BootBody::Text(text) => (text.clone(), None),
            facts::BootBody::File { path, template } => {
                let index = index.get_or_insert_with(|| Discovered::of(discovered));
                let Some(file) = repository_file(path, index, sources) else {
                    continue;
                };
                let Some(source) = sources.get(file.0 as usize).and_then(Option::as_ref) else {
                    continue;
                };
                let text = match template {
                    Some(vars) => formats::terraform::template::render_file(source, vars),
                    None => formats::terraform::template::whole(source),
                };
                (text, Some(file))
            }
        };
        if !text.text.starts_with("#!") {
            continue;
        }
        let id = FileId(sources.len() as u32);
        let source = formats::terraform::template::boot_source(&text, &boot.name, boot.span, id);
        let parsed = formats::parse(source, Format::ShellScript);
        for rule in rules {
            rule.check_file(&parsed, &mut out.diagnostics);
        }
        let mut facts = formats::facts(&parsed);
        if let Some(outcome) = formats::script_outcome(&parsed).filter(|o| !o.writes.is_empty()) {
            out.scripts.push((id, outcome.clone()));
        }
        facts.firewall =
            facts::Firewall::combine(boot.firewall.into_iter().chain(facts.firewall).collect());
        facts.firewall_v6 = facts::Firewall::combine(
            boot.firewall_v6
                .into_iter()
                .chain(facts.firewall_v6)
                .collect(),
        );
        if let Some(file) = base {
            out.edited.insert(file, id);
        }
        // A file that brings nothing but its machines joins the first of them.
        if let Some(file) = describer.filter(|f| joined.insert(*f)) {
            out.edited.insert(file, id);
        }
        out.files.push((id, Format::ShellScript));
        entries.push((id, PathBuf::from(&boot.name), Box::new(facts)));
        sources.push(Some(parsed.source));
    }
    out
}

/// The walk's paths, normalised once, each to its first index: a tree of many
/// machines looks one up per boot script.
struct Discovered(HashMap<PathBuf, usize>);

impl Discovered {
    fn of(paths: &[PathBuf]) -> Discovered {
        let mut index = HashMap::with_capacity(paths.len());
        for (i, p) in paths.iter().enumerate() {
            index.entry(normalise(p)).or_insert(i);
        }
        Discovered(index)
    }
}

/// The id of a repository file by path, reading it when the walk did not
/// recognise it (a `.tpl` template); `None` when it cannot be read.
fn repository_file(
    path: &Path,
    discovered: &Discovered,
    sources: &mut Vec<Option<SourceFile>>,
) -> Option<FileId> {
    let index = discovered.0.get(&normalise(path)).copied();
    if let Some(i) = index {
        if sources.get(i).is_some_and(Option::is_some) {
            return Some(FileId(i as u32));
        }
    }
    let (bytes, whole) = read_capped(path, limits::MAX_FILE_BYTES).ok()?;
    if !whole {
        return None;
    }
    let id = match index {
        Some(i) => i,
        None => {
            sources.push(None);
            sources.len() - 1
        }
    };
    let slot = sources.get_mut(id)?;
    *slot = Some(SourceFile::new(FileId(id as u32), path, &bytes));
    Some(FileId(id as u32))
}

/// A path without `.` components, for comparing paths written two ways.
fn normalise(path: &Path) -> PathBuf {
    path.components()
        .filter(|c| !matches!(c, std::path::Component::CurDir))
        .collect()
}

/// A repository file's finding on a line a script's `sed -i` replaced.
fn on_replaced_line(d: &Diagnostic, replaced: &[Span]) -> bool {
    let at = d.primary.span;
    replaced
        .iter()
        .any(|s| s.file == at.file && s.start <= at.start && at.end <= s.end)
}

/// What the files scripts write add to a run.
#[derive(Default)]
struct WrittenDocuments {
    /// The documents, as recognised files.
    files: Vec<(FileId, Format)>,
    /// Their facts, by the script that writes them (and the document's id).
    facts: Vec<(FileId, FileId, FileFacts)>,
    /// Repository files a script edits, and the (first) script that edits each:
    /// the host runs the edited copy.
    edited: BTreeMap<FileId, FileId>,
    /// Their file findings (spans in the documents) and writes not followed.
    diagnostics: Vec<Diagnostic>,
    /// Lines of repository files a `sed -i` replaced: the host reads them as
    /// edited (findings on the edited line point at the `sed`), never as written.
    replaced: Vec<Span>,
}

/// The files each script writes become documents, with ids after the files on
/// disk (appended to `sources`), read by their format's parser and file rules.
fn follow_writes(
    scripts: Vec<(FileId, scripts::Outcome)>,
    sources: &mut Vec<Option<SourceFile>>,
    rules: &[&'static dyn Rule],
) -> WrittenDocuments {
    let mut out = WrittenDocuments::default();
    if scripts.is_empty() {
        return out;
    }
    let followed: Vec<(FileId, formats::written::Written)> = {
        let repo = formats::written::Repo::new(sources.iter().flatten());
        scripts
            .par_iter()
            .filter_map(|(id, outcome)| {
                let script = sources.get(id.0 as usize)?.as_ref()?;
                Some((*id, formats::written::follow(script, outcome, &repo)))
            })
            .collect()
    };
    let not_followed_enabled = rules
        .iter()
        .any(|r| r.name() == rules::script_write_not_followed::NAME);
    let mut pending = Vec::new();
    for (script, written) in followed {
        for n in written.not_followed {
            if let Some(base) = n.base {
                out.edited.entry(base).or_insert(script);
            }
            if not_followed_enabled {
                out.diagnostics
                    .push(rules::script_write_not_followed::finding(&n));
            }
        }
        for file in written.files {
            let id = FileId((sources.len() + pending.len()) as u32);
            pending.push((script, id, file));
        }
    }
    let parsed: Vec<Option<(formats::ParsedFile, Vec<Diagnostic>)>> = pending
        .par_iter()
        .map(|(script, id, file)| {
            let script_file = sources.get(script.0 as usize)?.as_ref()?;
            let parsed = formats::written::document(file, script_file, *id)?;
            let mut diagnostics = Vec::new();
            for rule in rules {
                rule.check_file(&parsed, &mut diagnostics);
            }
            Some((parsed, diagnostics))
        })
        .collect();
    let mut documents = written_documents(&pending, parsed, rules);
    let documents: Vec<Option<(FileId, Processed)>> = pending
        .iter()
        .map(|(script, id, _)| documents.remove(id).map(|p| (*script, p)))
        .collect();
    for ((_, _, file), document) in pending.iter().zip(documents) {
        let Some((script, p)) = document else {
            sources.push(None);
            continue;
        };
        if let Some(base) = file.base {
            out.edited.entry(base).or_insert(script);
        }
        out.replaced.extend(file.replaced.iter().copied());
        out.files.push((p.source.id, p.format));
        out.facts.push((script, p.source.id, *p.facts));
        out.diagnostics.extend(p.diagnostics);
        sources.push(Some(p.source));
    }
    out
}

/// Each written file's facts. The files of a format read as a bundle (ProFTPD,
/// Pure-FTPd, nftables, firewalld, ufw, …) that one script writes are
/// assembled together, as the host holds them after the run: the files a
/// script writes into `/etc/pure-ftpd/conf/` are one `pure-ftpd-wrapper`
/// command line, not one server each. A bundle's facts are its primary
/// file's; its other files bring none of their own.
fn written_documents(
    pending: &[(FileId, FileId, formats::written::WrittenFile)],
    parsed: Vec<Option<(formats::ParsedFile, Vec<Diagnostic>)>>,
    rules: &[&'static dyn Rule],
) -> HashMap<FileId, Processed> {
    let mut out = HashMap::new();
    let mut parts: BTreeMap<FileId, Vec<formats::ParsedFile>> = BTreeMap::new();
    let mut diagnostics: HashMap<FileId, Vec<Diagnostic>> = HashMap::new();
    for ((script, id, _), parsed) in pending.iter().zip(parsed) {
        let Some((parsed, found)) = parsed else {
            continue;
        };
        diagnostics.insert(*id, found);
        if parsed.format.bundle_family().is_some() {
            parts.entry(*script).or_default().push(parsed);
        } else {
            out.insert(*id, processed(formats::facts(&parsed), parsed, Vec::new()));
        }
    }
    for (_, parts) in parts {
        for bundle in formats::bundles::assemble(parts) {
            let mut found = Vec::new();
            for rule in rules {
                rule.check_bundle(&bundle, &mut found);
            }
            let facts = formats::bundles::facts(&bundle);
            let primary = bundle.primary;
            let mut found = Some(found);
            for part in bundle.parts {
                let mine = if part.source.id == primary {
                    (facts.clone(), found.take().unwrap_or_default())
                } else {
                    (FileFacts::default(), Vec::new())
                };
                out.insert(part.source.id, processed(mine.0, part, mine.1));
            }
        }
    }
    for (id, p) in &mut out {
        let mut found = diagnostics.remove(id).unwrap_or_default();
        found.append(&mut p.diagnostics);
        p.diagnostics = found;
    }
    out
}

fn processed(
    facts: FileFacts,
    parsed: formats::ParsedFile,
    diagnostics: Vec<Diagnostic>,
) -> Processed {
    Processed {
        facts: Box::new(facts),
        format: parsed.format,
        source: parsed.source,
        diagnostics,
        suppressions: Vec::new(),
        outcome: None,
    }
}

/// A written document's servers and firewall are its script's: the script and
/// what it writes pair as one file. A repository file a script edits joins the
/// script's host and brings nothing of its own (the host runs the edited copy).
fn with_written_facts(
    entries: Vec<(FileId, PathBuf, Box<FileFacts>)>,
    written: Vec<(FileId, FileId, FileFacts)>,
    edited: &BTreeMap<FileId, (FileId, Brought)>,
) -> Vec<Paired> {
    let mut by_script: HashMap<FileId, Vec<(FileId, FileFacts)>> = HashMap::new();
    for (script, id, facts) in written {
        by_script.entry(script).or_default().push((id, facts));
    }
    let mut edited_by: HashMap<FileId, Vec<(FileId, Brought)>> = HashMap::new();
    for (base, (script, how)) in edited {
        edited_by.entry(*script).or_default().push((*base, *how));
    }
    let is_edited = |id: &FileId| edited.contains_key(id);
    entries
        .into_iter()
        .filter(|(id, _, _)| !is_edited(id))
        .map(|(id, path, mut facts)| {
            let mut also = Vec::new();
            for (doc, more) in by_script.remove(&id).unwrap_or_default() {
                also.push((doc, Brought::Writes));
                facts.ftp.extend(more.ftp);
                // A firewall file the script writes is what loads at boot; the
                // script's own commands, when it has any, are what runs now.
                if !facts.has_firewall() {
                    facts.firewall = more.firewall;
                    facts.firewall_v6 = more.firewall_v6;
                }
                facts.restores.extend(more.restores);
            }
            also.extend(edited_by.remove(&id).unwrap_or_default());
            (id, path, also, facts)
        })
        .collect()
}

/// Findings on a file a script writes point into the script (or the repository
/// file it edits), so suppressions there apply and every emitter shows real
/// lines. A fix is kept only where its bytes are the real file's own.
fn map_written_spans(diagnostics: &mut [Diagnostic], sources: &SourceMap) {
    for d in diagnostics {
        d.primary.span = sources.real_span(d.primary.span);
        for label in &mut d.related {
            label.span = sources.real_span(label.span);
        }
        d.fixes.retain_mut(|fix| {
            let edits: Option<Vec<_>> = fix
                .edits
                .iter()
                .map(|(span, text)| Some((sources.real_span_exact(*span)?, text.clone())))
                .collect();
            edits.map(|edits| fix.edits = edits).is_some()
        });
    }
}

/// The file's bytes, and whether they are all of it: a file over `cap` yields
/// only its first [`CAPPED_PREFIX`] bytes (at most `cap`, at least what vsftpd
/// reads of its config), enough to tell what it is.
fn read_capped(path: &Path, cap: u64) -> Result<(Vec<u8>, bool), (PathBuf, String)> {
    let error = |e: std::io::Error| (path.to_path_buf(), e.to_string());
    let meta = std::fs::metadata(path).map_err(error)?;
    if meta.len() <= cap {
        return std::fs::read(path).map(|b| (b, true)).map_err(error);
    }
    use std::io::Read as _;
    let take = (CAPPED_PREFIX as u64)
        .min(cap)
        .max(formats::vsftpd::FILE_MAX as u64 + 1);
    let mut prefix = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(take).read_to_end(&mut prefix))
        .map_err(error)?;
    Ok((prefix, false))
}

/// `256 MiB`, or `2048 bytes` for a size that is no whole number of MiB.
fn shown_size(bytes: u64) -> String {
    match bytes % (1 << 20) {
        0 => format!("{} MiB", bytes >> 20),
        _ => format!("{bytes} bytes"),
    }
}

/// Read of a file over the cap: more than vsftpd reads of its config (100,000 bytes).
const CAPPED_PREFIX: usize = 1 << 20;

fn group_hosts(entries: Vec<Paired>, config: &Config) -> Vec<Host> {
    let entries = entries
        .into_iter()
        .map(|(id, path, written, facts)| FileEntry {
            id,
            path,
            facts,
            written,
        })
        .collect();
    hosts::group(
        entries,
        &host_specs(config),
        config.policy.platform.as_ref(),
    )
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
                platform: h.platform.clone(),
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
            let run = |host: &Host| {
                let mut out = Vec::new();
                for rule in rules {
                    rule.check_host(host, &config.policy, &mut out);
                }
                out
            };
            let mut out = run(host);
            if let Some(other) = closed_if::otherwise(host) {
                closed_if::judge(&mut out, &run(&other), host);
            }
            for d in &mut out {
                d.host = Some(host.name.clone());
            }
            out
        })
        .collect()
}

/// Findings that hold only on some platforms, judged on their host's: dropped
/// where the platform exempts them, warnings that say so where it is not known.
fn judge_on_platforms(diagnostics: &mut Vec<Diagnostic>, hosts: &[Host]) {
    let platform_of: HashMap<FileId, &platform::HostPlatform> = hosts
        .iter()
        .flat_map(|h| h.files.iter().map(move |f| (*f, &h.platform)))
        .collect();
    let unknown = platform::HostPlatform::unknown();
    diagnostics.retain_mut(|d| {
        let Some(exemption) = d.unless.take() else {
            return true;
        };
        let platform = platform_of
            .get(&d.primary.span.file)
            .copied()
            .unwrap_or(&unknown);
        match exemption.applies(platform) {
            platform::Answer::Yes => false,
            platform::Answer::No => true,
            platform::Answer::Unknown => {
                d.message.push_str(exemption.unknown_note());
                d.at_most = Some(diag::Severity::Warning);
                true
            }
        }
    });
    for d in diagnostics.iter_mut() {
        if let Some(host) = hosts.iter().find(|h| Some(&h.name) == d.host.as_ref()) {
            note_kernel_helper(d, host);
        }
    }
}

/// On a host whose kernel may attach the FTP helper by itself (the module is
/// loaded at boot, the release is not known), a finding that RELATED admits no
/// data holds only on some kernels: a warning that says which. On a kernel that
/// ignores a boot setting turning assignment on, the finding says so there.
fn note_kernel_helper(d: &mut Diagnostic, host: &Host) {
    if !matches!(d.rule, "ftp-helper-not-assigned" | "passive-ports-blocked")
        || !host.firewalls().any(|(_, fw)| fw.admits_related)
    {
        return;
    }
    let boot = host.platform.helper;
    let (Some(module), answer) = (boot.module, host.platform.kernel_assigns_ftp_helper()) else {
        return;
    };
    // The old kernels' automatic helper watches port 21 and, like any helper,
    // cannot read a TLS control channel: it admits nothing for other servers.
    let server = host.servers.iter().find(|s| s.file == d.primary.span.file);
    if server.is_some_and(|s| {
        s.control_port.value != Some(21) || s.tls.value == facts::ControlTls::Required
    }) {
        return;
    }
    let sysctl = boot.auto_assign.filter(|(on, _)| *on).map(|(_, span)| span);
    match answer {
        platform::Answer::Unknown => {
            d.message
                .push_str(&kernels_that_disagree(&host.platform, sysctl.is_some()));
            d.related.push(diag::Label {
                span: module,
                message: "loads nf_conntrack_ftp".to_owned(),
            });
            if let Some(span) = sysctl {
                d.related.push(diag::Label {
                    span,
                    message: "turns automatic helper assignment on (kernels before Linux 6.0)"
                        .to_owned(),
                });
            }
            d.at_most = Some(diag::Severity::Warning);
        }
        platform::Answer::No => {
            if let (Some(span), Some(platform::KernelEra::ExplicitOnly)) =
                (sysctl, host.platform.kernel_era())
            {
                d.related.push(diag::Label {
                    span,
                    message: "does nothing on this release's kernel: Linux 6.0 removed nf_conntrack_helper".to_owned(),
                });
            }
        }
        platform::Answer::Yes => {}
    }
}

/// Which kernels attach the helper by themselves, when this host's is not known.
fn kernels_that_disagree(platform: &platform::HostPlatform, sysctl_on: bool) -> String {
    if !sysctl_on {
        return " (on kernels from Linux 4.7 on; older ones, as RHEL/CentOS 7's, Debian 8's and Ubuntu 16.04's, attach the helper to port 21 by themselves once nf_conntrack_ftp is loaded, and this host's release is not known)".to_owned();
    }
    let unknown = match platform.id() {
        Some(id) => format!("which kernel this {id} host runs is not known"),
        None => "this host's release is not known".to_owned(),
    };
    format!(
        " (on kernels from Linux 6.0 on; older ones attach the helper to port 21 by themselves with nf_conntrack_helper=1 once nf_conntrack_ftp is loaded, and {unknown})"
    )
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

#[cfg(test)]
mod written_tests {
    use super::*;
    use scripts::{Outcome, Text, Word, Write, WriteOp};

    fn edits(by_script: &BTreeMap<FileId, FileId>) -> BTreeMap<FileId, (FileId, Brought)> {
        by_script
            .iter()
            .map(|(f, s)| (*f, (*s, Brought::Edits)))
            .collect()
    }

    const SCRIPT: &str = "#!/bin/sh\n\
        cat > /etc/vsftpd.conf <<EOF\n\
        listen=YES\n\
        pasv_enable=YES\n\
        pasv_min_port=40000\n\
        pasv_max_port=40100\n\
        EOF\n\
        iptables -P INPUT DROP\n\
        iptables -A INPUT -p tcp --dport 21 -j ACCEPT\n\
        iptables -A INPUT -p tcp --dport 40000:40050 -j ACCEPT\n";

    /// The outcome the sh interpreter gives for the heredoc of [`SCRIPT`].
    fn heredoc_outcome(script: &SourceFile) -> Outcome {
        let text = &script.text;
        let (start, end) = (text.find("listen").unwrap(), text.find("EOF\nipt").unwrap());
        let mut body = Text::default();
        body.push(&text[start..end], script.span(start, end), true);
        let cat = text.find("cat").unwrap();
        Outcome {
            writes: vec![Write {
                path: Word::literal("/etc/vsftpd.conf", script.span(cat + 6, cat + 22)),
                op: WriteOp::Replace(body),
                span: script.span(cat, cat + 29),
                uncertain: None,
            }],
            ..Outcome::default()
        }
    }

    #[test]
    fn a_script_that_writes_vsftpd_conf_is_checked_against_its_own_firewall() {
        let id = FileId(0);
        let source = SourceFile::new(id, "site/provision.sh", SCRIPT.as_bytes());
        let parsed = formats::parse(source, Format::ShellScript);
        let facts = formats::facts(&parsed);
        assert!(facts.has_firewall() && facts.ftp.is_empty());
        let outcome = heredoc_outcome(&parsed.source);
        let path = parsed.source.path.clone();
        let mut sources = vec![Some(parsed.source)];
        let config = Config::default();
        let enabled = enabled_rules(&config);

        let written = follow_writes(vec![(id, outcome)], &mut sources, &enabled);
        assert_eq!(written.files, vec![(FileId(1), Format::Vsftpd)]);
        let sources = SourceMap::new(sources);
        let entries = with_written_facts(
            vec![(id, path, Box::new(facts))],
            written.facts,
            &edits(&written.edited),
        );
        let hosts = group_hosts(entries, &config);
        assert_eq!(hosts.len(), 1);
        let host = &hosts[0];
        assert_eq!(host.files, vec![id, FileId(1)]);
        assert_eq!(host.servers.len(), 1);
        assert_eq!(host.servers[0].file, FileId(1));
        assert!(host.firewall.is_some());

        let mut diagnostics = check_hosts(&hosts, &enabled, &config);
        map_written_spans(&mut diagnostics, &sources);
        let blocked = diagnostics
            .iter()
            .find(|d| d.rule == "passive-ports-blocked")
            .expect("40051-40100 are blocked");
        assert_eq!(blocked.primary.span.file, id);
        let script = sources.get(id).unwrap();
        let (line, _) = script.line_col(blocked.primary.span.start);
        assert!(
            script.slice(blocked.primary.span).starts_with("pasv_m"),
            "{:?} on line {line}",
            script.slice(blocked.primary.span)
        );
        assert!(diagnostics.iter().all(|d| {
            d.primary.span.file == id
                && d.related
                    .iter()
                    .all(|l| !sources.get(l.span.file).unwrap().is_virtual())
        }));
    }

    #[test]
    fn a_repository_file_a_script_edits_brings_no_server_of_its_own() {
        let script = SourceFile::new(
            FileId(0),
            "site/setup.sh",
            b"sed -i s/a/b/ /etc/vsftpd.conf\niptables -P INPUT DROP\n",
        );
        let conf = SourceFile::new(
            FileId(1),
            "site/files/vsftpd.conf",
            b"listen=YES\npasv_min_port=40000\npasv_max_port=40100\n",
        );
        let edit = scripts::SedEdit {
            command: 's',
            address: None,
            pattern: Some("^pasv_max_port=.*".to_owned()),
            replacement: Some("pasv_max_port=40009".to_owned()),
            flags: String::new(),
            span: script.span(0, 13),
            unknown: None,
        };
        let outcome = Outcome {
            writes: vec![Write {
                path: Word::literal("/etc/vsftpd.conf", script.span(14, 30)),
                op: WriteOp::Sed(vec![edit]),
                span: script.span(0, 30),
                uncertain: None,
            }],
            ..Outcome::default()
        };
        let conf_facts = formats::facts(&formats::parse(conf.clone(), Format::Vsftpd));
        let mut sources = vec![Some(script), Some(conf)];
        let written = follow_writes(vec![(FileId(0), outcome)], &mut sources, &[]);
        assert_eq!(written.edited, BTreeMap::from([(FileId(1), FileId(0))]));
        let entries = with_written_facts(
            vec![
                (FileId(0), "site/setup.sh".into(), Box::default()),
                (
                    FileId(1),
                    "site/files/vsftpd.conf".into(),
                    Box::new(conf_facts),
                ),
            ],
            written.facts,
            &edits(&written.edited),
        );
        let hosts = group_hosts(entries, &Config::default());
        assert_eq!(hosts.len(), 1, "the edited file is on the script's host");
        assert_eq!(hosts[0].files, vec![FileId(0), FileId(2), FileId(1)]);
        let servers: Vec<_> = hosts.iter().flat_map(|h| &h.servers).collect();
        assert_eq!(servers.len(), 1);
        assert_eq!(servers[0].file, FileId(2), "the edited copy is the server");
        let crate::facts::Passive::Enabled { ports, .. } = &servers[0].passive else {
            panic!("passive mode on");
        };
        assert_eq!(ports.to_string(), "40000-40009");
    }
}
