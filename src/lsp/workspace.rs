//! Workspace roots, their `pasvlint.toml`, and how much to re-lint after an edit.
//!
//! A full lint of a root records which files form which host and what role
//! each file plays (FTP server, firewall, format). Pairing depends only on
//! those roles and the config, so after an edit that leaves them unchanged,
//! linting the directory subtree of the edited file's host gives exactly the
//! findings a full lint would give for that host. [`Root::conclude`] checks
//! that on every run and declines when it does not hold.
//!
//! A run is planned here ([`Root::host_run`], [`Root::full_run`]), executed on
//! the lint worker ([`Run::execute`], see `worker.rs`) and concluded here
//! ([`Root::conclude`]), so the server's message loop never waits for a lint.

use crate::formats::Format;
use crate::policy::{CONFIG_FILE, Config};
use crate::{Overlay, Report, lint_with};
use std::collections::HashMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

pub struct Root {
    pub dir: PathBuf,
    pub config: Arc<Config>,
    /// The `pasvlint.toml` in force (nearest from `dir` upward), if any.
    pub config_path: Option<PathBuf>,
    pub config_error: Option<ConfigError>,
    snapshot: Snapshot,
}

/// A `pasvlint.toml` that could not be used; the defaults apply meanwhile.
#[derive(Clone, Debug)]
pub struct ConfigError {
    pub message: String,
    pub text: String,
    pub span: Option<Range<usize>>,
}

/// One host's files, as a lint grouped them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostFiles {
    pub name: String,
    pub files: Vec<PathBuf>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Role {
    format: Format,
    ftp: bool,
    firewall: bool,
}

#[derive(Default)]
struct Snapshot {
    hosts: Vec<HostFiles>,
    host_of: HashMap<PathBuf, usize>,
    roles: HashMap<PathBuf, Role>,
}

impl Snapshot {
    fn of(report: &Report) -> Snapshot {
        // Files a script writes have no buffer of their own: their findings are the script's.
        let path = |id| {
            report
                .sources
                .get(id)
                .filter(|f| !f.is_virtual())
                .map(|f| f.path.clone())
        };
        let mut roles: HashMap<PathBuf, Role> = report
            .files
            .iter()
            .filter_map(|&(id, format)| {
                let role = Role {
                    format,
                    ftp: false,
                    firewall: false,
                };
                Some((path(id)?, role))
            })
            .collect();
        let mut hosts = Vec::new();
        let mut host_of = HashMap::new();
        for host in &report.hosts {
            for server in &host.servers {
                if let Some(role) = path(server.file).and_then(|p| roles.get_mut(&p)) {
                    role.ftp = true;
                }
            }
            for &id in host.firewall.iter().flat_map(|f| &f.files) {
                if let Some(role) = path(id).and_then(|p| roles.get_mut(&p)) {
                    role.firewall = true;
                }
            }
            let files: Vec<PathBuf> = host.files.iter().filter_map(|&id| path(id)).collect();
            for f in &files {
                host_of.insert(f.clone(), hosts.len());
            }
            hosts.push(HostFiles {
                name: host.name.clone(),
                files,
            });
        }
        Snapshot {
            hosts,
            host_of,
            roles,
        }
    }

    fn host_of(&self, path: &Path) -> Option<&HostFiles> {
        self.host_of.get(path).and_then(|&i| self.hosts.get(i))
    }
}

/// A lint run and the hosts whose findings it decides.
pub struct Linted {
    pub report: Report,
    pub hosts: Vec<HostFiles>,
    /// The whole root was linted: files not in `hosts` have no findings.
    pub full: bool,
}

impl Root {
    pub fn new(dir: PathBuf) -> Root {
        let mut root = Root {
            dir,
            config: Arc::default(),
            config_path: None,
            config_error: None,
            snapshot: Snapshot::default(),
        };
        root.reload_config();
        root
    }

    pub fn reload_config(&mut self) {
        self.config_path = Config::find(&self.dir);
        let loaded = self.config_path.as_deref().map(load_config);
        let (config, error) = match loaded {
            None => (Config::default(), None),
            Some(Ok(config)) => (config, None),
            Some(Err(e)) => (Config::default(), Some(e)),
        };
        (self.config, self.config_error) = (Arc::new(config), error);
    }

    pub fn contains(&self, path: &Path) -> bool {
        path.starts_with(&self.dir)
    }

