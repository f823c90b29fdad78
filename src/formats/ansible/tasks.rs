//! Plays and tasks as ansible-core 2.19 reads them from YAML: a task's action
//! found as `ModuleArgsParser` finds it (the one key that is not a task
//! keyword, `action:`, `local_action:`), its arguments as a mapping or in the
//! `module: k=v` free form, and what `ansible-playbook --syntax-check` refuses.

use crate::formats::yaml::Node;
use crate::source::Span;

/// The modules pasvlint follows, by their canonical name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Module {
    Iptables,
    Ufw,
    Firewalld,
    SecurityGroupRule,
    LineInFile,
    BlockInFile,
    IniFile,
    Template,
    Copy,
    IncludeTasks,
    ImportTasks,
    IncludeRole,
    ImportRole,
    SetFact,
    IncludeVars,
    Command,
    Shell,
}

impl Module {
    /// The module an action name runs: short names, `ansible.builtin.` and
    /// `ansible.legacy.` forms, and the collections' FQCNs (with the
    /// redirects ansible-core ships for the old short names).
    pub fn of(name: &str) -> Option<Module> {
        let short = name
            .strip_prefix("ansible.builtin.")
            .or_else(|| name.strip_prefix("ansible.legacy."))
            .unwrap_or(name);
        Some(match short {
            "iptables" => Module::Iptables,
            "ufw" | "community.general.ufw" | "community.general.system.ufw" => Module::Ufw,
            "firewalld" | "ansible.posix.firewalld" => Module::Firewalld,
            "openstack.cloud.security_group_rule" | "os_security_group_rule" => {
                Module::SecurityGroupRule
            }
            "lineinfile" => Module::LineInFile,
            "blockinfile" => Module::BlockInFile,
            "ini_file" | "community.general.ini_file" | "community.general.files.ini_file" => {
                Module::IniFile
            }
            "template" => Module::Template,
            "copy" => Module::Copy,
            "include_tasks" | "include" => Module::IncludeTasks,
            "import_tasks" => Module::ImportTasks,
            "include_role" => Module::IncludeRole,
            "import_role" => Module::ImportRole,
            "set_fact" => Module::SetFact,
            "include_vars" => Module::IncludeVars,
            "command" => Module::Command,
            "shell" => Module::Shell,
            _ => return None,
        })
    }

    /// The module's short name, for messages.
    pub fn name(self) -> &'static str {
        match self {
            Module::Iptables => "iptables",
            Module::Ufw => "ufw",
            Module::Firewalld => "firewalld",
            Module::SecurityGroupRule => "security_group_rule",
            Module::LineInFile => "lineinfile",
            Module::BlockInFile => "blockinfile",
            Module::IniFile => "ini_file",
            Module::Template => "template",
            Module::Copy => "copy",
            Module::IncludeTasks => "include_tasks",
            Module::ImportTasks => "import_tasks",
            Module::IncludeRole => "include_role",
            Module::ImportRole => "import_role",
            Module::SetFact => "set_fact",
            Module::IncludeVars => "include_vars",
            Module::Command => "command",
            Module::Shell => "shell",
        }
    }

    /// Modules whose free form is a command line, not `k=v` pairs.
    fn takes_raw_params(self) -> bool {
        matches!(
            self,
            Module::Command
                | Module::Shell
                | Module::IncludeTasks
                | Module::ImportTasks
                | Module::IncludeVars
        )
    }
}

/// Task keywords (`Task.fattributes` of ansible-core 2.19); any other key is
/// the action. `with_*` loops are keywords too.
const TASK_KEYWORDS: &[&str] = &[
    "action",
    "any_errors_fatal",
    "args",
    "async",
    "become",
    "become_exe",
    "become_flags",
    "become_method",
    "become_user",
    "changed_when",
    "check_mode",
    "collections",
    "connection",
    "debugger",
    "delay",
    "delegate_facts",
    "delegate_to",
    "diff",
    "environment",
    "failed_when",
    "ignore_errors",
    "ignore_unreachable",
    "local_action",
    "loop",
    "loop_control",
    "module_defaults",
    "name",
    "no_log",
    "notify",
    "poll",
    "port",
    "register",
    "remote_user",
    "retries",
    "run_once",
    "tags",
    "throttle",
    "timeout",
    "until",
    "vars",
    "when",
    "listen",
];

/// Block keywords besides the task keywords a block shares.
const BLOCK_KEYS: &[&str] = &["block", "rescue", "always"];

