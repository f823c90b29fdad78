//! The `.tf` files of one folder read as one module, as Terraform reads them:
//! its variables and locals, its cloud filters and the instances they guard.
//! Pairing is by reference: an instance with the security groups it names
//! (`vpc_security_group_ids`, `security_groups`), the NSGs associated with its
//! network interface or subnet, the GCP firewalls whose `target_tags` it carries.

use super::TfFile;
use super::cloud::{Action, CloudRule, Filter, Provider, Sources, cidr_sources, port_range};
use super::eval::{Scope, Unknown, Value};
use super::hcl::{Attr, Block, Body, Expr, ExprKind, Part};
use crate::facts::{BootBody, BootScript, FileFacts, Firewall, PortSyntax, PortText};
use crate::formats::bundle::{Bundle, BundleDoc};
use crate::formats::{Document, ParsedFile};
use crate::portset::PortSet;
use crate::source::{FileId, SourceFile, Span};
use std::path::{Path, PathBuf};

/// The folder a module's bundle stands for.
#[derive(Debug)]
pub struct ModuleDir {
    pub dir: PathBuf,
}

fn tf(part: &ParsedFile) -> Option<&TfFile> {
    match &part.doc {
        Document::Terraform(t) => Some(t),
        _ => None,
    }
}

/// One bundle per folder: Terraform reads the `.tf` files of one directory as
/// one module (subfolders are other modules).
pub fn assemble(parts: Vec<ParsedFile>) -> Vec<Bundle> {
    let mut groups: Vec<(PathBuf, Vec<ParsedFile>)> = Vec::new();
    for part in parts {
        let dir = part
            .source
            .path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        match groups.iter_mut().find(|(d, _)| *d == dir) {
            Some((_, g)) => g.push(part),
            None => groups.push((dir, vec![part])),
        }
    }
    groups
        .into_iter()
        .map(|(dir, mut parts)| {
            parts.sort_by(|a, b| a.source.path.cmp(&b.source.path));
            Bundle {
                primary: parts[0].source.id,
                parts,
                doc: BundleDoc::Terraform(Box::new(ModuleDir { dir })),
            }
        })
        .collect()
}

/// A resource block and the file it is in.
#[derive(Clone, Copy)]
pub struct Res<'a> {
    pub kind: &'a str,
    pub name: &'a str,
    pub block: &'a Block,
    pub source: &'a SourceFile,
}

impl Res<'_> {
    pub fn address(&self) -> String {
        format!("{}.{}", self.kind, self.name)
    }

    fn attr(&self, name: &str) -> Option<&Attr> {
        self.block.body.attr(name)
    }
}

/// A module's resources with the scope their expressions are evaluated in.
pub struct Model<'a> {
    pub scope: Scope<'a>,
    pub resources: Vec<Res<'a>>,
    pub dir: PathBuf,
    /// A file of the module does not parse: Terraform refuses the whole module.
    pub broken: bool,
}

impl<'a> Model<'a> {
    pub fn of(bundle: &'a Bundle) -> Model<'a> {
        let dir = match &bundle.doc {
            BundleDoc::Terraform(m) => m.dir.clone(),
            _ => PathBuf::new(),
        };
        let mut scope = Scope {
            module_dir: crate::source::display_path(&dir),
            ..Scope::default()
        };
        let mut resources = Vec::new();
        let mut broken = false;
        let mut files = Vec::new();
        for part in &bundle.parts {
            let Some(file) = tf(part) else { continue };
            broken |= file.syntax_error.is_some();
            files.push((&part.source, file));
            for block in &file.blocks {
                match (block.kind.as_str(), block.labels.as_slice()) {
                    ("variable", [name]) => {
                        scope.variables.insert(
                            name.clone(),
                            (block.body.attr("default").map(|a| &a.value), block.head),
                        );
                    }
                    ("locals", []) => {
                        for a in &block.body.attrs {
                            scope.locals.insert(a.name.clone(), &a.value);
                        }
                    }
                    ("resource", [kind, name]) => resources.push(Res {
                        kind,
                        name,
                        block,
                        source: &part.source,
                    }),
                    _ => {}
                }
            }
        }
        scope.values = super::tfvars::values(&files);
        Model {
            scope,
            resources,
            dir,
            broken,
        }
    }

    fn of_kind<'m>(&'m self, kind: &'m str) -> impl Iterator<Item = &'m Res<'a>> + 'm {
        self.resources.iter().filter(move |r| r.kind == kind)
    }

    fn value(&self, res: &Res, name: &str) -> Option<Value> {
        res.attr(name).map(|a| self.scope.eval(&a.value))
    }

    fn text(&self, body: &Body, name: &str) -> Option<Result<String, Unknown>> {
        let a = body.attr(name)?;
        Some(match self.scope.eval(&a.value) {
            Value::Unknown(u) => Err(u),
            v => v.as_text().ok_or(Unknown {
                why: format!("`{name}` is not a string"),
                span: a.value.span,
            }),
        })
    }

    /// The resource a value refers to (`aws_security_group.ftp.id`), or one of
    /// `kind` whose `name` attribute is the value's text.
    fn resolve(&self, v: &Value, kind: &str) -> Option<Res<'a>> {
        match v {
            Value::Resource { kind: k, name, .. } if k == kind => {
                self.of_kind(kind).find(|r| r.name == name).copied()
            }
            Value::Str(s) => self
                .of_kind(kind)
                .find(|r| self.value(r, "name").and_then(|n| n.as_text()).as_deref() == Some(s))
                .copied(),
            _ => None,
        }
    }
}

/// An instance and what guards it.
pub struct Instance<'a> {
    pub res: Res<'a>,
    pub provider: Provider,
    /// The filters a client's connection crosses, outermost first.
    pub filters: Vec<Filter>,
    pub script: Option<BootScriptSource>,
}

