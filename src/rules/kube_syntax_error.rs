//! `kube-syntax-error`: see rules/kube-syntax-error.toml.

use super::Rule;
use crate::diag::Diagnostic;
use crate::formats::{Document, ParsedFile};

pub struct KubeSyntaxError;

impl Rule for KubeSyntaxError {
    fn name(&self) -> &'static str {
        "kube-syntax-error"
    }

    fn check_file(&self, file: &ParsedFile, out: &mut Vec<Diagnostic>) {
        let Document::Kubernetes(doc) = &file.doc else {
            return;
        };
        if let Some(e) = &doc.syntax_error {
            out.push(
                Diagnostic::new(
                    self.name(),
                    format!(
                        "the manifest is not valid YAML ({}): `kubectl apply -f` stops at this document, so none of the objects from here on is created (pasvlint reads none of the file's objects)",
                        e.message
                    ),
                    e.span,
                    "YAML error here",
                )
                .with_help("fix the YAML here; `kubectl create --dry-run=client -f FILE` reports it (as `error parsing FILE`) before it contacts any cluster"),
            );
        }
    }
}
