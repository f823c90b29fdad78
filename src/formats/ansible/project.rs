//! The Ansible files of a run read as projects: each playbook with the roles,
//! task files and variables it uses is one bundle (one host); a role no
//! playbook uses is one of its own, run as `roles: [NAME]` would run it; a task
//! file nothing includes is one too. Each is run as ansible-playbook runs it,
//! task by task in play order (`pre_tasks`, `roles`, `tasks`, `post_tasks`;
//! handlers only run when notified, which is not followed), recording the
//! firewall commands its modules run ([`super::firewall`]) and the files its
//! modules write ([`super::files`]).

use super::args::{Args, Got, Unresolved};
use super::files::{self, BlockInFile, FileOp, IniFile, LineInFile, Op};
use super::firewall::Commands;
use super::jinja::Value;
use super::scope::{self, Layer, Scope, Slot, Var};
use super::tasks::{Action, Module, Play, RoleRef, Task};
use super::template::{self, Spans};
use super::{File, Kind};
use crate::facts::{Family, FileFacts};
use crate::formats::bundle::{Bundle, BundleDoc};
use crate::formats::yaml::{self, Node};
use crate::formats::{Document, ParsedFile};
use crate::scripts::{Outcome, Text};
use crate::source::{FileId, SourceFile};
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What one playbook, role or task file does to its host.
#[derive(Debug, Default)]
pub struct Project {
    /// The playbook, the role's folder, or the task file.
    pub root: PathBuf,
    pub commands: Commands,
    pub ops: Vec<FileOp>,
    /// File tasks whose target or content depends on what is not known.
    pub unresolved: Vec<Unresolved>,
    /// The task that fails on the host, stopping the play there.
    pub failure: Option<Failure>,
}

/// A task whose module fails: ansible-playbook stops the play on the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub span: crate::source::Span,
    /// What the program the module runs says.
    pub message: String,
    /// The module.
    pub module: &'static str,
}

/// Tasks one project runs at most (loops and includes together).
const MAX_TASKS: usize = 100_000;
/// How deep includes and roles nest.
const MAX_NESTING: usize = 24;

fn ansible(part: &ParsedFile) -> Option<&File> {
    match &part.doc {
        Document::Ansible(f) => Some(f),
        _ => None,
    }
}

struct Index<'a> {
    parts: &'a [ParsedFile],
    /// Each part's path, normalized.
    paths: Vec<PathBuf>,
    /// Indexes into `paths`, in path order: the parts under a folder are one run.
    sorted: Vec<usize>,
    by_path: HashMap<PathBuf, usize>,
    by_id: HashMap<FileId, usize>,
    /// The folders holding a `group_vars/` or `host_vars/` some part lies
    /// under, sorted: found once, not per play.
    inventories: Vec<PathBuf>,
}

impl<'a> Index<'a> {
    fn new(parts: &'a [ParsedFile]) -> Self {
        let paths: Vec<PathBuf> = parts.iter().map(|p| normalize(&p.source.path)).collect();
        let mut inventories: Vec<PathBuf> = paths
            .iter()
            .filter_map(|p| inventory_of(p).map(Path::to_path_buf))
            .collect();
        inventories.sort();
        inventories.dedup();
        let mut sorted: Vec<usize> = (0..paths.len()).collect();
        sorted.sort_by(|a, b| paths[*a].cmp(&paths[*b]));
        Index {
            inventories,
            sorted,
            parts,
            by_path: paths
                .iter()
                .cloned()
                .enumerate()
                .map(|(i, p)| (p, i))
                .collect(),
            paths,
            by_id: parts
                .iter()
                .enumerate()
                .map(|(i, p)| (p.source.id, i))
                .collect(),
        }
    }

    fn find(&self, path: &Path) -> Option<usize> {
        self.by_path.get(&normalize(path)).copied()
    }

    fn file(&self, i: usize) -> Option<&'a File> {
        ansible(&self.parts[i])
    }

    fn source(&self, id: FileId) -> Option<&'a SourceFile> {
        self.by_id.get(&id).map(|i| &self.parts[*i].source)
    }

    /// Parts whose path is under `dir`, in path order.
    fn under(&self, dir: &Path) -> impl Iterator<Item = usize> + '_ {
        let dir = normalize(dir);
        let start = self.sorted.partition_point(|&i| self.paths[i] < dir);
        self.sorted[start..]
            .iter()
            .copied()
            .take_while(move |&i| self.paths[i].starts_with(&dir))
    }

    /// The inventory folders below `dir`, at most two levels down.
    fn inventories_below<'s>(&'s self, dir: &'s Path) -> impl Iterator<Item = &'s PathBuf> + 's {
        let start = self.inventories.partition_point(|p| p.as_path() < dir);
        self.inventories[start..]
            .iter()
            .take_while(move |p| p.starts_with(dir))
            .filter(move |p| {
                p.strip_prefix(dir).is_ok_and(|below| {
                    !below.as_os_str().is_empty() && below.components().count() <= 2
                })
            })
    }
}

/// `a/./b/../c` as `a/c`, without touching the file system.
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

fn parent(path: &Path) -> PathBuf {
    path.parent().map(Path::to_path_buf).unwrap_or_default()
}