/// Where an instance's first-boot script comes from.
pub enum BootScriptSource {
    Body(BootBody, Span),
    /// Not known (a data source, a variable without a default), or not a script
    /// cloud-init runs (`#cloud-config`).
    Unknown(Unknown),
}

impl Instance<'_> {
    pub fn firewalls(&self) -> (Option<Firewall>, Option<Firewall>) {
        let v4 = Firewall::combine(
            self.filters
                .iter()
                .map(|f| f.firewall(crate::addrset::Family::V4))
                .collect(),
        );
        let v6 = if self.filters.iter().any(Filter::names_ipv6) {
            Firewall::combine(
                self.filters
                    .iter()
                    .map(|f| f.firewall(crate::addrset::Family::V6))
                    .collect(),
            )
        } else {
            None
        };
        (v4, v6)
    }

    /// Every filter that cannot be known.
    pub fn unknown_filters(&self) -> impl Iterator<Item = (&Filter, &Unknown)> {
        self.filters
            .iter()
            .filter_map(|f| f.unknown.as_ref().map(|u| (f, u)))
    }
}

/// The module's instances, each with its filters and boot script.
pub fn instances<'a>(m: &Model<'a>) -> Vec<Instance<'a>> {
    let mut out = Vec::new();
    for r in &m.resources {
        let (provider, filters, script_attrs): (Provider, Vec<Filter>, &[&str]) = match r.kind {
            "aws_instance" => (
                Provider::Aws,
                vec![aws_filter_of(m, r)],
                &["user_data", "user_data_base64"],
            ),
            "azurerm_linux_virtual_machine" | "azurerm_windows_virtual_machine" => (
                Provider::Azure,
                azure_filters_of(m, r),
                &["custom_data", "user_data"],
            ),
            "google_compute_instance" => (
                Provider::Gcp,
                vec![gcp_filter_of(m, r)],
                &["metadata_startup_script"],
            ),
            _ => continue,
        };
        let mut script = script_attrs
            .iter()
            .find_map(|a| r.attr(a))
            .map(|a| boot_script(m, &a.value, r.source));
        if script.is_none() && provider == Provider::Gcp {
            if let Some(md) = r.attr("metadata") {
                if let ExprKind::Object(entries) = &md.value.kind {
                    script = entries
                        .iter()
                        .find(|(k, _)| k == "startup-script")
                        .map(|(_, v)| boot_script(m, v, r.source));
                }
            }
        }
        out.push(Instance {
            res: *r,
            provider,
            filters,
            script,
        });
    }
    out
}

/// The instances that serve FTP: those running a boot script pasvlint reads,
/// those named for FTP, and all of them when a filter of the module opens port 21.
pub fn ftp_instances<'m, 'a>(all: &'m [Instance<'a>]) -> impl Iterator<Item = &'m Instance<'a>> {
    let module_serves_ftp = all.iter().any(|i| i.filters.iter().any(opens_control_port));
    all.iter().filter(move |i| {
        matches!(i.script, Some(BootScriptSource::Body(..)))
            || i.res.name.to_ascii_lowercase().contains("ftp")
            || module_serves_ftp
    })
}

/// The module's facts: the instances with a boot script become machines of
/// their own (read as shell scripts, see `FileFacts::boot`); the filter in front
/// of the module's other FTP instance (or, with no instance, every filter of the
/// module) guards the servers configured beside the `.tf` files.
pub fn facts(bundle: &Bundle) -> FileFacts {
    let m = Model::of(bundle);
    if m.broken {
        return FileFacts::default();
    }
    let all = instances(&m);
    let mut out = FileFacts::default();
    let mut plain: Vec<&Instance> = Vec::new();
    for inst in &all {
        match &inst.script {
            Some(BootScriptSource::Body(body, span)) => {
                let (firewall, firewall_v6) = inst.firewalls();
                out.boot.push(BootScript {
                    name: format!(
                        "{} → {}",
                        crate::source::display_path(&inst.res.source.path),
                        inst.res.address()
                    ),
                    body: body.clone(),
                    span: *span,
                    firewall,
                    firewall_v6,
                });
            }
            _ => plain.push(inst),
        }
    }
    // Only a filter in front of FTP guards the configs beside the module: a web
    // server's group is no firewall of theirs.
    let chosen = plain
        .iter()
        .find(|i| i.res.name.to_ascii_lowercase().contains("ftp"))
        .or(plain
            .iter()
            .find(|i| i.filters.iter().any(opens_control_port)));
    let (firewall, firewall_v6) = match chosen {
        Some(inst) => inst.firewalls(),
        None if all.is_empty() => module_filters(&m),
        None => (None, None),
    };
    out.firewall = firewall;
    out.firewall_v6 = firewall_v6;
    out
}

/// A filter with a rule that names port 21: it is meant for FTP.
pub fn opens_control_port(f: &Filter) -> bool {
    f.rules.iter().any(|r| {
        r.ports
            .as_ref()
            .is_ok_and(|p| p.contains(21) && p.count() < 65535)
    })
}

/// With no instance in the module, its filters as if one instance had them all,
/// when one of them is meant for FTP.
fn module_filters(m: &Model) -> (Option<Firewall>, Option<Firewall>) {
    let mut filters = Vec::new();
    let sgs: Vec<Res> = m.of_kind("aws_security_group").copied().collect();
    if !sgs.is_empty() {
        filters.push(aws_union(m, &sgs, None));
    }
    if let Some(nsg) = m.of_kind("azurerm_network_security_group").next() {
        filters.push(azure_filter(m, nsg));
    }
    let fws: Vec<Res> = m.of_kind("google_compute_firewall").copied().collect();
    if !fws.is_empty() {
        filters.push(gcp_filter(m, &fws, fws[0], &Value::List(Vec::new()), true));
    }
    let inst = Instance {
        res: match m.resources.first() {
            Some(r) => *r,
            None => return (None, None),
        },
        provider: Provider::Aws,
        filters,
        script: None,
    };
    if !inst.filters.iter().any(opens_control_port) {
        return (None, None);
    }
    inst.firewalls()
}

