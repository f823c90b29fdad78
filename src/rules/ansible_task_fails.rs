//! `ansible-task-fails`: see rules/ansible-task-fails.toml.

use super::Rule;
use crate::diag::Diagnostic;
use crate::formats::bundle::{Bundle, BundleDoc};

pub struct AnsibleTaskFails;

impl Rule for AnsibleTaskFails {
    fn name(&self) -> &'static str {
        "ansible-task-fails"
    }

    fn check_bundle(&self, bundle: &Bundle, out: &mut Vec<Diagnostic>) {
        let BundleDoc::Ansible(project) = &bundle.doc else {
            return;
        };
        let Some(f) = &project.failure else { return };
        out.push(
            Diagnostic::new(
                self.name(),
                format!(
                    "this {} task fails on the host (iptables: {}): ansible-playbook stops the play there, so neither it nor any task after it changes the host",
                    f.module, f.message
                ),
                f.span,
                "fails here",
            )
            .with_help("fix the task's arguments so the command loads (a `--reject-with tcp-reset` needs `protocol: tcp`); `--check` runs no command and does not show this"),
        );
    }
}
