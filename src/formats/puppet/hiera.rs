//! Hiera 5 data the repository holds, looked up as Puppet 7's `lookup()` and
//! automatic class parameter lookup do (`lib/puppet/pops/lookup/`).
//!
//! Two layers are read: the environment's (`<control repo>/hiera.yaml`) and each
//! module's own (`modules/NAME/hiera.yaml`, which answers only `NAME::…` keys),
//! the environment first. Without its `hiera.yaml` a layer holds no data: Puppet
//! 7 reads `data/common.yaml` only through a `hiera.yaml` (one that says just
//! `version: 5` takes the defaults `datadir: data`, `data_hash: yaml_data` and
//! the one level `common.yaml`). The global layer (`$confdir/hiera.yaml` on the
//! server) is not in the repository and is taken to hold none of these keys.
//!
//! A level whose path interpolates (`nodes/%{trusted.certname}.yaml`) depends on
//! the node: each of its files in the repository may be the node's. A key such a
//! level sets in any of its files, with a value the first level without
//! interpolation does not also give, is not known; one that no such file sets
//! takes the value of the first level that holds it. A level pasvlint does not
//! read (another backend, `uri`, `mapped_paths`, a `hiera.yaml` that is not
//! version 5) before the value also leaves it unknown.

use super::scope::{V, Value};
use crate::formats::yaml::{self, Node};
use crate::scripts::Text;
use crate::source::{FileId, SourceFile, Span};
use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// A `hiera.yaml` or a data file as parsed: its document, or why it does not parse.
#[derive(Debug)]
pub struct HieraFile {
    pub root: Option<Node>,
    pub error: Option<yaml::SyntaxError>,
}

pub fn parse(source: &SourceFile) -> HieraFile {
    match yaml::parse(source.id, &source.text) {
        Ok(root) => HieraFile { root, error: None },
        Err(e) => HieraFile {
            root: None,
            error: Some(e),
        },
    }
}

const DATA_EXTENSIONS: &[&str] = &["yaml", "yml", "json", "eyaml"];

/// `hiera.yaml`, or a YAML or JSON file under a `data/` folder that has a
/// `hiera.yaml` beside it: Puppet 7 reads an environment's or a module's data
/// only through its `hiera.yaml`, and a `data/` folder of another project (test
/// data, a web app's strings) is no Hiera data.
pub fn sniff(path: &Path) -> bool {
    if path.file_name().is_some_and(|n| n == "hiera.yaml") {
        return true;
    }
    let data_ext = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| DATA_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()));
    data_ext && data_folder(path).is_some_and(|root| root.join("hiera.yaml").is_file())
}

/// The folder holding the nearest `data/` above a file.
fn data_folder(path: &Path) -> Option<PathBuf> {
    let comps: Vec<Component> = path.parent()?.components().collect();
    let i = comps.iter().rposition(|c| c.as_os_str() == "data")?;
    Some(comps[..i].iter().collect())
}

/// The folder of the bundle a Hiera file belongs to: the control repository
/// above `modules/NAME/` (or `site/NAME/`), else the folder its `hiera.yaml` or
/// `data/` is in.
pub fn root_of(path: &Path) -> PathBuf {
    let dir = if path.file_name().is_some_and(|n| n == "hiera.yaml") {
        path.parent().map(Path::to_path_buf).unwrap_or_default()
    } else {
        data_folder(path).unwrap_or_default()
    };
    let above = dir
        .parent()
        .filter(|p| p.file_name().is_some_and(|n| n == "modules" || n == "site"));
    match above.and_then(Path::parent) {
        Some(repo) => repo.to_path_buf(),
        None => dir,
    }
}

/// How a lookup merges what several levels hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Merge {
    First,
    Unique,
    Hash,
    Deep,
}

impl Merge {
    pub fn named(name: &str) -> Option<Merge> {
        match name {
            "first" => Some(Merge::First),
            "unique" => Some(Merge::Unique),
            "hash" => Some(Merge::Hash),
            "deep" => Some(Merge::Deep),
            _ => None,
        }
    }
}

/// What a lookup finds in the repository's data.
#[derive(Clone, Debug, PartialEq)]
pub enum Found {
    Value(V),
    /// Not known: why, and the data that makes it so.
    Unknown(String, Option<Span>),
    /// No level of the repository's data holds the key.
    Missing,
}