// ---------------------------------------------------------------- boot scripts

fn boot_script(m: &Model, e: &Expr, source: &SourceFile) -> BootScriptSource {
    boot_script_at(m, e, source, 0)
}

fn boot_script_at(m: &Model, e: &Expr, source: &SourceFile, depth: usize) -> BootScriptSource {
    let unknown = |why: String| BootScriptSource::Unknown(Unknown { why, span: e.span });
    if depth > 8 {
        return unknown("the script is built too indirectly".into());
    }
    match &e.kind {
        ExprKind::Call(name, args) if matches!(name.as_str(), "base64encode" | "base64gzip") => {
            match args.first() {
                Some(inner) => boot_script_at(m, inner, source, depth + 1),
                None => unknown(format!("{name}() without an argument")),
            }
        }
        ExprKind::Call(name, args) if name == "file" || name == "templatefile" => {
            let Some(path) = args.first() else {
                return unknown(format!("{name}() without a path"));
            };
            let path = match m.scope.eval(path) {
                Value::Str(s) => s,
                Value::Unknown(u) => return BootScriptSource::Unknown(u),
                _ => return unknown(format!("the path given to {name}() is not a string")),
            };
            let template = if name == "templatefile" {
                let vars = match args.get(1).map(|a| m.scope.eval(a)) {
                    Some(Value::Map(entries)) => entries,
                    Some(Value::Unknown(u)) => return BootScriptSource::Unknown(u),
                    _ => Vec::new(),
                };
                Some(
                    vars.into_iter()
                        .map(|(k, v)| {
                            let text = v.as_text();
                            (k, text)
                        })
                        .collect::<Vec<_>>(),
                )
            } else {
                None
            };
            BootScriptSource::Body(
                BootBody::File {
                    path: module_path(&m.dir, &m.scope.module_dir, &path),
                    template: template.map(|vars| {
                        vars.into_iter()
                            .map(|(k, v)| (k, v, args.get(1).map_or(e.span, |a| a.span)))
                            .collect()
                    }),
                },
                e.span,
            )
        }
        ExprKind::Template(parts) => {
            let text = super::template::render(parts, source, &|x| m.scope.eval(x).as_text());
            if !text.text.starts_with("#!") {
                return unknown(
                    "the user data is not a script cloud-init runs (it does not start with `#!`)"
                        .into(),
                );
            }
            BootScriptSource::Body(BootBody::Text(text), e.span)
        }
        ExprKind::Ref(path) if path.len() >= 2 && path[0] == "local" => {
            match m.scope.locals.get(&path[1]) {
                Some(x) if path.len() == 2 => {
                    boot_script_at(m, x, source_of(m, x).unwrap_or(source), depth + 1)
                }
                _ => unknown(format!("local.{} is not known in the module", path[1])),
            }
        }
        _ => match m.scope.eval(e) {
            Value::Unknown(u) => BootScriptSource::Unknown(u),
            _ => unknown("the script is not written in the module".into()),
        },
    }
}

/// The file of the module an expression is written in.
fn source_of<'a>(m: &Model<'a>, e: &Expr) -> Option<&'a SourceFile> {
    m.resources
        .iter()
        .map(|r| r.source)
        .find(|s| s.id == e.span.file)
}

/// A path as Terraform resolves it for `file()`: relative to the root module's
/// folder; `${path.module}/x` is already under it.
fn module_path(dir: &Path, dir_text: &str, path: &str) -> PathBuf {
    let p = Path::new(path);
    if p.is_absolute() || (!dir_text.is_empty() && path.starts_with(dir_text)) {
        p.to_path_buf()
    } else {
        dir.join(p.strip_prefix("/").unwrap_or(p))
    }
}

// ---------------------------------------------------------------- AWS

fn aws_filter_of(m: &Model, inst: &Res) -> Filter {
    let mut sgs = Vec::new();
    let mut unknown: Option<Unknown> = None;
    let mut named = false;
    // The groups of the instance, and those of the network interfaces it attaches.
    let mut named_by: Vec<(&Attr, &str, &str)> = Vec::new();
    for (attr, by) in [
        ("vpc_security_group_ids", "id"),
        ("security_groups", "name"),
    ] {
        named_by.extend(inst.attr(attr).map(|a| (a, attr, by)));
    }
    for nic in inst.block.body.blocks("network_interface") {
        let Some(a) = nic.body.attr("network_interface_id") else {
            continue;
        };
        match m.resolve(&m.scope.eval(&a.value), "aws_network_interface") {
            Some(r) => named_by.extend(
                r.block
                    .body
                    .attr("security_groups")
                    .map(|a| (a, "security_groups", "id")),
            ),
            None => {
                named = true;
                unknown = unknown.or(Some(Unknown {
                    why: "the network interface is not defined in the module".into(),
                    span: a.value.span,
                }));
            }
        }
    }
    for (a, attr, by) in named_by {
        named = true;
        match m.scope.eval(&a.value) {
            Value::List(items) => {
                for v in items {
                    match (&v, m.resolve(&v, "aws_security_group")) {
                        (_, Some(sg)) => sgs.push(sg),
                        (Value::Unknown(u), _) => unknown = unknown.or(Some(u.clone())),
                        (v, None) => {
                            unknown = unknown.or(Some(Unknown {
                                why: format!(
                                    "the security group {} is not defined in the repository",
                                    v.as_text()
                                        .unwrap_or_else(|| format!("named by `{attr}` ({by})"))
                                ),
                                span: a.value.span,
                            }));
                        }
                    }
                }
            }
            Value::Unknown(u) => unknown = unknown.or(Some(u)),
            _ => {}
        }
    }
    if !named {
        unknown = Some(Unknown {
            why: format!(
                "{} names no security group, so it gets its VPC's default group, which is not in the repository",
                inst.address()
            ),
            span: inst.block.head,
        });
    }
    let mut f = aws_union(m, &sgs, Some(inst));
    if unknown.is_some() {
        f.unknown = unknown;
    }
    f
}

