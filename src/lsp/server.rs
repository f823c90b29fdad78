//! The server's state and its handlers: open buffers, lint runs, publishing.

use super::actions;
use super::convert::{Converter, Finding};
use super::text::{LineIndex, PositionEncoding, apply_change};
use super::uri;
use super::worker::{Done, Job};
use super::workspace::{ConfigError, Linted, Root, Run, guess_root};
use crate::Overlay;
use crate::policy::CONFIG_FILE;
use crossbeam_channel::Sender;
use lsp_server::{ErrorCode, Message, Notification, Request, RequestId, Response};
use lsp_types as lsp;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::path::{Path, PathBuf};

pub enum Flow {
    Continue,
    Exit(u8),
}

/// What is waiting to be linted.
#[derive(PartialEq, Eq)]
enum Work {
    /// What an edit of this file can change (its host, else its root).
    File(PathBuf),
    /// A whole workspace root.
    Root(PathBuf),
}

pub struct Server {
    out: Sender<Message>,
    encoding: PositionEncoding,
    watch_by_registration: bool,
    roots: Vec<Root>,
    /// Text of every open buffer, which lint runs read instead of the disk.
    overlay: Overlay,
    open_uris: HashMap<PathBuf, lsp::Uri>,
    versions: HashMap<PathBuf, i32>,
    /// Files whose last published diagnostics were not empty, with the URI
    /// and document version they were published for.
    published: HashMap<PathBuf, (lsp::Uri, Option<i32>)>,
    findings: HashMap<PathBuf, Vec<Finding>>,
    jobs: Sender<Job>,
    queue: VecDeque<Work>,
    /// A lint is running on the worker.
    busy: bool,
    /// Bumped on every change of a file's buffer or disk contents, so a run
    /// that finishes knows which files were edited while it ran.
    generations: HashMap<PathBuf, u64>,
    next_generation: u64,
    /// Requests that read findings, answered once the lints before them are done.
    deferred: Vec<Request>,
    shutdown: bool,
    next_request: i32,
}

impl Server {
    pub fn new(
        out: Sender<Message>,
        jobs: Sender<Job>,
        encoding: PositionEncoding,
        params: &lsp::InitializeParams,
    ) -> Server {
        let watch_by_registration = params
            .capabilities
            .workspace
            .as_ref()
            .and_then(|w| w.did_change_watched_files.as_ref())
            .and_then(|w| w.dynamic_registration)
            .unwrap_or(false);
        Server {
            out,
            encoding,
            watch_by_registration,
            roots: workspace_dirs(params).into_iter().map(Root::new).collect(),
            overlay: Overlay::new(),
            open_uris: HashMap::new(),
            versions: HashMap::new(),
            published: HashMap::new(),
            findings: HashMap::new(),
            jobs,
            queue: VecDeque::new(),
            busy: false,
            generations: HashMap::new(),
            next_generation: 0,
            deferred: Vec::new(),
            shutdown: false,
            next_request: 0,
        }
    }

    pub fn exit_code(&self) -> u8 {
        if self.shutdown { 0 } else { 1 }
    }

    pub fn handle(&mut self, msg: Message) -> Flow {
        match msg {
            Message::Request(req) => self.on_request(req),
            Message::Notification(n) if n.method == "exit" => return Flow::Exit(self.exit_code()),
            Message::Notification(n) => self.on_notification(n),
            Message::Response(_) => {}
        }
        Flow::Continue
    }

    fn on_request(&mut self, req: Request) {
        if self.shutdown {
            let message = "the server is shutting down".to_owned();
            self.send(Response::new_err(
                req.id,
                ErrorCode::InvalidRequest as i32,
                message,
            ));
            return;
        }
        if reads_findings(&req.method) && !self.idle() {
            self.deferred.push(req);
            return;
        }
        self.answer(req);
    }

    /// Answer a request accepted before any `shutdown`.
    fn answer(&mut self, req: Request) {
        let Request { id, method, params } = req;
        let result = match method.as_str() {
            "shutdown" => {
                self.shutdown = true;
                Ok(Value::Null)
            }
            "textDocument/hover" => parse(params).map(|p| json(&self.hover(p))),
            "textDocument/codeAction" => parse(params).map(|p| json(&self.code_actions(p))),
            _ => Err((
                ErrorCode::MethodNotFound,
                format!("unknown method {method}"),
            )),
        };
        let response = match result {
            Ok(value) => Response::new_ok(id, value),
            Err((code, message)) => Response::new_err(id, code as i32, message),
        };
        self.send(response);
    }

