//! Terraform configurations (`*.tf`): the cloud filters in front of an FTP
//! machine (AWS security groups, Azure network security groups, GCP VPC
//! firewalls), the instances they guard and the provisioning scripts those run
//! at first boot. The `.tf` files of one folder are one module ([`module`]), read
//! together as Terraform reads them; its filters become layers in front of the
//! instance ([`cloud`]), and a `user_data` script is read as the shell script
//! cloud-init runs.
//!
//! Parsing uses `hcl-edit` (hcl-rs), which keeps a byte span on every block,
//! attribute, expression and template literal; a syntax error is reported where
//! `terraform fmt` reports it ([`syntax`]).

pub mod cloud;
pub mod eval;
pub mod hcl;
pub mod module;
pub mod ops;
pub mod syntax;
pub mod template;
pub mod tfvars;

use crate::source::{SourceFile, Span};
use hcl::{Attr, Block, Lower};

/// One `.tf` file, or a variable definitions file (`.tfvars`, `.tfvars.json`).
#[derive(Debug, Default)]
pub struct TfFile {
    pub blocks: Vec<Block>,
    /// The assignments of a variable definitions file ([`tfvars`]).
    pub vars: Vec<Attr>,
    /// The file does not parse: Terraform refuses the whole configuration.
    pub syntax_error: Option<SyntaxError>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyntaxError {
    /// Terraform's summary (`Unclosed configuration block`) or the parser's.
    pub message: String,
    /// Where Terraform reports it.
    pub span: Span,
}

/// `*.tf` (Terraform reads no other name as configuration; `*.tf.json` is not
/// read here) and the variable definitions files beside them.
pub fn sniff(path: &std::path::Path) -> bool {
    path.extension().is_some_and(|e| e == "tf") || tfvars::is_vars_file(path)
}

pub fn parse(source: &SourceFile) -> TfFile {
    if tfvars::is_vars_file(&source.path) {
        return tfvars::parse(source);
    }
    parse_config(source)
}

fn parse_config(source: &SourceFile) -> TfFile {
    let whole = source.span(0, source.text.len());
    match hcl_edit::parser::parse_body(&source.text) {
        Ok(body) => {
            let top = Lower { source }.body(&body, whole);
            match syntax::redefined(&top) {
                Some((message, at)) => TfFile {
                    syntax_error: Some(SyntaxError {
                        message,
                        span: line_span(source, at),
                    }),
                    ..TfFile::default()
                },
                None => TfFile {
                    blocks: top.blocks,
                    ..TfFile::default()
                },
            }
        }
        Err(e) => {
            let (message, at) = syntax::terraform_error(&source.text).unwrap_or_else(|| {
                (
                    syntax::describe(e.message(), e.line()),
                    e.location().offset().min(source.text.len()),
                )
            });
            TfFile {
                syntax_error: Some(SyntaxError {
                    message,
                    span: line_span(source, at),
                }),
                ..TfFile::default()
            }
        }
    }
}

/// The rest of the line from `at` (at least one character when there is one).
fn line_span(source: &SourceFile, at: usize) -> Span {
    let mut at = at.min(source.text.len());
    while !source.text.is_char_boundary(at) {
        at -= 1;
    }
    let end = source.text[at..]
        .find('\n')
        .map_or(source.text.len(), |i| at + i);
    let end = if source.text[at..end].ends_with('\r') {
        end - 1
    } else {
        end
    };
    source.span(at, end.max(at))
}

#[cfg(test)]
mod tests;