/// `Play.fattributes` of ansible-core 2.19.
const PLAY_KEYWORDS: &[&str] = &[
    "any_errors_fatal",
    "become",
    "become_exe",
    "become_flags",
    "become_method",
    "become_user",
    "check_mode",
    "collections",
    "connection",
    "debugger",
    "diff",
    "environment",
    "fact_path",
    "force_handlers",
    "gather_facts",
    "gather_subset",
    "gather_timeout",
    "handlers",
    "hosts",
    "ignore_errors",
    "ignore_unreachable",
    "max_fail_percentage",
    "module_defaults",
    "name",
    "no_log",
    "order",
    "port",
    "post_tasks",
    "pre_tasks",
    "remote_user",
    "roles",
    "run_once",
    "serial",
    "strategy",
    "tags",
    "tasks",
    "throttle",
    "timeout",
    "vars",
    "vars_files",
    "vars_prompt",
];

/// One argument: its name, and its value (a YAML node; a free-form value is a
/// scalar spanned inside the free-form string when it is written verbatim).
#[derive(Clone, Debug)]
pub struct Arg {
    pub key: String,
    pub key_span: Span,
    pub value: Node,
}

#[derive(Clone, Debug)]
pub struct Action {
    /// The action name as written.
    pub name: String,
    pub name_span: Span,
    pub module: Option<Module>,
    pub args: Vec<Arg>,
    /// A free-form string that is not `k=v` pairs (a command line, a file name).
    pub raw: Option<Node>,
    /// The task runs on the controller (`local_action`, `delegate_to: localhost`).
    pub delegated: bool,
}

impl Action {
    pub fn arg(&self, key: &str) -> Option<&Node> {
        self.args
            .iter()
            .rev()
            .find(|a| a.key == key)
            .map(|a| &a.value)
    }

    /// The first of `keys` (a parameter and its aliases) that is given.
    pub fn arg_any(&self, keys: &[&str]) -> Option<&Node> {
        self.args
            .iter()
            .rev()
            .find(|a| keys.contains(&a.key.as_str()))
            .map(|a| &a.value)
    }
}

#[derive(Clone, Debug)]
pub struct Task {
    /// The task's mapping.
    pub span: Span,
    pub action: Option<Action>,
    /// `when:`: the task may not run.
    pub when: Option<Span>,
    /// `loop:`/`with_items:`/`with_list:`, the loop variable, and whether the
    /// list is flattened one level (`with_items`).
    pub looped: Option<(Node, String, bool)>,
    /// `register:`: the result is a variable no one can know beforehand.
    pub register: Option<String>,
    /// `ignore_errors:` set to anything but a literal false: a failure does not stop the play.
    pub ignore_errors: bool,
    pub vars: Option<Node>,
    pub block: Option<Block>,
}

#[derive(Clone, Debug, Default)]
pub struct Block {
    pub tasks: Vec<Task>,
    pub rescue: Vec<Task>,
    pub always: Vec<Task>,
}

#[derive(Clone, Debug)]
pub struct RoleRef {
    pub name: String,
    pub span: Span,
    /// `vars:` of the entry and its other keys (role parameters).
    pub params: Vec<(String, Node)>,
    pub when: Option<Span>,
}

#[derive(Clone, Debug, Default)]
pub struct Play {
    pub span: Option<Span>,
    pub hosts: Option<Node>,
    pub vars: Option<Node>,
    pub vars_files: Vec<Node>,
    pub roles: Vec<RoleRef>,
    pub pre_tasks: Vec<Task>,
    pub tasks: Vec<Task>,
    pub post_tasks: Vec<Task>,
    pub handlers: Vec<Task>,
    /// `import_playbook: other.yml`.
    pub import: Option<Node>,
}

/// What ansible-playbook refuses, with where.
pub type Problems = Vec<(Span, String)>;

/// A playbook: a list of plays.
pub fn read_playbook(root: &Node, problems: &mut Problems) -> Vec<Play> {
    let Node::Seq { items, .. } = root else {
        problems.push((
            root.span(),
            format!(
                "A playbook must be a list of plays, got a {} instead",
                python_type(root)
            ),
        ));
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|i| read_play(i, problems))
        .collect()
}

fn python_type(node: &Node) -> &'static str {
    match node {
        Node::Map { .. } => "<class 'dict'>",
        Node::Seq { .. } => "<class 'list'>",
        Node::Scalar { .. } => "<class 'str'>",
    }
}