/// The security groups' rules as one filter (AWS adds up every group of an instance).
fn aws_union(m: &Model, sgs: &[Res], inst: Option<&Res>) -> Filter {
    let anchor = sgs
        .first()
        .or(inst)
        .map_or_else(|| Span::new(FileId(0), 0, 0), |r| r.block.head);
    let file = sgs.first().or(inst).map_or(FileId(0), |r| r.source.id);
    let mut rules = Vec::new();
    let mut names = Vec::new();
    let mut files = Vec::new();
    for sg in sgs {
        names.push(sg.address());
        files.push(sg.source.id);
        for b in &sg.block.body.blocks {
            match b.kind.as_str() {
                "ingress" => rules.push(aws_rule(m, &b.body, b.head, "ingress rule")),
                "dynamic" if b.labels.first().is_some_and(|l| l == "ingress") => {
                    for (each, content) in expand(m, b) {
                        match each {
                            Ok(em) => rules.push(aws_rule(
                                &em,
                                &content.body,
                                content.head,
                                "ingress rule",
                            )),
                            Err(u) => rules.push(unknown_rule(u.span, &u.why)),
                        }
                    }
                }
                _ => {}
            }
        }
        if let Some(a) = sg.attr("ingress") {
            match &a.value.kind {
                ExprKind::Array(items) => {
                    for item in items {
                        if let ExprKind::Object(entries) = &item.kind {
                            let body = object_body(entries);
                            rules.push(aws_rule(m, &body, item.span, "ingress rule"));
                        } else {
                            rules.push(unknown_rule(
                                item.span,
                                "an ingress entry that is not an object",
                            ));
                        }
                    }
                }
                _ => rules.push(unknown_rule(a.span, "`ingress` is not a literal list")),
            }
        }
        // Rules of their own that attach to this group.
        for r in &m.resources {
            let attach = |name: &str| {
                r.attr(name)
                    .map(|a| m.scope.eval(&a.value))
                    .and_then(|v| m.resolve(&v, "aws_security_group"))
                    .is_some_and(|x| x.name == sg.name)
            };
            match r.kind {
                "aws_security_group_rule" if attach("security_group_id") => {
                    let ty = m.text(&r.block.body, "type");
                    match ty {
                        Some(Ok(t)) if t == "ingress" => {
                            files.push(r.source.id);
                            rules.push(aws_rule(m, &r.block.body, r.block.head, &r.address()));
                        }
                        Some(Err(u)) => rules.push(unknown_rule(u.span, &u.why)),
                        _ => {}
                    }
                }
                "aws_vpc_security_group_ingress_rule" if attach("security_group_id") => {
                    files.push(r.source.id);
                    rules.push(aws_vpc_rule(m, r));
                }
                _ => {}
            }
        }
    }
    Filter {
        provider: Provider::Aws,
        names,
        span: anchor,
        file,
        rules,
        unknown: None,
        files,
    }
}

/// A `dynamic` block expanded: for each element of a known `for_each`, the
/// model with the iterator bound and the `content` block; one `Err` when the
/// collection cannot be known.
fn expand<'m, 'a>(m: &'m Model<'a>, b: &'m Block) -> Vec<(Result<Model<'a>, Unknown>, &'m Block)> {
    let Some(content) = b.body.blocks("content").next() else {
        return Vec::new();
    };
    let name = b
        .body
        .attr("iterator")
        .and_then(|a| match &a.value.kind {
            ExprKind::Ref(p) if p.len() == 1 => Some(p[0].clone()),
            _ => None,
        })
        .or_else(|| b.labels.first().cloned())
        .unwrap_or_default();
    let items: Vec<(Value, Value)> =
        match b.body.attr("for_each").map(|a| (m.scope.eval(&a.value), a)) {
            Some((Value::List(items), _)) => items
                .into_iter()
                .enumerate()
                .map(|(i, v)| (Value::Num(i as f64), v))
                .collect(),
            Some((Value::Map(entries), _)) => entries
                .into_iter()
                .map(|(k, v)| (Value::Str(k), v))
                .collect(),
            Some((Value::Unknown(u), _)) => return vec![(Err(u), content)],
            Some((_, a)) => {
                return vec![(
                    Err(Unknown {
                        why: "`for_each` is not a list or a map".into(),
                        span: a.value.span,
                    }),
                    content,
                )];
            }
            None => {
                return vec![(
                    Err(Unknown {
                        why: "a `dynamic` block without `for_each`".into(),
                        span: b.head,
                    }),
                    content,
                )];
            }
        };
    items
        .into_iter()
        .take(1024)
        .map(|(key, value)| {
            let mut scope = m.scope.clone();
            scope.iterators.push((name.clone(), key, value));
            let em = Model {
                scope,
                resources: m.resources.clone(),
                dir: m.dir.clone(),
                broken: m.broken,
            };
            (Ok(em), content)
        })
        .collect()
}

fn object_body(entries: &[(String, Expr)]) -> Body {
    Body {
        attrs: entries
            .iter()
            .map(|(k, v)| Attr {
                name: k.clone(),
                span: v.span.to(v.span),
                value: v.clone(),
            })
            .collect(),
        blocks: Vec::new(),
    }
}

fn unknown_rule(span: Span, why: &str) -> CloudRule {
    let u = Unknown {
        why: why.to_owned(),
        span,
    };
    CloudRule {
        action: Action::Allow,
        priority: 0,
        ports: Err(u.clone()),
        tcp: Err(u.clone()),
        v4: Sources::Unknown(u.clone()),
        v6: Sources::Unknown(u),
        span,
        label: "rule".into(),
        text: None,
    }
}

/// The span of the port attributes of a rule (from `from_port` to `to_port`), or `or`.
fn ports_span(body: &Body, names: &[&str], or: Span) -> Span {
    let spans: Vec<Span> = names
        .iter()
        .filter_map(|n| body.attr(n))
        .map(|a| a.span)
        .collect();
    joined(&spans, or)
}

