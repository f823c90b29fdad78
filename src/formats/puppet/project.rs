//! The manifests of a run read as catalogs: the `.pp` files of one control
//! repository (the folder holding `manifests/` and `modules/`) or of one module
//! standing alone are one bundle, one host. Its catalog is what Puppet compiles:
//! the top-level statements of each manifest (`site.pp` first), the bodies of its
//! `node` definitions, and every class they `include`, `contain`, `require` or
//! declare as `class { 'x': … }`, transitively; the instances of defined types
//! declared there. A module nothing includes is read as if its classes were
//! included. A manifest that does not parse fails the whole compile: such a
//! bundle changes nothing on the host.

use super::File;
use super::hiera::{Found, Hiera, Merge};
use super::parse::{Body, Expr, Param, Stmt};
use super::scope::{Scope, V, Value};
use crate::facts::FileFacts;
use crate::formats::bundle::{Bundle, BundleDoc};
use crate::formats::{Document, ParsedFile};
use crate::scripts::Outcome;
use crate::source::{FileId, Span};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

/// One declared resource of the catalog, its attributes evaluated.
#[derive(Clone, Debug)]
pub struct Resource {
    pub ty: String,
    pub title: V,
    pub attrs: Vec<(String, Span, V)>,
    /// The `title: attributes` body.
    pub span: Span,
    /// Declared under `if`, `unless` or `case`: it may not be in the catalog.
    pub guarded: bool,
    /// The variables of the scope it is declared in, for its templates (`@name`).
    pub vars: Arc<HashMap<String, V>>,
}

impl Resource {
    pub fn get(&self, name: &str) -> Option<&V> {
        self.attrs
            .iter()
            .rev()
            .find(|(n, _, _)| n == name)
            .map(|(_, _, v)| v)
    }

    pub fn name_span(&self, name: &str) -> Option<Span> {
        self.attrs
            .iter()
            .rev()
            .find(|(n, _, _)| n == name)
            .map(|(_, s, _)| *s)
    }
}

/// What one control repository or module puts in its host's catalog.
#[derive(Debug, Default)]
pub struct Project {
    pub root: PathBuf,
    /// The resources pasvlint lowers (`firewall`, `firewallchain`, `file`,
    /// `file_line`, `resources`), in manifest order.
    pub resources: Vec<Resource>,
    /// Each module's folder, by module name, for `template()` and `puppet:///`.
    pub modules: BTreeMap<String, PathBuf>,
    /// A manifest of the bundle does not parse: the catalog does not compile.
    pub failed: Option<Span>,
    /// Declarations left out once the budget was spent.
    pub limited: Option<Span>,
}

/// Resources one catalog holds at most (defines and includes together).
pub const MAX_RESOURCES: usize = 100_000;
/// How deep includes and defined types nest.
pub const MAX_NESTING: usize = 24;

const LOWERED: &[&str] = &[
    "firewall",
    "firewallchain",
    "file",
    "file_line",
    "resources",
];

fn manifest(part: &ParsedFile) -> Option<&File> {
    match &part.doc {
        Document::Puppet(f) => Some(f),
        _ => None,
    }
}

/// The folder a manifest's bundle is rooted at: the one holding `modules/` (or
/// `site/`) above it, else the one holding its `manifests/`, else its own.
pub fn root_of(path: &Path) -> PathBuf {
    let comps: Vec<Component> = path.components().collect();
    let upto = |i: usize| comps[..i].iter().collect::<PathBuf>();
    for i in (0..comps.len().saturating_sub(2)).rev() {
        let c = comps[i].as_os_str();
        if (c == "modules" || c == "site")
            && comps
                .get(i + 2)
                .is_some_and(|m| m.as_os_str() == "manifests")
        {
            return upto(i);
        }
    }
    for i in (0..comps.len().saturating_sub(1)).rev() {
        if comps[i].as_os_str() == "manifests" {
            return upto(i);
        }
    }
    path.parent().map(Path::to_path_buf).unwrap_or_default()
}

/// The module a manifest belongs to (`…/NAME/manifests/…`), and its folder.
fn module_of(path: &Path) -> Option<(String, PathBuf)> {
    let comps: Vec<Component> = path.components().collect();
    let i = comps.iter().rposition(|c| c.as_os_str() == "manifests")?;
    let dir: PathBuf = comps[..i].iter().collect();
    let name = dir.file_name()?.to_str()?;
    let name = name
        .strip_prefix("puppet-")
        .or_else(|| name.strip_prefix("puppetlabs-"))
        .unwrap_or(name);
    Some((name.to_owned(), dir))
}

