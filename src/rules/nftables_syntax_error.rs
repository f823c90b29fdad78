//! `nftables-syntax-error`: see rules/nftables-syntax-error.toml.

use super::Rule;
use crate::formats::bundle::Bundle;
use crate::diag::Diagnostic;
use crate::formats::{Document, ParsedFile};

pub struct NftablesSyntaxError;

impl Rule for NftablesSyntaxError {
    fn name(&self) -> &'static str {
        "nftables-syntax-error"
    }

    // A file is read with its bundle: its definitions come from the files it
    // includes and the file that includes it.
    fn check_bundle(&self, bundle: &Bundle, out: &mut Vec<Diagnostic>) {
        for file in &bundle.parts {
            if let Document::Nftables(nft) = &file.doc {
                self.report(file, nft, out);
            }
        }
    }

    fn check_file(&self, file: &ParsedFile, out: &mut Vec<Diagnostic>) {
        if let Document::Iptables(rs) = &file.doc {
            for p in rs.nft.iter().flat_map(|nft| &nft.problems) {
                out.push(script_problem(self.name(), file, p));
            }
        }
    }
}

impl NftablesSyntaxError {
    fn report(
        &self,
        file: &ParsedFile,
        nft: &crate::formats::nftables::File,
        out: &mut Vec<Diagnostic>,
    ) {
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
                .with_help(help(nft, p)),
            );
        }
    }
}

/// What to do: declare a helper a `ct helper set` names, or correct the statement.
fn help(
    nft: &crate::formats::nftables::File,
    p: &crate::formats::nftables::model::Problem,
) -> String {
    use crate::formats::nftables::model::TableFamily;
    let Some(u) = nft.unresolved_helpers.iter().find(|u| u.span == p.span) else {
        return "correct the statement (`nft -c -f FILE` checks a file without loading it); items of a block need `;` or a newline between them".into();
    };
    let family = match u.family {
        TableFamily::Ip => "ip",
        TableFamily::Ip6 => "ip6",
        TableFamily::Inet => "inet",
        TableFamily::Other => "",
    };
    format!(
        "declare the helper in table {family} {}, in the same table block or before it: `ct helper {} {{ type \"ftp\" protocol tcp; }}`",
        u.table, u.name
    )
}

/// An `nft` command of a shell script that nft rejects: one run is one transaction.
fn script_problem(
    name: &'static str,
    file: &ParsedFile,
    p: &crate::formats::nftables::model::Problem,
) -> Diagnostic {
    let (line, col) = file.source.line_col(p.span.start);
    Diagnostic::new(
        name,
        format!(
            "nft rejects the command at line {line}, column {col}: \"Error: {}\"; one nft run is one transaction, so none of this command is applied",
            p.message
        ),
        p.span,
        "nft stops here",
    )
    .with_help("correct the command (`nft -c ...` checks it without applying it); statements need `;` or a newline between them")
}