/// Where a rule's ports are decided: the values a `.tfvars` file gives its
/// port attributes when it gives them all, else the attributes themselves.
fn ports_set_at(m: &Model, body: &Body, names: &[&str], or: Span) -> Span {
    let attrs: Vec<&Attr> = names.iter().filter_map(|n| body.attr(n)).collect();
    let set: Option<Vec<Span>> = attrs
        .iter()
        .map(|a| m.scope.set_in_vars_file(&a.value))
        .collect();
    match set {
        Some(spans) if !spans.is_empty() => joined(&spans, ports_span(body, names, or)),
        _ => ports_span(body, names, or),
    }
}

/// The spans from the first to the last, when they are in one file; else `or`.
fn joined(spans: &[Span], or: Span) -> Span {
    match (spans.iter().min(), spans.iter().max()) {
        (Some(a), Some(b)) if a.file == b.file => a.to(*b),
        _ => or,
    }
}

/// `protocol`: "tcp"/"6" is TCP, "-1"/"all" every protocol (and every port).
fn aws_protocol(m: &Model, body: &Body, key: &str) -> (Result<bool, Unknown>, bool) {
    match m.text(body, key) {
        Some(Ok(p)) => {
            let p = p.to_ascii_lowercase();
            match p.as_str() {
                "tcp" | "6" => (Ok(true), false),
                "-1" | "all" => (Ok(true), true),
                _ => (Ok(false), false),
            }
        }
        Some(Err(u)) => (Err(u), false),
        None => (Ok(false), false),
    }
}

fn aws_ports(m: &Model, body: &Body, all: bool) -> Result<PortSet, Unknown> {
    if all {
        return Ok(PortSet::all());
    }
    let num = |k: &str| -> Result<Option<i64>, Unknown> {
        let Some(a) = body.attr(k) else {
            return Ok(None);
        };
        match m.scope.eval(&a.value) {
            Value::Unknown(u) => Err(u),
            v => v.as_int().map(Some).ok_or(Unknown {
                why: format!("`{k}` is not a number"),
                span: a.value.span,
            }),
        }
    };
    let (from, to) = (num("from_port")?, num("to_port")?);
    match (from, to) {
        (Some(f), Some(t)) if (0..=65535).contains(&f) && (0..=65535).contains(&t) && f <= t => {
            Ok(PortSet::range(f as u16, t as u16))
        }
        (None, None) => Ok(PortSet::all()),
        _ => Err(Unknown {
            why: "the port range is not one AWS accepts".into(),
            span: ports_span(body, &["from_port", "to_port"], Span::new(FileId(0), 0, 0)),
        }),
    }
}

fn string_list(m: &Model, body: &Body, key: &str) -> Result<Vec<String>, Unknown> {
    let Some(a) = body.attr(key) else {
        return Ok(Vec::new());
    };
    match m.scope.eval(&a.value) {
        Value::List(items) => items
            .iter()
            .map(|v| match v {
                Value::Unknown(u) => Err(u.clone()),
                v => v.as_text().ok_or(Unknown {
                    why: format!("an entry of `{key}` is not a string"),
                    span: a.value.span,
                }),
            })
            .collect(),
        Value::Str(s) => Ok(vec![s]),
        Value::Unknown(u) => Err(u),
        _ => Err(Unknown {
            why: format!("`{key}` is not a list"),
            span: a.value.span,
        }),
    }
}

fn aws_rule(m: &Model, body: &Body, head: Span, label: &str) -> CloudRule {
    let (tcp, all) = aws_protocol(m, body, "protocol");
    let span = ports_set_at(m, body, &["from_port", "to_port"], head);
    let mut v4 = match string_list(m, body, "cidr_blocks") {
        Ok(list) => cidr_sources(&list).0,
        Err(u) => Sources::Unknown(u),
    };
    let mut v6 = match string_list(m, body, "ipv6_cidr_blocks") {
        Ok(list) => cidr_sources(&list).1,
        Err(u) => Sources::Unknown(u),
    };
    let other = [
        "security_groups",
        "source_security_group_id",
        "prefix_list_ids",
        "self",
    ]
    .iter()
    .find(|k| {
        body.attr(k).is_some_and(|a| match m.scope.eval(&a.value) {
            Value::Bool(b) => b,
            Value::List(l) => !l.is_empty(),
            Value::Null => false,
            _ => true,
        })
    });
    if let Some(k) = other {
        let some = Sources::Some(format!("the members of `{k}`"));
        if v4 == Sources::None {
            v4 = some.clone();
        }
        if v6 == Sources::None {
            v6 = some;
        }
    }
    CloudRule {
        action: Action::Allow,
        priority: 0,
        ports: aws_ports(m, body, all),
        tcp,
        v4,
        v6,
        span,
        label: label.to_owned(),
        text: from_to_text(body, span, all),
    }
}

/// `from_port` and `to_port` written as number literals: where a fix rewrites
/// them. Not for a rule of every protocol, whose ports are all of them.
fn from_to_text(body: &Body, rule: Span, all: bool) -> Option<PortText> {
    if all {
        return None;
    }
    let literal = |k: &str| {
        let a = body.attr(k)?;
        matches!(a.value.kind, ExprKind::Number(_)).then_some(a.value.span)
    };
    Some(PortText {
        rule,
        syntax: PortSyntax::FromTo,
        value: literal("from_port")?,
        second: Some(literal("to_port")?),
        line: None,
    })
}

/// `destination_port_range = "5000-5100"` written as one literal string (and no
/// `destination_port_ranges`): where a fix rewrites it.
fn azure_range_text(body: &Body, rule: Span) -> Option<PortText> {
    if body.attr("destination_port_ranges").is_some() {
        return None;
    }
    let a = body.attr("destination_port_range")?;
    let ExprKind::Template(parts) = &a.value.kind else {
        return None;
    };
    let [Part::Lit { text, span }] = parts.as_slice() else {
        return None;
    };
    (text != "*" && port_range(text).is_some()).then_some(PortText {
        rule,
        syntax: PortSyntax::Dash,
        value: *span,
        second: None,
        line: None,
    })
}

