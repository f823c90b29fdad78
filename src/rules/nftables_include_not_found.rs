//! `nftables-include-not-found`: see rules/nftables-include-not-found.toml.

use super::Rule;
use crate::diag::Diagnostic;
use crate::formats::{Document, ParsedFile};
use std::path::{Path, PathBuf};

pub struct NftablesIncludeNotFound;

impl Rule for NftablesIncludeNotFound {
    fn name(&self) -> &'static str {
        "nftables-include-not-found"
    }

    fn check_file(&self, file: &ParsedFile, out: &mut Vec<Diagnostic>) {
        let Document::Nftables(nft) = &file.doc else {
            return;
        };
        if file.source.is_virtual() {
            return;
        }
        for inc in &nft.includes {
            // A glob that matches nothing is fine for nft.
            if inc.path.contains(['*', '?', '[']) || found(&file.source.path, &inc.path) {
                continue;
            }
            let looked = if inc.path.starts_with('/') {
                format!("{} under the host's root", inc.path)
            } else {
                format!("/etc/{} (the include path, not the including file's folder)", inc.path)
            };
            out.push(
                Diagnostic::new(
                    self.name(),
                    format!(
                        "nft -f stops with \"Error: File not found: {}\": it looked for {looked}, and a file that fails to load leaves the whole ruleset unloaded",
                        inc.path
                    ),
                    inc.span,
                    "no such file",
                )
                .with_help(format!(
                    "write the path nft searches (absolute, or relative to /etc), or make it a glob (`include \"{}*\"`) if the file is optional",
                    inc.path
                )),
            );
        }
    }
}

/// Whether the file an include names exists in the repository: an absolute
/// path under some folder above the includer taken as the host's `/`; a
/// relative one in that host's `/etc` (nft's default include path).
fn found(includer: &Path, target: &str) -> bool {
    let relative: PathBuf = match target.strip_prefix('/') {
        Some(abs) => PathBuf::from(abs),
        None => Path::new("etc").join(target),
    };
    includer
        .ancestors()
        .skip(1)
        .any(|root| root.join(&relative).is_file())
}