/// Group the parts into bundles (see the module doc).
pub fn assemble(parts: Vec<ParsedFile>) -> Vec<Bundle> {
    let index = Index::new(&parts);
    let mut units: Vec<(usize, Project, BTreeSet<usize>)> = Vec::new();
    let mut used_roles: BTreeSet<PathBuf> = BTreeSet::new();
    let mut touched_all: BTreeSet<usize> = BTreeSet::new();
    for (i, part) in parts.iter().enumerate() {
        let Some(File {
            kind: Kind::Playbook(plays),
            ..
        }) = ansible(part)
        else {
            continue;
        };
        let mut run = Run::new(&index, parent(&index.paths[i]));
        run.touched.insert(i);
        for play in plays {
            run.play(play);
        }
        // Every file of a role the playbook uses belongs to it, run or not.
        for role in run.roles.clone() {
            run.touched.extend(index.under(&role));
        }
        used_roles.extend(run.roles.iter().cloned());
        touched_all.extend(run.touched.iter().copied());
        let mut project = run.finish(part.source.path.clone());
        stop_at_failure(&mut project, &part.source);
        units.push((i, project, run_touched(&run)));
    }
    // Roles no playbook uses.
    let mut roles: BTreeSet<PathBuf> = BTreeSet::new();
    for path in &index.paths {
        if let Some((root, _)) = super::role_part(path) {
            roles.insert(root.to_path_buf());
        }
    }
    for role in roles.difference(&used_roles) {
        let project_dir = parent(&parent(role));
        let mut run = Run::new(&index, project_dir.clone());
        let scope = run.inventory(&["all".to_owned()]);
        let name = role
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        run.role(role, &name, &[], "main", &scope, false, 0);
        // Every file of the role belongs to it, run or not.
        run.touched.extend(index.under(role));
        let Some(primary) = primary_of_role(&index, role, &run.touched) else {
            continue;
        };
        touched_all.extend(run.touched.iter().copied());
        let mut project = run.finish(role.clone());
        stop_at_failure(&mut project, &index.parts[primary].source);
        units.push((primary, project, run_touched(&run)));
    }
    // Task files nothing includes.
    for (i, part) in parts.iter().enumerate() {
        if touched_all.contains(&i) {
            continue;
        }
        let Some(File {
            kind: Kind::Tasks(tasks),
            ..
        }) = ansible(part)
        else {
            continue;
        };
        let dir = parent(&index.paths[i]);
        let mut run = Run::new(&index, dir.clone());
        run.touched.insert(i);
        let scope = run.inventory(&["all".to_owned()]);
        let ctx = Ctx {
            role: None,
            dir,
            guarded: false,
            depth: 0,
            ignore_errors: false,
        };
        run.tasks(tasks, &scope, &ctx);
        touched_all.extend(run.touched.iter().copied());
        let mut project = run.finish(part.source.path.clone());
        stop_at_failure(&mut project, &part.source);
        units.push((i, project, run_touched(&run)));
    }
    distribute(parts, units)
}

/// A firewall task whose command the program rejects fails, and a failed task
/// stops the play on the host (unless it has `ignore_errors`): neither that task
/// nor any after it changes anything.
fn stop_at_failure(project: &mut Project, primary: &SourceFile) {
    let c = &project.commands;
    if c.commands.is_empty() {
        return;
    }
    let rs = crate::formats::iptables::replay_commands(primary, &c.commands, true);
    let inside = |inner: crate::source::Span, outer: crate::source::Span| {
        inner.file == outer.file && inner.start >= outer.start && inner.end <= outer.end
    };
    let failing = c.commands.iter().enumerate().find_map(|(i, cmd)| {
        let (seq, ignored) = c.tasks.get(i).copied()?;
        let p = rs.problems.iter().find(|p| inside(p.span, cmd.span))?;
        (!ignored).then(|| {
            (
                seq,
                cmd.span,
                p.message.clone(),
                cmd.argv.first().map(|w| w.text.clone()),
            )
        })
    });
    let Some((seq, span, message, program)) = failing else {
        return;
    };
    let keep: Vec<bool> = c.tasks.iter().map(|(s, _)| *s < seq).collect();
    let mut k = keep.iter();
    project
        .commands
        .commands
        .retain(|_| *k.next().unwrap_or(&false));
    project.commands.tasks.retain(|(s, _)| *s < seq);
    project.ops.retain(|o| o.seq < seq);
    let module = match program.as_deref() {
        Some("ufw") => "ufw",
        Some("firewall-cmd" | "firewall-offline-cmd") => "firewalld",
        _ => "iptables",
    };
    project.failure = Some(Failure {
        span,
        message,
        module,
    });
}

fn run_touched(run: &Run) -> BTreeSet<usize> {
    run.touched.clone()
}

/// The file a role's bundle stands on: its `tasks/main.yml`, else its first file.
/// The folder whose `group_vars/` or `host_vars/` holds `path`, the nearest one.
fn inventory_of(path: &Path) -> Option<&Path> {
    let vars_dir = path.ancestors().find(|a| {
        matches!(
            a.file_name().and_then(|n| n.to_str()),
            Some("group_vars" | "host_vars")
        )
    })?;
    vars_dir.parent()
}

fn primary_of_role(index: &Index, role: &Path, touched: &BTreeSet<usize>) -> Option<usize> {
    for name in ["tasks/main.yml", "tasks/main.yaml", "tasks/main"] {
        if let Some(i) = index.find(&role.join(name)) {
            return Some(i);
        }
    }
    touched
        .iter()
        .copied()
        .find(|i| index.paths[*i].starts_with(role))
}