/// `ports = ["21", "5000-5100"]` written as a list of literal port strings with
/// nothing but commas and blanks between them: where a fix rewrites the list, laid
/// out as it is (on one line, or one element a line at the first one's indent).
fn gcp_ports_text(source: &SourceFile, a: &Attr) -> Option<PortText> {
    let ExprKind::Array(items) = &a.value.kind else {
        return None;
    };
    for item in items {
        let ExprKind::Template(parts) = &item.kind else {
            return None;
        };
        let [Part::Lit { text, .. }] = parts.as_slice() else {
            return None;
        };
        let quoted = source.text.get(item.span.range())?;
        let plain = quoted.strip_prefix('"')?.strip_suffix('"')? == text;
        if !plain || text.trim() != text || text == "*" || port_range(text).is_none() {
            return None;
        }
    }
    let (first, last) = (items.first()?, items.last()?);
    let between = |from: usize, to: usize| source.text.get(from..to);
    let mut gaps = Vec::new();
    for pair in items.windows(2) {
        let gap = between(pair[0].span.range().end, pair[1].span.range().start)?;
        let blank = gap.trim_matches([' ', '\t', '\r', '\n']);
        if blank != "," {
            return None;
        }
        gaps.push(gap);
    }
    // The opening bracket to the first element shows the layout of a one-element list.
    let lead = between(a.value.span.range().start + 1, first.span.range().start)?;
    let sample = gaps.first().copied().unwrap_or(lead);
    let (indent, crlf) = match sample.rsplit_once('\n') {
        None => (None, false),
        Some((before, spaces)) => {
            if !spaces.bytes().all(|b| b == b' ') || gaps.iter().any(|g| !g.ends_with(spaces)) {
                return None;
            }
            (
                Some(u16::try_from(spaces.len()).ok()?),
                before.ends_with('\r'),
            )
        }
    };
    if indent.is_none() && gaps.iter().any(|g| g.contains('\n')) {
        return None;
    }
    Some(PortText {
        rule: a.span,
        syntax: PortSyntax::HclList { indent, crlf },
        value: Span::new(
            first.span.file,
            first.span.range().start,
            last.span.range().end,
        ),
        second: None,
        line: None,
    })
}

fn aws_vpc_rule(m: &Model, r: &Res) -> CloudRule {
    let body = &r.block.body;
    let (tcp, all) = aws_protocol(m, body, "ip_protocol");
    let span = ports_set_at(m, body, &["from_port", "to_port"], r.block.head);
    let one = |k: &str, fam: usize| match m.text(body, k) {
        Some(Ok(c)) => {
            let (a, b) = cidr_sources(&[c]);
            if fam == 4 { a } else { b }
        }
        Some(Err(u)) => Sources::Unknown(u),
        None => Sources::None,
    };
    let (mut v4, mut v6) = (one("cidr_ipv4", 4), one("cidr_ipv6", 6));
    if v4 == Sources::None
        && v6 == Sources::None
        && ["referenced_security_group_id", "prefix_list_id"]
            .iter()
            .any(|k| body.attr(k).is_some())
    {
        v4 = Sources::Some("another security group's members".into());
        v6 = v4.clone();
    }
    CloudRule {
        action: Action::Allow,
        priority: 0,
        ports: aws_ports(m, body, all),
        tcp,
        v4,
        v6,
        span,
        label: r.address(),
        text: from_to_text(body, span, all),
    }
}

// ---------------------------------------------------------------- Azure

fn azure_filters_of(m: &Model, vm: &Res) -> Vec<Filter> {
    let mut subnet_nsgs = Vec::new();
    let mut nic_nsgs = Vec::new();
    let mut unknown: Option<Unknown> = None;
    let nics: Vec<Res> = match m.value(vm, "network_interface_ids") {
        Some(Value::List(items)) => items
            .iter()
            .filter_map(|v| {
                if let Value::Unknown(u) = v {
                    unknown = unknown.clone().or(Some(u.clone()));
                }
                m.resolve(v, "azurerm_network_interface")
            })
            .collect(),
        Some(Value::Unknown(u)) => {
            unknown = Some(u);
            Vec::new()
        }
        _ => Vec::new(),
    };
    for nic in &nics {
        for assoc in m.of_kind("azurerm_network_interface_security_group_association") {
            let nic_ref = m.value(assoc, "network_interface_id");
            if nic_ref
                .as_ref()
                .and_then(|v| m.resolve(v, "azurerm_network_interface"))
                .is_some_and(|n| n.name == nic.name)
            {
                if let Some(v) = m.value(assoc, "network_security_group_id") {
                    match m.resolve(&v, "azurerm_network_security_group") {
                        Some(nsg) => nic_nsgs.push(nsg),
                        None => {
                            let why = match v {
                                Value::Unknown(u) => u.why,
                                _ => "the network security group is not defined in the repository"
                                    .into(),
                            };
                            unknown = unknown.or(Some(Unknown {
                                why,
                                span: assoc.block.head,
                            }));
                        }
                    }
                }
            }
        }
        for ipc in nic.block.body.blocks("ip_configuration") {
            let Some(subnet) = ipc
                .body
                .attr("subnet_id")
                .map(|a| m.scope.eval(&a.value))
                .and_then(|v| m.resolve(&v, "azurerm_subnet"))
            else {
                continue;
            };
            for assoc in m.of_kind("azurerm_subnet_network_security_group_association") {
                let hit = m
                    .value(assoc, "subnet_id")
                    .and_then(|v| m.resolve(&v, "azurerm_subnet"))
                    .is_some_and(|s| s.name == subnet.name);
                if hit {
                    if let Some(nsg) = m
                        .value(assoc, "network_security_group_id")
                        .and_then(|v| m.resolve(&v, "azurerm_network_security_group"))
                    {
                        subnet_nsgs.push(nsg);
                    }
                }
            }
        }
    }
    let mut out: Vec<Filter> = subnet_nsgs
        .iter()
        .chain(nic_nsgs.iter())
        .map(|nsg| azure_filter(m, nsg))
        .collect();
    if let Some(u) = unknown {
        out.push(Filter {
            provider: Provider::Azure,
            names: Vec::new(),
            span: vm.block.head,
            file: vm.source.id,
            rules: Vec::new(),
            unknown: Some(u),
            files: Vec::new(),
        });
    }
    out
}