/// The data of one parsed file.
#[derive(Clone, Debug)]
struct Data {
    root: Option<Node>,
    broken: Option<Span>,
    path: PathBuf,
}

impl Data {
    fn get(&self, key: &str) -> Option<&Node> {
        self.root.as_ref()?.get(key)
    }
}

#[derive(Clone, Debug)]
struct Level {
    name: String,
    /// The path as `hiera.yaml` writes it.
    written: String,
    per_node: bool,
    /// Why pasvlint does not read this level, when it does not.
    opaque: Option<String>,
    files: Vec<Data>,
}

#[derive(Clone, Debug)]
struct Layer {
    /// The module whose keys (`NAME::…`) this layer answers; `None` for the environment.
    module: Option<String>,
    levels: Vec<Level>,
}

/// The Hiera layers a bundle holds.
#[derive(Debug, Default)]
pub struct Hiera {
    layers: Vec<Layer>,
    /// Lookups made so far: data whose values look each other up many times
    /// over ends as unknown, not as a hang.
    spent: AtomicUsize,
}

/// Lookups one bundle may make.
const MAX_LOOKUPS: usize = 1_000_000;

/// Lookups inside data (`%{lookup('x')}`, `%{alias('x')}`) nest at most this deep.
const MAX_DEPTH: usize = 16;

/// One Hiera file of a bundle: its path, and what it parsed to.
pub type Part<'a> = (&'a Path, FileId, &'a HieraFile);

impl Hiera {
    /// The layers of the bundle rooted at `root`; `None` when it holds no
    /// `hiera.yaml`. A root that is a control repository (`site`: it holds
    /// `manifests/site.pp`; or it holds other modules) is the environment; a module
    /// standing alone has only its module layer.
    pub fn read(
        root: &Path,
        site: bool,
        modules: &BTreeMap<String, PathBuf>,
        parts: &[Part],
    ) -> Option<Hiera> {
        let standalone = !site && modules.values().all(|m| m == root);
        let mut layers = Vec::new();
        if !standalone {
            layers.extend(layer(root, None, parts));
        }
        for (name, dir) in modules {
            if dir != root || standalone {
                layers.extend(layer(dir, Some(name.clone()), parts));
            }
        }
        (!layers.is_empty()).then(|| Hiera {
            layers,
            spent: AtomicUsize::new(0),
        })
    }

    /// `key` as Puppet looks it up with `merge`.
    pub fn lookup(&self, key: &str, merge: Merge) -> Found {
        self.lookup_at(key, merge, 0)
    }

    fn lookup_at(&self, key: &str, merge: Merge, depth: usize) -> Found {
        if self.spent.fetch_add(1, Ordering::Relaxed) > MAX_LOOKUPS {
            return Found::Unknown(
                format!("one of more than {MAX_LOOKUPS} Hiera lookups, more than pasvlint makes"),
                None,
            );
        }
        if depth > MAX_DEPTH {
            return Found::Unknown(
                format!("Hiera data that looks itself up more than {MAX_DEPTH} times"),
                None,
            );
        }
        let namespace = key
            .trim_start_matches("::")
            .split_once("::")
            .map(|(m, _)| m);
        let levels: Vec<&Level> = self
            .layers
            .iter()
            .filter(|l| l.module.is_none() || l.module.as_deref() == namespace)
            .flat_map(|l| &l.levels)
            .collect();
        let key = key.trim_start_matches("::");
        match merge {
            Merge::First => self.first(key, &levels, depth),
            _ => self.merged(key, &levels, merge, depth),
        }
    }

    fn first(&self, key: &str, levels: &[&Level], depth: usize) -> Found {
        let mut per_node: Vec<(&Node, &Level)> = Vec::new();
        for level in levels {
            if let Some(why) = unreadable(level) {
                return Found::Unknown(why, None);
            }
            let mut hits = level.files.iter().filter_map(|d| d.get(key));
            if level.per_node {
                per_node.extend(hits.map(|h| (h, *level)));
                continue;
            }
            let Some(hit) = hits.next() else { continue };
            return match per_node.iter().find(|(n, _)| shape(n) != shape(hit)) {
                None => Found::Value(self.value(hit, depth)),
                Some((n, l)) => Found::Unknown(
                    format!(
                        "set differently per node by the Hiera level {} than by {}",
                        describe(l),
                        describe(level)
                    ),
                    Some(n.span()),
                ),
            };
        }
        match per_node.first() {
            Some((n, l)) => Found::Unknown(
                format!("set only by the node-specific Hiera level {}", describe(l)),
                Some(n.span()),
            ),
            None => Found::Missing,
        }
    }