/// Hand each part to the first unit that touched it; parts no unit touched
/// are bundles of their own (a variables file nothing reads).
fn distribute(
    parts: Vec<ParsedFile>,
    units: Vec<(usize, Project, BTreeSet<usize>)>,
) -> Vec<Bundle> {
    let mut owner: Vec<Option<usize>> = vec![None; parts.len()];
    for (u, (primary, _, touched)) in units.iter().enumerate() {
        owner[*primary].get_or_insert(u);
        for t in touched {
            owner[*t].get_or_insert(u);
        }
    }
    let primaries: Vec<FileId> = units.iter().map(|(p, _, _)| parts[*p].source.id).collect();
    let mut grouped: Vec<Vec<ParsedFile>> = units.iter().map(|_| Vec::new()).collect();
    let mut alone = Vec::new();
    for (part, owner) in parts.into_iter().zip(owner) {
        match owner {
            Some(u) => grouped[u].push(part),
            None => alone.push(part),
        }
    }
    let mut out = Vec::new();
    for (((_, project, _), mut members), primary) in units.into_iter().zip(grouped).zip(primaries) {
        if members.is_empty() {
            continue;
        }
        // A unit whose primary another unit owns (a role another role includes)
        // has its facts there; what else it owns is a bundle without facts.
        let (primary, project) = match members.iter().position(|p| p.source.id == primary) {
            Some(at) => {
                let first = members.remove(at);
                members.insert(0, first);
                (primary, project)
            }
            None => (
                members[0].source.id,
                Project {
                    root: members[0].source.path.clone(),
                    ..Project::default()
                },
            ),
        };
        out.push(Bundle {
            primary,
            parts: members,
            doc: BundleDoc::Ansible(Box::new(project)),
        });
    }
    for part in alone {
        out.push(Bundle {
            primary: part.source.id,
            doc: BundleDoc::Ansible(Box::new(Project {
                root: part.source.path.clone(),
                ..Project::default()
            })),
            parts: vec![part],
        });
    }
    out
}

#[derive(Clone, Debug)]
struct Ctx {
    /// The role folder the task belongs to.
    role: Option<PathBuf>,
    /// The folder of the task file.
    dir: PathBuf,
    /// Under a `when:` (or a `rescue:`): the task may not run.
    guarded: bool,
    depth: usize,
    /// Under `ignore_errors`: a failure does not stop the play.
    ignore_errors: bool,
}

struct Run<'a> {
    index: &'a Index<'a>,
    play_dir: PathBuf,
    commands: Commands,
    ops: Vec<FileOp>,
    unresolved: Vec<Unresolved>,
    facts: Arc<Layer>,
    touched: BTreeSet<usize>,
    roles: BTreeSet<PathBuf>,
    tasks_run: usize,
    /// Actions run so far: each one's place in play order.
    seq: usize,
}

impl<'a> Run<'a> {
    fn new(index: &'a Index<'a>, play_dir: PathBuf) -> Self {
        Run {
            index,
            play_dir,
            commands: Commands::default(),
            ops: Vec::new(),
            unresolved: Vec::new(),
            facts: Arc::new(Layer::new()),
            touched: BTreeSet::new(),
            roles: BTreeSet::new(),
            tasks_run: 0,
            seq: 0,
        }
    }

    fn finish(&mut self, root: PathBuf) -> Project {
        Project {
            root,
            commands: std::mem::take(&mut self.commands),
            ops: std::mem::take(&mut self.ops),
            unresolved: std::mem::take(&mut self.unresolved),
            failure: None,
        }
    }

    /// A variables file of the run (a part) or one read from disk.
    fn vars_file(&mut self, path: &Path) -> Option<Layer> {
        if let Some(i) = self.index.find(path) {
            self.touched.insert(i);
            return match self.index.file(i) {
                Some(File {
                    kind: Kind::Vars(root),
                    vault: false,
                    ..
                }) => Some(scope::layer(root.as_ref())),
                Some(File { vault: true, .. }) => Some(Layer::new()),
                _ => None,
            };
        }
        let meta = std::fs::metadata(path).ok()?;
        if !meta.is_file() || meta.len() > 1 << 20 {
            return None;
        }
        let text = crate::source::decode(std::fs::read(path).ok()?).0;
        if text.trim_start().starts_with("$ANSIBLE_VAULT") {
            return Some(Layer::new());
        }
        // Spans of values read so are never shown: values become text, not findings.
        let root = yaml::parse_pyyaml(FileId(u32::MAX), &text).ok()?;
        Some(scope::layer(root.as_ref()))
    }

    /// The variables of a `group_vars/NAME` or `host_vars/NAME`: the file with or
    /// without a YAML extension, or every file of the folder of that name.
    fn vars_named(&mut self, dir: &Path, name: &str) -> Layer {
        let mut out = Layer::new();
        for ext in ["", ".yml", ".yaml", ".json"] {
            let path = dir.join(format!("{name}{ext}"));
            if self.index.find(&path).is_some() || path.is_file() {
                if let Some(l) = self.vars_file(&path) {
                    out.extend(l);
                }
            }
        }
        let folder = dir.join(name);
        let inside: Vec<usize> = self.index.under(&folder).collect();
        for i in inside {
            let path = self.index.paths[i].clone();
            if let Some(l) = self.vars_file(&path) {
                out.extend(l);
            }
        }
        out
    }

    /// Inventory variables of the play's groups: `group_vars/all`, then each
    /// group's, then `host_vars` of a play naming one host.
    fn inventory(&mut self, groups: &[String]) -> Scope {
        // An inventory's `group_vars/` (an inventory folder below the playbook's),
        // then the playbook's own, which wins.
        let play_dir = self.play_dir.clone();
        let inventories: Vec<PathBuf> = self.index.inventories_below(&play_dir).cloned().collect();
        let mut layer = Layer::new();
        let mut seen: HashMap<String, (PathBuf, String)> = HashMap::new();
        for inv in &inventories {
            let inv_layer = self.inventory_layer(inv, groups);
            for (k, v) in inv_layer {
                let text = var_text(&v);
                let v = match seen.get(&k) {
                    Some((other, t)) if *t != text => Var::Unknown(format!(
                        "{k} (set differently in the inventories {} and {})",
                        crate::source::display_path(other),
                        crate::source::display_path(inv)
                    )),
                    _ => v,
                };
                seen.insert(k.clone(), (inv.clone(), text));
                layer.insert(k, v);
            }
        }
        layer.extend(self.inventory_layer(&play_dir, groups));
        Scope::new().with(Slot::Inventory, layer)
    }

    /// `group_vars/all`, each group's, and `host_vars` of a play naming one host, of one folder.
    fn inventory_layer(&mut self, dir: &Path, groups: &[String]) -> Layer {
        let mut layer = self.vars_named(&dir.join("group_vars"), "all");
        for g in groups.iter().filter(|g| *g != "all") {
            layer.extend(self.vars_named(&dir.join("group_vars"), g));
        }
        if let [_, host] = groups {
            layer.extend(self.vars_named(&dir.join("host_vars"), host));
        }
        layer
    }