fn read_play(node: &Node, problems: &mut Problems) -> Option<Play> {
    let Node::Map { entries, span } = node else {
        problems.push((
            node.span(),
            format!("plays must be mappings, got a {}", python_type(node)),
        ));
        return None;
    };
    let mut play = Play {
        span: Some(*span),
        ..Play::default()
    };
    for (k, v) in entries {
        let Some(key) = k.as_str() else { continue };
        match key {
            "import_playbook" | "ansible.builtin.import_playbook" => play.import = Some(v.clone()),
            "hosts" => play.hosts = Some(v.clone()),
            "vars" => play.vars = Some(v.clone()),
            "vars_files" => {
                play.vars_files = match v {
                    Node::Seq { items, .. } => items.clone(),
                    other => vec![other.clone()],
                }
            }
            "roles" => play.roles = read_roles(v, problems),
            "pre_tasks" => play.pre_tasks = read_tasks(v, problems),
            "tasks" => play.tasks = read_tasks(v, problems),
            "post_tasks" => play.post_tasks = read_tasks(v, problems),
            "handlers" => play.handlers = read_tasks(v, problems),
            k if PLAY_KEYWORDS.contains(&k) => {}
            // Keys of an `import_playbook` entry besides the file name.
            _ if entries.iter().any(|(k, _)| {
                matches!(
                    k.as_str(),
                    Some("import_playbook" | "ansible.builtin.import_playbook")
                )
            }) => {}
            other => problems.push((
                k.span(),
                format!("'{other}' is not a valid attribute for a Play"),
            )),
        }
    }
    if play.import.is_none() && play.hosts.as_ref().is_none_or(Node::is_null) {
        problems.push((
            *span,
            "the field 'hosts' is required but was not set".into(),
        ));
    }
    Some(play)
}

fn read_roles(node: &Node, problems: &mut Problems) -> Vec<RoleRef> {
    let items: Vec<&Node> = match node {
        Node::Seq { items, .. } => items.iter().collect(),
        n if n.is_null() => Vec::new(),
        other => {
            problems.push((
                other.span(),
                "A malformed role declaration was encountered.".into(),
            ));
            return Vec::new();
        }
    };
    let mut out = Vec::new();
    for item in items {
        match item {
            Node::Scalar { text, span, .. } => out.push(RoleRef {
                name: text.clone(),
                span: *span,
                params: Vec::new(),
                when: None,
            }),
            Node::Map { entries, span } => {
                let name = item.get("role").or_else(|| item.get("name"));
                let Some(name) = name.and_then(|n| n.as_str().map(|s| (s, n.span()))) else {
                    problems.push((*span, "role definitions must contain a role name".into()));
                    continue;
                };
                let mut params = Vec::new();
                for (k, v) in entries {
                    match k.as_str() {
                        Some(
                            "role" | "name" | "when" | "tags" | "become" | "become_user"
                            | "delegate_to",
                        ) => {}
                        Some("vars") => {
                            for (vk, vv) in v.entries() {
                                if let Some(vk) = vk.as_str() {
                                    params.push((vk.to_owned(), vv.clone()));
                                }
                            }
                        }
                        Some(other) => params.push((other.to_owned(), v.clone())),
                        None => {}
                    }
                }
                out.push(RoleRef {
                    name: name.0.to_owned(),
                    span: name.1,
                    params,
                    when: item.get("when").map(Node::span),
                });
            }
            Node::Seq { span, .. } => problems.push((
                *span,
                "A malformed role declaration was encountered.".into(),
            )),
        }
    }
    out
}

/// A list of tasks (a task file, `tasks:` of a play, a block).
pub fn read_tasks(node: &Node, problems: &mut Problems) -> Vec<Task> {
    match node {
        Node::Seq { items, .. } => items
            .iter()
            .filter_map(|i| read_task(i, problems))
            .collect(),
        n if n.is_null() => Vec::new(),
        other => {
            problems.push((
                other.span(),
                "A malformed block was encountered while loading tasks: the value must be a list of tasks".into(),
            ));
            Vec::new()
        }
    }
}

