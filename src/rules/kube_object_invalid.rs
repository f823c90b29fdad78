//! `kube-object-invalid`: see rules/kube-object-invalid.toml.

use super::Rule;
use crate::diag::Diagnostic;
use crate::formats::{Document, ParsedFile};

pub struct KubeObjectInvalid;

impl Rule for KubeObjectInvalid {
    fn name(&self) -> &'static str {
        "kube-object-invalid"
    }

    fn check_file(&self, file: &ParsedFile, out: &mut Vec<Diagnostic>) {
        let Document::Kubernetes(doc) = &file.doc else {
            return;
        };
        for e in &doc.invalid {
            out.push(
                Diagnostic::new(
                    self.name(),
                    format!(
                        "the API server refuses this object ({}): it is never created (pasvlint reads the manifest without it)",
                        e.message
                    ),
                    e.span,
                    "refused here",
                )
                .with_help("write the value as the API expects it: a quoted string for an `env` value (`value: \"100\"`), a selector operator of In, NotIn, Exists or DoesNotExist with `values` only for In and NotIn"),
            );
        }
    }
}
