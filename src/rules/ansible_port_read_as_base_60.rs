//! `ansible-port-read-as-base-60`: see rules/ansible-port-read-as-base-60.toml.

use super::Rule;
use crate::diag::Diagnostic;
use crate::formats::bundle::{Bundle, BundleDoc};

pub struct AnsiblePortReadAsBase60;

impl Rule for AnsiblePortReadAsBase60 {
    fn name(&self) -> &'static str {
        "ansible-port-read-as-base-60"
    }

    fn check_bundle(&self, bundle: &Bundle, out: &mut Vec<Diagnostic>) {
        let BundleDoc::Ansible(project) = &bundle.doc else {
            return;
        };
        for b in &project.commands.base60 {
            out.push(
                Diagnostic::new(
                    self.name(),
                    format!(
                        "`{}: {}` is the number {} to Ansible: YAML 1.1 reads an unquoted `a:b` whose last parts are below 60 as base 60, so the module gets port {} instead of the range {}",
                        b.key, b.written, b.value, b.value, b.written
                    ),
                    b.span,
                    format!("read as {}", b.value),
                )
                .with_help(format!("quote the range: `{}: \"{}\"`", b.key, b.written))
                .with_fix(
                    format!("quote {}", b.written),
                    vec![(b.span, format!("\"{}\"", b.written))],
                ),
            );
        }
    }
}