pub fn assemble(parts: Vec<ParsedFile>) -> Vec<Bundle> {
    let mut groups: BTreeMap<PathBuf, Vec<ParsedFile>> = BTreeMap::new();
    for p in parts {
        let root = match p.format {
            crate::formats::Format::Hiera => super::hiera::root_of(&p.source.path),
            _ => root_of(&p.source.path),
        };
        groups.entry(root).or_default().push(p);
    }
    groups
        .into_iter()
        .map(|(root, mut parts)| {
            // `manifests/site.pp` (or the first of `manifests/`) is read first.
            parts.sort_by_key(|p| {
                let rel = p.source.path.strip_prefix(&root).unwrap_or(&p.source.path);
                let site = rel == Path::new("manifests/site.pp");
                let top = rel.starts_with("manifests");
                let data = matches!(p.doc, Document::Hiera(_));
                (data, !site, !top, p.source.path.clone())
            });
            let project = read(&root, &parts);
            Bundle {
                primary: parts[0].source.id,
                doc: BundleDoc::Puppet(Box::new(project)),
                parts,
            }
        })
        .collect()
}

struct Walk<'a> {
    classes: HashMap<String, &'a Stmt>,
    defines: HashMap<String, &'a Stmt>,
    applied: BTreeSet<String>,
    global: Arc<HashMap<String, V>>,
    hiera: Option<Arc<Hiera>>,
    out: Vec<Resource>,
    depth: usize,
    /// Classes and defined-type instances read so far.
    steps: usize,
    limited: Option<Span>,
}

fn read(root: &Path, parts: &[ParsedFile]) -> Project {
    let mut project = Project {
        root: root.to_path_buf(),
        ..Project::default()
    };
    for p in parts {
        if let Some((name, dir)) = module_of(&p.source.path) {
            project.modules.entry(name).or_insert(dir);
        }
    }
    let files: Vec<&File> = parts.iter().filter_map(manifest).collect();
    if let Some(e) = files.iter().find_map(|f| f.syntax_error.as_ref()) {
        project.failed = Some(e.span);
        return project;
    }
    let data: Vec<super::hiera::Part> = parts
        .iter()
        .filter_map(|p| match &p.doc {
            Document::Hiera(h) => Some((p.source.path.as_path(), p.source.id, h)),
            _ => None,
        })
        .collect();
    let site = parts
        .iter()
        .any(|p| p.source.path == root.join("manifests/site.pp"));
    let hiera = Hiera::read(root, site, &project.modules, &data).map(Arc::new);
    let mut walk = Walk {
        classes: HashMap::new(),
        defines: HashMap::new(),
        applied: BTreeSet::new(),
        global: Arc::default(),
        hiera: hiera.clone(),
        out: Vec::new(),
        depth: 0,
        steps: 0,
        limited: None,
    };
    let mut global = HashMap::new();
    for f in &files {
        collect_definitions(&f.stmts, &mut walk.classes, &mut walk.defines);
        // Top scope: literal assignments outside any condition.
        let scope = Scope {
            local: global.clone(),
            global: Arc::default(),
            hiera: hiera.clone(),
        };
        for s in &f.stmts {
            if let Stmt::Assign { name, value, .. } = s {
                let v = scope.eval(value);
                global.insert(name.clone(), v);
            }
        }
    }
    // Each class's own literal variables and parameter defaults, by qualified
    // name (`$ftp::params::min`), before any class is read.
    let top = Arc::new(global.clone());
    let mut names: Vec<&String> = walk.classes.keys().collect();
    names.sort();
    for name in names {
        let Stmt::Class { params, body, .. } = walk.classes[name] else {
            continue;
        };
        let mut scope = Scope {
            local: HashMap::new(),
            global: top.clone(),
            hiera: hiera.clone(),
        };
        for p in params {
            if let Some(v) = parameter(&scope, name, p) {
                scope.local.insert(p.name.clone(), v);
            }
        }
        for s in body {
            if let Stmt::Assign { name, value, .. } = s {
                let v = scope.eval(value);
                scope.local.insert(name.clone(), v);
            }
        }
        for (k, v) in scope.local {
            global.insert(format!("{name}::{k}"), v);
        }
    }
    walk.global = Arc::new(global);
    let mut includes = false;
    for f in &files {
        includes |= has_includes(&f.stmts);
    }
    for f in &files {
        let scope = Scope {
            local: HashMap::new(),
            global: walk.global.clone(),
            hiera: walk.hiera.clone(),
        };
        walk.stmts(&f.stmts, scope, false, true);
    }
    if !includes {
        // A module no manifest includes: read as if each class were included.
        let mut names: Vec<String> = walk.classes.keys().cloned().collect();
        names.sort();
        for n in names {
            walk.apply_class(&n, None, false, None);
        }
    }
    project.resources = walk.out;
    project.limited = walk.limited;
    project
}

