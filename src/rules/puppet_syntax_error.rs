//! `puppet-syntax-error`: see rules/puppet-syntax-error.toml.

use super::Rule;
use crate::diag::Diagnostic;
use crate::formats::{Document, ParsedFile};

pub struct PuppetSyntaxError;

impl Rule for PuppetSyntaxError {
    fn name(&self) -> &'static str {
        "puppet-syntax-error"
    }

    fn check_file(&self, file: &ParsedFile, out: &mut Vec<Diagnostic>) {
        let Document::Puppet(doc) = &file.doc else {
            return;
        };
        let Some(e) = &doc.syntax_error else {
            return;
        };
        out.push(
            Diagnostic::new(
                self.name(),
                format!(
                    "the manifest does not parse ({}): the catalog does not compile, so Puppet changes nothing on the host (pasvlint reads none of this bundle's resources)",
                    e.message
                ),
                e.span,
                "the parser stops here",
            )
            .with_help("fix the manifest here; `puppet parser validate FILE.pp` reports it without compiling a catalog"),
        );
    }
}