    fn merged(&self, key: &str, levels: &[&Level], merge: Merge, depth: usize) -> Found {
        let mut hits = Vec::new();
        for level in levels {
            if let Some(why) = unreadable(level) {
                return Found::Unknown(why, None);
            }
            for hit in level.files.iter().filter_map(|d| d.get(key)) {
                if level.per_node {
                    let why = format!(
                        "merged with the node-specific Hiera level {}",
                        describe(level)
                    );
                    return Found::Unknown(why, Some(hit.span()));
                }
                hits.push(hit);
            }
        }
        match hits.as_slice() {
            [] => Found::Missing,
            [one] => Found::Value(self.value(one, depth)),
            [first, ..] => match merge {
                Merge::Unique => Found::Value(self.unique(&hits, depth)),
                Merge::Hash => Found::Value(self.hash(&hits, depth)),
                _ => Found::Unknown(
                    "a deep merge of several Hiera levels, which pasvlint does not compute".into(),
                    Some(first.span()),
                ),
            },
        }
    }

    /// `unique`: every level's values, arrays flattened, each once.
    fn unique(&self, hits: &[&Node], depth: usize) -> V {
        let mut seen = Vec::new();
        let mut items = Vec::new();
        for hit in hits {
            let elements: Vec<&Node> = match hit {
                Node::Seq { items, .. } => items.iter().collect(),
                other => vec![other],
            };
            for e in elements {
                let s = shape(e);
                if !seen.contains(&s) {
                    seen.push(s);
                    items.push(self.value(e, depth));
                }
            }
        }
        from_data(Value::Array(items), hits[0].span())
    }

    /// `hash`: the keys of every level, the higher level's value winning.
    fn hash(&self, hits: &[&Node], depth: usize) -> V {
        let mut seen = Vec::new();
        let mut pairs = Vec::new();
        for (k, v) in hits.iter().flat_map(|h| h.entries()) {
            let s = shape(k);
            if !seen.contains(&s) {
                seen.push(s);
                pairs.push((self.value(k, depth), self.value(v, depth)));
            }
        }
        from_data(Value::Hash(pairs), hits[0].span())
    }

    /// A data node as the Puppet value Psych and Hiera make of it.
    fn value(&self, node: &Node, depth: usize) -> V {
        let span = node.span();
        let v = match node {
            Node::Seq { items, .. } => {
                Value::Array(items.iter().map(|i| self.value(i, depth)).collect())
            }
            Node::Map { entries, .. } => Value::Hash(
                entries
                    .iter()
                    .map(|(k, v)| (self.value(k, depth), self.value(v, depth)))
                    .collect(),
            ),
            Node::Scalar { text, quoted, .. } => {
                return self.scalar(text, *quoted, span, depth);
            }
        };
        from_data(v, span)
    }

    fn scalar(&self, text: &str, quoted: bool, span: Span, depth: usize) -> V {
        let known = |v| from_data(v, span);
        if !quoted {
            if let Some(v) = plain(text) {
                return known(v);
            }
        }
        if text.starts_with("ENC[") {
            return known(Value::Unknown(
                "a value hiera-eyaml encrypts, which pasvlint cannot read".into(),
            ));
        }
        if !text.contains("%{") {
            return known(Value::Str(piece(text, span)));
        }
        self.interpolate(text, span, depth)
    }