    fn on_notification(&mut self, n: Notification) {
        let Notification { method, params } = n;
        let outcome = match method.as_str() {
            "initialized" => {
                self.register_watchers();
                self.lint_all();
                Ok(())
            }
            "$/cancelRequest" => parse(params).map(|p| self.cancel(p)),
            "textDocument/didOpen" => parse(params).map(|p| self.did_open(p)),
            "textDocument/didChange" => parse(params).map(|p| self.did_change(p)),
            "textDocument/didSave" => parse(params).map(|p| self.did_save(p)),
            "textDocument/didClose" => parse(params).map(|p| self.did_close(p)),
            "workspace/didChangeWatchedFiles" => parse(params).map(|p| self.watched_changed(p)),
            "workspace/didChangeWorkspaceFolders" => parse(params).map(|p| self.folders_changed(p)),
            _ => Ok(()),
        };
        if let Err((_, message)) = outcome {
            eprintln!("pasvlint lsp: ignored {method}: {message}");
        }
    }

    fn did_open(&mut self, p: lsp::DidOpenTextDocumentParams) {
        let doc = p.text_document;
        let Some(path) = uri::to_path(&doc.uri) else {
            return;
        };
        self.overlay.insert(path.clone(), doc.text);
        self.open_uris.insert(path.clone(), doc.uri);
        self.versions.insert(path.clone(), doc.version);
        self.touch(&path);
        self.lint_file(path);
    }

    fn did_change(&mut self, p: lsp::DidChangeTextDocumentParams) {
        let Some(path) = uri::to_path(&p.text_document.uri) else {
            return;
        };
        let Some(text) = self.overlay.get_mut(&path) else {
            return;
        };
        for change in p.content_changes {
            apply_change(text, change.range, &change.text, self.encoding);
        }
        self.versions.insert(path.clone(), p.text_document.version);
        // No debounce: edits made while a lint runs share the next run.
        self.touch(&path);
        self.lint_file(path);
    }

    fn did_save(&mut self, p: lsp::DidSaveTextDocumentParams) {
        let Some(path) = uri::to_path(&p.text_document.uri) else {
            return;
        };
        if is_config(&path) {
            self.reload_configs();
            return;
        }
        self.lint_file(path);
    }

    fn did_close(&mut self, p: lsp::DidCloseTextDocumentParams) {
        let Some(path) = uri::to_path(&p.text_document.uri) else {
            return;
        };
        self.overlay.remove(&path);
        self.open_uris.remove(&path);
        self.versions.remove(&path);
        self.touch(&path);
        self.lint_file(path);
    }

    fn watched_changed(&mut self, p: lsp::DidChangeWatchedFilesParams) {
        let paths: Vec<PathBuf> = p
            .changes
            .iter()
            .filter_map(|c| uri::to_path(&c.uri))
            .collect();
        if paths.iter().any(|p| is_config(p)) {
            return self.reload_configs();
        }
        // A file created or deleted changes the hosts: its run falls back
        // to the whole root then.
        for path in paths {
            self.touch(&path);
            self.enqueue(Work::File(path));
        }
        self.pump();
    }

    fn folders_changed(&mut self, p: lsp::DidChangeWorkspaceFoldersParams) {
        for folder in p.event.removed {
            let Some(dir) = uri::to_path(&folder.uri) else {
                continue;
            };
            self.roots.retain(|r| r.dir != dir);
            let stale: Vec<PathBuf> = self
                .published
                .keys()
                .filter(|p| p.starts_with(&dir) && self.root_index(p).is_none())
                .cloned()
                .collect();
            for path in stale {
                self.publish(&path, Vec::new());
            }
        }
        for folder in p.event.added {
            if let Some(dir) = uri::to_path(&folder.uri) {
                self.roots.push(Root::new(dir.clone()));
                self.enqueue(Work::Root(dir));
            }
        }
        self.pump();
    }

    fn reload_configs(&mut self) {
        for root in &mut self.roots {
            root.reload_config();
        }
        self.lint_all();
    }

    fn lint_all(&mut self) {
        let dirs: Vec<PathBuf> = self.roots.iter().map(|r| r.dir.clone()).collect();
        for dir in dirs {
            self.enqueue(Work::Root(dir));
        }
        self.pump();
    }

    fn lint_file(&mut self, path: PathBuf) {
        self.enqueue(Work::File(path));
        self.pump();
    }

    fn touch(&mut self, path: &Path) {
        self.next_generation += 1;
        self.generations
            .insert(path.to_path_buf(), self.next_generation);
    }