fn collect_definitions<'a>(
    stmts: &'a [Stmt],
    classes: &mut HashMap<String, &'a Stmt>,
    defines: &mut HashMap<String, &'a Stmt>,
) {
    for s in stmts {
        match s {
            Stmt::Class { name, body, .. } => {
                classes.entry(name.clone()).or_insert(s);
                collect_definitions(body, classes, defines);
            }
            Stmt::Define { name, .. } => {
                defines.entry(name.clone()).or_insert(s);
            }
            _ => {}
        }
    }
}

/// Whether top-level statements or node bodies include any class.
fn has_includes(stmts: &[Stmt]) -> bool {
    stmts.iter().any(|s| match s {
        Stmt::Include { .. } => true,
        Stmt::Resource { ty, .. } => ty == "class",
        Stmt::Node { body, .. } => has_includes(body),
        Stmt::Cond { branches, .. } => branches.iter().any(|b| has_includes(b)),
        _ => false,
    })
}

impl Walk<'_> {
    fn full(&mut self, at: Span) -> bool {
        self.steps += 1;
        if self.out.len() >= MAX_RESOURCES || self.steps > MAX_RESOURCES || self.depth > MAX_NESTING
        {
            self.limited.get_or_insert(at);
            return true;
        }
        false
    }

    /// Statements of one body, in order, in `scope`; `top` for a manifest's
    /// top level (its assignments are already in the top scope).
    fn stmts(&mut self, stmts: &[Stmt], mut scope: Scope, guarded: bool, top: bool) -> Scope {
        for s in stmts {
            match s {
                Stmt::Assign { name, value, .. } if !top => {
                    let v = scope.eval(value);
                    scope.local.insert(name.clone(), v);
                }
                Stmt::Resource {
                    ty,
                    bodies,
                    virtual_: false,
                    span,
                    ..
                } => {
                    if self.full(*span) {
                        return scope;
                    }
                    for b in bodies {
                        self.resource(ty, b, &scope, guarded);
                    }
                }
                Stmt::Include { names, span } => {
                    for n in names {
                        for v in scope.eval(n).items() {
                            if let Some(name) = v.text() {
                                self.apply_class(&name, None, guarded, Some(*span));
                            }
                        }
                    }
                }
                Stmt::Node { body, .. } => {
                    let inner = Scope {
                        local: HashMap::new(),
                        global: self.global.clone(),
                        hiera: self.hiera.clone(),
                    };
                    self.stmts(body, inner, guarded, false);
                }
                Stmt::Cond { branches, .. } => {
                    let mut assigned = BTreeSet::new();
                    for b in branches {
                        let after = self.stmts(b, scope.clone(), true, false);
                        for (k, v) in after.local {
                            if scope.local.get(&k) != Some(&v) {
                                assigned.insert(k);
                            }
                        }
                    }
                    // Set on some branch only: not known after the condition.
                    for k in assigned {
                        let Some(span) = scope.local.get(&k).map(|v| v.span).or_else(|| {
                            branches.iter().flatten().find_map(|s| match s {
                                Stmt::Assign { name, span, .. } if *name == k => Some(*span),
                                _ => None,
                            })
                        }) else {
                            continue;
                        };
                        scope.local.insert(
                            k.clone(),
                            V::new(
                                Value::Unknown(format!("`${k}`, set under a condition")),
                                span,
                            ),
                        );
                    }
                }
                _ => {}
            }
        }
        scope
    }

    fn resource(&mut self, ty: &str, b: &Body, scope: &Scope, guarded: bool) {
        let lower = ty.to_ascii_lowercase();
        if lower == "class" {
            if let Some(name) = scope.eval(&b.title).text() {
                self.apply_class(&name, Some((b, scope)), guarded, Some(b.span));
            }
            return;
        }
        if let Some(def) = self.defines.get(lower.as_str()).copied() {
            self.instantiate(def, b, scope, guarded);
            return;
        }
        if !LOWERED.contains(&lower.as_str()) {
            return;
        }
        let title = scope.eval(&b.title);
        let attrs = b
            .attrs
            .iter()
            .map(|a| (a.name.clone(), a.name_span, scope.eval(&a.value)))
            .collect();
        let vars = if lower == "file" {
            Arc::new(scope.local.clone())
        } else {
            Arc::default()
        };
        // `firewall { ['100 a', '101 b']: … }` declares one per title.
        for t in title.items() {
            self.out.push(Resource {
                ty: lower.clone(),
                title: t.clone(),
                attrs: Vec::clone(&attrs),
                span: b.span,
                guarded,
                vars: vars.clone(),
            });
        }
    }

    /// The body of class `name`, once per catalog.
    fn apply_class(
        &mut self,
        name: &str,
        declared: Option<(&Body, &Scope)>,
        guarded: bool,
        at: Option<Span>,
    ) {
        let name = name.trim_start_matches("::").to_owned();
        let Some(class) = self.classes.get(name.as_str()).copied() else {
            return;
        };
        let Stmt::Class {
            params, body, span, ..
        } = class
        else {
            return;
        };
        if !self.applied.insert(name.clone()) {
            return;
        }
        if self.full(at.unwrap_or(*span)) {
            return;
        }
        let scope = self.bind(params, declared, &[], Some(&name));
        self.depth += 1;
        self.stmts(body, scope, guarded, false);
        self.depth -= 1;
    }

    fn instantiate(&mut self, def: &Stmt, b: &Body, outer: &Scope, guarded: bool) {
        let Stmt::Define { params, body, .. } = def else {
            return;
        };
        if self.full(b.span) {
            return;
        }
        let title = outer.eval(&b.title);
        for t in title.items() {
            let extra = [("title", t.clone()), ("name", t.clone())];
            let scope = self.bind(params, Some((b, outer)), &extra, None);
            self.depth += 1;
            self.stmts(body, scope, guarded, false);
            self.depth -= 1;
        }
    }

    /// Parameters: what the declaration passes, else (for a class) what Hiera
    /// holds for them, else their defaults.
    fn bind(
        &self,
        params: &[Param],
        declared: Option<(&Body, &Scope)>,
        extra: &[(&str, V)],
        class: Option<&str>,
    ) -> Scope {
        let mut scope = Scope {
            local: HashMap::new(),
            global: self.global.clone(),
            hiera: self.hiera.clone(),
        };
        for (k, v) in extra {
            scope.local.insert((*k).to_owned(), v.clone());
        }
        for p in params {
            let passed = declared.and_then(|(b, s)| b.attr(&p.name).map(|a| s.eval(&a.value)));
            let v = match (passed, class) {
                (Some(v), _) => Some(v),
                (None, Some(class)) => parameter(&scope, class, p),
                (None, None) => p.default.as_ref().map(|d| scope.eval(d)),
            };
            if let Some(v) = v {
                scope.local.insert(p.name.clone(), v);
            }
        }
        scope
    }
}

