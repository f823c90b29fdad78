//! `terraform-syntax-error`: see rules/terraform-syntax-error.toml.

use super::Rule;
use crate::diag::Diagnostic;
use crate::formats::{Document, ParsedFile};

pub struct TerraformSyntaxError;

impl Rule for TerraformSyntaxError {
    fn name(&self) -> &'static str {
        "terraform-syntax-error"
    }

    fn check_file(&self, file: &ParsedFile, out: &mut Vec<Diagnostic>) {
        let Document::Terraform(doc) = &file.doc else {
            return;
        };
        if let Some(e) = &doc.syntax_error {
            out.push(
                Diagnostic::new(
                    self.name(),
                    format!(
                        "the file is not valid HCL ({}): Terraform refuses the whole module, so nothing of it is applied (pasvlint reads none of the module's filters and instances)",
                        e.message
                    ),
                    e.span,
                    "HCL error here",
                )
                .with_help("fix the HCL here; `terraform fmt -check` reports it (with this line) without providers or a backend"),
            );
        }
    }
}