    /// Queue `work` unless queued work already covers it.
    fn enqueue(&mut self, work: Work) {
        let covers = |queued: &Work| match (queued, &work) {
            (Work::Root(dir), Work::File(path)) => path.starts_with(dir),
            (queued, work) => queued == work,
        };
        if self.queue.iter().any(covers) {
            return;
        }
        if let Work::Root(dir) = &work {
            self.queue
                .retain(|w| !matches!(w, Work::File(p) if p.starts_with(dir)));
        }
        self.queue.push_back(work);
    }

    fn idle(&self) -> bool {
        !self.busy && self.queue.is_empty()
    }

    /// Start the next queued run when the worker is free; answer the waiting
    /// requests once nothing is left.
    fn pump(&mut self) {
        while !self.busy {
            let Some(work) = self.queue.pop_front() else {
                for req in std::mem::take(&mut self.deferred) {
                    self.answer(req);
                }
                return;
            };
            let run = match work {
                Work::Root(dir) => self.roots.iter().find(|r| r.dir == dir).map(Root::full_run),
                Work::File(path) => self.plan_file(&path),
            };
            if let Some(run) = run {
                self.start(run);
            }
        }
    }

    /// The run an edit of `path` needs: its host's, else its root's; `None`
    /// (and its findings cleared) for a file no lint can say anything about.
    fn plan_file(&mut self, path: &Path) -> Option<Run> {
        let (i, created) = self.root_for(path);
        let root = &self.roots[i];
        if created {
            return Some(root.full_run());
        }
        if !root.may_matter(path, &self.overlay) {
            self.publish(path, Vec::new());
            return None;
        }
        Some(root.host_run(path).unwrap_or_else(|| root.full_run()))
    }

    fn start(&mut self, run: Run) {
        let job = Job {
            run,
            overlay: self.lint_overlay(),
            generations: self.generations.clone(),
        };
        self.busy = self.jobs.send(job).is_ok();
    }

    /// A run finished on the worker: publish what it decides, then go on.
    pub fn finished(&mut self, done: Done) {
        self.busy = false;
        if let Some(report) = done.report {
            self.conclude(done.job, report);
        }
        self.pump();
    }

    fn conclude(&mut self, job: Job, report: crate::Report) {
        let Some(i) = self.roots.iter().position(|r| r.dir == job.run.root) else {
            return;
        };
        let Some(linted) = self.roots[i].conclude(&job.run, report) else {
            self.queue
                .retain(|w| *w != Work::Root(job.run.root.clone()));
            self.queue.push_front(Work::Root(job.run.root.clone()));
            return;
        };
        // Queued edits this run saw (files unchanged since it started) are done.
        let decided: BTreeSet<&PathBuf> = linted.hosts.iter().flat_map(|h| &h.files).collect();
        let unchanged = |p: &Path| self.generations.get(p) == job.generations.get(p);
        let root = &self.roots[i];
        self.queue.retain(|w| match w {
            Work::File(p) => {
                let seen = if linted.full {
                    root.contains(p)
                } else {
                    decided.contains(p)
                };
                !(seen && unchanged(p))
            }
            Work::Root(_) => true,
        });
        self.publish_run(i, linted, &job.generations);
    }

    /// The open buffers as lint runs must read them. Editors drop a UTF-8
    /// byte-order mark from the buffer and write it back on save; vsftpd
    /// reads it as part of the first name, so the lint must still see it.
    fn lint_overlay(&self) -> Overlay {
        self.overlay
            .iter()
            .map(|(path, text)| {
                let text = if !text.starts_with('\u{feff}') && starts_with_bom(path) {
                    format!("\u{feff}{text}")
                } else {
                    text.clone()
                };
                (path.clone(), text)
            })
            .collect()
    }