fn read_task(node: &Node, problems: &mut Problems) -> Option<Task> {
    let Node::Map { entries, span } = node else {
        if !node.is_null() {
            problems.push((
                node.span(),
                "A malformed block was encountered while loading a block: a task must be a mapping"
                    .into(),
            ));
        }
        return None;
    };
    let mut task = Task {
        span: *span,
        action: None,
        when: node.get("when").map(Node::span),
        looped: None,
        register: node
            .get("register")
            .and_then(Node::as_str)
            .map(str::to_owned),
        ignore_errors: node.get("ignore_errors").is_some_and(|v| {
            !matches!(
                super::values::raw(v),
                super::jinja::Value::Bool(false) | super::jinja::Value::None
            )
        }),
        vars: node.get("vars").cloned(),
        block: None,
    };
    let loop_var = node
        .get("loop_control")
        .and_then(|c| c.get("loop_var"))
        .and_then(Node::as_str)
        .unwrap_or("item")
        .to_owned();
    if let Some(l) = node.get("loop").or_else(|| node.get("with_list")) {
        task.looped = Some((l.clone(), loop_var, false));
    } else if let Some(l) = node.get("with_items") {
        task.looped = Some((l.clone(), loop_var, true));
    }
    if entries
        .iter()
        .any(|(k, _)| matches!(k.as_str(), Some(k) if BLOCK_KEYS.contains(&k)))
    {
        let list = |key: &str, problems: &mut Problems| {
            node.get(key)
                .map(|n| read_tasks(n, problems))
                .unwrap_or_default()
        };
        task.block = Some(Block {
            tasks: list("block", problems),
            rescue: list("rescue", problems),
            always: list("always", problems),
        });
        for (k, _) in entries {
            if let Some(key) = k.as_str() {
                if !BLOCK_KEYS.contains(&key)
                    && !TASK_KEYWORDS.contains(&key)
                    && key != "delegate_facts"
                {
                    problems.push((
                        k.span(),
                        format!("'{key}' is not a valid attribute for a Block"),
                    ));
                }
            }
        }
        return Some(task);
    }
    let delegated_to_controller = node
        .get("delegate_to")
        .and_then(Node::as_str)
        .is_some_and(|d| matches!(d, "localhost" | "127.0.0.1" | "::1"));
    let args_keyword = node.get("args");
    let mut action: Option<Action> = None;
    for old in ["action", "local_action"] {
        let Some((k, v)) = node.entry(old) else {
            continue;
        };
        if action.is_some() {
            problems.push((
                k.span(),
                "action and local_action are mutually exclusive".into(),
            ));
            continue;
        }
        match old_style(v, old == "local_action") {
            Some(found) => action = Some(found),
            None => problems.push((v.span(), format!("the `{old}` names no module"))),
        }
    }
    for (k, v) in entries {
        let Some(key) = k.as_str() else { continue };
        if TASK_KEYWORDS.contains(&key) || key.starts_with("with_") {
            continue;
        }
        let found = new_style(key, k.span(), v);
        match &action {
            Some(first) => problems.push((
                k.span(),
                format!("conflicting action statements: {}, {key}", first.name),
            )),
            None => action = Some(found),
        }
    }
    if let Some(a) = &mut action {
        a.delegated |= delegated_to_controller;
    }
    let Some(mut action) = action else {
        let message = "no module/action detected in task.".to_owned();
        problems.push((*span, message));
        return Some(task);
    };
    if let Some(extra) = args_keyword {
        for (k, v) in extra.entries() {
            if let Some(key) = k.as_str() {
                if action.arg(key).is_none() {
                    action.args.push(Arg {
                        key: key.to_owned(),
                        key_span: k.span(),
                        value: v.clone(),
                    });
                }
            }
        }
    }
    task.action = Some(action);
    Some(task)
}

/// `module: {k: v}`, `module: k=v k2=v2`, `module: raw command`.
fn new_style(name: &str, name_span: Span, value: &Node) -> Action {
    let module = Module::of(name);
    let mut action = Action {
        name: name.to_owned(),
        name_span,
        module,
        args: Vec::new(),
        raw: None,
        delegated: false,
    };
    match value {
        Node::Map { entries, .. } => {
            for (k, v) in entries {
                if let Some(key) = k.as_str() {
                    action.args.push(Arg {
                        key: key.to_owned(),
                        key_span: k.span(),
                        value: v.clone(),
                    });
                }
            }
        }
        Node::Scalar { .. } if !value.is_null() => {
            let raw_params = module.is_some_and(Module::takes_raw_params);
            free_form(value, 0, raw_params, &mut action);
        }
        _ => {}
    }
    action
}