    /// `%{…}` in a data value: `alias('k')` as the whole value, `lookup('k')`,
    /// `hiera('k')` and `literal('x')` in place; facts and variables not known.
    fn interpolate(&self, text: &str, span: Span, depth: usize) -> V {
        let unknown = |why: String| from_data(Value::Unknown(why), span);
        let mut out = String::new();
        let mut rest = text;
        while let Some(at) = rest.find("%{") {
            out.push_str(&rest[..at]);
            let Some(end) = rest[at..].find('}') else {
                return unknown(format!(
                    "the Hiera value `{text}`, whose interpolation is not closed"
                ));
            };
            let inner = rest[at + 2..at + end].trim();
            rest = &rest[at + end + 1..];
            if let Some(key) = call_arg(inner, "alias") {
                if !out.trim().is_empty() || !rest.trim().is_empty() {
                    return unknown(format!(
                        "the Hiera value `{text}`: `alias` must be the whole value"
                    ));
                }
                return self.found(self.lookup_at(&key, Merge::First, depth + 1), &key, span);
            }
            if let Some(lit) = call_arg(inner, "literal") {
                out.push_str(&lit);
                continue;
            }
            let Some(key) = call_arg(inner, "lookup").or_else(|| call_arg(inner, "hiera")) else {
                return unknown(format!(
                    "the Hiera value `{text}`, which interpolates `{inner}` (a fact or variable of the node)"
                ));
            };
            let found = self.found(self.lookup_at(&key, Merge::First, depth + 1), &key, span);
            match found.text() {
                Some(t) => out.push_str(&t),
                None => return found,
            }
        }
        out.push_str(rest);
        from_data(Value::Str(piece(&out, span)), span)
    }

    /// A lookup inside data as a value.
    fn found(&self, found: Found, key: &str, span: Span) -> V {
        match found {
            Found::Value(v) => v,
            Found::Unknown(why, _) => {
                from_data(Value::Unknown(format!("Hiera key `{key}`, {why}")), span)
            }
            Found::Missing => from_data(
                Value::Unknown(format!(
                    "Hiera key `{key}`, which no Hiera data in the repository holds"
                )),
                span,
            ),
        }
    }
}

/// A value written at `span` of a data file.
fn from_data(v: Value, span: Span) -> V {
    V {
        v,
        span,
        data: Some(span),
    }
}

/// A plain scalar as Psych (YAML 1.1) types it, when it is no string.
fn plain(text: &str) -> Option<Value> {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Some(Value::Undef),
        "true" | "True" | "TRUE" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" => {
            return Some(Value::Bool(true));
        }
        "false" | "False" | "FALSE" | "no" | "No" | "NO" | "off" | "Off" | "OFF" => {
            return Some(Value::Bool(false));
        }
        _ => {}
    }
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
        .then(|| Value::Num(text.trim_start_matches('+').to_owned()))
}

fn piece(text: &str, span: Span) -> Text {
    let mut t = Text::default();
    t.push(text, span, false);
    t
}

/// `name('arg')` or `name("arg")`: the argument.
fn call_arg(inner: &str, name: &str) -> Option<String> {
    let args = inner.strip_prefix(name)?.trim_start().strip_prefix('(')?;
    let args = args.trim_end().strip_suffix(')')?.trim();
    let quote = args.chars().next().filter(|c| *c == '\'' || *c == '"')?;
    let arg = args.strip_prefix(quote)?.strip_suffix(quote)?;
    Some(arg.to_owned())
}

/// A node's value without its spans, to compare what two files set.
fn shape(node: &Node) -> String {
    match node {
        Node::Scalar { text, quoted, .. } => format!("{quoted}:{text:?}"),
        Node::Seq { items, .. } => {
            let items: Vec<String> = items.iter().map(shape).collect();
            format!("[{}]", items.join(","))
        }
        Node::Map { entries, .. } => {
            let pairs: Vec<String> = entries
                .iter()
                .map(|(k, v)| format!("{}=>{}", shape(k), shape(v)))
                .collect();
            format!("{{{}}}", pairs.join(","))
        }
    }
}

fn describe(level: &Level) -> String {
    format!("\"{}\" (`{}`)", level.name, level.written)
}

/// Why a level's data is not known, when it is not.
fn unreadable(level: &Level) -> Option<String> {
    if let Some(why) = &level.opaque {
        return Some(format!(
            "decided by the Hiera level {}, {why}",
            describe(level)
        ));
    }
    level.files.iter().find(|d| d.broken.is_some()).map(|d| {
        format!(
            "in the Hiera level {}, whose file {} does not parse (the lookup fails)",
            describe(level),
            d.path.display()
        )
    })
}

