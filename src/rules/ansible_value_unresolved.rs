//! `ansible-value-unresolved`: see rules/ansible-value-unresolved.toml.

use super::Rule;
use crate::diag::Diagnostic;
use crate::formats::bundle::{Bundle, BundleDoc};

pub struct AnsibleValueUnresolved;

impl Rule for AnsibleValueUnresolved {
    fn name(&self) -> &'static str {
        "ansible-value-unresolved"
    }

    fn check_bundle(&self, bundle: &Bundle, out: &mut Vec<Diagnostic>) {
        let BundleDoc::Ansible(project) = &bundle.doc else {
            return;
        };
        let all = project.commands.unresolved.iter().chain(&project.unresolved);
        for u in all {
            out.push(
                Diagnostic::new(self.name(), u.what.clone(), u.span, "not known here")
                    .with_help("give the value a literal default (role `defaults/main.yml`, `group_vars/all`, or `| default(…)`), or pair the host with `[[hosts]]` in pasvlint.toml and check the rendered files instead"),
            );
        }
    }
}