    fn play(&mut self, play: &Play) {
        // Each play runs on its own hosts: its variables start afresh.
        self.facts = Arc::new(Layer::new());
        if play.import.is_some() {
            // The imported playbook is a project of its own.
            return;
        }
        let groups = play
            .hosts
            .as_ref()
            .map(|h| host_patterns(&values::raw_text(h)))
            .unwrap_or_default();
        let mut scope = self.inventory(&groups);
        if let Some(v) = &play.vars {
            scope = scope.with(Slot::Play, scope::layer(Some(v)));
        }
        for f in &play.vars_files {
            let Ok(Value::Str(name)) = scope.value(f) else {
                continue;
            };
            let path = self.play_dir.join(&name);
            if let Some(l) = self.vars_file(&path) {
                scope = scope.with(Slot::Play, l);
            }
        }
        let ctx = Ctx {
            role: None,
            dir: self.play_dir.clone(),
            guarded: false,
            depth: 0,
            ignore_errors: false,
        };
        self.tasks(&play.pre_tasks, &scope, &ctx);
        for r in &play.roles {
            self.role_ref(r, &scope, &ctx);
        }
        self.tasks(&play.tasks, &scope, &ctx);
        self.tasks(&play.post_tasks, &scope, &ctx);
    }

    fn role_ref(&mut self, r: &RoleRef, scope: &Scope, ctx: &Ctx) {
        let Some(dir) = self.find_role(&r.name) else {
            return;
        };
        let guarded = ctx.guarded || r.when.is_some();
        self.role(
            &dir,
            &r.name,
            &r.params,
            "main",
            scope,
            guarded,
            ctx.depth + 1,
        );
    }

    /// The folder of role `name`: `roles/NAME` beside the playbook or above it.
    fn find_role(&self, name: &str) -> Option<PathBuf> {
        let mut candidates = vec![self.play_dir.join(name)];
        for dir in self.play_dir.ancestors().take(4) {
            candidates.push(dir.join("roles").join(name));
        }
        candidates
            .into_iter()
            .map(|c| normalize(&c))
            .find(|c| self.index.under(c).next().is_some() || c.join("tasks").is_dir())
    }

    #[allow(clippy::too_many_arguments)]
    fn role(
        &mut self,
        dir: &Path,
        _name: &str,
        params: &[(String, Node)],
        tasks_from: &str,
        scope: &Scope,
        guarded: bool,
        depth: usize,
    ) {
        if depth > MAX_NESTING {
            return;
        }
        self.roles.insert(dir.to_path_buf());
        let defaults = self.role_vars(dir, "defaults");
        let vars = self.role_vars(dir, "vars");
        let mut role_params = Layer::new();
        for (k, v) in params {
            role_params.insert(k.clone(), Var::Node(v.clone()));
        }
        let scope = scope
            .without_role()
            .with(Slot::RoleDefaults, defaults)
            .with(Slot::RoleVars, vars)
            .with(Slot::RoleParams, role_params);
        let tasks_dir = dir.join("tasks");
        let Some(i) = ["", ".yml", ".yaml"].iter().find_map(|ext| {
            self.index
                .find(&tasks_dir.join(format!("{tasks_from}{ext}")))
        }) else {
            return;
        };
        self.touched.insert(i);
        let Some(File {
            kind: Kind::Tasks(tasks),
            ..
        }) = self.index.file(i)
        else {
            return;
        };
        let ctx = Ctx {
            role: Some(dir.to_path_buf()),
            dir: tasks_dir,
            guarded,
            depth,
            ignore_errors: false,
        };
        self.tasks(tasks, &scope, &ctx);
    }

    /// `defaults/main.yml` (or `main.yaml`, `main`, the files of `main/`).
    fn role_vars(&mut self, dir: &Path, sub: &str) -> Layer {
        self.vars_named(&dir.join(sub), "main")
    }

    fn tasks(&mut self, tasks: &[Task], scope: &Scope, ctx: &Ctx) {
        for t in tasks {
            self.task(t, scope, ctx);
        }
    }

    fn task(&mut self, task: &Task, scope: &Scope, ctx: &Ctx) {
        self.tasks_run += 1;
        if self.tasks_run > MAX_TASKS {
            return;
        }
        let ctx = Ctx {
            guarded: ctx.guarded || task.when.is_some(),
            ignore_errors: ctx.ignore_errors || task.ignore_errors,
            ..ctx.clone()
        };
        let mut scope = scope.clone();
        if let Some(v) = &task.vars {
            scope = scope.with(Slot::Task, scope::layer(Some(v)));
        }
        if let Some(block) = &task.block {
            self.tasks(&block.tasks, &scope, &ctx);
            let rescue = Ctx {
                guarded: true,
                ..ctx.clone()
            };
            self.tasks(&block.rescue, &scope, &rescue);
            self.tasks(&block.always, &scope, &ctx);
            return;
        }
        let Some(action) = &task.action else { return };
        match &task.looped {
            None => self.action(action, &scope.with_facts(&self.facts.clone()), &ctx),
            Some((node, var, flatten)) => {
                let now = scope.with_facts(&self.facts.clone());
                match now.value(node) {
                    Ok(Value::List(items)) => {
                        let items = if *flatten { flattened(items) } else { items };
                        for item in items {
                            if self.tasks_run > MAX_TASKS {
                                break;
                            }
                            self.tasks_run += 1;
                            let mut l = Layer::new();
                            l.insert(var.clone(), Var::Value(item));
                            let s = scope.with_facts(&self.facts.clone()).with(Slot::Loop, l);
                            self.action(action, &s, &ctx);
                        }
                    }
                    Ok(Value::Str(s)) if *flatten => {
                        let mut l = Layer::new();
                        l.insert(var.clone(), Var::Value(Value::Str(s)));
                        self.action(action, &now.with(Slot::Loop, l), &ctx);
                    }
                    Ok(_) => {}
                    Err(u) => {
                        let mut l = Layer::new();
                        l.insert(var.clone(), Var::Unknown(u.what));
                        self.action(action, &now.with(Slot::Loop, l), &ctx);
                    }
                }
            }
        }
        if let Some(name) = &task.register {
            Arc::make_mut(&mut self.facts).insert(
                name.clone(),
                Var::Unknown(format!("{name} (a registered result)")),
            );
        }
    }

