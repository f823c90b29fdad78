//! Ansible playbooks, task files and roles: what their tasks do to the host,
//! lowered onto the facts the other formats produce. Firewall modules
//! (`iptables`, `ufw`, `firewalld`) run the commands the modules run, replayed
//! by the readers of those commands ([`firewall`]); `template`, `copy`,
//! `lineinfile`, `blockinfile` and `ini_file` write files, which the formats'
//! own parsers then read ([`files`]); variables come from role `defaults/` and
//! `vars/`, play `vars:` and `vars_files:`, `group_vars/` and `host_vars/`
//! ([`scope`]), and Jinja is evaluated as far as it is literal ([`jinja`]).
//!
//! Each file is parsed on its own (YAML, then plays and tasks as
//! ansible-playbook reads them, [`tasks`]); the files of one playbook or role
//! are then read together as one bundle ([`project`]), which is one host.

pub mod args;
pub mod cloud;
pub mod files;
pub mod firewall;
pub mod jinja;
pub mod project;
pub mod scope;
pub mod tasks;
pub mod template;
pub mod values;

use crate::formats::yaml::{self, Node};
use crate::source::SourceFile;
use std::path::{Component, Path};
use tasks::{Play, Problems, Task};

/// What an Ansible file holds.
#[derive(Debug)]
pub enum Kind {
    Playbook(Vec<Play>),
    Tasks(Vec<Task>),
    /// A variables file (`defaults/`, `vars/`, `group_vars/`, `host_vars/`).
    Vars(Option<Node>),
}

/// One Ansible file.
#[derive(Debug)]
pub struct File {
    pub kind: Kind,
    /// The YAML does not parse: ansible-playbook stops.
    pub syntax_error: Option<yaml::SyntaxError>,
    /// What ansible-playbook refuses in plays and tasks.
    pub problems: Problems,
    /// Encrypted with ansible-vault: its values are not known.
    pub vault: bool,
}

/// What a file is, from its path and text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sniffed {
    Playbook,
    Tasks,
    Vars,
}

/// How much of a file is looked at to tell a playbook or task list.
const SNIFF_BYTES: usize = 16 * 1024;

fn yaml_extension(path: &Path) -> Option<bool> {
    match path.extension().and_then(|e| e.to_str()) {
        None => Some(false),
        Some(e) => matches!(e.to_ascii_lowercase().as_str(), "yml" | "yaml").then_some(true),
    }
}

/// The role folder (`…/roles/NAME`) and the role's subfolder a path is in.
pub fn role_part(path: &Path) -> Option<(&Path, &str)> {
    let comps: Vec<Component> = path.components().collect();
    for i in (0..comps.len().saturating_sub(3)).rev() {
        if comps[i].as_os_str() == "roles" {
            let sub = comps[i + 2].as_os_str().to_str()?;
            let mut root = path;
            for _ in 0..comps.len() - (i + 2) {
                root = root.parent()?;
            }
            return Some((root, sub));
        }
    }
    None
}

fn in_vars_dir(path: &Path) -> bool {
    path.components()
        .rev()
        .skip(1)
        .any(|c| c.as_os_str() == "group_vars" || c.as_os_str() == "host_vars")
}

/// A YAML file under `roles/*/tasks|handlers/` (tasks), `roles/*/defaults|vars/`,
/// `group_vars/` or `host_vars/` (variables), or whose content is a playbook (a
/// list of plays with `hosts:` and `tasks:`/`roles:`) or a task list naming a
/// module pasvlint follows.
pub fn sniff(path: &Path, text: &str) -> Option<Sniffed> {
    let has_ext = yaml_extension(path)?;
    if let Some((_, sub)) = role_part(path) {
        return match sub {
            "tasks" | "handlers" if has_ext => Some(Sniffed::Tasks),
            "defaults" | "vars" if has_ext => Some(Sniffed::Vars),
            _ => None,
        };
    }
    if in_vars_dir(path) {
        return Some(Sniffed::Vars);
    }
    if !has_ext {
        return None;
    }
    let head = crate::formats::head(text);
    let head = &head[..floor_char(head, SNIFF_BYTES)];
    if looks_like_playbook(head) {
        return Some(Sniffed::Playbook);
    }
    looks_like_tasks(head).then_some(Sniffed::Tasks)
}

fn floor_char(text: &str, at: usize) -> usize {
    let mut end = text.len().min(at);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    end
}

/// The key of a line that is an entry of a top-level list item (`- key:` or
/// `  key:`), when it has one.
fn item_key(line: &str) -> Option<&str> {
    let rest = line
        .strip_prefix("- ")
        .or_else(|| line.strip_prefix("  "))?;
    if rest.starts_with(' ') {
        return None;
    }
    let (key, _) = rest.split_once(':')?;
    let key = key.trim_matches(['"', '\'']);
    (!key.is_empty()
        && key
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '.')))
    .then_some(key)
}

fn looks_like_playbook(head: &str) -> bool {
    let keys: Vec<&str> = head.lines().filter_map(item_key).collect();
    let imports = keys
        .iter()
        .any(|k| matches!(*k, "import_playbook" | "ansible.builtin.import_playbook"));
    let hosts = keys.contains(&"hosts");
    let body = keys.iter().any(|k| {
        matches!(
            *k,
            "tasks" | "roles" | "pre_tasks" | "post_tasks" | "handlers"
        )
    });
    let task_lists = keys
        .iter()
        .any(|k| matches!(*k, "tasks" | "pre_tasks" | "post_tasks"));
    // A play without `hosts:` (which ansible-playbook refuses) is still a play
    // when its task lists name modules.
    imports || (hosts && body) || (task_lists && names_a_module(head))
}

