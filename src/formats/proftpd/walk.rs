//! The daemon's pass over its configuration: from the main file through each
//! `Include` in place, with the modules loaded so far deciding which directives
//! exist and which `<IfModule>` blocks are read, and the open blocks deciding
//! the context. Measured with Debian's 1.3.8 (`proftpd -t -c FILE`):
//! - an error in the main file stops the daemon;
//! - the first error inside an included file does not: the daemon logs it,
//!   warns "unable to include '…'", and reads the rest of that file as if it
//!   stood in the includer, where a further error is fatal;
//! - an `Include` that names no file only warns; a relative path is fatal;
//! - a block still open at the end is fatal ("unclosed configuration section").

use super::directives::{self, Context};
use super::lexer::{Line, Word};
use super::{Config, Finding, FindingKind, values};
use crate::source::{SourceFile, Span};
use std::path::{Path, PathBuf};

/// What the walk needs from the files of a host.
pub trait Files {
    fn get(&self, path: &Path) -> Option<(&SourceFile, &Config)>;
    /// The files an `Include` of `target` in `includer` names, in path order.
    fn resolve(&self, includer: &Path, target: &str) -> Vec<PathBuf>;
}

/// A directive that counts for a server, and the line it came from.
#[derive(Clone, Debug)]
pub struct Setting {
    /// Lower case.
    pub name: String,
    pub line: Line,
}

impl Setting {
    pub fn arg(&self, i: usize) -> Option<&str> {
        self.line.args().get(i).map(|w| w.text.as_str())
    }
}

/// The main server or one `<VirtualHost>`.
#[derive(Clone, Debug, Default)]
pub struct Scope {
    /// `None` for the main server; the address words and the opening line of a vhost.
    pub vhost: Option<(Vec<String>, Span)>,
    pub settings: Vec<Setting>,
    /// `<Anonymous>` blocks that name a `User` (one without matches no login).
    pub anonymous: Vec<Span>,
}

impl Scope {
    /// The first setting called `name` (the daemon's `find_config` keeps the first).
    pub fn first(&self, name: &str) -> Option<&Setting> {
        self.settings.iter().find(|s| s.name == name)
    }
}

#[derive(Debug, Default)]
pub struct Model {
    pub main: Scope,
    pub global: Scope,
    pub vhosts: Vec<Scope>,
    pub findings: Vec<Finding>,
    /// Every file read, the main one first.
    pub read: Vec<PathBuf>,
    pub loaded: Vec<String>,
}

impl Model {
    /// The first finding that keeps the daemon from starting.
    pub fn refusal(&self) -> Option<&Finding> {
        self.findings
            .iter()
            .find(|f| f.kind == FindingKind::Invalid)
    }
}

struct Frame {
    /// Lower-case block name (`virtualhost`, `ifmodule`).
    name: String,
    context: Option<Context>,
    span: Span,
    scope: Which,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Which {
    Main,
    Global,
    Vhost(usize),
}

struct Walker<'a> {
    files: &'a dyn Files,
    model: Model,
    stack: Vec<Frame>,
    /// Files being read (to stop include loops), with whether each has had its error.
    reading: Vec<(PathBuf, bool)>,
    /// A module was loaded whose directives were not measured (an add-on
    /// package's whose libraries the measurement lacked): a name no measured
    /// module owns may be one of its directives.
    uncertain: bool,
    defines: Vec<String>,
}

const MAX_DEPTH: usize = 16;

pub fn walk(files: &dyn Files, main: &Path) -> Model {
    let mut w = Walker {
        files,
        model: Model::default(),
        stack: Vec::new(),
        reading: Vec::new(),
        uncertain: false,
        defines: Vec::new(),
    };
    w.model.loaded = directives::COMPILED_IN
        .iter()
        .map(|m| (*m).to_owned())
        .collect();
    w.file(main);
    if let Some(open) = w.stack.last() {
        let path = files
            .get(main)
            .map(|(s, _)| s.display_path())
            .unwrap_or_default();
        let span = open.span;
        w.fatal(
            span,
            "unclosed",
            format!("error processing configuration file '{path}': unclosed configuration section"),
            "close the block with its `</…>` line".to_owned(),
        );
    }
    w.model
}