fn azure_filter(m: &Model, nsg: &Res) -> Filter {
    let mut rules = Vec::new();
    let mut files = Vec::new();
    for b in nsg.block.body.blocks("security_rule") {
        rules.extend(azure_rule(m, &b.body, b.head));
    }
    for b in nsg.block.body.blocks("dynamic") {
        if b.labels.first().is_some_and(|l| l == "security_rule") {
            for (each, content) in expand(m, b) {
                match each {
                    Ok(em) => rules.extend(azure_rule(&em, &content.body, content.head)),
                    Err(u) => rules.push(unknown_rule(u.span, &u.why)),
                }
            }
        }
    }
    let nsg_name = m.value(nsg, "name").and_then(|v| v.as_text());
    for r in m.of_kind("azurerm_network_security_rule") {
        let attached = match m.value(r, "network_security_group_name") {
            Some(Value::Resource { kind, name, .. }) => {
                kind == "azurerm_network_security_group" && name == nsg.name
            }
            Some(v) => v.as_text().is_some() && v.as_text() == nsg_name,
            None => false,
        };
        if attached {
            files.push(r.source.id);
            rules.extend(azure_rule(m, &r.block.body, r.block.head));
        }
    }
    Filter {
        provider: Provider::Azure,
        names: vec![nsg.address()],
        span: nsg.block.head,
        file: nsg.source.id,
        rules,
        unknown: None,
        files,
    }
}

fn azure_rule(m: &Model, body: &Body, head: Span) -> Option<CloudRule> {
    let name = m
        .text(body, "name")
        .and_then(Result::ok)
        .unwrap_or_default();
    let label = format!("security_rule \"{name}\"");
    match m.text(body, "direction") {
        Some(Ok(d)) if !d.eq_ignore_ascii_case("inbound") => return None,
        Some(Err(u)) => return Some(unknown_rule(u.span, &u.why)),
        _ => {}
    }
    let action = match m.text(body, "access") {
        Some(Ok(a)) if a.eq_ignore_ascii_case("deny") => Action::Deny,
        Some(Ok(_)) => Action::Allow,
        Some(Err(u)) => return Some(unknown_rule(u.span, &u.why)),
        None => Action::Allow,
    };
    let priority = match body.attr("priority").map(|a| m.scope.eval(&a.value)) {
        Some(v) => match v.as_int() {
            Some(p) => p,
            None => return Some(unknown_rule(head, "the rule's priority is not known")),
        },
        None => return Some(unknown_rule(head, "the rule has no priority")),
    };
    let tcp = match m.text(body, "protocol") {
        Some(Ok(p)) => Ok(p.eq_ignore_ascii_case("tcp") || p == "*"),
        Some(Err(u)) => Err(u),
        None => Ok(false),
    };
    let ports = azure_ports(m, body, head);
    let span = ports_set_at(
        m,
        body,
        &["destination_port_range", "destination_port_ranges"],
        head,
    );
    let (v4, v6) = azure_sources(m, body);
    Some(CloudRule {
        action,
        priority,
        ports,
        tcp,
        v4,
        v6,
        span,
        label,
        text: azure_range_text(body, span),
    })
}

fn azure_ports(m: &Model, body: &Body, head: Span) -> Result<PortSet, Unknown> {
    let mut list = match m.text(body, "destination_port_range") {
        Some(Ok(s)) => vec![s],
        Some(Err(u)) => return Err(u),
        None => Vec::new(),
    };
    list.extend(string_list(m, body, "destination_port_ranges")?);
    let mut set = PortSet::empty();
    for p in &list {
        match port_range(p) {
            Some(s) => set = set.union(&s),
            None => {
                return Err(Unknown {
                    why: format!("the port range \"{p}\" is not one Azure accepts"),
                    span: ports_span(
                        body,
                        &["destination_port_range", "destination_port_ranges"],
                        head,
                    ),
                });
            }
        }
    }
    Ok(set)
}

fn azure_sources(m: &Model, body: &Body) -> (Sources, Sources) {
    let mut list = match m.text(body, "source_address_prefix") {
        Some(Ok(s)) => vec![s],
        Some(Err(u)) => return (Sources::Unknown(u.clone()), Sources::Unknown(u)),
        None => Vec::new(),
    };
    match string_list(m, body, "source_address_prefixes") {
        Ok(more) => list.extend(more),
        Err(u) => return (Sources::Unknown(u.clone()), Sources::Unknown(u)),
    }
    if body.attr("source_application_security_group_ids").is_some() && list.is_empty() {
        let s = Sources::Some("an application security group's members".into());
        return (s.clone(), s);
    }
    let everyone = |p: &str| matches!(p.to_ascii_lowercase().as_str(), "*" | "internet" | "any");
    if list.iter().any(|p| everyone(p)) {
        return (Sources::All, Sources::All);
    }
    let (cidrs, tags): (Vec<String>, Vec<String>) = list.into_iter().partition(|p| {
        p.chars()
            .next()
            .is_some_and(|c| c.is_ascii_hexdigit() || c == ':')
    });
    let (v4, v6) = cidr_sources(&cidrs);
    if !tags.is_empty() && v4 == Sources::None && v6 == Sources::None {
        let s = Sources::Some(format!("the service tag {}", tags.join(", ")));
        return (s.clone(), s);
    }
    (v4, v6)
}

