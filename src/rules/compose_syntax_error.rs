//! `compose-syntax-error`: see rules/compose-syntax-error.toml.

use super::Rule;
use crate::diag::Diagnostic;
use crate::formats::{Document, ParsedFile};

pub struct ComposeSyntaxError;

impl Rule for ComposeSyntaxError {
    fn name(&self) -> &'static str {
        "compose-syntax-error"
    }

    fn check_file(&self, file: &ParsedFile, out: &mut Vec<Diagnostic>) {
        let Document::Compose(doc) = &file.doc else {
            return;
        };
        if let Some(e) = &doc.syntax_error {
            out.push(
                Diagnostic::new(
                    self.name(),
                    format!(
                        "the file is not valid YAML ({}): `docker compose` stops without starting any service",
                        e.message
                    ),
                    e.span,
                    "YAML error here",
                )
                .with_help("fix the YAML here; `docker compose config` shows the same error"),
            );
        }
        for (span, why) in &doc.problems {
            out.push(
                Diagnostic::new(
                    self.name(),
                    format!("`docker compose` refuses this port mapping: {why}"),
                    *span,
                    "not a port mapping Docker reads",
                )
                .with_help(
                    "write it as [HOST_IP:]HOST[-HOST]:CONTAINER[-CONTAINER][/tcp], with ranges of the same size, e.g. \"21100-21110:21100-21110\"",
                ),
            );
        }
    }
}