impl Walker<'_> {
    fn file(&mut self, path: &Path) {
        let Some((source, config)) = self.files.get(path) else {
            return;
        };
        if self.reading.len() >= MAX_DEPTH || self.reading.iter().any(|(p, _)| p == path) {
            return;
        }
        if !self.model.read.iter().any(|p| p == path) {
            self.model.read.push(path.to_path_buf());
        }
        self.reading.push((path.to_path_buf(), false));
        let mut skip: Option<(String, usize)> = None;
        for line in &config.lines {
            if let Some((name, depth)) = &mut skip {
                let word = line.name().to_ascii_lowercase();
                if block_name(&word).as_deref() == Some(name.as_str()) {
                    *depth += 1;
                } else if close_name(&word).as_deref() == Some(name.as_str()) {
                    *depth -= 1;
                    if *depth == 0 {
                        skip = None;
                    }
                }
                continue;
            }
            skip = self.line(source, line);
        }
        self.reading.pop();
    }

    fn context(&self) -> Context {
        self.stack
            .iter()
            .rev()
            .find_map(|f| f.context)
            .unwrap_or(Context::Server)
    }

    fn which(&self) -> Which {
        self.stack.last().map_or(Which::Main, |f| f.scope)
    }

    fn scope(&mut self, which: Which) -> &mut Scope {
        match which {
            Which::Main => &mut self.model.main,
            Which::Global => &mut self.model.global,
            Which::Vhost(i) => &mut self.model.vhosts[i],
        }
    }

    /// Reads one line; returns the block to skip when it opens a false conditional.
    fn line(&mut self, source: &SourceFile, line: &Line) -> Option<(String, usize)> {
        let written = line.name().to_owned();
        let lower = written.to_ascii_lowercase();
        if let Some(name) = close_name(&lower) {
            self.close(&name, &written, line);
            return None;
        }
        if let Some(name) = block_name(&lower) {
            return self.open(&name, &written, line);
        }
        self.directive(source, &lower, &written, line);
        None
    }

    fn close(&mut self, name: &str, written: &str, line: &Line) {
        if self.stack.last().is_some_and(|f| f.name == name) {
            self.stack.pop();
            return;
        }
        let context = self.context();
        self.error(
            line.span,
            "no block to close",
            format!(
                "{written}: directive not allowed in {} context",
                context.shown()
            ),
            "remove the line, or open the block it closes".to_owned(),
            false,
        );
    }

    fn open(&mut self, name: &str, written: &str, line: &Line) -> Option<(String, usize)> {
        let args = block_args(line);
        let scope = self.which();
        if name == "ifmodule" || name == "ifdefine" {
            let truth = match args.first() {
                Some(arg) => self.condition(name, arg),
                None => true,
            };
            if !truth {
                return Some((name.to_owned(), 1));
            }
            self.push(name, None, line.span, scope);
            return None;
        }
        let key = format!("<{name}");
        if !directives::known(&key, &self.model.loaded) && !self.maybe_unmeasured(&key) {
            self.error(
                line.words[0].span,
                "unknown directive",
                format!("unknown configuration directive '{written}'"),
                "spell the block as the daemon knows it, or load the module that adds it"
                    .to_owned(),
                false,
            );
            self.push(name, None, line.span, scope);
            return None;
        }
        let context = self.context();
        if !directives::allowed(&key, context) {
            self.error(
                line.words[0].span,
                "wrong context",
                format!(
                    "{}: directive not allowed in {} context",
                    block_shown(written),
                    context.shown()
                ),
                format!("move the block out of {}", context.shown()),
                false,
            );
        }
        let block = Context::of_block(name);
        if block == Some(Context::VirtualHost) && args.is_empty() {
            self.error(
                line.span,
                "no address",
                "<VirtualHost>: wrong number of parameters".to_owned(),
                "name the address the virtual host serves: `<VirtualHost 198.51.100.5>`".to_owned(),
                false,
            );
        }
        let scope = match block {
            Some(Context::VirtualHost) => {
                self.model.vhosts.push(Scope {
                    vhost: Some((args.clone(), line.span)),
                    ..Scope::default()
                });
                Which::Vhost(self.model.vhosts.len() - 1)
            }
            Some(Context::Global) => Which::Global,
            _ => scope,
        };
        self.push(name, block, line.span, scope);
        None
    }

    fn push(&mut self, name: &str, context: Option<Context>, span: Span, scope: Which) {
        self.stack.push(Frame {
            name: name.to_owned(),
            context,
            span,
            scope,
        });
    }

    fn condition(&self, kind: &str, arg: &str) -> bool {
        let (negated, arg) = match arg.strip_prefix('!') {
            Some(rest) => (true, rest),
            None => (false, arg),
        };
        let holds = if kind == "ifmodule" {
            let module = if arg.ends_with(".c") {
                arg.to_owned()
            } else {
                format!("{arg}.c")
            };
            self.model.loaded.iter().any(|m| m == &module)
        } else {
            self.defines.iter().any(|d| d == arg)
        };
        holds != negated
    }

    fn directive(&mut self, source: &SourceFile, lower: &str, written: &str, line: &Line) {
        if !directives::known(lower, &self.model.loaded) && !self.maybe_unmeasured(lower) {
            let help = if let Some(module) = directives::module_of(lower) {
                let before = directives::needs(module)
                    .map(|n| format!("`LoadModule {n}`, then "))
                    .unwrap_or_default();
                format!(
                    "load its module first ({before}`LoadModule {module}` in modules.conf), or wrap it in `<IfModule {module}>`"
                )
            } else {
                "remove the line or spell the directive as ProFTPD's documentation does".to_owned()
            };
            self.error(
                line.words[0].span,
                "unknown directive",
                format!("unknown configuration directive '{written}'"),
                help,
                false,
            );
            return;
        }
        let context = self.context();
        if !directives::allowed(lower, context) {
            self.error(
                line.words[0].span,
                "wrong context",
                format!(
                    "{written}: directive not allowed in {} context",
                    context.shown()
                ),
                format!("move `{written}` out of {}", context.shown()),
                false,
            );
            return;
        }
        if let Some(why) = values::check(lower, written, line.args()) {
            let range = lower == "passiveports";
            let help = if range {
                "give two ports above 1023, the first below the second: `PassivePorts 49152 65534`"
                    .to_owned()
            } else {
                format!("give `{written}` a value the daemon accepts")
            };
            let span = match line.args() {
                [first, .., last] => first.span.to(last.span),
                [only] => only.span,
                [] => line.span,
            };
            self.error(span, "refused", why, help, range);
            return;
        }
        match lower {
            "loadmodule" => self.load_module(line),
            "include" => self.include(source, line),
            "define" => self
                .defines
                .extend(line.args().first().map(|w| w.text.clone())),
            _ => {}
        }
        self.record(lower, line);
    }

    /// Whether a module whose directives were not measured was loaded and may
    /// add `lower`: every name a measured module owns stays that module's.
    fn maybe_unmeasured(&self, lower: &str) -> bool {
        self.uncertain && !directives::of_any_module(lower)
    }

    fn record(&mut self, lower: &str, line: &Line) {
        let which = self.which();
        match self.context() {
            Context::Server | Context::VirtualHost | Context::Global => {
                self.scope(which).settings.push(Setting {
                    name: lower.to_owned(),
                    line: line.clone(),
                });
            }
            Context::Anonymous if lower == "user" => {
                let span = self
                    .stack
                    .iter()
                    .rev()
                    .find(|f| f.context == Some(Context::Anonymous))
                    .map_or(line.span, |f| f.span);
                self.scope(which).anonymous.push(span);
            }
            _ => {}
        }
    }

    fn load_module(&mut self, line: &Line) {
        let Some(module) = line.args().first() else {
            return;
        };
        let name = module.text.clone();
        if !directives::shipped_module(&name) {
            self.error(
                module.span,
                "no such module",
                format!("LoadModule: error loading module '{name}': No such file or directory"),
                "load a module Debian ships under /usr/lib/proftpd (`proftpd -l` lists the compiled-in ones)".to_owned(),
                false,
            );
            return;
        }
        let needs = directives::needs(&name).filter(|n| !self.model.loaded.iter().any(|l| l == n));
        if directives::unloadable(&name) || needs.is_some() {
            let help = match needs {
                Some(first) => {
                    format!("load `{first}` before it: `LoadModule {first}` on a line above")
                }
                None => format!(
                    "remove the line: Debian's proftpd 1.3.8 cannot load {name} (its .so needs symbols the daemon lacks)"
                ),
            };
            self.error(
                module.span,
                "module does not load",
                format!("LoadModule: error loading module '{name}': No such file or directory"),
                help,
                false,
            );
            return;
        }
        if !directives::measured_module(&name) {
            self.uncertain = true;
        }
        if !self.model.loaded.contains(&name) {
            self.model.loaded.push(name);
        }
    }

    fn include(&mut self, source: &SourceFile, line: &Line) {
        let Some(target) = line.args().first() else {
            return;
        };
        if !target.text.starts_with('/') {
            self.error(
                target.span,
                "relative path",
                format!(
                    "Include: unable to use path for configuration file '{}'",
                    target.text
                ),
                format!(
                    "write the absolute path: `Include /etc/proftpd/{}`",
                    target.text
                ),
                false,
            );
            return;
        }
        let found = self.files.resolve(&source.path, &target.text);
        if found.is_empty() {
            self.include_missing(target);
            return;
        }
        for path in found {
            self.file(&path);
        }
    }

    fn include_missing(&mut self, target: &Word) {
        if target.text.ends_with("proftpd/modules.conf") {
            // Debian's package installs it: take the modules its stock copy loads
            // (their directives are measured, so the check stays decided).
            for m in directives::DEBIAN_MODULES_CONF {
                if !self.model.loaded.iter().any(|l| l == m) {
                    self.model.loaded.push((*m).to_owned());
                }
            }
        }
        // A glob or folder that matches nothing may be an empty folder on the
        // host, which proftpd reads silently (measured); only its absence warns.
        if target.text.contains(['*', '?', '[']) || target.text.ends_with('/') {
            return;
        }
        self.model.findings.push(Finding {
            kind: FindingKind::IncludeMissing,
            span: target.span,
            label: "no such file here".to_owned(),
            message: format!(
                "`Include {}` names no file in this tree: proftpd warns \"unable to include '{}': No such file or directory\" and starts without it",
                target.text, target.text
            ),
            help: "add the file under this host's folder, or remove the Include".to_owned(),
            range: false,
        });
    }

    /// An error the daemon reports; fatal unless it is the first in an included file.
    fn error(&mut self, span: Span, label: &str, message: String, help: String, range: bool) {
        let depth = self.reading.len();
        let first_in_include = depth > 1 && self.reading.last().is_some_and(|(_, had)| !had);
        if first_in_include {
            if let Some(last) = self.reading.last_mut() {
                last.1 = true;
            }
            self.model.findings.push(Finding {
                kind: FindingKind::Skipped,
                span,
                label: format!("{label}; proftpd starts without it"),
                message: format!(
                    "{message}: in an included file this is not fatal — proftpd logs it, warns \"unable to include … Operation not permitted\" and reads the rest of the file, where the next error stops it"
                ),
                help,
                range,
            });
            return;
        }
        self.fatal_with(span, label, message, help, range);
    }

    fn fatal(&mut self, span: Span, label: &str, message: String, help: String) {
        self.fatal_with(span, label, message, help, false);
    }

    fn fatal_with(&mut self, span: Span, label: &str, message: String, help: String, range: bool) {
        self.model.findings.push(Finding {
            kind: FindingKind::Invalid,
            span,
            label: label.to_owned(),
            message: format!("proftpd -t fails: {message}"),
            help,
            range,
        });
    }
}