/// The layer whose `hiera.yaml` is in `dir`.
fn layer(dir: &Path, module: Option<String>, parts: &[Part]) -> Option<Layer> {
    let config_path = dir.join("hiera.yaml");
    let (_, _, config) = parts.iter().find(|(p, _, _)| *p == config_path)?;
    let levels = match (&config.root, &config.error) {
        (Some(root), None) => levels(root, dir, parts),
        _ => vec![opaque_level("hiera.yaml", "which does not parse")],
    };
    Some(Layer { module, levels })
}

fn opaque_level(name: &str, why: &str) -> Level {
    Level {
        name: name.to_owned(),
        written: name.to_owned(),
        per_node: false,
        opaque: Some(why.to_owned()),
        files: Vec::new(),
    }
}

fn text_of<'a>(node: &'a Node, key: &str) -> Option<&'a str> {
    node.get(key).and_then(Node::as_str)
}

fn levels(config: &Node, dir: &Path, parts: &[Part]) -> Vec<Level> {
    let version = text_of(config, "version").unwrap_or("");
    if version != "5" {
        let why = format!("a hiera.yaml of version `{version}`, which pasvlint does not read");
        return vec![opaque_level("hiera.yaml", &why)];
    }
    let defaults = config.get("defaults");
    let default = |key: &str| defaults.and_then(|d| text_of(d, key));
    let datadir = default("datadir").unwrap_or("data");
    let backend = backend_of(defaults).unwrap_or(Ok(()));
    let Some(hierarchy) = config.get("hierarchy").filter(|h| !h.is_null()) else {
        let common = Node::Scalar {
            text: "common.yaml".into(),
            span: config.span(),
            quoted: true,
        };
        return vec![files_level(
            "Common",
            &common,
            false,
            &dir.join(datadir),
            parts,
        )];
    };
    let Node::Seq { items, .. } = hierarchy else {
        return vec![opaque_level("hierarchy", "which is not a list")];
    };
    items
        .iter()
        .flat_map(|entry| level(entry, dir, datadir, &backend, parts))
        .collect()
}

/// `Err(why)` for a backend pasvlint does not read; `None` when none is named.
fn backend_of(entry: Option<&Node>) -> Option<Result<(), String>> {
    let entry = entry?;
    for key in ["data_hash", "lookup_key", "data_dig"] {
        if let Some(name) = text_of(entry, key) {
            let read = matches!(name, "yaml_data" | "json_data" | "eyaml_lookup_key");
            return Some(if read {
                Ok(())
            } else {
                Err(format!("whose backend `{name}` pasvlint does not read"))
            });
        }
    }
    None
}

/// One `hierarchy:` entry: a level per path it names.
fn level(
    entry: &Node,
    dir: &Path,
    datadir: &str,
    backend: &Result<(), String>,
    parts: &[Part],
) -> Vec<Level> {
    let name = text_of(entry, "name").unwrap_or("(unnamed)");
    let backend = backend_of(Some(entry)).unwrap_or_else(|| backend.clone());
    if let Err(why) = backend {
        return vec![opaque_level(name, &why)];
    }
    for key in ["uri", "uris", "mapped_paths"] {
        if entry.get(key).is_some() {
            return vec![opaque_level(
                name,
                &format!("whose `{key}` pasvlint does not read"),
            )];
        }
    }
    let base = dir.join(text_of(entry, "datadir").unwrap_or(datadir));
    let mut out = Vec::new();
    for (key, glob) in [
        ("path", false),
        ("paths", false),
        ("glob", true),
        ("globs", true),
    ] {
        let paths: Vec<&Node> = match entry.get(key) {
            Some(Node::Seq { items, .. }) => items.iter().collect(),
            Some(one) => vec![one],
            None => continue,
        };
        for p in paths {
            out.push(files_level(name, p, glob, &base, parts));
        }
    }
    out
}