    fn action(&mut self, action: &Action, scope: &Scope, ctx: &Ctx) {
        self.seq += 1;
        self.commands.current = (self.seq, ctx.ignore_errors);
        let Some(module) = action.module else { return };
        let on_the_host = matches!(
            module,
            Module::Iptables
                | Module::Ufw
                | Module::Firewalld
                | Module::Template
                | Module::Copy
                | Module::LineInFile
                | Module::BlockInFile
                | Module::IniFile
                | Module::Command
                | Module::Shell
        );
        if action.delegated && on_the_host {
            return;
        }
        let guarded = ctx.guarded;
        match module {
            Module::Iptables => self.commands.iptables(Args::new(action, scope), guarded),
            Module::Ufw => self.commands.ufw(Args::new(action, scope), guarded),
            Module::Firewalld => self.commands.firewalld(Args::new(action, scope), guarded),
            Module::Template
            | Module::Copy
            | Module::LineInFile
            | Module::BlockInFile
            | Module::IniFile => self.file_task(module, action, scope, ctx),
            Module::IncludeTasks | Module::ImportTasks => self.include_tasks(action, scope, ctx),
            Module::IncludeRole | Module::ImportRole => {
                let mut a = Args::new(action, scope);
                let Got::Known(name, _) = a.str(&["name"]) else {
                    return;
                };
                let from = match a.str(&["tasks_from"]) {
                    Got::Known(f, _) => f,
                    _ => "main".to_owned(),
                };
                if let Some(dir) = self.find_role(&name) {
                    self.role(
                        &dir,
                        &name,
                        &[],
                        &from,
                        &scope.without_role(),
                        guarded,
                        ctx.depth + 1,
                    );
                }
            }
            Module::SetFact => {
                let facts = Arc::make_mut(&mut self.facts);
                for arg in action.args.iter().filter(|a| a.key != "cacheable") {
                    let var = match (guarded, scope.value(&arg.value)) {
                        (false, Ok(v)) => Var::Value(v),
                        (true, _) => Var::Unknown(format!("{} (set under a condition)", arg.key)),
                        (false, Err(u)) => Var::Unknown(u.what),
                    };
                    facts.insert(arg.key.clone(), var);
                }
            }
            Module::IncludeVars => {
                let mut a = Args::new(action, scope);
                let file = match a.str(&["file", "_raw_params"]) {
                    Got::Known(f, _) => Some(f),
                    _ => action.raw.as_ref().and_then(|r| match scope.value(r) {
                        Ok(v) => Some(v.to_text()),
                        Err(_) => None,
                    }),
                };
                let Some(file) = file else { return };
                let mut candidates = vec![ctx.dir.join(&file)];
                if let Some(role) = &ctx.role {
                    candidates.insert(0, role.join("vars").join(&file));
                }
                candidates.push(self.play_dir.join(&file));
                if let Some(layer) = candidates.iter().find_map(|p| self.vars_file(p)) {
                    let facts = Arc::make_mut(&mut self.facts);
                    for (k, v) in layer {
                        let v = if guarded {
                            Var::Unknown(format!("{k} (included under a condition)"))
                        } else {
                            v
                        };
                        facts.insert(k, v);
                    }
                }
            }
            Module::SecurityGroupRule => {
                let c = &mut self.commands;
                c.groups.task(
                    Args::new(action, scope),
                    guarded,
                    &mut c.unresolved,
                    &mut c.base60,
                );
            }
            Module::Command | Module::Shell => {
                self.commands
                    .shell(Args::new(action, scope), action.raw.as_ref(), guarded)
            }
        }
    }

    fn include_tasks(&mut self, action: &Action, scope: &Scope, ctx: &Ctx) {
        if ctx.depth > MAX_NESTING {
            return;
        }
        let mut a = Args::new(action, scope);
        let file = match a.str(&["file"]) {
            Got::Known(f, _) => Some(f),
            _ => action
                .raw
                .as_ref()
                .and_then(|r| scope.value(r).ok())
                .map(|v| v.to_text()),
        };
        let Some(file) = file else { return };
        let mut candidates = vec![ctx.dir.join(&file)];
        if let Some(role) = &ctx.role {
            candidates.push(role.join("tasks").join(&file));
        }
        candidates.push(self.play_dir.join(&file));
        let Some(i) = candidates.iter().find_map(|p| self.index.find(p)) else {
            return;
        };
        self.touched.insert(i);
        let Some(File {
            kind: Kind::Tasks(tasks),
            ..
        }) = self.index.file(i)
        else {
            return;
        };
        let inner = Ctx {
            dir: parent(&self.index.paths[i]),
            depth: ctx.depth + 1,
            ..ctx.clone()
        };
        self.tasks(tasks, scope, &inner);
    }

    /// Where a `src:` of a `template` (`templates/`) or `copy` (`files/`) is:
    /// the role's folder, the task file's, the playbook's, as Ansible searches.
    fn find_src(&self, src: &str, kind: &str, ctx: &Ctx) -> Option<PathBuf> {
        let src_path = Path::new(src);
        if src_path.is_absolute() {
            return None;
        }
        let mut dirs: Vec<PathBuf> = Vec::new();
        if let Some(role) = &ctx.role {
            dirs.push(role.join(kind));
            dirs.push(role.clone());
        }
        dirs.push(ctx.dir.join(kind));
        dirs.push(ctx.dir.join("..").join(kind));
        dirs.push(ctx.dir.clone());
        dirs.push(self.play_dir.join(kind));
        dirs.push(self.play_dir.clone());
        dirs.into_iter()
            .map(|d| normalize(&d.join(src_path)))
            .find(|p| p.is_file())
    }

