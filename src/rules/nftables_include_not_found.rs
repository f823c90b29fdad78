//! `nftables-include-not-found`: see rules/nftables-include-not-found.toml.

use super::Rule;
use crate::diag::Diagnostic;
use crate::formats::{Document, ParsedFile};
use crate::formats::nftables::bundle::{include_target, search_from};
use std::path::Path;

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
            let target = include_target(&inc.path);
            let looked = if inc.path.starts_with('/') {
                format!("{target} under the host's root")
            } else if inc.path.starts_with('.') {
                format!(
                    "{target}: a path starting with ./ or ../ is opened from nft's working directory, which is / when nftables.service loads the ruleset at boot, not the including file's folder"
                )
            } else {
                format!("{target} (the include path, not the including file's folder)")
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
                .with_help(help(&inc.path)),
            );
        }
    }
}

fn help(path: &str) -> String {
    match path.strip_prefix("./") {
        Some(rest) if !rest.starts_with("../") => format!(
            "write the path absolute, e.g. `include \"{}\"` if that is the file meant (a relative path without ./ is searched in /etc)",
            include_target(rest)
        ),
        _ => format!(
            "write the path nft searches (absolute, or relative to /etc), or make it a glob (`include \"{path}*\"`) if the file is optional"
        ),
    }
}

/// Whether the file an include names exists in the repository: an absolute
/// path under some folder above the includer taken as the host's `/`; a
/// relative one where [`include_target`] puts it on that host.
fn found(includer: &Path, path: &str) -> bool {
    let target = include_target(path);
    let relative = Path::new(target.trim_start_matches('/'));
    search_from(includer, path)
        .ancestors()
        .skip(1)
        .any(|root| root.join(relative).is_file())
}