/// The data files one path (or glob) of a level names.
fn files_level(name: &str, path: &Node, glob: bool, base: &Path, parts: &[Part]) -> Level {
    let written = path.as_str().unwrap_or("").to_owned();
    let per_node = written.contains("%{");
    let pattern = wildcard(&written);
    let matcher = (glob || per_node)
        .then(|| {
            let base = globset::escape(&base.to_string_lossy());
            globset::GlobBuilder::new(&format!("{base}/{pattern}"))
                .literal_separator(true)
                .build()
                .ok()
                .map(|g| g.compile_matcher())
        })
        .flatten();
    let exact = base.join(&written);
    let mut files: Vec<Data> = parts
        .iter()
        .filter(|(p, _, _)| match &matcher {
            Some(m) => m.is_match(p),
            None => *p == exact,
        })
        .map(|(p, _, f)| Data {
            root: f.root.clone(),
            broken: f.error.as_ref().map(|e| e.span),
            path: p.to_path_buf(),
        })
        .collect();
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Level {
        name: name.to_owned(),
        written,
        per_node,
        opaque: None,
        files,
    }
}

/// A level's path with each `%{…}` as `*`, glob characters of the rest escaped.
fn wildcard(written: &str) -> String {
    let mut out = String::new();
    let mut rest = written;
    while let Some(at) = rest.find("%{") {
        out.push_str(&globset::escape(&rest[..at]));
        out.push('*');
        rest = rest[at..].find('}').map_or("", |end| &rest[at + end + 1..]);
    }
    out.push_str(&globset::escape(rest));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Repo {
        files: Vec<(PathBuf, HieraFile)>,
    }

    fn repo(files: &[(&str, &str)]) -> Repo {
        Repo {
            files: files
                .iter()
                .enumerate()
                .map(|(i, (p, t))| {
                    let source = SourceFile::new(FileId(i as u32), *p, t.as_bytes());
                    (PathBuf::from(p), parse(&source))
                })
                .collect(),
        }
    }

    impl Repo {
        fn hiera(&self) -> Option<Hiera> {
            let parts: Vec<Part> = self
                .files
                .iter()
                .enumerate()
                .map(|(i, (p, f))| (p.as_path(), FileId(i as u32), f))
                .collect();
            let mut modules = BTreeMap::new();
            modules.insert("ftp".to_owned(), PathBuf::from("r/modules/ftp"));
            Hiera::read(Path::new("r"), false, &modules, &parts)
        }

        fn text(&self, key: &str) -> Option<String> {
            match self.hiera()?.lookup(key, Merge::First) {
                Found::Value(v) => v.text(),
                _ => None,
            }
        }
    }

    const NODES: &str = "version: 5\nhierarchy:\n  - name: Per-node data\n    path: nodes/%{trusted.certname}.yaml\n  - name: Common\n    path: common.yaml\n";

    #[test]
    fn sniffs_hiera_files() {
        let dir = tempfile::tempdir().unwrap();
        let r = dir.path();
        std::fs::create_dir_all(r.join("modules/ftp")).unwrap();
        std::fs::write(r.join("hiera.yaml"), "version: 5\n").unwrap();
        std::fs::write(r.join("modules/ftp/hiera.yaml"), "version: 5\n").unwrap();
        assert!(sniff(&r.join("hiera.yaml")));
        assert!(sniff(&r.join("data/nodes/a.yaml")));
        assert!(sniff(&r.join("modules/ftp/data/common.json")));
        assert!(!sniff(&r.join("manifests/site.yaml")));
        // A data folder with no hiera.yaml beside it is another project's data.
        assert!(!sniff(&r.join("web/data/strings.json")));
        assert_eq!(
            root_of(Path::new("r/modules/ftp/data/common.yaml")),
            PathBuf::from("r")
        );
        assert_eq!(
            root_of(Path::new("r/data/nodes/a.yaml")),
            PathBuf::from("r")
        );
        assert_eq!(
            root_of(Path::new("puppet-ftp/hiera.yaml")),
            PathBuf::from("puppet-ftp")
        );
    }

    #[test]
    fn data_without_a_hiera_yaml_is_not_read() {
        let r = repo(&[("r/data/common.yaml", "ftp::port: 21\n")]);
        assert!(r.hiera().is_none());
    }

    #[test]
    fn version_5_alone_reads_common_yaml() {
        let r = repo(&[
            ("r/hiera.yaml", "version: 5\n"),
            (
                "r/data/common.yaml",
                "ftp::ports: '40000-40100'\nftp::port: 21\n",
            ),
        ]);
        assert_eq!(r.text("ftp::ports").as_deref(), Some("40000-40100"));
        assert_eq!(r.text("ftp::port").as_deref(), Some("21"));
        assert_eq!(
            r.hiera().unwrap().lookup("ftp::other", Merge::First),
            Found::Missing
        );
    }

    #[test]
    fn per_node_levels_decide_only_what_they_set_differently() {
        let r = repo(&[
            ("r/hiera.yaml", NODES),
            ("r/data/common.yaml", "a: '1'\nb: '2'\nc: '3'\n"),
            ("r/data/nodes/ftp1.yaml", "b: '2'\nc: '4'\nd: '5'\n"),
        ]);
        assert_eq!(r.text("a").as_deref(), Some("1"));
        assert_eq!(r.text("b").as_deref(), Some("2"));
        let h = r.hiera().unwrap();
        assert!(
            matches!(h.lookup("c", Merge::First), Found::Unknown(why, Some(_)) if why.contains("differently per node"))
        );
        assert!(
            matches!(h.lookup("d", Merge::First), Found::Unknown(why, Some(_)) if why.contains("set only by the node-specific"))
        );
    }

    #[test]
    fn module_layers_answer_their_own_keys_after_the_environment() {
        let r = repo(&[
            ("r/hiera.yaml", "version: 5\n"),
            ("r/data/common.yaml", "ftp::a: env\n"),
            (
                "r/modules/ftp/hiera.yaml",
                "version: 5\ndefaults:\n  datadir: data\n  data_hash: json_data\nhierarchy:\n  - name: c\n    path: common.json\n",
            ),
            (
                "r/modules/ftp/data/common.json",
                "{\"ftp::a\": \"mod\", \"ftp::b\": [21, \"40000-40100\"], \"other::c\": \"x\"}",
            ),
        ]);
        assert_eq!(r.text("ftp::a").as_deref(), Some("env"));
        assert!(
            matches!(r.hiera().unwrap().lookup("ftp::b", Merge::First), Found::Value(V { v: Value::Array(items), .. }) if items.len() == 2)
        );
        assert_eq!(
            r.hiera().unwrap().lookup("other::c", Merge::First),
            Found::Missing
        );
    }

    #[test]
    fn interpolation_in_data() {
        let r = repo(&[
            ("r/hiera.yaml", "version: 5\n"),
            (
                "r/data/common.yaml",
                "min: 40000\nrange: \"%{lookup('min')}-40100\"\nsame: \"%{alias('range')}\"\nhost: \"%{facts.fqdn}\"\nloop: \"%{lookup('loop')}\"\n",
            ),
        ]);
        assert_eq!(r.text("range").as_deref(), Some("40000-40100"));
        assert_eq!(r.text("same").as_deref(), Some("40000-40100"));
        assert_eq!(r.text("host"), None);
        assert_eq!(r.text("loop"), None);
    }

    #[test]
    fn merges_and_unread_levels() {
        let r = repo(&[
            (
                "r/hiera.yaml",
                "version: 5\nhierarchy:\n  - name: os\n    path: os/Debian.yaml\n  - name: common\n    path: common.yaml\n  - name: vault\n    lookup_key: vault_lookup\n",
            ),
            ("r/data/os/Debian.yaml", "ports: [21]\n"),
            ("r/data/common.yaml", "ports: ['40000-40100', 21]\n"),
        ]);
        let h = r.hiera().unwrap();
        match h.lookup("ports", Merge::Unique) {
            Found::Unknown(why, _) => assert!(why.contains("vault_lookup"), "{why}"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(h.lookup("ports", Merge::First), Found::Value(_)));
        assert!(matches!(
            h.lookup("absent", Merge::First),
            Found::Unknown(..)
        ));
    }

    #[test]
    fn data_that_looks_itself_up_many_times_over_ends() {
        let mut data = String::from("k20: x\n");
        for i in 0..20 {
            let next = format!("%{{lookup('k{}')}}", i + 1);
            data.push_str(&format!("k{i}: \"{}\"\n", next.repeat(4)));
        }
        let r = repo(&[
            ("r/hiera.yaml", "version: 5\n"),
            ("r/data/common.yaml", &data),
        ]);
        assert_eq!(r.text("k0"), None);
        assert_eq!(r.text("k18").as_deref(), Some("xxxxxxxxxxxxxxxx"));
    }
}
