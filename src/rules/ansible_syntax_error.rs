//! `ansible-syntax-error`: see rules/ansible-syntax-error.toml.

use super::Rule;
use crate::diag::Diagnostic;
use crate::formats::{Document, ParsedFile};

pub struct AnsibleSyntaxError;

impl Rule for AnsibleSyntaxError {
    fn name(&self) -> &'static str {
        "ansible-syntax-error"
    }

    fn check_file(&self, file: &ParsedFile, out: &mut Vec<Diagnostic>) {
        let Document::Ansible(doc) = &file.doc else {
            return;
        };
        if let Some(e) = &doc.syntax_error {
            out.push(
                Diagnostic::new(
                    self.name(),
                    format!(
                        "the file is not valid YAML ({}): ansible-playbook stops before it runs any task (pasvlint reads nothing of the file)",
                        e.message
                    ),
                    e.span,
                    "YAML error here",
                )
                .with_help("fix the YAML here; `ansible-playbook --syntax-check PLAYBOOK` reports it without contacting any host"),
            );
        }
        for (span, message) in &doc.problems {
            out.push(
                Diagnostic::new(
                    self.name(),
                    format!(
                        "ansible-playbook refuses this: {message} (the play stops before its first task)"
                    ),
                    *span,
                    "refused here",
                )
                .with_help(help(message)),
            );
        }
    }
}

fn help(message: &str) -> &'static str {
    if message.starts_with("conflicting action statements") {
        "give each task one module: split this task in two, or move the second module's arguments under its own `- name:`"
    } else if message.starts_with("no module/action") {
        "name the module the task runs (`ansible.builtin.iptables:`, `ansible.builtin.template:` …) with its arguments under it"
    } else if message.contains("is not a valid attribute") {
        "remove the key or indent it under the module it belongs to; `ansible-playbook --syntax-check` lists a play's and a task's keywords"
    } else if message.contains("'hosts' is required") {
        "say which hosts the play runs on with `hosts:` (a group of the inventory, or `all`)"
    } else {
        "fix the play or task as the message says; `ansible-playbook --syntax-check PLAYBOOK` reports it without contacting any host"
    }
}