    /// A string argument as the text a module writes: templated, each part
    /// spanned where it is written; an expression not known renders as unknown.
    fn text_arg(&self, a: &mut Args, keys: &[&str]) -> Got<Text> {
        let Some(node) = a.action.arg_any(keys) else {
            return Got::Absent;
        };
        let span = node.span();
        let Node::Scalar { text, quoted, .. } = node else {
            return match a.value(keys) {
                Got::Known(v, s) => {
                    let mut t = Text::default();
                    t.push(&v.to_text(), s, false);
                    Got::Known(t, s)
                }
                Got::Absent => Got::Absent,
                Got::Unknown(s) => Got::Unknown(s),
            };
        };
        match values::scalar(text, *quoted) {
            Value::Str(_) => {}
            Value::None => return Got::Absent,
            other => {
                let mut t = Text::default();
                t.push(&other.to_text(), span, false);
                return Got::Known(t, span);
            }
        }
        if text.trim() == "{{ omit }}" {
            return Got::Absent;
        }
        let verbatim = self
            .index
            .source(span.file)
            .is_some_and(|s| s.text.get(span.range()) == Some(text.as_str()));
        if !verbatim {
            if let Some(t) = self.block_lines(text, span, a.vars) {
                return Got::Known(t, span);
            }
        }
        let spans = if verbatim {
            Spans::InFileAt(span.file, span.start as usize)
        } else {
            Spans::At(span)
        };
        match template::render(text, a.vars, spans) {
            Some(t) => Got::Known(t, span),
            None => Got::Unknown(span),
        }
    }

    /// A block scalar (`content: |`) rendered line by line, each line spanned
    /// where it is written (its indentation is not part of the value); `None`
    /// when a line is not found as written or a `{% %}` spans lines.
    fn block_lines(
        &self,
        text: &str,
        span: crate::source::Span,
        vars: &dyn super::jinja::Vars,
    ) -> Option<Text> {
        if text.contains("{%") || text.contains("{#") {
            return None;
        }
        let source = self.index.source(span.file)?;
        let region = source.text.get(span.range())?;
        let mut at = 0;
        let mut out = Text::default();
        for line in text.split_inclusive('\n') {
            let body = line.strip_suffix('\n').unwrap_or(line);
            if body.is_empty() {
                if line.ends_with('\n') {
                    out.push("\n", span, false);
                }
                continue;
            }
            let found = region.get(at..)?.find(body)? + at;
            let start = span.start as usize + found;
            let rendered = template::render(body, vars, Spans::InFileAt(span.file, start))?;
            crate::formats::written::append(&mut out, &rendered);
            at = found + body.len();
            if line.ends_with('\n') {
                let newline_here = region.get(at..).is_some_and(|r| r.starts_with('\n'));
                if newline_here {
                    out.push(
                        "\n",
                        crate::source::Span::new(
                            span.file,
                            start + body.len(),
                            start + body.len() + 1,
                        ),
                        true,
                    );
                } else {
                    out.push("\n", span, false);
                }
            }
        }
        Some(out)
    }

