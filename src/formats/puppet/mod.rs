//! Puppet manifests (`.pp`): what the catalog they compile does to the host,
//! lowered onto the facts the other formats produce. The puppetlabs-firewall
//! module's `firewall` and `firewallchain` resources become the iptables
//! commands its `iptables`/`ip6tables` providers run, replayed by the iptables
//! reader onto the filter model ([`firewall`]); `file` and `file_line` resources
//! write server configs, which the formats' own parsers then read ([`files`]).
//!
//! Each file is lexed ([`lex`]) and parsed ([`parse`]) on its own, so its syntax
//! verdict is its own; the manifests of one control repository or module are
//! then read together as one bundle ([`project`]), which is one host, with the
//! Hiera data it holds ([`hiera`]). Values are evaluated as far as they are
//! literal ([`scope`]).

pub mod files;
pub mod firewall;
pub mod hiera;
pub mod lex;
pub mod parse;
pub mod project;
pub mod scope;

use crate::source::SourceFile;
use std::path::Path;

/// One manifest.
#[derive(Debug, Default)]
pub struct File {
    pub stmts: Vec<parse::Stmt>,
    /// Where `puppet parser validate` stops, and why.
    pub syntax_error: Option<parse::SyntaxError>,
}

/// A `.pp` file is a Puppet manifest.
pub fn sniff(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("pp"))
}

pub fn parse(source: &SourceFile) -> File {
    let end = source.span(source.text.len(), source.text.len());
    let tokens = match lex::lex(source.id, &source.text) {
        Ok(t) => t,
        Err(e) => {
            return File {
                stmts: Vec::new(),
                syntax_error: Some(parse::SyntaxError {
                    span: e.span,
                    message: e.message,
                }),
            };
        }
    };
    match parse::parse(&tokens, end) {
        Ok(stmts) => File {
            stmts,
            syntax_error: None,
        },
        Err(e) => File {
            stmts: Vec::new(),
            syntax_error: Some(e),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FileId;

    proptest::proptest! {
        #[test]
        fn any_text_parses_without_panic(text in "(firewall|file|file_line|class|define|node|if|case|\\{|\\}|\\[|\\]|\\(|\\)|'|\"|\\$|@\\(END\\)|\\n|END|=>|,|;|:|\\\\|#|/|\\*|\\$\\{|x|1|-|\\||é| )*") {
            let source = SourceFile::new(FileId(0), "m.pp", text.as_bytes());
            let _ = parse(&source);
        }
    }
}