/// `action: module k=v` or `action: {module: name, k: v}`.
fn old_style(value: &Node, local: bool) -> Option<Action> {
    match value {
        Node::Map { entries, .. } => {
            let (name_node, name) = entries
                .iter()
                .find(|(k, _)| k.as_str() == Some("module"))
                .and_then(|(_, v)| Some((v, v.as_str()?.to_owned())))?;
            let mut action = Action {
                module: Module::of(&name),
                name,
                name_span: name_node.span(),
                args: Vec::new(),
                raw: None,
                delegated: local,
            };
            for (k, v) in entries {
                if let Some(key) = k.as_str().filter(|k| *k != "module") {
                    action.args.push(Arg {
                        key: key.to_owned(),
                        key_span: k.span(),
                        value: v.clone(),
                    });
                }
            }
            Some(action)
        }
        Node::Scalar { text, .. } => {
            let words = split_args(text);
            let (start, end, name) = words.first()?.clone();
            let module = Module::of(&name);
            let mut action = Action {
                name,
                name_span: sub_span(value, start, end),
                module,
                args: Vec::new(),
                raw: None,
                delegated: local,
            };
            let rest_at = words.get(1).map_or(text.len(), |w| w.0);
            free_form(
                value,
                rest_at,
                module.is_some_and(Module::takes_raw_params),
                &mut action,
            );
            Some(action)
        }
        Node::Seq { .. } => None,
    }
}

/// The span of `text[start..end]` of a scalar, when its text is written
/// verbatim (a plain or simply quoted scalar on one line); else the scalar's span.
fn sub_span(node: &Node, start: usize, end: usize) -> Span {
    let span = node.span();
    match node {
        Node::Scalar { text, .. }
            if span.len() == text.len()
                && !text.contains('\n')
                && start <= end
                && text.is_char_boundary(start)
                && text.is_char_boundary(end.min(text.len()))
                && end <= text.len() =>
        {
            Span::new(
                span.file,
                span.start as usize + start,
                span.start as usize + end,
            )
        }
        _ => span,
    }
}

/// `k=v` pairs (Ansible's `parse_kv`) of a free-form string from `from` on;
/// with `raw_params` what is not `k=v` is the module's raw parameter.
fn free_form(node: &Node, from: usize, raw_params: bool, action: &mut Action) {
    let Some(text) = node.as_str() else { return };
    let rest = text.get(from..).unwrap_or("");
    let mut raw: Vec<(usize, usize)> = Vec::new();
    for (start, end, word) in split_args(rest) {
        let (start, end) = (start + from, end + from);
        match word
            .split_once('=')
            .filter(|(key, _)| is_kv_key(key, raw_params))
        {
            Some((key, value)) => {
                let raw_value = text.get(start + key.len() + 1..end).unwrap_or("");
                let quoted = raw_value.len() >= 2
                    && ((raw_value.starts_with('"') && raw_value.ends_with('"'))
                        || (raw_value.starts_with('\'') && raw_value.ends_with('\'')));
                let (vs, ve) = if quoted {
                    (start + key.len() + 2, end - 1)
                } else {
                    (start + key.len() + 1, end)
                };
                action.args.push(Arg {
                    key: key.to_owned(),
                    key_span: sub_span(node, start, start + key.len()),
                    value: Node::Scalar {
                        text: value.to_owned(),
                        span: sub_span(node, vs, ve),
                        // parse_kv yields strings; the module converts them.
                        quoted: true,
                    },
                });
            }
            _ => raw.push((start, end)),
        }
    }
    if let (Some(first), Some(last)) = (raw.first(), raw.last()) {
        action.raw = Some(Node::Scalar {
            text: text[first.0..last.1].to_owned(),
            span: sub_span(node, first.0, last.1),
            quoted: true,
        });
    }
}

/// A word's `k` of `k=v` is an argument name; for modules whose free form is
/// a command line only the few options `parse_kv` takes out of it.
fn is_kv_key(key: &str, raw_params: bool) -> bool {
    let name = !key.is_empty() && key.chars().all(|c| c.is_alphanumeric() || c == '_');
    const RAW_OPTIONS: &[&str] = &[
        "chdir",
        "creates",
        "removes",
        "executable",
        "stdin",
        "warn",
        "file",
        "name",
        "apply",
    ];
    name && (!raw_params || RAW_OPTIONS.contains(&key))
}

