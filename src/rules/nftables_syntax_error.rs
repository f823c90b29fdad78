//! `nftables-syntax-error`: see rules/nftables-syntax-error.toml.

use super::Rule;
use crate::diag::Diagnostic;
use crate::formats::{Document, ParsedFile};

pub struct NftablesSyntaxError;

impl Rule for NftablesSyntaxError {
    fn name(&self) -> &'static str {
        "nftables-syntax-error"
    }

    fn check_file(&self, file: &ParsedFile, out: &mut Vec<Diagnostic>) {
        let Document::Nftables(nft) = &file.doc else {
            return;
        };
        for p in &nft.problems {
            let (line, col) = file.source.line_col(p.span.start);
            out.push(
                Diagnostic::new(
                    self.name(),
                    format!(
                        "nft -f rejects line {line}, column {col}: \"Error: {}\"; nft loads a file all or nothing, so none of its rules are in the kernel",
                        p.message
                    ),
                    p.span,
                    "nft stops here",
                )
                .with_help("correct the statement (`nft -c -f FILE` checks a file without loading it); items of a block need `;` or a newline between them"),
            );
        }
    }
}