// ---------------------------------------------------------------- GCP

fn gcp_filter_of(m: &Model, inst: &Res) -> Filter {
    let tags = m.value(inst, "tags").unwrap_or(Value::List(Vec::new()));
    let network = inst
        .block
        .body
        .blocks("network_interface")
        .next()
        .and_then(|n| n.body.attr("network"))
        .map(|a| m.scope.eval(&a.value));
    let fws: Vec<Res> = m
        .of_kind("google_compute_firewall")
        .filter(|fw| same_network(m, fw, network.as_ref()))
        .copied()
        .collect();
    // The implied deny of all ingress is the VPC's, in front of the instance.
    gcp_filter(m, &fws, *inst, &tags, false)
}

/// A firewall of another network does not filter the instance; unknown networks match.
fn same_network(m: &Model, fw: &Res, instance: Option<&Value>) -> bool {
    let key = |v: &Value| match v {
        Value::Resource { kind, name, .. } => Some(format!("{kind}.{name}")),
        Value::Str(s) => Some(s.rsplit('/').next().unwrap_or(s).to_owned()),
        _ => None,
    };
    let fw_net = m.value(fw, "network");
    match (fw_net.as_ref().and_then(key), instance.and_then(key)) {
        (Some(a), Some(b)) => {
            a == b || {
                // `google_compute_network.x` against its name "x-net".
                let named = |k: &str| {
                    k.strip_prefix("google_compute_network.").and_then(|n| {
                        m.of_kind("google_compute_network")
                            .find(|r| r.name == n)
                            .and_then(|r| m.value(r, "name"))
                            .and_then(|v| v.as_text())
                    })
                };
                named(&a).as_deref() == Some(b.as_str()) || named(&b).as_deref() == Some(a.as_str())
            }
        }
        _ => true,
    }
}

fn gcp_filter(m: &Model, fws: &[Res], anchor: Res, tags: &Value, any_target: bool) -> Filter {
    let mut rules = Vec::new();
    let mut names = Vec::new();
    let mut files = Vec::new();
    for fw in fws {
        let body = &fw.block.body;
        match m.text(body, "direction") {
            Some(Ok(d)) if !d.eq_ignore_ascii_case("ingress") => continue,
            _ => {}
        }
        if m.value(fw, "disabled").and_then(|v| v.as_bool()) == Some(true) {
            continue;
        }
        // Which instances it applies to.
        let mut targets_some: Option<String> = None;
        match string_list(m, body, "target_tags") {
            Ok(t) if t.is_empty() || any_target => {}
            Ok(t) => match tags {
                Value::List(have) => {
                    let have: Vec<Option<String>> = have.iter().map(Value::as_text).collect();
                    if have.iter().any(Option::is_none) {
                        targets_some = Some("the instance's tags are not known".into());
                    } else if !t.iter().any(|x| have.iter().flatten().any(|h| h == x)) {
                        continue;
                    }
                }
                _ => targets_some = Some("the instance's tags are not known".into()),
            },
            Err(u) => targets_some = Some(u.why),
        }
        if body.attr("target_service_accounts").is_some() {
            targets_some = Some("the rule targets service accounts".into());
        }
        names.push(fw.address());
        files.push(fw.source.id);
        let priority = match m.value(fw, "priority") {
            None => 1000,
            Some(v) => v.as_int().unwrap_or(1000),
        };
        let (mut v4, mut v6) = match string_list(m, body, "source_ranges") {
            Ok(list) if list.is_empty() => {
                let tagged = ["source_tags", "source_service_accounts"]
                    .iter()
                    .any(|k| body.attr(k).is_some());
                if tagged {
                    let s = Sources::Some("instances with the source tags".into());
                    (s.clone(), s)
                } else {
                    // No source given: GCP takes 0.0.0.0/0.
                    (Sources::All, Sources::None)
                }
            }
            Ok(list) => cidr_sources(&list),
            Err(u) => (Sources::Unknown(u.clone()), Sources::Unknown(u)),
        };
        if let Some(why) = &targets_some {
            let u = Unknown {
                why: why.clone(),
                span: fw.block.head,
            };
            if v4 != Sources::None {
                v4 = Sources::Unknown(u.clone());
            }
            if v6 != Sources::None {
                v6 = Sources::Unknown(u);
            }
        }
        for (kind, action) in [("allow", Action::Allow), ("deny", Action::Deny)] {
            for b in body.blocks(kind) {
                let tcp = match m.text(&b.body, "protocol") {
                    Some(Ok(p)) => Ok(matches!(
                        p.to_ascii_lowercase().as_str(),
                        "tcp" | "6" | "all"
                    )),
                    Some(Err(u)) => Err(u),
                    None => Ok(false),
                };
                let ports = match string_list(m, &b.body, "ports") {
                    Ok(list) if list.is_empty() => Ok(PortSet::all()),
                    Ok(list) => {
                        let mut set = PortSet::empty();
                        let mut bad = None;
                        for p in &list {
                            match port_range(p) {
                                Some(s) => set = set.union(&s),
                                None => bad = Some(p.clone()),
                            }
                        }
                        match bad {
                            Some(p) => Err(Unknown {
                                why: format!("the port \"{p}\" is not one GCP accepts"),
                                span: b.head,
                            }),
                            None => Ok(set),
                        }
                    }
                    Err(u) => Err(u),
                };
                rules.push(CloudRule {
                    action,
                    priority,
                    ports,
                    tcp,
                    v4: v4.clone(),
                    v6: v6.clone(),
                    span: b.body.attr("ports").map_or(b.head, |a| a.span),
                    label: format!("{} {kind} rule", fw.address()),
                    text: b
                        .body
                        .attr("ports")
                        .and_then(|a| gcp_ports_text(fw.source, a)),
                });
            }
        }
    }
    Filter {
        provider: Provider::Gcp,
        names,
        span: anchor.block.head,
        file: anchor.source.id,
        rules,
        unknown: None,
        files,
    }
}