    /// Whether a lint can say anything new about `path`: it was recognised
    /// in the last full lint, or is recognisable now (a new host file).
    /// Editing a README open beside the configs then costs nothing.
    pub fn may_matter(&self, path: &Path, overlay: &Overlay) -> bool {
        if self.snapshot.roles.contains_key(path) {
            return true;
        }
        let text = match overlay.get(path) {
            Some(text) => text.strip_prefix('\u{feff}').unwrap_or(text).to_owned(),
            None => match std::fs::read(path) {
                Ok(bytes) => crate::source::decode(bytes).0,
                Err(_) => return false,
            },
        };
        crate::formats::classify(path, &text).is_some()
    }

    /// A lint of the whole root.
    pub fn full_run(&self) -> Run {
        Run {
            root: self.dir.clone(),
            dir: self.dir.clone(),
            config: Arc::clone(&self.config),
            host: None,
        }
    }

    /// A lint of only the subtree of `path`'s host; `None` when the last full
    /// lint did not place `path` in a host.
    pub fn host_run(&self, path: &Path) -> Option<Run> {
        let host = self.snapshot.host_of(path)?;
        Some(Run {
            root: self.dir.clone(),
            dir: self.scope_of(host),
            config: Arc::clone(&self.config),
            host: Some((path.to_path_buf(), host.clone())),
        })
    }

    /// What a finished run decides; `None` when a host run finds the edit may
    /// have changed how files pair into hosts (the whole root must be linted).
    pub fn conclude(&mut self, run: &Run, report: Report) -> Option<Linted> {
        let now = Snapshot::of(&report);
        let Some((path, host)) = &run.host else {
            self.snapshot = now;
            return Some(Linted {
                hosts: self.snapshot.hosts.clone(),
                report,
                full: true,
            });
        };
        let same_host = now.host_of(path) == Some(host);
        let same_roles = host
            .files
            .iter()
            .all(|f| now.roles.get(f) == self.snapshot.roles.get(f));
        (same_host && same_roles).then(|| Linted {
            report,
            hosts: vec![host.clone()],
            full: false,
        })
    }

    /// The smallest directory a host's files can be re-linted from: the
    /// pairing directory its name records, else the files' common ancestor.
    fn scope_of(&self, host: &HostFiles) -> PathBuf {
        let named = PathBuf::from(&host.name);
        if named.is_absolute() && host.files.iter().all(|f| f.starts_with(&named)) {
            return named;
        }
        let mut common = host.files.first().cloned().unwrap_or_default();
        for f in &host.files {
            while !f.starts_with(&common) {
                if !common.pop() {
                    break;
                }
            }
        }
        if common.starts_with(&self.dir) {
            common
        } else {
            self.dir.clone()
        }
    }
}

/// One lint run: what it covers and with which config.
pub struct Run {
    /// The workspace root it belongs to.
    pub root: PathBuf,
    /// The directory linted.
    pub dir: PathBuf,
    pub config: Arc<Config>,
    /// For a host run: the edited file and its host as the last full lint saw it.
    pub host: Option<(PathBuf, HostFiles)>,
}

impl Run {
    /// The lint itself; a panic in a parser or rule cannot take the server down.
    pub fn execute(&self, overlay: &Overlay) -> Option<Report> {
        let started = Instant::now();
        let run = || lint_with(std::slice::from_ref(&self.dir), &self.config, overlay);
        let report = std::panic::catch_unwind(std::panic::AssertUnwindSafe(run));
        match report {
            Ok(report) => {
                eprintln!(
                    "pasvlint lsp: linted {} ({} files) in {} ms",
                    self.dir.display(),
                    report.files.len(),
                    started.elapsed().as_millis()
                );
                Some(report)
            }
            Err(_) => {
                eprintln!("pasvlint lsp: lint of {} failed", self.dir.display());
                None
            }
        }
    }
}

fn load_config(path: &Path) -> Result<Config, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
        message: format!("cannot read {}: {e}", path.display()),
        text: String::new(),
        span: None,
    })?;
    match toml::from_str::<Config>(&text) {
        Ok(mut config) => {
            config.root = path.parent().map(Path::to_path_buf);
            Ok(config)
        }
        Err(e) => Err(ConfigError {
            message: format!("{CONFIG_FILE} not used: {}", e.message().trim_end()),
            span: e.span(),
            text,
        }),
    }
}

/// Where to lint from when a file lies in no workspace folder: the nearest
/// directory up from it with a `pasvlint.toml` or a `.git`, else its own.
pub fn guess_root(file: &Path) -> PathBuf {
    let parent = file.parent().unwrap_or(Path::new("/"));
    parent
        .ancestors()
        .find(|d| d.join(CONFIG_FILE).is_file() || d.join(".git").exists())
        .unwrap_or(parent)
        .to_path_buf()
}