/// A class parameter no declaration passes: the value of the Hiera key
/// `CLASS::PARAM` (automatic parameter lookup), else its default.
fn parameter(scope: &Scope, class: &str, p: &Param) -> Option<V> {
    let key = format!("{class}::{}", p.name);
    let found = scope.hiera.as_ref().map(|h| h.lookup(&key, Merge::First));
    match found {
        Some(Found::Value(v)) => Some(V {
            data: v.data.or(Some(v.span)),
            ..v
        }),
        Some(Found::Unknown(why, at)) => Some(V {
            v: Value::Unknown(format!(
                "`${}` of class {class} (Hiera key `{key}`), {why}",
                p.name
            )),
            span: p.span,
            data: at,
        }),
        _ => p.default.as_ref().map(|d| scope.eval(d)),
    }
}

/// What a bundle's firewall resources leave: the firewall facts of its primary.
pub fn facts(project: &Project, bundle: &Bundle) -> FileFacts {
    let primary = &bundle.primary_file().source;
    let lowered = super::firewall::lower(&project.resources);
    if lowered.commands.is_empty() && lowered.unknowns.is_empty() {
        return FileFacts::default();
    }
    let mut rs = crate::formats::iptables::replay_commands(primary, &lowered.commands, false);
    for u in &lowered.unknowns {
        rs.unknowns.push(crate::formats::iptables::Unknown {
            span: u.span,
            rule: u.span,
            what: u.what.clone(),
            ports: crate::portset::PortSet::empty(),
        });
    }
    let (mut firewall, mut firewall_v6) = crate::formats::iptables::facts(&rs, primary);
    for fw in firewall.iter_mut().chain(firewall_v6.iter_mut()) {
        fw.dialect = crate::facts::Dialect::PuppetFirewall;
        // The ports are written as Puppet values (`'40000-40100'`), not as the
        // iptables words they become: an iptables edit there would be wrong.
        fw.port_texts.clear();
        fw.port_data.clone_from(&lowered.port_data);
    }
    FileFacts {
        firewall,
        firewall_v6,
        ..FileFacts::default()
    }
}