/// Ansible's `split_args`: words split on spaces, quotes and `{{ }}` kept
/// together; each word with its byte range and its text with quotes removed.
pub fn split_args(text: &str) -> Vec<(usize, usize, String)> {
    let mut out = Vec::new();
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= b.len() {
            break;
        }
        let start = i;
        let mut word = String::new();
        let mut quote: Option<u8> = None;
        let mut jinja = 0usize;
        while i < b.len() {
            let c = b[i];
            if quote.is_none() && jinja == 0 && c.is_ascii_whitespace() {
                break;
            }
            if b[i..].starts_with(b"{{") || b[i..].starts_with(b"{%") {
                jinja += 1;
            } else if jinja > 0 && (b[i..].starts_with(b"}}") || b[i..].starts_with(b"%}")) {
                jinja -= 1;
            }
            match quote {
                Some(q) if c == q && jinja == 0 => {
                    quote = None;
                    i += 1;
                    continue;
                }
                None if (c == b'"' || c == b'\'') && jinja == 0 => {
                    quote = Some(c);
                    i += 1;
                    continue;
                }
                _ => {}
            }
            let ch_len = text[i..].chars().next().map_or(1, char::len_utf8);
            word.push_str(&text[i..i + ch_len]);
            i += ch_len;
        }
        out.push((start, i, word));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::yaml;
    use crate::source::FileId;

    fn tasks(text: &str) -> (Vec<Task>, Problems) {
        let root = yaml::parse(FileId(0), text).unwrap().unwrap();
        let mut problems = Vec::new();
        (read_tasks(&root, &mut problems), problems)
    }

    #[test]
    fn modules_in_every_form() {
        let text = "- name: a\n  ansible.builtin.iptables:\n    chain: INPUT\n- iptables: chain=INPUT destination_port=\"50000:50050\" jump=ACCEPT\n- action: community.general.ufw rule=allow port=21\n- local_action:\n    module: ansible.posix.firewalld\n    port: 21/tcp\n- name: cfg\n  template: src=vsftpd.conf.j2 dest=/etc/vsftpd.conf\n  when: x\n";
        let (t, problems) = tasks(text);
        assert!(problems.is_empty(), "{problems:?}");
        let modules: Vec<Option<Module>> = t
            .iter()
            .map(|t| t.action.as_ref().unwrap().module)
            .collect();
        assert_eq!(
            modules,
            [
                Some(Module::Iptables),
                Some(Module::Iptables),
                Some(Module::Ufw),
                Some(Module::Firewalld),
                Some(Module::Template)
            ]
        );
        let port = t[1]
            .action
            .as_ref()
            .unwrap()
            .arg("destination_port")
            .unwrap();
        assert_eq!(port.as_str(), Some("50000:50050"));
        assert_eq!(&text[port.span().range()], "50000:50050");
        assert!(t[3].action.as_ref().unwrap().delegated);
        assert_eq!(
            t[2].action.as_ref().unwrap().arg("port").unwrap().as_str(),
            Some("21")
        );
        assert!(t[4].when.is_some());
    }

    #[test]
    fn what_ansible_refuses() {
        let (_, problems) = tasks(
            "- iptables: {}\n  ufw: {}\n- name: nothing\n- block:\n    - copy: {}\n  bogus: 1\n",
        );
        let msgs: Vec<&str> = problems.iter().map(|(_, m)| m.as_str()).collect();
        assert_eq!(
            msgs,
            [
                "conflicting action statements: iptables, ufw",
                "no module/action detected in task.",
                "'bogus' is not a valid attribute for a Block"
            ]
        );
    }

    #[test]
    fn plays() {
        let text = "- hosts: ftp\n  vars: {a: 1}\n  roles:\n    - vsftpd\n    - role: fw\n      vars: {b: 2}\n      c: 3\n  tasks: []\n- import_playbook: other.yml\n- name: x\n  bogus: 1\n";
        let root = yaml::parse(FileId(0), text).unwrap().unwrap();
        let mut problems = Vec::new();
        let plays = read_playbook(&root, &mut problems);
        assert_eq!(plays.len(), 3);
        assert_eq!(plays[0].roles.len(), 2);
        assert_eq!(plays[0].roles[1].params.len(), 2);
        let msgs: Vec<&str> = problems.iter().map(|(_, m)| m.as_str()).collect();
        assert_eq!(
            msgs,
            [
                "'bogus' is not a valid attribute for a Play",
                "the field 'hosts' is required but was not set"
            ]
        );
    }

    #[test]
    fn split_args_keeps_quotes_and_jinja_together() {
        let words: Vec<String> = split_args("a=1 b='x y' c={{ p | default('q r') }} \"d=e f\"")
            .into_iter()
            .map(|w| w.2)
            .collect();
        assert_eq!(
            words,
            ["a=1", "b=x y", "c={{ p | default('q r') }}", "d=e f"]
        );
    }
}