    fn file_task(&mut self, module: Module, action: &Action, scope: &Scope, ctx: &Ctx) {
        let mut a = Args::new(action, scope);
        let dest_keys: &[&str] = match module {
            Module::Template | Module::Copy => &["dest"],
            _ => &["path", "dest", "destfile", "name"],
        };
        let dest = match a.str(dest_keys) {
            Got::Known(d, _) => d,
            Got::Unknown(_) => {
                self.record(a, module);
                return;
            }
            Got::Absent => return,
        };
        let task = a.span();
        let absent = matches!(
            a.str(&["state"]).known().map(String::as_str),
            Some("absent")
        );
        let s = |a: &mut Args, keys: &[&str]| a.str(keys).known().cloned();
        let op = match module {
            Module::Template => match a.str(&["src"]) {
                Got::Known(src, src_span) => match self.find_src(&src, "templates", ctx) {
                    Some(path) => {
                        self.unknown_in_template(&path, &src, src_span, scope);
                        Op::Template {
                            src: path,
                            src_span,
                            scope: Box::new(scope.clone()),
                        }
                    }
                    None => Op::Unknown,
                },
                _ => Op::Unknown,
            },
            Module::Copy => {
                let remote = a
                    .bool(&["remote_src"], false)
                    .known()
                    .copied()
                    .unwrap_or(false);
                match self.text_arg(&mut a, &["content"]) {
                    Got::Known(t, _) => Op::Content(t),
                    Got::Unknown(_) => Op::Unknown,
                    Got::Absent => match a.str(&["src"]) {
                        Got::Known(src, src_span) if !remote => {
                            let found = self.find_src(&src, "files", ctx);
                            let dest_is_dir = dest.ends_with('/');
                            match found {
                                Some(path) => {
                                    if dest_is_dir {
                                        let name = path
                                            .file_name()
                                            .map(|n| n.to_string_lossy().into_owned())
                                            .unwrap_or_default();
                                        return self.ops.push(FileOp {
                                            dest: format!("{dest}{name}"),
                                            task,
                                            op: Op::Copy {
                                                src: path,
                                                src_span,
                                            },
                                            seq: self.seq,
                                        });
                                    }
                                    Op::Copy {
                                        src: path,
                                        src_span,
                                    }
                                }
                                None => Op::Unknown,
                            }
                        }
                        _ => Op::Unknown,
                    },
                }
            }
            Module::LineInFile => {
                let line = self.text_arg(&mut a, &["line", "value"]);
                let l = LineInFile {
                    regexp: s(&mut a, &["regexp", "regex"]),
                    search_string: s(&mut a, &["search_string"]),
                    line: line.known().cloned(),
                    absent,
                    insertafter: s(&mut a, &["insertafter"]),
                    insertbefore: s(&mut a, &["insertbefore"]),
                    backrefs: a
                        .bool(&["backrefs"], false)
                        .known()
                        .copied()
                        .unwrap_or(false),
                    firstmatch: a
                        .bool(&["firstmatch"], false)
                        .known()
                        .copied()
                        .unwrap_or(false),
                };
                if a.any_unknown() && matches!(line, Got::Known(..)) {
                    // The line is written; where it goes depends on a pattern not known.
                    Op::Unknown
                } else {
                    Op::LineInFile(l)
                }
            }
            Module::BlockInFile => {
                let block = self.text_arg(&mut a, &["block", "content"]);
                let b = BlockInFile {
                    block: block.known().cloned(),
                    marker: s(&mut a, &["marker"])
                        .unwrap_or_else(|| "# {mark} ANSIBLE MANAGED BLOCK".into()),
                    marker_begin: s(&mut a, &["marker_begin"]).unwrap_or_else(|| "BEGIN".into()),
                    marker_end: s(&mut a, &["marker_end"]).unwrap_or_else(|| "END".into()),
                    absent,
                    insertafter: s(&mut a, &["insertafter"]),
                    insertbefore: s(&mut a, &["insertbefore"]),
                };
                if a.any_unknown() {
                    Op::Unknown
                } else {
                    Op::BlockInFile(b)
                }
            }
            Module::IniFile => {
                let value = self.text_arg(&mut a, &["value"]);
                let i = IniFile {
                    section: s(&mut a, &["section"]),
                    option: s(&mut a, &["option", "key"]),
                    value: value.known().cloned(),
                    absent,
                    no_extra_spaces: a
                        .bool(&["no_extra_spaces"], false)
                        .known()
                        .copied()
                        .unwrap_or(false),
                    exclusive: a
                        .bool(&["exclusive"], true)
                        .known()
                        .copied()
                        .unwrap_or(true),
                };
                if a.any_unknown() {
                    Op::Unknown
                } else {
                    Op::IniFile(i)
                }
            }
            _ => return,
        };
        if matches!(op, Op::Unknown) {
            self.record(a, module);
        }
        let seq = self.seq;
        self.ops.push(FileOp {
            dest,
            task,
            op,
            seq,
        });
    }

    /// The settings of a template (its `{{ }}` outside any `{% %}` block, on
    /// lines that are not comments) whose value pasvlint cannot resolve.
    fn unknown_in_template(
        &mut self,
        path: &Path,
        src: &str,
        at: crate::source::Span,
        scope: &Scope,
    ) {
        let Ok(meta) = std::fs::metadata(path) else {
            return;
        };
        if meta.len() > 1 << 20 {
            return;
        }
        let Ok(bytes) = std::fs::read(path) else {
            return;
        };
        let text = crate::source::decode(bytes).0;
        let Ok(segs) = super::jinja::segments(&text) else {
            return;
        };
        let mut depth = 0usize;
        let mut unknown: Vec<String> = Vec::new();
        for seg in &segs {
            match seg {
                super::jinja::Segment::Stmt { inner, .. } => {
                    let word = text[inner.0..inner.1]
                        .split_whitespace()
                        .next()
                        .unwrap_or("");
                    if matches!(
                        word,
                        "if" | "for" | "macro" | "call" | "filter" | "raw" | "block"
                    ) {
                        depth += 1;
                    } else if word.starts_with("end") {
                        depth = depth.saturating_sub(1);
                    }
                }
                super::jinja::Segment::Expr { start, inner, .. } if depth == 0 => {
                    let line_start = text[..*start].rfind('\n').map_or(0, |i| i + 1);
                    if text[line_start..*start]
                        .trim_start()
                        .starts_with(['#', ';'])
                    {
                        continue;
                    }
                    if let Err(u) = super::jinja::eval(&text[inner.0..inner.1], scope, 0) {
                        let line = text[..*start].matches('\n').count() + 1;
                        let what = format!("`{}` (line {line})", text[inner.0..inner.1].trim());
                        if !unknown.contains(&what) {
                            unknown.push(what);
                        }
                        let _ = u;
                    }
                }
                _ => {}
            }
        }
        if unknown.is_empty() {
            return;
        }
        self.unresolved.push(Unresolved {
            span: at,
            what: format!(
                "the template {src} sets {} from what pasvlint cannot resolve; those settings of the rendered file are not known",
                unknown.join(", ")
            ),
        });
    }

    fn record(&mut self, a: Args, module: Module) {
        for u in a.unresolved {
            self.unresolved.push(Unresolved {
                span: u.span,
                what: format!(
                    "the {} task's {}, which pasvlint cannot resolve; what it writes is not known",
                    module.name(),
                    u.what
                ),
            });
        }
    }
}

/// A definition as text, to tell two definitions apart.
fn var_text(v: &Var) -> String {
    match v {
        Var::Node(n) => format!("{:?}", super::values::raw(n)),
        Var::Value(v) => format!("{v:?}"),
        Var::Unknown(w) => w.clone(),
    }
}

/// `with_items` flattens one level of nested lists.
fn flattened(items: Vec<Value>) -> Vec<Value> {
    let mut out = Vec::new();
    for i in items {
        match i {
            Value::List(inner) => out.extend(inner),
            other => out.push(other),
        }
    }
    out
}