/// `<VirtualHost` / `<Global>` → `virtualhost` / `global`.
fn block_name(lower: &str) -> Option<String> {
    let rest = lower.strip_prefix('<')?;
    if rest.starts_with('/') {
        return None;
    }
    let name = rest.trim_end_matches('>');
    (!name.is_empty()).then(|| name.to_owned())
}

fn close_name(lower: &str) -> Option<String> {
    let rest = lower.strip_prefix("</")?;
    Some(rest.trim_end_matches('>').to_owned())
}

fn block_shown(written: &str) -> String {
    format!("{}>", written.trim_end_matches('>'))
}

/// A block's arguments without the closing `>`.
fn block_args(line: &Line) -> Vec<String> {
    line.args()
        .iter()
        .map(|w| w.text.trim_end_matches('>').to_owned())
        .filter(|t| !t.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::portset::PortSet;
    use crate::source::FileId;

    struct Tree(Vec<(SourceFile, Config)>);

    impl Files for Tree {
        fn get(&self, path: &Path) -> Option<(&SourceFile, &Config)> {
            self.0
                .iter()
                .find(|(s, _)| s.path == path)
                .map(|(s, c)| (s, c))
        }

        fn resolve(&self, _includer: &Path, target: &str) -> Vec<PathBuf> {
            let wanted = format!("h{target}");
            self.0
                .iter()
                .filter(|(s, _)| s.path == Path::new(&wanted))
                .map(|(s, _)| s.path.clone())
                .collect()
        }
    }

    fn tree(files: &[(&str, &str)]) -> Tree {
        Tree(
            files
                .iter()
                .enumerate()
                .map(|(i, (path, text))| {
                    let source =
                        SourceFile::new(FileId(i as u32), format!("h{path}"), text.as_bytes());
                    let config = super::super::parse(&source);
                    (source, config)
                })
                .collect(),
        )
    }

    fn walked(files: &[(&str, &str)]) -> Model {
        walk(&tree(files), Path::new(&format!("h{}", files[0].0)))
    }

    fn kinds(model: &Model) -> Vec<FindingKind> {
        model.findings.iter().map(|f| f.kind).collect()
    }

    #[test]
    fn the_first_error_of_an_included_file_is_survived_the_second_is_not() {
        let once = walked(&[
            ("/etc/proftpd/proftpd.conf", "Include /etc/proftpd/x.conf\n"),
            ("/etc/proftpd/x.conf", "Bogus 1\nPassivePorts 49152 49200\n"),
        ]);
        assert_eq!(kinds(&once), vec![FindingKind::Skipped]);
        assert!(once.main.first("passiveports").is_some());
        let twice = walked(&[
            ("/etc/proftpd/proftpd.conf", "Include /etc/proftpd/x.conf\n"),
            ("/etc/proftpd/x.conf", "PassivePorts 1000 2000\nBogus 1\n"),
        ]);
        assert_eq!(
            kinds(&twice),
            vec![FindingKind::Skipped, FindingKind::Invalid]
        );
        let top = walked(&[("/etc/proftpd/proftpd.conf", "Bogus 1\n")]);
        assert_eq!(kinds(&top), vec![FindingKind::Invalid]);
    }

    #[test]
    fn modules_decide_directives_and_ifmodule_blocks() {
        let skipped = walked(&[(
            "/etc/proftpd/proftpd.conf",
            "<IfModule mod_tls.c>\nTLSEngine on\n<IfModule x>\n</IfModule>\n</IfModule>\n",
        )]);
        assert!(skipped.findings.is_empty());
        let loaded = walked(&[(
            "/etc/proftpd/proftpd.conf",
            "LoadModule mod_tls.c\n<IfModule !mod_tls.c>\nBogus\n</IfModule>\nTLSEngine on\n",
        )]);
        assert!(loaded.findings.is_empty(), "{:?}", loaded.findings);
        let unclosed = walked(&[("/etc/proftpd/proftpd.conf", "<Global>\nPort 21\n")]);
        assert_eq!(kinds(&unclosed), vec![FindingKind::Invalid]);
    }

    /// Each verdict as Debian's `proftpd -t` 1.3.8 gives it.
    #[test]
    fn stock_modules_conf_and_measured_modules_keep_the_check_decided() {
        let conf = |text: &str| walked(&[("/etc/proftpd/proftpd.conf", text)]);
        let missing = "Include /etc/proftpd/modules.conf\n";
        // Debian's modules.conf (assumed when the tree lacks it) leaves mod_ident out.
        let ident = conf(&format!("{missing}IdentLookups off\n"));
        assert_eq!(
            kinds(&ident),
            vec![FindingKind::IncludeMissing, FindingKind::Invalid]
        );
        let stock = conf(&format!(
            "{missing}QuotaEngine off\nRatios off\nDisplayReadme README\n<IfUser x>\n</IfUser>\n"
        ));
        assert_eq!(kinds(&stock), vec![FindingKind::IncludeMissing]);
        let backend = conf(
            "LoadModule mod_quotatab.c\nLoadModule mod_quotatab_file.c\nLoadModule mod_wrap2.c\nLoadModule mod_wrap2_file.c\nIdentLookups off\n",
        );
        assert_eq!(kinds(&backend), vec![FindingKind::Invalid]);
        // A backend before the module it serves, and mod_dnsbl, do not load.
        for text in [
            "LoadModule mod_quotatab_file.c\nLoadModule mod_quotatab.c\n",
            "LoadModule mod_dnsbl.c\n",
            "LoadModule mod_sftp_pam.c\n",
        ] {
            assert_eq!(kinds(&conf(text)), vec![FindingKind::Invalid], "{text}");
        }
        let pam = conf("LoadModule mod_sftp.c\nLoadModule mod_sftp_pam.c\nSFTPPAMEngine off\n");
        assert!(pam.findings.is_empty(), "{:?}", pam.findings);
        // Add-on packages: measured ones decide, unmeasured ones leave only
        // names no measured module owns undecided.
        assert!(
            conf("LoadModule mod_vroot.c\nVRootEngine on\n")
                .findings
                .is_empty()
        );
        assert_eq!(
            kinds(&conf("LoadModule mod_vroot.c\nVRootEngin on\n")),
            vec![FindingKind::Invalid]
        );
        assert!(
            conf("LoadModule mod_geoip.c\nGeoIPEngine on\n")
                .findings
                .is_empty()
        );
        assert_eq!(
            kinds(&conf("LoadModule mod_geoip.c\nTLSEngine on\n")),
            vec![FindingKind::Invalid]
        );
    }

    #[test]
    fn vhosts_take_global_but_not_the_main_servers_range() {
        let model = walked(&[(
            "/etc/proftpd/proftpd.conf",
            "PassivePorts 49152 49200\nPassivePorts 50000 50100\n<Global>\nMaxClients 5\n</Global>\n<VirtualHost 198.18.0.5>\nPort 2121\n</VirtualHost>\n",
        )]);
        let source = SourceFile::new(FileId(0), "h/etc/proftpd/proftpd.conf", b"");
        let servers = super::super::facts::servers(&model, &source);
        assert_eq!(servers.len(), 2);
        assert_eq!(
            servers[0].passive.ports(),
            Some(&PortSet::range(49152, 49200))
        );
        assert_eq!(
            servers[1].passive.ports(),
            Some(&PortSet::range(1024, 65535))
        );
        assert_eq!(servers[1].control_port.value, Some(2121));
        assert_eq!(servers[1].max_sessions.value, Some(Some(5)));
        assert!(servers[0].falls_back_outside_range && !servers[1].falls_back_outside_range);
    }
}