/// The files a bundle's `file` and `file_line` resources write, and the
/// repository files (templates, `files/`) they install.
pub fn outcome(
    project: &Project,
    lookup: &crate::formats::ansible::files::Lookup,
) -> (Outcome, Vec<FileId>) {
    super::files::outcome(project, lookup)
}

/// Whether any value of a resource is not known: (where, and the Hiera data
/// that decides it), and what.
pub fn unresolved(r: &Resource, names: &[&str]) -> Option<((Span, Option<Span>), String)> {
    names.iter().find_map(|n| {
        let v = r.get(n)?;
        v.unknown()
            .map(|what| ((v.span, v.data), format!("`{n}` is {what}")))
    })
}

/// The literal text of an expression, when it is a plain string or word.
pub fn literal(e: &Expr) -> Option<String> {
    Scope::default().eval(e).text()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::{self, Format};
    use crate::source::SourceFile;

    fn run(files: &[(&str, &str)]) -> Vec<Bundle> {
        let parts = files
            .iter()
            .enumerate()
            .map(|(i, (path, text))| {
                let source = SourceFile::new(FileId(i as u32), *path, text.as_bytes());
                formats::parse(source, Format::Puppet)
            })
            .collect();
        let bundles = assemble(parts);
        for b in &bundles {
            let _ = crate::formats::bundles::facts(b);
            let _ = crate::formats::bundles::outcome(b, &|_| None);
        }
        bundles
    }

    #[test]
    fn roots() {
        assert_eq!(
            root_of(Path::new("r/modules/ftp/manifests/init.pp")),
            PathBuf::from("r")
        );
        assert_eq!(
            root_of(Path::new("r/manifests/site.pp")),
            PathBuf::from("r")
        );
        assert_eq!(
            root_of(Path::new("puppet-ftp/manifests/init.pp")),
            PathBuf::from("puppet-ftp")
        );
        assert_eq!(
            module_of(Path::new("x/puppet-ftp/manifests/a/b.pp"))
                .unwrap()
                .0,
            "ftp"
        );
    }

    #[test]
    fn classes_are_read_when_included_with_their_parameters() {
        let bundles = run(&[
            (
                "r/manifests/site.pp",
                "node default { class { 'ftp': max => '40100' } }\n",
            ),
            (
                "r/modules/ftp/manifests/init.pp",
                "class ftp ($min = 40000, $max = 40200) {\n  firewall { '100 ftp': dport => [21, \"${min}-${max}\"], action => accept }\n  firewallchain { 'INPUT:filter:IPv4': policy => drop }\n}\nclass ftp::unused { firewall { '200 x': dport => 22, action => accept } }\n",
            ),
        ]);
        assert_eq!(bundles.len(), 1);
        let facts = crate::formats::bundles::facts(&bundles[0]);
        let fw = facts.firewall.unwrap();
        assert_eq!(fw.open_to_all.to_string(), "21,40000-40100");
    }

    #[test]
    fn includes_that_loop_end() {
        run(&[(
            "m/manifests/init.pp",
            "class a { include a, b }\nclass b { include a\n d { 'x': } }\ndefine d { d { \"${title}x\": } }\ninclude a\n",
        )]);
    }
}