    /// Publish the files of hosts that hold an open buffer; clear everything
    /// else the run decides that was published before.
    fn publish_run(&mut self, root: usize, linted: Linted, generations: &HashMap<PathBuf, u64>) {
        let mut findings = Converter::new(
            &linted.report,
            self.encoding,
            &self.overlay,
            &self.open_uris,
        )
        .findings();
        let mut decided: BTreeMap<PathBuf, bool> = BTreeMap::new();
        for host in &linted.hosts {
            let shown = host.files.iter().any(|f| self.overlay.contains_key(f));
            for f in &host.files {
                decided.insert(f.clone(), shown);
            }
        }
        let Some(root) = self.roots.get(root) else {
            return;
        };
        if linted.full {
            for path in self.published.keys().filter(|p| root.contains(p)) {
                decided.entry(path.clone()).or_insert(false);
            }
            if let Some(path) = &root.config_path {
                let error = root.config_error.as_ref();
                let list: Vec<Finding> =
                    error.map(|e| self.config_finding(e)).into_iter().collect();
                findings.insert(path.clone(), list);
                decided.insert(path.clone(), true);
            }
        }
        for (path, shown) in decided {
            // Edited while the run went on: a newer run is queued for it.
            if self.generations.get(&path) != generations.get(&path) {
                continue;
            }
            let list = match shown {
                true => findings.remove(&path).unwrap_or_default(),
                false => Vec::new(),
            };
            self.publish(&path, list);
        }
    }

    fn config_finding(&self, e: &ConfigError) -> Finding {
        let index = LineIndex::new(&e.text, self.encoding);
        let span = e.span.clone().unwrap_or(0..0);
        let diagnostic = lsp::Diagnostic {
            range: index.range(span.start, span.end),
            severity: Some(lsp::DiagnosticSeverity::ERROR),
            source: Some("pasvlint".to_owned()),
            message: e.message.clone(),
            ..Default::default()
        };
        Finding {
            rule: "",
            diagnostic,
            fixes: Vec::new(),
            ignore: None,
        }
    }

    fn publish(&mut self, path: &Path, findings: Vec<Finding>) {
        if findings.is_empty() && !self.published.contains_key(path) {
            self.findings.remove(path);
            return;
        }
        let version = self.versions.get(path).copied();
        let unchanged = self.published.get(path).is_some_and(|(_, v)| *v == version)
            && self.findings.get(path).is_some_and(|old| {
                old.len() == findings.len()
                    && old
                        .iter()
                        .zip(&findings)
                        .all(|(a, b)| a.diagnostic == b.diagnostic)
            });
        if unchanged {
            return;
        }
        let uri = self
            .open_uris
            .get(path)
            .cloned()
            .or_else(|| uri::from_path(path));
        let Some(uri) = uri else {
            return;
        };
        let params = lsp::PublishDiagnosticsParams {
            uri: uri.clone(),
            diagnostics: findings.iter().map(|f| f.diagnostic.clone()).collect(),
            version,
        };
        self.send(Notification::new(
            "textDocument/publishDiagnostics".into(),
            params,
        ));
        if findings.is_empty() {
            self.published.remove(path);
            self.findings.remove(path);
        } else {
            self.published.insert(path.to_path_buf(), (uri, version));
            self.findings.insert(path.to_path_buf(), findings);
        }
    }

    fn hover(&mut self, p: lsp::HoverParams) -> Option<lsp::Hover> {
        let at = p.text_document_position_params;
        let path = uri::to_path(&at.text_document.uri)?;
        let text = self.overlay.get(&path)?;
        let index = LineIndex::new(text, self.encoding);
        let offset = index.offset(at.position);
        let (rule, range) = match rule_name_at(text, offset) {
            Some((start, end, meta)) => (meta, index.range(start, end)),
            None => {
                let f = self.findings.get(&path)?.iter().find(|f| {
                    let r = f.diagnostic.range;
                    r.start <= at.position && at.position <= r.end
                })?;
                (crate::rules::meta(f.rule)?, f.diagnostic.range)
            }
        };
        Some(lsp::Hover {
            contents: lsp::HoverContents::Markup(lsp::MarkupContent {
                kind: lsp::MarkupKind::Markdown,
                value: crate::rules::explain(rule),
            }),
            range: Some(range),
        })
    }

    fn code_actions(&mut self, p: lsp::CodeActionParams) -> Vec<lsp::CodeActionOrCommand> {
        let Some(path) = uri::to_path(&p.text_document.uri) else {
            return Vec::new();
        };
        let findings = self.findings.get(&path).map_or(&[][..], Vec::as_slice);
        let only = p.context.only.as_deref();
        actions::code_actions(findings, &p.text_document.uri, p.range, only)
    }

    fn register_watchers(&mut self) {
        if !self.watch_by_registration {
            return;
        }
        let options = lsp::DidChangeWatchedFilesRegistrationOptions {
            watchers: vec![lsp::FileSystemWatcher {
                glob_pattern: lsp::GlobPattern::String(format!("**/{CONFIG_FILE}")),
                kind: None,
            }],
        };
        let params = lsp::RegistrationParams {
            registrations: vec![lsp::Registration {
                id: "pasvlint-config".into(),
                method: "workspace/didChangeWatchedFiles".into(),
                register_options: Some(json(&options)),
            }],
        };
        self.next_request += 1;
        let id = RequestId::from(format!("pasvlint-{}", self.next_request));
        let request = Request::new(id, "client/registerCapability".into(), params);
        self.send(request);
    }