/// The groups (or hosts) a `hosts:` pattern names: `all` first, then each
/// plain name (patterns with wildcards or exclusions name no group of their own).
fn host_patterns(hosts: &str) -> Vec<String> {
    let mut out = vec!["all".to_owned()];
    for p in hosts.split([':', ',']).map(str::trim) {
        let p = p.trim_start_matches(['&']);
        if p.is_empty() || p.starts_with('!') || p.contains(['*', '?', '[', '~', '{']) || p == "all"
        {
            continue;
        }
        out.push(p.to_owned());
    }
    out
}

/// What a bundle's firewall tasks leave: the firewall facts of its primary.
pub fn facts(project: &Project, primary: &SourceFile) -> FileFacts {
    let (host, host_v6) = host_firewall(project, primary);
    let cloud = |family| project.commands.groups.firewall(family, primary.id);
    let both = |a: Option<crate::facts::Firewall>, b: Option<crate::facts::Firewall>| {
        crate::facts::Firewall::combine(a.into_iter().chain(b).collect())
    };
    // A host filter of every family stands behind the IPv6 security group too.
    let host_for_v6 = host_v6.or_else(|| host.clone().filter(|f| f.family.is_none()));
    let v6_cloud = cloud(Family::V6);
    FileFacts {
        firewall: both(cloud(Family::V4), host),
        firewall_v6: if v6_cloud.is_some() || host_for_v6.is_some() {
            both(v6_cloud, host_for_v6)
        } else {
            None
        },
        ..FileFacts::default()
    }
}

/// The firewall the play's iptables, ufw and firewalld tasks build on the host.
fn host_firewall(
    project: &Project,
    primary: &SourceFile,
) -> (
    Option<crate::facts::Firewall>,
    Option<crate::facts::Firewall>,
) {
    if project.commands.commands.is_empty() {
        return (None, None);
    }
    let mut rs =
        crate::formats::iptables::replay_commands(primary, &project.commands.commands, true);
    for u in &project.commands.unresolved {
        rs.unknowns.push(crate::formats::iptables::Unknown {
            span: u.span,
            rule: u.span,
            what: u.what.clone(),
            ports: crate::portset::PortSet::empty(),
        });
    }
    crate::formats::iptables::facts(&rs, primary)
}

/// The files a bundle's tasks write, and the repository files they render or copy.
pub fn outcome(project: &Project, lookup: &files::Lookup) -> (Outcome, Vec<FileId>) {
    files::outcome(&project.ops, lookup)
}

mod values {
    pub use super::super::values::*;
    use crate::formats::yaml::Node;

    /// A node as the text its scalar holds (lists joined by commas).
    pub fn raw_text(node: &Node) -> String {
        match node {
            Node::Scalar { text, .. } => text.clone(),
            Node::Seq { items, .. } => items.iter().map(raw_text).collect::<Vec<_>>().join(","),
            Node::Map { .. } => String::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::{self, Format};

    fn parts(files: &[(&str, &str)]) -> Vec<ParsedFile> {
        files
            .iter()
            .enumerate()
            .filter_map(|(i, (path, text))| {
                let source = SourceFile::new(FileId(i as u32), *path, text.as_bytes());
                let format = formats::classify(Path::new(path), text)?;
                matches!(format, Format::Ansible | Format::AnsibleVars)
                    .then(|| formats::parse(source, format))
            })
            .collect()
    }

    fn run(files: &[(&str, &str)]) -> Vec<Bundle> {
        let bundles = assemble(parts(files));
        for b in &bundles {
            let _ = crate::formats::bundles::facts(b);
            let _ = crate::formats::bundles::outcome(b, &|_| None);
        }
        bundles
    }

    #[test]
    fn a_playbook_takes_its_roles_and_variables() {
        let bundles = run(&[
            ("p/site.yml", "- hosts: ftp\n  roles: [fw]\n"),
            ("p/group_vars/ftp.yml", "port: 2121\n"),
            (
                "p/roles/fw/tasks/main.yml",
                "- iptables:\n    chain: INPUT\n    protocol: tcp\n    destination_port: \"{{ port }}\"\n    jump: ACCEPT\n- iptables: chain=INPUT policy=DROP\n",
            ),
            (
                "p/roles/fw/handlers/main.yml",
                "- name: reload\n  ansible.builtin.service: name=x state=restarted\n",
            ),
            ("p/roles/lone/tasks/main.yml", "- ufw: state=enabled\n"),
            ("p/tasks/extra.yml", "- copy: content=x dest=/tmp/x\n"),
        ]);
        assert_eq!(bundles.len(), 3, "{bundles:#?}");
        let site = &bundles[0];
        assert_eq!(site.parts.len(), 4);
        let facts = crate::formats::bundles::facts(site);
        assert_eq!(facts.firewall.unwrap().open_to_all.to_string(), "2121");
    }

    #[test]
    fn includes_that_loop_and_huge_loops_end() {
        run(&[
            (
                "r/roles/a/tasks/main.yml",
                "- include_tasks: main.yml\n- include_role: name=a\n- iptables:\n    chain: INPUT\n    destination_port: \"{{ item }}\"\n    protocol: tcp\n    jump: ACCEPT\n  loop: \"{{ range(1, 60000) | list }}\"\n",
            ),
            (
                "r/x.yml",
                "- hosts: all\n  roles: [a, a, a]\n  tasks:\n    - import_tasks: x.yml\n",
            ),
        ]);
    }

    proptest::proptest! {
        #[test]
        fn any_ansible_text_runs_without_panic(text in "(- |  |    |hosts: |tasks:|roles:|\\n|iptables:|ufw:|template:|lineinfile:|copy:|chain: INPUT|port: |\"|'|\\{\\{ |\\}\\}|item|loop:|when: |block:|include_tasks: |x.yml|a=b |é|:|\\[|\\]|20:21|policy: DROP|state: enabled)*") {
            run(&[
                ("q/site.yml", &format!("- hosts: all\n  tasks:\n{text}")),
                ("q/roles/r/tasks/main.yml", &text),
                ("q/x.yml", &text),
                ("q/group_vars/all.yml", &text),
            ]);
        }
    }
}