/// Some line of `head`, at any depth, is a `MODULE:` key of a module pasvlint follows.
fn names_a_module(head: &str) -> bool {
    head.lines().any(|l| {
        let t = l.trim_start();
        let t = t.strip_prefix("- ").unwrap_or(t);
        t.split_once(':')
            .is_some_and(|(k, _)| is_module_key(k.trim_matches(['"', '\''])))
    })
}

fn is_module_key(k: &str) -> bool {
    tasks::Module::of(k).is_some()
        || [
            "ansible.builtin.",
            "ansible.posix.",
            "community.general.",
            "openstack.cloud.",
        ]
        .iter()
        .any(|p| k.starts_with(p))
}

fn looks_like_tasks(head: &str) -> bool {
    if !head.lines().any(|l| l.starts_with("- ")) {
        return false;
    }
    head.lines().filter_map(item_key).any(is_module_key)
}

pub fn parse(source: &SourceFile, sniffed: Sniffed) -> File {
    let vault = source.text.trim_start().starts_with("$ANSIBLE_VAULT");
    let empty = |kind| File {
        kind,
        syntax_error: None,
        problems: Vec::new(),
        vault,
    };
    if vault {
        return empty(Kind::Vars(None));
    }
    let root = match yaml::parse_pyyaml(source.id, &source.text) {
        Ok(root) => root,
        Err(e) => {
            let kind = match sniffed {
                Sniffed::Playbook => Kind::Playbook(Vec::new()),
                Sniffed::Tasks => Kind::Tasks(Vec::new()),
                Sniffed::Vars => Kind::Vars(None),
            };
            return File {
                syntax_error: Some(e),
                ..empty(kind)
            };
        }
    };
    let mut problems = Vec::new();
    let kind = match (sniffed, root) {
        (Sniffed::Vars, root) => Kind::Vars(root),
        (_, None) => match sniffed {
            Sniffed::Playbook => Kind::Playbook(Vec::new()),
            _ => Kind::Tasks(Vec::new()),
        },
        (Sniffed::Playbook, Some(root)) => {
            Kind::Playbook(tasks::read_playbook(&root, &mut problems))
        }
        (Sniffed::Tasks, Some(root)) => Kind::Tasks(tasks::read_tasks(&root, &mut problems)),
    };
    File {
        kind,
        syntax_error: None,
        problems,
        vault,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_by_path_and_content() {
        let p = Path::new;
        assert_eq!(
            sniff(p("roles/ftp/tasks/main.yml"), ""),
            Some(Sniffed::Tasks)
        );
        assert_eq!(
            sniff(p("x/roles/ftp/handlers/main.yaml"), ""),
            Some(Sniffed::Tasks)
        );
        assert_eq!(
            sniff(p("roles/ftp/defaults/main.yml"), ""),
            Some(Sniffed::Vars)
        );
        assert_eq!(
            sniff(p("roles/ftp/templates/vsftpd.conf.j2"), "listen=YES\n"),
            None
        );
        assert_eq!(sniff(p("roles/ftp/meta/main.yml"), ""), None);
        assert_eq!(
            sniff(p("inventory/group_vars/all"), "a: 1\n"),
            Some(Sniffed::Vars)
        );
        assert_eq!(
            sniff(p("group_vars/ftp/main.yml"), "a: 1\n"),
            Some(Sniffed::Vars)
        );
        assert_eq!(
            sniff(
                p("site.yml"),
                "---\n- hosts: ftp\n  become: true\n  roles:\n    - vsftpd\n"
            ),
            Some(Sniffed::Playbook)
        );
        assert_eq!(
            sniff(p("site.yml"), "- name: all\n  hosts: all\n  tasks: []\n"),
            Some(Sniffed::Playbook)
        );
        assert_eq!(
            sniff(p("all.yml"), "- import_playbook: ftp.yml\n"),
            Some(Sniffed::Playbook)
        );
        assert_eq!(
            sniff(
                p("tasks/fw.yml"),
                "- name: open\n  ansible.builtin.iptables:\n    chain: INPUT\n"
            ),
            Some(Sniffed::Tasks)
        );
        assert_eq!(
            sniff(p("fw.yml"), "- ufw: rule=allow port=21\n"),
            Some(Sniffed::Tasks)
        );
        for (name, text) in [
            ("ci.yml", "- name: build\n  uses: actions/checkout@v4\n"),
            ("values.yaml", "hosts:\n  - a\ntasks: 1\n"),
            ("list.yml", "- a\n- b\n"),
            ("site.json", "- hosts: all\n  tasks: []\n"),
        ] {
            assert_eq!(sniff(p(name), text), None, "{name}");
        }
    }

    #[test]
    fn role_parts() {
        let (root, sub) = role_part(Path::new("a/roles/vsftpd/tasks/sub/x.yml")).unwrap();
        assert_eq!(root, Path::new("a/roles/vsftpd"));
        assert_eq!(sub, "tasks");
        assert!(role_part(Path::new("roles/x.yml")).is_none());
    }
}