    /// The root that holds `path`, made on the spot when none does (`true`:
    /// it must be linted whole).
    fn root_for(&mut self, path: &Path) -> (usize, bool) {
        if let Some(i) = self.root_index(path) {
            return (i, false);
        }
        self.roots.push(Root::new(guess_root(path)));
        (self.roots.len() - 1, true)
    }

    /// A waiting request the client gave up on gets the error the protocol names.
    fn cancel(&mut self, p: lsp::CancelParams) {
        let id = match p.id {
            lsp::NumberOrString::Number(n) => RequestId::from(n),
            lsp::NumberOrString::String(s) => RequestId::from(s),
        };
        if let Some(at) = self.deferred.iter().position(|r| r.id == id) {
            let req = self.deferred.remove(at);
            self.send(Response::new_err(
                req.id,
                ErrorCode::RequestCanceled as i32,
                "canceled".to_owned(),
            ));
        }
    }

    /// The deepest root holding `path`.
    fn root_index(&self, path: &Path) -> Option<usize> {
        self.roots
            .iter()
            .enumerate()
            .filter(|(_, r)| r.contains(path))
            .max_by_key(|(_, r)| r.dir.components().count())
            .map(|(i, _)| i)
    }

    fn send(&self, msg: impl Into<Message>) {
        // A client gone away shows up as a closed input; nothing to do here.
        let _ = self.out.send(msg.into());
    }
}

type Failure = (ErrorCode, String);

fn parse<P: DeserializeOwned>(params: Value) -> Result<P, Failure> {
    serde_json::from_value(params).map_err(|e| (ErrorCode::InvalidParams, e.to_string()))
}

fn json(value: &impl serde::Serialize) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

fn starts_with_bom(path: &Path) -> bool {
    use std::io::Read;
    let mut head = [0u8; 3];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .is_ok_and(|_| head == [0xEF, 0xBB, 0xBF])
}

/// Requests whose answer depends on the findings of the lints before them.
fn reads_findings(method: &str) -> bool {
    matches!(method, "textDocument/hover" | "textDocument/codeAction")
}

fn is_config(path: &Path) -> bool {
    path.file_name().is_some_and(|n| n == CONFIG_FILE)
}

/// Workspace folders, else the deprecated root URI and root path.
#[allow(deprecated)]
fn workspace_dirs(params: &lsp::InitializeParams) -> Vec<PathBuf> {
    let folders: Vec<PathBuf> = params
        .workspace_folders
        .iter()
        .flatten()
        .filter_map(|f| uri::to_path(&f.uri))
        .collect();
    if !folders.is_empty() {
        return folders;
    }
    let root_uri = params.root_uri.as_ref().and_then(uri::to_path);
    let root_path = params.root_path.as_ref().map(PathBuf::from);
    root_uri
        .or(root_path.filter(|p| p.is_absolute()))
        .into_iter()
        .collect()
}

/// The rule named by the word at `offset` (rule names are kebab-case ASCII).
fn rule_name_at(
    text: &str,
    offset: usize,
) -> Option<(usize, usize, &'static crate::rules::RuleMeta)> {
    let bytes = text.as_bytes();
    let is_name = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-';
    let mut start = offset.min(bytes.len());
    while start > 0 && is_name(bytes[start - 1]) {
        start -= 1;
    }
    let mut end = offset.min(bytes.len());
    while end < bytes.len() && is_name(bytes[end]) {
        end += 1;
    }
    let word = text.get(start..end)?;
    crate::rules::meta(word).map(|m| (start, end, m))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_rule_names_inside_comments_and_strings() {
        let text = "# pasvlint: ignore passive-ports-blocked -- reason\n";
        let (start, end, meta) = rule_name_at(text, 25).unwrap();
        assert_eq!(&text[start..end], "passive-ports-blocked");
        assert_eq!(meta.name, "passive-ports-blocked");
        let toml = "ignore = [\"passive-range-too-small\"]";
        assert_eq!(
            rule_name_at(toml, 12).unwrap().2.name,
            "passive-range-too-small"
        );
        assert!(rule_name_at(text, 3).is_none());
        assert!(rule_name_at(text, 9999).is_none());
    }
}
